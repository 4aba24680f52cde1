#!/usr/bin/env bats
# client.bats - vfuctl client and its one-shots (info, regions, irqs,
# config, peek, poke) against a live `vfuctl server`: every command through
# -c, scripts from stdin and -f, --json checked with jq, expect and poll
# passing and failing, DMA both ways, interrupts and hand-built messages.
# The config decoder is compared with lspci in config.bats.

load helpers

golden=$BATS_TEST_DIRNAME/golden/client

setup() {
	srv_pid=
}

teardown() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
}

# The server must still answer after whatever a test did to it.
assert_server_alive() {
	run "$VFUCTL" peek "$sock" bar2 4
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
}

# ---------------------------------------------------------------- basics

@test "version, info, regions and irqs through -c" {
	start_server gpio
	run "$VFUCTL" client -c 'version; info; regions; irqs' "$sock"
	assert_status 0
	assert_contains "protocol           0.2"
	assert_contains "max_data_xfer_size"
	assert_contains "num_regions 9"
	assert_contains "flags       0x3 reset pci"
	assert_contains "2     bar2    0x100        rw-"
	assert_contains "7     config  0x100        rw-"
	assert_contains "0     bar0    0x0          ---   (absent)"
	assert_contains "0     INTx   1      0x7 eventfd maskable automasked"
	assert_contains "2     MSI-X"
}

@test "regions shows mmap flags, sparse areas and capabilities" {
	start_server dma
	run "$VFUCTL" regions "$sock"
	assert_status 0
	assert_contains "2     bar2    0x4000       rwm   cap SPARSE_MMAP, area 0x0+0x1000, area 0x2000+0x1000"
	assert_contains "6     rom     0x800        r--"
	run "$VFUCTL" regions --json "$sock"
	printf '%s\n' "$output" | jq -e '.regions[2] | .mmap and .caps == ["SPARSE_MMAP"] and .sparse_areas[1].offset == 8192'
}

@test "peek, poke, read and write by region name and by index" {
	start_server gpio
	run "$VFUCTL" client -c 'peek bar2 4; poke bar2 0x10 0xdeadbeef;
		peek 2 0x10; peek bar2 0x10 1; peek bar2 0x12 2; peek bar2 0x10 8;
		write bar2 0x10 01020304; read bar2 0x10 4; read config 0 4' "$sock"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
	assert_contains "bar2+0x10 <- 0xdeadbeef"
	assert_contains "bar2+0x10: 0xdeadbeef"
	assert_contains "bar2+0x10: 0xef"
	assert_contains "bar2+0x12: 0xdead"
	assert_contains "bar2+0x10 <- 4 bytes"
	assert_contains "00000010  01 02 03 04 "
	assert_contains "00000000  4f 49 c8 0d "
}

@test "read prints a hex dump with ASCII and splits at max_data_xfer_size" {
	start_server dma
	run "$VFUCTL" client --max-xfer 512 -c 'version;
		write bar2 0x1fc 41424344454647484950; read bar2 0 2048' "$sock"
	assert_status 0
	assert_contains "max_data_xfer_size 512 (server 1048576, client 512)"
	assert_contains "00000000  00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff  |..\"3DUfw........|"
	assert_contains "000001f0  00 00 00 00 00 00 00 00  00 00 00 00 41 42 43 44  |............ABCD|"
	assert_contains "00000200  45 46 47 48 49 50 00 00  00 00 00 00 00 00 00 00  |EFGHIP..........|"
	# all 2048 bytes: the zero lines collapse, the end offset says where
	# the dump ends
	[[ $output == *$'\n*\n00000800' ]]
}

@test "poke --posted sends no_reply and the write lands" {
	start_server gpio
	run "$VFUCTL" client -c 'poke --posted bar2 0x10 0x1234; peek bar2 0x10' "$sock"
	assert_status 0
	assert_contains "bar2+0x10 <- 0x00001234 (posted)"
	assert_contains "bar2+0x10: 0x00001234"
	run "$VFUCTL" poke --posted "$sock" bar2 0x10 0x55
	assert_status 0
	run "$VFUCTL" peek "$sock" bar2 0x10
	assert_contains "bar2+0x10: 0x00000055"
}

@test "reset restores the registers" {
	start_server gpio
	run "$VFUCTL" client -c 'poke bar2 0 0x7; expect bar2 0 7; reset;
		expect bar2 0 0' "$sock"
	assert_status 0
	assert_contains "reset done"
}

# ---------------------------------------------------------------- expect, poll

@test "expect passes, fails with exit 1 and a clear message, and stops the script" {
	start_server gpio
	run "$VFUCTL" client -c 'expect bar2 4 0xa5a5; expect bar2 4 0xa5 0xff;
		expect -w 2 bar2 4 0xa5a5' "$sock"
	assert_status 0
	assert_contains "ok bar2+0x4 == 0x0000a5a5"
	run --separate-stderr "$VFUCTL" client -c 'peek bar2 4; expect bar2 4 0x1234;
		peek bar2 0' "$sock"
	assert_status 1
	[[ $stderr == *"-c:2: expect failed: bar2+0x4 is 0x0000a5a5, expected 0x00001234 (mask 0xffffffff)"* ]]
	assert_contains "bar2+0x4: 0x0000a5a5"
	assert_not_contains "bar2+0x0:"
	# -k goes on, but the status is still the failure's
	run "$VFUCTL" client -k -c 'expect bar2 4 0; peek bar2 0' "$sock"
	assert_status 1
	assert_contains "bar2+0x0:"
}

