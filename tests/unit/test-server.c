/*
 * test-server.c - drive a real "vfuctl server" over its socket, as a
 * client would: VERSION negotiation, device and region info, config space
 * and BAR sizing, register semantics, reset, interrupts through eventfds,
 * DMA through a mapped memfd and through DMA_READ/DMA_WRITE messages,
 * error replies for malformed and unknown requests, no_reply, state kept
 * across clients, a client dying mid-message, and SIGTERM.
 *
 * vfuctl comes from $VFUCTL (default cli/vfuctl); run from the repository
 * root (tests/devices/ holds the descriptions).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-framer.h"
#include "vx-msg.h"
#include "vx-server.h"
#include "vx-sock.h"
#include "helpers.h"
#include "unit.h"

#define TIMEOUT_MS	5000
#define BAR2		2
#define CONFIG		7

/* gpio.json's BAR2 registers */
#define R_OUTPUT	0x00
#define R_INPUT		0x04
#define R_STATUS	0x08
#define R_DOORBELL	0x0c
#define R_SCRATCH	0x10
#define R_CONTROL	0x14

/* dma.json's DMA engine in BAR0 (lib/vx-device.h VX_DMA_REG_*) */
#define E_ADDR		0x00
#define E_LEN		0x08
#define E_DIR		0x0c
#define E_GO		0x10
#define E_STATUS	0x14

static char tmpdir[64];
static const char *vfuctl;

struct client {
	int fd;
	struct vx_framer fr;
	struct vx_decoder dec;
	struct vx_builder b;
	struct vx_frame f;	/* the last reply's frame, held until next */
	int have_frame;
	struct vx_msg m;	/* the last message received */
	uint16_t id;
};

/* --- the server process ------------------------------------------------ */

static pid_t
spawn(const char *device, const char *sock, const char *extra)
{
	return unit_spawn_server(vfuctl, device, sock, extra);
}

/* Exit status of pid within ms, or -1 if it is still running. */
static int
reap(pid_t pid, int ms)
{
	int st, i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	return -1;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	if (reap(pid, 3000) < 0) {
		kill(pid, SIGKILL);
		reap(pid, 3000);
	}
}

/* --- a minimal client ----------------------------------------------------- */

static int
cl_open(struct client *c, const char *sock)
{
	int i;

	memset(c, 0, sizeof(*c));
	vx_decoder_init(&c->dec);
	vx_builder_init(&c->b);
	c->id = 0x100;
	/* the socket file appears at bind, a moment before listen */
	for (i = 0; i < 500; i++) {
		if ((c->fd = vx_sock_connect(sock, TIMEOUT_MS)) >= 0 ||
		    errno != ECONNREFUSED)
			break;
		usleep(10000);
	}
	if (c->fd < 0)
		return -1;
	if (vx_framer_init(&c->fr, c->fd, NULL) < 0)
		return -1;
	/* what the server offers */
	vx_framer_set_peer_limits(&c->fr, 16, VX_DEF_MAX_MSG);
	return 0;
}

static void
cl_close(struct client *c)
{
	if (c->have_frame)
		vx_frame_release(&c->f);
	c->have_frame = 0;
	if (c->fd >= 0) {
		vx_framer_release(&c->fr);
		close(c->fd);
	}
	c->fd = -1;
	vx_decoder_release(&c->dec);
	vx_builder_release(&c->b);
}

static void
cmd(struct client *c, uint16_t cmdno, uint32_t flags)
{
	vx_build_header(&c->b, ++c->id, cmdno, VX_F_TYPE_COMMAND | flags, 0);
}

static int
cl_send(struct client *c, const int *fds, int nfds)
{
	struct vx_msg m;

	if (vx_build_finish(&c->b, &m) < 0)
		return -1;
	return vx_send_msg(&c->fr, m.buf, m.len, fds, nfds, TIMEOUT_MS);
}

/* Next message from the server, decoded into c->m; 0 or an error. */
static int
cl_recv(struct client *c)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_SPEC, 0, 0 };
	int r;

	if (c->have_frame)
		vx_frame_release(&c->f);
	c->have_frame = 0;
	if ((r = vx_recv_frame(&c->fr, &c->f, TIMEOUT_MS)) < 0)
		return r;
	c->have_frame = 1;
	ctx.nfds = c->f.nfds;
	if (c->f.bad || vx_decode(&c->dec, c->f.data, c->f.len, &ctx, &c->m) < 0)
		return VX_ERR_INVALID;
	return 0;
}

/* Send what was built and take the reply: its errno (0 ok), -1 if none. */
static int
call(struct client *c, const int *fds, int nfds)
{
	uint16_t id = c->id;

	if (cl_send(c, fds, nfds) < 0 || cl_recv(c) < 0)
		return -1;
	if (c->m.id != id || !vx_msg_is_reply(&c->m))
		return -1;
	return (c->m.flags & VX_F_ERROR) ? (int)c->m.error : 0;
}

/* DMA_UNMAP [addr, addr+size) with flags: the reply's errno, as call(). */
static int
dma_unmap(struct client *c, uint64_t addr, uint64_t size, uint32_t flags)
{
	cmd(c, VX_CMD_DMA_UNMAP, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 24);
	vx_build_uint(&c->b, VXF_DMA_UNMAP_FLAGS, flags);
	vx_build_uint(&c->b, VXF_DMA_ADDR, addr);
	vx_build_uint(&c->b, VXF_DMA_SIZE, size);
	return call(c, NULL, 0);
}

static uint64_t
field(const struct client *c, unsigned f)
{
	uint64_t v = ~0ull;

	vx_msg_get(&c->m, f, &v);
	return v;
}

static int
negotiate(struct client *c, const char *json)
{
	cmd(c, VX_CMD_VERSION, 0);
	vx_build_uint(&c->b, VXF_VER_MAJOR, 0);
	vx_build_uint(&c->b, VXF_VER_MINOR, 2);
	if (json != NULL)
		vx_build_bytes(&c->b, VXF_VER_JSON, json, strlen(json) + 1);
	return call(c, NULL, 0);
}

static int
connect_ready(struct client *c, const char *sock)
{
	if (cl_open(c, sock) < 0)
		return -1;
	return negotiate(c, "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"write_multiple\":true}}");
}

static int
rd(struct client *c, unsigned region, uint64_t off, unsigned n, uint64_t *val)
{
	const struct vx_item *it;
	int r;

	cmd(c, VX_CMD_REGION_READ, 0);
	vx_build_uint(&c->b, VXF_REGION_OFFSET, off);
	vx_build_uint(&c->b, VXF_REGION_INDEX, region);
	vx_build_uint(&c->b, VXF_REGION_COUNT, n);
	if ((r = call(c, NULL, 0)) != 0)
		return r;
	it = vx_msg_item(&c->m, VXF_REGION_DATA);
	if (it == NULL || it->len != n || n > 8)
		return -1;
	*val = vx_load(it->ptr, n, 0);
	return 0;
}

static void
build_write(struct client *c, unsigned region, uint64_t off, unsigned n,
    uint64_t val, uint32_t flags)
{
	uint8_t b[8];

	vx_store(b, n, val, 0);
	cmd(c, VX_CMD_REGION_WRITE, flags);
	vx_build_uint(&c->b, VXF_REGION_OFFSET, off);
	vx_build_uint(&c->b, VXF_REGION_INDEX, region);
	vx_build_uint(&c->b, VXF_REGION_COUNT, n);
	vx_build_bytes(&c->b, VXF_REGION_DATA, b, n);
}

static int
wr(struct client *c, unsigned region, uint64_t off, unsigned n, uint64_t val)
{
	build_write(c, region, off, n, val, 0);
	return call(c, NULL, 0);
}

/* Read a register; ~0 if the read failed (keeps the checks one line). */
static uint64_t
reg(struct client *c, unsigned region, uint64_t off, unsigned n)
{
	uint64_t v;

	return rd(c, region, off, n, &v) == 0 ? v : ~0ull;
}

static int
set_irqs(struct client *c, unsigned index, unsigned flags, unsigned start,
    unsigned count, const int *fds, int nfds)
{
	cmd(c, VX_CMD_DEVICE_SET_IRQS, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 20);
	vx_build_uint(&c->b, VXF_IRQ_SET_FLAGS, flags);
	vx_build_uint(&c->b, VXF_IRQ_INDEX, index);
	vx_build_uint(&c->b, VXF_IRQ_START, start);
	vx_build_uint(&c->b, VXF_IRQ_COUNT, count);
	return call(c, fds, nfds);
}

