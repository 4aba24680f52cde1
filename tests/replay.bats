#!/usr/bin/env bats
# replay.bats - vfuctl replay: sessions recorded here with vfuctl record
# between vfuctl client and vfuctl server, then replayed against a fresh
# vfuctl server: no divergence and the same digest twice; a changed
# register, a missing interrupt, a crashing server each reported where
# they happen; --ignore and --rules; --update; DMA served from the
# replayer's memory; a mid-session file refused; JSON and JUnit output.

load helpers

setup() {
	srv_pid=
	rec_pid=
	trace=$TEST_TMP/t.pcap
}

teardown() {
	local p
	for p in $rec_pid $srv_pid; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# record DEVICE SCRIPT [TRACE [CLIENT-OPTION...]]: a vfuctl client SCRIPT
# through vfuctl record to a server of tests/devices/DEVICE.json, into
# TRACE ($trace).
record() {
	local out=${3:-$trace} i
	start_server "$repo/tests/devices/$1.json"
	"$VFUCTL" record --listen "$TEST_TMP/r" --connect "$sock" -w "$out" \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/r" "$rec_pid" "$TEST_TMP/record.log"
	"$VFUCTL" client "${@:4}" -c "$2" "$TEST_TMP/r" >"$TEST_TMP/client.out"
	# the recorder writes CLOSE as soon as the client has gone
	for ((i = 0; i < 200; i++)); do
		"$VFUCTL" dissect "$out" 2>/dev/null |
			grep -q 'connection closed' && break
		sleep 0.05
	done
	kill -INT "$rec_pid"
	wait "$rec_pid"
	rec_pid=
	stop_server
	rm -f "$TEST_TMP/r"
}

# The frame of the first record that dissect -Y FILTER shows.
first_frame() {
	"$VFUCTL" dissect -Y "$1" "${2:-$trace}" | awk 'NR == 1 { print $1 }'
}

# The bytes of every message the client sent, one a line.
c2s_hex() {
	"$VFUCTL" dissect -o jsonl "$1" | jq -r 'select(.kind == "message" and .dir == "c2s") | .hex'
}

gpio_script='version; info; regions; irqs; peek bar2 4; poke bar2 0x10 0x1234;
	peek bar2 0x10; config; irq enable intx 0 1; poke bar2 0xc 1;
	wait-irq 2000; irq disable intx; reset; peek bar2 0x10'

# gpio.json with the input register's reset value changed to VALUE
gpio_changed() {
	sed "s/0x0000a5a5/$1/" "$repo/tests/devices/gpio.json" >"$TEST_TMP/gpio2.json"
}

@test "replay: usage errors exit 2 and say what is wrong" {
	run "$VFUCTL" replay
	assert_status 2
	assert_contains "missing trace file"
	run "$VFUCTL" replay "$trace"
	assert_status 2
	assert_contains "either --connect SOCKET or -- SERVER-CMD"
	run "$VFUCTL" replay "$trace" --connect x -- true
	assert_status 2
	run "$VFUCTL" replay "$trace" extra --connect x
	assert_status 2
	assert_contains "unexpected 'extra'"
	run "$VFUCTL" replay "$trace" --
	assert_status 2
	assert_contains "missing server command"
	run "$VFUCTL" replay --update "$trace" --connect x
	assert_status 2
	assert_contains "--update and -w NEW go together"
	run "$VFUCTL" replay --expect-digest 12ab "$trace" --connect x
	assert_status 2
	assert_contains "invalid --expect-digest"
	run "$VFUCTL" replay --ignore vfio_user.nosuch "$trace" --connect x
	assert_status 2
	assert_contains "no such field"
	printf 'region.data cmd=REGION_READ\nregion.data offset=9-3\n' >"$TEST_TMP/rules"
	run "$VFUCTL" replay --rules "$TEST_TMP/rules" "$trace" --connect x
	assert_status 2
	assert_contains "rules:2:"
	run "$VFUCTL" replay --timeout 0 "$trace" --connect x
	assert_status 2
	run "$VFUCTL" replay --spawn-once "$trace" --connect x
	assert_status 2
	run "$VFUCTL" replay -o xml "$trace" --connect x
	assert_status 2
}

@test "replay: an unreadable trace exits 2 naming it" {
	echo 'not a trace' >"$TEST_TMP/bad.pcap"
	run "$VFUCTL" replay "$TEST_TMP/bad.pcap" --connect "$TEST_TMP/none"
	assert_status 2
	assert_contains "cannot replay '$TEST_TMP/bad.pcap'"
	run "$VFUCTL" replay "$TEST_TMP/missing.pcap" --connect "$TEST_TMP/none"
	assert_status 2
}

@test "replay: a trace cut inside a record is replayed up to the cut, and says so" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	head -c "$(($(stat -c %s "$trace") - 20))" "$trace" >"$TEST_TMP/cut.pcap"
	run "$VFUCTL" replay "$TEST_TMP/cut.pcap" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_contains "note: the trace is cut short"
	assert_contains "0 divergences"
}

