/*
 * server-replay-win.h - what vfuctl server --replay reads of its trace
 * (lib/server-replay-win.c), for lib/server-replay.c, which plays it.
 * Internal: not installed.
 *
 * Two readings, neither holding the trace: sr_scan() reads it once before
 * anything is served, checks that it can be served and sums up each
 * recorded connection (a few numbers each); then, for the connection being
 * played, a window (struct sr_win) reads the trace again as the client
 * goes, keeping only that connection's entries around the furthest
 * request played: its requests, our replies, our DMA requests and the
 * client's replies to them, interrupts, in recorded order.  Entries are
 * named by their sequence number in the connection (seq), which stays
 * valid after the entry has left the window (sr_win_at() is NULL then).
 *
 * The window's policy, for k (sr_win_open):
 *  - a request is a candidate for a live one while it is unplayed, within
 *    k requests of the furthest one played (after it or before it) and
 *    whole: the trace has been read past it to the next request and to its
 *    reply (or it wants none, or k more requests came without one);
 *  - the window's front moves past played requests (the newest reply of
 *    each command is kept for sr_win_last) and past unplayed ones more
 *    than k behind the furthest played, or behind it at all once the
 *    window holds more than SR_WIN_BYTES of messages (they are counted as
 *    skipped); ahead, reading stops k + 1 requests on, or at SR_WIN_BYTES
 *    once the span of the request after the furthest played is read;
 *  - a DMA request we sent whose reply is awaited holds everything after
 *    it in the window.
 * So memory is at most about 2k entries plus their messages (k + 1 when
 * the client plays in order), whatever the trace's length.
 */
#ifndef SERVER_REPLAY_WIN_H
#define SERVER_REPLAY_WIN_H

#include <stddef.h>
#include <stdint.h>

#include "vx-msg.h"
#include "vx-walk.h"

#define SR_NONE		UINT64_MAX
#define SR_WIN_BYTES	(64u << 20)	/* messages held, beyond one request */
#define SR_NCMDS	64		/* commands tracked one by one */

enum sr_kind {
	SR_REQ,		/* client command on the main socket */
	SR_REPLY,	/* our reply to one (pair: the request) */
	SR_SCMD,	/* our command: DMA_READ/DMA_WRITE */
	SR_SREPLY,	/* the client's reply to one (pair: the command) */
	SR_IRQ,		/* an interrupt we signalled */
};

struct sr_fd {
	uint8_t kind;		/* enum vx_fd_kind */
	unsigned seals;		/* a memfd's F_GET_SEALS */
	uint64_t size;
};

struct sr_ent {
	uint64_t frame;
	uint64_t pair;		/* seq; see enum sr_kind; REQ: its reply */
	uint64_t rpos;		/* REQ: its number among the requests */
	uint64_t count;		/* IRQ: signals */
	uint8_t *bytes;		/* the message (len bytes); IRQ: NULL */
	struct sr_fd *fds;	/* its nfds descriptors' kinds, or NULL */
	uint32_t len;		/* IRQ: vector */
	uint16_t cmd;		/* IRQ: index */
	uint8_t kind, chan, peer, nfds;
	uint8_t used;		/* REQ: played; SCMD: reply awaited */
	uint8_t noreply;	/* REQ: sent with VX_F_NO_REPLY */
};

/* A recorded connection, summed up by sr_scan(). */
struct sr_conn {
	uint32_t conn;		/* its id in the trace */
	int begun;		/* its first message has been seen */
	uint64_t nreq;		/* requests */
	uint32_t max_fds;	/* what the recorded server accepted */
	uint32_t max_msg;
	uint32_t out_fds;	/* the most it sent: descriptors, bytes */
	uint32_t out_msg;
	uint32_t in_msg;	/* the largest message its client sent */
	uint8_t client_peer;	/* the wire forms its client's requests had */
};

/*
 * Read the trace at path (a regular file: it is read again as it plays)
 * and sum up its connections that sent a request, in recorded order.
 * 0 and *conns (malloc'd, *n of them, at least one), or a VX_ERR_* code
 * with the reason, naming the frame, in err: unreadable, no connection
 * with a request, one that starts mid-session, messages cut by a snap
 * length, a gap, big-endian messages.
 */
int sr_scan(const char *path, struct sr_conn **conns, size_t *n, char *err,
    size_t errcap);

/* The newest request of a command that left the window, for a client
 * that sends it more often than recorded. */
struct sr_last {
	uint16_t cmd;
	uint64_t nread;		/* requests of it read so far */
	uint64_t frame;		/* the newest one gone: its frame, */
	int have, noreply;	/* and whether it is kept */
	struct sr_ent reply;	/* its reply (kind SR_REQ if none) */
	size_t cap;		/* reply.bytes' room */
};

struct sr_win {
	struct vx_walk *walk;
	uint32_t conn;
	unsigned k;
	int ended;		/* the connection has no more records */
	struct sr_ent *ring;	/* entries lo..hi-1 at [seq & (cap - 1)] */
	size_t cap;
	uint64_t lo, hi;
	uint64_t first;		/* no unplayed request before it */
	uint64_t nread;		/* requests read (the next one's rpos) */
	uint64_t furthest;	/* 1 + rpos of the furthest played */
	uint64_t played;
	uint64_t skipped;	/* unplayed requests fallen behind */
	uint64_t skip_frame;	/* the first of them */
	uint16_t skip_cmd;
	size_t bytes;		/* messages in the window */
	size_t max_bytes;	/* SR_WIN_BYTES (a test may lower it) */
	struct sr_last last[SR_NCMDS + 1];	/* the last: other commands */
	char errmsg[512];
};

/* Start reading connection conn of the trace at path, the window k
 * requests each way.  0, or a VX_ERR_* code with why in w->errmsg. */
int sr_win_open(struct sr_win *w, const char *path, uint32_t conn,
    unsigned k);
void sr_win_close(struct sr_win *w);

/*
 * Slide the window to the furthest request played: drop what fell behind,
 * read ahead.  Moves the entries (sr_win_at() pointers go stale; seqs do
 * not).  0, or a VX_ERR_* code with why in w->errmsg.
 */
int sr_win_fill(struct sr_win *w);

/* Entry seq, or NULL if it is not (or no longer) in the window. */
static inline struct sr_ent *
sr_win_at(const struct sr_win *w, uint64_t seq)
{
	if (seq < w->lo || seq >= w->hi)
		return NULL;
	return &w->ring[seq & (w->cap - 1)];
}

/* 1 if entry seq is a request a live one may be matched with. */
int sr_win_candidate(const struct sr_win *w, uint64_t seq);

/* Request seq is being played. */
void sr_win_play(struct sr_win *w, uint64_t seq);

/*
 * The newest request of cmd played or gone, for a client that sends more
 * of them than the window has: 1 with its frame in *frame and its reply
 * in *reply (NULL if it had none), or 0 if there is none.
 */
int sr_win_last(const struct sr_win *w, uint16_t cmd, uint64_t *frame,
    const struct sr_ent **reply);
/* Requests of cmd read so far. */
uint64_t sr_win_count(const struct sr_win *w, uint16_t cmd);

/*
 * The first recorded request not played, for a client that ended early:
 * 1 with its frame and command, 0 if every one was played, or a VX_ERR_*
 * code.  May read on (the client is gone).
 */
int sr_win_unplayed(struct sr_win *w, uint64_t *frame, uint16_t *cmd);

/* cmd's name, or "command N" in buf. */
const char *sr_cmd_text(unsigned cmd, char *buf, size_t cap);

#endif /* SERVER_REPLAY_WIN_H */
