/*
 * buggy-server.c - a small vfio-user device server with three planted
 * bugs, for tests/fuzz.bats and bench/fuzz.sh: the fuzzer must find each.
 * Built with ASan by the Makefile, never installed.
 *
 *	buggy-server SOCKET | --socket-path SOCKET
 *
 * The device: PCI, 9 regions of which only bar0 (256 bytes of registers,
 * read/write) and config (256 bytes, read only) exist; 5 IRQ indexes,
 * INTx with 1 vector and MSI-X with 8.  The bugs, from shallow to deep:
 *
 *   1. DEVICE_GET_REGION_INFO checks index > 9 instead of >= 9: index 9
 *      reads one past the region table (heap out-of-bounds read).
 *   2. SET_IRQS of MSI-X with DATA_NONE|ACTION_UNMASK walks the vectors two
 *      at a time down to zero: an odd count never gets there (a hang).
 *   3. A write to bar0 offset 0x40 (the "descriptor doorbell") while a DMA
 *      window is mapped copies that many bytes from the window into a
 *      64-byte buffer: over 64 overflows the heap.
 *
 * Everything else is answered plainly, or with an ENOTSUP error reply.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vx-conn.h"
#include "vx-error.h"
#include "vx-sock.h"

#define NREGIONS	VX_PCI_NUM_REGIONS
#define BAR_SIZE	256
#define DOORBELL	0x40
#define MSIX_VECTORS	8

struct region {
	uint64_t size;
	uint32_t flags;
	uint8_t *mem;
};

struct win {
	uint64_t addr, size;
	uint8_t *mem;
};

struct dev {
	struct vx_conn *conn;
	struct vx_builder b;
	struct region *regions;		/* NREGIONS of them */
	struct win win;			/* one DMA window at most */
	uint8_t masked[MSIX_VECTORS];
	int no_reply;			/* the command at hand has No_reply */
};

static uint64_t
get(const struct vx_msg *m, unsigned field)
{
	uint64_t v = 0;

	vx_msg_get(m, field, &v);
	return v;
}

/* Every reply goes out here; none to a command sent with No_reply. */
static void
send_built(struct dev *d)
{
	struct vx_msg m;

	if (vx_build_finish(&d->b, &m) == 0 && !d->no_reply)
		vx_conn_send(d->conn, VX_CHAN_MAIN, m.buf, m.len, NULL, 0);
}

static void
reply_error(struct dev *d, const struct vx_msg *m, uint32_t err)
{
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
	    err);
	send_built(d);
}

static void
do_version(struct dev *d, const struct vx_msg *m)
{
	static const char js[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"max_data_xfer_size\":1048576}}";

	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_VER_MAJOR, 0);
	vx_build_uint(&d->b, VXF_VER_MINOR, 1);
	vx_build_bytes(&d->b, VXF_VER_JSON, js, sizeof js);
	send_built(d);
}

static void
do_info(struct dev *d, const struct vx_msg *m)
{
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_ARGSZ, 16);
	vx_build_uint(&d->b, VXF_DEV_FLAGS, VX_DEV_PCI | VX_DEV_RESET);
	vx_build_uint(&d->b, VXF_DEV_NUM_REGIONS, NREGIONS);
	vx_build_uint(&d->b, VXF_DEV_NUM_IRQS, VX_PCI_NUM_IRQS);
	send_built(d);
}

static void
do_region_info(struct dev *d, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_REGION_INDEX);
	const struct region *r;

	if (index > NREGIONS) {		/* bug 1: should be >= */
		reply_error(d, m, EINVAL);
		return;
	}
	r = &d->regions[index];
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_ARGSZ, 32);
	vx_build_uint(&d->b, VXF_RINFO_FLAGS, r->flags);
	vx_build_uint(&d->b, VXF_REGION_INDEX, index);
	vx_build_uint(&d->b, VXF_RINFO_CAP_OFFSET, 0);
	vx_build_uint(&d->b, VXF_RINFO_SIZE, r->size);
	vx_build_uint(&d->b, VXF_RINFO_OFFSET, 0);
	send_built(d);
}

