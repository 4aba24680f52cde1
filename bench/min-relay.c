/*
 * min-relay.c - the floor any man in the middle pays: accept a client on
 * LISTEN, connect to SERVER, and copy bytes and descriptors both ways with
 * poll, recvmsg and sendmsg.  It frames nothing and records nothing.
 *
 * usage: min-relay LISTEN SERVER
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXFDS	253

static int
unix_sock(const char *path, int listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if (listening) {
		unlink(path);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(s, 16) < 0)
			return -1;
	} else if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		return -1;
	}
	return s;
}

/* Move what is there from a to b, descriptors included; -1 at the end. */
static int
pump(int a, int b)
{
	static char buf[1 << 16];
	char cbuf[CMSG_SPACE(MAXFDS * sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	ssize_t n, off = 0;
	int i, nfds = 0, *fds = NULL;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(a, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_RIGHTS) {
			fds = (int *)CMSG_DATA(c);
			nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		}
	while (off < n) {
		struct iovec o = { buf + off, (size_t)(n - off) };
		struct msghdr om = { 0 };
		ssize_t w;

		om.msg_iov = &o;
		om.msg_iovlen = 1;
		if (nfds > 0 && off == 0) {
			om.msg_control = cbuf;
			om.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&om);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memmove(CMSG_DATA(c), fds, nfds * sizeof(int));
			fds = (int *)CMSG_DATA(c);
		}
		if ((w = sendmsg(b, &om, MSG_NOSIGNAL)) <= 0)
			return -1;
		off += w;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	int l, c, s;

	if (argc != 3) {
		fprintf(stderr, "usage: min-relay LISTEN SERVER\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((l = unix_sock(argv[1], 1)) < 0) {
		perror("min-relay");
		return 1;
	}
	while ((c = accept(l, NULL, NULL)) >= 0) {
		struct pollfd p[2];

		if ((s = unix_sock(argv[2], 0)) < 0) {
			close(c);
			continue;
		}
		p[0].fd = c;
		p[1].fd = s;
		p[0].events = p[1].events = POLLIN;
		for (;;) {
			if (poll(p, 2, -1) < 0)
				break;
			if ((p[0].revents && pump(c, s) < 0) ||
			    (p[1].revents && pump(s, c) < 0))
				break;
		}
		close(c);
		close(s);
	}
	return 0;
}
