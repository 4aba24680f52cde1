/*
 * client-mig.c - the client's feature and migration commands: DEVICE_FEATURE
 * (probe, get, set: migration, device state, dirty page logging) and
 * MIG_DATA_READ/WRITE through lib's typed calls; one print path shows
 * text or JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "vx-cursor.h"
#include "vx-error.h"

static const struct vx_tok feat_words[] = {
	{ VX_FEAT_MIGRATION, "migration" },
	{ VX_FEAT_MIG_DEVICE_STATE, "mig-state" },
	{ VX_FEAT_DMA_LOGGING_START, "dirty-start" },
	{ VX_FEAT_DMA_LOGGING_STOP, "dirty-stop" },
	{ VX_FEAT_DMA_LOGGING_REPORT, "dirty-report" },
	{ 0, NULL }
};

/* A feature request: what DEVICE_FEATURE carries. */
struct feat_req {
	uint64_t id;
	uint32_t flags;
	uint8_t data[8 + 16 + 16 * 32];
	size_t n;
	uint64_t argsz;		/* room for what a GET returns */
};

/* get dirty-report ADDR SIZE PGSIZE */
static int
parse_report(struct cl *cl, int argc, char **argv, struct feat_req *q)
{
	uint64_t rep[3];
	int i, r;

	if (argc != 6)
		return cl_usage(cl, "feature");
	for (i = 0; i < 3; i++)
		if ((r = cl_num_arg(cl, i == 0 ? "address" : i == 1 ? "size" :
		    "page size", argv[3 + i], &rep[i])) != 0)
			return r;
	for (i = 0; i < 3; i++)
		vx_store(q->data + 8 * i, 8, rep[i], 0);
	q->n = 24;
	if (rep[2] == 0 || rep[1] / rep[2] > ((uint64_t)1 << 32))
		return cl_err(cl, VX_EXIT_USAGE, "invalid page size %s for %s "
		    "bytes: the bitmap would be empty or too large", argv[5],
		    argv[4]);
	/* room for the bitmap: one bit a page, u64 words */
	q->argsz = 8 + 24 + ((rep[1] + rep[2] - 1) / rep[2] + 63) / 64 * 8;
	return 0;
}

/* set mig-state STATE */
static int
parse_state(struct cl *cl, int argc, char **argv, struct feat_req *q)
{
	uint64_t v;

	if (argc != 4)
		return cl_usage(cl, "feature");
	if (vx_tok_value(vx_names_mig_state, argv[3], &v) < 0 &&
	    vx_parse_u64(argv[3], &v) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid migration state "
		    "'%s': want STOP, RUNNING, STOP_COPY, RESUMING, "
		    "RUNNING_P2P, PRE_COPY, PRE_COPY_P2P", argv[3]);
	vx_store(q->data, 4, v, 0);
	vx_store(q->data + 4, 4, 0, 0);
	q->n = 8;
	return 0;
}

/* set dirty-start PGSIZE [ADDR SIZE]... */
static int
parse_start(struct cl *cl, int argc, char **argv, struct feat_req *q)
{
	int nr = (argc - 4) / 2, i, r;
	uint64_t v, a;

	if (argc < 4 || (argc - 4) % 2 || nr > 32)
		return cl_usage(cl, "feature");
	if ((r = cl_num_arg(cl, "page size", argv[3], &v)) != 0)
		return r;
	vx_store(q->data, 8, v, 0);
	vx_store(q->data + 8, 4, (uint64_t)nr, 0);
	vx_store(q->data + 12, 4, 0, 0);
	q->n = 16;
	for (i = 0; i < nr; i++) {
		if ((r = cl_num_arg(cl, "address", argv[4 + 2 * i], &a)) != 0 ||
		    (r = cl_num_arg(cl, "size", argv[5 + 2 * i], &v)) != 0)
			return r;
		vx_store(q->data + q->n, 8, a, 0);
		vx_store(q->data + q->n + 8, 8, v, 0);
		q->n += 16;
	}
	return 0;
}

/* get|set FEATURE [ARGS]: the request, or a usage error */
static int
parse_get_set(struct cl *cl, int argc, char **argv, struct feat_req *q)
{
	int set = strcmp(argv[1], "set") == 0, r = 0;

	if (!set && strcmp(argv[1], "get") != 0)
		return cl_usage(cl, "feature");
	q->flags |= set ? VX_FEATURE_SET : VX_FEATURE_GET;
	if (!set && q->id == VX_FEAT_DMA_LOGGING_REPORT)
		r = parse_report(cl, argc, argv, q);
	else if (set && q->id == VX_FEAT_MIG_DEVICE_STATE)
		r = parse_state(cl, argc, argv, q);
	else if (set && q->id == VX_FEAT_DMA_LOGGING_START)
		r = parse_start(cl, argc, argv, q);
	else if (argc != 3)
		r = cl_usage(cl, "feature");
	if (r != 0)
		return r;
	if (q->id == VX_FEAT_MIGRATION || q->id == VX_FEAT_MIG_DEVICE_STATE)
		q->argsz = 16;
	else if (set)
		q->argsz = 8 + q->n;
	return 0;
}

