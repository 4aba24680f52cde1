#!/usr/bin/env bash
# make-corpus.sh - record the replay corpus anew: one trace per subject,
# each a scripted vfuctl client session through vfuctl record to vfuctl
# server (tests/devices/DEVICE.json), with what the tests compare.
#
#   traces/make-corpus.sh [-o DIR] [SUBJECT...]
#       record every SUBJECT (default: all) and write, in DIR (default:
#       traces/): replay-SUBJECT.jsonl (the trace, `vfuctl dissect -o
#       jsonl` without digest records), replay-SUBJECT.stats (`vfuctl
#       stats` of it), replay-SUBJECT.out (what the client printed) and
#       the SUBJECT's line of replay.digests (the digest of a replay
#       against a fresh vfuctl server).  When the server's behaviour
#       changes on purpose, this one command updates the corpus; review
#       it with git diff.
#   traces/make-corpus.sh --session SUBJECT SOCKET [SOCKET2]
#       only run SUBJECT's client session against SOCKET (SOCKET2: the
#       migration's destination), its standard error into standard
#       output as when recorded; the tests play it to vfuctl server
#       --replay and compare the output with replay-SUBJECT.out.
#   traces/make-corpus.sh --list
#       SUBJECT DEVICE ENDPOINTS, one a line.
#
# VFUCTL names the binary (default: cli/vfuctl beside this folder).
set -eu

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
VFUCTL=${VFUCTL:-$repo/cli/vfuctl}
SUBJECTS="discovery peek-poke dma twin interrupts reset migration errors"

die() {
	echo "make-corpus.sh: $*" >&2
	exit 2
}

device_of() {
	case $1 in
	dma | twin | interrupts) echo dma ;;
	*) echo gpio ;;
	esac
}

endpoints_of() {
	if [ "$1" = migration ]; then echo 2; else echo 1; fi
}

# The device's DMA engine (tests/devices/dma.json, bar0): ADDR LEN
# DIRECTION (1: DMA_READ into bar2, 0: DMA_WRITE from bar2), go, and wait
# for it to be done.
dma_engine() {
	printf 'poke bar0 0x0 %s 8; poke bar0 0x8 %s 4; poke bar0 0xc %s 4;
		poke bar0 0x10 1 4; poll bar0 0x14 1 1 5000;' "$1" "$2" "$3"
}

# migrate SOURCE DESTINATION: set the source's registers, stop it and
# read its state, and while its connection is still open (as a VMM's
# is), resume a second server from that state and read it back.
migrate() {
	local line data
	coproc SRC { "$VFUCTL" client --json -f - "$1"; }
	echo 'poke bar2 0x10 0x12345678 4; poke bar2 0x0 0x5a 4;
		feature set mig-state STOP_COPY; mig read 65536' >&"${SRC[1]}"
	while IFS= read -r line <&"${SRC[0]}"; do
		printf '%s\n' "$line"
		[[ $line != *'"command":"mig"'* ]] || break
	done
	data=$(printf '%s\n' "$line" | jq -r 'select(.command == "mig") | .data')
	[ -n "$data" ] || die "no migration data from the source"
	"$VFUCTL" client -c "feature set mig-state RESUMING; mig write $data;
		feature set mig-state RUNNING; peek bar2 0x10 4; peek bar2 0x0 4" "$2"
	exec {SRC[1]}>&-
	wait "$SRC_PID"
}

