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

@test "harness: .clusterfuzzlite/build.sh, run as OSS-Fuzz does, builds every target with its files and each runs" {
	local t name n=0
	for t in clang clang++ zip python3; do
		command -v $t > /dev/null || skip "no $t"
	done
	out=$TEST_TMP/out
	CC=clang CXX=clang++ \
	CFLAGS='-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link' \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$out WORK=$TEST_TMP/work \
		env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SAN_FLAGS -u O \
		bash "$repo/.clusterfuzzlite/build.sh" > "$TEST_TMP/build.log" 2>&1 ||
		{ tail -n 30 "$TEST_TMP/build.log" >&2; return 1; }
	cd "$out"	# where the runner starts the targets
	for t in "$repo"/tests/fuzz/fuzz-*.c; do
		name=$(basename "$t" .c)
		n=$((n + 1))
		[ -x "$name" ] || { echo "$name not built" >&2; return 1; }
		[ -f "$name.options" ] || [ ! -f "$repo/tests/fuzz/$name.options" ]
		[ -f "$name.dict" ] || [ ! -e "$repo/tests/fuzz/$name.dict" ]
		# the runner image has no -dev packages: nothing of them shared
		run ldd "./$name"
		assert_not_contains libjansson
		assert_not_contains libpcap
		assert_not_contains libsodium
		mkdir "$TEST_TMP/corpus-$name"
		run "./$name" -runs=50 -seed=1 "$TEST_TMP/corpus-$name"
		assert_status 0
		assert_contains "Done 50 runs"
	done
	[ "$n" -ge 11 ]
	# seeds: the vectors' messages, and fuzz-server's regression inputs
	for name in fuzz-header fuzz-session fuzz-framer fuzz-server; do
		[ -s "${name}_seed_corpus.zip" ] || { echo "no ${name}_seed_corpus.zip" >&2; return 1; }
	done
	run unzip -l fuzz-server_seed_corpus.zip
	assert_contains "fuzz-server--dma-twin"
}
