/*
 * server.c - one emulated device served to one vfio-user client at a time
 * (contract in vx-server.h).
 *
 * Every request is decoded before anything acts on it; a malformed or
 * unknown one gets an error reply and serving goes on.  Handlers return 0
 * with the reply built in s->b, or a VX_ERR_* code that vx_err_to_errno()
 * (vx-error.h) turns into the error reply's errno.  A DMA transfer through
 * messages (client memory without a descriptor) is a continuation, struct
 * xfer: one piece in flight at a time, the next sent from the reply to
 * the last; the handler that started it keeps its reply in the xfer until
 * it ends.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline-int.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-guard.h"
#include "vx-msg.h"
#include "vx-server.h"
#include "vx-session.h"
#include "vx-sock.h"

#define MAX_MSG_FDS	16		/* offered in VERSION */
#define MAX_DMA_MAPS	1024
#define PGSIZE		4096u
#define DMA_TIMEOUT_MS	10000		/* wait for a client's DMA reply */
#define STEP_BUDGET	64		/* messages per vx_server_step */

struct irqvec {
	int fd;			/* eventfd, -1 none */
	int masked, pending;
};

struct window {
	uint64_t addr, size;
	uint32_t flags;		/* VX_DMA_MAP_READ, _WRITE */
	uint8_t *map;		/* mapped client memory at addr, or NULL */
	uint8_t *base;		/* what mmap returned */
	size_t maplen;
};

/* Migration (spec "VFIO_USER_DEVICE_FEATURE", v2 state machine). */
struct mig {
	int state;		/* enum vx_mig_state */
	uint8_t *buf;		/* saving: the device state; resuming: input */
	size_t len, pos, cap;
};

/* Dirty page logging of the device's DMA writes (DMA_LOGGING_*). */
#define LOG_MAX_RANGES	64
#define LOG_MAX_PAGES	(1u << 20)

struct dirty {
	int on;
	uint64_t page_size;	/* what the client asked for (echoed) */
	unsigned nranges;	/* 0: everything */
	uint64_t iova[LOG_MAX_RANGES], len[LOG_MAX_RANGES];
	uint64_t *pages;	/* dirty 4 KiB page numbers, unsorted */
	size_t npages, cap;
	int overflow;		/* too many pages: report everything */
};


/* A DMA transfer through DMA_READ/DMA_WRITE, piece by piece. */
struct xfer {
	int on;
	int dir;		/* VX_DMA_TO_CLIENT, VX_DMA_FROM_CLIENT */
	uint64_t addr;
	uint8_t *buf;		/* the device's, reserved until the end */
	size_t len, done, piece;	/* piece: bytes of the call in flight */
	int chan;
	uint8_t *reply;		/* the suspended handler's reply, or NULL */
	size_t rlen;
};

struct vx_server {
	struct vx_device *dev;
	uint32_t max_xfer;
	vx_server_log_fn *logfn;
	void *logarg;
	int verbose;
	/* the connection */
	struct vx_conn *conn;		/* NULL: no client */
	int twin_give;			/* twin's other end, closed once sent */
	struct vx_decoder ddec;		/* our DMA's replies (requests: the conn's) */
	struct vx_builder b, db;	/* replies; our DMA commands */
	int negotiated, write_multi, qemu_forms, dead;
	uint32_t client_xfer;
	struct irqvec *irq[VX_DEV_NIRQS];
	struct window *win;
	unsigned nwin;
	struct xfer x;
	uint8_t *scratch;		/* max_xfer bytes for accesses */
	struct mig mig;			/* device state: kept across clients */
	struct dirty log;
	struct vx_deadlines dl;		/* on the client */
	char errmsg[256];
};

static void
vlog(const struct vx_server *s, int level, const char *fmt, va_list ap)
{
	char line[512];

	if (s->logfn == NULL)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	s->logfn(s->logarg, level, line);
}

static void
say(const struct vx_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct vx_server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	va_start(ap, fmt);
	vlog(s, VX_SERVER_DEBUG, fmt, ap);
	va_end(ap);
}

