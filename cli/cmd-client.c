/*
 * cmd-client.c - vfuctl client (a vfio-user client with a REPL and
 * scripts) and the one-shots that run one of its commands: vfuctl info,
 * regions, irqs, config, peek, poke.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client-int.h"
#include "client-pci.h"
#include "vx-error.h"

#define CONN_OPTS_USAGE \
	"  --json             print one JSON object per command\n" \
	"  --timeout MS       wait this long for each reply (default 10000)\n" \
	"  --max-fds N        max_msg_fds offered in VERSION (default 16)\n" \
	"  --max-xfer N       max_data_xfer_size offered (default 1048576)\n" \
	"  --twin-socket      ask for a twin socket for the server's commands\n" \
	"  --write-multiple   offer REGION_WRITE_MULTI\n" \
	"  -h, --help         show this help\n"

const char cmd_client_usage[] =
	"usage: vfuctl client [-c COMMANDS] [-f FILE] [-k] [--json] [--no-fd]\n"
	"                     [--dma-write-reply FORM] [--timeout MS]\n"
	"                     [--max-fds N] [--max-xfer N] [--twin-socket]\n"
	"                     [--write-multiple] SOCKET\n"
	"\n"
	"Connect to the vfio-user server at SOCKET (a path, or @name for an\n"
	"abstract socket), negotiate VERSION and run commands: an interactive\n"
	"prompt on a terminal, else a script from standard input.  Type 'help'\n"
	"for the commands.  DMA_READ and DMA_WRITE from the server are answered\n"
	"at any time from the client's DMA windows.  At the prompt, as in gdb,\n"
	"x/NFU examines a region and an empty line repeats a command that only\n"
	"looks (x and read go on); 'reconnect' follows a restarted server;\n"
	"'mig save FILE' and 'mig load FILE' move device state between servers.\n"
	"\n"
	"  -c, --command CMDS run CMDS (separated by ';') and exit\n"
	"  -f, --file FILE    run the commands in FILE ('-': standard input)\n"
	"  -k, --keep-going   go on after a failing command (exit status is\n"
	"                     still the first failure's)\n"
	"  --no-fd            'dma map' without a memfd: the server then uses\n"
	"                     DMA_READ/DMA_WRITE messages\n"
	"  --dma-write-reply FORM  DMA_WRITE reply: libvfio-user (default,\n"
	"                     16 bytes), spec (12 bytes) or qemu (none)\n"
	CONN_OPTS_USAGE
	"\n"
	"Exit status: 0 every command succeeded, 1 a command failed or an\n"
	"expect/poll did not match, 2 usage or input error.\n";

const char cmd_info_usage[] =
	"usage: vfuctl info [--json] [--timeout MS] SOCKET\n"
	"\n"
	"Print the device's DEVICE_GET_INFO: flags, number of regions and of\n"
	"IRQ indexes.  The same as 'vfuctl client -c info SOCKET'.\n"
	"\n"
	CONN_OPTS_USAGE;

const char cmd_regions_usage[] =
	"usage: vfuctl regions [--json] [--timeout MS] SOCKET\n"
	"\n"
	"Print every region: index, name, size, read/write/mmap flags, sparse\n"
	"mmap areas and capabilities.\n"
	"\n"
	CONN_OPTS_USAGE;

const char cmd_irqs_usage[] =
	"usage: vfuctl irqs [--json] [--timeout MS] SOCKET\n"
	"\n"
	"Print every IRQ index (INTx, MSI, MSI-X, ERR, REQ): count and flags.\n"
	"\n"
	CONN_OPTS_USAGE;

const char cmd_config_usage[] =
	"usage: vfuctl config [--json] [-x] [-n|-nn] [--timeout MS] SOCKET\n"
	"       vfuctl config [--json] [-x] [-n|-nn] -F FILE\n"
	"\n"
	"Read the PCI config space region and decode it as 'lspci -vv' does:\n"
	"names and IDs (pci.ids), command and status, BARs with the sizes of\n"
	"region info, interrupt pin, capabilities (PCI Express in full) and\n"
	"extended capabilities.  -x prints a hex dump that 'lspci -F' reads;\n"
	"-F decodes such a dump instead of asking a server (no region info:\n"
	"no sizes, and a BAR that reads 0 is not shown).\n"
	"\n"
	"  -x                 hex dump in 'lspci -xxxx' format\n"
	"  -n                 numbers instead of names; -nn both, as lspci\n"
	"  -F FILE            decode the dump in FILE ('-': standard input)\n"
	CONN_OPTS_USAGE;

const char cmd_peek_usage[] =
	"usage: vfuctl peek [--json] [--timeout MS] SOCKET REGION OFFSET [WIDTH]\n"
	"\n"
	"Read one value of WIDTH bytes (1, 2, 4 or 8; default 4) at OFFSET of\n"
	"REGION (bar0..bar5, rom, config, vga or an index).\n"
	"\n"
	CONN_OPTS_USAGE;

const char cmd_poke_usage[] =
	"usage: vfuctl poke [--json] [--posted] [--timeout MS] SOCKET REGION\n"
	"                   OFFSET VALUE [WIDTH]\n"
	"\n"
	"Write VALUE, WIDTH bytes (1, 2, 4 or 8; default 4) little-endian, at\n"
	"OFFSET of REGION.\n"
	"\n"
	"  --posted           send the write with no_reply, as QEMU does\n"
	CONN_OPTS_USAGE;

enum {
	OPT_JSON = 256, OPT_TIMEOUT, OPT_MAX_FDS, OPT_MAX_XFER, OPT_TWIN,
	OPT_WMULTI, OPT_NO_FD, OPT_DMA_REPLY, OPT_POSTED,
};

static const struct option long_opts[] = {
	{ "command", required_argument, NULL, 'c' },
	{ "file", required_argument, NULL, 'f' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-fds", required_argument, NULL, OPT_MAX_FDS },
	{ "max-xfer", required_argument, NULL, OPT_MAX_XFER },
	{ "twin-socket", no_argument, NULL, OPT_TWIN },
	{ "write-multiple", no_argument, NULL, OPT_WMULTI },
	{ "no-fd", no_argument, NULL, OPT_NO_FD },
	{ "dma-write-reply", required_argument, NULL, OPT_DMA_REPLY },
	{ "posted", no_argument, NULL, OPT_POSTED },
	{ NULL, 0, NULL, 0 },
};

struct copts {
	struct vx_client_opts o;
	const char *cmds, *file, *dumpfile;
	int keep_going, json, no_fd, posted, hexdump;
	int numeric;		/* config -n: 1, -nn: 2 */
};

