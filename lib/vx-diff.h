/*
 * vx-diff.h - compare two decoded messages field by field, and a digest of
 * a message stream in a canonical form.
 *
 * vx_diff() compares a recorded message with a live one (a reply recorded
 * in a trace and the one a server gives now) through the item model of
 * lib/fields.def, never as raw bytes: the n-th occurrence of a field in
 * one is compared with the n-th occurrence of the same field in the other
 * (so a capability chain of another order or length still lines up field
 * by field), and a field only one of them has is a difference too.  Each
 * difference names the field (its schema key, as `vfuctl schema` and
 * dissect's JSON spell it), both values as vx_item_text() writes them and
 * the byte offset (of the first differing byte, for data).
 *
 * Ignore rules say what may legitimately differ.  Every rule set starts
 * with the defaults (VX_DIFF_NO_DEFAULTS leaves them out):
 *   vfio_user.msg_id               ids are the sender's; a replay remaps
 *                                  them
 *   vfio_user.dma.padding          QEMU's 4 bytes of DMA_READ/DMA_WRITE
 *                                  struct tail padding: never initialised
 *   vfio_user.io_fds.padding       padding of a sub-region entry
 *                                  (libvfio-user's 48-byte form)
 *   vfio_user.mig_state.data_fd    unused in vfio-user; any value goes
 * Descriptor numbers and times are not in messages, so never compared.
 *
 * More come from vx_diff_rules_add(): one rule a line, a field and
 * optional conditions, all of which must hold for the message:
 *
 *	FIELD [cmd=COMMAND] [region=REGION] [offset=N[-M]]
 *
 * FIELD is a key of fields.def, with or without "vfio_user.", or "*" for
 * every field; COMMAND a name (REGION_READ) or number; REGION a name (bar2,
 * config) or index; offset a region access's offset or range (inclusive)
 * that the access [offset, offset+count) must overlap; FIELD=N (any
 * integer field of the schema, N a number or the field's value name)
 * that the message's first FIELD is N.  "#" starts a comment.
 *
 * A line that starts with "shift" is a shift rule, for vx_diff_shift(),
 * not an ignore rule:
 *
 *	shift FIELD [CONDITION...] unit=s|ms|us|ns [width=W] [at=N] [plus=P]
 *
 * FIELD a data field (W bytes, default 8, from its byte N, default 0) or
 * an integer field on the wire (its own width); the value, an unsigned
 * integer in the message's byte order, counts units since some epoch
 * (a Unix time, usually) and is moved by the time elapsed since the
 * message was recorded, rounded up to whole units (a time that was in
 * the future then is again), plus P units more.
 */
#ifndef VX_DIFF_H
#define VX_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "vx-msg.h"

struct vx_diff_rules;

#define VX_DIFF_NO_DEFAULTS	0x1
#define VX_DIFF_NO_SHIFT	0x2	/* refuse shift rules (no commands sent) */

/* A rule set with the defaults unless flags has VX_DIFF_NO_DEFAULTS, that
 * refuses shift rules with VX_DIFF_NO_SHIFT; NULL when out of memory. */
struct vx_diff_rules *vx_diff_rules_new(unsigned flags);
void vx_diff_rules_free(struct vx_diff_rules *r);

/*
 * Add one rule (the line above; a blank or comment line adds nothing).
 * Returns 0, VX_ERR_INVALID with the reason in why (whycap bytes), or
 * VX_ERR_NOMEM.
 */
int vx_diff_rules_add(struct vx_diff_rules *r, const char *line, char *why,
    size_t whycap);

/* Add every line of a rules file; the reason names "path:line". */
int vx_diff_rules_load(struct vx_diff_rules *r, const char *path, char *why,
    size_t whycap);

/*
 * The shift rules that apply to m (a recorded command), applied to buf,
 * a copy of m's bytes len long (which may differ from m->len): each value
 * moved by elapsed_ns (now minus when m was recorded) in its units.  A
 * value beyond the field or beyond buf is left alone.  Returns how many
 * values were moved.
 */
int vx_diff_shift(const struct vx_diff_rules *r, const struct vx_msg *m,
    uint8_t *buf, size_t len, int64_t elapsed_ns);

/* 1 if field (VXF_*) of message m is ignored by the rules, else 0. */
int vx_diff_ignored(const struct vx_diff_rules *r, const struct vx_msg *m,
    unsigned field);

#define VX_DIFF_TEXT	80

struct vx_difference {
	uint16_t field;		/* enum vx_field_id */
	uint32_t nth;		/* which occurrence of the field, from 0 */
	int64_t rec_off;	/* byte offset in the recorded message, -1
				 * when it lacks the field */
	int64_t live_off;	/* ... in the live one */
	char rec[VX_DIFF_TEXT];	/* value text, "(absent)" when lacking */
	char live[VX_DIFF_TEXT];
};

/* The schema key of d's field ("vfio_user.region.data"). */
const char *vx_diff_key(const struct vx_difference *d);

/*
 * Compare rec with live, the rules taken on rec (its command, region and
 * access).  Stores the first max differences in out (may be NULL if max is
 * 0) and returns how many there are in all (0: identical but for what the
 * rules ignore), or VX_ERR_NOMEM.
 */
int vx_diff(const struct vx_diff_rules *r, const struct vx_msg *rec,
    const struct vx_msg *live, struct vx_difference *out, unsigned max);

/*
 * The canonical form of m: its codec JSON (vx_msg_json(), the keys of
 * `vfuctl schema`) without the summary line and without every field the
 * rules ignore for m, keys sorted, compact, pure ASCII.  malloc'd, or NULL
 * when out of memory.
 */
char *vx_diff_canonical(const struct vx_diff_rules *r, const struct vx_msg *m);

/*
 * A running BLAKE2b-256 (libsodium's crypto_generichash) over the
 * canonical forms of a message stream, each followed by a newline.
 */
struct vx_digest;

#define VX_DIGEST_LEN	32

struct vx_digest *vx_digest_new(void);
void vx_digest_free(struct vx_digest *d);
/* Add m's canonical form: 0 or VX_ERR_NOMEM. */
int vx_digest_add(struct vx_digest *d, const struct vx_diff_rules *r,
    const struct vx_msg *m);
/* Messages added so far. */
uint64_t vx_digest_count(const struct vx_digest *d);
/* The digest of what was added so far, as 64 lowercase hex digits and a
 * NUL; d can go on. */
void vx_digest_hex(const struct vx_digest *d, char out[2 * VX_DIGEST_LEN + 1]);

#endif /* VX_DIFF_H */
