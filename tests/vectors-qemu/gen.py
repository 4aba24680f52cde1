#!/usr/bin/env python3
"""Generate the synthetic QEMU vfio-user vectors in this directory.

Standard library only, deterministic: running it twice writes the same bytes.

    python3 gen.py            write the five .jsonl files next to this script
    python3 gen.py --check    validate the files on disk, check that they are
                              what this script generates, and (if the real
                              captures are present) that the shared message
                              builders reproduce QEMU's captured bytes

Every message is built from field values by the small builders below; the
layouts and the rules for flags, sizes, splitting and numbering are facts
read from QEMU's hw/vfio-user/ sources (see README.md for the file, function
and stored commit behind each one).  No QEMU code is used here.
"""

import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = "/work/shared/vectors"

# command numbers
VERSION, DMA_MAP, DMA_UNMAP, GET_INFO, GET_REGION_INFO = 1, 2, 3, 4, 5
GET_IRQ_INFO, SET_IRQS, REGION_READ, REGION_WRITE = 7, 8, 9, 10
DMA_READ, DMA_WRITE, DEVICE_RESET, REGION_WRITE_MULTI = 11, 12, 13, 15

# header flags
REPLY, NO_REPLY, ERROR = 0x1, 0x10, 0x20

# errno values (Linux)
EINVAL, E2BIG, ENODEV, ENOSYS = 22, 7, 19, 38

# DEVICE_SET_IRQS flags and indexes (linux/vfio.h values)
IRQ_DATA_NONE, IRQ_DATA_EVENTFD, IRQ_ACTION_TRIGGER = 0x1, 0x4, 0x20
INTX, MSI, MSIX, ERR_IRQ = 0, 1, 2, 3
IRQ_INFO_EVENTFD = 0x1

CONFIG = 7                       # PCI config space region index
RAM_SIZE = 128 << 20             # guest RAM of the captured QEMU runs
BIOS_BASE, BIOS_SIZE = 0xFFFC0000, 0x40000

# QEMU's VERSION capabilities, byte for byte as in qemu-gpio-boot.jsonl seq 0
QEMU_CAPS = (b'{"capabilities": {"pgsizes": 4096, "max_msg_fds": 16, '
             b'"max_dma_maps": 65535, "max_data_xfer_size": 1048576, '
             b'"migration": {"max_bitmap_size": 268435456, "pgsize": 4096}, '
             b'"write_multiple": true}}')

MULTI_MAX = 200                  # entries in one REGION_WRITE_MULTI
MULTI_DATA = 8                   # data bytes per entry
MULTI_ENTRY = 24                 # u64 offset, u32 region, u32 count, 8 data
OUT_HIGH = 1024                  # QEMU coalesces once > this many are queued
DMARW_SIZE = 32                  # sizeof QEMU's DMA read/write struct (x86_64)
DMARW_DATA = 28                  # offset of its data[] from message start


# --------------------------------------------------------------- builders

def msg(msg_id, cmd, payload=b"", flags=0, err=0):
    """A whole message: 16-byte header + payload; msg_size counts both."""
    return struct.pack("<HHIII", msg_id & 0xFFFF, cmd, 16 + len(payload),
                       flags, err) + payload


def reply_to(req, payload=b""):
    mid, cmd = struct.unpack_from("<HH", req)
    return msg(mid, cmd, payload, REPLY)


def error_to(req, errno):
    mid, cmd = struct.unpack_from("<HH", req)
    return msg(mid, cmd, b"", REPLY | ERROR, errno)


def version_cmd(mid):
    return msg(mid, VERSION, struct.pack("<HH", 0, 0) + QEMU_CAPS + b"\0")


def version_reply(mid, caps):
    body = json.dumps({"capabilities": caps}).encode()
    return msg(mid, VERSION, struct.pack("<HH", 0, 0) + body + b"\0", REPLY)


def dma_map(mid, iova, size, writable, offset=0):
    flags = 0x1 | (0x2 if writable else 0)
    return msg(mid, DMA_MAP, struct.pack("<IIQQQ", 32, flags, offset, iova, size))


