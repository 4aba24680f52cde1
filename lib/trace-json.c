/*
 * trace-json.c - trace records as JSON lines and back (man/vfuctl-trace.5,
 * "JSON LINES").  Export writes into the caller's buffer and allocates
 * nothing, so a dissector can call it per record; import parses with
 * jansson and also takes the lines of the ../shared/vectors captures.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace-header.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-strbuf.h"

/* --- export ------------------------------------------------------------------ */

/* Appends to a fixed buffer, counting what would not fit. */
struct jbuf {
	char *p;
	size_t cap, n;
};

static void
jput(struct jbuf *b, const char *s, size_t len)
{
	if (b->n < b->cap) {
		size_t room = b->cap - b->n;

		memcpy(b->p + b->n, s, len < room ? len : room);
	}
	b->n += len;
}

static void
jstr(struct jbuf *b, const char *s)
{
	jput(b, s, strlen(s));
}

static void jfmt(struct jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
jfmt(struct jbuf *b, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		jput(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
jhex(struct jbuf *b, const uint8_t *d, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];
	size_t i;

	for (i = 0; i < len; i++) {
		pair[0] = digits[d[i] >> 4];
		pair[1] = digits[d[i] & 15];
		jput(b, pair, 2);
	}
}

static int
is_utf8(const uint8_t *s, size_t len)
{
	size_t i, k;

	for (i = 0; i < len; i += k)
		if ((k = vx_utf8_len(s + i, len - i)) == 0)
			return 0;
	return 1;
}

/*
 * A JSON string of len bytes of valid UTF-8 text, control characters
 * (C1 too) escaped so that the line is safe on a terminal.
 */
static void
jtext(struct jbuf *b, const uint8_t *s, size_t len)
{
	size_t i, k;

	jput(b, "\"", 1);
	for (i = 0; i < len; i += k) {
		k = vx_utf8_len(s + i, len - i);
		if (s[i] == '"' || s[i] == '\\') {
			jput(b, "\\", 1);
			jput(b, (const char *)s + i, 1);
		} else if (s[i] == '\n') {
			jstr(b, "\\n");
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			jfmt(b, "\\u%04x", s[i]);
		} else if (s[i] == 0xc2 && s[i + 1] < 0xa0) {
			jfmt(b, "\\u%04x", s[i + 1]);
		} else {
			jput(b, (const char *)s + i, k);
		}
	}
	jput(b, "\"", 1);
}

size_t
vx_trace_rec_json(const struct vx_trace_rec *rec, char *out, size_t cap)
{
	struct jbuf b = { out, cap, 0 };
	const char *kname = vx_trace_kind_name(rec->kind);
	unsigned i;

	jfmt(&b, "{\"frame\":%" PRIu64 ",\"t_ns\":%" PRIu64 ",", rec->frame,
	    rec->ts_ns);
	if (kname != NULL)
		jfmt(&b, "\"kind\":\"%s\"", kname);
	else
		jfmt(&b, "\"kind\":%u", rec->kind);
	jfmt(&b, ",\"conn\":%" PRIu32 ",\"endpoint\":%" PRIu32, rec->conn,
	    rec->endpoint);
	jfmt(&b, ",\"chan\":\"%s\",\"dir\":\"%s\",\"seq\":%" PRIu64,
	    rec->chan == VX_CHAN_TWIN ? "twin" : "main",
	    rec->dir == VX_S2C ? "s2c" : "c2s", rec->seq);
	if (rec->flags & VX_TRF_BE)
		jstr(&b, ",\"be\":true");
	switch (rec->kind) {
	case VX_TR_OPEN:
	case VX_TR_CLOSE:
		jfmt(&b, ",\"pid\":%" PRIu32 ",\"uid\":%" PRIu32 ",\"gid\":%"
		    PRIu32, rec->pid, rec->uid, rec->gid);
		if (rec->kind == VX_TR_CLOSE &&
		    (rec->flags & VX_TRF_CAPTURE_END))
			jstr(&b, ",\"capture_end\":true");
		break;
	case VX_TR_IRQ:
		jfmt(&b, ",\"index\":%" PRIu32 ",\"vector\":%" PRIu32
		    ",\"count\":%" PRIu64, rec->irq_index, rec->irq_vector,
		    rec->count);
		break;
	case VX_TR_GAP:
		jfmt(&b, ",\"count\":%" PRIu64, rec->count);
		break;
	case VX_TR_DIGEST:
		jfmt(&b, ",\"count\":%" PRIu64 ",\"keyed\":%s,\"final\":%s",
		    rec->count, (rec->flags & VX_TRF_KEYED) ? "true" : "false",
		    (rec->flags & VX_TRF_FINAL) ? "true" : "false");
		break;
	}
	if (rec->truncated)
		jfmt(&b, ",\"truncated\":true,\"orig_len\":%zu", rec->orig_len);
	if (rec->kind == VX_TR_MESSAGE) {
		jstr(&b, ",\"fds\":[");
		for (i = 0; i < rec->nfds; i++) {
			const struct vx_fd_info *f = &rec->fds[i];

			jfmt(&b, "%s{\"kind\":\"%s\"", i ? "," : "",
			    vx_fd_kind_name(f->kind));
			/* Only what is known, as in the vectors. */
			if (f->size != 0 || f->kind == VX_FD_FILE ||
			    f->kind == VX_FD_MEMFD)
				jfmt(&b, ",\"size\":%lld", (long long)f->size);
			if (f->seals != 0)
				jfmt(&b, ",\"seals\":%u", f->seals);
			if (f->dev != 0 || f->ino != 0)
				jfmt(&b, ",\"dev\":%llu,\"ino\":%llu",
				    (unsigned long long)f->dev,
				    (unsigned long long)f->ino);
			jstr(&b, "}");
		}
		jstr(&b, "]");
	}
	/* text that is not UTF-8 cannot be a JSON string: hex keeps it */
	if (rec->kind == VX_TR_ANNOTATION && is_utf8(rec->data, rec->len)) {
		jstr(&b, ",\"text\":");
		jtext(&b, rec->data, rec->len);
	} else if (rec->len > 0 || rec->kind == VX_TR_MESSAGE ||
	    rec->kind == VX_TR_RAW || rec->kind == VX_TR_DIGEST) {
		jstr(&b, ",\"hex\":\"");
		jhex(&b, rec->data, rec->len);
		jstr(&b, "\"");
	}
	jstr(&b, "}");
	if (b.n < cap)
		out[b.n] = '\0';
	else if (cap > 0)
		out[cap - 1] = '\0';
	return b.n;
}

/* --- import ------------------------------------------------------------------ */

static int
why_fail(char *why, size_t whycap, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
why_fail(char *why, size_t whycap, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whycap, fmt, ap);
	va_end(ap);
	return err;
}

/* An unsigned integer member, or dflt when absent; -1 if not one. */
static int
get_uint(json_t *o, const char *key, uint64_t max, uint64_t dflt,
    uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0 ||
	    (uint64_t)i > max)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

static int
get_bool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static int
parse_fds(json_t *arr, struct vx_fd_info *fds, unsigned *nfds, char *why,
    size_t whycap)
{
	size_t i, n = json_array_size(arr);
	static const char *const kinds[] = {
		"memfd", "file", "eventfd", "socket", "other",
	};

	if (!json_is_array(arr))
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"fds\" is not an array");
	if (n > VX_TRACE_MAX_FDS)
		return why_fail(why, whycap, VX_ERR_TOO_LARGE,
		    "%zu descriptors (at most %d)", n, VX_TRACE_MAX_FDS);
	for (i = 0; i < n; i++) {
		json_t *f = json_array_get(arr, i);
		const char *k = json_string_value(json_object_get(f, "kind"));
		uint64_t size, seals, dev, ino;
		unsigned j;

		if (!json_is_object(f) || k == NULL)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "descriptor %zu has no \"kind\"", i);
		for (j = 0; j < 5; j++)
			if (strcmp(k, kinds[j]) == 0)
				break;
		if (j == 5)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "descriptor %zu: unknown kind '%s'", i, k);
		if (get_uint(f, "size", INT64_MAX, 0, &size) < 0 ||
		    get_uint(f, "seals", UINT32_MAX, 0, &seals) < 0 ||
		    get_uint(f, "dev", UINT64_MAX, 0, &dev) < 0 ||
		    get_uint(f, "ino", UINT64_MAX, 0, &ino) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "descriptor %zu: a number is not one", i);
		fds[i].kind = (enum vx_fd_kind)j;
		fds[i].size = (off_t)size;
		fds[i].seals = (unsigned)seals;
		fds[i].dev = (dev_t)dev;
		fds[i].ino = (ino_t)ino;
	}
	*nfds = (unsigned)n;
	return 0;
}

