/*
 * cmd-dissect.c - vfuctl dissect: read a trace like tshark reads a capture.
 * One summary line per record, or the field tree (-V), hex (-x), decoded
 * JSON (-o json), the trace's own JSON lines (-o jsonl, what import
 * reads) or the Trace Event Format (-o chrome, for Perfetto); display filters (-Y) over the shared field names; findings shown
 * inline and counted at the end; -w writes the records shown as a trace.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dissect-chrome.h"
#include "tstate.h"
#include "vx-error.h"
#include "vx-filter.h"
#include "vx-strbuf.h"
#include "vx-walk.h"

const char cmd_dissect_usage[] =
	"usage: vfuctl dissect [-V] [-x] [-o text|json|jsonl|chrome] [-t r|a|d]\n"
	"                      [-c N]"
	" [-Y FILTER] [--cmd NAME[,NAME]] [--conn N]\n"
	"                      [--dir c2s|s2c] [--errors] [--strict] [-w OUT]\n"
	"                      [--follow] [-l] [--notes once|all] [--peer PEER]\n"
	"                      [--color=WHEN] FILE|-\n"
	"\n"
	"Print the vfio-user messages and events of a trace (see vfuctl-trace(5)).\n"
	"\n"
	"  -V                 print every field with its byte offsets\n"
	"  -x                 print the bytes of every field in hex\n"
	"  -o, --output FMT   text (default); json: one decoded message per line;\n"
	"                     jsonl: the trace's records as vfuctl import reads them;\n"
	"                     chrome: Trace Event Format for Perfetto UI and\n"
	"                     chrome://tracing (a slice per command and reply)\n"
	"  -t FMT             time: r relative to the first record (default),\n"
	"                     a absolute, d delta from the previous record shown\n"
	"  -c N               stop after N records shown\n"
	"  -Y, --filter EXPR  display filter, e.g. 'vfio_user.cmd == REGION_WRITE\n"
	"                     && vfio_user.region.index == bar2' (vfuctl-dissect(1))\n"
	"  --cmd, --conn, --dir, --errors   shortcuts and-ed with -Y\n"
	"  --strict           exit 1 if any error finding or malformed message\n"
	"  -w OUT             write the records shown to OUT as a trace\n"
	"  --follow           keep reading as FILE grows (or from a pipe); each\n"
	"                     record is written out as it comes\n"
	"  -l                 line-buffered output, for a pipe (tcpdump's -l)\n"
	"  --notes WHICH      once (default): each kind of decoder note once per\n"
	"                     connection, counted at the end; all: every one\n"
	"  --peer PEER        wire forms: auto (default), spec, libvfio-user, qemu\n"
	"  --color WHEN       auto (default), always, never\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 ok, 1 --strict found errors, 2 usage error or a trace\n"
	"that cannot be read (every record before the bad one is printed).\n";

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_CHROME };

/* A decoder note's kind on a connection, and how often it came. */
struct note_count {
	uint32_t conn;
	unsigned code;
	uint64_t n;
};

struct dissect {
	int tree, hex, fmt, timefmt, color, strict;
	uint64_t limit, shown;
	uint64_t first_ts, prev_ts;
	struct vx_filter_clock fclock;	/* frame times for -Y */
	int have_first;
	struct vx_filter *filter;
	int filtering;
	struct vx_trace_writer *out;
	struct tstate *ts;	/* -w: the session state put in out */
	struct chrome *chrome;	/* -o chrome */
	int write_err;
	/* totals */
	uint64_t records, messages, malformed, unknown;
	uint64_t sev[3];
	char *jbuf;
	size_t jcap;
	int all_notes;			/* --notes all */
	struct note_count *notes;	/* the kinds seen, per connection */
	size_t nnotes, cnotes;
};

/*
 * Count note code on conn; 1 if it is the first of its kind there (to be
 * shown), else 0.
 */
