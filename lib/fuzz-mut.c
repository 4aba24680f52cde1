/*
 * fuzz-mut.c - the fuzzer's messages: templates filled from what the
 * device reported, and mutations through the model (the items a decode
 * gives: each integer field where it lies and how wide it is).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-int.h"
#include "vx-array.h"
#include "vx-cursor.h"
#include "vx-error.h"

#define WIN_ADDR	0x100000u
#define WIN_SIZE	0x10000u

/* --- randomness and sequences ----------------------------------------- */

uint64_t
rng_next(struct rng *r)		/* xorshift64* */
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : rng_next(r) % n;
}

static int
chance(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

int
fmsg_set(struct fmsg *m, const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p == NULL)
		return VX_ERR_NOMEM;
	memcpy(p, buf, len);
	free(m->buf);
	m->buf = p;
	m->len = len;
	return 0;
}

void
fmsg_free(struct fmsg *m)
{
	free(m->buf);
	free(m->orig);
	memset(m, 0, sizeof *m);
}

int
fseq_push(struct fseq *s, const struct fmsg *m)
{
	struct fmsg *v, c = *m;

	v = vx_array_room(s->v, s->n, &s->cap, sizeof *v, 16);
	if (v == NULL)
		return VX_ERR_NOMEM;
	s->v = v;
	c.buf = c.orig = NULL;
	if (fmsg_set(&c, m->buf, m->len) < 0)
		return VX_ERR_NOMEM;
	if (m->orig != NULL && (c.orig = malloc(m->olen ? m->olen : 1)) != NULL)
		memcpy(c.orig, m->orig, m->olen);
	else
		c.olen = 0;
	s->v[s->n++] = c;
	return 0;
}

void
fseq_clear(struct fseq *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		fmsg_free(&s->v[i]);
	s->n = 0;
}

/* --- templates -------------------------------------------------------- */

static int
finish(struct vx_builder *b, struct fmsg *out)
{
	struct vx_msg m;
	int r;

	if ((r = vx_build_finish(b, &m)) < 0)
		return r;
	return fmsg_set(out, m.buf, m.len);
}

/* An index: mostly one the device has; else just past it, the one after,
 * or far beyond. */
static uint32_t
pick_index(struct rng *r, uint32_t n)
{
	switch (rng_below(r, 20)) {
	case 0: return n;
	case 1: return n + 1;
	case 2: return chance(r, 50) ? UINT32_MAX : (uint32_t)rng_next(r);
	default: return (uint32_t)rng_below(r, n ? n : 1);
	}
}

/* A region that exists, if there is one; for a write mostly one the
 * device says is writable (a read-only one only refuses). */
static uint32_t
pick_region(struct rng *r, const struct fdev *d, int write)
{
	uint32_t i, n = d->nregions < FZ_MAX_REGIONS ? d->nregions :
	    FZ_MAX_REGIONS;
	uint32_t have[FZ_MAX_REGIONS], k = 0, w = 0;

	for (i = 0; i < n; i++)
		if (d->rsize[i] != 0)
			have[k++] = i;
	if (k == 0 || chance(r, 10))
		return pick_index(r, d->nregions);
	if (write && chance(r, 80)) {
		for (i = 0; i < k; i++)
			if (d->rflags[have[i]] & VX_REGION_WRITE)
				have[w++] = have[i];
		k = w ? w : k;
	}
	return have[rng_below(r, k)];
}

/* log2 of the largest power of two not above v (v > 0) */
static unsigned
log2_floor(uint64_t v)
{
	unsigned b = 0;

	while (v >>= 1)
		b++;
	return b;
}

/*
 * An offset for an access of count bytes to a region of size: its
 * boundaries (the first register, the last, straddling the end, just
 * past), a power of two (where registers and doorbells tend to sit), or
 * a random one aligned to the access's width, to 16, or not at all.
 */
