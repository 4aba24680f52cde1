/*
 * test-trace.c - trace files (lib/vx-trace.h): every record kind round
 * trips through write and read and through JSON lines; 1 MiB and 16 MiB
 * messages come back byte-exact from their fragments; snapping is
 * reported; a file cut anywhere gives every whole record and then an error
 * naming the frame; corrupt pseudo-headers and foreign link types are
 * refused; the digest chain catches a flipped byte, truncation and a
 * re-chained edit made without the key; following a growing file works;
 * a failed write is rewound to the last flush and writing goes on;
 * and neither side allocates per record once warmed up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-msg.h"
#include "vx-trace.h"
#include "helpers.h"
#include "unit.h"

/*
 * Count allocations by standing in for glibc's malloc (the replacement
 * the glibc manual allows), except under ASan, which has its own.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MALLOC_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NO_MALLOC_COUNT 1
#endif

static unsigned long nallocs;

#ifndef NO_MALLOC_COUNT
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t al, size_t n);
void free(void *p);

void *
malloc(size_t n)
{
	nallocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	nallocs++;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	nallocs++;
	return __libc_realloc(p, n);
}

void *
aligned_alloc(size_t al, size_t n)
{
	nallocs++;
	return __libc_memalign(al, n);
}

void
free(void *p)
{
	__libc_free(p);
}
#endif

static char dir[64];

static const char *
tpath(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;
	uint32_t x = seed * 2654435761u + 1;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* A plausible 16-byte header in front of n - 16 bytes of pattern. */
static uint8_t *
make_msg(size_t n, unsigned seed)
{
	uint8_t *m = malloc(n);

	fill(m, n, seed);
	if (n >= 16) {
		m[0] = (uint8_t)seed;
		m[1] = 0;
		m[2] = 9;
		m[3] = 0;
		m[4] = (uint8_t)n;
		m[5] = (uint8_t)(n >> 8);
		m[6] = (uint8_t)(n >> 16);
		m[7] = (uint8_t)(n >> 24);
	}
	return m;
}

static long
file_size(const char *p)
{
	FILE *f = fopen(p, "rb");
	long n;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

static void
copy_prefix(const char *from, const char *to, long n)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t k;

	while (n > 0 && (k = fread(buf, 1, n < (long)sizeof(buf) ?
	    (size_t)n : sizeof(buf), a)) > 0) {
		fwrite(buf, 1, k, b);
		n -= (long)k;
	}
	fclose(a);
	fclose(b);
}

static void
flip_byte(const char *p, long off)
{
	FILE *f = fopen(p, "r+b");
	int c;

	fseek(f, off, SEEK_SET);
	c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c ^ 0xff, f);
	fclose(f);
}

/* Byte offsets of the pcap records of a file written on this host. */
static int
record_offsets(const char *p, long *off, int max)
{
	FILE *f = fopen(p, "rb");
	uint32_t h[4];
	long pos = 24;
	int n = 0;

	fseek(f, 24, SEEK_SET);
	while (n < max && fread(h, 4, 4, f) == 4) {
		off[n++] = pos;
		pos += 16 + (long)h[2];
		fseek(f, pos, SEEK_SET);
	}
	fclose(f);
	return n;
}

/* Read all; returns records read, *rc the last vx_trace_next() result. */
static int
read_all(const char *p, const struct vx_trace_ropts *o, int *rc, char *err,
    size_t errcap)
{
	struct vx_trace_reader *r;
	struct vx_trace_rec rec;
	int n = 0;

	*rc = vx_trace_reader_open(p, o, &r);
	if (*rc < 0) {
		if (r != NULL)
			snprintf(err, errcap, "%s", vx_trace_reader_error(r, NULL));
		vx_trace_reader_close(r);
		return -1;
	}
	while ((*rc = vx_trace_next(r, &rec)) > 0)
		n++;
	snprintf(err, errcap, "%s", vx_trace_reader_error(r, NULL));
	vx_trace_reader_close(r);
	return n;
}

static struct vx_trace_writer *
wopen(const char *name, unsigned every, const uint8_t *key, size_t keylen)
{
	struct vx_trace_wopts o;
	struct vx_trace_writer *w = NULL;

	memset(&o, 0, sizeof(o));
	o.digest_every = every;
	o.key = key;
	o.keylen = keylen;
	if (vx_trace_writer_open(tpath(name), &o, &w) < 0)
		diag("cannot open %s: %s", name, strerror(errno));
	return w;
}

/* --- every kind -------------------------------------------------------------- */

static const struct vx_fd_info fds2[2] = {
	{ VX_FD_MEMFD, 1 << 20, 15, 0x803, 123456 },
	{ VX_FD_EVENTFD, 0, 0, 14, 42 },
};

