/*
 * pci-config.c - generate a type 0 configuration space and apply writes to
 * it with per-byte write and write-1-to-clear masks (see vx-pci.h).
 *
 * Register values and masks follow the PCI Local Bus 3.0 and PCI Express
 * base specifications: command bits io, memory, bus master and INTx
 * disable are writable; the status error bits are write-1-to-clear; BAR
 * address bits below the size are hard-wired to zero.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vx-error.h"
#include "vx-pci.h"

#define CMD_WMASK	0x0407u	/* io, memory, master, INTx disable */
#define STATUS_W1C	0xf900u	/* parity, aborts, SERR, parity detected */
#define CAP_START	0x40u
#define PCIE_CAP_SIZE	0x3cu

static void
put(struct vx_pci_config *pc, uint32_t off, unsigned w, uint32_t v)
{
	unsigned i;

	for (i = 0; i < w; i++)
		pc->val[off + i] = (uint8_t)(v >> (8 * i));
}

static void
mask(uint8_t *m, uint32_t off, unsigned w, uint32_t v)
{
	unsigned i;

	for (i = 0; i < w; i++)
		m[off + i] = (uint8_t)(v >> (8 * i));
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return VX_ERR_INVALID;
}

uint32_t
vx_pci_config_get(const struct vx_pci_config *pc, uint32_t off, unsigned width)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < width && off + i < pc->size; i++)
		v |= (uint32_t)pc->val[off + i] << (8 * i);
	return v;
}

/* BAR n's read-only type bits and write mask. */
static int
setup_bar(struct vx_pci_config *pc, const struct vx_pci_desc *d, unsigned n,
    char *err, size_t errlen)
{
	const struct vx_pci_bar *b = &d->bar[n];
	uint32_t off = VX_PCI_CFG_BAR0 + 4 * n;
	uint64_t am;

	if (b->size == 0)
		return 0;
	if (b->io) {
		if (b->size < 4 || b->size > 256 || b->mem64 || b->prefetch)
			return fail(err, errlen, "bar%u: an I/O BAR is 4 to 256 "
			    "bytes, 32-bit and not prefetchable", n);
		put(pc, off, 4, 0x1);
		mask(pc->wmask, off, 4, (uint32_t)~(b->size - 1) & ~0x3u);
		return 0;
	}
	if (b->size < 16)
		return fail(err, errlen, "bar%u: a memory BAR is at least 16 bytes",
		    n);
	if (!b->mem64 && b->size > 0x80000000ull)
		return fail(err, errlen, "bar%u: over 2 GiB needs a 64-bit BAR", n);
	if (b->mem64 && n == VX_PCI_NBARS - 1)
		return fail(err, errlen, "bar5 cannot be 64-bit: no bar6 to pair with");
	if (b->mem64 && d->bar[n + 1].size != 0)
		return fail(err, errlen, "bar%u is 64-bit, so bar%u must be absent",
		    n, n + 1);
	put(pc, off, 4, (b->mem64 ? 0x4u : 0) | (b->prefetch ? 0x8u : 0));
	am = ~(b->size - 1);
	mask(pc->wmask, off, 4, (uint32_t)am & ~0xfu);
	if (b->mem64)
		mask(pc->wmask, off + 4, 4, (uint32_t)(am >> 32));
	return 0;
}

static int
setup_rom(struct vx_pci_config *pc, const struct vx_pci_desc *d, char *err,
    size_t errlen)
{
	const struct vx_pci_bar *b = &d->bar[VX_PCI_ROM_SLOT];

	if (b->size == 0)
		return 0;
	if (b->size < 2048 || b->io || b->mem64)
		return fail(err, errlen, "rom: at least 2 KiB of 32-bit memory");
	/* address bits 31:11 above the size, and the enable bit */
	mask(pc->wmask, VX_PCI_ROM_ADDRESS, 4,
	    ((uint32_t)~(b->size - 1) & 0xfffff800u) | 0x1u);
	return 0;
}

