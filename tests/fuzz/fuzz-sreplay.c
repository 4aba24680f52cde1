/*
 * fuzz-sreplay.c - libFuzzer target for vfuctl server --replay, in
 * process: a struct vx_sreplay (lib/server-replay.c) playing a trace of
 * the replay corpus (traces/replay-gpio.jsonl, traces/replay-dma-twin.jsonl,
 * made pcap at start) to a client that the library's harness
 * (vx-fuzz-input.h, man vx_fuzz_input(3)) makes of the input: it sends the
 * recorded client messages, mutations of them and made-up ones, and
 * answers the server's DMA requests.  The trace is fixed; the client's
 * messages are what is fuzzed.
 *
 * Input:
 *   byte 0   bit 0: the trace, replay-gpio or replay-dma-twin
 *   then the harness's records (sent with VX_FUZZ_INPUT_NO_VERSION: the
 *   recorded VERSION is the client's to send): u8 ctl, u8 cmd, u16 len
 *   (little-endian), len bytes; ctl bits 0-5 as the harness has them
 *   (descriptors, eventfds, no_reply, a reply to the server's last DMA
 *   request, two writes).  This target adds
 *     ctl bit 6     the recorded client message number cmd (modulo their
 *                   count) instead, with as many descriptors of its kind
 *                   (up to 3), no_reply and two writes still from ctl;
 *                   when len is 1 or more, the first of the len bytes
 *                   says where in its body (modulo the body's length)
 *                   the others are written over it
 *   A record with bit 6 is rewritten into the harness's form (the harness
 *   builds the header; the replay matches a request without its msg_id).
 *
 * After every record the server runs until it waits for input and what it
 * sent is read back.  The replay must survive every client: only the
 * client's end may end the connection, or a limit (a message too large,
 * too many requests queued behind a DMA request, memory).
 */
#include <sys/stat.h>

#include <limits.h>
#include <unistd.h>

#include "server-replay-int.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-fuzz-input.h"
#include "vx-trace.h"
#include "fuzz-common.h"

#define MAX_BODY	65535u		/* a harness record's u16 length */
#define REC_HDR		4		/* ctl, cmd, len */
#define CTL_RECORDED	0x40u		/* ours: a recorded message */
#define CTL_HARNESS_FDS	0x07u		/* the harness's descriptor bits */
#define CTL_DMA_REPLY	0x10u		/* the harness's: a reply to its DMA */

static const char *const names[2] = { "replay-gpio.jsonl",
    "replay-dma-twin.jsonl" };
static char traces[2][64];	/* the pcap made of each at start */

/* The recorded client commands of a trace, to send again. */
struct cmsg {
	uint8_t *body;
	size_t len;
	uint8_t cmd;
	uint8_t fdctl;		/* the harness's ctl bits 0-2 for its fds */
};
static struct cmsg *cmsgs[2];
static size_t ncmsgs[2];

/* FUZZ_SERVER_LOG=1: the replay's lines on stderr, to study an input */
static void
log_line(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "replay: %s\n", line);
}

static FILE *
open_source(const char *name)
{
	char rel[128], path[PATH_MAX + 128];
	FILE *f;

	snprintf(rel, sizeof(rel), "traces/%s", name);
	fx_data_path(path, sizeof(path), rel);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "fuzz-sreplay: cannot open %s\n", path);
		abort();
	}
	return f;
}

/* Keep a recorded client command to send again. */
static void
keep(unsigned t, const struct vx_trace_rec *rec)
{
	struct cmsg *c;
	uint64_t cmd;

	if (rec->kind != VX_TR_MESSAGE || rec->dir != VX_C2S ||
	    rec->chan != VX_CHAN_MAIN || rec->len < VX_HDR_SIZE ||
	    rec->len > VX_HDR_SIZE + MAX_BODY ||
	    (vx_load(rec->data + VX_HDR_OFF_FLAGS, 4, 0) & VX_F_TYPE_MASK))
		return;
	/* what a harness record can say: a u8 command */
	if ((cmd = vx_load(rec->data + VX_HDR_OFF_CMD, 2, 0)) > UINT8_MAX)
		return;
	if ((cmsgs[t] = realloc(cmsgs[t], (ncmsgs[t] + 1) *
	    sizeof(*cmsgs[t]))) == NULL)
		abort();
	c = &cmsgs[t][ncmsgs[t]++];
	if ((c->body = malloc(rec->len - VX_HDR_SIZE + 1)) == NULL)
		abort();
	memcpy(c->body, rec->data + VX_HDR_SIZE, rec->len - VX_HDR_SIZE);
	c->len = rec->len - VX_HDR_SIZE;
	c->cmd = (uint8_t)cmd;
	/* the harness's ctl: how many (0-3), eventfds or memfds */
	c->fdctl = (uint8_t)((rec->nfds < 3 ? rec->nfds : 3) |
	    (rec->nfds > 0 && rec->fds[0].kind == VX_FD_EVENTFD ? 4 : 0));
}

