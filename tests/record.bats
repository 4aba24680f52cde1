#!/usr/bin/env bats
# record.bats - vfuctl record between vfuctl client and vfuctl server: the
# relay changes nothing the client sees, the trace holds every message in
# order with its direction and descriptors, interrupts and connection
# events; concurrent clients, kill -9, SIGINT, a server that dies, -w -,
# --redact, --trap-mmap and rotation.

load helpers

start_recorder() {
	rsock=$TEST_TMP/r
	local w=(-w "$trace")
	[[ " $* " == *" -w "* ]] && w=()
	"$VFUCTL" record --listen "$rsock" --connect "$sock" "${w[@]}" "$@" \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$rsock" "$rec_pid" "$TEST_TMP/record.log"
}

# stop_recorder [STATUS]: SIGINT, and wait for it to exit STATUS (0).
stop_recorder() {
	kill -INT "$rec_pid"
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq "${1:-0}" ] || { cat "$TEST_TMP/record.log" >&2; return 1; }
}

# typing_client FIFO OUT SOCKET: a vfuctl client on SOCKET reading commands
# from FIFO (made here), output to OUT; its pid in $last_client.  The test
# opens FIFO for writing and types into it.
typing_client() {
	mkfifo "$1"
	"$VFUCTL" client "$3" <"$1" >"$2" 2>&1 3>&- &
	last_client=$!
}

# wait_trace PATTERN: up to 10 s for vfuctl dissect of $trace to show a
# line matching PATTERN (the writer flushes OPEN and CLOSE at once).
wait_trace() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$VFUCTL" dissect "$trace" 2>/dev/null | grep -q -- "$1" && return 0
		sleep 0.05
	done
	echo "the trace never showed '$1'" >&2
	return 1
}

# jsonl [TRACE]: its records but the digests (record-verify tests check
# those) as JSON lines.
jsonl() {
	"$VFUCTL" dissect -o jsonl "${1:-$trace}" | jq -c 'select(.kind != "digest")'
}

setup() {
	srv_pid=
	rec_pid=
	mounted=
	trace=$TEST_TMP/t.pcap
}

teardown() {
	local p
	for p in $rec_pid $srv_pid; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "${mounted:-}" ] || umount "$mounted"
	exec 4>&- 5>&- 2>/dev/null || true
}

script='version; info; regions; irqs; peek bar2 4; poke bar2 0x10 0x1234;
	peek bar2 0x10; read bar2 0 8; config; irq enable intx 0 1;
	poke bar2 0xc 1; wait-irq 2000; irq disable intx; reset; peek bar2 0x10'

@test "record: usage errors exit 2" {
	run "$VFUCTL" record -w x
	assert_status 2
	assert_contains "missing --listen"
	run "$VFUCTL" record --listen a -w x
	assert_status 2
	assert_contains "no --connect"
	run "$VFUCTL" record --connect a --listen b -w x
	assert_status 2
	run "$VFUCTL" record --listen a --connect b
	assert_status 2
	assert_contains "missing -w"
	run "$VFUCTL" record --listen a --connect b -w - -C 1
	assert_status 2
	run "$VFUCTL" record --listen a --connect b -w x -W 3
	assert_status 2
}

@test "record: --listen on something that is not a socket says what is there, and leaves it" {
	echo keep >"$TEST_TMP/plain"
	run "$VFUCTL" record --listen "$TEST_TMP/plain" --connect "$TEST_TMP/s" -w "$trace"
	assert_status 1
	assert_contains "cannot listen on '$TEST_TMP/plain': it exists and is a regular file, not a socket; remove it or choose another path"
	[ "$(cat "$TEST_TMP/plain")" = keep ]
	mkdir "$TEST_TMP/dir"
	run "$VFUCTL" record --listen "$TEST_TMP/dir" --connect "$TEST_TMP/s" -w "$trace"
	assert_status 1
	assert_contains "it exists and is a directory, not a socket"
	run "$VFUCTL" record --listen "$TEST_TMP/$(printf 'x%.0s' {1..120})" --connect "$TEST_TMP/s" -w "$trace"
	assert_status 1
	assert_contains "the path is too long for a UNIX socket"
}

@test "record: the client's output is the same with and without the recorder" {
	start_server gpio
	run "$VFUCTL" client -c "$script" "$sock"
	assert_status 0
	direct=$output
	start_recorder -v
	run "$VFUCTL" client -c "$script" "$rsock"
	assert_status 0
	[ "$output" = "$direct" ]
	stop_recorder
	# -v: a summary line per message and interrupt
	grep -q '^c1 C->S REGION_READ command bar2+0x4 len 4$' "$TEST_TMP/record.log"
	grep -q '^c1 C<-S REGION_READ reply bar2+0x4 len 4 = 0x0000a5a5$' "$TEST_TMP/record.log"
	grep -q '^c1 IRQ index 0 vector 0 x1$' "$TEST_TMP/record.log"
	run "$VFUCTL" dissect --strict "$trace"
	assert_status 0
}

@test "record: the trace has every message in order, directions, fds, OPEN/CLOSE and IRQ" {
	start_server gpio
	start_recorder
	run "$VFUCTL" client -c "$script" "$rsock"
	assert_status 0
	wait_trace 'c1 *connection closed'
	stop_recorder
	run jsonl
	assert_status 0
	printf '%s\n' "$output" >"$TEST_TMP/t.jsonl"
	# first OPEN, last CLOSE, one connection, endpoint 0, our pid's uid
	jq -se '.[0].kind == "open" and .[-1].kind == "close" and
		([.[].conn] | unique) == [1] and ([.[].endpoint] | unique) == [0] and
		.[0].uid == '"$(id -u)" "$TEST_TMP/t.jsonl"
	# messages alternate command, reply; seq counts per direction
	jq -se '[.[] | select(.kind == "message")] |
		(length > 20) and (length % 2 == 0) and
		([.[] | .dir] == [range(length) | if . % 2 == 0 then "c2s" else "s2c" end]) and
		([.[] | select(.dir == "c2s") | .seq] == [range(length / 2)])' "$TEST_TMP/t.jsonl"
	# the decoded commands in the client's order (config asks the six
	# BARs' region info for their sizes, as lspci shows them)
	run "$VFUCTL" dissect -o json -Y 'vfio_user.type == command' "$trace"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -r '."vfio_user.cmd_name"' | tr '\n' ' ')" = \
		"VERSION DEVICE_GET_INFO DEVICE_GET_INFO $(printf 'DEVICE_GET_REGION_INFO %.0s' {1..9})DEVICE_GET_INFO $(printf 'DEVICE_GET_IRQ_INFO %.0s' {1..5})DEVICE_GET_REGION_INFO REGION_READ REGION_WRITE REGION_READ REGION_READ DEVICE_GET_REGION_INFO REGION_READ $(printf 'DEVICE_GET_REGION_INFO %.0s' {1..6})DEVICE_SET_IRQS REGION_WRITE DEVICE_SET_IRQS DEVICE_RESET REGION_READ " ] ||
		{ printf '%s\n' "$output" | jq -r '."vfio_user.cmd_name"' | tr '\n' ' ' >&2; false; }
	# SET_IRQS carries the client's eventfd; the de-assign none
	jq -se '[.[] | select(.kind == "message" and .dir == "c2s" and (.hex[4:8] == "0800"))] |
		length == 2 and (.[0].fds | map(.kind)) == ["eventfd"] and .[1].fds == []' \
		"$TEST_TMP/t.jsonl"
	# one interrupt: INTx vector 0, count 1, between the doorbell and its reply
	jq -se '[.[] | select(.kind == "irq")] | length == 1 and
		.[0].index == 0 and .[0].vector == 0 and .[0].count == 1' \
		"$TEST_TMP/t.jsonl" ||
		{ grep irq "$TEST_TMP/t.jsonl" >&2; false; }
}

@test "record: DMA with a memfd works through the recorder and the memfd is in the trace" {
	start_server dma
	start_recorder
	run "$VFUCTL" client -c 'dma map 0x100000 0x4000;
		poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 0; poke bar0 0x10 1;
		poll bar0 0x14 1 1 2000; dma fill 0x100000 16 0x5a; poke bar0 0x14 3;
		poke bar0 0xc 1; poke bar0 0x10 1; poll bar0 0x14 1 1 2000;
		expect bar2 0 0x5a5a5a5a; dma unmap 0x100000 0x4000' "$rsock"
	assert_status 0
	assert_contains "(memfd)"
	stop_recorder
	jsonl | jq -se '[.[] | select(.kind == "message" and .hex[4:8] == "0200" and .dir == "c2s")] |
		length == 1 and .[0].fds[0].kind == "memfd" and .[0].fds[0].size == 16384'
}

# dma_hashes: the --hash-dma annotations of $trace, one per line, as
# "WHEN IOVA REST" (REST: "hashed N[ (limit)] blake2b-256 HEX" or
# "not hashable: WHY").
dma_hashes() {
	"$VFUCTL" dissect "$trace" |
		sed -n 's/.*annotation: DMA hash at \([a-z]*\): conn 1 iova \(0x[0-9a-f]*\) size 0x[0-9a-f]*\( offset 0x0\)\{0,1\}:\{0,1\} /\1 \2 /p'
}

# blake2b FILE HEXKEY...: BLAKE2b-256 of the "data" of the client's JSON
# dump lines in FILE, one per line, in order.
blake2b_dumps() {
	python3 -c '
import hashlib, json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "data" in o:
        print(hashlib.blake2b(bytes.fromhex(o["data"]), digest_size=32).hexdigest())
' "$1"
}

