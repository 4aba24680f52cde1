#!/usr/bin/env bats
# abi.bats - how the library is built and what it shows the world: warnings
# are errors for developers and CI (DEVELOPER=1) and only warnings for a
# user's plain make; the shared object exports exactly lib/libvfuctl.map,
# which is exactly what the installed headers declare, and a program builds
# against an installed copy through pkg-config.

load helpers

# The build under test: the directory above VFUCTL's cli/.
build_dir() {
	cd "$(dirname "$VFUCTL")/.." && pwd
}

# make_quiet ARGS...: make in the source tree, outside any calling make
# (whose command-line variables, such as make asan's SAN_FLAGS and O, reach
# us through the environment).
make_quiet() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SAN_FLAGS -u O \
		make -s -C "$repo" "$@"
}

# map_symbols: the names lib/libvfuctl.map exports, sorted.
map_symbols() {
	sed -n '/^global:/,/^local:/s/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p' \
		"$repo/lib/libvfuctl.map" | LC_ALL=C sort
}

# declared_symbols DIR: the functions and data that the headers in DIR
# declare (static inline ones are not symbols), sorted.
declared_symbols() {
	local dir=$1 h
	for h in "$dir"/*.h; do
		printf '#include <%s>\n' "$(basename "$h")"
	done > "$TEST_TMP/all.c"
	gcc -D_GNU_SOURCE -I"$dir" -fsyntax-only -aux-info "$TEST_TMP/aux.txt" \
		"$TEST_TMP/all.c"
	{
		grep -F "/* $dir/" "$TEST_TMP/aux.txt" | grep -v ' static ' |
			sed -e 's|^/\*[^*]*\*/ ||' -e 's/ (.*//' -e 's/.*[ *]//'
		sed -n 's/^extern .*[ *]\([A-Za-z_][A-Za-z0-9_]*\)\[.*/\1/p' "$dir"/*.h
	} | LC_ALL=C sort -u
}

# Once for the file: build and install a fresh copy of the tree into
# $root (prefix /usr), away from the build under test.
setup_file() {
	make_quiet -j2 O="$BATS_FILE_TMPDIR/build" CFLAGS='-O0' PREFIX=/usr \
		DESTDIR="$BATS_FILE_TMPDIR/root" WIRESHARK_PLUGINDIR= install > /dev/null
}

setup() {
	root=$BATS_FILE_TMPDIR/root
}

# lib/vx-*.h that are not the API: helpers for lib/ and cli/ (inline, or
# in the static library only).
internal_headers='vx-array.h vx-cursor.h vx-strbuf.h vx-guard.h'

@test "abi: the shared object exports exactly the symbols of lib/libvfuctl.map" {
	local so
	so=$(build_dir)/lib/libvfuctl.so.0
	[ -f "$so" ] || { echo "no $so" >&2; false; }
	map_symbols > "$TEST_TMP/map"
	[ -s "$TEST_TMP/map" ]
	nm -D --defined-only "$so" | awk '{ print $NF }' | LC_ALL=C sort > "$TEST_TMP/nm"
	run diff -u "$TEST_TMP/map" "$TEST_TMP/nm"
	if [ "$status" -ne 0 ]; then
		echo "lib/libvfuctl.map (-) and nm -D $so (+) differ:" >&2
		echo "$output" >&2
		false
	fi
	# internals stay inside
	run grep -E '^(dec_|dx_|vx_trh_|vx_chain_)' "$TEST_TMP/nm"
	assert_status 1
}

@test "abi: make install puts in the API headers, each whole alone, declaring exactly lib/libvfuctl.map" {
	local inc=$root/usr/include/vfuctl h
	for h in vx-msg.h vx-trace.h vx-conn.h vx-client.h vx-filter.h vx-error.h; do
		[ -f "$inc/$h" ] || { echo "$h not installed" >&2; false; }
	done
	# internal headers stay home
	for h in $internal_headers decode-int.h trace-header.h trace-digest.h; do
		[ ! -e "$inc/$h" ] || { echo "$h installed" >&2; false; }
	done
	# every vx-*.h is one or the other, so a new one gets decided
	for h in "$repo"/lib/vx-*.h; do
		h=$(basename "$h")
		[ -f "$inc/$h" ] || [[ " $internal_headers " == *" $h "* ]] || {
			echo "lib/$h is neither installed nor internal: add it to API_HEADERS (Makefile) and its symbols to lib/libvfuctl.map, or to internal_headers in tests/abi.bats" >&2
			false
		}
	done
	for h in "$inc"/*.h; do
		printf '#include <%s>\nint main(void) { return 0; }\n' \
			"$(basename "$h")" > "$TEST_TMP/one.c"
		run gcc -std=c99 -Wall -Werror -I"$inc" -c -o "$TEST_TMP/one.o" "$TEST_TMP/one.c"
		[ "$status" -eq 0 ] || { echo "$h does not compile alone: $output" >&2; false; }
	done
	map_symbols > "$TEST_TMP/map"
	declared_symbols "$inc" > "$TEST_TMP/declared"
	run diff -u "$TEST_TMP/map" "$TEST_TMP/declared"
	if [ "$status" -ne 0 ]; then
		echo "lib/libvfuctl.map (-) and the installed headers (+) differ:" >&2
		echo "$output" >&2
		false
	fi
}

@test "abi: a program builds against the installed library with pkg-config and runs; internals do not link" {
	local flags
	export PKG_CONFIG_SYSROOT_DIR=$root
	export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
	flags=$(pkg-config --cflags --libs libvfuctl)
	[[ $flags == *"-I$root/usr/include/vfuctl"* ]]
	cat > "$TEST_TMP/ext.c" <<'C'
#include <stdio.h>
#include <vx-error.h>
#include <vx-filter.h>

int
main(void)
{
	struct vx_filter *f;
	char err[256], out[256];
	int r;

	if (vx_filter_compile("vfio_user.cmd == 2", err, sizeof(err), &f) < 0)
		return 1;
	vx_filter_dump(f, out, sizeof(out));
	vx_filter_free(f);
	r = vx_filter_compile("vfio_user.cmd ==", err, sizeof(err), &f);
	printf("%s; %s, errno %d\n", out, vx_strerror(r), vx_err_to_errno(r));
	return 0;
}
C
	# shellcheck disable=SC2086  # pkg-config's words
	run cc -o "$TEST_TMP/ext" "$TEST_TMP/ext.c" $flags
	assert_status 0
	run env LD_LIBRARY_PATH="$root/usr/lib" "$TEST_TMP/ext"
	assert_status 0
	[ "$output" = "vfio_user.cmd == DMA_MAP; invalid, errno 22" ]
	# the same program through an internal symbol does not link
	printf 'void vx_chain_init(void *, const void *, unsigned long);
int main(void) { vx_chain_init(0, 0, 0); return 0; }
' \
		> "$TEST_TMP/int.c"
	# shellcheck disable=SC2086
	run cc -o "$TEST_TMP/int" "$TEST_TMP/int.c" $flags
	[ "$status" -ne 0 ]
	assert_contains "vx_chain_init"
}

@test "abi: struct vx_client is opaque: programs read it through its accessors" {
	local inc=$root/usr/include/vfuctl
	printf '#include <vx-client.h>\nunsigned long long f(struct vx_client *c) { return vx_client_xfer(c); }\n' \
		> "$TEST_TMP/acc.c"
	run gcc -std=c99 -Wall -Werror -I"$inc" -c -o "$TEST_TMP/acc.o" "$TEST_TMP/acc.c"
	assert_status 0
	printf '#include <vx-client.h>\nunsigned long long f(struct vx_client *c) { return c->xfer; }\n' \
		> "$TEST_TMP/member.c"
	run gcc -std=c99 -I"$inc" -c -o "$TEST_TMP/member.o" "$TEST_TMP/member.c"
	[ "$status" -ne 0 ]
	assert_contains "undefined type"
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
