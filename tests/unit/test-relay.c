/*
 * test-relay.c - vx_relay between a scripted client (a socketpair) and a
 * scripted server (a listening socket): the open hook's credentials, a
 * message split at every byte, several messages in one write, descriptors
 * that stay with their message, unframeable bytes forwarded raw, a forward
 * hook that rewrites bytes and drops descriptors while the message hook
 * saw the original, the end and its hooks in order; reading ahead: a burst
 * with a descriptor in the middle taken in one wakeup, hooks in order, the
 * message with the descriptor forwarded alone, the guess noted; a large
 * message with a descriptor split over many reads; no descriptor leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-relay.h"
#include "vx-sock.h"
#include "vx-wire.h"
#include "helpers.h"
#include "unit.h"

/* What the hooks saw. */
struct seen {
	int opened, closed, messages, raws;
	pid_t pid;
	uid_t uid;
	uint64_t last_seq;
	int last_dir, last_nfds;
	uint16_t last_id, last_cmd;
	uint8_t last[64];	/* the first bytes of the last message */
	size_t last_len, raw_len;
	char notes[1024];	/* every note, ';'-separated */
	char order[64];		/* 'o'pen, 'm'essage, 'n'ote, 'c'lose */
	int drop_fds;		/* forward: drop descriptors, flip byte 16 */
	struct {		/* the last messages, as the hook saw them */
		uint64_t seq, ts;
		uint16_t id;
		int nfds;
	} log[8];
};

static void
order(struct seen *s, char c)
{
	size_t n = strlen(s->order);

	if (n + 1 < sizeof(s->order))
		s->order[n] = c;
}

static void
h_open(void *arg, const struct vx_relay_peer *p)
{
	struct seen *s = arg;

	s->opened++;
	s->pid = p->pid;
	s->uid = p->uid;
	order(s, 'o');
}

static void
h_message(void *arg, const struct vx_relay_msg *m)
{
	struct seen *s = arg;
	size_t n = m->frame->len < sizeof(s->last) ? m->frame->len :
	    sizeof(s->last);

	s->log[s->messages % 8].seq = m->seq;
	s->log[s->messages % 8].ts = m->ts_ns;
	s->log[s->messages % 8].id = m->id;
	s->log[s->messages % 8].nfds = m->frame->nfds;
	s->messages++;
	s->last_seq = m->seq;
	s->last_dir = m->dir;
	s->last_id = m->id;
	s->last_cmd = m->cmd;
	s->last_nfds = m->frame->nfds;
	s->last_len = m->frame->len;
	memcpy(s->last, m->frame->data, n);
	order(s, 'm');
}

static void
h_forward(void *arg, struct vx_relay_msg *m, int *fds, int *nfds)
{
	struct seen *s = arg;

	(void)fds;
	if (!s->drop_fds || m->frame->len <= VX_HDR_SIZE)
		return;
	m->frame->data[VX_HDR_SIZE] ^= 0xff;
	*nfds = 0;
}

static void
h_raw(void *arg, int chan, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct seen *s = arg;

	(void)chan, (void)dir, (void)p, (void)ts;
	s->raws++;
	s->raw_len += n;
}

static void
h_note(void *arg, int chan, int dir, const char *text)
{
	struct seen *s = arg;
	size_t n = strlen(s->notes);

	(void)chan, (void)dir;
	snprintf(s->notes + n, sizeof(s->notes) - n, "%s;", text);
	order(s, 'n');
}

static void
h_close(void *arg, const struct vx_relay_peer *p)
{
	struct seen *s = arg;

	(void)p;
	s->closed++;
	order(s, 'c');
}

static const struct vx_relay_hooks hooks = {
	h_open, h_message, h_forward, h_raw, NULL, h_note, h_close
};

/* One wakeup of the relay at time now: poll (up to 1 s), step. */
static void
turn_at(struct vx_relay *rl, uint64_t now)
{
	struct pollfd pfd[16];
	unsigned n = vx_relay_pollfds(rl, pfd);

	poll(pfd, n, 1000);
	vx_relay_step(rl, pfd, n, now);
}

static void
turn(struct vx_relay *rl)
{
	turn_at(rl, 0);
}

/* One recvmsg of up to cap bytes; *nfds descriptors came (and are closed). */
static ssize_t
read_once(int sock, uint8_t *buf, size_t cap, int *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	size_t i;
	int fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	*nfds = 0;
	n = recvmsg(sock, &mh, MSG_DONTWAIT);
	for (c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c))
		for (i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
			(*nfds)++;
		}
	return n;
}

/*
 * Turn the relay until want bytes arrived on sock (at most 200 turns);
 * descriptors that came with the byte at offset fd_at are counted in
 * *nfds (and closed), others in *stray.  Returns the bytes read.
 */
