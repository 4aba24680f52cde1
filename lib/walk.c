/*
 * walk.c - trace → decoded messages with per-connection sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-array.h"
#include "vx-error.h"
#include "vx-walk.h"

#define UNANSWERED_MAX	16

struct conn {
	uint32_t id;
	struct vx_session *s;
};

struct vx_walk {
	char *path;		/* NULL: records are fed (vx_walk_feed) */
	struct vx_walk_opts o;
	struct vx_trace_reader *r;	/* NULL: following, header not yet there */
	struct vx_decoder d;
	struct conn *conns;
	size_t n, cap;
	int ending;		/* no more records: the open connections' turn */
	int err;		/* what ended the reading (returned last) */
	char errmsg[1024];
	/* what the current item points at */
	struct vx_trace_rec rec;
	struct vx_msg m;
	struct vx_session_result res;
	struct vx_finding pend[UNANSWERED_MAX];
	char state[256];
};

/* The index of connection id, or w->n if it has none. */
static size_t
conn_index(const struct vx_walk *w, uint32_t id)
{
	size_t i;

	for (i = 0; i < w->n && w->conns[i].id != id; i++)
		;
	return i;
}

static struct vx_session *
session_for(struct vx_walk *w, uint32_t id)
{
	size_t i = conn_index(w, id);
	struct conn *nc;

	if (i < w->n)
		return w->conns[i].s;
	if ((nc = vx_array_room(w->conns, w->n, &w->cap, sizeof(*nc), 8)) ==
	    NULL)
		return NULL;
	w->conns = nc;
	w->conns[w->n].id = id;
	w->conns[w->n].s = vx_session_new(w->o.peer);
	if (w->conns[w->n].s == NULL)
		return NULL;
	return w->conns[w->n++].s;
}

/*
 * End connection i's session; the item reports what it left unanswered:
 * with its CLOSE record, or (rec NULL) at the end of the trace.
 */
static void
end_conn(struct vx_walk *w, size_t i, const struct vx_trace_rec *rec,
    struct vx_walk_item *it)
{
	unsigned n = vx_session_finish(w->conns[i].s, w->pend, UNANSWERED_MAX);

	/* Only the capture ended: the replies may well have come after. */
	if (rec != NULL && (rec->flags & VX_TRF_CAPTURE_END))
		n = 0;
	memset(it, 0, sizeof(*it));
	it->rec = rec;
	it->unanswered = w->pend;
	it->nunanswered = n < UNANSWERED_MAX ? n : UNANSWERED_MAX;
	vx_session_free(w->conns[i].s);
	w->conns[i] = w->conns[--w->n];
}

/* The end: one item per open connection with commands unanswered. */
static int
next_at_end(struct vx_walk *w, struct vx_walk_item *it)
{
	while (w->n > 0) {
		end_conn(w, 0, NULL, it);
		if (it->nunanswered > 0)
			return 1;
	}
	return w->err;
}

static int
fail(struct vx_walk *w, int err, const char *msg)
{
	w->err = err;
	snprintf(w->errmsg, sizeof(w->errmsg), "%s", msg);
	w->ending = 1;
	return err;
}

static int
open_reader(struct vx_walk *w)
{
	struct vx_trace_ropts ro = { 0, NULL, 0 };
	int r;

	ro.flags = (w->o.flags & VX_WALK_FOLLOW) ? VX_TRACE_FOLLOW : 0;
	r = vx_trace_reader_open(w->path, &ro, &w->r);
	if (r == 0)
		return 0;
	/* following a file the writer has not started yet: wait for it */
	if (r == VX_ERR_TRUNCATED && (w->o.flags & VX_WALK_FOLLOW) &&
	    strcmp(w->path, "-") != 0) {
		vx_trace_reader_close(w->r);
		w->r = NULL;
		return VX_ERR_AGAIN;
	}
	return fail(w, r, w->r ? vx_trace_reader_error(w->r, NULL) :
	    vx_strerror(r));
}

int
vx_walk_open(const char *path, const struct vx_walk_opts *o,
    struct vx_walk **out)
{
	struct vx_walk *w = calloc(1, sizeof(*w));
	int r;

	*out = w;
	if (w == NULL || (w->path = strdup(path)) == NULL)
		return VX_ERR_NOMEM;
	if (o != NULL)
		w->o = *o;
	vx_decoder_init(&w->d);
	w->d.lazy = (w->o.flags & VX_WALK_LAZY) != 0;
	r = open_reader(w);
	return r == VX_ERR_AGAIN ? 0 : r;
}

