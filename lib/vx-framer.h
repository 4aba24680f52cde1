/*
 * vx-framer.h - cut a vfio-user byte stream into whole messages and queue
 * messages for sending, each with the SCM_RIGHTS descriptors it carries.
 *
 * One struct vx_framer serves one socket in both directions: an inbound
 * assembler fed either from the socket (vx_framer_recv) or from memory
 * (vx_framer_feed; sockfd -1 for decoders and tests), and an outbound queue
 * drained by vx_framer_flush.  Nothing blocks except vx_send_msg and
 * vx_recv_frame.  The framer never closes, or changes the flags of, the
 * socket it was given.
 *
 * Framing.  A message is the 16-byte header followed by msg_size - 16 body
 * bytes (msg_size little-endian at offset 4).  A header whose msg_size is
 * below 16 (VX_ERR_INVALID) or above limits.max_msg_size (VX_ERR_TOO_LARGE)
 * cannot be framed: its 16 bytes come out on their own as a frame with
 * bad set to that code, and framing resumes right after them.  This is what
 * peers and the recorder do (vectors: gpio-probe-badframe.jsonl seq 2), so a
 * tool can keep going; a strict tool drops the connection on any bad frame.
 *
 * Descriptors.  Descriptors that arrive with a chunk of bytes belong to the
 * message that holds the chunk's first byte; a chunk that starts exactly at a
 * message boundary gives them to the message that starts there.  That is
 * right for a reader that stops at every message boundary, as recv does by
 * default.  A framer that reads ahead (vx_framer_set_readahead) reads across
 * message boundaries, and gives a chunk's descriptors to the message that
 * holds its LAST byte instead: Linux's AF_UNIX stream recvmsg joins the sender's sendmsg
 * calls until it has taken one that carries descriptors, then stops, so
 * they came with the last sendmsg in the chunk.  Every real sender (QEMU,
 * libvfio-user, this framer) sends a message with descriptors in a sendmsg
 * of its own, which makes that sendmsg the message holding the last byte.
 * Only a sender that glued further messages after it in the same sendmsg
 * would be misread, and a chunk cannot show which it was: when the chunk
 * holds the start of another message before the one given the descriptors,
 * the frame says so (fds_guess) for the caller to judge (vx_relay notes it
 * when that message's kind never carries descriptors).  In both modes, more
 * than limits.max_fds descriptors for one message, or descriptors cut off
 * by the kernel (MSG_CTRUNC), make feed/recv return VX_ERR_FDS: every
 * descriptor of that message is closed, the bytes are kept, and the message
 * comes out with bad = VX_ERR_FDS and nfds 0.  Whatever a function is
 * handed is always either queued or closed, on success and on error alike.
 *
 * Memory.  Buffers are reused: in steady state (each frame released before
 * the next is taken) no message costs a heap allocation; buffers only grow
 * when a bigger message arrives.
 */
#ifndef VX_FRAMER_H
#define VX_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "vx-wire.h"

/*
 * Largest message for a max_data_xfer_size: the data plus room for the
 * header and an access header (a 1 MiB REGION_READ reply is 1 MiB + 32
 * bytes).  Default: the spec's default transfer size (1 MiB); hard cap:
 * QEMU's 64 MiB.
 */
#define VX_MSG_FOR_XFER(xfer)	((xfer) + 4096u)
#define VX_DEF_MAX_MSG		VX_MSG_FOR_XFER(VX_DEF_MAX_XFER)
#define VX_MAX_MSG_CAP		VX_MSG_FOR_XFER(VX_QEMU_MAX_XFER)

/* Spare buffers a framer keeps for frames it hands out. */
#define VX_FRAMER_SPARES	2
/* Split messages queued at once (vx_framer_queue_split), times two. */
#define VX_FRAMER_HOLDS		8

/* What a framer accepts inbound. */
struct vx_limits {
	uint32_t max_msg_size;	/* whole message, 16 .. VX_MAX_MSG_CAP */
	int max_fds;		/* per message, 0 .. VX_MAX_FDS */
};

#define VX_LIMITS_DEFAULT	{ VX_DEF_MAX_MSG, VX_MAX_FDS }

/*
 * One inbound message.  The caller owns data and fds until
 * vx_frame_release(), which closes every fds[i] that is still >= 0 (set an
 * entry to -1 to keep that descriptor) and gives data back to the framer.
 * Release every frame before releasing its framer.
 */
struct vx_frame {
	uint8_t *data;		/* len bytes: header, then body */
	size_t len;		/* msg_size, or VX_HDR_SIZE for a bad header */
	int bad;		/* 0, VX_ERR_INVALID, VX_ERR_TOO_LARGE, VX_ERR_FDS */
	int nfds;
	int fds[VX_MAX_FDS];	/* in arrival order, O_CLOEXEC from recv */
	int fds_guess;		/* 1: read ahead, fds came in a chunk that
				   starts other messages before this one
				   (see Descriptors) */
	/* private */
	size_t cap;
	struct vx_framer *owner;
};