static int
parse_obj(json_t *o, struct vx_trace_rec *rec, uint8_t *buf, size_t cap,
    struct vx_fd_info *fds, unsigned *given, char *note, size_t notecap,
    char *why, size_t whycap)
{
	json_t *kv = json_object_get(o, "kind");
	const char *s, *hex, *text;
	uint64_t v;
	size_t n, i;
	int k, vector = 0, rc;

	memset(rec, 0, sizeof(*rec));
	if (kv == NULL) {
		/* A line of the captures: a message, its seq global. */
		vector = 1;
		k = VX_TR_MESSAGE;
	} else if (json_is_string(kv)) {
		if ((k = vx_trace_kind_value(json_string_value(kv))) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "unknown kind '%s'", json_string_value(kv));
	} else if (json_is_integer(kv) && json_integer_value(kv) > 0 &&
	    json_integer_value(kv) <= 255) {
		/* a kind this version has no name for, kept by its number */
		k = (int)json_integer_value(kv);
	} else {
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"kind\" is neither a kind's name nor a number 1-255");
	}
	rec->kind = (uint8_t)k;
	if (get_uint(o, "t_ns", VX_TRACE_TS_MAX, 0, &rec->ts_ns) < 0)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"t_ns\" is not an integer from 0 to %llu (the pcap "
		    "seconds field has 32 bits)",
		    (unsigned long long)VX_TRACE_TS_MAX);
	if (get_uint(o, "conn", UINT32_MAX, 0, &v) < 0)
		return why_fail(why, whycap, VX_ERR_INVALID, "bad \"conn\"");
	rec->conn = (uint32_t)v;
	if (get_uint(o, "endpoint", UINT32_MAX, 0, &v) < 0)
		return why_fail(why, whycap, VX_ERR_INVALID, "bad \"endpoint\"");
	rec->endpoint = (uint32_t)v;
	*given = 0;
	if (!vector && json_object_get(o, "seq") != NULL)
		*given |= VX_TRACE_GIVEN_SEQ;
	if (json_object_get(o, "conn") != NULL)
		*given |= VX_TRACE_GIVEN_CONN;
	if (!vector && get_uint(o, "seq", UINT64_MAX, 0, &rec->seq) < 0)
		return why_fail(why, whycap, VX_ERR_INVALID, "bad \"seq\"");
	if ((s = json_string_value(json_object_get(o, "dir"))) != NULL &&
	    strcmp(s, "s2c") == 0)
		rec->dir = VX_S2C;
	else if (s != NULL && strcmp(s, "c2s") != 0)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"dir\" is '%s', not c2s or s2c", s);
	else if (s == NULL && json_object_get(o, "dir") != NULL)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"dir\" is not a string");
	if ((s = json_string_value(json_object_get(o, "chan"))) != NULL &&
	    strcmp(s, "twin") == 0)
		rec->chan = VX_CHAN_TWIN;
	else if (s != NULL && strcmp(s, "main") != 0)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"chan\" is '%s', not main or twin", s);
	if (get_bool(o, "be"))
		rec->flags |= VX_TRF_BE;
	if (rec->dir == VX_S2C)
		rec->flags |= VX_TRF_S2C;
	if (rec->chan == VX_CHAN_TWIN)
		rec->flags |= VX_TRF_TWIN;
	if (get_uint(o, "count", UINT64_MAX, 0, &rec->count) < 0)
		return why_fail(why, whycap, VX_ERR_INVALID, "bad \"count\"");
	if (k == VX_TR_OPEN || k == VX_TR_CLOSE) {
		if (get_uint(o, "pid", UINT32_MAX, 0, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID, "bad \"pid\"");
		rec->pid = (uint32_t)v;
		if (get_uint(o, "uid", UINT32_MAX, 0, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID, "bad \"uid\"");
		rec->uid = (uint32_t)v;
		if (get_uint(o, "gid", UINT32_MAX, 0, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID, "bad \"gid\"");
		rec->gid = (uint32_t)v;
		if (k == VX_TR_CLOSE && get_bool(o, "capture_end"))
			rec->flags |= VX_TRF_CAPTURE_END;
	} else if (k == VX_TR_IRQ) {
		if (get_uint(o, "index", UINT32_MAX, 0, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "bad \"index\"");
		rec->irq_index = (uint32_t)v;
		if (get_uint(o, "vector", UINT32_MAX, 0, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "bad \"vector\"");
		rec->irq_vector = (uint32_t)v;
	} else if (k == VX_TR_DIGEST) {
		if (get_bool(o, "keyed"))
			rec->flags |= VX_TRF_KEYED;
		if (get_bool(o, "final"))
			rec->flags |= VX_TRF_FINAL;
	}
	if (k == VX_TR_MESSAGE) {
		json_t *fa = json_object_get(o, "fds");

		if (fa != NULL && (rc = parse_fds(fa, fds, &rec->nfds, why,
		    whycap)) < 0)
			return rc;
		if (get_uint(o, "nfds", VX_TRACE_MAX_FDS, rec->nfds, &v) < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "bad \"nfds\"");
		if (fa != NULL && v != rec->nfds)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "\"nfds\" is %" PRIu64 " but \"fds\" has %u", v,
			    rec->nfds);
		/* A count without descriptions: say "other", keep the count. */
		for (i = rec->nfds; i < v; i++) {
			memset(&fds[i], 0, sizeof(fds[i]));
			fds[i].kind = VX_FD_OTHER;
		}
		rec->nfds = (unsigned)v;
		rec->fds = rec->nfds ? fds : NULL;
	}
	note[0] = '\0';
	if ((s = json_string_value(json_object_get(o, "note"))) != NULL)
		snprintf(note, notecap, "%s", s);
	rec->data = buf;
	if (k == VX_TR_ANNOTATION && json_object_get(o, "hex") == NULL) {
		text = json_string_value(json_object_get(o, "text"));
		if (text == NULL)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "annotation without a \"text\" string");
		n = json_string_length(json_object_get(o, "text"));
		if (n > cap || n > VX_TRACE_MSG_MAX)
			return why_fail(why, whycap, VX_ERR_TOO_LARGE,
			    "text of %zu bytes is too long", n);
		memcpy(buf, text, n);
		rec->len = n;
		return 0;
	}
	kv = json_object_get(o, "hex");
	if (kv == NULL) {
		if (k == VX_TR_MESSAGE || k == VX_TR_RAW)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "no \"hex\" string");
		return 0;
	}
	if ((hex = json_string_value(kv)) == NULL)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"hex\" is not a string");
	n = json_string_length(kv);
	if (n % 2 != 0)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "\"hex\" has an odd number of digits");
	if (n / 2 > cap || n / 2 > VX_TRACE_MSG_MAX)
		return why_fail(why, whycap, VX_ERR_TOO_LARGE,
		    "message of %zu bytes is too long", n / 2);
	for (i = 0; i < n; i += 2) {
		int hi = vx_hexval(hex[i]), lo = vx_hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return why_fail(why, whycap, VX_ERR_INVALID,
			    "\"hex\" is not hex digits at %zu", i);
		buf[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	rec->len = n / 2;
	if (get_uint(o, "orig_len", VX_TRACE_MSG_MAX, rec->len, &v) < 0 ||
	    v < rec->len)
		return why_fail(why, whycap, VX_ERR_INVALID, "bad \"orig_len\"");
	rec->orig_len = (size_t)v;
	rec->truncated = rec->orig_len > rec->len;
	return 0;
}

int
vx_trace_rec_parse(const char *line, struct vx_trace_rec *rec, uint8_t *buf,
    size_t cap, struct vx_fd_info *fds, unsigned *given, char *note,
    size_t notecap, char *why, size_t whycap)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "not JSON: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(o)) {
		json_decref(o);
		return why_fail(why, whycap, VX_ERR_INVALID,
		    "not a JSON object");
	}
	rc = parse_obj(o, rec, buf, cap, fds, given, note, notecap, why,
	    whycap);
	json_decref(o);
	return rc;
}
