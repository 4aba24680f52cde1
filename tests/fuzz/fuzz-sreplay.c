/*
 * fuzz-sreplay.c - libFuzzer target for vfuctl server --replay, in
 * process: a struct vx_sreplay (lib/server-replay.c) playing a trace of
 * the replay corpus (traces/replay-gpio.jsonl, traces/replay-dma-twin.jsonl,
 * made pcap at start) over a socketpair to a client built from the input,
 * which sends the recorded client messages, mutations of them and made-up
 * ones, and answers the server's DMA requests.
 *
 * Input:
 *   byte 0   bit 0: the trace, replay-gpio or replay-dma-twin
 *   then records: u8 ctl, u8 arg, u16 len (little-endian), len bytes:
 *     ctl bits 0-1  0: the recorded client message number arg (modulo
 *                   their count) with fresh descriptors of the recorded
 *                   kinds; 1: the same with the len bytes written over its
 *                   body from byte arg (modulo its body); 2: a message of
 *                   command arg around the len bytes; 3: a reply to the
 *                   server's last DMA request around them (error flag if
 *                   arg bit 0)
 *     ctl bit 2     flag no_reply
 *     ctl bit 3     split the message in two writes, the server stepped
 *                   between them
 *     ctl bits 4-5  (kinds 2, 3) that many eventfds with it
 *
 * After every record the server runs until it waits for input and what it
 * sent is read back.  The replay must survive every client: only the
 * client's end may end the connection, or a limit (a message too large,
 * too many requests queued behind a DMA request, memory).
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "server-replay-int.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-trace.h"
#include "fuzz-common.h"

#define MAX_RECORDS	64
#define MAX_MSG		(VX_HDR_SIZE + 65536)
#define MAX_FDS		4

static const char *const names[2] = { "replay-gpio.jsonl",
    "replay-dma-twin.jsonl" };
static char traces[2][64];	/* the pcap made of each at start */

/* The recorded client commands of a trace, to send again. */
struct cmsg {
	uint8_t *buf;
	size_t len;
	unsigned nfds;
	struct vx_fd_info fds[MAX_FDS];
};
static struct cmsg *cmsgs[2];
static size_t ncmsgs[2];

struct client {
	int sock, twin;
	struct vx_framer in[2];		/* main, twin */
	uint16_t dma_id, dma_cmd;	/* the server's last DMA request */
	int dma_chan, have_dma;
};

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
	char path[PATH_MAX], exe[PATH_MAX];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "traces/%s", name);
	if ((f = fopen(path, "r")) != NULL)
		return f;
	/* run from elsewhere: build-fuzz/tests/fuzz/ beside the sources */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (strrchr(exe, '/') != NULL)
		*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/../../../traces/%s", exe, name);
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

	if (rec->kind != VX_TR_MESSAGE || rec->dir != VX_C2S ||
	    rec->chan != VX_CHAN_MAIN || rec->len < VX_HDR_SIZE ||
	    rec->len > MAX_MSG ||
	    (vx_load(rec->data + VX_HDR_OFF_FLAGS, 4, 0) & VX_F_TYPE_MASK))
		return;
	if ((cmsgs[t] = realloc(cmsgs[t], (ncmsgs[t] + 1) *
	    sizeof(*cmsgs[t]))) == NULL)
		abort();
	c = &cmsgs[t][ncmsgs[t]++];
	if ((c->buf = malloc(rec->len)) == NULL)
		abort();
	memcpy(c->buf, rec->data, rec->len);
	c->len = rec->len;
	c->nfds = rec->nfds < MAX_FDS ? rec->nfds : MAX_FDS;
	if (c->nfds > 0)
		memcpy(c->fds, rec->fds, c->nfds * sizeof(*c->fds));
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

static int
make_fd(const struct vx_fd_info *f)
{
	int fd;

	if (f == NULL || f->kind == VX_FD_EVENTFD)
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fd = memfd_create("fuzz-sreplay", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, f->size > 0 && f->size < (1 << 20) ?
	    f->size : 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send msg on sock with nfds fresh descriptors: like fds, else eventfds. */
static void
send_msg(int sock, const uint8_t *msg, size_t len,
    const struct vx_fd_info *like, unsigned nfds)
{
	int fds[MAX_FDS], k = 0;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { NULL, 0, &iov, 1, NULL, 0, 0 };
	struct cmsghdr *cm;
	unsigned i;

	for (i = 0; i < nfds && i < MAX_FDS; i++)
		if ((fds[k] = make_fd(like != NULL ? &like[i] : NULL)) >= 0)
			k++;
	if (k > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)k);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)k);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)k);
	}
	(void)sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (k-- > 0)
		close(fds[k]);
}

/* Note a DMA request the server sent; keep the twin socket it gave. */
static void
check_sent(struct client *c, struct vx_frame *f, int chan)
{
	struct stat st;
	int k;

	if (f->bad)
		return;	/* a recorded message may be anything */
	if (!(vx_load(f->data + VX_HDR_OFF_FLAGS, 4, 0) & VX_F_TYPE_MASK)) {
		c->dma_id = (uint16_t)vx_load(f->data + VX_HDR_OFF_ID, 2, 0);
		c->dma_cmd = (uint16_t)vx_load(f->data + VX_HDR_OFF_CMD, 2, 0);
		c->dma_chan = chan;
		c->have_dma = 1;
	}
	for (k = 0; k < f->nfds; k++) {
		if (fstat(f->fds[k], &st) < 0)
			fx_fail(NULL, "descriptor %d passed is not open", k);
		if (S_ISSOCK(st.st_mode) && c->twin < 0) {
			c->twin = f->fds[k];
			f->fds[k] = -1;
			fcntl(c->twin, F_SETFL, O_NONBLOCK);
			c->in[1].sock = c->twin;
		}
	}
}

