#!/usr/bin/env bats
# import.bats - vfuctl import: every vector file becomes a trace that
# libpcap readers (tshark, tcpdump) count record for record; bad input
# exits 2 naming the line and leaves no file behind.

load helpers

# vector_files: every capture and synthetic vector, one path per line.
vector_files() {
	local f
	for f in "$VECTORS"/*.jsonl "$repo"/tests/vectors-qemu/*.jsonl; do
		[ -f "$f" ] || continue
		case ${f##*/} in EXPECTED.jsonl) continue ;; esac
		printf '%s\n' "$f"
	done
}

# expected_records FILE N: records a trace of FILE has with a digest every
# N: one per line, one per "note", and the digests (every N, plus the
# closing one).
expected_records() {
	local lines notes n
	lines=$(grep -c . "$1")
	notes=$(grep -c '"note"' "$1" || true)
	n=$((lines + notes))
	echo $((n + n / $2 + 1))
}

# count_records PCAP: records as a libpcap reader counts them; empty if
# neither tshark nor tcpdump is installed.
count_records() {
	if command -v tshark >/dev/null 2>&1; then
		tshark -r "$1" 2>/dev/null | wc -l
	elif command -v tcpdump >/dev/null 2>&1; then
		tcpdump -r "$1" 2>/dev/null | wc -l
	fi
}

@test "every vector file imports and verifies" {
	require_vectors
	local f bad=0 n=0
	while read -r f; do
		n=$((n + 1))
		if ! vfuctl import -o "$TEST_TMP/t.pcap" "$f"; then
			echo "import failed: $f" >&2
			bad=1
			continue
		fi
		run vfuctl verify "$TEST_TMP/t.pcap"
		if [ "$status" -ne 0 ]; then
			echo "verify of $f: $output" >&2
			bad=1
		fi
	done < <(vector_files)
	[ "$n" -ge 10 ]
	[ "$bad" -eq 0 ]
}

@test "tshark or tcpdump counts the records of every imported vector" {
	require_vectors
	command -v tshark >/dev/null 2>&1 || command -v tcpdump >/dev/null 2>&1 ||
		skip "neither tshark nor tcpdump installed"
	local f got want bad=0
	while read -r f; do
		vfuctl import --digest-every 100 -o "$TEST_TMP/t.pcap" "$f"
		got=$(count_records "$TEST_TMP/t.pcap")
		want=$(expected_records "$f" 100)
		if [ "$got" -ne "$want" ]; then
			echo "${f##*/}: $got records, expected $want" >&2
			bad=1
		fi
	done < <(vector_files)
	[ "$bad" -eq 0 ]
}

@test "the badframe note line imports as a 16-byte message and an annotation" {
	require_vectors gpio-probe-badframe.jsonl
	vfuctl import --digest-every 0 -o "$TEST_TMP/b.pcap" \
		"$VECTORS/gpio-probe-badframe.jsonl"
	command -v tshark >/dev/null 2>&1 || skip "tshark not installed"
	# Frame 3 is seq 2's message: 64-byte pseudo-header + 16 bytes.
	run --separate-stderr tshark -r "$TEST_TMP/b.pcap" -T fields -e frame.len
	assert_status 0
	[ "${lines[2]}" -eq 80 ]
	[ "${#lines[@]}" -eq 7 ]
	# Frame 4 is the relay's note, as text.
	run --separate-stderr tshark -r "$TEST_TMP/b.pcap" -Y frame.number==4 -x
	assert_contains "bad msg_siz"
}

@test "a standard-input import equals a file import, byte for byte" {
	require_vectors qemu-gpio-boot.jsonl
	vfuctl import -o "$TEST_TMP/a.pcap" "$VECTORS/qemu-gpio-boot.jsonl"
	vfuctl import -o - - < "$VECTORS/qemu-gpio-boot.jsonl" > "$TEST_TMP/b.pcap"
	cmp "$TEST_TMP/a.pcap" "$TEST_TMP/b.pcap"
}

@test "--linktype picks USER0-USER15 and refuses others" {
	require_vectors gpio-probe-full.jsonl
	vfuctl import --linktype 150 -o "$TEST_TMP/t.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
	# pcap file header: link type at offset 20, little-endian here.
	run od -An -tu4 -j20 -N4 "$TEST_TMP/t.pcap"
	[ "$(echo $output)" = 150 ]
	run vfuctl verify "$TEST_TMP/t.pcap"
	assert_status 0
	run vfuctl import --linktype 1 -o "$TEST_TMP/u.pcap" \
		"$VECTORS/gpio-probe-full.jsonl"
	assert_status 2
	assert_contains "invalid link type '1'"
}

