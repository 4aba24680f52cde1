#!/usr/bin/env bash
# make-findings.sh - write the kept libvfio-user findings anew: each case
# of lvu-peer.py played against a fresh gpio-pci-idio-16 sample, its
# session imported as lvu-CASE.pcap (vfuctl-trace(5)), beside the
# lvu-CASE.txt report written by hand.
#
#   traces/findings/make-findings.sh [CASE...]   (default: both cases)
#
# PEERS names the prebuilt peers (default: ../shared/peers beside the
# source tree), VFUCTL the binary (default: cli/vfuctl).
set -eu

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
VFUCTL=${VFUCTL:-$repo/cli/vfuctl}
PEERS=${PEERS:-$(cd "$repo/.." && pwd)/shared/peers}
gpio=$PEERS/libvfio-user/gpio-pci-idio-16
[ -x "$gpio" ] || { echo "make-findings.sh: no $gpio" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=
cases=${*:-unread-body split}
for c in $cases; do
	"$gpio" -v "$tmp/s" 2>"$tmp/log" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -S "$tmp/s" ] && break
		sleep 0.05
	done
	python3 "$here/lvu-peer.py" --trace "$c" "$tmp/s" >"$tmp/t.jsonl"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f "$tmp/s"
	"$VFUCTL" import --digest-every 0 -o "$here/lvu-$c.pcap" "$tmp/t.jsonl"
	echo "lvu-$c.pcap: $(grep -c '"kind":"message"' "$tmp/t.jsonl") messages"
done
