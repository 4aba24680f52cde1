/*
 * unit.h - the whole unit-test framework: ok() prints a TAP line, diag()
 * a comment, unit_done() the closing "N passed, N failed" line and the exit
 * status.  Header-only so each test program stays one file.
 */
#ifndef VX_UNIT_H
#define VX_UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int unit_pass, unit_fail;

static void
diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static int
ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		unit_pass++;
	else
		unit_fail++;
	printf("%sok %d - ", cond ? "" : "not ", unit_pass + unit_fail);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

static int
unit_done(void) __attribute__((unused));
static int
unit_done(void)
{
	printf("%d passed, %d failed\n", unit_pass, unit_fail);
	return unit_fail ? 1 : 0;
}

#endif /* VX_UNIT_H */
