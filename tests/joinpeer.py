"""joinpeer.py [--trace] [--whole] SOCKET: DEVICE_SET_IRQS (trigger MSI-X
vector 0, no data) and a DMA_MAP with its memfd in one sendmsg, the
descriptor on the write's first byte, as vfuctl fuzz joins messages; for
tests/fuzz.bats.  A server that reads a header with one recvmsg()
(libvfio-user, tests/splitshy.py) gets the descriptor with SET_IRQS, which
takes none (EINVAL), and the DMA_MAP none.  --whole sends them in two
writes instead.

Prints each reply, "reply MSG_ID CMD ERRNO", then "end" when none came for
3 s or "closed".  With --trace it prints the session instead as
vfuctl-trace(5) record lines for vfuctl import, the join annotated as
vfuctl fuzz does.
"""
import json
import os
import select
import socket
import struct
import sys
import time

VERSION, DMA_MAP, SET_IRQS = 1, 2, 8
F_ERROR = 0x20
JSON = b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}}\0'
WIN = 0x4000


def header(mid, cmd, size, flags=0, err=0):
    return struct.pack("<HHIII", mid, cmd, size, flags, err)


def main():
    args = sys.argv[1:]
    trace = "--trace" in args
    whole = "--whole" in args
    args = [a for a in args if a not in ("--trace", "--whole")]
    if len(args) != 1:
        sys.exit("usage: joinpeer.py [--trace] [--whole] SOCKET")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args[0])
    seq = {"c2s": 0, "s2c": 0}

    def record(kind, direction="c2s", data=None, text=None, fds=()):
        if not trace:
            return
        r = {"t_ns": time.time_ns(), "kind": kind, "conn": 1, "endpoint": 0,
             "chan": "main", "dir": direction, "seq": 0}
        if kind == "message":
            r["seq"] = seq[direction]
            seq[direction] += 1
            r["fds"] = [{"kind": "memfd", "size": WIN} for _ in fds]
            r["hex"] = data.hex()
        if text is not None:
            r["text"] = text
        print(json.dumps(r, separators=(",", ":")))

    def reply():
        h = s.recv(16, socket.MSG_WAITALL)
        if len(h) < 16:
            return None
        mid, cmd, size, flags, err = struct.unpack("<HHIII", h)
        body = s.recv(size - 16, socket.MSG_WAITALL) if size > 16 else b""
        record("message", "s2c", h + body)
        return mid, cmd, err if flags & F_ERROR else 0

    record("open")
    ver = header(1, VERSION, 16 + 4 + len(JSON)) + struct.pack("<HH", 0, 2) + JSON
    record("message", "c2s", ver)
    s.sendall(ver)
    reply()
    # index 2 (MSI-X), DATA_NONE | ACTION_TRIGGER, start 0, count 1
    info = header(2, SET_IRQS, 36) + struct.pack("<IIIII", 20, 0x21, 2, 0, 1)
    dmap = header(3, DMA_MAP, 48) + struct.pack("<IIQQQ", 32, 3, 0, 0x100000, WIN)
    fd = os.memfd_create("joinpeer")
    os.ftruncate(fd, WIN)
    if not whole:
        record("annotation", text="vfuctl fuzz: the next message went in "
               "one write with the one after it")
    record("message", "c2s", info)
    record("message", "c2s", dmap, fds=[fd])
    if whole:
        s.sendall(info)
        socket.send_fds(s, [dmap], [fd])
    else:
        socket.send_fds(s, [info + dmap], [fd])
    os.close(fd)
    end = "end"
    while select.select([s], [], [], 3)[0]:
        r = reply()
        if r is None:
            end = "closed"
            break
        if not trace:
            print("reply 0x%04x %d %d" % r)
    record("close")
    if not trace:
        print(end)


main()
