/*
 * test-diff.c - lib/diff.c: a changed register value is exactly one
 * difference naming both values and its byte offset; msg_id differences
 * are ignored by default and not without the defaults; a rule ignores a
 * region at an offset and nothing else; a reply of another shape (error
 * reply) differs in the fields only one side has; rules files are checked
 * with the line named; digests are equal for messages that differ only in
 * ignored fields, different otherwise; shift rules move a command's value
 * by the time elapsed, in its units and byte order, rounded up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "helpers.h"
#include "vx-diff.h"
#include "vx-error.h"
#include "vx-msg.h"

struct mb {
	uint8_t b[256];
	size_t n;
};

static void
put(struct mb *m, uint64_t v, int width)
{
	int i;

	for (i = 0; i < width; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

/* A REGION_READ reply of 4 bytes of region at off: data value. */
static void
read_reply(struct mb *m, uint16_t id, uint32_t region, uint64_t off,
    uint32_t value)
{
	m->n = 0;
	put(m, id, 2);
	put(m, VX_CMD_REGION_READ, 2);
	put(m, 16 + 16 + 4, 4);
	put(m, VX_F_TYPE_REPLY, 4);
	put(m, 0, 4);
	put(m, off, 8);
	put(m, region, 4);
	put(m, 4, 4);
	put(m, value, 4);
}

/* An error reply to REGION_READ: header only. */
static void
error_reply(struct mb *m, uint16_t id, uint32_t err)
{
	m->n = 0;
	put(m, id, 2);
	put(m, VX_CMD_REGION_READ, 2);
	put(m, 16, 4);
	put(m, VX_F_TYPE_REPLY | VX_F_ERROR, 4);
	put(m, err, 4);
}

struct two {
	struct vx_decoder da, db;
	struct vx_msg a, b;
};

static void
decode2(struct two *t, const struct mb *a, const struct mb *b)
{
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };

	vx_decode(&t->da, a->b, a->n, &ctx, &t->a);
	vx_decode(&t->db, b->b, b->n, &ctx, &t->b);
}

static void
test_register_changed(struct vx_diff_rules *r, struct two *t)
{
	struct vx_difference d[4];
	struct mb a, b;
	int n;

	read_reply(&a, 7, 2, 0x10, 0xa5a5);
	read_reply(&b, 7, 2, 0x10, 0xa5a4);
	decode2(t, &a, &b);
	n = vx_diff(r, &t->a, &t->b, d, 4);
	ok(n == 1, "changed register: one difference (%d)", n);
	ok(n >= 1 && strcmp(vx_diff_key(&d[0]), "vfio_user.region.data") == 0,
	    "  names the field (%s)", n >= 1 ? vx_diff_key(&d[0]) : "-");
	ok(n >= 1 && strcmp(d[0].rec, "a5a50000") == 0 &&
	    strcmp(d[0].live, "a4a50000") == 0, "  both values (%s, %s)",
	    d[0].rec, d[0].live);
	ok(n >= 1 && d[0].rec_off == 32 && d[0].live_off == 32,
	    "  byte offset of the first changed byte (%lld)",
	    (long long)d[0].rec_off);
	ok(vx_diff(r, &t->a, &t->a, d, 4) == 0, "a message equals itself");
}

static void
test_msg_id(struct vx_diff_rules *r, struct two *t)
{
	struct vx_diff_rules *strict = vx_diff_rules_new(VX_DIFF_NO_DEFAULTS);
	struct vx_difference d[4];
	struct mb a, b;
	int n;

	read_reply(&a, 7, 2, 0x10, 0xa5a5);
	read_reply(&b, 300, 2, 0x10, 0xa5a5);
	decode2(t, &a, &b);
	ok(vx_diff(r, &t->a, &t->b, d, 4) == 0, "msg_id ignored by default");
	n = vx_diff(strict, &t->a, &t->b, d, 4);
	ok(n == 1 && strcmp(vx_diff_key(&d[0]), "vfio_user.msg_id") == 0 &&
	    strcmp(d[0].rec, "0x7") == 0 && strcmp(d[0].live, "0x12c") == 0,
	    "  and compared without the defaults (%d: %s %s)", n,
	    n ? d[0].rec : "", n ? d[0].live : "");
	vx_diff_rules_free(strict);
}

