/*
 * msg-region.c - DEVICE_GET_REGION_INFO, DEVICE_GET_REGION_IO_FDS,
 * REGION_READ, REGION_WRITE, REGION_WRITE_MULTI (spec sections of the same
 * names).
 *
 * DEVICE_GET_REGION_INFO, command and reply, 32 bytes + capabilities
 *   0       4       8       12           16       24       32
 *   +-------+-------+-------+------------+--------+--------+-------------
 *   | argsz | flags | index | cap_offset | size   | offset | cap chain...
 *   +-------+-------+-------+------------+--------+--------+-------------
 * Each capability: id u16 @0, version u16 @2, next u32 @4 (offsets from
 * payload byte 0, 0 ends the chain); SPARSE_MMAP (1): nr_areas u32 @8,
 * reserved u32 @12, then nr_areas x { offset u64, size u64 }; TYPE (2):
 * type u32 @8, subtype u32 @12.  A reply whose argsz exceeds its payload
 * tells the client to retry with that argsz: valid, with no chain.
 *
 * DEVICE_GET_REGION_IO_FDS, command 16 bytes, reply 16 + count entries
 *   +-------+-------+-------+-------+----------------------
 *   | argsz | flags | index | count | entries, stride (argsz-16)/count
 *   +-------+-------+-------+-------+----------------------
 * Entry, 40 bytes (spec): offset u64, size u64, fd_index u32, type u32,
 * flags u32, padding u32, datamatch/user_data u64.  libvfio-user sends 48:
 * ... flags u32, shadow_fd_index u32, shadow_offset u64, datamatch u64.
 *
 * REGION_READ/WRITE: offset u64 @0, region u32 @8, count u32 @12, then
 * data (write command, read reply).  The write reply echoes the 16 bytes.
 *
 * REGION_WRITE_MULTI command: wr_cnt u64, then wr_cnt 24-byte entries
 * { offset u64, region u32, count u32, data[8] }; reply: wr_cnt u64.  QEMU
 * sends it with no_reply and expects no reply.
 */
#include "decode-int.h"

#define MAX_CAPS	64

struct span {
	uint32_t start, end;
};

/* Point the cursor at payload offset off of a payload of n bytes. */
static void
seek(struct vx_dstate *s, const uint8_t *payload, size_t n, uint32_t off)
{
	s->c.p = payload + off;
	s->c.left = n - off;
	s->c.off = off;
}

static int
cap_body(struct vx_dstate *s, uint64_t id, uint64_t next, uint32_t cap_off,
    size_t n)
{
	uint64_t nr;
	uint32_t i;
	int r, g;

	switch (id) {
	case VX_REGION_CAP_SPARSE_MMAP:
		if ((r = dx_uint(s, VXF_CAP_NR_AREAS, &nr)) < 0 ||
		    (r = dx_uint(s, VXF_CAP_RESERVED, NULL)) < 0)
			return r;
		if (nr > dx_left(s) / 16)
			return dx_fail(s, VX_ERR_TRUNCATED, VXF_CAP_NR_AREAS,
			    DX_PAYLOAD + cap_off + 8,
			    "sparse mmap capability lists %llu areas, room for %zu",
			    (unsigned long long)nr, dx_left(s) / 16);
		for (i = 0; i < nr; i++) {
			if ((g = dx_group_open(s, VXF_AREA, i)) < 0)
				return g;
			if ((r = dx_uint(s, VXF_AREA_OFFSET, NULL)) < 0 ||
			    (r = dx_uint(s, VXF_AREA_SIZE, NULL)) < 0)
				return r;
			dx_group_close(s, g);
		}
		return 0;
	case VX_REGION_CAP_TYPE:
		if ((r = dx_uint(s, VXF_CAP_TYPE, NULL)) < 0)
			return r;
		return dx_uint(s, VXF_CAP_SUBTYPE, NULL);
	default:
		dx_note(s, VX_NOTE_UNKNOWN_CAP, VXF_CAP_ID, DX_PAYLOAD + cap_off);
		/* the body runs to the next capability or the end */
		if (next > cap_off + 8u && next <= n)
			return dx_bytes(s, VXF_CAP_DATA, next - cap_off - 8);
		return dx_bytes(s, VXF_CAP_DATA, dx_left(s));
	}
}

