/*
 * vx-sock.h - UNIX stream socket endpoints and descriptor inspection.
 *
 * Paths: "@name" is the abstract socket "name" (address length exactly
 * offsetof(sun_path) + 1 + strlen(name), no trailing NUL, so peers that
 * count the name the same way meet); anything else is a filesystem path.
 * Too long for sun_path (a path needs room for its NUL, a name does not)
 * gives VX_ERR_TOO_LARGE, an empty path VX_ERR_INVALID.  Every descriptor returned is close-on-exec and in
 * blocking mode (the framer does non-blocking I/O per call).  VX_ERR_IO
 * leaves errno as the failing system call set it.
 */
#ifndef VX_SOCK_H
#define VX_SOCK_H

#include <sys/types.h>

/*
 * Bind and listen; returns the listening descriptor.  mode applies to the
 * socket file (chmod between bind and listen, so nobody connects before
 * it is set; ignored for abstract sockets).  An existing socket file
 * nobody listens on is replaced; one with a listener gives VX_ERR_IO with
 * errno EADDRINUSE (found by connecting to it once, which that listener
 * sees); any other existing file gives VX_ERR_INVALID with errno EEXIST
 * and is left alone.
 */
int vx_sock_listen(const char *path, mode_t mode, int backlog);

/*
 * Connect; returns the descriptor.  timeout_ms (-1: forever) bounds only
 * the wait for room in a full listen backlog (VX_ERR_TIMEOUT); a missing
 * or refused socket fails at once with VX_ERR_IO.
 */
int vx_sock_connect(const char *path, int timeout_ms);

/* Accept one connection: its descriptor, VX_ERR_AGAIN or VX_ERR_IO. */
int vx_sock_accept(int lfd);

/* SO_PEERCRED of a connected socket; any pointer may be NULL. */
int vx_sock_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/* Bytes written on a connected stream socket that its peer has not read
 * yet (SIOCOUTQ): 0 once it has read all; VX_ERR_IO with errno. */
int vx_sock_unread(int fd);

/*
 * Who may connect to a listener: its own effective uid and root always;
 * besides, the uids listed, or anyone.  Filesystem sockets have their mode
 * too, but abstract ones (@name) have nothing else: any local user reaches
 * them.  Zeroed, a policy allows only the two.
 */
#define VX_ALLOW_MAX_UIDS	32

struct vx_peer_policy {
	int any;
	unsigned nuids;
	uid_t uids[VX_ALLOW_MAX_UIDS];
};

/* Add a uid given as a number or a user name: 0, VX_ERR_INVALID (no such
 * user) or VX_ERR_TOO_LARGE (VX_ALLOW_MAX_UIDS already). */
int vx_peer_policy_add(struct vx_peer_policy *p, const char *uid);

/*
 * Check the peer of connected socket fd against p: 1 allowed, 0 refused
 * (also when SO_PEERCRED fails).  Its pid and uid go to *pid and *uid
 * either way (pointers may be NULL), for the caller's log line.
 */
int vx_sock_peer_allowed(int fd, const struct vx_peer_policy *p, pid_t *pid,
    uid_t *uid);

/* Raise the RLIMIT_NOFILE soft limit to the hard one; returns the new soft
 * limit (capped at INT_MAX). */
int vx_raise_nofile(void);

enum vx_fd_kind {
	VX_FD_MEMFD,
	VX_FD_FILE,		/* regular file that is not a memfd */
	VX_FD_EVENTFD,
	VX_FD_SOCKET,
	VX_FD_OTHER,
};

struct vx_fd_info {
	enum vx_fd_kind kind;
	off_t size;		/* VX_FD_FILE and VX_FD_MEMFD, else 0 */
	unsigned int seals;	/* F_GET_SEALS, 0 where unsupported */
	dev_t dev;		/* st_dev */
	ino_t ino;		/* st_ino: equal dev/ino, same file */
};

/*
 * Describe fd.  The /proc/self/fd link decides memfd ("/memfd:...") and
 * eventfd ("anon_inode:[eventfd]"); without /proc a regular file that
 * answers F_GET_SEALS counts as a memfd.  Returns 0 or VX_ERR_IO.
 */
int vx_fd_describe(int fd, struct vx_fd_info *out);

/* "memfd", "file", "eventfd", "socket" or "other": the vectors' names. */
const char *vx_fd_kind_name(enum vx_fd_kind kind);

#endif /* VX_SOCK_H */
