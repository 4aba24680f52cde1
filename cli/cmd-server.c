/*
 * cmd-server.c - vfuctl server: a vfio-user backend program serving one
 * emulated PCI device, described in JSON (vfuctl-device(5)), to clients
 * one after another.
 *
 * Structure: one thread, one poll loop over the listening socket, the
 * connected client, clients being told "busy" and a signalfd (SIGTERM,
 * SIGINT), with a poll timeout for the nearest deadline (handshake,
 * message; see client_deadlines).  Every inbound frame is decoded
 * by vx_decode before anything acts on it; a malformed or unknown request
 * gets an error reply and serving goes on.  Commands run in arrival order.
 *
 * Server-to-client DMA (the device's DMA engine reaching client memory
 * that came without a file descriptor) sends DMA_READ/DMA_WRITE on the
 * main socket and waits for the reply right there; client commands that
 * arrive meanwhile are kept, in order, in a backlog that the loop runs
 * before it reads the socket again.
 *
 * On disconnect (spec "Client Disconnection"): DMA windows are unmapped
 * and their descriptors closed, IRQ eventfds are closed, device state is
 * kept for the next client.
 */
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-guard.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "vx-sock.h"

const char cmd_server_usage[] =
	"usage: vfuctl server --socket-path PATH | --fd N --device FILE.json\n"
	"                     [--once] [--mode MODE] [--max-data-xfer-size N]\n"
	"                     [--handshake-timeout MS] [--message-timeout MS]\n"
	"                     [--allow-uid UID ...] [--allow-any-uid]\n"
	"                     [-v] [--print-json]\n"
	"\n"
	"Serve the PCI device described in FILE.json (see vfuctl-device(5)) to\n"
	"vfio-user clients, one after another, on a UNIX socket.  Follows the\n"
	"spec's backend program conventions: stays in the foreground, and on\n"
	"SIGTERM removes its socket and exits 0.\n"
	"\n"
	"  --socket-path PATH     listen on PATH (\"@name\": abstract socket)\n"
	"  --fd N                 serve descriptor N: a listening socket, or a\n"
	"                         connected one (then one client only)\n"
	"  --device FILE          the device description (JSON)\n"
	"  --once                 exit after the first client disconnects\n"
	"  --mode MODE            socket file mode, octal (default 0600); not\n"
	"                         for abstract sockets, which have no file\n"
	"  --allow-uid UID        let UID (a number or user name) connect, as\n"
	"                         root and our own uid may; repeatable\n"
	"  --allow-any-uid        let every local user connect\n"
	"  --max-data-xfer-size N largest data transfer offered in VERSION\n"
	"                         (default 1048576, at most 67108864)\n"
	"  --handshake-timeout MS drop a client that sends no VERSION within\n"
	"                         MS milliseconds of connecting (default 5000,\n"
	"                         0 none); a client that comes while another is\n"
	"                         attached gets EBUSY, within the same time\n"
	"  --message-timeout MS   drop a client that leaves a message half sent,\n"
	"                         or a reply untaken, for MS milliseconds\n"
	"                         (default 5000, 0 none)\n"
	"  -v, --verbose          one summary line per message on stderr\n"
	"  --print-json           print the backend description JSON and exit\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: 0 on SIGTERM or after --once, 1 on failure, 2 on usage\n"
	"errors and bad device descriptions.\n";

#define MAX_MSG_FDS	16		/* offered in VERSION */
#define MAX_DMA_MAPS	1024
#define PGSIZE		4096u
#define DMA_TIMEOUT_MS	10000		/* wait for a client's DMA reply */
#define SEND_TIMEOUT_MS	10000
#define DEF_DEADLINE_MS	5000		/* --handshake-, --message-timeout */
#define MAX_DEADLINE_MS	86400000	/* a day */

struct irqvec {
	int fd;			/* eventfd, -1 none */
	int masked, pending;
};

struct window {
	uint64_t addr, size;
	uint32_t flags;		/* VX_DMA_MAP_READ, _WRITE */
	uint8_t *map;		/* mapped client memory at addr, or NULL */
	uint8_t *base;		/* what mmap returned */
	size_t maplen;
};

/* Migration (spec "VFIO_USER_DEVICE_FEATURE", v2 state machine). */
struct mig {
	int state;		/* enum vx_mig_state */
	uint8_t *buf;		/* saving: the device state; resuming: input */
	size_t len, pos, cap;
};

/* Dirty page logging of the device's DMA writes (DMA_LOGGING_*). */
#define LOG_MAX_RANGES	64
#define LOG_MAX_PAGES	(1u << 20)

struct dirty {
	int on;
	uint64_t page_size;	/* what the client asked for (echoed) */
	unsigned nranges;	/* 0: everything */
	uint64_t iova[LOG_MAX_RANGES], len[LOG_MAX_RANGES];
	uint64_t *pages;	/* dirty 4 KiB page numbers, unsorted */
	size_t npages, cap;
	int overflow;		/* too many pages: report everything */
};

/* Who is on the other end (SO_PEERCRED), for log lines. */
struct peer {
	pid_t pid;
	uid_t uid;
};

#define MAX_BUSY	8	/* clients being told "busy" at once */

struct busy {
	int fd;
	struct peer who;
	int64_t deadline;		/* for its first message; 0 none */
	uint8_t hdr[VX_HDR_SIZE];	/* its first message's header */
	size_t got;
};

struct server {
	/* options */
	const char *path;	/* socket we created and remove, or NULL */
	int lfd;		/* listening socket, -1 if serving one fd */
	int once, verbose;
	uint32_t max_xfer;
	int handshake_ms, message_ms;	/* deadlines; 0 none */
	struct vx_peer_policy allow;	/* who may connect */
	int sigfd;
	struct vx_device *dev;
	/* the connection */
	int cfd;
	struct peer who;
	int64_t hs_deadline, in_deadline, out_deadline;	/* 0 none */
	struct vx_framer fr;
	int tfd;			/* twin socket, our end; -1 none */
	struct vx_framer tfr;
	int twin_give;			/* its other end, closed once sent */
	struct vx_decoder dec, ddec;	/* requests; our DMA's replies */
	struct vx_builder b, db;	/* replies; our DMA commands */
	int negotiated, write_multi, qemu_forms, dead;
	uint32_t client_xfer;
	uint16_t next_id;
	struct irqvec *irq[VX_DEV_NIRQS];
	struct window *win;
	unsigned nwin;
	struct vx_frame *backlog;	/* commands that came during our DMA */
	unsigned nback, backcap;
	uint8_t *scratch;		/* max_xfer bytes for reads */
	struct mig mig;			/* device state: kept across clients */
	struct dirty log;
	int term;
	struct busy busy[MAX_BUSY];	/* clients being told "busy" */
	unsigned nbusy;
};

static void
say(const struct server *s, const char *fmt, ...) VX_PRINTF(2, 3);

