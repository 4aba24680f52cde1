/*
 * fuzz.c - the fuzzer's engine (vx-fuzz.h): a connection brought to a
 * state by its prefix, execs of mutated messages on it, the oracles, and
 * findings reproduced, minimized and saved as traces.
 *
 * Messages go out with the fuzzer's own writes (so that one can be split,
 * or several joined, and descriptors go where the mutation puts them);
 * vx_conn frames what comes back: every reply is a "stray" to it, matched
 * here by msg_id.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-cov.h"
#include "fuzz-int.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-fuzz.h"
#include "vx-sock.h"
#include "vx-trace.h"
#include "vx-walk.h"

#define MAX_WINS	16
#define MAX_KEYS	64
#define MAX_STATES	1024
#define MAX_TRIES	150	/* reproductions per minimization */
#define MAX_HIST	512	/* messages kept of one connection */
#define MAX_CORPUS	256	/* messages kept for reaching a new state */
#define MAX_CORPUS_COV	1024	/* ... or, guided, new edges */

enum outcome { OUT_OK, OUT_CLOSED, OUT_TIMEOUT, OUT_VIOLATION };

struct fwin {
	uint64_t addr, size;
	uint8_t *mem;
};

struct vx_fuzz {
	struct vx_fuzz_opts o;
	struct vx_fuzz_hooks h;
	struct rng rng;
	struct fdev dev;
	struct vx_builder b;
	struct vx_decoder dec, mdec;
	struct vx_conn *conn;
	struct fwin wins[MAX_WINS];
	unsigned nwins;
	uint16_t next_id;
	unsigned conn_execs;
	struct fseq prefix;	/* sent on every new connection */
	struct fseq hist;	/* sent on this connection */
	struct fseq pool;	/* seed commands */
	struct fseq corpus;	/* messages that reached a new state */
	struct fseq cur;	/* the exec being built */
	struct fseq found;	/* what led to the finding at hand */
	struct fz_cov cov;	/* AFL++ coverage, where the server has it */
	uint32_t states[MAX_STATES];
	unsigned nstates;
	uint32_t cmds_ok;
	char keys[MAX_KEYS][sizeof ((struct vx_fuzz_finding *)0)->key];
	unsigned nkeys;
	struct vx_fuzz_stats st;
	/* the last outcome */
	uint16_t last_cmd;
	int stale;		/* the server may be dead or stuck */
	int version_ok;		/* VERSION was answered on this connection */
	char why[256];
	/* saving */
	struct vx_trace_writer *tw;
	uint64_t seq[2];
	uint16_t owed_id;	/* the msg_id of the last command sent */
	uint64_t exec_no;
	char err[512];
};

const char *
vx_fuzz_kind_name(int kind)
{
	static const char *const n[] = { "?", "crash", "hang", "violation",
	    "deaf" };

	return kind > 0 && kind <= VX_FUZZ_DEAF ? n[kind] : n[0];
}

/* --- recording (vx_fuzz_save) ----------------------------------------- */

static void
rec_msg(struct vx_fuzz *fz, int dir, const uint8_t *buf, size_t len,
    const uint8_t *fdk, unsigned nfds, const uint64_t *sizes)
{
	struct vx_fd_info fi[FZ_MAX_FDS];
	unsigned i;

	if (fz->tw == NULL)
		return;
	memset(fi, 0, sizeof fi);
	for (i = 0; i < nfds && i < FZ_MAX_FDS; i++) {
		fi[i].kind = fdk[i] == FZ_FD_MEMFD ? VX_FD_MEMFD :
		    VX_FD_EVENTFD;
		fi[i].size = fdk[i] == FZ_FD_MEMFD ? (off_t)sizes[i] : 0;
	}
	vx_trace_write_message(fz->tw, 1, 0, VX_CHAN_MAIN, dir, fz->seq[dir]++,
	    0, buf, len, fi, nfds);
}

static void
rec_event(struct vx_fuzz *fz, int kind, const char *text)
{
	struct vx_trace_rec ev = { 0 };

	if (fz->tw == NULL)
		return;
	ev.kind = (uint8_t)kind;
	ev.conn = 1;
	ev.data = (const uint8_t *)text;
	ev.len = text ? strlen(text) : 0;
	vx_trace_write_event(fz->tw, &ev);
}

/* --- the connection ---------------------------------------------------- */

static void
drop_conn(struct vx_fuzz *fz)
{
	unsigned i;

	for (i = 0; i < fz->nwins; i++)
		munmap(fz->wins[i].mem, fz->wins[i].size);
	fz->nwins = 0;
	vx_conn_free(fz->conn);
	fz->conn = NULL;
	fseq_clear(&fz->hist);
}

/*
 * With coverage, the server at rest before each write and before the map
 * is read: what it runs after a reply, and how many wakeups a split or a
 * No_reply message costs it, then do not depend on the scheduler.
 */
static void
cov_settle(struct vx_fuzz *fz)
{
	if (fz->h.settle != NULL && (fz->cov.state == VX_FUZZ_COV_PENDING ||
	    fz->cov.state == VX_FUZZ_COV_GUIDED))
		fz->h.settle(fz->h.arg);
}

static int
send_all(int sock, const uint8_t *buf, size_t len, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * FZ_MAX_FDS * 2)];
	struct msghdr mh = { 0 };
	struct pollfd p = { sock, POLLOUT, 0 };
	struct iovec iov;
	struct cmsghdr *cm;
	ssize_t n;

	while (len > 0) {
		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		if (nfds > 0) {
			memset(cbuf, 0, sizeof cbuf);
			mh.msg_control = cbuf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&p, 1, 1000) <= 0)
				return VX_ERR_CLOSED;
			continue;
		}
		if (n <= 0)
			return VX_ERR_CLOSED;
		buf += n;
		len -= (size_t)n;
		nfds = 0;
	}
	return 0;
}

/*
 * Wait for the server to have read all that was sent, so that the rest of
 * a split message comes in a read of its own and the split reproduces on
 * a loaded machine too; up to the reply timeout, beyond which a server
 * that reads nothing is a hang anyway.
 */
static void
drained(int sock, int timeout_ms)
{
	int64_t end = vx_conn_now_ms(NULL) + timeout_ms;
	int i;

	for (i = 0; ; i++) {
		if (vx_sock_unread(sock) <= 0 || vx_conn_now_ms(NULL) >= end)
			return;
		if (i < 50)
			sched_yield();
		else
			poll(NULL, 0, 1);
	}
}

