#!/usr/bin/env bash
# record.sh - `make bench`, part 4: the recorder's cost.
#
# 4-byte REGION_READ round trips through `vfuctl record` against the same
# through bench/min-relay (poll, one recvmsg and one sendmsg per wakeup,
# fds forwarded, no framing, no recording), each in front of its own
# `vfuctl server`, one request in flight, then 32 (pipelined).  Each of
# BENCH_RUNS (default 7, at least 7) runs is bench/rtt-pair: the two paths
# take turns, round by round, so a busy machine slows both alike, and the
# run's ratio is that of the median time per round trip of each.  Reported:
# median and spread of the runs' ratios, record/min-relay, and the CPU time
# each relay spent per round trip.  Target <= 1.10x (issue 10) at each
# depth.  The recorder must also have recorded every message it relayed.
# With BENCH_SYSCALLS=1 (and strace), the syscalls each relay makes per
# round trip at depth 1 are counted too.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS, BENCH_RTT_N (round trips per path and
#   run, default 50000), BENCH_SYSCALLS
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-7}
n=${BENCH_RTT_N:-50000}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 7 ]; then
	echo "$(basename "$0"): BENCH_RUNS=$runs: give 7 runs or more" >&2
	exit 2
fi
. "$here/lib.sh"
with_tmp

# one server per path: a vfuctl server serves one client at a time
serve_gpio "$tmp/dev.sock"
serve_gpio "$tmp/dev2.sock"
"$dir/min-relay" "$tmp/relay.sock" "$tmp/dev.sock" & mrl=$!
pids+=($mrl)
"$vfuctl" record --listen "$tmp/rec.sock" --connect "$tmp/dev2.sock" \
	-w "$tmp/t.pcap" 2>"$tmp/rec.err" & rec=$!
pids+=($rec)
wait_socket "$tmp/relay.sock"
wait_socket "$tmp/rec.sock"

# cpu_ns PID: CPU time of all of PID's threads so far, in ns
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# compare DEPTH: BENCH_RUNS paired runs at DEPTH requests in flight
want=0
compare() {
	local depth=$1 rounds=$(( n / $1 )) i out m0 r0 d
	echo "4-byte REGION_READ round trips through a man in the middle, depth $depth, $runs paired runs of $n:"
	d=$(RTT_DEPTH=$depth "$dir/rtt" "$tmp/dev.sock" "$n" 2 0 |
		sed -n 's/^rtt_per_s=\([0-9]*\).*/\1/p')
	: > "$tmp/runs"
	for ((i = 0; i < runs; i++)); do
		m0=$(cpu_ns "$mrl")
		r0=$(cpu_ns "$rec")
		out=$("$dir/rtt-pair" "$tmp/relay.sock" "$tmp/rec.sock" "$rounds" "$depth")
		echo "$out $(( $(cpu_ns "$mrl") - m0 )) $(( $(cpu_ns "$rec") - r0 ))" |
			sed 's/[a-z_]*=//g' >> "$tmp/runs"
		want=$(( want + 2 + 2 * rounds * depth ))
	done
	# fields: a_median b_median a_mean b_mean ratio cpu_a cpu_b
	awk '{ print $5 }' "$tmp/runs" > "$tmp/ratios"
	read -r med lo hi < <(median_spread "$tmp/ratios")
	awk -v d="$d" -v n="$((rounds * depth))" '{ a += $1; b += $2; ca += $6; cb += $7 } END {
		printf "  direct %.0f/s; median ns per round trip (means of the runs): min-relay %.0f, vfuctl record %.0f\n", d, a / NR, b / NR
		printf "  CPU ns per round trip: min-relay %.0f, vfuctl record %.0f (%.2fx)\n", ca / NR / n, cb / NR / n, cb / ca }' "$tmp/runs"
	printf '  vfuctl record / min-relay (time): median %.3fx (%.3f..%.3f)\n' "$med" "$lo" "$hi"
	print_runs "$tmp/ratios"
	if awk -v r="$med" 'BEGIN { exit !(r <= 1.10) }'; then
		echo "    target met:    record <= 1.10x a minimal relay at depth $depth"
	else
		echo "    TARGET MISSED: record <= 1.10x a minimal relay at depth $depth"
	fi
}
compare 1
compare 32
kill -INT "$rec"
wait "$rec" 2>/dev/null || true
got=$("$vfuctl" dissect "$tmp/t.pcap" | tail -n 1 | sed -n 's/^-- [0-9]* records, \([0-9]*\) messages.*/\1/p')
if [ "$got" = "$want" ]; then
	echo "    target met:    messages recorded = messages relayed ($got)"
else
	echo "    TARGET MISSED: messages recorded ($got) = messages relayed ($want)"
fi

[ "${BENCH_SYSCALLS:-}" = 1 ] || exit 0
if ! command -v strace >/dev/null; then
	echo "BENCH_SYSCALLS=1: strace not found, syscalls not counted" >&2
	exit 0
fi
# per_rtt NAME SOCKET-NAME SIGNAL CMD...: run CMD under strace -c -f, 10000
# round trips through it, end it with SIGNAL, print its syscalls per round
# trip (the connection's setup included)
per_rtt() {
	local name=$1 sock=$2 sig=$3 st
	shift 3
	strace -f -c -o "$tmp/$name.st" "$@" 2>/dev/null & st=$!
	wait_socket "$tmp/$sock"
	"$dir/rtt" "$tmp/$sock" 10000 2 0 >/dev/null
	kill "-$sig" "$(pgrep -P "$st")"
	wait "$st" 2>/dev/null || true
	awk -v name="$name" '$NF == "total" { total = $4 }
		NR > 2 && $NF != "total" && $NF !~ /^-/ && $4 + 0 >= 1000 { each = each sprintf(" %s %.2f", $NF, $4 / 10000) }
		END { printf "  %s: %.2f syscalls per round trip:%s\n", name, total / 10000, each }' "$tmp/$name.st"
}
echo "syscalls at depth 1 (strace -c -f, 10000 round trips):"
# a background job ignores SIGINT; min-relay has no handler
per_rtt min-relay relay2.sock TERM "$dir/min-relay" "$tmp/relay2.sock" \
	"$tmp/dev.sock"
per_rtt "vfuctl record" rec2.sock INT "$vfuctl" record \
	--listen "$tmp/rec2.sock" --connect "$tmp/dev2.sock" -w "$tmp/t2.pcap"
