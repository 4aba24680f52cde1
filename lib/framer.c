/*
 * framer.c - incremental vfio-user framing with descriptor attribution.
 *
 * Inbound bytes go to in (a staging buffer); tail is the stream offset of
 * the first message not yet whole, so [in.head, tail) holds whole messages
 * ready for vx_framer_next().  Descriptors are kept in stream order with the
 * offset of the first byte of the chunk they came with (reading ahead: its
 * last byte); a message takes those below its end.
 * Offsets are absolute (uint64_t) so compacting a buffer moves no records.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-framer.h"
#include "vx-sock.h"

/* cmsg room for the kernel's SCM_MAX_FD descriptors */
union vx_cmsg {
	struct cmsghdr h;
	char b[CMSG_SPACE(VX_MAX_FDS * sizeof(int))];
};

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Closing must not clobber the errno a VX_ERR_IO return reports. */
static void
close_fds(const int *fds, int n)
{
	int i, saved = errno;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	errno = saved;
}

/* 0 if hdr frames a message we accept, else why not. */
static int
hdr_check(const struct vx_framer *f, const uint8_t *hdr)
{
	uint32_t size = get_le32(hdr + VX_HDR_OFF_SIZE);

	if (size < VX_HDR_SIZE)
		return VX_ERR_INVALID;
	if (size > f->lim.max_msg_size)
		return VX_ERR_TOO_LARGE;
	return 0;
}

/* Bytes of the message at hdr: a bad header stands alone. */
static size_t
frame_len(const struct vx_framer *f, const uint8_t *hdr)
{
	if (hdr_check(f, hdr) != 0)
		return VX_HDR_SIZE;
	return get_le32(hdr + VX_HDR_OFF_SIZE);
}