@test "poll passes at once and times out with exit 1" {
	start_server gpio
	run "$VFUCTL" client -c 'poke bar2 0 0x17; poll bar2 0 0xf 0x7 100' "$sock"
	assert_status 0
	assert_contains "ok bar2+0x0 == 0x00000017 after 1 read"
	run --separate-stderr "$VFUCTL" client -c 'poll bar2 0 0xff 0x8 200ms' "$sock"
	assert_status 1
	[[ $stderr == *"poll timed out after 200 ms: bar2+0x0 is 0x00000017"* ]]
}

# ---------------------------------------------------------------- scripts

@test "a script from standard input and from -f, with line numbers" {
	start_server gpio
	printf '# set up\npoke bar2 0x10 5  # scratch\n\nexpect bar2 0x10 5; peek bar2 0x10\n' \
		>"$TEST_TMP/ok.vfu"
	run "$VFUCTL" client -f "$TEST_TMP/ok.vfu" "$sock"
	assert_status 0
	assert_contains "bar2+0x10: 0x00000005"
	run bash -c '"$VFUCTL" client "$1" < "$2"' _ "$sock" "$TEST_TMP/ok.vfu"
	assert_status 0
	assert_contains "bar2+0x10: 0x00000005"
	printf 'peek bar2 0\n\nexpect bar2 0x10 6\npeek bar2 4\n' >"$TEST_TMP/bad.vfu"
	run --separate-stderr "$VFUCTL" client -f "$TEST_TMP/bad.vfu" "$sock"
	assert_status 1
	[[ $stderr == *"bad.vfu:3: expect failed"* ]]
	assert_not_contains "bar2+0x4"
}

@test "usage errors exit 2 and say what to do" {
	start_server gpio
	run "$VFUCTL" client -c 'peek bar9 0' "$sock"
	assert_status 2
	assert_contains "invalid region 'bar9': want bar0..bar5, rom, config, vga or an index"
	run "$VFUCTL" client -c 'peek bar2 0 3' "$sock"
	assert_status 2
	assert_contains "invalid width '3': want 1, 2, 4 or 8"
	run "$VFUCTL" client -c 'peek bar2 0x100' "$sock"
	assert_status 2
	assert_contains "beyond the end of bar2 (size 0x100)"
	run "$VFUCTL" client -c 'frobnicate' "$sock"
	assert_status 2
	assert_contains "unknown command 'frobnicate'; 'help' lists them"
	run "$VFUCTL" client -c 'poke bar2 0 0x1ff 1' "$sock"
	assert_status 2
	assert_contains "does not fit in 1 bytes"
	run "$VFUCTL" client -c "peek 'bar2" "$sock"
	assert_status 2
	assert_contains "unterminated quote"
	run "$VFUCTL" client --max-fds x "$sock"
	assert_status 2
	run "$VFUCTL" client
	assert_status 2
	assert_contains "missing SOCKET"
	run "$VFUCTL" peek "$sock"
	assert_status 2
}

@test "no server: exit 1 naming the socket and what to do" {
	run "$VFUCTL" info "$TEST_TMP/nobody"
	assert_status 1
	assert_contains "cannot connect to '$TEST_TMP/nobody'"
	assert_contains "vfuctl server --socket-path"
	run "$VFUCTL" client -c info "$TEST_TMP/nobody"
	assert_status 1
}

@test "help lists every command and shows one" {
	start_server gpio
	run "$VFUCTL" client -c 'help' "$sock"
	assert_status 0
	local c
	for c in version info regions irqs peek read poke write expect poll \
		config reset raw dma irq wait-irq feature mig help quit; do
		assert_contains "  $c "
	done
	run "$VFUCTL" client -c 'help poll' "$sock"
	assert_contains "poll [-w WIDTH] REGION OFFSET MASK VALUE TIMEOUT"
}

# ---------------------------------------------------------------- JSON

@test "--json prints one valid object per command" {
	start_server gpio
	run "$VFUCTL" client --json -c 'version; info; regions; irqs; peek bar2 4;
		read bar2 0 8; poke bar2 0x10 9; write bar2 0x10 0a; expect bar2 0x10 0xa;
		poll bar2 4 0xffff 0xa5a5 100; config; reset; raw DEVICE_GET_INFO 10000000000000000000000000000000;
		dma list' "$sock"
	assert_status 0
	[ "${#lines[@]}" -eq 14 ]
	printf '%s\n' "${lines[@]}" | jq -e -s 'length == 14 and all(.ok == true)'
	printf '%s\n' "${lines[0]}" | jq -e '.command == "version" and .major == 0 and .minor == 2 and .max_data_xfer_size > 0'
	printf '%s\n' "${lines[1]}" | jq -e '.num_regions == 9 and .num_irqs == 5 and .pci == true'
	printf '%s\n' "${lines[2]}" | jq -e '.regions[2] | .name == "bar2" and .size == 256 and .read and .write and (.mmap | not)'
	printf '%s\n' "${lines[3]}" | jq -e '.irqs[0] | .name == "INTx" and .count == 1 and .eventfd'
	printf '%s\n' "${lines[4]}" | jq -e '.region == "bar2" and .offset == 4 and .value == 42405 and .width == 4'
	printf '%s\n' "${lines[5]}" | jq -e '.data == "00000000a5a50000"'
	printf '%s\n' "${lines[8]}" | jq -e '.match == true'
	printf '%s\n' "${lines[10]}" | jq -e '.config.vendor_id == 18767 and .config.device_id == 3528 and (.config.capabilities[0].name == "Power Management")'
	printf '%s\n' "${lines[12]}" | jq -e '.reply["vfio_user.device_info.num_regions"] == 9 or .reply != null'
}

