/*
 * client-region.c - the client's region accesses: peek, read, poke,
 * write, expect, poll.  lib's typed calls (through cl_region_io) access;
 * one print path shows text or JSON.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "vx-cursor.h"

/* "bar2+0x10" as text (type allowing), region, index, offset in JSON. */
static void
print_access(struct cl *cl, int type, uint32_t idx, uint64_t off)
{
	cl_print_string(cl, type, "region", "%s", cl_rname(idx));
	cl_print_uint(cl, PRINT_JSON, "index", NULL, idx);
	cl_print_uint(cl, type, "offset", "+0x%llx", off);
}

/* A value of w bytes: head, "0x" and 2*w hex digits, tail. */
static void
print_value(struct cl *cl, int type, const char *key, uint64_t v,
    unsigned w, const char *head, const char *tail)
{
	char fmt[32];

	snprintf(fmt, sizeof(fmt), "%s0x%%0%ullx%s", head, w * 2, tail);
	cl_print_uint(cl, type, key, fmt, v);
}

/* peek REGION OFFSET [WIDTH]; *val gets the value */
static int
do_peek(struct cl *cl, int argc, char **argv, uint32_t *idx, uint64_t *off,
    unsigned *w, uint64_t *val)
{
	uint8_t buf[8];
	int r;

	if (argc < 3 || argc > 4)
		return cl_usage(cl, "peek");
	*w = 4;
	if ((r = cl_region_arg(cl, argv[1], idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], off)) != 0 ||
	    (argc == 4 && (r = cl_width_arg(cl, argv[3], w)) != 0))
		return r;
	if ((r = cl_region_io(cl, *idx, *off, buf, *w, 0, 0)) != 0)
		return r;
	*val = vx_load(buf, *w, 0);
	return 0;
}

int
cl_c_peek(struct cl *cl, int argc, char **argv)
{
	uint32_t idx = 0;
	uint64_t off = 0, val = 0;
	unsigned w = 4;
	int r;

	if ((r = do_peek(cl, argc, argv, &idx, &off, &w, &val)) != 0)
		return r;
	print_access(cl, PRINT_ANY, idx, off);
	cl_print_uint(cl, PRINT_JSON, "width", NULL, w);
	print_value(cl, PRINT_ANY, "value", val, w, ": ", "\n");
	return 0;
}

int
cl_c_read(struct cl *cl, int argc, char **argv)
{
	uint32_t idx = 0;
	uint64_t off, len;
	uint8_t *buf;
	int r;

	if (argc != 4)
		return cl_usage(cl, "read");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (r = cl_num_arg(cl, "length", argv[3], &len)) != 0)
		return r;
	if (len > cl->regs[idx].size)
		return cl_err(cl, VX_EXIT_USAGE, "length %llu is beyond the "
		    "end of %s (size 0x%llx)", (unsigned long long)len,
		    cl_rname(idx), (unsigned long long)cl->regs[idx].size);
	if ((buf = malloc(len ? (size_t)len : 1)) == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	/* Enter at the prompt reads on, as gdb's list does */
	snprintf(cl->again, sizeof(cl->again), "read %s 0x%llx %llu",
	    cl_rname(idx), (unsigned long long)(off + len),
	    (unsigned long long)len);
	if ((r = cl_region_io(cl, idx, off, buf, (size_t)len, 0, 0)) == 0) {
		print_access(cl, PRINT_JSON, idx, off);
		cl_print_uint(cl, PRINT_JSON, "length", NULL, len);
		cl_print_hex(cl, "data", buf, (size_t)len);
		if (!cl->json)
			cl_hexdump(stdout, buf, (size_t)len, off);
	}
	free(buf);
	return r;
}

/* The smallest width (1, 2, 4, 8) that holds v. */
static unsigned
fit_width(uint64_t v)
{
	unsigned w = 1;

	while (w < 8 && v >> (8 * w) != 0)
		w *= 2;
	return w;
}

