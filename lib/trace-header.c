/*
 * trace-header.c - the trace pseudo-header codec: record kinds by name,
 * the fixed part and descriptor entries in and out (man/vfuctl-trace.5).
 */
#include <stdio.h>
#include <string.h>

#include "trace-header.h"
#include "vx-error.h"
#include "vx-msg.h"

static const char *const kind_names[] = {
	NULL, "message", "irq", "open", "close", "annotation", "raw", "gap",
	"digest", "state",
};

const char *
vx_trace_kind_name(unsigned kind)
{
	if (kind == 0 || kind > VX_TR_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

int
vx_trace_kind_value(const char *name)
{
	int k;

	for (k = 1; k <= VX_TR_KIND_MAX; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return VX_ERR_INVALID;
}

size_t
vx_trh_encode(uint8_t *out, const struct vx_trace_rec *rec, uint32_t frag_off,
    uint32_t msg_len, const struct vx_fd_info *fds, unsigned nfds)
{
	uint32_t a0 = 0, a1 = 0, a2 = 0;
	uint16_t flags = rec->flags & (VX_TRF_BE | VX_TRF_KEYED | VX_TRF_FINAL |
	    VX_TRF_CAPTURE_END);
	size_t hlen = VX_TRACE_FIXED_LEN + (size_t)nfds * VX_TRACE_FD_LEN;
	unsigned i;

	/* dir and chan are the fields' job; the flags only mirror them. */
	if (rec->dir == VX_S2C)
		flags |= VX_TRF_S2C;
	if (rec->chan == VX_CHAN_TWIN)
		flags |= VX_TRF_TWIN;
	if (rec->kind == VX_TR_OPEN || rec->kind == VX_TR_CLOSE) {
		a0 = rec->pid;
		a1 = rec->uid;
		a2 = rec->gid;
	} else if (rec->kind == VX_TR_IRQ) {
		a0 = rec->irq_index;
		a1 = rec->irq_vector;
	}
	memcpy(out + TRH_MAGIC, VX_TRACE_MAGIC, 4);
	out[TRH_VERSION] = VX_TRACE_VERSION;
	out[TRH_KIND] = rec->kind;
	vx_put16(out + TRH_HDR_LEN, (uint16_t)hlen);
	vx_put16(out + TRH_FIXED_LEN, VX_TRACE_FIXED_LEN);
	vx_put16(out + TRH_FLAGS, flags);
	vx_put16(out + TRH_NFDS, (uint16_t)nfds);
	vx_put16(out + TRH_FD_LEN, VX_TRACE_FD_LEN);
	vx_put32(out + TRH_CONN, rec->conn);
	vx_put32(out + TRH_ENDPOINT, rec->endpoint);
	vx_put64(out + TRH_SEQ, rec->seq);
	vx_put32(out + TRH_FRAG_OFF, frag_off);
	vx_put32(out + TRH_MSG_LEN, msg_len);
	vx_put32(out + TRH_ARG0, a0);
	vx_put32(out + TRH_ARG1, a1);
	vx_put32(out + TRH_ARG2, a2);
	vx_put32(out + TRH_RESERVED, 0);
	vx_put64(out + TRH_COUNT, rec->count);
	for (i = 0; i < nfds; i++) {
		uint8_t *f = out + VX_TRACE_FIXED_LEN + i * VX_TRACE_FD_LEN;

		memset(f, 0, VX_TRACE_FD_LEN);
		f[TRF_KIND] = (uint8_t)fds[i].kind;
		vx_put32(f + TRF_SEALS, fds[i].seals);
		vx_put64(f + TRF_SIZE, (uint64_t)fds[i].size);
		vx_put64(f + TRF_DEV, (uint64_t)fds[i].dev);
		vx_put64(f + TRF_INO, (uint64_t)fds[i].ino);
	}
	return hlen;
}

int
vx_trh_decode(const uint8_t *p, size_t caplen, struct vx_trace_rec *rec,
    struct vx_trh *h, struct vx_fd_info *fds, char *why, size_t whycap)
{
	unsigned fixed, fdlen, nfds, i;
	uint32_t a0, a1, a2;

	if (caplen < 8) {
		snprintf(why, whycap, "record of %zu bytes is shorter than a "
		    "pseudo-header", caplen);
		return VX_ERR_INVALID;
	}
	if (memcmp(p + TRH_MAGIC, VX_TRACE_MAGIC, 4) != 0) {
		snprintf(why, whycap, "bad magic %02x%02x%02x%02x",
		    p[0], p[1], p[2], p[3]);
		return VX_ERR_INVALID;
	}
	if (p[TRH_VERSION] == 0) {
		snprintf(why, whycap, "version 0");
		return VX_ERR_INVALID;
	}
	if (p[TRH_VERSION] > VX_TRACE_VERSION) {
		snprintf(why, whycap, "pseudo-header version %u; this reader "
		    "knows up to %u", p[TRH_VERSION], VX_TRACE_VERSION);
		return VX_ERR_UNSUPPORTED;
	}
	if (caplen < VX_TRACE_FIXED_LEN) {
		snprintf(why, whycap, "record of %zu bytes is shorter than a "
		    "pseudo-header", caplen);
		return VX_ERR_INVALID;
	}
	h->hdr_len = vx_get16(p + TRH_HDR_LEN);
	fixed = vx_get16(p + TRH_FIXED_LEN);
	nfds = vx_get16(p + TRH_NFDS);
	fdlen = vx_get16(p + TRH_FD_LEN);
	/* Later versions may grow both parts; they never shrink. */
	if (fixed < VX_TRACE_FIXED_LEN || fdlen < VX_TRACE_FD_LEN) {
		snprintf(why, whycap, "fixed part %u or descriptor entry %u "
		    "too short", fixed, fdlen);
		return VX_ERR_INVALID;
	}
	if (nfds > VX_TRACE_MAX_FDS) {
		snprintf(why, whycap, "%u descriptors (at most %u)", nfds,
		    VX_TRACE_MAX_FDS);
		return VX_ERR_INVALID;
	}
	if (h->hdr_len < fixed + nfds * fdlen || h->hdr_len > caplen) {
		snprintf(why, whycap, "header length %u does not fit (fixed %u, "
		    "%u descriptors of %u, record %zu)", h->hdr_len, fixed,
		    nfds, fdlen, caplen);
		return VX_ERR_INVALID;
	}
	rec->version = p[TRH_VERSION];
	rec->kind = p[TRH_KIND];
	rec->flags = vx_get16(p + TRH_FLAGS);
	rec->dir = (rec->flags & VX_TRF_S2C) ? VX_S2C : VX_C2S;
	rec->chan = (rec->flags & VX_TRF_TWIN) ? VX_CHAN_TWIN : VX_CHAN_MAIN;
	rec->conn = vx_get32(p + TRH_CONN);
	rec->endpoint = vx_get32(p + TRH_ENDPOINT);
	rec->seq = vx_get64(p + TRH_SEQ);
	h->frag_off = vx_get32(p + TRH_FRAG_OFF);
	h->msg_len = vx_get32(p + TRH_MSG_LEN);
	a0 = vx_get32(p + TRH_ARG0);
	a1 = vx_get32(p + TRH_ARG1);
	a2 = vx_get32(p + TRH_ARG2);
	rec->count = vx_get64(p + TRH_COUNT);
	rec->pid = rec->uid = rec->gid = 0;
	rec->irq_index = rec->irq_vector = 0;
	if (rec->kind == VX_TR_OPEN || rec->kind == VX_TR_CLOSE) {
		rec->pid = a0;
		rec->uid = a1;
		rec->gid = a2;
	} else if (rec->kind == VX_TR_IRQ) {
		rec->irq_index = a0;
		rec->irq_vector = a1;
	}
	if (h->msg_len > VX_TRACE_MSG_MAX) {
		snprintf(why, whycap, "message length %u over the %u limit",
		    h->msg_len, VX_TRACE_MSG_MAX);
		return VX_ERR_INVALID;
	}
	if (nfds > 0 && h->frag_off != 0) {
		snprintf(why, whycap, "descriptors on a continuation fragment");
		return VX_ERR_INVALID;
	}
	rec->nfds = nfds;
	rec->fds = NULL;
	if (fds == NULL)
		return 0;
	for (i = 0; i < nfds; i++) {
		const uint8_t *f = p + fixed + i * fdlen;

		fds[i].kind = f[TRF_KIND] <= VX_FD_OTHER ?
		    (enum vx_fd_kind)f[TRF_KIND] : VX_FD_OTHER;
		fds[i].seals = vx_get32(f + TRF_SEALS);
		fds[i].size = (off_t)vx_get64(f + TRF_SIZE);
		fds[i].dev = (dev_t)vx_get64(f + TRF_DEV);
		fds[i].ino = (ino_t)vx_get64(f + TRF_INO);
	}
	rec->fds = nfds ? fds : NULL;
	return 0;
}
