#!/usr/bin/env python3
"""sreplay-client.py [--eager] JSONL SOCKET: play the client side of a
captured session (JSON lines: ../shared/vectors, or `vfuctl dissect -o
jsonl` of a trace) to a server, strictly in the recorded order, and check
that the server sends what was recorded.  With --eager every command goes
out at once, before anything is read (pipelined, ahead of the replies the
client owes to the server's DMA requests).

Each c2s line is sent as recorded, with fresh descriptors of the recorded
kinds (a memfd of the recorded size, an eventfd); a c2s reply to a server
command gets that command's live msg_id.  Each s2c line is read from its
channel and must equal the recorded message but for the msg_id of a
server command (the server numbers its own) and carry descriptors of the
recorded kinds (and sizes, for memfds and files).
A twin socket the VERSION reply brings is used for the twin channel.
Exit 0 when everything matched, 1 with the first mismatch on stderr, 2 on
bad input.  Used by tests/server-replay.bats against vfuctl server --replay.
"""
import json
import os
import socket
import struct
import sys

HDR = 16
REPLY = 0x1


def fresh_fd(kind, size):
    if kind == "eventfd":
        return os.eventfd(0)
    fd = os.memfd_create("sreplay-client")
    os.ftruncate(fd, size or 0)
    return fd


def fd_kind(fd):
    """The vectors' name of what fd is, and its size."""
    link = os.readlink("/proc/self/fd/%d" % fd)
    if link.startswith("/memfd:"):
        return "memfd", os.fstat(fd).st_size
    if "eventfd" in link:
        return "eventfd", None
    if link.startswith("socket:"):
        return "socket", None
    return "file", os.fstat(fd).st_size


def recorded_kind(f):
    kind = f.get("kind")
    return kind, f.get("size") if kind in ("memfd", "file") else None


def recv_exact(sock, n, want_fds):
    data, fds = b"", []
    while len(data) < n:
        if want_fds and not data:
            chunk, got, _, _ = socket.recv_fds(sock, n, 253)
            fds += got
        else:
            chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the server closed the connection")
        data += chunk
    return data, fds


def recv_msg(sock):
    hdr, fds = recv_exact(sock, HDR, True)
    size = struct.unpack_from("<I", hdr, 4)[0]
    body = b""
    if size > HDR:
        body, more = recv_exact(sock, size - HDR, False)
        fds += more
    return hdr + body, fds


def main():
    args = sys.argv[1:]
    eager = args[:1] == ["--eager"]
    if eager:
        args = args[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    recs = [json.loads(l) for l in open(args[0]) if l.strip()]
    recs = [r for r in recs if r.get("kind", "message") == "message"]
    main_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    main_sock.connect(args[1])
    socks = {"main": main_sock}
    live_id = {}    # (chan, cmd, recorded id) of a server command -> live id

    def send(r, chan, msg):
        fds = [fresh_fd(f.get("kind"), f.get("size")) for f in r["fds"]]
        if fds:
            socket.send_fds(socks[chan], [msg], fds)
            for fd in fds:
                os.close(fd)
        else:
            socks[chan].sendall(msg)

    def is_command(r):
        return r["dir"] == "c2s" and not \
            struct.unpack_from("<I", bytes.fromhex(r["hex"]), 8)[0] & REPLY
    if eager:
        for r in recs:
            if is_command(r):
                send(r, r.get("chan", "main"), bytes.fromhex(r["hex"]))
    for i, r in enumerate(recs):
        msg = bytes.fromhex(r["hex"])
        chan = r.get("chan", "main")
        mid, cmd, _, flags = struct.unpack_from("<HHII", msg)
        if r["dir"] == "c2s":
            if flags & REPLY:
                mid = live_id.get((chan, cmd, mid), mid)
                send(r, chan, struct.pack("<H", mid) + msg[2:])
            elif not eager:
                send(r, chan, msg)
            continue
        got, fds = recv_msg(socks[chan])
        gid, gcmd, _, gflags = struct.unpack_from("<HHII", got)
        if not flags & REPLY:
            live_id[(chan, cmd, mid)] = gid
            mid = gid
        kinds = [fd_kind(fd) for fd in fds]
        want = [recorded_kind(f) for f in r["fds"]]
        if got[2:] != msg[2:] or gid != mid or kinds != want:
            print("record %d (seq %s): expected %s with fds %s, got %s "
                  "with %s" % (i, r.get("seq"), msg.hex(), want, got.hex(),
                               kinds), file=sys.stderr)
            return 1
        for fd in fds:
            if cmd == 1 and "twin" not in socks:
                socks["twin"] = socket.socket(fileno=fd)
            else:
                os.close(fd)
    for s in socks.values():
        s.close()
    print("%d records played" % len(recs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