int
cl_c_poke(struct cl *cl, int argc, char **argv)
{
	uint32_t idx = 0;
	uint64_t off, val;
	unsigned w = 4;
	uint8_t buf[8];
	int r, posted, k = cl_posted_opt(argc, argv, &posted);

	argc -= k;
	argv += k;
	if (argc < 4 || argc > 5)
		return cl_usage(cl, "poke");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (r = cl_num_arg(cl, "value", argv[3], &val)) != 0 ||
	    (argc == 5 && (r = cl_width_arg(cl, argv[4], &w)) != 0))
		return r;
	if (w < 8 && val >> (8 * w) != 0)
		return cl_err(cl, VX_EXIT_USAGE, "value %s does not fit in %u "
		    "bytes; give a width of %u or a smaller value", argv[3], w,
		    fit_width(val));
	vx_store(buf, w, val, 0);
	if ((r = cl_region_io(cl, idx, off, buf, w, 1, posted)) != 0)
		return r;
	print_access(cl, PRINT_ANY, idx, off);
	cl_print_uint(cl, PRINT_JSON, "width", NULL, w);
	print_value(cl, PRINT_ANY, "value", val, w, " <- ", "");
	cl_print_bool(cl, PRINT_ANY, "posted", " (posted)", posted);
	cl_printf(cl, "\n");
	return 0;
}

int
cl_c_write(struct cl *cl, int argc, char **argv)
{
	uint32_t idx = 0;
	uint64_t off;
	uint8_t *buf;
	size_t n;
	int r, posted, k = cl_posted_opt(argc, argv, &posted);

	argc -= k;
	argv += k;
	if (argc != 4)
		return cl_usage(cl, "write");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (r = cl_hex_arg(cl, argv[3], &buf, &n)) != 0)
		return r;
	r = cl_region_io(cl, idx, off, buf, n, 1, posted);
	free(buf);
	if (r != 0)
		return r;
	print_access(cl, PRINT_ANY, idx, off);
	cl_print_uint(cl, PRINT_ANY, "length", " <- %llu bytes", n);
	cl_print_bool(cl, PRINT_ANY, "posted", " (posted)", posted);
	cl_printf(cl, "\n");
	return 0;
}

/* Leading "-w WIDTH" of expect and poll. */
static int
width_opt(struct cl *cl, int *argc, char ***argv, unsigned *w, int *r)
{
	*w = 4;
	*r = 0;
	if (*argc > 2 && strcmp((*argv)[1], "-w") == 0) {
		if ((*r = cl_width_arg(cl, (*argv)[2], w)) != 0)
			return -1;
		(*argv)[2] = (*argv)[0];
		*argc -= 2;
		*argv += 2;
	}
	return 0;
}

int
cl_c_expect(struct cl *cl, int argc, char **argv)
{
	uint64_t off, want, mask = UINT64_MAX, val;
	uint8_t buf[8];
	uint32_t idx = 0;
	unsigned w;
	int r, match;

	if (width_opt(cl, &argc, &argv, &w, &r) < 0)
		return r;
	if (argc < 4 || argc > 5)
		return cl_usage(cl, "expect");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (r = cl_num_arg(cl, "value", argv[3], &want)) != 0 ||
	    (argc == 5 && (r = cl_num_arg(cl, "mask", argv[4], &mask)) != 0))
		return r;
	if (w < 8)
		mask &= ((uint64_t)1 << (8 * w)) - 1;
	if ((r = cl_region_io(cl, idx, off, buf, w, 0, 0)) != 0)
		return r;
	val = vx_load(buf, w, 0);
	match = (val & mask) == (want & mask);
	/* the text line says ok; a mismatch is only the error */
	if (match)
		cl_printf(cl, "ok ");
	print_access(cl, match ? PRINT_ANY : PRINT_JSON, idx, off);
	cl_print_uint(cl, PRINT_JSON, "width", NULL, w);
	print_value(cl, match ? PRINT_ANY : PRINT_JSON, "value", val, w,
	    " == ", "\n");
	cl_print_uint(cl, PRINT_JSON, "expected", NULL, want);
	cl_print_uint(cl, PRINT_JSON, "mask", NULL, mask);
	cl_print_bool(cl, PRINT_JSON, "match", NULL, match);
	if (!match)
		return cl_err(cl, VX_EXIT_FAIL, "expect failed: %s+0x%llx is "
		    "0x%0*llx, expected 0x%0*llx (mask 0x%llx)", cl_rname(idx),
		    (unsigned long long)off, (int)w * 2,
		    (unsigned long long)val, (int)w * 2,
		    (unsigned long long)want, (unsigned long long)mask);
	return 0;
}