static uint64_t
pick_offset(struct rng *r, uint64_t size, uint32_t count)
{
	uint64_t last = size >= count ? size - count : 0;

	if (size == 0)		/* no such region: anything */
		return chance(r, 50) ? 0 : (uint64_t)1 << rng_below(r, 16);
	switch (rng_below(r, 10)) {
	case 0: return 0;
	case 1: return last;
	case 2: return last + 1;
	case 3: return chance(r, 50) ? size : size + count;
	case 4: case 5:
		return (uint64_t)1 << rng_below(r, log2_floor(size) + 1);
	case 6: case 7:
		return rng_below(r, last / count + 1) * count;
	case 8: return rng_below(r, size) & ~(uint64_t)15;
	default: return rng_below(r, size);
	}
}

static uint32_t
pick_count(struct rng *r)
{
	static const uint32_t c[] = { 1, 2, 4, 4, 4, 8, 8, 3, 16, 64 };

	return c[rng_below(r, sizeof c / sizeof c[0])];
}

static void
region_rw(struct rng *r, const struct fdev *d, struct vx_builder *b,
    int write)
{
	uint32_t index = pick_region(r, d, write), count = pick_count(r), i;
	uint64_t size = index < FZ_MAX_REGIONS ? d->rsize[index] : 0;
	uint8_t data[64];

	vx_build_header(b, 0, write ? VX_CMD_REGION_WRITE : VX_CMD_REGION_READ,
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_REGION_OFFSET, pick_offset(r, size, count));
	vx_build_uint(b, VXF_REGION_INDEX, index);
	vx_build_uint(b, VXF_REGION_COUNT, count);
	if (write) {
		for (i = 0; i < count; i++)
			data[i] = (uint8_t)rng_next(r);
		vx_build_bytes(b, VXF_REGION_DATA, data, count);
	}
}

/* SET_IRQS flags: mostly one of the nine valid DATA_* x ACTION_*
 * combinations, else one with a bit flipped, or none. */
static uint32_t
irq_flags(struct rng *r)
{
	static const uint32_t data[] = { VX_IRQ_DATA_NONE, VX_IRQ_DATA_BOOL,
	    VX_IRQ_DATA_EVENTFD };
	static const uint32_t action[] = { VX_IRQ_ACTION_MASK,
	    VX_IRQ_ACTION_UNMASK, VX_IRQ_ACTION_TRIGGER };
	uint32_t f = data[rng_below(r, 3)] | action[rng_below(r, 3)];

	switch (rng_below(r, 10)) {
	case 0: return f ^ 1u << rng_below(r, 6);	/* two or no DATA_ */
	case 1: return chance(r, 50) ? 0 : f ^ 1u << rng_below(r, 32);
	default: return f;
	}
}

/* An IRQ index: mostly one with vectors, where a device does most. */
static uint32_t
pick_irq(struct rng *r, const struct fdev *d)
{
	uint32_t i, have[FZ_MAX_IRQS], k = 0;

	for (i = 0; i < d->nirqs && i < FZ_MAX_IRQS; i++)
		if (d->icount[i] != 0)
			have[k++] = i;
	if (k == 0 || chance(r, 30))
		return pick_index(r, d->nirqs);
	return have[rng_below(r, k)];
}

/* start and count against the index's n vectors: all of them, one too
 * many, none, past the end, the top of the range, one, or a subrange. */
static void
pick_vectors(struct rng *r, uint32_t n, uint32_t *start, uint32_t *count)
{
	*start = 0;
	switch (rng_below(r, 10)) {
	case 0: *count = n; break;
	case 1: *count = n + 1; break;
	case 2: *count = 0; break;
	case 3: *start = n + (uint32_t)rng_below(r, 2); *count = 1; break;
	case 4: *start = (uint32_t)rng_below(r, 2); *count = UINT32_MAX; break;
	case 5: case 6:
		*start = (uint32_t)rng_below(r, n ? n : 1);
		*count = 1;
		break;
	default:
		*start = (uint32_t)rng_below(r, n ? n : 1);
		*count = 1 + (uint32_t)rng_below(r, n > *start ? n - *start : 1);
	}
}

