/*
 * filter.c - display filters.  A recursive-descent parser resolves every
 * field key and value name into a flat node array; the matcher walks that
 * array over a message's items and allocates nothing.
 *
 * And/or chains are built nested to the right, so the matcher follows a
 * chain in a loop and recursion is bounded by the parenthesis and '!'
 * nesting the parser allows (MAX_DEPTH).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vx-error.h"
#include "vx-filter.h"
#include "vx-strbuf.h"
#include "vx-trace.h"

#define NIL		UINT32_MAX
#define MAX_DEPTH	64
#define MAX_NAME	128	/* longest value name looked up */

/* --- pseudo-fields --------------------------------------------------------- */

/* Their ids follow those of fields.def, so a node names either kind. */
enum {
	PF_PROTO = VXF_COUNT,
	PF_DIR,
	PF_CHAN,
	PF_TYPE,
	PF_STATUS,
	PF_VARIANT,
	PF_ERROR_REPLY,
	PF_NO_REPLY,
	PF_NOTE,
	PF_FRAME,
	PF_REQ_FRAME,
	PF_CONN,
	PF_LATENCY,
	PF_FINDING,
	PF_SEVERITY,
	PF_EVENT,
	PF_FRAME_NUMBER,
	PF_TIME_REL,
	PF_TIME_DELTA,
	PF_CMD_NAME,
	PF_SUMMARY,
	PF_MALFORMED,
	PF_NOTES,
	PF_FINDINGS,
	PF_TIME_NS,
	PF_END
};

/* Wireshark's frame times: written in seconds, held in nanoseconds. */
#define is_seconds(id)	((id) == PF_TIME_REL || (id) == PF_TIME_DELTA)

static const struct vx_tok names_dir[] = {
	{ VX_C2S, "c2s" }, { VX_S2C, "s2c" }, { 0, NULL }
};

static const struct vx_tok names_chan[] = {
	{ VX_CHAN_MAIN, "main" }, { VX_CHAN_TWIN, "twin" }, { 0, NULL }
};

static const struct vx_tok names_type[] = {
	{ VX_F_TYPE_COMMAND, "command" }, { VX_F_TYPE_REPLY, "reply" },
	{ 0, NULL }
};

static const struct vx_tok names_status[] = {
	{ VX_MSG_OK, "ok" }, { VX_MSG_UNKNOWN, "unknown-command" },
	{ VX_MSG_MALFORMED, "malformed" }, { 0, NULL }
};

static const struct vx_tok names_variant[] = {
	{ VX_VAR_SPEC, "spec" }, { VX_VAR_LVU, "libvfio-user" },
	{ VX_VAR_QEMU, "qemu" }, { 0, NULL }
};

static const struct vx_tok names_bool[] = {
	{ 0, "false" }, { 1, "true" }, { 0, NULL }
};

static const struct vx_tok names_note[] = {
#define VX_NOTE(id, text) { VX_NOTE_##id, #id },
#include "notes.def"
#undef VX_NOTE
	{ 0, NULL }
};

static const struct vx_tok names_finding[] = {
#define VX_FINDING(id, sev, text) { VX_FIND_##id, #id },
#include "findings.def"
#undef VX_FINDING
	{ 0, NULL }
};

static const struct vx_tok names_event[] = {
	{ VX_TR_IRQ, "irq" }, { VX_TR_OPEN, "open" }, { VX_TR_CLOSE, "close" },
	{ VX_TR_ANNOTATION, "annotation" }, { VX_TR_RAW, "raw" },
	{ VX_TR_GAP, "gap" }, { VX_TR_DIGEST, "digest" },
	{ VX_TR_STATE, "state" }, { 0, NULL }
};

static const struct vx_tok names_severity[] = {
	{ VX_SEV_NOTE, "note" }, { VX_SEV_WARN, "warn" },
	{ VX_SEV_ERROR, "error" }, { 0, NULL }
};

static const struct {
	const char *key;
	uint8_t kind;
	const struct vx_tok *names;
	const char *desc;
} pseudo[PF_END - PF_PROTO] = {
	[PF_PROTO - PF_PROTO] = { "vfio_user", VX_K_GROUP, NULL,
	    "every record: messages and events" },
	[PF_DIR - PF_PROTO] = { "vfio_user.dir", VX_K_ENUM, names_dir,
	    "c2s or s2c: who sent the bytes" },
	[PF_CHAN - PF_PROTO] = { "vfio_user.chan", VX_K_ENUM, names_chan,
	    "main or twin: the socket it came on" },
	[PF_TYPE - PF_PROTO] = { "vfio_user.type", VX_K_ENUM, names_type,
	    "command or reply" },
	[PF_STATUS - PF_PROTO] = { "vfio_user.status", VX_K_ENUM, names_status,
	    "ok, unknown-command or malformed" },
	[PF_VARIANT - PF_PROTO] = { "vfio_user.variant", VX_K_ENUM,
	    names_variant, "wire form of a peer: spec, libvfio-user, qemu" },
	[PF_ERROR_REPLY - PF_PROTO] = { "vfio_user.error_reply", VX_K_BOOL,
	    names_bool, "present when the header's error flag is set" },
	[PF_NO_REPLY - PF_PROTO] = { "vfio_user.no_reply", VX_K_BOOL,
	    names_bool, "present when the header's no_reply flag is set" },
	[PF_NOTE - PF_PROTO] = { "vfio_user.note", VX_K_ENUM, names_note,
	    "a decoder note (lib/notes.def), one item per note" },
	[PF_FRAME - PF_PROTO] = { "vfio_user.frame", VX_K_UINT, NULL,
	    "message number in the input" },
	[PF_REQ_FRAME - PF_PROTO] = { "vfio_user.request_frame", VX_K_UINT,
	    NULL, "for a reply: its command's frame" },
	[PF_CONN - PF_PROTO] = { "vfio_user.conn", VX_K_UINT, NULL,
	    "connection number" },
	[PF_LATENCY - PF_PROTO] = { "vfio_user.latency_ns", VX_K_UINT, NULL,
	    "for a reply: nanoseconds since its command" },
	[PF_FINDING - PF_PROTO] = { "vfio_user.finding", VX_K_ENUM,
	    names_finding, "a session finding (lib/findings.def)" },
	[PF_SEVERITY - PF_PROTO] = { "vfio_user.finding.severity", VX_K_ENUM,
	    names_severity, "note, warn or error, one item per finding" },
	[PF_EVENT - PF_PROTO] = { "vfio_user.event", VX_K_ENUM, names_event,
	    "a record that is not a message: irq, open, close, annotation, "
	    "raw, gap, digest, state" },
	[PF_FRAME_NUMBER - PF_PROTO] = { "frame.number", VX_K_UINT, NULL,
	    "record number in the trace, as Wireshark's" },
	[PF_TIME_REL - PF_PROTO] = { "frame.time_relative", VX_K_UINT, NULL,
	    "seconds since the trace's first record (0.000250)" },
	[PF_TIME_DELTA - PF_PROTO] = { "frame.time_delta", VX_K_UINT, NULL,
	    "seconds since the record before it in the trace" },
	/* the other keys of the decoded JSON (vfuctl schema), so that every
	   one is a filter */
	[PF_CMD_NAME - PF_PROTO] = { "vfio_user.cmd_name", VX_K_TEXT, NULL,
	    "the command's name (\"REGION_READ\"), absent for unknown ones" },
	[PF_SUMMARY - PF_PROTO] = { "vfio_user.summary", VX_K_TEXT, NULL,
	    "the summary line dissect prints" },
	[PF_MALFORMED - PF_PROTO] = { "vfio_user.malformed", VX_K_TEXT, NULL,
	    "a malformed message's decode error" },
	[PF_NOTES - PF_PROTO] = { "vfio_user.notes", VX_K_ENUM, names_note,
	    "as vfio_user.note (the JSON array's key)" },
	[PF_FINDINGS - PF_PROTO] = { "vfio_user.findings", VX_K_ENUM,
	    names_finding, "as vfio_user.finding (the JSON array's key)" },
	[PF_TIME_NS - PF_PROTO] = { "vfio_user.time_ns", VX_K_UINT, NULL,
	    "the record's time, nanoseconds since the epoch" },
};

