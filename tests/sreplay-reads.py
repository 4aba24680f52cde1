#!/usr/bin/env python3
"""sreplay-reads.py: long REGION_READ sessions for vfuctl server --replay.

  sreplay-reads.py make N HEAD.jsonl
      print a session as JSON lines (for vfuctl import): the VERSION
      command and reply of HEAD.jsonl's first two lines, then N 4-byte
      REGION_READs of bar2, read i at offset 4 * i % 4096 answered with
      the value 0xa0 + i.
  sreplay-reads.py play JSONL SOCKET [--hwm PID] (--count N | OFFSET...)
      send JSONL's VERSION, then REGION_READs of bar2 at each OFFSET in
      turn, printing each reply's value in hex, one a line (an OFFSET
      "version" sends the VERSION again and prints "version"); or (--count)
      the N reads of `make N`, 64 in flight, checking that read i gets
      0xa0 + i.  With --hwm, print PID's peak resident size (VmHWM, KiB)
      before hanging up.
Exit 0, or 1 with what was wrong on stderr.  Used by
tests/server-replay.bats.
"""
import json
import socket
import struct
import sys

REGION_READ = 9
DEPTH = 64


def read_req(mid, off):
    return struct.pack("<HHIIIQII", mid & 0xFFFF, REGION_READ, 32, 0, 0,
                       off, 2, 4)


def make(n, head):
    with open(head) as f:
        out = [next(f), next(f)]
    for i in range(n):
        off = 4 * i % 4096
        rep = struct.pack("<HHIIIQIII", (i + 1) & 0xFFFF, REGION_READ, 36,
                          1, 0, off, 2, 4, 0xA0 + i)
        out.append('{"dir": "c2s", "nfds": 0, "fds": [], "hex": "%s"}\n'
                   % read_req(i + 1, off).hex())
        out.append('{"dir": "s2c", "nfds": 0, "fds": [], "hex": "%s"}\n'
                   % rep.hex())
    sys.stdout.write("".join(out))


def recv_msg(s):
    h = s.recv(16, socket.MSG_WAITALL)
    if len(h) < 16:
        sys.exit("the server hung up")
    size = struct.unpack_from("<I", h, 4)[0]
    return h + s.recv(size - 16, socket.MSG_WAITALL)


def value(m):
    if len(m) < 36 or struct.unpack_from("<I", m, 8)[0] & 2:
        sys.exit("not a region read reply: " + m.hex())
    return struct.unpack_from("<I", m, 32)[0]


def play_count(s, n):
    sent = got = 0
    while got < n:
        batch = b""
        while sent < n and sent - got < DEPTH:
            batch += read_req(sent + 1, 4 * sent % 4096)
            sent += 1
        s.sendall(batch)
        v = value(recv_msg(s))
        if v != 0xA0 + got:
            sys.exit("read %d: 0x%x, expected 0x%x" % (got, v, 0xA0 + got))
        got += 1


def play(args):
    jsonl, path, args = args[0], args[1], args[2:]
    pid = n = None
    if args[:1] == ["--hwm"]:
        pid, args = args[1], args[2:]
    if args[:1] == ["--count"]:
        n = int(args[1])
    with open(jsonl) as f:
        version = bytes.fromhex(json.loads(next(f))["hex"])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(version)
    recv_msg(s)
    if n is not None:
        play_count(s, n)
    else:
        for i, off in enumerate(args):
            if off == "version":
                s.sendall(struct.pack("<H", i + 1) +
                          version[2:])
                recv_msg(s)
                print("version")
                continue
            s.sendall(read_req(i + 1, int(off, 0)))
            print("0x%x" % value(recv_msg(s)))
    if pid is not None:
        with open("/proc/%s/status" % pid) as f:
            print(next(l.split()[1] for l in f if l.startswith("VmHWM")))
    s.close()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "play":
        play(sys.argv[2:])
    else:
        sys.exit(__doc__)


main()
