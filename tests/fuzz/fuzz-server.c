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
 *
 * The records are the library's harness input (vx-fuzz-input.h, man
 * vx_fuzz_input(3)), sent with VX_FUZZ_INPUT_NO_VERSION: this target
 * checks what the server sends.
 */
#include <sys/stat.h>

#include <limits.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-fuzz-input.h"
#include "vx-server.h"
#include "fuzz-common.h"

#define MAX_XFER	65536u

static const char *const dev_names[2] = { "gpio.json", "dma.json" };
static struct vx_device *devs[2];
static uint8_t *dev_blob[2];
static size_t dev_bloblen[2];

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
	char rel[128], path[PATH_MAX + 128], err[512];
	struct vx_device *d;

	snprintf(rel, sizeof(rel), "tests/devices/%s", name);
	fx_data_path(path, sizeof(path), rel);
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

/* Check one message the server sent us (the harness's sent hook). */
static void
check_sent(void *arg, struct vx_frame *f, int chan)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_msg m;
	struct stat st;
	int k;

	(void)arg;
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
	if (!vx_msg_is_reply(&m) && m.cmd != VX_CMD_DMA_READ &&
	    m.cmd != VX_CMD_DMA_WRITE)
		fx_fail(&m, "the server sent command %u", m.cmd);
	for (k = 0; k < f->nfds; k++)
		if (fstat(f->fds[k], &st) < 0)
			fx_fail(&m, "descriptor %d passed is not open", k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_fuzz_input *fi;
	struct vx_server *s;
	struct vx_device *d;
	unsigned dev;
	int sock, r;

	if (size < 1)
		return 0;
	dev = data[0] & 1u;
	d = devs[dev];
	if (vx_device_restore(d, dev_blob[dev], dev_bloblen[dev]) != 0)
		abort();
	vx_device_reset(d);
	d->dma.busy = 0;
	if ((fi = vx_fuzz_input_new(VX_FUZZ_INPUT_NO_VERSION, &sock)) == NULL)
		return 0;
	if ((s = vx_server_new(d, MAX_XFER)) == NULL ||
	    vx_server_attach(s, sock) < 0)
		abort();
	if (getenv("FUZZ_SERVER_LOG") != NULL)
		vx_server_set_log(s, log_line, NULL, 1);
	vx_fuzz_input_set_sent(fi, check_sent, NULL);
	r = vx_fuzz_input_run(fi, data + 1, size - 1,
	    vx_fuzz_input_server_step, s);
	if (r == VX_ERR_BUSY)
		fx_fail(NULL, "the server keeps busy without input");
	if (r != 0 && r != VX_ERR_TOO_LARGE && r != VX_ERR_NOMEM)
		fx_fail(NULL, "the server ended a connection the client kept: "
		    "%s (%s)", vx_strerror(r), vx_server_errmsg(s));
	vx_server_free(s);
	vx_fuzz_input_free(fi);
	return 0;
}
