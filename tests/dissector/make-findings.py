#!/usr/bin/env python3
"""make-findings.py - trace record lines (vfuctl-trace(5) JSON LINES) with
every finding of lib/findings.def, for findings.py: connections that open
with an open record, with none (mid-session), with a state record that
seeds them (regions, DMA windows, limits, a pending command), with an
unusable state record, and with a twin socket; each closes with a close
record, some leaving commands unanswered (more than the 16 reported, msg_ids
that share a bucket), one with capture_end (nothing reported)."""
import json
import struct

out = []
t = [1_000_000_000]
seqs = {}


def rec(kind, conn, **kw):
    t[0] += 1000
    r = {"t_ns": t[0], "kind": kind, "conn": conn, "endpoint": 0}
    r.update(kw)
    out.append(json.dumps(r))


def emit(conn, d, m, nfds=0, chan="main"):
    k = (conn, chan, d)
    seq = seqs.get(k, 0)
    seqs[k] = seq + 1
    rec("message", conn, chan=chan, dir=d, seq=seq,
        fds=[{"kind": "memfd", "size": 4096}] * nfds, hex=m.hex())


def msg(mid, cmd, flags, payload=b"", err=0):
    return struct.pack("<HHIII", mid, cmd, 16 + len(payload), flags, err) + payload


CMD, REPLY, NOREPLY, ERROR = 0, 1, 0x10, 0x20
C, S = "c2s", "s2c"


def version(major, minor, caps):
    return struct.pack("<HH", major, minor) + json.dumps(
        {"capabilities": caps}, separators=(",", ":")).encode() + b"\0"


def info(argsz=16, nreg=0, nirq=0):
    return struct.pack("<IIII", argsz, 0, nreg, nirq)


def rinfo(index, flags=0, size=0, argsz=32, cap_off=0, tail=b""):
    return struct.pack("<IIIIQQ", argsz, flags, index, cap_off, size, 0) + tail


def irq_info(index, count=0):
    return struct.pack("<IIII", 16, 0, index, count)


def rw(index, offset, count, data=b""):
    return struct.pack("<QII", offset, index, count) + data


def dma_map(addr, size):
    return struct.pack("<IIQQQ", 32, 3, 0, addr, size)


def dma_unmap(addr, size, flags=0):
    return struct.pack("<IIQQ", 24, flags, addr, size)


def dma_rw(addr, count):
    return struct.pack("<QQ", addr, count)


def pair(conn, mid, cmd, req, rep, nfds=0, rep_nfds=0, cdir=C, chan="main"):
    rdir = S if cdir == C else C
    emit(conn, cdir, msg(mid, cmd, CMD, req), nfds, chan)
    if rep is not None:
        emit(conn, rdir, msg(mid, cmd, REPLY, rep), rep_nfds, chan)


# conn 0: begins with an open record; a session breaking most rules
rec("open", 0, pid=1, uid=0, gid=0)
pair(0, 1, 4, info(), info(16, 3, 2))                     # BEFORE_VERSION
pair(0, 2, 1, version(0, 2, {"max_msg_fds": 2, "max_data_xfer_size": 64}),
     version(0, 3, {"max_msg_fds": 1, "max_data_xfer_size": 32,
                    "migration": {"pgsize": 4096},
                    "twin_socket": {"supported": True}}))  # VERSION_MISMATCH x2, CAP_NOT_PROPOSED x2
