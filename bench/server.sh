#!/usr/bin/env bash
# server.sh - `make bench`, part 3: vfuctl server.
#
#  - 4-byte REGION_READ round trips against `vfuctl server` and against
#    bench/min-server (a minimal correct server: header recvmsg with cmsg
#    room, body read, one sendmsg a reply), timed by bench/rtt-pair in
#    turns, BENCH_RUNS runs; median and spread of the rate ratio; one
#    request in flight, then 32 (pipelined).
#    Targets: vfuctl server >= 0.95x min-server at depth 1, >= 0.8x at 32.
#  - soak: RSS and open fds of the server after warm-up, after 1 million
#    requests and after 10,000 connections; target: flat.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS (default 7), BENCH_RTT_N (default 50000),
#   BENCH_SOAK_N (default 1000000), BENCH_SOAK_CONNS (default 10000),
#   BENCH_NO_SOAK (set: the round trips only)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-7}
n=${BENCH_RTT_N:-50000}
soak_n=${BENCH_SOAK_N:-1000000}
soak_c=${BENCH_SOAK_CONNS:-10000}
. "$here/lib.sh"
with_tmp

"$dir/min-server" "$tmp/min.sock" & pids+=($!)
serve_gpio "$tmp/vfu.sock"
server=$last_pid
wait_socket "$tmp/min.sock"

rate() { "$dir/rtt" "$@" | sed -n 's/^rtt_per_s=\([0-9]*\).*/\1/p'; }

# compare DEPTH TARGET: BENCH_RUNS paired runs (bench/rtt-pair: the two
# servers round by round, in turns, so a burst of load hits both alike) at
# DEPTH requests in flight; the rate ratio is min-server's time per round
# trip over vfuctl server's
compare() {
	local depth=$1 target=$2 rounds=$(( n / $1 )) i
	echo "4-byte REGION_READ round trips, depth $depth, $runs paired runs of $n:"
	: > "$tmp/runs"
	for ((i = 0; i < runs; i++)); do
		"$dir/rtt-pair" "$tmp/min.sock" "$tmp/vfu.sock" "$rounds" "$depth" |
			sed 's/[a-z_]*=//g' >> "$tmp/runs"
	done
	# fields: a_median b_median a_mean b_mean ratio (B/A time)
	awk '{ print 1 / $5 }' "$tmp/runs" > "$tmp/ratios"
	read -r med lo hi < <(median_spread "$tmp/ratios")
	awk '{ a += $1; b += $2 } END { printf "  median ns per round trip (means of the runs): min-server %.0f, vfuctl server %.0f\n", a / NR, b / NR }' "$tmp/runs"
	printf '  vfuctl server / min-server (rate): median %.3fx (%.3f..%.3f)\n' "$med" "$lo" "$hi"
	print_runs "$tmp/ratios"
	if awk -v r="$med" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
		echo "    target met:    vfuctl server >= ${target}x a minimal server at depth $depth"
	else
		echo "    TARGET MISSED: vfuctl server >= ${target}x a minimal server at depth $depth"
	fi
}
compare 1 0.95
compare 32 0.8
[ -n "${BENCH_NO_SOAK:-}" ] && exit 0

"$dir/rtt" "$tmp/vfu.sock" 10000 2 0 >/dev/null
read -r rss0 fd0 < <(rss_fds "$server")
"$dir/rtt" "$tmp/vfu.sock" "$soak_n" 2 0 >/dev/null
read -r rss1 fd1 < <(rss_fds "$server")
"$dir/rtt" "$tmp/vfu.sock" 1 2 0 "$soak_c" >/dev/null
read -r rss2 fd2 < <(rss_fds "$server")
echo "soak: server RSS KiB / open fds after warm-up $rss0/$fd0, after $soak_n requests $rss1/$fd1, after $soak_c connections $rss2/$fd2"
if [ $((rss2 - rss0)) -lt 1024 ] && [ "$fd2" -eq "$fd0" ] && [ "$fd1" -eq "$fd0" ]; then
	echo "    target met:    memory and fds flat (RSS grew $((rss2 - rss0)) KiB)"
else
	echo "    TARGET MISSED: memory and fds flat (RSS grew $((rss2 - rss0)) KiB, fds $fd0 -> $fd2)"
fi