@test "record: --hash-dma: BLAKE2b-256 of fd-backed DMA windows at map, unmap and close, in the trace" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	start_server dma
	start_recorder --hash-dma=1M -v
	mkfifo "$TEST_TMP/f"
	"$VFUCTL" client --json "$rsock" <"$TEST_TMP/f" >"$TEST_TMP/client.jsonl" 3>&- &
	c1=$!
	exec 4>"$TEST_TMP/f"
	{
		echo 'dma map 0x100000 0x3000'
		echo 'dma dump 0x100000 0x3000'
		echo 'dma map --no-fd 0x300000 0x1000'
		echo 'dma map 0x200000 0x1000'
		echo 'dma dump 0x200000 0x1000'
	} >&4
	{
		echo 'dma fill 0x100010 0x20 0x5a'
		echo 'dma fill 0x102ffd 3 0xc3'
		echo 'dma dump 0x100000 0x3000'
		echo 'dma unmap 0x100000 0x3000'
		echo 'dma fill 0x200000 0x1000 0x77'
		echo 'dma fill 0x200800 1 0x01'
		echo 'dma dump 0x200000 0x1000'
	} >&4
	exec 4>&-
	wait "$c1"
	stop_recorder
	mapfile -t want < <(blake2b_dumps "$TEST_TMP/client.jsonl")
	[ "${#want[@]}" -eq 4 ]
	# the contents changed between map and unmap / close
	[ "${want[0]}" != "${want[2]}" ] && [ "${want[1]}" != "${want[3]}" ]
	run dma_hashes
	assert_status 0
	[ "$output" = "map 0x100000 hashed 12288 blake2b-256 ${want[0]}
map 0x300000 not hashable: no descriptor (the server reaches it with DMA_READ/DMA_WRITE)
map 0x200000 hashed 4096 blake2b-256 ${want[1]}
unmap 0x100000 hashed 12288 blake2b-256 ${want[2]}
close 0x300000 not hashable: no descriptor (the server reaches it with DMA_READ/DMA_WRITE)
close 0x200000 hashed 4096 blake2b-256 ${want[3]}" ] ||
		{ printf 'got:\n%s\nwant: %s\n' "$output" "${want[*]}" >&2; false; }
	# each annotation follows its message; the close ones precede CLOSE
	jsonl >"$TEST_TMP/t.jsonl"
	jq -se 'map(select(.kind == "message" and .dir == "c2s" and
			(.hex[4:8] == "0200" or .hex[4:8] == "0300")) | .frame) as $cmds |
		map(select(.kind == "annotation" and (.text | startswith("DMA hash at map") or
			startswith("DMA hash at unmap"))) | .frame) as $anns |
		($cmds | length) == 4 and [range(4) | $anns[.] == $cmds[.] + 1] == [true, true, true, true] and
		(.[-1].kind == "close") and (.[-2].text | startswith("DMA hash at close")) and
		([.[] | select(.kind == "annotation" and (.text | startswith("DMA hash"))) | .conn] | unique) == [1]' \
		"$TEST_TMP/t.jsonl" || { cat "$TEST_TMP/t.jsonl" >&2; false; }
	# -v shows them too
	grep -q "^c1 DMA hash at unmap: conn 1 iova 0x100000 size 0x3000 offset 0x0 hashed 12288 blake2b-256 ${want[2]}\$" \
		"$TEST_TMP/record.log"
	# and the trace is otherwise as without --hash-dma: clean
	run "$VFUCTL" dissect --strict "$trace"
	assert_status 0
}

@test "record: --hash-dma=LIMIT hashes only the first LIMIT bytes and says so" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	start_server dma
	start_recorder --hash-dma=2K -v
	typing_client "$TEST_TMP/f" /dev/null "$rsock"
	c1=$last_client
	exec 4>"$TEST_TMP/f"
	{
		echo 'dma map 0x100000 0x3000'
		echo 'dma fill 0x100000 0x800 0x11'
		echo 'dma fill 0x100800 0x2800 0x22'
		echo 'dma unmap all'
		echo 'dma map 0x200000 0x800'
	} >&4
	exec 4>&-
	wait "$c1"
	stop_recorder
	first=$(python3 -c 'import hashlib; print(hashlib.blake2b(b"\x11" * 2048, digest_size=32).hexdigest())')
	zeros=$(python3 -c 'import hashlib; print(hashlib.blake2b(bytes(2048), digest_size=32).hexdigest())')
	run dma_hashes
	assert_status 0
	# a window of exactly LIMIT bytes is hashed whole: no "(limit)"
	[ "$output" = "map 0x100000 hashed 2048 (limit) blake2b-256 $zeros
unmap 0x100000 hashed 2048 (limit) blake2b-256 $first
map 0x200000 hashed 2048 blake2b-256 $zeros
close 0x200000 hashed 2048 blake2b-256 $zeros" ] ||
		{ printf 'got:\n%s\n' "$output" >&2; false; }
}

@test "record: --hash-dma: the map hash is of what the server was given, though it writes there at once" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	start_server dma
	start_recorder --hash-dma=64M
	# a 64 MiB window first, whose hash takes a while; then the DMA
	# engine copies bar2's first 16 bytes into a fresh window at once
	"$VFUCTL" client -c 'dma map 0x10000000 0x4000000; dma map 0x100000 0x4000;
		poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 0;
		poke bar0 0x10 1; poll bar0 0x14 1 1 2000;
		dma unmap 0x100000 0x4000' "$rsock" >/dev/null
	stop_recorder
	zeros=$(python3 -c 'import hashlib; print(hashlib.blake2b(bytes(0x4000), digest_size=32).hexdigest())')
	copied=$(python3 -c 'import hashlib; print(hashlib.blake2b(bytes.fromhex("00112233445566778899aabbccddeeff") + bytes(0x4000 - 16), digest_size=32).hexdigest())')
	run dma_hashes
	assert_status 0
	[ "$(sed -n 2,3p <<<"$output")" = "map 0x100000 hashed 16384 blake2b-256 $zeros
unmap 0x100000 hashed 16384 blake2b-256 $copied" ] ||
		{ printf 'got:\n%s\n' "$output" >&2; false; }
}

@test "record: --hash-dma: a DMA_MAP the server refuses leaves no window to hash at close" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	start_server dma
	start_recorder --hash-dma=64K
	# a client that maps overlapping windows, which the server refuses
	FAKEPEER_DIR="$repo/tests" python3 - "$rsock" >"$TEST_TMP/fake.out" <<'PY'
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_msg, send_msg
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
send_msg(s, 1, 1, 0, struct.pack("<HH", 0, 2) + b"{}\0")
recv_msg(s)
for mid, iova in ((2, 0x100000), (3, 0x100800)):
    fd = os.memfd_create("w")
    os.ftruncate(fd, 0x1000)
    send_msg(s, mid, 2, 0, struct.pack("<IIQQQ", 32, 3, 0, iova, 0x1000), [fd])
    _, _, flags, err, _ = recv_msg(s)
    print(mid, "error" if flags & 0x20 else "ok")
s.close()
PY
	[ "$(cat "$TEST_TMP/fake.out")" = "2 ok
3 error" ] || { cat "$TEST_TMP/fake.out" >&2; false; }
	wait_trace 'c1 *connection closed'
	stop_recorder
	run dma_hashes
	zeros=$(python3 -c 'import hashlib; print(hashlib.blake2b(bytes(4096), digest_size=32).hexdigest())')
	[ "$output" = "map 0x100000 hashed 4096 blake2b-256 $zeros
map 0x100800 hashed 4096 blake2b-256 $zeros
close 0x100000 hashed 4096 blake2b-256 $zeros" ] ||
		{ printf 'got:\n%s\n' "$output" >&2; false; }
}

@test "record: --hash-dma reads a window in the relay before it passes the DMA_MAP on" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	start_server dma
	rsock=$TEST_TMP/r
	# LeakSanitizer cannot work under ptrace: off for the ASan build
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	# a file per thread (-ff): no call is split into <unfinished ...>
	# and <... resumed> by another thread's
	strace -ff -qq -e trace=execve,pread64,sendmsg -o "$TEST_TMP/st" \
		"$VFUCTL" record --listen "$rsock" --connect "$sock" -w "$trace" \
		--hash-dma=1M 3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$rsock" "$rec_pid" "$TEST_TMP/record.log"
	strace_pid=$rec_pid
	# the relay: the process strace started, whose main thread's id is
	# its pid
	relay=$(pgrep -P "$strace_pid")
	[ -n "$relay" ]
	rec_pid=$relay		# for teardown: strace ends with it
	run "$VFUCTL" client -c 'dma map 0x100000 0x4000; dma fill 0x100000 16 0x5a;
		dma unmap 0x100000 0x4000' "$rsock"
	assert_status 0
	wait_trace 'c1 *connection closed'
	kill -INT "$relay"
	wait "$strace_pid"
	rec_pid=
	# the relay thread hashes the window twice, 16 KiB each, and the
	# first hash comes before the message that passes the memfd on
	awk '/pread64\(.*, 16384, 0\) = 16384$/ { if (!sent) before++; n++ }
		/sendmsg\(.*SCM_RIGHTS/ { sent = 1 }
		END { exit !(n == 2 && before == 1 && sent) }' "$TEST_TMP/st.$relay" ||
		{ cat "$TEST_TMP/st.$relay" >&2; false; }
	[ "$(grep -c 'DMA hash at' < <("$VFUCTL" dissect "$trace"))" -eq 2 ]
}

@test "record: the trace file is written in chunks of its 256 KiB buffer, not 4 KiB at a time" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	start_server gpio
	rsock=$TEST_TMP/r
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=openat,write -o "$TEST_TMP/strace.log" \
		"$VFUCTL" record --listen "$rsock" --connect "$sock" -w "$trace" \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$rsock" "$rec_pid" "$TEST_TMP/record.log"
	strace_pid=$rec_pid
	relay=$(pgrep -P "$strace_pid")
	[ -n "$relay" ]
	rec_pid=$relay		# for teardown: strace ends with it
	# 6000 small records: hundreds of KiB between two flushes (every
	# 100 ms) unless the machine is some 10 times slower than usual
	peeks=$(for i in $(seq 3000); do printf 'peek bar2 0; '; done)
	run "$VFUCTL" client -c "$peeks" "$rsock"
	assert_status 0
	kill -INT "$relay"
	wait "$strace_pid"
	rec_pid=
	fd=$(sed -n "s|.*openat(.*\"$trace\".* = \([0-9]*\)\$|\1|p" "$TEST_TMP/strace.log" | head -n 1)
	[ -n "$fd" ]
	awk -v fd="$fd" '$2 ~ "^write\\(" fd "," { if ($NF + 0 > max) max = $NF + 0 }
		END { exit !(max > 4096) }' "$TEST_TMP/strace.log" ||
		{ grep "write($fd," "$TEST_TMP/strace.log" | cut -c1-60 >&2; false; }
}