static int
write_kinds(struct vx_trace_writer *w)
{
	static const uint8_t msg[16] = { 1, 0, 1, 0, 16 };
	static const uint8_t raw[5] = { 0xde, 0xad, 0xbe, 0xef, 0 };
	struct vx_trace_rec e;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_OPEN;
	e.ts_ns = 1000000001;
	e.conn = 7;
	e.endpoint = 2;
	e.pid = 4242;
	e.uid = 1000;
	e.gid = 100;
	rc |= vx_trace_write_event(w, &e);
	rc |= vx_trace_write_message(w, 7, 2, VX_CHAN_MAIN, VX_C2S, 0,
	    1000000002, msg, sizeof(msg), fds2, 2);
	rc |= vx_trace_write_message(w, 7, 2, VX_CHAN_TWIN, VX_S2C, 5,
	    1000000003, msg, sizeof(msg), NULL, 0);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_IRQ;
	e.ts_ns = 1000000004;
	e.conn = 7;
	e.dir = VX_S2C;
	e.irq_index = 2;
	e.irq_vector = 3;
	e.count = 9;
	rc |= vx_trace_write_event(w, &e);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_ANNOTATION;
	e.ts_ns = 1000000005;
	e.conn = 7;
	e.data = (const uint8_t *)"note \"x\"\n\\ \x01";
	e.len = strlen((const char *)e.data);
	rc |= vx_trace_write_event(w, &e);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_RAW;
	e.ts_ns = 1000000006;
	e.conn = 7;
	e.dir = VX_S2C;
	e.data = raw;
	e.len = sizeof(raw);
	rc |= vx_trace_write_event(w, &e);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_GAP;
	e.ts_ns = 1000000007;
	e.conn = 7;
	e.seq = 1;
	e.count = 3;
	rc |= vx_trace_write_event(w, &e);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_MESSAGE;
	e.ts_ns = 1000000008;
	e.conn = 7;
	e.flags = VX_TRF_BE;
	e.seq = 1;
	e.data = msg;
	e.len = sizeof(msg);
	rc |= vx_trace_write_event(w, &e);
	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_CLOSE;
	e.ts_ns = 1000000009;
	e.conn = 7;
	e.pid = 4242;
	rc |= vx_trace_write_event(w, &e);
	return rc;
}

static void
test_kinds(void)
{
	struct vx_trace_writer *w = wopen("kinds.pcap", 4, NULL, 0);
	struct vx_trace_reader *r;
	struct vx_trace_rec rec[16];
	struct vx_fd_info fdcopy[2];
	uint8_t data[16][64];
	int n = 0, rc, ok_all;
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };

	ok(write_kinds(w) == 0, "every kind writes");
	ok(vx_trace_writer_close(w) == 0, "writer closes");
	ok(vx_trace_reader_open(tpath("kinds.pcap"), &ro, &r) == 0,
	    "reader opens with verify");
	while (n < 16 && (rc = vx_trace_next(r, &rec[n])) > 0) {
		memcpy(data[n], rec[n].data, rec[n].len < 64 ? rec[n].len : 64);
		rec[n].data = data[n];
		if (rec[n].nfds == 2) {
			memcpy(fdcopy, rec[n].fds, sizeof(fdcopy));
			rec[n].fds = fdcopy;
		}
		n++;
	}
	ok(rc == 0, "read to the end with the chain verified (%s)",
	    vx_trace_reader_error(r, NULL));
	ok(vx_trace_reader_linktype(r) == 147, "link type USER0");
	vx_trace_reader_close(r);
	/* 9 records, digests after 4 and 8 and the closing one. */
	ok(n == 12, "12 records (9 + 3 digests), got %d", n);
	if (n != 12)
		return;
	ok(rec[0].kind == VX_TR_OPEN && rec[0].pid == 4242 &&
	    rec[0].uid == 1000 && rec[0].gid == 100 && rec[0].conn == 7 &&
	    rec[0].endpoint == 2 && rec[0].ts_ns == 1000000001 &&
	    rec[0].frame == 1, "open: credentials, ids, time");
	ok_all = rec[1].kind == VX_TR_MESSAGE && rec[1].len == 16 &&
	    rec[1].dir == VX_C2S && rec[1].chan == VX_CHAN_MAIN &&
	    rec[1].seq == 0 && rec[1].nfds == 2 && !rec[1].truncated &&
	    rec[1].fds[0].kind == VX_FD_MEMFD &&
	    rec[1].fds[0].size == 1 << 20 && rec[1].fds[0].seals == 15 &&
	    rec[1].fds[0].dev == 0x803 && rec[1].fds[0].ino == 123456 &&
	    rec[1].fds[1].kind == VX_FD_EVENTFD && rec[1].fds[1].ino == 42;
	ok(ok_all, "message with two descriptors: kind, size, seals, dev, ino");
	ok(rec[2].kind == VX_TR_MESSAGE && rec[2].dir == VX_S2C &&
	    rec[2].chan == VX_CHAN_TWIN && rec[2].seq == 5 &&
	    rec[2].nfds == 0 && (rec[2].flags & VX_TRF_S2C) &&
	    (rec[2].flags & VX_TRF_TWIN), "twin s2c message, seq 5");
	ok(rec[3].kind == VX_TR_IRQ && rec[3].irq_index == 2 &&
	    rec[3].irq_vector == 3 && rec[3].count == 9 &&
	    rec[3].dir == VX_S2C, "irq: index, vector, count");
	ok(rec[4].kind == VX_TR_DIGEST && rec[4].count == 4 &&
	    rec[4].seq == 0 && rec[4].len == 32 &&
	    !(rec[4].flags & VX_TRF_FINAL), "digest after 4 records");
	ok(rec[5].kind == VX_TR_ANNOTATION && rec[5].len == 12 &&
	    memcmp(rec[5].data, "note \"x\"\n\\ \x01", 12) == 0,
	    "annotation text");
	ok(rec[6].kind == VX_TR_RAW && rec[6].len == 5 &&
	    rec[6].data[0] == 0xde && rec[6].dir == VX_S2C, "raw bytes");
	ok(rec[7].kind == VX_TR_GAP && rec[7].seq == 1 && rec[7].count == 3,
	    "gap: first missing seq and count");
	ok(rec[8].kind == VX_TR_MESSAGE && (rec[8].flags & VX_TRF_BE),
	    "big-endian flag");
	ok(rec[9].kind == VX_TR_DIGEST && rec[9].seq == 1, "second digest");
	ok(rec[10].kind == VX_TR_CLOSE && rec[10].pid == 4242, "close");
	ok(rec[11].kind == VX_TR_DIGEST && (rec[11].flags & VX_TRF_FINAL) &&
	    rec[11].count == 1 && rec[11].frame == 12,
	    "closing digest, final, last frame");
}

