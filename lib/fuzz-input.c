/*
 * fuzz-input.c - the in-process fuzzing harness (vx-fuzz-input.h): a
 * fuzzer's bytes become messages with descriptors on a socketpair into a
 * server stepped by the caller; what the server sends is framed, shown
 * to the caller's check and read for DMA requests and the twin socket.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-fuzz-input.h"
#include "vx-server.h"
#include "vx-wire.h"

#define FI_MAX_PAYLOAD	65535u		/* a record's u16 length */
#define FI_MEMFD_SIZE	65536
#define FI_MAX_STEPS	1000

/* Sent first unless the input starts with its own VERSION. */
static const char fi_version_json[] =
    "{\"capabilities\":{\"max_msg_fds\":8,"
    "\"max_data_xfer_size\":1048576,\"twin_socket\":{\"supported\":true}}}";

struct vx_fuzz_input {
	unsigned flags;
	int sock, twin;
	struct vx_framer in[2];		/* main, twin */
	uint16_t dma_id, dma_cmd;	/* the server's last DMA request */
	uint64_t dma_addr;
	int dma_chan, have_dma;
	vx_fuzz_input_sent_fn *sent;
	void *sent_arg;
	uint8_t msg[VX_HDR_SIZE + FI_MAX_PAYLOAD];
};

struct vx_fuzz_input *
vx_fuzz_input_new(unsigned flags, int *server_sock)
{
	struct vx_limits lim = { VX_DEF_MAX_XFER + 4096u, VX_MAX_FDS };
	struct vx_fuzz_input *fi;
	int sv[2];

	if ((fi = calloc(1, sizeof(*fi))) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(fi);
		return NULL;
	}
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	fi->flags = flags;
	fi->sock = sv[1];
	fi->twin = -1;
	vx_framer_init(&fi->in[0], fi->sock, &lim);
	vx_framer_init(&fi->in[1], -1, &lim);
	*server_sock = sv[0];
	return fi;
}

void
vx_fuzz_input_set_sent(struct vx_fuzz_input *fi, vx_fuzz_input_sent_fn *fn,
    void *arg)
{
	fi->sent = fn;
	fi->sent_arg = arg;
}

void
vx_fuzz_input_free(struct vx_fuzz_input *fi)
{
	if (fi == NULL)
		return;
	vx_framer_release(&fi->in[0]);
	vx_framer_release(&fi->in[1]);
	close(fi->sock);
	if (fi->twin >= 0)
		close(fi->twin);
	free(fi);
}

int
vx_fuzz_input_server_step(void *vx_server)
{
	int r;

	if ((r = vx_server_step(vx_server)) != 0)
		return r;
	return vx_server_timeout(vx_server) == 0;	/* more to serve */
}

