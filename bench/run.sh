#!/usr/bin/env bash
# run.sh - `make bench`: vx_decode against the unchecked reference decoder,
# every figure a ratio against a baseline measured in the same run, because
# this machine is shared and its speed moves from minute to minute.
#
#   BENCH_DIR   where bench-decode was built (default: beside this script)
#   BENCH_RUNS  wall-time runs of each mode, interleaved (default 7, min 5)
#   BENCH_SECS  seconds per wall-time run (default 0.5)
#   BENCH_N1, BENCH_N2  message counts of the two callgrind runs per mode
#               (default 200000 and 1200000)
#   BENCH_STRICT=1  exit 1 when a target is missed (default: report only)
#
# Time: vx and ref alternate, each run decoding for BENCH_SECS; the
# medians and the spread (min..max) of msgs/s are printed, per wall-clock
# second and per CPU second of the process, and the ratio of each vx run to
# the ref run beside it, whose median is the figure to trust.
#
# Instructions: callgrind counts instructions, which do not depend on the
# load.  Each mode runs twice, N1 and N2 messages; (I(N2) - I(N1)) /
# (N2 - N1) is the cost of one message with start-up, message building and
# warm-up cancelled out.  At equal counts both modes must print the same
# checksum (they fold the same fields), which is checked here.
#
# Modes: vx (a lazy decoder: header and access view, as a relay or a
# device uses it), items (an eager decoder, every item folded, as dissect
# uses it; reported only) and ref (the unchecked reference).
#
# Targets: >= 5,000,000 msgs/s on one core; decode/ref instructions <= 3x;
# 0 heap allocations per decoded message after warm-up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
bin=$dir/bench-decode
runs=${BENCH_RUNS:-7}
secs=${BENCH_SECS:-0.5}
n1=${BENCH_N1:-200000}
n2=${BENCH_N2:-1200000}
warm=10000	# messages each run decodes before it measures
strict=${BENCH_STRICT:-0}
missed=0

if [ ! -x "$bin" ]; then
	echo "run.sh: $bin not built (make benches)" >&2
	exit 1
fi
[ "$runs" -ge 5 ] || runs=5

field() {	# field NAME LINE
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# median, min and max of the numbers on stdin, one a line
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}

verdict() {	# verdict OK-EXPR TEXT
	if awk "BEGIN { exit !($1) }"; then
		echo "    target met:    $2"
	else
		echo "    TARGET MISSED: $2"
		missed=1
	fi
}

echo "bench-decode: REGION_READ/REGION_WRITE commands and replies, 4-8 data bytes"
echo "  cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(nproc) online, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- wall time, interleaved -------------------------------------------------

# Each run gives msgs per wall second and per CPU second of its own
# process; on a loaded machine the second is the truer one-core figure.
declare -A rate
for k in vx_wall ref_wall vx_cpu ref_cpu q_wall q_cpu; do rate[$k]=; done
allocs=()
for i in $(seq 1 "$runs"); do
	# alternate which goes first, so neither always gets the warmer cache
	if [ $((i % 2)) -eq 1 ]; then order="vx ref"; else order="ref vx"; fi
	for m in $order; do
		line=$("$bin" -m "$m" -t "$secs" -w "$warm")
		w=$(field msgs_per_s "$line")
		c=$(awk -v n="$(field msgs "$line")" -v t="$(field cpu_secs "$line")" \
			'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
		rate[${m}_wall]+="$w "
		rate[${m}_cpu]+="$c "
		eval "last_${m}_wall=$w last_${m}_cpu=$c"
		[ "$m" = vx ] && allocs+=("$(field allocs_per_msg "$line")")
	done
	# shellcheck disable=SC2154 # set by the eval above
	rate[q_wall]+="$(awk -v r="$last_ref_wall" -v v="$last_vx_wall" 'BEGIN { printf "%.3f", r / v }') "
	# shellcheck disable=SC2154
	rate[q_cpu]+="$(awk -v r="$last_ref_cpu" -v v="$last_vx_cpu" 'BEGIN { printf "%.3f", r / v }') "
done
read -r _ _ amax < <(printf '%s\n' "${allocs[@]}" | stats)

row() {	# row LABEL KEY
	local med lo hi
	read -r med lo hi < <(tr ' ' '\n' <<<"${rate[$2]}" | sed '/^$/d' | stats)
	awk -v l="$1" -v m="$med" -v lo="$lo" -v hi="$hi" 'BEGIN {
		printf "  %-8s %6.2f M msgs/s  (%.2f..%.2f, spread %.0f%%)\n",
		    l, m / 1e6, lo / 1e6, hi / 1e6, 100 * (hi - lo) / m }'
}
ratio() {	# ratio KEY
	local med lo hi
	read -r med lo hi < <(tr ' ' '\n' <<<"${rate[$1]}" | sed '/^$/d' | stats)
	echo "${med}x (${lo}..${hi})"
}