@test "--json: help and quit print objects too" {
	start_server gpio
	run "$VFUCTL" client --json -c 'help; help peek; quit; peek bar2 0' "$sock"
	assert_status 0
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "${lines[0]}" | jq -e '[.commands[].name] | index("wait-irq") != null'
	printf '%s\n' "${lines[1]}" | jq -e '.commands[0].args == "REGION OFFSET [1|2|4|8]"'
	printf '%s\n' "${lines[2]}" | jq -e '.command == "quit" and .ok'
}

@test "an abstract socket (@name)" {
	local server=${VFUCTL_SERVER:-$VFUCTL} name=vfuctl-client-test-$$
	"$server" --list-commands | grep -qx server || skip "no vfuctl server"
	"$server" server --socket-path "@$name" \
		--device "$repo/tests/devices/gpio.json" 3>&- >/dev/null 2>&1 &
	srv_pid=$!
	wait_abstract "$name"
	run "$VFUCTL" peek "@$name" bar2 4
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
}

@test "--json failures carry ok false and the error" {
	start_server gpio
	run --separate-stderr "$VFUCTL" client --json -c 'expect bar2 4 1' "$sock"
	assert_status 1
	printf '%s\n' "${lines[0]}" | jq -e '.ok == false and .match == false and (.error | test("expect failed"))'
	run --separate-stderr "$VFUCTL" client --json -c 'peek nowhere 0' "$sock"
	assert_status 2
	printf '%s\n' "${lines[0]}" | jq -e '.ok == false and (.error | test("invalid region"))'
}

# ---------------------------------------------------------------- one-shots

@test "one-shots info, regions, irqs, peek, poke print what the client does" {
	start_server gpio
	run "$VFUCTL" info "$sock"
	assert_status 0
	assert_contains "num_regions 9"
	run "$VFUCTL" regions "$sock"
	assert_status 0
	assert_contains "bar2    0x100"
	run "$VFUCTL" irqs "$sock"
	assert_status 0
	assert_contains "INTx"
	run "$VFUCTL" poke "$sock" bar2 0x10 0x42 2
	assert_status 0
	assert_contains "bar2+0x10 <- 0x0042"
	run "$VFUCTL" peek "$sock" bar2 0x10 2
	assert_status 0
	[ "$output" = "bar2+0x10: 0x0042" ]
}

@test "one-shots with --json" {
	start_server gpio
	local c
	for c in info regions irqs config; do
		run "$VFUCTL" "$c" --json "$sock"
		assert_status 0
		printf '%s\n' "$output" | jq -e --arg c "$c" '.command == $c and .ok'
	done
	run "$VFUCTL" peek --json "$sock" config 0 2
	printf '%s\n' "$output" | jq -e '.value == 18767'
	run "$VFUCTL" poke --json "$sock" bar2 0x10 7
	printf '%s\n' "$output" | jq -e '.value == 7 and .posted == false'
}

# ---------------------------------------------------------------- raw

@test "raw sends hand-built messages; malformed ones get error replies and the server keeps serving" {
	start_server gpio
	# a REGION_READ of bar2+4, 4 bytes
	run "$VFUCTL" client -c 'raw REGION_READ 040000000000000002000000040000000' "$sock"
	assert_status 2
	assert_contains "invalid hex bytes"
	run "$VFUCTL" client -c 'raw REGION_READ 04000000000000000200000004000000' "$sock"
	assert_status 0
	assert_contains "REGION_READ reply"
	assert_contains "a5a50000"
	# truncated, unknown command, bad region, count beyond the region
	run "$VFUCTL" client -c 'raw REGION_READ 0400; raw 99 00; raw REGION_READ 040000000000000063000000040000;
		raw 10 00010000000000000200000004000000; raw DEVICE_GET_REGION_INFO; peek bar2 4' "$sock"
	assert_status 0
	[ "$(grep -c 'reply error' <<<"$output")" -eq 5 ]
	assert_contains "bar2+0x4: 0x0000a5a5"
	run "$VFUCTL" client --json -c 'raw REGION_READ 0400' "$sock"
	printf '%s\n' "$output" | jq -e '.error_reply == true and .reply != null'
	assert_server_alive
}

# ---------------------------------------------------------------- DMA

# dma_script DIR-OPTS: map, device-to-client DMA, check, client-to-device.
dma_script='dma map 0x100000 0x4000;
	poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 0; poke bar0 0x10 1;
	poll bar0 0x14 1 1 2000; dma dump 0x100000 16;
	dma fill 0x100000 16 0x5a; poke bar0 0x14 3; poke bar0 0xc 1; poke bar0 0x10 1;
	poll bar0 0x14 1 1 2000; expect bar2 0 0x5a5a5a5a; dma list; dma unmap 0x100000 0x4000; dma list'

@test "dma map with a memfd: the device reads and writes client memory" {
	start_server dma
	run "$VFUCTL" client -c "$dma_script" "$sock"
	assert_status 0
	assert_contains "mapped 0x100000+0x4000 rw (memfd)"
	assert_contains "00100000  00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"
	assert_contains "0x0000000000100000 0x4000       rw memfd"
	assert_contains "unmapped 0x100000"
}

