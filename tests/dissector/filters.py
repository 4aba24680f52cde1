#!/usr/bin/env python3
"""filters.py PLUGIN FILTERS TRACE... - for every filter pair of FILTERS
(tests/dissector/filters.txt: "TSHARK-FILTER<TAB>VFUCTL-FILTER" a line,
optionally "<TAB>records" to compare every record, events too; # comments) and every TRACE: `tshark -Y "vfio_user.summary && (T)"` with
the plugin (all filters in one run, through filter-tap.lua) selects the same messages as `vfuctl dissect -Y V`.  Messages
are named by their first frame (vfio_user.trace.first_frame for a
reassembled one).  Prints one line per disagreement and a count; exit 1 if
any.  Environment: VFUCTL, TSHARK."""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
VFUCTL = os.environ.get("VFUCTL", os.path.join(repo, "cli", "vfuctl"))
TSHARK = os.environ.get("TSHARK", "tshark")


def tshark_frames(plugin, ffile, trace):
    """{line number: set of first frames}, one tshark run for all filters"""
    r = subprocess.run([TSHARK, "-n", "-q", "-r", trace,
                        "-X", "lua_script:" + plugin,
                        "-X", "lua_script:" + os.path.join(here, "filter-tap.lua"),
                        "-X", "lua_script2:" + ffile],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("tshark: " + r.stderr.strip())
    out = {}
    for line in r.stdout.splitlines():
        n, frames = (line.split("\t") + [""])[:2]
        out[int(n)] = {int(x) for x in frames.split(",") if x}
    return out


def vfuctl_frames(trace, flt, records):
    r = subprocess.run([VFUCTL, "dissect", "-o", "json", "-Y", flt, trace],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError("vfuctl -Y '%s': %s" % (flt, r.stderr.strip()))
    out = set()
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if records or ("vfio_user.status" in o and "vfio_user.event" not in o):
            out.add(o["vfio_user.frame"])
    return out


def main():
    plugin, ffile, traces = sys.argv[1], sys.argv[2], sys.argv[3:]
    ffile = os.path.abspath(ffile)
    pairs = []
    for i, line in enumerate(open(ffile, encoding="utf-8")):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            cols = line.split("\t")
            pairs.append((i + 1, cols[0], cols[1], cols[2:] == ["records"]))
    bad = n = hits = 0
    for trace in traces:
        got = tshark_frames(plugin, ffile, trace)
        for i, t, v, records in pairs:
            n += 1
            a, b = got.get(i), vfuctl_frames(trace, v, records)
            if a is None:
                print("%s: tshark did not run filter '%s'" % (os.path.basename(trace), t))
                bad += 1
                continue
            hits += len(b)
            if a != b:
                bad += 1
                print("%s: '%s' selects %d frames, vfuctl '%s' %d; only tshark: %s; only vfuctl: %s" % (
                    os.path.basename(trace), t, len(a), v, len(b),
                    sorted(a - b)[:8], sorted(b - a)[:8]))
    print("%d filter runs, %d messages selected, %d disagreements" % (n, hits, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