static size_t
drain(struct vx_relay *rl, int sock, uint8_t *buf, size_t want,
    size_t fd_at, int *nfds, int *stray)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	size_t have = 0, i, k;
	ssize_t r;
	int fd, turns;

	*nfds = *stray = 0;
	for (turns = 0; have < want && turns < 200; turns++) {
		turn(rl);
		for (;;) {
			/* to the boundary at fd_at, so its fds come alone */
			iov.iov_base = buf + have;
			iov.iov_len = have < fd_at ? fd_at - have : want - have;
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			mh.msg_control = cm.b;
			mh.msg_controllen = sizeof(cm.b);
			if (iov.iov_len == 0 ||
			    (r = recvmsg(sock, &mh, MSG_DONTWAIT)) <= 0)
				break;
			for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (i = 0; i < k; i++) {
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
					    sizeof(int));
					close(fd);
					if (have == fd_at)
						(*nfds)++;
					else
						(*stray)++;
				}
			}
			have += (size_t)r;
		}
	}
	return have;
}

#define BIG	300000

/*
 * A small message, then a BIG one with a descriptor, written by a framer
 * as the relay reads: the descriptor comes with the big one's first read,
 * which holds the small one too.  Both arrive whole, the descriptor with
 * the big one.
 */
static void
big_split(struct vx_relay *rl, int cfd, int sfd, struct seen *s)
{
	struct vx_framer cf, sf;
	struct vx_frame fr[2];
	uint8_t *m;
	size_t n1;
	int p[2], turns, n = 0, r;

	if ((m = malloc(24 + BIG)) == NULL || pipe2(p, O_CLOEXEC) < 0)
		abort();
	n1 = unit_mkmsg(m, 24, 30, VX_CMD_REGION_READ, 0);
	unit_mkmsg(m + n1, BIG, 31, VX_CMD_DMA_MAP, 0);
	vx_framer_init(&cf, cfd, NULL);
	vx_framer_init(&sf, sfd, NULL);
	vx_framer_set_peer_limits(&cf, 1, BIG);
	r = vx_framer_queue(&cf, m, n1, NULL, 0);
	r |= vx_framer_queue(&cf, m + n1, BIG, &p[0], 1);
	for (turns = 0; r == 0 && n < 2 && turns < 1000; turns++) {
		r = vx_framer_flush(&cf);
		r = r == VX_ERR_AGAIN ? 0 : r;
		turn(rl);
		while (vx_framer_recv(&sf) >= 0 && n < 2)
			while (n < 2 && vx_framer_next(&sf, &fr[n]) == 1)
				n++;
	}
	ok(n == 2 && fr[0].len == n1 && fr[0].nfds == 0 && fr[1].len == BIG &&
	    memcmp(fr[1].data, m + n1, BIG) == 0 && fr[1].nfds == 1 &&
	    s->last_id == 31 && s->last_nfds == 1,
	    "a %u-byte message with a descriptor after a small one, over many "
	    "reads: whole, the descriptor with it", BIG);
	while (n > 0)
		vx_frame_release(&fr[--n]);
	vx_framer_release(&cf);
	vx_framer_release(&sf);
	close(p[0]);
	close(p[1]);
	free(m);
}