@test "replay: a recorded session replays with no divergence, the same output and digest twice" {
	record gpio "$gpio_script"
	run --separate-stderr "$VFUCTL" replay --digest "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_contains "0 divergences"
	assert_contains "1 interrupts"
	[[ $stderr == *"messages/s"* ]]
	first=$output
	digest=$(printf '%s\n' "$output" | sed -n 's/^digest \([0-9a-f]\{64\}\)$/\1/p')
	[ -n "$digest" ]
	run --separate-stderr "$VFUCTL" replay --digest "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	[ "$output" = "$first" ]
	# CI pins it
	run "$VFUCTL" replay --expect-digest "$digest" "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	run "$VFUCTL" replay --expect-digest "$(printf '0%.0s' {1..64})" "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "divergence: digest $digest, expected 000"
}

@test "replay: --connect replays against a running server" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	start_server "$repo/tests/devices/gpio.json"
	run "$VFUCTL" replay "$trace" --connect "$sock"
	assert_status 0
	assert_contains "1 session, 1 connection"
	assert_contains "0 divergences"
	assert_not_contains "server:"
}

@test "replay: one register changed is one divergence at its frame naming both values" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	frame=$(first_frame 'vfio_user.type == reply && vfio_user.cmd == REGION_READ && vfio_user.region.offset == 4')
	[ -n "$frame" ]
	gpio_changed 0x0000a5a4
	run "$VFUCTL" replay -k "$trace" -- "$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 1, REGION_READ reply to frame $((frame - 1))): vfio_user.region.data: recorded a5a50000, live a4a50000 (byte 32)"
	assert_contains "recorded: REGION_READ reply bar2+0x4 len 4 = 0x0000a5a5"
	assert_contains "live:     REGION_READ reply bar2+0x4 len 4 = 0x0000a5a4"
	assert_contains "before it:"
	assert_contains "$((frame - 1)) C->S REGION_READ command bar2+0x4 len 4"
	assert_not_contains "divergence 2"
	assert_contains ", 1 divergence"
}

@test "replay: --ignore and --rules make a known difference go away, and only it" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	gpio_changed 0x0000a5a4
	run "$VFUCTL" replay --ignore 'region.data cmd=REGION_READ region=bar2 offset=4' \
		"$trace" -- "$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 0
	assert_contains "0 divergences"
	printf '# the input pins float\nvfio_user.region.data region=bar2 offset=0x4-0x7\n' \
		>"$TEST_TMP/rules"
	run "$VFUCTL" replay --rules "$TEST_TMP/rules" "$trace" -- \
		"$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 0
	# a rule for another offset leaves it
	run "$VFUCTL" replay --ignore 'region.data offset=0x10' "$trace" -- \
		"$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 1
	assert_contains "vfio_user.region.data: recorded a5a50000, live a4a50000"
}

@test "replay: a server that crashes on a request is reported with that frame and the signal" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	frame=$(first_frame 'vfio_user.type == command && vfio_user.cmd == REGION_WRITE')
	start_server "$repo/tests/devices/gpio.json" "$TEST_TMP/backend"
	run "$VFUCTL" replay "$trace" -- python3 "$repo/tests/crashserver.py" \
		'{socket}' "$TEST_TMP/backend" 10
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 1, REGION_WRITE): the server closed the connection instead of answering frame $frame"
	assert_contains "server killed by SIGSEGV"
	assert_contains "1 failed; the last killed by SIGSEGV"
}

@test "replay: a server that stops answering is a divergence at the request after the timeout" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	frame=$(first_frame 'vfio_user.type == command && vfio_user.cmd == REGION_WRITE')
	start_server "$repo/tests/devices/gpio.json" "$TEST_TMP/backend"
	run "$VFUCTL" replay --timeout 300 "$trace" -- python3 "$repo/tests/crashserver.py" \
		'{socket}' "$TEST_TMP/backend" 10 hang
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 1, REGION_WRITE): no reply to frame $frame (REGION_WRITE) within 300 ms"
	# it ignores nothing: SIGTERM ends it at the end
	assert_contains "the last killed by SIGTERM"
}

@test "replay: a sanitizer report on the server's stderr fails the replay and is shown" {
	record gpio 'peek bar2 4'
	cat >"$TEST_TMP/srv.sh" <<-EOF
	#!/bin/sh
	echo "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1" >&2
	echo "    #0 0x1 in handler server.c:42" >&2
	exec "$VFUCTL" server "\$@" --device "$repo/tests/devices/gpio.json"
	EOF
	chmod +x "$TEST_TMP/srv.sh"
	run "$VFUCTL" replay "$trace" -- "$TEST_TMP/srv.sh"
	assert_status 1
	assert_contains "0 divergences"
	assert_contains "the server's stderr has a sanitizer report"
	assert_contains "#0 0x1 in handler server.c:42"
}