/* Events an operator must see, verbose or not. */
static void
notice(const struct vx_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
notice(const struct vx_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(s, VX_SERVER_NOTICE, fmt, ap);
	va_end(ap);
}

static void
log_msg(const struct vx_server *s, const struct vx_msg *m, int dir)
{
	char sum[512];

	if (!s->verbose)
		return;
	vx_summary(m, sum, sizeof(sum));
	say(s, "%s 0x%04x %s", dir == VX_S2C ? "s2c" : "c2s", m->id, sum);
}

/* --- interrupts ------------------------------------------------------ */

static void
fire(struct irqvec *v)
{
	uint64_t one = 1;

	if (v->masked) {
		v->pending = 1;
		return;
	}
	if (v->fd >= 0 && write(v->fd, &one, sizeof(one)) != sizeof(one))
		return;	/* an eventfd at its limit: the client is gone */
}

/* Does the device run?  Migration's STOP states hold it still. */
static int
running(const struct vx_server *s)
{
	return s->mig.state == VX_MIG_RUNNING || s->mig.state == VX_MIG_PRE_COPY;
}

static void
raise_vec(unsigned index, struct irqvec *v)
{
	fire(v);
	/* INTx is automasked (GET_IRQ_INFO says so) until an unmask */
	if (index == VX_IRQ_INTX && v->fd >= 0)
		v->masked = 1;
}

static void
dev_irq(void *ctx, unsigned index, unsigned vector)
{
	struct vx_server *s = ctx;
	struct irqvec *v;

	if (index >= VX_DEV_NIRQS || vector >= s->dev->irq_count[index] ||
	    s->irq[index] == NULL)
		return;
	v = &s->irq[index][vector];
	if (!running(s)) {
		v->pending = 1;	/* held until the device runs again */
		return;
	}
	raise_vec(index, v);
}

/* Deliver what was held while the device was stopped. */
static void
release_held(struct vx_server *s)
{
	unsigned i, j;

	for (i = 0; i < VX_DEV_NIRQS; i++)
		for (j = 0; s->irq[i] != NULL && j < s->dev->irq_count[i]; j++)
			if (s->irq[i][j].pending && !s->irq[i][j].masked) {
				s->irq[i][j].pending = 0;
				raise_vec(i, &s->irq[i][j]);
			}
}

static void
irq_close(struct vx_server *s, unsigned index, unsigned start, unsigned count)
{
	unsigned i;

	for (i = start; i < start + count; i++) {
		struct irqvec *v = &s->irq[index][i];

		if (v->fd >= 0)
			close(v->fd);
		v->fd = -1;
		v->masked = v->pending = 0;
	}
}

/* --- DMA ----------------------------------------------------------- */

static struct window *
find_window(struct vx_server *s, uint64_t addr, size_t len)
{
	unsigned i;

	for (i = 0; i < s->nwin; i++) {
		struct window *w = &s->win[i];

		if (addr >= w->addr && addr - w->addr <= w->size &&
		    len <= w->size - (addr - w->addr))
			return w;
	}
	return NULL;
}

static void
window_drop(struct window *w)
{
	if (w->base != NULL)
		munmap(w->base, w->maplen);
	w->base = w->map = NULL;
}

static void
log_page(struct dirty *g, uint64_t pg)
{
	size_t i;

	for (i = 0; i < g->npages; i++)
		if (g->pages[i] == pg)
			return;
	if (g->npages == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		uint64_t *n;

		if (ncap > LOG_MAX_PAGES ||
		    (n = realloc(g->pages, ncap * sizeof(*n))) == NULL) {
			g->overflow = 1;	/* better too dirty than lost */
			return;
		}
		g->pages = n;
		g->cap = ncap;
	}
	g->pages[g->npages++] = pg;
}

static void
log_stop(struct dirty *g)
{
	free(g->pages);
	memset(g, 0, sizeof(*g));
}

/* Note a device write of [addr, addr+len) to client memory. */
static void
log_write(struct dirty *g, uint64_t addr, size_t len)
{
	uint64_t pg, end;
	unsigned i;
	int in = g->nranges == 0;

	if (!g->on || len == 0)
		return;
	for (i = 0; i < g->nranges && !in; i++)
		in = addr < g->iova[i] + g->len[i] && g->iova[i] < addr + len;
	if (!in)
		return;
	end = (addr + len - 1) / PGSIZE;
	for (pg = addr / PGSIZE; pg <= end; pg++)
		log_page(g, pg);
}

/* --- handlers: each returns 0 with a reply built in s->b, or VX_ERR_* */

static void
reply_header(struct vx_server *s, const struct vx_msg *m)
{
	vx_build_header(&s->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
}

static uint64_t
get(const struct vx_msg *m, unsigned field)
{
	uint64_t v = 0;

	vx_msg_get(m, field, &v);
	return v;
}

static int twin_setup(struct vx_server *s);

static int
h_version(struct vx_server *s, const struct vx_msg *m, int *fd)
{
	const struct vx_caps *c = m->caps;
	struct vx_session *sess;
	struct vx_session_result res;
	uint64_t major = get(m, VXF_VER_MAJOR), minor = get(m, VXF_VER_MINOR);
	json_t *caps, *root;
	char *text;

	if (s->negotiated)
		return VX_ERR_INVALID;
	if (major != VX_PROTO_MAJOR || c == NULL)
		return VX_ERR_UNSUPPORTED;
	if (c->max_data_xfer_size < 512 || c->max_msg_fds == 0)
		return VX_ERR_INVALID;
	s->client_xfer = c->max_data_xfer_size > VX_QEMU_MAX_XFER ?
	    VX_QEMU_MAX_XFER : (uint32_t)c->max_data_xfer_size;
	vx_conn_set_peer_limits(s->conn, c->max_msg_fds > VX_MAX_FDS ?
	    VX_MAX_FDS : (int)c->max_msg_fds, VX_MSG_FOR_XFER(s->client_xfer));
	s->write_multi = c->write_multiple;
	/* which DMA_READ/DMA_WRITE wire form this client reads */
	if ((sess = vx_session_new(VX_PEER_AUTO)) != NULL) {
		if (vx_session_feed(sess, m, 0, 0, &res) == 0)
			s->qemu_forms = vx_session_peer(sess, VX_C2S) ==
			    VX_PEER_QEMU;
		vx_session_free(sess);
	}

	caps = json_pack("{s:i,s:I,s:i,s:I,s:{s:i}}",
	    "max_msg_fds", MAX_MSG_FDS,
	    "max_data_xfer_size", (json_int_t)s->max_xfer,
	    "max_dma_maps", MAX_DMA_MAPS,
	    "pgsizes", (json_int_t)PGSIZE,
	    "migration", "pgsize", (int)PGSIZE);
	if (caps == NULL)
		return VX_ERR_NOMEM;
	if (s->write_multi)
		json_object_set_new(caps, "write_multiple", json_true());
	/* only when asked for; without a socket pair, simply not offered */
	if (c->twin_supported && vx_conn_twin(s->conn) < 0 &&
	    twin_setup(s) == 0) {
		json_object_set_new(caps, "twin_socket", json_pack("{s:b,s:i}",
		    "supported", 1, "fd_index", 0));
		*fd = s->twin_give;
	}
	root = json_pack("{s:o}", "capabilities", caps);
	text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return VX_ERR_NOMEM;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_VER_MAJOR, VX_PROTO_MAJOR);
	vx_build_uint(&s->b, VXF_VER_MINOR,
	    minor < VX_PROTO_MINOR ? minor : VX_PROTO_MINOR);
	vx_build_bytes(&s->b, VXF_VER_JSON, text, strlen(text) + 1);
	free(text);
	s->negotiated = 1;
	return 0;
}

static int
h_device_info(struct vx_server *s, const struct vx_msg *m)
{
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_DEV_FLAGS, VX_DEV_RESET | VX_DEV_PCI);
	vx_build_uint(&s->b, VXF_DEV_NUM_REGIONS, VX_DEV_NREGIONS);
	vx_build_uint(&s->b, VXF_DEV_NUM_IRQS, VX_DEV_NIRQS);
	return 0;
}

static int
h_region_info(struct vx_server *s, const struct vx_msg *m, int *fd)
{
	uint64_t argsz = get(m, VXF_ARGSZ), index = get(m, VXF_REGION_INDEX);
	const struct vx_region *r;
	uint32_t capsz = 0, flags;
	unsigned i;

	if (index >= VX_DEV_NREGIONS)
		return VX_ERR_INVALID;
	r = &s->dev->region[index];
	flags = r->backing == VX_BACK_NONE ? 0 : r->flags;
	if (r->nsparse) {
		capsz = 16 + 16 * r->nsparse;
		flags |= VX_REGION_CAPS;
	}
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 32 + capsz);
	vx_build_uint(&s->b, VXF_RINFO_FLAGS, flags);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	/* cap_offset 32 even when the chain does not fit: QEMU rejects CAPS
	 * with a cap_offset below 32 (the kernel's VFIO would send 0) */
	vx_build_uint(&s->b, VXF_RINFO_CAP_OFFSET, capsz ? 32 : 0);
	vx_build_uint(&s->b, VXF_RINFO_SIZE, r->size);
	vx_build_uint(&s->b, VXF_RINFO_OFFSET, 0);	/* own fd per region */
	if (argsz < 32 + capsz)
		return 0;	/* too small: the needed argsz, fixed part only */
	if (capsz) {
		vx_build_uint(&s->b, VXF_CAP_ID, VX_REGION_CAP_SPARSE_MMAP);
		vx_build_uint(&s->b, VXF_CAP_VERSION, 1);
		vx_build_uint(&s->b, VXF_CAP_NEXT, 0);
		vx_build_uint(&s->b, VXF_CAP_NR_AREAS, r->nsparse);
		vx_build_uint(&s->b, VXF_CAP_RESERVED, 0);
		for (i = 0; i < r->nsparse; i++) {
			vx_build_uint(&s->b, VXF_AREA_OFFSET, r->sparse[i].off);
			vx_build_uint(&s->b, VXF_AREA_SIZE, r->sparse[i].size);
		}
	}
	if (flags & VX_REGION_MMAP)
		*fd = r->fd;
	return 0;
}

