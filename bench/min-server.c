/*
 * min-server.c - the baseline for vfuctl server's round-trip rate: a
 * minimal correct vfio-user server that answers VERSION and REGION_READ
 * (4 zero bytes) and errors for the rest.  Per message: one recvmsg of the
 * header with room for SCM_RIGHTS, one read of the body, one sendmsg of
 * the reply.  It checks what any server must (size, type) and no more.
 *
 * usage: min-server SOCKET
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "vx-wire.h"

static int
read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void
serve(int c)
{
	static uint8_t body[1 << 20];
	char cbuf[CMSG_SPACE(VX_MAX_FDS * sizeof(int))];
	uint8_t hdr[16], out[64];
	uint32_t size, flags;
	uint16_t cmd;
	struct iovec iov = { hdr, 16 };
	struct msghdr mh;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if (recvmsg(c, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC) != 16)
			return;
		memcpy(&cmd, hdr + 2, 2);
		memcpy(&size, hdr + 4, 4);
		if (size < 16 || size - 16 > sizeof(body) ||
		    read_full(c, body, size - 16) < 0)
			return;
		memcpy(out, hdr, 16);
		flags = VX_F_TYPE_REPLY;
		if (cmd == VX_CMD_VERSION) {
			memcpy(out + 16, body, 4);	/* same version, no caps */
			size = 20;
		} else if (cmd == VX_CMD_REGION_READ && size == 32) {
			memcpy(out + 16, body, 16);
			memset(out + 32, 0, 4);
			size = 36;
		} else {
			flags |= VX_F_ERROR;
			memcpy(out + 12, &(uint32_t){ EINVAL }, 4);
			size = 16;
		}
		memcpy(out + 4, &size, 4);
		memcpy(out + 8, &flags, 4);
		if (send(c, out, size, MSG_NOSIGNAL) != (ssize_t)size)
			return;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l, c;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: min-server SOCKET\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 16) < 0) {
		perror("min-server");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	while ((c = accept(l, NULL, NULL)) >= 0) {
		serve(c);
		close(c);
	}
	return 0;
}
