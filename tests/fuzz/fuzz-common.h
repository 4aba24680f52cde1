/*
 * fuzz-common.h - what every libFuzzer target of vfuctl checks about one
 * decoded message.  Header-only so that the Makefile's tests/fuzz/fuzz-*.c
 * wildcard stays one program per target.
 *
 * Every check abort()s, so that libFuzzer saves the input: a decode that
 * does not encode back to its bytes is as much a bug as a bad read.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-error.h"
#include "vx-msg.h"
#include "vx-session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One decoder for the whole run: reuse is what the CLI does. */
static struct vx_decoder fx_dec;
static struct vx_decoder fx_lazy;	/* the same, building items on demand */
static FILE *fx_null;
/*
 * VX_FUZZ_NO_ROUNDTRIP=1 skips the encode check, so that a known,
 * reported round-trip bug does not stop a hunt for memory errors.
 */
static int fx_no_roundtrip;

static void
fx_init(void)
{
	if (fx_null != NULL)
		return;
	vx_decoder_init(&fx_dec);
	vx_decoder_init(&fx_lazy);
	fx_no_roundtrip = getenv("VX_FUZZ_NO_ROUNDTRIP") != NULL &&
	    strcmp(getenv("VX_FUZZ_NO_ROUNDTRIP"), "0") != 0;
	if ((fx_null = fopen("/dev/null", "w")) == NULL)
		abort();
}

/*
 * A data file of the source tree (rel: "tests/devices/gpio.json") for a
 * target run from elsewhere: from the top, beside the binary ($OUT of
 * .clusterfuzzlite/build.sh), or from build-fuzz/tests/fuzz/.  The path
 * in out (cap bytes) that exists, else the last one tried.
 */
static __attribute__((unused)) void
fx_data_path(char *out, size_t cap, const char *rel)
{
	char exe[PATH_MAX];
	ssize_t n;
	int len;

	len = snprintf(out, cap, "%s", rel);
	if (len >= 0 && (size_t)len < cap && access(out, R_OK) == 0)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (strrchr(exe, '/') != NULL)
		*strrchr(exe, '/') = '\0';
	len = snprintf(out, cap, "%s/%s", exe, rel);
	if (len >= 0 && (size_t)len < cap && access(out, R_OK) == 0)
		return;
	len = snprintf(out, cap, "%s/../../../%s", exe, rel);
	if (len < 0 || (size_t)len >= cap)	/* the error names rel then */
		snprintf(out, cap, "%s", rel);
}

