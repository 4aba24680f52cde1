/*
 * client-calls.c - the typed calls of struct vx_client (vx-client.h): one
 * command built through the builder, its reply read through the decoded
 * fields.
 */
#include <stdio.h>
#include <string.h>

#include "client-int.h"
#include "vx-client.h"
#include "vx-error.h"

static uint32_t
get_u32(const struct vx_msg *m, int field)
{
	uint64_t v;

	return vx_msg_get(m, field, &v) == 0 ? (uint32_t)v : 0;
}

/*
 * Send what b built (and nfds descriptors), the reply in m.  An error
 * reply is refused here as one to what; what NULL: the caller words it.
 */
static int
call(struct vx_client *c, struct vx_builder *b, const int *fds, int nfds,
    struct vx_msg *m, const char *what)
{
	int r = vx_client_call_built(c, b, fds, nfds, m);

	vx_builder_release(b);
	c->reply_errno = 0;
	if (r == 0 && what != NULL && (m->flags & VX_F_ERROR))
		return vxc_refused(c, m, what);
	return r;
}

int
vx_client_device_info(struct vx_client *c, struct vx_device_info *di)
{
	struct vx_builder b;
	struct vx_msg m;
	int r;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_GET_INFO, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 16);
	vx_build_uint(&b, VXF_DEV_FLAGS, 0);
	vx_build_uint(&b, VXF_DEV_NUM_REGIONS, 0);
	vx_build_uint(&b, VXF_DEV_NUM_IRQS, 0);
	if ((r = call(c, &b, NULL, 0, &m, "DEVICE_GET_INFO")) < 0)
		return r;
	if (m.status != VX_MSG_OK)
		return vxc_fail(c, VX_ERR_INVALID, "malformed DEVICE_GET_INFO "
		    "reply: %s", m.err.text);
	di->flags = get_u32(&m, VXF_DEV_FLAGS);
	di->num_regions = get_u32(&m, VXF_DEV_NUM_REGIONS);
	di->num_irqs = get_u32(&m, VXF_DEV_NUM_IRQS);
	return 0;
}

int
vx_client_reset(struct vx_client *c)
{
	struct vx_builder b;
	struct vx_msg m;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND, 0);
	return call(c, &b, NULL, 0, &m, "DEVICE_RESET");
}

static int
region_info_call(struct vx_client *c, uint32_t index, uint32_t argsz,
    struct vx_msg *m)
{
	struct vx_builder b;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_GET_REGION_INFO,
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, argsz);
	vx_build_uint(&b, VXF_RINFO_FLAGS, 0);
	vx_build_uint(&b, VXF_REGION_INDEX, index);
	vx_build_uint(&b, VXF_RINFO_CAP_OFFSET, 0);
	vx_build_uint(&b, VXF_RINFO_SIZE, 0);
	vx_build_uint(&b, VXF_RINFO_OFFSET, 0);
	return call(c, &b, NULL, 0, m, NULL);
}

int
vx_client_region_info(struct vx_client *c, uint32_t index,
    struct vx_region_info *ri)
{
	struct vx_msg *m = &ri->reply;
	uint32_t argsz = 32 + 512;
	uint64_t v;
	int r, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((r = region_info_call(c, index, argsz, m)) < 0)
			return r;
		if (m->flags & VX_F_ERROR) {
			char what[64];

			snprintf(what, sizeof(what),
			    "DEVICE_GET_REGION_INFO of region %u", index);
			return vxc_refused(c, m, what);
		}
		/* the reply names the argsz its capabilities need */
		if (vx_msg_get(m, VXF_ARGSZ, &v) == 0 && v > argsz &&
		    v <= 65536 && tries == 0) {
			argsz = (uint32_t)v;
			continue;
		}
		break;
	}
	if (m->status == VX_MSG_MALFORMED)
		return vxc_fail(c, VX_ERR_INVALID, "malformed region info reply "
		    "for region %u: %s", index, m->err.text);
	ri->index = index;
	ri->flags = get_u32(m, VXF_RINFO_FLAGS);
	ri->size = vx_msg_get(m, VXF_RINFO_SIZE, &v) == 0 ? v : 0;
	ri->offset = vx_msg_get(m, VXF_RINFO_OFFSET, &v) == 0 ? v : 0;
	return 0;
}

int
vx_client_irq_info(struct vx_client *c, uint32_t index,
    struct vx_irq_info *ii)
{
	struct vx_builder b;
	struct vx_msg m;
	int r;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_GET_IRQ_INFO, VX_F_TYPE_COMMAND,
	    0);
	vx_build_uint(&b, VXF_ARGSZ, 16);
	vx_build_uint(&b, VXF_IRQ_INFO_FLAGS, 0);
	vx_build_uint(&b, VXF_IRQ_INDEX, index);
	vx_build_uint(&b, VXF_IRQ_COUNT, 0);
	if ((r = call(c, &b, NULL, 0, &m, "DEVICE_GET_IRQ_INFO")) < 0)
		return r;
	ii->index = index;
	ii->flags = get_u32(&m, VXF_IRQ_INFO_FLAGS);
	ii->count = get_u32(&m, VXF_IRQ_COUNT);
	return 0;
}

