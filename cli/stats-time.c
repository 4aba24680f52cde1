/*
 * stats-time.c - reply latency over time for vfuctl stats (stats-time.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stats-time.h"

/* Sparkline levels, low to high: ASCII, so any terminal shows them. */
static const char ramp[] = "_.-:=+*#";
#define RAMP_LEVELS	(sizeof(ramp) - 1)

int
tl_init(struct timeline *tl, unsigned ncmd)
{
	memset(tl, 0, sizeof(*tl));
	tl->ncmd = ncmd;
	tl->width_ns = 1000;
	tl->bin = calloc(ncmd, sizeof(*tl->bin));
	return tl->bin == NULL ? -1 : 0;
}

void
tl_free(struct timeline *tl)
{
	free(tl->bin);
	tl->bin = NULL;
}

/* Twice as wide: bins 2i and 2i+1 become bin i. */
static void
widen(struct timeline *tl)
{
	unsigned c, i;

	for (c = 0; c < tl->ncmd; c++) {
		struct tl_bin *b = tl->bin[c];

		for (i = 0; i < TL_BINS / 2; i++) {
			struct tl_bin m = b[2 * i];

			m.n += b[2 * i + 1].n;
			m.sum += b[2 * i + 1].sum;
			if (b[2 * i + 1].max > m.max)
				m.max = b[2 * i + 1].max;
			b[i] = m;
		}
		memset(&b[TL_BINS / 2], 0, sizeof(*b) * (TL_BINS / 2));
	}
	tl->width_ns *= 2;
}

void
tl_time(struct timeline *tl, uint64_t ts_ns)
{
	if (!tl->started) {
		tl->started = 1;
		tl->t0 = tl->end_ns = ts_ns;
	}
	if (ts_ns < tl->t0)	/* a clock step back: counted at the start */
		return;
	if (ts_ns > tl->end_ns)
		tl->end_ns = ts_ns;
	while ((ts_ns - tl->t0) / tl->width_ns >= TL_BINS)
		widen(tl);
}

void
tl_add(struct timeline *tl, unsigned cmd, uint64_t ts_ns, uint64_t lat_ns)
{
	struct tl_bin *b;

	if (cmd >= tl->ncmd)
		return;
	tl_time(tl, ts_ns);
	b = &tl->bin[cmd][ts_ns < tl->t0 ? 0 : (ts_ns - tl->t0) / tl->width_ns];
	b->n++;
	b->sum += lat_ns;
	if (lat_ns > b->max)
		b->max = lat_ns;
}

/* log2 of v, linear between powers of two: monotonic, no libm. */
static double
lg(uint64_t v)
{
	unsigned e;

	if (v < 2)
		return 0;
	e = 63 - (unsigned)__builtin_clzll(v);
	return e + (double)(v - (1ull << e)) / (double)(1ull << e);
}

/* Bins used: up to the one holding the trace's end. */
static unsigned
nbins(const struct timeline *tl)
{
	uint64_t n = (tl->end_ns - tl->t0) / tl->width_ns + 1;

	return n > TL_BINS ? TL_BINS : (unsigned)n;
}

static int
series_range(const struct timeline *tl, unsigned c, uint64_t *lo,
    uint64_t *hi)
{
	unsigned i;
	int any = 0;

	for (i = 0; i < TL_BINS; i++) {
		const struct tl_bin *b = &tl->bin[c][i];
		uint64_t mean;

		if (b->n == 0)
			continue;
		mean = b->sum / b->n;
		if (!any || mean < *lo)
			*lo = mean;
		if (!any || mean > *hi)
			*hi = mean;
		any = 1;
	}
	return any;
}