/* Walk the chain within payload[0..n); every capability must fit. */
static int
cap_chain(struct vx_dstate *s, uint64_t first, size_t n)
{
	const uint8_t *payload = s->c.p - s->c.off;
	size_t total = dx_payload_len(s);
	struct span sp[MAX_CAPS], t;
	uint64_t off = first, id, next;
	uint32_t link_at = DX_PAYLOAD + 12;	/* where `off` was read */
	unsigned ncap = 0, i, j;
	uint32_t pos;
	int r, g;

	while (off != 0) {
		if (ncap == MAX_CAPS)
			return dx_fail(s, VX_ERR_TOO_LARGE, VXF_CAP_NEXT, link_at,
			    "more than %d region capabilities", MAX_CAPS);
		if (off < 32 || n < 8 || off > n - 8)
			return dx_fail(s, VX_ERR_INVALID,
			    ncap ? VXF_CAP_NEXT : VXF_RINFO_CAP_OFFSET, link_at,
			    "capability offset 0x%llx is outside the %zu-byte payload",
			    (unsigned long long)off, n);
		seek(s, payload, n, (uint32_t)off);
		if ((g = dx_group_open(s, VXF_CAP, ncap)) < 0)
			return g;
		if ((r = dx_uint(s, VXF_CAP_ID, &id)) < 0 ||
		    (r = dx_uint(s, VXF_CAP_VERSION, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_CAP_NEXT, &next)) < 0 ||
		    (r = cap_body(s, id, next, (uint32_t)off, n)) < 0)
			return r;
		dx_group_close(s, g);
		sp[ncap].start = (uint32_t)off;
		sp[ncap].end = (uint32_t)s->c.off;
		for (i = 0; i < ncap; i++)
			if (sp[i].start < sp[ncap].end && sp[ncap].start < sp[i].end)
				return dx_fail(s, VX_ERR_INVALID, VXF_CAP_NEXT,
				    link_at,
				    "capability at 0x%x overlaps the one at 0x%x%s",
				    sp[ncap].start, sp[i].start,
				    sp[i].start == sp[ncap].start ? " (a loop)" : "");
		ncap++;
		link_at = DX_PAYLOAD + (uint32_t)off + 4;
		off = next;
	}
	/* cover the bytes between capabilities so encode stays exact */
	for (i = 1; i < ncap; i++)
		for (j = i; j > 0 && sp[j - 1].start > sp[j].start; j--) {
			t = sp[j];
			sp[j] = sp[j - 1];
			sp[j - 1] = t;
		}
	pos = 32;
	for (i = 0; i <= ncap; i++) {
		uint32_t end = i < ncap ? sp[i].start : (uint32_t)n;

		if (end > pos) {
			seek(s, payload, n, pos);
			if ((r = dx_bytes(s, VXF_CAP_GAP, end - pos)) < 0)
				return r;
		}
		if (i < ncap)
			pos = sp[i].end;
	}
	seek(s, payload, total, (uint32_t)n);
	return 0;
}

int
dec_region_info(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags, index, cap_off, size, offset;
	uint32_t at = dx_off(s), nitems;
	size_t n = dx_payload_len(s);
	int r;

	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_RINFO_FLAGS, &flags)) < 0 ||
	    (r = dx_uint(s, VXF_REGION_INDEX, &index)) < 0 ||
	    (r = dx_uint(s, VXF_RINFO_CAP_OFFSET, &cap_off)) < 0 ||
	    (r = dx_uint(s, VXF_RINFO_SIZE, &size)) < 0 ||
	    (r = dx_uint(s, VXF_RINFO_OFFSET, &offset)) < 0)
		return r;
	if (!reply) {
		if ((r = dx_argsz_min(s, argsz, 32, at)) < 0)
			return r;
		if (flags | cap_off | size | offset)
			dx_note(s, VX_NOTE_NONZERO_RESERVED, VXF_RINFO_FLAGS, at + 4);
		/* libvfio-user's client sends its whole reply buffer */
		return dx_bytes(s, VXF_TRAILING, dx_left(s));
	}
	if (argsz > n) {
		dx_note(s, VX_NOTE_ARGSZ_RETRY, VXF_ARGSZ, at);
		return 0;
	}
	if (!(flags & VX_REGION_CAPS) || cap_off == 0)
		return 0;
	nitems = s->m->nitems;
	if ((r = cap_chain(s, cap_off, (size_t)argsz)) < 0 && !s->nomem) {
		/* drop the partial chain: everything after the fixed part is
		 * kept as undecoded bytes, so encode stays exact */
		s->m->nitems = nitems;
		s->depth = 0;
		seek(s, s->c.p - s->c.off, n, 32);
	}
	return r;
}

