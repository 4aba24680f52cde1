#!/usr/bin/env bats
# cli.bats - the contract every vfuctl subcommand keeps (git's t0012-help.sh
# and t0450-txt-doc-vs-help.sh are the models): -h and --help, a man page
# that lints clean and whose SYNOPSIS names the command, exact names only,
# exit codes, completion.

load helpers

# The subcommands in vfuctl's table, one per line.
commands() {
	"$VFUCTL" --list-commands
}

# man_synopsis PAGE: the SYNOPSIS section of PAGE as plain text.
man_synopsis() {
	mandoc -T ascii "$1" | sed 's/.\x08//g' |
		sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d'
}

@test "--list-commands lists decode and schema" {
	run commands
	assert_status 0
	[[ $output == *decode* ]]
	[[ $output == *schema* ]]
}

@test "every subcommand answers --help and -h with its usage on stdout" {
	local cmd opt bad=0
	for cmd in $(commands); do
		for opt in --help -h; do
			run --separate-stderr "$VFUCTL" "$cmd" "$opt"
			if [ "$status" -ne 0 ]; then
				echo "vfuctl $cmd $opt: exit status $status" >&2
				bad=1
			elif [[ ${lines[0]:-} != "usage: vfuctl $cmd"* ]]; then
				echo "vfuctl $cmd $opt: first line '${lines[0]:-}'" >&2
				bad=1
			fi
		done
	done
	[ "$bad" -eq 0 ]
}

@test "vfuctl help CMD prints the command's usage" {
	local cmd
	for cmd in $(commands); do
		run "$VFUCTL" help "$cmd"
		assert_status 0
		[[ ${lines[0]} == "usage: vfuctl $cmd"* ]]
	done
}

