/*
 * cmd-stats.c - vfuctl stats: per-command and per-connection counts, bytes,
 * errors and reply latencies of a trace, the busiest regions and offsets,
 * and findings by kind.  Memory is bounded whatever the trace's size: the
 * latency quantiles come from log-linear histograms (relative error below
 * 1/64), and the offset table keeps the first OFFSETS_MAX distinct offsets
 * exactly and counts the rest together.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "stats-time.h"
#include "vx-error.h"
#include "vx-walk.h"

const char cmd_stats_usage[] =
	"usage: vfuctl stats [-o text|json] [--sparklines WHEN] [--svg FILE]\n"
	"                    [--peer PEER] FILE|-\n"
	"\n"
	"Summarise a trace: messages, bytes, error replies and reply latency\n"
	"(min, median, p99, max) per command and per connection, a latency\n"
	"histogram, latency over time, the most accessed regions and offsets,\n"
	"findings by kind.\n"
	"\n"
	"  -o, --output FMT   text (default) or json\n"
	"  --sparklines WHEN  latency over time, a line per command: auto (on\n"
	"                     a terminal, the default), always, never\n"
	"  --svg FILE         write latency over time and the histogram as SVG\n"
	"  --peer PEER        wire forms: auto (default), spec, libvfio-user, qemu\n"
	"  -h, --help         show this help\n";

#define SUB_BITS	6			/* 64 sub-buckets per power of two */
#define NBUCKETS	(64 << SUB_BITS)
#define CMD_SLOTS	(VX_CMD_MAX + 1)	/* last one: unknown commands */
#define CONN_MAX	64			/* more connections share a slot */
#define OFFSETS_MAX	4096
#define TOP		10

/* Log-linear latency histogram: bucket = exponent and 6 mantissa bits. */
struct sketch {
	uint64_t n, min, max;
	double sum;
	uint32_t *b;		/* NBUCKETS, allocated on first use */
};

struct counter {
	uint64_t cmds, replies, errors, bytes;
	struct sketch lat;
};

struct offset_count {
	uint32_t region;
	uint64_t offset, reads, writes;
};

struct stats {
	struct counter cmd[CMD_SLOTS];
	struct counter conn[CONN_MAX + 1];
	uint32_t conn_id[CONN_MAX];
	unsigned nconn;
	struct sketch all;
	uint64_t region_acc[257][2];	/* [index or 256 other][read, write] */
	struct offset_count *offs;
	size_t noffs;
	uint64_t offs_other;
	uint64_t findings[VX_FIND_COUNT];
	uint64_t records, messages, events, malformed;
	struct timeline tl;
};

static unsigned
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < (1u << SUB_BITS))
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	return ((e - SUB_BITS + 1) << SUB_BITS) |
	    (unsigned)((v >> (e - SUB_BITS)) & ((1u << SUB_BITS) - 1));
}

/* Lowest value of bucket i. */
static uint64_t
bucket_low(unsigned i)
{
	unsigned e = i >> SUB_BITS, m = i & ((1u << SUB_BITS) - 1);

	if (e == 0)
		return m;
	return (uint64_t)((1u << SUB_BITS) | m) << (e - 1);
}

