#!/usr/bin/env bats
# fuzz-afl.bats - vfuctl fuzz guided by AFL++ coverage: against the
# planted-bug server built with afl-clang-fast (tests/buggy-server-afl)
# it reports guided mode, edges and inputs kept for new coverage, and
# finds the planted bugs; against the plain build, with --no-coverage, or
# with a server whose map stays empty it is black-box and says so.  The
# environment the server gets (__AFL_SHM_ID, AFL_MAP_SIZE) is checked
# through a wrapper script, which needs no AFL++.

load helpers

build=$(dirname "${UNIT_DIR:-$repo/tests/unit}")
BUGGY=${BUGGY:-$build/buggy-server}
[ -x "$BUGGY" ] || BUGGY=$repo/tests/buggy-server
BUGGY_AFL=${BUGGY_AFL:-$build/buggy-server-afl}
[ -x "$BUGGY_AFL" ] || BUGGY_AFL=$repo/tests/buggy-server-afl

# require_afl: skip without the instrumented build (no afl-clang-fast when
# it was made), except in CI, whose deps.sh installs afl++: there its
# absence is a failure.
require_afl() {
	[ -x "$BUGGY_AFL" ] && return 0
	[ -z "${CI:-}" ] || { echo "no $BUGGY_AFL in CI (afl++ missing?)" >&2; return 1; }
	skip "no $BUGGY_AFL (install afl++, then make units)"
}

setup() {
	[ -x "$BUGGY" ] || skip "no $BUGGY (make units)"
	# unsymbolized sanitizer reports: a crash costs 0.1 s, not 1 s
	export ASAN_OPTIONS=symbolize=0:detect_leaks=0
}

# wrapper FILE SIZE: a server script that says its map needs SIZE bytes
# when asked (as an instrumented one does), else records the AFL
# variables it got in FILE.env and runs the plain planted-bug server.
wrapper() {
	cat > "$1" <<-SH
	#!/bin/sh
	if [ -n "\$AFL_DUMP_MAP_SIZE" ]; then echo $2; exit 255; fi
	env | grep -E '^(__AFL_SHM_ID|AFL_MAP_SIZE)=' | sort > "$1.env"
	exec "$BUGGY" "\$@"
	SH
	chmod +x "$1"
}

@test "fuzz-afl: an instrumented server guides: edges, inputs kept for new coverage" {
	require_afl
	run --separate-stderr "$VFUCTL" fuzz -q -o json -n 300 --seed 1 \
		--no-minimize -d "$TEST_TMP/found" -- "$BUGGY_AFL"
	echo "$output"
	[ "$status" -le 1 ]
	[ "$(jq .guided <<<"$output")" = true ]
	[ "$(jq '.edges > 20' <<<"$output")" = true ]
	# new edges kept inputs, and the corpus grew beyond what the seeds
	# (none here) and the states alone gave
	[ "$(jq '.corpus_coverage > 0' <<<"$output")" = true ]
	[ "$(jq '.corpus > .seed_messages' <<<"$output")" = true ]
	run "$VFUCTL" fuzz -q -n 50 --seed 1 --no-minimize \
		-d "$TEST_TMP/found2" -- "$BUGGY_AFL"
	[ "$status" -le 1 ]
	[[ $output =~ guided:\ [1-9][0-9]*\ edges,\ [1-9][0-9]*\ kept\ for\ coverage ]]
	assert_not_contains "black-box"
}

@test "fuzz-afl: the plain build is black-box, and says why" {
	run --separate-stderr "$VFUCTL" fuzz -q -o json -n 50 --seed 1 \
		--no-minimize -d "$TEST_TMP/found" -- "$BUGGY"
	[ "$status" -le 1 ]
	[ "$(jq .guided <<<"$output")" = false ]
	[ "$(jq .edges <<<"$output")" = 0 ]
	[ "$(jq .corpus_coverage <<<"$output")" = 0 ]
	run "$VFUCTL" fuzz -q -n 50 --seed 1 --no-minimize \
		-d "$TEST_TMP/found2" -- "$BUGGY"
	[ "$status" -le 1 ]
	assert_contains "is not built with AFL++'s instrumentation (it printed no map size with AFL_DUMP_MAP_SIZE=1): black-box"
	assert_contains "; black-box;"
	[ "$(grep -c "black-box" <<<"$output")" = 2 ]
}

@test "fuzz-afl: --no-coverage makes an instrumented server black-box" {
	require_afl
	run --separate-stderr "$VFUCTL" fuzz -q -o json -n 100 --seed 1 \
		--no-coverage --no-minimize -d "$TEST_TMP/found" -- "$BUGGY_AFL"
	[ "$status" -le 1 ]
	[ "$(jq .guided <<<"$output")" = false ]
	[ "$(jq .edges <<<"$output")" = 0 ]
	[ "$(jq .corpus_coverage <<<"$output")" = 0 ]
}

