#!/usr/bin/env bash
# dma-windows.sh - `make bench`, part 2b: the session tracker's DMA windows
# (lib/session.c).  vfuctl stats on 300k ascending DMA_MAP round trips
# (past the 65535th each one over max_dma_maps), on 300k DMA_MAP/UNMAP
# round trips with 65535 windows mapped, and on 300k DEVICE_GET_INFO round
# trips (no windows: the baseline); runs interleaved, medians of CPU
# seconds, and each DMA trace's cost as a ratio to the baseline's.
# Target: <= 4x (the windows searched in O(log n); scanned, as before, the
# 300k-map trace took 22.6 s, some 100x).
#
#   VFUCTL      the vfuctl binary (default ../cli/vfuctl)
#   BENCH_RUNS  interleaved runs of each trace (default 5)
#   BENCH_MAPS  round trips per trace (default 300000)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-5}
n=${BENCH_MAPS:-300000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/lib.sh
. "$here/lib.sh"

for k in info maps churn; do
	python3 "$here/../tests/mkmaps.py" $k "$n" > "$tmp/$k.jsonl"
	"$vfuctl" import -o "$tmp/$k.pcap" "$tmp/$k.jsonl"
	rm "$tmp/$k.jsonl"
done
echo "vfuctl stats on $n round trips each (DMA windows vs none), $runs interleaved runs:"
for ((i = 0; i < runs; i++)); do
	for k in info maps churn; do
		timed $k "$vfuctl" stats "$tmp/$k.pcap" || true
	done
done
declare -A cpu
for k in info maps churn; do
	c=$(cut -d' ' -f2 "$tmp/$k" | median)
	kb=$(cut -d' ' -f3 "$tmp/$k" | median)
	printf '  %-6s cpu %6.3f s  %6.2f M msgs/s per CPU second  peak RSS %d KiB\n' \
		$k "$c" "$(awk -v n="$n" -v c="$c" 'BEGIN { print (c > 0 ? 2 * n / c / 1e6 : 0) }')" "$kb"
	cpu[$k]=$c
done
for k in maps churn; do
	r=$(awk -v a="${cpu[$k]}" -v b="${cpu[info]}" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')
	if awk -v r="$r" 'BEGIN { exit !(r <= 4) }'; then v="target met:   "; else v="TARGET MISSED:"; fi
	printf '    %s stats %s / info (CPU): %sx (<= 4x)\n' "$v" $k "$r"
done