def get_info(mid):
    return msg(mid, GET_INFO, struct.pack("<IIII", 16, 0, 0, 0))


def get_info_reply(req, nregions, nirqs, flags=0x3):
    return reply_to(req, struct.pack("<IIII", 16, flags, nregions, nirqs))


def region_info(mid, index):
    return msg(mid, GET_REGION_INFO, struct.pack("<IIIIQQ", 32, 0, index, 0, 0, 0))


def region_info_reply(req, index, flags, size):
    return reply_to(req, struct.pack("<IIIIQQ", 32, flags, index, 0, size, 0))


def irq_info(mid, index):
    return msg(mid, GET_IRQ_INFO, struct.pack("<IIII", 16, 0, index, 0))


def irq_info_reply(req, index, flags, count):
    return reply_to(req, struct.pack("<IIII", 16, flags, index, count))


def set_irqs(mid, index, start, count, flags):
    # QEMU sends argsz 20 (the fixed part only); eventfds go as SCM_RIGHTS
    return msg(mid, SET_IRQS, struct.pack("<IIIII", 20, flags, index, start, count))


def region_read(mid, region, offset, count):
    return msg(mid, REGION_READ, struct.pack("<QII", offset, region, count))


def region_read_reply(req, data):
    offset, region, count = struct.unpack_from("<QII", req, 16)
    assert len(data) == count
    return reply_to(req, struct.pack("<QII", offset, region, count) + data)


def region_write(mid, region, offset, data, posted=False):
    return msg(mid, REGION_WRITE, struct.pack("<QII", offset, region, len(data)) + data,
               NO_REPLY if posted else 0)


def region_write_reply(req):
    # the server echoes the access header without the data (as in the captures)
    return reply_to(req, req[16:32])


def write_multi(mid, writes):
    """writes: list of (region, offset, data) with len(data) <= 8."""
    assert 1 <= len(writes) <= MULTI_MAX
    body = struct.pack("<Q", len(writes))
    for region, offset, data in writes:
        assert len(data) <= MULTI_DATA
        body += struct.pack("<QII", offset, region, len(data)) + data.ljust(MULTI_DATA, b"\0")
    return msg(mid, REGION_WRITE_MULTI, body, NO_REPLY)


def dma_rw(mid, cmd, addr, count, data=b"", flags=0):
    """QEMU's DMA form: u64 address, u32 count, data at payload 12, and the
    message padded to sizeof(struct) + count, i.e. 4 bytes after the data
    (QEMU rejects anything shorter)."""
    return msg(mid, cmd, struct.pack("<QI", addr, count) + data + b"\0" * 4, flags)


def dma_read_reply(req, data):
    """What QEMU answers to a DMA_READ that succeeds: the first 32 bytes of the
    request copied, data written at byte 28, message count + 32 bytes long
    (so 4 zero bytes follow the data), flags REPLY."""
    count = struct.unpack_from("<I", req, 24)[0]
    assert len(data) == count and len(req) >= DMARW_SIZE
    buf = bytearray(count + DMARW_SIZE)
    buf[:DMARW_SIZE] = req[:DMARW_SIZE]
    buf[DMARW_DATA:DMARW_DATA + count] = data
    struct.pack_into("<II", buf, 4, len(buf), REPLY)
    return bytes(buf)


# ------------------------------------------------------------ the session

EVENTFD = {"kind": "eventfd"}
RAM_FD = {"kind": "memfd", "size": RAM_SIZE}


