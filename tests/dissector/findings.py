#!/usr/bin/env python3
"""findings.py PLUGIN TRACE... - check that the Lua plugin's expert info
equals vfuctl dissect's findings, frame by frame.

For every TRACE, the findings of each record as a multiset of (finding key,
severity, message "TEXT: DETAIL"):

  * vfuctl: `vfuctl dissect -o json` (vfio_user.findings of each message,
    and of each close record: the commands its connection left
    unanswered);
  * the plugin: `tshark -T json` with the plugin, every expert info whose
    expert is vfio_user.expert.<key> of a finding (decoder notes, gaps and
    the like are not findings), on the frame of the message's first
    fragment as vfuctl numbers it.

The detail of a malformed VERSION whose JSON does not parse is compared up
to "version JSON:" (vfuctl quotes jansson's error text).  Findings at the
end of a trace for connections that never closed have no record, in vfuctl
as in a Wireshark dissector: not compared.

Prints one line per difference (at most 50), the count of each kind found,
and "N kinds, M findings, D differences"; exit 1 if any difference.
Environment: VFUCTL (default cli/vfuctl), TSHARK (default tshark),
TWO_PASS (set: tshark -2, the expert info of the second pass), PLAIN_LUA
(a Lua interpreter: the plugin under fake-wireshark.lua instead of
tshark, for that Lua version's numbers)."""
import collections
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
VFUCTL = os.environ.get("VFUCTL", os.path.join(repo, "cli", "vfuctl"))
TSHARK = os.environ.get("TSHARK", "tshark")

# tshark's PI_NOTE, PI_WARN, PI_ERROR; vfuctl's names
SEVERITY = {4194304: "note", 6291456: "warning", 8388608: "error"}
JANSSON = "malformed message: invalid: version JSON:"


SEV_NAME = ["note", "warning", "error"]
SEVERITY_OF = {}	# key -> the schema's severity name


def finding_texts():
    """{text: key} of every finding, from `vfuctl schema -o lua`."""
    out = subprocess.run([VFUCTL, "schema", "-o", "lua"], check=True,
                         capture_output=True, text=True, errors="replace").stdout
    texts, sect = {}, None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("findings = {"):
            sect = "findings"
        elif sect and s.startswith('{ key = "'):
            key = s.split('"')[1]
            texts[s.split('text = "')[1].rsplit('"', 1)[0]] = key
            SEVERITY_OF[key] = SEV_NAME[int(s.split("severity = ")[1].split(",")[0])]
    return texts


def norm(key, msg):
    if key == "MALFORMED" and msg.startswith(JANSSON):
        return JANSSON
    return msg


def vfuctl_findings(trace):
    """{frame: Counter of (key, severity, message)}"""
    got = collections.defaultdict(collections.Counter)
    r = subprocess.run([VFUCTL, "dissect", "-o", "json", trace],
                       capture_output=True, text=True, errors="replace")
    if r.returncode not in (0, 1):
        sys.exit("vfuctl dissect: " + r.stderr)
    for line in r.stdout.splitlines():
        o = json.loads(line)
        for f in o.get("vfio_user.findings", []):
            msg = "%s: %s" % (f["text"], f["detail"])
            got[o["vfio_user.frame"]][(f["finding"], f["severity"],
                                       norm(f["finding"], msg))] += 1
    return got


def experts(node, out):
    """Every expert info dict under node (tshark -T json, merged keys)."""
    if isinstance(node, list):
        for e in node:
            experts(e, out)
    elif isinstance(node, dict):
        if "_ws.expert.message" in node:
            out.append(node)
        for v in node.values():
            experts(v, out)


def first(v):
    return v[0] if isinstance(v, list) else v


def plain_lua_findings(plugin, trace, keys):
    """The same from fake-wireshark.lua under PLAIN_LUA (severity: the
    schema's, as the expert was registered with)."""
    cmd = [os.environ["PLAIN_LUA"], os.path.join(here, "fake-wireshark.lua"), plugin,
           trace, "frame.number", "vfio_user.trace.first_frame", "_ws.expert"]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (cmd[0], r.stderr))
    got = collections.defaultdict(collections.Counter)
    lower = {"vfio_user.expert." + k.lower(): k for k in keys}
    for line in r.stdout.splitlines():
        frame, ff, ex = (line.split("\t") + ["", ""])[:3]
        frame = int(ff or frame)
        for e in ex.split("\x1f") if ex else []:
            abbr, msg = e.split("=", 1)
            if abbr in lower:
                key = lower[abbr]
                got[frame][(key, SEVERITY_OF[key], norm(key, msg))] += 1
    return got


def tshark_findings(plugin, trace, keys):
    if os.environ.get("PLAIN_LUA"):
        return plain_lua_findings(plugin, trace, keys)
    cmd = [TSHARK, "-n", "-r", trace, "-X", "lua_script:" + plugin] + \
        (["-2"] if os.environ.get("TWO_PASS") else []) + \
        ["-Y", "vfio_user.finding", "-T", "json", "--no-duplicate-keys"]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        sys.exit("tshark failed: " + r.stderr)
    got = collections.defaultdict(collections.Counter)
    lower = {"vfio_user.expert." + k.lower(): k for k in keys}
    for pkt in json.loads(r.stdout or "[]"):
        layers = pkt["_source"]["layers"]
        frame = int(first(layers["frame"]["frame.number"]))
        ff = []

        def find_first(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "vfio_user.trace.first_frame":
                        ff.append(int(first(v)))
                    find_first(v)
            elif isinstance(node, list):
                for e in node:
                    find_first(e)
        find_first(layers.get("vfio_user", {}))
        if ff:
            frame = ff[0]
        found = []
        experts(layers.get("vfio_user", {}), found)
        for e in found:
            names = [k for k in e if k in lower]
            if not names:
                continue	# a decoder note, a gap, ...
            key = lower[names[0]]
            sev = SEVERITY.get(int(first(e["_ws.expert.severity"])), "?")
            msg = first(e["_ws.expert.message"])
            got[frame][(key, sev, norm(key, msg))] += 1
    return got


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: findings.py PLUGIN TRACE...")
    plugin, traces = sys.argv[1], sys.argv[2:]
    texts = finding_texts()
    kinds = collections.Counter()
    diffs = []
    for trace in traces:
        want = vfuctl_findings(trace)
        got = tshark_findings(plugin, trace, texts.values())
        name = os.path.basename(trace)
        for frame in sorted(set(want) | set(got)):
            w, g = want.get(frame, collections.Counter()), got.get(frame, collections.Counter())
            for f, n in w.items():
                kinds[f[0]] += n
            for f in sorted((w - g).elements()):
                diffs.append("%s frame %d: vfuctl only: %s" % (name, frame, f))
            for f in sorted((g - w).elements()):
                diffs.append("%s frame %d: plugin only: %s" % (name, frame, f))
    for d in diffs[:50]:
        print(d)
    print(", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    print("%d kinds, %d findings, %d differences" % (
        len(kinds), sum(kinds.values()), len(diffs)))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
