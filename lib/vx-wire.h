/*
 * vx-wire.h - the vfio-user wire format: numbers only, no code.
 *
 * Source: docs/interop/vfio-user.rst in qemu/qemu ("the spec"), protocol
 * version 0.2, and the peers that deviate from it: libvfio-user
 * (include/vfio-user.h) and QEMU's client (hw/vfio-user/).  Byte layouts of
 * each message are drawn at the top of lib/msg-*.c.
 *
 * Bump VX_PROTO_MINOR only when the spec adds messages or capabilities
 * ("added in version X.Y"); a new major means an incompatible format and a
 * new decoder family.
 */
#ifndef VX_WIRE_H
#define VX_WIRE_H

#include <stdint.h>

#define VX_PROTO_MAJOR		0
#define VX_PROTO_MINOR		2

/*
 * Header, 16 bytes, host byte order (little-endian on every known peer):
 *
 *   0      2      4            8            12           16
 *   +------+------+------------+------------+------------+
 *   |msg_id| cmd  |  msg_size  |   flags    |   error    |
 *   +------+------+------------+------------+------------+
 */
#define VX_HDR_SIZE		16
#define VX_HDR_OFF_ID		0
#define VX_HDR_OFF_CMD		2
#define VX_HDR_OFF_SIZE		4
#define VX_HDR_OFF_FLAGS	8
#define VX_HDR_OFF_ERROR	12

/* header flags */
#define VX_F_TYPE_MASK		0x0000000fu
#define VX_F_TYPE_COMMAND	0x0u
#define VX_F_TYPE_REPLY		0x1u
#define VX_F_NO_REPLY		0x00000010u
#define VX_F_ERROR		0x00000020u
#define VX_F_RESERVED		0xffffffc0u

/* commands (spec "Commands" table; 14 was withdrawn) */
enum vx_cmd {
	VX_CMD_VERSION = 1,
	VX_CMD_DMA_MAP = 2,
	VX_CMD_DMA_UNMAP = 3,
	VX_CMD_DEVICE_GET_INFO = 4,
	VX_CMD_DEVICE_GET_REGION_INFO = 5,
	VX_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VX_CMD_DEVICE_GET_IRQ_INFO = 7,
	VX_CMD_DEVICE_SET_IRQS = 8,
	VX_CMD_REGION_READ = 9,
	VX_CMD_REGION_WRITE = 10,
	VX_CMD_DMA_READ = 11,
	VX_CMD_DMA_WRITE = 12,
	VX_CMD_DEVICE_RESET = 13,
	VX_CMD_DIRTY_PAGES = 14,	/* withdrawn; decoded as obsolete */
	VX_CMD_REGION_WRITE_MULTI = 15,
	VX_CMD_DEVICE_FEATURE = 16,
	VX_CMD_MIG_DATA_READ = 17,
	VX_CMD_MIG_DATA_WRITE = 18,
	VX_CMD_MAX = 19,
};

/* VERSION capability defaults (spec "Version" table) */
#define VX_DEF_MAX_MSG_FDS	1
#define VX_DEF_MAX_XFER		(1024u * 1024u)
#define VX_DEF_MAX_DMA_MAPS	65535u
#define VX_DEF_PGSIZES		4096u
/* what QEMU accepts from a server (hw/vfio-user/protocol.h) */
#define VX_QEMU_MAX_MSG_FDS	16
#define VX_QEMU_MAX_XFER	(64u * 1024u * 1024u)
/* SCM_RIGHTS room: the kernel's SCM_MAX_FD */
#define VX_MAX_FDS		253

/* DMA_MAP flags; bits 2-3 are libvfio-user extensions */
#define VX_DMA_MAP_READ		0x1u
#define VX_DMA_MAP_WRITE	0x2u
#define VX_DMA_MAP_MMAP		0x4u
#define VX_DMA_MAP_FILE_IO	0x8u

/* DMA_UNMAP flags */
#define VX_DMA_UNMAP_GET_DIRTY_BITMAP	0x1u
#define VX_DMA_UNMAP_ALL		0x2u

