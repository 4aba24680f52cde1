/*
 * record-writer.c - vfuctl record's writer thread (see record.h).
 *
 * The queue is a byte ring with one producer (the relay) and one consumer
 * (the writer).  An entry is a struct rec_entry followed by its fd
 * descriptions and payload, 8-byte aligned; an entry that does not fit
 * before the end of the buffer is preceded by a pad entry filling it.
 * The producer copies into free space and then publishes the entry by
 * moving head (a release store); the writer reads from tail to the head
 * it saw (an acquire load) and frees the space by moving tail the same
 * way.  Each counter has one writer, so putting a record takes no lock
 * and no syscall: the lock and condition variable only wake the writer
 * for a flush or a filling ring (else it wakes every REC_FLUSH_MS and
 * takes whatever has piled up), and steady-state recording allocates
 * nothing.  Messages
 * leave REC_EVENT_ROOM free for events (OPEN, CLOSE, IRQ, ...), so that
 * connection events are recorded even when messages are being lost.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "record.h"
#include "tstate.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-walk.h"

struct rec_entry {
	size_t size;		/* bytes of the ring it takes, padding included */
	int pad;		/* fills the end of the buffer: skip */
	int flush;
	struct vx_trace_rec ev;	/* fds and data point into the ring */
};

#define REC_EVENT_ROOM	((size_t)1 << 20)
#define RING_ALIGN	((size_t)2 << 20)	/* a huge page */
#define ALIGN8(n)	(((n) + 7) & ~(size_t)7)