static int
io_fd_entry(struct vx_dstate *s, uint32_t stride, uint32_t i)
{
	uint64_t type;
	uint32_t used;
	int g, r;

	if ((g = dx_group_open(s, VXF_SUBREGION, i)) < 0)
		return g;
	if ((r = dx_uint(s, VXF_SUB_OFFSET, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_SUB_SIZE, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_SUB_FD_INDEX, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_SUB_TYPE, &type)) < 0 ||
	    (r = dx_uint(s, VXF_SUB_FLAGS, NULL)) < 0)
		return r;
	if (stride >= VX_IO_FD_ENTRY_LVU && type != VX_IO_FD_IOREGIONFD) {
		if ((r = dx_uint(s, VXF_SUB_SHADOW_FD, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_SUB_SHADOW_OFF, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_SUB_DATAMATCH, NULL)) < 0)
			return r;
		used = VX_IO_FD_ENTRY_LVU;
	} else {
		if ((r = dx_uint(s, VXF_SUB_PADDING, NULL)) < 0 ||
		    (r = dx_uint(s, type == VX_IO_FD_IOREGIONFD ?
		    VXF_SUB_USER_DATA : VXF_SUB_DATAMATCH, NULL)) < 0)
			return r;
		used = VX_IO_FD_ENTRY_SPEC;
	}
	if (stride > used && (r = dx_bytes(s, VXF_SUB_EXTRA, stride - used)) < 0)
		return r;
	dx_group_close(s, g);
	return 0;
}

int
dec_io_fds(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags, count;
	uint32_t at = dx_off(s), i, stride;
	size_t n = dx_payload_len(s);
	int r;

	if (!reply && (r = dx_expect_len(s, 16, VXF_IOFDS_COUNT,
	    "DEVICE_GET_REGION_IO_FDS")) < 0)
		return r;
	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_IOFDS_FLAGS, &flags)) < 0 ||
	    (r = dx_uint(s, VXF_REGION_INDEX, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_IOFDS_COUNT, &count)) < 0)
		return r;
	if (flags != 0)
		dx_note(s, VX_NOTE_NONZERO_RESERVED, VXF_IOFDS_FLAGS, at + 4);
	if (!reply)
		return dx_argsz_min(s, argsz, 16, at);
	if (argsz > n) {
		dx_note(s, VX_NOTE_ARGSZ_RETRY, VXF_ARGSZ, at);
		return 0;
	}
	if (count == 0)
		return 0;
	if (argsz < 16 || (argsz - 16) % count != 0 ||
	    (argsz - 16) / count < VX_IO_FD_ENTRY_SPEC)
		return dx_fail(s, VX_ERR_INVALID, VXF_ARGSZ, at,
		    "argsz %llu does not hold %llu sub-regions of at least %d bytes",
		    (unsigned long long)argsz, (unsigned long long)count,
		    VX_IO_FD_ENTRY_SPEC);
	stride = (uint32_t)((argsz - 16) / count);
	if (stride >= VX_IO_FD_ENTRY_LVU) {
		s->m->variant = VX_VAR_LVU;
		dx_note(s, VX_NOTE_VARIANT_LVU, VXF_SUBREGION, dx_off(s));
	}
	for (i = 0; i < count; i++)
		if ((r = io_fd_entry(s, stride, i)) < 0)
			return r;
	return 0;
}

