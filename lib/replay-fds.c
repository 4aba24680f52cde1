/*
 * replay-fds.c - the descriptors a replay makes in place of the recorded
 * ones (replay-int.h): memfds backing DMA windows, zero-filled as a
 * fresh client's are, with what the recording client gave the server's
 * DMA_READs written in as the trace goes; eventfds for interrupts; and
 * the server's DMA_READ/DMA_WRITE answered from this process's copy of
 * client memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "replay-int.h"
#include "vx-array.h"
#include "vx-error.h"
#include "vx-sock.h"

/* Largest window backed at all. */
#define WIN_MAX		(1ull << 32)

static void
free_win(struct rwin *w)
{
	if (w->map != NULL)
		munmap(w->map, w->maplen);
}

void
rfds_free(struct rfds *f)
{
	size_t i;

	for (i = 0; i < f->nwins; i++)
		free_win(&f->wins[i]);
	for (i = 0; i < f->nirqs; i++)
		close(f->irqs[i].fd);
	free(f->wins);
	free(f->irqs);
	memset(f, 0, sizeof(*f));
}

static int
add_win(struct rfds *f, const struct rwin *w)
{
	struct rwin *v = vx_array_room(f->wins, f->nwins, &f->wcap,
	    sizeof(*v), 4);

	if (v == NULL)
		return VX_ERR_NOMEM;
	f->wins = v;
	f->wins[f->nwins++] = *w;
	return 0;
}

static void
remove_win(struct rfds *f, size_t i)
{
	free_win(&f->wins[i]);
	memmove(&f->wins[i], &f->wins[i + 1],
	    (f->nwins - i - 1) * sizeof(f->wins[0]));
	f->nwins--;
}

void
rfds_unmap_addr(struct rfds *f, uint64_t addr)
{
	size_t i;

	for (i = 0; i < f->nwins; i++)
		if (f->wins[i].addr == addr) {
			remove_win(f, i);
			return;
		}
}

void
rfds_unmapped(struct rfds *f, uint64_t flags, uint64_t addr, uint64_t size)
{
	size_t i;

	for (i = f->nwins; i-- > 0;)
		if ((flags & VX_DMA_UNMAP_ALL) || (f->wins[i].addr == addr &&
		    f->wins[i].size == size))
			remove_win(f, i);
}

/*
 * The window of a DMA_MAP: on the memfd fd (covering offset + size) when
 * there is one, else anonymous memory.  Either starts as zeros, as the
 * recording client's fresh memfd or heap memory did.
 */
static int
map_window(struct rfds *f, const struct vx_msg *m, int fd, char *why,
    size_t whycap)
{
	uint64_t flags = 0, off = 0, addr = 0, size = 0;
	struct rwin w;
	void *p;

	vx_msg_get(m, VXF_DMA_MAP_FLAGS, &flags);
	vx_msg_get(m, VXF_DMA_MAP_OFFSET, &off);
	vx_msg_get(m, VXF_DMA_ADDR, &addr);
	vx_msg_get(m, VXF_DMA_SIZE, &size);
	if (size == 0)
		return 0;	/* no window: the server says what it thinks */
	if (size > WIN_MAX || off > WIN_MAX) {
		snprintf(why, whycap, "DMA window 0x%llx+0x%llx at offset "
		    "0x%llx is beyond what a replay backs (4 GiB)",
		    (unsigned long long)addr, (unsigned long long)size,
		    (unsigned long long)off);
		return VX_ERR_TOO_LARGE;
	}
	memset(&w, 0, sizeof(w));
	w.addr = addr;
	w.size = size;
	w.prot = (uint32_t)flags & (VX_DMA_MAP_READ | VX_DMA_MAP_WRITE);
	w.maplen = (size_t)(off + size);
	p = mmap(NULL, w.maplen, PROT_READ | PROT_WRITE, fd >= 0 ? MAP_SHARED :
	    MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(why, whycap, "mapping a DMA window of 0x%llx bytes: "
		    "%s", (unsigned long long)size, strerror(errno));
		return VX_ERR_IO;
	}
	w.map = p;
	w.mem = w.map + off;
	if (add_win(f, &w) < 0) {
		free_win(&w);
		return VX_ERR_NOMEM;
	}
	return 0;
}

static int
new_memfd(off_t size, char *why, size_t whycap)
{
	int fd = memfd_create("vfuctl-replay", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0) {
		snprintf(why, whycap, "memfd of %lld bytes: %s",
		    (long long)size, strerror(errno));
		if (fd >= 0)
			close(fd);
		return VX_ERR_IO;
	}
	return fd;
}

