#!/usr/bin/env bash
# update-golden.sh - regenerate the golden outputs in tests/golden/.
#
#   tests/update-golden.sh NAME...    regenerate these goldens
#   tests/update-golden.sh --all      regenerate every golden
#   tests/update-golden.sh --list     list the golden names
#
#   make update-golden NAME=qemu-dma-rw.tree   (or: make update-golden NAME)
#
# A golden is named INPUT.VIEW:
#   INPUT  badframe     $VECTORS/gpio-probe-badframe.jsonl
#          gpio-slice   lines 1-4, 9-10, 78-95 of $VECTORS/gpio-probe-full.jsonl
#                       (VERSION, GET_INFO, BAR2's region info, then seq 77-94:
#                       the malformed seq 79, 83, 89, the empty WRITE_MULTI
#                       91, the unknown command 93 and the out-of-bounds 81)
#          lvu-head     the first 20 lines of $VECTORS/lvu-client-server-source.jsonl
#                       (VERSION, region info with the argsz retry and the
#                       sparse mmap capability)
#          qemu-dma-rw  tests/vectors-qemu/qemu-dma-rw.jsonl
#   VIEW   summary (vfuctl decode), tree (-V), hex (-x), json (-o json)
#
# The file holds what vfuctl prints (stdout and stderr) and a last line
# "[exit N]".  Commands run from the top of the source tree.
#
# Environment: VFUCTL (default cli/vfuctl), VECTORS (default
# ../shared/vectors), GOLDEN_DIR (where to write, default tests/golden).
#
# tests/decode.bats sources this file for golden_names, golden_needs and
# golden_run; only running it does anything.

golden_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

golden_inputs='badframe gpio-slice lvu-head qemu-dma-rw'
golden_views='summary tree hex json'

# golden_names: every golden name, one a line.
golden_names() {
	local i v
	for i in $golden_inputs; do
		for v in $golden_views; do
			printf '%s.%s\n' "$i" "$v"
		done
	done
}

# golden_needs NAME: the file of $VECTORS the golden reads, if any.
golden_needs() {
	case ${1%.*} in
	badframe) echo gpio-probe-badframe.jsonl ;;
	gpio-slice) echo gpio-probe-full.jsonl ;;
	lvu-head) echo lvu-client-server-source.jsonl ;;
	esac
}

# golden_exec INPUT OPT: run vfuctl decode OPT on INPUT.
golden_exec() {
	local vfuctl=${VFUCTL:-$golden_repo/cli/vfuctl}
	local vectors=${VECTORS:-$(cd "$golden_repo/.." && pwd)/shared/vectors}

	# shellcheck disable=SC2086  # $2 is zero, one or two words
	case $1 in
	badframe)
		(cd "$golden_repo" && "$vfuctl" decode $2 \
			"$vectors/gpio-probe-badframe.jsonl" 2>&1) ;;
	gpio-slice)
		(cd "$golden_repo" && sed -n '1,4p;9,10p;78,95p' \
			"$vectors/gpio-probe-full.jsonl" |
			"$vfuctl" decode $2 - 2>&1) ;;
	lvu-head)
		(cd "$golden_repo" && head -n 20 \
			"$vectors/lvu-client-server-source.jsonl" |
			"$vfuctl" decode $2 - 2>&1) ;;
	qemu-dma-rw)
		(cd "$golden_repo" && "$vfuctl" decode $2 \
			tests/vectors-qemu/qemu-dma-rw.jsonl 2>&1) ;;
	esac
}

# golden_run NAME: print what the golden should hold; 2 for an unknown name.
golden_run() {
	local name=$1 opt status=0

	if ! golden_names | grep -qxF -- "$name"; then
		echo "update-golden: unknown golden '$name'" >&2
		return 2
	fi
	case ${name##*.} in
	summary) opt= ;;
	tree) opt=-V ;;
	hex) opt=-x ;;
	json) opt='-o json' ;;
	esac
	golden_exec "${name%.*}" "$opt" || status=$?
	printf '[exit %d]\n' "$status"
}

golden_main() {
	local dir=${GOLDEN_DIR:-$golden_repo/tests/golden}
	local vectors=${VECTORS:-$(cd "$golden_repo/.." && pwd)/shared/vectors}
	local names=() name need tmp

	if [ $# -eq 0 ]; then
		echo 'usage: tests/update-golden.sh NAME... | --all | --list' >&2
		echo "names: $(golden_names | tr '\n' ' ')" >&2
		return 2
	fi
	case $1 in
	--list) golden_names; return 0 ;;
	--all) mapfile -t names < <(golden_names) ;;
	*) names=("$@") ;;
	esac
	mkdir -p "$dir" || return 2
	for name in "${names[@]}"; do
		name=${name##*/}
		if ! golden_names | grep -qxF -- "$name"; then
			echo "update-golden: unknown golden '$name' (--list shows them)" >&2
			return 2
		fi
		need=$(golden_needs "$name")
		if [ -n "$need" ] && [ ! -f "$vectors/$need" ]; then
			echo "update-golden: $name needs $vectors/$need" >&2
			return 2
		fi
		tmp=$(mktemp "$dir/.$name.XXXXXX") || return 2
		golden_run "$name" > "$tmp" || { rm -f "$tmp"; return 2; }
		chmod 0644 "$tmp" && mv "$tmp" "$dir/$name" || return 2
		echo "    GOLDEN   ${dir#"$golden_repo"/}/$name"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	golden_main "$@"
	exit $?
fi