/*
 * Say in the trace how m goes out (vfuctl replay sends it the same way):
 * in two writes, split at half of what goes in the write (olen bytes of
 * earlier messages joined to it, and it), or in one write with the next.
 */
static void
delivery_note(struct vx_fuzz *fz, const struct fmsg *m, size_t olen)
{
	char text[160];
	size_t half = (olen + m->len) / 2;

	if (m->how != FZ_SPLIT)
		snprintf(text, sizeof text, "vfuctl fuzz: the next message "
		    "went in one write with the one after it");
	else if (half > olen)
		snprintf(text, sizeof text, "vfuctl fuzz: the next message "
		    "went in two writes, its descriptors with the second: the "
		    "first %zu bytes alone", half - olen);
	else	/* the split falls in a message joined before it */
		snprintf(text, sizeof text, "vfuctl fuzz: the next message "
		    "went in two writes, its descriptors with the second");
	rec_event(fz, VX_TR_ANNOTATION, text);
}

/* The window a DMA_MAP's memfd backs, and how big a memfd to make. */
static uint64_t
map_size(const struct fmsg *m, uint64_t *addr)
{
	uint64_t size = 0;

	*addr = 0;
	if (vx_load(m->buf + VX_HDR_OFF_CMD, 2, 0) != VX_CMD_DMA_MAP ||
	    m->len < VX_HDR_SIZE + 32)
		return 4096;
	*addr = vx_load(m->buf + VX_HDR_SIZE + 16, 8, 0);
	size = vx_load(m->buf + VX_HDR_SIZE + 24, 8, 0);
	if (size == 0 || size > FZ_WIN_MAX)
		return 4096;
	return (size + 4095) & ~(uint64_t)4095;
}

static int
make_fds(struct vx_fuzz *fz, const struct fmsg *m, int *fds,
    uint64_t *sizes)
{
	uint64_t addr, size = map_size(m, &addr);
	unsigned i;
	void *p;

	for (i = 0; i < m->nfds; i++) {
		sizes[i] = 0;
		if (m->fdk[i] == FZ_FD_EVENTFD) {
			fds[i] = eventfd(0, EFD_CLOEXEC);
		} else {
			fds[i] = memfd_create("vfuctl-fuzz", MFD_CLOEXEC);
			sizes[i] = size;
			if (fds[i] >= 0 && ftruncate(fds[i], (off_t)size) < 0) {
				close(fds[i]);
				fds[i] = -1;
			}
			if (fds[i] >= 0 && i == 0 && addr != 0 &&
			    fz->nwins < MAX_WINS && (p = mmap(NULL, size,
			    PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0)) !=
			    MAP_FAILED)
				fz->wins[fz->nwins++] =
				    (struct fwin){ addr, size, p };
		}
		if (fds[i] < 0) {
			while (i-- > 0)
				close(fds[i]);
			return VX_ERR_IO;
		}
	}
	return 0;
}

static void
note_state(struct vx_fuzz *fz, const struct vx_msg *m, int *novel)
{
	uint32_t key = (uint32_t)(m->cmd < VX_CMD_MAX ? m->cmd : 0xffff) << 16 |
	    (m->error & 0xffff);
	unsigned i;

	if (!(m->flags & VX_F_ERROR) && m->cmd < 32)
		fz->cmds_ok |= 1u << m->cmd;
	for (i = 0; i < fz->nstates; i++)
		if (fz->states[i] == key)
			return;
	if (fz->nstates < MAX_STATES) {
		fz->states[fz->nstates++] = key;
		*novel = 1;
	}
}

/* What the prefix's replies teach about the device. */
static void
learn(struct vx_fuzz *fz, const struct vx_msg *m)
{
	uint64_t v = 0, i = 0;

	if (m->flags & VX_F_ERROR || m->status != VX_MSG_OK)
		return;
	switch (m->cmd) {
	case VX_CMD_DEVICE_GET_INFO:
		vx_msg_get(m, VXF_DEV_NUM_REGIONS, &v);
		fz->dev.nregions = (uint32_t)(v > 64 ? 64 : v);
		vx_msg_get(m, VXF_DEV_NUM_IRQS, &v);
		fz->dev.nirqs = (uint32_t)(v > 64 ? 64 : v);
		break;
	case VX_CMD_DEVICE_GET_REGION_INFO:
		if (vx_msg_get(m, VXF_REGION_INDEX, &i) == 0 &&
		    i < FZ_MAX_REGIONS) {
			vx_msg_get(m, VXF_RINFO_SIZE, &fz->dev.rsize[i]);
			vx_msg_get(m, VXF_RINFO_FLAGS, &v);
			fz->dev.rflags[i] = (uint32_t)v;
		}
		break;
	case VX_CMD_DEVICE_GET_IRQ_INFO:
		if (vx_msg_get(m, VXF_IRQ_INDEX, &i) == 0 && i < FZ_MAX_IRQS &&
		    vx_msg_get(m, VXF_IRQ_COUNT, &v) == 0)
			fz->dev.icount[i] = (uint32_t)(v > 1024 ? 1024 : v);
		break;
	}
}

/* Answer the server's DMA_READ/DMA_WRITE from the windows; now and then
 * with an error, as a hostile client would. */
