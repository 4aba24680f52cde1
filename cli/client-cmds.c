/*
 * client-cmds.c - the interpreter of `vfuctl client`: error reporting,
 * argument helpers, the device and region facts the commands share, the
 * command table, help, scripts and the connection.  The commands live in
 * client-<subject>.c.
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

/* One line of hexdump -C: offset, up to 16 bytes in hex, then as ASCII. */
static void
hexdump_line(FILE *fp, const uint8_t *p, size_t n, uint64_t off)
{
	size_t j;

	fprintf(fp, "%08llx  ", (unsigned long long)off);
	for (j = 0; j < 16; j++) {
		if (j < n)
			fprintf(fp, "%02x ", p[j]);
		else
			fputs("   ", fp);
		if (j == 7)
			fputc(' ', fp);
	}
	fputs(" |", fp);
	for (j = 0; j < n; j++)
		fputc(p[j] >= 0x20 && p[j] < 0x7f ? p[j] : '.', fp);
	fputs("|\n", fp);
}

/*
 * As hexdump -C: a whole line equal to the one before is shown as one
 * '*' however many follow, and a dump that ends so ends with its end
 * offset.
 */
void
cl_hexdump(FILE *fp, const uint8_t *p, size_t n, uint64_t base)
{
	size_t i;
	int starred = 0;

	for (i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;

		if (i > 0 && k == 16 && memcmp(p + i, p + i - 16, 16) == 0) {
			if (!starred)
				fputs("*\n", fp);
			starred = 1;
			continue;
		}
		starred = 0;
		hexdump_line(fp, p + i, k, base + i);
	}
	if (starred)
		fprintf(fp, "%08llx\n", (unsigned long long)(base + n));
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
	size_t cap = strlen(s) / 2 + 1;
	const char *bad;
	uint8_t *p;
	long k;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if ((p = malloc(cap)) == NULL)
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	if ((k = vx_hex_bytes(s, ":-_", p, cap, &bad)) < 0) {
		free(p);
		return cl_err(cl, VX_EXIT_USAGE, "invalid hex bytes "
		    "near '%.8s': want pairs of hex digits", bad);
	}
	*out = p;
	*n = (size_t)k;
	return 0;
}

/* --- device and region information --------------------------------------- */

/* A typed call failed: its sentence, and an error reply's errno in JSON. */
int
cl_call_err(struct cl *cl, int r)
{
	if (r == VX_ERR_REPLY && cl->out != NULL)
		json_object_set_new(J, "errno", json_integer(vx_client_reply_errno(cl->c)));
	return cl_err(cl, VX_EXIT_FAIL, "%s", vx_client_errmsg(cl->c));
}