static void
do_irq_info(struct dev *d, const struct vx_msg *m)
{
	uint64_t index = get(m, VXF_IRQ_INDEX);

	if (index >= VX_PCI_NUM_IRQS) {
		reply_error(d, m, EINVAL);
		return;
	}
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_ARGSZ, 16);
	vx_build_uint(&d->b, VXF_IRQ_INFO_FLAGS,
	    VX_IRQ_INFO_EVENTFD | VX_IRQ_INFO_MASKABLE);
	vx_build_uint(&d->b, VXF_IRQ_INDEX, index);
	vx_build_uint(&d->b, VXF_IRQ_COUNT, index == VX_IRQ_MSIX ?
	    MSIX_VECTORS : index == VX_IRQ_INTX);
	send_built(d);
}

static void
reply_empty(struct dev *d, const struct vx_msg *m)
{
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	send_built(d);
}

static void
do_set_irqs(struct dev *d, const struct vx_msg *m)
{
	uint64_t flags = get(m, VXF_IRQ_SET_FLAGS);
	uint64_t index = get(m, VXF_IRQ_INDEX);
	uint64_t start = get(m, VXF_IRQ_START), count = get(m, VXF_IRQ_COUNT);
	uint32_t v;

	if (index != VX_IRQ_MSIX || start > MSIX_VECTORS ||
	    count > MSIX_VECTORS - start) {
		reply_error(d, m, EINVAL);
		return;
	}
	if (flags == (VX_IRQ_DATA_NONE | VX_IRQ_ACTION_UNMASK)) {
		/* bug 2: pairs of vectors; an odd count never reaches 0 */
		for (v = (uint32_t)count; v != 0; v -= 2)
			d->masked[(start + v - 1) % MSIX_VECTORS] = 0;
	}
	reply_empty(d, m);
}

static void
do_dma_map(struct dev *d, const struct vx_msg *m, const struct vx_frame *f)
{
	uint64_t size = get(m, VXF_DMA_SIZE);
	void *p;

	if (f->nfds != 1 || d->win.mem != NULL || size == 0 ||
	    size > (1u << 20)) {
		reply_error(d, m, EINVAL);
		return;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fds[0],
	    (off_t)get(m, VXF_DMA_MAP_OFFSET));
	if (p == MAP_FAILED) {
		reply_error(d, m, EINVAL);
		return;
	}
	d->win.addr = get(m, VXF_DMA_ADDR);
	d->win.size = size;
	d->win.mem = p;
	reply_empty(d, m);
}

static void
do_dma_unmap(struct dev *d, const struct vx_msg *m)
{
	if (d->win.mem != NULL)
		munmap(d->win.mem, d->win.size);
	memset(&d->win, 0, sizeof d->win);
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_ARGSZ, 24);
	vx_build_uint(&d->b, VXF_DMA_UNMAP_FLAGS, get(m, VXF_DMA_UNMAP_FLAGS));
	vx_build_uint(&d->b, VXF_DMA_ADDR, get(m, VXF_DMA_ADDR));
	vx_build_uint(&d->b, VXF_DMA_SIZE, get(m, VXF_DMA_SIZE));
	send_built(d);
}

/* The descriptor doorbell: fetch len bytes of descriptors from DMA. */
static void
doorbell(struct dev *d, uint8_t *data, uint32_t n)
{
	uint8_t *desc;
	uint16_t len;

	if (d->win.mem == NULL || n < 2)
		return;
	memcpy(&len, data, 2);
	if (len > d->win.size)
		return;
	desc = malloc(64);
	if (desc == NULL)
		return;
	memcpy(desc, d->win.mem, len);	/* bug 3: len is never checked
					 * against 64 */
	data[2] = desc[0];		/* the first descriptor's status */
	free(desc);
}

static void
do_region_rw(struct dev *d, const struct vx_msg *m, int write)
{
	const struct vx_access *a = &m->rw;
	struct region *r;

	if (a->index >= NREGIONS || (r = &d->regions[a->index])->size == 0 ||
	    a->offset > r->size || a->count > r->size - a->offset ||
	    (write && !(r->flags & VX_REGION_WRITE))) {
		reply_error(d, m, EINVAL);
		return;
	}
	if (write) {
		memcpy(r->mem + a->offset, m->data, a->count);
		if (a->index == 0 && a->offset == DOORBELL)
			doorbell(d, r->mem + a->offset, a->count);
		if (m->flags & VX_F_NO_REPLY)
			return;
	}
	vx_build_header(&d->b, m->id, m->cmd, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&d->b, VXF_REGION_OFFSET, a->offset);
	vx_build_uint(&d->b, VXF_REGION_INDEX, a->index);
	vx_build_uint(&d->b, VXF_REGION_COUNT, a->count);
	if (!write)
		vx_build_bytes(&d->b, VXF_REGION_DATA, r->mem + a->offset,
		    a->count);
	send_built(d);
}

