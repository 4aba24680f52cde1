# helpers.bash - loaded by every tests/*.bats file with "load helpers".
#
# Sets, for each test:
#   repo      the source tree
#   VFUCTL    the vfuctl binary under test (tests/run-tests.sh passes it;
#             default $repo/cli/vfuctl)
#   VECTORS   the real-traffic vectors (default $repo/../shared/vectors)
#   TEST_TMP  an empty directory private to this test, removed by bats
#
# and defines small helpers: vfuctl, require_vectors, assert_status,
# assert_contains, assert_not_contains, assert_golden.

# shellcheck disable=SC2154  # status, output, lines: set by bats's "run"
bats_require_minimum_version 1.5.0

repo=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
VFUCTL=${VFUCTL:-$repo/cli/vfuctl}
VECTORS=${VECTORS:-$(cd "$repo/.." && pwd)/shared/vectors}
TEST_TMP=${BATS_TEST_TMPDIR:-${BATS_TMPDIR:-/tmp}}
export VFUCTL VECTORS TEST_TMP

# vfuctl ARGS...: the binary under test, so tests can "run vfuctl decode ...".
vfuctl() {
	"$VFUCTL" "$@"
}

# require_vectors [FILE...]: skip the test when the vectors (or one of the
# named files in them) are not there.
require_vectors() {
	local f
	[ -d "$VECTORS" ] || skip "no vectors in $VECTORS"
	for f in "$@"; do
		[ -f "$VECTORS/$f" ] || skip "no vector $VECTORS/$f"
	done
}

# The real peers, prebuilt in ../shared/peers (see its README).
PEERS=${PEERS:-$(cd "$repo/.." && pwd)/shared/peers}
LVU=$PEERS/libvfio-user			# samples at efd091b
LVU_MIG=$PEERS/libvfio-user-7e7a0a6	# the last whose sample server starts

# require_peers FILE...: skip unless every FILE (a path below PEERS) is
# executable -- except in CI (CI set), which has the peers: there their
# absence is a failure, not a reason to test less.
require_peers() {
	local f
	for f in "$@"; do
		[ -x "$PEERS/$f" ] && continue
		[ -z "${CI:-}" ] || { echo "no real peers in $PEERS ($f)" >&2; return 1; }
		skip "no real peers in $PEERS (set PEERS to their folder)"
	done
}

