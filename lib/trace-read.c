/*
 * trace-read.c - the trace reader: libpcap's pcap_next_ex() for the
 * records, our pseudo-header on top, fragments reassembled in one buffer
 * that only grows, and (VX_TRACE_VERIFY) the digest chain checked on the
 * way.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace-digest.h"
#include "trace-header.h"
#include "vx-error.h"
#include "vx-msg.h"

struct vx_trace_reader {
	struct vx_chain chain;	/* first: it needs 64-byte alignment */
	pcap_t *pd;
	FILE *fp;		/* the file libpcap reads; stdin for "-" */
	unsigned flags;
	int regular;		/* a regular file: FOLLOW waits at its end */
	int linktype;
	int keyed;		/* a key was given */
	int final_seen;		/* VERIFY: the closing digest went by */
	int err;
	uint64_t frames;	/* pcap records read */
	uint64_t err_frame;
	uint64_t ndigests;
	uint64_t last_digest;	/* frame of the last digest, 0 if none */
	/* Reassembly of a fragmented record. */
	struct vx_trace_rec asm_rec;
	uint32_t asm_len;	/* whole payload length */
	uint32_t asm_off;	/* bytes announced so far */
	size_t asm_cap;		/* bytes captured so far */
	int asm_active;
	uint8_t *buf;
	size_t bufcap;
	struct vx_fd_info fds[VX_TRACE_MAX_FDS];
	char errbuf[PCAP_ERRBUF_SIZE + 64];
};

static int
fail(struct vx_trace_reader *r, int err, uint64_t frame, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (frame)
		n = snprintf(r->errbuf, sizeof(r->errbuf), "frame %llu: ",
		    (unsigned long long)frame);
	va_start(ap, fmt);
	vsnprintf(r->errbuf + n, sizeof(r->errbuf) - (size_t)n, fmt, ap);
	va_end(ap);
	r->err = err;
	r->err_frame = frame;
	return err;
}

int
vx_trace_reader_open(const char *path, const struct vx_trace_ropts *o,
    struct vx_trace_reader **out)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct vx_trace_reader *r;
	size_t sz = (sizeof(*r) + 63) & ~(size_t)63;
	struct stat st;
	FILE *fp;

	*out = NULL;
	if (sodium_init() < 0)
		return VX_ERR_NOMEM;
	if ((r = aligned_alloc(64, sz)) == NULL)
		return VX_ERR_NOMEM;
	memset(r, 0, sizeof(*r));
	*out = r;
	if (o != NULL) {
		r->flags = o->flags;
		if (o->key != NULL) {
			if (o->keylen < VX_TRACE_KEY_MIN ||
			    o->keylen > VX_TRACE_KEY_MAX)
				return fail(r, VX_ERR_INVALID, 0,
				    "key of %zu bytes (%d to %d)", o->keylen,
				    VX_TRACE_KEY_MIN, VX_TRACE_KEY_MAX);
			r->keyed = 1;
		}
	}
	vx_chain_init(&r->chain, r->keyed ? o->key : NULL,
	    r->keyed ? o->keylen : 0);
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rbe")) == NULL)
		return fail(r, VX_ERR_IO, 0, "cannot open '%s': %s", path,
		    strerror(errno));
	ebuf[0] = '\0';
	r->pd = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (r->pd == NULL) {
		if (fp != stdin)
			fclose(fp);
		if (strstr(ebuf, "truncated") != NULL)
			return fail(r, VX_ERR_TRUNCATED, 0, "'%s' is truncated "
			    "inside the pcap file header", path);
		return fail(r, VX_ERR_INVALID, 0, "'%s' is not a pcap file: %s",
		    path, ebuf);
	}
	r->fp = fp;
	r->regular = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
	r->linktype = pcap_datalink(r->pd);
	if (r->linktype < VX_TRACE_LINKTYPE ||
	    r->linktype > VX_TRACE_LINKTYPE_MAX)
		return fail(r, VX_ERR_UNSUPPORTED, 0, "'%s' has link type %d, "
		    "not USER0-USER15 (%d-%d): not a vfuctl trace", path,
		    r->linktype, VX_TRACE_LINKTYPE, VX_TRACE_LINKTYPE_MAX);
	return 0;
}

void
vx_trace_reader_close(struct vx_trace_reader *r)
{
	if (r == NULL)
		return;
	if (r->pd != NULL)
		pcap_close(r->pd);	/* closes fp unless it is stdin */
	sodium_memzero(&r->chain, sizeof(r->chain));
	free(r->buf);
	free(r);
}

const char *
vx_trace_reader_error(const struct vx_trace_reader *r, uint64_t *frame)
{
	if (frame != NULL)
		*frame = r->err ? r->err_frame : 0;
	return r->err ? r->errbuf : "";
}

