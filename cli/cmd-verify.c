/*
 * cmd-verify.c - vfuctl verify: walk a trace, recompute its BLAKE2b digest
 * chain and say OK, or the first frame where it breaks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vx-error.h"
#include "vx-trace.h"

const char cmd_verify_usage[] =
	"usage: vfuctl verify [-q] [--key FILE] FILE|-\n"
	"\n"
	"Check a trace's digest chain (see vfuctl-trace(5)): every digest\n"
	"record must match the records before it and the trace must end with\n"
	"its closing digest.  Prints \"OK\" with counts, or the first frame\n"
	"where the chain breaks.\n"
	"\n"
	"  --key FILE   the key of a keyed trace (then unkeyed digests fail)\n"
	"  -q, --quiet  print nothing when the trace verifies\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status: 0 the chain verifies, 1 it does not (changed, removed,\n"
	"added or cut off records, corrupt headers), 2 usage error, unreadable\n"
	"file, not a vfuctl trace, or a keyed trace without --key.\n";

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static uint8_t key[VX_TRACE_KEY_MAX];
	struct vx_trace_ropts ro = { VX_TRACE_VERIFY, NULL, 0 };
	struct vx_trace_reader *r;
	struct vx_trace_rec rec;
	const char *keyfile = NULL, *path;
	unsigned long long records = 0;
	int c, n, rc, quiet = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_verify_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("verify", "unknown option");
		}
	}
	if (optind >= argc)
		vx_missarg("verify", "trace file");
	if (argc - optind > 1)
		vx_usage_error("verify", "too many operands: give one FILE or -");
	path = argv[optind];
	if (keyfile != NULL) {
		n = vx_trace_load_key(keyfile, key);
		if (n == VX_ERR_IO) {
			vx_error("cannot read key file '%s': %s", keyfile,
			    strerror(errno));
			return VX_EXIT_USAGE;
		}
		if (n < 0) {
			vx_error("invalid key file '%s': it must hold %d to %d "
			    "bytes", keyfile, VX_TRACE_KEY_MIN, VX_TRACE_KEY_MAX);
			return VX_EXIT_USAGE;
		}
		ro.key = key;
		ro.keylen = (size_t)n;
	}
	if (vx_trace_reader_open(path, &ro, &r) < 0) {
		if (r != NULL)
			vx_error("%s", vx_trace_reader_error(r, NULL));
		else
			vx_error("out of memory");
		vx_trace_reader_close(r);
		return VX_EXIT_USAGE;
	}
	while ((rc = vx_trace_next(r, &rec)) > 0)
		records++;
	if (rc == 0) {
		if (!quiet)
			printf("OK: %llu frames, %llu records, %llu digests, "
			    "%s\n", (unsigned long long)vx_trace_reader_frames(r),
			    records,
			    (unsigned long long)vx_trace_reader_digests(r),
			    keyfile ? "keyed" : "unkeyed");
		vx_trace_reader_close(r);
		return VX_EXIT_OK;
	}
	/* What the trace says is the verdict; what stops us is an error. */
	if (rc == VX_ERR_INVALID || rc == VX_ERR_TRUNCATED) {
		printf("%s\n", vx_trace_reader_error(r, NULL));
		rc = VX_EXIT_FAIL;
	} else {
		vx_error("%s", vx_trace_reader_error(r, NULL));
		rc = VX_EXIT_USAGE;
	}
	vx_trace_reader_close(r);
	return rc;
}
