/*
 * dissect-chrome.c - vfuctl dissect -o chrome: a trace as the Trace Event
 * Format that Perfetto UI (ui.perfetto.dev) and chrome://tracing open.
 *
 * One process per connection ("c1"); its threads are tracks: the client's
 * commands and the server's (DMA_READ/DMA_WRITE), on the main socket and
 * on the twin.  Each command and its reply make one complete slice ("X")
 * from the command's time to the reply's, with both messages' fields as
 * args.  Pipelined commands overlap, and a track must hold only nested
 * slices, so overlapping slices go to the next lane of the same track
 * ("client commands #2").  A command nobody answered is a slice that ends
 * where the connection (or the trace) ends, marked unanswered.  DMA windows
 * are async slices from DMA_MAP to the DMA_UNMAP that covers them; IRQs,
 * findings, annotations, opening and closing are instant events.
 *
 * Events are written as they complete, so memory holds only the commands
 * still waiting for their reply and the DMA windows still mapped.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dissect-chrome.h"
#include "vx-wire.h"

/* Lanes per track: pipelining deeper than this shares the last lane. */
#define LANES		32
/* Longest string arg kept whole; data fields are cut to this. */
#define ARG_MAX		96

enum track { TR_CLIENT, TR_SERVER, TR_NTRACKS };

struct pending {
	uint32_t conn;
	int chan;
	uint64_t frame, ts_ns;
	uint16_t cmd;
	json_t *args;		/* the command's fields */
	uint64_t dma_addr, dma_size;	/* DMA_MAP, DMA_UNMAP */
	uint32_t dma_flags;
};

struct window {
	uint32_t conn;
	uint64_t addr, size;
	int open;
};

struct lanes {
	uint32_t conn;
	uint64_t end[2][TR_NTRACKS][LANES];	/* [chan][track][lane] */
	uint64_t named[2][TR_NTRACKS];		/* lanes named: bit per lane */
	int procnamed;
};

struct chrome {
	FILE *fp;
	int first_event;
	int have_t0;
	uint64_t t0, last_ts;
	struct pending *pend;
	size_t npend, cpend;
	struct window *win;
	size_t nwin, cwin;
	struct lanes *ln;
	size_t nln, cln;
	uint64_t slices;
};

static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	if ((p = realloc(p, n * elem)) == NULL)
		vx_fatal("out of memory");
	*cap = n;
	return p;
}

/* Microseconds since the trace's first record, to the nanosecond. */
static json_t *
ts_us(const struct chrome *co, uint64_t ts_ns)
{
	uint64_t d = ts_ns >= co->t0 ? ts_ns - co->t0 : 0;

	return json_real((double)(d / 1000) + (double)(d % 1000) / 1000.0);
}