@test "record: --hash-dma takes 64K, 1M, 1G, 0x hex and KiB; anything else is a usage error" {
	local bad
	for bad in 0 '' 1X 1KK -1 1.5M k 0x; do
		run "$VFUCTL" record --listen "$TEST_TMP/r" --connect "$TEST_TMP/s" -w "$TEST_TMP/t" "--hash-dma=$bad"
		assert_status 2
		assert_contains "invalid --hash-dma limit '$bad'"
	done
	run "$VFUCTL" record --listen "$TEST_TMP/r" --connect "$TEST_TMP/s" -w "$TEST_TMP/t" --hash-dma
	assert_status 2
	# good ones get as far as the server socket (none: the client is
	# turned away) and a clean exit on SIGINT
	sock=$TEST_TMP/nobody
	for good in 64K 1M 1G 0x1000 4KiB 16MB; do
		start_recorder "--hash-dma=$good"
		stop_recorder
	done
}

@test "record: descriptors the recorder cannot take (MSG_CTRUNC) are annotated with their message; the relay goes on" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	command -v prlimit >/dev/null || skip "prlimit is not installed"
	sock=$TEST_TMP/fake
	# the server: answers every command, logs the descriptors each brought
	FAKEPEER_DIR="$repo/tests" python3 - "$sock" "$TEST_TMP/fake.log" 3>&- <<'PY' &
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_msg_fds, send_msg
c = listen_once(sys.argv[1])
log = open(sys.argv[2], "w", buffering=1)
while True:
    mid, cmd, _, _, _, fds = recv_msg_fds(c)
    log.write("cmd %d fds %d\n" % (cmd, len(fds)))
    send_msg(c, mid, cmd, 1)
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	# the recorder raises its soft limit to the hard one: 16 descriptors
	# leave it room for its own sockets and files but not for 32 more
	rsock=$TEST_TMP/r
	prlimit --nofile=16:16 "$VFUCTL" record --listen "$rsock" --connect "$sock" \
		-w "$trace" 3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$rsock" "$rec_pid" "$TEST_TMP/record.log"
	# the client: SET_IRQS with 32 MSI-X eventfds, then DEVICE_RESET
	FAKEPEER_DIR="$repo/tests" python3 - "$rsock" >"$TEST_TMP/client.out" <<'PY'
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_msg, send_msg
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
efds = [os.eventfd(0) for _ in range(32)]
send_msg(s, 7, 8, 0, struct.pack("<IIIII", 20, 0x4 | 0x20, 2, 0, 32), efds)
print("reply", recv_msg(s)[:2])
send_msg(s, 8, 13, 0)
print("reply", recv_msg(s)[:2])
s.close()
PY
	[ "$(cat "$TEST_TMP/client.out")" = "reply (7, 8)
reply (8, 13)" ] || { cat "$TEST_TMP/client.out" "$TEST_TMP/record.log" >&2; false; }
	wait "$srv_pid"
	srv_pid=
	# the server got the command without descriptors, then the next one
	[ "$(cat "$TEST_TMP/fake.log")" = "cmd 8 fds 0
cmd 13 fds 0" ] || { cat "$TEST_TMP/fake.log" >&2; false; }
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "annotation: descriptors cut off (MSG_CTRUNC): DEVICE_SET_IRQS command msg_id 0x0007 seq 0"
	assert_contains "DEVICE_RESET reply"
	# the annotation comes just before its message, which has no fds
	jsonl >"$TEST_TMP/t.jsonl"
	jq -se 'map(select(.kind == "annotation" or .kind == "message")) |
		(.[0].text | startswith("descriptors cut off")) and
		.[1].kind == "message" and .[1].hex[4:8] == "0800" and .[1].fds == [] and
		([.[] | select(.kind == "message")] | length) == 4' "$TEST_TMP/t.jsonl" ||
		{ cat "$TEST_TMP/t.jsonl" >&2; false; }
}

@test "record: GET_REGION_IO_FDS reply descriptors reach the client untouched and are annotated" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	python3 -c 'import os; os.eventfd' 2>/dev/null || skip "python3 without os.eventfd"
	sock=$TEST_TMP/fake
	# the server: two ioeventfds for region 0, then, at the next command,
	# what the client signalled on them
	FAKEPEER_DIR="$repo/tests" python3 - "$sock" "$TEST_TMP/fake.log" 3>&- <<'PY' &
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_msg, send_msg
c = listen_once(sys.argv[1])
log = open(sys.argv[2], "w", buffering=1)
mid, cmd, flags, err, p = recv_msg(c)
efds = [os.eventfd(0, os.EFD_NONBLOCK) for _ in range(2)]
ents = b"".join(struct.pack("<QQIIIIQ", 0x10 + 4 * i, 4, i, 0, 0, 0, 0)
                for i in range(2))
send_msg(c, mid, cmd, 1, struct.pack("<IIII", 16 + len(ents), 0, 0, 2) + ents, efds)
mid, cmd, flags, err, p = recv_msg(c)
log.write("signalled %d %d\n" % (os.eventfd_read(efds[0]), os.eventfd_read(efds[1])))
send_msg(c, mid, cmd, 1)
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	start_recorder
	# the client: takes the ioeventfds and signals each as a guest write would
	FAKEPEER_DIR="$repo/tests" python3 - "$rsock" >"$TEST_TMP/client.out" <<'PY'
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_exact, recv_msg_fds, send_msg
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
send_msg(s, 1, 6, 0, struct.pack("<IIII", 256, 0, 0, 0))
mid, cmd, _, _, _, fds = recv_msg_fds(s)
print("cmd %d fds %d" % (cmd, len(fds)))
os.eventfd_write(fds[0], 5)
os.eventfd_write(fds[1], 7)
send_msg(s, 2, 13, 0)
recv_exact(s, 16)
s.close()
PY
	[ "$(cat "$TEST_TMP/client.out")" = "cmd 6 fds 2" ] ||
		{ cat "$TEST_TMP/client.out" >&2; false; }
	wait "$srv_pid"
	srv_pid=
	# the descriptors the client got are the server's eventfds
	[ "$(cat "$TEST_TMP/fake.log")" = "signalled 5 7" ] || { cat "$TEST_TMP/fake.log" >&2; false; }
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "annotation: 2 ioeventfd/ioregionfd descriptors passed through"
	# the reply's record has both, as eventfds; the annotation follows it
	jsonl | jq -se 'map(select(.kind == "message" or .kind == "annotation")) |
		(.[1].kind == "message" and .[1].dir == "s2c" and .[1].hex[4:8] == "0600" and
		 (.[1].fds | map(.kind)) == ["eventfd", "eventfd"]) and
		(.[2].text == "2 ioeventfd/ioregionfd descriptors passed through")'
}

@test "record: --no-irq-intercept passes eventfds through: the interrupt arrives, no IRQ record" {
	start_server gpio
	start_recorder --no-irq-intercept
	run "$VFUCTL" client -c 'irq enable intx 0 1; poke bar2 0xc 1; wait-irq 2000' "$rsock"
	assert_status 0
	assert_contains "INTx vector 0 fired"
	stop_recorder
	run jsonl
	assert_not_contains '"kind":"irq"'
	assert_contains '"kind":"eventfd"'
}

@test "record: two concurrent clients get two connection ids" {
	start_server gpio
	# the server serves one client at a time; a second endpoint and
	# server let both be served at once
	"$VFUCTL" server --socket-path "$TEST_TMP/s2" \
		--device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	srv2_pid=$!
	wait_socket "$TEST_TMP/s2" "$srv2_pid" /dev/null
	rsock=$TEST_TMP/r
	"$VFUCTL" record --listen "$rsock" --connect "$sock" \
		--listen "$TEST_TMP/r2" --connect "$TEST_TMP/s2" -w "$trace" \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/r2" "$rec_pid" "$TEST_TMP/record.log"
	typing_client "$TEST_TMP/f1" "$TEST_TMP/o1" "$rsock"
	c1=$last_client
	typing_client "$TEST_TMP/f2" "$TEST_TMP/o2" "$TEST_TMP/r2"
	c2=$last_client
	exec 4>"$TEST_TMP/f1" 5>"$TEST_TMP/f2"
	echo 'poke bar2 0x10 1' >&4
	echo 'poke bar2 0x10 2' >&5
	echo 'peek bar2 0x10' >&4
	echo 'peek bar2 0x10' >&5
	# both sessions are open until both have answered
	wait_for 'bar2+0x10: ' "$TEST_TMP/o1" "$TEST_TMP/o2"
	exec 4>&- 5>&-
	wait "$c1"
	wait "$c2"
	kill "$srv2_pid"
	grep -q 'bar2+0x10: 0x00000001' "$TEST_TMP/o1"
	grep -q 'bar2+0x10: 0x00000002' "$TEST_TMP/o2"
	stop_recorder
	jsonl >"$TEST_TMP/t.jsonl"
	# both opened before either closed, on endpoints 0 and 1
	jq -se '[.[] | select(.kind == "open" or .kind == "close") | .kind] ==
		["open", "open", "close", "close"] and
		([.[] | select(.kind == "open") | .endpoint] | sort) == [0, 1] and
		([.[] | select(.kind == "open") | .conn] | sort) == [1, 2] and
		([.[] | select(.kind == "message") | .conn] | unique) == [1, 2]' "$TEST_TMP/t.jsonl"
}