static int
note_first(struct dissect *ds, uint32_t conn, unsigned code)
{
	size_t i;

	for (i = 0; i < ds->nnotes; i++)
		if (ds->notes[i].conn == conn && ds->notes[i].code == code)
			return ds->notes[i].n++ == 0;
	if (ds->nnotes == ds->cnotes) {
		ds->cnotes = ds->cnotes ? 2 * ds->cnotes : 16;
		ds->notes = realloc(ds->notes, ds->cnotes * sizeof(*ds->notes));
		if (ds->notes == NULL)
			vx_fatal("out of memory");
	}
	ds->notes[ds->nnotes].conn = conn;
	ds->notes[ds->nnotes].code = code;
	ds->notes[ds->nnotes++].n = 1;
	return 1;
}

/* tshark's expert summary, for the notes shown once per connection. */
static void
print_note_summary(const struct dissect *ds)
{
	size_t i;
	int any = 0;

	for (i = 0; i < ds->nnotes && !any; i++)
		any = ds->notes[i].n > 1;
	if (!any)
		return;
	printf("-- notes, each shown once per connection (--notes all shows "
	    "every one):\n");
	for (i = 0; i < ds->nnotes; i++)
		printf("   c%-4" PRIu32 " %8" PRIu64 "  %s [%s]\n",
		    ds->notes[i].conn, ds->notes[i].n,
		    vx_note_text(ds->notes[i].code),
		    vx_note_key(ds->notes[i].code));
}

static const char *const sev_name[] = { "note", "warning", "error" };
static const char *const sev_color[] = { "\033[36m", "\033[33m", "\033[31m" };

static void
fmt_time(struct dissect *ds, uint64_t ts, char *out, size_t cap)
{
	time_t secs;
	struct tm tm;
	uint64_t t;

	switch (ds->timefmt) {
	case 'a':
		secs = (time_t)(ts / 1000000000u);
		gmtime_r(&secs, &tm);
		snprintf(out, cap, "%02d:%02d:%02d.%09llu", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (unsigned long long)(ts % 1000000000u));
		return;
	case 'd':
		t = ts >= ds->prev_ts ? ts - ds->prev_ts : 0;
		break;
	default:
		t = ts >= ds->first_ts ? ts - ds->first_ts : 0;
	}
	/* seconds.nanoseconds, without printf: this runs for every line */
	{
		size_t pos = 0, i;
		char ns[10];
		uint64_t frac = t % 1000000000u;

		out[0] = '\0';
		vx_sb_u64(out, cap, &pos, t / 1000000000u);
		for (i = 9; i > 0; i--, frac /= 10)
			ns[i] = (char)('0' + frac % 10);
		ns[0] = '.';
		vx_sb_mem(out, cap, &pos, ns, 10);
	}
}

/* 850ns, 26.5us, 1.2ms, 2.00s: integer arithmetic, no printf */
static void
fmt_latency(uint64_t ns, char *out, size_t cap)
{
	size_t pos = 0;
	uint64_t div = 1, tenths;
	const char *unit = "ns";

	out[0] = '\0';
	if (ns >= 10000000000ull) {
		div = 1000000000;
		unit = "s";
	} else if (ns >= 10000000) {
		div = 1000000;
		unit = "ms";
	} else if (ns >= 10000) {
		div = 1000;
		unit = "us";
	}
	if (div == 1) {
		vx_sb_u64(out, cap, &pos, ns);
	} else {
		tenths = (ns / (div / 10) * 10 + ns % (div / 10) * 10 /
		    (div / 10) + 5) / 10;	/* rounded like printf's %.1f */
		vx_sb_u64(out, cap, &pos, tenths / 10);
		vx_sb_str(out, cap, &pos, ".");
		vx_sb_u64(out, cap, &pos, tenths % 10);
	}
	vx_sb_str(out, cap, &pos, unit);
}

