/*
 * test-framer.c - the framer and the socket endpoints: every vector stream
 * comes out message for message under any chunking; descriptors go to the
 * right message; limits hold; over real sockets 1000 messages with
 * descriptors, a 4 MiB message, MSG_CTRUNC and EOF mid-message behave; path
 * and abstract sockets connect; and no descriptor leaks.
 *
 * usage: test-framer [VECTOR_DIR]   (default: $VECTORS or ../shared/vectors)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-framer.h"
#include "vx-sock.h"
#include "helpers.h"
#include "unit.h"

#define MAX_STREAMS	4
#define BIG_MSG		(4u << 20)

struct vmsg {
	size_t off, len;
	long seq;
	int nfds, fdbase;
	int bad;		/* the relay could not frame it ("note") */
};

/* One direction of one channel of a vector file, concatenated. */
struct vstream {
	char name[32];
	uint8_t *buf;
	size_t len;
	struct vmsg *m;
	int n, nfds;
};

static uint32_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int
cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

/* n stand-in descriptors (pipe ends) for descriptors in the vectors. */
static void
standins(int *fds, int n)
{
	int i, p[2];

	for (i = 0; i < n; i += 2) {
		if (pipe2(p, O_CLOEXEC) < 0)
			abort();
		fds[i] = p[0];
		if (i + 1 < n)
			fds[i + 1] = p[1];
		else
			close(p[1]);
	}
}