class Session:
    def __init__(self, first_id=0):
        self.lines = []
        self.t = 1800000
        self.qid = first_id & 0xFFFF   # QEMU's process-wide command counter
        self.sid = 1                   # the synthetic server's own counter

    def next_qid(self):
        mid = self.qid
        self.qid = (self.qid + 1) & 0xFFFF
        return mid

    def next_sid(self):
        mid = self.sid
        self.sid += 1
        return mid

    def emit(self, direction, data, fds=(), gap=120000):
        self.t += gap
        self.lines.append({"seq": len(self.lines), "t_ns": self.t, "dir": direction,
                           "nfds": len(fds), "fds": [dict(f) for f in fds],
                           "hex": data.hex()})
        return data

    def c2s(self, data, fds=(), gap=120000):
        return self.emit("c2s", data, fds, gap)

    def s2c(self, data, fds=(), gap=120000):
        return self.emit("s2c", data, fds, gap)

    def call(self, data, answer, fds=(), gap=120000):
        """QEMU command sent with vfio_user_send_wait: the reply comes back
        before QEMU sends anything else."""
        self.c2s(data, fds, gap)
        self.s2c(answer(data) if callable(answer) else answer, gap=95000)
        return data

    def text(self):
        return "".join(json.dumps(line) + "\n" for line in self.lines)


class Device:
    """The synthetic server's device: regions {index: (flags, size)},
    a 256-byte config space and scratch memory behind the BARs."""

    def __init__(self, vendor, device, bars, msix_vectors=0, err_count=0):
        self.bars = bars                     # {bar: ("mem"|"io", size)}
        self.msix_vectors = msix_vectors
        self.err_count = err_count
        cfg = bytearray(256)
        struct.pack_into("<HH", cfg, 0x00, vendor, device)
        cfg[0x0B] = 0xFF                     # class: unassigned
        for bar, (kind, _) in bars.items():
            struct.pack_into("<I", cfg, 0x10 + 4 * bar, 0x1 if kind == "io" else 0x0)
        struct.pack_into("<HH", cfg, 0x2C, vendor, device)
        if msix_vectors:
            struct.pack_into("<H", cfg, 0x06, 0x0010)        # capability list
            cfg[0x34] = 0x70
            cfg[0x70], cfg[0x71] = 0x11, 0x00                # MSI-X, last cap
            struct.pack_into("<HII", cfg, 0x72, msix_vectors - 1, 0x0, 0x800)
        self.config = bytes(cfg)
        self.mem = {bar: bytearray(size) for bar, (_, size) in bars.items()}

    def region_flags_size(self, index):
        if index == CONFIG:
            return 0x3, 256
        if index in self.bars:
            return 0x3, self.bars[index][1]      # READ|WRITE, never MMAP
        return 0x0, 0

    def read(self, region, offset, count):
        if region == CONFIG:
            return self.config[offset:offset + count]
        return bytes(self.mem[region][offset:offset + count])

    def write(self, region, offset, data):
        if region != CONFIG:
            self.mem[region][offset:offset + len(data)] = data


def server_caps(write_multiple=False):
    caps = {"max_msg_fds": 8, "max_data_xfer_size": 1048576}
    if write_multiple:
        caps["write_multiple"] = True
    return caps


def realize(s, dev, caps):
    """QEMU's realize-time traffic, in the order qemu-gpio-boot shows it,
    shortened (see README.md)."""
    s.call(version_cmd(s.next_qid()), lambda r: version_reply(struct.unpack_from("<H", r)[0], caps))
    # the listener maps RAM and the BIOS ROM without waiting, then waits
    m1 = s.c2s(dma_map(s.next_qid(), 0, RAM_SIZE, True), fds=[RAM_FD])
    m2 = s.c2s(dma_map(s.next_qid(), BIOS_BASE, BIOS_SIZE, False))
    s.s2c(reply_to(m1), gap=520000)
    s.s2c(reply_to(m2), gap=160000)
    s.call(get_info(s.next_qid()), lambda r: get_info_reply(r, 9, 5))
    for index in (0, 1, 2, 3, 4, 5, CONFIG):
        flags, size = dev.region_flags_size(index)
        s.call(region_info(s.next_qid(), index),
               lambda r, i=index, f=flags, z=size: region_info_reply(r, i, f, z))
    s.call(irq_info(s.next_qid(), ERR_IRQ),
           lambda r: irq_info_reply(r, ERR_IRQ, IRQ_INFO_EVENTFD, dev.err_count))
    cfg_read(s, dev, 0, 256)
    # expansion ROM sizing at 0x30: the device has none
    cfg_read(s, dev, 0x30, 4)
    cfg_write(s, dev, 0x30, struct.pack("<I", 0xFFFFF800))
    cfg_read(s, dev, 0x30, 4)
    cfg_write(s, dev, 0x30, struct.pack("<I", 0))
    for bar in sorted(dev.bars):
        cfg_read(s, dev, 0x10 + 4 * bar, 4)
    if dev.msix_vectors:
        cfg_read(s, dev, 0x72, 2)
        cfg_read(s, dev, 0x74, 4)
        cfg_read(s, dev, 0x78, 4)
        s.call(irq_info(s.next_qid(), MSIX),
               lambda r: irq_info_reply(r, MSIX, IRQ_INFO_EVENTFD, dev.msix_vectors))
    cfg_read(s, dev, 0x3D, 1)                      # interrupt pin: 0, no INTx


