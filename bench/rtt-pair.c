/*
 * rtt-pair.c - time per round trip through two paths, taken in turns:
 * connect to A and B, VERSION on each, then N rounds of DEPTH 4-byte
 * REGION_READs (of region 2 at 0) on A and DEPTH on B, which path goes
 * first alternating, each batch timed on its own.  A busy machine slows
 * both paths alike within a round, and the median batch ignores the
 * rounds a burst of load hit, so the ratio of the medians is steadier than
 * the ratio of two long runs.  Prints the median and mean ns per round trip
 * of each and the ratio of the medians, B / A.
 *
 * usage: rtt-pair SOCKET-A SOCKET-B N [DEPTH]
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

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
open_path(const char *path, struct vx_framer *f)
{
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	uint8_t m[16 + 4 + sizeof(caps)];
	struct vx_frame fr;
	int s;

	if ((s = vx_sock_connect(path, 5000)) < 0)
		return -1;
	vx_framer_init(f, s, NULL);
	memset(m, 0, sizeof(m));
	vx_store(m + 2, 2, VX_CMD_VERSION, 0);
	vx_store(m + 4, 4, sizeof(m), 0);
	vx_store(m + 18, 2, 2, 0);
	memcpy(m + 20, caps, sizeof(caps));
	if (vx_send_msg(f, m, sizeof(m), NULL, 0, 5000) < 0 ||
	    vx_recv_frame(f, &fr, 5000) < 0)
		return -1;
	vx_frame_release(&fr);
	return 0;
}

/* depth requests in flight until n replies came; ns per round trip */
static double
batch(struct vx_framer *f, unsigned long depth, uint16_t *id)
{
	struct vx_frame fr;
	uint8_t m[32];
	uint64_t t0 = now_ns();
	unsigned long i;

	memset(m, 0, sizeof(m));
	vx_store(m + 2, 2, VX_CMD_REGION_READ, 0);
	vx_store(m + 4, 4, 32, 0);
	vx_store(m + 24, 4, 2, 0);
	vx_store(m + 28, 4, 4, 0);
	for (i = 0; i < depth; i++) {
		vx_store(m, 2, (*id)++, 0);
		if (vx_framer_queue(f, m, 32, NULL, 0) < 0)
			return -1;
	}
	if (vx_send_msg(f, m, 32, NULL, 0, 5000) < 0)	/* one more: flushes */
		return -1;
	for (i = 0; i <= depth; i++) {
		if (vx_recv_frame(f, &fr, 5000) < 0 || fr.len != 36)
			return -1;
		vx_frame_release(&fr);
	}
	return (double)(now_ns() - t0) / (double)(depth + 1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
mean(const double *v, unsigned long n)
{
	double s = 0;
	unsigned long i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

int
main(int argc, char **argv)
{
	struct vx_framer f[2];
	unsigned long n, depth, i;
	double *t[2], ma, mb, ea, eb;
	uint16_t id[2] = { 1, 1 };
	int k, p;

	if (argc < 4) {
		fprintf(stderr, "usage: rtt-pair SOCKET-A SOCKET-B N [DEPTH]\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 0);
	depth = argc > 4 ? strtoul(argv[4], NULL, 0) : 1;
	if (n == 0 || depth == 0)
		return 2;
	t[0] = calloc(n, sizeof(double));
	t[1] = calloc(n, sizeof(double));
	if (t[0] == NULL || t[1] == NULL || open_path(argv[1], &f[0]) < 0 ||
	    open_path(argv[2], &f[1]) < 0) {
		fprintf(stderr, "rtt-pair: cannot set up both paths\n");
		return 1;
	}
	/* depth - 1 queued, one more sent: depth in flight */
	for (i = 0; i < n; i++)
		for (k = 0; k < 2; k++) {
			p = (int)(i + k) % 2;
			if ((t[p][i] = batch(&f[p], depth - 1, &id[p])) < 0) {
				fprintf(stderr, "rtt-pair: round %lu on %s failed\n",
				    i, argv[1 + p]);
				return 1;
			}
		}
	ea = mean(t[0], n);
	eb = mean(t[1], n);
	ma = median(t[0], n);
	mb = median(t[1], n);
	printf("a_median_ns=%.0f b_median_ns=%.0f a_mean_ns=%.0f b_mean_ns=%.0f "
	    "ratio=%.3f\n", ma, mb, ea, eb, mb / ma);
	return 0;
}
