#!/usr/bin/env bats
# server-replay.bats - vfuctl server --replay: a session recorded between
# vfuctl client and vfuctl server (through vfuctl record) is played back
# to the same client script, which must see exactly what it saw live: the
# replies, the DMA the device did, the interrupt; descriptors as recorded;
# a client that departs from the recording is reported (exit 1 with
# --strict); the captured vectors play to a client that sends their
# requests (tests/sreplay-client.py) and to vfuctl replay, the replay
# corpus with its pinned digests, and QEMU's firmware enumerates a device
# played from its own recording.

load helpers

DMA=tests/devices/dma.json

# The demo's session: registers, an mmap-able BAR, MSI-X eventfds, a DMA
# window without a descriptor (so the device's DMA is DMA_WRITE messages)
# and a doorbell that starts the DMA and raises MSI-X vector 0.
SCRIPT='info; peek bar0 0x24 4; poke bar2 0x10 0xdeadbeef 4; read bar2 0x10 4;
	irq enable MSI-X 0 4; dma map 0x100000 0x1000 rw;
	poke bar0 0x0 0x100000 8; poke bar0 0x8 16 4; poke bar0 0xc 0 4;
	poke bar0 0x10 1 4; wait-irq 5000; dma dump 0x100000 16; reset'

teardown() {
	local p
	for p in ${srv_pid:-} ${rec_pid:-} ${rp_pid:-}; do
		kill "$p" 2>/dev/null || true
	done
}

# record TRACE CLIENT-ARGS...: run `vfuctl client CLIENT-ARGS... SOCKET`
# against vfuctl server (dma.json) through vfuctl record writing TRACE;
# the client's output in $TEST_TMP/live.out.
record() {
	rec_start "$1"
	shift
	"$VFUCTL" client "$@" "$TEST_TMP/rec.sock" >"$TEST_TMP/live.out"
	rec_stop
}

# rec_start TRACE: vfuctl server (dma.json) and vfuctl record in front of
# it on $TEST_TMP/rec.sock writing TRACE; rec_stop ends both.
rec_start() {
	local trace=$1
	"$VFUCTL" server --socket-path "$TEST_TMP/dev.sock" --device "$DMA" \
		3>&- 2>"$TEST_TMP/server.log" &
	srv_pid=$!
	wait_socket "$TEST_TMP/dev.sock" "$srv_pid" "$TEST_TMP/server.log"
	"$VFUCTL" record --listen "$TEST_TMP/rec.sock" \
		--connect "$TEST_TMP/dev.sock" -w "$trace" \
		3>&- 2>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/rec.sock" "$rec_pid" "$TEST_TMP/record.log"
}

rec_stop() {
	kill -INT "$rec_pid"
	wait "$rec_pid"
	kill "$srv_pid"
	wait "$srv_pid"
	rec_pid= srv_pid=
}

# start_replay TRACE ARGS...: vfuctl server --replay TRACE ARGS... on
# $TEST_TMP/rp.sock, stderr in $TEST_TMP/replay.log.
start_replay() {
	local trace=$1
	shift
	rm -f "$TEST_TMP/rp.sock"
	"$VFUCTL" server --replay "$trace" --socket-path "$TEST_TMP/rp.sock" \
		"$@" 3>&- 2>"$TEST_TMP/replay.log" &
	rp_pid=$!
	wait_socket "$TEST_TMP/rp.sock" "$rp_pid" "$TEST_TMP/replay.log"
}

# end_replay: wait for the replay server to end by itself (it exits once
# the trace's sessions are played); its status in $rp_status.
end_replay() {
	rp_status=0
	wait "$rp_pid" || rp_status=$?
	rp_pid=
}

