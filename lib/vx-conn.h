/*
 * vx-conn.h - one vfio-user connection, non-blocking, driven by the
 * caller's event loop.
 *
 * A struct vx_conn owns the main socket and, once negotiated, the twin
 * socket.  It frames what arrives (descriptors stay with their message),
 * queues what is sent, numbers the calls it starts (msg_id) and matches
 * each reply to its call, with a deadline per call, and feeds every
 * message it sends or receives to its session (vx_conn_session: what was
 * negotiated, regions, DMA windows).  It never blocks and
 * never calls back from inside the library, except vx_conn_call() below.
 * The same object serves either end: a client starts calls and answers the
 * server's DMA requests, a server answers calls and starts DMA requests.
 *
 * The loop, as with libcurl's multi interface: ask vx_conn_pollfds() for
 * the descriptors and events to wait for and vx_conn_timeout() for how
 * long, poll (many connections in one poll set if you like), then call
 * vx_conn_step() until it returns 0, handling one event each time it
 * returns 1:
 *
 *	while ((r = vx_conn_step(c, &ev)) > 0)
 *		switch (ev.kind) {
 *		case VX_CONN_EV_CALL:	  a call finished: reply or err
 *		case VX_CONN_EV_REQUEST:  the peer asks: answer now or later
 *		...
 *		}
 *
 * An event's frame (bytes and descriptors) is the library's until the
 * next vx_conn_step(); vx_conn_take() keeps it longer, vx_conn_decode()
 * gives its decode (made as it came in, for the session).  A request is
 * answered by sending a reply with its msg_id (vx_conn_send), at once or
 * whenever the answer is ready: nothing waits for it meanwhile.  A peer
 * that stops reading has usually hung up: what it sent before is still
 * handed out, then the pending calls fail and VX_CONN_EV_CLOSED, the last
 * event, ends the connection; it then only awaits vx_conn_free().
 *
 * Time comes from a clock the owner may replace (vx_conn_set_clock), so a
 * deadline can be tested without sleeping.  Errors are VX_ERR_* codes with
 * a sentence in vx_conn_errmsg() ("what, where").
 */
#ifndef VX_CONN_H
#define VX_CONN_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "vx-framer.h"
#include "vx-msg.h"
#include "vx-session.h"

struct vx_conn;

/* Which end we are: the direction our peer's messages are decoded as. */
enum vx_conn_role { VX_CONN_CLIENT, VX_CONN_SERVER };

enum vx_conn_ev_kind {
	VX_CONN_EV_CALL,	/* a call finished: err 0 (frame holds the
				 * reply), VX_ERR_TIMEOUT, or the end's code */
	VX_CONN_EV_REQUEST,	/* the peer sent a command */
	VX_CONN_EV_STRAY,	/* a reply no pending call awaits: dropped */
	VX_CONN_EV_BAD,		/* unframeable bytes or descriptors; err why */
	VX_CONN_EV_CLOSED,	/* the end: err VX_ERR_CLOSED, VX_ERR_TRUNCATED
				 * (peer gone mid-message), VX_ERR_IO, ... */
};

struct vx_conn_event {
	int kind;		/* enum vx_conn_ev_kind */
	int err;
	int chan;		/* enum vx_chan it came on (or the call went) */
	uint16_t id, cmd;	/* from the header, or the call's */
	uint32_t flags;		/* header flags (VX_F_NO_REPLY, ...) */
	void *cookie;		/* VX_CONN_EV_CALL: vx_conn_start()'s */
	struct vx_frame *frame;	/* the message, or NULL if none came; set
				 * frame->fds[i] to -1 to keep a descriptor */
};

#define VX_CONN_MAX_POLLFDS	2

/*
 * Output a socket has not taken yet is kept up to this many bytes; beyond,
 * the connection reads nothing more on that socket until the peer takes
 * some, so a peer that asks without reading the answers cannot make it
 * queue without bound.
 */
#define VX_CONN_MAX_BACKLOG	(1u << 20)

/*
 * A connection on socket sock (adopted: closed by vx_conn_free), accepting
 * messages within lim (NULL: VX_LIMITS_DEFAULT).  NULL when out of memory
 * or lim is invalid; sock is closed then too.
 */
struct vx_conn *vx_conn_new(int sock, int role, const struct vx_limits *lim);
/* Close the sockets and every descriptor still held; drop pending calls. */
void vx_conn_free(struct vx_conn *c);

/* Adopt the twin socket (its messages come with chan VX_CHAN_TWIN).  A
 * peer that closes it between messages ends the twin only: calls there
 * fail with VX_ERR_CLOSED, the main socket goes on. */
void vx_conn_set_twin(struct vx_conn *c, int sock);
/* What the peer accepts, from VERSION: descriptors on the main socket (the
 * twin carries none) and message size on both. */
void vx_conn_set_peer_limits(struct vx_conn *c, int max_fds,
    uint32_t max_msg_size);
/* Milliseconds on a monotonic clock; default CLOCK_MONOTONIC. */
void vx_conn_set_clock(struct vx_conn *c, int64_t (*now_ms)(void *),
    void *arg);
/* The msg_id the next call gets (default 1); ids wrap 65535 -> 0 and skip
 * those still pending. */
void vx_conn_set_next_id(struct vx_conn *c, uint16_t id);
/*
 * The next message sent goes in two writes (a stream socket has no
 * message boundaries; some servers cannot take a message in pieces): its
 * first `at` bytes alone, the rest with its descriptors once the peer has
 * read them, or wait_ms after.  at 0 or beyond the message: one write.
 * While the second write waits, vx_conn_timeout() says 1 ms.
 */
