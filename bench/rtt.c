/*
 * rtt.c - an in-process client loop: VERSION, then N REGION_READs of 4
 * bytes at OFFSET of REGION, each waiting for its reply; prints round
 * trips per second.  With CONNS > 1 it connects, negotiates and hangs up
 * that many times first (the connection soak).  RTT_DEPTH=D in the
 * environment keeps D requests in flight (pipelined; default 1).
 *
 * usage: rtt SOCKET N [REGION OFFSET [CONNS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-cursor.h"
#include "vx-framer.h"
#include "vx-sock.h"
#include "vx-wire.h"

static int
version(struct vx_framer *f)
{
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	uint8_t m[16 + 4 + sizeof(caps)];
	struct vx_frame fr;
	int r;

	memset(m, 0, sizeof(m));
	vx_store(m + 2, 2, VX_CMD_VERSION, 0);
	vx_store(m + 4, 4, sizeof(m), 0);
	vx_store(m + 18, 2, 2, 0);
	memcpy(m + 20, caps, sizeof(caps));
	if (vx_send_msg(f, m, sizeof(m), NULL, 0, 5000) < 0 ||
	    (r = vx_recv_frame(f, &fr, 5000)) < 0)
		return -1;
	vx_frame_release(&fr);
	return 0;
}

static int
session(const char *path, unsigned long n, uint32_t region, uint64_t off)
{
	struct vx_framer f;
	struct vx_frame fr;
	uint8_t m[32];
	unsigned long i, sent, depth = 1;
	int s, ok = 0;

	if (getenv("RTT_DEPTH") != NULL)
		depth = strtoul(getenv("RTT_DEPTH"), NULL, 0);
	if (depth == 0)
		depth = 1;

	if ((s = vx_sock_connect(path, 5000)) < 0)
		return -1;
	vx_framer_init(&f, s, NULL);
	if (version(&f) == 0) {
		memset(m, 0, sizeof(m));
		vx_store(m + 2, 2, VX_CMD_REGION_READ, 0);
		vx_store(m + 4, 4, 32, 0);
		vx_store(m + 16, 8, off, 0);
		vx_store(m + 24, 4, region, 0);
		vx_store(m + 28, 4, 4, 0);
		for (i = 0, sent = 0; i < n; i++) {
			for (; sent < n && sent < i + depth; sent++) {
				vx_store(m, 2, sent, 0);
				if (vx_send_msg(&f, m, 32, NULL, 0, 5000) < 0)
					break;
			}
			if (vx_recv_frame(&f, &fr, 5000) < 0)
				break;
			if (fr.len != 36)
				i = n + 1;	/* not a 4-byte read reply */
			vx_frame_release(&fr);
		}
		ok = i == n;
	}
	vx_framer_release(&f);
	close(s);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	unsigned long n, conns, i;
	struct timespec a, b;
	double t;

	if (argc < 3) {
		fprintf(stderr, "usage: rtt SOCKET N [REGION OFFSET [CONNS]]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	conns = argc > 5 ? strtoul(argv[5], NULL, 0) : 1;
	for (i = 1; i < conns; i++)
		if (session(argv[1], 0, 0, 0) < 0) {
			fprintf(stderr, "rtt: connection %lu failed\n", i);
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (session(argv[1], n, argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 2,
	    argc > 4 ? strtoull(argv[4], NULL, 0) : 0) < 0) {
		fprintf(stderr, "rtt: round trips failed\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("rtt_per_s=%.0f n=%lu secs=%.3f\n", (double)n / t, n, t);
	return 0;
}