@test "replay: a server that exits with an error is a failure even when replies match" {
	record gpio 'peek bar2 4'
	cat >"$TEST_TMP/srv.sh" <<-EOF
	#!/bin/sh
	trap '' TERM	# ends when its server has served the one client
	"$VFUCTL" server "\$@" --device "$repo/tests/devices/gpio.json" --once
	exit 3
	EOF
	chmod +x "$TEST_TMP/srv.sh"
	run "$VFUCTL" replay "$trace" -- "$TEST_TMP/srv.sh"
	assert_status 1
	assert_contains "0 divergences"
	assert_contains "exited with status 3"
}

@test "replay: a server command that cannot run exits 2" {
	record gpio 'peek bar2 4'
	run "$VFUCTL" replay "$trace" -- "$TEST_TMP/no-such-server"
	assert_status 2
	assert_contains "cannot run '$TEST_TMP/no-such-server'"
}

@test "replay: a recorded interrupt that does not come is a divergence at its frame" {
	record gpio "$gpio_script"
	frame=$("$VFUCTL" dissect "$trace" | awk '/ IRQ INTx vector 0 signalled/ { print $1; exit }')
	[ -n "$frame" ]
	# the doorbell rings nothing
	jq 'del(.regions.bar2.registers[3].doorbell)' "$repo/tests/devices/gpio.json" \
		>"$TEST_TMP/quiet.json"
	run "$VFUCTL" replay --timeout 300 "$trace" -- "$VFUCTL" server --device "$TEST_TMP/quiet.json"
	assert_status 1
	assert_contains "frame $frame (connection 1): the interrupt of frame $frame (IRQ index 0 vector 0) did not come within 300 ms"
}

@test "replay: --update writes the live replies; replaying the new trace then is identical" {
	record gpio "$gpio_script"
	gpio_changed 0x0000a5a4
	run "$VFUCTL" replay --update -w "$TEST_TMP/new.pcap" "$trace" -- \
		"$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 0
	assert_contains "divergence 1"
	run "$VFUCTL" verify "$TEST_TMP/new.pcap"
	assert_status 0
	# the requests are the recorded ones, the replies the live ones
	[ "$(c2s_hex "$trace")" = "$(c2s_hex "$TEST_TMP/new.pcap")" ]
	run "$VFUCTL" dissect "$TEST_TMP/new.pcap"
	assert_contains "REGION_READ reply bar2+0x4 len 4 = 0x0000a5a4"
	run "$VFUCTL" replay "$TEST_TMP/new.pcap" -- "$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 0
	assert_contains "0 divergences"
	run "$VFUCTL" replay "$TEST_TMP/new.pcap" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
}

@test "replay: the server's DMA_READ gets the client memory the recording had" {
	record dma 'dma map --no-fd 0x100000 0x4000; dma fill 0x100000 16 0x5a;
		poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 1; poke bar0 0x10 1;
		read bar2 0 16; poke bar0 0xc 0; poke bar0 0 0x100100 8; poke bar0 0x10 1;
		dma unmap 0x100000 0x4000'
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == DMA_READ' "$trace"
	assert_contains "DMA_READ reply 0x100000 len 16"
	run "$VFUCTL" replay -k "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/dma.json"
	assert_status 0
	assert_contains "0 divergences"
}

@test "replay: the twin socket is taken where the recording negotiated it, and the server's DMA comes on it" {
	record dma 'dma map --no-fd 0x100000 0x4000; dma fill 0x100000 16 0x5a;
		poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 1; poke bar0 0x10 1;
		read bar2 0 16; poke bar0 0xc 0; poke bar0 0 0x100100 8; poke bar0 0x10 1' \
		"$trace" --twin-socket
	run "$VFUCTL" dissect -Y 'vfio_user.chan == twin' "$trace"
	assert_contains "DMA_READ command 0x100000 len 16"
	run --separate-stderr "$VFUCTL" replay -o json "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/dma.json"
	assert_status 0
	printf '%s\n' "$output" | jq -e '.divergences_total == 0 and .dma_served == 2'
}

