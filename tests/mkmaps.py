#!/usr/bin/env python3
"""mkmaps.py KIND N [MAX] - a vectors-style JSON lines trace (vfuctl
import's input) of a VERSION exchange and N command/reply pairs, fast:
  maps   N DMA_MAPs of ascending, disjoint 4 KiB windows (past the
         65535th over max_dma_maps)
  churn  N DMA_MAP and DMA_UNMAP round trips: ascending maps, and once
         65535 are mapped the oldest unmapped before each new one
  info   N DEVICE_GET_INFO round trips (the same number of messages, no
         windows: the yardstick the maps are compared with)
MAX: the max_dma_maps the server's VERSION reply proposes (default: none,
the spec's 65535)."""
import json
import struct
import sys

kind, n = sys.argv[1], int(sys.argv[2])
caps = {"capabilities": {"max_msg_fds": 8}}
if len(sys.argv) > 3:
    caps["capabilities"]["max_dma_maps"] = int(sys.argv[3])
out = sys.stdout
seq = [0]


def line(d, payload_hex):
    out.write('{"seq": %d, "t_ns": %d, "dir": "%s", "nfds": 0, "fds": [], '
              '"hex": "%s"}\n' % (seq[0], 1000 * (seq[0] + 1), d, payload_hex))
    seq[0] += 1


def msg(mid, cmd, flags, payload=b""):
    return (struct.pack("<HHIII", mid, cmd, 16 + len(payload), flags, 0) +
            payload).hex()


ver = struct.pack("<HH", 0, 1) + json.dumps(caps).encode() + b"\0"
line("c2s", msg(0, 1, 0, ver))
line("s2c", msg(0, 1, 1, ver))
if kind == "maps":
    for i in range(n):
        mid = (i + 1) & 0xffff
        line("c2s", msg(mid, 2, 0, struct.pack("<IIQQQ", 32, 3, 0,
                                                0x100000 + i * 0x1000, 0x1000)))
        line("s2c", msg(mid, 2, 1))
elif kind == "churn":
    live = 65535
    i = oldest = 0
    for k in range(n):
        mid = (k + 1) & 0xffff
        if i - oldest < live:
            body = struct.pack("<IIQQQ", 32, 3, 0, 0x100000 + i * 0x1000, 0x1000)
            cmd, i = 2, i + 1
        else:
            body = struct.pack("<IIQQ", 24, 0, 0x100000 + oldest * 0x1000, 0x1000)
            cmd, oldest = 3, oldest + 1
        line("c2s", msg(mid, cmd, 0, body))
        line("s2c", msg(mid, cmd, 1, body if cmd == 3 else b""))
elif kind == "info":
    for i in range(n):
        mid = (i + 1) & 0xffff
        line("c2s", msg(mid, 4, 0, struct.pack("<IIII", 16, 0, 0, 0)))
        line("s2c", msg(mid, 4, 1, struct.pack("<IIII", 16, 0, 9, 5)))
else:
    sys.exit("mkmaps.py: KIND is maps, churn or info")
