#!/usr/bin/env python3
"""compare.py PLUGIN TRACE - check that every field value the Lua plugin
shows agrees with `vfuctl dissect -o json`, message by message.

Runs
    vfuctl dissect -o json TRACE
    tshark -r TRACE -X lua_script:PLUGIN -T fields -E occurrence=a -e ...
and compares, for every vfio-user message (the frame of its last fragment
in tshark, vfio_user.frame - its first fragment - in vfuctl):

  * every integer, enum, flags, bool and bytes field of `vfuctl schema`
    (all occurrences, in order: groups such as write_multi.write are
    flattened the same way on both sides), and a field present on one side
    only is a difference;
  * vfio_user.summary (the Info text without the pairing suffix), dir,
    chan, type, status, variant, the notes (by key), the malformed field,
    and for replies request_frame and latency_ns.

Not compared: the text fields vfio_user.version.json and
vfio_user.version.unknown_key (tshark -T fields escapes strings; the JSON
capability values they carry are compared as the virtual integer fields),
the malformed message text (the C decoder quotes jansson's error text for
bad VERSION JSON, which the plugin cannot reproduce), and the findings
(findings.py compares those).

Environment: VFUCTL (default cli/vfuctl), TSHARK (default tshark),
TWO_PASS (set: run tshark -2, so the fields come from the second pass),
PLAIN_LUA (a Lua interpreter, e.g. lua5.4: run the plugin through
fake-wireshark.lua under it instead of tshark, to check the decoding under that Lua
version's number semantics).
Exit 0 when all agree, 1 with one line per difference (at most 50 shown).
"""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
VFUCTL = os.environ.get("VFUCTL", os.path.join(repo, "cli", "vfuctl"))
TSHARK = os.environ.get("TSHARK", "tshark")

SKIP_KINDS = ("text", "group")
DIRS = {"c2s": 0, "s2c": 1}
CHANS = {"main": 0, "twin": 1}
STATUS = {"ok": 0, "unknown-command": 1, "malformed": 2}
VARIANT = {"spec": 1, "libvfio-user": 2, "qemu": 3}
SEP = "\x1f"


def schema_fields():
    """(key, kind) of every field, from `vfuctl schema -o lua` parsed loosely."""
    out = subprocess.run([VFUCTL, "schema", "-o", "lua"], check=True,
                         capture_output=True, text=True).stdout
    fields, notes = [], []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('{ key = "vfio_user.'):
            key = line.split('"')[1]
            kind = line.split('kind = "')[1].split('"')[0]
            fields.append((key, kind))
    sect = None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("notes = {"):
            sect = "notes"
        elif s.startswith("findings = {"):
            sect = None
        elif sect == "notes" and s.startswith('{ key = "'):
            notes.append(s.split('"')[1])
    return fields, notes


def flatten(obj, flat):
    for k, v in obj.items():
        if isinstance(v, list):
            for e in v:
                if isinstance(e, dict):
                    flatten(e, flat)
                else:
                    flat.setdefault(k, []).append(e)
        else:
            flat.setdefault(k, []).append(v)


