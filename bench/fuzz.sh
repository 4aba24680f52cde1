#!/usr/bin/env bash
# fuzz.sh - `make bench`, part 8: vfuctl fuzz.
#
#  - rate: execs/s of `vfuctl fuzz` against a non-ASan `vfuctl server`
#    (dma.json), BENCH_FUZZ_N execs per run, BENCH_RUNS runs; the messages
#    they sent replayed as plain round trips by bench/replay-loop against
#    the same server, and the ratio of the two message rates.  Target:
#    >= 2,000 execs/s on one core.
#  - finding: exec and seconds until each planted bug of tests/buggy-server
#    is found, over seeds 1-5 (median), black-box.  Target: each within
#    60 s.
#  - peers: libvfio-user's gpio sample (../shared/peers) fuzzed for
#    BENCH_FUZZ_PEER_N execs; any finding is listed with its trace.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS (default 5), BENCH_FUZZ_N (default 20000),
#   BENCH_FUZZ_BUGGY_N (default 3000), BENCH_FUZZ_PEER_N (default 5000)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-5}
n=${BENCH_FUZZ_N:-20000}
nb=${BENCH_FUZZ_BUGGY_N:-3000}
np=${BENCH_FUZZ_PEER_N:-5000}
buggy=$(dirname "$dir")/tests/buggy-server
[ -x "$buggy" ] || buggy=$here/../tests/buggy-server
peers=${PEERS:-$here/../../shared/peers}
. "$here/lib.sh"
with_tmp
export ASAN_OPTIONS=symbolize=0:detect_leaks=0

echo "== vfuctl fuzz: execs/s against vfuctl server (dma.json), $n execs"
rates=() msgs=()
for ((i = 1; i <= runs; i++)); do
	out=$("$vfuctl" fuzz -q -o json -n "$n" --seed "$i" -- "$vfuctl" server \
		--device "$here/../tests/devices/dma.json")
	rates+=("$(jq '.execs / .seconds | floor' <<<"$out")")
	msgs+=("$(jq '.messages / .seconds | floor' <<<"$out")")
done
printf '%s\n' "${rates[@]}" > "$tmp/rates"
printf '%s\n' "${msgs[@]}" > "$tmp/msgs"
echo "execs/s: median min max $(median_spread "$tmp/rates") (target >= 2000)"
echo "messages sent/s: median min max $(median_spread "$tmp/msgs")"
if [ -x "$dir/replay-loop" ]; then
	serve_gpio "$tmp/vfu.sock"
	m=$(median < "$tmp/msgs")
	t0=$(date +%s.%N)
	"$dir/replay-loop" "$tmp/vfu.sock" "$((n * 2))" "$tmp/loop.pcap" >/dev/null
	t1=$(date +%s.%N)
	loop=$(awk -v n="$((n * 2))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	echo "plain round trips (bench/replay-loop, gpio.json): $loop/s;" \
		"fuzz messages/s to that: $(awk -v a="$m" -v b="$loop" 'BEGIN { printf "%.2f", a / b }')"
fi

echo "== planted bugs (tests/buggy-server), seeds 1-5, at most $nb execs"
declare -A at
for s in 1 2 3 4 5; do
	rm -rf "$tmp/f"
	"$vfuctl" fuzz -q -n "$nb" --seed "$s" -d "$tmp/f" -- "$buggy" \
		>/dev/null 2>"$tmp/log" || true
	for kind in 'READ of size 4' 'WRITE of size' 'DEVICE_SET_IRQS'; do
		r=$(grep -l -- "$kind" "$tmp"/f/*.txt 2>/dev/null | head -n 1 || true)
		if [ -n "$r" ]; then
			at[$kind]+="$(sed -n 's/^exec: //p' "$r")/$(sed -n 's/^elapsed: \([0-9.]*\).*/\1/p' "$r")s "
		else
			at[$kind]+="never "
		fi
	done
done
for kind in 'READ of size 4' 'WRITE of size' 'DEVICE_SET_IRQS'; do
	echo "$kind: found at exec/seconds ${at[$kind]}(target: within 60 s)"
done

if [ -x "$peers/bin/gpio-pci-idio-16" ] || ls "$peers" >/dev/null 2>&1; then
	gpio=$(find "$peers" -name 'gpio-pci-idio-16' -type f -perm -u+x 2>/dev/null | head -n 1)
	if [ -n "$gpio" ]; then
		echo "== libvfio-user gpio sample, $np execs"
		"$vfuctl" fuzz -q -n "$np" -t 2000 -d "$tmp/peer" -- "$gpio" '{socket}' || true
		ls "$tmp/peer" 2>/dev/null || true
	fi
fi