/* One piece of a region access: at most vx_client_xfer() bytes. */
static int
region_io(struct vx_client *c, uint32_t index, uint64_t off, uint8_t *buf,
    size_t n, int write, int posted)
{
	struct vx_builder b;
	struct vx_msg m;
	const struct vx_item *it;
	char what[96], rn[16];
	int r;

	vx_builder_init(&b);
	vx_build_header(&b, 0, write ? VX_CMD_REGION_WRITE :
	    VX_CMD_REGION_READ, VX_F_TYPE_COMMAND |
	    (posted ? VX_F_NO_REPLY : 0), 0);
	vx_build_uint(&b, VXF_REGION_OFFSET, off);
	vx_build_uint(&b, VXF_REGION_INDEX, index);
	vx_build_uint(&b, VXF_REGION_COUNT, n);
	if (write)
		vx_build_bytes(&b, VXF_REGION_DATA, buf, n);
	if ((r = call(c, &b, NULL, 0, &m, NULL)) < 0 || posted)
		return r;
	snprintf(what, sizeof(what), "%s %s+0x%llx len %zu",
	    write ? "REGION_WRITE" : "REGION_READ",
	    vx_region_name(index, rn, sizeof(rn)), (unsigned long long)off, n);
	if (m.flags & VX_F_ERROR)
		return vxc_refused(c, &m, what);
	if (m.status == VX_MSG_MALFORMED)
		return vxc_fail(c, VX_ERR_INVALID, "malformed reply to %s: %s",
		    what, m.err.text);
	if (write)
		return 0;
	it = vx_msg_item(&m, VXF_REGION_DATA);
	if (it == NULL || it->len != n)
		return vxc_fail(c, VX_ERR_INVALID, "reply to %s carries %u bytes, "
		    "not %zu", what, it != NULL ? it->len : 0, n);
	memcpy(buf, it->ptr, n);
	return 0;
}

static int
region_access(struct vx_client *c, uint32_t index, uint64_t off,
    uint8_t *buf, size_t len, int write, int posted)
{
	uint64_t xfer = vx_client_xfer(c);
	size_t done, n;
	int r;

	for (done = 0; done < len; done += n) {
		n = len - done;
		if (n > xfer)
			n = (size_t)xfer;
		r = region_io(c, index, off + done, buf + done, n, write,
		    posted);
		if (r < 0)
			return r;
	}
	return 0;
}

int
vx_client_region_read(struct vx_client *c, uint32_t index, uint64_t off,
    uint8_t *buf, size_t len)
{
	return region_access(c, index, off, buf, len, 0, 0);
}

int
vx_client_region_write(struct vx_client *c, uint32_t index, uint64_t off,
    const uint8_t *buf, size_t len, int posted)
{
	/* written from, never to: region_io() copies only on a read */
	return region_access(c, index, off, (uint8_t *)(uintptr_t)buf, len, 1,
	    posted);
}

int
vx_client_set_irqs(struct vx_client *c, uint32_t flags, uint32_t index,
    uint32_t start, uint32_t count, const int *fds, int nfds)
{
	struct vx_builder b;
	struct vx_msg m;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_SET_IRQS, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 20);
	vx_build_uint(&b, VXF_IRQ_SET_FLAGS, flags);
	vx_build_uint(&b, VXF_IRQ_INDEX, index);
	vx_build_uint(&b, VXF_IRQ_START, start);
	vx_build_uint(&b, VXF_IRQ_COUNT, count);
	return call(c, &b, fds, nfds, &m, "DEVICE_SET_IRQS");
}

int
vx_client_feature(struct vx_client *c, uint32_t flags, const void *data,
    size_t n, uint64_t argsz, struct vx_feature_reply *fr)
{
	struct vx_msg *m = &fr->reply;
	const struct vx_item *it;
	struct vx_builder b;
	uint64_t v;
	int r;

	memset(fr, 0, sizeof(*fr));
	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_FEATURE, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, argsz > 8 + n ? argsz : 8 + n);
	vx_build_uint(&b, VXF_FEAT_FLAGS, flags);
	if (n)
		vx_build_bytes(&b, VXF_FEAT_DATA, data, n);
	if ((r = call(c, &b, NULL, 0, m, "DEVICE_FEATURE")) < 0)
		return r;
	if (vx_msg_get(m, VXF_MIG_STATE, &v) == 0) {
		fr->has_state = 1;
		fr->device_state = (uint32_t)v;
	}
	if (vx_msg_get(m, VXF_MIG_FLAGS, &v) == 0) {
		fr->has_mig_flags = 1;
		fr->mig_flags = v;
	}
	if ((it = vx_msg_item(m, VXF_LOG_BITMAP)) != NULL && it->len) {
		fr->bitmap = it->ptr;
		fr->bitmap_len = it->len;
	}
	return 0;
}

static int
mig_call(struct vx_client *c, int rd, uint64_t size, const uint8_t *data,
    size_t n, struct vx_msg *m)
{
	struct vx_builder b;

	vx_builder_init(&b);
	vx_build_header(&b, 0, rd ? VX_CMD_MIG_DATA_READ :
	    VX_CMD_MIG_DATA_WRITE, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 8 + size);
	vx_build_uint(&b, VXF_MIGD_SIZE, size);
	if (!rd)
		vx_build_bytes(&b, VXF_MIGD_DATA, data, n);
	return call(c, &b, NULL, 0, m, rd ? "MIG_DATA_READ" :
	    "MIG_DATA_WRITE");
}

int
vx_client_mig_read(struct vx_client *c, uint32_t size, const uint8_t **data,
    size_t *len)
{
	const struct vx_item *it;
	struct vx_msg m;
	int r;

	*data = NULL;
	*len = 0;
	if ((r = mig_call(c, 1, size, NULL, 0, &m)) < 0)
		return r;
	if ((it = vx_msg_item(&m, VXF_MIGD_DATA)) != NULL) {
		*data = it->ptr;
		*len = it->len;
	}
	return 0;
}

int
vx_client_mig_write(struct vx_client *c, const uint8_t *data, size_t n)
{
	struct vx_msg m;

	return mig_call(c, 0, n, data, n, &m);
}
