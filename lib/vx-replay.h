/*
 * vx-replay.h - play the client side of a trace against a live server and
 * compare every live reply with the recorded one.
 *
 * A replay walks the trace (vx-walk.h: streamed, never loaded, so memory
 * does not grow with its length) and gives each recorded connection a live
 * one (a struct vx_conn on a socket the caller's connect hook returns): the
 * recorded commands go out in the recorded order with fresh msg_ids, each
 * live reply is decoded and compared with the recorded reply through
 * vx_diff() (vx-diff.h), and what differs is a divergence handed to the
 * caller's hook.  Descriptors are made anew: a memfd of the recorded size
 * for every memfd or file (a DMA_MAP's window, zero-filled as a fresh
 * client's memory is, the data of the recorded client's DMA_READ replies
 * written in as the walk reaches them, and served to the server's
 * DMA_READ/DMA_WRITE from this process's copy), an eventfd for every eventfd (SET_IRQS), /dev/null for the rest.
 * Where the trace has an interrupt, the replay waits for the eventfd the
 * live server signals; where it has a server's command (DMA_READ,
 * DMA_WRITE), it goes past the recorded client's answer only once the
 * live server has sent as many.  A recorded MIG_DATA_WRITE whose data
 * equals what a recorded MIG_DATA_READ reply of the session carried (a
 * client moving device state from a migration's source to its
 * destination) is sent with what the live source returned for that read
 * instead: forwarded, as the recorded client did (VX_REPLAY_MIG_RECORDED:
 * never).  The rules' shift rules (vx-diff.h) move time values in commands
 * by the time elapsed since the recording.  A server that closes the
 * connection, dies or does not answer within the timeout is a divergence
 * naming the frame whose reply it owes.
 *
 * Driven by vx_replay_step(), one trace record at a time; between records
 * the replay polls its live connections itself (it waits only for what the
 * record needs: a reply, an interrupt), so a caller such as a fuzzer can
 * interleave its own work.  The library never prints.
 */
#ifndef VX_REPLAY_H
#define VX_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "vx-diff.h"
#include "vx-trace.h"

struct vx_replay;

enum vx_replay_div_kind {
	VX_RDIV_FIELD = 1,	/* a reply differs in fields (diffs[]) */
	VX_RDIV_CLOSED,		/* the server closed the connection */
	VX_RDIV_TIMEOUT,	/* no reply within the timeout */
	VX_RDIV_IRQ,		/* a recorded interrupt did not come */
	VX_RDIV_CONNECT,	/* no connection to the server */
	VX_RDIV_SEND,		/* a recorded command could not be sent */
	VX_RDIV_DMA,		/* (VX_REPLAY_CHECK_DMA) a DMA window's
				 * contents at unmap or close differ from
				 * the recorded hash */
};

#define VX_REPLAY_CONTEXT	3	/* messages shown before a divergence */
#define VX_REPLAY_MAX_DIFFS	8	/* differences kept per divergence */

struct vx_replay_ctxmsg {
	uint64_t frame;
	uint8_t dir;		/* enum vx_dir */
	char summary[160];
};

struct vx_replay_div {
	int kind;		/* enum vx_replay_div_kind */
	uint64_t frame;		/* the recorded reply compared, or the record
				 * whose turn it was */
	uint64_t req_frame;	/* the command it answers (0 if none) */
	uint32_t conn;		/* recorded connection id */
	uint16_t cmd;
	const char *trace;	/* the file frame is in (a rotated trace has
				 * several); valid during the hook */
	unsigned ndiffs;	/* VX_RDIV_FIELD: differences in all */
	struct vx_difference diffs[VX_REPLAY_MAX_DIFFS];
	char text[256];		/* what happened, one line */
	char rec_summary[160];	/* the recorded reply, or "" */
	char live_summary[160];	/* the live reply, or "" */
	unsigned nctx;		/* context, oldest first */
	struct vx_replay_ctxmsg ctx[VX_REPLAY_CONTEXT];
};

/* One recorded connection, when it is done (for per-connection reports). */
struct vx_replay_conn_summary {
	uint32_t conn;
	uint64_t first_frame;
	uint64_t messages;	/* recorded messages of it replayed */
	uint64_t replies;	/* replies compared */
	uint64_t divergences;
	int64_t ms;		/* wall time it took */
};

struct vx_replay_hooks {
	/*
	 * A socket connected to the server for recorded connection conn;
	 * open is how many other connections are open now (0: a new
	 * session begins).  Returns the descriptor (adopted), or a VX_ERR_*
	 * with the reason in why.
	 */
	int (*connect)(void *arg, uint32_t conn, unsigned open, char *why,
	    size_t whycap);
	void (*divergence)(void *arg, const struct vx_replay_div *d);
	void (*conn_done)(void *arg, const struct vx_replay_conn_summary *s);
	void *arg;
	/*
	 * If set, called instead of connect, with the recorded connection's
	 * endpoint too: which listener of the recorder it came through (a
	 * recorder with two --listen/--connect pairs puts a migration's
	 * source on endpoint 0 and its destination on endpoint 1), so that
	 * each endpoint gets a server of its own.
	 */
	int (*connect_endpoint)(void *arg, uint32_t conn, uint32_t endpoint,
	    unsigned open, char *why, size_t whycap);
};