/* The eventfd's count, 0 if it was not signalled within ms. */
static uint64_t
signalled(int efd, int ms)
{
	struct pollfd p = { efd, POLLIN, 0 };
	uint64_t v = 0;

	if (poll(&p, 1, ms) == 1 && read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int
region_info(struct client *c, unsigned index, uint32_t argsz)
{
	cmd(c, VX_CMD_DEVICE_GET_REGION_INFO, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, argsz);
	vx_build_uint(&c->b, VXF_RINFO_FLAGS, 0);
	vx_build_uint(&c->b, VXF_REGION_INDEX, index);
	vx_build_uint(&c->b, VXF_RINFO_CAP_OFFSET, 0);
	vx_build_uint(&c->b, VXF_RINFO_SIZE, 0);
	vx_build_uint(&c->b, VXF_RINFO_OFFSET, 0);
	return call(c, NULL, 0);
}

static int
dma_map(struct client *c, uint64_t addr, uint64_t size, int fd)
{
	cmd(c, VX_CMD_DMA_MAP, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 32);
	vx_build_uint(&c->b, VXF_DMA_MAP_FLAGS, VX_DMA_MAP_READ | VX_DMA_MAP_WRITE);
	vx_build_uint(&c->b, VXF_DMA_MAP_OFFSET, 0);
	vx_build_uint(&c->b, VXF_DMA_ADDR, addr);
	vx_build_uint(&c->b, VXF_DMA_SIZE, size);
	return call(c, &fd, fd >= 0);
}

/* --- gpio.json -------------------------------------------------------------- */

static void
test_version(const char *sock)
{
	struct client c;
	json_t *root, *caps;
	const struct vx_item *js;
	json_error_t jerr;
	static const char twin[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"write_multiple\":true,\"twin_socket\":{\"supported\":true}}}";

	ok(cl_open(&c, sock) == 0, "connect");
	cmd(&c, VX_CMD_DEVICE_GET_INFO, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_DEV_FLAGS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_REGIONS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_IRQS, 0);
	ok(call(&c, NULL, 0) == EINVAL, "GET_INFO before VERSION: EINVAL");

	cmd(&c, VX_CMD_VERSION, 0);
	vx_build_uint(&c.b, VXF_VER_MAJOR, 0);
	vx_build_uint(&c.b, VXF_VER_MINOR, 7);
	vx_build_bytes(&c.b, VXF_VER_JSON, twin, strlen(twin) + 1);
	ok(call(&c, NULL, 0) == 0, "VERSION accepted");
	ok(field(&c, VXF_VER_MAJOR) == 0 && field(&c, VXF_VER_MINOR) == 2,
	    "VERSION reply 0.2 for a client proposing 0.7");
	js = vx_msg_item(&c.m, VXF_VER_JSON);
	root = js ? json_loads((const char *)js->ptr, 0, &jerr) : NULL;
	caps = json_object_get(root, "capabilities");
	ok(caps != NULL, "reply has capabilities");
	ok(json_integer_value(json_object_get(caps, "max_msg_fds")) == 16,
	    "max_msg_fds 16");
	ok(json_integer_value(json_object_get(caps, "max_data_xfer_size")) ==
	    1048576, "max_data_xfer_size 1 MiB by default");
	ok(json_integer_value(json_object_get(caps, "pgsizes")) == 4096,
	    "pgsizes 4096");
	ok(json_integer_value(json_object_get(caps, "max_dma_maps")) > 0,
	    "max_dma_maps given");
	ok(json_integer_value(json_object_get(json_object_get(caps, "migration"),
	    "pgsize")) == 4096, "migration.pgsize 4096");
	ok(json_is_true(json_object_get(caps, "write_multiple")),
	    "write_multiple: the client offered it");
	ok(json_is_true(json_object_get(json_object_get(caps, "twin_socket"),
	    "supported")) && json_integer_value(json_object_get(
	    json_object_get(caps, "twin_socket"), "fd_index")) == 0 &&
	    c.f.nfds == 1, "twin_socket: asked for, given with one fd");
	json_decref(root);
	ok(negotiate(&c, NULL) == EINVAL, "a second VERSION: EINVAL");
	cl_close(&c);

	ok(cl_open(&c, sock) == 0, "connect again");
	cmd(&c, VX_CMD_VERSION, 0);
	vx_build_uint(&c.b, VXF_VER_MAJOR, 0);
	vx_build_uint(&c.b, VXF_VER_MINOR, 1);
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_VER_MINOR) == 1,
	    "VERSION 0.1 without JSON: reply minor 1");
	js = vx_msg_item(&c.m, VXF_VER_JSON);
	ok(js != NULL && strstr((const char *)js->ptr, "write_multiple") == NULL &&
	    strstr((const char *)js->ptr, "twin_socket") == NULL && c.f.nfds == 0,
	    "no write_multiple or twin_socket when the client did not offer them");
	cl_close(&c);

	ok(cl_open(&c, sock) == 0, "connect again");
	cmd(&c, VX_CMD_VERSION, 0);
	vx_build_uint(&c.b, VXF_VER_MAJOR, 1);
	vx_build_uint(&c.b, VXF_VER_MINOR, 0);
	ok(call(&c, NULL, 0) == ENOTSUP, "VERSION major 1: ENOTSUP");
	cl_close(&c);
}

static void
test_info(const char *sock)
{
	struct client c;
	unsigned i;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	cmd(&c, VX_CMD_DEVICE_GET_INFO, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_DEV_FLAGS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_REGIONS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_IRQS, 0);
	ok(call(&c, NULL, 0) == 0, "GET_INFO");
	ok(field(&c, VXF_DEV_FLAGS) == (VX_DEV_RESET | VX_DEV_PCI) &&
	    field(&c, VXF_DEV_NUM_REGIONS) == 9 && field(&c, VXF_DEV_NUM_IRQS) == 5,
	    "GET_INFO: reset|pci, 9 regions, 5 irqs");

	for (i = 0; i < 9; i++) {
		int r = region_info(&c, i, 32);
		uint64_t size = field(&c, VXF_RINFO_SIZE);
		uint64_t flags = field(&c, VXF_RINFO_FLAGS);

		if (i == BAR2)
			ok(r == 0 && size == 256 && flags ==
			    (VX_REGION_READ | VX_REGION_WRITE) && c.f.nfds == 0,
			    "region info bar2: 256 bytes, read|write, no fd");
		else if (i == CONFIG)
			ok(r == 0 && size == 256 && flags ==
			    (VX_REGION_READ | VX_REGION_WRITE),
			    "region info config: 256 bytes, read|write");
		else
			ok(r == 0 && size == 0 && flags == 0,
			    "region info %u: absent, size 0", i);
	}
	ok(region_info(&c, 9, 32) == EINVAL, "region info 9: EINVAL");

	cmd(&c, VX_CMD_DEVICE_GET_REGION_IO_FDS, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_IOFDS_FLAGS, 0);
	vx_build_uint(&c.b, VXF_REGION_INDEX, BAR2);
	vx_build_uint(&c.b, VXF_IOFDS_COUNT, 0);
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_IOFDS_COUNT) == 0 &&
	    field(&c, VXF_ARGSZ) == 16, "GET_REGION_IO_FDS: count 0");

	for (i = 0; i < 5; i++) {
		cmd(&c, VX_CMD_DEVICE_GET_IRQ_INFO, 0);
		vx_build_uint(&c.b, VXF_ARGSZ, 16);
		vx_build_uint(&c.b, VXF_IRQ_INFO_FLAGS, 0);
		vx_build_uint(&c.b, VXF_IRQ_INDEX, i);
		vx_build_uint(&c.b, VXF_IRQ_COUNT, 0);
		/* gpio: INTx; no MSI, MSI-X; error and request always */
		ok(call(&c, NULL, 0) == 0 && field(&c, VXF_IRQ_COUNT) ==
		    (i == 1 || i == 2 ? 0u : 1u) && (field(&c, VXF_IRQ_INFO_FLAGS) &
		    VX_IRQ_INFO_EVENTFD), "IRQ info %u: count %u", i,
		    i == 1 || i == 2 ? 0 : 1);
	}
	cl_close(&c);
}

static void
test_config(const char *sock)
{
	struct client c;
	uint64_t cap;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	ok(reg(&c, CONFIG, 0, 2) == 0x494f && reg(&c, CONFIG, 2, 2) == 0x0dc8,
	    "config: vendor 0x494f device 0x0dc8");
	ok(reg(&c, CONFIG, 0x2c, 4) == 0x0001494f, "config: subsystem ids");
	ok(reg(&c, CONFIG, 0x08, 4) == 0x08800001, "config: class and revision");
	ok(reg(&c, CONFIG, 0x0e, 1) == 0, "config: header type 0");
	ok(reg(&c, CONFIG, 0x3d, 1) == 1, "config: interrupt pin INTA");
	ok(reg(&c, CONFIG, 0x18, 4) == 0x1, "config: BAR2 is I/O");
	ok(wr(&c, CONFIG, 0x18, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x18, 4) == 0xffffff01,
	    "config: BAR2 sizing reads back a 256-byte I/O mask");
	ok(wr(&c, CONFIG, 0x18, 4, 0xc000) == 0 &&
	    reg(&c, CONFIG, 0x18, 4) == 0xc001, "config: BAR2 takes an address");
	ok(wr(&c, CONFIG, 0x10, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x10, 4) == 0, "config: absent BAR0 stays 0");
	ok(wr(&c, CONFIG, 0x00, 2, 0x1234) == 0 &&
	    reg(&c, CONFIG, 0, 2) == 0x494f, "config: vendor id is read-only");
	ok(wr(&c, CONFIG, 0x04, 2, 0xffff) == 0 &&
	    reg(&c, CONFIG, 0x04, 2) == 0x0407, "config: command's writable bits");
	ok(reg(&c, CONFIG, 0x06, 2) & 0x10, "config: status has a capability list");
	cap = reg(&c, CONFIG, 0x34, 1);
	ok(cap >= 0x40 && reg(&c, CONFIG, cap, 1) == 0x01 &&
	    reg(&c, CONFIG, cap + 1, 1) == 0, "config: one PM capability");
	ok(rd(&c, CONFIG, 0xfe, 4, &cap) == EINVAL, "config: read past 256: EINVAL");
	cl_close(&c);
}

