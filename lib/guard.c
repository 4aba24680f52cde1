/*
 * guard.c - copies that survive a peer truncating the file behind a
 * shared mapping (see vx-guard.h).
 *
 * Why a SIGBUS guard and not pread/pwrite on the descriptor: the guard
 * works for every file a peer can map (hugetlbfs takes no write()), needs
 * no descriptor kept open per mapping, and pwrite past a shrunk file's end
 * would silently grow the peer's file.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "vx-error.h"
#include "vx-guard.h"

/* The copy in progress on this thread, NULL outside guarded copies. */
static __thread sigjmp_buf *volatile guard_env;
static volatile sig_atomic_t guard_installed;

static void
on_sigbus(int sig)
{
	if (guard_env != NULL)
		siglongjmp(*guard_env, 1);
	/* not ours: die of it as without the guard (pending until we return) */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
guard_install(void)
{
	struct sigaction sa;

	if (guard_installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == 0)
		guard_installed = 1;
}

int
vx_copy_guarded(void *dst, const void *src, size_t n)
{
	sigjmp_buf env;

	guard_install();
	/* savemask 1: the jump out of the handler unblocks SIGBUS again */
	if (sigsetjmp(env, 1) != 0) {
		guard_env = NULL;
		return VX_ERR_FAULT;
	}
	guard_env = &env;
	memcpy(dst, src, n);
	guard_env = NULL;
	return 0;
}
