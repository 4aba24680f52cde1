/*
 * cmd-decode.c - vfuctl decode: decode messages given as hex lines or as
 * JSON lines (the ../shared/vectors format), run the session layer over
 * them, and print summaries, field trees, hex or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "vx-strbuf.h"

const char cmd_decode_usage[] =
	"usage: vfuctl decode [-V] [-x] [-o text|json] [--peer PEER]\n"
	"                     [--byte-order le|be] [--strict] [FILE|-]\n"
	"\n"
	"Decode vfio-user messages, one per input line: hex (optionally after\n"
	"\"c2s \" or \"s2c \"), or JSON objects with \"hex\", \"dir\", \"chan\",\n"
	"\"nfds\" as in vfuctl's test vectors.  Replies are paired with their\n"
	"commands and context errors are reported as findings.\n"
	"\n"
	"  -V                 print every field with its byte offsets\n"
	"  -x                 print the bytes of every field in hex\n"
	"  -o, --output FMT   text (default) or json (one object per line)\n"
	"  --peer PEER        wire forms to expect: auto (default), spec,\n"
	"                     libvfio-user, qemu\n"
	"  --byte-order BO    le (default) or be\n"
	"  --strict           exit 1 on error findings too, not only on\n"
	"                     malformed messages\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 all messages clean, 1 a malformed or unknown message\n"
	"(or, with --strict, an error finding), 2 usage or unreadable input.\n";

struct decode_opts {
	int tree, hex, json, strict, big_endian, peer;
};

struct decode_stats {
	unsigned long messages, malformed, unknown, errors, warnings, notes;
};

/* Hex digits (spaces and colons between bytes allowed) into buf. */
static long
parse_hex(const char *s, uint8_t *buf, size_t cap)
{
	const char *bad;

	return vx_hex_bytes(s, " \t:\n\r", buf, cap, &bad);
}

static void
print_findings(const struct vx_session_result *r, struct decode_stats *st,
    json_t *obj)
{
	static const char *const sev[] = { "note", "warning", "error" };
	json_t *arr = NULL;
	unsigned i;

	for (i = 0; i < r->nfindings; i++) {
		const struct vx_finding *f = &r->findings[i];

		if (f->severity == VX_SEV_ERROR)
			st->errors++;
		else if (f->severity == VX_SEV_WARN)
			st->warnings++;
		else
			st->notes++;
		if (obj == NULL) {
			printf("      [%s] %s: %s\n", sev[f->severity],
			    vx_finding_text(f->code), f->text);
			continue;
		}
		if (arr == NULL)
			arr = json_array();
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}",
		    "finding", vx_finding_key(f->code),
		    "severity", sev[f->severity],
		    "text", vx_finding_text(f->code), "detail", f->text));
	}
	if (arr != NULL)
		json_object_set_new(obj, "vfio_user.findings", arr);
}

static void
emit(const struct decode_opts *o, const struct vx_msg *m, unsigned long frame,
    const struct vx_session_result *r, struct decode_stats *st)
{
	char sum[1024];
	json_t *obj;

	if (o->json) {
		obj = vx_msg_json(m);
		json_object_set_new(obj, "vfio_user.frame", json_integer((json_int_t)frame));
		if (r->paired)
			json_object_set_new(obj, "vfio_user.request_frame",
			    json_integer((json_int_t)r->req_frame));
		print_findings(r, st, obj);
		vx_json_print(stdout, obj, JSON_COMPACT);
		json_decref(obj);
		return;
	}
	vx_summary(m, sum, sizeof(sum));
	printf("%5lu %s%s 0x%04x %s", frame, m->dir == VX_S2C ? "s2c" : "c2s",
	    m->chan == VX_CHAN_TWIN ? "/twin" : "", m->id, sum);
	if (r->paired)
		printf(" (request #%llu)", (unsigned long long)r->req_frame);
	putchar('\n');
	if (o->tree)
		vx_print_tree(stdout, m, "      ");
	else if (m->status == VX_MSG_MALFORMED)
		printf("      %s at offset %u (%s)\n", vx_strerror(m->err.code),
		    m->err.off, vx_fields[m->err.field].key);
	if (o->hex)
		vx_print_hex(stdout, m, "      ");
	print_findings(r, st, NULL);
}

/* One input line: fill buf/ctx, return message length or -1. */
static long
parse_line(char *line, uint8_t *buf, size_t cap, struct vx_dctx *ctx,
    const char **why)
{
	json_t *o, *v;
	json_error_t jerr;
	const char *hex, *dir, *chan;
	long n;

	ctx->dir = VX_C2S;
	ctx->chan = VX_CHAN_MAIN;
	ctx->nfds = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '{') {
		if (strncmp(line, "c2s", 3) == 0 || strncmp(line, "s2c", 3) == 0) {
			ctx->dir = line[0] == 's' ? VX_S2C : VX_C2S;
			line += 3;
		}
		*why = "not hex digits";
		return parse_hex(line, buf, cap);
	}
	if ((o = json_loads(line, 0, &jerr)) == NULL) {
		*why = "not a JSON object";
		return -1;
	}
	hex = json_string_value(json_object_get(o, "hex"));
	dir = json_string_value(json_object_get(o, "dir"));
	chan = json_string_value(json_object_get(o, "chan"));
	if (hex == NULL) {
		*why = "JSON line without a \"hex\" string";
		json_decref(o);
		return -1;
	}
	if (dir != NULL && strcmp(dir, "s2c") == 0)
		ctx->dir = VX_S2C;
	if (chan != NULL && strcmp(chan, "twin") == 0)
		ctx->chan = VX_CHAN_TWIN;
	if ((v = json_object_get(o, "nfds")) != NULL)
		ctx->nfds = (int)json_integer_value(v);
	else if ((v = json_object_get(o, "fds")) != NULL)
		ctx->nfds = (int)json_array_size(v);
	*why = "\"hex\" is not hex digits";
	n = parse_hex(hex, buf, cap);
	json_decref(o);
	return n;
}