@test "dma map --no-fd: the client serves DMA_READ and DMA_WRITE" {
	start_server dma
	run "$VFUCTL" client --no-fd -c "$dma_script" "$sock"
	assert_status 0
	assert_contains "(DMA_READ/DMA_WRITE)"
	assert_contains "00100000  00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"
	assert_contains "served 1 DMA_READ, 1 DMA_WRITE, 0 refused"
	run "$VFUCTL" client --json -c "dma map --no-fd 0x2000 0x1000; poke bar0 0 0x2000 8;
		poke bar0 8 8; poke bar0 0xc 0; poke bar0 0x10 1; poll bar0 0x14 1 1 2000; dma list" "$sock"
	assert_status 0
	printf '%s\n' "${lines[-1]}" | jq -e '.served_writes == 1 and .windows[0].fd == false'
}

@test "dma: DMA outside the windows fails, bad arguments are usage errors" {
	start_server dma
	run "$VFUCTL" client --no-fd -c 'dma map 0x1000 0x1000; poke bar0 0 0x8000 8;
		poke bar0 8 16; poke bar0 0xc 0; poke bar0 0x10 1; poll bar0 0x14 2 2 2000; dma list' "$sock"
	assert_status 0
	assert_contains "ok bar0+0x14 == 0x00000002"
	assert_contains "served 0 DMA_READ, 0 DMA_WRITE"
	run "$VFUCTL" client -c 'dma dump 0x1000 4' "$sock"
	assert_status 2
	assert_contains "not inside one mapped DMA window"
	run "$VFUCTL" client -c 'dma map 0x1000 0x1000 x' "$sock"
	assert_status 2
	run "$VFUCTL" client -c 'dma map 0x1000 0x1000; dma map 0x1800 0x1000' "$sock"
	assert_status 2
	assert_contains "overlaps the mapped 0x1000+0x1000; unmap it first"
	run "$VFUCTL" client -c 'dma unmap 0x1000 0x1000' "$sock"
	assert_status 2
	assert_contains "no DMA window 0x1000+0x1000 is mapped; see 'dma list'"
}

# ---------------------------------------------------------------- interrupts

@test "irq enable hands eventfds over; a doorbell fires INTx; wait-irq times out" {
	start_server gpio
	run "$VFUCTL" client -c 'irq enable intx 0 1; poke bar2 0xc 1; wait-irq 2000' "$sock"
	assert_status 0
	assert_contains "INTx vector 0 fired"
	run --separate-stderr "$VFUCTL" client -c 'irq enable intx 0 1; wait-irq 100' "$sock"
	assert_status 1
	[[ $stderr == *"no interrupt within 100 ms"* ]]
	run "$VFUCTL" client -c 'wait-irq 10' "$sock"
	assert_status 2
	assert_contains "no interrupt is enabled"
}

@test "INTx is automasked: unmask delivers the pending interrupt; mask and trigger" {
	start_server gpio
	run "$VFUCTL" client -c 'irq enable intx 0 1; poke bar2 0xc 1; wait-irq 2000;
		poke bar2 8 1; poke bar2 0xc 1; irq unmask intx 0 1; wait-irq 2000;
		irq mask intx 0 1; irq trigger intx 0 1; irq unmask intx 0 1; wait-irq 2000' "$sock"
	assert_status 0
	[ "$(grep -c 'INTx vector 0 fired' <<<"$output")" -eq 3 ]
	assert_contains "INTx vectors 0+1 masked"
	assert_contains "INTx vectors 0+1 triggered"
	run --separate-stderr "$VFUCTL" client -c 'irq enable intx 0 1; poke bar2 0xc 1;
		wait-irq 2000; poke bar2 8 1; poke bar2 0xc 1; wait-irq 200' "$sock"
	assert_status 1
	[[ $stderr == *"-c:6: no interrupt within 200 ms"* ]]
}

@test "MSI-X vectors through eventfds, disable, and --json" {
	start_server dma
	run "$VFUCTL" client --json -c 'irq enable msix 0 4; poke bar0 0x20 1; wait-irq 2000;
		irq disable msix' "$sock"
	assert_status 0
	printf '%s\n' "${lines[2]}" | jq -e '.fired[0].irq == "MSI-X" and .fired[0].vector == 1'
	run "$VFUCTL" client -c 'irq enable 7 0 1' "$sock"
	assert_status 1
	assert_contains "DEVICE_SET_IRQS"
}

# ---------------------------------------------------------------- feature, mig

@test "feature probe answers; unsupported features are errors with the errno" {
	start_server gpio
	run "$VFUCTL" client -c 'feature probe migration; feature probe dirty-start' "$sock"
	assert_status 0
	assert_contains "feature migration:"
	run "$VFUCTL" client -c 'feature set mig-state BOGUS' "$sock"
	assert_status 2
	assert_contains "invalid migration state 'BOGUS'"
	run "$VFUCTL" client -c 'feature frob migration' "$sock"
	assert_status 2
	run "$VFUCTL" client -c 'mig read 16' "$sock"
	[ "$status" -eq 0 ] || assert_contains "MIG_DATA_READ"
	assert_server_alive
}

# ---------------------------------------------------------------- twin, caps

@test "--twin-socket, --write-multiple and --max-fds are offered in VERSION" {
	start_server dma
	run "$VFUCTL" client --twin-socket --write-multiple --max-fds 4 --no-fd \
		-c "version; $dma_script" "$sock"
	assert_status 0
	assert_contains "twin_socket"
	assert_contains "served 1 DMA_READ, 1 DMA_WRITE"
}

# ---------------------------------------------------------------- completion

