#!/usr/bin/env python3
"""mkmaps.py KIND N [MAX] - a vectors-style JSON lines trace (vfuctl
import's input) of a VERSION exchange and N command/reply pairs, fast:
  maps   N DMA_MAPs of ascending, disjoint 4 KiB windows (past the
         65535th over max_dma_maps)
  churn  N DMA_MAP and DMA_UNMAP round trips: ascending maps, and once
         65535 are mapped the oldest unmapped before each new one
  info   N DEVICE_GET_INFO round trips (the same number of messages, no
         windows: the yardstick the others are compared with)
  over   N DMA_MAPs, then a server DMA_READ in the last window, its
         DMA_UNMAP, an unmap-all and a DMA_READ in the first window
  edges  (N unused) a zero-size window and one past 2^64, maps over
         them, DMA_READs at their ends
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
ids = [0]


def line(d, payload_hex):
    out.write('{"seq": %d, "t_ns": %d, "dir": "%s", "nfds": 0, "fds": [], '
              '"hex": "%s"}\n' % (seq[0], 1000 * (seq[0] + 1), d, payload_hex))
    seq[0] += 1


def msg(mid, cmd, flags, payload=b""):
    return (struct.pack("<HHIII", mid, cmd, 16 + len(payload), flags, 0) +
            payload).hex()


def pair(cmd, body, reply=b"", server=False):
    ids[0] = (ids[0] + 1) & 0xffff
    c, s = ("s2c", "c2s") if server else ("c2s", "s2c")
    line(c, msg(ids[0], cmd, 0, body))
    line(s, msg(ids[0], cmd, 1, reply))


def dma_map(addr, size):
    pair(2, struct.pack("<IIQQQ", 32, 3, 0, addr, size))


def dma_unmap(addr, size, flags=0):
    body = struct.pack("<IIQQ", 24, flags, addr, size)
    pair(3, body, body)


def dma_read(addr, count):
    pair(11, struct.pack("<QQ", addr, count),
         struct.pack("<QQ", addr, count) + bytes(count), server=True)


ver = struct.pack("<HH", 0, 1) + json.dumps(caps).encode() + b"\0"
line("c2s", msg(0, 1, 0, ver))
line("s2c", msg(0, 1, 1, ver))
if kind in ("maps", "over"):
    for i in range(n):
        dma_map(0x100000 + i * 0x1000, 0x1000)
    if kind == "over":
        last = 0x100000 + (n - 1) * 0x1000
        dma_read(last, 8)
        dma_unmap(last, 0x1000)
        dma_unmap(0, 0, 2)
        dma_read(0x100000, 8)
elif kind == "churn":
    live = 65535
    i = oldest = 0
    for k in range(n):
        if i - oldest < live:
            dma_map(0x100000 + i * 0x1000, 0x1000)
            i += 1
        else:
            dma_unmap(0x100000 + oldest * 0x1000, 0x1000)
            oldest += 1
elif kind == "info":
    for i in range(n):
        pair(4, struct.pack("<IIII", 16, 0, 0, 0),
             struct.pack("<IIII", 16, 0, 9, 5))
elif kind == "edges":
    dma_map(0x10000, 0)                     # the byte at 0x10000
    dma_map(0x10000, 0)                     # DMA_OVERLAP
    dma_map(0xf000, 0x2000)                 # DMA_OVERLAP
    dma_read(0x10000, 0)                    # inside
    dma_read(0x10000, 1)                    # DMA_OUTSIDE
    dma_map(0xfffffffffffff000, 0x2000)     # to the top, not wrapping
    dma_map(0xfffffffffffff800, 0x100)      # DMA_OVERLAP
    dma_map(0, 0x1000)                      # no overlap
    dma_read(0xffffffffffffff00, 0x100)     # inside
    dma_read(0x1000, 0)                     # zero bytes at a window's end
else:
    sys.exit("mkmaps.py: KIND is maps, churn, info, over or edges")