static void
drain(struct client *c)
{
	struct vx_frame f;
	int chan, r;

	for (chan = 0; chan < 2; chan++) {
		if (c->in[chan].sock < 0)
			continue;
		do {
			while (vx_framer_next(&c->in[chan], &f) == 1) {
				check_sent(c, &f, chan);
				vx_frame_release(&f);
			}
			r = vx_framer_recv(&c->in[chan]);
		} while (r == 1 || r == 0 || r == VX_ERR_FDS);
	}
}

/* Step the replay until it waits for input (or a DMA reply); 0 while it
 * serves. */
static int
run(struct vx_sreplay *rp, struct client *c)
{
	int r, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		if ((r = vx_sreplay_step(rp)) != 0)
			return r;
		drain(c);
		if (vx_sreplay_timeout(rp) != 0)
			return 0;
	}
	fx_fail(NULL, "the replay keeps busy without input");
	return 0;
}

/* Build a record's message in msg; its length, the descriptors to send
 * (like: recorded kinds, else eventfds) and the channel. */
static size_t
build(struct client *c, unsigned t, uint8_t *msg, unsigned ctl,
    unsigned arg, const uint8_t *p, size_t len, const struct vx_fd_info **like,
    unsigned *nfds, int *chan)
{
	const struct cmsg *m = &cmsgs[t][arg % ncmsgs[t]];
	uint32_t flags = VX_F_TYPE_COMMAND;
	size_t at;

	*chan = 0;
	*like = NULL;
	*nfds = (ctl >> 4) & 3u;
	switch (ctl & 3u) {
	case 0:
	case 1:
		memcpy(msg, m->buf, m->len);
		*like = m->fds;
		*nfds = m->nfds;
		if ((ctl & 3u) == 1 && m->len > VX_HDR_SIZE) {
			at = VX_HDR_SIZE + arg % (m->len - VX_HDR_SIZE);
			memcpy(msg + at, p, len < m->len - at ? len : m->len - at);
		}
		if (ctl & 4u)
			vx_store(msg + VX_HDR_OFF_FLAGS, 4,
			    vx_load(msg + VX_HDR_OFF_FLAGS, 4, 0) |
			    VX_F_NO_REPLY, 0);
		return m->len;
	case 3:
		if (c->have_dma) {
			flags = VX_F_TYPE_REPLY | ((arg & 1u) ? VX_F_ERROR : 0);
			*chan = c->dma_chan;
			vx_store(msg + VX_HDR_OFF_ID, 2, c->dma_id, 0);
			arg = c->dma_cmd;
			break;
		}
		/* FALLTHROUGH */
	default:
		vx_store(msg + VX_HDR_OFF_ID, 2, 0x7000 + arg, 0);
		break;
	}
	if (ctl & 4u)
		flags |= VX_F_NO_REPLY;
	vx_store(msg + VX_HDR_OFF_CMD, 2, arg, 0);
	vx_store(msg + VX_HDR_OFF_SIZE, 4, VX_HDR_SIZE + len, 0);
	vx_store(msg + VX_HDR_OFF_FLAGS, 4, flags, 0);
	vx_store(msg + VX_HDR_OFF_ERROR, 4, 0, 0);
	memcpy(msg + VX_HDR_SIZE, p, len);
	return VX_HDR_SIZE + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[MAX_MSG];
	struct vx_limits lim = { VX_DEF_MAX_XFER + 4096u, VX_MAX_FDS };
	const struct vx_fd_info *like;
	struct vx_sreplay *rp;
	struct client c;
	char err[512];
	size_t at = 1, len, n;
	unsigned t, nrec = 0, nfds;
	int sv[2], chan, r = 0, sock;

	if (size < 1)
		return 0;
	t = data[0] & 1u;
	if (vx_sreplay_open(traces[t], &rp, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-sreplay: %s\n", err);
		abort();
	}
	if (getenv("FUZZ_SERVER_LOG") != NULL)
		vx_sreplay_set_log(rp, log_line, NULL, 1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    vx_sreplay_attach(rp, sv[0]) < 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&c, 0, sizeof(c));
	c.sock = sv[1];
	c.twin = -1;
	vx_framer_init(&c.in[0], c.sock, &lim);
	vx_framer_init(&c.in[1], -1, &lim);
	while (r == 0 && nrec++ < MAX_RECORDS && size - at >= 4) {
		unsigned ctl = data[at], arg = data[at + 1];

		len = (size_t)data[at + 2] | (size_t)data[at + 3] << 8;
		at += 4;
		if (len > size - at)
			len = size - at;
		n = build(&c, t, msg, ctl, arg, data + at, len, &like, &nfds,
		    &chan);
		at += len;
		sock = chan == 1 && c.twin >= 0 ? c.twin : c.sock;
		if (ctl & 8u) {
			send_msg(sock, msg, n / 2, like, nfds);
			r = run(rp, &c);
			send_msg(sock, msg + n / 2, n - n / 2, NULL, 0);
		} else {
			send_msg(sock, msg, n, like, nfds);
		}
		if (r == 0)
			r = run(rp, &c);
	}
	if (r != 0 && r != VX_ERR_TOO_LARGE && r != VX_ERR_NOMEM)
		fx_fail(NULL, "the replay ended a connection the client kept: "
		    "%s (%s)", vx_strerror(r), vx_sreplay_errmsg(rp));
	vx_sreplay_free(rp);
	vx_framer_release(&c.in[0]);
	vx_framer_release(&c.in[1]);
	close(c.sock);
	if (c.twin >= 0)
		close(c.twin);
	return 0;
}
