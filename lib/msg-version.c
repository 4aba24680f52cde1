/*
 * msg-version.c - VFIO_USER_VERSION, command and reply (spec "Version").
 *
 *   0       2       4
 *   +-------+-------+---------------------------------------+
 *   | major | minor | JSON capabilities, UTF-8, NUL-ended   |
 *   +-------+-------+---------------------------------------+
 *                     (optional)
 *
 * The JSON is parsed with jansson (which also rejects invalid UTF-8).  The
 * raw text stays an item of its own so re-encoding is exact whatever the
 * peer's spacing; the parsed capabilities follow as virtual items with the
 * spec's defaults filled in (item.index is 1 where the key was present).
 * Keys we do not know are kept and shown, never rejected.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "decode-int.h"

void vx_version_release(struct vx_decoder *d);

void
vx_version_release(struct vx_decoder *d)
{
	unsigned i;

	for (i = 0; i < d->nunknown; i++)
		free((void *)d->unknown[i]);
	free(d->unknown);
	d->unknown = NULL;
	d->nunknown = d->unknown_cap = 0;
	if (d->json != NULL)
		json_decref(d->json);
	d->json = NULL;
}

static const char *
keep_key(struct vx_decoder *d, const char *prefix, const char *key)
{
	size_t n = strlen(prefix) + strlen(key) + 1;
	char *s;

	if (d->nunknown == d->unknown_cap) {
		unsigned ncap = d->unknown_cap ? d->unknown_cap * 2 : 8;
		const char **nu = realloc(d->unknown, ncap * sizeof(*nu));

		if (nu == NULL)
			return NULL;
		d->unknown = nu;
		d->unknown_cap = ncap;
	}
	if ((s = malloc(n)) == NULL)
		return NULL;
	snprintf(s, n, "%s%s", prefix, key);
	d->unknown[d->nunknown++] = s;
	return s;
}

/* A non-negative integer capability; 1 if present, 0 if absent, <0 error. */
static int
cap_uint(struct vx_dstate *s, json_t *obj, const char *key, unsigned field,
    uint32_t at, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return dx_fail(s, VX_ERR_INVALID, field, at,
		    "capability \"%s\" must be a non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

static int
cap_bool(struct vx_dstate *s, json_t *obj, const char *key, unsigned field,
    uint32_t at, int *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return dx_fail(s, VX_ERR_INVALID, field, at,
		    "capability \"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 1;
}

static int
cap_object(struct vx_dstate *s, json_t *obj, const char *key, unsigned field,
    uint32_t at, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return dx_fail(s, VX_ERR_INVALID, field, at,
		    "capability \"%s\" must be an object", key);
	*out = v;
	return 1;
}

/* Record keys of obj not in known[] as unknown-key items. */
static int
note_unknown(struct vx_dstate *s, json_t *obj, const char *prefix,
    const char *const *known, uint32_t at)
{
	const char *key;
	json_t *v;
	unsigned i;

	json_object_foreach(obj, key, v) {
		const char *kept;

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] != NULL)
			continue;
		if ((kept = keep_key(s->d, prefix, key)) == NULL)
			return VX_ERR_NOMEM;
		s->d->caps.present |= VX_CAPF_UNKNOWN;
		dx_note(s, VX_NOTE_UNKNOWN_JSON_KEY, VXF_CAP_UNKNOWN, at);
		if (dx_virt(s, VXF_CAP_UNKNOWN, 0, kept) < 0)
			return VX_ERR_NOMEM;
	}
	return 0;
}

static int
parse_caps(struct vx_dstate *s, json_t *root, uint32_t at)
{
	static const char *const root_keys[] = { "capabilities", NULL };
	static const char *const cap_keys[] = {
		"max_msg_fds", "max_data_xfer_size", "max_dma_maps", "pgsizes",
		"migration", "twin_socket", "write_multiple", NULL
	};
	static const char *const mig_keys[] = { "pgsize", "max_bitmap_size", NULL };
	static const char *const twin_keys[] = { "supported", "fd_index", NULL };
	struct vx_caps *c = &s->d->caps;
	json_t *caps, *mig, *twin;
	int r;

	if (!json_is_object(root))
		return dx_fail(s, VX_ERR_INVALID, VXF_VER_JSON, at,
		    "version JSON must be an object");
	if ((r = cap_object(s, root, "capabilities", VXF_VER_JSON, at, &caps)) < 0)
		return r;
	if (r)
		c->present |= VX_CAPF_CAPABILITIES;
	if ((r = note_unknown(s, root, "", root_keys, at)) < 0)
		return r;
	if (caps == NULL)
		return 0;

#define UINTCAP(key, field, flag, member) \
	if ((r = cap_uint(s, caps, key, field, at, &c->member)) < 0) \
		return r; \
	if (r) \
		c->present |= flag;
	UINTCAP("max_msg_fds", VXF_CAP_MAX_MSG_FDS, VX_CAPF_MAX_MSG_FDS, max_msg_fds)
	UINTCAP("max_data_xfer_size", VXF_CAP_MAX_XFER, VX_CAPF_MAX_XFER, max_data_xfer_size)
	UINTCAP("max_dma_maps", VXF_CAP_MAX_DMA_MAPS, VX_CAPF_MAX_DMA_MAPS, max_dma_maps)
	UINTCAP("pgsizes", VXF_CAP_PGSIZES, VX_CAPF_PGSIZES, pgsizes)
	if ((r = cap_bool(s, caps, "write_multiple", VXF_CAP_WRITE_MULTI, at,
	    &c->write_multiple)) < 0)
		return r;
	if (r)
		c->present |= VX_CAPF_WRITE_MULTI;

	if ((r = cap_object(s, caps, "migration", VXF_CAP_MIG_PGSIZE, at, &mig)) < 0)
		return r;
	if (mig != NULL) {
		c->present |= VX_CAPF_MIGRATION;
		caps = mig;	/* UINTCAP reads from `caps` */
		UINTCAP("pgsize", VXF_CAP_MIG_PGSIZE, VX_CAPF_MIG_PGSIZE, mig_pgsize)
		UINTCAP("max_bitmap_size", VXF_CAP_MIG_MAX_BITMAP, VX_CAPF_MIG_MAX_BITMAP, mig_max_bitmap_size)
		if ((r = note_unknown(s, mig, "capabilities.migration.", mig_keys, at)) < 0)
			return r;
		caps = json_object_get(root, "capabilities");
	}
	if ((r = cap_object(s, caps, "twin_socket", VXF_CAP_TWIN, at, &twin)) < 0)
		return r;
	if (twin != NULL) {
		if ((r = cap_bool(s, twin, "supported", VXF_CAP_TWIN, at,
		    &c->twin_supported)) < 0)
			return r;
		if (r)
			c->present |= VX_CAPF_TWIN;
		caps = twin;
		UINTCAP("fd_index", VXF_CAP_TWIN_FD, VX_CAPF_TWIN_FD, twin_fd_index)
		if ((r = note_unknown(s, twin, "capabilities.twin_socket.", twin_keys, at)) < 0)
			return r;
		caps = json_object_get(root, "capabilities");
	}
#undef UINTCAP
	return note_unknown(s, caps, "capabilities.", cap_keys, at);
}

static void
caps_defaults(struct vx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->max_msg_fds = VX_DEF_MAX_MSG_FDS;
	c->max_data_xfer_size = VX_DEF_MAX_XFER;
	c->max_dma_maps = VX_DEF_MAX_DMA_MAPS;
	c->pgsizes = VX_DEF_PGSIZES;
}

/* The effective capabilities as virtual items (index 1: key was sent). */
static int
emit_caps(struct vx_dstate *s)
{
	const struct vx_caps *c = &s->d->caps;
	struct {
		unsigned field;
		uint32_t flag;
		uint64_t val;
	} v[] = {
		{ VXF_CAP_MAX_MSG_FDS, VX_CAPF_MAX_MSG_FDS, c->max_msg_fds },
		{ VXF_CAP_MAX_XFER, VX_CAPF_MAX_XFER, c->max_data_xfer_size },
		{ VXF_CAP_MAX_DMA_MAPS, VX_CAPF_MAX_DMA_MAPS, c->max_dma_maps },
		{ VXF_CAP_PGSIZES, VX_CAPF_PGSIZES, c->pgsizes },
		{ VXF_CAP_MIG_PGSIZE, VX_CAPF_MIG_PGSIZE, c->mig_pgsize },
		{ VXF_CAP_MIG_MAX_BITMAP, VX_CAPF_MIG_MAX_BITMAP, c->mig_max_bitmap_size },
		{ VXF_CAP_TWIN, VX_CAPF_TWIN, (uint64_t)c->twin_supported },
		{ VXF_CAP_TWIN_FD, VX_CAPF_TWIN_FD, c->twin_fd_index },
		{ VXF_CAP_WRITE_MULTI, VX_CAPF_WRITE_MULTI, (uint64_t)c->write_multiple },
	};
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int present = (c->present & v[i].flag) != 0;

		/* migration and twin_socket have no default: omit if absent */
		if (!present && (v[i].field == VXF_CAP_MIG_PGSIZE ||
		    v[i].field == VXF_CAP_MIG_MAX_BITMAP ||
		    v[i].field == VXF_CAP_TWIN_FD))
			continue;
		if (dx_virt(s, v[i].field, v[i].val, NULL) < 0)
			return VX_ERR_NOMEM;
		s->d->items[s->m->nitems - 1].index = (uint32_t)present;
	}
	return 0;
}