struct rec_writer {
	struct rec_wopts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *ring;
	size_t cap;
	size_t maplen;		/* of the ring's mapping */
	/* bytes ever published (relay thread) and ever released (writer
	   thread): atomics, each stored by its own thread only */
	uint64_t head, tail;
	/* under lock */
	int stop;
	int flush_req;
	/* relay thread only */
	uint64_t lost;		/* messages not recorded, in all */
	uint64_t wake_at;	/* no wake-up for a filling ring before this */
	uint64_t gap_count;	/* ... since the last GAP record */
	struct vx_trace_rec gap;	/* the first of those */
	/* writer thread only */
	struct vx_trace_writer *tw;
	FILE *fp;		/* tw's file, for its size; NULL for stdout */
	char *name;		/* tw's file name, for messages */
	unsigned fileno;	/* rotation: number of the open file */
	uint64_t opened_ms;
	uint64_t recorded;	/* messages flushed to the file */
	uint64_t unflushed[2];	/* messages, other records written since */
	struct vx_trace_rec first;	/* the first of those messages */
	uint64_t wlost[2];	/* messages, other records the file lost */
	uint64_t wgap_count;	/* lost messages no flushed GAP counts yet */
	struct vx_trace_rec wgap;	/* the first of them */
	int gap_written;	/* a GAP with wgap_count is in, unflushed */
	/* after a failed write: the file was rewound (STALLED), or it
	   cannot go on (DEAD) */
	enum { FILE_OK, FILE_STALLED, FILE_DEAD } state;
	uint64_t retry_ms;	/* stalled: when writing was last tried */
	struct tstate *ts;	/* rotating: each file starts with the state;
				   -Y: and it is kept where records are not */
	struct vx_walk *walk;	/* -Y: the records, decoded */
	struct vx_filter_clock fclock;
	uint64_t inframes;	/* -Y: records come, numbered as frames */
	uint64_t filtered;	/* -Y: messages left out */
	uint64_t written;	/* -c: messages written */
	int count_reached;
	char **names;		/* -G with strftime names and -W: the last ones */
	unsigned nnames;
	int failed;
	/* the trace file's stdio buffer: glibc's setvbuf ignores a size
	   without a buffer and would write 4 KiB at a time */
	char iobuf[(size_t)256 << 10];
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *
rec_file_name(const char *path, unsigned n, int strftime_name, time_t t)
{
	size_t len = strlen(path) + 12;
	char *s, *tn = NULL;
	struct tm tm;

	if (strftime_name && strchr(path, '%') != NULL) {
		/* tcpdump -G: the time in the name; a bound on the text */
		len = strlen(path) * 4 + 64;
		if ((tn = malloc(len)) == NULL)
			return NULL;
		localtime_r(&t, &tm);
		if (strftime(tn, len, path, &tm) == 0) {
			free(tn);
			errno = ENAMETOOLONG;
			return NULL;
		}
		path = tn;
		len = strlen(path) + 12;
	}
	if ((s = malloc(len)) != NULL) {
		/* tcpdump -C: FILE, FILE1, FILE2, ... */
		if (n == 0)
			snprintf(s, len, "%s", path);
		else
			snprintf(s, len, "%s%u", path, n);
	}
	free(tn);
	return s;
}

uint64_t
rec_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_failed(struct rec_writer *w);

/* -G with a strftime(3) name: tcpdump's time-stamped files. */
static int
time_names(const struct rec_writer *w)
{
	return w->o.rotate_secs && strchr(w->o.path, '%') != NULL;
}

/*
 * -W with time names: the names never come round again, so keep the
 * newest COUNT files and remove the oldest this run made.
 */
static void
keep_newest(struct rec_writer *w)
{
	unsigned i;

	if (!time_names(w) || !w->o.rotate_count || w->name == NULL)
		return;
	if (w->names == NULL &&
	    (w->names = calloc(w->o.rotate_count, sizeof(char *))) == NULL)
		return;
	if (w->nnames == w->o.rotate_count) {
		if (unlink(w->names[0]) < 0 && errno != ENOENT)
			fprintf(stderr, "vfuctl record: cannot remove '%s' (-W "
			    "%u): %s\n", w->names[0], w->o.rotate_count,
			    strerror(errno));
		free(w->names[0]);
		for (i = 1; i < w->nnames; i++)
			w->names[i - 1] = w->names[i];
		w->nnames--;
	}
	w->names[w->nnames] = strdup(w->name);
	if (w->names[w->nnames] != NULL)
		w->nnames++;
}

/*
 * Each file has its own digest chain, opened with a digest of no records:
 * a file cut short (kill -9, a full disk) then verifies as truncated, not
 * as written without digests.
 */
static int
open_chain(struct rec_writer *w)
{
	return vx_trace_write_digest(w->tw, rec_now_ns());
}

static int
open_file(struct rec_writer *w, char *err, size_t errcap)
{
	struct vx_trace_wopts to;
	char *name;
	int r, fd;

	memset(&to, 0, sizeof(to));
	to.digest_every = REC_DIGEST_EVERY;
	to.snaplen = w->o.snaplen;
	to.key = w->o.key;
	to.keylen = w->o.keylen;
	w->opened_ms = mono_ms();
	w->state = FILE_OK;
	w->fp = NULL;
	if (strcmp(w->o.path, "-") == 0) {
		free(w->name);
		w->name = NULL;
		if ((w->name = strdup("standard output")) == NULL) {
			snprintf(err, errcap, "out of memory");
			return -1;
		}
		if ((r = vx_trace_writer_open("-", &to, &w->tw)) < 0) {
			snprintf(err, errcap, "cannot write to standard output: %s",
			    strerror(errno));
			return -1;
		}
		if (open_chain(w) < 0)
			write_failed(w);
		return 0;
	}
	for (;;) {
		name = rec_file_name(w->o.path, w->fileno, time_names(w),
		    time(NULL));
		if (name == NULL) {
			snprintf(err, errcap, errno == ENAMETOOLONG ? "-w '%s': "
			    "the name strftime(3) makes of it is too long" :
			    "out of memory", w->o.path);
			return -1;
		}
		/* a time name that has not changed: count within it */
		if (!time_names(w) || w->name == NULL ||
		    strcmp(name, w->name) != 0)
			break;
		free(name);
		w->fileno++;
	}
	free(w->name);
	w->name = NULL;
	if ((fd = vx_trace_create(name)) < 0 ||
	    (w->fp = fdopen(fd, "wb")) == NULL) {
		snprintf(err, errcap, "cannot write trace '%s': %s", name,
		    vx_create_strerror(errno));
		if (fd >= 0)
			close(fd);
		free(name);
		return -1;
	}
	/* fewer, larger writes; flushed every REC_FLUSH_MS anyway (w, and
	   so the buffer, outlives every file it opens) */
	setvbuf(w->fp, w->iobuf, _IOFBF, sizeof(w->iobuf));
	if (vx_trace_writer_fopen(w->fp, &to, &w->tw) < 0) {
		snprintf(err, errcap, "cannot write trace '%s': %s", name,
		    strerror(errno));
		fclose(w->fp);
		w->fp = NULL;
		free(name);
		return -1;
	}
	w->name = name;
	keep_newest(w);
	if (open_chain(w) < 0)
		write_failed(w);
	return 0;
}

/* A GAP record whose first missing message is ev. */
static void
gap_from(struct vx_trace_rec *gap, const struct vx_trace_rec *ev)
{
	memset(gap, 0, sizeof(*gap));
	gap->kind = VX_TR_GAP;
	gap->ts_ns = ev->ts_ns;
	gap->conn = ev->conn;
	gap->endpoint = ev->endpoint;
	gap->chan = ev->chan;
	gap->dir = ev->dir;
	gap->seq = ev->seq;
}

/* A record the file does not get; a message goes in the next GAP. */
static void
count_lost(struct rec_writer *w, const struct vx_trace_rec *ev)
{
	int msg = ev->kind == VX_TR_MESSAGE;

	w->wlost[!msg]++;
	if (msg && w->wgap_count++ == 0)
		gap_from(&w->wgap, ev);
}

/*
 * A write failed (a full disk, a reader gone): what went to the file since
 * the last good flush is lost, a GAP written meanwhile too.  Rewind the file
 * to that flush and try again later (stalled), or, when it cannot be
 * rewound (a pipe, a device), write no more to it (dead).  The relay goes
 * on either way.
 */
static void
write_failed(struct rec_writer *w)
{
	int e = errno, healthy = w->state == FILE_OK;

	w->failed = 1;
	if (w->unflushed[0] && w->wgap_count == 0)
		gap_from(&w->wgap, &w->first);
	w->wgap_count += w->unflushed[0];
	w->wlost[0] += w->unflushed[0];
	w->wlost[1] += w->unflushed[1];
	w->unflushed[0] = w->unflushed[1] = 0;
	w->gap_written = 0;
	w->retry_ms = mono_ms();
	w->state = vx_trace_writer_rewind(w->tw) == 0 ? FILE_STALLED :
	    FILE_DEAD;
	if (healthy)
		fprintf(stderr, "vfuctl record: cannot write '%s': %s: %s; "
		    "relaying goes on\n", w->name, strerror(e), w->state == FILE_DEAD ?
		    "nothing more is recorded there, lost messages are counted" :
		    "messages are lost (and counted) until it can be written");
}

static void
flushed(struct rec_writer *w)
{
	w->recorded += w->unflushed[0];
	w->unflushed[0] = w->unflushed[1] = 0;
	if (w->gap_written)
		w->wgap_count = 0;
	w->gap_written = 0;
}

static void
flush_file(struct rec_writer *w)
{
	if (vx_trace_flush(w->tw) < 0)
		write_failed(w);
	else
		flushed(w);
}

/* Before the next record: the GAP that counts the messages lost. */
static int
put_wgap(struct rec_writer *w)
{
	if (w->wgap_count == 0 || w->gap_written)
		return 0;
	w->wgap.count = w->wgap_count;
	if (vx_trace_write_event(w->tw, &w->wgap) < 0)
		return -1;
	w->gap_written = 1;
	return 0;
}

/*
 * A stalled file: write the GAP and flush.  If that fails again, rewind
 * for another try later, or (last) leave the error for the close to find,
 * so that the file ends without a closing digest: truncated, as it is.
 */
static void
try_resume(struct rec_writer *w, int last)
{
	uint64_t n = w->wgap_count;

	w->retry_ms = mono_ms();
	/* rewound to before the opening digest: open the chain again */
	if ((vx_trace_writer_frames(w->tw) > 0 || open_chain(w) == 0) &&
	    put_wgap(w) == 0 && vx_trace_flush(w->tw) == 0) {
		flushed(w);
		w->state = FILE_OK;
		if (n)
			fprintf(stderr, "vfuctl record: writing '%s' again; a GAP "
			    "record counts the %llu messages lost\n", w->name,
			    (unsigned long long)n);
		else
			fprintf(stderr, "vfuctl record: writing '%s' again\n",
			    w->name);
		return;
	}
	w->gap_written = 0;
	if (!last && vx_trace_writer_rewind(w->tw) < 0)
		w->state = FILE_DEAD;
}

/* Before closing: flush, or a last try at a stalled file. */
static void
finish_file(struct rec_writer *w)
{
	if (w->state == FILE_OK)
		flush_file(w);
	if (w->state == FILE_STALLED)
		try_resume(w, 1);
}

static void
close_file(struct rec_writer *w)
{
	int quiet = w->state != FILE_OK;

	finish_file(w);
	quiet |= w->state != FILE_OK;
	if (vx_trace_writer_close(w->tw) < 0 && !quiet) {
		fprintf(stderr, "vfuctl record: cannot close '%s': %s: it ends "
		    "without its closing digest\n", w->name, strerror(errno));
		w->failed = 1;
	}
	w->tw = NULL;
	w->fp = NULL;		/* closed with tw */
}

/* Past -C or -G: close this file and go on in the next one. */
static void
maybe_rotate(struct rec_writer *w, uint64_t ts_ns)
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
		due = 2 * (mono_ms() - w->opened_ms >=
		    (uint64_t)w->o.rotate_secs * 1000);
	if (!due)
		return;
	close_file(w);
	if (time_names(w)) {
		/* a new period starts a new name; -C counts within one */
		w->fileno = due == 2 ? 0 : w->fileno + 1;
	} else {
		w->fileno++;
		if (w->o.rotate_count && w->fileno >= w->o.rotate_count)
			w->fileno = 0;
	}
	if (open_file(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "vfuctl record: %s\n", err);
		w->failed = 1;
	} else if (tstate_write_all(w->ts, w->tw, ts_ns) < 0) {
		fprintf(stderr, "vfuctl record: writing the session state "
		    "failed: %s\n", strerror(errno));
		w->failed = 1;
	}
}

