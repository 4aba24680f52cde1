#!/usr/bin/env bash
# record.sh - `make bench`, part 4: the recorder's cost.
#
# 4-byte REGION_READ round trips (rtt) through `vfuctl record` against the
# same loop through bench/min-relay (poll, recvmsg/sendmsg, fds forwarded,
# no framing, no recording), both in front of one `vfuctl server`, plus a
# direct connection for scale; BENCH_RUNS (default 7, at least 7)
# interleaved runs, min-relay and record taking turns to go first, median
# and spread of the time ratio record/min-relay.  Target <= 1.10x
# (issue 10).
# The recorder must also have recorded every message it relayed.
# The floor is not the same: the recorder's framer reads each message in
# two recvmsg calls (header, then exactly the body, so that descriptors
# stay with their message), min-relay in one.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS, BENCH_RTT_N (default 50000)
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
"$dir/min-relay" "$tmp/relay.sock" "$tmp/dev.sock" & pids+=($!)
"$vfuctl" record --listen "$tmp/rec.sock" --connect "$tmp/dev.sock" \
	-w "$tmp/t.pcap" 2>"$tmp/rec.err" & rec=$!
pids+=($rec)
wait_socket "$tmp/relay.sock"
wait_socket "$tmp/rec.sock"

secs() { "$dir/rtt" "$@" | sed -n 's/.* secs=\([0-9.]*\).*/\1/p'; }

echo "4-byte REGION_READ round trips through a man in the middle, $runs interleaved runs of $n:"
: > "$tmp/ratios"
via_relay() { m=$(secs "$tmp/relay.sock" "$n" 2 0); }
via_record() { r=$(secs "$tmp/rec.sock" "$n" 2 0); }
for ((i = 0; i < runs; i++)); do
	d=$(secs "$tmp/dev.sock" "$n" 2 0)
	in_turns $i via_relay via_record
	echo "$d $m $r" >> "$tmp/times"
	awk -v m="$m" -v r="$r" 'BEGIN { print r / m }' >> "$tmp/ratios"
done
read -r med lo hi < <(median_spread "$tmp/ratios")
awk -v n="$n" '{ d += $1; m += $2; r += $3 } END {
	printf "  direct %.0f/s, min-relay %.0f/s, vfuctl record %.0f/s (means)\n", n * NR / d, n * NR / m, n * NR / r
	printf "  min-relay / direct: %.2fx\n", m / d }' "$tmp/times"
printf '  vfuctl record / min-relay (time): median %.3fx (%.3f..%.3f)\n' "$med" "$lo" "$hi"
print_runs "$tmp/ratios"
if awk -v r="$med" 'BEGIN { exit !(r <= 1.10) }'; then
	echo "    target met:    record <= 1.10x a minimal relay"
else
	echo "    TARGET MISSED: record <= 1.10x a minimal relay"
fi
kill -INT "$rec"
wait "$rec" 2>/dev/null || true
want=$(( runs * (2 * n + 2) ))
got=$("$vfuctl" dissect "$tmp/t.pcap" | tail -n 1 | sed -n 's/^-- [0-9]* records, \([0-9]*\) messages.*/\1/p')
if [ "$got" = "$want" ]; then
	echo "    target met:    messages recorded = messages relayed ($got)"
else
	echo "    TARGET MISSED: messages recorded ($got) = messages relayed ($want)"
fi