static int
h_io_fds(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_REGION_INDEX);

	if (index >= VX_DEV_NREGIONS ||
	    s->dev->region[index].backing == VX_BACK_NONE)
		return VX_ERR_INVALID;
	/* no ioeventfds: every access comes as a message */
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_IOFDS_FLAGS, 0);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	vx_build_uint(&s->b, VXF_IOFDS_COUNT, 0);
	return 0;
}

static int
h_irq_info(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_IRQ_INDEX);
	uint32_t flags = VX_IRQ_INFO_EVENTFD;

	if (index >= VX_DEV_NIRQS)
		return VX_ERR_INVALID;
	/* as vfio-pci reports them */
	if (index == VX_IRQ_INTX)
		flags |= VX_IRQ_INFO_MASKABLE | VX_IRQ_INFO_AUTOMASKED;
	else
		flags |= VX_IRQ_INFO_NORESIZE;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_IRQ_INFO_FLAGS, flags);
	vx_build_uint(&s->b, VXF_IRQ_INDEX, index);
	vx_build_uint(&s->b, VXF_IRQ_COUNT, s->dev->irq_count[index]);
	return 0;
}

static int
h_set_irqs(struct vx_server *s, const struct vx_msg *m, struct vx_frame *f)
{
	uint64_t flags = get(m, VXF_IRQ_SET_FLAGS), index = get(m, VXF_IRQ_INDEX);
	uint64_t start = get(m, VXF_IRQ_START), count = get(m, VXF_IRQ_COUNT);
	uint32_t data = (uint32_t)flags & VX_IRQ_DATA_BITS;
	uint32_t action = (uint32_t)flags & VX_IRQ_ACTION_BITS;
	const struct vx_item *bools = vx_msg_item(m, VXF_IRQ_DATA);
	struct vx_fd_info info;
	unsigned i;
	int k;

	if (index >= VX_DEV_NIRQS)
		return VX_ERR_INVALID;
	if (data != VX_IRQ_DATA_EVENTFD && f->nfds != 0)
		return VX_ERR_INVALID;
	if (count == 0) {
		/* data_none + trigger with count 0 disables the index */
		if (data != VX_IRQ_DATA_NONE || action != VX_IRQ_ACTION_TRIGGER)
			return VX_ERR_INVALID;
		irq_close(s, (unsigned)index, 0, s->dev->irq_count[index]);
		goto done;
	}
	if (start + count > s->dev->irq_count[index])
		return VX_ERR_INVALID;
	if (data == VX_IRQ_DATA_EVENTFD) {
		if (action != VX_IRQ_ACTION_TRIGGER)
			return VX_ERR_UNSUPPORTED;
		if (f->nfds != 0 && (uint64_t)f->nfds != count)
			return VX_ERR_INVALID;
		for (k = 0; k < f->nfds; k++)
			if (vx_fd_describe(f->fds[k], &info) < 0 ||
			    info.kind != VX_FD_EVENTFD)
				return VX_ERR_INVALID;
		/* no fds de-assigns the range */
		irq_close(s, (unsigned)index, (unsigned)start, (unsigned)count);
		for (k = 0; k < f->nfds; k++) {
			s->irq[index][start + (unsigned)k].fd = f->fds[k];
			f->fds[k] = -1;	/* ours now */
		}
		goto done;
	}
	for (i = 0; i < count; i++) {
		struct irqvec *v = &s->irq[index][start + i];

		if (data == VX_IRQ_DATA_BOOL && bools->ptr[i] == 0)
			continue;
		switch (action) {
		case VX_IRQ_ACTION_TRIGGER:
			fire(v);
			break;
		case VX_IRQ_ACTION_MASK:
			v->masked = 1;
			break;
		default:
			v->masked = 0;
			if (v->pending) {
				v->pending = 0;
				fire(v);
			}
		}
	}
done:
	reply_header(s, m);
	return 0;
}

/* Check an access: region present, in bounds, allowed, not too big. */
static int
check_access(struct vx_server *s, uint64_t index, uint64_t off, uint64_t count,
    int write)
{
	const struct vx_region *r;

	if (index >= VX_DEV_NREGIONS || count > s->max_xfer)
		return VX_ERR_INVALID;
	r = &s->dev->region[index];
	if (r->backing == VX_BACK_NONE || off > r->size || count > r->size - off)
		return VX_ERR_INVALID;
	if (!(r->flags & (write ? VX_REGION_WRITE : VX_REGION_READ)))
		return VX_ERR_INVALID;
	return 0;
}

static int
h_region_rw(struct vx_server *s, const struct vx_msg *m)
{
	int write = m->cmd == VX_CMD_REGION_WRITE;
	/* the access view: the request decoder builds no items for it */
	uint64_t off = m->rw.offset, index = m->rw.index, count = m->rw.count;
	uint16_t id = m->id, cmd = m->cmd;
	int r;

	if ((r = check_access(s, index, off, count, write)) != 0)
		return r;
	if (write) {
		/* copy: the device may run DMA that reuses the decoder */
		if (count)
			memcpy(s->scratch, m->data, (size_t)count);
		r = vx_device_access(s->dev, (unsigned)index, off, s->scratch,
		    (size_t)count, 1);
	} else {
		r = vx_device_access(s->dev, (unsigned)index, off, s->scratch,
		    (size_t)count, 0);
	}
	if (r != 0)
		return r;
	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&s->b, VXF_REGION_OFFSET, off);
	vx_build_uint(&s->b, VXF_REGION_INDEX, index);
	vx_build_uint(&s->b, VXF_REGION_COUNT, count);
	if (!write)
		vx_build_bytes(&s->b, VXF_REGION_DATA, s->scratch, (size_t)count);
	return 0;
}

/* Each entry's offset, index and count, then its data: the decoded
 * items, in wire order (the decoder checked count and room). */
static int
h_write_multi(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t off = 0, index = 0, count = 0;
	uint8_t data[VX_WRITE_MULTI_DATA];
	uint32_t i;
	int r;

	if (!s->write_multi)
		return VX_ERR_UNSUPPORTED;
	if ((r = vx_msg_items(m)) < 0)
		return r;
	for (i = 0; i < m->nitems; i++) {
		const struct vx_item *it = &m->items[i];

		switch (it->field) {
		case VXF_REGION_OFFSET:
			off = it->val;
			break;
		case VXF_REGION_INDEX:
			index = it->val;
			break;
		case VXF_REGION_COUNT:
			count = it->val;
			break;
		case VXF_WM_DATA:
			if ((r = check_access(s, index, off, count, 1)) != 0)
				return r;
			memcpy(data, it->ptr, (size_t)count);
			if ((r = vx_device_access(s->dev, (unsigned)index, off,
			    data, (size_t)count, 1)) != 0)
				return r;
			break;
		default:
			break;
		}
	}
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_WM_COUNT, get(m, VXF_WM_COUNT));
	return 0;
}

/*
 * A window must lie inside the file behind it: its pages past the file's
 * end would raise SIGBUS on the first DMA.  Only regular files (memfd,
 * tmpfs, hugetlbfs) have a size to check.
 */