@test "every subcommand has a man page that lints clean" {
	local cmd page out bad=0
	for cmd in $(commands); do
		page=$repo/man/vfuctl-$cmd.1
		if [ ! -f "$page" ]; then
			echo "missing man page $page" >&2
			bad=1
			continue
		fi
		out=$(mandoc -T lint -W warning "$page" 2>&1)
		if [ -n "$out" ]; then
			printf '%s\n' "$out" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "every subcommand's man page SYNOPSIS names the subcommand" {
	local cmd page bad=0
	for cmd in $(commands); do
		page=$repo/man/vfuctl-$cmd.1
		[ -f "$page" ] || { echo "missing $page" >&2; bad=1; continue; }
		if ! man_synopsis "$page" | grep -q "vfuctl $cmd\b"; then
			echo "SYNOPSIS of $page does not mention 'vfuctl $cmd'" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "vfuctl.1 lints clean and lists every subcommand" {
	run mandoc -T lint -W warning "$repo/man/vfuctl.1"
	assert_status 0
	[ -z "$output" ]
	run bash -c "mandoc -T ascii '$repo/man/vfuctl.1' | sed 's/.\x08//g'"
	local cmd
	for cmd in $(commands); do
		assert_contains "vfuctl-$cmd(1)"
	done
}

@test "README mentions every subcommand" {
	local cmd
	run cat "$repo/README.md"
	for cmd in $(commands); do
		assert_contains "vfuctl $cmd"
	done
}

@test "an unknown subcommand exits 2 and names it" {
	run --separate-stderr "$VFUCTL" no-such-command
	assert_status 2
	[[ $stderr == *"unknown command 'no-such-command'"* ]]
	[ -z "$output" ]
}

@test "subcommand names are not matched by prefix" {
	run "$VFUCTL" dec
	assert_status 2
	assert_contains "unknown command 'dec'"
}

@test "an unknown top-level option exits 2 and names it" {
	run "$VFUCTL" --frobnicate
	assert_status 2
	assert_contains "'--frobnicate'"
}

@test "help for an unknown subcommand exits 2" {
	run "$VFUCTL" help no-such-command
	assert_status 2
	assert_contains "unknown command 'no-such-command'"
}

@test "vfuctl --version prints the version" {
	run "$VFUCTL" --version
	assert_status 0
	[[ $output =~ ^vfuctl\ [0-9]+\.[0-9]+ ]]
}

@test "vfuctl --help and vfuctl help list every subcommand" {
	local cmd
	for args in --help -h help; do
		run --separate-stderr "$VFUCTL" $args
		assert_status 0
		[[ ${lines[0]} == "usage: vfuctl"* ]]
		for cmd in $(commands); do
			assert_contains "   $cmd "
		done
	done
}

@test "vfuctl without arguments prints usage to stderr and exits 2" {
	run --separate-stderr "$VFUCTL"
	assert_status 2
	[ -z "$output" ]
	[[ $stderr == "usage: vfuctl"* ]]
}

@test "completion offers every subcommand" {
	local cmd
	run complete_words vfuctl ""
	assert_status 0
	for cmd in $(commands); do
		[[ $'\n'$output$'\n' == *$'\n'$cmd$'\n'* ]] ||
			{ echo "'$cmd' not offered: $output" >&2; false; }
	done
	run complete_words vfuctl de
	assert_status 0
	[ "$output" = decode ]
}

@test "completion offers decode's options and their values" {
	run complete_words vfuctl decode --
	assert_status 0
	assert_contains --peer
	assert_contains --byte-order
	assert_contains --help
	run complete_words vfuctl decode --peer ""
	[ "$(echo $output)" = "auto spec libvfio-user qemu" ]
	run complete_words vfuctl decode --byte-order ""
	[ "$(echo $output)" = "le be" ]
	run complete_words vfuctl decode -o ""
	[ "$(echo $output)" = "text json" ]
}

@test "completion offers schema's options and their values" {
	run complete_words vfuctl schema -
	assert_status 0
	assert_contains -o
	assert_contains --help
	run complete_words vfuctl schema -o ""
	[ "$(echo $output)" = "json lua dict" ]
}

@test "options go before or after the operands (GNU order); -- ends them" {
	require_vectors gpio-probe-full.jsonl
	local t=$TEST_TMP/g.pcap
	"$VFUCTL" import "$VECTORS/gpio-probe-full.jsonl" -o "$t"
	[ -s "$t" ]
	run "$VFUCTL" dissect "$t" -V -c 2
	assert_status 0
	[ "$output" = "$("$VFUCTL" dissect -V -c 2 "$t")" ]
	run "$VFUCTL" stats "$t" -o json
	assert_status 0
	jq -e .messages <<<"$output" >/dev/null
	run "$VFUCTL" verify "$t" -q
	assert_status 0
	"$VFUCTL" dissect -o jsonl "$t" | head -n 3 >"$TEST_TMP/h.jsonl"
	run "$VFUCTL" decode "$TEST_TMP/h.jsonl" -o json
	assert_status 0
	# after --, a name that looks like an option is a file
	cp "$t" "$TEST_TMP/-V.pcap"
	cd "$TEST_TMP"
	run "$VFUCTL" dissect -c 1 -- -V.pcap
	assert_status 0
	assert_contains "VERSION command"
	run "$VFUCTL" dissect "$t" -V extra
	assert_status 2
	assert_contains "too many operands"
}

@test "client, server and record take options after their operands; record's server command stays after --" {
	local sock=$TEST_TMP/s srv
	"$VFUCTL" server --socket-path "$sock" --device "$repo/tests/devices/gpio.json" 3>&- \
		>"$TEST_TMP/server.log" 2>&1 &
	srv=$!
	wait_socket "$sock" "$srv" "$TEST_TMP/server.log"
	run "$VFUCTL" client "$sock" -c 'peek bar2 4'
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	run "$VFUCTL" peek "$sock" bar2 4 --json
	assert_status 0
	jq -e . <<<"$output" >/dev/null
	kill "$srv"; wait "$srv" || true
	# record: an option after -- belongs to the server's command
	"$VFUCTL" record --listen "$TEST_TMP/r" -w "$TEST_TMP/t.pcap" --connect "$sock" -- \
		"$VFUCTL" server --socket-path "$sock" --device "$repo/tests/devices/gpio.json" -v \
		3>&- 2>"$TEST_TMP/record.log" &
	local rec=$!
	wait_socket "$TEST_TMP/r" "$rec" "$TEST_TMP/record.log"
	run "$VFUCTL" client -c 'peek bar2 4' "$TEST_TMP/r"
	assert_status 0
	kill -INT "$rec"; wait "$rec" || true
	run "$VFUCTL" record --listen a stray --connect b -w x -- true
	assert_status 2
	assert_contains "unexpected argument 'stray'"
	run "$VFUCTL" record --listen a --connect b -w x --
	assert_status 2
	assert_contains "nothing after --"
}