static int
sketch_add(struct sketch *s, uint64_t v)
{
	if (s->b == NULL && (s->b = calloc(NBUCKETS, sizeof(*s->b))) == NULL)
		return -1;
	if (s->n == 0 || v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	s->n++;
	s->sum += (double)v;
	s->b[bucket_of(v)]++;
	return 0;
}

/* Value at quantile q, the middle of its bucket, clamped to [min, max]. */
static uint64_t
sketch_quantile(const struct sketch *s, double q)
{
	double wq = q * (double)s->n;
	uint64_t want = (uint64_t)wq, seen = 0;
	unsigned i;
	double v;

	if (s->n == 0)
		return 0;
	if ((double)want < wq || want == 0)
		want++;	/* ceil without libm */
	for (i = 0; i < NBUCKETS; i++) {
		seen += s->b[i];
		if (seen >= want)
			break;
	}
	v = ((double)bucket_low(i) +
	    (double)(i + 1 < NBUCKETS ? bucket_low(i + 1) : bucket_low(i))) / 2;
	if (v < (double)s->min)
		return s->min;
	if (v > (double)s->max)
		return s->max;
	return (uint64_t)v;
}

static struct counter *
conn_slot(struct stats *st, uint32_t id)
{
	unsigned i;

	for (i = 0; i < st->nconn; i++)
		if (st->conn_id[i] == id)
			return &st->conn[i];
	if (st->nconn == CONN_MAX)
		return &st->conn[CONN_MAX];
	st->conn_id[st->nconn] = id;
	return &st->conn[st->nconn++];
}

static void
count_offset(struct stats *st, uint64_t region, uint64_t offset, int write)
{
	size_t i;

	st->region_acc[region < 256 ? region : 256][write]++;
	for (i = 0; i < st->noffs; i++) {
		if (st->offs[i].region == region && st->offs[i].offset == offset) {
			if (write)
				st->offs[i].writes++;
			else
				st->offs[i].reads++;
			return;
		}
	}
	if (st->noffs == OFFSETS_MAX) {
		st->offs_other++;
		return;
	}
	st->offs[st->noffs].region = (uint32_t)region;
	st->offs[st->noffs].offset = offset;
	st->offs[st->noffs].reads = !write;
	st->offs[st->noffs].writes = write;
	st->noffs++;
}

static void
on_record(struct stats *st, const struct vx_walk_item *it)
{
	const struct vx_msg *m = it->msg;
	struct counter *c, *cc;
	unsigned i;

	for (i = 0; i < it->nunanswered; i++)
		st->findings[it->unanswered[i].code]++;
	if (it->rec == NULL)	/* end of trace: only the unanswered */
		return;
	st->records++;
	tl_time(&st->tl, it->rec->ts_ns);
	if (m == NULL) {
		st->events++;
		return;
	}
	st->messages++;
	st->malformed += m->status == VX_MSG_MALFORMED;
	for (i = 0; i < it->res->nfindings; i++)
		st->findings[it->res->findings[i].code]++;
	c = &st->cmd[m->cmd < VX_CMD_MAX ? m->cmd : VX_CMD_MAX];
	cc = conn_slot(st, it->rec->conn);
	c->bytes += m->len;
	cc->bytes += m->len;
	if (!vx_msg_is_reply(m)) {
		c->cmds++;
		cc->cmds++;
		if ((m->cmd == VX_CMD_REGION_READ || m->cmd == VX_CMD_REGION_WRITE) &&
		    m->status == VX_MSG_OK)
			count_offset(st, m->rw.index, m->rw.offset,
			    m->cmd == VX_CMD_REGION_WRITE);
		return;
	}
	c->replies++;
	cc->replies++;
	if (m->flags & VX_F_ERROR) {
		c->errors++;
		cc->errors++;
	}
	if (it->res->paired && it->rec->ts_ns >= it->res->req_ts_ns) {
		uint64_t lat = it->rec->ts_ns - it->res->req_ts_ns;

		if (sketch_add(&c->lat, lat) < 0 || sketch_add(&cc->lat, lat) < 0 ||
		    sketch_add(&st->all, lat) < 0)
			vx_fatal("out of memory");
		tl_add(&st->tl, (unsigned)(c - st->cmd), it->rec->ts_ns, lat);
	}
}

static const char *
cmd_label(unsigned i)
{
	const char *n = i < VX_CMD_MAX ? vx_cmd_name(i) : NULL;

	return n ? n : "(unknown)";
}

static void
print_counter(const char *name, const struct counter *c)
{
	const struct sketch *s = &c->lat;

	printf("  %-26s %9llu %9llu %7llu %12llu", name,
	    (unsigned long long)c->cmds, (unsigned long long)c->replies,
	    (unsigned long long)c->errors, (unsigned long long)c->bytes);
	if (s->n)
		printf(" %10llu %10llu %10llu %10llu\n", (unsigned long long)s->min,
		    (unsigned long long)sketch_quantile(s, 0.5),
		    (unsigned long long)sketch_quantile(s, 0.99),
		    (unsigned long long)s->max);
	else
		printf(" %10s %10s %10s %10s\n", "-", "-", "-", "-");
}

static int
cmp_offsets(const void *a, const void *b)
{
	const struct offset_count *x = a, *y = b;
	uint64_t tx = x->reads + x->writes, ty = y->reads + y->writes;

	return tx < ty ? 1 : tx > ty ? -1 : 0;
}

/* The sketch in power-of-two bins: bins[e] from 2^e to 2^(e+1) - 1. */
static void
pow2_bins(const struct sketch *s, uint64_t bins[64])
{
	unsigned i;

	memset(bins, 0, 64 * sizeof(*bins));
	for (i = 0; s->b != NULL && i < NBUCKETS; i++) {
		uint64_t low = bucket_low(i);
		unsigned e = low > 1 ? 63 - (unsigned)__builtin_clzll(low) : 0;

		bins[e] += s->b[i];
	}
}

static void
print_histogram(const struct sketch *s)
{
	uint64_t bins[64], most = 0;
	unsigned i, lo = 64, hi = 0;

	if (s->n == 0)
		return;
	pow2_bins(s, bins);
	for (i = 0; i < 64; i++) {
		if (!bins[i])
			continue;
		lo = i < lo ? i : lo;
		hi = i;
		most = bins[i] > most ? bins[i] : most;
	}
	printf("\nreply latency histogram (ns, powers of two):\n");
	for (i = lo; i <= hi; i++) {
		unsigned w = (unsigned)(bins[i] * 50 / most);

		printf("  %12llu .. %-12llu %9llu %.*s\n", 1ull << i,
		    (2ull << i) - 1, (unsigned long long)bins[i], (int)w,
		    "##################################################");
	}
}

/* --svg FILE: a new file (never through a symbolic link). */
static int
write_svg(const struct stats *st, const char *path, const char *trace)
{
	uint64_t bins[64];
	char title[600];
	FILE *fp;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		vx_error("cannot write '%s': %s", path, vx_create_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pow2_bins(&st->all, bins);
	snprintf(title, sizeof(title), "vfuctl stats %s: %llu replies", trace,
	    (unsigned long long)st->all.n);
	tl_write_svg(&st->tl, fp, cmd_label, bins, title);
	if (fclose(fp) != 0)
		return vx_error("writing '%s' failed: %s", path, strerror(errno));
	return 0;
}

static void
print_text(struct stats *st, int sparklines)
{
	char rn[32], name[48];
	unsigned i;

	printf("%llu records: %llu messages (%llu malformed), %llu events\n\n",
	    (unsigned long long)st->records, (unsigned long long)st->messages,
	    (unsigned long long)st->malformed, (unsigned long long)st->events);
	printf("  %-26s %9s %9s %7s %12s %10s %10s %10s %10s\n", "command",
	    "commands", "replies", "errors", "bytes", "min ns", "median ns",
	    "p99 ns", "max ns");
	for (i = 0; i < CMD_SLOTS; i++)
		if (st->cmd[i].cmds || st->cmd[i].replies)
			print_counter(cmd_label(i), &st->cmd[i]);
	printf("\n  %-26s\n", "connection");
	for (i = 0; i <= CONN_MAX; i++) {
		if (i == st->nconn && i < CONN_MAX)
			i = CONN_MAX;
		if (!st->conn[i].cmds && !st->conn[i].replies)
			continue;
		if (i == CONN_MAX)
			snprintf(name, sizeof(name), "(more than %d)", CONN_MAX);
		else
			snprintf(name, sizeof(name), "c%u", st->conn_id[i]);
		print_counter(name, &st->conn[i]);
	}
	printf("  (quantiles from a log-linear histogram: within 1/64 of the true value)\n");
	print_histogram(&st->all);
	if (sparklines)
		tl_print_sparklines(&st->tl, stdout, cmd_label);

	printf("\nmost accessed regions (reads / writes):\n");
	for (i = 0; i <= 256; i++)
		if (st->region_acc[i][0] || st->region_acc[i][1])
			printf("  %-24s %9llu %9llu\n", i == 256 ? "(index>255)" :
			    vx_region_name(i, rn, sizeof(rn)),
			    (unsigned long long)st->region_acc[i][0],
			    (unsigned long long)st->region_acc[i][1]);
	qsort(st->offs, st->noffs, sizeof(*st->offs), cmp_offsets);
	printf("\nmost accessed offsets (reads / writes):\n");
	for (i = 0; i < st->noffs && i < TOP; i++) {
		snprintf(name, sizeof(name), "%s+0x%llx",
		    vx_region_name(st->offs[i].region, rn, sizeof(rn)),
		    (unsigned long long)st->offs[i].offset);
		printf("  %-24s %9llu %9llu\n", name,
		    (unsigned long long)st->offs[i].reads,
		    (unsigned long long)st->offs[i].writes);
	}
	if (st->offs_other)
		printf("  (%llu accesses to offsets beyond the first %d distinct ones)\n",
		    (unsigned long long)st->offs_other, OFFSETS_MAX);
	printf("\nfindings:\n");
	for (i = 0; i < VX_FIND_COUNT; i++)
		if (st->findings[i])
			printf("  %-7s %-28s %9llu  %s\n",
			    vx_finding_severity(i) == VX_SEV_ERROR ? "error" :
			    vx_finding_severity(i) == VX_SEV_WARN ? "warning" : "note",
			    vx_finding_key(i), (unsigned long long)st->findings[i],
			    vx_finding_text(i));
}

static json_t *
counter_json(const struct counter *c)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "commands", (json_int_t)c->cmds,
	    "replies", (json_int_t)c->replies, "errors", (json_int_t)c->errors,
	    "bytes", (json_int_t)c->bytes);

	if (c->lat.n)
		json_object_set_new(o, "latency_ns", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		    "count", (json_int_t)c->lat.n, "min", (json_int_t)c->lat.min,
		    "median", (json_int_t)sketch_quantile(&c->lat, 0.5),
		    "p99", (json_int_t)sketch_quantile(&c->lat, 0.99),
		    "max", (json_int_t)c->lat.max));
	return o;
}