@test "server --replay: usage errors and unservable traces exit 2" {
	run --separate-stderr "$VFUCTL" server --help
	assert_contains "--replay TRACE"
	assert_contains "--strict"
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$DMA" --replay x.pcap
	assert_status 2
	[[ $stderr == *"--device and --replay exclude each other"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$DMA" --strict
	assert_status 2
	[[ $stderr == *"--strict, --conn, --window, --ignore and --rules apply to --replay only"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--replay x.pcap --window 0
	assert_status 2
	[[ $stderr == *"invalid --window '0'"* ]]
	# it is read twice: standard input cannot be
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--replay - </dev/null
	assert_status 2
	[[ $stderr == *"give a file, not standard input"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--replay "$TEST_TMP/none.pcap"
	assert_status 2
	[[ $stderr == *"none.pcap"* ]]
	[ ! -e "$TEST_TMP/s" ]
	# a trace whose connection starts mid-session names what is missing
	"$VFUCTL" import -o "$TEST_TMP/mid.pcap" - <<-'EOF'
	{"dir": "c2s", "nfds": 0, "fds": [], "hex": "02000400100000000000000000000000"}
	EOF
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--replay "$TEST_TMP/mid.pcap"
	assert_status 2
	[[ $stderr == *"frame 1: connection 0 starts mid-session"* ]]
	[[ $stderr == *"not the client's VERSION"* ]]
}

@test "server --replay: the client script sees what it saw live" {
	record "$TEST_TMP/t.pcap" --no-fd -c "$SCRIPT"
	start_replay "$TEST_TMP/t.pcap" --strict
	"$VFUCTL" client --no-fd -c "$SCRIPT" "$TEST_TMP/rp.sock" \
		>"$TEST_TMP/replay.out"
	end_replay
	assert_golden "$TEST_TMP/live.out" "$TEST_TMP/replay.out"
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	run cat "$TEST_TMP/replay.log"
	assert_contains "1 of 1 recorded sessions played, 14 requests served, 1 DMA requests, 1 interrupts, 0 departures"
	assert_not_contains "departure:"
}

@test "server --replay: the device's DMA and interrupt reach the client" {
	record "$TEST_TMP/t.pcap" --no-fd -c "$SCRIPT"
	start_replay "$TEST_TMP/t.pcap"
	run "$VFUCTL" client --no-fd -c "$SCRIPT" "$TEST_TMP/rp.sock"
	end_replay
	assert_status 0
	# DMA_WRITE put the device buffer's bytes in the client's window
	assert_contains "00100000  00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"
	assert_contains "MSI-X vector 0 fired (1)"
	# the same over a twin socket: the DMA goes on the second channel
	record "$TEST_TMP/twin.pcap" --twin-socket --no-fd -c "$SCRIPT"
	start_replay "$TEST_TMP/twin.pcap" --strict
	run "$VFUCTL" client --twin-socket --no-fd -c "version; $SCRIPT" \
		"$TEST_TMP/rp.sock"
	end_replay
	assert_status 0
	[[ $output =~ twin_socket\ +yes ]]
	assert_contains "00100000  00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"
	assert_contains "MSI-X vector 0 fired (1)"
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	# an interrupt the client gave no eventfd for is a departure
	start_replay "$TEST_TMP/t.pcap"
	"$VFUCTL" client --no-fd -c 'info; peek bar0 0x24 4;
		poke bar2 0x10 0xdeadbeef 4; read bar2 0x10 4;
		dma map 0x100000 0x1000 rw; poke bar0 0x0 0x100000 8;
		poke bar0 0x8 16 4; poke bar0 0xc 0 4; poke bar0 0x10 1 4' \
		"$TEST_TMP/rp.sock" >/dev/null
	end_replay
	run cat "$TEST_TMP/replay.log"
	assert_contains "the recorded interrupt MSI-X vector 0 has no eventfd"
}

@test "server --replay: a departing client is reported; --strict exits 1" {
	record "$TEST_TMP/t.pcap" --no-fd -c "$SCRIPT"
	start_replay "$TEST_TMP/t.pcap" --strict
	# another value poked, and no reset at the end
	"$VFUCTL" client --no-fd -c "${SCRIPT/0xdeadbeef/0xdeadbeee}" \
		"$TEST_TMP/rp.sock" >/dev/null
	end_replay
	[ "$rp_status" -eq 1 ]
	run cat "$TEST_TMP/replay.log"
	# the recorded request's frame, the field, both values
	frame=$("$VFUCTL" dissect "$TEST_TMP/t.pcap" |
		awk '/REGION_WRITE command bar2\+0x10/ { print $1 }')
	assert_contains "departure: frame $frame: REGION_WRITE 0x0006 differs from the recorded request: vfio_user.region.data recorded efbeadde, live eebeadde"
	assert_contains ", 1 departures"
	# without --strict the same departure exits 0
	start_replay "$TEST_TMP/t.pcap"
	"$VFUCTL" client --no-fd -c "${SCRIPT/0xdeadbeef/0xdeadbeee}" \
		"$TEST_TMP/rp.sock" >/dev/null
	end_replay
	[ "$rp_status" -eq 0 ]
	# unless the rules say that the value written may differ
	start_replay "$TEST_TMP/t.pcap" --strict \
		--ignore 'region.data cmd=REGION_WRITE region=bar2'
	"$VFUCTL" client --no-fd -c "${SCRIPT/0xdeadbeef/0xdeadbeee}" \
		"$TEST_TMP/rp.sock" >/dev/null
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	run cat "$TEST_TMP/replay.log"
	assert_contains ", 0 departures"
	# a rule that makes no sense is a usage error
	run --separate-stderr "$VFUCTL" server --replay "$TEST_TMP/t.pcap" \
		--socket-path "$TEST_TMP/x.sock" --ignore 'no.such.field'
	assert_status 2
	[[ $stderr == *"no.such.field"* ]]
	# and so is a shift rule, which moves what a replayed client sends
	printf 'shift region.data cmd=REGION_WRITE unit=s\n' > "$TEST_TMP/shift.rules"
	run --separate-stderr "$VFUCTL" server --replay "$TEST_TMP/t.pcap" \
		--socket-path "$TEST_TMP/x.sock" --rules "$TEST_TMP/shift.rules"
	assert_status 2
	[[ $stderr == *"shift.rules:1"*"shift rules move what a replayed client sends"* ]] || { echo "$stderr" >&2; false; }
	# a client that ends early, and one that asks what was never recorded
	start_replay "$TEST_TMP/t.pcap" --strict
	"$VFUCTL" client --no-fd -c 'info; irqs' "$TEST_TMP/rp.sock" >/dev/null || true
	end_replay
	[ "$rp_status" -eq 1 ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: DEVICE_GET_INFO 0x0003: more than the 1 recorded; answered as the last one, frame 5"
	assert_contains "departure: DEVICE_GET_IRQ_INFO 0x0004: no such request in the recorded session; answered ENOTSUP"
	assert_contains "departure: the client ended after 2 of 14 recorded requests; the first not played: frame"
}

# messages TRACE: its messages, one a line: direction, channel, bytes and
# the descriptors' kinds, sizes and seals (not their device and inode).
messages() {
	"$VFUCTL" dissect -o jsonl "$1" | jq -c 'select(.kind == "message") |
		[.dir, .chan, .hex, [.fds[] | del(.dev, .ino)]]'
}

@test "server --replay: descriptors as recorded (memfds, eventfds, twin socket)" {
	local s='regions; irq enable MSI-X 0 4; dma map 0x100000 0x1000 rw;
		poke bar0 0x0 0x100000 8; poke bar0 0x8 16 4; poke bar0 0xc 0 4;
		poke bar0 0x10 1 4; wait-irq 5000'
	record "$TEST_TMP/a.pcap" --twin-socket -c "$s"
	messages "$TEST_TMP/a.pcap" >"$TEST_TMP/a.msgs"
	# what the live server gave: the twin's socket, bar2's sealed memfd
	grep -q '"s2c","main","01000100.*\[{"kind":"socket"}\]' "$TEST_TMP/a.msgs"
	grep -q '"s2c","main",.*\[{"kind":"memfd","size":16384,"seals":' "$TEST_TMP/a.msgs"
	# the replay, recorded in turn, gives the client the same messages
	# with descriptors of the same kinds, sizes and seals
	start_replay "$TEST_TMP/a.pcap" --strict
	"$VFUCTL" record --listen "$TEST_TMP/rec.sock" \
		--connect "$TEST_TMP/rp.sock" -w "$TEST_TMP/b.pcap" \
		3>&- 2>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/rec.sock" "$rec_pid" "$TEST_TMP/record.log"
	"$VFUCTL" client --twin-socket -c "$s" "$TEST_TMP/rec.sock" >/dev/null
	end_replay
	kill -INT "$rec_pid"
	wait "$rec_pid"
	rec_pid=
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	messages "$TEST_TMP/b.pcap" >"$TEST_TMP/b.msgs"
	assert_golden "$TEST_TMP/a.msgs" "$TEST_TMP/b.msgs"
}

@test "completion offers server's replay options and trace files" {
	run complete_words vfuctl server --
	assert_status 0
	for o in --replay --strict --conn --window --ignore --rules; do
		[[ $'\n'$output$'\n' == *$'\n'"$o"$'\n'* ]]
	done
	touch "$TEST_TMP/session.pcap"
	run complete_words vfuctl server --replay "$TEST_TMP/sess"
	assert_contains "$TEST_TMP/session.pcap"
}

@test "server --replay: the captured vectors play to a client sending their requests" {
	require_vectors
	local v b n=0
	for v in "$VECTORS"/*.jsonl; do
		b=$(basename "$v" .jsonl)
		[ "$b" != EXPECTED ] || continue
		"$VFUCTL" import -o "$TEST_TMP/$b.pcap" "$v"
		start_replay "$TEST_TMP/$b.pcap" --strict
		run python3 "$repo/tests/sreplay-client.py" "$v" "$TEST_TMP/rp.sock"
		end_replay
		[ "$status" -eq 0 ] && [ "$rp_status" -eq 0 ] || {
			echo "$b: client $status: $output" >&2
			cat "$TEST_TMP/replay.log" >&2
			false
		}
		grep -q ", 0 departures$" "$TEST_TMP/replay.log"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ]
	# the checking client does fail: another session's replies
	start_replay "$TEST_TMP/gpio-probe-full.pcap"
	run python3 "$repo/tests/sreplay-client.py" \
		"$VECTORS/null-probe-full.jsonl" "$TEST_TMP/rp.sock"
	end_replay
	assert_status 1
	assert_contains "expected"
	grep -q "departure: the client ended after 1 of 48" "$TEST_TMP/replay.log"
}

@test "server --replay: each recorded connection to one client, in order; --conn picks one" {
	local a='info; peek bar0 0x24 4' b='regions; poke bar2 0 0x55 4; read bar2 0 4'
	rec_start "$TEST_TMP/t.pcap"
	"$VFUCTL" client -c "$a" "$TEST_TMP/rec.sock" >"$TEST_TMP/a.live"
	"$VFUCTL" client -c "$b" "$TEST_TMP/rec.sock" >"$TEST_TMP/b.live"
	rec_stop
	# both, one after the other; then the server is done
	start_replay "$TEST_TMP/t.pcap" --strict
	"$VFUCTL" client -c "$a" "$TEST_TMP/rp.sock" >"$TEST_TMP/a.out"
	"$VFUCTL" client -c "$b" "$TEST_TMP/rp.sock" >"$TEST_TMP/b.out"
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	assert_golden "$TEST_TMP/a.live" "$TEST_TMP/a.out"
	assert_golden "$TEST_TMP/b.live" "$TEST_TMP/b.out"
	grep -q "2 of 2 recorded sessions played, .*, 0 departures$" \
		"$TEST_TMP/replay.log"
	# the second alone
	start_replay "$TEST_TMP/t.pcap" --strict --conn 2
	"$VFUCTL" client -c "$b" "$TEST_TMP/rp.sock" >"$TEST_TMP/b.out"
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	assert_golden "$TEST_TMP/b.live" "$TEST_TMP/b.out"
	grep -q "1 of 1 recorded sessions played" "$TEST_TMP/replay.log"
	run --separate-stderr "$VFUCTL" server --replay "$TEST_TMP/t.pcap" \
		--socket-path "$TEST_TMP/x.sock" --conn 9
	assert_status 2
	[[ $stderr == *"no connection 9 with a request in the trace"* ]]
}

@test "server --replay: vfuctl replay of each converted vector against it finds no divergence" {
	require_vectors
	local v b n=0
	for v in "$VECTORS"/*.jsonl; do
		b=$(basename "$v" .jsonl)
		# EXPECTED is no session; vfuctl replay cannot send badframe's
		# deliberately unframeable header (sreplay-client.py does, above)
		[ "$b" != EXPECTED ] && [ "$b" != gpio-probe-badframe ] || continue
		"$VFUCTL" import -o "$TEST_TMP/$b.pcap" "$v"
		start_replay "$TEST_TMP/$b.pcap" --strict
		run "$VFUCTL" replay "$TEST_TMP/$b.pcap" --connect "$TEST_TMP/rp.sock"
		end_replay
		[ "$status" -eq 0 ] && [ "$rp_status" -eq 0 ] || {
			echo "$b: vfuctl replay $status: $output" >&2
			cat "$TEST_TMP/replay.log" >&2
			false
		}
		assert_contains " 0 divergences"
		grep -q ", 0 departures$" "$TEST_TMP/replay.log"
		n=$((n + 1))
	done
	[ "$n" -ge 9 ]
}

@test "server --replay: requests that come while a DMA reply is awaited wait their turn" {
	record "$TEST_TMP/t.pcap" --no-fd -c "$SCRIPT"
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/t.pcap" >"$TEST_TMP/t.jsonl"
	start_replay "$TEST_TMP/t.pcap" --strict -v
	# every command at once: DEVICE_RESET comes before the client answers
	# the DMA_WRITE that the doorbell's REGION_WRITE started, and must be
	# answered after that REGION_WRITE, as recorded
	run python3 "$repo/tests/sreplay-client.py" --eager "$TEST_TMP/t.jsonl" \
		"$TEST_TMP/rp.sock"
	end_replay
	assert_status 0
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	run cat "$TEST_TMP/replay.log"
	assert_contains "c2s 0x0000 DMA_WRITE reply 0x100000 len 16"
	assert_contains ", 0 departures"
}

# serve_conns JSONL: the trace JSONL (imported) served by one vfuctl
# server --replay --strict per recorded connection (--conn N), on the
# sockets in socks[], in the connections' order (a migration's source,
# then its destination); end_served waits for them to end by themselves
# and fails unless each did with no departure.
serve_conns() {
	local c i=0
	"$VFUCTL" import -o "$TEST_TMP/c.pcap" "$1"
	socks=() pids=()
	for c in $(jq -r 'select(.kind == "open") | .conn' "$1"); do
		"$VFUCTL" server --replay "$TEST_TMP/c.pcap" --conn "$c" --strict \
			--socket-path "$TEST_TMP/rp$i.sock" 3>&- 2>"$TEST_TMP/replay$i.log" &
		pids+=("$!")
		rp_pid="${pids[*]}"	# teardown stops them
		wait_socket "$TEST_TMP/rp$i.sock" "$!" "$TEST_TMP/replay$i.log"
		socks+=("$TEST_TMP/rp$i.sock")
		i=$((i + 1))
	done
}

end_served() {
	local i
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$TEST_TMP/replay$i.log" >&2; false; }
		grep -q ", 0 departures$" "$TEST_TMP/replay$i.log" ||
			{ cat "$TEST_TMP/replay$i.log" >&2; false; }
	done
	rp_pid=
}

@test "server --replay: the replay corpus served back gives vfuctl replay the pinned digests" {
	local t dev digest n=0 s args
	while read -r t dev digest; do
		[[ $t == "#"* || -z $t ]] && continue
		serve_conns "$repo/traces/$t"
		args=()
		for s in "${socks[@]}"; do args+=(--connect "$s"); done
		run "$VFUCTL" replay --expect-digest "$digest" "$TEST_TMP/c.pcap" "${args[@]}"
		[ "$status" -eq 0 ] || { echo "$t: vfuctl replay $status: $output" >&2; false; }
		end_served
		assert_contains " 0 divergences"
		n=$((n + 1))
	done <"$repo/traces/replay.digests"
	[ "$n" -ge 10 ]
}

# corpus_served NAME: the replay corpus's traces/replay-NAME.jsonl served
# (serve_conns), and the subject's client session (traces/make-corpus.sh
# --session) run against it prints what it printed live
# (traces/replay-NAME.out); no departure.
corpus_served() {
	serve_conns "$repo/traces/replay-$1.jsonl"
	"$repo/traces/make-corpus.sh" --session "$1" "${socks[@]}" >"$TEST_TMP/session.out"
	end_served
	assert_golden "$repo/traces/replay-$1.out" "$TEST_TMP/session.out"
}

@test "server --replay: corpus discovery plays to its client script as live" { corpus_served discovery; }
@test "server --replay: corpus peek-poke plays to its client script as live" { corpus_served peek-poke; }
@test "server --replay: corpus dma plays to its client script as live" { corpus_served dma; }
@test "server --replay: corpus twin plays to its client script as live" { corpus_served twin; }
@test "server --replay: corpus interrupts plays to its client script as live" { corpus_served interrupts; }
@test "server --replay: corpus reset plays to its client script as live" { corpus_served reset; }
@test "server --replay: corpus migration plays to its client script as live (source and destination)" { corpus_served migration; }
@test "server --replay: corpus errors plays to its client script as live" { corpus_served errors; }

@test "server --replay: QEMU's firmware enumerates a device played from its recorded session" {
	rec_start "$TEST_TMP/q.pcap"
	qemu_boot "$TEST_TMP/rec.sock"
	rec_stop
	start_replay "$TEST_TMP/q.pcap"
	qemu_boot "$TEST_TMP/rp.sock"
	end_replay
	[ "$rp_status" -eq 0 ]
	run cat "$TEST_TMP/replay.log"
	# every request QEMU sent was one it sent when recorded, in content
	assert_not_contains "differs from the recorded request"
	assert_not_contains "no such request"
	assert_contains "1 of 1 recorded sessions played"
}

@test "server --replay: a DMA_READ reply unlike the recorded one is a departure" {
	# the device reads 16 bytes of the client's window (direction 1)
	local s='irq enable MSI-X 0 4; dma map 0x100000 0x1000 rw;
		dma fill 0x100000 16 0xab; poke bar0 0x0 0x100000 8;
		poke bar0 0x8 16 4; poke bar0 0xc 1 4; poke bar0 0x10 1 4;
		wait-irq 5000'
	record "$TEST_TMP/t.pcap" --no-fd -c "$s"
	"$VFUCTL" dissect "$TEST_TMP/t.pcap" | grep -q "DMA_READ reply 0x100000 len 16"
	start_replay "$TEST_TMP/t.pcap" --strict
	"$VFUCTL" client --no-fd -c "$s" "$TEST_TMP/rp.sock" >/dev/null
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	# other memory in the client: the same DMA_READ gets other bytes
	start_replay "$TEST_TMP/t.pcap" --strict
	"$VFUCTL" client --no-fd -c "${s/0xab/0xcd}" "$TEST_TMP/rp.sock" >/dev/null
	end_replay
	[ "$rp_status" -eq 1 ]
	frame=$("$VFUCTL" dissect "$TEST_TMP/t.pcap" |
		awk '/DMA_READ reply/ { print $1 }')
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: frame $frame: the reply to DMA_READ differs: vfio_user.dma.data recorded abababababababababababababababab, live cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
}

@test "server --replay: past 1000 departures they are counted, not shown" {
	record "$TEST_TMP/t.pcap" --no-fd -c 'info'
	start_replay "$TEST_TMP/t.pcap"
	# 1200 DEVICE_GET_IRQ_INFO requests, none of them recorded
	python3 - "$TEST_TMP/rp.sock" <<-'PY'
	import socket, struct, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(sys.argv[1])
	for i in range(1200):
	    s.sendall(struct.pack("<HHIIIIIII", i, 7, 32, 0, 0, 16, 0, 0, 0))
	    h = s.recv(16, socket.MSG_WAITALL)
	    assert struct.unpack("<HHIII", h)[4] != 0, "an error reply"
	PY
	end_replay
	[ "$rp_status" -eq 0 ]
	[ "$(grep -c 'departure: DEVICE_GET_IRQ_INFO' "$TEST_TMP/replay.log")" -eq 1000 ]
	grep -q "departures: more are counted, not shown" "$TEST_TMP/replay.log"
	grep -q ", 1201 departures$" "$TEST_TMP/replay.log"
}

@test "server --replay: a DMA request whose reply the trace lacks is sent, not compared" {
	record "$TEST_TMP/t.pcap" --no-fd -c "$SCRIPT"
	# the trace without the client's DMA_WRITE reply (msg_id 0, command 12)
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/t.pcap" |
		jq -c 'select(.kind != "digest" and (.kind != "message" or
			.dir != "c2s" or (.hex | startswith("00000c00") | not)))' \
		>"$TEST_TMP/cut.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/cut.pcap" "$TEST_TMP/cut.jsonl"
	run "$VFUCTL" dissect "$TEST_TMP/cut.pcap"
	assert_contains "DMA_WRITE command"
	assert_not_contains "DMA_WRITE reply"
	start_replay "$TEST_TMP/cut.pcap" --strict
	"$VFUCTL" client --no-fd -c "$SCRIPT" "$TEST_TMP/rp.sock" \
		>"$TEST_TMP/replay.out"
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	assert_golden "$TEST_TMP/live.out" "$TEST_TMP/replay.out"
}

@test "server --replay: a repeated request gets the recorded replies in order, then the last" {
	record "$TEST_TMP/t.pcap" -c 'peek bar2 0x10 4; poke bar2 0x10 0x11 4;
		peek bar2 0x10 4; poke bar2 0x10 0x22 4; peek bar2 0x10 4'
	run cat "$TEST_TMP/live.out"
	assert_contains "bar2+0x10: 0x00000000"
	start_replay "$TEST_TMP/t.pcap"
	# the same read four times, without the writes: the three recorded
	# values in their order, then the last again (a departure)
	run "$VFUCTL" client -c 'peek bar2 0x10 4; peek bar2 0x10 4;
		peek bar2 0x10 4; peek bar2 0x10 4' "$TEST_TMP/rp.sock"
	end_replay
	assert_status 0
	[ "${lines[0]}" = "bar2+0x10: 0x00000000" ]
	[ "${lines[1]}" = "bar2+0x10: 0x00000011" ]
	[ "${lines[2]}" = "bar2+0x10: 0x00000022" ]
	[ "${lines[3]}" = "bar2+0x10: 0x00000022" ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: REGION_READ 0x0007: more than the 3 recorded; answered as the last one, frame"
	assert_contains "departure: the client ended after 6 of 8 recorded requests; the first not played: frame"
}

@test "server --replay: DEVICE_GET_REGION_IO_FDS replies come with eventfds" {
	# VERSION as the vectors have it, then an I/O fds query of bar2
	# answered with one ioeventfd (no peer here makes them: hand-built)
	{
		head -n 2 "$repo/traces/gpio-probe-full.jsonl"
		echo '{"dir": "c2s", "nfds": 0, "fds": [], "hex": "0200060020000000000000000000000038000000000000000200000000000000"}'
		echo '{"dir": "s2c", "nfds": 1, "fds": [{"kind": "eventfd"}], "hex": "020006004800000001000000000000003800000000000000020000000100000010000000000000000400000000000000000000000000000000000000000000000000000000000000"}'
	} >"$TEST_TMP/iofds.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/iofds.pcap" "$TEST_TMP/iofds.jsonl"
	start_replay "$TEST_TMP/iofds.pcap" --strict
	run python3 "$repo/tests/sreplay-client.py" "$TEST_TMP/iofds.jsonl" \
		"$TEST_TMP/rp.sock"
	end_replay
	assert_status 0
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
}

# reads_trace N: a session of N REGION_READs (tests/sreplay-reads.py make)
# as $TEST_TMP/rN.jsonl and, imported, $TEST_TMP/rN.pcap.
reads_trace() {
	python3 "$repo/tests/sreplay-reads.py" make "$1" \
		"$repo/traces/gpio-probe-full.jsonl" >"$TEST_TMP/r$1.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/r$1.pcap" "$TEST_TMP/r$1.jsonl"
}

# reads_hwm N: reads_trace N served by server --replay --strict to a
# client that sends its reads (each reply checked); the server's peak
# resident size in KiB, taken before the client hangs up, in $hwm.
reads_hwm() {
	reads_trace "$1"
	start_replay "$TEST_TMP/r$1.pcap" --strict
	hwm=$(python3 "$repo/tests/sreplay-reads.py" play "$TEST_TMP/r$1.jsonl" \
		"$TEST_TMP/rp.sock" --hwm "$rp_pid" --count "$1")
	end_replay
	[ "$rp_status" -eq 0 ] || { cat "$TEST_TMP/replay.log" >&2; false; }
	grep -q ", $(($1 + 1)) requests served, .*, 0 departures$" \
		"$TEST_TMP/replay.log"
}

@test "server --replay: memory does not grow with the trace (20k and 200k messages)" {
	# under ASan freed memory waits in a quarantine (256 MiB) before it
	# is used again: without one, what is resident is the program's
	[ -z "${ASAN_OPTIONS:-}" ] ||
		export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
	reads_hwm 10000
	local small=$hwm
	reads_hwm 100000
	echo "peak RSS: $small KiB at 20k messages, $hwm KiB at 200k" >&2
	# a whole 200k-message trace in memory is over 10 MiB more
	[ "$hwm" -lt $((small + 2048)) ]
}

# window_reads K OFFSET...: the 8-read session served with --window K to
# a client that reads bar2 at each OFFSET; the values in $output, one a
# line, and the server's log in $TEST_TMP/replay.log.
window_reads() {
	local k=$1
	shift
	start_replay "$TEST_TMP/r8.pcap" --window "$k"
	run python3 "$repo/tests/sreplay-reads.py" play "$TEST_TMP/r8.jsonl" \
		"$TEST_TMP/rp.sock" "$@"
	end_replay
	assert_status 0
	[ "$rp_status" -eq 0 ]
}

@test "server --replay: --window bounds where a live request is matched" {
	# frames: 1-2 VERSION, then read i (offset 4i, value 0xa0 + i) at
	# frame 3 + 2i and its reply
	reads_trace 8
	# out of order within the window: each read gets its own value
	window_reads 2 4 0 8 0xc 0x10 0x14 0x18 0x1c
	[ "$output" = "$(printf '0x%x\n' 0xa1 0xa0 0xa2 0xa3 0xa4 0xa5 0xa6 0xa7)" ]
	grep -q ", 0 departures$" "$TEST_TMP/replay.log"
	# further ahead than the window: a departure, answered as the first
	# read in the window
	window_reads 2 0x10
	[ "$output" = 0xa0 ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: frame 3: REGION_READ 0x0001 differs from the recorded request: vfio_user.region.offset recorded 0x0, live 0x10"
	window_reads 8 0x10
	[ "$output" = 0xa4 ]
	run cat "$TEST_TMP/replay.log"
	assert_not_contains "differs"
	# read 0 fell behind (more than 2 reads since): answered as the first
	# read still in the window, read 5; it is named as not played
	window_reads 2 4 8 0xc 0x10 0
	[ "$output" = "$(printf '0x%x\n' 0xa1 0xa2 0xa3 0xa4 0xa5)" ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: frame 13: REGION_READ 0x0005 differs from the recorded request: vfio_user.region.offset recorded 0x14, live 0x0"
	assert_contains "departure: the client ended after 6 of 9 recorded requests; the first not played: frame 3 (REGION_READ)"
	# within a window of 8 it had not
	window_reads 8 4 8 0xc 0x10 0
	[ "$output" = "$(printf '0x%x\n' 0xa1 0xa2 0xa3 0xa4 0xa0)" ]
	run cat "$TEST_TMP/replay.log"
	assert_not_contains "differs"
	assert_contains "departure: the client ended after 6 of 9 recorded requests; the first not played: frame 13 (REGION_READ)"
	# a second VERSION: none left in the window, answered as the one
	# played (gone from the window, its reply kept); the same once the
	# whole trace is in the window
	window_reads 2 version 0
	[ "$output" = "$(printf 'version\n0xa0')" ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: VERSION 0x0001: no unplayed one in the window of 2 requests; answered as the newest one before it, frame 1"
	window_reads 16 version 0
	[ "$output" = "$(printf 'version\n0xa0')" ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "departure: VERSION 0x0001: more than the 1 recorded; answered as the last one, frame 1"
}

# silent_client SOCKET [BYTES-HEX]: connect, send BYTES (none: nothing),
# and wait for the server to close the connection; prints "closed".
silent_client() {
	python3 - "$@" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	if len(sys.argv) > 2:
	    s.sendall(bytes.fromhex(sys.argv[2]))
	while s.recv(4096):
	    pass
	print("closed")
	PY
}

@test "server --replay: a client that never speaks, or stops mid-message, is dropped at the deadlines" {
	"$VFUCTL" import -o "$TEST_TMP/t.pcap" "$repo/traces/replay-peek-poke.jsonl"
	start_replay "$TEST_TMP/t.pcap" --strict --handshake-timeout 200
	run silent_client "$TEST_TMP/rp.sock"
	[ "$output" = closed ]
	end_replay
	[ "$rp_status" -eq 1 ]
	run cat "$TEST_TMP/replay.log"
	assert_contains "the client sent no request within 200 ms"
	assert_contains "the client ended after 0 of"
	# half a header, then nothing
	start_replay "$TEST_TMP/t.pcap" --message-timeout 200
	run silent_client "$TEST_TMP/rp.sock" 0100010064000000
	[ "$output" = closed ]
	end_replay
	run cat "$TEST_TMP/replay.log"
	assert_contains "the client left a message unfinished for 200 ms"
}
