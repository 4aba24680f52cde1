/*
 * vx-device.h - an emulated PCI device built from a JSON description (the
 * format is vfuctl-device(5)): its regions, registers, interrupts, DMA
 * engine and configuration space, and what accesses to them do.
 *
 * The device knows nothing about sockets.  What it needs from the server
 * goes through struct vx_device_ops: raising an interrupt vector and moving
 * bytes to or from client memory.  Both are called from inside
 * vx_device_access(); a DMA transfer may finish later instead (the ops
 * return VX_ERR_AGAIN, the owner calls vx_device_dma_done() once it has):
 * meanwhile the engine is busy, and a second start fails at once with
 * status error.  Errors are VX_ERR_* codes (vx-error.h).
 *
 * Regions use the vfio PCI indices (bar0-bar5 0-5, rom 6, config 7).  A
 * region is backed by plain memory ("ram", a memfd when mmap-able so the
 * client can map it), by registers ("registers", reads and writes with
 * per-register semantics), or is the generated configuration space.
 *
 * State that a reset restores: registers (except "scratch" ones), the DMA
 * engine and configuration space.  RAM keeps its contents across resets
 * and across clients, as does everything else.
 */
#ifndef VX_DEVICE_H
#define VX_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "vx-pci.h"
#include "vx-wire.h"

#define VX_DEV_NREGIONS		VX_PCI_NUM_REGIONS	/* 9, vga unused */
#define VX_DEV_NIRQS		VX_PCI_NUM_IRQS		/* 5 */
#define VX_DEV_MAX_SPARSE	16
#define VX_DEV_MAX_REGS		69	/* per region: 64 + the DMA engine's 5 */

enum vx_backing {
	VX_BACK_NONE = 0,	/* region absent: size 0 */
	VX_BACK_RAM,
	VX_BACK_REGS,
	VX_BACK_CONFIG,
};

enum vx_reg_access {
	VX_REG_RW,		/* reads back what was written */
	VX_REG_RO,		/* writes ignored */
	VX_REG_W1C,		/* writing 1 to a bit clears it */
	VX_REG_SCRATCH,		/* like rw, but a reset keeps its value */
};

/* DMA engine registers, relative to the engine's base offset. */
#define VX_DMA_REG_ADDR		0x00	/* u64: client (IOVA) address */
#define VX_DMA_REG_LEN		0x08	/* u32: bytes to move */
#define VX_DMA_REG_DIR		0x0c	/* u32: 0 device to client, 1 back */
#define VX_DMA_REG_GO		0x10	/* u32: writing 1 starts; reads 0 */
#define VX_DMA_REG_STATUS	0x14	/* u32: 0 idle, 1 done, 2 error; w1c */
#define VX_DMA_REGS_SIZE	0x18

#define VX_DMA_TO_CLIENT	0
#define VX_DMA_FROM_CLIENT	1
#define VX_DMA_STATUS_DONE	0x1u
#define VX_DMA_STATUS_ERROR	0x2u

/* An interrupt to raise: index VX_IRQ_INTX/MSI/MSIX, or -1 for none. */
struct vx_irq_ref {
	int index;
	unsigned vector;
};

struct vx_reg {
	char *name;
	uint32_t off;
	unsigned width;		/* 1, 2, 4, 8 */
	uint64_t reset, val;
	int access;		/* enum vx_reg_access */
	struct vx_irq_ref doorbell;	/* raised on every write */
	int set_reg;		/* doorbell also sets set_bits here, -1 none */
	uint64_t set_bits;
	int dma;		/* VX_DMA_REG_* + 1 of the engine, 0 none */
};

struct vx_sparse {
	uint64_t off, size;
};

struct vx_region {
	int backing;		/* enum vx_backing */
	uint64_t size;
	uint32_t flags;		/* VX_REGION_READ, _WRITE, _MMAP */
	uint8_t *mem;		/* ram: size bytes (mapped memfd if mmap) */
	int fd;			/* ram with mmap: the memfd, else -1 */
	struct vx_sparse sparse[VX_DEV_MAX_SPARSE];
	unsigned nsparse;	/* 0 with mmap: the whole region maps */
	struct vx_reg *regs;	/* registers, sorted by offset */
	unsigned nregs;
};

struct vx_device_ops {
	/* raise vector of IRQ index (masking is the caller's business) */
	void (*irq)(void *ctx, unsigned index, unsigned vector);
	/*
	 * Move len bytes between buf and client memory at addr: dir
	 * VX_DMA_TO_CLIENT writes buf out, VX_DMA_FROM_CLIENT fills it.
	 * Returns 0, a VX_ERR_* code (the transfer failed), or VX_ERR_AGAIN:
	 * under way, buf stays reserved until vx_device_dma_done().
	 */
	int (*dma)(void *ctx, int dir, uint64_t addr, void *buf, size_t len);
};

struct vx_dma_engine {
	int present;
	unsigned region;	/* registers region holding the engine */
	uint32_t base;		/* its offset there */
	unsigned buf_region;	/* ram region the data comes from/goes to */
	uint64_t buf_off, buf_size;
	struct vx_irq_ref irq;	/* raised when a transfer ends */
	int reg[5];		/* register indices: addr, len, dir, go, status */
	int busy;		/* a transfer is under way */
};

struct vx_device {
	char *name;		/* the description's "name" */
	struct vx_pci_config pci;
	struct vx_region region[VX_DEV_NREGIONS];
	unsigned irq_count[VX_DEV_NIRQS];
	struct vx_dma_engine dma;
	/* set by the user of the device */
	const struct vx_device_ops *ops;
	void *ctx;
};

/*
 * Load a description.  On failure returns NULL and writes one line to err:
 * "FILE: .json.path: why" (or "FILE: why" for unreadable files and JSON
 * syntax, with line and column).
 */
struct vx_device *vx_device_load(const char *path, char *err, size_t errlen);
void vx_device_free(struct vx_device *d);

/*
 * Read or write n bytes of region index at off.  Returns 0, or
 * VX_ERR_INVALID for
 * an absent region, an access outside it or one its flags forbid (read,
 * write).  Register regions take any size and alignment: each register
 * the access touches sees the bytes that fall on it, bytes between
 * registers read as zero and writes to them are dropped.
 */
int vx_device_access(struct vx_device *d, unsigned index, uint64_t off,
    void *buf, size_t n, int write);

/* The transfer the ops left under way ended with err (0 or VX_ERR_*):
 * the engine's status and interrupt follow.  Nothing if none is. */
void vx_device_dma_done(struct vx_device *d, int err);

/* Restore reset state (see above). */
void vx_device_reset(struct vx_device *d);

/*
 * Save and restore the device state (registers, RAM, configuration space)
 * as one opaque blob for migration.  vx_device_save returns a malloc'd
 * buffer and its size in *len, NULL on allocation failure;
 * vx_device_restore returns 0, or VX_ERR_INVALID (device unchanged) if the blob
 * does not fit this device.
 */
uint8_t *vx_device_save(const struct vx_device *d, size_t *len);
int vx_device_restore(struct vx_device *d, const uint8_t *blob, size_t len);

#endif /* VX_DEVICE_H */
