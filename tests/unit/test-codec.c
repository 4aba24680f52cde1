/*
 * test-codec.c - decode and encode of every vfio-user message.
 *
 * Well-formed messages of every command, both directions, are laid out
 * with the builder from a table of fields, decoded, and must come back
 * field for field and re-encode to the same bytes, with the expected
 * status, peer variant and notes.  Malformed messages, given as hex, must
 * name the exact error code, field and offset and still re-encode exactly.
 * Every prefix of all these messages, and 200000 random mutations of them
 * (fixed seed), must decode without a crash, re-encode exactly and print.
 *
 * Tests that show the library contradicting its layout comments or the
 * spec print a "# BUG: ..." line when they fail.
 *
 * usage: test-codec [MUTATIONS]   (default: $VX_MUTATIONS or 200000)
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "unit.h"
#include "vx-strbuf.h"

#define MAXFV		32
#define MAXMSG		4096
#define MAXCORPUS	256

/* --- helpers --------------------------------------------------------- */

static FILE *devnull;

/* Hex digits (spaces ignored) to bytes; returns the byte count. */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if ((v = vx_hexval((unsigned char)*s)) < 0)
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n < cap)
			out[n] = (uint8_t)(hi << 4 | v);
		n++;
		hi = -1;
	}
	return n;
}

static void
tohex(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static uint32_t
note_mask(const struct vx_msg *m)
{
	uint32_t mask = 0;
	unsigned i;

	for (i = 0; i < m->nnotes; i++)
		mask |= 1u << m->notes[i].code;
	return mask;
}

static void
note_names(uint32_t mask, char *out, size_t cap)
{
	size_t pos = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < VX_NOTE_COUNT; i++)
		if (mask & (1u << i))
			pos += (size_t)snprintf(out + pos,
			    pos < cap ? cap - pos : 0, "%s%s", pos ? "," : "",
			    vx_note_key(i));
	if (pos == 0)
		snprintf(out, cap, "none");
}

static int
wire_item(const struct vx_item *it)
{
	const struct vx_field *f = &vx_fields[it->field];

	return !(f->flags & VX_FF_VIRT) && f->kind != VX_K_GROUP;
}

static int
bytes_kind(unsigned field)
{
	return vx_fields[field].kind == VX_K_BYTES ||
	    vx_fields[field].kind == VX_K_TEXT;
}

static const struct vx_item *
find_item(const struct vx_msg *m, unsigned field, uint32_t off)
{
	uint32_t i;

	for (i = 0; i < m->nitems; i++)
		if (m->items[i].field == field && m->items[i].off == off &&
		    wire_item(&m->items[i]))
			return &m->items[i];
	return NULL;
}

/*
 * Every wire item of want is in got (same field, offset, length, value or
 * bytes) and got has no wire item want lacks; fields want has once read
 * back the same through vx_msg_get().
 */
static int
items_match(const struct vx_msg *want, const struct vx_msg *got, char *why,
    size_t cap)
{
	uint32_t i, j, n;
	uint64_t v;

	for (i = 0; i < want->nitems; i++) {
		const struct vx_item *w = &want->items[i], *g;

		if (!wire_item(w))
			continue;
		if ((g = find_item(got, w->field, w->off)) == NULL) {
			snprintf(why, cap, "%s at %u missing",
			    vx_fields[w->field].key, w->off);
			return 0;
		}
		if (g->len != w->len || (bytes_kind(w->field) ?
		    memcmp(g->ptr, w->ptr, w->len) != 0 : g->val != w->val)) {
			snprintf(why, cap,
			    "%s at %u: got 0x%llx/%u, built 0x%llx/%u",
			    vx_fields[w->field].key, w->off,
			    (unsigned long long)g->val, g->len,
			    (unsigned long long)w->val, w->len);
			return 0;
		}
		for (j = n = 0; j < want->nitems; j++)
			n += want->items[j].field == w->field;
		if (n == 1 &&
		    (vx_msg_get(got, w->field, &v) < 0 || v != w->val)) {
			snprintf(why, cap, "vx_msg_get(%s) differs",
			    vx_fields[w->field].key);
			return 0;
		}
	}
	for (i = 0; i < got->nitems; i++) {
		const struct vx_item *g = &got->items[i];

		if (wire_item(g) && find_item(want, g->field, g->off) == NULL) {
			snprintf(why, cap, "unexpected %s at %u (%u bytes)",
			    vx_fields[g->field].key, g->off, g->len);
			return 0;
		}
	}
	return 1;
}

/* vx_encode() gives back exactly in[0..len), into a buffer of other bytes. */
static int
encodes_back(const struct vx_msg *m, const uint8_t *in, size_t len)
{
	static uint8_t out[MAXMSG + 64];
	size_t i;
	long r;

	if (len > MAXMSG)
		return 0;
	for (i = 0; i < sizeof(out); i++)
		out[i] = i < len ? (uint8_t)~in[i] : 0x5a;
	r = vx_encode(m, out, sizeof(out));
	return r == (long)len && memcmp(out, in, len) == 0;
}

/* The printers run on whatever decode produced. */
static int
prints(const struct vx_msg *m, int all)
{
	char line[512];
	json_t *j;
	size_t n;

	n = vx_summary(m, line, sizeof(line));
	if (n == 0 || line[0] == '\0')
		return 0;
	if (!all)
		return 1;
	vx_print_tree(devnull, m, "  ");
	vx_print_hex(devnull, m, "  ");
	if ((j = vx_msg_json(m)) == NULL)
		return 0;
	json_decref(j);
	return 1;
}