/* Export every record of `from` as JSON, import into `to`, compare. */
static void
test_json_roundtrip(void)
{
	static uint8_t buf[1 << 16];
	static struct vx_fd_info fds[VX_TRACE_MAX_FDS];
	struct vx_trace_reader *r, *r2;
	struct vx_trace_writer *w = wopen("kinds-json.pcap", 4, NULL, 0);
	struct vx_trace_rec rec, rec2, in;
	char line[4096], line2[4096], why[200], note[64];
	unsigned given;
	int rc, rc2, n = 0, same = 1, parsed = 1;

	vx_trace_reader_open(tpath("kinds.pcap"), NULL, &r);
	while ((rc = vx_trace_next(r, &rec)) > 0) {
		vx_trace_rec_json(&rec, line, sizeof(line));
		if (vx_trace_rec_parse(line, &in, buf, sizeof(buf), fds, &given,
		    note, sizeof(note), why, sizeof(why)) < 0) {
			diag("parse: %s: %s", why, line);
			parsed = 0;
			continue;
		}
		if (in.kind != VX_TR_DIGEST && vx_trace_write_event(w, &in) < 0)
			parsed = 0;
	}
	vx_trace_reader_close(r);
	vx_trace_writer_close(w);
	ok(parsed, "every exported line parses and writes");
	vx_trace_reader_open(tpath("kinds.pcap"), NULL, &r);
	vx_trace_reader_open(tpath("kinds-json.pcap"), NULL, &r2);
	for (;;) {
		rc = vx_trace_next(r, &rec);
		rc2 = vx_trace_next(r2, &rec2);
		if (rc != rc2) {
			same = 0;
			break;
		}
		if (rc <= 0)
			break;
		n++;
		vx_trace_rec_json(&rec, line, sizeof(line));
		vx_trace_rec_json(&rec2, line2, sizeof(line2));
		if (strcmp(line, line2) != 0) {
			diag("%s\n# %s", line, line2);
			same = 0;
		}
	}
	vx_trace_reader_close(r);
	vx_trace_reader_close(r2);
	ok(same && n == 12, "export, import, export: identical lines (%d)", n);
	vx_trace_reader_open(tpath("kinds.pcap"), NULL, &r);
	vx_trace_next(r, &rec);
	vx_trace_next(r, &rec);
	ok(vx_trace_rec_json(&rec, line, 20) > 20 && strlen(line) == 19,
	    "export reports the length it needs and stays in bounds");
	vx_trace_reader_close(r);
	ok(vx_trace_rec_parse("{\"seq\": 2, \"t_ns\": 5, \"dir\": \"c2s\", "
	    "\"nfds\": 0, \"fds\": [], \"note\": \"bad msg_size 8 < 16\", "
	    "\"hex\": \"02000900080000000000000000000000\"}", &in, buf,
	    sizeof(buf), fds, &given, note, sizeof(note), why,
	    sizeof(why)) == 0 && in.kind == VX_TR_MESSAGE && in.len == 16 &&
	    given == 0 && strcmp(note, "bad msg_size 8 < 16") == 0,
	    "a vector line with a note parses as its 16 bytes");
}

/* --- fragments and snapping -------------------------------------------------- */

