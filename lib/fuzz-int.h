/*
 * fuzz-int.h - what lib/fuzz.c (connections, oracles, minimizing, saving)
 * and lib/fuzz-mut.c (templates and mutations from the model) share.
 */
#ifndef VX_FUZZ_INT_H
#define VX_FUZZ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vx-msg.h"

#define FZ_MAX_FDS	4
#define FZ_MAX_REGIONS	16
#define FZ_MAX_IRQS	8
#define FZ_WIN_MAX	(1u << 20)	/* largest memfd made for a window */
#define FZ_MSG_MAX	(64u << 10)	/* largest message made */

enum fz_fd { FZ_FD_MEMFD = 1, FZ_FD_EVENTFD };
enum fz_how { FZ_WHOLE = 0, FZ_SPLIT, FZ_JOIN };	/* delivery */

/* One message to send, and how. */
struct fmsg {
	uint8_t *buf;		/* header and payload; msg_size set on send */
	size_t len;
	uint8_t *orig;		/* before mutation (for minimizing), or NULL */
	size_t olen;
	uint8_t nfds;
	uint8_t fdk[FZ_MAX_FDS];	/* enum fz_fd of each */
	uint8_t how;		/* enum fz_how */
};

struct fseq {
	struct fmsg *v;
	size_t n, cap;
};

/* What the device reported. */
struct fdev {
	uint32_t nregions, nirqs;
	uint64_t rsize[FZ_MAX_REGIONS];
	uint32_t rflags[FZ_MAX_REGIONS];
	uint32_t icount[FZ_MAX_IRQS];
	uint64_t win_addr, win_size;	/* the prefix's DMA window */
	unsigned after_map;	/* templates left that favour accesses */
};

struct rng {
	uint64_t s;
};

uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

int fmsg_set(struct fmsg *m, const uint8_t *buf, size_t len);
void fmsg_free(struct fmsg *m);
/* Push a copy of m (buffers duplicated); 0 or VX_ERR_NOMEM. */
int fseq_push(struct fseq *s, const struct fmsg *m);
void fseq_clear(struct fseq *s);

/* A fresh command from the templates, filled from d. */
int fz_template(struct rng *r, struct fdev *d, struct vx_builder *b,
    struct fmsg *out);
/* DEVICE_GET_INFO: a command every server answers. */
int fz_probe(struct vx_builder *b, struct fmsg *out);
/* The prefix's commands (no VERSION): info, every region and IRQ, a DMA
 * window; pushed to s. */
int fz_discovery(const struct fdev *d, struct vx_builder *b,
    struct fseq *s, int with_info);
/* Mutate m in place (keeping its first form in m->orig). */
int fz_mutate(struct rng *r, const struct fdev *d, struct vx_decoder *dec,
    struct fmsg *m);

#endif /* VX_FUZZ_INT_H */
