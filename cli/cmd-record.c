/*
 * cmd-record.c - vfuctl record: a vfio-user relay that records a trace.
 *
 * Each --listen/--connect pair is an endpoint: the recorder listens on the
 * first path and, for each client it accepts, connects to the server at the
 * second.  Messages are stored and forwarded: a message goes on only when
 * it is complete, as one sendmsg with its descriptors on its first byte,
 * and each direction is read only up to the message boundary so that
 * descriptors stay with their message.  One poll loop serves every
 * connection; what a peer sends is drained into a bounded queue towards
 * the other one, so a slow peer does not stall its partner or the
 * recorder.  Records go to a writer thread (record-writer.c).
 *
 * Descriptors the recorder substitutes: the twin socket of a VERSION reply
 * (so the twin channel is relayed and recorded too) and the trigger
 * eventfds of SET_IRQS (so every interrupt is recorded); the bytes of
 * those messages are never changed.  --trap-mmap is the one option that
 * changes bytes on the wire.
 *
 * --hash-dma keeps a duplicate of each DMA window's descriptor and, at
 * DMA_MAP, DMA_UNMAP and the connection's end, hands another (or that
 * one) to the writer thread, which hashes the window (record-writer.c):
 * the relay itself never reads guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "record.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "vx-sock.h"
#include "vx-trace.h"

const char cmd_record_usage[] =
	"usage: vfuctl record --listen PATH --connect PATH [--listen PATH\n"
	"                     --connect PATH ...] -w FILE|- [-v] [-C SIZE]\n"
	"                     [-W COUNT] [-G SECONDS] [--redact]\n"
	"                     [--no-irq-intercept] [--trap-mmap]\n"
	"                     [--hash-dma=LIMIT] [--key FILE]\n"
	"                     [--allow-uid UID ...] [--allow-any-uid]\n"
	"                     [-- SERVER-CMD ARGS...]\n"
	"\n"
	"Relay vfio-user clients connecting to each --listen PATH to the server\n"
	"at the --connect PATH given after it, and record every message, every\n"
	"descriptor, every interrupt and each connection's opening and closing\n"
	"in a trace (vfuctl-trace(5)).  SIGINT or SIGTERM closes the trace and\n"
	"relays on until the open connections end; a second one exits.\n"
	"\n"
	"  -l, --listen PATH    accept clients on PATH (\"@name\": abstract)\n"
	"  -c, --connect PATH   the server's socket for the --listen before it\n"
	"  -w FILE              write the trace to FILE ('-': standard output)\n"
	"  -v, --verbose        one summary line per message on stderr\n"
	"  -C SIZE              start a new file once one holds SIZE million bytes\n"
	"                       (tcpdump's unit), or SIZE with K, M or G: 64K\n"
	"  -W COUNT             with -C or -G, reuse the names after COUNT files\n"
	"  -G SECONDS           start a new file every SECONDS seconds\n"
	"  --redact             record region, DMA and migration data as zeros\n"
	"  --no-irq-intercept   pass SET_IRQS eventfds through untouched\n"
	"  --trap-mmap          clear MMAP in region info replies and drop their\n"
	"                       descriptors, so every access is a message\n"
	"  --hash-dma=LIMIT     BLAKE2b-256 of the first LIMIT bytes (K, M, G:\n"
	"                       KiB, MiB, GiB) of each fd-backed DMA window at\n"
	"                       map, unmap and close, as annotations\n"
	"  --allow-uid UID      let UID (a number or user name) connect, as root\n"
	"                       and our own uid may; repeatable\n"
	"  --allow-any-uid      let every local user connect\n"
	"  --key FILE           key the trace's digests with FILE's 16-64 bytes\n"
	"  -- SERVER-CMD ARGS   start the server and wait for its sockets; when\n"
	"                       it exits, finish and exit with its status; it\n"
	"                       dies with the recorder\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: the server's when it exits on its own; else 0 after a\n"
	"signal with every message recorded; 1 on failure, or when messages\n"
	"were lost (a full queue or disk, a closed pipe: the count is printed,\n"
	"a GAP record has it); 2 on usage errors.\n";

#define MAX_ENDPOINTS	16
/* Bytes queued towards one peer before the recorder stops reading from
 * the other: the bound of each per-direction queue. */
#define QUEUE_MAX	((size_t)64 << 20)
/* Messages taken from one socket per wakeup, for fairness. */
#define BURST		64
#define SERVER_WAIT_MS	10000

struct endpoint {
	uint32_t id;
	const char *lpath, *cpath;
	int lfd;
};

/* One socket of a channel and the framer that reads and writes it. */
struct side {
	int fd;			/* -1 once closed */
	struct vx_framer fr;
	int eof;		/* nothing more will be read */
	int lost;		/* framing lost: last frame was unframeable */
	/*
	 * After a message, read on until EAGAIN (probe) or go back to poll?
	 * A peer that waits for each reply has sent nothing more, and the
	 * EAGAIN read would be one syscall in four wasted; a peer that
	 * streams has, and poll would be one syscall per message instead of
	 * per burst.  So: stop probing once a probe finds nothing; probe
	 * again once poll finds more at the very next wakeup after a stop.
	 */
	int probe;
	uint64_t stop_wake;	/* r->wakeups when it last stopped early */
};

/*
 * A channel: main or twin.  s[VX_C2S] is the socket the client writes
 * (read: client-to-server messages), s[VX_S2C] the server's.
 */
struct chan {
	int open;
	struct side s[2];
	uint64_t seq[2];
};

/* A DMA window, for --hash-dma. */
struct dmaw {
	struct dmaw *next;
	uint64_t iova, size, offset;
	int fd;			/* our duplicate; -1: none (err says why) */
	int err;
	uint16_t msg_id;	/* of its DMA_MAP */
	int pending;		/* the DMA_MAP reply has not come yet */
};

/* An intercepted interrupt vector. */
struct irqw {
	struct irqw *next;
	int efd;		/* ours, given to the server */
	int cfd;		/* the client's */
	uint32_t index, vector;
	uint32_t action;	/* VX_IRQ_ACTION_*: trigger runs server to
				   client, mask and unmask the other way */
};

struct conn {
	struct conn *next;
	uint32_t id;
	struct endpoint *ep;
	struct chan ch[2];	/* VX_CHAN_MAIN, VX_CHAN_TWIN */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	struct irqw *irqs;
	struct dmaw *dma;	/* --hash-dma: the mapped windows */
	struct vx_session *peers;	/* --redact: the wire forms in use */
	int dead;		/* a side failed: close at once */
	const char *ended;	/* who ended the main channel first */
};