static int
dir_of(uint16_t cmd, uint32_t flags)
{
	int reply = (flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY;
	int server_cmd = cmd == VX_CMD_DMA_READ || cmd == VX_CMD_DMA_WRITE;

	return reply != server_cmd ? VX_S2C : VX_C2S;
}

/* Messages kept for the prefix and mutation runs. */
struct sample {
	uint8_t *buf;
	size_t len;
	uint8_t dir, peer, be;
	const char *name;
};
static struct sample corpus[MAXCORPUS];
static unsigned ncorpus;

static void
keep_sample(const char *name, const uint8_t *buf, size_t len, int dir,
    int peer, int be)
{
	struct sample *s;

	if (ncorpus == MAXCORPUS || len > MAXMSG)
		return;
	s = &corpus[ncorpus++];
	if ((s->buf = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(s->buf, buf, len);
	s->len = len;
	s->dir = (uint8_t)dir;
	s->peer = (uint8_t)peer;
	s->be = (uint8_t)be;
	s->name = name;
}

/* --- well-formed messages from the builder ----------------------------- */

enum { FV_END = 0, FV_U, FV_H, FV_S };

/* One field to build: an integer, hex bytes, or text with its NUL. */
struct fv {
	int kind;
	unsigned field;
	uint64_t val;
	const char *s;
};
#define U(f, v)	{ FV_U, VXF_##f, (v), NULL }
#define H(f, h)	{ FV_H, VXF_##f, 0, (h) }
#define S(f, t)	{ FV_S, VXF_##f, 0, (t) }

#define N(id)	(1u << VX_NOTE_##id)
#define AV(v)	((v) + 1)	/* expected variant under VX_PEER_AUTO */

#define R	VX_F_TYPE_REPLY
#define E	VX_F_ERROR

struct bcase {
	const char *name;
	uint16_t cmd;
	uint32_t flags;
	uint32_t error;
	uint8_t peer;		/* peer the decoder is told */
	uint8_t var;		/* expected m.variant */
	uint8_t auto_var;	/* 0: VX_PEER_AUTO decodes alike; else AV() */
	uint8_t status;
	uint8_t be;		/* big-endian builder and cursor */
	uint32_t notes;		/* exactly these notes, N() bits */
	struct fv f[MAXFV];
};

#define JSON_CMD "{\"capabilities\":{\"max_msg_fds\":8," \
	"\"max_data_xfer_size\":1048576,\"max_dma_maps\":128," \
	"\"pgsizes\":4096," \
	"\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":262144}," \
	"\"twin_socket\":{\"supported\":true},\"write_multiple\":true}}"
#define JSON_REPLY "{ \"capabilities\": { \"max_msg_fds\": 16, " \
	"\"max_data_xfer_size\": 65536, \"twin_socket\": { \"supported\": " \
	"true, \"fd_index\": 0 }, \"write_multiple\": true } }"

static const struct bcase bcases[] = {
	/* VERSION */
	{ .name = "VERSION command with capabilities", .cmd = 1,
	  .f = { U(VER_MAJOR, 0), U(VER_MINOR, 2), S(VER_JSON, JSON_CMD) } },
	{ .name = "VERSION reply with capabilities", .cmd = 1, .flags = R,
	  .f = { U(VER_MAJOR, 0), U(VER_MINOR, 2), S(VER_JSON, JSON_REPLY) } },
	{ .name = "VERSION command without JSON", .cmd = 1,
	  .f = { U(VER_MAJOR, 0), U(VER_MINOR, 2) } },
	{ .name = "VERSION reply without JSON", .cmd = 1, .flags = R,
	  .f = { U(VER_MAJOR, 0), U(VER_MINOR, 1) } },
	{ .name = "VERSION command, big-endian", .cmd = 1, .be = 1,
	  .f = { U(VER_MAJOR, 0), U(VER_MINOR, 2), S(VER_JSON, JSON_CMD) } },

	/* DMA_MAP */
	{ .name = "DMA_MAP command", .cmd = 2,
	  .f = { U(ARGSZ, 32), U(DMA_MAP_FLAGS, 3), U(DMA_MAP_OFFSET, 0x2000),
	    U(DMA_ADDR, 0x100000), U(DMA_SIZE, 0x40000) } },
	{ .name = "DMA_MAP command, libvfio-user mmap flag", .cmd = 2,
	  .var = VX_VAR_LVU, .notes = N(VARIANT_LVU),
	  .f = { U(ARGSZ, 32), U(DMA_MAP_FLAGS, 7), U(DMA_MAP_OFFSET, 0),
	    U(DMA_ADDR, 0x200000), U(DMA_SIZE, 0x1000) } },
	{ .name = "DMA_MAP command argsz 40", .cmd = 2,
	  .notes = N(ARGSZ_MISMATCH),
	  .f = { U(ARGSZ, 40), U(DMA_MAP_FLAGS, 1), U(DMA_MAP_OFFSET, 0),
	    U(DMA_ADDR, 0x200000), U(DMA_SIZE, 0x1000) } },
	{ .name = "DMA_MAP command, big-endian", .cmd = 2, .be = 1,
	  .f = { U(ARGSZ, 32), U(DMA_MAP_FLAGS, 3), U(DMA_MAP_OFFSET, 0x2000),
	    U(DMA_ADDR, 0x100000), U(DMA_SIZE, 0x40000) } },
	{ .name = "DMA_MAP reply", .cmd = 2, .flags = R },

	/* DMA_UNMAP */
	{ .name = "DMA_UNMAP command", .cmd = 3,
	  .f = { U(ARGSZ, 24), U(DMA_UNMAP_FLAGS, 0), U(DMA_ADDR, 0x100000),
	    U(DMA_SIZE, 0x40000) } },
	{ .name = "DMA_UNMAP reply", .cmd = 3, .flags = R,
	  .f = { U(ARGSZ, 24), U(DMA_UNMAP_FLAGS, 0), U(DMA_ADDR, 0x100000),
	    U(DMA_SIZE, 0x40000) } },
	{ .name = "DMA_UNMAP command get_dirty_bitmap", .cmd = 3,
	  .f = { U(ARGSZ, 48), U(DMA_UNMAP_FLAGS, 1), U(DMA_ADDR, 0x100000),
	    U(DMA_SIZE, 0x40000), U(BITMAP_PGSIZE, 4096), U(BITMAP_SIZE, 8) } },
	{ .name = "DMA_UNMAP reply with bitmap", .cmd = 3, .flags = R,
	  .f = { U(ARGSZ, 48), U(DMA_UNMAP_FLAGS, 1), U(DMA_ADDR, 0x100000),
	    U(DMA_SIZE, 0x40000), U(BITMAP_PGSIZE, 4096), U(BITMAP_SIZE, 8),
	    H(BITMAP_DATA, "0300000000000080") } },
	{ .name = "DMA_UNMAP command all", .cmd = 3,
	  .f = { U(ARGSZ, 24), U(DMA_UNMAP_FLAGS, 2), U(DMA_ADDR, 0),
	    U(DMA_SIZE, 0) } },
	{ .name = "DMA_UNMAP bare reply", .cmd = 3, .flags = R,
	  .notes = N(BARE_UNMAP_REPLY) },

	/* DEVICE_GET_INFO */
	{ .name = "DEVICE_GET_INFO command", .cmd = 4,
	  .f = { U(ARGSZ, 16), U(DEV_FLAGS, 0), U(DEV_NUM_REGIONS, 0),
	    U(DEV_NUM_IRQS, 0) } },
	{ .name = "DEVICE_GET_INFO command, reserved set", .cmd = 4,
	  .notes = N(NONZERO_RESERVED),
	  .f = { U(ARGSZ, 16), U(DEV_FLAGS, 0), U(DEV_NUM_REGIONS, 9),
	    U(DEV_NUM_IRQS, 0) } },
	{ .name = "DEVICE_GET_INFO reply", .cmd = 4, .flags = R,
	  .f = { U(ARGSZ, 16), U(DEV_FLAGS, 3), U(DEV_NUM_REGIONS, 9),
	    U(DEV_NUM_IRQS, 5) } },

	/* DEVICE_GET_REGION_INFO */
	{ .name = "REGION_INFO command", .cmd = 5,
	  .f = { U(ARGSZ, 32), U(RINFO_FLAGS, 0), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, 0), U(RINFO_OFFSET, 0) } },
	{ .name = "REGION_INFO command with its reply buffer", .cmd = 5,
	  .f = { U(ARGSZ, 48), U(RINFO_FLAGS, 0), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, 0), U(RINFO_OFFSET, 0),
	    H(TRAILING, "00000000000000000000000000000000") } },
	{ .name = "REGION_INFO command, reserved set", .cmd = 5,
	  .notes = N(NONZERO_RESERVED),
	  .f = { U(ARGSZ, 32), U(RINFO_FLAGS, 0), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, 0x1000),
	    U(RINFO_OFFSET, 0) } },
	{ .name = "REGION_INFO reply", .cmd = 5, .flags = R,
	  .f = { U(ARGSZ, 32), U(RINFO_FLAGS, 3), U(REGION_INDEX, 7),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, 0x100),
	    U(RINFO_OFFSET, 0) } },
	{ .name = "REGION_INFO reply, sparse+TYPE+unknown caps", .cmd = 5,
	  .flags = R, .notes = N(UNKNOWN_CAP),
	  .f = { U(ARGSZ, 112), U(RINFO_FLAGS, 0xf), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x4000),
	    U(RINFO_OFFSET, 0x10000),
	    U(CAP_ID, 1), U(CAP_VERSION, 1), U(CAP_NEXT, 80),
	    U(CAP_NR_AREAS, 2), U(CAP_RESERVED, 0),
	    U(AREA_OFFSET, 0), U(AREA_SIZE, 0x1000),
	    U(AREA_OFFSET, 0x2000), U(AREA_SIZE, 0x2000),
	    U(CAP_ID, 2), U(CAP_VERSION, 1), U(CAP_NEXT, 96),
	    U(CAP_TYPE, 0x80860000), U(CAP_SUBTYPE, 3),
	    U(CAP_ID, 99), U(CAP_VERSION, 1), U(CAP_NEXT, 0),
	    H(CAP_DATA, "0102030405060708") } },
	{ .name = "REGION_INFO reply, gaps between caps", .cmd = 5,
	  .flags = R, .notes = N(UNKNOWN_CAP),
	  .f = { U(ARGSZ, 88), U(RINFO_FLAGS, 0xb), U(REGION_INDEX, 1),
	    U(RINFO_CAP_OFFSET, 40), U(RINFO_SIZE, 0x1000), U(RINFO_OFFSET, 0),
	    H(CAP_GAP, "a5a5a5a5a5a5a5a5"),
	    U(CAP_ID, 2), U(CAP_VERSION, 1), U(CAP_NEXT, 64),
	    U(CAP_TYPE, 1), U(CAP_SUBTYPE, 2),
	    H(CAP_GAP, "5a5a5a5a5a5a5a5a"),
	    U(CAP_ID, 0x55), U(CAP_VERSION, 3), U(CAP_NEXT, 0),
	    H(CAP_DATA, "11223344556677881122334455667788") } },
	{ .name = "REGION_INFO reply, chain pointing backwards", .cmd = 5,
	  .flags = R,
	  .f = { U(ARGSZ, 80), U(RINFO_FLAGS, 0xf), U(REGION_INDEX, 0),
	    U(RINFO_CAP_OFFSET, 48), U(RINFO_SIZE, 0x2000), U(RINFO_OFFSET, 0),
	    U(CAP_ID, 2), U(CAP_VERSION, 1), U(CAP_NEXT, 0),
	    U(CAP_TYPE, 7), U(CAP_SUBTYPE, 8),
	    U(CAP_ID, 1), U(CAP_VERSION, 1), U(CAP_NEXT, 32),
	    U(CAP_NR_AREAS, 1), U(CAP_RESERVED, 0),
	    U(AREA_OFFSET, 0x1000), U(AREA_SIZE, 0x1000) } },
	{ .name = "REGION_INFO reply, argsz > payload", .cmd = 5, .flags = R,
	  .notes = N(ARGSZ_RETRY),
	  .f = { U(ARGSZ, 112), U(RINFO_FLAGS, 0xf), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x4000),
	    U(RINFO_OFFSET, 0) } },
	{ .name = "REGION_INFO reply, caps, big-endian", .cmd = 5, .flags = R,
	  .be = 1,
	  .f = { U(ARGSZ, 64), U(RINFO_FLAGS, 0xf), U(REGION_INDEX, 2),
	    U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x4000), U(RINFO_OFFSET, 0),
	    U(CAP_ID, 1), U(CAP_VERSION, 1), U(CAP_NEXT, 0),
	    U(CAP_NR_AREAS, 1), U(CAP_RESERVED, 0),
	    U(AREA_OFFSET, 0x1000), U(AREA_SIZE, 0x3000) } },

	/* DEVICE_GET_REGION_IO_FDS */
	{ .name = "IO_FDS command", .cmd = 6,
	  .f = { U(ARGSZ, 96), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 0) } },
	{ .name = "IO_FDS command, flags set", .cmd = 6,
	  .notes = N(NONZERO_RESERVED),
	  .f = { U(ARGSZ, 96), U(IOFDS_FLAGS, 1), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 0) } },
	{ .name = "IO_FDS reply, 40-byte entries", .cmd = 6, .flags = R,
	  .f = { U(ARGSZ, 96), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 2),
	    U(SUB_OFFSET, 0x100), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 0),
	    U(SUB_TYPE, 0), U(SUB_FLAGS, 1), U(SUB_PADDING, 0),
	    U(SUB_DATAMATCH, 0xabcd),
	    U(SUB_OFFSET, 0x200), U(SUB_SIZE, 0), U(SUB_FD_INDEX, 1),
	    U(SUB_TYPE, 1), U(SUB_FLAGS, 2), U(SUB_PADDING, 0),
	    U(SUB_USER_DATA, 0x1234) } },
	{ .name = "IO_FDS reply, 48-byte entries", .cmd = 6, .flags = R,
	  .var = VX_VAR_LVU, .notes = N(VARIANT_LVU),
	  .f = { U(ARGSZ, 160), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 3),
	    U(SUB_OFFSET, 0x100), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 0),
	    U(SUB_TYPE, 0), U(SUB_FLAGS, 0), U(SUB_SHADOW_FD, 0),
	    U(SUB_SHADOW_OFF, 0), U(SUB_DATAMATCH, 0),
	    U(SUB_OFFSET, 0x104), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 1),
	    U(SUB_TYPE, 2), U(SUB_FLAGS, 0), U(SUB_SHADOW_FD, 2),
	    U(SUB_SHADOW_OFF, 0x1000), U(SUB_DATAMATCH, 7),
	    U(SUB_OFFSET, 0x200), U(SUB_SIZE, 8), U(SUB_FD_INDEX, 3),
	    U(SUB_TYPE, 1), U(SUB_FLAGS, 0), U(SUB_PADDING, 0),
	    U(SUB_USER_DATA, 0x55), H(SUB_EXTRA, "0000000000000000") } },
	{ .name = "IO_FDS reply, no sub-regions", .cmd = 6, .flags = R,
	  .f = { U(ARGSZ, 16), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 3),
	    U(IOFDS_COUNT, 0) } },
	{ .name = "IO_FDS reply, argsz > payload", .cmd = 6, .flags = R,
	  .notes = N(ARGSZ_RETRY),
	  .f = { U(ARGSZ, 96), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 2) } },

	/* DEVICE_GET_IRQ_INFO */
	{ .name = "IRQ_INFO command", .cmd = 7,
	  .f = { U(ARGSZ, 16), U(IRQ_INFO_FLAGS, 0), U(IRQ_INDEX, 2),
	    U(IRQ_COUNT, 0) } },
	{ .name = "IRQ_INFO reply", .cmd = 7, .flags = R,
	  .f = { U(ARGSZ, 16), U(IRQ_INFO_FLAGS, 9), U(IRQ_INDEX, 2),
	    U(IRQ_COUNT, 16) } },

	{ .name = "IRQ_INFO command, count set", .cmd = 7,
	  .notes = N(NONZERO_RESERVED),
	  .f = { U(ARGSZ, 16), U(IRQ_INFO_FLAGS, 0), U(IRQ_INDEX, 2),
	    U(IRQ_COUNT, 1) } },
	{ .name = "DEVICE_GET_INFO reply, argsz 20", .cmd = 4, .flags = R,
	  .notes = N(ARGSZ_RETRY),
	  .f = { U(ARGSZ, 20), U(DEV_FLAGS, 3), U(DEV_NUM_REGIONS, 9),
	    U(DEV_NUM_IRQS, 5) } },

	/* DEVICE_SET_IRQS */
	{ .name = "SET_IRQS eventfd trigger", .cmd = 8,
	  .f = { U(ARGSZ, 20), U(IRQ_SET_FLAGS, 0x24), U(IRQ_INDEX, 2),
	    U(IRQ_START, 0), U(IRQ_COUNT, 4) } },
	{ .name = "SET_IRQS data_bool", .cmd = 8,
	  .f = { U(ARGSZ, 23), U(IRQ_SET_FLAGS, 0x22), U(IRQ_INDEX, 1),
	    U(IRQ_START, 2), U(IRQ_COUNT, 3), H(IRQ_DATA, "010001") } },
	{ .name = "SET_IRQS data_bool, big-endian", .cmd = 8, .be = 1,
	  .f = { U(ARGSZ, 22), U(IRQ_SET_FLAGS, 0x0a), U(IRQ_INDEX, 1),
	    U(IRQ_START, 0), U(IRQ_COUNT, 2), H(IRQ_DATA, "0100") } },
	{ .name = "SET_IRQS data_none disables all", .cmd = 8,
	  .notes = N(DISABLE_ALL_IRQS),
	  .f = { U(ARGSZ, 20), U(IRQ_SET_FLAGS, 0x21), U(IRQ_INDEX, 2),
	    U(IRQ_START, 0), U(IRQ_COUNT, 0) } },
	{ .name = "SET_IRQS unmask, argsz differs", .cmd = 8,
	  .notes = N(ARGSZ_MISMATCH),
	  .f = { U(ARGSZ, 32), U(IRQ_SET_FLAGS, 0x11), U(IRQ_INDEX, 0),
	    U(IRQ_START, 0), U(IRQ_COUNT, 1) } },
	{ .name = "SET_IRQS reply", .cmd = 8, .flags = R },

	/* REGION_READ, REGION_WRITE */
	{ .name = "REGION_READ command", .cmd = 9,
	  .f = { U(REGION_OFFSET, 0x10), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4) } },
	{ .name = "REGION_READ reply", .cmd = 9, .flags = R,
	  .f = { U(REGION_OFFSET, 0x10), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4), H(REGION_DATA, "1f000000") } },
	{ .name = "REGION_READ error reply with body", .cmd = 9,
	  .flags = R | E, .error = EIO, .notes = N(ERROR_BODY),
	  .f = { U(REGION_OFFSET, 0x10), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4) } },
	{ .name = "REGION_WRITE command", .cmd = 10,
	  .f = { U(REGION_OFFSET, 0x20), U(REGION_INDEX, 2),
	    U(REGION_COUNT, 4), H(REGION_DATA, "deadbeef") } },
	{ .name = "REGION_WRITE command, big-endian", .cmd = 10, .be = 1,
	  .f = { U(REGION_OFFSET, 0x20), U(REGION_INDEX, 2),
	    U(REGION_COUNT, 2), H(REGION_DATA, "beef") } },
	{ .name = "REGION_WRITE reply", .cmd = 10, .flags = R,
	  .f = { U(REGION_OFFSET, 0x20), U(REGION_INDEX, 2),
	    U(REGION_COUNT, 4) } },

	/* DMA_READ, DMA_WRITE in the three peers' forms */
	{ .name = "DMA_READ command, spec", .cmd = 11, .peer = VX_PEER_SPEC,
	  .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT, 4) } },
	{ .name = "DMA_READ command, libvfio-user", .cmd = 11,
	  .peer = VX_PEER_LVU, .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT, 0x100000000ull) } },
	{ .name = "DMA_READ command, QEMU", .cmd = 11, .peer = VX_PEER_QEMU,
	  .var = VX_VAR_QEMU, .auto_var = AV(VX_VAR_SPEC),
	  .notes = N(VARIANT_QEMU),
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT32, 4), U(DMA_PAD, 0) } },
	{ .name = "DMA_READ reply, spec", .cmd = 11, .flags = R,
	  .peer = VX_PEER_SPEC, .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT, 4),
	    H(DMA_DATA, "a1b2c3d4") } },
	{ .name = "DMA_READ reply, libvfio-user", .cmd = 11, .flags = R,
	  .peer = VX_PEER_LVU, .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT, 6),
	    H(DMA_DATA, "a1b2c3d4e5f6") } },
	{ .name = "DMA_READ reply, QEMU", .cmd = 11, .flags = R,
	  .peer = VX_PEER_QEMU, .var = VX_VAR_QEMU, .notes = N(VARIANT_QEMU),
	  .f = { U(DMA_ADDR, 0x101000), U(DMA_COUNT32, 4),
	    H(DMA_DATA, "a1b2c3d4"), U(DMA_PAD, 0) } },
	{ .name = "DMA_WRITE command, spec", .cmd = 12, .peer = VX_PEER_SPEC,
	  .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT, 8),
	    H(DMA_DATA, "0102030405060708") } },
	{ .name = "DMA_WRITE command, libvfio-user", .cmd = 12,
	  .peer = VX_PEER_LVU, .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT, 2),
	    H(DMA_DATA, "0102") } },
	{ .name = "DMA_WRITE command, QEMU", .cmd = 12, .peer = VX_PEER_QEMU,
	  .var = VX_VAR_QEMU, .notes = N(VARIANT_QEMU),
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT32, 8),
	    H(DMA_DATA, "0102030405060708"), U(DMA_PAD, 0) } },
	{ .name = "DMA_WRITE command, QEMU, big-endian", .cmd = 12, .be = 1,
	  .peer = VX_PEER_QEMU, .var = VX_VAR_QEMU, .notes = N(VARIANT_QEMU),
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT32, 3),
	    H(DMA_DATA, "010203"), U(DMA_PAD, 0) } },
	{ .name = "DMA_WRITE reply, spec", .cmd = 12, .flags = R,
	  .peer = VX_PEER_SPEC, .var = VX_VAR_SPEC,
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT32, 8) } },
	{ .name = "DMA_WRITE reply, libvfio-user", .cmd = 12, .flags = R,
	  .peer = VX_PEER_LVU, .var = VX_VAR_LVU, .notes = N(VARIANT_LVU),
	  .f = { U(DMA_ADDR, 0x102000), U(DMA_COUNT, 8) } },
	{ .name = "DMA_WRITE reply, QEMU", .cmd = 12, .flags = R,
	  .peer = VX_PEER_QEMU, .var = VX_VAR_QEMU, .notes = N(VARIANT_QEMU) },

	/* DEVICE_RESET */
	{ .name = "DEVICE_RESET command", .cmd = 13 },
	{ .name = "DEVICE_RESET reply", .cmd = 13, .flags = R },

	/* REGION_WRITE_MULTI */
	{ .name = "WRITE_MULTI command", .cmd = 15,
	  .f = { U(WM_COUNT, 2),
	    U(REGION_OFFSET, 0x10), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(WM_DATA, "0100000000000000"),
	    U(REGION_OFFSET, 0x14), U(REGION_INDEX, 0), U(REGION_COUNT, 8),
	    H(WM_DATA, "0203040506070809") } },
	{ .name = "WRITE_MULTI command, no_reply", .cmd = 15,
	  .flags = VX_F_NO_REPLY,
	  .f = { U(WM_COUNT, 1),
	    U(REGION_OFFSET, 0x10), U(REGION_INDEX, 2), U(REGION_COUNT, 1),
	    H(WM_DATA, "ff00000000000000") } },
	{ .name = "WRITE_MULTI command, wr_cnt 0", .cmd = 15,
	  .notes = N(WRITE_MULTI_EMPTY), .f = { U(WM_COUNT, 0) } },
	{ .name = "WRITE_MULTI reply", .cmd = 15, .flags = R,
	  .f = { U(WM_COUNT, 2) } },

	/* DEVICE_FEATURE: MIGRATION */
	{ .name = "FEATURE MIGRATION get", .cmd = 16,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10001) } },
	{ .name = "FEATURE MIGRATION get reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10001), U(MIG_FLAGS, 5) } },
	{ .name = "FEATURE MIGRATION set", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x20001) } },
	{ .name = "FEATURE MIGRATION set reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x20001) } },
	{ .name = "FEATURE MIGRATION probe", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x50001) } },
	{ .name = "FEATURE MIGRATION probe reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x50001) } },
	/* MIG_DEVICE_STATE */
	{ .name = "FEATURE MIG_DEVICE_STATE get", .cmd = 16,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10002) } },
	{ .name = "FEATURE MIG_DEVICE_STATE get reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10002), U(MIG_STATE, 2),
	    U(MIG_DATA_FD, 0) } },
	{ .name = "FEATURE MIG_DEVICE_STATE set", .cmd = 16,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x20002), U(MIG_STATE, 3),
	    U(MIG_DATA_FD, 0) } },
	{ .name = "FEATURE MIG_DEVICE_STATE set reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x20002), U(MIG_STATE, 3),
	    U(MIG_DATA_FD, 0) } },
	{ .name = "FEATURE MIG_DEVICE_STATE probe get+set", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x70002) } },
	{ .name = "FEATURE MIG_DEVICE_STATE probe reply", .cmd = 16,
	  .flags = R, .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x70002) } },
	/* DMA_LOGGING_START */
	{ .name = "FEATURE DMA_LOGGING_START set", .cmd = 16,
	  .f = { U(ARGSZ, 56), U(FEAT_FLAGS, 0x20006), U(LOG_PAGE_SIZE, 4096),
	    U(LOG_NUM_RANGES, 2), U(LOG_RESERVED, 0),
	    U(LOG_IOVA, 0), U(LOG_LENGTH, 0x100000),
	    U(LOG_IOVA, 0x200000), U(LOG_LENGTH, 0x100000) } },
	{ .name = "FEATURE DMA_LOGGING_START set reply", .cmd = 16,
	  .flags = R,
	  .f = { U(ARGSZ, 56), U(FEAT_FLAGS, 0x20006), U(LOG_PAGE_SIZE, 8192),
	    U(LOG_NUM_RANGES, 2), U(LOG_RESERVED, 0),
	    U(LOG_IOVA, 0), U(LOG_LENGTH, 0x100000),
	    U(LOG_IOVA, 0x200000), U(LOG_LENGTH, 0x100000) } },
	{ .name = "FEATURE DMA_LOGGING_START get", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x10006) } },
	{ .name = "FEATURE DMA_LOGGING_START probe", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x60006) } },
	{ .name = "FEATURE DMA_LOGGING_START probe reply", .cmd = 16,
	  .flags = R, .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x60006) } },
	/* DMA_LOGGING_STOP */
	{ .name = "FEATURE DMA_LOGGING_STOP set", .cmd = 16,
	  .f = { U(ARGSZ, 24), U(FEAT_FLAGS, 0x20007), U(LOG_PAGE_SIZE, 4096),
	    U(LOG_NUM_RANGES, 0), U(LOG_RESERVED, 0) } },
	{ .name = "FEATURE DMA_LOGGING_STOP set, no data", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x20007) } },
	{ .name = "FEATURE DMA_LOGGING_STOP set reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x20007) } },
	{ .name = "FEATURE DMA_LOGGING_STOP get", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x10007) } },
	{ .name = "FEATURE DMA_LOGGING_STOP probe", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x60007) } },
	{ .name = "FEATURE DMA_LOGGING_STOP probe reply", .cmd = 16,
	  .flags = R, .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x60007) } },
	/* DMA_LOGGING_REPORT */
	{ .name = "FEATURE DMA_LOGGING_REPORT get", .cmd = 16,
	  .f = { U(ARGSZ, 40), U(FEAT_FLAGS, 0x10008), U(LOG_IOVA, 0x100000),
	    U(LOG_LENGTH, 0x40000), U(LOG_PAGE_SIZE, 4096) } },
	{ .name = "FEATURE DMA_LOGGING_REPORT get reply", .cmd = 16,
	  .flags = R,
	  .f = { U(ARGSZ, 40), U(FEAT_FLAGS, 0x10008), U(LOG_IOVA, 0x100000),
	    U(LOG_LENGTH, 0x40000), U(LOG_PAGE_SIZE, 4096),
	    H(LOG_BITMAP, "0100000000000080") } },
	{ .name = "FEATURE DMA_LOGGING_REPORT get reply, 65 pages", .cmd = 16,
	  .flags = R,
	  .f = { U(ARGSZ, 48), U(FEAT_FLAGS, 0x10008), U(LOG_IOVA, 0),
	    U(LOG_LENGTH, 0x41000), U(LOG_PAGE_SIZE, 4096),
	    H(LOG_BITMAP, "00000000000000000100000000000000") } },
	{ .name = "FEATURE DMA_LOGGING_REPORT set", .cmd = 16,
	  .f = { U(ARGSZ, 32), U(FEAT_FLAGS, 0x20008), U(LOG_IOVA, 0),
	    U(LOG_LENGTH, 0x1000), U(LOG_PAGE_SIZE, 4096) } },
	{ .name = "FEATURE DMA_LOGGING_REPORT probe", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x50008) } },
	{ .name = "FEATURE DMA_LOGGING_REPORT probe reply", .cmd = 16,
	  .flags = R, .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x50008) } },
	/* a feature vfuctl does not know */
	{ .name = "FEATURE 5 get", .cmd = 16, .notes = N(UNKNOWN_FEATURE),
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10005),
	    H(FEAT_DATA, "01020304") } },
	{ .name = "FEATURE 5 get reply", .cmd = 16, .flags = R,
	  .notes = N(UNKNOWN_FEATURE),
	  .f = { U(ARGSZ, 16), U(FEAT_FLAGS, 0x10005),
	    H(FEAT_DATA, "0102030405060708") } },
	{ .name = "FEATURE 5 set", .cmd = 16, .notes = N(UNKNOWN_FEATURE),
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x20005), H(FEAT_DATA, "ff") } },
	{ .name = "FEATURE 5 set reply", .cmd = 16, .flags = R,
	  .notes = N(UNKNOWN_FEATURE),
	  .f = { U(ARGSZ, 9), U(FEAT_FLAGS, 0x20005), H(FEAT_DATA, "ff") } },
	{ .name = "FEATURE 0xffff probe", .cmd = 16,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x4ffff) } },
	{ .name = "FEATURE 0xffff probe reply", .cmd = 16, .flags = R,
	  .f = { U(ARGSZ, 8), U(FEAT_FLAGS, 0x4ffff) } },
	{ .name = "FEATURE reply, argsz differs", .cmd = 16, .flags = R,
	  .notes = N(ARGSZ_MISMATCH),
	  .f = { U(ARGSZ, 64), U(FEAT_FLAGS, 0x10001), U(MIG_FLAGS, 1) } },

	/* MIG_DATA_READ, MIG_DATA_WRITE */
	{ .name = "MIG_DATA_READ command", .cmd = 17,
	  .f = { U(ARGSZ, 4104), U(MIGD_SIZE, 4096) } },
	{ .name = "MIG_DATA_READ command, argsz short", .cmd = 17,
	  .notes = N(ARGSZ_MISMATCH),
	  .f = { U(ARGSZ, 8), U(MIGD_SIZE, 4096) } },
	{ .name = "MIG_DATA_READ reply", .cmd = 17, .flags = R,
	  .f = { U(ARGSZ, 12), U(MIGD_SIZE, 4), H(MIGD_DATA, "61626364") } },
	{ .name = "MIG_DATA_READ reply with zero padding", .cmd = 17,
	  .flags = R, .notes = N(PADDING),
	  .f = { U(ARGSZ, 12), U(MIGD_SIZE, 4), H(MIGD_DATA, "61626364"),
	    H(TRAILING, "00000000") } },
	{ .name = "MIG_DATA_READ reply, end of data", .cmd = 17, .flags = R,
	  .f = { U(ARGSZ, 8), U(MIGD_SIZE, 0) } },
	{ .name = "MIG_DATA_WRITE command", .cmd = 18,
	  .f = { U(ARGSZ, 8), U(MIGD_SIZE, 4), H(MIGD_DATA, "61626364") } },
	{ .name = "MIG_DATA_WRITE reply", .cmd = 18, .flags = R },

	/* header notes */
	{ .name = "DEVICE_RESET command, reserved flags", .cmd = 13,
	  .flags = 0x100, .notes = N(RESERVED_FLAGS) },
	{ .name = "DEVICE_RESET command, errno set", .cmd = 13, .error = 5,
	  .notes = N(ERRNO_IN_COMMAND) },
	{ .name = "DEVICE_RESET reply, no_reply", .cmd = 13,
	  .flags = R | VX_F_NO_REPLY, .notes = N(NO_REPLY_ON_REPLY) },
	{ .name = "DEVICE_RESET error reply, errno 0", .cmd = 13,
	  .flags = R | E, .notes = N(ERRNO_ZERO) },
	{ .name = "DMA_MAP error reply with body", .cmd = 2, .flags = R | E,
	  .error = EEXIST, .notes = N(ERROR_BODY),
	  .f = { H(ERROR_BODY, "2000000003000000") } },
};

