/*
 * test-fuzz-cov.c - AFL++ coverage feedback (lib/fuzz-cov.c): hit counts
 * folded into afl-fuzz's buckets, what counts as new (an edge, a bucket),
 * a map that stays zero, and a shared-memory map another process attaches.
 */
#include <stdint.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz-cov.h"
#include "unit.h"

static void
test_buckets(void)
{
	static const struct { uint8_t hits, bucket; } t[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 4 }, { 4, 8 }, { 7, 8 },
		{ 8, 16 }, { 15, 16 }, { 16, 32 }, { 31, 32 }, { 32, 64 },
		{ 127, 64 }, { 128, 128 }, { 255, 128 } };
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (fz_cov_bucket(t[i].hits) != t[i].bucket) {
			diag("%u hits: bucket %u, want %u", t[i].hits,
			    fz_cov_bucket(t[i].hits), t[i].bucket);
			bad = 1;
		}
	ok(!bad, "hit counts fold into afl-fuzz's buckets");
}

static void
test_novelty(void)
{
	uint8_t map[40];
	struct fz_cov c;

	ok(fz_cov_init(&c, map, sizeof map) == 0 &&
	    c.state == VX_FUZZ_COV_PENDING, "a map: pending");
	fz_cov_reset(&c);
	map[3] = 1;
	map[33] = 5;	/* past the first words: each byte looked at */
	ok(fz_cov_novel(&c) == 2 && c.edges == 2 &&
	    c.state == VX_FUZZ_COV_GUIDED, "first hits: new edges, guided");
	ok(map[33] == 8, "counts bucketed in place (5 -> 8)");
	fz_cov_reset(&c);
	ok(map[3] == 0 && map[33] == 0, "reset zeroes the map");
	map[3] = 1;
	map[33] = 6;
	ok(fz_cov_novel(&c) == 0, "the same buckets again: nothing new");
	fz_cov_reset(&c);
	map[3] = 3;
	ok(fz_cov_novel(&c) == 1 && c.edges == 2,
	    "a known edge in a new bucket: 1, no new edge");
	fz_cov_reset(&c);
	map[3] = 1;
	map[39] = 200;
	ok(fz_cov_novel(&c) == 2 && c.edges == 3, "the last byte counts too");
	fz_cov_reset(&c);
	ok(fz_cov_novel(&c) == 0 && c.state == VX_FUZZ_COV_GUIDED,
	    "an exec that hits nothing: nothing new, still guided");
	fz_cov_release(&c);

	fz_cov_init(&c, map, sizeof map);
	fz_cov_reset(&c);
	ok(fz_cov_novel(&c) == 0 && c.state == VX_FUZZ_COV_SILENT,
	    "all zero after the first exec: silent");
	map[0] = 1;
	ok(fz_cov_novel(&c) == 0 && c.edges == 0,
	    "silent for good: later hits are not looked at");
	fz_cov_release(&c);

	ok(fz_cov_init(&c, NULL, 0) == 0 && c.state == VX_FUZZ_COV_NONE &&
	    fz_cov_novel(&c) == 0, "no map: black-box");
	fz_cov_release(&c);
}

/* What an instrumented server does: attach by id, write a count. */
static void
test_shm(void)
{
	uint8_t *map;
	int id = fz_cov_shm_new(4096, &map), st = -1;
	pid_t pid;

	if (!ok(id >= 0 && map != NULL, "a shared-memory map"))
		return;
	if ((pid = fork()) == 0) {
		uint8_t *p = shmat(id, NULL, 0);

		if (p == (void *)-1)
			_exit(1);
		p[100] = 7;
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && map[100] == 7,
	    "another process attaches it by id (marked for removal already)");
	fz_cov_shm_free(map);
}

int
main(void)
{
	test_buckets();
	test_novelty();
	test_shm();
	return unit_done();
}