static void
serve_dma(struct vx_fuzz *fz, struct vx_conn_event *ev)
{
	struct vx_msg m, out;
	uint64_t addr = 0, count = 0;
	struct fwin *w = NULL;
	unsigned i;
	int ok;

	if (vx_conn_decode(fz->conn, ev, &m) < 0)
		return;
	rec_msg(fz, VX_S2C, m.buf, m.len, NULL, 0, NULL);
	if (m.flags & VX_F_NO_REPLY)
		return;
	vx_msg_get(&m, VXF_DMA_ADDR, &addr);
	if (vx_msg_get(&m, VXF_DMA_COUNT, &count) < 0)
		vx_msg_get(&m, VXF_DMA_COUNT32, &count);
	for (i = 0; i < fz->nwins; i++)
		if (addr >= fz->wins[i].addr && count <= fz->wins[i].size &&
		    addr - fz->wins[i].addr <= fz->wins[i].size - count)
			w = &fz->wins[i];
	ok = w != NULL && m.status == VX_MSG_OK && count <= FZ_WIN_MAX &&
	    (m.cmd == VX_CMD_DMA_READ || m.cmd == VX_CMD_DMA_WRITE) &&
	    rng_below(&fz->rng, 10) != 0;
	vx_build_header(&fz->b, m.id, m.cmd, VX_F_TYPE_REPLY |
	    (ok ? 0 : VX_F_ERROR), ok ? 0 : EINVAL);
	if (ok && m.cmd == VX_CMD_DMA_READ) {
		vx_build_uint(&fz->b, VXF_DMA_ADDR, addr);
		vx_build_uint(&fz->b, VXF_DMA_COUNT, count);
		vx_build_bytes(&fz->b, VXF_DMA_DATA, w->mem + (addr - w->addr),
		    count);
	} else if (ok) {
		if (m.data != NULL && m.dlen == count)
			memcpy(w->mem + (addr - w->addr), m.data, count);
		vx_build_uint(&fz->b, VXF_DMA_ADDR, addr);
		vx_build_uint(&fz->b, VXF_DMA_COUNT, count);
	}
	if (vx_build_finish(&fz->b, &out) == 0 &&
	    send_all(vx_conn_sock(fz->conn), out.buf, out.len, NULL, 0) == 0) {
		rec_msg(fz, VX_C2S, out.buf, out.len, NULL, 0, NULL);
		fz->st.dma_served++;
	}
}

/* A reply that breaks the protocol: why, or NULL. */
static const char *
check_reply(struct vx_fuzz *fz, const struct vx_msg *m, uint16_t cmd)
{
	if (m->cmd != cmd)
		return "the reply names another command than the one sent";
	if ((m->flags & VX_F_ERROR) && m->error == 0)
		return "an error reply without an errno";
	if (m->status == VX_MSG_MALFORMED) {
		snprintf(fz->why, sizeof fz->why, "a malformed reply: %s",
		    m->err.text);
		return fz->why;
	}
	return NULL;
}

struct await {
	uint16_t id[FZ_MAX_FDS * 4], cmd[FZ_MAX_FDS * 4];
	unsigned n;
	uint16_t noreply[8];
	unsigned nnoreply;
	/*
	 * The commands in the order sent, No_reply ones too, and how many of
	 * them are done: those up to the last one answered, as a server
	 * takes its commands in order.  A hang began at the first not done,
	 * which a No_reply command before the awaited one may be.
	 */
	uint16_t order_id[64], order_cmd[64];
	unsigned norder, done;
};

/* One reply came: match it, check it.  OUT_OK or OUT_VIOLATION. */
static int
on_reply(struct vx_fuzz *fz, struct vx_conn_event *ev, struct await *a,
    int *novel)
{
	struct vx_msg m;
	const char *bad;
	unsigned i, k;

	if (vx_conn_decode(fz->conn, ev, &m) < 0)
		return OUT_OK;
	rec_msg(fz, VX_S2C, m.buf, m.len, NULL, 0, NULL);
	for (i = 0; i < a->nnoreply; i++)
		if (a->noreply[i] == m.id) {
			snprintf(fz->why, sizeof fz->why, "a reply (msg_id "
			    "0x%x) to a command sent with No_reply", m.id);
			return OUT_VIOLATION;
		}
	for (i = 0; i < a->n && a->id[i] != m.id; i++)
		;
	if (i == a->n)
		return OUT_OK;	/* a reply to an earlier exec's: stale */
	fz->last_cmd = a->cmd[i];
	for (k = a->done; k < a->norder; k++)
		if (a->order_id[k] == m.id)
			a->done = k + 1;
	bad = check_reply(fz, &m, a->cmd[i]);
	a->id[i] = a->id[--a->n];
	a->cmd[i] = a->cmd[a->n];
	if (bad != NULL) {
		if (bad != fz->why)
			snprintf(fz->why, sizeof fz->why, "%s", bad);
		return OUT_VIOLATION;
	}
	if (m.cmd == VX_CMD_VERSION && !(m.flags & VX_F_ERROR))
		fz->version_ok = 1;
	learn(fz, &m);
	if (fz->version_ok)	/* not a server busy with another client */
		note_state(fz, &m, novel);
	return OUT_OK;
}

/* Wait for every awaited reply, serving the server meanwhile. */
static int
await_replies(struct vx_fuzz *fz, struct await *a, int *novel)
{
	int64_t deadline = vx_conn_now_ms(NULL) + fz->o.timeout_ms;
	struct pollfd pfd[VX_CONN_MAX_POLLFDS];
	struct vx_conn_event ev;
	int n, r, left;

	for (;;) {
		while ((r = vx_conn_step(fz->conn, &ev)) > 0) {
			if (ev.kind == VX_CONN_EV_CLOSED)
				return OUT_CLOSED;
			if (ev.kind == VX_CONN_EV_BAD) {
				snprintf(fz->why, sizeof fz->why, "unframeable "
				    "bytes from the server (%s)",
				    vx_strerror(ev.err));
				return OUT_VIOLATION;
			}
			if (ev.kind == VX_CONN_EV_REQUEST)
				serve_dma(fz, &ev);
			else if (ev.kind == VX_CONN_EV_STRAY &&
			    (r = on_reply(fz, &ev, a, novel)) != OUT_OK)
				return r;
		}
		if (a->n == 0)
			return OUT_OK;
		left = (int)(deadline - vx_conn_now_ms(NULL));
		if (r < 0 || left <= 0 ||
		    (n = vx_conn_pollfds(fz->conn, pfd)) == 0)
			return r < 0 ? OUT_CLOSED : OUT_TIMEOUT;
		if (poll(pfd, (nfds_t)n, left) < 0 && errno != EINTR)
			return OUT_CLOSED;
	}
}

/*
 * Send the messages of s from first on (joined ones in one write), waiting
 * for the replies after each write.  *sent: how many went out.
 */
