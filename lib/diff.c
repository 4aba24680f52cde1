/*
 * diff.c - recorded and live messages compared through the item model,
 * ignore rules, and the canonical form behind replay's digest
 * (vx-diff.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "vx-cursor.h"
#include "vx-diff.h"
#include "vx-error.h"

#define ANY	(-1)
#define ALL_FIELDS	VXF_COUNT

#define MAX_CONDS	4	/* FIELD=N conditions of one rule */

struct rule {
	unsigned field;		/* VXF_*, or ALL_FIELDS */
	int64_t cmd, region;	/* ANY or the value */
	int has_off;
	uint64_t off_lo, off_hi;
	unsigned nconds;	/* FIELD=N: the message's first FIELD is N */
	struct { unsigned field; uint64_t val; } cond[MAX_CONDS];
	/* a shift rule (a command's value moved by the time elapsed),
	 * not an ignore rule */
	int shift;
	uint64_t unit_ns, plus;
	uint32_t at;		/* byte of the field the value starts at */
	uint8_t width;		/* its bytes; 0: not given */
};

struct vx_diff_rules {
	struct rule *v;
	unsigned n, cap;
	unsigned nshift;	/* shift rules among them */
	unsigned flags;		/* VX_DIFF_* */
};

/* The defaults of vx-diff.h, each documented there. */
static const unsigned default_ignored[] = {
	VXF_HDR_ID, VXF_DMA_PAD, VXF_SUB_PADDING, VXF_MIG_DATA_FD,
};

static int
push_rule(struct vx_diff_rules *r, const struct rule *ru)
{
	if (r->n == r->cap) {
		unsigned cap = r->cap ? 2 * r->cap : 8;
		struct rule *v = realloc(r->v, cap * sizeof(*v));

		if (v == NULL)
			return VX_ERR_NOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *ru;
	r->nshift += ru->shift != 0;
	return 0;
}

struct vx_diff_rules *
vx_diff_rules_new(unsigned flags)
{
	struct vx_diff_rules *r = calloc(1, sizeof(*r));
	size_t i;

	if (r == NULL)
		return NULL;
	r->flags = flags;
	if (flags & VX_DIFF_NO_DEFAULTS)
		return r;
	for (i = 0; i < sizeof(default_ignored) / sizeof(*default_ignored);
	    i++) {
		struct rule ru = { .field = default_ignored[i], .cmd = ANY,
		    .region = ANY };

		if (push_rule(r, &ru) < 0) {
			vx_diff_rules_free(r);
			return NULL;
		}
	}
	return r;
}

void
vx_diff_rules_free(struct vx_diff_rules *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r);
}

/* A number (0x.. hex or decimal), whole string: 0, or -1. */
static int
parse_num(const char *s, uint64_t *v)
{
	char *end;

	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end != '\0' ? -1 : 0;
}

static int
parse_field(const char *s, unsigned *field)
{
	const struct vx_field *f;
	char key[96];

	if (strcmp(s, "*") == 0) {
		*field = ALL_FIELDS;
		return 0;
	}
	f = vx_field_by_key(s);
	if (f == NULL && strncmp(s, "vfio_user.", 10) != 0 &&
	    (size_t)snprintf(key, sizeof(key), "vfio_user.%s", s) < sizeof(key))
		f = vx_field_by_key(key);
	if (f == NULL)
		return -1;
	*field = (unsigned)(f - vx_fields);
	return 0;
}

/* An integer on the wire, which a FIELD=N condition can test. */
static int
is_int_field(unsigned field)
{
	const struct vx_field *f = &vx_fields[field];

	return f->kind != VX_K_BYTES && f->kind != VX_K_TEXT &&
	    f->kind != VX_K_GROUP;
}

/* An integer a shift rule can move: one on the wire. */
static int
is_wire_int(unsigned field)
{
	const struct vx_field *f = &vx_fields[field];

	return is_int_field(field) && f->width != 0 &&
	    !(f->flags & VX_FF_VIRT);
}