@test "bash completion: client options, one-shot options and region names" {
	run complete_words vfuctl client --
	assert_contains --twin-socket
	assert_contains --max-xfer
	assert_contains --json
	run complete_words vfuctl client --dma-write-reply ""
	[ "$(echo $output)" = "libvfio-user spec qemu" ]
	run complete_words vfuctl poke --
	assert_contains --posted
	run complete_words vfuctl config -
	assert_contains -F
	run complete_words vfuctl peek /tmp/sock c
	[ "$output" = config ]
}

# ---------------------------------------------------------------- a scripted server

# fake_server MODE: a small Python vfio-user server on $sock (MODE twin:
# offers a twin socket; close: hangs up after VERSION; evil: control
# characters in its VERSION JSON).  It logs every
# command and answers GET mig-state with RUNNING and MIG_DATA_READ with 7
# bytes.  On DMA_MAP, before it replies, it sends the
# client DMA_WRITE "abcd" to the window's start, DMA_READ of 3 bytes,
# DMA_READ outside the window and DEVICE_GET_INFO, on the twin socket or
# the main one, and logs the client's answers to $TEST_TMP/fake.log.
fake_server() {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/fake
	cat >"$TEST_TMP/fake.py" <<'PY'
import json, os, socket, struct, sys
sys.path.insert(0, os.environ["FAKEPEER_DIR"])
from fakepeer import listen_once, recv_exact, recv_msg, send_msg

path, twin, log = sys.argv[1], sys.argv[2] == "twin", open(sys.argv[3], "w")
c = listen_once(path)

mid, cmd, flags, err, p = recv_msg(c)
caps = {"max_msg_fds": 8, "max_data_xfer_size": 1048576}
fds = ()
if twin:
    a, b = socket.socketpair()
    caps["twin_socket"] = {"supported": True, "fd_index": 0}
    fds = (b.fileno(),)
js = json.dumps({"capabilities": caps}).encode() + b"\0"
if sys.argv[2] == "evil":
    # keys that try to retitle the terminal and forge a line: escaped
    # controls, and a raw DEL and C1 CSI, which JSON allows in strings
    js = js[:-3] + b', "\\u001b]0;pwned\\u0007\\r\\nFAKE": 1, "x\x7f\xc2\x9b[2J": 2}}\0'
send_msg(c, mid, 1, 1, struct.pack("<HH", 0, 2) + js, fds)
ch = a if twin else c
if sys.argv[2] == "close":
    sys.exit(0)
while True:
    mid, cmd, flags, err, p = recv_msg(c)
    log.write("cmd %d flags %x payload %s\n" % (cmd, flags, p.hex()))
    log.flush()
    if cmd == 16 and struct.unpack("<I", p[4:8])[0] == 0x10002:
        # GET MIG_DEVICE_STATE: RUNNING
        send_msg(c, mid, cmd, 1, p[:8] + struct.pack("<II", 2, 0))
        continue
    if cmd == 17:
        send_msg(c, mid, cmd, 1, struct.pack("<II", 15, 7) + b"migdata")
        continue
    if cmd == 2:
        addr = struct.unpack("<Q", p[16:24])[0]
        send_msg(ch, 0x100, 12, 0, struct.pack("<QQ", addr, 4) + b"abcd")
        r = recv_msg(ch)
        log.write("write-reply id %x len %d payload %s\n" % (r[0], len(r[4]), r[4].hex()))
        send_msg(ch, 0x101, 11, 0, struct.pack("<QQ", addr + 1, 3))
        r = recv_msg(ch)
        log.write("read-reply len %d data %s\n" % (len(r[4]), r[4][16:].hex()))
        send_msg(ch, 0x102, 11, 0, struct.pack("<QQ", addr + 0x100000, 4))
        r = recv_msg(ch)
        log.write("outside flags %x error %d\n" % (r[2], r[3]))
        send_msg(ch, 0x103, 4, 0, b"")
        r = recv_msg(ch)
        log.write("other flags %x error %d\n" % (r[2], r[3]))
        log.flush()
    send_msg(c, mid, cmd, 1)
PY
	FAKEPEER_DIR="$repo/tests" python3 "$TEST_TMP/fake.py" "$sock" "$1" "$TEST_TMP/fake.log" 3>&- &
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" "$TEST_TMP/fake.log"
}

@test "DMA on the twin socket while a reply is awaited; DMA_WRITE replies in libvfio-user's 16-byte form" {
	fake_server twin
	run "$VFUCTL" client --twin-socket -c 'version; dma map --no-fd 0x1000 0x1000;
		dma dump 0x1000 8; dma list' "$sock"
	assert_status 0
	assert_contains "twin_socket        yes"
	assert_contains "00001000  61 62 63 64 00 00 00 00"
	assert_contains "served 1 DMA_READ, 1 DMA_WRITE, 2 refused"
	run cat "$TEST_TMP/fake.log"
	assert_contains "write-reply id 100 len 16 payload 00100000000000000400000000000000"
	assert_contains "read-reply len 19 data 626364"
	assert_contains "outside flags 21 error 14"
	assert_contains "other flags 21 error 95"
}

@test "DMA on the main socket; --dma-write-reply spec and qemu" {
	fake_server main
	run "$VFUCTL" client --dma-write-reply spec -c 'dma map --no-fd 0x1000 0x1000;
		dma dump 0x1000 4' "$sock"
	assert_status 0
	assert_contains "00001000  61 62 63 64"
	run cat "$TEST_TMP/fake.log"
	assert_contains "write-reply id 100 len 12 payload 001000000000000004000000"
	assert_contains "outside flags 21 error 14"
	wait "$srv_pid" 2>/dev/null || true
	rm -f "$sock"
	fake_server main
	run "$VFUCTL" client --dma-write-reply qemu -c 'dma map --no-fd 0x1000 0x1000' "$sock"
	assert_status 0
	run cat "$TEST_TMP/fake.log"
	assert_contains "write-reply id 100 len 0 payload"
}