static void
print_json(struct stats *st)
{
	json_t *root = json_object(), *cmds = json_object(), *conns = json_object();
	json_t *finds = json_object(), *offs = json_array(), *regs = json_object();
	char k[32], rn[32];
	unsigned i;

	for (i = 0; i < CMD_SLOTS; i++)
		if (st->cmd[i].cmds || st->cmd[i].replies)
			json_object_set_new(cmds, cmd_label(i), counter_json(&st->cmd[i]));
	for (i = 0; i < st->nconn; i++) {
		snprintf(k, sizeof(k), "%u", st->conn_id[i]);
		json_object_set_new(conns, k, counter_json(&st->conn[i]));
	}
	for (i = 0; i <= 256; i++)
		if (st->region_acc[i][0] || st->region_acc[i][1])
			json_object_set_new(regs, i == 256 ? "(index>255)" :
			    vx_region_name(i, rn, sizeof(rn)),
			    json_pack("{s:I,s:I}", "reads", (json_int_t)st->region_acc[i][0],
			    "writes", (json_int_t)st->region_acc[i][1]));
	qsort(st->offs, st->noffs, sizeof(*st->offs), cmp_offsets);
	for (i = 0; i < st->noffs && i < TOP; i++)
		json_array_append_new(offs, json_pack("{s:I,s:I,s:I,s:I}",
		    "region", (json_int_t)st->offs[i].region,
		    "offset", (json_int_t)st->offs[i].offset,
		    "reads", (json_int_t)st->offs[i].reads,
		    "writes", (json_int_t)st->offs[i].writes));
	for (i = 0; i < VX_FIND_COUNT; i++)
		if (st->findings[i])
			json_object_set_new(finds, vx_finding_key(i),
			    json_integer((json_int_t)st->findings[i]));
	json_object_set_new(root, "records", json_integer((json_int_t)st->records));
	json_object_set_new(root, "messages", json_integer((json_int_t)st->messages));
	json_object_set_new(root, "malformed", json_integer((json_int_t)st->malformed));
	json_object_set_new(root, "events", json_integer((json_int_t)st->events));
	json_object_set_new(root, "commands", cmds);
	json_object_set_new(root, "connections", conns);
	json_object_set_new(root, "regions", regs);
	json_object_set_new(root, "top_offsets", offs);
	json_object_set_new(root, "findings", finds);
	json_object_set_new(root, "latency_relative_error", json_real(1.0 / 64));
	vx_json_print(stdout, root, JSON_INDENT(2));
	json_decref(root);
}