static int
parse_offset(struct rule *ru, const char *v)
{
	char lo[32];
	const char *dash = strchr(v, '-');

	if (strlen(v) >= sizeof(lo))
		return -1;
	memcpy(lo, v, strlen(v) + 1);
	if (dash != NULL)
		lo[dash - v] = '\0';
	if (parse_num(lo, &ru->off_lo) < 0)
		return -1;
	ru->off_hi = ru->off_lo;
	if (dash != NULL && (parse_num(dash + 1, &ru->off_hi) < 0 ||
	    ru->off_hi < ru->off_lo))
		return -1;
	ru->has_off = 1;
	return 0;
}

static const struct { const char *name; uint64_t ns; } units[] = {
	{ "s", 1000000000ull }, { "ms", 1000000 }, { "us", 1000 },
	{ "ns", 1 },
};

/* unit=, width=, at=, plus=: a shift rule's own words. */
static int
parse_shift_word(struct rule *ru, const char *s, const char *v, char *why,
    size_t whycap)
{
	uint64_t n;
	size_t i;

	if (!ru->shift) {
		snprintf(why, whycap, "'%.40s': only a shift rule takes it "
		    "(start the line with \"shift\")", s);
		return VX_ERR_INVALID;
	}
	if (strncmp(s, "unit=", 5) == 0) {
		for (i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (strcmp(v, units[i].name) == 0)
				ru->unit_ns = units[i].ns;
		if (ru->unit_ns != 0)
			return 0;
		snprintf(why, whycap, "'%.40s': not a unit (s, ms, us, ns)", s);
		return VX_ERR_INVALID;
	}
	if (parse_num(v, &n) < 0)
		goto bad;
	if (strncmp(s, "width=", 6) == 0) {
		if (n != 1 && n != 2 && n != 4 && n != 8) {
			snprintf(why, whycap, "'%.40s': not 1, 2, 4 or 8 "
			    "bytes", s);
			return VX_ERR_INVALID;
		}
		ru->width = (uint8_t)n;
	} else if (strncmp(s, "at=", 3) == 0) {
		if (n > UINT32_MAX)
			goto bad;
		ru->at = (uint32_t)n;
	} else {
		ru->plus = n;
	}
	return 0;
bad:
	snprintf(why, whycap, "'%.40s': not a number", s);
	return VX_ERR_INVALID;
}

/* FIELD=N: the message's first FIELD (an integer) is N. */
static int
parse_field_cond(struct rule *ru, const char *s, const char *v, char *why,
    size_t whycap)
{
	char key[96];
	unsigned field;
	uint64_t n;

	if ((size_t)(v - s) > sizeof(key))
		goto unknown;
	memcpy(key, s, (size_t)(v - s - 1));
	key[v - s - 1] = '\0';
	if (parse_field(key, &field) < 0 || field == ALL_FIELDS)
		goto unknown;
	if (!is_int_field(field)) {
		snprintf(why, whycap, "'%.40s': %s is not an integer field",
		    s, vx_fields[field].key);
		return VX_ERR_INVALID;
	}
	if (vx_tok_value(vx_fields[field].names, v, &n) < 0 &&
	    parse_num(v, &n) < 0) {
		snprintf(why, whycap, "'%.40s': not a number%s", s,
		    vx_fields[field].names ? " or name" : "");
		return VX_ERR_INVALID;
	}
	if (ru->nconds == MAX_CONDS) {
		snprintf(why, whycap, "'%.40s': more than %d FIELD=N "
		    "conditions", s, MAX_CONDS);
		return VX_ERR_INVALID;
	}
	ru->cond[ru->nconds].field = field;
	ru->cond[ru->nconds++].val = n;
	return 0;
unknown:
	snprintf(why, whycap, "'%.40s': expected cmd=, region=, offset=, "
	    "FIELD=N%s", s, ru->shift ? ", unit=, width=, at= or plus=" :
	    " or (in a shift rule) unit=, width=, at=, plus=");
	return VX_ERR_INVALID;
}

static int
parse_cond(struct rule *ru, const char *s, char *why, size_t whycap)
{
	const char *eq = strchr(s, '=');
	const char *v = eq ? eq + 1 : "";
	uint64_t n;

	if (eq == NULL) {
		snprintf(why, whycap, "'%.40s': expected a condition "
		    "(cmd=, region=, offset=, FIELD=N)", s);
		return VX_ERR_INVALID;
	}
	if (strncmp(s, "cmd=", 4) == 0) {
		if (vx_tok_value(vx_names_cmd, v, &n) < 0 &&
		    parse_num(v, &n) < 0)
			goto bad;
		ru->cmd = (int64_t)(n & 0xffff);
		return 0;
	}
	if (strncmp(s, "region=", 7) == 0) {
		if (vx_tok_value(vx_names_region, v, &n) < 0 &&
		    parse_num(v, &n) < 0)
			goto bad;
		ru->region = (int64_t)(n & 0xffffffff);
		return 0;
	}
	if (strncmp(s, "offset=", 7) == 0) {
		if (parse_offset(ru, v) < 0)
			goto bad;
		return 0;
	}
	if (strncmp(s, "unit=", 5) == 0 || strncmp(s, "width=", 6) == 0 ||
	    strncmp(s, "at=", 3) == 0 || strncmp(s, "plus=", 5) == 0)
		return parse_shift_word(ru, s, v, why, whycap);
	return parse_field_cond(ru, s, v, why, whycap);
bad:
	snprintf(why, whycap, "'%.40s': not a %s", s,
	    strncmp(s, "offset", 6) == 0 ? "number or range N-M" :
	    strncmp(s, "cmd", 3) == 0 ? "command name or number" :
	    "region name or index");
	return VX_ERR_INVALID;
}

/* What a shift rule needs: a field with a value in it, a unit. */
static int
check_shift(struct rule *ru, char *why, size_t whycap)
{
	const struct vx_field *f = &vx_fields[ru->field];

	if (ru->field == ALL_FIELDS || (f->kind != VX_K_BYTES &&
	    !is_wire_int(ru->field))) {
		snprintf(why, whycap, "shift %s: not a data or integer field",
		    ru->field == ALL_FIELDS ? "*" : f->key);
		return VX_ERR_INVALID;
	}
	if (ru->unit_ns == 0) {
		snprintf(why, whycap, "shift %s: unit= is missing (s, ms, us "
		    "or ns: what the value counts)", f->key);
		return VX_ERR_INVALID;
	}
	if (f->kind == VX_K_BYTES) {
		if (ru->width == 0)
			ru->width = 8;
		return 0;
	}
	if ((ru->width != 0 && ru->width != f->width) || ru->at != 0) {
		snprintf(why, whycap, "shift %s: an integer field of %u bytes "
		    "takes no width= or at=", f->key, f->width);
		return VX_ERR_INVALID;
	}
	ru->width = f->width;
	return 0;
}

int
vx_diff_rules_add(struct vx_diff_rules *r, const char *line, char *why,
    size_t whycap)
{
	char buf[512], *save = NULL, *tok;
	struct rule ru = { .cmd = ANY, .region = ANY };
	int err;

	if (strlen(line) >= sizeof(buf)) {
		snprintf(why, whycap, "rule longer than %zu bytes",
		    sizeof(buf) - 1);
		return VX_ERR_INVALID;
	}
	memcpy(buf, line, strlen(line) + 1);
	buf[strcspn(buf, "#")] = '\0';
	tok = strtok_r(buf, " \t\r\n", &save);
	if (tok == NULL)
		return 0;
	if (strcmp(tok, "shift") == 0 && (r->flags & VX_DIFF_NO_SHIFT)) {
		snprintf(why, whycap, "shift rules move what a replayed client "
		    "sends (vfuctl replay); here nothing is sent from the trace");
		return VX_ERR_INVALID;
	}
	if (strcmp(tok, "shift") == 0) {
		ru.shift = 1;
		if ((tok = strtok_r(NULL, " \t\r\n", &save)) == NULL) {
			snprintf(why, whycap, "shift: the field is missing "
			    "(shift FIELD [CONDITION...] unit=U)");
			return VX_ERR_INVALID;
		}
	}
	if (parse_field(tok, &ru.field) < 0) {
		snprintf(why, whycap, "'%.60s': no such field (see vfuctl "
		    "schema)", tok);
		return VX_ERR_INVALID;
	}
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
		if ((err = parse_cond(&ru, tok, why, whycap)) < 0)
			return err;
	if (ru.shift && (err = check_shift(&ru, why, whycap)) < 0)
		return err;
	return push_rule(r, &ru);
}

int
vx_diff_rules_load(struct vx_diff_rules *r, const char *path, char *why,
    size_t whycap)
{
	FILE *fp = fopen(path, "r");
	char line[512], sub[200];
	unsigned lineno = 0;
	int err = 0;

	if (fp == NULL) {
		snprintf(why, whycap, "%s: %s", path, strerror(errno));
		return VX_ERR_IO;
	}
	while (err == 0 && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(sub, sizeof(sub), "line too long");
			err = VX_ERR_INVALID;
		} else {
			err = vx_diff_rules_add(r, line, sub, sizeof(sub));
		}
		if (err == VX_ERR_INVALID)
			snprintf(why, whycap, "%s:%u: %s", path, lineno, sub);
	}
	if (err == 0 && ferror(fp)) {
		snprintf(why, whycap, "%s: %s", path, strerror(errno));
		err = VX_ERR_IO;
	}
	fclose(fp);
	return err;
}