static void
test_registers(const char *sock)
{
	struct client c;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	ok(reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "input reads its reset value");
	ok(wr(&c, BAR2, R_INPUT, 4, 0x1111) == 0 &&
	    reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "ro: a write is ignored");
	ok(wr(&c, BAR2, R_OUTPUT, 4, 0xdeadbeef) == 0 &&
	    reg(&c, BAR2, R_OUTPUT, 4) == 0xdeadbeef, "rw reads back");
	ok(wr(&c, BAR2, R_OUTPUT + 1, 1, 0x00) == 0 &&
	    reg(&c, BAR2, R_OUTPUT, 4) == 0xdead00ef, "a byte write merges");
	ok(reg(&c, BAR2, R_OUTPUT + 2, 2) == 0xdead, "a partial read");
	ok(wr(&c, BAR2, R_SCRATCH, 4, 0x5a5a) == 0 &&
	    reg(&c, BAR2, R_SCRATCH, 4) == 0x5a5a, "scratch reads back");
	ok(reg(&c, BAR2, R_CONTROL, 2) == 1, "control resets to 1");
	ok(wr(&c, BAR2, R_CONTROL, 2, 7) == 0 && reg(&c, BAR2, R_CONTROL, 2) == 7,
	    "control written");
	ok(reg(&c, BAR2, 0x40, 4) == 0 && wr(&c, BAR2, 0x40, 4, 1) == 0 &&
	    reg(&c, BAR2, 0x40, 4) == 0, "a hole reads 0 and drops writes");
	ok(wr(&c, BAR2, 0xfe, 4, 0) == EINVAL, "write past the region: EINVAL");
	ok(reg(&c, BAR2, 0x100, 1) == ~0ull, "read past the region fails");
	ok(rd(&c, 0, 0, 4, &(uint64_t){ 0 }) == EINVAL,
	    "read of an absent region: EINVAL");

	cmd(&c, VX_CMD_DEVICE_RESET, 0);
	ok(call(&c, NULL, 0) == 0, "DEVICE_RESET");
	ok(reg(&c, BAR2, R_OUTPUT, 4) == 0, "reset restores rw");
	ok(reg(&c, BAR2, R_CONTROL, 2) == 1, "reset restores control");
	ok(reg(&c, BAR2, R_SCRATCH, 4) == 0x5a5a, "reset keeps scratch");
	ok(reg(&c, CONFIG, 0x18, 4) == 0x1 && reg(&c, CONFIG, 4, 2) == 0,
	    "reset restores config space");
	cl_close(&c);
}

static void
test_doorbell(const char *sock)
{
	struct client c;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ok(connect_ready(&c, sock) == 0, "negotiated");
	ok(wr(&c, BAR2, R_STATUS, 4, 0xffffffff) == 0 &&
	    reg(&c, BAR2, R_STATUS, 4) == 0, "status starts clear");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 1, &efd, 1) == 0, "SET_IRQS INTx eventfd");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 2, NULL, 0) == EINVAL, "SET_IRQS past the vectors: EINVAL");
	ok(wr(&c, BAR2, R_DOORBELL, 4, 1) == 0, "ring the doorbell");
	ok(signalled(efd, 1000) == 1, "doorbell: INTx eventfd signalled");
	ok(reg(&c, BAR2, R_STATUS, 4) == 1, "doorbell set status bit 0");
	ok(wr(&c, BAR2, R_STATUS, 4, 0x2) == 0 && reg(&c, BAR2, R_STATUS, 4) == 1,
	    "w1c: writing 0 bits keeps them");
	ok(wr(&c, BAR2, R_STATUS, 4, 0x1) == 0 && reg(&c, BAR2, R_STATUS, 4) == 0,
	    "w1c: writing 1 clears");
	ok(wr(&c, BAR2, R_DOORBELL, 4, 1) == 0 && signalled(efd, 100) == 0,
	    "INTx is automasked after firing");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_UNMASK,
	    0, 1, NULL, 0) == 0 && signalled(efd, 1000) == 1,
	    "unmask delivers the pending interrupt");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER,
	    0, 1, NULL, 0) == 0 && signalled(efd, 1000) == 1,
	    "SET_IRQS data_none trigger fires the eventfd");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 1, NULL, 0) == 0, "de-assign with no fds");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_UNMASK,
	    0, 1, NULL, 0) == 0 && wr(&c, BAR2, R_DOORBELL, 4, 1) == 0 &&
	    signalled(efd, 100) == 0, "no eventfd: nothing signalled");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 1, &efd, 1) == 0 && set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_NONE |
	    VX_IRQ_ACTION_TRIGGER, 0, 0, NULL, 0) == 0 &&
	    wr(&c, BAR2, R_DOORBELL, 4, 1) == 0 && signalled(efd, 100) == 0,
	    "count 0 data_none disables the index");
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 1, &c.fd, 1) == EINVAL, "a socket is no eventfd: EINVAL");
	cl_close(&c);
	close(efd);
}

static void
test_errors(const char *sock)
{
	struct client c;
	uint8_t raw[32];
	uint64_t v;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	/* REGION_READ cut to 4 payload bytes */
	memset(raw, 0, sizeof(raw));
	vx_store(raw, 2, 0x4242, 0);
	vx_store(raw + 2, 2, VX_CMD_REGION_READ, 0);
	vx_store(raw + 4, 4, 20, 0);
	ok(vx_send_msg(&c.fr, raw, 20, NULL, 0, TIMEOUT_MS) == 0 &&
	    cl_recv(&c) == 0 && c.m.id == 0x4242 && c.m.cmd == VX_CMD_REGION_READ &&
	    (c.m.flags & VX_F_ERROR) && c.m.error == EINVAL &&
	    vx_msg_is_reply(&c.m), "truncated REGION_READ: EINVAL reply, same id");
	ok(reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "the server keeps serving");

	vx_store(raw, 2, 0x4343, 0);
	vx_store(raw + 2, 2, 99, 0);
	vx_store(raw + 4, 4, 24, 0);
	ok(vx_send_msg(&c.fr, raw, 24, NULL, 0, TIMEOUT_MS) == 0 &&
	    cl_recv(&c) == 0 && c.m.id == 0x4343 && c.m.cmd == 99 &&
	    (c.m.flags & VX_F_ERROR) && c.m.error == ENOSYS,
	    "unknown command 99: ENOSYS reply");
	ok(reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "the server keeps serving");

	vx_store(raw, 2, 0x4444, 0);
	vx_store(raw + 2, 2, VX_CMD_DEVICE_GET_INFO, 0);
	vx_store(raw + 4, 4, 8, 0);
	ok(vx_send_msg(&c.fr, raw, 16, NULL, 0, TIMEOUT_MS) == VX_ERR_INVALID,
	    "(the framer refuses to send msg_size 8)");
	ok(write(c.fd, raw, 16) == 16 && cl_recv(&c) == 0 && c.m.id == 0x4444 &&
	    c.m.error == EINVAL, "msg_size 8: EINVAL reply");
	ok(reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "the server keeps serving");

	vx_store(raw, 2, 0x4545, 0);
	vx_store(raw + 2, 2, 99, 0);
	vx_store(raw + 4, 4, 16, 0);
	vx_store(raw + 8, 4, VX_F_NO_REPLY, 0);
	ok(vx_send_msg(&c.fr, raw, 16, NULL, 0, TIMEOUT_MS) == 0 &&
	    rd(&c, BAR2, R_INPUT, 4, &v) == 0 && v == 0xa5a5,
	    "unknown no_reply command: no error reply either");

	build_write(&c, BAR2, R_OUTPUT, 4, 0x77, VX_F_NO_REPLY);
	ok(cl_send(&c, NULL, 0) == 0, "no_reply write sent");
	ok(rd(&c, BAR2, R_OUTPUT, 4, &v) == 0 && v == 0x77,
	    "no_reply write: no reply, and the next read sees it");
	build_write(&c, BAR2, 0x200, 4, 0x77, VX_F_NO_REPLY);
	ok(cl_send(&c, NULL, 0) == 0 && rd(&c, BAR2, R_OUTPUT, 4, &v) == 0,
	    "failing no_reply write: no error reply");

	cmd(&c, VX_CMD_REGION_WRITE_MULTI, 0);
	vx_build_uint(&c.b, VXF_WM_COUNT, 2);
	vx_build_uint(&c.b, VXF_REGION_OFFSET, R_OUTPUT);
	vx_build_uint(&c.b, VXF_REGION_INDEX, BAR2);
	vx_build_uint(&c.b, VXF_REGION_COUNT, 4);
	vx_build_bytes(&c.b, VXF_WM_DATA, "\x01\x02\x03\x04\0\0\0\0", 8);
	vx_build_uint(&c.b, VXF_REGION_OFFSET, R_SCRATCH);
	vx_build_uint(&c.b, VXF_REGION_INDEX, BAR2);
	vx_build_uint(&c.b, VXF_REGION_COUNT, 2);
	vx_build_bytes(&c.b, VXF_WM_DATA, "\x09\x08\0\0\0\0\0\0", 8);
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_WM_COUNT) == 2,
	    "REGION_WRITE_MULTI: reply wr_cnt 2");
	ok(reg(&c, BAR2, R_OUTPUT, 4) == 0x04030201 &&
	    (reg(&c, BAR2, R_SCRATCH, 4) & 0xffff) == 0x0809,
	    "REGION_WRITE_MULTI wrote both");
	cl_close(&c);
}

/* DEVICE_FEATURE MIG_DEVICE_STATE: set (target >= 0) or get; the state. */
static int
mig_state(struct client *c, int target, int *err)
{
	cmd(c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 16);
	vx_build_uint(&c->b, VXF_FEAT_FLAGS, VX_FEAT_MIG_DEVICE_STATE |
	    (target >= 0 ? VX_FEATURE_SET : VX_FEATURE_GET));
	if (target >= 0) {
		vx_build_uint(&c->b, VXF_MIG_STATE, (uint64_t)target);
		vx_build_uint(&c->b, VXF_MIG_DATA_FD, 0);
	}
	*err = call(c, NULL, 0);
	return *err == 0 ? (int)field(c, VXF_MIG_STATE) : -1;
}

/* MIG_DATA_READ of at most n bytes appended to buf; bytes read or -1. */
static long
mig_read(struct client *c, uint8_t *buf, uint32_t n)
{
	const struct vx_item *it;

	cmd(c, VX_CMD_MIG_DATA_READ, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 8 + n);
	vx_build_uint(&c->b, VXF_MIGD_SIZE, n);
	if (call(c, NULL, 0) != 0)
		return -1;
	if (field(c, VXF_MIGD_SIZE) == 0)
		return 0;
	it = vx_msg_item(&c->m, VXF_MIGD_DATA);
	if (it == NULL || it->len > n || field(c, VXF_MIGD_SIZE) != it->len)
		return -1;
	memcpy(buf, it->ptr, it->len);
	return (long)it->len;
}

