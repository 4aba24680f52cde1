#!/usr/bin/env bash
# hostile.sh - `make bench`, part 6: vfuctl server against hostile clients.
#
# bench/hostile-soak.py makes BENCH_HOSTILE_CONNS connections (default
# 10,000) one after another against `vfuctl server` with
# tests/devices/dma.json: malformed messages, short memfds (DMA_MAP past
# the memfd's end, a memfd shrunk under a window, then the device's DMA),
# descriptor floods, idle and slow clients; meanwhile a well-behaved client
# connects, negotiates and reads bar2 again and again.  The server runs
# with 100 ms deadlines (--handshake-timeout, --message-timeout), so idle
# and slow clients are dropped quickly.
#
# Reported: the well-behaved client's round trips served, answered busy
# (another client was attached: the device serves one at a time) and
# failed; the server's RSS and open descriptors (from /proc) after warm-up
# and after the soak.  Targets: the server survives, no round trip of the
# well-behaved client fails (busy answers are not failures), descriptors
# back where they were, RSS grown by less than 1 MiB.
#
#   VFUCTL, BENCH_HOSTILE_CONNS
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
conns=${BENCH_HOSTILE_CONNS:-10000}
. "$here/lib.sh"
with_tmp

"$vfuctl" server --socket-path "$tmp/vfu.sock" \
	--device "$here/../tests/devices/dma.json" \
	--handshake-timeout 100 --message-timeout 100 2> "$tmp/server.log" &
server=$!
pids+=($server)
wait_socket "$tmp/vfu.sock"

echo "hostile clients: $conns connections against vfuctl server (dma.json), a well-behaved client throughout:"
# warm-up: every kind of client once, so that buffers have grown
python3 "$here/hostile-soak.py" "$tmp/vfu.sock" 100 > /dev/null
read -r rss0 fd0 < <(rss_fds "$server")
start=$(date +%s)
out=$(python3 "$here/hostile-soak.py" "$tmp/vfu.sock" "$conns")
secs=$(($(date +%s) - start))
alive=yes
kill -0 "$server" 2>/dev/null || alive=no
read -r rss1 fd1 < <(rss_fds "$server" 2>/dev/null || echo "0 0")
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$out"; }
ok=$(field good_ok); busy=$(field good_busy); fail=$(field good_fail)
total=$(field good_total)
printf '  %s s; well-behaved client: %d round trips served, %d answered busy, %d failed, of %d (%s%% served of those not answered busy)\n' \
	"$secs" "$ok" "$busy" "$fail" "$total" \
	"$(awk -v o="$ok" -v f="$fail" 'BEGIN { printf "%.2f", o + f ? 100 * o / (o + f) : 0 }')"
printf '  hostile: %d busy answers retried, %d connections dropped by the server mid-attack\n' \
	"$(field hostile_busy_retries)" "$(field hostile_dropped)"
echo "  server log (warm-up included): $(grep -c 'DMA_MAP refused' "$tmp/server.log") DMA_MAP refused," \
	"$(grep -c 'is gone' "$tmp/server.log") DMA into shrunk memory failed," \
	"$(grep -c 'sent no VERSION' "$tmp/server.log") idle dropped," \
	"$(grep -c 'unfinished' "$tmp/server.log") slow dropped," \
	"$(grep -c 'busy: answered' "$tmp/server.log") EBUSY answers"
echo "  server RSS KiB / open fds: after warm-up $rss0/$fd0, after the soak $rss1/$fd1"
if [ "$alive" = yes ] && [ "$fail" -eq 0 ] && [ "$ok" -gt 0 ]; then
	echo "    target met:    the server survived and served every round trip it did not answer busy"
else
	echo "    TARGET MISSED: server alive: $alive, $fail round trips failed"
	sed -n 's/^good_fail_why /      failed: /p' <<<"$out"
fi
if [ "$alive" = yes ] && [ "$fd1" -eq "$fd0" ] && [ $((rss1 - rss0)) -lt 1024 ]; then
	echo "    target met:    memory and fds flat (RSS grew $((rss1 - rss0)) KiB)"
else
	echo "    TARGET MISSED: memory and fds flat (RSS grew $((rss1 - rss0)) KiB, fds $fd0 -> $fd1)"
fi
