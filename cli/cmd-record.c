/*
 * cmd-record.c - vfuctl record: a vfio-user relay that records a trace.
 *
 * Each --listen/--connect pair is an endpoint: the recorder listens on the
 * first path and, for each client it accepts, relays to the server at the
 * second.  The relaying is lib/relay.c's (vx_relay: store and forward,
 * twin channel, interrupts; see vx-relay.h); this file is option parsing,
 * the accept loop, and the relay's hooks, which queue records to a writer
 * thread (record-writer.c) so that no trace write ever holds up the relay.
 *
 * --trap-mmap is the one option that changes bytes on the wire: a hook
 * that decodes region info replies, clears MMAP and re-encodes them.
 *
 * --hash-dma keeps a duplicate of each DMA window's descriptor and, at
 * DMA_MAP, DMA_UNMAP and the connection's end, hashes the window
 * (record-hash.c) before the message goes on, so the digest is of what
 * the server was given.
 *
 * The trace writer stays in cli/: it is the recorder's policy (rotation,
 * loss counting, GAP records, digests), built on lib's trace
 * writer; lib/ has no threads, and replay and fuzz need the relay, not it.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "record.h"
#include "spawn.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-msg.h"
#include "vx-relay.h"
#include "vx-session.h"
#include "vx-sock.h"
#include "vx-trace.h"

const char cmd_record_usage[] =
	"usage: vfuctl record --listen PATH --connect PATH [--listen PATH\n"
	"                     --connect PATH ...] -w FILE|- [-v] [-c COUNT]\n"
	"                     [-s SNAPLEN] [-Y FILTER] [-C SIZE]\n"
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
	"  --connect PATH       the server's socket for the --listen before it\n"
	"  -w FILE              write the trace to FILE ('-': standard output);\n"
	"                       with -G, strftime(3) %%-escapes name each file\n"
	"  -v, --verbose        one summary line per message on stderr\n"
	"  -c COUNT             stop capturing after COUNT messages (relaying\n"
	"                       goes on until the open connections end)\n"
	"  -s SNAPLEN           keep the first SNAPLEN bytes of each message\n"
	"                       (16 or more; 16: headers only; 0: all)\n"
	"  -Y, --filter FILTER  record only the records FILTER selects (the\n"
	"                       display filters of vfuctl-dissect(1))\n"
	"  -C SIZE              start a new file once one holds SIZE million bytes\n"
	"                       (tcpdump's unit), or SIZE with K, M or G: 64K\n"
	"  -W COUNT             with -C or -G, reuse the names after COUNT files\n"
	"                       (time names: keep the newest COUNT files)\n"
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
#define SERVER_WAIT_MS	10000

struct endpoint {
	uint32_t id;
	const char *lpath, *cpath;
	int lfd;
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

struct recorder;

/* A client connection: the relay (lib/relay.c) and what the hooks keep. */
struct conn {
	struct conn *next;
	struct recorder *r;
	uint32_t id;
	struct endpoint *ep;
	struct vx_relay *rl;
	struct vx_relay_peer peer;	/* the client's credentials */
	struct dmaw *dma;	/* --hash-dma: the mapped windows */
	struct vx_session *peers;	/* --redact: the wire forms in use */
	size_t pfd_at;		/* its entries in the poll set, */
	unsigned npfd;		/* this wakeup */
};