static const char *
var_name(int v)
{
	static const char *const n[] = { "none", "spec", "lvu", "qemu" };

	return v >= 0 && v < 4 ? n[v] : "?";
}

/* Lay a case out; 0 and the message view in m, or the builder's error. */
static int
build_case(struct vx_builder *b, const struct bcase *c, uint16_t id,
    struct vx_msg *m)
{
	uint8_t tmp[512];
	const struct fv *f;
	size_t n;

	vx_builder_init(b);
	b->big_endian = c->be;
	vx_build_header(b, id, c->cmd, c->flags, c->error);
	for (f = c->f; f < c->f + MAXFV && f->kind != FV_END; f++) {
		switch (f->kind) {
		case FV_U:
			vx_build_uint(b, f->field, f->val);
			break;
		case FV_H:
			n = unhex(f->s, tmp, sizeof(tmp));
			vx_build_bytes(b, f->field, tmp, n);
			break;
		case FV_S:
			vx_build_bytes(b, f->field, f->s, strlen(f->s) + 1);
			break;
		}
	}
	return vx_build_finish(b, m);
}

static void
check_decoded(const char *name, const char *how, const struct vx_msg *bm,
    const struct vx_msg *m, int rc, int want_status, int want_var,
    uint32_t want_notes, int fields)
{
	char why[160], have[160], want[160];

	ok(rc == 0 && m->status == want_status && m->variant == want_var,
	    "%s (%s): status %d variant %s", name, how, want_status,
	    var_name(want_var));
	if (rc != 0 || m->status != want_status || m->variant != want_var)
		diag("got rc %d status %d variant %s, err \"%s\"", rc,
		    m->status, var_name(m->variant), m->err.text);
	note_names(note_mask(m), have, sizeof(have));
	note_names(want_notes, want, sizeof(want));
	if (!ok(note_mask(m) == want_notes, "%s (%s): notes %s", name, how,
	    want))
		diag("notes are %s", have);
	if (fields) {
		why[0] = '\0';
		if (!ok(m->id == bm->id && m->cmd == bm->cmd &&
		    m->size == bm->size && m->flags == bm->flags &&
		    m->error == bm->error &&
		    items_match(bm, m, why, sizeof(why)),
		    "%s (%s): every field comes back", name, how))
			diag("%s", why[0] ? why : "header differs");
	}
	ok(encodes_back(m, bm->buf, bm->len), "%s (%s): re-encodes exactly",
	    name, how);
}

