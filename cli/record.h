/*
 * record.h - vfuctl record's trace writer: a bounded byte ring in front of
 * a writer thread, so that no trace write, flush or file rotation ever
 * blocks the relay (cmd-record.c).
 *
 * The relay puts records (rec_put); the writer thread takes them in
 * batches, writes them with vx_trace_write_message/vx_trace_write_event,
 * flushes at least every REC_FLUSH_MS and after any record put with
 * flush set, and rotates files.  A message that does not fit in the queue
 * is not recorded; the next record put is preceded by a GAP record saying
 * how many were lost.  Events (OPEN, CLOSE, ANNOTATION, ...) are small and
 * always queued.  A write that fails (a full disk) loses what was written
 * since the last flush: the file is truncated back to it, the writer
 * counts what it cannot write and tries again every REC_FLUSH_MS, and the
 * GAP record it then writes (or puts first in the next rotated file)
 * counts the messages lost.
 */
#ifndef VFUCTL_RECORD_H
#define VFUCTL_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vx-filter.h"
#include "vx-trace.h"

#define REC_FLUSH_MS	100
#define REC_QUEUE_MAX	((size_t)64 << 20)	/* message bytes held for the writer */
#define REC_DIGEST_EVERY	1000	/* records between digests, as import */

struct rec_wopts {
	const char *path;	/* "-": standard output */
	uint64_t rotate_bytes;	/* -C: new file past this size; 0 never */
	unsigned rotate_count;	/* -W: file names wrap after this many; 0 */
	unsigned rotate_secs;	/* -G: new file after this long; 0 never */
	size_t queue_max;	/* 0: REC_QUEUE_MAX */
	int verbose;		/* -v: print --hash-dma results on stderr */
	const uint8_t *key;	/* --key: digests keyed with it; NULL unkeyed */
	size_t keylen;
	uint32_t snaplen;	/* -s: bytes kept of each message; 0 all */
	/*
	 * -Y: only the records the filter selects are written (decoded in
	 * the writer thread, with STATE records where the left-out ones had
	 * changed a session), frames numbered as the records come
	 */
	const struct vx_filter *filter;
	uint64_t count;		/* -c: messages written, then no more; 0 */
	int count_fd;		/* -c: an eventfd the writer signals then */
};

/*
 * --hash-dma: the BLAKE2b-256 (REC_HASH_LEN bytes of digest) of a DMA
 * window's first bytes, read from its descriptor in the calling thread.
 * The relay hashes before it forwards the message, so the digest is of
 * what the server was given, not of what it wrote there a moment later.
 */
#define REC_HASH_LEN	32

enum rec_hash_when { REC_HASH_MAP, REC_HASH_UNMAP, REC_HASH_CLOSE };

struct rec_hash {
	uint32_t conn;
	uint64_t iova, size;	/* the window */
	uint64_t offset;	/* of the window in the descriptor */
	uint64_t limit;		/* hash at most this many bytes */
	int fd;			/* -1: none */
	int err;		/* fd -1: the errno of a failed dup, -1 if
				   it was cut off (MSG_CTRUNC), 0 if the
				   window has none */
	int when;		/* enum rec_hash_when */
};

/*
 * The annotation text for h (its form is in man/vfuctl-record.1).  Only
 * regular files and memfds are read, with pread into *buf (allocated on
 * first use, the caller frees it): a window the client shrank is hashed
 * up to the file's end, and says so.
 */
void rec_hash_text(const struct rec_hash *h, uint8_t **buf, char *text,
    size_t cap);

struct rec_writer;

/*
 * Open the first file (so that errors show at once) and start the writer
 * thread.  Returns 0, or -1 with a reason in err.
 */
int rec_writer_start(const struct rec_wopts *o, struct rec_writer **out,
    char *err, size_t errcap);

/*
 * Queue a copy of ev (its data and fds).  flush: have the writer flush
 * once this record is written.
 */
void rec_put(struct rec_writer *w, const struct vx_trace_rec *ev, int flush);

/* CLOCK_REALTIME in nanoseconds: what records are stamped with. */
uint64_t rec_now_ns(void);

/*
 * Name of file number n of a rotation ("FILE", "FILE1", ...); with -G
 * and a path holding '%', strftime(3) of path at t (tcpdump's -G names),
 * and n appended when -C rotates too.  malloc'd.
 */
char *rec_file_name(const char *path, unsigned n, int strftime_name,
    time_t t);

/* What a capture wrote and lost. */
struct rec_stats {
	uint64_t recorded;	/* messages in the trace, flushed */
	uint64_t lost;		/* messages not in it: a full queue, a failed
				   write, a message too large */
	uint64_t lost_other;	/* other records not in it */
	uint64_t filtered;	/* messages -Y left out */
	int count_reached;	/* -c: the count was recorded */
};

/*
 * Write what is queued, close the trace and stop the thread; w is freed.
 * Returns 0, or -1 if a write failed; *st gets the counts either way.
 */
int rec_writer_stop(struct rec_writer *w, struct rec_stats *st);

#endif /* VFUCTL_RECORD_H */
