/*
 * vx-strbuf.h - append text to a fixed buffer without printf.  Summary
 * lines are printed a million times a second; vsnprintf's parsing would be
 * most of that cost.  Every function appends at *pos, never writes past
 * cap - 1, and keeps out NUL-terminated; output that does not fit is cut.
 */
#ifndef VX_STRBUF_H
#define VX_STRBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void
vx_sb_mem(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	if (*pos + 1 >= cap)
		return;
	if (n > cap - 1 - *pos)
		n = cap - 1 - *pos;
	memcpy(out + *pos, s, n);
	*pos += n;
	out[*pos] = '\0';
}

static inline void
vx_sb_str(char *out, size_t cap, size_t *pos, const char *s)
{
	vx_sb_mem(out, cap, pos, s, strlen(s));
}

/* Decimal. */
static inline void
vx_sb_u64(char *out, size_t cap, size_t *pos, uint64_t v)
{
	char tmp[20];
	int i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	vx_sb_mem(out, cap, pos, tmp + i, (size_t)(20 - i));
}

/* "0x" and at least `digits` lowercase hex digits. */
static inline void
vx_sb_hex(char *out, size_t cap, size_t *pos, uint64_t v, int digits)
{
	static const char hexd[] = "0123456789abcdef";
	char tmp[18];
	int i = 18;

	do {
		tmp[--i] = hexd[v & 15];
		v >>= 4;
	} while ((v != 0 || 18 - i < digits) && i > 2);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	vx_sb_mem(out, cap, pos, tmp + i, (size_t)(18 - i));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static inline size_t
vx_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * n bytes of text from a peer or a trace, made safe for a terminal:
 * printable ASCII and valid UTF-8 as they are; control characters (C0,
 * DEL and the C1 range U+0080-U+009F) and every byte that is not part of
 * valid UTF-8 as \xHH, one escape per byte, as vfuctl-dissect(1) says.
 * The only way peer text reaches text output.
 */
static inline void
vx_sb_text(char *out, size_t cap, size_t *pos, const void *text, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *s = text;
	size_t i = 0, k, j;
	char esc[4] = { '\\', 'x', 0, 0 };

	while (i < n) {
		k = vx_utf8_len(s + i, n - i);
		if (k == 1 && s[i] >= 0x20 && s[i] != 0x7f) {
			vx_sb_mem(out, cap, pos, (const char *)s + i, 1);
			i++;
			continue;
		}
		if (k > 1 && !(s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			vx_sb_mem(out, cap, pos, (const char *)s + i, k);
			i += k;
			continue;
		}
		/* a control character (two bytes for C1) or a bad byte */
		for (j = 0; j < (k ? k : 1); j++, i++) {
			esc[2] = hexd[s[i] >> 4];
			esc[3] = hexd[s[i] & 15];
			vx_sb_mem(out, cap, pos, esc, 4);
		}
	}
}

/* The value of a hex digit, or -1: the one table every hex reader uses. */
static inline int
vx_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Pairs of hex digits from s into out (room for cap bytes), any character
 * of sep skipped between them: the one loop every hex-bytes reader uses.
 * The number of bytes, or -1 with *bad at the first character that is not
 * a pair of hex digits (or at the pair that did not fit).
 */
static inline long
vx_hex_bytes(const char *s, const char *sep, uint8_t *out, size_t cap,
    const char **bad)
{
	size_t n = 0;
	int hi, lo;

	*bad = NULL;
	for (; *s != '\0'; s++) {
		if (strchr(sep, *s) != NULL)
			continue;
		if ((hi = vx_hexval(s[0])) < 0 || (lo = vx_hexval(s[1])) < 0 ||
		    n == cap) {
			*bad = s;
			return -1;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	return (long)n;
}

#endif /* VX_STRBUF_H */
