/*
 * cmd-replay.c - vfuctl replay: play the client side of a trace against a
 * live server (lib/replay.c does it) and report where the server departs
 * from the recording.  Here: options, starting and stopping the server,
 * and printing (text, JSON, JUnit).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "spawn.h"
#include "vx-conn.h"
#include "vx-error.h"
#include "vx-replay.h"
#include "vx-sock.h"
#include "vx-trace.h"

const char cmd_replay_usage[] =
	"usage: vfuctl replay [options] TRACE --connect SOCKET\n"
	"       vfuctl replay [options] TRACE -- SERVER-CMD [ARG...]\n"
	"\n"
	"Play the client side of every connection in TRACE against a live\n"
	"server: the recorded commands in the recorded order, each live reply\n"
	"compared field by field with the recorded one.  Stops at the first\n"
	"divergence (frame, command, field, both values, the messages before).\n"
	"\n"
	"  --connect SOCKET     the server listening on SOCKET; repeated, one\n"
	"                       per recorder endpoint, in order (a migration's\n"
	"                       source, then its destination)\n"
	"  -- SERVER-CMD...     start the server: {socket} in its arguments is\n"
	"                       a socket path in a private directory, else\n"
	"                       --socket-path PATH is appended; a fresh one\n"
	"                       for each recorded session, and one for each\n"
	"                       endpoint the trace's connections came through\n"
	"  --spawn-once         one server (per endpoint) for the whole trace\n"
	"  -k, --keep-going     report every divergence, not only the first\n"
	"  -t, --timeout MS     wait this long for a reply or an interrupt\n"
	"                       (default 5000), and for the server's socket\n"
	"                       (at least 10000)\n"
	"  --ignore RULE        ignore a field: a schema key, optionally with\n"
	"                       cmd=CMD region=REGION offset=N[-M] KEY=N\n"
	"                       (repeatable)\n"
	"  --rules FILE         ignore and shift rules, one a line\n"
	"  --shift RULE         move a time value in the commands the rule\n"
	"                       selects by the time elapsed since the\n"
	"                       recording: FIELD [cmd=CMD region=REGION\n"
	"                       offset=N FIELD=N] unit=s|ms|us|ns [width=W\n"
	"                       at=N plus=P] (repeatable)\n"
	"  --no-mig-forward     send MIG_DATA_WRITE data as recorded, not the\n"
	"                       live data of the MIG_DATA_READ it repeats\n"
	"  --whole              send each message in a write of its own, also\n"
	"                       those vfuctl fuzz sent in two or joined with\n"
	"                       the next (its annotations)\n"
	"  --digest             print the BLAKE2b digest of the live replies\n"
	"  --expect-digest HEX  a divergence unless the digest is HEX\n"
	"  -o, --output FMT     text (default) or json\n"
	"  --junit FILE         a JUnit XML report: a test case per connection\n"
	"  --update -w NEW      write NEW: TRACE with the live replies in place\n"
	"                       of the recorded ones\n"
	"  --peer PEER          auto, spec, libvfio-user or qemu: the wire forms\n"
	"                       to decode (default auto)\n"
	"  --check-dma          a DMA window whose contents at unmap or close\n"
	"                       differ from the trace's --hash-dma hash is a\n"
	"                       divergence (default: a note)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 identical; 1 a divergence, a digest mismatch or a\n"
	"server failure (exit, signal, sanitizer report); 2 usage or input\n"
	"error (an unreadable trace, one that starts mid-session).\n";

#define DEFAULT_TIMEOUT_MS	5000
/* A server may start slowly (a sanitizer, valgrind): at least this long
 * for its socket, whatever --timeout says. */
#define MIN_START_MS		10000

/* A progress line is on the terminal: cleared before anything else. */
static int progress_shown;

static void
clear_progress(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = 0;
}
#define MAX_STORED_DIVS		1000	/* kept for JSON and JUnit */

/*
 * Endpoints replayed: a recorder with several --listen/--connect pairs
 * (a migration's source and destination) records which one each
 * connection came through, and each gets a server of its own.
 */
#define MAX_ENDPOINTS		8
/* Connections whose endpoint is remembered (the replay's most at once). */
#define EP_RING			64

/* How the servers we started fared, every endpoint's together. */
struct tally {
	int started, failed;	/* servers started; abnormal ends seen */
	char last_status[96];	/* how the last one ended */
};

/* A server we started. */
struct server {
	struct spawn sp;
	int stopping;		/* we sent SIGTERM */
	struct tally *t;
};

struct opts {
	const char *trace, *junit, *update_path, *expect;
	const char *connect[MAX_ENDPOINTS];	/* --connect, by endpoint */
	unsigned nconnect;
	int timeout_ms, json, digest, spawn_once, keep_going, update, peer;
	int check_dma, mig_recorded, whole;
	char **server_cmd;
};