static uint8_t
log2u(unsigned v)
{
	uint8_t n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* Lay one capability out at off; returns its size, or 0 on error. */
static uint32_t
add_cap(struct vx_pci_config *pc, const struct vx_pci_desc *d, uint8_t id,
    uint32_t off, char *err, size_t errlen)
{
	uint32_t sz;

	switch (id) {
	case VX_PCI_CAP_PM:
		/* PMC: version 3 (PM 1.2); PMCSR: power state writable */
		put(pc, off + 2, 2, 0x0003);
		mask(pc->wmask, off + 4, 2, 0x0003);
		pc->pm_off = (uint16_t)off;
		sz = 8;
		break;
	case VX_PCI_CAP_MSI:
		/* 64-bit address capable, multiple message capable */
		put(pc, off + 2, 2, 0x0080u | (uint32_t)log2u(d->msi_vectors) << 1);
		mask(pc->wmask, off + 2, 2, 0x0071);	/* enable, MME */
		mask(pc->wmask, off + 4, 4, 0xfffffffcu);
		mask(pc->wmask, off + 8, 4, 0xffffffffu);
		mask(pc->wmask, off + 12, 2, 0xffff);
		pc->msi_off = (uint16_t)off;
		sz = 16;	/* 14 used; keeps the next one aligned */
		break;
	case VX_PCI_CAP_MSIX:
		put(pc, off + 2, 2, d->msix_vectors - 1);
		mask(pc->wmask, off + 2, 2, 0xc000);	/* enable, function mask */
		put(pc, off + 4, 4, d->msix_table_off | d->msix_table_bar);
		put(pc, off + 8, 4, d->msix_pba_off | d->msix_pba_bar);
		pc->msix_off = (uint16_t)off;
		sz = 12;
		break;
	case VX_PCI_CAP_EXP:
		/* version 2, endpoint unless described; device control
		 * writable, status w1c */
		put(pc, off + 2, 2, 0x0002);
		memcpy(pc->val + off + 2, d->exp_data, d->exp_len);
		mask(pc->wmask, off + 8, 2, 0x7fff);
		mask(pc->w1c, off + 10, 2, 0x000f);
		pc->exp_off = (uint16_t)off;
		sz = PCIE_CAP_SIZE;
		break;
	case VX_PCI_CAP_VENDOR:
		if (d->vendor_len > VX_PCI_VENDOR_MAX) {
			fail(err, errlen, "vendor capability over %d bytes",
			    VX_PCI_VENDOR_MAX);
			return 0;
		}
		put(pc, off + 2, 1, (uint32_t)(3 + d->vendor_len));
		if (d->vendor_len)
			memcpy(pc->val + off + 3, d->vendor_data, d->vendor_len);
		pc->vendor_off = (uint16_t)off;
		sz = (uint32_t)(3 + d->vendor_len);
		break;
	default:
		fail(err, errlen, "unknown capability id 0x%x", id);
		return 0;
	}
	put(pc, off, 1, id);
	return (sz + 3) & ~3u;
}

/* The extended capabilities from 0x100 on, each linked to the next. */
static int
add_ext_caps(struct vx_pci_config *pc, const struct vx_pci_desc *d, char *err,
    size_t errlen)
{
	uint32_t off = VX_PCI_EXT_START, next;
	unsigned i;

	if (d->next == 0)
		return 0;
	if (pc->size < VX_PCIE_CFG_SIZE)
		return fail(err, errlen, "extended capabilities need the pcie "
		    "capability (4 KiB of config space)");
	for (i = 0; i < d->next; i++) {
		const struct vx_pci_ext *e = &d->ext[i];

		next = (off + 4 + e->len + 3) & ~3u;
		if (next > VX_PCIE_CFG_SIZE ||
		    (size_t)e->body + e->len > sizeof(d->ext_body))
			return fail(err, errlen, "extended capabilities do not "
			    "fit in 4096 bytes");
		put(pc, off, 4, e->id | (uint32_t)(e->version & 0xf) << 16 |
		    (i + 1 < d->next ? next : 0) << 20);
		memcpy(pc->val + off + 4, d->ext_body + e->body, e->len);
		off = next;
	}
	return 0;
}

int
vx_pci_config_init(struct vx_pci_config *pc, const struct vx_pci_desc *d,
    char *err, size_t errlen)
{
	uint32_t off = CAP_START, prev = VX_PCI_CAP_PTR, sz;
	unsigned i;
	int r;

	memset(pc, 0, sizeof(*pc));
	pc->size = VX_PCI_CFG_SIZE;
	for (i = 0; i < sizeof(d->cap_order) && d->cap_order[i]; i++)
		if (d->cap_order[i] == VX_PCI_CAP_EXP)
			pc->size = VX_PCIE_CFG_SIZE;

	put(pc, VX_PCI_VENDOR_ID, 2, d->vendor);
	put(pc, VX_PCI_DEVICE_ID, 2, d->device);
	mask(pc->wmask, VX_PCI_COMMAND, 2, CMD_WMASK);
	mask(pc->w1c, VX_PCI_STATUS, 2, STATUS_W1C);
	put(pc, VX_PCI_REVISION, 1, d->revision);
	put(pc, VX_PCI_CLASS, 3, d->class_code);
	mask(pc->wmask, 0x0c, 2, 0xffff);	/* cache line, latency timer */
	put(pc, VX_PCI_SUBSYS_VENDOR, 2, d->subsys_vendor);
	put(pc, VX_PCI_SUBSYS_ID, 2, d->subsys_id);
	mask(pc->wmask, VX_PCI_INT_LINE, 1, 0xff);
	put(pc, VX_PCI_INT_PIN, 1, d->int_pin);

	for (i = 0; i < VX_PCI_NBARS; i++)
		if ((r = setup_bar(pc, d, i, err, errlen)) < 0)
			return r;
	if ((r = setup_rom(pc, d, err, errlen)) < 0)
		return r;

	if (d->msix_vectors) {
		if (d->msix_table_bar >= VX_PCI_NBARS ||
		    d->msix_pba_bar >= VX_PCI_NBARS)
			return fail(err, errlen, "MSI-X table and PBA need a BAR");
		if ((d->msix_table_off | d->msix_pba_off) & 7)
			return fail(err, errlen, "MSI-X table and PBA offsets "
			    "must be 8-byte aligned");
		if ((uint64_t)d->msix_table_off + 16ull * d->msix_vectors >
		    d->bar[d->msix_table_bar].size)
			return fail(err, errlen, "MSI-X table of %u entries at "
			    "0x%x does not fit bar%u", d->msix_vectors,
			    d->msix_table_off, d->msix_table_bar);
		if ((uint64_t)d->msix_pba_off + 8ull * ((d->msix_vectors + 63) / 64) >
		    d->bar[d->msix_pba_bar].size)
			return fail(err, errlen, "MSI-X PBA at 0x%x does not fit "
			    "bar%u", d->msix_pba_off, d->msix_pba_bar);
	}

	for (i = 0; i < sizeof(d->cap_order) && d->cap_order[i]; i++) {
		if ((sz = add_cap(pc, d, d->cap_order[i], off, err, errlen)) == 0)
			return VX_ERR_INVALID;
		if (off + sz > VX_PCI_CFG_SIZE)
			return fail(err, errlen, "capabilities do not fit in "
			    "256 bytes");
		put(pc, prev == VX_PCI_CAP_PTR ? prev : prev + 1, 1, off);
		prev = off;
		off += sz;
	}
	if (prev != VX_PCI_CAP_PTR)
		put(pc, VX_PCI_STATUS, 2, VX_PCI_STATUS_CAP_LIST);
	if ((r = add_ext_caps(pc, d, err, errlen)) < 0)
		return r;
	memcpy(pc->init, pc->val, sizeof(pc->val));
	return 0;
}

void
vx_pci_config_read(const struct vx_pci_config *pc, uint32_t off, void *buf,
    size_t n)
{
	memcpy(buf, pc->val + off, n);
}

void
vx_pci_config_write(struct vx_pci_config *pc, uint32_t off, const void *buf,
    size_t n)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t o = off + (uint32_t)i;
		uint8_t old = pc->val[o], v = p[i];

		old = (uint8_t)((old & ~pc->wmask[o]) | (v & pc->wmask[o]));
		old = (uint8_t)(old & ~(v & pc->w1c[o]));
		pc->val[o] = old;
	}
}

void
vx_pci_config_reset(struct vx_pci_config *pc)
{
	memcpy(pc->val, pc->init, sizeof(pc->val));
}
