/*
 * client-region.c - the client's region accesses: peek, read, poke,
 * write, expect, poll.  lib's typed calls (through cl_region_io) access;
 * one print path shows text or JSON.
 */
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
		    "bytes; give a width of 8 or a smaller value", argv[3], w);
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