struct report {
	const struct opts *o;
	struct server *srv;	/* by endpoint; NULL with --connect */
	unsigned nsrv;		/* set up */
	struct tally tally;
	struct { uint32_t conn, ep; } eps[EP_RING];	/* recent connections */
	unsigned neps;
	json_t *divs;		/* every divergence as JSON (JSON, JUnit) */
	json_t *cases;		/* JUnit: one object per connection */
	unsigned ndiv;
};

/* --- the server -------------------------------------------------------- */

/* The server ended: its status in the tally, a failure unless it is what
 * we asked for. */
static void
note_end(struct server *s)
{
	int st = s->sp.status;

	spawn_status_text(st, s->t->last_status, sizeof(s->t->last_status));
	/* what we asked for is no failure */
	if (!(s->stopping && ((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	    (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM))) &&
	    !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		s->t->failed++;
}

/* Wait up to ms for the server to end: 1 (and noted) if it did. */
static int
reap(struct server *s, int ms)
{
	if (!spawn_reap(&s->sp, ms))
		return 0;
	note_end(s);
	return 1;
}

/* The lines of the server's stderr that are a sanitizer's report. */
static int
sanitizer_report(const struct server *s)
{
	FILE *fp = fopen(s->sp.errlog, "r");
	char line[512];
	int in = 0, found = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (spawn_sanitizer_line(line)) {
			if (!found)
				fprintf(stderr, "vfuctl replay: the server's "
				    "stderr has a sanitizer report:\n");
			in = found = 1;
		}
		if (in)
			fprintf(stderr, "  %s", line);
	}
	fclose(fp);
	return found;
}

static void
stop_server(struct server *s, int timeout_ms)
{
	if (s->sp.pid <= 0)
		return;
	s->stopping = 1;
	spawn_stop(&s->sp, timeout_ms);	/* SIGTERM, then SIGKILL */
	if (s->sp.pid <= 0)
		note_end(s);
	s->stopping = 0;
	if (sanitizer_report(s))
		s->t->failed++;
}

/* Start SERVER-CMD; 0, or -1 with why (a command that cannot run exits 2
 * here). */
static int
start_server(struct server *s, int timeout_ms, char *why, size_t whycap)
{
	int r = spawn_start(&s->sp, timeout_ms, why, whycap);

	if (r == VX_ERR_NOENT) {
		vx_error("%s", why);
		exit(VX_EXIT_USAGE);
	}
	if (r == 0 || s->sp.status != -1)
		s->t->started++;
	if (r < 0 && s->sp.status != -1)
		note_end(s);	/* it ended before its socket, or was killed */
	return r < 0 ? -1 : 0;
}

/*
 * Connect, the server being refused connections until it listen()s
 * after bind(): tried again every 10 ms while it runs, up to the timeout.
 */
static int
connect_server(struct server *s, int timeout_ms, char *why, size_t whycap)
{
	int64_t deadline = vx_conn_now_ms(NULL) + timeout_ms;
	int fd;

	for (;;) {
		fd = vx_sock_connect(s->sp.sock, timeout_ms);
		if (fd >= 0 || errno != ECONNREFUSED ||
		    vx_conn_now_ms(NULL) >= deadline || reap(s, 10))
			break;
	}
	if (fd < 0)
		snprintf(why, whycap, "cannot connect to '%s': %s%s%s",
		    s->sp.sock, fd == VX_ERR_IO ? strerror(errno) :
		    vx_strerror(fd), s->sp.pid ? "" : "; the server ",
		    s->sp.pid ? "" : s->t->last_status);
	return fd;
}

/* --- hooks ---------------------------------------------------------------- */

static int setup_server(struct report *rp, unsigned ep);

/* --connect's socket for endpoint ep. */
static int
connect_given(struct report *rp, uint32_t conn, uint32_t ep, char *why,
    size_t whycap)
{
	const char *path;
	int fd;

	if (ep >= rp->o->nconnect) {
		snprintf(why, whycap, "connection %u came through endpoint %u "
		    "of the recorder (a migration's destination, say): give "
		    "a --connect SOCKET for each endpoint, in order (%u "
		    "given)", conn, ep, rp->o->nconnect);
		return VX_ERR_INVALID;
	}
	path = rp->o->connect[ep];
	fd = vx_sock_connect(path, rp->o->timeout_ms);
	if (fd < 0)
		snprintf(why, whycap, "cannot connect to '%s': %s", path,
		    fd == VX_ERR_IO ? strerror(errno) : vx_strerror(fd));
	return fd;
}

static int
on_connect(void *arg, uint32_t conn, uint32_t ep, unsigned open, char *why,
    size_t whycap)
{
	struct report *rp = arg;
	struct server *s;
	unsigned i;
	int start_ms;

	rp->eps[rp->neps % EP_RING].conn = conn;
	rp->eps[rp->neps++ % EP_RING].ep = ep;
	if (rp->srv == NULL)
		return connect_given(rp, conn, ep, why, whycap);
	if (ep >= MAX_ENDPOINTS) {
		snprintf(why, whycap, "connection %u came through endpoint "
		    "%u; a replay starts servers for endpoints 0 to %d", conn,
		    ep, MAX_ENDPOINTS - 1);
		return VX_ERR_UNSUPPORTED;
	}
	/* a new session gets fresh servers, unless --spawn-once */
	for (i = 0; open == 0 && !rp->o->spawn_once && i < rp->nsrv; i++)
		stop_server(&rp->srv[i], rp->o->timeout_ms);
	for (; rp->nsrv <= ep; rp->nsrv++)
		if (setup_server(rp, rp->nsrv) < 0) {
			snprintf(why, whycap, "cannot set up a server for "
			    "endpoint %u", ep);
			return VX_ERR_IO;
		}
	s = &rp->srv[ep];
	start_ms = rp->o->timeout_ms > MIN_START_MS ? rp->o->timeout_ms :
	    MIN_START_MS;
	if (s->sp.pid <= 0 && start_server(s, start_ms, why, whycap) < 0)
		return VX_ERR_IO;
	return connect_server(s, start_ms, why, whycap);
}

static const char *const div_kinds[] = {
	"", "field", "closed", "timeout", "irq", "connect", "send", "dma"
};

static const char *
kind_name(int kind)
{
	return kind > 0 && kind <= VX_RDIV_DMA ? div_kinds[kind] : "?";
}

/* A server that closed the connection may be dying: say how it ended. */
static void
server_fate(struct report *rp, const struct vx_replay_div *d, char *out,
    size_t cap)
{
	struct server *s = NULL;
	unsigned i;

	out[0] = '\0';
	if (rp->srv == NULL || (d->kind != VX_RDIV_CLOSED &&
	    d->kind != VX_RDIV_TIMEOUT))
		return;
	for (i = rp->neps; i > 0 && i + EP_RING > rp->neps; i--)
		if (rp->eps[(i - 1) % EP_RING].conn == d->conn) {
			s = &rp->srv[rp->eps[(i - 1) % EP_RING].ep];
			break;
		}
	if (s == NULL || (s->sp.pid > 0 && !reap(s, d->kind == VX_RDIV_CLOSED ?
	    rp->o->timeout_ms : 0)))
		return;
	snprintf(out, cap, "server %s", s->t->last_status);
}

/*
 * "frame 24 (connection 1, REGION_READ reply to frame 23)", the file
 * named when it is another of a rotated trace's.
 */
static void
where(const struct vx_replay_div *d, const char *trace, char *out,
    size_t cap)
{
	const char *n = vx_cmd_name(d->cmd);
	char file[300] = "";

	if (d->trace != NULL && strcmp(d->trace, trace) != 0)
		snprintf(file, sizeof(file), " of %s", d->trace);
	if (d->kind == VX_RDIV_FIELD)
		snprintf(out, cap, "frame %llu%s (connection %u, %s reply to "
		    "frame %llu)", (unsigned long long)d->frame, file, d->conn,
		    n ? n : "?", (unsigned long long)d->req_frame);
	else if (d->cmd != 0 || d->kind == VX_RDIV_CLOSED)
		snprintf(out, cap, "frame %llu%s (connection %u, %s)",
		    (unsigned long long)d->frame, file, d->conn, n ? n : "?");
	else
		snprintf(out, cap, "frame %llu%s (connection %u)",
		    (unsigned long long)d->frame, file, d->conn);
}

/* One line: where, then the first difference or what happened. */
static void
headline(const struct vx_replay_div *d, const char *trace, const char *fate,
    char *out, size_t cap)
{
	char w[400];

	where(d, trace, w, sizeof(w));
	if (d->kind == VX_RDIV_FIELD)
		snprintf(out, cap, "%s: %s: recorded %s, live %s", w,
		    vx_diff_key(&d->diffs[0]), d->diffs[0].rec,
		    d->diffs[0].live);
	else
		snprintf(out, cap, "%s: %s%s%s", w, d->text, fate[0] ? "; " :
		    "", fate);
}

static void
print_div_text(const struct vx_replay_div *d, const char *line, unsigned nth)
{
	unsigned i;

	printf("divergence %u: %s", nth, line);
	if (d->kind == VX_RDIV_FIELD && d->diffs[0].rec_off >= 0)
		printf(" (byte %lld)", (long long)d->diffs[0].rec_off);
	putchar('\n');
	for (i = 1; d->kind == VX_RDIV_FIELD && i < d->ndiffs &&
	    i < VX_REPLAY_MAX_DIFFS; i++)
		printf("  and %s: recorded %s, live %s\n",
		    vx_diff_key(&d->diffs[i]), d->diffs[i].rec,
		    d->diffs[i].live);
	if (d->ndiffs > VX_REPLAY_MAX_DIFFS)
		printf("  and %u more differences\n",
		    d->ndiffs - VX_REPLAY_MAX_DIFFS);
	if (d->rec_summary[0])
		printf("  recorded: %s\n  live:     %s\n", d->rec_summary,
		    d->live_summary);
	if (d->nctx)
		printf("  before it:\n");
	for (i = 0; i < d->nctx; i++)
		printf("  %6llu %s %s\n", (unsigned long long)d->ctx[i].frame,
		    d->ctx[i].dir == VX_S2C ? "C<-S" : "C->S",
		    d->ctx[i].summary);
}

static json_t *
div_json(const struct vx_replay_div *d, const char *line, const char *fate)
{
	json_t *o, *arr = json_array(), *ctx = json_array();
	unsigned i;

	for (i = 0; d->kind == VX_RDIV_FIELD && i < d->ndiffs &&
	    i < VX_REPLAY_MAX_DIFFS; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:I}",
		    "field", vx_diff_key(&d->diffs[i]),
		    "recorded", d->diffs[i].rec, "live", d->diffs[i].live,
		    "recorded_offset", (json_int_t)d->diffs[i].rec_off,
		    "live_offset", (json_int_t)d->diffs[i].live_off));
	for (i = 0; i < d->nctx; i++)
		json_array_append_new(ctx, json_pack("{s:I,s:s,s:s}",
		    "frame", (json_int_t)d->ctx[i].frame,
		    "dir", d->ctx[i].dir == VX_S2C ? "s2c" : "c2s",
		    "summary", d->ctx[i].summary));
	o = json_pack("{s:s,s:I,s:I,s:I,s:s?,s:s,s:s,s:I,s:o,s:o}",
	    "kind", kind_name(d->kind), "frame", (json_int_t)d->frame,
	    "request_frame", (json_int_t)d->req_frame,
	    "conn", (json_int_t)d->conn, "cmd", vx_cmd_name(d->cmd),
	    "text", d->text, "line", line, "differences_total",
	    (json_int_t)d->ndiffs, "differences", arr, "context", ctx);
	if (d->rec_summary[0]) {
		json_object_set_new(o, "recorded", json_string(d->rec_summary));
		json_object_set_new(o, "live", json_string(d->live_summary));
	}
	if (fate[0])
		json_object_set_new(o, "server", json_string(fate));
	return o;
}

