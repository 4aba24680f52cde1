#!/usr/bin/env bats
# verify.bats - vfuctl verify: an intact trace is OK (0); a flipped byte,
# a cut-off file or an unkeyed chain where a key was given fail (1) naming
# the frame; unusable input is 2.

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
	assert_contains "OK: 97 frames"
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
	assert_contains "frame 51: digest mismatch: records 1-51 changed"
}

@test "a flipped byte after the first digest names the second range" {
	local size
	size=$(stat -c %s "$TEST_TMP/t.pcap")
	# The last bytes of frame 96, the last message: only the closing
	# digest (16 + 64 + 32 bytes) follows it.
	flip "$TEST_TMP/t.pcap" $((size - 112 - 4))
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "frame 97: digest mismatch: records 52-97 changed"
}

@test "a flipped pseudo-header magic is reported at its frame" {
	# Frame 1's pseudo-header starts after the 24-byte file header and
	# the 16-byte record header.
	flip "$TEST_TMP/t.pcap" 40
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "frame 1: corrupt pseudo-header: bad magic"
}

@test "a truncated trace fails" {
	local size
	size=$(stat -c %s "$TEST_TMP/t.pcap")
	head -c 5000 "$TEST_TMP/t.pcap" > "$TEST_TMP/cut.pcap"
	run vfuctl verify "$TEST_TMP/cut.pcap"
	assert_status 1
	assert_contains "truncated"
	assert_contains "frame "
	# Cut exactly before the closing digest record (16 + 64 + 32 bytes).
	head -c $((size - 112)) "$TEST_TMP/t.pcap" > "$TEST_TMP/cut2.pcap"
	run vfuctl verify "$TEST_TMP/cut2.pcap"
	assert_status 1
	assert_contains "trace ends after frame 96 without a closing digest: truncated"
}

@test "a trace written without digests does not verify" {
	vfuctl import --digest-every 0 -o "$TEST_TMP/n.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
	run vfuctl verify "$TEST_TMP/n.pcap"
	assert_status 1
	assert_contains "without a closing digest"
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
	assert_contains "digest mismatch"
}

@test "with a key, an unkeyed (re-chained) trace is rejected" {
	head -c 32 /dev/urandom > "$TEST_TMP/key"
	run vfuctl verify --key "$TEST_TMP/key" "$TEST_TMP/t.pcap"
	assert_status 1
	assert_contains "frame 51: digest is not keyed"
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