/* private: descriptors pinned to a stream offset */
struct vx_fdrec {
	uint64_t off;
	int fd;			/* -1 marks a message whose fds were dropped */
	int guess;		/* see vx_frame.fds_guess */
};

/* private: bytes p[head..len) not yet taken, p[0] at stream offset base */
struct vx_bytes {
	uint8_t *p;
	size_t cap, head, len;
	uint64_t base;
	struct vx_fdrec *fdv;	/* ordered by off */
	int nfd, fdcap;
};

struct vx_spare {
	uint8_t *p;
	size_t cap;
};

/*
 * Every member is private: the struct is public only so that it can be
 * embedded; use the functions below.
 */
struct vx_framer {
	int sock;			/* -1: feed only */
	struct vx_limits lim;		/* what we accept */
	int peer_max_fds;		/* see vx_framer_set_peer_limits */
	uint32_t peer_max_msg_size;
	struct vx_bytes in, out;
	uint64_t tail;			/* in: first incomplete message */
	size_t readahead;		/* see vx_framer_set_readahead */
	int drained;			/* see vx_framer_drained */
	struct vx_spare spare[VX_FRAMER_SPARES];
	int nspare;
	/* out: where writing waits for the peer to have read all (see
	 * vx_framer_queue_split), by stream offset: a split message's split
	 * point, then its end (rest: what comes before it is the rest,
	 * which goes in one write with the message's descriptors) */
	struct { uint64_t at; int rest; } hold[VX_FRAMER_HOLDS];
	int nhold;
	int hold_wait_ms;
	int64_t hold_deadline;		/* ms; 0: not waiting yet */
	/* out: messages joined in one write (see vx_framer_join_next) */
	int join_next;			/* the next message is not the last */
	int join_open;			/* writing stops at join_at */
	uint64_t join_at;		/* the join's first byte */
	uint64_t join_end;		/* the last closed join's end */
	int join_wait_ms;
	int64_t join_deadline;		/* ms: then what is queued goes */
};

/*
 * Set up f for socket sockfd (or -1) with inbound limits lim (NULL: the
 * defaults).  Returns VX_ERR_INVALID for max_msg_size below 16 or max_fds
 * out of range, VX_ERR_TOO_LARGE for max_msg_size above VX_MAX_MSG_CAP.
 * Allocates nothing.
 */
int vx_framer_init(struct vx_framer *f, int sockfd, const struct vx_limits *lim);

/* Free buffers and close every descriptor still queued in either
 * direction; the socket stays open. */
void vx_framer_release(struct vx_framer *f);

/* The socket recv and flush use (-1: feed only); the framer's buffers stay. */
void vx_framer_set_sock(struct vx_framer *f, int sockfd);

/*
 * Read ahead: each recv offers at least room bytes (more when the message
 * being assembled needs more), so one recvmsg takes whatever has come, many
 * messages at once; descriptors are attributed by the chunk's last byte
 * (see Descriptors), by feed as by recv.  0 (the default): read to message
 * boundaries.  Set it before the first byte arrives.
 */
#define VX_FRAMER_READAHEAD	((size_t)64 << 10)
void vx_framer_set_readahead(struct vx_framer *f, size_t room);
/* What f accepts inbound. */
const struct vx_limits *vx_framer_limits(const struct vx_framer *f);

/*
 * What the peer accepts, checked by vx_framer_queue(): descriptors per
 * message (clamped to 0 .. VX_MAX_FDS) and message size.  Defaults are the
 * spec's (max_msg_fds 1) and VX_DEF_MAX_MSG; set both after VERSION
 * negotiation (a relay sets VX_MAX_FDS and VX_MAX_MSG_CAP: it passes on
 * whatever the peers agreed on).
 */
void vx_framer_set_peer_limits(struct vx_framer *f, int max_fds,
    uint32_t max_msg_size);
int vx_framer_peer_max_fds(const struct vx_framer *f);
uint32_t vx_framer_peer_max_msg_size(const struct vx_framer *f);

/*
 * Inbound from memory: append n bytes and the nfds descriptors that came
 * with them (ownership passes to the framer).  Returns 0, VX_ERR_FDS (see
 * Descriptors; the bytes are taken), VX_ERR_NOMEM (nothing taken, fds
 * closed) or VX_ERR_INVALID for nfds < 0 (nothing taken or closed).
 */
int vx_framer_feed(struct vx_framer *f, const void *bytes, size_t n,
    const int *fds, int nfds);

/*
 * Inbound from the socket: one non-blocking recvmsg that reads no further
 * than the end of the message being assembled (first its 16-byte header,
 * then exactly its body), so descriptors land on the right message; or,
 * reading ahead, as much as has come.  Reads nothing while a whole message
 * waits for vx_framer_next().  Returns 1 if a whole message is ready, 0 if
 * more input is needed, or VX_ERR_AGAIN, VX_ERR_FDS (bytes kept, see
 * Descriptors), VX_ERR_CLOSED (EOF at a message boundary),
 * VX_ERR_TRUNCATED (EOF inside a message), VX_ERR_IO (errno),
 * VX_ERR_NOMEM, VX_ERR_INVALID (no socket).
 */
