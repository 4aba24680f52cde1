/*
 * trace-write.c - the trace writer: pseudo-header + payload into one
 * record buffer, handed to libpcap's pcap_dump(); fragments for messages
 * longer than a record; the digest chain fed with exactly the bytes
 * written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-digest.h"
#include "trace-header.h"
#include "vx-error.h"
#include "vx-msg.h"

/* What the file and the chain were at the last good flush. */
struct vx_flushed {
	struct vx_chain chain;	/* first: it needs 64-byte alignment */
	off_t off;		/* file size then; -1: cannot go back */
	uint64_t frames;
	uint64_t ndigests;
	uint64_t last_ts;
};

struct vx_trace_writer {
	struct vx_chain chain;	/* first: it needs 64-byte alignment */
	struct vx_flushed good;	/* vx_trace_writer_rewind() goes back here */
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *fp;
	uint32_t snaplen;
	unsigned digest_every;
	int big_endian;
	int digests;		/* digests are on */
	int err;		/* first I/O error; sticky */
	int err_errno;
	uint64_t frames;
	uint64_t ndigests;
	uint64_t last_ts;	/* of the last record written */
	uint8_t rec[VX_TRACE_RECORD_MAX];	/* the record being written */
};

static int
check_opts(const struct vx_trace_wopts *o)
{
	if (o->linktype != 0 && (o->linktype < VX_TRACE_LINKTYPE ||
	    o->linktype > VX_TRACE_LINKTYPE_MAX))
		return VX_ERR_INVALID;
	if (o->key != NULL && (o->keylen < VX_TRACE_KEY_MIN ||
	    o->keylen > VX_TRACE_KEY_MAX))
		return VX_ERR_INVALID;
	return 0;
}

int
vx_trace_writer_fopen(FILE *fp, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out)
{
	static const struct vx_trace_wopts defaults;
	struct vx_trace_writer *w;
	size_t sz;
	int rc;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	if ((rc = check_opts(o)) < 0) {
		fclose(fp);
		return rc;
	}
	if (sodium_init() < 0) {
		fclose(fp);
		return VX_ERR_NOMEM;
	}
	/* aligned_alloc wants a multiple of the alignment. */
	sz = (sizeof(*w) + 63) & ~(size_t)63;
	if ((w = aligned_alloc(64, sz)) == NULL) {
		fclose(fp);
		return VX_ERR_NOMEM;
	}
	memset(w, 0, sizeof(*w));
	w->fp = fp;
	w->snaplen = o->snaplen;
	w->digest_every = o->digest_every;
	w->digests = o->digest_every > 0;
	w->big_endian = o->big_endian;
	vx_chain_init(&w->chain, o->key, o->key ? o->keylen : 0);
	w->pd = pcap_open_dead_with_tstamp_precision(o->linktype ? o->linktype :
	    VX_TRACE_LINKTYPE, VX_TRACE_RECORD_MAX, PCAP_TSTAMP_PRECISION_NANO);
	if (w->pd == NULL) {
		fclose(fp);
		free(w);
		return VX_ERR_NOMEM;
	}
	/* From here on pcap_dump_close() owns fp. */
	if ((w->dump = pcap_dump_fopen(w->pd, fp)) == NULL) {
		fclose(fp);
		pcap_close(w->pd);
		free(w);
		return VX_ERR_IO;
	}
	if (ferror(fp)) {
		rc = errno;
		pcap_dump_close(w->dump);
		pcap_close(w->pd);
		free(w);
		errno = rc;
		return VX_ERR_IO;
	}
	/* Before the file header: going back there writes it again. */
	w->good.chain = w->chain;
	w->good.off = ftello(fp) < 0 ? -1 : 0;
	*out = w;
	return 0;
}

int
vx_trace_writer_fdopen(int fd, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out)
{
	FILE *fp;

	*out = NULL;
	if ((fp = fdopen(fd, "wb")) == NULL) {
		close(fd);
		return VX_ERR_IO;
	}
	return vx_trace_writer_fopen(fp, o, out);
}

int
vx_trace_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	return fd < 0 ? VX_ERR_IO : fd;
}

