/*
 * print.c - text and JSON views of a decoded message.  Both walk the same
 * item list with the same value formatting (vx_item_text), so the two
 * outputs cannot drift apart; JSON keys are the field keys of fields.def.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-strbuf.h"

/* snprintf that appends at *pos and never overruns */
static void
app(char *out, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < cap - *pos ? (size_t)n : cap - *pos - 1;
}

static void
flags_text(const struct vx_tok *t, uint64_t v, char *out, size_t cap,
    size_t *pos)
{
	const char *sep = "";

	app(out, cap, pos, "0x%llx", (unsigned long long)v);
	if (t == NULL || v == 0)
		return;
	app(out, cap, pos, " (");
	for (; t->name != NULL; t++) {
		if (t->val != 0 && (v & t->val) == t->val) {
			app(out, cap, pos, "%s%s", sep, t->name);
			sep = "|";
		}
	}
	app(out, cap, pos, ")");
}

size_t
vx_item_text(const struct vx_msg *m, const struct vx_item *it, char *out,
    size_t cap)
{
	const struct vx_field *f = &vx_fields[it->field];
	unsigned long long v = it->val;
	const char *name;
	size_t pos = 0, i, n;

	(void)m;
	out[0] = '\0';
	switch (f->kind) {
	case VX_K_UINT:
		app(out, cap, &pos, "%llu", v);
		break;
	case VX_K_HEX:
		app(out, cap, &pos, "0x%llx", v);
		break;
	case VX_K_ENUM:
		name = vx_tok_name(f->names, v);
		if (name != NULL)
			app(out, cap, &pos, "%s (%llu)", name, v);
		else
			app(out, cap, &pos, "%llu", v);
		break;
	case VX_K_FLAGS:
		flags_text(f->names, v, out, cap, &pos);
		break;
	case VX_K_BOOL:
		app(out, cap, &pos, "%s", v ? "true" : "false");
		break;
	case VX_K_BYTES:
		n = it->len < 32 ? it->len : 32;
		for (i = 0; i < n; i++)
			app(out, cap, &pos, "%02x", it->ptr[i]);
		if (n < it->len)
			app(out, cap, &pos, "... (%u bytes)", it->len);
		break;
	case VX_K_TEXT:
		n = it->len ? strnlen((const char *)it->ptr, it->len) :
		    (it->ptr ? strlen((const char *)it->ptr) : 0);
		vx_sb_text(out, cap, &pos, it->ptr, n);
		break;
	case VX_K_GROUP:
		app(out, cap, &pos, "[%u]", it->index);
		break;
	}
	return pos;
}

void
vx_print_tree(FILE *fp, const struct vx_msg *m, const char *indent)
{
	char val[512];
	uint32_t i;
	unsigned k;

	vx_msg_items(m);
	for (i = 0; i < m->nitems; i++) {
		const struct vx_item *it = &m->items[i];
		const struct vx_field *f = &vx_fields[it->field];

		vx_item_text(m, it, val, sizeof(val));
		fprintf(fp, "%s%*s%s: %s", indent, 4 * it->depth, "", f->label,
		    val);
		if (f->flags & VX_FF_VIRT) {
			if (it->field >= VXF_CAP_MAX_MSG_FDS &&
			    it->field <= VXF_CAP_WRITE_MULTI && it->index == 0)
				fputs(" (default)", fp);
			fputc('\n', fp);
		} else if (it->len == 0) {
			fputc('\n', fp);
		} else {
			fprintf(fp, "  [%u-%u]\n", it->off, it->off + it->len - 1);
		}
	}
	for (k = 0; k < m->nnotes; k++)
		fprintf(fp, "%snote: %s [%s @%u]\n", indent,
		    vx_note_text(m->notes[k].code),
		    vx_fields[m->notes[k].field].key, m->notes[k].off);
	if (m->status == VX_MSG_MALFORMED)
		fprintf(fp, "%s%s: %s [%s @%u]\n", indent,
		    vx_strerror(m->err.code), m->err.text,
		    vx_fields[m->err.field].key, m->err.off);
	else if (m->status == VX_MSG_UNKNOWN)
		fprintf(fp, "%sunknown command %u\n", indent, m->cmd);
}

