#!/usr/bin/env bats
# abi.bats - how the library is built and what it shows the world: warnings
# are errors for developers and CI (DEVELOPER=1) and only warnings for a
# user's plain make.

load helpers

# The build under test: the directory above VFUCTL's cli/.
build_dir() {
	cd "$(dirname "$VFUCTL")/.." && pwd
}

# make_quiet ARGS...: make in the source tree, outside any calling make.
make_quiet() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$repo" "$@"
}

@test "abi: DEVELOPER=1 makes a warning fail the build; a plain make only warns" {
	local src=$TEST_TMP/warn.c dev plain
	printf 'int f(int x);\nint f(int x) { int unused; return x; }\n' > "$src"
	dev=$(make_quiet DEVELOPER=1 print-cflags)
	plain=$(make_quiet DEVELOPER= print-cflags)
	[[ " $dev " == *" -Werror "* ]]
	[[ " $plain " != *" -Werror "* ]]
	# shellcheck disable=SC2086  # the flags are words
	run cc $plain -c -o "$TEST_TMP/warn.o" "$src"
	assert_status 0
	assert_contains "unused"
	# shellcheck disable=SC2086
	run cc $dev -c -o "$TEST_TMP/warn.o" "$src"
	[ "$status" -ne 0 ]
}

@test "abi: under CI the build being tested was made with -Werror" {
	local stamp
	stamp=$(build_dir)/.build-flags
	[ -n "${CI:-}" ] || skip "CI not set (.ci/run sets DEVELOPER=1 and CI)"
	[ -f "$stamp" ] || { echo "no $stamp: was $VFUCTL built by make?" >&2; false; }
	run cat "$stamp"
	assert_contains " -Werror "
}