/* The session state follows every record, written or not. */
static void
track(struct rec_writer *w, const struct vx_trace_rec *rec)
{
	if (w->ts != NULL && tstate_seen(w->ts, rec) < 0 && !w->failed) {
		fprintf(stderr, "vfuctl record: out of memory for the "
		    "session state\n");
		w->failed = 1;
	}
}

/*
 * -c and -Y: whether the file gets this record.  One that does not still
 * moves the session state (so a later STATE record says what it did); it
 * is neither recorded nor lost.
 */
static int
keep_record(struct rec_writer *w, const struct vx_trace_rec *ev)
{
	struct vx_walk_item it;
	struct vx_trace_rec in;
	int keep = 1;

	if (ev->kind == VX_TR_MESSAGE && w->count_reached)
		return 0;	/* -c reached: the relay stops capturing */
	if (w->walk == NULL)
		return 1;
	in = *ev;
	in.frame = ++w->inframes;
	if (vx_walk_feed(w->walk, &in, &it) < 0) {
		if (!w->failed)
			fprintf(stderr, "vfuctl record: out of memory for -Y: "
			    "records are kept unfiltered\n");
		w->failed = 1;
		return 1;
	}
	keep = vx_filter_match_item(w->o.filter, &it, &w->fclock);
	if (!keep) {
		w->filtered += ev->kind == VX_TR_MESSAGE;
		track(w, ev);
	}
	return keep;
}