def machine_reset(s, dev):
    """QEMU's reset of the device at machine reset (qemu-gpio-boot seq 44-67,
    minus the INTx steps: these devices have no interrupt pin)."""
    cfg_read(s, dev, 0x04, 2, gap=15000000)        # command register ...
    cfg_write(s, dev, 0x04, struct.pack("<H", 0))  # ... cleared
    s.call(msg(s.next_qid(), DEVICE_RESET), reply_to)
    cfg_read(s, dev, 0x3D, 1)
    for bar in range(6):
        cfg_write(s, dev, 0x10 + 4 * bar, struct.pack("<I", 0))


def boot(s, dev, caps):
    realize(s, dev, caps)
    machine_reset(s, dev)


def cfg_read(s, dev, offset, count, gap=120000):
    s.call(region_read(s.next_qid(), CONFIG, offset, count),
           lambda r: region_read_reply(r, dev.read(CONFIG, offset, count)), gap=gap)


def cfg_write(s, dev, offset, data, gap=120000):
    s.call(region_write(s.next_qid(), CONFIG, offset, data), region_write_reply, gap=gap)


def bar_read(s, dev, bar, offset, count, gap=120000):
    s.call(region_read(s.next_qid(), bar, offset, count),
           lambda r: region_read_reply(r, dev.read(bar, offset, count)), gap=gap)


def bar_write_sync(s, dev, bar, offset, data, gap=120000):
    s.call(region_write(s.next_qid(), bar, offset, data), region_write_reply, gap=gap)
    dev.write(bar, offset, data)


def bar_write_posted(s, dev, bar, offset, data, gap=40000):
    s.c2s(region_write(s.next_qid(), bar, offset, data, posted=True), gap=gap)
    dev.write(bar, offset, data)


def guest_enables(s, dev, bar0=0xFEBF0000, command=0x0006):
    cfg_write(s, dev, 0x10, struct.pack("<I", bar0), gap=4000000)
    if 2 in dev.bars:
        cfg_write(s, dev, 0x18, struct.pack("<I", 0xC001))
    cfg_write(s, dev, 0x04, struct.pack("<H", command))


def pattern(n, seed):
    return bytes((seed + 29 * i) & 0xFF for i in range(n))


# ------------------------------------------------------------------ files