/* --- which fields a message ignores --------------------------------------- */

/* What rules test about a message. */
struct ctx {
	int64_t cmd, region;
	int has_access;
	uint64_t lo, hi;	/* the access's bytes, inclusive */
};

static void
msg_ctx(const struct vx_msg *m, struct ctx *c)
{
	uint64_t v;

	c->cmd = m->cmd;
	c->region = ANY;
	c->has_access = 0;
	if ((m->cmd == VX_CMD_REGION_READ || m->cmd == VX_CMD_REGION_WRITE) &&
	    m->status != VX_MSG_MALFORMED && m->len >= 32) {
		c->region = m->rw.index;
		c->has_access = 1;
		c->lo = m->rw.offset;
		c->hi = m->rw.offset + (m->rw.count ? m->rw.count - 1 : 0);
		return;
	}
	if (vx_msg_get(m, VXF_REGION_INDEX, &v) == 0)
		c->region = (int64_t)v;
	if (vx_msg_get(m, VXF_REGION_OFFSET, &v) == 0) {
		c->has_access = 1;
		c->lo = c->hi = v;
	}
}

static int
rule_applies(const struct rule *ru, const struct ctx *c,
    const struct vx_msg *m)
{
	uint64_t v;
	unsigned i;

	if (ru->cmd != ANY && ru->cmd != c->cmd)
		return 0;
	if (ru->region != ANY && ru->region != c->region)
		return 0;
	if (ru->has_off && (!c->has_access || c->hi < ru->off_lo ||
	    c->lo > ru->off_hi))
		return 0;
	for (i = 0; i < ru->nconds; i++)
		if (vx_msg_get(m, ru->cond[i].field, &v) < 0 ||
		    v != ru->cond[i].val)
			return 0;
	return 1;
}