static int
mig_write(struct client *c, const uint8_t *buf, uint32_t n)
{
	cmd(c, VX_CMD_MIG_DATA_WRITE, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 8);
	vx_build_uint(&c->b, VXF_MIGD_SIZE, n);
	vx_build_bytes(&c->b, VXF_MIGD_DATA, buf, n);
	return call(c, NULL, 0);
}

static void
test_migration(const char *sock)
{
	static uint8_t blob[65536];
	struct client c;
	size_t len = 0, off;
	long n;
	int err, chunks = 0, efd;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	cmd(&c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_FEAT_FLAGS, VX_FEAT_MIGRATION | VX_FEATURE_GET);
	vx_build_uint(&c.b, VXF_MIG_FLAGS, 0);
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_MIG_FLAGS) ==
	    (VX_MIGRATION_STOP_COPY | VX_MIGRATION_PRE_COPY),
	    "feature MIGRATION: stop_copy|pre_copy");
	cmd(&c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 8);
	vx_build_uint(&c.b, VXF_FEAT_FLAGS, VX_FEAT_MIG_DEVICE_STATE |
	    VX_FEATURE_PROBE | VX_FEATURE_SET);
	ok(call(&c, NULL, 0) == 0, "probe MIG_DEVICE_STATE set: supported");
	cmd(&c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 8);
	vx_build_uint(&c.b, VXF_FEAT_FLAGS, 3 | VX_FEATURE_PROBE | VX_FEATURE_GET);
	ok(call(&c, NULL, 0) == ENOTSUP, "probe of feature 3: ENOTSUP");
	ok(mig_state(&c, -1, &err) == VX_MIG_RUNNING, "state RUNNING");
	ok(mig_read(&c, blob, 64) < 0, "MIG_DATA_READ while RUNNING fails");

	wr(&c, BAR2, R_OUTPUT, 4, 0x1111);
	wr(&c, BAR2, R_SCRATCH, 4, 0x2222);
	wr(&c, CONFIG, 0x18, 4, 0xc000);
	ok(mig_state(&c, VX_MIG_STOP_COPY, &err) == VX_MIG_STOP_COPY,
	    "RUNNING -> STOP_COPY (through STOP)");
	ok(mig_state(&c, VX_MIG_PRE_COPY, &err) < 0 && err == EINVAL,
	    "STOP_COPY -> PRE_COPY is refused");
	ok(mig_state(&c, -1, &err) == VX_MIG_STOP_COPY, "still STOP_COPY");
	while ((n = mig_read(&c, blob + len, 64)) > 0 && len < sizeof(blob) - 64) {
		len += (size_t)n;
		chunks++;
		if (n < 64)
			break;
	}
	ok(n >= 0 && len > 256 && chunks > 4,
	    "MIG_DATA_READ: %zu bytes in %d chunks", len, chunks);
	ok(mig_read(&c, blob + len, 64) == 0, "then size 0: no more data");
	ok(mig_state(&c, VX_MIG_STOP, &err) == VX_MIG_STOP, "STOP_COPY -> STOP");

	cmd(&c, VX_CMD_DEVICE_RESET, 0);
	ok(call(&c, NULL, 0) == 0 && wr(&c, BAR2, R_OUTPUT, 4, 0x9999) == 0 &&
	    wr(&c, BAR2, R_SCRATCH, 4, 0) == 0, "reset and scribble");
	ok(mig_state(&c, VX_MIG_RESUMING, &err) == VX_MIG_RESUMING,
	    "RUNNING -> RESUMING");
	for (off = 0, err = 0; off < len && err == 0; off += 100)
		err = mig_write(&c, blob + off, len - off < 100 ?
		    (uint32_t)(len - off) : 100);
	ok(err == 0, "MIG_DATA_WRITE in pieces");
	ok(mig_state(&c, VX_MIG_RUNNING, &err) == VX_MIG_RUNNING,
	    "RESUMING -> RUNNING (through STOP) loads the state");
	ok(reg(&c, BAR2, R_OUTPUT, 4) == 0x1111 &&
	    reg(&c, BAR2, R_SCRATCH, 4) == 0x2222 &&
	    reg(&c, CONFIG, 0x18, 4) == 0xc001,
	    "registers and config space are back");

	ok(mig_state(&c, VX_MIG_RESUMING, &err) == VX_MIG_RESUMING &&
	    mig_write(&c, blob, 10) == 0, "resume with 10 bytes");
	ok(mig_state(&c, VX_MIG_STOP, &err) < 0 && err == EINVAL,
	    "RESUMING -> STOP with bad data fails");
	ok(mig_state(&c, -1, &err) == VX_MIG_ERROR &&
	    mig_state(&c, VX_MIG_RUNNING, &err) < 0, "ERROR until reset");
	cmd(&c, VX_CMD_DEVICE_RESET, 0);
	ok(call(&c, NULL, 0) == 0 && mig_state(&c, -1, &err) == VX_MIG_RUNNING,
	    "DEVICE_RESET: back to RUNNING");
	ok(mig_state(&c, VX_MIG_PRE_COPY, &err) == VX_MIG_PRE_COPY &&
	    mig_read(&c, blob, 64) == 0, "PRE_COPY: no data before stop-copy");
	ok(mig_state(&c, VX_MIG_STOP_COPY, &err) == VX_MIG_STOP_COPY &&
	    mig_read(&c, blob, 64) == 64, "PRE_COPY -> STOP_COPY: data");
	ok(mig_state(&c, VX_MIG_RUNNING, &err) == VX_MIG_RUNNING,
	    "STOP_COPY -> RUNNING");
	ok(mig_state(&c, VX_MIG_RUNNING_P2P, &err) < 0 && err == EINVAL,
	    "RUNNING_P2P: EINVAL");

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(set_irqs(&c, VX_IRQ_INTX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 1, &efd, 1) == 0 && mig_state(&c, VX_MIG_STOP, &err) == VX_MIG_STOP,
	    "INTx eventfd, then STOP");
	ok(wr(&c, BAR2, R_DOORBELL, 4, 1) == 0 && signalled(efd, 100) == 0,
	    "a stopped device raises no interrupt");
	ok(mig_state(&c, VX_MIG_RUNNING, &err) == VX_MIG_RUNNING &&
	    signalled(efd, 1000) == 1, "it comes when the device runs again");
	close(efd);
	cl_close(&c);
}

/*
 * Random requests: valid headers with random commands, flags and payloads
 * (some shaped like real requests).  Every one that wants a reply gets
 * exactly one, with its id, and the server still serves afterwards.
 */
static void
test_random(const char *sock)
{
	struct client c;
	uint8_t msg[96];
	uint32_t x = 12345;
	unsigned i, k, len, bad = 0, noreply;
	uint16_t id;

	ok(connect_ready(&c, sock) == 0, "negotiated");
	for (i = 0; i < 2000 && bad == 0; i++) {
		len = 16 + (i % 81);
		for (k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			msg[k] = (uint8_t)x;
		}
		id = (uint16_t)(0x8000 + i);
		vx_store(msg, 2, id, 0);
		/* mostly real commands (not VERSION), sometimes anything */
		if (i % 7)
			vx_store(msg + 2, 2, 2 + msg[2] % 17, 0);
		vx_store(msg + 4, 4, len, 0);
		/* commands only; no_reply now and then */
		noreply = (i % 13) == 0;
		vx_store(msg + 8, 4, noreply ? VX_F_NO_REPLY : 0, 0);
		vx_store(msg + 12, 4, 0, 0);
		if (len >= 24 && (i % 3) == 0)	/* a plausible argsz */
			vx_store(msg + 16, 4, 32, 0);
		if (vx_send_msg(&c.fr, msg, len, NULL, 0, TIMEOUT_MS) < 0) {
			bad = 1;
			break;
		}
		if (noreply)
			continue;
		if (cl_recv(&c) < 0 || c.m.id != id || !vx_msg_is_reply(&c.m)) {
			diag("message %u (cmd %u, %u bytes): no proper reply", i,
			    (unsigned)vx_load(msg + 2, 2, 0), len);
			bad = 1;
		}
	}
	ok(bad == 0, "2000 random requests: one reply each, with its id");
	/* the random writes may have touched any register: read a ro one */
	ok(reg(&c, BAR2, R_INPUT, 4) == 0xa5a5, "the server still serves");
	cmd(&c, VX_CMD_DEVICE_RESET, 0);
	ok(call(&c, NULL, 0) == 0, "and resets");
	cl_close(&c);
}

/*
 * Replay the client side of a recorded QEMU session (QEMU against
 * libvfio-user's gpio sample, ../shared/vectors) against gpio.json: every
 * command that got a reply there gets one here with the same id and
 * command, and an error exactly where the recording has one.  Descriptors
 * are stood in for by a memfd of the recorded size or an eventfd.
 */