def gen_dma_rw():
    s = Session()
    dev = Device(0x4E56, 0x0011, {0: ("mem", 0x1000)})
    boot(s, dev, server_caps())
    guest_enables(s, dev)                          # memory + bus master on
    ram = {}                                       # guest RAM the test touches

    def ram_read(addr, n):
        return bytes(ram.get(addr + i, pattern(1, (addr + i) * 7)[0]) for i in range(n))

    def ram_write(addr, data):
        for i, b in enumerate(data):
            ram[addr + i] = b

    # the guest rings a doorbell (memory BAR: posted, no reply) ...
    bar_write_posted(s, dev, 0, 0x0, struct.pack("<I", 1), gap=2000000)
    # ... and the device fetches a 64-byte descriptor from guest RAM
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0x7000, 64), gap=300000)
    s.c2s(dma_read_reply(r, ram_read(0x7000, 64)), gap=90000)
    # writes 64 bytes of result (reply: a bare header)
    out = pattern(64, 0x40)
    r = s.s2c(dma_rw(s.next_sid(), DMA_WRITE, 0x8000, 64, out))
    s.c2s(reply_to(r), gap=90000)
    ram_write(0x8000, out)
    # reads them back
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0x8000, 64))
    s.c2s(dma_read_reply(r, ram_read(0x8000, 64)), gap=90000)
    # a posted DMA_WRITE (no-reply flag): QEMU writes and answers nothing
    st = struct.pack("<IIII", 0xC0DE0001, 0, 64, 0)
    s.s2c(dma_rw(s.next_sid(), DMA_WRITE, 0x8040, 16, st, NO_REPLY))
    ram_write(0x8040, st)
    # a read of the BIOS ROM, mapped without a descriptor (message-only)
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0xFFFFFFF0, 16))
    s.c2s(dma_read_reply(r, pattern(16, 0xEA)), gap=90000)
    # a 1-byte read: count < 4, still a 33-byte reply
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0x8001, 1))
    s.c2s(dma_read_reply(r, ram_read(0x8001, 1)), gap=90000)

    # error answers: bare 16-byte headers, flags 0x21, errno in the header
    nowhere = 0x100000000                          # nothing there (128 MiB guest)
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, nowhere, 16), gap=1000000)
    s.c2s(error_to(r, ENODEV), gap=90000)
    r = s.s2c(dma_rw(s.next_sid(), DMA_WRITE, nowhere, 16, pattern(16, 1)))
    s.c2s(error_to(r, ENODEV), gap=90000)
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0x10000, 2 << 20))   # > max_data_xfer_size
    s.c2s(error_to(r, E2BIG), gap=90000)
    # the unpadded 28-byte form: shorter than QEMU's struct
    r = s.s2c(msg(s.next_sid(), DMA_READ, struct.pack("<QI", 0x7000, 16)))
    s.c2s(error_to(r, EINVAL), gap=90000)
    r = s.s2c(msg(s.next_sid(), DMA_WRITE, struct.pack("<QI", 0x8000, 16) + pattern(16, 2)))
    s.c2s(error_to(r, E2BIG), gap=90000)
    # a DMA_WRITE in the spec's form (u64 count, data at payload 16): QEMU
    # accepts it but writes the count's upper 4 bytes + the first 12 data bytes
    data = pattern(16, 3)
    r = s.s2c(msg(s.next_sid(), DMA_WRITE, struct.pack("<QQ", 0x8100, 16) + data))
    s.c2s(reply_to(r), gap=90000)
    ram_write(0x8100, b"\0" * 4 + data[:12])
    r = s.s2c(dma_rw(s.next_sid(), DMA_READ, 0x8100, 16))
    s.c2s(dma_read_reply(r, ram_read(0x8100, 16)), gap=90000)
    # a request that carries a descriptor, and a command QEMU does not serve
    r = s.s2c(dma_rw(s.next_sid(), DMA_WRITE, 0x8200, 8, pattern(8, 4)), fds=[EVENTFD])
    s.c2s(error_to(r, EINVAL), gap=90000)
    r = s.s2c(msg(s.next_sid(), DEVICE_RESET))
    s.c2s(error_to(r, ENOSYS), gap=90000)
    # the guest reads the device's status register; the session goes on
    bar_read(s, dev, 0, 0x4, 4, gap=2000000)
    return s


