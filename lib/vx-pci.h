/*
 * vx-pci.h - a PCI type 0 configuration space generated from a device
 * description, with the write semantics a real function has.
 *
 * Every byte has a value, a write mask (bits a write may change) and a
 * write-1-to-clear mask (status bits).  A write of v over old gives
 * (old & ~wmask) | (v & wmask), then clears old & v & w1c.  The BARs
 * follow from this alone: their write mask holds only the address bits a
 * BAR of that size decodes, so writing 0xffffffff reads back the size mask
 * with the type bits (io, 64-bit, prefetchable) unchanged, as the BAR
 * sizing protocol expects.
 *
 * Layout: the standard header (vendor, device, command, status, revision,
 * class, header type 0, BARs, subsystem ids, expansion ROM, capability
 * pointer, interrupt line and pin), then the requested capabilities from
 * 0x40 on, 4-byte aligned, in the order asked, linked from 0x34.  With a
 * PCI Express capability the space is 4 KiB and the extended capabilities
 * asked for are laid out from 0x100 on, 4-byte aligned, in order (an empty
 * list is a zero header at 0x100); otherwise 256 bytes.
 */
#ifndef VX_PCI_H
#define VX_PCI_H

#include <stddef.h>
#include <stdint.h>

#define VX_PCI_CFG_SIZE		256
#define VX_PCIE_CFG_SIZE	4096
#define VX_PCI_NBARS		6
#define VX_PCI_ROM_SLOT		6	/* bar[] index of the expansion ROM */

/* standard header offsets */
#define VX_PCI_VENDOR_ID	0x00
#define VX_PCI_DEVICE_ID	0x02
#define VX_PCI_COMMAND		0x04
#define VX_PCI_STATUS		0x06
#define VX_PCI_REVISION		0x08
#define VX_PCI_CLASS		0x09	/* 3 bytes: prog-if, subclass, class */
#define VX_PCI_HEADER_TYPE	0x0e
#define VX_PCI_CFG_BAR0		0x10
#define VX_PCI_SUBSYS_VENDOR	0x2c
#define VX_PCI_SUBSYS_ID	0x2e
#define VX_PCI_ROM_ADDRESS	0x30
#define VX_PCI_CAP_PTR		0x34
#define VX_PCI_INT_LINE		0x3c
#define VX_PCI_INT_PIN		0x3d

#define VX_PCI_STATUS_CAP_LIST	0x0010

/* capability ids */
#define VX_PCI_CAP_PM		0x01
#define VX_PCI_CAP_MSI		0x05
#define VX_PCI_CAP_VENDOR	0x09
#define VX_PCI_CAP_EXP		0x10
#define VX_PCI_CAP_MSIX		0x11

/* One BAR (or the ROM): size 0 means not implemented. */
struct vx_pci_bar {
	uint64_t size;		/* power of two */
	int io;			/* I/O space BAR */
	int mem64;		/* 64-bit memory BAR: takes the next slot too */
	int prefetch;		/* prefetchable memory */
};

#define VX_PCI_EXP_DATA_MAX	0x3a	/* Express registers from offset 2 */
#define VX_PCI_EXT_MAX		32
#define VX_PCI_EXT_START	0x100

/* An extended capability: its header is generated, its body given. */
struct vx_pci_ext {
	uint16_t id;
	uint8_t version;	/* 0-15 */
	uint16_t len;		/* body bytes after the 4-byte header */
	uint16_t body;		/* where the body starts in ext_body[] */
};

/* What the configuration space is generated from. */
struct vx_pci_desc {
	uint16_t vendor, device, subsys_vendor, subsys_id;
	uint32_t class_code;	/* 24 bits: class, subclass, prog-if */
	uint8_t revision;
	uint8_t int_pin;	/* 0 none, 1-4 INTA-INTD */
	struct vx_pci_bar bar[VX_PCI_NBARS + 1];	/* [6]: ROM */
	/* capabilities, in the order given by cap_order (ids, 0 ends) */
	uint8_t cap_order[8];
	unsigned msi_vectors;	/* 1, 2, 4, 8, 16, 32 */
	unsigned msix_vectors;	/* 1 .. 2048 */
	unsigned msix_table_bar, msix_pba_bar;
	uint32_t msix_table_off, msix_pba_off;	/* 8-byte aligned */
	const uint8_t *vendor_data;	/* vendor-specific capability body */
	size_t vendor_len;	/* at most VX_PCI_VENDOR_MAX */
	/* Express capability registers from its flags (offset 2) on, read
	 * only but for device control and status; 0 bytes: version 2
	 * endpoint, all zero */
	uint8_t exp_data[VX_PCI_EXP_DATA_MAX];
	size_t exp_len;
	/* extended capabilities (need the Express capability), read only */
	struct vx_pci_ext ext[VX_PCI_EXT_MAX];
	unsigned next;
	uint8_t ext_body[VX_PCIE_CFG_SIZE - VX_PCI_EXT_START];
};

#define VX_PCI_VENDOR_MAX	64

struct vx_pci_config {
	uint32_t size;		/* 256 or 4096 */
	uint8_t val[VX_PCIE_CFG_SIZE];
	uint8_t init[VX_PCIE_CFG_SIZE];		/* state after reset */
	uint8_t wmask[VX_PCIE_CFG_SIZE];
	uint8_t w1c[VX_PCIE_CFG_SIZE];
	/* where each capability landed, 0 if absent */
	uint16_t pm_off, msi_off, msix_off, exp_off, vendor_off;
};

/*
 * Generate pc from d.  Returns 0, or VX_ERR_INVALID with a reason in err
 * (a bad BAR size or type, capabilities that do not fit, an MSI-X table
 * outside its BAR).  The BARs are assumed already checked for power-of-two
 * sizes.
 */
int vx_pci_config_init(struct vx_pci_config *pc, const struct vx_pci_desc *d,
    char *err, size_t errlen);

/* Bytes [off, off+n) must lie inside pc->size; callers check. */
void vx_pci_config_read(const struct vx_pci_config *pc, uint32_t off,
    void *buf, size_t n);
void vx_pci_config_write(struct vx_pci_config *pc, uint32_t off,
    const void *buf, size_t n);

/* Back to the generated state (BARs unassigned, command 0). */
void vx_pci_config_reset(struct vx_pci_config *pc);

/* Little-endian value of width 1, 2 or 4 at off. */
uint32_t vx_pci_config_get(const struct vx_pci_config *pc, uint32_t off,
    unsigned width);

#endif /* VX_PCI_H */
