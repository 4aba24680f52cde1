#!/usr/bin/env bats
# dissector.bats - the Wireshark/tshark Lua plugin dissector/vfio-user.lua:
# it loads and registers the schema's fields, its field table has not
# drifted from `vfuctl schema -o lua`, every field it shows for every
# vector agrees with `vfuctl dissect -o json` (tests/dissector/compare.py),
# display filters select what `vfuctl dissect -Y` selects
# (tests/dissector/filters.py, filters.txt), a fragmented 1 MiB message is
# reassembled, its expert info is vfuctl dissect's findings on every trace
# (tests/dissector/findings.py, make-findings.py), and events read as
# vfuctl dissect prints them.  Skips without tshark.

load helpers

plugin=$repo/dissector/vfio-user.lua
tools=$repo/tests/dissector
qemu_vectors=$repo/tests/vectors-qemu

setup() {
	command -v tshark > /dev/null || skip "tshark is not installed (tests/deps.sh)"
	command -v python3 > /dev/null || skip "python3 is not installed"
}

# The traces several tests read, made once (tshark starts slowly, so the
# vectors are compared in one trace, each file its own connection):
#   all.pcap  every vector file, imported with --conn N for the Nth
#   syn.pcap  tests/dissector/make-synthetic.py
#   big.pcap  tests/dissector/make-big.py (1 MiB messages, fragmented)
#   f.pcap    tests/dissector/make-findings.py (every finding)
#   findings/ the traces of findings_traces below
setup_file() {
	local d=$BATS_FILE_TMPDIR f i=0
	command -v python3 > /dev/null || return 0
	if [ -d "$VECTORS" ]; then
		: > "$d/all.jsonl"
		while read -r f; do
			"$VFUCTL" import --digest-every 0 --conn $i -o "$d/c.pcap" "$f"
			"$VFUCTL" dissect -o jsonl "$d/c.pcap" >> "$d/all.jsonl"
			i=$((i + 1))
		done < <(vector_files)
		"$VFUCTL" import -o "$d/all.pcap" "$d/all.jsonl"
	fi
	python3 "$tools/make-synthetic.py" > "$d/syn.jsonl"
	"$VFUCTL" import -o "$d/syn.pcap" "$d/syn.jsonl"
	python3 "$tools/make-big.py" > "$d/big.jsonl"
	"$VFUCTL" import -o "$d/big.pcap" "$d/big.jsonl"
	python3 "$tools/make-findings.py" > "$d/f.jsonl"
	"$VFUCTL" import -o "$d/f.pcap" "$d/f.jsonl"
	if [ -d "$VECTORS" ]; then
		mkdir "$d/findings"
		findings_traces "$d/findings"
	fi
}

# ts ARGS...: tshark with the plugin, no name resolution, stderr dropped
# (tshark warns when run as root).
ts() {
	tshark -n -X "lua_script:$plugin" "$@" 2> /dev/null
}

# vector_files: every vector file, captured and synthetic.
vector_files() {
	local f
	for f in "$VECTORS"/*.jsonl "$qemu_vectors"/*.jsonl; do
		[ "${f##*/}" = EXPECTED.jsonl ] || printf '%s\n' "$f"
	done
}

@test "dissector: the plugin loads and registers every field of vfuctl schema" {
	# tshark 4.0 takes -G only as its first option
	# (its 19 MB go to a file: matching in a shell variable takes minutes)
	tshark -G fields -X "lua_script:$plugin" 2> /dev/null |
		awk -F '\t' '$1 == "F" && $3 ~ /^vfio_user\./ { print $3 }' |
		sort -u > "$TEST_TMP/registered"
	grep -qx 'vfio_user.region.offset' "$TEST_TMP/registered"
	vfuctl schema -o lua | sed -n 's/^ *{ key = "\(vfio_user\.[^"]*\)".*/\1/p' |
		sort -u > "$TEST_TMP/schema"
	[ "$(wc -l < "$TEST_TMP/schema")" -gt 50 ]
	run comm -23 "$TEST_TMP/schema" "$TEST_TMP/registered"
	assert_status 0
	[ -z "$output" ] || { echo "not registered: $output" >&2; false; }
}

