/*
 * msg-dma.c - DMA_MAP, DMA_UNMAP (client to server) and DMA_READ,
 * DMA_WRITE (server to client), spec sections of the same names.
 *
 * DMA_MAP request, 32 bytes; reply: no payload
 *   0       4       8               16              24              32
 *   +-------+-------+---------------+---------------+---------------+
 *   | argsz | flags | offset        | address       | size          |
 *   +-------+-------+---------------+---------------+---------------+
 *
 * DMA_UNMAP request, 24 bytes (+16 with GET_DIRTY_BITMAP); reply: the same,
 * plus the bitmap bytes with GET_DIRTY_BITMAP
 *   0       4       8               16              24        32       40
 *   +-------+-------+---------------+---------------+---------+--------+--
 *   | argsz | flags | address       | size          | pgsize  | bmsize | bitmap
 *   +-------+-------+---------------+---------------+---------+--------+--
 *
 * DMA_READ / DMA_WRITE come in three wire forms (see vfuctl-decode(1)):
 *   spec, libvfio-user:  address u64 @0, count u64 @8, data @16
 *   QEMU:                address u64 @0, count u32 @8, data @12, then 4
 *                        bytes of padding (QEMU sizes its unpacked struct,
 *                        32 bytes with the header, and copies it whole)
 * and DMA_WRITE's reply: spec 12 bytes (address u64, count u32),
 * libvfio-user 16 bytes (address u64, count u64), QEMU none.
 * A DMA_READ command and a DMA_WRITE reply carry no data.  Both forms have
 * the same size, and a DMA_READ command is byte-identical in both while
 * count < 4 GiB: without a profile, the spec's form is assumed unless the
 * count fits only QEMU's.
 */
#include "decode-int.h"

int
dec_dma_map(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags;
	uint32_t at = dx_off(s);
	int r;

	if (reply)
		return 0;
	if ((r = dx_expect_len(s, 32, VXF_DMA_SIZE, "DMA_MAP")) < 0 ||
	    (r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_MAP_FLAGS, &flags)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_MAP_OFFSET, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_ADDR, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_SIZE, NULL)) < 0)
		return r;
	if ((r = dx_argsz_struct(s, argsz, 32, at, "DMA_MAP")) < 0)
		return r;
	if (argsz != 32)
		dx_note(s, VX_NOTE_ARGSZ_MISMATCH, VXF_ARGSZ, at);
	if (flags & ~(uint64_t)(VX_DMA_MAP_READ | VX_DMA_MAP_WRITE |
	    VX_DMA_MAP_MMAP | VX_DMA_MAP_FILE_IO))
		return dx_fail(s, VX_ERR_INVALID, VXF_DMA_MAP_FLAGS, at + 4,
		    "DMA_MAP flags 0x%llx has unknown bits",
		    (unsigned long long)flags);
	if (flags & (VX_DMA_MAP_MMAP | VX_DMA_MAP_FILE_IO)) {
		s->m->variant = VX_VAR_LVU;
		dx_note(s, VX_NOTE_VARIANT_LVU, VXF_DMA_MAP_FLAGS, at + 4);
	}
	return 0;
}

int
dec_dma_unmap(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags, addr, size, bmsize;
	uint32_t at = dx_off(s);
	int r;

	if (reply && dx_left(s) == 0) {
		dx_note(s, VX_NOTE_BARE_UNMAP_REPLY, VXF_ARGSZ, at);
		return 0;
	}
	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_UNMAP_FLAGS, &flags)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_ADDR, &addr)) < 0 ||
	    (r = dx_uint(s, VXF_DMA_SIZE, &size)) < 0)
		return r;
	if (flags & ~(uint64_t)(VX_DMA_UNMAP_GET_DIRTY_BITMAP | VX_DMA_UNMAP_ALL))
		return dx_fail(s, VX_ERR_INVALID, VXF_DMA_UNMAP_FLAGS, at + 4,
		    "DMA_UNMAP flags 0x%llx has unknown bits",
		    (unsigned long long)flags);
	if ((flags & VX_DMA_UNMAP_ALL) && (flags & VX_DMA_UNMAP_GET_DIRTY_BITMAP))
		return dx_fail(s, VX_ERR_INVALID, VXF_DMA_UNMAP_FLAGS, at + 4,
		    "DMA_UNMAP cannot combine all with get_dirty_bitmap");
	if ((flags & VX_DMA_UNMAP_ALL) && (addr != 0 || size != 0))
		return dx_fail(s, VX_ERR_INVALID, VXF_DMA_ADDR, at + 8,
		    "DMA_UNMAP with flag all needs address and size 0");
	/* with get_dirty_bitmap the structure includes the bitmap's header */
	if (!reply && (r = dx_argsz_struct(s, argsz,
	    flags & VX_DMA_UNMAP_GET_DIRTY_BITMAP ? 40 : 24, at,
	    "DMA_UNMAP")) < 0)
		return r;
	if (!(flags & VX_DMA_UNMAP_GET_DIRTY_BITMAP))
		return 0;
	if ((r = dx_uint(s, VXF_BITMAP_PGSIZE, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_BITMAP_SIZE, &bmsize)) < 0)
		return r;
	if (!reply)
		return 0;
	if (bmsize > dx_left(s))
		return dx_fail(s, VX_ERR_TRUNCATED, VXF_BITMAP_DATA, dx_off(s),
		    "dirty bitmap of %llu bytes but %zu left",
		    (unsigned long long)bmsize, dx_left(s));
	return dx_bytes(s, VXF_BITMAP_DATA, (size_t)bmsize);
}