static void
on_divergence(void *arg, const struct vx_replay_div *d)
{
	struct report *rp = arg;
	char fate[128], line[1024];

	clear_progress();
	server_fate(rp, d, fate, sizeof(fate));
	headline(d, rp->o->trace, fate, line, sizeof(line));
	rp->ndiv++;
	if (!rp->o->json)
		print_div_text(d, line, rp->ndiv);
	if (rp->ndiv <= MAX_STORED_DIVS && (rp->o->json || rp->o->junit))
		json_array_append_new(rp->divs, div_json(d, line, fate));
	fflush(stdout);
}

static void
on_conn_done(void *arg, const struct vx_replay_conn_summary *s)
{
	struct report *rp = arg;

	json_array_append_new(rp->cases, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
	    "conn", (json_int_t)s->conn, "first_frame",
	    (json_int_t)s->first_frame, "messages", (json_int_t)s->messages,
	    "replies", (json_int_t)s->replies, "divergences",
	    (json_int_t)s->divergences, "ms", (json_int_t)s->ms));
}

/* --- JUnit --------------------------------------------------------------- */

static void
xml_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", fp);
		else if (c == '>')
			fputs("&gt;", fp);
		else if (c == '&')
			fputs("&amp;", fp);
		else if (c == '"')
			fputs("&quot;", fp);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fprintf(fp, "&#x%x;", 0xfffd);	/* not allowed in XML */
		else
			fputc(c, fp);
	}
}