int
vx_trace_writer_open(const char *path, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out)
{
	int fd;

	*out = NULL;
	/* Refuse bad options before creating anything. */
	if (o != NULL && check_opts(o) < 0)
		return VX_ERR_INVALID;
	if (strcmp(path, "-") == 0) {
		/* A duplicate, so closing the trace leaves stdout open. */
		if ((fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0)) < 0)
			return VX_ERR_IO;
		return vx_trace_writer_fdopen(fd, o, out);
	}
	if ((fd = vx_trace_create(path)) < 0)
		return fd;
	return vx_trace_writer_fdopen(fd, o, out);
}

/* Write w->rec[0..caplen) as a record claiming len bytes. */
static int
put_record(struct vx_trace_writer *w, uint64_t ts_ns, uint32_t caplen,
    uint32_t len, int chain)
{
	struct pcap_pkthdr ph;

	if (w->err)
		return w->err;
	memset(&ph, 0, sizeof(ph));
	ph.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	/* With nanosecond precision libpcap keeps nanoseconds here. */
	ph.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u);
	ph.caplen = caplen;
	ph.len = len;
	pcap_dump((u_char *)w->dump, &ph, w->rec);
	if (ferror(w->fp)) {
		w->err_errno = errno;
		w->err = VX_ERR_IO;
		return w->err;
	}
	w->frames++;
	w->last_ts = ts_ns;
	if (chain && w->digests)
		vx_chain_record(&w->chain, (uint32_t)(ts_ns / 1000000000u),
		    (uint32_t)(ts_ns % 1000000000u), caplen, len, w->rec);
	return 0;
}

static int
put_digest(struct vx_trace_writer *w, uint64_t ts_ns, int final)
{
	struct vx_trace_rec d;
	size_t hlen;

	memset(&d, 0, sizeof(d));
	d.kind = VX_TR_DIGEST;
	d.seq = w->ndigests;
	d.count = w->chain.nrec;
	d.flags = (uint16_t)((w->chain.keylen ? VX_TRF_KEYED : 0) |
	    (final ? VX_TRF_FINAL : 0));
	hlen = vx_trh_encode(w->rec, &d, 0, VX_TRACE_DIGEST_LEN, NULL, 0);
	vx_chain_digest(&w->chain, w->rec, w->rec + hlen);
	w->ndigests++;
	hlen += VX_TRACE_DIGEST_LEN;
	return put_record(w, ts_ns, (uint32_t)hlen, (uint32_t)hlen, 0);
}

/*
 * One record or a run of fragments for rec's payload.  Snapping keeps the
 * first snaplen bytes; the last record then announces the rest of the
 * message in its original length.
 */
static int
put_payload(struct vx_trace_writer *w, const struct vx_trace_rec *rec,
    int snap)
{
	size_t len = rec->len, keep = len, off = 0, hlen, room, cap, orig;
	int rc;

	/* Bytes snapped before they reached us (a re-imported trace). */
	if (rec->orig_len > len)
		len = rec->orig_len;
	if (len > VX_TRACE_MSG_MAX)
		return VX_ERR_TOO_LARGE;
	if (rec->nfds > VX_TRACE_MAX_FDS)
		return VX_ERR_TOO_LARGE;
	if (rec->nfds > 0 && rec->fds == NULL)
		return VX_ERR_INVALID;
	if (len > 0 && rec->data == NULL)
		return VX_ERR_INVALID;
	if (snap && w->snaplen && keep > w->snaplen)
		keep = w->snaplen;
	for (;;) {
		hlen = vx_trh_encode(w->rec, rec, (uint32_t)off, (uint32_t)len,
		    off == 0 ? rec->fds : NULL, off == 0 ? rec->nfds : 0);
		room = VX_TRACE_RECORD_MAX - hlen;
		if (keep - off <= room) {
			cap = keep - off;
			orig = len - off;
		} else {
			cap = orig = room;
		}
		if (cap)
			memcpy(w->rec + hlen, rec->data + off, cap);
		rc = put_record(w, rec->ts_ns, (uint32_t)(hlen + cap),
		    (uint32_t)(hlen + orig), 1);
		if (rc < 0)
			return rc;
		off += orig;
		if (off >= len)
			break;
	}
	if (w->digests && w->chain.nrec >= w->digest_every)
		return put_digest(w, rec->ts_ns, 0);
	return 0;
}

