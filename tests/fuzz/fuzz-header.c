/*
 * fuzz-header.c - libFuzzer target: the input is one whole message, header
 * included, any command (unknown ones, 14, sizes that lie).  Each input is
 * decoded twice, little-endian as every known peer sends and big-endian
 * (the spec says host order), with different directions and peers.
 */
#include "fuzz-common.h"

static void
one(const uint8_t *data, size_t size, int dir, int peer, int big_endian)
{
	struct vx_dctx ctx;
	struct vx_msg m;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = (uint8_t)dir;
	ctx.peer = (uint8_t)peer;
	ctx.big_endian = (uint8_t)big_endian;
	r = vx_decode(&fx_dec, data, size, &ctx, &m);
	if (r == VX_ERR_NOMEM)
		return;
	if (r != 0)
		fx_fail(&m, "vx_decode returned %d", r);
	if (size >= VX_HDR_SIZE && m.nitems < 5)
		fx_fail(&m, "%zu bytes but the header did not decode", size);
	fx_check_all(&m);
	fx_check_lazy(&m, data, size, &ctx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer passes an exact-size heap copy: ASan sees overreads */
	fx_init();
	one(data, size, VX_C2S, VX_PEER_AUTO, 0);
	one(data, size, VX_S2C, VX_PEER_QEMU, 1);
	return 0;
}
