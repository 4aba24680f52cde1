#!/usr/bin/env bats
# The README's main job: `make demo` runs traces/demo.sh.  It must run to
# the end and show what it promises.

load helpers

@test "demo runs to the end and decodes every sample trace" {
	run env VFUCTL="$VFUCTL" bash "$repo/traces/demo.sh"
	assert_status 0
	assert_contains "VERSION command 0.0 max_msg_fds=16"
	assert_contains "client qemu"
	assert_contains "argsz 8 is smaller than the 16-byte reply"
	assert_contains '"vfio_user.chan":"twin"'
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
