/*
 * test-sreplay-win.c - the window vfuctl server --replay reads its trace
 * through (lib/server-replay-win.h), on a trace written with the lib's
 * writer: only its connection's entries, k + 1 requests read ahead, a
 * request ahead of the window or not yet whole is no candidate, played
 * requests and those fallen behind leave it (the latter counted and
 * named), the newest gone request's reply is kept, and the bytes it
 * counts are those of the messages it holds (an interrupt has none).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server-replay-win.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-trace.h"
#include "helpers.h"
#include "unit.h"

#define NREQ	6
#define MSGLEN	32

static char dir[64], path[128];

static int
get_info(struct vx_trace_writer *w, uint32_t conn, int dir_, uint16_t id)
{
	uint8_t m[MSGLEN];

	unit_mkmsg(m, sizeof(m), id, VX_CMD_DEVICE_GET_INFO,
	    dir_ == VX_S2C ? VX_F_TYPE_REPLY : 0);
	return vx_trace_write_message(w, conn, 0, VX_CHAN_MAIN, dir_, id, 0,
	    m, sizeof(m), NULL, 0);
}

static int
irq(struct vx_trace_writer *w, uint32_t conn, uint32_t vector)
{
	struct vx_trace_rec e;

	memset(&e, 0, sizeof(e));
	e.kind = VX_TR_IRQ;
	e.conn = conn;
	e.irq_index = 2;
	e.irq_vector = vector;
	e.count = 1;
	return vx_trace_write_event(w, &e);
}

/* Connection 1: NREQ calls, each answered and followed by an interrupt
 * (vector 1000 + i); connection 2's calls in between. */
static int
write_trace(void)
{
	struct vx_trace_writer *w;
	int rc = 0;
	uint16_t i;

	if (vx_trace_writer_open(path, NULL, &w) < 0)
		return -1;
	for (i = 0; i < NREQ; i++) {
		rc |= get_info(w, 1, VX_C2S, i);
		rc |= get_info(w, 2, VX_C2S, (uint16_t)(100 + i));
		rc |= get_info(w, 1, VX_S2C, i);
		rc |= irq(w, 1, 1000u + i);
	}
	rc |= vx_trace_writer_close(w);
	return rc;
}

/* The seq of the request with rpos n in the window, or SR_NONE. */
static uint64_t
request(const struct sr_win *w, uint64_t n)
{
	uint64_t s;

	for (s = w->lo; s < w->hi; s++)
		if (sr_win_at(w, s)->kind == SR_REQ &&
		    sr_win_at(w, s)->rpos == n)
			return s;
	return SR_NONE;
}

/* What w->bytes should be: its messages' lengths; -1 if an entry is
 * another connection's. */
static long
held_bytes(const struct sr_win *w)
{
	uint64_t s;
	long n = 0;

	for (s = w->lo; s < w->hi; s++) {
		const struct sr_ent *e = sr_win_at(w, s);

		if (e->bytes != NULL && vx_load(e->bytes, 2, 0) >= 100)
			return -1;
		if (e->bytes != NULL)
			n += e->len;
	}
	return n;
}