/* -c: count a message written; the last one tells the relay. */
static void
count_written(struct rec_writer *w)
{
	uint64_t one = 1;

	if (!w->o.count || ++w->written < w->o.count || w->count_reached)
		return;
	w->count_reached = 1;
	if (write(w->o.count_fd, &one, sizeof(one)) < 0)
		w->failed = 1;
}

static void
write_entry(struct rec_writer *w, const struct rec_entry *e)
{
	const struct vx_trace_rec *ev = &e->ev;
	struct vx_trace_rec seen;
	int r;

	if (!keep_record(w, ev))
		return;
	maybe_rotate(w, ev->ts_ns);
	if (w->tw == NULL || w->state != FILE_OK) {
		count_lost(w, ev);
		return;
	}
	if (put_wgap(w) < 0) {
		write_failed(w);
		count_lost(w, ev);
		return;
	}
	/* pending commands name their frame in the file they are in */
	seen = *ev;
	seen.frame = vx_trace_writer_frames(w->tw) + 1;
	if (w->walk == NULL)
		track(w, &seen);
	else if (tstate_sync(w->ts, w->tw, &seen) < 0) {
		/* -Y: the left-out records' state first, if they changed it */
		write_failed(w);
		track(w, &seen);
		count_lost(w, ev);
		return;
	}
	if (ev->kind == VX_TR_MESSAGE)
		r = vx_trace_write_message(w->tw, ev->conn, ev->endpoint,
		    ev->chan, ev->dir, ev->seq, ev->ts_ns, ev->data, ev->len,
		    ev->fds, ev->nfds);
	else
		r = vx_trace_write_event(w->tw, ev);
	if (w->walk != NULL) {
		if (r == 0)
			tstate_written(w->ts, &seen);
		track(w, &seen);
	}
	if (r == 0) {
		if (ev->kind == VX_TR_MESSAGE && w->unflushed[0] == 0)
			w->first = *ev;
		w->unflushed[ev->kind != VX_TR_MESSAGE]++;
		if (ev->kind == VX_TR_MESSAGE)
			count_written(w);
		return;
	}
	if (r == VX_ERR_IO)
		write_failed(w);
	else
		fprintf(stderr, "vfuctl record: cannot record a %s of %zu bytes: "
		    "%s\n", vx_trace_kind_name(ev->kind), ev->len,
		    vx_strerror(r));
	count_lost(w, ev);
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
		if (__atomic_load_n(&w->head, __ATOMIC_ACQUIRE) == w->tail &&
		    !w->stop && !w->flush_req) {
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += REC_FLUSH_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &dl);
		}
		stop = w->stop;
		want_flush = w->flush_req;
		w->flush_req = 0;
		pthread_mutex_unlock(&w->lock);
		/* after stop: everything put before it is in */
		head = __atomic_load_n(&w->head, __ATOMIC_ACQUIRE);
		pos = w->tail;

		/* [tail, head) is ours until tail moves */
		while (pos < head) {
			e = (const struct rec_entry *)(w->ring + pos % w->cap);
			if (!e->pad) {
				write_entry(w, e);
				dirty = 1;
			}
			pos += e->size;
		}
		__atomic_store_n(&w->tail, pos, __ATOMIC_RELEASE);
		if (dirty && w->tw != NULL && w->state == FILE_OK &&
		    (want_flush || stop || mono_ms() - last_flush >= REC_FLUSH_MS)) {
			flush_file(w);
			last_flush = mono_ms();
			dirty = 0;
		}
		if (w->state == FILE_STALLED && mono_ms() - w->retry_ms >= REC_FLUSH_MS)
			try_resume(w, 0);
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
	/* picks the fastest BLAKE2b for this CPU (and is safe to repeat) */
	if (sodium_init() < 0) {
		snprintf(err, errcap, "cannot initialise libsodium");
		free(w);
		return -1;
	}
	w->o = *o;
	if (w->o.queue_max == 0)
		w->o.queue_max = REC_QUEUE_MAX;
	/* Untouched pages cost nothing: the ring is paged in as it fills. */
	w->cap = ALIGN8(w->o.queue_max) + REC_EVENT_ROOM;
	/*
	 * slack: a pad entry's header may start 8 bytes before the end.
	 * Huge pages where the kernel has them for the asking: the first
	 * pass through the ring then costs 32 page faults, not 16384.
	 */
	w->maplen = (w->cap + sizeof(struct rec_entry) + RING_ALIGN - 1) &
	    ~(RING_ALIGN - 1);
	w->ring = mmap(NULL, w->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->ring == MAP_FAILED)
		w->ring = NULL;