static int
window_fits(const struct vx_server *s, int fd, uint64_t addr, uint64_t off, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return VX_ERR_INVALID;
	if (!S_ISREG(st.st_mode))
		return 0;
	if (off <= (uint64_t)st.st_size && size <= (uint64_t)st.st_size - off)
		return 0;
	notice(s, "DMA_MAP refused (EFAULT): window 0x%" PRIx64 "+0x%" PRIx64
	    " at file offset 0x%" PRIx64 " does not fit the %jd-byte file "
	    "behind it", addr, size, off, (intmax_t)st.st_size);
	return VX_ERR_FAULT;
}

static int
h_dma_map(struct vx_server *s, const struct vx_msg *m, struct vx_frame *f)
{
	uint64_t flags = get(m, VXF_DMA_MAP_FLAGS), off = get(m, VXF_DMA_MAP_OFFSET);
	uint64_t addr = get(m, VXF_DMA_ADDR), size = get(m, VXF_DMA_SIZE);
	struct window w, *nw;
	uint64_t skew;
	int prot = 0, r;
	unsigned i;

	if (f->nfds > 1 || size == 0 || addr + size < addr ||
	    (flags & ~(uint64_t)(VX_DMA_MAP_READ | VX_DMA_MAP_WRITE)))
		return VX_ERR_INVALID;
	for (i = 0; i < s->nwin; i++)
		if (addr < s->win[i].addr + s->win[i].size &&
		    s->win[i].addr < addr + size)
			return VX_ERR_EXISTS;
	if (s->nwin == MAX_DMA_MAPS)
		return VX_ERR_NOSPC;
	memset(&w, 0, sizeof(w));
	w.addr = addr;
	w.size = size;
	w.flags = (uint32_t)flags;
	if (f->nfds == 1) {
		if ((r = window_fits(s, f->fds[0], addr, off, size)) != 0)
			return r;
		if (flags & VX_DMA_MAP_READ)
			prot |= PROT_READ;
		if (flags & VX_DMA_MAP_WRITE)
			prot |= PROT_WRITE;
		skew = off % PGSIZE;
		if (size > SIZE_MAX - skew)
			return VX_ERR_INVALID;
		w.maplen = (size_t)(size + skew);
		w.base = mmap(NULL, w.maplen, prot ? prot : PROT_NONE,
		    MAP_SHARED, f->fds[0], (off_t)(off - skew));
		if (w.base == MAP_FAILED)
			return errno == ENOMEM ? VX_ERR_NOMEM : VX_ERR_INVALID;
		w.map = w.base + skew;
		/* the mapping keeps the memory; the frame closes the fd */
	}
	if ((nw = realloc(s->win, (s->nwin + 1) * sizeof(*nw))) == NULL) {
		window_drop(&w);
		return VX_ERR_NOMEM;
	}
	s->win = nw;
	s->win[s->nwin++] = w;
	reply_header(s, m);
	return 0;
}

static int
h_dma_unmap(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t flags = get(m, VXF_DMA_UNMAP_FLAGS), addr = get(m, VXF_DMA_ADDR);
	uint64_t size = get(m, VXF_DMA_SIZE);
	unsigned i, kept = 0, gone = 0;

	if (flags & VX_DMA_UNMAP_GET_DIRTY_BITMAP)
		return VX_ERR_UNSUPPORTED;
	if (!(flags & VX_DMA_UNMAP_ALL)) {
		/* the spec: address and size match a mapping exactly */
		for (i = 0; i < s->nwin; i++)
			if (s->win[i].addr == addr && s->win[i].size == size)
				break;
		if (i == s->nwin)
			return VX_ERR_NOENT;
		gone = i;
	}
	for (i = 0; i < s->nwin; i++) {
		if ((flags & VX_DMA_UNMAP_ALL) || i == gone)
			window_drop(&s->win[i]);
		else
			s->win[kept++] = s->win[i];
	}
	s->nwin = kept;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 24);
	vx_build_uint(&s->b, VXF_DMA_UNMAP_FLAGS, flags);
	vx_build_uint(&s->b, VXF_DMA_ADDR, addr);
	vx_build_uint(&s->b, VXF_DMA_SIZE, size);
	return 0;
}

/* --- migration ------------------------------------------------------- */

/*
 * Next state on the way from cur to target, by the spec's direct arcs
 * (without P2P): the shortest path with no saving state (PRE_COPY,
 * STOP_COPY) inside it.  0 (VX_MIG_ERROR) means no way: STOP_COPY to
 * PRE_COPY is refused, as the spec asks.
 */
static int
mig_next_hop(int cur, int target)
{
	switch (cur) {
	case VX_MIG_RUNNING:
		return target == VX_MIG_PRE_COPY ? VX_MIG_PRE_COPY : VX_MIG_STOP;
	case VX_MIG_STOP:
		return target == VX_MIG_PRE_COPY ? VX_MIG_RUNNING : target;
	case VX_MIG_STOP_COPY:
		return target == VX_MIG_PRE_COPY ? VX_MIG_ERROR : VX_MIG_STOP;
	case VX_MIG_RESUMING:
		return VX_MIG_STOP;
	case VX_MIG_PRE_COPY:
		return target == VX_MIG_STOP_COPY ? VX_MIG_STOP_COPY :
		    VX_MIG_RUNNING;
	default:
		return VX_MIG_ERROR;
	}
}

static void
mig_drop(struct mig *g)
{
	free(g->buf);
	g->buf = NULL;
	g->len = g->pos = g->cap = 0;
}

/* Take one arc; returns 0 or VX_ERR_* (the state is then ERROR). */
static int
mig_arc(struct vx_server *s, int to)
{
	struct mig *g = &s->mig;
	int from = g->state, r;

	switch (to) {
	case VX_MIG_STOP_COPY:
		/* the whole state, taken now that the device is stopped */
		mig_drop(g);
		if ((g->buf = vx_device_save(s->dev, &g->len)) == NULL)
			goto fail_nomem;
		g->cap = g->len;
		break;
	case VX_MIG_PRE_COPY:
		/* nothing to send before stop-copy: an empty stream */
		mig_drop(g);
		break;
	case VX_MIG_RESUMING:
		mig_drop(g);
		/* learn how much a whole state is, to bound the input */
		if ((g->buf = vx_device_save(s->dev, &g->cap)) == NULL)
			goto fail_nomem;
		break;
	case VX_MIG_STOP:
		if (from == VX_MIG_RESUMING) {
			r = vx_device_restore(s->dev, g->buf, g->len);
			mig_drop(g);
			if (r != 0) {
				say(s, "migration data does not fit this device");
				g->state = VX_MIG_ERROR;
				return r;
			}
		} else {
			mig_drop(g);
		}
		break;
	default:	/* RUNNING */
		mig_drop(g);
		break;
	}
	say(s, "migration state %s -> %s",
	    vx_tok_name(vx_names_mig_state, (uint64_t)from),
	    vx_tok_name(vx_names_mig_state, (uint64_t)to));
	g->state = to;
	if (to == VX_MIG_RUNNING)
		release_held(s);
	return 0;
fail_nomem:
	g->state = VX_MIG_ERROR;
	return VX_ERR_NOMEM;
}

