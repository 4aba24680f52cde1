/*
 * spawn.c - the device server of vfuctl replay and vfuctl fuzz (spawn.h).
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
	int fd = open(s->errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int err;

	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	if (s->quiet && (fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	signal(SIGPIPE, SIG_DFL);
	/* it dies with us, however we die */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	if (s->child_setup != NULL)
		s->child_setup(s->arg);
	execvp(s->argv[0], s->argv);
	err = errno;
	if (write(errpipe, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Is there a socket at path now? */
static int
is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * Wait (inotify on the private directory, the pidfd for an early end)
 * until the socket appears: 0, or VX_ERR_IO with why.
 */
static int
wait_socket(struct spawn *s, int timeout_ms, char *why, size_t whycap)
{
	int64_t deadline = vx_conn_now_ms(NULL) + timeout_ms;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), r = VX_ERR_IO;
	char buf[4096], st[96];

	if (in >= 0)
		inotify_add_watch(in, s->dir, IN_CREATE | IN_MOVED_TO);
	for (;;) {
		struct pollfd p[2] = { { in, POLLIN, 0 },
		    { s->pidfd, POLLIN, 0 } };
		int64_t left = deadline - vx_conn_now_ms(NULL);

		if (is_socket(s->sock)) {
			r = 0;
			break;
		}
		if (spawn_reap(s, 0)) {
			spawn_status_text(s->status, st, sizeof(st));
			snprintf(why, whycap, "the server %s before creating "
			    "its socket (its stderr: %s)", st, s->errlog);
			break;
		}
		if (left <= 0) {
			snprintf(why, whycap, "the server did not create its "
			    "socket within %d ms (its stderr: %s)", timeout_ms,
			    s->errlog);
			spawn_stop(s, 0);
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
	return wait_socket(s, timeout_ms, why, whycap);
}

int
spawn_sanitizer_line(const char *line)
{
	return strstr(line, "runtime error:") != NULL ||
	    (strstr(line, "Sanitizer:") != NULL &&
	    (strstr(line, "ERROR: ") != NULL ||
	    strstr(line, "WARNING: ") != NULL));
}
