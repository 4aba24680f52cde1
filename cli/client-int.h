/*
 * client-int.h - the pieces of `vfuctl client` and its one-shots: the
 * interpreter, shared argument helpers and the command table
 * (client-cmds.c), the commands by subject (client-device.c, -region.c,
 * -dma.c, -irq.c, -mig.c, -raw.c; config in client-pci.c with the PCI
 * config-space decoder), the one print path (client-print.c), the
 * readline REPL (client-repl.c) and the entry points (cmd-client.c).
 * The protocol is lib's: each command parses its arguments, makes typed
 * calls (vx-client.h) and prints the result once, as text or JSON.
 *
 * Every client command returns an exit code (VX_EXIT_OK, VX_EXIT_FAIL for
 * a failure or a mismatch, VX_EXIT_USAGE for a bad argument) and reports
 * its own errors through cl_err(), which names where the command came from
 * ("-c command 2", "FILE:3").
 */
#ifndef VFUCTL_CLI_CLIENT_INT_H
#define VFUCTL_CLI_CLIENT_INT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "vx-client.h"

#define CL_MAX_IRQFDS	256

struct cl_region {
	int known;		/* region info was fetched */
	uint32_t flags;		/* VX_REGION_* */
	uint64_t size;
};

struct cl_irqfd {
	uint32_t index, vector;
	int fd;
};

#define CL_JSON_DEPTH	8

struct cl_jopen {
	void *v;		/* json_t array or object, not yet attached */
	const char *key;	/* its key in the parent object */
};

struct cl {
	struct vx_client *c;	/* NULL until cl_open() */
	const char *path;
	const char *cmdname;	/* "client", "peek", ...: for messages */
	int json;		/* print one JSON object per command */
	int no_fd;		/* dma map without a memfd by default */
	int interactive;	/* REPL: errors do not end the session */
	int quit;		/* 'quit' ran */

	/* where the running command came from, for messages */
	const char *src;
	unsigned line;

	int have_info;
	uint32_t dev_flags, nregions, nirqs;
	struct cl_region *regs;

	struct cl_irqfd irqfds[CL_MAX_IRQFDS];
	int nirqfds;

	void *out;		/* json_t object of the running command */
	struct cl_jopen jstack[CL_JSON_DEPTH];	/* open arrays, objects */
	int jdepth;
};

/*
 * Set by SIGINT at the prompt: poll and wait-irq give up, the line clears.
 * The handler also writes a byte to cl_sigfd's pipe (-1 when there is
 * none), so that a wait that polls it wakes up whenever the signal came.
 */
extern volatile sig_atomic_t cl_interrupted;
extern int cl_sigfd;

/* Connect and negotiate; prints the error and returns VX_EXIT_FAIL. */
int cl_open(struct cl *cl, const char *path, const struct vx_client_opts *o);
void cl_close(struct cl *cl);

/* Run one command (argv[0] is its name). */
int cl_exec(struct cl *cl, int argc, char **argv);

/*
 * Run a line of commands separated by ';' ('#' starts a comment; '...'
 * and "..." quote).  With stop, the first failing command ends the line.
 * Returns the first failure's exit code, else 0.
 */
int cl_run_line(struct cl *cl, const char *line, int stop);

