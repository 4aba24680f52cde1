#!/usr/bin/env python3
"""make-big.py [SIZE] - vector lines (the ../shared/vectors line format) of
a REGION_WRITE of SIZE data bytes (default 1 MiB) to bar2 and its reply,
then a REGION_READ of SIZE bytes and its reply: `vfuctl import` splits the
two big messages into fragment records (more than 256 KiB each)."""
import json
import struct
import sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 20
data = bytes((i * 7 + (i >> 8)) & 0xff for i in range(size))


def msg(msg_id, cmd, flags, payload):
    return struct.pack("<HHIII", msg_id, cmd, 16 + len(payload), flags, 0) + payload


def rw(offset, region, count):
    return struct.pack("<QII", offset, region, count)


lines = [
    ("c2s", msg(1, 10, 0, rw(0x1000, 2, size) + data)),
    ("s2c", msg(1, 10, 1, rw(0x1000, 2, size))),
    ("c2s", msg(2, 9, 0, rw(0x2000, 2, size))),
    ("s2c", msg(2, 9, 1, rw(0x2000, 2, size) + data[::-1])),
]
for seq, (d, m) in enumerate(lines):
    print(json.dumps({"seq": seq, "t_ns": 1000000 * (seq + 1), "dir": d,
                      "nfds": 0, "fds": [], "hex": m.hex()}))
