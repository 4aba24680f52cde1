/*
 * vfuctl.c - the vfuctl command: subcommand table and dispatch.
 *
 * Checklist for a new subcommand NAME (git's builtin.h has the original):
 *
 *  1. cli/cmd-NAME.c exporting "int cmd_NAME(int argc, char **argv)" and
 *     "const char cmd_NAME_usage[]" (first line "usage: vfuctl NAME ...");
 *     it handles -h/--help by printing the usage to stdout and returning 0.
 *     The Makefile picks up every .c file in cli/ by itself.
 *  2. Declarations in cli/cli.h, and one line in commands[] below (keep it
 *     sorted; aliases are extra lines pointing at the same function).
 *  3. man/vfuctl-NAME.1, its SYNOPSIS matching the usage text, and a line in
 *     the subcommand list of man/vfuctl.1.
 *  4. Options in completions/vfuctl.bash (names come from --list-commands).
 *  5. tests/NAME.bats (tests/cli.bats already checks -h, --help and the man
 *     page of every command in the table).
 *  6. A line in README.md's subcommand list.
 *
 * Lookup is an exact strcmp: no unique-prefix matching (iproute2 regretted
 * it), so adding a command can never change what an old command line means.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef VFUCTL_VERSION
#define VFUCTL_VERSION "unknown"
#endif

/* Flags: what a subcommand needs; informational for now. */
#define CMD_READS_INPUT		0x1	/* reads captures, vectors or stdin */
#define CMD_NEEDS_SOCKET	0x2	/* talks to a vfio-user peer */
#define CMD_HIDDEN		0x4	/* not listed by --help (aliases) */

struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	unsigned flags;
	const char *summary;	/* one line for "vfuctl --help" */
};

static const struct cmd_entry commands[] = {
	{ "client", cmd_client, cmd_client_usage, CMD_NEEDS_SOCKET,
	  "talk to a vfio-user server: prompt, scripts, DMA, interrupts" },
	{ "config", cmd_config, cmd_config_usage, CMD_NEEDS_SOCKET,
	  "decode a device's PCI config space like lspci -vv" },
	{ "decode", cmd_decode, cmd_decode_usage, CMD_READS_INPUT,
	  "decode recorded vfio-user messages as text or JSON" },
	{ "dissect", cmd_dissect, cmd_dissect_usage, CMD_READS_INPUT,
	  "print a trace's messages and events like tshark, with filters" },
	{ "fuzz", cmd_fuzz, cmd_fuzz_usage, CMD_NEEDS_SOCKET,
	  "fuzz a device server with mutated message sequences" },
	{ "import", cmd_import, cmd_import_usage, CMD_READS_INPUT,
	  "build a pcap trace from JSON lines (vectors or trace records)" },
	{ "info", cmd_info, cmd_info_usage, CMD_NEEDS_SOCKET,
	  "print a device's flags, number of regions and IRQs" },
	{ "irqs", cmd_irqs, cmd_irqs_usage, CMD_NEEDS_SOCKET,
	  "list a device's IRQ indexes" },
	{ "peek", cmd_peek, cmd_peek_usage, CMD_NEEDS_SOCKET,
	  "read one value from a device region" },
	{ "poke", cmd_poke, cmd_poke_usage, CMD_NEEDS_SOCKET,
	  "write one value to a device region" },
	{ "record", cmd_record, cmd_record_usage, CMD_NEEDS_SOCKET,
	  "relay vfio-user connections and record them as a trace" },
	{ "regions", cmd_regions, cmd_regions_usage, CMD_NEEDS_SOCKET,
	  "list a device's regions" },
	{ "replay", cmd_replay, cmd_replay_usage, CMD_READS_INPUT | CMD_NEEDS_SOCKET,
	  "play a trace's client side to a live server; report divergences" },
	{ "schema", cmd_schema, cmd_schema_usage, 0,
	  "print the decoded-message schema as JSON or Lua" },
	{ "server", cmd_server, cmd_server_usage, CMD_NEEDS_SOCKET,
	  "serve a PCI device, or a trace's server side, to clients" },
	{ "stats", cmd_stats, cmd_stats_usage, CMD_READS_INPUT,
	  "per-command counts, latencies, busiest registers of a trace" },
	{ "verify", cmd_verify, cmd_verify_usage, CMD_READS_INPUT,
	  "check a trace's digest chain: intact, truncated or altered" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct cmd_entry *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_usage(FILE *f)
{
	size_t i;

	fputs("usage: vfuctl [--version] [--help] COMMAND [ARGS...]\n"
	    "       vfuctl help [COMMAND]\n"
	    "\n"
	    "vfio-user protocol toolkit: decode and inspect vfio-user sessions.\n"
	    "\n"
	    "commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].flags & CMD_HIDDEN)
			continue;
		fprintf(f, "   %-10s %s\n", commands[i].name,
		    commands[i].summary);
	}
	fputs("\n"
	    "Run 'vfuctl COMMAND --help' for a command's options;"
	    " see vfuctl(1).\n", f);
}

static void
print_command_usage(const struct cmd_entry *c)
{
	size_t n = strlen(c->usage);

	fputs(c->usage, stdout);
	if (n == 0 || c->usage[n - 1] != '\n')
		fputc('\n', stdout);
}

/* "vfuctl help [COMMAND]" */
static int
do_help(int argc, char **argv)
{
	const struct cmd_entry *c;

	if (argc < 2) {
		print_usage(stdout);
		return VX_EXIT_OK;
	}
	if (argc > 2)
		vx_usage_error("help", "too many arguments '%s'", argv[2]);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		print_usage(stdout);
		return VX_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (c == NULL)
		vx_usage_error(NULL, "unknown command '%s'", argv[1]);
	print_command_usage(c);
	return VX_EXIT_OK;
}

/* Flush stdout and report a failed write (disk full, closed pipe). */
static int
finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return rc;
		vx_error("write error on standard output: %s", strerror(errno));
		return VX_EXIT_FAIL;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *c;
	const char *name;
	size_t i;
	int rc;

	if (argc < 2) {
		print_usage(stderr);
		return VX_EXIT_USAGE;
	}
	name = argv[1];

	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_usage(stdout);
		return finish_stdout(VX_EXIT_OK);
	}
	if (strcmp(name, "--version") == 0) {
		printf("vfuctl %s\n", VFUCTL_VERSION);
		return finish_stdout(VX_EXIT_OK);
	}
	if (strcmp(name, "--list-commands") == 0) {
		/* Hidden: for completions and tests, one name per line. */
		for (i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i].name);
		return finish_stdout(VX_EXIT_OK);
	}
	if (strcmp(name, "help") == 0)
		return finish_stdout(do_help(argc - 1, argv + 1));
	if (name[0] == '-')
		vx_usage_error(NULL, "unknown option '%s'", name);

	c = find_command(name);
	if (c == NULL)
		vx_usage_error(NULL, "unknown command '%s'", name);

	/* The subcommand sees argv[0] == its own name, as git builtins do. */
	rc = c->fn(argc - 1, argv + 1);
	if (rc < 0)
		rc = VX_EXIT_FAIL;
	return finish_stdout(rc);
}
