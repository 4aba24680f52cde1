/*
 * server-replay.c - the server side of a trace played to live clients
 * (contract in server-replay-int.h).
 *
 * Each recorded connection is played through a window over its entries
 * (lib/server-replay-win.c): client requests, our replies, our DMA
 * requests and the client's replies to them, interrupts, in recorded
 * order, each reply linked to its request by the walk's pairing.  A live
 * request is matched with a candidate of the window; playing it walks its
 * span, the entries from it to the next recorded request: its reply goes
 * where it was recorded, DMA requests are started on the connection and,
 * where the trace has the client's reply, the span waits for it (the
 * connection keeps reading; requests that come meanwhile queue);
 * interrupts are signalled.  Replies to other requests in the span are
 * theirs to send.  The window slides only between spans.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline-int.h"
#include "server-replay-int.h"
#include "server-replay-win.h"
#include "vx-array.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-diff.h"
#include "vx-error.h"
#include "vx-msg.h"

#define DMA_TIMEOUT_MS	10000		/* for the client's DMA reply */
#define STEP_BUDGET	64		/* events per vx_sreplay_step */
#define SHOWN_DIFFS	4		/* differences named per departure */
#define MAX_QUEUED	1024		/* requests waiting on a DMA reply */
#define MAX_SHOWN	1000		/* departure lines; then only counted */
#define MAX_IRQFDS	2048		/* eventfds kept from SET_IRQS */

struct irqfd {
	uint32_t index, vector;
	int fd;
};

struct vx_sreplay {
	char *path;			/* the trace, read again per session */
	unsigned k;			/* the window: requests each way */
	struct sr_conn *sess;		/* the recorded connections to play */
	size_t nsess, next;
	struct sr_conn *cur;		/* the one being played */
	struct sr_win win;		/* its entries around the client */
	struct vx_conn *conn;
	struct vx_decoder ldec, rdec;	/* live, recorded messages */
	struct vx_diff_rules *rules;	/* what may differ */
	uint8_t *out;			/* a recorded message to send */
	size_t outcap;
	/* the request being played */
	int active;
	uint64_t req, pos;		/* its entry, the next of its span */
	uint16_t live_id;
	int want_reply, replied, waiting;
	/* requests that came while one was being played */
	struct vx_frame *q;
	size_t qhead, qn, qcap;
	struct irqfd *irq;
	size_t nirq, irqcap;
	int dead;
	char errmsg[600];
	struct vx_deadlines dl;		/* on the client, as the live server */
	int got_request;		/* the handshake is over */
	struct vx_sreplay_stats st;
	vx_server_log_fn *logfn;
	void *logarg;
	int verbose;
};

/* --- reporting ---------------------------------------------------------- */

static void
vlog(const struct vx_sreplay *r, int level, const char *fmt, va_list ap)
{
	char line[1024];

	if (r->logfn == NULL || (level == VX_SERVER_DEBUG && !r->verbose))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	r->logfn(r->logarg, level, line);
}

static void
say(const struct vx_sreplay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct vx_sreplay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(r, VX_SERVER_DEBUG, fmt, ap);
	va_end(ap);
}