# start_server DEVICE [SOCKET]: vfuctl server (VFUCTL_SERVER: another
# build of it, say while testing a sanitizer build of the client) in the
# background on SOCKET ($TEST_TMP/s), sock set to it and srv_pid to its
# pid, its output in $TEST_TMP/server.log.  DEVICE is a file, or NAME for
# tests/devices/NAME.json.
start_server() {
	local dev=$1
	[[ $dev == */* ]] || dev=$repo/tests/devices/$dev.json
	sock=${2:-$TEST_TMP/s}
	# fd 3 closed: bats waits for it otherwise
	"${VFUCTL_SERVER:-$VFUCTL}" server --socket-path "$sock" \
		--device "$dev" 3>&- >>"$TEST_TMP/server.log" 2>&1 &
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" "$TEST_TMP/server.log"
}

# stop_server: SIGTERM to the server start_server started, and reap it.
stop_server() {
	kill -TERM "$srv_pid"
	wait "$srv_pid" || true
	srv_pid=
}

# qemu_boot SOCKET: QEMU's firmware (SeaBIOS) with a vfio-user-pci device
# on SOCKET, as $PEERS/qemu-attach boots it, but stopped when the firmware
# is done ("No bootable device") rather than after a fixed time: quicker,
# and as patient as a loaded machine needs (up to 120 s).  Fails unless
# SeaBIOS enumerated the device at 00:01.0; shows the firmware's PCI
# lines and QEMU's errors then.
qemu_boot() {
	local fw=$TEST_TMP/firmware.log err=$TEST_TMP/qemu.err q i
	require_peers qemu/qemu-system-x86_64
	: >"$fw"
	"$PEERS/qemu/qemu-system-x86_64" -L "$PEERS/qemu" -nodefaults \
		-display none -serial none -monitor none \
		-machine q35,accel=tcg,memory-backend=mem -m 128M \
		-object memory-backend-memfd,id=mem,size=128M,share=on \
		-device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$1\",\"type\":\"unix\"}}" \
		-chardev file,id=fw,path="$fw" \
		-device isa-debugcon,iobase=0x402,chardev=fw 3>&- 2>"$err" &
	q=$!
	for ((i = 0; i < 2400; i++)); do
		grep -q "No bootable device" "$fw" && break
		kill -0 "$q" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$q" 2>/dev/null || true
	wait "$q" 2>/dev/null || true
	grep -q 'init bdf=00:01\.0' "$fw" && return 0
	grep bdf= "$fw" >&2
	cat "$err" >&2
	return 1
}

# kill_pids: kill and reap every process in $pids (a teardown).
kill_pids() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# assert_status N: the last "run" exited with N.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected exit status %s, got %s; output:\n%s\n' \
			"$1" "$status" "$output" >&2
		return 1
	fi
}

# assert_contains TEXT: the last "run"'s output contains TEXT.
assert_contains() {
	if [[ $output != *"$1"* ]]; then
		printf 'expected output to contain "%s"; output:\n%s\n' \
			"$1" "$output" >&2
		return 1
	fi
}

# assert_not_contains TEXT: the last "run"'s output does not contain TEXT.
assert_not_contains() {
	if [[ $output == *"$1"* ]]; then
		printf 'expected output not to contain "%s"; output:\n%s\n' \
			"$1" "$output" >&2
		return 1
	fi
}

# assert_golden EXPECTED-FILE ACTUAL-FILE: the two are the same; shows a
# diff otherwise (regenerate goldens with "make update-golden NAME").
assert_golden() {
	diff -u "$1" "$2" >&2
}

# complete_words WORDS...: the candidates bash completion offers for the
# command line WORDS (the last one being completed), one a line.
complete_words() {
	PATH=$(dirname "$VFUCTL"):$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_vfuctl vfuctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$repo/completions/vfuctl.bash" "$@"
}

# wait_socket PATH [PID [LOG]]: up to 10 s for PATH to become a socket,
# giving up early if PID has exited; on failure LOG is shown.
wait_socket() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$1" ] && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	[ -z "${3:-}" ] || cat "$3" >&2
	echo "no socket at $1" >&2
	return 1
}

# wait_abstract NAME: up to 10 s for someone to listen on abstract @NAME
wait_abstract() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q " @$1\$" /proc/net/unix && return 0
		sleep 0.05
	done
	echo "nobody listens on @$1" >&2
	return 1
}

# wait_for PATTERN FILE...: up to 10 s for every FILE to contain PATTERN
# (the test's own checks say whether it came).
wait_for() {
	local pat=$1 f i missing
	shift
	for ((i = 0; i < 200; i++)); do
		missing=0
		for f in "$@"; do grep -q -- "$pat" "$f" || missing=1; done
		[ $missing = 0 ] && return 0
		sleep 0.05
	done
	return 0
}

# page_lists_findings PAGE: PAGE has ".It Li ID Pq severity" for every
# finding of lib/findings.def; names the missing ones.
page_lists_findings() {
	local id sev bad=0
	while read -r id sev; do
		case $sev in NOTE) sev=note ;; WARN) sev=warning ;; ERROR) sev=error ;; esac
		grep -qxF ".It Li $id Pq $sev" "$1" ||
			{ echo "finding $id ($sev) not in the page" >&2; bad=1; }
	done < <(sed -n 's/^VX_FINDING(\([A-Z_0-9]*\), *\([A-Z]*\),.*/\1 \2/p' "$repo/lib/findings.def")
	return $bad
}

# cpu_ms CMD...: the CPU time (user + system, ms) CMD takes, the least of
# CPU_RUNS runs (default 3), its output dropped: on a loaded machine the
# CPU time moves far less than the wall-clock time.  For comparing costs
# against a baseline measured the same way, never against the clock.
cpu_ms() {
	python3 - "$@" <<'PY'
import os, resource, subprocess, sys
best = None
for _ in range(int(os.environ.get("CPU_RUNS", "3"))):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime
    best = t if best is None else min(best, t)
print(max(1, int(best * 1000)))
PY
}
