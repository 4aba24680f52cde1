/*
 * client-cmds.c - the commands of `vfuctl client`: each builds a vfio-user
 * message, waits for the reply through lib/client.c and prints the result
 * as text or as one JSON object.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client-int.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-strbuf.h"

#define J	((json_t *)cl->out)

volatile sig_atomic_t cl_interrupted;
int cl_sigfd = -1;

/* --- reporting ----------------------------------------------------------- */

int
cl_err(struct cl *cl, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (cl->src != NULL)
		fprintf(stderr, "vfuctl %s: %s:%u: %s\n", cl->cmdname, cl->src,
		    cl->line, msg);
	else
		fprintf(stderr, "vfuctl %s: %s\n", cl->cmdname, msg);
	if (cl->out != NULL && json_object_get(J, "error") == NULL)
		json_object_set_new(J, "error", json_string(msg));
	return code;
}

int
cl_usage(struct cl *cl, const char *name)
{
	const struct cl_cmd *c = cl_find(name);

	return cl_err(cl, VX_EXIT_USAGE, "usage: %s %s", name,
	    c != NULL ? c->args : "");
}

/* The connection failed: nothing later can work. */
static int
conn_err(struct cl *cl)
{
	return cl_err(cl, VX_EXIT_FAIL, "%s", cl->c.errmsg);
}

static const char *
errno_name(uint32_t e)
{
	const char *n = vx_tok_name(vx_names_errno, e);

	return n != NULL ? n : "error";
}

/* An error reply to what: "server answered REGION_READ ... with EINVAL". */
int
cl_reply_err(struct cl *cl, const struct vx_msg *m, const char *what)
{
	if (cl->out != NULL)
		json_object_set_new(J, "errno", json_integer(m->error));
	return cl_err(cl, VX_EXIT_FAIL, "server answered %s with %s (%u: %s)",
	    what, errno_name(m->error), m->error, strerror((int)m->error));
}

char *
cl_hex(const uint8_t *p, size_t n)
{
	static const char dig[] = "0123456789abcdef";
	char *s = malloc(n * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = dig[p[i] >> 4];
		s[2 * i + 1] = dig[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static void
jset_hex(struct cl *cl, const char *key, const uint8_t *p, size_t n)
{
	char *s = cl_hex(p, n);

	json_object_set_new(J, key, json_string(s != NULL ? s : ""));
	free(s);
}

void
cl_hexdump(FILE *fp, const uint8_t *p, size_t n, uint64_t base)
{
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		fprintf(fp, "%08llx  ", (unsigned long long)(base + i));
		for (j = 0; j < 16; j++) {
			if (i + j < n)
				fprintf(fp, "%02x ", p[i + j]);
			else
				fputs("   ", fp);
			if (j == 7)
				fputc(' ', fp);
		}
		fputs(" |", fp);
		for (j = 0; j < 16 && i + j < n; j++)
			fputc(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] :
			    '.', fp);
		fputs("|\n", fp);
	}
}

/* --- arguments ----------------------------------------------------------- */

int
cl_num_arg(struct cl *cl, const char *what, const char *s, uint64_t *v)
{
	if (vx_parse_u64(s, v) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid %s '%s': want a "
		    "decimal or 0x number", what, s);
	return 0;
}

int
cl_width_arg(struct cl *cl, const char *s, unsigned *w)
{
	uint64_t v;

	if (vx_parse_u64(s, &v) < 0 || (v != 1 && v != 2 && v != 4 && v != 8))
		return cl_err(cl, VX_EXIT_USAGE, "invalid width '%s': want 1, "
		    "2, 4 or 8", s);
	*w = (unsigned)v;
	return 0;
}

/* "500", "500ms", "2s": milliseconds. */
int
cl_ms_arg(struct cl *cl, const char *s, int *ms)
{
	char buf[32];
	size_t n = strlen(s);
	uint64_t v, mul = 1;

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n > 2 && strcmp(buf + n - 2, "ms") == 0)
		buf[n - 2] = '\0';
	else if (n > 1 && buf[n - 1] == 's') {
		buf[n - 1] = '\0';
		mul = 1000;
	}
	if (vx_parse_u64(buf, &v) < 0 || v > 86400000 / mul)
		return cl_err(cl, VX_EXIT_USAGE, "invalid timeout '%s': want "
		    "milliseconds, or seconds with 's'", s);
	*ms = (int)(v * mul);
	return 0;
}

