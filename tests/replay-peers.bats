#!/usr/bin/env bats
# replay-peers.bats - vfuctl replay against the real peers in
# ../shared/peers (tests/peers.bats's conventions: skipped without them,
# except under CI): a session of vfuctl client and one of QEMU's firmware
# with libvfio-user's gpio-pci-idio-16, recorded, replay against a fresh
# one with no divergence (the first with the same digest twice);
# libvfio-user's sample client's whole session with the sample server,
# migration included (source and destination in one trace, replayed each
# against its own fresh server): with no rules it departs where the
# recording's wall clock was written, and with the sample's rules (a time
# shifted, two values that follow the clock ignored) it replays with no
# divergence, the migration data forwarded from the live source.

load helpers

setup() {
	require_peers libvfio-user/gpio-pci-idio-16 libvfio-user-7e7a0a6/client \
		qemu/qemu-system-x86_64
	pids=()
}

teardown() {
	kill_pids
}

# bg LOG CMD...: CMD in the background, output to LOG, pid remembered.
bg() {
	local log=$1
	shift
	"$@" 3>&- </dev/null >"$log" 2>&1 &
	pids+=("$!")
	bg_pid=$!
}

# record_through LISTEN CONNECT TRACE: vfuctl record in the background.
record_through() {
	bg "$TEST_TMP/record.log" "$VFUCTL" record --listen "$1" --connect "$2" -w "$3"
	rec_pid=$bg_pid
	wait_socket "$1" "$rec_pid" "$TEST_TMP/record.log"
}

# stop_record TRACE: once the client's CLOSE is in TRACE, SIGINT.
stop_record() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$VFUCTL" dissect "$1" 2>/dev/null | grep -q 'connection closed' && break
		sleep 0.05
	done
	kill -INT "$rec_pid"
	wait "$rec_pid"
}

@test "replay: a session with libvfio-user's gpio-pci-idio-16 replays against a fresh one with no divergence" {
	bg "$TEST_TMP/gpio.log" "$LVU/gpio-pci-idio-16" -v "$TEST_TMP/g.sock"
	wait_socket "$TEST_TMP/g.sock" "$bg_pid" "$TEST_TMP/gpio.log"
	record_through "$TEST_TMP/r.sock" "$TEST_TMP/g.sock" "$TEST_TMP/g.pcap"
	"$VFUCTL" client -c 'version; info; regions; irqs; config; peek bar2 1 1;
		peek bar2 1 2; poke bar2 0 0x55 1; read bar2 0 8;
		feature probe migration' "$TEST_TMP/r.sock" >/dev/null
	stop_record "$TEST_TMP/g.pcap"
	run --separate-stderr "$VFUCTL" replay --digest "$TEST_TMP/g.pcap" -- "$LVU/gpio-pci-idio-16" -v '{socket}'
	assert_status 0
	assert_contains "32 replies compared, 0 interrupts, 0 divergences"
	first=$output
	run --separate-stderr "$VFUCTL" replay --digest "$TEST_TMP/g.pcap" -- "$LVU/gpio-pci-idio-16" -v '{socket}'
	assert_status 0
	[ "$output" = "$first" ]
}

@test "replay: QEMU's firmware session with gpio-pci-idio-16 replays against a fresh one with no divergence" {
	local fw=$TEST_TMP/firmware.log i
	bg "$TEST_TMP/gpio.log" "$LVU/gpio-pci-idio-16" -v "$TEST_TMP/g.sock"
	wait_socket "$TEST_TMP/g.sock" "$bg_pid" "$TEST_TMP/gpio.log"
	record_through "$TEST_TMP/r.sock" "$TEST_TMP/g.sock" "$TEST_TMP/q.pcap"
	: >"$fw"
	bg "$TEST_TMP/qemu.err" "$PEERS/qemu/qemu-system-x86_64" -L "$PEERS/qemu" \
		-nodefaults -display none -serial none -monitor none \
		-machine q35,accel=tcg,memory-backend=mem -m 128M \
		-object memory-backend-memfd,id=mem,size=128M,share=on \
		-device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$TEST_TMP/r.sock\",\"type\":\"unix\"}}" \
		-chardev file,id=fw,path="$fw" -device isa-debugcon,iobase=0x402,chardev=fw
	# the firmware is done when it finds nothing to boot
	for ((i = 0; i < 2400; i++)); do
		grep -q "No bootable device" "$fw" && break
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q 'init bdf=00:01\.0' "$fw"
	kill -TERM "$bg_pid"
	wait "$bg_pid" || true
	stop_record "$TEST_TMP/q.pcap"
	run "$VFUCTL" replay "$TEST_TMP/q.pcap" -- "$LVU/gpio-pci-idio-16" -v '{socket}'
	assert_status 0
	assert_contains ", 0 divergences"
	# QEMU maps guest RAM with memfds: said, not replayed
	assert_contains "fd-backed DMA windows ("
}