static int
send_seq(struct vx_fuzz *fz, const struct fseq *s, size_t first,
    size_t *sent, int *novel)
{
	static uint8_t out[FZ_MSG_MAX * 2];
	struct await a;
	int fds[FZ_MAX_FDS], r = OUT_OK, i, joins;
	uint64_t sizes[FZ_MAX_FDS];
	size_t k, olen = 0, half;
	uint32_t flags;

	memset(&a, 0, sizeof a);
	for (k = first, *sent = first; k < s->n && r == OUT_OK; k++) {
		struct fmsg *m = &s->v[k];

		if (m->len < VX_HDR_SIZE)
			continue;
		if (++fz->next_id == 0)
			fz->next_id = 1;
		vx_store(m->buf + VX_HDR_OFF_ID, 2, fz->next_id, 0);
		vx_store(m->buf + VX_HDR_OFF_SIZE, 4, m->len, 0);
		flags = (uint32_t)vx_load(m->buf + VX_HDR_OFF_FLAGS, 4, 0);
		fz->last_cmd = (uint16_t)vx_load(m->buf + VX_HDR_OFF_CMD, 2, 0);
		if (make_fds(fz, m, fds, sizes) < 0)
			return OUT_CLOSED;
		joins = m->how == FZ_JOIN && k + 1 < s->n && m->nfds == 0 &&
		    olen + m->len <= sizeof out / 2;
		if (m->how == FZ_SPLIT || joins)	/* vfuctl replay reads these */
			delivery_note(fz, m, olen);
		rec_msg(fz, VX_C2S, m->buf, m->len, m->fdk, m->nfds, sizes);
		fz->st.messages++;
		if ((flags & VX_F_TYPE_MASK) == VX_F_TYPE_COMMAND &&
		    !(flags & VX_F_NO_REPLY) && a.n < FZ_MAX_FDS * 4) {
			a.id[a.n] = fz->next_id;
			a.cmd[a.n++] = fz->last_cmd;
		} else if ((flags & VX_F_NO_REPLY) && a.nnoreply < 8)
			a.noreply[a.nnoreply++] = fz->next_id;
		if ((flags & VX_F_TYPE_MASK) == VX_F_TYPE_COMMAND &&
		    a.norder < sizeof a.order_id / sizeof *a.order_id) {
			a.order_id[a.norder] = fz->next_id;
			a.order_cmd[a.norder++] = fz->last_cmd;
		}
		if (joins) {
			memcpy(out + olen, m->buf, m->len);
			olen += m->len;
			*sent = k + 1;
			continue;	/* goes out with the next one */
		}
		memcpy(out + olen, m->buf, m->len);
		olen += m->len;
		half = m->how == FZ_SPLIT ? olen / 2 : 0;
		cov_settle(fz);
		if (half > 0) {	/* the descriptors come with the second part */
			r = send_all(vx_conn_sock(fz->conn), out, half, NULL, 0);
			drained(vx_conn_sock(fz->conn), fz->o.timeout_ms);
			cov_settle(fz);
		}
		if (r == 0)
			r = send_all(vx_conn_sock(fz->conn), out + half,
			    olen - half, fds, m->nfds);
		if (r == 0 && half > 0)	/* its rest in a read of its own */
			drained(vx_conn_sock(fz->conn), fz->o.timeout_ms);
		for (i = 0; i < m->nfds; i++)
			close(fds[i]);
		olen = 0;
		*sent = k + 1;
		r = r < 0 ? OUT_CLOSED : await_replies(fz, &a, novel);
	}
	if (r == OUT_TIMEOUT && a.done < a.norder)
		fz->last_cmd = a.order_cmd[a.done];
	return r;
}

/* The connect hook, tried again for up to 3 s while the server refuses
 * (its backlog full while it still serves the last connection). */
static int
connect_retry(struct vx_fuzz *fz, char *why, size_t whycap)
{
	int64_t end = vx_conn_now_ms(NULL) + 3000;
	int sock;

	while ((sock = fz->h.connect(fz->h.arg, why, whycap)) == VX_ERR_IO &&
	    vx_conn_now_ms(NULL) < end)
		poll(NULL, 0, 10);
	return sock;
}

/* One try at a new connection, brought to the prefix's state. */
static int
try_conn(struct vx_fuzz *fz)
{
	struct vx_limits lim = VX_LIMITS_DEFAULT;
	size_t sent, k;
	int sock, r, novel = 0;

	drop_conn(fz);
	if ((sock = connect_retry(fz, fz->err, sizeof fz->err)) < 0)
		return sock;
	if ((fz->conn = vx_conn_new(sock, VX_CONN_CLIENT, &lim)) == NULL)
		return VX_ERR_NOMEM;
	vx_conn_set_peer_limits(fz->conn, FZ_MAX_FDS * 2, FZ_MSG_MAX * 2);
	fz->conn_execs = 0;
	fz->version_ok = 0;
	rec_event(fz, VX_TR_OPEN, NULL);
	r = send_seq(fz, &fz->prefix, 0, &sent, &novel);
	for (k = 0; k < sent && k < fz->prefix.n; k++)
		if (fseq_push(&fz->hist, &fz->prefix.v[k]) < 0)
			return VX_ERR_NOMEM;
	if (r == OUT_OK && !fz->version_ok)
		return VX_ERR_BUSY;	/* refused: another client is on */
	return r;
}

/*
 * A new connection.  A server that serves one client at a time may not
 * have seen the last one go yet: it refuses, or answers VERSION with an
 * error, for a moment; that is tried again for up to 3 s.
 */
static int
open_conn(struct vx_fuzz *fz)
{
	int64_t end = vx_conn_now_ms(NULL) + 3000;
	int r;

	fz->st.reconnects++;
	while ((r = try_conn(fz)) == VX_ERR_BUSY) {
		if (vx_conn_now_ms(NULL) >= end || fz->tw != NULL)
			break;
		poll(NULL, 0, 10);
	}
	return r == VX_ERR_BUSY ? OUT_CLOSED : r;
}

/* --- findings ----------------------------------------------------------- */