void vx_conn_split_next(struct vx_conn *c, size_t at, int wait_ms);
/*
 * The next message sent goes in one write with the one after it, whose
 * descriptors come with the write's first byte (vx_framer_join_next):
 * how vfuctl fuzz joins messages.  Nothing of the first goes until the
 * second is sent, or wait_ms after; a split second message splits the
 * joined bytes in half.  While the first waits, vx_conn_timeout() says
 * 1 ms.
 */
void vx_conn_join_next(struct vx_conn *c, int wait_ms);

int vx_conn_sock(const struct vx_conn *c);
int vx_conn_twin(const struct vx_conn *c);	/* -1 if none */
int vx_conn_peer_max_fds(const struct vx_conn *c);
uint32_t vx_conn_peer_max_msg_size(const struct vx_conn *c);
unsigned vx_conn_pending(const struct vx_conn *c);	/* calls awaiting */
/* 1 while part of a message is in on the main socket, its rest not yet */
int vx_conn_partial(const struct vx_conn *c);
/* Bytes queued on the main socket that the peer has not taken yet */
size_t vx_conn_unsent(const struct vx_conn *c);
/* 0 while the connection lasts, then why it ended (as VX_CONN_EV_CLOSED) */
int vx_conn_ended(const struct vx_conn *c);
const char *vx_conn_errmsg(const struct vx_conn *c);
/*
 * The session (vx-session.h): every message sent or received so far, in
 * that order, both channels, decoded and fed to it, so it knows what was
 * negotiated (vx_session_caps, vx_session_version), the regions, IRQs and
 * DMA windows.  The connection's own; read it, do not feed it.
 */
const struct vx_session *vx_conn_session(const struct vx_conn *c);

/*
 * Start a call: send msg (header and payload; its msg_id is overwritten)
 * with nfds descriptors (duplicated; the caller keeps its own) on chan.
 * It finishes as a VX_CONN_EV_CALL event carrying cookie, unless its flags
 * have VX_F_NO_REPLY.  timeout_ms < 0: no deadline.  Returns the msg_id,
 * or VX_ERR_TOO_LARGE / VX_ERR_FDS (beyond the peer's limits),
 * VX_ERR_INVALID (no such channel, short message), VX_ERR_TOO_LARGE
 * (65536 calls pending), VX_ERR_CLOSED, VX_ERR_IO, VX_ERR_NOMEM.
 */
int vx_conn_start(struct vx_conn *c, int chan, uint8_t *msg, size_t len,
    const int *fds, int nfds, int timeout_ms, void *cookie);

/* Send a message that is no call (a reply to a request): 0 or an error as
 * for vx_conn_start. */
int vx_conn_send(struct vx_conn *c, int chan, const uint8_t *msg,
    size_t len, const int *fds, int nfds);

/*
 * Fill pfd with what to poll for (at most VX_CONN_MAX_POLLFDS entries:
 * POLLOUT while output waits, POLLIN unless VX_CONN_MAX_BACKLOG is
 * reached); returns how many (0 once closed).
 */
int vx_conn_pollfds(const struct vx_conn *c, struct pollfd *pfd);
/* Milliseconds until vx_conn_step() has something to do without input: 0
 * when it has now, -1 when only input will give it something. */
int vx_conn_timeout(const struct vx_conn *c);

/*
 * Do what can be done without blocking: write queued output, read, expire
 * deadlines.  Returns 1 with the next event in *ev, 0 when there is
 * nothing until poll says so (or vx_conn_timeout() passes), or
 * VX_ERR_NOMEM.  Releases the previous event's frame unless taken.
 */
int vx_conn_step(struct vx_conn *c, struct vx_conn_event *ev);

/*
 * ev's message decoded as the peer's, on ev->chan, by the connection's
 * (lazy) decoder: *m borrows the frame's bytes and the decoder's items
 * until the next vx_conn_step(), or, when the frame is taken after this
 * call, until the next vx_conn_take().  Returns 0 (check m->status),
 * VX_ERR_INVALID (no message) or VX_ERR_NOMEM.
 */
int vx_conn_decode(struct vx_conn *c, const struct vx_conn_event *ev,
    struct vx_msg *m);

/* Take ev's frame out (ev->frame is then NULL): the caller releases it
 * with vx_frame_release(), before vx_conn_free(). */
void vx_conn_take(struct vx_conn *c, struct vx_conn_event *ev,
    struct vx_frame *out);

/*
 * The blocking helper for scripts: start a call and step (polling the
 * connection) until it finishes, up to timeout_ms (< 0: forever).  Other
 * events meanwhile go to the handler (vx_conn_set_handler); without one,
 * requests get an ENOTSUP error reply.  A VX_F_NO_REPLY message returns
 * once sent.  Returns 0 with the reply in *ev (ev->id, ev->cmd set either
 * way, the id the message got if it got one), or VX_ERR_TIMEOUT, the connection's end (VX_ERR_CLOSED,
 * VX_ERR_TRUNCATED, VX_ERR_IO), the errors of vx_conn_start; after a
 * hang-up vx_conn_errmsg() names the call.  Not from inside the handler.
 */
typedef void vx_conn_handler(void *arg, struct vx_conn *c,
    struct vx_conn_event *ev);
void vx_conn_set_handler(struct vx_conn *c, vx_conn_handler *fn, void *arg);
int vx_conn_call(struct vx_conn *c, int chan, uint8_t *msg, size_t len,
    const int *fds, int nfds, int timeout_ms, struct vx_conn_event *ev);

/* The default clock: CLOCK_MONOTONIC in milliseconds. */
int64_t vx_conn_now_ms(void *unused);

#endif /* VX_CONN_H */