# A wrapper named "server" beside a copy of the sample client, which starts
# the migration destination as ./server from its own folder with "-v
# SOCKET": this runs the real one on SOCKET.real (the recorder's second
# --connect) and moves the recorder's second listener to SOCKET once it
# can be reached (the client connects as soon as the path exists).
write_destination_wrapper() {
	cat >"$1/server" <<-EOF
	#!/usr/bin/env bash
	sock=\${!#}
	"$LVU_MIG/server" "\${@:1:\$#-1}" "\$sock.real" &
	srv=\$!
	until [ -S "\$sock.real" ]; do
		kill -0 \$srv 2>/dev/null || exit 1
		sleep 0.05
	done
	mv "$1/dst.rec" "\$sock"
	wait \$srv
	EOF
	chmod +x "$1/server"
}

@test "replay: libvfio-user's sample session with its migration: source and destination replay against fresh sample servers with no divergence, given the sample's rules" {
	local d=$TEST_TMP/lvu i
	mkdir "$d"
	cp "$LVU_MIG/client" "$d/client"
	write_destination_wrapper "$d"
	bg "$d/server.log" "$LVU_MIG/server" -v "$d/s.real"
	wait_socket "$d/s.real" "$bg_pid" "$d/server.log"
	# one recorder: the source on endpoint 0, the destination on endpoint 1
	bg "$TEST_TMP/record.log" "$VFUCTL" record --listen "$d/s.sock" --connect "$d/s.real" \
		--listen "$d/dst.rec" --connect "$d/s.sock_migrated.real" -w "$d/all.pcap"
	rec_pid=$bg_pid
	wait_socket "$d/s.sock" "$rec_pid" "$TEST_TMP/record.log"
	wait_socket "$d/dst.rec" "$rec_pid" "$TEST_TMP/record.log"
	(cd "$d" && timeout -k 5 300 ./client "$d/s.sock" 3>&- >"$d/client.log" 2>&1)
	for ((i = 0; i < 200; i++)); do
		[ "$("$VFUCTL" dissect "$d/all.pcap" 2>/dev/null | grep -c ' connection closed')" -ge 2 ] && break
		sleep 0.05
	done
	kill -INT "$rec_pid"
	wait "$rec_pid"
	run "$VFUCTL" dissect -Y 'vfio_user.cmd == MIG_DATA_WRITE && vfio_user.type == command' "$d/all.pcap"
	assert_contains " c2 C->S "
	# As recorded: the sample client writes the wall clock (plus 1 s)
	# into BAR0 and the server arms a timer for then; replayed later,
	# that time has passed and the server refuses it.  Everything before
	# it -- VERSION, regions, IRQs, 16 DMA windows, DMA logging -- matches.
	frame=$("$VFUCTL" dissect -Y 'vfio_user.type == reply && vfio_user.cmd == REGION_WRITE && vfio_user.region.index == bar0' \
		"$d/all.pcap" | awk 'NR == 1 { print $1 }')
	[ -n "$frame" ]
	run "$VFUCTL" replay --timeout 3000 "$d/all.pcap" -- "$LVU_MIG/server" -v '{socket}'
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 1, REGION_WRITE reply to frame $((frame - 1))): vfio_user.flags: recorded 0x1 (reply), live 0x21 (reply|error)"
	assert_contains "and vfio_user.error: recorded 0, live EINVAL (22)"
	assert_not_contains "divergence 2"
	# vfuctl-replay(1)'s example: the rules this sample needs, each for
	# a reason of its own
	cat >"$d/sample.rules" <<-'EOF'
	# BAR0 takes a time (time_t, seconds) and the server arms a timer for
	# it: written as it was then plus the time since, and 2 s more so that
	# it is still ahead when the server reads its clock
	shift vfio_user.region.data cmd=REGION_WRITE region=bar0 offset=0 unit=s plus=2
	# a BAR0 read returns the seconds from that time to now
	vfio_user.region.data cmd=REGION_READ region=bar0
	# the last chunk of stop-and-copy data, 8 bytes, is BAR0's time
	vfio_user.mig_data.data cmd=MIG_DATA_READ mig_data.size=8
	EOF
	# the destination's timer runs ~10 s: --timeout waits for its interrupt
	run --separate-stderr "$VFUCTL" replay -o json --rules "$d/sample.rules" --timeout 60000 \
		"$d/all.pcap" -- "$LVU_MIG/server" -v '{socket}'
	printf '%s\n' "$output" | jq -c '{divergences_total, connections, interrupts, shifted, mig_forwarded, server}' >&2
	assert_status 0
	printf '%s\n' "$output" | jq -e '.divergences_total == 0 and .connections == 2 and
		.server.started == 2 and .server.failed == 0 and .interrupts == 2 and
		.shifted == 2 and .mig_forwarded == 13 and
		([.connection_results[] | select(.replies > 0 and .divergences == 0)] | length) == 2'
	# the destination takes the source's live state, shifted time and
	# all, as the client did: with the recorded state its timer's time has
	# passed, and it refuses to run
	frame=$("$VFUCTL" dissect -Y 'vfio_user.conn == 2 && vfio_user.type == reply && vfio_user.mig_state.device_state == RUNNING' \
		"$d/all.pcap" | awk 'NR == 1 { print $1 }')
	[ -n "$frame" ]
	run "$VFUCTL" replay --no-mig-forward --rules "$d/sample.rules" --timeout 60000 \
		"$d/all.pcap" -- "$LVU_MIG/server" -v '{socket}'
	assert_status 1
	assert_contains "divergence 1: frame $frame (connection 2, DEVICE_FEATURE reply to frame $((frame - 1))): vfio_user.flags: recorded 0x1 (reply), live 0x21 (reply|error)"
}