/* A departure from the recording: counted, and always a line. */
static void
depart(struct vx_sreplay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
depart(struct vx_sreplay *r, const char *fmt, ...)
{
	char line[900];
	va_list ap;

	if (++r->st.departures > MAX_SHOWN || r->logfn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->logfn(r->logarg, VX_SERVER_NOTICE, line);
	if (r->st.departures == MAX_SHOWN)
		r->logfn(r->logarg, VX_SERVER_NOTICE, "departures: more are "
		    "counted, not shown");
}

int
vx_sreplay_open(const char *path, struct vx_sreplay **out, char *err,
    size_t errcap)
{
	struct vx_sreplay *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (errcap > 0)
		err[0] = '\0';
	if (r == NULL) {
		snprintf(err, errcap, "out of memory");
		return VX_ERR_NOMEM;
	}
	vx_decoder_init(&r->ldec);
	vx_decoder_init(&r->rdec);
	r->ldec.lazy = r->rdec.lazy = 1;	/* items only for the diff */
	if ((r->rules = vx_diff_rules_new(VX_DIFF_NO_SHIFT)) == NULL) {
		snprintf(err, errcap, "out of memory");
		vx_sreplay_free(r);
		return VX_ERR_NOMEM;
	}
	r->k = VX_SREPLAY_WINDOW_DEF;
	if ((r->path = strdup(path)) == NULL) {
		snprintf(err, errcap, "out of memory");
		vx_sreplay_free(r);
		return VX_ERR_NOMEM;
	}
	if ((rc = sr_scan(path, &r->sess, &r->nsess, err, errcap)) < 0) {
		vx_sreplay_free(r);
		return rc;
	}
	r->st.sessions = (unsigned)r->nsess;
	*out = r;
	return 0;
}

void
vx_sreplay_free(struct vx_sreplay *r)
{
	if (r == NULL)
		return;
	vx_sreplay_detach(r);
	free(r->sess);
	free(r->path);
	free(r->out);
	free(r->q);
	free(r->irq);
	vx_decoder_release(&r->ldec);
	vx_decoder_release(&r->rdec);
	vx_diff_rules_free(r->rules);
	free(r);
}

int
vx_sreplay_only(struct vx_sreplay *r, uint32_t conn)
{
	size_t i, keep = r->nsess;

	if (r->next > 0 || r->conn != NULL)
		return VX_ERR_BUSY;
	for (i = 0; i < r->nsess; i++)
		if (r->sess[i].conn == conn)
			keep = i;
	if (keep == r->nsess)
		return VX_ERR_NOENT;
	r->sess[0] = r->sess[keep];
	r->nsess = 1;
	r->st.sessions = 1;
	return 0;
}

int
vx_sreplay_set_window(struct vx_sreplay *r, unsigned k)
{
	if (k == 0 || k > VX_SREPLAY_WINDOW_MAX)
		return VX_ERR_INVALID;
	r->k = k;
	return 0;
}

void
vx_sreplay_set_log(struct vx_sreplay *r, vx_server_log_fn *fn, void *arg,
    int verbose)
{
	r->logfn = fn;
	r->logarg = arg;
	r->verbose = fn != NULL && verbose;
}

int
vx_sreplay_add_rule(struct vx_sreplay *r, const char *line, char *why,
    size_t whycap)
{
	return vx_diff_rules_add(r->rules, line, why, whycap);
}

int
vx_sreplay_load_rules(struct vx_sreplay *r, const char *path, char *why,
    size_t whycap)
{
	return vx_diff_rules_load(r->rules, path, why, whycap);
}

void
vx_sreplay_get_stats(const struct vx_sreplay *r, struct vx_sreplay_stats *st)
{
	*st = r->st;
}

/* --- recorded messages -------------------------------------------------- */

/* Decode a recorded entry as it was recorded. */
static int
decode_rec(struct vx_sreplay *r, const struct sr_ent *e, struct vx_msg *m)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };

	ctx.dir = e->kind == SR_REPLY || e->kind == SR_SCMD ? VX_S2C : VX_C2S;
	ctx.chan = e->chan;
	ctx.peer = e->peer;
	ctx.nfds = e->nfds;
	return vx_decode(&r->rdec, e->bytes, e->len, &ctx, m);
}

/* A copy of entry e's bytes to send, with msg_id id. */
static uint8_t *
out_copy(struct vx_sreplay *r, const struct sr_ent *e, uint16_t id)
{
	if (e->len > r->outcap) {
		uint8_t *n = realloc(r->out, e->len);

		if (n == NULL)
			return NULL;
		r->out = n;
		r->outcap = e->len;
	}
	memcpy(r->out, e->bytes, e->len);
	vx_store(r->out + VX_HDR_OFF_ID, 2, id, 0);
	return r->out;
}

/* --- comparing ---------------------------------------------------------- */

/* "KEY recorded R, live L (byte N); ...": the first differences. */
static void
diff_text(const struct vx_difference *d, int n, int all, char *out,
    size_t cap)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n && len < cap; i++) {
		int64_t off = d[i].live_off >= 0 ? d[i].live_off : d[i].rec_off;

		len += (size_t)snprintf(out + len, cap - len, "%s%s recorded "
		    "%s, live %s", i ? "; " : "", vx_diff_key(&d[i]),
		    d[i].rec, d[i].live);
		if (off >= 0 && len < cap)
			len += (size_t)snprintf(out + len, cap - len,
			    " (byte %" PRId64 ")", off);
	}
	if (all > n && len < cap)
		snprintf(out + len, cap - len, "; and %d more", all - n);
}

/*
 * Does the live message equal recorded entry e, field by field (the diff,
 * with its rules)?  Returns 1 equal, 0 not (the differences in why, if
 * why is not NULL), or VX_ERR_NOMEM.  Bytes equal but for the msg_id,
 * with as many descriptors, decode the same: no need to ask the diff.
 */