static void
test_fragments(void)
{
	static const size_t sizes[] = {
		1 << 20, 16 << 20, 262144 - 64, 262144 - 64 + 1, 100, 0,
	};
	struct vx_trace_writer *w = wopen("frag.pcap", 0, NULL, 0);
	struct vx_trace_reader *r;
	struct vx_trace_rec rec;
	uint8_t *m, *big;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		m = make_msg(sizes[i], (unsigned)i);
		rc = vx_trace_write_message(w, 1, 0, VX_CHAN_MAIN, VX_C2S, i,
		    (uint64_t)i, m, sizes[i], i == 0 ? fds2 : NULL,
		    i == 0 ? 2 : 0);
		if (rc < 0)
			diag("write %zu: %s", sizes[i], vx_strerror(rc));
		free(m);
	}
	big = calloc(1, VX_TRACE_MSG_MAX + 1);
	ok(vx_trace_write_message(w, 1, 0, 0, 0, 99, 99, big,
	    VX_TRACE_MSG_MAX + 1, NULL, 0) == VX_ERR_TOO_LARGE,
	    "a message over 64 MiB is refused");
	ok(vx_trace_write_message(w, 1, 0, 0, 0, 98, 98, big,
	    VX_TRACE_MSG_MAX, NULL, 0) == 0, "a 64 MiB message is written");
	free(big);
	ok(vx_trace_writer_close(w) == 0, "fragment writer closes");

	vx_trace_reader_open(tpath("frag.pcap"), NULL, &r);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t frames;

		rc = vx_trace_next(r, &rec);
		m = make_msg(sizes[i], (unsigned)i);
		frames = rec.last_frame - rec.frame + 1;
		ok(rc == 1 && rec.len == sizes[i] && rec.orig_len == sizes[i] &&
		    !rec.truncated && rec.seq == i &&
		    (sizes[i] == 0 || memcmp(rec.data, m, sizes[i]) == 0),
		    "%zu-byte message reassembled byte-exact from %llu records",
		    sizes[i], (unsigned long long)frames);
		if (i == 0)
			ok(rec.nfds == 2 && rec.fds[1].ino == 42 && frames == 5,
			    "1 MiB: 5 records, descriptors from the first");
		if (i == 1)
			ok(frames == 65, "16 MiB: 65 records");
		if (i == 3)
			ok(frames == 2, "one byte over a record: 2 records");
		free(m);
	}
	rc = vx_trace_next(r, &rec);
	ok(rc == 1 && rec.len == VX_TRACE_MSG_MAX, "64 MiB message read");
	ok(vx_trace_next(r, &rec) == 0, "then the end");
	vx_trace_reader_close(r);
}

static void
test_snaplen(void)
{
	struct vx_trace_wopts o = { 0, 100, 10, NULL, 0, 0 };
	struct vx_trace_writer *w;
	struct vx_trace_reader *r;
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	struct vx_trace_rec rec;
	uint8_t *m = make_msg(1 << 20, 5);
	char line[1024];
	int rc;

	ok(vx_trace_writer_open(tpath("snap.pcap"), &o, &w) == 0,
	    "writer with snaplen 100");
	vx_trace_write_message(w, 0, 0, 0, 0, 0, 1, m, 1000, NULL, 0);
	vx_trace_write_message(w, 0, 0, 0, 1, 0, 2, m, 1 << 20, NULL, 0);
	vx_trace_write_message(w, 0, 0, 0, 0, 1, 3, m, 64, NULL, 0);
	vx_trace_writer_close(w);
	vx_trace_reader_open(tpath("snap.pcap"), &ro, &r);
	rc = vx_trace_next(r, &rec);
	ok(rc == 1 && rec.truncated && rec.len == 100 &&
	    rec.orig_len == 1000 && memcmp(rec.data, m, 100) == 0,
	    "1000-byte message: 100 kept, truncated, length 1000 known");
	vx_trace_rec_json(&rec, line, sizeof(line));
	ok(strstr(line, "\"truncated\":true,\"orig_len\":1000") != NULL,
	    "JSON says truncated and the original length");
	rc = vx_trace_next(r, &rec);
	ok(rc == 1 && rec.truncated && rec.len == 100 &&
	    rec.orig_len == 1 << 20 && rec.frame == rec.last_frame,
	    "1 MiB message snapped into one record");
	rc = vx_trace_next(r, &rec);
	ok(rc == 1 && !rec.truncated && rec.len == 64,
	    "a message under the snaplen is whole");
	while ((rc = vx_trace_next(r, &rec)) > 0)
		;
	ok(rc == 0, "snapped trace verifies");
	vx_trace_reader_close(r);
	free(m);
}

/* --- damage ------------------------------------------------------------------- */