/* ign[f] = 1 for every field the rules ignore in m. */
static void
ignored_set(const struct vx_diff_rules *r, const struct vx_msg *m,
    uint8_t ign[VXF_COUNT])
{
	struct ctx c;
	unsigned i;

	memset(ign, 0, VXF_COUNT);
	if (r == NULL || r->n == 0)
		return;
	msg_ctx(m, &c);
	for (i = 0; i < r->n; i++) {
		if (r->v[i].shift || !rule_applies(&r->v[i], &c, m))
			continue;
		if (r->v[i].field == ALL_FIELDS)
			memset(ign, 1, VXF_COUNT);
		else
			ign[r->v[i].field] = 1;
	}
}

int
vx_diff_ignored(const struct vx_diff_rules *r, const struct vx_msg *m,
    unsigned field)
{
	uint8_t ign[VXF_COUNT];

	if (field >= VXF_COUNT)
		return 0;
	ignored_set(r, m, ign);
	return ign[field];
}

/* --- shift rules ------------------------------------------------------ */

/* ceil(ns / unit), for either sign. */
static int64_t
units_up(int64_t ns, uint64_t unit)
{
	if (ns > 0)
		return (int64_t)(((uint64_t)ns + unit - 1) / unit);
	return -(int64_t)((uint64_t)-ns / unit);
}