static void
vsay(const char *fmt, va_list ap)
{
	fputs("vfuctl server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void
say(const struct server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* Events an operator must see (a client refused, dropped or failing),
 * printed with or without -v. */
static void
notice(const char *fmt, ...) VX_PRINTF(1, 2);

static void
notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

static void
log_msg(const struct server *s, const struct vx_msg *m, int dir)
{
	char sum[512];

	if (!s->verbose)
		return;
	vx_summary(m, sum, sizeof(sum));
	fprintf(stderr, "vfuctl server: %s 0x%04x %s\n",
	    dir == VX_S2C ? "s2c" : "c2s", m->id, sum);
}

/* --- interrupts ------------------------------------------------------ */

static void
fire(struct irqvec *v)
{
	uint64_t one = 1;

	if (v->masked) {
		v->pending = 1;
		return;
	}
	if (v->fd >= 0 && write(v->fd, &one, sizeof(one)) != sizeof(one))
		return;	/* an eventfd at its limit: the client is gone */
}

/* Does the device run?  Migration's STOP states hold it still. */
static int
running(const struct server *s)
{
	return s->mig.state == VX_MIG_RUNNING || s->mig.state == VX_MIG_PRE_COPY;
}

static void
raise_vec(unsigned index, struct irqvec *v)
{
	fire(v);
	/* INTx is automasked (GET_IRQ_INFO says so) until an unmask */
	if (index == VX_IRQ_INTX && v->fd >= 0)
		v->masked = 1;
}

static void
dev_irq(void *ctx, unsigned index, unsigned vector)
{
	struct server *s = ctx;
	struct irqvec *v;

	if (index >= VX_DEV_NIRQS || vector >= s->dev->irq_count[index] ||
	    s->irq[index] == NULL)
		return;
	v = &s->irq[index][vector];
	if (!running(s)) {
		v->pending = 1;	/* held until the device runs again */
		return;
	}
	raise_vec(index, v);
}

/* Deliver what was held while the device was stopped. */
static void
release_held(struct server *s)
{
	unsigned i, j;

	for (i = 0; i < VX_DEV_NIRQS; i++)
		for (j = 0; s->irq[i] != NULL && j < s->dev->irq_count[i]; j++)
			if (s->irq[i][j].pending && !s->irq[i][j].masked) {
				s->irq[i][j].pending = 0;
				raise_vec(i, &s->irq[i][j]);
			}
}

static void
irq_close(struct server *s, unsigned index, unsigned start, unsigned count)
{
	unsigned i;

	for (i = start; i < start + count; i++) {
		struct irqvec *v = &s->irq[index][i];

		if (v->fd >= 0)
			close(v->fd);
		v->fd = -1;
		v->masked = v->pending = 0;
	}
}

/* --- DMA ----------------------------------------------------------- */

static struct window *
find_window(struct server *s, uint64_t addr, size_t len)
{
	unsigned i;

	for (i = 0; i < s->nwin; i++) {
		struct window *w = &s->win[i];

		if (addr >= w->addr && addr - w->addr <= w->size &&
		    len <= w->size - (addr - w->addr))
			return w;
	}
	return NULL;
}

static void
window_drop(struct window *w)
{
	if (w->base != NULL)
		munmap(w->base, w->maplen);
	w->base = w->map = NULL;
}

static void
backlog_push(struct server *s, struct vx_frame *f)
{
	if (s->nback == s->backcap) {
		unsigned ncap = s->backcap ? s->backcap * 2 : 8;
		struct vx_frame *n = realloc(s->backlog, ncap * sizeof(*n));

		if (n == NULL) {
			vx_frame_release(f);
			s->dead = 1;
			return;
		}
		s->backlog = n;
		s->backcap = ncap;
	}
	s->backlog[s->nback++] = *f;
}

/* Send one built message, blocking up to the send timeout. */
static int
send_built(struct server *s, struct vx_builder *b, const int *fds, int nfds)
{
	struct vx_msg m;
	int r;

	if ((r = vx_build_finish(b, &m)) < 0)
		return r;
	m.dir = VX_S2C;
	log_msg(s, &m, VX_S2C);
	r = vx_framer_queue(&s->fr, m.buf, m.len, fds, nfds);
	if (r < 0)
		return r;
	r = vx_framer_flush(&s->fr);
	return r == VX_ERR_AGAIN ? 0 : r;
}

/* One DMA_READ or DMA_WRITE exchange over the socket. */
static int
dma_msg(struct server *s, int dir, uint64_t addr, uint8_t *buf, size_t len)
{
	int write = dir == VX_DMA_TO_CLIENT;
	struct vx_framer *fr = s->tfd >= 0 ? &s->tfr : &s->fr;
	uint16_t id = s->next_id++;
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_SPEC, 0, 0 };
	struct vx_frame f;
	struct vx_msg m;
	const struct vx_item *it;
	uint64_t v;
	int r;

	vx_build_header(&s->db, id, write ? VX_CMD_DMA_WRITE : VX_CMD_DMA_READ,
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&s->db, VXF_DMA_ADDR, addr);
	vx_build_uint(&s->db, s->qemu_forms ? VXF_DMA_COUNT32 : VXF_DMA_COUNT,
	    len);
	if (write)
		vx_build_bytes(&s->db, VXF_DMA_DATA, buf, len);
	if (s->qemu_forms)
		vx_build_uint(&s->db, VXF_DMA_PAD, 0);
	if ((r = vx_build_finish(&s->db, &m)) < 0)
		return EINVAL;
	m.dir = VX_S2C;
	log_msg(s, &m, VX_S2C);
	if ((r = vx_send_msg(fr, m.buf, m.len, NULL, 0, SEND_TIMEOUT_MS)) < 0) {
		s->dead = 1;
		return EIO;
	}
	/* replies may come in any peer's form (auto tells them by size) */
	ctx.peer = s->qemu_forms ? VX_PEER_QEMU : VX_PEER_AUTO;
	ctx.chan = fr == &s->tfr ? VX_CHAN_TWIN : VX_CHAN_MAIN;
	for (;;) {
		if ((r = vx_recv_frame(fr, &f, DMA_TIMEOUT_MS)) < 0) {
			say(s, "no reply to our DMA request: %s", vx_strerror(r));
			if (r != VX_ERR_TIMEOUT)
				s->dead = 1;
			return EIO;
		}
		if (f.bad || (vx_load(f.data + VX_HDR_OFF_FLAGS, 4, 0) &
		    VX_F_TYPE_MASK) != VX_F_TYPE_REPLY) {
			if (fr == &s->tfr) {
				/* the twin carries our commands only */
				say(s, "dropping a client command on the twin socket");
				vx_frame_release(&f);
			} else {
				backlog_push(s, &f);	/* later, in order */
			}
			continue;
		}
		ctx.nfds = f.nfds;
		if (vx_decode(&s->ddec, f.data, f.len, &ctx, &m) < 0) {
			vx_frame_release(&f);
			return ENOMEM;
		}
		log_msg(s, &m, VX_C2S);
		if (m.id != id || m.cmd != (write ? VX_CMD_DMA_WRITE :
		    VX_CMD_DMA_READ)) {
			say(s, "dropping a reply to no command of ours");
			vx_frame_release(&f);
			continue;
		}
		break;
	}
	r = 0;
	if (m.flags & VX_F_ERROR)
		r = m.error ? (int)m.error : EIO;
	else if (m.status != VX_MSG_OK)
		r = EINVAL;
	else if (!write) {
		it = vx_msg_item(&m, VXF_DMA_DATA);
		if (it == NULL || it->len != len ||
		    (vx_msg_get(&m, VXF_DMA_ADDR, &v) == 0 && v != addr))
			r = EINVAL;
		else
			memcpy(buf, it->ptr, len);
	}
	vx_frame_release(&f);
	return r;
}

static void
log_page(struct dirty *g, uint64_t pg)
{
	size_t i;

	for (i = 0; i < g->npages; i++)
		if (g->pages[i] == pg)
			return;
	if (g->npages == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		uint64_t *n;

		if (ncap > LOG_MAX_PAGES ||
		    (n = realloc(g->pages, ncap * sizeof(*n))) == NULL) {
			g->overflow = 1;	/* better too dirty than lost */
			return;
		}
		g->pages = n;
		g->cap = ncap;
	}
	g->pages[g->npages++] = pg;
}

static void
log_stop(struct dirty *g)
{
	free(g->pages);
	memset(g, 0, sizeof(*g));
}

/* Note a device write of [addr, addr+len) to client memory. */
static void
log_write(struct dirty *g, uint64_t addr, size_t len)
{
	uint64_t pg, end;
	unsigned i;
	int in = g->nranges == 0;

	if (!g->on || len == 0)
		return;
	for (i = 0; i < g->nranges && !in; i++)
		in = addr < g->iova[i] + g->len[i] && g->iova[i] < addr + len;
	if (!in)
		return;
	end = (addr + len - 1) / PGSIZE;
	for (pg = addr / PGSIZE; pg <= end; pg++)
		log_page(g, pg);
}

/*
 * DMA through a mapped window.  The client may have shrunk the file behind
 * it since DMA_MAP: the copy is guarded, and a vanished page is a DMA
 * error for the device, not a SIGBUS for us.
 */
static int
dma_mapped(const struct window *w, int dir, uint64_t addr, void *buf,
    size_t len)
{
	uint8_t *mem = w->map + (addr - w->addr);
	int to = dir == VX_DMA_TO_CLIENT;

	if (vx_copy_guarded(to ? mem : buf, to ? buf : mem, len) == 0)
		return 0;
	notice("DMA %s 0x%" PRIx64 "+%zu failed: the client's memory "
	    "behind window 0x%" PRIx64 "+0x%" PRIx64 " is gone (its file "
	    "shrank)", to ? "to" : "from", addr, len, w->addr, w->size);
	return EFAULT;
}

static int
dev_dma(void *ctx, int dir, uint64_t addr, void *buf, size_t len)
{
	struct server *s = ctx;
	struct window *w;
	size_t done, n;
	uint8_t *p = buf;
	int r;

	if (len == 0)
		return 0;
	if (!running(s))
		return EBUSY;	/* a stopped device does no DMA */
	if (s->cfd < 0 || s->dead || (w = find_window(s, addr, len)) == NULL)
		return EFAULT;
	if (!(w->flags & (dir == VX_DMA_TO_CLIENT ? VX_DMA_MAP_WRITE :
	    VX_DMA_MAP_READ)))
		return EPERM;
	if (dir == VX_DMA_TO_CLIENT)
		log_write(&s->log, addr, len);
	if (w->map != NULL)
		return dma_mapped(w, dir, addr, buf, len);
	/* in pieces the client accepts */
	for (done = 0; done < len; done += n) {
		n = len - done;
		if (n > s->client_xfer)
			n = s->client_xfer;
		if ((r = dma_msg(s, dir, addr + done, p + done, n)) != 0)
			return r;
	}
	return 0;
}

static const struct vx_device_ops dev_ops = { dev_irq, dev_dma };

/* --- connection lifetime ------------------------------------------- */

/* Milliseconds on a monotonic clock, for deadlines. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline ms from now, or 0 (none) for ms 0. */
static int64_t
deadline_in(int ms)
{
	return ms > 0 ? now_ms() + ms : 0;
}

static int
conn_start(struct server *s, int fd)
{
	struct vx_limits lim = { s->max_xfer + 4096u, MAX_MSG_FDS };
	unsigned i, j;

	if (vx_framer_init(&s->fr, fd, &lim) < 0)
		return -1;
	s->cfd = fd;
	s->tfd = s->twin_give = -1;
	s->negotiated = s->write_multi = s->qemu_forms = s->dead = 0;
	s->client_xfer = VX_DEF_MAX_XFER;
	s->hs_deadline = deadline_in(s->handshake_ms);
	s->in_deadline = s->out_deadline = 0;
	for (i = 0; i < VX_DEV_NIRQS; i++) {
		s->irq[i] = calloc(s->dev->irq_count[i] + 1, sizeof(*s->irq[i]));
		if (s->irq[i] == NULL)
			return -1;
		for (j = 0; j < s->dev->irq_count[i]; j++)
			s->irq[i][j].fd = -1;
	}
	say(s, "client connected");
	return 0;
}

static void
conn_end(struct server *s)
{
	unsigned i;

	if (s->cfd < 0)
		return;
	for (i = 0; i < s->nback; i++)
		vx_frame_release(&s->backlog[i]);
	s->nback = 0;
	for (i = 0; i < s->nwin; i++)
		window_drop(&s->win[i]);
	free(s->win);
	s->win = NULL;
	s->nwin = 0;
	log_stop(&s->log);	/* logging is the client's, like its windows */
	for (i = 0; i < VX_DEV_NIRQS; i++) {
		irq_close(s, i, 0, s->dev->irq_count[i]);
		free(s->irq[i]);
		s->irq[i] = NULL;
	}
	vx_framer_release(&s->fr);
	close(s->cfd);
	s->cfd = -1;
	if (s->tfd >= 0) {
		vx_framer_release(&s->tfr);
		close(s->tfd);
		s->tfd = -1;
	}
	say(s, "client disconnected");
}

/* --- handlers: each returns 0 with a reply built in s->b, or an errno -- */

static void
reply_header(struct server *s, const struct vx_msg *m)
{
	vx_build_header(&s->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
}

static uint64_t
get(const struct vx_msg *m, unsigned field)
{
	uint64_t v = 0;

	vx_msg_get(m, field, &v);
	return v;
}

/* Twin-socket mode: a socket pair, our end for DMA_READ/DMA_WRITE. */
static int
twin_setup(struct server *s)
{
	struct vx_limits lim = { s->max_xfer + 4096u, MAX_MSG_FDS };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (vx_framer_init(&s->tfr, sv[0], &lim) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	vx_framer_set_peer_limits(&s->tfr, vx_framer_peer_max_fds(&s->tfr),
	    s->client_xfer + 4096u);
	s->tfd = sv[0];
	s->twin_give = sv[1];
	return 0;
}

static int
h_version(struct server *s, const struct vx_msg *m, int *fd)
{
	const struct vx_caps *c = m->caps;
	struct vx_session *sess;
	struct vx_session_result res;
	uint64_t major = get(m, VXF_VER_MAJOR), minor = get(m, VXF_VER_MINOR);
	json_t *caps, *root;
	char *text;

	if (s->negotiated)
		return EINVAL;
	if (major != VX_PROTO_MAJOR || c == NULL)
		return ENOTSUP;
	if (c->max_data_xfer_size < 512 || c->max_msg_fds == 0)
		return EINVAL;
	s->client_xfer = c->max_data_xfer_size > VX_QEMU_MAX_XFER ?
	    VX_QEMU_MAX_XFER : (uint32_t)c->max_data_xfer_size;
	vx_framer_set_peer_limits(&s->fr, c->max_msg_fds > VX_MAX_FDS ?
	    VX_MAX_FDS : (int)c->max_msg_fds, s->client_xfer + 4096u);
	s->write_multi = c->write_multiple;
	/* which DMA_READ/DMA_WRITE wire form this client reads */
	if ((sess = vx_session_new(VX_PEER_AUTO)) != NULL) {
		if (vx_session_feed(sess, m, 0, 0, &res) == 0)
			s->qemu_forms = vx_session_peer(sess, VX_C2S) ==
			    VX_PEER_QEMU;
		vx_session_free(sess);
	}

	caps = json_pack("{s:i,s:I,s:i,s:I,s:{s:i}}",
	    "max_msg_fds", MAX_MSG_FDS,
	    "max_data_xfer_size", (json_int_t)s->max_xfer,
	    "max_dma_maps", MAX_DMA_MAPS,
	    "pgsizes", (json_int_t)PGSIZE,
	    "migration", "pgsize", (int)PGSIZE);
	if (caps == NULL)
		return ENOMEM;
	if (s->write_multi)
		json_object_set_new(caps, "write_multiple", json_true());
	/* only when asked for; without a socket pair, simply not offered */
	if (c->twin_supported && s->tfd < 0 && twin_setup(s) == 0) {
		json_object_set_new(caps, "twin_socket", json_pack("{s:b,s:i}",
		    "supported", 1, "fd_index", 0));
		*fd = s->twin_give;
	}
	root = json_pack("{s:o}", "capabilities", caps);
	text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return ENOMEM;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_VER_MAJOR, VX_PROTO_MAJOR);
	vx_build_uint(&s->b, VXF_VER_MINOR,
	    minor < VX_PROTO_MINOR ? minor : VX_PROTO_MINOR);
	vx_build_bytes(&s->b, VXF_VER_JSON, text, strlen(text) + 1);
	free(text);
	s->negotiated = 1;
	return 0;
}

static int
h_device_info(struct server *s, const struct vx_msg *m)
{
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_DEV_FLAGS, VX_DEV_RESET | VX_DEV_PCI);
	vx_build_uint(&s->b, VXF_DEV_NUM_REGIONS, VX_DEV_NREGIONS);
	vx_build_uint(&s->b, VXF_DEV_NUM_IRQS, VX_DEV_NIRQS);
	return 0;
}

static int
h_region_info(struct server *s, const struct vx_msg *m, int *fd)
{
	uint64_t argsz = get(m, VXF_ARGSZ), index = get(m, VXF_REGION_INDEX);
	const struct vx_region *r;
	uint32_t capsz = 0, flags;
	unsigned i;

	if (index >= VX_DEV_NREGIONS)
		return EINVAL;
	r = &s->dev->region[index];
	flags = r->backing == VX_BACK_NONE ? 0 : r->flags;
	if (r->nsparse) {
		capsz = 16 + 16 * r->nsparse;
		flags |= VX_REGION_CAPS;
	}
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 32 + capsz);
	vx_build_uint(&s->b, VXF_RINFO_FLAGS, flags);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	/* cap_offset 32 even when the chain does not fit: QEMU rejects CAPS
	 * with a cap_offset below 32 (the kernel's VFIO would send 0) */
	vx_build_uint(&s->b, VXF_RINFO_CAP_OFFSET, capsz ? 32 : 0);
	vx_build_uint(&s->b, VXF_RINFO_SIZE, r->size);
	vx_build_uint(&s->b, VXF_RINFO_OFFSET, 0);	/* own fd per region */
	if (argsz < 32 + capsz)
		return 0;	/* too small: the needed argsz, fixed part only */
	if (capsz) {
		vx_build_uint(&s->b, VXF_CAP_ID, VX_REGION_CAP_SPARSE_MMAP);
		vx_build_uint(&s->b, VXF_CAP_VERSION, 1);
		vx_build_uint(&s->b, VXF_CAP_NEXT, 0);
		vx_build_uint(&s->b, VXF_CAP_NR_AREAS, r->nsparse);
		vx_build_uint(&s->b, VXF_CAP_RESERVED, 0);
		for (i = 0; i < r->nsparse; i++) {
			vx_build_uint(&s->b, VXF_AREA_OFFSET, r->sparse[i].off);
			vx_build_uint(&s->b, VXF_AREA_SIZE, r->sparse[i].size);
		}
	}
	if (flags & VX_REGION_MMAP)
		*fd = r->fd;
	return 0;
}

static int
h_io_fds(struct server *s, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_REGION_INDEX);

	if (index >= VX_DEV_NREGIONS ||
	    s->dev->region[index].backing == VX_BACK_NONE)
		return EINVAL;
	/* no ioeventfds: every access comes as a message */
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_IOFDS_FLAGS, 0);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	vx_build_uint(&s->b, VXF_IOFDS_COUNT, 0);
	return 0;
}