/* The eventfd ours gives vector: kept (a dup) until replaced. */
static int
keep_irq(struct rfds *f, uint32_t index, uint32_t vector, int fd)
{
	struct rirq *v;
	size_t i;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (d < 0)
		return VX_ERR_IO;
	for (i = 0; i < f->nirqs; i++)
		if (f->irqs[i].index == index && f->irqs[i].vector == vector) {
			close(f->irqs[i].fd);
			f->irqs[i].fd = d;
			return 0;
		}
	v = vx_array_room(f->irqs, f->nirqs, &f->icap, sizeof(*v), 4);
	if (v == NULL) {
		close(d);
		return VX_ERR_NOMEM;
	}
	f->irqs = v;
	f->irqs[f->nirqs++] = (struct rirq){ index, vector, d };
	return 0;
}

/* SET_IRQS with no data and count 0 disables every vector of the index. */
static void
drop_irqs(struct rfds *f, uint32_t index)
{
	size_t i;

	for (i = f->nirqs; i-- > 0;)
		if (f->irqs[i].index == index) {
			close(f->irqs[i].fd);
			f->irqs[i] = f->irqs[--f->nirqs];
		}
}

int
rfds_irq_fd(const struct rfds *f, uint32_t index, uint32_t vector)
{
	size_t i;

	for (i = 0; i < f->nirqs; i++)
		if (f->irqs[i].index == index && f->irqs[i].vector == vector)
			return f->irqs[i].fd;
	return -1;
}