/* The failures of connection conn. */
static unsigned
write_failures(FILE *fp, json_t *divs, json_int_t conn)
{
	unsigned n = 0;
	size_t i, k;
	json_t *d, *c;

	json_array_foreach(divs, i, d) {
		if (json_integer_value(json_object_get(d, "conn")) != conn)
			continue;
		n++;
		fputs("      <failure type=\"", fp);
		xml_text(fp, json_string_value(json_object_get(d, "kind")));
		fputs("\" message=\"", fp);
		xml_text(fp, json_string_value(json_object_get(d, "line")));
		fputs("\">", fp);
		xml_text(fp, json_string_value(json_object_get(d, "line")));
		json_array_foreach(json_object_get(d, "context"), k, c) {
			fprintf(fp, "\n  before: %lld %s ", (long long)
			    json_integer_value(json_object_get(c, "frame")),
			    strcmp(json_string_value(json_object_get(c, "dir")),
			    "s2c") == 0 ? "C&lt;-S" : "C-&gt;S");
			xml_text(fp, json_string_value(json_object_get(c,
			    "summary")));
		}
		fputs("</failure>\n", fp);
	}
	return n;
}

static int
write_junit(const struct report *rp, const char *digest_fail)
{
	FILE *fp = fopen(rp->o->junit, "w");
	const char *base = strrchr(rp->o->trace, '/');
	size_t i, ncases = json_array_size(rp->cases);
	json_t *c;

	if (fp == NULL)
		return vx_error("cannot write '%s': %s", rp->o->junit,
		    strerror(errno));
	base = base ? base + 1 : rp->o->trace;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
	fprintf(fp, "<testsuites>\n  <testsuite name=\"vfuctl replay ");
	xml_text(fp, base);
	fprintf(fp, "\" tests=\"%zu\" failures=\"%u\">\n", ncases +
	    (rp->o->expect != NULL), rp->ndiv + (digest_fail != NULL));
	json_array_foreach(rp->cases, i, c) {
		json_int_t conn = json_integer_value(json_object_get(c, "conn"));

		fprintf(fp, "    <testcase classname=\"replay.");
		xml_text(fp, base);
		fprintf(fp, "\" name=\"connection %lld (frame %lld on)\" "
		    "time=\"%.3f\">\n", (long long)conn, (long long)
		    json_integer_value(json_object_get(c, "first_frame")),
		    (double)json_integer_value(json_object_get(c, "ms")) /
		    1000.0);
		write_failures(fp, rp->divs, conn);
		fputs("    </testcase>\n", fp);
	}
	if (rp->o->expect != NULL) {
		fputs("    <testcase classname=\"replay.", fp);
		xml_text(fp, base);
		fputs("\" name=\"digest\">\n", fp);
		if (digest_fail != NULL) {
			fputs("      <failure type=\"digest\" message=\"", fp);
			xml_text(fp, digest_fail);
			fputs("\"/>\n", fp);
		}
		fputs("    </testcase>\n", fp);
	}
	fputs("  </testsuite>\n</testsuites>\n", fp);
	if (fclose(fp) != 0)
		return vx_error("cannot write '%s': %s", rp->o->junit,
		    strerror(errno));
	return 0;
}