/* Wire forms of DMA_READ/DMA_WRITE, see the table at the top. */
enum dma_form { FORM_SPEC, FORM_QEMU };

static enum dma_form
pick_form(const struct vx_dstate *s, int with_data)
{
	size_t n = dx_left(s);

	if (s->ctx->peer == VX_PEER_QEMU)
		return FORM_QEMU;
	if (s->ctx->peer != VX_PEER_AUTO)
		return FORM_SPEC;
	if (!with_data)
		return n == 12 ? FORM_QEMU : FORM_SPEC;
	/* the count must describe exactly the data that follows it */
	if (n >= 16 && vx_load(s->c.p + 8, 8, s->c.big_endian) == n - 16)
		return FORM_SPEC;
	if (n >= 12 && (vx_load(s->c.p + 8, 4, s->c.big_endian) == n - 16 ||
	    vx_load(s->c.p + 8, 4, s->c.big_endian) == n - 12))
		return FORM_QEMU;
	return FORM_SPEC;
}

static int
dma_write_reply(struct vx_dstate *s)
{
	struct vx_msg *m = s->m;
	size_t n = dx_left(s);
	int peer = s->ctx->peer;
	int r;

	if (peer == VX_PEER_AUTO)
		peer = n == 0 ? VX_PEER_QEMU : n == 12 ? VX_PEER_SPEC : VX_PEER_LVU;
	switch (peer) {
	case VX_PEER_QEMU:
		m->variant = VX_VAR_QEMU;
		dx_note(s, VX_NOTE_VARIANT_QEMU, VXF_DMA_ADDR, dx_off(s));
		return 0;
	case VX_PEER_SPEC:
		m->variant = VX_VAR_SPEC;
		if ((r = dx_expect_len(s, 12, VXF_DMA_COUNT32, "DMA_WRITE reply")) < 0)
			return r;
		if ((r = dx_uint(s, VXF_DMA_ADDR, NULL)) < 0)
			return r;
		return dx_uint(s, VXF_DMA_COUNT32, NULL);
	default:
		m->variant = VX_VAR_LVU;
		dx_note(s, VX_NOTE_VARIANT_LVU, VXF_DMA_COUNT, dx_off(s) + 8);
		if ((r = dx_expect_len(s, 16, VXF_DMA_COUNT, "DMA_WRITE reply")) < 0)
			return r;
		if ((r = dx_uint(s, VXF_DMA_ADDR, NULL)) < 0)
			return r;
		return dx_uint(s, VXF_DMA_COUNT, NULL);
	}
}

int
dec_dma_rw(struct vx_dstate *s, int reply)
{
	struct vx_msg *m = s->m;
	int write = m->cmd == VX_CMD_DMA_WRITE;
	int with_data = write != reply;	/* DMA_WRITE cmd, DMA_READ reply */
	enum dma_form form;
	unsigned cfield;
	uint64_t count, pad;
	int r;

	if (write && reply)
		return dma_write_reply(s);
	form = pick_form(s, with_data);
	cfield = form == FORM_QEMU ? VXF_DMA_COUNT32 : VXF_DMA_COUNT;
	m->variant = form == FORM_QEMU ? VX_VAR_QEMU : VX_VAR_SPEC;
	if (form == FORM_QEMU)
		dx_note(s, VX_NOTE_VARIANT_QEMU, VXF_DMA_COUNT32, dx_off(s) + 8);
	pad = form == FORM_QEMU ? 4 : 0;
	if ((r = dx_uint(s, VXF_DMA_ADDR, NULL)) < 0 ||
	    (r = dx_uint(s, cfield, &count)) < 0)
		return r;
	if (!with_data)
		return pad ? dx_uint(s, VXF_DMA_PAD, NULL) : 0;
	if (count > dx_left(s) || dx_left(s) - count != pad)
		return dx_fail(s, count + pad > dx_left(s) ? VX_ERR_TRUNCATED :
		    VX_ERR_INVALID, VXF_DMA_DATA, dx_off(s),
		    "count %llu but %zu bytes follow (%s form: data%s)",
		    (unsigned long long)count, dx_left(s),
		    pad ? "QEMU" : "spec", pad ? " and 4 padding bytes" : "");
	if ((r = dx_bytes(s, VXF_DMA_DATA, (size_t)count)) < 0)
		return r;
	return pad ? dx_uint(s, VXF_DMA_PAD, NULL) : 0;
}