static const char *
fkey(unsigned id)
{
	return id < VXF_COUNT ? vx_fields[id].key : pseudo[id - PF_PROTO].key;
}

static unsigned
fkind(unsigned id)
{
	return id < VXF_COUNT ? vx_fields[id].kind : pseudo[id - PF_PROTO].kind;
}

static const struct vx_tok *
fnames(unsigned id)
{
	if (id >= VXF_COUNT)
		return pseudo[id - PF_PROTO].names;
	if (vx_fields[id].kind == VX_K_BOOL)
		return names_bool;
	return vx_fields[id].names;
}

static int
is_blob(unsigned kind)
{
	return kind == VX_K_BYTES || kind == VX_K_TEXT;
}

static const char *const kind_names[] = {
	"uint", "hex", "enum", "flags", "bool", "bytes", "text", "group"
};

const char *
vx_filter_pseudo(unsigned i, const char **desc)
{
	if (i >= PF_END - PF_PROTO)
		return NULL;
	if (desc != NULL)
		*desc = pseudo[i].desc;
	return pseudo[i].key;
}

/* --- the compiled form ----------------------------------------------------- */

enum { N_ALL, N_AND, N_OR, N_NOT, N_TEST };

/* What one item is tested for ... */
enum {
	P_PRESENT, P_EQ, P_LT, P_LE, P_GT, P_GE, P_BITAND, P_CONTAINS,
	P_RANGE
};
/* ... and how the items' answers combine. */
enum {
	Q_ANY,		/* some item passes */
	Q_NONE,		/* present, no item passes (!=) */
	Q_ALL,		/* present, every item passes (===) */
	Q_ANY_NOT,	/* some item fails (!==) */
};

struct node {
	uint8_t type;		/* N_* */
	uint8_t pred;		/* P_* */
	uint8_t quant;		/* Q_* */
	uint8_t blob;		/* operand is bytes in the pool */
	uint16_t field;		/* enum vx_field_id or PF_* */
	uint32_t l, r;		/* children */
	uint64_t a, b;		/* integer a (range a..b); blob: pool offset, length */
};

struct vx_filter {
	struct node *nodes;
	uint32_t nnodes, ncap;
	uint8_t *pool;		/* byte and text operands */
	size_t plen, pcap;
	uint32_t root;
};

/* --- matching -------------------------------------------------------------- */

struct val {
	uint64_t u;
	const uint8_t *p;
	size_t n;
};

/*
 * The i-th value of a pseudo-field; -1 past the last.  Text values made
 * here (the summary) go to buf, cap bytes.
 */
static int
pseudo_val(unsigned id, unsigned i, const struct vx_msg *m,
    const struct vx_filter_ctx *ctx, struct val *v, char *buf, size_t cap)
{
	/* header items come first: the flags are item 3 once decoded */
	int hdr = m != NULL && m->nitems > 3 &&
	    m->items[3].field == VXF_HDR_FLAGS;
	unsigned have = ctx != NULL ? ctx->have : 0;
	int present;

	if (m == NULL) {	/* an event: only what the context has */
		switch (id) {
		case PF_PROTO:
		case PF_EVENT:
		case PF_FRAME:
		case PF_FRAME_NUMBER:
		case PF_CONN:
		case PF_TIME_REL:
		case PF_TIME_DELTA:
		case PF_TIME_NS:
		case PF_FINDING:	/* a CLOSE's unanswered commands */
		case PF_FINDINGS:
		case PF_SEVERITY:
			break;
		default:
			return -1;
		}
	}
	switch (id) {
	case PF_NOTE:
	case PF_NOTES:
		if (i >= m->nnotes)
			return -1;
		v->u = m->notes[i].code;
		return 0;
	case PF_FINDING:
	case PF_FINDINGS:
	case PF_SEVERITY:
		if (ctx == NULL || i >= ctx->nfindings)
			return -1;
		v->u = id != PF_SEVERITY ? ctx->findings[i].code :
		    ctx->findings[i].severity;
		return 0;
	}
	if (i > 0)
		return -1;
	present = 1;
	switch (id) {
	case PF_PROTO:
		v->u = 1;
		break;
	case PF_DIR:
		v->u = m->dir;
		break;
	case PF_CHAN:
		v->u = m->chan;
		break;
	case PF_TYPE:
		present = hdr;
		v->u = m->flags & VX_F_TYPE_MASK;
		break;
	case PF_STATUS:
		v->u = m->status;
		break;
	case PF_VARIANT:
		present = m->variant != VX_VAR_NONE;
		v->u = m->variant;
		break;
	case PF_ERROR_REPLY:
		present = hdr && (m->flags & VX_F_ERROR);
		v->u = 1;
		break;
	case PF_NO_REPLY:
		present = hdr && (m->flags & VX_F_NO_REPLY);
		v->u = 1;
		break;
	case PF_FRAME:
		present = (have & VX_FCTX_FRAME) != 0;
		v->u = present ? ctx->frame : 0;
		break;
	case PF_REQ_FRAME:
		present = (have & VX_FCTX_REQ_FRAME) != 0;
		v->u = present ? ctx->req_frame : 0;
		break;
	case PF_CONN:
		present = (have & VX_FCTX_CONN) != 0;
		v->u = present ? ctx->conn : 0;
		break;
	case PF_LATENCY:
		present = (have & VX_FCTX_LATENCY) != 0;
		v->u = present ? ctx->latency_ns : 0;
		break;
	case PF_EVENT:
		present = m == NULL && (have & VX_FCTX_EVENT) != 0;
		v->u = present ? ctx->event : 0;
		break;
	case PF_FRAME_NUMBER:
		present = (have & VX_FCTX_FRAME) != 0;
		v->u = present ? ctx->frame : 0;
		break;
	case PF_TIME_REL:
		present = (have & VX_FCTX_TIME) != 0;
		v->u = present ? ctx->time_rel_ns : 0;
		break;
	case PF_TIME_DELTA:
		present = (have & VX_FCTX_TIME) != 0;
		v->u = present ? ctx->time_delta_ns : 0;
		break;
	case PF_TIME_NS:
		present = (have & VX_FCTX_TIME) != 0;
		v->u = present ? ctx->time_ns : 0;
		break;
	case PF_CMD_NAME:
		v->p = (const uint8_t *)(hdr ? vx_cmd_name(m->cmd) : NULL);
		present = v->p != NULL;
		v->n = present ? strlen((const char *)v->p) : 0;
		break;
	case PF_SUMMARY:
		v->n = vx_summary(m, buf, cap);
		if (v->n >= cap)
			v->n = cap - 1;
		v->p = (const uint8_t *)buf;
		break;
	case PF_MALFORMED:	/* as dissect says it: "truncated: ..." */
		present = m->status == VX_MSG_MALFORMED;
		if (present)
			snprintf(buf, cap, "%s: %s", vx_strerror(m->err.code),
			    m->err.text);
		else
			buf[0] = '\0';
		v->p = (const uint8_t *)buf;
		v->n = strlen(buf);
		break;
	default:
		present = 0;
		break;
	}
	return present ? 0 : -1;
}

