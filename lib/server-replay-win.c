/*
 * server-replay-win.c - the trace as vfuctl server --replay reads it: a
 * scan that checks and sums it up, then a window over one connection that
 * slides as the client plays (contract and policy in server-replay-win.h).
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-replay-win.h"
#include "vx-array.h"
#include "vx-error.h"
#include "vx-framer.h"

static const struct vx_walk_opts walk_opts = { VX_WALK_LAZY, VX_PEER_AUTO };

static int
fail(char *err, size_t errcap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errcap, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
	return code;
}

const char *
sr_cmd_text(unsigned cmd, char *buf, size_t cap)
{
	const char *n = vx_cmd_name(cmd);

	if (n != NULL)
		return n;
	snprintf(buf, cap, "command %u", cmd);
	return buf;
}

/* Which entry a message is (enum sr_kind), or -1 for none: a client
 * command on the twin socket, which carries server commands only. */
static int
msg_kind(const struct vx_trace_rec *rec, const struct vx_msg *m)
{
	int reply = vx_msg_is_reply(m);

	if (rec->dir == VX_C2S)
		return reply ? SR_SREPLY : rec->chan == VX_CHAN_MAIN ? SR_REQ :
		    -1;
	return reply ? SR_REPLY : SR_SCMD;
}

/* --- the scan ----------------------------------------------------------- */

struct scan {
	struct sr_conn *c;
	size_t n, cap;
	char *err;
	size_t errcap;
};

static struct sr_conn *
conn_for(struct scan *sc, uint32_t id)
{
	struct sr_conn *nc;
	size_t i;

	for (i = sc->n; i-- > 0;)
		if (sc->c[i].conn == id)
			return &sc->c[i];
	nc = vx_array_room(sc->c, sc->n, &sc->cap, sizeof(*nc), 4);
	if (nc == NULL)
		return NULL;
	sc->c = nc;
	nc = &sc->c[sc->n++];
	memset(nc, 0, sizeof(*nc));
	nc->conn = id;
	nc->max_fds = VX_DEF_MAX_MSG_FDS;
	nc->max_msg = VX_MSG_FOR_XFER(VX_DEF_MAX_XFER);
	return nc;
}

/* What the recorded server offered in VERSION bounds what we accept. */
static void
note_limits(struct sr_conn *c, const struct vx_msg *m)
{
	if (m->caps == NULL)
		return;
	c->max_fds = m->caps->max_msg_fds > VX_MAX_FDS ? VX_MAX_FDS :
	    (uint32_t)m->caps->max_msg_fds;
	c->max_msg = m->caps->max_data_xfer_size > VX_QEMU_MAX_XFER ?
	    VX_MSG_FOR_XFER(VX_QEMU_MAX_XFER) :
	    VX_MSG_FOR_XFER((uint32_t)m->caps->max_data_xfer_size);
}

/* Why a message cannot be served, or 0. */
static int
refuse_message(struct scan *sc, const struct sr_conn *c,
    const struct vx_trace_rec *rec, const struct vx_msg *m)
{
	int reply = vx_msg_is_reply(m);
	char cb[32];

	if (rec->truncated)
		return fail(sc->err, sc->errcap, VX_ERR_UNSUPPORTED, "frame %"
		    PRIu64 ": the message was cut to %zu of its %zu bytes "
		    "when recorded (snap length): it cannot be served",
		    rec->frame, rec->len, rec->orig_len);
	if (rec->flags & VX_TRF_BE)
		return fail(sc->err, sc->errcap, VX_ERR_UNSUPPORTED, "frame %"
		    PRIu64 ": a big-endian message: serving it to a client "
		    "on this host is not supported", rec->frame);
	if (!c->begun && (rec->dir != VX_C2S || reply ||
	    m->cmd != VX_CMD_VERSION))
		return fail(sc->err, sc->errcap, VX_ERR_UNSUPPORTED, "frame %"
		    PRIu64 ": connection %" PRIu32 " starts mid-session (its "
		    "first message is %s %s, not the client's VERSION): "
		    "serving it needs the connection from its start (a "
		    "rotated trace's earlier file)", rec->frame, rec->conn,
		    sr_cmd_text(m->cmd, cb, sizeof(cb)),
		    reply ? "reply" : "command");
	return 0;
}

