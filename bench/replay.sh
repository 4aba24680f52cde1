#!/usr/bin/env bash
# replay.sh - `make bench`, part 7: vfuctl replay (client side).
#
#  - rate: a recorded session of BENCH_REPLAY_N round trips (4-byte
#    REGION_WRITE and REGION_READ of gpio.json's scratch register, written
#    by bench/replay-loop against the server) replayed with `vfuctl replay
#    --connect` against `vfuctl server`, and the same round trips from
#    bench/replay-loop (a minimal C client loop) against the same server;
#    interleaved BENCH_RUNS times, the median and spread of the ratio.
#    Target: replay >= 0.8x the loop's round trips per second.
#  - memory: peak RSS of vfuctl replay for traces of 10,000 and 1,000,000
#    messages (BENCH_REPLAY_BIG).  Target: the same within 1 MiB (the walk
#    streams the trace; nothing grows with its length).
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS (default 5), BENCH_REPLAY_N (default
#   50000), BENCH_REPLAY_BIG (default 1000000 messages)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-5}
n=${BENCH_REPLAY_N:-50000}
big=${BENCH_REPLAY_BIG:-1000000}
. "$here/lib.sh"
with_tmp

serve_gpio "$tmp/vfu.sock"

# trace N FILE: a session of N round trips (2N + 2 messages)
trace() { "$dir/replay-loop" "$tmp/vfu.sock" "$1" "$2" >/dev/null; }

# replay_rate: round trips per second of one replay of $tmp/rate.pcap
replay_rate() {
	"$vfuctl" replay "$tmp/rate.pcap" --connect "$tmp/vfu.sock" 2>&1 >/dev/null |
		sed -n 's/^vfuctl replay: \([0-9.]*\) s, .*/\1/p' |
		awk -v n="$n" '{ printf "%.0f\n", n / $1 }'
}

trace "$n" "$tmp/rate.pcap"
echo "client-side replay, $n round trips (REGION_WRITE/REGION_READ), $runs interleaved runs:"
: > "$tmp/ratios"
: > "$tmp/rates"
on_loop() { l=$("$dir/replay-loop" "$tmp/vfu.sock" "$n" | sed -n 's/^rtt_per_s=\([0-9]*\).*/\1/p'); }
on_replay() { r=$(replay_rate); }
for ((i = 0; i < runs; i++)); do
	in_turns $i on_loop on_replay
	echo "$l $r" >> "$tmp/rates"
	awk -v l="$l" -v r="$r" 'BEGIN { print r / l }' >> "$tmp/ratios"
done
read -r med lo hi < <(median_spread "$tmp/ratios")
awk '{ l += $1; r += $2 } END { printf "  C client loop %.0f/s, vfuctl replay %.0f/s (means)\n", l / NR, r / NR }' "$tmp/rates"
printf '  vfuctl replay / C client loop: median %.3fx (%.3f..%.3f)\n' "$med" "$lo" "$hi"
print_runs "$tmp/ratios"
if awk -v r="$med" 'BEGIN { exit !(r >= 0.8) }'; then
	echo "    target met:    replay >= 0.8x a minimal C client loop"
else
	echo "    TARGET MISSED: replay >= 0.8x a minimal C client loop"
fi

# peak RSS of a replay of a trace of MESSAGES messages
rss_of() {
	trace $(($1 / 2 - 1)) "$tmp/m.pcap"
	/usr/bin/time -f '%M' -o "$tmp/rss" "$vfuctl" replay "$tmp/m.pcap" \
		--connect "$tmp/vfu.sock" >/dev/null 2>&1
	cat "$tmp/rss"
}
small=$(rss_of 10000)
large=$(rss_of "$big")
echo "memory: vfuctl replay peak RSS $small KiB at 10000 messages, $large KiB at $big messages"
if [ $((large - small)) -lt 1024 ]; then
	echo "    target met:    memory independent of trace length (grew $((large - small)) KiB)"
else
	echo "    TARGET MISSED: memory independent of trace length (grew $((large - small)) KiB)"
fi
