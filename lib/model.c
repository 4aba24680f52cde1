/*
 * model.c - the field table built from fields.def, and the name tables that
 * give numbers their names in text, JSON, filters and the Lua plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vx-error.h"
#include "vx-msg.h"

#define NONE NULL
#define T(v) { v, #v }

const struct vx_tok vx_names_cmd[] = {
	{ VX_CMD_VERSION, "VERSION" },
	{ VX_CMD_DMA_MAP, "DMA_MAP" },
	{ VX_CMD_DMA_UNMAP, "DMA_UNMAP" },
	{ VX_CMD_DEVICE_GET_INFO, "DEVICE_GET_INFO" },
	{ VX_CMD_DEVICE_GET_REGION_INFO, "DEVICE_GET_REGION_INFO" },
	{ VX_CMD_DEVICE_GET_REGION_IO_FDS, "DEVICE_GET_REGION_IO_FDS" },
	{ VX_CMD_DEVICE_GET_IRQ_INFO, "DEVICE_GET_IRQ_INFO" },
	{ VX_CMD_DEVICE_SET_IRQS, "DEVICE_SET_IRQS" },
	{ VX_CMD_REGION_READ, "REGION_READ" },
	{ VX_CMD_REGION_WRITE, "REGION_WRITE" },
	{ VX_CMD_DMA_READ, "DMA_READ" },
	{ VX_CMD_DMA_WRITE, "DMA_WRITE" },
	{ VX_CMD_DEVICE_RESET, "DEVICE_RESET" },
	{ VX_CMD_DIRTY_PAGES, "DIRTY_PAGES" },
	{ VX_CMD_REGION_WRITE_MULTI, "REGION_WRITE_MULTI" },
	{ VX_CMD_DEVICE_FEATURE, "DEVICE_FEATURE" },
	{ VX_CMD_MIG_DATA_READ, "MIG_DATA_READ" },
	{ VX_CMD_MIG_DATA_WRITE, "MIG_DATA_WRITE" },
	{ 0, NULL }
};

const struct vx_tok vx_names_errno[] = {
	T(EPERM), T(ENOENT), T(ESRCH), T(EINTR), T(EIO), T(ENXIO), T(E2BIG),
	T(ENOEXEC), T(EBADF), T(ECHILD), T(EAGAIN), T(ENOMEM), T(EACCES),
	T(EFAULT), T(EBUSY), T(EEXIST), T(ENODEV), T(EINVAL), T(ENFILE),
	T(EMFILE), T(ENOTTY), T(EFBIG), T(ENOSPC), T(ESPIPE), T(EROFS),
	T(EPIPE), T(ERANGE), T(ENOSYS), T(ENOTSUP), T(EOVERFLOW), T(EMSGSIZE),
	T(EPROTO), T(ECONNRESET), T(ETIMEDOUT), T(ECANCELED), T(ENOBUFS),
	T(EBADMSG), T(ENOTCONN), T(ESHUTDOWN), T(EALREADY), T(EINPROGRESS),
	{ 0, NULL }
};

static const struct vx_tok names_hdr_flags[] = {
	{ VX_F_TYPE_REPLY, "reply" },
	{ VX_F_NO_REPLY, "no_reply" },
	{ VX_F_ERROR, "error" },
	{ 0, NULL }
};

const struct vx_tok vx_names_region[] = {
	{ 0, "bar0" }, { 1, "bar1" }, { 2, "bar2" }, { 3, "bar3" },
	{ 4, "bar4" }, { 5, "bar5" }, { VX_PCI_ROM, "rom" },
	{ VX_PCI_CONFIG, "config" }, { VX_PCI_VGA, "vga" },
	{ 0, NULL }
};

const struct vx_tok vx_names_irq[] = {
	{ VX_IRQ_INTX, "INTx" }, { VX_IRQ_MSI, "MSI" }, { VX_IRQ_MSIX, "MSI-X" },
	{ VX_IRQ_ERR, "ERR" }, { VX_IRQ_REQ, "REQ" },
	{ 0, NULL }
};

static const struct vx_tok names_dma_map_flags[] = {
	{ VX_DMA_MAP_READ, "read" }, { VX_DMA_MAP_WRITE, "write" },
	{ VX_DMA_MAP_MMAP, "mmap" }, { VX_DMA_MAP_FILE_IO, "file_io" },
	{ 0, NULL }
};

static const struct vx_tok names_dma_unmap_flags[] = {
	{ VX_DMA_UNMAP_GET_DIRTY_BITMAP, "get_dirty_bitmap" },
	{ VX_DMA_UNMAP_ALL, "all" },
	{ 0, NULL }
};

static const struct vx_tok names_dev_flags[] = {
	{ VX_DEV_RESET, "reset" }, { VX_DEV_PCI, "pci" },
	{ 0, NULL }
};

static const struct vx_tok names_region_flags[] = {
	{ VX_REGION_READ, "read" }, { VX_REGION_WRITE, "write" },
	{ VX_REGION_MMAP, "mmap" }, { VX_REGION_CAPS, "caps" },
	{ 0, NULL }
};

static const struct vx_tok names_region_cap[] = {
	{ VX_REGION_CAP_SPARSE_MMAP, "SPARSE_MMAP" },
	{ VX_REGION_CAP_TYPE, "TYPE" },
	{ 0, NULL }
};

static const struct vx_tok names_iofd_type[] = {
	{ VX_IO_FD_IOEVENTFD, "ioeventfd" },
	{ VX_IO_FD_IOREGIONFD, "ioregionfd" },
	{ VX_IO_FD_IOEVENTFD_SHADOW, "ioeventfd_shadow" },
	{ 0, NULL }
};

static const struct vx_tok names_irq_info_flags[] = {
	{ VX_IRQ_INFO_EVENTFD, "eventfd" }, { VX_IRQ_INFO_MASKABLE, "maskable" },
	{ VX_IRQ_INFO_AUTOMASKED, "automasked" },
	{ VX_IRQ_INFO_NORESIZE, "noresize" },
	{ 0, NULL }
};

static const struct vx_tok names_irq_set_flags[] = {
	{ VX_IRQ_DATA_NONE, "data_none" }, { VX_IRQ_DATA_BOOL, "data_bool" },
	{ VX_IRQ_DATA_EVENTFD, "data_eventfd" },
	{ VX_IRQ_ACTION_MASK, "action_mask" },
	{ VX_IRQ_ACTION_UNMASK, "action_unmask" },
	{ VX_IRQ_ACTION_TRIGGER, "action_trigger" },
	{ 0, NULL }
};

/* bits only: the low 16 bits (the feature index) are shown as FEAT_ID */
static const struct vx_tok names_feature_flags[] = {
	{ VX_FEATURE_GET, "get" }, { VX_FEATURE_SET, "set" },
	{ VX_FEATURE_PROBE, "probe" },
	{ 0, NULL }
};