static int
scan_message(struct scan *sc, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	struct sr_conn *c = conn_for(sc, rec->conn);
	int kind, rc;

	if (c == NULL)
		return fail(sc->err, sc->errcap, VX_ERR_NOMEM, "out of memory");
	if (rec->len < VX_HDR_SIZE)
		return 0;	/* no header: nothing to send or match */
	if ((rc = refuse_message(sc, c, rec, m)) < 0)
		return rc;
	c->begun = 1;
	if ((kind = msg_kind(rec, m)) < 0)
		return 0;
	if (rec->dir == VX_S2C && rec->len > c->out_msg)
		c->out_msg = (uint32_t)rec->len;
	if (rec->dir == VX_S2C && rec->nfds > c->out_fds)
		c->out_fds = rec->nfds > 255 ? 255 : rec->nfds;
	if (rec->dir == VX_C2S && rec->len > c->in_msg)
		c->in_msg = (uint32_t)rec->len;
	if (kind == SR_REQ) {
		c->nreq++;
		if (m->cmd != VX_CMD_VERSION)	/* known once VERSION is */
			c->client_peer = m->peer;
	}
	if (kind == SR_REPLY && m->cmd == VX_CMD_VERSION)
		note_limits(c, m);
	return 0;
}

static int
scan_item(struct scan *sc, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;

	if (rec == NULL)
		return 0;
	switch (rec->kind) {
	case VX_TR_MESSAGE:
		return it->msg != NULL ? scan_message(sc, it) : 0;
	case VX_TR_OPEN:
	case VX_TR_IRQ:
		return conn_for(sc, rec->conn) == NULL ?
		    fail(sc->err, sc->errcap, VX_ERR_NOMEM, "out of memory") :
		    0;
	case VX_TR_GAP:
		return fail(sc->err, sc->errcap, VX_ERR_UNSUPPORTED, "frame %"
		    PRIu64 ": %" PRIu64 " messages were not recorded here (a "
		    "gap): the trace cannot be served", rec->frame,
		    rec->count);
	default:
		return 0;
	}
}

/* Connections without a request serve nobody: drop them. */
static void
drop_empty(struct scan *sc)
{
	size_t i, kept = 0;

	for (i = 0; i < sc->n; i++)
		if (sc->c[i].nreq > 0)
			sc->c[kept++] = sc->c[i];
	sc->n = kept;
}

int
sr_scan(const char *path, struct sr_conn **conns, size_t *n, char *err,
    size_t errcap)
{
	struct scan sc = { NULL, 0, 0, err, errcap };
	struct vx_walk_item it;
	struct vx_walk *w;
	struct stat st;
	int rc;

	*conns = NULL;
	*n = 0;
	if (strcmp(path, "-") == 0)
		return fail(err, errcap, VX_ERR_INVALID, "a replay reads the "
		    "trace twice (first to check it, then as it plays): give "
		    "a file, not standard input");
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(err, errcap, VX_ERR_INVALID, "not a regular file: "
		    "a replay reads the trace twice (first to check it, then "
		    "as it plays)");
	if ((rc = vx_walk_open(path, &walk_opts, &w)) < 0) {
		fail(err, errcap, rc, "%s", w != NULL ? vx_walk_error(w) :
		    "out of memory");
		vx_walk_close(w);
		return rc;
	}
	while ((rc = vx_walk_next(w, &it)) > 0)
		if ((rc = scan_item(&sc, &it)) < 0)
			break;
	if (rc < 0 && err[0] == '\0')
		fail(err, errcap, rc, "%s", vx_walk_error(w));
	vx_walk_close(w);
	drop_empty(&sc);
	if (rc == 0 && sc.n == 0)
		rc = fail(err, errcap, VX_ERR_INVALID, "no connection in the "
		    "trace sent a request: nothing to serve");
	if (rc < 0) {
		free(sc.c);
		return rc;
	}
	*conns = sc.c;
	*n = sc.n;
	return 0;
}

/* --- the window: entries ------------------------------------------------ */

/* Room for entry hi: the ring doubles when full (seqs keep their
 * entries, at their new places). */
static struct sr_ent *
push(struct sr_win *w)
{
	struct sr_ent *e;

	if (w->hi - w->lo == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		struct sr_ent *nr = malloc(ncap * sizeof(*nr));
		uint64_t s;

		if (nr == NULL)
			return NULL;
		for (s = w->lo; s < w->hi; s++)
			nr[s & (ncap - 1)] = w->ring[s & (w->cap - 1)];
		free(w->ring);
		w->ring = nr;
		w->cap = ncap;
	}
	e = &w->ring[w->hi & (w->cap - 1)];
	memset(e, 0, sizeof(*e));
	e->pair = SR_NONE;
	return e;
}