static void
test_region_offset_rule(struct two *t)
{
	struct vx_diff_rules *r = vx_diff_rules_new(0);
	struct vx_difference d[4];
	char why[200];
	struct mb a, b;

	ok(vx_diff_rules_add(r, "region.data cmd=REGION_READ region=bar2 "
	    "offset=0x10-0x13  # a counter", why, sizeof(why)) == 0,
	    "rule parsed");
	read_reply(&a, 1, 2, 0x10, 1);
	read_reply(&b, 1, 2, 0x10, 2);
	decode2(t, &a, &b);
	ok(vx_diff(r, &t->a, &t->b, d, 4) == 0, "rule ignores bar2+0x10");
	ok(vx_diff_ignored(r, &t->a, VXF_REGION_DATA) == 1,
	    "  vx_diff_ignored says so");
	read_reply(&a, 1, 2, 0x14, 1);
	read_reply(&b, 1, 2, 0x14, 2);
	decode2(t, &a, &b);
	ok(vx_diff(r, &t->a, &t->b, d, 4) == 1, "  but not bar2+0x14");
	read_reply(&a, 1, 3, 0x10, 1);
	read_reply(&b, 1, 3, 0x10, 2);
	decode2(t, &a, &b);
	ok(vx_diff(r, &t->a, &t->b, d, 4) == 1, "  nor bar3+0x10");
	vx_diff_rules_free(r);
}

static void
test_every_field_rule(struct two *t)
{
	struct vx_diff_rules *r = vx_diff_rules_new(0);
	char why[200];
	struct mb a, b;

	ok(vx_diff_rules_add(r, "* cmd=9", why, sizeof(why)) == 0,
	    "rule for every field of a command parsed");
	read_reply(&a, 1, 2, 0x10, 1);
	error_reply(&b, 1, 22);
	decode2(t, &a, &b);
	ok(vx_diff(r, &t->a, &t->b, NULL, 0) == 0,
	    "  ignores even an error reply in place of data");
	vx_diff_rules_free(r);
}

static void
test_shape(struct vx_diff_rules *r, struct two *t)
{
	struct vx_difference d[8];
	struct mb a, b;
	int n, i, has_err = 0, has_data = 0;

	read_reply(&a, 1, 2, 0, 5);
	error_reply(&b, 1, 22);
	decode2(t, &a, &b);
	n = vx_diff(r, &t->a, &t->b, d, 8);
	for (i = 0; i < n && i < 8; i++) {
		if (strcmp(vx_diff_key(&d[i]), "vfio_user.error") == 0)
			has_err = strstr(d[i].live, "EINVAL") != NULL;
		if (strcmp(vx_diff_key(&d[i]), "vfio_user.region.data") == 0)
			has_data = strcmp(d[i].live, "(absent)") == 0 &&
			    d[i].live_off == -1;
	}
	ok(n > 2 && has_err && has_data, "error reply for data: error and "
	    "missing data named (%d differences)", n);
	ok(vx_diff(r, &t->a, &t->b, NULL, 0) == n, "  counted without room");
}

