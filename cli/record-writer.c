/*
 * record-writer.c - vfuctl record's writer thread (see record.h).
 *
 * The queue is a byte ring with one producer (the relay) and one consumer
 * (the writer).  An entry is a struct rec_entry followed by its fd
 * descriptions and payload, 8-byte aligned; an entry that does not fit
 * before the end of the buffer is preceded by a pad entry filling it.
 * The producer copies into free space without the lock and then
 * publishes the entry by moving head; the writer reads from tail to the
 * head it saw and frees the space by moving tail.  The lock guards only
 * the two counters, so neither side ever waits for the other's copying
 * or writing, and steady-state recording allocates nothing.  Messages
 * leave REC_EVENT_ROOM free for events (OPEN, CLOSE, IRQ, ...), so that
 * connection events are recorded even when messages are being lost.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "vx-error.h"

struct rec_entry {
	size_t size;		/* bytes of the ring it takes, padding included */
	int pad;		/* fills the end of the buffer: skip */
	int flush;
	struct vx_trace_rec ev;	/* fds and data point into the ring */
};

#define REC_EVENT_ROOM	((size_t)1 << 20)
#define ALIGN8(n)	(((n) + 7) & ~(size_t)7)

struct rec_writer {
	struct rec_wopts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *ring;
	size_t cap;
	/* under lock: bytes ever published and ever released */
	uint64_t head, tail;
	int stop;
	int flush_req;
	/* relay thread only */
	uint64_t lost;		/* messages not recorded, in all */
	uint64_t gap_count;	/* ... since the last GAP record */
	struct vx_trace_rec gap;	/* the first of those */
	/* writer thread only */
	struct vx_trace_writer *tw;
	FILE *fp;		/* tw's file, for its size; NULL for stdout */
	unsigned fileno;	/* rotation: number of the open file */
	uint64_t opened_ms;
	uint64_t recorded;
	int failed;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *
rec_file_name(const char *path, unsigned n)
{
	size_t len = strlen(path) + 12;
	char *s = malloc(len);

	if (s == NULL)
		return NULL;
	/* tcpdump -C: FILE, FILE1, FILE2, ... */
	if (n == 0)
		snprintf(s, len, "%s", path);
	else
		snprintf(s, len, "%s%u", path, n);
	return s;
}

static int
open_file(struct rec_writer *w, char *err, size_t errcap)
{
	char *name;
	int r;

	w->opened_ms = mono_ms();
	if (strcmp(w->o.path, "-") == 0) {
		w->fp = NULL;
		if ((r = vx_trace_writer_open("-", NULL, &w->tw)) < 0) {
			snprintf(err, errcap, "cannot write to standard output: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((name = rec_file_name(w->o.path, w->fileno)) == NULL) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	if ((w->fp = fopen(name, "wb")) == NULL) {
		snprintf(err, errcap, "cannot write trace '%s': %s", name,
		    strerror(errno));
		free(name);
		return -1;
	}
	if (vx_trace_writer_fopen(w->fp, NULL, &w->tw) < 0) {
		snprintf(err, errcap, "cannot write trace '%s': %s", name,
		    strerror(errno));
		fclose(w->fp);
		w->fp = NULL;
		free(name);
		return -1;
	}
	free(name);
	return 0;
}

/* Past -C or -G: close this file and go on in the next one. */
static void
maybe_rotate(struct rec_writer *w)
{
	char err[256];
	long pos;
	int due = 0;

	if (w->fp == NULL || w->tw == NULL)
		return;
	if (w->o.rotate_bytes) {
		pos = ftell(w->fp);
		due = pos >= 0 && (uint64_t)pos >= w->o.rotate_bytes;
	}
	if (!due && w->o.rotate_secs)
		due = mono_ms() - w->opened_ms >= (uint64_t)w->o.rotate_secs * 1000;
	if (!due)
		return;
	if (vx_trace_writer_close(w->tw) < 0)
		w->failed = 1;
	w->tw = NULL;
	w->fileno++;
	if (w->o.rotate_count && w->fileno >= w->o.rotate_count)
		w->fileno = 0;
	if (open_file(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "vfuctl record: %s\n", err);
		w->failed = 1;
	}
}

static void
write_entry(struct rec_writer *w, const struct rec_entry *e)
{
	const struct vx_trace_rec *ev = &e->ev;
	int r;

	maybe_rotate(w);
	if (w->tw == NULL)
		return;
	if (ev->kind == VX_TR_MESSAGE) {
		r = vx_trace_write_message(w->tw, ev->conn, ev->endpoint,
		    ev->chan, ev->dir, ev->seq, ev->ts_ns, ev->data, ev->len,
		    ev->fds, ev->nfds);
		w->recorded += r == 0;
	} else
		r = vx_trace_write_event(w->tw, ev);
	if (r < 0 && !w->failed) {
		fprintf(stderr, "vfuctl record: writing the trace failed: %s\n",
		    r == VX_ERR_IO ? strerror(errno) : "bad record");
		if (r == VX_ERR_IO)
			w->failed = 1;
	}
}

static void *
writer_main(void *arg)
{
	struct rec_writer *w = arg;
	const struct rec_entry *e;
	struct timespec dl;
	uint64_t last_flush = mono_ms(), head, pos;
	int dirty = 0, want_flush, stop;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		if (w->head == w->tail && !w->stop) {
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += REC_FLUSH_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &dl);
		}
		head = w->head;
		pos = w->tail;
		stop = w->stop;
		want_flush = w->flush_req;
		w->flush_req = 0;
		pthread_mutex_unlock(&w->lock);

		/* [tail, head) is ours until tail moves */
		while (pos < head) {
			e = (const struct rec_entry *)(w->ring + pos % w->cap);
			if (!e->pad) {
				write_entry(w, e);
				dirty = 1;
			}
			pos += e->size;
		}
		pthread_mutex_lock(&w->lock);
		w->tail = pos;
		pthread_mutex_unlock(&w->lock);
		if (dirty && w->tw != NULL && (want_flush || stop ||
		    mono_ms() - last_flush >= REC_FLUSH_MS)) {
			if (vx_trace_flush(w->tw) < 0 && !w->failed) {
				fprintf(stderr, "vfuctl record: writing the trace failed: %s\n",
				    strerror(errno));
				w->failed = 1;
			}
			last_flush = mono_ms();
			dirty = 0;
		}
		if (stop && pos == head)
			break;
	}
	return NULL;
}

int
rec_writer_start(const struct rec_wopts *o, struct rec_writer **out,
    char *err, size_t errcap)
{
	struct rec_writer *w;
	sigset_t all, old;
	int r;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	w->o = *o;
	if (w->o.queue_max == 0)
		w->o.queue_max = REC_QUEUE_MAX;
	/* Untouched pages cost nothing: the ring is paged in as it fills. */
	w->cap = ALIGN8(w->o.queue_max) + REC_EVENT_ROOM;
	/* slack: a pad entry's header may start 8 bytes before the end */
	if ((w->ring = malloc(w->cap + sizeof(struct rec_entry))) == NULL) {
		snprintf(err, errcap, "out of memory");
		free(w);
		return -1;
	}
	if (open_file(w, err, errcap) < 0) {
		free(w->ring);
		free(w);
		return -1;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	/* Signals are the relay's business, not the writer's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errcap, "cannot start the writer thread: %s",
		    strerror(r));
		vx_trace_writer_close(w->tw);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w->ring);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

/*
 * Copy ev into the ring if it fits in limit bytes of queue; 0, or -1 if
 * there is no room.  Relay thread only.
 */
static int
ring_put(struct rec_writer *w, const struct vx_trace_rec *ev,
    size_t redact_from, int flush, size_t limit)
{
	size_t fdb = (size_t)ev->nfds * sizeof(struct vx_fd_info);
	size_t size = ALIGN8(sizeof(struct rec_entry) + fdb + ev->len);
	size_t off, room, skip;
	struct rec_entry *e;
	uint64_t head, used;
	uint8_t *p;

	pthread_mutex_lock(&w->lock);
	head = w->head;
	used = head - w->tail;
	pthread_mutex_unlock(&w->lock);
	off = head % w->cap;
	room = w->cap - off;
	skip = room < size ? room : 0;	/* pad to the start of the buffer */
	if (size > limit || used + skip + size > limit)
		return -1;
	if (skip) {
		e = (struct rec_entry *)(w->ring + off);
		e->size = skip;
		e->pad = 1;
		off = 0;
	}
	/* Beyond head: the writer does not look here until we publish. */
	e = (struct rec_entry *)(w->ring + off);
	e->size = size;
	e->pad = 0;
	e->flush = flush;
	e->ev = *ev;
	p = (uint8_t *)(e + 1);
	e->ev.fds = NULL;
	if (fdb) {
		memcpy(p, ev->fds, fdb);
		e->ev.fds = (const struct vx_fd_info *)p;
		p += fdb;
	}
	e->ev.data = NULL;
	if (ev->len) {
		if (redact_from > ev->len)
			redact_from = ev->len;
		memcpy(p, ev->data, redact_from);
		memset(p + redact_from, 0, ev->len - redact_from);
		e->ev.data = p;
	}
	pthread_mutex_lock(&w->lock);
	w->head = head + skip + size;
	w->flush_req |= flush;
	/* Wake the writer early for a flush or a filling ring. */
	if (flush || w->head - w->tail > (w->cap >> 6))
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* Put the pending GAP record, if any; 0 if none is left pending. */
static int
put_gap(struct rec_writer *w)
{
	if (w->gap_count == 0)
		return 0;
	w->gap.count = w->gap_count;
	if (ring_put(w, &w->gap, 0, 1, w->cap) < 0)
		return -1;
	w->gap_count = 0;
	return 0;
}

static size_t
entry_size(const struct vx_trace_rec *ev)
{
	return ALIGN8(sizeof(struct rec_entry) +
	    (size_t)ev->nfds * sizeof(struct vx_fd_info) + ev->len);
}

/* Room for n bytes (with any padding) within limit?  Relay thread only. */
static int
ring_fits(struct rec_writer *w, size_t n, size_t limit)
{
	uint64_t used;

	pthread_mutex_lock(&w->lock);
	used = w->head - w->tail;
	pthread_mutex_unlock(&w->lock);
	return n <= limit && used + n <= limit;
}

void
rec_put(struct rec_writer *w, const struct vx_trace_rec *ev,
    size_t redact_from, int flush)
{
	size_t limit, n;
	int msg;

	if (w == NULL)
		return;
	msg = ev->kind == VX_TR_MESSAGE;
	limit = msg ? w->cap - REC_EVENT_ROOM : w->cap;
	/*
	 * A pending GAP goes in just before the next record that is kept:
	 * for a message, only when there is room for both (and a pad).
	 */
	n = entry_size(ev);
	if (w->gap_count && (!msg || ring_fits(w, entry_size(&w->gap) +
	    2 * n, limit)))
		put_gap(w);
	if ((w->gap_count == 0 || !msg) &&
	    ring_put(w, ev, msg ? redact_from : ev->len, flush, limit) == 0)
		return;
	if (!msg)
		return;		/* only when even the event room is full */
	/* The writer is behind: count the message, keep relaying. */
	if (w->gap_count++ == 0) {
		memset(&w->gap, 0, sizeof(w->gap));
		w->gap.kind = VX_TR_GAP;
		w->gap.ts_ns = ev->ts_ns;
		w->gap.conn = ev->conn;
		w->gap.endpoint = ev->endpoint;
		w->gap.chan = ev->chan;
		w->gap.dir = ev->dir;
		w->gap.seq = ev->seq;
	}
	w->lost++;
}

int
rec_writer_stop(struct rec_writer *w, uint64_t *recorded, uint64_t *lost)
{
	int failed;

	if (w == NULL)
		return 0;
	put_gap(w);
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->tw != NULL && vx_trace_writer_close(w->tw) < 0)
		w->failed = 1;
	if (recorded != NULL)
		*recorded = w->recorded;
	if (lost != NULL)
		*lost = w->lost;
	failed = w->failed;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->ring);
	free(w);
	return failed ? -1 : 0;
}