/* A message of msg_size size (16 bytes if less), body bytes id + i. */
static size_t
mkmsg(uint8_t *buf, unsigned int id, uint32_t size)
{
	size_t i, len = size < VX_HDR_SIZE ? VX_HDR_SIZE : size;

	memset(buf, 0, VX_HDR_SIZE);
	buf[0] = id & 0xff;
	buf[1] = id >> 8 & 0xff;
	buf[2] = VX_CMD_REGION_WRITE;
	buf[4] = size & 0xff;
	buf[5] = size >> 8 & 0xff;
	buf[6] = size >> 16 & 0xff;
	buf[7] = size >> 24;
	for (i = VX_HDR_SIZE; i < len; i++)
		buf[i] = (uint8_t)(id + i);
	return len;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static struct vstream *
stream_for(struct vstream *st, int *nst, const char *name)
{
	struct vstream *s;

	for (s = st; s < st + *nst; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	if (*nst == MAX_STREAMS)
		return NULL;
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	(*nst)++;
	return s;
}

/* Append one JSON line's message to the stream of its dir and chan. */
static int
add_msg(struct vstream *st, int *nst, json_t *o)
{
	const char *dir = json_string_value(json_object_get(o, "dir"));
	const char *chan = json_string_value(json_object_get(o, "chan"));
	const char *hex = json_string_value(json_object_get(o, "hex"));
	char name[32];
	struct vstream *s;
	struct vmsg *m;
	size_t i, n;
	int hi, lo;

	if (dir == NULL || hex == NULL || strlen(hex) % 2 != 0)
		return -1;
	snprintf(name, sizeof(name), "%.8s%s%.8s", dir, chan ? "/" : "",
	    chan ? chan : "");
	if ((s = stream_for(st, nst, name)) == NULL)
		return -1;
	n = strlen(hex) / 2;
	if ((s->buf = realloc(s->buf, s->len + n)) == NULL ||
	    (s->m = realloc(s->m, (s->n + 1) * sizeof(*s->m))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if ((hi = nibble(hex[2 * i])) < 0 ||
		    (lo = nibble(hex[2 * i + 1])) < 0)
			return -1;
		s->buf[s->len + i] = (uint8_t)(hi << 4 | lo);
	}
	m = &s->m[s->n++];
	m->off = s->len;
	m->len = n;
	m->seq = (long)json_integer_value(json_object_get(o, "seq"));
	m->nfds = (int)json_integer_value(json_object_get(o, "nfds"));
	m->fdbase = s->nfds;
	m->bad = json_object_get(o, "note") != NULL;
	s->nfds += m->nfds;
	s->len += n;
	return 0;
}

/* Streams of a .jsonl file; lines without "hex" (EXPECTED) are skipped. */
static int
load_vectors(const char *path, struct vstream *st, int *nst)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *o;
	FILE *fp;
	int r = 0;

	*nst = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (r == 0 && getline(&line, &cap, fp) > 0) {
		if ((o = json_loads(line, 0, NULL)) == NULL)
			r = -1;
		else if (json_object_get(o, "hex") != NULL)
			r = add_msg(st, nst, o);
		json_decref(o);
	}
	free(line);
	fclose(fp);
	return r;
}

static void
free_streams(struct vstream *st, int nst)
{
	int i;

	for (i = 0; i < nst; i++) {
		free(st[i].buf);
		free(st[i].m);
	}
}

static char why[256];

/* NULL if frame fr is message i of s with stand-ins fds, else why not. */
static const char *
cmp_frame(const struct vstream *s, int i, const struct vx_frame *fr,
    const int *fds)
{
	const struct vmsg *m = &s->m[i];
	const char *e = NULL;
	int j;

	if (i >= s->n)
		return "extra frame";
	if (fr->len != m->len || memcmp(fr->data, s->buf + m->off, m->len) != 0)
		e = "bytes differ";
	else if (fr->bad != (m->bad ? VX_ERR_INVALID : 0))
		e = "bad differs";
	else if (fr->nfds != m->nfds)
		e = "descriptor count differs";
	for (j = 0; e == NULL && j < m->nfds; j++)
		if (fr->fds[j] != fds[m->fdbase + j])
			e = "descriptors differ";
	if (e != NULL)
		snprintf(why, sizeof(why), "%.31s seq %ld: %.40s", s->name,
		    m->seq, e);
	return e != NULL ? why : NULL;
}

/* Next chunk at pos: the stand-ins of a message starting there, and never
 * past the next message that has descriptors. */
static size_t
chunk_at(const struct vstream *s, size_t pos, size_t n, const int *fds,
    const int **cfds, int *cnfds)
{
	int i;

	*cnfds = 0;
	for (i = 0; i < s->n && s->m[i].off < pos; i++)
		;
	if (i < s->n && s->m[i].off == pos) {
		*cfds = fds + s->m[i].fdbase;
		*cnfds = s->m[i].nfds;
		i++;
	}
	for (; i < s->n && s->m[i].nfds == 0; i++)
		;
	if (i < s->n && s->m[i].off - pos < n)
		n = s->m[i].off - pos;
	return n < s->len - pos ? n : s->len - pos;
}

/*
 * Next chunk at pos as a read-ahead recvmsg gets it from a sender that sends
 * each message in a sendmsg of its own: it stops at the end of the first
 * message with descriptors that starts in it, and carries them.
 */
static size_t
chunk_ahead(const struct vstream *s, size_t pos, size_t n, const int *fds,
    const int **cfds, int *cnfds)
{
	int i;

	*cnfds = 0;
	if (n > s->len - pos)
		n = s->len - pos;
	for (i = 0; i < s->n && s->m[i].off < pos; i++)
		;
	for (; i < s->n && s->m[i].off < pos + n && s->m[i].nfds == 0; i++)
		;
	if (i < s->n && s->m[i].off < pos + n) {
		*cfds = fds + s->m[i].fdbase;
		*cnfds = s->m[i].nfds;
		if (pos + n > s->m[i].off + s->m[i].len)
			n = s->m[i].off + s->m[i].len - pos;
	}
	return n;
}

/*
 * Feed s in chunks of 1 + rng() % maxchunk bytes (maxchunk 0: as large as
 * possible), taking frames out as they come; ahead: as a framer that reads
 * ahead.  NULL if all matched.
 */
static const char *
run_stream(const struct vstream *s, size_t maxchunk, int ahead)
{
	const char *err = NULL;
	struct vx_framer f;
	struct vx_frame fr;
	const int *cfds = NULL;
	int *fds, cnfds, got = 0, fed = 0;
	size_t pos = 0, n;

	if ((fds = calloc(s->nfds + 1, sizeof(*fds))) == NULL)
		abort();
	standins(fds, s->nfds);
	vx_framer_init(&f, -1, NULL);
	vx_framer_set_readahead(&f, ahead ? VX_FRAMER_READAHEAD : 0);
	while (err == NULL && pos < s->len) {
		n = maxchunk ? 1 + rng() % maxchunk : s->len;
		n = ahead ? chunk_ahead(s, pos, n, fds, &cfds, &cnfds) :
		    chunk_at(s, pos, n, fds, &cfds, &cnfds);
		if (vx_framer_feed(&f, s->buf + pos, n, cfds, cnfds) != 0)
			err = "feed failed";
		fed += cnfds;
		pos += n;
		while (err == NULL && vx_framer_next(&f, &fr) == 1) {
			err = cmp_frame(s, got++, &fr, fds);
			vx_frame_release(&fr);
		}
	}
	if (err == NULL && got != s->n)
		err = "message count differs";
	vx_framer_release(&f);
	while (fed < s->nfds)
		close(fds[fed++]);
	free(fds);
	return err;
}

static int
is_jsonl(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 6 && strcmp(e->d_name + n - 6, ".jsonl") == 0;
}

static const char *
mode_name(size_t maxchunk, char mode[64])
{
	if (maxchunk <= 1)
		return maxchunk ? "byte by byte" : "whole";
	snprintf(mode, 64, "random chunks of 1 to %zu bytes", maxchunk);
	return mode;
}

static void
test_vectors(const char *dir)
{
	/* 0: as large as possible, 1: byte by byte, else random */
	static const size_t maxchunk[] = { 0, 1, 7, 100, 1000, 20000 };
	struct vstream st[MAX_STREAMS];
	struct dirent **ents;
	const char *err;
	char path[4096], mode[64];
	int i, j, k, n, nst, ahead, nfiles = 0;

	if ((n = scandir(dir, &ents, is_jsonl, alphasort)) < 0) {
		ok(0, "vector directory %s readable", dir);
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (load_vectors(path, st, &nst) < 0) {
			ok(0, "%s: loads", ents[i]->d_name);
			nst = 0;
		}
		for (j = 0; nst > 0 && j < 12; j++) {
			ahead = j >= 6;
			rng_state = 2654435761u * (j % 6 + 1);
			for (err = NULL, k = 0; err == NULL && k < nst; k++)
				err = run_stream(&st[k], maxchunk[j % 6], ahead);
			if (!ok(err == NULL, "%s: re-framed%s, %s",
			    ents[i]->d_name, ahead ? " reading ahead" : "",
			    mode_name(maxchunk[j % 6], mode)))
				diag("%s", err);
		}
		nfiles += nst > 0;
		free_streams(st, nst);
		free(ents[i]);
	}
	free(ents);
	ok(nfiles >= 10, "vector files found in %s (%d)", dir, nfiles);
}

/* The badframe capture: seq 2 alone as a bad frame, then DEVICE_GET_INFO. */
static void
test_badframe(const char *dir)
{
	struct vstream st[MAX_STREAMS];
	struct vx_framer f;
	struct vx_frame fr[3];
	char path[4096];
	int i, nst, n = 0;

	snprintf(path, sizeof(path), "%s/gpio-probe-badframe.jsonl", dir);
	if (load_vectors(path, st, &nst) < 0 || nst < 1 ||
	    strcmp(st[0].name, "c2s") != 0) {
		ok(0, "badframe: 16-byte header with msg_size 8 is a bad frame");
		free_streams(st, nst);
		return;
	}
	vx_framer_init(&f, -1, NULL);
	vx_framer_feed(&f, st[0].buf, st[0].len, NULL, 0);
	while (n < 3 && vx_framer_next(&f, &fr[n]) == 1)
		n++;
	ok(n == 3 && fr[1].bad == VX_ERR_INVALID && fr[1].len == 16 &&
	    fr[2].bad == 0 && fr[2].data[VX_HDR_OFF_CMD] ==
	    VX_CMD_DEVICE_GET_INFO,
	    "badframe: 16-byte header with msg_size 8 is a bad frame, "
	    "framing resumes after it");
	for (i = 0; i < n; i++)
		vx_frame_release(&fr[i]);
	vx_framer_release(&f);
	free_streams(st, nst);
}

static void
test_attribution(void)
{
	uint8_t s[80];
	struct vx_framer f;
	struct vx_frame fr[3];
	int fd[5], i, n = 0;

	mkmsg(s, 1, 40);
	mkmsg(s + 40, 2, 24);
	mkmsg(s + 64, 3, 16);
	standins(fd, 5);
	vx_framer_init(&f, -1, NULL);
	vx_framer_feed(&f, s, 10, &fd[0], 1);		/* starts message 1 */
	vx_framer_feed(&f, s + 10, 30, &fd[1], 1);	/* inside message 1 */
	vx_framer_feed(&f, s + 40, 10, &fd[2], 1);	/* at message 2 */
	vx_framer_feed(&f, s + 50, 14, &fd[3], 1);	/* inside message 2 */
	vx_framer_feed(&f, NULL, 0, &fd[4], 1);		/* empty, at message 3 */
	vx_framer_feed(&f, s + 64, 16, NULL, 0);
	while (n < 3 && vx_framer_next(&f, &fr[n]) == 1)
		n++;
	ok(n == 3 && fr[0].nfds == 2 && fr[0].fds[0] == fd[0] &&
	    fr[0].fds[1] == fd[1],
	    "fds of a chunk go to the message holding its first byte");
	ok(n == 3 && fr[1].nfds == 2 && fr[1].fds[0] == fd[2] &&
	    fr[1].fds[1] == fd[3],
	    "fds of a chunk starting at a boundary go to the next message");
	ok(n == 3 && fr[2].nfds == 1 && fr[2].fds[0] == fd[4] &&
	    fr[2].len == 16 && memcmp(fr[2].data, s + 64, 16) == 0,
	    "fds of an empty chunk go to the next message");
	fr[0].fds[0] = -1;
	for (i = 0; i < n; i++)
		vx_frame_release(&fr[i]);
	ok(fd_open(fd[0]) && !fd_open(fd[1]) && !fd_open(fd[4]),
	    "frame release closes unclaimed fds only");
	close(fd[0]);
	vx_framer_release(&f);
}

/* Feed buf, take one frame: its bad code, or 1 if there was none. */
static int
feed_one(struct vx_framer *f, const uint8_t *buf, size_t n,
    struct vx_frame *fr)
{
	vx_framer_feed(f, buf, n, NULL, 0);
	return vx_framer_next(f, fr) == 1 ? fr->bad : 1;
}

static void
test_limits(void)
{
	struct vx_limits lim = { 64, 2 }, l;
	uint8_t m[96];
	struct vx_framer f;
	struct vx_frame fr, fr2;
	int fd[4], r, r2;

	vx_framer_init(&f, -1, &lim);
	mkmsg(m, 1, 65);
	mkmsg(m + 16, 2, 16);
	r = feed_one(&f, m, 32, &fr);
	ok(r == VX_ERR_TOO_LARGE && fr.len == 16 && fr.nfds == 0,
	    "msg_size over the limit: bad frame of the 16 header bytes");
	vx_frame_release(&fr);
	r = vx_framer_next(&f, &fr);
	ok(r == 1 && fr.bad == 0 && fr.len == 16 && fr.data[0] == 2,
	    "framing resumes after a too large header");
	vx_frame_release(&fr);
	mkmsg(m, 3, 0);
	ok(feed_one(&f, m, 16, &fr) == VX_ERR_INVALID && fr.len == 16,
	    "msg_size 0: bad frame, invalid");
	vx_frame_release(&fr);

	standins(fd, 3);
	mkmsg(m, 4, 32);
	r = vx_framer_feed(&f, m, 32, fd, 3);
	r2 = vx_framer_next(&f, &fr);
	ok(r == VX_ERR_FDS && r2 == 1 && fr.bad == VX_ERR_FDS && fr.nfds == 0 &&
	    !fd_open(fd[0]) && !fd_open(fd[2]),
	    "more fds than max_fds in one chunk: VX_ERR_FDS, all closed");
	vx_frame_release(&fr);
	standins(fd, 4);
	r = vx_framer_feed(&f, m, 8, fd, 2);
	r2 = vx_framer_feed(&f, m + 8, 24, fd + 2, 1);
	mkmsg(m + 32, 5, 16);
	vx_framer_feed(&f, m + 32, 16, fd + 3, 1);
	vx_framer_next(&f, &fr);
	r = r == 0 && r2 == VX_ERR_FDS && vx_framer_next(&f, &fr2) == 1;
	ok(r && fr.bad == VX_ERR_FDS && fr.nfds == 0 && !fd_open(fd[0]) &&
	    !fd_open(fd[1]) && !fd_open(fd[2]),
	    "more fds than max_fds over two chunks: VX_ERR_FDS, all closed");
	ok(r && fr2.bad == 0 && fr2.nfds == 1 && fr2.fds[0] == fd[3],
	    "the next message keeps its fds");
	vx_frame_release(&fr);
	vx_frame_release(&fr2);
	ok(vx_framer_feed(&f, m, 16, NULL, -1) == VX_ERR_INVALID,
	    "feed refuses nfds < 0");
	vx_framer_release(&f);

	l.max_fds = 0;
	l.max_msg_size = 15;
	r = vx_framer_init(&f, -1, &l) == VX_ERR_INVALID;
	l.max_msg_size = VX_MAX_MSG_CAP + 1;
	r = r && vx_framer_init(&f, -1, &l) == VX_ERR_TOO_LARGE;
	l.max_msg_size = VX_MAX_MSG_CAP;
	r = r && vx_framer_init(&f, -1, &l) == 0;
	l.max_fds = VX_MAX_FDS + 1;
	r = r && vx_framer_init(&f, -1, &l) == VX_ERR_INVALID;
	l.max_fds = -1;
	r = r && vx_framer_init(&f, -1, &l) == VX_ERR_INVALID;
	ok(r, "init checks limits");
	r = vx_framer_init(&f, -1, NULL);
	ok(r == 0 && vx_framer_limits(&f)->max_msg_size == VX_DEF_MAX_MSG &&
	    vx_framer_limits(&f)->max_fds == VX_MAX_FDS &&
	    vx_framer_peer_max_fds(&f) == 1,
	    "init defaults");
	ok(vx_framer_recv(&f) == VX_ERR_INVALID &&
	    vx_framer_flush(&f) == VX_ERR_INVALID,
	    "recv and flush need a socket");
	vx_framer_release(&f);
}

/* Messages taken one or two at a time reuse the same few buffers. */
static void
test_reuse(void)
{
	uint8_t m[512];
	const void *seen[8];
	struct vx_framer f;
	struct vx_frame a, b;
	int i, j, nseen = 0, fresh = 0;

	vx_framer_init(&f, -1, NULL);
	for (i = 0; i < 200; i++) {
		mkmsg(m, i, 200);
		mkmsg(m + 200, i, 300);
		vx_framer_feed(&f, m, i % 2 ? 200 : 500, NULL, 0);
		vx_framer_next(&f, &a);
		if (i % 2)
			vx_framer_feed(&f, m + 200, 300, NULL, 0);
		vx_framer_next(&f, &b);
		for (j = 0; j < nseen && seen[j] != a.data; j++)
			;
		if (j == nseen && i >= 4)
			fresh++;
		if (j == nseen && nseen < 8)
			seen[nseen++] = a.data;
		vx_frame_release(&a);
		vx_frame_release(&b);
	}
	ok(fresh == 0, "no new buffers in steady state (%d seen)", nseen);
	vx_framer_release(&f);
}

static int
pair(int sv[2], struct vx_framer *a, struct vx_framer *b,
    const struct vx_limits *blim)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	vx_framer_init(a, sv[0], NULL);
	return vx_framer_init(b, sv[1], blim);
}

static void
unpair(int sv[2], struct vx_framer *a, struct vx_framer *b)
{
	vx_framer_release(a);
	vx_framer_release(b);
	close(sv[0]);
	close(sv[1]);
}

/* Move queued output from a to b until n frames came out; check each. */
static int
pump(struct vx_framer *a, struct vx_framer *b, int n,
    int (*check)(const struct vx_frame *, int, void *), void *arg,
    int *agains)
{
	struct vx_frame fr;
	int got = 0, bad = 0, r, spins;

	for (spins = 0; got < n && spins < 100000; spins++) {
		r = vx_framer_flush(a);
		*agains += r == VX_ERR_AGAIN;
		if (r != 0 && r != VX_ERR_AGAIN)
			return -1;
		while ((r = vx_framer_recv(b)) >= 0)
			while (vx_framer_next(b, &fr) == 1) {
				bad += !check(&fr, got++, arg);
				vx_frame_release(&fr);
			}
		if (r != VX_ERR_AGAIN)
			return -1;
	}
	return got == n && bad == 0 ? 0 : -1;
}

static uint32_t
bulk_size(int i)
{
	return 16 + (i * 37) % 500;
}

static int
same_ino(int fd, ino_t ino)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_ino == ino;
}