/* 850ns, 26.5us, 1.2ms, 2s: three significant digits */
static void
fmt_ns(uint64_t ns, char *out, size_t cap)
{
	if (ns < 1000)
		snprintf(out, cap, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(out, cap, "%.3gus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(out, cap, "%.3gms", (double)ns / 1e6);
	else
		snprintf(out, cap, "%.3gs", (double)ns / 1e9);
}

void
tl_print_sparklines(const struct timeline *tl, FILE *fp,
    const char *(*name)(unsigned))
{
	unsigned c, i, n = nbins(tl);
	char w[32], a[32], b[32];
	int header = 0;

	for (c = 0; c < tl->ncmd; c++) {
		uint64_t lo = 0, hi = 0;
		char line[TL_BINS + 1];
		double span;

		if (!series_range(tl, c, &lo, &hi))
			continue;
		if (!header) {
			fmt_ns(tl->width_ns, w, sizeof(w));
			fprintf(fp, "\nreply latency over time (mean per %s, "
			    "log scale per command, low %s high, ' ' none):\n",
			    w, ramp);
			header = 1;
		}
		span = lg(hi) - lg(lo);
		for (i = 0; i < n; i++) {
			const struct tl_bin *bn = &tl->bin[c][i];
			unsigned lvl = 0;

			if (bn->n == 0) {
				line[i] = ' ';
				continue;
			}
			if (span > 0)
				lvl = (unsigned)((lg(bn->sum / bn->n) - lg(lo)) /
				    span * (RAMP_LEVELS - 1) + 0.5);
			line[i] = ramp[lvl < RAMP_LEVELS ? lvl : RAMP_LEVELS - 1];
		}
		line[n] = '\0';
		fmt_ns(lo, a, sizeof(a));
		fmt_ns(hi, b, sizeof(b));
		fprintf(fp, "  %-26s |%s| %s .. %s\n", name(c), line, a, b);
	}
}

/* --- SVG -------------------------------------------------------------------- */

#define SVG_W		900
#define PLOT_X		90	/* left margin: the axis labels */
#define PLOT_W		(SVG_W - PLOT_X - 190)	/* right: the legend */
#define PLOT_Y		50
#define PLOT_H		260
#define HIST_Y		(PLOT_Y + PLOT_H + 90)
#define HIST_H		180
#define SVG_H		(HIST_Y + HIST_H + 60)

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
};

/* Text for an SVG text node or attribute. */
static void
xml_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '&':
			fputs("&amp;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
				fputc(*s, fp);
			else
				fputc('?', fp);
		}
	}
}

static void
svg_latency(const struct timeline *tl, FILE *fp,
    const char *(*name)(unsigned))
{
	uint64_t lo = 0, hi = 0, l, h, p;
	unsigned c, i, n = nbins(tl), series = 0;
	double ylo, yhi;
	char t[32];
	int any = 0;

	for (c = 0; c < tl->ncmd; c++)
		if (series_range(tl, c, &l, &h)) {
			lo = !any || l < lo ? l : lo;
			hi = !any || h > hi ? h : hi;
			any = 1;
		}
	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"heading\">reply latency "
	    "over time (mean per bin)</text>\n", PLOT_X, PLOT_Y - 15);
	fprintf(fp, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
	    "class=\"frame\"/>\n", PLOT_X, PLOT_Y, PLOT_W, PLOT_H);
	if (!any)
		return;
	/* decades that hold every mean */
	for (p = 1; p * 10 <= lo; p *= 10)
		;
	ylo = lg(p);
	for (h = p; h < hi && h <= UINT64_MAX / 10; h *= 10)
		;
	yhi = lg(h > p ? h : p * 10);
	for (l = p; l <= h; l *= 10) {
		double y = PLOT_Y + PLOT_H - (lg(l) - ylo) / (yhi - ylo) * PLOT_H;

		fmt_ns(l, t, sizeof(t));
		fprintf(fp, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "class=\"grid\"/><text x=\"%d\" y=\"%.1f\" class=\"ylabel\">"
		    "%s</text>\n", PLOT_X, y, PLOT_X + PLOT_W, y, PLOT_X - 8,
		    y + 4, t);
		if (l > UINT64_MAX / 10)
			break;
	}
	fmt_ns(tl->end_ns - tl->t0, t, sizeof(t));
	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"xlabel\">0</text>"
	    "<text x=\"%d\" y=\"%d\" class=\"xlabel\" text-anchor=\"end\">"
	    "%s since the first "
	    "record</text>\n", PLOT_X, PLOT_Y + PLOT_H + 18, PLOT_X + PLOT_W,
	    PLOT_Y + PLOT_H + 18, t);
	for (c = 0; c < tl->ncmd; c++) {
		const char *col = palette[series % (sizeof(palette) /
		    sizeof(palette[0]))];
		int pen = 0;

		if (!series_range(tl, c, &l, &h))
			continue;
		fprintf(fp, "<path class=\"cmd\" data-command=\"");
		xml_text(fp, name(c));
		fprintf(fp, "\" stroke=\"%s\" d=\"", col);
		for (i = 0; i < n; i++) {
			const struct tl_bin *b = &tl->bin[c][i];
			double x = PLOT_X + (i + 0.5) * PLOT_W / n, y;

			if (b->n == 0) {
				pen = 0;
				continue;
			}
			y = PLOT_Y + PLOT_H - (lg(b->sum / b->n) - ylo) /
			    (yhi - ylo) * PLOT_H;
			/* a lone point still shows: a short tick */
			fprintf(fp, "%s%.1f %.1f%s", pen ? " L" : " M", x, y,
			    pen ? "" : " h0.01");
			pen = 1;
		}
		fprintf(fp, "\"/>\n<text x=\"%d\" y=\"%u\" fill=\"%s\" "
		    "class=\"legend\">", PLOT_X + PLOT_W + 12,
		    PLOT_Y + 12 + series * 16, col);
		xml_text(fp, name(c));
		fprintf(fp, "</text>\n");
		series++;
	}
}