static void
event_text(const struct vx_walk_item *it, char *out, size_t cap)
{
	const struct vx_trace_rec *rec = it->rec;
	const char *kind = vx_trace_kind_name(rec->kind);
	size_t pos;

	switch (rec->kind) {
	case VX_TR_IRQ:
		snprintf(out, cap, "IRQ %s vector %u signalled %llu time%s",
		    vx_tok_name(vx_names_irq, rec->irq_index) ?
		    vx_tok_name(vx_names_irq, rec->irq_index) : "index",
		    rec->irq_vector, (unsigned long long)rec->count,
		    rec->count == 1 ? "" : "s");
		break;
	case VX_TR_CLOSE:
		if (rec->flags & VX_TRF_CAPTURE_END) {
			snprintf(out, cap, "capture stopped, connection still "
			    "open (endpoint %u)", rec->endpoint);
			break;
		}
		/* FALLTHROUGH */
	case VX_TR_OPEN:
		snprintf(out, cap, "connection %s (endpoint %u, peer pid %u uid %u gid %u)",
		    rec->kind == VX_TR_OPEN ? "opened" : "closed", rec->endpoint,
		    rec->pid, rec->uid, rec->gid);
		break;
	case VX_TR_ANNOTATION:
		/* text from the trace: never raw to a terminal */
		snprintf(out, cap, "annotation: ");
		pos = strlen(out);
		vx_sb_text(out, cap, &pos, rec->data, rec->len > 200 ? 200 :
		    rec->len);
		break;
	case VX_TR_RAW:
		snprintf(out, cap, "%zu bytes that could not be framed", rec->len);
		break;
	case VX_TR_GAP:
		snprintf(out, cap, "GAP: %llu messages not recorded",
		    (unsigned long long)rec->count);
		break;
	case VX_TR_DIGEST:
		snprintf(out, cap, "digest #%llu over %llu records%s",
		    (unsigned long long)rec->seq, (unsigned long long)rec->count,
		    rec->flags & VX_TRF_KEYED ? " (keyed)" : "");
		break;
	case VX_TR_STATE:
		snprintf(out, cap, "session state so far: ");
		pos = strlen(out);
		vx_sb_text(out, cap, &pos, it->state, strlen(it->state));
		break;
	default:
		if (kind != NULL)
			snprintf(out, cap, "%s record", kind);
		else
			snprintf(out, cap, "kind %u record (a later vfuctl's)",
			    rec->kind);
	}
}

static void
print_finding(const struct dissect *ds, const struct vx_finding *f)
{
	int s = f->severity > 2 ? 2 : f->severity;

	printf("      %s[%s] %s: %s%s\n", ds->color ? sev_color[s] : "",
	    sev_name[s], vx_finding_text(f->code), f->text,
	    ds->color ? "\033[0m" : "");
}

static int
emit_jsonl(struct dissect *ds, const struct vx_trace_rec *rec)
{
	size_t n = vx_trace_rec_json(rec, ds->jbuf, ds->jcap);

	if (n >= ds->jcap) {
		free(ds->jbuf);
		ds->jcap = n + 1;
		if ((ds->jbuf = malloc(ds->jcap)) == NULL)
			vx_fatal("out of memory");
		vx_trace_rec_json(rec, ds->jbuf, ds->jcap);
	}
	fputs(ds->jbuf, stdout);
	fputc('\n', stdout);
	return 0;
}

/* Findings as the "vfio_user.findings" array of o, when there are any. */
static void
add_findings_json(json_t *o, const struct vx_finding *f, unsigned n)
{
	json_t *arr;
	unsigned i;

	if (n == 0)
		return;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}",
		    "finding", vx_finding_key(f[i].code),
		    "severity", sev_name[f[i].severity > 2 ? 2 : f[i].severity],
		    "text", vx_finding_text(f[i].code), "detail", f[i].text));
	json_object_set_new(o, "vfio_user.findings", arr);
}

