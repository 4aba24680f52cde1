/*
 * sock.c - UNIX stream socket endpoints and descriptor inspection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-sock.h"

/* How often vx_sock_connect retries against a full backlog. */
#define VX_CONNECT_RETRY_MS	10

static int
is_abstract(const char *path)
{
	return path[0] == '@';
}

static int
sock_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);
	int abstract = is_abstract(path);

	if (n == 0)
		return VX_ERR_INVALID;
	if (n - abstract >= sizeof(sa->sun_path))
		return VX_ERR_TOO_LARGE;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (abstract)
		sa->sun_path[0] = '\0';
	*len = offsetof(struct sockaddr_un, sun_path) + n + !abstract;
	return 0;
}

/* close() without losing the errno being reported. */
static void
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

static void
unlink_keep_errno(const char *path)
{
	int saved = errno;

	unlink(path);
	errno = saved;
}

/*
 * bind() found path taken: remove it only if it is a socket nobody
 * listens on (connecting is the only way to tell).
 */
static int
unlink_stale(const char *path, const struct sockaddr_un *sa, socklen_t len)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return VX_ERR_IO;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return VX_ERR_INVALID;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return VX_ERR_IO;
	r = connect(fd, (const struct sockaddr *)sa, len);
	close_keep_errno(fd);
	if (r == 0 || errno != ECONNREFUSED) {
		errno = EADDRINUSE;
		return VX_ERR_IO;
	}
	return unlink(path) < 0 ? VX_ERR_IO : 0;
}

int
vx_sock_listen(const char *path, mode_t mode, int backlog)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, r;

	if ((r = sock_addr(path, &sa, &len)) < 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return VX_ERR_IO;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		r = VX_ERR_IO;
		if (errno == EADDRINUSE && !is_abstract(path))
			r = unlink_stale(path, &sa, len);
		if (r == 0 && bind(fd, (struct sockaddr *)&sa, len) < 0)
			r = VX_ERR_IO;
		if (r < 0)
			goto fail;
	}
	if ((!is_abstract(path) && chmod(path, mode) < 0) ||
	    listen(fd, backlog) < 0) {
		r = VX_ERR_IO;
		if (!is_abstract(path))
			unlink_keep_errno(path);
		goto fail;
	}
	return fd;
fail:
	close_keep_errno(fd);
	return r;
}

int
vx_sock_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, r, waited;

	if ((r = sock_addr(path, &sa, &len)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return VX_ERR_IO;
	/* A UNIX connect never is in progress: EAGAIN means backlog full. */
	for (waited = 0; connect(fd, (struct sockaddr *)&sa, len) < 0;
	    waited += VX_CONNECT_RETRY_MS) {
		r = errno == EAGAIN ? VX_ERR_TIMEOUT : VX_ERR_IO;
		if (r == VX_ERR_IO || (timeout_ms >= 0 && waited >= timeout_ms))
			goto fail;
		poll(NULL, 0, VX_CONNECT_RETRY_MS);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		r = VX_ERR_IO;
		goto fail;
	}
	return fd;
fail:
	close_keep_errno(fd);
	return r;
}

int
vx_sock_accept(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ?
		    VX_ERR_AGAIN : VX_ERR_IO;
	return fd;
}

int
vx_sock_unread(int fd)
{
	int left;

	return ioctl(fd, SIOCOUTQ, &left) < 0 ? VX_ERR_IO : left;
}

int
vx_sock_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return VX_ERR_IO;
	if (pid != NULL)
		*pid = uc.pid;
	if (uid != NULL)
		*uid = uc.uid;
	if (gid != NULL)
		*gid = uc.gid;
	return 0;
}

int
vx_peer_policy_add(struct vx_peer_policy *p, const char *uid)
{
	const struct passwd *pw;
	uint64_t v = 0;
	const char *c;

	if (p->nuids == VX_ALLOW_MAX_UIDS)
		return VX_ERR_TOO_LARGE;
	for (c = uid; *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++)
		v = v * 10 + (uint64_t)(*c - '0');
	if (*c != '\0' || c == uid) {
		if ((pw = getpwnam(uid)) == NULL)
			return VX_ERR_INVALID;
		v = pw->pw_uid;
	}
	/* (uid_t)-1 is no one's: it means "unchanged" to the kernel */
	if (v >= UINT32_MAX)
		return VX_ERR_INVALID;
	p->uids[p->nuids++] = (uid_t)v;
	return 0;
}

int
vx_sock_peer_allowed(int fd, const struct vx_peer_policy *p, pid_t *pid,
    uid_t *uid)
{
	pid_t ppid = 0;
	uid_t puid = (uid_t)-1;
	unsigned i;
	int ok;

	ok = vx_sock_peer_cred(fd, &ppid, &puid, NULL) == 0;
	if (pid != NULL)
		*pid = ppid;
	if (uid != NULL)
		*uid = puid;
	if (!ok)
		return 0;	/* cannot tell who: refuse */
	if (p->any || puid == 0 || puid == geteuid())
		return 1;
	for (i = 0; i < p->nuids; i++)
		if (p->uids[i] == puid)
			return 1;
	return 0;
}

int
vx_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return VX_ERR_IO;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return VX_ERR_IO;
	}
	return rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
}

static enum vx_fd_kind
fd_kind(const struct stat *st, const char *link, int sealable)
{
	if (S_ISSOCK(st->st_mode))
		return VX_FD_SOCKET;
	if (strcmp(link, "anon_inode:[eventfd]") == 0)
		return VX_FD_EVENTFD;
	if (!S_ISREG(st->st_mode))
		return VX_FD_OTHER;
	if (link[0] != '\0' ? strncmp(link, "/memfd:", 7) == 0 : sealable)
		return VX_FD_MEMFD;
	return VX_FD_FILE;
}

int
vx_fd_describe(int fd, struct vx_fd_info *out)
{
	char proc[32], link[64];
	struct stat st;
	ssize_t n;
	int seals;

	if (fstat(fd, &st) < 0)
		return VX_ERR_IO;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	seals = fcntl(fd, F_GET_SEALS);
	memset(out, 0, sizeof(*out));
	out->kind = fd_kind(&st, link, seals >= 0);
	if (out->kind == VX_FD_FILE || out->kind == VX_FD_MEMFD)
		out->size = st.st_size;
	out->seals = seals < 0 ? 0 : (unsigned int)seals;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;
}

const char *
vx_fd_kind_name(enum vx_fd_kind kind)
{
	switch (kind) {
	case VX_FD_MEMFD:
		return "memfd";
	case VX_FD_FILE:
		return "file";
	case VX_FD_EVENTFD:
		return "eventfd";
	case VX_FD_SOCKET:
		return "socket";
	default:
		return "other";
	}
}
