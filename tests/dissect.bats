#!/usr/bin/env bats
# dissect.bats - vfuctl dissect: every vector as a trace, goldens of the
# four views, display filters (operators, field kinds, pseudo-fields,
# shortcut options, syntax errors), -c, -t, -w, -o jsonl round trips,
# -o json against `vfuctl schema`, unreadable traces, --strict, --follow,
# colour, completion and vfuctl-dissect(1).
#
# Traces are built in $TEST_TMP with `vfuctl import` from the vectors in
# $VECTORS; tests that need them skip without them.  The goldens are in
# tests/golden/dissect/; regenerate them with
#
#   UPDATE_GOLDEN=1 bats tests/dissect.bats -f golden
#
# (tests/update-golden.sh only knows decode's goldens).

load helpers

golden_dir=$repo/tests/golden/dissect

# trace NAME [LINES]: $TEST_TMP/NAME.pcap imported from $VECTORS/NAME.jsonl
# (its first LINES lines only, if given); prints the path.
trace() {
	local name=$1 lines=${2:-} out
	out=$TEST_TMP/$name${lines:+-$lines}.pcap
	if [ ! -f "$out" ]; then
		if [ -n "$lines" ]; then
			head -n "$lines" "$VECTORS/$name.jsonl" |
				"$VFUCTL" import -o "$out" - >&2 || return 1
		else
			"$VFUCTL" import -o "$out" "$VECTORS/$name.jsonl" >&2 || return 1
		fi
	fi
	printf '%s\n' "$out"
}

# vector_names: the vector files of $VECTORS without .jsonl, one a line.
vector_names() {
	local f
	for f in "$VECTORS"/*.jsonl; do
		f=${f##*/}
		[ "$f" = EXPECTED.jsonl ] || printf '%s\n' "${f%.jsonl}"
	done
}

# shown ARGS...: the "N shown" count of vfuctl dissect ARGS's closing line.
shown() {
	local last
	last=$("$VFUCTL" dissect "$@" | tail -n 1)
	[[ $last =~ ,\ ([0-9]+)\ shown\; ]] ||
		{ echo "no closing line: '$last'" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# count_json TRACE JQ-FILTER: how many of TRACE's decoded messages
# (dissect -o json) the jq boolean JQ-FILTER holds for.
count_json() {
	"$VFUCTL" dissect -o json "$1" |
		jq -c "select(has(\"vfio_user.event\") | not) | select($2)" | wc -l
}

# shown_msgs ARGS...: how many messages (not events) vfuctl dissect ARGS
# shows.
shown_msgs() {
	"$VFUCTL" dissect -o json "$@" | jq -c 'select(has("vfio_user.event") | not)' | wc -l
}

# check_filter TRACE FILTER JQ: dissect -Y FILTER shows exactly the
# messages JQ selects from the decoded JSON, and that is not none (unless
# a fourth argument "none" says so).
check_filter() {
	local got want
	got=$(shown_msgs -Y "$2" "$1") || return 1
	want=$(count_json "$1" "$3")
	if [ "$got" -ne "$want" ]; then
		echo "-Y '$2': $got shown, jq '$3' selects $want" >&2
		return 1
	fi
	if [ "${4:-}" != none ] && [ "$got" -eq 0 ]; then
		echo "-Y '$2' selects nothing: not a useful test" >&2
		return 1
	fi
}

# same_count TRACE FILTER1 FILTER2: the two filters show the same number.
same_count() {
	local a b
	a=$(shown -Y "$2" "$1") && b=$(shown -Y "$3" "$1") || return 1
	[ "$a" -eq "$b" ] ||
		{ echo "'$2' shows $a, '$3' shows $b" >&2; return 1; }
}

# golden_cmd NAME: print the output of golden NAME (INPUT.VIEW) and a last
# line "[exit N]".  INPUT gpio-probe-full is the whole vector, lvu-head30 the
# first 30 lines of lvu-client-server-source; VIEW summary (-t r), tree
# (-V), hex (-x), json (-o json).
golden_cmd() {
	local name=$1 t opt status=0
	case ${name%.*} in
	gpio-probe-full) t=$(trace gpio-probe-full) ;;
	lvu-head30) t=$(trace lvu-client-server-source 30) ;;
	*) return 2 ;;
	esac
	case ${name##*.} in
	summary) opt='-t r' ;;
	tree) opt=-V ;;
	hex) opt=-x ;;
	json) opt='-o json' ;;
	esac
	# the trace as a relative name, so the output does not hold $TEST_TMP
	# shellcheck disable=SC2086
	(cd "${t%/*}" && "$VFUCTL" dissect $opt "${t##*/}" 2>&1) || status=$?
	printf '[exit %d]\n' "$status"
}

# check_golden NAME: the output of golden NAME is tests/golden/dissect/NAME;
# with UPDATE_GOLDEN=1 it is written there instead.
check_golden() {
	local name=$1
	case $name in
	gpio-probe-full.*) require_vectors gpio-probe-full.jsonl ;;
	lvu-head30.*) require_vectors lvu-client-server-source.jsonl ;;
	esac
	golden_cmd "$name" > "$TEST_TMP/$name"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p "$golden_dir"
		cp "$TEST_TMP/$name" "$golden_dir/$name"
		return 0
	fi
	[ -f "$golden_dir/$name" ] ||
		{ echo "missing $golden_dir/$name (UPDATE_GOLDEN=1)" >&2; return 1; }
	assert_golden "$golden_dir/$name" "$TEST_TMP/$name" || {
		echo "if the change is intended: UPDATE_GOLDEN=1 bats tests/dissect.bats -f golden" >&2
		return 1
	}
}

# record_offset FILE N: the byte offset of the pcap record header of frame N.
record_offset() {
	local file=$1 n=$2 off=24 i len
	for ((i = 1; i < n; i++)); do
		len=$(od -An -tu4 -j $((off + 8)) -N4 "$file" | tr -d ' ')
		off=$((off + 16 + len))
	done
	echo "$off"
}

# ------------------------------------------------------------ every vector

@test "every vector imports and dissects with exit 0; the closing line counts its lines and EXPECTED.jsonl's verdicts" {
	require_vectors EXPECTED.jsonl
	local name t n notes mal mon unk last bad=0
	for name in $(vector_names); do
		t=$(trace "$name") || { echo "$name: import failed" >&2; bad=1; continue; }
		n=$(grep -c . "$VECTORS/$name.jsonl")
		notes=$(jq -c 'select(has("note"))' "$VECTORS/$name.jsonl" | wc -l)
		mal=$(jq -r --arg f "$name.jsonl" 'select(.file == $f and .verdict == "malformed") | .seq' "$VECTORS/EXPECTED.jsonl" | wc -l)
		mon=$(jq -r --arg f "$name.jsonl" 'select(.file == $f and .verdict == "malformed-or-note") | .seq' "$VECTORS/EXPECTED.jsonl" | wc -l)
		unk=$(jq -r --arg f "$name.jsonl" 'select(.file == $f and .verdict == "unknown-command") | .seq' "$VECTORS/EXPECTED.jsonl" | wc -l)
		run --separate-stderr "$VFUCTL" dissect "$t"
		if [ "$status" -ne 0 ]; then
			echo "$name: exit status $status: $stderr" >&2
			bad=1
			continue
		fi
		last=${lines[${#lines[@]} - 1]}
		# n messages, the notes as annotations, and the closing digest
		if ! [[ $last =~ ^--\ ([0-9]+)\ records,\ ([0-9]+)\ messages\ \(([0-9]+)\ malformed,\ ([0-9]+)\ unknown\),\ ([0-9]+)\ shown\; ]]; then
			echo "$name: closing line '$last'" >&2
			bad=1
			continue
		fi
		[ "${BASH_REMATCH[1]}" -eq $((n + notes + 1)) ] ||
			{ echo "$name: ${BASH_REMATCH[1]} records, want $((n + notes + 1))" >&2; bad=1; }
		[ "${BASH_REMATCH[2]}" -eq "$n" ] ||
			{ echo "$name: ${BASH_REMATCH[2]} messages, the file has $n lines" >&2; bad=1; }
		if [ "${BASH_REMATCH[3]}" -lt "$mal" ] || [ "${BASH_REMATCH[3]}" -gt $((mal + mon)) ]; then
			echo "$name: ${BASH_REMATCH[3]} malformed, EXPECTED.jsonl says $mal (+ up to $mon)" >&2
			bad=1
		fi
		[ "${BASH_REMATCH[4]}" -eq "$unk" ] ||
			{ echo "$name: ${BASH_REMATCH[4]} unknown, EXPECTED.jsonl says $unk" >&2; bad=1; }
		[ "${BASH_REMATCH[5]}" -eq "${BASH_REMATCH[1]}" ] ||
			{ echo "$name: not every record shown" >&2; bad=1; }
		# one line per record, plus findings, plus the closing line
		[ "$(grep -c '^ *[0-9][0-9]* [0-9]' <<< "$output")" -eq "${BASH_REMATCH[1]}" ] ||
			{ echo "$name: not one line per record" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "the malformed and unknown messages are those EXPECTED.jsonl lists, by frame" {
	require_vectors EXPECTED.jsonl gpio-probe-full.jsonl null-probe-full.jsonl
	local name t want got
	for name in gpio-probe-full null-probe-full; do
		t=$(trace "$name")
		# frame = seq + 1 (no annotations in these files)
		want=$(jq -r --arg f "$name.jsonl" 'select(.file == $f and (.verdict == "malformed" or .verdict == "unknown-command")) | .seq + 1' "$VECTORS/EXPECTED.jsonl" | sort -n | tr '\n' ' ')
		got=$("$VFUCTL" dissect -o json -Y 'vfio_user.status == malformed || vfio_user.status == unknown-command' "$t" |
			jq -r '."vfio_user.frame"' | sort -n | tr '\n' ' ')
		[ "$got" = "$want" ] || { echo "$name: frames $got, want $want" >&2; false; }
	done
}

# ------------------------------------------------------------------ goldens

@test "golden: gpio-probe-full summary (-t r)" { check_golden gpio-probe-full.summary; }
@test "golden: gpio-probe-full -V tree" { check_golden gpio-probe-full.tree; }
@test "golden: gpio-probe-full -x hex" { check_golden gpio-probe-full.hex; }
@test "golden: gpio-probe-full -o json" { check_golden gpio-probe-full.json; }
@test "golden: lvu-client-server-source, first 30 lines, summary (-t r)" { check_golden lvu-head30.summary; }
@test "golden: lvu-client-server-source, first 30 lines, -V tree" { check_golden lvu-head30.tree; }
@test "golden: lvu-client-server-source, first 30 lines, -x hex" { check_golden lvu-head30.hex; }
@test "golden: lvu-client-server-source, first 30 lines, -o json" { check_golden lvu-head30.json; }

@test "every file in tests/golden/dissect/ is a golden this file checks" {
	local f bad=0
	for f in "$golden_dir"/*; do
		case ${f##*/} in
		gpio-probe-full.summary | gpio-probe-full.tree | gpio-probe-full.hex | gpio-probe-full.json) ;;
		lvu-head30.summary | lvu-head30.tree | lvu-head30.hex | lvu-head30.json) ;;
		*) echo "stray file $f" >&2; bad=1 ;;
		esac
	done
	[ "$bad" -eq 0 ]
}

# ------------------------------------------------------------------ filters

@test "filter ==, != and === on an enum, by name and by number" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.cmd == REGION_WRITE' '."vfio_user.cmd_name" == "REGION_WRITE"'
	check_filter "$t" 'vfio_user.cmd != REGION_WRITE' '."vfio_user.cmd" != 10'
	check_filter "$t" 'vfio_user.cmd === REGION_WRITE' '."vfio_user.cmd" == 10'
	check_filter "$t" 'vfio_user.cmd eq region_write' '."vfio_user.cmd" == 10'
	check_filter "$t" 'vfio_user.cmd ne 10' '."vfio_user.cmd" != 10'
	same_count "$t" 'vfio_user.cmd == REGION_WRITE' 'vfio_user.cmd == 10'
	same_count "$t" 'vfio_user.cmd == REGION_WRITE' 'vfio_user.cmd == "REGION_WRITE"'
	same_count "$t" 'vfio_user.region.index == bar2' 'vfio_user.region.index == 2'
	check_filter "$t" 'vfio_user.region.index == bar2' '."vfio_user.region.index" == 2'
	check_filter "$t" 'vfio_user.error == EINVAL' '."vfio_user.error" == 22'
}