int
vx_trace_reader_linktype(const struct vx_trace_reader *r)
{
	return r->linktype;
}

uint64_t
vx_trace_reader_frames(const struct vx_trace_reader *r)
{
	return r->frames;
}

uint64_t
vx_trace_reader_digests(const struct vx_trace_reader *r)
{
	return r->ndigests;
}

uint64_t
vx_trace_reader_verified(const struct vx_trace_reader *r)
{
	return r->last_digest;
}

/* Room for n payload bytes; grows, never shrinks. */
static int
reserve(struct vx_trace_reader *r, size_t n)
{
	size_t cap = r->bufcap ? r->bufcap : 4096;
	uint8_t *p;

	if (n <= r->bufcap)
		return 0;
	while (cap < n)
		cap *= 2;
	if ((p = realloc(r->buf, cap)) == NULL)
		return VX_ERR_NOMEM;
	r->buf = p;
	r->bufcap = cap;
	return 0;
}

/* The end of the file, or of what has been written of it so far. */
static int
at_end(struct vx_trace_reader *r)
{
	/* only a file can grow; the end of a pipe is the writer's close */
	if ((r->flags & VX_TRACE_FOLLOW) && r->regular) {
		clearerr(r->fp);	/* glibc's EOF is sticky */
		return VX_ERR_AGAIN;
	}
	if (r->asm_active)
		return fail(r, VX_ERR_TRUNCATED, r->asm_rec.frame, "truncated: "
		    "the trace ends after %u of the %u bytes of this "
		    "fragmented record", r->asm_off, r->asm_len);
	if ((r->flags & VX_TRACE_VERIFY) && !r->final_seen)
		return fail(r, VX_ERR_TRUNCATED, 0, "trace ends after frame "
		    "%llu without a closing digest: truncated%s",
		    (unsigned long long)r->frames, r->ndigests ? "" :
		    " (or written without digests)");
	return 0;
}

/* Check a digest record (frame f, pseudo-header at p) against the chain. */
static int
check_digest(struct vx_trace_reader *r, uint64_t f, const uint8_t *p,
    const struct vx_trace_rec *rec, const struct vx_trh *h, size_t paylen)
{
	uint8_t want[VX_TRACE_DIGEST_LEN];
	uint64_t first = r->chain.first, n = r->chain.nrec;

	if (paylen != VX_TRACE_DIGEST_LEN)
		return fail(r, VX_ERR_INVALID, f, "corrupt digest record: %zu "
		    "bytes of digest", paylen);
	if ((rec->flags & VX_TRF_KEYED) && !r->keyed)
		return fail(r, VX_ERR_UNSUPPORTED, f, "the digests are keyed: "
		    "give the key to verify them");
	if (!(rec->flags & VX_TRF_KEYED) && r->keyed)
		return fail(r, VX_ERR_INVALID, f, "digest is not keyed: "
		    "anyone could have made it");
	vx_chain_digest(&r->chain, p, want);
	r->chain.first = f + 1;
	if (rec->count != n)
		return fail(r, VX_ERR_INVALID, f, "digest mismatch: it covers "
		    "%llu records but %llu precede it since frame %llu: "
		    "records removed or added",
		    (unsigned long long)rec->count, (unsigned long long)n,
		    (unsigned long long)first);
	if (sodium_memcmp(want, p + h->hdr_len, VX_TRACE_DIGEST_LEN) != 0)
		return fail(r, VX_ERR_INVALID, f, "digest mismatch: records "
		    "%llu-%llu changed", (unsigned long long)first,
		    (unsigned long long)f);
	r->ndigests++;
	r->last_digest = f;
	if (rec->flags & VX_TRF_FINAL)
		r->final_seen = 1;
	return 0;
}

/*
 * A classic pcap record's seconds are an unsigned 32-bit field that
 * libpcap reads as signed: from 2038 on (2^31 s) they come back negative.
 */
static uint64_t
ts_seconds(time_t sec)
{
	return sec < 0 ? (uint64_t)(sec + 4294967296LL) : (uint64_t)sec;
}