static void
test_relay(const char *path, int lfd)
{
	struct seen s;
	struct vx_relay *rl = NULL;
	uint8_t m[200], got[200], flipped;
	size_t n1, n2, n3, n4, i, have;
	ssize_t r1, r2;
	int cl[2], p[2], srv, rc, nfds, stray, turns, before, j, k, f1, f2;
	size_t notes_before;

	memset(&s, 0, sizeof(s));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cl) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0)
		abort();
	rc = vx_relay_new(cl[1], path, NULL, &hooks, &s, 0, &rl);
	srv = vx_sock_accept(lfd);
	ok(rc == 0 && rl != NULL && srv >= 0, "relay connected to the server");
	if (rc < 0 || srv < 0)
		return;
	ok(s.opened == 1 && s.pid == getpid() && s.uid == geteuid(),
	    "open hook with the client's credentials");

	/* a message split at every byte */
	n1 = unit_mkmsg(m, 40, 7, VX_CMD_REGION_READ, 0);
	for (i = 0; i < n1; i++) {
		if (write(cl[0], m + i, 1) != 1)
			abort();
		turn(rl);
	}
	have = drain(rl, srv, got, n1, n1, &nfds, &stray);
	ok(have == n1 && memcmp(got, m, n1) == 0 && s.messages == 1 &&
	    s.last_seq == 0 && s.last_id == 7 && s.last_cmd ==
	    VX_CMD_REGION_READ && s.last_dir == VX_C2S && s.last_len == n1,
	    "a message written a byte at a time goes on whole, once");

	/* three in one write, then one with a descriptor */
	n1 = unit_mkmsg(m, 24, 8, VX_CMD_REGION_READ, 0);
	n2 = unit_mkmsg(m + n1, 32, 9, VX_CMD_REGION_WRITE, 0);
	n3 = unit_mkmsg(m + n1 + n2, 16, 10, VX_CMD_DEVICE_RESET, 0);
	if (write(cl[0], m, n1 + n2 + n3) != (ssize_t)(n1 + n2 + n3))
		abort();
	have = drain(rl, srv, got, n1 + n2 + n3, 0, &nfds, &stray);
	ok(have == n1 + n2 + n3 && memcmp(got, m, have) == 0 &&
	    s.messages == 4 && s.last_seq == 3 && s.last_id == 10,
	    "three messages in one write: in order, numbered 1..3");
	n1 = unit_mkmsg(m, 24, 11, VX_CMD_REGION_READ, 0);
	n2 = unit_mkmsg(m + n1, 48, 12, VX_CMD_DMA_MAP, 0);
	if (write(cl[0], m, n1) != (ssize_t)n1 ||
	    unit_send_fds(cl[0], m + n1, n2, &p[0], 1) < 0)
		abort();
	have = drain(rl, srv, got, n1 + n2, n1, &nfds, &stray);
	ok(have == n1 + n2 && nfds == 1 && stray == 0 && s.last_nfds == 1,
	    "a descriptor stays with its message (%d with it, %d stray)",
	    nfds, stray);

	/* a burst, all sent before the relay wakes: each message in a
	 * sendmsg of its own, the third with a descriptor */
	n1 = unit_mkmsg(m, 24, 20, VX_CMD_REGION_READ, 0);
	n2 = unit_mkmsg(m + n1, 28, 21, VX_CMD_REGION_READ, 0);
	n3 = unit_mkmsg(m + n1 + n2, 48, 22, VX_CMD_DMA_MAP, 0);
	n4 = unit_mkmsg(m + n1 + n2 + n3, 16, 23, VX_CMD_DEVICE_RESET, 0);
	if (unit_send_fds(cl[0], m, n1, NULL, 0) < 0 ||
	    unit_send_fds(cl[0], m + n1, n2, NULL, 0) < 0 ||
	    unit_send_fds(cl[0], m + n1 + n2, n3, &p[0], 1) < 0 ||
	    unit_send_fds(cl[0], m + n1 + n2 + n3, n4, NULL, 0) < 0)
		abort();
	before = s.messages;
	notes_before = strlen(s.notes);
	turn_at(rl, 1000);
	for (i = 0, k = 0; i < 4 && s.messages - before == 4; i++) {
		j = (before + i) % 8;
		k += s.log[j].seq == 6 + i && s.log[j].ts == 1000 &&
		    s.log[j].id == 20 + i && s.log[j].nfds == (i == 2);
	}
	ok(s.messages - before == 4 && k == 4,
	    "a burst with a descriptor in the middle: one wakeup, the hook sees "
	    "each message in order, seq 6..9, its time, the descriptor on the "
	    "third");
	ok(strlen(s.notes) == notes_before, "no note: the descriptor went to "
	    "the last message of its read, a DMA_MAP, which carries one");
	r1 = read_once(srv, got, sizeof(got), &f1);
	r2 = r1 > 0 ? read_once(srv, got + r1, sizeof(got) - r1, &f2) : -1;
	ok(r1 == (ssize_t)(n1 + n2 + n3) && f1 == 1 && r2 == (ssize_t)n4 &&
	    f2 == 0 && memcmp(got, m, n1 + n2 + n3 + n4) == 0,
	    "forwarded: the first two together, the descriptor's message alone "
	    "with it, so a reader that reads ahead stops after it (reads of "
	    "%zd and %zd bytes)", r1, r2);

	/* the same rule gives a descriptor to a REGION_WRITE: said */
	n1 = unit_mkmsg(m, 24, 24, VX_CMD_REGION_READ, 0);
	n2 = unit_mkmsg(m + n1, 28, 25, VX_CMD_REGION_WRITE, 0);
	if (unit_send_fds(cl[0], m, n1, NULL, 0) < 0 ||
	    unit_send_fds(cl[0], m + n1, n2, &p[0], 1) < 0)
		abort();
	turn(rl);
	ok(s.last_id == 25 && s.last_nfds == 1 &&
	    strstr(s.notes + notes_before, "1 descriptors came in one read "
	    "with other messages and went to the last, REGION_WRITE command "
	    "msg_id 0x0019 seq 11, which never carries any") != NULL,
	    "a descriptor given by the rule to a kind that never carries one "
	    "is noted");
	have = drain(rl, srv, got, n1 + n2, n1, &nfds, &stray);
	ok(have == n1 + n2 && nfds == 1 && stray == 0,
	    "and forwarded with it");

	big_split(rl, cl[0], srv, &s);

	/* unframeable: msg_size 8, forwarded raw; then framing resumes */
	n1 = unit_mkmsg(m, VX_HDR_SIZE, 13, VX_CMD_REGION_READ, 0);
	m[4] = 8;
	n2 = unit_mkmsg(m + n1, 20, 14, VX_CMD_REGION_READ, 0);
	if (write(cl[0], m, n1 + n2) != (ssize_t)(n1 + n2))
		abort();
	have = drain(rl, srv, got, n1 + n2, 0, &nfds, &stray);
	ok(have == n1 + n2 && memcmp(got, m, have) == 0 && s.raws == 1 &&
	    s.raw_len == VX_HDR_SIZE && s.last_id == 14 &&
	    strstr(s.notes, "framing lost: msg_size 8 is below 16;") &&
	    strstr(s.notes, "framing resumed;"),
	    "unframeable bytes go on raw, framing resumes after them");
	n1 = unit_mkmsg(m, VX_HDR_SIZE, 16, VX_CMD_REGION_READ, 0);
	m[4] = 8;
	n2 = unit_mkmsg(m + n1, 20, 17, VX_CMD_REGION_READ, 0);
	if (unit_send_fds(cl[0], m, n1, &p[0], 1) < 0 ||
	    write(cl[0], m + n1, n2) != (ssize_t)n2)
		abort();
	have = drain(rl, srv, got, n1 + n2, 0, &nfds, &stray);
	ok(have == n1 + n2 && nfds + stray == 0 && strstr(s.notes,
	    "1 descriptors came with unframeable bytes: not passed on;"),
	    "descriptors that came with unframeable bytes: dropped, said");

	/* the forward hook rewrites; the message hook saw the original */
	s.drop_fds = 1;
	n1 = unit_mkmsg(m, 24, 15, VX_CMD_DEVICE_GET_REGION_INFO, VX_F_TYPE_REPLY);
	if (unit_send_fds(srv, m, n1, &p[1], 1) < 0)
		abort();
	have = drain(rl, cl[0], got, n1, 0, &nfds, &stray);
	flipped = (uint8_t)~m[VX_HDR_SIZE];
	ok(have == n1 && got[VX_HDR_SIZE] == flipped &&
	    memcmp(got + VX_HDR_SIZE + 1, m + VX_HDR_SIZE + 1,
	    n1 - VX_HDR_SIZE - 1) == 0 && nfds + stray == 0,
	    "forward hook: bytes rewritten, descriptor dropped");
	ok(s.last_dir == VX_S2C && s.last_seq == 0 && s.last_nfds == 1 &&
	    memcmp(s.last, m, n1) == 0,
	    "message hook saw what the server sent");

	/* the server hangs up: done, then free says so and closes */
	close(srv);
	for (turns = 0; !vx_relay_done(rl) && turns < 200; turns++)
		turn(rl);
	ok(vx_relay_done(rl), "done once the server hung up");
	memset(s.order, 0, sizeof(s.order));
	vx_relay_free(rl, 0);
	ok(s.closed == 1 && strcmp(s.order, "nc") == 0 &&
	    strstr(s.notes, "the server closed the connection;"),
	    "free: who ended it, then the close hook (%s)", s.order);
	close(cl[0]);
	close(p[0]);
	close(p[1]);
}

