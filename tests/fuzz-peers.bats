#!/usr/bin/env bats
# fuzz-peers.bats - what vfuctl fuzz found in libvfio-user's samples
# (../shared/peers), kept under traces/findings/: each finding replayed
# against a fresh gpio-pci-idio-16 and played by hand
# (traces/findings/lvu-peer.py), which must show the exact failure the
# report describes, while vfuctl server answers the same bytes; how the
# sample takes the descriptors of a joined write, and replay joining it
# again; and vfuctl fuzz keeping every finding of split delivery under
# one key.
# Without the peers these skip, except in CI (CI set), where that fails.

load helpers

GPIO=$PEERS/libvfio-user/gpio-pci-idio-16	# at efd091b
FINDINGS=$repo/traces/findings

setup() {
	require_peers libvfio-user/gpio-pci-idio-16
	pids=()
}

teardown() {
	kill_pids
}

# gpio SOCKET: a fresh gpio sample, its log in $TEST_TMP/gpio.log
gpio() {
	"$GPIO" -v "$1" 3>&- 2>"$TEST_TMP/gpio.log" &
	pids+=("$!")
	wait_socket "$1" "$!" "$TEST_TMP/gpio.log"
}

# vserver SOCKET: vfuctl server with the gpio device
vserver() {
	"$VFUCTL" server --socket-path "$1" \
		--device "$repo/tests/devices/gpio.json" 3>&- \
		2>"$TEST_TMP/server.log" &
	pids+=("$!")
	wait_socket "$1" "$!" "$TEST_TMP/server.log"
}

@test "fuzz-peers: libvfio-user leaves a rejected header's body in the stream" {
	run "$VFUCTL" replay -t 1000 "$FINDINGS/lvu-unread-body.pcap" -- \
		"$GPIO" -v '{socket}'
	assert_status 1
	assert_contains "divergence 1: frame 6 (connection 1, DEVICE_GET_INFO): no reply to frame 6 (DEVICE_GET_INFO) within 1000 ms"
	# by hand: the body is executed as a command, the next one swallowed
	gpio "$TEST_TMP/g"
	run python3 "$FINDINGS/lvu-peer.py" unread-body "$TEST_TMP/g"
	assert_status 0
	[ "$output" = $'reply 0x0002 4 22\nreply 0x0bad 13 22\nend' ]
	grep -q 'msg0xbad: short read: expected=4080, actual=32' "$TEST_TMP/gpio.log"
	# a server that frames by msg_size answers the command after it
	vserver "$TEST_TMP/v"
	run python3 "$FINDINGS/lvu-peer.py" unread-body "$TEST_TMP/v"
	[ "$output" = $'reply 0x0002 4 22\nreply 0x0003 4 0\nend' ]
}

@test "fuzz-peers: libvfio-user refuses a command whose body comes in a second write" {
	gpio "$TEST_TMP/g"
	run python3 "$FINDINGS/lvu-peer.py" split "$TEST_TMP/g"
	assert_status 0
	[ "$output" = $'reply 0x0002 4 22\nclosed' ]
	grep -q 'msg0x2: short read: expected=16, actual=4' "$TEST_TMP/gpio.log"
	# replay splits it where the annotation says: refused as recorded
	run "$VFUCTL" replay -t 1000 "$FINDINGS/lvu-split.pcap" -- \
		"$GPIO" -v '{socket}'
	assert_status 0
	assert_contains "note: split: 1 message sent in two writes"
	# --whole sends it in one write: answered, so the split is the cause
	run "$VFUCTL" replay --whole -t 1000 "$FINDINGS/lvu-split.pcap" -- \
		"$GPIO" -v '{socket}'
	assert_status 1
	assert_contains "divergence 1: frame 7 (connection 1, DEVICE_GET_INFO reply to frame 6)"
	assert_contains "recorded: DEVICE_GET_INFO reply error EINVAL"
	assert_contains "live:     DEVICE_GET_INFO reply regions 9 irqs 5"
	vserver "$TEST_TMP/v"
	run python3 "$FINDINGS/lvu-peer.py" split "$TEST_TMP/v"
	[ "$output" = $'reply 0x0002 4 0\nend' ]
}