static void
svg_histogram(FILE *fp, const uint64_t bins[64])
{
	unsigned i, lo = 64, hi = 0, n;
	uint64_t most = 0;

	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"heading\">reply latency "
	    "histogram (powers of two)</text>\n", PLOT_X, HIST_Y - 15);
	for (i = 0; i < 64; i++) {
		if (!bins[i])
			continue;
		lo = i < lo ? i : lo;
		hi = i;
		most = bins[i] > most ? bins[i] : most;
	}
	if (most == 0)
		return;
	n = hi - lo + 1;
	for (i = lo; i <= hi; i++) {
		double w = (double)PLOT_W / n, bh = (double)bins[i] * HIST_H /
		    most;
		char a[32], b[32];

		fmt_ns(1ull << i, a, sizeof(a));
		fmt_ns((2ull << i) - 1, b, sizeof(b));
		if (bins[i])
			fprintf(fp, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\"><title>%s .. %s: "
			    "%" PRIu64 " replies</title></rect>\n", PLOT_X +
			    (i - lo) * w + 1, HIST_Y + HIST_H - bh, w - 2, bh,
			    a, b, bins[i]);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"blabel\">%s"
		    "</text>\n", PLOT_X + (i - lo + 0.5) * w, HIST_Y + HIST_H +
		    16, a);
	}
}

void
tl_write_svg(const struct timeline *tl, FILE *fp,
    const char *(*name)(unsigned), const uint64_t bins[64],
    const char *title)
{
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n<style>\n"
	    ".heading { font-size: 14px; font-weight: bold }\n"
	    ".frame { fill: none; stroke: #444 }\n"
	    ".grid { stroke: #ddd }\n"
	    ".ylabel { text-anchor: end }\n"
	    ".blabel { text-anchor: middle; font-size: 10px }\n"
	    ".cmd { fill: none; stroke-width: 2; stroke-linecap: round }\n"
	    ".bar { fill: #4c72b0 }\n"
	    "</style>\n<title>", SVG_W, SVG_H, SVG_W, SVG_H);
	xml_text(fp, title);
	fprintf(fp, "</title>\n<text x=\"%d\" y=\"22\" class=\"heading\">",
	    PLOT_X);
	xml_text(fp, title);
	fprintf(fp, "</text>\n");
	svg_latency(tl, fp, name);
	svg_histogram(fp, bins);
	fprintf(fp, "</svg>\n");
}
