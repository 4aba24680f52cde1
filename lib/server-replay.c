/*
 * server-replay.c - the server side of a trace played to live clients
 * (contract in server-replay-int.h).
 *
 * Loading turns each recorded connection into a session: its records in
 * order as entries (client requests, our replies, our DMA requests and the
 * client's replies to them, interrupts), each reply linked to its request
 * by the walk's pairing, the message bytes in one arena, and per command
 * the requests in recorded order for matching.  Playing a matched request
 * walks its span, the entries from it to the next recorded request: its
 * reply goes where it was recorded, DMA requests are started on the
 * connection and, where the trace has the client's reply, the span waits
 * for it (the connection keeps reading; requests that come meanwhile
 * queue); interrupts are signalled.  Replies to other requests in the span
 * are theirs to send.
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

#include "server-replay-int.h"
#include "vx-array.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-diff.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-walk.h"

#define NONE		UINT32_MAX
#define NSLOTS		32		/* per-command request lists */
#define DMA_TIMEOUT_MS	10000		/* for the client's DMA reply */
#define STEP_BUDGET	64		/* events per vx_sreplay_step */
#define SHOWN_DIFFS	4		/* differences named per departure */
#define MAX_QUEUED	1024		/* requests waiting on a DMA reply */
#define MAX_SHOWN	1000		/* departure lines; then only counted */
#define MAX_IRQFDS	2048		/* eventfds kept from SET_IRQS */
#define MATCH_WINDOW	4096		/* unused requests a match looks at */

enum ent_kind {
	E_REQ,		/* client command on the main socket */
	E_REPLY,	/* our reply to one (pair: the request) */
	E_SCMD,		/* our command: DMA_READ/DMA_WRITE */
	E_SREPLY,	/* the client's reply to one (pair: the command) */
	E_IRQ,		/* an interrupt we signalled */
};

struct ent {
	uint64_t frame;
	uint64_t off;		/* message bytes in the arena; IRQ: count */
	uint32_t len;		/* IRQ: vector */
	uint32_t pair;		/* see enum ent_kind; REQ: its reply or NONE */
	uint32_t fdoff;		/* recorded descriptors in sess.fds */
	uint16_t cmd;		/* IRQ: index */
	uint8_t kind, chan, peer, nfds;
	uint8_t used;		/* REQ: played; SCMD: reply awaited */
};

struct rfd {
	uint8_t kind;		/* enum vx_fd_kind */
	unsigned seals;		/* a memfd's F_GET_SEALS */
	uint64_t size;
};

struct slot {
	uint32_t *v;		/* request entries of one command, in order */
	size_t n, cap;
	size_t head;		/* all before it are used */
};

struct sess {
	uint32_t conn;		/* recorded connection id */
	int begun;		/* its first message has been seen */
	struct ent *e;
	size_t n, cap;
	uint8_t *bytes;
	size_t blen, bcap;
	struct rfd *fds;
	size_t nfds, fdcap;
	struct slot slot[NSLOTS];
	uint32_t nreq;
	uint32_t max_fds;	/* what the recorded server accepted */
	uint32_t max_msg;
	uint32_t out_fds;	/* the most it sent: descriptors, bytes */
	uint32_t out_msg;
	uint32_t in_msg;	/* the largest message its client sent */
	uint8_t client_peer;	/* the wire forms its client's requests had */
};

struct irqfd {
	uint32_t index, vector;
	int fd;
};

