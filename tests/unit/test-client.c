/*
 * test-client.c - the typed calls of struct vx_client (lib/vx-client.h,
 * lib/client-calls.c) against a real "vfuctl server" with the gpio device:
 * decoded results in structs, region accesses split at the negotiated
 * transfer size, an error reply as VX_ERR_REPLY with its errno and a
 * sentence naming the access (DMA_MAP's too: the window is dropped),
 * features and migration.
 *
 * vfuctl comes from $VFUCTL (default cli/vfuctl); run from the repository
 * root (tests/devices/ holds the descriptions).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-client.h"
#include "vx-error.h"
#include "helpers.h"
#include "unit.h"

/* the dma device: bar0 8 KiB rw, bar2 16 KiB with sparse areas, 4 KiB
 * of config space */
/*
 * The socket appears at bind(), a moment before listen(): a refused
 * connection then means "not yet", so try again (for up to 20 s).
 */
static int
open_client(struct vx_client **c, const char *sock,
    const struct vx_client_opts *o)
{
	int i, r = -1;

	for (i = 0; i < 2000; i++) {
		if ((r = vx_client_open(c, sock, o)) == 0 ||
		    strstr(vx_client_errmsg(*c), "refused") == NULL)
			break;
		vx_client_close(*c);
		*c = NULL;
		usleep(10000);
	}
	return r;
}

static unsigned
nwins(const struct vx_client *c)
{
	unsigned n;

	vx_client_dma_windows(c, &n);
	return n;
}

static const struct vx_caps *
server_caps(const struct vx_client *c)
{
	return vx_session_caps(vx_conn_session(vx_client_conn(c)), VX_S2C);
}

/* What the accessors and the connection's session tell of the
 * negotiation: no copy of it in the client. */
static void
test_negotiated(struct vx_client *c)
{
	const struct vx_session *s = vx_conn_session(vx_client_conn(c));
	const struct vx_caps *caps = server_caps(c);
	uint64_t major = 9, minor = 9;

	ok(vx_session_version(s, VX_S2C, &major, &minor) == 0 &&
	    major == VX_PROTO_MAJOR && minor == VX_PROTO_MINOR,
	    "the server's version: %llu.%llu", (unsigned long long)major,
	    (unsigned long long)minor);
	ok(caps != NULL && caps->max_dma_maps > 0 &&
	    caps->max_data_xfer_size >= 512,
	    "its capabilities: max_dma_maps %llu",
	    caps ? (unsigned long long)caps->max_dma_maps : 0ull);
	ok(vx_session_caps(s, VX_C2S)->max_data_xfer_size == 512,
	    "ours, as sent: max_data_xfer_size 512");
	ok(vx_client_server_json(c) != NULL &&
	    strstr(vx_client_server_json(c), "capabilities") != NULL,
	    "its JSON: %s", vx_client_server_json(c));
	ok(vx_conn_sock(vx_client_conn(c)) >= 0 &&
	    vx_conn_twin(vx_client_conn(c)) < 0, "the connection, no twin");
	ok(vx_client_stats(c)->served_reads == 0 && nwins(c) == 0,
	    "nothing served, no windows");
}

/* A failed open leaves a client that holds only its sentence. */
static void
test_open_fails(const char *dir)
{
	struct vx_client *c = NULL;
	char path[128];
	int r;

	snprintf(path, sizeof(path), "%s/nobody", dir);
	r = vx_client_open(&c, path, NULL);
	ok(r == VX_ERR_IO && c != NULL &&
	    strstr(vx_client_errmsg(c), "cannot connect to") != NULL,
	    "no server: VX_ERR_IO (%d), %s", r, vx_client_errmsg(c));
	vx_client_close(c);
	ok(strcmp(vx_client_errmsg(NULL), "out of memory") == 0,
	    "no client at all: out of memory");
}

static void
test_info(struct vx_client *c)
{
	struct vx_device_info di = { 0 };
	struct vx_region_info ri;
	struct vx_irq_info ii = { 0 };
	uint64_t cap;
	int r;

	memset(&ri, 0, sizeof(ri));
	r = vx_client_device_info(c, &di);
	ok(r == 0 && di.num_regions >= 9 && (di.flags & VX_DEV_PCI) &&
	    di.num_irqs >= 1, "device info: flags 0x%x, %u regions, %u irqs",
	    di.flags, di.num_regions, di.num_irqs);
	r = vx_client_region_info(c, 2, &ri);
	ok(r == 0 && ri.index == 2 && ri.size == 0x4000 &&
	    (ri.flags & VX_REGION_MMAP), "bar2: 16 KiB, mmap (flags 0x%x, "
	    "size 0x%llx)", ri.flags, (unsigned long long)ri.size);
	ok(vx_msg_get(&ri.reply, VXF_CAP_ID, &cap) == 0,
	    "its reply is kept for the capability chain");
	r = vx_client_irq_info(c, VX_IRQ_MSIX, &ii);
	ok(r == 0 && ii.index == VX_IRQ_MSIX && ii.count >= 1,
	    "MSI-X: %u vectors", ii.count);
}

