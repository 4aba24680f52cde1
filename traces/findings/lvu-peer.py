"""lvu-peer.py - the two robustness bugs vfuctl fuzz found in libvfio-user's
sample servers, played by hand and deterministically (see the findings
section of traces/README.md; tests/fuzz-peers.bats runs it).

    python3 traces/findings/lvu-peer.py [--trace] CASE SOCKET

CASE unread-body: after VERSION, a header that is not a command (message
type 2), 32 bytes long, whose 16-byte body is itself a header (DEVICE_RESET,
msg_id 0x0bad, msg_size 4096); then DEVICE_GET_INFO.  libvfio-user rejects
the first header without reading its body, takes that body for the next
header, and swallows the DEVICE_GET_INFO as its body: it never answers it.

CASE split: after VERSION, DEVICE_GET_INFO in two writes, the second only
once the server has read the first (SIOCOUTQ 0).  A stream socket has no
message boundaries, but libvfio-user reads a body with one recv() and
refuses the short read with EINVAL; the rest of the message is then read
as a header.

Prints each reply, "reply MSG_ID CMD ERRNO", then "end" when none came for
3 s or "closed" when the server closed the connection.  With --trace it
prints the session instead as vfuctl-trace(5) record lines for vfuctl
import: what was sent and received, the split annotated as vfuctl fuzz
does, and for a command never answered an error reply standing in for it,
so that vfuctl replay waits for that reply (vfuctl fuzz's convention).
"""
import fcntl
import json
import select
import socket
import struct
import sys
import termios
import time

VERSION, GET_INFO, RESET = 1, 4, 13
F_ERROR = 0x20
JSON = b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}}\0'
SIOCOUTQ = termios.TIOCOUTQ  # the same number on Linux
EINVAL = 22
WHAT = {
    "unread-body": "libvfio-user finding: a rejected header's body is left "
    "in the stream and read as the next header; the DEVICE_GET_INFO after "
    "it is swallowed and never answered (vfuctl fuzz: hang)",
    "split": "libvfio-user finding: a command whose body comes in a second "
    "write is refused with EINVAL (short read), and the rest of it is read "
    "as a header (vfuctl fuzz: split delivery)",
}


class Session:
    def __init__(self, path, trace):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.trace = trace
        self.seq = {"c2s": 0, "s2c": 0}
        self.record("open")

    def record(self, kind, direction="c2s", data=None, text=None):
        if not self.trace:
            return
        r = {"t_ns": time.time_ns(), "kind": kind, "conn": 1, "endpoint": 0,
             "chan": "main", "dir": direction, "seq": 0}
        if kind == "message":
            r["seq"] = self.seq[direction]
            self.seq[direction] += 1
            r["fds"] = []
            r["hex"] = data.hex()
        if text is not None:
            r["text"] = text
        print(json.dumps(r, separators=(",", ":")))

    def send(self, msg):
        self.record("message", "c2s", msg)
        self.s.sendall(msg)

    def send_split(self, msg, at):
        """msg in two writes, the second once the server read the first."""
        self.record("annotation", text="vfuctl fuzz: the next message went "
                    "in two writes, its descriptors with the second: the "
                    "first %d bytes alone" % at)
        self.record("message", "c2s", msg)
        self.s.sendall(msg[:at])
        for _ in range(5000):   # up to 5 s for the server to read it
            left = fcntl.ioctl(self.s, SIOCOUTQ, b"\0" * 4)
            if struct.unpack("i", left)[0] == 0:
                break
            select.select([], [], [], 0.001)
        self.s.sendall(msg[at:])

    def reply(self):
        """The next message, or None when the server closed."""
        h = self.s.recv(16, socket.MSG_WAITALL)
        if len(h) < 16:
            return None
        mid, cmd, size, flags, err = struct.unpack("<HHIII", h)
        body = self.s.recv(size - 16, socket.MSG_WAITALL) if size > 16 else b""
        self.record("message", "s2c", h + body)
        return mid, cmd, err if flags & F_ERROR else 0

    def replies(self, owed):
        """Every reply until none comes for 3 s or the server closes; the
        (msg_id, cmd) in owed that got none get a stand-in."""
        got = set()
        end = "end"
        while select.select([self.s], [], [], 3)[0]:
            r = self.reply()
            if r is None:
                end = "closed"
                break
            got.add(r[0])
            if not self.trace:
                print("reply 0x%04x %d %d" % r)
        for mid, cmd in owed:
            if mid not in got:
                self.record("annotation", text="vfuctl fuzz: the server "
                            "never answered the next command; the error "
                            "reply below stands in for it, so that vfuctl "
                            "replay waits for it")
                self.record("message", "s2c", header(mid, cmd, 16,
                            0x1 | F_ERROR, EINVAL))
        if end == "closed":
            self.record("annotation", text="the server closed the connection")
        self.record("close")
        if not self.trace:
            print(end)


def header(mid, cmd, size, flags=0, err=0):
    return struct.pack("<HHIII", mid, cmd, size, flags, err)


def get_info(mid):
    return header(mid, GET_INFO, 32) + struct.pack("<IIII", 16, 0, 0, 0)


def main():
    args = sys.argv[1:]
    trace = args[:1] == ["--trace"]
    if trace:
        args = args[1:]
    if len(args) != 2 or args[0] not in ("unread-body", "split"):
        sys.exit("usage: lvu-peer.py [--trace] unread-body|split SOCKET")
    ses = Session(args[1], trace)
    ses.record("annotation", text=WHAT[args[0]])
    ses.send(header(1, VERSION, 16 + 4 + len(JSON)) +
             struct.pack("<HH", 0, 2) + JSON)
    ses.reply()
    if args[0] == "unread-body":
        ses.send(header(2, GET_INFO, 32, flags=2) + header(0x0bad, RESET, 4096))
        ses.send(get_info(3))
        ses.replies([(3, GET_INFO)])
    else:
        ses.send_split(get_info(2), 20)
        ses.replies([(2, GET_INFO)])


main()