struct vx_sreplay {
	struct sess *sess;
	size_t nsess, cap, next;
	struct sess *cur;		/* the session being played */
	struct vx_conn *conn;
	struct vx_decoder ldec, rdec;	/* live, recorded messages */
	struct vx_diff_rules *rules;	/* what may differ */
	uint8_t *out;			/* a recorded message to send */
	size_t outcap;
	/* the request being played */
	int active;
	uint32_t req, pos;		/* its entry, the next of its span */
	uint16_t live_id;
	int want_reply, replied, waiting;
	/* requests that came while one was being played */
	struct vx_frame *q;
	size_t qhead, qn, qcap;
	struct irqfd *irq;
	size_t nirq, irqcap;
	int dead;
	char errmsg[256];
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

static const char *
cmd_text(unsigned cmd, char *buf, size_t cap)
{
	const char *n = vx_cmd_name(cmd);

	if (n != NULL)
		return n;
	snprintf(buf, cap, "command %u", cmd);
	return buf;
}

/* --- loading ------------------------------------------------------------ */

struct loader {
	struct vx_sreplay *r;
	char *err;
	size_t errcap;
};

static int
load_fail(struct loader *ld, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
load_fail(struct loader *ld, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errcap, fmt, ap);
	va_end(ap);
	return code;
}

static struct sess *
sess_for(struct vx_sreplay *r, uint32_t conn)
{
	struct sess *ns;
	size_t i;

	for (i = r->nsess; i-- > 0;)
		if (r->sess[i].conn == conn)
			return &r->sess[i];
	ns = vx_array_room(r->sess, r->nsess, &r->cap, sizeof(*ns), 4);
	if (ns == NULL)
		return NULL;
	r->sess = ns;
	ns = &r->sess[r->nsess++];
	memset(ns, 0, sizeof(*ns));
	ns->conn = conn;
	ns->max_fds = VX_DEF_MAX_MSG_FDS;
	ns->max_msg = VX_MSG_FOR_XFER(VX_DEF_MAX_XFER);
	return ns;
}

static void
sess_free(struct sess *s)
{
	unsigned i;

	free(s->e);
	free(s->bytes);
	free(s->fds);
	for (i = 0; i < NSLOTS; i++)
		free(s->slot[i].v);
}

/* The entry of frame in s (entries are in frame order), or NONE. */
static uint32_t
find_frame(const struct sess *s, uint64_t frame)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->e[mid].frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->e[lo].frame == frame ? (uint32_t)lo : NONE;
}

static struct ent *
add_ent(struct sess *s, const struct vx_trace_rec *rec, int kind)
{
	struct ent *ne = vx_array_room(s->e, s->n, &s->cap, sizeof(*ne), 64);

	if (ne == NULL || s->n >= NONE - 1)
		return NULL;
	s->e = ne;
	ne = &s->e[s->n++];
	memset(ne, 0, sizeof(*ne));
	ne->frame = rec->frame;
	ne->kind = (uint8_t)kind;
	ne->chan = rec->chan;
	ne->pair = NONE;
	return ne;
}

/* Keep a message's bytes and descriptor kinds with its entry. */
static int
keep_bytes(struct sess *s, struct ent *e, const struct vx_trace_rec *rec)
{
	unsigned i;

	while (s->blen + rec->len > s->bcap) {
		size_t ncap = s->bcap ? s->bcap * 2 : 65536;
		uint8_t *nb = realloc(s->bytes, ncap);

		if (nb == NULL)
			return VX_ERR_NOMEM;
		s->bytes = nb;
		s->bcap = ncap;
	}
	memcpy(s->bytes + s->blen, rec->data, rec->len);
	e->off = s->blen;
	e->len = (uint32_t)rec->len;
	s->blen += rec->len;
	e->fdoff = (uint32_t)s->nfds;
	e->nfds = (uint8_t)(rec->nfds > 255 ? 255 : rec->nfds);
	for (i = 0; i < e->nfds; i++) {
		struct rfd *nf = vx_array_room(s->fds, s->nfds, &s->fdcap,
		    sizeof(*nf), 16);

		if (nf == NULL)
			return VX_ERR_NOMEM;
		s->fds = nf;
		s->fds[s->nfds].kind = (uint8_t)rec->fds[i].kind;
		s->fds[s->nfds].seals = rec->fds[i].seals;
		s->fds[s->nfds++].size = rec->fds[i].size > 0 ?
		    (uint64_t)rec->fds[i].size : 0;
	}
	return 0;
}

static int
slot_add(struct sess *s, uint16_t cmd, uint32_t idx)
{
	struct slot *sl = &s->slot[cmd < NSLOTS ? cmd : 0];
	uint32_t *nv = vx_array_room(sl->v, sl->n, &sl->cap, sizeof(*nv), 16);

	if (nv == NULL)
		return VX_ERR_NOMEM;
	sl->v = nv;
	sl->v[sl->n++] = idx;
	s->nreq++;
	return 0;
}

/* What the recorded server offered in VERSION bounds what we accept. */
static void
note_limits(struct sess *s, const struct vx_msg *m)
{
	if (m->caps == NULL)
		return;
	s->max_fds = m->caps->max_msg_fds > VX_MAX_FDS ? VX_MAX_FDS :
	    (uint32_t)m->caps->max_msg_fds;
	s->max_msg = m->caps->max_data_xfer_size > VX_QEMU_MAX_XFER ?
	    VX_MSG_FOR_XFER(VX_QEMU_MAX_XFER) :
	    VX_MSG_FOR_XFER((uint32_t)m->caps->max_data_xfer_size);
}

