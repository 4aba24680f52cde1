/*
 * replay.c - the client side of a trace played to a live server
 * (vx-replay.h): the trace walked record by record, one vx_conn per
 * recorded connection, the recorded commands sent with fresh msg_ids and
 * each live reply compared with the recorded one when the walk reaches it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "replay-int.h"
#include "vx-array.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-walk.h"

#define DEFAULT_TIMEOUT_MS	10000
/* Most connections polled at once (a trace's concurrent connections). */
#define MAX_LIVE		64
#define CTX_RING		(VX_REPLAY_CONTEXT + 1)

/* A command sent, until its recorded reply is reached. */
struct pend {
	uint64_t serial;	/* the call's cookie */
	uint64_t frame;		/* the recorded command's */
	uint16_t rec_id, cmd;
	uint8_t chan;
	int done, err;		/* err: VX_ERR_TIMEOUT, _CLOSED, ... */
	int have;		/* fr holds the live reply */
	struct vx_frame fr;
	uint64_t addr, size;	/* DMA_MAP, DMA_UNMAP: the window */
	uint64_t uflags;	/* DMA_UNMAP's flags */
};

/* A recorded connection and its live counterpart. */
struct live {
	uint32_t id;
	struct vx_conn *conn;
	int failed;		/* no more of it is replayed */
	int twin_asked;		/* the recorded VERSION asked for a twin */
	/* server commands (DMA_READ, DMA_WRITE) recorded so far and
	 * received live: the replay goes on past a recorded one only once
	 * the live server has sent it, as the recorded client did */
	uint64_t srv_cmds_rec, srv_cmds_live;
	uint64_t srv_cmd_frame;	/* the last one recorded */
	struct pend *pend;
	size_t npend, pcap;
	struct rfds fds;
	struct vx_replay_conn_summary sum;
	int64_t t0;
	/* the last messages, the one a divergence is about maybe among
	 * them: one more than shown */
	unsigned nctx, ctx_at;
	struct vx_replay_ctxmsg ctx[VX_REPLAY_CONTEXT + 1];
	/* vfuctl fuzz's annotations: the next command goes in two writes,
	 * the first split_at bytes (0: half) alone; or in one write with
	 * the command after it */
	int split_next;
	size_t split_at;
	int join_next;
};

struct vx_replay {
	struct vx_replay_opts o;
	struct vx_replay_hooks h;
	struct vx_walk *w;
	struct vx_diff_rules *own_rules;
	const struct vx_diff_rules *rules;
	struct vx_digest *digest;
	struct rmig mig;	/* MIG_DATA_READs to forward */
	struct live *live[MAX_LIVE];
	unsigned nlive;
	struct vx_decoder dec;	/* live replies */
	struct vx_builder out;	/* our answers to the server's DMA */
	uint8_t *buf;		/* the command being sent */
	size_t bufcap;
	uint64_t serial;
	int stopped, finished, nomem;
	int update_opened;	/* the new trace's first digest is written */
	/* a rotated trace: its first file and the one being walked */
	char *base, *path;
	unsigned file_no;
	struct vx_replay_stats st;
	char err[512];
};

static int
fail(struct vx_replay *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct vx_replay *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return err;
}

/* --- connections --------------------------------------------------------- */

static struct live *
find_live(struct vx_replay *r, uint32_t id)
{
	unsigned i;

	for (i = 0; i < r->nlive; i++)
		if (r->live[i]->id == id)
			return r->live[i];
	return NULL;
}

static void
release_pend(struct pend *p)
{
	if (p->have)
		vx_frame_release(&p->fr);
	p->have = 0;
}

static void
emit(struct vx_replay *r, struct live *l, struct vx_replay_div *d)
{
	struct vx_replay_ctxmsg before[CTX_RING];
	unsigned i, n = 0, skip;

	d->conn = l->id;
	d->trace = r->path;
	/* oldest first, only what came before d's frame */
	for (i = 0; i < l->nctx; i++) {
		const struct vx_replay_ctxmsg *c =
		    &l->ctx[(l->ctx_at + CTX_RING - l->nctx + i) % CTX_RING];

		if (c->frame < d->frame)
			before[n++] = *c;
	}
	skip = n > VX_REPLAY_CONTEXT ? n - VX_REPLAY_CONTEXT : 0;
	d->nctx = n - skip;
	memcpy(d->ctx, before + skip, d->nctx * sizeof(*before));
	r->st.divergences++;
	l->sum.divergences++;
	if (r->h.divergence != NULL)
		r->h.divergence(r->h.arg, d);
	if (!(r->o.flags & VX_REPLAY_KEEP_GOING))
		r->stopped = 1;
}

static void
div_init(struct vx_replay_div *d, int kind, uint64_t frame, uint16_t cmd)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->frame = frame;
	d->cmd = cmd;
}

static const char *
cmd_text(uint16_t cmd)
{
	const char *n = vx_cmd_name(cmd);

	return n != NULL ? n : "unknown command";
}