/* Parse options; "allowed" lists the short ones this command takes. */
static int
parse_opts(const char *cmd, const char *usage_text, const char *shorts,
    int argc, char **argv, struct copts *co)
{
	static const struct vx_client_opts def = VX_CLIENT_OPTS_DEFAULT;
	uint64_t v;
	int c;

	memset(co, 0, sizeof(*co));
	co->o = def;
	if (vx_want_help(argc, argv)) {
		fputs(usage_text, stdout);
		exit(VX_EXIT_OK);
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			co->cmds = optarg;
			break;
		case 'f':
			co->file = optarg;
			break;
		case 'F':
			co->dumpfile = optarg;
			break;
		case 'x':
			co->hexdump = 1;
			break;
		case 'n':
			if (++co->numeric > 2)
				vx_usage_error(cmd, "-n at most twice (-nn)");
			break;
		case 'k':
			co->keep_going = 1;
			break;
		case OPT_JSON:
			co->json = 1;
			break;
		case OPT_TIMEOUT:
			if (vx_parse_u64(optarg, &v) < 0 || v > 86400000)
				vx_invarg(cmd, "--timeout", optarg);
			co->o.timeout_ms = (int)v;
			break;
		case OPT_MAX_FDS:
			if (vx_parse_u64(optarg, &v) < 0 || v > VX_MAX_FDS)
				vx_invarg(cmd, "--max-fds", optarg);
			co->o.max_fds = v;
			break;
		case OPT_MAX_XFER:
			if (vx_parse_u64(optarg, &v) < 0 || v < 8 ||
			    v > VX_QEMU_MAX_XFER)
				vx_invarg(cmd, "--max-xfer", optarg);
			co->o.max_xfer = v;
			break;
		case OPT_TWIN:
			co->o.twin_socket = 1;
			break;
		case OPT_WMULTI:
			co->o.write_multiple = 1;
			break;
		case OPT_NO_FD:
			co->no_fd = 1;
			break;
		case OPT_DMA_REPLY:
			if (strcmp(optarg, "libvfio-user") == 0)
				co->o.dma_write_reply = VX_VAR_LVU;
			else if (strcmp(optarg, "spec") == 0)
				co->o.dma_write_reply = VX_VAR_SPEC;
			else if (strcmp(optarg, "qemu") == 0)
				co->o.dma_write_reply = VX_VAR_QEMU;
			else
				vx_invarg(cmd, "--dma-write-reply", optarg);
			break;
		case OPT_POSTED:
			co->posted = 1;
			break;
		default:
			/* options of other commands are unknown here too */
			if (optopt != 0 && optopt < 256)
				vx_usage_error(cmd, "unknown option '-%c'", optopt);
			vx_usage_error(cmd, "unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	/* options a command does not take, though they are in long_opts */
	if ((co->cmds || co->file || co->keep_going || co->no_fd ||
	    co->o.dma_write_reply != VX_VAR_LVU) && strcmp(cmd, "client") != 0)
		vx_usage_error(cmd, "option only 'vfuctl client' takes");
	if (co->posted && strcmp(cmd, "poke") != 0)
		vx_usage_error(cmd, "--posted is an option of poke only");
	return optind;
}

static void
init_cl(struct cl *cl, const char *cmd, const struct copts *co)
{
	memset(cl, 0, sizeof(*cl));
	cl->cmdname = cmd;
	cl->json = co->json;
	cl->no_fd = co->no_fd;
}

/* Run a script from fp, line by line. */
static int
run_file(struct cl *cl, FILE *fp, const char *name, int stop)
{
	char *line = NULL;
	size_t cap = 0;
	int r, rc = 0;

	cl->src = name;
	cl->line = 0;
	while (getline(&line, &cap, fp) >= 0) {
		cl->line++;
		r = cl_run_line(cl, line, stop);
		if (r != 0 && rc == 0)
			rc = r;
		if ((r != 0 && stop) || cl->quit)
			break;
	}
	free(line);
	return rc;
}

int
cmd_client(int argc, char **argv)
{
	struct copts co;
	struct cl cl;
	int i, r;

	i = parse_opts("client", cmd_client_usage, "c:f:kh", argc, argv, &co);
	if (i >= argc)
		vx_missarg("client", "SOCKET");
	if (i + 1 < argc)
		vx_usage_error("client", "too many arguments '%s' (quote the "
		    "commands of -c)", argv[i + 1]);
	if (co.cmds != NULL && co.file != NULL)
		vx_usage_error("client", "-c and -f exclude each other");
	init_cl(&cl, "client", &co);
	signal(SIGPIPE, SIG_IGN);
	if ((r = cl_open(&cl, argv[i], &co.o)) != 0) {
		cl_close(&cl);
		return r;
	}
	if (co.cmds != NULL) {
		cl.src = "-c";
		cl.line = 1;
		r = cl_run_line(&cl, co.cmds, !co.keep_going);
	} else if (co.file != NULL && strcmp(co.file, "-") != 0) {
		FILE *fp = fopen(co.file, "r");

		if (fp == NULL) {
			fprintf(stderr, "vfuctl client: cannot open script "
			    "'%s': %s\n", co.file, strerror(errno));
			cl_close(&cl);
			return VX_EXIT_USAGE;
		}
		r = run_file(&cl, fp, co.file, !co.keep_going);
		fclose(fp);
	} else if (co.file == NULL && isatty(STDIN_FILENO)) {
		cl.interactive = 1;
		r = cl_repl(&cl);
	} else {
		r = run_file(&cl, stdin, "stdin", !co.keep_going);
	}
	cl_close(&cl);
	return r;
}

/* One-shot: connect, run argv[0] with the remaining arguments. */
static int
oneshot(const char *cmd, const char *usage_text, const char *shorts,
    int argc, char **argv, int min, int max)
{
	char *args[8];
	struct copts co;
	struct cl cl;
	int i, n, r;

	i = parse_opts(cmd, usage_text, shorts, argc, argv, &co);
	n = argc - i;
	if (n < min)
		vx_missarg(cmd, n == 0 ? "SOCKET" : "argument");
	if (n > max)
		vx_usage_error(cmd, "too many arguments '%s'", argv[i + max]);
	init_cl(&cl, cmd, &co);
	signal(SIGPIPE, SIG_IGN);
	if ((r = cl_open(&cl, argv[i], &co.o)) != 0) {
		cl_close(&cl);
		return r;
	}
	args[0] = (char *)cmd;
	n = 1;
	if (co.posted)
		args[n++] = (char *)"--posted";
	if (co.hexdump)
		args[n++] = (char *)"-x";
	if (co.numeric)
		args[n++] = (char *)(co.numeric == 1 ? "-n" : "-nn");
	for (i++; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	r = cl_exec(&cl, n, args);
	cl_close(&cl);
	return r;
}

int
cmd_info(int argc, char **argv)
{
	return oneshot("info", cmd_info_usage, "h", argc, argv, 1, 1);
}

int
cmd_regions(int argc, char **argv)
{
	return oneshot("regions", cmd_regions_usage, "h", argc, argv, 1, 1);
}

int
cmd_irqs(int argc, char **argv)
{
	return oneshot("irqs", cmd_irqs_usage, "h", argc, argv, 1, 1);
}

int
cmd_peek(int argc, char **argv)
{
	return oneshot("peek", cmd_peek_usage, "h", argc, argv, 3, 4);
}

int
cmd_poke(int argc, char **argv)
{
	return oneshot("poke", cmd_poke_usage, "h", argc, argv, 4, 5);
}

int
cmd_config(int argc, char **argv)
{
	static uint8_t cfg[4096];
	struct copts co;
	FILE *fp;
	long n;
	int i;

	i = parse_opts("config", cmd_config_usage, "xnF:h", argc, argv, &co);
	if (co.dumpfile == NULL)
		return oneshot("config", cmd_config_usage, "xnF:h", argc, argv,
		    1, 1);
	if (i < argc)
		vx_usage_error("config", "-F and SOCKET exclude each other");
	fp = strcmp(co.dumpfile, "-") == 0 ? stdin : fopen(co.dumpfile, "r");
	if (fp == NULL) {
		fprintf(stderr, "vfuctl config: cannot open '%s': %s\n",
		    co.dumpfile, strerror(errno));
		return VX_EXIT_USAGE;
	}
	n = cl_pci_load(fp, cfg, sizeof(cfg));
	if (fp != stdin)
		fclose(fp);
	if (n < 64) {
		fprintf(stderr, "vfuctl config: '%s' holds no config space "
		    "dump in 'lspci -x' format (want at least 64 bytes)\n",
		    co.dumpfile);
		return VX_EXIT_USAGE;
	}
	n = n > 256 ? 4096 : n > 64 ? 256 : 64;
	if (co.json) {
		json_t *o = cl_pci_json(cfg, (size_t)n);
		vx_json_print(stdout, o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else if (co.hexdump) {
		cl_pci_dump(stdout, cfg, (size_t)n);
	} else {
		struct cl_pci_opts o = { .numeric = co.numeric };

		cl_pci_print_opts(stdout, cfg, (size_t)n, &o);
		fprintf(stderr, "vfuctl config: note: -F has no region info: "
		    "no BAR sizes, and a BAR that reads 0 is not shown\n");
	}
	return VX_EXIT_OK;
}
