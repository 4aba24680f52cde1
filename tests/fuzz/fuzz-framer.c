/*
 * fuzz-framer.c - libFuzzer target for the inbound framer: a byte stream
 * fed to vx_framer_feed() in chunks, some chunks with descriptors, whole
 * messages taken with vx_framer_next() after every chunk.
 *
 * Every input runs twice: reading to message boundaries, then as a framer
 * that reads ahead (descriptors to a chunk's last message).
 *
 * Input:
 *   byte 0   bits 0-1 max_msg_size: 16, 64, 4096 or the default;
 *            bit 2 max_fds 1 (else VX_MAX_FDS);
 *            bits 3-7 chunking: 0 the whole stream at once, else chunks
 *            of 1 .. 8*n bytes from a fixed pseudo-random sequence
 *   byte 1   bit i: the chunks numbered i mod 8 come with a descriptor
 *            (a dup of /dev/null), two if bit (i + 1) mod 8 is set too,
 *            until MAX_PASSED descriptors have been passed
 *   rest     the stream
 *
 * Checks, besides the sanitizers: the frames' bytes are the stream, in
 * order, with nothing lost or repeated; each frame's length and bad code
 * agree with its header and the limits; descriptors come out at most
 * max_fds a frame, are ones we passed and still open; once everything is
 * released every descriptor we passed is closed; what is left unframed at
 * the end is not a whole message.  Good frames also go through vx_decode
 * and must encode back (fuzz-common.h), and are queued outbound.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vx-framer.h"
#include "fuzz-common.h"

/* dup and close are slow system calls: a few per input cover the logic */
#define MAX_PASSED	32

static int passed[MAX_PASSED];
static unsigned npassed, ndup;

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
was_passed(int fd)
{
	unsigned i;

	for (i = 0; i < npassed; i++)
		if (passed[i] == fd)
			return 1;
	return 0;
}

static int
new_fd(void)
{
	int fd = dup(fileno(fx_null));

	if (fd < 0)
		abort();
	ndup++;
	if (!was_passed(fd))
		passed[npassed++] = fd;
	return fd;
}

static void
check_frame(const struct vx_framer *f, const struct vx_frame *fr,
    const uint8_t *stream, size_t off)
{
	uint32_t size;
	int i, j;

	if (fr->len < VX_HDR_SIZE || fr->data == NULL)
		fx_fail(NULL, "frame of %zu bytes", fr->len);
	if (memcmp(fr->data, stream + off, fr->len) != 0)
		fx_fail(NULL, "frame at stream offset %zu is not the stream's bytes",
		    off);
	size = le32(fr->data + VX_HDR_OFF_SIZE);
	switch (fr->bad) {
	case 0:
	case VX_ERR_FDS:
		if (size != fr->len || size < VX_HDR_SIZE ||
		    size > f->lim.max_msg_size)
			fx_fail(NULL, "frame of %zu bytes, msg_size %u, limit %u",
			    fr->len, size, f->lim.max_msg_size);
		break;
	case VX_ERR_INVALID:
		if (fr->len != VX_HDR_SIZE || size >= VX_HDR_SIZE)
			fx_fail(NULL, "invalid frame of %zu bytes, msg_size %u",
			    fr->len, size);
		break;
	case VX_ERR_TOO_LARGE:
		if (fr->len != VX_HDR_SIZE || size <= f->lim.max_msg_size)
			fx_fail(NULL, "too-large frame of %zu bytes, msg_size %u",
			    fr->len, size);
		break;
	default:
		fx_fail(NULL, "frame with bad %d", fr->bad);
	}
	if (fr->nfds < 0 || fr->nfds > f->lim.max_fds ||
	    (fr->bad == VX_ERR_FDS && fr->nfds != 0))
		fx_fail(NULL, "frame with %d fds, limit %d, bad %d", fr->nfds,
		    f->lim.max_fds, fr->bad);
	for (i = 0; i < fr->nfds; i++) {
		if (!was_passed(fr->fds[i]) || fcntl(fr->fds[i], F_GETFD) < 0)
			fx_fail(NULL, "frame fd %d was not passed or is closed",
			    fr->fds[i]);
		for (j = 0; j < i; j++)
			if (fr->fds[j] == fr->fds[i])
				fx_fail(NULL, "frame holds fd %d twice", fr->fds[i]);
	}
}

