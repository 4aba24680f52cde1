/*
 * client-mig.c - the client's feature and migration commands: DEVICE_FEATURE
 * (probe, get, set: migration, device state, dirty page logging) and
 * MIG_DATA_READ/WRITE through lib's typed calls; one print path shows
 * text or JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* --- mig save / mig load ------------------------------------------------ */

/*
 * The state file: MIG_MAGIC (8 bytes), the data's length (u64
 * little-endian), then the data: what MIG_DATA_READ gave, in order, until
 * it gave nothing.  The stream has no inner boundaries (the spec's
 * migration data is a byte stream), so the file keeps none.
 */
#define MIG_MAGIC	"VFUMIG1\n"
#define MIG_HDR		16
#define MIG_MAX		((size_t)1 << 30)	/* a server that never ends */

/* A growing byte buffer for the state. */
struct mbuf {
	uint8_t *p;
	size_t len, cap;
};

static int
mbuf_add(struct mbuf *b, const void *d, size_t n)
{
	size_t ncap = b->cap ? b->cap : 4096;
	uint8_t *np;

	while (ncap - b->len < n)
		ncap *= 2;
	if (ncap != b->cap) {
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static int
mig_state(struct cl *cl, int set, uint32_t state, uint32_t *now)
{
	struct vx_feature_reply fr;
	uint8_t d[8] = { 0 };
	int r;

	vx_store(d, 4, state, 0);
	r = vx_client_feature(cl->c, VX_FEAT_MIG_DEVICE_STATE |
	    (set ? VX_FEATURE_SET : VX_FEATURE_GET), d, 8, 16, &fr);
	if (r < 0)
		return cl_call_err(cl, r);
	if (now != NULL && !fr.has_state)
		return cl_err(cl, VX_EXIT_FAIL, "the server's mig-state reply "
		    "carries no state");
	if (now != NULL)
		*now = fr.device_state;
	return 0;
}

static const char *
state_name(uint32_t s)
{
	const char *n = vx_tok_name(vx_names_mig_state, s);

	return n != NULL ? n : "unknown";
}

/* Append what MIG_DATA_READ gives until it gives nothing. */
static int
mig_read_all(struct cl *cl, struct mbuf *sb)
{
	uint64_t x = vx_client_xfer(cl->c);
	const uint8_t *data;
	size_t n;
	int r;

	for (;;) {
		if ((r = vx_client_mig_read(cl->c, x > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)x, &data, &n)) < 0)
			return cl_call_err(cl, r);
		if (n == 0)
			return 0;
		if (sb->len + n > MIG_MAX)
			return cl_err(cl, VX_EXIT_FAIL, "the server's migration "
			    "data goes on beyond 1 GiB; gave up");
		if (mbuf_add(sb, data, n) < 0)
			return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	}
}

static int
write_file(struct cl *cl, const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	ssize_t k;

	if (fd < 0)
		return cl_err(cl, VX_EXIT_FAIL, "cannot create '%s': %s", path,
		    strerror(errno));
	while (n > 0 && (k = write(fd, p, n)) > 0) {
		p += k;
		n -= (size_t)k;
	}
	if (n > 0 || close(fd) < 0) {
		int e = errno;

		if (n > 0)
			close(fd);
		return cl_err(cl, VX_EXIT_FAIL, "writing '%s': %s", path,
		    strerror(e));
	}
	return 0;
}

/* mig save FILE: STOP_COPY unless in a copy state already, read all */
static int
mig_save(struct cl *cl, const char *path)
{
	struct mbuf sb = { NULL, 0, 0 };
	uint32_t st;
	int r;

	if ((r = mig_state(cl, 0, 0, &st)) != 0)
		return r;
	if (st != VX_MIG_STOP_COPY && st != VX_MIG_PRE_COPY &&
	    st != VX_MIG_PRE_COPY_P2P &&
	    (r = mig_state(cl, 1, VX_MIG_STOP_COPY, &st)) != 0)
		return r;
	if (mbuf_add(&sb, MIG_MAGIC, 8) < 0 || mbuf_add(&sb, "\0\0\0\0\0"
	    "\0\0\0", 8) < 0)
		r = cl_err(cl, VX_EXIT_FAIL, "out of memory");
	if (r == 0 && (r = mig_read_all(cl, &sb)) == 0) {
		vx_store(sb.p + 8, 8, sb.len - MIG_HDR, 0);
		r = write_file(cl, path, sb.p, sb.len);
	}
	if (r == 0) {
		cl_print_string(cl, PRINT_JSON, "file", NULL, path);
		cl_print_uint(cl, PRINT_ANY, "length", "saved %llu bytes of "
		    "device state", (unsigned long long)(sb.len - MIG_HDR));
		cl_print_string(cl, PRINT_ANY, "device_state", " (%s)",
		    state_name(st));
		cl_printf(cl, " to %s\n", path);
	}
	free(sb.p);
	return r;
}

/* The state file at path, checked: *data and *n its data (free *buf). */
static int
read_state_file(struct cl *cl, const char *path, uint8_t **buf,
    const uint8_t **data, size_t *n)
{
	struct mbuf sb = { NULL, 0, 0 };
	char chunk[65536];
	ssize_t k;
	int e, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cl_err(cl, VX_EXIT_USAGE, "cannot open '%s': %s", path,
		    strerror(errno));
	while ((k = read(fd, chunk, sizeof(chunk))) > 0 &&
	    sb.len <= MIG_MAX + MIG_HDR && mbuf_add(&sb, chunk, (size_t)k) == 0)
		;
	e = errno;
	close(fd);
	if (k != 0) {
		free(sb.p);
		return cl_err(cl, VX_EXIT_FAIL, "reading '%s': %s", path,
		    k < 0 ? strerror(e) : sb.len > MIG_MAX ? "larger than "
		    "1 GiB" : "out of memory");
	}
	if (sb.len < MIG_HDR || memcmp(sb.p, MIG_MAGIC, 8) != 0 ||
	    vx_load(sb.p + 8, 8, 0) != sb.len - MIG_HDR) {
		free(sb.p);
		return cl_err(cl, VX_EXIT_USAGE, "'%s' is no device state "
		    "'mig save' wrote (magic VFUMIG1, then the length, then "
		    "as many bytes)", path);
	}
	*buf = sb.p;
	*data = *buf + MIG_HDR;
	*n = sb.len - MIG_HDR;
	return 0;
}

/* mig load FILE: RESUMING, MIG_DATA_WRITE in pieces, RUNNING */
static int
mig_load(struct cl *cl, const char *path)
{
	uint64_t x = vx_client_xfer(cl->c);
	const uint8_t *data;
	uint8_t *buf = NULL;
	size_t n, off, k;
	uint32_t st = 0;
	int r;

	if ((r = read_state_file(cl, path, &buf, &data, &n)) != 0)
		return r;
	r = mig_state(cl, 1, VX_MIG_RESUMING, NULL);
	for (off = 0; r == 0 && off < n; off += k) {
		k = n - off < x ? n - off : (size_t)x;
		if ((r = vx_client_mig_write(cl->c, data + off, k)) < 0)
			r = cl_call_err(cl, r);
	}
	if (r == 0)
		r = mig_state(cl, 1, VX_MIG_RUNNING, &st);
	free(buf);
	if (r != 0)
		return r;
	cl_print_string(cl, PRINT_JSON, "file", NULL, path);
	cl_print_uint(cl, PRINT_ANY, "length", "loaded %llu bytes of device "
	    "state", (unsigned long long)n);
	cl_print_string(cl, PRINT_ANY, "device_state", " (%s)", state_name(st));
	cl_printf(cl, " from %s\n", path);
	return 0;
}

/* mig read SIZE | mig write HEXBYTES | mig save FILE | mig load FILE */
int
cl_c_mig(struct cl *cl, int argc, char **argv)
{
	const uint8_t *data;
	uint8_t *p = NULL;
	size_t n = 0;
	uint64_t size = 0;
	int r;

	if (argc == 3 && strcmp(argv[1], "save") == 0)
		return mig_save(cl, argv[2]);
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return mig_load(cl, argv[2]);
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
