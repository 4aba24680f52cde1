#!/usr/bin/env bats
# client-pty.bats - vfuctl client's interactive prompt, driven through a
# real pseudo-terminal (python3's pty module): readline completion of a
# command name, a region name and a sub-argument, history kept in
# $VFUCTL_HISTORY (recalled with Ctrl-P), and DMA served while the prompt waits.

load helpers

setup() {
	srv_pid=
	command -v python3 >/dev/null || skip "python3 is not installed"
}

teardown() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
}

# drive SOCKET STEP...: run vfuctl client SOCKET on a pty; each STEP is
# "SEND=>EXPECT": write SEND (\t and \r as escapes), then read until the
# terminal shows EXPECT (5 s at most) after what was there before;
# "<until>SEND=>EXPECT" sends SEND again after each prompt until EXPECT
# shows (10 s at most), "<prompt>=>" waits for the next prompt,
# "<sh>COMMAND=>EXPECT" runs a shell command, then waits for EXPECT.
# Prints the whole session and exits
# with the client's status, or 99 when an EXPECT never came or the client
# did not end within 10 s of the last step.
drive() {
	python3 - "$VFUCTL" "$@" <<'EOF'
import os, pty, select, subprocess, sys, time

vfuctl, sock, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execv(vfuctl, [vfuctl, "client", sock])
seen = b""

def wait_for(text, timeout=5.0, start=0):
    global seen
    end = time.time() + timeout
    while text.encode() not in seen[start:]:
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return text.encode() in seen[start:]
            if not data:
                return text.encode() in seen[start:]
            seen += data
    return True

ok = wait_for("vfuctl> ")
last = len(seen)
for step in steps:
    send, _, expect = step.partition("=>")
    if send.startswith("<until>"):
        # something the client does unprompted: ask until it is done
        send = send[7:].replace("\\r", "\r")
        end = time.time() + 10
        while True:
            mark = len(seen)
            os.write(fd, send.encode())
            if not wait_for("vfuctl> ", start=mark):
                break
            if expect.encode() in seen[mark:] or time.time() > end:
                break
            time.sleep(0.05)
        if expect.encode() not in seen[mark:]:
            ok = False
            break
        last = seen.index(expect.encode(), mark) + len(expect)
        continue
    if send == "<prompt>":
        # the next prompt: readline has set the terminal up again, so
        # control characters are its input, not the tty's
        if not wait_for("vfuctl> ", start=last):
            ok = False
            break
        continue
    if send.startswith("<sh>"):
        # a shell command between keystrokes (restart the server...)
        subprocess.run(send[4:], shell=True, check=True)
        send = ""
    send = send.replace("\\t", "\t").replace("\\r", "\r")
    mark = len(seen)
    os.write(fd, send.encode())
    if not wait_for(expect, start=mark):
        ok = False
        break
    last = seen.index(expect.encode(), mark) + len(expect)
if not ok:
    os.kill(pid, 9)
# the client should end by itself soon: read on meanwhile, 10 s at most
end = time.time() + 10
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.time() > end:
        os.kill(pid, 9)
        ok = False
    wait_for("\0", 0.1)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status) if ok else 99)
EOF
}

@test "tab completes a command name and a region name; history is saved" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'pe\t=>peek ' \
		'con\t=>config ' \
		'0 2\r=>config+0x0: 0x494f' \
		'quit\r=>'
	assert_status 0
	assert_contains "connected to $sock"
	assert_contains "config+0x0: 0x494f"
	grep -qx 'peek config 0 2' "$VFUCTL_HISTORY"
	grep -qx 'quit' "$VFUCTL_HISTORY"
}

@test "tab completes sub-arguments: dma sub-commands, IRQ indexes, widths" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'dma l\t=>dma list ' \
		'\r=>served 0 DMA_READ' \
		'irq en\t=>irq enable ' \
		'int\t=>intx ' \
		'0 1\r=>enabled' \
		'peek bar2 4 \t\t=>1  ' \
		'4\r=>bar2+0x4: 0x0000a5a5' \
		'exit\r=>'
	assert_status 0
}

@test "the prompt keeps history across sessions and ends on Ctrl-D" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	printf 'peek bar2 4\n' >"$VFUCTL_HISTORY"
	run drive "$sock" \
		$'\x10\r=>bar2+0x4: 0x0000a5a5' \
		'<prompt>=>' \
		$'\x04=>'
	assert_status 0
}

@test "the client serves DMA_WRITE while the prompt waits" {
	start_server dma
	export VFUCTL_HISTORY=$TEST_TMP/history
	# the DMA is started with a posted write: no reply to wait for, so
	# only the prompt's own loop can answer the server's DMA_WRITE
	run drive "$sock" \
		'dma map --no-fd 0x100000 0x1000\r=>(DMA_READ/DMA_WRITE)' \
		'poke bar0 0 0x100000 8; poke bar0 8 16; poke bar0 0xc 0\r=>bar0+0xc' \
		'poke --posted bar0 0x10 1\r=>(posted)' \
		'<until>dma list\r=>served 0 DMA_READ, 1 DMA_WRITE' \
		'dma dump 0x100000 16\r=>00 11 22 33 44 55 66 77' \
		'poll bar0 0x14 1 1 2000\r=>ok bar0+0x14' \
		'dma dump 0x100000 16\r=>00 11 22 33 44 55 66 77' \
		'quit\r=>'
	assert_status 0
}

