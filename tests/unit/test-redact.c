/*
 * test-redact.c - vx_msg_redact(): every message family that carries data,
 * in every peer variant, built with a canary where the data goes; after
 * redaction no canary byte is left, and the header, counts and other
 * fields are what they were.  Messages without data come back unchanged.
 */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "vx-error.h"
#include "vx-msg.h"

#define CANARY	0xc5

/* A message under construction: little-endian fields, then bytes. */
struct mb {
	uint8_t b[512];
	size_t n;
};

static void
put(struct mb *m, uint64_t v, int width)
{
	int i;

	for (i = 0; i < width; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void
canary(struct mb *m, size_t count)
{
	memset(m->b + m->n, CANARY, count);
	m->n += count;
}

static void
header(struct mb *m, uint16_t cmd, uint32_t flags)
{
	m->n = 0;
	put(m, 0x42, 2);
	put(m, cmd, 2);
	put(m, 0, 4);		/* size: done() */
	put(m, flags, 4);
	put(m, flags & VX_F_ERROR ? 22 : 0, 4);
}

static void
done(struct mb *m)
{
	m->b[4] = (uint8_t)m->n;
	m->b[5] = (uint8_t)(m->n >> 8);
}

static size_t
canaries(const uint8_t *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += p[i] == CANARY;
	return k;
}

/*
 * Decode m as dir/peer, redact a copy and check it: no canary left (want
 * tells how many there were), the first keep bytes unchanged, and the
 * decode status the same.  Returns what vx_msg_redact() did.
 */
static long
check(const char *what, struct mb *mb, int dir, int peer, size_t keep,
    size_t want)
{
	struct vx_decoder d;
	struct vx_dctx ctx = { 0 };
	struct vx_msg m, m2;
	uint8_t out[512];
	long r;
	int status;

	done(mb);
	vx_decoder_init(&d);
	d.lazy = 1;		/* the recorder's decoder: items on demand */
	ctx.dir = (uint8_t)dir;
	ctx.peer = (uint8_t)peer;
	ok(canaries(mb->b, mb->n) == want, "%s: %zu canary bytes built",
	    what, want);
	if (vx_decode(&d, mb->b, mb->n, &ctx, &m) < 0) {
		ok(0, "%s: decoded", what);
		vx_decoder_release(&d);
		return -1;
	}
	status = m.status;
	memcpy(out, mb->b, mb->n);
	r = vx_msg_redact(&m, out);
	ok(r >= 0 && (size_t)r >= want, "%s: %ld bytes zeroed", what, r);
	ok(canaries(out, mb->n) == 0, "%s: no canary survives", what);
	ok(memcmp(out, mb->b, keep) == 0, "%s: header and the %zu bytes "
	    "before the data kept", what, keep - VX_HDR_SIZE);
	ok(vx_decode(&d, out, mb->n, &ctx, &m2) == 0 && m2.status == status,
	    "%s: still decodes the same way", what);
	vx_decoder_release(&d);
	return r;
}

static void
test_region(void)
{
	struct mb m;
	int peer;

	for (peer = VX_PEER_AUTO; peer <= VX_PEER_QEMU; peer++) {
		header(&m, VX_CMD_REGION_WRITE, 0);
		put(&m, 0x10, 8);
		put(&m, 2, 4);
		put(&m, 8, 4);
		canary(&m, 8);
		check("REGION_WRITE command", &m, VX_C2S, peer, 32, 8);

		header(&m, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
		put(&m, 0x10, 8);
		put(&m, 2, 4);
		put(&m, 4, 4);
		canary(&m, 4);
		check("REGION_READ reply", &m, VX_S2C, peer, 32, 4);

		/* two coalesced writes, each an 8-byte data slot */
		header(&m, VX_CMD_REGION_WRITE_MULTI, VX_F_NO_REPLY);
		put(&m, 2, 8);
		put(&m, 0x0, 8);
		put(&m, 2, 4);
		put(&m, 4, 4);
		canary(&m, 8);
		put(&m, 0x8, 8);
		put(&m, 2, 4);
		put(&m, 8, 4);
		canary(&m, 8);
		check("REGION_WRITE_MULTI command", &m, VX_C2S, peer, 40, 16);
	}
	/* a malformed write: its data ends up undecoded, zeroed all the same */
	header(&m, VX_CMD_REGION_WRITE, 0);
	put(&m, 0x10, 8);
	put(&m, 2, 4);
	put(&m, 8, 4);
	canary(&m, 6);
	check("truncated REGION_WRITE command", &m, VX_C2S, VX_PEER_AUTO, 32, 6);
}

static void
test_dma(void)
{
	static const int peers[] = { VX_PEER_SPEC, VX_PEER_LVU, VX_PEER_AUTO };
	struct mb m;
	unsigned i;

	/* spec and libvfio-user: count u64 at 8, data at 16 */
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		header(&m, VX_CMD_DMA_WRITE, 0);
		put(&m, 0x100000, 8);
		put(&m, 12, 8);
		canary(&m, 12);
		check("DMA_WRITE command, spec form", &m, VX_S2C, peers[i], 32, 12);

		header(&m, VX_CMD_DMA_READ, VX_F_TYPE_REPLY);
		put(&m, 0x100000, 8);
		put(&m, 5, 8);
		canary(&m, 5);
		check("DMA_READ reply, spec form", &m, VX_C2S, peers[i], 32, 5);
	}
	/* QEMU: count u32 at 8, data at 12 (byte 28 of the message), then
	   4 bytes of padding; --redact used to start at 32 */
	header(&m, VX_CMD_DMA_WRITE, 0);
	put(&m, 0x100000, 8);
	put(&m, 8, 4);
	canary(&m, 8);
	put(&m, 0, 4);
	check("DMA_WRITE command, QEMU form", &m, VX_S2C, VX_PEER_QEMU, 28, 8);

	header(&m, VX_CMD_DMA_READ, VX_F_TYPE_REPLY);
	put(&m, 0x100000, 8);
	put(&m, 4, 4);
	canary(&m, 4);
	put(&m, 0, 4);
	check("DMA_READ reply, QEMU form", &m, VX_C2S, VX_PEER_QEMU, 28, 4);
}

static void
test_migration_and_others(void)
{
	struct mb m;

	header(&m, VX_CMD_MIG_DATA_READ, VX_F_TYPE_REPLY);
	put(&m, 8 + 7, 4);
	put(&m, 7, 4);
	canary(&m, 7);
	check("MIG_DATA_READ reply", &m, VX_S2C, VX_PEER_AUTO, 24, 7);

	/* libvfio-user pads its last reply with zeros */
	header(&m, VX_CMD_MIG_DATA_READ, VX_F_TYPE_REPLY);
	put(&m, 64, 4);
	put(&m, 3, 4);
	canary(&m, 3);
	put(&m, 0, 8);
	check("MIG_DATA_READ reply, libvfio-user padding", &m, VX_S2C,
	    VX_PEER_LVU, 24, 3);

	header(&m, VX_CMD_MIG_DATA_WRITE, 0);
	put(&m, 8 + 9, 4);
	put(&m, 9, 4);
	canary(&m, 9);
	check("MIG_DATA_WRITE command", &m, VX_C2S, VX_PEER_AUTO, 24, 9);

	/* what vfuctl cannot tell is not data */
	header(&m, 99, 0);
	canary(&m, 10);
	check("unknown command's payload", &m, VX_C2S, VX_PEER_AUTO, 16, 10);

	header(&m, VX_CMD_DEVICE_FEATURE, VX_F_TYPE_REPLY | VX_F_ERROR);
	canary(&m, 16);
	check("libvfio-user error reply with a body", &m, VX_S2C, VX_PEER_LVU,
	    16, 16);

	/* its failed region reads keep the access, and any data with it */
	header(&m, VX_CMD_REGION_READ, VX_F_TYPE_REPLY | VX_F_ERROR);
	put(&m, 0x10, 8);
	put(&m, 2, 4);
	put(&m, 4, 4);
	canary(&m, 4);
	check("REGION_READ error reply with data", &m, VX_S2C, VX_PEER_LVU,
	    32, 4);
}

/* Messages without data: nothing changes. */
static void
test_no_data(void)
{
	static const char js[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	struct vx_decoder d;
	struct vx_dctx ctx = { 0 };
	struct vx_msg msg;
	struct mb m;
	uint8_t out[512];

	header(&m, VX_CMD_VERSION, 0);
	put(&m, 0, 2);
	put(&m, 2, 2);
	memcpy(m.b + m.n, js, sizeof(js));
	m.n += sizeof(js);
	done(&m);
	vx_decoder_init(&d);
	ok(vx_decode(&d, m.b, m.n, &ctx, &msg) == 0 && msg.status == VX_MSG_OK,
	    "VERSION decodes");
	memcpy(out, m.b, m.n);
	ok(vx_msg_redact(&msg, out) == 0 && memcmp(out, m.b, m.n) == 0,
	    "VERSION: nothing zeroed");

	header(&m, VX_CMD_DMA_MAP, 0);
	put(&m, 32, 4);
	put(&m, 3, 4);
	put(&m, 0, 8);
	put(&m, 0x100000, 8);
	put(&m, 0x1000, 8);
	done(&m);
	ok(vx_decode(&d, m.b, m.n, &ctx, &msg) == 0 && msg.status == VX_MSG_OK,
	    "DMA_MAP decodes");
	memcpy(out, m.b, m.n);
	ok(vx_msg_redact(&msg, out) == 0 && memcmp(out, m.b, m.n) == 0,
	    "DMA_MAP: nothing zeroed");
	vx_decoder_release(&d);
}

int
main(void)
{
	test_region();
	test_dma();
	test_migration_and_others();
	test_no_data();
	return unit_done();
}
