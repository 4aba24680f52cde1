#!/usr/bin/env bats
# server.bats - vfuctl server from the outside: usage, device description
# errors that name the JSON path, socket file handling, --print-json,
# --once and -v.  The protocol itself is tested by tests/unit/test-server.c.

load helpers

GPIO=tests/devices/gpio.json

# client SOCKET: connect, negotiate VERSION, read gpio's input register at
# bar2+4, disconnect; prints the socket's "mode 600", "version 0.2" and
# "input 0xa5a5".  Perl, as it comes with every Debian build host.
client() {
	perl -e '
		use strict; use IO::Socket::UNIX; use Socket;
		my $s;
		# the socket file appears at bind, a moment before listen
		for (1 .. 100) {
			last if $s = IO::Socket::UNIX->new(Type => SOCK_STREAM,
				Peer => $ARGV[0]);
			select(undef, undef, undef, 0.05);
		}
		$s or die "connect: $!\n";
		# set before listen, so certain once connected
		printf "mode %o\n", (stat $ARGV[0])[2] & 07777;
		sub msg { my ($id, $cmd, $p) = @_;
			print $s pack("vvVVV", $id, $cmd, 16 + length($p), 0, 0) . $p; }
		sub reply { my ($h, $b) = ("", "");
			read($s, $h, 16) == 16 or die "no reply\n";
			my ($id, $cmd, $size, $fl, $err) = unpack("vvVVV", $h);
			read($s, $b, $size - 16) if $size > 16;
			die "error reply $err\n" if $fl & 0x20;
			return $b; }
		$s->autoflush(1);
		msg(1, 1, pack("vv", 0, 2) . "{\"capabilities\":{}}\0");
		my ($maj, $min) = unpack("vv", reply());
		print "version $maj.$min\n";
		msg(2, 9, pack("QVV", 4, 2, 4));
		my ($off, $reg, $cnt, $v) = unpack("QVVV", reply());
		printf "input 0x%x\n", $v;
		close $s;
	' "$1"
}

# bad_device JSON: write it to $TEST_TMP/x.json and run the server on it.
bad_device() {
	printf '%s\n' "$1" > "$TEST_TMP/x.json"
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$TEST_TMP/x.json"
}

@test "server --help prints the usage" {
	run --separate-stderr "$VFUCTL" server --help
	assert_status 0
	[[ ${lines[0]} == "usage: vfuctl server"* ]]
	assert_contains --socket-path
	assert_contains --print-json
}