static ino_t
fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Message i: its bytes, i % 4 fds from pipe i % 3, close-on-exec. */
static int
bulk_check(const struct vx_frame *fr, int i, void *arg)
{
	const ino_t *ino = arg;
	uint8_t m[600];
	int j;

	if (fr->bad != 0 || fr->len != mkmsg(m, i, bulk_size(i)) ||
	    memcmp(fr->data, m, fr->len) != 0 || fr->nfds != i % 4)
		return 0;
	for (j = 0; j < fr->nfds; j++)
		if (!same_ino(fr->fds[j], ino[i % 3]) || !cloexec(fr->fds[j]))
			return 0;
	return 1;
}

/* ahead: the reader reads ahead */
static void
test_bulk(int ahead)
{
	const char *how = ahead ? ", read ahead" : "";
	struct vx_framer a, b;
	struct stat st;
	ino_t ino[3];
	uint8_t m[600];
	int sv[2], p[3][2], fds[3], i, j, r = 0, agains = 0;

	pair(sv, &a, &b, NULL);
	vx_framer_set_readahead(&b, ahead ? VX_FRAMER_READAHEAD : 0);
	vx_framer_set_peer_limits(&a, 3, vx_framer_peer_max_msg_size(&a));
	for (i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0 || fstat(p[i][0], &st) < 0)
			abort();
		ino[i] = st.st_ino;
	}
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < i % 4; j++)
			fds[j] = p[i % 3][0];
		r |= vx_framer_queue(&a, m, mkmsg(m, i, bulk_size(i)), fds,
		    i % 4);
	}
	ok(r == 0 && vx_framer_pending(&a), "1000 messages with fds queued");
	r = pump(&a, &b, 1000, bulk_check, ino, &agains);
	ok(r == 0, "1000 messages arrive in order with their own fds%s "
	    "(%d flushes wait)", how, agains);
	ok(!vx_framer_pending(&a) && vx_framer_flush(&a) == 0,
	    "queue empty after flush%s", how);
	for (i = 0; i < 3; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	unpair(sv, &a, &b);
}

