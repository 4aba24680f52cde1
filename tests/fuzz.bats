#!/usr/bin/env bats
# fuzz.bats - vfuctl fuzz: the planted bugs of tests/buggy-server.c found
# with a fixed seed and budget, each finding replayed to the same crash or
# hang; vfuctl server with each shipped device survives a fixed budget;
# --connect, seeds, JSON, determinism and usage errors.

load helpers

BUGGY=${BUGGY:-$(dirname "$UNIT_DIR")/buggy-server}
# make asan runs the suite with ASAN_OPTIONS set (the tests reset it):
# there vfuctl itself is the slow sanitized build
under_sanitizer=${ASAN_OPTIONS:+1}
[ -x "$BUGGY" ] || BUGGY=$repo/tests/buggy-server

setup() {
	srv_pid=
	pids=()
	# unsymbolized sanitizer reports: a crash costs 0.1 s, not 1 s
	export ASAN_OPTIONS=symbolize=0:detect_leaks=0
}

teardown() {
	kill_pids
	if [ -n "$srv_pid" ]; then
		kill -KILL "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
}

# the report of the finding whose "what" line matches $1
report_of() {
	grep -l -- "$1" "$TEST_TMP"/found/*.txt | head -n 1
}

@test "fuzz: a hang after a No_reply command is that command's, not the next one's" {
	[ -x "$BUGGY" ] || skip "no $BUGGY (make units)"
	[ -z "$under_sanitizer" ] || skip "which execs hang differs under a sanitizer"
	# with this seed the planted SET_IRQS hang comes once with No_reply,
	# the DEVICE_GET_INFO after it then unanswered: one hang, one key
	run "$VFUCTL" fuzz -q -n 700 --seed 5 -t 300 --no-minimize \
		-d "$TEST_TMP/found" -- "$BUGGY"
	assert_status 1
	run grep -h '^key: hang' "$TEST_TMP"/found/*.txt
	[ "$output" = "key: hang|0|DEVICE_SET_IRQS" ]
}

@test "fuzz: finds the three planted bugs, each replays to the same end" {
	[ -x "$BUGGY" ] || skip "no $BUGGY (make units)"
	# the structure-aware mutator finds each within 300 execs here
	# (SET_IRQS from the IRQ info, writes at powers of two in bar0)
	run "$VFUCTL" fuzz -q -n 400 --seed 1 -d "$TEST_TMP/found" -- "$BUGGY"
	assert_status 1
	ls "$TEST_TMP/found"
	# A sanitized vfuctl is several times slower: hangs and restarts come
	# at other execs, so which of the three a fixed budget finds differs.
	# It must still find, and not crash itself; the rest is make check's.
	if [ -n "$under_sanitizer" ]; then
		compgen -G "$TEST_TMP/found/*.pcap" >/dev/null
		return 0
	fi
	# the sanitizer tells the two heap overflows apart
	crash_info=$(report_of 'READ of size 4')
	crash_write=$(report_of 'WRITE of size')
	hang=$(report_of 'no reply to DEVICE_SET_IRQS')
	[ -n "$crash_info" ] && [ -n "$crash_write" ] && [ -n "$hang" ]
	for r in "$crash_info" "$crash_write"; do
		run "$VFUCTL" replay -t 5000 "${r%.txt}.pcap" -- "$BUGGY"
		assert_status 1
		assert_contains "the server closed the connection instead of answering"
		# ASan's exit code: 1, or what ASAN_OPTIONS says (make asan: 86)
		[[ $output =~ server\ exited\ with\ status\ [1-9] ]]
	done
	run "$VFUCTL" replay -t 1000 "${crash_write%.txt}.pcap" -- "$BUGGY"
	assert_contains "REGION_WRITE): the server closed the connection"
	run "$VFUCTL" replay -t 1000 "${crash_info%.txt}.pcap" -- "$BUGGY"
	assert_contains "DEVICE_GET_REGION_INFO): the server closed the connection"
	run "$VFUCTL" replay -t 1000 "${hang%.txt}.pcap" -- "$BUGGY"
	assert_status 1
	assert_contains "DEVICE_SET_IRQS): no reply to frame"
	# minimized to VERSION and the SET_IRQS (tried first: a hang costs
	# a timeout per try)
	run "$VFUCTL" dissect -Y 'vfio_user.flags == 0' "${hang%.txt}.pcap"
	[ "$(grep -c 'C->S' <<<"$output")" -eq 2 ]
	assert_contains "DEVICE_SET_IRQS command MSI-X"
}

@test "fuzz: a trace says a message went in one write with the next only when it did" {
	[ -x "$BUGGY" ] || skip "no $BUGGY (make units)"
	local f n total=0
	run "$VFUCTL" fuzz -q -n 400 --seed 1 --no-minimize -d "$TEST_TMP/found" -- "$BUGGY"
	assert_status 1
	for f in "$TEST_TMP"/found/*.pcap; do
		# each such annotation: the next two records are the messages
		n=$("$VFUCTL" dissect -o jsonl "$f" | jq -se '
			[. as $r | range(0; length) | select($r[.].kind == "annotation" and
			  ($r[.].text | startswith("vfuctl fuzz: the next message went in one write")))
			 | [$r[. + 1], $r[. + 2]] | all(.kind == "message" and .dir == "c2s")]
			| if all then length else error("a join annotation without two messages") end')
		total=$((total + n))
	done
	# seed 1 joins in one finding here; a sanitized vfuctl meets others
	[ "$total" -ge 1 ] || [ -n "$under_sanitizer" ]
}

@test "fuzz: a finding is minimized to the prefix it needs" {
	[ -x "$BUGGY" ] || skip "no $BUGGY (make units)"
	run "$VFUCTL" fuzz -q -n 200 --seed 1 -d "$TEST_TMP/found" -- "$BUGGY"
	assert_status 1
	r=$(report_of 'on DEVICE_GET_REGION_INFO')
	[ -n "$r" ]
	# VERSION and the region info past the last region are enough
	run "$VFUCTL" dissect -Y 'vfio_user.flags == 0' "${r%.txt}.pcap"
	assert_contains "VERSION command"
	assert_contains "DEVICE_GET_REGION_INFO command region 9"
	[ "$(grep -c 'C->S' <<<"$output")" -le 3 ]
}

@test "fuzz: a server that cannot take a message in pieces is one finding" {
	# tests/splitshy.py refuses a body that comes in a second write, as
	# libvfio-user does (traces/findings/lvu-split.txt), in front of
	# vfuctl server, which takes it
	start_server gpio "$TEST_TMP/backend"
	run "$VFUCTL" fuzz -q -n 300 --seed 1 -t 1000 --no-minimize \
		-d "$TEST_TMP/found" -- python3 "$repo/tests/splitshy.py" \
		'{socket}' "$TEST_TMP/backend"
	assert_status 1
	grep -h '^key:' "$TEST_TMP"/found/*.txt
	# every finding it causes under one key, whatever command it hit
	[ "$(grep -l '^key: split delivery$' "$TEST_TMP"/found/*.txt |
		wc -l)" -eq 1 ]
	grep -q '^what: .*, only when a message comes in two writes$' \
		"$TEST_TMP"/found/*.txt
	# the trace says where the message was split; replay splits it there
	f=$(grep -l '^key: split delivery$' "$TEST_TMP"/found/*.txt)
	"$VFUCTL" dissect "${f%.txt}.pcap" | grep -Eq \
		'annotation: vfuctl fuzz: the next message went in two writes, its descriptors with the second(: the first [0-9]+ bytes alone)?$'
	run "$VFUCTL" replay -o json -t 1000 "${f%.txt}.pcap" -- python3 \
		"$repo/tests/splitshy.py" '{socket}' "$TEST_TMP/backend"
	[ "$status" -le 1 ]
	printf '%s\n' "$output" | jq -e '.split >= 1'
}

# shy_trace DEVICE SCRIPT ARG...: vfuctl server with DEVICE behind
# tests/splitshy.py; python3 SCRIPT ARG... SOCKET's trace lines, imported
# to $TEST_TMP/t.pcap; shy_cmd: the command that starts another splitshy
shy_trace() {
	local dev=$1 shy
	shift
	start_server "$dev" "$TEST_TMP/backend"
	python3 "$repo/tests/splitshy.py" "$TEST_TMP/shy" "$TEST_TMP/backend" 3>&- &
	shy=$!
	pids+=("$shy")
	wait_socket "$TEST_TMP/shy" "$shy"
	python3 "$@" "$TEST_TMP/shy" >"$TEST_TMP/t.jsonl"
	kill "$shy"
	wait "$shy" || true
	"$VFUCTL" import -o "$TEST_TMP/t.pcap" "$TEST_TMP/t.jsonl"
	shy_cmd=(python3 "$repo/tests/splitshy.py" '{socket}' "$TEST_TMP/backend")
}

@test "fuzz: replay sends a message the fuzzer split in two writes again, so the server fails as recorded" {
	# lvu-peer.py splits a DEVICE_GET_INFO after 20 bytes and annotates
	# the trace as vfuctl fuzz does; splitshy.py refuses the short body
	shy_trace gpio "$repo/traces/findings/lvu-peer.py" --trace split
	"$VFUCTL" dissect "$TEST_TMP/t.pcap" | grep -q "DEVICE_GET_INFO reply error EINVAL"
	run "$VFUCTL" replay -t 5000 "$TEST_TMP/t.pcap" -- "${shy_cmd[@]}"
	assert_status 0
	assert_contains "note: split: 1 message sent in two writes"
	run "$VFUCTL" replay --whole -t 5000 "$TEST_TMP/t.pcap" -- "${shy_cmd[@]}"
	assert_status 1
	assert_contains "live:     DEVICE_GET_INFO reply regions"
}

@test "fuzz: replay sends messages the fuzzer joined in one write again, the descriptors with the first" {
	# joinpeer.py sends SET_IRQS and a DMA_MAP with its memfd in one
	# write, annotated as vfuctl fuzz does; splitshy.py reads a header
	# with one recvmsg() as libvfio-user does, so the memfd comes with
	# SET_IRQS, which takes none: EINVAL
	shy_trace dma "$repo/tests/joinpeer.py" --trace
	"$VFUCTL" dissect "$TEST_TMP/t.pcap" | grep -q "DEVICE_SET_IRQS reply error EINVAL"
	run "$VFUCTL" replay -t 5000 "$TEST_TMP/t.pcap" -- "${shy_cmd[@]}"
	assert_status 0
	assert_contains "note: joined: 1 message sent in one write with the next"
	run "$VFUCTL" replay -o json -t 5000 "$TEST_TMP/t.pcap" -- "${shy_cmd[@]}"
	printf '%s\n' "$output" | jq -e '.joined == 1 and .divergences_total == 0'
	# one write each: SET_IRQS is answered, so the join is the cause
	run "$VFUCTL" replay --whole -t 5000 "$TEST_TMP/t.pcap" -- "${shy_cmd[@]}"
	assert_status 1
	assert_contains "recorded: DEVICE_SET_IRQS reply error EINVAL"
	assert_contains "live:     DEVICE_SET_IRQS reply"
	assert_not_contains "note: joined"
	# vfuctl server gives a read's descriptors to its last message
	run "$VFUCTL" replay -t 5000 "$TEST_TMP/t.pcap" --connect "$TEST_TMP/backend"
	assert_status 1
	assert_contains "live:     DEVICE_SET_IRQS reply"
}

@test "fuzz: vfuctl server with each shipped device survives, no finding" {
	local dev
	for dev in "$repo"/tests/devices/*.json; do
		run "$VFUCTL" fuzz -q -n 20000 --seed 7 -t 5000 \
			-d "$TEST_TMP/none" -- "$VFUCTL" server --device "$dev"
		echo "$dev: $output"
		assert_status 0
		assert_contains "20000 execs"
		assert_contains "; 0 findings"
	done
	[ ! -e "$TEST_TMP/none" ]
}

@test "fuzz: the same seed gives the same run" {
	local a b
	a=$("$VFUCTL" fuzz -q -n 2000 --seed 3 -o json -- "$VFUCTL" server \
		--device "$repo/tests/devices/dma.json" | jq -c 'del(.seconds)')
	b=$("$VFUCTL" fuzz -q -n 2000 --seed 3 -o json -- "$VFUCTL" server \
		--device "$repo/tests/devices/dma.json" | jq -c 'del(.seconds)')
	echo "$a"
	[ "$a" = "$b" ]
	[ "$(jq .execs <<<"$a")" = 2000 ]
	[ "$(jq .findings <<<"$a")" = 0 ]
	[ "$(jq '.commands >= 8' <<<"$a")" = true ]
}

@test "fuzz: --fresh conn and --fresh process: every exec on a new connection, or a new server" {
	run "$VFUCTL" fuzz -q -n 60 --fresh conn -o json -- "$VFUCTL" server \
		--device "$repo/tests/devices/gpio.json"
	assert_status 0
	# one connection to learn the device, then one an exec
	jq -e '.execs == 60 and .reconnects == 61 and .restarts == 0' <<<"$output"
	run "$VFUCTL" fuzz -q -n 60 --fresh process -o json -- "$VFUCTL" server \
		--device "$repo/tests/devices/gpio.json"
	assert_status 0
	jq -e '.execs == 60 and .reconnects == 61 and .restarts == 59' <<<"$output"
	# without --fresh a connection serves 16 execs
	run "$VFUCTL" fuzz -q -n 60 -o json -- "$VFUCTL" server \
		--device "$repo/tests/devices/gpio.json"
	jq -e '.reconnects < 10 and .restarts == 0' <<<"$output"
	run "$VFUCTL" fuzz --fresh process --connect "$TEST_TMP/s"
	assert_status 2
	assert_contains "--fresh process starts the server"
	run "$VFUCTL" fuzz --fresh sometimes -- true
	assert_status 2
	assert_contains "invalid --fresh (conn or process) 'sometimes'"
}

@test "fuzz: --connect to a running server" {
	start_server gpio "$TEST_TMP/s"
	run "$VFUCTL" fuzz -q -n 1000 -t 5000 --connect "$TEST_TMP/s"
	assert_status 0
	assert_contains "1000 execs"
	kill -0 "$srv_pid"
}

@test "fuzz: --seeds takes a trace's commands and its prefix" {
	"$VFUCTL" import -o "$TEST_TMP/seed.pcap" "$repo/traces/replay-gpio.jsonl"
	run "$VFUCTL" fuzz -q -n 500 -t 5000 -o json \
		--seeds "$TEST_TMP/seed.pcap" -- "$VFUCTL" server \
		--device "$repo/tests/devices/gpio.json"
	assert_status 0
	[ "$(jq '.seed_messages > 5' <<<"$output")" = true ]
	run "$VFUCTL" fuzz -q -n 5 --seeds "$TEST_TMP/nope.pcap" -- \
		"$VFUCTL" server --device "$repo/tests/devices/gpio.json"
	assert_status 2
	assert_contains "nope.pcap"
}

@test "fuzz: usage errors exit 2" {
	run "$VFUCTL" fuzz -n 5
	assert_status 2
	assert_contains "give either --connect SOCKET or -- SERVER-CMD"
	run "$VFUCTL" fuzz --connect x -- true
	assert_status 2
	run "$VFUCTL" fuzz --time 5x -- true
	assert_status 2
	assert_contains "invalid --time '5x'"
	run "$VFUCTL" fuzz -n 5 -- /nonexistent/server
	assert_status 2
	assert_contains "cannot run '/nonexistent/server'"
}

@test "schema -o dict: a dictionary AFL++ and libFuzzer read, from the model" {
	run --separate-stderr "$VFUCTL" schema -o dict
	assert_status 0
	# every line a comment or name="bytes" with \xHH or \" escapes only
	bad=$(grep -v '^#' <<<"$output" |
		grep -vE '^[A-Za-z0-9_]+="([^"\\]|\\x[0-9a-f]{2}|\\")*"$' || true)
	[ -z "$bad" ]
	assert_contains 'cmd_REGION_WRITE="\x0a\x00"'
	assert_contains 'region_index_config="\x07\x00\x00\x00"'
	assert_contains 'json_max_msg_fds="\"max_msg_fds\""'
	[ "$(grep -c '^cmd_' <<<"$output")" -ge 17 ]
}
