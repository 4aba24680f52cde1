/*
 * test-relay.c - vx_relay between a scripted client (a socketpair) and a
 * scripted server (a listening socket): the open hook's credentials, a
 * message split at every byte, several messages in one write, descriptors
 * that stay with their message, unframeable bytes forwarded raw, a forward
 * hook that rewrites bytes and drops descriptors while the message hook
 * saw the original, the end and its hooks in order; no descriptor leaks.
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

/* One wakeup of the relay: poll its descriptors (up to 1 s), step. */
static void
turn(struct vx_relay *rl)
{
	struct pollfd pfd[16];
	unsigned n = vx_relay_pollfds(rl, pfd);

	poll(pfd, n, 1000);
	vx_relay_step(rl, pfd, n, 0);
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

static void
test_relay(const char *path, int lfd)
{
	struct seen s;
	struct vx_relay *rl = NULL;
	uint8_t m[200], got[200], flipped;
	size_t n1, n2, n3, i, have;
	int cl[2], p[2], srv, rc, nfds, stray, turns;

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