static void
request(struct dev *d, struct vx_conn_event *ev)
{
	struct vx_msg m;

	if (vx_conn_decode(d->conn, ev, &m) < 0)
		return;
	d->no_reply = (m.flags & VX_F_NO_REPLY) != 0;
	if (m.status != VX_MSG_OK) {
		if (!(m.flags & VX_F_NO_REPLY))
			reply_error(d, &m, EINVAL);
		return;
	}
	switch (m.cmd) {
	case VX_CMD_VERSION:		do_version(d, &m); break;
	case VX_CMD_DEVICE_GET_INFO:	do_info(d, &m); break;
	case VX_CMD_DEVICE_GET_REGION_INFO: do_region_info(d, &m); break;
	case VX_CMD_DEVICE_GET_IRQ_INFO: do_irq_info(d, &m); break;
	case VX_CMD_DEVICE_SET_IRQS:	do_set_irqs(d, &m); break;
	case VX_CMD_DMA_MAP:		do_dma_map(d, &m, ev->frame); break;
	case VX_CMD_DMA_UNMAP:		do_dma_unmap(d, &m); break;
	case VX_CMD_REGION_READ:	do_region_rw(d, &m, 0); break;
	case VX_CMD_REGION_WRITE:	do_region_rw(d, &m, 1); break;
	case VX_CMD_DEVICE_RESET:	reply_empty(d, &m); break;
	default:
		if (!(m.flags & VX_F_NO_REPLY))
			reply_error(d, &m, ENOTSUP);
	}
}

/* Serve one client until it hangs up. */
static void
serve(struct dev *d, int sock)
{
	struct pollfd pfd[VX_CONN_MAX_POLLFDS];
	struct vx_conn_event ev;
	int n, r;

	d->conn = vx_conn_new(sock, VX_CONN_SERVER, NULL);
	if (d->conn == NULL)
		return;
	vx_conn_set_peer_limits(d->conn, 8, 1u << 20);
	for (;;) {
		while ((r = vx_conn_step(d->conn, &ev)) > 0) {
			if (ev.kind == VX_CONN_EV_CLOSED)
				goto out;
			if (ev.kind == VX_CONN_EV_REQUEST)
				request(d, &ev);
		}
		if (r < 0 || (n = vx_conn_pollfds(d->conn, pfd)) == 0)
			break;
		if (poll(pfd, n, vx_conn_timeout(d->conn)) < 0 &&
		    errno != EINTR)
			break;
	}
out:
	vx_conn_free(d->conn);
	if (d->win.mem != NULL)
		munmap(d->win.mem, d->win.size);
	memset(&d->win, 0, sizeof d->win);
}

int
main(int argc, char **argv)
{
	struct dev d = { 0 };
	const char *path;
	int lfd, s;

	if (argc == 3 && strcmp(argv[1], "--socket-path") == 0)
		path = argv[2];
	else if (argc == 2)
		path = argv[1];
	else {
		fprintf(stderr, "usage: buggy-server SOCKET | "
		    "--socket-path SOCKET\n");
		return 2;
	}
	d.regions = calloc(NREGIONS, sizeof *d.regions);
	if (d.regions == NULL)
		return 1;
	d.regions[0] = (struct region){ BAR_SIZE,
	    VX_REGION_READ | VX_REGION_WRITE, calloc(1, BAR_SIZE) };
	d.regions[VX_PCI_CONFIG] = (struct region){ BAR_SIZE,
	    VX_REGION_READ, calloc(1, BAR_SIZE) };
	vx_builder_init(&d.b);
	if ((lfd = vx_sock_listen(path, 0600, 4)) < 0) {
		fprintf(stderr, "buggy-server: %s: cannot listen\n", path);
		return 1;
	}
	while ((s = vx_sock_accept(lfd)) >= 0)
		serve(&d, s);
	return 1;
}
