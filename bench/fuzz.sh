#!/usr/bin/env bash
# fuzz.sh - `make bench`, part 8: vfuctl fuzz.
#
#  - rate: execs/s of `vfuctl fuzz` against a non-ASan `vfuctl server`
#    (dma.json), BENCH_FUZZ_N execs per run, BENCH_RUNS runs; the messages
#    they sent replayed as plain round trips by bench/replay-loop against
#    the same server, and the ratio of the two message rates.  Target:
#    >= 2,000 execs/s on one core.  Then execs/s with every exec on a new
#    connection (--fresh conn, the prefix sent again) and on a new server
#    process (--fresh process), BENCH_FUZZ_N/10 execs a run.
#  - finding: seconds (and exec) until each planted bug of
#    tests/buggy-server.c is found, median over seeds 1-5, black-box
#    (tests/buggy-server) and guided by AFL++ coverage
#    (tests/buggy-server-afl, where afl-clang-fast built it) side by side,
#    each run capped at BENCH_FUZZ_CAP seconds (--no-minimize: the time
#    is the search's, not the minimizing's).  Target: each within 60 s.
#  - peers: libvfio-user's gpio sample (../shared/peers) fuzzed for
#    BENCH_FUZZ_PEER_N execs; any finding is listed with its trace.
#
#   BENCH_DIR, VFUCTL, BENCH_RUNS (default 5), BENCH_FUZZ_N (default 20000),
#   BENCH_FUZZ_CAP (default 60), BENCH_FUZZ_PEER_N (default 5000),
#   BENCH_FUZZ_PARTS (default "rate bugs peers": which parts run)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-$here}
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
runs=${BENCH_RUNS:-5}
n=${BENCH_FUZZ_N:-20000}
parts=${BENCH_FUZZ_PARTS:-rate bugs peers}
np=${BENCH_FUZZ_PEER_N:-5000}
buggy=$(dirname "$dir")/tests/buggy-server
[ -x "$buggy" ] || buggy=$here/../tests/buggy-server
peers=${PEERS:-$here/../../shared/peers}
. "$here/lib.sh"
with_tmp
export ASAN_OPTIONS=symbolize=0:detect_leaks=0

want() { [[ " $parts " == *" $1 "* ]]; }