@test "replay: a rotated trace replays across its files, from a later file too; a missing earlier file is named" {
	start_server "$repo/tests/devices/gpio.json"
	"$VFUCTL" record --listen "$TEST_TMP/r" --connect "$sock" -w "$TEST_TMP/ring.pcap" -C 1K \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/r" "$rec_pid" "$TEST_TMP/record.log"
	"$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10; poke bar2 0x10 8;
		peek bar2 0x10; poke bar2 0x10 9; peek bar2 0x10; peek bar2 4' "$TEST_TMP/r" >/dev/null
	kill -INT "$rec_pid"
	wait "$rec_pid"
	rec_pid=
	stop_server
	[ -f "$TEST_TMP/ring.pcap2" ]
	total=$(for f in "$TEST_TMP"/ring.pcap*; do "$VFUCTL" dissect -o jsonl "$f"; done |
		jq -s '[.[] | select(.kind == "message")] | length')
	for f in ring.pcap ring.pcap2; do
		run --separate-stderr "$VFUCTL" replay -o json "$TEST_TMP/$f" -- \
			"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
		assert_status 0
		printf '%s\n' "$output" | jq -e --argjson n "$total" \
			'.messages == $n and .divergences_total == 0 and .connections == 1'
	done
	# a divergence in a later file names it
	gpio_changed 0x0000a5a4
	run "$VFUCTL" replay -k "$TEST_TMP/ring.pcap" -- "$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 1
	[[ $output =~ \ of\ $TEST_TMP/ring\.pcap[1-9][0-9]*\ \(connection\ 1,\ REGION_READ\ reply ]]
	rm "$TEST_TMP/ring.pcap1"
	run "$VFUCTL" replay "$TEST_TMP/ring.pcap2" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 2
	assert_contains "$TEST_TMP/ring.pcap1, an earlier file of its ring, is missing"
}

@test "replay: --hash-dma hashes check what the server wrote into fd-backed memory: a note, or with --check-dma a divergence" {
	start_server "$repo/tests/devices/dma.json"
	"$VFUCTL" record --listen "$TEST_TMP/r" --connect "$sock" -w "$trace" --hash-dma=1M -v \
		3>&- 2>>"$TEST_TMP/record.log" &
	rec_pid=$!
	wait_socket "$TEST_TMP/r" "$rec_pid" "$TEST_TMP/record.log"
	# the DMA engine copies bar2's first 16 bytes into the memfd window
	"$VFUCTL" client -c 'dma map 0x100000 0x4000; poke bar0 0 0x100000 8;
		poke bar0 8 16; poke bar0 0xc 0; poke bar0 0x10 1;
		poll bar0 0x14 1 1 2000; dma unmap 0x100000 0x4000' "$TEST_TMP/r" >/dev/null
	wait_for "DMA hash at unmap" "$TEST_TMP/record.log"
	kill -INT "$rec_pid"
	wait "$rec_pid"
	rec_pid=
	stop_server
	"$VFUCTL" dissect "$trace" | grep -q "DMA hash at unmap"
	run --separate-stderr "$VFUCTL" replay -o json --check-dma "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/dma.json"
	assert_status 0
	printf '%s\n' "$output" | jq -e '.dma_hashes == 2 and .dma_hashes_differing == 0'
	# a device whose buffer holds other bytes writes other bytes
	sed 's/"init": "0011/"init": "ff11/' "$repo/tests/devices/dma.json" >"$TEST_TMP/dma2.json"
	run "$VFUCTL" replay "$trace" -- "$VFUCTL" server --device "$TEST_TMP/dma2.json"
	assert_status 0
	assert_contains "note: 1 of 2 DMA window hashes (--hash-dma) differ live"
	run "$VFUCTL" replay --check-dma "$trace" -- "$VFUCTL" server --device "$TEST_TMP/dma2.json"
	assert_status 1
	assert_contains "the DMA window at 0x100000 holds other data at unmap than recorded"
}

@test "replay: a lone mid-session file is refused with what is missing" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	"$VFUCTL" dissect -Y 'vfio_user.cmd == REGION_WRITE' -w "$TEST_TMP/mid.pcap" "$trace" >/dev/null
	run "$VFUCTL" replay "$TEST_TMP/mid.pcap" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 2
	assert_contains "the trace starts in the middle of connection 1"
	assert_contains "needs the connection's start"
	# without a STATE record: the first message is no VERSION
	"$VFUCTL" dissect -o jsonl "$trace" | jq -c 'select(.kind == "message")' |
		tail -n 4 >"$TEST_TMP/tail.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/tail.pcap" "$TEST_TMP/tail.jsonl"
	run "$VFUCTL" replay "$TEST_TMP/tail.pcap" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 2
	assert_contains "starts mid-session"
}