struct recorder {
	struct endpoint ep[MAX_ENDPOINTS];
	int nep;
	struct conn *conns;
	uint32_t next_conn;
	struct rec_writer *w;	/* NULL once capture stopped */
	int incomplete;		/* messages lost or a write failed: exit 1 */
	int count_fd;		/* -c: the writer signals it at the count */
	size_t count_at;	/* its entry in the poll set, when polled */
	int verbose, redact, trap_mmap;
	struct vx_relay_opts ro;
	struct vx_peer_policy allow;	/* who may connect to --listen */
	uint64_t hash_limit;	/* --hash-dma; 0: off */
	uint8_t *hashbuf;	/* --hash-dma's reads */
	struct vx_decoder dec;
	struct spawn server;	/* -- SERVER-CMD; argv NULL: none */
	const char *server_socks[MAX_ENDPOINTS];	/* the --connect paths */
	sigset_t server_mask;	/* the signal mask it starts with */
	int server_to_stderr;	/* -w -: its stdout onto our stderr */
	int server_status;	/* its exit status, 128+N if killed by N */
	int server_gone;	/* it exited on its own */
	uint8_t *redbuf;	/* --redact: the message with its data zeroed */
	size_t redcap;
	uint8_t *trapbuf;	/* --trap-mmap: the reply re-encoded */
	size_t trapcap;
	struct pollfd *pfd;
	size_t pcap;
	struct vx_fd_info fdi[VX_MAX_FDS];
	uint64_t now;		/* the time of the last wakeup: one clock read
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

/* --- recording ----------------------------------------------------------- */

/* A record of connection c, stamped now. */
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
		ev->pid = (uint32_t)c->peer.pid;
		ev->uid = (uint32_t)c->peer.uid;
		ev->gid = (uint32_t)c->peer.gid;
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
	rec_put(r->w, &ev, flush);
}

static void
annotate(struct recorder *r, struct conn *c, int chan, int dir,
    const char *fmt, ...) VX_PRINTF(5, 6);

static void
annotate(struct recorder *r, struct conn *c, int chan, int dir,
    const char *fmt, ...)
{
	char text[320];
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

/* Room for n bytes in *buf; 0, or -1 when out of memory. */
static int
reserve(uint8_t **buf, size_t *cap, size_t n)
{
	uint8_t *nb;

	if (n <= *cap)
		return 0;
	if ((nb = realloc(*buf, n)) == NULL)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
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

	*len = fr->len < VX_HDR_SIZE ? fr->len : VX_HDR_SIZE;
	if (reserve(&r->redbuf, &r->redcap, fr->len) < 0)
		return fr->data;
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
	conn_event(r, c, VX_TR_MESSAGE, &ev);
	ev.ts_ns = ts;
	ev.chan = (uint8_t)chan;
	ev.dir = (uint8_t)dir;
	ev.seq = seq;
	ev.data = fr->data;
	ev.len = fr->len;
	if (r->redact)
		ev.data = redacted(r, c, chan, dir, fr, &ev.len);
	ev.fds = n ? r->fdi : NULL;
	ev.nfds = (unsigned)n;
	rec_put(r->w, &ev, 0);
}

/* --- --hash-dma ------------------------------------------------------------ */

/*
 * Hash window w now, before the message that maps or unmaps it goes on:
 * the digest is of what the server was given (or left), not of what it
 * wrote there a moment later.  The relay waits for it (about 2 ms a MiB,
 * bounded by --hash-dma's limit).
 */
static void
hash_window(struct recorder *r, struct conn *c, const struct dmaw *w,
    int when)
{
	struct rec_hash h;
	char text[320];

	if (r->w == NULL)
		return;
	memset(&h, 0, sizeof(h));
	h.conn = c->id;
	h.iova = w->iova;
	h.size = w->size;
	h.offset = w->offset;
	h.limit = r->hash_limit;
	h.when = when;
	h.err = w->err;
	h.fd = w->fd;
	rec_hash_text(&h, &r->hashbuf, text, sizeof(text));
	annotate(r, c, VX_CHAN_MAIN, VX_C2S, "%s", text);
}

static void
dmaw_free(struct dmaw *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

/* A DMA_MAP or DMA_UNMAP command decoded; 0, or -1 if it cannot be. */
static int
decode_command(struct recorder *r, const struct vx_frame *fr,
    struct vx_msg *m)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };

	ctx.nfds = fr->nfds;
	return vx_decode(&r->dec, fr->data, fr->len, &ctx, m) < 0 ? -1 : 0;
}

