/*
 * session.c - per-connection state: reply pairing, negotiation, regions,
 * IRQs and DMA windows, and the findings that need that context.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* twalk_r, tdestroy */
#endif
#include <jansson.h>
#include <search.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-error.h"
#include "vx-session.h"

#define NBUCKETS	4096
#define MAX_REGIONS	256
#define MAX_PENDING	(1u << 20)
#define NIL		UINT32_MAX
/* DMA windows tracked at once, whatever a VERSION reply says: QEMU's
 * max_dma_maps, and what a state record may hold */
#define STATE_MAX_WINDOWS	65536

static const struct {
	const char *key, *text;
	int sev;
} finding_info[VX_FIND_COUNT] = {
#define VX_FINDING(id, sev, text) [VX_FIND_##id] = { #id, text, VX_SEV_##sev },
#include "findings.def"
#undef VX_FINDING
};

const char *
vx_finding_key(unsigned code)
{
	return code < VX_FIND_COUNT ? finding_info[code].key : "UNKNOWN";
}

const char *
vx_finding_text(unsigned code)
{
	return code < VX_FIND_COUNT ? finding_info[code].text : "unknown";
}

int
vx_finding_severity(unsigned code)
{
	return code < VX_FIND_COUNT ? finding_info[code].sev : VX_SEV_ERROR;
}

/* A command waiting for its reply. */
struct pending {
	uint32_t key;		/* chan << 17 | dir << 16 | msg_id */
	uint32_t next;		/* next in the bucket, oldest first */
	uint64_t frame, ts;
	uint16_t cmd;
	uint32_t argsz;		/* bound on the reply payload; 0: none */
};

struct region {
	int known;
	uint32_t flags;
	uint64_t size;
	int told;		/* INVISIBLE_MMAP said */
};

struct window {
	uint64_t addr, size;
	uint32_t flags;
	int fd;
};

struct vx_session {
	int peer_opt;			/* what the user asked for */
	/*
	 * How the capture relates to the connection: begun (its start is in
	 * the capture, or a STATE record said what came before), or mid (the
	 * first message was not VERSION and nothing said what came before:
	 * what a lone message needs is unknown, so those checks are off).
	 */
	int begun, mid;
	int windows_known;		/* mid: DMA windows are known again */
	int mid_unpaired[4];		/* mid: replies may still answer commands
					   sent before the capture, per slot */
	int peer[2];			/* profile per sender direction */
	const char *peer_name[2];
	int version_sent, version_done;
	uint64_t major, minor;		/* the client's proposal */
	uint64_t smajor, sminor;	/* the server's answer */
	struct vx_caps caps[2];		/* [VX_C2S] client's, [VX_S2C] server's */
	int twin;
	int told_main_dma;
	int64_t num_regions, num_irqs;
	struct region regions[MAX_REGIONS];
	void *windows;			/* tsearch tree of struct window */
	size_t nwin;
	int windows_lost;		/* a DMA_MAP over the limit not kept */
	uint32_t heads[NBUCKETS], tails[NBUCKETS];
	struct pending *pool;
	uint32_t npool, poolcap, freelist, npending;
	uint8_t noreply[4][65536 / 8];	/* ids sent with no_reply */
};

struct vx_session *
vx_session_new(int peer)
{
	struct vx_session *s = calloc(1, sizeof(*s));
	unsigned i;

	if (s == NULL)
		return NULL;
	s->peer_opt = peer;
	s->peer[0] = s->peer[1] = peer;
	s->peer_name[0] = s->peer_name[1] = "unknown";
	s->num_regions = s->num_irqs = -1;
	for (i = 0; i < NBUCKETS; i++)
		s->heads[i] = s->tails[i] = NIL;
	s->freelist = NIL;
	return s;
}

void
vx_session_free(struct vx_session *s)
{
	if (s == NULL)
		return;
	tdestroy(s->windows, free);
	free(s->pool);
	free(s);
}

int
vx_session_peer(const struct vx_session *s, int dir)
{
	return s->peer[dir & 1];
}

const char *
vx_session_peer_name(const struct vx_session *s, int dir)
{
	return s->peer_name[dir & 1];
}

const struct vx_caps *
vx_session_caps(const struct vx_session *s, int dir)
{
	return s->version_done || dir == VX_C2S ? &s->caps[dir & 1] : NULL;
}

int
vx_session_version(const struct vx_session *s, int dir, uint64_t *major,
    uint64_t *minor)
{
	if (dir == VX_C2S ? !s->version_sent : !s->version_done)
		return VX_ERR_NOENT;
	*major = dir == VX_C2S ? s->major : s->smajor;
	*minor = dir == VX_C2S ? s->minor : s->sminor;
	return 0;
}