static void
test_replay(const char *sock, const char *name)
{
	const char *dir = getenv("VECTORS");
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *in;
	struct client c;
	uint8_t *msg = NULL;
	unsigned nreply = 0, differ = 0, i;
	struct { uint16_t id, cmd; int err, used; } *rep = NULL;
	unsigned nrep = 0;
	int pass;

	snprintf(path, sizeof(path), "%s/%s.jsonl", dir && *dir ? dir :
	    "../shared/vectors", name);
	if ((in = fopen(path, "r")) == NULL) {
		ok(1, "replay of %s # skip no vectors", name);
		return;
	}
	ok(cl_open(&c, sock) == 0, "replay of %s: connected", name);
	/* pass 0 collects the recorded replies, pass 1 replays */
	for (pass = 0; pass < 2; pass++) {
		rewind(in);
		while (getline(&line, &cap, in) > 0) {
			json_t *o = json_loads(line, 0, NULL), *fds;
			const char *hex = json_string_value(json_object_get(o, "hex"));
			const char *d = json_string_value(json_object_get(o, "dir"));
			const char *ch = json_string_value(json_object_get(o, "chan"));
			size_t n, k;
			int fdv[16], nfd = 0, err;
			uint16_t id, cmdno;
			uint32_t fl;

			if (hex == NULL || d == NULL || (ch && strcmp(ch, "main")) ||
			    (n = strlen(hex) / 2) < 16) {
				json_decref(o);
				continue;
			}
			msg = realloc(msg, n);
			for (k = 0; k < n; k++)
				sscanf(hex + 2 * k, "%2hhx", &msg[k]);
			id = (uint16_t)vx_load(msg, 2, 0);
			cmdno = (uint16_t)vx_load(msg + 2, 2, 0);
			fl = (uint32_t)vx_load(msg + 8, 4, 0);
			err = (fl & VX_F_ERROR) ? (int)vx_load(msg + 12, 4, 0) : 0;
			if (pass == 0) {
				if (strcmp(d, "s2c") == 0 && (fl & 0xf) == 1) {
					rep = realloc(rep, (nrep + 1) * sizeof(*rep));
					rep[nrep].id = id;
					rep[nrep].cmd = cmdno;
					rep[nrep].err = err;
					rep[nrep++].used = 0;
				}
				json_decref(o);
				continue;
			}
			if (strcmp(d, "c2s") != 0 || (fl & 0xf) != 0) {
				json_decref(o);
				continue;
			}
			fds = json_object_get(o, "fds");
			for (k = 0; k < json_array_size(fds) && nfd < 16; k++) {
				json_t *f = json_array_get(fds, k);
				const char *kind = json_string_value(
				    json_object_get(f, "kind"));

				if (kind && strcmp(kind, "memfd") == 0) {
					fdv[nfd] = memfd_create("guest", MFD_CLOEXEC);
					if (ftruncate(fdv[nfd], (off_t)json_integer_value(
					    json_object_get(f, "size"))) < 0)
						diag("ftruncate: %s", strerror(errno));
				} else {
					fdv[nfd] = eventfd(0, EFD_CLOEXEC);
				}
				nfd++;
			}
			json_decref(o);
			if (vx_send_msg(&c.fr, msg, n, fdv, nfd, TIMEOUT_MS) < 0)
				differ++;
			for (k = 0; k < (size_t)nfd; k++)
				close(fdv[k]);
			if (fl & VX_F_NO_REPLY)
				continue;
			if (cl_recv(&c) < 0 || c.m.id != id || c.m.cmd != cmdno) {
				differ++;
				break;
			}
			nreply++;
			for (i = 0; i < nrep; i++)
				if (!rep[i].used && rep[i].id == id && rep[i].cmd == cmdno)
					break;
			if (i == nrep)
				continue;
			rep[i].used = 1;
			if (rep[i].err != ((c.m.flags & VX_F_ERROR) ? (int)c.m.error : 0)) {
				diag("%s: id %u %s: error %d here, %d recorded", name,
				    id, vx_cmd_name(cmdno), (c.m.flags & VX_F_ERROR) ?
				    (int)c.m.error : 0, rep[i].err);
				differ++;
			}
		}
	}
	ok(nreply > 50 && differ == 0, "replay of %s: %u replies, %u differ",
	    name, nreply, differ);
	free(rep);
	free(msg);
	free(line);
	fclose(in);
	cl_close(&c);
}

static void
test_clients(const char *sock, pid_t pid)
{
	struct client c;
	pid_t kid;

	ok(connect_ready(&c, sock) == 0, "first client");
	ok(wr(&c, BAR2, R_OUTPUT, 4, 0xfeed) == 0 &&
	    wr(&c, BAR2, R_SCRATCH, 4, 0xcafe) == 0, "first client writes");
	cl_close(&c);
	ok(connect_ready(&c, sock) == 0, "second client");
	ok(reg(&c, BAR2, R_OUTPUT, 4) == 0xfeed &&
	    reg(&c, BAR2, R_SCRATCH, 4) == 0xcafe,
	    "second client sees the first one's writes");
	cl_close(&c);

	/* a client killed in the middle of a message */
	if ((kid = fork()) == 0) {
		struct client k;
		uint8_t half[10] = { 1, 0, VX_CMD_REGION_READ, 0, 32, 0, 0, 0 };

		if (connect_ready(&k, sock) != 0 ||
		    write(k.fd, half, sizeof(half)) != sizeof(half))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	ok(reap(kid, 5000) == 128 + SIGKILL, "a client died mid-message");
	ok(reap(pid, 200) < 0, "the server is still running");
	ok(connect_ready(&c, sock) == 0 && reg(&c, BAR2, R_OUTPUT, 4) == 0xfeed,
	    "the next client is served");
	cl_close(&c);
}

static void
test_sigterm(const char *sock, pid_t pid)
{
	struct stat st;
	int status;

	ok(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode), "socket exists");
	kill(pid, SIGTERM);
	status = reap(pid, 20000);
	ok(status == 0, "SIGTERM: exit 0 (got %d)", status);
	ok(stat(sock, &st) < 0 && errno == ENOENT, "SIGTERM removes the socket");
}

static void
test_sock_mode(void)
{
	char sock[96];
	struct stat st;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/once", tmpdir);
	pid = spawn("tests/devices/gpio.json", sock, "--once");
	{
		struct client c;

		ok(connect_ready(&c, sock) == 0, "--once: a client");
		/* checked once it listens: the mode is set before listen */
		ok(stat(sock, &st) == 0 && (st.st_mode & 0777) == 0600,
		    "socket mode 0600 by default");
		cl_close(&c);
	}
	ok(reap(pid, 20000) == 0, "--once: exit 0 after the client");
	ok(stat(sock, &st) < 0, "--once: socket removed");
}

/* --- dma.json -------------------------------------------------------------- */

static void
test_dma_regions(const char *sock)
{
	struct client c;
	const struct vx_item *it;
	uint8_t *p;
	int fd;

	ok(connect_ready(&c, sock) == 0, "dma: negotiated");
	ok(region_info(&c, BAR2, 32) == 0 && field(&c, VXF_ARGSZ) == 80 &&
	    c.f.nfds == 0 && field(&c, VXF_RINFO_SIZE) == 16384 &&
	    (field(&c, VXF_RINFO_FLAGS) & VX_REGION_CAPS) &&
	    field(&c, VXF_RINFO_CAP_OFFSET) == 32 &&
	    vx_msg_item(&c.m, VXF_CAP) == NULL,
	    "bar2 info with argsz 32: argsz 80, cap_offset 32 (as QEMU wants), "
	    "fixed part only, no fd");
	ok(region_info(&c, BAR2, 80) == 0 && c.f.nfds == 1 &&
	    field(&c, VXF_RINFO_FLAGS) == (VX_REGION_READ | VX_REGION_WRITE |
	    VX_REGION_MMAP | VX_REGION_CAPS) && field(&c, VXF_RINFO_CAP_OFFSET) == 32,
	    "bar2 info: read|write|mmap|caps and one fd");
	ok(field(&c, VXF_CAP_ID) == VX_REGION_CAP_SPARSE_MMAP &&
	    field(&c, VXF_CAP_NR_AREAS) == 2, "bar2: sparse mmap cap, 2 areas");
	it = vx_msg_item(&c.m, VXF_AREA_OFFSET);
	ok(it != NULL && it[0].val == 0 && it[1].val == 0x1000 &&
	    it[3].field == VXF_AREA_OFFSET && it[3].val == 0x2000 &&
	    it[4].val == 0x1000, "bar2: areas [0, 4K) and [8K, 12K)");
	fd = c.f.fds[0];
	p = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(p != MAP_FAILED && p[0] == 0x00 && p[1] == 0x11 && p[15] == 0xff,
	    "bar2 fd maps the initial contents");
	ok(wr(&c, BAR2, 0x2000, 4, 0x01020304) == 0 && p != MAP_FAILED &&
	    p[0x2000] == 4 && p[0x2003] == 1, "a REGION_WRITE shows in the map");
	if (p != MAP_FAILED) {
		p[0x2004] = 0x99;
		munmap(p, 16384);
	}
	ok(reg(&c, BAR2, 0x2004, 1) == 0x99, "a store to the map shows in reads");

	ok(region_info(&c, 0, 32) == 0 && field(&c, VXF_RINFO_SIZE) == 8192 &&
	    c.f.nfds == 0, "bar0: 8 KiB, no fd");
	ok(region_info(&c, 6, 32) == 0 && field(&c, VXF_RINFO_FLAGS) ==
	    VX_REGION_READ && field(&c, VXF_RINFO_SIZE) == 2048, "rom: read-only 2 KiB");
	ok(reg(&c, 6, 0, 2) == 0xaa55, "rom contents");
	ok(wr(&c, 6, 0, 2, 0) == EINVAL, "rom write: EINVAL");
	ok(region_info(&c, CONFIG, 32) == 0 && field(&c, VXF_RINFO_SIZE) == 4096,
	    "config: 4 KiB with a PCIe capability");
	ok(reg(&c, 0, 0x24, 4) == 0x0dca494f, "bar0 id register");
	cl_close(&c);
}

static void
test_dma_config(const char *sock)
{
	struct client c;
	uint64_t cap, msix = 0, n = 0;

	ok(connect_ready(&c, sock) == 0, "dma: negotiated");
	ok(reg(&c, CONFIG, 0x18, 4) == 0xc, "BAR2: 64-bit prefetchable memory");
	ok(wr(&c, CONFIG, 0x18, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x18, 4) == 0xffffc00c, "BAR2 low sizing: 16 KiB");
	ok(wr(&c, CONFIG, 0x1c, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x1c, 4) == 0xffffffff, "BAR2 high dword writable");
	ok(wr(&c, CONFIG, 0x10, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x10, 4) == 0xffffe000, "BAR0 sizing: 8 KiB");
	ok(wr(&c, CONFIG, 0x30, 4, 0xffffffff) == 0 &&
	    reg(&c, CONFIG, 0x30, 4) == 0xfffff801, "ROM sizing: 2 KiB");
	for (cap = reg(&c, CONFIG, 0x34, 1); cap && n < 8; n++) {
		if (reg(&c, CONFIG, cap, 1) == 0x11)
			msix = cap;
		cap = reg(&c, CONFIG, cap + 1, 1);
	}
	ok(n == 4, "four capabilities in the list");
	ok(msix && reg(&c, CONFIG, msix + 2, 2) == 3 &&
	    reg(&c, CONFIG, msix + 4, 4) == 0x1000 &&
	    reg(&c, CONFIG, msix + 8, 4) == 0x1800,
	    "MSI-X: 4 vectors, table and PBA in BAR0");
	cl_close(&c);
}

