/*
 * vx-relay.h - one client connection relayed, byte for byte, to its
 * server, with hooks that see everything that passes.
 *
 * A struct vx_relay owns the client's socket and the server's, and, once
 * a VERSION reply offers one, the twin channel.  Messages are stored and
 * forwarded: a message goes on only when it is whole.  Each socket is
 * read ahead, one recvmsg taking whatever has come (descriptors go to the
 * message that holds the last byte read, see vx-framer.h; noted when that
 * message's kind never carries any), and what one wakeup brought goes on in one
 * sendmsg per run of messages without descriptors, a message with
 * descriptors in a sendmsg of its own with them on its first byte.
 * Bytes that cannot be framed (msg_size below 16 or over VX_MAX_MSG_CAP)
 * go on raw, in order.  Nothing is renumbered, reordered or decoded on
 * the way except what the relay must look at: a VERSION reply's twin
 * socket (the client gets one end of a socketpair of ours, so the twin
 * channel is relayed too) and SET_IRQS's eventfds (the server gets
 * eventfds of ours, so every interrupt is seen: IRQ interposition belongs
 * here because it substitutes descriptors on the way, which only the
 * relay can do).  What a peer sends is drained into a bounded queue
 * towards the other one (VX_RELAY_MAX_BACKLOG), so a slow peer stalls
 * neither its partner nor the other connections in the same loop.
 *
 * Why not vx_conn: a vx_conn is an end of a connection.  It numbers calls,
 * matches replies, drops strays, ends on unframeable bytes and checks the
 * peer's limits; a relay must do none of that.  Both share the framer.
 *
 * The loop, as with vx_conn: vx_relay_pollfds() fills the descriptors to
 * wait for (vx_relay_npollfds() of them; many relays in one poll set if
 * you like), poll, then vx_relay_step() with the same entries and their
 * revents, once per wakeup.  The hooks run inside vx_relay_step(), in the
 * order things pass, and must not block; none may free the relay.  After
 * vx_relay_done() says so, vx_relay_free() ends it (the close hook runs
 * there).  Times are CLOCK_REALTIME nanoseconds from the caller: one
 * clock read per wakeup stamps all it brought.
 */
#ifndef VX_RELAY_H
#define VX_RELAY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vx-framer.h"
#include "vx-msg.h"

/* Bytes queued towards one peer before the relay stops reading from the
 * other. */
#define VX_RELAY_MAX_BACKLOG	((size_t)64 << 20)

struct vx_relay;

/* The client, from SO_PEERCRED when it connected. */
struct vx_relay_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* A whole message as its sender sent it. */
struct vx_relay_msg {
	int chan, dir;		/* enum vx_chan, enum vx_dir */
	uint64_t seq;		/* per channel and direction, from 0 */
	uint64_t ts_ns;
	uint16_t id, cmd;	/* from the header */
	uint32_t flags;
	struct vx_frame *frame;	/* bytes and descriptors; frame->bad says
				   VX_ERR_FDS if descriptors were cut off */
};

/*
 * Every hook is optional; arg is vx_relay_new()'s.  chan and dir say where
 * a note belongs; text is a sentence without a newline.
 */
struct vx_relay_hooks {
	/* The client connected (before the server is reached). */
	void (*open)(void *arg, const struct vx_relay_peer *peer);
	/* A message, before anything is substituted or forwarded. */
	void (*message)(void *arg, const struct vx_relay_msg *m);
	/*
	 * The descriptor set about to go on with m, after the relay's own
	 * substitutions: the hook may change fds[0..*nfds), lower *nfds and
	 * change the bytes in place (not their length).  The relay closes
	 * nothing the hook puts in.
	 */
	void (*forward)(void *arg, struct vx_relay_msg *m, int *fds,
	    int *nfds);
	/* Bytes that could not be framed, forwarded as they are. */
	void (*raw)(void *arg, int chan, int dir, const uint8_t *p, size_t n,
	    uint64_t ts_ns);
	/* An intercepted trigger eventfd fired count times (passed on). */
	void (*irq)(void *arg, uint32_t index, uint32_t vector, uint64_t count,
	    uint64_t ts_ns);
	/* Something worth saying: framing lost, a twin socket, ... */
	void (*note)(void *arg, int chan, int dir, const char *text);
	/* The end, from vx_relay_free(): the last hook. */
	void (*close)(void *arg, const struct vx_relay_peer *peer);
};

struct vx_relay_opts {
	int no_irq;		/* pass SET_IRQS eventfds through untouched */
	int connect_ms;		/* wait for the server's socket; 0: 1000 */
};

/*
 * Relay client socket cfd (adopted) to the server at spath.  Calls the
 * open hook, connects, and returns 0 with the relay in *out; or, when the
 * server cannot be reached, notes why, calls the close hook, closes cfd
 * and returns VX_ERR_IO (errno set), VX_ERR_TIMEOUT or VX_ERR_NOMEM.
 */
int vx_relay_new(int cfd, const char *spath, const struct vx_relay_opts *o,
    const struct vx_relay_hooks *h, void *arg, uint64_t now_ns,
    struct vx_relay **out);

/* Close everything, note who ended the connection, call the close hook. */
void vx_relay_free(struct vx_relay *rl, uint64_t now_ns);

/* How many entries vx_relay_pollfds() fills now. */
unsigned vx_relay_npollfds(const struct vx_relay *rl);
/* Fill pfd with what to poll for; returns how many. */
unsigned vx_relay_pollfds(const struct vx_relay *rl, struct pollfd *pfd);

/*
 * Do what the n entries of pfd (as vx_relay_pollfds() filled them, with
 * revents) allow: read, forward, pass interrupts on.  Call it once per
 * wakeup even without revents.
 */
void vx_relay_step(struct vx_relay *rl, const struct pollfd *pfd, unsigned n,
    uint64_t now_ns);

/* 1 once the connection is over: a side ended and what it sent was
 * delivered, or a socket failed. */
int vx_relay_done(const struct vx_relay *rl);

#endif /* VX_RELAY_H */