static void
test_build_cases(void)
{
	struct vx_decoder d;
	size_t i;

	vx_decoder_init(&d);
	for (i = 0; i < sizeof(bcases) / sizeof(bcases[0]); i++) {
		const struct bcase *c = &bcases[i];
		struct vx_builder b;
		struct vx_msg bm, m;
		struct vx_dctx ctx;
		int r, auto_var;

		memset(&ctx, 0, sizeof(ctx));
		r = build_case(&b, c, (uint16_t)(0x100 + i), &bm);
		if (!ok(r == 0, "%s: builds", c->name)) {
			vx_builder_release(&b);
			continue;
		}
		ctx.dir = (uint8_t)dir_of(c->cmd, c->flags);
		ctx.chan = VX_CHAN_MAIN;
		ctx.peer = c->peer;
		ctx.big_endian = c->be;
		keep_sample(c->name, bm.buf, bm.len, ctx.dir, c->peer, c->be);
		r = vx_decode(&d, bm.buf, bm.len, &ctx, &m);
		check_decoded(c->name,
		    c->peer == VX_PEER_AUTO ? "auto" : "peer", &bm, &m, r,
		    VX_MSG_OK, c->var, c->notes, 1);
		if (c->peer != VX_PEER_AUTO) {
			ctx.peer = VX_PEER_AUTO;
			auto_var = c->auto_var ? c->auto_var - 1 : c->var;
			r = vx_decode(&d, bm.buf, bm.len, &ctx, &m);
			/* another form: only status and encode compare */
			if (c->auto_var)
				check_decoded(c->name, "auto", &bm, &m, r,
				    VX_MSG_OK, auto_var, note_mask(&m), 0);
			else
				check_decoded(c->name, "auto", &bm, &m, r,
				    VX_MSG_OK, auto_var, c->notes, 1);
		}
		vx_builder_release(&b);
	}
	vx_decoder_release(&d);
}

/* An error reply with no payload is valid for every command. */
static void
test_error_replies(void)
{
	static const uint16_t cmds[] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18
	};
	struct vx_decoder d;
	size_t i;

	vx_decoder_init(&d);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct bcase c;
		struct vx_builder b;
		struct vx_msg bm, m;
		struct vx_dctx ctx;
		char name[64];
		int r;

		memset(&c, 0, sizeof(c));
		snprintf(name, sizeof(name), "%s error reply",
		    vx_cmd_name(cmds[i]));
		c.name = name;
		c.cmd = cmds[i];
		c.flags = R | E;
		c.error = i % 2 ? EINVAL : ENOTSUP;
		r = build_case(&b, &c, (uint16_t)i, &bm);
		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = (uint8_t)dir_of(c.cmd, c.flags);
		if (ok(r == 0, "%s: builds", name)) {
			r = vx_decode(&d, bm.buf, bm.len, &ctx, &m);
			check_decoded(name, "auto", &bm, &m, r, VX_MSG_OK,
			    VX_VAR_NONE, 0, 1);
			ok(m.nitems == 5 && m.error == c.error,
			    "%s: header only, errno %u", name, c.error);
		}
		vx_builder_release(&b);
	}
	vx_decoder_release(&d);
}

/* --- malformed messages ---------------------------------------------- */

struct mcase {
	const char *name;
	uint8_t peer, dir;
	const char *hex;
	int code;
	unsigned field;
	uint32_t off;
	const char *bug;	/* library bug this shows, if it fails */
};