/*
 * Raw bytes between two messages (what a relay passes on unframed) go out
 * in order, and the message after them keeps its descriptor.
 */
static void
test_queue_raw(void)
{
	struct vx_framer a;
	uint8_t m1[64], m2[64], raw[5] = { 1, 2, 3, 4, 5 }, got[160];
	size_t n1 = mkmsg(m1, 1, 40), n2 = mkmsg(m2, 2, 24), have = 0;
	int sv[2], p[2], fd = -1, r;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t k;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0)
		abort();
	vx_framer_init(&a, sv[0], NULL);
	r = vx_framer_queue(&a, m1, n1, NULL, 0);
	r |= vx_framer_queue_raw(&a, raw, sizeof(raw));
	r |= vx_framer_queue(&a, m2, n2, &p[0], 1);
	ok(r == 0 && vx_framer_flush(&a) == 0, "message, raw bytes, message "
	    "with a descriptor queued and flushed");
	while (have < n1 + sizeof(raw) + n2) {
		memset(&mh, 0, sizeof(mh));
		/* read up to the second message, then the rest, as a framer
		 * reads to message boundaries */
		iov.iov_base = got + have;
		iov.iov_len = have < n1 + sizeof(raw) ? n1 + sizeof(raw) - have :
		    sizeof(got) - have;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		if ((k = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC)) <= 0)
			break;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_type == SCM_RIGHTS && have == n1 + sizeof(raw))
				memcpy(&fd, CMSG_DATA(c), sizeof(int));
		have += (size_t)k;
	}
	ok(have == n1 + sizeof(raw) + n2 && memcmp(got, m1, n1) == 0 &&
	    memcmp(got + n1, raw, sizeof(raw)) == 0 &&
	    memcmp(got + n1 + sizeof(raw), m2, n2) == 0,
	    "the raw bytes arrive between the messages, in order");
	ok(fd >= 0, "the descriptor arrives on the second message's first byte");
	if (fd >= 0)
		close(fd);
	close(p[0]);
	close(p[1]);
	vx_framer_release(&a);
	close(sv[0]);
	close(sv[1]);
}