# session SUBJECT SOCKET [SOCKET2]: the subject's client session.
session() {
	local s=$2
	case $1 in
	discovery)
		"$VFUCTL" client -c 'version; info; regions; irqs; config' "$s" ;;
	peek-poke)
		"$VFUCTL" client -c 'peek bar2 0x4 4; peek bar2 0x4 2; peek bar2 0x5 1;
			poke bar2 0x10 0x1234 4; peek bar2 0x10 4; poke bar2 0x10 0xdeadbeefcafe 8;
			read bar2 0x0 32; write bar2 0x14 a5; peek bar2 0x14 1;
			poke bar2 0x8 1 4; peek bar2 0x8 4; poke --posted bar2 0x0 7 4;
			peek bar2 0x0 4' "$s" ;;
	dma)
		"$VFUCTL" client --no-fd -c "dma map 0x100000 0x4000 rw;
			dma fill 0x100000 16 0x5a; $(dma_engine 0x100000 16 1)
			read bar2 0x0 16; write bar2 0x0 00112233445566778899aabbccddeeff;
			$(dma_engine 0x102000 16 0) dma dump 0x102000 16;
			dma unmap 0x100000 0x4000" "$s" ;;
	twin)
		"$VFUCTL" client --twin-socket --no-fd -c "version;
			dma map 0x100000 0x4000 rw; dma fill 0x100000 16 0xa7;
			$(dma_engine 0x100000 16 1) read bar2 0x0 16;
			$(dma_engine 0x100100 16 0) dma dump 0x100100 16;
			dma unmap all" "$s" ;;
	interrupts)
		"$VFUCTL" client --no-fd -c "irqs; irq enable MSI-X 0 4;
			poke bar0 0x20 1 4; wait-irq 5000; dma map 0x100000 0x1000 rw;
			$(dma_engine 0x100000 8 0) wait-irq 5000; irq mask MSI-X 1 1;
			irq unmask MSI-X 1 1; poke bar0 0x20 1 4; wait-irq 5000;
			irq disable MSI-X" "$s" ;;
	reset)
		"$VFUCTL" client -c 'poke bar2 0x10 0x55aa 4; poke bar2 0x0 0xff 4;
			peek bar2 0x10 4; reset; peek bar2 0x10 4; peek bar2 0x0 4;
			peek bar2 0x4 4; reset' "$s" ;;
	migration)
		[ $# -eq 3 ] || die "migration: give the source's and the destination's sockets"
		migrate "$s" "$3" ;;
	errors)
		# raw requests the server must refuse (a read past bar2's end, a
		# region that does not exist, an IRQ index out of range, a
		# truncated request, an unknown command, an unmap of no window),
		# then a refused SET_IRQS, which ends the script with status 1
		"$VFUCTL" client -c 'raw REGION_READ 00010000000000000200000004000000;
			raw REGION_READ 00000000000000000c00000004000000;
			raw DEVICE_GET_IRQ_INFO 1000000000000000ff000000;
			raw DEVICE_GET_REGION_INFO 08000000; raw 0x7f;
			raw DMA_UNMAP 180000000000000000002000000000000010000000000000;
			peek bar2 0x4 4; irq enable 9 0 1' "$s" || [ $? -eq 1 ] ;;
	*)
		die "no such subject '$1' (subjects: $SUBJECTS)" ;;
	esac
}

# wait_socket PATH PID: until PATH is a socket, while PID runs.
wait_socket() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || die "process $2 ended before creating $1"
		sleep 0.01
	done
	die "no socket at $1 after 10 s"
}

# The servers and recorder of the subject being recorded: stopped when it
# is done, and on the way out however the script ends.
started=()
stop_started() {
	local p
	for p in "${started[@]}"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	started=()
}

# closed TRACE N: whether TRACE has N connections closed.
closed() {
	[ "$("$VFUCTL" dissect "$1" 2>/dev/null | grep -c ' connection closed')" -ge "$2" ]
}