static void
test_rules_errors(void)
{
	struct vx_diff_rules *r = vx_diff_rules_new(0);
	char why[200], path[128], dir[64];
	FILE *fp;

	ok(vx_diff_rules_add(r, "vfio_user.nosuch", why, sizeof(why)) ==
	    VX_ERR_INVALID && strstr(why, "no such field") != NULL,
	    "unknown field refused: %s", why);
	ok(vx_diff_rules_add(r, "region.data region=bar9x", why,
	    sizeof(why)) == VX_ERR_INVALID, "bad region refused: %s", why);
	ok(vx_diff_rules_add(r, "region.data offset=8-4", why,
	    sizeof(why)) == VX_ERR_INVALID, "backward range refused: %s", why);
	ok(vx_diff_rules_add(r, "region.data nosuch=4", why, sizeof(why)) ==
	    VX_ERR_INVALID, "unknown condition refused: %s", why);
	ok(vx_diff_rules_add(r, "region.data region.count=4", why,
	    sizeof(why)) == 0, "FIELD=N condition taken");
	ok(vx_diff_rules_add(r, "shift region.data unit=s width=16", why,
	    sizeof(why)) == VX_ERR_INVALID && strstr(why, "width=16") != NULL,
	    "shift: bad width refused: %s", why);
	ok(vx_diff_rules_add(r, "region.data plus=1", why, sizeof(why)) ==
	    VX_ERR_INVALID && strstr(why, "only a shift rule") != NULL,
	    "plus= outside a shift rule refused: %s", why);
	ok(vx_diff_rules_add(r, "   # only a comment", why, sizeof(why)) == 0,
	    "comment line adds nothing");
	if (unit_mkdtemp(dir, sizeof(dir), "test-diff") < 0)
		return;
	snprintf(path, sizeof(path), "%s/rules", dir);
	fp = fopen(path, "w");
	fputs("# rules\nregion.data cmd=REGION_READ\n\nregion.dta\n", fp);
	fclose(fp);
	ok(vx_diff_rules_load(r, path, why, sizeof(why)) == VX_ERR_INVALID &&
	    strstr(why, ":4: ") != NULL, "rules file: line named: %s", why);
	unlink(path);
	rmdir(dir);
	vx_diff_rules_free(r);
}

/* A REGION_WRITE command of 8 bytes of data, in either byte order. */
static void
write_cmd(struct mb *m, uint32_t region, uint64_t value, int big_endian)
{
	static const uint64_t f[][2] = {
		{ 1, 2 }, { VX_CMD_REGION_WRITE, 2 }, { 16 + 16 + 8, 4 },
		{ 0, 4 }, { 0, 4 }, { 0x10, 8 }, { 0, 4 }, { 8, 4 }, { 0, 8 },
	};
	size_t i;
	int k;

	m->n = 0;
	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		uint64_t v = i == 6 ? region : i == 8 ? value : f[i][0];

		for (k = 0; k < (int)f[i][1]; k++)
			m->b[m->n++] = (uint8_t)(v >> (8 * (big_endian ?
			    (int)f[i][1] - 1 - k : k)));
	}
}

/* The value the shift rule line makes of value written to region 2,
 * elapsed_ns after its recording; *n the rules applied. */
static uint64_t
shifted(const char *line, uint64_t value, int64_t elapsed_ns, int big_endian,
    int *n)
{
	struct vx_diff_rules *r = vx_diff_rules_new(0);
	struct vx_dctx ctx = { VX_C2S, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };
	struct vx_decoder d;
	struct vx_msg m;
	struct mb b;
	uint8_t out[256];
	char why[200];
	uint64_t v = 0;
	int i;

	ctx.big_endian = (uint8_t)big_endian;
	vx_decoder_init(&d);
	if (vx_diff_rules_add(r, line, why, sizeof(why)) < 0)
		diag("%s: %s", line, why);
	write_cmd(&b, 2, value, big_endian);
	vx_decode(&d, b.b, b.n, &ctx, &m);
	memcpy(out, b.b, b.n);
	*n = vx_diff_shift(r, &m, out, b.n, elapsed_ns);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)out[32 + (big_endian ? 7 - i : i)] << (8 * i);
	ok(memcmp(out, b.b, 32) == 0, "  shift leaves the rest alone");
	vx_decoder_release(&d);
	vx_diff_rules_free(r);
	return v;
}