int
vx_trace_next(struct vx_trace_reader *r, struct vx_trace_rec *rec)
{
	struct pcap_pkthdr *ph;
	const u_char *p;
	struct vx_trace_rec h0;
	struct vx_trh h;
	char why[160];
	size_t paylen, payorig;
	uint64_t f;
	off_t pos = -1;
	int rc;

	if (r->err)
		return r->err;
	for (;;) {
		if (r->flags & VX_TRACE_FOLLOW)
			pos = ftello(r->fp);
		rc = pcap_next_ex(r->pd, &ph, &p);
		if (rc == PCAP_ERROR_BREAK)
			return at_end(r);
		if (rc != 1) {
			const char *pe = pcap_geterr(r->pd);

			if (strstr(pe, "truncated") == NULL)
				return fail(r, VX_ERR_INVALID, r->frames + 1,
				    "corrupt pcap record: %s", pe);
			/* Not all written yet: read it again next time. */
			if ((r->flags & VX_TRACE_FOLLOW) && pos >= 0 &&
			    fseeko(r->fp, pos, SEEK_SET) == 0) {
				clearerr(r->fp);
				return VX_ERR_AGAIN;
			}
			return fail(r, VX_ERR_TRUNCATED, r->frames + 1,
			    "truncated: the file ends inside this record "
			    "(%llu complete records before it)",
			    (unsigned long long)r->frames);
		}
		f = ++r->frames;
		if (r->final_seen)
			return fail(r, VX_ERR_INVALID, f, "record after the "
			    "closing digest of frame %llu",
			    (unsigned long long)r->last_digest);
		memset(&h0, 0, sizeof(h0));
		rc = vx_trh_decode(p, ph->caplen, &h0, &h,
		    r->asm_active ? NULL : r->fds, why, sizeof(why));
		if (rc < 0)
			return fail(r, rc, f, "corrupt pseudo-header: %s", why);
		if (ph->len < ph->caplen)
			return fail(r, VX_ERR_INVALID, f, "corrupt pcap record: "
			    "%u bytes captured of %u", ph->caplen, ph->len);
		paylen = ph->caplen - h.hdr_len;
		payorig = ph->len - h.hdr_len;
		h0.ts_ns = ts_seconds(ph->ts.tv_sec) * 1000000000u +
		    (uint64_t)ph->ts.tv_usec;
		h0.frame = h0.last_frame = f;
		if (r->flags & VX_TRACE_VERIFY) {
			if (h0.kind == VX_TR_DIGEST) {
				if ((rc = check_digest(r, f, p, &h0, &h,
				    paylen)) < 0)
					return rc;
			} else {
				vx_chain_record(&r->chain,
				    (uint32_t)ph->ts.tv_sec,
				    (uint32_t)ph->ts.tv_usec, ph->caplen,
				    ph->len, p);
			}
		}
		if (payorig > h.msg_len - h.frag_off || h.frag_off > h.msg_len)
			return fail(r, VX_ERR_INVALID, f, "corrupt pseudo-header:"
			    " fragment %u+%zu beyond the record length %u",
			    h.frag_off, payorig, h.msg_len);
		if (!r->asm_active) {
			if (h.frag_off != 0)
				return fail(r, VX_ERR_INVALID, f, "fragment at "
				    "offset %u without the start of its record",
				    h.frag_off);
			if (payorig == h.msg_len) {
				/* Whole in one record: no copy. */
				*rec = h0;
				rec->data = p + h.hdr_len;
				rec->len = paylen;
				rec->orig_len = payorig;
				rec->truncated = paylen < payorig;
				return 1;
			}
			if (paylen < payorig)
				return fail(r, VX_ERR_INVALID, f, "fragment cut "
				    "short before the end of its record");
			if (reserve(r, h.msg_len) < 0)
				return fail(r, VX_ERR_NOMEM, f, "out of memory "
				    "for a record of %u bytes", h.msg_len);
			r->asm_rec = h0;
			r->asm_len = h.msg_len;
			r->asm_off = 0;
			r->asm_cap = 0;
			r->asm_active = 1;
		} else {
			const struct vx_trace_rec *a = &r->asm_rec;

			if (h0.kind != a->kind || h0.conn != a->conn ||
			    h0.endpoint != a->endpoint || h0.seq != a->seq ||
			    h0.flags != a->flags || h.msg_len != r->asm_len ||
			    h.frag_off != r->asm_off || h0.nfds != 0)
				return fail(r, VX_ERR_INVALID, f, "fragment does "
				    "not continue the record of frame %llu "
				    "(offset %u, expected %u)",
				    (unsigned long long)a->frame, h.frag_off,
				    r->asm_off);
		}
		memcpy(r->buf + r->asm_cap, p + h.hdr_len, paylen);
		r->asm_cap += paylen;
		r->asm_off += (uint32_t)payorig;
		r->asm_rec.last_frame = f;
		if (r->asm_off < r->asm_len) {
			if (paylen < payorig)
				return fail(r, VX_ERR_INVALID, f, "fragment cut "
				    "short before the end of its record");
			continue;
		}
		r->asm_active = 0;
		*rec = r->asm_rec;
		rec->data = r->buf;
		rec->len = r->asm_cap;
		rec->orig_len = r->asm_len;
		rec->truncated = r->asm_cap < r->asm_len;
		return 1;
	}
}