@test "dissector: the plugin's field table matches vfuctl schema -o lua" {
	VFUCTL=$VFUCTL run "$tools/update-fields.sh" --check
	assert_status 0
}

@test "dissector: the plugin is valid Lua 5.2 and 5.4 and uses no bitwise operators" {
	local luac found=0
	for luac in luac5.2 luac5.3 luac5.4; do
		command -v $luac > /dev/null || continue
		found=1
		$luac -p "$plugin"
	done
	# & | ~ << >> // exist only from Lua 5.3: none outside comments and strings
	run bash -c "sed -e 's/--.*//' -e 's/\"[^\"]*\"//g' -e \"s/'[^']*'//g\" '$plugin' | grep -n '[&|]\|<<\|>>\|//\|[^=~<>]~[^=]'"
	assert_status 1
	[ $found = 1 ] || skip "no luac to check the syntax with"
}

@test "dissector: every field of every vector agrees with vfuctl dissect -o json" {
	require_vectors
	# all.pcap: every vector file, each imported as its own connection
	run python3 "$tools/compare.py" "$plugin" "$BATS_FILE_TMPDIR/all.pcap"
	echo "$output"
	assert_status 0
	assert_contains ", 0 differences"
}

@test "dissector: synthetic messages the vectors lack agree with vfuctl dissect too" {
	# IO_FDS entries, capability chains (loop, overlap), DMA forms, features,
	# header oddities, big-endian messages, twin channel: make-synthetic.py
	run python3 "$tools/compare.py" "$plugin" "$BATS_FILE_TMPDIR/syn.pcap"
	echo "$output"
	assert_status 0
	TWO_PASS=1 run python3 "$tools/compare.py" "$plugin" "$BATS_FILE_TMPDIR/syn.pcap"
	assert_status 0
}

@test "dissector: tshark's second pass (-2) shows the same fields" {
	require_vectors qemu-gpio-io.jsonl
	vfuctl import -o "$TEST_TMP/io.pcap" "$VECTORS/qemu-gpio-io.jsonl"
	TWO_PASS=1 run python3 "$tools/compare.py" "$plugin" "$TEST_TMP/io.pcap"
	assert_status 0
	assert_contains ", 0 differences"
}

@test "dissector: display filters select the same messages as vfuctl dissect -Y" {
	require_vectors
	run python3 "$tools/filters.py" "$plugin" "$tools/filters.txt" \
		"$BATS_FILE_TMPDIR/all.pcap" "$BATS_FILE_TMPDIR/syn.pcap" "$BATS_FILE_TMPDIR/f.pcap"
	echo "$output"
	assert_status 0
	assert_contains ", 0 disagreements"
}

@test "dissector: a 1 MiB REGION_WRITE split into fragments is reassembled" {
	cp "$BATS_FILE_TMPDIR/big.pcap" "$TEST_TMP/big.pcap"
	# the trace really holds fragment records
	run ts -r "$TEST_TMP/big.pcap" -Y 'vfio_user.trace.frag_off > 0' -T fields -e frame.number
	[ "${#lines[@]}" -ge 6 ]
	run ts -r "$TEST_TMP/big.pcap" -Y vfio_user.summary -T fields -e frame.number \
		-e vfio_user.trace.first_frame -e vfio_user.region.count -e vfio_user.request_frame \
		-e vfio_user.summary
	assert_status 0
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = $'5\t1\t1048576\t\tREGION_WRITE command bar2+0x1000 len 1048576 (1048576 bytes)' ]
	[ "${lines[1]}" = $'6\t\t1048576\t5\tREGION_WRITE reply bar2+0x1000 len 1048576' ]
	[ "${lines[3]}" = $'12\t8\t1048576\t7\tREGION_READ reply bar2+0x2000 len 1048576 (1048576 bytes)' ]
	# the data bytes themselves, both passes
	run python3 "$tools/compare.py" "$plugin" "$TEST_TMP/big.pcap"
	assert_status 0
	TWO_PASS=1 run python3 "$tools/compare.py" "$plugin" "$TEST_TMP/big.pcap"
	assert_status 0
}