static void
emit_json(const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	json_t *o = vx_msg_json(it->msg);

	json_object_set_new(o, "vfio_user.frame", json_integer((json_int_t)rec->frame));
	json_object_set_new(o, "vfio_user.conn", json_integer(rec->conn));
	json_object_set_new(o, "vfio_user.time_ns", json_integer((json_int_t)rec->ts_ns));
	if (it->res->paired) {
		json_object_set_new(o, "vfio_user.request_frame",
		    json_integer((json_int_t)it->res->req_frame));
		json_object_set_new(o, "vfio_user.latency_ns", json_integer(
		    (json_int_t)(rec->ts_ns - it->res->req_ts_ns)));
	}
	add_findings_json(o, it->res->findings, it->res->nfindings);
	vx_json_print(stdout, o, JSON_COMPACT);
	json_decref(o);
}

/* An event in the decoded form: the same vfio_user.* keys as messages. */
static void
emit_event_json(const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const char *kind = vx_trace_kind_name(rec->kind);
	char text[512];
	json_t *o;

	event_text(it, text, sizeof(text));
	o = json_pack("{s:I,s:I,s:I,s:s,s:s}",
	    "vfio_user.frame", (json_int_t)rec->frame,
	    "vfio_user.conn", (json_int_t)rec->conn,
	    "vfio_user.time_ns", (json_int_t)rec->ts_ns,
	    "vfio_user.event", kind ? kind : "unknown",
	    "vfio_user.summary", text);
	/* a CLOSE carries the commands its connection left unanswered */
	add_findings_json(o, it->unanswered, it->nunanswered);
	vx_json_print(stdout, o, JSON_COMPACT);
	json_decref(o);
}

static void
emit_text(struct dissect *ds, const struct vx_walk_item *it)
{
	const struct vx_trace_rec *rec = it->rec;
	const struct vx_msg *m = it->msg;
	char t[40], sum[1024], lat[32];
	unsigned i;

	fmt_time(ds, rec->ts_ns, t, sizeof(t));
	if (m == NULL) {
		event_text(it, sum, sizeof(sum));
		printf("%6llu %s c%u      %s\n", (unsigned long long)rec->frame, t,
		    rec->conn, sum);
	} else {
		int bad = m->status != VX_MSG_OK;

		char line[1400];
		size_t pos = 0, w;

		/* built by hand, not printf: the hot loop of dissect */
		vx_summary(m, sum, sizeof(sum));
		line[0] = '\0';
		vx_sb_u64(line, sizeof(line), &pos, rec->frame);
		for (w = pos; w < 6; w++)
			putchar(' ');
		vx_sb_str(line, sizeof(line), &pos, " ");
		vx_sb_str(line, sizeof(line), &pos, t);
		vx_sb_str(line, sizeof(line), &pos, " c");
		vx_sb_u64(line, sizeof(line), &pos, rec->conn);
		vx_sb_str(line, sizeof(line), &pos, rec->dir == VX_S2C ?
		    " C<-S" : " C->S");
		if (rec->chan == VX_CHAN_TWIN)
			vx_sb_str(line, sizeof(line), &pos, " twin");
		vx_sb_str(line, sizeof(line), &pos, " ");
		vx_sb_hex(line, sizeof(line), &pos, m->id, 4);
		vx_sb_str(line, sizeof(line), &pos, ds->color && bad ?
		    " \033[31m" : " ");
		vx_sb_str(line, sizeof(line), &pos, sum);
		if (ds->color && bad)
			vx_sb_str(line, sizeof(line), &pos, "\033[0m");
		if (it->res->paired) {
			fmt_latency(rec->ts_ns - it->res->req_ts_ns, lat, sizeof(lat));
			vx_sb_str(line, sizeof(line), &pos, " [#");
			vx_sb_u64(line, sizeof(line), &pos, it->res->req_frame);
			vx_sb_str(line, sizeof(line), &pos, ", ");
			vx_sb_str(line, sizeof(line), &pos, lat);
			vx_sb_str(line, sizeof(line), &pos, "]");
		}
		vx_sb_str(line, sizeof(line), &pos, "\n");
		fputs(line, stdout);
		if (rec->truncated)
			printf("      [snapped: %zu of %zu bytes]\n", rec->len,
			    rec->orig_len);
		if (ds->tree)
			vx_print_tree(stdout, m, "      ");
		if (ds->hex)
			vx_print_hex(stdout, m, "      ");
		for (i = 0; i < it->res->nfindings; i++)
			print_finding(ds, &it->res->findings[i]);
		/*
		 * The decoder's notes are expert info too (-V shows them);
		 * a kind that repeats on every message is said once per
		 * connection and counted at the end, unless --notes all.
		 */
		for (i = 0; !ds->tree && i < m->nnotes; i++)
			if (ds->all_notes ||
			    note_first(ds, rec->conn, m->notes[i].code))
				printf("      %s[note] %s%s\n",
				    ds->color ? sev_color[0] : "",
				    vx_note_text(m->notes[i].code),
				    ds->color ? "\033[0m" : "");
	}
	for (i = 0; i < it->nunanswered; i++)
		print_finding(ds, &it->unanswered[i]);
	ds->prev_ts = rec->ts_ns;
}

