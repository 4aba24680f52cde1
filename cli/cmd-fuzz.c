/*
 * cmd-fuzz.c - vfuctl fuzz: options, the server it starts (and starts
 * again after a crash or a hang), the findings directory and the status
 * line around the engine of lib/vx-fuzz.h; the AFL++ coverage map a
 * server it starts writes to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "spawn.h"
#include "fuzz-cov.h"
#include "vx-conn.h"
#include "vx-error.h"
#include "vx-fuzz.h"
#include "vx-msg.h"
#include "vx-sock.h"

const char cmd_fuzz_usage[] =
	"usage: vfuctl fuzz [options] --connect SOCKET\n"
	"       vfuctl fuzz [options] -- SERVER-CMD [ARG...]\n"
	"\n"
	"Fuzz a vfio-user device server: short sequences of mutated messages\n"
	"on a connection brought to a known state (VERSION, device, region and\n"
	"IRQ discovery, a DMA window; or a seed trace's commands).  Crashes,\n"
	"hangs, protocol violations in replies and a server that stops\n"
	"accepting are findings: minimized, saved as a trace that\n"
	"'vfuctl replay FINDING.pcap -- SERVER-CMD' reproduces, and a report.\n"
	"\n"
	"  --connect SOCKET     the server listening on SOCKET (it cannot be\n"
	"                       restarted: fuzzing stops at a crash or hang)\n"
	"  -- SERVER-CMD...     start the server: {socket} in its arguments is\n"
	"                       a socket path in a private directory, else\n"
	"                       --socket-path PATH is appended; started again\n"
	"                       after a crash or a hang\n"
	"  --seeds TRACE        take commands from TRACE (repeatable); the\n"
	"                       first one's first connection is the prefix\n"
	"  -n, --execs N        stop after N execs (default 10000)\n"
	"  --time DURATION      stop after DURATION (500ms, 30s, 5m, 1h)\n"
	"  --seed N             the random seed (default 1): same seed, same\n"
	"                       server, same run\n"
	"  -t, --timeout MS     no reply within MS is a hang (default 1000)\n"
	"  --max-msgs N         mutated messages per exec (default 4)\n"
	"  -d, --findings DIR   where findings go (default fuzz-findings)\n"
	"  --no-minimize        keep findings as found\n"
	"  --no-coverage        black-box even when the server is built with\n"
	"                       AFL++'s instrumentation (afl-clang-fast), whose\n"
	"                       edges otherwise guide a run with --\n"
	"  -o, --output FMT     the summary as text (default) or json\n"
	"  -q, --quiet          no status line\n"
	"  -h, --help           show this help\n"
	"\n"
	"SIGINT or SIGTERM ends the run after the exec at hand, as -n does.\n"
	"\n"
	"Exit status: 0 no finding; 1 findings; 2 usage or input error (a\n"
	"seed that cannot be read, a server that does not start or answer).\n";

#define START_MS	10000	/* for a server's socket to appear */
#define SETTLE_MS	100	/* for a server to come to rest */
#define SETTLE_MISSES	16	/* ... times it did not before it is let be */

struct server {
	struct spawn sp;	/* with -- */
	char **cmd;		/* NULL with --connect */
	const char *connect;
	int dump_map;		/* asked for its map size, not to serve */
	int shm_id;		/* its coverage map, or -1 */
	size_t map_size;
};

#define FORKSRV_FD	198	/* AFL++'s forkserver pipes: 198 and 199 */

struct run {
	struct server srv;
	const char *outdir;
	int json, quiet, tty;
	json_t *found;
	unsigned nsaved;
	int said_silent;
	unsigned settle_misses;
	int64_t t0;		/* when fuzzing began */
};

/* --- the server --------------------------------------------------------- */

/* Wait up to ms for the server to end: its wait status, or -1. */
static int
reap(struct server *s, int ms)
{
	return spawn_reap(&s->sp, ms) ? s->sp.status : -1;
}

/*
 * In the child: the environment AFL++'s runtime reads.  Without the
 * forkserver's pipes open it does not wait for a fuzzer, but runs.
 */