@test "dissector: malformed messages get PI_MALFORMED expert info, as vfuctl finds them" {
	require_vectors gpio-probe-full.jsonl null-probe-full.jsonl gpio-probe-badframe.jsonl
	local f want got n=0
	for f in "$VECTORS/gpio-probe-full.jsonl" "$VECTORS/null-probe-full.jsonl" \
	    "$VECTORS/gpio-probe-badframe.jsonl" "$qemu_vectors/qemu-dma-rw.jsonl"; do
		vfuctl import -o "$TEST_TMP/m.pcap" "$f"
		want=$(vfuctl dissect -o json -Y 'vfio_user.status == malformed' "$TEST_TMP/m.pcap" |
			jq -r '."vfio_user.frame"' | tr '\n' ' ')
		got=$(ts -r "$TEST_TMP/m.pcap" -Y '_ws.expert.group == 0x07000000 && vfio_user.expert.malformed' \
			-T fields -e frame.number | tr '\n' ' ')
		[ -n "$want" ]
		[ "$got" = "$want" ] || { echo "${f##*/}: plugin '$got', vfuctl '$want'" >&2; return 1; }
		n=$((n + 1))
	done
	# the field is named, as vfuctl's malformed.field
	vfuctl import -o "$TEST_TMP/m.pcap" "$VECTORS/gpio-probe-full.jsonl"
	run ts -r "$TEST_TMP/m.pcap" -q -z expert,error
	assert_contains "Malformed"
	# vfuctl dissect's words: "[error] malformed message: truncated: ..."
	assert_contains "malformed message: truncated: count 4 but 2 data bytes"
	# command 99: an unknown command, reported as such
	assert_contains "command number vfio-user does not have: command 99"
	# the tree names the field and offset, as vfuctl dissect -V
	run ts -r "$TEST_TMP/m.pcap" -V -Y 'frame.number == 84'
	assert_contains "count 4 but 2 data bytes [vfio_user.region.data @32]"
}

@test "dissector: a success reply's error field reads none (0), not Unknown (0)" {
	require_vectors gpio-probe-full.jsonl
	vfuctl import -o "$TEST_TMP/g.pcap" "$VECTORS/gpio-probe-full.jsonl"
	# frame 4: DEVICE_GET_INFO reply, frame 3 its command
	run ts -r "$TEST_TMP/g.pcap" -V -Y 'frame.number == 3 || frame.number == 4'
	assert_status 0
	assert_contains "DEVICE_GET_INFO reply"
	[ "$(grep -c '^ *error: none (0)$' <<< "$output")" = 2 ]
	assert_not_contains "Unknown (0)"
	# an error reply still names its errno
	printf '%s\n' \
		'{"t_ns":1000,"kind":"message","conn":0,"dir":"c2s","hex":"0100040020000000000000000000000010000000000000000000000000000000"}' \
		'{"t_ns":2000,"kind":"message","conn":0,"dir":"s2c","hex":"01000400100000002100000016000000"}' \
		> "$TEST_TMP/e.jsonl"
	vfuctl import -o "$TEST_TMP/e.pcap" "$TEST_TMP/e.jsonl"
	run ts -r "$TEST_TMP/e.pcap" -V -Y 'frame.number == 2'
	assert_contains "error: EINVAL (22)"
}

