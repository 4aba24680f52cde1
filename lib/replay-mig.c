/*
 * replay-mig.c - migration data forwarded as the recorded client did: a
 * client writes to the destination what it read from the source, so a
 * recorded MIG_DATA_WRITE whose data equals what a recorded MIG_DATA_READ
 * reply carried is sent with what the live source returned for that read
 * (replay-int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "replay-int.h"
#include "vx-error.h"

/* Most migration data kept for forwarding; the oldest goes first. */
#define MIG_KEEP_MAX	(64u << 20)

static void
drop_front(struct rmig *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		g->bytes -= g->v[i].rlen + g->v[i].llen;
		free(g->v[i].rec);
		free(g->v[i].live);
	}
	if (n > 0 && n < g->n)	/* none kept yet: g->v may be NULL */
		memmove(g->v, g->v + n, (g->n - n) * sizeof(*g->v));
	g->n -= n;
}

void
rmig_clear(struct rmig *g)
{
	drop_front(g, g->n);
}

void
rmig_free(struct rmig *g)
{
	rmig_clear(g);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static uint8_t *
dup_bytes(const struct vx_item *it)
{
	uint8_t *p = malloc(it->len ? it->len : 1);

	if (p != NULL && it->len)
		memcpy(p, it->ptr, it->len);
	return p;
}

int
rmig_read(struct rmig *g, const struct vx_msg *rec, const struct vx_msg *live)
{
	const struct vx_item *a, *b;
	struct rchunk *c;

	if ((rec->flags | live->flags) & VX_F_ERROR)
		return 0;
	if (vx_msg_items(rec) < 0 || (a = vx_msg_item(rec, VXF_MIGD_DATA)) ==
	    NULL || a->len == 0 || a->len > MIG_KEEP_MAX)
		return 0;
	if (vx_msg_items(live) < 0 || (b = vx_msg_item(live, VXF_MIGD_DATA)) ==
	    NULL || b->len > MIG_KEEP_MAX)
		return 0;
	while (g->n > 0 && g->bytes + a->len + b->len > MIG_KEEP_MAX)
		drop_front(g, 1);
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;

		if ((c = realloc(g->v, cap * sizeof(*c))) == NULL)
			return VX_ERR_NOMEM;
		g->v = c;
		g->cap = cap;
	}
	c = &g->v[g->n];
	c->rlen = a->len;
	c->llen = b->len;
	c->rec = dup_bytes(a);
	c->live = dup_bytes(b);
	if (c->rec == NULL || c->live == NULL) {
		free(c->rec);
		free(c->live);
		return VX_ERR_NOMEM;
	}
	g->bytes += c->rlen + c->llen;
	g->n++;
	return 0;
}

int
rmig_take(struct rmig *g, const uint8_t *data, uint32_t len, uint8_t **live,
    uint32_t *llen)
{
	size_t i;

	/* the oldest read it repeats: a migration stream moves forward,
	 * so reads before it will not be written any more */
	for (i = 0; i < g->n; i++)
		if (g->v[i].rlen == len && memcmp(g->v[i].rec, data, len) == 0)
			break;
	if (i == g->n)
		return 0;
	*live = g->v[i].live;
	*llen = g->v[i].llen;
	g->v[i].live = NULL;
	g->bytes -= g->v[i].llen;
	g->v[i].llen = 0;
	drop_front(g, i + 1);
	return 1;
}