int vx_framer_recv(struct vx_framer *f);

/*
 * 1 if the last recvmsg found the socket empty (EAGAIN, or fewer bytes
 * than it offered and no descriptors to stop it): a loop can go back to
 * poll without reading on to EAGAIN.  0 if more may be waiting.
 */
int vx_framer_drained(const struct vx_framer *f);

/*
 * Take the next whole message into *out: returns 1 (release *out later), 0
 * if more input is needed (*out untouched), or VX_ERR_NOMEM.  Check
 * out->bad.
 */
int vx_framer_next(struct vx_framer *f, struct vx_frame *out);

/* Close unclaimed descriptors and give the buffer back; *fr is then empty. */
void vx_frame_release(struct vx_frame *fr);

/*
 * Outbound: copy a whole message into the queue; descriptors are duplicated
 * (F_DUPFD_CLOEXEC), the caller keeps its own.  Nothing is queued unless it
 * returns 0.  VX_ERR_INVALID: len < 16, msg_size != len or nfds < 0;
 * VX_ERR_TOO_LARGE: len > peer_max_msg_size; VX_ERR_FDS: nfds >
 * peer_max_fds (or VX_MAX_FDS); VX_ERR_IO: dup failed; VX_ERR_NOMEM.
 */
int vx_framer_queue(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds);

/*
 * Queue msg to go in two writes, as a stream socket allows and some
 * servers cannot take: its first `at` bytes alone, then, once the peer
 * has read them (SIOCOUTQ 0) or wait_ms have passed since, the rest with
 * the descriptors; what follows goes once the peer has read that too, so
 * that each part comes in a read of its own.  0 < at < len (ignored
 * when it ends a join: see vx_framer_join_next); up to
 * VX_FRAMER_HOLDS / 2 such messages queued (VX_ERR_BUSY), else as
 * vx_framer_queue().
 */
int vx_framer_queue_split(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds, size_t at, int wait_ms);
/* 1 while output waits for the peer to read a split message's part, or
 * for a join's last message (vx_framer_join_next): poll for nothing,
 * call flush again in a millisecond. */
int vx_framer_held(const struct vx_framer *f);
/*
 * The next message queued goes in one write with the message after it
 * (and, called again before that one is queued, with the one after that):
 * nothing of them is written until the last is queued, or wait_ms after
 * the first was, and the last one's descriptors come with the write's
 * first byte, as a client that joins messages in one sendmsg sends them.
 * A split message (queue_split) ends a join: its first write is then half
 * of all the joined bytes.
 */
void vx_framer_join_next(struct vx_framer *f, int wait_ms);

/*
 * Outbound bytes that are no message (a relay passing on what it could
 * not frame): queued in order after what is there, unchecked, no
 * descriptors.  0 or VX_ERR_NOMEM.
 */
int vx_framer_queue_raw(struct vx_framer *f, const void *bytes, size_t n);

/*
 * Write as much queued output as the socket takes: a message with
 * descriptors in a sendmsg of its own, with them (on its first byte), so
 * that readers of either kind (see Descriptors) give them to it; runs of
 * messages without descriptors in one sendmsg.  Returns 0 when the queue is empty,
 * VX_ERR_AGAIN (call again on POLLOUT), VX_ERR_CLOSED (EPIPE, ECONNRESET),
 * VX_ERR_IO (errno) or VX_ERR_INVALID (no socket).
 */
int vx_framer_flush(struct vx_framer *f);

/* Forget the output not yet written, closing its descriptors: nobody is
 * left to deliver it to. */
void vx_framer_drop_output(struct vx_framer *f);

/* 1 if output is queued, else 0. */
int vx_framer_pending(const struct vx_framer *f);
/* Bytes of output queued, not yet written. */
size_t vx_framer_backlog(const struct vx_framer *f);

/* 1 if part of an inbound message is held (its rest not yet read), else 0:
 * what a deadline on slow senders watches. */
int vx_framer_partial(const struct vx_framer *f);
/* 1 if a whole inbound message is buffered: vx_framer_next() has one. */
int vx_framer_ready(const struct vx_framer *f);

/*
 * Blocking wrappers (poll; timeout_ms -1 waits forever, 0 tries once).
 * vx_send_msg queues the message and flushes everything queued; on
 * VX_ERR_TIMEOUT the rest stays queued.  vx_recv_frame returns 0 with a
 * frame in *out (check out->bad), or the first error of recv/next other
 * than VX_ERR_AGAIN and VX_ERR_FDS (whose message comes out bad), or
 * VX_ERR_TIMEOUT.
 */
int vx_send_msg(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds, int timeout_ms);
int vx_recv_frame(struct vx_framer *f, struct vx_frame *out, int timeout_ms);

#endif /* VX_FRAMER_H */