static int
pred1(const struct vx_filter *f, const struct node *n, const struct val *v)
{
	/* only blob operands index the pool, which may not exist */
	const uint8_t *b = n->blob && f->pool != NULL ? f->pool + n->a : NULL;

	switch (n->pred) {
	case P_PRESENT:
		return 1;
	case P_EQ:
		if (n->blob)
			return v->n == n->b &&
			    (n->b == 0 || memcmp(v->p, b, n->b) == 0);
		return v->u == n->a;
	case P_LT:
		return v->u < n->a;
	case P_LE:
		return v->u <= n->a;
	case P_GT:
		return v->u > n->a;
	case P_GE:
		return v->u >= n->a;
	case P_BITAND:
		return (v->u & n->a) != 0;
	case P_CONTAINS:
		if (n->b == 0)
			return 1;
		return v->n >= n->b && memmem(v->p, v->n, b, n->b) != NULL;
	case P_RANGE:
		return v->u >= n->a && v->u <= n->b;
	}
	return 0;
}

/* One item's answer r under quant q: 0 or 1 if that decides, else -1. */
static inline int
step(unsigned q, int r)
{
	switch (q) {
	case Q_ANY:
		return r ? 1 : -1;
	case Q_NONE:
		return r ? 0 : -1;
	case Q_ALL:
		return r ? -1 : 0;
	default:
		return r ? -1 : 1;
	}
}

static int
test(const struct vx_filter *f, const struct node *n, const struct vx_msg *m,
    const struct vx_filter_ctx *ctx)
{
	struct val v;
	unsigned i, seen = 0;
	int d;

	v.p = NULL;
	v.n = 0;
	if (m == NULL && n->field < VXF_COUNT)
		return 0;	/* an event has no message fields */
	if (n->field <= VXF_HDR_ERROR && n->field < m->nitems &&
	    m->items[n->field].field == n->field) {
		/*
		 * Header fields come first, in fields.def order, and only
		 * once: the common filters on cmd, flags and error look at
		 * one item instead of the whole message.
		 */
		v.u = m->items[n->field].val;
		d = pred1(f, n, &v);
		return n->quant == Q_NONE || n->quant == Q_ANY_NOT ? !d : d;
	}
	if (n->field < VXF_COUNT) {
		for (i = 0; i < m->nitems; i++) {
			const struct vx_item *it = &m->items[i];

			if (it->field != n->field)
				continue;
			v.u = it->val;
			if (n->blob) {
				v.p = it->ptr;
				v.n = it->len;
				/* text may be NUL-ended within or without len */
				if (vx_fields[it->field].kind == VX_K_TEXT &&
				    v.p != NULL)
					v.n = it->len ? strnlen((const char *)v.p,
					    it->len) : strlen((const char *)v.p);
				if (v.p == NULL)
					v.n = 0;
			}
			seen++;
			if ((d = step(n->quant, pred1(f, n, &v))) >= 0)
				return d;
		}
	} else {
		char text[1024];	/* a summary, built only when asked */

		for (i = 0; pseudo_val(n->field, i, m, ctx, &v, text,
		    sizeof(text)) == 0; i++) {
			seen++;
			if ((d = step(n->quant, pred1(f, n, &v))) >= 0)
				return d;
		}
	}
	/* every item had its say: any-tests failed, all-tests held */
	if (n->quant == Q_ANY || n->quant == Q_ANY_NOT)
		return 0;
	return seen > 0;
}

static int
eval(const struct vx_filter *f, uint32_t at, const struct vx_msg *m,
    const struct vx_filter_ctx *ctx)
{
	for (;;) {
		const struct node *n = &f->nodes[at];

		switch (n->type) {
		case N_TEST:
			return test(f, n, m, ctx);
		case N_NOT:
			return !eval(f, n->l, m, ctx);
		case N_AND:
			if (!eval(f, n->l, m, ctx))
				return 0;
			at = n->r;
			break;
		case N_OR:
			if (eval(f, n->l, m, ctx))
				return 1;
			at = n->r;
			break;
		default:
			return 1;
		}
	}
}

int
vx_filter_match(const struct vx_filter *f, const struct vx_msg *m,
    const struct vx_filter_ctx *ctx)
{
	if (f == NULL)
		return 1;
	if (m != NULL)
		vx_msg_items(m);
	return eval(f, f->root, m, ctx);
}

int
vx_filter_match_item(const struct vx_filter *f,
    const struct vx_walk_item *it, struct vx_filter_clock *clk)
{
	const struct vx_trace_rec *rec = it->rec;
	struct vx_filter_ctx fc;

	if (rec == NULL)	/* the end's unanswered commands */
		return 0;
	if (!clk->started) {
		clk->first_ns = clk->prev_ns = rec->ts_ns;
		clk->started = 1;
	}
	memset(&fc, 0, sizeof(fc));
	fc.have = VX_FCTX_FRAME | VX_FCTX_CONN | VX_FCTX_TIME;
	fc.frame = rec->frame;
	fc.conn = rec->conn;
	fc.time_rel_ns = rec->ts_ns >= clk->first_ns ?
	    rec->ts_ns - clk->first_ns : 0;
	fc.time_delta_ns = rec->ts_ns >= clk->prev_ns ?
	    rec->ts_ns - clk->prev_ns : 0;
	fc.time_ns = rec->ts_ns;
	clk->prev_ns = rec->ts_ns;
	if (f == NULL)
		return 1;
	if (it->msg == NULL) {
		fc.have |= VX_FCTX_EVENT;
		fc.event = rec->kind;
		/* a CLOSE carries the commands left unanswered */
		fc.findings = it->unanswered;
		fc.nfindings = it->nunanswered;
		return vx_filter_match(f, NULL, &fc);
	}
	fc.findings = it->res->findings;
	fc.nfindings = it->res->nfindings;
	if (it->res->paired) {
		fc.have |= VX_FCTX_REQ_FRAME | VX_FCTX_LATENCY;
		fc.req_frame = it->res->req_frame;
		fc.latency_ns = rec->ts_ns - it->res->req_ts_ns;
	}
	return vx_filter_match(f, it->msg, &fc);
}

void
vx_filter_free(struct vx_filter *f)
{
	if (f == NULL)
		return;
	free(f->nodes);
	free(f->pool);
	free(f);
}

