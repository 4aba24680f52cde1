#!/usr/bin/env bash
# demo.sh - the README's main job, for now: decode the sample traces in
# traces/ and show what vfuctl sees in them.  (Once the server, client and
# recorder exist, this starts a device, records a session and dissects it.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
vfuctl=${VFUCTL:-$repo/cli/vfuctl}
cd "$repo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "QEMU booting a guest against libvfio-user's GPIO sample (first 12 messages)"
"$vfuctl" decode traces/qemu-gpio-io.jsonl | head -n 12

say "the same session, closing summary (who is who, what was found)"
"$vfuctl" decode traces/qemu-gpio-io.jsonl | tail -n 1

say "one message in full: QEMU's VERSION with its capabilities (-V)"
head -n 1 traces/qemu-gpio-io.jsonl | "$vfuctl" decode -V - | head -n 30

say "a probe's deliberately bad requests, flagged with field and offset"
status=0
"$vfuctl" decode traces/gpio-probe-full.jsonl | sed -n '/seq\|0x0029\|0x002b\|0x002e\|0x0030/p' | sed -n '1,14p' || true
"$vfuctl" decode traces/gpio-probe-full.jsonl >/dev/null || status=$?
echo "(exit status $status: 1 means malformed messages were found)"

say "server-to-client DMA on a twin socket, as JSON (one record)"
grep '"chan": "twin"' traces/server-probe-dma-twin.jsonl | head -n 1 |
	"$vfuctl" decode -o json - | head -n 1 | cut -c1-400
echo
say "done: try 'vfuctl decode -V traces/gpio-probe-full.jsonl | less'"
