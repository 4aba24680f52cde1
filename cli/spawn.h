/*
 * spawn.h - the device server vfuctl replay and vfuctl fuzz run: a child
 * with a private directory (under $TMPDIR) holding its socket and its
 * stderr, the socket's path put in its command line (vx_server_argv),
 * waited for until the socket appears, reaped, and stopped.  It dies with
 * us, however we die.
 */
#ifndef VFUCTL_SPAWN_H
#define VFUCTL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawn {
	char **argv;		/* SERVER-CMD with the socket filled in */
	char dir[64];		/* private: the socket and its stderr */
	char sock[128], errlog[128];
	pid_t pid;		/* 0: none running */
	int pidfd;		/* -1: none (valgrind): looked at every 10 ms */
	int status;		/* wait status of the last one reaped */
	int quiet;		/* stdin and stdout /dev/null (else stdin
				   ours, stdout with its stderr) */
	void (*child_setup)(void *arg);	/* in the child, before exec */
	void *arg;
};

/*
 * The directory (mkdtemp: "vfuctl-NAME." and six random characters) and
 * command line for SERVER-CMD cmd.  0, or -1 with why.
 */
int spawn_init(struct spawn *s, const char *name, char **cmd, char *why,
    size_t whycap);

/* Stop it, remove the directory, free the command line. */
void spawn_free(struct spawn *s);

/*
 * Start it (its stderr truncated) and wait up to timeout_ms for its
 * socket: 0; VX_ERR_NOENT when the command cannot run at all (why says
 * so: the user's mistake), VX_ERR_IO when it ended or took too long first.
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