static int
mig_set(struct vx_server *s, uint64_t target)
{
	int next, r;

	if (target == VX_MIG_ERROR || target == VX_MIG_RUNNING_P2P ||
	    target == VX_MIG_PRE_COPY_P2P || target >= VX_MIG_NUM_STATES)
		return VX_ERR_INVALID;
	if (s->mig.state == VX_MIG_ERROR)
		return VX_ERR_INVALID;	/* only DEVICE_RESET leaves ERROR */
	while (s->mig.state != (int)target) {
		if ((next = mig_next_hop(s->mig.state, (int)target)) == VX_MIG_ERROR)
			return VX_ERR_INVALID;
		if ((r = mig_arc(s, next)) != 0)
			return r;
	}
	return 0;
}

/* --- dirty page logging --------------------------------------------- */

static int
log_start(struct vx_server *s, const struct vx_msg *m)
{
	struct dirty *g = &s->log;
	uint64_t ps = get(m, VXF_LOG_PAGE_SIZE), nr = get(m, VXF_LOG_NUM_RANGES);
	uint32_t i;
	unsigned k = 0;

	if (g->on)
		return VX_ERR_BUSY;
	if (ps == 0 || (ps & (ps - 1)) != 0)
		return VX_ERR_INVALID;
	if (nr > LOG_MAX_RANGES)
		return VX_ERR_TOO_LARGE;
	memset(g, 0, sizeof(*g));
	for (i = 0; i < m->nitems && k < nr; i++) {
		if (m->items[i].field == VXF_LOG_IOVA)
			g->iova[k] = m->items[i].val;
		if (m->items[i].field == VXF_LOG_LENGTH)
			g->len[k++] = m->items[i].val;
	}
	g->nranges = k;
	g->page_size = ps;
	g->on = 1;
	/* the reply is the request: we keep the page size asked for */
	reply_header(s, m);
	vx_build_bytes(&s->b, VXF_PAYLOAD, m->buf + VX_HDR_SIZE,
	    m->len - VX_HDR_SIZE);
	return 0;
}

static int
log_report(struct vx_server *s, const struct vx_msg *m)
{
	struct dirty *g = &s->log;
	uint64_t argsz = get(m, VXF_ARGSZ), flags = get(m, VXF_FEAT_FLAGS);
	uint64_t iova = get(m, VXF_LOG_IOVA), length = get(m, VXF_LOG_LENGTH);
	uint64_t ps = get(m, VXF_LOG_PAGE_SIZE), pages, words, lo, hi, b;
	uint64_t *bm;
	size_t i, kept = 0;

	if (!g->on)
		return VX_ERR_INVALID;
	if (length == 0 || iova + length < iova)
		return VX_ERR_INVALID;
	pages = length / ps + (length % ps != 0);
	words = pages / 64 + (pages % 64 != 0);
	if (words * 8 > s->client_xfer || words * 8 > s->max_xfer)
		return VX_ERR_TOO_LARGE;
	if (argsz < 32 + words * 8)
		return VX_ERR_INVALID;	/* no room for the bitmap */
	if ((bm = calloc((size_t)words, 8)) == NULL)
		return VX_ERR_NOMEM;
	if (g->overflow)
		memset(bm, 0xff, (size_t)words * 8);
	for (i = 0; i < g->npages; i++) {
		lo = g->pages[i] * PGSIZE;
		hi = lo + PGSIZE;
		if (hi <= iova || lo >= iova + length) {
			g->pages[kept++] = g->pages[i];	/* not asked: keep */
			continue;
		}
		if (lo < iova)
			lo = iova;
		if (hi > iova + length)
			hi = iova + length;
		for (b = (lo - iova) / ps; b <= (hi - 1 - iova) / ps; b++)
			bm[b / 64] |= 1ull << (b % 64);
	}
	g->npages = kept;	/* reported pages are clean again */
	if (g->overflow && kept == 0)
		g->overflow = 0;
	for (i = 0; i < words; i++)
		bm[i] = htole64(bm[i]);
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 32 + words * 8);
	vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
	vx_build_uint(&s->b, VXF_LOG_IOVA, iova);
	vx_build_uint(&s->b, VXF_LOG_LENGTH, length);
	vx_build_uint(&s->b, VXF_LOG_PAGE_SIZE, ps);
	vx_build_bytes(&s->b, VXF_LOG_BITMAP, bm, (size_t)words * 8);
	free(bm);
	return 0;
}

/* DMA_LOGGING_START, _STOP (set) and _REPORT (get); probe says yes. */
static int
h_logging(struct vx_server *s, const struct vx_msg *m, unsigned feature)
{
	uint64_t flags = get(m, VXF_FEAT_FLAGS);
	int setf = (flags & VX_FEATURE_SET) != 0, getf = (flags & VX_FEATURE_GET) != 0;

	if (flags & VX_FEATURE_PROBE) {
		if ((feature == VX_FEAT_DMA_LOGGING_REPORT && setf) ||
		    (feature != VX_FEAT_DMA_LOGGING_REPORT && getf))
			return VX_ERR_INVALID;
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 8);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		return 0;
	}
	switch (feature) {
	case VX_FEAT_DMA_LOGGING_START:
		return setf ? log_start(s, m) : VX_ERR_INVALID;
	case VX_FEAT_DMA_LOGGING_STOP:
		if (!setf)
			return VX_ERR_INVALID;
		log_stop(&s->log);
		reply_header(s, m);
		vx_build_bytes(&s->b, VXF_PAYLOAD, m->buf + VX_HDR_SIZE,
		    m->len - VX_HDR_SIZE);
		return 0;
	default:
		return getf ? log_report(s, m) : VX_ERR_INVALID;
	}
}

static int
h_feature(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t flags = get(m, VXF_FEAT_FLAGS), argsz = get(m, VXF_ARGSZ);
	unsigned feature = (unsigned)(flags & VX_FEATURE_MASK);
	int getf = (flags & VX_FEATURE_GET) != 0, setf = (flags & VX_FEATURE_SET) != 0;
	uint64_t target;
	int r;

	if (feature == VX_FEAT_DMA_LOGGING_START ||
	    feature == VX_FEAT_DMA_LOGGING_STOP ||
	    feature == VX_FEAT_DMA_LOGGING_REPORT)
		return h_logging(s, m, feature);
	if (feature != VX_FEAT_MIGRATION && feature != VX_FEAT_MIG_DEVICE_STATE)
		return VX_ERR_UNSUPPORTED;
	if (feature == VX_FEAT_MIGRATION && setf)
		return VX_ERR_INVALID;	/* read-only */
	if (flags & VX_FEATURE_PROBE) {
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 8);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		return 0;
	}
	if (argsz < 16)
		return VX_ERR_INVALID;	/* room for the reply's data */
	if (feature == VX_FEAT_MIGRATION) {
		reply_header(s, m);
		vx_build_uint(&s->b, VXF_ARGSZ, 16);
		vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
		vx_build_uint(&s->b, VXF_MIG_FLAGS,
		    VX_MIGRATION_STOP_COPY | VX_MIGRATION_PRE_COPY);
		return 0;
	}
	if (setf) {
		if (vx_msg_get(m, VXF_MIG_STATE, &target) < 0)
			return VX_ERR_INVALID;
		if ((r = mig_set(s, target)) != 0)
			return r;
	} else if (!getf) {
		return VX_ERR_INVALID;
	}
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 16);
	vx_build_uint(&s->b, VXF_FEAT_FLAGS, flags);
	vx_build_uint(&s->b, VXF_MIG_STATE, (uint64_t)s->mig.state);
	vx_build_uint(&s->b, VXF_MIG_DATA_FD, 0xffffffffu);	/* unused */
	return 0;
}