static void
ent_free(struct sr_ent *e)
{
	free(e->bytes);
	free(e->fds);
	e->bytes = NULL;
	e->fds = NULL;
}

/* Keep a message's bytes and descriptor kinds with its entry. */
static int
keep_message(struct sr_ent *e, const struct vx_trace_rec *rec)
{
	unsigned i;

	if ((e->bytes = malloc(rec->len)) == NULL)
		return VX_ERR_NOMEM;
	memcpy(e->bytes, rec->data, rec->len);
	e->len = (uint32_t)rec->len;
	e->nfds = (uint8_t)(rec->nfds > 255 ? 255 : rec->nfds);
	if (e->nfds == 0)
		return 0;
	if ((e->fds = calloc(e->nfds, sizeof(*e->fds))) == NULL)
		return VX_ERR_NOMEM;
	for (i = 0; i < e->nfds; i++) {
		e->fds[i].kind = (uint8_t)rec->fds[i].kind;
		e->fds[i].seals = rec->fds[i].seals;
		e->fds[i].size = rec->fds[i].size > 0 ?
		    (uint64_t)rec->fds[i].size : 0;
	}
	return 0;
}

/* The entry of frame in the window (entries are in frame order), or
 * SR_NONE. */
static uint64_t
find_frame(const struct sr_win *w, uint64_t frame)
{
	uint64_t lo = w->lo, hi = w->hi;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (sr_win_at(w, mid)->frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->hi && sr_win_at(w, lo)->frame == frame ? lo : SR_NONE;
}

/* A reply (or the client's reply to our command) joins its command. */
static void
link_reply(struct sr_win *w, struct sr_ent *e, uint64_t seq,
    const struct vx_session_result *res)
{
	struct sr_ent *q;
	uint64_t qs;

	if (!res->paired || (qs = find_frame(w, res->req_frame)) == SR_NONE)
		return;
	q = sr_win_at(w, qs);
	if (q->pair != SR_NONE ||
	    q->kind != (e->kind == SR_REPLY ? SR_REQ : SR_SCMD))
		return;
	q->pair = seq;
	e->pair = qs;
}

static struct sr_last *
last_slot(struct sr_win *w, uint16_t cmd)
{
	return &w->last[cmd < SR_NCMDS ? cmd : SR_NCMDS];
}

static int
add_message(struct sr_win *w, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	int kind = msg_kind(rec, m);
	struct sr_last *l;
	struct sr_ent *e;

	if (rec->len < VX_HDR_SIZE || kind < 0)
		return 0;
	if ((e = push(w)) == NULL || keep_message(e, rec) < 0) {
		if (e != NULL)
			ent_free(e);
		return fail(w->errmsg, sizeof(w->errmsg), VX_ERR_NOMEM,
		    "out of memory");
	}
	e->frame = rec->frame;
	e->kind = (uint8_t)kind;
	e->chan = rec->chan;
	e->cmd = m->cmd;
	e->peer = m->peer;
	w->bytes += e->len;
	if (kind == SR_REQ) {
		e->rpos = w->nread++;
		e->noreply = (m->flags & VX_F_NO_REPLY) != 0;
		l = last_slot(w, m->cmd);
		if (l->cmd != m->cmd)	/* the shared slot: another command */
			l->nread = l->have = 0;
		l->cmd = m->cmd;
		l->nread++;
	} else if (kind == SR_REPLY || kind == SR_SREPLY) {
		link_reply(w, e, w->hi, it->res);
	}
	w->hi++;
	return 0;
}

static int
add_irq(struct sr_win *w, const struct vx_trace_rec *rec)
{
	struct sr_ent *e = push(w);

	if (e == NULL)
		return fail(w->errmsg, sizeof(w->errmsg), VX_ERR_NOMEM,
		    "out of memory");
	e->frame = rec->frame;
	e->kind = SR_IRQ;
	e->chan = rec->chan;
	e->cmd = (uint16_t)rec->irq_index;
	e->len = rec->irq_vector;
	e->count = rec->count;
	w->hi++;
	return 0;
}

/* Read the connection's next record into the window: 1, 0 at its end,
 * or a VX_ERR_* code. */
static int
read_one(struct sr_win *w)
{
	struct vx_walk_item it;
	int rc;

	while (!w->ended) {
		if ((rc = vx_walk_next(w->walk, &it)) <= 0) {
			w->ended = 1;
			if (rc < 0)
				return fail(w->errmsg, sizeof(w->errmsg), rc,
				    "%s", vx_walk_error(w->walk));
			break;
		}
		if (it.rec == NULL || it.rec->conn != w->conn)
			continue;
		switch (it.rec->kind) {
		case VX_TR_MESSAGE:
			if (it.msg == NULL)
				continue;
			return (rc = add_message(w, &it)) < 0 ? rc : 1;
		case VX_TR_IRQ:
			return (rc = add_irq(w, it.rec)) < 0 ? rc : 1;
		case VX_TR_CLOSE:
			w->ended = 1;
			break;
		default:
			continue;
		}
	}
	return 0;
}

/* --- the window: sliding ------------------------------------------------ */

/* Whether request e's span and reply have been read (see the policy). */
static int
whole(const struct sr_win *w, const struct sr_ent *e)
{
	if (w->ended)
		return 1;
	return e->rpos + 1 < w->nread && (e->pair != SR_NONE || e->noreply ||
	    w->nread > e->rpos + w->k);
}

int
sr_win_candidate(const struct sr_win *w, uint64_t seq)
{
	const struct sr_ent *e = sr_win_at(w, seq);

	return e != NULL && e->kind == SR_REQ && !e->used &&
	    e->rpos + w->k >= w->furthest && e->rpos < w->furthest + w->k &&
	    whole(w, e);
}

/* Keep request e's reply as its command's last, for sr_win_last(). */
static int
keep_last(struct sr_win *w, const struct sr_ent *e)
{
	struct sr_last *l = last_slot(w, e->cmd);
	const struct sr_ent *rep = e->pair != SR_NONE ?
	    sr_win_at(w, e->pair) : NULL;

	l->have = 1;
	l->frame = e->frame;
	l->noreply = rep == NULL;
	if (rep == NULL)
		return 0;
	if (rep->len > l->cap) {
		uint8_t *nb = realloc(l->reply.bytes, rep->len);

		if (nb == NULL)
			return VX_ERR_NOMEM;
		l->reply.bytes = nb;
		l->cap = rep->len;
	}
	free(l->reply.fds);
	l->reply.fds = NULL;
	if (rep->nfds > 0 &&
	    (l->reply.fds = malloc(rep->nfds * sizeof(*rep->fds))) == NULL)
		return VX_ERR_NOMEM;
	memcpy(l->reply.bytes, rep->bytes, rep->len);
	if (rep->nfds > 0)
		memcpy(l->reply.fds, rep->fds, rep->nfds * sizeof(*rep->fds));
	l->reply.frame = rep->frame;
	l->reply.len = rep->len;
	l->reply.nfds = rep->nfds;
	l->reply.cmd = rep->cmd;
	l->reply.kind = rep->kind;
	l->reply.chan = rep->chan;
	l->reply.peer = rep->peer;
	return 0;
}

/* The front request's span may go: nothing in it awaits a reply. */
static int
span_free(const struct sr_win *w)
{
	uint64_t s;

	for (s = w->lo; s < w->hi; s++) {
		const struct sr_ent *e = sr_win_at(w, s);

		if (s > w->lo && e->kind == SR_REQ)
			break;
		if (e->kind == SR_SCMD && e->used)
			return 0;
	}
	return 1;
}

/* Whether the front request may go: played (only its reply may be
 * wanted again: sr_win_last keeps that), or fallen behind. */
static int
behind(const struct sr_win *w, const struct sr_ent *e)
{
	if (e->used || e->rpos + w->k < w->furthest)
		return 1;
	return w->bytes > w->max_bytes && e->rpos < w->furthest;
}

static void
drop_front(struct sr_win *w)
{
	struct sr_ent *e = sr_win_at(w, w->lo);

	if (e->bytes != NULL)	/* an IRQ's len is its vector */
		w->bytes -= e->len;
	ent_free(e);
	w->lo++;
}

/* Drop the spans that fell behind, and what precedes the first request. */
static int
drop_behind(struct sr_win *w)
{
	struct sr_ent *e;

	while ((e = sr_win_at(w, w->lo)) != NULL) {
		if (e->kind != SR_REQ) {
			if (e->kind == SR_SCMD && e->used)
				break;	/* its reply is awaited */
			drop_front(w);
			continue;
		}
		if (!behind(w, e) || !span_free(w))
			break;
		if (!e->used && w->skipped++ == 0) {
			w->skip_frame = e->frame;
			w->skip_cmd = e->cmd;
		}
		if (keep_last(w, e) < 0)
			return fail(w->errmsg, sizeof(w->errmsg), VX_ERR_NOMEM,
			    "out of memory");
		drop_front(w);
	}
	if (w->first < w->lo)
		w->first = w->lo;
	return 0;
}

/* Whether to read further ahead (see the policy). */
static int
want_more(const struct sr_win *w)
{
	if (w->ended || w->nread > w->furthest + w->k)
		return 0;
	return w->bytes < w->max_bytes || w->nread < w->furthest + 2;
}

/* Past the played requests and what is not a request. */
static void
advance_first(struct sr_win *w)
{
	const struct sr_ent *e;

	while ((e = sr_win_at(w, w->first)) != NULL &&
	    (e->kind != SR_REQ || e->used))
		w->first++;
}

int
sr_win_fill(struct sr_win *w)
{
	int rc;

	if ((rc = drop_behind(w)) < 0)
		return rc;
	while (want_more(w))
		if ((rc = read_one(w)) < 0)
			return rc;
	advance_first(w);
	return 0;
}

void
sr_win_play(struct sr_win *w, uint64_t seq)
{
	struct sr_ent *e = sr_win_at(w, seq);

	e->used = 1;
	w->played++;
	if (e->rpos + 1 > w->furthest)
		w->furthest = e->rpos + 1;
	advance_first(w);
}

int
sr_win_last(const struct sr_win *w, uint16_t cmd, uint64_t *frame,
    const struct sr_ent **reply)
{
	const struct sr_last *l = &w->last[cmd < SR_NCMDS ? cmd : SR_NCMDS];
	uint64_t s;

	for (s = w->hi; s-- > w->lo;) {
		const struct sr_ent *e = sr_win_at(w, s);

		if (e->kind != SR_REQ || e->cmd != cmd ||
		    e->rpos >= w->furthest)
			continue;
		*frame = e->frame;
		*reply = e->pair != SR_NONE ? sr_win_at(w, e->pair) : NULL;
		return 1;
	}
	if (!l->have || l->cmd != cmd)
		return 0;
	*frame = l->frame;
	*reply = l->noreply ? NULL : &l->reply;
	return 1;
}

uint64_t
sr_win_count(const struct sr_win *w, uint16_t cmd)
{
	const struct sr_last *l = &w->last[cmd < SR_NCMDS ? cmd : SR_NCMDS];

	return l->cmd == cmd ? l->nread : 0;
}

int
sr_win_unplayed(struct sr_win *w, uint64_t *frame, uint16_t *cmd)
{
	const struct sr_ent *e;
	uint64_t s;
	int rc;

	if (w->skipped > 0) {
		*frame = w->skip_frame;
		*cmd = w->skip_cmd;
		return 1;
	}
	for (s = w->first;; s++) {
		while (s >= w->hi)
			if ((rc = read_one(w)) <= 0)
				return rc;
		e = sr_win_at(w, s);
		if (e->kind == SR_REQ && !e->used) {
			*frame = e->frame;
			*cmd = e->cmd;
			return 1;
		}
	}
}

/* --- the window: opening and closing ------------------------------------ */

int
sr_win_open(struct sr_win *w, const char *path, uint32_t conn, unsigned k)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->conn = conn;
	w->k = k;
	w->max_bytes = SR_WIN_BYTES;
	if ((rc = vx_walk_open(path, &walk_opts, &w->walk)) < 0) {
		w->ended = 1;	/* nothing more to read */
		return fail(w->errmsg, sizeof(w->errmsg), rc, "%s",
		    w->walk != NULL ? vx_walk_error(w->walk) :
		    "out of memory");
	}
	return sr_win_fill(w);
}

void
sr_win_close(struct sr_win *w)
{
	unsigned i;

	while (w->lo < w->hi)
		drop_front(w);
	free(w->ring);
	for (i = 0; i <= SR_NCMDS; i++)
		ent_free(&w->last[i].reply);
	vx_walk_close(w->walk);
	memset(w, 0, sizeof(*w));
}
