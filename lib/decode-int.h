/*
 * decode-int.h - what the per-family decoders (lib/msg-*.c) share with the
 * dispatcher (lib/decode.c).  Not installed.
 *
 * A family decoder reads the payload through s->c, one field at a time with
 * dx_uint()/dx_bytes(), which append an item per field.  A getter that runs
 * out of bytes records a "truncated" error naming its field and offset and
 * returns it; the decoder returns that code at once.  Rule violations are
 * reported with dx_fail() and returned the same way.  Whatever is left in
 * the cursor afterwards is the dispatcher's business (trailing bytes or an
 * "undecoded" item after an error), so decoders never need to clean up.
 */
#ifndef VX_DECODE_INT_H
#define VX_DECODE_INT_H

#include "vx-cursor.h"
#include "vx-msg.h"

struct vx_dstate {
	struct vx_decoder *d;
	struct vx_msg *m;
	const struct vx_dctx *ctx;
	struct vx_cursor c;	/* over the payload */
	uint16_t depth;		/* current group nesting */
	uint32_t index;		/* index given to items of the current group */
	int nomem;		/* an allocation failed: give up */
	int last;		/* may use the slot kept for "undecoded" */
	uint32_t room;		/* items that fit without growing or limits */
};

/* Wire widths by field id, visible to the compiler so dx_uint() folds. */
static const uint8_t dx_width[VXF_COUNT] = {
#define VX_FIELD(id, key, label, kind, width, names, flags, desc) \
	[VXF_##id] = width,
#include "fields.def"
#undef VX_FIELD
};

#define DX_PAYLOAD	VX_HDR_SIZE	/* message offset of payload byte 0 */

/*
 * A new item at the end of the list, or NULL with the error recorded: out
 * of memory (s->nomem set) or more items than the decoder's limit (one slot
 * stays free so the bytes left can still be kept as "undecoded").
 */
struct vx_item *dx_push(struct vx_dstate *s);
int dx_fail(struct vx_dstate *s, int code, unsigned field, uint32_t msg_off,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void dx_note(struct vx_dstate *s, unsigned code, unsigned field,
    uint32_t msg_off);
int dx_uint_slow(struct vx_dstate *s, unsigned field, uint64_t *val);
int dx_bytes(struct vx_dstate *s, unsigned field, size_t n);
int dx_virt(struct vx_dstate *s, unsigned field, uint64_t val,
    const char *text);
int dx_group_open(struct vx_dstate *s, unsigned field, uint32_t index);
void dx_group_close(struct vx_dstate *s, int at);

/* Message offset of the cursor. */
static inline uint32_t
dx_off(const struct vx_dstate *s)
{
	return (uint32_t)(DX_PAYLOAD + s->c.off);
}

/*
 * Read the integer field `field` (its width from fields.def) and keep it as
 * an item.  The common case is inline; running out of bytes or of item
 * room goes to dx_uint_slow(), which grows storage or records the error.
 */
static inline int
dx_uint(struct vx_dstate *s, unsigned field, uint64_t *val)
{
	unsigned w = dx_width[field];
	struct vx_item *it;
	uint64_t v;

	if (__builtin_expect(s->c.left < w || s->m->nitems >= s->room, 0))
		return dx_uint_slow(s, field, val);
	v = vx_load(s->c.p, w, s->c.big_endian);
	it = &s->d->items[s->m->nitems++];
	it->field = (uint16_t)field;
	it->depth = s->depth;
	it->off = (uint32_t)(DX_PAYLOAD + s->c.off);
	it->len = w;
	it->index = s->index;
	it->val = v;
	it->ptr = NULL;
	s->c.p += w;
	s->c.left -= w;
	s->c.off += w;
	if (val != NULL)
		*val = v;
	return 0;
}

/* Bytes of payload left. */
static inline size_t
dx_left(const struct vx_dstate *s)
{
	return s->c.left;
}

/* Payload size as a whole. */
static inline size_t
dx_payload_len(const struct vx_dstate *s)
{
	return s->c.off + s->c.left;
}

/* Require exactly n payload bytes, naming the field the shortfall hits. */
int dx_expect_len(struct vx_dstate *s, size_t n, unsigned field,
    const char *what);

/* "argsz must leave room for the reply's fixed part" */
int dx_argsz_min(struct vx_dstate *s, uint64_t argsz, uint64_t min,
    uint32_t at);

/*
 * "argsz must cover the command's own structure": what the kernel's VFIO
 * answers EINVAL to, so an error, not a note (an argsz short of the
 * reply is another matter: dx_argsz_min).
 */
int dx_argsz_struct(struct vx_dstate *s, uint64_t argsz, uint64_t min,
    uint32_t at, const char *what);

typedef int (*dx_family_fn)(struct vx_dstate *s, int reply);

int dec_version(struct vx_dstate *s, int reply);
int dec_dma_map(struct vx_dstate *s, int reply);
int dec_dma_unmap(struct vx_dstate *s, int reply);
int dec_dma_rw(struct vx_dstate *s, int reply);
int dec_device_info(struct vx_dstate *s, int reply);
int dec_region_info(struct vx_dstate *s, int reply);
int dec_io_fds(struct vx_dstate *s, int reply);
int dec_irq_info(struct vx_dstate *s, int reply);
int dec_set_irqs(struct vx_dstate *s, int reply);
int dec_region_rw(struct vx_dstate *s, int reply);
int dec_reset(struct vx_dstate *s, int reply);
int dec_write_multi(struct vx_dstate *s, int reply);
int dec_feature(struct vx_dstate *s, int reply);
int dec_mig_data(struct vx_dstate *s, int reply);

#endif /* VX_DECODE_INT_H */
