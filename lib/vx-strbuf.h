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

#endif /* VX_STRBUF_H */
