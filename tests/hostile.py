"""hostile.py - clients that attack vfuctl server, for tests/server.bats and
bench/hostile.sh.  Each attack prints what the server answered, one
"name value" a line, and leaves the server to the next client.

    python3 tests/hostile.py ATTACK SOCKET
"""
import os
import select
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakepeer  # noqa: E402

VERSION, DMA_MAP, REGION_INFO, REGION_READ, REGION_WRITE = 1, 2, 5, 9, 10
F_ERROR = 0x20
DMA_ADDR = 0x100000
# tests/devices/dma.json: the engine's registers in bar0, its buffer bar2
BAR0, BAR2 = 0, 2
ENG_ADDR, ENG_LEN, ENG_DIR, ENG_GO, ENG_STATUS = 0x0, 0x8, 0xc, 0x10, 0x14


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)    # a server that never answers fails, not hangs
    if path.startswith("@"):
        path = "\0" + path[1:]
    s.connect(path)
    return s


def xfer(s, mid, cmd, payload=b"", fds=()):
    """Send a command; (errno or 0, reply body, reply fds)."""
    fakepeer.send_msg(s, mid, cmd, 0, payload, fds)
    rid, rcmd, flags, err, body, rfds = fakepeer.recv_msg_fds(s)
    return (err if flags & F_ERROR else 0), body, rfds


def version(s):
    err, _, _ = xfer(s, 1, VERSION, struct.pack("<HH", 0, 2) +
                     b'{"capabilities":{"max_msg_fds":8}}\0')
    return err


def dma_map(s, mid, fd, size, off=0, addr=DMA_ADDR):
    return xfer(s, mid, DMA_MAP, struct.pack("<IIQQQ", 32, 3, off, addr,
                                             size), (fd,))[0]


def write32(s, mid, region, off, val):
    return xfer(s, mid, REGION_WRITE, struct.pack("<QIII", off, region, 4,
                                                  val))[0]


def read(s, mid, region, off, n):
    err, body, _ = xfer(s, mid, REGION_READ, struct.pack("<QII", off, region,
                                                         n))
    return err, body[16:]


def memfd(size):
    fd = os.memfd_create("hostile")
    os.ftruncate(fd, size)
    return fd


def engine_dma(s, n):
    """Run the device's DMA engine: n bytes to client memory at DMA_ADDR;
    returns its status register (1 done, 2 error)."""
    write32(s, 10, BAR0, ENG_ADDR, DMA_ADDR)
    write32(s, 11, BAR0, ENG_ADDR + 4, 0)
    write32(s, 12, BAR0, ENG_LEN, n)
    write32(s, 13, BAR0, ENG_DIR, 0)
    write32(s, 14, BAR0, ENG_GO, 1)
    err, data = read(s, 15, BAR0, ENG_STATUS, 4)
    return struct.unpack("<I", data)[0] if not err else -err


def short_memfd(s):
    """DMA_MAP a 64 KiB window over a 4 KiB memfd, then DMA into it."""
    version(s)
    fd = memfd(4096)
    print("map", dma_map(s, 2, fd, 65536))
    print("dma_status", engine_dma(s, 8192))


def shrink(s):
    """Map a 16 KiB memfd, shrink it to 0, then DMA into it."""
    version(s)
    fd = memfd(16384)
    print("map", dma_map(s, 2, fd, 16384))
    os.ftruncate(fd, 0)
    print("dma_status", engine_dma(s, 8192))


def bar_truncate(s):
    """Take bar2's mmap fd, try to truncate it, then read bar2."""
    version(s)
    err, body, fds = xfer(s, 2, REGION_INFO, struct.pack("<IIIIQQ", 256, 0,
                                                         BAR2, 0, 0, 0))
    print("region_info", err, "fds", len(fds))
    try:
        os.ftruncate(fds[0], 0)
        print("truncate done")
    except OSError as e:
        print("truncate", e.errno)
    err, data = read(s, 3, BAR2, 4096 * 3, 8)
    print("read", err, data.hex())


def serve_check(s):
    """A well-behaved client: VERSION, then bar2's first 4 bytes."""
    print("version", version(s))
    err, data = read(s, 2, BAR2, 0, 4)
    print("read", err, data.hex())


def short_argsz(s):
    """Commands whose argsz is smaller than their own structure; the
    server must answer EINVAL (22), as the kernel's VFIO does."""
    version(s)
    fd = memfd(4096)
    tries = [
        ("DEVICE_GET_INFO", 4, struct.pack("<IIII", 8, 0, 0, 0), ()),
        ("DMA_MAP", DMA_MAP, struct.pack("<IIQQQ", 16, 3, 0, DMA_ADDR, 4096),
         (fd,)),
        ("DMA_UNMAP", 3, struct.pack("<IIQQ", 8, 0, DMA_ADDR, 4096), ()),
        # data_none | trigger, MSI-X vector 0
        ("DEVICE_SET_IRQS", 8, struct.pack("<IIIII", 8, 0x21, 2, 0, 1), ()),
    ]
    for mid, (name, cmd, payload, fds) in enumerate(tries, 2):
        print(name, xfer(s, mid, cmd, payload, fds)[0])
    # the same with the right argsz succeed
    print("DMA_MAP argsz 32", dma_map(s, 9, fd, 4096))
    print("DEVICE_SET_IRQS argsz 20", xfer(s, 10, 8, struct.pack(
        "<IIIII", 20, 0x21, 2, 0, 1))[0])


def no_read(s):
    """Ask for 2000 reads of bar2's 16 KiB, take no reply, and wait
    until the server hangs up (POLLHUP: its end closed)."""
    version(s)
    req = b"".join(struct.pack("<HHIII", 2 + i, REGION_READ, 32, 0, 0) +
                   struct.pack("<QII", 0, BAR2, 16384) for i in range(2000))
    s.sendall(req)
    p = select.poll()
    p.register(s, 0)
    if any(ev & select.POLLHUP for _, ev in p.poll(20000)):
        print("hup")


def wait_close(s):
    """Block until the server closes the connection."""
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    print("closed")


def idle(s):
    """Connect and send nothing."""
    wait_close(s)


def slow(s):
    """Send the first 5 bytes of VERSION's header, then nothing more."""
    s.sendall(struct.pack("<HHIII", 1, VERSION, 24, 0, 0)[:5])
    wait_close(s)


def hold(s):
    """Negotiate, say so, and stay attached until the server lets go."""
    print("attached", version(s))
    sys.stdout.flush()
    wait_close(s)


ATTACKS = {f.__name__.replace("_", "-"): f for f in
           (short_memfd, shrink, bar_truncate, serve_check, idle, slow,
            hold, short_argsz, no_read)}

if __name__ == "__main__":
    sock = connect(sys.argv[2])
    ATTACKS[sys.argv[1]](sock)
    sys.stdout.flush()