static void
test_no_server(const char *dir)
{
	struct seen s;
	struct vx_relay *rl = (struct vx_relay *)&s;
	char path[256];
	int cl[2], rc;

	memset(&s, 0, sizeof(s));
	snprintf(path, sizeof(path), "%s/nobody.sock", dir);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cl) < 0)
		abort();
	rc = vx_relay_new(cl[1], path, NULL, &hooks, &s, 0, &rl);
	ok(rc == VX_ERR_IO && rl == NULL && strcmp(s.order, "onc") == 0 &&
	    strstr(s.notes, "cannot connect to the server at"),
	    "no server: open, a note why, close; the client's socket closed");
	ok(read(cl[0], path, 1) == 0, "the client sees the end");
	close(cl[0]);
}

int
main(void)
{
	char dir[64], path[96];
	int lfd, nfd;

	if (unit_mkdtemp(dir, sizeof(dir), "test-relay") < 0)
		abort();
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	nfd = unit_count_fds();
	if ((lfd = vx_sock_listen(path, 0600, 4)) < 0)
		abort();
	test_relay(path, lfd);
	test_no_server(dir);
	close(lfd);
	unlink(path);
	rmdir(dir);
	ok(unit_count_fds() == nfd, "no descriptor leaks (%d open)", unit_count_fds());
	return unit_done();
}