int
dec_version(struct vx_dstate *s, int reply)
{
	const uint8_t *text, *nul;
	size_t n;
	uint32_t at;
	json_error_t jerr;
	json_t *root;
	int r;

	(void)reply;
	if ((r = dx_uint(s, VXF_VER_MAJOR, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_VER_MINOR, NULL)) < 0)
		return r;

	vx_version_release(s->d);
	caps_defaults(&s->d->caps);
	s->m->caps = &s->d->caps;
	n = dx_left(s);
	if (n == 0)
		return emit_caps(s);

	at = dx_off(s);
	text = s->c.p;
	if ((r = dx_bytes(s, VXF_VER_JSON, n)) < 0)
		return r;
	s->d->items[s->m->nitems - 1].field = VXF_VER_JSON;
	if ((nul = memchr(text, '\0', n)) == NULL)
		return dx_fail(s, VX_ERR_INVALID, VXF_VER_JSON, at,
		    "version JSON (%zu bytes at offset %u) is not NUL-terminated",
		    n, at);
	if ((size_t)(nul - text) != n - 1)
		return dx_fail(s, VX_ERR_INVALID, VXF_VER_JSON,
		    at + (uint32_t)(nul - text) + 1,
		    "%zu bytes after the version JSON's NUL",
		    n - 1 - (size_t)(nul - text));
	root = json_loadb((const char *)text, n - 1, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (root == NULL)
		return dx_fail(s, VX_ERR_INVALID, VXF_VER_JSON,
		    at + (jerr.position > 0 ? (uint32_t)jerr.position : 0),
		    "version JSON: %s", jerr.text);
	s->d->json = root;
	if ((r = parse_caps(s, root, at)) < 0)
		return r;
	return emit_caps(s);
}