@test "replay: -o json has the counts, the divergence's fields and its context" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	gpio_changed 0x0000a5a4
	run --separate-stderr "$VFUCTL" replay -o json --digest "$trace" -- \
		"$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 1
	printf '%s\n' "$output" | jq -e '.sessions == 1 and .connections == 1 and
		.divergences_total == 1 and (.digest | length) == 64 and
		.divergences[0].kind == "field" and .divergences[0].cmd == "REGION_READ" and
		.divergences[0].differences[0].field == "vfio_user.region.data" and
		.divergences[0].differences[0].recorded == "a5a50000" and
		.divergences[0].differences[0].live == "a4a50000" and
		(.divergences[0].context | length) == 3 and
		.connection_results[0].divergences == 1 and .server.started == 1'
}

@test "replay: --junit writes well-formed JUnit XML, a test case per connection, a failure per divergence" {
	record gpio 'peek bar2 4; poke bar2 0x10 7; peek bar2 0x10'
	gpio_changed 0x0000a5a4
	run "$VFUCTL" replay -k --junit "$TEST_TMP/j.xml" "$trace" -- \
		"$VFUCTL" server --device "$TEST_TMP/gpio2.json"
	assert_status 1
	if command -v xmllint >/dev/null; then
		xmllint --noout "$TEST_TMP/j.xml"
	fi
	python3 - "$TEST_TMP/j.xml" <<-'EOF'
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	cases = root.findall("./testsuite/testcase")
	assert len(cases) == 1, cases
	fails = cases[0].findall("failure")
	assert len(fails) == 1 and "recorded a5a50000, live a4a50000" in fails[0].get("message"), fails
	assert root.find("testsuite").get("failures") == "1"
	EOF
	# and a clean run has no failure
	run "$VFUCTL" replay --junit "$TEST_TMP/ok.xml" "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	! grep -q '<failure' "$TEST_TMP/ok.xml"
	grep -q '<testcase ' "$TEST_TMP/ok.xml"
}