/* --- dumping --------------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap, len;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
	    o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void
put_value(struct out *o, const struct vx_filter *f, const struct node *n,
    uint64_t u)
{
	unsigned kind = fkind(n->field);
	const char *name = fnames(n->field) ? vx_tok_name(fnames(n->field), u) :
	    NULL;
	size_t i;

	if (n->blob) {
		const uint8_t *b = f->pool != NULL ? f->pool + n->a : NULL;

		if (kind == VX_K_TEXT || n->b == 0) {
			put(o, "\"");
			for (i = 0; i < n->b; i++) {
				if (b[i] == '"' || b[i] == '\\')
					put(o, "\\%c", b[i]);
				else if (b[i] >= 0x20 && b[i] < 0x7f)
					put(o, "%c", b[i]);
				else
					put(o, "\\x%02x", b[i]);
			}
			put(o, "\"");
			return;
		}
		for (i = 0; i < n->b; i++)
			put(o, "%s%02x", i ? ":" : "", b[i]);
		return;
	}
	if (is_seconds(n->field))
		put(o, "%llu.%09llu", (unsigned long long)(u / 1000000000u),
		    (unsigned long long)(u % 1000000000u));
	else if (name != NULL && kind != VX_K_FLAGS)
		put(o, "%s", name);
	else if (kind == VX_K_HEX || kind == VX_K_FLAGS)
		put(o, "0x%llx", (unsigned long long)u);
	else
		put(o, "%llu", (unsigned long long)u);
}

static const char *
op_text(const struct node *n)
{
	static const char *const eq[] = { "==", "!=", "===", "!==" };

	switch (n->pred) {
	case P_EQ:
		return eq[n->quant & 3];
	case P_LT:
		return "<";
	case P_LE:
		return "<=";
	case P_GT:
		return ">";
	case P_GE:
		return ">=";
	case P_BITAND:
		return "&";
	case P_CONTAINS:
		return "contains";
	}
	return "?";
}

static void
dump(const struct vx_filter *f, uint32_t at, struct out *o)
{
	const struct node *n = &f->nodes[at];
	unsigned type;

	switch (n->type) {
	case N_TEST:
		put(o, "%s", fkey(n->field));
		if (n->pred == P_PRESENT)
			break;
		if (n->pred == P_RANGE) {
			put(o, " in {");
			put_value(o, f, n, n->a);
			put(o, "..");
			put_value(o, f, n, n->b);
			put(o, "}");
			break;
		}
		put(o, " %s ", op_text(n));
		put_value(o, f, n, n->a);
		break;
	case N_NOT:
		put(o, "!");
		dump(f, n->l, o);
		break;
	case N_AND:
	case N_OR:
		/* a chain prints flat: (a && b && c) */
		type = n->type;
		put(o, "(");
		for (;;) {
			dump(f, n->l, o);
			put(o, type == N_AND ? " && " : " || ");
			if (f->nodes[n->r].type != type)
				break;
			n = &f->nodes[n->r];
		}
		dump(f, n->r, o);
		put(o, ")");
		break;
	default:
		break;
	}
}

size_t
vx_filter_dump(const struct vx_filter *f, char *out, size_t cap)
{
	struct out o = { out, cap, 0 };

	if (cap > 0)
		out[0] = '\0';
	if (f != NULL)
		dump(f, f->root, &o);
	return o.len;
}

/* --- lexing ---------------------------------------------------------------- */

enum {
	T_END, T_LP, T_RP, T_LB, T_RB, T_COMMA, T_AND, T_OR, T_NOT, T_OP,
	T_IN, T_WORD, T_STR, T_BAD
};

static const struct opdef {
	const char *text;
	uint8_t pred, quant;
} ops[] = {
	/* symbols, longest first for the lexer */
	{ "===", P_EQ, Q_ALL },
	{ "!==", P_EQ, Q_ANY_NOT },
	{ "==", P_EQ, Q_ANY },
	{ "!=", P_EQ, Q_NONE },
	{ "~=", P_EQ, Q_ANY_NOT },
	{ "<=", P_LE, Q_ANY },
	{ ">=", P_GE, Q_ANY },
	{ "<", P_LT, Q_ANY },
	{ ">", P_GT, Q_ANY },
	{ "&", P_BITAND, Q_ANY },
	/* words */
	{ "eq", P_EQ, Q_ANY },
	{ "any_eq", P_EQ, Q_ANY },
	{ "ne", P_EQ, Q_NONE },
	{ "all_ne", P_EQ, Q_NONE },
	{ "all_eq", P_EQ, Q_ALL },
	{ "any_ne", P_EQ, Q_ANY_NOT },
	{ "lt", P_LT, Q_ANY },
	{ "le", P_LE, Q_ANY },
	{ "gt", P_GT, Q_ANY },
	{ "ge", P_GE, Q_ANY },
	{ "bitand", P_BITAND, Q_ANY },
	{ "contains", P_CONTAINS, Q_ANY },
};
#define NOPS	(sizeof(ops) / sizeof(ops[0]))
#define NSYMOPS	10

struct token {
	int type;
	size_t pos, len;
	int op;			/* T_OP: index in ops[] */
};

struct parser {
	const char *src;
	struct token t;		/* current token */
	struct token prev;	/* the one before, for "missing X after Y" */
	struct vx_filter *f;
	char *err;
	size_t errlen;
	int failed;
	int nomem;		/* the failure was an allocation */
	unsigned depth;
};

static int
is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	    c == '-';
}

static int
is_opchar(int c)
{
	return c != '\0' && strchr("=!<>~&|", c) != NULL;
}

static int
word_is(const struct parser *p, const struct token *t, const char *w)
{
	return strlen(w) == t->len && strncasecmp(p->src + t->pos, w, t->len) == 0;
}

static void
lex(struct parser *p, size_t pos, struct token *t)
{
	const char *s = p->src;
	size_t i;

	while (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' ||
	    s[pos] == '\r')
		pos++;
	t->pos = pos;
	t->len = 1;
	t->op = -1;
	switch (s[pos]) {
	case '\0':
		t->type = T_END;
		t->len = 0;
		return;
	case '(':
		t->type = T_LP;
		return;
	case ')':
		t->type = T_RP;
		return;
	case '{':
		t->type = T_LB;
		return;
	case '}':
		t->type = T_RB;
		return;
	case ',':
		t->type = T_COMMA;
		return;
	case '"':
		for (i = pos + 1; s[i] != '\0' && s[i] != '"'; i++)
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
		t->type = s[i] == '"' ? T_STR : T_BAD;
		t->len = s[i] == '"' ? i + 1 - pos : 1;
		return;
	}
	if (strncmp(s + pos, "&&", 2) == 0 || strncmp(s + pos, "||", 2) == 0) {
		t->type = s[pos] == '&' ? T_AND : T_OR;
		t->len = 2;
		return;
	}
	for (i = 0; i < NSYMOPS; i++) {
		size_t n = strlen(ops[i].text);

		if (strncmp(s + pos, ops[i].text, n) == 0) {
			t->type = T_OP;
			t->op = (int)i;
			t->len = n;
			return;
		}
	}
	if (s[pos] == '!') {
		t->type = T_NOT;
		return;
	}
	if (is_opchar(s[pos])) {
		/* "=", "|", "=<": keep the whole run for the message */
		for (i = pos; is_opchar(s[i]); i++)
			;
		t->type = T_BAD;
		t->len = i - pos;
		return;
	}
	if (!is_word((unsigned char)s[pos])) {
		t->type = T_BAD;
		return;
	}
	for (i = pos; is_word((unsigned char)s[i]); i++)
		;
	t->type = T_WORD;
	t->len = i - pos;
	if (word_is(p, t, "and"))
		t->type = T_AND;
	else if (word_is(p, t, "or"))
		t->type = T_OR;
	else if (word_is(p, t, "not"))
		t->type = T_NOT;
	else if (word_is(p, t, "in"))
		t->type = T_IN;
	for (i = NSYMOPS; t->type == T_WORD && i < NOPS; i++) {
		if (word_is(p, t, ops[i].text)) {
			t->type = T_OP;
			t->op = (int)i;
		}
	}
}