static int
h_irq_info(struct server *s, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_IRQ_INDEX);
	uint32_t flags = VX_IRQ_INFO_EVENTFD;

	if (index >= VX_DEV_NIRQS)
		return EINVAL;
	/* as vfio-pci reports them */
	if (index == VX_IRQ_INTX)
		flags |= VX_IRQ_INFO_MASKABLE | VX_IRQ_INFO_AUTOMASKED;
	else
		flags |= VX_IRQ_INFO_NORESIZE;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_IRQ_INFO_FLAGS, flags);
	vx_build_uint(&s->b, VXF_IRQ_INDEX, index);
	vx_build_uint(&s->b, VXF_IRQ_COUNT, s->dev->irq_count[index]);
	return 0;
}

static int
h_set_irqs(struct server *s, const struct vx_msg *m, struct vx_frame *f)
{
	uint64_t flags = get(m, VXF_IRQ_SET_FLAGS), index = get(m, VXF_IRQ_INDEX);
	uint64_t start = get(m, VXF_IRQ_START), count = get(m, VXF_IRQ_COUNT);
	uint32_t data = (uint32_t)flags & VX_IRQ_DATA_BITS;
	uint32_t action = (uint32_t)flags & VX_IRQ_ACTION_BITS;
	const struct vx_item *bools = vx_msg_item(m, VXF_IRQ_DATA);
	struct vx_fd_info info;
	unsigned i;
	int k;

	if (index >= VX_DEV_NIRQS)
		return EINVAL;
	if (data != VX_IRQ_DATA_EVENTFD && f->nfds != 0)
		return EINVAL;
	if (count == 0) {
		/* data_none + trigger with count 0 disables the index */
		if (data != VX_IRQ_DATA_NONE || action != VX_IRQ_ACTION_TRIGGER)
			return EINVAL;
		irq_close(s, (unsigned)index, 0, s->dev->irq_count[index]);
		goto done;
	}
	if (start + count > s->dev->irq_count[index])
		return EINVAL;
	if (data == VX_IRQ_DATA_EVENTFD) {
		if (action != VX_IRQ_ACTION_TRIGGER)
			return ENOTSUP;
		if (f->nfds != 0 && (uint64_t)f->nfds != count)
			return EINVAL;
		for (k = 0; k < f->nfds; k++)
			if (vx_fd_describe(f->fds[k], &info) < 0 ||
			    info.kind != VX_FD_EVENTFD)
				return EINVAL;
		/* no fds de-assigns the range */
		irq_close(s, (unsigned)index, (unsigned)start, (unsigned)count);
		for (k = 0; k < f->nfds; k++) {
			s->irq[index][start + (unsigned)k].fd = f->fds[k];
			f->fds[k] = -1;	/* ours now */
		}
		goto done;
	}
	for (i = 0; i < count; i++) {
		struct irqvec *v = &s->irq[index][start + i];

		if (data == VX_IRQ_DATA_BOOL && bools->ptr[i] == 0)
			continue;
		switch (action) {
		case VX_IRQ_ACTION_TRIGGER:
			fire(v);
			break;
		case VX_IRQ_ACTION_MASK:
			v->masked = 1;
			break;
		default:
			v->masked = 0;
			if (v->pending) {
				v->pending = 0;
				fire(v);
			}
		}
	}
done:
	reply_header(s, m);
	return 0;
}