@test "filter == and != never both hold, and != is false on an absent field" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.region.offset == 0 && vfio_user.region.offset != 0' 'false' none
	check_filter "$t" 'vfio_user.region.offset != 0' 'has("vfio_user.region.offset") and ."vfio_user.region.offset" != 0'
	check_filter "$t" 'vfio_user.region.offset !== 0' 'has("vfio_user.region.offset") and ."vfio_user.region.offset" != 0'
}

@test "filter < <= > >= on a hex field, in decimal and 0x" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.region.offset < 4' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" < 4'
	check_filter "$t" 'vfio_user.region.offset <= 4' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" <= 4'
	check_filter "$t" 'vfio_user.region.offset > 0x4' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" > 4'
	check_filter "$t" 'vfio_user.region.offset >= 0x4' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" >= 4'
	check_filter "$t" 'vfio_user.region.offset lt 4' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" < 4'
	check_filter "$t" 'vfio_user.region.offset ge 252' '(."vfio_user.region.offset" // null) != null and ."vfio_user.region.offset" >= 252'
	same_count "$t" 'vfio_user.region.offset == 0x4' 'vfio_user.region.offset == 4'
}

@test "filter & (bitand) on the header flags" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.flags & 0x20' '((."vfio_user.flags" / 32 | floor) % 2) == 1'
	check_filter "$t" 'vfio_user.flags bitand 1' '(."vfio_user.flags" % 2) == 1'
	same_count "$t" 'vfio_user.flags & 0x20' 'vfio_user.error_reply'
}

@test "filter contains and == on bytes, with and without separators" {
	require_vectors qemu-gpio-io.jsonl gpio-probe-full.jsonl
	local t
	t=$(trace qemu-gpio-io)
	# byte-aligned: the hex string has the bytes at an even offset
	check_filter "$t" 'vfio_user.region.data contains f8:ff' '(."vfio_user.region.data" // "") | test("^(..)*f8ff")'
	same_count "$t" 'vfio_user.region.data contains f8:ff' 'vfio_user.region.data contains f8ff'
	same_count "$t" 'vfio_user.region.data contains f8:ff' 'vfio_user.region.data contains f8-ff'
	check_filter "$t" 'vfio_user.region.data contains de:ad' '(."vfio_user.region.data" // "") | test("^(..)*dead")' none
	check_filter "$t" 'vfio_user.region.data == 00:f8:ff:ff' '."vfio_user.region.data" == "00f8ffff"'
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.region.data == aa' '."vfio_user.region.data" == "aa"'
}

@test "filter contains and == on text, with quoted strings" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.version.json contains "migration"' '(."vfio_user.version.json" // "") | contains("migration")'
	check_filter "$t" 'vfio_user.version.json contains "max_msg_fds"' 'has("vfio_user.version.json")'
	check_filter "$t" 'vfio_user.version.json == "nothing like it"' 'false' none
}

@test "filter on booleans: == true, == false, presence; error_reply only bare" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.version.write_multiple == false' '."vfio_user.version.write_multiple" == false'
	check_filter "$t" 'vfio_user.version.write_multiple == 0' '."vfio_user.version.write_multiple" == false'
	check_filter "$t" 'vfio_user.version.write_multiple == true' '."vfio_user.version.write_multiple" == true' none
	check_filter "$t" 'vfio_user.version.write_multiple' 'has("vfio_user.version.write_multiple")'
	check_filter "$t" 'vfio_user.error_reply' '((."vfio_user.flags" / 32 | floor) % 2) == 1'
	check_filter "$t" '!vfio_user.error_reply' '((."vfio_user.flags" / 32 | floor) % 2) == 0'
	check_filter "$t" 'vfio_user.error_reply == false' 'false' none
}

@test "filter in {...} with names, numbers, quoted names and ranges" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.cmd in {REGION_READ REGION_WRITE}' '."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10'
	same_count "$t" 'vfio_user.cmd in {REGION_READ REGION_WRITE}' 'vfio_user.cmd in {9..10}'
	same_count "$t" 'vfio_user.cmd in {REGION_READ REGION_WRITE}' 'vfio_user.cmd in {"REGION_READ", 10}'
	same_count "$t" 'vfio_user.cmd in {REGION_READ REGION_WRITE}' 'vfio_user.cmd in {REGION_READ..REGION_WRITE}'
	check_filter "$t" 'vfio_user.region.offset in {0 4..5}' '(."vfio_user.region.offset" // null) as $o | $o == 0 or $o == 4 or $o == 5'
}

@test "filter and, or, not, parentheses and their precedence" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.cmd == 9 || vfio_user.cmd == 10' '."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10'
	check_filter "$t" 'vfio_user.cmd == 9 or vfio_user.cmd == 10' '."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10'
	check_filter "$t" 'vfio_user.cmd == 9 && vfio_user.dir == s2c' '."vfio_user.cmd" == 9 and ."vfio_user.dir" == "s2c"'
	check_filter "$t" 'vfio_user.cmd == 9 AND vfio_user.dir == s2c' '."vfio_user.cmd" == 9 and ."vfio_user.dir" == "s2c"'
	check_filter "$t" 'not vfio_user.cmd == 9' '."vfio_user.cmd" != 9'
	check_filter "$t" '!vfio_user.cmd == 9' '."vfio_user.cmd" != 9'
	# ! binds tighter than &&, && tighter than ||
	check_filter "$t" '!vfio_user.cmd == 9 && vfio_user.dir == c2s' '."vfio_user.cmd" != 9 and ."vfio_user.dir" == "c2s"'
	check_filter "$t" 'vfio_user.cmd == 9 || vfio_user.cmd == 10 && vfio_user.dir == c2s' '."vfio_user.cmd" == 9 or (."vfio_user.cmd" == 10 and ."vfio_user.dir" == "c2s")'
	check_filter "$t" '(vfio_user.cmd == 9 || vfio_user.cmd == 10) && vfio_user.dir == c2s' '(."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10) and ."vfio_user.dir" == "c2s"'
	check_filter "$t" '!(vfio_user.cmd == 9 || vfio_user.cmd == 10) && vfio_user.dir == c2s' '(."vfio_user.cmd" != 9 and ."vfio_user.cmd" != 10) and ."vfio_user.dir" == "c2s"'
	same_count "$t" '!(vfio_user.cmd == 9 || vfio_user.cmd == 10)' '!vfio_user.cmd == 9 && !vfio_user.cmd == 10'
}

@test "filter on the pseudo-fields: dir, type, status, frame, conn, latency_ns, request_frame" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.dir == s2c' '."vfio_user.dir" == "s2c"'
	check_filter "$t" 'vfio_user.type == reply' '."vfio_user.type" == "reply"'
	check_filter "$t" 'vfio_user.status == malformed' '."vfio_user.status" == "malformed"'
	check_filter "$t" 'vfio_user.frame <= 10' '."vfio_user.frame" <= 10'
	check_filter "$t" 'vfio_user.conn == 0' 'true'
	check_filter "$t" 'vfio_user.latency_ns > 200000' '(."vfio_user.latency_ns" // 0) > 200000'
	check_filter "$t" 'vfio_user.latency_ns > 1000000' '(."vfio_user.latency_ns" // 0) > 1000000' none
	check_filter "$t" 'vfio_user.request_frame == 1' '."vfio_user.request_frame" == 1'
	check_filter "$t" 'vfio_user' 'true'
}

