#!/usr/bin/env python3
"""make-synthetic.py - trace record lines (vfuctl-trace(5) JSON LINES) of
messages the captured vectors do not have, for compare.py: IO_FDS replies
with spec (40-byte) and libvfio-user (48-byte) entries, region-info
capability chains (sparse mmap + type, unknown id, a loop, an overlap, an
offset outside), the three DMA_WRITE reply forms and DMA_READ in spec
form, DMA_UNMAP with a dirty bitmap, DEVICE_FEATURE (migration, device
state, DMA logging start/report, probe), MIG_DATA_READ with padding,
SET_IRQS with bool data, argsz short of a command's structure, VERSION
with twin_socket, unknown keys and bad
JSON, header oddities, and big-endian messages.  Every message is a
command/reply pair where that makes sense, so the pairing is exercised."""
import json
import struct

out = []
t = [0]
seqs = {}


def emit(d, m, be=False, conn=0, chan="main"):
    t[0] += 1000
    k = (conn, chan, d)
    seq = seqs.get(k, 0)
    seqs[k] = seq + 1
    rec = {"t_ns": t[0], "kind": "message", "conn": conn, "endpoint": 0,
           "chan": chan, "dir": d, "seq": seq, "fds": [], "hex": m.hex()}
    if be:
        rec["be"] = True
    out.append(json.dumps(rec))


def msg(mid, cmd, flags, payload=b"", err=0, e="<"):
    return struct.pack(e + "HHIII", mid, cmd, 16 + len(payload), flags, err) + payload


CMD, REPLY, NOREPLY, ERROR = 0, 1, 0x10, 0x20
mid = [0x100]


def pair(cmd, req, rep, rep_flags=REPLY, cdir="c2s", err=0):
    mid[0] += 1
    rdir = "s2c" if cdir == "c2s" else "c2s"
    emit(cdir, msg(mid[0], cmd, CMD, req))
    if rep is not None:
        emit(rdir, msg(mid[0], cmd, rep_flags, rep, err))


# VERSION: twin socket, unknown keys; then bad JSON forms
v = b'{"capabilities":{"max_msg_fds":4,"twin_socket":{"supported":true,"fd_index":0,"x":1},"migration":{"pgsize":4096,"y":2},"z":3},"top":1}\0'
pair(1, struct.pack("<HH", 0, 1) + v, struct.pack("<HH", 0, 1) + b'{ "capabilities": { "max_msg_fds": 8 } }\0')
pair(1, struct.pack("<HH", 0, 1) + b'{"capabilities":{"max_msg_fds":-1}}\0', None)
pair(1, struct.pack("<HH", 0, 1) + b'{"capabilities":{"write_multiple":1}}\0', None)
pair(1, struct.pack("<HH", 0, 1) + b'{"capabilities":3}\0', None)
pair(1, struct.pack("<HH", 0, 1) + b'[1,2]\0', None)
pair(1, struct.pack("<HH", 0, 1) + b'{"a":1}', None)
pair(1, struct.pack("<HH", 0, 1) + b'{"a":1}\0xy', None)
pair(1, struct.pack("<HH", 0, 1), struct.pack("<HH", 0, 1))

# IO_FDS: spec entries (one ioregionfd), libvfio-user entries, bad argsz
req = struct.pack("<IIII", 16, 0, 2, 0)
spec = struct.pack("<QQIIIIQ", 0x10, 4, 0, 0, 0, 0, 0xabc) + \
    struct.pack("<QQIIIIQ", 0x20, 8, 1, 1, 0, 0, 0x1234)
pair(6, req, struct.pack("<IIII", 16 + len(spec), 0, 2, 2) + spec)
lvu = struct.pack("<QQIIIIQQ", 0x10, 4, 0, 2, 0, 3, 0x1000, 0xdead) + \
    struct.pack("<QQIIIIQQ", 0x30, 4, 1, 0, 0, 4, 0x2000, 0xbeef)
pair(6, req, struct.pack("<IIII", 16 + len(lvu), 0, 2, 2) + lvu)
pair(6, req, struct.pack("<IIII", 16 + 30, 0, 2, 1) + b"\0" * 30)
pair(6, req, struct.pack("<IIII", 200, 0, 2, 1))