/* Check an access: region present, in bounds, allowed, not too big. */
static int
check_access(struct server *s, uint64_t index, uint64_t off, uint64_t count,
    int write)
{
	const struct vx_region *r;

	if (index >= VX_DEV_NREGIONS || count > s->max_xfer)
		return EINVAL;
	r = &s->dev->region[index];
	if (r->backing == VX_BACK_NONE || off > r->size || count > r->size - off)
		return EINVAL;
	if (!(r->flags & (write ? VX_REGION_WRITE : VX_REGION_READ)))
		return EINVAL;
	return 0;
}

static int
h_region_rw(struct server *s, const struct vx_msg *m)
{
	int write = m->cmd == VX_CMD_REGION_WRITE;
	/* the access view: the request decoder builds no items for it */
	uint64_t off = m->rw.offset, index = m->rw.index, count = m->rw.count;
	uint16_t id = m->id, cmd = m->cmd;
	int r;

	if ((r = check_access(s, index, off, count, write)) != 0)
		return r;
	if (write) {
		/* copy: the device may run DMA that reuses the decoder */
		if (count)
			memcpy(s->scratch, m->data, (size_t)count);
		r = vx_device_access(s->dev, (unsigned)index, off, s->scratch,
		    (size_t)count, 1);
	} else {
		r = vx_device_access(s->dev, (unsigned)index, off, s->scratch,
		    (size_t)count, 0);
	}
	if (r != 0)
		return r;
	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&s->b, VXF_REGION_OFFSET, off);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	vx_build_uint(&s->b, VXF_REGION_COUNT, count);
	if (!write)
		vx_build_bytes(&s->b, VXF_REGION_DATA, s->scratch, (size_t)count);
	return 0;
}

static int
h_write_multi(struct server *s, const struct vx_msg *m)
{
	const uint8_t *p = m->buf + VX_HDR_SIZE;
	uint64_t n = vx_load(p, 8, 0), i, off, index, count;
	uint16_t id = m->id, cmd = m->cmd;
	uint8_t data[VX_WRITE_MULTI_DATA];
	int r;

	if (!s->write_multi)
		return ENOTSUP;
	for (i = 0; i < n; i++) {
		const uint8_t *e = p + 8 + i * VX_WRITE_MULTI_ENTRY;

		off = vx_load(e, 8, 0);
		index = vx_load(e + 8, 4, 0);
		count = vx_load(e + 12, 4, 0);
		if ((r = check_access(s, index, off, count, 1)) != 0)
			return r;
		memcpy(data, e + 16, (size_t)count);
		if ((r = vx_device_access(s->dev, (unsigned)index, off, data,
		    (size_t)count, 1)) != 0)
			return r;
	}
	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&s->b, VXF_WM_COUNT, n);
	return 0;
}

/*
 * A window must lie inside the file behind it: its pages past the file's
 * end would raise SIGBUS on the first DMA.  Only regular files (memfd,
 * tmpfs, hugetlbfs) have a size to check.
 */
static int
window_fits(int fd, uint64_t addr, uint64_t off, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return EINVAL;
	if (!S_ISREG(st.st_mode))
		return 0;
	if (off <= (uint64_t)st.st_size && size <= (uint64_t)st.st_size - off)
		return 0;
	notice("DMA_MAP refused (EFAULT): window 0x%" PRIx64 "+0x%" PRIx64
	    " at file offset 0x%" PRIx64 " does not fit the %jd-byte file "
	    "behind it", addr, size, off, (intmax_t)st.st_size);
	return EFAULT;
}

static int
h_dma_map(struct server *s, const struct vx_msg *m, struct vx_frame *f)
{
	uint64_t flags = get(m, VXF_DMA_MAP_FLAGS), off = get(m, VXF_DMA_MAP_OFFSET);
	uint64_t addr = get(m, VXF_DMA_ADDR), size = get(m, VXF_DMA_SIZE);
	struct window w, *nw;
	uint64_t skew;
	int prot = 0, r;
	unsigned i;

	if (f->nfds > 1 || size == 0 || addr + size < addr ||
	    (flags & ~(uint64_t)(VX_DMA_MAP_READ | VX_DMA_MAP_WRITE)))
		return EINVAL;
	for (i = 0; i < s->nwin; i++)
		if (addr < s->win[i].addr + s->win[i].size &&
		    s->win[i].addr < addr + size)
			return EEXIST;
	if (s->nwin == MAX_DMA_MAPS)
		return ENOSPC;
	memset(&w, 0, sizeof(w));
	w.addr = addr;
	w.size = size;
	w.flags = (uint32_t)flags;
	if (f->nfds == 1) {
		if ((r = window_fits(f->fds[0], addr, off, size)) != 0)
			return r;
		if (flags & VX_DMA_MAP_READ)
			prot |= PROT_READ;
		if (flags & VX_DMA_MAP_WRITE)
			prot |= PROT_WRITE;
		skew = off % PGSIZE;
		if (size > SIZE_MAX - skew)
			return EINVAL;
		w.maplen = (size_t)(size + skew);
		w.base = mmap(NULL, w.maplen, prot ? prot : PROT_NONE,
		    MAP_SHARED, f->fds[0], (off_t)(off - skew));
		if (w.base == MAP_FAILED)
			return errno == ENOMEM ? ENOMEM : EINVAL;
		w.map = w.base + skew;
		/* the mapping keeps the memory; the frame closes the fd */
	}
	if ((nw = realloc(s->win, (s->nwin + 1) * sizeof(*nw))) == NULL) {
		window_drop(&w);
		return ENOMEM;
	}
	s->win = nw;
	s->win[s->nwin++] = w;
	reply_header(s, m);
	return 0;
}

