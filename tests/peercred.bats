#!/usr/bin/env bats
# peercred.bats - who may connect: vfuctl server and vfuctl record check
# every connection's SO_PEERCRED (root and their own uid by default,
# --allow-uid and --allow-any-uid for others), which matters most for
# abstract sockets, which have no file mode.  Runs clients as nobody
# (uid 65534) with setpriv, so needs root.

load helpers

GPIO=tests/devices/gpio.json

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run a client as another uid"
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	name=vfuctl-peercred-$BATS_TEST_NUMBER-$$
	pids=()
}

teardown() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# serve NAME [OPTION...]: vfuctl server with gpio on @NAME, stderr in
# $TEST_TMP/NAME.log
serve() {
	local n=$1
	shift
	"$VFUCTL" server --socket-path "@$n" --device "$GPIO" "$@" \
		2> "$TEST_TMP/$n.log" &
	pids+=($!)
	wait_abstract "$n"
}

# as_nobody ARGS...: vfuctl as uid/gid 65534 with no groups
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$VFUCTL" "$@"
}

@test "server on an abstract socket refuses another uid by default and logs it" {
	serve "$name"
	run --separate-stderr as_nobody client -c 'peek bar2 4' "@$name"
	assert_status 1
	run cat "$TEST_TMP/$name.log"
	[[ $output =~ refused\ pid\ [0-9]+\ uid\ 65534:\ only\ root ]] ||
		{ echo "$output" >&2; false; }
	# root still gets in
	run "$VFUCTL" client -c 'peek bar2 4' "@$name"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
}

@test "server --allow-uid and --allow-any-uid let another uid in" {
	serve "$name" --allow-uid 65534
	run as_nobody client -c 'peek bar2 4' "@$name"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	serve "$name-any" --allow-any-uid
	run as_nobody client -c 'peek bar2 4' "@$name-any"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	# another uid than the one allowed is still refused
	serve "$name-other" --allow-uid nobody
	run setpriv --reuid=65533 --regid=65533 --clear-groups "$VFUCTL" \
		client -c 'peek bar2 4' "@$name-other"
	assert_status 1
}

@test "--mode with an abstract socket is a usage error; bad --allow-uid too" {
	run --separate-stderr "$VFUCTL" server --socket-path "@$name" \
		--device "$GPIO" --mode 0666
	assert_status 2
	[[ $stderr == *"--mode applies to a socket file only"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "@$name" \
		--device "$GPIO" --allow-uid no-such-user-here
	assert_status 2
	[[ $stderr == *"invalid --allow-uid 'no-such-user-here'"* ]]
	run --separate-stderr "$VFUCTL" record --listen "@$name" --connect \
		"@$name-srv" -w "$TEST_TMP/t.pcap" $(printf -- '--allow-uid %d ' $(seq 33))
	assert_status 2
	[[ $stderr == *"too many --allow-uid (at most 32)"* ]]
}

@test "record --listen on an abstract socket refuses another uid unless allowed" {
	serve "$name-srv"
	"$VFUCTL" record --listen "@$name" --connect "@$name-srv" \
		-w "$TEST_TMP/t.pcap" 2> "$TEST_TMP/rec.log" &
	pids+=($!)
	wait_abstract "$name"
	run as_nobody client -c 'peek bar2 4' "@$name"
	assert_status 1
	run cat "$TEST_TMP/rec.log"
	[[ $output =~ refused\ pid\ [0-9]+\ uid\ 65534\ on\ \'@$name\' ]] ||
		{ echo "$output" >&2; false; }

	"$VFUCTL" record --listen "@$name-ok" --connect "@$name-srv" \
		-w "$TEST_TMP/t2.pcap" --allow-uid 65534 2> "$TEST_TMP/rec2.log" &
	pids+=($!)
	wait_abstract "$name-ok"
	run as_nobody client -c 'peek bar2 4' "@$name-ok"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
}

@test "record --allow-uid and --allow-any-uid are in --help and completion" {
	run "$VFUCTL" record --help
	assert_contains "--allow-uid UID"
	assert_contains "--allow-any-uid"
	run "$VFUCTL" server --help
	assert_contains "--allow-uid UID"
	assert_contains "--allow-any-uid"
	run complete_words vfuctl record --
	assert_contains --allow-uid
	assert_contains --allow-any-uid
}