/* The outcome as a finding kind (0: none), with the server's fate. */
static int
judge(struct vx_fuzz *fz, int out, struct vx_fuzz_fate *fate)
{
	uint16_t cmd = fz->last_cmd;
	int kind = 0;

	memset(fate, 0, sizeof *fate);
	fate->status = -1;
	if (out == OUT_VIOLATION)
		return VX_FUZZ_VIOLATION;
	if (out != OUT_CLOSED && out != OUT_TIMEOUT)
		return 0;
	/* a sanitizer may take a while to write its report and exit (the
	 * hook waits longer once one has begun); a server merely stuck is
	 * not waited for a second time */
	if (fz->h.fate != NULL) {
		fz->h.fate(fz->h.arg, out == OUT_TIMEOUT ?
		    (fz->o.timeout_ms < 100 ? fz->o.timeout_ms : 100) : 0, fate);
		if (fate->dead)
			return VX_FUZZ_CRASH;
	}
	if (out == OUT_TIMEOUT)
		return VX_FUZZ_HANG;
	/* a server may close a connection it dislikes: does it still serve? */
	if (open_conn(fz) != OUT_OK) {
		kind = VX_FUZZ_DEAF;
		if (fz->h.fate != NULL) {
			fz->h.fate(fz->h.arg, fz->o.timeout_ms, fate);
			if (fate->dead)
				kind = VX_FUZZ_CRASH;
		}
	}
	fz->last_cmd = cmd;
	return kind;
}

/* Kind, signal, and the sanitizer's frames where there are some (they
 * name the bug better than the last command, which is ambiguous when
 * several messages went in one write), else the last command. */
static void
make_key(struct vx_fuzz_finding *f)
{
	const char *cn = vx_cmd_name(f->last_cmd);

	snprintf(f->key, sizeof f->key, "%s|%d|%s",
	    vx_fuzz_kind_name(f->kind), f->fate.sig, f->fate.frames[0] ?
	    f->fate.frames : cn ? cn : "?");
}

/*
 * Run s on a new connection, to a fresh server when the last run left it
 * dead or stuck, or when fresh asks: the finding kind it leads to (0:
 * none).
 */
static int
reproduce(struct vx_fuzz *fz, const struct fseq *s, struct vx_fuzz_fate *fate,
    int fresh)
{
	char why[256];
	size_t sent;
	struct vx_trace_writer *tw;
	int r, novel = 0, kind;

	drop_conn(fz);
	if (fz->h.restart != NULL && (fz->stale || fresh)) {
		if (fz->h.restart(fz->h.arg, why, sizeof why) < 0)
			return -1;
		fz->st.restarts++;
	}
	fz->stale = 1;
	if ((r = connect_retry(fz, why, sizeof why)) < 0)
		return -1;
	if ((fz->conn = vx_conn_new(r, VX_CONN_CLIENT, NULL)) == NULL)
		return -1;
	vx_conn_set_peer_limits(fz->conn, FZ_MAX_FDS * 2, FZ_MSG_MAX * 2);
	rec_event(fz, VX_TR_OPEN, NULL);
	r = send_seq(fz, s, 0, &sent, &novel);
	/* what judging sends (a new connection) is no part of the trace */
	tw = fz->tw;
	fz->tw = NULL;
	fz->owed_id = fz->next_id;
	kind = judge(fz, r, fate);
	fz->tw = tw;
	fz->stale = kind != 0 && kind != VX_FUZZ_VIOLATION;
	return kind;
}

static int
same(struct vx_fuzz *fz, const struct fseq *s, const struct vx_fuzz_finding *f,
    unsigned *tries)
{
	struct vx_fuzz_fate fate;

	if (++*tries > MAX_TRIES)
		return 0;
	return reproduce(fz, s, &fate, 0) == f->kind && fate.sig ==
	    f->fate.sig && strcmp(fate.frames, f->fate.frames) == 0 &&
	    (f->fate.frames[0] || fz->last_cmd == f->last_cmd);
}

/* s without messages [from, to) (the first, VERSION, always kept). */
static int
without(const struct fseq *s, size_t from, size_t to, struct fseq *out)
{
	size_t k;

	fseq_clear(out);
	for (k = 0; k < s->n; k++)
		if ((k < from || k >= to) && fseq_push(out, &s->v[k]) < 0)
			return VX_ERR_NOMEM;
	return 0;
}

/* Delta debugging over messages, then over each message's mutations. */
static void
minimize(struct vx_fuzz *fz, struct fseq *s, const struct vx_fuzz_finding *f)
{
	struct fseq t = { 0 };
	size_t chunks = 2, len, k, i, j;
	unsigned tries = 0;
	struct fmsg *m;
	uint8_t keep;

	while (s->n > 2 && chunks <= s->n - 1) {
		len = (s->n - 1 + chunks - 1) / chunks;
		for (k = 1; k < s->n; k += len) {
			if (without(s, k, k + len, &t) < 0)
				goto out;
			if (same(fz, &t, f, &tries)) {
				fseq_clear(s);
				for (i = 0; i < t.n; i++)
					fseq_push(s, &t.v[i]);
				chunks = chunks > 2 ? chunks - 1 : 2;
				goto next;
			}
		}
		if (chunks >= s->n - 1)
			break;
		chunks = chunks * 2 > s->n - 1 ? s->n - 1 : chunks * 2;
next:		;
	}
	for (k = 1; k < s->n; k++) {
		m = &s->v[k];
		if (m->orig == NULL || m->olen != m->len)
			continue;
		for (i = VX_HDR_SIZE; i < m->len; i = j) {
			for (j = i; j < m->len && m->buf[j] != m->orig[j]; j++)
				;
			if (j == i) {
				j++;
				continue;
			}
			/* try this run of mutated bytes as they were */
			while (i < j) {
				keep = m->buf[i];
				m->buf[i] = m->orig[i];
				if (!same(fz, s, f, &tries)) {
					m->buf[i] = keep;
					break;
				}
				i++;
			}
		}
	}
out:
	fseq_clear(&t);
	free(t.v);
}

static int
seen(struct vx_fuzz *fz, const char *key)
{
	unsigned i;

	for (i = 0; i < fz->nkeys; i++)
		if (strcmp(fz->keys[i], key) == 0)
			return 1;
	if (fz->nkeys < MAX_KEYS)
		snprintf(fz->keys[fz->nkeys++], sizeof fz->keys[0], "%s", key);
	return 0;
}


/*
 * Before minimizing: most findings need only VERSION and the end of the
 * last exec, else the prefix and the last exec.  Tried shortest first, as
 * each reproduction of a hang costs a timeout and delta debugging from
 * the whole history takes a dozen.
 */
