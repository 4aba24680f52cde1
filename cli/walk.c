/*
 * walk.c - trace → decoded messages with per-connection sessions.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx-error.h"
#include "walk.h"

volatile int walk_stop;

struct conn {
	uint32_t id;
	struct vx_session *s;
};

struct walker {
	struct conn *conns;
	size_t n, cap;
};

static struct vx_session *
session_for(struct walker *w, uint32_t id, int peer)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->conns[i].id == id)
			return w->conns[i].s;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 8;
		struct conn *nc = realloc(w->conns, ncap * sizeof(*nc));

		if (nc == NULL)
			return NULL;
		w->conns = nc;
		w->cap = ncap;
	}
	w->conns[w->n].id = id;
	w->conns[w->n].s = vx_session_new(peer);
	if (w->conns[w->n].s == NULL)
		return NULL;
	return w->conns[w->n++].s;
}

/*
 * End a connection's session and report what it left unanswered: with its
 * CLOSE record, or (rec NULL) at the end of the trace.
 */
static int
end_conn(struct walker *w, size_t i, const struct vx_trace_rec *rec,
    walk_fn fn, void *arg)
{
	struct vx_finding pend[16];
	struct walk_item it = { rec, NULL, NULL, pend, 0, NULL };
	unsigned n = vx_session_finish(w->conns[i].s, pend, 16);
	int r = 0;

	/* Only the capture ended: the replies may well have come after. */
	if (rec != NULL && (rec->flags & VX_TRF_CAPTURE_END))
		n = 0;
	it.nunanswered = n < 16 ? n : 16;
	if (fn != NULL && (rec != NULL || n > 0))
		r = fn(arg, &it);
	vx_session_free(w->conns[i].s);
	w->conns[i] = w->conns[--w->n];
	return r;
}

/* Seed a session from a STATE record; text says what it holds or why not. */
static void
load_state(struct vx_session *s, const struct vx_trace_rec *rec, char *text,
    size_t cap)
{
	char why[160];

	if (vx_session_load(s, (const char *)rec->data, rec->len, why,
	    sizeof(why)) < 0)
		snprintf(text, cap, "unusable: %s", why);
	else
		vx_session_describe(s, text, cap);
}

static void
nap(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

int
walk_trace(const struct walk_opts *o, walk_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct vx_trace_ropts ro = { o->follow ? VX_TRACE_FOLLOW : 0, NULL, 0 };
	struct vx_trace_reader *r = NULL;
	struct walker w = { NULL, 0, 0 };
	struct vx_decoder d;
	struct vx_trace_rec rec;
	int ret, stop = 0;
	size_t i;

	err[0] = '\0';
	ret = vx_trace_reader_open(o->path, &ro, &r);
	/* --follow on a file the writer has not started yet: wait for it */
	while (ret == VX_ERR_TRUNCATED && o->follow && !walk_stop &&
	    strcmp(o->path, "-") != 0) {
		vx_trace_reader_close(r);
		r = NULL;
		nap();
		ret = vx_trace_reader_open(o->path, &ro, &r);
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s", r ? vx_trace_reader_error(r, NULL) :
		    vx_strerror(ret));
		vx_trace_reader_close(r);
		return ret;
	}
	vx_decoder_init(&d);
	d.lazy = o->lazy;
	while (!stop) {
		struct vx_dctx ctx = { 0 };
		struct vx_session_result res;
		struct vx_session *s;
		struct vx_msg m;
		struct walk_item it = { &rec, NULL, NULL, NULL, 0, NULL };
		char state[256];

		ret = vx_trace_next(r, &rec);
		if (ret == VX_ERR_AGAIN && o->follow && !walk_stop) {
			fflush(stdout);
			nap();
			continue;
		}
		if (ret <= 0 || walk_stop)
			break;
		if (rec.kind == VX_TR_CLOSE) {
			for (i = 0; i < w.n && w.conns[i].id != rec.conn; i++)
				;
			if (i < w.n) {
				stop = end_conn(&w, i, &rec, fn, arg) < 0;
				continue;
			}
		}
		if (rec.kind != VX_TR_MESSAGE && rec.kind != VX_TR_OPEN &&
		    rec.kind != VX_TR_STATE) {
			stop = fn(arg, &it) < 0;
			continue;
		}
		if ((s = session_for(&w, rec.conn, o->peer)) == NULL) {
			ret = VX_ERR_NOMEM;
			break;
		}
		if (rec.kind != VX_TR_MESSAGE) {
			if (rec.kind == VX_TR_OPEN)
				vx_session_begin(s);
			else
				load_state(s, &rec, state, sizeof(state));
			it.state = rec.kind == VX_TR_STATE ? state : NULL;
			stop = fn(arg, &it) < 0;
			continue;
		}
		ctx.dir = rec.dir;
		ctx.chan = rec.chan;
		ctx.peer = (uint8_t)vx_session_peer(s, rec.dir);
		ctx.big_endian = (uint8_t)(o->big_endian ||
		    (rec.flags & VX_TRF_BE) != 0);
		ctx.nfds = (int)rec.nfds;
		if (vx_decode(&d, rec.data, rec.len, &ctx, &m) < 0 ||
		    vx_session_feed(s, &m, rec.frame, rec.ts_ns, &res) < 0) {
			ret = VX_ERR_NOMEM;
			break;
		}
		it.msg = &m;
		it.res = &res;
		stop = fn(arg, &it) < 0;
	}
	if (ret < 0 && ret != VX_ERR_AGAIN)
		snprintf(err, errlen, "%s", vx_trace_reader_error(r, NULL));
	else
		ret = 0;
	/* connections still open at the end: their unanswered commands */
	while (w.n > 0 && !stop)
		stop = end_conn(&w, 0, NULL, fn, arg) < 0;
	while (w.n > 0)
		end_conn(&w, 0, NULL, NULL, NULL);
	free(w.conns);
	vx_decoder_release(&d);
	vx_trace_reader_close(r);
	return ret;
}