# findings_traces DIR: the traces findings.py compares in, written to DIR
# by setup_file (each input file its own connection):
#   traces.pcap  traces/*.jsonl
#   cut.pcap     every vector and trace without its first 5 messages: the
#                capture begins mid-session (MID_SESSION)
#   rw.pcap      all.pcap's region and DMA accesses (vfuctl dissect -Y
#                ... -w): state records seed each connection
#   tail.pcap    all.pcap from frame 500 on: a state record first
#   f.pcap       setup_file's
findings_traces() {
	local d=$1 f i=0
	: > "$d/traces.jsonl"
	: > "$d/cut.jsonl"
	for f in "$repo"/traces/*.jsonl $(vector_files); do
		case $f in "$repo"/traces/*)
			vfuctl import --digest-every 0 --conn $i -o "$d/c.pcap" "$f"
			vfuctl dissect -o jsonl "$d/c.pcap" >> "$d/traces.jsonl" ;;
		esac
		tail -n +6 "$f" > "$d/c.jsonl"
		vfuctl import --digest-every 0 --conn $i -o "$d/c.pcap" "$d/c.jsonl"
		vfuctl dissect -o jsonl "$d/c.pcap" >> "$d/cut.jsonl"
		i=$((i + 1))
	done
	vfuctl import -o "$d/traces.pcap" "$d/traces.jsonl"
	vfuctl import -o "$d/cut.pcap" "$d/cut.jsonl"
	vfuctl dissect -Y 'vfio_user.cmd == 9 || vfio_user.cmd == 10 || vfio_user.cmd == 11 || vfio_user.cmd == 12' \
		-w "$d/rw.pcap" "$BATS_FILE_TMPDIR/all.pcap" > /dev/null || true
	vfuctl dissect -Y 'frame.number >= 500' -w "$d/tail.pcap" "$BATS_FILE_TMPDIR/all.pcap" > /dev/null || true
	cp "$BATS_FILE_TMPDIR/f.pcap" "$d/f.pcap"
}

@test "dissector: the plugin's expert info equals vfuctl dissect's findings on every trace" {
	require_vectors
	local d=$BATS_FILE_TMPDIR/findings
	# state records really are there to seed from
	[ "$(vfuctl dissect -o jsonl "$d/rw.pcap" | grep -c '"kind":"state"')" -gt 10 ]
	run python3 "$tools/findings.py" "$plugin" "$BATS_FILE_TMPDIR/all.pcap" \
		"$BATS_FILE_TMPDIR/syn.pcap" "$d"/{traces,cut,rw,tail,f}.pcap
	echo "$output"
	assert_status 0
	# every kind of lib/findings.def is found, in both
	assert_contains "$(grep -c '^VX_FINDING(' "$repo/lib/findings.def") kinds, "
	assert_contains ", 0 differences"
}

@test "dissector: findings hold in tshark's second pass (-2) too" {
	require_vectors
	TWO_PASS=1 run python3 "$tools/findings.py" "$plugin" "$BATS_FILE_TMPDIR"/findings/{f,rw,cut}.pcap
	echo "$output"
	assert_status 0
	assert_contains ", 0 differences"
}

@test "dissector: mutated messages and state records: the same findings, no Lua error" {
	# tests/dissector/mutate.py: bytes changed, cut, inserted; descriptors
	# added; seeds chosen to include bad UTF-8 in VERSION JSON (5, 6)
	local seed traces=()
	for seed in 5 6 7 8; do
		python3 "$tools/mutate.py" "$BATS_FILE_TMPDIR/f.jsonl" $seed > "$TEST_TMP/m$seed.jsonl"
		vfuctl import -o "$TEST_TMP/m$seed.pcap" "$TEST_TMP/m$seed.jsonl"
		traces+=("$TEST_TMP/m$seed.pcap")
		run ts -r "$TEST_TMP/m$seed.pcap" -V
		assert_status 0
		assert_not_contains "Lua Error"
	done
	run python3 "$tools/findings.py" "$plugin" "${traces[@]}"
	echo "$output"
	assert_status 0
	assert_contains ", 0 differences"
}

@test "dissector: close records list unanswered commands; state records seed a session" {
	cp "$BATS_FILE_TMPDIR/f.pcap" "$TEST_TMP/f.pcap"
	# conn 0 leaves 22 commands unanswered, 16 said; conn 1's close only
	# ends the capture (frame 87): nothing said
	run ts -r "$TEST_TMP/f.pcap" -Y vfio_user.expert.unanswered -T fields -e frame.number \
		-e vfio_user.event
	assert_status 0
	[ "$output" = $'73\tclose\n103\tclose\n130\tclose' ]
	run ts -r "$TEST_TMP/f.pcap" -Y 'frame.number == 73' -T fields -e vfio_user.finding
	[ "$output" = "$(printf '7,%.0s' {1..15})7" ]
	# conn 2's state record: its pending REGION_READ (frame 1234 of the
	# file before) is answered, its region 0 is 0x20 bytes
	run ts -r "$TEST_TMP/f.pcap" -Y 'vfio_user.conn == 2 && (vfio_user.request_frame == 1234 || vfio_user.expert.region_bounds)' \
		-T fields -e frame.number -e _ws.expert.message
	assert_status 0
	[ "${lines[0]}" = $'89\t' ]
	[ "${lines[1]}" = $'90\taccess outside the region\'s size: bar0+0x1c len 8 runs past its size 0x20' ]
	# conn 1 begins mid-session; conn 3's state records are unusable
	run ts -r "$TEST_TMP/f.pcap" -Y vfio_user.expert.mid_session -T fields -e vfio_user.conn
	[ "$output" = $'1\n3\n3\n6\n6\n6' ]
}

@test "dissector: a reply without a command is an expert error" {
	# the open record: the connection starts here, so the reply's command
	# cannot be before the capture
	printf '%s\n' \
		'{"t_ns":500,"kind":"open","conn":0,"pid":1,"uid":0,"gid":0}' \
		'{"t_ns":1000,"kind":"message","conn":0,"dir":"s2c","hex":"0700090024000000010000000000000000000000000000000000000004000000aabbccdd"}' \
		> "$TEST_TMP/orphan.jsonl"
	vfuctl import -o "$TEST_TMP/orphan.pcap" "$TEST_TMP/orphan.jsonl"
	run ts -r "$TEST_TMP/orphan.pcap" -Y 'vfio_user.expert.reply_without_command' -T fields \
		-e frame.number -e _ws.expert.severity -e vfio_user.finding
	assert_status 0
	# PI_ERROR, finding REPLY_WITHOUT_COMMAND (3)
	[ "$output" = $'2\t8388608\t3' ]
	run vfuctl dissect -o json -Y 'vfio_user.finding == REPLY_WITHOUT_COMMAND' "$TEST_TMP/orphan.pcap"
	assert_contains '"vfio_user.frame":2'
}

@test "dissector: events read as vfuctl dissect prints them" {
	cat > "$TEST_TMP/ev.jsonl" <<-'EOF'
	{"t_ns":1000,"kind":"open","conn":0,"endpoint":1,"chan":"main","dir":"c2s","seq":0,"pid":42,"uid":1000,"gid":100}
	{"t_ns":2000,"kind":"irq","conn":0,"endpoint":1,"chan":"main","dir":"s2c","seq":0,"index":2,"vector":3,"count":1}
	{"t_ns":2500,"kind":"irq","conn":0,"endpoint":1,"chan":"main","dir":"s2c","seq":1,"index":0,"vector":0,"count":4}
	{"t_ns":3000,"kind":"annotation","conn":0,"endpoint":1,"chan":"main","dir":"c2s","seq":0,"text":"hello from the recorder"}
	{"t_ns":4000,"kind":"gap","conn":0,"endpoint":1,"chan":"main","dir":"c2s","seq":5,"count":3}
	{"t_ns":5000,"kind":"raw","conn":0,"endpoint":1,"chan":"main","dir":"s2c","seq":0,"hex":"0102030405"}
	{"t_ns":6000,"kind":"close","conn":0,"endpoint":1,"chan":"main","dir":"c2s","seq":0,"pid":42,"uid":1000,"gid":100}
	{"t_ns":7000,"kind":"close","conn":1,"endpoint":1,"chan":"main","dir":"c2s","seq":0,"pid":43,"uid":1000,"gid":100,"capture_end":true}
	EOF
	vfuctl import -o "$TEST_TMP/ev.pcap" "$TEST_TMP/ev.jsonl"
	vfuctl dissect "$TEST_TMP/ev.pcap" | sed -n 's/^ *[0-9]* [0-9.]* c[0-9]*  *//p' | grep -v '^-- ' > "$TEST_TMP/want"
	ts -r "$TEST_TMP/ev.pcap" -T fields -e _ws.col.Info > "$TEST_TMP/got"
	assert_golden "$TEST_TMP/want" "$TEST_TMP/got"
	run ts -r "$TEST_TMP/ev.pcap" -Y 'vfio_user.trace.kind == 7' -T fields -e _ws.expert.severity
	[ "$output" = 6291456 ]	# PI_WARN on the gap
}