static void
add(struct vx_session_result *r, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
add(struct vx_session_result *r, unsigned code, const char *fmt, ...)
{
	struct vx_finding *f;
	va_list ap;

	if (r->nfindings == sizeof(r->findings) / sizeof(r->findings[0]))
		return;
	f = &r->findings[r->nfindings++];
	f->code = (uint16_t)code;
	f->severity = (uint8_t)finding_info[code].sev;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

/* --- pairing ------------------------------------------------------------- */

static uint32_t
key_of(const struct vx_msg *m, int cmd_dir)
{
	return (uint32_t)(m->chan & 1) << 17 | (uint32_t)(cmd_dir & 1) << 16 | m->id;
}

static int
pend_push(struct vx_session *s, uint32_t key, const struct vx_msg *m,
    uint64_t frame, uint64_t ts, uint32_t argsz)
{
	uint32_t b = key % NBUCKETS, n;
	struct pending *p;

	if (s->freelist != NIL) {
		n = s->freelist;
		s->freelist = s->pool[n].next;
	} else {
		if (s->npool == s->poolcap) {
			uint32_t ncap = s->poolcap ? s->poolcap * 2 : 256;
			struct pending *np;

			if (s->poolcap >= MAX_PENDING)
				return VX_ERR_TOO_LARGE;
			np = realloc(s->pool, ncap * sizeof(*np));
			if (np == NULL)
				return VX_ERR_NOMEM;
			s->pool = np;
			s->poolcap = ncap;
		}
		n = s->npool++;
	}
	p = &s->pool[n];
	p->key = key;
	p->next = NIL;
	p->frame = frame;
	p->ts = ts;
	p->cmd = m->cmd;
	p->argsz = argsz;
	if (s->tails[b] == NIL)
		s->heads[b] = n;
	else
		s->pool[s->tails[b]].next = n;
	s->tails[b] = n;
	s->npending++;
	return 0;
}

static int
pend_has(const struct vx_session *s, uint32_t key)
{
	uint32_t n;

	for (n = s->heads[key % NBUCKETS]; n != NIL; n = s->pool[n].next)
		if (s->pool[n].key == key)
			return 1;
	return 0;
}

/* Take the oldest pending command with key; 0 if there is none. */
static int
pend_take(struct vx_session *s, uint32_t key, struct pending *out)
{
	uint32_t b = key % NBUCKETS, n, prev = NIL;

	for (n = s->heads[b]; n != NIL; prev = n, n = s->pool[n].next) {
		if (s->pool[n].key != key)
			continue;
		*out = s->pool[n];
		if (prev == NIL)
			s->heads[b] = s->pool[n].next;
		else
			s->pool[prev].next = s->pool[n].next;
		if (s->tails[b] == n)
			s->tails[b] = prev;
		s->pool[n].next = s->freelist;
		s->freelist = n;
		s->npending--;
		return 1;
	}
	return 0;
}

/* Commands whose argsz bounds the reply payload. */
static uint32_t
reply_bound(const struct vx_msg *m)
{
	uint64_t argsz;

	switch (m->cmd) {
	case VX_CMD_DMA_UNMAP:
	case VX_CMD_DEVICE_GET_INFO:
	case VX_CMD_DEVICE_GET_REGION_INFO:
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
	case VX_CMD_DEVICE_GET_IRQ_INFO:
	case VX_CMD_DEVICE_FEATURE:
	case VX_CMD_MIG_DATA_READ:
		if (vx_msg_get(m, VXF_ARGSZ, &argsz) == 0 && argsz > 0)
			return (uint32_t)(argsz > UINT32_MAX ? UINT32_MAX : argsz);
	}
	return 0;
}

/* --- checks -------------------------------------------------------------- */

/* How many fds may this message carry: [*lo, *hi]. */
static void
fd_range(const struct vx_msg *m, int *lo, int *hi)
{
	int reply = vx_msg_is_reply(m);
	uint64_t v = 0, count = 0;

	*lo = *hi = 0;
	if (m->flags & VX_F_ERROR)
		return;
	switch (m->cmd) {
	case VX_CMD_VERSION:
	case VX_CMD_DEVICE_GET_REGION_INFO:
		if (reply)
			*hi = 1;
		break;
	case VX_CMD_DMA_MAP:
		if (!reply)
			*hi = 1;
		break;
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		if (reply && vx_msg_get(m, VXF_IOFDS_COUNT, &count) == 0 &&
		    count > 0 && vx_msg_item(m, VXF_SUBREGION) != NULL) {
			*lo = 1;
			*hi = count > VX_MAX_FDS ? VX_MAX_FDS : (int)count;
		}
		break;
	case VX_CMD_DEVICE_SET_IRQS:
		if (!reply && vx_msg_get(m, VXF_IRQ_SET_FLAGS, &v) == 0 &&
		    (v & VX_IRQ_DATA_EVENTFD)) {
			vx_msg_get(m, VXF_IRQ_COUNT, &count);
			*hi = count > VX_MAX_FDS ? VX_MAX_FDS : (int)count;
		}
		break;
	}
}

static void
check_fds(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	int lo, hi;
	uint64_t count = 0;
	const struct vx_caps *rx = &s->caps[m->dir == VX_C2S ? VX_S2C : VX_C2S];

	fd_range(m, &lo, &hi);
	if (m->cmd == VX_CMD_DEVICE_SET_IRQS && hi > 0 && m->nfds != 0 &&
	    m->nfds != hi) {
		vx_msg_get(m, VXF_IRQ_COUNT, &count);
		add(r, VX_FIND_FDS, "SET_IRQS data_eventfd with count %llu needs 0 or %llu fds, got %d",
		    (unsigned long long)count, (unsigned long long)count, m->nfds);
	} else if (m->nfds < lo || m->nfds > hi) {
		add(r, VX_FIND_FDS, "%s %s may carry %d-%d fds, got %d",
		    vx_cmd_name(m->cmd) ? vx_cmd_name(m->cmd) : "message",
		    vx_msg_is_reply(m) ? "reply" : "command", lo, hi, m->nfds);
	}
	if (s->version_done && (uint64_t)m->nfds > rx->max_msg_fds)
		add(r, VX_FIND_FDS_OVER_LIMIT, "%d fds but the receiver accepts %llu",
		    m->nfds, (unsigned long long)rx->max_msg_fds);
}

static void
check_region(struct vx_session *s, struct vx_session_result *r,
    uint64_t index, uint64_t offset, uint64_t count, int write)
{
	char buf[32];
	const char *rn;
	const struct region *g;

	if (s->num_regions >= 0 && index >= (uint64_t)s->num_regions) {
		add(r, VX_FIND_NO_SUCH_REGION, "region %llu but the device has %lld",
		    (unsigned long long)index, (long long)s->num_regions);
		return;
	}
	if (index >= MAX_REGIONS || !s->regions[index].known)
		return;
	g = &s->regions[index];
	rn = vx_region_name(index, buf, sizeof(buf));
	if (offset > g->size || count > g->size - offset)
		add(r, VX_FIND_REGION_BOUNDS, "%s+0x%llx len %llu runs past its size 0x%llx",
		    rn, (unsigned long long)offset, (unsigned long long)count,
		    (unsigned long long)g->size);
	if (!(g->flags & (write ? VX_REGION_WRITE : VX_REGION_READ)))
		add(r, VX_FIND_REGION_PERM, "%s of %s, which is not %s",
		    write ? "write" : "read", rn, write ? "writable" : "readable");
}

static void
check_xfer(struct vx_session *s, const struct vx_msg *m, uint64_t count,
    struct vx_session_result *r)
{
	const struct vx_caps *rx = &s->caps[m->dir == VX_C2S ? VX_S2C : VX_C2S];

	if (s->version_done && count > rx->max_data_xfer_size)
		add(r, VX_FIND_XFER_OVER_LIMIT, "count %llu above max_data_xfer_size %llu",
		    (unsigned long long)count,
		    (unsigned long long)rx->max_data_xfer_size);
}

/*
 * The DMA windows of a connection never overlap (an overlapping DMA_MAP is
 * not kept), so they are ordered by address in a tsearch tree where
 * overlapping intervals compare equal: a search with a window or an access
 * finds a window it overlaps in O(log n).  For a total order a zero-size
 * window or access is the one byte at its address, and one running past
 * 2^64 ends at the top of the address space.
 */
static uint64_t
last_byte(uint64_t addr, uint64_t size)
{
	if (size == 0)
		return addr;
	return size - 1 > UINT64_MAX - addr ? UINT64_MAX : addr + (size - 1);
}

static int
window_cmp(const void *a, const void *b)
{
	const struct window *x = a, *y = b;

	if (last_byte(x->addr, x->size) < y->addr)
		return -1;
	if (last_byte(y->addr, y->size) < x->addr)
		return 1;
	return 0;
}

/* A mapped window that [addr, +size) overlaps, or NULL. */
static struct window *
window_overlapping(const struct vx_session *s, uint64_t addr, uint64_t size)
{
	struct window key = { addr, size, 0, 0 };
	void *node = tfind(&key, &s->windows, window_cmp);

	return node != NULL ? *(struct window **)node : NULL;
}

/*
 * The lowest window [addr, +size) overlaps, or NULL: the one holding addr,
 * else the lowest starting after it, found by halving the range below the
 * one tfind gave (at most 64 more searches, however many it overlaps).
 */
static struct window *
window_lowest(const struct vx_session *s, uint64_t addr, uint64_t size)
{
	struct window *w = window_overlapping(s, addr, size), *b;
	uint64_t lo = addr, mid;

	if (w == NULL || w->addr <= addr)
		return w;	/* none, or the one holding addr */
	if ((b = window_overlapping(s, addr, 0)) != NULL)
		return b;
	/* none overlaps [addr, lo); the lowest starts in [lo, w->addr] */
	while (lo < w->addr) {
		mid = lo + (w->addr - 1 - lo) / 2;
		if ((b = window_overlapping(s, lo, mid - lo + 1)) != NULL)
			w = b;
		else
			lo = mid + 1;
	}
	return w;
}

/* Keep a window that overlaps none: 0, or VX_ERR_NOMEM. */
static int
window_add(struct vx_session *s, const struct window *w)
{
	struct window *nw = malloc(sizeof(*nw));

	if (nw == NULL)
		return VX_ERR_NOMEM;
	*nw = *w;
	if (tsearch(nw, &s->windows, window_cmp) == NULL) {
		free(nw);
		return VX_ERR_NOMEM;
	}
	s->nwin++;
	return 0;
}

static void
windows_drop(struct vx_session *s)
{
	tdestroy(s->windows, free);
	s->windows = NULL;
	s->nwin = 0;
}

/*
 * Whether the windows are known well enough to call DMA outside them or an
 * unmap unknown: not in a capture begun mid-session before an unmap-all,
 * nor after a DMA_MAP over max_dma_maps that was not kept.
 */
static int
windows_unsure(const struct vx_session *s)
{
	return (s->mid && !s->windows_known) || s->windows_lost;
}

/* How many windows may be mapped at once: the server's max_dma_maps, the
 * spec's default until it says. */
static uint64_t
max_dma_maps(const struct vx_session *s)
{
	const struct vx_caps *c = &s->caps[VX_S2C];

	if (s->version_done && (c->present & VX_CAPF_MAX_DMA_MAPS))
		return c->max_dma_maps;
	return VX_DEF_MAX_DMA_MAPS;
}

static void
check_dma(struct vx_session *s, uint64_t addr, uint64_t count,
    struct vx_session_result *r)
{
	const struct window *w;

	if (windows_unsure(s))
		return;		/* mapped before the capture began, perhaps */
	w = window_overlapping(s, addr, count);
	if (w == NULL && count == 0 && addr > 0)
		w = window_overlapping(s, addr - 1, 1);	/* at a window's end */
	if (w != NULL && addr >= w->addr && addr - w->addr <= w->size &&
	    count <= w->size - (addr - w->addr))
		return;
	add(r, VX_FIND_DMA_OUTSIDE, "[0x%llx, +0x%llx) is in no mapped window",
	    (unsigned long long)addr, (unsigned long long)count);
}

static int
dma_map(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	struct window w = { 0, 0, 0, 0 };
	const struct window *o;
	uint64_t f = 0, max = max_dma_maps(s);

	vx_msg_get(m, VXF_DMA_ADDR, &w.addr);
	vx_msg_get(m, VXF_DMA_SIZE, &w.size);
	vx_msg_get(m, VXF_DMA_MAP_FLAGS, &f);
	w.flags = (uint32_t)f;
	w.fd = m->nfds > 0;
	if ((o = window_lowest(s, w.addr, w.size)) != NULL) {
		add(r, VX_FIND_DMA_OVERLAP, "[0x%llx, +0x%llx) overlaps [0x%llx, +0x%llx)",
		    (unsigned long long)w.addr, (unsigned long long)w.size,
		    (unsigned long long)o->addr, (unsigned long long)o->size);
		return 0;
	}
	if (s->nwin >= max || s->nwin >= STATE_MAX_WINDOWS) {
		/* not kept (memory stays bounded): DMA and unmap checks are
		 * off until an unmap-all */
		s->windows_lost = 1;
		add(r, VX_FIND_DMA_MAPS_OVER_LIMIT, "[0x%llx, +0x%llx) with %zu mapped, max_dma_maps %llu%s",
		    (unsigned long long)w.addr, (unsigned long long)w.size,
		    s->nwin, (unsigned long long)max, max > STATE_MAX_WINDOWS ?
		    " (vfuctl tracks 65536)" : "");
		return 0;
	}
	if (window_add(s, &w) < 0)
		return VX_ERR_NOMEM;
	if (w.fd)
		add(r, VX_FIND_INVISIBLE_DMA, "[0x%llx, +0x%llx)",
		    (unsigned long long)w.addr, (unsigned long long)w.size);
	return 0;
}

static void
dma_unmap(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	uint64_t addr = 0, size = 0, flags = 0;
	struct window *w;

	vx_msg_get(m, VXF_DMA_UNMAP_FLAGS, &flags);
	if (flags & VX_DMA_UNMAP_ALL) {
		windows_drop(s);
		s->windows_known = 1;
		s->windows_lost = 0;
		return;
	}
	vx_msg_get(m, VXF_DMA_ADDR, &addr);
	vx_msg_get(m, VXF_DMA_SIZE, &size);
	w = window_overlapping(s, addr, 0);	/* the one holding addr */
	if (w != NULL && w->addr == addr && w->size == size) {
		tdelete(w, &s->windows, window_cmp);
		free(w);
		s->nwin--;
		return;
	}
	if (windows_unsure(s))
		return;
	add(r, VX_FIND_DMA_UNMAP_UNKNOWN, "[0x%llx, +0x%llx) was not mapped",
	    (unsigned long long)addr, (unsigned long long)size);
}

/* Recognise the peers from their VERSION messages (documented in
 * vfuctl-decode(1)): QEMU proposes 0.0 with pgsizes and max_dma_maps;
 * libvfio-user's client sends compact JSON, its server json-c's spaced
 * "{ \"capabilities\": { ..." form. */
static void
recognise(struct vx_session *s, const struct vx_msg *m)
{
	const struct vx_item *js = vx_msg_item(m, VXF_VER_JSON);
	uint64_t minor = 0;
	int client = m->dir == VX_C2S;

	if (s->peer_opt != VX_PEER_AUTO || m->caps == NULL)
		return;
	vx_msg_get(m, VXF_VER_MINOR, &minor);
	if (client && minor == 0 &&
	    (m->caps->present & (VX_CAPF_PGSIZES | VX_CAPF_MAX_DMA_MAPS))) {
		/* a server talking to QEMU must use QEMU's DMA forms */
		s->peer[0] = s->peer[1] = VX_PEER_QEMU;
		s->peer_name[0] = "qemu";
		return;
	}
	if (js == NULL || s->peer[0] == VX_PEER_QEMU)
		return;
	if (!client && js->len > 3 && memcmp(js->ptr, "{ \"", 3) == 0) {
		s->peer[1] = VX_PEER_LVU;
		s->peer_name[1] = "libvfio-user";
	} else if (client && minor >= 1 && memchr(js->ptr, ' ', js->len) == NULL) {
		s->peer[0] = VX_PEER_LVU;
		s->peer_name[0] = "libvfio-user";
	}
}

static void
version_reply(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	const struct vx_caps *req = &s->caps[VX_C2S], *rep = m->caps;
	uint64_t major = 0, minor = 0;
	static const struct {
		uint32_t flag;
		const char *name;
	} keys[] = {
		{ VX_CAPF_MAX_MSG_FDS, "max_msg_fds" },
		{ VX_CAPF_MAX_XFER, "max_data_xfer_size" },
		{ VX_CAPF_MAX_DMA_MAPS, "max_dma_maps" },
		{ VX_CAPF_PGSIZES, "pgsizes" },
		{ VX_CAPF_MIGRATION, "migration" },
		{ VX_CAPF_TWIN, "twin_socket" },
		{ VX_CAPF_WRITE_MULTI, "write_multiple" },
	};
	unsigned i;

	if (rep == NULL)
		return;
	s->caps[VX_S2C] = *rep;
	s->version_done = 1;
	vx_msg_get(m, VXF_VER_MAJOR, &major);
	vx_msg_get(m, VXF_VER_MINOR, &minor);
	s->smajor = major;
	s->sminor = minor;
	if (s->version_sent && (major != s->major || minor > s->minor))
		add(r, VX_FIND_VERSION_MISMATCH, "server answers %llu.%llu to %llu.%llu",
		    (unsigned long long)major, (unsigned long long)minor,
		    (unsigned long long)s->major, (unsigned long long)s->minor);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((rep->present & keys[i].flag) && !(req->present & keys[i].flag))
			add(r, VX_FIND_CAP_NOT_PROPOSED, "%s", keys[i].name);
	if (rep->twin_supported) {
		if (!(rep->present & VX_CAPF_TWIN_FD) ||
		    rep->twin_fd_index >= (uint64_t)m->nfds)
			add(r, VX_FIND_VERSION_MISMATCH,
			    "twin_socket supported but fd_index does not name one of the %d fds",
			    m->nfds);
		else
			s->twin = 1;
	}
	recognise(s, m);
}

/* A command (either direction): state changes and checks. */
static int
command(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	uint64_t a = 0, b = 0, c = 0, i;
	const struct vx_item *it;

	switch (m->cmd) {
	case VX_CMD_VERSION:
		if (m->caps != NULL)
			s->caps[VX_C2S] = *m->caps;
		vx_msg_get(m, VXF_VER_MAJOR, &s->major);
		vx_msg_get(m, VXF_VER_MINOR, &s->minor);
		s->version_sent = 1;
		recognise(s, m);
		return 0;
	case VX_CMD_DMA_MAP:
		return dma_map(s, m, r);
	case VX_CMD_DMA_UNMAP:
		dma_unmap(s, m, r);
		return 0;
	case VX_CMD_REGION_READ:
	case VX_CMD_REGION_WRITE:
		/* the view: no items needed for the hottest message */
		check_region(s, r, m->rw.index, m->rw.offset, m->rw.count,
		    m->cmd == VX_CMD_REGION_WRITE);
		check_xfer(s, m, m->rw.count, r);
		return 0;
	case VX_CMD_REGION_WRITE_MULTI:
		if (s->version_done && !s->caps[VX_S2C].write_multiple)
			add(r, VX_FIND_WRITE_MULTI_NOT_NEGOTIATED,
			    "the server's VERSION reply did not accept write_multiple");
		/* entries are groups of offset, index, count, data */
		vx_msg_items(m);
		for (i = 0; i < m->nitems; i++) {
			it = &m->items[i];
			if (it->field == VXF_REGION_OFFSET)
				b = it->val;
			else if (it->field == VXF_REGION_INDEX)
				a = it->val;
			else if (it->field == VXF_REGION_COUNT)
				check_region(s, r, a, b, it->val, 1);
		}
		return 0;
	case VX_CMD_DMA_READ:
	case VX_CMD_DMA_WRITE:
		vx_msg_get(m, VXF_DMA_ADDR, &a);
		if (vx_msg_get(m, VXF_DMA_COUNT, &c) < 0)
			vx_msg_get(m, VXF_DMA_COUNT32, &c);
		check_dma(s, a, c, r);
		check_xfer(s, m, c, r);
		if (m->chan == VX_CHAN_MAIN && !s->told_main_dma) {
			s->told_main_dma = 1;
			add(r, VX_FIND_SERVER_CMD_ON_MAIN, "%s", s->twin ?
			    "although a twin socket was negotiated" :
			    "server commands share the socket with client commands");
		}
		return 0;
	case VX_CMD_DEVICE_GET_IRQ_INFO:
	case VX_CMD_DEVICE_SET_IRQS:
		vx_msg_get(m, VXF_IRQ_INDEX, &a);
		if (s->num_irqs >= 0 && a >= (uint64_t)s->num_irqs)
			add(r, VX_FIND_NO_SUCH_IRQ, "IRQ index %llu but the device has %lld",
			    (unsigned long long)a, (long long)s->num_irqs);
		return 0;
	case VX_CMD_DEVICE_GET_REGION_INFO:
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		vx_msg_get(m, VXF_REGION_INDEX, &a);
		if (s->num_regions >= 0 && a >= (uint64_t)s->num_regions)
			add(r, VX_FIND_NO_SUCH_REGION, "region %llu but the device has %lld",
			    (unsigned long long)a, (long long)s->num_regions);
		return 0;
	}
	return 0;
}

/* A successful reply: learn from it. */
static void
reply(struct vx_session *s, const struct vx_msg *m, struct vx_session_result *r)
{
	uint64_t idx = 0, v = 0;
	char rn[32];

	switch (m->cmd) {
	case VX_CMD_VERSION:
		version_reply(s, m, r);
		break;
	case VX_CMD_DEVICE_GET_INFO:
		if (vx_msg_get(m, VXF_DEV_NUM_REGIONS, &v) == 0)
			s->num_regions = (int64_t)v;
		if (vx_msg_get(m, VXF_DEV_NUM_IRQS, &v) == 0)
			s->num_irqs = (int64_t)v;
		break;
	case VX_CMD_DEVICE_GET_REGION_INFO:
		if (vx_msg_get(m, VXF_REGION_INDEX, &idx) < 0 || idx >= MAX_REGIONS ||
		    vx_msg_has_note(m, VX_NOTE_ARGSZ_RETRY))
			break;
		s->regions[idx].known = 1;
		vx_msg_get(m, VXF_RINFO_FLAGS, &v);
		s->regions[idx].flags = (uint32_t)v;
		vx_msg_get(m, VXF_RINFO_SIZE, &s->regions[idx].size);
		if ((v & VX_REGION_MMAP) && !s->regions[idx].told) {
			s->regions[idx].told = 1;
			add(r, VX_FIND_INVISIBLE_MMAP, "%s",
			    vx_region_name(idx, rn, sizeof(rn)));
		}
		break;
	}
}

/*
 * The first message of a session that was not told where the capture
 * began: a VERSION command starts the connection; anything else means the
 * capture began mid-session (a rotated file, a cut or filtered trace).
 */
static void
first_message(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	const char *name = vx_cmd_name(m->cmd);

	s->begun = 1;
	if (m->cmd == VX_CMD_VERSION && !vx_msg_is_reply(m))
		return;
	s->mid = 1;
	s->mid_unpaired[0] = s->mid_unpaired[1] = 1;
	s->mid_unpaired[2] = s->mid_unpaired[3] = 1;
	add(r, VX_FIND_MID_SESSION, "the first message is a %s %s, with no OPEN "
	    "or STATE record before it", name ? name : "message",
	    vx_msg_is_reply(m) ? "reply" : "command");
}

void
vx_session_begin(struct vx_session *s)
{
	s->begun = 1;
}

int
vx_session_feed(struct vx_session *s, const struct vx_msg *m,
    uint64_t frame, uint64_t ts_ns, struct vx_session_result *r)
{
	struct pending p;
	uint32_t key;
	int is_reply = vx_msg_is_reply(m), ret;
	unsigned slot = (m->chan & 1) * 2 + (m->dir & 1);

	/* the findings themselves are written only as they are added */
	memset(r, 0, offsetof(struct vx_session_result, findings));
	if (m->status == VX_MSG_MALFORMED)
		add(r, VX_FIND_MALFORMED, "%s: %s", vx_strerror(m->err.code),
		    m->err.text);
	if (m->len < VX_HDR_SIZE)	/* not even a header to go by */
		return 0;
	if (m->status == VX_MSG_UNKNOWN)
		add(r, VX_FIND_UNKNOWN_COMMAND, "command %u", m->cmd);
	if (!s->begun)
		first_message(s, m, r);
	check_fds(s, m, r);
	if (!is_reply) {
		if (m->cmd != VX_CMD_VERSION && !s->version_sent && !s->mid)
			add(r, VX_FIND_BEFORE_VERSION, "%s before VERSION",
			    vx_cmd_name(m->cmd) ? vx_cmd_name(m->cmd) : "command");
		key = key_of(m, m->dir);
		if (m->flags & VX_F_NO_REPLY) {
			s->noreply[slot][m->id / 8] |= (uint8_t)(1u << (m->id % 8));
		} else {
			if (pend_has(s, key))
				add(r, VX_FIND_MSGID_REUSED, "msg_id 0x%04x", m->id);
			if ((ret = pend_push(s, key, m, frame, ts_ns,
			    reply_bound(m))) == VX_ERR_NOMEM)
				return ret;
		}
		if (m->status != VX_MSG_MALFORMED)
			return command(s, m, r);
		return 0;
	}
	/* a reply travels opposite to its command */
	key = key_of(m, !m->dir);
	if (!pend_take(s, key, &p)) {
		unsigned cslot = (m->chan & 1) * 2 + (m->dir == VX_C2S);

		if (s->noreply[cslot][m->id / 8] & (1u << (m->id % 8)))
			add(r, VX_FIND_REPLY_TO_NO_REPLY, "msg_id 0x%04x", m->id);
		else if (s->mid && s->mid_unpaired[cslot])
			;	/* its command came before the capture */
		else
			add(r, VX_FIND_REPLY_WITHOUT_COMMAND, "msg_id 0x%04x", m->id);
		return 0;
	}
	/* replies come in order: the commands of before are all answered */
	s->mid_unpaired[(m->chan & 1) * 2 + (m->dir == VX_C2S)] = 0;
	r->paired = 1;
	r->req_frame = p.frame;
	r->req_ts_ns = p.ts;
	r->req_cmd = p.cmd;
	if (p.cmd != m->cmd) {
		add(r, VX_FIND_REPLY_WRONG_CMD, "reply says %s, command was %s",
		    vx_cmd_name(m->cmd) ? vx_cmd_name(m->cmd) : "unknown",
		    vx_cmd_name(p.cmd) ? vx_cmd_name(p.cmd) : "unknown");
		return 0;
	}
	if (p.argsz && m->len - VX_HDR_SIZE > p.argsz &&
	    !vx_msg_has_note(m, VX_NOTE_PADDING))
		add(r, VX_FIND_REPLY_OVER_ARGSZ, "%zu-byte payload, argsz was %u",
		    m->len - VX_HDR_SIZE, p.argsz);
	if (!(m->flags & VX_F_ERROR) && m->status == VX_MSG_OK)
		reply(s, m, r);
	return 0;
}

unsigned
vx_session_finish(struct vx_session *s, struct vx_finding *out, unsigned max)
{
	unsigned b, k = 0;
	uint32_t n;

	for (b = 0; b < NBUCKETS; b++) {
		for (n = s->heads[b]; n != NIL; n = s->pool[n].next) {
			const struct pending *p = &s->pool[n];
			const char *name = vx_cmd_name(p->cmd);

			if (k < max) {
				out[k].code = VX_FIND_UNANSWERED;
				out[k].severity = (uint8_t)finding_info[VX_FIND_UNANSWERED].sev;
				snprintf(out[k].text, sizeof(out[k].text),
				    "%s msg_id 0x%04x (frame %llu)",
				    name ? name : "command", p->key & 0xffff,
				    (unsigned long long)p->frame);
			}
			k++;
		}
	}
	return s->npending;
}

/* --- saved state (STATE records, man/vfuctl-trace.5) ---------------------- */

#define STATE_VERSION	1
/* bounds on what a hostile trace can make the loader allocate */
#define STATE_MAX	((size_t)4 << 20)	/* bytes of JSON */

/* A u64 as a JSON integer, or a hex string above what JSON ints hold. */
static json_t *
ju64(uint64_t v)
{
	char hex[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
	return json_string(hex);
}

static int
get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	const char *str;
	char *end;

	if (v == NULL)
		return 0;		/* absent: keep the default */
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if ((str = json_string_value(v)) != NULL && str[0] == '0' &&
	    str[1] == 'x') {
		*out = strtoull(str, &end, 16);
		if (end != str + 2 && *end == '\0')
			return 0;
	}
	return -1;
}

static json_t *
caps_json(const struct vx_caps *c)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:b}",
	    "present", ju64(c->present), "max_msg_fds", ju64(c->max_msg_fds),
	    "max_data_xfer_size", ju64(c->max_data_xfer_size),
	    "max_dma_maps", ju64(c->max_dma_maps), "pgsizes", ju64(c->pgsizes),
	    "mig_pgsize", ju64(c->mig_pgsize),
	    "mig_max_bitmap_size", ju64(c->mig_max_bitmap_size),
	    "twin_supported", c->twin_supported,
	    "twin_fd_index", ju64(c->twin_fd_index),
	    "write_multiple", c->write_multiple);
}

