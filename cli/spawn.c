/*
 * spawn.c - the device server of vfuctl replay, vfuctl fuzz and vfuctl
 * record (spawn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "spawn.h"
#include "vx-conn.h"
#include "vx-error.h"

int
spawn_init(struct spawn *s, const char *name, char **cmd, char *why,
    size_t whycap)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->status = -1;
	/* a long $TMPDIR would not leave room for the socket's path */
	if (tmp == NULL || strlen(tmp) > 40)
		tmp = "/tmp";
	/* mkdtemp's template: it fills in the six X */
	snprintf(s->dir, sizeof(s->dir), "%s/vfuctl-%.8s.XXXXXX", tmp, name);
	if (mkdtemp(s->dir) == NULL) {
		snprintf(why, whycap, "cannot make a directory in %s for the "
		    "server's socket: %s", tmp, strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	snprintf(s->sock, sizeof(s->sock), "%s/sock", s->dir);
	snprintf(s->errlog, sizeof(s->errlog), "%s/stderr", s->dir);
	if ((s->argv = vx_server_argv(cmd, s->sock)) == NULL) {
		snprintf(why, whycap, "out of memory");
		return -1;
	}
	return 0;
}

int
spawn_init_as_is(struct spawn *s, char **cmd, const char *const *socks,
    unsigned nsocks)
{
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->status = -1;
	s->socks = socks;
	s->nsocks = nsocks;
	while (cmd[n] != NULL)
		n++;
	/* a copy, which spawn_free frees as it does vx_server_argv's */
	if ((s->argv = calloc(n + 1, sizeof(*s->argv))) == NULL)
		return -1;
	memcpy(s->argv, cmd, n * sizeof(*s->argv));
	return 0;
}

void
spawn_free(struct spawn *s)
{
	spawn_stop(s, 0);
	if (s->dir[0] != '\0') {
		unlink(s->errlog);
		rmdir(s->dir);
	}
	free(s->argv);
	s->argv = NULL;
}

void
spawn_status_text(int st, char *out, size_t cap)
{
	if (WIFSIGNALED(st)) {
		const char *ab = sigabbrev_np(WTERMSIG(st));

		snprintf(out, cap, "killed by SIG%s (%s)", ab ? ab : "?",
		    strsignal(WTERMSIG(st)));
	} else {
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
	}
}

int
spawn_reap(struct spawn *s, int ms)
{
	int64_t end = vx_conn_now_ms(NULL) + (ms > 0 ? ms : 0);
	int st;

	if (s->pid <= 0)
		return 0;
	for (;;) {
		struct pollfd p = { s->pidfd, POLLIN, 0 };
		int64_t left;

		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			break;
		if ((left = end - vx_conn_now_ms(NULL)) <= 0)
			return 0;
		/* the pidfd says when; without one, look every 10 ms */
		poll(&p, s->pidfd >= 0, s->pidfd >= 0 ? (int)left :
		    left < 10 ? (int)left : 10);
	}
	s->status = st;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pid = 0;
	s->pidfd = -1;
	return 1;
}

int
spawn_stop(struct spawn *s, int grace_ms)
{
	int killed = 0;

	if (s->pid > 0) {
		if (grace_ms > 0) {
			kill(s->pid, SIGTERM);
			spawn_reap(s, grace_ms);
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			killed = 1;
			spawn_reap(s, 5000);
		}
	}
	if (s->sock[0] != '\0')
		unlink(s->sock);
	return killed;
}

/* In the child: stdio, signals, the caller's setup; then the command. */
static void
child(struct spawn *s, pid_t parent, int errpipe)
{
	int fd = -1, err;

	if (s->errlog[0] != '\0' &&
	    (fd = open(s->errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	if (s->quiet && (fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	signal(SIGPIPE, SIG_DFL);
	/* it dies with us, however we die */
	if (prctl(PR_SET_PDEATHSIG, s->deathsig ? s->deathsig : SIGKILL) < 0 ||
	    getppid() != parent)
		_exit(127);
	if (s->child_setup != NULL)
		s->child_setup(s->arg);
	execvp(s->argv[0], s->argv);
	err = errno;
	if (write(errpipe, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Is there a socket at path now?  (An abstract one cannot be seen.) */
static int
is_socket(const char *path)
{
	struct stat st;

	return path[0] == '@' ||
	    (stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
}

static int
all_sockets(const char *const *socks, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!is_socket(socks[i]))
			return 0;
	return 1;
}

/*
 * An inotify descriptor watching the directories of socks for new
 * entries, or -1 if one cannot be watched (not there yet): then we look.
 */
static int
watch_dirs(const char *const *socks, unsigned n)
{
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char dir[4096];
	unsigned i;

	for (i = 0; in >= 0 && i < n; i++) {
		const char *slash = strrchr(socks[i], '/');
		size_t len = slash == NULL ? 0 : (size_t)(slash - socks[i]);

		if (socks[i][0] == '@')
			continue;
		snprintf(dir, sizeof(dir), "%.*s", (int)len, socks[i]);
		if (len >= sizeof(dir) || inotify_add_watch(in,
		    slash == socks[i] ? "/" : len == 0 ? "." : dir,
		    IN_CREATE | IN_MOVED_TO) < 0) {
			close(in);
			in = -1;
		}
	}
	return in;
}

/*
 * Wait (inotify on their directories, the pidfd for an early end) until
 * the n socks appear: 0, or VX_ERR_IO or VX_ERR_TIMEOUT with why.
 */
static int
wait_sockets(struct spawn *s, const char *const *socks, unsigned n,
    int timeout_ms, char *why, size_t whycap)
{
	int64_t deadline = vx_conn_now_ms(NULL) + timeout_ms;
	int in = watch_dirs(socks, n), r;
	char buf[4096], st[96], errlog[160] = "";

	/* where to look for why, unless it wrote on our stderr */
	if (s->errlog[0] != '\0')
		snprintf(errlog, sizeof(errlog), " (its stderr: %s)",
		    s->errlog);
	for (;;) {
		struct pollfd p[2] = { { in, POLLIN, 0 },
		    { s->pidfd, POLLIN, 0 } };
		int64_t left = deadline - vx_conn_now_ms(NULL);

		if (all_sockets(socks, n)) {
			r = 0;
			break;
		}
		if (spawn_reap(s, 0)) {
			spawn_status_text(s->status, st, sizeof(st));
			snprintf(why, whycap, "the server ended before "
			    "creating its socket: %s%s", st, errlog);
			r = VX_ERR_IO;
			break;
		}
		if (left <= 0) {
			snprintf(why, whycap, "the server did not create its "
			    "socket within %d ms%s", timeout_ms, errlog);
			spawn_stop(s, 0);
			r = VX_ERR_TIMEOUT;
			break;
		}
		/* without inotify, look again every 10 ms */
		poll(p, 2, in < 0 ? (left < 10 ? (int)left : 10) : (int)left);
		while (in >= 0 && read(in, buf, sizeof(buf)) > 0)
			;
	}
	if (in >= 0)
		close(in);
	return r;
}

int
spawn_start(struct spawn *s, int timeout_ms, char *why, size_t whycap)
{
	const char *own = s->sock;
	int pipefd[2], err = 0;
	pid_t parent = getpid();

	spawn_stop(s, 0);	/* and a dead one's socket, which looks ready */
	s->status = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whycap, "cannot start the server: %s",
		    strerror(errno));
		return VX_ERR_IO;
	}
	fflush(NULL);
	if ((s->pid = fork()) == 0)
		child(s, parent, pipefd[1]);
	close(pipefd[1]);
	if (s->pid < 0) {
		close(pipefd[0]);
		s->pid = 0;
		snprintf(why, whycap, "cannot start the server: %s",
		    strerror(errno));
		return VX_ERR_IO;
	}
	/* the pipe closes at exec; before it, a failed exec says why */
	if (read(pipefd[0], &err, sizeof(err)) == sizeof(err)) {
		close(pipefd[0]);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		snprintf(why, whycap, "cannot run '%s': %s", s->argv[0],
		    strerror(err));
		return VX_ERR_NOENT;
	}
	close(pipefd[0]);
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->socks != NULL)
		return wait_sockets(s, s->socks, s->nsocks, timeout_ms, why,
		    whycap);
	return wait_sockets(s, &own, 1, timeout_ms, why, whycap);
}

int
spawn_sanitizer_line(const char *line)
{
	return strstr(line, "runtime error:") != NULL ||
	    (strstr(line, "Sanitizer:") != NULL &&
	    (strstr(line, "ERROR: ") != NULL ||
	    strstr(line, "WARNING: ") != NULL));
}
