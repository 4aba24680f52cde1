#!/usr/bin/env bats
# harness.bats - the README's "Fuzzing your device server": the example
# harness tests/fuzz/fuzz-example.c, built by a device author's route
# (clang -fsanitize=fuzzer against the shared library, only its API),
# runs a few hundred inputs in process.

load helpers

# The build under test: the directory above VFUCTL's cli/.
build_dir() {
	cd "$(dirname "$VFUCTL")/.." && pwd
}

@test "harness: the README's example builds against libvfuctl.so and runs 300 inputs" {
	command -v clang > /dev/null || skip "no clang"
	local b
	b=$(build_dir)
	[ -f "$b/lib/libvfuctl.so" ] || skip "no $b/lib/libvfuctl.so"
	run clang -fsanitize=fuzzer,address -I"$repo/lib" \
		-o "$TEST_TMP/example" "$repo/tests/fuzz/fuzz-example.c" \
		-L"$b/lib" -Wl,-rpath,"$b/lib" -lvfuctl
	assert_status 0
	mkdir "$TEST_TMP/corpus"
	cd "$repo"
	run "$TEST_TMP/example" -runs=300 -seed=1 "$TEST_TMP/corpus"
	assert_status 0
	assert_contains "Done 300 runs"
}