static int
caps_load(json_t *o, struct vx_caps *c)
{
	uint64_t present = 0;

	memset(c, 0, sizeof(*c));
	if (o == NULL)
		return 0;
	if (!json_is_object(o) || get_u64(o, "present", &present) < 0 ||
	    get_u64(o, "max_msg_fds", &c->max_msg_fds) < 0 ||
	    get_u64(o, "max_data_xfer_size", &c->max_data_xfer_size) < 0 ||
	    get_u64(o, "max_dma_maps", &c->max_dma_maps) < 0 ||
	    get_u64(o, "pgsizes", &c->pgsizes) < 0 ||
	    get_u64(o, "mig_pgsize", &c->mig_pgsize) < 0 ||
	    get_u64(o, "mig_max_bitmap_size", &c->mig_max_bitmap_size) < 0 ||
	    get_u64(o, "twin_fd_index", &c->twin_fd_index) < 0)
		return -1;
	c->present = (uint32_t)present;
	c->twin_supported = json_is_true(json_object_get(o, "twin_supported"));
	c->write_multiple = json_is_true(json_object_get(o, "write_multiple"));
	return 0;
}

static const char *
peer_key(int peer)
{
	const char *n = vx_tok_name(vx_names_peer, (uint64_t)peer);

	return n ? n : "auto";
}

