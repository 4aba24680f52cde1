/*
 * fuzz-cov.c - AFL++ coverage feedback (fuzz-cov.h).  The map holds one
 * byte per edge of the instrumented server; like afl-fuzz, counts are
 * folded into power-of-two buckets so that a loop running 5 or 6 times is
 * the same behaviour, and an exec is new when it sets a bucket bit no
 * exec set before.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "fuzz-cov.h"
#include "vx-error.h"

uint8_t
fz_cov_bucket(uint8_t hits)
{
	if (hits <= 2)
		return hits;
	if (hits == 3)
		return 4;
	if (hits < 8)
		return 8;
	if (hits < 16)
		return 16;
	if (hits < 32)
		return 32;
	return hits < 128 ? 64 : 128;
}

int
fz_cov_init(struct fz_cov *c, uint8_t *map, size_t size)
{
	memset(c, 0, sizeof *c);
	if (map == NULL || size == 0)
		return 0;
	if ((c->virgin = malloc(size)) == NULL)
		return VX_ERR_NOMEM;
	memset(c->virgin, 0xff, size);
	c->map = map;
	c->size = size;
	c->state = VX_FUZZ_COV_PENDING;
	return 0;
}

void
fz_cov_release(struct fz_cov *c)
{
	free(c->virgin);
	memset(c, 0, sizeof *c);
}

void
fz_cov_reset(struct fz_cov *c)
{
	if (c->state == VX_FUZZ_COV_PENDING || c->state == VX_FUZZ_COV_GUIDED)
		memset(c->map, 0, c->size);
}

int
fz_cov_novel(struct fz_cov *c)
{
	size_t i;
	uint8_t b;
	int novel = 0, hit = 0;

	if (c->state != VX_FUZZ_COV_PENDING && c->state != VX_FUZZ_COV_GUIDED)
		return 0;
	for (i = 0; i < c->size; i++) {
		if (i % 8 == 0 && i + 8 <= c->size) {
			uint64_t w;	/* most of a map stays zero */

			memcpy(&w, c->map + i, 8);
			if (w == 0) {
				i += 7;
				continue;
			}
		}
		if (c->map[i] == 0)
			continue;
		hit = 1;
		b = c->map[i] = fz_cov_bucket(c->map[i]);
		if (!(b & c->virgin[i]))
			continue;
		if (c->virgin[i] == 0xff) {
			c->edges++;
			novel = 2;
		} else if (novel == 0)
			novel = 1;
		c->virgin[i] &= (uint8_t)~b;
	}
	if (c->state == VX_FUZZ_COV_PENDING)
		c->state = hit ? VX_FUZZ_COV_GUIDED : VX_FUZZ_COV_SILENT;
	return novel;
}

int
fz_cov_shm_new(size_t size, uint8_t **map)
{
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | IPC_EXCL | 0600);
	void *p;

	*map = NULL;
	if (id < 0)
		return VX_ERR_IO;
	if ((p = shmat(id, NULL, 0)) == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		return VX_ERR_IO;
	}
	shmctl(id, IPC_RMID, NULL);
	*map = p;
	return id;
}

void
fz_cov_shm_free(uint8_t *map)
{
	if (map != NULL)
		shmdt(map);
}
