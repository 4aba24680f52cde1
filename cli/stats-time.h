/*
 * stats-time.h - vfuctl stats: reply latency over the trace's time, per
 * command, in bounded memory: TL_BINS bins that double their width (and
 * merge in pairs) whenever the trace outgrows them.  Drawn as a sparkline
 * per command and, with --svg, as a plot with the latency histogram.
 */
#ifndef VFUCTL_STATS_TIME_H
#define VFUCTL_STATS_TIME_H

#include <stdint.h>
#include <stdio.h>

#define TL_BINS		64

struct tl_bin {
	uint64_t n, sum, max;
};

struct timeline {
	int started;
	uint64_t t0, width_ns, end_ns;
	unsigned ncmd;
	struct tl_bin (*bin)[TL_BINS];	/* [ncmd][TL_BINS] */
};

/* ncmd series; 0, or -1 when out of memory. */
int tl_init(struct timeline *tl, unsigned ncmd);
void tl_free(struct timeline *tl);
/* Any record: where the trace starts and ends. */
void tl_time(struct timeline *tl, uint64_t ts_ns);
/* A reply of command slot cmd at ts_ns that took lat_ns. */
void tl_add(struct timeline *tl, unsigned cmd, uint64_t ts_ns,
    uint64_t lat_ns);

/* A line per command with replies: name, sparkline, range. */
void tl_print_sparklines(const struct timeline *tl, FILE *fp,
    const char *(*name)(unsigned));

/*
 * The SVG: latency over time (mean per bin, log scale, a path per
 * command) above the histogram of every reply's latency, bins[i] replies
 * between 2^i and 2^(i+1) - 1 ns.
 */
void tl_write_svg(const struct timeline *tl, FILE *fp,
    const char *(*name)(unsigned), const uint64_t bins[64],
    const char *title);

#endif /* VFUCTL_STATS_TIME_H */
