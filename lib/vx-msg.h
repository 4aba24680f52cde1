/*
 * vx-msg.h - one explicit model of every vfio-user message.
 *
 * A decoded message is a flat list of items in decode order (wire order,
 * except that a region-info capability chain is listed in chain order and
 * the bytes between capabilities after it).  Each item names
 * a field of lib/fields.def, where it lies in the message and its value.
 * The same list is what encode writes back (so decode then encode gives the
 * original bytes, malformed messages included: what could not be decoded is
 * kept as an "undecoded" item), what the text tree, the one-line summary and
 * JSON print, and what display filters match.  Nothing else describes the
 * wire layout.
 *
 * Ownership: a struct vx_msg borrows the bytes it was decoded from and the
 * item array of the struct vx_decoder that decoded it; both must outlive it,
 * and the next vx_decode() on the same decoder reuses the items.  After the
 * first few messages decoding allocates nothing (VERSION's JSON excepted).
 *
 * Lazy items: a decoder with `lazy` set validates every message completely
 * (same status, error and notes) but builds the item list of the hottest
 * messages, well-formed REGION_READ/REGION_WRITE, only when something asks
 * for it: vx_msg_items(), or any function below that reads items (encode,
 * print, JSON, vx_msg_get(), filters, the session layer).  Code that only
 * needs the header and the region-access view (m->rw, m->data) never pays
 * for items.  Items must be asked for before the next vx_decode() on the
 * same decoder.
 */
#ifndef VX_MSG_H
#define VX_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "vx-wire.h"

/* --- fields ------------------------------------------------------------ */

enum vx_field_id {
#define VX_FIELD(id, key, label, kind, width, names, flags, desc) VXF_##id,
#include "fields.def"
#undef VX_FIELD
	VXF_COUNT
};

enum vx_kind {
	VX_K_UINT,	/* printed in decimal */
	VX_K_HEX,	/* printed in hex */
	VX_K_ENUM,	/* value with a name */
	VX_K_FLAGS,	/* bits with names */
	VX_K_BOOL,
	VX_K_BYTES,	/* opaque data */
	VX_K_TEXT,	/* text (JSON, names) */
	VX_K_GROUP,	/* opens a group of the next `val` items */
};

#define VX_FF_VIRT	0x1	/* derived; not on the wire */
#define VX_FF_DATA	0x2	/* data bytes: what redaction zeroes */

/* A value/bit name table; ends with name == NULL. */
struct vx_tok {
	uint64_t val;
	const char *name;
};

struct vx_field {
	const char *key;	/* "vfio_user.region.offset" */
	const char *label;	/* "offset" */
	uint8_t kind;		/* enum vx_kind */
	uint8_t width;		/* wire bytes; 0 if variable or virtual */
	uint8_t flags;		/* VX_FF_* */
	const struct vx_tok *names;
	const char *desc;
};

extern const struct vx_field vx_fields[VXF_COUNT];

/* Look a field up by key; NULL if unknown. */
const struct vx_field *vx_field_by_key(const char *key);
/* Name of val in a table, or NULL. */
const char *vx_tok_name(const struct vx_tok *t, uint64_t val);
/* Value of name in a table (case-insensitive): 0, or VX_ERR_NOENT if
 * unknown. */
int vx_tok_value(const struct vx_tok *t, const char *name, uint64_t *val);

extern const struct vx_tok vx_names_cmd[];
extern const struct vx_tok vx_names_errno[];
extern const struct vx_tok vx_names_region[];
extern const struct vx_tok vx_names_irq[];
extern const struct vx_tok vx_names_mig_state[];
extern const struct vx_tok vx_names_feature[];
/* --peer's names: auto, spec, libvfio-user, qemu (enum vx_peer) */
extern const struct vx_tok vx_names_peer[];

/* "REGION_READ", or NULL for a number that is no command. */
const char *vx_cmd_name(unsigned cmd);

/* --- decoded messages --------------------------------------------------- */

struct vx_item {
	uint16_t field;		/* enum vx_field_id */
	uint16_t depth;		/* group nesting, 0 at top */
	uint32_t off;		/* byte offset in the message */
	uint32_t len;		/* wire bytes covered (0 for virtual items) */
	uint32_t index;		/* position within its group array */
	uint64_t val;		/* integers; for GROUP: items it contains */
	const uint8_t *ptr;	/* BYTES/TEXT: the bytes (len, or NUL-ended) */
};

enum vx_dir { VX_C2S = 0, VX_S2C = 1 };
enum vx_chan { VX_CHAN_MAIN = 0, VX_CHAN_TWIN = 1 };