static void
fx_fail(const struct vx_msg *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
fx_fail(const struct vx_msg *m, const char *fmt, ...)
{
	char sum[256];
	va_list ap;

	fputs("fuzz check failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (m != NULL) {
		/* the tree says which item is wrong */
		vx_summary(m, sum, sizeof(sum));
		fprintf(stderr, "summary: %s\n", sum);
		vx_print_tree(stderr, m, "  ");
	}
	abort();
}

/* Items lie inside the message, BYTES/TEXT point at their own bytes. */
static void
fx_check_items(const struct vx_msg *m)
{
	uint32_t i;

	if (m->nitems > 0 && m->items == NULL)
		fx_fail(m, "%u items but no item array", m->nitems);
	for (i = 0; i < m->nitems; i++) {
		const struct vx_item *it = &m->items[i];
		const struct vx_field *f;

		if (it->field >= VXF_COUNT)
			fx_fail(m, "item %u: field %u out of range", i, it->field);
		f = &vx_fields[it->field];
		if (f->kind == VX_K_GROUP) {
			if (it->val > m->nitems - i - 1)
				fx_fail(m, "item %u: group of %llu items, %u follow",
				    i, (unsigned long long)it->val,
				    m->nitems - i - 1);
			continue;
		}
		if (f->flags & VX_FF_VIRT)
			continue;
		if (it->off > m->len || m->len - it->off < it->len)
			fx_fail(m, "item %u (%s): bytes %u+%u outside %zu-byte message",
			    i, f->key, it->off, it->len, m->len);
		if (f->width != 0 && it->len != f->width)
			fx_fail(m, "item %u (%s): %u bytes, field is %u wide",
			    i, f->key, it->len, f->width);
		if ((f->kind == VX_K_BYTES || f->kind == VX_K_TEXT) &&
		    it->len > 0 && it->ptr != m->buf + it->off)
			fx_fail(m, "item %u (%s): data pointer is not message byte %u",
			    i, f->key, it->off);
	}
}

/*
 * decode then encode must give the input back.  Encoded twice over two
 * opposite fills, so a byte no item covers shows up whatever its value.
 */
static void
fx_check_roundtrip(const struct vx_msg *m)
{
	static uint8_t *out;
	static size_t cap;
	size_t want = m->len ? m->len : 1;
	long n;
	int pass;

	if (fx_no_roundtrip)
		return;
	if (cap < want) {
		free(out);
		if ((out = malloc(want)) == NULL)
			abort();
		cap = want;
	}
	for (pass = 0; pass < 2; pass++) {
		memset(out, pass ? 0xff : 0x00, m->len);
		n = vx_encode(m, out, m->len);
		if (n < 0)
			fx_fail(m, "vx_encode: %s", vx_strerror((int)n));
		if ((size_t)n != m->len)
			fx_fail(m, "vx_encode wrote %ld bytes of a %zu-byte message",
			    n, m->len);
		if (memcmp(out, m->buf, m->len) != 0) {
			size_t k = 0;

			while (out[k] == m->buf[k])
				k++;
			fx_fail(m, "vx_encode differs at byte %zu: 0x%02x, input 0x%02x",
			    k, out[k], m->buf[k]);
		}
	}
}

static void
fx_check_summary(const struct vx_msg *m)
{
	char big[512], small[9];
	size_t n;

	n = vx_summary(m, big, sizeof(big));
	if (n >= sizeof(big) || memchr(big, '\0', sizeof(big)) == NULL)
		fx_fail(m, "vx_summary returned %zu, cap %zu", n, sizeof(big));
	/* a tight buffer takes the truncation paths */
	n = vx_summary(m, small, sizeof(small));
	if (n >= sizeof(small) || memchr(small, '\0', sizeof(small)) == NULL)
		fx_fail(m, "vx_summary returned %zu, cap %zu", n, sizeof(small));
}

static void
fx_check_print(const struct vx_msg *m)
{
	char small[7];
	json_t *j;
	char *s;
	uint32_t i;

	vx_print_tree(fx_null, m, "  ");
	/* one fprintf a byte: on big messages it would set the pace */
	if (m->len <= 2048)
		vx_print_hex(fx_null, m, "");
	for (i = 0; i < m->nitems && i < 64; i++)
		if (vx_item_text(m, &m->items[i], small, sizeof(small)) >=
		    sizeof(small))
			fx_fail(m, "vx_item_text of item %u overran", i);
	if ((j = vx_msg_json(m)) == NULL)
		fx_fail(m, "vx_msg_json returned NULL");
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		fx_fail(m, "json_dumps of vx_msg_json failed");
	free(s);
	json_decref(j);
}

/*
 * A lazy decoder (items built on demand) must find what the eager one
 * found, and build the same items when asked.  e is the eager decode of
 * buf[0..len) under ctx.
 */
static void __attribute__((unused))
fx_check_lazy(const struct vx_msg *e, const uint8_t *buf, size_t len,
    const struct vx_dctx *ctx)
{
	struct vx_msg l;
	uint32_t i;

	fx_lazy.lazy = 1;
	if (vx_decode(&fx_lazy, buf, len, ctx, &l) != 0)
		return;		/* out of memory: nothing to compare */
	if (l.status != e->status || l.nnotes != e->nnotes ||
	    l.variant != e->variant || l.cmd != e->cmd || l.flags != e->flags ||
	    memcmp(l.notes, e->notes, e->nnotes * sizeof(e->notes[0])) != 0)
		fx_fail(e, "lazy decode: status %d, %u notes; eager: %d, %u",
		    l.status, l.nnotes, e->status, e->nnotes);
	if (e->status == VX_MSG_MALFORMED && (l.err.code != e->err.code ||
	    l.err.field != e->err.field || l.err.off != e->err.off))
		fx_fail(e, "lazy decode error at %u, eager at %u", l.err.off,
		    e->err.off);
	if (e->status != VX_MSG_MALFORMED &&
	    (e->cmd == VX_CMD_REGION_READ || e->cmd == VX_CMD_REGION_WRITE) &&
	    (l.rw.offset != e->rw.offset || l.rw.index != e->rw.index ||
	    l.rw.count != e->rw.count || l.dlen != e->dlen))
		fx_fail(e, "lazy decode: region access view differs");
	if (vx_msg_items(&l) != 0)
		return;
	if (l.nitems != e->nitems)
		fx_fail(e, "lazy decode built %u items, eager %u", l.nitems,
		    e->nitems);
	for (i = 0; i < e->nitems; i++)
		if (l.items[i].field != e->items[i].field ||
		    l.items[i].off != e->items[i].off ||
		    l.items[i].len != e->items[i].len ||
		    l.items[i].val != e->items[i].val)
			fx_fail(e, "lazy decode: item %u differs", i);
}

/* Everything above, for targets that look at one message at a time. */
static void __attribute__((unused))
fx_check_all(const struct vx_msg *m)
{
	fx_check_items(m);
	fx_check_roundtrip(m);
	fx_check_summary(m);
	fx_check_print(m);
}

#endif /* FUZZ_COMMON_H */