def norm(kind, v):
    """A value from either side as a comparable string."""
    if v is None:
        return None
    if kind == "bool":
        if isinstance(v, bool):
            return "1" if v else "0"
        return "1" if v in ("1", "True", "true") else "0"
    if kind == "bytes":
        return str(v).replace(":", "").lower()
    if isinstance(v, int):
        return str(v)
    s = str(v)
    try:
        return str(int(s, 0))
    except ValueError:
        return s


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare.py PLUGIN TRACE")
    plugin, trace = sys.argv[1:3]
    fields, note_keys = schema_fields()
    compared = [(k, kind) for k, kind in fields if kind not in SKIP_KINDS]
    extra = ["vfio_user.summary", "vfio_user.dir", "vfio_user.chan",
             "vfio_user.type", "vfio_user.status", "vfio_user.variant",
             "vfio_user.note", "vfio_user.malformed.field",
             "vfio_user.request_frame", "vfio_user.latency_ns"]
    cols = ["frame.number", "vfio_user.trace.first_frame"] + extra + \
        [k for k, _ in compared]
    cmd = [TSHARK, "-n", "-r", trace, "-X", "lua_script:" + plugin] + \
        (["-2"] if os.environ.get("TWO_PASS") else []) + [
           "-Y", "vfio_user.summary", "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=" + SEP, "-E", "separator=\t"]
    for c in cols:
        cmd += ["-e", c]
    if os.environ.get("PLAIN_LUA"):
        cmd = [os.environ["PLAIN_LUA"], os.path.join(here, "fake-wireshark.lua"), plugin,
               trace] + cols
    ts = subprocess.run(cmd, capture_output=True, text=True)
    if ts.returncode != 0:
        sys.exit("tshark failed: " + ts.stderr)
    vj = subprocess.run([VFUCTL, "dissect", "-o", "json", trace],
                        capture_output=True, text=True)
    if vj.returncode not in (0, 1):
        sys.exit("vfuctl dissect failed: " + vj.stderr)

    # plugin rows, keyed by the message's first frame
    rows, last_to_first = {}, {}
    for line in ts.stdout.splitlines():
        parts = line.split("\t")
        parts += [""] * (len(cols) - len(parts))
        rec = {c: (parts[i].split(SEP) if parts[i] != "" else [])
               for i, c in enumerate(cols)}
        frame = int(rec["frame.number"][0])
        first = int(rec["vfio_user.trace.first_frame"][0]) \
            if rec["vfio_user.trace.first_frame"] else frame
        last_to_first[frame] = first
        rows[first] = rec

    diffs = []
    nmsg = nval = 0

    def diff(frame, what):
        diffs.append("frame %d: %s" % (frame, what))

    seen = set()
    for line in vj.stdout.splitlines():
        o = json.loads(line)
        if "vfio_user.status" not in o or "vfio_user.event" in o:
            continue	# an event record (old or new JSON form)
        frame = o["vfio_user.frame"]
        seen.add(frame)
        nmsg += 1
        p = rows.get(frame)
        if p is None:
            diff(frame, "message not shown by the plugin")
            continue
        flat = {}
        flatten({k: v for k, v in o.items() if k not in (
            "vfio_user.notes", "vfio_user.malformed", "vfio_user.findings")},
            flat)
        for key, kind in compared:
            want = [norm(kind, v) for v in flat.get(key, [])]
            got = [norm(kind, v) for v in p.get(key, [])]
            nval += len(want)
            if want != got:
                diff(frame, "%s: vfuctl %s, plugin %s" % (key, want[:4], got[:4]))
        # summary, pseudo-fields
        if p["vfio_user.summary"] != [o["vfio_user.summary"]]:
            diff(frame, "summary: vfuctl %r, plugin %r" % (
                o["vfio_user.summary"], p["vfio_user.summary"]))
        checks = [
            ("vfio_user.dir", [str(DIRS[o["vfio_user.dir"]])]),
            ("vfio_user.chan", [str(CHANS[o.get("vfio_user.chan", "main")])]),
            # vfuctl's filter field: the header's type bits, present once
            # the flags were read (the JSON's "type" says command/reply)
            ("vfio_user.type", [str(o["vfio_user.flags"] & 15
                                    if "vfio_user.error" in o else 0)]
             if "vfio_user.flags" in o else []),
            ("vfio_user.status", [str(STATUS[o["vfio_user.status"]])]),
            ("vfio_user.variant", [str(VARIANT[o["vfio_user.variant"]])]
             if "vfio_user.variant" in o else []),
            ("vfio_user.note", [str(note_keys.index(n["note"]))
                                for n in o.get("vfio_user.notes", [])]),
            ("vfio_user.malformed.field", [o["vfio_user.malformed"]["field"]]
             if "vfio_user.malformed" in o else []),
            ("vfio_user.latency_ns", [str(o["vfio_user.latency_ns"])]
             if "vfio_user.latency_ns" in o else []),
        ]
        for key, want in checks:
            nval += len(want)
            if p[key] != want:
                diff(frame, "%s: vfuctl %s, plugin %s" % (key, want, p[key]))
        want = [str(o["vfio_user.request_frame"])] \
            if "vfio_user.request_frame" in o else []
        got = [str(last_to_first.get(int(x), int(x)))
               for x in p["vfio_user.request_frame"]]
        nval += len(want)
        if got != want:
            diff(frame, "request_frame: vfuctl %s, plugin %s" % (want, got))
    for frame in rows:
        if frame not in seen:
            diff(frame, "message shown by the plugin only")
    for d in diffs[:50]:
        print(d)
    print("%s: %d messages, %d values compared, %d differences" % (
        os.path.basename(trace), nmsg, nval, len(diffs)))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