/* Capacity for need bytes, contents kept; grows geometrically. */
static int
grow(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *np;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = need < 4096 ? 4096 : need;
	if (*cap <= SIZE_MAX / 2 && 2 * *cap > ncap)
		ncap = 2 * *cap;
	if ((np = realloc(*p, ncap)) == NULL)
		return VX_ERR_NOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Room for n more bytes at the end: drop what was taken, then grow. */
static int
bytes_reserve(struct vx_bytes *b, size_t n)
{
	if (b->head > 0) {
		memmove(b->p, b->p + b->head, b->len - b->head);
		b->base += b->head;
		b->len -= b->head;
		b->head = 0;
	}
	if (n > SIZE_MAX - b->len)
		return VX_ERR_NOMEM;
	return grow(&b->p, &b->cap, b->len + n);
}

static int
fdq_reserve(struct vx_bytes *b, int n)
{
	struct vx_fdrec *nv;
	int ncap;

	if (b->nfd + n <= b->fdcap)
		return 0;
	ncap = b->fdcap * 2 > b->nfd + n ? b->fdcap * 2 : b->nfd + n + 16;
	if ((nv = realloc(b->fdv, ncap * sizeof(*nv))) == NULL)
		return VX_ERR_NOMEM;
	b->fdv = nv;
	b->fdcap = ncap;
	return 0;
}

static void
fdq_push(struct vx_bytes *b, uint64_t off, int fd, int guess)
{
	b->fdv[b->nfd].off = off;
	b->fdv[b->nfd].fd = fd;
	b->fdv[b->nfd].guess = guess;
	b->nfd++;
}

/* Forget the first n records, closing their descriptors if asked. */
static void
fdq_shift(struct vx_bytes *b, int n, int close_them)
{
	int i, saved = errno;

	if (n == 0)
		return;
	for (i = 0; close_them && i < n; i++)
		if (b->fdv[i].fd >= 0)
			close(b->fdv[i].fd);
	errno = saved;
	b->nfd -= n;
	memmove(b->fdv, b->fdv + n, b->nfd * sizeof(*b->fdv));
}

static void
bytes_free(struct vx_bytes *b)
{
	fdq_shift(b, b->nfd, 1);
	free(b->fdv);
	free(b->p);
}

int
vx_framer_init(struct vx_framer *f, int sockfd, const struct vx_limits *lim)
{
	static const struct vx_limits def = VX_LIMITS_DEFAULT;

	if (lim == NULL)
		lim = &def;
	if (lim->max_msg_size < VX_HDR_SIZE || lim->max_fds < 0 ||
	    lim->max_fds > VX_MAX_FDS)
		return VX_ERR_INVALID;
	if (lim->max_msg_size > VX_MAX_MSG_CAP)
		return VX_ERR_TOO_LARGE;
	memset(f, 0, sizeof(*f));
	f->sock = sockfd;
	f->lim = *lim;
	f->peer_max_fds = VX_DEF_MAX_MSG_FDS;
	f->peer_max_msg_size = VX_DEF_MAX_MSG;
	return 0;
}

void
vx_framer_release(struct vx_framer *f)
{
	int i;

	bytes_free(&f->in);
	bytes_free(&f->out);
	for (i = 0; i < f->nspare; i++)
		free(f->spare[i].p);
	memset(f, 0, sizeof(*f));
	f->sock = -1;
}

void
vx_framer_set_sock(struct vx_framer *f, int sockfd)
{
	f->sock = sockfd;
}

const struct vx_limits *
vx_framer_limits(const struct vx_framer *f)
{
	return &f->lim;
}

void
vx_framer_set_readahead(struct vx_framer *f, size_t room)
{
	f->readahead = room;
}

void
vx_framer_set_peer_limits(struct vx_framer *f, int max_fds,
    uint32_t max_msg_size)
{
	f->peer_max_fds = max_fds < 0 ? 0 : max_fds > VX_MAX_FDS ?
	    VX_MAX_FDS : max_fds;
	f->peer_max_msg_size = max_msg_size;
}

int
vx_framer_peer_max_fds(const struct vx_framer *f)
{
	return f->peer_max_fds;
}

uint32_t
vx_framer_peer_max_msg_size(const struct vx_framer *f)
{
	return f->peer_max_msg_size;
}

/*
 * Advance tail over every message that is now whole.  Returns the start of
 * the message that holds the last byte (tail if there is none) and counts
 * in *starts the messages that start at or after stream offset from (a
 * header that cannot be framed is no message).
 */
static uint64_t
scan(struct vx_framer *f, uint64_t from, int *starts)
{
	struct vx_bytes *in = &f->in;
	size_t t = f->tail - in->base, last = t, n;

	*starts = 0;
	while (t < in->len) {
		last = t;
		if (in->len - t < VX_HDR_SIZE) {
			*starts += in->base + t >= from;
			break;
		}
		*starts += in->base + t >= from && hdr_check(f, in->p + t) == 0;
		n = frame_len(f, in->p + t);
		if (in->len - t < n)
			break;
		t += n;
	}
	f->tail = in->base + t;
	return in->base + last;
}

/*
 * Pin descriptors at stream offset off to the message starting at owner:
 * every record at or past owner is that message's too.  Over the limit
 * (or drop, for MSG_CTRUNC) all of them are closed and one -1 record
 * marks the message.  The caller reserved room for nfds + 1 records.
 */
static int
in_add_fds(struct vx_framer *f, uint64_t owner, uint64_t off, const int *fds,
    int nfds, int drop, int guess)
{
	struct vx_bytes *in = &f->in;
	int first, i;

	if (nfds == 0 && !drop)
		return 0;
	for (first = in->nfd; first > 0 && in->fdv[first - 1].off >= owner;
	    first--)
		;
	if (first < in->nfd && in->fdv[first].fd < 0)
		drop = 1;	/* already marked */
	if (!drop && in->nfd - first + nfds <= f->lim.max_fds) {
		for (i = 0; i < nfds; i++)
			fdq_push(in, off, fds[i], guess);
		return 0;
	}
	close_fds(fds, nfds);
	for (i = first; i < in->nfd; i++)
		close_fds(&in->fdv[i].fd, 1);
	in->nfd = first;
	fdq_push(in, owner, -1, 0);
	return VX_ERR_FDS;
}

/*
 * n bytes were put at in.len, with nfds descriptors (room for nfds + 1
 * records reserved): take them, frame what is whole, and give the
 * descriptors to their message (see Descriptors in vx-framer.h).
 */
static int
in_took(struct vx_framer *f, size_t n, const int *fds, int nfds, int drop)
{
	struct vx_bytes *in = &f->in;
	uint64_t first = in->base + in->len, owner = f->tail, last;
	int starts;

	in->len += n;
	last = scan(f, first, &starts);
	if (f->readahead == 0 || n == 0)
		return in_add_fds(f, owner, first, fds, nfds, drop, 0);
	return in_add_fds(f, last, in->base + in->len - 1, fds, nfds, drop,
	    starts > 1);
}

static int
msg_ready(const struct vx_framer *f)
{
	return f->in.base + f->in.head < f->tail;
}

int
vx_framer_feed(struct vx_framer *f, const void *bytes, size_t n,
    const int *fds, int nfds)
{
	int r;

	if (nfds < 0)
		return VX_ERR_INVALID;
	if ((r = bytes_reserve(&f->in, n)) < 0 ||
	    (r = fdq_reserve(&f->in, nfds + 1)) < 0) {
		close_fds(fds, nfds);
		return r;
	}
	if (n > 0)
		memcpy(f->in.p + f->in.len, bytes, n);
	return in_took(f, n, fds, nfds, 0);
}

/* Bytes left before the end of the message being assembled. */
static size_t
in_want(const struct vx_framer *f)
{
	const struct vx_bytes *in = &f->in;
	size_t t = f->tail - in->base, have = in->len - t;

	if (have < VX_HDR_SIZE)
		return VX_HDR_SIZE - have;
	return frame_len(f, in->p + t) - have;
}

/* Collect SCM_RIGHTS descriptors; any beyond VX_MAX_FDS count as cut off. */
static int
cmsg_fds(struct msghdr *mh, int *fds)
{
	struct cmsghdr *c;
	size_t i, k;
	int fd, n = 0;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < VX_MAX_FDS)
				fds[n++] = fd;
			else {
				close_fds(&fd, 1);
				mh->msg_flags |= MSG_CTRUNC;
			}
		}
	}
	return n;
}