@test "Ctrl-C interrupts wait-irq and the prompt goes on" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'irq enable intx 0 1\r=>enabled' \
		'<prompt>=>' \
		$'wait-irq 20000\\r=>wait-irq 20000\r\n' \
		$'\x03=>wait-irq interrupted' \
		'peek bar2 4\r=>bar2+0x4: 0x0000a5a5' \
		'quit\r=>'
	assert_status 0
}

@test "every command runs at the prompt" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'version\r=>protocol           0.2' \
		'info\r=>num_regions 9' \
		'regions\r=>bar2' \
		'irqs\r=>INTx' \
		'peek bar2 4 4\r=>bar2+0x4: 0x0000a5a5' \
		'read bar2 0 8\r=>a5 a5' \
		'poke bar2 0x10 0x55 4\r=>bar2+0x10 <- 0x00000055' \
		'write bar2 0x10 aabbccdd\r=>bar2+0x10 <- 4 bytes' \
		'expect bar2 0x10 0xddccbbaa\r=>ok bar2+0x10 == 0xddccbbaa' \
		'poll bar2 4 0xffff 0xa5a5 1000\r=>after 1 read' \
		'config\r=>Capabilities: [40] Power Management' \
		'dma map 0x200000 0x1000 rw\r=>mapped 0x200000+0x1000 rw' \
		'dma fill 0x200000 16 0x5a\r=>filled 0x200000+0x10' \
		'dma dump 0x200000 16\r=>5a 5a 5a 5a' \
		'dma list\r=>rw memfd' \
		'dma unmap 0x200000 0x1000\r=>unmapped 0x200000' \
		'irq enable intx 0 1\r=>INTx vectors 0..0 enabled' \
		'poke bar2 0xc 1 4\r=>bar2+0xc <- 0x00000001' \
		'wait-irq 2000\r=>fired' \
		'irq disable intx\r=>INTx disabled' \
		'feature probe migration\r=>supported' \
		'feature get migration\r=>stop_copy pre_copy' \
		'feature set mig-state STOP_COPY\r=>device_state STOP_COPY' \
		'mig read 16\r=>VFUD' \
		'feature set mig-state RUNNING\r=>device_state RUNNING' \
		'raw 4 10000000000000000000000000000000\r=>DEVICE_GET_INFO reply regions 9 irqs 5' \
		'reset\r=>reset done' \
		'help peek\r=>read one value' \
		'quit\r=>'
	assert_status 0
	assert_contains "5a 5a 5a 5a"
}

@test "Enter repeats the last command as gdb does: x and read go on, poke is not repeated" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'poke bar2 0x10 0x12345678\r=>bar2+0x10 <- 0x12345678' \
		'<prompt>=>' \
		'\r=>vfuctl> ' \
		'x/2xw bar2 0x10\r=>0x00000001' \
		'<prompt>=>' \
		'\r=>bar2+0x18:' \
		'<prompt>=>' \
		'\r=>bar2+0x20:' \
		'x/4xb bar2 4\r=>0xa5' \
		'<prompt>=>' \
		'\r=>bar2+0x8:' \
		'read bar2 0 4\r=>00000000  00 00 00 00' \
		'<prompt>=>' \
		'\r=>00000004  a5 a5 00 00' \
		'peek bar2 4 2\r=>bar2+0x4: 0xa5a5' \
		'<prompt>=>' \
		'\r=>bar2+0x4: 0xa5a5' \
		'quit\r=>'
	assert_status 0
	# the poke ran once: the empty line after it ran nothing
	[ "$(grep -c 'bar2+0x10 <- ' <<< "$output")" -eq 1 ]
	[ "$(grep -c 'bar2+0x4: 0xa5a5' <<< "$output")" -eq 2 ]
	# the empty lines are not in the history
	! grep -qx '' "$VFUCTL_HISTORY"
}

@test "watch prints changes until Ctrl-C, and the prompt goes on" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history
	run drive "$sock" \
		'watch bar2 4 2 10ms\r=>bar2+0x4: 0xa5a5' \
		$'\x03=>0 changes seen' \
		'peek bar2 4\r=>bar2+0x4: 0x0000a5a5' \
		'quit\r=>'
	assert_status 0
}

@test "the prompt outlives a server that restarts: reconnect, and x goes on" {
	start_server gpio
	export VFUCTL_HISTORY=$TEST_TMP/history SOCK=$sock PID=$srv_pid DEV=$repo/tests/devices/gpio.json
	# the restart: SIGTERM, wait until it is gone, a new server, its pid
	local restart='kill $PID; while kill -0 $PID 2>/dev/null; do sleep 0.05; done;
		"$VFUCTL" server --socket-path "$SOCK" --device "$DEV" >/dev/null 2>&1 &
		echo $! > "$TEST_TMP/pid2";
		until "$VFUCTL" info "$SOCK" >/dev/null 2>&1; do sleep 0.05; done'
	run drive "$sock" \
		'x/2xw bar2 0\r=>0x0000a5a5' \
		"<sh>$restart=>'reconnect' when it is back" \
		'reconnect\r=>reconnected to' \
		'x\r=>bar2+0x8:' \
		'quit\r=>'
	kill "$(cat "$TEST_TMP/pid2")" || true
	assert_status 0
	assert_contains "server closed the connection; 'reconnect' when it is back, 'quit' to end"
	assert_contains "reconnected to $sock (vfio-user 0.2): 9 regions"
}