static void
set_irqs(struct rng *r, const struct fdev *d, struct vx_builder *b,
    struct fmsg *out)
{
	uint32_t index = pick_irq(r, d), flags = irq_flags(r), start, count;
	uint32_t n = index < FZ_MAX_IRQS ? d->icount[index] : 0, i, nfds;
	uint8_t bools[FZ_MAX_FDS * 4];

	pick_vectors(r, n, &start, &count);
	nfds = count < FZ_MAX_FDS ? count : FZ_MAX_FDS;
	if (flags & VX_IRQ_DATA_EVENTFD && chance(r, 80))
		count = nfds;	/* mostly as many descriptors as vectors */
	vx_build_header(b, 0, VX_CMD_DEVICE_SET_IRQS, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, 20 + (flags & VX_IRQ_DATA_BOOL &&
	    count <= sizeof bools ? count : 0));
	vx_build_uint(b, VXF_IRQ_SET_FLAGS, flags);
	vx_build_uint(b, VXF_IRQ_INDEX, index);
	vx_build_uint(b, VXF_IRQ_START, start);
	vx_build_uint(b, VXF_IRQ_COUNT, count);
	if (flags & VX_IRQ_DATA_BOOL && count > 0 && count <= sizeof bools) {
		for (i = 0; i < count; i++)
			bools[i] = (uint8_t)rng_below(r, 2);
		vx_build_bytes(b, VXF_IRQ_DATA, bools, count);
	}
	if (flags & VX_IRQ_DATA_EVENTFD)
		for (i = 0; i < nfds; i++)
			out->fdk[out->nfds++] = FZ_FD_EVENTFD;
}

static void
dma_map(struct vx_builder *b, uint64_t addr, uint64_t size, struct fmsg *out)
{
	vx_build_header(b, 0, VX_CMD_DMA_MAP, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, 32);
	vx_build_uint(b, VXF_DMA_MAP_FLAGS, VX_DMA_MAP_READ | VX_DMA_MAP_WRITE);
	vx_build_uint(b, VXF_DMA_MAP_OFFSET, 0);
	vx_build_uint(b, VXF_DMA_ADDR, addr);
	vx_build_uint(b, VXF_DMA_SIZE, size);
	out->fdk[out->nfds++] = FZ_FD_MEMFD;
}

static void
dma_unmap(struct rng *r, const struct fdev *d, struct vx_builder *b)
{
	int all = chance(r, 20);

	vx_build_header(b, 0, VX_CMD_DMA_UNMAP, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, 24);
	vx_build_uint(b, VXF_DMA_UNMAP_FLAGS, all ? VX_DMA_UNMAP_ALL : 0);
	vx_build_uint(b, VXF_DMA_ADDR, all ? 0 : d->win_addr);
	vx_build_uint(b, VXF_DMA_SIZE, all ? 0 : d->win_size);
}

static void
info_cmd(struct vx_builder *b, uint16_t cmd, unsigned field, uint32_t index,
    uint32_t argsz)
{
	vx_build_header(b, 0, cmd, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, argsz);
	if (cmd == VX_CMD_DEVICE_GET_REGION_INFO) {
		vx_build_uint(b, VXF_RINFO_FLAGS, 0);
		vx_build_uint(b, field, index);
		vx_build_uint(b, VXF_RINFO_CAP_OFFSET, 0);
		vx_build_uint(b, VXF_RINFO_SIZE, 0);
		vx_build_uint(b, VXF_RINFO_OFFSET, 0);
	} else if (cmd == VX_CMD_DEVICE_GET_IRQ_INFO) {
		vx_build_uint(b, VXF_IRQ_INFO_FLAGS, 0);
		vx_build_uint(b, field, index);
		vx_build_uint(b, VXF_IRQ_COUNT, 0);
	} else if (cmd == VX_CMD_DEVICE_GET_REGION_IO_FDS) {
		vx_build_uint(b, VXF_IOFDS_FLAGS, 0);
		vx_build_uint(b, field, index);
		vx_build_uint(b, VXF_IOFDS_COUNT, 0);
	} else {
		vx_build_uint(b, VXF_DEV_FLAGS, 0);
		vx_build_uint(b, VXF_DEV_NUM_REGIONS, 0);
		vx_build_uint(b, VXF_DEV_NUM_IRQS, 0);
	}
}