/* Decode a good frame, check it, and send it back out. */
static void
use_frame(struct vx_framer *f, const struct vx_frame *fr, int dir)
{
	struct vx_dctx ctx;
	struct vx_msg m;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = (uint8_t)dir;
	ctx.nfds = fr->nfds;
	if (vx_decode(&fx_dec, fr->data, fr->len, &ctx, &m) == 0) {
		fx_check_items(&m);
		fx_check_roundtrip(&m);
	}
	if (fr->len <= f->peer_max_msg_size) {
		r = vx_framer_queue(f, fr->data, fr->len, NULL, 0);
		if (r != 0 && r != VX_ERR_NOMEM)
			fx_fail(NULL, "vx_framer_queue of a %zu-byte frame: %d",
			    fr->len, r);
	}
}

/* One pass over the input; ahead: as a framer that reads ahead. */
static void
run(const uint8_t *data, size_t size, int ahead)
{
	static const uint32_t sizes[4] = { 16, 64, 4096, VX_DEF_MAX_MSG };
	struct vx_limits lim;
	struct vx_framer f;
	struct vx_frame fr;
	const uint8_t *stream;
	size_t n, pos = 0, off = 0, left;
	uint32_t rnd, span;
	unsigned chunk = 0, i;
	int fds[2], nfds, r;

	lim.max_msg_size = sizes[data[0] & 3];
	lim.max_fds = (data[0] & 4) ? 1 : VX_MAX_FDS;
	span = (uint32_t)(data[0] >> 3) * 8;
	rnd = 0x9e3779b9u ^ data[0] ^ (uint32_t)data[1] << 8;
	stream = data + 2;
	n = size - 2;
	npassed = ndup = 0;
	if (vx_framer_init(&f, -1, &lim) != 0)
		fx_fail(NULL, "vx_framer_init refused max_msg_size %u max_fds %d",
		    lim.max_msg_size, lim.max_fds);
	vx_framer_set_readahead(&f, ahead ? VX_FRAMER_READAHEAD : 0);

	while (pos < n) {
		size_t len = n - pos;

		if (span != 0) {
			rnd ^= rnd << 13;	/* xorshift32 */
			rnd ^= rnd >> 17;
			rnd ^= rnd << 5;
			if (len > 1 + rnd % span)
				len = 1 + rnd % span;
		}
		nfds = 0;
		if (ndup + 2 <= MAX_PASSED && (data[1] & (1u << (chunk % 8)))) {
			fds[nfds++] = new_fd();
			if (data[1] & (1u << ((chunk + 1) % 8)))
				fds[nfds++] = new_fd();
		}
		r = vx_framer_feed(&f, stream + pos, len, fds, nfds);
		if (r == VX_ERR_NOMEM)
			break;
		if (r != 0 && r != VX_ERR_FDS)
			fx_fail(NULL, "vx_framer_feed returned %d", r);
		pos += len;
		chunk++;
		/* steady state: each frame released before the next is taken */
		while ((r = vx_framer_next(&f, &fr)) == 1) {
			check_frame(&f, &fr, stream, off);
			off += fr.len;
			if (fr.bad == 0)
				use_frame(&f, &fr, (int)(chunk & 1));
			vx_frame_release(&fr);
		}
		if (r != 0 && r != VX_ERR_NOMEM)
			fx_fail(NULL, "vx_framer_next returned %d", r);
	}
	/* whatever is left must not be a whole message */
	left = pos - off;
	if (pos == n && left >= VX_HDR_SIZE) {
		uint32_t msz = le32(stream + off + VX_HDR_OFF_SIZE);

		if (msz < VX_HDR_SIZE || msz > lim.max_msg_size || left >= msz)
			fx_fail(NULL, "%zu bytes left unframed, msg_size %u, limit %u",
			    left, msz, lim.max_msg_size);
	}
	vx_framer_release(&f);
	for (i = 0; i < npassed; i++)
		if (fcntl(passed[i], F_GETFD) >= 0 || errno != EBADF)
			fx_fail(NULL, "fd %d passed to the framer is still open",
			    passed[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_init();
	if (size < 2)
		return -1;
	run(data, size, 0);
	run(data, size, 1);
	return 0;
}