#ifdef MADV_HUGEPAGE
	else
		madvise(w->ring, w->maplen, MADV_HUGEPAGE);
#endif
	if (w->ring == NULL) {
		snprintf(err, errcap, "out of memory");
		free(w);
		return -1;
	}
	if (w->o.filter != NULL && (vx_walk_new(NULL, &w->walk) < 0 ||
	    (w->ts = tstate_new(VX_PEER_AUTO, 1)) == NULL)) {
		snprintf(err, errcap, "out of memory");
		vx_walk_close(w->walk);
		munmap(w->ring, w->maplen);
		free(w);
		return -1;
	}
	if (w->ts == NULL && (w->o.rotate_bytes || w->o.rotate_secs) &&
	    (w->ts = tstate_new(VX_PEER_AUTO, 0)) == NULL) {
		snprintf(err, errcap, "out of memory");
		munmap(w->ring, w->maplen);
		free(w);
		return -1;
	}
	if (open_file(w, err, errcap) < 0) {
		tstate_free(w->ts);
		vx_walk_close(w->walk);
		munmap(w->ring, w->maplen);
		free(w->name);
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
		tstate_free(w->ts);
		vx_walk_close(w->walk);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		munmap(w->ring, w->maplen);
		free(w->name);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static size_t
entry_size(const struct vx_trace_rec *ev)
{
	return ALIGN8(sizeof(struct rec_entry) +
	    (size_t)ev->nfds * sizeof(struct vx_fd_info) + ev->len);
}

/*
 * Copy ev into the ring if it fits in limit bytes of queue; 0, or -1 if
 * there is no room.  Relay thread only.
 */
static int
ring_put(struct rec_writer *w, const struct vx_trace_rec *ev, int flush,
    size_t limit)
{
	size_t fdb = (size_t)ev->nfds * sizeof(struct vx_fd_info);
	size_t size = entry_size(ev);
	size_t off, room, skip;
	struct rec_entry *e;
	uint64_t head, used;
	uint8_t *p;

	head = w->head;		/* ours */
	used = head - __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
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
		memcpy(p, ev->data, ev->len);
		e->ev.data = p;
	}
	__atomic_store_n(&w->head, head + skip + size, __ATOMIC_RELEASE);
	/* Wake the writer early for a flush or a filling ring; once it is
	   awake (wake_at), not again until it has caught up. */
	used += skip + size;
	if (flush || (used > (w->cap >> 6) && head >= w->wake_at)) {
		pthread_mutex_lock(&w->lock);
		w->flush_req |= flush;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		w->wake_at = head + skip + size + (w->cap >> 6);
	}
	return 0;
}

