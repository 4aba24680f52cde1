#!/usr/bin/env bats
# session-scale.bats - the DMA windows of the session tracker
# (lib/session.c) through vfuctl stats and dissect: cost linear in the
# trace's size however many windows are mapped (measured against as many
# harmless messages, never against the clock), the max_dma_maps bound and
# its DMA_MAPS_OVER_LIMIT finding, zero-size windows and windows past 2^64.
# Traces are made by tests/mkmaps.py.

load helpers

# mktrace NAME KIND N [MAX]: $TEST_TMP/NAME.pcap from tests/mkmaps.py
# (DIR/NAME.pcap with DIR=... in the environment).
mktrace() {
	local name=${DIR:-$TEST_TMP}/$1
	shift
	python3 "$repo/tests/mkmaps.py" "$@" > "$name.jsonl" &&
		"$VFUCTL" import -o "$name.pcap" "$name.jsonl" && rm "$name.jsonl"
}

# the yardstick, made once: 200k DEVICE_GET_INFO round trips
setup_file() {
	command -v python3 > /dev/null || return 0
	DIR=$BATS_FILE_TMPDIR mktrace info info 200000
}

# frames PAGE-ARGS...: the frame numbers vfuctl dissect shows, one line.
frames() {
	"$VFUCTL" dissect "$@" | awk '$1 ~ /^[0-9]+$/ { printf "%s%s", sep, $1; sep = " " }'
}

setup() {
	command -v python3 > /dev/null || skip "python3 is not installed"
}

# scale KIND: stats and dissect of 200k KIND round trips cost under 4x
# what 200k DEVICE_GET_INFO round trips cost (about 2x when the windows
# are searched in O(log n); 100x and more when they were scanned).
scale() {
	local cmd base t
	mktrace dma "$1" 200000
	for cmd in stats dissect; do
		base=$(cpu_ms "$VFUCTL" $cmd "$BATS_FILE_TMPDIR/info.pcap")
		t=$(cpu_ms "$VFUCTL" $cmd "$TEST_TMP/dma.pcap")
		echo "$cmd: $1 ${t} ms, info ${base} ms"
		[ "$t" -lt $((4 * base)) ]
	done
}

@test "session scale: 200k ascending DMA_MAPs cost what as many harmless messages do" {
	scale maps
	# past the spec's default max_dma_maps every one is said
	run vfuctl stats -o json "$TEST_TMP/dma.pcap"
	assert_contains '"DMA_MAPS_OVER_LIMIT"'
}

@test "session scale: 200k DMA_MAPs and UNMAPs with 65535 windows mapped: linear too" {
	scale churn
	run vfuctl stats "$TEST_TMP/dma.pcap"
	assert_status 0
	assert_contains "DMA_UNMAP                      67233"
	[ "${lines[-1]}" = "findings:" ]	# and none below
}

@test "session: a DMA_MAP over the server's max_dma_maps is said once; no false verdicts until an unmap-all" {
	# max_dma_maps 4, five maps (frame 11), a server DMA_READ in the fifth
	# window (13), its unmap (15), an unmap-all (17), a DMA_READ (19)
	mktrace over over 5 4
	[ "$(frames -Y 'vfio_user.finding == "DMA_MAPS_OVER_LIMIT"' "$TEST_TMP/over.pcap")" = 11 ]
	run vfuctl dissect "$TEST_TMP/over.pcap"
	assert_contains "[error] more DMA windows mapped at once than max_dma_maps: [0x104000, +0x1000) with 4 mapped, max_dma_maps 4"
	# the window not kept is not called outside nor unknown; after the
	# unmap-all the checks are back
	[ "$(frames -Y 'vfio_user.finding == "DMA_OUTSIDE" || vfio_user.finding == "DMA_UNMAP_UNKNOWN"' "$TEST_TMP/over.pcap")" = 19 ]
	run vfuctl stats "$TEST_TMP/over.pcap"
	assert_contains "DMA_MAPS_OVER_LIMIT                  1"
	# a state record carries it: a cut after the lost window, no verdict
	vfuctl dissect -Y 'frame.number >= 13' -w "$TEST_TMP/tail.pcap" "$TEST_TMP/over.pcap" > /dev/null
	vfuctl dissect -o jsonl "$TEST_TMP/tail.pcap" | grep -q '"kind":"state"'
	[ "$(frames -Y 'vfio_user.finding == "DMA_OUTSIDE" || vfio_user.finding == "DMA_UNMAP_UNKNOWN"' "$TEST_TMP/tail.pcap")" = 8 ]
}

@test "session: a zero-size window is the byte at its address; one past 2^64 ends at the top" {
	mktrace edges edges 0
	run vfuctl dissect -Y 'vfio_user.finding == "DMA_OVERLAP" || vfio_user.finding == "DMA_OUTSIDE"' "$TEST_TMP/edges.pcap"
	echo "$output"
	assert_contains "[0x10000, +0x0) overlaps [0x10000, +0x0)"
	assert_contains "[0xf000, +0x2000) overlaps [0x10000, +0x0)"
	assert_contains "[0x10000, +0x1) is in no mapped window"
	assert_contains "[0xfffffffffffff800, +0x100) overlaps [0xfffffffffffff000, +0x2000)"
	# no more: [0, +0x1000) does not wrap into the top window, zero bytes
	# at a zero-size window or at a window's end are inside it
	[ "$(frames -Y 'vfio_user.finding == "DMA_OVERLAP" || vfio_user.finding == "DMA_OUTSIDE"' "$TEST_TMP/edges.pcap")" = "5 7 11 15" ]
}