#define VX_REPLAY_KEEP_GOING	0x1	/* go on after the first divergence */
#define VX_REPLAY_DIGEST	0x2	/* digest the live replies */
#define VX_REPLAY_CHECK_DMA	0x4	/* a window whose contents at unmap or
					 * close differ from the trace's
					 * --hash-dma hash is a divergence */
#define VX_REPLAY_MIG_RECORDED	0x8	/* MIG_DATA_WRITE data as recorded,
					 * never forwarded (below) */
#define VX_REPLAY_WHOLE		0x10	/* every message in a write of its
					 * own, though vfuctl fuzz's annotation
					 * says it went in two, or joined */

struct vx_replay_opts {
	unsigned flags;		/* VX_REPLAY_* */
	int timeout_ms;		/* per reply and interrupt; <= 0: 10000 */
	int peer;		/* enum vx_peer for decoding; 0: detect */
	const struct vx_diff_rules *rules;	/* NULL: the defaults */
	/* --update: the trace with live replies in place of recorded ones
	 * (the caller opens and closes it) */
	struct vx_trace_writer *update;
};

struct vx_replay_stats {
	uint64_t sessions;	/* connections opened with none open */
	uint64_t conns;
	uint64_t messages;	/* recorded messages handled */
	uint64_t commands;	/* commands sent */
	uint64_t replies;	/* replies compared */
	uint64_t divergences;
	uint64_t irqs;		/* recorded interrupts that came live */
	uint64_t dma_served;	/* live DMA_READ/DMA_WRITE answered */
	uint64_t mmap_notes;	/* regions whose mmap'd accesses are not
				 * on the socket (not replayed) */
	uint64_t fd_dma;	/* DMA windows the server may reach directly
				 * (their accesses are not replayed) */
	uint64_t files;		/* trace files walked (rotated: several) */
	uint64_t unsent;	/* commands whose header frames no message
				 * (msg_size below 16, ...): not sent, the
				 * rest of the connection replayed */
	uint64_t first_unsent;	/* the frame of the first */
	uint64_t dma_hashes;	/* --hash-dma hashes compared */
	uint64_t dma_hash_differs;	/* ... that differed live */
	uint64_t first_dma_hash_differs;	/* the frame of the first */
	uint64_t shifted;	/* commands changed by shift rules */
	uint64_t mig_forwarded;	/* MIG_DATA_WRITEs sent with live data */
	uint64_t split;		/* messages sent in two writes, as vfuctl
				 * fuzz's annotations say they went */
	uint64_t joined;	/* ... sent in one write with the next, as
				 * they say */
	int truncated;		/* the trace ends inside a record: replayed
				 * up to it (why in vx_replay_error()) */
};

/*
 * Open a replay of the trace at path.  A rotated trace (vfuctl record -C,
 * -G, -W: FILE, FILE1, FILE2, ...) is replayed across its files: from
 * FILE on when path is a later one (which starts mid-session), and on
 * into the next while the next starts with the state of open sessions.
 * Returns 0, or a VX_ERR_* with the reason in vx_replay_error(); *out is
 * set either way (NULL only for VX_ERR_NOMEM) and must be freed.
 */
int vx_replay_open(const char *path, const struct vx_replay_opts *o,
    const struct vx_replay_hooks *h, struct vx_replay **out);

/*
 * Replay the next record.  Returns 1, or 0 when the replay is over (the
 * trace's end, a cut one's too (stats' truncated), or the first
 * divergence without VX_REPLAY_KEEP_GOING), or
 * an input error: VX_ERR_UNSUPPORTED (what cannot be replayed, such as a
 * trace that starts mid-session) or the walk's errors, with the reason in
 * vx_replay_error(), or VX_ERR_NOMEM.
 */
int vx_replay_step(struct vx_replay *r);

/* vx_replay_step() until it returns <= 0; that result. */
int vx_replay_run(struct vx_replay *r);

const struct vx_replay_stats *vx_replay_stats(const struct vx_replay *r);
/* The digest of the live replies so far (VX_REPLAY_DIGEST), 64 hex digits. */
void vx_replay_digest(const struct vx_replay *r,
    char out[2 * VX_DIGEST_LEN + 1]);
const char *vx_replay_error(const struct vx_replay *r);

/* Close the live connections and everything they hold. */
void vx_replay_free(struct vx_replay *r);

#endif /* VX_REPLAY_H */