static void
emit(struct chrome *co, json_t *ev)
{
	fputs(co->first_event ? "\n" : ",\n", co->fp);
	co->first_event = 0;
	json_dumpf(ev, co->fp, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(ev);
}

static struct lanes *
lanes_of(struct chrome *co, uint32_t conn)
{
	size_t i;

	for (i = 0; i < co->nln; i++)
		if (co->ln[i].conn == conn)
			return &co->ln[i];
	co->ln = grow(co->ln, &co->cln, co->nln + 1, sizeof(*co->ln));
	memset(&co->ln[co->nln], 0, sizeof(*co->ln));
	co->ln[co->nln].conn = conn;
	return &co->ln[co->nln++];
}

static void
name_process(struct chrome *co, struct lanes *l)
{
	char name[32];

	if (l->procnamed)
		return;
	l->procnamed = 1;
	snprintf(name, sizeof(name), "c%" PRIu32, l->conn);
	emit(co, json_pack("{s:s,s:s,s:I,s:i,s:{s:s}}", "name", "process_name",
	    "ph", "M", "pid", (json_int_t)l->conn, "tid", 0, "args", "name",
	    name));
	emit(co, json_pack("{s:s,s:s,s:I,s:i,s:{s:I}}", "name",
	    "process_sort_index", "ph", "M", "pid", (json_int_t)l->conn, "tid",
	    0, "args", "sort_index", (json_int_t)l->conn));
}

static int
tid_of(int chan, int track, int lane)
{
	return 1 + chan * 1000 + track * 100 + lane;
}

static void
name_thread(struct chrome *co, struct lanes *l, int chan, int track, int lane)
{
	char name[64];

	if (l->named[chan][track] & (1ull << lane))
		return;
	l->named[chan][track] |= 1ull << lane;
	snprintf(name, sizeof(name), "%s: %s%s%.0d",
	    chan == VX_CHAN_TWIN ? "twin" : "main",
	    track == TR_CLIENT ? "client commands" : "server commands (DMA)",
	    lane ? " #" : "", lane ? lane + 1 : 0);
	emit(co, json_pack("{s:s,s:s,s:I,s:i,s:{s:s}}", "name", "thread_name",
	    "ph", "M", "pid", (json_int_t)l->conn, "tid",
	    tid_of(chan, track, lane), "args", "name", name));
	emit(co, json_pack("{s:s,s:s,s:I,s:i,s:{s:i}}", "name",
	    "thread_sort_index", "ph", "M", "pid", (json_int_t)l->conn, "tid",
	    tid_of(chan, track, lane), "args", "sort_index",
	    tid_of(chan, track, lane)));
}

/* The first lane whose slices all end by start: slices stay disjoint. */
static int
pick_lane(struct lanes *l, int chan, int track, uint64_t start, uint64_t end)
{
	int i;

	for (i = 0; i < LANES - 1; i++)
		if (l->end[chan][track][i] <= start)
			break;
	if (l->end[chan][track][i] < end)
		l->end[chan][track][i] = end;
	return i;
}

/*
 * A message's fields as slice args: the codec's JSON without the keys the
 * slice already says, long strings (data in hex) cut to ARG_MAX.
 */
static json_t *
msg_args(const struct vx_walk_item *it)
{
	json_t *o = vx_msg_json(it->msg), *v;
	const char *k;
	void *tmp;
	char cut[ARG_MAX + 48];

	if (o == NULL)
		vx_fatal("out of memory");
	json_object_del(o, "vfio_user.dir");
	json_object_del(o, "vfio_user.type");
	json_object_foreach_safe(o, tmp, k, v) {
		size_t n;

		if (!json_is_string(v) || (n = json_string_length(v)) <= ARG_MAX)
			continue;
		snprintf(cut, sizeof(cut), "%.*s... (%zu characters)", ARG_MAX,
		    json_string_value(v), n);
		json_object_set_new(o, k, json_string(cut));
	}
	json_object_set_new(o, "vfio_user.frame",
	    json_integer((json_int_t)it->rec->frame));
	return o;
}

static int
is_ok_reply(const struct vx_msg *m)
{
	return m != NULL && !(m->flags & VX_F_ERROR) && m->status == VX_MSG_OK;
}

static void
window_begin(struct chrome *co, const struct pending *p)
{
	char name[64], id[64];
	struct window *w;

	co->win = grow(co->win, &co->cwin, co->nwin + 1, sizeof(*co->win));
	w = &co->win[co->nwin++];
	w->conn = p->conn;
	w->addr = p->dma_addr;
	w->size = p->dma_size;
	w->open = 1;
	snprintf(name, sizeof(name), "DMA 0x%" PRIx64 "+0x%" PRIx64,
	    p->dma_addr, p->dma_size);
	snprintf(id, sizeof(id), "c%" PRIu32 ":0x%" PRIx64, p->conn,
	    p->dma_addr);
	emit(co, json_pack("{s:s,s:s,s:s,s:s,s:I,s:i,s:o,s:{s:s,s:I}}",
	    "name", name, "cat", "dma", "ph", "b", "id", id,
	    "pid", (json_int_t)p->conn, "tid", tid_of(0, TR_CLIENT, 0),
	    "ts", ts_us(co, p->ts_ns), "args", "window", name + 4,
	    "map_frame", (json_int_t)p->frame));
}

/* End the windows of conn that [addr, addr+size) covers (all: size 0). */
static void
window_end(struct chrome *co, uint32_t conn, uint64_t addr, uint64_t size,
    int all, uint64_t ts_ns, const char *why)
{
	char name[64], id[64];
	size_t i, j = 0;

	for (i = 0; i < co->nwin; i++) {
		struct window *w = &co->win[i];

		if (w->conn == conn && (all || (w->addr >= addr &&
		    w->addr - addr < size))) {
			snprintf(name, sizeof(name), "DMA 0x%" PRIx64 "+0x%"
			    PRIx64, w->addr, w->size);
			snprintf(id, sizeof(id), "c%" PRIu32 ":0x%" PRIx64,
			    w->conn, w->addr);
			emit(co, json_pack("{s:s,s:s,s:s,s:s,s:I,s:i,s:o,s:{s:s}}",
			    "name", name, "cat", "dma", "ph", "e", "id", id,
			    "pid", (json_int_t)w->conn, "tid",
			    tid_of(0, TR_CLIENT, 0), "ts", ts_us(co, ts_ns),
			    "args", "ended_by", why));
			continue;
		}
		co->win[j++] = *w;
	}
	co->nwin = j;
}

/* The slice of command p, answered by it (NULL: never answered). */
static void
slice(struct chrome *co, struct pending *p, const struct vx_walk_item *it,
    uint64_t end_ns)
{
	struct lanes *l = lanes_of(co, p->conn);
	int track = p->cmd == VX_CMD_DMA_READ || p->cmd == VX_CMD_DMA_WRITE ?
	    TR_SERVER : TR_CLIENT;
	int chan = p->chan == VX_CHAN_TWIN;
	int lane = pick_lane(l, chan, track, p->ts_ns, end_ns);
	const char *name = vx_cmd_name(p->cmd);
	json_t *args = json_object(), *ev;
	char cmdname[32];

	if (name == NULL) {
		snprintf(cmdname, sizeof(cmdname), "command %u", p->cmd);
		name = cmdname;
	}
	name_process(co, l);
	name_thread(co, l, chan, track, lane);
	json_object_set_new(args, "command", p->args);
	p->args = NULL;
	if (it != NULL)
		json_object_set_new(args, "reply", msg_args(it));
	else
		json_object_set_new(args, "unanswered", json_true());
	ev = json_pack("{s:s,s:s,s:s,s:I,s:i,s:o,s:o,s:o}", "name", name,
	    "cat", "vfio-user", "ph", "X", "pid", (json_int_t)p->conn, "tid",
	    tid_of(chan, track, lane), "ts", ts_us(co, p->ts_ns), "dur",
	    json_real((double)((end_ns - p->ts_ns) / 1000) +
	    (double)((end_ns - p->ts_ns) % 1000) / 1000.0), "args", args);
	/* catapult's colour names: errors red, the unanswered grey */
	if (it == NULL)
		json_object_set_new(ev, "cname", json_string("grey"));
	else if (!is_ok_reply(it->msg))
		json_object_set_new(ev, "cname", json_string("terrible"));
	emit(co, ev);
	co->slices++;
	if (it == NULL || !is_ok_reply(it->msg))
		return;
	if (p->cmd == VX_CMD_DMA_MAP)
		window_begin(co, p);
	else if (p->cmd == VX_CMD_DMA_UNMAP)
		window_end(co, p->conn, p->dma_addr, p->dma_size,
		    (p->dma_flags & VX_DMA_UNMAP_ALL) != 0, end_ns,
		    "DMA_UNMAP");
}

static void
instant(struct chrome *co, const struct vx_trace_rec *rec, const char *name,
    const char *scope, json_t *args)
{
	struct lanes *l = lanes_of(co, rec->conn);

	name_process(co, l);
	emit(co, json_pack("{s:s,s:s,s:s,s:s,s:I,s:i,s:o,s:o}", "name", name,
	    "cat", "event", "ph", "i", "s", scope, "pid", (json_int_t)rec->conn,
	    "tid", tid_of(rec->chan == VX_CHAN_TWIN, TR_CLIENT, 0), "ts",
	    ts_us(co, rec->ts_ns), "args", args));
}

/* Commands of conn still waiting end at ts_ns, unanswered. */
static void
flush_conn(struct chrome *co, uint32_t conn, int all, uint64_t ts_ns)
{
	size_t i, j = 0;

	for (i = 0; i < co->npend; i++) {
		if (all || co->pend[i].conn == conn) {
			slice(co, &co->pend[i], NULL, ts_ns > co->pend[i].ts_ns ?
			    ts_ns : co->pend[i].ts_ns);
			continue;
		}
		co->pend[j++] = co->pend[i];
	}
	co->npend = j;
	if (all) {
		while (co->nwin > 0)
			window_end(co, co->win[0].conn, 0, 0, 1, ts_ns,
			    "end of trace");
	} else {
		window_end(co, conn, 0, 0, 1, ts_ns, "connection closed");
	}
}

static void
on_message(struct chrome *co, const struct vx_walk_item *it,
    const char *summary)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	struct pending p;
	uint64_t v;
	size_t i;

	if (vx_msg_is_reply(m)) {
		for (i = co->npend; it->res->paired && i-- > 0;) {
			if (co->pend[i].conn == rec->conn &&
			    co->pend[i].frame == it->res->req_frame) {
				p = co->pend[i];
				memmove(&co->pend[i], &co->pend[i + 1],
				    (co->npend - i - 1) * sizeof(p));
				co->npend--;
				slice(co, &p, it, rec->ts_ns);
				return;
			}
		}
		/* a reply to nothing we saw (filtered out, or a stray) */
		instant(co, rec, "reply without its command", "t",
		    json_pack("{s:s,s:I}", "summary", summary, "frame",
		    (json_int_t)rec->frame));
		return;
	}
	memset(&p, 0, sizeof(p));
	p.conn = rec->conn;
	p.chan = rec->chan;
	p.frame = rec->frame;
	p.ts_ns = rec->ts_ns;
	p.cmd = m->cmd;
	p.args = msg_args(it);
	if (vx_msg_get(m, VXF_DMA_ADDR, &v) == 0)
		p.dma_addr = v;
	if (vx_msg_get(m, VXF_DMA_SIZE, &v) == 0)
		p.dma_size = v;
	if (vx_msg_get(m, VXF_DMA_UNMAP_FLAGS, &v) == 0)
		p.dma_flags = (uint32_t)v;
	if (m->flags & VX_F_NO_REPLY) {	/* no reply will come: a point */
		slice(co, &p, NULL, p.ts_ns);
		return;
	}
	co->pend = grow(co->pend, &co->cpend, co->npend + 1, sizeof(p));
	co->pend[co->npend++] = p;
}