@test "dissector: a state record (a filtered export's) is a labelled event with its JSON" {
	require_vectors qemu-gpio-io.jsonl
	vfuctl import -o "$TEST_TMP/q.pcap" "$VECTORS/qemu-gpio-io.jsonl"
	vfuctl dissect --cmd REGION_WRITE -w "$TEST_TMP/w.pcap" "$TEST_TMP/q.pcap" > /dev/null
	run ts -r "$TEST_TMP/w.pcap" -Y 'vfio_user.trace.kind == 9' -T fields \
		-e frame.number -e _ws.col.Info -e vfio_user.trace.state
	assert_status 0
	[[ ${lines[0]} =~ ^1$'\t'"session state so far ("[0-9]+" bytes of JSON)"$'\t''{"state":1,"begun":true,' ]]
	run ts -r "$TEST_TMP/w.pcap" -Y 'vfio_user.trace.kind == "state"'
	[ "${#lines[@]}" -eq "$(vfuctl dissect -o jsonl "$TEST_TMP/w.pcap" | grep -c '"kind":"state"')" ]
}

@test "dissector: USER1..USER15 traces through the vfio_user.linktypes preference" {
	require_vectors gpio-probe-badframe.jsonl
	vfuctl import --linktype 150 -o "$TEST_TMP/u3.pcap" "$VECTORS/gpio-probe-badframe.jsonl"
	run ts -r "$TEST_TMP/u3.pcap" -Y vfio_user.summary
	[ "${#lines[@]}" -eq 0 ]
	run ts -r "$TEST_TMP/u3.pcap" -o vfio_user.linktypes:147,150 -Y vfio_user.summary
	[ "${#lines[@]}" -eq 6 ]
}