/* poll REGION OFFSET MASK VALUE TIMEOUT */
int
cl_c_poll(struct cl *cl, int argc, char **argv)
{
	uint64_t off, mask, want, val = 0;
	uint8_t buf[8];
	uint32_t idx = 0;
	unsigned w, tries = 0;
	int64_t end;
	int r, ms, match = 0;

	if (width_opt(cl, &argc, &argv, &w, &r) < 0)
		return r;
	if (argc != 6)
		return cl_usage(cl, "poll");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (r = cl_num_arg(cl, "mask", argv[3], &mask)) != 0 ||
	    (r = cl_num_arg(cl, "value", argv[4], &want)) != 0 ||
	    (r = cl_ms_arg(cl, argv[5], &ms)) != 0)
		return r;
	end = cl_mono_ms() + ms;
	for (;;) {
		if ((r = cl_region_io(cl, idx, off, buf, w, 0, 0)) != 0)
			return r;
		val = vx_load(buf, w, 0);
		tries++;
		if ((match = (val & mask) == (want & mask)) ||
		    cl_mono_ms() >= end)
			break;
		/* serve DMA while waiting, 10 ms between reads */
		if (vx_client_serve(cl->c, 10, NULL, 0, NULL) < 0)
			return cl_err(cl, VX_EXIT_FAIL, "%s", vx_client_errmsg(cl->c));
		if (cl_interrupted)
			return cl_err(cl, VX_EXIT_FAIL, "poll interrupted");
	}
	if (match)
		cl_printf(cl, "ok ");
	print_access(cl, match ? PRINT_ANY : PRINT_JSON, idx, off);
	print_value(cl, match ? PRINT_ANY : PRINT_JSON, "value", val, w,
	    " == ", "");
	cl_print_uint(cl, match ? PRINT_ANY : PRINT_JSON, "reads",
	    tries == 1 ? " after %llu read\n" : " after %llu reads\n", tries);
	if (!match)
		return cl_err(cl, VX_EXIT_FAIL, "poll timed out after %d ms: "
		    "%s+0x%llx is 0x%0*llx, (value & 0x%llx) never became "
		    "0x%llx", ms, cl_rname(idx), (unsigned long long)off,
		    (int)w * 2, (unsigned long long)val,
		    (unsigned long long)mask, (unsigned long long)want);
	return 0;
}

/* --- x/NFU: gdb's examine ----------------------------------------------- */

#define X_MAX_COUNT	65536

/* "/NFU" after x: count, then format and unit letters in any order; a
 * letter not given stays as the last x had it (gdb's rule). */