# REGION_INFO capability chains
ri = struct.pack("<IIIIQQ", 32, 0, 1, 0, 0, 0)


def rinfo(caps, first, flags=0xf, size=0x4000):
    p = struct.pack("<IIIIQQ", 32 + len(caps), flags, 1, first, size, 0) + caps
    return p


sparse = struct.pack("<HHIII", 1, 1, 64, 2, 0) + struct.pack("<QQQQ", 0, 0x1000, 0x2000, 0x1000)
typ = struct.pack("<HHIII", 2, 1, 0, 0x8086, 3)
pair(5, ri, rinfo(sparse + typ, 32))
pair(5, ri, rinfo(struct.pack("<HHI", 9, 1, 0) + b"\1\2\3\4", 32))
pair(5, ri, rinfo(struct.pack("<HHIII", 2, 1, 32, 1, 2), 32))             # loop
pair(5, ri, rinfo(struct.pack("<HHIII", 2, 1, 36, 1, 2) + b"\0" * 8, 32))  # overlap
pair(5, ri, rinfo(typ, 200))                                              # outside
pair(5, ri, rinfo(b"\0" * 8 + typ, 40))                                   # gap before
pair(5, ri, struct.pack("<IIIIQQ", 400, 0xf, 1, 32, 0, 0))                # retry

# DMA_READ / DMA_WRITE from the server: spec form, then the reply forms
emit("c2s", msg(0x1ff, 1, CMD, struct.pack("<HH", 0, 2) + b'{"capabilities":{}}\0'))
emit("s2c", msg(0x1ff, 1, REPLY, struct.pack("<HH", 0, 2) + b'{"capabilities":{}}\0'))
pair(11, struct.pack("<QQ", 0x1000, 8), struct.pack("<QQ", 0x1000, 8) + bytes(range(8)), cdir="s2c")
pair(12, struct.pack("<QQ", 0x2000, 4) + b"\1\2\3\4", struct.pack("<QI", 0x2000, 4), cdir="s2c")
pair(12, struct.pack("<QQ", 0x2000, 4) + b"\1\2\3\4", struct.pack("<QQ", 0x2000, 4), cdir="s2c")
pair(12, struct.pack("<QQ", 0x2000, 4) + b"\1\2\3\4", b"", cdir="s2c")
pair(11, struct.pack("<QQ", 0x1000, 8), struct.pack("<QQ", 0x1000, 9) + bytes(range(8)), cdir="s2c")

# DMA_MAP with libvfio-user flags, DMA_UNMAP with a dirty bitmap, unmap all
pair(2, struct.pack("<IIQQQ", 32, 7, 0, 0x100000, 0x4000), b"")
pair(2, struct.pack("<IIQQQ", 32, 0x17, 0, 0x100000, 0x4000), b"")
um = struct.pack("<IIQQQQ", 40, 1, 0x100000, 0x4000, 4096, 8)
pair(3, um, um + b"\xff" * 8)
pair(3, struct.pack("<IIQQ", 24, 2, 0, 0), b"")
pair(3, struct.pack("<IIQQ", 24, 3, 0, 0), None)

# DEVICE_FEATURE
pair(16, struct.pack("<II", 16, 0x10001) + b"\0" * 8, struct.pack("<IIQ", 16, 0x10001, 7))
pair(16, struct.pack("<IIII", 16, 0x20002, 2, 0), struct.pack("<II", 8, 0x20002))
pair(16, struct.pack("<II", 8, 0x10002), struct.pack("<IIII", 16, 0x10002, 9, 0))
pair(16, struct.pack("<IIQII", 48, 0x20006, 4096, 2, 0) + struct.pack("<QQQQ", 0, 0x10000, 0x20000, 0x1000), b"")
pair(16, struct.pack("<IIQQQ", 32, 0x10008, 0x0, 0x100000, 4096),
     struct.pack("<IIQQQ", 48, 0x10008, 0x0, 0x100000, 4096) + b"\x0f" * 32)
pair(16, struct.pack("<IIQQQ", 32, 0x10008, 0x0, 0x100000, 3000), None)
pair(16, struct.pack("<II", 8, 0x40001), struct.pack("<II", 8, 0x40001))
pair(16, struct.pack("<II", 8, 0x10063) + b"ab", None)
pair(16, struct.pack("<II", 8, 0x30001), None)