# le_hex_value HEX: the unsigned little-endian integer whose bytes HEX are
le_hex_value() {
	local hex=$1 v=0 i
	for ((i = ${#hex} - 2; i >= 0; i -= 2)); do
		v=$((v * 256 + 16#${hex:i:2}))
	done
	echo "$v"
}

@test "replay: a shift rule moves a command's time value by the time elapsed since the recording, as a later read shows" {
	local t0 t1 v
	t0=$(date +%s)
	record gpio 'poke bar2 0x10 0x1000 4; peek bar2 0x10 4'
	run "$VFUCTL" replay "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_contains " 0 divergences"
	# the register now holds what was written: 0x1000 plus the seconds
	# since the recording (rounded up) plus 0x100
	frame=$(first_frame 'vfio_user.type == reply && vfio_user.cmd == REGION_READ && vfio_user.region.offset == 0x10')
	run --separate-stderr "$VFUCTL" replay -o json \
		--shift 'region.data cmd=REGION_WRITE region=bar2 offset=0x10 unit=s width=4 plus=0x100' \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	t1=$(date +%s)
	assert_status 1
	printf '%s\n' "$output" | jq -e --argjson f "$frame" '.divergences_total == 1 and
		.shifted == 1 and .divergences[0].frame == $f and
		.divergences[0].differences[0].field == "vfio_user.region.data" and
		.divergences[0].differences[0].recorded == "00100000"'
	v=$(le_hex_value "$(printf '%s\n' "$output" | jq -r '.divergences[0].differences[0].live')")
	[ "$v" -ge $((0x1000 + 0x100 + 1)) ] && [ "$v" -le $((0x1000 + 0x100 + t1 - t0 + 1)) ] ||
		{ echo "live $v, elapsed at most $((t1 - t0 + 1)) s" >&2; false; }
	# a rule whose conditions select nothing changes nothing; in a rules
	# file, the same line; the unit counts (ms: a thousand times more)
	run "$VFUCTL" replay --shift 'region.data cmd=REGION_WRITE region=bar2 offset=0x20 unit=s' \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_not_contains "note: shifted"
	echo 'shift vfio_user.region.data cmd=REGION_WRITE region.count=4 unit=ms width=4 # in ms' >"$TEST_TMP/ms.rules"
	run --separate-stderr "$VFUCTL" replay -o json --rules "$TEST_TMP/ms.rules" \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	t1=$(date +%s)
	assert_status 1
	v=$(le_hex_value "$(printf '%s\n' "$output" | jq -r '.divergences[0].differences[0].live')")
	[ "$v" -ge $((0x1000 + 1)) ] && [ "$v" -le $((0x1000 + (t1 - t0 + 1) * 1000)) ] ||
		{ echo "live $v, elapsed at most $((t1 - t0 + 1)) s" >&2; false; }
}

@test "replay: a rule's FIELD=N condition selects messages by a field's value" {
	record gpio 'poke bar2 0x10 7 4; peek bar2 0x10 4; peek bar2 0x10 2'
	# no 2-byte write: nothing shifted
	run "$VFUCTL" replay -k --shift 'region.data cmd=REGION_WRITE region.count=2 unit=s width=2' \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_not_contains "note: shifted"
	# the 4-byte write: both reads see it
	run "$VFUCTL" replay -k --shift 'region.data cmd=REGION_WRITE region.count=4 unit=s width=2' \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "2 divergences"
	# and an ignore rule with one: only the 2-byte read is ignored
	run "$VFUCTL" replay -k --shift 'region.data cmd=REGION_WRITE unit=s width=2' \
		--ignore 'region.data cmd=REGION_READ region.count=2' \
		"$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "1 divergence"
	assert_contains "REGION_READ reply bar2+0x10 len 4"
}

@test "replay: bad shift and condition rules exit 2 naming the line and the word" {
	local line want
	while IFS='|' read -r line want; do
		printf '# a comment\nregion.data cmd=REGION_READ\n%s\n' "$line" >"$TEST_TMP/bad.rules"
		run "$VFUCTL" replay --rules "$TEST_TMP/bad.rules" "$trace" --connect "$TEST_TMP/none"
		assert_status 2
		assert_contains "bad.rules:3: $want"
	done <<-'EOF'
	shift region.data cmd=REGION_WRITE|shift vfio_user.region.data: unit= is missing (s, ms, us or ns
	shift region.data unit=h|'unit=h': not a unit (s, ms, us, ns)
	shift region.data unit=s width=3|'width=3': not 1, 2, 4 or 8 bytes
	shift region.data unit=s at=x|'at=x': not a number
	shift|shift: the field is missing
	shift * unit=s|shift *: not a data or integer field
	shift version.json unit=s|shift vfio_user.version.json: not a data or integer field
	shift region.offset unit=s width=4|shift vfio_user.region.offset: an integer field of 8 bytes takes no width= or at=
	region.data unit=s|'unit=s': only a shift rule takes it
	region.data nosuch=3|'nosuch=3': expected cmd=, region=, offset=, FIELD=N
	region.data region.data=3|'region.data=3': vfio_user.region.data is not an integer field
	region.data region.count=many|'region.count=many': not a number
	region.data cmd|'cmd': expected a condition
	EOF
	run "$VFUCTL" replay --shift 'region.data width=4' "$trace" --connect "$TEST_TMP/none"
	assert_status 2
	assert_contains "invalid --shift rule: shift vfio_user.region.data: unit= is missing"
}

# The corpus's migration with the source's register written as 0x12345679
# where the recording wrote 0x12345678: the source's state differs live.
migration_source_changed() {
	jq -c 'if .kind == "message" and .conn == 1 and .dir == "c2s"
		then .hex |= sub("78563412"; "79563412") else . end' \
		"$repo/traces/replay-migration.jsonl" >"$TEST_TMP/m.jsonl"
	"$VFUCTL" import -o "$trace" "$TEST_TMP/m.jsonl"
}

@test "replay: migration data is forwarded: the destination gets what the live source gave, unless --no-mig-forward" {
	migration_source_changed
	frame=$(first_frame 'vfio_user.conn == 2 && vfio_user.type == reply && vfio_user.cmd == REGION_READ')
	[ -n "$frame" ]
	# the source's state differs; the destination was written what the
	# live source gave for it, so it differs there too
	run --separate-stderr "$VFUCTL" replay -k -o json "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	printf '%s\n' "$output" | jq -e --argjson f "$frame" '.mig_forwarded == 1 and
		([.divergences[] | select(.conn == 1 and .cmd == "MIG_DATA_READ")] | length) == 1 and
		([.divergences[] | select(.conn == 2)] | length) == 1 and
		(.divergences[] | select(.conn == 2) | .frame == $f and
		 .differences[0].recorded == "78563412" and .differences[0].live == "79563412")'
	run "$VFUCTL" replay -k "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_contains "note: forwarded: 1 MIG_DATA_WRITE with the live data of the MIG_DATA_READ recorded with the same"
	# with the recorded data the destination is as recorded
	run --separate-stderr "$VFUCTL" replay -k -o json --no-mig-forward "$trace" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	printf '%s\n' "$output" | jq -e '.mig_forwarded == 0 and
		([.divergences[] | select(.conn == 2)] | length) == 0 and
		([.divergences[] | select(.conn == 1)] | length) == 1'
}

@test "replay: a server command the recording had and the live server does not send is a divergence at its frame" {
	"$VFUCTL" import -o "$trace" "$repo/traces/replay-dma.jsonl"
	frame=$(first_frame 'vfio_user.type == command && vfio_user.cmd == DMA_READ')
	[ -n "$frame" ]
	# gpio.json has no DMA engine to start
	run "$VFUCTL" replay -k --timeout 500 "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains ": frame $frame (connection 1, DMA_READ): the server did not send the DMA_READ command of frame $frame within 500 ms"
}

@test "replay: a fresh server per recorded session unless --spawn-once" {
	record gpio 'poke bar2 0x10 7; peek bar2 0x10' "$TEST_TMP/a.pcap"
	record gpio 'peek bar2 0x10' "$TEST_TMP/b.pcap"
	# two sessions in one trace
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/a.pcap" | jq -c 'select(.kind != "digest")' >"$TEST_TMP/ab.jsonl"
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/b.pcap" | jq -c 'select(.kind != "digest") | .conn = 2' >>"$TEST_TMP/ab.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/ab.pcap" "$TEST_TMP/ab.jsonl"
	# each recorded against a fresh server: the second read 0
	run "$VFUCTL" replay "$TEST_TMP/ab.pcap" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_contains "2 sessions, 2 connections"
	assert_contains "server: 2 started"
	# one server keeps what the first session wrote
	run "$VFUCTL" replay --spawn-once "$TEST_TMP/ab.pcap" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "server: 1 started"
	assert_contains "recorded 00000000, live 07000000"
}

# corpus_replay NAME: traces/NAME.jsonl (the replay corpus) replayed twice
# against a fresh vfuctl server with the device and the pinned digest of
# its line in traces/replay.digests: no divergence; its `vfuctl stats`
# is traces/NAME.stats.
corpus_replay() {
	local name device digest
	read -r _ device digest < <(grep "^$1\.jsonl " "$repo/traces/replay.digests")
	[ -n "$digest" ] || { echo "$1 is not in traces/replay.digests" >&2; false; }
	"$VFUCTL" import -o "$TEST_TMP/c.pcap" "$repo/traces/$1.jsonl"
	for _ in 1 2; do
		run "$VFUCTL" replay --expect-digest "$digest" "$TEST_TMP/c.pcap" -- \
			"$VFUCTL" server --device "$repo/tests/devices/$device.json"
		[ "$status" -eq 0 ] || { printf '%s\n' "$output" >&2; false; }
		assert_contains " 0 divergences"
	done
	"$VFUCTL" stats "$TEST_TMP/c.pcap" >"$TEST_TMP/c.stats"
	assert_golden "$repo/traces/$1.stats" "$TEST_TMP/c.stats"
}

@test "replay corpus: every trace in traces/ is listed in replay.digests, with its stats, and each subject's client output" {
	local f n=0 name
	for f in "$repo"/traces/replay-*.jsonl; do
		name=$(basename "$f" .jsonl)
		grep -q "^$name\.jsonl [a-z]* [0-9a-f]\{64\}$" "$repo/traces/replay.digests"
		[ -f "$repo/traces/$name.stats" ]
		n=$((n + 1))
	done
	[ "$n" -eq "$(grep -c '^replay-' "$repo/traces/replay.digests")" ]
	# one trace per subject, recorded by make-corpus.sh, its client's output kept
	while read -r name _; do
		[ -f "$repo/traces/replay-$name.jsonl" ] && [ -s "$repo/traces/replay-$name.out" ]
	done < <("$repo/traces/make-corpus.sh" --list)
	[ "$("$repo/traces/make-corpus.sh" --list | wc -l)" -ge 8 ]
}

@test "replay corpus: discovery" { corpus_replay replay-discovery; }
@test "replay corpus: peek and poke" { corpus_replay replay-peek-poke; }
@test "replay corpus: DMA both ways on the main channel" { corpus_replay replay-dma; }
@test "replay corpus: twin socket, DMA both ways on it" { corpus_replay replay-twin; }
@test "replay corpus: interrupts" { corpus_replay replay-interrupts; }
@test "replay corpus: reset" { corpus_replay replay-reset; }
@test "replay corpus: migration between two servers" { corpus_replay replay-migration; }
@test "replay corpus: error paths" { corpus_replay replay-errors; }
@test "replay corpus: replay-gpio (a combined session)" { corpus_replay replay-gpio; }
@test "replay corpus: replay-dma-twin (a combined session)" { corpus_replay replay-dma-twin; }

@test "replay corpus: make-corpus.sh records a subject anew with the same digest and client output" {
	mkdir "$TEST_TMP/corpus"
	run "$repo/traces/make-corpus.sh" -o "$TEST_TMP/corpus" reset migration
	assert_status 0
	for name in reset migration; do
		diff -u "$repo/traces/replay-$name.out" "$TEST_TMP/corpus/replay-$name.out"
		[ "$(grep "^replay-$name\.jsonl " "$TEST_TMP/corpus/replay.digests")" = \
			"$(grep "^replay-$name\.jsonl " "$repo/traces/replay.digests")" ]
	done
	run "$repo/traces/make-corpus.sh" -o "$TEST_TMP/corpus" nosuch
	assert_status 2
	assert_contains "no such subject 'nosuch'"
}

# The corpus's migration: the source's connection on endpoint 0, the
# destination's on endpoint 1 while the source's is open.
migration_trace() {
	"$VFUCTL" import -o "$trace" "$repo/traces/replay-migration.jsonl"
}

@test "replay: a migration's source and destination each get a server of their own (endpoints 0 and 1)" {
	migration_trace
	run "$VFUCTL" dissect "$trace"
	assert_contains "connection opened (endpoint 1"
	run "$VFUCTL" replay "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 0
	assert_contains "1 session, 2 connections"
	assert_contains "0 divergences"
	assert_contains "server: 2 started"
}

@test "replay: the migration destination's state is compared: other migration data is a divergence in its connection" {
	# the destination is given 0x12345679 where the source had 0x12345678
	jq -c 'if .kind == "message" and .conn == 2 and .dir == "c2s"
		then .hex |= sub("78563412"; "79563412") else . end' \
		"$repo/traces/replay-migration.jsonl" >"$TEST_TMP/m.jsonl"
	"$VFUCTL" import -o "$trace" "$TEST_TMP/m.jsonl"
	frame=$(first_frame 'vfio_user.conn == 2 && vfio_user.type == reply && vfio_user.cmd == REGION_READ')
	[ -n "$frame" ]
	run "$VFUCTL" replay "$trace" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 2, REGION_READ reply to frame $((frame - 1))): vfio_user.region.data: recorded 78563412, live 79563412"
}

@test "replay: --connect once per endpoint, in order; an endpoint without one is said" {
	migration_trace
	start_server "$repo/tests/devices/gpio.json" "$TEST_TMP/src"
	local p1=$srv_pid
	start_server "$repo/tests/devices/gpio.json" "$TEST_TMP/dst"
	srv_pid="$p1 $srv_pid"	# teardown stops both
	run "$VFUCTL" replay "$trace" --connect "$TEST_TMP/src" --connect "$TEST_TMP/dst"
	assert_status 0
	assert_contains "0 divergences"
	# a fresh source: the first replay has migrated the other one
	local p2=$srv_pid
	start_server "$repo/tests/devices/gpio.json" "$TEST_TMP/src2"
	srv_pid="$p2 $srv_pid"
	run "$VFUCTL" replay "$trace" --connect "$TEST_TMP/src2"
	assert_status 1
	assert_contains "connection 2 came through endpoint 1 of the recorder (a migration's destination, say): give a --connect SOCKET for each endpoint, in order (1 given)"
}

@test "replay: completion offers its options and their values" {
	run complete_words vfuctl replay --
	assert_contains "--connect"
	assert_contains "--expect-digest"
	assert_contains "--spawn-once"
	assert_contains "--junit"
	assert_contains "--shift"
	assert_contains "--no-mig-forward"
	run complete_words vfuctl replay --shift ""
	[ -z "$output" ]
	run complete_words vfuctl replay -o ""
	[ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "json text " ]
	run complete_words vfuctl replay --peer ""
	assert_contains "libvfio-user"
}

@test "replay: --help matches the man page's options" {
	run "$VFUCTL" replay --help
	assert_status 0
	local opt
	for opt in --connect --spawn-once --keep-going --timeout --ignore --rules \
		--shift --no-mig-forward --digest --expect-digest --output --junit --update --peer --check-dma; do
		assert_contains "$opt"
		grep -q -- "Fl -${opt#--}" "$repo/man/vfuctl-replay.1" ||
			{ echo "$opt not in vfuctl-replay.1" >&2; false; }
	done
}

@test "replay: a hostile trace (a DMA window of 1 TiB, a memfd of 2^62 bytes) is said, not obeyed" {
	# VERSION from the corpus, then DMA_MAP 0x100000+2^40 with a memfd
	head -n 3 "$repo/traces/replay-gpio.jsonl" >"$TEST_TMP/h.jsonl"
	cat >>"$TEST_TMP/h.jsonl" <<-'EOF2'
	{"kind":"message","conn":1,"dir":"c2s","seq":1,"fds":[{"kind":"memfd","size":4611686018427387904}],"hex":"050002003000000000000000000000002000000003000000000000000000000000001000000000000000000000010000"}
	{"kind":"message","conn":1,"dir":"s2c","seq":1,"fds":[],"hex":"05000200100000000100000000000000"}
	EOF2
	"$VFUCTL" import -o "$TEST_TMP/h.pcap" "$TEST_TMP/h.jsonl"
	run "$VFUCTL" replay "$TEST_TMP/h.pcap" -- "$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 1
	assert_contains "could not be sent: DMA window 0x100000+0x10000000000 at offset 0x0 is beyond what a replay backs (4 GiB)"
}