static int
one_fd(const struct vx_fd_info *info, char *why, size_t whycap)
{
	switch (info->kind) {
	case VX_FD_MEMFD:
	case VX_FD_FILE:
		/* a trace's word only: no bigger than any window needs */
		return new_memfd(info->size < 0 ? 0 : info->size >
		    (off_t)(2 * WIN_MAX) ? (off_t)(2 * WIN_MAX) : info->size,
		    why, whycap);
	case VX_FD_EVENTFD:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	default:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
}

static void
close_all(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

static int
irqs_made(struct rfds *f, const struct vx_msg *m, const int *fds, int n)
{
	uint64_t flags = 0, index = 0, start = 0, count = 0;
	int i, err;

	vx_msg_get(m, VXF_IRQ_SET_FLAGS, &flags);
	vx_msg_get(m, VXF_IRQ_INDEX, &index);
	vx_msg_get(m, VXF_IRQ_START, &start);
	vx_msg_get(m, VXF_IRQ_COUNT, &count);
	if ((flags & VX_IRQ_DATA_NONE) && count == 0)
		drop_irqs(f, (uint32_t)index);
	if (!(flags & VX_IRQ_DATA_EVENTFD))
		return 0;
	for (i = 0; i < n; i++)
		if ((err = keep_irq(f, (uint32_t)index, (uint32_t)(start + i),
		    fds[i])) < 0)
			return err;
	return 0;
}

int
rfds_make(struct rfds *f, const struct vx_msg *m,
    const struct vx_trace_rec *rec, int *fds, char *why, size_t whycap)
{
	unsigned i, n = rec->nfds;
	int err = 0;

	if (n > VX_TRACE_MAX_FDS)
		n = VX_TRACE_MAX_FDS;
	for (i = 0; i < n; i++) {
		struct vx_fd_info info = rec->fds[i];

		if (m->cmd == VX_CMD_DMA_MAP && i == 0) {
			uint64_t off = 0, size = 0;

			vx_msg_get(m, VXF_DMA_MAP_OFFSET, &off);
			vx_msg_get(m, VXF_DMA_SIZE, &size);
			/* room for the window, whatever the record says */
			if ((uint64_t)info.size < off + size &&
			    off + size <= WIN_MAX)
				info.size = (off_t)(off + size);
		}
		if ((fds[i] = one_fd(&info, why, whycap)) < 0) {
			err = VX_ERR_IO;
			if (fds[i] != VX_ERR_IO)
				snprintf(why, whycap, "descriptor: %s",
				    strerror(errno));
			break;
		}
	}
	if (err == 0 && m->cmd == VX_CMD_DMA_MAP && m->status == VX_MSG_OK)
		err = map_window(f, m, n > 0 ? fds[0] : -1, why, whycap);
	if (err == 0 && m->cmd == VX_CMD_DEVICE_SET_IRQS)
		err = irqs_made(f, m, fds, (int)n);
	if (err < 0) {
		close_all(fds, (int)i);
		return err;
	}
	return (int)n;
}

/* --- the server's DMA ------------------------------------------------------- */

static struct rwin *find_win(struct rfds *f, uint64_t addr, uint64_t len);

void
rfds_recorded_read(struct rfds *f, const struct vx_msg *m)
{
	const struct vx_item *data = vx_msg_item(m, VXF_DMA_DATA);
	struct rwin *w;
	uint64_t addr;

	if (data == NULL || data->ptr == NULL ||
	    vx_msg_get(m, VXF_DMA_ADDR, &addr) < 0 ||
	    (w = find_win(f, addr, data->len)) == NULL)
		return;
	memcpy(w->mem + (addr - w->addr), data->ptr, data->len);
}

static struct rwin *
find_win(struct rfds *f, uint64_t addr, uint64_t len)
{
	size_t i;

	for (i = 0; i < f->nwins; i++) {
		struct rwin *w = &f->wins[i];

		if (addr >= w->addr && len <= w->size &&
		    addr - w->addr <= w->size - len)
			return w;
	}
	return NULL;
}

static int
refuse(struct vx_conn *c, struct vx_builder *b, const struct vx_conn_event *ev,
    int err)
{
	struct vx_msg m;

	vx_build_header(b, ev->id, ev->cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
	    (uint32_t)err);
	if (vx_build_finish(b, &m) < 0)
		return VX_ERR_NOMEM;
	vx_conn_send(c, ev->chan, m.buf, m.len, NULL, 0);
	return 0;
}

int
rfds_serve(struct rfds *f, struct vx_conn *c, struct vx_builder *b,
    const struct vx_conn_event *ev)
{
	const struct vx_item *data;
	uint64_t addr, count;
	struct rwin *w;
	struct vx_msg m;
	int read = ev->cmd == VX_CMD_DMA_READ;

	if (ev->flags & VX_F_NO_REPLY)
		return 0;
	if (ev->cmd != VX_CMD_DMA_READ && ev->cmd != VX_CMD_DMA_WRITE)
		return refuse(c, b, ev, ENOTSUP);
	if (vx_conn_decode(c, ev, &m) < 0 || m.status == VX_MSG_MALFORMED ||
	    vx_msg_get(&m, VXF_DMA_ADDR, &addr) < 0 ||
	    (vx_msg_get(&m, VXF_DMA_COUNT, &count) < 0 &&
	    vx_msg_get(&m, VXF_DMA_COUNT32, &count) < 0))
		return refuse(c, b, ev, EINVAL);
	data = vx_msg_item(&m, VXF_DMA_DATA);
	if (!read && (data == NULL ? 0 : data->len) != count)
		return refuse(c, b, ev, EINVAL);
	/* the reply must fit what the server accepts */
	if (read && count > vx_conn_peer_max_msg_size(c) - VX_HDR_SIZE - 16)
		return refuse(c, b, ev, EINVAL);
	if ((w = find_win(f, addr, count)) == NULL)
		return refuse(c, b, ev, EFAULT);
	if (!(w->prot & (read ? VX_DMA_MAP_READ : VX_DMA_MAP_WRITE)))
		return refuse(c, b, ev, EPERM);
	vx_build_header(b, ev->id, ev->cmd, VX_F_TYPE_REPLY, 0);
	if (read) {
		vx_build_uint(b, VXF_DMA_ADDR, addr);
		vx_build_uint(b, VXF_DMA_COUNT, count);
		vx_build_bytes(b, VXF_DMA_DATA, w->mem + (addr - w->addr),
		    (size_t)count);
	} else {
		if (count > 0)
			memcpy(w->mem + (addr - w->addr), data->ptr,
			    (size_t)count);
		if (f->dma_write_reply != VX_VAR_QEMU)
			vx_build_uint(b, VXF_DMA_ADDR, addr);
		if (f->dma_write_reply == VX_VAR_SPEC)
			vx_build_uint(b, VXF_DMA_COUNT32, count);
		else if (f->dma_write_reply != VX_VAR_QEMU)
			vx_build_uint(b, VXF_DMA_COUNT, count);
	}
	if (vx_build_finish(b, &m) < 0)
		return VX_ERR_NOMEM;
	vx_conn_send(c, ev->chan, m.buf, m.len, NULL, 0);
	return 1;
}

int
rfds_hash(struct rfds *f, uint64_t addr, uint64_t n,
    char hex[2 * VX_DIGEST_LEN + 1])
{
	unsigned char h[VX_DIGEST_LEN];
	struct rwin *w = find_win(f, addr, n);

	if (w == NULL || addr != w->addr || w->map == NULL)
		return -1;
	crypto_generichash(h, sizeof(h), w->mem, (unsigned long long)n, NULL,
	    0);
	sodium_bin2hex(hex, 2 * VX_DIGEST_LEN + 1, h, sizeof(h));
	return 0;
}