static int
h_dma_unmap(struct server *s, const struct vx_msg *m)
{
	uint64_t flags = get(m, VXF_DMA_UNMAP_FLAGS), addr = get(m, VXF_DMA_ADDR);
	uint64_t size = get(m, VXF_DMA_SIZE);
	unsigned i, kept = 0, gone = 0;

	if (flags & VX_DMA_UNMAP_GET_DIRTY_BITMAP)
		return ENOTSUP;
	if (!(flags & VX_DMA_UNMAP_ALL)) {
		/* the spec: address and size match a mapping exactly */
		for (i = 0; i < s->nwin; i++)
			if (s->win[i].addr == addr && s->win[i].size == size)
				break;
		if (i == s->nwin)
			return ENOENT;
		gone = i;
	}
	for (i = 0; i < s->nwin; i++) {
		if ((flags & VX_DMA_UNMAP_ALL) || i == gone)
			window_drop(&s->win[i]);
		else
			s->win[kept++] = s->win[i];
	}
	s->nwin = kept;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 24);
	vx_build_uint(&s->b, VXF_DMA_UNMAP_FLAGS, flags);
	vx_build_uint(&s->b, VXF_DMA_ADDR, addr);
	vx_build_uint(&s->b, VXF_DMA_SIZE, size);
	return 0;
}

/* --- migration ------------------------------------------------------- */

/*
 * Next state on the way from cur to target, by the spec's direct arcs
 * (without P2P): the shortest path with no saving state (PRE_COPY,
 * STOP_COPY) inside it.  0 (VX_MIG_ERROR) means no way: STOP_COPY to
 * PRE_COPY is refused, as the spec asks.
 */
static int
mig_next_hop(int cur, int target)
{
	switch (cur) {
	case VX_MIG_RUNNING:
		return target == VX_MIG_PRE_COPY ? VX_MIG_PRE_COPY : VX_MIG_STOP;
	case VX_MIG_STOP:
		return target == VX_MIG_PRE_COPY ? VX_MIG_RUNNING : target;
	case VX_MIG_STOP_COPY:
		return target == VX_MIG_PRE_COPY ? VX_MIG_ERROR : VX_MIG_STOP;
	case VX_MIG_RESUMING:
		return VX_MIG_STOP;
	case VX_MIG_PRE_COPY:
		return target == VX_MIG_STOP_COPY ? VX_MIG_STOP_COPY :
		    VX_MIG_RUNNING;
	default:
		return VX_MIG_ERROR;
	}
}

static void
mig_drop(struct mig *g)
{
	free(g->buf);
	g->buf = NULL;
	g->len = g->pos = g->cap = 0;
}

/* Take one arc; returns 0 or an errno (the state is then ERROR). */
static int
mig_arc(struct server *s, int to)
{
	struct mig *g = &s->mig;
	int from = g->state, r;

	switch (to) {
	case VX_MIG_STOP_COPY:
		/* the whole state, taken now that the device is stopped */
		mig_drop(g);
		if ((g->buf = vx_device_save(s->dev, &g->len)) == NULL)
			goto fail_nomem;
		g->cap = g->len;
		break;
	case VX_MIG_PRE_COPY:
		/* nothing to send before stop-copy: an empty stream */
		mig_drop(g);
		break;
	case VX_MIG_RESUMING:
		mig_drop(g);
		/* learn how much a whole state is, to bound the input */
		if ((g->buf = vx_device_save(s->dev, &g->cap)) == NULL)
			goto fail_nomem;
		break;
	case VX_MIG_STOP:
		if (from == VX_MIG_RESUMING) {
			r = vx_device_restore(s->dev, g->buf, g->len);
			mig_drop(g);
			if (r != 0) {
				say(s, "migration data does not fit this device");
				g->state = VX_MIG_ERROR;
				return r;
			}
		} else {
			mig_drop(g);
		}
		break;
	default:	/* RUNNING */
		mig_drop(g);
		break;
	}
	say(s, "migration state %s -> %s",
	    vx_tok_name(vx_names_mig_state, (uint64_t)from),
	    vx_tok_name(vx_names_mig_state, (uint64_t)to));
	g->state = to;
	if (to == VX_MIG_RUNNING)
		release_held(s);
	return 0;
fail_nomem:
	g->state = VX_MIG_ERROR;
	return ENOMEM;
}

static int
mig_set(struct server *s, uint64_t target)
{
	int next, r;

	if (target == VX_MIG_ERROR || target == VX_MIG_RUNNING_P2P ||
	    target == VX_MIG_PRE_COPY_P2P || target >= VX_MIG_NUM_STATES)
		return EINVAL;
	if (s->mig.state == VX_MIG_ERROR)
		return EINVAL;	/* only DEVICE_RESET leaves ERROR */
	while (s->mig.state != (int)target) {
		if ((next = mig_next_hop(s->mig.state, (int)target)) == VX_MIG_ERROR)
			return EINVAL;
		if ((r = mig_arc(s, next)) != 0)
			return r;
	}
	return 0;
}

/* --- dirty page logging --------------------------------------------- */

static int
log_start(struct server *s, const struct vx_msg *m)
{
	struct dirty *g = &s->log;
	uint64_t ps = get(m, VXF_LOG_PAGE_SIZE), nr = get(m, VXF_LOG_NUM_RANGES);
	uint32_t i;
	unsigned k = 0;

	if (g->on)
		return EBUSY;
	if (ps == 0 || (ps & (ps - 1)) != 0)
		return EINVAL;
	if (nr > LOG_MAX_RANGES)
		return E2BIG;
	memset(g, 0, sizeof(*g));
	for (i = 0; i < m->nitems && k < nr; i++) {
		if (m->items[i].field == VXF_LOG_IOVA)
			g->iova[k] = m->items[i].val;
		if (m->items[i].field == VXF_LOG_LENGTH)
			g->len[k++] = m->items[i].val;
	}
	g->nranges = k;
	g->page_size = ps;
	g->on = 1;
	/* the reply is the request: we keep the page size asked for */
	reply_header(s, m);
	vx_build_bytes(&s->b, VXF_PAYLOAD, m->buf + VX_HDR_SIZE,
	    m->len - VX_HDR_SIZE);
	return 0;
}

static int
log_report(struct server *s, const struct vx_msg *m)
{
	struct dirty *g = &s->log;
	uint64_t argsz = get(m, VXF_ARGSZ), flags = get(m, VXF_FEAT_FLAGS);
	uint64_t iova = get(m, VXF_LOG_IOVA), length = get(m, VXF_LOG_LENGTH);
	uint64_t ps = get(m, VXF_LOG_PAGE_SIZE), pages, words, lo, hi, b;
	uint64_t *bm;
	size_t i, kept = 0;

	if (!g->on)
		return EINVAL;
	if (length == 0 || iova + length < iova)
		return EINVAL;
	pages = length / ps + (length % ps != 0);
	words = pages / 64 + (pages % 64 != 0);
	if (words * 8 > s->client_xfer || words * 8 > s->max_xfer)
		return E2BIG;
	if (argsz < 32 + words * 8)
		return EINVAL;	/* no room for the bitmap */
	if ((bm = calloc((size_t)words, 8)) == NULL)
		return ENOMEM;
	if (g->overflow)
		memset(bm, 0xff, (size_t)words * 8);
	for (i = 0; i < g->npages; i++) {
		lo = g->pages[i] * PGSIZE;
		hi = lo + PGSIZE;
		if (hi <= iova || lo >= iova + length) {
			g->pages[kept++] = g->pages[i];	/* not asked: keep */
			continue;
		}
		if (lo < iova)
			lo = iova;
		if (hi > iova + length)
			hi = iova + length;
		for (b = (lo - iova) / ps; b <= (hi - 1 - iova) / ps; b++)
			bm[b / 64] |= 1ull << (b % 64);
	}
	g->npages = kept;	/* reported pages are clean again */
	if (g->overflow && kept == 0)
		g->overflow = 0;
	for (i = 0; i < words; i++)
		bm[i] = htole64(bm[i]);
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 32 + words * 8);
	vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
	vx_build_uint(&s->b, VXF_LOG_IOVA, iova);
	vx_build_uint(&s->b, VXF_LOG_LENGTH, length);
	vx_build_uint(&s->b, VXF_LOG_PAGE_SIZE, ps);
	vx_build_bytes(&s->b, VXF_LOG_BITMAP, bm, (size_t)words * 8);
	free(bm);
	return 0;
}

