#!/usr/bin/env bats
# stats.bats - vfuctl stats: the per-command and per-connection counts
# against the vectors' own lines (counted with jq), the latency quantiles
# against the exact ones, -o json, the regions and offsets tables, findings,
# an empty trace, unreadable traces, completion and vfuctl-stats(1).
#
# Traces are built in $TEST_TMP with `vfuctl import` from $VECTORS; tests
# that need them skip without them.

load helpers

# trace NAME: $TEST_TMP/NAME.pcap imported from $VECTORS/NAME.jsonl.
trace() {
	local out=$TEST_TMP/$1.pcap
	[ -f "$out" ] || "$VFUCTL" import -o "$out" "$VECTORS/$1.jsonl" >&2 || return 1
	printf '%s\n' "$out"
}

# vector_counts NAME: one line per command number in $VECTORS/NAME.jsonl,
# "NAME COMMANDS REPLIES ERRORS BYTES", computed from the message headers
# (u16 cmd at byte 2, u32 flags at byte 8: type in the low 4 bits, 0x20
# error), messages shorter than a header left out.
vector_counts() {
	jq -r -s '
		def h2n: explode | map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end)
			| reduce .[] as $d (0; . * 16 + $d);
		def names: ["", "VERSION", "DMA_MAP", "DMA_UNMAP", "DEVICE_GET_INFO",
			"DEVICE_GET_REGION_INFO", "DEVICE_GET_REGION_IO_FDS",
			"DEVICE_GET_IRQ_INFO", "DEVICE_SET_IRQS", "REGION_READ",
			"REGION_WRITE", "DMA_READ", "DMA_WRITE", "DEVICE_RESET",
			"DIRTY_PAGES", "REGION_WRITE_MULTI", "DEVICE_FEATURE",
			"MIG_DATA_READ", "MIG_DATA_WRITE"];
		map(select((.hex | length) >= 32)
		    | { cmd: ((.hex[6:8] + .hex[4:6]) | h2n),
			flags: (.hex[16:18] | h2n),
			bytes: (.hex | length / 2) })
		| group_by(.cmd)[]
		| [ (.[0].cmd as $c | if $c >= 1 and $c <= 18 then names[$c] else "(unknown)" end),
		    (map(select(.flags % 16 != 1)) | length),
		    (map(select(.flags % 16 == 1)) | length),
		    (map(select((.flags / 32 | floor) % 2 == 1)) | length),
		    (map(.bytes) | add) ]
		| map(tostring) | join(" ")' "$VECTORS/$1.jsonl"
}

# table_counts TRACE: the command table of vfuctl stats TRACE, as
# vector_counts prints it.
table_counts() {
	"$VFUCTL" stats "$1" |
		sed -n '/^  command /,/^$/p' | sed '1d;$d' |
		awk '{ print $1, $2, $3, $4, $5 }'
}

@test "the command table has every command's commands, replies, error replies and bytes" {
	require_vectors gpio-probe-full.jsonl lvu-client-server-source.jsonl qemu-gpio-io.jsonl server-probe-dma.jsonl
	local name bad=0
	for name in gpio-probe-full lvu-client-server-source qemu-gpio-io server-probe-dma; do
		if ! diff <(vector_counts "$name" | sort) <(table_counts "$(trace "$name")" | sort) >&2; then
			echo "$name: the table (right) is not the vector's counts (left)" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "the first line counts records, messages, malformed messages and events" {
	require_vectors gpio-probe-full.jsonl gpio-probe-badframe.jsonl
	run "$VFUCTL" stats "$(trace gpio-probe-full)"
	assert_status 0
	[ "${lines[0]}" = "96 records: 95 messages (3 malformed), 1 events" ]
	# badframe: 6 messages, one annotation per "note", the digest
	local n notes
	n=$(grep -c . "$VECTORS/gpio-probe-badframe.jsonl")
	notes=$(jq -c 'select(has("note"))' "$VECTORS/gpio-probe-badframe.jsonl" | wc -l)
	run "$VFUCTL" stats "$(trace gpio-probe-badframe)"
	assert_status 0
	[ "${lines[0]}" = "$((n + notes + 1)) records: $n messages (1 malformed), $((notes + 1)) events" ]
}

@test "the connection table sums the command table; the text names the 1/64 bound" {
	require_vectors lvu-client-server-source.jsonl
	local t c0 sum
	t=$(trace lvu-client-server-source)
	run "$VFUCTL" stats "$t"
	assert_status 0
	assert_contains "(quantiles from a log-linear histogram: within 1/64 of the true value)"
	assert_contains "reply latency histogram"
	c0=$(grep '^  c0 ' <<< "$output" | awk '{ print $2, $3, $4, $5 }')
	sum=$(table_counts "$t" | awk '{ c += $2; r += $3; e += $4; b += $5 } END { print c, r, e, b }')
	[ "$c0" = "$sum" ]
}

@test "-o json: valid JSON whose counts are the vector's" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-io.jsonl
	local name t
	for name in gpio-probe-full qemu-gpio-io; do
		t=$(trace "$name")
		"$VFUCTL" stats -o json "$t" > "$TEST_TMP/s.json"
		jq -e 'type == "object"' "$TEST_TMP/s.json"
		jq -e '.latency_relative_error == (1 / 64)' "$TEST_TMP/s.json"
		jq -e --argjson n "$(grep -c . "$VECTORS/$name.jsonl")" '.messages == $n and .records == $n + .events' "$TEST_TMP/s.json"
		diff <(vector_counts "$name" | sort) \
			<(jq -r '.commands | to_entries[] | [.key, .value.commands, .value.replies, .value.errors, .value.bytes] | map(tostring) | join(" ")' "$TEST_TMP/s.json" | sort)
		# the text and JSON agree
		diff <(table_counts "$t" | sort) \
			<(jq -r '.commands | to_entries[] | [.key, .value.commands, .value.replies, .value.errors, .value.bytes] | map(tostring) | join(" ")' "$TEST_TMP/s.json" | sort)
		jq -e '[.connections[]] | length == 1' "$TEST_TMP/s.json"
		jq -e '(.connections["0"].commands) == ([.commands[].commands] | add)' "$TEST_TMP/s.json"
	done
}

