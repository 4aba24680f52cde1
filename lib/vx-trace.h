/*
 * vx-trace.h - vfuctl's trace files: classic pcap, written and read through
 * libpcap, one vfio-user message (or a fragment of one) or one event per
 * record behind a versioned pseudo-header.  man/vfuctl-trace.5 documents
 * the file byte by byte; the constants below are that page's numbers.
 *
 * Writing: vx_trace_writer_open() (a path, "-" for standard output),
 * vx_trace_writer_fdopen() or vx_trace_writer_fopen(), then
 * vx_trace_write_message() and vx_trace_write_event() in the order things
 * happened, vx_trace_flush() when a reader should see what is there, and
 * vx_trace_writer_close(), which writes the closing digest.  Messages longer
 * than one record can hold are split into consecutive fragment records.
 * The writer allocates once at open; writing a record allocates nothing.
 *
 * Reading: vx_trace_reader_open() (a path, "-" for standard input), then
 * vx_trace_next() until it returns 0 (end) or an error, and
 * vx_trace_reader_close().  Fragments come back reassembled as one record.
 * A record's data and fds pointers belong to the reader and stay valid until
 * the next vx_trace_next() or the close.  The reassembly buffer grows to the
 * largest message seen and is then reused: in steady state reading
 * allocates nothing.
 *
 * Errors are the codes of vx-error.h; vx_trace_reader_error() gives the
 * text and the frame (1-based pcap record number, as Wireshark counts)
 * where reading broke.  Every record before that frame has been returned.
 *
 * Neither side is thread-safe; use one writer or reader per thread.
 */
#ifndef VX_TRACE_H
#define VX_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vx-sock.h"

/* --- the format ----------------------------------------------------------- */

#define VX_TRACE_MAGIC		"VXTR"	/* the pseudo-header's first 4 bytes */
#define VX_TRACE_VERSION	1
#define VX_TRACE_FIXED_LEN	64	/* fixed part of the pseudo-header, v1 */
#define VX_TRACE_FD_LEN		32	/* one descriptor entry, v1 */
#define VX_TRACE_MAX_FDS	253	/* SCM_MAX_FD: most one sendmsg can carry */
#define VX_TRACE_LINKTYPE	147	/* LINKTYPE_USER0 */
#define VX_TRACE_LINKTYPE_MAX	162	/* LINKTYPE_USER15 */
#define VX_TRACE_RECORD_MAX	262144	/* largest record Wireshark reads */
#define VX_TRACE_MSG_MAX	(64u << 20)	/* largest message recorded */
#define VX_TRACE_DIGEST_LEN	32	/* BLAKE2b-256 */
/* latest timestamp a record holds: u32 seconds, nanoseconds */
#define VX_TRACE_TS_MAX		(4294967296ull * 1000000000u - 1)
#define VX_TRACE_KEY_MIN	16	/* crypto_generichash_KEYBYTES_MIN */
#define VX_TRACE_KEY_MAX	64	/* crypto_generichash_KEYBYTES_MAX */

enum vx_trace_kind {
	VX_TR_MESSAGE = 1,	/* one vfio-user message (or fragment) */
	VX_TR_IRQ = 2,		/* an interrupt was signalled */
	VX_TR_OPEN = 3,		/* a connection was accepted or made */
	VX_TR_CLOSE = 4,	/* a connection ended */
	VX_TR_ANNOTATION = 5,	/* UTF-8 text from the recording tool or user */
	VX_TR_RAW = 6,		/* bytes that could not be framed as messages */
	VX_TR_GAP = 7,		/* messages that were not recorded */
	VX_TR_DIGEST = 8,	/* BLAKE2b chain value over earlier records */
	VX_TR_STATE = 9,	/* a connection's session state so far (JSON) */
};
#define VX_TR_KIND_MAX	VX_TR_STATE

