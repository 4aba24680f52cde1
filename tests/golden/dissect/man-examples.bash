# man-examples.bash - run the EXAMPLES of vfuctl-dissect(1) and
# vfuctl-stats(1); sourced by tests/dissect.bats and tests/stats.bats.
#
# run_man_examples PAGE DIR: in the EXAMPLES section of PAGE, each literal
# display (.Bd -literal ... .Ed) that has lines "$ COMMAND" is a script: the
# commands run one after the other with bash in DIR (so later ones see the
# files earlier ones made), "vfuctl" being $VFUCTL.  The lines after a
# command, up to the next "$ " line, must appear in its output (stdout and
# stderr) in that order, "..." standing for lines left out.  "$ echo $?" is
# not run: the line after it is the exit status the command before must
# have (0 when none is given).  Lines of a display before its first "$ "
# line are not checked.  Roff escapes \& \e \(aq \(dq \- are undone.
#
# The pages name the vectors as ../shared/vectors, so DIR/../shared/vectors
# is made a link to $VECTORS.  Prints "PAGE: N examples run"; returns 1
# when one fails (with a report on stderr).

_mx_unroff() {
	local s=$1
	s=${s//\\&/}
	s=${s//\\(aq/\'}
	s=${s//\\(dq/\"}
	s=${s//\\-/-}
	s=${s//\\e/\\}
	printf '%s' "$s"
}

run_man_examples() {
	local page=$1 dir=$2 line section= literal=0 expect_status=0 incmd=0
	local -a cmds=() want=() status=()
	local bin i out st problem k w failed=0
	local -a got

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
		line=$(_mx_unroff "$line")
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
		return 1
	fi

	mkdir -p "$dir" "$dir/../shared" || return 1
	ln -sfn "$VECTORS" "$dir/../shared/vectors" || return 1
	bin=$(mktemp -d) || return 1
	ln -s "$VFUCTL" "$bin/vfuctl"
	for i in "${!cmds[@]}"; do
		out=$(cd "$dir" && PATH=$bin:$PATH bash -c "${cmds[i]}" 2>&1 </dev/null)
		st=$?
		problem=
		if [ "$st" != "${status[i]}" ]; then
			problem="exit status $st, the page says ${status[i]}"
		else
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
	rm -rf "$bin"
	echo "${page##*/}: ${#cmds[@]} examples run"
	return "$failed"
}
