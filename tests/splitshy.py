"""splitshy.py SOCKET BACKEND: a vfio-user server that cannot take a
message in pieces, as libvfio-user's socket transport (traces/findings/
lvu-split.txt), for tests/fuzz.bats.  It serves clients on SOCKET one at a
time and passes every message on to the real server at BACKEND and back,
but reads a header with one recvmsg() and a body with one recv(): a body
that has not all come yet is refused with an EINVAL reply, and what is
left of it is read as the next header; a header that comes short ends the
connection.
"""
import os
import select
import socket
import struct
import sys

F_REPLY, F_ERROR, EINVAL = 0x1, 0x20, 22


def relay(c, b):
    """Serve client c through backend b until either closes."""
    while True:
        ready = select.select([c, b], [], [])[0]
        if b in ready:
            data, fds, _, _ = socket.recv_fds(b, 1 << 20, 253)
            if not data:
                return
            if fds:
                socket.send_fds(c, [data], fds)
            else:
                c.sendall(data)
            for fd in fds:
                os.close(fd)
        if c not in ready:
            continue
        h, fds, _, _ = socket.recv_fds(c, 16, 253)
        if len(h) < 16:
            return
        mid, cmd, size = struct.unpack("<HHI", h[:8])
        if size < 16 or size > 1 << 21:
            return      # no body to read: ends the connection
        body = c.recv(size - 16) if size > 16 else b""
        if len(body) < size - 16:
            c.sendall(struct.pack("<HHIII", mid, cmd, 16, F_REPLY | F_ERROR,
                                  EINVAL))
        elif fds:
            socket.send_fds(b, [h + body], fds)
        else:
            b.sendall(h + body)
        for fd in fds:
            os.close(fd)


def main():
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sys.argv[1])
    ls.listen(4)
    while True:
        c, _ = ls.accept()
        b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        b.connect(sys.argv[2])
        try:
            relay(c, b)
        except OSError:
            pass
        c.close()
        b.close()


main()