static void
feature(struct rng *r, struct vx_builder *b)
{
	static const uint32_t op[] = { VX_FEATURE_PROBE, VX_FEATURE_GET,
	    VX_FEATURE_SET, VX_FEATURE_PROBE | VX_FEATURE_GET, 0 };
	uint32_t state = (uint32_t)rng_below(r, VX_MIG_NUM_STATES + 1);
	uint32_t f = (uint32_t)rng_below(r, 9);

	vx_build_header(b, 0, VX_CMD_DEVICE_FEATURE, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, 8 + (chance(r, 50) ? 4 : 64));
	vx_build_uint(b, VXF_FEAT_FLAGS, f | op[rng_below(r, 5)]);
	if (chance(r, 60))
		vx_build_bytes(b, VXF_FEAT_DATA, &state, 4);
}

static void
mig_data(struct rng *r, struct vx_builder *b, int rd)
{
	uint8_t data[32];
	uint32_t n = (uint32_t)rng_below(r, sizeof data + 1), i;

	for (i = 0; i < n; i++)
		data[i] = (uint8_t)rng_next(r);
	vx_build_header(b, 0, rd ? VX_CMD_MIG_DATA_READ : VX_CMD_MIG_DATA_WRITE,
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_ARGSZ, 8 + (rd ? 4096 : n));
	vx_build_uint(b, VXF_MIGD_SIZE, rd ? 4096 : n);
	if (!rd)
		vx_build_bytes(b, VXF_MIGD_DATA, data, n);
}

/* Templates: how many times in 16 each command is made. */
int
fz_template(struct rng *r, struct fdev *d, struct vx_builder *b,
    struct fmsg *out)
{
	unsigned pick = (unsigned)rng_below(r, 16);

	out->nfds = 0;
	out->how = FZ_WHOLE;
	/* a window just mapped: the accesses that may make the device use
	 * it, sooner */
	if (d->after_map > 0) {
		d->after_map--;
		if (chance(r, 50))
			pick = chance(r, 75) ? 0 : 3;
	}
	switch (pick) {
	case 0: case 1: case 2:
		region_rw(r, d, b, 1);
		break;
	case 3: case 4:
		region_rw(r, d, b, 0);
		break;
	case 5: case 6:
		set_irqs(r, d, b, out);
		break;
	case 7:
		info_cmd(b, VX_CMD_DEVICE_GET_REGION_INFO, VXF_REGION_INDEX,
		    pick_index(r, d->nregions), 32 + (chance(r, 30) ? 64 : 0));
		break;
	case 8:
		info_cmd(b, VX_CMD_DEVICE_GET_IRQ_INFO, VXF_IRQ_INDEX,
		    pick_index(r, d->nirqs), 16);
		break;
	case 9:
		info_cmd(b, VX_CMD_DEVICE_GET_REGION_IO_FDS, VXF_REGION_INDEX,
		    pick_region(r, d, 0), 16 + (chance(r, 50) ? 96 : 0));
		break;
	case 10:
		dma_map(b, (WIN_ADDR + rng_below(r, 16) * WIN_SIZE) &
		    ~(uint64_t)0xfff, 0x1000u << rng_below(r, 5), out);
		d->after_map = 3;
		break;
	case 11:
		dma_unmap(r, d, b);
		break;
	case 12:
		feature(r, b);
		break;
	case 13:
		mig_data(r, b, (int)rng_below(r, 2));
		break;
	case 14:
		vx_build_header(b, 0, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND, 0);
		break;
	default:
		info_cmd(b, VX_CMD_DEVICE_GET_INFO, 0, 0, 16);
		break;
	}
	return finish(b, out);
}