/* DEVICE_GET_INFO flags (linux/vfio.h VFIO_DEVICE_FLAGS_*) */
#define VX_DEV_RESET		0x1u
#define VX_DEV_PCI		0x2u

/* DEVICE_GET_REGION_INFO flags and capability ids */
#define VX_REGION_READ		0x1u
#define VX_REGION_WRITE		0x2u
#define VX_REGION_MMAP		0x4u
#define VX_REGION_CAPS		0x8u
#define VX_REGION_CAP_SPARSE_MMAP	1
#define VX_REGION_CAP_TYPE		2

/* PCI region indices (linux/vfio.h VFIO_PCI_*_REGION_INDEX) */
enum vx_pci_region {
	VX_PCI_BAR0 = 0, VX_PCI_BAR5 = 5, VX_PCI_ROM = 6,
	VX_PCI_CONFIG = 7, VX_PCI_VGA = 8, VX_PCI_NUM_REGIONS = 9,
};

/* GET_REGION_IO_FDS sub-region types; 2 is libvfio-user's shadow form */
#define VX_IO_FD_IOEVENTFD		0
#define VX_IO_FD_IOREGIONFD		1
#define VX_IO_FD_IOEVENTFD_SHADOW	2
#define VX_IO_FD_ENTRY_SPEC		40
#define VX_IO_FD_ENTRY_LVU		48

/* GET_IRQ_INFO flags */
#define VX_IRQ_INFO_EVENTFD	0x1u
#define VX_IRQ_INFO_MASKABLE	0x2u
#define VX_IRQ_INFO_AUTOMASKED	0x4u
#define VX_IRQ_INFO_NORESIZE	0x8u

/* IRQ indices (linux/vfio.h VFIO_PCI_*_IRQ_INDEX) */
enum vx_pci_irq {
	VX_IRQ_INTX = 0, VX_IRQ_MSI = 1, VX_IRQ_MSIX = 2,
	VX_IRQ_ERR = 3, VX_IRQ_REQ = 4, VX_PCI_NUM_IRQS = 5,
};

/* SET_IRQS flags: exactly one DATA and one ACTION bit */
#define VX_IRQ_DATA_NONE	0x01u
#define VX_IRQ_DATA_BOOL	0x02u
#define VX_IRQ_DATA_EVENTFD	0x04u
#define VX_IRQ_ACTION_MASK	0x08u
#define VX_IRQ_ACTION_UNMASK	0x10u
#define VX_IRQ_ACTION_TRIGGER	0x20u
#define VX_IRQ_DATA_BITS	0x07u
#define VX_IRQ_ACTION_BITS	0x38u

/* REGION_WRITE_MULTI: entries of 24 bytes, up to 8 data bytes each */
#define VX_WRITE_MULTI_ENTRY	24
#define VX_WRITE_MULTI_DATA	8
#define VX_WRITE_MULTI_QEMU_MAX	200

/* DEVICE_FEATURE flags: low 16 bits are the feature index */
#define VX_FEATURE_MASK		0x0000ffffu
#define VX_FEATURE_GET		0x00010000u
#define VX_FEATURE_SET		0x00020000u
#define VX_FEATURE_PROBE	0x00040000u
enum vx_feature {
	VX_FEAT_MIGRATION = 1,
	VX_FEAT_MIG_DEVICE_STATE = 2,
	VX_FEAT_DMA_LOGGING_START = 6,
	VX_FEAT_DMA_LOGGING_STOP = 7,
	VX_FEAT_DMA_LOGGING_REPORT = 8,
};
#define VX_MIGRATION_STOP_COPY	0x1u
#define VX_MIGRATION_P2P	0x2u
#define VX_MIGRATION_PRE_COPY	0x4u

enum vx_mig_state {
	VX_MIG_ERROR = 0, VX_MIG_STOP = 1, VX_MIG_RUNNING = 2,
	VX_MIG_STOP_COPY = 3, VX_MIG_RESUMING = 4, VX_MIG_RUNNING_P2P = 5,
	VX_MIG_PRE_COPY = 6, VX_MIG_PRE_COPY_P2P = 7, VX_MIG_NUM_STATES = 8,
};

#endif /* VX_WIRE_H */