static void
test_shift(void)
{
	int n;

	ok(shifted("shift region.data unit=s", 1000, 1500000000, 0, &n) ==
	    1002 && n == 1, "shift: 1.5 s is 2 s, rounded up");
	ok(shifted("shift region.data unit=s plus=3", 1000, 1500000000, 0,
	    &n) == 1005, "shift: plus= more units");
	ok(shifted("shift region.data unit=ms", 1000, 1500000, 0, &n) == 1002,
	    "shift: in ms");
	ok(shifted("shift region.data unit=s", 1000, -1500000000, 0, &n) ==
	    999, "shift: a negative time rounds up too");
	ok(shifted("shift region.data unit=s at=4 width=4", 1000,
	    2000000000, 0, &n) == 1000 + (2ull << 32), "shift: at= and width=");
	ok(shifted("shift region.data unit=s at=6 width=4", 1000,
	    2000000000, 0, &n) == 1000 && n == 0,
	    "shift: a value beyond the field is left alone");
	ok(shifted("shift region.data unit=s", 0x1ff, 1000000000, 1, &n) ==
	    0x200 && n == 1, "shift: in the recording host's byte order");
	ok(shifted("shift region.data cmd=REGION_WRITE region=bar0 unit=s",
	    1000, 1000000000, 0, &n) == 1000 && n == 0,
	    "shift: conditions select the command");
	ok(shifted("shift region.data region.count=8 unit=s",
	    1000, 1000000000, 0, &n) == 1001 && n == 1,
	    "shift: a FIELD=N condition");
	ok(shifted("region.data cmd=REGION_WRITE", 1000, 1000000000, 0, &n) ==
	    1000 && n == 0, "an ignore rule shifts nothing");
}

static void
digest_of(struct vx_diff_rules *r, struct two *t, const struct mb *x,
    char *hex)
{
	struct vx_digest *d = vx_digest_new();
	struct vx_dctx ctx = { VX_S2C, VX_CHAN_MAIN, VX_PEER_AUTO, 0, 0 };

	vx_decode(&t->da, x->b, x->n, &ctx, &t->a);
	vx_digest_add(d, r, &t->a);
	vx_digest_hex(d, hex);
	vx_digest_free(d);
}

static void
test_digest(struct vx_diff_rules *r, struct two *t)
{
	char h1[65], h2[65], h3[65];
	char *text;
	struct mb a;

	read_reply(&a, 7, 2, 0x10, 0xa5a5);
	digest_of(r, t, &a, h1);
	read_reply(&a, 9000, 2, 0x10, 0xa5a5);
	digest_of(r, t, &a, h2);
	read_reply(&a, 7, 2, 0x10, 0xa5a4);
	digest_of(r, t, &a, h3);
	ok(strlen(h1) == 64 && strcmp(h1, h2) == 0,
	    "digest equal when only msg_id differs (%.16s)", h1);
	ok(strcmp(h1, h3) != 0, "digest differs with the data (%.16s)", h3);
	text = vx_diff_canonical(r, &t->a);
	ok(text != NULL && strstr(text, "msg_id") == NULL &&
	    strstr(text, "summary") == NULL &&
	    strstr(text, "\"vfio_user.region.data\":\"a4a50000\"") != NULL,
	    "canonical form: no msg_id, no summary, data kept");
	free(text);
}

int
main(void)
{
	struct vx_diff_rules *r = vx_diff_rules_new(0);
	struct two t;

	vx_decoder_init(&t.da);
	vx_decoder_init(&t.db);
	test_register_changed(r, &t);
	test_msg_id(r, &t);
	test_region_offset_rule(&t);
	test_shape(r, &t);
	test_every_field_rule(&t);
	test_rules_errors();
	test_digest(r, &t);
	test_shift();
	vx_decoder_release(&t.da);
	vx_decoder_release(&t.db);
	vx_diff_rules_free(r);
	return unit_done();
}