# replay_vector JSONL SAMPLE [ARGS...]: JSONL (a capture between real
# peers) as a trace, replayed against a fresh libvfio-user SAMPLE whose
# stdin is a FIFO nobody writes (null stops at the end of its input).
replay_vector() {
	local jsonl=$1 sample=$2
	shift 2
	"$VFUCTL" import -o "$TEST_TMP/v.pcap" "$jsonl"
	[ -p "$TEST_TMP/in" ] || mkfifo "$TEST_TMP/in"
	run --separate-stderr "$VFUCTL" replay -k -o json "$TEST_TMP/v.pcap" -- \
		"$LVU/$sample" "$@" '{socket}' <>"$TEST_TMP/in"
}

@test "replay: the captures of real peers in traces/ replay against a fresh gpio-pci-idio-16 with no divergence" {
	local f
	for f in gpio-probe-full qemu-gpio-io; do
		replay_vector "$repo/traces/$f.jsonl" gpio-pci-idio-16 -v
		[ "$status" -eq 0 ] || { echo "$f: $output" >&2; false; }
		printf '%s\n' "$output" | jq -e '.divergences_total == 0 and .replies > 40'
	done
}

@test "replay: the shared vectors replay against fresh libvfio-user samples; an unframeable command is passed over, said" {
	require_vectors qemu-gpio-boot.jsonl gpio-probe-badframe.jsonl null-probe-full.jsonl \
		gpio-probe-twin-passthrough.jsonl
	replay_vector "$VECTORS/qemu-gpio-boot.jsonl" gpio-pci-idio-16 -v
	assert_status 0
	printf '%s\n' "$output" | jq -e '.divergences_total == 0 and .replies == 96'
	replay_vector "$VECTORS/gpio-probe-twin-passthrough.jsonl" gpio-pci-idio-16 -v
	assert_status 0
	replay_vector "$VECTORS/null-probe-full.jsonl" null
	assert_status 0
	printf '%s\n' "$output" | jq -e '.divergences_total == 0 and .replies == 30'
	# msg_size 8: no message to send; the rest of the session goes on
	replay_vector "$VECTORS/gpio-probe-badframe.jsonl" gpio-pci-idio-16 -v
	assert_status 0
	printf '%s\n' "$output" | jq -e '.unsent == 1 and .divergences_total == 0 and .replies == 2'
}
