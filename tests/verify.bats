#!/usr/bin/env bats
# verify.bats - vfuctl verify: an intact trace is OK (0); a flipped byte,
# a cut-off file or an unkeyed chain where a key was given fail (1) naming
# the frame; unusable input is 2.  The verdict is one of intact, truncated
# after frame N, altered at frame N, written without digests, for traces
# vfuctl import and vfuctl record write.

load helpers

setup() {
	require_vectors gpio-probe-full.jsonl
	# 95 messages, a digest after every 50 records: frames 51 and 97.
	vfuctl import --digest-every 50 -o "$TEST_TMP/t.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
}

# flip FILE OFFSET: invert one byte in place.
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "an intact trace verifies" {
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 0
	assert_contains "intact: 97 frames"
	assert_contains "2 digests"
	run vfuctl verify -q "$TEST_TMP/t.pcap"
	assert_status 0
	[ -z "$output" ]
	run bash -c '"$VFUCTL" verify - < "$TEST_TMP/t.pcap"'
	assert_status 0
}

@test "a flipped payload byte fails at the next digest, naming the records" {
	# Well inside the first 50 records (frame 1 starts at byte 24).
	flip "$TEST_TMP/t.pcap" 3000
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "altered at frame 51: digest mismatch: records 1-51 changed"
}

@test "a flipped byte after the first digest names the second range" {
	local size
	size=$(stat -c %s "$TEST_TMP/t.pcap")
	# The last bytes of frame 96, the last message: only the closing
	# digest (16 + 64 + 32 bytes) follows it.
	flip "$TEST_TMP/t.pcap" $((size - 112 - 4))
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "altered at frame 97: digest mismatch: records 52-97 changed"
}

@test "a flipped pseudo-header magic is reported at its frame" {
	# Frame 1's pseudo-header starts after the 24-byte file header and
	# the 16-byte record header.
	flip "$TEST_TMP/t.pcap" 40
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "altered at frame 1: corrupt pseudo-header: bad magic"
}

@test "a truncated trace fails" {
	local size
	size=$(stat -c %s "$TEST_TMP/t.pcap")
	head -c 5000 "$TEST_TMP/t.pcap" > "$TEST_TMP/cut.pcap"
	run vfuctl verify "$TEST_TMP/cut.pcap"
	assert_status 1
	# frame 39 starts before byte 5000 and ends after it
	assert_contains "truncated after frame 38: the file ends inside frame 39; no digest before it: nothing verified"
	# Cut exactly before the closing digest record (16 + 64 + 32 bytes).
	head -c $((size - 112)) "$TEST_TMP/t.pcap" > "$TEST_TMP/cut2.pcap"
	run vfuctl verify "$TEST_TMP/cut2.pcap"
	assert_status 1
	assert_contains "truncated after frame 96: no closing digest; verified up to frame 51, the last good digest"
}

@test "a trace written without digests does not verify" {
	vfuctl import --digest-every 0 -o "$TEST_TMP/n.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
	run vfuctl verify "$TEST_TMP/n.pcap"
	assert_status 1
	assert_contains "written without digests: 95 frames, none of them a digest record"
}

@test "keyed traces: the key verifies, no key is 2, a wrong key is 1" {
	head -c 32 /dev/urandom > "$TEST_TMP/key"
	head -c 32 /dev/urandom > "$TEST_TMP/other"
	vfuctl import --key "$TEST_TMP/key" -o "$TEST_TMP/k.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
	run vfuctl verify --key "$TEST_TMP/key" "$TEST_TMP/k.pcap"
	assert_status 0
	assert_contains "keyed"
	run --separate-stderr vfuctl verify "$TEST_TMP/k.pcap"
	assert_status 2
	[[ $stderr == *"keyed"* ]]
	run vfuctl verify --key "$TEST_TMP/other" "$TEST_TMP/k.pcap"
	assert_status 1
	assert_contains "altered at frame 96: digest mismatch: records 1-96 changed"
	assert_contains "(or the key is not the one it was written with)"
}

@test "with a key, an unkeyed (re-chained) trace is rejected" {
	head -c 32 /dev/urandom > "$TEST_TMP/key"
	run vfuctl verify --key "$TEST_TMP/key" "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "altered at frame 51: digest is not keyed"
}

@test "bad key files, missing files and non-traces are usage errors" {
	head -c 8 /dev/urandom > "$TEST_TMP/short"
	run vfuctl verify --key "$TEST_TMP/short" "$TEST_TMP/t.pcap"
	assert_status 2
	assert_contains "invalid key file"
	run vfuctl verify "$TEST_TMP/no-such.pcap"
	assert_status 2
	assert_contains "cannot open"
	printf 'not a pcap file at all\n' > "$TEST_TMP/x.pcap"
	run vfuctl verify "$TEST_TMP/x.pcap"
	assert_status 2
	assert_contains "not a pcap file"
	run vfuctl verify
	assert_status 2
}