static int
decode_stream(FILE *in, const char *name, const struct decode_opts *o)
{
	struct vx_decoder d;
	struct vx_session *sess = vx_session_new(o->peer);
	struct decode_stats st = { 0, 0, 0, 0, 0, 0 };
	struct vx_finding pend[8];
	char *line = NULL;
	size_t lcap = 0, bcap = 1 << 16;
	uint8_t *buf = malloc(bcap);
	unsigned long lineno = 0;
	unsigned npend, i;
	ssize_t ll;
	int bad_input = 0;

	if (sess == NULL || buf == NULL)
		vx_fatal("out of memory");
	/* the input is a connection from its start, as the vectors are */
	vx_session_begin(sess);
	vx_decoder_init(&d);
	while ((ll = getline(&line, &lcap, in)) > 0) {
		struct vx_dctx ctx = { 0 };
		struct vx_session_result res;
		struct vx_msg m;
		const char *why = "";
		long n;

		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if ((size_t)ll / 2 + 1 > bcap) {
			bcap = (size_t)ll / 2 + 1;
			if ((buf = realloc(buf, bcap)) == NULL)
				vx_fatal("out of memory");
		}
		if ((n = parse_line(line, buf, bcap, &ctx, &why)) < 0) {
			vx_error("%s:%lu: %s; skipping the line", name, lineno, why);
			bad_input = 1;
			continue;
		}
		ctx.big_endian = (uint8_t)o->big_endian;
		ctx.peer = (uint8_t)vx_session_peer(sess, ctx.dir);
		if (vx_decode(&d, buf, (size_t)n, &ctx, &m) < 0)
			vx_fatal("out of memory decoding %s:%lu", name, lineno);
		st.messages++;
		if (m.status == VX_MSG_MALFORMED)
			st.malformed++;
		else if (m.status == VX_MSG_UNKNOWN)
			st.unknown++;
		if (vx_session_feed(sess, &m, st.messages - 1, 0, &res) < 0)
			vx_fatal("out of memory");
		emit(o, &m, st.messages - 1, &res, &st);
	}
	if (ferror(in)) {
		vx_error("cannot read '%s': %s", name, strerror(errno));
		bad_input = 1;
	}
	npend = vx_session_finish(sess, pend, 8);
	if (!o->json) {
		for (i = 0; i < npend && i < 8; i++)
			printf("      [warning] %s: %s\n",
			    vx_finding_text(pend[i].code), pend[i].text);
		printf("%lu messages: %lu malformed, %lu unknown; findings: %lu errors, %lu warnings, %lu notes; %u unanswered; client %s, server %s\n",
		    st.messages, st.malformed, st.unknown, st.errors,
		    st.warnings + npend, st.notes, npend,
		    vx_session_peer_name(sess, VX_C2S),
		    vx_session_peer_name(sess, VX_S2C));
	}
	free(line);
	free(buf);
	vx_decoder_release(&d);
	vx_session_free(sess);
	if (bad_input)
		return VX_EXIT_USAGE;
	if (st.malformed || st.unknown || (o->strict && st.errors))
		return VX_EXIT_FAIL;
	return VX_EXIT_OK;
}

int
cmd_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "peer", required_argument, NULL, 'p' },
		{ "byte-order", required_argument, NULL, 'b' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct decode_opts o = { 0, 0, 0, 0, 0, VX_PEER_AUTO };
	const char *path = "-";
	uint64_t v;
	FILE *in;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "Vxo:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			o.tree = 1;
			break;
		case 'x':
			o.hex = 1;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				o.json = 1;
			else if (strcmp(optarg, "text") != 0)
				vx_invarg("decode", "output format", optarg);
			break;
		case 'p':
			if (vx_tok_value(vx_names_peer, optarg, &v) < 0)
				vx_invarg("decode", "peer", optarg);
			o.peer = (int)v;
			break;
		case 'b':
			if (strcmp(optarg, "be") == 0)
				o.big_endian = 1;
			else if (strcmp(optarg, "le") != 0)
				vx_invarg("decode", "byte order", optarg);
			break;
		case 's':
			o.strict = 1;
			break;
		case 'h':
			fputs(cmd_decode_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("decode", "unknown option");
		}
	}
	if (argc - optind > 1)
		vx_usage_error("decode", "too many operands: give one FILE or -");
	if (optind < argc)
		path = argv[optind];
	if (strcmp(path, "-") == 0)
		return decode_stream(stdin, "<stdin>", &o);
	if ((in = fopen(path, "r")) == NULL) {
		vx_error("cannot open '%s': %s", path, strerror(errno));
		return VX_EXIT_USAGE;
	}
	r = decode_stream(in, path, &o);
	fclose(in);
	return r;
}