static const struct mcase mcases[] = {
	{ "empty message", VX_PEER_AUTO, VX_C2S,
	    "",
	    VX_ERR_TRUNCATED, VXF_HDR_SIZE, 0, NULL },
	{ "3-byte message", VX_PEER_AUTO, VX_C2S,
	    "010001",
	    VX_ERR_TRUNCATED, VXF_HDR_SIZE, 2, NULL },
	{ "10-byte message", VX_PEER_AUTO, VX_C2S,
	    "01000100100000000000",
	    VX_ERR_TRUNCATED, VXF_HDR_SIZE, 8, NULL },
	{ "15-byte message", VX_PEER_AUTO, VX_C2S,
	    "01000d001000000000000000000000",
	    VX_ERR_TRUNCATED, VXF_HDR_SIZE, 12, NULL },
	{ "msg_size 8 < 16", VX_PEER_AUTO, VX_C2S,
	    "01000d00080000000000000000000000",
	    VX_ERR_INVALID, VXF_HDR_SIZE, 4, NULL },
	{ "msg_size 40 > 24 given", VX_PEER_AUTO, VX_C2S,
	    "01000d002800000000000000000000000000000000000000",
	    VX_ERR_TRUNCATED, VXF_HDR_SIZE, 4, NULL },
	{ "msg_size 16 < 24 given", VX_PEER_AUTO, VX_C2S,
	    "01000d001000000000000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_HDR_SIZE, 4, NULL },
	{ "message type 2", VX_PEER_AUTO, VX_C2S,
	    "01000d00100000000200000000000000",
	    VX_ERR_INVALID, VXF_HDR_FLAGS, 8, NULL },
	{ "error flag on a command", VX_PEER_AUTO, VX_C2S,
	    "01000d00100000002000000016000000",
	    VX_ERR_INVALID, VXF_HDR_FLAGS, 8, NULL },
	{ "VERSION 3-byte payload", VX_PEER_AUTO, VX_C2S,
	    "01000100130000000000000000000000000002",
	    VX_ERR_TRUNCATED, VXF_VER_MINOR, 18, NULL },
	{ "VERSION JSON without NUL", VX_PEER_AUTO, VX_C2S,
	    "01000100160000000000000000000000000002007b7d",
	    VX_ERR_INVALID, VXF_VER_JSON, 20, NULL },
	{ "VERSION bytes after the NUL", VX_PEER_AUTO, VX_C2S,
	    "01000100190000000000000000000000000002007b7d007879",
	    VX_ERR_INVALID, VXF_VER_JSON, 23, NULL },
	{ "VERSION invalid JSON", VX_PEER_AUTO, VX_C2S,
	    "010001001b0000000000000000000000000002007b2261223a7d00",
	    VX_ERR_INVALID, VXF_VER_JSON, 26, NULL },
	{ "VERSION invalid UTF-8", VX_PEER_AUTO, VX_C2S,
	    "010001001d0000000000000000000000000002007b2261ff223a317d00",
	    VX_ERR_INVALID, VXF_VER_JSON, 23, NULL },
	{ "VERSION duplicate key", VX_PEER_AUTO, VX_C2S,
	    "01000100220000000000000000000000000002007b2261223a312c2261223a32"
	    "7d00",
	    VX_ERR_INVALID, VXF_VER_JSON, 30, NULL },
	{ "VERSION JSON not an object", VX_PEER_AUTO, VX_C2S,
	    "010001001a0000000000000000000000000002005b312c325d00",
	    VX_ERR_INVALID, VXF_VER_JSON, 20, NULL },
	{ "VERSION capabilities not an object", VX_PEER_AUTO, VX_C2S,
	    "01000100280000000000000000000000000002007b226361706162696c697469"
	    "6573223a5b5d7d00",
	    VX_ERR_INVALID, VXF_VER_JSON, 20, NULL },
	{ "VERSION max_msg_fds negative", VX_PEER_AUTO, VX_C2S,
	    "01000100380000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b226d61785f6d73675f666473223a2d317d7d00",
	    VX_ERR_INVALID, VXF_CAP_MAX_MSG_FDS, 20, NULL },
	{ "VERSION max_msg_fds a string", VX_PEER_AUTO, VX_C2S,
	    "01000100390000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b226d61785f6d73675f666473223a2238227d7d00",
	    VX_ERR_INVALID, VXF_CAP_MAX_MSG_FDS, 20, NULL },
	{ "VERSION pgsizes a float", VX_PEER_AUTO, VX_C2S,
	    "01000100380000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b22706773697a6573223a343039362e307d7d00",
	    VX_ERR_INVALID, VXF_CAP_PGSIZES, 20, NULL },
	{ "VERSION twin_socket not an object", VX_PEER_AUTO, VX_C2S,
	    "010001003a0000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b227477696e5f736f636b6574223a747275657d7d00",
	    VX_ERR_INVALID, VXF_CAP_TWIN, 20, NULL },
	{ "VERSION twin_socket.fd_index negative", VX_PEER_AUTO, VX_S2C,
	    "01000100560000000100000000000000000002007b226361706162696c697469"
	    "6573223a7b227477696e5f736f636b6574223a7b22737570706f72746564223a"
	    "747275652c2266645f696e646578223a2d327d7d7d00",
	    VX_ERR_INVALID, VXF_CAP_TWIN_FD, 20, NULL },
	{ "VERSION write_multiple not a boolean", VX_PEER_AUTO, VX_C2S,
	    "010001003a0000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b2277726974655f6d756c7469706c65223a317d7d00",
	    VX_ERR_INVALID, VXF_CAP_WRITE_MULTI, 20, NULL },
	{ "VERSION migration not an object", VX_PEER_AUTO, VX_C2S,
	    "01000100380000000000000000000000000002007b226361706162696c697469"
	    "6573223a7b226d6967726174696f6e223a343039367d7d00",
	    VX_ERR_INVALID, VXF_CAP_MIG_PGSIZE, 20, NULL },
	{ "DMA_MAP 31 bytes", VX_PEER_AUTO, VX_C2S,
	    "010002002f000000000000000000000020000000030000000000000000000000"
	    "000010000000000000000100000000",
	    VX_ERR_TRUNCATED, VXF_DMA_SIZE, 47, NULL },
	{ "DMA_MAP 33 bytes", VX_PEER_AUTO, VX_C2S,
	    "0100020031000000000000000000000020000000030000000000000000000000"
	    "0000100000000000000001000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 48, NULL },
	{ "DMA_MAP unknown flag bits", VX_PEER_AUTO, VX_C2S,
	    "0100020030000000000000000000000020000000130000000000000000000000"
	    "00001000000000000000010000000000",
	    VX_ERR_INVALID, VXF_DMA_MAP_FLAGS, 20, NULL },
	{ "DMA_MAP reply with a payload", VX_PEER_AUTO, VX_S2C,
	    "0100020014000000010000000000000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 16, NULL },
	{ "DMA_UNMAP 20 bytes", VX_PEER_AUTO, VX_C2S,
	    "0100030024000000000000000000000018000000000000000000100000000000"
	    "00000000",
	    VX_ERR_TRUNCATED, VXF_DMA_SIZE, 32, NULL },
	{ "DMA_UNMAP unknown flag bits", VX_PEER_AUTO, VX_C2S,
	    "0100030028000000000000000000000018000000040000000000100000000000"
	    "0010000000000000",
	    VX_ERR_INVALID, VXF_DMA_UNMAP_FLAGS, 20, NULL },
	{ "DMA_UNMAP all with nonzero address", VX_PEER_AUTO, VX_C2S,
	    "0100030028000000000000000000000018000000020000000000100000000000"
	    "0000000000000000",
	    VX_ERR_INVALID, VXF_DMA_ADDR, 24, NULL },
	{ "DMA_UNMAP all with nonzero size", VX_PEER_AUTO, VX_C2S,
	    "0100030028000000000000000000000018000000020000000000000000000000"
	    "0010000000000000",
	    VX_ERR_INVALID, VXF_DMA_ADDR, 24, NULL },
	{ "DMA_UNMAP all with get_dirty_bitmap", VX_PEER_AUTO, VX_C2S,
	    "0100030038000000000000000000000028000000030000000000000000000000"
	    "000000000000000000100000000000000800000000000000",
	    VX_ERR_INVALID, VXF_DMA_UNMAP_FLAGS, 20, NULL },
	{ "DMA_UNMAP bitmap command without pgsize", VX_PEER_AUTO, VX_C2S,
	    "0100030028000000000000000000000028000000010000000000100000000000"
	    "0000040000000000",
	    VX_ERR_TRUNCATED, VXF_BITMAP_PGSIZE, 40, NULL },
	{ "DMA_UNMAP reply bitmap size larger than the rest", VX_PEER_AUTO,
	    VX_S2C,
	    "0100030040000000010000000000000038000000010000000000100000000000"
	    "000004000000000000100000000000001000000000000000ffffffffffffffff",
	    VX_ERR_TRUNCATED, VXF_BITMAP_DATA, 56, NULL },
	{ "DMA_UNMAP reply bitmap shorter than the rest", VX_PEER_AUTO, VX_S2C,
	    "0100030044000000010000000000000038000000010000000000100000000000"
	    "000004000000000000100000000000000800000000000000ffffffffffffffff"
	    "ffffffff",
	    VX_ERR_INVALID, VXF_TRAILING, 64, NULL },
	{ "DEVICE_GET_INFO argsz 8", VX_PEER_AUTO, VX_C2S,
	    "0100040020000000000000000000000008000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "DEVICE_GET_INFO 15 bytes", VX_PEER_AUTO, VX_C2S,
	    "010004001f0000000000000000000000100000000000000000000000000000",
	    VX_ERR_TRUNCATED, VXF_DEV_NUM_IRQS, 31, NULL },
	{ "DEVICE_GET_INFO 17 bytes", VX_PEER_AUTO, VX_C2S,
	    "0100040021000000000000000000000010000000000000000000000000000000"
	    "00",
	    VX_ERR_INVALID, VXF_TRAILING, 32, NULL },
	{ "DEVICE_GET_INFO reply 12 bytes", VX_PEER_AUTO, VX_S2C,
	    "010004001c0000000100000000000000100000000300000009000000",
	    VX_ERR_TRUNCATED, VXF_DEV_NUM_IRQS, 28, NULL },
	{ "DEVICE_GET_IRQ_INFO argsz 0", VX_PEER_AUTO, VX_C2S,
	    "0100070020000000000000000000000000000000000000000200000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	/* argsz short of the command's own structure: VFIO's EINVAL */
	{ "DMA_MAP argsz 0", VX_PEER_AUTO, VX_C2S,
	    "0100020030000000000000000000000000000000010000000000000000000000"
	    "00002000000000000010000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "DMA_UNMAP argsz 8", VX_PEER_AUTO, VX_C2S,
	    "0100030028000000000000000000000008000000000000000000100000000000"
	    "0010000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "SET_IRQS argsz 8", VX_PEER_AUTO, VX_C2S,
	    "0100080024000000000000000000000008000000210000000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "MIG_DATA_READ argsz 4", VX_PEER_AUTO, VX_C2S,
	    "010011001800000000000000000000000400000010000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "REGION_INFO argsz 16", VX_PEER_AUTO, VX_C2S,
	    "0100050030000000000000000000000010000000000000000200000000000000"
	    "00000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "REGION_INFO 24 bytes", VX_PEER_AUTO, VX_C2S,
	    "0100050028000000000000000000000020000000000000000200000000000000"
	    "0000000000000000",
	    VX_ERR_TRUNCATED, VXF_RINFO_OFFSET, 40, NULL },
	{ "REGION_INFO reply cap_offset past the payload", VX_PEER_AUTO, VX_S2C,
	    "01000500400000000100000000000000300000000f0000000100000040000000"
	    "001000000000000000000000000000000200010000000000de10000001000000",
	    VX_ERR_INVALID, VXF_RINFO_CAP_OFFSET, 28, NULL },
	{ "REGION_INFO reply cap_offset inside the fixed part", VX_PEER_AUTO,
	    VX_S2C,
	    "01000500400000000100000000000000300000000f0000000100000008000000"
	    "001000000000000000000000000000000200010000000000de10000001000000",
	    VX_ERR_INVALID, VXF_RINFO_CAP_OFFSET, 28, NULL },
	{ "REGION_INFO reply cap next past the payload", VX_PEER_AUTO, VX_S2C,
	    "01000500400000000100000000000000300000000f0000000100000020000000"
	    "001000000000000000000000000000000200010030000000de10000001000000",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 52, NULL },
	{ "REGION_INFO reply cap chain loop", VX_PEER_AUTO, VX_S2C,
	    "01000500400000000100000000000000300000000f0000000100000020000000"
	    "001000000000000000000000000000000200010020000000de10000001000000",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 52, NULL },
	{ "REGION_INFO reply overlapping caps", VX_PEER_AUTO, VX_S2C,
	    "01000500480000000100000000000000380000000f0000000100000020000000"
	    "0010000000000000000000000000000002000100280000000200010000000000"
	    "de10000001000000",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 52, NULL },
	{ "REGION_INFO reply sparse nr_areas too large", VX_PEER_AUTO, VX_S2C,
	    "01000500500000000100000000000000400000000f0000000100000020000000"
	    "0010000000000000000000000000000001000100000000000300000000000000"
	    "00000000000000000010000000000000",
	    VX_ERR_TRUNCATED, VXF_CAP_NR_AREAS, 56, NULL },
	{ "REGION_INFO reply TYPE cap cut short", VX_PEER_AUTO, VX_S2C,
	    "010005003c00000001000000000000002c0000000f0000000100000020000000"
	    "001000000000000000000000000000000200010000000000de100000",
	    VX_ERR_TRUNCATED, VXF_CAP_SUBTYPE, 60, NULL },
	{ "REGION_INFO reply argsz 40 of 48 bytes", VX_PEER_AUTO, VX_S2C,
	    "0100050040000000010000000000000028000000070000000100000000000000"
	    "0010000000000000000000000000000000000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 48, NULL },
	{ "IO_FDS command 12 bytes", VX_PEER_AUTO, VX_C2S,
	    "010006001c0000000000000000000000100000000000000001000000",
	    VX_ERR_TRUNCATED, VXF_IOFDS_COUNT, 28, NULL },
	{ "IO_FDS command argsz 8", VX_PEER_AUTO, VX_C2S,
	    "0100060020000000000000000000000008000000000000000100000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "IO_FDS reply argsz not divisible by count", VX_PEER_AUTO, VX_S2C,
	    "0100060071000000010000000000000061000000000000000100000002000000"
	    "0001000000000000040000000000000000000000000000000000000000000000"
	    "0000000000000000000100000000000004000000000000000000000000000000"
	    "0000000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "IO_FDS reply stride 32 < 40", VX_PEER_AUTO, VX_S2C,
	    "0100060060000000010000000000000050000000000000000100000002000000"
	    "0001000000000000040000000000000000000000000000000000000000000000"
	    "0001000000000000040000000000000000000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "IO_FDS reply argsz 8 with count", VX_PEER_AUTO, VX_S2C,
	    "0100060048000000010000000000000008000000000000000100000001000000"
	    "0001000000000000040000000000000000000000000000000000000000000000"
	    "0000000000000000",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "SET_IRQS two data bits", VX_PEER_AUTO, VX_C2S,
	    "0100080024000000000000000000000014000000230000000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, 20, NULL },
	{ "SET_IRQS no action bit", VX_PEER_AUTO, VX_C2S,
	    "0100080024000000000000000000000014000000040000000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, 20, NULL },
	{ "SET_IRQS no data bit", VX_PEER_AUTO, VX_C2S,
	    "0100080024000000000000000000000014000000200000000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, 20, NULL },
	{ "SET_IRQS two action bits", VX_PEER_AUTO, VX_C2S,
	    "01000800240000000000000000000000140000001c0000000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, 20, NULL },
	{ "SET_IRQS unknown bits", VX_PEER_AUTO, VX_C2S,
	    "0100080024000000000000000000000014000000240100000200000000000000"
	    "01000000",
	    VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, 20, NULL },
	{ "SET_IRQS data_bool with short data", VX_PEER_AUTO, VX_C2S,
	    "0100080026000000000000000000000018000000220000000200000000000000"
	    "040000000101",
	    VX_ERR_TRUNCATED, VXF_IRQ_DATA, 36, NULL },
	{ "SET_IRQS data_bool with long data", VX_PEER_AUTO, VX_C2S,
	    "0100080027000000000000000000000017000000220000000200000000000000"
	    "02000000010101",
	    VX_ERR_INVALID, VXF_IRQ_DATA, 36, NULL },
	{ "SET_IRQS start+count overflow", VX_PEER_AUTO, VX_C2S,
	    "01000800240000000000000000000000140000002400000002000000ffffffff"
	    "02000000",
	    VX_ERR_INVALID, VXF_IRQ_COUNT, 32, NULL },
	{ "SET_IRQS 16 bytes", VX_PEER_AUTO, VX_C2S,
	    "0100080020000000000000000000000014000000240000000200000000000000",
	    VX_ERR_TRUNCATED, VXF_IRQ_COUNT, 32, NULL },
	{ "SET_IRQS data_none with data", VX_PEER_AUTO, VX_C2S,
	    "0100080025000000000000000000000015000000210000000200000000000000"
	    "0100000001",
	    VX_ERR_INVALID, VXF_TRAILING, 36, NULL },
	{ "REGION_READ 8-byte payload", VX_PEER_AUTO, VX_C2S,
	    "010009001800000000000000000000001000000000000000",
	    VX_ERR_TRUNCATED, VXF_REGION_INDEX, 24, NULL },
	{ "REGION_READ command with data", VX_PEER_AUTO, VX_C2S,
	    "0100090024000000000000000000000010000000000000000000000004000000"
	    "61626364",
	    VX_ERR_INVALID, VXF_TRAILING, 32, NULL },
	{ "REGION_WRITE count larger than data", VX_PEER_AUTO, VX_C2S,
	    "01000a0024000000000000000000000010000000000000000000000008000000"
	    "61626364",
	    VX_ERR_TRUNCATED, VXF_REGION_DATA, 32, NULL },
	{ "REGION_WRITE count smaller than data", VX_PEER_AUTO, VX_C2S,
	    "01000a0024000000000000000000000010000000000000000000000002000000"
	    "61626364",
	    VX_ERR_INVALID, VXF_REGION_DATA, 32, NULL },
	{ "REGION_READ reply data short", VX_PEER_AUTO, VX_S2C,
	    "0100090022000000010000000000000010000000000000000000000004000000"
	    "6162",
	    VX_ERR_TRUNCATED, VXF_REGION_DATA, 32, NULL },
	{ "REGION_WRITE reply with data", VX_PEER_AUTO, VX_S2C,
	    "01000a0022000000010000000000000010000000000000000000000004000000"
	    "6162",
	    VX_ERR_INVALID, VXF_TRAILING, 32, NULL },
	{ "DMA_READ reply count mismatch (spec)", VX_PEER_SPEC, VX_C2S,
	    "01000b0024000000010000000000000000100000000000000800000000000000"
	    "61626364",
	    VX_ERR_TRUNCATED, VXF_DMA_DATA, 32, NULL },
	{ "DMA_READ reply count below data (spec)", VX_PEER_SPEC, VX_C2S,
	    "01000b0024000000010000000000000000100000000000000200000000000000"
	    "61626364",
	    VX_ERR_INVALID, VXF_DMA_DATA, 32, NULL },
	{ "DMA_READ reply count mismatch (QEMU)", VX_PEER_QEMU, VX_C2S,
	    "01000b0024000000010000000000000000100000000000000800000061626364"
	    "00000000",
	    VX_ERR_TRUNCATED, VXF_DMA_DATA, 28, NULL },
	{ "DMA_WRITE command count mismatch (QEMU)", VX_PEER_QEMU, VX_S2C,
	    "01000c0022000000000000000000000000100000000000000400000061626364"
	    "0000",
	    VX_ERR_TRUNCATED, VXF_DMA_DATA, 28, NULL },
	{ "DMA_READ command without padding (QEMU)", VX_PEER_QEMU, VX_S2C,
	    "01000b001c0000000000000000000000001000000000000004000000",
	    VX_ERR_TRUNCATED, VXF_DMA_PAD, 28, NULL },
	{ "DMA_READ command 12 bytes (spec)", VX_PEER_SPEC, VX_S2C,
	    "01000b001c0000000000000000000000001000000000000004000000",
	    VX_ERR_TRUNCATED, VXF_DMA_COUNT, 24, NULL },
	{ "DMA_WRITE reply 16 bytes (spec)", VX_PEER_SPEC, VX_C2S,
	    "01000c0020000000010000000000000000100000000000000400000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 28, NULL },
	{ "DMA_WRITE reply 12 bytes (libvfio-user)", VX_PEER_LVU, VX_C2S,
	    "01000c001c0000000100000000000000001000000000000004000000",
	    VX_ERR_TRUNCATED, VXF_DMA_COUNT, 28, NULL },
	{ "DMA_WRITE reply 8 bytes (auto)", VX_PEER_AUTO, VX_C2S,
	    "01000c001800000001000000000000000010000000000000",
	    VX_ERR_TRUNCATED, VXF_DMA_COUNT, 24, NULL },
	{ "WRITE_MULTI wr_cnt larger than the payload", VX_PEER_AUTO, VX_C2S,
	    "01000f0030000000000000000000000002000000000000001000000000000000"
	    "00000000040000000000000000000000",
	    VX_ERR_TRUNCATED, VXF_WM_ENTRY, 24, NULL },
	{ "WRITE_MULTI entry count 9", VX_PEER_AUTO, VX_C2S,
	    "01000f0030000000000000000000000001000000000000001000000000000000"
	    "00000000090000000000000000000000",
	    VX_ERR_INVALID, VXF_REGION_COUNT, 36, NULL },
	{ "WRITE_MULTI second entry count 16", VX_PEER_AUTO, VX_C2S,
	    "01000f0048000000000000000000000002000000000000001000000000000000"
	    "0000000004000000000000000000000020000000000000000000000010000000"
	    "0000000000000000",
	    VX_ERR_INVALID, VXF_REGION_COUNT, 60, NULL },
	{ "WRITE_MULTI half an entry extra", VX_PEER_AUTO, VX_C2S,
	    "01000f003c000000000000000000000001000000000000001000000000000000"
	    "00000000040000000000000000000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 48, NULL },
	{ "WRITE_MULTI reply 4 bytes", VX_PEER_AUTO, VX_S2C,
	    "01000f0014000000010000000000000001000000",
	    VX_ERR_TRUNCATED, VXF_WM_COUNT, 16, NULL },
	{ "DEVICE_FEATURE unknown flag bits", VX_PEER_AUTO, VX_C2S,
	    "010010001800000000000000000000001000000001000900",
	    VX_ERR_INVALID, VXF_FEAT_FLAGS, 20, NULL },
	{ "DEVICE_FEATURE get+set without probe", VX_PEER_AUTO, VX_C2S,
	    "0100100020000000000000000000000010000000020003000200000000000000",
	    VX_ERR_INVALID, VXF_FEAT_FLAGS, 20, NULL },
	{ "DEVICE_FEATURE none of get/set/probe", VX_PEER_AUTO, VX_C2S,
	    "010010001800000000000000000000001000000002000000",
	    VX_ERR_INVALID, VXF_FEAT_FLAGS, 20, NULL },
	{ "DEVICE_FEATURE argsz 4", VX_PEER_AUTO, VX_C2S,
	    "010010001800000000000000000000000400000001000100",
	    VX_ERR_INVALID, VXF_ARGSZ, 16, NULL },
	{ "DEVICE_FEATURE 6-byte payload", VX_PEER_AUTO, VX_C2S,
	    "01001000160000000000000000000000100000000100",
	    VX_ERR_TRUNCATED, VXF_FEAT_FLAGS, 20, NULL },
	{ "MIGRATION get reply 4 data bytes", VX_PEER_AUTO, VX_S2C,
	    "010010001c00000001000000000000000c0000000100010001000000",
	    VX_ERR_TRUNCATED, VXF_MIG_FLAGS, 24, NULL },
	{ "MIG_DEVICE_STATE state 9", VX_PEER_AUTO, VX_C2S,
	    "0100100020000000000000000000000010000000020002000900000000000000",
	    VX_ERR_INVALID, VXF_MIG_STATE, 24, NULL },
	{ "MIG_DEVICE_STATE set without data", VX_PEER_AUTO, VX_C2S,
	    "010010001800000000000000000000001000000002000200",
	    VX_ERR_TRUNCATED, VXF_MIG_STATE, 24, NULL },
	{ "DMA_LOGGING_START num_ranges too large", VX_PEER_AUTO, VX_C2S,
	    "0100100038000000000000000000000030000000060002000010000000000000"
	    "020000000000000000000000000000000010000000000000",
	    VX_ERR_TRUNCATED, VXF_LOG_NUM_RANGES, 32, NULL },
	{ "DMA_LOGGING_REPORT page_size 0", VX_PEER_AUTO, VX_C2S,
	    "0100100030000000000000000000000028000000080001000000000000000000"
	    "00000100000000000000000000000000",
	    VX_ERR_INVALID, VXF_LOG_PAGE_SIZE, 40, NULL },
	{ "DMA_LOGGING_REPORT page_size 3000", VX_PEER_AUTO, VX_C2S,
	    "0100100030000000000000000000000028000000080001000000000000000000"
	    "0000010000000000b80b000000000000",
	    VX_ERR_INVALID, VXF_LOG_PAGE_SIZE, 40, NULL },
	{ "DMA_LOGGING_REPORT reply bitmap too long", VX_PEER_AUTO, VX_S2C,
	    "0100100040000000010000000000000030000000080001000000000000000000"
	    "00000100000000000010000000000000ffffffffffffffffffffffffffffffff",
	    VX_ERR_INVALID, VXF_LOG_BITMAP, 48, NULL },
	{ "DMA_LOGGING_REPORT reply bitmap too short", VX_PEER_AUTO, VX_S2C,
	    "0100100034000000010000000000000024000000080001000000000000000000"
	    "00000100000000000010000000000000ffffffff",
	    VX_ERR_TRUNCATED, VXF_LOG_BITMAP, 48, NULL },
	{ "MIG_DATA_READ command 12 bytes", VX_PEER_AUTO, VX_C2S,
	    "010011001c0000000000000000000000480000004000000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 24, NULL },
	{ "MIG_DATA_READ reply non-zero trailing bytes", VX_PEER_AUTO, VX_S2C,
	    "010011001e00000001000000000000000c00000004000000616263640001",
	    VX_ERR_INVALID, VXF_TRAILING, 28, NULL },
	{ "MIG_DATA_READ reply size larger than data", VX_PEER_AUTO, VX_S2C,
	    "010011001c0000000100000000000000100000000800000061626364",
	    VX_ERR_TRUNCATED, VXF_MIGD_DATA, 24, NULL },
	{ "MIG_DATA_WRITE size larger than the data", VX_PEER_AUTO, VX_C2S,
	    "010012001c0000000000000000000000080000000800000061626364",
	    VX_ERR_TRUNCATED, VXF_MIGD_DATA, 24, NULL },
	{ "MIG_DATA_WRITE bytes after the data", VX_PEER_AUTO, VX_C2S,
	    "010012001c0000000000000000000000080000000200000061626364",
	    VX_ERR_INVALID, VXF_TRAILING, 26, NULL },
	{ "MIG_DATA_WRITE reply with a payload", VX_PEER_AUTO, VX_S2C,
	    "0100120014000000010000000000000008000000",
	    VX_ERR_INVALID, VXF_TRAILING, 16, NULL },
	{ "trailing bytes after a RESET", VX_PEER_AUTO, VX_C2S,
	    "01000d0014000000000000000000000000000000",
	    VX_ERR_INVALID, VXF_TRAILING, 16, NULL },
	{ "RESET reply with a payload", VX_PEER_AUTO, VX_S2C,
	    "01000d0011000000010000000000000001",
	    VX_ERR_INVALID, VXF_TRAILING, 16, NULL },
	{ "REGION_INFO reply bad next after a gap", VX_PEER_AUTO, VX_S2C,
	    "01000500480000000100000000000000380000000f0000000100000028000000"
	    "00100000000000000000000000000000a5a5a5a5a5a5a5a50200010080000000"
	    "de10000001000000",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 60,
	    "bytes between capabilities are not kept when the chain walk "
	    "fails" },
	{ "REGION_INFO reply overlap after a gap", VX_PEER_AUTO, VX_S2C,
	    "01000500580000000100000000000000480000000f0000000100000028000000"
	    "00100000000000000000000000000000a5a5a5a5a5a5a5a50200010030000000"
	    "0200010000000000de100000010000000000000000000000",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 60,
	    "bytes between capabilities are not kept when the chain walk "
	    "fails" },
	{ "REGION_INFO reply bad chain, argsz < payload", VX_PEER_AUTO, VX_S2C,
	    "01000500500000000100000000000000300000000f0000000100000020000000"
	    "001000000000000000000000000000000200010030000000de10000001000000"
	    "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
	    VX_ERR_INVALID, VXF_CAP_NEXT, 52,
	    "payload bytes past argsz are not kept when the chain walk "
	    "fails" },
};

static void
check_malformed(struct vx_decoder *d, const char *name, const uint8_t *buf,
    size_t len, const struct vx_dctx *ctx, int code, unsigned field,
    uint32_t off, const char *bug)
{
	struct vx_msg m;
	int r, good, enc;

	r = vx_decode(d, buf, len, ctx, &m);
	good = r == 0 && m.status == VX_MSG_MALFORMED && m.err.code == code &&
	    m.err.field == field && m.err.off == off && m.err.text[0] != '\0';
	if (!good && bug != NULL)
		diag("BUG: %s", bug);
	if (!ok(good, "%s: %s %s at %u", name, vx_strerror(code),
	    vx_fields[field].key, off))
		diag("got rc %d status %d: %s %s at %u \"%s\"", r, m.status,
		    vx_strerror(m.err.code), m.err.field < VXF_COUNT ?
		    vx_fields[m.err.field].key : "?", m.err.off, m.err.text);
	enc = encodes_back(&m, buf, len);
	if (!enc && bug != NULL)
		diag("BUG: %s", bug);
	ok(enc, "%s: re-encodes exactly", name);
	ok(prints(&m, 1), "%s: prints", name);
}

static void
test_malformed(void)
{
	static uint8_t buf[MAXMSG];
	struct vx_decoder d;
	size_t i, len;

	vx_decoder_init(&d);
	for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		struct vx_dctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = c->dir;
		ctx.peer = c->peer;
		len = unhex(c->hex, buf, sizeof(buf));
		check_malformed(&d, c->name, buf, len, &ctx, c->code, c->field,
		    c->off, c->bug);
		keep_sample(c->name, buf, len, c->dir, c->peer, 0);
	}
	vx_decoder_release(&d);
}

static size_t
put_le(uint8_t *p, uint64_t v, unsigned w)
{
	unsigned i;

	for (i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return w;
}

/* More than 64 region capabilities: TOO_LARGE at the 64th's next. */
static void
test_too_many_caps(void)
{
	static uint8_t buf[16 + 32 + 65 * 16];
	struct vx_decoder d;
	struct vx_dctx ctx;
	size_t p = 0, n = sizeof(buf) - 16;
	unsigned i;

	p += put_le(buf + p, 7, 2);
	p += put_le(buf + p, VX_CMD_DEVICE_GET_REGION_INFO, 2);
	p += put_le(buf + p, sizeof(buf), 4);
	p += put_le(buf + p, VX_F_TYPE_REPLY, 4);
	p += put_le(buf + p, 0, 4);
	p += put_le(buf + p, n, 4);		/* argsz */
	p += put_le(buf + p, 0xf, 4);		/* flags */
	p += put_le(buf + p, 2, 4);		/* index */
	p += put_le(buf + p, 32, 4);		/* cap_offset */
	p += put_le(buf + p, 0x1000, 8);
	p += put_le(buf + p, 0, 8);
	for (i = 0; i < 65; i++) {
		p += put_le(buf + p, VX_REGION_CAP_TYPE, 2);
		p += put_le(buf + p, 1, 2);
		p += put_le(buf + p, i < 64 ? 32 + 16 * (i + 1) : 0, 4);
		p += put_le(buf + p, i, 4);
		p += put_le(buf + p, 0, 4);
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = VX_S2C;
	vx_decoder_init(&d);
	check_malformed(&d, "REGION_INFO reply with 65 caps", buf, p, &ctx,
	    VX_ERR_TOO_LARGE, VXF_CAP_NEXT, 16 + 32 + 16 * 63 + 4,
	    "vx_decode() keeps no undecoded item after a decoder fails with "
	    "VX_ERR_TOO_LARGE: it takes that for its own item limit");
	vx_decoder_release(&d);
}

/* The decoder's item limit is a "too large" error, not out of memory. */
static void
test_item_limit(void)
{
	struct vx_builder b;
	struct vx_decoder d;
	struct vx_dctx ctx;
	struct vx_msg bm, m;
	uint8_t data[8] = { 0 };
	int i, r, good;

	vx_builder_init(&b);
	vx_build_header(&b, 1, VX_CMD_REGION_WRITE_MULTI, 0, 0);
	vx_build_uint(&b, VXF_WM_COUNT, 8);
	for (i = 0; i < 8; i++) {
		vx_build_uint(&b, VXF_REGION_OFFSET, (uint64_t)i * 4);
		vx_build_uint(&b, VXF_REGION_INDEX, 0);
		vx_build_uint(&b, VXF_REGION_COUNT, 4);
		vx_build_bytes(&b, VXF_WM_DATA, data, sizeof(data));
	}
	ok(vx_build_finish(&b, &bm) == 0, "WRITE_MULTI with 8 writes builds");
	memset(&ctx, 0, sizeof(ctx));
	vx_decoder_init(&d);
	d.max_items = 16;
	r = vx_decode(&d, bm.buf, bm.len, &ctx, &m);
	good = r == 0 && m.status == VX_MSG_MALFORMED &&
	    m.err.code == VX_ERR_TOO_LARGE && m.err.text[0] != '\0';
	if (!good)
		diag("BUG: reaching vx_decoder.max_items makes vx_decode() "
		    "return %d with err.code %d (%s), not 0 with TOO_LARGE "
		    "(dx_push() turns grow()'s TOO_LARGE into NOMEM)", r,
		    m.err.code, vx_strerror(m.err.code));
	ok(good, "max_items 16: vx_decode returns 0, MALFORMED, too large");
	ok(m.nitems <= 16, "max_items 16: at most 16 items (%u)", m.nitems);
	ok(prints(&m, 1), "max_items 16: prints");
	vx_decoder_release(&d);

	/* the same message decodes with the default limit */
	vx_decoder_init(&d);
	r = vx_decode(&d, bm.buf, bm.len, &ctx, &m);
	ok(r == 0 && m.status == VX_MSG_OK && encodes_back(&m, bm.buf, bm.len),
	    "default max_items: WRITE_MULTI with 8 writes decodes");
	vx_decoder_release(&d);
	vx_builder_release(&b);
}

/* --- VERSION capabilities --------------------------------------------- */

static int
decode_version(struct vx_decoder *d, const char *json, int reply,
    struct vx_msg *m, struct vx_builder *b)
{
	struct vx_msg bm;
	struct vx_dctx ctx;

	vx_builder_init(b);
	vx_build_header(b, 1, VX_CMD_VERSION, reply ? R : 0, 0);
	vx_build_uint(b, VXF_VER_MAJOR, 0);
	vx_build_uint(b, VXF_VER_MINOR, 2);
	if (json != NULL)
		vx_build_bytes(b, VXF_VER_JSON, json, strlen(json) + 1);
	if (vx_build_finish(b, &bm) != 0)
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = reply ? VX_S2C : VX_C2S;
	if (vx_decode(d, bm.buf, bm.len, &ctx, m) != 0)
		return -1;
	return encodes_back(m, bm.buf, bm.len) ? 0 : -1;
}

static int
has_defaults(const struct vx_caps *c)
{
	return c->max_msg_fds == VX_DEF_MAX_MSG_FDS &&
	    c->max_data_xfer_size == VX_DEF_MAX_XFER &&
	    c->max_dma_maps == VX_DEF_MAX_DMA_MAPS &&
	    c->pgsizes == VX_DEF_PGSIZES && c->twin_supported == 0 &&
	    c->write_multiple == 0;
}

/* The virtual item of a capability: its value, index 1 if it was sent. */
static int
virt_is(const struct vx_msg *m, unsigned field, uint64_t val, uint32_t sent)
{
	const struct vx_item *it = vx_msg_item(m, field);

	return it != NULL && it->len == 0 && it->val == val &&
	    it->index == sent;
}

static int
has_unknown(const struct vx_msg *m, const char *key)
{
	size_t kl = strlen(key);
	uint32_t i;

	for (i = 0; i < m->nitems; i++) {
		const struct vx_item *it = &m->items[i];
		const char *t = (const char *)it->ptr;
		size_t tl;

		if (it->field != VXF_CAP_UNKNOWN || t == NULL)
			continue;
		tl = strlen(t);
		if (tl >= kl && strcmp(t + tl - kl, key) == 0 &&
		    (tl == kl || t[tl - kl - 1] == '.'))
			return 1;
	}
	return 0;
}

static unsigned
count_field(const struct vx_msg *m, unsigned field)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < m->nitems; i++)
		n += m->items[i].field == field;
	return n;
}

static void
test_version_caps(void)
{
	struct vx_decoder d;
	struct vx_builder b;
	struct vx_msg m;
	const struct vx_caps *c;
	int r;

	vx_decoder_init(&d);

	r = decode_version(&d, JSON_CMD, 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL,
	    "VERSION caps: decodes with caps");
	ok(c != NULL && c->max_msg_fds == 8 &&
	    c->max_data_xfer_size == 1048576 &&
	    c->max_dma_maps == 128 && c->pgsizes == 4096 &&
	    c->mig_pgsize == 4096 && c->mig_max_bitmap_size == 262144 &&
	    c->twin_supported == 1 && c->write_multiple == 1,
	    "VERSION caps: every value parsed");
	ok(c != NULL && c->present == (VX_CAPF_CAPABILITIES |
	    VX_CAPF_MAX_MSG_FDS | VX_CAPF_MAX_XFER | VX_CAPF_MAX_DMA_MAPS |
	    VX_CAPF_PGSIZES |
	    VX_CAPF_MIGRATION | VX_CAPF_MIG_PGSIZE | VX_CAPF_MIG_MAX_BITMAP |
	    VX_CAPF_TWIN | VX_CAPF_WRITE_MULTI),
	    "VERSION caps: present bits of every key sent");
	ok(virt_is(&m, VXF_CAP_MAX_MSG_FDS, 8, 1) &&
	    virt_is(&m, VXF_CAP_MAX_XFER, 1048576, 1) &&
	    virt_is(&m, VXF_CAP_MAX_DMA_MAPS, 128, 1) &&
	    virt_is(&m, VXF_CAP_PGSIZES, 4096, 1) &&
	    virt_is(&m, VXF_CAP_MIG_PGSIZE, 4096, 1) &&
	    virt_is(&m, VXF_CAP_MIG_MAX_BITMAP, 262144, 1) &&
	    virt_is(&m, VXF_CAP_TWIN, 1, 1) &&
	    virt_is(&m, VXF_CAP_WRITE_MULTI, 1, 1) &&
	    vx_msg_item(&m, VXF_CAP_TWIN_FD) == NULL,
	    "VERSION caps: virtual items, index 1 for keys sent");
	ok(note_mask(&m) == 0 && vx_msg_item(&m, VXF_CAP_UNKNOWN) == NULL,
	    "VERSION caps: no notes, no unknown keys");
	vx_builder_release(&b);

	r = decode_version(&d, JSON_REPLY, 1, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL &&
	    c->max_msg_fds == 16 && c->max_data_xfer_size == 65536 &&
	    c->max_dma_maps == VX_DEF_MAX_DMA_MAPS &&
	    c->pgsizes == VX_DEF_PGSIZES && c->twin_supported == 1 &&
	    (c->present & VX_CAPF_TWIN_FD) && c->twin_fd_index == 0 &&
	    !(c->present & (VX_CAPF_MAX_DMA_MAPS | VX_CAPF_PGSIZES |
	    VX_CAPF_MIGRATION)),
	    "VERSION reply caps: spaced JSON, fd_index, defaults for the rest");
	ok(virt_is(&m, VXF_CAP_TWIN_FD, 0, 1) &&
	    virt_is(&m, VXF_CAP_MAX_DMA_MAPS, VX_DEF_MAX_DMA_MAPS, 0) &&
	    vx_msg_item(&m, VXF_CAP_MIG_PGSIZE) == NULL,
	    "VERSION reply caps: fd_index item; default items with index 0");
	vx_builder_release(&b);

	r = decode_version(&d, NULL, 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL && c->present == 0 &&
	    has_defaults(c), "VERSION without JSON: spec defaults");
	ok(virt_is(&m, VXF_CAP_MAX_MSG_FDS, 1, 0) &&
	    virt_is(&m, VXF_CAP_MAX_XFER, 1048576, 0) &&
	    virt_is(&m, VXF_CAP_MAX_DMA_MAPS, 65535, 0) &&
	    virt_is(&m, VXF_CAP_PGSIZES, 4096, 0) &&
	    virt_is(&m, VXF_CAP_TWIN, 0, 0) &&
	    virt_is(&m, VXF_CAP_WRITE_MULTI, 0, 0) &&
	    vx_msg_item(&m, VXF_CAP_MIG_PGSIZE) == NULL &&
	    vx_msg_item(&m, VXF_CAP_TWIN_FD) == NULL,
	    "VERSION without JSON: default items, none for migration/fd_index");
	vx_builder_release(&b);

	r = decode_version(&d, "{}", 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL && c->present == 0 &&
	    has_defaults(c), "VERSION {}: spec defaults");
	vx_builder_release(&b);

	r = decode_version(&d, "{\"capabilities\":{}}", 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL &&
	    c->present == VX_CAPF_CAPABILITIES && has_defaults(c),
	    "VERSION empty capabilities: spec defaults");
	vx_builder_release(&b);

	r = decode_version(&d, "{\"capabilities\":{\"max_msg_fds\":4,"
	    "\"twin_socket\":{}}}", 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK && c != NULL &&
	    c->max_msg_fds == 4 && c->max_data_xfer_size == VX_DEF_MAX_XFER &&
	    c->twin_supported == 0 &&
	    c->present == (VX_CAPF_CAPABILITIES | VX_CAPF_MAX_MSG_FDS),
	    "VERSION max_msg_fds only: it and defaults; empty twin_socket");
	vx_builder_release(&b);

	r = decode_version(&d, "{\"vendor\":{\"x\":1},\"capabilities\":"
	    "{\"foo\":true,\"migration\":{\"pgsize\":4096,\"bar\":1},"
	    "\"twin_socket\":{\"supported\":false,\"baz\":[]},"
	    "\"pgsizes\":12288}}", 0, &m, &b);
	c = m.caps;
	ok(r == 0 && m.status == VX_MSG_OK,
	    "VERSION unknown keys: still well formed");
	ok(vx_msg_has_note(&m, VX_NOTE_UNKNOWN_JSON_KEY) && m.nnotes == 1,
	    "VERSION unknown keys: note UNKNOWN_JSON_KEY");
	ok(count_field(&m, VXF_CAP_UNKNOWN) == 4 && has_unknown(&m, "vendor") &&
	    has_unknown(&m, "foo") && has_unknown(&m, "bar") &&
	    has_unknown(&m, "baz"),
	    "VERSION unknown keys: four CAP_UNKNOWN items, one per key");
	ok(c != NULL && (c->present & VX_CAPF_UNKNOWN) && c->pgsizes == 12288 &&
	    c->mig_pgsize == 4096 && (c->present & VX_CAPF_TWIN) &&
	    c->twin_supported == 0,
	    "VERSION unknown keys: known keys beside them parsed");
	ok(prints(&m, 1), "VERSION unknown keys: prints");
	vx_builder_release(&b);

	/* a later message carries no caps */
	r = decode_version(&d, NULL, 0, &m, &b);
	vx_builder_release(&b);
	{
		uint8_t buf[16] = { 1, 0, VX_CMD_DEVICE_RESET, 0, 16 };
		struct vx_dctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		r = vx_decode(&d, buf, sizeof(buf), &ctx, &m);
		ok(r == 0 && m.status == VX_MSG_OK && m.caps == NULL,
		    "DEVICE_RESET: caps NULL");
	}
	vx_decoder_release(&d);
}

/* --- unknown and withdrawn commands --------------------------------- */

static void
test_unknown_commands(void)
{
	static const struct {
		const char *name, *hex;
		uint8_t dir, status;
		uint32_t notes;
	} t[] = {
		{ "command 99", "05006300180000000000000000000000"
		    "0102030405060708", VX_C2S, VX_MSG_UNKNOWN, 0 },
		{ "command 99 reply", "05006300140000000100000000000000"
		    "01020304", VX_S2C, VX_MSG_UNKNOWN, 0 },
		{ "command 0", "05000000100000000000000000000000",
		    VX_C2S, VX_MSG_UNKNOWN, 0 },
		{ "command 19", "050013001400000000000000000000000a0b0c0d",
		    VX_C2S, VX_MSG_UNKNOWN, 0 },
		{ "command 65535", "0500ffff100000000000000000000000",
		    VX_C2S, VX_MSG_UNKNOWN, 0 },
		{ "command 14 (DIRTY_PAGES)", "05000e00200000000000000000000000"
		    "10000000010000000000000000000000", VX_C2S, VX_MSG_OK,
		    N(OBSOLETE_CMD) },
		{ "command 14 reply", "05000e00100000000100000000000000",
		    VX_S2C, VX_MSG_OK, N(OBSOLETE_CMD) },
	};
	uint8_t buf[64];
	struct vx_decoder d;
	size_t i, n;

	vx_decoder_init(&d);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vx_dctx ctx;
		struct vx_msg m;
		const struct vx_item *p;
		int r;

		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = t[i].dir;
		n = unhex(t[i].hex, buf, sizeof(buf));
		r = vx_decode(&d, buf, n, &ctx, &m);
		ok(r == 0 && m.status == t[i].status &&
		    note_mask(&m) == t[i].notes,
		    "%s: status %s%s", t[i].name,
		    t[i].status == VX_MSG_UNKNOWN ? "UNKNOWN" : "OK",
		    t[i].notes ? ", note OBSOLETE_CMD" : "");
		p = vx_msg_item(&m, VXF_PAYLOAD);
		ok(n == 16 ? p == NULL : p != NULL && p->off == 16 &&
		    p->len == n - 16, "%s: payload kept as one item",
		    t[i].name);
		ok(encodes_back(&m, buf, n) && prints(&m, 1),
		    "%s: re-encodes exactly, prints", t[i].name);
		keep_sample(t[i].name, buf, n, t[i].dir, 0, 0);
	}
	vx_decoder_release(&d);
}

/* --- robustness ------------------------------------------------------ */

static uint32_t rng_state = 0x2545f491u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

struct robust {
	unsigned runs, bad_encode, bad_print, shown;
	unsigned cap_walk;	/* bad encodes of the cap-walk bug */
	unsigned status[3];
	unsigned lazy_fast, bad_lazy;
};

/*
 * A lazy decoder must say what an eager one says: same verdict, error,
 * notes and view, and once asked for, the same items.  Returns 1 if so;
 * *fast is set when the lazy decode took the no-items path.
 */
static struct vx_decoder lazy_dec;

static int
same_as_lazy(const struct vx_msg *e, const uint8_t *buf, size_t len,
    const struct vx_dctx *ctx, int *fast)
{
	struct vx_msg l;
	uint32_t i;

	lazy_dec.lazy = 1;
	if (vx_decode(&lazy_dec, buf, len, ctx, &l) != 0)
		return 0;
	*fast = l.items == NULL;
	if (l.status != e->status || l.variant != e->variant ||
	    l.id != e->id || l.cmd != e->cmd || l.size != e->size ||
	    l.flags != e->flags || l.error != e->error ||
	    l.nnotes != e->nnotes ||
	    memcmp(l.notes, e->notes, e->nnotes * sizeof(e->notes[0])) != 0)
		return 0;
	if (e->status == VX_MSG_MALFORMED &&
	    (l.err.code != e->err.code || l.err.field != e->err.field ||
	    l.err.off != e->err.off || strcmp(l.err.text, e->err.text) != 0))
		return 0;
	if (e->status != VX_MSG_MALFORMED &&
	    (e->cmd == VX_CMD_REGION_READ || e->cmd == VX_CMD_REGION_WRITE) &&
	    (l.rw.offset != e->rw.offset || l.rw.index != e->rw.index ||
	    l.rw.count != e->rw.count || l.dlen != e->dlen ||
	    (e->dlen > 0 && l.data != e->data)))
		return 0;
	if (vx_msg_items(&l) != 0 || l.nitems != e->nitems)
		return 0;
	for (i = 0; i < e->nitems; i++) {
		const struct vx_item *a = &l.items[i], *b = &e->items[i];

		if (a->field != b->field || a->depth != b->depth ||
		    a->off != b->off || a->len != b->len ||
		    a->index != b->index || a->val != b->val ||
		    (a->ptr == NULL) != (b->ptr == NULL))
			return 0;
		/* bytes of the message, or text each decoder keeps itself */
		if (a->ptr != NULL && a->ptr != b->ptr && (b->len > 0 ||
		    strcmp((const char *)a->ptr, (const char *)b->ptr) != 0))
			return 0;
	}
	return 1;
}

#define CAP_WALK_BUG "a DEVICE_GET_REGION_INFO reply whose capability " \
	"walk fails keeps neither the bytes between capabilities nor " \
	"those past argsz: vx_encode() cannot give the input back"

/* A malformed REGION_INFO reply that failed in its capability chain. */
static int
cap_walk_failed(const struct vx_msg *m)
{
	static const unsigned f[] = {
		VXF_RINFO_CAP_OFFSET, VXF_CAP_ID, VXF_CAP_VERSION, VXF_CAP_NEXT,
		VXF_CAP_NR_AREAS, VXF_CAP_RESERVED, VXF_AREA_OFFSET,
		VXF_AREA_SIZE, VXF_CAP_TYPE, VXF_CAP_SUBTYPE, VXF_CAP_DATA,
		VXF_CAP_GAP,
	};
	size_t i;

	if (m->cmd != VX_CMD_DEVICE_GET_REGION_INFO || !vx_msg_is_reply(m) ||
	    m->status != VX_MSG_MALFORMED)
		return 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (m->err.field == f[i])
			return 1;
	return 0;
}

static void
robust_one(struct robust *st, struct vx_decoder *d, const uint8_t *buf,
    size_t len, const struct vx_dctx *ctx, int all, const char *what)
{
	char hx[2 * 96 + 1];
	struct vx_msg m;
	int enc, pr, fast = 0;

	st->runs++;
	if (vx_decode(d, buf, len, ctx, &m) != 0) {
		st->bad_encode++;
		return;
	}
	if (m.status < 3)
		st->status[m.status]++;
	if (!same_as_lazy(&m, buf, len, ctx, &fast)) {
		st->bad_lazy++;
		if (st->shown++ < 5) {
			tohex(buf, len < 96 ? len : 96, hx, sizeof(hx));
			diag("%s: a lazy decoder differs (dir %d peer %d be %d): %s",
			    what, ctx->dir, ctx->peer, ctx->big_endian, hx);
		}
	}
	st->lazy_fast += fast;
	enc = encodes_back(&m, buf, len);
	pr = prints(&m, all);
	st->bad_encode += !enc;
	st->bad_print += !pr;
	if (!enc && pr && cap_walk_failed(&m) && st->cap_walk++ > 0)
		return;		/* one example of the known bug is enough */
	if ((!enc || !pr) && st->shown < 5) {
		st->shown++;
		tohex(buf, len < 96 ? len : 96, hx, sizeof(hx));
		diag("%s: %s fails (dir %d peer %d be %d, status %d, %s): %s%s",
		    what, enc ? "print" : "encode", ctx->dir, ctx->peer,
		    ctx->big_endian, m.status, m.err.text, hx,
		    len > 96 ? "..." : "");
	}
}

/* Make the header's msg_size say n. */
static void
set_size(uint8_t *buf, size_t n, int be)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		buf[be ? 7 - i : 4 + i] = (uint8_t)(n >> (8 * i));
}

static void
test_prefixes(void)
{
	static uint8_t buf[MAXMSG];
	struct vx_decoder d;
	struct robust st;
	unsigned i;
	size_t n;

	vx_decoder_init(&d);
	for (i = 0; i < ncorpus; i++) {
		const struct sample *s = &corpus[i];
		struct vx_dctx ctx;

		memset(&st, 0, sizeof(st));
		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = s->dir;
		ctx.peer = s->peer;
		ctx.big_endian = s->be;
		for (n = 0; n <= s->len; n++) {
			memcpy(buf, s->buf, n);
			robust_one(&st, &d, buf, n, &ctx, 1, s->name);
			if (n < 8)
				continue;
			/* the same prefix as a whole message */
			set_size(buf, n, s->be);
			robust_one(&st, &d, buf, n, &ctx, 1, s->name);
		}
		if (st.bad_encode > 0 && st.bad_encode == st.cap_walk)
			diag("BUG: %s", CAP_WALK_BUG);
		ok(st.bad_encode == 0 && st.bad_print == 0 && st.bad_lazy == 0,
		    "prefixes of %s: %u decodes re-encode, print and decode "
		    "lazily alike", s->name, st.runs);
	}
	vx_decoder_release(&d);
}

static void
test_mutations(unsigned iters)
{
	static uint8_t buf[MAXMSG + 64];
	struct vx_decoder d;
	struct robust st;
	unsigned i, k, nflip;
	size_t len;

	memset(&st, 0, sizeof(st));
	vx_decoder_init(&d);
	for (i = 0; i < iters && ncorpus > 0; i++) {
		const struct sample *s = &corpus[rng() % ncorpus];
		struct vx_dctx ctx;
		uint32_t x = rng();

		memset(&ctx, 0, sizeof(ctx));
		len = s->len;
		memcpy(buf, s->buf, len);
		nflip = 1 + x % 4;
		for (k = 0; k < nflip && len > 0; k++) {
			uint32_t y = rng();

			if (y & 0x100)
				buf[y % len] ^= (uint8_t)(1u << (y >> 9 & 7));
			else
				buf[y % len] = (uint8_t)(y >> 24);
		}
		if ((x >> 4 & 7) == 0 && len > 0)		/* cut */
			len = rng() % len;
		else if ((x >> 4 & 7) == 1) {			/* extend */
			k = 1 + rng() % 32;
			while (k-- > 0 && len < MAXMSG)
				buf[len++] = (uint8_t)(x & 1 ? 0 : rng());
		}
		if ((x >> 8 & 3) != 0 && len >= 8) {		/* keep size */
			set_size(buf, len, s->be);
		}
		ctx.dir = (x >> 10 & 7) == 0 ? !s->dir : s->dir;
		ctx.chan = x >> 13 & 1;
		ctx.peer = (x >> 14 & 3) == 0 ? (uint8_t)(rng() % 4) : s->peer;
		ctx.big_endian = s->be;
		ctx.nfds = (int)(x >> 16 & 3);
		robust_one(&st, &d, buf, len, &ctx, (i & 7) == 0, "mutation");
	}
	vx_decoder_release(&d);
	diag("mutations: %u OK, %u UNKNOWN, %u MALFORMED", st.status[0],
	    st.status[1], st.status[2]);
	if (st.cap_walk > 0)
		diag("BUG: %u of the %u failures: %s", st.cap_walk,
		    st.bad_encode, CAP_WALK_BUG);
	ok(st.bad_encode == 0, "%u mutations re-encode exactly (%u failed)",
	    st.runs, st.bad_encode);
	ok(st.bad_print == 0, "%u mutations print (%u failed)", st.runs,
	    st.bad_print);
	ok(st.bad_lazy == 0 && st.lazy_fast > 0,
	    "%u mutations decode lazily as eagerly (%u failed, %u without items)",
	    st.runs, st.bad_lazy, st.lazy_fast);
}

/*
 * The lazy fast path's edges: REGION_READ/WRITE with every header
 * variation it must turn down (flags, errno, msg_size) and every payload
 * length around count, each against the eager decode.
 */
static void
test_lazy_region(void)
{
	static const uint32_t flags[] = { 0, 1, 0x10, 0x11, 0x20, 0x21, 0x30,
	    0x31, 2, 3, 0x40, 0x41, 0x80000000u, 0x80000001u };
	static const uint32_t counts[] = { 0, 1, 4, 8, 200, 0xffffffffu };
	static uint8_t buf[VX_HDR_SIZE + 16 + 256];
	struct vx_decoder d;
	struct vx_msg m;
	unsigned cmd, f, e, c, dl, sz, be, dir, peer, runs = 0, bad = 0;
	unsigned nfast = 0;
	int fast;

	vx_decoder_init(&d);
	for (cmd = VX_CMD_REGION_READ - 1; cmd <= VX_CMD_REGION_WRITE + 1; cmd++)
	for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
	for (e = 0; e < 2; e++)
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
	for (dl = 0; dl < 4; dl++)
	for (sz = 0; sz < 3; sz++)
	for (be = 0; be < 2; be++)
	for (dir = 0; dir < 2; dir++)
	for (peer = 0; peer < 4; peer += 3) {
		uint32_t count = counts[c], n;
		size_t len;
		struct vx_dctx ctx = { (uint8_t)dir, 0, (uint8_t)peer,
		    (uint8_t)be, 0 };

		/* data: none, count, one short, one over (within buf) */
		n = dl == 0 ? 0 : count > 200 ? 200 : count;
		if (dl == 2 && n > 0)
			n--;
		if (dl == 3)
			n++;
		len = VX_HDR_SIZE + 16 + n;
		memset(buf, 0x5a, len);
		vx_store(buf + VX_HDR_OFF_ID, 2, 0x1234, (int)be);
		vx_store(buf + VX_HDR_OFF_CMD, 2, cmd, (int)be);
		/* msg_size one short, right, one over */
		vx_store(buf + VX_HDR_OFF_SIZE, 4, len + sz - 1, (int)be);
		vx_store(buf + VX_HDR_OFF_FLAGS, 4, flags[f], (int)be);
		vx_store(buf + VX_HDR_OFF_ERROR, 4, e ? 5 : 0, (int)be);
		vx_store(buf + VX_HDR_SIZE, 8, 0x1000, (int)be);
		vx_store(buf + VX_HDR_SIZE + 8, 4, 2, (int)be);
		vx_store(buf + VX_HDR_SIZE + 12, 4, count, (int)be);
		runs++;
		if (vx_decode(&d, buf, len, &ctx, &m) != 0 ||
		    !same_as_lazy(&m, buf, len, &ctx, &fast)) {
			if (bad++ < 5)
				diag("lazy differs: cmd %u flags 0x%x errno %u count %u "
				    "data %u size %zu%+d be %u", cmd, flags[f], e,
				    count, n, len, (int)sz - 1, be);
			continue;
		}
		nfast += fast;
	}
	vx_decoder_release(&d);
	ok(bad == 0 && nfast > 0,
	    "%u REGION_READ/WRITE variations decode lazily as eagerly "
	    "(%u differ, %u without items)", runs, bad, nfast);
}

/* vx_hex_bytes(): the reader under decode's, the client's and the device
 * file's hex; separators only where the caller allows them. */
static void
test_hex_bytes(void)
{
	const char *in = "0a:0B 10", *bad;
	uint8_t b[4];

	ok(vx_hex_bytes(in, ": ", b, sizeof(b), &bad) == 3 && b[0] == 0x0a &&
	    b[1] == 0x0b && b[2] == 0x10 && bad == NULL,
	    "hex: pairs and separators");
	ok(vx_hex_bytes(in, ":", b, sizeof(b), &bad) < 0 && bad == in + 5,
	    "hex: a separator not allowed is where it stops");
	ok(vx_hex_bytes("0a0", "", b, sizeof(b), &bad) < 0 && bad != NULL &&
	    *bad == '0' && bad[1] == '\0', "hex: an odd digit is bad");
	ok(vx_hex_bytes("0102", "", b, 1, &bad) < 0 && bad != NULL &&
	    *bad == '0' && bad[1] == '2', "hex: the pair that did not fit");
	ok(vx_hex_bytes("", "", b, 0, &bad) == 0, "hex: nothing is no bytes");
}

int
main(int argc, char **argv)
{
	unsigned iters = 200000, i;
	const char *env = getenv("VX_MUTATIONS");

	if (argc > 1)
		iters = (unsigned)strtoul(argv[1], NULL, 0);
	else if (env != NULL && *env != '\0')
		iters = (unsigned)strtoul(env, NULL, 0);
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("/dev/null");
		return 1;
	}
	test_build_cases();
	test_hex_bytes();
	test_error_replies();
	test_version_caps();
	test_unknown_commands();
	test_malformed();
	test_too_many_caps();
	test_item_limit();
	vx_decoder_init(&lazy_dec);
	test_lazy_region();
	test_prefixes();
	test_mutations(iters);
	vx_decoder_release(&lazy_dec);
	for (i = 0; i < ncorpus; i++)
		free(corpus[i].buf);
	fclose(devnull);
	return unit_done();
}