/* DMA_MAP command: keep the window (and its descriptor), hash it. */
static void
dma_map(struct recorder *r, struct conn *c, const struct vx_relay_msg *rm)
{
	const struct vx_frame *fr = rm->frame;
	uint64_t offset, iova, size;
	struct dmaw *w, **pp;
	struct vx_msg m;

	if (decode_command(r, fr, &m) < 0 ||
	    vx_msg_get(&m, VXF_DMA_MAP_OFFSET, &offset) < 0 ||
	    vx_msg_get(&m, VXF_DMA_ADDR, &iova) < 0 ||
	    vx_msg_get(&m, VXF_DMA_SIZE, &size) < 0)
		return;		/* malformed: nothing to hash */
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		annotate(r, c, VX_CHAN_MAIN, VX_C2S,
		    "DMA hash at map: out of memory, window not tracked");
		return;
	}
	w->offset = offset;
	w->iova = iova;
	w->size = size;
	w->msg_id = rm->id;
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
	hash_window(r, c, w, REC_HASH_MAP);
}

/* DMA_MAP reply: an error one means the window was never mapped. */
static void
dma_map_reply(struct conn *c, const struct vx_relay_msg *rm)
{
	struct dmaw **pp, *w;

	for (pp = &c->dma; (w = *pp) != NULL; pp = &w->next) {
		if (!w->pending || w->msg_id != rm->id)
			continue;
		if (rm->flags & VX_F_ERROR) {
			*pp = w->next;
			dmaw_free(w);
		} else
			w->pending = 0;
		return;
	}
}

