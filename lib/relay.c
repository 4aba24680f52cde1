/*
 * relay.c - a faithful vfio-user relay driven by the caller's poll loop
 * (see vx-relay.h).
 *
 * Each channel (main, twin) has two sides: s[VX_C2S] is the socket the
 * client writes (read: client-to-server messages), s[VX_S2C] the
 * server's.  A side's framer reads what its peer sends and queues what
 * goes to that peer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-relay.h"
#include "vx-sock.h"

/* Messages taken from one socket per wakeup, for fairness. */
#define BURST		64

struct side {
	int fd;			/* -1 once closed */
	struct vx_framer fr;
	int eof;		/* nothing more will be read */
	int lost;		/* framing lost: last frame was unframeable */
};

struct chan {
	int open;
	struct side s[2];
	uint64_t seq[2];
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

struct vx_relay {
	struct chan ch[2];	/* VX_CHAN_MAIN, VX_CHAN_TWIN */
	struct irqw *irqs;
	struct vx_relay_peer peer;
	struct vx_relay_hooks h;
	void *arg;
	struct vx_relay_opts o;
	struct vx_decoder dec;	/* VERSION replies and SET_IRQS only */
	int dead;		/* a side failed: close at once */
	const char *ended;	/* who ended the main channel first */
	uint64_t now;
};

static void note(struct vx_relay *rl, int chan, int dir, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
note(struct vx_relay *rl, int chan, int dir, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (rl->h.note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rl->h.note(rl->arg, chan, dir, text);
}

/* The header fields of a whole frame, through the cursor. */
static void
read_header(const struct vx_frame *fr, struct vx_relay_msg *m)
{
	struct vx_cursor cur;
	uint32_t size;

	vx_cursor_init(&cur, fr->data, fr->len, 0);
	vx_cursor_u16(&cur, &m->id);
	vx_cursor_u16(&cur, &m->cmd);
	vx_cursor_u32(&cur, &size);
	vx_cursor_u32(&cur, &m->flags);
}

static const char *
msg_name(const struct vx_relay_msg *m)
{
	return vx_cmd_name(m->cmd) ? vx_cmd_name(m->cmd) : "command";
}

static const char *
msg_kind(const struct vx_relay_msg *m)
{
	return m->flags & VX_F_TYPE_REPLY ? "reply" : "command";
}

/*
 * Whether a message of m's kind may carry descriptors at all (the kinds
 * of session.c's fd_range): a read-ahead guess that gave descriptors to
 * any other kind is worth a note.
 */
static int
may_carry_fds(const struct vx_relay_msg *m)
{
	int reply = (m->flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY;

	switch (m->cmd) {
	case VX_CMD_VERSION:
	case VX_CMD_DEVICE_GET_REGION_INFO:
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		return reply;
	case VX_CMD_DMA_MAP:
	case VX_CMD_DEVICE_SET_IRQS:
		return !reply;
	}
	return 0;
}

static uint32_t
frame_size(const struct vx_frame *fr)
{
	struct vx_cursor cur;
	uint32_t size = 0;

	vx_cursor_init(&cur, fr->data, fr->len, 0);
	vx_cursor_skip(&cur, VX_HDR_OFF_SIZE);
	vx_cursor_u32(&cur, &size);
	return size;
}

/* --- sides and channels ---------------------------------------------------- */

static void
side_init(struct side *s, int fd)
{
	static const struct vx_limits lim = { VX_MAX_MSG_CAP, VX_MAX_FDS };

	s->fd = fd;
	s->eof = 0;
	s->lost = 0;
	vx_framer_init(&s->fr, fd, &lim);
	/* One recvmsg per wakeup takes whatever the peer sent, like a relay
	   that frames nothing (bench/min-relay.c). */
	vx_framer_set_readahead(&s->fr, VX_FRAMER_READAHEAD);
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

/* --- descriptor substitution ---------------------------------------------- */

/*
 * VERSION reply with a twin socket: keep the server's socket, give the
 * client one end of a socketpair of ours, relay between them.
 */
static void
swap_twin(struct vx_relay *rl, struct vx_frame *fr, int *fds, int *extra)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;
	struct chan *tw = &rl->ch[VX_CHAN_TWIN];
	uint64_t idx;
	int sp[2], sfd;

	ctx.nfds = fr->nfds;
	if (vx_decode(&rl->dec, fr->data, fr->len, &ctx, &m) < 0 ||
	    m.caps == NULL || !m.caps->twin_supported)
		return;
	idx = m.caps->twin_fd_index;
	if (idx >= (uint64_t)fr->nfds || tw->open) {
		note(rl, 0, VX_S2C, "twin socket: fd_index %llu but %d descriptors",
		    (unsigned long long)idx, fr->nfds);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		goto fail;
	if ((sfd = fcntl(fr->fds[idx], F_DUPFD_CLOEXEC, 0)) < 0) {
		close(sp[0]);
		close(sp[1]);
		goto fail;
	}
	side_init(&tw->s[VX_C2S], sp[0]);
	side_init(&tw->s[VX_S2C], sfd);
	tw->open = 1;
	fds[idx] = sp[1];
	*extra = sp[1];
	note(rl, VX_CHAN_TWIN, VX_S2C,
	    "twin socket (fd_index %llu) relayed and recorded",
	    (unsigned long long)idx);
	return;
fail:
	note(rl, 0, VX_S2C, "twin socket not intercepted: %s", strerror(errno));
}

static void
irq_free(struct irqw *iw)
{
	close(iw->efd);
	close(iw->cfd);
	free(iw);
}

/* Drop the watchers of (index, action) whose vector is in
 * [start, start+count), or all of them. */
static void
irq_drop(struct vx_relay *rl, uint32_t index, uint32_t action,
    uint32_t start, uint32_t count, int all)
{
	struct irqw **pp = &rl->irqs, *iw;

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

/* A watcher for the client's eventfd cfd; NULL (and a note) if none. */
static struct irqw *
irq_watch(struct vx_relay *rl, int cfd, uint32_t action, uint32_t vector)
{
	struct irqw *iw;
	int nb;

	if ((iw = calloc(1, sizeof(*iw))) == NULL)
		return NULL;
	/* Ours blocks or not as the client's does: the server shares its
	 * file status flags. */
	nb = fcntl(cfd, F_GETFL);
	iw->efd = eventfd(0, EFD_CLOEXEC |
	    (nb >= 0 && (nb & O_NONBLOCK) ? EFD_NONBLOCK : 0));
	iw->cfd = fcntl(cfd, F_DUPFD_CLOEXEC, 0);
	if (iw->efd < 0 || iw->cfd < 0) {
		if (iw->efd >= 0)
			close(iw->efd);
		if (iw->cfd >= 0)
			close(iw->cfd);
		free(iw);
		note(rl, 0, VX_C2S, "SET_IRQS: %s vector %u not intercepted: %s",
		    action_name(action), vector, strerror(errno));
		return NULL;
	}
	return iw;
}

/*
 * SET_IRQS with eventfds, its fields decoded: the server gets eventfds of
 * ours.  A trigger signal is passed on to the client's eventfd (and to
 * the irq hook); a mask or unmask signal from the client is noted and
 * passed on to ours.  Count 0 without descriptors ends the interception
 * of that index and action.
 */
static void
swap_irqs(struct vx_relay *rl, struct vx_frame *fr, int *fds)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	uint64_t flags, index, start, count;
	uint32_t action;
	struct vx_msg m;
	struct irqw *iw;
	int i;

	ctx.nfds = fr->nfds;
	if (vx_decode(&rl->dec, fr->data, fr->len, &ctx, &m) < 0 ||
	    vx_msg_get(&m, VXF_IRQ_SET_FLAGS, &flags) < 0 ||
	    vx_msg_get(&m, VXF_IRQ_INDEX, &index) < 0 ||
	    vx_msg_get(&m, VXF_IRQ_START, &start) < 0 ||
	    vx_msg_get(&m, VXF_IRQ_COUNT, &count) < 0)
		return;
	action = (uint32_t)flags & VX_IRQ_ACTION_BITS;
	if (action != VX_IRQ_ACTION_TRIGGER && action != VX_IRQ_ACTION_MASK &&
	    action != VX_IRQ_ACTION_UNMASK)
		return;
	if (fr->nfds == 0 && count == 0) {
		irq_drop(rl, (uint32_t)index, action, 0, 0, 1);
		return;
	}
	if (!(flags & VX_IRQ_DATA_EVENTFD) || fr->nfds == 0)
		return;
	irq_drop(rl, (uint32_t)index, action, (uint32_t)start,
	    (uint32_t)count, 0);
	for (i = 0; i < fr->nfds; i++) {
		iw = irq_watch(rl, fr->fds[i], action, (uint32_t)start + i);
		if (iw == NULL)
			continue;
		iw->index = (uint32_t)index;
		iw->vector = (uint32_t)start + (uint32_t)i;
		iw->action = action;
		iw->next = rl->irqs;
		rl->irqs = iw;
		fds[i] = iw->efd;	/* owned by the watcher */
	}
}

/* An intercepted vector fired: pass it on, tell the hooks. */
static void
irq_fired(struct vx_relay *rl, struct irqw *iw)
{
	uint64_t n;

	if (iw->action != VX_IRQ_ACTION_TRIGGER) {
		if (read(iw->cfd, &n, sizeof(n)) != sizeof(n))
			return;
		if (write(iw->efd, &n, sizeof(n)) != sizeof(n))
			note(rl, 0, VX_C2S, "IRQ %u.%u: cannot pass %s on: %s",
			    iw->index, iw->vector, action_name(iw->action),
			    strerror(errno));
		note(rl, 0, VX_C2S, "IRQ index %u vector %u: %s signalled %llu time%s",
		    iw->index, iw->vector, action_name(iw->action),
		    (unsigned long long)n, n == 1 ? "" : "s");
		return;
	}
	if (read(iw->efd, &n, sizeof(n)) != sizeof(n))
		return;
	if (write(iw->cfd, &n, sizeof(n)) != sizeof(n))
		note(rl, 0, VX_S2C, "IRQ %u.%u: cannot signal the client: %s",
		    iw->index, iw->vector, strerror(errno));
	if (rl->h.irq != NULL)
		rl->h.irq(rl->arg, iw->index, iw->vector, n, rl->now);
}

/* --- relaying -------------------------------------------------------------- */

/* Unframeable bytes: note the loss once, pass them on as they are. */
static void
forward_raw(struct vx_relay *rl, int chan, int dir, struct vx_frame *fr)
{
	struct side *src = &rl->ch[chan].s[dir], *dst = &rl->ch[chan].s[!dir];

	if (!src->lost)
		note(rl, chan, dir, "framing lost: msg_size %u %s",
		    frame_size(fr), fr->bad == VX_ERR_INVALID ?
		    "is below 16" : "is over the limit");
	src->lost = 1;
	if (fr->nfds > 0)
		note(rl, chan, dir, "%d descriptors came with unframeable bytes: "
		    "not passed on", fr->nfds);
	if (rl->h.raw != NULL)
		rl->h.raw(rl->arg, chan, dir, fr->data, fr->len, rl->now);
	if (vx_framer_queue_raw(&dst->fr, fr->data, fr->len) < 0)
		rl->dead = 1;
}

/* The descriptors that go on with m: the relay's substitutions, then the
 * forward hook's. */
static void
substitute(struct vx_relay *rl, struct vx_relay_msg *m, int *fds, int *nfds,
    int *extra)
{
	struct vx_frame *fr = m->frame;
	uint32_t type = m->flags & VX_F_TYPE_MASK;

	memcpy(fds, fr->fds, (size_t)fr->nfds * sizeof(*fds));
	*nfds = fr->nfds;
	if (m->chan == VX_CHAN_MAIN && m->dir == VX_S2C &&
	    type == VX_F_TYPE_REPLY) {
		if (m->cmd == VX_CMD_VERSION && fr->nfds > 0)
			swap_twin(rl, fr, fds, extra);
		else if (m->cmd == VX_CMD_DEVICE_GET_REGION_IO_FDS &&
		    fr->nfds > 0)
			note(rl, m->chan, m->dir,
			    "%d ioeventfd/ioregionfd descriptors passed through",
			    fr->nfds);
	} else if (m->chan == VX_CHAN_MAIN && m->dir == VX_C2S &&
	    !rl->o.no_irq && m->cmd == VX_CMD_DEVICE_SET_IRQS &&
	    type == VX_F_TYPE_COMMAND)
		swap_irqs(rl, fr, fds);
	if (rl->h.forward != NULL)
		rl->h.forward(rl->arg, m, fds, nfds);
}

static void
handle_frame(struct vx_relay *rl, int chan, int dir, struct vx_frame *fr)
{
	struct chan *ch = &rl->ch[chan];
	struct side *src = &ch->s[dir], *dst = &ch->s[!dir];
	struct vx_relay_msg m;
	int fds[VX_MAX_FDS], nsend, extra = -1, e;

	if (fr->bad == VX_ERR_INVALID || fr->bad == VX_ERR_TOO_LARGE) {
		forward_raw(rl, chan, dir, fr);
		return;
	}
	if (src->lost) {
		note(rl, chan, dir, "framing resumed");
		src->lost = 0;
	}
	memset(&m, 0, sizeof(m));
	m.chan = chan;
	m.dir = dir;
	m.ts_ns = rl->now;
	m.frame = fr;
	m.seq = ch->seq[dir]++;
	read_header(fr, &m);
	if (fr->bad == VX_ERR_FDS)
		note(rl, chan, dir,
		    "descriptors cut off (MSG_CTRUNC): %s %s msg_id 0x%04x seq %llu",
		    msg_name(&m), msg_kind(&m), m.id, (unsigned long long)m.seq);
	else if (fr->fds_guess && !may_carry_fds(&m))
		note(rl, chan, dir,
		    "%d descriptors came in one read with other messages and "
		    "went to the last, %s %s msg_id 0x%04x seq %llu, which never "
		    "carries any: the sender may have sent them in one sendmsg "
		    "with a message before it",
		    fr->nfds, msg_name(&m), msg_kind(&m), m.id,
		    (unsigned long long)m.seq);
	/* The hooks see what the sender sent, descriptors included. */
	if (rl->h.message != NULL)
		rl->h.message(rl->arg, &m);
	substitute(rl, &m, fds, &nsend, &extra);
	e = vx_framer_queue(&dst->fr, fr->data, fr->len, fds, nsend);
	if (e < 0) {
		note(rl, chan, dir, "message seq %llu not forwarded: %s",
		    (unsigned long long)m.seq, e == VX_ERR_IO ?
		    strerror(errno) : "cannot queue");
		if (e == VX_ERR_NOMEM)
			rl->dead = 1;
	}
	if (extra >= 0)
		close(extra);	/* the queue holds its own duplicate */
}

/* A side cannot be read any more: say why, remember who ended first. */
static void
side_ended(struct vx_relay *rl, int chan, int dir, int e)
{
	const char *who = dir == VX_C2S ? "client" : "server";

	if (e == VX_ERR_TRUNCATED)
		note(rl, chan, dir, "%s closed the connection inside a message",
		    who);
	else if (e == VX_ERR_IO)
		note(rl, chan, dir, "%s: read error: %s", who, strerror(errno));
	else if (e == VX_ERR_NOMEM)
		rl->dead = 1;
	rl->ch[chan].s[dir].eof = 1;
	if (chan == VX_CHAN_MAIN && rl->ended == NULL)
		rl->ended = dir == VX_C2S ? "the client closed the connection" :
		    "the server closed the connection";
}

/*
 * Read what side dir of channel chan has, a chunk at a time, until a read
 * finds the socket empty: no read is spent on EAGAIN.
 */
static void
side_read(struct vx_relay *rl, int chan, int dir)
{
	struct chan *ch = &rl->ch[chan];
	struct side *src = &ch->s[dir], *dst = &ch->s[!dir];
	struct vx_frame fr;
	int n, e;

	memset(&fr, 0, sizeof(fr));
	for (n = 0; n < BURST && !rl->dead; ) {
		if (dst->fd >= 0 &&
		    vx_framer_backlog(&dst->fr) >= VX_RELAY_MAX_BACKLOG)
			break;	/* the other peer is slow: let it drain */
		e = vx_framer_recv(&src->fr);
		if (e == VX_ERR_AGAIN)
			break;
		if (e < 0 && e != VX_ERR_FDS) {
			side_ended(rl, chan, dir, e);
			break;
		}
		while ((e = vx_framer_next(&src->fr, &fr)) == 1) {
			handle_frame(rl, chan, dir, &fr);
			vx_frame_release(&fr);
			n++;
		}
		if (e < 0) {
			rl->dead = 1;	/* out of memory */
			break;
		}
		if (vx_framer_drained(&src->fr))
			break;
	}
}

static void
side_flush(struct vx_relay *rl, struct side *s)
{
	int e;

	if (s->fd < 0 || !vx_framer_pending(&s->fr))
		return;
	e = vx_framer_flush(&s->fr);
	if (e < 0 && e != VX_ERR_AGAIN) {
		/* Nobody to deliver to: drop what was queued. */
		s->eof = 1;
		vx_framer_drop_output(&s->fr);
		if (s == &rl->ch[VX_CHAN_MAIN].s[0] ||
		    s == &rl->ch[VX_CHAN_MAIN].s[1])
			rl->dead = 1;
	}
}

/* --- the loop -------------------------------------------------------------- */

int
vx_relay_new(int cfd, const char *spath, const struct vx_relay_opts *o,
    const struct vx_relay_hooks *h, void *arg, uint64_t now_ns,
    struct vx_relay **out)
{
	static const struct vx_relay_opts defo = { 0, 0 };
	struct vx_relay *rl;
	int sfd, e;

	*out = NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		close(cfd);
		return VX_ERR_NOMEM;
	}
	rl->o = o != NULL ? *o : defo;
	rl->h = *h;
	rl->arg = arg;
	rl->now = now_ns;
	rl->ch[VX_CHAN_MAIN].s[0].fd = rl->ch[VX_CHAN_MAIN].s[1].fd = -1;
	rl->ch[VX_CHAN_TWIN].s[0].fd = rl->ch[VX_CHAN_TWIN].s[1].fd = -1;
	vx_decoder_init(&rl->dec);
	vx_sock_peer_cred(cfd, &rl->peer.pid, &rl->peer.uid, &rl->peer.gid);
	if (rl->h.open != NULL)
		rl->h.open(arg, &rl->peer);
	sfd = vx_sock_connect(spath, rl->o.connect_ms > 0 ?
	    rl->o.connect_ms : 1000);
	if (sfd < 0) {
		e = errno;
		note(rl, 0, VX_C2S, "cannot connect to the server at '%s': %s",
		    spath, sfd == VX_ERR_IO ? strerror(e) : "timeout");
		close(cfd);
		vx_relay_free(rl, now_ns);
		errno = e;
		return sfd;
	}
	side_init(&rl->ch[VX_CHAN_MAIN].s[VX_C2S], cfd);
	side_init(&rl->ch[VX_CHAN_MAIN].s[VX_S2C], sfd);
	rl->ch[VX_CHAN_MAIN].open = 1;
	*out = rl;
	return 0;
}

void
vx_relay_free(struct vx_relay *rl, uint64_t now_ns)
{
	struct irqw *iw, *next;

	if (rl == NULL)
		return;
	rl->now = now_ns;
	chan_close(&rl->ch[VX_CHAN_TWIN]);
	chan_close(&rl->ch[VX_CHAN_MAIN]);
	for (iw = rl->irqs; iw != NULL; iw = next) {
		next = iw->next;
		irq_free(iw);
	}
	if (rl->ended != NULL)
		note(rl, 0, 0, "%s", rl->ended);
	if (rl->h.close != NULL)
		rl->h.close(rl->arg, &rl->peer);
	vx_decoder_release(&rl->dec);
	free(rl);
}

unsigned
vx_relay_npollfds(const struct vx_relay *rl)
{
	const struct irqw *iw;
	unsigned n = 0;
	int ch, d;

	for (ch = 0; ch < 2; ch++)
		for (d = 0; d < 2 && rl->ch[ch].open; d++)
			n += rl->ch[ch].s[d].fd >= 0;
	for (iw = rl->irqs; iw != NULL; iw = iw->next)
		n++;
	return n;
}

static int
irq_pollfd(const struct irqw *iw)
{
	return iw->action == VX_IRQ_ACTION_TRIGGER ? iw->efd : iw->cfd;
}

unsigned
vx_relay_pollfds(const struct vx_relay *rl, struct pollfd *pfd)
{
	const struct side *s, *o;
	const struct irqw *iw;
	unsigned n = 0;
	int ch, d;

	for (ch = 0; ch < 2; ch++) {
		for (d = 0; d < 2 && rl->ch[ch].open; d++) {
			s = &rl->ch[ch].s[d];
			o = &rl->ch[ch].s[!d];
			if (s->fd < 0)
				continue;
			pfd[n].fd = s->fd;
			pfd[n].events = 0;
			pfd[n].revents = 0;
			if (!s->eof && (o->fd < 0 || vx_framer_backlog(&o->fr) <
			    VX_RELAY_MAX_BACKLOG))
				pfd[n].events |= POLLIN;
			if (vx_framer_pending(&s->fr))
				pfd[n].events |= POLLOUT;
			n++;
		}
	}
	for (iw = rl->irqs; iw != NULL; iw = iw->next) {
		pfd[n].fd = irq_pollfd(iw);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

/* The side whose socket is fd now (entries may be stale), or 0. */
static int
find_side(const struct vx_relay *rl, int fd, int *chan, int *dir)
{
	int ch, d;

	for (ch = 0; ch < 2; ch++)
		for (d = 0; d < 2; d++)
			if (rl->ch[ch].open && rl->ch[ch].s[d].fd == fd) {
				*chan = ch;
				*dir = d;
				return 1;
			}
	return 0;
}

static struct irqw *
find_irq(const struct vx_relay *rl, int fd)
{
	struct irqw *iw;

	for (iw = rl->irqs; iw != NULL; iw = iw->next)
		if (irq_pollfd(iw) == fd)
			return iw;
	return NULL;
}

void
vx_relay_step(struct vx_relay *rl, const struct pollfd *pfd, unsigned n,
    uint64_t now_ns)
{
	struct chan *tw = &rl->ch[VX_CHAN_TWIN];
	struct irqw *iw;
	unsigned i;
	int ch, d;

	rl->now = now_ns;
	for (i = 0; i < n && !rl->dead; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (find_side(rl, pfd[i].fd, &ch, &d)) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				side_read(rl, ch, d);
			if (pfd[i].revents & POLLOUT)
				side_flush(rl, &rl->ch[ch].s[d]);
			/* forward at once what was just read */
			side_flush(rl, &rl->ch[ch].s[!d]);
		} else if ((iw = find_irq(rl, pfd[i].fd)) != NULL)
			irq_fired(rl, iw);
	}
	if (tw->open && chan_done(tw)) {
		chan_close(tw);
		note(rl, VX_CHAN_TWIN, 0, "twin socket closed");
	}
}

int
vx_relay_done(const struct vx_relay *rl)
{
	return rl->dead || chan_done(&rl->ch[VX_CHAN_MAIN]);
}
