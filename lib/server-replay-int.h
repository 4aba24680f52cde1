/*
 * server-replay-int.h - play the server side of a recorded trace to live
 * vfio-user clients (vfuctl server --replay).  Internal: not installed.
 *
 * The trace is checked once (vx_sreplay_open), then read again as it
 * plays, never held whole: each recorded connection becomes a session,
 * served to one live client, in the order the connections were recorded.
 * A live request is answered by command and content, not by msg_id: with
 * the reply of the first recorded request, in recorded order, that is not
 * played yet, lies within the window (k requests ahead of or behind the
 * furthest one played; vx_sreplay_set_window), has its command and equals
 * it field by field (what varies legitimately, msg_id first, is not
 * compared: the diff's default rules).  So a client that repeats a
 * request gets the recorded replies in recorded order.  The reply carries
 * the live request's msg_id and descriptors made as recorded (a memfd of
 * the recorded size, eventfds, the twin socket).  What the server did
 * between that request and the next one in the trace is done again, in
 * the recorded order: DMA_READ/DMA_WRITE sent as recorded (their replies
 * compared with the recorded ones), interrupts signalled on the eventfds
 * the live client gave with SET_IRQS.
 *
 * Where the client departs from the recording it is reported and served
 * as well as can be: a request with no equal recorded one in the window
 * is answered as the first one of its command there (the differences
 * named field by field), or, when it has none, as the newest one of its
 * command played or fallen behind (its actions not repeated); a command
 * never recorded gets an ENOTSUP error reply; a client that ends with
 * recorded requests unplayed (fallen behind included) is one more
 * departure.
 *
 * The loop is the caller's, as with struct vx_server: attach a connected
 * socket, poll vx_sreplay_pollfds() with vx_sreplay_timeout(), call
 * vx_sreplay_step(); an error return means the client is gone: detach.
 */
#ifndef SERVER_REPLAY_INT_H
#define SERVER_REPLAY_INT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "vx-server.h"		/* vx_server_log_fn and its levels */

struct vx_sreplay;

#define VX_SREPLAY_MAX_POLLFDS	2	/* the main and the twin socket */
#define VX_SREPLAY_WINDOW_DEF	4096	/* vx_sreplay_set_window's k */
#define VX_SREPLAY_WINDOW_MAX	(1u << 20)

struct vx_sreplay_stats {
	unsigned sessions;	/* recorded connections with requests */
	unsigned served;	/* of them, played to a client so far */
	uint64_t requests;	/* live requests answered */
	uint64_t departures;	/* requests and events that departed */
	uint64_t dma, irqs;	/* DMA requests sent, interrupts signalled */
};

/*
 * Check the trace at path, a regular file (read through once, holding
 * a few numbers per recorded connection; it is read again as it plays).
 * Returns 0 and *out, or a VX_ERR_* code with the reason, naming the
 * frame, in err (errcap bytes); *out is NULL then.  Refused: an
 * unreadable trace or standard input, one without a connection that sent
 * a request, a connection whose first message is not VERSION (a capture
 * that began mid-session), messages cut short by the writer's snap length,
 * gaps and big-endian messages.
 */
int vx_sreplay_open(const char *path, struct vx_sreplay **out, char *err,
    size_t errcap);
/* Detach the client, if any, and free. */
void vx_sreplay_free(struct vx_sreplay *r);

/*
 * Play only recorded connection conn (its id in the trace, "c1" in
 * vfuctl dissect), say one side of a migration whose two connections were
 * recorded at once.  Before the first attach.  0, or VX_ERR_NOENT when
 * the trace has no such connection with a request.
 */
int vx_sreplay_only(struct vx_sreplay *r, uint32_t conn);

/*
 * Match live requests within a window of k recorded requests each way of
 * the furthest one played (VX_SREPLAY_WINDOW_DEF; the policy is in
 * server-replay-win.h).  Before the first attach.  0, or VX_ERR_INVALID
 * for k outside 1..VX_SREPLAY_WINDOW_MAX.
 */
int vx_sreplay_set_window(struct vx_sreplay *r, unsigned k);

/*
 * Deadlines on each client, in ms (0, the default: none), as
 * vx_server_set_deadlines keeps them: a first request within handshake_ms
 * of attaching; a message, once begun, whole within message_ms; each
 * reply taken within message_ms.  A client that misses one is let go.
 */
void vx_sreplay_set_deadlines(struct vx_sreplay *r, int handshake_ms,
    int message_ms);

/* Where report lines go: departures and notices at VX_SERVER_NOTICE,
 * one line per message at VX_SERVER_DEBUG when verbose. */
void vx_sreplay_set_log(struct vx_sreplay *r, vx_server_log_fn *fn,
    void *arg, int verbose);

/*
 * Serve the next recorded session to the client on sock (adopted).
 * Returns 0, VX_ERR_BUSY (a client is attached; sock left alone),
 * VX_ERR_NOENT (every session has been played; sock left alone) or
 * VX_ERR_NOMEM (sock closed).
 */
int vx_sreplay_attach(struct vx_sreplay *r, int sock);
/* End the client's connection; recorded requests it left unplayed are a
 * departure. */
void vx_sreplay_detach(struct vx_sreplay *r);
int vx_sreplay_attached(const struct vx_sreplay *r);
/* 1 once every recorded session has been played (attached and ended). */
int vx_sreplay_done(const struct vx_sreplay *r);

int vx_sreplay_pollfds(const struct vx_sreplay *r, struct pollfd *pfd);
int vx_sreplay_timeout(const struct vx_sreplay *r);

/* Serve what has come without blocking.  0 while the client is served,
 * else why it is over (as vx_server_step); detach then. */
int vx_sreplay_step(struct vx_sreplay *r);
const char *vx_sreplay_errmsg(const struct vx_sreplay *r);

/*
 * More of what may differ, beyond the diff's defaults (vx-diff.h): one
 * rule ("FIELD [cmd=C] [region=R] [offset=N[-M]]") or a file of them.
 * 0, VX_ERR_INVALID with the reason in why, VX_ERR_IO, VX_ERR_NOMEM.
 */
int vx_sreplay_add_rule(struct vx_sreplay *r, const char *line, char *why,
    size_t whycap);
int vx_sreplay_load_rules(struct vx_sreplay *r, const char *path,
    char *why, size_t whycap);

void vx_sreplay_get_stats(const struct vx_sreplay *r,
    struct vx_sreplay_stats *st);

#endif /* SERVER_REPLAY_INT_H */
