#!/usr/bin/env bash
# trace.sh - `make bench`, part 2: reading traces.
#
#  - vfuctl dissect (summary lines to /dev/null) on a 1M-message trace,
#    against a bare libpcap read loop over the same file (the floor) and
#    tshark -r without a dissector for our link type; runs interleaved,
#    medians of wall and CPU (user+sys) seconds; target >= 1,000,000
#    messages/s on one core.
#  - peak RSS of dissect and stats over a ~1 GB trace; target < 32 MiB.
#
#   BENCH_DIR   where mktrace and pcap-loop were built (default beside this)
#   VFUCTL      the vfuctl binary (default ../cli/vfuctl)
#   BENCH_RUNS  interleaved runs of each reader (default 5)
#   BENCH_GB    size of the memory test trace in GiB (default 1; 0 skips)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-5}
gb=${BENCH_GB:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/lib.sh
. "$here/lib.sh"

n=1000000
"$dir/mktrace" "$tmp/m.pcap" $n 4
echo "reading a $n-message trace ($(du -m "$tmp/m.pcap" | cut -f1) MB), $runs interleaved runs:"
have_tshark=0
command -v tshark >/dev/null && have_tshark=1
for ((i = 0; i < runs; i++)); do
	timed loop "$dir/pcap-loop" "$tmp/m.pcap" || true
	timed dissect "$vfuctl" dissect "$tmp/m.pcap" || true
	timed stats "$vfuctl" stats "$tmp/m.pcap" || true
	[ $have_tshark = 1 ] && { timed tshark tshark -r "$tmp/m.pcap" || true; }
done
for r in loop dissect stats tshark; do
	[ -f "$tmp/$r" ] || continue
	w=$(cut -d' ' -f1 "$tmp/$r" | median)
	c=$(cut -d' ' -f2 "$tmp/$r" | median)
	printf '  %-8s wall %6.2f s  cpu %6.2f s  %6.2f M msgs/s per CPU second\n' \
		"$r" "$w" "$c" "$(awk -v n=$n -v c="$c" 'BEGIN { print (c > 0 ? n / c / 1e6 : 0) }')"
	eval "cpu_$r=$c"
done
awk -v d="$cpu_dissect" -v l="$cpu_loop" 'BEGIN { printf "  dissect / bare libpcap loop (CPU): %.1fx\n", d / (l > 0 ? l : 0.01) }'
[ $have_tshark = 1 ] && awk -v d="$cpu_dissect" -v t="$cpu_tshark" 'BEGIN { printf "  dissect / tshark -r (CPU): %.2fx\n", d / t }'
if awk -v n=$n -v c="$cpu_dissect" 'BEGIN { exit !(n / c >= 1e6) }'; then
	echo "    target met:    dissect >= 1,000,000 msgs/s (per CPU second)"
else
	echo "    TARGET MISSED: dissect >= 1,000,000 msgs/s (per CPU second)"
fi

if [ "$gb" != 0 ]; then
	# 4 KiB writes and their 32-byte replies: 524288 messages make 1 GiB
	m=$(( gb * 524288 ))
	"$dir/mktrace" "$tmp/big.pcap" $m 4096
	echo "memory over a $(du -m "$tmp/big.pcap" | cut -f1) MB trace ($m messages):"
	for r in dissect stats; do
		/usr/bin/time -f '%M' -o "$tmp/rss" "$vfuctl" $r "$tmp/big.pcap" >/dev/null
		kb=$(cat "$tmp/rss")
		if [ "$kb" -lt 32768 ]; then v="target met:   "; else v="TARGET MISSED:"; fi
		printf '    %s %s peak RSS %d KiB (< 32 MiB)\n' "$v" "$r" "$kb"
	done
fi