/* Report an error of the running command (stderr, and into --json). */
int cl_err(struct cl *cl, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- helpers of the commands (client-cmds.c) ---------------------------- */

/* "usage: NAME ARGS" of the command table; VX_EXIT_USAGE. */
int cl_usage(struct cl *cl, const char *name);
/* A lib call failed with r: its sentence (and errno in JSON). */
int cl_call_err(struct cl *cl, int r);
/* DEVICE_GET_INFO once per session (again after have_info = 0). */
int cl_ensure_info(struct cl *cl);
/* Region idx exists and its info is known (fetched once). */
int cl_ensure_region(struct cl *cl, uint32_t idx);
/* DEVICE_GET_REGION_INFO of idx, remembered in cl->regs. */
int cl_region_info(struct cl *cl, uint32_t idx, struct vx_region_info *ri);
/* "bar0", "config", ...; four calls' worth of names stay valid. */
const char *cl_rname(uint32_t idx);
/* "INTx", "MSI-X", ... or "irq N" in buf. */
const char *cl_irq_name(uint32_t i, char *buf, size_t n);

/* Arguments: each reports its own usage error (VX_EXIT_USAGE). */
int cl_num_arg(struct cl *cl, const char *what, const char *s, uint64_t *v);
int cl_width_arg(struct cl *cl, const char *s, unsigned *w);
/* "500", "500ms", "2s": milliseconds. */
int cl_ms_arg(struct cl *cl, const char *s, int *ms);
/* Hex bytes ("0a0b", "0a:0b", "0x0a0b"); *out malloc'ed. */
int cl_hex_arg(struct cl *cl, const char *s, uint8_t **out, size_t *n);
/* REGION: a name (bar0..bar5, rom, config, vga) or an index; its info
 * fetched. */
int cl_region_arg(struct cl *cl, const char *s, uint32_t *idx);
/* Read or write [off, off+len) of region idx, checked against its info. */
int cl_region_io(struct cl *cl, uint32_t idx, uint64_t off, uint8_t *buf,
    size_t len, int write, int posted);
int64_t cl_mono_ms(void);
/* Leading --posted; returns how many arguments it took. */
int cl_posted_opt(int argc, char **argv, int *posted);

/* --- the commands, by subject ------------------------------------------- */

/* client-device.c */
int cl_c_version(struct cl *cl, int argc, char **argv);
int cl_c_info(struct cl *cl, int argc, char **argv);
int cl_c_regions(struct cl *cl, int argc, char **argv);
int cl_c_irqs(struct cl *cl, int argc, char **argv);
int cl_c_reset(struct cl *cl, int argc, char **argv);

/* client-raw.c */
int cl_c_raw(struct cl *cl, int argc, char **argv);

/* client-pci.c */
int cl_c_config(struct cl *cl, int argc, char **argv);

/* client-dma.c */
int cl_c_dma(struct cl *cl, int argc, char **argv);

/* client-irq.c */
int cl_c_irq(struct cl *cl, int argc, char **argv);
int cl_c_wait_irq(struct cl *cl, int argc, char **argv);
/* Close the eventfds of IRQ index idx (all: of every index). */
void cl_close_irqfds(struct cl *cl, uint32_t idx, int all);

/* client-mig.c */
int cl_c_feature(struct cl *cl, int argc, char **argv);
int cl_c_mig(struct cl *cl, int argc, char **argv);

/* client-region.c */
int cl_c_peek(struct cl *cl, int argc, char **argv);
int cl_c_read(struct cl *cl, int argc, char **argv);
int cl_c_poke(struct cl *cl, int argc, char **argv);
int cl_c_write(struct cl *cl, int argc, char **argv);
int cl_c_expect(struct cl *cl, int argc, char **argv);
int cl_c_poll(struct cl *cl, int argc, char **argv);

/* --- command table, for help and completion ---------------------------- */

enum cl_arg {
	CL_A_NONE, CL_A_REGION, CL_A_WIDTH, CL_A_SUB, CL_A_IRQ, CL_A_CMD,
	CL_A_HELP, CL_A_FEATURE,
};

struct cl_cmd {
	const char *name;
	int (*fn)(struct cl *, int, char **);
	const char *args;	/* synopsis of the arguments */
	const char *help;	/* one line */
	uint8_t argk[4];	/* what each argument position completes to */
	const char *subs;	/* CL_A_SUB words, space separated */
};

extern const struct cl_cmd cl_cmds[];
const struct cl_cmd *cl_find(const char *name);
/* Region names that exist (cl->regs) for completion, i-th or NULL. */
const char *cl_region_word(struct cl *cl, unsigned i);

/* --- PCI config space (client-pci.c) ----------------------------------- */

/*
 * Print cfg (len bytes: 64, 256 or 4096) the way `lspci -vv` does, each
 * line prefixed with indent.  Returns 0.
 */
void cl_pci_print(FILE *fp, const uint8_t *cfg, size_t len);
/* The same as a jansson object. */
void *cl_pci_json(const uint8_t *cfg, size_t len);
/* A dump in `lspci -x`/`-xxxx` format, which `lspci -F` reads. */
void cl_pci_dump(FILE *fp, const uint8_t *cfg, size_t len);
/* Read such a dump (first device only); returns bytes read or -1. */
long cl_pci_load(FILE *fp, uint8_t *cfg, size_t cap);

/* --- one print path (client-print.c) ----------------------------------- */

/*
 * Each call writes the text form (printf of fmt with the value; a bool
 * prints fmt only when true) or, in --json mode, the value under key in
 * the innermost open object or array.  PRINT_TEXT or PRINT_JSON: that
 * form only; a NULL fmt prints no text.
 */
enum { PRINT_TEXT = 1, PRINT_JSON = 2, PRINT_ANY = 3 };

void cl_print_uint(struct cl *cl, int type, const char *key, const char *fmt,
    unsigned long long v);
void cl_print_string(struct cl *cl, int type, const char *key,
    const char *fmt, const char *s);
void cl_print_bool(struct cl *cl, int type, const char *key, const char *fmt,
    int v);
/* A json_t value (reference taken; NULL: null) under key; JSON only. */
void cl_print_json(struct cl *cl, const char *key, void *v);
/* n bytes as a hex string; JSON only. */
void cl_print_hex(struct cl *cl, const char *key, const uint8_t *p,
    size_t n);
/* Text only. */
void cl_printf(struct cl *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Arrays and objects (key ignored inside an array); attached at close. */
void cl_open_array(struct cl *cl, const char *key);
void cl_open_object(struct cl *cl, const char *key);
void cl_close_array(struct cl *cl);
void cl_close_object(struct cl *cl);
/* Drop arrays and objects left open (a command failed half-way). */
void cl_print_reset(struct cl *cl);

/* --- REPL (client-repl.c) ---------------------------------------------- */

int cl_repl(struct cl *cl);

/* --- helpers shared by the pieces -------------------------------------- */

/* "hexdump -C" style lines, offsets from base. */
void cl_hexdump(FILE *fp, const uint8_t *p, size_t n, uint64_t base);
/* Hex string of n bytes for JSON (caller frees). */
char *cl_hex(const uint8_t *p, size_t n);

#endif /* VFUCTL_CLI_CLIENT_INT_H */