static void
coverage_env(void *arg)
{
	const struct server *s = arg;
	char v[32], path[96];
	int fd;

	close(FORKSRV_FD);
	close(FORKSRV_FD + 1);
	unsetenv(FZ_COV_SHM_ENV);
	unsetenv(FZ_COV_SIZE_ENV);
	unsetenv(FZ_COV_DUMP_ENV);
	if (s->dump_map) {
		setenv(FZ_COV_DUMP_ENV, "1", 1);
		snprintf(path, sizeof path, "%s/map-size", s->sp.dir);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0)
			dup2(fd, 1);
	} else if (s->shm_id >= 0) {
		snprintf(v, sizeof v, "%d", s->shm_id);
		setenv(FZ_COV_SHM_ENV, v, 1);
		snprintf(v, sizeof v, "%zu", s->map_size);
		setenv(FZ_COV_SIZE_ENV, v, 1);
	}
}

static int
start(struct server *s, char *why, size_t cap)
{
	return spawn_start(&s->sp, START_MS, why, cap);
}

static int
on_connect(void *arg, char *why, size_t cap)
{
	struct run *rn = arg;
	const char *path = rn->srv.cmd ? rn->srv.sp.sock : rn->srv.connect;
	int fd = vx_sock_connect(path, 5000);

	if (fd < 0) {
		snprintf(why, cap, "cannot connect to %s: %s", path,
		    strerror(errno));

		return VX_ERR_IO;
	}
	return fd;
}

static int
on_restart(void *arg, char *why, size_t cap)
{
	struct run *rn = arg;

	return start(&rn->srv, why, cap);
}

/*
 * "#1 0x55d in doorbell tests/x.c:228" -> "doorbell", skipping the
 * sanitizer's own frames; unsymbolized (ASAN_OPTIONS=symbolize=0)
 * "#0 0x55d  (/path/server+0x9f6e)" -> "server+0x9f6e".
 */
static int
frame_name(const char *line, char *out, size_t cap)
{
	const char *p = strstr(line, " in "), *q;
	size_t n;

	if (strncmp(line + strspn(line, " \t"), "#", 1) != 0)
		return 0;
	if (p == NULL && (q = strstr(line, " (")) != NULL) {
		p = strrchr(q, '/') ? strrchr(q, '/') + 1 : q + 2;
		snprintf(out, cap, "%.*s", (int)strcspn(p, ")\n"), p);
		return strncmp(out, "libc.so", 7) != 0 &&
		    strncmp(out, "libasan", 7) != 0;
	}
	if (p == NULL)
		return 0;
	p += 4;
	n = strcspn(p, " \n(");
	if (n == 0 || strncmp(p, "__interceptor_", 14) == 0 ||
	    strncmp(p, "__asan", 6) == 0 || strncmp(p, "__sanitizer", 11) == 0 ||
	    strncmp(p, "__ubsan", 7) == 0)
		return 0;
	snprintf(out, cap, "%.*s", (int)n, p);
	return 1;
}

/* The sanitizer's headline and top three frames from the server's stderr. */
static void
sanitizer(const struct server *s, struct vx_fuzz_fate *f)
{
	FILE *fp = fopen(s->sp.errlog, "r");
	char line[512], name[96];
	int frames = 0;
	const char *h;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof line, fp) != NULL && frames < 3) {
		if (f->headline[0] == '\0' &&
		    ((h = strstr(line, "Sanitizer:")) != NULL ||
		    (h = strstr(line, "runtime error:")) != NULL)) {
			snprintf(f->headline, sizeof f->headline, "%.*s",
			    (int)strcspn(h, "\n"), h);
			/* the address is not part of what happened */
			f->headline[strcspn(f->headline, "\n")] = '\0';
			if ((h = strstr(f->headline, " on address")) != NULL)
				*(char *)h = '\0';
			continue;
		}
		if (f->headline[0] && frame_name(line, name, sizeof name)) {
			if (frames++)
				strncat(f->frames, " < ", sizeof f->frames -
				    strlen(f->frames) - 1);
			strncat(f->frames, name, sizeof f->frames -
			    strlen(f->frames) - 1);
		}
	}
	fclose(fp);
}

/* Has the server's stderr a sanitizer's report begun? */
static int
reporting(const struct server *s)
{
	FILE *fp = fopen(s->sp.errlog, "r");
	char line[512];
	int found = 0;

	while (fp != NULL && !found && fgets(line, sizeof line, fp) != NULL)
		found = spawn_sanitizer_line(line);
	if (fp != NULL)
		fclose(fp);
	return found;
}