static void
test_access(struct vx_client *c)
{
	static uint8_t all[4096], piece[512];
	uint8_t v[4] = { 0x5a, 0, 0, 0 };
	int r, i, same = 1;

	ok(vx_client_xfer(c) == 512, "transfer size negotiated down to 512 (%llu)",
	    (unsigned long long)vx_client_xfer(c));
	r = vx_client_region_read(c, VX_PCI_CONFIG, 0, all, sizeof(all));
	ok(r == 0, "4 KiB of config space in 512-byte pieces: %s", vx_client_errmsg(c));
	for (i = 0; i < 8; i++) {
		if (vx_client_region_read(c, VX_PCI_CONFIG, 512 * i, piece,
		    512) < 0 || memcmp(piece, all + 512 * i, 512) != 0)
			same = 0;
	}
	ok(same && all[0] != 0, "the pieces are the whole");
	r = vx_client_region_write(c, 2, 0x100, v, 4, 0);
	if (r == 0)
		r = vx_client_region_read(c, 2, 0x100, piece, 4);
	ok(r == 0 && piece[0] == 0x5a, "bar2 (RAM) write then read back (0x%02x)",
	    piece[0]);
	r = vx_client_region_read(c, 0, 0x4000, piece, 4);
	ok(r == VX_ERR_REPLY && vx_client_reply_errno(c) == EINVAL,
	    "a read past the end: VX_ERR_REPLY, EINVAL (%d, %u)", r,
	    vx_client_reply_errno(c));
	ok(strcmp(vx_client_errmsg(c), "server answered REGION_READ bar0+0x4000 len 4 "
	    "with EINVAL (22: Invalid argument)") == 0, "the sentence: %s",
	    vx_client_errmsg(c));
	r = vx_client_reset(c);
	ok(r == 0 && vx_client_reply_errno(c) == 0, "reset");
}

/* How many DMA windows the connection's session counts. */
static unsigned long long
session_windows(const struct vx_client *c)
{
	char d[256];
	const char *p;

	vx_session_describe(vx_conn_session(vx_client_conn(c)), d, sizeof(d));
	p = strstr(d, " regions, ");
	p = p != NULL ? strstr(p, " IRQ types, ") : NULL;
	return p != NULL ? strtoull(p + 12, NULL, 10) : ~0ull;
}

/* The server keeps at most max_dma_maps windows: one more is refused. */
static void
test_dma_refused(struct vx_client *c)
{
	uint64_t i, max = server_caps(c)->max_dma_maps;
	struct vx_msg m;
	int r = 0;

	for (i = 0; i < max && r == 0; i++)
		r = vx_client_dma_map(c, 0x10000 + i * 0x1000, 0x1000,
		    VX_DMA_MAP_READ, 0, &m);
	ok(r == 0 && nwins(c) == max, "%llu windows mapped",
	    (unsigned long long)max);
	ok(session_windows(c) == max, "the connection's session saw them "
	    "go out: %llu", (unsigned long long)session_windows(c));
	r = vx_client_dma_map(c, 0x10000 + max * 0x1000, 0x1000,
	    VX_DMA_MAP_READ, 0, &m);
	ok(r == VX_ERR_REPLY && vx_client_reply_errno(c) != 0 && nwins(c) == max,
	    "one more: VX_ERR_REPLY (%d), not kept: %s", r, vx_client_errmsg(c));
	ok(strncmp(vx_client_errmsg(c), "server answered DMA_MAP with ", 29) == 0,
	    "the sentence names DMA_MAP");
	r = vx_client_dma_unmap(c, 0, 0, 1, &m);
	ok(r == 0 && nwins(c) == 0 && session_windows(c) == 0, "unmap all");
}

static void
test_features(struct vx_client *c)
{
	struct vx_feature_reply fr;
	const uint8_t *data;
	size_t n;
	int r;

	r = vx_client_feature(c, VX_FEAT_MIGRATION | VX_FEATURE_PROBE, NULL,
	    0, 8, &fr);
	ok(r == 0, "migration is supported (%d)", r);
	r = vx_client_feature(c, VX_FEAT_MIGRATION | VX_FEATURE_GET, NULL, 0,
	    16, &fr);
	ok(r == 0 && fr.has_mig_flags && (fr.mig_flags &
	    VX_MIGRATION_STOP_COPY), "migration flags 0x%llx",
	    (unsigned long long)fr.mig_flags);
	r = vx_client_feature(c, VX_FEAT_MIG_DEVICE_STATE | VX_FEATURE_GET,
	    NULL, 0, 16, &fr);
	ok(r == 0 && fr.has_state && fr.device_state == VX_MIG_RUNNING,
	    "device state RUNNING");
	r = vx_client_mig_read(c, 16, &data, &n);
	ok(r == VX_ERR_REPLY && n == 0,
	    "no migration data while RUNNING: an error reply (%d)", r);
}

int
main(void)
{
	struct vx_client_opts o = VX_CLIENT_OPTS_DEFAULT;
	const char *vfuctl = unit_vfuctl();
	struct vx_client *c = NULL;
	char dir[64], sock[96];
	pid_t pid;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (vfuctl == NULL || unit_mkdtemp(dir, sizeof(dir), "test-client") < 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s/s", dir);
	pid = unit_spawn_server(vfuctl, "tests/devices/dma.json", sock, NULL);
	o.max_xfer = 512;	/* the least vfuctl server takes */
	r = open_client(&c, sock, &o);
	if (ok(r == 0, "connected: %s", vx_client_errmsg(c))) {
		test_negotiated(c);
		test_info(c);
		test_access(c);
		test_dma_refused(c);
	}
	vx_client_close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	/* the gpio device migrates */
	pid = unit_spawn_server(vfuctl, "tests/devices/gpio.json", sock, NULL);
	r = open_client(&c, sock, NULL);
	if (ok(r == 0, "connected: %s", vx_client_errmsg(c)))
		test_features(c);
	vx_client_close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(sock);
	test_open_fails(dir);
	unlink(sock);
	rmdir(dir);
	return unit_done();
}