/* A relay whose reader is gone drops what it queued, descriptors too. */
static void
test_drop_output(void)
{
	struct vx_framer a, b;
	struct vx_frame fr;
	uint8_t m1[64], m2[64];
	size_t n1 = mkmsg(m1, 1, 40), n2 = mkmsg(m2, 2, 24);
	int sv[2], p[2], nfd, r;

	pair(sv, &a, &b, NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	nfd = unit_count_fds();
	r = vx_framer_queue(&a, m1, n1, &p[0], 1);
	vx_framer_drop_output(&a);
	ok(r == 0 && !vx_framer_pending(&a) && vx_framer_backlog(&a) == 0 &&
	    unit_count_fds() == nfd, "dropped output: nothing pending, its "
	    "descriptor closed");
	r = vx_framer_queue(&a, m2, n2, NULL, 0);
	ok(r == 0 && vx_framer_flush(&a) == 0 &&
	    vx_recv_frame(&b, &fr, 1000) == 0 && fr.len == n2 &&
	    memcmp(fr.data, m2, n2) == 0 && fr.nfds == 0,
	    "what is queued after a drop arrives alone");
	vx_frame_release(&fr);
	close(p[0]);
	close(p[1]);
	vx_framer_release(&a);
	vx_framer_release(&b);
	close(sv[0]);
	close(sv[1]);
}

static int
big_check(const struct vx_frame *fr, int i, void *arg)
{
	const uint8_t *m = arg;

	(void)i;
	return fr->bad == 0 && fr->len == BIG_MSG && fr->nfds == 1 &&
	    memcmp(fr->data, m, BIG_MSG) == 0;
}

static void
test_big(void)
{
	struct vx_limits lim = { BIG_MSG, 1 };
	struct vx_framer a, b;
	uint8_t *m;
	int sv[2], r, agains = 0;

	if ((m = malloc(BIG_MSG)) == NULL)
		abort();
	mkmsg(m, 7, BIG_MSG);
	pair(sv, &a, &b, &lim);
	r = vx_framer_queue(&a, m, BIG_MSG, &sv[0], 1);
	ok(r == VX_ERR_TOO_LARGE, "4 MiB refused over peer_max_msg_size");
	vx_framer_set_peer_limits(&a, vx_framer_peer_max_fds(&a), BIG_MSG);
	r = vx_framer_queue(&a, m, BIG_MSG, &sv[0], 1);
	r = r == 0 ? pump(&a, &b, 1, big_check, m, &agains) : r;
	ok(r == 0 && agains > 0, "4 MiB message with an fd over partial "
	    "writes (%d waits)", agains);
	r = vx_send_msg(&a, m, BIG_MSG, NULL, 0, 30);
	ok(r == VX_ERR_TIMEOUT && vx_framer_pending(&a),
	    "vx_send_msg times out on a full socket, rest stays queued");
	unpair(sv, &a, &b);
	free(m);
}

static void
test_out_checks(void)
{
	struct vx_framer a, b;
	uint8_t m[32];
	int sv[2], fds[2], r;

	pair(sv, &a, &b, NULL);
	standins(fds, 2);
	mkmsg(m, 1, 32);
	r = vx_framer_queue(&a, m, 31, NULL, 0) == VX_ERR_INVALID &&
	    vx_framer_queue(&a, m, 8, NULL, 0) == VX_ERR_INVALID;
	ok(r, "queue refuses msg_size != len");
	r = vx_framer_queue(&a, m, 32, fds, 2);
	ok(r == VX_ERR_FDS && !vx_framer_pending(&a) && fd_open(fds[0]),
	    "queue refuses more fds than peer_max_fds, caller keeps fds");
	r = vx_send_msg(&a, m, 32, fds, 1, 1000);
	ok(r == 0 && fd_open(fds[0]), "vx_send_msg sends, caller keeps fds");
	close(fds[0]);
	close(fds[1]);
	close(sv[1]);
	sv[1] = -1;
	r = vx_send_msg(&a, m, 32, NULL, 0, 1000);
	ok(r == VX_ERR_CLOSED, "sending to a closed peer: VX_ERR_CLOSED");
	vx_framer_release(&a);
	vx_framer_release(&b);
	close(sv[0]);
}

/* ahead: the reader reads ahead, and a message without fds comes first */
static void
test_ctrunc(int ahead)
{
	const char *how = ahead ? ", read ahead" : "";
	struct vx_framer a, b;
	struct vx_frame fr;
	uint8_t m[16];
	int sv[2], fds[VX_MAX_FDS], p[2], i, one = 1, r, r2;

	pair(sv, &a, &b, NULL);
	vx_framer_set_readahead(&b, ahead ? VX_FRAMER_READAHEAD : 0);
	vx_framer_set_peer_limits(&a, VX_MAX_FDS, vx_framer_peer_max_msg_size(&a));
	/* credentials take cmsg room, so 253 fds no longer fit */
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	for (i = 0; i < VX_MAX_FDS; i++)
		fds[i] = p[0];
	if (ahead)
		vx_framer_queue(&a, m, mkmsg(m, 0, 16), NULL, 0);
	vx_framer_queue(&a, m, mkmsg(m, 1, 16), fds, VX_MAX_FDS);
	vx_framer_queue(&a, m, mkmsg(m, 2, 16), fds, 1);
	r = vx_framer_flush(&a);
	r2 = vx_framer_recv(&b);
	ok(r == 0 && r2 == VX_ERR_FDS, "MSG_CTRUNC: recv says VX_ERR_FDS%s",
	    how);
	if (ahead) {
		r = vx_recv_frame(&b, &fr, 1000);
		ok(r == 0 && fr.bad == 0 && fr.nfds == 0 && fr.data[0] == 0,
		    "MSG_CTRUNC, read ahead: the message before is clean");
		vx_frame_release(&fr);
	}
	r = vx_recv_frame(&b, &fr, 1000);
	ok(r == 0 && fr.bad == VX_ERR_FDS && fr.nfds == 0 && fr.data[0] == 1,
	    "MSG_CTRUNC: the message comes out bad, without fds%s", how);
	vx_frame_release(&fr);
	r = vx_recv_frame(&b, &fr, 1000);
	ok(r == 0 && fr.bad == 0 && fr.nfds == 1 && fr.data[0] == 2,
	    "MSG_CTRUNC: the next message is clean%s", how);
	vx_frame_release(&fr);
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

/* --- reading ahead ------------------------------------------------------ */

/* One recvmsg of up to cap bytes; *nfds descriptors came (and are closed). */
static ssize_t
raw_read(int sock, uint8_t *buf, size_t cap, int *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int i, fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	*nfds = 0;
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	for (c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c))
		for (i = 0; (size_t)i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		    i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
			(*nfds)++;
		}
	return n;
}

/* Send m1, m2 with descriptor fd, m3: each in a sendmsg of its own. */
static void
send_three(int sock, const uint8_t *m, size_t n1, size_t n2, size_t n3,
    int fd)
{
	if (unit_send_fds(sock, m, n1, NULL, 0) < 0 ||
	    unit_send_fds(sock, m + n1, n2, &fd, 1) < 0 ||
	    unit_send_fds(sock, m + n1 + n2, n3, NULL, 0) < 0)
		abort();
}

/*
 * The rule read-ahead rests on, checked against the kernel: a recvmsg
 * joins sendmsg calls until it has taken one with descriptors, and stops.
 */
static void
test_ahead_kernel(void)
{
	struct vx_framer a, b;
	struct vx_frame fr[3];
	uint8_t m[128], got[4096];
	size_t n1 = mkmsg(m, 1, 40), n2 = mkmsg(m + n1, 2, 24),
	    n3 = mkmsg(m + n1 + n2, 3, 16);
	ssize_t r1, r2;
	int sv[2], p[2], f1, f2, r, d1, d2, k = 0;

	pair(sv, &a, &b, NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	send_three(sv[0], m, n1, n2, n3, p[0]);
	r1 = raw_read(sv[1], got, sizeof(got), &f1);
	r2 = raw_read(sv[1], got + n1 + n2, sizeof(got) - n1 - n2, &f2);
	ok(r1 == (ssize_t)(n1 + n2) && f1 == 1 && r2 == (ssize_t)n3 && f2 == 0 &&
	    memcmp(got, m, n1 + n2 + n3) == 0,
	    "kernel: one big read takes m1 and m2 with its descriptor and "
	    "stops; m3 comes in the next read (%zd+%zd bytes, %d+%d fds)",
	    r1, r2, f1, f2);

	vx_framer_set_readahead(&b, VX_FRAMER_READAHEAD);
	send_three(sv[0], m, n1, n2, n3, p[0]);
	r = vx_framer_recv(&b);
	d1 = vx_framer_drained(&b);
	while (k < 3 && vx_framer_next(&b, &fr[k]) == 1)
		k++;
	ok(r == 1 && k == 2 && !d1 && fr[0].nfds == 0 && fr[1].nfds == 1 &&
	    same_ino(fr[1].fds[0], fd_ino(p[0])) && fr[1].fds_guess &&
	    !fr[0].fds_guess, "read ahead: m1, then m2 with the descriptor "
	    "(a guess: the read held two messages); not drained");
	r = vx_framer_recv(&b);
	d2 = vx_framer_drained(&b);
	k += vx_framer_next(&b, &fr[k]) == 1;
	ok(r == 1 && k == 3 && d2 && fr[2].nfds == 0 && fr[2].len == n3 &&
	    memcmp(fr[2].data, m + n1 + n2, n3) == 0,
	    "read ahead: m3 in the next read, which drained the socket");
	while (k > 0)
		vx_frame_release(&fr[--k]);
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

/* Feeding as a framer that reads ahead: a chunk's last byte decides. */
static void
test_ahead_attribution(void)
{
	uint8_t s[160];
	struct vx_framer f;
	struct vx_frame fr[5];
	int fd[4], i, n = 0;

	mkmsg(s, 1, 40);
	mkmsg(s + 40, 2, 24);
	mkmsg(s + 64, 3, 16);
	mkmsg(s + 80, 4, 32);
	mkmsg(s + 112, 5, 16);
	standins(fd, 4);
	vx_framer_init(&f, -1, NULL);
	vx_framer_set_readahead(&f, VX_FRAMER_READAHEAD);
	vx_framer_feed(&f, s, 50, &fd[0], 1);		/* 1 whole, 2 begun */
	vx_framer_feed(&f, s + 50, 14, NULL, 0);
	vx_framer_feed(&f, s + 64, 8, &fd[1], 1);	/* 3 begun */
	vx_framer_feed(&f, s + 72, 40, &fd[2], 1);	/* 3 ended, 4 whole */
	vx_framer_feed(&f, NULL, 0, &fd[3], 1);		/* empty */
	vx_framer_feed(&f, s + 112, 16, NULL, 0);
	while (n < 5 && vx_framer_next(&f, &fr[n]) == 1)
		n++;
	ok(n == 5 && fr[0].nfds == 0 && fr[1].nfds == 1 &&
	    fr[1].fds[0] == fd[0] && fr[1].fds_guess,
	    "read ahead: fds of a chunk go to the message holding its last "
	    "byte; two messages began in it: a guess");
	ok(n == 5 && fr[2].nfds == 1 && fr[2].fds[0] == fd[1] &&
	    !fr[2].fds_guess && fr[3].nfds == 1 && fr[3].fds[0] == fd[2] &&
	    !fr[3].fds_guess,
	    "read ahead: one message began in the chunk: no guess, whatever "
	    "it ended");
	ok(n == 5 && fr[4].nfds == 1 && fr[4].fds[0] == fd[3],
	    "read ahead: fds of an empty chunk go to the next message");
	for (i = 0; i < n; i++)
		vx_frame_release(&fr[i]);
	standins(fd, 1);
	mkmsg(s, 6, 8);			/* a header that cannot be framed */
	mkmsg(s + 16, 7, 24);
	vx_framer_feed(&f, s, 40, fd, 1);
	n = vx_framer_next(&f, &fr[0]) + vx_framer_next(&f, &fr[1]);
	ok(n == 2 && fr[0].bad == VX_ERR_INVALID && fr[0].nfds == 0 &&
	    fr[1].nfds == 1 && fr[1].fds[0] == fd[0] && !fr[1].fds_guess,
	    "read ahead: unframeable bytes before it are no other message: "
	    "no guess");
	vx_frame_release(&fr[0]);
	vx_frame_release(&fr[1]);
	vx_framer_release(&f);
}

static void
test_ahead_limits(void)
{
	struct vx_limits lim = { 64, 2 };
	struct vx_framer f;
	struct vx_frame fr[4];
	uint8_t m[128];
	int fd[7], r1, r2, r3, i, n = 0;

	vx_framer_init(&f, -1, &lim);
	vx_framer_set_readahead(&f, VX_FRAMER_READAHEAD);
	mkmsg(m, 1, 16);
	mkmsg(m + 16, 2, 32);
	mkmsg(m + 48, 3, 32);
	mkmsg(m + 80, 4, 16);
	standins(fd, 7);
	r1 = vx_framer_feed(&f, m, 48, fd, 3);		/* 1, 2 + 3 fds */
	r2 = vx_framer_feed(&f, m + 48, 8, fd + 3, 2);	/* 3 begun */
	r3 = vx_framer_feed(&f, m + 56, 24, fd + 5, 1);	/* 3 ended */
	vx_framer_feed(&f, m + 80, 16, fd + 6, 1);
	while (n < 4 && vx_framer_next(&f, &fr[n]) == 1)
		n++;
	ok(r1 == VX_ERR_FDS && n == 4 && fr[0].bad == 0 && fr[0].nfds == 0 &&
	    fr[1].bad == VX_ERR_FDS && fr[1].nfds == 0 && !fd_open(fd[0]) &&
	    !fd_open(fd[2]), "read ahead: more fds than max_fds: the chunk's "
	    "last message is bad, the one before it clean, all closed");
	ok(r2 == 0 && r3 == VX_ERR_FDS && fr[2].bad == VX_ERR_FDS &&
	    fr[2].nfds == 0 && !fd_open(fd[3]) && !fd_open(fd[4]) &&
	    !fd_open(fd[5]), "read ahead: more fds than max_fds over two "
	    "chunks: VX_ERR_FDS, all closed");
	ok(fr[3].bad == 0 && fr[3].nfds == 1 && fr[3].fds[0] == fd[6],
	    "read ahead: the next message keeps its fds");
	for (i = 0; i < n; i++)
		vx_frame_release(&fr[i]);
	vx_framer_release(&f);
}

/* Five messages, one with two descriptors, four more: all sent first. */
static void
test_ahead_burst(void)
{
	struct vx_framer a, b;
	struct vx_frame fr;
	uint8_t m[64];
	size_t len;
	int sv[2], p[2], i, r, bad = 0, got = 0, reads = 0, drained[2] = { 0, 0 };

	pair(sv, &a, &b, NULL);
	vx_framer_set_readahead(&b, VX_FRAMER_READAHEAD);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	for (i = 0; i < 10; i++) {
		len = mkmsg(m, i, 16 + i);
		if (unit_send_fds(sv[0], m, len, p, i == 5 ? 2 : 0) < 0)
			abort();
	}
	while (reads < 2 && (r = vx_framer_recv(&b)) >= 0) {
		drained[reads++] = vx_framer_drained(&b);
		while (vx_framer_next(&b, &fr) == 1) {
			len = mkmsg(m, got, 16 + got);
			bad += fr.len != len || memcmp(fr.data, m, len) != 0 ||
			    fr.nfds != (got == 5 ? 2 : 0) ||
			    (got == 5 && (!same_ino(fr.fds[0], fd_ino(p[0])) ||
			    !same_ino(fr.fds[1], fd_ino(p[1]))));
			got++;
			vx_frame_release(&fr);
		}
		if (reads == 1 && got != 6)
			bad++;
	}
	ok(got == 10 && bad == 0 && !drained[0] && drained[1],
	    "read ahead: a message with fds in the middle of a burst: two "
	    "reads, the fds with their message (%d messages, %d wrong)",
	    got, bad);
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

static int
split_check(const struct vx_frame *fr, int i, void *arg)
{
	const uint8_t *m = arg;
	size_t off = i == 0 ? 0 : 40, len = i == 0 ? 40 : 200000;

	return fr->bad == 0 && fr->len == len &&
	    memcmp(fr->data, m + off, len) == 0 && fr->nfds == (i == 1);
}

/* A 200 kB message with a descriptor after a small one: many reads. */
static void
test_ahead_split(void)
{
	struct vx_framer a, b;
	uint8_t *m;
	int sv[2], r, agains = 0;

	if ((m = malloc(40 + 200000)) == NULL)
		abort();
	mkmsg(m, 1, 40);
	mkmsg(m + 40, 2, 200000);
	pair(sv, &a, &b, NULL);
	vx_framer_set_readahead(&b, VX_FRAMER_READAHEAD);
	vx_framer_set_peer_limits(&a, 1, 200000);
	r = vx_framer_queue(&a, m, 40, NULL, 0);
	r |= vx_framer_queue(&a, m + 40, 200000, &sv[0], 1);
	r = r == 0 ? pump(&a, &b, 2, split_check, m, &agains) : r;
	ok(r == 0, "read ahead: a message with a descriptor split across "
	    "reads keeps it; the message before it has none");
	unpair(sv, &a, &b);
	free(m);
}

/* A message with descriptors leaves in a sendmsg of its own. */
static void
test_send_alone(void)
{
	struct vx_framer a, b;
	uint8_t m[128], got[4096];
	size_t n1 = mkmsg(m, 1, 40), n2 = mkmsg(m + n1, 2, 24),
	    n3 = mkmsg(m + n1 + n2, 3, 16);
	ssize_t r1, r2;
	int sv[2], p[2], f1, f2, r;

	pair(sv, &a, &b, NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	r = vx_framer_queue(&a, m, n1, &p[0], 1);
	r |= vx_framer_queue(&a, m + n1, n2, NULL, 0);
	r |= vx_framer_queue(&a, m + n1 + n2, n3, NULL, 0);
	r |= vx_framer_flush(&a);
	r1 = raw_read(sv[1], got, sizeof(got), &f1);
	r2 = raw_read(sv[1], got + n1, sizeof(got) - n1, &f2);
	ok(r == 0 && r1 == (ssize_t)n1 && f1 == 1 && r2 == (ssize_t)(n2 + n3) &&
	    f2 == 0 && memcmp(got, m, n1 + n2 + n3) == 0,
	    "flush: the message with a descriptor goes alone, the two after "
	    "it together (reads of %zd and %zd bytes)", r1, r2);
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

/*
 * vx_framer_queue_split: the first part alone and no further while the
 * peer has not read it (held); then the rest with the descriptor, in a
 * write of its own; what was queued after it follows.
 */
static void
test_split(void)
{
	struct vx_framer a, b;
	uint8_t m[128], got[4096];
	size_t n1 = mkmsg(m, 1, 40), n2 = mkmsg(m + n1, 2, 24);
	ssize_t r1, r2, r3;
	int sv[2], p[2], f1, f2, f3, held, held2, r, busy, i;

	pair(sv, &a, &b, NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	ok(vx_framer_queue_split(&a, m, n1, NULL, 0, 0, 0) == VX_ERR_INVALID &&
	    vx_framer_queue_split(&a, m, n1, NULL, 0, n1, 0) == VX_ERR_INVALID,
	    "split: at 0 or at the end is refused");
	r = vx_framer_queue_split(&a, m, n1, &p[0], 1, 20, 60000);
	r |= vx_framer_queue(&a, m + n1, n2, NULL, 0);
	held = vx_framer_flush(&a) == VX_ERR_AGAIN && vx_framer_held(&a);
	held2 = vx_framer_flush(&a) == VX_ERR_AGAIN;	/* still unread */
	r1 = raw_read(sv[1], got, sizeof(got), &f1);
	/* the rest, then a hold again: the next goes once it is read */
	r |= vx_framer_flush(&a) != VX_ERR_AGAIN;
	r2 = raw_read(sv[1], got + r1, sizeof(got) - (size_t)r1, &f2);
	r |= vx_framer_flush(&a);
	r3 = raw_read(sv[1], got + r1 + r2, sizeof(got) - (size_t)(r1 + r2), &f3);
	ok(r == 0 && held && held2 && r1 == 20 &&
	    f1 == 0 && r2 == (ssize_t)n1 - 20 && f2 == 1 &&
	    r3 == (ssize_t)n2 && f3 == 0 && !vx_framer_held(&a) &&
	    memcmp(got, m, n1 + n2) == 0,
	    "split: 20 bytes, held until read, the rest with the descriptor, "
	    "held until read, then the next message (reads of %zd, %zd and "
	    "%zd bytes)", r1, r2, r3);
	for (i = 0, busy = 0; i < VX_FRAMER_HOLDS / 2 + 1; i++)
		busy = vx_framer_queue_split(&a, m, n1, NULL, 0, 20, 0);
	vx_framer_drop_output(&a);
	ok(busy == VX_ERR_BUSY && !vx_framer_held(&a),
	    "split: VX_FRAMER_HOLDS / 2 of them queued at once, no more");
	ok(vx_sock_unread(sv[0]) == 0 && vx_sock_unread(-1) == VX_ERR_IO,
	    "vx_sock_unread: all read; a bad descriptor is VX_ERR_IO");
	/* a peer that reads nothing: the rest goes once wait_ms is over */
	r = vx_framer_queue_split(&a, m, n1, NULL, 0, 10, 0);
	r |= vx_framer_flush(&a);
	r1 = raw_read(sv[1], got, sizeof(got), &f1);
	ok(r == 0 && r1 == (ssize_t)n1 && memcmp(got, m, n1) == 0,
	    "split: past wait_ms the rest goes, read or not");
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

/*
 * vx_framer_join_next: nothing of a join goes until its last message is
 * queued; then one write, the last one's descriptor on its first byte (a
 * read of the first message's length gets it); a split message ends a
 * join at half of the joined bytes; an unfinished join goes after wait_ms.
 */
static void
test_join(void)
{
	struct vx_framer a, b;
	uint8_t m[256], got[4096];
	size_t n1 = mkmsg(m, 1, 40), n2 = mkmsg(m + n1, 2, 24),
	    n3 = mkmsg(m + n1 + n2, 3, 32);
	ssize_t r1, r2, r3;
	int sv[2], p[2], f1, f2, f3, gated, r;

	pair(sv, &a, &b, NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	vx_framer_join_next(&a, 60000);
	r = vx_framer_queue(&a, m, n1, NULL, 0);
	vx_framer_join_next(&a, 60000);
	r |= vx_framer_queue(&a, m + n1, n2, NULL, 0);
	gated = vx_framer_flush(&a) == VX_ERR_AGAIN && vx_framer_held(&a) &&
	    vx_sock_unread(sv[0]) == 0;
	r |= vx_framer_queue(&a, m + n1 + n2, n3, &p[0], 1);
	r |= vx_framer_flush(&a);
	r1 = raw_read(sv[1], got, n1, &f1);
	r2 = raw_read(sv[1], got + n1, sizeof(got) - n1, &f2);
	ok(r == 0 && gated && !vx_framer_held(&a) && r1 == (ssize_t)n1 &&
	    f1 == 1 && r2 == (ssize_t)(n2 + n3) && f2 == 0 &&
	    memcmp(got, m, n1 + n2 + n3) == 0,
	    "join: three messages held until the last is queued, then one "
	    "write, its descriptor with the first byte (reads of %zd and %zd)",
	    r1, r2);
	/* joined, then split: half of all the bytes alone, the rest with the
	 * descriptor */
	vx_framer_join_next(&a, 60000);
	r = vx_framer_queue(&a, m, n1, NULL, 0);
	r |= vx_framer_queue_split(&a, m + n1, n2, &p[0], 1, 1, 60000);
	r |= vx_framer_flush(&a) != VX_ERR_AGAIN;
	r1 = raw_read(sv[1], got, sizeof(got), &f1);
	r |= vx_framer_flush(&a) < 0;
	r2 = raw_read(sv[1], got + r1, sizeof(got) - (size_t)r1, &f2);
	r |= vx_framer_flush(&a);
	ok(r == 0 && r1 == (ssize_t)(n1 + n2) / 2 && f1 == 0 &&
	    r2 == (ssize_t)(n1 + n2) - r1 && f2 == 1 &&
	    memcmp(got, m, n1 + n2) == 0,
	    "join then split: the first %zd of %zu bytes alone, the rest "
	    "with the descriptor", r1, n1 + n2);
	/* a join whose last message never comes: it goes after wait_ms */
	vx_framer_join_next(&a, 0);
	r = vx_framer_queue(&a, m, n1, NULL, 0);
	r |= vx_framer_flush(&a);
	r3 = raw_read(sv[1], got, sizeof(got), &f3);
	ok(r == 0 && r3 == (ssize_t)n1 && !vx_framer_held(&a),
	    "join: past wait_ms what is queued goes");
	close(p[0]);
	close(p[1]);
	unpair(sv, &a, &b);
}

/* Read ahead over a socket, one message at a time: the same few buffers. */
static void
test_ahead_reuse(void)
{
	struct vx_framer a, b;
	struct vx_frame fr;
	const void *seen[8];
	uint8_t m[512];
	int sv[2], i, j, nseen = 0, fresh = 0, got = 0;

	pair(sv, &a, &b, NULL);
	vx_framer_set_readahead(&b, VX_FRAMER_READAHEAD);
	for (i = 0; i < 200; i++) {
		if (write(sv[0], m, mkmsg(m, i, 16 + i)) < 0 ||
		    vx_recv_frame(&b, &fr, 1000) != 0)
			break;
		got++;
		for (j = 0; j < nseen && seen[j] != fr.data; j++)
			;
		if (j == nseen && i >= 4)
			fresh++;
		if (j == nseen && nseen < 8)
			seen[nseen++] = fr.data;
		vx_frame_release(&fr);
	}
	ok(got == 200 && fresh == 0, "read ahead: no new buffers in steady "
	    "state (%d seen)", nseen);
	unpair(sv, &a, &b);
}

static void
test_eof(void)
{
	struct vx_framer a, b;
	struct vx_frame fr;
	uint8_t m[100];
	int sv[2], r, r2;

	pair(sv, &a, &b, NULL);
	mkmsg(m, 1, 100);
	r = write(sv[0], m, 36) == 36 ? 0 : -1;
	close(sv[0]);
	sv[0] = -1;
	r2 = vx_recv_frame(&b, &fr, 1000);
	ok(r == 0 && r2 == VX_ERR_TRUNCATED,
	    "peer closing mid-message: VX_ERR_TRUNCATED");
	unpair(sv, &a, &b);

	pair(sv, &a, &b, NULL);
	r = vx_recv_frame(&b, &fr, 30);
	ok(r == VX_ERR_TIMEOUT, "vx_recv_frame times out");
	r = vx_send_msg(&a, m, 100, NULL, 0, 1000);
	shutdown(sv[0], SHUT_WR);
	r = r == 0 ? vx_recv_frame(&b, &fr, 1000) : r;
	ok(r == 0 && fr.len == 100 && memcmp(fr.data, m, 100) == 0,
	    "vx_send_msg / vx_recv_frame round trip");
	vx_frame_release(&fr);
	ok(vx_recv_frame(&b, &fr, 1000) == VX_ERR_CLOSED,
	    "peer closing at a boundary: VX_ERR_CLOSED");
	unpair(sv, &a, &b);
}

static void
test_recv_bad(void)
{
	struct vx_framer a, b;
	struct vx_frame fr, fr2;
	uint8_t m[40];
	int sv[2], r;

	pair(sv, &a, &b, NULL);
	mkmsg(m, 1, 8);
	mkmsg(m + 16, 2, 24);
	r = write(sv[0], m, 40) == 40 && vx_recv_frame(&b, &fr, 1000) == 0 &&
	    vx_recv_frame(&b, &fr2, 1000) == 0;
	ok(r && fr.bad == VX_ERR_INVALID && fr.len == 16 && fr2.bad == 0 &&
	    fr2.len == 24 && memcmp(fr2.data, m + 16, 24) == 0,
	    "recv: a bad header is a 16-byte frame, the next message follows");
	if (r) {
		vx_frame_release(&fr);
		vx_frame_release(&fr2);
	}
	unpair(sv, &a, &b);
}

/* Listen, connect and accept on path; send one message with an eventfd. */
static int
roundtrip(const char *path)
{
	struct vx_framer a, b;
	struct vx_frame fr;
	struct vx_fd_info info;
	uint8_t m[16];
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int lfd, cfd, afd, efd, r, got;

	lfd = vx_sock_listen(path, 0600, 4);
	cfd = vx_sock_connect(path, 1000);
	afd = lfd >= 0 ? vx_sock_accept(lfd) : -1;
	r = lfd >= 0 && cfd >= 0 && afd >= 0 && cloexec(lfd) && cloexec(cfd) &&
	    cloexec(afd) && vx_sock_peer_cred(afd, &pid, &uid, &gid) == 0 &&
	    pid == getpid() && uid == getuid() && gid == getgid();
	efd = eventfd(0, EFD_CLOEXEC);
	vx_framer_init(&a, cfd, NULL);
	vx_framer_init(&b, afd, NULL);
	got = r && vx_send_msg(&a, m, mkmsg(m, 9, 16), &efd, 1, 1000) == 0 &&
	    vx_recv_frame(&b, &fr, 1000) == 0;
	r = got && fr.nfds == 1 && vx_fd_describe(fr.fds[0], &info) == 0 &&
	    info.kind == VX_FD_EVENTFD;
	if (got)
		vx_frame_release(&fr);
	vx_framer_release(&a);
	vx_framer_release(&b);
	close(efd);
	close(afd);
	close(cfd);
	close(lfd);
	return r;
}

static void
test_abstract(void)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char name[128];
	int fd, c1, c2, r;

	snprintf(name, sizeof(name), "@vfuctl-test-%d", (int)getpid());
	ok(roundtrip(name), "abstract socket: listen, connect, accept, "
	    "peer cred, message with an eventfd");
	fd = vx_sock_listen(name, 0600, 0);
	r = fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
	    len == offsetof(struct sockaddr_un, sun_path) + strlen(name) &&
	    sa.sun_path[0] == '\0' &&
	    memcmp(sa.sun_path + 1, name + 1, strlen(name) - 1) == 0;
	ok(r, "abstract address is exactly '\\0' + name");
	c1 = vx_sock_connect(name, 0);
	c2 = vx_sock_connect(name, 30);
	ok(c1 >= 0 && c2 == VX_ERR_TIMEOUT, "connect times out on a full "
	    "backlog");
	close(c1);
	close(fd);
	memset(name + 1, 'x', 107);
	name[108] = '\0';
	fd = vx_sock_listen(name, 0600, 1);
	ok(fd >= 0, "abstract name of 107 bytes fits");
	close(fd);
	name[108] = 'x';
	name[109] = '\0';
	ok(vx_sock_listen(name, 0600, 1) == VX_ERR_TOO_LARGE &&
	    vx_sock_connect(name, 0) == VX_ERR_TOO_LARGE,
	    "abstract name of 108 bytes is too large");
}

static void
test_path(void)
{
	char dir[64], path[4096], file[4096];
	char longp[200];
	struct stat st;
	int fd, fd2, c, r;

	if (unit_mkdtemp(dir, sizeof(dir), "test-framer") < 0)
		abort();
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	ok(roundtrip(path), "path socket: listen, connect, accept, peer "
	    "cred, message with an eventfd");
	fd = vx_sock_listen(path, 0600, 4);
	ok(fd >= 0 && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 0777) == 0600, "stale socket file replaced, mode set");
	fd2 = vx_sock_listen(path, 0600, 4);
	ok(fd2 == VX_ERR_IO && errno == EADDRINUSE,
	    "a socket with a listener is not replaced");
	c = vx_sock_connect(path, 1000);
	ok(c >= 0 && !(fcntl(c, F_GETFL) & O_NONBLOCK),
	    "the listener still answers; connected fd is blocking");
	close(c);
	close(fd);
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	r = vx_sock_listen(file, 0600, 4);
	ok(r == VX_ERR_INVALID && errno == EEXIST && lstat(file, &st) == 0 &&
	    S_ISREG(st.st_mode), "a regular file is not replaced (EEXIST)");
	r = vx_sock_connect(file, 0);
	ok(r == VX_ERR_IO && errno == ECONNREFUSED,
	    "connecting to a regular file: VX_ERR_IO");
	ok(vx_sock_connect("/nonexistent/vfuctl", 0) == VX_ERR_IO &&
	    errno == ENOENT, "connecting to a missing path: ENOENT");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ok(vx_sock_listen(longp, 0600, 1) == VX_ERR_TOO_LARGE &&
	    vx_sock_listen("", 0600, 1) == VX_ERR_INVALID,
	    "too long path: VX_ERR_TOO_LARGE; empty: VX_ERR_INVALID");
	unlink(path);
	unlink(file);
	rmdir(dir);
}

static int
describe(int fd, enum vx_fd_kind kind, off_t size)
{
	struct vx_fd_info info;
	struct stat st;

	return vx_fd_describe(fd, &info) == 0 && fstat(fd, &st) == 0 &&
	    info.kind == kind && info.size == size && info.dev == st.st_dev &&
	    info.ino == st.st_ino;
}

static void
test_describe(void)
{
	char path[] = "/tmp/vfuctl-test-XXXXXX";
	struct vx_fd_info info;
	int mfd, efd, ffd, p[2], sv[2];

	mfd = memfd_create("vx", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	efd = eventfd(0, EFD_CLOEXEC);
	ffd = mkostemp(path, O_CLOEXEC);
	if (mfd < 0 || efd < 0 || ffd < 0 || pipe2(p, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	unlink(path);
	if (ftruncate(mfd, 8192) < 0 || ftruncate(ffd, 100) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		abort();
	ok(describe(mfd, VX_FD_MEMFD, 8192) && vx_fd_describe(mfd, &info) == 0 &&
	    (info.seals & F_SEAL_SHRINK), "describe: memfd, size, seals");
	ok(describe(ffd, VX_FD_FILE, 100), "describe: regular file");
	ok(describe(efd, VX_FD_EVENTFD, 0), "describe: eventfd");
	ok(describe(sv[0], VX_FD_SOCKET, 0), "describe: socket");
	ok(describe(p[0], VX_FD_OTHER, 0), "describe: pipe is other");
	ok(vx_fd_describe(-1, &info) == VX_ERR_IO && errno == EBADF,
	    "describe: bad fd");
	ok(strcmp(vx_fd_kind_name(VX_FD_MEMFD), "memfd") == 0 &&
	    strcmp(vx_fd_kind_name(VX_FD_FILE), "file") == 0 &&
	    strcmp(vx_fd_kind_name(VX_FD_EVENTFD), "eventfd") == 0 &&
	    strcmp(vx_fd_kind_name(VX_FD_SOCKET), "socket") == 0 &&
	    strcmp(vx_fd_kind_name(VX_FD_OTHER), "other") == 0,
	    "kind names match the vectors'");
	close(mfd);
	close(efd);
	close(ffd);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("VECTORS");
	int nfd;

	if (dir == NULL || dir[0] == '\0')
		dir = "../shared/vectors";
	ok(vx_raise_nofile() >= VX_MAX_FDS * 2, "RLIMIT_NOFILE raised");
	nfd = unit_count_fds();
	test_vectors(dir);
	test_badframe(dir);
	test_attribution();
	test_limits();
	test_reuse();
	test_bulk(0);
	test_bulk(1);
	test_queue_raw();
	test_drop_output();
	test_big();
	test_out_checks();
	test_ctrunc(0);
	test_ctrunc(1);
	test_ahead_kernel();
	test_ahead_attribution();
	test_ahead_limits();
	test_ahead_burst();
	test_ahead_split();
	test_send_alone();
	test_split();
	test_join();
	test_ahead_reuse();
	test_eof();
	test_recv_bad();
	test_abstract();
	test_path();
	test_describe();
	ok(unit_count_fds() == nfd, "no descriptor leaks (%d open)", unit_count_fds());
	return unit_done();
}
