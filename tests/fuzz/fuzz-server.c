/*
 * fuzz-server.c - libFuzzer target for request handling, in process: a
 * struct vx_server serving a shipped device (tests/devices/) over a
 * socketpair, fed a sequence of client messages with descriptors
 * attached, and answering the server's own DMA_READ/DMA_WRITE.
 *
 * Input:
 *   byte 0   bit 0: the device, gpio.json or dma.json
 *   then records: u8 ctl, u8 cmd, u16 len (little-endian), len bytes of
 *   payload; the target builds the 16-byte header (msg_id counting up,
 *   size right) around the payload and sends it with descriptors:
 *     ctl bits 0-1  how many descriptors (0-3)
 *     ctl bit 2     eventfds (for SET_IRQS), else 64 KiB memfds (DMA_MAP)
 *     ctl bit 3     flag no_reply
 *     ctl bit 4     a reply to the server's last DMA request instead
 *                   (its msg_id, command and address, on the twin if we
 *                   have one; ctl bit 0 sets the error flag)
 *     ctl bit 5     split the message in two writes, the server stepped
 *                   between them
 *
 * After every record the server runs until it has nothing to do and what
 * it sent is read back: every message must frame, decode without being
 * malformed and be a reply or one of our DMA requests; a descriptor it
 * passes is the twin socket (VERSION) or a region's memfd.  The server
 * must survive everything: only the client's end may end the connection.
 * One device is loaded per file and restored from a saved state before
 * each input, so inputs do not leak into each other.  FUZZ_SERVER_LOG=1
 * prints the server's lines (every message) on stderr.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-server.h"
#include "fuzz-common.h"

#define MAX_XFER	65536u
#define MAX_RECORDS	64
#define MEMFD_SIZE	65536

static const char *const dev_names[2] = { "gpio.json", "dma.json" };
static struct vx_device *devs[2];
static uint8_t *dev_blob[2];
static size_t dev_bloblen[2];

/* The client's end: its sockets and what it reads from them. */
struct client {
	int sock, twin;
	struct vx_framer in[2];		/* main, twin */
	uint16_t dma_id, dma_cmd;	/* the server's last DMA request */
	uint64_t dma_addr;
	int dma_chan, have_dma;
};

/* FUZZ_SERVER_LOG=1: the server's lines on stderr, to study an input */
static void
log_line(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "server: %s\n", line);
}