static void
close_live(struct vx_replay *r, struct live *l)
{
	unsigned i;
	size_t k;

	l->sum.ms = vx_conn_now_ms(NULL) - l->t0;
	if (r->h.conn_done != NULL)
		r->h.conn_done(r->h.arg, &l->sum);
	for (k = 0; k < l->npend; k++)
		release_pend(&l->pend[k]);
	free(l->pend);
	vx_conn_free(l->conn);
	rfds_free(&l->fds);
	for (i = 0; i < r->nlive; i++)
		if (r->live[i] == l) {
			r->live[i] = r->live[--r->nlive];
			break;
		}
	free(l);
}

static int
open_live(struct vx_replay *r, const struct vx_trace_rec *rec,
    struct live **out)
{
	struct vx_limits lim = VX_LIMITS_DEFAULT;
	struct vx_replay_div d;
	struct live *l;
	char why[256] = "";
	int sock;

	if (r->nlive == MAX_LIVE)
		return fail(r, VX_ERR_UNSUPPORTED, "frame %llu: more than %d "
		    "connections open at once", (unsigned long long)rec->frame,
		    MAX_LIVE);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return VX_ERR_NOMEM;
	l->id = rec->conn;
	l->sum.conn = rec->conn;
	l->sum.first_frame = rec->frame;
	l->t0 = vx_conn_now_ms(NULL);
	l->fds.dma_write_reply = VX_VAR_LVU;
	r->live[r->nlive++] = l;
	r->st.conns++;
	if (r->nlive == 1) {
		r->st.sessions++;
		rmig_clear(&r->mig);
	}
	lim.max_msg_size = VX_MAX_MSG_CAP;
	if (r->h.connect_endpoint != NULL)
		sock = r->h.connect_endpoint(r->h.arg, rec->conn, rec->endpoint,
		    r->nlive - 1, why, sizeof(why));
	else
		sock = r->h.connect(r->h.arg, rec->conn, r->nlive - 1, why,
		    sizeof(why));
	if (sock >= 0)
		l->conn = vx_conn_new(sock, VX_CONN_CLIENT, &lim);
	if (sock >= 0 && l->conn == NULL)
		return VX_ERR_NOMEM;
	*out = l;
	if (sock < 0) {
		l->failed = 1;
		div_init(&d, VX_RDIV_CONNECT, rec->frame, 0);
		snprintf(d.text, sizeof(d.text), "no connection to the server "
		    "for connection %u: %.200s", rec->conn, why);
		emit(r, l, &d);
	}
	return 0;
}

/* --- the live side ----------------------------------------------------- */

static struct pend *
pend_by_serial(struct live *l, uint64_t serial)
{
	size_t i;

	for (i = 0; i < l->npend; i++)
		if (l->pend[i].serial == serial)
			return &l->pend[i];
	return NULL;
}

static void
on_event(struct vx_replay *r, struct live *l, struct vx_conn_event *ev)
{
	struct pend *p;
	int n;

	switch (ev->kind) {
	case VX_CONN_EV_CALL:
		p = pend_by_serial(l, (uint64_t)(uintptr_t)ev->cookie);
		if (p == NULL)
			return;
		p->done = 1;
		p->err = ev->err;
		if (ev->err == 0 && ev->frame != NULL) {
			vx_conn_take(l->conn, ev, &p->fr);
			p->have = 1;
		}
		return;
	case VX_CONN_EV_REQUEST:
		l->srv_cmds_live++;
		n = rfds_serve(&l->fds, l->conn, &r->out, ev);
		if (n == VX_ERR_NOMEM)
			r->nomem = 1;
		else if (n > 0)
			r->st.dma_served++;
		return;
	default:
		return;
	}
}

/* Every event every connection has now. */
static int
drain(struct vx_replay *r)
{
	struct vx_conn_event ev;
	unsigned i;
	int n;

	for (i = 0; i < r->nlive; i++) {
		struct live *l = r->live[i];

		if (l->conn == NULL)
			continue;
		while ((n = vx_conn_step(l->conn, &ev)) > 0)
			on_event(r, l, &ev);
		if (n < 0 || r->nomem)
			return VX_ERR_NOMEM;
	}
	return 0;
}

/*
 * Poll every live connection, and extra_fd (-1: none) for input, until
 * done(arg) or deadline (ms on the monotonic clock).  1 when done, 0 at
 * the deadline, or an error.
 */