/* What a pollfd is for. */
enum pk { PK_LISTEN, PK_SIDE, PK_IRQ };
struct pref {
	enum pk kind;
	struct endpoint *ep;
	struct conn *c;
	int chan, dir;
	struct irqw *iw;
};

struct recorder {
	struct endpoint ep[MAX_ENDPOINTS];
	int nep;
	struct conn *conns;
	uint32_t next_conn;
	struct rec_writer *w;	/* NULL once capture stopped */
	int incomplete;		/* messages lost or a write failed: exit 1 */
	int verbose, redact, no_irq, trap_mmap;
	struct vx_peer_policy allow;	/* who may connect to --listen */
	uint64_t hash_limit;	/* --hash-dma; 0: off */
	struct vx_decoder dec;
	pid_t server;		/* -- SERVER-CMD; 0 once reaped */
	int server_status;	/* its exit status, 128+N if killed by N */
	int server_gone;	/* it exited on its own */
	uint8_t *redbuf;	/* --redact: the message with its data zeroed */
	size_t redcap;
	struct pollfd *pfd;
	struct pref *pref;
	size_t pcap;
	struct vx_fd_info fdi[VX_MAX_FDS];
	uint64_t wakeups;	/* polls returned */
	uint64_t now;		/* the time of the last one: one clock read
				   per wakeup stamps all it brought */
};

static volatile sig_atomic_t signals;

static void
on_signal(int sig)
{
	(void)sig;
	signals++;
}