static void
next(struct parser *p)
{
	p->prev = p->t;
	lex(p, p->t.pos + p->t.len, &p->t);
}

/* --- errors ---------------------------------------------------------------- */

static void
fail(struct parser *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fail(struct parser *p, size_t col, const char *fmt, ...)
{
	struct out o = { p->err, p->errlen, 0 };
	char msg[256];
	va_list ap;
	size_t i;

	if (p->failed)
		return;
	p->failed = 1;
	if (p->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->src == NULL) {
		put(&o, "%s", msg);
		return;
	}
	/* the caret lines up only if every character is one column wide */
	for (i = 0; p->src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)p->src[i];

		put(&o, "%c", c < 0x20 || c == 0x7f ? ' ' : c);
	}
	put(&o, "\n%*s^ %s", (int)col, "", msg);
}

/* "'text'" of a token for messages, cut at 40 characters */
static const char *
quote(const struct parser *p, const struct token *t, char *buf, size_t cap)
{
	int n = t->len > 40 ? 40 : (int)t->len;

	if (t->type == T_END)
		snprintf(buf, cap, "the end");
	else
		snprintf(buf, cap, "'%.*s%s'", n, p->src + t->pos,
		    t->len > 40 ? "..." : "");
	return buf;
}

/* Case-blind edit distance; large for strings too long to bother. */
static unsigned
distance(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned row[65], i, j, diag, up;

	if (an > 64 || bn > 64)
		return 1000;
	for (j = 0; j <= bn; j++)
		row[j] = j;
	for (i = 1; i <= an; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= bn; j++) {
			int ca = a[i - 1], cb = b[j - 1];
			unsigned best;

			if (ca >= 'A' && ca <= 'Z')
				ca += 'a' - 'A';
			if (cb >= 'A' && cb <= 'Z')
				cb += 'a' - 'A';
			up = row[j];
			best = diag + (ca != cb);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[bn];
}

/* Keeps the closest candidate within reach of a word of length n. */
struct near {
	const char *best;
	unsigned d;
};

/* Equal but for case and punctuation: "MSIX" and "MSI-X". */
static int
same_alnum(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < an && !isalnum((unsigned char)a[i]))
			i++;
		while (j < bn && !isalnum((unsigned char)b[j]))
			j++;
		if (i == an || j == bn)
			return i == an && j == bn;
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[j]))
			return 0;
		i++;
		j++;
	}
}

static void
near_try(struct near *nr, const char *w, size_t n, const char *cand,
    size_t cn)
{
	unsigned limit = (unsigned)(n / 3 + 1), d;

	if (same_alnum(w, n, cand, cn))
		d = 0;
	else if (n > cn + limit || cn > n + limit)
		return;		/* the distance is at least the length gap */
	else
		d = distance(w, n, cand, cn);
	if (d <= limit && (nr->best == NULL || d < nr->d)) {
		nr->best = cand;
		nr->d = d;
	}
}

/* " (X?)" or "" */
static const char *
hint(const struct near *nr, char *buf, size_t cap)
{
	if (nr->best == NULL)
		return "";
	snprintf(buf, cap, " (%s?)", nr->best);
	return buf;
}

/* --- building -------------------------------------------------------------- */

static uint32_t
new_node(struct parser *p, unsigned type)
{
	struct vx_filter *f = p->f;
	struct node *n;

	if (f->nnodes == f->ncap) {
		uint32_t ncap = f->ncap ? f->ncap * 2 : 16;

		if ((n = realloc(f->nodes, ncap * sizeof(*n))) == NULL) {
			p->nomem = 1;
			fail(p, 0, "out of memory");
			return NIL;
		}
		f->nodes = n;
		f->ncap = ncap;
	}
	n = &f->nodes[f->nnodes];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->l = n->r = NIL;
	return f->nnodes++;
}

static uint32_t
new_test(struct parser *p, unsigned field, unsigned pred, unsigned quant,
    uint64_t a, uint64_t b)
{
	uint32_t at = new_node(p, N_TEST);
	struct node *n;

	if (at == NIL)
		return NIL;
	n = &p->f->nodes[at];
	n->field = (uint16_t)field;
	n->pred = (uint8_t)pred;
	n->quant = (uint8_t)quant;
	n->blob = is_blob(fkind(field)) && pred != P_PRESENT;
	n->a = a;
	n->b = b;
	return at;
}

/*
 * Append term to the and/or chain *head (type N_AND or N_OR), nesting to
 * the right; *tail is the chain's last link (NIL while it is one term).
 */
static int
chain(struct parser *p, unsigned type, uint32_t *head, uint32_t *tail,
    uint32_t term)
{
	uint32_t n;

	if (*head == NIL) {
		*head = term;
		return 0;
	}
	if ((n = new_node(p, type)) == NIL)
		return -1;
	if (*tail == NIL) {
		p->f->nodes[n].l = *head;
		p->f->nodes[n].r = term;
		*head = n;
	} else {
		p->f->nodes[n].l = p->f->nodes[*tail].r;
		p->f->nodes[n].r = term;
		p->f->nodes[*tail].r = n;
	}
	*tail = n;
	return 0;
}

static int
pool_add(struct parser *p, const void *b, size_t n)
{
	struct vx_filter *f = p->f;

	if (n > f->pcap - f->plen) {
		size_t ncap = f->pcap ? f->pcap : 64;
		uint8_t *np;

		while (ncap - f->plen < n)
			ncap *= 2;
		if ((np = realloc(f->pool, ncap)) == NULL) {
			p->nomem = 1;
			fail(p, 0, "out of memory");
			return -1;
		}
		f->pool = np;
		f->pcap = ncap;
	}
	memcpy(f->pool + f->plen, b, n);
	f->plen += n;
	return 0;
}

/* --- values ---------------------------------------------------------------- */

/* Decimal or 0x hex; -1 if s is no number, -2 if it overflows. */
static int
number(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned base = 10, d;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		int c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (x > (UINT64_MAX - d) / base)
			return -2;
		x = x * base + d;
	}
	*v = x;
	return 0;
}

/*
 * Seconds as Wireshark writes frame times (1, 0.5, 0.000250) into
 * nanoseconds; -1 if s is not that, -2 if it overflows.
 */