@test "feature and mig: the messages on the wire, the replies decoded" {
	fake_server main
	run "$VFUCTL" client -c 'feature get mig-state; feature set mig-state STOP_COPY;
		feature probe migration; feature set dirty-start 4096 0x1000 0x2000;
		feature set dirty-stop; mig read 7; mig write 0a0b0c' "$sock"
	assert_status 0
	assert_contains "device_state RUNNING"
	assert_contains "feature migration: supported"
	assert_contains "00000000  6d 69 67 64 61 74 61"
	assert_contains "wrote 3 bytes of migration data"
	run cat "$TEST_TMP/fake.log"
	# argsz, flags (feature | get/set/probe), data
	assert_contains "cmd 16 flags 0 payload 1000000002000100"
	assert_contains "cmd 16 flags 0 payload 10000000020002000300000000000000"
	assert_contains "cmd 16 flags 0 payload 0800000001000400"
	assert_contains "cmd 16 flags 0 payload 28000000060002000010000000000000010000000000000000100000000000000020000000000000"
	assert_contains "cmd 16 flags 0 payload 0800000007000200"
	assert_contains "cmd 17 flags 0 payload 0f00000007000000"
	assert_contains "cmd 18 flags 0 payload 0b000000030000000a0b0c"
}

@test "a server that hangs up: exit 1 naming the command that was waiting" {
	fake_server close
	run --separate-stderr "$VFUCTL" client -c 'info' "$sock"
	assert_status 1
	[[ $stderr == *"-c:1: server closed the connection while DEVICE_GET_INFO (msg_id 0x2) awaited its reply"* ]]
}

@test "a server that hung up before the command went out: still named, not a bare hang-up" {
	fake_server close
	mkfifo "$TEST_TMP/in"
	"$VFUCTL" client -f - "$sock" <"$TEST_TMP/in" >"$TEST_TMP/out" 2>&1 3>&- &
	local cl=$! st=0
	exec 4>"$TEST_TMP/in"
	# gone once VERSION is answered: sending the command meets EPIPE
	wait "$srv_pid" || true
	srv_pid=
	echo info >&4
	exec 4>&-
	wait "$cl" || st=$?
	[ "$st" -eq 1 ] || { cat "$TEST_TMP/out" >&2; false; }
	grep -qF "stdin:1: server closed the connection while DEVICE_GET_INFO (msg_id 0x2) awaited its reply" "$TEST_TMP/out" ||
		{ cat "$TEST_TMP/out" >&2; false; }
}

@test "the server's VERSION JSON reaches the terminal with its control characters escaped" {
	fake_server evil
	run "$VFUCTL" client -c 'version' "$sock"
	assert_status 0
	assert_contains 'FAKE": 1, "x\x7f\xc2\x9b[2J": 2}}'
	! LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' <<< "$output"
	# the fake serves one client: another for --json
	wait "$srv_pid" || true
	rm -f "$sock"
	fake_server evil
	run --separate-stderr "$VFUCTL" client --json -c 'version' "$sock"
	assert_status 0
	! LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f-\xff]' <<< "$output"
	jq -e . <<< "$output" > /dev/null
}

# not_vfio KIND: a peer on $sock that answers VERSION with something else:
# http (an HTTP error response, then waits), random (64 seeded random
# bytes), short (6 bytes, then hangs up), quiet (6 bytes, then nothing),
# silent (nothing at all).
not_vfio() {
	command -v python3 >/dev/null || skip "python3 is not installed"
	sock=$TEST_TMP/notvfio
	python3 - "$sock" "$1" 3>&- >"$TEST_TMP/peer.log" 2>&1 <<'PY' &
import random, socket, sys
path, kind = sys.argv[1], sys.argv[2]
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(path)
ls.listen(1)
c, _ = ls.accept()
c.recv(4096)
if kind == "http":
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
              b"Content-Length: 11\r\n\r\nBad request")
elif kind == "random":
    c.sendall(random.Random(13).randbytes(64))
elif kind in ("short", "quiet"):
    c.sendall(b"hello\n")
if kind != "short":
    try:
        c.recv(1)    # until the client hangs up
    except OSError:
        pass
PY
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" "$TEST_TMP/peer.log"
}

@test "an HTTP server is not a vfio-user peer: said at once, with its first bytes" {
	not_vfio http
	# a long timeout: the answer must not wait for it
	run --separate-stderr timeout 20 "$VFUCTL" client --timeout 60000 -c info "$sock"
	assert_status 1
	[[ $stderr == *"not a vfio-user peer at '$sock'"* ]]
	[[ $stderr == *"msg_size 825110831 is beyond the 1052672 bytes this client accepts"* ]]
	[[ $stderr == *'48 54 54 50 2f 31 2e 31 20 34 30 30 '*'"HTTP/1.1 400 Bad Request..Conten"'* ]]
	[[ $stderr != *"no reply to VERSION"* ]]
}