@test "filter on findings: by name and by severity" {
	require_vectors gpio-probe-full.jsonl lvu-client-server-source.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.finding == REGION_BOUNDS' '[(."vfio_user.findings" // [])[] | .finding] | index("REGION_BOUNDS") != null'
	check_filter "$t" 'vfio_user.finding == NO_SUCH_REGION' '[(."vfio_user.findings" // [])[] | .finding] | index("NO_SUCH_REGION") != null'
	check_filter "$t" 'vfio_user.finding.severity == error' '[(."vfio_user.findings" // [])[] | .severity] | index("error") != null'
	check_filter "$t" 'vfio_user.finding.severity == note' '[(."vfio_user.findings" // [])[] | .severity] | index("note") != null'
	t=$(trace lvu-client-server-source)
	check_filter "$t" 'vfio_user.finding == INVISIBLE_MMAP' '[(."vfio_user.findings" // [])[] | .finding] | index("INVISIBLE_MMAP") != null'
	check_filter "$t" 'vfio_user.finding == INVISIBLE_DMA' '[(."vfio_user.findings" // [])[] | .finding] | index("INVISIBLE_DMA") != null'
}

@test "the man page's filter examples compile and select what they say" {
	require_vectors qemu-gpio-io.jsonl gpio-probe-full.jsonl
	local t
	t=$(trace qemu-gpio-io)
	check_filter "$t" 'vfio_user.cmd == REGION_WRITE && vfio_user.region.index == bar2 && vfio_user.region.offset >= 0x40' \
		'."vfio_user.cmd" == 10 and ."vfio_user.region.index" == 2 and ."vfio_user.region.offset" >= 64'
	t=$(trace gpio-probe-full)
	check_filter "$t" 'vfio_user.cmd in {REGION_READ REGION_WRITE} and not vfio_user.type == reply' \
		'(."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10) and ."vfio_user.type" == "command"'
	check_filter "$t" 'vfio_user.flags & 0x20 || vfio_user.status == malformed' \
		'((."vfio_user.flags" / 32 | floor) % 2) == 1 or ."vfio_user.status" == "malformed"'
	local f
	while IFS= read -r f; do
		run "$VFUCTL" dissect -Y "$f" "$t"
		assert_status 0
	done < <(sed -n '/^\.Sh FILTERS/,/^\.Sh /s/^\.It Li \(vfio_user.*\)/\1/p' "$repo/man/vfuctl-dissect.1" | sed 's/\\&//g')
}

@test "--cmd, --dir, --conn and --errors select like the filters they stand for, and-ed with -Y" {
	require_vectors gpio-probe-full.jsonl
	local t a b
	t=$(trace gpio-probe-full)
	a=$(shown --cmd REGION_WRITE "$t")
	b=$(count_json "$t" '."vfio_user.cmd" == 10')
	[ "$a" -eq "$b" ] && [ "$a" -gt 0 ]
	a=$(shown --cmd region_read,REGION_WRITE "$t")
	b=$(count_json "$t" '."vfio_user.cmd" == 9 or ."vfio_user.cmd" == 10')
	[ "$a" -eq "$b" ]
	a=$(shown --cmd 9 "$t")
	b=$(count_json "$t" '."vfio_user.cmd" == 9')
	[ "$a" -eq "$b" ]
	a=$(shown --dir s2c "$t")
	b=$(count_json "$t" '."vfio_user.dir" == "s2c"')
	[ "$a" -eq "$b" ]
	a=$(shown --dir c2s --cmd REGION_WRITE "$t")
	b=$(count_json "$t" '."vfio_user.dir" == "c2s" and ."vfio_user.cmd" == 10')
	[ "$a" -eq "$b" ]
	a=$(shown --cmd REGION_WRITE -Y 'vfio_user.region.offset == 4' "$t")
	b=$(count_json "$t" '."vfio_user.cmd" == 10 and ."vfio_user.region.offset" == 4')
	[ "$a" -eq "$b" ] && [ "$a" -gt 0 ]
	a=$(shown_msgs --conn 0 "$t")
	[ "$a" -eq 95 ]
	# and the events of that connection (the closing digest)
	a=$(shown --conn 0 "$t")
	[ "$a" -eq 96 ]
	a=$(shown --conn 1 "$t")
	[ "$a" -eq 0 ]
	a=$(shown --errors "$t")
	b=$(count_json "$t" '."vfio_user.status" != "ok" or ((."vfio_user.flags" / 32 | floor) % 2) == 1 or ([(."vfio_user.findings" // [])[] | .severity] | index("error") != null)')
	[ "$a" -eq "$b" ] && [ "$a" -gt 0 ]
}

@test "bad --cmd, --dir, --conn values exit 2 and name the option" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run --separate-stderr "$VFUCTL" dissect --cmd REGION_WRTE "$t"
	assert_status 2
	[[ $stderr == *"--cmd"*"REGION_WRTE"*"(REGION_WRITE?)"* ]]
	[ -z "$output" ]
	run --separate-stderr "$VFUCTL" dissect --dir up "$t"
	assert_status 2
	[[ $stderr == *"--dir"* ]]
	run --separate-stderr "$VFUCTL" dissect --conn x "$t"
	assert_status 2
}

@test "filters apply to events as to messages, as in Wireshark: vfio_user.event, frame.number, conn" {
	require_vectors gpio-probe-badframe.jsonl
	local t all msgs
	t=$(trace gpio-probe-badframe)
	run "$VFUCTL" dissect "$t"
	assert_status 0
	assert_contains "annotation: "
	assert_contains "digest #0"
	all=$(shown "$t")
	msgs=$(grep -c . "$VECTORS/gpio-probe-badframe.jsonl")
	# every record is vfio_user; !vfio_user.event leaves the messages
	[ "$(shown -Y vfio_user "$t")" -eq "$all" ]
	[ "$(shown -Y '!vfio_user.event' "$t")" -eq "$msgs" ]
	[ "$(shown -Y 'vfio_user.event' "$t")" -eq $((all - msgs)) ]
	run "$VFUCTL" dissect -Y 'vfio_user.event == annotation' "$t"
	assert_status 0
	assert_contains "annotation: "
	assert_not_contains "digest #"
	assert_not_contains "VERSION"
	run "$VFUCTL" dissect -Y 'vfio_user.event in {digest gap}' "$t"
	assert_contains "digest #0"
	assert_not_contains "annotation: "
	# message fields are absent on events: a message filter selects none
	run "$VFUCTL" dissect --dir c2s "$t"
	assert_not_contains "digest #"
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == VERSION || vfio_user.event == digest' "$t"
	[ "$(printf '%s\n' "$output" | grep -c 'VERSION\|digest #')" -eq 3 ]
	# Wireshark's frame.number is vfuctl's frame
	[ "$(shown -Y 'frame.number <= 3' "$t")" -eq 3 ]
	[ "$(shown -Y 'frame.number == 4 && vfio_user.event' "$t")" -eq 1 ]
	run "$VFUCTL" dissect -Y '' "$t"
	assert_status 0
	run "$VFUCTL" dissect -Y 'vfio_user.event == bogus' "$t"
	assert_status 2
	[[ $output == *"unknown value 'bogus' for vfio_user.event"* ]]
}

@test "filters on frame.time_relative and frame.time_delta take seconds, as Wireshark's" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	check_filter "$t" 'frame.time_relative > 0.005' '."vfio_user.time_ns" - 1036295 > 5000000'
	check_filter "$t" 'frame.time_relative <= .002' '."vfio_user.time_ns" - 1036295 <= 2000000'
	check_filter "$t" 'frame.time_relative >= 0.000830 && frame.time_relative < 1' \
		'."vfio_user.time_ns" - 1036295 >= 830000'
	# every message's delta against the record before it
	"$VFUCTL" dissect -o json "$t" | jq -s '[.[] | ."vfio_user.time_ns"] |
		[range(1; length) as $i | .[$i] - .[$i - 1]] | map(select(. > 300000)) | length' >"$TEST_TMP/n"
	[ "$(shown -Y 'frame.time_delta > 0.0003' "$t")" -eq "$(cat "$TEST_TMP/n")" ]
	[ "$(cat "$TEST_TMP/n")" -gt 0 ]
	run "$VFUCTL" dissect -Y 'frame.time_relative > 0x10' "$t"
	assert_status 2
	[[ $output == *"is not a time (frame.time_relative is in seconds"* ]]
	run "$VFUCTL" dissect -Y 'frame.time_relative > 1.5x' "$t"
	assert_status 2
}

@test "a filter syntax error exits 2 before reading, with the filter and a caret under the token" {
	local err caret
	# the trace need not exist: the filter is compiled first
	run --separate-stderr "$VFUCTL" dissect -Y 'vfio_user.cmd == REGION_WRTE' "$TEST_TMP/none.pcap"
	assert_status 2
	[ -z "$output" ]
	mapfile -t err <<< "$stderr"
	[[ ${err[0]} == *"invalid filter"* ]]
	[ "${err[1]}" = 'vfio_user.cmd == REGION_WRTE' ]
	caret=${err[2]%%^*}
	[ "${#caret}" -eq 17 ]
	[[ ${err[2]} == *"unknown value 'REGION_WRTE' for vfio_user.cmd (REGION_WRITE?)" ]]

	run --separate-stderr "$VFUCTL" dissect -Y '(vfio_user.cmd == 1' "$TEST_TMP/none.pcap"
	assert_status 2
	mapfile -t err <<< "$stderr"
	[ "${err[2]:0:1}" = '^' ]
	[[ $stderr == *"never closed"* ]]

	run --separate-stderr "$VFUCTL" dissect -Y 'vfio_user.cmd == 1 &&' "$TEST_TMP/none.pcap"
	assert_status 2
	mapfile -t err <<< "$stderr"
	caret=${err[2]%%^*}
	[ "${#caret}" -eq 21 ]

	run --separate-stderr "$VFUCTL" dissect -Y 'vfio_user.bogus == 1' "$TEST_TMP/none.pcap"
	assert_status 2
	[[ $stderr == *"unknown field 'vfio_user.bogus'"* ]]

	run --separate-stderr "$VFUCTL" dissect -Y 'vfio_user.region.offset contains 01' "$TEST_TMP/none.pcap"
	assert_status 2
	[[ $stderr == *"'contains' needs a bytes or text field"* ]]
}

# ----------------------------------------------------------- -c, -t, stdin