void
vx_print_hex(FILE *fp, const struct vx_msg *m, const char *indent)
{
	uint32_t i, j;

	vx_msg_items(m);
	for (i = 0; i < m->nitems; i++) {
		const struct vx_item *it = &m->items[i];
		const struct vx_field *f = &vx_fields[it->field];

		if ((f->flags & VX_FF_VIRT) || f->kind == VX_K_GROUP)
			continue;
		for (j = 0; j < it->len; j += 16) {
			uint32_t k, n = it->len - j < 16 ? it->len - j : 16;

			fprintf(fp, "%s%04x  ", indent, it->off + j);
			for (k = 0; k < 16; k++) {
				if (k < n)
					fprintf(fp, "%02x ", m->buf[it->off + j + k]);
				else
					fputs("   ", fp);
			}
			if (j == 0)
				fprintf(fp, " %s", f->key);
			fputc('\n', fp);
		}
	}
}

/* Data of up to 8 bytes as the integer a register access means. */
static void
data_text(const struct vx_msg *m, unsigned field, char *out, size_t cap,
    size_t *pos)
{
	const struct vx_item *it = vx_msg_item(m, field);

	if (it == NULL)
		return;
	if (it->len <= 8 && it->len > 0) {
		vx_sb_str(out, cap, pos, " = ");
		vx_sb_hex(out, cap, pos, vx_load(it->ptr, it->len, m->big_endian),
		    (int)(2 * it->len));
	} else {
		app(out, cap, pos, " (%u bytes)", it->len);
	}
}

static uint64_t
getv(const struct vx_msg *m, unsigned field)
{
	uint64_t v = 0;

	vx_msg_get(m, field, &v);
	return v;
}

static int
has(const struct vx_msg *m, unsigned field)
{
	return vx_msg_item(m, field) != NULL;
}

static void
named(const struct vx_tok *t, uint64_t v, char *out, size_t cap, size_t *pos)
{
	const char *n = vx_tok_name(t, v);

	if (n != NULL)
		app(out, cap, pos, " %s", n);
	else
		app(out, cap, pos, " %llu", (unsigned long long)v);
}