static int
seconds(const char *s, size_t n, uint64_t *v)
{
	const char *dot = memchr(s, '.', n);
	size_t ni = dot != NULL ? (size_t)(dot - s) : n, i;
	uint64_t sec = 0, frac = 0, scale = 1000000000u;
	int r;

	if (ni > 1 && (s[1] == 'x' || s[1] == 'X'))
		return -1;
	if (ni > 0 && (r = number(s, ni, &sec)) < 0)
		return r;
	if (dot != NULL) {
		if (n - ni - 1 == 0 && ni == 0)
			return -1;
		for (i = ni + 1; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (scale > 1) {	/* finer than 1 ns: dropped */
				scale /= 10;
				frac += (uint64_t)(s[i] - '0') * scale;
			}
		}
	}
	if (sec > (UINT64_MAX - frac) / 1000000000u)
		return -2;
	*v = sec * 1000000000u + frac;
	return 0;
}

/* Decode the string token t into the pool; its offset and length. */
static int
string_value(struct parser *p, const struct token *t, size_t *off,
    size_t *len)
{
	const char *s = p->src + t->pos + 1, *end = p->src + t->pos + t->len - 1;
	uint8_t c;

	*off = p->f->plen;
	while (s < end) {
		c = (uint8_t)*s++;
		if (c == '\\') {
			switch (*s) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '0':
				c = '\0';
				break;
			case '\\':
			case '"':
				c = (uint8_t)*s;
				break;
			case 'x':
				if (s + 2 < end && vx_hexval(s[1]) >= 0 &&
				    vx_hexval(s[2]) >= 0) {
					c = (uint8_t)(vx_hexval(s[1]) * 16 + vx_hexval(s[2]));
					s += 2;
					break;
				}
				/* FALLTHROUGH */
			default:
				fail(p, (size_t)(s - 1 - p->src),
				    "unknown escape '\\%c' (\\\\ \\\" \\n \\t \\r \\0 \\xHH)",
				    *s);
				return -1;
			}
			s++;
		}
		if (pool_add(p, &c, 1) < 0)
			return -1;
	}
	*len = p->f->plen - *off;
	return 0;
}

/* Hex bytes 0a:0b:0c (or - . or no separator) into the pool. */
static int
hex_bytes(struct parser *p, const char *s, size_t n, size_t *off, size_t *len)
{
	size_t i = 0;
	uint8_t b;

	*off = p->f->plen;
	while (i < n) {
		if (i + 1 >= n || vx_hexval(s[i]) < 0 || vx_hexval(s[i + 1]) < 0)
			goto bad;
		b = (uint8_t)(vx_hexval(s[i]) * 16 + vx_hexval(s[i + 1]));
		if (pool_add(p, &b, 1) < 0)
			return -1;
		i += 2;
		if (i < n && (s[i] == ':' || s[i] == '-' || s[i] == '.')) {
			if (++i == n)
				goto bad;
		}
	}
	*len = p->f->plen - *off;
	return 0;
bad:
	p->f->plen = *off;
	return 1;
}

/*
 * An integer operand of field from s[0..n) at column col: a number or a
 * name of the field's table.  quoted: s came from a "string".
 */
static int
int_value(struct parser *p, unsigned field, const char *s, size_t n,
    size_t col, int quoted, uint64_t *v)
{
	const struct vx_tok *names = fnames(field), *t;
	unsigned kind = fkind(field);
	char name[MAX_NAME], h[MAX_NAME + 8];
	struct near nr = { NULL, 0 };
	int r;

	if (is_seconds(field)) {
		if (!quoted && (r = seconds(s, n, v)) == 0)
			return 0;
		fail(p, col, "'%.*s' is not a time (%s is in seconds: 1, 0.5, "
		    "0.000250)", (int)(n > 40 ? 40 : n), s, fkey(field));
		return -1;
	}
	if (!quoted && (r = number(s, n, v)) != -1) {
		if (r == -2) {
			fail(p, col, "number '%.*s' does not fit 64 bits",
			    (int)n, s);
			return -1;
		}
		if (kind == VX_K_BOOL && *v > 1) {
			fail(p, col, "%s is a bool: true, false, 1 or 0",
			    fkey(field));
			return -1;
		}
		return 0;
	}
	if (names == NULL) {
		fail(p, col, "'%.*s' is not a number (%s is %s: decimal or 0x hex)",
		    (int)(n > 40 ? 40 : n), s, fkey(field), kind_names[kind]);
		return -1;
	}
	if (n < sizeof(name)) {
		memcpy(name, s, n);
		name[n] = '\0';
		if (vx_tok_value(names, name, v) == 0)
			return 0;
	}
	for (t = names; t->name != NULL; t++)
		near_try(&nr, s, n, t->name, strlen(t->name));
	fail(p, col, "unknown value '%.*s' for %s%s", (int)(n > 40 ? 40 : n), s,
	    fkey(field), hint(&nr, h, sizeof(h)));
	return -1;
}

/* Whether t can start a value (else the value is missing). */
static int
is_value(const struct token *t)
{
	return t->type == T_WORD || t->type == T_STR;
}

/*
 * The value after an operator (or inside a set) for a test of field; makes
 * the test node.  set: ranges lo..hi are allowed.
 */
static uint32_t
value_test(struct parser *p, unsigned field, unsigned pred, unsigned quant,
    int set)
{
	const struct token *t = &p->t;
	const char *s = p->src + t->pos;
	unsigned kind = fkind(field);
	char q[64];
	uint64_t a = 0, b = 0;
	size_t off, len;
	int r;

	if (t->type == T_BAD && p->src[t->pos] == '"') {
		fail(p, t->pos, "unterminated string");
		return NIL;
	}
	if (!is_value(t)) {
		if (set)
			fail(p, t->pos, "expected a value or '}', found %s",
			    quote(p, t, q, sizeof(q)));
		else
			fail(p, t->pos, "missing value after %s",
			    quote(p, &p->prev, q, sizeof(q)));
		return NIL;
	}
	if (is_blob(kind)) {
		if (t->type == T_STR) {
			if (string_value(p, t, &off, &len) < 0)
				return NIL;
		} else if (kind == VX_K_TEXT) {
			fail(p, t->pos, "%s is text: write a \"quoted string\"",
			    fkey(field));
			return NIL;
		} else if ((r = hex_bytes(p, s, t->len, &off, &len)) != 0) {
			if (r > 0)
				fail(p, t->pos, "'%.*s' is not hex bytes like 0a:0b:0c or a \"quoted string\"",
				    (int)(t->len > 40 ? 40 : t->len), s);
			return NIL;
		}
		next(p);
		return new_test(p, field, pred, quant, off, len);
	}
	if (t->type == T_STR) {
		/* a quoted name: decode, look up, drop the bytes again */
		if (string_value(p, t, &off, &len) < 0 || pool_add(p, "", 1) < 0)
			return NIL;
		r = int_value(p, field, (const char *)p->f->pool + off, len,
		    t->pos, 1, &a);
		p->f->plen = off;
		if (r < 0)
			return NIL;
	} else {
		const char *dots = NULL;
		size_t i;

		for (i = 0; set && i + 1 < t->len; i++) {
			if (s[i] == '.' && s[i + 1] == '.') {
				dots = s + i;
				break;
			}
		}
		if (dots != NULL) {
			size_t ln = (size_t)(dots - s), rn = t->len - ln - 2;

			if (ln == 0 || rn == 0) {
				fail(p, t->pos, "a range is LOW..HIGH");
				return NIL;
			}
			if (int_value(p, field, s, ln, t->pos, 0, &a) < 0 ||
			    int_value(p, field, dots + 2, rn, t->pos + ln + 2, 0,
			    &b) < 0)
				return NIL;
			if (b < a) {
				fail(p, t->pos, "empty range '%.*s'",
				    (int)t->len, s);
				return NIL;
			}
			next(p);
			return new_test(p, field, P_RANGE, Q_ANY, a, b);
		}
		if (int_value(p, field, s, t->len, t->pos, 0, &a) < 0)
			return NIL;
	}
	next(p);
	return new_test(p, field, pred, quant, a, 0);
}

