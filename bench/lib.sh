# lib.sh - what the bench/*.sh scripts share; sourced.

# with_tmp: a scratch directory $tmp; on exit the processes listed in
# $pids are killed and it is removed
with_tmp() {
	tmp=$(mktemp -d)
	pids=()
	trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$tmp"' EXIT
}

# serve_gpio SOCKET: vfuctl server with tests/devices/gpio.json, listed in
# $pids, its pid in $last_pid; returns once it listens
serve_gpio() {
	"$vfuctl" server --socket-path "$1" \
		--device "$here/../tests/devices/gpio.json" & last_pid=$!
	pids+=($last_pid)
	wait_socket "$1"
}

# wait_socket PATH: up to 5 s for a server to listen at PATH
wait_socket() {
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	echo "$(basename "$0"): no socket at $1" >&2
	exit 1
}

# rss_fds PID: "RSS-in-KiB open-fds" of process PID, from /proc
rss_fds() {
	echo "$(awk '/^VmRSS/ { print $2 }' /proc/$1/status) $(ls /proc/$1/fd | wc -l)"
}

# median_spread FILE: "median min max" of the numbers in FILE, one a line
median_spread() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}

# median: the median of the numbers on stdin, one a line
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# timed NAME CMD...: run CMD (output dropped), append "wall-seconds
# cpu-seconds peak-KiB" to $tmp/NAME; returns CMD's status
timed() {
	local name=$1 st=0
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" >/dev/null 2>&1 || st=$?
	awk '{ print $1, $2 + $3, $4 }' "$tmp/t" >> "$tmp/$name"
	return $st
}

# in_turns I A B: run A then B, or B then A when I is odd: whichever goes
# second may find the machine busier or idler
in_turns() {
	if (($1 % 2 == 0)); then "$2"; "$3"; else "$3"; "$2"; fi
}

# print_runs FILE: each run's ratio, on one line
print_runs() {
	echo "    runs: $(awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }' "$1")"
}
