/*
 * device.c - run a loaded device (device-load.c): register semantics,
 * doorbells, the DMA engine, reset and the migration blob.  Errors are
 * VX_ERR_* codes.
 */
#include <stdlib.h>
#include <string.h>

#include "device-int.h"
#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"

#define BLOB_MAGIC	0x44554656u	/* "VFUD" */
#define BLOB_VERSION	1u

/* --- running -------------------------------------------------------- */

static void
raise_irq(struct vx_device *d, const struct vx_irq_ref *q)
{
	if (q->index >= 0 && d->ops != NULL && d->ops->irq != NULL)
		d->ops->irq(d->ctx, (unsigned)q->index, q->vector);
}

/* The engine's transfer ended with err (0 or VX_ERR_*): status, then
 * the interrupt. */
static void
dma_end(struct vx_device *d, int err)
{
	struct vx_dma_engine *e = &d->dma;

	d->region[e->region].regs[e->reg[4]].val |= err == 0 ?
	    VX_DMA_STATUS_DONE : VX_DMA_STATUS_ERROR;
	raise_irq(d, &e->irq);
}

static void
run_dma(struct vx_device *d)
{
	struct vx_dma_engine *e = &d->dma;
	struct vx_region *r = &d->region[e->region];
	struct vx_region *b = &d->region[e->buf_region];
	uint64_t addr = r->regs[e->reg[0]].val;
	uint64_t len = r->regs[e->reg[1]].val;
	int dir = r->regs[e->reg[2]].val ? VX_DMA_FROM_CLIENT : VX_DMA_TO_CLIENT;
	int rc = VX_ERR_INVALID;

	if (e->busy) {
		dma_end(d, VX_ERR_BUSY);	/* one transfer at a time */
		return;
	}
	if (len <= e->buf_size && d->ops != NULL && d->ops->dma != NULL)
		rc = d->ops->dma(d->ctx, dir, addr, b->mem + e->buf_off,
		    (size_t)len);
	if (rc == VX_ERR_AGAIN) {
		e->busy = 1;	/* vx_device_dma_done() ends it */
		return;
	}
	dma_end(d, rc);
}

void
vx_device_dma_done(struct vx_device *d, int err)
{
	if (!d->dma.busy)
		return;
	d->dma.busy = 0;
	dma_end(d, err);
}

static int
access_regs(struct vx_device *d, struct vx_region *r, uint64_t off,
    uint8_t *buf, size_t n, int write)
{
	uint64_t end = off + n, lo, hi, k;
	unsigned i, nfire = 0;
	struct vx_reg *fire[VX_DEV_MAX_REGS];

	if (!write)
		memset(buf, 0, n);
	for (i = 0; i < r->nregs; i++) {
		struct vx_reg *g = &r->regs[i];
		uint64_t val, wv, bm = 0;

		if (g->off >= end || g->off + g->width <= off)
			continue;
		lo = g->off > off ? g->off : off;
		hi = g->off + g->width < end ? g->off + g->width : end;
		val = g->dma == DEV_ROLE_GO ? 0 : g->val;	/* go reads as 0 */
		if (!write) {
			for (k = lo; k < hi; k++)
				buf[k - off] = (uint8_t)(val >> (8 * (k - g->off)));
			continue;
		}
		wv = 0;
		for (k = lo; k < hi; k++) {
			wv |= (uint64_t)buf[k - off] << (8 * (k - g->off));
			bm |= 0xffull << (8 * (k - g->off));
		}
		switch (g->access) {
		case VX_REG_RW:
		case VX_REG_SCRATCH:
			g->val = (g->val & ~bm) | (wv & bm);
			break;
		case VX_REG_W1C:
			g->val &= ~(wv & bm);
			break;
		default:
			break;
		}
		if (g->dma == DEV_ROLE_GO)
			g->val = 0;	/* only the write starts it */
		if (g->doorbell.index >= 0 || (g->dma == DEV_ROLE_GO && (wv & 1)))
			fire[nfire++] = g;
	}
	/* side effects once every register has its new value */
	for (i = 0; i < nfire; i++) {
		struct vx_reg *g = fire[i];

		if (g->dma == DEV_ROLE_GO) {
			run_dma(d);
			continue;
		}
		if (g->set_reg >= 0)
			r->regs[g->set_reg].val |= g->set_bits;
		raise_irq(d, &g->doorbell);
	}
	return 0;
}

