/*
 * test-vectors.c - every message of ../shared/vectors gets the verdict
 * EXPECTED.jsonl gives it, and re-encodes byte for byte from its items.
 *
 * usage: test-vectors [VECTOR_DIR ...]   (default: $VECTORS or
 *        ../shared/vectors, plus tests/vectors-qemu if present)
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-error.h"
#include "vx-msg.h"
#include "unit.h"

static json_t *expected;	/* array of EXPECTED.jsonl objects */

static const char *
verdict_for(const char *file, long seq)
{
	size_t i;
	json_t *e;

	json_array_foreach(expected, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "file")), file) == 0 &&
		    json_integer_value(json_object_get(e, "seq")) == seq)
			return json_string_value(json_object_get(e, "verdict"));
	}
	return NULL;
}

static void
load_expected(const char *dir)
{
	char path[4096];
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;

	expected = json_array();
	snprintf(path, sizeof(path), "%s/EXPECTED.jsonl", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (getline(&line, &cap, fp) > 0) {
		json_t *o = json_loads(line, 0, NULL);

		if (o != NULL)
			json_array_append_new(expected, o);
	}
	free(line);
	fclose(fp);
}

/* lazy: a decoder that builds items only when encode asks for them */
static int
check_file(const char *dir, const char *name, int lazy)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	FILE *fp;
	struct vx_decoder d;
	uint8_t *buf = NULL, *out = NULL;
	size_t bufcap = 0;
	int bad_verdict = 0, bad_encode = 0, n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	vx_decoder_init(&d);
	d.lazy = lazy;
	while (getline(&line, &cap, fp) > 0) {
		json_t *o = json_loads(line, 0, NULL);
		const char *hex, *want, *chan;
		struct vx_dctx ctx = { 0 };
		struct vx_msg m;
		size_t len, i;
		long seq, elen;
		int ok;

		if (o == NULL)
			continue;
		hex = json_string_value(json_object_get(o, "hex"));
		seq = (long)json_integer_value(json_object_get(o, "seq"));
		chan = json_string_value(json_object_get(o, "chan"));
		len = strlen(hex) / 2;
		if (len > bufcap) {
			bufcap = len;
			buf = realloc(buf, bufcap);
			out = realloc(out, bufcap);
		}
		for (i = 0; i < len; i++)
			sscanf(hex + 2 * i, "%2hhx", &buf[i]);
		ctx.dir = strcmp(json_string_value(json_object_get(o, "dir")),
		    "s2c") == 0 ? VX_S2C : VX_C2S;
		ctx.chan = chan && strcmp(chan, "twin") == 0;
		ctx.nfds = (int)json_integer_value(json_object_get(o, "nfds"));
		vx_decode(&d, buf, len, &ctx, &m);
		want = verdict_for(name, seq);
		if (want == NULL)
			ok = m.status == VX_MSG_OK;
		else if (strcmp(want, "malformed") == 0)
			ok = m.status == VX_MSG_MALFORMED;
		else if (strcmp(want, "unknown-command") == 0)
			ok = m.status == VX_MSG_UNKNOWN;
		else	/* malformed-or-note */
			ok = m.status == VX_MSG_MALFORMED ||
			    (m.status == VX_MSG_OK && m.nnotes > 0);
		if (!ok) {
			char sum[512];

			vx_summary(&m, sum, sizeof(sum));
			diag("%s seq %ld: want %s, got status %d: %s", name, seq,
			    want ? want : "clean", m.status, sum);
			bad_verdict++;
		}
		elen = vx_encode(&m, out, bufcap);
		if (elen != (long)len || memcmp(out, buf, len) != 0) {
			diag("%s seq %ld: re-encode differs (%ld vs %zu bytes)",
			    name, seq, elen, len);
			bad_encode++;
		}
		n++;
		json_decref(o);
	}
	fclose(fp);
	free(line);
	free(buf);
	free(out);
	vx_decoder_release(&d);
	ok(bad_verdict == 0, "%s: %d messages get their expected verdict%s",
	    name, n, lazy ? " (lazy decoder)" : "");
	ok(bad_encode == 0, "%s: %d messages re-encode byte for byte%s", name,
	    n, lazy ? " (lazy decoder)" : "");
	return 0;
}

static void
check_dir(const char *dir)
{
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		ok(0, "read vector directory %s", dir);
		return;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(ents[i]->d_name);

		if (l > 6 && strcmp(ents[i]->d_name + l - 6, ".jsonl") == 0 &&
		    strcmp(ents[i]->d_name, "EXPECTED.jsonl") != 0) {
			check_file(dir, ents[i]->d_name, 0);
			check_file(dir, ents[i]->d_name, 1);
		}
		free(ents[i]);
	}
	free(ents);
}

int
main(int argc, char **argv)
{
	const char *env = getenv("VECTORS");
	int i;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			load_expected(argv[i]);
			check_dir(argv[i]);
			json_decref(expected);
		}
	} else {
		/* the real captures, then our synthetic QEMU ones */
		const char *dirs[2] = { env ? env : "../shared/vectors",
		    "tests/vectors-qemu" };

		for (i = 0; i < 2; i++) {
			load_expected(dirs[i]);
			check_dir(dirs[i]);
			json_decref(expected);
		}
	}
	return unit_done();
}