/* Pseudo-header flag bits. */
#define VX_TRF_S2C	0x0001	/* server to client (else client to server) */
#define VX_TRF_TWIN	0x0002	/* on the twin socket (else the main one) */
#define VX_TRF_BE	0x0004	/* message bytes are big-endian */
#define VX_TRF_KEYED	0x0008	/* DIGEST: keyed BLAKE2b */
#define VX_TRF_FINAL	0x0010	/* DIGEST: the closing one */
#define VX_TRF_CAPTURE_END 0x0020 /* CLOSE: the capture stopped here; the
				   connection itself went on */

/* "message", "irq", ...; NULL for a kind this version does not know. */
const char *vx_trace_kind_name(unsigned kind);
/* The kind named name, or VX_ERR_INVALID. */
int vx_trace_kind_value(const char *name);

/*
 * One record, as read, or an event to write.  Which of the kind-specific
 * fields mean something depends on kind (man/vfuctl-trace.5 has the table);
 * the others are 0.
 */
struct vx_trace_rec {
	uint64_t frame;		/* read: pcap record number of the first fragment */
	uint64_t last_frame;	/* read: ... and of the last one */
	uint64_t ts_ns;		/* nanoseconds since the epoch (or a session start) */
	uint8_t kind;		/* enum vx_trace_kind */
	uint8_t version;	/* read: pseudo-header version */
	uint8_t dir;		/* enum vx_dir: who sent it */
	uint8_t chan;		/* enum vx_chan */
	uint16_t flags;		/* VX_TRF_*; dir and chan are also here */
	uint32_t conn;		/* connection id */
	uint32_t endpoint;	/* endpoint id (which listener or socket path) */
	uint64_t seq;		/* MESSAGE: per (conn, chan, dir) number;
				   GAP: first missing one; DIGEST: index */
	uint32_t pid, uid, gid;	/* OPEN, CLOSE: the peer's credentials */
	uint32_t irq_index;	/* IRQ: VFIO IRQ index (0 INTx, 2 MSI-X, ...) */
	uint32_t irq_vector;	/* IRQ: vector (subindex) */
	uint64_t count;		/* IRQ: signals; GAP: messages lost;
				   DIGEST: records covered */
	unsigned nfds;		/* MESSAGE: descriptors that came with it */
	const struct vx_fd_info *fds;
	const uint8_t *data;	/* payload: message, text, raw bytes, digest */
	size_t len;		/* bytes at data */
	size_t orig_len;	/* read: length before snapping (>= len) */
	int truncated;		/* read: the writer snapped it (len < orig_len) */
};

/* --- writing ---------------------------------------------------------------- */

struct vx_trace_wopts {
	int linktype;		/* 0: 147 (USER0); else 147..162 */
	uint32_t snaplen;	/* 0: whole messages; else bytes kept of each */
	unsigned digest_every;	/* a digest once N records since the last;
				   0: no digests at all */
	const uint8_t *key;	/* NULL: unkeyed; else VX_TRACE_KEY_MIN..MAX */
	size_t keylen;		/* bytes, copied at open */
	int big_endian;		/* messages are in big-endian byte order */
};

struct vx_trace_writer;

/*
 * Open a new trace at path (vx_trace_create()) and write the pcap file
 * header.  "-" writes to
 * a duplicate of standard output, which stays open after the close; print
 * nothing else to standard output meanwhile.  o may be NULL for the
 * defaults (USER0, no snapping, no digests).  Returns 0 and *out,
 * VX_ERR_INVALID for a bad option, VX_ERR_IO (errno kept) or VX_ERR_NOMEM.
 */
int vx_trace_writer_open(const char *path, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out);
/*
 * Create (or truncate) path for a trace and return its descriptor: mode
 * 0600 before the umask (a trace holds guest data), and never through a
 * symbolic link (one planted at the path fails with ELOOP).  VX_ERR_IO on
 * failure, errno kept for the message.  vx_trace_writer_open() uses it.
 */
int vx_trace_create(const char *path);

