/*
 * cmd-import.c - vfuctl import: build a trace (man/vfuctl-trace.5) from
 * JSON lines, either the ../shared/vectors captures or the record lines of
 * vfuctl-trace(5) (what vx_trace_rec_json() writes), so that exporting a
 * trace and importing it again gives the same records.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-trace.h"

const char cmd_import_usage[] =
	"usage: vfuctl import -o FILE [--linktype N] [--conn N]\n"
	"                     [--digest-every N] [--key FILE] [FILE|-]\n"
	"\n"
	"Build a vfuctl trace (pcap, see vfuctl-trace(5)) from JSON lines: the\n"
	"lines of vfuctl's captured vectors, one message each, or the record\n"
	"lines of vfuctl-trace(5).\n"
	"\n"
	"  -o, --output FILE     the trace to write (- for standard output)\n"
	"  --linktype N          pcap link type, 147-162 (USER0-USER15);\n"
	"                        default 147\n"
	"  --conn N              connection id of lines that carry none\n"
	"                        (default 0)\n"
	"  --digest-every N      a digest record every N records, and one at\n"
	"                        the end (default 1000; 0: no digests)\n"
	"  --key FILE            key the digests with FILE's 16-64 bytes\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 written, 1 write error, 2 usage or bad input (the\n"
	"line is named; nothing is left at FILE).\n";

#define DEFAULT_DIGEST_EVERY	1000

/* Next message number of one (conn, chan, dir). */
struct seqslot {
	uint32_t conn;
	uint64_t next[2][2];	/* [chan][dir] */
};

struct seqtab {
	struct seqslot *v;
	size_t n, cap;
};

static uint64_t *
seq_slot(struct seqtab *t, uint32_t conn, int chan, int dir)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].conn == conn)
			return &t->v[i].next[chan][dir];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		if ((t->v = realloc(t->v, t->cap * sizeof(*t->v))) == NULL)
			vx_fatal("out of memory");
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	t->v[t->n].conn = conn;
	return &t->v[t->n++].next[chan][dir];
}

struct import_opts {
	const char *out;
	uint32_t conn;
	struct vx_trace_wopts w;
};

