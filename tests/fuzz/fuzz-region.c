/*
 * fuzz-region.c - libFuzzer target for DEVICE_GET_REGION_INFO (with its
 * capability chain), DEVICE_GET_REGION_IO_FDS, REGION_READ, REGION_WRITE and
 * REGION_WRITE_MULTI (commands 5, 6, 9, 10, 15).
 * Input layout and checks: fuzz-family.h.
 */
#include "fuzz-family.h"

static const uint16_t cmds[] = {
	VX_CMD_DEVICE_GET_REGION_INFO, VX_CMD_DEVICE_GET_REGION_IO_FDS,
	VX_CMD_REGION_READ, VX_CMD_REGION_WRITE, VX_CMD_REGION_WRITE_MULTI,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fx_family(cmds, sizeof(cmds) / sizeof(cmds[0]), data, size);
}