int
cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "peer", required_argument, NULL, 'P' },
		{ "sparklines", required_argument, NULL, 'S' },
		{ "svg", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct vx_walk_opts wo = { VX_WALK_LAZY, VX_PEER_AUTO };
	struct vx_walk *w;
	struct vx_walk_item it;
	const char *path, *spark = "auto", *svg = NULL;
	struct stats *st;
	char err[1024];
	uint64_t v;
	int c, json = 0, r;
	unsigned i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") != 0)
				vx_invarg("stats", "output format", optarg);
			break;
		case 'P':
			if (vx_tok_value(vx_names_peer, optarg, &v) < 0)
				vx_invarg("stats", "peer", optarg);
			wo.peer = (int)v;
			break;
		case 'S':
			spark = optarg;
			if (strcmp(spark, "auto") && strcmp(spark, "always") &&
			    strcmp(spark, "never"))
				vx_invarg("stats", "--sparklines", optarg);
			break;
		case 'G':
			svg = optarg;
			break;
		case 'h':
			fputs(cmd_stats_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("stats", "unknown option");
		}
	}
	if (argc - optind != 1)
		vx_usage_error("stats", "give one trace FILE (or - for standard input)");
	path = argv[optind];
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->offs = calloc(OFFSETS_MAX, sizeof(*st->offs))) == NULL ||
	    tl_init(&st->tl, CMD_SLOTS) < 0)
		vx_fatal("out of memory");
	if ((r = vx_walk_open(path, &wo, &w)) == 0)
		while ((r = vx_walk_next(w, &it)) > 0)
			on_record(st, &it);
	snprintf(err, sizeof(err), "%s", vx_walk_error(w));
	vx_walk_close(w);
	if (r == 0) {
		if (json)
			print_json(st);
		else
			print_text(st, strcmp(spark, "always") == 0 ||
			    (strcmp(spark, "auto") == 0 &&
			    isatty(STDOUT_FILENO)));
		if (svg != NULL && write_svg(st, svg, path) < 0)
			r = VX_ERR_IO;
	}
	for (i = 0; i < CMD_SLOTS; i++)
		free(st->cmd[i].lat.b);
	for (i = 0; i <= CONN_MAX; i++)
		free(st->conn[i].lat.b);
	free(st->all.b);
	free(st->offs);
	tl_free(&st->tl);
	free(st);
	if (r == VX_ERR_IO && svg != NULL)
		return VX_EXIT_FAIL;
	if (r < 0) {
		fprintf(stderr, "vfuctl stats: %s: %s\n", path, err);
		return VX_EXIT_USAGE;
	}
	return VX_EXIT_OK;
}