/* Which implementation's wire forms to expect from a sender. */
enum vx_peer {
	VX_PEER_AUTO = 0,	/* recognise from VERSION, else by size */
	VX_PEER_SPEC,
	VX_PEER_LVU,		/* libvfio-user */
	VX_PEER_QEMU,
};

/* Which wire form a message turned out to use (peer variants). */
enum vx_variant {
	VX_VAR_NONE = 0,	/* there is only one form */
	VX_VAR_SPEC,
	VX_VAR_LVU,
	VX_VAR_QEMU,
};

enum vx_status {
	VX_MSG_OK = 0,		/* well formed (notes may apply) */
	VX_MSG_UNKNOWN,		/* command number vfio-user does not have */
	VX_MSG_MALFORMED,	/* see vx_msg.err */
};

/* Things normal per spec or per a real peer, worth saying, not errors. */
enum vx_note_code {
#define VX_NOTE(id, text) VX_NOTE_##id,
#include "notes.def"
#undef VX_NOTE
	VX_NOTE_COUNT
};
const char *vx_note_text(unsigned code);
const char *vx_note_key(unsigned code);

struct vx_note {
	uint16_t code;		/* enum vx_note_code */
	uint16_t field;		/* field it is about */
	uint32_t off;		/* byte offset in the message */
};

/* The first error, naming the field and offset. */
struct vx_diag {
	int code;		/* VX_ERR_TRUNCATED, _INVALID, _TOO_LARGE */
	uint16_t field;
	uint32_t off;
	char text[112];
};

#define VX_MAX_NOTES	8

/* Parsed VERSION capabilities, with the spec's defaults filled in. */
struct vx_caps {
	uint32_t present;	/* VX_CAPF_* bits of keys actually sent */
	uint64_t max_msg_fds;
	uint64_t max_data_xfer_size;
	uint64_t max_dma_maps;
	uint64_t pgsizes;
	uint64_t mig_pgsize;
	uint64_t mig_max_bitmap_size;
	int twin_supported;
	uint64_t twin_fd_index;
	int write_multiple;
};
#define VX_CAPF_MAX_MSG_FDS	0x001
#define VX_CAPF_MAX_XFER	0x002
#define VX_CAPF_MAX_DMA_MAPS	0x004
#define VX_CAPF_PGSIZES		0x008
#define VX_CAPF_MIGRATION	0x010
#define VX_CAPF_MIG_PGSIZE	0x020
#define VX_CAPF_MIG_MAX_BITMAP	0x040
#define VX_CAPF_TWIN		0x080
#define VX_CAPF_TWIN_FD		0x100
#define VX_CAPF_WRITE_MULTI	0x200
#define VX_CAPF_CAPABILITIES	0x400	/* the "capabilities" object */
#define VX_CAPF_UNKNOWN		0x800	/* keys vfuctl does not know */

struct vx_msg {
	const uint8_t *buf;	/* whole message, header included */
	size_t len;
	uint16_t id, cmd;
	uint32_t size, flags, error;
	uint8_t dir, chan;	/* enum vx_dir, vx_chan */
	uint8_t variant;	/* enum vx_variant */
	uint8_t status;		/* enum vx_status */
	uint8_t big_endian;
	uint8_t nnotes;
	int nfds;		/* descriptors that came with it */
	struct vx_diag err;	/* valid if status == VX_MSG_MALFORMED */
	struct vx_note notes[VX_MAX_NOTES];
	uint8_t peer;		/* enum vx_peer the sender was decoded as */
	struct vx_item *items;	/* NULL until built (lazy decoders) */
	uint32_t nitems;
	const struct vx_caps *caps;	/* VERSION only, else NULL */
	/*
	 * REGION_READ/REGION_WRITE that are not malformed: the access, and
	 * its data bytes (write command, read reply), dlen of them at data;
	 * dlen is 0 otherwise.  Filled by every decoder, lazy or not.
	 */
	struct vx_access { uint64_t offset; uint32_t index, count; } rw;
	const uint8_t *data;
	uint32_t dlen;
	struct vx_decoder *dec;	/* builds the items of a lazy decode */
};

static inline int
vx_msg_is_reply(const struct vx_msg *m)
{
	return (m->flags & VX_F_TYPE_MASK) == VX_F_TYPE_REPLY;
}

/*
 * Make m->items and m->nitems valid: a lazy decode builds them now (into
 * the decoder's item array, so before the next vx_decode()).  Returns 0,
 * or VX_ERR_NOMEM with no items.
 */
int vx_msg_items(const struct vx_msg *m);