static void
engine(struct client *c, uint64_t addr, uint32_t len, uint32_t dir)
{
	wr(c, 0, E_STATUS, 4, 0xffffffff);
	wr(c, 0, E_ADDR, 8, addr);
	wr(c, 0, E_LEN, 4, len);
	wr(c, 0, E_DIR, 4, dir);
}

/* vx_server without a process: a socketpair, stepped by hand. */
static void
test_in_process(void)
{
	char err[256];
	struct vx_device *d = vx_device_load("tests/devices/gpio.json", err,
	    sizeof(err));
	struct vx_server *s = d != NULL ? vx_server_new(d, 65536) : NULL;
	static const char twin[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"twin_socket\":{\"supported\":true}}}";
	struct client c;
	int sv[2], r, i;

	if (!ok(s != NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0, sv) == 0 && vx_server_attach(s, sv[0]) == 0,
	    "in process: vx_server on a socketpair"))
		return;
	memset(&c, 0, sizeof(c));
	vx_decoder_init(&c.dec);
	vx_builder_init(&c.b);
	c.fd = sv[1];
	vx_framer_init(&c.fr, c.fd, NULL);
	cmd(&c, VX_CMD_VERSION, 0);
	vx_build_uint(&c.b, VXF_VER_MAJOR, 0);
	vx_build_uint(&c.b, VXF_VER_MINOR, 2);
	vx_build_bytes(&c.b, VXF_VER_JSON, twin, strlen(twin) + 1);
	ok(cl_send(&c, NULL, 0) == 0 && vx_server_step(s) == 0 &&
	    cl_recv(&c) == 0 && c.m.cmd == VX_CMD_VERSION &&
	    vx_msg_is_reply(&c.m) && !(c.m.flags & VX_F_ERROR) &&
	    vx_server_negotiated(s) && c.f.nfds == 1,
	    "in process: VERSION answered in one step, with a twin socket");
	close(c.f.fds[0]);	/* the client drops the twin at once */
	c.f.fds[0] = -1;
	cmd(&c, VX_CMD_DEVICE_GET_INFO, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_DEV_FLAGS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_REGIONS, 0);
	vx_build_uint(&c.b, VXF_DEV_NUM_IRQS, 0);
	ok(cl_send(&c, NULL, 0) == 0 && vx_server_step(s) == 0 &&
	    cl_recv(&c) == 0 && c.m.cmd == VX_CMD_DEVICE_GET_INFO &&
	    !(c.m.flags & VX_F_ERROR),
	    "in process: a client that closed its twin socket is still served");
	cmd(&c, 99, 0);
	ok(cl_send(&c, NULL, 0) == 0 && vx_server_step(s) == 0 &&
	    cl_recv(&c) == 0 && (c.m.flags & VX_F_ERROR) && c.m.error == ENOSYS,
	    "in process: an unknown command gets ENOSYS");
	ok(vx_server_attach(s, -1) == VX_ERR_BUSY,
	    "in process: a second client while one is attached: VX_ERR_BUSY");
	cl_close(&c);
	for (i = 0, r = 0; i < 10 && r == 0; i++)
		r = vx_server_step(s);
	ok(r == VX_ERR_CLOSED, "in process: the client hanging up ends it");
	vx_server_detach(s);
	ok(!vx_server_attached(s) && vx_err_to_errno(VX_ERR_NOENT) ==
	    ENOENT && vx_err_to_errno(VX_ERR_TRUNCATED) == EINVAL &&
	    vx_err_to_errno(VX_ERR_UNSUPPORTED) == ENOTSUP,
	    "in process: detached; VX_ERR_* map to the wire's errno");
	vx_server_free(s);
	vx_device_free(d);
}

/* Poll and step the in-process server s until it ends the client; 0 if
 * TIMEOUT_MS pass with neither input nor a deadline, or after max rounds. */
static int
step_until_over(struct vx_server *s, int max)
{
	struct pollfd pfd[VX_SERVER_MAX_POLLFDS];
	int r = 0, t, n;

	while (r == 0 && max-- > 0) {
		t = vx_server_timeout(s);
		n = vx_server_pollfds(s, pfd);
		if ((n = poll(pfd, (nfds_t)n, t < 0 ? TIMEOUT_MS : t)) < 0 &&
		    errno != EINTR)
			return 0;
		if (n == 0 && t < 0)
			return 0;	/* waited for input that never came */
		r = vx_server_step(s);
	}
	return r;
}

/* The engine's own deadlines: a client missing one ends with a timeout. */
static void
test_deadlines(void)
{
	char err[512];
	struct vx_device *d = vx_device_load("tests/devices/gpio.json", err,
	    sizeof(err));
	struct vx_server *s = d != NULL ? vx_server_new(d, 65536) : NULL;
	static const uint8_t half[8] = { 1, 0, 1, 0 };	/* id 1, VERSION */
	int sv[2], t, r;

	if (!ok(s != NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0, sv) == 0, "deadlines: a server and a socketpair"))
		return;
	vx_server_set_deadlines(s, 50, 0);
	vx_server_attach(s, sv[0]);
	t = vx_server_timeout(s);
	ok(t >= 0 && t <= 50, "deadlines: the handshake deadline bounds the "
	    "poll timeout (%d ms)", t);
	r = step_until_over(s, 1000);
	ok(r == VX_ERR_TIMEOUT && strcmp(vx_server_errmsg(s),
	    "sent no VERSION within 50 ms") == 0,
	    "deadlines: a client silent past the handshake deadline ends: "
	    "%s (%s)", vx_strerror(r), vx_server_errmsg(s));
	vx_server_detach(s);
	close(sv[1]);

	if (!ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    "deadlines: a second socketpair"))
		goto out;
	vx_server_set_deadlines(s, 0, 50);
	vx_server_attach(s, sv[0]);
	ok(vx_server_timeout(s) < 0 && write(sv[1], half, sizeof(half)) ==
	    (ssize_t)sizeof(half), "deadlines: no handshake deadline; half a "
	    "header sent");
	r = step_until_over(s, 1000);
	ok(r == VX_ERR_TIMEOUT && strcmp(vx_server_errmsg(s),
	    "left a message unfinished for 50 ms") == 0,
	    "deadlines: a message left half sent ends the client: %s (%s)",
	    vx_strerror(r), vx_server_errmsg(s));
	vx_server_detach(s);
	close(sv[1]);
out:
	vx_server_free(s);
	vx_device_free(d);
}

