#!/usr/bin/env bats
# The README's main job: `make demo` runs traces/demo.sh.  It must run to
# the end and show what it promises: a server, a recorded client session,
# its dissection and statistics, and a real QEMU session.

load helpers

@test "demo records a client session through the recorder and dissects it" {
	run timeout 120 env VFUCTL="$VFUCTL" bash "$repo/traces/demo.sh"
	assert_status 0
	# the client's view
	assert_contains "bar0+0x24: 0x0dca494f"
	assert_contains "MSI-X vector 0 fired"
	# the recorded trace, dissected
	assert_contains "connection opened"
	assert_contains "REGION_WRITE command bar2+0x10 len 4 = 0xdeadbeef"
	assert_contains "DMA_WRITE command 0x100000 len 16"
	assert_contains "IRQ MSI-X vector 0 signalled"
	assert_contains "connection closed"
	# the filtered tree and the statistics
	assert_contains "region has mmap-able areas"
	assert_contains "REGION_WRITE "
	assert_contains "most accessed offsets"
	# the real session
	assert_contains "VERSION command 0.0 max_msg_fds=16"
	assert_contains "done:"
}

@test "every sample trace decodes with the exit status its content implies" {
	run "$VFUCTL" decode "$repo/traces/qemu-gpio-io.jsonl"
	assert_status 0
	run "$VFUCTL" decode "$repo/traces/server-probe-dma-twin.jsonl"
	assert_status 0
	run "$VFUCTL" decode "$repo/traces/gpio-probe-full.jsonl"
	assert_status 1
}