static struct vx_device *
load(const char *name)
{
	char path[PATH_MAX], exe[PATH_MAX], err[512];
	struct vx_device *d;
	ssize_t n;

	snprintf(path, sizeof(path), "tests/devices/%s", name);
	if ((d = vx_device_load(path, err, sizeof(err))) != NULL)
		return d;
	/* run from elsewhere: build-fuzz/tests/fuzz/ beside the sources */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (strrchr(exe, '/') != NULL)
		*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/../../../tests/devices/%s", exe, name);
	if ((d = vx_device_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz-server: %s\n", err);
		abort();
	}
	return d;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned i;

	(void)argc;
	(void)argv;
	fx_init();
	for (i = 0; i < 2; i++) {
		devs[i] = load(dev_names[i]);
		dev_blob[i] = vx_device_save(devs[i], &dev_bloblen[i]);
		if (dev_blob[i] == NULL)
			abort();
	}
	return 0;
}

static int
make_fd(int eventfd_kind)
{
	int fd;

	if (eventfd_kind)
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fd = memfd_create("fuzz-dma", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, MEMFD_SIZE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send msg on sock with nfds fresh descriptors of the kind ctl asks. */
static void
send_msg(int sock, const uint8_t *msg, size_t len, unsigned ctl)
{
	int fds[3], nfds = (int)(ctl & 3u), i, k = 0;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { NULL, 0, &iov, 1, NULL, 0, 0 };
	struct cmsghdr *cm;

	for (i = 0; i < nfds; i++)
		if ((fds[k] = make_fd((ctl & 4u) != 0)) >= 0)
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
	/* a peer gone or a full buffer: the server's to cope with */
	(void)sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (i = 0; i < k; i++)
		close(fds[i]);
}

/* Check one message the server sent us; note a DMA request; keep a twin. */
static void
check_sent(struct client *c, struct vx_frame *f, int chan)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;
	struct stat st;
	int k;

	ctx.chan = (uint8_t)chan;
	ctx.nfds = f->nfds;
	if (f->bad)
		fx_fail(NULL, "the server sent an unframeable message: %s",
		    vx_strerror(f->bad));
	if (vx_decode(&fx_dec, f->data, f->len, &ctx, &m) < 0)
		return;	/* out of memory */
	if (m.status == VX_MSG_MALFORMED || m.status == VX_MSG_UNKNOWN)
		fx_fail(&m, "the server sent a %s message",
		    m.status == VX_MSG_UNKNOWN ? "unknown" : "malformed");
	if (!vx_msg_is_reply(&m)) {
		if (m.cmd != VX_CMD_DMA_READ && m.cmd != VX_CMD_DMA_WRITE)
			fx_fail(&m, "the server sent command %u", m.cmd);
		c->dma_id = m.id;
		c->dma_cmd = m.cmd;
		c->dma_addr = 0;
		vx_msg_get(&m, VXF_DMA_ADDR, &c->dma_addr);
		c->dma_chan = chan;
		c->have_dma = 1;
	}
	for (k = 0; k < f->nfds; k++) {
		if (fstat(f->fds[k], &st) < 0)
			fx_fail(&m, "descriptor %d passed is not open", k);
		if (S_ISSOCK(st.st_mode) && c->twin < 0) {
			c->twin = f->fds[k];	/* the twin socket: keep it */
			f->fds[k] = -1;
			fcntl(c->twin, F_SETFL, O_NONBLOCK);
			c->in[1].sock = c->twin;
		}
	}
}

/* Read what the server sent on both sockets. */
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

/* Step the server until it waits for input; 0 while it serves. */
static int
run(struct vx_server *s, struct client *c)
{
	int r, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		if ((r = vx_server_step(s)) != 0)
			return r;
		drain(c);
		if (vx_server_timeout(s) != 0)
			return 0;
	}
	fx_fail(NULL, "the server keeps busy without input");
	return 0;
}

/* Build record rec's message around its payload. */
static size_t
build(struct client *c, uint8_t *msg, uint16_t id, unsigned ctl,
    unsigned cmd, const uint8_t *p, size_t len, int *chan)
{
	uint32_t flags = VX_F_TYPE_COMMAND;

	*chan = 0;
	if ((ctl & 0x10u) && c->have_dma) {
		id = c->dma_id;
		cmd = c->dma_cmd;
		*chan = c->dma_chan;
		flags = VX_F_TYPE_REPLY | ((ctl & 1u) ? VX_F_ERROR : 0);
	}
	if (ctl & 8u)
		flags |= VX_F_NO_REPLY;
	vx_store(msg + VX_HDR_OFF_ID, 2, id, 0);
	vx_store(msg + VX_HDR_OFF_CMD, 2, cmd, 0);
	vx_store(msg + VX_HDR_OFF_SIZE, 4, VX_HDR_SIZE + len, 0);
	vx_store(msg + VX_HDR_OFF_FLAGS, 4, flags, 0);
	vx_store(msg + VX_HDR_OFF_ERROR, 4, (flags & VX_F_ERROR) ? EIO : 0, 0);
	memcpy(msg + VX_HDR_SIZE, p, len);
	if ((flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY && len >= 8)
		vx_store(msg + VX_HDR_SIZE, 8, c->dma_addr, 0);	/* as asked */
	return VX_HDR_SIZE + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[VX_HDR_SIZE + 65536];
	struct vx_limits lim = { VX_DEF_MAX_XFER + 4096u, VX_MAX_FDS };
	struct vx_server *s;
	struct client c;
	struct vx_device *d;
	size_t at = 1, len, n;
	unsigned dev, nrec = 0;
	uint16_t id = 1;
	int sv[2], chan, r = 0, sock;

	if (size < 1)
		return 0;
	dev = data[0] & 1u;
	d = devs[dev];
	if (vx_device_restore(d, dev_blob[dev], dev_bloblen[dev]) != 0)
		abort();
	vx_device_reset(d);
	d->dma.busy = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if ((s = vx_server_new(d, MAX_XFER)) == NULL ||
	    vx_server_attach(s, sv[0]) < 0)
		abort();
	if (getenv("FUZZ_SERVER_LOG") != NULL)
		vx_server_set_log(s, log_line, NULL, 1);
	memset(&c, 0, sizeof(c));
	c.sock = sv[1];
	c.twin = -1;
	vx_framer_init(&c.in[0], c.sock, &lim);
	vx_framer_init(&c.in[1], -1, &lim);
	while (r == 0 && nrec++ < MAX_RECORDS && size - at >= 4) {
		unsigned ctl = data[at], cmd = data[at + 1];

		len = (size_t)data[at + 2] | (size_t)data[at + 3] << 8;
		at += 4;
		if (len > size - at)
			len = size - at;
		n = build(&c, msg, id++, ctl, cmd, data + at, len, &chan);
		at += len;
		sock = chan == 1 && c.twin >= 0 ? c.twin : c.sock;
		if (ctl & 0x20u) {
			send_msg(sock, msg, n / 2, ctl);
			r = run(s, &c);
			send_msg(sock, msg + n / 2, n - n / 2, 0);
		} else {
			send_msg(sock, msg, n, ctl);
		}
		if (r == 0)
			r = run(s, &c);
	}
	if (r != 0 && r != VX_ERR_TOO_LARGE && r != VX_ERR_NOMEM)
		fx_fail(NULL, "the server ended a connection the client kept: "
		    "%s (%s)", vx_strerror(r), vx_server_errmsg(s));
	vx_server_free(s);
	vx_framer_release(&c.in[0]);
	vx_framer_release(&c.in[1]);
	close(c.sock);
	if (c.twin >= 0)
		close(c.twin);
	return 0;
}