@test "-o json: latency count, min and max are exact; median and p99 within 1/64" {
	require_vectors lvu-client-server-source.jsonl qemu-gpio-io.jsonl
	local name t bad
	for name in lvu-client-server-source qemu-gpio-io; do
		t=$(trace "$name")
		"$VFUCTL" stats -o json "$t" > "$TEST_TMP/s.json"
		"$VFUCTL" dissect -o json "$t" |
			jq -c 'select(has("vfio_user.latency_ns")) | {cmd: ."vfio_user.cmd_name", l: ."vfio_user.latency_ns"}' |
			jq -s 'group_by(.cmd) | map({key: .[0].cmd, value: (map(.l) | sort)}) | from_entries' > "$TEST_TMP/lat.json"
		bad=$(jq -r --slurpfile lat "$TEST_TMP/lat.json" '
			def q($xs; $q): ($xs | length) as $n
				| (($q * $n) | ceil) as $k | $xs[(if $k < 1 then 1 else $k end) - 1];
			def close($a; $b): (($a - $b) | fabs) <= ($b / 64);
			.commands | to_entries[] | .key as $c | .value.latency_ns as $s
			| $lat[0][$c] as $xs
			| select($s != null)
			| select(($s.count != ($xs | length)) or ($s.min != $xs[0]) or ($s.max != $xs[-1])
				or (close($s.median; q($xs; 0.5)) | not) or (close($s.p99; q($xs; 0.99)) | not))
			| "\($c): \($s) vs exact median \(q($xs; 0.5)) p99 \(q($xs; 0.99))"' "$TEST_TMP/s.json")
		[ -z "$bad" ] || { echo "$name: $bad" >&2; false; }
		# every command with a paired reply has latencies
		jq -e --slurpfile lat "$TEST_TMP/lat.json" '[$lat[0] | keys[]] - [.commands | to_entries[] | select(.value.latency_ns) | .key] == []' "$TEST_TMP/s.json"
	done
}

@test "regions and offsets: REGION_READ and REGION_WRITE commands counted by region and offset" {
	require_vectors qemu-gpio-io.jsonl
	local t want got
	t=$(trace qemu-gpio-io)
	"$VFUCTL" stats -o json "$t" > "$TEST_TMP/s.json"
	# from the decoded commands that are well formed
	"$VFUCTL" dissect -o json -Y 'vfio_user.cmd in {REGION_READ REGION_WRITE} && vfio_user.type == command && vfio_user.status == ok' "$t" |
		jq -s -c 'map({r: ."vfio_user.region.index", o: ."vfio_user.region.offset", w: (."vfio_user.cmd" == 10)})' > "$TEST_TMP/acc.json"
	want=$(jq -r 'group_by(.r)[] | [.[0].r, (map(select(.w | not)) | length), (map(select(.w)) | length)] | map(tostring) | join(" ")' "$TEST_TMP/acc.json" | sort)
	got=$(jq -r '.regions | to_entries[] | [(.key | sub("^bar"; "") | if . == "config" then "7" elif . == "rom" then "6" elif . == "vga" then "8" else . end), .value.reads, .value.writes] | map(tostring) | join(" ")' "$TEST_TMP/s.json" | sort)
	[ "$got" = "$want" ] || { printf 'regions: %s\nwant: %s\n' "$got" "$want" >&2; false; }
	# the top offsets: the most accessed first, counts exact
	jq -e '.top_offsets | length > 0 and length <= 10' "$TEST_TMP/s.json"
	jq -e '[.top_offsets[] | .reads + .writes] | . == (sort | reverse)' "$TEST_TMP/s.json"
	bad=$(jq -r --slurpfile acc "$TEST_TMP/acc.json" '.top_offsets[] | . as $o
		| ($acc[0] | map(select(.r == $o.region and .o == $o.offset))) as $a
		| select(($a | map(select(.w | not)) | length) != $o.reads or ($a | map(select(.w)) | length) != $o.writes)
		| "\($o)"' "$TEST_TMP/s.json")
	[ -z "$bad" ] || { echo "offsets: $bad" >&2; false; }
	run "$VFUCTL" stats "$t"
	assert_contains "most accessed regions (reads / writes):"
	assert_contains "most accessed offsets (reads / writes):"
}

@test "-o json: an access to a region index above 255 is in regions and top_offsets as the u32 index" {
	require_vectors lvu-client-server-source.jsonl
	local t
	t=$(trace lvu-client-server-source)
	"$VFUCTL" stats -o json "$t" > "$TEST_TMP/s.json"
	# lvu-client-server-source reads region 0xdeadbeef once, on purpose
	jq -e '[.top_offsets[] | select(.region == 3735928559)] | length == 1' "$TEST_TMP/s.json"
	jq -e '[.top_offsets[] | .region] | all(. >= 0)' "$TEST_TMP/s.json"
	jq -e '[.regions[] | .reads + .writes] | add == 16' "$TEST_TMP/s.json"
}

@test "the offsets table's columns line up whatever the region's name" {
	require_vectors gpio-probe-full.jsonl
	local widths
	widths=$("$VFUCTL" stats "$(trace gpio-probe-full)" |
		sed -n '/^most accessed offsets/,/^$/p' | sed '1d;$d' | awk '{ print length($0) }' | sort -u | wc -l)
	[ "$widths" -eq 1 ]
}

@test "findings are counted by kind, as dissect reports them" {
	require_vectors gpio-probe-full.jsonl lvu-client-server-source.jsonl
	local name t
	for name in gpio-probe-full lvu-client-server-source; do
		t=$(trace "$name")
		diff <("$VFUCTL" stats -o json "$t" | jq -r '.findings | to_entries[] | "\(.key) \(.value)"' | sort) \
			<("$VFUCTL" dissect -o json "$t" | jq -r '(."vfio_user.findings" // [])[] | .finding' | sort | uniq -c | awk '{ print $2, $1 }')
	done
	run "$VFUCTL" stats "$(trace gpio-probe-full)"
	assert_contains "  error   REGION_BOUNDS                        1  access outside the region's size"
	assert_contains "  note    INVISIBLE_DMA"
}

@test "a filtered export's STATE records seed the sessions: no BEFORE_VERSION, events counted" {
	[ -f "$VECTORS/qemu-gpio-io.jsonl" ] || skip "no vectors"
	"$VFUCTL" dissect -Y 'vfio_user.cmd == REGION_WRITE' -w "$TEST_TMP/w.pcap" "$(trace qemu-gpio-io)" > /dev/null
	run "$VFUCTL" stats -o json "$TEST_TMP/w.pcap"
	assert_status 0
	# three state records: the start, the windows QEMU remapped, and back
	# (windows are kept in address order, so the same windows mapped in
	# another order are the same state and need no record)
	jq -e '.findings == {} and .messages == 136 and .events == 3' <<< "$output"
	# cut by hand, without one: one note, not an error per message
	"$VFUCTL" dissect -o jsonl "$(trace qemu-gpio-io)" | jq -c 'select(.frame >= 100 and .kind != "digest")' |
		"$VFUCTL" import -o "$TEST_TMP/cut.pcap" -
	run "$VFUCTL" stats -o json "$TEST_TMP/cut.pcap"
	jq -e '.findings.MID_SESSION == 1 and (.findings | has("BEFORE_VERSION") | not)' <<< "$output"
}

@test "an empty trace (import of an empty file) gives zero counts and exit 0" {
	: > "$TEST_TMP/empty.jsonl"
	"$VFUCTL" import -o "$TEST_TMP/empty.pcap" "$TEST_TMP/empty.jsonl"
	run --separate-stderr "$VFUCTL" stats "$TEST_TMP/empty.pcap"
	assert_status 0
	[ "${lines[0]}" = "1 records: 0 messages (0 malformed), 1 events" ]
	assert_not_contains "reply latency histogram"
	run --separate-stderr "$VFUCTL" stats -o json "$TEST_TMP/empty.pcap"
	assert_status 0
	jq -e '.messages == 0 and .commands == {} and .connections == {} and .top_offsets == [] and .findings == {}' <<< "$output"
	"$VFUCTL" import --digest-every 0 -o "$TEST_TMP/bare.pcap" "$TEST_TMP/empty.jsonl"
	run --separate-stderr "$VFUCTL" stats -o json "$TEST_TMP/bare.pcap"
	assert_status 0
	jq -e '.records == 0' <<< "$output"
}

@test "the trace is read from standard input with -" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	run bash -c '"$VFUCTL" stats - < "$1" | cmp - <("$VFUCTL" stats "$1")' _ "$t"
	assert_status 0
}

@test "an unreadable trace exits 2 with nothing on stdout and the frame named" {
	require_vectors gpio-probe-full.jsonl
	local t
	t=$(trace gpio-probe-full)
	head -c 5000 "$t" > "$TEST_TMP/cut.pcap"
	run --separate-stderr "$VFUCTL" stats "$TEST_TMP/cut.pcap"
	assert_status 2
	[ -z "$output" ]
	[[ $stderr == *"cut.pcap: frame "*": truncated"* ]]
	echo nope > "$TEST_TMP/text"
	run --separate-stderr "$VFUCTL" stats -o json "$TEST_TMP/text"
	assert_status 2
	[ -z "$output" ]
	[[ $stderr == *"not a pcap file"* ]]
}

@test "usage errors exit 2" {
	run --separate-stderr "$VFUCTL" stats
	assert_status 2
	[ -z "$output" ]
	run --separate-stderr "$VFUCTL" stats -o xml x
	assert_status 2
	run --separate-stderr "$VFUCTL" stats --peer nobody x
	assert_status 2
	run --separate-stderr "$VFUCTL" stats a b
	assert_status 2
}

@test "--peer is accepted with every value" {
	require_vectors qemu-gpio-io.jsonl
	local p
	for p in auto spec libvfio-user qemu; do
		run "$VFUCTL" stats --peer "$p" "$(trace qemu-gpio-io)"
		assert_status 0
	done
}

@test "completion offers stats's options and their values" {
	run complete_words vfuctl stats -
	assert_status 0
	assert_contains --peer
	assert_contains --output
	assert_contains --help
	run complete_words vfuctl stats -o ""
	[ "$(echo $output)" = "text json" ]
	run complete_words vfuctl stats --peer ""
	[ "$(echo $output)" = "auto spec libvfio-user qemu" ]
	run complete_words vfuctl stats --sparklines ""
	[ "$(echo $output)" = "auto always never" ]
	run complete_words vfuctl stats -
	assert_contains --svg
}

@test "vfuctl-stats.1 EXAMPLES run with the exit status and output shown" {
	require_vectors gpio-probe-full.jsonl
	run bash "$repo/tests/golden/run-man-examples.sh" "$repo/man/vfuctl-stats.1" "$TEST_TMP/examples/work"
	assert_status 0
	[[ $output =~ vfuctl-stats.1:\ ([0-9]+)\ examples\ run ]]
	[ "${BASH_REMATCH[1]}" -ge 4 ]
}

@test "vfuctl-stats.1 SYNOPSIS and options mirror vfuctl stats --help, and it names the JSON keys" {
	local usage synopsis page opt bad=0
	usage=$("$VFUCTL" stats --help | sed -n '1,/^$/p')
	page=$(mandoc -T ascii "$repo/man/vfuctl-stats.1" | sed 's/.\x08//g')
	synopsis=$(sed -n '/^SYNOPSIS/,/^[A-Z]/p' <<< "$page")
	for opt in $(grep -oE -- '(^|[ ,\[])--?[A-Za-z][a-z-]*' <<< "$usage" | tr -d ' ,[' | sort -u) text json; do
		[[ $synopsis == *"$opt"* ]] || { echo "SYNOPSIS lacks $opt" >&2; bad=1; }
	done
	for opt in $("$VFUCTL" stats -o json /dev/null 2>/dev/null | jq -r 'keys[]' 2>/dev/null) \
		records messages malformed events commands connections regions top_offsets findings \
		latency_relative_error latency_ns median p99 1/64; do
		[[ $page == *"$opt"* ]] || { echo "the page lacks $opt" >&2; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

# two_reads: a trace whose REGION_READs took 1 us at its start and 1 ms a
# second later.
two_reads() {
	python3 - "$VECTORS/gpio-probe-full.jsonl" >"$TEST_TMP/two.jsonl" <<'PY'
import json, struct, sys
for l in open(sys.argv[1]).read().splitlines()[:2]:
    print(l)
def msg(seq, t, d, mid, flags, body):
    h = struct.pack("<HHIII", mid, 9, 16 + len(body), flags, 0) + body
    print(json.dumps({"seq": seq, "t_ns": t, "dir": d, "nfds": 0, "fds": [], "hex": h.hex()}))
req = struct.pack("<QII", 0, 2, 4)
rep = req + b"\0" * 4
msg(1, 10000000, "c2s", 2, 0, req)
msg(1, 10001000, "s2c", 2, 1, rep)
msg(2, 1010000000, "c2s", 3, 0, req)
msg(2, 1011000000, "s2c", 3, 1, rep)
PY
	"$VFUCTL" import -o "$TEST_TMP/two.pcap" "$TEST_TMP/two.jsonl"
}

@test "--sparklines always: a line per command with replies, lowest mean '_', highest '#', blank where none" {
	require_vectors gpio-probe-full.jsonl qemu-gpio-io.jsonl
	two_reads
	run "$VFUCTL" stats --sparklines always "$TEST_TMP/two.pcap"
	assert_status 0
	assert_contains "reply latency over time (mean per "
	line=$(grep '^  REGION_READ  *|' <<<"$output")
	[[ $line =~ \|(_\ +#)\|\ 1us\ \.\.\ 1ms$ ]] || { echo "$line" >&2; false; }
	# every command with a paired reply has a line, each as wide
	t=$(trace qemu-gpio-io)
	run "$VFUCTL" stats --sparklines always "$t"
	want=$("$VFUCTL" stats -o json "$t" | jq '[.commands[] | select(.latency_ns)] | length')
	got=$(sed -n '/^reply latency over time/,/^$/p' <<<"$output" | grep -c '^  [A-Z_]* *|')
	[ "$got" -eq "$want" ] && [ "$got" -gt 5 ]
	widths=$(sed -n '/^reply latency over time/,/^$/p' <<<"$output" | grep '|' |
		sed 's/^[^|]*|\([^|]*\)|.*/\1/' | awk '{ print length($0) }' | sort -u)
	[ "$(wc -l <<<"$widths")" -eq 1 ] && [ "$widths" -le 64 ] && [ "$widths" -gt 32 ]
	# not on a pipe unless asked
	run "$VFUCTL" stats "$t"
	assert_not_contains "reply latency over time"
	run "$VFUCTL" stats --sparklines never "$t"
	assert_not_contains "reply latency over time"
	run "$VFUCTL" stats --sparklines sometimes "$t"
	assert_status 2
}

@test "--svg FILE: latency over time a path per command, the histogram a bar per non-empty power of two" {
	require_vectors qemu-gpio-io.jsonl
	local t
	t=$(trace qemu-gpio-io)
	run "$VFUCTL" stats --svg "$TEST_TMP/lat.svg" "$t"
	assert_status 0
	# the text output is as without --svg
	diff <(printf '%s\n' "$output") <("$VFUCTL" stats "$t")
	bars=$(sed -n '/^reply latency histogram/,/^$/p' <<<"$output" | awk 'NR > 1 && $4 > 0' | wc -l)
	cmds=$("$VFUCTL" stats -o json "$t" | jq -r '.commands | to_entries[] | select(.value.latency_ns) | .key' | sort | tr '\n' ' ')
	python3 - "$TEST_TMP/lat.svg" "$bars" "$cmds" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
paths = root.findall("s:path[@class='cmd']", ns)
got = " ".join(sorted(p.get("data-command") for p in paths)) + " "
assert got == sys.argv[3], (got, sys.argv[3])
assert all(p.get("d").strip().startswith("M") for p in paths)
bars = root.findall("s:rect[@class='bar']", ns)
assert len(bars) == int(sys.argv[2]), (len(bars), sys.argv[2])
assert all(float(b.get("height")) > 0 for b in bars)
assert all("replies" in b.find("s:title", ns).text for b in bars)
PY
	# a symbolic link at the path is not followed
	ln -s "$TEST_TMP/target" "$TEST_TMP/link.svg"
	run "$VFUCTL" stats --svg "$TEST_TMP/link.svg" "$t"
	assert_status 1
	assert_contains "symbolic link"
	[ ! -e "$TEST_TMP/target" ]
}