/* --- options and the run ------------------------------------------------- */

static void
add_rule(struct vx_diff_rules *rules, const char *line)
{
	char why[256];

	if (vx_diff_rules_add(rules, line, why, sizeof(why)) < 0)
		vx_usage_error("replay", "invalid --ignore rule: %s", why);
}

static void
add_shift(struct vx_diff_rules *rules, const char *arg)
{
	char line[600], why[256];

	snprintf(line, sizeof(line), "shift %s", arg);
	if (strlen(arg) > 500 ||
	    vx_diff_rules_add(rules, line, why, sizeof(why)) < 0)
		vx_usage_error("replay", "invalid --shift rule: %s",
		    strlen(arg) > 500 ? "longer than 500 bytes" : why);
}

static void
load_rules(struct vx_diff_rules *rules, const char *path)
{
	char why[512];
	int err = vx_diff_rules_load(rules, path, why, sizeof(why));

	if (err == VX_ERR_IO) {
		vx_error("cannot read rules file: %s", why);
		exit(VX_EXIT_USAGE);
	}
	if (err < 0)
		vx_usage_error("replay", "invalid rules: %s", why);
}

static int
parse_timeout(const char *arg)
{
	uint64_t v;

	if (vx_parse_u64(arg, &v) < 0 || v == 0 || v > 3600000)
		vx_invarg("replay", "--timeout (milliseconds, 1 to 3600000)",
		    arg);
	return (int)v;
}

static int
parse_peer(const char *arg)
{
	uint64_t v;

	if (vx_tok_value(vx_names_peer, arg, &v) < 0)
		vx_invarg("replay", "--peer (auto, spec, libvfio-user, qemu)",
		    arg);
	return (int)v;
}

static void
check_digest_arg(const char *hex)
{
	size_t i;

	for (i = 0; hex[i] != '\0'; i++)
		if (!strchr("0123456789abcdefABCDEF", hex[i]))
			break;
	if (i != 2 * VX_DIGEST_LEN || hex[i] != '\0')
		vx_invarg("replay", "--expect-digest (64 hex digits)", hex);
}

