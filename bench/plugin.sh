#!/usr/bin/env bash
# plugin.sh - `make bench`, part 5: the Wireshark/tshark Lua plugin.
#
#  - tshark with dissector/vfio-user.lua against `vfuctl dissect` on the
#    same 100k-message trace (summary lines to /dev/null), interleaved
#    runs, medians of CPU (user+sys) seconds and their ratio; reported,
#    no target (tshark's own frame handling dominates).
#  - peak RSS of tshark with and without the plugin at 100k and at 1M
#    messages: what the plugin adds must stay flat (its per-frame state is
#    a packed record per paired reply, ~7 bytes); tshark's own memory is
#    shown beside it.
#
#   BENCH_DIR     where mktrace was built (default beside this script)
#   VFUCTL        the vfuctl binary (default ../cli/vfuctl)
#   BENCH_RUNS    interleaved runs at 100k (default 3)
#   BENCH_PLUGIN_BIG  messages of the memory test trace (default 1000000;
#                 0 skips it: tshark with the plugin takes minutes there)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
plugin=$here/../dissector/vfio-user.lua
runs=${BENCH_RUNS:-3}
big=${BENCH_PLUGIN_BIG:-1000000}
n=100000

if ! command -v tshark >/dev/null 2>&1; then
	echo "plugin: tshark not installed, skipped"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# run NAME CMD...: timed, and a failure ends the benchmark
run() {
	timed "$@" || { echo "plugin.sh: $1 failed" >&2; exit 1; }
}

ts_plugin=(tshark -n -X "lua_script:$plugin" -r)
ts_plain=(tshark -n -r)

"$dir/mktrace" "$tmp/m.pcap" $n 4
# the plugin must actually dissect: the last reply is paired with its command
last=$("${ts_plugin[@]}" "$tmp/m.pcap" 2>/dev/null | tail -n 1)
case $last in
*"REGION_WRITE reply"*"[#"*) ;;
*)	echo "plugin.sh: tshark did not dissect with the plugin: $last" >&2
	exit 1 ;;
esac

echo "the Lua plugin: tshark -X lua_script:dissector/vfio-user.lua, $n messages, $runs interleaved runs:"
for ((i = 0; i < runs; i++)); do
	run plugin "${ts_plugin[@]}" "$tmp/m.pcap"
	# ten in a row: one run is a few clock ticks
	run dissect bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$0" dissect "$1"; done' "$vfuctl" "$tmp/m.pcap"
	run plain "${ts_plain[@]}" "$tmp/m.pcap"
done
for r in plugin plain dissect; do
	eval "cpu_$r=$(cut -d' ' -f2 "$tmp/$r" | median)"
	eval "rss_$r=$(cut -d' ' -f3 "$tmp/$r" | median)"
done
cpu_dissect=$(awk -v c="$cpu_dissect" 'BEGIN { print c / 10 }')
# shellcheck disable=SC2154 # set by the eval above
awk -v p="$cpu_plugin" -v t="$cpu_plain" -v d="$cpu_dissect" -v n=$n 'BEGIN {
	printf "  tshark + plugin  cpu %6.2f s  %7.0f msgs/s\n", p, n / p
	printf "  tshark, no dissector for the link type  cpu %6.2f s\n", t
	printf "  vfuctl dissect   cpu %6.2f s  %7.0f msgs/s\n", d, n / (d > 0 ? d : 0.001)
	printf "  tshark + plugin / vfuctl dissect (CPU): %.0fx\n", p / (d > 0 ? d : 0.001)
}'
# shellcheck disable=SC2154
echo "  peak RSS at $n messages: tshark + plugin $rss_plugin KiB, tshark alone $rss_plain KiB, vfuctl dissect $rss_dissect KiB"
extra1=$((rss_plugin - rss_plain))

[ "$big" -gt 0 ] || exit 0
"$dir/mktrace" "$tmp/big.pcap" "$big" 4
rm -f "$tmp/plugin" "$tmp/plain"
run plugin "${ts_plugin[@]}" "$tmp/big.pcap"
run plain "${ts_plain[@]}" "$tmp/big.pcap"
read -r _ _ rssb_plugin < "$tmp/plugin"
read -r _ _ rssb_plain < "$tmp/plain"
extra2=$((rssb_plugin - rssb_plain))
echo "  peak RSS at $big messages: tshark + plugin $rssb_plugin KiB, tshark alone $rssb_plain KiB"
echo "  the plugin's share: $extra1 KiB at $n, $extra2 KiB at $big messages"
# flat: the plugin's own memory grows by less than 32 bytes a message (its
# packed pairing results, ~3.5 bytes a message, and the collector's slack)
per=$(awk -v a="$extra1" -v b="$extra2" -v n1=$n -v n2="$big" \
	'BEGIN { printf "%.1f", (b - a) * 1024 / (n2 - n1) }')
if awk -v p="$per" 'BEGIN { exit !(p < 32) }'; then
	echo "    target met:    plugin memory flat ($per bytes a message, < 32; tshark's own frame list aside)"
else
	echo "    TARGET MISSED: plugin memory flat ($per bytes a message, < 32; tshark's own frame list aside)"
fi