static void
details(const struct vx_msg *m, char *out, size_t cap, size_t *pos)
{
	int reply = vx_msg_is_reply(m);
	char rn[32];
	const struct vx_caps *c = m->caps;

	switch (m->cmd) {
	case VX_CMD_VERSION:
		if (!has(m, VXF_VER_MAJOR))
			break;
		app(out, cap, pos, " %llu.%llu",
		    (unsigned long long)getv(m, VXF_VER_MAJOR),
		    (unsigned long long)getv(m, VXF_VER_MINOR));
		if (c == NULL)
			break;
		if (c->present & VX_CAPF_MAX_MSG_FDS)
			app(out, cap, pos, " max_msg_fds=%llu",
			    (unsigned long long)c->max_msg_fds);
		if (c->present & VX_CAPF_MAX_XFER)
			app(out, cap, pos, " max_data_xfer_size=%llu",
			    (unsigned long long)c->max_data_xfer_size);
		if (c->present & VX_CAPF_MIGRATION)
			app(out, cap, pos, " migration");
		if (c->present & VX_CAPF_TWIN)
			app(out, cap, pos, " twin_socket=%s",
			    c->twin_supported ? "yes" : "no");
		if (c->present & VX_CAPF_WRITE_MULTI)
			app(out, cap, pos, " write_multiple=%s",
			    c->write_multiple ? "yes" : "no");
		break;
	case VX_CMD_DMA_MAP:
	case VX_CMD_DMA_UNMAP:
		if (!has(m, VXF_DMA_ADDR))
			break;
		if (m->cmd == VX_CMD_DMA_UNMAP &&
		    (getv(m, VXF_DMA_UNMAP_FLAGS) & VX_DMA_UNMAP_ALL)) {
			app(out, cap, pos, " all");
			break;
		}
		app(out, cap, pos, " [0x%llx, +0x%llx)",
		    (unsigned long long)getv(m, VXF_DMA_ADDR),
		    (unsigned long long)getv(m, VXF_DMA_SIZE));
		if (m->cmd == VX_CMD_DMA_MAP) {
			uint64_t f = getv(m, VXF_DMA_MAP_FLAGS);

			app(out, cap, pos, " %s%s", f & VX_DMA_MAP_READ ? "r" : "",
			    f & VX_DMA_MAP_WRITE ? "w" : "");
			app(out, cap, pos, m->nfds ? " fd+0x%llx" : " no-fd",
			    (unsigned long long)getv(m, VXF_DMA_MAP_OFFSET));
		}
		break;
	case VX_CMD_DEVICE_GET_INFO:
		if (reply && has(m, VXF_DEV_NUM_REGIONS))
			app(out, cap, pos, " regions %llu irqs %llu",
			    (unsigned long long)getv(m, VXF_DEV_NUM_REGIONS),
			    (unsigned long long)getv(m, VXF_DEV_NUM_IRQS));
		break;
	case VX_CMD_DEVICE_GET_REGION_INFO:
	case VX_CMD_DEVICE_GET_REGION_IO_FDS:
		if (!has(m, VXF_REGION_INDEX))
			break;
		app(out, cap, pos, " %s",
		    vx_region_name(getv(m, VXF_REGION_INDEX), rn, sizeof(rn)));
		if (reply && has(m, VXF_RINFO_SIZE)) {
			uint64_t f = getv(m, VXF_RINFO_FLAGS);

			app(out, cap, pos, " size 0x%llx %s%s%s%s",
			    (unsigned long long)getv(m, VXF_RINFO_SIZE),
			    f & VX_REGION_READ ? "r" : "-",
			    f & VX_REGION_WRITE ? "w" : "-",
			    f & VX_REGION_MMAP ? "m" : "-",
			    f & VX_REGION_CAPS ? " caps" : "");
		}
		if (reply && has(m, VXF_IOFDS_COUNT))
			app(out, cap, pos, " count %llu",
			    (unsigned long long)getv(m, VXF_IOFDS_COUNT));
		break;
	case VX_CMD_DEVICE_GET_IRQ_INFO:
		if (!has(m, VXF_IRQ_INDEX))
			break;
		named(vx_names_irq, getv(m, VXF_IRQ_INDEX), out, cap, pos);
		if (reply)
			app(out, cap, pos, " count %llu",
			    (unsigned long long)getv(m, VXF_IRQ_COUNT));
		break;
	case VX_CMD_DEVICE_SET_IRQS:
		if (!has(m, VXF_IRQ_COUNT))
			break;
		named(vx_names_irq, getv(m, VXF_IRQ_INDEX), out, cap, pos);
		app(out, cap, pos, " start %llu count %llu",
		    (unsigned long long)getv(m, VXF_IRQ_START),
		    (unsigned long long)getv(m, VXF_IRQ_COUNT));
		{
			uint64_t f = getv(m, VXF_IRQ_SET_FLAGS);

			app(out, cap, pos, " %s %s",
			    f & VX_IRQ_ACTION_TRIGGER ? "trigger" :
			    f & VX_IRQ_ACTION_MASK ? "mask" : "unmask",
			    f & VX_IRQ_DATA_EVENTFD ? "eventfd" :
			    f & VX_IRQ_DATA_BOOL ? "bool" : "none");
		}
		break;
	case VX_CMD_REGION_READ:
	case VX_CMD_REGION_WRITE:
		if (!has(m, VXF_REGION_COUNT))
			break;
		vx_sb_str(out, cap, pos, " ");
		vx_sb_str(out, cap, pos,
		    vx_region_name(getv(m, VXF_REGION_INDEX), rn, sizeof(rn)));
		vx_sb_str(out, cap, pos, "+");
		vx_sb_hex(out, cap, pos, getv(m, VXF_REGION_OFFSET), 1);
		vx_sb_str(out, cap, pos, " len ");
		vx_sb_u64(out, cap, pos, getv(m, VXF_REGION_COUNT));
		data_text(m, VXF_REGION_DATA, out, cap, pos);
		break;
	case VX_CMD_DMA_READ:
	case VX_CMD_DMA_WRITE:
		if (!has(m, VXF_DMA_ADDR))
			break;
		app(out, cap, pos, " 0x%llx len %llu",
		    (unsigned long long)getv(m, VXF_DMA_ADDR),
		    (unsigned long long)(has(m, VXF_DMA_COUNT) ?
		    getv(m, VXF_DMA_COUNT) : getv(m, VXF_DMA_COUNT32)));
		data_text(m, VXF_DMA_DATA, out, cap, pos);
		break;
	case VX_CMD_REGION_WRITE_MULTI:
		if (has(m, VXF_WM_COUNT))
			app(out, cap, pos, " %llu writes",
			    (unsigned long long)getv(m, VXF_WM_COUNT));
		break;
	case VX_CMD_DEVICE_FEATURE:
		if (!has(m, VXF_FEAT_ID))
			break;
		named(vx_names_feature, getv(m, VXF_FEAT_ID), out, cap, pos);
		{
			uint64_t f = getv(m, VXF_FEAT_FLAGS);

			app(out, cap, pos, "%s%s%s", f & VX_FEATURE_PROBE ?
			    " probe" : "", f & VX_FEATURE_GET ? " get" : "",
			    f & VX_FEATURE_SET ? " set" : "");
		}
		/* a GET request's state is only the buffer to fill */
		if (has(m, VXF_MIG_STATE) &&
		    (reply || (getv(m, VXF_FEAT_FLAGS) & VX_FEATURE_SET)))
			named(vx_names_mig_state, getv(m, VXF_MIG_STATE), out,
			    cap, pos);
		break;
	case VX_CMD_MIG_DATA_READ:
	case VX_CMD_MIG_DATA_WRITE:
		if (has(m, VXF_MIGD_SIZE))
			app(out, cap, pos, " size %llu",
			    (unsigned long long)getv(m, VXF_MIGD_SIZE));
		break;
	}
}