@test "record: kill -9 leaves a trace readable up to the last flush" {
	start_server gpio
	start_recorder
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 5; peek bar2 0x10' "$rsock"
	assert_status 0
	# CLOSE is flushed at once, with everything before it
	wait_trace 'c1 *connection closed'
	kill -KILL "$rec_pid"
	wait "$rec_pid" || true
	rec_pid=
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "connection opened"
	assert_contains "REGION_READ reply bar2+0x10 len 4 = 0x00000005"
	assert_contains "connection closed"
	# a crash, not a clean stop: verify says where the trace was cut
	run "$VFUCTL" verify "$trace"
	assert_status 1
	assert_contains "truncated after frame "
	assert_contains "no closing digest; verified up to frame 1"
}

@test "record: SIGINT closes the trace and relays on until the client leaves" {
	start_server gpio
	start_recorder
	typing_client "$TEST_TMP/f" "$TEST_TMP/o" "$rsock"
	c1=$last_client
	exec 4>"$TEST_TMP/f"
	echo 'poke bar2 0x10 0x11' >&4
	wait_for 'bar2+0x10 <- ' "$TEST_TMP/o"
	kill -INT "$rec_pid"
	wait_for 'capture stopped' "$TEST_TMP/record.log"
	# the trace is complete and closed while the session goes on
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "REGION_WRITE command bar2+0x10 len 4 = 0x00000011"
	kill -0 "$rec_pid"
	echo 'poke bar2 0x10 0x22; peek bar2 0x10' >&4
	exec 4>&-
	wait "$c1"
	grep -q 'bar2+0x10: 0x00000022' "$TEST_TMP/o"
	# the recorder exits by itself once the connection has ended
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq 0 ]
	run "$VFUCTL" dissect "$trace"
	assert_not_contains "0x00000022"
	grep -q 'capture stopped' "$TEST_TMP/record.log"
}

@test "record: a second SIGINT exits at once" {
	start_server gpio
	start_recorder
	typing_client "$TEST_TMP/f" "$TEST_TMP/o" "$rsock"
	c1=$last_client
	exec 4>"$TEST_TMP/f"
	echo 'peek bar2 4' >&4
	wait_for 'bar2+0x4' "$TEST_TMP/o"
	kill -INT "$rec_pid"
	wait_for 'capture stopped' "$TEST_TMP/record.log"
	kill -INT "$rec_pid"
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq 0 ]
	exec 4>&-
	wait "$c1" || true
}

@test "record: a server killed mid-session is recorded; new clients are served" {
	start_server gpio
	start_recorder
	typing_client "$TEST_TMP/f" "$TEST_TMP/o" "$rsock"
	c1=$last_client
	exec 4>"$TEST_TMP/f"
	echo 'peek bar2 4' >&4
	wait_for 'bar2+0x4' "$TEST_TMP/o"
	grep -q 'bar2+0x4' "$TEST_TMP/o"
	kill -KILL "$srv_pid"
	wait "$srv_pid" || true
	# the recorder has seen the server go before the client does more
	wait_trace 'c1 *annotation: the server closed the connection'
	wait_trace 'c1 *connection closed'
	echo 'peek bar2 4' >&4
	exec 4>&-
	wait "$c1" || true
	rm -f "$sock"
	start_server gpio
	run "$VFUCTL" client -c 'peek bar2 4' "$rsock"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	# and the second connection's end, before the signal stops capturing
	wait_trace 'c2 *connection closed'
	stop_recorder
	jsonl >"$TEST_TMP/t.jsonl"
	jq -se '[.[] | select(.kind == "open" or .kind == "close") | [.kind, .conn]] ==
		[["open", 1], ["close", 1], ["open", 2], ["close", 2]]' "$TEST_TMP/t.jsonl"
	run "$VFUCTL" dissect "$trace"
	assert_contains "c1      annotation: the server closed the connection"
	assert_contains "c2      annotation: the client closed the connection"
}

@test "record: -- SERVER-CMD: the server does not inherit the recorder's blocked SIGINT and SIGTERM" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/s
	# a server that would sleep for a minute unless SIGTERM ends it
	start_recorder -- python3 -c 'import socket, sys, time
print([l.split()[1] for l in open("/proc/self/status") if l.startswith("SigBlk")][0], file=open(sys.argv[2], "w"))
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
time.sleep(60)' "$sock" "$TEST_TMP/sigblk"
	[ "$(cat "$TEST_TMP/sigblk")" = 0000000000000000 ]
	# SIGINT: the recorder sends SIGTERM to the server and exits at once
	start=$SECONDS
	stop_recorder
	[ $((SECONDS - start)) -lt 10 ]
}

@test "record: -w - streams the trace into vfuctl dissect -" {
	start_server gpio
	mkfifo "$TEST_TMP/p"
	"$VFUCTL" dissect - <"$TEST_TMP/p" >"$TEST_TMP/d" 3>&- &
	d_pid=$!
	start_recorder -w - >"$TEST_TMP/p"
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 9' "$rsock"
	assert_status 0
	stop_recorder
	wait "$d_pid"
	grep -q 'REGION_READ reply bar2+0x4 len 4 = 0x0000a5a5' "$TEST_TMP/d"
	grep -q 'REGION_WRITE command bar2+0x10 len 4 = 0x00000009' "$TEST_TMP/d"
	grep -q 'connection closed' "$TEST_TMP/d"
}

@test "record: -w - | dissect --follow - > FILE shows each message while the session runs" {
	start_server gpio
	mkfifo "$TEST_TMP/p"
	"$VFUCTL" dissect --follow - <"$TEST_TMP/p" >"$TEST_TMP/d" 3>&- &
	d_pid=$!
	start_recorder -w - >"$TEST_TMP/p"
	typing_client "$TEST_TMP/f" "$TEST_TMP/o" "$rsock"
	c1=$last_client
	exec 4>"$TEST_TMP/f"
	echo 'poke bar2 0x10 9' >&4
	# the client is still connected and the recorder still running
	wait_for 'REGION_WRITE reply bar2+0x10' "$TEST_TMP/d"
	grep -q 'REGION_WRITE command bar2+0x10 len 4 = 0x00000009' "$TEST_TMP/d"
	kill -0 "$c1" && kill -0 "$rec_pid"
	exec 4>&-
	wait "$c1"
	stop_recorder
	wait "$d_pid"
}

@test "record: -- SERVER-CMD starts the server and waits for its socket" {
	sock=$TEST_TMP/s
	start_recorder -- "$VFUCTL" server --socket-path "$sock" \
		--device "$repo/tests/devices/gpio.json"
	[ -S "$sock" ]
	run "$VFUCTL" client -c 'peek bar2 4' "$rsock"
	assert_status 0
	assert_contains "0x0000a5a5"
	stop_recorder
	# the server was stopped with the recorder
	[ ! -S "$sock" ]
}

# wait_gone PID: up to 10 s for PID to be gone (or a zombie nobody reaps).
wait_gone() {
	local i st
	for ((i = 0; i < 200; i++)); do
		st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
		[ "$st" = Z ] && return 0
		sleep 0.05
	done
	echo "process $1 is still there" >&2
	return 1
}

@test "record: -- SERVER-CMD: when the server exits, the trace is finished and its status is the recorder's" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/s
	# a server that answers VERSION, then exits 3
	start_recorder -- env FAKEPEER_DIR="$repo/tests" python3 -c 'import os, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_msg, send_msg
c = listen_once(sys.argv[1])
mid, cmd, _, _, _ = recv_msg(c)
send_msg(c, mid, cmd, 1, struct.pack("<HH", 0, 2) + b"{}\0")
sys.exit(3)' "$sock"
	run "$VFUCTL" client -c 'version' "$rsock"
	assert_status 0
	# no signal: the recorder ends by itself, with the server's status
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq 3 ] || { cat "$TEST_TMP/record.log" >&2; false; }
	grep -q 'server exited with status 3' "$TEST_TMP/record.log"
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" dissect "$trace"
	assert_contains "VERSION reply"
	assert_contains "connection closed"
	# a server killed by a signal: 128 + its number, as a shell says
	start_recorder -- "$VFUCTL" server --socket-path "$sock" \
		--device "$repo/tests/devices/gpio.json"
	srv_pid=$(pgrep -P "$rec_pid")
	[ -n "$srv_pid" ]
	kill -KILL "$srv_pid"
	st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	srv_pid=
	[ "$st" -eq 137 ] || { cat "$TEST_TMP/record.log" >&2; false; }
	run "$VFUCTL" verify "$trace"
	assert_status 0
	# a server that cannot even start: 127, as a shell says
	run -127 "$VFUCTL" record --listen "$rsock" --connect "$sock" -w "$trace" -- \
		"$TEST_TMP/no-such-server"
	assert_status 127
	assert_contains "cannot run '$TEST_TMP/no-such-server'"
}

@test "record: -- SERVER-CMD: kill -9 of the recorder takes the server with it" {
	sock=$TEST_TMP/s
	start_recorder -- "$VFUCTL" server --socket-path "$sock" \
		--device "$repo/tests/devices/gpio.json"
	srv_pid=$(pgrep -P "$rec_pid")
	[ -n "$srv_pid" ]
	kill -KILL "$rec_pid"
	wait "$rec_pid" || true
	rec_pid=
	wait_gone "$srv_pid"
	srv_pid=
}