static void
test_truncation(void)
{
	struct vx_trace_writer *w = wopen("cut.pcap", 0, NULL, 0);
	long off[64], size, cuts[8];
	uint8_t *m = make_msg(600000, 9);	/* 3 fragments */
	char err[256], want[32];
	int i, n, nrec, got, rc, expect;

	for (i = 0; i < 6; i++)
		vx_trace_write_message(w, 0, 0, 0, i & 1, (uint64_t)i / 2,
		    (uint64_t)i, m, 40 + (size_t)i, NULL, 0);
	vx_trace_write_message(w, 0, 0, 0, 0, 3, 6, m, 600000, NULL, 0);
	vx_trace_write_message(w, 0, 0, 0, 1, 3, 7, m, 16, NULL, 0);
	vx_trace_writer_close(w);
	free(m);
	nrec = record_offsets(tpath("cut.pcap"), off, 64);
	size = file_size(tpath("cut.pcap"));
	ok(nrec == 10, "6 small messages, 3 fragments, 1 more: 10 records");
	if (nrec != 10)
		return;
	/* In record 3's header, in its data, inside the fragment run
	   (records 7-9), in the last record, one byte short. */
	cuts[0] = off[2] + 7;
	cuts[1] = off[2] + 16 + 30;
	cuts[2] = off[7] + 100;
	cuts[3] = off[8] + 16;
	cuts[4] = off[9] + 20;
	cuts[5] = size - 1;
	for (i = 0; i < 6; i++) {
		int frame = 0;

		for (n = 0; n < nrec; n++)
			if (off[n] <= cuts[i])
				frame = n + 1;	/* the record the cut is in */
		/* Whole records before it: frames 7-9 are one message. */
		expect = frame <= 7 ? frame - 1 : frame <= 9 ? 6 : 7;
		copy_prefix(tpath("cut.pcap"), tpath("cut-part.pcap"), cuts[i]);
		got = read_all(tpath("cut-part.pcap"), NULL, &rc, err,
		    sizeof(err));
		snprintf(want, sizeof(want), "frame %d: truncated", frame);
		ok(got == expect && rc == VX_ERR_TRUNCATED,
		    "cut at byte %ld (frame %d): %d records, then '%s'",
		    cuts[i], frame, got, err);
		ok(strncmp(err, want, strlen(want)) == 0,
		    "the error names frame %d", frame);
	}
	copy_prefix(tpath("cut.pcap"), tpath("cut-part.pcap"), 10);
	got = read_all(tpath("cut-part.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == -1 && rc == VX_ERR_TRUNCATED,
	    "cut inside the pcap file header: '%s'", err);
}

static void
test_corrupt(void)
{
	struct vx_trace_writer *w = wopen("corrupt.pcap", 0, NULL, 0);
	long off[16];
	char err[256];
	int i, got, rc;
	pcap_t *pd;
	pcap_dumper_t *d;
	struct pcap_pkthdr ph;
	uint8_t pkt[64];

	for (i = 0; i < 5; i++)
		vx_trace_write_message(w, 0, 0, 0, 0, (uint64_t)i, (uint64_t)i,
		    "0123456789abcdef", 16, NULL, 0);
	vx_trace_writer_close(w);
	record_offsets(tpath("corrupt.pcap"), off, 16);

	copy_prefix(tpath("corrupt.pcap"), tpath("c1.pcap"), 1 << 20);
	flip_byte(tpath("c1.pcap"), off[2] + 16);	/* magic */
	got = read_all(tpath("c1.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == 2 && rc == VX_ERR_INVALID &&
	    strstr(err, "frame 3: corrupt pseudo-header: bad magic") != NULL,
	    "bad magic: 2 records, then '%s'", err);

	copy_prefix(tpath("corrupt.pcap"), tpath("c1.pcap"), 1 << 20);
	flip_byte(tpath("c1.pcap"), off[3] + 16 + 4 /* version */);
	got = read_all(tpath("c1.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == 3 && rc == VX_ERR_UNSUPPORTED &&
	    strstr(err, "frame 4:") != NULL && strstr(err, "version") != NULL,
	    "unknown version: '%s'", err);

	copy_prefix(tpath("corrupt.pcap"), tpath("c1.pcap"), 1 << 20);
	flip_byte(tpath("c1.pcap"), off[0] + 16 + 7 /* hdr_len high */);
	got = read_all(tpath("c1.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == 0 && rc == VX_ERR_INVALID && strstr(err, "frame 1:") != NULL,
	    "header length beyond the record: '%s'", err);

	copy_prefix(tpath("corrupt.pcap"), tpath("c1.pcap"), 1 << 20);
	flip_byte(tpath("c1.pcap"), off[1] + 16 + 32 /* frag_off */);
	got = read_all(tpath("c1.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == 1 && rc == VX_ERR_INVALID && strstr(err, "frame 2:") != NULL,
	    "a fragment without its start: '%s'", err);

	/* A pcap file of Ethernet frames. */
	pd = pcap_open_dead(DLT_EN10MB, 65535);
	d = pcap_dump_open(pd, tpath("eth.pcap"));
	memset(&ph, 0, sizeof(ph));
	memset(pkt, 0, sizeof(pkt));
	ph.caplen = ph.len = sizeof(pkt);
	pcap_dump((u_char *)d, &ph, pkt);
	pcap_dump_close(d);
	pcap_close(pd);
	got = read_all(tpath("eth.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == -1 && rc == VX_ERR_UNSUPPORTED &&
	    strstr(err, "link type 1") != NULL, "wrong link type: '%s'", err);

	got = read_all(tpath("no-such.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == -1 && rc == VX_ERR_IO, "missing file: '%s'", err);
}

/* --- digests ----------------------------------------------------------------- */

static void
write_session(const char *name, unsigned every, const uint8_t *key,
    size_t keylen)
{
	struct vx_trace_writer *w = wopen(name, every, key, keylen);
	uint8_t *m = make_msg(4096, 3);
	int i;

	for (i = 0; i < 25; i++)
		vx_trace_write_message(w, 0, 0, 0, i & 1, (uint64_t)i / 2,
		    1000 + (uint64_t)i, m, 32 + (size_t)i * 16, NULL, 0);
	vx_trace_writer_close(w);
	free(m);
}

/* Copy `from` to `to` through the reader and a writer, editing one byte
   of message number `edit` (-1: none). */
static void
rewrite(const char *from, const char *to, int edit, const uint8_t *key,
    size_t keylen)
{
	static uint8_t buf[1 << 16];
	struct vx_trace_reader *r;
	struct vx_trace_writer *w = wopen(to, 10, key, keylen);
	struct vx_trace_rec rec;
	int n = 0;

	vx_trace_reader_open(tpath(from), NULL, &r);
	while (vx_trace_next(r, &rec) > 0) {
		if (rec.kind == VX_TR_DIGEST)
			continue;
		memcpy(buf, rec.data, rec.len);
		if (n++ == edit)
			buf[20] ^= 1;
		rec.data = buf;
		vx_trace_write_event(w, &rec);
	}
	vx_trace_reader_close(r);
	vx_trace_writer_close(w);
}

static void
test_digests(void)
{
	uint8_t key[32], key2[32];
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	long off[64], size;
	char err[256];
	int got, rc;

	memset(key, 0x5a, sizeof(key));
	memset(key2, 0xa5, sizeof(key2));
	write_session("d.pcap", 10, NULL, 0);
	got = read_all(tpath("d.pcap"), &ro, &rc, err, sizeof(err));
	ok(got == 28 && rc == 0, "25 messages + 3 digests verify (%d, %s)",
	    got, err);

	/* Frames: 1-10 messages, 11 digest, 12-21, 22 digest, 23-27, 28. */
	record_offsets(tpath("d.pcap"), off, 64);
	size = file_size(tpath("d.pcap"));
	copy_prefix(tpath("d.pcap"), tpath("d1.pcap"), size);
	flip_byte(tpath("d1.pcap"), off[14] + 16 + 64 + 5);
	got = read_all(tpath("d1.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_INVALID && got == 21 && strcmp(err,
	    "frame 22: digest mismatch: records 12-22 changed") == 0,
	    "flipped byte in frame 15: '%s' after %d records", err, got);

	copy_prefix(tpath("d.pcap"), tpath("d1.pcap"), size);
	flip_byte(tpath("d1.pcap"), off[3] + 4);	/* a timestamp */
	got = read_all(tpath("d1.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_INVALID && strcmp(err,
	    "frame 11: digest mismatch: records 1-11 changed") == 0,
	    "changed timestamp in frame 4: '%s'", err);

	copy_prefix(tpath("d.pcap"), tpath("d1.pcap"), off[27]);
	got = read_all(tpath("d1.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_TRUNCATED && got == 27 && strcmp(err,
	    "trace ends after frame 27 without a closing digest: truncated")
	    == 0, "cut before the closing digest: '%s'", err);

	copy_prefix(tpath("d.pcap"), tpath("d1.pcap"), off[22]);
	got = read_all(tpath("d1.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_TRUNCATED && got == 22,
	    "cut right after an interval digest: '%s'", err);

	got = read_all(tpath("d1.pcap"), NULL, &rc, err, sizeof(err));
	ok(rc == 0 && got == 22, "without verify the same file just ends");

	/* Keyed. */
	write_session("k.pcap", 10, key, sizeof(key));
	ro.key = key;
	ro.keylen = sizeof(key);
	got = read_all(tpath("k.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == 0 && got == 28, "keyed trace verifies with its key");
	ro.key = NULL;
	ro.keylen = 0;
	got = read_all(tpath("k.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_UNSUPPORTED && strstr(err, "frame 11:") != NULL &&
	    strstr(err, "keyed") != NULL, "without the key: '%s'", err);

	ro.key = key;
	ro.keylen = sizeof(key);
	rewrite("k.pcap", "k-same.pcap", -1, key, sizeof(key));
	got = read_all(tpath("k-same.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == 0 && got == 28, "copy with the key verifies");
	rewrite("k.pcap", "k-edit.pcap", 14, key2, sizeof(key2));
	got = read_all(tpath("k-edit.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_INVALID && strcmp(err,
	    "frame 11: digest mismatch: records 1-11 changed") == 0,
	    "edit re-chained with another key: '%s'", err);
	rewrite("k.pcap", "k-edit.pcap", 14, NULL, 0);
	got = read_all(tpath("k-edit.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == VX_ERR_INVALID && strstr(err, "not keyed") != NULL,
	    "edit re-chained without a key: '%s'", err);
	rewrite("k.pcap", "k-edit.pcap", 14, key, sizeof(key));
	got = read_all(tpath("k-edit.pcap"), &ro, &rc, err, sizeof(err));
	ok(rc == 0, "(only the key holder can re-chain an edit)");
}

/* --- follow ------------------------------------------------------------------ */

static void
test_follow(void)
{
	struct vx_trace_ropts ro = { VX_TRACE_FOLLOW, NULL, 0 };
	struct vx_trace_reader *r;
	struct vx_trace_rec rec;
	long off[64], size;
	int n = 0, rc;
	FILE *a, *b;
	char buf[4096];
	size_t k;

	write_session("f.pcap", 0, NULL, 0);
	record_offsets(tpath("f.pcap"), off, 64);
	size = file_size(tpath("f.pcap"));
	copy_prefix(tpath("f.pcap"), tpath("f-grow.pcap"), off[10] + 30);
	ok(vx_trace_reader_open(tpath("f-grow.pcap"), &ro, &r) == 0,
	    "follow: open the growing file");
	while ((rc = vx_trace_next(r, &rec)) > 0)
		n++;
	ok(rc == VX_ERR_AGAIN && n == 10, "10 whole records, then again");
	/* The writer catches up. */
	a = fopen(tpath("f.pcap"), "rb");
	b = fopen(tpath("f-grow.pcap"), "ab");
	fseek(a, off[10] + 30, SEEK_SET);
	while ((k = fread(buf, 1, sizeof(buf), a)) > 0)
		fwrite(buf, 1, k, b);
	fclose(a);
	fclose(b);
	ok(file_size(tpath("f-grow.pcap")) == size, "file complete");
	while ((rc = vx_trace_next(r, &rec)) > 0)
		n++;
	ok(rc == VX_ERR_AGAIN && n == 25, "all 25 after it grew (%d)", n);
	vx_trace_reader_close(r);
}

/* --- robustness ------------------------------------------------------------- */

/* Random damage never crashes the reader: it reads or names an error. */
static void
test_random_damage(void)
{
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	struct vx_trace_writer *w = wopen("rnd-src.pcap", 4, NULL, 0);
	uint8_t *m = make_msg(600000, 4);
	uint32_t x = 12345;
	char err[256];
	long size;
	int i, j, rc, bad = 0, caught = 0;

	write_kinds(w);
	vx_trace_write_message(w, 1, 0, 0, 0, 9, 9, m, 600000, fds2, 2);
	vx_trace_writer_close(w);
	free(m);
	size = file_size(tpath("rnd-src.pcap"));
	for (i = 0; i < 300; i++) {
		copy_prefix(tpath("rnd-src.pcap"), tpath("rnd.pcap"), size);
		for (j = 0; j < 1 + i % 4; j++) {
			x = x * 1103515245u + 12345u;
			/* Past the file header, which is libpcap's business;
			   odd rounds aim at the small records up front. */
			flip_byte(tpath("rnd.pcap"), 24 + (long)((x >> 8) %
			    (uint32_t)(i % 2 ? 1200 : size - 24)));
		}
		read_all(tpath("rnd.pcap"), i % 3 ? &ro : NULL, &rc, err,
		    sizeof(err));
		if (rc < 0 && err[0] == '\0')
			bad++;
		if (rc < 0)
			caught++;
	}
	ok(bad == 0, "300 randomly damaged traces: every error explained "
	    "(%d caught)", caught);
}

static void
test_fdopen(void)
{
	struct vx_trace_writer *w;
	char err[256];
	int fd, rc, got;

	fd = open(tpath("fd.pcap"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(vx_trace_writer_fdopen(fd, NULL, &w) == 0, "writer on a descriptor");
	vx_trace_write_message(w, 0, 0, 0, 0, 0, 1, "0123456789abcdef", 16,
	    NULL, 0);
	ok(vx_trace_writer_close(w) == 0, "and closes it");
	got = read_all(tpath("fd.pcap"), NULL, &rc, err, sizeof(err));
	ok(got == 1 && rc == 0, "one record, no digests by default");
	ok(vx_trace_writer_open(tpath("no-dir/x.pcap"), NULL, &w) == VX_ERR_IO &&
	    w == NULL, "unwritable path: I/O error");
	{
		struct vx_trace_wopts o = { 146, 0, 0, NULL, 0, 0 };

		ok(vx_trace_writer_open(tpath("x.pcap"), &o, &w) ==
		    VX_ERR_INVALID, "link type 146 refused");
		o.linktype = 0;
		o.key = (const uint8_t *)"short";
		o.keylen = 5;
		ok(vx_trace_writer_open(tpath("x.pcap"), &o, &w) ==
		    VX_ERR_INVALID, "a 5-byte key refused");
	}
}

/* --- allocations ------------------------------------------------------------- */

static void
test_no_alloc(void)
{
	struct vx_trace_wopts o = { 0, 0, 16, NULL, 0, 0 };
	struct vx_trace_writer *w;
	struct vx_trace_reader *r;
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	struct vx_trace_rec rec;
	uint8_t *m = make_msg(600000, 1);
	unsigned long before = 0;
	char line[8192];
	int i, rc;

#ifdef NO_MALLOC_COUNT
	ok(1, "# skip allocation counting under ASan");
	free(m);
	return;
#endif
	vx_trace_writer_open(tpath("alloc.pcap"), &o, &w);
	for (i = 0; i < 2000; i++) {
		if (i == 100)
			before = nallocs;
		vx_trace_write_message(w, 0, 0, 0, i & 1, (uint64_t)i / 2,
		    (uint64_t)i, m, i % 50 == 7 ? 600000 : 16 + (size_t)(i % 300),
		    i % 3 ? NULL : fds2, i % 3 ? 0 : 2);
	}
	ok(nallocs == before, "writer: no allocation in 1900 messages "
	    "(fragments and digests among them): %lu", nallocs - before);
	vx_trace_writer_close(w);
	vx_trace_reader_open(tpath("alloc.pcap"), &ro, &r);
	for (i = 0; (rc = vx_trace_next(r, &rec)) > 0; i++) {
		if (i == 100)
			before = nallocs;
		if (rec.len < 2000)
			vx_trace_rec_json(&rec, line, sizeof(line));
	}
	ok(rc == 0 && nallocs == before, "reader (verifying) and JSON export: "
	    "no allocation after warm-up: %lu", nallocs - before);
	vx_trace_reader_close(r);
	free(m);
}

/*
 * A write that fails (here: past RLIMIT_FSIZE, EFBIG, as a full disk
 * gives ENOSPC) and vx_trace_writer_rewind(): the file goes back to its
 * last flush, writing goes on, and the result reads and verifies with
 * exactly the records flushed and written after.
 */
static void
test_rewind(void)
{
	const char *p = tpath("rewind.pcap");
	struct vx_trace_wopts o = { 0, 0, 3, NULL, 0, 0 };
	struct rlimit old, lim;
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	struct vx_trace_writer *w;
	struct vx_trace_reader *r;
	struct vx_trace_rec rec;
	uint8_t *m = make_msg(4000, 7);
	long flushed;
	int i, rc, n = 0, seqs_ok = 1;
	void (*oldh)(int) = signal(SIGXFSZ, SIG_IGN);

	ok(vx_trace_writer_open(p, &o, &w) == 0, "rewind: open");
	for (i = 0; i < 4; i++)
		vx_trace_write_message(w, 1, 0, VX_CHAN_MAIN, VX_C2S, (uint64_t)i,
		    1000 + (uint64_t)i, m, 4000, NULL, 0);
	ok(vx_trace_flush(w) == 0, "rewind: first flush");
	flushed = file_size(p);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)flushed + 6000;
	setrlimit(RLIMIT_FSIZE, &lim);
	/* the limit cuts the second of these in two */
	for (i = 4, rc = 0; i < 8 && rc == 0; i++)
		rc = vx_trace_write_message(w, 1, 0, VX_CHAN_MAIN, VX_C2S,
		    (uint64_t)i, 1000 + (uint64_t)i, m, 4000, NULL, 0);
	if (rc == 0)
		rc = vx_trace_flush(w);
	ok(rc == VX_ERR_IO && errno == EFBIG, "rewind: the write fails: %d %s",
	    rc, strerror(errno));
	ok(vx_trace_writer_rewind(w) == 0, "rewind: rewound");
	ok(file_size(p) == flushed, "rewind: back to %ld bytes: %ld", flushed,
	    file_size(p));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldh);
	for (i = 100; i < 102; i++)
		vx_trace_write_message(w, 1, 0, VX_CHAN_MAIN, VX_C2S, (uint64_t)i,
		    2000 + (uint64_t)i, m, 4000, NULL, 0);
	ok(vx_trace_writer_close(w) == 0, "rewind: close");
	ok(vx_trace_reader_open(p, &ro, &r) == 0, "rewind: reopen");
	while ((rc = vx_trace_next(r, &rec)) > 0) {
		if (rec.kind != VX_TR_MESSAGE)
			continue;
		seqs_ok &= rec.seq == (uint64_t)(n < 4 ? n : 100 + n - 4);
		n++;
	}
	ok(rc == 0, "rewind: verifies: %s", vx_trace_reader_error(r, NULL));
	ok(n == 6 && seqs_ok, "rewind: messages 0-3 and 100-101: %d", n);
	vx_trace_reader_close(r);
	free(m);
}

int
main(void)
{
	char cmd[96];

	if (unit_mkdtemp(dir, sizeof(dir), "test-trace") < 0)
		return 1;
	test_kinds();
	test_json_roundtrip();
	test_fragments();
	test_snaplen();
	test_truncation();
	test_corrupt();
	test_digests();
	test_follow();
	test_random_damage();
	test_fdopen();
	test_no_alloc();
	test_rewind();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return unit_done();
}