static int
h_mig_read(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t argsz = get(m, VXF_ARGSZ), size = get(m, VXF_MIGD_SIZE);
	struct mig *g = &s->mig;
	size_t n;

	if (g->state != VX_MIG_PRE_COPY && g->state != VX_MIG_STOP_COPY)
		return VX_ERR_INVALID;
	if (argsz < 8)
		return VX_ERR_INVALID;
	n = g->len - g->pos;
	if (n > size)
		n = (size_t)size;
	if (n > argsz - 8)
		n = (size_t)(argsz - 8);
	if (n > s->client_xfer)
		n = s->client_xfer;
	if (n > s->max_xfer)
		n = s->max_xfer;
	reply_header(s, m);
	vx_build_uint(&s->b, VXF_ARGSZ, 8 + n);
	vx_build_uint(&s->b, VXF_MIGD_SIZE, n);
	vx_build_bytes(&s->b, VXF_MIGD_DATA, n ? g->buf + g->pos : NULL, n);
	g->pos += n;
	return 0;
}

static int
h_mig_write(struct vx_server *s, const struct vx_msg *m)
{
	uint64_t size = get(m, VXF_MIGD_SIZE);
	const struct vx_item *data = vx_msg_item(m, VXF_MIGD_DATA);
	struct mig *g = &s->mig;

	if (g->state != VX_MIG_RESUMING)
		return VX_ERR_INVALID;
	if (size > g->cap - g->len)
		return VX_ERR_INVALID;	/* more than a whole device state */
	if (size)
		memcpy(g->buf + g->len, data->ptr, (size_t)size);
	g->len += (size_t)size;
	reply_header(s, m);
	return 0;
}

static int
h_reset(struct vx_server *s, const struct vx_msg *m)
{
	unsigned i, j;

	vx_device_reset(s->dev);
	mig_drop(&s->mig);
	s->mig.state = VX_MIG_RUNNING;
	for (i = 0; i < VX_DEV_NIRQS; i++)
		for (j = 0; j < s->dev->irq_count[i]; j++)
			s->irq[i][j].masked = s->irq[i][j].pending = 0;
	reply_header(s, m);
	return 0;
}

/* Run one decoded command; 0 with a reply in s->b, or VX_ERR_*. */
static int
dispatch(struct vx_server *s, const struct vx_msg *m, struct vx_frame *f,
    int *fd)
{
	if (m->status == VX_MSG_UNKNOWN)
		return VX_ERR_UNKNOWN;
	if (m->status != VX_MSG_OK)
		return VX_ERR_INVALID;
	if (!s->negotiated && m->cmd != VX_CMD_VERSION)
		return VX_ERR_INVALID;	/* nothing before VERSION */
	switch (m->cmd) {
	case VX_CMD_VERSION:
		return h_version(s, m, fd);
	case VX_CMD_DMA_MAP:
		return h_dma_map(s, m, f);
	case VX_CMD_DMA_UNMAP:
		return h_dma_unmap(s, m);
	case VX_CMD_DEVICE_GET_INFO:
		return h_device_info(s, m);
	case VX_CMD_DEVICE_GET_REGION_INFO:
		return h_region_info(s, m, fd);
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		return h_io_fds(s, m);
	case VX_CMD_DEVICE_GET_IRQ_INFO:
		return h_irq_info(s, m);
	case VX_CMD_DEVICE_SET_IRQS:
		return h_set_irqs(s, m, f);
	case VX_CMD_REGION_READ:
	case VX_CMD_REGION_WRITE:
		return h_region_rw(s, m);
	case VX_CMD_REGION_WRITE_MULTI:
		return h_write_multi(s, m);
	case VX_CMD_DEVICE_RESET:
		return h_reset(s, m);
	case VX_CMD_DEVICE_FEATURE:
		return h_feature(s, m);
	case VX_CMD_MIG_DATA_READ:
		return h_mig_read(s, m);
	case VX_CMD_MIG_DATA_WRITE:
		return h_mig_write(s, m);
	default:
		/* DMA_READ/WRITE are ours to send; 14 is withdrawn */
		return VX_ERR_UNKNOWN;
	}
}


/* --- DMA through messages: a continuation ------------------------------ */

/* Send the next piece of s->x, as much as the client accepts. */
static int
xfer_send(struct vx_server *s)
{
	struct xfer *x = &s->x;
	int write = x->dir == VX_DMA_TO_CLIENT;
	uint64_t addr = x->addr + x->done;
	struct vx_msg m;
	int r;

	x->piece = x->len - x->done;
	if (x->piece > s->client_xfer)
		x->piece = s->client_xfer;
	vx_build_header(&s->db, 0, write ? VX_CMD_DMA_WRITE : VX_CMD_DMA_READ,
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&s->db, VXF_DMA_ADDR, addr);
	vx_build_uint(&s->db, s->qemu_forms ? VXF_DMA_COUNT32 : VXF_DMA_COUNT,
	    x->piece);
	if (write)
		vx_build_bytes(&s->db, VXF_DMA_DATA, x->buf + x->done, x->piece);
	if (s->qemu_forms)
		vx_build_uint(&s->db, VXF_DMA_PAD, 0);
	if ((r = vx_build_finish(&s->db, &m)) < 0)
		return VX_ERR_INVALID;
	r = vx_conn_start(s->conn, x->chan, s->db.buf, m.len, NULL, 0,
	    DMA_TIMEOUT_MS, x);
	if (r < 0)
		return r;
	m.id = (uint16_t)r;
	m.dir = VX_S2C;
	log_msg(s, &m, VX_S2C);
	return 0;
}

/* Check the client's reply to the piece in flight; copy what it read. */
static int
xfer_reply(struct vx_server *s, const struct vx_conn_event *ev)
{
	struct xfer *x = &s->x;
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	const struct vx_item *it;
	struct vx_msg m;
	uint64_t v;

	if (ev->err != 0) {
		say(s, "no reply to our DMA request: %s", vx_strerror(ev->err));
		return ev->err;
	}
	/* replies may come in any peer's form (auto tells them by size) */
	ctx.peer = s->qemu_forms ? VX_PEER_QEMU : VX_PEER_AUTO;
	ctx.chan = (uint8_t)ev->chan;
	ctx.nfds = ev->frame->nfds;
	if (vx_decode(&s->ddec, ev->frame->data, ev->frame->len, &ctx, &m) < 0)
		return VX_ERR_NOMEM;
	log_msg(s, &m, VX_C2S);
	if (m.flags & VX_F_ERROR)
		return VX_ERR_IO;
	if (m.status != VX_MSG_OK || m.cmd != ev->cmd)
		return VX_ERR_INVALID;
	if (x->dir == VX_DMA_TO_CLIENT)
		return 0;
	it = vx_msg_item(&m, VXF_DMA_DATA);
	if (it == NULL || it->len != x->piece ||
	    (vx_msg_get(&m, VXF_DMA_ADDR, &v) == 0 && v != x->addr + x->done))
		return VX_ERR_INVALID;
	memcpy(x->buf + x->done, it->ptr, x->piece);
	return 0;
}