echo
echo "$runs runs of ${secs}s per mode, interleaved (median, min..max):"
echo " per wall-clock second:"
row decode vx_wall
row ref ref_wall
echo "  decode/ref time per message, pairwise: $(ratio q_wall)"
echo " per CPU second of the process (less hurt by other load):"
row decode vx_cpu
row ref ref_cpu
echo "  decode/ref time per message, pairwise: $(ratio q_cpu)"
read -r vcpu _ _ < <(tr ' ' '\n' <<<"${rate[vx_cpu]}" | sed '/^$/d' | stats)
read -r vwall _ _ < <(tr ' ' '\n' <<<"${rate[vx_wall]}" | sed '/^$/d' | stats)
verdict "$vcpu >= 5000000" "decode >= 5 M msgs/s on one core (median $(awk -v m="$vcpu" -v w="$vwall" 'BEGIN { printf "%.2f M per CPU second, %.2f M per wall second", m / 1e6, w / 1e6 }'))"
verdict "$amax == 0" "0 allocations per decoded message after warm-up (max over runs $amax)"

# --- instructions, callgrind ------------------------------------------------

echo
if ! command -v valgrind >/dev/null 2>&1; then
	echo "instructions: valgrind not installed, skipped"
	[ "$strict" = 1 ] && [ "$missed" = 1 ] && exit 1
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cg MODE COUNT: instructions of a whole run; the checksum into $tmp/MODE-COUNT
cg() {
	local out
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
		"$bin" -m "$1" -n "$2" -w "$warm" > "$tmp/$1-$2" 2> "$tmp/log.$1.$2" || {
		cat "$tmp/log.$1.$2" >&2
		echo "run.sh: callgrind run of $1 failed" >&2
		exit 1
	}
	out=$(sed -n 's/.*Collected : *\([0-9][0-9]*\).*/\1/p' "$tmp/log.$1.$2")
	[ -n "$out" ] || { echo "run.sh: no instruction count from callgrind" >&2; exit 1; }
	echo "$out"
}

vx1=$(cg vx "$n1"); vx2=$(cg vx "$n2")
it1=$(cg items "$n1"); it2=$(cg items "$n2")
ref1=$(cg ref "$n1"); ref2=$(cg ref "$n2")

for n in "$n1" "$n2"; do
	b=$(field checksum "$(cat "$tmp/ref-$n")")
	for m in vx items; do
		a=$(field checksum "$(cat "$tmp/$m-$n")")
		if [ "$a" != "$b" ]; then
			echo "run.sh: checksums differ at $n messages: $m $a, ref $b" >&2
			exit 1
		fi
	done
done

echo "instructions (callgrind, ($n2 - $n1) messages, start-up cancelled out):"
awk -v a1="$vx1" -v a2="$vx2" -v b1="$ref1" -v b2="$ref2" -v n1="$n1" -v n2="$n2" \
	'BEGIN {
		x = (a2 - a1) / (n2 - n1); y = (b2 - b1) / (n2 - n1)
		printf "  decode/ref instructions per message: %.1f / %.1f = %.2f\xc3\x97\n",
		    x, y, x / y
		printf "%.4f\n", x / y > "/dev/stderr"
	}' 2> "$tmp/ratio"
awk -v a1="$it1" -v a2="$it2" -v b1="$ref1" -v b2="$ref2" -v n1="$n1" -v n2="$n2" \
	'BEGIN {
		x = (a2 - a1) / (n2 - n1); y = (b2 - b1) / (n2 - n1)
		printf "  with the item list built and walked (print, encode, filters): %.1f / %.1f = %.2f\xc3\x97 (reported, no target)\n",
		    x, y, x / y
	}'
echo "  checksums of all three modes match at $n1 and $n2 messages"
echo "  allocations per decoded message after warm-up: $(field allocs_per_msg "$(cat "$tmp/vx-$n2")")"
verdict "$(cat "$tmp/ratio") <= 3" "decode/ref instructions <= 3x ($(cat "$tmp/ratio")x)"

# where decode's instructions go, when callgrind_annotate is there
if command -v callgrind_annotate >/dev/null 2>&1; then
	echo "  where decode's instructions go (self, per message; inlined code apart):"
	callgrind_annotate --threshold=95 "$tmp/cg.vx.$n2" 2>/dev/null |
		awk -v n="$((n2 + warm))" '/file:function/ { on = 1; next }
		on && NF == 0 && k > 0 { on = 0 }	# read on: no SIGPIPE
		on && $1 ~ /^[0-9,]+$/ {
			c = $1; gsub(",", "", c); f = $NF
			if ($NF ~ /^\[/) f = $(NF - 1)
			if (++k <= 8) printf "    %7.1f  %s\n", c / n, f
		}'
fi

if [ "$strict" = 1 ] && [ "$missed" = 1 ]; then
	exit 1
fi

# part 2: reading traces (dissect, stats)
bash "$here/trace.sh"

# part 2b: the session's DMA windows: stats on many maps vs none
bash "$here/dma-windows.sh"

# part 3: vfuctl server round trips and soak
bash "$here/server.sh"

# part 3b: vfuctl server --replay against the live server
bash "$here/server-replay.sh"

# part 4: the recorder against a minimal relay
bash "$here/record.sh"

# part 5: the Wireshark/tshark plugin against vfuctl dissect
bash "$here/plugin.sh"

# part 6: vfuctl server against hostile clients
bash "$here/hostile.sh"

# part 7: vfuctl replay against a minimal client loop
bash "$here/replay.sh"

# part 8: vfuctl fuzz, its planted bugs and the real samples
bash "$here/fuzz.sh"

# part 9: vfuctl fuzz against libvfio-user's samples: findings by kind
bash "$here/fuzz-peers.sh"
exit 0