static void
print_feature(struct cl *cl, const struct vx_feature_reply *fr)
{
	const char *s = vx_tok_name(vx_names_mig_state, fr->device_state);
	uint64_t v = fr->mig_flags;

	if (fr->has_state)
		cl_print_string(cl, PRINT_ANY, "device_state",
		    "device_state %s\n", s != NULL ? s : "unknown");
	if (fr->has_mig_flags)
		cl_print_uint(cl, PRINT_JSON, "migration_flags", NULL, v);
	if (cl->json) {
		cl_print_json(cl, "reply", vx_msg_json(&fr->reply));
	} else if (fr->has_state) {
		/* said above */
	} else if (fr->has_mig_flags) {
		printf("migration flags 0x%llx%s%s%s\n", (unsigned long long)v,
		    v & VX_MIGRATION_STOP_COPY ? " stop_copy" : "",
		    v & VX_MIGRATION_P2P ? " p2p" : "",
		    v & VX_MIGRATION_PRE_COPY ? " pre_copy" : "");
	} else if (fr->bitmap != NULL) {
		printf("dirty bitmap:\n");
		cl_hexdump(stdout, fr->bitmap, fr->bitmap_len, 0);
	} else {
		printf("ok\n");
	}
}

/*
 * feature probe FEATURE | get FEATURE [ARGS] | set FEATURE [ARGS]
 *   get mig-state; set mig-state STATE; get migration
 *   set dirty-start PGSIZE [ADDR SIZE]...; set dirty-stop
 *   get dirty-report ADDR SIZE PGSIZE
 */
int
cl_c_feature(struct cl *cl, int argc, char **argv)
{
	struct vx_feature_reply fr;
	struct feat_req q;
	int r;

	if (argc < 3)
		return cl_usage(cl, "feature");
	memset(&q, 0, sizeof(q));
	q.argsz = 8 + 4096;
	if (vx_tok_value(feat_words, argv[2], &q.id) < 0 &&
	    vx_tok_value(vx_names_feature, argv[2], &q.id) < 0 &&
	    vx_parse_u64(argv[2], &q.id) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid feature '%s': want "
		    "migration, mig-state, dirty-start, dirty-stop, "
		    "dirty-report or a number", argv[2]);
	if (q.id > VX_FEATURE_MASK)
		return cl_err(cl, VX_EXIT_USAGE, "invalid feature '%s'", argv[2]);
	q.flags = (uint32_t)q.id;
	if (strcmp(argv[1], "probe") == 0) {
		if (argc != 3)
			return cl_usage(cl, "feature");
		r = vx_client_feature(cl->c, q.flags | VX_FEATURE_PROBE, NULL,
		    0, 8, &fr);
		if (r < 0 && r != VX_ERR_REPLY)
			return cl_call_err(cl, r);
		cl_print_uint(cl, PRINT_JSON, "feature", NULL, q.flags);
		cl_print_bool(cl, PRINT_JSON, "supported", NULL, r == 0);
		cl_printf(cl, "feature %s: %s\n", argv[2], r == 0 ?
		    "supported" : "not supported");
		return 0;
	}
	if ((r = parse_get_set(cl, argc, argv, &q)) != 0)
		return r;
	if ((r = vx_client_feature(cl->c, q.flags, q.data, q.n, q.argsz,
	    &fr)) < 0)
		return cl_call_err(cl, r);
	cl_print_uint(cl, PRINT_JSON, "feature", NULL, q.id);
	print_feature(cl, &fr);
	return 0;
}

/* mig read SIZE | mig write HEXBYTES */
int
cl_c_mig(struct cl *cl, int argc, char **argv)
{
	const uint8_t *data;
	uint8_t *p = NULL;
	size_t n = 0;
	uint64_t size = 0;
	int r;

	if (argc != 3 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")))
		return cl_usage(cl, "mig");
	if (argv[1][0] == 'w') {
		if ((r = cl_hex_arg(cl, argv[2], &p, &n)) != 0)
			return r;
		r = vx_client_mig_write(cl->c, p, n);
		free(p);
		if (r < 0)
			return cl_call_err(cl, r);
		cl_printf(cl, "wrote %zu bytes of migration data\n", n);
		return 0;
	}
	if ((r = cl_num_arg(cl, "size", argv[2], &size)) != 0)
		return r;
	if (size > UINT32_MAX)
		return cl_err(cl, VX_EXIT_USAGE, "size %s is above 4 GiB",
		    argv[2]);
	if ((r = vx_client_mig_read(cl->c, (uint32_t)size, &data, &n)) < 0)
		return cl_call_err(cl, r);
	cl_print_hex(cl, "data", n ? data : (const uint8_t *)"", n);
	if (!cl->json && n)
		cl_hexdump(stdout, data, n, 0);
	else if (!cl->json)
		printf("no migration data\n");
	return 0;
}