@test "fuzz-peers: libvfio-user gives a joined write's descriptors to its first message; replay joins as recorded" {
	# tests/joinpeer.py: SET_IRQS and a DMA_MAP with its memfd in one
	# write (as vfuctl fuzz joins them): the sample maps the window
	# without the memfd (vaddr nil), which went to SET_IRQS
	local nofd='removing DMA region iova=\[0x100000, 0x104000) vaddr=(nil)'
	gpio "$TEST_TMP/g"
	python3 "$repo/tests/joinpeer.py" --trace "$TEST_TMP/g" >"$TEST_TMP/t.jsonl"
	wait_for "removing DMA region" "$TEST_TMP/gpio.log"
	grep -q -- "$nofd" "$TEST_TMP/gpio.log"
	"$VFUCTL" import -o "$TEST_TMP/t.pcap" "$TEST_TMP/t.jsonl"
	kill_pids
	pids=()
	# replayed: joined again, so mapped without it again
	gpio "$TEST_TMP/g2"
	run "$VFUCTL" replay -t 1000 "$TEST_TMP/t.pcap" --connect "$TEST_TMP/g2"
	assert_status 0
	assert_contains "note: joined: 1 message sent in one write with the next"
	wait_for "removing DMA region" "$TEST_TMP/gpio.log"
	grep -q -- "$nofd" "$TEST_TMP/gpio.log"
	kill_pids
	pids=()
	# --whole: the DMA_MAP has its memfd, and the window a mapping
	gpio "$TEST_TMP/g3"
	run "$VFUCTL" replay --whole -t 1000 "$TEST_TMP/t.pcap" --connect "$TEST_TMP/g3"
	assert_status 0
	wait_for "removing DMA region" "$TEST_TMP/gpio.log"
	grep -q -- 'removing DMA region iova=\[0x100000, 0x104000) vaddr=0x' "$TEST_TMP/gpio.log"
}

# keyed DIR: every finding in DIR that needs a split is under the split
# key, and at most one file is; prints how many are (0 or 1)
keyed() {
	local f n=0
	for f in "$1"/*.txt; do
		[ -e "$f" ] || continue
		if grep -q '^key: split delivery$' "$f"; then
			grep -q '^what: .*, only when a message comes in two writes$' "$f" ||
				{ echo "$f: keyed split, but its what says not" >&2; return 1; }
			n=$((n + 1))
		elif grep -q 'only when a message comes in two writes' "$f"; then
			echo "$f: needs a split, but is not keyed so" >&2
			return 1
		fi
	done
	[ "$n" -le 1 ] || { echo "$1: $n files under the split key" >&2; return 1; }
	echo "$n"
}

@test "fuzz-peers: vfuctl fuzz keeps every split-delivery finding under one key" {
	# Which of the sample's bugs 200 execs meet depends on when it reads
	# (a quiet machine meets the split one every time; under ASan on a
	# loaded one, 1 run in 3 did), so each run is checked for what always
	# holds, and the seed-1 run is tried up to 3 times for a split
	# finding to check.  tests/fuzz.bats shows a split finding found
	# every time, against tests/splitshy.py.
	local try n
	for try in 1 2 3; do
		rm -rf "$TEST_TMP/f"
		run "$VFUCTL" fuzz -q -n 200 --seed 1 -t 1000 --no-minimize \
			-d "$TEST_TMP/f" -- "$GPIO" -v '{socket}'
		[ "$status" -le 1 ] || assert_status 1
		assert_contains "200 execs, "
		grep -h '^key:' "$TEST_TMP"/f/*.txt 2>/dev/null || true
		n=$(keyed "$TEST_TMP/f")
		[ "$n" = 0 ] || break
	done
	[ "$n" = 1 ] || skip "no split-delivery finding in 3 runs on this machine"
	assert_status 1
}
