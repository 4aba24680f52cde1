#!/usr/bin/env bash
# run-tests.sh - run every unit test program and every bats file, count the
# results, and end with one line "N passed, N failed[, N skipped]".
#
#   tests/run-tests.sh [FILTER]
#
# FILTER, if given, runs only the unit programs and .bats files whose name
# contains it.
#
# Environment (all optional):
#   VFUCTL        vfuctl binary to test          (default: REPO/cli/vfuctl)
#   UNIT_DIR      directory of test-* programs   (default: REPO/tests/unit)
#   VECTORS       vfio-user vector directory     (default: REPO/../shared/vectors)
#   PEERS         real peers for peers.bats      (default: REPO/../shared/peers)
#   TEST_TIMEOUT  seconds allowed per program or .bats file (default: 600)
#   TEST_JOBS     how many bats files run at once (default: the CPUs, at
#                 least 2), each file's output shown when it ends; 1: one
#                 at a time, output as it comes
#
# Unit programs print "ok N - name" / "not ok N - name" lines and their own
# summary; bats files run with --tap.  "ok N ... # skip" counts as skipped.
# A program that exits non-zero without printing a "not ok" line (a crash, a
# sanitizer report, a timeout) counts as one failure.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

abspath() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

VFUCTL=$(abspath "${VFUCTL:-$repo/cli/vfuctl}")
UNIT_DIR=$(abspath "${UNIT_DIR:-$repo/tests/unit}")
VECTORS=$(abspath "${VECTORS:-$(cd "$repo/.." && pwd)/shared/vectors}")
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
export VFUCTL UNIT_DIR VECTORS
filter=${1:-}

passed=0
failed=0
skipped=0
failures=()

# Marks the end of a program's output; followed by its exit status.
mark='@@run-tests-status@@'

# count NAME: read TAP-ish lines on stdin, echo them, update the counters.
# Sets saw_not_ok (1 if a "not ok" line was seen) and last_status.
count() {
	local name=$1 line
	saw_not_ok=0
	last_status=0
	while IFS= read -r line; do
		case "$line" in
		*"$mark "*)
			# The program's last line may lack its newline.
			last_status=${line##*"$mark "}
			line=${line%%"$mark "*}
			[ -n "$line" ] && printf '%s\n' "$line"
			continue
			;;
		"not ok "*)
			failed=$((failed + 1))
			saw_not_ok=1
			failures+=("$name: ${line#not ok }")
			;;
		"ok "*"# skip"* | "ok "*"# SKIP"*)
			skipped=$((skipped + 1))
			;;
		"ok "*)
			passed=$((passed + 1))
			;;
		esac
		printf '%s\n' "$line"
	done
}

# bats files run TEST_JOBS at a time (default: the CPUs, at least 2):
# most of them wait on sockets and child processes, not on the CPU.  Each
# file's output is shown whole when it ends.  The long ones start first.
LONG_FILES="dissector.bats fuzz.bats replay.bats peers.bats replay-peers.bats record.bats"
if [ -z "${TEST_JOBS:-}" ]; then
	TEST_JOBS=$(nproc 2>/dev/null || echo 1)
	[ "$TEST_JOBS" -ge 2 ] || TEST_JOBS=2
fi
side_dir=$(mktemp -d)
trap 'rm -rf "$side_dir"' EXIT

# start_side NAME CMD...: run CMD in the background into side_dir/NAME;
# side_dir/NAME.secs appears when it has ended.
start_side() {
	local name=$1
	shift
	( start=$SECONDS
	  cd "$repo" && timeout -k 10 "$TEST_TIMEOUT" "$@" </dev/null \
		>"$side_dir/$name.out" 2>&1
	  echo "$mark $?" >>"$side_dir/$name.out"
	  echo $((SECONDS - start)) >"$side_dir/$name.secs.new"
	  mv "$side_dir/$name.secs.new" "$side_dir/$name.secs" ) &
}

# show_ended: count the output of every side run that has ended.
show_ended() {
	local f name
	for f in "$side_dir"/*.secs; do
		[ -f "$f" ] || continue
		name=${f##*/}
		name=${name%.secs}
		printf '# %s\n' "$name"
		count "$name" <"$side_dir/$name.out"
		printf '# %s took %ds\n' "$name" "$(cat "$f")"
		note_exit "$name"
		rm -f "$f"
	done
}

# start_pooled NAME CMD...: start_side once fewer than TEST_JOBS run.
start_pooled() {
	while [ "$(jobs -rp | wc -l)" -ge "$TEST_JOBS" ]; do
		wait -n 2>/dev/null || true
		show_ended
	done
	start_side "$@"
}

# note_exit NAME: a non-zero exit without a "not ok" line is one failure.
note_exit() {
	local name=$1
	if [ "$last_status" -ne 0 ] && [ "$saw_not_ok" -eq 0 ]; then
		failed=$((failed + 1))
		if [ "$last_status" -eq 124 ]; then
			failures+=("$name: timed out after ${TEST_TIMEOUT}s")
		else
			failures+=("$name: exited with status $last_status")
		fi
	fi
}

# run_one NAME CMD...: run CMD from the repository root under a timeout and
# count its output; a non-zero exit without a "not ok" line is one failure.
run_one() {
	local name=$1 start=$SECONDS
	shift
	printf '# %s\n' "$name"
	count "$name" < <(cd "$repo" && timeout -k 10 "$TEST_TIMEOUT" "$@" </dev/null 2>&1;
		echo "$mark $?")
	printf '# %s took %ds\n' "$name" $((SECONDS - start))
	note_exit "$name"
}

# Unit programs: every executable UNIT_DIR/test-* without a dot in its name.
nunit=0
if [ -d "$UNIT_DIR" ]; then
	for t in "$UNIT_DIR"/test-*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		case "${t##*/}" in *.*) continue ;; esac
		case "${t##*/}" in *"$filter"*) ;; *) continue ;; esac
		nunit=$((nunit + 1))
		run_one "unit/${t##*/}" "$t"
	done
fi

# bats files: every tests/*.bats, run from the repository root.
nbats=0
if compgen -G "$repo/tests/*.bats" >/dev/null; then
	if ! command -v bats >/dev/null 2>&1; then
		failed=$((failed + 1))
		failures+=("bats: not installed (make deps)")
	else
		files=()
		for b in $LONG_FILES; do
			[ -f "$repo/tests/$b" ] && files+=("$repo/tests/$b")
		done
		for b in "$repo"/tests/*.bats; do
			[[ " $LONG_FILES " == *" ${b##*/} "* ]] || files+=("$b")
		done
		for b in "${files[@]}"; do
			case "${b##*/}" in *"$filter"*) ;; *) continue ;; esac
			nbats=$((nbats + 1))
			if [ "$TEST_JOBS" -gt 1 ]; then
				start_pooled "${b##*/}" bats --tap "$b"
			else
				run_one "${b##*/}" bats --tap "$b"
			fi
		done
		wait
		show_ended
	fi
fi

if [ $((nunit + nbats)) -eq 0 ]; then
	failed=$((failed + 1))
	failures+=("no tests found (UNIT_DIR=$UNIT_DIR, $repo/tests/*.bats)")
fi

if [ ${#failures[@]} -gt 0 ]; then
	printf '\nfailures:\n'
	printf '  %s\n' "${failures[@]}"
fi
echo
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
printf '%s\n' "$summary"
[ "$failed" -eq 0 ]
