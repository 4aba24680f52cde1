/*
 * conn.c - one non-blocking vfio-user connection (contract in vx-conn.h).
 *
 * Two framers, main and twin, do the bytes and descriptors; this file adds
 * the calls: a table of pending (channel, msg_id) with their deadlines, in
 * the order they were started, and the turning of what arrives into
 * events.  vx_conn_step() hands out one event at a time and keeps the
 * frame it handed out until the next step, so nothing is queued here.
 * Every message that goes out or comes in is decoded once and fed to the
 * connection's vx_session, which so knows what was negotiated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-array.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-session.h"

struct pending {
	int64_t deadline;	/* -1: none */
	void *cookie;
	uint16_t id, cmd;
	int chan;
};

struct vx_conn {
	int role;
	int sock[2];		/* by enum vx_chan; -1 if absent */
	struct vx_framer fr[2];
	struct pending *calls;	/* oldest first */
	unsigned ncalls;
	size_t callcap;
	uint16_t next_id;
	int dead;		/* the end's code once the connection is over */
	int wdead[2];		/* the peer reads no more on that socket */
	int told;		/* VX_CONN_EV_CLOSED handed out */
	int busy;		/* the last step gave an event: more may wait */
	struct vx_frame cur;	/* the last event's frame, until the next step */
	/*
	 * What comes in is decoded into dec[cur_dec] (curm, if have_m); a
	 * frame taken keeps its decode: the other decoder takes over.  What
	 * goes out is decoded into out_dec, for the session only.
	 */
	struct vx_decoder dec[2], out_dec;
	int cur_dec, have_m;
	struct vx_msg curm;
	struct vx_session *sess;
	uint64_t nmsgs;		/* messages fed to sess: its frame numbers */
	int64_t (*now)(void *);
	void *now_arg;
	vx_conn_handler *handler;
	void *handler_arg;
	int in_call;		/* inside vx_conn_call: no second one */
	size_t split_at;	/* vx_conn_split_next: 0, none */
	int split_wait_ms;
	int join_next;		/* vx_conn_join_next */
	int join_wait_ms;
	char errmsg[256];
};

static const char *const chan_name[2] = { "main", "twin" };

