/*
 * cmd-verify.c - vfuctl verify: walk a trace, recompute its BLAKE2b digest
 * chain and say whether the trace is intact, truncated, altered or written
 * without digests.
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
	"Check a trace's digest chain (see vfuctl-trace(5)) and say what the\n"
	"trace is: \"intact\", \"truncated after frame N\" (its last whole\n"
	"frame), \"altered at frame N\" (where the chain breaks) or \"written\n"
	"without digests\".\n"
	"\n"
	"  --key FILE   the key of a keyed trace (then unkeyed digests fail)\n"
	"  -q, --quiet  print nothing when the trace verifies\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status: 0 intact; 1 truncated, altered or written without\n"
	"digests; 2 usage error, unreadable file, not a vfuctl trace, or a\n"
	"keyed trace without --key.\n";

/* The reader's "frame N: why" without its "frame N: ". */
static const char *
reason(const struct vx_trace_reader *r, uint64_t *frame)
{
	const char *e = vx_trace_reader_error(r, frame), *p;

	if (*frame != 0 && strncmp(e, "frame ", 6) == 0 &&
	    (p = strstr(e, ": ")) != NULL)
		return p + 2;
	return e;
}

/*
 * One of: truncated after frame N; altered at frame N; written without
 * digests.  Truncation names the last whole frame and how far the chain
 * vouches for what is there.
 */
static void
print_verdict(const struct vx_trace_reader *r, int rc, int keyed)
{
	uint64_t frame, whole = vx_trace_reader_frames(r);
	uint64_t good = vx_trace_reader_verified(r);
	const char *why = reason(r, &frame);

	if (rc == VX_ERR_INVALID) {
		printf("altered at frame %llu: %s%s\n",
		    (unsigned long long)frame, why, keyed && good == 0 &&
		    strstr(why, "mismatch") ? " (or the key is not the one it"
		    " was written with)" : "");
		return;
	}
	if (frame == 0 && vx_trace_reader_digests(r) == 0) {
		printf("written without digests: %llu frames, none of them "
		    "a digest record\n", (unsigned long long)whole);
		return;
	}
	printf("truncated after frame %llu: ", (unsigned long long)whole);
	if (frame == 0)
		printf("no closing digest; ");
	else if (frame > whole)
		printf("the file ends inside frame %llu; ",
		    (unsigned long long)frame);
	else
		printf("the record fragmented from frame %llu on is "
		    "incomplete; ", (unsigned long long)frame);
	if (good)
		printf("verified up to frame %llu, the last good digest\n",
		    (unsigned long long)good);
	else
		printf("no digest before it: nothing verified\n");
}

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
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
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
		if ((n = vx_load_key(keyfile, key)) < 0)
			return VX_EXIT_USAGE;
		ro.key = key;
		ro.keylen = (size_t)n;
	}
	if ((rc = vx_trace_reader_open(path, &ro, &r)) < 0) {
		if (rc == VX_ERR_TRUNCATED) {
			printf("truncated after frame 0: the file ends inside "
			    "its pcap file header\n");
			vx_trace_reader_close(r);
			return VX_EXIT_FAIL;
		}
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
			printf("intact: %llu frames, %llu records, %llu digests, "
			    "%s\n", (unsigned long long)vx_trace_reader_frames(r),
			    records,
			    (unsigned long long)vx_trace_reader_digests(r),
			    keyfile ? "keyed" : "unkeyed");
		vx_trace_reader_close(r);
		return VX_EXIT_OK;
	}
	/* What the trace says is the verdict; what stops us is an error. */
	if (rc == VX_ERR_INVALID || rc == VX_ERR_TRUNCATED) {
		print_verdict(r, rc, keyfile != NULL);
		rc = VX_EXIT_FAIL;
	} else {
		vx_error("%s", vx_trace_reader_error(r, NULL));
		rc = VX_EXIT_USAGE;
	}
	vx_trace_reader_close(r);
	return rc;
}