@test "a peer that sends random bytes, or a few and hangs up or goes quiet, is not a vfio-user peer" {
	not_vfio random
	run --separate-stderr "$VFUCTL" peek --timeout 60000 "$sock" bar2 4
	assert_status 1
	[[ $stderr == *"not a vfio-user peer"*"first 32 bytes: "* ]]
	# the bytes shown are the ones sent
	local want
	want=$(python3 -c 'import random; print(" ".join("%02x" % b for b in random.Random(13).randbytes(32)))')
	[[ $stderr == *"$want"* ]]
	wait "$srv_pid" || true
	rm -f "$sock"
	not_vfio short
	run --separate-stderr "$VFUCTL" client --timeout 60000 -c info "$sock"
	assert_status 1
	[[ $stderr == *"not a vfio-user peer"*"(it sent 6 bytes and hung up); first 6 bytes: 68 65 6c 6c 6f 0a \"hello.\""* ]]
	wait "$srv_pid" || true
	rm -f "$sock"
	not_vfio quiet
	run --separate-stderr "$VFUCTL" client --timeout 300 -c info "$sock"
	assert_status 1
	[[ $stderr == *"not a vfio-user peer"*"(it sent 6 bytes in 300 ms, no whole header)"* ]]
}

@test "a peer that says nothing still gets the timeout's words" {
	not_vfio silent
	run --separate-stderr "$VFUCTL" client --timeout 300 -c info "$sock"
	assert_status 1
	[[ $stderr == *"no reply to VERSION (msg_id 0x1) within 300 ms"* ]]
	[[ $stderr != *"not a vfio-user peer"* ]]
}

@test "poke suggests the smallest width that holds the value" {
	start_server gpio
	run --separate-stderr "$VFUCTL" client -c 'poke bar2 0x10 0x1ff 1' "$sock"
	assert_status 2
	[[ $stderr == *"value 0x1ff does not fit in 1 bytes; give a width of 2 or a smaller value"* ]]
	run --separate-stderr "$VFUCTL" client -c 'poke bar2 0x10 0x10000 2' "$sock"
	[[ $stderr == *"give a width of 4 "* ]]
	run --separate-stderr "$VFUCTL" client -c 'poke bar2 0x10 0x100000000 1' "$sock"
	[[ $stderr == *"give a width of 8 "* ]]
}

@test "help: every command's help line starts in the same column" {
	start_server gpio
	run "$VFUCTL" client -c 'help' "$sock"
	assert_status 0
	local text=$output h line prefix n=0
	while IFS= read -r h; do
		line=$(grep -F -- "$h" <<< "$text" | head -1)
		prefix=${line%%"$h"*}
		[ "${#prefix}" -eq 40 ] || { echo "'$h' starts at column ${#prefix}" >&2; return 1; }
		n=$((n + 1))
	done < <("$VFUCTL" client --json -c 'help' "$sock" | jq -r '.commands[].help')
	[ "$n" -ge 20 ]
}