/* The reply (or the client's reply to our command) joins its command. */
static void
link_reply(struct sess *s, struct ent *e, const struct vx_session_result *res)
{
	uint32_t q;

	if (!res->paired || (q = find_frame(s, res->req_frame)) == NONE)
		return;
	if (s->e[q].pair != NONE ||
	    s->e[q].kind != (e->kind == E_REPLY ? E_REQ : E_SCMD))
		return;
	s->e[q].pair = (uint32_t)(e - s->e);
	e->pair = q;
}

static int
load_message(struct loader *ld, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	struct sess *s = sess_for(ld->r, rec->conn);
	int reply = vx_msg_is_reply(m), kind;
	struct ent *e;
	char cb[32];

	if (s == NULL)
		return load_fail(ld, VX_ERR_NOMEM, "out of memory");
	if (rec->len < VX_HDR_SIZE)
		return 0;	/* no header: nothing to send or match */
	if (rec->truncated)
		return load_fail(ld, VX_ERR_UNSUPPORTED, "frame %" PRIu64 ": "
		    "the message was cut to %zu of its %zu bytes when "
		    "recorded (snap length): it cannot be served", rec->frame,
		    rec->len, rec->orig_len);
	if (rec->flags & VX_TRF_BE)
		return load_fail(ld, VX_ERR_UNSUPPORTED, "frame %" PRIu64 ": "
		    "a big-endian message: serving it to a client on this "
		    "host is not supported", rec->frame);
	if (!s->begun && (rec->dir != VX_C2S || reply ||
	    m->cmd != VX_CMD_VERSION))
		return load_fail(ld, VX_ERR_UNSUPPORTED, "frame %" PRIu64 ": "
		    "connection %" PRIu32 " starts mid-session (its first "
		    "message is %s %s, not the client's VERSION): serving it "
		    "needs the connection from its start (a rotated trace's "
		    "earlier file)", rec->frame, rec->conn,
		    cmd_text(m->cmd, cb, sizeof(cb)),
		    reply ? "reply" : "command");
	s->begun = 1;
	if (rec->dir == VX_C2S)
		kind = reply ? E_SREPLY : E_REQ;
	else
		kind = reply ? E_REPLY : E_SCMD;
	if (kind == E_REQ && rec->chan != VX_CHAN_MAIN)
		return 0;	/* the twin carries server commands only */
	if ((e = add_ent(s, rec, kind)) == NULL ||
	    keep_bytes(s, e, rec) < 0)
		return load_fail(ld, VX_ERR_NOMEM, "out of memory");
	e->cmd = m->cmd;
	e->peer = m->peer;
	if (rec->dir == VX_S2C && e->len > s->out_msg)
		s->out_msg = e->len;
	if (rec->dir == VX_S2C && e->nfds > s->out_fds)
		s->out_fds = e->nfds;
	if (rec->dir == VX_C2S && e->len > s->in_msg)
		s->in_msg = e->len;
	if (kind == E_REQ && m->cmd != VX_CMD_VERSION)
		s->client_peer = m->peer;	/* known once VERSION is */
	if (kind == E_REQ)
		return slot_add(s, m->cmd, (uint32_t)(e - s->e)) < 0 ?
		    load_fail(ld, VX_ERR_NOMEM, "out of memory") : 0;
	if (kind == E_REPLY && m->cmd == VX_CMD_VERSION)
		note_limits(s, m);
	link_reply(s, e, it->res);
	return 0;
}

static int
load_item(struct loader *ld, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	struct sess *s;
	struct ent *e;

	if (rec == NULL)
		return 0;
	switch (rec->kind) {
	case VX_TR_MESSAGE:
		return it->msg != NULL ? load_message(ld, it) : 0;
	case VX_TR_IRQ:
		if ((s = sess_for(ld->r, rec->conn)) == NULL ||
		    (e = add_ent(s, rec, E_IRQ)) == NULL)
			return load_fail(ld, VX_ERR_NOMEM, "out of memory");
		e->cmd = (uint16_t)rec->irq_index;
		e->len = rec->irq_vector;
		e->off = rec->count;
		return 0;
	case VX_TR_OPEN:
		return sess_for(ld->r, rec->conn) == NULL ?
		    load_fail(ld, VX_ERR_NOMEM, "out of memory") : 0;
	case VX_TR_GAP:
		return load_fail(ld, VX_ERR_UNSUPPORTED, "frame %" PRIu64 ": "
		    "%" PRIu64 " messages were not recorded here (a gap): "
		    "the trace cannot be served", rec->frame, rec->count);
	default:
		return 0;
	}
}

