/*
 * fuzz-feature.c - libFuzzer target for DEVICE_FEATURE, MIG_DATA_READ and
 * MIG_DATA_WRITE (commands 16, 17, 18).
 * Input layout and checks: fuzz-family.h.
 */
#include "fuzz-family.h"

static const uint16_t cmds[] = {
	VX_CMD_DEVICE_FEATURE, VX_CMD_MIG_DATA_READ, VX_CMD_MIG_DATA_WRITE,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fx_family(cmds, sizeof(cmds) / sizeof(cmds[0]), data, size);
}
