#!/usr/bin/env bash
# server-replay.sh - `make bench`: vfuctl server --replay against the live
# vfuctl server it was recorded from, on the same session.
#
# A session of N 4-byte REGION_READs (bench/rtt) is recorded once through
# vfuctl record in front of `vfuctl server` (gpio.json); then the same
# client loop runs against the live server and against `vfuctl server
# --replay` of that trace (started afresh for each run: it plays a session
# once), interleaved BENCH_RUNS times; median and spread of the ratio, at
# one request in flight and at 32 (RTT_DEPTH).  Then the replay server's
# peak RSS (/usr/bin/time's maximum resident size) serving a session of
# 10 thousand and one of 1 million messages (5 thousand and 500 thousand
# REGION_READs recorded at depth 32, played back to the same client loop):
# it reads the trace as it plays, through a window of requests.
#   Targets: replay >= 0.8x the live server's rate; the peak RSS at 1M
#   messages within 1 MiB of that at 10k.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS (default 7), BENCH_RTT_N (default 50000),
#   BENCH_RSS_MSGS (default "10000 1000000": the two session sizes)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-7}
n=${BENCH_RTT_N:-50000}
read -r rss_small rss_big <<< "${BENCH_RSS_MSGS:-10000 1000000}"
. "$here/lib.sh"
with_tmp

serve_gpio "$tmp/vfu.sock"

rate() { "$dir/rtt" "$@" | sed -n 's/^rtt_per_s=\([0-9]*\).*/\1/p'; }

# record DEPTH [N [TRACE]]: the session of N (default $n) requests at
# DEPTH in flight, as TRACE (default $tmp/sDEPTH.pcap)
record() {
	"$vfuctl" record --listen "$tmp/rec.sock" --connect "$tmp/vfu.sock" \
		-w "${3:-$tmp/s$1.pcap}" 2>/dev/null & local rec=$!
	wait_socket "$tmp/rec.sock"
	RTT_DEPTH=$1 "$dir/rtt" "$tmp/rec.sock" "${2:-$n}" 2 0 >/dev/null
	kill -INT "$rec"
	wait "$rec" || true
	rm -f "$tmp/rec.sock"
}

# replay_rate DEPTH [N [TRACE]]: the client loop against a fresh replay
# server of TRACE (default $tmp/sDEPTH.pcap, N requests); its rate in $r,
# the server's status in $st, peak RSS in $tmp/rss
replay_rate() {
	rm -f "$tmp/rp.sock"
	/usr/bin/time -f '%M' -o "$tmp/rss" "$vfuctl" server --socket-path \
		"$tmp/rp.sock" --replay "${3:-$tmp/s$1.pcap}" --strict \
		2>"$tmp/rp.log" &
	local p=$!
	wait_socket "$tmp/rp.sock"
	r=$(RTT_DEPTH=$1 rate "$tmp/rp.sock" "${2:-$n}" 2 0)
	st=0
	wait "$p" || st=$?
}

compare() {
	local depth=$1 target=$2 i
	record "$depth"
	echo "server-side replay, 4-byte REGION_READ round trips, depth $depth, $runs interleaved runs of $n:"
	: > "$tmp/ratios"
	: > "$tmp/rates"
	on_live() { l=$(RTT_DEPTH=$depth rate "$tmp/vfu.sock" "$n" 2 0); }
	on_replay() { replay_rate "$depth"; }
	for ((i = 0; i < runs; i++)); do
		in_turns $i on_live on_replay
		if [ "$st" -ne 0 ] || ! grep -q ', 0 departures$' "$tmp/rp.log"; then
			echo "  the replay departed (status $st):" >&2
			cat "$tmp/rp.log" >&2
			exit 1
		fi
		echo "$l $r" >> "$tmp/rates"
		awk -v l="$l" -v r="$r" 'BEGIN { print r / l }' >> "$tmp/ratios"
	done
	read -r med lo hi < <(median_spread "$tmp/ratios")
	awk '{ l += $1; r += $2 } END { printf "  vfuctl server %.0f/s, vfuctl server --replay %.0f/s (means)\n", l / NR, r / NR }' "$tmp/rates"
	printf '  replay / live: median %.3fx (%.3f..%.3f); replay peak RSS %s KiB for %s requests\n' \
		"$med" "$lo" "$hi" "$(cat "$tmp/rss")" "$n"
	print_runs "$tmp/ratios"
	if awk -v r="$med" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
		echo "    target met:    server-side replay >= ${target}x the live server at depth $depth"
	else
		echo "    TARGET MISSED: server-side replay >= ${target}x the live server at depth $depth"
	fi
}
compare 1 0.8
compare 32 0.8

# peak_rss MESSAGES: the replay server's peak RSS (KiB) serving a session
# of MESSAGES messages (half of them requests), in $kib
peak_rss() {
	local reqs=$(($1 / 2))
	record 32 "$reqs" "$tmp/m.pcap"
	replay_rate 32 "$reqs" "$tmp/m.pcap"
	if [ "$st" -ne 0 ] || ! grep -q ', 0 departures$' "$tmp/rp.log"; then
		echo "  the replay departed (status $st):" >&2
		cat "$tmp/rp.log" >&2
		exit 1
	fi
	kib=$(cat "$tmp/rss")
	rm -f "$tmp/m.pcap"
}

echo "server-side replay, peak RSS by trace length (REGION_READs at depth 32):"
peak_rss "$rss_small"
small=$kib
peak_rss "$rss_big"
printf '  %s messages: %s KiB; %s messages: %s KiB\n' "$rss_small" "$small" \
	"$rss_big" "$kib"
if [ "$kib" -le $((small + 1024)) ]; then
	echo "    target met:    peak RSS at $rss_big messages within 1 MiB of that at $rss_small"
else
	echo "    TARGET MISSED: peak RSS at $rss_big messages within 1 MiB of that at $rss_small"
fi