/* Hex bytes ("0a0b", "0a:0b", "0x0a0b"); *out malloc'ed. */
int
cl_hex_arg(struct cl *cl, const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s), k = 0;
	uint8_t *p;
	int hi, lo;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if ((p = malloc(len / 2 + 1)) == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	while (*s != '\0') {
		if (*s == ':' || *s == '-' || *s == '_') {
			s++;
			continue;
		}
		if ((hi = vx_hexval(s[0])) < 0 || (lo = vx_hexval(s[1])) < 0) {
			free(p);
			return cl_err(cl, VX_EXIT_USAGE, "invalid hex bytes "
			    "near '%.8s': want pairs of hex digits", s);
		}
		p[k++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*out = p;
	*n = k;
	return 0;
}

/* --- device and region information --------------------------------------- */

/* A typed call failed: its sentence, and an error reply's errno in JSON. */
int
cl_call_err(struct cl *cl, int r)
{
	if (r == VX_ERR_REPLY && cl->out != NULL)
		json_object_set_new(J, "errno", json_integer(cl->c.reply_errno));
	return cl_err(cl, VX_EXIT_FAIL, "%s", cl->c.errmsg);
}

int
cl_ensure_info(struct cl *cl)
{
	struct vx_device_info di;
	int r;

	if (cl->have_info)
		return 0;
	if ((r = vx_client_device_info(&cl->c, &di)) < 0)
		return cl_call_err(cl, r);
	cl->dev_flags = di.flags;
	cl->nregions = di.num_regions;
	cl->nirqs = di.num_irqs;
	if (cl->nregions > 4096)
		cl->nregions = 4096;
	free(cl->regs);
	cl->regs = calloc(cl->nregions + 1, sizeof(*cl->regs));
	if (cl->regs == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	cl->have_info = 1;
	return 0;
}

/* DEVICE_GET_REGION_INFO of idx, remembered for later accesses. */
int
cl_region_info(struct cl *cl, uint32_t idx, struct vx_region_info *ri)
{
	int r;

	if ((r = vx_client_region_info(&cl->c, idx, ri)) < 0)
		return cl_call_err(cl, r);
	if (idx < cl->nregions) {
		cl->regs[idx].known = 1;
		cl->regs[idx].flags = ri->flags;
		cl->regs[idx].size = ri->size;
	}
	return 0;
}

int
cl_ensure_region(struct cl *cl, uint32_t idx)
{
	struct vx_region_info ri;
	int r;

	if ((r = cl_ensure_info(cl)) != 0)
		return r;
	if (idx >= cl->nregions)
		return cl_err(cl, VX_EXIT_USAGE, "region %u does not exist: "
		    "the device has %u regions", idx, cl->nregions);
	if (cl->regs[idx].known)
		return 0;
	return cl_region_info(cl, idx, &ri);
}

const char *
cl_region_word(struct cl *cl, unsigned i)
{
	static char buf[16];
	unsigned k;

	if (cl_ensure_info(cl) != 0)
		return NULL;
	for (k = 0; k < cl->nregions; k++) {
		if (cl_ensure_region(cl, k) != 0 || cl->regs[k].size == 0)
			continue;
		if (i-- == 0)
			return vx_region_name(k, buf, sizeof(buf));
	}
	return NULL;
}

/* REGION: a name (bar0..bar5, rom, config, vga) or an index. */
int
cl_region_arg(struct cl *cl, const char *s, uint32_t *idx)
{
	uint64_t v;
	int r;

	if (vx_tok_value(vx_names_region, s, &v) < 0 &&
	    vx_parse_u64(s, &v) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid region '%s': want "
		    "bar0..bar5, rom, config, vga or an index", s);
	if (v > UINT32_MAX)
		return cl_err(cl, VX_EXIT_USAGE, "invalid region '%s'", s);
	if ((r = cl_ensure_region(cl, (uint32_t)v)) != 0)
		return r;
	*idx = (uint32_t)v;
	return 0;
}

const char *
cl_rname(uint32_t idx)
{
	static char buf[4][16];
	static int k;

	k = (k + 1) % 4;
	return vx_region_name(idx, buf[k], sizeof(buf[k]));
}

/* Read or write [off, off+len) of region idx, checked against its info. */
int
cl_region_io(struct cl *cl, uint32_t idx, uint64_t off, uint8_t *buf,
    size_t len, int write, int posted)
{
	const struct cl_region *rg = &cl->regs[idx];
	int r;

	if (len == 0)
		return cl_err(cl, VX_EXIT_USAGE, "nothing to %s: length is 0",
		    write ? "write" : "read");
	if (off > rg->size || len > rg->size - off)
		return cl_err(cl, VX_EXIT_USAGE, "%s+0x%llx len %zu is beyond "
		    "the end of %s (size 0x%llx)", cl_rname(idx),
		    (unsigned long long)off, len, cl_rname(idx),
		    (unsigned long long)rg->size);
	if (!(rg->flags & (write ? VX_REGION_WRITE : VX_REGION_READ)))
		return cl_err(cl, VX_EXIT_FAIL, "%s is not %s (flags 0x%x)",
		    cl_rname(idx), write ? "writable" : "readable", rg->flags);
	r = write ? vx_client_region_write(&cl->c, idx, off, buf, len, posted) :
	    vx_client_region_read(&cl->c, idx, off, buf, len);
	return r < 0 ? cl_call_err(cl, r) : 0;
}

int64_t
cl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
cl_posted_opt(int argc, char **argv, int *posted)
{
	*posted = argc > 1 && strcmp(argv[1], "--posted") == 0;
	return *posted;
}

/* --- interrupts ---------------------------------------------------------- */

static int
irq_arg(struct cl *cl, const char *s, uint32_t *idx)
{
	uint64_t v;

	if (strcasecmp(s, "msix") == 0)
		v = VX_IRQ_MSIX;
	else if (vx_tok_value(vx_names_irq, s, &v) < 0 &&
	    vx_parse_u64(s, &v) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid IRQ index '%s': want "
		    "intx, msi, msix, err, req or a number", s);
	if (v > UINT32_MAX)
		return cl_err(cl, VX_EXIT_USAGE, "invalid IRQ index '%s'", s);
	*idx = (uint32_t)v;
	return 0;
}

static int
set_irqs(struct cl *cl, uint32_t flags, uint32_t idx, uint32_t start,
    uint32_t count, const int *fds, int nfds)
{
	struct vx_builder b;
	struct vx_msg m;
	int r;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_SET_IRQS, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 20);
	vx_build_uint(&b, VXF_IRQ_SET_FLAGS, flags);
	vx_build_uint(&b, VXF_IRQ_INDEX, idx);
	vx_build_uint(&b, VXF_IRQ_START, start);
	vx_build_uint(&b, VXF_IRQ_COUNT, count);
	r = vx_client_call_built(&cl->c, &b, fds, nfds, &m);
	vx_builder_release(&b);
	if (r < 0)
		return conn_err(cl);
	if (m.flags & VX_F_ERROR)
		return cl_reply_err(cl, &m, "DEVICE_SET_IRQS");
	return 0;
}

static void
close_irqfds(struct cl *cl, uint32_t idx, int all)
{
	int i, k = 0;

	for (i = 0; i < cl->nirqfds; i++) {
		if (all || cl->irqfds[i].index == idx)
			close(cl->irqfds[i].fd);
		else
			cl->irqfds[k++] = cl->irqfds[i];
	}
	cl->nirqfds = k;
}

static int
c_irq(struct cl *cl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	uint64_t start = 0, count = 0;
	uint32_t idx = 0;
	char nb[16];
	int r;

	if (argc < 3)
		return cl_usage(cl, "irq");
	if ((r = irq_arg(cl, argv[2], &idx)) != 0)
		return r;
	if (strcmp(sub, "disable") == 0) {
		if (argc != 3)
			return cl_usage(cl, "irq");
		if ((r = set_irqs(cl, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER,
		    idx, 0, 0, NULL, 0)) != 0)
			return r;
		close_irqfds(cl, idx, 0);
		if (!cl->json)
			printf("%s disabled\n", cl_irq_name(idx, nb, sizeof(nb)));
		return 0;
	}
	if (argc != 5)
		return cl_usage(cl, "irq");
	if ((r = cl_num_arg(cl, "start", argv[3], &start)) != 0 ||
	    (r = cl_num_arg(cl, "count", argv[4], &count)) != 0)
		return r;
	if (start > UINT32_MAX || count > UINT32_MAX - start)
		return cl_err(cl, VX_EXIT_USAGE, "invalid vector range %s+%s",
		    argv[3], argv[4]);
	if (strcmp(sub, "enable") == 0) {
		int fds[CL_MAX_IRQFDS];
		uint32_t i, done = 0, chunk;
		int maxfds = vx_conn_peer_max_fds(cl->c.conn) > 0 ?
		    vx_conn_peer_max_fds(cl->c.conn) : 1;

		if (count == 0 || count + (uint64_t)cl->nirqfds > CL_MAX_IRQFDS)
			return cl_err(cl, VX_EXIT_USAGE, "invalid count %s: "
			    "want 1..%d eventfds in all", argv[4],
			    CL_MAX_IRQFDS - cl->nirqfds);
		for (i = 0; i < count; i++) {
			if ((fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
				r = errno;
				while (i-- > 0)
					close(fds[i]);
				return cl_err(cl, VX_EXIT_FAIL, "eventfd: %s",
				    strerror(r));
			}
		}
		/* at most max_msg_fds descriptors per message */
		while (done < count) {
			chunk = (uint32_t)count - done;
			if (chunk > (uint32_t)maxfds)
				chunk = (uint32_t)maxfds;
			r = set_irqs(cl, VX_IRQ_DATA_EVENTFD |
			    VX_IRQ_ACTION_TRIGGER, idx, (uint32_t)start + done,
			    chunk, fds + done, (int)chunk);
			if (r != 0) {
				for (i = 0; i < count; i++)
					close(fds[i]);
				return r;
			}
			done += chunk;
		}
		for (i = 0; i < count; i++) {
			cl->irqfds[cl->nirqfds].index = idx;
			cl->irqfds[cl->nirqfds].vector = (uint32_t)start + i;
			cl->irqfds[cl->nirqfds++].fd = fds[i];
		}
		if (!cl->json)
			printf("%s vectors %llu..%llu enabled (eventfds)\n",
			    cl_irq_name(idx, nb, sizeof(nb)),
			    (unsigned long long)start,
			    (unsigned long long)(start + count - 1));
		return 0;
	}
	if (strcmp(sub, "trigger") == 0 || strcmp(sub, "mask") == 0 ||
	    strcmp(sub, "unmask") == 0) {
		uint32_t act = sub[0] == 't' ? VX_IRQ_ACTION_TRIGGER :
		    sub[0] == 'm' ? VX_IRQ_ACTION_MASK : VX_IRQ_ACTION_UNMASK;

		if ((r = set_irqs(cl, VX_IRQ_DATA_NONE | act, idx,
		    (uint32_t)start, (uint32_t)count, NULL, 0)) != 0)
			return r;
		if (!cl->json)
			printf("%s vectors %llu+%llu %s\n",
			    cl_irq_name(idx, nb, sizeof(nb)),
			    (unsigned long long)start,
			    (unsigned long long)count, sub[0] == 't' ?
			    "triggered" : sub[0] == 'm' ? "masked" : "unmasked");
		return 0;
	}
	return cl_usage(cl, "irq");
}

/* wait-irq [TIMEOUT]: wait for an enabled vector's eventfd */
static int
c_wait_irq(struct cl *cl, int argc, char **argv)
{
	int fds[CL_MAX_IRQFDS + 1];
	int ms = 1000, i, ready, r, nfds;
	int64_t end;
	json_t *arr = NULL;
	unsigned fired = 0;
	char nb[16];

	if (argc > 2)
		return cl_usage(cl, "wait-irq");
	if (argc == 2 && (r = cl_ms_arg(cl, argv[1], &ms)) != 0)
		return r;
	if (cl->nirqfds == 0)
		return cl_err(cl, VX_EXIT_USAGE, "no interrupt is enabled; run "
		    "'irq enable INDEX START COUNT' first");
	for (i = 0; i < cl->nirqfds; i++)
		fds[i] = cl->irqfds[i].fd;
	nfds = cl->nirqfds;
	if (cl_sigfd >= 0)
		fds[nfds++] = cl_sigfd;	/* Ctrl-C wakes the wait */
	end = cl_mono_ms() + ms;
	if (cl->json)
		arr = json_array();
	for (;;) {
		int64_t left = end - cl_mono_ms();

		if (left < 0)
			left = 0;
		/* the sockets are served while we wait */
		r = vx_client_serve(&cl->c, (int)left, fds, nfds, &ready);
		if (r < 0) {
			json_decref(arr);
			return conn_err(cl);
		}
		/* collect every vector that fired, not only the first */
		for (i = 0; i < cl->nirqfds; i++) {
			uint64_t n;

			if (read(fds[i], &n, sizeof(n)) != (ssize_t)sizeof(n))
				continue;
			fired++;
			if (arr != NULL)
				json_array_append_new(arr, json_pack(
				    "{s:s,s:i,s:i,s:I}", "irq",
				    cl_irq_name(cl->irqfds[i].index, nb,
				    sizeof(nb)), "index",
				    (int)cl->irqfds[i].index, "vector",
				    (int)cl->irqfds[i].vector, "count",
				    (json_int_t)n));
			else
				printf("%s vector %u fired (%llu)\n",
				    cl_irq_name(cl->irqfds[i].index, nb,
				    sizeof(nb)), cl->irqfds[i].vector,
				    (unsigned long long)n);
		}
		if (fired || cl_mono_ms() >= end)
			break;
		if (cl_interrupted) {
			json_decref(arr);
			return cl_err(cl, VX_EXIT_FAIL, "wait-irq interrupted");
		}
	}
	if (arr != NULL)
		json_object_set_new(J, "fired", arr);
	if (!fired)
		return cl_err(cl, VX_EXIT_FAIL, "no interrupt within %d ms", ms);
	return 0;
}

/* --- features and migration --------------------------------------------- */

static const struct vx_tok feat_words[] = {
	{ VX_FEAT_MIGRATION, "migration" },
	{ VX_FEAT_MIG_DEVICE_STATE, "mig-state" },
	{ VX_FEAT_DMA_LOGGING_START, "dirty-start" },
	{ VX_FEAT_DMA_LOGGING_STOP, "dirty-stop" },
	{ VX_FEAT_DMA_LOGGING_REPORT, "dirty-report" },
	{ 0, NULL }
};

/* argsz: the payload sent, or room for what a GET returns */
static int
feature_call(struct cl *cl, uint32_t flags, const void *data, size_t n,
    uint64_t argsz, struct vx_msg *m)
{
	struct vx_builder b;
	int r;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DEVICE_FEATURE, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, argsz > 8 + n ? argsz : 8 + n);
	vx_build_uint(&b, VXF_FEAT_FLAGS, flags);
	if (n)
		vx_build_bytes(&b, VXF_FEAT_DATA, data, n);
	r = vx_client_call_built(&cl->c, &b, NULL, 0, m);
	vx_builder_release(&b);
	return r < 0 ? conn_err(cl) : 0;
}

/*
 * feature probe FEATURE | get FEATURE [ARGS] | set FEATURE [ARGS]
 *   get mig-state; set mig-state STATE; get migration
 *   set dirty-start PGSIZE [ADDR SIZE]...; set dirty-stop
 *   get dirty-report ADDR SIZE PGSIZE
 */
static int
c_feature(struct cl *cl, int argc, char **argv)
{
	uint8_t data[8 + 16 + 16 * 32];
	size_t n = 0;
	uint64_t id, v, a, argsz = 8 + 4096;
	uint32_t flags;
	struct vx_msg m;
	const char *sub = argc > 1 ? argv[1] : "";
	int r, i;

	if (argc < 3)
		return cl_usage(cl, "feature");
	if (vx_tok_value(feat_words, argv[2], &id) < 0 &&
	    vx_tok_value(vx_names_feature, argv[2], &id) < 0 &&
	    vx_parse_u64(argv[2], &id) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid feature '%s': want "
		    "migration, mig-state, dirty-start, dirty-stop, "
		    "dirty-report or a number", argv[2]);
	if (id > VX_FEATURE_MASK)
		return cl_err(cl, VX_EXIT_USAGE, "invalid feature '%s'", argv[2]);
	flags = (uint32_t)id;
	if (strcmp(sub, "probe") == 0) {
		if (argc != 3)
			return cl_usage(cl, "feature");
		if ((r = feature_call(cl, flags | VX_FEATURE_PROBE, NULL, 0, 8,
		    &m)) != 0)
			return r;
		if (cl->json) {
			json_object_set_new(J, "feature", json_integer(flags));
			json_object_set_new(J, "supported",
			    json_boolean(!(m.flags & VX_F_ERROR)));
		} else {
			printf("feature %s: %s\n", argv[2], m.flags & VX_F_ERROR ?
			    "not supported" : "supported");
		}
		return 0;
	}
	if (strcmp(sub, "get") == 0) {
		flags |= VX_FEATURE_GET;
		if (id == VX_FEAT_DMA_LOGGING_REPORT) {
			uint64_t rep[3];

			if (argc != 6)
				return cl_usage(cl, "feature");
			for (i = 0; i < 3; i++)
				if ((r = cl_num_arg(cl, i == 0 ? "address" :
				    i == 1 ? "size" : "page size", argv[3 + i],
				    &rep[i])) != 0)
					return r;
			for (i = 0; i < 3; i++)
				vx_store(data + 8 * i, 8, rep[i], 0);
			n = 24;
			if (rep[2] == 0 || rep[1] / rep[2] > ((uint64_t)1 << 32))
				return cl_err(cl, VX_EXIT_USAGE, "invalid page "
				    "size %s for %s bytes: the bitmap would be "
				    "empty or too large", argv[5], argv[4]);
			/* room for the bitmap: one bit a page, u64 words */
			argsz = 8 + 24 + ((rep[1] + rep[2] - 1) / rep[2] + 63) /
			    64 * 8;
		} else if (argc != 3) {
			return cl_usage(cl, "feature");
		}
	} else if (strcmp(sub, "set") == 0) {
		flags |= VX_FEATURE_SET;
		if (id == VX_FEAT_MIG_DEVICE_STATE) {
			if (argc != 4)
				return cl_usage(cl, "feature");
			if (vx_tok_value(vx_names_mig_state, argv[3], &v) < 0 &&
			    vx_parse_u64(argv[3], &v) < 0)
				return cl_err(cl, VX_EXIT_USAGE, "invalid "
				    "migration state '%s': want STOP, RUNNING, "
				    "STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, "
				    "PRE_COPY_P2P", argv[3]);
			vx_store(data, 4, v, 0);
			vx_store(data + 4, 4, 0, 0);
			n = 8;
		} else if (id == VX_FEAT_DMA_LOGGING_START) {
			int nr = (argc - 4) / 2;

			if (argc < 4 || (argc - 4) % 2 || nr > 32)
				return cl_usage(cl, "feature");
			if ((r = cl_num_arg(cl, "page size", argv[3], &v)) != 0)
				return r;
			vx_store(data, 8, v, 0);
			vx_store(data + 8, 4, (uint64_t)nr, 0);
			vx_store(data + 12, 4, 0, 0);
			n = 16;
			for (i = 0; i < nr; i++) {
				if ((r = cl_num_arg(cl, "address", argv[4 + 2 * i],
				    &a)) != 0 || (r = cl_num_arg(cl, "size",
				    argv[5 + 2 * i], &v)) != 0)
					return r;
				vx_store(data + n, 8, a, 0);
				vx_store(data + n + 8, 8, v, 0);
				n += 16;
			}
		} else if (argc != 3) {
			return cl_usage(cl, "feature");
		}
	} else {
		return cl_usage(cl, "feature");
	}
	if (id == VX_FEAT_MIGRATION || id == VX_FEAT_MIG_DEVICE_STATE)
		argsz = 16;
	else if (flags & VX_FEATURE_SET)
		argsz = 8 + n;
	if ((r = feature_call(cl, flags, data, n, argsz, &m)) != 0)
		return r;
	if (m.flags & VX_F_ERROR)
		return cl_reply_err(cl, &m, "DEVICE_FEATURE");
	if (cl->json) {
		json_object_set_new(J, "feature", json_integer((int)id));
		if (vx_msg_get(&m, VXF_MIG_STATE, &v) == 0) {
			const char *s = vx_tok_name(vx_names_mig_state, v);

			json_object_set_new(J, "device_state",
			    json_string(s != NULL ? s : "unknown"));
		}
		if (vx_msg_get(&m, VXF_MIG_FLAGS, &v) == 0)
			json_object_set_new(J, "migration_flags",
			    json_integer((json_int_t)v));
		json_object_set_new(J, "reply", (json_t *)vx_msg_json(&m));
		return 0;
	}
	if (vx_msg_get(&m, VXF_MIG_STATE, &v) == 0) {
		const char *s = vx_tok_name(vx_names_mig_state, v);

		printf("device_state %s\n", s != NULL ? s : "unknown");
	} else if (vx_msg_get(&m, VXF_MIG_FLAGS, &v) == 0) {
		printf("migration flags 0x%llx%s%s%s\n", (unsigned long long)v,
		    v & VX_MIGRATION_STOP_COPY ? " stop_copy" : "",
		    v & VX_MIGRATION_P2P ? " p2p" : "",
		    v & VX_MIGRATION_PRE_COPY ? " pre_copy" : "");
	} else {
		const struct vx_item *it = vx_msg_item(&m, VXF_LOG_BITMAP);

		if (it != NULL && it->len) {
			printf("dirty bitmap:\n");
			cl_hexdump(stdout, it->ptr, it->len, 0);
		} else {
			printf("ok\n");
		}
	}
	return 0;
}

/* mig read SIZE | mig write HEXBYTES */
static int
c_mig(struct cl *cl, int argc, char **argv)
{
	struct vx_builder b;
	struct vx_msg m;
	uint8_t *p = NULL;
	size_t n = 0;
	uint64_t size = 0;
	int r, rd;

	if (argc != 3 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")))
		return cl_usage(cl, "mig");
	rd = argv[1][0] == 'r';
	if (rd && (r = cl_num_arg(cl, "size", argv[2], &size)) != 0)
		return r;
	if (rd && size > UINT32_MAX)
		return cl_err(cl, VX_EXIT_USAGE, "size %s is above 4 GiB",
		    argv[2]);
	if (!rd && (r = cl_hex_arg(cl, argv[2], &p, &n)) != 0)
		return r;
	vx_builder_init(&b);
	vx_build_header(&b, 0, rd ? VX_CMD_MIG_DATA_READ :
	    VX_CMD_MIG_DATA_WRITE, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, rd ? 8 + size : 8 + n);
	vx_build_uint(&b, VXF_MIGD_SIZE, rd ? size : n);
	if (!rd)
		vx_build_bytes(&b, VXF_MIGD_DATA, p, n);
	r = vx_client_call_built(&cl->c, &b, NULL, 0, &m);
	vx_builder_release(&b);
	free(p);
	if (r < 0)
		return conn_err(cl);
	if (m.flags & VX_F_ERROR)
		return cl_reply_err(cl, &m, rd ? "MIG_DATA_READ" : "MIG_DATA_WRITE");
	if (rd) {
		const struct vx_item *it = vx_msg_item(&m, VXF_MIGD_DATA);
		size_t got = it != NULL ? it->len : 0;

		if (cl->json)
			jset_hex(cl, "data", got ? it->ptr : (const uint8_t *)"",
			    got);
		else if (got)
			cl_hexdump(stdout, it->ptr, got, 0);
		else
			printf("no migration data\n");
	} else if (!cl->json) {
		printf("wrote %zu bytes of migration data\n", n);
	}
	return 0;
}

/* --- help and the table ------------------------------------------------- */

static int
c_quit(struct cl *cl, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cl_usage(cl, argv[0]);
	cl->quit = 1;
	return 0;
}

static int
c_help(struct cl *cl, int argc, char **argv)
{
	const struct cl_cmd *c;

	if (argc > 2)
		return cl_usage(cl, "help");
	if (argc == 2) {
		if ((c = cl_find(argv[1])) == NULL)
			return cl_err(cl, VX_EXIT_USAGE, "unknown command '%s'; "
			    "'help' lists them", argv[1]);
		if (cl->json)
			json_object_set_new(J, "commands", json_pack(
			    "[{s:s,s:s,s:s}]", "name", c->name, "args",
			    c->args, "help", c->help));
		else
			printf("%s %s\n    %s\n", c->name, c->args, c->help);
		return 0;
	}
	if (cl->json) {
		json_t *arr = json_array();

		for (c = cl_cmds; c->name != NULL; c++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
			    "name", c->name, "args", c->args, "help", c->help));
		json_object_set_new(J, "commands", arr);
		return 0;
	}
	for (c = cl_cmds; c->name != NULL; c++)
		printf("  %-9s %-38s %s\n", c->name, c->args, c->help);
	return 0;
}

#define A(a, b, c, d)	{ CL_A_##a, CL_A_##b, CL_A_##c, CL_A_##d }

const struct cl_cmd cl_cmds[] = {
	{ "config", cl_c_config, "[-x]",
	  "PCI config space decoded like lspci -vv (-x: hex dump)",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "dma", cl_c_dma, "map [--no-fd] ADDR SIZE [rw|r|w] | unmap ADDR SIZE|all"
	  " | list | dump ADDR LEN | fill ADDR LEN BYTE",
	  "DMA windows backed by this client's memory",
	  A(SUB, NONE, NONE, NONE), "map unmap list dump fill" },
	{ "exit", c_quit, "", "end the session", A(NONE, NONE, NONE, NONE),
	  NULL },
	{ "expect", cl_c_expect, "[-w WIDTH] REGION OFFSET VALUE [MASK]",
	  "fail unless (value & MASK) == (VALUE & MASK)",
	  A(REGION, NONE, NONE, NONE), NULL },
	{ "feature", c_feature, "probe|get|set FEATURE [ARGS...]",
	  "DEVICE_FEATURE: migration, mig-state STATE, dirty-start/stop/report",
	  A(SUB, FEATURE, NONE, NONE), "probe get set" },
	{ "help", c_help, "[COMMAND]", "list commands or show one",
	  A(HELP, NONE, NONE, NONE), NULL },
	{ "info", cl_c_info, "", "DEVICE_GET_INFO: flags, regions, irqs",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "irq", c_irq, "enable|trigger|mask|unmask INDEX START COUNT | "
	  "disable INDEX", "interrupts through eventfds (INTx is automasked: "
	  "unmask it)", A(SUB, IRQ, NONE, NONE),
	  "enable disable trigger mask unmask" },
	{ "irqs", cl_c_irqs, "", "every IRQ index: count and flags",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "mig", c_mig, "read SIZE | write HEXBYTES",
	  "MIG_DATA_READ / MIG_DATA_WRITE", A(SUB, NONE, NONE, NONE),
	  "read write" },
	{ "peek", cl_c_peek, "REGION OFFSET [1|2|4|8]", "read one value",
	  A(REGION, NONE, WIDTH, NONE), NULL },
	{ "poke", cl_c_poke, "[--posted] REGION OFFSET VALUE [1|2|4|8]",
	  "write one value (--posted: no reply, as QEMU does)",
	  A(REGION, NONE, NONE, WIDTH), NULL },
	{ "poll", cl_c_poll, "[-w WIDTH] REGION OFFSET MASK VALUE TIMEOUT",
	  "read until (value & MASK) == VALUE, fail after TIMEOUT ms",
	  A(REGION, NONE, NONE, NONE), NULL },
	{ "quit", c_quit, "", "end the session (also 'exit', Ctrl-D)",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "raw", cl_c_raw, "[--posted] CMD [HEXPAYLOAD]",
	  "send a hand-built message, show the decoded reply",
	  A(CMD, NONE, NONE, NONE), NULL },
	{ "read", cl_c_read, "REGION OFFSET LEN", "hex dump of a region range",
	  A(REGION, NONE, NONE, NONE), NULL },
	{ "regions", cl_c_regions, "", "every region: size, flags, areas, caps",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "reset", cl_c_reset, "", "DEVICE_RESET", A(NONE, NONE, NONE, NONE),
	  NULL },
	{ "version", cl_c_version, "", "what VERSION negotiated",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "wait-irq", c_wait_irq, "[TIMEOUT]",
	  "wait for an enabled interrupt (default 1000 ms)",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "write", cl_c_write, "[--posted] REGION OFFSET HEXBYTES",
	  "write bytes", A(REGION, NONE, NONE, NONE), NULL },
	{ NULL, NULL, NULL, NULL, A(NONE, NONE, NONE, NONE), NULL },
};

const struct cl_cmd *
cl_find(const char *name)
{
	const struct cl_cmd *c;

	for (c = cl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
cl_exec(struct cl *cl, int argc, char **argv)
{
	const struct cl_cmd *c = cl_find(argv[0]);
	json_t *o;
	int r;

	if (cl->json) {
		cl->out = json_object();
		json_object_set_new(J, "command", json_string(argv[0]));
	}
	if (c == NULL)
		r = cl_err(cl, VX_EXIT_USAGE, "unknown command '%s'; 'help' "
		    "lists them", argv[0]);
	else
		r = c->fn(cl, argc, argv);
	cl_print_reset(cl);
	if (cl->json) {
		o = J;
		json_object_set_new(o, "ok", json_boolean(r == 0));
		vx_json_print(stdout, o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		cl->out = NULL;
	}
	fflush(stdout);
	return r;
}

/* --- scripts ------------------------------------------------------------ */

#define CL_MAX_ARGS	64

/*
 * Split s into words at blanks, with '...' and "..." quoting, written to o
 * (room for 2 * strlen(s) + 2); stops at an unquoted ';', '#' or the end
 * (*end points there).  Returns the word count, or -1 for an unterminated
 * quote.
 */
static int
split(const char *s, char *o, char **argv, const char **end)
{
	int argc = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0' || *s == ';' || *s == '#')
			break;
		if (argc < CL_MAX_ARGS)
			argv[argc] = o;
		argc++;
		while (*s != '\0' && strchr(" \t\r\n;#", *s) == NULL) {
			if (*s == '\'' || *s == '"') {
				char q = *s++;

				while (*s != '\0' && *s != q)
					*o++ = *s++;
				if (*s == '\0')
					return -1;
				s++;
			} else {
				*o++ = *s++;
			}
		}
		*o++ = '\0';
	}
	*end = s;
	return argc;
}

int
cl_run_line(struct cl *cl, const char *line, int stop)
{
	char *buf = malloc(2 * strlen(line) + 2);
	char *argv[CL_MAX_ARGS + 1];
	const char *s, *end;
	int argc, r, rc = 0;

	if (buf == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	for (s = line;;) {
		argc = split(s, buf, argv, &end);
		if (argc < 0) {
			rc = cl_err(cl, VX_EXIT_USAGE, "unterminated quote");
			break;
		}
		if (argc > CL_MAX_ARGS - 1) {
			rc = cl_err(cl, VX_EXIT_USAGE, "too many words in one "
			    "command (%d at most)", CL_MAX_ARGS - 1);
			break;
		}
		argv[argc] = NULL;
		if (argc > 0) {
			r = cl_exec(cl, argc, argv);
			if (r != 0 && rc == 0)
				rc = r;
			if (r != 0 && stop)
				break;
			if (cl->quit)
				break;
		}
		if (*end == ';') {
			s = end + 1;
			if (cl->src != NULL && strcmp(cl->src, "-c") == 0)
				cl->line++;
			continue;
		}
		break;	/* '\0' or '#' ends the line */
	}
	free(buf);
	return rc;
}

/* --- connection --------------------------------------------------------- */

int
cl_open(struct cl *cl, const char *path, const struct vx_client_opts *o)
{
	cl->path = path;
	if (vx_client_open(&cl->c, path, o) < 0) {
		fflush(stdout);
		fprintf(stderr, "vfuctl %s: %s\n", cl->cmdname, cl->c.errmsg);
		if (strstr(cl->c.errmsg, "cannot connect") != NULL)
			fprintf(stderr, "vfuctl %s: is a vfio-user server "
			    "listening there? (vfuctl server --socket-path "
			    "%s ...)\n", cl->cmdname, path);
		return VX_EXIT_FAIL;
	}
	return 0;
}

void
cl_close(struct cl *cl)
{
	close_irqfds(cl, 0, 1);
	vx_client_close(&cl->c);
	free(cl->regs);
	cl->regs = NULL;
}
