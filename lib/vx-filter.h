/*
 * vx-filter.h - Wireshark-style display filters over decoded messages
 * (vfuctl dissect -Y EXPR).
 *
 * Grammar (keywords are case-insensitive, whitespace is free):
 *
 *   expr    := or
 *   or      := and { ('||' | 'or') and }
 *   and     := not { ('&&' | 'and') not }
 *   not     := ('!' | 'not') not | primary
 *   primary := '(' expr ')'
 *            | FIELD                        presence
 *            | FIELD OP VALUE
 *            | FIELD 'in' '{' ITEM { [','] ITEM } '}'
 *   ITEM    := VALUE | LOW..HIGH            (a range, no spaces: numbers
 *                                            or names of an integer field)
 *   OP      := '==' 'eq' 'any_eq'   any item equals
 *            | '!=' 'ne' 'all_ne'   present, and no item equals
 *            | '===' 'all_eq'       present, and every item equals
 *            | '!==' '~=' 'any_ne'  some item differs
 *            | '<' 'lt' | '<=' 'le' | '>' 'gt' | '>=' 'ge'
 *            | '&' 'bitand'         some item has a bit of VALUE set
 *            | 'contains'           bytes and text: some item contains VALUE
 *
 * So '!' binds tighter than '&&', which binds tighter than '||'.
 *
 * FIELD is a key of lib/fields.def ("vfio_user.region.offset") or one of
 * the pseudo-fields below.  VALUE depends on the field's kind:
 *
 *   uint, hex        decimal (no octal) or 0x hex; '<' '<=' '>' '>=' '&'
 *   enum, flags      a number or a name of the field's table, any case
 *                    (REGION_WRITE, bar2, MSI-X, EINVAL, RUNNING, reply);
 *                    "quoted" names work too
 *   bool             true, false, 1, 0
 *   bytes            hex bytes 0a:0b:0c (':' '-' '.' or no separator) or
 *                    a "quoted string"; == != === !== contains
 *   text             a "quoted string" (\" \\ \n \t \r \0 \xHH escapes);
 *                    == != === !== contains
 *   group            presence only (vfio_user.write_multi.write)
 *
 * Comparisons follow Wireshark 3.6 and later.  A message holds several
 * items of one field (the entries of REGION_WRITE_MULTI, the capability
 * chain, several findings); a comparison on an absent field is false, and
 *
 *   FIELD == V    some item equals V
 *   FIELD != V    the field is present and no item equals V: exactly
 *                 "FIELD && !(FIELD == V)", so a == b and a != b never
 *                 both hold (Wireshark's ALL_NE, also false on an absent
 *                 field).  Before 3.6 Wireshark's != meant "some item
 *                 differs"; that is '!==' (or '~=') here.
 *   FIELD === V   the field is present and every item equals V
 *   FIELD < V     some item is below V (likewise <= > >= & contains in),
 *                 each item on its own: "offset > 8 && offset < 4" holds
 *                 when one entry is above 8 and another below 4
 *
 * A bare FIELD tests presence, for booleans too: the version booleans are
 * present in every VERSION message whatever their value, so test them with
 * '== true'.  The flag pseudo-fields error_reply and no_reply are the
 * exception Wireshark makes for its analysis flags: present only when set,
 * so write them bare, and '!vfio_user.error_reply' for the others
 * ('== false' never matches).
 *
 * Pseudo-fields, computed from the message:
 *   vfio_user                    every record, events too (the protocol)
 *   vfio_user.dir                c2s, s2c
 *   vfio_user.chan               main, twin
 *   vfio_user.type               command, reply (once the header flags
 *                                decoded)
 *   vfio_user.status             ok, unknown-command, malformed
 *   vfio_user.variant            spec, libvfio-user, qemu (only when the
 *                                message has a peer-specific form)
 *   vfio_user.error_reply        bool, present when the error flag is set
 *   vfio_user.no_reply           bool, present when no_reply is set
 *   vfio_user.note               a key of lib/notes.def (ERRNO_ZERO, ...)
 * and from struct vx_filter_ctx (absent when ctx is NULL or not set):
 *   vfio_user.frame              uint
 *   vfio_user.request_frame      uint, a reply's command's frame
 *   vfio_user.conn               uint
 *   vfio_user.latency_ns         uint, a reply's time since its command
 *   vfio_user.finding            a key of lib/findings.def (REGION_BOUNDS)
 *   vfio_user.finding.severity   note, warn, error (one item per finding)
 *   vfio_user.event              irq, open, close, annotation, raw, gap,
 *                                digest, state: present for events only
 *   frame.number                 uint, as vfio_user.frame (Wireshark's name)
 *   frame.time_relative          seconds since the first record, written
 *                                1, 0.5 or 0.000250 (held in nanoseconds)
 *   frame.time_delta             seconds since the record before
 *   vfio_user.time_ns            uint, the record's time (epoch ns)
 * and, so that every key of the decoded JSON is a filter:
 *   vfio_user.cmd_name           text, the command's name
 *   vfio_user.summary            text, the summary line
 *   vfio_user.malformed          text, a malformed message's decode error
 *   vfio_user.notes, vfio_user.findings   as note and finding
 *
 * Events (records that are not messages: vx_filter_match() with m NULL)
 * have only vfio_user, vfio_user.event, the frame, connection and time
 * fields; every message field is absent for them, so "vfio_user.cmd ==
 * REGION_WRITE" selects no event and "vfio_user.conn == 2" selects that
 * connection's messages and events.
 *
 * An empty (or blank, or NULL) expression compiles to a filter matching
 * everything.
 *
 * Errors: vx_filter_compile() returns VX_ERR_INVALID and writes to err the
 * expression (tabs and newlines shown as spaces), a newline, and a caret
 * line pointing at the 0-based column of the offending token, then the
 * reason:
 *
 *   vfio_user.cmd == REGION_WRTE
 *                    ^ unknown value 'REGION_WRTE' for vfio_user.cmd (REGION_WRITE?)
 *
 * Unknown fields, names and word operators get the nearest candidate as
 * "(X?)" when one is close.  An err of 2 * strlen(expr) + 160 bytes holds
 * the whole message; shorter ones are cut, always NUL-terminated.
 *
 * Cost: compilation resolves every field key and value name; matching
 * allocates nothing, takes no locks and only reads the message, the
 * context and the filter, so one compiled filter may be used from several
 * threads.  A comparison on a header field (cmd, flags, error, ...) reads
 * one item; any other costs at most one pass over the message's items.
 */
