/*
 * test-fuzz-input.c - the in-process fuzzing harness (vx-fuzz-input.h)
 * against a real vx_server serving tests/devices/gpio.json: the VERSION
 * it sends first (and when it does not), memfds and eventfds in the
 * number a record asks for, a message split in two writes, and how a
 * server that ends the connection or never rests is reported.
 *
 * Run from the repository root (tests/devices/ holds the description).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-fuzz-input.h"
#include "vx-server.h"
#include "vx-wire.h"
#include "unit.h"

/* What the server sent back, as the harness's sent hook saw it. */
struct seen {
	int replies, errors, versions, fds;
};

static void
note_sent(void *arg, struct vx_frame *f, int chan)
{
	struct seen *s = arg;
	uint32_t flags;

	(void)chan;
	if (f->bad)
		return;
	flags = (uint32_t)vx_load(f->data + VX_HDR_OFF_FLAGS, 4, 0);
	if ((flags & VX_F_TYPE_MASK) != VX_F_TYPE_REPLY)
		return;
	s->replies++;
	s->errors += (flags & VX_F_ERROR) != 0;
	s->versions += vx_load(f->data + VX_HDR_OFF_CMD, 2, 0) == VX_CMD_VERSION;
	s->fds += f->nfds;
}

static struct vx_device *dev;

/* Run data through a fresh server; the server's state in *negotiated. */
static int
serve(unsigned flags, const uint8_t *data, size_t size, struct seen *seen,
    int *negotiated)
{
	struct vx_fuzz_input *fi;
	struct vx_server *s;
	int sock, r;

	memset(seen, 0, sizeof(*seen));
	if ((fi = vx_fuzz_input_new(flags, &sock)) == NULL ||
	    (s = vx_server_new(dev, 65536)) == NULL ||
	    vx_server_attach(s, sock) < 0) {
		diag("out of memory");
		exit(1);
	}
	vx_fuzz_input_set_sent(fi, note_sent, seen);
	r = vx_fuzz_input_run(fi, data, size, vx_fuzz_input_server_step, s);
	*negotiated = vx_server_negotiated(s);
	vx_server_free(s);
	vx_fuzz_input_free(fi);
	return r;
}

static void
test_version_first(void)
{
	static const uint8_t own[] = {
		0, VX_CMD_VERSION, 24, 0,	/* ctl, cmd, len */
		0, 0, 1, 0, '{', '"', 'c', 'a', 'p', 'a', 'b', 'i', 'l', 'i',
		't', 'i', 'e', 's', '"', ':', '{', '}', '}', 0,
	};
	struct seen seen;
	int neg, r;

	r = serve(0, NULL, 0, &seen, &neg);
	ok(r == 0 && neg && seen.versions == 1 && seen.errors == 0,
	    "an empty input still negotiates: one VERSION sent first "
	    "(r %d, negotiated %d, %d versions)", r, neg, seen.versions);
	ok(seen.fds == 1, "our VERSION asks for the twin socket: %d fds back",
	    seen.fds);
	r = serve(VX_FUZZ_INPUT_NO_VERSION, NULL, 0, &seen, &neg);
	ok(r == 0 && !neg && seen.replies == 0,
	    "VX_FUZZ_INPUT_NO_VERSION sends nothing of its own");
	r = serve(0, own, sizeof(own), &seen, &neg);
	ok(r == 0 && neg && seen.versions == 1 && seen.errors == 0,
	    "an input starting with VERSION gets no second one (%d versions)",
	    seen.versions);
}

/* DMA_MAP of a 64 KiB window, ctl's descriptors attached */
static int
dma_map(unsigned ctl, struct seen *seen)
{
	uint8_t rec[4 + 32] = { 0, VX_CMD_DMA_MAP, 32, 0 };
	int neg;

	rec[0] = (uint8_t)ctl;
	vx_store(rec + 4, 4, 32, 0);		/* argsz */
	vx_store(rec + 8, 4, 3, 0);		/* read | write */
	vx_store(rec + 12, 8, 0, 0);		/* offset */
	vx_store(rec + 20, 8, 0x100000, 0);	/* address */
	vx_store(rec + 28, 8, 65536, 0);	/* size */
	return serve(0, rec, sizeof(rec), seen, &neg);
}