/* Sessions without a request serve nobody: drop them. */
static void
drop_empty(struct vx_sreplay *r)
{
	size_t i, kept = 0;

	for (i = 0; i < r->nsess; i++) {
		if (r->sess[i].nreq == 0)
			sess_free(&r->sess[i]);
		else
			r->sess[kept++] = r->sess[i];
	}
	r->nsess = kept;
	r->st.sessions = (unsigned)kept;
}

static int
load(struct vx_sreplay *r, const char *path, char *err, size_t errcap)
{
	struct vx_walk_opts o = { VX_WALK_LAZY, VX_PEER_AUTO };
	struct loader ld = { r, err, errcap };
	struct vx_walk_item it;
	struct vx_walk *w;
	int rc;

	if ((rc = vx_walk_open(path, &o, &w)) < 0) {
		snprintf(err, errcap, "%s", w != NULL ? vx_walk_error(w) :
		    "out of memory");
		vx_walk_close(w);
		return rc;
	}
	while ((rc = vx_walk_next(w, &it)) > 0)
		if ((rc = load_item(&ld, &it)) < 0)
			break;
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errcap, "%s", vx_walk_error(w));
	vx_walk_close(w);
	if (rc < 0)
		return rc;
	drop_empty(r);
	if (r->nsess == 0) {
		snprintf(err, errcap, "no connection in the trace sent a "
		    "request: nothing to serve");
		return VX_ERR_INVALID;
	}
	return 0;
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
	if ((r->rules = vx_diff_rules_new(0)) == NULL) {
		snprintf(err, errcap, "out of memory");
		vx_sreplay_free(r);
		return VX_ERR_NOMEM;
	}
	if ((rc = load(r, path, err, errcap)) < 0) {
		vx_sreplay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
vx_sreplay_free(struct vx_sreplay *r)
{
	size_t i;

	if (r == NULL)
		return;
	vx_sreplay_detach(r);
	for (i = 0; i < r->nsess; i++)
		sess_free(&r->sess[i]);
	free(r->sess);
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
	for (i = 0; i < r->nsess; i++)
		if (i != keep)
			sess_free(&r->sess[i]);
	r->sess[0] = r->sess[keep];
	r->nsess = 1;
	r->st.sessions = 1;
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

static const uint8_t *
ent_bytes(const struct sess *s, const struct ent *e)
{
	return s->bytes + e->off;
}

/* Decode a recorded entry as it was recorded. */
static int
decode_rec(struct vx_sreplay *r, const struct ent *e, struct vx_msg *m)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };

	ctx.dir = e->kind == E_REPLY || e->kind == E_SCMD ? VX_S2C : VX_C2S;
	ctx.chan = e->chan;
	ctx.peer = e->peer;
	ctx.nfds = e->nfds;
	return vx_decode(&r->rdec, ent_bytes(r->cur, e), e->len, &ctx, m);
}