/* The -v line of a held reply, now that it goes. */
static void
log_held(struct vx_server *s, const uint8_t *reply, size_t len)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;

	if (vx_decode(&s->ddec, reply, len, &ctx, &m) == 0)
		log_msg(s, &m, VX_S2C);
}

/* The transfer is over: the device learns how, the handler replies. */
static void
xfer_end(struct vx_server *s, int err)
{
	struct xfer *x = &s->x;
	uint8_t *reply = x->reply;
	size_t rlen = x->rlen;

	memset(x, 0, sizeof(*x));
	vx_device_dma_done(s->dev, err);
	if (reply != NULL && s->verbose)
		log_held(s, reply, rlen);
	if (reply != NULL && s->conn != NULL &&
	    vx_conn_send(s->conn, VX_CHAN_MAIN, reply, rlen, NULL, 0) < 0)
		s->dead = vx_conn_ended(s->conn) ? vx_conn_ended(s->conn) :
		    VX_ERR_IO;
	free(reply);
}

/* A reply to our piece in flight: the next piece, or the end. */
static void
xfer_step(struct vx_server *s, const struct vx_conn_event *ev)
{
	struct xfer *x = &s->x;
	int r;

	if ((r = xfer_reply(s, ev)) == 0) {
		x->done += x->piece;
		if (x->done == x->len)
			r = 1;
		else
			r = xfer_send(s);
	}
	if (r != 0)
		xfer_end(s, r > 0 ? 0 : r);
}

/*
 * DMA through a mapped window.  The client may have shrunk the file behind
 * it since DMA_MAP: the copy is guarded, and a vanished page is a DMA
 * error for the device, not a SIGBUS for us.
 */
static int
dma_mapped(struct vx_server *s, const struct window *w, int dir,
    uint64_t addr, void *buf, size_t len)
{
	uint8_t *mem = w->map + (addr - w->addr);
	int to = dir == VX_DMA_TO_CLIENT;
	int r;

	if ((r = vx_copy_guarded(to ? mem : buf, to ? buf : mem, len)) == 0)
		return 0;
	notice(s, "DMA %s 0x%" PRIx64 "+%zu failed: the client's memory "
	    "behind window 0x%" PRIx64 "+0x%" PRIx64 " is gone (its file "
	    "shrank)", to ? "to" : "from", addr, len, w->addr, w->size);
	return r;
}

/* vx_device_ops.dma: at once through a window, else a continuation. */
static int
dev_dma(void *ctx, int dir, uint64_t addr, void *buf, size_t len)
{
	struct vx_server *s = ctx;
	struct window *w;
	int r;

	if (len == 0)
		return 0;
	if (!running(s))
		return VX_ERR_BUSY;	/* a stopped device does no DMA */
	if (s->conn == NULL || s->dead || s->x.on ||
	    (w = find_window(s, addr, len)) == NULL)
		return VX_ERR_FAULT;
	if (!(w->flags & (dir == VX_DMA_TO_CLIENT ? VX_DMA_MAP_WRITE :
	    VX_DMA_MAP_READ)))
		return VX_ERR_PERM;
	if (dir == VX_DMA_TO_CLIENT)
		log_write(&s->log, addr, len);
	if (w->map != NULL)
		return dma_mapped(s, w, dir, addr, buf, len);
	memset(&s->x, 0, sizeof(s->x));
	s->x.dir = dir;
	s->x.addr = addr;
	s->x.buf = buf;
	s->x.len = len;
	s->x.chan = vx_conn_twin(s->conn) >= 0 ? VX_CHAN_TWIN : VX_CHAN_MAIN;
	if ((r = xfer_send(s)) < 0)
		return r;
	s->x.on = 1;
	return VX_ERR_AGAIN;
}

static const struct vx_device_ops dev_ops = { dev_irq, dev_dma };

/* --- requests ---------------------------------------------------------- */

/* Twin-socket mode: a socket pair, our end for DMA_READ/DMA_WRITE. */
static int
twin_setup(struct vx_server *s)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return VX_ERR_IO;
	vx_conn_set_twin(s->conn, sv[0]);
	s->twin_give = sv[1];
	return 0;
}

/* Send the reply built in s->b, or keep it for a suspended handler. */
static int
send_reply(struct vx_server *s, int fd, int suspended)
{
	struct vx_msg m;
	int r;

	if ((r = vx_build_finish(&s->b, &m)) < 0)
		return r;
	m.dir = VX_S2C;
	if (suspended) {
		say(s, "reply 0x%04x waits for the DMA transfer", m.id);
		if ((s->x.reply = malloc(m.len)) == NULL)
			return VX_ERR_NOMEM;
		memcpy(s->x.reply, m.buf, m.len);
		s->x.rlen = m.len;
		return 0;
	}
	log_msg(s, &m, VX_S2C);
	return vx_conn_send(s->conn, VX_CHAN_MAIN, m.buf, m.len, &fd, fd >= 0);
}

static void
send_error(struct vx_server *s, uint16_t id, uint16_t cmd, int err)
{
	struct vx_msg m;

	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
	    (uint32_t)vx_err_to_errno(err));
	if (vx_build_finish(&s->b, &m) < 0)
		return;
	m.dir = VX_S2C;
	log_msg(s, &m, VX_S2C);
	if (vx_conn_send(s->conn, VX_CHAN_MAIN, m.buf, m.len, NULL, 0) < 0)
		s->dead = VX_ERR_IO;
}

/* Run one decoded request; its reply, error, or nothing for no_reply. */
static void
on_request(struct vx_server *s, struct vx_conn_event *ev)
{
	struct vx_frame *f = ev->frame;
	struct vx_msg m;
	int err, fd = -1, busy = s->x.on, r;

	/* the connection decoded it on arrival, for its session */
	if (vx_conn_decode(s->conn, ev, &m) < 0) {
		err = VX_ERR_NOMEM;
	} else {
		log_msg(s, &m, VX_C2S);
		err = dispatch(s, &m, f, &fd);
	}
	if (ev->flags & VX_F_NO_REPLY) {
		/* never a reply, not even an error */
		if (err != 0)
			say(s, "no_reply command 0x%04x failed: %s", ev->id,
			    vx_strerror(err));
		return;
	}
	if (err == 0) {
		r = send_reply(s, fd, s->x.on && !busy);
		if (r == VX_ERR_TOO_LARGE || r == VX_ERR_FDS)
			err = r;
		else if (r < 0)
			s->dead = r;
	}
	if (err != 0 && !s->dead)
		send_error(s, ev->id, ev->cmd, err);
	if (err == VX_ERR_UNSUPPORTED && ev->cmd == VX_CMD_VERSION &&
	    !s->negotiated)
		say(s, "client proposed an unsupported protocol version");
	if (s->twin_give >= 0) {
		close(s->twin_give);	/* the client has its end now */
		s->twin_give = -1;
	}
}

