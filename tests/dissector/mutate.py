#!/usr/bin/env python3
"""mutate.py FILE SEED - trace record lines (vfuctl-trace(5) JSON LINES)
from FILE with about half the message and state records' bytes mutated
(1-4 of: a byte changed, the record cut short, bytes inserted) and a tenth
of the messages given 0-5 descriptors, seeded with SEED: hostile input on
which the plugin must agree with vfuctl dissect and raise no Lua error."""
import json
import random
import sys

random.seed(int(sys.argv[2]))
for line in open(sys.argv[1]):
    r = json.loads(line)
    h = r.get("hex")
    if h and r["kind"] in ("message", "state") and random.random() < 0.5:
        b = bytearray(bytes.fromhex(h))
        for _ in range(random.randint(1, 4)):
            if not b: break
            i = random.randrange(len(b))
            op = random.random()
            if op < 0.6: b[i] = random.randrange(256)
            elif op < 0.8: del b[i:]
            else: b[i:i] = bytes(random.randrange(256) for _ in range(random.randint(1, 8)))
        r["hex"] = b.hex()
    if r["kind"] == "message" and random.random() < 0.1:
        r["fds"] = [{"kind": "memfd", "size": 4096}] * random.randint(0, 5)
    print(json.dumps(r))