# record_session TRACE [RECORD-OPTION...]: a gpio session through vfuctl
# record, stopped by SIGINT.
record_session() {
	local trace=$1 srv rec st=0
	shift
	"$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	srv=$!
	wait_socket "$TEST_TMP/s" "$srv" /dev/null
	"$VFUCTL" record --listen "$TEST_TMP/r" --connect "$TEST_TMP/s" \
		-w "$trace" "$@" 3>&- 2>"$TEST_TMP/record.log" &
	rec=$!
	wait_socket "$TEST_TMP/r" "$rec" "$TEST_TMP/record.log"
	"$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 1; read bar2 0 64;
		irq enable intx 0 1; poke bar2 0xc 1; wait-irq 2000' "$TEST_TMP/r" >/dev/null
	kill -INT "$rec"
	wait "$rec" || st=$?
	kill "$srv"
	wait "$srv" || true
	[ "$st" -eq 0 ] || { cat "$TEST_TMP/record.log" >&2; return 1; }
}

# frame_ends TRACE: the byte offset where each frame ends, one a line.
frame_ends() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
o = 24
while o < len(d):
    o += 16 + struct.unpack_from("<I", d, o + 8)[0]
    print(o)' "$1"
}

@test "a trace vfuctl record writes verifies; each rotated file on its own" {
	record_session "$TEST_TMP/rec.pcap"
	run vfuctl verify "$TEST_TMP/rec.pcap"
	assert_status 0
	# the opening digest of no records and the closing one
	assert_contains "2 digests, unkeyed"
	record_session "$TEST_TMP/rot.pcap" -C 1K
	[ -f "$TEST_TMP/rot.pcap2" ]
	for f in "$TEST_TMP"/rot.pcap*; do
		run vfuctl verify "$f"
		assert_status 0
		assert_contains "intact: "
	done
}

@test "a recorded trace cut anywhere is truncated after its last whole frame" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	local ends n k cut
	record_session "$TEST_TMP/rec.pcap"
	mapfile -t ends < <(frame_ends "$TEST_TMP/rec.pcap")
	n=${#ends[@]}
	[ "$n" -gt 10 ]
	# at a frame's end, inside the next frame's pcap header, inside its
	# pseudo-header, inside its payload; frame 1 is the opening digest
	for k in 1 2 5 $((n - 2)) $((n - 1)); do
		for cut in 0 7 30 90; do
			head -c $((ends[k - 1] + cut)) "$TEST_TMP/rec.pcap" >"$TEST_TMP/cut.pcap"
			[ $((ends[k - 1] + cut)) -lt "${ends[k]}" ] || continue
			run vfuctl verify "$TEST_TMP/cut.pcap"
			assert_status 1
			if [ "$cut" -eq 0 ]; then
				assert_contains "truncated after frame $k: no closing digest; verified up to frame 1, the last good digest"
			else
				assert_contains "truncated after frame $k: the file ends inside frame $((k + 1)); verified up to frame 1"
			fi
		done
	done
	# inside the pcap file header
	head -c 10 "$TEST_TMP/rec.pcap" >"$TEST_TMP/cut.pcap"
	run vfuctl verify "$TEST_TMP/cut.pcap"
	assert_status 1
	assert_contains "truncated after frame 0"
}

@test "a flipped byte in a recorded message is altered at the digest that covers it" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	local ends n
	record_session "$TEST_TMP/rec.pcap"
	mapfile -t ends < <(frame_ends "$TEST_TMP/rec.pcap")
	n=${#ends[@]}
	# the last byte of frame 6 (a message); the closing digest is frame n
	flip "$TEST_TMP/rec.pcap" $((ends[5] - 1))
	run vfuctl verify "$TEST_TMP/rec.pcap"
	assert_status 1
	assert_contains "altered at frame $n: digest mismatch: records 2-$n changed"
}

@test "record --key: the key verifies; no key is 2, a wrong key is altered" {
	head -c 32 /dev/urandom >"$TEST_TMP/key"
	head -c 32 /dev/urandom >"$TEST_TMP/other"
	record_session "$TEST_TMP/k.pcap" --key "$TEST_TMP/key"
	run vfuctl verify --key "$TEST_TMP/key" "$TEST_TMP/k.pcap"
	assert_status 0
	assert_contains "2 digests, keyed"
	run --separate-stderr vfuctl verify "$TEST_TMP/k.pcap"
	assert_status 2
	[[ $stderr == *"frame 1: the digests are keyed: give the key to verify them"* ]]
	run vfuctl verify --key "$TEST_TMP/other" "$TEST_TMP/k.pcap"
	assert_status 1
	assert_contains "altered at frame 1: digest mismatch"
	assert_contains "(or the key is not the one it was written with)"
	# an unkeyed recording offered a key
	record_session "$TEST_TMP/u.pcap"
	run vfuctl verify --key "$TEST_TMP/key" "$TEST_TMP/u.pcap"
	assert_status 1
	assert_contains "altered at frame 1: digest is not keyed"
	# a bad key file is a usage error before anything starts
	head -c 8 /dev/urandom >"$TEST_TMP/short"
	run vfuctl record --listen "$TEST_TMP/r" --connect "$TEST_TMP/s" \
		-w "$TEST_TMP/x.pcap" --key "$TEST_TMP/short"
	assert_status 2
	assert_contains "invalid key file"
	[ ! -e "$TEST_TMP/x.pcap" ]
}