# record SUBJECT DIR TMP: the subject's session recorded into DIR.
record() {
	local subj=$1 dir=$2 tmp=$3 n k i rec=()
	local dev=$repo/tests/devices/$(device_of "$subj").json
	n=$(endpoints_of "$subj")
	rm -f "$tmp"/*
	for ((k = 0; k < n; k++)); do
		"$VFUCTL" server --socket-path "$tmp/s$k" --device "$dev" 3>&- \
			2>>"$tmp/server.log" &
		started+=("$!")
		wait_socket "$tmp/s$k" "$!"
		rec+=(--listen "$tmp/r$k" --connect "$tmp/s$k")
	done
	"$VFUCTL" record "${rec[@]}" -w "$tmp/t.pcap" 3>&- 2>"$tmp/record.log" &
	local rpid=$!
	started+=("$rpid")
	for ((k = 0; k < n; k++)); do wait_socket "$tmp/r$k" "$rpid"; done
	local socks=("$tmp/r0")
	[ "$n" -lt 2 ] || socks+=("$tmp/r1")
	session "$subj" "${socks[@]}" >"$dir/replay-$subj.out" 2>&1 ||
		die "$subj: the client session failed"
	# the recorder writes CLOSE as soon as a client has gone
	for ((i = 0; i < 1000; i++)); do
		closed "$tmp/t.pcap" "$n" && break
		sleep 0.01
	done
	kill -INT "$rpid"
	wait "$rpid"
	started=("${started[@]/$rpid/}")
	stop_started
	"$VFUCTL" dissect -o jsonl "$tmp/t.pcap" | jq -c 'select(.kind != "digest")' \
		>"$dir/replay-$subj.jsonl"
	"$VFUCTL" import -o "$tmp/c.pcap" "$dir/replay-$subj.jsonl"
	"$VFUCTL" stats "$tmp/c.pcap" >"$dir/replay-$subj.stats"
}

# digest SUBJECT DIR TMP: its replay's digest against a fresh server.
digest() {
	local out
	out=$("$VFUCTL" replay --digest "$tmp/c.pcap" -- "$VFUCTL" server \
		--device "$repo/tests/devices/$(device_of "$1").json" 2>/dev/null) ||
		die "$1: the replay diverges: $out"
	printf '%s\n' "$out" | sed -n 's/^digest \([0-9a-f]\{64\}\)$/\1/p'
}

write_digests() {
	local dir=$1
	shift
	{
		cat <<-'EOF'
		# The replay corpus: TRACE DEVICE DIGEST, one a line, written by
		# traces/make-corpus.sh.  Each trace was recorded with vfuctl record
		# between vfuctl client and vfuctl server (tests/devices/DEVICE.json,
		# one server per recorder endpoint) and exported with `vfuctl
		# dissect -o jsonl`; DIGEST is what `vfuctl replay --digest` prints
		# for it against a fresh vfuctl server with that device.
		# tests/replay.bats replays each twice with --expect-digest.  A
		# change to the server's replies (or to the canonical form) changes
		# a digest: if on purpose, run traces/make-corpus.sh and review.
		EOF
		printf '%s\n' "$@"
	} >"$dir/replay.digests"
}

main() {
	local dir=$here subj lines=() others=() d
	case ${1:-} in
	--session)
		[ $# -ge 3 ] || die "usage: make-corpus.sh --session SUBJECT SOCKET [SOCKET2]"
		shift
		session "$@" 2>&1
		return ;;
	--list)
		for subj in $SUBJECTS; do
			echo "$subj $(device_of "$subj") $(endpoints_of "$subj")"
		done
		return ;;
	-o)
		[ $# -ge 2 ] || die "-o needs a folder"
		dir=$2
		shift 2 ;;
	-h | --help)
		sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		return ;;
	esac
	[ -d "$dir" ] || die "no folder '$dir'"
	command -v jq >/dev/null || die "jq is needed"
	tmp=$(mktemp -d)	# global: the EXIT trap removes it
	trap 'stop_started; rm -rf "$tmp"' EXIT
	# keep the lines of traces not recorded now (other subjects, and
	# traces recorded otherwise: their stats are made anew)
	if [ -f "$dir/replay.digests" ]; then
		while read -r t d rest; do
			[[ $t == "#"* || -z $t ]] && continue
			subj=${t#replay-}
			subj=${subj%.jsonl}
			[[ " ${*:-$SUBJECTS} " == *" $subj "* ]] && continue
			lines+=("$t $d $rest")
			[[ " $SUBJECTS " == *" $subj "* ]] && continue
			others+=("$t $d $rest")
			"$VFUCTL" import -o "$tmp/o.pcap" "$dir/$t"
			"$VFUCTL" stats "$tmp/o.pcap" >"$dir/${t%.jsonl}.stats"
		done <"$dir/replay.digests"
	fi
	for subj in ${*:-$SUBJECTS}; do
		[[ " $SUBJECTS " == *" $subj "* ]] || die "no such subject '$subj' (subjects: $SUBJECTS)"
		record "$subj" "$dir" "$tmp"
		lines+=("replay-$subj.jsonl $(device_of "$subj") $(digest "$subj")")
		echo "replay-$subj.jsonl: $(grep -c . "$dir/replay-$subj.jsonl") records"
	done
	# in the subjects' order, then the others
	write_digests "$dir" "$(for subj in $SUBJECTS; do
		printf '%s\n' "${lines[@]}" | grep "^replay-$subj\.jsonl " || true
	done)" ${others[@]+"${others[@]}"}
}

main "$@"