static void
shortcut(struct vx_fuzz *fz, const struct vx_fuzz_finding *f)
{
	struct fseq t = { 0 };
	size_t n = fz->found.n, exec = n - (fz->cur.n < n ? fz->cur.n : n);
	size_t j = n, k;
	unsigned tries = 0;
	int ok = 0;

	while (!ok && j-- > exec && j > 0) {
		fseq_clear(&t);
		for (k = 0; k < n; k++)
			if (k == 0 || k >= j)
				fseq_push(&t, &fz->found.v[k]);
		ok = same(fz, &t, f, &tries);
	}
	if (!ok && fz->prefix.n < exec) {
		fseq_clear(&t);
		for (k = 0; k < n; k++)
			if (k < fz->prefix.n || k >= exec)
				fseq_push(&t, &fz->found.v[k]);
		ok = same(fz, &t, f, &tries);
	}
	if (ok) {
		fseq_clear(&fz->found);
		for (k = 0; k < t.n; k++)
			fseq_push(&fz->found, &t.v[k]);
	}
	fseq_clear(&t);
	free(t.v);
}

/*
 * Does the finding go away when every message goes whole?  Then the
 * server cannot take a message in pieces, which a stream socket allows
 * (it has no message boundaries): one finding, whatever the kind and
 * the command it happens to hit.
 */
static int
split_only(struct vx_fuzz *fz, int kind)
{
	struct vx_fuzz_fate fate;
	struct fseq s = { 0 };
	size_t k;
	int split = 0, r = 0;

	for (k = 0; k < fz->found.n && fseq_push(&s, &fz->found.v[k]) == 0; k++)
		if (s.v[k].how == FZ_SPLIT) {
			s.v[k].how = FZ_WHOLE;
			split = 1;
		}
	if (split)
		r = reproduce(fz, &s, &fate, 0) != kind;
	fseq_clear(&s);
	free(s.v);
	return r;
}

static void
report(struct vx_fuzz *fz, int kind, const struct vx_fuzz_fate *fate,
    const char *why)
{
	struct vx_fuzz_finding f = { 0 };
	const char *cn;
	int split;

	f.kind = kind;
	f.fate = *fate;
	f.last_cmd = fz->last_cmd;
	f.exec = fz->exec_no;
	make_key(&f);
	fz->stale = kind != VX_FUZZ_VIOLATION;
	if ((split = !fate->frames[0] && split_only(fz, kind)))
		snprintf(f.key, sizeof f.key, "split delivery");
	if (seen(fz, f.key)) {
		fz->st.duplicates++;
		return;
	}
	fz->st.findings++;
	f.orig_msgs = (unsigned)fz->found.n;
	cn = vx_cmd_name(f.last_cmd);
	if (kind == VX_FUZZ_CRASH && fate->sig)
		snprintf(f.text, sizeof f.text, "the server died of signal %d "
		    "on %s%s%s", fate->sig, cn ? cn : "?",
		    fate->headline[0] ? ": " : "", fate->headline);
	else if (kind == VX_FUZZ_CRASH)
		snprintf(f.text, sizeof f.text, "the server exited with status "
		    "%d on %s%s%s", fate->status, cn ? cn : "?",
		    fate->headline[0] ? ": " : "", fate->headline);
	else if (kind == VX_FUZZ_HANG)
		snprintf(f.text, sizeof f.text, "no reply to %s within %d ms",
		    cn ? cn : "?", fz->o.timeout_ms);
	else if (kind == VX_FUZZ_DEAF)
		snprintf(f.text, sizeof f.text, "the server stopped accepting "
		    "connections after %s", cn ? cn : "?");
	else
		snprintf(f.text, sizeof f.text, "%s: %s", cn ? cn : "?", why);
	if (split)
		strncat(f.text, ", only when a message comes in two writes",
		    sizeof f.text - strlen(f.text) - 1);
	if (!fz->o.no_minimize) {
		shortcut(fz, &f);
		minimize(fz, &fz->found, &f);
	}
	f.nmsgs = (unsigned)fz->found.n;
	if (fz->h.finding != NULL)
		fz->h.finding(fz->h.arg, fz, &f);
	drop_conn(fz);
}

int
vx_fuzz_save(struct vx_fuzz *fz, const struct vx_fuzz_finding *f,
    const char *path)
{
	struct vx_fuzz_fate fate;
	struct vx_msg m;
	char note[1024];
	int r;

	if ((r = vx_trace_writer_open(path, NULL, &fz->tw)) < 0)
		return r;
	fz->seq[0] = fz->seq[1] = 0;
	snprintf(note, sizeof note, "vfuctl fuzz: %s finding: %s%s%s",
	    vx_fuzz_kind_name(f->kind), f->text, f->fate.frames[0] ?
	    " (frames: " : "", f->fate.frames[0] ? f->fate.frames : "");
	if (f->fate.frames[0])
		strcat(note, ")");
	rec_event(fz, VX_TR_ANNOTATION, note);
	reproduce(fz, &fz->found, &fate, 1);
	if (f->kind == VX_FUZZ_CRASH || f->kind == VX_FUZZ_HANG) {
		/* the reply the server owed, so that a replay waits for it */
		rec_event(fz, VX_TR_ANNOTATION, "vfuctl fuzz: the server never "
		    "answered the next command; the error reply below stands "
		    "in for it, so that vfuctl replay waits for it");
		vx_build_header(&fz->b, fz->owed_id, f->last_cmd,
		    VX_F_TYPE_REPLY | VX_F_ERROR, EINVAL);
		if (vx_build_finish(&fz->b, &m) == 0)
			rec_msg(fz, VX_S2C, m.buf, m.len, NULL, 0, NULL);
	}
	rec_event(fz, VX_TR_CLOSE, NULL);
	r = vx_trace_writer_close(fz->tw);
	fz->tw = NULL;
	drop_conn(fz);
	return r;
}

/* --- execs ---------------------------------------------------------------- */

static int
wants_reply(const struct fmsg *m)
{
	uint32_t flags;

	if (m->len < VX_HDR_SIZE || m->how == FZ_JOIN)
		return 0;
	flags = (uint32_t)vx_load(m->buf + VX_HDR_OFF_FLAGS, 4, 0);
	return (flags & VX_F_TYPE_MASK) == VX_F_TYPE_COMMAND &&
	    !(flags & VX_F_NO_REPLY);
}

/* Guided, the corpus holds what got further into the server's code: it is
 * drawn from more often, and may grow larger. */