static int
x_spec(struct cl *cl, const char *s, unsigned *count, char *fmt,
    unsigned *unit)
{
	unsigned long n;
	char *end;
	int unit_given = 0;

	*count = 1;
	*fmt = cl->x_fmt ? cl->x_fmt : 'x';
	*unit = cl->x_unit ? cl->x_unit : 4;
	if (*s == '\0')
		return 0;
	if (*s++ != '/')
		return cl_usage(cl, "x");
	if (isdigit((unsigned char)*s)) {
		n = strtoul(s, &end, 10);
		if (n == 0 || n > X_MAX_COUNT)
			return cl_err(cl, VX_EXIT_USAGE, "invalid count %.12s: "
			    "want 1 to %d", s, X_MAX_COUNT);
		*count = (unsigned)n;
		s = end;
	}
	for (; *s != '\0'; s++) {
		const char *u = strchr("bhwg", *s);

		if (strchr("xduotc", *s) != NULL) {
			*fmt = *s;
		} else if (u != NULL) {
			*unit = 1u << (u - "bhwg");
			unit_given = 1;
		} else {
			return cl_err(cl, VX_EXIT_USAGE, "invalid x letter '%c': "
			    "want a count, a format (x hex, d signed, u "
			    "unsigned, o octal, t binary, c char) and a unit "
			    "(b h w g: 1 2 4 8 bytes)", *s);
		}
	}
	if (*fmt == 'c' && !unit_given)
		*unit = 1;	/* as gdb: chars are bytes unless told */
	return 0;
}

/* One value as format fmt says, unit w bytes, into out. */
static void
x_value(char fmt, unsigned w, uint64_t v, char *out, size_t cap)
{
	unsigned bits = 8 * w, i;
	int64_t sv;

	switch (fmt) {
	case 'd':
		sv = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >>
		    (64 - bits);
		snprintf(out, cap, "%lld", (long long)sv);
		break;
	case 'u':
		snprintf(out, cap, "%llu", (unsigned long long)v);
		break;
	case 'o':
		snprintf(out, cap, v ? "0%llo" : "0", (unsigned long long)v);
		break;
	case 't':
		for (i = 0; i < bits && i + 1 < cap; i++)
			out[i] = (v >> (bits - 1 - i)) & 1 ? '1' : '0';
		out[i] = '\0';
		break;
	case 'c':
		if (v >= 0x20 && v < 0x7f)
			snprintf(out, cap, "%llu '%c'", (unsigned long long)v,
			    (char)v);
		else
			snprintf(out, cap, "%llu '\\%03llo'",
			    (unsigned long long)v, (unsigned long long)v & 0777);
		break;
	default:
		snprintf(out, cap, "0x%0*llx", (int)w * 2,
		    (unsigned long long)v);
	}
}

/* Values a line shows, as gdb: 8 bytes or halves, 4 words, 2 giants. */
static unsigned
x_per_line(char fmt, unsigned w)
{
	unsigned n = w <= 2 ? 8 : w == 4 ? 4 : 2;

	return fmt == 't' && n > 2 ? n / 2 : n;
}

static void
x_print(struct cl *cl, uint32_t idx, uint64_t off, const uint8_t *buf,
    unsigned count, char fmt, unsigned w)
{
	char fs[2] = { fmt, '\0' }, v[80];
	unsigned i, per = x_per_line(fmt, w);

	print_access(cl, PRINT_JSON, idx, off);
	cl_print_string(cl, PRINT_JSON, "format", NULL, fs);
	cl_print_uint(cl, PRINT_JSON, "unit", NULL, w);
	cl_open_array(cl, "values");
	for (i = 0; i < count; i++) {
		uint64_t val = vx_load(buf + (size_t)i * w, w, 0);

		if (i % per == 0)
			cl_printf(cl, "%s%s+0x%llx:", i ? "\n" : "",
			    cl_rname(idx), (unsigned long long)(off +
			    (uint64_t)i * w));
		x_value(fmt, w, val, v, sizeof(v));
		cl_printf(cl, "\t%s", v);
		cl_print_uint(cl, PRINT_JSON, NULL, NULL, val);
	}
	cl_printf(cl, "\n");
	cl_close_array(cl);
}

