/*
 * vx-cursor.h - the only way lib/ reads untrusted bytes.
 *
 * A cursor is a pointer plus the number of bytes left.  Every getter either
 * consumes exactly its width and returns 0, or consumes nothing, zeroes its
 * output and returns VX_ERR_TRUNCATED.  Lengths are checked by comparing
 * against what is left, never by adding to an offset, so no check can
 * overflow.  Byte order is a property of the cursor: the spec says "host
 * order", every known peer is little-endian, so little is the default.
 */
#ifndef VX_CURSOR_H
#define VX_CURSOR_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vx-error.h"

struct vx_cursor {
	const uint8_t *p;	/* next unread byte */
	size_t left;		/* bytes from p to the end */
	size_t off;		/* bytes consumed since vx_cursor_init */
	int big_endian;		/* 0: little-endian fields */
};

static inline void
vx_cursor_init(struct vx_cursor *c, const void *buf, size_t len, int big_endian)
{
	c->p = buf;
	c->left = len;
	c->off = 0;
	c->big_endian = big_endian;
}

/* Load an unsigned integer of width w (1, 2, 4 or 8) without moving. */
static inline uint64_t
vx_load(const uint8_t *p, unsigned w, int big_endian)
{
	uint64_t v = 0;
	uint32_t v32;
	uint16_t v16;
	unsigned i;

	if (!big_endian) {
		switch (w) {
		case 1:
			return p[0];
		case 2:
			memcpy(&v16, p, 2);
			return le16toh(v16);
		case 4:
			memcpy(&v32, p, 4);
			return le32toh(v32);
		case 8:
			memcpy(&v, p, 8);
			return le64toh(v);
		}
	}
	for (i = 0; i < w; i++) {
		if (big_endian)
			v = (v << 8) | p[i];
		else
			v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

/* Store the low w bytes of v. */
static inline void
vx_store(uint8_t *p, unsigned w, uint64_t v, int big_endian)
{
	unsigned i;

	for (i = 0; i < w; i++) {
		if (big_endian)
			p[w - 1 - i] = (uint8_t)(v >> (8 * i));
		else
			p[i] = (uint8_t)(v >> (8 * i));
	}
}

static inline int
vx_cursor_uint(struct vx_cursor *c, unsigned w, uint64_t *v)
{
	*v = 0;
	if (c->left < w)
		return VX_ERR_TRUNCATED;
	*v = vx_load(c->p, w, c->big_endian);
	c->p += w;
	c->left -= w;
	c->off += w;
	return 0;
}

static inline int
vx_cursor_u16(struct vx_cursor *c, uint16_t *v)
{
	uint64_t x;
	int r = vx_cursor_uint(c, 2, &x);

	*v = (uint16_t)x;
	return r;
}

static inline int
vx_cursor_u32(struct vx_cursor *c, uint32_t *v)
{
	uint64_t x;
	int r = vx_cursor_uint(c, 4, &x);

	*v = (uint32_t)x;
	return r;
}

static inline int
vx_cursor_u64(struct vx_cursor *c, uint64_t *v)
{
	return vx_cursor_uint(c, 8, v);
}

/* Borrow n bytes: *ptr points into the cursor's buffer. */
static inline int
vx_cursor_bytes(struct vx_cursor *c, size_t n, const uint8_t **ptr)
{
	*ptr = NULL;
	if (c->left < n)
		return VX_ERR_TRUNCATED;
	*ptr = c->p;
	c->p += n;
	c->left -= n;
	c->off += n;
	return 0;
}

static inline int
vx_cursor_skip(struct vx_cursor *c, size_t n)
{
	const uint8_t *dummy;

	return vx_cursor_bytes(c, n, &dummy);
}

#endif /* VX_CURSOR_H */