const struct vx_tok vx_names_feature[] = {
	{ VX_FEAT_MIGRATION, "MIGRATION" },
	{ VX_FEAT_MIG_DEVICE_STATE, "MIG_DEVICE_STATE" },
	{ VX_FEAT_DMA_LOGGING_START, "DMA_LOGGING_START" },
	{ VX_FEAT_DMA_LOGGING_STOP, "DMA_LOGGING_STOP" },
	{ VX_FEAT_DMA_LOGGING_REPORT, "DMA_LOGGING_REPORT" },
	{ 0, NULL }
};

const struct vx_tok vx_names_peer[] = {
	{ VX_PEER_AUTO, "auto" }, { VX_PEER_SPEC, "spec" },
	{ VX_PEER_LVU, "libvfio-user" }, { VX_PEER_QEMU, "qemu" },
	{ 0, NULL }
};

static const struct vx_tok names_migration_flags[] = {
	{ VX_MIGRATION_STOP_COPY, "stop_copy" }, { VX_MIGRATION_P2P, "p2p" },
	{ VX_MIGRATION_PRE_COPY, "pre_copy" },
	{ 0, NULL }
};

const struct vx_tok vx_names_mig_state[] = {
	{ VX_MIG_ERROR, "ERROR" }, { VX_MIG_STOP, "STOP" },
	{ VX_MIG_RUNNING, "RUNNING" }, { VX_MIG_STOP_COPY, "STOP_COPY" },
	{ VX_MIG_RESUMING, "RESUMING" }, { VX_MIG_RUNNING_P2P, "RUNNING_P2P" },
	{ VX_MIG_PRE_COPY, "PRE_COPY" }, { VX_MIG_PRE_COPY_P2P, "PRE_COPY_P2P" },
	{ 0, NULL }
};