/* twalk_r's action: the windows in address order */
static void
save_window(const void *node, VISIT when, void *dma)
{
	const struct window *w = *(struct window *const *)node;

	if (when == postorder || when == leaf)
		json_array_append_new(dma, json_pack("{s:o,s:o,s:o,s:b}",
		    "addr", ju64(w->addr), "size", ju64(w->size),
		    "flags", ju64(w->flags), "fd", w->fd));
}

char *
vx_session_save(const struct vx_session *s)
{
	json_t *o, *regions, *dma, *pending;
	unsigned b, i;
	uint32_t n;
	char *text;

	regions = json_array();
	for (i = 0; i < MAX_REGIONS; i++)
		if (s->regions[i].known)
			json_array_append_new(regions, json_pack("{s:i,s:o,s:o}",
			    "index", (int)i, "flags", ju64(s->regions[i].flags),
			    "size", ju64(s->regions[i].size)));
	dma = json_array();
	twalk_r(s->windows, save_window, dma);
	pending = json_array();
	for (b = 0; b < NBUCKETS; b++)
		for (n = s->heads[b]; n != NIL; n = s->pool[n].next) {
			const struct pending *p = &s->pool[n];

			json_array_append_new(pending, json_pack(
			    "{s:s,s:s,s:i,s:i,s:o,s:o,s:o}",
			    "chan", p->key >> 17 & 1 ? "twin" : "main",
			    "dir", p->key >> 16 & 1 ? "s2c" : "c2s",
			    "msg_id", (int)(p->key & 0xffff), "cmd", (int)p->cmd,
			    "argsz", ju64(p->argsz), "frame", ju64(p->frame),
			    "t_ns", ju64(p->ts)));
		}
	o = json_pack("{s:i,s:b,s:b,s:{s:s,s:s},s:{s:s,s:s},"
	    "s:{s:b,s:b,s:o,s:o,s:o,s:o},s:b,s:b,s:b,s:I,s:I,s:o,s:o,s:o}",
	    "state", STATE_VERSION, "begun", s->begun, "mid", s->mid,
	    "peer", "client", peer_key(s->peer[VX_C2S]),
	    "server", peer_key(s->peer[VX_S2C]),
	    "peer_name", "client", s->peer_name[VX_C2S],
	    "server", s->peer_name[VX_S2C],
	    "version", "sent", s->version_sent, "done", s->version_done,
	    "major", ju64(s->major), "minor", ju64(s->minor),
	    "client", caps_json(&s->caps[VX_C2S]),
	    "server", caps_json(&s->caps[VX_S2C]),
	    "twin", s->twin, "windows_known", s->windows_known,
	    "windows_lost", s->windows_lost,
	    "num_regions", (json_int_t)s->num_regions,
	    "num_irqs", (json_int_t)s->num_irqs,
	    "regions", regions, "dma", dma, "pending", pending);
	if (o == NULL)
		return NULL;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void
reset(struct vx_session *s)
{
	unsigned i;

	s->peer[0] = s->peer[1] = s->peer_opt;
	s->peer_name[0] = s->peer_name[1] = "unknown";
	s->begun = s->mid = s->windows_known = s->windows_lost = 0;
	memset(s->mid_unpaired, 0, sizeof(s->mid_unpaired));
	s->version_sent = s->version_done = 0;
	s->major = s->minor = 0;
	s->smajor = s->sminor = 0;
	memset(s->caps, 0, sizeof(s->caps));
	s->twin = s->told_main_dma = 0;
	s->num_regions = s->num_irqs = -1;
	memset(s->regions, 0, sizeof(s->regions));
	windows_drop(s);
	for (i = 0; i < NBUCKETS; i++)
		s->heads[i] = s->tails[i] = NIL;
	s->npool = s->npending = 0;
	s->freelist = NIL;
	memset(s->noreply, 0, sizeof(s->noreply));
}

static int
load_peer(struct vx_session *s, json_t *o)
{
	static const char *const side[2] = { "client", "server" };
	static const char *const names[] = { "qemu", "libvfio-user", "spec" };
	json_t *names_o = json_object_get(o, "peer_name");
	const char *v;
	uint64_t p;
	unsigned d, i;

	for (d = 0; d < 2; d++) {
		v = json_string_value(json_object_get(json_object_get(o, "peer"),
		    side[d]));
		if (v == NULL || vx_tok_value(vx_names_peer, v, &p) < 0)
			return -1;
		if (s->peer_opt == VX_PEER_AUTO)
			s->peer[d] = (int)p;
		/* names from our table: the session keeps only pointers */
		v = json_string_value(json_object_get(names_o, side[d]));
		for (i = 0; v != NULL && i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(v, names[i]) == 0 && s->peer_opt == VX_PEER_AUTO)
				s->peer_name[d] = names[i];
	}
	return 0;
}

static int
load_regions(struct vx_session *s, json_t *arr)
{
	size_t i;
	uint64_t idx, flags;
	json_t *e;

	json_array_foreach(arr, i, e) {
		idx = flags = 0;
		if (!json_is_object(e) || get_u64(e, "index", &idx) < 0 ||
		    idx >= MAX_REGIONS || get_u64(e, "flags", &flags) < 0 ||
		    get_u64(e, "size", &s->regions[idx].size) < 0)
			return -1;
		s->regions[idx].known = 1;
		s->regions[idx].flags = (uint32_t)flags;
	}
	return 0;
}

static int
load_dma(struct vx_session *s, json_t *arr)
{
	size_t i;
	uint64_t flags;
	struct window w;
	json_t *e;
	int rc;

	if (json_array_size(arr) > STATE_MAX_WINDOWS)
		return VX_ERR_TOO_LARGE;
	json_array_foreach(arr, i, e) {
		memset(&w, 0, sizeof(w));
		flags = 0;
		if (!json_is_object(e) || get_u64(e, "addr", &w.addr) < 0 ||
		    get_u64(e, "size", &w.size) < 0 ||
		    get_u64(e, "flags", &flags) < 0 ||
		    window_overlapping(s, w.addr, w.size) != NULL)
			return VX_ERR_INVALID;
		w.flags = (uint32_t)flags;
		w.fd = json_is_true(json_object_get(e, "fd"));
		if ((rc = window_add(s, &w)) < 0)
			return rc;
	}
	return 0;
}

static int
load_pending(struct vx_session *s, json_t *arr)
{
	struct vx_msg m;
	size_t i;
	uint64_t id, cmd, argsz, frame, ts;
	const char *chan, *dir;
	json_t *e;
	int rc;

	json_array_foreach(arr, i, e) {
		id = cmd = argsz = frame = ts = 0;
		chan = json_string_value(json_object_get(e, "chan"));
		dir = json_string_value(json_object_get(e, "dir"));
		if (!json_is_object(e) || chan == NULL || dir == NULL ||
		    get_u64(e, "msg_id", &id) < 0 || id > 0xffff ||
		    get_u64(e, "cmd", &cmd) < 0 || cmd > 0xffff ||
		    get_u64(e, "argsz", &argsz) < 0 || argsz > UINT32_MAX ||
		    get_u64(e, "frame", &frame) < 0 ||
		    get_u64(e, "t_ns", &ts) < 0)
			return VX_ERR_INVALID;
		memset(&m, 0, sizeof(m));
		m.id = (uint16_t)id;
		m.cmd = (uint16_t)cmd;
		m.chan = strcmp(chan, "twin") == 0 ? VX_CHAN_TWIN : VX_CHAN_MAIN;
		m.dir = strcmp(dir, "s2c") == 0 ? VX_S2C : VX_C2S;
		if ((rc = pend_push(s, key_of(&m, m.dir), &m, frame, ts,
		    (uint32_t)argsz)) < 0)
			return rc;
	}
	return 0;
}

int
vx_session_load(struct vx_session *s, const char *text, size_t len,
    char *why, size_t whycap)
{
	json_error_t jerr;
	json_t *o, *ver;
	json_int_t nr, ni;
	uint64_t v = 0;
	int rc = VX_ERR_INVALID;

	why[0] = '\0';
	reset(s);
	if (len > STATE_MAX) {
		snprintf(why, whycap, "%zu bytes of state, at most %zu", len,
		    STATE_MAX);
		return VX_ERR_TOO_LARGE;
	}
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whycap, "not JSON: %s", jerr.text);
		return VX_ERR_INVALID;
	}
	ver = json_object_get(o, "version");
	nr = json_integer_value(json_object_get(o, "num_regions"));
	ni = json_integer_value(json_object_get(o, "num_irqs"));
	if (!json_is_object(o) || get_u64(o, "state", &v) < 0 || v == 0) {
		snprintf(why, whycap, "no \"state\" version");
	} else if (v > STATE_VERSION) {
		snprintf(why, whycap, "state version %llu (this vfuctl reads %d)",
		    (unsigned long long)v, STATE_VERSION);
		rc = VX_ERR_UNSUPPORTED;
	} else if (load_peer(s, o) < 0) {
		snprintf(why, whycap, "bad \"peer\"");
	} else if (!json_is_object(ver) ||
	    get_u64(ver, "major", &s->major) < 0 ||
	    get_u64(ver, "minor", &s->minor) < 0 ||
	    caps_load(json_object_get(ver, "client"), &s->caps[VX_C2S]) < 0 ||
	    caps_load(json_object_get(ver, "server"), &s->caps[VX_S2C]) < 0) {
		snprintf(why, whycap, "bad \"version\"");
	} else if (nr < -1 || ni < -1 || nr > UINT32_MAX || ni > UINT32_MAX) {
		snprintf(why, whycap, "bad \"num_regions\" or \"num_irqs\"");
	} else if (load_regions(s, json_object_get(o, "regions")) < 0) {
		snprintf(why, whycap, "bad \"regions\"");
	} else if ((rc = load_dma(s, json_object_get(o, "dma"))) < 0 ||
	    (rc = load_pending(s, json_object_get(o, "pending"))) < 0) {
		snprintf(why, whycap, "%s", rc == VX_ERR_INVALID ?
		    "bad \"dma\" or \"pending\"" : rc == VX_ERR_TOO_LARGE ?
		    "too many DMA windows or pending commands" : vx_strerror(rc));
	} else {
		rc = 0;
		s->version_sent = json_is_true(json_object_get(ver, "sent"));
		s->version_done = json_is_true(json_object_get(ver, "done"));
		/* a saved state keeps the proposal only: it was accepted */
		s->smajor = s->major;
		s->sminor = s->minor;
		s->twin = json_is_true(json_object_get(o, "twin"));
		s->num_regions = json_object_get(o, "num_regions") ? nr : -1;
		s->num_irqs = json_object_get(o, "num_irqs") ? ni : -1;
		/* what came before is known as far as the saver knew it */
		s->begun = json_is_true(json_object_get(o, "begun"));
		s->mid = json_is_true(json_object_get(o, "mid"));
		s->windows_known = json_is_true(json_object_get(o,
		    "windows_known"));
		s->windows_lost = json_is_true(json_object_get(o,
		    "windows_lost"));
	}
	json_decref(o);
	if (rc < 0)
		reset(s);
	return rc;
}

void
vx_session_describe(const struct vx_session *s, char *out, size_t cap)
{
	if (!s->version_done)
		snprintf(out, cap, "VERSION %s", s->version_sent ?
		    "proposed, not answered" : "not negotiated");
	else
		snprintf(out, cap, "VERSION %llu.%llu (%s client, %s server)",
		    (unsigned long long)s->major, (unsigned long long)s->minor,
		    s->peer_name[VX_C2S], s->peer_name[VX_S2C]);
	snprintf(out + strlen(out), cap - strlen(out),
	    ", %lld regions, %lld IRQ types, %zu DMA windows, %u pending",
	    (long long)s->num_regions, (long long)s->num_irqs, s->nwin,
	    s->npending);
}