static void
parse_opts(int argc, char **argv, struct opts *o, struct vx_diff_rules *rules)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'C' },
		{ "spawn-once", no_argument, NULL, 'S' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ignore", required_argument, NULL, 'I' },
		{ "rules", required_argument, NULL, 'R' },
		{ "shift", required_argument, NULL, 'T' },
		{ "no-mig-forward", no_argument, NULL, 'F' },
		{ "whole", no_argument, NULL, 'H' },
		{ "digest", no_argument, NULL, 'D' },
		{ "expect-digest", required_argument, NULL, 'E' },
		{ "output", required_argument, NULL, 'o' },
		{ "junit", required_argument, NULL, 'J' },
		{ "update", no_argument, NULL, 'U' },
		{ "peer", required_argument, NULL, 'P' },
		{ "check-dma", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, dashdash, operands;

	/* options go anywhere before "--" (GNU order); what follows it is
	 * the server's, untouched */
	for (dashdash = 1; dashdash < argc; dashdash++)
		if (strcmp(argv[dashdash], "--") == 0)
			break;
	optind = 1;
	while ((c = getopt_long(dashdash, argv, "kt:o:w:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'C':
			if (o->nconnect == MAX_ENDPOINTS)
				vx_usage_error("replay", "more than %d "
				    "--connect sockets", MAX_ENDPOINTS);
			o->connect[o->nconnect++] = optarg;
			break;
		case 'S':
			o->spawn_once = 1;
			break;
		case 'k':
			o->keep_going = 1;
			break;
		case 't':
			o->timeout_ms = parse_timeout(optarg);
			break;
		case 'I':
			add_rule(rules, optarg);
			break;
		case 'R':
			load_rules(rules, optarg);
			break;
		case 'T':
			add_shift(rules, optarg);
			break;
		case 'F':
			o->mig_recorded = 1;
			break;
		case 'H':
			o->whole = 1;
			break;
		case 'D':
			o->digest = 1;
			break;
		case 'E':
			check_digest_arg(optarg);
			o->expect = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0)
				vx_invarg("replay", "output format (text, "
				    "json)", optarg);
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'J':
			o->junit = optarg;
			break;
		case 'U':
			o->update = 1;
			break;
		case 'w':
			o->update_path = optarg;
			break;
		case 'P':
			o->peer = parse_peer(optarg);
			break;
		case 'M':
			o->check_dma = 1;
			break;
		case 'h':
			fputs(cmd_replay_usage, stdout);
			exit(VX_EXIT_OK);
		default:
			vx_usage_error("replay", "unknown option");
		}
	}
	operands = dashdash - optind;
	if (operands == 0)
		vx_missarg("replay", "trace file");
	if (operands > 1)
		vx_usage_error("replay", "unexpected '%s': give one TRACE, "
		    "and the server command after '--'", argv[optind + 1]);
	o->trace = argv[optind];
	if (dashdash + 1 == argc)
		vx_missarg("replay", "server command after '--'");
	if (dashdash < argc)
		o->server_cmd = argv + dashdash + 1;
	if ((o->nconnect > 0) == (o->server_cmd != NULL))
		vx_usage_error("replay", "give either --connect SOCKET or "
		    "-- SERVER-CMD");
	if (o->update != (o->update_path != NULL))
		vx_usage_error("replay", "--update and -w NEW go together");
	if (o->spawn_once && o->server_cmd == NULL)
		vx_usage_error("replay", "--spawn-once needs -- SERVER-CMD");
}

/* Endpoint ep's server: its private directory and command line. */
static int
setup_server(struct report *rp, unsigned ep)
{
	struct server *s = &rp->srv[ep];
	char why[256];

	memset(s, 0, sizeof(*s));
	s->t = &rp->tally;
	if (spawn_init(&s->sp, "replay", rp->o->server_cmd, why,
	    sizeof(why)) < 0)
		return vx_error("%s", why);
	return 0;
}

static void
teardown_server(struct server *s, int timeout_ms)
{
	stop_server(s, timeout_ms);
	spawn_free(&s->sp);
}

static void
print_summary(const struct opts *o, const struct vx_replay_stats *st,
    const char *digest, int64_t ms, const struct tally *srv)
{
	double rate = ms > 0 ? (double)st->messages * 1000.0 / (double)ms :
	    0.0;

	printf("replay: %llu session%s, %llu connection%s, %llu messages, "
	    "%llu replies compared, %llu interrupts, %llu divergence%s\n",
	    (unsigned long long)st->sessions, st->sessions == 1 ? "" : "s",
	    (unsigned long long)st->conns, st->conns == 1 ? "" : "s",
	    (unsigned long long)st->messages, (unsigned long long)st->replies,
	    (unsigned long long)st->irqs, (unsigned long long)st->divergences,
	    st->divergences == 1 ? "" : "s");
	if (st->mmap_notes || st->fd_dma)
		printf("note: not replayed: accesses through mmap-able "
		    "regions (%llu) and fd-backed DMA windows (%llu), which "
		    "do not cross the socket\n",
		    (unsigned long long)st->mmap_notes,
		    (unsigned long long)st->fd_dma);
	if (st->dma_hash_differs)
		printf("note: %llu of %llu DMA window hashes (--hash-dma) differ "
		    "live (first: frame %llu): memory written directly, by "
		    "the client or the server, is not on the socket\n",
		    (unsigned long long)st->dma_hash_differs,
		    (unsigned long long)st->dma_hashes,
		    (unsigned long long)st->first_dma_hash_differs);
	if (st->shifted)
		printf("note: shifted: %llu command%s with time values moved "
		    "by shift rules\n", (unsigned long long)st->shifted,
		    st->shifted == 1 ? "" : "s");
	if (st->mig_forwarded)
		printf("note: forwarded: %llu MIG_DATA_WRITE%s with the live "
		    "data of the MIG_DATA_READ recorded with the same\n",
		    (unsigned long long)st->mig_forwarded,
		    st->mig_forwarded == 1 ? "" : "s");
	if (st->split)
		printf("note: split: %llu message%s sent in two writes, as "
		    "vfuctl fuzz's annotations say %s went\n",
		    (unsigned long long)st->split, st->split == 1 ? "" : "s",
		    st->split == 1 ? "it" : "they");
	if (st->joined)
		printf("note: joined: %llu message%s sent in one write with "
		    "the next, as vfuctl fuzz's annotations say %s went\n",
		    (unsigned long long)st->joined, st->joined == 1 ? "" : "s",
		    st->joined == 1 ? "it" : "they");
	if (st->unsent)
		printf("note: not sent: %llu malformed command%s whose header "
		    "frames no message (first: frame %llu)\n",
		    (unsigned long long)st->unsent, st->unsent == 1 ? "" : "s",
		    (unsigned long long)st->first_unsent);
	if (srv != NULL)
		printf("server: %d started, %d failed%s%s\n", srv->started,
		    srv->failed, srv->last_status[0] ? "; the last " : "",
		    srv->last_status);
	if (o->digest)
		printf("digest %s\n", digest);
	/* time varies from run to run: kept off stdout */
	fprintf(stderr, "vfuctl replay: %.3f s, %.0f messages/s\n",
	    (double)ms / 1000.0, rate);
}

static void
print_json(const struct report *rp, const struct vx_replay_stats *st,
    const char *digest, int64_t ms, int digest_ok)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I,s:I,s:I,"
	    "s:O,s:O,s:I,s:f}", "trace", rp->o->trace,
	    "sessions", (json_int_t)st->sessions,
	    "connections", (json_int_t)st->conns,
	    "messages", (json_int_t)st->messages,
	    "commands", (json_int_t)st->commands,
	    "replies", (json_int_t)st->replies,
	    "interrupts", (json_int_t)st->irqs,
	    "dma_served", (json_int_t)st->dma_served,
	    "unsent", (json_int_t)st->unsent,
	    "shifted", (json_int_t)st->shifted,
	    "mig_forwarded", (json_int_t)st->mig_forwarded,
	    "split", (json_int_t)st->split,
	    "joined", (json_int_t)st->joined,
	    "dma_hashes", (json_int_t)st->dma_hashes,
	    "dma_hashes_differing", (json_int_t)st->dma_hash_differs,
	    "divergences_total", (json_int_t)st->divergences,
	    "divergences", rp->divs, "connection_results", rp->cases,
	    "time_ms", (json_int_t)ms,
	    "rate", ms > 0 ? (double)st->messages * 1000.0 / (double)ms : 0.0);

	if (rp->o->digest || rp->o->expect)
		json_object_set_new(o, "digest", json_string(digest));
	if (rp->o->expect)
		json_object_set_new(o, "digest_matches", json_boolean(digest_ok));
	if (rp->srv != NULL)
		json_object_set_new(o, "server", json_pack("{s:i,s:i,s:s}",
		    "started", rp->tally.started, "failed", rp->tally.failed,
		    "last", rp->tally.last_status));
	vx_json_print(stdout, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
}

