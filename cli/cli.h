/*
 * cli.h - helpers shared by the vfuctl subcommands.
 *
 * Exit codes are the same for every subcommand:
 *
 *	0  success
 *	1  failure, or a divergence/malformed message was found
 *	2  usage or input error (bad option, bad argument, unreadable input)
 *
 * Messages follow one wording rule: lowercase, no trailing period, the error
 * named first, the subject quoted ("invalid byte order 'xe'").  Everything
 * goes to stderr; stdout is kept for the subcommand's real output.
 *
 * Adding a subcommand: see the checklist at the top of cli/vfuctl.c.
 */
#ifndef VFUCTL_CLI_H
#define VFUCTL_CLI_H

#include <stdint.h>

#define VX_EXIT_OK	0	/* success */
#define VX_EXIT_FAIL	1	/* failure or divergence found */
#define VX_EXIT_USAGE	2	/* usage or input error */

#if defined(__GNUC__)
#define VX_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define VX_NORETURN	__attribute__((noreturn))
#else
#define VX_PRINTF(f, a)
#define VX_NORETURN
#endif

/* Print "vfuctl: MESSAGE" to stderr and exit with VX_EXIT_FAIL. */
void vx_fatal(const char *fmt, ...) VX_PRINTF(1, 2) VX_NORETURN;

/*
 * Print "vfuctl: MESSAGE" to stderr and return -1, so that callers can write
 * "return vx_error(...);".
 */
int vx_error(const char *fmt, ...) VX_PRINTF(1, 2);

/*
 * Print "vfuctl CMD: MESSAGE" and "try 'vfuctl CMD --help'" to stderr and
 * exit with VX_EXIT_USAGE.  CMD may be NULL for the top level.
 */
void vx_usage_error(const char *cmd, const char *fmt, ...)
	VX_PRINTF(2, 3) VX_NORETURN;

/*
 * Argument errors with fixed wording; all go through vx_usage_error() and so
 * exit with VX_EXIT_USAGE.  WHAT names the option or operand ("--peer",
 * "byte order"), ARG is what the user typed.
 *
 *	vx_invarg:  "invalid WHAT 'ARG'"
 *	vx_missarg: "missing WHAT"
 *	vx_duparg:  "duplicate WHAT 'ARG'"
 */
void vx_invarg(const char *cmd, const char *what, const char *arg) VX_NORETURN;
void vx_missarg(const char *cmd, const char *what) VX_NORETURN;
void vx_duparg(const char *cmd, const char *what, const char *arg) VX_NORETURN;

/*
 * Parse an unsigned 64-bit number, decimal or 0x/0X hexadecimal, the whole
 * string and nothing else (no sign, no spaces, no trailing junk, no
 * overflow).  Returns 0 and sets *OUT, or -1 and leaves *OUT untouched.
 */
int vx_parse_u64(const char *s, uint64_t *out);

/*
 * True if ARGV[1..ARGC-1] holds "-h" or "--help" before any "--".  Lets a
 * subcommand print its usage before parsing anything else.
 */
int vx_want_help(int argc, char **argv);

/*
 * strerror(err) for a trace that cannot be created, but a symbolic link
 * at the path (ELOOP from vx_trace_create()) says what to do about it.
 */
const char *vx_create_strerror(int err);

/*
 * Read a trace key file (--key) into key[VX_TRACE_KEY_MAX]: its length, or
 * -1 after saying why ("cannot read key file", "invalid key file").
 */
int vx_load_key(const char *path, uint8_t *key);

struct vx_peer_policy;

/*
 * Add an --allow-uid ARG (a number or user name) of subcommand CMD to P,
 * or exit with a usage error (too many, or no such user).
 */
void vx_allow_uid(const char *cmd, struct vx_peer_policy *p, const char *arg);

/*
 * Subcommands.  Each lives in cli/cmd-NAME.c and exports its entry point and
 * its usage text; the usage text starts "usage: vfuctl NAME" and mirrors the
 * SYNOPSIS of man/vfuctl-NAME.1.  "vfuctl NAME --help" prints it to stdout
 * and exits 0.
 */
int cmd_decode(int argc, char **argv);
extern const char cmd_decode_usage[];

int cmd_schema(int argc, char **argv);
extern const char cmd_schema_usage[];

int cmd_server(int argc, char **argv);
extern const char cmd_server_usage[];

int cmd_dissect(int argc, char **argv);
extern const char cmd_dissect_usage[];

int cmd_stats(int argc, char **argv);
extern const char cmd_stats_usage[];

int cmd_import(int argc, char **argv);
extern const char cmd_import_usage[];

int cmd_record(int argc, char **argv);
extern const char cmd_record_usage[];

int cmd_fuzz(int argc, char **argv);
extern const char cmd_fuzz_usage[];

int cmd_replay(int argc, char **argv);
extern const char cmd_replay_usage[];

int cmd_verify(int argc, char **argv);
extern const char cmd_verify_usage[];

/* cmd-client.c: the client and its one-shots */
int cmd_client(int argc, char **argv);
extern const char cmd_client_usage[];
int cmd_config(int argc, char **argv);
extern const char cmd_config_usage[];
int cmd_info(int argc, char **argv);
extern const char cmd_info_usage[];
int cmd_irqs(int argc, char **argv);
extern const char cmd_irqs_usage[];
int cmd_peek(int argc, char **argv);
extern const char cmd_peek_usage[];
int cmd_poke(int argc, char **argv);
extern const char cmd_poke_usage[];
int cmd_regions(int argc, char **argv);
extern const char cmd_regions_usage[];

/*
 * A server command line (replay, fuzz) with the socket path in it:
 * "{socket}" replaced, else "--socket-path SOCK" appended, as the spec's
 * backend convention says.  calloc'd, NULL-ended; free() it (the strings
 * are cmd's and sock).  NULL when out of memory.
 */
char **vx_server_argv(char **cmd, const char *sock);

#endif /* VFUCTL_CLI_H */