@test "-c N shows N records and stops; -c 0 is a usage error" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run "$VFUCTL" dissect -c 5 "$t"
	assert_status 0
	[ "$(grep -c '^ *[0-9][0-9]* [0-9]' <<< "$output")" -eq 5 ]
	[[ ${lines[${#lines[@]} - 1]} == "-- 5 records, 5 messages"*", 5 shown;"* ]]
	[ "$(shown -c 3 --cmd REGION_WRITE "$t")" -eq 3 ]
	[ "$("$VFUCTL" dissect -c 4 -o jsonl "$t" | wc -l)" -eq 4 ]
	run --separate-stderr "$VFUCTL" dissect -c 0 "$t"
	assert_status 2
	run --separate-stderr "$VFUCTL" dissect -c x "$t"
	assert_status 2
}

# times TRACE OPT: the time column of dissect OPT's message lines
times() {
	"$VFUCTL" dissect $2 "$1" | awk '$1 ~ /^[0-9]+$/ && $4 ~ /^C/ { print $2 }'
}

@test "-t r (the default) is the time since the first record" {
	require_vectors gpio-probe-full.jsonl
	local t want
	t=$(trace gpio-probe-full)
	want=$("$VFUCTL" dissect -o json "$t" | jq -r 'select(has("vfio_user.event") | not) | ."vfio_user.time_ns"' |
		awk 'NR == 1 { f = $1 } { d = $1 - f; printf "%d.%09d\n", d / 1000000000, d % 1000000000 }')
	[ "$(times "$t" '-t r')" = "$want" ]
	[ "$(times "$t" '')" = "$want" ]
	[ "$(times "$t" '-t r' | head -n 1)" = 0.000000000 ]
}

@test "-t a is the time of day in UTC, -t d the time since the previous record shown" {
	require_vectors gpio-probe-full.jsonl
	local t want first
	t=$(trace gpio-probe-full)
	want=$("$VFUCTL" dissect -o json "$t" | jq -r 'select(has("vfio_user.event") | not) | ."vfio_user.time_ns"' |
		awk '{ s = int($1 / 1000000000); printf "%02d:%02d:%02d.%09d\n", int(s / 3600) % 24, int(s / 60) % 60, s % 60, $1 % 1000000000 }')
	[ "$(times "$t" '-t a')" = "$want" ]
	[[ $(times "$t" '-t a' | head -n 1) =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}$ ]]
	# -t d over the records shown: with a filter, from one shown to the
	# next, the first from the start of the trace
	first=$("$VFUCTL" dissect -o json -c 1 "$t" | jq -r '."vfio_user.time_ns"')
	want=$("$VFUCTL" dissect -o json --cmd REGION_WRITE "$t" | jq -r '."vfio_user.time_ns"' |
		awk -v p="$first" '{ d = $1 - p; p = $1; printf "%d.%09d\n", d / 1000000000, d % 1000000000 }')
	[ "$(times "$t" '-t d --cmd REGION_WRITE')" = "$want" ]
	run --separate-stderr "$VFUCTL" dissect -t x "$t"
	assert_status 2
}

@test "the trace is read from standard input with -" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run bash -c '"$VFUCTL" dissect - < "$1" | cmp - <("$VFUCTL" dissect "$1")' _ "$t"
	assert_status 0
	run bash -c 'cat "$1" | "$VFUCTL" dissect -o jsonl - | cmp - <("$VFUCTL" dissect -o jsonl "$1")' _ "$t"
	assert_status 0
}

@test "usage errors exit 2 with nothing on stdout" {
	run --separate-stderr "$VFUCTL" dissect
	assert_status 2
	[ -z "$output" ]
	run --separate-stderr "$VFUCTL" dissect a b
	assert_status 2
	[ -z "$output" ]
	run --separate-stderr "$VFUCTL" dissect --frobnicate x
	assert_status 2
	run --separate-stderr "$VFUCTL" dissect -o xml x
	assert_status 2
	run --separate-stderr "$VFUCTL" dissect --peer nobody x
	assert_status 2
	run --separate-stderr "$VFUCTL" dissect --color=sometimes x
	assert_status 2
}

# ------------------------------------------------------------- -w and JSON

@test "-w writes the records shown; the new trace dissects to exactly them" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-io.jsonl
	local t f
	for f in gpio-probe-full qemu-gpio-io; do
		t=$(trace "$f")
		run "$VFUCTL" dissect --cmd REGION_WRITE,REGION_READ --dir c2s -w "$TEST_TMP/sub.pcap" "$t"
		assert_status 0
		# the same records in the same order, renumbered from frame 1
		# (frame 0: the end of a connection with unanswered commands,
		# which dissect adds; see the test of -o jsonl on such a trace),
		# with the STATE records that make the new trace stand alone
		diff <("$VFUCTL" dissect -o jsonl "$TEST_TMP/sub.pcap" | jq -c 'select(.kind != "digest" and .kind != "state" and .frame != 0) | del(.frame)') \
			<("$VFUCTL" dissect -o jsonl --cmd REGION_WRITE,REGION_READ --dir c2s "$t" | jq -c 'del(.frame)')
		[ "$("$VFUCTL" dissect -o jsonl "$TEST_TMP/sub.pcap" | jq -r 'select(.kind != "digest" and .frame != 0) | .frame' | tr '\n' ' ')" = \
			"$(seq 1 "$("$VFUCTL" dissect -o jsonl "$TEST_TMP/sub.pcap" | jq -r 'select(.kind != "digest" and .frame != 0) | .frame' | wc -l)" | tr '\n' ' ')" ]
	done
	# without a filter: every record but the digests
	run "$VFUCTL" dissect -w "$TEST_TMP/all.pcap" "$t"
	assert_status 0
	diff <("$VFUCTL" dissect -o jsonl "$TEST_TMP/all.pcap" | jq -c 'select(.kind != "digest")') \
		<("$VFUCTL" dissect -o jsonl "$t" | jq -c 'select(.kind != "digest")')
}

@test "-w of a filtered trace stands alone: --strict passes, no BEFORE_VERSION" {
	require_vectors qemu-gpio-io.jsonl
	local t
	t=$(trace qemu-gpio-io)
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == REGION_WRITE' -w "$TEST_TMP/out.pcap" "$t"
	assert_status 0
	run "$VFUCTL" dissect --strict "$TEST_TMP/out.pcap"
	assert_status 0
	assert_not_contains "before VERSION"
	assert_not_contains "mid-session"
	assert_contains "findings: 0 errors, 0 warnings, 0 notes"
	# it starts with the state the filter left out: VERSION, regions, DMA
	[[ ${lines[0]} == *"session state so far: VERSION 0.0 (qemu client"*", 9 regions, 5 IRQ types, 2 DMA windows, 0 pending" ]]
	# and says again what changed between the records kept
	[ "$(grep -c 'session state so far' <<< "$output")" -gt 1 ]
	# a reply kept without its command pairs with the command's state
	"$VFUCTL" dissect -Y 'vfio_user.cmd == REGION_WRITE && vfio_user.type == reply' -w "$TEST_TMP/replies.pcap" "$t"
	run "$VFUCTL" dissect --strict "$TEST_TMP/replies.pcap"
	assert_status 0
	assert_contains "findings: 0 errors, 0 warnings"
	[[ ${lines[1]} == *"REGION_WRITE reply"*"[#"* ]]
}

@test "a trace cut after its start without a STATE record gets one mid-session note, not an error per message" {
	require_vectors qemu-gpio-io.jsonl
	local t
	t=$(trace qemu-gpio-io)
	# cut after VERSION, the DMA maps and the region infos (frame 100 on)
	"$VFUCTL" dissect -o jsonl "$t" | jq -c 'select(.frame >= 100 and .kind != "digest")' |
		"$VFUCTL" import -o "$TEST_TMP/cut.pcap" -
	run "$VFUCTL" dissect --strict "$TEST_TMP/cut.pcap"
	assert_status 0
	assert_not_contains "before VERSION"
	[ "$(grep -c 'capture began mid-session' <<< "$output")" -eq 1 ]
	assert_contains "findings: 0 errors, 0 warnings,"
}

@test "a message before VERSION on a connection whose OPEN is in the trace is still an error" {
	printf '%s\n' '{"kind":"open","conn":1,"pid":1,"uid":0,"gid":0}' \
		'{"kind":"message","conn":1,"dir":"c2s","hex":"010004001000000000000000"}' \
		'{"kind":"message","conn":1,"dir":"c2s","hex":"0200040020000000000000000000000010000000000000000000000000000000"}' |
		"$VFUCTL" import -o "$TEST_TMP/open.pcap" -
	run "$VFUCTL" dissect --strict "$TEST_TMP/open.pcap"
	assert_status 1
	assert_contains "[error] message before VERSION was negotiated: DEVICE_GET_INFO before VERSION"
	assert_not_contains "mid-session"
}

# evil_trace: $TEST_TMP/evil.pcap, whose VERSION JSON (valid, with
# escaped ESC, BEL, CR, LF, DEL and a raw C1 CSI; and invalid, with those
# raw and bytes that are not UTF-8) and annotations (the same, as text and
# as bytes that are not UTF-8) try to retitle the terminal and forge lines.
evil_trace() {
	python3 - > "$TEST_TMP/evil.jsonl" <<'PY'
import json, struct
def msg(mid, flags, js):
    p = struct.pack("<HH", 0, 2) + js + b"\0"
    return struct.pack("<HHIII", mid, 1, 16 + len(p), flags, 0) + p
good = b'{"capabilities":{"max_msg_fds":8,"\\u001b]0;pwned\\u0007\\r\\nFAKE\\u007f\x7f\xc2\x9b[31m":1}}'
bad = b'{"capabilities":{"\x1b]0;pwned\x07\r\nFAKE\x7f\xff\xc3(":1}}'
bad2 = b'{"capabilities":tru\x1b]0;x\x07}'
text = "note \x1b]0;title\x07 \r\nFORGED LINE \x7f \x9b31m end"
lines = [
    {"kind": "message", "conn": 1, "dir": "c2s", "hex": msg(1, 0, good).hex()},
    {"kind": "message", "conn": 1, "dir": "s2c", "hex": msg(1, 1, good).hex()},
    {"kind": "message", "conn": 2, "dir": "c2s", "hex": msg(1, 0, bad).hex()},
    {"kind": "message", "conn": 3, "dir": "c2s", "hex": msg(1, 0, bad2).hex()},
    {"kind": "annotation", "conn": 1, "text": text},
    {"kind": "annotation", "conn": 1, "hex": (b"\xff\xfe\x1b[2J\r\n\x07\x7f" + "\u009b".encode()).hex()},
]
for l in lines:
    print(json.dumps(l))
PY
	"$VFUCTL" import -o "$TEST_TMP/evil.pcap" "$TEST_TMP/evil.jsonl"
}

# no_raw_controls FILE: FILE holds no C0 control but LF, no DEL, no C1
# control and nothing that is not UTF-8.
no_raw_controls() {
	! LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1" >&2 &&
		iconv -f UTF-8 -t UTF-8 "$1" > /dev/null
}

@test "text and JSON output escape the trace's control characters and bytes that are not UTF-8" {
	command -v python3 > /dev/null || skip "python3 is not installed"
	evil_trace
	local args
	for args in "" -V -x "-o json" "-o jsonl"; do
		# shellcheck disable=SC2086
		"$VFUCTL" dissect $args "$TEST_TMP/evil.pcap" > "$TEST_TMP/out" || true
		no_raw_controls "$TEST_TMP/out" || { echo "dissect $args" >&2; false; }
	done
	"$VFUCTL" stats "$TEST_TMP/evil.pcap" > "$TEST_TMP/out"
	no_raw_controls "$TEST_TMP/out"
	"$VFUCTL" stats -o json "$TEST_TMP/evil.pcap" > "$TEST_TMP/out"
	no_raw_controls "$TEST_TMP/out"
	# what it shows instead: \xHH, one per byte
	run "$VFUCTL" dissect "$TEST_TMP/evil.pcap"
	assert_contains 'annotation: note \x1b]0;title\x07 \x0d\x0aFORGED LINE \x7f \xc2\x9b31m end'
	assert_contains 'annotation: \xff\xfe\x1b[2J\x0d\x0a\x07\x7f\xc2\x9b'
	# JSON stays JSON, and the annotations go back into a trace unchanged
	"$VFUCTL" dissect -o json "$TEST_TMP/evil.pcap" | jq -e . > /dev/null
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/evil.pcap" | jq -e . > /dev/null
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/evil.pcap" | "$VFUCTL" import -o "$TEST_TMP/copy.pcap" -
	cmp "$TEST_TMP/evil.pcap" "$TEST_TMP/copy.pcap"
	# decode: the same messages as hex lines
	jq -r 'select(.kind == "message") | .dir + " " + .hex' "$TEST_TMP/evil.jsonl" > "$TEST_TMP/evil.hex"
	for args in "" -V -x "-o json"; do
		# shellcheck disable=SC2086
		"$VFUCTL" decode $args "$TEST_TMP/evil.hex" > "$TEST_TMP/out" || true
		no_raw_controls "$TEST_TMP/out" || { echo "decode $args" >&2; false; }
	done
}

@test "-w to a path that cannot be written exits 2" {
	require_vectors gpio-probe-full.jsonl
	run --separate-stderr "$VFUCTL" dissect -w "$TEST_TMP/no/such/dir/x.pcap" "$(trace gpio-probe-full)"
	assert_status 2
	[[ $stderr == *"x.pcap"* ]]
}

@test "-o jsonl | vfuctl import gives back every vector's trace byte for byte" {
	require_vectors
	local name t bad=0
	for name in $(vector_names); do
		t=$(trace "$name")
		"$VFUCTL" dissect -o jsonl "$t" | "$VFUCTL" import -o "$TEST_TMP/$name.copy.pcap" - ||
			{ echo "$name: import failed" >&2; bad=1; continue; }
		cmp "$t" "$TEST_TMP/$name.copy.pcap" || bad=1
	done
	[ "$bad" -eq 0 ]
}

@test "-o jsonl | vfuctl import gives back a trace that ends with an unanswered command" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full 3)
	"$VFUCTL" dissect -o jsonl "$t" | "$VFUCTL" import -o "$TEST_TMP/copy.pcap" -
	cmp "$t" "$TEST_TMP/copy.pcap"
	run "$VFUCTL" dissect "$t"
	assert_status 0
	# 3 messages and the digest
	[[ ${lines[${#lines[@]} - 1]} == "-- 4 records, 3 messages"* ]]
	assert_contains "[warning] command never answered: DEVICE_GET_INFO"
	[ "$(grep -cE '^ +0 ' <<< "$output")" -eq 0 ]
}

@test "-o jsonl | vfuctl import round-trips a kind this version does not know and times from 2038 on" {
	# 2^31 s and more (a classic pcap's u32 seconds, which libpcap reads
	# as signed), up to the last nanosecond a record can hold; kind 12
	printf '%s\n' \
		'{"kind":"open","conn":1,"t_ns":3000000000123456789,"pid":1,"uid":2,"gid":3}' \
		'{"kind":"message","conn":1,"dir":"c2s","t_ns":3000000001000000000,"hex":"0100010014000000000000000000000000000200"}' \
		'{"kind":12,"conn":1,"t_ns":4294967295999999999,"hex":"c0ffee"}' |
		"$VFUCTL" import -o "$TEST_TMP/late.pcap" -
	run "$VFUCTL" dissect -o jsonl "$TEST_TMP/late.pcap"
	assert_status 0
	[[ ${lines[0]} == '{"frame":1,"t_ns":3000000000123456789,"kind":"open",'* ]]
	[[ ${lines[2]} == '{"frame":3,"t_ns":4294967295999999999,"kind":12,'*'"hex":"c0ffee"}' ]]
	"$VFUCTL" dissect -o jsonl "$TEST_TMP/late.pcap" | "$VFUCTL" import -o "$TEST_TMP/copy.pcap" -
	cmp "$TEST_TMP/late.pcap" "$TEST_TMP/copy.pcap"
	run "$VFUCTL" dissect -t a "$TEST_TMP/late.pcap"
	assert_contains "     1 05:20:00.123456789 c1      connection opened"
	assert_contains "     3 06:28:15.999999999 c1      kind 12 record (a later vfuctl's)"
	# -w passes the unknown kind on too
	"$VFUCTL" dissect -w "$TEST_TMP/w.pcap" "$TEST_TMP/late.pcap" > /dev/null
	diff <("$VFUCTL" dissect -o jsonl "$TEST_TMP/w.pcap") \
		<("$VFUCTL" dissect -o jsonl "$TEST_TMP/late.pcap" | grep -v '"kind":"digest"')
	# past what the seconds field holds: an input error naming the line
	run --separate-stderr "$VFUCTL" import -o "$TEST_TMP/x.pcap" - <<< '{"kind":"open","t_ns":4294967296000000000}'
	assert_status 2
	[[ $stderr == *'<stdin>:1: "t_ns" is not an integer from 0 to 4294967295999999999'* ]]
}

@test "-o json: one object per message that jq parses, with dissect's keys" {
	require_vectors gpio-probe-full.jsonl lvu-client-server-source.jsonl
	local t n
	t=$(trace gpio-probe-full)
	"$VFUCTL" dissect -o json "$t" > "$TEST_TMP/out.json"
	jq -e . "$TEST_TMP/out.json" > /dev/null
	n=$(jq -c 'select(has("vfio_user.event") | not)' "$TEST_TMP/out.json" | wc -l)
	[ "$n" -eq 95 ]
	# frames 1..95 in order, conn and time on every message
	[ "$(jq -r 'select(has("vfio_user.event") | not) | ."vfio_user.frame"' "$TEST_TMP/out.json" | tr '\n' ' ')" = "$(seq 1 95 | tr '\n' ' ')" ]
	jq -e -s 'map(select(has("vfio_user.event") | not)) | all(has("vfio_user.conn") and has("vfio_user.time_ns"))' "$TEST_TMP/out.json"
	# every reply paired, with its command's frame and a latency
	jq -e -s 'map(select(."vfio_user.type" == "reply")) | all(."vfio_user.request_frame" < ."vfio_user.frame" and ."vfio_user.latency_ns" >= 0)' "$TEST_TMP/out.json"
	# findings: finding, severity, text, detail
	jq -e -s '[.[] | (."vfio_user.findings" // [])[]] | length == 11 and all(has("finding") and has("severity") and has("text") and has("detail"))' "$TEST_TMP/out.json"
	# no colour, no closing line
	! grep -q $'\033' "$TEST_TMP/out.json"
	! grep -q '^--' "$TEST_TMP/out.json"
}

@test "-o json: every key of every decoded message is a property of vfuctl schema" {
	require_vectors
	local name t keys bad=0
	keys=$("$VFUCTL" schema | jq -c '.properties | keys')
	for name in $(vector_names); do
		t=$(trace "$name")
		run bash -c '"$VFUCTL" dissect -o json "$1" | jq -r --argjson k "$2" \
			"select(has(\"vfio_user.summary\")) | keys[] | select(. as \$x | \$k | index(\$x) | not)" | sort -u' _ "$t" "$keys"
		if [ -n "$output" ]; then
			echo "$name: keys not in the schema: $output" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "a CLOSE that leaves a command unanswered carries the finding: in -o json, and -Y matches it" {
	local last
	# the reset corpus trace without DEVICE_RESET's reply: the client
	# then closes with the command pending
	last=$(grep -n '"kind":"message"' "$repo/traces/replay-reset.jsonl" | tail -1 | cut -d: -f1)
	sed "${last}d" "$repo/traces/replay-reset.jsonl" > "$TEST_TMP/u.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/u.pcap" "$TEST_TMP/u.jsonl"
	run "$VFUCTL" dissect -o json "$TEST_TMP/u.pcap"
	assert_status 0
	printf '%s\n' "$output" | jq -se '[.[] | select(."vfio_user.event" == "close")] |
		length == 1 and (.[0]."vfio_user.findings" | length == 1 and
		.[0].finding == "UNANSWERED" and .[0].severity == "warning" and
		(.[0].detail | startswith("DEVICE_RESET msg_id")))'
	run "$VFUCTL" dissect -Y 'vfio_user.finding == UNANSWERED' "$TEST_TMP/u.pcap"
	assert_status 0
	assert_contains "connection closed"
	assert_contains "[warning] command never answered: DEVICE_RESET"
	assert_contains ", 1 shown;"
	# with its reply, no record has the finding
	"$VFUCTL" import -o "$TEST_TMP/a.pcap" "$repo/traces/replay-reset.jsonl"
	run "$VFUCTL" dissect -Y 'vfio_user.finding == UNANSWERED' "$TEST_TMP/a.pcap"
	assert_status 0
	assert_contains ", 0 shown;"
}

@test "-o json: every line, events too, has only keys of vfuctl schema" {
	require_vectors gpio-probe-full.jsonl
	local keys
	keys=$("$VFUCTL" schema | jq -c '.properties | keys')
	run bash -c '"$VFUCTL" dissect -o json "$1" | jq -r --argjson k "$2" \
		"keys[] | select(. as \$x | \$k | index(\$x) | not)" | sort -u' _ "$(trace gpio-probe-full)" "$keys"
	[ -z "$output" ]
}

# --------------------------------------------------------- unreadable traces

@test "a trace cut short exits 2 after every frame before the cut, naming the frame" {
	require_vectors gpio-probe-full.jsonl
	local t size cut last
	t=$(trace gpio-probe-full)
	size=$(stat -c %s "$t")
	for cut in 60 1000 5000 $((size / 2)) $((size - 1)); do
		head -c "$cut" "$t" > "$TEST_TMP/cut.pcap"
		run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/cut.pcap"
		assert_status 2
		last=$(grep -E '^ *[0-9]+ [0-9]' <<< "$output" | tail -n 1 | awk '{ print $1 }')
		last=${last:-0}
		[[ $stderr == *"cut.pcap: frame $((last + 1)): truncated"* ]] ||
			{ echo "cut at $cut: last frame $last, stderr: $stderr" >&2; false; }
		# the frames before are all there, as in the whole trace
		diff <(grep -E '^ *[0-9]+ [0-9]' <<< "$output") \
			<("$VFUCTL" dissect -Y "vfio_user.frame <= $last" "$t" | grep -E '^ *[0-9]+ [0-9]')
	done
}

@test "a corrupt pseudo-header exits 2 naming the frame, after the frames before it" {
	require_vectors gpio-probe-full.jsonl
	local t off
	t=$(trace gpio-probe-full)
	cp "$t" "$TEST_TMP/bad.pcap"
	off=$(record_offset "$TEST_TMP/bad.pcap" 5)
	# the pseudo-header's magic "VXTR" follows the 16-byte record header
	[ "$(dd if="$TEST_TMP/bad.pcap" bs=1 skip=$((off + 16)) count=4 2>/dev/null)" = VXTR ]
	printf 'Z' | dd of="$TEST_TMP/bad.pcap" bs=1 seek=$((off + 16)) conv=notrunc 2>/dev/null
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/bad.pcap"
	assert_status 2
	[[ $stderr == *"frame 5"* ]]
	[[ $stderr == *"pseudo-header"* ]]
	[ "$(grep -cE '^ *[0-9]+ [0-9]' <<< "$output")" -eq 4 ]
	[[ ${lines[${#lines[@]} - 1]} == "-- 4 records"* ]]
	run --separate-stderr "$VFUCTL" stats "$TEST_TMP/bad.pcap"
	assert_status 2
	[[ $stderr == *"frame 5"* ]]
}

@test "a file that is not a pcap, or a pcap of another link type, exits 2 saying so" {
	require_vectors gpio-probe-full.jsonl
	local t
	echo 'hello, world' > "$TEST_TMP/text"
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/text"
	assert_status 2
	[[ $stderr == *"not a pcap file"* ]]
	t=$(trace gpio-probe-full)
	cp "$t" "$TEST_TMP/eth.pcap"
	# link type, offset 20 of the file header: 1 (Ethernet)
	printf '\001\000\000\000' | dd of="$TEST_TMP/eth.pcap" bs=1 seek=20 conv=notrunc 2>/dev/null
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/eth.pcap"
	assert_status 2
	[[ $stderr == *"link type 1"*"not a vfuctl trace"* ]]
	: > "$TEST_TMP/empty"
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/empty"
	assert_status 2
	[[ $stderr == *"truncated"* ]]
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/no-such-file"
	assert_status 2
	[[ $stderr == *"no-such-file"* ]]
}

@test "a pcapng copy of a trace (editcap -F pcapng) dissects, verifies and exports as the pcap does" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-boot.jsonl
	command -v editcap > /dev/null || skip "editcap (tshark's package) is not installed"
	local t
	t=$(trace gpio-probe-full)
	# with a packet comment: an option of the enhanced packet block
	editcap -F pcapng -a '3:a comment' "$t" "$TEST_TMP/t.pcapng"
	[ "$(head -c 4 "$TEST_TMP/t.pcapng" | od -An -tx1 | tr -d ' ')" = 0a0d0d0a ]
	diff <("$VFUCTL" dissect -V "$t") <("$VFUCTL" dissect -V "$TEST_TMP/t.pcapng")
	diff <("$VFUCTL" dissect -o jsonl "$t") <("$VFUCTL" dissect -o jsonl "$TEST_TMP/t.pcapng")
	diff <("$VFUCTL" stats "$t") <("$VFUCTL" stats "$TEST_TMP/t.pcapng")
	run "$VFUCTL" verify "$TEST_TMP/t.pcapng"
	assert_status 0
	# from standard input too; -w writes classic pcap
	diff <("$VFUCTL" dissect "$t") <("$VFUCTL" dissect - < "$TEST_TMP/t.pcapng")
	"$VFUCTL" dissect -w "$TEST_TMP/back.pcap" "$TEST_TMP/t.pcapng" > /dev/null
	[ "$(head -c 4 "$TEST_TMP/back.pcap" | od -An -tx1 | tr -d ' ')" = 4d3cb2a1 ]
	# every interface must have the trace's link type
	command -v mergecap > /dev/null || return 0
	"$VFUCTL" import --linktype 150 -o "$TEST_TMP/u150.pcap" "$VECTORS/qemu-gpio-boot.jsonl"
	mergecap -F pcapng -w "$TEST_TMP/mixed.pcapng" "$t" "$TEST_TMP/u150.pcap"
	run --separate-stderr "$VFUCTL" dissect "$TEST_TMP/mixed.pcapng"
	assert_status 2
	[[ $stderr == *"an interface has a type 150 different from the type of the first interface"* ]]
}

@test "a trace of another USER link type (150) is read" {
	require_vectors gpio-probe-full.jsonl
	"$VFUCTL" import --linktype 150 -o "$TEST_TMP/150.pcap" "$VECTORS/gpio-probe-full.jsonl"
	run "$VFUCTL" dissect "$TEST_TMP/150.pcap"
	assert_status 0
	[[ ${lines[${#lines[@]} - 1]} == "-- 96 records, 95 messages"* ]]
}

# ------------------------------------------------------------------ --strict

@test "--strict exits 1 on a trace with error findings, 0 on a clean one" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-boot.jsonl
	run "$VFUCTL" dissect --strict "$(trace gpio-probe-full)"
	assert_status 1
	[[ ${lines[${#lines[@]} - 1]} == "-- 96 records"* ]]
	run "$VFUCTL" dissect "$(trace gpio-probe-full)"
	assert_status 0
	run "$VFUCTL" dissect --strict "$(trace qemu-gpio-boot)"
	assert_status 0
	assert_contains "findings: 0 errors"
	# the errors need not be shown
	run "$VFUCTL" dissect --strict --cmd VERSION "$(trace gpio-probe-full)"
	assert_status 1
}

# ------------------------------------------------------------------ --follow

# wait_line LINE FILE: up to 10 s for FILE to hold LINE (fixed string).
wait_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qF -- "$1" "$2" && return 0
		sleep 0.05
	done
	echo "'$1' never appeared in $2" >&2
	return 1
}

# follow_grow TRACE CUT...: write TRACE to a file in pieces, cut at the byte
# offsets CUT..., with vfuctl dissect --follow reading it from the first
# piece on; then SIGINT.  Leaves its output in $TEST_TMP/follow.out and
# its status in $follow_status.
follow_grow() {
	local t=$1 f=$TEST_TMP/growing.pcap pid prev=0 cut
	shift
	head -c "$1" "$t" > "$f"
	prev=$1
	shift
	"$VFUCTL" dissect --follow "$f" > "$TEST_TMP/follow.out" 2> "$TEST_TMP/follow.err" &
	pid=$!
	# the pauses give the reader a chance to meet each cut; what the test
	# checks does not depend on whether it did
	sleep 0.2
	for cut in "$@" "$(stat -c %s "$t")"; do
		tail -c +$((prev + 1)) "$t" | head -c $((cut - prev)) >> "$f"
		prev=$cut
		sleep 0.2
	done
	# the reader flushes when it reaches the end: wait for the last record
	wait_line "$("$VFUCTL" dissect "$t" | grep -E '^ *[0-9]+ ' | tail -n 1)" \
		"$TEST_TMP/follow.out"
	kill -INT "$pid" 2> /dev/null || true
	follow_status=0
	wait "$pid" || follow_status=$?
}

@test "--follow prints the records appended to the trace, also when a write ends inside a record" {
	require_vectors gpio-probe-full.jsonl
	local t off
	t=$(trace gpio-probe-full)
	off=$(record_offset "$t" 40)
	# after the file header; inside a record header; inside a pseudo-header;
	# inside a message
	follow_grow "$t" 24 $((off + 7)) $((off + 16 + 20)) $((off + 16 + 64 + 10))
	[ "$follow_status" -eq 0 ] || { cat "$TEST_TMP/follow.err" >&2; false; }
	diff "$TEST_TMP/follow.out" <("$VFUCTL" dissect "$t")
}

@test "--follow started on a trace that already has records goes on from there" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	follow_grow "$t" 5000
	[ "$follow_status" -eq 0 ] || { cat "$TEST_TMP/follow.err" >&2; false; }
	diff "$TEST_TMP/follow.out" <("$VFUCTL" dissect "$t")
}

@test "--follow waits for a trace whose file header is not written yet" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	follow_grow "$t" 0 10
	[ "$follow_status" -eq 0 ] || { cat "$TEST_TMP/follow.err" >&2; false; }
	diff "$TEST_TMP/follow.out" <("$VFUCTL" dissect "$t")
}

@test "--follow on a pipe prints the records as they come and ends when the writer closes it" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run timeout 10 bash -c '(head -c 5000 "$1"; sleep 0.5; tail -c +5001 "$1") | "$VFUCTL" dissect --follow -' _ "$t"
	assert_status 0
	diff <(printf '%s\n' "$output") <("$VFUCTL" dissect "$t")
}

# --------------------------------------------------------------------- colour

@test "--color=always colours, --color=never and a pipe do not; NO_COLOR turns auto off" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run "$VFUCTL" dissect --color=always "$t"
	assert_status 0
	assert_contains $'\033[31m'
	assert_contains $'\033[0m'
	run "$VFUCTL" dissect --colour always "$t"
	assert_contains $'\033['
	run "$VFUCTL" dissect --color=never "$t"
	assert_not_contains $'\033'
	run "$VFUCTL" dissect "$t"
	assert_not_contains $'\033'
	run "$VFUCTL" dissect --color=always -o json "$t"
	assert_not_contains $'\033'
	run "$VFUCTL" dissect --color=always -o jsonl "$t"
	assert_not_contains $'\033'
	# on a terminal: auto colours unless NO_COLOR is set
	command -v script > /dev/null || skip "no script(1) to give dissect a terminal"
	run script -qec "env -u NO_COLOR '$VFUCTL' dissect '$t'" /dev/null
	assert_contains $'\033[31m'
	run script -qec "NO_COLOR=1 '$VFUCTL' dissect '$t'" /dev/null
	assert_not_contains $'\033['
	run script -qec "NO_COLOR=1 '$VFUCTL' dissect --color=never '$t'" /dev/null
	assert_not_contains $'\033['
}

# ---------------------------------------------------------------- completion

@test "completion offers dissect's options and their values" {
	local opt
	run complete_words vfuctl dissect -
	assert_status 0
	for opt in -V -x -o -t -c -Y --filter --cmd --conn --dir --errors --strict -w --follow --peer --color --help; do
		[[ $'\n'$output$'\n' == *$'\n'$opt$'\n'* ]] || { echo "$opt not offered: $output" >&2; false; }
	done
	run complete_words vfuctl dissect -o ""
	[ "$(echo $output)" = "text json jsonl chrome" ]
	run complete_words vfuctl dissect -t ""
	[ "$(echo $output)" = "r a d" ]
	run complete_words vfuctl dissect --dir ""
	[ "$(echo $output)" = "c2s s2c" ]
	run complete_words vfuctl dissect --peer ""
	[ "$(echo $output)" = "auto spec libvfio-user qemu" ]
	run complete_words vfuctl dissect --color ""
	[ "$(echo $output)" = "auto always never" ]
	run complete_words vfuctl dissect --cmd REGION_W
	[ "$(echo $output)" = "REGION_WRITE REGION_WRITE_MULTI" ]
	run complete_words vfuctl dissect --cmd REGION_READ,DMA_
	[ "$(echo $output)" = "REGION_READ,DMA_MAP REGION_READ,DMA_UNMAP REGION_READ,DMA_READ REGION_READ,DMA_WRITE" ]
	run complete_words vfuctl dissect -c ""
	[ -z "$output" ]
	# files after the options
	touch "$TEST_TMP/some-trace.pcap"
	run complete_words vfuctl dissect "$TEST_TMP/some-tr"
	[ "$output" = "$TEST_TMP/some-trace.pcap" ]
}

@test "completion: every --cmd name is a command dissect --cmd takes" {
	local name
	for name in $(complete_words vfuctl dissect --cmd ""); do
		run "$VFUCTL" dissect --cmd "$name" /dev/null
		[[ $output != *"--cmd"* ]] || { echo "--cmd $name: $output" >&2; false; }
	done
	[ "$(complete_words vfuctl dissect --cmd "" | wc -l)" -ge 17 ]
}

# ------------------------------------------------------------- documentation

@test "vfuctl-dissect.1 EXAMPLES run with the exit status and output shown" {
	require_vectors gpio-probe-full.jsonl
	run bash "$repo/tests/golden/run-man-examples.sh" "$repo/man/vfuctl-dissect.1" "$TEST_TMP/examples/work"
	assert_status 0
	[[ $output =~ vfuctl-dissect.1:\ ([0-9]+)\ examples\ run ]]
	[ "${BASH_REMATCH[1]}" -ge 10 ]
}

@test "vfuctl-dissect.1 SYNOPSIS and options mirror vfuctl dissect --help" {
	local usage synopsis options opt bad=0
	usage=$("$VFUCTL" dissect --help | sed -n '1,/^$/p')
	synopsis=$(mandoc -T ascii "$repo/man/vfuctl-dissect.1" | sed 's/.\x08//g' |
		sed -n '/^SYNOPSIS/,/^[A-Z]/p')
	options=$(mandoc -T ascii "$repo/man/vfuctl-dissect.1" | sed 's/.\x08//g' |
		sed -n '/^DESCRIPTION/,/^[A-Z]/p')
	for opt in $(grep -o -- '--*[A-Za-z][a-z-]*' <<< "$usage" | sort -u) text json jsonl c2s s2c; do
		[[ $synopsis == *"$opt"* ]] || { echo "SYNOPSIS lacks $opt" >&2; bad=1; }
	done
	for opt in $("$VFUCTL" dissect --help | grep '^  *-' | grep -oE -- '(^|[ ,])--?[A-Za-z][a-z-]*' | tr -d ' ,'); do
		[[ $options == *"$opt"* ]] || { echo "options lack $opt" >&2; bad=1; }
	done
	for opt in auto spec libvfio-user qemu always never; do
		[[ $options == *"$opt"* ]] || { echo "options lack $opt" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "vfuctl-dissect.1 lists every finding with its severity" {
	page_lists_findings "$repo/man/vfuctl-dissect.1"
}

@test "vfuctl-dissect.1 documents every operator and pseudo-field of lib/vx-filter.h" {
	local page=$repo/man/vfuctl-dissect.1 w bad=0 text
	text=$(sed -n '/^\.Sh FILTERS/,/^\.Sh FINDINGS/p' "$page")
	for w in '==' '!=' '===' '!==' '~=' '<=' '>=' 'contains' 'bitand' 'any_eq' 'all_ne' 'all_eq' 'any_ne' \
		"'in'" '..' '&&' '||' "'not'" "'or'" "'and'"; do
		[[ $text == *"$w"* ]] || { echo "FILTERS lacks $w" >&2; bad=1; }
	done
	for w in $(sed -n '/Pseudo-fields, computed/,/An empty/s/^ \*   \(vfio_user[a-z_.]*\) .*/\1/p' "$repo/lib/vx-filter.h"); do
		grep -qxF ".It $w" <<< "$text" || { echo "FILTERS lacks pseudo-field $w" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "dissect -w: a symbolic link at the path is refused, its target untouched; new traces are 0600" {
	require_vectors gpio-probe-full.jsonl
	vfuctl import -o "$TEST_TMP/t.pcap" "$VECTORS/gpio-probe-full.jsonl"
	echo precious >"$TEST_TMP/victim"
	ln -s "$TEST_TMP/victim" "$TEST_TMP/link.pcap"
	run vfuctl dissect -w "$TEST_TMP/link.pcap" "$TEST_TMP/t.pcap"
	assert_status 2
	assert_contains "cannot write trace '$TEST_TMP/link.pcap': it is a symbolic link"
	[ "$(cat "$TEST_TMP/victim")" = precious ]
	(umask 022 && "$VFUCTL" dissect -w "$TEST_TMP/w.pcap" "$TEST_TMP/t.pcap" >/dev/null)
	[ "$(stat -c %a "$TEST_TMP/w.pcap")" = 600 ]
}

# ------------------------------------------------------------ -o chrome

# chrome_valid FILE: the Trace Event Format's required keys on every event,
# complete slices with a duration, async slices paired by id, and no two
# slices on one track that overlap without nesting.
chrome_valid() {
	jq -e '
		.displayTimeUnit == "ns" and (.traceEvents | type) == "array" and
		all(.traceEvents[]; (.name | type) == "string" and
			(.ph | IN("X", "i", "b", "e", "M")) and
			(.pid | type) == "number" and (.tid | type) == "number" and
			(.ph == "M" or (.ts | type) == "number")) and
		all(.traceEvents[] | select(.ph == "X"); (.dur | type) == "number" and .dur >= 0 and
			(.args.command["vfio_user.cmd"] | type) == "number") and
		all(.traceEvents[] | select(.ph == "i"); .s | IN("t", "p", "g")) and
		([.traceEvents[] | select(.ph == "b") | .id] | sort) ==
			([.traceEvents[] | select(.ph == "e") | .id] | sort) and
		([.traceEvents[] | select(.ph == "X")] | group_by([.pid, .tid]) |
			all(.[]; sort_by(.ts) | [range(1; length) as $i |
				.[$i].ts >= .[$i - 1].ts + .[$i - 1].dur - 0.001] | all))
	' "$1" >/dev/null
}

@test "dissect -o chrome: a slice per command, as many as the vectors have commands, each valid Trace Event Format" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-io.jsonl server-probe-dma-twin.jsonl
	local v t want
	for v in gpio-probe-full qemu-gpio-io server-probe-dma-twin; do
		t=$(trace "$v")
		run "$VFUCTL" dissect -o chrome "$t"
		assert_status 0
		printf '%s\n' "$output" >"$TEST_TMP/$v.json"
		chrome_valid "$TEST_TMP/$v.json" || { echo "$v: not valid" >&2; false; }
		want=$("$VFUCTL" dissect -o json "$t" | jq -s '[.[] | select(."vfio_user.type" == "command")] | length')
		[ "$want" -gt 0 ]
		[ "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TEST_TMP/$v.json")" -eq "$want" ]
	done
	# the server's DMA on the twin socket has a track of its own
	jq -e '[.traceEvents[] | select(.ph == "M" and .name == "thread_name") | .args.name] |
		index("twin: server commands (DMA)") != null' "$TEST_TMP/server-probe-dma-twin.json"
	# a slice: the command's name, its reply's fields, the time between them
	jq -e 'first(.traceEvents[] | select(.ph == "X" and .name == "DEVICE_GET_INFO")) |
		.args.reply["vfio_user.device_info.num_regions"] == 9 and .dur > 0' \
		"$TEST_TMP/gpio-probe-full.json"
	# error replies red, findings as instant events, a DMA window b..e
	jq -e '[.traceEvents[] | select(.ph == "X" and .cname == "terrible")] | length > 0' \
		"$TEST_TMP/gpio-probe-full.json"
	jq -e '[.traceEvents[] | select(.ph == "i" and .name == "NO_SUCH_REGION")] | length == 2' \
		"$TEST_TMP/gpio-probe-full.json"
	jq -e '[.traceEvents[] | select(.cat == "dma") | [.ph, .name]] ==
		[["b", "DMA 0x100000+0x2000"], ["e", "DMA 0x100000+0x2000"]]' "$TEST_TMP/gpio-probe-full.json"
}

@test "dissect -o chrome: pipelined commands go to lanes that never overlap; an unanswered one ends with the trace" {
	require_vectors gpio-probe-full.jsonl
	# VERSION, then DEVICE_GET_INFO ids 2, 3, 4 sent at 3, 4, 5 ms and
	# answered 2, 4, 3 at 6, 7, 8 ms; id 5 at 9 ms never answered
	python3 - "$VECTORS/gpio-probe-full.jsonl" >"$TEST_TMP/pipe.jsonl" <<'PY'
import json, struct, sys
lines = open(sys.argv[1]).read().splitlines()[:2]
for l in lines:
    print(l)
def msg(seq, t, d, mid, flags, body):
    hexs = (struct.pack("<HHIII", mid, 4, 16 + len(body), flags, 0) + body).hex()
    print(json.dumps({"seq": seq, "t_ns": t * 1000000, "dir": d, "nfds": 0, "fds": [], "hex": hexs}))
req = struct.pack("<IIII", 16, 0, 0, 0)
rep = struct.pack("<IIII", 16, 3, 9, 5)
msg(1, 3, "c2s", 2, 0, req); msg(2, 4, "c2s", 3, 0, req); msg(3, 5, "c2s", 4, 0, req)
msg(1, 6, "s2c", 2, 1, rep); msg(2, 7, "s2c", 4, 1, rep); msg(3, 8, "s2c", 3, 1, rep)
msg(4, 9, "c2s", 5, 0, req)
PY
	"$VFUCTL" import -o "$TEST_TMP/pipe.pcap" "$TEST_TMP/pipe.jsonl"
	run "$VFUCTL" dissect -o chrome "$TEST_TMP/pipe.pcap"
	assert_status 0
	printf '%s\n' "$output" >"$TEST_TMP/pipe.json"
	chrome_valid "$TEST_TMP/pipe.json"
	# three lanes for three commands in flight at once
	run jq -c '[.traceEvents[] | select(.ph == "X" and .name == "DEVICE_GET_INFO") |
		[.args.command["vfio_user.msg_id"], .tid, .dur]]' "$TEST_TMP/pipe.json"
	[ "$output" = "[[2,1,3000],[4,2,2000],[3,3,4000],[5,1,0]]" ] ||
		{ echo "$output" >&2; false; }
	jq -e '[.traceEvents[] | select(.name == "thread_name") | .args.name] ==
		["main: client commands", "main: client commands #2", "main: client commands #3"]' \
		"$TEST_TMP/pipe.json"
	jq -e '[.traceEvents[] | select(.ph == "X" and .args.unanswered)] | length == 1' "$TEST_TMP/pipe.json"
}

@test "dissect -o chrome: a recorded session has its opening, closing and interrupts as instant events" {
	sock=$TEST_TMP/s
	"$VFUCTL" server --socket-path "$sock" --device "$repo/tests/devices/gpio.json" \
		3>&- >"$TEST_TMP/server.log" 2>&1 &
	local srv=$!
	wait_socket "$sock" "$srv" "$TEST_TMP/server.log"
	"$VFUCTL" record --listen "$TEST_TMP/r" --connect "$sock" -w "$TEST_TMP/t.pcap" \
		3>&- 2>"$TEST_TMP/record.log" &
	local rec=$!
	wait_socket "$TEST_TMP/r" "$rec" "$TEST_TMP/record.log"
	run "$VFUCTL" client -c 'irq enable intx 0 1; poke bar2 0xc 1; wait-irq 2000; peek bar2 4' "$TEST_TMP/r"
	local cst=$status
	kill -INT "$rec"; wait "$rec" || true
	kill "$srv"; wait "$srv" || true
	[ "$cst" -eq 0 ] || { echo "$output" >&2; false; }
	run "$VFUCTL" dissect -o chrome "$TEST_TMP/t.pcap"
	assert_status 0
	printf '%s\n' "$output" >"$TEST_TMP/t.json"
	chrome_valid "$TEST_TMP/t.json"
	jq -e '[.traceEvents[] | select(.ph == "i") | .name] | index("open") != null and index("IRQ") != null' \
		"$TEST_TMP/t.json" || { jq -c '.traceEvents[] | select(.ph == "i")' "$TEST_TMP/t.json" >&2; false; }
	jq -e '[.traceEvents[] | select(.ph == "M" and .name == "process_name") | .args.name] == ["c1"]' "$TEST_TMP/t.json"
}

@test "dissect of a trace that cannot be opened prints the error and nothing on standard output" {
	local fmt
	for fmt in text json jsonl chrome; do
		"$VFUCTL" dissect -o "$fmt" "$TEST_TMP/nonexistent" >"$TEST_TMP/out" 2>"$TEST_TMP/err" && false
		[ ! -s "$TEST_TMP/out" ] || { echo "$fmt:"; cat "$TEST_TMP/out"; false; } >&2
		grep -q "cannot open '$TEST_TMP/nonexistent'" "$TEST_TMP/err"
	done
	run "$VFUCTL" dissect "$TEST_TMP/nonexistent"
	assert_status 2
}

@test "dissect -l writes each line as it is printed" {
	require_vectors gpio-probe-full.jsonl
	command -v strace >/dev/null || skip "strace is not installed"
	local t lines writes
	t=$(trace gpio-probe-full)
	lines=$("$VFUCTL" dissect "$t" | wc -l)
	# LeakSanitizer cannot work under ptrace: off for the ASan build
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=write -o "$TEST_TMP/w.log" "$VFUCTL" dissect -l "$t" >"$TEST_TMP/out"
	writes=$(grep -c '^[0-9]* *write(1,' "$TEST_TMP/w.log")
	[ "$writes" -eq "$lines" ] || { echo "$writes writes for $lines lines" >&2; false; }
	diff "$TEST_TMP/out" <("$VFUCTL" dissect "$t")
	# without -l, to a file: a few large writes
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=write -o "$TEST_TMP/w.log" "$VFUCTL" dissect "$t" >"$TEST_TMP/out"
	[ "$(grep -c '^[0-9]* *write(1,' "$TEST_TMP/w.log")" -lt $((lines / 4)) ]
}

@test "dissect: a decoder note is shown once per connection and counted at the end; --notes all shows every one" {
	require_vectors lvu-client-server-source.jsonl
	local t
	t=$(trace lvu-client-server-source)
	run "$VFUCTL" dissect "$t"
	assert_status 0
	# VARIANT_LVU comes with four messages: one line for it, then the count
	[ "$(grep -c '\[note\] libvfio-user wire form' <<<"$output")" -eq 1 ]
	assert_contains "-- notes, each shown once per connection (--notes all shows every one):"
	[[ $output =~ c0\ +4\ +libvfio-user\ wire\ form[^$'\n']*\[VARIANT_LVU\] ]]
	# the closing line still counts them all
	[[ ${lines[-1]} == *"25 notes" ]]
	run "$VFUCTL" dissect --notes all "$t"
	assert_status 0
	[ "$(grep -c '\[note\] libvfio-user wire form' <<<"$output")" -eq 4 ]
	assert_not_contains "-- notes, each shown"
	[[ ${lines[-1]} == *"25 notes" ]]
	run "$VFUCTL" dissect --notes some "$t"
	assert_status 2
	# each connection gets its own first one
	python3 - "$VECTORS/lvu-client-server-source.jsonl" >"$TEST_TMP/two.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for c in (1, 2):
    for o in lines:
        o = dict(o); o["conn"] = c
        print(json.dumps(o))
PY
	"$VFUCTL" import -o "$TEST_TMP/two.pcap" "$TEST_TMP/two.jsonl"
	run "$VFUCTL" dissect "$TEST_TMP/two.pcap"
	[ "$(grep -c '\[note\] libvfio-user wire form' <<<"$output")" -eq 2 ]
}

@test "every key of vfuctl schema is a display filter field; the JSON-only keys select as their JSON says" {
	require_vectors gpio-probe-full.jsonl
	local t k
	t=$(trace gpio-probe-full)
	for k in $("$VFUCTL" schema | jq -r '.properties | keys[]'); do
		run "$VFUCTL" dissect -c 1 -Y "$k" "$t"
		[ "$status" -eq 0 ] || { echo "$k is not a filter: $output" >&2; false; }
	done
	check_filter "$t" 'vfio_user.cmd_name == "DMA_MAP"' '."vfio_user.cmd_name" == "DMA_MAP"'
	check_filter "$t" 'vfio_user.summary contains "bar2"' '."vfio_user.summary" | contains("bar2")'
	check_filter "$t" 'vfio_user.malformed contains "truncated: count 4"' \
		'(."vfio_user.malformed".error // "") + ": " + (."vfio_user.malformed".text // "") | startswith("truncated: count 4")'
	check_filter "$t" 'vfio_user.findings == NO_SUCH_REGION' \
		'[(."vfio_user.findings" // [])[] | .finding] | index("NO_SUCH_REGION") != null'
	check_filter "$t" 'vfio_user.notes' '."vfio_user.notes" != null'
	check_filter "$t" 'vfio_user.time_ns > 5000000' '."vfio_user.time_ns" > 5000000'
}