@test "record: -- SERVER-CMD: a server that crashes mid-session is named with its signal; the status is 128 + it" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	start_server gpio
	# a proxy to it that kills itself with SIGSEGV at the REGION_WRITE
	backend=$sock
	sock=$TEST_TMP/c
	start_recorder -- python3 "$repo/tests/crashserver.py" "$sock" "$backend" 10
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 7' "$rsock"
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq 139 ] || { cat "$TEST_TMP/record.log" >&2; false; }
	grep -q 'vfuctl record: server killed by SIGSEGV (Segmentation fault)$' \
		"$TEST_TMP/record.log"
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" dissect "$trace"
	assert_contains "REGION_WRITE command bar2+0x10"
}

@test "record: -- SERVER-CMD that ends before its socket: the error says how, its stderr is ours, its status the recorder's" {
	sock=$TEST_TMP/s
	rsock=$TEST_TMP/r
	run "$VFUCTL" record --listen "$rsock" --connect "$sock" -w "$trace" -- \
		sh -c 'echo "no device here" >&2; exit 5'
	assert_status 5
	assert_contains "no device here"
	assert_contains "the server ended before creating its socket: exited with status 5"
	[ ! -e "$rsock" ]
	run "$VFUCTL" record --listen "$rsock" --connect "$sock" -w "$trace" -- \
		sh -c 'kill -SEGV $$'
	assert_status 139
	assert_contains "the server ended before creating its socket: killed by SIGSEGV (Segmentation fault)"
}

@test "record: -- SERVER-CMD: clients are accepted once every --connect socket exists, in any directory" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	mkdir "$TEST_TMP/a" "$TEST_TMP/b"
	mkfifo "$TEST_TMP/go"
	# one socket at once, the other (a relative path) when the test says so
	cd "$TEST_TMP"
	"$VFUCTL" record --listen "$TEST_TMP/r1" --connect "$TEST_TMP/a/s" \
		--listen "$TEST_TMP/r2" --connect b/s -w "$trace" -- \
		python3 -c 'import socket, sys, time
a = socket.socket(socket.AF_UNIX)
a.bind(sys.argv[1])
a.listen(1)
open(sys.argv[3]).read()
b = socket.socket(socket.AF_UNIX)
b.bind(sys.argv[2])
b.listen(1)
time.sleep(60)' "$TEST_TMP/a/s" "$TEST_TMP/b/s" "$TEST_TMP/go" \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/a/s" "$rec_pid" "$TEST_TMP/record.log"
	# the second is not there yet, so neither is the recorder's
	[ ! -e "$TEST_TMP/r1" ] && [ ! -e "$TEST_TMP/r2" ]
	echo go >"$TEST_TMP/go"
	wait_socket "$TEST_TMP/r2" "$rec_pid" "$TEST_TMP/record.log"
	[ -S "$TEST_TMP/b/s" ] && [ -S "$TEST_TMP/r1" ]
	stop_recorder
}

@test "record: -w - -- SERVER-CMD: the server's stdout goes to stderr, not into the trace" {
	sock=$TEST_TMP/s
	rsock=$TEST_TMP/r
	"$VFUCTL" record --listen "$rsock" --connect "$sock" -w - -- \
		sh -c 'echo "server says hello"; exec "$0" server --socket-path "$1" --device "$2"' \
		"$VFUCTL" "$sock" "$repo/tests/devices/gpio.json" \
		3>&- >"$trace" 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$rsock" "$rec_pid" "$TEST_TMP/record.log"
	run "$VFUCTL" client -c 'peek bar2 4' "$rsock"
	assert_status 0
	stop_recorder
	grep -q "server says hello" "$TEST_TMP/record.log"
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" dissect "$trace"
	assert_contains "REGION_READ reply bar2+0x4 len 4 = 0x0000a5a5"
}

@test "record: SIGINT with a command in flight marks the end of capture: no 'never answered'" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/fake
	# the server: answers VERSION, takes the next command and says so,
	# never answers it
	FAKEPEER_DIR="$repo/tests" python3 - "$sock" "$TEST_TMP/fake.log" 3>&- <<'PY' &
import os, struct, sys, time
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_msg, send_msg
c = listen_once(sys.argv[1])
mid, cmd, _, _, _ = recv_msg(c)
send_msg(c, mid, cmd, 1, struct.pack("<HH", 0, 2) + b"{}\0")
mid, cmd, _, _, _ = recv_msg(c)
open(sys.argv[2], "w").write("got %d\n" % cmd)
time.sleep(60)
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	start_recorder
	# the client: VERSION, then a REGION_READ that stays in flight
	FAKEPEER_DIR="$repo/tests" python3 - "$rsock" 3>&- <<'PY' &
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_msg, send_msg
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
send_msg(s, 1, 1, 0, struct.pack("<HH", 0, 2) + b"{}\0")
recv_msg(s)
send_msg(s, 2, 9, 0, struct.pack("<QII", 0, 2, 4))
s.recv(1)
PY
	srv_pid="$srv_pid $!"
	wait_for 'got 9' "$TEST_TMP/fake.log"
	grep -q 'got 9' "$TEST_TMP/fake.log"
	kill -INT "$rec_pid"
	wait_for 'capture stopped' "$TEST_TMP/record.log"
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "REGION_READ command"
	assert_contains "capture stopped, connection still open"
	assert_not_contains "never answered"
	run "$VFUCTL" stats -o json "$trace"
	assert_not_contains "UNANSWERED"
	# and the mark survives an export and import
	"$VFUCTL" dissect -o jsonl "$trace" | "$VFUCTL" import -o "$TEST_TMP/again.pcap" -
	run "$VFUCTL" dissect "$TEST_TMP/again.pcap"
	assert_contains "capture stopped, connection still open"
	assert_not_contains "never answered"
}

@test "record: --redact records data as zeros, lengths kept; the relay is untouched" {
	start_server gpio
	start_recorder --redact
	run "$VFUCTL" client -c 'poke bar2 0x10 0x12345678; peek bar2 0x10' "$rsock"
	assert_status 0
	assert_contains "bar2+0x10: 0x12345678"
	stop_recorder
	jsonl >"$TEST_TMP/t.jsonl"
	# REGION_WRITE command and REGION_READ reply: 36 bytes, data zero
	jq -se '[.[] | select(.kind == "message" and (.hex[4:8] == "0a00" or .hex[4:8] == "0900"))] |
		length == 4 and
		(map(select(.dir == "c2s" and .hex[4:8] == "0a00"))[0].hex | length == 72 and endswith("00000000")) and
		(map(select(.dir == "s2c" and .hex[4:8] == "0900"))[0].hex | length == 72 and endswith("00000000"))' \
		"$TEST_TMP/t.jsonl"
	run grep -c 78563412 "$TEST_TMP/t.jsonl"
	[ "$output" = 0 ]
	# without --redact the data is there
	start_recorder -w "$TEST_TMP/plain.pcap"
	run "$VFUCTL" client -c 'poke bar2 0x10 0x12345678' "$rsock"
	stop_recorder
	jsonl "$TEST_TMP/plain.pcap" | grep -q '0400000078563412"'
}

@test "record: --trap-mmap takes MMAP away from region info replies" {
	start_server dma
	start_recorder --trap-mmap
	run "$VFUCTL" client --json -c 'regions' "$rsock"
	assert_status 0
	printf '%s\n' "$output" | jq -e '[.regions[] | select(.mmap == true)] | length == 0' ||
		{ echo "$output" >&2; false; }
	run "$VFUCTL" client --json -c 'regions' "$sock"
	printf '%s\n' "$output" | jq -e '[.regions[] | select(.mmap == true)] | length > 0'
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_contains "trap-mmap: region 2: MMAP cleared"
}

@test "record: -C rotates into FILE, FILE1, ...; -W wraps the names" {
	start_server gpio
	start_recorder -C 1 -W 3
	cmds=$(for ((i = 0; i < 4000; i++)); do printf 'read bar2 0 256\n'; done)
	run "$VFUCTL" client -f - "$rsock" <<<"$cmds"
	assert_status 0
	stop_recorder
	[ -f "$trace" ]
	[ -f "${trace}1" ]
	[ ! -f "${trace}3" ]
	local f total=0 n
	for f in "$trace" "$trace"[0-9]; do
		run "$VFUCTL" dissect "$f"
		assert_status 0
		[ "$(stat -c %s "$f")" -lt 1200000 ]
	done
}

@test "record: -C with a K suffix rotates at KiB (tcpdump 4.99); bad sizes are usage errors" {
	start_server gpio
	start_recorder -C 16K
	cmds=$(for ((i = 0; i < 200; i++)); do printf 'read bar2 0 256\n'; done)
	run "$VFUCTL" client -f - "$rsock" <<<"$cmds"
	assert_status 0
	stop_recorder
	# 400 messages of 48-304 bytes plus record headers: several files
	[ -f "${trace}3" ]
	local f
	for f in "$trace" "$trace"[0-9]*; do
		run "$VFUCTL" dissect "$f"
		assert_status 0
		# a file is closed at the first record past 16 KiB
		[ "$(stat -c %s "$f")" -lt $((16384 + 1024)) ]
	done
	for bad in 16Q 0K K -1M 1KB2; do
		run "$VFUCTL" record --listen a --connect b -w - -C "$bad"
		assert_status 2
		assert_contains "size '$bad'"
	done
}

