/*
 * test-walk.c - the trace walk (lib/vx-walk.h) on a trace written with the
 * lib's writer: messages decoded and paired per connection, an OPEN starts
 * a session, a STATE record seeds one, a CLOSE reports the commands left
 * unanswered unless only the capture ended, connections still open come
 * out at the end; a cut trace gives the end's items and then the error;
 * following gives VX_ERR_AGAIN at the end until vx_walk_end().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-walk.h"
#include "helpers.h"
#include "unit.h"

static char dir[64];
static char path[128], cut[128];

/* DEVICE_GET_INFO: 16-byte header, then argsz, flags, regions, irqs */
static void
get_info(uint8_t *m, uint16_t id, int reply)
{
	memset(m, 0, 32);
	m[0] = (uint8_t)id;
	m[2] = VX_CMD_DEVICE_GET_INFO;
	m[4] = 32;
	m[8] = reply ? 1 : 0;
	m[16] = 16;
	if (reply)
		m[24] = 9;	/* regions */
}

static int
message(struct vx_trace_writer *w, uint32_t conn, int dir_, uint16_t id,
    int reply, uint64_t ts)
{
	uint8_t m[32];

	get_info(m, id, reply);
	return vx_trace_write_message(w, conn, 0, VX_CHAN_MAIN, dir_, id, ts,
	    m, sizeof(m), NULL, 0);
}

static int
event(struct vx_trace_writer *w, unsigned kind, uint32_t conn,
    uint16_t flags, const char *text, uint64_t ts)
{
	struct vx_trace_rec e;

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	e.conn = conn;
	e.flags = flags;
	e.ts_ns = ts;
	e.data = (const uint8_t *)text;
	e.len = text ? strlen(text) : 0;
	return vx_trace_write_event(w, &e);
}

/*
 * conn 1: OPEN, a call answered, a call not, CLOSE (1 unanswered);
 * conn 2: STATE, a call not answered, CLOSE at the capture's end (none);
 * conn 3: mid-session, a call never answered, still open at the end.
 */
static int
write_trace(void)
{
	struct vx_session *s = vx_session_new(VX_PEER_AUTO);
	char *state = vx_session_save(s);
	struct vx_trace_writer *w;
	int rc = 0;

	if (state == NULL || vx_trace_writer_open(path, NULL, &w) < 0)
		return -1;
	rc |= event(w, VX_TR_OPEN, 1, 0, NULL, 10);
	rc |= message(w, 1, VX_C2S, 1, 0, 20);
	rc |= message(w, 1, VX_S2C, 1, 1, 25);
	rc |= message(w, 1, VX_C2S, 2, 0, 30);
	rc |= event(w, VX_TR_STATE, 2, 0, state, 40);
	rc |= message(w, 2, VX_C2S, 7, 0, 50);
	rc |= event(w, VX_TR_CLOSE, 1, 0, NULL, 60);
	rc |= event(w, VX_TR_CLOSE, 2, VX_TRF_CAPTURE_END, NULL, 70);
	rc |= message(w, 3, VX_C2S, 9, 0, 80);
	rc |= vx_trace_writer_close(w);
	free(state);
	vx_session_free(s);
	return rc;
}

/* Walk path; the items' kinds as letters, e.g. "OMMMSMC1C0E1". */
static int
walk(const char *p, unsigned flags, char *out, size_t cap,
    struct vx_walk **wp)
{
	struct vx_walk_opts o = { flags, VX_PEER_AUTO };
	struct vx_walk_item it;
	size_t n = 0;
	int r;

	out[0] = '\0';
	if ((r = vx_walk_open(p, &o, wp)) < 0)
		return r;
	while ((r = vx_walk_next(*wp, &it)) > 0 && n + 3 < cap) {
		if (it.rec == NULL)
			n += (size_t)snprintf(out + n, cap - n, "E%u",
			    it.nunanswered);
		else if (it.rec->kind == VX_TR_CLOSE)
			n += (size_t)snprintf(out + n, cap - n, "C%u",
			    it.nunanswered);
		else if (it.msg != NULL)
			n += (size_t)snprintf(out + n, cap - n, "%s",
			    it.res->paired && it.res->req_frame == 2 ?
			    "P" : "M");
		else
			n += (size_t)snprintf(out + n, cap - n, "%c",
			    it.rec->kind == VX_TR_OPEN ? 'O' :
			    it.state && strncmp(it.state, "unusable", 8) ?
			    'S' : '?');
	}
	return r;
}

static void
test_walk(void)
{
	struct vx_walk *w;
	char seen[64];
	int r = walk(path, 0, seen, sizeof(seen), &w);

	ok(r == 0 && strcmp(seen, "OMPMSMC1C0ME1") == 0,
	    "items in order, paired, unanswered at CLOSE and end: %s (%d)",
	    seen, r);
	ok(strcmp(vx_walk_error(w), "") == 0, "no error");
	vx_walk_close(w);
}

static void
test_cut(void)
{
	FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
	char buf[4096], seen[64];
	struct vx_walk *w;
	size_t n = in ? fread(buf, 1, sizeof(buf), in) : 0;
	int r;

	/* the last record loses its last 5 bytes */
	if (out != NULL)
		fwrite(buf, 1, n - 5, out);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	r = walk(cut, VX_WALK_LAZY, seen, sizeof(seen), &w);
	ok(r == VX_ERR_TRUNCATED && strcmp(seen, "OMPMSMC1C0") == 0,
	    "a cut trace: whole records, then the error: %s (%d)", seen, r);
	ok(strstr(vx_walk_error(w), "frame 9: truncated") != NULL,
	    "the error names the frame: %s", vx_walk_error(w));
	vx_walk_close(w);
}

static void
test_follow(void)
{
	struct vx_walk_item it;
	struct vx_walk *w;
	char seen[64];
	int r = walk(path, VX_WALK_FOLLOW, seen, sizeof(seen), &w);

	ok(r == VX_ERR_AGAIN && strcmp(seen, "OMPMSMC1C0M") == 0,
	    "following: VX_ERR_AGAIN at the end: %s (%d)", seen, r);
	vx_walk_end(w);
	r = vx_walk_next(w, &it);
	ok(r == 1 && it.rec == NULL && it.nunanswered == 1,
	    "vx_walk_end(): the open connection's unanswered call");
	ok(vx_walk_next(w, &it) == 0, "then the end");
	vx_walk_close(w);
}

static void
test_missing(void)
{
	struct vx_walk *w;
	char seen[8];
	int r = walk("/nonexistent/trace.pcap", 0, seen, sizeof(seen), &w);

	ok(r < 0 && w != NULL && strstr(vx_walk_error(w), "nonexistent"),
	    "a missing file: %s", vx_walk_error(w));
	vx_walk_close(w);
}

int
main(void)
{
	if (unit_mkdtemp(dir, sizeof(dir), "test-walk") < 0)
		return 2;
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	snprintf(cut, sizeof(cut), "%s/cut.pcap", dir);
	ok(write_trace() == 0, "trace written");
	test_walk();
	test_cut();
	test_follow();
	test_missing();
	unlink(path);
	unlink(cut);
	rmdir(dir);
	return unit_done();
}