/* Returns an exit status; the writer is closed either way. */
static int
import_stream(FILE *in, const char *name, struct vx_trace_writer *w,
    const struct import_opts *o)
{
	static struct vx_fd_info fds[VX_TRACE_MAX_FDS];
	struct seqtab seqs = { NULL, 0, 0 };
	char *line = NULL, why[200], note[256];
	size_t lcap = 0, bcap = 1 << 16;
	uint8_t *buf = malloc(bcap);
	unsigned long lineno = 0;
	ssize_t ll;
	int rc = VX_EXIT_OK, err;

	if (buf == NULL)
		vx_fatal("out of memory");
	while ((ll = getline(&line, &lcap, in)) > 0) {
		struct vx_trace_rec rec;
		unsigned given;
		uint64_t *next;

		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if ((size_t)ll / 2 + 1 > bcap) {
			bcap = (size_t)ll / 2 + 1;
			if ((buf = realloc(buf, bcap)) == NULL)
				vx_fatal("out of memory");
		}
		if (vx_trace_rec_parse(line, &rec, buf, bcap, fds, &given, note,
		    sizeof(note), why, sizeof(why)) < 0) {
			vx_error("%s:%lu: %s", name, lineno, why);
			rc = VX_EXIT_USAGE;
			break;
		}
		/* The writer makes its own digests over what it writes. */
		if (rec.kind == VX_TR_DIGEST)
			continue;
		if (!(given & VX_TRACE_GIVEN_CONN))
			rec.conn = o->conn;
		if (rec.kind == VX_TR_MESSAGE) {
			next = seq_slot(&seqs, rec.conn, rec.chan, rec.dir);
			if (!(given & VX_TRACE_GIVEN_SEQ))
				rec.seq = *next;
			*next = rec.seq + 1;
		}
		if ((err = vx_trace_write_event(w, &rec)) < 0)
			goto write_error;
		if (note[0] != '\0') {
			/* The capturing relay's remark about this message. */
			rec.kind = VX_TR_ANNOTATION;
			rec.data = (const uint8_t *)note;
			rec.len = rec.orig_len = strlen(note);
			rec.nfds = 0;
			rec.fds = NULL;
			rec.flags &= (uint16_t)~VX_TRF_BE;
			if ((err = vx_trace_write_event(w, &rec)) < 0)
				goto write_error;
		}
	}
	if (rc == VX_EXIT_OK && ferror(in)) {
		vx_error("cannot read '%s': %s", name, strerror(errno));
		rc = VX_EXIT_USAGE;
	}
	free(line);
	free(buf);
	free(seqs.v);
	if ((err = vx_trace_writer_close(w)) < 0 && rc == VX_EXIT_OK) {
		vx_error("cannot write '%s': %s", o->out, strerror(errno));
		rc = VX_EXIT_FAIL;
	}
	return rc;

write_error:
	if (err == VX_ERR_IO)
		vx_error("cannot write '%s': %s", o->out, strerror(errno));
	else
		vx_error("%s:%lu: cannot record: %s", name, lineno,
		    vx_strerror(err));
	free(line);
	free(buf);
	free(seqs.v);
	vx_trace_writer_close(w);
	return err == VX_ERR_IO ? VX_EXIT_FAIL : VX_EXIT_USAGE;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "linktype", required_argument, NULL, 'l' },
		{ "conn", required_argument, NULL, 'c' },
		{ "digest-every", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static uint8_t key[VX_TRACE_KEY_MAX];
	struct import_opts o;
	struct vx_trace_writer *w;
	struct stat st;
	const char *path = "-", *keyfile = NULL;
	FILE *in;
	uint64_t v;
	int c, r, n;

	memset(&o, 0, sizeof(o));
	o.w.linktype = VX_TRACE_LINKTYPE;
	o.w.digest_every = DEFAULT_DIGEST_EVERY;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case 'l':
			if (vx_parse_u64(optarg, &v) < 0 ||
			    v < VX_TRACE_LINKTYPE || v > VX_TRACE_LINKTYPE_MAX)
				vx_invarg("import", "link type", optarg);
			o.w.linktype = (int)v;
			break;
		case 'c':
			if (vx_parse_u64(optarg, &v) < 0 || v > UINT32_MAX)
				vx_invarg("import", "connection id", optarg);
			o.conn = (uint32_t)v;
			break;
		case 'd':
			if (vx_parse_u64(optarg, &v) < 0 || v > UINT32_MAX)
				vx_invarg("import", "digest interval", optarg);
			o.w.digest_every = (unsigned)v;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'h':
			fputs(cmd_import_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("import", "unknown option");
		}
	}
	if (argc - optind > 1)
		vx_usage_error("import", "too many operands: give one FILE or -");
	if (optind < argc)
		path = argv[optind];
	if (o.out == NULL)
		vx_missarg("import", "output file (-o FILE)");
	if (keyfile != NULL) {
		if (o.w.digest_every == 0)
			vx_usage_error("import", "--key needs digests "
			    "(--digest-every above 0)");
		if ((n = vx_load_key(keyfile, key)) < 0)
			return VX_EXIT_USAGE;
		o.w.key = key;
		o.w.keylen = (size_t)n;
	}
	if (strcmp(path, "-") == 0) {
		in = stdin;
		path = "<stdin>";
	} else if ((in = fopen(path, "r")) == NULL) {
		vx_error("cannot open '%s': %s", path, strerror(errno));
		return VX_EXIT_USAGE;
	}
	if (vx_trace_writer_open(o.out, &o.w, &w) < 0) {
		vx_error("cannot create '%s': %s", o.out,
		    vx_create_strerror(errno));
		if (in != stdin)
			fclose(in);
		return VX_EXIT_FAIL;
	}
	r = import_stream(in, path, w, &o);
	if (in != stdin)
		fclose(in);
	/* No half trace that looks like a whole one; but never remove what
	 * was not ours to create (-o /dev/null as root). */
	if (r != VX_EXIT_OK && strcmp(o.out, "-") != 0 &&
	    lstat(o.out, &st) == 0 && S_ISREG(st.st_mode))
		unlink(o.out);
	return r;
}