/* DMA_LOGGING_START, _STOP (set) and _REPORT (get); probe says yes. */
static int
h_logging(struct server *s, const struct vx_msg *m, unsigned feature)
{
	uint64_t flags = get(m, VXF_FEAT_FLAGS);
	int setf = (flags & VX_FEATURE_SET) != 0, getf = (flags & VX_FEATURE_GET) != 0;

	if (flags & VX_FEATURE_PROBE) {
		if ((feature == VX_FEAT_DMA_LOGGING_REPORT && setf) ||
		    (feature != VX_FEAT_DMA_LOGGING_REPORT && getf))
			return EINVAL;
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 8);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		return 0;
	}
	switch (feature) {
	case VX_FEAT_DMA_LOGGING_START:
		return setf ? log_start(s, m) : EINVAL;
	case VX_FEAT_DMA_LOGGING_STOP:
		if (!setf)
			return EINVAL;
		log_stop(&s->log);
		reply_header(s, m);
		vx_build_bytes(&s->b, VXF_PAYLOAD, m->buf + VX_HDR_SIZE,
		    m->len - VX_HDR_SIZE);
		return 0;
	default:
		return getf ? log_report(s, m) : EINVAL;
	}
}

static int
h_feature(struct server *s, const struct vx_msg *m)
{
	uint64_t flags = get(m, VXF_FEAT_FLAGS), argsz = get(m, VXF_ARGSZ);
	unsigned feature = (unsigned)(flags & VX_FEATURE_MASK);
	int getf = (flags & VX_FEATURE_GET) != 0, setf = (flags & VX_FEATURE_SET) != 0;
	uint64_t target;
	int r;

	if (feature == VX_FEAT_DMA_LOGGING_START ||
	    feature == VX_FEAT_DMA_LOGGING_STOP ||
	    feature == VX_FEAT_DMA_LOGGING_REPORT)
		return h_logging(s, m, feature);
	if (feature != VX_FEAT_MIGRATION && feature != VX_FEAT_MIG_DEVICE_STATE)
		return ENOTSUP;
	if (feature == VX_FEAT_MIGRATION && setf)
		return EINVAL;	/* read-only */
	if (flags & VX_FEATURE_PROBE) {
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 8);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		return 0;
	}
	if (argsz < 16)
		return EINVAL;	/* room for the reply's data */
	if (feature == VX_FEAT_MIGRATION) {
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 16);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		vx_build_uint(&s->b, VXF_MIG_FLAGS,
		    VX_MIGRATION_STOP_COPY | VX_MIGRATION_PRE_COPY);
		return 0;
	}
	if (setf) {
		if (vx_msg_get(m, VXF_MIG_STATE, &target) < 0)
			return EINVAL;
		if ((r = mig_set(s, target)) != 0)
			return r;
	} else if (!getf) {
		return EINVAL;
	}
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
	vx_build_uint(&s->b, VXF_MIG_STATE, (uint64_t)s->mig.state);
	vx_build_uint(&s->b, VXF_MIG_DATA_FD, 0xffffffffu);	/* unused */
	return 0;
}

static int
h_mig_read(struct server *s, const struct vx_msg *m)
{
	uint64_t argsz = get(m, VXF_ARGSZ), size = get(m, VXF_MIGD_SIZE);
	struct mig *g = &s->mig;
	size_t n;

	if (g->state != VX_MIG_PRE_COPY && g->state != VX_MIG_STOP_COPY)
		return EINVAL;
	if (argsz < 8)
		return EINVAL;
	n = g->len - g->pos;
	if (n > size)
		n = (size_t)size;
	if (n > argsz - 8)
		n = (size_t)(argsz - 8);
	if (n > s->client_xfer)
		n = s->client_xfer;
	if (n > s->max_xfer)
		n = s->max_xfer;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 8 + n);
	vx_build_uint(&s->b, VXF_MIGD_SIZE, n);
	vx_build_bytes(&s->b, VXF_MIGD_DATA, n ? g->buf + g->pos : NULL, n);
	g->pos += n;
	return 0;
}

static int
h_mig_write(struct server *s, const struct vx_msg *m)
{
	uint64_t size = get(m, VXF_MIGD_SIZE);
	const struct vx_item *data = vx_msg_item(m, VXF_MIGD_DATA);
	struct mig *g = &s->mig;

	if (g->state != VX_MIG_RESUMING)
		return EINVAL;
	if (size > g->cap - g->len)
		return EINVAL;	/* more than a whole device state */
	if (size)
		memcpy(g->buf + g->len, data->ptr, (size_t)size);
	g->len += (size_t)size;
	reply_header(s, m);
	return 0;
}

static int
h_reset(struct server *s, const struct vx_msg *m)
{
	unsigned i, j;

	vx_device_reset(s->dev);
	mig_drop(&s->mig);
	s->mig.state = VX_MIG_RUNNING;
	for (i = 0; i < VX_DEV_NIRQS; i++)
		for (j = 0; j < s->dev->irq_count[i]; j++)
			s->irq[i][j].masked = s->irq[i][j].pending = 0;
	reply_header(s, m);
	return 0;
}

/* Run one decoded command; 0 with a reply in s->b, or an errno. */
static int
dispatch(struct server *s, const struct vx_msg *m, struct vx_frame *f,
    int *fd)
{
	if (m->status == VX_MSG_UNKNOWN)
		return ENOSYS;
	if (m->status != VX_MSG_OK)
		return EINVAL;
	if (!s->negotiated && m->cmd != VX_CMD_VERSION)
		return EINVAL;	/* nothing before VERSION */
	switch (m->cmd) {
	case VX_CMD_VERSION:
		return h_version(s, m, fd);
	case VX_CMD_DMA_MAP:
		return h_dma_map(s, m, f);
	case VX_CMD_DMA_UNMAP:
		return h_dma_unmap(s, m);
	case VX_CMD_DEVICE_GET_INFO:
		return h_device_info(s, m);
	case VX_CMD_DEVICE_GET_REGION_INFO:
		return h_region_info(s, m, fd);
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		return h_io_fds(s, m);
	case VX_CMD_DEVICE_GET_IRQ_INFO:
		return h_irq_info(s, m);
	case VX_CMD_DEVICE_SET_IRQS:
		return h_set_irqs(s, m, f);
	case VX_CMD_REGION_READ:
	case VX_CMD_REGION_WRITE:
		return h_region_rw(s, m);
	case VX_CMD_REGION_WRITE_MULTI:
		return h_write_multi(s, m);
	case VX_CMD_DEVICE_RESET:
		return h_reset(s, m);
	case VX_CMD_DEVICE_FEATURE:
		return h_feature(s, m);
	case VX_CMD_MIG_DATA_READ:
		return h_mig_read(s, m);
	case VX_CMD_MIG_DATA_WRITE:
		return h_mig_write(s, m);
	default:
		/* DMA_READ/WRITE are ours to send; 14 is withdrawn */
		return ENOSYS;
	}
}

/* Handle one inbound frame (consumes it). */
static void
handle_frame(struct server *s, struct vx_frame *f)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	uint32_t hflags = (uint32_t)vx_load(f->data + VX_HDR_OFF_FLAGS, 4, 0);
	uint16_t id = (uint16_t)vx_load(f->data + VX_HDR_OFF_ID, 2, 0);
	uint16_t cmd = (uint16_t)vx_load(f->data + VX_HDR_OFF_CMD, 2, 0);
	struct vx_msg m;
	int err, fd = -1, r;

	if (f->bad == VX_ERR_TOO_LARGE) {
		/* the rest of the stream cannot be framed any more */
		say(s, "message 0x%04x of %u bytes is over our limit; "
		    "dropping the client", id,
		    (unsigned)vx_load(f->data + VX_HDR_OFF_SIZE, 4, 0));
		s->dead = 1;
		vx_frame_release(f);
		return;
	}
	if (f->bad) {
		say(s, "bad frame 0x%04x: %s", id, vx_strerror(f->bad));
		err = EINVAL;
	} else {
		ctx.nfds = f->nfds;
		if (vx_decode(&s->dec, f->data, f->len, &ctx, &m) < 0) {
			err = ENOMEM;
		} else {
			log_msg(s, &m, VX_C2S);
			if (vx_msg_is_reply(&m)) {
				say(s, "dropping a reply to no command of ours");
				vx_frame_release(f);
				return;
			}
			err = dispatch(s, &m, f, &fd);
		}
	}
	if (hflags & VX_F_NO_REPLY) {
		/* never a reply, not even an error */
		if (err != 0)
			say(s, "no_reply command 0x%04x failed: %s", id,
			    strerror(err));
		vx_frame_release(f);
		return;
	}
	if (err == 0) {
		r = send_built(s, &s->b, &fd, fd >= 0);
		if (r == VX_ERR_TOO_LARGE || r == VX_ERR_FDS)
			err = r == VX_ERR_FDS ? EINVAL : E2BIG;
		else if (r < 0)
			s->dead = 1;
	}
	if (err != 0) {
		vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
		    (uint32_t)err);
		if (send_built(s, &s->b, NULL, 0) < 0)
			s->dead = 1;
	}
	if (err == ENOTSUP && cmd == VX_CMD_VERSION && !s->negotiated)
		say(s, "client proposed an unsupported protocol version");
	if (s->twin_give >= 0) {
		close(s->twin_give);	/* the client has its end now */
		s->twin_give = -1;
	}
	vx_frame_release(f);
}

/* --- clients turned away: "busy" --------------------------------------- */