@test "dissector: the decoding agrees under plain Lua 5.4 too (fake-wireshark.lua)" {
	# tshark 4.0 runs the plugin under Lua 5.2; current Wireshark under
	# Lua 5.4 (integers and floats apart): its decoding under lua5.4
	local lua=lua5.4 t
	command -v $lua > /dev/null || skip "lua5.4 is not installed (tests/deps.sh)"
	for t in all syn big; do
		[ -f "$BATS_FILE_TMPDIR/$t.pcap" ] || continue
		PLAIN_LUA=$lua python3 "$tools/compare.py" "$plugin" "$BATS_FILE_TMPDIR/$t.pcap"
	done
	# and the session's findings, state and close records included
	PLAIN_LUA=$lua run python3 "$tools/findings.py" "$plugin" "$BATS_FILE_TMPDIR/f.pcap"
	echo "$output"
	assert_status 0
	assert_contains "$(grep -c '^VX_FINDING(' "$repo/lib/findings.def") kinds, "
	assert_contains ", 0 differences"
}

@test "dissector: pairing results packed over several chunks read back in the second pass" {
	# 1500 read round trips: three chunks of 512 replies and an open one,
	# so -2's second pass finds frames by binary search across chunks;
	# msg_ids wrap and latencies grow to need multi-byte varints
	python3 - > "$TEST_TMP/many.jsonl" <<'PY'
import json, struct
t = 0
for i in range(1500):
    mid = (i * 97) & 0xffff
    for d, flags, body in (("c2s", 0, b""), ("s2c", 1, b"\x2a\0\0\0")):
        p = struct.pack("<QII", 8 * i, 2, 4) + body
        m = struct.pack("<HHIII", mid, 9, 16 + len(p), flags, 0) + p
        t += 1000 + 37 * i * i
        print(json.dumps({"seq": 2 * i + flags, "t_ns": t, "dir": d,
                          "nfds": 0, "fds": [], "hex": m.hex()}))
PY
	vfuctl import -o "$TEST_TMP/many.pcap" "$TEST_TMP/many.jsonl"
	TWO_PASS=1 run python3 "$tools/compare.py" "$plugin" "$TEST_TMP/many.pcap"
	echo "$output"
	assert_status 0
	assert_contains "3000 messages"
	assert_contains ", 0 differences"
	# one reply from the middle of the second chunk (frame 1 opens the
	# connection), found alone
	run bash -c "tshark -n -2 -X lua_script:'$plugin' -r '$TEST_TMP/many.pcap' \
		-Y 'frame.number == 1601' -T fields -e vfio_user.request_frame 2> /dev/null"
	assert_status 0
	[ "$output" = 1600 ]
}

