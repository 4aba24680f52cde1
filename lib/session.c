/*
 * session.c - per-connection state: reply pairing, negotiation, regions,
 * IRQs and DMA windows, and the findings that need that context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-error.h"
#include "vx-session.h"

#define NBUCKETS	4096
#define MAX_REGIONS	256
#define MAX_PENDING	(1u << 20)
#define NIL		UINT32_MAX

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
	int peer[2];			/* profile per sender direction */
	const char *peer_name[2];
	int version_sent, version_done;
	uint64_t major, minor;		/* the client's proposal */
	struct vx_caps caps[2];		/* [VX_C2S] client's, [VX_S2C] server's */
	int twin;
	int told_main_dma;
	int64_t num_regions, num_irqs;
	struct region regions[MAX_REGIONS];
	struct window *win;
	size_t nwin, wincap;
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
	free(s->win);
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

static void
check_dma(struct vx_session *s, uint64_t addr, uint64_t count,
    struct vx_session_result *r)
{
	size_t i;

	for (i = 0; i < s->nwin; i++) {
		const struct window *w = &s->win[i];

		if (addr >= w->addr && addr - w->addr <= w->size &&
		    count <= w->size - (addr - w->addr))
			return;
	}
	add(r, VX_FIND_DMA_OUTSIDE, "[0x%llx, +0x%llx) is in no mapped window",
	    (unsigned long long)addr, (unsigned long long)count);
}

static int
dma_map(struct vx_session *s, const struct vx_msg *m,
    struct vx_session_result *r)
{
	struct window w = { 0, 0, 0, 0 };
	uint64_t f = 0;
	size_t i;

	vx_msg_get(m, VXF_DMA_ADDR, &w.addr);
	vx_msg_get(m, VXF_DMA_SIZE, &w.size);
	vx_msg_get(m, VXF_DMA_MAP_FLAGS, &f);
	w.flags = (uint32_t)f;
	w.fd = m->nfds > 0;
	for (i = 0; i < s->nwin; i++) {
		const struct window *o = &s->win[i];

		if (w.addr < o->addr + o->size && o->addr < w.addr + w.size) {
			add(r, VX_FIND_DMA_OVERLAP, "[0x%llx, +0x%llx) overlaps [0x%llx, +0x%llx)",
			    (unsigned long long)w.addr, (unsigned long long)w.size,
			    (unsigned long long)o->addr, (unsigned long long)o->size);
			return 0;
		}
	}
	if (s->nwin == s->wincap) {
		size_t ncap = s->wincap ? s->wincap * 2 : 16;
		struct window *nw = realloc(s->win, ncap * sizeof(*nw));

		if (nw == NULL)
			return VX_ERR_NOMEM;
		s->win = nw;
		s->wincap = ncap;
	}
	s->win[s->nwin++] = w;
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
	size_t i;

	vx_msg_get(m, VXF_DMA_UNMAP_FLAGS, &flags);
	if (flags & VX_DMA_UNMAP_ALL) {
		s->nwin = 0;
		return;
	}
	vx_msg_get(m, VXF_DMA_ADDR, &addr);
	vx_msg_get(m, VXF_DMA_SIZE, &size);
	for (i = 0; i < s->nwin; i++) {
		if (s->win[i].addr == addr && s->win[i].size == size) {
			s->win[i] = s->win[--s->nwin];
			return;
		}
	}
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

int
vx_session_feed(struct vx_session *s, const struct vx_msg *m,
    uint64_t frame, uint64_t ts_ns, struct vx_session_result *r)
{
	struct pending p;
	uint32_t key;
	int is_reply = vx_msg_is_reply(m), ret;
	unsigned slot = (m->chan & 1) * 2 + (m->dir & 1);

	memset(r, 0, sizeof(*r));
	if (m->status == VX_MSG_MALFORMED)
		add(r, VX_FIND_MALFORMED, "%s: %s", vx_strerror(m->err.code),
		    m->err.text);
	if (m->len < VX_HDR_SIZE)	/* not even a header to go by */
		return 0;
	if (m->status == VX_MSG_UNKNOWN)
		add(r, VX_FIND_UNKNOWN_COMMAND, "command %u", m->cmd);
	check_fds(s, m, r);
	if (!is_reply) {
		if (m->cmd != VX_CMD_VERSION && !s->version_sent)
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
		else
			add(r, VX_FIND_REPLY_WITHOUT_COMMAND, "msg_id 0x%04x", m->id);
		return 0;
	}
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