/*
 * A client that comes while another is attached cannot be served: the
 * device is one.  It is kept until its first message (VERSION) arrives,
 * which is answered with an EBUSY error reply carrying that message's id,
 * and closed; so the client learns why instead of waiting for a reply
 * that never comes.  The wait is bounded by the handshake deadline.
 */
static void
busy_drop(struct server *s, unsigned i)
{
	close(s->busy[i].fd);
	s->busy[i] = s->busy[--s->nbusy];
}

static void
busy_add(struct server *s, int fd, const struct peer *p)
{
	struct busy *b;

	if (s->nbusy == MAX_BUSY) {
		notice("busy: closed the connection of pid %ld uid %lu at "
		    "once (%d others are waiting for their answer)",
		    (long)p->pid, (unsigned long)p->uid, MAX_BUSY);
		close(fd);
		return;
	}
	b = &s->busy[s->nbusy++];
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->who = *p;
	b->deadline = deadline_in(s->handshake_ms);
}

/* Read what the busy client i sent; answer once its header is whole. */
static void
busy_read(struct server *s, unsigned i)
{
	struct busy *b = &s->busy[i];
	struct vx_msg m;
	uint16_t id, cmd;
	ssize_t n;

	n = recv(b->fd, b->hdr + b->got, sizeof(b->hdr) - b->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		busy_drop(s, i);	/* gone without asking */
		return;
	}
	b->got += (size_t)n;
	if (b->got < sizeof(b->hdr))
		return;
	id = (uint16_t)vx_load(b->hdr + VX_HDR_OFF_ID, 2, 0);
	cmd = (uint16_t)vx_load(b->hdr + VX_HDR_OFF_CMD, 2, 0);
	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY | VX_F_ERROR, EBUSY);
	/* a fresh socket's buffer takes 16 bytes; if not, it learns by EOF */
	if (vx_build_finish(&s->b, &m) < 0 ||
	    send(b->fd, m.buf, m.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		say(s, "busy: could not answer pid %ld: %s", (long)b->who.pid,
		    strerror(errno));
	notice("busy: answered pid %ld uid %lu with EBUSY: another client "
	    "is attached", (long)b->who.pid, (unsigned long)b->who.uid);
	busy_drop(s, i);
}

static void
busy_events(struct server *s, const struct pollfd *pfd, unsigned n)
{
	unsigned i = n;

	/* backwards: busy_drop moves the last entry into the hole */
	while (i-- > 0)
		if (pfd[i].revents && pfd[i].fd == s->busy[i].fd)
			busy_read(s, i);
}

static void
busy_expire(struct server *s, int64_t now)
{
	unsigned i = s->nbusy;

	while (i-- > 0)
		if (s->busy[i].deadline && now >= s->busy[i].deadline) {
			notice("busy: pid %ld uid %lu sent no message "
			    "within %d ms; closed", (long)s->busy[i].who.pid,
			    (unsigned long)s->busy[i].who.uid, s->handshake_ms);
			busy_drop(s, i);
		}
}

/* --- the attached client ------------------------------------------------ */

/* Read and run what the client sent, write what it has not taken. */
static void
client_events(struct server *s, short revents)
{
	struct vx_frame f;
	int r;

	/* on a hang-up too: the failing flush is what tells us it is gone */
	if ((revents & (POLLOUT | POLLHUP | POLLERR)) &&
	    vx_framer_pending(&s->fr)) {
		r = vx_framer_flush(&s->fr);
		if (r < 0 && r != VX_ERR_AGAIN)
			s->dead = 1;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	/*
	 * Take what is there, message by message, but nothing more while a
	 * reply waits to be taken: a client that sends and never reads must
	 * not make us queue replies without end.
	 */
	while (!s->dead && !s->term && s->nback == 0 &&
	    !vx_framer_pending(&s->fr)) {
		r = vx_framer_recv(&s->fr);
		if (r == VX_ERR_AGAIN || r == 0)
			break;
		if (r < 0 && r != VX_ERR_FDS) {
			/* a reset is a client gone while we answered */
			if (r != VX_ERR_CLOSED &&
			    !(r == VX_ERR_IO && errno == ECONNRESET))
				say(s, "connection: %s", vx_strerror(r));
			s->dead = 1;
			break;
		}
		while (!s->dead && vx_framer_next(&s->fr, &f) == 1)
			handle_frame(s, &f);
	}
}

/*
 * Deadlines of the attached client: VERSION within the handshake
 * deadline of connecting; each message, once its first byte is in, whole
 * within the message deadline; each reply taken within it too.  A client
 * that misses one is dropped, so that it cannot hold the device.
 */
static void
client_deadlines(struct server *s, int64_t now)
{
	if (s->negotiated)
		s->hs_deadline = 0;
	/* the message clock stops while we do not read (a reply waits) */
	if (!vx_framer_partial(&s->fr) || vx_framer_pending(&s->fr))
		s->in_deadline = 0;
	else if (s->in_deadline == 0)
		s->in_deadline = deadline_in(s->message_ms);
	if (!vx_framer_pending(&s->fr))
		s->out_deadline = 0;
	else if (s->out_deadline == 0)
		s->out_deadline = deadline_in(s->message_ms);
	if (s->dead)
		return;
	if (s->hs_deadline && now >= s->hs_deadline)
		notice("pid %ld uid %lu sent no VERSION within %d ms; "
		    "dropped", (long)s->who.pid, (unsigned long)s->who.uid,
		    s->handshake_ms);
	else if (s->in_deadline && now >= s->in_deadline)
		notice("pid %ld uid %lu left a message unfinished for %d "
		    "ms; dropped", (long)s->who.pid, (unsigned long)s->who.uid,
		    s->message_ms);
	else if (s->out_deadline && now >= s->out_deadline)
		notice("pid %ld uid %lu took no reply for %d ms; dropped",
		    (long)s->who.pid, (unsigned long)s->who.uid, s->message_ms);
	else
		return;
	s->dead = 1;
}

/* Milliseconds to the nearest deadline, for poll: -1 none. */
static int
poll_timeout(const struct server *s, int64_t now)
{
	int64_t dl = 0, d[3] = { s->hs_deadline, s->in_deadline, s->out_deadline };
	unsigned i;

	for (i = 0; s->cfd >= 0 && i < 3; i++)
		if (d[i] && (dl == 0 || d[i] < dl))
			dl = d[i];
	for (i = 0; i < s->nbusy; i++)
		if (s->busy[i].deadline && (dl == 0 || s->busy[i].deadline < dl))
			dl = s->busy[i].deadline;
	if (dl == 0)
		return -1;
	return dl <= now ? 0 : dl - now > INT_MAX ? INT_MAX : (int)(dl - now);
}

/* --- the loop ---------------------------------------------------------- */

static int
read_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		say(s, "signal %u, exiting", si.ssi_signo);
		s->term = 1;
	}
	return s->term;
}

/* Check a connection's SO_PEERCRED against --allow-uid; say who is refused. */
static int
peer_allowed(const struct server *s, int fd, struct peer *p)
{
	if (vx_sock_peer_allowed(fd, &s->allow, &p->pid, &p->uid))
		return 1;
	notice("refused pid %ld uid %lu: only root, uid %lu and the uids "
	    "of --allow-uid may connect", (long)p->pid, (unsigned long)p->uid,
	    (unsigned long)geteuid());
	return 0;
}

/* A newcomer: served if the device is free, else told it is busy. */
static int
accept_client(struct server *s)
{
	struct peer p = { 0, 0 };
	int fd;

	if ((fd = vx_sock_accept(s->lfd)) < 0) {
		if (fd == VX_ERR_AGAIN ||
		    (errno == ECONNABORTED || errno == EMFILE || errno == ENFILE))
			return 0;	/* gone already, or out of fds for now */
		return vx_error("accept: %s", strerror(errno));
	}
	if (!peer_allowed(s, fd, &p)) {
		close(fd);
		return 0;
	}
	if (s->cfd >= 0) {
		busy_add(s, fd, &p);
		return 0;
	}
	if (conn_start(s, fd) < 0) {
		close(fd);
		return vx_error("out of memory");
	}
	s->who = p;
	return 0;
}

/* Poll slots: the signalfd, the listener, the client, busy clients. */
enum { P_SIG, P_LISTEN, P_CLIENT, P_BUSY };

static int
wait_events(struct server *s, struct pollfd *pfd)
{
	unsigned i;

	pfd[P_SIG].fd = s->sigfd;
	pfd[P_LISTEN].fd = s->lfd;		/* -1: ignored by poll */
	pfd[P_CLIENT].fd = s->cfd;
	pfd[P_SIG].events = pfd[P_LISTEN].events = POLLIN;
	/* replies first: no new request while one waits (client_events) */
	pfd[P_CLIENT].events = s->cfd >= 0 && vx_framer_pending(&s->fr) ?
	    POLLOUT : POLLIN;
	for (i = 0; i < s->nbusy; i++) {
		pfd[P_BUSY + i].fd = s->busy[i].fd;
		pfd[P_BUSY + i].events = POLLIN;
	}
	for (i = 0; i < P_BUSY + s->nbusy; i++)
		pfd[i].revents = 0;
	return poll(pfd, P_BUSY + s->nbusy, poll_timeout(s, now_ms()));
}