def gen_posted_writes():
    s = Session()
    dev = Device(0x4E56, 0x0012, {0: ("mem", 0x1000), 2: ("io", 0x100)})
    boot(s, dev, server_caps())
    guest_enables(s, dev, command=0x0003)          # I/O + memory decoding on
    # memory BAR: posted; only the read is answered
    bar_write_posted(s, dev, 0, 0x000, struct.pack("<I", 0x11223344), gap=2000000)
    bar_write_posted(s, dev, 0, 0x004, struct.pack("<I", 0x55667788))
    bar_write_posted(s, dev, 0, 0x008, struct.pack("<Q", 0x0123456789ABCDEF))
    bar_write_posted(s, dev, 0, 0x010, b"\xA5")
    bar_write_posted(s, dev, 0, 0x012, struct.pack("<H", 0xBEEF))
    bar_read(s, dev, 0, 0x000, 4, gap=60000)
    bar_read(s, dev, 0, 0x008, 8)
    # I/O-port BAR: always synchronous
    bar_write_sync(s, dev, 2, 0x00, b"\x5A", gap=1500000)
    bar_read(s, dev, 2, 0x00, 1)
    # posted writes, then a config-space write (synchronous), then a read
    for i in range(4):
        bar_write_posted(s, dev, 0, 0x100 + 4 * i, struct.pack("<I", 0xA0000000 + i),
                         gap=1500000 if i == 0 else 40000)
    cfg_write(s, dev, 0x04, struct.pack("<H", 0x0007), gap=60000)
    bar_write_posted(s, dev, 0, 0x110, struct.pack("<I", 0xFFFFFFFF))
    bar_read(s, dev, 0, 0x100, 8, gap=60000)
    bar_read(s, dev, 0, 0x110, 4)
    return s


def gen_write_multi():
    s = Session()
    dev = Device(0x4E56, 0x0013, {0: ("mem", 0x1000)})
    boot(s, dev, server_caps(write_multiple=True))
    guest_enables(s, dev, command=0x0002)
    bar_write_posted(s, dev, 0, 0x0, struct.pack("<I", 0), gap=2000000)
    # a burst of posted 4-byte writes while the server is slow to read:
    # the first OUT_HIGH + 1 still go out as single REGION_WRITEs
    for i in range(OUT_HIGH + 1):
        bar_write_posted(s, dev, 0, (4 * i) % 0x1000, struct.pack("<I", i), gap=3000)
    # with more than OUT_HIGH queued, further small posted writes coalesce;
    # the message is flushed when it reaches 200 entries
    w = [(0, (4 * i) % 0x1000, struct.pack("<I", 0x10000 + i)) for i in range(MULTI_MAX)]
    s.c2s(write_multi(s.next_qid(), w), gap=600000)
    for region, offset, data in w:
        dev.write(region, offset, data)
    # the next one collects 5 writes of mixed width and is flushed (sent
    # first) when the synchronous REGION_READ below is queued
    w = [(0, 0x20, b"\x01"), (0, 0x22, struct.pack("<H", 0x0302)),
         (0, 0x24, struct.pack("<I", 0x07060504)),
         (0, 0x28, struct.pack("<Q", 0x0F0E0D0C0B0A0908)),
         (0, 0x30, struct.pack("<I", 0xCAFEF00D))]
    s.c2s(write_multi(s.next_qid(), w), gap=30000)
    for region, offset, data in w:
        dev.write(region, offset, data)
    bar_read(s, dev, 0, 0x20, 8, gap=20000)
    bar_read(s, dev, 0, 0x28, 8)
    # back to normal: the queue is empty, single posted writes again
    bar_write_posted(s, dev, 0, 0x40, struct.pack("<I", 0x600DF00D), gap=3000000)
    bar_read(s, dev, 0, 0x40, 4, gap=60000)
    return s