/* DMA_UNMAP command: hash and forget the windows it covers. */
static void
dma_unmap(struct recorder *r, struct conn *c, const struct vx_relay_msg *rm)
{
	struct dmaw **pp, *w;
	uint64_t uflags, addr, size;
	struct vx_msg m;

	if (decode_command(r, rm->frame, &m) < 0 ||
	    vx_msg_get(&m, VXF_DMA_UNMAP_FLAGS, &uflags) < 0 ||
	    vx_msg_get(&m, VXF_DMA_ADDR, &addr) < 0 ||
	    vx_msg_get(&m, VXF_DMA_SIZE, &size) < 0)
		return;
	for (pp = &c->dma; (w = *pp) != NULL; ) {
		if ((uflags & VX_DMA_UNMAP_ALL) || (w->iova >= addr &&
		    w->iova - addr <= size && w->size <= size - (w->iova - addr))) {
			*pp = w->next;
			hash_window(r, c, w, REC_HASH_UNMAP);
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

	while ((w = c->dma) != NULL) {
		c->dma = w->next;
		hash_window(r, c, w, REC_HASH_CLOSE);
		dmaw_free(w);
	}
}

static void
hash_dma(struct recorder *r, struct conn *c, const struct vx_relay_msg *m)
{
	uint32_t type = m->flags & VX_F_TYPE_MASK;

	if (m->dir == VX_C2S && type == VX_F_TYPE_COMMAND) {
		if (m->cmd == VX_CMD_DMA_MAP)
			dma_map(r, c, m);
		else if (m->cmd == VX_CMD_DMA_UNMAP)
			dma_unmap(r, c, m);
	} else if (m->dir == VX_S2C && type == VX_F_TYPE_REPLY &&
	    m->cmd == VX_CMD_DMA_MAP)
		dma_map_reply(c, m);
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

/* --- --trap-mmap ----------------------------------------------------------- */

/* The top-level item of field in m, or NULL. */
static struct vx_item *
find_item(const struct vx_msg *m, unsigned field)
{
	uint32_t i;

	if (vx_msg_items(m) < 0)
		return NULL;
	for (i = 0; i < m->nitems; i++)
		if (m->items[i].field == field && m->items[i].depth == 0)
			return &m->items[i];
	return NULL;
}

/*
 * A region info reply with MMAP: decoded, its flags field cleared and
 * re-encoded through the codec, its descriptors dropped, so the client
 * reads and writes the region by messages.  The trace keeps the reply as
 * the server sent it (recorded before).  What cannot be decoded or
 * re-encoded whole goes on untouched.
 */
static void
trap_mmap(struct recorder *r, struct conn *c, struct vx_relay_msg *rm,
    int *nfds)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_frame *fr = rm->frame;
	struct vx_item *flags;
	struct vx_msg m;
	uint64_t region = 0;

	ctx.nfds = fr->nfds;
	if (vx_decode(&r->dec, fr->data, fr->len, &ctx, &m) < 0 ||
	    (flags = find_item(&m, VXF_RINFO_FLAGS)) == NULL ||
	    !(flags->val & VX_REGION_MMAP))
		return;
	flags->val &= ~(uint64_t)VX_REGION_MMAP;
	vx_msg_get(&m, VXF_REGION_INDEX, &region);
	if (reserve(&r->trapbuf, &r->trapcap, fr->len) < 0 ||
	    vx_encode(&m, r->trapbuf, fr->len) != (long)fr->len) {
		annotate(r, c, VX_CHAN_MAIN, VX_S2C, "trap-mmap: region %llu: "
		    "cannot re-encode the reply, forwarded untouched",
		    (unsigned long long)region);
		return;
	}
	memcpy(fr->data, r->trapbuf, fr->len);
	annotate(r, c, VX_CHAN_MAIN, VX_S2C,
	    "trap-mmap: region %llu: MMAP cleared, %d descriptors dropped",
	    (unsigned long long)region, *nfds);
	*nfds = 0;
}

/* --- the relay's hooks ----------------------------------------------------- */

static void
on_open(void *arg, const struct vx_relay_peer *peer)
{
	struct conn *c = arg;
	struct recorder *r = c->r;

	c->peer = *peer;
	record_event(r, c, VX_TR_OPEN, 0, 0, NULL, 0, 1);
	if (r->verbose)
		fprintf(stderr, "c%u opened on endpoint %u (pid %ld)\n", c->id,
		    c->ep->id, (long)c->peer.pid);
}

static void
on_message(void *arg, const struct vx_relay_msg *m)
{
	struct conn *c = arg;
	struct recorder *r = c->r;

	record_message(r, c, m->chan, m->dir, m->frame, m->seq, m->ts_ns);
	if (r->verbose)
		summary(r, c, m->chan, m->dir, m->frame);
	if (r->hash_limit && m->chan == VX_CHAN_MAIN)
		hash_dma(r, c, m);
}

static void
on_forward(void *arg, struct vx_relay_msg *m, int *fds, int *nfds)
{
	struct conn *c = arg;

	(void)fds;
	if (c->r->trap_mmap && m->chan == VX_CHAN_MAIN && m->dir == VX_S2C &&
	    (m->flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY &&
	    m->cmd == VX_CMD_DEVICE_GET_REGION_INFO)
		trap_mmap(c->r, c, m, nfds);
}

static void
on_raw(void *arg, int chan, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct conn *c = arg;

	(void)ts;
	record_event(c->r, c, VX_TR_RAW, chan, dir, p, n, 0);
}

static void
on_irq(void *arg, uint32_t index, uint32_t vector, uint64_t count,
    uint64_t ts)
{
	struct conn *c = arg;
	struct recorder *r = c->r;
	struct vx_trace_rec ev;

	if (r->verbose)
		fprintf(stderr, "c%u IRQ index %u vector %u x%llu\n", c->id,
		    index, vector, (unsigned long long)count);
	if (r->w == NULL)
		return;
	conn_event(r, c, VX_TR_IRQ, &ev);
	ev.ts_ns = ts;
	ev.dir = VX_S2C;
	ev.irq_index = index;
	ev.irq_vector = vector;
	ev.count = count;
	rec_put(r->w, &ev, 0);
}

static void
on_note(void *arg, int chan, int dir, const char *text)
{
	struct conn *c = arg;

	annotate(c->r, c, chan, dir, "%s", text);
}

static void
on_close(void *arg, const struct vx_relay_peer *peer)
{
	struct conn *c = arg;
	struct recorder *r = c->r;

	(void)peer;
	vx_session_free(c->peers);
	c->peers = NULL;
	dma_close(r, c);
	record_event(r, c, VX_TR_CLOSE, 0, 0, NULL, 0, 1);
	if (r->verbose)
		fprintf(stderr, "c%u closed\n", c->id);
}

static const struct vx_relay_hooks hooks = {
	on_open, on_message, on_forward, on_raw, on_irq, on_note, on_close
};

/* --- connections ----------------------------------------------------------- */

static void
conn_free(struct recorder *r, struct conn *c)
{
	vx_relay_free(c->rl, r->now);
	free(c);
}

static void
do_accept(struct recorder *r, struct endpoint *ep)
{
	struct conn *c;
	pid_t pid;
	uid_t uid;
	int cfd, rc;

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
	c->r = r;
	c->id = ++r->next_conn;
	c->ep = ep;
	rc = vx_relay_new(cfd, ep->cpath, &r->ro, &hooks, c, r->now, &c->rl);
	if (rc < 0) {
		if (rc != VX_ERR_NOMEM)
			fprintf(stderr, "vfuctl record: cannot connect to '%s': "
			    "%s\n", ep->cpath, rc == VX_ERR_IO ?
			    strerror(errno) : "timeout");
		vx_session_free(c->peers);	/* NOMEM: no close hook */
		free(c);
		return;
	}
	c->next = r->conns;
	r->conns = c;
}

static void
reap_conns(struct recorder *r)
{
	struct conn **pp = &r->conns, *c;

	while ((c = *pp) != NULL) {
		if (vx_relay_done(c->rl)) {
			*pp = c->next;
			conn_free(r, c);
		} else
			pp = &c->next;
	}
}

/* Room for n more entries after the first used. */
static void
pfd_reserve(struct recorder *r, size_t used, size_t n)
{
	size_t ncap;
	void *a;

	if (used + n <= r->pcap)
		return;
	ncap = r->pcap ? 2 * r->pcap : 64;
	if (ncap < used + n)
		ncap = used + n;
	if ((a = realloc(r->pfd, ncap * sizeof(*r->pfd))) == NULL)
		vx_fatal("out of memory");
	r->pfd = a;
	r->pcap = ncap;
}

/* The listening sockets first (when accepting), then each relay's. */
static size_t
build_poll(struct recorder *r, int accepting)
{
	struct conn *c;
	size_t n = 0;
	int i;

	pfd_reserve(r, 0, (size_t)r->nep);
	for (i = 0; accepting && i < r->nep; i++) {
		r->pfd[n].fd = r->ep[i].lfd;
		r->pfd[n].events = POLLIN;
		r->pfd[n].revents = 0;
		n++;
	}
	for (c = r->conns; c != NULL; c = c->next) {
		pfd_reserve(r, n, vx_relay_npollfds(c->rl));
		c->pfd_at = n;
		c->npfd = vx_relay_pollfds(c->rl, r->pfd + n);
		n += c->npfd;
	}
	r->count_at = 0;
	if (r->count_fd >= 0 && r->w != NULL) {
		pfd_reserve(r, n, 1);
		r->pfd[n].fd = r->count_fd;
		r->pfd[n].events = POLLIN;
		r->pfd[n].revents = 0;
		r->count_at = n++;
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
	r->now = rec_now_ns();
	for (c = r->conns; c != NULL; c = c->next) {
		conn_event(r, c, VX_TR_CLOSE, &ev);
		ev.flags = VX_TRF_CAPTURE_END;
		rec_put(r->w, &ev, 0);
	}
	if (rec_writer_stop(r->w, &st) < 0 || st.lost || st.lost_other)
		r->incomplete = 1;
	r->w = NULL;
	fprintf(stderr, "vfuctl record: capture stopped%s: %llu messages "
	    "recorded, %llu lost", st.count_reached ? " at the -c count" : "",
	    (unsigned long long)st.recorded, (unsigned long long)st.lost);
	if (st.filtered)
		fprintf(stderr, ", %llu left out by -Y",
		    (unsigned long long)st.filtered);
	if (st.lost_other)
		fprintf(stderr, ", and %llu other records",
		    (unsigned long long)st.lost_other);
	fprintf(stderr, "%s\n", r->incomplete ? ": the trace is incomplete" :
	    "");
}

/* The server exited on its own: its status, as a shell gives it. */
static void
server_ended(struct recorder *r)
{
	int st = r->server.status;

	r->server_status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) :
	    WEXITSTATUS(st);
	r->server_gone = 1;
}

static void
reap_server(struct recorder *r)
{
	char how[96];

	if (!spawn_reap(&r->server, 0))
		return;
	spawn_status_text(r->server.status, how, sizeof(how));
	fprintf(stderr, "vfuctl record: server %s\n", how);
	server_ended(r);
}

static int
relay(struct recorder *r, const sigset_t *waitmask)
{
	struct conn *c;
	size_t n;
	int i, seen = 0, accepting = 1, nlisten;

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
		nlisten = accepting ? r->nep : 0;
		if (ppoll(r->pfd, n, NULL, waitmask) < 0) {
			if (errno == EINTR)
				continue;
			vx_error("poll: %s", strerror(errno));
			return VX_EXIT_FAIL;
		}
		r->now = rec_now_ns();
		for (c = r->conns; c != NULL; c = c->next)
			vx_relay_step(c->rl, r->pfd + c->pfd_at, c->npfd, r->now);
		for (i = 0; i < nlisten; i++)
			if (r->pfd[i].revents)
				do_accept(r, &r->ep[i]);
		if (r->count_at && r->pfd[r->count_at].revents) {
			/* -c: as a first signal, with the count said */
			stop_capture(r);
			accepting = 0;
			if (r->conns != NULL)
				fprintf(stderr, "vfuctl record: relaying until the"
				    " open connections end\n");
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

/* In the server's process, before its exec. */
static void
server_child(void *arg)
{
	const struct recorder *r = arg;

	/* The trace may be on our stdout: keep the server off it. */
	if (r->server_to_stderr)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	/* not our blocked SIGINT and SIGTERM: the server must die of the
	   SIGTERM it gets when we exit */
	sigprocmask(SIG_SETMASK, &r->server_mask, NULL);
}

/* Start SERVER-CMD and wait until every --connect socket exists. */
static int
start_server(struct recorder *r, char **cmd)
{
	char why[512];
	int i, rc;

	for (i = 0; i < r->nep; i++)
		r->server_socks[i] = r->ep[i].cpath;
	if (spawn_init_as_is(&r->server, cmd, r->server_socks,
	    (unsigned)r->nep) < 0)
		return vx_error("out of memory");
	/* SIGTERM when we die, as when we exit: it may clean up */
	r->server.deathsig = SIGTERM;
	r->server.child_setup = server_child;
	r->server.arg = r;
	if ((rc = spawn_start(&r->server, SERVER_WAIT_MS, why,
	    sizeof(why))) == 0)
		return 0;
	vx_error("%s", why);
	if (rc == VX_ERR_NOENT) {
		/* 127, as a shell says */
		r->server_status = 127;
		r->server_gone = 1;
	} else if (rc == VX_ERR_IO && r->server.status != -1) {
		server_ended(r);
	}
	return -1;
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
		{ "connect", required_argument, NULL, 'n' },
		{ "filter", required_argument, NULL, 'Y' },
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
	const char *fexpr = NULL;
	struct vx_filter *filter = NULL;
	uint64_t snap;
	int c, i, rc, dashdash, nlisten = 0, nconnect = 0;

	memset(r, 0, sizeof(*r));
	memset(&wo, 0, sizeof(wo));
	optind = 1;
	r->count_fd = -1;
	/*
	 * Options go anywhere before "--" (GNU order); what follows it is
	 * the server's command line, which getopt must not see.
	 */
	for (dashdash = 1; dashdash < argc; dashdash++)
		if (strcmp(argv[dashdash], "--") == 0)
			break;
	while ((c = getopt_long(dashdash, argv, "l:c:s:Y:w:vC:W:G:h", longopts,
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
			/* tcpdump's -c: a count (the socket is --connect) */
			if (vx_parse_u64(optarg, &wo.count) < 0 || wo.count == 0)
				vx_usage_error("record", "invalid -c count '%s' "
				    "(messages to record, 1 or more; the server's "
				    "socket is --connect)", optarg);
			break;
		case 's':
			if (vx_parse_u64(optarg, &snap) < 0 || snap > UINT32_MAX ||
			    (snap != 0 && snap < VX_HDR_SIZE))
				vx_usage_error("record", "invalid -s snap length "
				    "'%s' (0 for whole messages, or %d and more: "
				    "the header is kept whole)", optarg,
				    VX_HDR_SIZE);
			wo.snaplen = (uint32_t)snap;
			break;
		case 'Y':
			fexpr = optarg;
			break;
		case 'n':
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
			r->ro.no_irq = 1;
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
			vx_allow_uid("record", &r->allow, optarg);
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
	if (fexpr != NULL) {
		char ferr[1024];

		if (vx_filter_compile(fexpr, ferr, sizeof(ferr), &filter) < 0) {
			fprintf(stderr, "vfuctl record: invalid -Y filter:\n%s\n",
			    ferr);
			return VX_EXIT_USAGE;
		}
		wo.filter = filter;
	}
	if (wo.count) {
		if ((r->count_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			vx_fatal("eventfd: %s", strerror(errno));
		wo.count_fd = r->count_fd;
	}
	if (optind < dashdash)
		vx_usage_error("record", "unexpected argument '%s' (put the"
		    " server command after --)", argv[optind]);
	if (dashdash < argc && dashdash + 1 == argc)
		vx_usage_error("record", "nothing after --: give the server's "
		    "command");
	optind = dashdash + 1;
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
	r->server_mask = origmask;
	r->server_to_stderr = strcmp(wo.path, "-") == 0;
	if (optind < argc && start_server(r, argv + optind) < 0)
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
	r->now = rec_now_ns();
	while (r->conns != NULL) {
		struct conn *cn = r->conns;

		r->conns = cn->next;
		conn_free(r, cn);
	}
	stop_capture(r);
	if (r->incomplete && rc == VX_EXIT_OK)
		rc = VX_EXIT_FAIL;
	for (i = 0; i < r->nep; i++) {
		close(r->ep[i].lfd);
		if (r->ep[i].lpath[0] != '@')
			unlink(r->ep[i].lpath);
	}
	/* SIGTERM, as timeout(1) does; SIGKILL if it is still there 5 s on */
	spawn_stop(&r->server, 5000);
	spawn_free(&r->server);
	/* the server ended the run: its status, unless ours says worse */
	if (r->server_gone && (rc == VX_EXIT_OK || r->server_status != 0))
		rc = r->server_status;
	free(r->pfd);
	free(r->trapbuf);
	free(r->hashbuf);
	if (r->count_fd >= 0)
		close(r->count_fd);
	vx_filter_free(filter);
	return rc;
}