/*
 * Is every thread of pid asleep in a system call (a server's poll loop)?
 * 1 yes, 0 not yet, -1 cannot tell (no /proc, or the process is gone).
 */
static int
at_rest(pid_t pid)
{
	char path[64], buf[512], *p;
	struct dirent *e;
	int fd, rest = 1;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (rest && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat",
		    (int)pid, e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;	/* a thread that just ended */
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		/* "TID (comm) S ...": the state after the name's ')' */
		p = strrchr(buf, ')');
		rest = p == NULL || p[1] == '\0' || p[2] == 'S' ||
		    p[2] == 'Z';
	}
	closedir(d);
	return rest;
}

/* The settle hook: wait for the server to rest, SETTLE_MS at most; one
 * that keeps missing it (a thread that never sleeps) is let be. */
static void
on_settle(void *arg)
{
	struct run *rn = arg;
	int64_t end;
	struct timespec ts = { 0, 100000 };
	int r, i;

	if (rn->srv.sp.pid <= 0 || rn->settle_misses >= SETTLE_MISSES)
		return;
	end = vx_conn_now_ms(NULL) + SETTLE_MS;
	for (i = 0; (r = at_rest(rn->srv.sp.pid)) == 0; i++) {
		if (vx_conn_now_ms(NULL) >= end) {
			rn->settle_misses++;
			return;
		}
		if (i < 8)
			sched_yield();
		else
			nanosleep(&ts, NULL);
	}
}

static void
on_fate(void *arg, int wait_ms, struct vx_fuzz_fate *f)
{
	struct run *rn = arg;
	int st;

	/* a sanitizer symbolizing its report takes a second or more: a
	 * server that has begun one is waited for */
	if (wait_ms > 0 && reporting(&rn->srv))
		wait_ms = START_MS;
	if ((st = reap(&rn->srv, wait_ms)) == -1)
		return;
	f->dead = 1;
	f->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	f->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	sanitizer(&rn->srv, f);
}

/* --- findings ----------------------------------------------------------- */

static void
clear_status(struct run *rn)
{
	if (rn->tty)
		fputs("\r\033[K", stderr);
}

static void
write_report(struct run *rn, const struct vx_fuzz_finding *f,
    const char *base)
{
	char path[4200], line[512];
	FILE *fp, *err;
	char **a;

	snprintf(path, sizeof path, "%s.txt", base);
	if ((fp = fopen(path, "w")) == NULL)
		return;
	fprintf(fp, "kind: %s\nwhat: %s\nkey: %s\nexec: %llu\n"
	    "elapsed: %.1f s\n"
	    "messages: %u (minimized from %u)\ntrace: %s.pcap\n",
	    vx_fuzz_kind_name(f->kind), f->text, f->key,
	    (unsigned long long)f->exec,
	    (vx_conn_now_ms(NULL) - rn->t0) / 1000.0, f->nmsgs, f->orig_msgs,
	    base);
	fprintf(fp, "reproduce: vfuctl replay %s.pcap --", base);
	for (a = rn->srv.cmd; a != NULL && *a != NULL; a++)
		fprintf(fp, " %s", *a);
	if (rn->srv.cmd == NULL)
		fprintf(fp, " (--connect %s)", rn->srv.connect);
	fputc('\n', fp);
	if (rn->srv.cmd != NULL && (err = fopen(rn->srv.sp.errlog, "r")) != NULL) {
		fputs("\nthe server's stderr:\n", fp);
		while (fgets(line, sizeof line, err) != NULL)
			fprintf(fp, "  %s", line);
		fclose(err);
	}
	fclose(fp);
}

static void
on_finding(void *arg, struct vx_fuzz *fz, const struct vx_fuzz_finding *f)
{
	struct run *rn = arg;
	char base[4096], pcap[4200];
	json_t *o;
	int r;

	snprintf(base, sizeof base, "%s/%s-%u", rn->outdir,
	    vx_fuzz_kind_name(f->kind), ++rn->nsaved);
	snprintf(pcap, sizeof pcap, "%s.pcap", base);
	if (mkdir(rn->outdir, 0700) < 0 && errno != EEXIST)
		r = VX_ERR_IO;
	else
		r = vx_fuzz_save(fz, f, pcap);
	if (r == 0)
		write_report(rn, f, base);
	clear_status(rn);
	if (!rn->json)
		fprintf(stderr, "vfuctl fuzz: %s: %s (%u messages)%s%s\n",
		    vx_fuzz_kind_name(f->kind), f->text, f->nmsgs,
		    r == 0 ? " -> " : ": cannot save it",
		    r == 0 ? pcap : "");
	o = json_pack("{s:s, s:s, s:s, s:I, s:i, s:s?}", "kind",
	    vx_fuzz_kind_name(f->kind), "text", f->text, "key", f->key,
	    "exec", (json_int_t)f->exec, "messages", (int)f->nmsgs,
	    "trace", r == 0 ? pcap : NULL);
	json_array_append_new(rn->found, o);
}

