/*
 * fuzz-family.h - the body of the per-family targets (fuzz-version.c,
 * fuzz-dma.c, ...): each lists its commands and calls fx_family().
 *
 * Input: byte 0 selects, the rest is the payload.
 *
 *   bit  0-2  command: index into the target's command list (mod its size)
 *   bit  3    reply (else command)
 *   bit  4    error flag (0x20) in the header, errno EINVAL
 *   bit  5    direction: 0 c2s, 1 s2c
 *   bit  6-7  peer profile: VX_PEER_AUTO, _SPEC, _LVU, _QEMU
 *
 * The header around the payload is built correct (msg_id 0x4242, msg_size
 * the real length), so the fuzzer spends its time in the payload decoders;
 * fuzz-header.c covers bad headers.  tests/fuzz/make-corpus.sh writes seeds in
 * this layout: keep the two in step.
 */
#ifndef FUZZ_FAMILY_H
#define FUZZ_FAMILY_H

#include "fuzz-common.h"

#define FX_SEL_CMD(b)	((unsigned)(b) & 7u)
#define FX_SEL_REPLY	0x08u
#define FX_SEL_ERROR	0x10u
#define FX_SEL_S2C	0x20u
#define FX_SEL_PEER(b)	((unsigned)(b) >> 6)

#define FX_MSG_ID	0x4242u
#define FX_EINVAL	22u

static void
fx_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
fx_put32(uint8_t *p, uint32_t v)
{
	fx_put16(p, (uint16_t)v);
	fx_put16(p + 2, (uint16_t)(v >> 16));
}

/*
 * A family target's whole body: build a correct header for the selected
 * command around the payload, decode it and check the result.
 */
static int
fx_family(const uint16_t *cmds, unsigned ncmds, const uint8_t *data,
    size_t size)
{
	struct vx_dctx ctx;
	struct vx_msg m;
	uint8_t sel, *buf;
	size_t len;
	uint16_t cmd;
	uint32_t flags;
	int r;

	fx_init();
	if (size < 1 || size - 1 > UINT32_MAX - VX_HDR_SIZE)
		return -1;	/* not a usable input: keep it out of the corpus */
	sel = data[0];
	cmd = cmds[FX_SEL_CMD(sel) % ncmds];
	flags = (sel & FX_SEL_REPLY) ? VX_F_TYPE_REPLY : VX_F_TYPE_COMMAND;
	if (sel & FX_SEL_ERROR)
		flags |= VX_F_ERROR;
	len = VX_HDR_SIZE + size - 1;
	/* exact size, so ASan sees a read one past the end */
	if ((buf = malloc(len)) == NULL)
		abort();
	fx_put16(buf + VX_HDR_OFF_ID, FX_MSG_ID);
	fx_put16(buf + VX_HDR_OFF_CMD, cmd);
	fx_put32(buf + VX_HDR_OFF_SIZE, (uint32_t)len);
	fx_put32(buf + VX_HDR_OFF_FLAGS, flags);
	fx_put32(buf + VX_HDR_OFF_ERROR, (sel & FX_SEL_ERROR) ? FX_EINVAL : 0);
	memcpy(buf + VX_HDR_SIZE, data + 1, size - 1);

	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = (sel & FX_SEL_S2C) ? VX_S2C : VX_C2S;
	ctx.peer = (uint8_t)FX_SEL_PEER(sel);
	r = vx_decode(&fx_dec, buf, len, &ctx, &m);
	if (r == VX_ERR_NOMEM) {
		free(buf);
		return 0;
	}
	if (r != 0)
		fx_fail(&m, "vx_decode returned %d", r);
	/* the header is right by construction: it must decode as built */
	if (m.nitems < 5 || m.cmd != cmd || m.flags != flags ||
	    m.size != len || m.id != FX_MSG_ID)
		fx_fail(&m, "header built for cmd %u flags 0x%x size %zu "
		    "decoded as cmd %u flags 0x%x size %u (%u items)", cmd,
		    flags, len, m.cmd, m.flags, m.size, m.nitems);
	if (m.status == VX_MSG_UNKNOWN)
		fx_fail(&m, "command %u of a decoder family decoded as unknown",
		    cmd);
	fx_check_all(&m);
	fx_check_lazy(&m, buf, len, &ctx);
	free(buf);
	return 0;
}

#endif /* FUZZ_FAMILY_H */