/* The same on fd, which the writer then owns (closed by the close). */
int vx_trace_writer_fdopen(int fd, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out);
/* The same on fp, which the writer then owns (fclose()d by the close). */
int vx_trace_writer_fopen(FILE *fp, const struct vx_trace_wopts *o,
    struct vx_trace_writer **out);

/*
 * Record one whole message of len bytes (at most VX_TRACE_MSG_MAX) and the
 * nfds descriptors that came with it.  dir and chan are enum vx_dir and
 * enum vx_chan; seq is the caller's count of messages in that (conn, chan,
 * dir).  Returns 0, VX_ERR_TOO_LARGE, VX_ERR_INVALID or VX_ERR_IO.
 */
int vx_trace_write_message(struct vx_trace_writer *w, uint32_t conn,
    uint32_t endpoint, int chan, int dir, uint64_t seq, uint64_t ts_ns,
    const void *buf, size_t len, const struct vx_fd_info *fds,
    unsigned nfds);

/*
 * Record anything but a DIGEST (the writer makes those): ev's kind, ts_ns,
 * conn, endpoint, dir, chan, the kind-specific fields, data/len (text for
 * ANNOTATION, bytes for RAW and MESSAGE) and, for MESSAGE, fds/nfds.
 * VX_TRF_BE in ev->flags marks a big-endian message.  An orig_len above
 * len says the payload was already cut to len bytes of orig_len (a record
 * read from a snapped trace).  frame, last_frame, version and truncated are
 * ignored.
 */
int vx_trace_write_event(struct vx_trace_writer *w,
    const struct vx_trace_rec *ev);

/* Push buffered records to the file.  0 or VX_ERR_IO. */
int vx_trace_flush(struct vx_trace_writer *w);

/*
 * After a write error (a full disk): truncate the file back to what the
 * last successful flush (or the open) left there, drop what was written
 * since, digest chain included, and clear the error, so that writing can
 * go on (and fail again) without a torn record in the file.  0, or
 * VX_ERR_IO (errno kept) when the file cannot be truncated (a pipe, a
 * device); the error then stays.
 */
int vx_trace_writer_rewind(struct vx_trace_writer *w);

/*
 * Write a digest over the records since the last one now, stamped ts_ns,
 * even over none: a writer that starts its file with one tells a reader
 * that digests are on, so a file cut before the next digest reads as
 * truncated, not as written without digests.  0 (also with digests off),
 * or VX_ERR_IO.
 */
int vx_trace_write_digest(struct vx_trace_writer *w, uint64_t ts_ns);

/* Records written so far (frames, fragments and digests included). */
uint64_t vx_trace_writer_frames(const struct vx_trace_writer *w);

/*
 * Write the closing digest (if digests are on and there was no write error
 * since the last rewind), flush and close.  Returns 0 or VX_ERR_IO (the
 * first write error of the writer's life); after an error the file is
 * rewound as far as it can be, so it ends without a closing digest but on
 * a whole record.  w is freed either way; NULL is allowed.
 */
int vx_trace_writer_close(struct vx_trace_writer *w);

/* --- reading ---------------------------------------------------------------- */

#define VX_TRACE_FOLLOW	0x1	/* a partial record at the end: VX_ERR_AGAIN */
#define VX_TRACE_VERIFY	0x2	/* check the digest chain while reading */

struct vx_trace_ropts {
	unsigned flags;		/* VX_TRACE_FOLLOW, VX_TRACE_VERIFY */
	const uint8_t *key;	/* VERIFY of a keyed trace */
	size_t keylen;
};

struct vx_trace_reader;

/*
 * Open a trace (path, or "-" for standard input) and check its link type
 * (USER0..USER15).  o may be NULL.  Returns 0 and *out, or an error with
 * *out still set when it is not NULL so that vx_trace_reader_error() can
 * say why (close it then): VX_ERR_IO, VX_ERR_INVALID (not a pcap file),
 * VX_ERR_UNSUPPORTED (another link type), VX_ERR_NOMEM.
 */
