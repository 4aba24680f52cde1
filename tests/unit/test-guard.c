/*
 * test-guard.c - vx_copy_guarded (lib/guard.c): a copy from or to a
 * shared mapping whose file shrank fails with VX_ERR_FAULT instead of SIGBUS;
 * ordinary copies work; a SIGBUS outside a guarded copy still kills.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "vx-error.h"
#include "vx-guard.h"

#define LEN	8192

int
main(void)
{
	char buf[LEN], src[LEN];
	uint8_t *map;
	pid_t pid;
	int fd, st = 0, r;

	memset(src, 0x5a, sizeof(src));
	fd = memfd_create("test-guard", MFD_CLOEXEC);
	if (!ok(fd >= 0 && ftruncate(fd, LEN) == 0, "memfd of %d bytes", LEN))
		return unit_done();
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!ok(map != MAP_FAILED, "mapped"))
		return unit_done();

	ok(vx_copy_guarded(map, src, LEN) == 0 &&
	    vx_copy_guarded(buf, map, LEN) == 0 && memcmp(buf, src, LEN) == 0,
	    "copies into and out of a whole mapping succeed");

	ok(ftruncate(fd, 0) == 0, "the file shrinks to 0 under the mapping");
	r = vx_copy_guarded(buf, map, LEN);
	ok(r == VX_ERR_FAULT, "copy from a vanished page: VX_ERR_FAULT "
	    "(got %d)", r);
	r = vx_copy_guarded(map + 4096, src, 16);
	ok(r == VX_ERR_FAULT, "copy to a vanished page: VX_ERR_FAULT "
	    "(got %d)", r);
	ok(vx_copy_guarded(buf, src, LEN) == 0,
	    "a later ordinary copy still succeeds");

	/* outside a guarded copy, SIGBUS is fatal as before */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		const struct rlimit nocore = { 0, 0 };
		volatile uint8_t v;

		setrlimit(RLIMIT_CORE, &nocore);	/* no core file left */
		v = map[0];
		(void)v;
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGBUS,
	    "an unguarded touch of a vanished page still dies of SIGBUS");

	munmap(map, LEN);
	close(fd);
	return unit_done();
}