@test "dissector: make install-plugin puts it where tshark loads it unasked; uninstall removes it" {
	local root=$TEST_TMP/root home=/home/u
	local dir=$home/.local/lib/wireshark/plugins
	run make -s -C "$repo" install-plugin DESTDIR="$root" WIRESHARK_PLUGINDIR="$dir"
	assert_status 0
	assert_contains "installed in $root$dir"
	cmp "$plugin" "$root$dir/vfio-user.lua"
	# tshark's personal Lua plugin folder is ~/.local/lib/wireshark/plugins
	run bash -c "HOME='$root$home' tshark -G plugins 2> /dev/null"
	assert_contains "$root$dir/vfio-user.lua"
	vfuctl import -o "$TEST_TMP/io.pcap" "$qemu_vectors/qemu-dma-rw.jsonl"
	run bash -c "HOME='$root$home' tshark -n -r '$TEST_TMP/io.pcap' -Y vfio_user.summary 2> /dev/null"
	assert_status 0
	assert_contains "DMA_READ"
	run make -s -C "$repo" uninstall DESTDIR="$root" PREFIX=/usr WIRESHARK_PLUGINDIR="$dir"
	assert_status 0
	[ ! -e "$root$dir/vfio-user.lua" ]
}

@test "dissector: 30k ascending DMA_MAPs cost about what as many harmless messages do" {
	# the windows are searched, not scanned, and hold no table each for
	# the garbage collector to walk (about 1.2x; scanned, over 4x)
	local t base
	python3 "$repo/tests/mkmaps.py" maps 30000 > "$TEST_TMP/m.jsonl"
	python3 "$repo/tests/mkmaps.py" info 30000 > "$TEST_TMP/i.jsonl"
	vfuctl import -o "$TEST_TMP/m.pcap" "$TEST_TMP/m.jsonl"
	vfuctl import -o "$TEST_TMP/i.pcap" "$TEST_TMP/i.jsonl"
	base=$(CPU_RUNS=2 cpu_ms tshark -n -X "lua_script:$plugin" -r "$TEST_TMP/i.pcap" -Y vfio_user.expert.dma_overlap)
	t=$(CPU_RUNS=2 cpu_ms tshark -n -X "lua_script:$plugin" -r "$TEST_TMP/m.pcap" -Y vfio_user.expert.dma_overlap)
	echo "maps $t ms, info $base ms"
	[ "$t" -lt $((5 * base / 2)) ]
}

@test "dissector: a DMA_MAP over max_dma_maps is said, at vfuctl's frame; no false DMA verdicts follow" {
	# max_dma_maps 4, five maps (frame 11); the fifth window's DMA_READ and
	# unmap (13, 15) get no verdict; after the unmap-all (17) a DMA_READ
	# outside (19) does
	python3 "$repo/tests/mkmaps.py" over 5 4 > "$TEST_TMP/o.jsonl"
	vfuctl import -o "$TEST_TMP/o.pcap" "$TEST_TMP/o.jsonl"
	run ts -r "$TEST_TMP/o.pcap" -Y 'vfio_user.expert.dma_maps_over_limit || vfio_user.expert.dma_outside || vfio_user.expert.dma_unmap_unknown' \
		-T fields -e frame.number -e _ws.expert.message
	assert_status 0
	[ "${lines[0]}" = $'11\tmore DMA windows mapped at once than max_dma_maps: [0x104000, +0x1000) with 4 mapped, max_dma_maps 4' ]
	[ "${lines[1]}" = $'19\tDMA outside every mapped window: [0x100000, +0x8) is in no mapped window' ]
	[ "${#lines[@]}" = 2 ]
}