/*
 * Redaction from the model: zero in out, a copy of m's m->len bytes, every
 * item whose field carries data (VX_FF_DATA in fields.def: region, DMA,
 * write-multi and migration data, and bytes that could not be decoded or
 * follow the payload), as m was decoded (its direction and peer variant).
 * Headers, counts and lengths stay.  Returns the bytes zeroed, or
 * VX_ERR_NOMEM, when the caller must not keep out's payload at all.
 */
long vx_msg_redact(const struct vx_msg *m, uint8_t *out);

/* Value of the first item of a field: 0, or VX_ERR_NOENT if absent (val
 * untouched). */
int vx_msg_get(const struct vx_msg *m, unsigned field, uint64_t *val);
/* The first item of a field, or NULL. */
const struct vx_item *vx_msg_item(const struct vx_msg *m, unsigned field);
int vx_msg_has_note(const struct vx_msg *m, unsigned code);

/* --- decoding ------------------------------------------------------------ */

/* What the decoder is told about a message besides its bytes. */
struct vx_dctx {
	uint8_t dir;		/* enum vx_dir */
	uint8_t chan;		/* enum vx_chan */
	uint8_t peer;		/* enum vx_peer of the sender's side */
	uint8_t big_endian;
	int nfds;
};

/* Reusable decoding state: item storage and VERSION's parsed JSON. */
struct vx_decoder {
	struct vx_item *items;
	uint32_t cap;
	uint32_t max_items;	/* 0: default limit */
	int lazy;		/* build items on demand (see the top) */
	struct vx_caps caps;
	void *json;		/* json_t of the last VERSION */
	const char **unknown;	/* keys of the last VERSION we don't know */
	unsigned nunknown, unknown_cap;
};

void vx_decoder_init(struct vx_decoder *d);
void vx_decoder_release(struct vx_decoder *d);

/*
 * Decode one message of exactly len bytes.  Returns 0 when the result is
 * usable (check m->status: OK, UNKNOWN or MALFORMED with m->err), or
 * VX_ERR_NOMEM.  Never reads outside buf[0..len).
 */
int vx_decode(struct vx_decoder *d, const uint8_t *buf, size_t len,
    const struct vx_dctx *ctx, struct vx_msg *m);

/*
 * Write a message from its items: integers from val, bytes from ptr.
 * Returns the message length, VX_ERR_TOO_LARGE if cap is too small.
 */
long vx_encode(const struct vx_msg *m, uint8_t *out, size_t cap);

/* --- building new messages ----------------------------------------------- */

/*
 * A builder lays out a message from fields in wire order; vx_build_finish()
 * fills the header size and returns the finished message in m (items and
 * bytes owned by the builder until vx_builder_release()).
 */
struct vx_builder {
	struct vx_item *items;
	uint32_t nitems, icap;
	uint8_t *buf;
	size_t len, cap;
	int big_endian;
	int err;
};

void vx_builder_init(struct vx_builder *b);
void vx_builder_release(struct vx_builder *b);
void vx_build_header(struct vx_builder *b, uint16_t id, uint16_t cmd,
    uint32_t flags, uint32_t error);
void vx_build_uint(struct vx_builder *b, unsigned field, uint64_t val);
void vx_build_bytes(struct vx_builder *b, unsigned field, const void *p,
    size_t n);
/* Returns 0 and a message view, or the first error of the build. */
int vx_build_finish(struct vx_builder *b, struct vx_msg *m);

/* --- printing ------------------------------------------------------------ */

#include <stdio.h>

/* One line: "REGION_READ reply bar2+0x10 len 4 = 0x0000001f". */
size_t vx_summary(const struct vx_msg *m, char *out, size_t cap);
/* Field tree with byte offsets, one field a line, indented by depth. */
void vx_print_tree(FILE *fp, const struct vx_msg *m, const char *indent);
/* Hex dump, each field's bytes on their own line with its name. */
void vx_print_hex(FILE *fp, const struct vx_msg *m, const char *indent);
/* Format one item's value as text ("0x10", "REGION_READ (9)", ...). */
size_t vx_item_text(const struct vx_msg *m, const struct vx_item *it,
    char *out, size_t cap);
/* JSON object (jansson json_t *) of the message; caller json_decref()s. */
void *vx_msg_json(const struct vx_msg *m);
/*
 * Print a jansson value (json_t *) and a newline to fp with flags
 * (JSON_COMPACT, ...) as pure ASCII: every control character and
 * non-ASCII character of its strings is a \u escape, so that JSON output
 * is as safe on a terminal as text output.  Returns 0, VX_ERR_IO on a
 * write error (errno kept) or VX_ERR_NOMEM.
 */
int vx_json_print(FILE *fp, const void *json, size_t flags);
/* "bar2", "config", "region 12" */
const char *vx_region_name(uint64_t index, char *buf, size_t cap);

#endif /* VX_MSG_H */