@test "bad JSON exits 2 naming the line and leaves no trace file" {
	printf '%s\n' \
		'{"seq": 0, "t_ns": 1, "dir": "c2s", "nfds": 0, "fds": [], "hex": "0100010010000000000000000000000000"}' \
		'' \
		'{"seq": 1, "t_ns": 2, "dir": "s2c", "hex": "01000' \
		> "$TEST_TMP/bad.jsonl"
	run --separate-stderr vfuctl import -o "$TEST_TMP/bad.pcap" "$TEST_TMP/bad.jsonl"
	assert_status 2
	[[ $stderr == *"bad.jsonl:3:"* ]]
	[ ! -e "$TEST_TMP/bad.pcap" ]
}

@test "odd hex, a bad direction and a missing hex are named" {
	local line
	for line in '{"t_ns": 1, "dir": "c2s", "hex": "010"}' \
		'{"t_ns": 1, "dir": "up", "hex": "0100"}' \
		'{"t_ns": 1, "dir": "c2s"}' \
		'{"kind": "bogus", "t_ns": 1}' \
		'[1, 2]'; do
		printf '%s\n' "$line" > "$TEST_TMP/bad.jsonl"
		run --separate-stderr vfuctl import -o "$TEST_TMP/bad.pcap" "$TEST_TMP/bad.jsonl"
		assert_status 2
		[[ $stderr == *"bad.jsonl:1: "* ]] || { echo "$line: $stderr" >&2; false; }
	done
}

@test "record lines of every kind import" {
	cat > "$TEST_TMP/kinds.jsonl" <<'EOF'
{"t_ns":1000,"kind":"open","conn":3,"endpoint":1,"pid":42,"uid":1000,"gid":100}
{"t_ns":2000,"kind":"message","conn":3,"endpoint":1,"chan":"main","dir":"c2s","seq":0,"fds":[{"kind":"memfd","size":4096,"seals":15,"dev":5,"ino":77}],"hex":"01000100100000000000000000000000"}
{"t_ns":3000,"kind":"irq","conn":3,"endpoint":1,"dir":"s2c","index":0,"vector":0,"count":2}
{"t_ns":4000,"kind":"annotation","conn":3,"endpoint":1,"text":"hello \"trace\""}
{"t_ns":5000,"kind":"raw","conn":3,"endpoint":1,"dir":"s2c","hex":"deadbeef"}
{"t_ns":6000,"kind":"gap","conn":3,"endpoint":1,"dir":"c2s","seq":1,"count":5}
{"t_ns":6500,"kind":"digest","count":6,"keyed":false,"final":false,"hex":"00"}
{"t_ns":7000,"kind":"close","conn":3,"endpoint":1,"pid":42,"uid":1000,"gid":100}
EOF
	run vfuctl import -o "$TEST_TMP/k.pcap" "$TEST_TMP/kinds.jsonl"
	assert_status 0
	run vfuctl verify "$TEST_TMP/k.pcap"
	assert_status 0
	# The digest line is replaced by the closing digest: 7 + 1 records.
	assert_contains "intact: 8 frames"
}

@test "import without -o or with two inputs is a usage error" {
	run vfuctl import /dev/null
	assert_status 2
	assert_contains "missing output file"
	run vfuctl import -o "$TEST_TMP/x.pcap" a b
	assert_status 2
	run vfuctl import -o "$TEST_TMP/x.pcap" "$TEST_TMP/no-such-file"
	assert_status 2
	assert_contains "cannot open"
}