size_t
vx_summary(const struct vx_msg *m, char *out, size_t cap)
{
	const char *name = vx_cmd_name(m->cmd);
	size_t pos = 0;

	out[0] = '\0';
	vx_msg_items(m);
	if (m->nitems < 2) {
		app(out, cap, &pos, "[malformed: %s]", m->err.text);
		return pos;
	}
	if (name != NULL)
		vx_sb_str(out, cap, &pos, name);
	else
		app(out, cap, &pos, "unknown command %u", m->cmd);
	vx_sb_str(out, cap, &pos, vx_msg_is_reply(m) ? " reply" : " command");
	if (m->flags & VX_F_NO_REPLY)
		vx_sb_str(out, cap, &pos, " no_reply");
	if (m->flags & VX_F_ERROR) {
		const char *e = vx_tok_name(vx_names_errno, m->error);

		app(out, cap, &pos, " error %s", e ? e : "");
		if (e == NULL)
			app(out, cap, &pos, "%u", m->error);
	}
	details(m, out, cap, &pos);
	if (m->status == VX_MSG_MALFORMED)
		app(out, cap, &pos, " [%s: %s]", vx_strerror(m->err.code),
		    m->err.text);
	return pos;
}

/* --- JSON ---------------------------------------------------------------- */

/* Bytes as a lowercase hex string. */
static json_t *
hex_json(const uint8_t *p, uint32_t len)
{
	static const char digits[] = "0123456789abcdef";
	char small[129], *hex = len < 64 ? small : malloc(2 * (size_t)len + 1);
	json_t *s;
	uint32_t i;

	if (hex == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 15];
	}
	hex[2 * len] = '\0';
	s = json_string(hex);
	if (hex != small)
		free(hex);
	return s;
}

static json_t *
item_json(const struct vx_msg *m, const struct vx_item *it)
{
	const struct vx_field *f = &vx_fields[it->field];
	char buf[32];
	json_t *s;

	(void)m;
	switch (f->kind) {
	case VX_K_BOOL:
		return json_boolean(it->val != 0);
	case VX_K_BYTES:
		return hex_json(it->ptr, it->len);
	case VX_K_TEXT:
		/* invalid UTF-8 cannot be a JSON string: fall back to hex */
		s = json_stringn((const char *)it->ptr, it->len ?
		    strnlen((const char *)it->ptr, it->len) :
		    strlen((const char *)it->ptr));
		if (s != NULL || it->len == 0)
			return s;
		return hex_json(it->ptr, it->len);
	default:
		if (it->val > INT64_MAX) {
			snprintf(buf, sizeof(buf), "0x%llx",
			    (unsigned long long)it->val);
			return json_string(buf);
		}
		return json_integer((json_int_t)it->val);
	}
}

