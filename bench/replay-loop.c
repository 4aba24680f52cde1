/*
 * replay-loop.c - the minimal C client loop vfuctl replay is measured
 * against, and the maker of the trace it replays: VERSION, then N round
 * trips alternating a 4-byte REGION_WRITE of the round trip's number to
 * bar2+0x10 (gpio.json's scratch register) and a REGION_READ of it, each
 * waiting for its reply.  With OUT.pcap every message, command and live
 * reply, is also written to a trace (a recorded session, as vfuctl record
 * would write it, without the relay).  Prints round trips per second.
 *
 * usage: replay-loop SOCKET N [OUT.pcap]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-framer.h"
#include "vx-msg.h"
#include "vx-sock.h"
#include "vx-trace.h"
#include "vx-wire.h"

static struct vx_trace_writer *w;
static uint64_t seq[2], ts = 1000000000ull;

static int
keep(int dir, const uint8_t *m, size_t len)
{
	if (w == NULL)
		return 0;
	ts += 1000;
	return vx_trace_write_message(w, 1, 0, VX_CHAN_MAIN, dir, seq[dir]++,
	    ts, m, len, NULL, 0);
}

/* Send m, wait for its reply (recorded with it when writing a trace). */
static int
call(struct vx_framer *f, const uint8_t *m, size_t len)
{
	struct vx_frame fr;
	int r;

	if (vx_send_msg(f, m, len, NULL, 0, 5000) < 0 ||
	    vx_recv_frame(f, &fr, 5000) < 0)
		return -1;
	r = keep(VX_C2S, m, len) < 0 || keep(VX_S2C, fr.data, fr.len) < 0 ||
	    (fr.data[8] & VX_F_ERROR) ? -1 : 0;
	vx_frame_release(&fr);
	return r;
}

static int
version(struct vx_framer *f)
{
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	uint8_t m[16 + 4 + sizeof(caps)];

	memset(m, 0, sizeof(m));
	vx_store(m + 2, 2, VX_CMD_VERSION, 0);
	vx_store(m + 4, 4, sizeof(m), 0);
	vx_store(m + 18, 2, 2, 0);
	memcpy(m + 20, caps, sizeof(caps));
	return call(f, m, sizeof(m));
}

static int
session(const char *path, unsigned long n)
{
	struct vx_framer f;
	uint8_t m[36];
	unsigned long i;
	int s, r;

	if ((s = vx_sock_connect(path, 5000)) < 0)
		return -1;
	vx_framer_init(&f, s, NULL);
	r = version(&f);
	for (i = 0; r == 0 && i < n; i++) {
		int write = i % 2 == 0;

		memset(m, 0, sizeof(m));
		vx_store(m, 2, (uint16_t)(i + 1), 0);
		vx_store(m + 2, 2, write ? VX_CMD_REGION_WRITE :
		    VX_CMD_REGION_READ, 0);
		vx_store(m + 4, 4, write ? 36 : 32, 0);
		vx_store(m + 16, 8, 0x10, 0);
		vx_store(m + 24, 4, 2, 0);
		vx_store(m + 28, 4, 4, 0);
		vx_store(m + 32, 4, (uint32_t)(i / 2), 0);
		r = call(&f, m, write ? 36 : 32);
	}
	vx_framer_release(&f);
	close(s);
	return r;
}

int
main(int argc, char **argv)
{
	struct timespec a, b;
	unsigned long n;
	double t;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: replay-loop SOCKET N [OUT.pcap]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	if (argc > 3 && vx_trace_writer_open(argv[3], NULL, &w) < 0) {
		perror(argv[3]);
		return 1;
	}
	if (w != NULL) {
		struct vx_trace_rec open = { 0 };

		open.kind = VX_TR_OPEN;
		open.conn = 1;
		open.ts_ns = ts;
		vx_trace_write_event(w, &open);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = session(argv[1], n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (w != NULL && vx_trace_writer_close(w) < 0)
		r = -1;
	if (r < 0) {
		fprintf(stderr, "replay-loop: round trips failed\n");
		return 1;
	}
	t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("rtt_per_s=%.0f n=%lu secs=%.3f\n", (double)n / t, n, t);
	return 0;
}