static void
test_dma_engine(const char *sock)
{
	struct client c;
	int mfd = memfd_create("guest", MFD_CLOEXEC), efd[4], i;
	const struct vx_item *it;
	uint8_t *g, data[8];
	uint16_t go_id, rd_id;

	ok(connect_ready(&c, sock) == 0, "dma: negotiated");
	for (i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(mig_state(&c, VX_MIG_STOP, &i) == VX_MIG_STOP, "STOP the device");
	engine(&c, 0x100100, 16, 0);
	ok(wr(&c, 0, E_GO, 4, 1) == 0 && reg(&c, 0, E_STATUS, 4) == 2,
	    "a stopped device's DMA engine fails");
	ok(mig_state(&c, VX_MIG_RUNNING, &i) == VX_MIG_RUNNING, "RUNNING again");
	ok(set_irqs(&c, VX_IRQ_MSIX, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 4, efd, 4) == 0, "SET_IRQS MSI-X, 4 eventfds");
	ok(wr(&c, 0, 0x20, 4, 1) == 0 && signalled(efd[1], 1000) == 1 &&
	    signalled(efd[0], 0) == 0, "bar0 doorbell raises MSI-X vector 1");

	ok(ftruncate(mfd, 0x10000) == 0 && dma_map(&c, 0x100000, 0x10000, mfd) == 0,
	    "DMA_MAP 64 KiB with a memfd");
	ok(dma_map(&c, 0x108000, 0x1000, -1) == EEXIST, "overlapping DMA_MAP: EEXIST");
	g = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	engine(&c, 0x100100, 16, 0);
	ok(wr(&c, 0, E_GO, 4, 1) == 0, "engine go (device to memory)");
	ok(reg(&c, 0, E_STATUS, 4) == 1, "engine status done");
	ok(g != MAP_FAILED && g[0x100] == 0x00 && g[0x101] == 0x11 &&
	    g[0x10f] == 0xff, "the engine wrote BAR2's bytes into the memfd");
	ok(signalled(efd[0], 1000) == 1, "engine completion raised MSI-X vector 0");
	if (g != MAP_FAILED)
		memcpy(g + 0x800, "\x10\x20\x30\x40", 4);
	engine(&c, 0x100800, 4, 1);
	ok(wr(&c, 0, E_GO, 4, 1) == 0 && reg(&c, BAR2, 0, 4) == 0x40302010,
	    "engine go (memory to device) read the memfd");
	engine(&c, 0x1ffff0, 32, 0);
	ok(wr(&c, 0, E_GO, 4, 1) == 0 && reg(&c, 0, E_STATUS, 4) == 2,
	    "engine outside every window: status error");

	/* a window without an fd: the server sends DMA_WRITE / DMA_READ */
	ok(dma_map(&c, 0x200000, 0x1000, -1) == 0, "DMA_MAP without fd");
	wr(&c, BAR2, 0, 4, 0x44332211);
	engine(&c, 0x200010, 8, 0);
	build_write(&c, 0, E_GO, 4, 1, 0);
	go_id = c.id;
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_WRITE && !vx_msg_is_reply(&c.m) &&
	    field(&c, VXF_DMA_ADDR) == 0x200010 && field(&c, VXF_DMA_COUNT) == 8,
	    "go: the server sends DMA_WRITE of 8 bytes at 0x200010");
	it = vx_msg_item(&c.m, VXF_DMA_DATA);
	ok(it != NULL && it->len == 8 && vx_load(it->ptr, 4, 0) == 0x44332211,
	    "DMA_WRITE carries BAR2's bytes");
	/* the go write waits for the DMA; a command sent meanwhile does not */
	rd_id = c.id + 1;
	{
		uint16_t wid = c.m.id;

		cmd(&c, VX_CMD_REGION_READ, 0);
		vx_build_uint(&c.b, VXF_REGION_OFFSET, 0x24);
		vx_build_uint(&c.b, VXF_REGION_INDEX, 0);
		vx_build_uint(&c.b, VXF_REGION_COUNT, 4);
		ok(cl_send(&c, NULL, 0) == 0, "a read sent meanwhile");
		ok(cl_recv(&c) == 0 && c.m.id == rd_id &&
		    c.m.cmd == VX_CMD_REGION_READ && vx_msg_is_reply(&c.m),
		    "the read is answered while the DMA_WRITE awaits its reply");
		vx_build_header(&c.b, wid, VX_CMD_DMA_WRITE, VX_F_TYPE_REPLY, 0);
		vx_build_uint(&c.b, VXF_DMA_ADDR, 0x200010);
		vx_build_uint(&c.b, VXF_DMA_COUNT32, 8);	/* spec form */
		ok(cl_send(&c, NULL, 0) == 0, "DMA_WRITE answered");
	}
	ok(cl_recv(&c) == 0 && c.m.id == go_id && vx_msg_is_reply(&c.m) &&
	    !(c.m.flags & VX_F_ERROR), "then the go write's reply");
	ok(reg(&c, 0, E_STATUS, 4) == 1, "engine status done");

	engine(&c, 0x200020, 8, 1);
	build_write(&c, 0, E_GO, 4, 1, 0);
	go_id = c.id;
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_READ && field(&c, VXF_DMA_ADDR) == 0x200020 &&
	    field(&c, VXF_DMA_COUNT) == 8, "go: the server sends DMA_READ");
	memcpy(data, "abcdefgh", 8);
	vx_build_header(&c.b, c.m.id, VX_CMD_DMA_READ, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&c.b, VXF_DMA_ADDR, 0x200020);
	vx_build_uint(&c.b, VXF_DMA_COUNT, 8);
	vx_build_bytes(&c.b, VXF_DMA_DATA, data, 8);
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 && c.m.id == go_id,
	    "DMA_READ answered, go write replied");
	ok(reg(&c, BAR2, 0, 4) == 0x64636261 && reg(&c, BAR2, 4, 4) == 0x68676665,
	    "the bytes read landed in BAR2");

	/* one transfer at a time: a second go while one is under way fails */
	engine(&c, 0x200010, 8, 0);
	build_write(&c, 0, E_GO, 4, 1, 0);
	go_id = c.id;
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_WRITE, "go: a DMA_WRITE under way");
	{
		uint16_t wid = c.m.id;

		ok(wr(&c, 0, E_GO, 4, 1) == 0 && reg(&c, 0, E_STATUS, 4) == 2,
		    "a second go meanwhile is answered at once: status error");
		vx_build_header(&c.b, wid, VX_CMD_DMA_WRITE, VX_F_TYPE_REPLY, 0);
		vx_build_uint(&c.b, VXF_DMA_ADDR, 0x200010);
		vx_build_uint(&c.b, VXF_DMA_COUNT, 8);
		ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
		    c.m.id == go_id && reg(&c, 0, E_STATUS, 4) == 3,
		    "the first transfer still ends: done (and the error kept)");
	}

	engine(&c, 0x200000, 4, 1);
	build_write(&c, 0, E_GO, 4, 1, 0);
	go_id = c.id;
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_READ, "another DMA_READ");
	vx_build_header(&c.b, c.m.id, VX_CMD_DMA_READ, VX_F_TYPE_REPLY | VX_F_ERROR,
	    EFAULT);
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 && c.m.id == go_id &&
	    reg(&c, 0, E_STATUS, 4) == 2, "an error reply fails the transfer");

	ok(dma_unmap(&c, 0x200000, 0x1000, 0) == 0, "DMA_UNMAP one window");
	ok(dma_unmap(&c, 0x200000, 0x1000, 0) == ENOENT, "DMA_UNMAP it again: ENOENT");
	ok(dma_unmap(&c, 0, 0, VX_DMA_UNMAP_ALL) == 0, "DMA_UNMAP all");
	engine(&c, 0x100100, 16, 0);
	ok(wr(&c, 0, E_GO, 4, 1) == 0 && reg(&c, 0, E_STATUS, 4) == 2,
	    "after unmapping all, the engine fails");
	if (g != MAP_FAILED)
		munmap(g, 0x10000);
	close(mfd);
	for (i = 0; i < 4; i++)
		close(efd[i]);
	cl_close(&c);
}

static int
log_ctl(struct client *c, unsigned feature, uint64_t ps, uint64_t iova,
    uint64_t len)
{
	cmd(c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 8 + 16 + (len ? 16 : 0));
	vx_build_uint(&c->b, VXF_FEAT_FLAGS, feature | VX_FEATURE_SET);
	vx_build_uint(&c->b, VXF_LOG_PAGE_SIZE, ps);
	vx_build_uint(&c->b, VXF_LOG_NUM_RANGES, len ? 1 : 0);
	vx_build_uint(&c->b, VXF_LOG_RESERVED, 0);
	if (len) {
		vx_build_uint(&c->b, VXF_LOG_IOVA, iova);
		vx_build_uint(&c->b, VXF_LOG_LENGTH, len);
	}
	return call(c, NULL, 0);
}

/* DMA_LOGGING_REPORT; the first bitmap word, or ~0 on error. */
static uint64_t
log_report(struct client *c, uint64_t iova, uint64_t len, uint64_t ps)
{
	const struct vx_item *it;

	cmd(c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c->b, VXF_ARGSZ, 32 + 8);
	vx_build_uint(&c->b, VXF_FEAT_FLAGS, VX_FEAT_DMA_LOGGING_REPORT |
	    VX_FEATURE_GET);
	vx_build_uint(&c->b, VXF_LOG_IOVA, iova);
	vx_build_uint(&c->b, VXF_LOG_LENGTH, len);
	vx_build_uint(&c->b, VXF_LOG_PAGE_SIZE, ps);
	if (call(c, NULL, 0) != 0 || c->m.status != VX_MSG_OK)
		return ~0ull;
	it = vx_msg_item(&c->m, VXF_LOG_BITMAP);
	return it != NULL && it->len == 8 ? vx_load(it->ptr, 8, 0) : ~0ull;
}

static void
test_dirty(const char *sock)
{
	struct client c;
	int mfd = memfd_create("guest", MFD_CLOEXEC);

	ok(connect_ready(&c, sock) == 0, "dma: negotiated");
	ok(ftruncate(mfd, 0x10000) == 0 && dma_map(&c, 0x100000, 0x10000, mfd) == 0 &&
	    dma_map(&c, 0x200000, 0x1000, -1) == 0, "two windows");
	cmd(&c, VX_CMD_DEVICE_FEATURE, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 8);
	vx_build_uint(&c.b, VXF_FEAT_FLAGS, VX_FEAT_DMA_LOGGING_START |
	    VX_FEATURE_PROBE | VX_FEATURE_SET);
	ok(call(&c, NULL, 0) == 0, "probe DMA_LOGGING_START: supported");
	ok(log_report(&c, 0x100000, 0x10000, 4096) == ~0ull,
	    "REPORT before START fails");
	ok(log_ctl(&c, VX_FEAT_DMA_LOGGING_START, 4096, 0x100000, 0x10000) == 0 &&
	    field(&c, VXF_LOG_PAGE_SIZE) == 4096, "DMA_LOGGING_START, one range");
	ok(log_ctl(&c, VX_FEAT_DMA_LOGGING_START, 4096, 0, 0) == EBUSY,
	    "a second START: EBUSY");
	ok(log_report(&c, 0x100000, 0x10000, 4096) == 0, "nothing dirty yet");
	engine(&c, 0x100100, 16, 0);
	wr(&c, 0, E_GO, 4, 1);
	engine(&c, 0x103ff8, 16, 0);
	wr(&c, 0, E_GO, 4, 1);
	engine(&c, 0x105000, 16, 1);	/* a read dirties nothing */
	wr(&c, 0, E_GO, 4, 1);
	ok(reg(&c, 0, E_STATUS, 4) == 1, "three transfers done");
	ok(log_report(&c, 0x100000, 0x10000, 4096) == 0x19,
	    "REPORT: pages 0, 3 and 4 dirty");
	ok(log_report(&c, 0x100000, 0x10000, 4096) == 0,
	    "reported pages are clean again");
	engine(&c, 0x100100, 16, 0);
	wr(&c, 0, E_GO, 4, 1);
	ok(log_report(&c, 0x100000, 0x8000, 0x2000) == 0x1,
	    "REPORT with 8 KiB pages: bit 0");

	/* through DMA_WRITE messages: the window outside the logged range */
	engine(&c, 0x200000, 8, 0);
	build_write(&c, 0, E_GO, 4, 1, 0);
	if (cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_WRITE) {
		vx_build_header(&c.b, c.m.id, VX_CMD_DMA_WRITE, VX_F_TYPE_REPLY, 0);
		vx_build_uint(&c.b, VXF_DMA_ADDR, 0x200000);
		vx_build_uint(&c.b, VXF_DMA_COUNT32, 8);
		cl_send(&c, NULL, 0);
		cl_recv(&c);
	}
	ok(log_report(&c, 0x200000, 0x1000, 4096) == 0,
	    "writes outside the logged ranges are not logged");
	ok(log_ctl(&c, VX_FEAT_DMA_LOGGING_STOP, 4096, 0, 0) == 0,
	    "DMA_LOGGING_STOP");
	ok(log_report(&c, 0x100000, 0x10000, 4096) == ~0ull,
	    "REPORT after STOP fails");
	ok(dma_unmap(&c, 0, 0, VX_DMA_UNMAP_ALL) == 0, "DMA_UNMAP all");
	close(mfd);
	cl_close(&c);
}

