/*
 * cli.c - error, usage and argument helpers for the vfuctl subcommands.
 *
 * Wording and exit codes are documented in cli.h; git's usage.c (error()
 * returns -1, die() exits) and iproute2's invarg()/missarg()/duparg() are the
 * models.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vx-error.h"
#include "vx-sock.h"
#include "vx-trace.h"

static void
vx_vreport(const char *cmd, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (cmd != NULL)
		fprintf(stderr, "vfuctl %s: ", cmd);
	else
		fputs("vfuctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
vx_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_vreport(NULL, fmt, ap);
	va_end(ap);
	exit(VX_EXIT_FAIL);
}

int
vx_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_vreport(NULL, fmt, ap);
	va_end(ap);
	return -1;
}

void
vx_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vx_vreport(cmd, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "try 'vfuctl %s --help'\n", cmd);
	else
		fputs("try 'vfuctl --help'\n", stderr);
	exit(VX_EXIT_USAGE);
}

void
vx_invarg(const char *cmd, const char *what, const char *arg)
{
	vx_usage_error(cmd, "invalid %s '%s'", what, arg);
}

void
vx_missarg(const char *cmd, const char *what)
{
	vx_usage_error(cmd, "missing %s", what);
}

void
vx_duparg(const char *cmd, const char *what, const char *arg)
{
	vx_usage_error(cmd, "duplicate %s '%s'", what, arg);
}

int
vx_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (s == NULL)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			return -1;
	} else if (!(*s >= '0' && *s <= '9')) {
		/* strtoull would accept spaces, '+' and '-': we don't. */
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int
vx_want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
vx_load_key(const char *path, uint8_t *key)
{
	int n = vx_trace_load_key(path, key);

	if (n == VX_ERR_IO)
		return vx_error("cannot read key file '%s': %s", path,
		    strerror(errno));
	if (n < 0)
		return vx_error("invalid key file '%s': it must hold %d to %d "
		    "bytes", path, VX_TRACE_KEY_MIN, VX_TRACE_KEY_MAX);
	return n;
}

const char *
vx_create_strerror(int err)
{
	if (err == ELOOP)
		return "it is a symbolic link, which is not followed for a trace "
		    "(remove it or choose another path)";
	return strerror(err);
}

void
vx_allow_uid(const char *cmd, struct vx_peer_policy *p, const char *arg)
{
	int rc = vx_peer_policy_add(p, arg);

	if (rc == VX_ERR_TOO_LARGE)
		vx_usage_error(cmd, "too many --allow-uid (at most %d)",
		    VX_ALLOW_MAX_UIDS);
	if (rc < 0)
		vx_invarg(cmd, "--allow-uid", arg);
}

char **
vx_server_argv(char **cmd, const char *sock)
{
	size_t n = 0, i;
	int placed = 0;
	char **v;

	while (cmd[n] != NULL)
		n++;
	if ((v = calloc(n + 3, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		placed |= strcmp(cmd[i], "{socket}") == 0;
		v[i] = strcmp(cmd[i], "{socket}") == 0 ? (char *)sock : cmd[i];
	}
	if (!placed) {
		v[n++] = "--socket-path";
		v[n] = (char *)sock;
	}
	return v;
}