/* --- options ------------------------------------------------------------ */

struct opts {
	struct vx_fuzz_opts fo;
	const char *seeds[64];
	uint64_t execs;
	int64_t time_ms;
	int json, quiet, no_cov;
	const char *outdir, *connect;
	char **cmd;
};

/* "500ms", "30s", "5m", "1h", or seconds: milliseconds, or -1. */
static int64_t
parse_duration(const char *s)
{
	static const struct { const char *unit; int64_t ms; } u[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "", 1000 } };
	char num[32];
	uint64_t v;
	size_t n = strspn(s, "0123456789"), i;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (vx_parse_u64(num, &v) < 0 || v > 1000000000)
		return -1;
	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (strcmp(s + n, u[i].unit) == 0)
			return (int64_t)v * u[i].ms;
	return -1;
}

static uint64_t
number(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (vx_parse_u64(arg, &v) < 0 || v < min || v > max)
		vx_invarg("fuzz", opt, arg);
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "connect", required_argument, NULL, 'C' },
		{ "seeds", required_argument, NULL, 'S' },
		{ "execs", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 'T' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-msgs", required_argument, NULL, 'M' },
		{ "findings", required_argument, NULL, 'd' },
		{ "no-minimize", no_argument, NULL, 'N' },
		{ "no-coverage", no_argument, NULL, 'V' },
		{ "fresh", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 } };
	int c;

	o->execs = 10000;
	o->time_ms = -1;
	o->outdir = "fuzz-findings";
	o->fo.seed = 1;
	o->fo.timeout_ms = 1000;
	while ((c = getopt_long(argc, argv, "+n:t:d:o:q", lo, NULL)) != -1) {
		switch (c) {
		case 'C': o->connect = optarg; break;
		case 'S':
			if (o->fo.nseeds >= 64)
				vx_usage_error("fuzz", "too many --seeds");
			o->seeds[o->fo.nseeds++] = optarg;
			break;
		case 'n': o->execs = number("--execs", optarg, 1, UINT64_MAX);
			break;
		case 'T':
			if ((o->time_ms = parse_duration(optarg)) <= 0)
				vx_invarg("fuzz", "--time", optarg);
			break;
		case 's': o->fo.seed = number("--seed", optarg, 0, UINT64_MAX);
			break;
		case 't': o->fo.timeout_ms = (int)number("--timeout", optarg,
			    1, 3600000);
			break;
		case 'M': o->fo.max_msgs = (unsigned)number("--max-msgs",
			    optarg, 1, 64);
			break;
		case 'd': o->outdir = optarg; break;
		case 'N': o->fo.no_minimize = 1; break;
		case 'V': o->no_cov = 1; break;
		case 'F':
			if (strcmp(optarg, "conn") == 0)
				o->fo.conn_execs = 1;
			else if (strcmp(optarg, "process") == 0)
				o->fo.restart_each = 1;
			else
				vx_invarg("fuzz", "--fresh (conn or process)",
				    optarg);
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0)
				vx_invarg("fuzz", "output format", optarg);
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'q': o->quiet = 1; break;
		default: vx_usage_error("fuzz", "unknown option");
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0)
		o->cmd = argv + optind;
	else if (optind < argc)
		vx_usage_error("fuzz", "unexpected argument '%s'", argv[optind]);
	if ((o->connect == NULL) == (o->cmd == NULL))
		vx_usage_error("fuzz", "give either --connect SOCKET or -- "
		    "SERVER-CMD");
	if (o->fo.restart_each && o->connect != NULL)
		vx_usage_error("fuzz", "--fresh process starts the server: "
		    "give -- SERVER-CMD, not --connect");
	o->fo.seeds = o->seeds;
}

/* --- the run ------------------------------------------------------------ */