int
vx_diff_shift(const struct vx_diff_rules *r, const struct vx_msg *m,
    uint8_t *buf, size_t len, int64_t elapsed_ns)
{
	const struct vx_item *it;
	struct ctx c;
	unsigned i;
	int n = 0;

	/* most replays have none: no items built for them */
	if (r == NULL || r->nshift == 0 || vx_msg_items(m) < 0)
		return 0;
	msg_ctx(m, &c);
	for (i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];
		uint64_t end;
		uint8_t *p;

		if (!ru->shift || !rule_applies(ru, &c, m) ||
		    (it = vx_msg_item(m, ru->field)) == NULL)
			continue;
		/* within the field as recorded, and within buf */
		end = (uint64_t)ru->at + ru->width;
		if (end > it->len || it->off + end > len)
			continue;
		p = buf + it->off + ru->at;
		vx_store(p, ru->width, vx_load(p, ru->width, m->big_endian) +
		    (uint64_t)units_up(elapsed_ns, ru->unit_ns) + ru->plus,
		    m->big_endian);
		n++;
	}
	return n;
}

/* --- comparing ------------------------------------------------------------- */

const char *
vx_diff_key(const struct vx_difference *d)
{
	return d->field < VXF_COUNT ? vx_fields[d->field].key : "?";
}

/* Index of the first differing byte of two values, or -1 if equal. */
static long
first_change(const struct vx_item *a, const struct vx_item *b)
{
	const struct vx_field *f = &vx_fields[a->field];
	uint32_t i, n;

	if (f->kind != VX_K_BYTES && f->kind != VX_K_TEXT)
		return a->val == b->val ? -1 : 0;
	if (a->ptr == NULL || b->ptr == NULL)
		return a->len == b->len && a->ptr == b->ptr ? -1 : 0;
	n = a->len < b->len ? a->len : b->len;
	for (i = 0; i < n; i++)
		if (a->ptr[i] != b->ptr[i])
			return (long)i;
	if (f->kind == VX_K_TEXT && a->len == 0 && b->len == 0)
		return strcmp((const char *)a->ptr, (const char *)b->ptr) ?
		    0 : -1;
	return a->len == b->len ? -1 : (long)n;
}

struct diffs {
	struct vx_difference *out;
	unsigned max, n;
};

static void
add_diff(struct diffs *d, const struct vx_msg *rec, const struct vx_item *a,
    const struct vx_msg *live, const struct vx_item *b, unsigned field,
    uint32_t nth, long at)
{
	struct vx_difference *x;

	if (d->n++ >= d->max)
		return;
	x = &d->out[d->n - 1];
	x->field = (uint16_t)field;
	x->nth = nth;
	x->rec_off = a ? (int64_t)a->off + (at > 0 ? at : 0) : -1;
	x->live_off = b ? (int64_t)b->off + (at > 0 ? at : 0) : -1;
	if (a != NULL)
		vx_item_text(rec, a, x->rec, sizeof(x->rec));
	else
		snprintf(x->rec, sizeof(x->rec), "(absent)");
	if (b != NULL)
		vx_item_text(live, b, x->live, sizeof(x->live));
	else
		snprintf(x->live, sizeof(x->live), "(absent)");
}

/* The next item of field at or after *pos in m, or NULL. */
static const struct vx_item *
next_of(const struct vx_msg *m, unsigned field, uint32_t *pos)
{
	for (; *pos < m->nitems; (*pos)++)
		if (m->items[*pos].field == field)
			return &m->items[(*pos)++];
	return NULL;
}

static int
skipped(const uint8_t *ign, unsigned field)
{
	return ign[field] || vx_fields[field].kind == VX_K_GROUP;
}

