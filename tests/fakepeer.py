"""fakepeer.py - message framing for the tests' scripted vfio-user peers
(tests/client.bats and tests/record.bats), which play servers vfuctl has
no way to be: exact byte sequences, DMA at awkward moments.
"""
import socket
import struct
import sys


def listen_once(path):
    """Accept one connection on a new UNIX socket at path."""
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(1)
    c, _ = ls.accept()
    return c


def recv_exact(s, n):
    """n bytes from s; the peer closing ends the script quietly."""
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            sys.exit(0)
        b += d
    return b


def recv_msg(s):
    """(msg_id, cmd, flags, errno, payload) of the next message."""
    mid, cmd, size, flags, err = struct.unpack("<HHIII", recv_exact(s, 16))
    return mid, cmd, flags, err, recv_exact(s, size - 16)


def recv_msg_fds(s, maxfds=253):
    """recv_msg()'s tuple and the descriptors that came with the header."""
    h, fds, _, _ = socket.recv_fds(s, 16, maxfds)
    if not h:
        sys.exit(0)
    h += recv_exact(s, 16 - len(h))
    mid, cmd, size, flags, err = struct.unpack("<HHIII", h)
    return mid, cmd, flags, err, recv_exact(s, size - 16), fds


def send_msg(s, mid, cmd, flags, payload=b"", fds=()):
    """One message, its descriptors on the first byte."""
    m = struct.pack("<HHIII", mid, cmd, 16 + len(payload), flags, 0) + payload
    if fds:
        socket.send_fds(s, [m], list(fds))
    else:
        s.sendall(m)