/* A MESSAGE record: decode it as its connection's peer and track it. */
static int
feed(struct vx_walk *w, struct vx_session *s, struct vx_walk_item *it)
{
	struct vx_dctx ctx = { 0 };

	ctx.dir = w->rec.dir;
	ctx.chan = w->rec.chan;
	ctx.peer = (uint8_t)vx_session_peer(s, w->rec.dir);
	ctx.big_endian = (uint8_t)((w->o.flags & VX_WALK_BE) ||
	    (w->rec.flags & VX_TRF_BE) != 0);
	ctx.nfds = (int)w->rec.nfds;
	if (vx_decode(&w->d, w->rec.data, w->rec.len, &ctx, &w->m) < 0 ||
	    vx_session_feed(s, &w->m, w->rec.frame, w->rec.ts_ns, &w->res) < 0)
		return fail(w, VX_ERR_NOMEM, "out of memory");
	it->msg = &w->m;
	it->res = &w->res;
	return 1;
}

/* Seed a session from a STATE record; state says what it holds or why not. */
static void
load_state(struct vx_walk *w, struct vx_session *s)
{
	char why[160];

	if (vx_session_load(s, (const char *)w->rec.data, w->rec.len, why,
	    sizeof(why)) < 0)
		snprintf(w->state, sizeof(w->state), "unusable: %s", why);
	else
		vx_session_describe(s, w->state, sizeof(w->state));
}

/* The item for the record in w->rec. */
static int
item_for(struct vx_walk *w, struct vx_walk_item *it)
{
	struct vx_trace_rec *rec = &w->rec;
	struct vx_session *s;
	size_t i;

	memset(it, 0, sizeof(*it));
	it->rec = rec;
	if (rec->kind == VX_TR_CLOSE) {
		if ((i = conn_index(w, rec->conn)) < w->n) {
			end_conn(w, i, rec, it);
			return 1;
		}
	}
	if (rec->kind != VX_TR_MESSAGE && rec->kind != VX_TR_OPEN &&
	    rec->kind != VX_TR_STATE)
		return 1;
	if ((s = session_for(w, rec->conn)) == NULL)
		return fail(w, VX_ERR_NOMEM, "out of memory");
	if (rec->kind == VX_TR_OPEN) {
		vx_session_begin(s);
		return 1;
	}
	if (rec->kind == VX_TR_STATE) {
		load_state(w, s);
		it->state = w->state;
		return 1;
	}
	return feed(w, s, it);
}

static int
next_record(struct vx_walk *w, struct vx_walk_item *it)
{
	int r;

	if (w->path == NULL) {	/* fed: no file to read */
		w->ending = 1;
		return 0;
	}
	if (w->r == NULL && (r = open_reader(w)) < 0)
		return r;
	r = vx_trace_next(w->r, &w->rec);
	if (r == VX_ERR_AGAIN && (w->o.flags & VX_WALK_FOLLOW))
		return r;
	if (r < 0)
		return fail(w, r, vx_trace_reader_error(w->r, NULL));
	if (r == 0) {
		w->ending = 1;
		return 0;
	}
	return item_for(w, it);
}

int
vx_walk_new(const struct vx_walk_opts *o, struct vx_walk **out)
{
	struct vx_walk *w = calloc(1, sizeof(*w));

	*out = w;
	if (w == NULL)
		return VX_ERR_NOMEM;
	if (o != NULL)
		w->o = *o;
	vx_decoder_init(&w->d);
	w->d.lazy = (w->o.flags & VX_WALK_LAZY) != 0;
	return 0;
}

int
vx_walk_feed(struct vx_walk *w, const struct vx_trace_rec *rec,
    struct vx_walk_item *it)
{
	if (w->path != NULL || w->ending)
		return VX_ERR_INVALID;
	w->rec = *rec;
	return item_for(w, it);
}

int
vx_walk_next(struct vx_walk *w, struct vx_walk_item *it)
{
	int r;

	if (!w->ending) {
		r = next_record(w, it);
		if (!w->ending)
			return r;	/* a record's item, or VX_ERR_AGAIN */
	}
	return next_at_end(w, it);
}

void
vx_walk_end(struct vx_walk *w)
{
	w->ending = 1;
}

const char *
vx_walk_error(const struct vx_walk *w)
{
	if (w == NULL)
		return vx_strerror(VX_ERR_NOMEM);
	return w->err ? w->errmsg : "";
}

void
vx_walk_close(struct vx_walk *w)
{
	if (w == NULL)
		return;
	while (w->n > 0)
		vx_session_free(w->conns[--w->n].s);
	free(w->conns);
	vx_decoder_release(&w->d);
	vx_trace_reader_close(w->r);
	free(w->path);
	free(w);
}
