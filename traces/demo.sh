#!/usr/bin/env bash
# demo.sh - the README's main job (`make demo`): start a device server,
# record a scripted client session through the recorder, dissect the
# trace and print its statistics; then decode a real QEMU session.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
vfuctl=${VFUCTL:-$repo/cli/vfuctl}
cd "$repo"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

wait_socket() {	# wait_socket PATH: up to 5 s for a server to listen
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	echo "demo: no socket at $1" >&2
	exit 1
}

say "1. a device server: tests/devices/dma.json (MSI-X, a DMA engine, an mmap-able BAR)"
"$vfuctl" server --socket-path "$tmp/dev.sock" --device tests/devices/dma.json &
pids+=($!)
wait_socket "$tmp/dev.sock"
echo "vfuctl server --socket-path $tmp/dev.sock --device tests/devices/dma.json"

say "2. the recorder in front of it"
"$vfuctl" record --listen "$tmp/rec.sock" --connect "$tmp/dev.sock" \
	-w "$tmp/demo.pcap" &
recorder=$!
pids+=($recorder)
wait_socket "$tmp/rec.sock"
echo "vfuctl record --listen $tmp/rec.sock --connect $tmp/dev.sock -w demo.pcap"

say "3. a client session through the recorder: registers, an interrupt, DMA"
# --no-fd: the DMA window has no memfd, so the server's DMA travels as
# messages the trace can show
"$vfuctl" client --no-fd -c '
	info;
	peek bar0 0x24 4;
	poke bar2 0x10 0xdeadbeef 4;
	read bar2 0x10 4;
	irq enable MSI-X 0 4;
	dma map 0x100000 0x1000 rw;
	poke bar0 0x0 0x100000 8;
	poke bar0 0x8 16 4;
	poke bar0 0xc 0 4;
	poke bar0 0x10 1 4;
	wait-irq 2000;
	dma dump 0x100000 16;
	reset' "$tmp/rec.sock"

# the first signal closes the trace; the connection is already gone
kill -INT "$recorder"
wait "$recorder" || true

say "4. vfuctl dissect demo.pcap"
"$vfuctl" dissect --color=never "$tmp/demo.pcap"

say "5. vfuctl dissect -Y 'vfio_user.cmd == DMA_WRITE || vfio_user.finding == INVISIBLE_MMAP' -V"
"$vfuctl" dissect --color=never -V \
	-Y 'vfio_user.cmd == DMA_WRITE || vfio_user.finding == INVISIBLE_MMAP' \
	"$tmp/demo.pcap"

say "6. vfuctl stats demo.pcap"
"$vfuctl" stats "$tmp/demo.pcap"

say "7. a real session: QEMU booting a guest against libvfio-user's GPIO sample"
"$vfuctl" import -o "$tmp/qemu.pcap" traces/qemu-gpio-io.jsonl
"$vfuctl" dissect --color=never -c 8 "$tmp/qemu.pcap"
"$vfuctl" stats "$tmp/qemu.pcap" >"$tmp/stats.txt"
sed -n '1,14p' "$tmp/stats.txt"

say "done: try 'vfuctl client <socket>' for the prompt, 'man vfuctl' for the rest"
