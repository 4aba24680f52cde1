#!/bin/bash -eu
# build.sh - ClusterFuzzLite / OSS-Fuzz build of every tests/fuzz/fuzz-*.c
# target into $OUT, as the engines expect: the library built with the
# engine's $CC and $CFLAGS, each target linked with $LIB_FUZZING_ENGINE;
# beside each, its .options, .dict and a seed corpus NAME_seed_corpus.zip
# (tests/fuzz/make-corpus.sh's seeds and the target's regression inputs
# tests/crashes/NAME--*); the data files the targets load
# (tests/devices/, traces/) under $OUT.  The runner image has none of the
# -dev packages, so jansson, libsodium and libpcap (with libpcap's
# libdbus) are linked statically; libsystemd.so.0, which libdbus calls,
# is in every Debian and Ubuntu image (DEPS_LIBS overrides all this).
#
# By hand, as tests/harness.bats does:
#   CC=clang CXX=clang++ CFLAGS='-fsanitize=address,fuzzer-no-link' \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out WORK=/tmp/work \
#   bash .clusterfuzzlite/build.sh

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${CXX:=clang++}" "${WORK:=$(mktemp -d)}"
DEPS_LIBS=${DEPS_LIBS:--Wl,-Bstatic -ljansson -lsodium -lpcap -ldbus-1 -Wl,-Bdynamic -Wl,--as-needed -l:libsystemd.so.0 -pthread}
build=$WORK/vfuctl-build
liba=$build/lib/libvfuctl.a

# the library, instrumented by the engine's flags (no -Werror: a newer
# compiler's warning must not stop the fuzzing)
make -j"$(nproc)" O="$build" CC="$CC" CFLAGS="$CFLAGS" DEVELOPER= "$liba"

# seeds from the vectors (tests/vectors-qemu/, and $VECTORS if present)
corpus=$WORK/corpus
bash tests/fuzz/make-corpus.sh "$corpus" > /dev/null

mkdir -p "$OUT"
for src in tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	$CC $CFLAGS -std=gnu99 -D_GNU_SOURCE -Ilib -Itests/fuzz \
		$(pkg-config --cflags jansson) -c "$src" -o "$WORK/$name.o"
	$CXX $CFLAGS $LIB_FUZZING_ENGINE "$WORK/$name.o" "$liba" $DEPS_LIBS \
		-o "$OUT/$name"
	for ext in options dict; do
		if [ -e "tests/fuzz/$name.$ext" ]; then
			cp -L "tests/fuzz/$name.$ext" "$OUT/$name.$ext"
		fi
	done
	mkdir -p "$corpus/$name"
	for f in tests/crashes/"$name"--*; do
		if [ -f "$f" ]; then cp "$f" "$corpus/$name/"; fi
	done
	rm -f "$OUT/${name}_seed_corpus.zip"
	if [ -n "$(ls -A "$corpus/$name")" ]; then
		(cd "$corpus/$name" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
	fi
done

# what fuzz-server, fuzz-sreplay and fuzz-example load, relative to $OUT
mkdir -p "$OUT/tests/devices" "$OUT/traces"
cp tests/devices/*.json "$OUT/tests/devices/"
cp traces/*.jsonl "$OUT/traces/"