def gen_set_irqs_split():
    s = Session()
    n = 20
    dev = Device(0x4E56, 0x0014, {0: ("mem", 0x1000)}, msix_vectors=n)
    boot(s, dev, server_caps())                    # server: max_msg_fds 8
    guest_enables(s, dev)
    # the guest sets MSI-X enable (function mask clear) while table entries
    # 0-9 and 12-19 are unmasked and 10, 11 masked
    cfg_write(s, dev, 0x72, struct.pack("<H", 0x8000 | (n - 1)), gap=3000000)
    # vfio_enable_msix_no_vec: vector 0 with fd -1 -> count 1, no descriptor
    s.call(set_irqs(s.next_qid(), MSIX, 0, 1, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER), reply_to)
    # then all 20 in chunks: at most max_msg_fds, and a chunk never mixes
    # valid and -1 entries
    valid = [i not in (10, 11) for i in range(n)]
    sent = 0
    while sent < n:
        limit = min(n - sent, 8)
        k = 1
        while k < limit and valid[sent + k] == valid[sent]:
            k += 1
        fds = [EVENTFD] * k if valid[sent] else []
        s.call(set_irqs(s.next_qid(), MSIX, sent, k, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER),
               reply_to, fds=fds)
        sent += k
    # later the guest unmasks vector 10: one vector, one descriptor
    s.call(set_irqs(s.next_qid(), MSIX, 10, 1, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER),
           reply_to, fds=[EVENTFD], gap=5000000)
    # MSI-X disable: config write, then all vectors de-assigned, no descriptors
    cfg_write(s, dev, 0x72, struct.pack("<H", n - 1), gap=8000000)
    s.call(set_irqs(s.next_qid(), MSIX, 0, 0, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER), reply_to)
    cfg_read(s, dev, 0x3D, 1)                      # back to INTx? pin 0: no
    return s


def gen_msgid_wrap():
    # QEMU's counter is one per process, not per connection: this device is
    # realized (e.g. hot-plugged) after earlier vfio-user traffic.  Its boot
    # sequence and two config writes come first; start the counter so that
    # the first BAR access gets 0xfffe.
    dev = Device(0x4E56, 0x0015, {2: ("io", 0x100)})
    dry = Session()
    boot(dry, dev, server_caps())
    s = Session(first_id=0xFFFE - dry.qid - 2)
    dev = Device(0x4E56, 0x0015, {2: ("io", 0x100)})
    boot(s, dev, server_caps())
    cfg_write(s, dev, 0x18, struct.pack("<I", 0xC001), gap=4000000)
    cfg_write(s, dev, 0x04, struct.pack("<H", 0x0001))
    assert s.qid == 0xFFFE
    for i in range(3):                             # 0xfffe ... 0x0003
        bar_read(s, dev, 2, 4 * i, 4, gap=1000000)
        bar_write_sync(s, dev, 2, 4 * i, struct.pack("<I", 0xFEED0000 + i))
    bar_read(s, dev, 2, 0, 4, gap=1000000)
    return s


FILES = {
    "qemu-dma-rw.jsonl": gen_dma_rw,
    "qemu-posted-writes.jsonl": gen_posted_writes,
    "qemu-write-multi.jsonl": gen_write_multi,
    "qemu-set-irqs-split.jsonl": gen_set_irqs_split,
    "qemu-msgid-wrap.jsonl": gen_msgid_wrap,
}


# ------------------------------------------------------------------ check