int
vx_diff(const struct vx_diff_rules *r, const struct vx_msg *rec,
    const struct vx_msg *live, struct vx_difference *out, unsigned max)
{
	uint32_t seen_rec[VXF_COUNT], seen_live[VXF_COUNT], pos[VXF_COUNT];
	uint8_t ign[VXF_COUNT];
	struct diffs d = { out, max, 0 };
	uint32_t i;

	if (vx_msg_items(rec) < 0 || vx_msg_items(live) < 0)
		return VX_ERR_NOMEM;
	ignored_set(r, rec, ign);
	memset(seen_rec, 0, sizeof(seen_rec));
	memset(seen_live, 0, sizeof(seen_live));
	memset(pos, 0, sizeof(pos));
	/* every recorded item against the same occurrence live */
	for (i = 0; i < rec->nitems; i++) {
		const struct vx_item *a = &rec->items[i], *b;
		unsigned f = a->field;
		long at;

		if (f >= VXF_COUNT)
			continue;
		b = next_of(live, f, &pos[f]);
		if (skipped(ign, f)) {
			seen_rec[f]++;
			continue;
		}
		if (b == NULL)
			add_diff(&d, rec, a, live, NULL, f, seen_rec[f], -1);
		else if ((at = first_change(a, b)) >= 0)
			add_diff(&d, rec, a, live, b, f, seen_rec[f], at);
		seen_rec[f]++;
	}
	/* live items beyond the recorded ones' occurrences */
	for (i = 0; i < live->nitems; i++) {
		const struct vx_item *b = &live->items[i];
		unsigned f = b->field;

		if (f >= VXF_COUNT)
			continue;
		if (seen_live[f]++ >= seen_rec[f] && !skipped(ign, f))
			add_diff(&d, rec, NULL, live, b, f, seen_live[f] - 1,
			    -1);
	}
	return (int)(d.n > 0x7fffffff ? 0x7fffffff : d.n);
}

/* --- the canonical form and the digest --------------------------------------- */

/* Drop the keys of ignored fields from a JSON value, at every depth. */
static void
strip_json(json_t *j, const uint8_t *ign)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			strip_json(v, ign);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach_safe(j, tmp, key, v) {
		const struct vx_field *f = vx_field_by_key(key);

		if (f != NULL && ign[f - vx_fields])
			json_object_del(j, key);
		else
			strip_json(v, ign);
	}
}

char *
vx_diff_canonical(const struct vx_diff_rules *r, const struct vx_msg *m)
{
	uint8_t ign[VXF_COUNT];
	json_t *j;
	char *text;

	if (vx_msg_items(m) < 0)
		return NULL;
	j = vx_msg_json(m);
	if (j == NULL)
		return NULL;
	/* the summary repeats the fields, ignored ones too */
	json_object_del(j, "vfio_user.summary");
	ignored_set(r, m, ign);
	strip_json(j, ign);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	json_decref(j);
	return text;
}

struct vx_digest {
	crypto_generichash_state st;
	uint64_t count;
};

struct vx_digest *
vx_digest_new(void)
{
	struct vx_digest *d;

	if (sodium_init() < 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d != NULL)
		crypto_generichash_init(&d->st, NULL, 0, VX_DIGEST_LEN);
	return d;
}

void
vx_digest_free(struct vx_digest *d)
{
	free(d);
}

int
vx_digest_add(struct vx_digest *d, const struct vx_diff_rules *r,
    const struct vx_msg *m)
{
	char *text = vx_diff_canonical(r, m);

	if (text == NULL)
		return VX_ERR_NOMEM;
	crypto_generichash_update(&d->st, (const unsigned char *)text,
	    strlen(text));
	crypto_generichash_update(&d->st, (const unsigned char *)"\n", 1);
	free(text);
	d->count++;
	return 0;
}

uint64_t
vx_digest_count(const struct vx_digest *d)
{
	return d->count;
}

void
vx_digest_hex(const struct vx_digest *d, char out[2 * VX_DIGEST_LEN + 1])
{
	crypto_generichash_state st = d->st;
	unsigned char h[VX_DIGEST_LEN];

	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 2 * VX_DIGEST_LEN + 1, h, sizeof(h));
}