static int
wait_until(struct vx_replay *r, int (*done)(void *), void *arg, int extra_fd,
    int64_t deadline)
{
	struct pollfd pfd[MAX_LIVE * VX_CONN_MAX_POLLFDS + 1];
	unsigned i;
	int n, t, ct, err;

	for (;;) {
		if ((err = drain(r)) < 0)
			return err;
		if (done(arg))
			return 1;
		t = (int)(deadline - vx_conn_now_ms(NULL));
		if (t <= 0)
			return 0;
		n = 0;
		for (i = 0; i < r->nlive; i++) {
			struct vx_conn *c = r->live[i]->conn;

			if (c == NULL)
				continue;
			n += vx_conn_pollfds(c, pfd + n);
			ct = vx_conn_timeout(c);
			if (ct >= 0 && ct < t)
				t = ct;
		}
		if (extra_fd >= 0) {
			pfd[n].fd = extra_fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
			return fail(r, VX_ERR_IO, "poll: %s", strerror(errno));
	}
}

static int
pend_done(void *arg)
{
	return ((struct pend *)arg)->done;
}

static int
fd_readable(void *arg)
{
	struct pollfd p = { *(int *)arg, POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

/* --- recorded messages --------------------------------------------------- */

static void
remember(struct live *l, const struct vx_trace_rec *rec,
    const struct vx_msg *m)
{
	struct vx_replay_ctxmsg *c = &l->ctx[l->ctx_at];

	c->frame = rec->frame;
	c->dir = m->dir;
	vx_summary(m, c->summary, sizeof(c->summary));
	l->ctx_at = (l->ctx_at + 1) % CTX_RING;
	if (l->nctx < CTX_RING)
		l->nctx++;
}

static int
room(struct vx_replay *r, size_t len)
{
	uint8_t *b;

	if (len <= r->bufcap)
		return 0;
	if ((b = realloc(r->buf, len)) == NULL)
		return VX_ERR_NOMEM;
	r->buf = b;
	r->bufcap = len;
	return 0;
}

static void
send_failed(struct vx_replay *r, struct live *l, const struct vx_trace_rec *rec,
    const struct vx_msg *m, int err, const char *why)
{
	struct vx_replay_div d;
	int closed = err == VX_ERR_CLOSED || vx_conn_ended(l->conn) != 0;

	div_init(&d, closed ? VX_RDIV_CLOSED : VX_RDIV_SEND, rec->frame,
	    m->cmd);
	snprintf(d.text, sizeof(d.text), closed ? "the server closed the "
	    "connection before frame %llu (%s) could be sent" : "frame %llu "
	    "(%s) could not be sent: %s", (unsigned long long)rec->frame,
	    cmd_text(m->cmd), why);
	l->failed = 1;
	emit(r, l, &d);
}

/*
 * A recorded message that the connection cannot send as it is: a
 * header that frames no message (msg_size below 16 or beyond the size
 * limit), which only a raw socket could repeat.
 */
static int
unframeable(const struct vx_msg *m, int err)
{
	return m->status == VX_MSG_MALFORMED &&
	    (err == VX_ERR_INVALID || err == VX_ERR_TOO_LARGE);
}

/* Nanoseconds since the epoch, as the trace's times are. */
static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * m into r->buf as it goes out: a MIG_DATA_WRITE with the live data of
 * the read it repeats, time values moved by the shift rules.  Returns
 * its length, or VX_ERR_NOMEM.
 */
static long
outgoing(struct vx_replay *r, const struct vx_trace_rec *rec,
    const struct vx_msg *m)
{
	const struct vx_item *d = NULL;
	uint8_t *live = NULL;
	uint32_t llen = 0;
	size_t len = m->len, tail;
	uint64_t v;

	if (m->cmd == VX_CMD_MIG_DATA_WRITE &&
	    !(r->o.flags & VX_REPLAY_MIG_RECORDED) && vx_msg_items(m) == 0 &&
	    (d = vx_msg_item(m, VXF_MIGD_DATA)) != NULL &&
	    rmig_take(&r->mig, d->ptr, d->len, &live, &llen))
		len = m->len - d->len + llen;
	if (room(r, len) < 0) {
		free(live);
		return VX_ERR_NOMEM;
	}
	if (live == NULL) {
		memcpy(r->buf, m->buf, m->len);
	} else {
		tail = m->len - d->off - d->len;
		memcpy(r->buf, m->buf, d->off);
		memcpy(r->buf + d->off, live, llen);
		memcpy(r->buf + d->off + llen, m->buf + d->off + d->len, tail);
		free(live);
		if (llen != d->len) {	/* the sizes that count the data */
			vx_store(r->buf + 4, 4, len, m->big_endian);
			if (vx_msg_get(m, VXF_ARGSZ, &v) == 0)
				vx_store(r->buf + VX_HDR_SIZE, 4, v - d->len +
				    llen, m->big_endian);
			vx_store(r->buf + VX_HDR_SIZE + 4, 4, llen,
			    m->big_endian);
		}
		r->st.mig_forwarded++;
	}
	if (vx_diff_shift(r->rules, m, r->buf, len,
	    now_ns() - (int64_t)rec->ts_ns) > 0)
		r->st.shifted++;
	return (long)len;
}

#define FUZZ_SPLIT	"vfuctl fuzz: the next message went in two writes"
#define FUZZ_JOIN	"vfuctl fuzz: the next message went in one write with"

/*
 * vfuctl fuzz's delivery annotations, honoured unless VX_REPLAY_WHOLE:
 * "... in two writes, its descriptors with the second[: the first N bytes
 * alone]" and "... in one write with the one after it".
 */
static void
on_delivery(struct vx_replay *r, const struct vx_trace_rec *rec)
{
	struct live *l = find_live(r, rec->conn);
	char text[160];
	const char *p;
	size_t len = rec->len < sizeof(text) - 1 ? rec->len : sizeof(text) - 1;
	unsigned long long at;

	if (l == NULL || (r->o.flags & VX_REPLAY_WHOLE))
		return;
	memcpy(text, rec->data, len);
	text[len] = '\0';
	if (strncmp(text, FUZZ_JOIN, strlen(FUZZ_JOIN)) == 0) {
		l->join_next = 1;
		return;
	}
	if (strncmp(text, FUZZ_SPLIT, strlen(FUZZ_SPLIT)) != 0)
		return;
	l->split_next = 1;
	l->split_at = 0;
	if ((p = strstr(text, ": the first ")) != NULL &&
	    sscanf(p, ": the first %llu bytes", &at) == 1)
		l->split_at = (size_t)at;
}

/* A recorded command: sent now, with descriptors made for it. */
static int
send_command(struct vx_replay *r, struct live *l, const struct vx_trace_rec *rec,
    const struct vx_msg *m)
{
	static int fds[VX_TRACE_MAX_FDS];
	char why[256] = "";
	struct pend *p;
	int nfds, id, i;
	long len;

	if (m->cmd == VX_CMD_VERSION && m->caps != NULL)
		l->twin_asked = m->caps->twin_supported;
	if ((nfds = rfds_make(&l->fds, m, rec, fds, why, sizeof(why))) < 0) {
		if (nfds == VX_ERR_NOMEM)
			return nfds;
		send_failed(r, l, rec, m, nfds, why);
		return 0;
	}
	if (m->cmd == VX_CMD_DMA_MAP && nfds > 0)
		r->st.fd_dma++;
	if ((len = outgoing(r, rec, m)) < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return VX_ERR_NOMEM;
	}
	p = NULL;
	if (!(m->flags & VX_F_NO_REPLY)) {
		p = vx_array_room(l->pend, l->npend, &l->pcap, sizeof(*p), 8);
		if (p == NULL)
			return VX_ERR_NOMEM;
		l->pend = p;
		p = &l->pend[l->npend];
		memset(p, 0, sizeof(*p));
		p->serial = ++r->serial;
		p->frame = rec->frame;
		p->rec_id = m->id;
		p->cmd = m->cmd;
		p->chan = m->chan;
		vx_msg_get(m, VXF_DMA_ADDR, &p->addr);
		vx_msg_get(m, VXF_DMA_SIZE, &p->size);
		vx_msg_get(m, VXF_DMA_UNMAP_FLAGS, &p->uflags);
	}
	if (l->join_next) {	/* in one write with the next: so again */
		l->join_next = 0;
		vx_conn_join_next(l->conn, r->o.timeout_ms);
		r->st.joined++;
	}
	if (l->split_next) {	/* it went in two writes: so again */
		l->split_next = 0;
		vx_conn_split_next(l->conn, l->split_at > 0 &&
		    l->split_at < (size_t)len ? l->split_at : (size_t)len / 2,
		    r->o.timeout_ms);
		r->st.split++;
	}
	id = vx_conn_start(l->conn, m->chan, r->buf, (size_t)len, fds, nfds,
	    r->o.timeout_ms, p ? (void *)(uintptr_t)p->serial : NULL);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (id < 0 && unframeable(m, id)) {
		/* its reply, if the trace has one, finds no call and is
		 * passed over; the connection goes on */
		if (r->st.unsent++ == 0)
			r->st.first_unsent = rec->frame;
		return 0;
	}
	if (id < 0) {
		send_failed(r, l, rec, m, id, vx_conn_errmsg(l->conn));
		return 0;
	}
	if (p != NULL)
		l->npend++;
	r->st.commands++;
	return 0;
}

/* The oldest pending call a recorded reply answers, or NULL. */
static struct pend *
pend_for(struct live *l, const struct vx_msg *m)
{
	size_t i;

	for (i = 0; i < l->npend; i++)
		if (l->pend[i].rec_id == m->id && l->pend[i].chan == m->chan)
			return &l->pend[i];
	return NULL;
}

static void
drop_pend(struct live *l, struct pend *p)
{
	size_t i = (size_t)(p - l->pend);

	release_pend(p);
	memmove(&l->pend[i], &l->pend[i + 1],
	    (l->npend - i - 1) * sizeof(*p));
	l->npend--;
}

/* The live VERSION reply: what the server accepts, and its twin socket. */
static void
negotiated(struct live *l, struct pend *p, const struct vx_msg *live)
{
	const struct vx_caps *c = live->caps;
	uint64_t maxmsg;

	if (c == NULL || (live->flags & VX_F_ERROR))
		return;
	maxmsg = VX_MSG_FOR_XFER(c->max_data_xfer_size);
	vx_conn_set_peer_limits(l->conn, c->max_msg_fds > VX_MAX_FDS ?
	    VX_MAX_FDS : (int)c->max_msg_fds, maxmsg > VX_MAX_MSG_CAP ?
	    VX_MAX_MSG_CAP : (uint32_t)maxmsg);
	if (l->twin_asked && c->twin_supported &&
	    (c->present & VX_CAPF_TWIN_FD) &&
	    c->twin_fd_index < (uint64_t)p->fr.nfds) {
		vx_conn_set_twin(l->conn, p->fr.fds[c->twin_fd_index]);
		p->fr.fds[c->twin_fd_index] = -1;
	}
}

static void
call_failed(struct vx_replay *r, struct live *l,
    const struct vx_trace_rec *rec, struct pend *p)
{
	struct vx_replay_div d;
	int timeout = p->done && p->err == VX_ERR_TIMEOUT;

	div_init(&d, p->done && !timeout ? VX_RDIV_CLOSED : VX_RDIV_TIMEOUT,
	    p->frame, p->cmd);
	d.req_frame = p->frame;
	if (d.kind == VX_RDIV_CLOSED)
		snprintf(d.text, sizeof(d.text), "the server closed the "
		    "connection instead of answering frame %llu (%s; "
		    "recorded reply: frame %llu)", (unsigned long long)p->frame,
		    cmd_text(p->cmd), (unsigned long long)rec->frame);
	else
		snprintf(d.text, sizeof(d.text), "no reply to frame %llu (%s) "
		    "within %d ms (recorded reply: frame %llu)",
		    (unsigned long long)p->frame, cmd_text(p->cmd),
		    r->o.timeout_ms, (unsigned long long)rec->frame);
	l->failed = 1;
	emit(r, l, &d);
}

/* One record into the new trace, opened with a digest at its time. */
static int
update_write(struct vx_replay *r, const struct vx_trace_rec *rec)
{
	if (!r->update_opened) {
		r->update_opened = 1;
		if (vx_trace_write_digest(r->o.update, rec->ts_ns) < 0)
			goto fail;
	}
	if (vx_trace_write_event(r->o.update, rec) == 0)
		return 0;
fail:
	return fail(r, VX_ERR_IO, "writing the updated trace: %s",
	    strerror(errno));
}

static int
update_reply(struct vx_replay *r, const struct vx_trace_rec *rec,
    struct pend *p)
{
	struct vx_trace_rec out = *rec;

	if (r->o.update == NULL)
		return 0;
	if (p != NULL && p->have && p->fr.len >= VX_HDR_SIZE) {
		/* the recorded id, so the new trace pairs as the old */
		p->fr.data[0] = (uint8_t)rec->data[0];
		p->fr.data[1] = (uint8_t)rec->data[1];
		out.data = p->fr.data;
		out.len = out.orig_len = p->fr.len;
	}
	return update_write(r, &out);
}

static void
compare(struct vx_replay *r, struct live *l, const struct vx_trace_rec *rec,
    const struct vx_msg *m, struct pend *p, const struct vx_msg *live)
{
	struct vx_replay_div d;
	int n;

	r->st.replies++;
	l->sum.replies++;
	if (r->digest != NULL && vx_digest_add(r->digest, r->rules, live) < 0)
		r->nomem = 1;
	n = vx_diff(r->rules, m, live, NULL, 0);
	if (n == 0)
		return;
	if (n < 0) {
		r->nomem = 1;
		return;
	}
	div_init(&d, VX_RDIV_FIELD, rec->frame, m->cmd);
	d.req_frame = p->frame;
	d.ndiffs = (unsigned)n;
	vx_diff(r->rules, m, live, d.diffs, VX_REPLAY_MAX_DIFFS);
	vx_summary(m, d.rec_summary, sizeof(d.rec_summary));
	vx_summary(live, d.live_summary, sizeof(d.live_summary));
	snprintf(d.text, sizeof(d.text), "%s reply differs in %d field%s",
	    cmd_text(m->cmd), n, n == 1 ? "" : "s");
	emit(r, l, &d);
}

/* A recorded reply: wait for the live one and compare. */
static int
reply_reached(struct vx_replay *r, struct live *l,
    const struct vx_trace_rec *rec, const struct vx_msg *m)
{
	struct vx_dctx ctx = { VX_S2C, 0, 0, 0, 0 };
	struct vx_msg live;
	struct pend *p = pend_for(l, m);
	int64_t deadline;
	int n;

	if (p == NULL)	/* its command was not sent (a mid-session reply) */
		return update_reply(r, rec, NULL);
	deadline = vx_conn_now_ms(NULL) + r->o.timeout_ms + 1000;
	if ((n = wait_until(r, pend_done, p, -1, deadline)) < 0)
		return n;
	if (!p->have) {
		call_failed(r, l, rec, p);
		n = update_reply(r, rec, NULL);
		drop_pend(l, p);
		return n;
	}
	ctx.chan = p->chan;
	ctx.peer = m->peer;
	ctx.big_endian = m->big_endian;
	ctx.nfds = p->fr.nfds;
	if (vx_decode(&r->dec, p->fr.data, p->fr.len, &ctx, &live) < 0)
		return VX_ERR_NOMEM;
	if (p->cmd == VX_CMD_VERSION)
		negotiated(l, p, &live);
	if (p->cmd == VX_CMD_DMA_MAP && (live.flags & VX_F_ERROR))
		rfds_unmap_addr(&l->fds, p->addr);
	if (p->cmd == VX_CMD_DMA_UNMAP && !(live.flags & VX_F_ERROR))
		rfds_unmapped(&l->fds, p->uflags, p->addr, p->size);
	if (p->cmd == VX_CMD_MIG_DATA_READ &&
	    !(r->o.flags & VX_REPLAY_MIG_RECORDED) &&
	    rmig_read(&r->mig, m, &live) < 0)
		return VX_ERR_NOMEM;
	compare(r, l, rec, m, p, &live);
	n = update_reply(r, rec, p);
	drop_pend(l, p);
	return r->nomem ? VX_ERR_NOMEM : n;
}

static int
srv_cmd_came(void *arg)
{
	const struct live *l = arg;

	return l->srv_cmds_live >= l->srv_cmds_rec ||
	    vx_conn_ended(l->conn) != 0;
}

/*
 * After a recorded server command (at the recording client's answer to
 * it, whose memory a DMA_READ gets, or at the command when it wants
 * none): wait until the live server has sent as many, so that the next
 * recorded command does not cross it (a server without a twin socket
 * expects the answer to its command next).
 */
static int
server_command_sent(struct vx_replay *r, struct live *l,
    const struct vx_msg *m)
{
	struct vx_replay_div d;
	int n;

	n = wait_until(r, srv_cmd_came, l, -1,
	    vx_conn_now_ms(NULL) + r->o.timeout_ms);
	if (n != 0)
		return n < 0 ? n : 0;
	div_init(&d, VX_RDIV_TIMEOUT, l->srv_cmd_frame, m->cmd);
	snprintf(d.text, sizeof(d.text), "the server did not send the %s "
	    "command of frame %llu within %d ms", cmd_text(m->cmd),
	    (unsigned long long)l->srv_cmd_frame, r->o.timeout_ms);
	l->failed = 1;
	emit(r, l, &d);
	return 0;
}

/*
 * The recording client's answer to a server request: the memory a
 * DMA_READ read, the form of a DMA_WRITE reply.
 */
static void
client_reply(struct live *l, const struct vx_msg *m)
{
	if (m->flags & VX_F_ERROR)
		return;
	if (m->cmd == VX_CMD_DMA_READ)
		rfds_recorded_read(&l->fds, m);
	if (m->cmd != VX_CMD_DMA_WRITE)
		return;
	l->fds.dma_write_reply = m->len == VX_HDR_SIZE ? VX_VAR_QEMU :
	    m->len == VX_HDR_SIZE + 12 ? VX_VAR_SPEC : VX_VAR_LVU;
}

static int
on_message(struct vx_replay *r, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	struct live *l = find_live(r, rec->conn);
	unsigned k;
	int err = 0, written = 0;

	for (k = 0; it->res != NULL && k < it->res->nfindings; k++)
		if (it->res->findings[k].code == VX_FIND_INVISIBLE_MMAP)
			r->st.mmap_notes++;
	if (l == NULL) {
		if (vx_msg_is_reply(m) || m->cmd != VX_CMD_VERSION)
			return fail(r, VX_ERR_UNSUPPORTED, "frame %llu: "
			    "connection %u starts mid-session (its first "
			    "message is a %s %s, not VERSION): replay needs "
			    "the trace from the connection's start",
			    (unsigned long long)rec->frame, rec->conn,
			    cmd_text(m->cmd), vx_msg_is_reply(m) ? "reply" :
			    "command");
		if ((err = open_live(r, rec, &l)) < 0)
			return err;
	}
	r->st.messages++;
	l->sum.messages++;
	if (!l->failed) {
		if (m->dir == VX_C2S && !vx_msg_is_reply(m))
			err = send_command(r, l, rec, m);
		else if (m->dir == VX_C2S) {
			client_reply(l, m);
			err = server_command_sent(r, l, m);
		} else if (vx_msg_is_reply(m)) {
			err = reply_reached(r, l, rec, m);
			written = 1;
		} else {
			l->srv_cmds_rec++;
			l->srv_cmd_frame = rec->frame;
			if (m->flags & VX_F_NO_REPLY)
				err = server_command_sent(r, l, m);
		}
	}
	remember(l, rec, m);
	if (err == 0 && !written && r->o.update != NULL)
		err = update_write(r, rec);
	return err;
}

/* What a --hash-dma annotation says: when, where, how much, the hash. */
struct dma_hash {
	char when[8];
	unsigned conn;
	unsigned long long iova, n;
	char hex[2 * VX_DIGEST_LEN + 1];
};

static int
parse_dma_hash(const struct vx_trace_rec *rec, struct dma_hash *h)
{
	char text[512];
	const char *p;
	size_t len = rec->len < sizeof(text) - 1 ? rec->len : sizeof(text) - 1;

	memcpy(text, rec->data, len);
	text[len] = '\0';
	if (sscanf(text, "DMA hash at %7[a-z]: conn %u iova 0x%llx", h->when,
	    &h->conn, &h->iova) != 3 || (p = strstr(text, " hashed ")) == NULL ||
	    sscanf(p, " hashed %llu", &h->n) != 1 ||
	    (p = strstr(p, "blake2b-256 ")) == NULL ||
	    sscanf(p, "blake2b-256 %64[0-9a-f]", h->hex) != 1 ||
	    strlen(h->hex) != 2 * VX_DIGEST_LEN)
		return -1;
	return 0;
}

/*
 * A --hash-dma annotation: the window's live contents against the
 * recorded hash.  At map they show whether the replay starts from the
 * same memory; at unmap and close what was written into it directly.
 */
static void
on_dma_hash(struct vx_replay *r, const struct vx_trace_rec *rec)
{
	struct live *l = find_live(r, rec->conn);
	struct vx_replay_div d;
	struct dma_hash h;
	char hex[2 * VX_DIGEST_LEN + 1];

	if (l == NULL || l->failed || parse_dma_hash(rec, &h) < 0 ||
	    rfds_hash(&l->fds, h.iova, h.n, hex) < 0)
		return;
	r->st.dma_hashes++;
	if (strcmp(hex, h.hex) == 0)
		return;
	if (r->st.dma_hash_differs++ == 0)
		r->st.first_dma_hash_differs = rec->frame;
	if (!(r->o.flags & VX_REPLAY_CHECK_DMA) || strcmp(h.when, "map") == 0)
		return;
	div_init(&d, VX_RDIV_DMA, rec->frame, 0);
	snprintf(d.text, sizeof(d.text), "the DMA window at 0x%llx holds "
	    "other data at %s than recorded (BLAKE2b-256 of %llu bytes: "
	    "recorded %.16s..., live %.16s...)", h.iova, h.when, h.n, h.hex,
	    hex);
	emit(r, l, &d);
}

/* A recorded interrupt: wait until the live server signals it. */
static int
on_irq(struct vx_replay *r, const struct vx_trace_rec *rec)
{
	struct live *l = find_live(r, rec->conn);
	struct vx_replay_div d;
	uint64_t v;
	int fd, n;

	if (l == NULL || l->failed)
		return 0;
	fd = rfds_irq_fd(&l->fds, rec->irq_index, rec->irq_vector);
	if (fd < 0)
		return 0;	/* no eventfd of ours: nothing to wait on */
	n = wait_until(r, fd_readable, &fd, fd,
	    vx_conn_now_ms(NULL) + r->o.timeout_ms);
	if (n < 0)
		return n;
	if (n == 1) {
		if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return fail(r, VX_ERR_IO, "eventfd: %s",
			    strerror(errno));
		r->st.irqs++;
		return 0;
	}
	div_init(&d, VX_RDIV_IRQ, rec->frame, 0);
	snprintf(d.text, sizeof(d.text), "the interrupt of frame %llu (IRQ "
	    "index %u vector %u) did not come within %d ms",
	    (unsigned long long)rec->frame, rec->irq_index, rec->irq_vector,
	    r->o.timeout_ms);
	emit(r, l, &d);
	return 0;
}

static int
on_record(struct vx_replay *r, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	struct live *l;
	int err = 0;

	if (rec == NULL)	/* a connection open at the end: closed below */
		return 0;
	switch (rec->kind) {
	case VX_TR_MESSAGE:
		return on_message(r, it);
	case VX_TR_OPEN:
		if (find_live(r, rec->conn) == NULL)
			err = open_live(r, rec, &l);
		break;
	case VX_TR_CLOSE:
		if ((l = find_live(r, rec->conn)) != NULL)
			close_live(r, l);
		break;
	case VX_TR_IRQ:
		err = on_irq(r, rec);
		break;
	case VX_TR_ANNOTATION:
		on_dma_hash(r, rec);
		on_delivery(r, rec);
		break;
	case VX_TR_STATE:
		if (find_live(r, rec->conn) == NULL)
			return fail(r, VX_ERR_UNSUPPORTED, "frame %llu: the "
			    "trace starts in the middle of connection %u (a "
			    "STATE record stands for what came before: a "
			    "rotated file or a filtered export); replay "
			    "needs the connection's start: its VERSION and "
			    "every command since, which this file does not "
			    "have (a rotated trace's earlier files are "
			    "replayed first when they are beside it)",
			    (unsigned long long)rec->frame, rec->conn);
		break;
	case VX_TR_DIGEST:
		return 0;	/* the new trace makes its own */
	default:
		break;
	}
	if (err == 0 && r->o.update != NULL)
		err = update_write(r, rec);
	return err;
}

/* --- the API ------------------------------------------------------------- */

static int
walk_file(struct vx_replay *r, unsigned k)
{
	struct vx_walk_opts wo = { VX_WALK_LAZY, 0 };
	char *p = ring_file(r->base, k);
	int err;

	if (p == NULL)
		return VX_ERR_NOMEM;
	vx_walk_close(r->w);
	free(r->path);
	r->path = p;
	r->file_no = k;
	wo.peer = r->o.peer;
	if ((err = vx_walk_open(p, &wo, &r->w)) < 0)
		return fail(r, err, "%s", r->w ? vx_walk_error(r->w) :
		    "out of memory");
	r->st.files++;
	return 0;
}

/*
 * The first file to walk: path, or, when path is a later file of a
 * rotated trace (it starts mid-session), the ring's first, for the
 * sessions' start; every earlier file must be there.
 */
static int
start_ring(struct vx_replay *r, const char *path)
{
	unsigned k = 0, i;
	char *p;

	if (strcmp(path, "-") != 0 && ring_starts_mid(path) &&
	    (r->base = ring_base(path, &k)) != NULL) {
		for (i = 1; i < k; i++) {
			if ((p = ring_file(r->base, i)) == NULL)
				return VX_ERR_NOMEM;
			if (!ring_exists(p)) {
				fail(r, VX_ERR_UNSUPPORTED, "%s starts in the "
				    "middle of a session and %s, an earlier "
				    "file of its ring, is missing: replay "
				    "needs every file from %s on", path, p,
				    r->base);
				free(p);
				return VX_ERR_UNSUPPORTED;
			}
			free(p);
		}
		return walk_file(r, 0);
	}
	if ((r->base = strdup(path)) == NULL)
		return VX_ERR_NOMEM;
	return walk_file(r, 0);
}

/* At a file's end: the ring's next file, if it goes on there. */
static int
next_file(struct vx_replay *r)
{
	char *p = ring_file(r->base, r->file_no + 1);
	int more;

	if (p == NULL)
		return VX_ERR_NOMEM;
	more = strcmp(r->base, "-") != 0 && ring_exists(p) &&
	    ring_starts_mid(p);
	free(p);
	if (!more)
		return 0;
	more = walk_file(r, r->file_no + 1);
	return more < 0 ? more : 1;
}

int
vx_replay_open(const char *path, const struct vx_replay_opts *o,
    const struct vx_replay_hooks *h, struct vx_replay **out)
{
	struct vx_replay *r = calloc(1, sizeof(*r));

	*out = r;
	if (r == NULL)
		return VX_ERR_NOMEM;
	r->o = *o;
	r->h = *h;
	if (r->o.timeout_ms <= 0)
		r->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	vx_decoder_init(&r->dec);
	vx_builder_init(&r->out);
	r->rules = o->rules;
	if (r->rules == NULL &&
	    (r->rules = r->own_rules = vx_diff_rules_new(0)) == NULL)
		return VX_ERR_NOMEM;
	if ((o->flags & VX_REPLAY_DIGEST) &&
	    (r->digest = vx_digest_new()) == NULL)
		return VX_ERR_NOMEM;
	return start_ring(r, path);
}

/* The end: every connection still open is done. */
static void
finish(struct vx_replay *r)
{
	if (r->finished)
		return;
	r->finished = 1;
	while (r->nlive > 0)
		close_live(r, r->live[r->nlive - 1]);
}

int
vx_replay_step(struct vx_replay *r)
{
	struct vx_walk_item it;
	int n;

	if (r->stopped || r->finished) {
		finish(r);
		return 0;
	}
	n = vx_walk_next(r->w, &it);
	if (n == 0 && (n = next_file(r)) != 0)
		return n < 0 ? n : 1;
	if (n == 0) {
		finish(r);
		return 0;
	}
	if (n == VX_ERR_TRUNCATED) {
		/* a recorder killed mid-record: what is there is replayed */
		r->st.truncated = 1;
		fail(r, n, "%s", vx_walk_error(r->w));
		finish(r);
		return 0;
	}
	if (n < 0)
		return fail(r, n, "%s", vx_walk_error(r->w));
	if ((n = on_record(r, &it)) < 0) {
		if (n == VX_ERR_NOMEM)
			fail(r, n, "out of memory");
		return n;
	}
	return 1;
}

int
vx_replay_run(struct vx_replay *r)
{
	int n;

	while ((n = vx_replay_step(r)) > 0)
		;
	return n;
}

const struct vx_replay_stats *
vx_replay_stats(const struct vx_replay *r)
{
	return &r->st;
}

void
vx_replay_digest(const struct vx_replay *r, char out[2 * VX_DIGEST_LEN + 1])
{
	if (r->digest != NULL)
		vx_digest_hex(r->digest, out);
	else
		out[0] = '\0';
}

const char *
vx_replay_error(const struct vx_replay *r)
{
	return r->err;
}

void
vx_replay_free(struct vx_replay *r)
{
	if (r == NULL)
		return;
	r->h.conn_done = NULL;
	while (r->nlive > 0)
		close_live(r, r->live[r->nlive - 1]);
	vx_walk_close(r->w);
	vx_decoder_release(&r->dec);
	vx_builder_release(&r->out);
	vx_diff_rules_free(r->own_rules);
	vx_digest_free(r->digest);
	rmig_free(&r->mig);
	free(r->buf);
	free(r->base);
	free(r->path);
	free(r);
}