static int
same_request(struct vx_sreplay *r, const struct vx_msg *live,
    const struct sr_ent *e, char *why, size_t cap)
{
	const uint8_t *rb = e->bytes;
	struct vx_difference d[SHOWN_DIFFS];
	struct vx_msg rm;
	int n;

	if (live->len == e->len && live->nfds == e->nfds &&
	    memcmp(live->buf + VX_HDR_OFF_CMD, rb + VX_HDR_OFF_CMD,
	    e->len - VX_HDR_OFF_CMD) == 0)
		return 1;
	if (decode_rec(r, e, &rm) < 0)
		return VX_ERR_NOMEM;
	if ((n = vx_diff(r->rules, &rm, live, d, SHOWN_DIFFS)) < 0)
		return n;
	if (n > 0 && why != NULL)
		diff_text(d, n < SHOWN_DIFFS ? n : SHOWN_DIFFS, n, why, cap);
	return n == 0;
}

/* --- descriptors as recorded -------------------------------------------- */

/* A memfd of the recorded size and seals (zeros: the recorded content of
 * mapped memory is not in the trace). */
static int
make_memfd(uint64_t size, unsigned seals)
{
	int fd = memfd_create("vfuctl-replay", MFD_CLOEXEC |
	    (seals ? MFD_ALLOW_SEALING : 0));

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    (seals && fcntl(fd, F_ADD_SEALS, (int)seals) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An unlinked regular file of the recorded size (libvfio-user passes its
 * regions' files): in $TMPDIR, else /tmp; a memfd where neither takes
 * one. */
static int
make_file(uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir != NULL && dir[0] != '\0' ? dir : "/tmp",
	    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return make_memfd(size, 0);
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One descriptor like the recorded one; for a socket, *twin gets ours. */
static int
make_fd(const struct sr_fd *f, int *twin)
{
	int sv[2];

	switch (f->kind) {
	case VX_FD_MEMFD:
		return make_memfd(f->size, f->seals);
	case VX_FD_FILE:
		return make_file(f->size);
	case VX_FD_EVENTFD:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	case VX_FD_SOCKET:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -1;
		if (*twin >= 0)
			close(*twin);
		*twin = sv[0];
		return sv[1];
	default:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
}

static void
close_fds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* --- interrupts --------------------------------------------------------- */

static struct irqfd *
irq_find(struct vx_sreplay *r, uint32_t index, uint32_t vector)
{
	size_t i;

	for (i = 0; i < r->nirq; i++)
		if (r->irq[i].index == index && r->irq[i].vector == vector)
			return &r->irq[i];
	return NULL;
}

static void
irq_clear(struct vx_sreplay *r, uint32_t index, uint64_t start, uint64_t count)
{
	size_t i, kept = 0;

	for (i = 0; i < r->nirq; i++) {
		struct irqfd *q = &r->irq[i];

		if (q->index == index && (count == 0 ||
		    (q->vector >= start && q->vector - start < count)))
			close(q->fd);
		else
			r->irq[kept++] = *q;
	}
	r->nirq = kept;
}

/* The live client's SET_IRQS: keep its eventfds to signal recorded
 * interrupts on (the frame's descriptors become ours). */
static void
take_irqfds(struct vx_sreplay *r, const struct vx_msg *m, struct vx_frame *f)
{
	uint64_t flags = 0, index = 0, start = 0, count = 0;
	int k;

	vx_msg_get(m, VXF_IRQ_SET_FLAGS, &flags);
	vx_msg_get(m, VXF_IRQ_INDEX, &index);
	vx_msg_get(m, VXF_IRQ_START, &start);
	vx_msg_get(m, VXF_IRQ_COUNT, &count);
	if (index > UINT32_MAX || start > UINT32_MAX)
		return;
	if (count == 0 && (flags & VX_IRQ_DATA_NONE)) {
		irq_clear(r, (uint32_t)index, 0, 0);
		return;
	}
	if (!(flags & VX_IRQ_DATA_EVENTFD) || count == 0)
		return;
	irq_clear(r, (uint32_t)index, start, count);
	for (k = 0; k < f->nfds && (uint64_t)k < count; k++) {
		struct irqfd *n = r->nirq < MAX_IRQFDS ? vx_array_room(r->irq,
		    r->nirq, &r->irqcap, sizeof(*n), 8) : NULL;

		if (n == NULL)
			return;	/* the frame closes what we do not keep */
		r->irq = n;
		n[r->nirq].index = (uint32_t)index;
		n[r->nirq].vector = (uint32_t)(start + (uint64_t)k);
		n[r->nirq++].fd = f->fds[k];
		f->fds[k] = -1;
	}
}

static void
play_irq(struct vx_sreplay *r, const struct sr_ent *e)
{
	struct irqfd *q = irq_find(r, e->cmd, e->len);
	uint64_t n = e->count ? e->count : 1;
	char ib[32];
	const char *iname = vx_tok_name(vx_names_irq, e->cmd);

	if (iname == NULL) {
		snprintf(ib, sizeof(ib), "index %u", e->cmd);
		iname = ib;
	}
	if (q == NULL) {
		depart(r, "departure: frame %" PRIu64 ": the recorded "
		    "interrupt %s vector %" PRIu32 " has no eventfd: the "
		    "client did not set one with SET_IRQS", e->frame, iname,
		    e->len);
		return;
	}
	if (write(q->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		say(r, "interrupt %s vector %" PRIu32 ": %s", iname, e->len,
		    strerror(errno));
	r->st.irqs++;
	say(r, "frame %" PRIu64 ": interrupt %s vector %" PRIu32
	    " signalled %" PRIu64 " time(s)", e->frame, iname, e->len, n);
}

/* --- playing a span ----------------------------------------------------- */

static void
log_sent(struct vx_sreplay *r, const struct sr_ent *e, uint16_t id)
{
	struct vx_msg m;
	char sum[512];

	if (!r->verbose || decode_rec(r, e, &m) < 0)
		return;
	vx_summary(&m, sum, sizeof(sum));
	say(r, "s2c 0x%04x %s (as frame %" PRIu64 ")", id, sum, e->frame);
}

/* Send recorded reply e for the live request id, descriptors as recorded. */
static void
send_reply(struct vx_sreplay *r, const struct sr_ent *e, uint16_t id)
{
	int fds[VX_MAX_FDS], twin = -1, rc;
	unsigned i, n = e->nfds > VX_MAX_FDS ? VX_MAX_FDS : e->nfds;
	uint8_t *msg = out_copy(r, e, id);

	if (msg == NULL) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	for (i = 0; i < n; i++)
		if ((fds[i] = make_fd(&e->fds[i], &twin)) < 0) {
			snprintf(r->errmsg, sizeof(r->errmsg), "making the "
			    "descriptors of frame %" PRIu64 ": %s", e->frame,
			    strerror(errno));
			close_fds(fds, i);
			r->dead = VX_ERR_IO;
			return;
		}
	log_sent(r, e, id);
	rc = vx_conn_send(r->conn, VX_CHAN_MAIN, msg, e->len, fds, (int)n);
	close_fds(fds, n);	/* the connection holds its copies */
	if (rc < 0) {
		if (twin >= 0)
			close(twin);
		if (rc == VX_ERR_FDS || rc == VX_ERR_TOO_LARGE) {
			depart(r, "departure: frame %" PRIu64 ": the recorded "
			    "reply cannot go to this client: %s", e->frame,
			    vx_conn_errmsg(r->conn));
			return;
		}
		r->dead = rc;
		return;
	}
	if (twin >= 0 && e->cmd == VX_CMD_VERSION && vx_conn_twin(r->conn) < 0)
		vx_conn_set_twin(r->conn, twin);
	else if (twin >= 0)
		close(twin);
}

static void
send_error(struct vx_sreplay *r, uint16_t id, uint16_t cmd, int err)
{
	uint8_t m[VX_HDR_SIZE];

	vx_store(m + VX_HDR_OFF_ID, 2, id, 0);
	vx_store(m + VX_HDR_OFF_CMD, 2, cmd, 0);
	vx_store(m + VX_HDR_OFF_SIZE, 4, sizeof(m), 0);
	vx_store(m + VX_HDR_OFF_FLAGS, 4, VX_F_TYPE_REPLY | VX_F_ERROR, 0);
	vx_store(m + VX_HDR_OFF_ERROR, 4, (uint64_t)vx_err_to_errno(err), 0);
	if (vx_conn_send(r->conn, VX_CHAN_MAIN, m, sizeof(m), NULL, 0) < 0)
		r->dead = vx_conn_ended(r->conn) ? vx_conn_ended(r->conn) :
		    VX_ERR_IO;
}

/* The cookie of a DMA request we start: its entry's seq, never NULL. */
static void *
dma_cookie(uint64_t seq)
{
	return (void *)(uintptr_t)(seq + 1);
}

static uint64_t
dma_seq(const void *cookie)
{
	return (uint64_t)(uintptr_t)cookie - 1;
}

/* Start recorded DMA request seq; its reply comes as a call event. */
static void
start_dma(struct vx_sreplay *r, uint64_t seq)
{
	struct sr_ent *e = sr_win_at(&r->win, seq);
	uint8_t *msg = out_copy(r, e, 0);
	char cb[32];
	int rc;

	if (msg == NULL) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	rc = vx_conn_start(r->conn, e->chan, msg, e->len, NULL, 0,
	    DMA_TIMEOUT_MS, dma_cookie(seq));
	if (rc < 0) {
		if (vx_conn_ended(r->conn)) {
			r->dead = vx_conn_ended(r->conn);
			return;
		}
		depart(r, "departure: frame %" PRIu64 ": the recorded %s "
		    "cannot be sent: %s", e->frame,
		    sr_cmd_text(e->cmd, cb, sizeof(cb)),
		    vx_conn_errmsg(r->conn));
		return;
	}
	r->st.dma++;
	e->used = e->pair != SR_NONE;	/* a reply to wait for */
	log_sent(r, e, (uint16_t)rc);
}

/* The client answered our DMA request seq: compare with the recorded
 * reply. */
static void
dma_replied(struct vx_sreplay *r, struct vx_conn_event *ev, uint64_t seq)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct sr_ent *e = sr_win_at(&r->win, seq);
	const struct sr_ent *rec, *at;
	struct vx_msg lm;
	char why[600], cb[32];

	if (e == NULL)
		return;	/* it had no recorded reply, and has left the window */
	e->used = 0;
	rec = e->pair != SR_NONE ? sr_win_at(&r->win, e->pair) : NULL;
	at = r->active ? sr_win_at(&r->win, r->pos) : NULL;
	if (r->waiting && at != NULL && at->kind == SR_SREPLY &&
	    at->pair == seq)
		r->waiting = 0;
	if (rec == NULL)
		return;	/* no recorded reply to compare with */
	if (ev->err != 0) {
		depart(r, "departure: frame %" PRIu64 ": no reply to the "
		    "recorded %s: %s", e->frame,
		    sr_cmd_text(e->cmd, cb, sizeof(cb)), vx_strerror(ev->err));
		return;
	}
	ctx.chan = (uint8_t)ev->chan;
	ctx.nfds = ev->frame->nfds;
	ctx.peer = rec->peer;
	if (vx_decode(&r->ldec, ev->frame->data, ev->frame->len, &ctx,
	    &lm) < 0) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	if (r->verbose) {
		vx_summary(&lm, why, sizeof(why));
		say(r, "c2s 0x%04x %s", lm.id, why);
	}
	if (same_request(r, &lm, rec, why, sizeof(why)) == 0)
		depart(r, "departure: frame %" PRIu64 ": the reply to %s "
		    "differs: %s", rec->frame,
		    sr_cmd_text(e->cmd, cb, sizeof(cb)), why);
}

/* Send the reply of the request being played, if it has one. */
static void
reply_now(struct vx_sreplay *r)
{
	const struct sr_ent *q = sr_win_at(&r->win, r->req);
	const struct sr_ent *rep = sr_win_at(&r->win, q->pair);

	if (r->replied)
		return;
	r->replied = 1;
	if (!r->want_reply)
		return;
	if (rep == NULL) {
		depart(r, "departure: frame %" PRIu64 ": the recorded request "
		    "has no reply in the trace; answered ENOTSUP", q->frame);
		send_error(r, r->live_id, q->cmd, VX_ERR_UNSUPPORTED);
		return;
	}
	send_reply(r, rep, r->live_id);
}

/* Play the span of the current request until it ends or must wait. */
static void
play(struct vx_sreplay *r)
{
	while (r->active && !r->waiting && !r->dead) {
		struct sr_ent *e = sr_win_at(&r->win, r->pos), *c;

		if (e == NULL || e->kind == SR_REQ) {
			reply_now(r);
			r->active = 0;
			break;
		}
		switch (e->kind) {
		case SR_REPLY:
			if (e->pair == r->req)
				reply_now(r);
			break;
		case SR_SCMD:
			start_dma(r, r->pos);
			break;
		case SR_SREPLY:
			c = sr_win_at(&r->win, e->pair);
			if (c != NULL && c->used) {
				r->waiting = 1;	/* resumed by dma_replied */
				continue;
			}
			break;
		default:
			play_irq(r, e);
			break;
		}
		r->pos++;
	}
}

/* --- matching a live request -------------------------------------------- */

/*
 * The first candidate of the window (in recorded order) with live's
 * command that equals it, else SR_NONE; *first gets the first candidate
 * of its command (or SR_NONE).
 */
static uint64_t
match(struct vx_sreplay *r, const struct vx_msg *live, uint64_t *first,
    int *err)
{
	uint64_t seq;
	int eq;

	*first = SR_NONE;
	for (seq = r->win.first; seq < r->win.hi; seq++) {
		const struct sr_ent *e = sr_win_at(&r->win, seq);

		if (e->kind != SR_REQ || e->cmd != live->cmd ||
		    !sr_win_candidate(&r->win, seq))
			continue;
		if (*first == SR_NONE)
			*first = seq;
		if ((eq = same_request(r, live, e, NULL, 0)) < 0) {
			*err = eq;
			return SR_NONE;
		}
		if (eq)
			return seq;
	}
	return SR_NONE;
}

static void
begin_play(struct vx_sreplay *r, uint64_t seq, const struct vx_msg *live)
{
	sr_win_play(&r->win, seq);
	r->active = 1;
	r->req = seq;
	r->pos = seq + 1;
	r->live_id = live->id;
	r->want_reply = !(live->flags & VX_F_NO_REPLY);
	r->replied = 0;
	r->waiting = 0;
}

/* A live request with no candidate of its command: answered as the
 * newest one played or gone, else ENOTSUP. */
static void
beyond(struct vx_sreplay *r, const struct vx_msg *live, const char *name)
{
	const struct sr_ent *rep;
	uint64_t frame;
	int have = sr_win_last(&r->win, live->cmd, &frame, &rep);

	if (!have && r->win.ended)
		depart(r, "departure: %s 0x%04x: no such request in the "
		    "recorded session; answered ENOTSUP", name, live->id);
	else if (!have)
		depart(r, "departure: %s 0x%04x: no such request in the "
		    "recorded session as far as the window reaches (%"
		    PRIu64 " requests read); answered ENOTSUP", name,
		    live->id, r->win.nread);
	else if (r->win.ended)
		depart(r, "departure: %s 0x%04x: more than the %" PRIu64
		    " recorded; answered as the last one, frame %" PRIu64,
		    name, live->id, sr_win_count(&r->win, live->cmd), frame);
	else
		depart(r, "departure: %s 0x%04x: no unplayed one in the "
		    "window of %u requests; answered as the newest one before "
		    "it, frame %" PRIu64, name, live->id, r->win.k, frame);
	if (live->flags & VX_F_NO_REPLY)
		return;
	if (have && rep != NULL)
		send_reply(r, rep, live->id);
	else
		send_error(r, live->id, live->cmd, VX_ERR_UNSUPPORTED);
}

/* A live request that matches no candidate: report and answer. */
static void
departed(struct vx_sreplay *r, const struct vx_msg *live, uint64_t first)
{
	char why[600], cb[32];
	const char *name = sr_cmd_text(live->cmd, cb, sizeof(cb));
	const struct sr_ent *e = sr_win_at(&r->win, first);

	if (e == NULL) {
		beyond(r, live, name);
		return;
	}
	same_request(r, live, e, why, sizeof(why));
	depart(r, "departure: frame %" PRIu64 ": %s 0x%04x differs from the "
	    "recorded request: %s", e->frame, name, live->id, why);
	begin_play(r, first, live);
	play(r);
}

/* Answer one live request (frame f): match it and play its span. */
static void
serve(struct vx_sreplay *r, struct vx_frame *f)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg live;
	uint64_t seq, first;
	int err = 0;
	char sum[512];

	if ((err = sr_win_fill(&r->win)) < 0) {
		snprintf(r->errmsg, sizeof(r->errmsg), "reading %s: %s",
		    r->path, r->win.errmsg);
		r->dead = err;
		return;
	}
	ctx.nfds = f->nfds;
	ctx.peer = r->cur->client_peer;
	if (vx_decode(&r->ldec, f->data, f->len, &ctx, &live) < 0) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	r->st.requests++;
	if (r->verbose) {
		vx_summary(&live, sum, sizeof(sum));
		say(r, "c2s 0x%04x %s", live.id, sum);
	}
	if (live.cmd == VX_CMD_DEVICE_SET_IRQS && live.status == VX_MSG_OK)
		take_irqfds(r, &live, f);
	seq = match(r, &live, &first, &err);
	if (err < 0) {
		r->dead = err;
		return;
	}
	if (seq == SR_NONE) {
		departed(r, &live, first);
		return;
	}
	begin_play(r, seq, &live);
	play(r);
}

/* --- the connection ----------------------------------------------------- */

static int
queue_frame(struct vx_sreplay *r, struct vx_conn_event *ev)
{
	struct vx_frame *nq;

	if (r->qhead > 0 && r->qn == r->qcap) {
		/* what was served goes: the queue stays within its bound */
		memmove(r->q, r->q + r->qhead,
		    (r->qn - r->qhead) * sizeof(*r->q));
		r->qn -= r->qhead;
		r->qhead = 0;
	}
	if (r->qn - r->qhead >= MAX_QUEUED) {
		/* the client streams requests and does not answer our DMA */
		snprintf(r->errmsg, sizeof(r->errmsg), "%d requests wait "
		    "for the client's reply to a DMA request; dropping it",
		    MAX_QUEUED);
		return VX_ERR_TOO_LARGE;
	}
	nq = vx_array_room(r->q, r->qn, &r->qcap, sizeof(*nq), 4);
	if (nq == NULL)
		return VX_ERR_NOMEM;
	r->q = nq;
	vx_conn_take(r->conn, ev, &r->q[r->qn++]);
	return 0;
}

/* Requests that queued while a span waited, now that it is done. */
static void
drain_queue(struct vx_sreplay *r)
{
	while (!r->active && !r->dead && r->qhead < r->qn) {
		struct vx_frame *f = &r->q[r->qhead++];

		serve(r, f);
		vx_frame_release(f);
	}
	if (r->qhead == r->qn)
		r->qhead = r->qn = 0;
}

/* Serve a request now, or after the one whose span is being played. */
static void
on_request(struct vx_sreplay *r, struct vx_conn_event *ev)
{
	int rc;

	if (r->active || r->qhead < r->qn) {
		if ((rc = queue_frame(r, ev)) < 0)
			r->dead = rc;
		return;
	}
	serve(r, ev->frame);
}

static void
on_event(struct vx_sreplay *r, struct vx_conn_event *ev)
{
	char cb[32];

	switch (ev->kind) {
	case VX_CONN_EV_REQUEST:
		r->got_request = 1;
		if (ev->chan != VX_CHAN_MAIN) {
			say(r, "dropping a client command on the twin socket");
			break;
		}
		on_request(r, ev);
		break;
	case VX_CONN_EV_CALL:
		if (ev->cookie != NULL)
			dma_replied(r, ev, dma_seq(ev->cookie));
		play(r);
		break;
	case VX_CONN_EV_STRAY:
		say(r, "dropping a reply to no command of ours");
		break;
	case VX_CONN_EV_BAD:
		if (ev->err != VX_ERR_TOO_LARGE && ev->chan == VX_CHAN_MAIN &&
		    ev->frame != NULL) {
			/* a header that cannot be framed was recorded as its
			 * 16 bytes: played as a request like any other */
			on_request(r, ev);
			break;
		}
		depart(r, "departure: an unframeable message 0x%04x (%s): %s",
		    ev->id, sr_cmd_text(ev->cmd, cb, sizeof(cb)),
		    vx_strerror(ev->err));
		if (ev->err == VX_ERR_TOO_LARGE)
			r->dead = VX_ERR_TOO_LARGE;
		else if (!(ev->flags & VX_F_NO_REPLY) &&
		    ev->chan == VX_CHAN_MAIN)
			send_error(r, ev->id, ev->cmd, VX_ERR_INVALID);
		break;
	default:	/* VX_CONN_EV_CLOSED */
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
		    vx_conn_errmsg(r->conn));
		r->dead = ev->err ? ev->err : VX_ERR_CLOSED;
		break;
	}
}

/* --- deadlines on the client -------------------------------------------- */

void
vx_sreplay_set_deadlines(struct vx_sreplay *r, int handshake_ms,
    int message_ms)
{
	vx_deadlines_set(&r->dl, handshake_ms, message_ms);
}

/* A client that never speaks, or stops mid-message, would otherwise hold
 * the replay (and the CI job) for ever. */
static void
check_deadlines(struct vx_sreplay *r)
{
	char why[96];

	if (vx_deadlines_check(&r->dl, r->conn, r->got_request, "request",
	    why, sizeof(why)) < 0) {
		snprintf(r->errmsg, sizeof(r->errmsg), "the client %s", why);
		r->dead = VX_ERR_TIMEOUT;
	}
}

int
vx_sreplay_attach(struct vx_sreplay *r, int sock)
{
	struct vx_limits lim;
	struct sr_conn *s;
	int rc;

	if (r->conn != NULL)
		return VX_ERR_BUSY;
	if (r->next >= r->nsess)
		return VX_ERR_NOENT;
	s = &r->sess[r->next];
	/* what the recorded server accepted, and what it was sent anyway */
	lim.max_msg_size = s->in_msg > s->max_msg ? s->in_msg : s->max_msg;
	lim.max_fds = (int)(s->max_fds ? s->max_fds : 1);
	if ((r->conn = vx_conn_new(sock, VX_CONN_SERVER, &lim)) == NULL)
		return VX_ERR_NOMEM;
	vx_conn_set_next_id(r->conn, 0);
	/*
	 * What the recorded server sent, the client took: real servers send
	 * more than the client's VERSION allows (libvfio-user's migration
	 * data beyond max_data_xfer_size), and a replay sends what they did.
	 */
	vx_conn_set_peer_limits(r->conn, s->out_fds > 1 ? (int)s->out_fds : 1,
	    s->out_msg > lim.max_msg_size ? s->out_msg : lim.max_msg_size);
	r->cur = s;
	r->next++;
	r->active = r->waiting = r->dead = 0;
	r->errmsg[0] = '\0';
	r->got_request = 0;
	vx_deadlines_start(&r->dl);
	say(r, "playing recorded connection %" PRIu32 " (%" PRIu64
	    " requests)", s->conn, s->nreq);
	if ((rc = sr_win_open(&r->win, r->path, s->conn, r->k)) < 0) {
		/* the first step says so, and the client is let go */
		snprintf(r->errmsg, sizeof(r->errmsg), "reading %s: %s",
		    r->path, r->win.errmsg);
		r->dead = rc;
	}
	return 0;
}

/* Recorded requests the client never sent: one departure. */
static void
report_unplayed(struct vx_sreplay *r)
{
	uint64_t frame;
	uint16_t cmd;
	char cb[32];

	if (r->win.played >= r->cur->nreq ||
	    sr_win_unplayed(&r->win, &frame, &cmd) <= 0)
		return;
	depart(r, "departure: the client ended after %" PRIu64 " of %" PRIu64
	    " recorded requests; the first not played: frame %" PRIu64 " (%s)",
	    r->win.played, r->cur->nreq, frame,
	    sr_cmd_text(cmd, cb, sizeof(cb)));
}

void
vx_sreplay_detach(struct vx_sreplay *r)
{
	size_t i;

	if (r->conn == NULL)
		return;
	report_unplayed(r);
	r->st.served++;
	for (i = r->qhead; i < r->qn; i++)
		vx_frame_release(&r->q[i]);
	r->qhead = r->qn = 0;
	for (i = 0; i < r->nirq; i++)
		close(r->irq[i].fd);
	r->nirq = 0;
	sr_win_close(&r->win);
	vx_conn_free(r->conn);
	r->conn = NULL;
	r->cur = NULL;
	r->active = 0;
}

int
vx_sreplay_attached(const struct vx_sreplay *r)
{
	return r->conn != NULL;
}

int
vx_sreplay_done(const struct vx_sreplay *r)
{
	return r->conn == NULL && r->next >= r->nsess;
}

int
vx_sreplay_pollfds(const struct vx_sreplay *r, struct pollfd *pfd)
{
	return r->conn != NULL ? vx_conn_pollfds(r->conn, pfd) : 0;
}

int
vx_sreplay_timeout(const struct vx_sreplay *r)
{
	if (r->conn == NULL)
		return -1;
	if (r->dead)
		return 0;
	return vx_deadlines_timeout(&r->dl, vx_conn_timeout(r->conn));
}

int
vx_sreplay_step(struct vx_sreplay *r)
{
	struct vx_conn_event ev;
	int n, rc;

	if (r->conn == NULL)
		return VX_ERR_CLOSED;
	for (n = 0; n < STEP_BUDGET && !r->dead; n++) {
		if ((rc = vx_conn_step(r->conn, &ev)) < 0) {
			snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
			r->dead = rc;
		} else if (rc == 0) {
			break;
		} else {
			on_event(r, &ev);
			drain_queue(r);
		}
	}
	if (!r->dead)
		check_deadlines(r);
	if (r->dead && r->errmsg[0] == '\0')
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
		    vx_conn_ended(r->conn) ? vx_conn_errmsg(r->conn) :
		    vx_strerror(r->dead));
	return r->dead;
}

const char *
vx_sreplay_errmsg(const struct vx_sreplay *r)
{
	return r->errmsg;
}