@test "hex dumps collapse repeated lines with '*' as hexdump -C does: dma dump, read, mig read" {
	start_server dma
	run "$VFUCTL" client -c 'dma map 0x100000 0x1000; dma fill 0x100020 16 0xab; dma dump 0x100000 0x60' "$sock"
	assert_status 0
	[[ $output == *"00100000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00100020  ab ab ab ab ab ab ab ab  ab ab ab ab ab ab ab ab  |................|
00100030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00100060" ]]
	run "$VFUCTL" client -c 'read bar0 0 0x400' "$sock"
	assert_status 0
	[ "$(grep -c '^\*$' <<< "$output")" -ge 1 ]
	[[ $output == *"00000400" ]]
	kill "$srv_pid"; wait "$srv_pid" || true
	start_server gpio
	run "$VFUCTL" client -c 'feature set mig-state STOP_COPY; mig read 65536' "$sock"
	assert_status 0
	[[ $output == *"|................|
*
00000140" ]]
}

@test "x/NFU examines as gdb: count, format, unit, remembered; x alone goes on" {
	start_server gpio
	run "$VFUCTL" client -f - "$sock" <<-'IN'
	poke bar2 0x10 0x12345678
	x bar2 0x10
	x
	x/8xb bar2 0x10
	x/2dh
	x/tw bar2 4
	x/3c config 0
	x/ug
	x/2o bar2 4
	x/d bar2 0x10
	IN
	assert_status 0
	assert_contains $'bar2+0x10:\t0x12345678\n'
	assert_contains $'bar2+0x14:\t0x00000001\n'
	assert_contains $'bar2+0x10:\t0x78\t0x56\t0x34\t0x12\t0x01\t0x00\t0x00\t0x00\n'
	# the unit stays b until told: 2dh is two halves at 0x18
	assert_contains $'bar2+0x18:\t0\t0\n'
	assert_contains $'bar2+0x4:\t00000000000000001010010110100101\n'
	assert_contains $'config+0x0:\t79 \'O\'\t73 \'I\'\t200 \'\\310\'\n'
	assert_contains $'bar2+0x4:\t0122645\t0110642547400000000000\n'
	# d with the unit remembered (g): 0x0000000112345678
	assert_contains $'bar2+0x10:\t4600387192'
	run "$VFUCTL" client --json -c 'x/2xw bar2 0x10' "$sock"
	assert_status 0
	jq -e '.region == "bar2" and .offset == 16 and .format == "x" and .unit == 4 and .values == [305419896, 1]' <<< "$output"
	run --separate-stderr "$VFUCTL" client -c 'x' "$sock"
	assert_status 2
	[[ $stderr == *"no x before this one to go on from: give REGION OFFSET"* ]]
	run --separate-stderr "$VFUCTL" client -c 'x/4q bar2 0' "$sock"
	assert_status 2
	[[ $stderr == *"invalid x letter 'q'"* ]]
	run --separate-stderr "$VFUCTL" client -c 'x/0x bar2 0' "$sock"
	assert_status 2
	run --separate-stderr "$VFUCTL" client -c 'x/65x bar2 0' "$sock"
	assert_status 2
	[[ $stderr == *"beyond the end of bar2"* ]]
}

@test "watch sees a value another party writes into a shared region, and prints each change" {
	start_server dma
	local fd f
	for f in /proc/"$srv_pid"/fd/*; do
		[[ $(readlink "$f") == "/memfd:vfuctl-bar2 (deleted)" ]] && fd=$f
	done
	[ -n "$fd" ]
	"$VFUCTL" client -c 'watch bar2 0x10 4 10ms' "$sock" >"$TEST_TMP/watch.out" 2>&1 3>&- &
	local w=$!
	wait_for "bar2+0x10: 0x00000000" "$TEST_TMP/watch.out"
	# what a guest that mapped bar2 would do: write the memory itself
	printf '\x78\x56\x34\x12' | dd of="$fd" bs=1 seek=16 conv=notrunc status=none
	wait_for "0x00000000 -> 0x12345678" "$TEST_TMP/watch.out"
	printf '\x01' | dd of="$fd" bs=1 seek=16 conv=notrunc status=none
	wait_for "0x12345678 -> 0x12345601" "$TEST_TMP/watch.out"
	kill "$w"
	wait "$w" || true
	run cat "$TEST_TMP/watch.out"
	assert_contains "bar2+0x10: 0x00000000
bar2+0x10: 0x00000000 -> 0x12345678
bar2+0x10: 0x12345678 -> 0x12345601"
	run --separate-stderr "$VFUCTL" client -c 'watch bar2' "$sock"
	assert_status 2
	[[ $stderr == *"usage: watch REGION OFFSET"* ]]
}

@test "mig save on one server and mig load on another move the device state" {
	start_server gpio
	local a=$sock pa=$srv_pid b=$TEST_TMP/b pb
	cd "$TEST_TMP"
	"$VFUCTL" server --socket-path "$b" --device "$repo/tests/devices/gpio.json" 3>&- 2>/dev/null &
	pb=$!
	wait_socket "$b" "$pb" /dev/null
	run "$VFUCTL" client -c 'poke bar2 0x10 0x12345678; poke bar2 0 0x5a;
		mig save state.mig; feature get mig-state' "$a"
	assert_status 0
	assert_contains "saved 320 bytes of device state (STOP_COPY) to state.mig"
	assert_contains "device_state STOP_COPY"
	# the file: magic, length, the data as MIG_DATA_READ gave it; 0600
	[ "$(head -c 8 state.mig)" = "VFUMIG1" ]
	[ "$(stat -c %s state.mig)" -eq 336 ]
	[ "$(stat -c %a state.mig)" = 600 ]
	run "$VFUCTL" client -c 'expect bar2 0x10 0; expect bar2 0 0' "$b"
	assert_status 0
	run "$VFUCTL" client --json -c 'mig load state.mig; expect bar2 0x10 0x12345678;
		expect bar2 0 0x5a; feature get mig-state' "$b"
	assert_status 0
	jq -se '.[0].length == 320 and .[0].device_state == "RUNNING" and
		.[0].file == "state.mig" and .[3].device_state == "RUNNING"' <<< "$output"
	# a file that is no state: refused before anything is sent
	printf 'VFUMIG1\n\377\0\0\0\0\0\0\0abc' > bad.mig
	run --separate-stderr "$VFUCTL" client -c 'mig load bad.mig' "$b"
	assert_status 2
	[[ $stderr == *"'bad.mig' is no device state 'mig save' wrote"* ]]
	run --separate-stderr "$VFUCTL" client -c 'mig load nonexistent.mig' "$b"
	assert_status 2
	[[ $stderr == *"cannot open 'nonexistent.mig'"* ]]
	kill "$pb"
	wait "$pb" || true
	srv_pid=$pa
}

@test "reconnect after the server restarts: VERSION and discovery again, x's place and DMA windows kept" {
	start_server dma
	mkfifo "$TEST_TMP/in"
	"$VFUCTL" client -k -f - "$sock" <"$TEST_TMP/in" >"$TEST_TMP/out" 2>&1 3>&- &
	local cl=$! st=0
	exec 4>"$TEST_TMP/in"
	echo 'dma map 0x100000 0x1000; dma fill 0x100000 16 0x5a; x/2xw bar0 0x20' >&4
	wait_for "bar0+0x20:" "$TEST_TMP/out"
	# the server restarts: SIGTERM removes its socket, a new one comes
	kill "$srv_pid"
	wait "$srv_pid" || true
	# fd 4 closed: the client's standard input must end with ours
	"$VFUCTL" server --socket-path "$sock" --device "$repo/tests/devices/dma.json" \
		3>&- 4>&- >"$TEST_TMP/server.log" 2>&1 &
	srv_pid=$!
	wait_socket "$sock" "$srv_pid" "$TEST_TMP/server.log"
	echo 'peek bar0 0x24' >&4
	echo 'reconnect; x; dma list; dma dump 0x100000 16' >&4
	exec 4>&-
	wait "$cl" || st=$?
	run cat "$TEST_TMP/out"
	# the peek met the old connection's end; -k went on
	[ "$st" -eq 1 ]
	assert_contains "stdin:2:"
	assert_contains "reconnected to $sock (vfio-user 0.2): 9 regions, 5 IRQ indexes, 1 DMA windows mapped again"
	# x went on where it ended (0x28), on the new server
	assert_contains $'bar0+0x28:\t'
	assert_contains "00100000  5a 5a 5a 5a"
	run --separate-stderr "$VFUCTL" client -c 'reconnect x' "$sock"
	assert_status 2
}