pair(0, 3, 4, info(), info(16, 3, 2))
pair(0, 4, 5, rinfo(0), rinfo(0, 1 | 4, 0x100))            # INVISIBLE_MMAP
pair(0, 5, 5, rinfo(1), rinfo(1, 3, 0x10))
pair(0, 6, 5, rinfo(0), rinfo(0, 1 | 4, 0x100))            # said once
pair(0, 7, 5, rinfo(5), None)                               # NO_SUCH_REGION
emit(0, S, msg(7, 5, REPLY | ERROR, err=22))
pair(0, 8, 7, irq_info(3), None)                            # NO_SUCH_IRQ
emit(0, S, msg(8, 7, REPLY | ERROR, err=22))
pair(0, 9, 10, rw(0, 0, 4, b"abcd"), rw(0, 0, 4))           # REGION_PERM
pair(0, 10, 9, rw(1, 0xc, 8), rw(1, 0xc, 8, bytes(8)))      # REGION_BOUNDS
pair(0, 11, 10, rw(1, 0, 40, bytes(40)), rw(1, 0, 40))      # XFER_OVER_LIMIT, REGION_BOUNDS
wm = struct.pack("<Q", 2) + struct.pack("<QII", 0, 1, 4) + bytes(8) + \
    struct.pack("<QII", 0xe, 1, 4) + bytes(8)