/* Set by SIGINT/SIGTERM: stop after the exec at hand, with the summary,
 * and stop the server too (an interrupted run leaves nothing behind). */
static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
guided(const struct vx_fuzz_stats *st)
{
	return st->coverage == VX_FUZZ_COV_GUIDED;
}

static void
status_line(struct run *rn, const struct vx_fuzz_stats *st, int64_t ms)
{
	char cov[32] = "black-box";

	if (guided(st))
		snprintf(cov, sizeof cov, "edges %u", st->edges);
	clear_status(rn);
	fprintf(stderr, "execs %llu (%.0f/s)  findings %llu  commands %u  "
	    "states %u  corpus %u  %s  %llds", (unsigned long long)st->execs,
	    ms > 0 ? st->execs * 1000.0 / ms : 0.0,
	    (unsigned long long)st->findings, st->commands, st->states,
	    st->corpus, cov, (long long)(ms / 1000));
}

/* Once: a map the server never wrote to. */
static void
say_silent(struct run *rn, const struct vx_fuzz_stats *st)
{
	if (st->coverage != VX_FUZZ_COV_SILENT || rn->said_silent)
		return;
	rn->said_silent = 1;
	clear_status(rn);
	if (!rn->json)
		fprintf(stderr, "vfuctl fuzz: the server wrote nothing to its "
		    "coverage map in the first exec: black-box\n");
}

static void
summary(struct run *rn, const struct vx_fuzz_stats *st, int64_t ms)
{
	char cov[64] = "black-box";
	json_t *o;

	if (guided(st))
		snprintf(cov, sizeof cov, "guided: %u edges, %u kept for "
		    "coverage", st->edges, st->cov_kept);
	clear_status(rn);
	if (!rn->json) {
		printf("%llu execs, %llu messages in %.1f s (%.0f execs/s); "
		    "%llu findings (%llu duplicates); %u commands, %u states, "
		    "corpus %u; %s; %llu reconnects, %llu restarts\n",
		    (unsigned long long)st->execs,
		    (unsigned long long)st->messages, ms / 1000.0,
		    ms > 0 ? st->execs * 1000.0 / ms : 0.0,
		    (unsigned long long)st->findings,
		    (unsigned long long)st->duplicates, st->commands,
		    st->states, st->corpus, cov,
		    (unsigned long long)st->reconnects,
		    (unsigned long long)st->restarts);
		return;
	}
	o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:b, s:i, "
	    "s:i, s:I, s:I, s:I, s:f, s:O}", "seed_messages",
	    (int)st->seed_msgs, "execs",
	    (json_int_t)st->execs, "messages",
	    (json_int_t)st->messages, "findings", (json_int_t)st->findings,
	    "duplicates", (json_int_t)st->duplicates, "commands",
	    (int)st->commands, "states", (int)st->states, "corpus",
	    (int)st->corpus, "guided", guided(st), "edges", (int)st->edges,
	    "corpus_coverage", (int)st->cov_kept,
	    "reconnects", (json_int_t)st->reconnects,
	    "restarts", (json_int_t)st->restarts, "dma_served",
	    (json_int_t)st->dma_served, "seconds", ms / 1000.0,
	    "found", rn->found);
	vx_json_print(stdout, o, JSON_COMPACT);
	json_decref(o);
}

/*
 * How big a coverage map the server needs: an AFL++-instrumented one,
 * run with AFL_DUMP_MAP_SIZE=1, prints it and exits before main; any
 * other starts serving (its socket appears) and is stopped: 0.  -1: it
 * neither said nor served (starting it for real will say why).
 */
static int64_t
map_size_of(struct server *s)
{
	char path[96], why[512], line[32] = "";
	uint64_t v = 0;
	FILE *fp;
	int r;

	s->dump_map = 1;
	r = start(s, why, sizeof why);
	s->dump_map = 0;
	spawn_stop(&s->sp, 0);
	snprintf(path, sizeof path, "%s/map-size", s->sp.dir);
	if (r < 0 && (fp = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof line, fp) != NULL)
			line[strcspn(line, "\n")] = '\0';
		fclose(fp);
	}
	unlink(path);
	if (r == 0)
		return 0;
	if (vx_parse_u64(line, &v) < 0 || v == 0 || v > FZ_COV_MAX_SIZE)
		return -1;
	return (int64_t)v;
}

