/*
 * replay-int.h - what lib/replay.c (the walk, the calls, the comparison)
 * and lib/replay-fds.c (the descriptors a replay makes: DMA windows,
 * eventfds, and the server's DMA served from the windows) share.
 */
#ifndef VX_REPLAY_INT_H
#define VX_REPLAY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vx-conn.h"
#include "vx-msg.h"
#include "vx-replay.h"
#include "vx-trace.h"

/* A DMA window of client memory: a memfd's mapping or anonymous memory. */
struct rwin {
	uint64_t addr, size;
	uint32_t prot;		/* VX_DMA_MAP_READ | VX_DMA_MAP_WRITE */
	uint8_t *map;		/* what to munmap */
	size_t maplen;
	uint8_t *mem;		/* the window's first byte, within map */
};

/* An eventfd given to the server for one IRQ vector. */
struct rirq {
	uint32_t index, vector;
	int fd;
};

/* What a replay made for the descriptors of one connection. */
struct rfds {
	struct rwin *wins;
	size_t nwins, wcap;
	struct rirq *irqs;
	size_t nirqs, icap;
	int dma_write_reply;	/* enum vx_variant the client answered with */
};

void rfds_free(struct rfds *f);

/*
 * Descriptors for a recorded command m whose record carried rec->nfds:
 * made anew into fds[] (at most VX_TRACE_MAX_FDS; the caller closes
 * them after sending).  A DMA_MAP's memfd becomes a window now (the server
 * may use it before it replies), zero-filled; a DMA_MAP without one too.  SET_IRQS
 * eventfds are kept (dup'ed) for their vectors.  Returns how many, or a
 * VX_ERR_* with why.
 */
int rfds_make(struct rfds *f, const struct vx_msg *m,
    const struct vx_trace_rec *rec, int *fds, char *why, size_t whycap);

/* A DMA_UNMAP (flags, addr, size) the live server accepted: release its
 * windows. */
void rfds_unmapped(struct rfds *f, uint64_t flags, uint64_t addr,
    uint64_t size);
/* A DMA_MAP the live server refused: release its window. */
void rfds_unmap_addr(struct rfds *f, uint64_t addr);

/* The eventfd of (index, vector), or -1. */
int rfds_irq_fd(const struct rfds *f, uint32_t index, uint32_t vector);

/*
 * Answer the server's command ev (DMA_READ or DMA_WRITE) from the windows,
 * an error reply for anything else.  Returns 1 if a DMA was served, 0 if
 * refused, or VX_ERR_NOMEM.
 */
int rfds_serve(struct rfds *f, struct vx_conn *c, struct vx_builder *b,
    const struct vx_conn_event *ev);

/*
 * The recording client's answer m to a DMA_READ: its data is what client
 * memory held there, so the live server's DMA_READ of it gets the same.
 */
void rfds_recorded_read(struct rfds *f, const struct vx_msg *m);

/*
 * BLAKE2b-256 of the first n bytes of the window that starts at addr, as
 * vfuctl record --hash-dma hashes a window: 0, or -1 if there is none
 * that long.
 */
int rfds_hash(struct rfds *f, uint64_t addr, uint64_t n,
    char hex[2 * VX_DIGEST_LEN + 1]);

/* --- migration data forwarded (replay-mig.c) --------------------------- */

/* A recorded MIG_DATA_READ reply's data and the live one's. */
struct rchunk {
	uint8_t *rec, *live;
	uint32_t rlen, llen;
};

/* The reads of a session not yet written on, oldest first. */
struct rmig {
	struct rchunk *v;
	size_t n, cap;
	size_t bytes;		/* held in all, bounded */
};

/* A MIG_DATA_READ: rec, its recorded reply, and live, the live one (both
 * without errors, or nothing is kept).  0 or VX_ERR_NOMEM. */
int rmig_read(struct rmig *g, const struct vx_msg *rec,
    const struct vx_msg *live);
/*
 * A MIG_DATA_WRITE's recorded data: if a read kept carried the same, 1
 * and *live (malloc'd, the caller frees), *llen the live data of the
 * oldest such read, which is dropped with every read before it; else 0.
 */
int rmig_take(struct rmig *g, const uint8_t *data, uint32_t len,
    uint8_t **live, uint32_t *llen);
void rmig_clear(struct rmig *g);
void rmig_free(struct rmig *g);

/* --- rotated traces (replay-ring.c) ------------------------------------ */

/* 1 if the trace at path starts mid-session (its first record but digests
 * is a STATE), else 0 (an unreadable one too: the walk will say why). */
int ring_starts_mid(const char *path);
/* 1 if path is a regular file. */
int ring_exists(const char *path);
/* File k of the ring whose first file is base: base, base1, base2, ...;
 * malloc'd, NULL when out of memory. */
char *ring_file(const char *base, unsigned k);
/* If path is file k >= 1 of a ring whose first file exists: that first
 * file (malloc'd) and *k; else NULL. */
char *ring_base(const char *path, unsigned *k);

#endif /* VX_REPLAY_INT_H */