static void
emit_chrome(struct dissect *ds, const struct vx_walk_item *it)
{
	char sum[1024];

	if (it->msg != NULL)
		vx_summary(it->msg, sum, sizeof(sum));
	else
		event_text(it, sum, sizeof(sum));
	chrome_item(ds->chrome, it, sum);
}

/* -w: the record, after a STATE record if the output needs one. */
static int
write_rec(struct dissect *ds, const struct vx_trace_rec *rec)
{
	if (tstate_sync(ds->ts, ds->out, rec) < 0 ||
	    vx_trace_write_event(ds->out, rec) < 0)
		return -1;
	return tstate_written(ds->ts, rec);
}

static int
show(struct dissect *ds, const struct vx_walk_item *it)
{
	const struct vx_msg *m = it->msg;
	unsigned i;

	if (it->rec == NULL) {	/* end of trace: commands never answered */
		if (ds->chrome != NULL)
			chrome_item(ds->chrome, it, "");
		for (i = 0; i < it->nunanswered; i++) {
			ds->sev[it->unanswered[i].severity > 2 ? 2 :
			    it->unanswered[i].severity]++;
			if (ds->fmt == OUT_TEXT && !ds->filtering)
				print_finding(ds, &it->unanswered[i]);
		}
		return 0;
	}
	ds->records++;
	if (!ds->have_first) {	/* times are relative to the trace's start */
		ds->first_ts = ds->prev_ts = it->rec->ts_ns;
		ds->have_first = 1;
	}
	if (m != NULL) {
		ds->messages++;
		ds->malformed += m->status == VX_MSG_MALFORMED;
		ds->unknown += m->status == VX_MSG_UNKNOWN;
		for (i = 0; i < it->res->nfindings; i++)
			ds->sev[it->res->findings[i].severity > 2 ? 2 :
			    it->res->findings[i].severity]++;
		ds->sev[VX_SEV_NOTE] += m->nnotes;
		if (!vx_filter_match_item(ds->filter, it, &ds->fclock))
			return 0;
	} else {
		for (i = 0; i < it->nunanswered; i++)
			ds->sev[it->unanswered[i].severity > 2 ? 2 :
			    it->unanswered[i].severity]++;
		if (!vx_filter_match_item(ds->filter, it, &ds->fclock))
			return 0;
	}
	if (ds->out != NULL && it->rec->kind != VX_TR_DIGEST &&
	    write_rec(ds, it->rec) < 0)
		ds->write_err = 1;
	if (ds->fmt == OUT_JSONL)
		emit_jsonl(ds, it->rec);
	else if (ds->fmt == OUT_CHROME)
		emit_chrome(ds, it);
	else if (ds->fmt == OUT_JSON && m != NULL)
		emit_json(it);
	else if (ds->fmt == OUT_JSON)
		emit_event_json(it);
	else
		emit_text(ds, it);
	if (++ds->shown == ds->limit)
		return -1;
	return 0;
}