static int
guided(const struct vx_fuzz *fz)
{
	return fz->cov.state == VX_FUZZ_COV_GUIDED;
}

static size_t
corpus_max(const struct vx_fuzz *fz)
{
	return guided(fz) ? MAX_CORPUS_COV : MAX_CORPUS;
}

static int
build_exec(struct vx_fuzz *fz)
{
	unsigned n = 1 + (unsigned)rng_below(&fz->rng, fz->o.max_msgs), i;
	struct fmsg m = { 0 };
	const struct fseq *from;
	int r = 0;

	fseq_clear(&fz->cur);
	for (i = 0; i < n && r == 0; i++) {
		from = rng_below(&fz->rng, 4) == 0 && fz->pool.n ? &fz->pool :
		    rng_below(&fz->rng, guided(fz) ? 3 : 5) == 0 &&
		    fz->corpus.n ? &fz->corpus :
		    rng_below(&fz->rng, 8) == 0 && fz->cur.n ? &fz->cur : NULL;
		if (from != NULL) {	/* splice, repeat */
			r = fseq_push(&fz->cur, &from->v[rng_below(&fz->rng,
			    from->n)]);
			if (r == 0 && rng_below(&fz->rng, 2))
				r = fz_mutate(&fz->rng, &fz->dev, &fz->mdec,
				    &fz->cur.v[fz->cur.n - 1]);
			continue;
		}
		m.nfds = 0;
		if ((r = fz_template(&fz->rng, &fz->dev, &fz->b, &m)) == 0 &&
		    rng_below(&fz->rng, 3) != 0)
			r = fz_mutate(&fz->rng, &fz->dev, &fz->mdec, &m);
		if (r == 0)
			r = fseq_push(&fz->cur, &m);
		fmsg_free(&m);
	}
	if (r == 0 && fz->cur.n > 1 && rng_below(&fz->rng, 8) == 0) {
		m = fz->cur.v[0];	/* reorder */
		fz->cur.v[0] = fz->cur.v[fz->cur.n - 1];
		fz->cur.v[fz->cur.n - 1] = m;
	}
	if (r == 0 && !wants_reply(&fz->cur.v[fz->cur.n - 1])) {
		/* a probe that must be answered: a hang on a No_reply
		 * command is seen in this exec, not the next */
		memset(&m, 0, sizeof m);
		if ((r = fz_probe(&fz->b, &m)) == 0)
			r = fseq_push(&fz->cur, &m);
		fmsg_free(&m);
	}
	return r;
}

int
vx_fuzz_exec(struct vx_fuzz *fz)
{
	struct vx_fuzz_fate fate;
	size_t sent, k, base;
	int r, kind, novel = 0;

	fz->exec_no++;
	if (fz->conn == NULL || fz->conn_execs >= fz->o.conn_execs ||
	    fz->hist.n > MAX_HIST) {
		if (fz->o.restart_each && fz->conn != NULL) {
			drop_conn(fz);
			if ((r = fz->h.restart(fz->h.arg, fz->err,
			    sizeof fz->err)) < 0)
				return r;
			fz->st.restarts++;
		}
		r = open_conn(fz);
		if (r < 0 && fz->h.restart == NULL)
			return r;	/* why is in fz->err */
		if (r != OUT_OK) {
			r = OUT_CLOSED;	/* judged as a server gone deaf */
			goto broken;
		}
	}
	if ((r = build_exec(fz)) < 0)
		return r;
	fz->conn_execs++;
	fz->st.execs++;
	base = fz->hist.n;
	cov_settle(fz);
	fz_cov_reset(&fz->cov);
	r = send_seq(fz, &fz->cur, 0, &sent, &novel);
	for (k = 0; k < sent; k++)
		if (fseq_push(&fz->hist, &fz->cur.v[k]) < 0)
			return VX_ERR_NOMEM;
	/* the replies are in, and with them the exec's edges */
	if (r == OUT_OK)
		cov_settle(fz);
	if (r == OUT_OK && fz_cov_novel(&fz->cov) &&
	    fz->corpus.n < corpus_max(fz)) {
		novel = 1;
		fz->st.cov_kept++;
	}
	if (novel && r == OUT_OK)
		for (k = 0; k < fz->cur.n && fz->corpus.n < corpus_max(fz); k++)
			fseq_push(&fz->corpus, &fz->cur.v[k]);
	fz->st.corpus = (unsigned)fz->corpus.n;
	(void)base;
	if (r == OUT_OK)
		return 0;
broken:
	fseq_clear(&fz->found);
	for (k = 0; k < fz->hist.n; k++)
		fseq_push(&fz->found, &fz->hist.v[k]);
	kind = judge(fz, r, &fate);
	/* with nothing sent since the last connection, nothing reproduces
	 * it: the server is only started afresh */
	if (kind != 0 && fz->found.n > 0)
		report(fz, kind, &fate, fz->why);
	if (kind == 0)
		return 0;
	/* a dead or stuck server is started afresh, if it can be */
	drop_conn(fz);
	if (kind == VX_FUZZ_VIOLATION)
		return 0;
	if (fz->h.restart == NULL) {
		snprintf(fz->err, sizeof fz->err, "the server is gone (%s) and "
		    "cannot be restarted with --connect",
		    vx_fuzz_kind_name(kind));
		return VX_ERR_CLOSED;
	}
	if ((r = fz->h.restart(fz->h.arg, fz->err, sizeof fz->err)) < 0)
		return r;
	fz->st.restarts++;
	return 0;
}

/* --- setup ---------------------------------------------------------------- */

