/*
 * record-writer.c - vfuctl record's writer thread (see record.h).
 *
 * The queue is a singly linked list of malloc'd entries (record, fd
 * descriptions and payload in one block) bounded by the bytes it holds.
 * The relay appends under the mutex; the writer detaches the whole list
 * at once and writes it without holding the lock, so the relay waits
 * for the writer only for a pointer swap.
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
	struct rec_entry *next;
	size_t size;		/* bytes charged to the queue */
	int flush;
	struct vx_trace_rec ev;	/* fds and data point into this block */
};

struct rec_writer {
	struct rec_wopts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	struct rec_entry *head, **tail;
	size_t bytes;
	int stop;
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
	struct rec_entry *list, *e, *next;
	struct timespec dl;
	uint64_t last_flush = mono_ms();
	int dirty = 0, want_flush, stop;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		if (w->head == NULL && !w->stop) {
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += REC_FLUSH_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &dl);
		}
		list = w->head;
		w->head = NULL;
		w->tail = &w->head;
		w->bytes = 0;
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);

		want_flush = 0;
		for (e = list; e != NULL; e = next) {
			next = e->next;
			write_entry(w, e);
			want_flush |= e->flush;
			dirty = 1;
			free(e);
		}
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
		if (stop && list == NULL)
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
	w->tail = &w->head;
	if (open_file(w, err, errcap) < 0) {
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
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static struct rec_entry *
entry_new(const struct vx_trace_rec *ev, size_t redact_from)
{
	struct rec_entry *e;
	size_t fdb = (size_t)ev->nfds * sizeof(struct vx_fd_info);
	size_t size = sizeof(*e) + fdb + ev->len;
	uint8_t *p;

	if ((e = malloc(size)) == NULL)
		return NULL;
	e->next = NULL;
	e->size = size;
	e->flush = 0;
	e->ev = *ev;
	p = (uint8_t *)(e + 1);
	if (fdb) {
		memcpy(p, ev->fds, fdb);
		e->ev.fds = (const struct vx_fd_info *)p;
		p += fdb;
	} else
		e->ev.fds = NULL;
	if (ev->len) {
		if (redact_from > ev->len)
			redact_from = ev->len;
		memcpy(p, ev->data, redact_from);
		memset(p + redact_from, 0, ev->len - redact_from);
		e->ev.data = p;
	} else
		e->ev.data = NULL;
	return e;
}

static void
append(struct rec_writer *w, struct rec_entry *e)
{
	*w->tail = e;
	w->tail = &e->next;
	w->bytes += e->size;
}

void
rec_put(struct rec_writer *w, const struct vx_trace_rec *ev,
    size_t redact_from, int flush)
{
	struct rec_entry *e, *g = NULL;
	size_t need;

	if (w == NULL)
		return;
	need = sizeof(*e) + (size_t)ev->nfds * sizeof(struct vx_fd_info) +
	    ev->len;
	pthread_mutex_lock(&w->lock);
	if (ev->kind == VX_TR_MESSAGE && w->bytes + need > w->o.queue_max) {
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
		pthread_mutex_unlock(&w->lock);
		return;
	}
	pthread_mutex_unlock(&w->lock);

	/* Copy outside the lock: the writer never waits on a memcpy. */
	e = entry_new(ev, ev->kind == VX_TR_MESSAGE ? redact_from : ev->len);

	pthread_mutex_lock(&w->lock);
	if (w->gap_count) {
		w->gap.count = w->gap_count;
		if ((g = entry_new(&w->gap, 0)) != NULL) {
			g->flush = 1;
			append(w, g);
			w->gap_count = 0;
		}
	}
	if (e != NULL) {
		e->flush = flush;
		append(w, e);
	} else if (ev->kind == VX_TR_MESSAGE) {
		if (w->gap_count++ == 0) {
			w->gap = *ev;
			w->gap.kind = VX_TR_GAP;
			w->gap.nfds = 0;
			w->gap.fds = NULL;
			w->gap.data = NULL;
			w->gap.len = 0;
		}
		w->lost++;
	}
	/* Wake the writer early for a flush or a filling queue. */
	if (flush || g != NULL || w->bytes > (w->o.queue_max >> 6))
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int
rec_writer_stop(struct rec_writer *w, uint64_t *recorded, uint64_t *lost)
{
	struct rec_entry *g;
	int failed;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (w->gap_count) {
		w->gap.count = w->gap_count;
		if ((g = entry_new(&w->gap, 0)) != NULL)
			append(w, g);
		w->gap_count = 0;
	}
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
	free(w);
	return failed ? -1 : 0;
}