/* FIELD in { ITEM ... } as an or-chain of tests; at '{'. */
static uint32_t
set_test(struct parser *p, unsigned field)
{
	size_t open = p->t.pos;
	uint32_t head = NIL, tail = NIL, t;
	char q[64];

	if (p->t.type != T_LB) {
		fail(p, p->t.pos, "expected '{' after 'in', found %s",
		    quote(p, &p->t, q, sizeof(q)));
		return NIL;
	}
	next(p);
	for (;;) {
		if (p->t.type == T_RB)
			break;
		if (p->t.type == T_END) {
			fail(p, open, "'{' is never closed");
			return NIL;
		}
		if ((t = value_test(p, field, P_EQ, Q_ANY, 1)) == NIL ||
		    chain(p, N_OR, &head, &tail, t) < 0)
			return NIL;
		if (p->t.type == T_COMMA)
			next(p);
	}
	if (head == NIL) {
		fail(p, open, "empty set");
		return NIL;
	}
	next(p);
	return head;
}

/* --- parsing --------------------------------------------------------------- */

static uint32_t parse_or(struct parser *);

static int
resolve(const char *s, size_t n)
{
	unsigned i;

	for (i = 0; i < VXF_COUNT; i++)
		if (strlen(vx_fields[i].key) == n &&
		    memcmp(vx_fields[i].key, s, n) == 0)
			return (int)i;
	for (i = PF_PROTO; i < PF_END; i++)
		if (strlen(pseudo[i - PF_PROTO].key) == n &&
		    memcmp(pseudo[i - PF_PROTO].key, s, n) == 0)
			return (int)i;
	return -1;
}

static void
unknown_field(struct parser *p, const struct token *t)
{
	const char *s = p->src + t->pos;
	static const char pre[] = "vfio_user.";
	struct near nr = { NULL, 0 };
	char h[160];
	unsigned i;

	for (i = 0; i < PF_END; i++) {
		const char *k = fkey(i);

		/* "cmd" or "region.offset" find their field too */
		near_try(&nr, s, t->len, k, strlen(k));
		if (strncmp(k, pre, sizeof(pre) - 1) == 0) {
			struct near tail = { NULL, 0 };

			near_try(&tail, s, t->len, k + sizeof(pre) - 1,
			    strlen(k) - (sizeof(pre) - 1));
			if (tail.best != NULL &&
			    (nr.best == NULL || tail.d < nr.d)) {
				nr.best = k;
				nr.d = tail.d;
			}
		}
	}
	fail(p, t->pos, "unknown field '%.*s'%s", (int)(t->len > 60 ? 60 : t->len),
	    s, hint(&nr, h, sizeof(h)));
}

/* "=", "|", "=<": symbols that are no operator of ours */
static int
is_bad_op(const struct parser *p, const struct token *t)
{
	return t->type == T_BAD && is_opchar(p->src[t->pos]);
}

/* What the user may have meant by an operator we do not have. */
static void
unknown_op(struct parser *p, const struct token *t)
{
	static const char *const fix[][2] = {
		{ "=", "==" }, { "|", "||" }, { "=<", "<=" }, { "=>", ">=" },
		{ "<>", "!=" }, { "=!", "!=" }, { "&&&", "&&" },
	};
	const char *s = p->src + t->pos;
	struct near nr = { NULL, 0 };
	char h[64];
	size_t i;

	if (t->type == T_WORD) {
		for (i = NSYMOPS; i < NOPS; i++)
			near_try(&nr, s, t->len, ops[i].text,
			    strlen(ops[i].text));
		near_try(&nr, s, t->len, "in", 2);
	} else {
		for (i = 0; i < sizeof(fix) / sizeof(fix[0]); i++)
			if (strlen(fix[i][0]) == t->len &&
			    strncmp(s, fix[i][0], t->len) == 0)
				nr.best = fix[i][1];
	}
	fail(p, t->pos, "unknown operator '%.*s'%s",
	    (int)(t->len > 40 ? 40 : t->len), s, hint(&nr, h, sizeof(h)));
}

static uint32_t
parse_field(struct parser *p)
{
	struct token ft = p->t, opt;
	unsigned kind, pred, quant;
	char q[64];
	int field;

	if ((field = resolve(p->src + ft.pos, ft.len)) < 0) {
		unknown_field(p, &ft);
		return NIL;
	}
	kind = fkind((unsigned)field);
	next(p);
	opt = p->t;
	if (p->t.type == T_WORD || is_bad_op(p, &p->t)) {
		unknown_op(p, &p->t);
		return NIL;
	}
	if (p->t.type != T_OP && p->t.type != T_IN)
		return new_test(p, (unsigned)field, P_PRESENT, Q_ANY, 0, 0);
	if (kind == VX_K_GROUP) {
		fail(p, opt.pos, "%s is a group: only its presence can be tested",
		    fkey((unsigned)field));
		return NIL;
	}
	if (p->t.type == T_IN) {
		next(p);
		return set_test(p, (unsigned)field);
	}
	pred = ops[p->t.op].pred;
	quant = ops[p->t.op].quant;
	if (pred == P_CONTAINS && !is_blob(kind)) {
		fail(p, opt.pos, "'contains' needs a bytes or text field; %s is %s",
		    fkey((unsigned)field), kind_names[kind]);
		return NIL;
	}
	if (is_blob(kind) && pred != P_EQ && pred != P_CONTAINS) {
		fail(p, opt.pos, "%s does not apply to %s field %s (==, !=, contains)",
		    quote(p, &opt, q, sizeof(q)), kind_names[kind],
		    fkey((unsigned)field));
		return NIL;
	}
	next(p);
	return value_test(p, (unsigned)field, pred, quant, 0);
}

static uint32_t
parse_primary(struct parser *p)
{
	struct token open;
	uint32_t e;
	char q[64];

	switch (p->t.type) {
	case T_LP:
		open = p->t;
		if (++p->depth > MAX_DEPTH) {
			fail(p, open.pos, "expression nests deeper than %d",
			    MAX_DEPTH);
			return NIL;
		}
		next(p);
		if ((e = parse_or(p)) == NIL)
			return NIL;
		if (p->t.type == T_END) {
			fail(p, open.pos, "'(' is never closed");
			return NIL;
		}
		if (is_bad_op(p, &p->t)) {
			unknown_op(p, &p->t);
			return NIL;
		}
		if (p->t.type != T_RP) {
			fail(p, p->t.pos, "unexpected %s: expected ')', '&&' or '||'",
			    quote(p, &p->t, q, sizeof(q)));
			return NIL;
		}
		p->depth--;
		next(p);
		return e;
	case T_WORD:
		return parse_field(p);
	case T_END:
		fail(p, p->t.pos, "missing expression after %s",
		    quote(p, &p->prev, q, sizeof(q)));
		return NIL;
	case T_BAD:
		if (p->src[p->t.pos] == '"') {
			fail(p, p->t.pos, "unterminated string");
			return NIL;
		}
		/* FALLTHROUGH */
	default:
		fail(p, p->t.pos, "expected a field, '(' or '!', found %s",
		    quote(p, &p->t, q, sizeof(q)));
		return NIL;
	}
}