int
vx_trace_write_event(struct vx_trace_writer *w, const struct vx_trace_rec *ev)
{
	struct vx_trace_rec r;

	/* kinds a later version added pass through (dissect -w, import) */
	if (ev->kind == 0 || ev->kind == VX_TR_DIGEST)
		return VX_ERR_INVALID;
	r = *ev;
	r.flags &= VX_TRF_BE | (r.kind == VX_TR_CLOSE ? VX_TRF_CAPTURE_END : 0);
	if (w->big_endian && r.kind == VX_TR_MESSAGE)
		r.flags |= VX_TRF_BE;
	if (r.kind != VX_TR_MESSAGE) {
		r.nfds = 0;
		r.fds = NULL;
	}
	return put_payload(w, &r, r.kind == VX_TR_MESSAGE ||
	    r.kind == VX_TR_RAW);
}

int
vx_trace_write_message(struct vx_trace_writer *w, uint32_t conn,
    uint32_t endpoint, int chan, int dir, uint64_t seq, uint64_t ts_ns,
    const void *buf, size_t len, const struct vx_fd_info *fds, unsigned nfds)
{
	struct vx_trace_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = VX_TR_MESSAGE;
	r.conn = conn;
	r.endpoint = endpoint;
	r.chan = chan == VX_CHAN_TWIN ? VX_CHAN_TWIN : VX_CHAN_MAIN;
	r.dir = dir == VX_S2C ? VX_S2C : VX_C2S;
	r.seq = seq;
	r.ts_ns = ts_ns;
	r.data = buf;
	r.len = len;
	r.fds = fds;
	r.nfds = nfds;
	return vx_trace_write_event(w, &r);
}

int
vx_trace_flush(struct vx_trace_writer *w)
{
	off_t off;

	if (w->err)
		return w->err;
	if (pcap_dump_flush(w->dump) < 0) {
		w->err_errno = errno;
		w->err = VX_ERR_IO;
		return w->err;
	}
	/* All of it is in the file: a place to come back to. */
	if (w->good.off >= 0 && (off = ftello(w->fp)) >= 0) {
		w->good.chain = w->chain;
		w->good.off = off;
		w->good.frames = w->frames;
		w->good.ndigests = w->ndigests;
		w->good.last_ts = w->last_ts;
	}
	return 0;
}

int
vx_trace_writer_rewind(struct vx_trace_writer *w)
{
	int fd = fileno(w->fp);

	if (!w->err)
		return 0;
	if (w->good.off < 0) {
		errno = ESPIPE;		/* a pipe, a terminal: no way back */
		return VX_ERR_IO;
	}
	/* What stdio still holds never reached the file: drop it. */
	__fpurge(w->fp);
	clearerr(w->fp);
	if (ftruncate(fd, w->good.off) < 0 ||
	    fseeko(w->fp, w->good.off, SEEK_SET) < 0)
		return VX_ERR_IO;
	if (w->good.off == 0 && pcap_dump_fopen(w->pd, w->fp) == NULL)
		return VX_ERR_IO;
	w->chain = w->good.chain;
	w->frames = w->good.frames;
	w->ndigests = w->good.ndigests;
	w->last_ts = w->good.last_ts;
	w->err = 0;
	return 0;
}

int
vx_trace_write_digest(struct vx_trace_writer *w, uint64_t ts_ns)
{
	if (!w->digests)
		return 0;
	return put_digest(w, ts_ns, 0);
}

uint64_t
vx_trace_writer_frames(const struct vx_trace_writer *w)
{
	return w->frames;
}

int
vx_trace_writer_close(struct vx_trace_writer *w)
{
	int rc;

	if (w == NULL)
		return 0;
	/* Stamped like the last record, so that equal input, equal file. */
	if (w->digests)
		put_digest(w, w->last_ts, 1);
	vx_trace_flush(w);
	rc = w->err;
	/* No torn record at the end: the file as of the last good flush. */
	if (rc)
		vx_trace_writer_rewind(w);
	pcap_dump_close(w->dump);
	pcap_close(w->pd);
	sodium_memzero(&w->chain, sizeof(w->chain));
	if (rc)
		errno = w->err_errno;
	free(w);
	return rc;
}
