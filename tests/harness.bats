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

@test "harness: vx_fuzz_input(3) is lint clean and names every vx_fuzz_input_ function the library exports" {
	command -v mandoc > /dev/null || skip "no mandoc"
	run mandoc -T lint -W warning "$repo/man/vx_fuzz_input.3"
	assert_status 0
	[ -z "$output" ]
	local names f
	names=$(sed -n 's/^\.Nm \(vx_fuzz_input_[a-z_]*\).*/\1/p' "$repo/man/vx_fuzz_input.3")
	for f in $(sed -n 's/^[[:space:]]*\(vx_fuzz_input_[a-z_]*\);/\1/p' "$repo/lib/libvfuctl.map"); do
		[[ $'\n'$names$'\n' == *$'\n'$f$'\n'* ]] || { echo "$f not in NAME" >&2; return 1; }
	done
}

@test "harness: README's \"Fuzzing your device server\" shows tests/fuzz/fuzz-example.c's function as it is" {
	sed -n '/^## Fuzzing your device server/,/^## /p' "$repo/README.md" |
		sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > "$TEST_TMP/readme.c"
	sed -n '/^LLVMFuzzerTestOneInput(/,/^}/p' "$repo/tests/fuzz/fuzz-example.c" |
		sed '1i int' > "$TEST_TMP/example.c"
	[ -s "$TEST_TMP/readme.c" ]
	run diff -u "$TEST_TMP/example.c" "$TEST_TMP/readme.c"
	assert_status 0
}