# MIG_DATA_READ with zero padding, MIG_DATA_WRITE
pair(17, struct.pack("<II", 24, 4), struct.pack("<II", 24, 4) + b"abcd" + b"\0" * 12)
pair(18, struct.pack("<II", 12, 4) + b"wxyz", b"")

# SET_IRQS: bool data, bad flags, disable all
pair(8, struct.pack("<IIIII", 23, 0x22, 2, 0, 3) + b"\1\0\1", b"")
pair(8, struct.pack("<IIIII", 20, 0x23, 2, 0, 1), None)
pair(8, struct.pack("<IIIII", 20, 0x21, 2, 0, 0), b"")

# argsz short of the command's structure (VFIO's EINVAL): DMA_MAP,
# DMA_UNMAP (plain, with a dirty bitmap), SET_IRQS (bool data), MIG_DATA_*
pair(2, struct.pack("<IIQQQ", 16, 3, 0, 0x100000, 0x4000), None)
pair(3, struct.pack("<IIQQ", 8, 0, 0x100000, 0x4000), None)
pair(3, struct.pack("<IIQQQQ", 24, 1, 0x100000, 0x4000, 4096, 8), None)
pair(8, struct.pack("<IIIII", 20, 0x22, 2, 0, 1) + b"\1", None)
pair(17, struct.pack("<II", 4, 16), None)
pair(18, struct.pack("<II", 4, 4) + b"wxyz", None)

# header oddities: reserved flags, no_reply on a reply, errno in a command,
# error with errno 0, error body, unknown and obsolete commands, type 2
emit("c2s", msg(0x300, 13, 0x40))
emit("s2c", msg(0x300, 13, REPLY | NOREPLY))
emit("c2s", msg(0x301, 13, CMD, err=5))
emit("s2c", msg(0x301, 13, REPLY | ERROR, err=0))
emit("c2s", msg(0x302, 4, CMD, struct.pack("<IIII", 16, 0, 0, 0)))
emit("s2c", msg(0x302, 4, REPLY | ERROR, struct.pack("<IIII", 16, 0, 0, 0), err=22))
emit("c2s", msg(0x303, 14, CMD, b"\1\2"))
emit("c2s", msg(0x304, 0, CMD, b"\1\2"))
emit("c2s", msg(0x305, 13, 2))
emit("c2s", msg(0x306, 13, ERROR))
emit("s2c", msg(0x999, 13, REPLY))                 # no command
emit("c2s", msg(0x307, 9, NOREPLY, struct.pack("<QII", 0, 0, 4)))
emit("s2c", msg(0x307, 9, REPLY, struct.pack("<QII", 0, 0, 4) + b"abcd"))
emit("c2s", msg(0x308, 9, CMD, struct.pack("<QII", 0, 0, 4)))
emit("s2c", msg(0x308, 10, REPLY, struct.pack("<QII", 0, 0, 4)))  # wrong cmd
emit("c2s", b"\x01\x00\x02")                       # 3 bytes

# big-endian: a region read pair and a write multi
emit("c2s", msg(0x400, 9, CMD, struct.pack(">QII", 0x10, 2, 4), e=">"), be=True)
emit("s2c", msg(0x400, 9, REPLY, struct.pack(">QII", 0x10, 2, 4) + b"\x12\x34\x56\x78", e=">"), be=True)
emit("c2s", msg(0x401, 15, NOREPLY, struct.pack(">Q", 1) + struct.pack(">QII", 8, 2, 8) +
                bytes(range(8)), e=">"), be=True)
emit("c2s", msg(0x402, 10, CMD, struct.pack(">QII", 0xfffffffffffffff0, 2, 8) +
                b"\xfe\xdc\xba\x98\x76\x54\x32\x10", e=">"), be=True)

# twin channel and a second connection
emit("s2c", msg(0x500, 11, CMD, struct.pack("<QQ", 0x1000, 4)), chan="twin")
emit("c2s", msg(0x500, 11, REPLY, struct.pack("<QQ", 0x1000, 4) + b"abcd"), chan="twin")
emit("c2s", msg(0x500, 13, CMD), conn=1)
emit("s2c", msg(0x500, 13, REPLY), conn=1)

print("\n".join(out))
