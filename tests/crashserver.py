"""crashserver.py SOCKET BACKEND CMD [hang]: a vfio-user server that
crashes on a given request, for tests/replay.bats.  It accepts one client
on SOCKET, passes every message (descriptors included) on to the real
server listening on BACKEND and back, and kills itself with SIGSEGV when
the client sends command number CMD (10: REGION_WRITE); with "hang" it
stops answering instead, and waits for its end.
"""
import os
import select
import signal
import socket
import struct
import sys


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def recv_msg(s):
    """(bytes, fds) of one whole message, or None when s has closed."""
    h, fds, _, _ = socket.recv_fds(s, 16, 253)
    if not h:
        return None
    rest = recv_exact(s, 16 - len(h))
    if rest is None:
        return None
    h += rest
    size = struct.unpack_from("<I", h, 4)[0]
    body = recv_exact(s, size - 16)
    if body is None:
        return None
    return h + body, fds


def send_msg(s, m, fds):
    if fds:
        socket.send_fds(s, [m], fds)
        for fd in fds:
            os.close(fd)
    else:
        s.sendall(m)


def main():
    path, backend, crash_cmd = sys.argv[1], sys.argv[2], int(sys.argv[3])
    hang = sys.argv[4:] == ["hang"]
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(1)
    client, _ = ls.accept()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(backend)
    peer = {client: server, server: client}
    while True:
        for s in select.select([client, server], [], [])[0]:
            got = recv_msg(s)
            if got is None:
                return
            m, fds = got
            cmd, flags = struct.unpack_from("<H", m, 2)[0], m[8] & 0xf
            if s is client and cmd == crash_cmd and flags == 0:
                if hang:
                    signal.pause()
                os.kill(os.getpid(), signal.SIGSEGV)
            send_msg(peer[s], m, fds)


main()