int
dec_region_rw(struct vx_dstate *s, int reply)
{
	struct vx_msg *m = s->m;
	int write = m->cmd == VX_CMD_REGION_WRITE;
	uint64_t offset, index, count;
	int r;

	if (dx_left(s) >= 16 && m->nitems + 4 <= s->room && s->depth == 0) {
		/* the hottest message of all: three items from a template */
		static const struct vx_item tmpl[3] = {
			{ VXF_REGION_OFFSET, 0, DX_PAYLOAD + 0, 8, 0, 0, NULL },
			{ VXF_REGION_INDEX, 0, DX_PAYLOAD + 8, 4, 0, 0, NULL },
			{ VXF_REGION_COUNT, 0, DX_PAYLOAD + 12, 4, 0, 0, NULL },
		};
		struct vx_item *it = &s->d->items[m->nitems];

		memcpy(it, tmpl, sizeof(tmpl));
		it[0].val = offset = vx_load(s->c.p, 8, s->c.big_endian);
		it[1].val = index = vx_load(s->c.p + 8, 4, s->c.big_endian);
		it[2].val = count = vx_load(s->c.p + 12, 4, s->c.big_endian);
		m->nitems += 3;
		s->c.p += 16;
		s->c.left -= 16;
		s->c.off += 16;
	} else if ((r = dx_uint(s, VXF_REGION_OFFSET, &offset)) < 0 ||
	    (r = dx_uint(s, VXF_REGION_INDEX, &index)) < 0 ||
	    (r = dx_uint(s, VXF_REGION_COUNT, &count)) < 0)
		return r;
	/* the view; only trusted when the message is not malformed */
	m->rw.offset = offset;
	m->rw.index = (uint32_t)index;
	m->rw.count = (uint32_t)count;
	if (m->flags & VX_F_ERROR)	/* libvfio-user's error body */
		return dx_bytes(s, VXF_REGION_DATA, dx_left(s));
	if (write == reply)		/* read command, write reply */
		return 0;
	if (count != dx_left(s))
		return dx_fail(s, count > dx_left(s) ? VX_ERR_TRUNCATED :
		    VX_ERR_INVALID, VXF_REGION_DATA, dx_off(s),
		    "count %llu but %zu data bytes", (unsigned long long)count,
		    dx_left(s));
	m->data = s->c.p;
	m->dlen = (uint32_t)count;
	return dx_bytes(s, VXF_REGION_DATA, (size_t)count);
}

int
dec_write_multi(struct vx_dstate *s, int reply)
{
	uint64_t n, count;
	uint32_t at = dx_off(s), i;
	int r, g;

	if (reply)
		return dx_uint(s, VXF_WM_COUNT, NULL);
	if ((r = dx_uint(s, VXF_WM_COUNT, &n)) < 0)
		return r;
	if (n == 0)
		dx_note(s, VX_NOTE_WRITE_MULTI_EMPTY, VXF_WM_COUNT, at);
	if (n > VX_WRITE_MULTI_QEMU_MAX)
		dx_note(s, VX_NOTE_WRITE_MULTI_OVER_QEMU, VXF_WM_COUNT, at);
	if (n > dx_left(s) / VX_WRITE_MULTI_ENTRY)
		return dx_fail(s, VX_ERR_TRUNCATED, VXF_WM_ENTRY, dx_off(s),
		    "wr_cnt %llu but room for %zu writes",
		    (unsigned long long)n, dx_left(s) / VX_WRITE_MULTI_ENTRY);
	for (i = 0; i < n; i++) {
		uint32_t eat = dx_off(s);

		if ((g = dx_group_open(s, VXF_WM_ENTRY, i)) < 0)
			return g;
		if ((r = dx_uint(s, VXF_REGION_OFFSET, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_REGION_INDEX, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_REGION_COUNT, &count)) < 0 ||
		    (r = dx_bytes(s, VXF_WM_DATA, VX_WRITE_MULTI_DATA)) < 0)
			return r;
		dx_group_close(s, g);
		if (count > VX_WRITE_MULTI_DATA)
			return dx_fail(s, VX_ERR_INVALID, VXF_REGION_COUNT, eat + 12,
			    "write %u has count %llu, at most %d fit", i,
			    (unsigned long long)count, VX_WRITE_MULTI_DATA);
	}
	return 0;
}