#define CMD vx_names_cmd
#define ERRNO vx_names_errno
#define HDR_FLAGS names_hdr_flags
#define REGION vx_names_region
#define IRQ vx_names_irq
#define DMA_MAP_FLAGS names_dma_map_flags
#define DMA_UNMAP_FLAGS names_dma_unmap_flags
#define DEV_FLAGS names_dev_flags
#define REGION_FLAGS names_region_flags
#define REGION_CAP names_region_cap
#define IOFD_TYPE names_iofd_type
#define IRQ_INFO_FLAGS names_irq_info_flags
#define IRQ_SET_FLAGS names_irq_set_flags
#define FEATURE_FLAGS names_feature_flags
#define FEATURE vx_names_feature
#define MIGRATION_FLAGS names_migration_flags
#define MIG_STATE vx_names_mig_state
#define VIRT VX_FF_VIRT
#define DATA VX_FF_DATA

const struct vx_field vx_fields[VXF_COUNT] = {
#define VX_FIELD(id, key, label, kind, width, names, flags, desc) \
	[VXF_##id] = { key, label, VX_K_##kind, width, flags, names, desc },
#include "fields.def"
#undef VX_FIELD
};

static const char *const note_text[VX_NOTE_COUNT] = {
#define VX_NOTE(id, text) [VX_NOTE_##id] = text,
#include "notes.def"
#undef VX_NOTE
};

static const char *const note_key[VX_NOTE_COUNT] = {
#define VX_NOTE(id, text) [VX_NOTE_##id] = #id,
#include "notes.def"
#undef VX_NOTE
};

const char *
vx_note_text(unsigned code)
{
	return code < VX_NOTE_COUNT ? note_text[code] : "unknown note";
}

const char *
vx_note_key(unsigned code)
{
	return code < VX_NOTE_COUNT ? note_key[code] : "UNKNOWN";
}

const struct vx_field *
vx_field_by_key(const char *key)
{
	unsigned i;

	for (i = 0; i < VXF_COUNT; i++)
		if (strcmp(vx_fields[i].key, key) == 0)
			return &vx_fields[i];
	return NULL;
}

const char *
vx_tok_name(const struct vx_tok *t, uint64_t val)
{
	for (; t != NULL && t->name != NULL; t++)
		if (t->val == val)
			return t->name;
	return NULL;
}

int
vx_tok_value(const struct vx_tok *t, const char *name, uint64_t *val)
{
	for (; t != NULL && t->name != NULL; t++) {
		if (strcasecmp(t->name, name) == 0) {
			*val = t->val;
			return 0;
		}
	}
	return VX_ERR_NOENT;
}

const char *
vx_cmd_name(unsigned cmd)
{
	return vx_tok_name(vx_names_cmd, cmd);
}

const char *
vx_region_name(uint64_t index, char *buf, size_t cap)
{
	const char *n = vx_tok_name(vx_names_region, index);

	if (n != NULL)
		return n;
	snprintf(buf, cap, "region %llu", (unsigned long long)index);
	return buf;
}

int
vx_msg_get(const struct vx_msg *m, unsigned field, uint64_t *val)
{
	const struct vx_item *it = vx_msg_item(m, field);

	if (it == NULL)
		return VX_ERR_NOENT;
	*val = it->val;
	return 0;
}

const struct vx_item *
vx_msg_item(const struct vx_msg *m, unsigned field)
{
	uint32_t i;

	vx_msg_items(m);
	for (i = 0; i < m->nitems; i++)
		if (m->items[i].field == field)
			return &m->items[i];
	return NULL;
}

int
vx_msg_has_note(const struct vx_msg *m, unsigned code)
{
	unsigned i;

	for (i = 0; i < m->nnotes; i++)
		if (m->notes[i].code == code)
			return 1;
	return 0;
}
