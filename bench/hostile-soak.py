#!/usr/bin/env python3
"""hostile-soak.py - `make bench`, part 6 (bench/hostile.sh runs it):
CONNS hostile connections, one after another, against vfuctl server with
tests/devices/dma.json, while a well-behaved client in another thread
connects, negotiates and reads bar2 over and over.

    hostile-soak.py SOCKET CONNS

The hostile mix, by connection number: malformed messages (bad msg_size,
truncated bodies, unknown commands, random bytes, commands before
VERSION, oversized messages), short memfds (a DMA_MAP window larger than
its memfd, a memfd shrunk after DMA_MAP, then the device's DMA), descriptor
floods (up to 253 descriptors on one message), idle clients (send
nothing) and slow ones (half a header, then nothing).  A hostile client
that is answered EBUSY (the good one is attached) tries again.

Prints one line of "key=value": the good client's round trips served,
answered busy and failed (a wrong answer, a reset, no answer within 5 s)
and the hostile connections made.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import hostile  # noqa: E402

EBUSY = 16
TIMEOUT = 5.0


class Busy(Exception):
    pass


def connect(path):
    s = hostile.connect(path)
    s.settimeout(TIMEOUT)
    return s


# Why the well-behaved client's round trips failed, for the report.
fail_why = {}


def failed(why):
    fail_why[why] = fail_why.get(why, 0) + 1
    return "fail"


def good_round_trip(path):
    """One round trip: 'ok', 'busy' or 'fail'."""
    try:
        with connect(path) as s:
            err = hostile.version(s)
            if err == EBUSY:
                return "busy"
            if err:
                return failed("VERSION errno %d" % err)
            err, data = hostile.read(s, 2, hostile.BAR2, 0, 4)
            if err:
                return failed("REGION_READ errno %d" % err)
            return "ok" if data == bytes.fromhex("00112233") \
                else failed("REGION_READ wrong data")
    except OSError as e:
        return failed("%s: %s" % (type(e).__name__, e.strerror or e))
    except SystemExit as e:
        return failed("connection ended: %s" % e)


def attached(path):
    """A connection that got past VERSION, or Busy."""
    s = connect(path)
    if hostile.version(s) == EBUSY:
        s.close()
        raise Busy()
    return s


def malformed(path, rng):
    s = connect(path)
    kind = rng.randrange(6)
    if kind == 0:       # msg_size below the header
        s.sendall(struct.pack("<HHIII", 1, 1, 8, 0, 0))
    elif kind == 1:     # over the server's limit: it drops us
        s.sendall(struct.pack("<HHIII", 1, 9, 1 << 30, 0, 0))
    elif kind == 2:     # random bytes
        s.sendall(rng.randbytes(rng.randrange(1, 200)))
    elif kind == 3:     # a command before VERSION, an unknown one
        hostile.xfer(s, 1, hostile.REGION_READ, struct.pack("<QII", 0, 2, 4))
        hostile.xfer(s, 2, 99, b"\1\2\3")
    else:               # after VERSION: bad bodies
        s.close()
        s = attached(path)
        hostile.xfer(s, 2, hostile.REGION_READ, struct.pack("<QI", 0, 2))
        hostile.xfer(s, 3, hostile.REGION_WRITE,
                     struct.pack("<QII", 0x3ff0, 2, 64) + bytes(64))
        hostile.xfer(s, 4, hostile.DMA_MAP, struct.pack("<IIQQQ", 8, 3, 0,
                                                        0, 4096))
        hostile.xfer(s, 5, 8, struct.pack("<IIIII", 20, 0x22, 2, 0, 9))
    s.close()


def short_memfd(path, rng):
    with attached(path) as s:
        fd = hostile.memfd(4096)
        try:
            if rng.randrange(2):
                hostile.dma_map(s, 2, fd, 1 << 20)
            else:
                hostile.dma_map(s, 2, fd, 4096)
                os.ftruncate(fd, 0)
            hostile.engine_dma(s, 4096)
        finally:
            os.close(fd)


def fd_flood(path, rng):
    n = rng.choice((2, 16, 17, 64, 253))
    fds = [hostile.memfd(0) for _ in range(n)]
    try:
        with attached(path) as s:
            cmd = rng.choice((hostile.DMA_MAP, 8, hostile.REGION_READ))
            payload = struct.pack("<IIQQQ", 32, 3, 0, 0x200000, 4096) \
                if cmd == hostile.DMA_MAP else \
                struct.pack("<IIIII", 20, 0x24, 2, 0, n) if cmd == 8 else \
                struct.pack("<QII", 0, 2, 4)
            hostile.fakepeer.send_msg(s, 7, cmd, 0, payload, fds)
            hostile.fakepeer.recv_msg(s)
    finally:
        for fd in fds:
            os.close(fd)


def idle(path, rng):
    with connect(path) as s:
        s.recv(16)      # until the server drops us (or answers nothing)


def slow(path, rng):
    with attached(path) as s:
        s.sendall(struct.pack("<HHIII", 2, 9, 32, 0, 0)[:rng.randrange(1, 16)])
        s.recv(16)


# weights out of 100
MIX = [(malformed, 45), (short_memfd, 25), (fd_flood, 24), (idle, 3),
       (slow, 3)]


def pick(i):
    k = i % 100
    for fn, w in MIX:
        if k < w:
            return fn
        k -= w
    return MIX[0][0]


def main():
    path, conns = sys.argv[1], int(sys.argv[2])
    rng = random.Random(9)
    stop = threading.Event()
    good = {"ok": 0, "busy": 0, "fail": 0}

    def good_loop():
        while not stop.is_set():
            r = good_round_trip(path)
            good[r] += 1
            if r == "busy":
                time.sleep(0.002)   # the holder is hostile: let it run

    t = threading.Thread(target=good_loop)
    t.start()
    retries = errors = 0
    for i in range(conns):
        fn = pick(i)
        for _ in range(1000):
            try:
                fn(path, rng)
            except Busy:
                retries += 1
                continue
            except (OSError, SystemExit, struct.error, IndexError):
                errors += 1     # the server dropped us: expected
            break
    stop.set()
    t.join()
    total = good["ok"] + good["busy"] + good["fail"]
    print("good_ok=%d good_busy=%d good_fail=%d good_total=%d hostile=%d "
          "hostile_busy_retries=%d hostile_dropped=%d" %
          (good["ok"], good["busy"], good["fail"], total, conns, retries,
           errors))
    for why, n in sorted(fail_why.items()):
        print("good_fail_why %d %s" % (n, why))


if __name__ == "__main__":
    main()