int
cl_ensure_info(struct cl *cl)
{
	struct vx_device_info di;
	int r;

	if (cl->have_info)
		return 0;
	if ((r = vx_client_device_info(cl->c, &di)) < 0)
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

	if ((r = vx_client_region_info(cl->c, idx, ri)) < 0)
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
	r = write ? vx_client_region_write(cl->c, idx, off, buf, len, posted) :
	    vx_client_region_read(cl->c, idx, off, buf, len);
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

/* Where the help lines start in the list; a longer synopsis puts its
 * help line under it, in that column. */
#define HELP_COL	40

/* One command: "name args" and its help line (fmt, or NULL: the list's
 * columns), or a JSON object. */
static void
print_cmd(struct cl *cl, const struct cl_cmd *c, const char *fmt)
{
	int n;

	cl_open_object(cl, NULL);
	cl_print_string(cl, PRINT_JSON, "name", NULL, c->name);
	cl_print_string(cl, PRINT_JSON, "args", NULL, c->args);
	cl_print_string(cl, PRINT_JSON, "help", NULL, c->help);
	if (fmt != NULL) {
		cl_printf(cl, fmt, c->name, c->args, c->help);
	} else if (!cl->json) {
		n = printf("  %s%s%s", c->name, *c->args ? " " : "", c->args);
		if (n >= HELP_COL - 1)
			printf("\n%-*s%s\n", HELP_COL, "", c->help);
		else
			printf("%-*s%s\n", HELP_COL - n, "", c->help);
	}
	cl_close_object(cl);
}

static int
c_help(struct cl *cl, int argc, char **argv)
{
	const struct cl_cmd *c;

	if (argc > 2)
		return cl_usage(cl, "help");
	if (argc == 2 && (c = cl_find(argv[1])) == NULL)
		return cl_err(cl, VX_EXIT_USAGE, "unknown command '%s'; 'help' "
		    "lists them", argv[1]);
	cl_open_array(cl, "commands");
	if (argc == 2)
		print_cmd(cl, c, "%s %s\n    %s\n");
	else
		for (c = cl_cmds; c->name != NULL; c++)
			print_cmd(cl, c, NULL);
	cl_close_array(cl);
	return 0;
}

#define A(a, b, c, d)	{ CL_A_##a, CL_A_##b, CL_A_##c, CL_A_##d }

const struct cl_cmd cl_cmds[] = {
	{ "config", cl_c_config, "[-x] [-n|-nn]",
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
	{ "feature", cl_c_feature, "probe|get|set FEATURE [ARGS...]",
	  "DEVICE_FEATURE: migration, mig-state STATE, dirty-start/stop/report",
	  A(SUB, FEATURE, NONE, NONE), "probe get set" },
	{ "help", c_help, "[COMMAND]", "list commands or show one",
	  A(HELP, NONE, NONE, NONE), NULL },
	{ "info", cl_c_info, "", "DEVICE_GET_INFO: flags, regions, irqs",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "irq", cl_c_irq, "enable|trigger|mask|unmask INDEX START COUNT | "
	  "disable INDEX", "interrupts through eventfds (INTx is automasked: "
	  "unmask it)", A(SUB, IRQ, NONE, NONE),
	  "enable disable trigger mask unmask" },
	{ "irqs", cl_c_irqs, "", "every IRQ index: count and flags",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "mig", cl_c_mig, "read SIZE | write HEXBYTES | save FILE | load FILE",
	  "MIG_DATA_READ / MIG_DATA_WRITE; device state to a file and back",
	  A(SUB, NONE, NONE, NONE), "read write save load" },
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
	{ "reconnect", cl_c_reconnect, "", "connect again (the server "
	  "restarted): VERSION, discovery, DMA windows", A(NONE, NONE, NONE,
	  NONE), NULL },
	{ "reset", cl_c_reset, "", "DEVICE_RESET", A(NONE, NONE, NONE, NONE),
	  NULL },
	{ "version", cl_c_version, "", "what VERSION negotiated",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "wait-irq", cl_c_wait_irq, "[TIMEOUT]",
	  "wait for an enabled interrupt (default 1000 ms)",
	  A(NONE, NONE, NONE, NONE), NULL },
	{ "watch", cl_c_watch, "REGION OFFSET [1|2|4|8] [INTERVAL]",
	  "read every INTERVAL (100 ms), print each change, until Ctrl-C",
	  A(REGION, NONE, WIDTH, NONE), NULL },
	{ "write", cl_c_write, "[--posted] REGION OFFSET HEXBYTES",
	  "write bytes", A(REGION, NONE, NONE, NONE), NULL },
	{ "x", cl_c_examine, "[REGION OFFSET]", "x/NFU as gdb: N values, "
	  "format x d u o t c, unit b h w g; alone: on from the last",
	  A(REGION, NONE, NONE, NONE), NULL },
	{ NULL, NULL, NULL, NULL, A(NONE, NONE, NONE, NONE), NULL },
};

const struct cl_cmd *
cl_find(const char *name)
{
	const struct cl_cmd *c;

	if (strncmp(name, "x/", 2) == 0)
		name = "x";	/* gdb's x/NFU */
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
	static const struct vx_client_opts def = VX_CLIENT_OPTS_DEFAULT;

	cl->path = path;
	cl->opts = o != NULL ? *o : def;
	if (vx_client_open(&cl->c, path, o) < 0) {
		fflush(stdout);
		fprintf(stderr, "vfuctl %s: %s\n", cl->cmdname, vx_client_errmsg(cl->c));
		if (strstr(vx_client_errmsg(cl->c), "cannot connect") != NULL)
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
	cl_close_irqfds(cl, 0, 1);
	vx_client_close(cl->c);
	cl->c = NULL;
	free(cl->regs);
	cl->regs = NULL;
}

/* Map the DMA windows of old on n again, with their contents. */
static int
remap_windows(struct cl *cl, struct vx_client *old, struct vx_client *n)
{
	const struct vx_dma_win *w;
	struct vx_msg reply;
	unsigned i, nw;
	int r;

	w = vx_client_dma_windows(old, &nw);
	for (i = 0; i < nw; i++) {
		if ((r = vx_client_dma_map(n, w[i].addr, w[i].size, w[i].prot,
		    w[i].fd >= 0, &reply)) < 0)
			return cl_err(cl, VX_EXIT_FAIL, "mapping DMA window "
			    "0x%llx+0x%llx again: %s",
			    (unsigned long long)w[i].addr,
			    (unsigned long long)w[i].size, vx_client_errmsg(n));
		memcpy(vx_client_dma_ptr(n, w[i].addr, w[i].size), w[i].mem,
		    (size_t)w[i].size);
	}
	return 0;
}

/*
 * reconnect: a new connection to the same socket (the server restarted),
 * VERSION and discovery again; the session's own state stays (x's format
 * and place, the prompt's history, the DMA windows and their contents,
 * mapped again); IRQ eventfds went with the old server.
 */
int
cl_c_reconnect(struct cl *cl, int argc, char **argv)
{
	struct vx_client *n = NULL;
	unsigned nw;
	uint64_t major = 0, minor = 0;
	int r;

	if (argc != 1)
		return cl_usage(cl, argv[0]);
	if (vx_client_open(&n, cl->path, &cl->opts) < 0) {
		r = cl_err(cl, VX_EXIT_FAIL, "reconnecting: %s",
		    vx_client_errmsg(n));
		vx_client_close(n);
		return r;
	}
	r = remap_windows(cl, cl->c, n);
	vx_client_dma_windows(n, &nw);
	cl_close_irqfds(cl, 0, 1);
	vx_client_close(cl->c);
	cl->c = n;
	cl->gone = 0;
	cl->have_info = 0;	/* discovery again: the device may differ */
	if (r != 0 || (r = cl_ensure_info(cl)) != 0)
		return r;
	vx_session_version(vx_conn_session(vx_client_conn(n)), VX_S2C,
	    &major, &minor);
	cl_print_string(cl, PRINT_ANY, "socket", "reconnected to %s", cl->path);
	cl_printf(cl, " (vfio-user %llu.%llu): ", (unsigned long long)major,
	    (unsigned long long)minor);
	cl_print_uint(cl, PRINT_ANY, "regions", "%llu regions, ", cl->nregions);
	cl_print_uint(cl, PRINT_ANY, "irqs", "%llu IRQ indexes, ", cl->nirqs);
	cl_print_uint(cl, PRINT_ANY, "dma_windows", "%llu DMA windows mapped "
	    "again\n", nw);
	return 0;
}