/* The map an instrumented server gets, or none (black-box, said why). */
static void
setup_coverage(struct run *rn, struct vx_fuzz_opts *fo)
{
	struct server *s = &rn->srv;
	int64_t size = map_size_of(s);
	uint8_t *map;
	int id;

	if (size < 0)
		return;
	if (size == 0) {
		if (!rn->json)
			fprintf(stderr, "vfuctl fuzz: %s is not built with "
			    "AFL++'s instrumentation (it printed no map size "
			    "with %s=1): black-box\n", s->cmd[0],
			    FZ_COV_DUMP_ENV);
		return;
	}
	if ((id = fz_cov_shm_new((size_t)size, &map)) < 0) {
		if (!rn->json)
			fprintf(stderr, "vfuctl fuzz: cannot make a coverage "
			    "map of %lld bytes (shmget: %s): black-box\n",
			    (long long)size, strerror(errno));
		return;
	}
	s->shm_id = id;
	s->map_size = (size_t)size;
	fo->cov_map = map;
	fo->cov_size = (size_t)size;
}

static int
setup_server(struct run *rn, char *why, size_t cap, struct opts *o)
{
	struct server *s = &rn->srv;

	if (spawn_init(&s->sp, "fuzz", s->cmd, why, cap) < 0)
		return VX_ERR_IO;
	s->sp.quiet = 1;
	s->sp.child_setup = coverage_env;
	s->sp.arg = s;
	if (!o->no_cov)
		setup_coverage(rn, &o->fo);
	return start(s, why, cap);
}

static void
teardown_server(struct server *s)
{
	if (s->cmd != NULL)
		spawn_free(&s->sp);
}

int
cmd_fuzz(int argc, char **argv)
{
	struct opts o = { 0 };
	struct run rn = { 0 };
	struct vx_fuzz_hooks h = { on_connect, on_restart, on_fate,
	    on_finding, &rn, on_settle };
	const struct vx_fuzz_stats *st;
	struct vx_fuzz *fz = NULL;
	int64_t t0, last = 0, now;
	char why[512] = "";
	int r;

	if (vx_want_help(argc, argv)) {
		fputs(cmd_fuzz_usage, stdout);
		return VX_EXIT_OK;
	}
	parse_opts(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	rn.srv.cmd = o.cmd;
	rn.srv.connect = o.connect;
	rn.srv.shm_id = -1;
	rn.outdir = o.outdir;
	rn.json = o.json;
	rn.tty = !o.quiet && isatty(2);
	rn.found = json_array();
	if (o.cmd == NULL) {
		h.restart = NULL;
		h.fate = NULL;
		h.settle = NULL;
	} else if (setup_server(&rn, why, sizeof why, &o) < 0) {
		vx_error("fuzz: %s", why);
		teardown_server(&rn.srv);
		fz_cov_shm_free(o.fo.cov_map);
		json_decref(rn.found);
		return VX_EXIT_USAGE;
	}
	t0 = rn.t0 = vx_conn_now_ms(NULL);
	if ((r = vx_fuzz_new(&o.fo, &h, &fz)) < 0) {
		vx_error("fuzz: %s", fz ? vx_fuzz_error(fz) : "out of memory");
		vx_fuzz_free(fz);
		teardown_server(&rn.srv);
		fz_cov_shm_free(o.fo.cov_map);
		json_decref(rn.found);
		return VX_EXIT_USAGE;
	}
	st = vx_fuzz_stats(fz);
	while (st->execs < o.execs && !interrupted) {
		now = vx_conn_now_ms(NULL);
		if (o.time_ms > 0 && now - t0 >= o.time_ms)
			break;
		if (rn.tty && now - last >= 250) {
			status_line(&rn, vx_fuzz_stats(fz), now - t0);
			last = now;
		}
		if ((r = vx_fuzz_exec(fz)) < 0) {
			clear_status(&rn);
			vx_error("fuzz: %s", vx_fuzz_error(fz));
			break;
		}
		say_silent(&rn, vx_fuzz_stats(fz));
	}
	summary(&rn, vx_fuzz_stats(fz), vx_conn_now_ms(NULL) - t0);
	r = st->findings > 0 ? VX_EXIT_FAIL : VX_EXIT_OK;
	vx_fuzz_free(fz);
	teardown_server(&rn.srv);
	fz_cov_shm_free(o.fo.cov_map);
	json_decref(rn.found);
	return r;
}
