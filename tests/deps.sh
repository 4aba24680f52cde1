#!/usr/bin/env bash
# deps.sh - install the Debian packages vfuctl needs to build, test and demo,
# but only those that are missing.  Safe to run again and again: when all are
# present it only checks (dpkg-query) and touches nothing.
#
# Runs as root or through sudo; never asks questions (tshark's "should
# non-superusers capture" is answered no beforehand).
set -euo pipefail

# Package, and the reason, one a line.
PACKAGES=(
	build-essential		# gcc, make
	clang			# make CC=clang, asan, fuzz
	libclang-rt-14-dev	# ASan/UBSan/libFuzzer runtimes (only recommended by clang)
	lld
	llvm			# llvm-symbolizer for sanitizer reports
	pkg-config
	libjansson-dev		# JSON output
	libsodium-dev
	libpcap-dev
	libreadline-dev
	bats			# tests/*.bats
	jq			# tests: JSON checks
	valgrind		# make valgrind
	mandoc			# man page lint in tests
	tshark			# dissector tests
	lua5.2			# loads `vfuctl schema -o lua` in tests
	lua5.4			# runs the plugin's decoding as current Wireshark does
	pciutils		# lspci: config-space decoding in demos, tests/config.bats
	pci.ids			# vendor, device and class names (vfuctl config, lspci)
	libpci-dev		# libpci: those names for vfuctl config
	util-linux		# script(1), prlimit(1)
	strace			# record tests: which thread reads DMA windows
	xxd			# hex dumps in tests
	afl++			# afl-clang-fast: the coverage-instrumented planted-bug server (tests/fuzz-afl.bats, bench/fuzz.sh)
	# runtime of the prebuilt real peers in ../shared/peers (interop tests)
	libjson-c5		# libvfio-user's sample servers and client
	libglib2.0-0		# QEMU with vfio-user-pci
	libpixman-1-0
	libfdt1
	libslirp0
	libgnutls30
	libpng16-16
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system (no dpkg-query/apt-get); install these yourself:" >&2
	echo "  ${PACKAGES[*]}" >&2
	exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$status" in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "deps.sh: missing ${missing[*]}; run as root or install sudo" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	"${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}" </dev/null