/* Put the pending GAP record, if any; 0 if none is left pending. */
static int
put_gap(struct rec_writer *w)
{
	if (w->gap_count == 0)
		return 0;
	w->gap.count = w->gap_count;
	if (ring_put(w, &w->gap, 1, w->cap) < 0)
		return -1;
	w->gap_count = 0;
	return 0;
}

/* Room for n bytes (with any padding) within limit?  Relay thread only. */
static int
ring_fits(struct rec_writer *w, size_t n, size_t limit)
{
	uint64_t used;

	used = w->head - __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
	return n <= limit && used + n <= limit;
}

void
rec_put(struct rec_writer *w, const struct vx_trace_rec *ev, int flush)
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
	    ring_put(w, ev, flush, limit) == 0)
		return;
	if (!msg)
		return;		/* only when even the event room is full */
	/* The writer is behind: count the message, keep relaying. */
	if (w->gap_count++ == 0)
		gap_from(&w->gap, ev);
	w->lost++;
}

int
rec_writer_stop(struct rec_writer *w, struct rec_stats *st)
{
	int failed;

	memset(st, 0, sizeof(*st));
	if (w == NULL)
		return 0;
	put_gap(w);
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->tw != NULL)
		close_file(w);
	st->recorded = w->recorded;
	st->lost = w->lost + w->wlost[0];
	st->lost_other = w->wlost[1];
	st->filtered = w->filtered;
	st->count_reached = w->count_reached;
	failed = w->failed;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->name);
	tstate_free(w->ts);
	vx_walk_close(w->walk);
	while (w->nnames > 0)
		free(w->names[--w->nnames]);
	free(w->names);
	munmap(w->ring, w->maplen);
	free(w);
	return failed ? -1 : 0;
}