#ifndef VX_FILTER_H
#define VX_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "vx-msg.h"
#include "vx-session.h"
#include "vx-walk.h"

struct vx_filter;

/* Bits of vx_filter_ctx.have: which of its numbers are known. */
#define VX_FCTX_FRAME		0x1u
#define VX_FCTX_REQ_FRAME	0x2u
#define VX_FCTX_CONN		0x4u
#define VX_FCTX_LATENCY		0x8u
#define VX_FCTX_EVENT		0x10u
#define VX_FCTX_TIME		0x20u

/*
 * What the caller knows about a message besides its bytes.  Fields whose
 * bit is not in have are absent; findings are those the session reported
 * for this message (vx_session_result.findings), borrowed for the call.
 *
 * dissect fills it per message, e.g.
 *
 *   ctx.have = VX_FCTX_FRAME | VX_FCTX_CONN;
 *   ctx.frame = frame; ctx.conn = conn;
 *   ctx.findings = res.findings; ctx.nfindings = res.nfindings;
 *   if (res.paired) {
 *           ctx.have |= VX_FCTX_REQ_FRAME | VX_FCTX_LATENCY;
 *           ctx.req_frame = res.req_frame;
 *           ctx.latency_ns = ts_ns - res.req_ts_ns;
 *   }
 */
struct vx_filter_ctx {
	unsigned have;		/* VX_FCTX_* */
	uint64_t frame;
	uint64_t req_frame;
	uint64_t conn;
	uint64_t latency_ns;
	unsigned event;			/* enum vx_trace_kind of an event */
	uint64_t time_rel_ns;		/* since the first record */
	uint64_t time_delta_ns;		/* since the record before */
	uint64_t time_ns;		/* the record's own (VX_FCTX_TIME) */
	const struct vx_finding *findings;
	unsigned nfindings;
};

/*
 * Compile expr into *out, a filter to free with vx_filter_free().  Returns
 * 0, VX_ERR_INVALID with the reason in err (see above; err may be NULL,
 * errlen 0), or VX_ERR_NOMEM with "out of memory" in err; *out is then
 * NULL.
 */
int vx_filter_compile(const char *expr, char *err, size_t errlen,
    struct vx_filter **out);

/*
 * 1 if m passes f, else 0.  m NULL: an event, described by ctx alone.  ctx
 * may be NULL: the context pseudo-fields are then absent.  A NULL f
 * matches everything.
 */
int vx_filter_match(const struct vx_filter *f, const struct vx_msg *m,
    const struct vx_filter_ctx *ctx);

/*
 * A walk's record through f: a message or an event, with the context a
 * walk knows (frame, connection, pairing, latency, findings, event kind)
 * and the frame times, which clk keeps from record to record (zero it
 * before the first).  Call it for every record of the walk, in order,
 * matching or not: frame.time_delta is from the record before.
 */
struct vx_filter_clock {
	int started;
	uint64_t first_ns, prev_ns;
};

int vx_filter_match_item(const struct vx_filter *f,
    const struct vx_walk_item *it, struct vx_filter_clock *clk);

void vx_filter_free(struct vx_filter *f);

/*
 * The filter in canonical form, fully parenthesised, names for enum
 * values: "(vfio_user.cmd == REGION_WRITE || !vfio_user.error_reply)".
 * Returns the length it needed (as snprintf); out is always terminated
 * when cap > 0.
 */
size_t vx_filter_dump(const struct vx_filter *f, char *out, size_t cap);

/*
 * dissect's shortcut options, and-ed with -Y into one filter.  Unset
 * members (NULL, 0) add nothing; with nothing set (or o NULL) the filter
 * matches everything.
 *
 *   cmd      --cmd NAME[,NAME...]: names or numbers of vfio_user.cmd
 *   dir      --dir c2s|s2c
 *   conn     --conn N, when conn_set
 *   errors   --errors: malformed or unknown command, error replies, and
 *            findings of severity error
 *   expr     -Y EXPR
 *
 * Errors name the option: "--cmd: unknown command 'REGION_WRTE'
 * (REGION_WRITE?)"; those of expr are vx_filter_compile()'s.
 */
struct vx_filter_opts {
	const char *cmd;
	const char *dir;
	int conn_set;
	uint64_t conn;
	int errors;
	const char *expr;
};

int vx_filter_compile_opts(const struct vx_filter_opts *o, char *err,
    size_t errlen, struct vx_filter **out);

/*
 * The pseudo-fields, for help and completion: the key of number i and its
 * description in *desc (if desc is not NULL), or NULL past the last.
 */
const char *vx_filter_pseudo(unsigned i, const char **desc);

#endif /* VX_FILTER_H */