static void
test_descriptors(void)
{
	struct seen seen;
	int r;

	r = dma_map(1, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 0,
	    "DMA_MAP with one memfd is mapped (%d replies, %d errors)",
	    seen.replies, seen.errors);
	r = dma_map(2, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 1,
	    "DMA_MAP with two memfds is refused: both went (%d errors)",
	    seen.errors);
	r = dma_map(1 | 0x20, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 0,
	    "DMA_MAP in two writes, the memfd on the first, is mapped "
	    "(%d replies, %d errors)", seen.replies, seen.errors);
}

/* SET_IRQS: trigger of INTx vector 0 through ctl's descriptors */
static int
set_irqs(unsigned ctl, struct seen *seen)
{
	uint8_t rec[4 + 20] = { 0, VX_CMD_DEVICE_SET_IRQS, 20, 0 };
	int neg;

	rec[0] = (uint8_t)ctl;
	vx_store(rec + 4, 4, 20, 0);		/* argsz */
	vx_store(rec + 8, 4, 0x24, 0);		/* DATA_EVENTFD | ACTION_TRIGGER */
	vx_store(rec + 12, 4, 0, 0);		/* index: INTx */
	vx_store(rec + 16, 4, 0, 0);		/* start */
	vx_store(rec + 20, 4, 1, 0);		/* count */
	return serve(0, rec, sizeof(rec), seen, &neg);
}

static void
test_eventfds(void)
{
	struct seen seen;
	int r;

	r = set_irqs(4 | 1, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 0,
	    "SET_IRQS with one eventfd is taken (%d replies, %d errors)",
	    seen.replies, seen.errors);
	r = set_irqs(1, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 1,
	    "SET_IRQS with a memfd instead is refused: ctl bit 2 picks the "
	    "kind (%d errors)", seen.errors);
	r = set_irqs(4 | 2, &seen);
	ok(r == 0 && seen.replies == 2 && seen.errors == 1,
	    "SET_IRQS with two eventfds for one vector is refused (%d errors)", seen.errors);
}

static int
step_busy(void *arg)
{
	(*(int *)arg)++;
	return 1;
}

static int
step_closed(void *arg)
{
	(void)arg;
	return VX_ERR_CLOSED;
}

static void
test_outcomes(void)
{
	static const uint8_t rec[] = { 0, VX_CMD_DEVICE_GET_INFO, 0, 0 };
	struct vx_fuzz_input *fi;
	int sock, steps = 0, r;

	fi = vx_fuzz_input_new(0, &sock);
	r = vx_fuzz_input_run(fi, rec, sizeof(rec), step_busy, &steps);
	ok(r == VX_ERR_BUSY && steps == 1000,
	    "a server never waiting is VX_ERR_BUSY after 1000 steps (%d, %d)",
	    r, steps);
	vx_fuzz_input_free(fi);
	close(sock);
	fi = vx_fuzz_input_new(0, &sock);
	r = vx_fuzz_input_run(fi, rec, sizeof(rec), step_closed, NULL);
	ok(r == VX_ERR_CLOSED, "a server ending the connection: its code (%d)",
	    r);
	vx_fuzz_input_free(fi);
	close(sock);
}

int
main(void)
{
	char err[256];

	if ((dev = vx_device_load("tests/devices/gpio.json", err,
	    sizeof(err))) == NULL) {
		diag("%s", err);
		return 1;
	}
	test_version_first();
	test_descriptors();
	test_eventfds();
	test_outcomes();
	vx_device_free(dev);
	return unit_done();
}
