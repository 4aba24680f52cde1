#!/usr/bin/env bash
# run-man-examples.sh PAGE [DIR] - run the EXAMPLES of a man page and
# check them.
#
# The EXAMPLES section's literal displays (.Bd -literal ... .Ed) are the
# goldens: a line "$ COMMAND" is run with bash, with "vfuctl" being
# $VFUCTL, from the top of the source tree or, given DIR, in DIR one after
# the other (so later commands see the files earlier ones made; the pages
# name the vectors as ../shared/vectors, so DIR/../shared/vectors is made a
# link to $VECTORS).  The lines after a command up to the next "$ " line
# are output that must appear in its output (stdout and stderr), in that
# order, "..." standing for lines left out; lines of a display before its
# first "$ " line are not checked.  A command "echo $?" is not run: the
# line after it is the exit status the command before must have (0 when
# none is given).  Roff escapes \e \& \(aq \(dq \- are undone.
#
# Environment: VFUCTL (default cli/vfuctl), VECTORS (passed on).
# Exit status 0 when every example passes, 1 otherwise (with a report on
# stderr), 2 when PAGE has no example.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
page=${1:?usage: run-man-examples.sh PAGE [DIR]}
dir=${2:-}
vfuctl=${VFUCTL:-$repo/cli/vfuctl}
case $vfuctl in /*) ;; *) vfuctl=$PWD/$vfuctl ;; esac

unroff() {
	local s=$1
	s=${s//\\&/}
	s=${s//\\(aq/\'}
	s=${s//\\(dq/\"}
	s=${s//\\-/-}
	s=${s//\\e/\\}
	printf '%s' "$s"
}

cmds=()
want=()	# expected output lines of cmds[i], newline-separated
status=()
section= literal=0 expect_status=0 incmd=0
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	.Sh\ *) section=${line#.Sh }; continue ;;
	esac
	[ "$section" = EXAMPLES ] || continue
	case $line in
	.Bd\ -literal*) literal=1; incmd=0; continue ;;
	.Ed*) literal=0; continue ;;
	esac
	[ "$literal" -eq 1 ] || continue
	line=$(unroff "$line")
	if [ "$expect_status" -eq 1 ]; then
		status[${#cmds[@]} - 1]=$line
		expect_status=0
	elif [ "$line" = '$ echo $?' ]; then
		[ "$incmd" -eq 1 ] && expect_status=1
	elif [[ $line == '$ '* ]]; then
		cmds+=("${line#'$ '}")
		want+=("")
		status+=(0)
		incmd=1
	elif [ "$incmd" -eq 1 ]; then
		want[${#cmds[@]} - 1]+=$line$'\n'
	fi
done < "$page"

if [ ${#cmds[@]} -eq 0 ]; then
	echo "$page: no examples found" >&2
	exit 2
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$vfuctl" "$bin/vfuctl"
if [ -n "$dir" ]; then
	mkdir -p "$dir" "$dir/../shared" &&
		ln -sfn "${VECTORS:?}" "$dir/../shared/vectors" || exit 1
else
	dir=$repo
fi

failed=0
for i in "${!cmds[@]}"; do
	out=$(cd "$dir" && PATH=$bin:$PATH bash -c "${cmds[i]}" 2>&1 </dev/null)
	st=$?
	problem=
	if [ "$st" != "${status[i]}" ]; then
		problem="exit status $st, the page says ${status[i]}"
	else
		# the shown lines must be an ordered subsequence of the output
		mapfile -t got <<< "$out"
		k=0
		while IFS= read -r w; do
			[ "$w" = ... ] && continue
			while [ "$k" -lt ${#got[@]} ] && [ "${got[k]}" != "$w" ]; do
				k=$((k + 1))
			done
			if [ "$k" -ge ${#got[@]} ]; then
				problem="output lacks (in this order) the line: $w"
				break
			fi
			k=$((k + 1))
		done < <(printf '%s' "${want[i]}")
	fi
	if [ -n "$problem" ]; then
		failed=1
		printf '%s: example "%s": %s; output:\n%s\n\n' "${page##*/}" \
			"${cmds[i]}" "$problem" "$out" >&2
	fi
done
echo "${page##*/}: ${#cmds[@]} examples run"
exit "$failed"
