#!/bin/sh
# update-fields.sh [--check] - splice `vfuctl schema -o lua` into
# dissector/vfio-user.lua between its "-- BEGIN fields.lua" and "-- END
# fields.lua" lines, so that the plugin is one self-contained file (make
# install copies only it).
#
#   --check   write nothing; exit 1 with a diff if the plugin differs
#             from what would be written (the drift test of
#             tests/dissector.bats)
#
# VFUCTL: the vfuctl binary (default: cli/vfuctl of this tree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VFUCTL=${VFUCTL:-$repo/cli/vfuctl}
check=0
[ "${1:-}" = --check ] && check=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$VFUCTL" schema -o lua > "$tmp/fields.lua"
python3 - "$repo/dissector/vfio-user.lua" "$tmp/fields.lua" "$tmp/vfio-user.lua" <<'PY'
import sys
plugin, fields, out = sys.argv[1:4]
src = open(plugin, encoding="utf-8").read().split("\n")
gen = open(fields, encoding="utf-8").read().rstrip("\n").split("\n")
try:
    b = src.index("-- BEGIN fields.lua")
    e = src.index("-- END fields.lua")
except ValueError:
    sys.exit("%s: no BEGIN/END fields.lua marks" % plugin)
open(out, "w", encoding="utf-8").write("\n".join(src[:b + 1] + gen + src[e:]))
PY
if [ $check = 1 ]; then
	diff -u "$repo/dissector/vfio-user.lua" "$tmp/vfio-user.lua" && exit 0
	echo "drift: run tests/dissector/update-fields.sh" >&2
	exit 1
fi
cp "$tmp/vfio-user.lua" "$repo/dissector/vfio-user.lua"
