/*
 * spawn.h - the device server vfuctl replay, vfuctl fuzz and vfuctl record
 * run.  Replay's and fuzz's: a child with a private directory (under
 * $TMPDIR) holding its socket and its stderr, the socket's path put in its
 * command line (vx_server_argv).  Record's: the command as given, with our
 * stdio, and the sockets it was told to make.  Either is waited for until
 * its sockets appear, reaped, and stopped.  It dies with us, however we
 * die.
 */
#ifndef VFUCTL_SPAWN_H
#define VFUCTL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawn {
	char **argv;		/* SERVER-CMD, the socket filled in (or as is) */
	char dir[64];		/* private: the socket and its stderr ("":
				   spawn_init_as_is, our stderr) */
	char sock[128], errlog[128];
	const char *const *socks;	/* spawn_init_as_is: waited for */
	unsigned nsocks;
	pid_t pid;		/* 0: none running */
	int pidfd;		/* -1: none (valgrind): looked at every 10 ms */
	int status;		/* wait status of the last one reaped */
	int quiet;		/* stdin and stdout /dev/null (else stdin
				   ours, stdout with its stderr) */
	int deathsig;		/* it gets it when we die; 0: SIGKILL */
	void (*child_setup)(void *arg);	/* in the child, before exec */
	void *arg;
};

/*
 * The directory (mkdtemp: "vfuctl-NAME." and six random characters) and
 * command line for SERVER-CMD cmd.  0, or -1 with why.
 */
int spawn_init(struct spawn *s, const char *name, char **cmd, char *why,
    size_t whycap);

/*
 * SERVER-CMD cmd as it is, with our stdin, stdout and stderr, waited for
 * until each of the nsocks paths in socks (kept, not copied) is a socket;
 * "@name" (abstract) ones cannot be seen and are not waited for.  0, or
 * -1 out of memory.
 */
int spawn_init_as_is(struct spawn *s, char **cmd, const char *const *socks,
    unsigned nsocks);

/* Stop it, remove the directory, free the command line. */
void spawn_free(struct spawn *s);

/*
 * Start it (its stderr file truncated) and wait up to timeout_ms for its
 * sockets: 0; VX_ERR_NOENT when the command cannot run at all (why says
 * so: the user's mistake), VX_ERR_IO when it ended first (s->status says
 * how, -1 if it never started), VX_ERR_TIMEOUT when it took too long (it
 * is killed).
 */
int spawn_start(struct spawn *s, int timeout_ms, char *why, size_t whycap);

/* Wait up to ms for it to end: 1 (its wait status in s->status) or 0. */
int spawn_reap(struct spawn *s, int ms);

/* SIGTERM and up to grace_ms, then SIGKILL (grace_ms 0: at once); its
 * socket removed.  1 if it had to be killed, else 0. */
int spawn_stop(struct spawn *s, int grace_ms);

/* "exited with status 3", "killed by SIGSEGV (Segmentation fault)" */
void spawn_status_text(int status, char *out, size_t cap);

/* Does this line of a server's stderr begin a sanitizer's report? */
int spawn_sanitizer_line(const char *line);

#endif