@test "fuzz-afl: the server gets the map's id and size, and none with --no-coverage" {
	wrapper "$TEST_TMP/srv" 1024
	run "$VFUCTL" fuzz -q -n 5 --seed 1 --no-minimize \
		-d "$TEST_TMP/found" -- "$TEST_TMP/srv"
	[ "$status" -le 1 ]
	run cat "$TEST_TMP/srv.env"
	[[ ${lines[0]} =~ ^AFL_MAP_SIZE=1024$ ]]
	[[ ${lines[1]} =~ ^__AFL_SHM_ID=[0-9]+$ ]]
	# not even one vfuctl itself was given (run under afl-fuzz, say)
	__AFL_SHM_ID=12345 AFL_MAP_SIZE=99 run "$VFUCTL" fuzz -q -n 5 --seed 1 \
		--no-coverage --no-minimize -d "$TEST_TMP/found" -- "$TEST_TMP/srv"
	[ "$status" -le 1 ]
	[ ! -s "$TEST_TMP/srv.env" ]
}

@test "fuzz-afl: a map the server never writes: black-box after the first exec, said once" {
	wrapper "$TEST_TMP/srv" 4096
	run "$VFUCTL" fuzz -q -n 40 --seed 1 --no-minimize \
		-d "$TEST_TMP/found" -- "$TEST_TMP/srv"
	# (a planted bug may be found on the way)
	[ "$status" -le 1 ]
	assert_contains "the server wrote nothing to its coverage map in the first exec: black-box"
	[ "$(grep -c "coverage map" <<<"$output")" = 1 ]
	assert_contains "; black-box;"
	# a map size the runtime would never print is no map
	wrapper "$TEST_TMP/srv2" junk
	run --separate-stderr "$VFUCTL" fuzz -q -o json -n 5 --seed 1 \
		--no-minimize -d "$TEST_TMP/found" -- "$TEST_TMP/srv2"
	[ "$status" -le 1 ]
	[ "$(jq .guided <<<"$output")" = false ]
}

@test "fuzz-afl: guided, the planted bugs are found with a fixed seed and budget" {
	require_afl
	run --separate-stderr "$VFUCTL" fuzz -q -o json -n 600 --seed 4 \
		--no-minimize -d "$TEST_TMP/found" -- "$BUGGY_AFL"
	assert_status 1
	[ "$(jq .guided <<<"$output")" = true ]
	# the sanitizer tells the two heap overflows apart
	grep -l -- 'READ of size 4' "$TEST_TMP"/found/*.txt
	grep -l -- 'WRITE of size' "$TEST_TMP"/found/*.txt
	grep -l -- 'no reply to DEVICE_SET_IRQS' "$TEST_TMP"/found/*.txt
}

# what a run's coverage and findings were; not the messages and reconnects,
# which depend on when a crash is noticed, black-box too
run_of() {
	jq -c '{edges, corpus, corpus_coverage, states, commands, findings,
		found: [.found[] | {kind, key, exec}]}'
}

@test "fuzz-afl: guided, the same seed gives the same run" {
	require_afl
	local a b
	a=$("$VFUCTL" fuzz -q -o json -n 300 --seed 4 --no-minimize \
		-d "$TEST_TMP/a" -- "$BUGGY_AFL" | run_of || true)
	b=$("$VFUCTL" fuzz -q -o json -n 300 --seed 4 --no-minimize \
		-d "$TEST_TMP/b" -- "$BUGGY_AFL" | run_of || true)
	echo "$a"
	echo "$b"
	[ "$(jq '.corpus_coverage > 0' <<<"$a")" = true ]
	[ "$a" = "$b" ]
}

# (here rather than in fuzz.bats: bench/fuzz.sh stops a run this way once
# it has found the planted bugs)
@test "fuzz: SIGTERM ends the run with its summary, the server stopped" {
	local pid i
	TMPDIR=$TEST_TMP "$VFUCTL" fuzz -q -n 100000000 --no-minimize \
		-d "$TEST_TMP/found" -- "$BUGGY" >"$TEST_TMP/out" 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		compgen -G "$TEST_TMP/vfuctl-fuzz.*/sock" >/dev/null && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || true
	cat "$TEST_TMP/out"
	grep -q "execs, .* messages in" "$TEST_TMP/out"
	# the server is gone with its directory
	! pgrep -f "$TEST_TMP/vfuctl-fuzz" >/dev/null
	! compgen -G "$TEST_TMP/vfuctl-fuzz.*" >/dev/null
}