pair(0, 12, 15, wm, struct.pack("<Q", 2))                   # WRITE_MULTI_NOT_NEGOTIATED, REGION_BOUNDS
pair(0, 13, 2, dma_map(0x1000, 0x1000), b"", 1)             # INVISIBLE_DMA
pair(0, 14, 2, dma_map(0x1800, 0x1000), b"", 1)             # DMA_OVERLAP
pair(0, 15, 2, dma_map(0x4000, 0x1000), b"", 2)             # FDS, FDS_OVER_LIMIT, INVISIBLE_DMA
pair(0, 16, 3, dma_unmap(0x9000, 0x1000), dma_unmap(0x9000, 0x1000))  # DMA_UNMAP_UNKNOWN
pair(0, 17, 3, dma_unmap(0x4000, 0x1000), dma_unmap(0x4000, 0x1000))
pair(0, 1, 11, dma_rw(0x5000, 8), dma_rw(0x5000, 8) + bytes(8), cdir=S)  # DMA_OUTSIDE, SERVER_CMD_ON_MAIN
pair(0, 2, 11, dma_rw(0x1000, 8), dma_rw(0x1000, 8) + bytes(8), cdir=S)
pair(0, 3, 11, dma_rw(0x1000, 0x100), None, cdir=S)         # XFER_OVER_LIMIT (client's 64)
emit(0, C, msg(3, 11, REPLY, dma_rw(0x1000, 0x100) + bytes(0x100)))
cap = struct.pack("<HHIII", 2, 1, 0, 3, 1)                  # a TYPE capability
pair(0, 18, 5, rinfo(1, argsz=32), rinfo(1, 3 | 8, 0x10, 48, 32, cap))  # REPLY_OVER_ARGSZ
emit(0, C, msg(19, 9, CMD, rw(1, 0, 4)))
emit(0, C, msg(19, 9, CMD, rw(1, 4, 4)))                    # MSGID_REUSED
emit(0, S, msg(19, 9, REPLY, rw(1, 0, 4, bytes(4))))
emit(0, S, msg(19, 10, REPLY, rw(1, 4, 4)))                 # REPLY_WRONG_CMD
emit(0, C, msg(20, 10, NOREPLY, rw(1, 0, 4, bytes(4))))
emit(0, S, msg(20, 10, REPLY, rw(1, 0, 4)))                 # REPLY_TO_NO_REPLY
emit(0, S, msg(21, 9, REPLY, rw(1, 0, 4, bytes(4))))        # REPLY_WITHOUT_COMMAND
pair(0, 22, 99, b"\1\2\3\4", None)                          # UNKNOWN_COMMAND
pair(0, 23, 10, rw(1, 0, 4, b"ab"), None)                   # MALFORMED
for i in range(20):                                         # UNANSWERED: 16 of 22
    emit(0, C, msg(0x1100 - 0x100 * (i % 2) + i // 2, 9, CMD, rw(1, 0, 4)))
rec("close", 0, pid=1, uid=0, gid=0)

# conn 1: no open record, the first message a DEVICE_GET_INFO: mid-session
pair(1, 0x40, 4, info(), info(16, 2, 1))                    # MID_SESSION
emit(1, S, msg(0x3f, 9, REPLY, rw(0, 0, 4, bytes(4))))      # its command came before
pair(1, 1, 11, dma_rw(0x7000, 8), dma_rw(0x7000, 8) + bytes(8), cdir=S)  # windows unknown
pair(1, 0x41, 3, dma_unmap(0x7000, 0x1000), dma_unmap(0x7000, 0x1000))
pair(1, 0x42, 3, dma_unmap(0, 0, 2), dma_unmap(0, 0, 2))    # all: windows known again
pair(1, 2, 11, dma_rw(0x7000, 8), dma_rw(0x7000, 8) + bytes(8), cdir=S)  # DMA_OUTSIDE
emit(1, S, msg(0x3e, 9, REPLY, rw(0, 0, 4, bytes(4))))      # REPLY_WITHOUT_COMMAND now
emit(1, C, msg(0x43, 9, CMD, rw(0, 0, 4)))
rec("close", 1, pid=1, uid=0, gid=0, capture_end=True)     # nothing unanswered said

# conn 2: a state record seeds it (a rotated file's first record)
caps_c = {"present": 3, "max_msg_fds": 4, "max_data_xfer_size": 1024,
          "max_dma_maps": 0, "pgsizes": 0, "mig_pgsize": 0,
          "mig_max_bitmap_size": 0, "twin_supported": False,
          "twin_fd_index": 0, "write_multiple": False}
caps_s = dict(caps_c, present=0x203, max_msg_fds=1, max_data_xfer_size=16,
              write_multiple=True)
state = {"state": 1, "begun": True, "mid": False,
         "peer": {"client": "auto", "server": "auto"},
         "peer_name": {"client": "unknown", "server": "unknown"},
         "version": {"sent": True, "done": True, "major": 0, "minor": 2,
                     "client": caps_c, "server": caps_s},
         "twin": False, "windows_known": False, "num_regions": 2,
         "num_irqs": 1, "regions": [{"index": 0, "flags": 3, "size": 32}],
         "dma": [{"addr": 0x10000, "size": 0x1000, "flags": 3, "fd": True}],
         "pending": [{"chan": "main", "dir": "c2s", "msg_id": 7, "cmd": 9,
                      "argsz": 0, "frame": 1234, "t_ns": t[0] - 500},
                     {"chan": "main", "dir": "c2s", "msg_id": 8, "cmd": 4,
                      "argsz": 16, "frame": 1235, "t_ns": t[0] - 400}]}
rec("state", 2, hex=json.dumps(state, separators=(",", ":")).encode().hex())
emit(2, S, msg(7, 9, REPLY, rw(0, 0, 4, bytes(4))))         # pairs with the state's
pair(2, 9, 9, rw(0, 0x1c, 8), rw(0, 0x1c, 8, bytes(8)))     # REGION_BOUNDS
pair(2, 10, 10, rw(0, 0, 20, bytes(20)), rw(0, 0, 20))      # XFER_OVER_LIMIT
pair(2, 11, 15, struct.pack("<Q", 1) + struct.pack("<QII", 0, 0, 4) + bytes(8),
     struct.pack("<Q", 1))                                  # write_multiple accepted
pair(2, 1, 11, dma_rw(0x10800, 8), dma_rw(0x10800, 8) + bytes(8), cdir=S)  # SERVER_CMD_ON_MAIN
pair(2, 2, 11, dma_rw(0x20000, 8), dma_rw(0x20000, 8) + bytes(8), cdir=S)  # DMA_OUTSIDE
pair(2, 12, 5, rinfo(3), None)                              # NO_SUCH_REGION
pair(2, 13, 7, irq_info(1), None)                           # NO_SUCH_IRQ
pair(2, 14, 1, version(0, 2, {}), None, rep_nfds=0)
rec("close", 2, pid=1, uid=0, gid=0)                        # UNANSWERED: 8, 12, 13, 14

# conn 3: a state record it cannot use (a later version): mid-session
rec("state", 3, hex=b'{"state":2}'.hex())
pair(3, 1, 9, rw(0, 0, 4), rw(0, 0, 4, bytes(4)))           # MID_SESSION
rec("state", 3, hex=b'{"state":1,"peer":{"client":"x"}}'.hex())
pair(3, 2, 9, rw(0, 0, 4), rw(0, 0, 4, bytes(4)))           # MID_SESSION again
rec("close", 3, pid=1, uid=0, gid=0)

# conn 4: a state record of a capture that began mid-session
mstate = dict(state, begun=True, mid=True, dma=[], pending=[],
              regions=[], num_regions=-1, num_irqs=-1)
rec("state", 4, hex=json.dumps(mstate).encode().hex())
pair(4, 1, 11, dma_rw(0x30000, 8), dma_rw(0x30000, 8) + bytes(8), cdir=S)  # windows unknown
pair(4, 1, 3, dma_unmap(0x30000, 0x1000), dma_unmap(0x30000, 0x1000))
emit(4, S, msg(0x77, 9, REPLY, rw(0, 0, 4, bytes(4))))      # REPLY_WITHOUT_COMMAND
rec("close", 4, pid=1, uid=0, gid=0)

# conn 5: a twin socket, descriptors counted
rec("open", 5, pid=1, uid=0, gid=0)
pair(5, 1, 1, version(0, 2, {"twin_socket": {"supported": True}, "max_msg_fds": 8}),
     version(0, 2, {"twin_socket": {"supported": True, "fd_index": 0}, "max_msg_fds": 8}),
     rep_nfds=1)
pair(5, 1, 11, dma_rw(0x1000, 8), None, cdir=S, chan="twin")  # DMA_OUTSIDE only
emit(5, C, msg(1, 11, REPLY, dma_rw(0x1000, 8) + bytes(8)), chan="twin")
pair(5, 2, 12, dma_rw(0x1000, 4) + bytes(4), None, cdir=S)  # SERVER_CMD_ON_MAIN (twin)
pair(5, 2, 8, struct.pack("<IIIII", 20, 4 | 0x20, 2, 0, 2), b"", 1)  # FDS (0 or 2)
pair(5, 3, 6, struct.pack("<IIII", 16, 0, 0, 1),
     struct.pack("<IIII", 56, 0, 0, 1) + struct.pack("<QQIIIIQ", 0, 4, 0, 0, 0, 0, 0))  # FDS (1-1)
pair(5, 4, 1, version(1, 0, {}), version(0, 2, {}))        # VERSION_MISMATCH (major)
rec("close", 5, pid=1, uid=0, gid=0)

# conn 6: state records in odd but valid forms (hex-text numbers, a
# server command pending on the twin channel, "regions" not an array, a
# non-integer count), and unusable ones (duplicate keys, a pending entry
# without "chan")
st = ('{"state":1,"peer":{"client":"auto","server":"auto"},"begun":true,'
      '"version":{"major":0,"minor":2,"sent":true,"done":true,"server":'
      '{"present":"0x3","max_msg_fds":1,"max_data_xfer_size":"0x10"}},'
      '"regions":[{"index":1,"flags":1,"size":"0x8"}],"num_regions":4,'
      '"pending":[{"chan":"twin","dir":"s2c","msg_id":5,"cmd":11,"argsz":0,'
      '"frame":9,"t_ns":0}]}')
rec("state", 6, hex=st.encode().hex())
emit(6, C, msg(5, 11, REPLY, dma_rw(0, 4) + bytes(4)), chan="twin")  # pairs
pair(6, 1, 10, rw(1, 4, 20, bytes(20)), rw(1, 4, 20))       # REGION_BOUNDS, _PERM, XFER
rec("state", 6, hex=b'{"state":1,"state":1}'.hex())
pair(6, 2, 9, rw(1, 0, 4), rw(1, 0, 4, bytes(4)))           # MID_SESSION
rec("state", 6, hex=(b'{"state":1,"peer":{"client":"qemu","server":"spec"},'
                     b'"version":{},"regions":{"index":1},"num_regions":1.5}').hex())
pair(6, 3, 9, rw(0, 0, 4), rw(0, 0, 4, bytes(4)))           # MID_SESSION, NO_SUCH_REGION
rec("state", 6, hex=(b'{"state":1,"peer":{"client":"auto","server":"auto"},'
                     b'"version":{},"begun":true,"pending":[{"dir":"c2s"}]}').hex())
pair(6, 4, 9, rw(0, 0, 4), rw(0, 0, 4, bytes(4)))           # MID_SESSION
rec("close", 6, pid=1, uid=0, gid=0)

# conn 7: max_dma_maps 2; zero-size windows and one past 2^64
rec("open", 7, pid=1, uid=0, gid=0)
pair(7, 1, 1, version(0, 2, {"max_dma_maps": 2}), version(0, 2, {"max_dma_maps": 2}))
pair(7, 2, 2, dma_map(0x30000, 0x1000), b"")
pair(7, 3, 2, dma_map(0x10000, 0), b"")                    # zero-size: the byte at 0x10000
pair(7, 4, 2, dma_map(0x8000, 0x30000), b"")               # DMA_OVERLAP: names the lowest
pair(7, 5, 2, dma_map(0x50000, 0x1000), b"")               # DMA_MAPS_OVER_LIMIT
pair(7, 1, 11, dma_rw(0x50000, 8), dma_rw(0x50000, 8) + bytes(8), cdir=S)  # windows lost: no verdict
pair(7, 6, 3, dma_unmap(0x60000, 0x1000), dma_unmap(0x60000, 0x1000))      # nor here
pair(7, 7, 3, dma_unmap(0, 0, 2), dma_unmap(0, 0, 2))      # all: known again
pair(7, 8, 2, dma_map(0xfffffffffffff000, 0x2000), b"")    # past 2^64: to the top
pair(7, 9, 2, dma_map(0xfffffffffffff800, 0x100), b"")     # DMA_OVERLAP
pair(7, 10, 2, dma_map(0, 0x1000), b"")                    # no wrap to 0
pair(7, 2, 11, dma_rw(0xffffffffffffff00, 0x100), dma_rw(0xffffffffffffff00, 0x100) + bytes(0x100), cdir=S)
pair(7, 3, 11, dma_rw(0x1000, 0), dma_rw(0x1000, 0), cdir=S)  # zero bytes at a window's end
pair(7, 4, 11, dma_rw(0x50000, 8), dma_rw(0x50000, 8) + bytes(8), cdir=S)  # DMA_OUTSIDE
pair(7, 11, 2, dma_map(0x2000, 0x1000), b"")               # DMA_MAPS_OVER_LIMIT
rec("close", 7, pid=1, uid=0, gid=0)

# conn 8: a state record saved after windows were lost
lstate = dict(state, windows_lost=True, pending=[],
              dma=[{"addr": 0x20000, "size": 0x1000, "flags": 3, "fd": False},
                   {"addr": 0x10000, "size": 0x1000, "flags": 3, "fd": False}])
rec("state", 8, hex=json.dumps(lstate).encode().hex())
pair(8, 1, 11, dma_rw(0x70000, 8), dma_rw(0x70000, 8) + bytes(8), cdir=S)  # no verdict
pair(8, 1, 3, dma_unmap(0x20000, 0x1000), dma_unmap(0x20000, 0x1000))
pair(8, 2, 3, dma_unmap(0, 0, 2), dma_unmap(0, 0, 2))
pair(8, 2, 11, dma_rw(0x10000, 8), dma_rw(0x10000, 8) + bytes(8), cdir=S)  # DMA_OUTSIDE
rec("close", 8, pid=1, uid=0, gid=0)

# conn 9: addresses a double cannot hold (past 2^53): compared exactly
rec("open", 9, pid=1, uid=0, gid=0)
pair(9, 1, 1, version(0, 2, {}), version(0, 2, {}))
pair(9, 2, 2, dma_map(0x20000000000001, 1), b"")           # 2^53 + 1
pair(9, 3, 2, dma_map(0x20000000000000, 1), b"")           # beside it, no overlap
pair(9, 1, 11, dma_rw(0x20000000000002, 1), dma_rw(0x20000000000002, 1) + bytes(1), cdir=S)  # DMA_OUTSIDE
pair(9, 4, 2, dma_map(0xffffffffffff0000, 0x100), b"")
pair(9, 2, 11, dma_rw(0xffffffffffff0100, 1), dma_rw(0xffffffffffff0100, 1) + bytes(1), cdir=S)  # DMA_OUTSIDE
pair(9, 3, 11, dma_rw(0xffffffffffff00ff, 1), dma_rw(0xffffffffffff00ff, 1) + bytes(1), cdir=S)  # inside
pair(9, 5, 3, dma_unmap(0xffffffffffff0001, 0x100), dma_unmap(0xffffffffffff0001, 0x100))  # DMA_UNMAP_UNKNOWN
pair(9, 6, 3, dma_unmap(0xffffffffffff0000, 0x100), dma_unmap(0xffffffffffff0000, 0x100))
rec("close", 9, pid=1, uid=0, gid=0)

# conn 10: a state record's windows past 2^53, in decimal and in hex
xstate = dict(state, windows_known=True, pending=[],
              regions=[{"index": 0, "flags": 3, "size": 0x20000000000002}],
              dma=[{"addr": 0x20000000000001, "size": 1, "flags": 3, "fd": False},
                   {"addr": "0xffffffffffff1001", "size": 1, "flags": 3, "fd": False}])
rec("state", 10, hex=json.dumps(xstate).encode().hex())
pair(10, 1, 11, dma_rw(0x20000000000000, 1), dma_rw(0x20000000000000, 1) + bytes(1), cdir=S)  # DMA_OUTSIDE
pair(10, 2, 11, dma_rw(0x20000000000001, 1), dma_rw(0x20000000000001, 1) + bytes(1), cdir=S)  # inside
pair(10, 3, 11, dma_rw(0xffffffffffff1000, 1), dma_rw(0xffffffffffff1000, 1) + bytes(1), cdir=S)  # DMA_OUTSIDE
pair(10, 4, 11, dma_rw(0xffffffffffff1001, 1), dma_rw(0xffffffffffff1001, 1) + bytes(1), cdir=S)  # inside
pair(10, 5, 9, rw(0, 0x20000000000001, 2), rw(0, 0x20000000000001, 2, bytes(2)))  # REGION_BOUNDS
pair(10, 6, 9, rw(0, 0x20000000000001, 1), rw(0, 0x20000000000001, 1, bytes(1)))  # inside
rec("close", 10, pid=1, uid=0, gid=0)

# conn 11: a region whose size and offsets are past 2^53
rec("open", 11, pid=1, uid=0, gid=0)
pair(11, 1, 1, version(0, 2, {}), version(0, 2, {}))
pair(11, 2, 4, info(), info(16, 1, 0))
pair(11, 3, 5, rinfo(0), rinfo(0, 3, 0x20000000000002))
pair(11, 4, 9, rw(0, 0x20000000000001, 2), rw(0, 0x20000000000001, 2, bytes(2)))  # REGION_BOUNDS
pair(11, 5, 9, rw(0, 0x20000000000001, 1), rw(0, 0x20000000000001, 1, bytes(1)))  # inside
pair(11, 6, 9, rw(0, 0x20000000000003, 0), rw(0, 0x20000000000003, 0))            # REGION_BOUNDS
rec("close", 11, pid=1, uid=0, gid=0)

print("\n".join(out))
