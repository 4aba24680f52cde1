/*
 * tstate.c - STATE records for rotated and exported traces (tstate.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tstate.h"
#include "vx-error.h"
#include "vx-session.h"

struct tconn {
	uint32_t id, endpoint;
	struct vx_session *seen;	/* after the input's records */
	struct vx_session *out;		/* after the output's (mirror) */
	int fed_out;			/* the record being seen was written */
	int diverged;			/* the output left a record out */
};

struct tstate {
	int peer, mirror;
	struct vx_decoder dec;
	struct tconn *c;
	size_t n, cap;
};

struct tstate *
tstate_new(int peer, int mirror)
{
	struct tstate *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->peer = peer;
	t->mirror = mirror;
	vx_decoder_init(&t->dec);
	t->dec.lazy = 1;
	return t;
}

static void
drop(struct tstate *t, size_t i)
{
	vx_session_free(t->c[i].seen);
	vx_session_free(t->c[i].out);
	t->c[i] = t->c[--t->n];
}

void
tstate_free(struct tstate *t)
{
	if (t == NULL)
		return;
	while (t->n > 0)
		drop(t, 0);
	free(t->c);
	vx_decoder_release(&t->dec);
	free(t);
}

static struct tconn *
conn_of(struct tstate *t, uint32_t id)
{
	struct tconn *c;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->c[i].id == id)
			return &t->c[i];
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;

		if ((c = realloc(t->c, ncap * sizeof(*c))) == NULL)
			return NULL;
		t->c = c;
		t->cap = ncap;
	}
	c = &t->c[t->n];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->seen = vx_session_new(t->peer);
	c->out = t->mirror ? vx_session_new(t->peer) : NULL;
	if (c->seen == NULL || (t->mirror && c->out == NULL)) {
		vx_session_free(c->seen);
		vx_session_free(c->out);
		return NULL;
	}
	t->n++;
	return c;
}

/* What a record does to a session: the walker's rules (walk.c). */
static int
feed(struct tstate *t, struct vx_session *s, const struct vx_trace_rec *rec)
{
	struct vx_session_result res;
	struct vx_dctx ctx = { 0 };
	struct vx_msg m;
	char why[160];

	switch (rec->kind) {
	case VX_TR_OPEN:
		vx_session_begin(s);
		return 0;
	case VX_TR_STATE:
		/* an unusable one leaves the session knowing nothing */
		vx_session_load(s, (const char *)rec->data, rec->len, why,
		    sizeof(why));
		return 0;
	case VX_TR_MESSAGE:
		ctx.dir = rec->dir;
		ctx.chan = rec->chan;
		ctx.peer = (uint8_t)vx_session_peer(s, rec->dir);
		ctx.big_endian = (rec->flags & VX_TRF_BE) != 0;
		ctx.nfds = (int)rec->nfds;
		if (vx_decode(&t->dec, rec->data, rec->len, &ctx, &m) < 0 ||
		    vx_session_feed(s, &m, rec->frame, rec->ts_ns, &res) < 0)
			return VX_ERR_NOMEM;
	}
	return 0;
}

static int
tracked(const struct vx_trace_rec *rec)
{
	return rec->kind == VX_TR_MESSAGE || rec->kind == VX_TR_OPEN ||
	    rec->kind == VX_TR_STATE || rec->kind == VX_TR_CLOSE;
}

int
tstate_seen(struct tstate *t, const struct vx_trace_rec *rec)
{
	struct tconn *c;
	size_t i;
	int rc;

	if (!tracked(rec))
		return 0;
	if (rec->kind == VX_TR_CLOSE) {
		for (i = 0; i < t->n; i++)
			if (t->c[i].id == rec->conn)
				drop(t, i);
		return 0;
	}
	if ((c = conn_of(t, rec->conn)) == NULL)
		return VX_ERR_NOMEM;
	c->endpoint = rec->endpoint;
	if (!c->fed_out)
		c->diverged = 1;
	c->fed_out = 0;
	rc = feed(t, c->seen, rec);
	return rc;
}

int
tstate_written(struct tstate *t, const struct vx_trace_rec *rec)
{
	struct tconn *c;

	if (!t->mirror || !tracked(rec) || rec->kind == VX_TR_CLOSE)
		return 0;
	if ((c = conn_of(t, rec->conn)) == NULL)
		return VX_ERR_NOMEM;
	c->fed_out = 1;
	return feed(t, c->out, rec);
}

static int
write_state(struct vx_trace_writer *w, const struct tconn *c,
    const char *text, uint64_t ts_ns)
{
	struct vx_trace_rec ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VX_TR_STATE;
	ev.ts_ns = ts_ns;
	ev.conn = c->id;
	ev.endpoint = c->endpoint;
	ev.data = (const uint8_t *)text;
	ev.len = strlen(text);
	return vx_trace_write_event(w, &ev);
}

int
tstate_sync(struct tstate *t, struct vx_trace_writer *w,
    const struct vx_trace_rec *rec)
{
	struct tconn *c;
	char *want, *have;
	char why[160];
	int rc = 0;

	if (!t->mirror || rec->kind != VX_TR_MESSAGE)
		return 0;
	if ((c = conn_of(t, rec->conn)) == NULL)
		return VX_ERR_NOMEM;
	if (!c->diverged)
		return 0;
	c->diverged = 0;
	want = vx_session_save(c->seen);
	have = vx_session_save(c->out);
	if (want == NULL || have == NULL)
		rc = VX_ERR_NOMEM;
	else if (strcmp(want, have) != 0 &&
	    (rc = write_state(w, c, want, rec->ts_ns)) == 0)
		rc = vx_session_load(c->out, want, strlen(want), why,
		    sizeof(why));
	free(want);
	free(have);
	return rc;
}

int
tstate_write_all(struct tstate *t, struct vx_trace_writer *w, uint64_t ts_ns)
{
	char *text;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->n && rc == 0; i++) {
		if ((text = vx_session_save(t->c[i].seen)) == NULL)
			return VX_ERR_NOMEM;
		rc = write_state(w, &t->c[i], text, ts_ns);
		free(text);
	}
	return rc;
}