int
fz_probe(struct vx_builder *b, struct fmsg *out)
{
	info_cmd(b, VX_CMD_DEVICE_GET_INFO, 0, 0, 16);
	return finish(b, out);
}

int
fz_discovery(const struct fdev *d, struct vx_builder *b, struct fseq *s,
    int with_info)
{
	struct fmsg m = { 0 };
	uint32_t i;
	int r = 0;

	if (with_info) {
		info_cmd(b, VX_CMD_DEVICE_GET_INFO, 0, 0, 16);
		return finish(b, &m) < 0 || fseq_push(s, &m) < 0 ?
		    (fmsg_free(&m), VX_ERR_NOMEM) : (fmsg_free(&m), 0);
	}
	for (i = 0; r == 0 && i < d->nregions && i < FZ_MAX_REGIONS; i++) {
		info_cmd(b, VX_CMD_DEVICE_GET_REGION_INFO, VXF_REGION_INDEX,
		    i, 32);
		if ((r = finish(b, &m)) == 0)
			r = fseq_push(s, &m);
	}
	for (i = 0; r == 0 && i < d->nirqs && i < FZ_MAX_IRQS; i++) {
		info_cmd(b, VX_CMD_DEVICE_GET_IRQ_INFO, VXF_IRQ_INDEX, i, 16);
		if ((r = finish(b, &m)) == 0)
			r = fseq_push(s, &m);
	}
	if (r == 0) {
		m.nfds = 0;
		dma_map(b, WIN_ADDR, WIN_SIZE, &m);
		if ((r = finish(b, &m)) == 0)
			r = fseq_push(s, &m);
	}
	fmsg_free(&m);
	return r;
}

/* --- mutations -------------------------------------------------------- */

static uint64_t
boundary(struct rng *r, const struct fdev *d, const struct vx_item *it,
    uint64_t max)
{
	switch (rng_below(r, 10)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max;
	case 3: return max - 1;
	case 4: return (max >> 1) + 1;
	case 5: return it->val + 1;
	case 6: return it->val - 1;
	case 7:
		if (it->field == VXF_REGION_INDEX)
			return d->nregions;
		if (it->field == VXF_IRQ_INDEX)
			return d->nirqs;
		return (uint64_t)1 << rng_below(r, it->len * 8);
	case 8: return it->val ^ ((uint64_t)1 << rng_below(r, it->len * 8));
	default: return rng_next(r) & max;
	}
}

/* An integer field of the message, as the model lays it out. */
static const struct vx_item *
pick_field(struct rng *r, const struct vx_msg *m)
{
	const struct vx_item *cand[64];
	unsigned k = 0;
	uint32_t i;

	for (i = 0; i < m->nitems && k < 64; i++) {
		const struct vx_item *it = &m->items[i];
		unsigned w = it->len;

		if ((w == 1 || w == 2 || w == 4 || w == 8) &&
		    vx_fields[it->field].kind != VX_K_BYTES &&
		    vx_fields[it->field].kind != VX_K_TEXT &&
		    it->field != VXF_HDR_ID && it->field != VXF_HDR_SIZE &&
		    it->off + w <= m->len)
			cand[k++] = it;
	}
	return k ? cand[rng_below(r, k)] : NULL;
}

static int
mutate_field(struct rng *r, const struct fdev *d, struct vx_decoder *dec,
    struct fmsg *m)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0,
	    m->nfds };
	const struct vx_item *it;
	struct vx_msg msg;
	uint64_t max, v;
	unsigned off, w;

	if (m->len < VX_HDR_SIZE)
		return 0;
	vx_store(m->buf + VX_HDR_OFF_SIZE, 4, m->len, 0);
	if (vx_decode(dec, m->buf, m->len, &ctx, &msg) < 0 ||
	    vx_msg_items(&msg) < 0 || (it = pick_field(r, &msg)) == NULL)
		return 0;
	off = it->off;
	w = it->len;
	max = w == 8 ? UINT64_MAX : ((uint64_t)1 << (w * 8)) - 1;
	if (it->field == VXF_ARGSZ && chance(r, 50))
		v = m->len - VX_HDR_SIZE + (chance(r, 50) ? 1 : (uint64_t)-1);
	else
		v = boundary(r, d, it, max);
	vx_store(m->buf + off, w, v & max, 0);
	return 0;
}