int
vx_framer_recv(struct vx_framer *f)
{
	struct vx_bytes *in = &f->in;
	union vx_cmsg cm;
	struct msghdr mh;
	struct iovec iov;
	int fds[VX_MAX_FDS];
	size_t want;
	ssize_t n;
	int nfds, drop, r;

	if (f->sock < 0)
		return VX_ERR_INVALID;
	if (msg_ready(f))
		return 1;
	want = in_want(f);
	if (want < f->readahead)
		want = f->readahead;
	if ((r = bytes_reserve(in, want)) < 0)
		return r;
	iov.iov_base = in->p + in->len;
	iov.iov_len = want;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(f->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	f->drained = n < 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ?
		    VX_ERR_AGAIN : VX_ERR_IO;
	nfds = cmsg_fds(&mh, fds);
	drop = (mh.msg_flags & MSG_CTRUNC) != 0;
	if (n == 0) {
		close_fds(fds, nfds);
		return in->base + in->len > f->tail ?
		    VX_ERR_TRUNCATED : VX_ERR_CLOSED;
	}
	/* A short read that descriptors did not cut short emptied the socket. */
	f->drained = (size_t)n < want && nfds == 0 && !drop;
	if (fdq_reserve(in, nfds + 1) < 0) {
		close_fds(fds, nfds);
		in_took(f, (size_t)n, NULL, 0, 0);
		return VX_ERR_NOMEM;
	}
	r = in_took(f, (size_t)n, fds, nfds, drop);
	return r < 0 ? r : msg_ready(f);
}

/*
 * Put the message at in.head into out: the staging buffer itself when it
 * holds only that message (recv's case: no copy), else a copy in a spare.
 * Reading ahead, a message smaller than the read is copied: the staging
 * buffer keeps its room for the next read.
 */
static int
take_buf(struct vx_framer *f, struct vx_frame *out, size_t len)
{
	struct vx_bytes *in = &f->in;
	struct vx_spare s = { NULL, 0 };

	if (f->nspare > 0)
		s = f->spare[--f->nspare];
	if (in->head == 0 && in->len == len && len >= f->readahead) {
		out->data = in->p;
		out->cap = in->cap;
		in->p = s.p;
		in->cap = s.cap;
		in->base += len;
		in->len = 0;
		return 0;
	}
	if (grow(&s.p, &s.cap, len) < 0) {
		f->spare[f->nspare++] = s;
		return VX_ERR_NOMEM;
	}
	memcpy(s.p, in->p + in->head, len);
	out->data = s.p;
	out->cap = s.cap;
	in->head += len;
	return 0;
}

int
vx_framer_next(struct vx_framer *f, struct vx_frame *out)
{
	struct vx_bytes *in = &f->in;
	uint64_t end;
	size_t len;
	int bad, i, r;

	if (!msg_ready(f))
		return 0;
	bad = hdr_check(f, in->p + in->head);
	len = bad ? VX_HDR_SIZE : get_le32(in->p + in->head + VX_HDR_OFF_SIZE);
	end = in->base + in->head + len;
	if ((r = take_buf(f, out, len)) < 0)
		return r;
	out->len = len;
	out->bad = bad;
	out->owner = f;
	out->nfds = 0;
	out->fds_guess = 0;
	for (i = 0; i < in->nfd && in->fdv[i].off < end; i++) {
		if (in->fdv[i].fd >= 0) {
			out->fds[out->nfds++] = in->fdv[i].fd;
			out->fds_guess |= in->fdv[i].guess;
		} else if (out->bad == 0)
			out->bad = VX_ERR_FDS;
	}
	fdq_shift(in, i, 0);
	return 1;
}

void
vx_frame_release(struct vx_frame *fr)
{
	struct vx_framer *f = fr->owner;

	close_fds(fr->fds, fr->nfds);
	if (f != NULL && f->nspare < VX_FRAMER_SPARES) {
		f->spare[f->nspare].p = fr->data;
		f->spare[f->nspare].cap = fr->cap;
		f->nspare++;
	} else
		free(fr->data);
	fr->data = NULL;
	fr->len = fr->cap = 0;
	fr->nfds = 0;
	fr->owner = NULL;
}

static int
out_check(const struct vx_framer *f, const void *msg, size_t len, int nfds)
{
	if (len < VX_HDR_SIZE || nfds < 0 ||
	    get_le32((const uint8_t *)msg + VX_HDR_OFF_SIZE) != len)
		return VX_ERR_INVALID;
	if (len > f->peer_max_msg_size)
		return VX_ERR_TOO_LARGE;
	if (nfds > f->peer_max_fds || nfds > VX_MAX_FDS)
		return VX_ERR_FDS;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queue msg with its descriptors on stream offset fd_at. */
static int
queue_at(struct vx_framer *f, const void *msg, size_t len, const int *fds,
    int nfds, uint64_t fd_at)
{
	struct vx_bytes *o = &f->out;
	int dups[VX_MAX_FDS];
	int i, r;

	if ((r = out_check(f, msg, len, nfds)) < 0 ||
	    (r = bytes_reserve(o, len)) < 0 || (r = fdq_reserve(o, nfds)) < 0)
		return r;
	for (i = 0; i < nfds; i++) {
		if ((dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) < 0) {
			close_fds(dups, i);
			return VX_ERR_IO;
		}
	}
	for (i = 0; i < nfds; i++)
		fdq_push(o, fd_at, dups[i], 0);
	memcpy(o->p + o->len, msg, len);
	o->len += len;
	return 0;
}

int
vx_framer_queue(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds)
{
	uint64_t start = f->out.base + f->out.len;
	int r;

	if (!f->join_next && !f->join_open)
		return queue_at(f, msg, len, fds, nfds, start);
	if ((r = queue_at(f, msg, len, fds, nfds, f->join_open ? f->join_at :
	    start)) < 0)
		return r;
	if (!f->join_open) {
		f->join_open = 1;
		f->join_at = start;
		f->join_deadline = now_ms() + f->join_wait_ms;
	}
	if (f->join_next)
		f->join_next = 0;	/* more to come */
	else {
		f->join_open = 0;	/* the last: the join may go */
		f->join_end = start + len;
	}
	return 0;
}

void
vx_framer_join_next(struct vx_framer *f, int wait_ms)
{
	f->join_next = 1;
	f->join_wait_ms = wait_ms < 0 ? 0 : wait_ms;
}

/* Output is at a split message's hold. */
static int
at_hold(const struct vx_framer *f)
{
	return f->nhold > 0 && f->out.base + f->out.head == f->hold[0].at;
}

/* Output is at a join whose last message is not queued yet. */
static int
at_join(const struct vx_framer *f)
{
	return f->join_open && f->out.base + f->out.head == f->join_at;
}

int
vx_framer_queue_split(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds, size_t at, int wait_ms)
{
	uint64_t start = f->out.base + f->out.len, split = start + at;
	int r;

	if (f->join_open)	/* half of all that goes in the write */
		split = f->join_at + (start - f->join_at + len) / 2;
	else if (at == 0 || at >= len)
		return VX_ERR_INVALID;
	if (f->nhold + 2 > VX_FRAMER_HOLDS)
		return VX_ERR_BUSY;
	if ((r = queue_at(f, msg, len, fds, nfds, split)) < 0)
		return r;
	f->join_next = f->join_open = 0;
	f->hold[f->nhold].at = split;
	f->hold[f->nhold++].rest = 0;
	f->hold[f->nhold].at = start + len;
	f->hold[f->nhold++].rest = 1;
	f->hold_wait_ms = wait_ms < 0 ? 0 : wait_ms;
	return 0;
}

/* At a hold: 1 while the peer has not read all that was written (and
 * the wait is not over), else 0, the hold gone, and writing goes on. */
static int
holding(struct vx_framer *f)
{
	if (!at_hold(f))
		return 0;
	if (f->hold_deadline == 0)
		f->hold_deadline = now_ms() + f->hold_wait_ms;
	if (vx_sock_unread(f->sock) > 0 && now_ms() < f->hold_deadline)
		return 1;
	f->hold_deadline = 0;
	memmove(&f->hold[0], &f->hold[1], (size_t)--f->nhold * sizeof(f->hold[0]));
	return 0;
}

/* At an open join: 1 until its last message is queued or its wait is
 * over; then what is queued goes as it is. */
static int
gated(struct vx_framer *f)
{
	if (!at_join(f))
		return 0;
	if (now_ms() < f->join_deadline)
		return 1;
	f->join_open = f->join_next = 0;
	return 0;
}

int
vx_framer_held(const struct vx_framer *f)
{
	return at_hold(f) || at_join(f);
}

int
vx_framer_queue_raw(struct vx_framer *f, const void *bytes, size_t n)
{
	struct vx_bytes *o = &f->out;
	int r;

	if ((r = bytes_reserve(o, n)) < 0)
		return r;
	memcpy(o->p + o->len, bytes, n);
	o->len += n;
	return 0;
}

/*
 * One sendmsg: a message that carries descriptors alone, with them; else
 * from out.head up to the next such message.  So the descriptors are on
 * their message's first byte, and a reader that reads ahead (whose read
 * stops after them) finds their message last in what it read.
 * Descriptors once sent are closed.
 */
static int
send_some(struct vx_framer *f)
{
	struct vx_bytes *o = &f->out;
	union vx_cmsg cm;
	struct msghdr mh;
	struct iovec iov;
	size_t end = o->len;
	ssize_t n;
	int i, k;

	for (k = 0; k < o->nfd && o->fdv[k].off == o->base + o->head; k++)
		;
	if (k > 0 && f->join_end > o->base + o->head)
		end = f->join_end - o->base;	/* a join, with its descriptors */
	else if (k > 0 && f->nhold > 0 && f->hold[0].rest)
		end = f->hold[0].at - o->base;	/* a split message's rest */
	else if (k > 0 && o->len - o->head >= VX_HDR_SIZE &&
	    get_le32(o->p + o->head + VX_HDR_OFF_SIZE) < o->len - o->head)
		end = o->head + get_le32(o->p + o->head + VX_HDR_OFF_SIZE);
	else if (k == 0 && k < o->nfd)
		end = o->fdv[k].off - o->base;
	if (f->nhold > 0 && f->hold[0].at - o->base < end)
		end = f->hold[0].at - o->base;	/* up to a hold */
	if (f->join_open && f->join_at - o->base < end)
		end = f->join_at - o->base;	/* up to an open join */
	iov.iov_base = o->p + o->head;
	iov.iov_len = end - o->head;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (k > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(k * sizeof(int));
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(k * sizeof(int));
		for (i = 0; i < k; i++)
			memcpy(CMSG_DATA(&cm.h) + i * sizeof(int),
			    &o->fdv[i].fd, sizeof(int));
	}
	do
		n = sendmsg(f->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return VX_ERR_AGAIN;
		return errno == EPIPE || errno == ECONNRESET ?
		    VX_ERR_CLOSED : VX_ERR_IO;
	}
	fdq_shift(o, k, 1);
	o->head += n;
	return 0;
}

int
vx_framer_flush(struct vx_framer *f)
{
	int r;

	if (f->sock < 0)
		return VX_ERR_INVALID;
	while (f->out.head < f->out.len) {
		if (holding(f) || gated(f))
			return VX_ERR_AGAIN;
		if ((r = send_some(f)) < 0)
			return r;
	}
	return 0;
}

void
vx_framer_drop_output(struct vx_framer *f)
{
	struct vx_bytes *o = &f->out;

	fdq_shift(o, o->nfd, 1);
	o->base += o->len;
	o->head = o->len = 0;
	f->nhold = 0;
	f->hold_deadline = 0;
	f->join_next = f->join_open = 0;
	f->join_end = 0;
}

int
vx_framer_pending(const struct vx_framer *f)
{
	return f->out.head < f->out.len;
}

size_t
vx_framer_backlog(const struct vx_framer *f)
{
	return f->out.len - f->out.head;
}

int
vx_framer_drained(const struct vx_framer *f)
{
	return f->drained;
}

int
vx_framer_ready(const struct vx_framer *f)
{
	return msg_ready(f);
}

int
vx_framer_partial(const struct vx_framer *f)
{
	return f->in.base + f->in.len > f->tail;
}

/* Absolute deadline in ms, or -1 for none. */
static int64_t
deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Wait for ev on fd until deadline dl; 0 when ready (or in error). */
static int
wait_io(int fd, short ev, int64_t dl)
{
	struct pollfd p;
	int64_t left;
	int r;

	p.fd = fd;
	p.events = ev;
	do {
		left = dl < 0 ? -1 : dl - now_ms();
		if (dl >= 0 && left < 0)
			left = 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return VX_ERR_IO;
	return r == 0 ? VX_ERR_TIMEOUT : 0;
}

int
vx_send_msg(struct vx_framer *f, const void *msg, size_t len,
    const int *fds, int nfds, int timeout_ms)
{
	int64_t dl = deadline(timeout_ms);
	int r;

	if ((r = vx_framer_queue(f, msg, len, fds, nfds)) < 0)
		return r;
	while ((r = vx_framer_flush(f)) == VX_ERR_AGAIN)
		if ((r = wait_io(f->sock, POLLOUT, dl)) < 0)
			return r;
	return r;
}

int
vx_recv_frame(struct vx_framer *f, struct vx_frame *out, int timeout_ms)
{
	int64_t dl = deadline(timeout_ms);
	int r;

	for (;;) {
		if ((r = vx_framer_next(f, out)) != 0)
			return r > 0 ? 0 : r;
		r = vx_framer_recv(f);
		if (r == VX_ERR_AGAIN)
			r = wait_io(f->sock, POLLIN, dl);
		if (r < 0 && r != VX_ERR_FDS)
			return r;
	}
}