struct chrome *
chrome_open(FILE *fp)
{
	struct chrome *co = calloc(1, sizeof(*co));

	if (co == NULL)
		vx_fatal("out of memory");
	co->fp = fp;
	co->first_event = 1;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", fp);
	return co;
}

void
chrome_item(struct chrome *co, const struct vx_walk_item *it,
    const char *summary)
{
	const struct vx_trace_rec *rec = it->rec;
	unsigned i;

	if (rec == NULL)	/* the end's unanswered: flush_conn has them */
		return;
	if (!co->have_t0) {
		co->t0 = rec->ts_ns;
		co->have_t0 = 1;
	}
	co->last_ts = rec->ts_ns;
	if (it->msg != NULL) {
		on_message(co, it, summary);
		for (i = 0; i < it->res->nfindings; i++) {
			const struct vx_finding *f = &it->res->findings[i];

			instant(co, rec, vx_finding_key(f->code), "t",
			    json_pack("{s:s,s:s,s:I}", "text",
			    vx_finding_text(f->code), "detail", f->text,
			    "frame", (json_int_t)rec->frame));
		}
		return;
	}
	switch (rec->kind) {
	case VX_TR_DIGEST:
		return;
	case VX_TR_CLOSE:
		flush_conn(co, rec->conn, 0, rec->ts_ns);
		break;
	default:
		break;
	}
	instant(co, rec, rec->kind == VX_TR_IRQ ? "IRQ" :
	    vx_trace_kind_name(rec->kind) ? vx_trace_kind_name(rec->kind) :
	    "event", rec->kind == VX_TR_OPEN || rec->kind == VX_TR_CLOSE ?
	    "p" : rec->kind == VX_TR_GAP ? "g" : "t",
	    json_pack("{s:s,s:I}", "summary", summary, "frame",
	    (json_int_t)rec->frame));
}

uint64_t
chrome_close(struct chrome *co)
{
	uint64_t n;

	flush_conn(co, 0, 1, co->last_ts);
	fprintf(co->fp, "\n],\"metadata\":{\"source\":\"vfuctl dissect\","
	    "\"t0_ns\":%" PRIu64 "}}\n", co->t0);
	n = co->slices;
	free(co->pend);
	free(co->win);
	free(co->ln);
	free(co);
	return n;
}