static void
test_window(void)
{
	struct sr_win w;
	const struct sr_ent *rep;
	uint64_t frame, r0_frame, r2_frame;
	uint16_t cmd;
	int rc = sr_win_open(&w, path, 1, 2);

	ok(rc == 0, "opened: %d %s", rc, w.errmsg);
	ok(w.nread == 3 && !w.ended, "k + 1 requests read ahead: %" PRIu64,
	    w.nread);
	ok(held_bytes(&w) == (long)w.bytes && w.bytes == 5 * MSGLEN,
	    "only connection 1's messages, counted: %zu", w.bytes);
	ok(sr_win_candidate(&w, request(&w, 0)) &&
	    sr_win_candidate(&w, request(&w, 1)) &&
	    !sr_win_candidate(&w, request(&w, 2)),
	    "requests 0 and 1 are candidates, 2 (k ahead) is not");
	r0_frame = sr_win_at(&w, request(&w, 0))->frame;

	/* 1 before 0: 0 stays a candidate, 2 more are read */
	sr_win_play(&w, request(&w, 1));
	rc = sr_win_fill(&w);
	ok(rc == 0 && w.nread == 5, "slid to request 4: %" PRIu64 " read",
	    w.nread);
	ok(sr_win_candidate(&w, request(&w, 0)) &&
	    !sr_win_candidate(&w, request(&w, 1)),
	    "request 0 still a candidate; 1 played is not");

	/* 2: request 0 is now k behind the furthest played: it falls out */
	r2_frame = sr_win_at(&w, request(&w, 2))->frame;
	sr_win_play(&w, request(&w, 2));
	ok(sr_win_fill(&w) == 0 && request(&w, 0) == SR_NONE &&
	    request(&w, 1) == SR_NONE && request(&w, 2) == SR_NONE,
	    "0 fell behind, 1 and 2 played: gone");
	ok(w.skipped == 1 && w.skip_frame == r0_frame && w.played == 2,
	    "one skipped, named by its frame; two played");
	ok(held_bytes(&w) == (long)w.bytes,
	    "the count is the messages held (%zu), interrupts aside",
	    w.bytes);
	ok(sr_win_last(&w, VX_CMD_DEVICE_GET_INFO, &frame, &rep) == 1 &&
	    frame == r2_frame && rep != NULL && rep->len == MSGLEN &&
	    vx_load(rep->bytes, 2, 0) == 2,
	    "the newest request gone, 2, with its reply kept");
	ok(sr_win_last(&w, VX_CMD_DEVICE_GET_REGION_INFO, &frame, &rep) == 0,
	    "none of a command never read");
	ok(sr_win_count(&w, VX_CMD_DEVICE_GET_INFO) == w.nread,
	    "requests of the command read so far: %" PRIu64,
	    sr_win_count(&w, VX_CMD_DEVICE_GET_INFO));
	ok(sr_win_unplayed(&w, &frame, &cmd) == 1 && frame == r0_frame &&
	    cmd == VX_CMD_DEVICE_GET_INFO, "the first not played: request 0");

	/* the rest in order: the trace's end is reached */
	while ((frame = request(&w, w.furthest)) != SR_NONE) {
		sr_win_play(&w, frame);
		if (sr_win_fill(&w) < 0)
			break;
	}
	ok(w.ended && w.played == NREQ - 1 && w.lo == w.hi,
	    "to the end: %" PRIu64 " played, the window empty", w.played);
	ok(w.bytes == 0, "nothing counted: %zu", w.bytes);
	sr_win_close(&w);
}

/*
 * Past max_bytes of messages, a request behind the furthest played falls
 * out however near it is (k aside), and reading ahead stops at the span
 * after the furthest played.  The same trace, the cap lowered to three
 * messages.
 */
static void
test_bytes(void)
{
	struct sr_win w;
	uint64_t r0_frame;
	int rc = sr_win_open(&w, path, 1, 4);

	ok(rc == 0 && w.nread == 5 && w.max_bytes == SR_WIN_BYTES,
	    "k 4: k + 1 requests read ahead, under SR_WIN_BYTES: %" PRIu64,
	    w.nread);
	w.max_bytes = 3 * MSGLEN;
	r0_frame = sr_win_at(&w, request(&w, 0))->frame;
	sr_win_play(&w, request(&w, 1));
	ok(sr_win_fill(&w) == 0 && request(&w, 0) == SR_NONE &&
	    w.skipped == 1 && w.skip_frame == r0_frame,
	    "request 0, 1 behind the furthest (k 4), fell out over the cap");
	ok(w.nread == 5 && !w.ended,
	    "and over it no more is read ahead (k would read the 6th)");
	ok(held_bytes(&w) == (long)w.bytes, "the count still right: %zu",
	    w.bytes);
	sr_win_close(&w);
}

static void
test_scan(void)
{
	struct sr_conn *c;
	size_t n;
	char err[256];
	int rc = sr_scan(path, &c, &n, err, sizeof(err));

	/* connection 1 starts with GET_INFO, not VERSION: refused */
	ok(rc == VX_ERR_UNSUPPORTED && strstr(err, "starts mid-session"),
	    "a connection without its VERSION is refused: %s", err);
	rc = sr_scan("-", &c, &n, err, sizeof(err));
	ok(rc == VX_ERR_INVALID && strstr(err, "not standard input"),
	    "standard input is refused: %s", err);
}

int
main(void)
{
	if (unit_mkdtemp(dir, sizeof(dir), "test-sreplay-win") < 0)
		return 2;
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	ok(write_trace() == 0, "trace written");
	test_window();
	test_bytes();
	test_scan();
	unlink(path);
	rmdir(dir);
	return unit_done();
}
