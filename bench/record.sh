#!/usr/bin/env bash
# record.sh - `make bench`, part 4: the recorder's cost.
#
# 4-byte REGION_READ round trips (rtt) through `vfuctl record` against the
# same loop through bench/min-relay (poll, one recvmsg and one sendmsg per
# wakeup, fds forwarded, no framing, no recording), both in front of one
# `vfuctl server`, plus a direct connection for scale; one request in
# flight, then 32 (pipelined: RTT_DEPTH).  BENCH_RUNS (default 7, at least
# 7) interleaved runs per depth, min-relay and record taking turns to go
# first, median and spread of the time ratio record/min-relay.  Target
# <= 1.10x (issue 10) at each depth.  The recorder must also have recorded
# every message it relayed.  With BENCH_SYSCALLS=1 (and strace), the
# syscalls each relay makes per round trip at depth 1 are counted too.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS, BENCH_RTT_N (default 50000),
#   BENCH_SYSCALLS
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

serve_gpio "$tmp/dev.sock"
"$dir/min-relay" "$tmp/relay.sock" "$tmp/dev.sock" & mrl=$!
pids+=($mrl)
"$vfuctl" record --listen "$tmp/rec.sock" --connect "$tmp/dev.sock" \
	-w "$tmp/t.pcap" 2>"$tmp/rec.err" & rec=$!
pids+=($rec)
wait_socket "$tmp/relay.sock"
wait_socket "$tmp/rec.sock"

secs() { "$dir/rtt" "$@" | sed -n 's/.* secs=\([0-9.]*\).*/\1/p'; }
# cpu_ns PID: CPU time of all of PID's threads so far, in ns: unlike the
# time per round trip, barely moved by what else the machine runs
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# compare DEPTH: interleaved runs at DEPTH requests in flight
compare() {
	local depth=$1 i
	echo "4-byte REGION_READ round trips through a man in the middle, depth $depth, $runs interleaved runs of $n:"
	: > "$tmp/ratios"
	: > "$tmp/times"
	: > "$tmp/cpu"
	via_relay() {
		local c0=$(cpu_ns "$mrl")
		m=$(RTT_DEPTH=$depth secs "$tmp/relay.sock" "$n" 2 0)
		mc=$(($(cpu_ns "$mrl") - c0))
	}
	via_record() {
		local c0=$(cpu_ns "$rec")
		r=$(RTT_DEPTH=$depth secs "$tmp/rec.sock" "$n" 2 0)
		rc=$(($(cpu_ns "$rec") - c0))
	}
	for ((i = 0; i < runs; i++)); do
		d=$(RTT_DEPTH=$depth secs "$tmp/dev.sock" "$n" 2 0)
		in_turns $i via_relay via_record
		echo "$d $m $r" >> "$tmp/times"
		awk -v m="$m" -v r="$r" 'BEGIN { print r / m }' >> "$tmp/ratios"
		echo "$mc $rc" >> "$tmp/cpu"
	done
	read -r med lo hi < <(median_spread "$tmp/ratios")
	mcpu=$(awk -v n="$n" '{ print $1 / n }' "$tmp/cpu" | median)
	rcpu=$(awk -v n="$n" '{ print $2 / n }' "$tmp/cpu" | median)
	awk -v n="$n" '{ d += $1; m += $2; r += $3 } END {
		printf "  direct %.0f/s, min-relay %.0f/s, vfuctl record %.0f/s (means)\n", n * NR / d, n * NR / m, n * NR / r
		printf "  min-relay / direct: %.2fx\n", m / d }' "$tmp/times"
	printf '  vfuctl record / min-relay (time): median %.3fx (%.3f..%.3f)\n' "$med" "$lo" "$hi"
	print_runs "$tmp/ratios"
	awk -v m="$mcpu" -v r="$rcpu" 'BEGIN { printf "  CPU per round trip (medians): min-relay %.0f ns, vfuctl record %.0f ns (%.2fx)\n", m, r, r / m }'
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
want=$(( 2 * runs * (2 * n + 2) ))
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
	--listen "$tmp/rec2.sock" --connect "$tmp/dev.sock" -w "$tmp/t2.pcap"
