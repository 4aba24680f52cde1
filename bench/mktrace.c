/*
 * mktrace.c - write a synthetic trace for the dissect/stats benchmarks:
 * N messages, REGION_WRITE command/reply pairs to bar2 whose commands carry
 * DATA bytes (4 for the rate test, 4096 for the 1 GB memory test).
 *
 * usage: mktrace OUT.pcap N DATA
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-cursor.h"
#include "vx-msg.h"
#include "vx-trace.h"

static size_t
region_write(uint8_t *b, uint16_t id, int reply, uint32_t off, uint32_t data)
{
	size_t len = 32 + (reply ? 0 : data);

	memset(b, 0, len);
	vx_store(b + 0, 2, id, 0);
	vx_store(b + 2, 2, VX_CMD_REGION_WRITE, 0);
	vx_store(b + 4, 4, len, 0);
	vx_store(b + 8, 4, reply ? VX_F_TYPE_REPLY : 0, 0);
	vx_store(b + 16, 8, off, 0);
	vx_store(b + 24, 4, 2, 0);
	vx_store(b + 28, 4, data, 0);
	if (!reply)
		memset(b + 32, 0x5a, data);
	return len;
}

int
main(int argc, char **argv)
{
	struct vx_trace_writer *w;
	unsigned long n, i;
	uint32_t data;
	uint8_t *b;
	uint64_t ts = 1000000000ull;

	if (argc != 4) {
		fprintf(stderr, "usage: mktrace OUT.pcap N DATA\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	data = (uint32_t)strtoul(argv[3], NULL, 0);
	if ((b = malloc(32 + data)) == NULL ||
	    vx_trace_writer_open(argv[1], NULL, &w) < 0) {
		perror(argv[1]);
		return 1;
	}
	/* a session starts with VERSION, as real ones do */
	static const uint8_t ver[2][20] = {
		{ 0, 0, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0 },
		{ 0, 0, 1, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0 },
	};
	if (vx_trace_write_message(w, 0, 0, VX_CHAN_MAIN, VX_C2S, 0, ts,
	    ver[0], 20, NULL, 0) < 0 ||
	    vx_trace_write_message(w, 0, 0, VX_CHAN_MAIN, VX_S2C, 0, ts + 1000,
	    ver[1], 20, NULL, 0) < 0)
		return 1;
	for (i = 2; i < n; i++) {
		int reply = i & 1;
		size_t len = region_write(b, (uint16_t)(i / 2), reply,
		    (uint32_t)(i / 2 % 64) * 4, data);

		ts += reply ? 20000 : 5000;
		if (vx_trace_write_message(w, 0, 0, VX_CHAN_MAIN,
		    reply ? VX_S2C : VX_C2S, i / 2, ts, b, len, NULL, 0) < 0) {
			fprintf(stderr, "mktrace: write failed\n");
			return 1;
		}
	}
	free(b);
	return vx_trace_writer_close(w) < 0;
}