/* A copy of entry e's bytes to send, with msg_id id. */
static uint8_t *
out_copy(struct vx_sreplay *r, const struct ent *e, uint16_t id)
{
	if (e->len > r->outcap) {
		uint8_t *n = realloc(r->out, e->len);

		if (n == NULL)
			return NULL;
		r->out = n;
		r->outcap = e->len;
	}
	memcpy(r->out, ent_bytes(r->cur, e), e->len);
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
    const struct ent *e, char *why, size_t cap)
{
	const uint8_t *rb = ent_bytes(r->cur, e);
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
make_fd(const struct rfd *f, int *twin)
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
play_irq(struct vx_sreplay *r, const struct ent *e)
{
	struct irqfd *q = irq_find(r, e->cmd, e->len);
	uint64_t n = e->off ? e->off : 1;
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
log_sent(struct vx_sreplay *r, const struct ent *e, uint16_t id)
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
send_reply(struct vx_sreplay *r, const struct ent *e, uint16_t id)
{
	int fds[VX_MAX_FDS], twin = -1, rc;
	unsigned i, n = e->nfds > VX_MAX_FDS ? VX_MAX_FDS : e->nfds;
	uint8_t *msg = out_copy(r, e, id);

	if (msg == NULL) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	for (i = 0; i < n; i++)
		if ((fds[i] = make_fd(&r->cur->fds[e->fdoff + i], &twin)) < 0) {
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

/* Start recorded DMA request e; its reply comes as a call event. */
static void
start_dma(struct vx_sreplay *r, struct ent *e)
{
	uint8_t *msg = out_copy(r, e, 0);
	char cb[32];
	int rc;

	if (msg == NULL) {
		r->dead = VX_ERR_NOMEM;
		return;
	}
	rc = vx_conn_start(r->conn, e->chan, msg, e->len, NULL, 0,
	    DMA_TIMEOUT_MS, e);
	if (rc < 0) {
		if (vx_conn_ended(r->conn)) {
			r->dead = vx_conn_ended(r->conn);
			return;
		}
		depart(r, "departure: frame %" PRIu64 ": the recorded %s "
		    "cannot be sent: %s", e->frame,
		    cmd_text(e->cmd, cb, sizeof(cb)), vx_conn_errmsg(r->conn));
		return;
	}
	r->st.dma++;
	e->used = e->pair != NONE;	/* a reply to wait for */
	log_sent(r, e, (uint16_t)rc);
}

/* The client answered our DMA request e: compare with the recorded one. */
static void
dma_replied(struct vx_sreplay *r, struct vx_conn_event *ev, struct ent *e)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	const struct ent *rec = e->pair != NONE ? &r->cur->e[e->pair] : NULL;
	struct vx_msg lm;
	char why[600], cb[32];

	e->used = 0;
	if (r->waiting && r->active && r->pos < r->cur->n &&
	    r->cur->e[r->pos].kind == E_SREPLY &&
	    r->cur->e[r->pos].pair == (uint32_t)(e - r->cur->e))
		r->waiting = 0;
	if (rec == NULL)
		return;	/* no recorded reply to compare with */
	if (ev->err != 0) {
		depart(r, "departure: frame %" PRIu64 ": no reply to the "
		    "recorded %s: %s", e->frame,
		    cmd_text(e->cmd, cb, sizeof(cb)), vx_strerror(ev->err));
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
		    cmd_text(e->cmd, cb, sizeof(cb)), why);
}

/* Send the reply of the request being played, if it has one. */
static void
reply_now(struct vx_sreplay *r)
{
	const struct ent *q = &r->cur->e[r->req];

	if (r->replied)
		return;
	r->replied = 1;
	if (!r->want_reply)
		return;
	if (q->pair == NONE) {
		depart(r, "departure: frame %" PRIu64 ": the recorded request "
		    "has no reply in the trace; answered ENOTSUP", q->frame);
		send_error(r, r->live_id, q->cmd, VX_ERR_UNSUPPORTED);
		return;
	}
	send_reply(r, &r->cur->e[q->pair], r->live_id);
}

/* Play the span of the current request until it ends or must wait. */
static void
play(struct vx_sreplay *r)
{
	struct sess *s = r->cur;

	while (r->active && !r->waiting && !r->dead) {
		struct ent *e;

		if (r->pos >= s->n || s->e[r->pos].kind == E_REQ) {
			reply_now(r);
			r->active = 0;
			break;
		}
		e = &s->e[r->pos];
		switch (e->kind) {
		case E_REPLY:
			if (e->pair == r->req)
				reply_now(r);
			break;
		case E_SCMD:
			start_dma(r, e);
			break;
		case E_SREPLY:
			if (e->pair != NONE && s->e[e->pair].used) {
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
 * The first unused recorded request of live's command that equals it,
 * among the next MATCH_WINDOW unused ones (so that a client departing at
 * every request of a long trace costs no more than that each), else NONE;
 * *first gets the first unused one of its command (or NONE).
 */
static uint32_t
match(struct vx_sreplay *r, const struct vx_msg *live, uint32_t *first,
    int *err)
{
	struct sess *s = r->cur;
	struct slot *sl = &s->slot[live->cmd < NSLOTS ? live->cmd : 0];
	size_t i, seen = 0;
	int eq;

	*first = NONE;
	while (sl->head < sl->n && s->e[sl->v[sl->head]].used)
		sl->head++;
	for (i = sl->head; i < sl->n && seen < MATCH_WINDOW; i++) {
		const struct ent *e = &s->e[sl->v[i]];

		if (e->used || e->cmd != live->cmd)
			continue;
		seen++;
		if (*first == NONE)
			*first = sl->v[i];
		if ((eq = same_request(r, live, e, NULL, 0)) < 0) {
			*err = eq;
			return NONE;
		}
		if (eq)
			return sl->v[i];
	}
	return NONE;
}

/* The last recorded request of live's command, for one beyond them all. */
static uint32_t
last_of(const struct sess *s, uint16_t cmd)
{
	const struct slot *sl = &s->slot[cmd < NSLOTS ? cmd : 0];
	size_t i;

	for (i = sl->n; i-- > 0;)
		if (s->e[sl->v[i]].cmd == cmd)
			return sl->v[i];
	return NONE;
}

static void
begin_play(struct vx_sreplay *r, uint32_t idx, const struct vx_msg *live)
{
	r->cur->e[idx].used = 1;
	r->active = 1;
	r->req = idx;
	r->pos = idx + 1;
	r->live_id = live->id;
	r->want_reply = !(live->flags & VX_F_NO_REPLY);
	r->replied = 0;
	r->waiting = 0;
}

/* A live request that matches nothing recorded: report and answer. */
static void
departed(struct vx_sreplay *r, const struct vx_msg *live, uint32_t first)
{
	struct sess *s = r->cur;
	uint32_t last;
	char why[600], cb[32];
	const char *name = cmd_text(live->cmd, cb, sizeof(cb));

	if (first != NONE) {
		same_request(r, live, &s->e[first], why, sizeof(why));
		depart(r, "departure: frame %" PRIu64 ": %s 0x%04x differs "
		    "from the recorded request: %s", s->e[first].frame, name,
		    live->id, why);
		begin_play(r, first, live);
		play(r);
		return;
	}
	if ((last = last_of(s, live->cmd)) == NONE) {
		depart(r, "departure: %s 0x%04x: no such request in the "
		    "recorded session; answered ENOTSUP", name, live->id);
		if (!(live->flags & VX_F_NO_REPLY))
			send_error(r, live->id, live->cmd, VX_ERR_UNSUPPORTED);
		return;
	}
	depart(r, "departure: %s 0x%04x: more than the %zu recorded; "
	    "answered as the last one, frame %" PRIu64, name, live->id,
	    s->slot[live->cmd < NSLOTS ? live->cmd : 0].n, s->e[last].frame);
	if (!(live->flags & VX_F_NO_REPLY) && s->e[last].pair != NONE)
		send_reply(r, &s->e[s->e[last].pair], live->id);
	else if (!(live->flags & VX_F_NO_REPLY))
		send_error(r, live->id, live->cmd, VX_ERR_UNSUPPORTED);
}

/* Answer one live request (frame f): match it and play its span. */
static void
serve(struct vx_sreplay *r, struct vx_frame *f)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg live;
	uint32_t idx, first;
	int err = 0;
	char sum[512];

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
	idx = match(r, &live, &first, &err);
	if (err < 0) {
		r->dead = err;
		return;
	}
	if (idx == NONE) {
		departed(r, &live, first);
		return;
	}
	begin_play(r, idx, &live);
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
		if (ev->chan != VX_CHAN_MAIN) {
			say(r, "dropping a client command on the twin socket");
			break;
		}
		on_request(r, ev);
		break;
	case VX_CONN_EV_CALL:
		if (ev->cookie != NULL)
			dma_replied(r, ev, ev->cookie);
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
		    ev->id, cmd_text(ev->cmd, cb, sizeof(cb)),
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

int
vx_sreplay_attach(struct vx_sreplay *r, int sock)
{
	struct vx_limits lim;
	struct sess *s;

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
	say(r, "playing recorded connection %" PRIu32 " (%" PRIu32
	    " requests)", s->conn, s->nreq);
	return 0;
}

/* Recorded requests the client never sent: one departure. */
static void
report_unplayed(struct vx_sreplay *r)
{
	struct sess *s = r->cur;
	uint32_t played = 0, first = NONE;
	size_t i;
	char cb[32];

	for (i = 0; i < s->n; i++) {
		if (s->e[i].kind != E_REQ)
			continue;
		if (s->e[i].used)
			played++;
		else if (first == NONE)
			first = (uint32_t)i;
	}
	if (first == NONE)
		return;
	depart(r, "departure: the client ended after %" PRIu32 " of %" PRIu32
	    " recorded requests; the first not played: frame %" PRIu64 " (%s)",
	    played, s->nreq, s->e[first].frame,
	    cmd_text(s->e[first].cmd, cb, sizeof(cb)));
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
	for (i = 0; i < r->cur->n; i++)
		if (r->cur->e[i].kind == E_SCMD)
			r->cur->e[i].used = 0;
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
	return r->dead ? 0 : vx_conn_timeout(r->conn);
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