/* A frame that cannot be framed or decoded as it stands. */
static void
on_bad(struct vx_server *s, const struct vx_conn_event *ev)
{
	if (ev->err == VX_ERR_TOO_LARGE) {
		/* the rest of the stream cannot be framed any more */
		snprintf(s->errmsg, sizeof(s->errmsg), "message 0x%04x is "
		    "over our limit of %u bytes; dropping the client", ev->id,
		    VX_MSG_FOR_XFER(s->max_xfer));
		say(s, "%s", s->errmsg);
		s->dead = VX_ERR_TOO_LARGE;
		return;
	}
	say(s, "bad frame 0x%04x: %s", ev->id, vx_strerror(ev->err));
	if (!(ev->flags & VX_F_NO_REPLY) && ev->chan == VX_CHAN_MAIN)
		send_error(s, ev->id, ev->cmd, VX_ERR_INVALID);
}

/* A reply no call of ours awaits, or a command on the twin socket. */
static void
on_stray(struct vx_server *s, struct vx_conn_event *ev)
{
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;

	ctx.chan = (uint8_t)ev->chan;
	ctx.nfds = ev->frame->nfds;
	if (s->verbose && vx_decode(&s->ddec, ev->frame->data,
	    ev->frame->len, &ctx, &m) == 0)
		log_msg(s, &m, VX_C2S);
	if (ev->kind == VX_CONN_EV_REQUEST)
		say(s, "dropping a client command on the twin socket");
	else
		say(s, "dropping a reply to no command of ours");
}

static void
on_event(struct vx_server *s, struct vx_conn_event *ev)
{
	switch (ev->kind) {
	case VX_CONN_EV_REQUEST:
		if (ev->chan == VX_CHAN_MAIN)
			on_request(s, ev);
		else
			on_stray(s, ev);	/* the twin carries ours only */
		break;
	case VX_CONN_EV_CALL:
		if (ev->cookie == &s->x && s->x.on)
			xfer_step(s, ev);
		break;
	case VX_CONN_EV_STRAY:
		on_stray(s, ev);
		break;
	case VX_CONN_EV_BAD:
		on_bad(s, ev);
		break;
	default:	/* VX_CONN_EV_CLOSED */
		snprintf(s->errmsg, sizeof(s->errmsg), "%s",
		    vx_conn_errmsg(s->conn));
		s->dead = ev->err ? ev->err : VX_ERR_CLOSED;
		break;
	}
}

/* --- deadlines on the client ------------------------------------------ */

/* VERSION, each message and each reply in time (deadline-int.h). */
static void
check_deadlines(struct vx_server *s)
{
	if (vx_deadlines_check(&s->dl, s->conn, s->negotiated, "VERSION",
	    s->errmsg, sizeof(s->errmsg)) < 0)
		s->dead = VX_ERR_TIMEOUT;
}

/* --- the public face --------------------------------------------------- */

struct vx_server *
vx_server_new(struct vx_device *dev, uint32_t max_xfer)
{
	struct vx_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->scratch = malloc(max_xfer)) == NULL) {
		free(s);
		return NULL;
	}
	s->dev = dev;
	s->max_xfer = max_xfer;
	s->twin_give = -1;
	s->mig.state = VX_MIG_RUNNING;
	vx_decoder_init(&s->ddec);
	vx_builder_init(&s->b);
	vx_builder_init(&s->db);
	dev->ops = &dev_ops;
	dev->ctx = s;
	return s;
}

void
vx_server_free(struct vx_server *s)
{
	if (s == NULL)
		return;
	vx_server_detach(s);
	s->dev->ops = NULL;
	s->dev->ctx = NULL;
	free(s->scratch);
	mig_drop(&s->mig);
	log_stop(&s->log);
	vx_builder_release(&s->b);
	vx_builder_release(&s->db);
	vx_decoder_release(&s->ddec);
	free(s);
}

void
vx_server_set_deadlines(struct vx_server *s, int handshake_ms, int message_ms)
{
	vx_deadlines_set(&s->dl, handshake_ms, message_ms);
}

void
vx_server_set_log(struct vx_server *s, vx_server_log_fn *fn, void *arg,
    int verbose)
{
	s->logfn = fn;
	s->logarg = arg;
	s->verbose = fn != NULL && verbose;
}

int
vx_server_attach(struct vx_server *s, int sock)
{
	struct vx_limits lim = { VX_MSG_FOR_XFER(s->max_xfer), MAX_MSG_FDS };
	unsigned i, j;

	if (s->conn != NULL)
		return VX_ERR_BUSY;
	if ((s->conn = vx_conn_new(sock, VX_CONN_SERVER, &lim)) == NULL)
		return VX_ERR_NOMEM;
	vx_conn_set_next_id(s->conn, 0);	/* our DMA requests count from 0 */
	s->negotiated = s->write_multi = s->qemu_forms = s->dead = 0;
	s->client_xfer = VX_DEF_MAX_XFER;
	s->errmsg[0] = '\0';
	vx_deadlines_start(&s->dl);
	for (i = 0; i < VX_DEV_NIRQS; i++) {
		s->irq[i] = calloc(s->dev->irq_count[i] + 1, sizeof(*s->irq[i]));
		if (s->irq[i] == NULL) {
			vx_server_detach(s);
			return VX_ERR_NOMEM;
		}
		for (j = 0; j < s->dev->irq_count[i]; j++)
			s->irq[i][j].fd = -1;
	}
	return 0;
}

void
vx_server_detach(struct vx_server *s)
{
	unsigned i;

	if (s->conn == NULL)
		return;
	for (i = 0; i < s->nwin; i++)
		window_drop(&s->win[i]);
	free(s->win);
	s->win = NULL;
	s->nwin = 0;
	log_stop(&s->log);	/* logging is the client's, like its windows */
	for (i = 0; i < VX_DEV_NIRQS; i++) {
		if (s->irq[i] != NULL)
			irq_close(s, i, 0, s->dev->irq_count[i]);
		free(s->irq[i]);
		s->irq[i] = NULL;
	}
	vx_conn_free(s->conn);
	s->conn = NULL;
	if (s->x.on) {
		free(s->x.reply);
		s->x.reply = NULL;
		xfer_end(s, VX_ERR_CLOSED);	/* a transfer cut off */
	}
	if (s->twin_give >= 0)
		close(s->twin_give);
	s->twin_give = -1;
}

int
vx_server_attached(const struct vx_server *s)
{
	return s->conn != NULL;
}

int
vx_server_pollfds(const struct vx_server *s, struct pollfd *pfd)
{
	return s->conn != NULL ? vx_conn_pollfds(s->conn, pfd) : 0;
}

int
vx_server_timeout(const struct vx_server *s)
{
	if (s->conn == NULL)
		return -1;
	if (s->dead)
		return 0;
	return vx_deadlines_timeout(&s->dl, vx_conn_timeout(s->conn));
}

int
vx_server_step(struct vx_server *s)
{
	struct vx_conn_event ev;
	int n, r;

	if (s->conn == NULL)
		return VX_ERR_CLOSED;
	for (n = 0; n < STEP_BUDGET && !s->dead; n++) {
		if ((r = vx_conn_step(s->conn, &ev)) < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
			s->dead = r;
		} else if (r == 0) {
			break;
		} else {
			on_event(s, &ev);
		}
	}
	if (!s->dead)
		check_deadlines(s);
	return s->dead;
}

const char *
vx_server_errmsg(const struct vx_server *s)
{
	return s->errmsg;
}

int
vx_server_negotiated(const struct vx_server *s)
{
	return s->negotiated;
}

