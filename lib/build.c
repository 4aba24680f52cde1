/*
 * build.c - lay out new messages field by field.  A built message is the
 * same item list decode produces, so it prints, filters and encodes through
 * the same code; the bytes are written as the fields are added.
 */
#include <stdlib.h>
#include <string.h>

#include "vx-cursor.h"
#include "vx-msg.h"

void
vx_builder_init(struct vx_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void
vx_builder_release(struct vx_builder *b)
{
	free(b->items);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes and one more item; sets b->err on failure. */
static int
reserve(struct vx_builder *b, size_t n)
{
	if (b->err)
		return -1;
	if (n > UINT32_MAX - b->len) {
		b->err = VX_ERR_TOO_LARGE;
		return -1;
	}
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		uint8_t *nb;

		while (ncap < b->len + n)
			ncap *= 2;
		if ((nb = realloc(b->buf, ncap)) == NULL) {
			b->err = VX_ERR_NOMEM;
			return -1;
		}
		b->buf = nb;
		b->cap = ncap;
	}
	if (b->nitems == b->icap) {
		uint32_t ncap = b->icap ? b->icap * 2 : 32;
		struct vx_item *ni = realloc(b->items, ncap * sizeof(*ni));

		if (ni == NULL) {
			b->err = VX_ERR_NOMEM;
			return -1;
		}
		b->items = ni;
		b->icap = ncap;
	}
	return 0;
}

static struct vx_item *
push(struct vx_builder *b, unsigned field, uint32_t len)
{
	struct vx_item *it = &b->items[b->nitems++];

	memset(it, 0, sizeof(*it));
	it->field = (uint16_t)field;
	it->off = (uint32_t)b->len;
	it->len = len;
	return it;
}

void
vx_build_header(struct vx_builder *b, uint16_t id, uint16_t cmd,
    uint32_t flags, uint32_t error)
{
	b->len = 0;
	b->nitems = 0;
	b->err = 0;
	vx_build_uint(b, VXF_HDR_ID, id);
	vx_build_uint(b, VXF_HDR_CMD, cmd);
	vx_build_uint(b, VXF_HDR_SIZE, 0);	/* set by vx_build_finish */
	vx_build_uint(b, VXF_HDR_FLAGS, flags);
	vx_build_uint(b, VXF_HDR_ERROR, error);
}

void
vx_build_uint(struct vx_builder *b, unsigned field, uint64_t val)
{
	unsigned w = vx_fields[field].width;
	struct vx_item *it;

	if (reserve(b, w) < 0)
		return;
	it = push(b, field, w);
	it->val = val;
	vx_store(b->buf + b->len, w, val, b->big_endian);
	b->len += w;
}

void
vx_build_bytes(struct vx_builder *b, unsigned field, const void *p, size_t n)
{
	struct vx_item *it;

	if (reserve(b, n) < 0)
		return;
	it = push(b, field, (uint32_t)n);
	it->val = n;
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

int
vx_build_finish(struct vx_builder *b, struct vx_msg *m)
{
	uint32_t i;

	if (b->err)
		return b->err;
	if (b->len < VX_HDR_SIZE)
		return VX_ERR_INVALID;
	vx_store(b->buf + VX_HDR_OFF_SIZE, 4, b->len, b->big_endian);
	/* bytes may have moved with realloc: point items at the final buffer */
	for (i = 0; i < b->nitems; i++) {
		struct vx_item *it = &b->items[i];

		if (it->field == VXF_HDR_SIZE)
			it->val = b->len;
		if (vx_fields[it->field].kind == VX_K_BYTES ||
		    vx_fields[it->field].kind == VX_K_TEXT)
			it->ptr = b->buf + it->off;
	}
	memset(m, 0, sizeof(*m));
	m->buf = b->buf;
	m->len = b->len;
	m->id = (uint16_t)vx_load(b->buf, 2, b->big_endian);
	m->cmd = (uint16_t)vx_load(b->buf + 2, 2, b->big_endian);
	m->size = (uint32_t)b->len;
	m->flags = (uint32_t)vx_load(b->buf + 8, 4, b->big_endian);
	m->error = (uint32_t)vx_load(b->buf + 12, 4, b->big_endian);
	m->big_endian = (uint8_t)b->big_endian;
	m->items = b->items;
	m->nitems = b->nitems;
	return 0;
}