static struct vx_trace_writer *
open_update(const struct opts *o)
{
	struct vx_trace_wopts wo = { 0, 0, 1024, NULL, 0, 0 };
	struct vx_trace_writer *w = NULL;

	if (!o->update)
		return NULL;
	if (vx_trace_writer_open(o->update_path, &wo, &w) < 0) {
		vx_error("cannot write '%s': %s", o->update_path,
		    vx_create_strerror(errno));
		exit(VX_EXIT_USAGE);
	}
	return w;
}

/*
 * vx_replay_run(), with a progress line on a terminal (standard error)
 * twice a second for a trace that takes longer than that.
 */
static int
run_with_progress(struct vx_replay *r)
{
	int tty = isatty(STDERR_FILENO), n;
	int64_t next = vx_conn_now_ms(NULL) + 500;
	unsigned long steps = 0;

	while ((n = vx_replay_step(r)) > 0) {
		const struct vx_replay_stats *st;

		if (!tty || ++steps % 1024 != 0 || vx_conn_now_ms(NULL) < next)
			continue;
		st = vx_replay_stats(r);
		fprintf(stderr, "\rreplay: %llu messages, %llu divergences ",
		    (unsigned long long)st->messages,
		    (unsigned long long)st->divergences);
		next += 500;
		progress_shown = 1;
	}
	clear_progress();
	return n;
}

