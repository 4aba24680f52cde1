#!/usr/bin/env python3
"""pcidump.py SEED: a random 4 KiB PCI Express config space in 'lspci -x'
format, for comparing vfuctl config with lspci (tests/config.bats).

Random bytes everywhere, then a valid skeleton: header type 0, a capability
list (Power Management at 0x40, Express of a random port type and version
at 0x50) and an extended capability list of 1 to 8 entries drawn from the
IDs vfuctl decodes (and a few it only names), so every decoder sees random
register values.  The same SEED gives the same dump.
"""
import random
import sys

EXT_IDS = [0x01, 0x03, 0x04, 0x06, 0x0b, 0x0d, 0x0e, 0x0f, 0x10, 0x13,
           0x15, 0x17, 0x18, 0x19, 0x1b, 0x1d, 0x1e, 0x24, 0x29, 0x40]


def dump(seed):
    r = random.Random(seed)
    c = bytearray(r.getrandbits(8) for _ in range(4096))
    c[0x0e] = 0
    c[0x06] |= 0x10                      # capability list
    c[0x34] = 0x40
    c[0x40:0x42] = bytes([0x01, 0x50])   # PM, next Express
    c[0x50:0x52] = bytes([0x10, 0x00])
    ptype = r.choice([0, 1, 3, 4, 5, 6, 7, 8, 9, 10])
    flags = (c[0x52] | c[0x53] << 8) & ~0xff | r.choice([1, 2, 2]) | ptype << 4
    c[0x52:0x54] = flags.to_bytes(2, "little")
    at, n = 0x100, r.randint(1, 8)
    for k in range(n):
        nxt = at + 0x40 if k < n - 1 else 0
        cap = r.choice(EXT_IDS)
        c[at:at + 4] = (cap | r.randint(0, 15) << 16 | nxt << 20).to_bytes(4, "little")
        if cap in (0x15, 0x24) and r.random() < 0.7:
            c[at + 8] = (c[at + 8] & 0x1f) | r.randint(1, 3) << 5  # BAR count
        at = nxt
    lines = ["00:00.0 Class [ff00]: Device [494f:0dca]"]
    for i in range(0, 4096, 16):
        lines.append("%03x: %s" % (i, " ".join("%02x" % b for b in c[i:i + 16])))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dump(int(sys.argv[1])))