@test "record: -w and rotated files: a symbolic link at the path is refused, its target untouched; traces are 0600" {
	echo precious >"$TEST_TMP/victim"
	ln -s "$TEST_TMP/victim" "$TEST_TMP/link.pcap"
	run "$VFUCTL" record --listen "$TEST_TMP/r" --connect "$TEST_TMP/s" -w "$TEST_TMP/link.pcap"
	assert_status 1
	assert_contains "cannot write trace '$TEST_TMP/link.pcap': it is a symbolic link, which is not followed for a trace (remove it or choose another path)"
	[ "$(cat "$TEST_TMP/victim")" = precious ]
	# the second rotated file's name is a link: the capture stops there
	# (counted, exit 1); the link's target is untouched
	ln -s "$TEST_TMP/victim" "${trace}1"
	start_server gpio
	umask 022
	start_recorder -C 1K
	run "$VFUCTL" client -c 'read bar2 0 256; read bar2 0 256; read bar2 0 256' "$rsock"
	assert_status 0
	stop_recorder 1
	grep -q "cannot write trace '${trace}1': it is a symbolic link" "$TEST_TMP/record.log"
	grep -q "the trace is incomplete" "$TEST_TMP/record.log"
	[ "$(cat "$TEST_TMP/victim")" = precious ]
	[ "$(stat -c %a "$trace")" = 600 ]
	run "$VFUCTL" verify "$trace"
	assert_status 0
}

@test "record: -G rotates by time" {
	start_server gpio
	start_recorder -G 1
	run "$VFUCTL" client -c 'peek bar2 4' "$rsock"
	assert_status 0
	# past the period of the file the first peek is in, however long
	# the first session took on a loaded machine
	sleep 1.2
	run "$VFUCTL" client -c 'peek bar2 0x10' "$rsock"
	assert_status 0
	stop_recorder
	# in_file TEXT: the number of the rotated file that shows TEXT
	in_file() {
		local f n=0
		for f in "$trace" "$trace"[0-9]*; do
			[ -e "$f" ] || continue
			n=${f#"$trace"}
			"$VFUCTL" dissect "$f" | grep -qF "$1" && { echo "${n:-0}"; return; }
		done
		echo "'$1' is in no file" >&2
		return 1
	}
	first=$(in_file "bar2+0x4")
	second=$(in_file "bar2+0x10")
	[ "$second" -gt "$first" ]
}

# fake_server: a small Python vfio-user server on $sock that offers a twin
# socket (tests/client.bats has the full one).  On DMA_MAP, before it
# replies, it sends the client DMA_WRITE "abcd" to the window's start and
# DMA_READ of 3 bytes on the twin socket, and logs the answers.
fake_server() {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/fake
	cat >"$TEST_TMP/fake.py" <<'PY'
import json, os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_exact, recv_msg, send_msg

path, log = sys.argv[1], open(sys.argv[2], "w")
c = listen_once(path)

mid, cmd, flags, err, p = recv_msg(c)
a, b = socket.socketpair()
caps = {"max_msg_fds": 8, "max_data_xfer_size": 1048576,
        "twin_socket": {"supported": True, "fd_index": 0}}
js = json.dumps({"capabilities": caps}).encode() + b"\0"
send_msg(c, mid, 1, 1, struct.pack("<HH", 0, 2) + js, (b.fileno(),))
b.close()
while True:
    mid, cmd, flags, err, p = recv_msg(c)
    if cmd == 2:
        addr = struct.unpack("<Q", p[16:24])[0]
        send_msg(a, 0x100, 12, 0, struct.pack("<QQ", addr, 4) + b"abcd")
        r = recv_msg(a)
        log.write("write-reply id %x len %d\n" % (r[0], len(r[4])))
        send_msg(a, 0x101, 11, 0, struct.pack("<QQ", addr + 1, 3))
        r = recv_msg(a)
        log.write("read-reply len %d data %s\n" % (len(r[4]), r[4][16:].hex()))
        log.flush()
    send_msg(c, mid, cmd, 1)
PY
	FAKEPEER_DIR="$repo/tests" python3 "$TEST_TMP/fake.py" "$sock" "$TEST_TMP/fake.log" 3>&- &
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
}

@test "record: the twin socket is swapped for the recorder's, relayed and recorded" {
	fake_server
	start_recorder
	run "$VFUCTL" client --twin-socket -c 'version; dma map --no-fd 0x1000 0x1000;
		dma dump 0x1000 8' "$rsock"
	assert_status 0
	assert_contains "twin_socket        yes"
	assert_contains "00001000  61 62 63 64 00 00 00 00"
	run cat "$TEST_TMP/fake.log"
	assert_contains "write-reply id 100 len 16"
	assert_contains "read-reply len 19 data 626364"
	stop_recorder
	jsonl >"$TEST_TMP/t.jsonl"
	# the VERSION reply is recorded with the server's socket; the twin
	# channel carries DMA_WRITE, DMA_READ and their replies in order
	jq -se '([.[] | select(.kind == "message" and .hex[4:8] == "0100" and .dir == "s2c")][0].fds | map(.kind)) == ["socket"] and
		[.[] | select(.kind == "message" and .chan == "twin") | [.dir, .hex[4:8], .seq]] ==
		[["s2c", "0c00", 0], ["c2s", "0c00", 0], ["s2c", "0b00", 1], ["c2s", "0b00", 1]]' \
		"$TEST_TMP/t.jsonl" || { grep twin "$TEST_TMP/t.jsonl" >&2; false; }
}

@test "record: unframeable bytes go through unchanged as RAW records; framing resumes" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/sink
	# the server: keeps what it receives, with the descriptors' count
	python3 - "$sock" "$TEST_TMP/sink.out" 3>&- <<'PY' &
import socket, sys
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(sys.argv[1])
ls.listen(1)
c, _ = ls.accept()
got, nfds = b"", 0
while True:
    d, fds, _, _ = socket.recv_fds(c, 4096, 16)
    nfds += len(fds)
    if not d:
        break
    got += d
open(sys.argv[2], "w").write("%s %d\n" % (got.hex(), nfds))
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	start_recorder
	# msg_size 4, then a whole DEVICE_RESET command with a descriptor
	python3 - "$rsock" <<'PY'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack("<HHIII", 1, 13, 4, 0, 0))
fd = os.memfd_create("x")
socket.send_fds(s, [struct.pack("<HHIII", 2, 13, 16, 0, 0)], [fd])
s.close()
PY
	wait "$srv_pid"
	srv_pid=
	[ "$(cat "$TEST_TMP/sink.out")" = "01000d0004000000000000000000000002000d00100000000000000000000000 1" ] || { cat "$TEST_TMP/sink.out" >&2; false; }
	stop_recorder
	jsonl >"$TEST_TMP/t.jsonl"
	jq -se '[.[] | select(.kind != "open" and .kind != "close") | .kind] ==
		["annotation", "raw", "annotation", "message", "annotation"] and
		(map(select(.kind == "message"))[0].fds | map(.kind)) == ["memfd"] and
		(map(select(.kind == "raw"))[0].hex) == "01000d00040000000000000000000000"' \
		"$TEST_TMP/t.jsonl" || { cat "$TEST_TMP/t.jsonl" >&2; false; }
	run "$VFUCTL" dissect "$trace"
	assert_contains "framing lost"
	assert_contains "framing resumed"
}

@test "record: messages the writer cannot take are relayed and counted in a GAP record" {
	start_server gpio
	VFUCTL_RECORD_QUEUE=64 start_recorder
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1' "$rsock"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	# an incomplete trace: exit 1
	stop_recorder 1
	jsonl >"$TEST_TMP/t.jsonl"
	# no message fits in 64 bytes: OPEN, one GAP for all of them, CLOSE
	jq -se '[.[] | .kind] == ["open", "gap", "annotation", "close"] and
		.[1].count == 10 and .[1].seq == 0 and .[1].dir == "c2s"' \
		"$TEST_TMP/t.jsonl" || { cat "$TEST_TMP/t.jsonl" >&2; false; }
	grep -q '0 messages recorded, 10 lost: the trace is incomplete' "$TEST_TMP/record.log"
	run "$VFUCTL" dissect "$trace"
	assert_contains "GAP: 10 messages not recorded"
}

@test "record: -w /dev/full: every message is relayed, counted as lost, and the exit status is 1" {
	start_server gpio
	start_recorder -w /dev/full
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1' "$rsock"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	stop_recorder 1
	grep -q "cannot write '/dev/full': No space left on device" "$TEST_TMP/record.log"
	# 10 messages; OPEN, the annotation and CLOSE
	grep -q '0 messages recorded, 10 lost, and 3 other records: the trace is incomplete' \
		"$TEST_TMP/record.log" || { cat "$TEST_TMP/record.log" >&2; false; }
}

@test "record: -w - into a reader that goes away: the messages after it are counted as lost, exit 1" {
	start_server gpio
	mkfifo "$TEST_TMP/p"
	head -c 100 <"$TEST_TMP/p" >/dev/null 3>&- &
	local head_pid=$! rec lost
	start_recorder -w - >"$TEST_TMP/p"
	# the first session's OPEN alone is over 100 bytes: head has gone
	# once it is through, and the second session can reach nobody
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1' "$rsock"
	assert_status 0
	wait "$head_pid"
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1' "$rsock"
	assert_status 0
	stop_recorder 1
	grep -q "cannot write 'standard output': Broken pipe" "$TEST_TMP/record.log"
	read -r rec lost < <(sed -n 's/.*capture stopped: \([0-9]*\) messages recorded, \([0-9]*\) lost.*incomplete$/\1 \2/p' \
		"$TEST_TMP/record.log")
	[ "$((rec + lost))" -eq 20 ] && [ "$lost" -ge 10 ] ||
		{ cat "$TEST_TMP/record.log" >&2; false; }
}