/* Add items [*i, end) to obj; groups become arrays of objects. */
static void
items_json(const struct vx_msg *m, json_t *obj, uint32_t *i, uint32_t end)
{
	while (*i < end) {
		const struct vx_item *it = &m->items[*i];
		const struct vx_field *f = &vx_fields[it->field];

		if (f->kind == VX_K_GROUP) {
			json_t *arr = json_object_get(obj, f->key);
			json_t *sub = json_object();
			uint32_t gend = *i + 1 + (uint32_t)it->val;

			if (arr == NULL || !json_is_array(arr)) {
				arr = json_array();
				json_object_set_new(obj, f->key, arr);
			}
			(*i)++;
			items_json(m, sub, i, gend < end ? gend : end);
			json_array_append_new(arr, sub);
			continue;
		}
		if (it->field == VXF_CAP_UNKNOWN) {
			json_t *arr = json_object_get(obj, f->key);

			if (arr == NULL) {
				arr = json_array();
				json_object_set_new(obj, f->key, arr);
			}
			json_array_append_new(arr, item_json(m, it));
		} else if (json_object_get(obj, f->key) == NULL) {
			json_object_set_new(obj, f->key, item_json(m, it));
		}
		(*i)++;
	}
}

static const char *const variant_names[] = {
	"none", "spec", "libvfio-user", "qemu"
};

void *
vx_msg_json(const struct vx_msg *m)
{
	json_t *o = json_object(), *notes;
	char sum[512];
	uint32_t i = 0;
	unsigned k;

	vx_summary(m, sum, sizeof(sum));
	json_object_set_new(o, "vfio_user.summary", json_string(sum));
	json_object_set_new(o, "vfio_user.dir",
	    json_string(m->dir == VX_S2C ? "s2c" : "c2s"));
	if (m->chan == VX_CHAN_TWIN)
		json_object_set_new(o, "vfio_user.chan", json_string("twin"));
	if (m->nitems >= 2) {
		const char *n = vx_cmd_name(m->cmd);

		json_object_set_new(o, "vfio_user.type", json_string(
		    vx_msg_is_reply(m) ? "reply" : "command"));
		json_object_set_new(o, "vfio_user.cmd_name",
		    n ? json_string(n) : json_null());
	}
	json_object_set_new(o, "vfio_user.status", json_string(
	    m->status == VX_MSG_OK ? "ok" : m->status == VX_MSG_UNKNOWN ?
	    "unknown-command" : "malformed"));
	if (m->variant != VX_VAR_NONE)
		json_object_set_new(o, "vfio_user.variant",
		    json_string(variant_names[m->variant & 3]));
	items_json(m, o, &i, m->nitems);
	if (m->nnotes) {
		notes = json_array();
		for (k = 0; k < m->nnotes; k++)
			json_array_append_new(notes, json_pack("{s:s,s:s,s:s,s:i}",
			    "note", vx_note_key(m->notes[k].code),
			    "text", vx_note_text(m->notes[k].code),
			    "field", vx_fields[m->notes[k].field].key,
			    "offset", (int)m->notes[k].off));
		json_object_set_new(o, "vfio_user.notes", notes);
	}
	if (m->status == VX_MSG_MALFORMED)
		json_object_set_new(o, "vfio_user.malformed", json_pack(
		    "{s:s,s:s,s:i,s:s}", "error", vx_strerror(m->err.code),
		    "field", vx_fields[m->err.field].key,
		    "offset", (int)m->err.off, "text", m->err.text));
	return o;
}

int
vx_json_print(FILE *fp, const void *json, size_t flags)
{
	char *text = json_dumps(json, flags | JSON_ENSURE_ASCII), *p, *q;

	if (text == NULL)
		return VX_ERR_NOMEM;
	/* jansson leaves DEL as it is; it can only be inside a string */
	for (p = q = text;; p++) {
		if (*p != 0x7f && *p != '\0')
			continue;
		fwrite(q, 1, (size_t)(p - q), fp);
		if (*p == '\0')
			break;
		fputs("\\u007f", fp);
		q = p + 1;
	}
	fputc('\n', fp);
	free(text);
	return ferror(fp) ? VX_ERR_IO : 0;
}
