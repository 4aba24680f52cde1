#!/usr/bin/env bash
# make-corpus.sh - seed corpora for the fuzz targets from the vectors.
#
#   bash tests/fuzz/make-corpus.sh [OUTDIR]      (default build-fuzz/corpus)
#
# Reads every *.jsonl of $VECTORS (default ../shared/vectors beside the
# repository, as in the Makefile) and of tests/vectors-qemu/, one JSON line
# per message with "hex" the whole message and "dir" c2s/s2c, and writes:
#
#   OUTDIR/fuzz-header/    each message's bytes as they are
#   OUTDIR/fuzz-<family>/  messages of that family's commands, the header
#                          replaced by the selector byte of fuzz-family.h
#                          (once with peer AUTO, once with the sender's
#                          real profile where the vector file says it)
#   OUTDIR/fuzz-session/   each file cut into runs of up to 48 messages,
#                          in fuzz-session.c's record layout
#   OUTDIR/fuzz-framer/    each direction of each file as one byte stream
#                          (up to 32 KiB), behind fuzz-framer.c's two
#                          control bytes: whole, in small and in larger
#                          chunks, with and without descriptors
#
# Files are named by the SHA-1 of their content, as libFuzzer names its
# own, so running the script twice adds nothing.  Messages whose header is
# unreadable or whose msg_size is not their length go to fuzz-header and
# fuzz-session only.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-fuzz/corpus}
vectors=${VECTORS:-$top/../shared/vectors}

files=()
for d in "$vectors" "$top/tests/vectors-qemu"; do
	[ -d "$d" ] || continue
	for f in "$d"/*.jsonl; do
		[ -f "$f" ] || continue
		case $(basename "$f") in EXPECTED.jsonl) continue ;; esac
		files+=("$f")
	done
done
if [ ${#files[@]} -eq 0 ]; then
	echo "make-corpus.sh: no vectors in $vectors or tests/vectors-qemu" >&2
	exit 1
fi

command -v python3 >/dev/null || { echo "make-corpus.sh: needs python3" >&2; exit 1; }

python3 - "$out" "${files[@]}" <<'EOF'
import hashlib, json, os, struct, sys

out = sys.argv[1]
# Keep in step with tests/fuzz/fuzz-*.c: the target's command list, in order.
families = {
    'fuzz-version': [1],
    'fuzz-dma': [2, 3, 11, 12],
    'fuzz-device': [4, 7, 8, 13],
    'fuzz-region': [5, 6, 9, 10, 15],
    'fuzz-feature': [16, 17, 18],
}
AUTO, SPEC, LVU, QEMU = 0, 1, 2, 3
counts = {}

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(p):
        with open(p, 'wb') as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def sender_peer(name, direction):
    # Who sent it, from the vectors' README: QEMU is always the client,
    # libvfio-user's samples are the servers (and the lvu-* client).
    if name.startswith('qemu-'):
        return QEMU if direction == 'c2s' else LVU
    if name.startswith('lvu-'):
        return LVU
    if direction == 's2c':
        return LVU
    return AUTO     # our scripted client: no profile

def selector(idx, flags, direction, peer):
    sel = idx & 7
    if flags & 0xf == 1:
        sel |= 0x08
    if flags & 0x20:
        sel |= 0x10
    if direction == 's2c':
        sel |= 0x20
    return sel | peer << 6

RUN_MSGS, RUN_BYTES = 48, 32768

# fuzz-framer.c control bytes: default limit with chunking of up to 8*n
# bytes in bits 3-7 (0: whole), then the chunks that carry a descriptor.
FRAMER_CTL = [(0x03, 0x00), (0x03 | 4 << 3, 0x00), (0x03 | 31 << 3, 0x11),
              (0x07 | 2 << 3, 0x03), (0x02 | 8 << 3, 0x00)]

for path in sys.argv[2:]:
    name = os.path.basename(path)
    run, run_len = [], 0
    streams = {'c2s': b'', 's2c': b''}
    with open(path) as f:
        msgs = [json.loads(l) for l in f if l.strip()]
    for rec in msgs:
        msg = bytes.fromhex(rec['hex'])
        direction = 's2c' if rec.get('dir') == 's2c' else 'c2s'
        put('fuzz-header', msg)
        if len(streams[direction]) + len(msg) <= RUN_BYTES:
            streams[direction] += msg
        if len(msg) <= 0xffff:
            ctl = (1 if direction == 's2c' else 0) | \
                (2 if rec.get('chan') == 'twin' else 0) | \
                min(int(rec.get('nfds', 0)), 7) << 2
            if run and (len(run) == RUN_MSGS or run_len + len(msg) > RUN_BYTES):
                put('fuzz-session', bytes([AUTO]) + b''.join(run))
                run, run_len = [], 0
            run.append(struct.pack('<BH', ctl, len(msg)) + msg)
            run_len += len(msg) + 3
        if len(msg) < 16:
            continue
        _, cmd, size, flags, _ = struct.unpack_from('<HHIII', msg)
        if size != len(msg):
            continue
        for target, cmds in families.items():
            if cmd not in cmds:
                continue
            idx = cmds.index(cmd)
            for peer in {AUTO, sender_peer(name, direction)}:
                put(target, bytes([selector(idx, flags, direction, peer)]) + msg[16:])
    if run:
        put('fuzz-session', bytes([AUTO]) + b''.join(run))
    for stream in streams.values():
        if stream:
            for c0, c1 in FRAMER_CTL:
                put('fuzz-framer', bytes([c0, c1]) + stream)

for t in sorted(counts):
    print('    CORPUS   %-14s %4d new inputs' % (t, counts[t]))
EOF
