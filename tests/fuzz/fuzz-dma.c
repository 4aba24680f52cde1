/*
 * fuzz-dma.c - libFuzzer target for DMA_MAP, DMA_UNMAP, DMA_READ and
 * DMA_WRITE (commands 2, 3, 11, 12) in every peer's wire form.
 * Input layout and checks: fuzz-family.h.
 */
#include "fuzz-family.h"

static const uint16_t cmds[] = {
	VX_CMD_DMA_MAP, VX_CMD_DMA_UNMAP, VX_CMD_DMA_READ, VX_CMD_DMA_WRITE,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fx_family(cmds, sizeof(cmds) / sizeof(cmds[0]), data, size);
}
