#!/usr/bin/env bats
# decode.bats - vfuctl decode: golden outputs, the verdicts the vectors'
# EXPECTED.jsonl files ask for, JSON records against `vfuctl schema`, the
# input formats, errors and exit codes, --peer, --byte-order, --strict, the
# peer variants vfuctl-decode(1) documents, and that page's EXAMPLES.
#
# The real captures are in $VECTORS (tests that need them skip without
# them); the synthetic QEMU vectors are in tests/vectors-qemu/.  Goldens are
# in tests/golden/, regenerated with "make update-golden NAME=..." (see
# tests/update-golden.sh, which also defines how each golden is made).

load helpers

# golden_names, golden_needs, golden_run
source "$BATS_TEST_DIRNAME/update-golden.sh"

qemu_vectors=$repo/tests/vectors-qemu

# check_golden NAME: the output of golden NAME is tests/golden/NAME.
check_golden() {
	local name=$1 need
	need=$(golden_needs "$name")
	[ -z "$need" ] || require_vectors "$need"
	[ -f "$repo/tests/golden/$name" ] || {
		echo "missing tests/golden/$name (make update-golden NAME=$name)" >&2
		return 1
	}
	golden_run "$name" > "$TEST_TMP/$name"
	assert_golden "$repo/tests/golden/$name" "$TEST_TMP/$name" || {
		echo "if the change is intended: make update-golden NAME=$name" >&2
		return 1
	}
}

# vector_files DIR: the vector files of DIR, one a line (not EXPECTED.jsonl).
vector_files() {
	local f
	for f in "$1"/*.jsonl; do
		[ "${f##*/}" = EXPECTED.jsonl ] || printf '%s\n' "$f"
	done
}