@test "server needs --device and one of --socket-path and --fd" {
	run --separate-stderr "$VFUCTL" server --device "$GPIO"
	assert_status 2
	[[ $stderr == *"missing --socket-path or --fd"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s"
	assert_status 2
	[[ $stderr == *"missing --device"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" --fd 3 \
		--device "$GPIO"
	assert_status 2
	[[ $stderr == *"exclude each other"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$GPIO" --mode 999
	assert_status 2
	[[ $stderr == *"invalid --mode '999'"* ]]
}

@test "a size that is no power of two names its JSON path" {
	bad_device '{"pci": {"vendor": 1, "device": 2},
		"regions": {"bar2": {"size": 300}}}'
	assert_status 2
	[[ $stderr == *"x.json: .regions.bar2.size: 300 is not a power of two"* ]]
	[ ! -e "$TEST_TMP/s" ]
}

@test "bad descriptions: each error names the JSON path and why" {
	bad_device '{"pci": {"vendor": "0x494f"}, "regions": {}}'
	assert_status 2
	[[ $stderr == *".pci.device: missing"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2, "colour": 3}, "regions": {}}'
	assert_status 2
	[[ $stderr == *".pci.colour: unknown key"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar2": {
		"size": 256, "backing": "registers", "registers": [
		{"name": "a", "offset": 0}, {"name": "b", "offset": 4, "access": "rx"}]}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar2.registers[1].access: must be "rw", "ro", "w1c" or "scratch"'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar2": {
		"size": 256, "backing": "registers", "registers": [
		{"name": "a", "offset": 0, "doorbell": {"irq": "intx"}}]}}}'
	assert_status 2
	[[ $stderr == *".regions.bar2.registers[0].doorbell.irq: the device has no intx"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar7": {"size": 16}}}'
	assert_status 2
	[[ $stderr == *".regions.bar7: not a region name"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 70000}, "regions": {}}'
	assert_status 2
	[[ $stderr == *".pci.device: 70000 is more than 65535"* ]]

	bad_device '{"pci": {"vendor": "0x", "device": 2}, "regions": {}}'
	assert_status 2
	[[ $stderr == *'.pci.vendor: "0x" is not a number'* ]]

	bad_device '{"pci": {"vendor": "12a", "device": 2}, "regions": {}}'
	assert_status 2
	[[ $stderr == *'.pci.vendor: "12a" is not a number'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"rom": {
		"size": 2048, "flags": ["read", "write"]}}}'
	assert_status 2
	[[ $stderr == *".regions.rom.flags: the ROM is read-only"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar0": {
		"size": 16, "init": "00:11 1z"}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar0.init: not hex digits at "1z"'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar0": {
		"size": 8192, "flags": ["read", "mmap"], "sparse": [
		{"offset": 0, "size": 100}]}}}'
	assert_status 2
	[[ $stderr == *".regions.bar0.sparse[0]: offset 0x0 and size 0x64 must be"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2,
		"capabilities": [{"type": "msix", "vectors": 4,
		"table": {"bar": "bar0", "offset": 0}, "pba": {"bar": "bar0", "offset": 64}}]},
		"regions": {"bar0": {"size": 32}}}'
	assert_status 2
	[[ $stderr == *".pci: MSI-X table of 4 entries at 0x0 does not fit bar0"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar2": {"size": 256,}}}'
	assert_status 2
	[[ $stderr == *"x.json:1:"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {
		"bar5": {"size": 4096, "type": "mem64"}}}'
	assert_status 2
	[[ $stderr == *".pci: bar5 cannot be 64-bit"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {
		"bar0": {"size": 4096, "type": "mem64"}, "bar1": {"size": 16}}}'
	assert_status 2
	[[ $stderr == *".pci: bar0 is 64-bit, so bar1 must be absent"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {
		"bar1": {"size": 512, "type": "io"}}}'
	assert_status 2
	[[ $stderr == *".pci: bar1: an I/O BAR is 4 to 256 bytes"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {
		"bar1": {"size": 4096, "flags": ["read", "mmap"], "backing": "registers"}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar1.flags: "mmap" needs "backing": "ram"'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar0": {
		"size": 64, "backing": "registers", "registers": [
		{"name": "a", "offset": 0, "width": 8}, {"name": "b", "offset": 4}]}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar0.registers: "b" at 0x4 overlaps "a" at 0x0'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar0": {
		"size": 64, "backing": "registers"}}, "dma": {
		"registers": {"region": "bar0"}, "buffer": {"region": "bar0"}}}'
	assert_status 2
	[[ $stderr == *'.dma.buffer.region: must name a region with "backing": "ram"'* ]]

	# QEMU emulates the MSI-X table and PBA: registers there are dead
	bad_device '{"pci": {"vendor": 1, "device": 2,
		"capabilities": [{"type": "pm"}, {"type": "msix", "vectors": 4,
		"table": {"bar": "bar0", "offset": 0}, "pba": {"bar": "bar0", "offset": 2048}}]},
		"regions": {"bar0": {"size": 4096, "backing": "registers", "registers": [
		{"name": "doorbell", "offset": "0x20"}]}}}'
	assert_status 2
	[[ $stderr == *'.pci.capabilities[1].table.offset: the MSI-X table at [0x0, 0x40) covers register "doorbell" at 0x20 of bar0'*"move one of them"* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2,
		"capabilities": [{"type": "msix", "vectors": 4,
		"table": {"bar": "bar0", "offset": 0}, "pba": {"bar": "bar2", "offset": 0}}]},
		"regions": {"bar0": {"size": 4096}, "bar2": {"size": 64,
		"backing": "registers"}}, "dma": {"registers": {"region": "bar2"},
		"buffer": {"region": "bar0"}}}'
	assert_status 2
	[[ $stderr == *'.pci.capabilities[0].pba.offset: the MSI-X PBA at [0x0, 0x8) covers register "dma.addr" at 0x0 of bar2'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2,
		"capabilities": [{"type": "msix", "vectors": 4,
		"table": {"bar": "bar0", "offset": 0}, "pba": {"bar": "bar0", "offset": 32}}]},
		"regions": {"bar0": {"size": 4096}}}'
	assert_status 2
	[[ $stderr == *'.pci.capabilities[0].pba.offset: the MSI-X PBA at [0x20, 0x28) overlaps the table at [0x0, 0x40): put it after the table'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2, "interrupt_pin": "a"},
		"regions": {"bar2": {"size": 256, "backing": "registers", "registers": [
		{"name": "status", "offset": 0, "access": "w1c"},
		{"name": "bell", "offset": 4, "doorbell": {"irq": "intx",
		"set": {"register": "bell", "bits": 1}}}]}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar2.registers[1].doorbell.set.register: "bell" is the doorbell itself: name another register'* ]]

	bad_device '{"pci": {"vendor": 1, "device": 2, "interrupt_pin": "a"},
		"regions": {"bar2": {"size": 256, "backing": "registers", "registers": [
		{"name": "status", "offset": 0, "access": "w1c"},
		{"name": "bell", "offset": 4, "doorbell": {"irq": "intx",
		"set": {"register": "status", "bits": 0}}}]}}}'
	assert_status 2
	[[ $stderr == *'.regions.bar2.registers[1].doorbell.set.bits: 0 sets nothing'* ]]

	bad_device "{\"name\": \"$(printf '%*s' 100000 '' | tr ' ' n)\",
		\"pci\": {\"vendor\": 1, \"device\": 2}, \"regions\": {}}"
	assert_status 2
	[[ $stderr == *".name: 100000 characters, at most 64: shorten it"* ]]
	[ "${#stderr}" -lt 400 ]

	bad_device '{"pci": {"vendor": 1, "device": 2}, "regions": {"bar2": {
		"size": 256, "backing": "registers", "registers": [
		{"name": "a\u001b]2;x", "offset": 0}]}}}'
	assert_status 2
	[[ $stderr == *".regions.bar2.registers[0].name: character 2 is not printable ASCII"* ]]

	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$TEST_TMP/none.json"
	assert_status 2
	[[ $stderr == *"none.json"* ]]
}

@test "numbers: decimal, 0x hex, a leading zero is not octal; the ROM is read-only by default" {
	printf '%s\n' '{"pci": {"vendor": "0010", "device": "0x0dC8"},
		"regions": {"rom": {"size": 2048}}}' > "$TEST_TMP/ok.json"
	"$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$TEST_TMP/ok.json" \
		--once &
	local pid=$!
	wait_socket "$TEST_TMP/s"
	run perl -e '
		use strict; use IO::Socket::UNIX; use Socket;
		my $s;
		for (1 .. 100) {
			last if $s = IO::Socket::UNIX->new(Type => SOCK_STREAM,
				Peer => $ARGV[0]);
			select(undef, undef, undef, 0.05);
		}
		$s or die "connect: $!\n";
		$s->autoflush(1);
		sub xfer { my ($id, $cmd, $p) = @_;
			print $s pack("vvVVV", $id, $cmd, 16 + length($p), 0, 0) . $p;
			my ($h, $b) = ("", ""); read($s, $h, 16);
			my ($i, $c, $size, $fl, $err) = unpack("vvVVV", $h);
			read($s, $b, $size - 16) if $size > 16;
			return ($fl, $err, $b); }
		xfer(1, 1, pack("vv", 0, 2));
		my ($fl, $err, $b) = xfer(2, 9, pack("QVV", 0, 7, 4));
		printf "ids 0x%08x\n", unpack("V", substr($b, 16, 4));
		($fl, $err, $b) = xfer(3, 5, pack("VVVVQQ", 32, 0, 6, 0, 0, 0));
		my ($argsz, $flags, $idx, $co, $size) = unpack("VVVVQ", $b);
		printf "rom flags %d size %d\n", $flags, $size;
		close $s;
	' "$TEST_TMP/s"
	assert_status 0
	assert_contains "ids 0x0dc8000a"
	assert_contains "rom flags 1 size 2048"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
}

@test "the shipped descriptions load" {
	local d
	for d in tests/devices/*.json; do
		run --separate-stderr "$VFUCTL" server --device "$d" --fd 0 \
			</dev/null
		# --fd 0 is no socket: loading succeeded if that is the complaint
		assert_status 1
		[[ $stderr == *"descriptor 0 is not a socket"* ]] ||
			{ echo "$d: $stderr" >&2; false; }
	done
}

@test "server refuses to replace a regular file" {
	echo keep > "$TEST_TMP/s"
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$GPIO"
	assert_status 1
	[[ $stderr == *"exists and is not a socket"* ]]
	[ "$(cat "$TEST_TMP/s")" = keep ]
}

@test "--print-json prints valid backend JSON" {
	run --separate-stderr "$VFUCTL" server --print-json
	assert_status 0
	printf '%s' "$output" | jq -e '.type == "pci" and (.binary | length > 0)
		and .options["socket-path"] == "--socket-path"
		and .options.fd == "--fd"'
}

@test "--once exits 0 after one client and removes the socket" {
	"$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$GPIO" --once \
		--mode 0640 &
	local pid=$!
	wait_socket "$TEST_TMP/s"
	run client "$TEST_TMP/s"
	assert_status 0
	assert_contains "mode 640"
	assert_contains "version 0.2"
	assert_contains "input 0xa5a5"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
	[ ! -e "$TEST_TMP/s" ]
}

@test "-v logs one summary line per message" {
	"$VFUCTL" server -v --socket-path "$TEST_TMP/s" --device "$GPIO" --once \
		2> "$TEST_TMP/log" &
	local pid=$!
	wait_socket "$TEST_TMP/s"
	run client "$TEST_TMP/s"
	assert_status 0
	wait "$pid"
	run cat "$TEST_TMP/log"
	assert_contains "c2s 0x0001 VERSION command"
	assert_contains "s2c 0x0001 VERSION reply"
	assert_contains "c2s 0x0002 REGION_READ command"
	assert_contains "s2c 0x0002 REGION_READ reply"
	run grep -c ' \(c2s\|s2c\) 0x' "$TEST_TMP/log"
	[ "$output" -eq 4 ] || { cat "$TEST_TMP/log" >&2; false; }
}

@test "SIGTERM removes the socket and exits 0" {
	"$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$GPIO" &
	local pid=$!
	wait_socket "$TEST_TMP/s"
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
	[ ! -e "$TEST_TMP/s" ]
}

@test "--fd serves a listening socket passed in" {
	perl -e '
		use IO::Socket::UNIX; use Socket; use Fcntl;
		my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $ARGV[0],
			Listen => 1) or die "listen: $!\n";
		my $f = fcntl($l, F_GETFD, 0); fcntl($l, F_SETFD, $f & ~FD_CLOEXEC);
		exec($ARGV[1], "server", "--fd", fileno($l), "--device", $ARGV[2],
			"--once") or die;
	' "$TEST_TMP/s" "$VFUCTL" "$GPIO" &
	local pid=$!
	wait_socket "$TEST_TMP/s"
	run client "$TEST_TMP/s"
	assert_status 0
	assert_contains "input 0xa5a5"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]
}

@test "vfuctl-device(5) lints clean and shows the shipped descriptions as they are" {
	run mandoc -T lint -W warning "$repo/man/vfuctl-device.5"
	assert_status 0
	[ -z "$output" ]
	local f
	for f in gpio dma; do
		# the literal display after ".Pa tests/devices/NAME.json :"
		awk -v want="tests/devices/$f.json" '
			$0 == ".Pa " want " :" { on = 1; next }
			on && /^\.Bd/ { inblk = 1; next }
			inblk && /^\.Ed/ { exit }
			inblk { sub(/^\\&/, ""); print }
		' "$repo/man/vfuctl-device.5" > "$TEST_TMP/$f.json"
		diff -u "$repo/tests/devices/$f.json" "$TEST_TMP/$f.json"
	done
}

@test "--fd serves one connected socket and exits 0 when it closes" {
	run perl -e '
		use strict; use Socket; use IO::Handle; use Fcntl;
		socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0) or die "$!";
		my $f = fcntl($b, F_GETFD, 0); fcntl($b, F_SETFD, $f & ~FD_CLOEXEC);
		my $pid = fork();
		if ($pid == 0) {
			close $a;
			exec($ARGV[0], "server", "--fd", fileno($b), "--device",
				$ARGV[1]) or die;
		}
		close $b;
		$a->autoflush(1);
		my $p = pack("vv", 0, 2);
		print $a pack("vvVVV", 1, 1, 16 + length($p), 0, 0) . $p;
		my $h; read($a, $h, 16) == 16 or die "no reply\n";
		my ($id, $cmd, $size, $fl, $err) = unpack("vvVVV", $h);
		my $body; read($a, $body, $size - 16);
		printf "reply %d %d flags %d\n", $id, $cmd, $fl;
		close $a;
		waitpid($pid, 0);
		printf "exit %d\n", $? >> 8;
	' "$VFUCTL" "$GPIO"
	assert_status 0
	assert_contains "reply 1 1 flags 1"
	assert_contains "exit 0"
}

# --- hostile clients: the server survives each and serves the next -------

DMA=tests/devices/dma.json

teardown() {
	if [ -n "${srv_pid:-}" ]; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
}

# serve DEVICE [OPTION...]: a server on $TEST_TMP/s, stderr in
# $TEST_TMP/log, its pid in srv_pid; returns once it listens
serve() {
	local dev=$1
	shift
	"$VFUCTL" server --socket-path "$TEST_TMP/s" --device "$dev" "$@" \
		2> "$TEST_TMP/log" &
	srv_pid=$!
	wait_socket "$TEST_TMP/s" "$srv_pid" "$TEST_TMP/log"
}

# hostile ATTACK: run tests/hostile.py ATTACK against $TEST_TMP/s
hostile() {
	run python3 "$repo/tests/hostile.py" "$1" "$TEST_TMP/s"
}

# still_serving: the server is alive and serves a well-behaved client
still_serving() {
	kill -0 "$srv_pid" || { cat "$TEST_TMP/log" >&2; false; }
	hostile serve-check
	assert_status 0
	assert_contains "version 0"
	assert_contains "read 0 00112233"
}

@test "DMA_MAP of a window larger than its memfd is refused with EFAULT" {
	serve "$DMA"
	hostile short-memfd
	assert_status 0
	assert_contains "map 14"
	# nothing mapped there, so the device's DMA fails cleanly
	assert_contains "dma_status 2"
	still_serving
	run cat "$TEST_TMP/log"
	assert_contains "DMA_MAP refused (EFAULT): window 0x100000+0x10000 at file offset 0x0 does not fit the 4096-byte file behind it"
}

@test "a memfd shrunk after DMA_MAP makes the device's DMA fail, not the server" {
	serve "$DMA"
	hostile shrink
	assert_status 0
	assert_contains "map 0"
	assert_contains "dma_status 2"
	still_serving
	run cat "$TEST_TMP/log"
	assert_contains "DMA to 0x100000+8192 failed: the client's memory behind window 0x100000+0x4000 is gone"
}

@test "the mmap-able BAR's memfd is sealed: a client cannot truncate it" {
	serve "$DMA"
	hostile bar-truncate
	assert_status 0
	assert_contains "region_info 0 fds 1"
	assert_contains "truncate 1"	# EPERM: F_SEAL_SHRINK
	assert_contains "read 0 0000000000000000"
	still_serving
}

@test "a client that sends no VERSION is dropped at the handshake deadline" {
	serve "$GPIO" --handshake-timeout 100
	# blocks until the server closes the connection: no timing here
	hostile idle
	assert_status 0
	assert_contains closed
	run cat "$TEST_TMP/log"
	assert_contains "sent no VERSION within 100 ms; dropped"
	run client "$TEST_TMP/s"
	assert_status 0
	assert_contains "input 0xa5a5"
}

@test "a client that leaves a message half sent is dropped at the message deadline" {
	serve "$GPIO" --handshake-timeout 0 --message-timeout 100
	hostile slow
	assert_status 0
	assert_contains closed
	run cat "$TEST_TMP/log"
	assert_contains "left a message unfinished for 100 ms; dropped"
	run client "$TEST_TMP/s"
	assert_status 0
	assert_contains "input 0xa5a5"
}

@test "a second client gets EBUSY while one is attached; vfuctl client says so" {
	serve "$GPIO"
	python3 "$repo/tests/hostile.py" hold "$TEST_TMP/s" > "$TEST_TMP/hold" &
	local holder=$!
	wait_for "attached 0" "$TEST_TMP/hold"
	grep -q "attached 0" "$TEST_TMP/hold"
	run --separate-stderr "$VFUCTL" client -c info "$TEST_TMP/s"
	assert_status 1
	[[ $stderr == *"server busy: it serves one client at a time and another is attached (EBUSY)"* ]] ||
		{ echo "$stderr" >&2; false; }
	run cat "$TEST_TMP/log"
	assert_contains "busy: answered pid"
	assert_contains "with EBUSY: another client is attached"
	# the holder leaves; the next client is served
	kill "$holder"
	wait "$holder" || true
	run "$VFUCTL" client -c 'peek bar2 4' "$TEST_TMP/s"
	assert_status 0
	assert_contains "bar2+0x4: 0x0000a5a5"
}

@test "--handshake-timeout and --message-timeout take milliseconds, 0 for none" {
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$GPIO" --handshake-timeout 5s
	assert_status 2
	[[ $stderr == *"invalid --handshake-timeout '5s'"* ]]
	run --separate-stderr "$VFUCTL" server --socket-path "$TEST_TMP/s" \
		--device "$GPIO" --message-timeout -1
	assert_status 2
	[[ $stderr == *"invalid --message-timeout '-1'"* ]]
	run "$VFUCTL" server --help
	assert_contains "--handshake-timeout MS"
	assert_contains "--message-timeout MS"
}

@test "completion offers server's deadline and credential options" {
	run complete_words vfuctl server --
	assert_contains --handshake-timeout
	assert_contains --message-timeout
	assert_contains --allow-uid
	assert_contains --allow-any-uid
	run complete_words vfuctl server --message-timeout ""
	assert_contains 5000
}

@test "a command whose argsz is smaller than its structure gets EINVAL" {
	serve "$DMA"
	hostile short-argsz
	assert_status 0
	assert_contains "DEVICE_GET_INFO 22"
	assert_contains "DMA_MAP 22"
	assert_contains "DMA_UNMAP 22"
	assert_contains "DEVICE_SET_IRQS 22"
	assert_contains "DMA_MAP argsz 32 0"
	assert_contains "DEVICE_SET_IRQS argsz 20 0"
	still_serving
}

@test "a client that takes no replies is dropped, and its replies are not piled up meanwhile" {
	serve "$DMA" --message-timeout 200
	# 2000 requests for 16 KiB each: 32 MiB of replies if all were queued
	hostile no-read
	assert_status 0
	assert_contains hup
	run cat "$TEST_TMP/log"
	assert_contains "took no reply for 200 ms; dropped"
	# the peak resident size stays far below the 32 MiB
	local hwm
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$srv_pid/status")
	[ "$hwm" -lt 16384 ] || { echo "server peak RSS $hwm KiB" >&2; false; }
	still_serving
}

@test "a burst of 40 clients while the server cannot accept waits in the backlog: none fails to connect" {
	serve "$DMA"
	# stopped, the server accepts nothing: every connection stays queued
	kill -STOP "$srv_pid"
	run python3 - "$TEST_TMP/s" <<'PY'
import errno, socket, sys
socks, refused = [], 0
for _ in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except OSError as e:
        refused += e.errno in (errno.EAGAIN, errno.ECONNREFUSED)
    socks.append(s)
print("refused", refused)
for s in socks:
    s.close()
PY
	kill -CONT "$srv_pid"
	assert_status 0
	assert_contains "refused 0"
	still_serving
}