@test "a 1 MiB message becomes fragment records that tshark reads" {
	command -v tshark >/dev/null 2>&1 || skip "tshark not installed"
	local hex
	hex=$(head -c 1048576 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
	printf '{"t_ns": 1, "dir": "s2c", "hex": "%s"}\n' "$hex" > "$TEST_TMP/big.jsonl"
	run vfuctl import -o "$TEST_TMP/big.pcap" "$TEST_TMP/big.jsonl"
	assert_status 0
	# 1048576 bytes in records of at most 262144 - 64: 5, and the digest.
	run --separate-stderr tshark -r "$TEST_TMP/big.pcap" -T fields -e frame.cap_len
	assert_status 0
	[ "${#lines[@]}" -eq 6 ]
	local l
	for l in "${lines[@]}"; do
		[ "$l" -le 262144 ]
	done
	run vfuctl verify "$TEST_TMP/big.pcap"
	assert_status 0
	assert_contains "intact: 6 frames, 2 records"
}

@test "export then import is the identity (via vfuctl dissect -o jsonl)" {
	require_vectors
	vfuctl dissect --help >/dev/null 2>&1 || skip "no vfuctl dissect"
	local f bad=0
	while read -r f; do
		vfuctl import -o "$TEST_TMP/a.pcap" "$f"
		vfuctl dissect -o jsonl "$TEST_TMP/a.pcap" > "$TEST_TMP/a.jsonl"
		vfuctl import -o "$TEST_TMP/b.pcap" "$TEST_TMP/a.jsonl"
		vfuctl dissect -o jsonl "$TEST_TMP/b.pcap" > "$TEST_TMP/b.jsonl"
		if ! cmp -s "$TEST_TMP/a.pcap" "$TEST_TMP/b.pcap" ||
			! cmp -s "$TEST_TMP/a.jsonl" "$TEST_TMP/b.jsonl"; then
			echo "${f##*/}: not the same after export and import" >&2
			bad=1
		fi
	done < <(vector_files)
	[ "$bad" -eq 0 ]
}

@test "import -o: a symbolic link at the path is refused, its target untouched; new traces are 0600" {
	require_vectors gpio-probe-full.jsonl
	echo precious >"$TEST_TMP/victim"
	ln -s "$TEST_TMP/victim" "$TEST_TMP/link.pcap"
	run vfuctl import -o "$TEST_TMP/link.pcap" "$VECTORS/gpio-probe-full.jsonl"
	assert_status 1
	assert_contains "cannot create '$TEST_TMP/link.pcap': it is a symbolic link"
	[ "$(cat "$TEST_TMP/victim")" = precious ]
	[ -L "$TEST_TMP/link.pcap" ]
	(umask 022 && "$VFUCTL" import -o "$TEST_TMP/new.pcap" "$VECTORS/gpio-probe-full.jsonl")
	[ "$(stat -c %a "$TEST_TMP/new.pcap")" = 600 ]
}

@test "a failed import removes its half trace but never a device given as -o" {
	[ "$(id -u)" -eq 0 ] || skip "mknod needs root"
	printf '{"dir": "c2s", "hex": "zz"}\n' >"$TEST_TMP/bad.jsonl"
	run vfuctl import -o "$TEST_TMP/half.pcap" "$TEST_TMP/bad.jsonl"
	assert_status 2
	[ ! -e "$TEST_TMP/half.pcap" ]
	mknod "$TEST_TMP/null" c 1 3
	run vfuctl import -o "$TEST_TMP/null" "$TEST_TMP/bad.jsonl"
	assert_status 2
	[ -c "$TEST_TMP/null" ]
}

@test "a filtered export's STATE records go through -o jsonl and import byte for byte and still seed the session" {
	require_vectors qemu-gpio-io.jsonl
	vfuctl import -o "$TEST_TMP/a.pcap" "$VECTORS/qemu-gpio-io.jsonl"
	vfuctl dissect --cmd REGION_WRITE -w "$TEST_TMP/w.pcap" "$TEST_TMP/a.pcap" > /dev/null
	vfuctl dissect -o jsonl "$TEST_TMP/w.pcap" > "$TEST_TMP/w.jsonl"
	[ "$(jq -s '[.[] | select(.kind == "state")] | length' "$TEST_TMP/w.jsonl")" -ge 1 ]
	vfuctl import --digest-every 0 -o "$TEST_TMP/copy.pcap" "$TEST_TMP/w.jsonl"
	cmp "$TEST_TMP/w.pcap" "$TEST_TMP/copy.pcap"
	run vfuctl dissect --strict "$TEST_TMP/copy.pcap"
	assert_status 0
	assert_not_contains "before VERSION"
	# a state record import cannot read is an event, not a crash: the
	# connection is then taken as begun mid-session
	printf '%s\n' '{"kind":"state","conn":1,"hex":"7b7d"}' \
		'{"kind":"message","conn":1,"dir":"c2s","hex":"0200040020000000000000000000000010000000000000000000000000000000"}' |
		vfuctl import -o "$TEST_TMP/bad.pcap" -
	run vfuctl dissect "$TEST_TMP/bad.pcap"
	assert_status 0
	assert_contains 'session state so far: unusable: no "state" version'
	assert_contains "capture began mid-session"
}