int vx_trace_reader_open(const char *path, const struct vx_trace_ropts *o,
    struct vx_trace_reader **out);

/*
 * The next record, fragments reassembled.  Returns 1 and *rec, 0 at the
 * end of the trace, or an error:
 *   VX_ERR_TRUNCATED   the file ends inside a record or a fragmented
 *                      message, or (VERIFY) without a closing digest
 *   VX_ERR_INVALID     a corrupt pseudo-header or fragment sequence, or
 *                      (VERIFY) a digest that does not match
 *   VX_ERR_UNSUPPORTED a pseudo-header version this reader does not know,
 *                      or (VERIFY) a keyed digest and no key
 *   VX_ERR_AGAIN       (FOLLOW) the end of what has been written so far;
 *                      call again when the file has grown
 *   VX_ERR_IO, VX_ERR_NOMEM
 * After an error other than VX_ERR_AGAIN, only close the reader.
 */
int vx_trace_next(struct vx_trace_reader *r, struct vx_trace_rec *rec);

/*
 * Text of the last error ("frame 12: corrupt pseudo-header: bad magic"),
 * "" if none; *frame (may be NULL) gets the frame it is about, 0 if none.
 */
const char *vx_trace_reader_error(const struct vx_trace_reader *r,
    uint64_t *frame);

/* The file's link type, and the number of pcap records read so far. */
int vx_trace_reader_linktype(const struct vx_trace_reader *r);
uint64_t vx_trace_reader_frames(const struct vx_trace_reader *r);
/* VERIFY: digest records checked so far. */
uint64_t vx_trace_reader_digests(const struct vx_trace_reader *r);
/* VERIFY: frame of the last digest that matched (every frame up to it
   verifies), 0 if none. */
uint64_t vx_trace_reader_verified(const struct vx_trace_reader *r);

void vx_trace_reader_close(struct vx_trace_reader *r);

/* --- keys and JSON lines ------------------------------------------------------ */

/*
 * Read a key file: its raw bytes, VX_TRACE_KEY_MIN to VX_TRACE_KEY_MAX of
 * them, into key[VX_TRACE_KEY_MAX].  Returns the length, VX_ERR_IO or
 * VX_ERR_INVALID (too short or too long).
 */
int vx_trace_load_key(const char *path, uint8_t *key);

/*
 * One record as a JSON line (man/vfuctl-trace.5, "JSON LINES") without the
 * newline, into out (cap bytes, NUL-terminated).  Returns the length, or the
 * length it would need (>= cap: too small, nothing useful written).
 * Allocates nothing.
 */
size_t vx_trace_rec_json(const struct vx_trace_rec *rec, char *out,
    size_t cap);

/* What a parsed JSON line carried itself (else defaults were used). */
#define VX_TRACE_GIVEN_SEQ	0x1	/* a per-direction "seq" */
#define VX_TRACE_GIVEN_CONN	0x2	/* a "conn" */

/*
 * Parse one JSON line (the form vx_trace_rec_json() writes, or a line of
 * the ../shared/vectors captures, which has no "kind") into rec.  The
 * payload is decoded into buf (cap bytes) and descriptors into fds
 * (VX_TRACE_MAX_FDS entries); rec points at them.  *given gets
 * VX_TRACE_GIVEN_* bits: a vector line's "seq" counts both directions and
 * is not a per-direction one, so it never sets VX_TRACE_GIVEN_SEQ and the
 * caller numbers the message.  A vector line's "note" is put in note
 * (notecap bytes, "" if none).  Returns 0, or VX_ERR_INVALID /
 * VX_ERR_TOO_LARGE with a reason in why (whycap bytes).
 */
int vx_trace_rec_parse(const char *line, struct vx_trace_rec *rec,
    uint8_t *buf, size_t cap, struct vx_fd_info *fds, unsigned *given,
    char *note, size_t notecap, char *why, size_t whycap);

#endif /* VX_TRACE_H */
