#!/usr/bin/env bash
# demo.sh - the README's main job, for now: decode the sample traces in
# traces/ and show what vfuctl sees in them.  (Once the server, client and
# recorder exist, this starts a device, records a session and dissects it.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
vfuctl=${VFUCTL:-$repo/cli/vfuctl}
cd "$repo"

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# decode into a file first: piping into head would kill vfuctl with SIGPIPE
show() { "$vfuctl" decode "$@" >"$out" || true; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "QEMU booting a guest against libvfio-user's GPIO sample (first 12 messages)"
show traces/qemu-gpio-io.jsonl
head -n 12 "$out"

say "the same session, closing summary (who is who, what was found)"
tail -n 1 "$out"

say "one message in full: QEMU's VERSION with its capabilities (-V)"
head -n 1 traces/qemu-gpio-io.jsonl >"$out.in"
show -V "$out.in"
head -n 30 "$out"
rm -f "$out.in"

say "a probe's deliberately bad requests, flagged with field and offset"
status=0
"$vfuctl" decode traces/gpio-probe-full.jsonl >"$out" || status=$?
grep -E ' 0x00(29|2b|2e|30) ' "$out"
echo "(exit status $status: 1 means malformed messages were found)"

say "server-to-client DMA on a twin socket, as JSON (one record)"
grep -m 1 '"chan": "twin"' traces/server-probe-dma-twin.jsonl >"$out.in"
show -o json "$out.in"
cut -c1-400 "$out"
rm -f "$out.in"
echo
say "done: try 'vfuctl decode -V traces/gpio-probe-full.jsonl | less'"