/* A client that introduces itself like QEMU gets QEMU's DMA_WRITE form. */
static void
test_qemu_dma(const char *sock)
{
	static const char qemu[] = "{\"capabilities\": {\"pgsizes\": 4096, "
	    "\"max_msg_fds\": 16, \"max_dma_maps\": 65535}}";
	struct client c;
	const uint8_t *raw;

	ok(cl_open(&c, sock) == 0, "dma: connect");
	cmd(&c, VX_CMD_VERSION, 0);
	vx_build_uint(&c.b, VXF_VER_MAJOR, 0);
	vx_build_uint(&c.b, VXF_VER_MINOR, 0);
	vx_build_bytes(&c.b, VXF_VER_JSON, qemu, sizeof(qemu));
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_VER_MINOR) == 0,
	    "QEMU-like VERSION 0.0");
	ok(dma_map(&c, 0x300000, 0x1000, -1) == 0, "DMA_MAP without fd");
	wr(&c, BAR2, 0, 4, 0xa1b2c3d4);
	engine(&c, 0x300040, 4, 0);
	build_write(&c, 0, E_GO, 4, 1, 0);
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_DMA_WRITE, "the server sends DMA_WRITE");
	raw = c.f.data;
	/* QEMU: address u64, count u32, data, 4 bytes of padding */
	ok(c.f.len == 16 + 8 + 4 + 4 + 4 && vx_load(raw + 24, 4, 0) == 4 &&
	    vx_load(raw + 28, 4, 0) == 0xa1b2c3d4,
	    "in QEMU's form: count u32, data at 12, padding");
	vx_build_header(&c.b, c.m.id, VX_CMD_DMA_WRITE, VX_F_TYPE_REPLY, 0);
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_REGION_WRITE && reg(&c, 0, E_STATUS, 4) == 1,
	    "QEMU's empty DMA_WRITE reply completes the transfer");
	cl_close(&c);
}

/* Twin-socket mode: the server's DMA_WRITE comes on the twin socket. */
static void
test_twin(const char *sock)
{
	static const char twin[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"twin_socket\":{\"supported\":true}}}";
	struct client c, t;
	struct vx_fd_info info;
	int tfd;

	ok(cl_open(&c, sock) == 0, "dma: connect");
	ok(negotiate(&c, twin) == 0 && c.f.nfds == 1, "VERSION with twin_socket");
	tfd = c.f.fds[0];
	c.f.fds[0] = -1;	/* keep it */
	ok(vx_fd_describe(tfd, &info) == 0 && info.kind == VX_FD_SOCKET,
	    "the fd is a socket");
	memset(&t, 0, sizeof(t));
	t.fd = tfd;
	vx_decoder_init(&t.dec);
	vx_builder_init(&t.b);
	vx_framer_init(&t.fr, tfd, NULL);

	ok(dma_map(&c, 0x400000, 0x1000, -1) == 0, "DMA_MAP without fd");
	wr(&c, BAR2, 0, 4, 0x0badf00d);
	engine(&c, 0x400100, 4, 0);
	build_write(&c, 0, E_GO, 4, 1, 0);
	ok(cl_send(&c, NULL, 0) == 0 && cl_recv(&t) == 0 &&
	    t.m.cmd == VX_CMD_DMA_WRITE && t.m.chan == VX_CHAN_MAIN &&
	    field(&t, VXF_DMA_ADDR) == 0x400100,
	    "go: DMA_WRITE arrives on the twin socket");
	vx_build_header(&t.b, t.m.id, VX_CMD_DMA_WRITE, VX_F_TYPE_REPLY, 0);
	vx_build_uint(&t.b, VXF_DMA_ADDR, 0x400100);
	vx_build_uint(&t.b, VXF_DMA_COUNT32, 4);
	ok(cl_send(&t, NULL, 0) == 0 && cl_recv(&c) == 0 &&
	    c.m.cmd == VX_CMD_REGION_WRITE && !(c.m.flags & VX_F_ERROR),
	    "answered there, the go write is replied on the main socket");
	ok(reg(&c, 0, E_STATUS, 4) == 1, "engine status done");
	cl_close(&t);
	cl_close(&c);
}

/* A description written here: MSI with 4 vectors, PCIe, vendor data. */
static void
test_msi_device(void)
{
	static const char json[] =
	    "{\"pci\": {\"vendor\": \"0x1af4\", \"device\": 16,\n"
	    " \"capabilities\": [{\"type\": \"msi\", \"vectors\": 4},\n"
	    "  {\"type\": \"vendor\", \"data\": \"aabbcc\"}, {\"type\": \"pcie\"}]},\n"
	    " \"regions\": {\"bar4\": {\"size\": 4096, \"backing\": \"registers\",\n"
	    "  \"registers\": [{\"name\": \"bell\", \"offset\": 0,\n"
	    "   \"doorbell\": {\"irq\": \"msi\", \"vector\": 3}}]}}}\n";
	char path[96], sock[96];
	struct client c;
	uint64_t cap, msi = 0, ven = 0, exp = 0;
	unsigned n = 0;
	int efd[4], i;
	FILE *f;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/msi.json", tmpdir);
	snprintf(sock, sizeof(sock), "%s/msi", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fputs(json, f);
	fclose(f);
	pid = spawn(path, sock, NULL);
	ok(connect_ready(&c, sock) == 0, "msi device: negotiated");
	for (cap = reg(&c, CONFIG, 0x34, 1); cap && n < 8; n++) {
		uint64_t id = reg(&c, CONFIG, cap, 1);

		if (id == 0x05)
			msi = cap;
		else if (id == 0x09)
			ven = cap;
		else if (id == 0x10)
			exp = cap;
		cap = reg(&c, CONFIG, cap + 1, 1);
	}
	ok(n == 3 && msi == 0x40, "three capabilities, MSI first at 0x40");
	ok(reg(&c, CONFIG, msi + 2, 2) == 0x0084,
	    "MSI: 64-bit, multiple message capable 4");
	ok(wr(&c, CONFIG, msi + 2, 2, 0xffff) == 0 &&
	    reg(&c, CONFIG, msi + 2, 2) == 0x00f5,
	    "MSI control: enable and MME writable, the rest not");
	ok(ven && reg(&c, CONFIG, ven + 2, 1) == 6 &&
	    reg(&c, CONFIG, ven + 3, 3) == 0xccbbaa, "vendor capability data");
	ok(exp && (reg(&c, CONFIG, exp + 2, 2) & 0xf) == 2,
	    "PCI Express capability version 2");
	ok(region_info(&c, CONFIG, 32) == 0 && field(&c, VXF_RINFO_SIZE) == 4096,
	    "4 KiB config space");
	ok(reg(&c, CONFIG, 0x3d, 1) == 0, "no interrupt pin");
	cmd(&c, VX_CMD_DEVICE_GET_IRQ_INFO, 0);
	vx_build_uint(&c.b, VXF_ARGSZ, 16);
	vx_build_uint(&c.b, VXF_IRQ_INFO_FLAGS, 0);
	vx_build_uint(&c.b, VXF_IRQ_INDEX, VX_IRQ_MSI);
	vx_build_uint(&c.b, VXF_IRQ_COUNT, 0);
	ok(call(&c, NULL, 0) == 0 && field(&c, VXF_IRQ_COUNT) == 4 &&
	    (field(&c, VXF_IRQ_INFO_FLAGS) & VX_IRQ_INFO_NORESIZE),
	    "IRQ info MSI: 4 vectors, noresize");
	for (i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(set_irqs(&c, VX_IRQ_MSI, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
	    0, 4, efd, 4) == 0 && wr(&c, 4, 0, 4, 1) == 0 &&
	    signalled(efd[3], 1000) == 1 && signalled(efd[0], 0) == 0,
	    "bar4 doorbell raises MSI vector 3");
	ok(set_irqs(&c, VX_IRQ_MSI, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_MASK,
	    3, 1, NULL, 0) == 0 && wr(&c, 4, 0, 4, 1) == 0 &&
	    signalled(efd[3], 100) == 0, "masked: not delivered");
	ok(set_irqs(&c, VX_IRQ_MSI, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_UNMASK,
	    3, 1, NULL, 0) == 0 && signalled(efd[3], 1000) == 1,
	    "unmasked: the pending one arrives");
	for (i = 0; i < 4; i++)
		close(efd[i]);
	cl_close(&c);
	stop(pid);
	unlink(path);
}

int
main(void)
{
	char sock[96];
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	if ((vfuctl = unit_vfuctl()) == NULL ||
	    unit_mkdtemp(tmpdir, sizeof(tmpdir), "test-server") < 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s/s", tmpdir);

	pid = spawn("tests/devices/gpio.json", sock, NULL);
	test_in_process();
	test_deadlines();
	test_version(sock);
	test_info(sock);
	test_config(sock);
	test_registers(sock);
	test_doorbell(sock);
	test_errors(sock);
	test_migration(sock);
	test_random(sock);
	test_replay(sock, "qemu-gpio-boot");
	test_replay(sock, "qemu-gpio-io");
	test_clients(sock, pid);
	test_sigterm(sock, pid);
	test_sock_mode();
	test_msi_device();

	pid = spawn("tests/devices/dma.json", sock, NULL);
	test_dma_regions(sock);
	test_dma_config(sock);
	test_dma_engine(sock);
	test_dirty(sock);
	test_qemu_dma(sock);
	test_twin(sock);
	stop(pid);

	rmdir(tmpdir);
	return unit_done();
}