# summary_counts: "MESSAGES MALFORMED UNKNOWN" from the closing line of the
# last run's text output.
summary_counts() {
	local last=${lines[${#lines[@]} - 1]}
	[[ $last =~ ^([0-9]+)\ messages:\ ([0-9]+)\ malformed,\ ([0-9]+)\ unknown\; ]] ||
		{ echo "no closing line: '$last'" >&2; return 1; }
	echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

# check_expected DIR: every vector file of DIR exits with the status and
# closing-line counts its DIR/EXPECTED.jsonl implies.
check_expected() {
	local dir=$1 f name mal mon unk n got_n got_mal got_unk want bad=0
	for f in $(vector_files "$dir"); do
		name=${f##*/}
		mal=$(jq -r --arg f "$name" 'select(.file == $f and .verdict == "malformed") | .seq' "$dir/EXPECTED.jsonl" | wc -l)
		mon=$(jq -r --arg f "$name" 'select(.file == $f and .verdict == "malformed-or-note") | .seq' "$dir/EXPECTED.jsonl" | wc -l)
		unk=$(jq -r --arg f "$name" 'select(.file == $f and .verdict == "unknown-command") | .seq' "$dir/EXPECTED.jsonl" | wc -l)
		n=$(grep -c . "$f")
		run "$VFUCTL" decode "$f"
		read -r got_n got_mal got_unk < <(summary_counts) || { bad=1; continue; }
		want=0
		[ $((mal + unk)) -gt 0 ] && want=1
		if [ "$got_n" -ne "$n" ]; then
			echo "$name: $got_n messages, the file has $n lines" >&2
			bad=1
		fi
		if [ "$got_mal" -lt "$mal" ] || [ "$got_mal" -gt $((mal + mon)) ]; then
			echo "$name: $got_mal malformed, EXPECTED.jsonl says $mal (+ up to $mon malformed-or-note)" >&2
			bad=1
		fi
		if [ "$got_unk" -ne "$unk" ]; then
			echo "$name: $got_unk unknown, EXPECTED.jsonl says $unk" >&2
			bad=1
		fi
		# malformed-or-note accepted as notes leaves the status at 0
		[ $((got_mal + got_unk)) -gt 0 ] && want=1
		if [ "$status" -ne "$want" ]; then
			echo "$name: exit status $status, expected $want" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

# check_expected_frames DIR: the frames decode -o json marks malformed or
# unknown-command are the seqs DIR/EXPECTED.jsonl lists; a malformed-or-note
# message that is not malformed carries a note.
check_expected_frames() {
	local dir=$1 f name got want ok_either bad=0 s
	for f in $(vector_files "$dir"); do
		name=${f##*/}
		"$VFUCTL" decode -o json "$f" > "$TEST_TMP/out.json" || true
		for v in malformed unknown-command; do
			got=$(jq -r --arg v "$v" 'select(."vfio_user.status" == $v) | ."vfio_user.frame"' "$TEST_TMP/out.json" | sort -n | tr '\n' ' ')
			want=$(jq -r --arg f "$name" --arg v "$v" 'select(.file == $f and .verdict == $v) | .seq' "$dir/EXPECTED.jsonl" | sort -n | tr '\n' ' ')
			ok_either=$(jq -r --arg f "$name" 'select(.file == $f and .verdict == "malformed-or-note") | .seq' "$dir/EXPECTED.jsonl" | tr '\n' ' ')
			if [ "$v" = malformed ]; then
				# drop the malformed-or-note seqs the decoder rejected
				for s in $ok_either; do
					got=$(echo " $got" | sed "s/ $s / /")
					got=${got# }
				done
			fi
			if [ "$got" != "$want" ]; then
				echo "$name: $v frames '$got', EXPECTED.jsonl: '$want'" >&2
				bad=1
			fi
		done
		for s in $(jq -r --arg f "$name" 'select(.file == $f and .verdict == "malformed-or-note") | .seq' "$dir/EXPECTED.jsonl"); do
			if ! jq -s -e --argjson s "$s" 'map(select(."vfio_user.frame" == $s))[0] | ."vfio_user.status" == "malformed" or (."vfio_user.notes" | length > 0)' "$TEST_TMP/out.json" > /dev/null; then
				echo "$name: seq $s is neither malformed nor noted" >&2
				bad=1
			fi
		done
	done
	[ "$bad" -eq 0 ]
}

# all_vector_files: every vector file, the real ones when present.
all_vector_files() {
	[ -d "$VECTORS" ] && vector_files "$VECTORS"
	vector_files "$qemu_vectors"
}

# variants_input: hand-built messages that exercise the groups and variants
# the vectors lack (vfuctl-decode(1), PEER VARIANTS).
variants_input() {
	cat <<-'EOF'
	# GET_REGION_IO_FDS with one 48-byte libvfio-user entry, and with a 40-byte one
	c2s 01000600200000000000000000000000 40000000 00000000 02000000 00000000
	{"dir": "s2c", "nfds": 1, "hex": "01000600500000000100000000000000 40000000 00000000 02000000 01000000 0000000000000000 0400000000000000 00000000 00000000 00000000 07000000 0010000000000000 0000000000000000"}
	c2s 02000600200000000000000000000000 38000000 00000000 02000000 00000000
	{"dir": "s2c", "nfds": 1, "hex": "02000600480000000100000000000000 38000000 00000000 02000000 01000000 0000000000000000 0400000000000000 00000000 00000000 00000000 00000000 0000000000000000"}
	# REGION_READ error reply with a body; DEVICE_GET_INFO error reply with a body
	c2s 03000900200000000000000000000000 0000000000000000 02000000 04000000
	s2c 03000900200000002100000016000000 0000000000000000 02000000 04000000
	c2s 04000400200000000000000000000000 10000000 00000000 00000000 00000000
	s2c 04000400200000002100000016000000 10000000 00000000 00000000 00000000
	# DMA_MAP with libvfio-user's mmap flag, a bare DMA_UNMAP reply
	{"dir": "c2s", "nfds": 1, "hex": "050002003000000000000000000000002000000007000000000000000000000000000000000000000010000000000000"}
	s2c 05000200100000000100000000000000
	c2s 0600030028000000000000000000000018000000000000000000000000000000 0010000000000000
	s2c 06000300100000000100000000000000
	# DEVICE_FEATURE MIGRATION GET with a zeroed buffer; DMA_LOGGING_START with a range
	c2s 07001000200000000000000000000000 10000000 01000100 0000000000000000
	s2c 07001000200000000100000000000000 10000000 01000100 0500000000000000
	c2s 08001000380000000000000000000000 28000000 06000200 0010000000000000 01000000 00000000 0000000000000000 0000100000000000
	s2c 08001000180000000100000000000000 28000000 06000200
	# REGION_WRITE_MULTI of two 24-byte entries with no_reply
	c2s 09000f00480000001000000000000000 0200000000000000 0000000000000000 02000000 01000000 5a00000000000000 0400000000000000 02000000 02000000 3412000000000000
	# DEVICE_GET_REGION_INFO of BAR1 and its reply with a sparse mmap capability
	{"dir":"c2s","nfds":0,"hex":"cdab05006000000000000000000000005000000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}
	{"dir":"s2c","nfds":1,"hex":"cdab0500600000000100000000000000500000000f000000010000002000000000300000000000000000000000000000010001000000000002000000000000000000000000000000001000000000000000200000000000000010000000000000"}
	EOF
}

# --------------------------------------------------------------- goldens

@test "golden: badframe summary" { check_golden badframe.summary; }
@test "golden: badframe -V tree" { check_golden badframe.tree; }
@test "golden: badframe -x hex" { check_golden badframe.hex; }
@test "golden: badframe -o json" { check_golden badframe.json; }
@test "golden: gpio-probe-full slice summary" { check_golden gpio-slice.summary; }
@test "golden: gpio-probe-full slice -V tree" { check_golden gpio-slice.tree; }
@test "golden: gpio-probe-full slice -x hex" { check_golden gpio-slice.hex; }
@test "golden: gpio-probe-full slice -o json" { check_golden gpio-slice.json; }
@test "golden: lvu-client-server-source head summary" { check_golden lvu-head.summary; }
@test "golden: lvu-client-server-source head -V tree" { check_golden lvu-head.tree; }
@test "golden: lvu-client-server-source head -x hex" { check_golden lvu-head.hex; }
@test "golden: lvu-client-server-source head -o json" { check_golden lvu-head.json; }
@test "golden: qemu-dma-rw summary" { check_golden qemu-dma-rw.summary; }
@test "golden: qemu-dma-rw -V tree" { check_golden qemu-dma-rw.tree; }
@test "golden: qemu-dma-rw -x hex" { check_golden qemu-dma-rw.hex; }
@test "golden: qemu-dma-rw -o json" { check_golden qemu-dma-rw.json; }

@test "every golden update-golden.sh knows is in tests/golden/" {
	local name bad=0
	for name in $(golden_names); do
		[ -s "$repo/tests/golden/$name" ] ||
			{ echo "missing tests/golden/$name" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
	[ "$(golden_names | wc -l)" -eq 16 ]
}

@test "update-golden.sh NAME regenerates that golden and nothing else" {
	run env GOLDEN_DIR="$TEST_TMP/g" bash "$repo/tests/update-golden.sh" qemu-dma-rw.tree
	assert_status 0
	[ "$(ls "$TEST_TMP/g")" = qemu-dma-rw.tree ]
	cmp "$TEST_TMP/g/qemu-dma-rw.tree" "$repo/tests/golden/qemu-dma-rw.tree"
	[ "$(tail -n 1 "$TEST_TMP/g/qemu-dma-rw.tree")" = "[exit 1]" ]
}

@test "update-golden.sh rejects an unknown name and lists the names" {
	run env GOLDEN_DIR="$TEST_TMP/g" bash "$repo/tests/update-golden.sh" no-such.golden
	assert_status 2
	assert_contains "unknown golden 'no-such.golden'"
	[ ! -e "$TEST_TMP/g/no-such.golden" ]
	run bash "$repo/tests/update-golden.sh" --list
	assert_status 0
	[ "${#lines[@]}" -eq 16 ]
	assert_contains qemu-dma-rw.json
	run bash "$repo/tests/update-golden.sh"
	assert_status 2
	assert_contains usage
}

@test "make update-golden NAME=... and make update-golden NAME both run update-golden.sh" {
	# with the binary under test, and no rebuild (-o all): a build with
	# other flags would relink it under the tests running beside this one
	run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS GOLDEN_DIR="$TEST_TMP/g" \
		make -s -C "$repo" -o all VFUCTL_BIN="$VFUCTL" \
		update-golden NAME=qemu-dma-rw.summary
	assert_status 0
	cmp "$TEST_TMP/g/qemu-dma-rw.summary" "$repo/tests/golden/qemu-dma-rw.summary"
	run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS GOLDEN_DIR="$TEST_TMP/h" \
		make -s -C "$repo" -o all VFUCTL_BIN="$VFUCTL" \
		update-golden qemu-dma-rw.json
	assert_status 0
	cmp "$TEST_TMP/h/qemu-dma-rw.json" "$repo/tests/golden/qemu-dma-rw.json"
}

# --------------------------------------------------------------- vectors

@test "every real vector exits with the status and counts its EXPECTED.jsonl implies" {
	require_vectors EXPECTED.jsonl
	check_expected "$VECTORS"
}

@test "every synthetic QEMU vector exits with the status and counts its EXPECTED.jsonl implies" {
	check_expected "$qemu_vectors"
}

@test "the real vectors' malformed and unknown messages are the ones EXPECTED.jsonl lists" {
	require_vectors EXPECTED.jsonl
	check_expected_frames "$VECTORS"
}

@test "the synthetic QEMU vectors' malformed messages are the ones EXPECTED.jsonl lists" {
	check_expected_frames "$qemu_vectors"
}

@test "a vector without malformed messages decodes with exit status 0" {
	run "$VFUCTL" decode "$qemu_vectors/qemu-set-irqs-split.jsonl"
	assert_status 0
	assert_contains "90 messages: 0 malformed, 0 unknown;"
}

# --------------------------------------------------------------- JSON

@test "every JSON record parses with jq, one object per message" {
	local f n bad=0
	for f in $(all_vector_files); do
		"$VFUCTL" decode -o json "$f" > "$TEST_TMP/out.json" || true
		n=$(grep -c . "$f")
		if ! jq -s -e 'all(type == "object")' "$TEST_TMP/out.json" > /dev/null; then
			echo "${f##*/}: output does not parse as JSON objects" >&2
			bad=1
		elif [ "$(jq -s length "$TEST_TMP/out.json")" -ne "$n" ] ||
			[ "$(wc -l < "$TEST_TMP/out.json")" -ne "$n" ]; then
			echo "${f##*/}: not one JSON line for each of the $n messages" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

# The jq program that prints every key of a record, and of the objects in its
# group arrays, that is not a property of the schema ($s).
unknown_keys_jq='
def walkkeys($p):
	to_entries[] |
	if ($p[.key] == null) then "unknown key \(.key)"
	elif ($p[.key]["x-kind"] == "group") then
		if (.value | type) != "array" then "group \(.key) is not an array"
		else (.value[] | if type == "object" then walkkeys($p)
			else "group \(.key) holds a non-object" end) end
	else empty end;
walkkeys($s[0].properties)'

@test "every key of every JSON record, in groups too, is a property of vfuctl schema" {
	local f out
	"$VFUCTL" schema > "$TEST_TMP/schema.json"
	variants_input > "$TEST_TMP/variants.txt"
	for f in $(all_vector_files) "$TEST_TMP/variants.txt"; do
		"$VFUCTL" decode -o json "$f" > "$TEST_TMP/${f##*/}.json" || true
		jq -r --slurpfile s "$TEST_TMP/schema.json" "$unknown_keys_jq" "$TEST_TMP/${f##*/}.json" |
			sed "s|^|${f##*/}: |"
	done > "$TEST_TMP/bad-keys"
	out=$(sort -u "$TEST_TMP/bad-keys")
	[ -z "$out" ] || { echo "$out" >&2; false; }
	# the check can fail: the groups of the inputs were walked
	for g in vfio_user.io_fds.sub vfio_user.write_multi.write \
		vfio_user.region_info.cap vfio_user.region_info.sparse.area \
		vfio_user.dma_logging.range; do
		cat "$TEST_TMP"/*.json | grep -q "\"$g\":\[{" ||
			{ echo "no record has group $g" >&2; false; }
	done
	echo '{"vfio_user.frame": 0, "vfio_user.bogus": 1}' |
		jq -r --slurpfile s "$TEST_TMP/schema.json" "$unknown_keys_jq" |
		grep -qx 'unknown key vfio_user.bogus'
}

@test "the malformed record names the field and the byte offset" {
	require_vectors gpio-probe-full.jsonl gpio-probe-badframe.jsonl
	run bash -c '"$VFUCTL" decode -o json "$VECTORS/gpio-probe-full.jsonl" |
		jq -c "select(.\"vfio_user.status\" == \"malformed\") | [.\"vfio_user.frame\", .\"vfio_user.malformed\".error, .\"vfio_user.malformed\".field, .\"vfio_user.malformed\".offset]"'
	assert_status 0
	[ "${lines[0]}" = '[79,"truncated","vfio_user.region.index",24]' ]
	[ "${lines[1]}" = '[83,"truncated","vfio_user.region.data",32]' ]
	[ "${lines[2]}" = '[89,"invalid","vfio_user.argsz",16]' ]
	[ "${#lines[@]}" -eq 3 ]
	run bash -c '"$VFUCTL" decode -o json "$VECTORS/gpio-probe-badframe.jsonl" |
		jq -c "select(.\"vfio_user.frame\" == 2) | .\"vfio_user.malformed\" | [.field, .offset, .text]"'
	[ "$output" = '["vfio_user.size",4,"msg_size 8 is smaller than the 16-byte header"]' ]
}

# The jq program that prints every value whose JSON type is not the one the
# schema gives its key.  $lax: let cmd_name be null and a number field a
# "0x..." string (the two known bugs below).
types_jq='
def jtype: if type == "number" then (if . == floor then "integer" else "number" end) else type end;
def known($k; $v; $t):
	$lax and (($k == "vfio_user.cmd_name" and $v == null) or
		($t == "integer" and ($v | type) == "string" and ($v | test("^0x[0-9a-f]+$"))));
def fits($v; $t):
	($v | jtype) as $j |
	if ($t | type) == "array" then ($t | index($j)) != null or ($j == "integer" and ($t | index("number")) != null)
	else $j == $t or ($j == "integer" and $t == "number") end;
def check($p):
	to_entries[] | .key as $k | .value as $v | ($p[$k].type) as $t |
	if $t == null then empty
	elif (fits($v; $t) | not) and (known($k; $v; $t) | not) then "\($k): \($v | jtype), schema: \($t | tostring)"
	elif $p[$k]["x-kind"] == "group" then ($v[] | check($p))
	else empty end;
check($s[0].properties)'

@test "JSON values have the types the schema gives their keys" {
	local f out
	"$VFUCTL" schema > "$TEST_TMP/schema.json"
	variants_input > "$TEST_TMP/variants.txt"
	for f in $(all_vector_files) "$TEST_TMP/variants.txt"; do
		"$VFUCTL" decode -o json "$f" || true
		"$VFUCTL" decode --peer spec -o json "$f" || true
	done | jq -r --argjson lax true --slurpfile s "$TEST_TMP/schema.json" "$types_jq" |
		sort -u > "$TEST_TMP/bad-types"
	out=$(cat "$TEST_TMP/bad-types")
	[ -z "$out" ] || { echo "$out" >&2; false; }
}

@test "an unknown command's null cmd_name is allowed by the schema" {
	require_vectors gpio-probe-full.jsonl
	"$VFUCTL" schema > "$TEST_TMP/schema.json"
	"$VFUCTL" decode -o json "$VECTORS/gpio-probe-full.jsonl" |
		jq -r --argjson lax false --slurpfile s "$TEST_TMP/schema.json" "$types_jq" \
		> "$TEST_TMP/bad-types"
	[ ! -s "$TEST_TMP/bad-types" ] || { cat "$TEST_TMP/bad-types" >&2; false; }
}

@test "a number above 2^63-1 has a type the schema allows" {
	"$VFUCTL" schema > "$TEST_TMP/schema.json"
	"$VFUCTL" decode --peer spec -o json "$qemu_vectors/qemu-dma-rw.jsonl" |
		jq -r --argjson lax false --slurpfile s "$TEST_TMP/schema.json" "$types_jq" \
		> "$TEST_TMP/bad-types"
	[ ! -s "$TEST_TMP/bad-types" ] || { cat "$TEST_TMP/bad-types" >&2; false; }
}

@test "a message cut inside the header is summarised by the header fields it has" {
	run "$VFUCTL" decode - <<< '02000900'
	assert_status 1
	[[ ${lines[0]} == "    0 c2s 0x0002 REGION_READ command [truncated: "* ]]
	run "$VFUCTL" decode -o json - <<< '02000900'
	[ "$(jq -r '."vfio_user.cmd_name"' <<< "$output")" = REGION_READ ]
	[ "$(jq -r '."vfio_user.msg_id"' <<< "$output")" = 2 ]
}

# --------------------------------------------------------------- input

@test "hex lines: c2s and s2c prefixes give the direction, none means c2s" {
	run "$VFUCTL" decode - <<-'EOF'
	01000100140000000000000000000000 00000200
	s2c 01000100140000000100000000000000 00000200
	c2s 02000400200000000000000000000000 10000000 00000000 00000000 00000000
	s2c 02000400200000000100000000000000 10000000 03000000 09000000 05000000
	EOF
	assert_status 0
	[ "${lines[0]}" = "    0 c2s 0x0001 VERSION command 0.2" ]
	[ "${lines[1]}" = "    1 s2c 0x0001 VERSION reply 0.2 (request #0)" ]
	[ "${lines[2]}" = "    2 c2s 0x0002 DEVICE_GET_INFO command" ]
	[ "${lines[3]}" = "    3 s2c 0x0002 DEVICE_GET_INFO reply regions 9 irqs 5 (request #2)" ]
	[[ ${lines[4]} == "4 messages: 0 malformed, 0 unknown; findings: 0 errors, 0 warnings, 0 notes; 0 unanswered;"* ]]
}

@test "hex lines may separate bytes with spaces, tabs and colons" {
	local a b
	a=$("$VFUCTL" decode -o json - <<< 's2c 0200040020000000010000000000000010000000030000000900000005000000')
	b=$("$VFUCTL" decode -o json - <<< $'s2c 02 00\t04 00:20:00:00:00 01000000 00000000 10000000 03000000 09000000 05000000')
	[ -n "$a" ]
	[ "$a" = "$b" ]
	[ "$(jq -r '."vfio_user.dir"' <<< "$a")" = s2c ]
	[ "$(jq -r '."vfio_user.device_info.num_regions"' <<< "$a")" = 9 ]
	# the prefix is lower case only
	run --separate-stderr "$VFUCTL" decode - <<< 'S2C 0200040020000000010000000000000010000000030000000900000005000000'
	assert_status 2
	[[ $stderr == *"<stdin>:1: not hex digits"* ]]
}

@test "upper-case hex digits decode like lower-case ones" {
	local a b
	a=$("$VFUCTL" decode -o json - <<< 'c2s 0100090020000000000000000000000000FF000000000000020000000A000000')
	b=$("$VFUCTL" decode -o json - <<< 'c2s 0100090020000000000000000000000000ff000000000000020000000a000000')
	[ -n "$a" ]
	[ "$a" = "$b" ]
}

@test "stdin is read with - and without an operand" {
	local line='s2c 02000900100000002100000016000000'
	run "$VFUCTL" decode - <<< "$line"
	assert_status 0
	[ "${lines[0]}" = "    0 s2c 0x0002 REGION_READ reply error EINVAL" ]
	run "$VFUCTL" decode <<< "$line"
	assert_status 0
	[ "${lines[0]}" = "    0 s2c 0x0002 REGION_READ reply error EINVAL" ]
}

@test "comment lines and blank lines are skipped and not counted" {
	run "$VFUCTL" decode - <<-'EOF'
	# a comment
	01000100140000000000000000000000 00000200

	#s2c 01000100140000000100000000000000 00000200
	   
	s2c 01000100140000000100000000000000 00000200
	EOF
	assert_status 0
	[ "${lines[0]}" = "    0 c2s 0x0001 VERSION command 0.2" ]
	[ "${lines[1]}" = "    1 s2c 0x0001 VERSION reply 0.2 (request #0)" ]
	[[ ${lines[2]} == "2 messages: "* ]]
}

@test "JSON lines give dir, chan and nfds; other keys are ignored" {
	run "$VFUCTL" decode -o json - <<-'EOF'
	{"seq": 0, "t_ns": 5, "dir": "c2s", "chan": "twin", "nfds": 0, "fds": [], "note": "x", "hex": "01000100140000000000000000000000 00000200"}
	{"dir": "s2c", "chan": "twin", "fds": [{"kind": "socket"}], "hex": "01000100140000000100000000000000 00000200"}
	EOF
	assert_status 0
	[ "$(jq -r '."vfio_user.dir"' <<< "${lines[0]}")" = c2s ]
	[ "$(jq -r '."vfio_user.chan"' <<< "${lines[0]}")" = twin ]
	[ "$(jq -r '."vfio_user.dir"' <<< "${lines[1]}")" = s2c ]
	[ "$(jq -r '."vfio_user.request_frame"' <<< "${lines[1]}")" = 0 ]
	# the fds array counts: one fd on a VERSION reply is allowed, none
	# that the session would report
	[ "$(jq -r '."vfio_user.findings" // [] | map(.finding) | join(",")' <<< "${lines[1]}")" = "" ]
	run "$VFUCTL" decode - <<-'EOF'
	{"dir": "c2s", "nfds": 1, "hex": "01000400200000000000000000000000 10000000 00000000 00000000 00000000"}
	EOF
	assert_contains "[error] wrong number of file descriptors for this message"
}

@test "a line that is not hex exits 2, names FILE:LINE and the rest is still decoded" {
	printf '%s\n' '# header' 's2c 02000900100000002100000016000000' 'not hex at all' \
		's2c 03000900100000002100000016000000' > "$TEST_TMP/in.txt"
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/in.txt"
	assert_status 2
	[[ $stderr == *"$TEST_TMP/in.txt:3: not hex digits; skipping the line"* ]]
	[ "${lines[0]}" = "    0 s2c 0x0002 REGION_READ reply error EINVAL" ]
	assert_contains "    1 s2c 0x0003 REGION_READ reply error EINVAL"
	assert_contains "2 messages: 0 malformed"
	run --separate-stderr "$VFUCTL" decode - < "$TEST_TMP/in.txt"
	assert_status 2
	[[ $stderr == *"<stdin>:3: not hex digits"* ]]
}

@test "an odd number of hex digits, bad JSON and JSON without hex exit 2 naming the line" {
	printf '%s\n' '020009001000000021000000160000000' > "$TEST_TMP/odd.txt"
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/odd.txt"
	assert_status 2
	[[ $stderr == *"odd.txt:1: "* ]]
	printf '%s\n' '{"hex": "02000900100000002100000016000000"' > "$TEST_TMP/bad.json"
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/bad.json"
	assert_status 2
	[[ $stderr == *"bad.json:1: not a JSON object"* ]]
	printf '%s\n' '{"dir": "s2c"}' '{"hex": "zz"}' > "$TEST_TMP/nohex.json"
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/nohex.json"
	assert_status 2
	[[ $stderr == *'nohex.json:1: JSON line without a "hex" string'* ]]
	[[ $stderr == *'nohex.json:2: "hex" is not hex digits'* ]]
}

@test "a file that cannot be opened or read exits 2 and names it" {
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/no-such-file.jsonl"
	assert_status 2
	[[ $stderr == *"cannot open '$TEST_TMP/no-such-file.jsonl'"* ]]
	[ -z "$output" ]
	mkdir "$TEST_TMP/dir"
	run --separate-stderr "$VFUCTL" decode "$TEST_TMP/dir"
	assert_status 2
	[[ $stderr == *"'$TEST_TMP/dir'"* ]]
}

@test "usage errors exit 2 with try 'vfuctl decode --help' and nothing on stdout" {
	local args
	for args in "--frobnicate" "-q" "--peer bogus" "--peer" "-o xml" "-o" \
		"--output=yaml" "--byte-order middle" "a.jsonl b.jsonl"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$VFUCTL" decode $args
		if [ "$status" -ne 2 ] || [[ $stderr != *"try 'vfuctl decode --help'"* ]] ||
			[ -n "$output" ]; then
			echo "vfuctl decode $args: status $status, stderr: $stderr, stdout: $output" >&2
			return 1
		fi
	done
	run --separate-stderr "$VFUCTL" decode --peer bogus
	[[ $stderr == *"invalid peer 'bogus'"* ]]
	run --separate-stderr "$VFUCTL" decode -o xml
	[[ $stderr == *"invalid output format 'xml'"* ]]
	run --separate-stderr "$VFUCTL" decode --byte-order middle
	[[ $stderr == *"invalid byte order 'middle'"* ]]
}

@test "--strict turns an error finding into exit status 1" {
	require_vectors gpio-probe-full.jsonl
	# VERSION, GET_INFO, BAR2's region info, then seq 81 (8 bytes at 0xfc of
	# the 256-byte BAR2) and its EINVAL reply: well formed, one error finding
	sed -n '1,4p;9,10p;82,83p' "$VECTORS/gpio-probe-full.jsonl" > "$TEST_TMP/oob.jsonl"
	run "$VFUCTL" decode "$TEST_TMP/oob.jsonl"
	assert_status 0
	assert_contains "[error] access outside the region's size: bar2+0xfc len 8 runs past its size 0x100"
	assert_contains "8 messages: 0 malformed, 0 unknown; findings: 1 errors"
	run "$VFUCTL" decode --strict "$TEST_TMP/oob.jsonl"
	assert_status 1
	run "$VFUCTL" decode --strict -o json "$TEST_TMP/oob.jsonl"
	assert_status 1
}

@test "--strict leaves a session without error findings at exit status 0" {
	run "$VFUCTL" decode --strict "$qemu_vectors/qemu-msgid-wrap.jsonl"
	assert_status 0
	assert_contains "findings: 0 errors"
	run "$VFUCTL" decode --strict - <<< 'not hex'
	assert_status 2
}

# --------------------------------------------------------------- --peer

# dma_fields PEER FRAME: "variant status count count32" of a frame of
# qemu-dma-rw.jsonl decoded with --peer PEER.
dma_fields() {
	"$VFUCTL" decode --peer "$1" -o json "$qemu_vectors/qemu-dma-rw.jsonl" |
		jq -r --argjson f "$2" 'select(."vfio_user.frame" == $f) |
			[."vfio_user.variant", ."vfio_user.status",
			 (."vfio_user.dma.count" // "-"), (."vfio_user.dma.count32" // "-")] | join(" ")'
}

@test "--peer qemu and --peer spec decode qemu-dma-rw's DMA in different forms" {
	# 63: DMA_READ command, the same bytes in both forms
	[ "$(dma_fields qemu 63)" = "qemu ok - 64" ]
	[ "$(dma_fields spec 63)" = "spec ok 64 -" ]
	# 65: DMA_WRITE command of 64 bytes in QEMU's form
	[ "$(dma_fields qemu 65)" = "qemu ok - 64" ]
	[[ $(dma_fields spec 65) == "spec malformed "*" -" ]]
	# 66: its bare-header reply
	[ "$(dma_fields qemu 66)" = "qemu ok - -" ]
	[ "$(dma_fields spec 66)" = "spec malformed - -" ]
	[ "$(dma_fields libvfio-user 66)" = "libvfio-user malformed - -" ]
	run "$VFUCTL" decode --peer spec "$qemu_vectors/qemu-dma-rw.jsonl"
	assert_status 1
	assert_contains "94 messages: 12 malformed"
}

@test "--peer auto recognises QEMU from its VERSION and decodes its DMA like --peer qemu" {
	local a q
	a=$("$VFUCTL" decode -o json "$qemu_vectors/qemu-dma-rw.jsonl" |
		jq -c 'select(."vfio_user.cmd" == 11 or ."vfio_user.cmd" == 12) | del(."vfio_user.findings")')
	q=$("$VFUCTL" decode --peer qemu -o json "$qemu_vectors/qemu-dma-rw.jsonl" |
		jq -c 'select(."vfio_user.cmd" == 11 or ."vfio_user.cmd" == 12) | del(."vfio_user.findings")')
	[ -n "$a" ]
	[ "$a" = "$q" ]
	run "$VFUCTL" decode "$qemu_vectors/qemu-dma-rw.jsonl"
	assert_contains "client qemu, server unknown"
	# an explicit --peer turns recognition off
	run "$VFUCTL" decode --peer qemu "$qemu_vectors/qemu-dma-rw.jsonl"
	assert_contains "client unknown, server unknown"
}

@test "--peer auto recognises libvfio-user's client and server" {
	require_vectors lvu-client-server-source.jsonl gpio-probe-full.jsonl
	run "$VFUCTL" decode "$VECTORS/lvu-client-server-source.jsonl"
	assert_status 0
	assert_contains "client libvfio-user, server libvfio-user"
	run "$VFUCTL" decode "$VECTORS/gpio-probe-full.jsonl"
	assert_contains "client unknown, server libvfio-user"
	run "$VFUCTL" decode --peer libvfio-user "$VECTORS/lvu-client-server-source.jsonl"
	assert_status 0
	assert_contains "client unknown, server unknown"
}

@test "DMA_WRITE replies: bare is QEMU's, 12 bytes the spec's, 16 libvfio-user's" {
	local bare='c2s 01000c00100000000100000000000000'
	local spec='c2s 01000c001c0000000100000000000000 0010000000000000 04000000'
	local lvu='c2s 01000c00200000000100000000000000 0010000000000000 0400000000000000'
	variant() { "$VFUCTL" decode "$@" -o json - | jq -r '[."vfio_user.variant", ."vfio_user.status"] | join(" ")'; }
	[ "$(variant <<< "$bare")" = "qemu ok" ]
	[ "$(variant <<< "$spec")" = "spec ok" ]
	[ "$(variant <<< "$lvu")" = "libvfio-user ok" ]
	[ "$(variant --peer qemu <<< "$spec")" = "qemu malformed" ]
	[ "$(variant --peer spec <<< "$lvu")" = "spec malformed" ]
	[ "$(variant --peer libvfio-user <<< "$bare")" = "libvfio-user malformed" ]
	[ "$(variant --peer libvfio-user <<< "$lvu")" = "libvfio-user ok" ]
}

@test "without recognition a DMA_WRITE is the spec's form when its u64 count fits, QEMU's when only the u32 count does" {
	local spec='s2c 01000c00240000000000000000000000 0010000000000000 0400000000000000 deadbeef'
	local qemu='s2c 01000c00240000000000000000000000 0010000000000000 04000000 deadbeef 00000000'
	local qemu0='s2c 01000c00240000000000000000000000 0010000000000000 04000000 00000000 00000000'
	local nopad='s2c 01000b001c0000000000000000000000 0010000000000000 04000000'
	form() { "$VFUCTL" decode "$@" -o json - | jq -r '[."vfio_user.variant", ."vfio_user.status", ."vfio_user.dma.data"] | join(" ")'; }
	[ "$(form <<< "$spec")" = "spec ok deadbeef" ]
	[ "$(form <<< "$qemu")" = "qemu ok deadbeef" ]
	# QEMU's form whose first data bytes are zero looks like the spec's
	[ "$(form <<< "$qemu0")" = "spec ok 00000000" ]
	[ "$(form --peer qemu <<< "$qemu0")" = "qemu ok 00000000" ]
	# a 12-byte DMA_READ command lacks QEMU's padding
	[ "$(form <<< "$nopad")" = "qemu malformed " ]
}

# --------------------------------------------------------------- --byte-order

@test "--byte-order be decodes a big-endian message" {
	# the header and DEVICE_GET_INFO, each u32/u16 printed most significant
	# byte first; then REGION_WRITE of 4 bytes 12 34 56 78
	{
		printf 'c2s %04x%04x%08x%08x%08x %08x%08x%08x%08x\n' 1 4 32 0 0 16 0 0 0
		printf 's2c %04x%04x%08x%08x%08x %08x%08x%08x%08x\n' 1 4 32 1 0 16 3 9 5
		printf 'c2s %04x%04x%08x%08x%08x %016x%08x%08x %s\n' 2 10 36 0 0 16 2 4 12345678
	} > "$TEST_TMP/be.txt"
	run "$VFUCTL" decode --byte-order be "$TEST_TMP/be.txt"
	assert_status 0
	[ "${lines[0]}" = "    0 c2s 0x0001 DEVICE_GET_INFO command" ]
	assert_contains "    1 s2c 0x0001 DEVICE_GET_INFO reply regions 9 irqs 5 (request #0)"
	assert_contains "    2 c2s 0x0002 REGION_WRITE command bar2+0x10 len 4 = 0x12345678"
	assert_contains "3 messages: 0 malformed"
	run "$VFUCTL" decode --byte-order be -o json "$TEST_TMP/be.txt"
	[ "$(jq -r 'select(."vfio_user.frame" == 1) | ."vfio_user.device_info.num_regions"' <<< "$output")" = 9 ]
	# read as little-endian the same bytes are nonsense
	run "$VFUCTL" decode --byte-order le "$TEST_TMP/be.txt"
	assert_status 1
	assert_contains "3 messages: 3 malformed"
}

# --------------------------------------------------------------- peer variants

# json_of FRAME: the JSON record of FRAME in the variants input.
json_of() {
	variants_input | "$VFUCTL" decode -o json - | jq -c --argjson f "$1" 'select(."vfio_user.frame" == $f)'
}

# notes_of JSON: the note ids of a record, comma-separated.
notes_of() {
	jq -r '."vfio_user.notes" // [] | map(.note) | join(",")' <<< "$1"
}

@test "the hand-built peer variants decode without malformed messages" {
	variants_input > "$TEST_TMP/variants.txt"
	run "$VFUCTL" decode "$TEST_TMP/variants.txt"
	assert_status 0
	assert_contains "19 messages: 0 malformed, 0 unknown;"
}

@test "GET_REGION_IO_FDS: 48-byte entries are libvfio-user's, 40-byte ones the spec's" {
	local j
	j=$(json_of 1)
	[ "$(jq -r '."vfio_user.variant"' <<< "$j")" = libvfio-user ]
	[ "$(notes_of "$j")" = VARIANT_LVU ]
	[ "$(jq -c '."vfio_user.io_fds.sub"[0] | [."vfio_user.io_fds.shadow_fd_index", ."vfio_user.io_fds.shadow_offset"]' <<< "$j")" = "[7,4096]" ]
	j=$(json_of 3)
	[ "$(jq -r '."vfio_user.variant" // "none"' <<< "$j")" = none ]
	[ "$(jq -c '."vfio_user.io_fds.sub"[0] | keys | map(select(test("padding|shadow")))' <<< "$j")" = '["vfio_user.io_fds.padding"]' ]
}

@test "error replies that keep a body are accepted with a note" {
	local j
	j=$(json_of 5)
	[ "$(jq -r '."vfio_user.status"' <<< "$j")" = ok ]
	[ "$(notes_of "$j")" = ERROR_BODY ]
	[ "$(jq -r '."vfio_user.region.count"' <<< "$j")" = 4 ]
	j=$(json_of 7)
	[ "$(notes_of "$j")" = ERROR_BODY ]
	[ "$(jq -r '."vfio_user.error_body"' <<< "$j")" = 10000000000000000000000000000000 ]
}

@test "DMA_MAP flags mmap and file_io are accepted with a note, higher bits are malformed" {
	local j
	j=$(json_of 8)
	[ "$(jq -r '."vfio_user.status"' <<< "$j")" = ok ]
	[ "$(notes_of "$j")" = VARIANT_LVU ]
	run "$VFUCTL" decode -o json - <<< 'c2s 050002003000000000000000000000002000000013000000000000000000000000000000000000000010000000000000'
	assert_status 1
	[ "$(jq -r '."vfio_user.malformed".field' <<< "$output")" = vfio_user.dma_map.flags ]
}

@test "DMA_UNMAP replies: an echo decodes like the request, a bare header gets a note" {
	local j
	j=$(json_of 11)
	[ "$(notes_of "$j")" = BARE_UNMAP_REPLY ]
	[ "$(jq -r '."vfio_user.status"' <<< "$j")" = ok ]
	require_vectors gpio-probe-full.jsonl null-probe-full.jsonl
	run bash -c '"$VFUCTL" decode -o json "$VECTORS/gpio-probe-full.jsonl" | jq -c "select(.\"vfio_user.cmd\" == 3 and .\"vfio_user.type\" == \"reply\") | [.\"vfio_user.dma.size\", .\"vfio_user.notes\"]"'
	[ "$output" = "[8192,null]" ]
	run bash -c '"$VFUCTL" decode -o json "$VECTORS/null-probe-full.jsonl" | jq -c "select(.\"vfio_user.cmd\" == 3 and .\"vfio_user.type\" == \"reply\") | [.\"vfio_user.status\", .\"vfio_user.notes\"[0].note]"'
	[ "$output" = '["ok","BARE_UNMAP_REPLY"]' ]
}

@test "DEVICE_FEATURE GET requests carrying a zeroed buffer are accepted" {
	local j
	j=$(json_of 12)
	[ "$(jq -r '[."vfio_user.status", ."vfio_user.migration.flags"] | join(" ")' <<< "$j")" = "ok 0" ]
	run "$VFUCTL" decode -o json - <<< 'c2s 04001000200000000000000000000000 10000000 02000100 00000000 00000000'
	assert_status 0
	[ "$(jq -r '."vfio_user.mig_state.device_state"' <<< "$output")" = 0 ]
	run "$VFUCTL" decode - <<< 'c2s 05001000180000000000000000000000 10000000 01000100'
	assert_status 0
	# a reply whose argsz is not its payload's size gets a note
	[ "$(notes_of "$(json_of 15)")" = ARGSZ_MISMATCH ]
	[ "$(jq -c '."vfio_user.dma_logging.range"' <<< "$(json_of 14)")" = '[{"vfio_user.dma_logging.iova":0,"vfio_user.dma_logging.length":1048576}]' ]
}

@test "REGION_WRITE_MULTI: 24-byte entries with no_reply, no reply expected" {
	local j
	j=$(json_of 16)
	[ "$(jq -r '."vfio_user.status"' <<< "$j")" = ok ]
	[ "$(jq -c '[."vfio_user.write_multi.write"[] | ."vfio_user.region.count"]' <<< "$j")" = "[1,2]" ]
	run "$VFUCTL" decode "$qemu_vectors/qemu-write-multi.jsonl"
	assert_status 0
	assert_contains "1088 c2s 0x0421 REGION_WRITE_MULTI command no_reply 200 writes"
	assert_contains "1089 c2s 0x0422 REGION_WRITE_MULTI command no_reply 5 writes"
	assert_contains "; 0 unanswered;"
	# a reply to it anyway
	{ cat "$qemu_vectors/qemu-write-multi.jsonl"
	  echo 's2c 22040f00180000000100000000000000 0500000000000000'; } > "$TEST_TMP/wm.txt"
	run "$VFUCTL" decode -o json "$TEST_TMP/wm.txt"
	assert_status 0
	[ "$(jq -r 'select(."vfio_user.frame" == 1097) | ."vfio_user.findings"[0].finding' <<< "$output")" = REPLY_TO_NO_REPLY ]
	# an entry with count 9 does not fit its 8-byte slot
	run "$VFUCTL" decode - <<< 'c2s 09000f00300000001000000000000000 0100000000000000 0000000000000000 02000000 09000000 5a00000000000000'
	assert_status 1
	assert_contains "invalid at offset 36 (vfio_user.region.count)"
}

@test "MIG_DATA_READ reply padded with zeros gets a note, not REPLY_OVER_ARGSZ" {
	require_vectors lvu-client-server-source.jsonl
	run bash -c '"$VFUCTL" decode -o json "$VECTORS/lvu-client-server-source.jsonl" | jq -c "select(.\"vfio_user.frame\" == 223) | [.\"vfio_user.status\", .\"vfio_user.notes\"[0].note, (.\"vfio_user.trailing\" | length), .\"vfio_user.findings\"]"'
	[ "$output" = '["ok","PADDING",2032,null]' ]
	# a padding byte that is not zero is malformed
	run "$VFUCTL" decode - <<< 's2c 01001100200000000100000000000000 10000000 04000000 aabbccdd 00000100'
	assert_status 1
	assert_contains "(vfio_user.trailing)"
}

@test "DEVICE_GET_REGION_INFO: short and whole-buffer requests accepted, argsz retry noted" {
	require_vectors lvu-client-server-source.jsonl
	# QEMU: argsz 80, only the 32-byte fixed part sent
	run "$VFUCTL" decode - <<< 'c2s 01000500300000000000000000000000 50000000 00000000 01000000 00000000 0000000000000000 0000000000000000'
	assert_status 0
	# libvfio-user's client: the whole 80-byte buffer (seq 10); the reply
	# before it asks for argsz 80 (seq 9)
	run bash -c 'head -n 11 "$VECTORS/lvu-client-server-source.jsonl" | "$VFUCTL" decode -o json - | jq -c "select(.\"vfio_user.frame\" >= 9) | [.\"vfio_user.status\", (.\"vfio_user.notes\" // [] | map(.note)), (.\"vfio_user.trailing\" // \"\" | length)]"'
	[ "${lines[0]}" = '["ok",["ARGSZ_RETRY"],0]' ]
	[ "${lines[1]}" = '["ok",[],96]' ]
	# argsz below the fixed 32 bytes is malformed
	run "$VFUCTL" decode - <<< 'c2s 01000500300000000000000000000000 10000000 00000000 01000000 00000000 0000000000000000 0000000000000000'
	assert_status 1
	assert_contains "(vfio_user.argsz)"
}

@test "DEVICE_GET_REGION_INFO short replies: the kernel's, libvfio-user's and vfuctl server's forms all accepted" {
	local req='c2s 01000500300000000000000000000000 20000000 00000000 02000000 00000000 0000000000000000 0000000000000000'
	local flags off flags_off
	# caps with cap_offset 0 (kernel), no caps flag (libvfio-user 7e7a0a6),
	# caps with cap_offset 32 (vfuctl server, as QEMU requires)
	for flags_off in "0f000000 00000000" "07000000 00000000" "0f000000 20000000"; do
		read -r flags off <<< "$flags_off"
		run "$VFUCTL" decode -o json - <<< "$req
s2c 01000500300000000100000000000000 50000000 $flags 02000000 $off 0040000000000000 0000000000000000"
		assert_status 0
		[ "$(jq -c 'select(."vfio_user.dir" == "s2c") | [."vfio_user.status", (."vfio_user.notes" // [] | map(.note))]' <<< "$output")" = '["ok",["ARGSZ_RETRY"]]' ]
	done
}

# --------------------------------------------------------------- documentation

@test "vfuctl-decode.1 EXAMPLES run with the exit status and output shown" {
	run bash "$repo/tests/golden/run-man-examples.sh" "$repo/man/vfuctl-decode.1"
	assert_status 0
	[[ $output =~ vfuctl-decode.1:\ ([0-9]+)\ examples\ run ]]
	[ "${BASH_REMATCH[1]}" -ge 5 ]
}

@test "vfuctl-decode.1 lists every finding with its severity and every note" {
	local id bad=0 page=$repo/man/vfuctl-decode.1
	page_lists_findings "$page" || bad=1
	while read -r id; do
		grep -qxF ".It Li $id" "$page" ||
			{ echo "note $id not in the page" >&2; bad=1; }
	done < <(sed -n 's/^VX_NOTE(\([A-Z_0-9]*\),.*/\1/p' "$repo/lib/notes.def")
	[ "$bad" -eq 0 ]
	[ "$(grep -c '^VX_FINDING(' "$repo/lib/findings.def")" -gt 20 ]
}

@test "vfuctl-decode.1 SYNOPSIS and options mirror vfuctl decode --help" {
	local usage synopsis options opt bad=0
	usage=$("$VFUCTL" decode --help | sed -n '1,/^$/p')
	synopsis=$(mandoc -T ascii "$repo/man/vfuctl-decode.1" | sed 's/.\x08//g' |
		sed -n '/^SYNOPSIS/,/^[A-Z]/p')
	options=$(mandoc -T ascii "$repo/man/vfuctl-decode.1" | sed 's/.\x08//g' |
		sed -n '/^DESCRIPTION/,/^[A-Z]/p')
	for opt in $(grep -o -- '--*[A-Za-z][a-z-]*' <<< "$usage" | sort -u) text json le be; do
		[[ $synopsis == *"$opt"* ]] || { echo "SYNOPSIS lacks $opt" >&2; bad=1; }
	done
	for opt in $("$VFUCTL" decode --help | grep '^  *-' | grep -o -- '--*[A-Za-z][a-z-]*'); do
		[[ $options == *"$opt"* ]] || { echo "options lack $opt" >&2; bad=1; }
	done
	for opt in auto spec libvfio-user qemu; do
		[[ $options == *"$opt"* ]] || { echo "options lack --peer $opt" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "README links lib/PEER-VARIANTS.md, which covers every variant section of vfuctl-decode.1" {
	grep -q '(lib/PEER-VARIANTS.md)' "$repo/README.md"
	[ -f "$repo/lib/PEER-VARIANTS.md" ]
	local ss bad=0
	while IFS= read -r ss; do
		grep -qiF "$ss" "$repo/lib/PEER-VARIANTS.md" ||
			{ echo "lib/PEER-VARIANTS.md lacks '$ss'" >&2; bad=1; }
	done < <(sed -n '/^\.Sh PEER VARIANTS/,/^\.Sh /s/^\.Ss //p' "$repo/man/vfuctl-decode.1")
	[ "$bad" -eq 0 ]
}

@test "completion offers every decode option, their values and files" {
	local opt
	run complete_words vfuctl decode -
	for opt in -V -x -o --output --peer --byte-order --strict -h --help; do
		[[ $'\n'$output$'\n' == *$'\n'$opt$'\n'* ]] || { echo "$opt not offered: $output" >&2; false; }
	done
	run complete_words vfuctl decode --st
	[ "$output" = --strict ]
	run complete_words vfuctl decode --output ""
	[ "$(echo $output)" = "text json" ]
	# --opt=value, split by bash at "=" or not
	run complete_words vfuctl decode --peer = l
	[ "$output" = libvfio-user ]
	run complete_words vfuctl decode --peer =
	[ "$(echo $output)" = "auto spec libvfio-user qemu" ]
	run complete_words vfuctl decode --byte-order=b
	[ "$output" = --byte-order=be ]
	run complete_words vfuctl decode -V -o json --peer qemu "$qemu_vectors/qemu-dma"
	[ "$output" = "$qemu_vectors/qemu-dma-rw.jsonl" ]
}

@test "argsz smaller than a command's own structure is malformed, as VFIO's EINVAL" {
	# DMA_MAP, DMA_UNMAP, SET_IRQS (and with bool data), MIG_DATA_READ/WRITE
	run "$VFUCTL" decode - <<'EOF2'
c2s 01000200300000000000000000000000 10000000 03000000 0000000000000000 0000100000000000 0010000000000000
c2s 02000300280000000000000000000000 08000000 00000000 0000100000000000 0010000000000000
c2s 03000800240000000000000000000000 08000000 21000000 02000000 00000000 01000000
c2s 04001100180000000000000000000000 04000000 10000000
c2s 050012001c0000000000000000000000 04000000 04000000 aabbccdd
c2s 06000800250000000000000000000000 14000000 22000000 02000000 00000000 01000000 01
EOF2
	assert_status 1
	assert_contains "argsz 16 is smaller than DMA_MAP's 32-byte structure"
	assert_contains "argsz 8 is smaller than DMA_UNMAP's 24-byte structure"
	assert_contains "argsz 8 is smaller than DEVICE_SET_IRQS's 20-byte structure"
	assert_contains "argsz 4 is smaller than MIG_DATA_READ's 8-byte structure"
	assert_contains "argsz 4 is smaller than MIG_DATA_WRITE's 8-byte structure"
	assert_contains "argsz 20 is smaller than DEVICE_SET_IRQS's 21-byte structure"
	assert_contains "6 messages: 6 malformed"
	# argsz that covers the structure is fine; more than it only a note
	run "$VFUCTL" decode - <<< 'c2s 01000200300000000000000000000000 28000000 03000000 0000000000000000 0000100000000000 0010000000000000'
	assert_status 0
	assert_contains "1 messages: 0 malformed"
}