int
cmd_replay(int argc, char **argv)
{
	struct opts o = { 0 };
	struct vx_diff_rules *rules = vx_diff_rules_new(0);
	static struct server servers[MAX_ENDPOINTS];
	struct report rp = { 0 };
	struct vx_replay_opts ro = { 0 };
	struct vx_replay_hooks h = { NULL, on_divergence, on_conn_done, &rp,
	    on_connect };
	unsigned i;
	struct vx_replay *r = NULL;
	char digest[2 * VX_DIGEST_LEN + 1] = "", mismatch[200];
	int64_t t0;
	int rc, status = VX_EXIT_OK, digest_ok = 1;

	if (rules == NULL)
		vx_fatal("out of memory");
	o.timeout_ms = DEFAULT_TIMEOUT_MS;
	parse_opts(argc, argv, &o, rules);
	rp.o = &o;
	rp.divs = json_array();
	rp.cases = json_array();
	if (o.server_cmd != NULL)
		rp.srv = servers;
	ro.flags = (o.keep_going || o.update ? VX_REPLAY_KEEP_GOING : 0) |
	    (o.digest || o.expect ? VX_REPLAY_DIGEST : 0) |
	    (o.check_dma ? VX_REPLAY_CHECK_DMA : 0) |
	    (o.mig_recorded ? VX_REPLAY_MIG_RECORDED : 0) |
	    (o.whole ? VX_REPLAY_WHOLE : 0);
	ro.timeout_ms = o.timeout_ms;
	ro.peer = o.peer;
	ro.rules = rules;
	ro.update = open_update(&o);
	signal(SIGPIPE, SIG_IGN);
	t0 = vx_conn_now_ms(NULL);
	rc = vx_replay_open(o.trace, &ro, &h, &r);
	if (rc == 0)
		rc = run_with_progress(r);
	if (rc < 0) {
		vx_error("cannot replay '%s': %s", o.trace, r != NULL ?
		    vx_replay_error(r) : "out of memory");
		status = VX_EXIT_USAGE;
	}
	for (i = 0; i < rp.nsrv; i++)
		teardown_server(&rp.srv[i], o.timeout_ms);
	if (rc == 0 && vx_replay_stats(r)->truncated)
		fprintf(stderr, "vfuctl replay: note: the trace is cut short (%s); "
		    "replayed up to there\n", vx_replay_error(r));
	if (rc == 0) {
		vx_replay_digest(r, digest);
		if (o.expect && strcasecmp(o.expect, digest) != 0) {
			digest_ok = 0;
			snprintf(mismatch, sizeof(mismatch), "digest %s, "
			    "expected %s", digest, o.expect);
			if (!o.json)
				printf("divergence: %s\n", mismatch);
		}
		if (o.json)
			print_json(&rp, vx_replay_stats(r), digest,
			    vx_conn_now_ms(NULL) - t0, digest_ok);
		else
			print_summary(&o, vx_replay_stats(r), digest,
			    vx_conn_now_ms(NULL) - t0, rp.srv ? &rp.tally : NULL);
		if ((vx_replay_stats(r)->divergences && !o.update) ||
		    !digest_ok || rp.tally.failed)
			status = VX_EXIT_FAIL;
		if (o.junit && write_junit(&rp, digest_ok ? NULL : mismatch) < 0)
			status = VX_EXIT_USAGE;
	}
	if (ro.update != NULL && vx_trace_writer_close(ro.update) < 0) {
		vx_error("writing '%s' failed", o.update_path);
		status = VX_EXIT_FAIL;
	}
	vx_replay_free(r);
	vx_diff_rules_free(rules);
	json_decref(rp.divs);
	json_decref(rp.cases);
	return status;
}