static int
fail(struct vx_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

int64_t
vx_conn_now_ms(void *unused)
{
	struct timespec ts;

	(void)unused;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- setting up ----------------------------------------------------------- */

struct vx_conn *
vx_conn_new(int sock, int role, const struct vx_limits *lim)
{
	struct vx_conn *c = calloc(1, sizeof(*c));
	int i;

	if (c == NULL || vx_framer_init(&c->fr[VX_CHAN_MAIN], sock, lim) < 0 ||
	    vx_framer_init(&c->fr[VX_CHAN_TWIN], -1, lim) < 0 ||
	    (c->sess = vx_session_new(VX_PEER_AUTO)) == NULL) {
		free(c);
		close(sock);
		return NULL;
	}
	/* one read takes what the peer has sent: a pipelining peer's
	   requests come in together and their replies go out together */
	vx_framer_set_readahead(&c->fr[VX_CHAN_MAIN], VX_FRAMER_READAHEAD);
	vx_framer_set_readahead(&c->fr[VX_CHAN_TWIN], VX_FRAMER_READAHEAD);
	vx_session_begin(c->sess);	/* the connection starts here */
	for (i = 0; i < 3; i++) {
		struct vx_decoder *d = i < 2 ? &c->dec[i] : &c->out_dec;

		vx_decoder_init(d);
		d->lazy = 1;	/* region accesses: items only if asked */
	}
	c->role = role;
	c->sock[VX_CHAN_MAIN] = sock;
	c->sock[VX_CHAN_TWIN] = -1;
	vx_framer_set_peer_limits(&c->fr[VX_CHAN_TWIN], 0, VX_DEF_MAX_MSG);
	c->next_id = 1;
	c->now = vx_conn_now_ms;
	return c;
}

void
vx_conn_free(struct vx_conn *c)
{
	int i;

	if (c == NULL)
		return;
	vx_frame_release(&c->cur);
	for (i = 0; i < 2; i++) {
		vx_framer_release(&c->fr[i]);
		if (c->sock[i] >= 0)
			close(c->sock[i]);
	}
	vx_decoder_release(&c->dec[0]);
	vx_decoder_release(&c->dec[1]);
	vx_decoder_release(&c->out_dec);
	vx_session_free(c->sess);
	free(c->calls);
	free(c);
}

void
vx_conn_set_twin(struct vx_conn *c, int sock)
{
	struct vx_framer *t = &c->fr[VX_CHAN_TWIN];

	if (c->sock[VX_CHAN_TWIN] >= 0)
		close(c->sock[VX_CHAN_TWIN]);
	c->sock[VX_CHAN_TWIN] = sock;
	vx_framer_set_sock(t, sock);
}

void
vx_conn_set_peer_limits(struct vx_conn *c, int max_fds, uint32_t max_msg_size)
{
	vx_framer_set_peer_limits(&c->fr[VX_CHAN_MAIN], max_fds, max_msg_size);
	vx_framer_set_peer_limits(&c->fr[VX_CHAN_TWIN], 0, max_msg_size);
}

void
vx_conn_set_clock(struct vx_conn *c, int64_t (*now_ms)(void *), void *arg)
{
	c->now = now_ms != NULL ? now_ms : vx_conn_now_ms;
	c->now_arg = arg;
}

void
vx_conn_split_next(struct vx_conn *c, size_t at, int wait_ms)
{
	c->split_at = at;
	c->split_wait_ms = wait_ms;
}

void
vx_conn_join_next(struct vx_conn *c, int wait_ms)
{
	c->join_next = 1;
	c->join_wait_ms = wait_ms;
}

void
vx_conn_set_next_id(struct vx_conn *c, uint16_t id)
{
	c->next_id = id;
}

void
vx_conn_set_handler(struct vx_conn *c, vx_conn_handler *fn, void *arg)
{
	c->handler = fn;
	c->handler_arg = arg;
}

int
vx_conn_sock(const struct vx_conn *c)
{
	return c->sock[VX_CHAN_MAIN];
}

int
vx_conn_twin(const struct vx_conn *c)
{
	return c->sock[VX_CHAN_TWIN];
}

int
vx_conn_peer_max_fds(const struct vx_conn *c)
{
	return vx_framer_peer_max_fds(&c->fr[VX_CHAN_MAIN]);
}

uint32_t
vx_conn_peer_max_msg_size(const struct vx_conn *c)
{
	return vx_framer_peer_max_msg_size(&c->fr[VX_CHAN_MAIN]);
}

unsigned
vx_conn_pending(const struct vx_conn *c)
{
	return c->ncalls;
}

int
vx_conn_partial(const struct vx_conn *c)
{
	return vx_framer_partial(&c->fr[VX_CHAN_MAIN]);
}

size_t
vx_conn_unsent(const struct vx_conn *c)
{
	return vx_framer_backlog(&c->fr[VX_CHAN_MAIN]);
}

int
vx_conn_ended(const struct vx_conn *c)
{
	return c->dead;
}

const char *
vx_conn_errmsg(const struct vx_conn *c)
{
	return c->errmsg;
}

const struct vx_session *
vx_conn_session(const struct vx_conn *c)
{
	return c->sess;
}

static const char *
peer_name(const struct vx_conn *c)
{
	return c->role == VX_CONN_CLIENT ? "server" : "client";
}

/* --- the end -------------------------------------------------------------- */

/* A reset is a close, whoever hung up how; errno stays for VX_ERR_IO. */
static int
die(struct vx_conn *c, int chan, int err, const char *doing)
{
	int e = errno;

	if (err == VX_ERR_IO && (e == ECONNRESET || e == EPIPE))
		err = VX_ERR_CLOSED;
	if (c->dead)
		return c->dead;
	c->dead = err;
	if (err == VX_ERR_CLOSED && chan == VX_CHAN_MAIN)
		fail(c, err, "%s closed the connection", peer_name(c));
	else if (err == VX_ERR_CLOSED)
		fail(c, err, "%s closed the twin socket", peer_name(c));
	else if (err == VX_ERR_TRUNCATED)
		fail(c, err, "%s closed the %s socket inside a message",
		    peer_name(c), chan_name[chan]);
	else
		fail(c, err, "%s the %s socket: %s", doing, chan_name[chan],
		    err == VX_ERR_IO ? strerror(e) : vx_strerror(err));
	errno = e;
	return err;
}

/* --- calls ---------------------------------------------------------------- */

static struct pending *
find_call(struct vx_conn *c, int chan, uint16_t id)
{
	unsigned i;

	for (i = 0; i < c->ncalls; i++)
		if (c->calls[i].id == id && c->calls[i].chan == chan)
			return &c->calls[i];
	return NULL;
}

/* The next msg_id no pending call holds on chan. */
static int
alloc_id(struct vx_conn *c, int chan)
{
	unsigned tries;

	for (tries = 0; tries <= 0xffff; tries++) {
		uint16_t id = c->next_id++;

		if (find_call(c, chan, id) == NULL)
			return id;
	}
	return VX_ERR_TOO_LARGE;
}

static int
add_call(struct vx_conn *c, const struct pending *p)
{
	struct pending *n = vx_array_room(c->calls, c->ncalls, &c->callcap,
	    sizeof(*n), 16);

	if (n == NULL)
		return VX_ERR_NOMEM;
	c->calls = n;
	c->calls[c->ncalls++] = *p;
	return 0;
}

/* Remove call i into *ev as a finished call with err. */
static void
finish_call(struct vx_conn *c, unsigned i, int err, struct vx_conn_event *ev)
{
	struct pending p = c->calls[i];

	memmove(&c->calls[i], &c->calls[i + 1],
	    (c->ncalls - i - 1) * sizeof(c->calls[0]));
	c->ncalls--;
	ev->kind = VX_CONN_EV_CALL;
	ev->err = err;
	ev->chan = p.chan;
	ev->id = p.id;
	ev->cmd = p.cmd;
	ev->cookie = p.cookie;
}

static const char *
cmd_text(uint16_t cmd)
{
	return vx_cmd_name(cmd) != NULL ? vx_cmd_name(cmd) : "message";
}

/* --- the session ---------------------------------------------------------- */

/* How a message from us (out) or from the peer is decoded. */
static void
dctx_for(const struct vx_conn *c, int out, int chan, int nfds,
    struct vx_dctx *ctx)
{
	int from_client = (c->role == VX_CONN_CLIENT) == out;

	memset(ctx, 0, sizeof(*ctx));
	ctx->dir = from_client ? VX_C2S : VX_S2C;
	ctx->chan = (uint8_t)chan;
	ctx->peer = VX_PEER_AUTO;
	ctx->nfds = nfds;
}

/* Tell the session of m; what it finds is the decoders' business
 * (vfuctl dissect shows it), not the connection's. */
static void
feed(struct vx_conn *c, const struct vx_msg *m)
{
	struct vx_session_result res;

	vx_session_feed(c->sess, m, c->nmsgs++, 0, &res);
}

/* A message we queued. */
static void
feed_out(struct vx_conn *c, int chan, const uint8_t *msg, size_t len,
    int nfds)
{
	struct vx_dctx ctx;
	struct vx_msg m;

	dctx_for(c, 1, chan, nfds, &ctx);
	if (vx_decode(&c->out_dec, msg, len, &ctx, &m) == 0)
		feed(c, &m);
}

/* The frame in c->cur, come in on chan: decoded once, for the session and
 * for vx_conn_decode(). */
static void
feed_in(struct vx_conn *c, int chan)
{
	struct vx_dctx ctx;

	dctx_for(c, 0, chan, c->cur.nfds, &ctx);
	c->have_m = vx_decode(&c->dec[c->cur_dec], c->cur.data, c->cur.len,
	    &ctx, &c->curm) == 0;
	if (c->have_m)
		feed(c, &c->curm);
}

static int may_read(const struct vx_conn *c, int chan);

/*
 * A whole message read ahead that the next step hands out (none while the
 * output backlog holds reading back: the output must go first).
 */
static int
input_ready(const struct vx_conn *c)
{
	int chan;

	for (chan = 0; chan < 2; chan++)
		if (vx_framer_ready(&c->fr[chan]) && may_read(c, chan))
			return 1;
	return 0;
}

/*
 * Write what chan's socket takes.  A peer that reads no more (EPIPE,
 * ECONNRESET) has mostly hung up: its end of the stream says so after
 * whatever it sent before, so reading goes on until then.
 */
static void
flush(struct vx_conn *c, int chan)
{
	int r;

	if (c->wdead[chan] || !vx_framer_pending(&c->fr[chan]))
		return;
	r = vx_framer_flush(&c->fr[chan]);
	if (r == VX_ERR_CLOSED)
		c->wdead[chan] = 1;
	else if (r < 0 && r != VX_ERR_AGAIN)
		die(c, chan, r, "writing to");
}

/* Queue msg on chan and write what the socket takes now. */
static int
queue(struct vx_conn *c, int chan, const uint8_t *msg, size_t len,
    const int *fds, int nfds, uint16_t cmd)
{
	struct vx_framer *f;
	int r;

	if (c->dead)
		return fail(c, VX_ERR_CLOSED, "sending %s: the connection is "
		    "over: %s", cmd_text(cmd), vx_strerror(c->dead));
	if ((chan != VX_CHAN_MAIN && chan != VX_CHAN_TWIN) || c->sock[chan] < 0)
		return fail(c, VX_ERR_INVALID, "sending %s: no %s socket",
		    cmd_text(cmd), chan == VX_CHAN_TWIN ? "twin" : "such");
	if (c->wdead[chan])
		return fail(c, VX_ERR_CLOSED, "%s closed the connection",
		    peer_name(c));
	f = &c->fr[chan];
	if (c->join_next)
		vx_framer_join_next(f, c->join_wait_ms);
	c->join_next = 0;
	if (c->split_at > 0 && c->split_at < len)
		r = vx_framer_queue_split(f, msg, len, fds, nfds, c->split_at,
		    c->split_wait_ms);
	else
		r = vx_framer_queue(f, msg, len, fds, nfds);
	c->split_at = 0;
	if (r == VX_ERR_TOO_LARGE)
		return fail(c, r, "%zu-byte message exceeds what the %s "
		    "accepts (%u bytes)", len, peer_name(c),
		    vx_framer_peer_max_msg_size(f));
	if (r == VX_ERR_FDS)
		return fail(c, r, "%d descriptors exceed the %s's "
		    "max_msg_fds %d", nfds, peer_name(c),
		    vx_framer_peer_max_fds(f));
	if (r < 0)
		return fail(c, r, "sending %s failed: %s", cmd_text(cmd),
		    r == VX_ERR_IO ? strerror(errno) : vx_strerror(r));
	feed_out(c, chan, msg, len, nfds);
	/*
	 * While requests read ahead are still to be handed out, their
	 * replies gather and go in one write when they are done (step).
	 */
	if (!input_ready(c))
		flush(c, chan);
	return c->dead ? c->dead : 0;
}

int
vx_conn_send(struct vx_conn *c, int chan, const uint8_t *msg, size_t len,
    const int *fds, int nfds)
{
	if (len < VX_HDR_SIZE)
		return fail(c, VX_ERR_INVALID, "message shorter than a header");
	return queue(c, chan, msg, len, fds, nfds,
	    (uint16_t)vx_load(msg + VX_HDR_OFF_CMD, 2, 0));
}

int
vx_conn_start(struct vx_conn *c, int chan, uint8_t *msg, size_t len,
    const int *fds, int nfds, int timeout_ms, void *cookie)
{
	struct pending p;
	uint32_t flags;
	int id, r;

	if (len < VX_HDR_SIZE)
		return fail(c, VX_ERR_INVALID, "message shorter than a header");
	p.cmd = (uint16_t)vx_load(msg + VX_HDR_OFF_CMD, 2, 0);
	flags = (uint32_t)vx_load(msg + VX_HDR_OFF_FLAGS, 4, 0);
	if ((id = alloc_id(c, chan)) < 0)
		return fail(c, id, "sending %s: all 65536 msg_ids are pending",
		    cmd_text(p.cmd));
	vx_store(msg + VX_HDR_OFF_ID, 2, (uint64_t)id, 0);
	if ((r = queue(c, chan, msg, len, fds, nfds, p.cmd)) < 0)
		return r;
	if (flags & VX_F_NO_REPLY)
		return id;
	p.id = (uint16_t)id;
	p.chan = chan;
	p.cookie = cookie;
	p.deadline = timeout_ms < 0 ? -1 : c->now(c->now_arg) + timeout_ms;
	if (add_call(c, &p) < 0)
		return fail(c, VX_ERR_NOMEM, "out of memory for a call");
	return id;
}

/* --- polling -------------------------------------------------------------- */

/* Reading stops while the peer leaves too much of our output untaken. */
static int
may_read(const struct vx_conn *c, int chan)
{
	return c->wdead[chan] ||
	    vx_framer_backlog(&c->fr[chan]) <= VX_CONN_MAX_BACKLOG;
}

int
vx_conn_pollfds(const struct vx_conn *c, struct pollfd *pfd)
{
	int i, n = 0;

	if (c->dead)
		return 0;
	for (i = 0; i < 2; i++) {
		if (c->sock[i] < 0)
			continue;
		pfd[n].fd = c->sock[i];
		pfd[n].events = 0;
		if (may_read(c, i))
			pfd[n].events |= POLLIN;
		if (vx_framer_pending(&c->fr[i]) && !c->wdead[i] &&
		    !vx_framer_held(&c->fr[i]))
			pfd[n].events |= POLLOUT;
		pfd[n++].revents = 0;
	}
	return n;
}

int
vx_conn_timeout(const struct vx_conn *c)
{
	int64_t first = -1, now;
	unsigned i;

	if (c->busy || (c->dead && !c->told))
		return 0;
	for (i = 0; i < 2; i++)	/* no event says the peer has read */
		if (c->sock[i] >= 0 && vx_framer_held(&c->fr[i]))
			return 1;
	for (i = 0; i < c->ncalls; i++)
		if (c->calls[i].deadline >= 0 &&
		    (first < 0 || c->calls[i].deadline < first))
			first = c->calls[i].deadline;
	if (first < 0)
		return -1;
	now = c->now(c->now_arg);
	if (first <= now)
		return 0;
	return first - now > 0x7fffffff ? 0x7fffffff : (int)(first - now);
}

/* --- stepping ------------------------------------------------------------- */

/* Turn the frame just taken from chan into *ev. */
static void
classify(struct vx_conn *c, int chan, struct vx_conn_event *ev)
{
	struct vx_cursor cur;
	struct pending *p;
	uint32_t size;

	vx_cursor_init(&cur, c->cur.data, c->cur.len, 0);
	vx_cursor_u16(&cur, &ev->id);
	vx_cursor_u16(&cur, &ev->cmd);
	vx_cursor_u32(&cur, &size);
	vx_cursor_u32(&cur, &ev->flags);
	ev->chan = chan;
	if (c->cur.bad) {
		ev->kind = VX_CONN_EV_BAD;
		ev->err = c->cur.bad;
		return;
	}
	feed_in(c, chan);
	if ((ev->flags & VX_F_TYPE_MASK) != VX_F_TYPE_REPLY) {
		ev->kind = VX_CONN_EV_REQUEST;
		return;
	}
	if ((p = find_call(c, chan, ev->id)) == NULL) {
		ev->kind = VX_CONN_EV_STRAY;
		return;
	}
	finish_call(c, (unsigned)(p - c->calls), 0, ev);
	ev->flags = (uint32_t)vx_load(c->cur.data + VX_HDR_OFF_FLAGS, 4, 0);
}

/* The peer closed the twin socket between messages: calls there fail
 * (expire), requests go on the main socket. */
static void
twin_gone(struct vx_conn *c)
{
	close(c->sock[VX_CHAN_TWIN]);
	c->sock[VX_CHAN_TWIN] = -1;
	vx_framer_set_sock(&c->fr[VX_CHAN_TWIN], -1);
}

/* Read chan until a message is whole: 1 with it in c->cur, 0 if none can
 * be had now, or the connection's end. */
static int
read_one(struct vx_conn *c, int chan)
{
	struct vx_framer *f = &c->fr[chan];
	int r;

	for (;;) {
		if ((r = vx_framer_next(f, &c->cur)) != 0)
			return r;
		r = vx_framer_recv(f);
		if (r == VX_ERR_AGAIN)
			return 0;
		/* 0 and 1: read on; a bad-fds message comes out marked */
		if (r == VX_ERR_CLOSED && chan == VX_CHAN_TWIN) {
			twin_gone(c);	/* the main socket goes on */
			return 0;
		}
		if (r < 0 && r != VX_ERR_FDS)
			return die(c, chan, r, "reading from");
	}
}

/* After the end: every pending call fails, then the end itself. */
static int
tell_end(struct vx_conn *c, struct vx_conn_event *ev)
{
	if (c->ncalls > 0) {
		finish_call(c, 0, c->dead, ev);
		return 1;
	}
	if (c->told)
		return 0;
	c->told = 1;
	ev->kind = VX_CONN_EV_CLOSED;
	ev->err = c->dead;
	return 1;
}

static int
expire(struct vx_conn *c, struct vx_conn_event *ev)
{
	int64_t now = -1;
	unsigned i;

	for (i = 0; i < c->ncalls; i++) {
		if (c->sock[c->calls[i].chan] < 0) {
			finish_call(c, i, VX_ERR_CLOSED, ev);
			return 1;
		}
		if (c->calls[i].deadline < 0)
			continue;
		if (now < 0)
			now = c->now(c->now_arg);
		if (c->calls[i].deadline <= now) {
			finish_call(c, i, VX_ERR_TIMEOUT, ev);
			return 1;
		}
	}
	return 0;
}

static int
step(struct vx_conn *c, struct vx_conn_event *ev)
{
	int chan, r;

	for (chan = 0; chan < 2 && !c->dead && !input_ready(c); chan++)
		if (c->sock[chan] >= 0)
			flush(c, chan);
	/* the twin first: what the peer asks there may be what it needs
	 * before it answers on the main socket */
	for (chan = 1; chan >= 0 && !c->dead; chan--) {
		if (c->sock[chan] < 0 || !may_read(c, chan))
			continue;
		r = read_one(c, chan);
		if (r == VX_ERR_NOMEM)
			return r;
		if (r > 0) {
			classify(c, chan, ev);
			return 1;
		}
	}
	if (c->dead)
		return tell_end(c, ev);
	return expire(c, ev);
}

int
vx_conn_step(struct vx_conn *c, struct vx_conn_event *ev)
{
	int r;

	vx_frame_release(&c->cur);
	memset(&c->cur, 0, sizeof(c->cur));
	memset(ev, 0, sizeof(*ev));
	c->have_m = 0;
	r = step(c, ev);
	c->busy = r > 0;
	if (r > 0 && c->cur.data != NULL)
		ev->frame = &c->cur;
	return r;
}

int
vx_conn_decode(struct vx_conn *c, const struct vx_conn_event *ev,
    struct vx_msg *m)
{
	struct vx_dctx ctx;

	if (ev->frame == NULL)
		return VX_ERR_INVALID;
	if (ev->frame == &c->cur && c->have_m) {
		*m = c->curm;	/* decoded as it came in */
		return 0;
	}
	dctx_for(c, 0, ev->chan, ev->frame->nfds, &ctx);
	return vx_decode(&c->dec[c->cur_dec], ev->frame->data, ev->frame->len,
	    &ctx, m);
}

void
vx_conn_take(struct vx_conn *c, struct vx_conn_event *ev, struct vx_frame *out)
{
	*out = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	ev->frame = NULL;
	c->have_m = 0;
	c->cur_dec ^= 1;	/* its decode stays with it */
}

/* --- the blocking helper -------------------------------------------------- */

/* An event vx_conn_call() does not wait for: the handler's, or, without
 * one, a request is refused. */
static void
hand_off(struct vx_conn *c, struct vx_conn_event *ev)
{
	uint8_t m[VX_HDR_SIZE];

	if (c->handler != NULL) {
		c->handler(c->handler_arg, c, ev);
		return;
	}
	if (ev->kind != VX_CONN_EV_REQUEST || (ev->flags & VX_F_NO_REPLY))
		return;
	vx_store(m + VX_HDR_OFF_ID, 2, ev->id, 0);
	vx_store(m + VX_HDR_OFF_CMD, 2, ev->cmd, 0);
	vx_store(m + VX_HDR_OFF_SIZE, 4, sizeof(m), 0);
	vx_store(m + VX_HDR_OFF_FLAGS, 4, VX_F_TYPE_REPLY | VX_F_ERROR, 0);
	vx_store(m + VX_HDR_OFF_ERROR, 4, ENOTSUP, 0);
	vx_conn_send(c, ev->chan, m, sizeof(m), NULL, 0);
}

/* Poll c until it may have something to do, or deadline dl (-1: none). */
static int
wait_conn(struct vx_conn *c, int64_t dl)
{
	struct pollfd pfd[VX_CONN_MAX_POLLFDS];
	int n = vx_conn_pollfds(c, pfd);
	int t = vx_conn_timeout(c);

	if (dl >= 0) {
		int64_t left = dl - c->now(c->now_arg);

		if (left < 0)
			left = 0;
		if (t < 0 || left < t)
			t = (int)left;
	}
	if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
		return fail(c, VX_ERR_IO, "poll: %s", strerror(errno));
	return 0;
}

/* Why call id on chan ended, in errmsg (a hang-up: vx_conn_call's). */
static int
call_failed(struct vx_conn *c, const struct vx_conn_event *ev, int timeout_ms)
{
	const char *what = vx_cmd_name(ev->cmd);

	if (ev->err == VX_ERR_TIMEOUT)
		return fail(c, ev->err, "no reply to %s (msg_id 0x%x) within "
		    "%d ms", what ? what : "command", ev->id, timeout_ms);
	return ev->err;	/* die() said why */
}

/* The peer hung up with cmd in flight: the same words whether sending it
 * or waiting for its reply saw the hang-up first, a race of no interest. */
static int
hung_up(struct vx_conn *c, int err, uint16_t cmd, uint16_t id, int noreply)
{
	const char *what = vx_cmd_name(cmd);

	return fail(c, err, "%s closed the connection while %s (msg_id 0x%x) "
	    "%s", peer_name(c), what ? what : "a command", id, noreply ?
	    "was being sent" : "awaited its reply");
}

static int
call_loop(struct vx_conn *c, int chan, int id, uint16_t cmd, int noreply,
    int timeout_ms, struct vx_conn_event *ev)
{
	int64_t dl = timeout_ms < 0 ? -1 : c->now(c->now_arg) + timeout_ms;
	int r;

	for (;;) {
		if (noreply && !vx_framer_pending(&c->fr[chan]))
			return 0;
		if (noreply && c->wdead[chan])
			return fail(c, VX_ERR_CLOSED, "%s closed the "
			    "connection", peer_name(c));
		if ((r = vx_conn_step(c, ev)) < 0)
			return fail(c, r, "out of memory");
		if (r == 0) {
			if (noreply && c->dead)
				return c->dead;
			if (noreply && dl >= 0 && c->now(c->now_arg) >= dl)
				return fail(c, VX_ERR_TIMEOUT, "sending %s "
				    "failed: timed out", cmd_text(cmd));
			if ((r = wait_conn(c, noreply ? dl : -1)) < 0)
				return r;
			continue;
		}
		if (ev->kind == VX_CONN_EV_CALL && ev->id == id &&
		    ev->chan == chan)
			return ev->err != 0 ? call_failed(c, ev, timeout_ms) : 0;
		hand_off(c, ev);
	}
}

int
vx_conn_call(struct vx_conn *c, int chan, uint8_t *msg, size_t len,
    const int *fds, int nfds, int timeout_ms, struct vx_conn_event *ev)
{
	uint16_t cmd;
	int id, r, noreply;

	memset(ev, 0, sizeof(*ev));
	if (len < VX_HDR_SIZE)
		return fail(c, VX_ERR_INVALID, "message shorter than a header");
	cmd = (uint16_t)vx_load(msg + VX_HDR_OFF_CMD, 2, 0);
	noreply = (vx_load(msg + VX_HDR_OFF_FLAGS, 4, 0) & VX_F_NO_REPLY) != 0;
	if (c->in_call)
		return fail(c, VX_ERR_INVALID, "vx_conn_call inside its "
		    "own handler");
	id = vx_conn_start(c, chan, msg, len, fds, nfds, timeout_ms, NULL);
	if (id < 0) {
		r = id;
		id = (int)vx_load(msg + VX_HDR_OFF_ID, 2, 0);
	} else {
		c->in_call = 1;
		r = call_loop(c, chan, id, cmd, noreply, timeout_ms, ev);
		c->in_call = 0;
	}
	ev->id = (uint16_t)id;
	ev->cmd = cmd;
	if (r == VX_ERR_CLOSED || r == VX_ERR_TRUNCATED)
		return hung_up(c, r, cmd, ev->id, noreply);
	return r;
}