def validate(name, text):
    """The checks of the brief, plus layout checks for what these files show."""
    problems = []
    pending = {}            # (issuer dir, msg_id, cmd) -> count of open commands
    lines = text.splitlines()
    for n, line in enumerate(lines):
        d = json.loads(line)
        where = "%s seq %s" % (name, d.get("seq"))
        if list(d) != ["seq", "t_ns", "dir", "nfds", "fds", "hex"]:
            problems.append(where + ": unexpected keys %s" % list(d))
        if d["seq"] != n:
            problems.append(where + ": seq should be %d" % n)
        if n and d["t_ns"] <= json.loads(lines[n - 1])["t_ns"]:
            problems.append(where + ": t_ns not increasing")
        if d["nfds"] != len(d["fds"]):
            problems.append(where + ": nfds != len(fds)")
        b = bytes.fromhex(d["hex"])
        mid, cmd, size, flags, err = struct.unpack_from("<HHIII", b)
        if size != len(b):
            problems.append(where + ": msg_size %d != %d" % (size, len(b)))
        kind = flags & 0xF
        if kind == 0:
            if flags & ~NO_REPLY or err:
                problems.append(where + ": command with flags %#x errno %d" % (flags, err))
            if not flags & NO_REPLY:
                key = (d["dir"], mid, cmd)
                pending[key] = pending.get(key, 0) + 1
            if cmd == REGION_WRITE_MULTI:
                cnt = struct.unpack_from("<Q", b, 16)[0]
                if not 1 <= cnt <= MULTI_MAX or size != 24 + MULTI_ENTRY * cnt:
                    problems.append(where + ": WRITE_MULTI wr_cnt %d size %d" % (cnt, size))
        elif kind == 1:
            key = ("s2c" if d["dir"] == "c2s" else "c2s", mid, cmd)
            if not pending.get(key):
                problems.append(where + ": reply to no open command %s" % (key,))
            else:
                pending[key] -= 1
            if flags & ERROR and size != 16:
                problems.append(where + ": error reply longer than a header")
        else:
            problems.append(where + ": bad type %d" % kind)
    for key, left in pending.items():
        if left:
            problems.append("%s: %d command(s) %s never answered" % (name, left, key))
    return problems, len(lines)


def cross_check_captures():
    """The preamble builders must reproduce QEMU's bytes from the capture."""
    path = os.path.join(CAPTURES, "qemu-gpio-boot.jsonl")
    if not os.path.exists(path):
        return ["(captures not found, builder cross-check skipped)"], True
    cap = [bytes.fromhex(json.loads(l)["hex"]) for l in open(path)]
    ours = [
        (0, version_cmd(0)),
        (2, dma_map(1, 0, RAM_SIZE, True)),
        (3, dma_map(2, BIOS_BASE, BIOS_SIZE, False)),
        (4, reply_to(cap[2])),
        (6, get_info(3)),
        (8, region_info(4, 0)),
        (20, region_info(0xA, CONFIG)),
        (22, irq_info(0xB, ERR_IRQ)),
        (24, region_read(0xC, CONFIG, 0, 256)),
        (28, region_write(0xE, CONFIG, 0x30, struct.pack("<I", 0xFFFFF800))),
        (29, region_write_reply(cap[28])),
        (40, set_irqs(0x14, INTX, 0, 1, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER)),
        (41, reply_to(cap[40])),
        (44, set_irqs(0x16, INTX, 0, 0, IRQ_DATA_NONE | IRQ_ACTION_TRIGGER)),
        (46, region_read(0x17, CONFIG, 0x04, 2)),
        (48, region_write(0x18, CONFIG, 0x04, b"\0\0")),
        (50, msg(0x19, DEVICE_RESET)),
        (51, reply_to(cap[50])),
        (52, region_read(0x1A, CONFIG, 0x3D, 1)),
        (56, region_write(0x1C, CONFIG, 0x10, b"\0" * 4)),
    ]
    bad = ["capture seq %d differs from builder" % seq for seq, b in ours if cap[seq] != b]
    return bad or ["builders reproduce %d captured QEMU messages" % len(ours)], not bad


def main():
    check = "--check" in sys.argv[1:]
    ok = True
    for name, fn in FILES.items():
        text = fn().text()
        path = os.path.join(HERE, name)
        if check:
            on_disk = open(path).read() if os.path.exists(path) else None
            if on_disk != text:
                print("%s: differs from what gen.py generates" % name)
                ok = False
                continue
            problems, count = validate(name, on_disk)
            ok = ok and not problems
            print("%s: %d messages, %s" % (name, count, "ok" if not problems else "PROBLEMS"))
            for p in problems:
                print("  " + p)
        else:
            with open(path, "w", newline="\n") as f:
                f.write(text)
            print("wrote %s (%d messages)" % (name, len(text.splitlines())))
    if check:
        notes, good = cross_check_captures()
        ok = ok and good
        for line in notes:
            print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