static int
on_record(struct dissect *ds, const struct vx_walk_item *it)
{
	int r = show(ds, it);

	if (ds->ts != NULL && it->rec != NULL && tstate_seen(ds->ts,
	    it->rec) < 0)
		ds->write_err = 1;
	return r;
}

/* Set by SIGINT/SIGTERM during --follow: end at the next record. */
static volatile sig_atomic_t stop_following;

static void
on_signal(int sig)
{
	(void)sig;
	stop_following = 1;
}

static void
nap(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * Show the trace's items until its end, the -c limit or (following) a
 * signal.  Returns 0, or a VX_ERR_* code with the reason in err.
 */
static int
walk(struct dissect *ds, const char *path, const struct vx_walk_opts *wo,
    char *err, size_t errlen, int *opened)
{
	struct vx_walk *w;
	struct vx_walk_item it;
	int r = vx_walk_open(path, wo, &w);

	/* a trace that cannot be opened gets its error and nothing else */
	*opened = r >= 0;
	if (r >= 0 && ds->fmt == OUT_CHROME)
		ds->chrome = chrome_open(stdout);

	while (r >= 0) {
		if (stop_following)
			vx_walk_end(w);
		r = vx_walk_next(w, &it);
		if (r == VX_ERR_AGAIN) {	/* following: wait for more */
			fflush(stdout);
			nap();
			r = 0;
			continue;
		}
		if (r <= 0 || on_record(ds, &it) < 0)
			break;
		/* following is watching: each record as it comes */
		if (wo->flags & VX_WALK_FOLLOW)
			fflush(stdout);
	}
	snprintf(err, errlen, "%s", vx_walk_error(w));
	vx_walk_close(w);
	return r < 0 ? r : 0;
}

int
cmd_dissect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'Y' },
		{ "cmd", required_argument, NULL, 'C' },
		{ "conn", required_argument, NULL, 'N' },
		{ "dir", required_argument, NULL, 'D' },
		{ "errors", no_argument, NULL, 'E' },
		{ "strict", no_argument, NULL, 'S' },
		{ "follow", no_argument, NULL, 'F' },
		{ "peer", required_argument, NULL, 'P' },
		{ "color", required_argument, NULL, 'L' },
		{ "notes", required_argument, NULL, 'O' },
		{ "colour", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct dissect ds;
	struct vx_filter_opts fo;
	struct vx_walk_opts wo = { 0, VX_PEER_AUTO };
	const char *path;
	const char *color = "auto", *wpath = NULL;
	char err[1024];
	uint64_t v;
	int c, r, opened;

	memset(&ds, 0, sizeof(ds));
	memset(&fo, 0, sizeof(fo));
	ds.timefmt = 'r';
	optind = 1;
	while ((c = getopt_long(argc, argv, "Vxo:t:c:Y:w:lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			ds.tree = 1;
			break;
		case 'x':
			ds.hex = 1;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				ds.fmt = OUT_JSON;
			else if (strcmp(optarg, "jsonl") == 0)
				ds.fmt = OUT_JSONL;
			else if (strcmp(optarg, "chrome") == 0)
				ds.fmt = OUT_CHROME;
			else if (strcmp(optarg, "text") != 0)
				vx_invarg("dissect", "output format", optarg);
			break;
		case 't':
			if (strcmp(optarg, "r") && strcmp(optarg, "a") &&
			    strcmp(optarg, "d"))
				vx_invarg("dissect", "time format", optarg);
			ds.timefmt = optarg[0];
			break;
		case 'c':
			if (vx_parse_u64(optarg, &v) < 0 || v == 0)
				vx_invarg("dissect", "count", optarg);
			ds.limit = v;
			break;
		case 'Y':
			fo.expr = optarg;
			break;
		case 'C':
			fo.cmd = optarg;
			break;
		case 'N':
			if (vx_parse_u64(optarg, &fo.conn) < 0)
				vx_invarg("dissect", "connection", optarg);
			fo.conn_set = 1;
			break;
		case 'D':
			fo.dir = optarg;
			break;
		case 'E':
			fo.errors = 1;
			break;
		case 'S':
			ds.strict = 1;
			break;
		case 'w':
			wpath = optarg;
			break;
		case 'F':
			wo.flags |= VX_WALK_FOLLOW;
			break;
		case 'l':
			setvbuf(stdout, NULL, _IOLBF, 0);
			break;
		case 'O':
			if (strcmp(optarg, "all") == 0)
				ds.all_notes = 1;
			else if (strcmp(optarg, "once") != 0)
				vx_invarg("dissect", "--notes", optarg);
			break;
		case 'P':
			if (vx_tok_value(vx_names_peer, optarg, &v) < 0)
				vx_invarg("dissect", "peer", optarg);
			wo.peer = (int)v;
			break;
		case 'L':
			color = optarg;
			if (strcmp(color, "auto") && strcmp(color, "always") &&
			    strcmp(color, "never"))
				vx_invarg("dissect", "color", optarg);
			break;
		case 'h':
			fputs(cmd_dissect_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("dissect", "unknown option");
		}
	}
	if (argc - optind != 1)
		vx_usage_error("dissect", argc == optind ? "missing trace FILE (or - for standard input)" :
		    "too many operands: give one trace FILE");
	path = argv[optind];
	ds.filtering = fo.expr || fo.cmd || fo.dir || fo.conn_set || fo.errors;
	if (ds.filtering &&
	    vx_filter_compile_opts(&fo, err, sizeof(err), &ds.filter) < 0) {
		fprintf(stderr, "vfuctl dissect: invalid filter:\n%s\n", err);
		return VX_EXIT_USAGE;
	}
	ds.color = strcmp(color, "always") == 0 ||
	    (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL);
	if (ds.fmt != OUT_TEXT)
		ds.color = 0;
	if (wpath != NULL && vx_trace_writer_open(wpath, NULL, &ds.out) < 0) {
		vx_filter_free(ds.filter);
		vx_error("cannot write trace '%s': %s", wpath,
		    vx_create_strerror(errno));
		return VX_EXIT_USAGE;
	}
	if (ds.out != NULL && (ds.ts = tstate_new(wo.peer, 1)) == NULL)
		vx_fatal("out of memory");
	if (wo.flags & VX_WALK_FOLLOW) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	ds.jcap = 1 << 16;
	if ((ds.jbuf = malloc(ds.jcap)) == NULL)
		vx_fatal("out of memory");
	r = walk(&ds, path, &wo, err, sizeof(err), &opened);
	if (ds.chrome != NULL)
		chrome_close(ds.chrome);
	if (ds.fmt == OUT_TEXT && opened)
		print_note_summary(&ds);
	if (ds.fmt == OUT_TEXT && opened)
		printf("-- %llu records, %llu messages (%llu malformed, %llu unknown), %llu shown; findings: %llu errors, %llu warnings, %llu notes\n",
		    (unsigned long long)ds.records, (unsigned long long)ds.messages,
		    (unsigned long long)ds.malformed, (unsigned long long)ds.unknown,
		    (unsigned long long)ds.shown, (unsigned long long)ds.sev[2],
		    (unsigned long long)ds.sev[1], (unsigned long long)ds.sev[0]);
	fflush(stdout);
	if (ds.out != NULL && (vx_trace_writer_close(ds.out) < 0 || ds.write_err)) {
		vx_error("writing trace '%s' failed: %s", wpath, strerror(errno));
		r = r ? r : VX_ERR_IO;
	}
	tstate_free(ds.ts);
	vx_filter_free(ds.filter);
	free(ds.jbuf);
	free(ds.notes);
	if (r < 0) {
		fprintf(stderr, "vfuctl dissect: %s: %s\n", path, err);
		return VX_EXIT_USAGE;
	}
	if (ds.strict && (ds.sev[2] || ds.malformed || ds.unknown))
		return VX_EXIT_FAIL;
	return VX_EXIT_OK;
}