static uint32_t
parse_not(struct parser *p)
{
	struct token nt = p->t;
	uint32_t e, n;

	if (p->t.type != T_NOT)
		return parse_primary(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, nt.pos, "expression nests deeper than %d", MAX_DEPTH);
		return NIL;
	}
	next(p);
	if ((e = parse_not(p)) == NIL || (n = new_node(p, N_NOT)) == NIL)
		return NIL;
	p->f->nodes[n].l = e;
	p->depth--;
	return n;
}

static uint32_t
parse_and(struct parser *p)
{
	uint32_t head = NIL, tail = NIL, t;

	for (;;) {
		if ((t = parse_not(p)) == NIL ||
		    chain(p, N_AND, &head, &tail, t) < 0)
			return NIL;
		if (p->t.type != T_AND)
			return head;
		next(p);
	}
}

static uint32_t
parse_or(struct parser *p)
{
	uint32_t head = NIL, tail = NIL, t;

	for (;;) {
		if ((t = parse_and(p)) == NIL ||
		    chain(p, N_OR, &head, &tail, t) < 0)
			return NIL;
		if (p->t.type != T_OR)
			return head;
		next(p);
	}
}

/* The whole of expr; NIL after fail(). */
static uint32_t
parse_expr(struct parser *p, const char *expr)
{
	uint32_t e;
	char q[64];

	p->src = expr;
	p->depth = 0;
	p->t.pos = p->t.len = 0;
	p->prev = p->t;
	lex(p, 0, &p->t);
	if (p->t.type == T_END)
		return new_node(p, N_ALL);
	if ((e = parse_or(p)) == NIL)
		return NIL;
	if (p->t.type == T_RP) {
		fail(p, p->t.pos, "')' without '('");
		return NIL;
	}
	if (is_bad_op(p, &p->t)) {
		unknown_op(p, &p->t);
		return NIL;
	}
	if (p->t.type != T_END) {
		fail(p, p->t.pos, "unexpected %s after the expression (&&, || or the end)",
		    quote(p, &p->t, q, sizeof(q)));
		return NIL;
	}
	return e;
}

/* --- entry points ---------------------------------------------------------- */

/* A command name or number of s[0..n); -1 if it is neither. */
static int
cmd_value(const char *s, size_t n, uint64_t *v)
{
	char name[MAX_NAME];

	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (number(name, n, v) == 0)
		return 0;
	return vx_tok_value(vx_names_cmd, name, v);
}

/* --cmd NAME[,NAME...] as an or-chain of vfio_user.cmd tests. */
static uint32_t
opt_cmd(struct parser *p, const char *arg)
{
	uint32_t head = NIL, tail = NIL, t;
	const char *s = arg, *e;
	struct near nr = { NULL, 0 };
	const struct vx_tok *k;
	char h[64];
	uint64_t v;
	size_t n;

	for (;;) {
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		if (cmd_value(s, n, &v) < 0) {
			for (k = vx_names_cmd; k->name != NULL; k++)
				near_try(&nr, s, n, k->name, strlen(k->name));
			fail(p, 0, "--cmd: unknown command '%.*s'%s",
			    (int)(n > 40 ? 40 : n), s, hint(&nr, h, sizeof(h)));
			return NIL;
		}
		if ((t = new_test(p, VXF_HDR_CMD, P_EQ, Q_ANY, v, 0)) == NIL ||
		    chain(p, N_OR, &head, &tail, t) < 0)
			return NIL;
		if (e == NULL)
			return head;
		s = e + 1;
	}
}

/* --errors: malformed or unknown, error replies, error findings. */
static uint32_t
opt_errors(struct parser *p)
{
	uint32_t head = NIL, tail = NIL, t;

	if ((t = new_test(p, PF_STATUS, P_EQ, Q_NONE, VX_MSG_OK, 0)) == NIL ||
	    chain(p, N_OR, &head, &tail, t) < 0 ||
	    (t = new_test(p, PF_ERROR_REPLY, P_PRESENT, Q_ANY, 0, 0)) == NIL ||
	    chain(p, N_OR, &head, &tail, t) < 0 ||
	    (t = new_test(p, PF_SEVERITY, P_EQ, Q_ANY, VX_SEV_ERROR, 0)) == NIL ||
	    chain(p, N_OR, &head, &tail, t) < 0)
		return NIL;
	return head;
}

int
vx_filter_compile_opts(const struct vx_filter_opts *o, char *err,
    size_t errlen, struct vx_filter **out)
{
	static const struct vx_filter_opts none;
	struct parser p;
	uint32_t head = NIL, tail = NIL, t;
	uint64_t v;

	*out = NULL;
	if (o == NULL)
		o = &none;
	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	else
		p.errlen = 0;
	if ((p.f = calloc(1, sizeof(*p.f))) == NULL) {
		if (p.errlen > 0)
			snprintf(err, errlen, "out of memory");
		return VX_ERR_NOMEM;
	}
	if (o->expr != NULL) {
		t = parse_expr(&p, o->expr);
		p.src = NULL;	/* later errors have no caret */
		/* a blank -Y adds nothing to the shortcuts */
		if (t != NIL && p.f->nodes[t].type != N_ALL &&
		    chain(&p, N_AND, &head, &tail, t) < 0)
			t = NIL;
		if (t == NIL)
			goto fail;
	}
	if (o->cmd != NULL && ((t = opt_cmd(&p, o->cmd)) == NIL ||
	    chain(&p, N_AND, &head, &tail, t) < 0))
		goto fail;
	if (o->dir != NULL) {
		if (vx_tok_value(names_dir, o->dir, &v) < 0) {
			fail(&p, 0, "--dir: '%s' is neither c2s nor s2c", o->dir);
			goto fail;
		}
		if ((t = new_test(&p, PF_DIR, P_EQ, Q_ANY, v, 0)) == NIL ||
		    chain(&p, N_AND, &head, &tail, t) < 0)
			goto fail;
	}
	if (o->conn_set &&
	    ((t = new_test(&p, PF_CONN, P_EQ, Q_ANY, o->conn, 0)) == NIL ||
	    chain(&p, N_AND, &head, &tail, t) < 0))
		goto fail;
	if (o->errors && ((t = opt_errors(&p)) == NIL ||
	    chain(&p, N_AND, &head, &tail, t) < 0))
		goto fail;
	if (head == NIL && (head = new_node(&p, N_ALL)) == NIL)
		goto fail;
	p.f->root = head;
	*out = p.f;
	return 0;
fail:
	vx_filter_free(p.f);
	return p.nomem ? VX_ERR_NOMEM : VX_ERR_INVALID;
}

/* A NULL expr is the empty one. */
int
vx_filter_compile(const char *expr, char *err, size_t errlen,
    struct vx_filter **out)
{
	struct vx_filter_opts o;

	memset(&o, 0, sizeof(o));
	o.expr = expr != NULL ? expr : "";
	return vx_filter_compile_opts(&o, err, errlen, out);
}
