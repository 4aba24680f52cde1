/*
 * helpers.c - see helpers.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "vx-cursor.h"
#include "vx-wire.h"

size_t
unit_mkmsg(uint8_t *buf, size_t len, uint16_t id, uint16_t cmd,
    uint32_t flags)
{
	size_t i;

	vx_store(buf, 2, id, 0);
	vx_store(buf + 2, 2, cmd, 0);
	vx_store(buf + 4, 4, len, 0);
	vx_store(buf + 8, 4, flags, 0);
	vx_store(buf + 12, 4, 0, 0);
	for (i = VX_HDR_SIZE; i < len; i++)
		buf[i] = (uint8_t)(id + i);
	return len;
}

int
unit_count_fds(void)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory itself */
}

int
unit_send_fds(int sock, const void *p, size_t n, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct iovec iov = { (void *)p, n };
	struct msghdr mh;

	if (nfds < 0 || nfds > 8)
		return -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

int
unit_mkdtemp(char *dir, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || tmp[0] == '\0' ||
	    strlen(tmp) + strlen(name) + 9 > size)	/* sockets: short paths */
		tmp = "/tmp";
	n = snprintf(dir, size, "%s/%s.XXXXXX", tmp, name);
	if (n < 0 || (size_t)n >= size || mkdtemp(dir) == NULL) {
		printf("# cannot make a directory %s/%s.XXXXXX\n", tmp, name);
		return -1;
	}
	return 0;
}

const char *
unit_vfuctl(void)
{
	const char *vfuctl = getenv("VFUCTL");

	if (vfuctl == NULL || vfuctl[0] == '\0')
		vfuctl = "cli/vfuctl";
	if (access(vfuctl, X_OK) != 0) {
		printf("not ok 1 - %s is not executable\n", vfuctl);
		return NULL;
	}
	return vfuctl;
}

pid_t
unit_spawn_server(const char *vfuctl, const char *device, const char *sock,
    const char *extra)
{
	struct stat st;
	pid_t pid;
	int i;

	unlink(sock);
	if ((pid = fork()) == 0) {
		int nul = open("/dev/null", O_WRONLY);

		if (getenv("TEST_SERVER_VERBOSE") == NULL && nul >= 0)
			dup2(nul, 2);
		execl(vfuctl, vfuctl, "server", "--socket-path", sock,
		    "--device", device, extra, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 2000 && stat(sock, &st) != 0; i++)
		usleep(10000);
	return pid;
}