# find_bugs DIR SERVER [FUZZ-OPTION...]: fuzz SERVER for at most $cap
# seconds with seed $s, stopped once all three planted bugs are in DIR;
# appends "SECONDS EXEC" of each bug (60+ when not found: "inf -") to
# $tmp/DIR-NAME
find_bugs() {
	local name=$1 d=$tmp/$1 srv=$2 pid k r
	shift 2
	rm -rf "$d"
	"$vfuctl" fuzz -q -n 100000000 --time "${cap}s" --seed "$s" -d "$d" --no-minimize \
		"$@" -- "$srv" >"$d.out" 2>&1 &
	pid=$!
	pids+=($pid)
	# the reports appear as the bugs are found; no point going on after
	while kill -0 "$pid" 2>/dev/null; do
		if found_all "$d"; then kill "$pid" 2>/dev/null || true; fi
		sleep 0.2
	done
	wait "$pid" 2>/dev/null || true
	for k in "${!bugs[@]}"; do
		r=$(grep -l -- "${bugs[$k]}" "$d"/*.txt 2>/dev/null | head -n 1 || true)
		if [ -n "$r" ]; then
			echo "$(sed -n 's/^elapsed: \([0-9.]*\).*/\1/p' "$r") $(sed -n 's/^exec: //p' "$r")"
		else
			echo "inf -"
		fi >> "$tmp/$name-$k"
	done
}

# found_all DIR: has each planted bug a report in DIR?
found_all() {
	local k
	for k in "${!bugs[@]}"; do
		grep -q -l -- "${bugs[$k]}" "$1"/*.txt 2>/dev/null || return 1
	done
}

# cell FILE: "median s (found/runs, exec median)"; a median past the cap
# (most runs missed it) is "> cap"
cell() {
	local m found e
	m=$(awk '{ print $1 }' "$1" | sed "s/inf/99999/" | median)
	found=$(grep -vc '^inf' "$1" || true)
	e=$(awk '$2 != "-" { print $2 }' "$1" | median)
	if awk -v m="$m" -v c="$cap" 'BEGIN { exit !(m > c) }'; then
		printf '%-8s %d/5' "> ${cap}s" "$found"
	else
		printf '%-8s %d/5, exec %s' "${m}s" "$found" "${e:-?}"
	fi
}

if want rate; then
	echo "== vfuctl fuzz: execs/s against vfuctl server (dma.json), $n execs"
	rates=() msgs=()
	for ((i = 1; i <= runs; i++)); do
		out=$("$vfuctl" fuzz -q -o json -n "$n" --seed "$i" -- "$vfuctl" server \
			--device "$here/../tests/devices/dma.json")
		rates+=("$(jq '.execs / .seconds | floor' <<<"$out")")
		msgs+=("$(jq '.messages / .seconds | floor' <<<"$out")")
	done
	printf '%s\n' "${rates[@]}" > "$tmp/rates"
	printf '%s\n' "${msgs[@]}" > "$tmp/msgs"
	echo "execs/s: median min max $(median_spread "$tmp/rates") (target >= 2000)"
	echo "messages sent/s: median min max $(median_spread "$tmp/msgs")"
	if [ -x "$dir/replay-loop" ]; then
		serve_gpio "$tmp/vfu.sock"
		m=$(median < "$tmp/msgs")
		t0=$(date +%s.%N)
		"$dir/replay-loop" "$tmp/vfu.sock" "$((n * 2))" "$tmp/loop.pcap" >/dev/null
		t1=$(date +%s.%N)
		loop=$(awk -v n="$((n * 2))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
		echo "plain round trips (bench/replay-loop, gpio.json): $loop/s;" \
			"fuzz messages/s to that: $(awk -v a="$m" -v b="$loop" 'BEGIN { printf "%.2f", a / b }')"
	fi
	# the same, every exec on a new connection (the prefix sent again),
	# then on a new server process: what keeping state saves
	for mode in conn process; do
		: > "$tmp/rates-$mode"
		for ((i = 1; i <= runs; i++)); do
			"$vfuctl" fuzz -q -o json -n "$((n / 10))" --seed "$i" --fresh "$mode" -- \
				"$vfuctl" server --device "$here/../tests/devices/dma.json" |
				jq '.execs / .seconds | floor' >> "$tmp/rates-$mode"
		done
		echo "execs/s with --fresh $mode: median min max $(median_spread "$tmp/rates-$mode");" \
			"to the default's: $(awk -v a="$(median < "$tmp/rates-$mode")" \
			-v b="$(median < "$tmp/rates")" 'BEGIN { printf "%.3f", a / b }')"
	done
fi

if want bugs; then
	declare -A bugs=([info]='READ of size 4' [doorbell]='WRITE of size'
		[irqs]='no reply to DEVICE_SET_IRQS')
	cap=${BENCH_FUZZ_CAP:-60}
	echo "== planted bugs (tests/buggy-server.c): time to find, median of seeds 1-5, ${cap} s cap"
	if [ -x "$buggy-afl" ]; then
		echo "   black-box: tests/buggy-server (gcc/cc, ASan); guided: tests/buggy-server-afl (afl-clang-fast, ASan)"
	else
		echo "   guided: no $buggy-afl (install afl++ and make units): black-box only"
	fi
	for s in 1 2 3 4 5; do
		find_bugs bb "$buggy"
		if [ -x "$buggy-afl" ]; then find_bugs afl "$buggy-afl"; fi
	done
	printf '%-34s %-32s %s\n' bug black-box guided
	for k in info doorbell irqs; do
		case $k in
		info) name='region-info out-of-bounds read' ;;
		doorbell) name='doorbell heap overflow (DMA deep)' ;;
		irqs) name='SET_IRQS hang' ;;
		esac
		printf '%-34s %-32s %s\n' "$name" "$(cell "$tmp/bb-$k")" \
			"$([ -x "$buggy-afl" ] && cell "$tmp/afl-$k" || echo -)"
	done
	echo "(target: each within 60 s, median over 5 seeds; runs: $(for k in info doorbell irqs; do echo -n "$k bb [$(awk '{ printf "%s ", $1 }' "$tmp/bb-$k")] "; [ -x "$buggy-afl" ] && echo -n "afl [$(awk '{ printf "%s ", $1 }' "$tmp/afl-$k")] "; done))"
fi

if want peers; then
	if [ -x "$peers/bin/gpio-pci-idio-16" ] || ls "$peers" >/dev/null 2>&1; then
		gpio=$(find "$peers" -name 'gpio-pci-idio-16' -type f -perm -u+x 2>/dev/null | head -n 1)
		if [ -n "$gpio" ]; then
			echo "== libvfio-user gpio sample, $np execs"
			"$vfuctl" fuzz -q -n "$np" -t 2000 -d "$tmp/peer" -- "$gpio" '{socket}' || true
			ls "$tmp/peer" 2>/dev/null || true
		fi
	fi
fi
