/*
 * fuzz-device.c - libFuzzer target for DEVICE_GET_INFO, DEVICE_GET_IRQ_INFO,
 * DEVICE_SET_IRQS and DEVICE_RESET (commands 4, 7, 8, 13).
 * Input layout and checks: fuzz-family.h.
 */
#include "fuzz-family.h"

static const uint16_t cmds[] = {
	VX_CMD_DEVICE_GET_INFO, VX_CMD_DEVICE_GET_IRQ_INFO,
	VX_CMD_DEVICE_SET_IRQS, VX_CMD_DEVICE_RESET,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fx_family(cmds, sizeof(cmds) / sizeof(cmds[0]), data, size);
}