static int
make_fd(int eventfd_kind)
{
	int fd;

	if (eventfd_kind)
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fd = memfd_create("vx-fuzz-dma", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, FI_MEMFD_SIZE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send msg on sock with the descriptors ctl asks for (fresh each time). */
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

/* Note a DMA request of the server's; keep the first socket it passes. */
static void
track(struct vx_fuzz_input *fi, struct vx_frame *f, int chan)
{
	struct stat st;
	uint32_t flags;
	uint16_t cmd;
	int k;

	if (f->bad || f->len < VX_HDR_SIZE)
		return;
	flags = (uint32_t)vx_load(f->data + VX_HDR_OFF_FLAGS, 4, 0);
	cmd = (uint16_t)vx_load(f->data + VX_HDR_OFF_CMD, 2, 0);
	if ((flags & VX_F_TYPE_MASK) == VX_F_TYPE_COMMAND &&
	    (cmd == VX_CMD_DMA_READ || cmd == VX_CMD_DMA_WRITE)) {
		fi->dma_cmd = cmd;
		fi->dma_id = (uint16_t)vx_load(f->data + VX_HDR_OFF_ID, 2, 0);
		fi->dma_addr = f->len >= VX_HDR_SIZE + 8 ?
		    vx_load(f->data + VX_HDR_SIZE, 8, 0) : 0;
		fi->dma_chan = chan;
		fi->have_dma = 1;
	}
	for (k = 0; k < f->nfds && fi->twin < 0; k++) {
		if (f->fds[k] < 0 || fstat(f->fds[k], &st) < 0 ||
		    !S_ISSOCK(st.st_mode))
			continue;
		fi->twin = f->fds[k];
		f->fds[k] = -1;
		fcntl(fi->twin, F_SETFL, O_NONBLOCK);
		vx_framer_set_sock(&fi->in[1], fi->twin);
	}
}

/* Read what the server sent on both sockets. */
static void
drain(struct vx_fuzz_input *fi)
{
	struct vx_frame f;
	int chan, r;

	for (chan = 0; chan < 2; chan++) {
		if (chan == 1 && fi->twin < 0)
			continue;
		do {
			while (vx_framer_next(&fi->in[chan], &f) == 1) {
				if (fi->sent != NULL)
					fi->sent(fi->sent_arg, &f, chan);
				track(fi, &f, chan);
				vx_frame_release(&f);
			}
			r = vx_framer_recv(&fi->in[chan]);
		} while (r == 1 || r == 0 || r == VX_ERR_FDS);
	}
}

/* Step the server until it waits for input. */
static int
run(struct vx_fuzz_input *fi, vx_fuzz_input_step_fn *step, void *arg)
{
	int r, steps;

	for (steps = 0; steps < FI_MAX_STEPS; steps++) {
		r = step(arg);
		drain(fi);
		if (r <= 0)
			return r;
	}
	return VX_ERR_BUSY;
}

/* The header around the payload; a reply to the last DMA request on ctl
 * bit 4.  Returns the message's length; *chan where it goes. */
static size_t
build(struct vx_fuzz_input *fi, uint16_t id, unsigned ctl, unsigned cmd,
    const uint8_t *p, size_t len, int *chan)
{
	uint8_t *msg = fi->msg;
	uint32_t flags = VX_F_TYPE_COMMAND;

	*chan = 0;
	if ((ctl & 0x10u) && fi->have_dma) {
		id = fi->dma_id;
		cmd = fi->dma_cmd;
		*chan = fi->dma_chan;
		flags = VX_F_TYPE_REPLY | ((ctl & 1u) ? VX_F_ERROR : 0);
	}
	if (ctl & 8u)
		flags |= VX_F_NO_REPLY;
	vx_store(msg + VX_HDR_OFF_ID, 2, id, 0);
	vx_store(msg + VX_HDR_OFF_CMD, 2, cmd, 0);
	vx_store(msg + VX_HDR_OFF_SIZE, 4, VX_HDR_SIZE + len, 0);
	vx_store(msg + VX_HDR_OFF_FLAGS, 4, flags, 0);
	vx_store(msg + VX_HDR_OFF_ERROR, 4, (flags & VX_F_ERROR) ? EIO : 0, 0);
	memmove(msg + VX_HDR_SIZE, p, len);
	if ((flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY && len >= 8)
		vx_store(msg + VX_HDR_SIZE, 8, fi->dma_addr, 0);	/* as asked */
	return VX_HDR_SIZE + len;
}

/* VERSION 0.1 with our capabilities, msg_id 0. */
static size_t
build_version(struct vx_fuzz_input *fi)
{
	uint8_t body[4 + sizeof(fi_version_json)] = { 0, 0, 1, 0 };
	int chan;

	memcpy(body + 4, fi_version_json, sizeof(fi_version_json));
	return build(fi, 0, 0, VX_CMD_VERSION, body, sizeof(body), &chan);
}

/* Send one message (in two writes on ctl bit 5) and serve it. */
static int
deliver(struct vx_fuzz_input *fi, size_t n, unsigned ctl, int chan,
    vx_fuzz_input_step_fn *step, void *arg)
{
	int sock = chan == 1 && fi->twin >= 0 ? fi->twin : fi->sock, r;

	if (ctl & 0x20u) {
		send_msg(sock, fi->msg, n / 2, ctl);
		if ((r = run(fi, step, arg)) != 0)
			return r;
		send_msg(sock, fi->msg + n / 2, n - n / 2, 0);
	} else {
		send_msg(sock, fi->msg, n, ctl);
	}
	return run(fi, step, arg);
}

int
vx_fuzz_input_run(struct vx_fuzz_input *fi, const uint8_t *data, size_t size,
    vx_fuzz_input_step_fn *step, void *arg)
{
	size_t at = 0, len, n;
	unsigned nrec = 0;
	uint16_t id = 1;
	int chan, r = 0;

	if (!(fi->flags & VX_FUZZ_INPUT_NO_VERSION) &&
	    !(size >= 2 && data[1] == VX_CMD_VERSION))
		r = deliver(fi, build_version(fi), 0, 0, step, arg);
	while (r == 0 && nrec++ < VX_FUZZ_INPUT_MAX_RECORDS && size - at >= 4) {
		unsigned ctl = data[at], cmd = data[at + 1];

		len = (size_t)data[at + 2] | (size_t)data[at + 3] << 8;
		at += 4;
		if (len > size - at)
			len = size - at;
		n = build(fi, id++, ctl, cmd, data + at, len, &chan);
		at += len;
		r = deliver(fi, n, ctl, chan, step, arg);
	}
	return r;
}
