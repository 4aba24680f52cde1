/*
 * replay-ring.c - the files of a rotated trace (vfuctl record -C/-G/-W
 * writes FILE, FILE1, FILE2, ...; each after the first starts with a STATE
 * record of every open connection), for a replay that goes across them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "replay-int.h"
#include "vx-error.h"

int
ring_starts_mid(const char *path)
{
	struct vx_trace_reader *t;
	struct vx_trace_rec rec;
	int n;

	if (vx_trace_reader_open(path, NULL, &t) < 0) {
		vx_trace_reader_close(t);
		return 0;	/* the walk says why */
	}
	while ((n = vx_trace_next(t, &rec)) > 0 && rec.kind == VX_TR_DIGEST)
		;
	vx_trace_reader_close(t);
	return n > 0 && rec.kind == VX_TR_STATE;
}

char *
ring_file(const char *base, unsigned k)
{
	size_t len = strlen(base) + 12;
	char *p = malloc(len);

	if (p == NULL)
		return NULL;
	if (k == 0)
		snprintf(p, len, "%s", base);
	else
		snprintf(p, len, "%s%u", base, k);
	return p;
}

int
ring_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *
ring_base(const char *path, unsigned *k)
{
	size_t n = strlen(path), d = n;
	char *base;

	while (d > 0 && path[d - 1] >= '0' && path[d - 1] <= '9')
		d--;
	if (d == n || d == 0 || n - d > 6 || path[d] == '0')
		return NULL;
	if ((base = strndup(path, d)) == NULL)
		return NULL;
	if (!ring_exists(base)) {
		free(base);
		return NULL;
	}
	*k = (unsigned)strtoul(path + d, NULL, 10);
	return base;
}
