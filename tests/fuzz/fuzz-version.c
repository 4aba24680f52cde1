/*
 * fuzz-version.c - libFuzzer target for VERSION (command 1): versions and
 * the JSON capabilities, parsed by jansson.
 * Input layout and checks: fuzz-family.h.
 */
#include "fuzz-family.h"

static const uint16_t cmds[] = {
	VX_CMD_VERSION,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fx_family(cmds, sizeof(cmds) / sizeof(cmds[0]), data, size);
}
