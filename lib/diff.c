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

#include "vx-diff.h"
#include "vx-error.h"

#define ANY	(-1)
#define ALL_FIELDS	VXF_COUNT

struct rule {
	unsigned field;		/* VXF_*, or ALL_FIELDS */
	int64_t cmd, region;	/* ANY or the value */
	int has_off;
	uint64_t off_lo, off_hi;
};

struct vx_diff_rules {
	struct rule *v;
	unsigned n, cap;
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
	return 0;
}

struct vx_diff_rules *
vx_diff_rules_new(unsigned flags)
{
	struct vx_diff_rules *r = calloc(1, sizeof(*r));
	size_t i;

	if (r == NULL || (flags & VX_DIFF_NO_DEFAULTS))
		return r;
	for (i = 0; i < sizeof(default_ignored) / sizeof(*default_ignored);
	    i++) {
		struct rule ru = { default_ignored[i], ANY, ANY, 0, 0, 0 };

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

static int
parse_cond(struct rule *ru, const char *s, char *why, size_t whycap)
{
	const char *eq = strchr(s, '=');
	const char *v = eq ? eq + 1 : "";
	uint64_t n;
	char *dash;

	if (eq != NULL && strncmp(s, "cmd=", 4) == 0) {
		if (vx_tok_value(vx_names_cmd, v, &n) < 0 &&
		    parse_num(v, &n) < 0)
			goto bad;
		ru->cmd = (int64_t)(n & 0xffff);
		return 0;
	}
	if (eq != NULL && strncmp(s, "region=", 7) == 0) {
		if (vx_tok_value(vx_names_region, v, &n) < 0 &&
		    parse_num(v, &n) < 0)
			goto bad;
		ru->region = (int64_t)(n & 0xffffffff);
		return 0;
	}
	if (eq != NULL && strncmp(s, "offset=", 7) == 0) {
		char lo[32];

		dash = strchr(v, '-');
		if (strlen(v) >= sizeof(lo))
			goto bad;
		memcpy(lo, v, strlen(v) + 1);
		if (dash != NULL)
			lo[dash - v] = '\0';
		if (parse_num(lo, &ru->off_lo) < 0)
			goto bad;
		ru->off_hi = ru->off_lo;
		if (dash != NULL && (parse_num(dash + 1, &ru->off_hi) < 0 ||
		    ru->off_hi < ru->off_lo))
			goto bad;
		ru->has_off = 1;
		return 0;
	}
	snprintf(why, whycap, "'%.40s': expected cmd=, region= or offset=", s);
	return VX_ERR_INVALID;
bad:
	snprintf(why, whycap, "'%.40s': not a %s", s,
	    strncmp(s, "offset", 6) == 0 ? "number or range N-M" :
	    strncmp(s, "cmd", 3) == 0 ? "command name or number" :
	    "region name or index");
	return VX_ERR_INVALID;
}

int
vx_diff_rules_add(struct vx_diff_rules *r, const char *line, char *why,
    size_t whycap)
{
	char buf[512], *save = NULL, *tok;
	struct rule ru = { 0, ANY, ANY, 0, 0, 0 };
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
	if (parse_field(tok, &ru.field) < 0) {
		snprintf(why, whycap, "'%.60s': no such field (see vfuctl "
		    "schema)", tok);
		return VX_ERR_INVALID;
	}
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
		if ((err = parse_cond(&ru, tok, why, whycap)) < 0)
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
rule_applies(const struct rule *ru, const struct ctx *c)
{
	if (ru->cmd != ANY && ru->cmd != c->cmd)
		return 0;
	if (ru->region != ANY && ru->region != c->region)
		return 0;
	if (ru->has_off && (!c->has_access || c->hi < ru->off_lo ||
	    c->lo > ru->off_hi))
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
		if (!rule_applies(&r->v[i], &c))
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