int
vx_device_access(struct vx_device *d, unsigned index, uint64_t off,
    void *buf, size_t n, int write)
{
	struct vx_region *r;

	if (index >= VX_DEV_NREGIONS)
		return VX_ERR_INVALID;
	r = &d->region[index];
	if (r->backing == VX_BACK_NONE || off > r->size || n > r->size - off)
		return VX_ERR_INVALID;
	if (!(r->flags & (write ? VX_REGION_WRITE : VX_REGION_READ)))
		return VX_ERR_INVALID;
	switch (r->backing) {
	case VX_BACK_RAM:
		if (write)
			memcpy(r->mem + off, buf, n);
		else
			memcpy(buf, r->mem + off, n);
		return 0;
	case VX_BACK_CONFIG:
		if (write)
			vx_pci_config_write(&d->pci, (uint32_t)off, buf, n);
		else
			vx_pci_config_read(&d->pci, (uint32_t)off, buf, n);
		return 0;
	default:
		return access_regs(d, r, off, buf, n, write);
	}
}

void
vx_device_reset(struct vx_device *d)
{
	unsigned i, j;

	for (i = 0; i < VX_DEV_NREGIONS; i++)
		for (j = 0; j < d->region[i].nregs; j++)
			if (d->region[i].regs[j].access != VX_REG_SCRATCH)
				d->region[i].regs[j].val = d->region[i].regs[j].reset;
	vx_pci_config_reset(&d->pci);
}

/* --- migration blob ------------------------------------------------- */

/*
 * Layout, little-endian: magic u32, version u32, total size u64; then per
 * region in index order its registers' values (u64 each) and its RAM; then
 * the configuration space bytes.
 */
static size_t
blob_size(const struct vx_device *d)
{
	size_t n = 16;
	unsigned i;

	for (i = 0; i < VX_DEV_NREGIONS; i++) {
		n += 8u * d->region[i].nregs;
		if (d->region[i].backing == VX_BACK_RAM)
			n += (size_t)d->region[i].size;
	}
	return n + d->pci.size;
}

uint8_t *
vx_device_save(const struct vx_device *d, size_t *len)
{
	size_t n = blob_size(d), at = 16;
	uint8_t *b = malloc(n);
	unsigned i, j;

	if (b == NULL)
		return NULL;
	vx_store(b, 4, BLOB_MAGIC, 0);
	vx_store(b + 4, 4, BLOB_VERSION, 0);
	vx_store(b + 8, 8, n, 0);
	for (i = 0; i < VX_DEV_NREGIONS; i++) {
		const struct vx_region *r = &d->region[i];

		for (j = 0; j < r->nregs; j++, at += 8)
			vx_store(b + at, 8, r->regs[j].val, 0);
		if (r->backing == VX_BACK_RAM) {
			memcpy(b + at, r->mem, (size_t)r->size);
			at += (size_t)r->size;
		}
	}
	memcpy(b + at, d->pci.val, d->pci.size);
	*len = n;
	return b;
}

int
vx_device_restore(struct vx_device *d, const uint8_t *b, size_t len)
{
	size_t at = 16;
	unsigned i, j;

	if (len != blob_size(d) || len < 16 ||
	    vx_load(b, 4, 0) != BLOB_MAGIC ||
	    vx_load(b + 4, 4, 0) != BLOB_VERSION || vx_load(b + 8, 8, 0) != len)
		return VX_ERR_INVALID;
	for (i = 0; i < VX_DEV_NREGIONS; i++) {
		struct vx_region *r = &d->region[i];

		for (j = 0; j < r->nregs; j++, at += 8)
			r->regs[j].val = vx_load(b + at, 8, 0) &
			    dev_width_mask(r->regs[j].width);
		if (r->backing == VX_BACK_RAM) {
			memcpy(r->mem, b + at, (size_t)r->size);
			at += (size_t)r->size;
		}
	}
	memcpy(d->pci.val, b + at, d->pci.size);
	return 0;
}