/* SIGCHLD: only so that ppoll wakes up to reap the server. */
static void
on_child(int sig)
{
	(void)sig;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* --- recording ----------------------------------------------------------- */

/* An event of connection c, stamped now. */
static void
conn_event(struct recorder *r, struct conn *c, int kind,
    struct vx_trace_rec *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = (uint8_t)kind;
	ev->ts_ns = r->now;
	ev->conn = c->id;
	ev->endpoint = c->ep->id;
	if (kind == VX_TR_OPEN || kind == VX_TR_CLOSE) {
		ev->pid = (uint32_t)c->pid;
		ev->uid = (uint32_t)c->uid;
		ev->gid = (uint32_t)c->gid;
	}
}

static void
record_event(struct recorder *r, struct conn *c, int kind, int chan,
    int dir, const void *data, size_t len, int flush)
{
	struct vx_trace_rec ev;

	if (r->w == NULL)
		return;
	conn_event(r, c, kind, &ev);
	ev.chan = (uint8_t)chan;
	ev.dir = (uint8_t)dir;
	ev.data = data;
	ev.len = len;
	rec_put(r->w, &ev, len, flush);
}

static void
annotate(struct recorder *r, struct conn *c, int chan, int dir,
    const char *fmt, ...) VX_PRINTF(5, 6);

static void
annotate(struct recorder *r, struct conn *c, int chan, int dir,
    const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	if (r->verbose)
		fprintf(stderr, "c%u %s\n", c->id, text);
	record_event(r, c, VX_TR_ANNOTATION, chan, dir, text, (size_t)n, 0);
}

/*
 * --redact: the message with every field that carries data zeroed
 * (vx_msg_redact, from lib/fields.def), decoded in the wire forms the
 * connection's VERSION showed; the bytes to record and how many.  Whatever
 * cannot be decoded is not recorded: without memory, only the header.
 */
static const uint8_t *
redacted(struct recorder *r, struct conn *c, int chan, int dir,
    const struct vx_frame *fr, size_t *len)
{
	struct vx_dctx ctx = { 0 };
	struct vx_session_result res;
	struct vx_msg m;
	uint8_t *nb;

	*len = fr->len < VX_HDR_SIZE ? fr->len : VX_HDR_SIZE;
	if (fr->len > r->redcap) {
		if ((nb = realloc(r->redbuf, fr->len)) == NULL)
			return fr->data;
		r->redbuf = nb;
		r->redcap = fr->len;
	}
	memcpy(r->redbuf, fr->data, fr->len);
	ctx.dir = (uint8_t)dir;
	ctx.chan = (uint8_t)chan;
	ctx.peer = (uint8_t)(c->peers ? vx_session_peer(c->peers, dir) :
	    VX_PEER_AUTO);
	ctx.nfds = fr->nfds;
	if (c->peers == NULL || vx_decode(&r->dec, fr->data, fr->len, &ctx,
	    &m) < 0 || vx_msg_redact(&m, r->redbuf) < 0)
		return fr->data;
	vx_session_feed(c->peers, &m, 0, r->now, &res);
	*len = fr->len;
	return r->redbuf;
}

static void
record_message(struct recorder *r, struct conn *c, int chan, int dir,
    const struct vx_frame *fr, uint64_t seq, uint64_t ts)
{
	struct vx_trace_rec ev;
	int i, n = 0;

	if (r->w == NULL)
		return;
	for (i = 0; i < fr->nfds; i++) {
		if (vx_fd_describe(fr->fds[i], &r->fdi[n]) < 0)
			memset(&r->fdi[n], 0, sizeof(r->fdi[n])),
			    r->fdi[n].kind = VX_FD_OTHER;
		n++;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = VX_TR_MESSAGE;
	ev.ts_ns = ts;
	ev.conn = c->id;
	ev.endpoint = c->ep->id;
	ev.chan = (uint8_t)chan;
	ev.dir = (uint8_t)dir;
	ev.seq = seq;
	ev.data = fr->data;
	ev.len = fr->len;
	if (r->redact)
		ev.data = redacted(r, c, chan, dir, fr, &ev.len);
	ev.fds = n ? r->fdi : NULL;
	ev.nfds = (unsigned)n;
	rec_put(r->w, &ev, ev.len, 0);
}

/* --- connections ----------------------------------------------------------- */

static void
side_init(struct side *s, int fd)
{
	static const struct vx_limits lim = { VX_MAX_MSG_CAP, VX_MAX_FDS };

	s->fd = fd;
	s->eof = 0;
	s->lost = 0;
	s->probe = 1;
	s->stop_wake = 0;
	vx_framer_init(&s->fr, fd, &lim);
	/* A relay passes on whatever the peers agreed on. */
	vx_framer_set_peer_limits(&s->fr, VX_MAX_FDS, VX_MAX_MSG_CAP);
}

static void
side_close(struct side *s)
{
	if (s->fd < 0)
		return;
	vx_framer_release(&s->fr);
	close(s->fd);
	s->fd = -1;
	s->eof = 1;
}

static void
chan_close(struct chan *ch)
{
	side_close(&ch->s[0]);
	side_close(&ch->s[1]);
	ch->open = 0;
}

static void
irq_free(struct irqw *iw)
{
	close(iw->efd);
	close(iw->cfd);
	free(iw);
}

static void dma_close(struct recorder *r, struct conn *c);

static void
conn_close(struct recorder *r, struct conn *c)
{
	struct irqw *iw, *next;

	chan_close(&c->ch[VX_CHAN_TWIN]);
	chan_close(&c->ch[VX_CHAN_MAIN]);
	for (iw = c->irqs; iw != NULL; iw = next) {
		next = iw->next;
		irq_free(iw);
	}
	c->irqs = NULL;
	vx_session_free(c->peers);
	c->peers = NULL;
	if (c->ended != NULL)
		annotate(r, c, 0, 0, "%s", c->ended);
	dma_close(r, c);
	record_event(r, c, VX_TR_CLOSE, 0, 0, NULL, 0, 1);
	if (r->verbose)
		fprintf(stderr, "c%u closed\n", c->id);
}

static void
do_accept(struct recorder *r, struct endpoint *ep)
{
	struct conn *c;
	pid_t pid;
	uid_t uid;
	int cfd, sfd;

	if ((cfd = vx_sock_accept(ep->lfd)) < 0)
		return;
	if (!vx_sock_peer_allowed(cfd, &r->allow, &pid, &uid)) {
		fprintf(stderr, "vfuctl record: refused pid %ld uid %lu on '%s': "
		    "only root, uid %lu and the uids of --allow-uid may connect\n",
		    (long)pid, (unsigned long)uid, ep->lpath,
		    (unsigned long)geteuid());
		close(cfd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		return;
	}
	if (r->redact && (c->peers = vx_session_new(VX_PEER_AUTO)) == NULL) {
		free(c);
		close(cfd);
		return;
	}
	c->id = ++r->next_conn;
	c->ep = ep;
	vx_sock_peer_cred(cfd, &c->pid, &c->uid, &c->gid);
	record_event(r, c, VX_TR_OPEN, 0, 0, NULL, 0, 1);
	if (r->verbose)
		fprintf(stderr, "c%u opened on endpoint %u (pid %ld)\n", c->id,
		    ep->id, (long)c->pid);
	sfd = vx_sock_connect(ep->cpath, 1000);
	if (sfd < 0) {
		annotate(r, c, 0, VX_C2S, "cannot connect to the server at '%s': %s",
		    ep->cpath, sfd == VX_ERR_IO ? strerror(errno) : "timeout");
		fprintf(stderr, "vfuctl record: cannot connect to '%s': %s\n",
		    ep->cpath, sfd == VX_ERR_IO ? strerror(errno) : "timeout");
		close(cfd);
		c->ch[0].s[0].fd = c->ch[0].s[1].fd = -1;
		c->ch[1].s[0].fd = c->ch[1].s[1].fd = -1;
		conn_close(r, c);
		free(c);
		return;
	}
	side_init(&c->ch[VX_CHAN_MAIN].s[VX_C2S], cfd);
	side_init(&c->ch[VX_CHAN_MAIN].s[VX_S2C], sfd);
	c->ch[VX_CHAN_MAIN].open = 1;
	c->ch[VX_CHAN_TWIN].s[0].fd = c->ch[VX_CHAN_TWIN].s[1].fd = -1;
	c->next = r->conns;
	r->conns = c;
}

/* --- descriptor substitution ---------------------------------------------- */

/*
 * VERSION reply with a twin socket: keep the server's socket, give the
 * client one end of a socketpair of ours, relay between them.
 */
static void
swap_twin(struct recorder *r, struct conn *c, struct vx_frame *fr,
    int *fds, int *extra)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;
	struct chan *tw = &c->ch[VX_CHAN_TWIN];
	uint64_t idx;
	int sp[2], sfd;

	ctx.nfds = fr->nfds;
	if (vx_decode(&r->dec, fr->data, fr->len, &ctx, &m) < 0 ||
	    m.caps == NULL || !m.caps->twin_supported)
		return;
	idx = m.caps->twin_fd_index;
	if (idx >= (uint64_t)fr->nfds || tw->open) {
		annotate(r, c, 0, VX_S2C, "twin socket: fd_index %llu but %d descriptors",
		    (unsigned long long)idx, fr->nfds);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    (sfd = fcntl(fr->fds[idx], F_DUPFD_CLOEXEC, 0)) < 0) {
		annotate(r, c, 0, VX_S2C, "twin socket not intercepted: %s",
		    strerror(errno));
		return;
	}
	side_init(&tw->s[VX_C2S], sp[0]);
	side_init(&tw->s[VX_S2C], sfd);
	tw->open = 1;
	fds[idx] = sp[1];
	*extra = sp[1];
	annotate(r, c, VX_CHAN_TWIN, VX_S2C,
	    "twin socket (fd_index %llu) relayed and recorded",
	    (unsigned long long)idx);
}

/* Drop the watchers of (index, action) whose vector is in
 * [start, start+count), or all of them. */
static void
irq_drop(struct conn *c, uint32_t index, uint32_t action, uint32_t start,
    uint32_t count, int all)
{
	struct irqw **pp = &c->irqs, *iw;

	while ((iw = *pp) != NULL) {
		if (iw->index == index && iw->action == action &&
		    (all || (iw->vector >= start && iw->vector - start < count))) {
			*pp = iw->next;
			irq_free(iw);
		} else
			pp = &iw->next;
	}
}

static const char *
action_name(uint32_t action)
{
	return action == VX_IRQ_ACTION_MASK ? "mask" :
	    action == VX_IRQ_ACTION_UNMASK ? "unmask" : "trigger";
}

/*
 * SET_IRQS with eventfds: the server gets eventfds of ours.  A trigger
 * signal is recorded and passed on to the client's eventfd; a mask or
 * unmask signal from the client is annotated and passed on to ours.
 * Count 0 without descriptors ends the interception of that index and
 * action.
 */
static void
swap_irqs(struct recorder *r, struct conn *c, struct vx_frame *fr, int *fds)
{
	const uint8_t *b = fr->data;
	uint32_t flags, index, start, count, action;
	struct irqw *iw;
	int i, nb;

	if (fr->len < 36)
		return;
	flags = le32(b + 20);
	index = le32(b + 24);
	start = le32(b + 28);
	count = le32(b + 32);
	action = flags & VX_IRQ_ACTION_BITS;
	if (action != VX_IRQ_ACTION_TRIGGER && action != VX_IRQ_ACTION_MASK &&
	    action != VX_IRQ_ACTION_UNMASK)
		return;
	if (fr->nfds == 0 && count == 0) {
		irq_drop(c, index, action, 0, 0, 1);
		return;
	}
	if (!(flags & VX_IRQ_DATA_EVENTFD) || fr->nfds == 0)
		return;
	irq_drop(c, index, action, start, count, 0);
	for (i = 0; i < fr->nfds; i++) {
		if ((iw = calloc(1, sizeof(*iw))) == NULL)
			break;
		/* Ours blocks or not as the client's does: the server
		 * shares its file status flags. */
		nb = fcntl(fr->fds[i], F_GETFL);
		iw->efd = eventfd(0, EFD_CLOEXEC |
		    (nb >= 0 && (nb & O_NONBLOCK) ? EFD_NONBLOCK : 0));
		iw->cfd = fcntl(fr->fds[i], F_DUPFD_CLOEXEC, 0);
		if (iw->efd < 0 || iw->cfd < 0) {
			if (iw->efd >= 0)
				close(iw->efd);
			if (iw->cfd >= 0)
				close(iw->cfd);
			free(iw);
			annotate(r, c, 0, VX_C2S, "SET_IRQS: %s vector %u not intercepted: %s",
			    action_name(action), start + i, strerror(errno));
			continue;
		}
		iw->index = index;
		iw->vector = start + (uint32_t)i;
		iw->action = action;
		iw->next = c->irqs;
		c->irqs = iw;
		fds[i] = iw->efd;	/* owned by the watcher */
	}
}

/* An intercepted vector fired: record it and signal the client. */
static void
irq_fired(struct recorder *r, struct conn *c, struct irqw *iw)
{
	struct vx_trace_rec ev;
	uint64_t n;

	if (iw->action != VX_IRQ_ACTION_TRIGGER) {
		if (read(iw->cfd, &n, sizeof(n)) != sizeof(n))
			return;
		if (write(iw->efd, &n, sizeof(n)) != sizeof(n))
			annotate(r, c, 0, VX_C2S, "IRQ %u.%u: cannot pass %s on: %s",
			    iw->index, iw->vector, action_name(iw->action),
			    strerror(errno));
		annotate(r, c, 0, VX_C2S, "IRQ index %u vector %u: %s signalled %llu time%s",
		    iw->index, iw->vector, action_name(iw->action),
		    (unsigned long long)n, n == 1 ? "" : "s");
		return;
	}
	if (read(iw->efd, &n, sizeof(n)) != sizeof(n))
		return;
	if (write(iw->cfd, &n, sizeof(n)) != sizeof(n))
		annotate(r, c, 0, VX_S2C, "IRQ %u.%u: cannot signal the client: %s",
		    iw->index, iw->vector, strerror(errno));
	if (r->verbose)
		fprintf(stderr, "c%u IRQ index %u vector %u x%llu\n", c->id,
		    iw->index, iw->vector, (unsigned long long)n);
	if (r->w == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = VX_TR_IRQ;
	ev.ts_ns = r->now;
	ev.conn = c->id;
	ev.endpoint = c->ep->id;
	ev.dir = VX_S2C;
	ev.irq_index = iw->index;
	ev.irq_vector = iw->vector;
	ev.count = n;
	rec_put(r->w, &ev, 0, 0);
}

/* --- relaying -------------------------------------------------------------- */

/*
 * --trap-mmap: a region info reply without MMAP and without its
 * descriptor, so the client reads and writes the region by messages.
 * The trace keeps the reply as the server sent it.  Returns the number
 * of descriptors to forward (0).
 */
static int
trap_mmap(struct recorder *r, struct conn *c, struct vx_frame *fr)
{
	uint32_t rf = le32(fr->data + 20) & ~VX_REGION_MMAP;

	fr->data[20] = (uint8_t)rf;
	fr->data[21] = (uint8_t)(rf >> 8);
	fr->data[22] = (uint8_t)(rf >> 16);
	fr->data[23] = (uint8_t)(rf >> 24);
	annotate(r, c, VX_CHAN_MAIN, VX_S2C,
	    "trap-mmap: region %u: MMAP cleared, %d descriptors dropped",
	    le32(fr->data + 24), fr->nfds);
	return 0;
}

/* --- --hash-dma ------------------------------------------------------------ */

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * Have the writer thread hash window w: with a duplicate of its
 * descriptor (keep), or with the descriptor itself, which w then loses.
 */
static void
hash_window(struct recorder *r, struct conn *c, struct dmaw *w, int when,
    int keep, uint64_t ts)
{
	struct rec_hash h;

	if (r->w == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.ts_ns = ts;
	h.conn = c->id;
	h.endpoint = c->ep->id;
	h.iova = w->iova;
	h.size = w->size;
	h.offset = w->offset;
	h.limit = r->hash_limit;
	h.when = when;
	h.err = w->err;
	h.fd = -1;
	if (w->fd >= 0 && !keep) {
		h.fd = w->fd;
		w->fd = -1;
	} else if (w->fd >= 0 &&
	    (h.fd = fcntl(w->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		h.err = errno;
	rec_put_hash(r->w, &h);
}

static void
dmaw_free(struct dmaw *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

/* DMA_MAP command: keep the window (and its descriptor), hash it. */
static void
dma_map(struct recorder *r, struct conn *c, const struct vx_frame *fr,
    uint64_t ts)
{
	struct dmaw *w, **pp;

	if (fr->len < VX_HDR_SIZE + 32)
		return;		/* malformed: nothing to hash */
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		annotate(r, c, VX_CHAN_MAIN, VX_C2S,
		    "DMA hash at map: out of memory, window not tracked");
		return;
	}
	w->offset = le64(fr->data + 24);
	w->iova = le64(fr->data + 32);
	w->size = le64(fr->data + 40);
	w->msg_id = le16(fr->data + VX_HDR_OFF_ID);
	w->pending = 1;
	w->fd = -1;
	if (fr->nfds > 0) {
		if ((w->fd = fcntl(fr->fds[0], F_DUPFD_CLOEXEC, 0)) < 0)
			w->err = errno;
	} else if (fr->bad == VX_ERR_FDS)
		w->err = -1;	/* cut off (MSG_CTRUNC) */
	for (pp = &c->dma; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	hash_window(r, c, w, REC_HASH_MAP, 1, ts);
}

/* DMA_MAP reply: an error one means the window was never mapped. */
static void
dma_map_reply(struct conn *c, const struct vx_frame *fr, uint32_t flags)
{
	struct dmaw **pp, *w;
	uint16_t id = le16(fr->data + VX_HDR_OFF_ID);

	for (pp = &c->dma; (w = *pp) != NULL; pp = &w->next) {
		if (!w->pending || w->msg_id != id)
			continue;
		if (flags & VX_F_ERROR) {
			*pp = w->next;
			dmaw_free(w);
		} else
			w->pending = 0;
		return;
	}
}

/* DMA_UNMAP command: hash and forget the windows it covers. */
static void
dma_unmap(struct recorder *r, struct conn *c, const struct vx_frame *fr,
    uint64_t ts)
{
	struct dmaw **pp, *w;
	uint64_t addr, size;
	uint32_t uflags;

	if (fr->len < VX_HDR_SIZE + 24)
		return;
	uflags = le32(fr->data + 20);
	addr = le64(fr->data + 24);
	size = le64(fr->data + 32);
	for (pp = &c->dma; (w = *pp) != NULL; ) {
		if ((uflags & VX_DMA_UNMAP_ALL) || (w->iova >= addr &&
		    w->iova - addr <= size && w->size <= size - (w->iova - addr))) {
			*pp = w->next;
			hash_window(r, c, w, REC_HASH_UNMAP, 0, ts);
			dmaw_free(w);
		} else
			pp = &w->next;
	}
}

/* The connection ends: hash the windows still mapped. */
static void
dma_close(struct recorder *r, struct conn *c)
{
	struct dmaw *w;
	uint64_t ts = r->now;

	while ((w = c->dma) != NULL) {
		c->dma = w->next;
		hash_window(r, c, w, REC_HASH_CLOSE, 0, ts);
		dmaw_free(w);
	}
}

static void
hash_dma(struct recorder *r, struct conn *c, int dir, uint16_t cmd,
    uint32_t flags, const struct vx_frame *fr, uint64_t ts)
{
	uint32_t type = flags & VX_F_TYPE_MASK;

	if (dir == VX_C2S && type == VX_F_TYPE_COMMAND) {
		if (cmd == VX_CMD_DMA_MAP)
			dma_map(r, c, fr, ts);
		else if (cmd == VX_CMD_DMA_UNMAP)
			dma_unmap(r, c, fr, ts);
	} else if (dir == VX_S2C && type == VX_F_TYPE_REPLY &&
	    cmd == VX_CMD_DMA_MAP)
		dma_map_reply(c, fr, flags);
}

static void
summary(struct recorder *r, struct conn *c, int chan, int dir,
    const struct vx_frame *fr)
{
	struct vx_dctx ctx = { 0, 0, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;
	char sum[512];

	ctx.dir = (uint8_t)dir;
	ctx.chan = (uint8_t)chan;
	ctx.nfds = fr->nfds;
	if (vx_decode(&r->dec, fr->data, fr->len, &ctx, &m) < 0)
		return;
	vx_summary(&m, sum, sizeof(sum));
	fprintf(stderr, "c%u %s%s %s%s\n", c->id, dir == VX_S2C ? "C<-S" : "C->S",
	    chan == VX_CHAN_TWIN ? " twin" : "", sum,
	    fr->nfds ? " [fds]" : "");
}

static void
handle_frame(struct recorder *r, struct conn *c, int chan, int dir,
    struct vx_frame *fr)
{
	struct chan *ch = &c->ch[chan];
	struct side *src = &ch->s[dir], *dst = &ch->s[!dir];
	uint64_t ts = r->now, seq;
	int fds[VX_MAX_FDS], nsend, extra = -1, i, e;
	uint16_t cmd;
	uint32_t flags;

	if (fr->bad == VX_ERR_INVALID || fr->bad == VX_ERR_TOO_LARGE) {
		if (!src->lost)
			annotate(r, c, chan, dir, "framing lost: msg_size %u %s",
			    le32(fr->data + VX_HDR_OFF_SIZE),
			    fr->bad == VX_ERR_INVALID ? "is below 16" :
			    "is over the limit");
		src->lost = 1;
		record_event(r, c, VX_TR_RAW, chan, dir, fr->data, fr->len, 0);
		if (vx_framer_queue_raw(&dst->fr, fr->data, fr->len) < 0)
			c->dead = 1;
		return;
	}
	if (src->lost) {
		annotate(r, c, chan, dir, "framing resumed");
		src->lost = 0;
	}
	cmd = le16(fr->data + VX_HDR_OFF_CMD);
	flags = le32(fr->data + VX_HDR_OFF_FLAGS);
	seq = ch->seq[dir]++;
	if (fr->bad == VX_ERR_FDS)
		annotate(r, c, chan, dir,
		    "descriptors cut off (MSG_CTRUNC): %s %s msg_id 0x%04x seq %llu",
		    vx_cmd_name(cmd) ? vx_cmd_name(cmd) : "command",
		    flags & VX_F_TYPE_REPLY ? "reply" : "command",
		    le16(fr->data), (unsigned long long)seq);
	/* The trace shows what the sender sent, descriptors included. */
	record_message(r, c, chan, dir, fr, seq, ts);
	if (r->verbose)
		summary(r, c, chan, dir, fr);
	if (r->hash_limit && chan == VX_CHAN_MAIN)
		hash_dma(r, c, dir, cmd, flags, fr, ts);

	for (i = 0; i < fr->nfds; i++)
		fds[i] = fr->fds[i];
	nsend = fr->nfds;
	if (chan == VX_CHAN_MAIN && dir == VX_S2C &&
	    (flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY) {
		if (cmd == VX_CMD_VERSION && fr->nfds > 0)
			swap_twin(r, c, fr, fds, &extra);
		else if (cmd == VX_CMD_DEVICE_GET_REGION_IO_FDS && fr->nfds > 0)
			annotate(r, c, chan, dir,
			    "%d ioeventfd/ioregionfd descriptors passed through",
			    fr->nfds);
		else if (cmd == VX_CMD_DEVICE_GET_REGION_INFO && r->trap_mmap &&
		    fr->len >= 32 && (le32(fr->data + 20) & VX_REGION_MMAP))
			nsend = trap_mmap(r, c, fr);
	} else if (chan == VX_CHAN_MAIN && dir == VX_C2S && !r->no_irq &&
	    cmd == VX_CMD_DEVICE_SET_IRQS &&
	    (flags & VX_F_TYPE_MASK) == VX_F_TYPE_COMMAND)
		swap_irqs(r, c, fr, fds);

	e = vx_framer_queue(&dst->fr, fr->data, fr->len, fds, nsend);
	if (e < 0) {
		annotate(r, c, chan, dir, "message seq %llu not forwarded: %s",
		    (unsigned long long)seq, e == VX_ERR_IO ? strerror(errno) :
		    "cannot queue");
		if (e == VX_ERR_NOMEM)
			c->dead = 1;
	}
	if (extra >= 0)
		close(extra);	/* the queue holds its own duplicate */
}

/* Read what side dir of channel chan has, message by message. */
static void
side_read(struct recorder *r, struct conn *c, int chan, int dir)
{
	struct chan *ch = &c->ch[chan];
	struct side *src = &ch->s[dir], *dst = &ch->s[!dir];
	struct vx_frame fr;
	int n, e;

	memset(&fr, 0, sizeof(fr));
	if (!src->probe && src->stop_wake + 1 == r->wakeups)
		src->probe = 1;	/* more was there when it stopped: streaming */
	for (n = 0; n < BURST && !c->dead; ) {
		if (dst->fd >= 0 &&
		    vx_framer_backlog(&dst->fr) >= QUEUE_MAX)
			break;	/* the other peer is slow: let it drain */
		e = vx_framer_recv(&src->fr);
		if (e == 0)
			continue;	/* header done, now the body */
		if (e == 1 || e == VX_ERR_FDS) {
			while (vx_framer_next(&src->fr, &fr) == 1) {
				handle_frame(r, c, chan, dir, &fr);
				vx_frame_release(&fr);
				n++;
			}
			if (!src->probe) {
				/* poll says whether more came */
				src->stop_wake = r->wakeups;
				break;
			}
			continue;
		}
		if (e == VX_ERR_AGAIN) {
			if (n > 0)
				src->probe = 0;	/* nothing after a message */
			break;
		}
		if (e == VX_ERR_TRUNCATED)
			annotate(r, c, chan, dir,
			    "%s closed the connection inside a message",
			    dir == VX_C2S ? "client" : "server");
		else if (e == VX_ERR_IO)
			annotate(r, c, chan, dir, "%s: read error: %s",
			    dir == VX_C2S ? "client" : "server", strerror(errno));
		else if (e == VX_ERR_NOMEM)
			c->dead = 1;
		src->eof = 1;
		if (chan == VX_CHAN_MAIN && c->ended == NULL)
			c->ended = dir == VX_C2S ? "the client closed the connection" :
			    "the server closed the connection";
		break;
	}
}

static void
side_flush(struct conn *c, struct side *s)
{
	int e;

	if (s->fd < 0 || !vx_framer_pending(&s->fr))
		return;
	e = vx_framer_flush(&s->fr);
	if (e < 0 && e != VX_ERR_AGAIN) {
		/* Nobody to deliver to: drop what was queued. */
		s->eof = 1;
		vx_framer_drop_output(&s->fr);
		if (s == &c->ch[VX_CHAN_MAIN].s[0] ||
		    s == &c->ch[VX_CHAN_MAIN].s[1])
			c->dead = 1;
	}
}

/*
 * A channel is over once one side has ended and what was queued for the
 * other has been written.
 */
static int
chan_done(const struct chan *ch)
{
	int d;

	for (d = 0; d < 2; d++)
		if (ch->s[d].eof && (ch->s[!d].fd < 0 ||
		    !vx_framer_pending(&ch->s[!d].fr)))
			return 1;
	return 0;
}

static void
reap_conns(struct recorder *r)
{
	struct conn **pp = &r->conns, *c;

	while ((c = *pp) != NULL) {
		if (c->ch[VX_CHAN_TWIN].open && chan_done(&c->ch[VX_CHAN_TWIN])) {
			chan_close(&c->ch[VX_CHAN_TWIN]);
			annotate(r, c, VX_CHAN_TWIN, 0, "twin socket closed");
		}
		if (c->dead || chan_done(&c->ch[VX_CHAN_MAIN])) {
			*pp = c->next;
			conn_close(r, c);
			free(c);
		} else
			pp = &c->next;
	}
}

static void
add_pfd(struct recorder *r, size_t *n, int fd, short ev, struct pref pr)
{
	if (*n == r->pcap) {
		size_t ncap = r->pcap ? 2 * r->pcap : 64;
		void *a = realloc(r->pfd, ncap * sizeof(*r->pfd));

		if (a == NULL)
			vx_fatal("out of memory");
		r->pfd = a;
		if ((a = realloc(r->pref, ncap * sizeof(*r->pref))) == NULL)
			vx_fatal("out of memory");
		r->pref = a;
		r->pcap = ncap;
	}
	r->pfd[*n].fd = fd;
	r->pfd[*n].events = ev;
	r->pfd[*n].revents = 0;
	r->pref[*n] = pr;
	(*n)++;
}

static size_t
build_poll(struct recorder *r, int accepting)
{
	struct pref pr;
	struct conn *c;
	struct irqw *iw;
	size_t n = 0;
	int i, ch, d;
	short ev;

	for (i = 0; accepting && i < r->nep; i++) {
		memset(&pr, 0, sizeof(pr));
		pr.kind = PK_LISTEN;
		pr.ep = &r->ep[i];
		add_pfd(r, &n, r->ep[i].lfd, POLLIN, pr);
	}
	for (c = r->conns; c != NULL; c = c->next) {
		for (ch = 0; ch < 2; ch++) {
			struct chan *cp = &c->ch[ch];

			if (!cp->open)
				continue;
			for (d = 0; d < 2; d++) {
				struct side *s = &cp->s[d], *o = &cp->s[!d];

				if (s->fd < 0)
					continue;
				ev = 0;
				if (!s->eof && (o->fd < 0 ||
				    vx_framer_backlog(&o->fr) < QUEUE_MAX))
					ev |= POLLIN;
				if (vx_framer_pending(&s->fr))
					ev |= POLLOUT;
				memset(&pr, 0, sizeof(pr));
				pr.kind = PK_SIDE;
				pr.c = c;
				pr.chan = ch;
				pr.dir = d;
				add_pfd(r, &n, s->fd, ev, pr);
			}
		}
		for (iw = c->irqs; iw != NULL; iw = iw->next) {
			memset(&pr, 0, sizeof(pr));
			pr.kind = PK_IRQ;
			pr.c = c;
			pr.iw = iw;
			add_pfd(r, &n, iw->action == VX_IRQ_ACTION_TRIGGER ?
			    iw->efd : iw->cfd, POLLIN, pr);
		}
	}
	return n;
}

/*
 * Stop capturing: the trace is closed, relaying goes on.  A connection
 * still open gets a CLOSE marked CAPTURE_END, so that readers do not take
 * its command in flight for one never answered.
 */
static void
stop_capture(struct recorder *r)
{
	struct rec_stats st;
	struct vx_trace_rec ev;
	struct conn *c;

	if (r->w == NULL)
		return;
	r->now = now_ns();
	for (c = r->conns; c != NULL; c = c->next) {
		conn_event(r, c, VX_TR_CLOSE, &ev);
		ev.flags = VX_TRF_CAPTURE_END;
		rec_put(r->w, &ev, 0, 0);
	}
	if (rec_writer_stop(r->w, &st) < 0 || st.lost || st.lost_other)
		r->incomplete = 1;
	r->w = NULL;
	fprintf(stderr, "vfuctl record: capture stopped: %llu messages recorded,"
	    " %llu lost", (unsigned long long)st.recorded,
	    (unsigned long long)st.lost);
	if (st.lost_other)
		fprintf(stderr, ", and %llu other records",
		    (unsigned long long)st.lost_other);
	fprintf(stderr, "%s\n", r->incomplete ? ": the trace is incomplete" :
	    "");
}

/* The server exited on its own: its status, as a shell gives it. */
static void
reap_server(struct recorder *r)
{
	int st;

	if (r->server <= 0 || waitpid(r->server, &st, WNOHANG) != r->server)
		return;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "vfuctl record: server killed by signal %d\n",
		    WTERMSIG(st));
		r->server_status = 128 + WTERMSIG(st);
	} else {
		fprintf(stderr, "vfuctl record: server exited with status %d\n",
		    WEXITSTATUS(st));
		r->server_status = WEXITSTATUS(st);
	}
	r->server = 0;
	r->server_gone = 1;
}

/* SIGTERM, as timeout(1) does; SIGKILL if it is still there 5 s on. */
static void
end_server(struct recorder *r)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i, st;

	if (r->server <= 0)
		return;
	kill(r->server, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(r->server, &st, WNOHANG) != 0)
			return;
		nanosleep(&tick, NULL);
	}
	kill(r->server, SIGKILL);
	waitpid(r->server, &st, 0);
}

static int
relay(struct recorder *r, const sigset_t *waitmask)
{
	struct conn *c;
	struct pref *pr;
	size_t n, i;
	int seen = 0, accepting = 1;

	for (;;) {
		if (signals != seen) {
			seen = signals;
			if (seen >= 2)
				break;
			stop_capture(r);
			accepting = 0;
			if (r->conns != NULL)
				fprintf(stderr, "vfuctl record: relaying until the"
				    " open connections end (signal again to exit)\n");
		}
		reap_server(r);
		if (r->server_gone && accepting) {
			/* strace, timeout: the run is the server's */
			accepting = 0;
			if (r->conns != NULL)
				fprintf(stderr, "vfuctl record: relaying until the"
				    " open connections end\n");
		}
		if (!accepting && r->conns == NULL)
			break;
		n = build_poll(r, accepting);
		if (ppoll(r->pfd, n, NULL, waitmask) < 0) {
			if (errno == EINTR)
				continue;
			vx_error("poll: %s", strerror(errno));
			return VX_EXIT_FAIL;
		}
		r->wakeups++;
		r->now = now_ns();
		for (i = 0; i < n; i++) {
			if (r->pfd[i].revents == 0)
				continue;
			pr = &r->pref[i];
			c = pr->c;
			if (pr->kind == PK_LISTEN) {
				do_accept(r, pr->ep);
				continue;
			}
			if (c->dead)
				continue;
			if (pr->kind == PK_IRQ) {
				irq_fired(r, c, pr->iw);
				continue;
			}
			if (c->ch[pr->chan].s[pr->dir].fd != r->pfd[i].fd)
				continue;	/* closed meanwhile */
			if (r->pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				side_read(r, c, pr->chan, pr->dir);
			if (r->pfd[i].revents & POLLOUT)
				side_flush(c, &c->ch[pr->chan].s[pr->dir]);
			/* forward at once what was just read */
			side_flush(c, &c->ch[pr->chan].s[!pr->dir]);
		}
		reap_conns(r);
	}
	return VX_EXIT_OK;
}

/* --- setup ------------------------------------------------------------------- */

/* What vx_sock_listen(path) failing with rc means, in words. */
static void
listen_error(const char *path, int rc)
{
	struct stat st;
	const char *what;

	if (rc == VX_ERR_IO) {
		vx_error("cannot listen on '%s': %s", path, strerror(errno));
		return;
	}
	if (rc == VX_ERR_TOO_LARGE) {
		vx_error("cannot listen on '%s': the path is too long for a "
		    "UNIX socket (at most 107 bytes)", path);
		return;
	}
	if (path[0] == '\0' || lstat(path, &st) < 0 || S_ISSOCK(st.st_mode)) {
		vx_error("cannot listen on '%s': invalid path", path);
		return;
	}
	what = S_ISREG(st.st_mode) ? "a regular file" :
	    S_ISDIR(st.st_mode) ? "a directory" :
	    S_ISLNK(st.st_mode) ? "a symbolic link" :
	    S_ISFIFO(st.st_mode) ? "a FIFO" : "a device";
	vx_error("cannot listen on '%s': it exists and is %s, not a socket; "
	    "remove it or choose another path", path, what);
}

/* Start SERVER-CMD and wait until every --connect socket exists. */
static int
start_server(struct recorder *r, char **argv, int to_stderr,
    const sigset_t *mask)
{
	struct stat st;
	int i, ready, waited;
	pid_t pid, parent = getpid();

	if ((pid = fork()) < 0)
		return vx_error("cannot start '%s': %s", argv[0], strerror(errno));
	if (pid == 0) {
		/* The trace may be on our stdout: keep the server off it. */
		if (to_stderr)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		/* not our blocked SIGINT and SIGTERM: the server must die
		   of the SIGTERM it gets when we exit */
		sigprocmask(SIG_SETMASK, mask, NULL);
		/* and die with us, however we die (kill -9 included) */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "vfuctl record: cannot run '%s': %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	r->server = pid;
	for (waited = 0; waited < SERVER_WAIT_MS; waited += 20) {
		ready = 1;
		for (i = 0; i < r->nep && ready; i++) {
			const char *p = r->ep[i].cpath;

			if (p[0] == '@')
				continue;	/* abstract: nothing to stat */
			ready = stat(p, &st) == 0 && S_ISSOCK(st.st_mode);
		}
		if (ready)
			return 0;
		reap_server(r);
		if (r->server == 0)
			return vx_error("the server exited before creating its socket");
		usleep(20000);
	}
	return vx_error("the server did not create its socket within %d ms",
	    SERVER_WAIT_MS);
}

static unsigned
parse_uint(const char *opt, const char *arg, uint64_t max)
{
	uint64_t v;

	if (vx_parse_u64(arg, &v) < 0 || v == 0 || v > max)
		vx_invarg("record", opt, arg);
	return (unsigned)v;
}

/*
 * A byte count above 0: decimal or 0x hex, with an optional K, M, G or T
 * (binary multiples; "KiB", "MiB", ... also taken).  0, or -1 if invalid.
 */
static int
parse_size(const char *arg, uint64_t *out)
{
	static const char units[] = "KMGT";
	char num[32];
	const char *u;
	size_t n = strcspn(arg, "kKmMgGtT");
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, arg, n);
	num[n] = '\0';
	u = arg + n;
	if (*u != '\0') {
		/* "0x1k" is hex digits then a unit; 'b' alone is a hex digit */
		shift = 10 * (unsigned)(strchr(units, *u & ~0x20) - units + 1);
		u++;
		if (strcmp(u, "iB") == 0 || strcmp(u, "B") == 0)
			u += strlen(u);
		if (*u != '\0')
			return -1;
	}
	if (vx_parse_u64(num, &v) < 0 || v == 0 || (shift && v > UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int
cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "redact", no_argument, NULL, 'R' },
		{ "no-irq-intercept", no_argument, NULL, 'I' },
		{ "trap-mmap", no_argument, NULL, 'T' },
		{ "hash-dma", required_argument, NULL, 'H' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "allow-any-uid", no_argument, NULL, 'U' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct recorder rec;
	static uint8_t key[VX_TRACE_KEY_MAX];
	struct recorder *r = &rec;
	struct rec_wopts wo;
	struct sigaction sa;
	sigset_t block, waitmask, origmask;
	const char *env;
	char err[512];
	int c, i, rc, nlisten = 0, nconnect = 0;

	memset(r, 0, sizeof(*r));
	memset(&wo, 0, sizeof(wo));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:c:w:vC:W:G:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'l':
			if (nlisten >= MAX_ENDPOINTS)
				vx_usage_error("record", "too many --listen (at most %d)",
				    MAX_ENDPOINTS);
			if (nlisten != nconnect)
				vx_usage_error("record", "--listen '%s' follows a --listen"
				    " without its --connect", optarg);
			r->ep[nlisten++].lpath = optarg;
			break;
		case 'c':
			if (nconnect >= nlisten)
				vx_usage_error("record", "--connect '%s' without a"
				    " --listen before it", optarg);
			r->ep[nconnect++].cpath = optarg;
			break;
		case 'w':
			if (wo.path != NULL)
				vx_duparg("record", "-w", optarg);
			wo.path = optarg;
			break;
		case 'v':
			r->verbose = wo.verbose = 1;
			break;
		case 'C':
			/* tcpdump's -C: millions of bytes, or K, M, G given */
			if (optarg[strcspn(optarg, "kKmMgGtT")] == '\0')
				wo.rotate_bytes = (uint64_t)parse_uint("size",
				    optarg, 1000000) * 1000000u;
			else if (parse_size(optarg, &wo.rotate_bytes) < 0)
				vx_usage_error("record", "invalid -C size '%s' (millions"
				    " of bytes, or a count with K, M or G for KiB, MiB"
				    " or GiB: 100, 64K, 1G)", optarg);
			break;
		case 'W':
			wo.rotate_count = parse_uint("count", optarg, 1000000);
			break;
		case 'G':
			wo.rotate_secs = parse_uint("seconds", optarg, 100000000);
			break;
		case 'R':
			r->redact = 1;
			break;
		case 'I':
			r->no_irq = 1;
			break;
		case 'T':
			r->trap_mmap = 1;
			break;
		case 'H':
			if (parse_size(optarg, &r->hash_limit) < 0)
				vx_usage_error("record", "invalid --hash-dma limit '%s'"
				    " (a byte count above 0, with K, M or G for KiB,"
				    " MiB or GiB: 64K, 1M, 1G)", optarg);
			break;
		case 'u':
			if ((rc = vx_peer_policy_add(&r->allow, optarg)) ==
			    VX_ERR_TOO_LARGE)
				vx_usage_error("record", "too many --allow-uid (at "
				    "most %d)", VX_ALLOW_MAX_UIDS);
			if (rc < 0)
				vx_invarg("record", "--allow-uid", optarg);
			break;
		case 'U':
			r->allow.any = 1;
			break;
		case 'K':
			if ((i = vx_load_key(optarg, key)) < 0)
				return VX_EXIT_USAGE;
			wo.key = key;
			wo.keylen = (size_t)i;
			break;
		case 'h':
			fputs(cmd_record_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("record", "unknown option");
		}
	}
	if (nlisten == 0)
		vx_missarg("record", "--listen");
	if (nconnect != nlisten)
		vx_usage_error("record", "--listen '%s' has no --connect",
		    r->ep[nlisten - 1].lpath);
	if (wo.path == NULL)
		vx_missarg("record", "-w FILE");
	if (strcmp(wo.path, "-") == 0 &&
	    (wo.rotate_bytes || wo.rotate_secs || wo.rotate_count))
		vx_usage_error("record", "-C, -W and -G need a file, not '-'");
	if (wo.rotate_count && !wo.rotate_bytes && !wo.rotate_secs)
		vx_usage_error("record", "-W needs -C or -G");
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		vx_usage_error("record", "unexpected argument '%s' (put the"
		    " server command after --)", argv[optind]);
	r->nep = nlisten;

	vx_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* Signals arrive only inside ppoll: no race with the flag check. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	origmask = waitmask;
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGCHLD);

	rc = VX_EXIT_FAIL;
	if (optind < argc && start_server(r, argv + optind,
	    strcmp(wo.path, "-") == 0, &origmask) < 0)
		goto out;
	for (i = 0; i < r->nep; i++) {
		r->ep[i].id = (uint32_t)i;
		r->ep[i].lfd = vx_sock_listen(r->ep[i].lpath, 0600, 64);
		if (r->ep[i].lfd < 0) {
			listen_error(r->ep[i].lpath, r->ep[i].lfd);
			r->nep = i;
			goto out;
		}
	}
	/* Undocumented in --help: a small queue makes GAP records testable. */
	if ((env = getenv("VFUCTL_RECORD_QUEUE")) != NULL) {
		uint64_t q;

		if (vx_parse_u64(env, &q) < 0 || q == 0 || q > SIZE_MAX / 2)
			vx_usage_error("record", "invalid VFUCTL_RECORD_QUEUE '%s'",
			    env);
		wo.queue_max = (size_t)q;
	}
	if (rec_writer_start(&wo, &r->w, err, sizeof(err)) < 0) {
		vx_error("%s", err);
		goto out;
	}
	vx_decoder_init(&r->dec);
	rc = relay(r, &waitmask);
	vx_decoder_release(&r->dec);
	free(r->redbuf);
	r->redbuf = NULL;
out:
	r->now = now_ns();
	while (r->conns != NULL) {
		struct conn *cn = r->conns;

		r->conns = cn->next;
		conn_close(r, cn);
		free(cn);
	}
	stop_capture(r);
	if (r->incomplete && rc == VX_EXIT_OK)
		rc = VX_EXIT_FAIL;
	for (i = 0; i < r->nep; i++) {
		close(r->ep[i].lfd);
		if (r->ep[i].lpath[0] != '@')
			unlink(r->ep[i].lpath);
	}
	end_server(r);
	/* the server ended the run: its status, unless ours says worse */
	if (r->server_gone && (rc == VX_EXIT_OK || r->server_status != 0))
		rc = r->server_status;
	free(r->pfd);
	free(r->pref);
	return rc;
}