/* x[/NFU] [REGION OFFSET]: without a place, where the last x ended. */
int
cl_c_examine(struct cl *cl, int argc, char **argv)
{
	unsigned count, w;
	uint32_t idx;
	uint64_t off;
	uint8_t *buf;
	char fmt;
	int r;

	if ((argc != 1 && argc != 3) || strncmp(argv[0], "x", 1) != 0)
		return cl_usage(cl, "x");
	if ((r = x_spec(cl, argv[0] + 1, &count, &fmt, &w)) != 0)
		return r;
	if (argc == 3) {
		if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
		    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0)
			return r;
	} else if (!cl->x_have) {
		return cl_err(cl, VX_EXIT_USAGE, "no x before this one to go "
		    "on from: give REGION OFFSET");
	} else {
		idx = cl->x_idx;
		off = cl->x_next;
		if ((r = cl_ensure_region(cl, idx)) != 0)	/* reconnected */
			return r;
	}
	if ((buf = malloc((size_t)count * w)) == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	r = cl_region_io(cl, idx, off, buf, (size_t)count * w, 0, 0);
	cl->x_fmt = fmt;	/* remembered, as gdb does, even on failure */
	cl->x_unit = w;
	if (r == 0) {
		x_print(cl, idx, off, buf, count, fmt, w);
		cl->x_have = 1;
		cl->x_idx = idx;
		cl->x_next = off + (uint64_t)count * w;
		/* Enter at the prompt examines what follows */
		snprintf(cl->again, sizeof(cl->again), "x/%u%c%c", count, fmt,
		    "bh w   g"[w - 1]);
	}
	free(buf);
	return r;
}

/* --- watch ---------------------------------------------------------------- */

/* watch REGION OFFSET [WIDTH] [INTERVAL]: a line per change, until Ctrl-C */
int
cl_c_watch(struct cl *cl, int argc, char **argv)
{
	uint64_t off, val, last = 0;
	uint8_t buf[8];
	uint32_t idx = 0;
	unsigned w = 4, changes = 0;
	int r, ms = 100, first = 1;

	if (argc < 3 || argc > 5)
		return cl_usage(cl, "watch");
	if ((r = cl_region_arg(cl, argv[1], &idx)) != 0 ||
	    (r = cl_num_arg(cl, "offset", argv[2], &off)) != 0 ||
	    (argc > 3 && (r = cl_width_arg(cl, argv[3], &w)) != 0) ||
	    (argc > 4 && (r = cl_ms_arg(cl, argv[4], &ms)) != 0))
		return r;
	print_access(cl, PRINT_JSON, idx, off);
	cl_print_uint(cl, PRINT_JSON, "width", NULL, w);
	cl_open_array(cl, "values");
	while (!cl_interrupted) {
		if ((r = cl_region_io(cl, idx, off, buf, w, 0, 0)) != 0)
			break;
		val = vx_load(buf, w, 0);
		if (first || val != last) {
			cl_printf(cl, "%s+0x%llx: ", cl_rname(idx),
			    (unsigned long long)off);
			if (!first)
				cl_printf(cl, "0x%0*llx -> ", (int)w * 2,
				    (unsigned long long)last);
			cl_printf(cl, "0x%0*llx\n", (int)w * 2,
			    (unsigned long long)val);
			cl_print_uint(cl, PRINT_JSON, NULL, NULL, val);
			fflush(stdout);
			changes += !first;
			first = 0;
			last = val;
		}
		/* serve DMA meanwhile; Ctrl-C wakes us through cl_sigfd */
		if (vx_client_serve(cl->c, ms, &cl_sigfd, cl_sigfd >= 0, NULL) < 0) {
			r = cl_err(cl, VX_EXIT_FAIL, "%s",
			    vx_client_errmsg(cl->c));
			break;
		}
	}
	cl_close_array(cl);
	if (r == 0)
		cl_printf(cl, "%u change%s seen\n", changes,
		    changes == 1 ? "" : "s");
	return r;
}