static int
push_version(struct vx_fuzz *fz)
{
	static const char js[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"max_data_xfer_size\":1048576}}";
	struct fmsg m = { 0 };
	struct vx_msg v;
	int r;

	vx_build_header(&fz->b, 0, VX_CMD_VERSION, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&fz->b, VXF_VER_MAJOR, VX_PROTO_MAJOR);
	vx_build_uint(&fz->b, VXF_VER_MINOR, VX_PROTO_MINOR);
	vx_build_bytes(&fz->b, VXF_VER_JSON, js, sizeof js);
	if ((r = vx_build_finish(&fz->b, &v)) < 0 ||
	    (r = fmsg_set(&m, v.buf, v.len)) < 0)
		return r;
	r = fseq_push(&fz->prefix, &m);
	fmsg_free(&m);
	return r;
}

/* Every client command of the seed traces; the first connection of the
 * first seed becomes the prefix. */
static int
load_seed(struct vx_fuzz *fz, const char *path, int first)
{
	struct vx_walk *w;
	struct vx_walk_item it;
	struct fmsg m = { 0 };
	uint32_t conn = 0;
	unsigned i;
	int r;

	if ((r = vx_walk_open(path, NULL, &w)) < 0) {
		snprintf(fz->err, sizeof fz->err, "%s: %s", path,
		    w ? vx_walk_error(w) : "out of memory");
		vx_walk_close(w);
		return r;
	}
	while ((r = vx_walk_next(w, &it)) > 0) {
		const struct vx_trace_rec *rec = it.rec;

		if (rec == NULL || rec->kind != VX_TR_MESSAGE ||
		    rec->dir != VX_C2S || it.msg == NULL ||
		    vx_msg_is_reply(it.msg) || rec->len > FZ_MSG_MAX)
			continue;
		if (fmsg_set(&m, rec->data, rec->len) < 0)
			break;
		m.nfds = 0;
		for (i = 0; i < rec->nfds && i < FZ_MAX_FDS; i++)
			m.fdk[m.nfds++] = rec->fds[i].kind == VX_FD_EVENTFD ?
			    FZ_FD_EVENTFD : FZ_FD_MEMFD;
		if (fseq_push(&fz->pool, &m) < 0)
			break;
		if (first && (conn == 0 || conn == rec->conn) &&
		    fz->prefix.n < 64) {
			conn = rec->conn;
			fseq_push(&fz->prefix, &m);
		}
	}
	fmsg_free(&m);
	if (r < 0)
		snprintf(fz->err, sizeof fz->err, "%s: %s", path,
		    vx_walk_error(w));
	vx_walk_close(w);
	fz->st.seed_msgs = (unsigned)fz->pool.n;
	return r < 0 ? r : 0;
}

/* The discovery prefix: VERSION and DEVICE_GET_INFO, then what the
 * answer says is there. */
static int
discover(struct vx_fuzz *fz)
{
	int r;

	if ((r = push_version(fz)) < 0 ||
	    (r = fz_discovery(&fz->dev, &fz->b, &fz->prefix, 1)) < 0)
		return r;
	if ((r = open_conn(fz)) != OUT_OK)
		return r < 0 ? r : VX_ERR_CLOSED;
	if ((r = fz_discovery(&fz->dev, &fz->b, &fz->prefix, 0)) < 0)
		return r;
	drop_conn(fz);
	return 0;
}

int
vx_fuzz_new(const struct vx_fuzz_opts *o, const struct vx_fuzz_hooks *h,
    struct vx_fuzz **out)
{
	struct vx_fuzz *fz = calloc(1, sizeof *fz);
	unsigned i;
	int r = 0;

	if ((*out = fz) == NULL)
		return VX_ERR_NOMEM;
	fz->o = *o;
	fz->h = *h;
	if (fz->o.timeout_ms <= 0)
		fz->o.timeout_ms = 1000;
	if (fz->o.max_msgs == 0)
		fz->o.max_msgs = 4;
	if (fz->o.conn_execs == 0)
		fz->o.conn_execs = 16;
	if (fz->o.restart_each && fz->h.restart == NULL) {
		snprintf(fz->err, sizeof fz->err, "a server started afresh for "
		    "every exec needs a way to start it (a restart hook)");
		return VX_ERR_INVALID;
	}
	if (fz->o.restart_each)
		fz->o.conn_execs = 1;
	fz->rng.s = o->seed * 0x9e3779b97f4a7c15ull + 1;
	if (fz_cov_init(&fz->cov, o->cov_map, o->cov_size) < 0) {
		snprintf(fz->err, sizeof fz->err, "out of memory for a coverage "
		    "map of %zu bytes", o->cov_size);
		return VX_ERR_NOMEM;
	}
	vx_builder_init(&fz->b);
	vx_decoder_init(&fz->dec);
	vx_decoder_init(&fz->mdec);
	for (i = 0; i < o->nseeds && r == 0; i++)
		r = load_seed(fz, o->seeds[i], i == 0);
	if (r < 0)
		return r;
	if (fz->prefix.n > 0) {
		/* learn the device from the seed's own prefix */
		if ((r = open_conn(fz)) != OUT_OK) {
			snprintf(fz->err, sizeof fz->err, "the server did not "
			    "answer the seed's prefix: %s", fz->why[0] ?
			    fz->why : "closed or timed out");
			return r < 0 ? r : VX_ERR_CLOSED;
		}
		drop_conn(fz);
		return 0;
	}
	if ((r = discover(fz)) < 0 && fz->err[0] == '\0')
		snprintf(fz->err, sizeof fz->err, "the server did not answer "
		    "the discovery prefix (VERSION, DEVICE_GET_INFO): %s",
		    fz->why[0] ? fz->why : "closed or timed out");
	return r;
}

void
vx_fuzz_free(struct vx_fuzz *fz)
{
	if (fz == NULL)
		return;
	drop_conn(fz);
	fseq_clear(&fz->prefix);
	fseq_clear(&fz->pool);
	fseq_clear(&fz->corpus);
	fseq_clear(&fz->cur);
	fseq_clear(&fz->found);
	free(fz->prefix.v);
	free(fz->hist.v);
	free(fz->pool.v);
	free(fz->corpus.v);
	free(fz->cur.v);
	free(fz->found.v);
	fz->found.v = NULL;
	fz->found.cap = 0;
	fz_cov_release(&fz->cov);
	vx_builder_release(&fz->b);
	vx_decoder_release(&fz->dec);
	vx_decoder_release(&fz->mdec);
	free(fz);
}

const struct vx_fuzz_stats *
vx_fuzz_stats(const struct vx_fuzz *fz)
{
	struct vx_fuzz_stats *st = (struct vx_fuzz_stats *)&fz->st;
	unsigned i;

	st->states = fz->nstates;
	st->coverage = fz->cov.state;
	st->edges = fz->cov.edges;
	st->commands = 0;
	for (i = 0; i < 32; i++)
		st->commands += (fz->cmds_ok >> i) & 1;
	return &fz->st;
}

const char *
vx_fuzz_error(const struct vx_fuzz *fz)
{
	return fz->err;
}
