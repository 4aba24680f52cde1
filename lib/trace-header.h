/*
 * trace-header.h - the trace pseudo-header codec (lib/trace-header.c),
 * shared by the trace writer, reader and JSON code.  Not installed; the
 * public contract is vx-trace.h, the byte layout man/vfuctl-trace.5.
 */
#ifndef VX_TRACE_HEADER_H
#define VX_TRACE_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "vx-cursor.h"
#include "vx-trace.h"

/* Byte offsets in the pseudo-header (man/vfuctl-trace.5). */
#define TRH_MAGIC	0
#define TRH_VERSION	4
#define TRH_KIND	5
#define TRH_HDR_LEN	6
#define TRH_FIXED_LEN	8
#define TRH_FLAGS	10
#define TRH_NFDS	12
#define TRH_FD_LEN	14
#define TRH_CONN	16
#define TRH_ENDPOINT	20
#define TRH_SEQ		24
#define TRH_FRAG_OFF	32
#define TRH_MSG_LEN	36
#define TRH_ARG0	40
#define TRH_ARG1	44
#define TRH_ARG2	48
#define TRH_RESERVED	52
#define TRH_COUNT	56

/* Offsets in one descriptor entry. */
#define TRF_KIND	0
#define TRF_SEALS	4
#define TRF_SIZE	8
#define TRF_DEV		16
#define TRF_INO		24

/* A decoded pseudo-header, beyond what struct vx_trace_rec holds. */
struct vx_trh {
	unsigned hdr_len;
	uint32_t frag_off;
	uint32_t msg_len;
};

/*
 * Encode the pseudo-header of rec (its kind, flags, ids, kind-specific
 * fields) for the fragment at frag_off of a msg_len-byte payload, with the
 * nfds descriptors at fds.  out needs VX_TRACE_FIXED_LEN + nfds *
 * VX_TRACE_FD_LEN bytes; returns that length.
 */
size_t vx_trh_encode(uint8_t *out, const struct vx_trace_rec *rec,
    uint32_t frag_off, uint32_t msg_len, const struct vx_fd_info *fds,
    unsigned nfds);

/*
 * Decode the pseudo-header at p (caplen bytes captured) into rec (kind,
 * version, flags, dir, chan, ids, kind fields, nfds) and h, descriptors into
 * fds (VX_TRACE_MAX_FDS).  Returns 0, VX_ERR_INVALID or VX_ERR_UNSUPPORTED
 * with the reason in why.
 */
int vx_trh_decode(const uint8_t *p, size_t caplen, struct vx_trace_rec *rec,
    struct vx_trh *h, struct vx_fd_info *fds, char *why, size_t whycap);

/* Little-endian fields, through the project's one load/store pair. */
#define vx_get16(p)	((uint16_t)vx_load((p), 2, 0))
#define vx_get32(p)	((uint32_t)vx_load((p), 4, 0))
#define vx_get64(p)	vx_load((p), 8, 0)
#define vx_put16(p, v)	vx_store((p), 2, (v), 0)
#define vx_put32(p, v)	vx_store((p), 4, (v), 0)
#define vx_put64(p, v)	vx_store((p), 8, (v), 0)

#endif /* VX_TRACE_HEADER_H */