static int
serve(struct server *s)
{
	struct pollfd pfd[P_BUSY + MAX_BUSY];
	struct vx_frame f;
	unsigned nbusy;
	int64_t now;

	while (!s->term) {
		if (s->cfd >= 0 && (s->dead || s->term)) {
			conn_end(s);
			if (s->once || s->lfd < 0)
				break;
			continue;
		}
		if (s->cfd >= 0 && s->nback > 0) {
			/* commands that came during our DMA, in order */
			f = s->backlog[0];
			memmove(s->backlog, s->backlog + 1,
			    (s->nback - 1) * sizeof(*s->backlog));
			s->nback--;
			handle_frame(s, &f);
			continue;
		}
		nbusy = s->nbusy;
		if (wait_events(s, pfd) < 0) {
			if (errno == EINTR)
				continue;
			return vx_error("poll: %s", strerror(errno));
		}
		if ((pfd[P_SIG].revents & POLLIN) && read_signal(s))
			break;
		if (s->cfd >= 0)
			client_events(s, pfd[P_CLIENT].revents);
		busy_events(s, pfd + P_BUSY, nbusy);
		now = now_ms();
		busy_expire(s, now);
		if (s->cfd >= 0)
			client_deadlines(s, now);
		if (s->cfd >= 0 && s->dead)
			continue;	/* free the device before the newcomers */
		if ((pfd[P_LISTEN].revents & POLLIN) && accept_client(s) < 0)
			return -1;
	}
	return 0;
}

/* --- options and setup ---------------------------------------------- */

static int
print_json(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	json_t *o;

	exe[n > 0 ? n : 0] = '\0';
	o = json_pack("{s:s,s:s,s:s,s:[s],s:{s:s,s:s,s:s}}",
	    "description", "vfuctl server: a vfio-user PCI device emulated "
	    "from a JSON description",
	    "type", "pci",
	    "binary", n > 0 ? exe : "vfuctl",
	    "arguments", "server",
	    "options", "socket-path", "--socket-path", "fd", "--fd",
	    "device", "--device");
	if (o == NULL)
		return vx_error("out of memory");
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
	return VX_EXIT_OK;
}

static int
setup_signals(struct server *s)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return vx_error("signalfd: %s", strerror(errno));
	return 0;
}

/* --fd N: a listening socket to accept on, or one connected client. */
static int
adopt_fd(struct server *s, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return vx_error("descriptor %d is not a socket", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return vx_error("descriptor %d: %s", fd, strerror(errno));
	if (listening) {
		s->lfd = fd;
		return 0;
	}
	s->lfd = -1;
	if (!peer_allowed(s, fd, &s->who))
		return -1;
	if (conn_start(s, fd) < 0)
		return vx_error("out of memory");
	return 0;
}

/* A deadline option: milliseconds, 0 for none. */
static int
parse_ms(const char *opt, const char *arg)
{
	uint64_t v;

	if (vx_parse_u64(arg, &v) < 0 || v > MAX_DEADLINE_MS)
		vx_invarg("server", opt, arg);
	return (int)v;
}

int
cmd_server(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket-path", required_argument, NULL, 's' },
		{ "fd", required_argument, NULL, 'f' },
		{ "device", required_argument, NULL, 'd' },
		{ "once", no_argument, NULL, '1' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-data-xfer-size", required_argument, NULL, 'x' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "message-timeout", required_argument, NULL, 'M' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "allow-any-uid", no_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "print-json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server s;
	const char *sock = NULL, *device = NULL;
	char err[512], *end;
	uint64_t v, fdnum = 0;
	unsigned long mode = 0600;
	int c, have_fd = 0, pjson = 0, mode_set = 0, rc;

	memset(&s, 0, sizeof(s));
	s.max_xfer = VX_DEF_MAX_XFER;
	s.handshake_ms = s.message_ms = DEF_DEADLINE_MS;
	s.cfd = s.lfd = s.sigfd = s.tfd = s.twin_give = -1;
	s.mig.state = VX_MIG_RUNNING;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (sock != NULL)
				vx_duparg("server", "--socket-path", optarg);
			sock = optarg;
			break;
		case 'f':
			if (have_fd)
				vx_duparg("server", "--fd", optarg);
			if (vx_parse_u64(optarg, &fdnum) < 0 || fdnum > INT_MAX)
				vx_invarg("server", "--fd", optarg);
			have_fd = 1;
			break;
		case 'd':
			if (device != NULL)
				vx_duparg("server", "--device", optarg);
			device = optarg;
			break;
		case '1':
			s.once = 1;
			break;
		case 'm':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (errno || *end != '\0' || optarg[0] == '\0' ||
			    mode > 0777)
				vx_invarg("server", "--mode", optarg);
			mode_set = 1;
			break;
		case 'x':
			if (vx_parse_u64(optarg, &v) < 0 || v < 4096 ||
			    v > VX_QEMU_MAX_XFER)
				vx_invarg("server", "--max-data-xfer-size", optarg);
			s.max_xfer = (uint32_t)v;
			break;
		case 'H':
			s.handshake_ms = parse_ms("--handshake-timeout", optarg);
			break;
		case 'M':
			s.message_ms = parse_ms("--message-timeout", optarg);
			break;
		case 'u':
			if ((rc = vx_peer_policy_add(&s.allow, optarg)) ==
			    VX_ERR_TOO_LARGE)
				vx_usage_error("server", "too many --allow-uid (at "
				    "most %d)", VX_ALLOW_MAX_UIDS);
			if (rc < 0)
				vx_invarg("server", "--allow-uid", optarg);
			break;
		case 'U':
			s.allow.any = 1;
			break;
		case 'v':
			s.verbose = 1;
			break;
		case 'j':
			pjson = 1;
			break;
		case 'h':
			fputs(cmd_server_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("server", "unknown option");
		}
	}
	if (optind < argc)
		vx_usage_error("server", "unexpected argument '%s'", argv[optind]);
	if (pjson)
		return print_json();
	if (sock != NULL && have_fd)
		vx_usage_error("server", "--socket-path and --fd exclude each other");
	if (sock == NULL && !have_fd)
		vx_missarg("server", "--socket-path or --fd");
	if (device == NULL)
		vx_missarg("server", "--device");
	if (mode_set && (sock == NULL || sock[0] == '@'))
		vx_usage_error("server", "--mode applies to a socket file only; "
		    "an abstract socket (@name) or --fd has none (who may "
		    "connect: --allow-uid)");

	if ((s.dev = vx_device_load(device, err, sizeof(err))) == NULL) {
		fprintf(stderr, "vfuctl server: %s\n", err);
		return VX_EXIT_USAGE;
	}
	s.dev->ops = &dev_ops;
	s.dev->ctx = &s;
	vx_decoder_init(&s.dec);
	s.dec.lazy = 1;		/* region accesses need no items */
	vx_decoder_init(&s.ddec);
	vx_builder_init(&s.b);
	vx_builder_init(&s.db);
	rc = VX_EXIT_FAIL;
	if ((s.scratch = malloc(s.max_xfer)) == NULL) {
		vx_error("out of memory");
		goto out;
	}
	if (setup_signals(&s) < 0)
		goto out;
	if (have_fd) {
		if (adopt_fd(&s, (int)fdnum) < 0)
			goto out;
	} else {
		s.lfd = vx_sock_listen(sock, (mode_t)mode, 8);
		if (s.lfd == VX_ERR_INVALID && errno == EEXIST) {
			vx_error("'%s' exists and is not a socket; not replacing it",
			    sock);
			goto out;
		}
		if (s.lfd < 0) {
			vx_error("cannot listen on '%s': %s", sock,
			    s.lfd == VX_ERR_IO ? strerror(errno) :
			    vx_strerror(s.lfd));
			goto out;
		}
		if (sock[0] != '@')
			s.path = sock;
		say(&s, "listening on %s", sock);
	}
	rc = serve(&s) < 0 ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	if (s.cfd >= 0)
		conn_end(&s);
	while (s.nbusy > 0)
		busy_drop(&s, 0);
	if (s.path != NULL)
		unlink(s.path);
	if (s.lfd >= 0)
		close(s.lfd);
	if (s.sigfd >= 0)
		close(s.sigfd);
	free(s.backlog);
	free(s.scratch);
	mig_drop(&s.mig);
	log_stop(&s.log);
	vx_builder_release(&s.b);
	vx_builder_release(&s.db);
	vx_decoder_release(&s.dec);
	vx_decoder_release(&s.ddec);
	vx_device_free(s.dev);
	return rc;
}