@test "record: a full file system: messages lost are counted, a GAP says so when writing resumes, rotated files verify" {
	local fs=$TEST_TMP/fs f n=0 gaps
	mkdir "$fs"
	mount -t tmpfs -o size=64k tmpfs "$fs" 2>/dev/null ||
		skip "cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)"
	mounted=$fs
	# full: not even the pcap file header fits
	head -c 128K /dev/zero >"$fs/filler" 2>/dev/null || true
	start_server gpio
	start_recorder -w "$fs/t.pcap" -C 4K
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1' "$rsock"
	assert_status 0
	wait_for "cannot write '$fs/t.pcap': No space left on device" "$TEST_TMP/record.log"
	rm "$fs/filler"
	wait_for "writing '$fs/t.pcap' again; a GAP record counts the 10 messages lost" \
		"$TEST_TMP/record.log"
	grep -q "a GAP record counts the 10 messages lost" "$TEST_TMP/record.log"
	# 80 messages of up to 300 bytes: rotated into several 4 KiB files
	run "$VFUCTL" client -f - "$rsock" <<<"$(for i in {1..39}; do echo 'read bar2 0 256'; done)"
	assert_status 0
	stop_recorder 1
	[ -f "$fs/t.pcap2" ]
	grep -q ' 84 messages recorded, 10 lost, and 3 other records: the trace is incomplete$' \
		"$TEST_TMP/record.log" || { cat "$TEST_TMP/record.log" >&2; false; }
	# every file stands: the first starts with the GAP
	for f in "$fs"/t.pcap*; do
		run "$VFUCTL" verify "$f"
		assert_status 0
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
	gaps=$(jsonl "$fs/t.pcap" | jq -c 'select(.kind == "gap") | [.count, .conn, .seq]')
	[ "$gaps" = "[10,1,0]" ] || { echo "$gaps" >&2; false; }
}

@test "record: mask and unmask eventfds: the client's signals reach the server and are annotated" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	python3 -c 'import os; os.eventfd' 2>/dev/null || skip "python3 without os.eventfd"
	sock=$TEST_TMP/fake
	# the server: answers VERSION and SET_IRQS, then reads the eventfd
	FAKEPEER_DIR="$repo/tests" python3 - "$sock" "$TEST_TMP/fake.log" 3>&- <<'PY' &
import os, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_msg_fds, send_msg
c = listen_once(sys.argv[1])
log = open(sys.argv[2], "w")
mid, cmd, _, _, body, fds = recv_msg_fds(c)
send_msg(c, mid, 1, 1, struct.pack("<HH", 0, 2) + b"{}\0")
mid, cmd, _, _, body, fds = recv_msg_fds(c)
send_msg(c, mid, cmd, 1)
n = struct.unpack("<Q", os.read(fds[0], 8))[0]
log.write("cmd %d fds %d unmask count %d\n" % (cmd, len(fds), n))
log.close()
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	start_recorder
	python3 - "$rsock" "$TEST_TMP/fake.log" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
v = struct.pack("<HH", 0, 2) + b"{}\0"
s.sendall(struct.pack("<HHIII", 1, 1, 16 + len(v), 0, 0) + v)
s.recv(4096)
e = os.eventfd(0)
irqs = struct.pack("<IIIII", 20, 0x4 | 0x10, 0, 0, 1)
socket.send_fds(s, [struct.pack("<HHIII", 2, 8, 36, 0, 0) + irqs], [e])
s.recv(4096)
os.eventfd_write(e, 3)
# stay connected until the server has read the signal (up to 10 s)
for _ in range(200):
    if os.path.exists(sys.argv[2]) and "unmask" in open(sys.argv[2]).read():
        break
    time.sleep(0.05)
s.close()
PY
	wait "$srv_pid"
	srv_pid=
	run cat "$TEST_TMP/fake.log"
	assert_contains "cmd 8 fds 1 unmask count 3"
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_contains "IRQ index 0 vector 0: unmask signalled 3 times"
	jsonl | jq -se '[.[] | select(.kind == "message" and .hex[4:8] == "0800")][0].fds[0].kind == "eventfd"'
}

@test "record: with no server, the client is turned away and the trace says why" {
	sock=$TEST_TMP/nobody
	start_recorder
	run "$VFUCTL" client -c 'peek bar2 4' "$rsock"
	[ "$status" -ne 0 ]
	kill -0 "$rec_pid"
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "connection opened"
	assert_contains "annotation: cannot connect to the server at '$sock'"
	assert_contains "connection closed"
}

# migrate SRC DST: move gpio's state from the server at SRC to the one at
# DST with the client's feature and mig commands; prints DST's scratch.
migrate() {
	local data
	"$VFUCTL" client -c 'poke bar2 0x10 0x12345678 4; poke bar2 0x00 0x5a 4' "$1" || return 1
	data=$("$VFUCTL" client --json -c 'feature set mig-state STOP_COPY; mig read 65536' "$1" |
		jq -r 'select(.command == "mig") | .data')
	[ -n "$data" ] || { echo "no migration data from $1" >&2; return 1; }
	"$VFUCTL" client -c "feature set mig-state RESUMING; mig write $data;
		feature set mig-state RUNNING; expect bar2 0x10 0x12345678;
		peek bar2 0x10 4" "$2"
}

@test "migration: register state moves from one server to another, directly and through two --listen/--connect pairs" {
	local a=$TEST_TMP/a b=$TEST_TMP/b c=$TEST_TMP/c e=$TEST_TMP/e p1 p2 p3 p4 p5
	"$VFUCTL" server --socket-path "$a" --device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	p1=$!
	"$VFUCTL" server --socket-path "$b" --device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	p2=$!
	srv_pid="$p1 $p2"	# teardown kills them if the test fails
	wait_socket "$a" "$p1" /dev/null
	wait_socket "$b" "$p2" /dev/null
	# directly: the destination starts with scratch 0 and ends with it set
	run "$VFUCTL" client -c 'expect bar2 0x10 0' "$b"
	assert_status 0
	run migrate "$a" "$b"
	assert_status 0
	assert_contains "bar2+0x10: 0x12345678"
	# again with two fresh servers behind one recorder: endpoints 0 and 1
	"$VFUCTL" server --socket-path "$c" --device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	p3=$!
	"$VFUCTL" server --socket-path "$e" --device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	p5=$!
	srv_pid="$p1 $p2 $p3 $p5"
	wait_socket "$c" "$p3" /dev/null
	wait_socket "$e" "$p5" /dev/null
	"$VFUCTL" record --listen "$TEST_TMP/ra" --connect "$e" \
		--listen "$TEST_TMP/rc" --connect "$c" -w "$trace" 3>&- 2>/dev/null &
	p4=$!
	rec_pid=$p4
	wait_socket "$TEST_TMP/ra" "$p4" /dev/null
	wait_socket "$TEST_TMP/rc" "$p4" /dev/null
	run migrate "$TEST_TMP/ra" "$TEST_TMP/rc"
	assert_status 0
	assert_contains "bar2+0x10: 0x12345678"
	kill -INT "$p4"
	wait "$p4" || true
	rec_pid=
	kill "$p1" "$p2" "$p3" "$p5"
	wait "$p1" "$p2" "$p3" "$p5" 2>/dev/null || true
	srv_pid=
	# the trace has the source's MIG_DATA_READ on endpoint 0 and the
	# destination's MIG_DATA_WRITE on endpoint 1, in separate connections
	run "$VFUCTL" dissect -o jsonl "$trace"
	[ "$(jsonl | jq -s '[.[] | select(.kind == "open")] | map(.endpoint) | unique | length')" -eq 2 ]
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == MIG_DATA_READ && vfio_user.type == command' "$trace"
	assert_contains "MIG_DATA_READ command"
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == MIG_DATA_WRITE && vfio_user.type == command' "$trace"
	assert_contains "MIG_DATA_WRITE command"
	[ "$("$VFUCTL" dissect -o json "$trace" | jq -s '[.[] | select(."vfio_user.cmd_name" == "MIG_DATA_WRITE")] | map(."vfio_user.conn") | unique | length')" -eq 1 ]
}

@test "twin socket end to end: vfuctl client and vfuctl server negotiate it, the server's DMA travels on it, the recorder relays and records it" {
	start_server dma
	start_recorder
	run "$VFUCTL" client --twin-socket --no-fd -c 'version;
		dma map 0x100000 0x1000 rw;
		poke bar0 0x0 0x100000 8; poke bar0 0x8 16 4; poke bar0 0xc 0 4;
		poke bar0 0x10 1 4; poll bar0 0x14 1 1 2000;
		dma dump 0x100000 16' "$rsock"
	assert_status 0
	assert_contains "twin_socket        yes"
	assert_contains "00 11 22 33 44 55 66 77"
	stop_recorder
	# the DMA_WRITE and its reply are on the twin channel, nothing else is
	[ "$(jsonl | jq -s '[.[] | select(.kind == "message" and .chan == "twin")] | length')" -eq 2 ]
	run "$VFUCTL" dissect -Y 'vfio_user.chan == twin' "$trace"
	assert_contains "C<-S twin 0x0000 DMA_WRITE command 0x100000 len 16"
	assert_contains "C->S twin 0x0000 DMA_WRITE reply 0x100000 len 16"
}

@test "record: every rotated file stands alone: a STATE record after the opening digest, --strict passes, no BEFORE_VERSION" {
	start_server gpio
	start_recorder -C 16K
	cmds=$(printf 'irq enable intx 0 1\n'; for ((i = 0; i < 200; i++)); do printf 'read bar2 0 256\n'; done)
	run "$VFUCTL" client -f - "$rsock" <<<"$cmds"
	assert_status 0
	stop_recorder
	[ -f "${trace}2" ]
	local f
	for f in "$trace" "$trace"[0-9]*; do
		run "$VFUCTL" dissect --strict "$f"
		assert_status 0
		assert_not_contains "before VERSION"
		assert_not_contains "mid-session"
		# (a command whose reply went to the next file may be a
		# warning: files carry no end-of-capture mark yet)
		assert_contains "findings: 0 errors,"
		[ "$f" = "$trace" ] && continue
		# the state so far, right after the opening digest: VERSION
		# done, the regions and IRQs known
		[[ ${lines[0]} == *"digest #0 over 0 records"* ]]
		[[ ${lines[1]} == *"c1      session state so far: VERSION 0."*", 9 regions, 5 IRQ types, 0 DMA windows"* ]]
	done
}