static int
resize(struct fmsg *m, size_t len, struct rng *r)
{
	uint8_t *p;
	size_t i;

	if (len > FZ_MSG_MAX)
		len = FZ_MSG_MAX;
	if ((p = realloc(m->buf, len ? len : 1)) == NULL)
		return VX_ERR_NOMEM;
	for (i = m->len; i < len; i++)
		p[i] = (uint8_t)rng_next(r);
	m->buf = p;
	m->len = len;
	return 0;
}

static void
mutate_fds(struct rng *r, struct fmsg *m)
{
	switch (rng_below(r, 3)) {
	case 0:			/* one too few */
		if (m->nfds > 0)
			m->nfds--;
		break;
	case 1:			/* one more */
		if (m->nfds < FZ_MAX_FDS)
			m->fdk[m->nfds++] = 1 + (uint8_t)rng_below(r, 2);
		break;
	default:		/* the wrong kind */
		if (m->nfds > 0)
			m->fdk[0] = m->fdk[0] == FZ_FD_MEMFD ? FZ_FD_EVENTFD :
			    FZ_FD_MEMFD;
	}
}

/* Mutation operators, each with its weight in 20. */
enum { OP_TRUNCATE, OP_GROW, OP_FDS, OP_DELIVERY, OP_HDR_FLAGS, OP_FLIP,
    OP_FIELD, NOPS };
static const uint8_t op_weight[NOPS] = { 2, 2, 2, 2, 2, 1, 9 };

static unsigned
pick_op(struct rng *r)
{
	unsigned w = (unsigned)rng_below(r, 20), op;

	for (op = 0; op < NOPS - 1 && w >= op_weight[op]; op++)
		w -= op_weight[op];
	return op;
}

int
fz_mutate(struct rng *r, const struct fdev *d, struct vx_decoder *dec,
    struct fmsg *m)
{
	/* mostly one mutation: a message near a valid one gets past the
	 * server's first checks to the deeper ones */
	unsigned n = chance(r, 60) ? 1 : 2 + (unsigned)rng_below(r, 2), i;
	uint32_t flags;
	int err = 0;

	if (m->orig == NULL && (m->orig = malloc(m->len)) != NULL) {
		memcpy(m->orig, m->buf, m->len);
		m->olen = m->len;
	}
	for (i = 0; i < n && err == 0; i++) {
		switch (pick_op(r)) {
		case OP_TRUNCATE:
			if (m->len > VX_HDR_SIZE)
				err = resize(m, VX_HDR_SIZE +
				    rng_below(r, m->len - VX_HDR_SIZE), r);
			break;
		case OP_GROW:
			err = resize(m, m->len + 1 + rng_below(r,
			    chance(r, 80) ? 16 : 4096), r);
			break;
		case OP_FDS:
			mutate_fds(r, m);
			break;
		case OP_DELIVERY:
			m->how = 1 + (uint8_t)rng_below(r, 2);
			break;
		case OP_HDR_FLAGS:	/* no_reply, reserved bits */
			flags = (uint32_t)vx_load(m->buf + VX_HDR_OFF_FLAGS,
			    4, 0);
			flags ^= chance(r, 70) ? VX_F_NO_REPLY :
			    1u << rng_below(r, 32);
			vx_store(m->buf + VX_HDR_OFF_FLAGS, 4, flags, 0);
			break;
		case OP_FLIP:
			if (m->len > VX_HDR_SIZE)
				m->buf[VX_HDR_SIZE + rng_below(r,
				    m->len - VX_HDR_SIZE)] ^=
				    (uint8_t)(1u << rng_below(r, 8));
			break;
		default:
			err = mutate_field(r, d, dec, m);
		}
	}
	return err;
}
