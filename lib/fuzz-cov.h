/*
 * fuzz-cov.h - AFL++ coverage feedback for vfuctl fuzz (fuzz-cov.c): the
 * shared-memory map an instrumented server writes its edge hit counts to,
 * reset before each exec and, after the exec's replies, folded into AFL's
 * hit-count buckets and compared with everything seen so far.
 */
#ifndef VX_FUZZ_COV_H
#define VX_FUZZ_COV_H

#include <stddef.h>
#include <stdint.h>

#include "vx-fuzz.h"

/* What the instrumentation runtime reads from the environment. */
#define FZ_COV_SHM_ENV		"__AFL_SHM_ID"
#define FZ_COV_SIZE_ENV		"AFL_MAP_SIZE"
#define FZ_COV_DUMP_ENV		"AFL_DUMP_MAP_SIZE"
#define FZ_COV_MAX_SIZE		(64u << 20)	/* the largest map made */

struct fz_cov {
	uint8_t *map;		/* the server's, size bytes */
	size_t size;
	uint8_t *virgin;	/* per edge, the buckets not seen yet */
	unsigned edges;		/* edges ever hit */
	int state;		/* enum vx_fuzz_cov */
};

/* AFL's bucket of a hit count: 0, 1, 2, 4 (3), 8 (4-7), 16 (8-15),
 * 32 (16-31), 64 (32-127), 128 (128-255). */
uint8_t fz_cov_bucket(uint8_t hits);

/* Follow map (NULL: stay VX_FUZZ_COV_NONE).  0 or VX_ERR_NOMEM. */
int fz_cov_init(struct fz_cov *c, uint8_t *map, size_t size);
void fz_cov_release(struct fz_cov *c);
/* Before an exec. */
void fz_cov_reset(struct fz_cov *c);
/* After it: bucket the counts in place; 2 a new edge, 1 a new bucket of a
 * known one, 0 nothing new.  The first exec that leaves the map all zero
 * turns the state to VX_FUZZ_COV_SILENT, for good. */
int fz_cov_novel(struct fz_cov *c);

/* A SysV shared-memory map of size bytes for a server to attach by the
 * returned id (already marked for removal: it goes when the last process
 * detaches, which Linux allows attaching to until then).  The id, or a
 * VX_ERR_IO with errno. */
int fz_cov_shm_new(size_t size, uint8_t **map);
void fz_cov_shm_free(uint8_t *map);

#endif /* VX_FUZZ_COV_H */