@test "record: --redact zeroes the data of every message family in every peer's wire form: no canary survives" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/fake
	# the server: answers with canary data where data goes, and on
	# DEVICE_RESET first sends the client DMA_WRITE and DMA_READ in the
	# form the client's VERSION asked for (QEMU's for minor 0)
	FAKEPEER_DIR="$repo/tests" python3 - "$sock" 3>&- <<'PY' &
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_msg, send_msg
C = b"\xc5" * 16
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(sys.argv[1])
ls.listen(4)
for _ in range(3):
    c, _ = ls.accept()
    qemu = False
    while True:
        try:
            mid, cmd, flags, err, p = recv_msg(c)
        except SystemExit:
            break
        if cmd == 1:
            qemu = struct.unpack("<H", p[2:4])[0] == 0
            js = b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576,"write_multiple":true}}\0'
            send_msg(c, mid, 1, 1, p[:4] + js)
        elif cmd == 9:
            send_msg(c, mid, 9, 1, p[:16] + C[:8])
        elif cmd == 10:
            send_msg(c, mid, 10, 1, p[:16])
        elif cmd == 15:
            pass                      # sent with no_reply
        elif cmd == 17:
            send_msg(c, mid, 17, 1, struct.pack("<II", 24, 16) + C)
        elif cmd == 13:
            if qemu:
                send_msg(c, 0x100, 12, 0, struct.pack("<QI", 0x1000, 8) + C[:8] + b"\0" * 4)
                send_msg(c, 0x101, 11, 0, struct.pack("<QII", 0x1000, 8, 0))
            else:
                send_msg(c, 0x100, 12, 0, struct.pack("<QQ", 0x1000, 8) + C[:8])
                send_msg(c, 0x101, 11, 0, struct.pack("<QQ", 0x1000, 8))
            recv_msg(c)
            recv_msg(c)
            send_msg(c, mid, 13, 1)
        else:
            send_msg(c, mid, cmd, 1)
    c.close()
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" /dev/null
	start_recorder --redact
	# three clients: QEMU's VERSION, libvfio-user's, and the spec's
	local form
	for form in qemu lvu spec; do
		FAKEPEER_DIR="$repo/tests" python3 - "$rsock" "$form" >>"$TEST_TMP/client.out" <<'PY'
import os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import recv_msg, send_msg
C = b"\xc5" * 16
form = sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
if form == "qemu":
    ver = struct.pack("<HH", 0, 0) + b'{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"write_multiple":true}}\0'
elif form == "lvu":
    ver = struct.pack("<HH", 0, 2) + b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}}\0'
else:
    ver = struct.pack("<HH", 0, 2) + b'{"capabilities": {"max_msg_fds": 8}}\0'
send_msg(s, 1, 1, 0, ver)
recv_msg(s)
send_msg(s, 2, 10, 0, struct.pack("<QII", 0, 2, 8) + C[:8])
recv_msg(s)
send_msg(s, 3, 9, 0, struct.pack("<QII", 0, 2, 8))
recv_msg(s)
send_msg(s, 4, 15, 0x10, struct.pack("<Q", 2) + struct.pack("<QII", 0, 2, 4) + C[:8] +
         struct.pack("<QII", 8, 2, 8) + C[:8])
send_msg(s, 5, 18, 0, struct.pack("<II", 17, 9) + C[:9])
recv_msg(s)
send_msg(s, 6, 17, 0, struct.pack("<II", 24, 16))
recv_msg(s)
send_msg(s, 7, 13, 0)
while True:
    mid, cmd, flags, err, p = recv_msg(s)
    if flags & 1:
        break
    if cmd == 12:
        # DMA_WRITE reply: QEMU bare, libvfio-user u64 count, spec u32
        send_msg(s, mid, 12, 1, b"" if form == "qemu" else
                 p[:8] + struct.pack("<Q" if form == "lvu" else "<I", 8))
    elif cmd == 11:
        if form == "qemu":
            send_msg(s, mid, 11, 1, p[:12] + C[:8] + b"\0" * 4)
        else:
            send_msg(s, mid, 11, 1, p[:16] + C[:8])
print(form, "done")
s.close()
PY
	done
	[ "$(cat "$TEST_TMP/client.out")" = "qemu done
lvu done
spec done" ] || { cat "$TEST_TMP/client.out" "$TEST_TMP/record.log" >&2; false; }
	wait "$srv_pid" || true
	srv_pid=
	stop_recorder
	jsonl > "$TEST_TMP/t.jsonl"
	# every message is there, whole and well-formed, in each wire form
	[ "$(jq -s '[.[] | select(.kind == "message")] | length' "$TEST_TMP/t.jsonl")" -eq 51 ]
	run "$VFUCTL" dissect "$trace"
	assert_contains "(0 malformed, 0 unknown)"
	assert_contains "DMA_WRITE command 0x1000 len 8"
	# and no canary byte pair is left anywhere
	run grep -c c5c5 "$TEST_TMP/t.jsonl"
	[ "$output" = 0 ] || { grep c5c5 "$TEST_TMP/t.jsonl" >&2; false; }
}

@test "record -c COUNT: the trace holds COUNT messages, the session goes on, the recorder exits when it ends" {
	start_server gpio
	start_recorder -c 4
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10; peek bar2 0x10' "$rsock"
	assert_status 0
	assert_contains "bar2+0x10: 0x00000007"
	# nothing more to relay: the recorder exits by itself, 0
	local st=0
	wait "$rec_pid" || st=$?
	rec_pid=
	[ "$st" -eq 0 ] || { cat "$TEST_TMP/record.log" >&2; false; }
	grep -q 'capture stopped at the -c count: 4 messages recorded, 0 lost' "$TEST_TMP/record.log"
	[ "$(jsonl | jq -s '[.[] | select(.kind == "message")] | length')" -eq 4 ]
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" record --listen a --connect b -w x -c 0
	assert_status 2
	assert_contains "invalid -c count '0'"
}

@test "record -s SNAPLEN keeps each message's first bytes and its length; the client gets every byte" {
	start_server gpio
	start_recorder -s 16
	run "$VFUCTL" client -c 'version; poke bar2 0x10 0x12345678; peek bar2 0x10' "$rsock"
	assert_status 0
	assert_contains "bar2+0x10: 0x12345678"
	wait_trace 'c1 *connection closed'
	stop_recorder
	run "$VFUCTL" dissect "$trace"
	assert_status 0
	assert_contains "[snapped: 16 of "
	assert_not_contains "12345678"
	# every message is there, its header whole
	jsonl | jq -se '[.[] | select(.kind == "message")] | length > 4 and
		all(.[]; (.hex | length) <= 32)'
	run "$VFUCTL" verify "$trace"
	assert_status 0
	run "$VFUCTL" record --listen a --connect b -w x -s 8
	assert_status 2
	assert_contains "the header is kept whole"
}

@test "record -Y FILTER records only what the filter selects; the trace still dissects strictly" {
	start_server gpio
	start_recorder -Y 'vfio_user.cmd == REGION_WRITE || vfio_user.event == open'
	run "$VFUCTL" client -c 'info; regions; peek bar2 4; poke bar2 0x10 9; poke bar2 0x14 10; peek bar2 0x10' "$rsock"
	assert_status 0
	run "$VFUCTL" client -c 'poke bar2 0x10 11' "$rsock"
	assert_status 0
	stop_recorder
	grep -q 'capture stopped: 6 messages recorded, 0 lost, [0-9]* left out by -Y' "$TEST_TMP/record.log" ||
		{ cat "$TEST_TMP/record.log" >&2; false; }
	jsonl >"$TEST_TMP/t.jsonl"
	# the writes and their replies, the two openings, and the state
	# records that say what VERSION and region info had set up
	jq -se '[.[] | select(.kind == "message") | .hex[4:8]] | unique == ["0a00"]' "$TEST_TMP/t.jsonl"
	jq -se '[.[] | select(.kind == "open")] | length == 2' "$TEST_TMP/t.jsonl"
	jq -se '[.[] | select(.kind == "close")] | length == 0' "$TEST_TMP/t.jsonl"
	jq -se '[.[] | select(.kind == "state")] | length >= 1' "$TEST_TMP/t.jsonl"
	run "$VFUCTL" dissect --strict "$trace"
	assert_status 0
	assert_contains "REGION_WRITE command bar2+0x14 len 4 = 0x0000000a"
	assert_not_contains "BEFORE_VERSION"
	run "$VFUCTL" record --listen a --connect b -w x -Y 'vfio_user.cmd == REGION_WRTE'
	assert_status 2
	assert_contains "(REGION_WRITE?)"
}

@test "record -G with a strftime name: a file per period named by its time; -W keeps the newest" {
	start_server gpio
	start_recorder -G 1 -W 2 -w "$TEST_TMP/t-%s.pcap"
	local i
	for i in 1 2 3; do
		run "$VFUCTL" client -c "poke bar2 0x10 $i" "$rsock"
		assert_status 0
		# into the next period (-G counts whole seconds)
		sleep 1.1
	done
	stop_recorder
	run ls "$TEST_TMP"
	files=$(ls "$TEST_TMP" | grep -c '^t-[0-9]*\.pcap$')
	[ "$files" -eq 2 ] || { ls "$TEST_TMP" >&2; false; }
	for f in "$TEST_TMP"/t-*.pcap; do
		run "$VFUCTL" verify "$f"
		assert_status 0
	done
	# the last file has the last write
	last=$(ls "$TEST_TMP"/t-*.pcap | sort -t- -k2 -n | tail -n 1)
	run "$VFUCTL" dissect "$last"
	assert_contains "= 0x00000003"
}