/* traces/NAME as a pcap in /tmp, and its client commands in cmsgs[t]. */
static void
make_trace(unsigned t)
{
	static struct vx_fd_info fds[VX_TRACE_MAX_FDS];
	static uint8_t buf[1 << 20];
	struct vx_trace_writer *w;
	struct vx_trace_rec rec;
	char *line = NULL, why[200], note[256];
	size_t cap = 0;
	unsigned given;
	FILE *in = open_source(names[t]);
	int fd;

	snprintf(traces[t], sizeof(traces[t]), "/tmp/fuzz-sreplay-XXXXXX");
	if ((fd = mkstemp(traces[t])) < 0 ||
	    vx_trace_writer_fdopen(fd, NULL, &w) < 0)
		abort();
	while (getline(&line, &cap, in) > 0) {
		if (vx_trace_rec_parse(line, &rec, buf, sizeof(buf), fds,
		    &given, note, sizeof(note), why, sizeof(why)) < 0) {
			fprintf(stderr, "fuzz-sreplay: %s: %s\n", names[t], why);
			abort();
		}
		if (rec.kind == VX_TR_DIGEST)
			continue;
		if (vx_trace_write_event(w, &rec) < 0)
			abort();
		keep(t, &rec);
	}
	free(line);
	fclose(in);
	if (vx_trace_writer_close(w) < 0 || ncmsgs[t] == 0)
		abort();
}

static void
remove_traces(void)
{
	unlink(traces[0]);
	unlink(traces[1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fx_init();
	make_trace(0);
	make_trace(1);
	atexit(remove_traces);
	return 0;
}

/* Check one message the replay sent us (the harness's sent hook). */
static void
check_sent(void *arg, struct vx_frame *f, int chan)
{
	struct stat st;
	int k;

	(void)arg;
	(void)chan;
	for (k = 0; k < f->nfds; k++)
		if (fstat(f->fds[k], &st) < 0)
			fx_fail(NULL, "descriptor %d passed is not open", k);
}

/* The harness's step for the replay: more to do while its timeout is 0. */
static int
sreplay_step(void *rp)
{
	int r;

	if ((r = vx_sreplay_step(rp)) != 0)
		return r;
	return vx_sreplay_timeout(rp) == 0;
}

/* Write a harness record into out: its length. */
static size_t
put_record(uint8_t *out, unsigned ctl, unsigned cmd, const uint8_t *p,
    size_t len)
{
	out[0] = (uint8_t)ctl;
	out[1] = (uint8_t)cmd;
	vx_store(out + 2, 2, len, 0);
	memcpy(out + REC_HDR, p, len);
	return REC_HDR + len;
}

/* Recorded message number arg of trace t as a harness record, the len
 * bytes of p (after their first, the offset) written over its body. */
static size_t
put_recorded(uint8_t *out, unsigned t, unsigned ctl, unsigned arg,
    const uint8_t *p, size_t len)
{
	const struct cmsg *m = &cmsgs[t][arg % ncmsgs[t]];
	uint8_t *body = out + REC_HDR;
	size_t at;

	put_record(out, (ctl & ~(CTL_RECORDED | CTL_HARNESS_FDS | CTL_DMA_REPLY)) |
	    m->fdctl, m->cmd, m->body, m->len);
	if (len > 1 && m->len > 0) {
		at = p[0] % m->len;
		memcpy(body + at, p + 1, len - 1 < m->len - at ?
		    len - 1 : m->len - at);
	}
	return REC_HDR + m->len;
}

/* The input's records for trace t in the harness's form, in out. */
static size_t
rewrite(unsigned t, const uint8_t *data, size_t size, uint8_t *out)
{
	size_t at = 0, n = 0, len;
	unsigned nrec = 0;

	while (nrec++ < VX_FUZZ_INPUT_MAX_RECORDS && size - at >= REC_HDR) {
		unsigned ctl = data[at], arg = data[at + 1];

		len = (size_t)data[at + 2] | (size_t)data[at + 3] << 8;
		at += REC_HDR;
		if (len > size - at)
			len = size - at;
		if (ctl & CTL_RECORDED)
			n += put_recorded(out + n, t, ctl, arg, data + at, len);
		else
			n += put_record(out + n, ctl, arg, data + at, len);
		at += len;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t in[VX_FUZZ_INPUT_MAX_RECORDS * (REC_HDR + MAX_BODY)];
	struct vx_fuzz_input *fi;
	struct vx_sreplay *rp;
	char err[512];
	size_t n;
	unsigned t;
	int sock, r;

	if (size < 1)
		return 0;
	t = data[0] & 1u;
	n = rewrite(t, data + 1, size - 1, in);
	if ((fi = vx_fuzz_input_new(VX_FUZZ_INPUT_NO_VERSION, &sock)) == NULL)
		return 0;
	if (vx_sreplay_open(traces[t], &rp, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-sreplay: %s\n", err);
		abort();
	}
	if (getenv("FUZZ_SERVER_LOG") != NULL)
		vx_sreplay_set_log(rp, log_line, NULL, 1);
	if (vx_sreplay_attach(rp, sock) < 0)
		abort();
	vx_fuzz_input_set_sent(fi, check_sent, NULL);
	r = vx_fuzz_input_run(fi, in, n, sreplay_step, rp);
	if (r == VX_ERR_BUSY)
		fx_fail(NULL, "the replay keeps busy without input");
	if (r != 0 && r != VX_ERR_TOO_LARGE && r != VX_ERR_NOMEM)
		fx_fail(NULL, "the replay ended a connection the client kept: "
		    "%s (%s)", vx_strerror(r), vx_sreplay_errmsg(rp));
	vx_sreplay_free(rp);
	vx_fuzz_input_free(fi);
	return 0;
}
