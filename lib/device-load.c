/*
 * device-load.c - load a device description (vfuctl-device(5)) into a
 * struct vx_device; device.c runs it.
 *
 * Every value the description gives is checked here, once, so that the
 * rest of the device code can trust it; an error names the JSON path of
 * the offending value (".regions.bar2.size") and says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-int.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-strbuf.h"

#define PAGE		4096u
#define PATHMAX		160
#define NAMEMAX		64	/* device and register names, in bytes */
static const char *const dma_reg_names[5] = {
	"dma.addr", "dma.len", "dma.dir", "dma.go", "dma.status"
};

static const char *const region_names[VX_DEV_NREGIONS] = {
	"bar0", "bar1", "bar2", "bar3", "bar4", "bar5", "rom", "config", "vga"
};

/* Parse state: the file name for messages, and the first error. */
struct pctx {
	const char *file;
	char *err;
	size_t errlen;
	unsigned msix_cap;	/* index of the msix capability, for paths */
};

static int
perr(struct pctx *c, const char *path, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, why);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->file, why);
	return VX_ERR_INVALID;
}

/* path + suffix, formatted, into out. */
static const char *
sub(char *out, const char *path, const char *fmt, ...)
{
	char tail[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	snprintf(out, PATHMAX, "%s%s", path, tail);
	return out;
}

/* Refuse keys that are not in known[] (typos must not pass silently). */
static int
check_keys(struct pctx *c, json_t *obj, const char *path,
    const char *const *known)
{
	const char *key;
	json_t *v;
	unsigned i;
	char p[PATHMAX];

	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return perr(c, sub(p, path, ".%s", key), "unknown key");
	}
	return 0;
}

/* Names end up in messages and on terminals: short, printable, no quotes. */
static int
check_name(struct pctx *c, const char *s, const char *path)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return perr(c, path, "must be a non-empty string");
	if (n > NAMEMAX)
		return perr(c, path, "%zu characters, at most %d: shorten it",
		    n, NAMEMAX);
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return perr(c, path, "character %zu is not printable "
			    "ASCII, or is a quote or backslash", i + 1);
	return 0;
}

static int
want_object(struct pctx *c, json_t *v, const char *path)
{
	if (!json_is_object(v))
		return perr(c, path, "must be an object");
	return 0;
}

/* A number: a non-negative JSON integer or a string "0x..."/decimal. */
static int
get_num(struct pctx *c, json_t *v, const char *path, uint64_t max,
    uint64_t *out)
{
	unsigned long long n;
	const char *s;
	char *end;
	int hex;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return perr(c, path, "%lld is negative",
			    (long long)json_integer_value(v));
		n = (unsigned long long)json_integer_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		errno = 0;
		if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ')
			return perr(c, path, "\"%s\" is not a number", s);
		/* decimal or 0x hex; a leading 0 does not mean octal */
		hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
		if (hex ? vx_hexval(s[2]) < 0 : !(s[0] >= '0' && s[0] <= '9'))
			return perr(c, path, "\"%s\" is not a number", s);
		n = strtoull(s + (hex ? 2 : 0), &end, hex ? 16 : 10);
		if (errno != 0 || *end != '\0')
			return perr(c, path, "\"%s\" is not a number", s);
	} else {
		return perr(c, path, "must be a number (or a \"0x...\" string)");
	}
	if (n > max)
		return perr(c, path, "%llu is more than %llu", n,
		    (unsigned long long)max);
	*out = n;
	return 0;
}

/* Optional member: 0 if absent (out untouched), 1 if read, -1 error. */
static int
opt_num(struct pctx *c, json_t *obj, const char *key, const char *path,
    uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHMAX];

	if (v == NULL)
		return 0;
	if (get_num(c, v, sub(p, path, ".%s", key), max, out) < 0)
		return VX_ERR_INVALID;
	return 1;
}

static int
req_num(struct pctx *c, json_t *obj, const char *key, const char *path,
    uint64_t max, uint64_t *out)
{
	char p[PATHMAX];
	int r = opt_num(c, obj, key, path, max, out);

	if (r == 0)
		return perr(c, sub(p, path, ".%s", key), "missing");
	return r < 0 ? -1 : 0;
}

static int
opt_bool(struct pctx *c, json_t *obj, const char *key, const char *path,
    int *out)
{
	json_t *v = json_object_get(obj, key);
	char p[PATHMAX];

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return perr(c, sub(p, path, ".%s", key), "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* Hex bytes (spaces allowed between them) into a malloc'd buffer. */
static int
get_hex(struct pctx *c, json_t *v, const char *path, uint8_t **out,
    size_t *len)
{
	const char *s = json_string_value(v);
	const char *bad;
	size_t cap;
	uint8_t *b;
	long n;

	if (s == NULL)
		return perr(c, path, "must be a string of hex digits");
	cap = strlen(s) / 2 + 1;
	if ((b = malloc(cap)) == NULL)
		return perr(c, path, "out of memory");
	if ((n = vx_hex_bytes(s, " :\n", b, cap, &bad)) < 0) {
		free(b);
		return perr(c, path, "not hex digits at \"%.8s\"", bad);
	}
	*out = b;
	*len = (size_t)n;
	return 0;
}

static int
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int
region_index(const char *name)
{
	unsigned i;

	for (i = 0; i < VX_PCI_VGA; i++)
		if (strcmp(region_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* --- interrupts ----------------------------------------------------- */

static int
irq_index(const char *s)
{
	if (strcmp(s, "intx") == 0)
		return VX_IRQ_INTX;
	if (strcmp(s, "msi") == 0)
		return VX_IRQ_MSI;
	if (strcmp(s, "msix") == 0)
		return VX_IRQ_MSIX;
	return -1;
}

/* {"irq": "intx"|"msi"|"msix", "vector": N}; counts are known by now. */
static int
parse_irq_ref(struct pctx *c, struct vx_device *d, json_t *o, const char *path,
    const char *const *keys, struct vx_irq_ref *out)
{
	static const char *const irq_names[] = { "intx", "msi", "msix" };
	json_t *v;
	uint64_t vec = 0;
	char p[PATHMAX];
	int idx;

	if (want_object(c, o, path) < 0 || check_keys(c, o, path, keys) < 0)
		return VX_ERR_INVALID;
	v = json_object_get(o, "irq");
	if (v == NULL || !json_is_string(v))
		return perr(c, sub(p, path, ".irq"),
		    "must be \"intx\", \"msi\" or \"msix\"");
	if ((idx = irq_index(json_string_value(v))) < 0)
		return perr(c, sub(p, path, ".irq"),
		    "\"%s\" is not \"intx\", \"msi\" or \"msix\"",
		    json_string_value(v));
	if (opt_num(c, o, "vector", path, 2047, &vec) < 0)
		return VX_ERR_INVALID;
	if (d->irq_count[idx] == 0)
		return perr(c, sub(p, path, ".irq"), "the device has no %s "
		    "(give %s)", irq_names[idx], idx == VX_IRQ_INTX ?
		    ".pci.interrupt_pin" : "the capability in .pci.capabilities");
	if (vec >= d->irq_count[idx])
		return perr(c, sub(p, path, ".vector"), "%llu is not below the "
		    "%u %s vectors", (unsigned long long)vec,
		    d->irq_count[idx], irq_names[idx]);
	out->index = idx;
	out->vector = (unsigned)vec;
	return 0;
}

/* --- PCI identity and capabilities ---------------------------------- */

/* Hex at v into buf (at most max bytes); its length in *n. */
static int
get_hex_into(struct pctx *c, json_t *v, const char *path, uint8_t *buf,
    size_t max, size_t *n)
{
	uint8_t *b;

	if (get_hex(c, v, path, &b, n) < 0)
		return VX_ERR_INVALID;
	if (*n > max) {
		free(b);
		return perr(c, path, "%zu bytes, at most %zu fit", *n, max);
	}
	memcpy(buf, b, *n);
	free(b);
	return 0;
}

static int
parse_cap(struct pctx *c, struct vx_device *d, struct vx_pci_desc *pd,
    json_t *o, const char *path, unsigned i, uint8_t **vendor)
{
	static const char *const k_plain[] = { "type", NULL };
	static const char *const k_msi[] = { "type", "vectors", NULL };
	static const char *const k_msix[] = { "type", "vectors", "table", "pba",
		NULL };
	static const char *const k_place[] = { "bar", "offset", NULL };
	static const char *const k_vendor[] = { "type", "data", NULL };
	const char *type;
	json_t *dv;
	char p[PATHMAX], q[PATHMAX];
	uint64_t v;
	unsigned j;
	uint8_t id;
	size_t n;

	if (want_object(c, o, path) < 0)
		return VX_ERR_INVALID;
	type = json_string_value(json_object_get(o, "type"));
	if (type == NULL)
		return perr(c, sub(p, path, ".type"), "must be \"pm\", \"msi\", "
		    "\"msix\", \"pcie\" or \"vendor\"");
	if (strcmp(type, "pm") == 0) {
		id = VX_PCI_CAP_PM;
		if (check_keys(c, o, path, k_plain) < 0)
			return VX_ERR_INVALID;
	} else if (strcmp(type, "pcie") == 0) {
		id = VX_PCI_CAP_EXP;
		if (check_keys(c, o, path, k_vendor) < 0)
			return VX_ERR_INVALID;
		if ((dv = json_object_get(o, "data")) != NULL &&
		    get_hex_into(c, dv, sub(p, path, ".data"), pd->exp_data,
		    sizeof(pd->exp_data), &pd->exp_len) < 0)
			return VX_ERR_INVALID;
	} else if (strcmp(type, "msi") == 0) {
		id = VX_PCI_CAP_MSI;
		v = 1;
		if (check_keys(c, o, path, k_msi) < 0 ||
		    opt_num(c, o, "vectors", path, 32, &v) < 0)
			return VX_ERR_INVALID;
		if (!is_pow2(v))
			return perr(c, sub(p, path, ".vectors"), "%llu is not "
			    "1, 2, 4, 8, 16 or 32", (unsigned long long)v);
		pd->msi_vectors = (unsigned)v;
		d->irq_count[VX_IRQ_MSI] = (unsigned)v;
	} else if (strcmp(type, "msix") == 0) {
		static const char *const what[2] = { "table", "pba" };
		unsigned *bar[2] = { &pd->msix_table_bar, &pd->msix_pba_bar };
		uint32_t *off[2] = { &pd->msix_table_off, &pd->msix_pba_off };
		json_t *pl;
		const char *bn;
		int bi;

		id = VX_PCI_CAP_MSIX;
		c->msix_cap = i;
		if (check_keys(c, o, path, k_msix) < 0 ||
		    req_num(c, o, "vectors", path, 2048, &v) < 0)
			return VX_ERR_INVALID;
		if (v == 0)
			return perr(c, sub(p, path, ".vectors"), "must be 1 to 2048");
		pd->msix_vectors = (unsigned)v;
		d->irq_count[VX_IRQ_MSIX] = (unsigned)v;
		for (j = 0; j < 2; j++) {
			sub(q, path, ".%s", what[j]);
			pl = json_object_get(o, what[j]);
			if (pl == NULL)
				return perr(c, q, "missing ({\"bar\": \"bar0\", "
				    "\"offset\": N})");
			if (want_object(c, pl, q) < 0 ||
			    check_keys(c, pl, q, k_place) < 0)
				return VX_ERR_INVALID;
			bn = json_string_value(json_object_get(pl, "bar"));
			bi = bn != NULL ? region_index(bn) : -1;
			if (bi < 0 || bi > 5)
				return perr(c, sub(p, q, ".bar"), "must name a "
				    "BAR, \"bar0\" to \"bar5\"");
			if (req_num(c, pl, "offset", q, UINT32_MAX, &v) < 0)
				return VX_ERR_INVALID;
			if (v & 7)
				return perr(c, sub(p, q, ".offset"), "0x%llx is not "
				    "8-byte aligned", (unsigned long long)v);
			*bar[j] = (unsigned)bi;
			*off[j] = (uint32_t)v;
		}
	} else if (strcmp(type, "vendor") == 0) {
		id = VX_PCI_CAP_VENDOR;
		if (check_keys(c, o, path, k_vendor) < 0)
			return VX_ERR_INVALID;
		if ((dv = json_object_get(o, "data")) != NULL) {
			if (get_hex(c, dv, sub(p, path, ".data"), vendor, &n) < 0)
				return VX_ERR_INVALID;
			if (n > VX_PCI_VENDOR_MAX)
				return perr(c, p, "%zu bytes, at most %d fit",
				    n, VX_PCI_VENDOR_MAX);
			pd->vendor_data = *vendor;
			pd->vendor_len = n;
		}
	} else {
		return perr(c, sub(p, path, ".type"), "\"%s\" is not \"pm\", "
		    "\"msi\", \"msix\", \"pcie\" or \"vendor\"", type);
	}
	for (j = 0; j < i; j++)
		if (pd->cap_order[j] == id)
			return perr(c, sub(p, path, ".type"), "\"%s\" is given "
			    "twice", type);
	pd->cap_order[i] = id;
	return 0;
}

/* .pci.extended_capabilities: [{ "id": N, "version": N, "data": HEX }] */
static int
parse_ext_caps(struct pctx *c, struct vx_pci_desc *pd, json_t *a)
{
	static const char *const keys[] = { "id", "version", "data", NULL };
	char p[PATHMAX], q[PATHMAX];
	size_t i, n, used = 0;
	uint64_t v;
	json_t *o, *dv;

	if (!json_is_array(a))
		return perr(c, ".pci.extended_capabilities", "must be an array");
	if (json_array_size(a) > VX_PCI_EXT_MAX)
		return perr(c, ".pci.extended_capabilities", "at most %d",
		    VX_PCI_EXT_MAX);
	for (i = 0; i < json_array_size(a); i++) {
		struct vx_pci_ext *e = &pd->ext[i];

		o = json_array_get(a, i);
		sub(p, ".pci.extended_capabilities", "[%zu]", i);
		if (want_object(c, o, p) < 0 || check_keys(c, o, p, keys) < 0 ||
		    req_num(c, o, "id", p, 0xffff, &v) < 0)
			return VX_ERR_INVALID;
		e->id = (uint16_t)v;
		v = 1;
		if (opt_num(c, o, "version", p, 15, &v) < 0)
			return VX_ERR_INVALID;
		e->version = (uint8_t)v;
		n = 0;
		if ((dv = json_object_get(o, "data")) != NULL &&
		    get_hex_into(c, dv, sub(q, p, ".data"), pd->ext_body + used,
		    sizeof(pd->ext_body) - used, &n) < 0)
			return VX_ERR_INVALID;
		e->body = (uint16_t)used;
		e->len = (uint16_t)n;
		used += n;
	}
	pd->next = (unsigned)i;
	return 0;
}

static int
parse_pci(struct pctx *c, struct vx_device *d, struct vx_pci_desc *pd,
    json_t *o, uint8_t **vendor)
{
	static const char *const keys[] = { "vendor", "device",
		"subsystem_vendor", "subsystem", "class", "revision",
		"interrupt_pin", "capabilities", "extended_capabilities", NULL };
	json_t *caps, *pin, *ext;
	char p[PATHMAX];
	uint64_t v = 0;
	size_t i;

	if (o == NULL)
		return perr(c, ".pci", "missing");
	if (want_object(c, o, ".pci") < 0 || check_keys(c, o, ".pci", keys) < 0)
		return VX_ERR_INVALID;
	if (req_num(c, o, "vendor", ".pci", 0xffff, &v) < 0)
		return VX_ERR_INVALID;
	pd->vendor = (uint16_t)v;
	if (req_num(c, o, "device", ".pci", 0xffff, &v) < 0)
		return VX_ERR_INVALID;
	pd->device = (uint16_t)v;
	v = 0;
	if (opt_num(c, o, "subsystem_vendor", ".pci", 0xffff, &v) < 0)
		return VX_ERR_INVALID;
	pd->subsys_vendor = (uint16_t)v;
	v = 0;
	if (opt_num(c, o, "subsystem", ".pci", 0xffff, &v) < 0)
		return VX_ERR_INVALID;
	pd->subsys_id = (uint16_t)v;
	v = 0xff0000;	/* unassigned class */
	if (opt_num(c, o, "class", ".pci", 0xffffff, &v) < 0)
		return VX_ERR_INVALID;
	pd->class_code = (uint32_t)v;
	v = 0;
	if (opt_num(c, o, "revision", ".pci", 0xff, &v) < 0)
		return VX_ERR_INVALID;
	pd->revision = (uint8_t)v;

	if ((pin = json_object_get(o, "interrupt_pin")) != NULL) {
		const char *s = json_string_value(pin);

		if (s != NULL && strlen(s) == 1 && s[0] >= 'a' && s[0] <= 'd')
			pd->int_pin = (uint8_t)(s[0] - 'a' + 1);
		else if (s != NULL && strcmp(s, "none") == 0)
			pd->int_pin = 0;
		else
			return perr(c, ".pci.interrupt_pin", "must be \"a\", "
			    "\"b\", \"c\", \"d\" or \"none\"");
	}
	d->irq_count[VX_IRQ_INTX] = pd->int_pin ? 1 : 0;
	/* error and request: one vector each, as vfio-pci and QEMU expect */
	d->irq_count[VX_IRQ_ERR] = 1;
	d->irq_count[VX_IRQ_REQ] = 1;

	if ((ext = json_object_get(o, "extended_capabilities")) != NULL &&
	    parse_ext_caps(c, pd, ext) < 0)
		return VX_ERR_INVALID;
	if ((caps = json_object_get(o, "capabilities")) == NULL)
		return 0;
	if (!json_is_array(caps))
		return perr(c, ".pci.capabilities", "must be an array");
	if (json_array_size(caps) > 5)
		return perr(c, ".pci.capabilities", "at most 5 (one of each type)");
	for (i = 0; i < json_array_size(caps); i++)
		if (parse_cap(c, d, pd, json_array_get(caps, i),
		    sub(p, ".pci.capabilities", "[%zu]", i), (unsigned)i,
		    vendor) < 0)
			return VX_ERR_INVALID;
	return 0;
}

/* --- regions -------------------------------------------------------- */

static int
access_value(const char *s)
{
	if (strcmp(s, "rw") == 0)
		return VX_REG_RW;
	if (strcmp(s, "ro") == 0)
		return VX_REG_RO;
	if (strcmp(s, "w1c") == 0)
		return VX_REG_W1C;
	if (strcmp(s, "scratch") == 0)
		return VX_REG_SCRATCH;
	return -1;
}

static int
find_reg(const struct vx_region *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->nregs; i++)
		if (r->regs[i].name != NULL && strcmp(r->regs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
parse_register(struct pctx *c, struct vx_device *d, struct vx_region *r,
    json_t *o, const char *path, struct vx_reg *g)
{
	static const char *const keys[] = { "name", "offset", "width", "reset",
		"access", "doorbell", NULL };
	json_t *v;
	const char *s;
	char p[PATHMAX];
	uint64_t n;

	if (want_object(c, o, path) < 0 || check_keys(c, o, path, keys) < 0)
		return VX_ERR_INVALID;
	if ((s = json_string_value(json_object_get(o, "name"))) == NULL)
		return perr(c, sub(p, path, ".name"), "must be a non-empty string");
	if (check_name(c, s, sub(p, path, ".name")) < 0)
		return VX_ERR_INVALID;
	if (find_reg(r, s) >= 0)
		return perr(c, sub(p, path, ".name"), "\"%s\" is used twice", s);
	if ((g->name = strdup(s)) == NULL)
		return perr(c, path, "out of memory");
	if (req_num(c, o, "offset", path, UINT32_MAX, &n) < 0)
		return VX_ERR_INVALID;
	g->off = (uint32_t)n;
	n = 4;
	if (opt_num(c, o, "width", path, 8, &n) < 0)
		return VX_ERR_INVALID;
	if (n != 1 && n != 2 && n != 4 && n != 8)
		return perr(c, sub(p, path, ".width"), "%llu is not 1, 2, 4 or 8",
		    (unsigned long long)n);
	g->width = (unsigned)n;
	if (g->off % g->width)
		return perr(c, sub(p, path, ".offset"), "0x%x is not aligned to "
		    "the width %u", g->off, g->width);
	if ((uint64_t)g->off + g->width > r->size)
		return perr(c, sub(p, path, ".offset"), "0x%x + %u is past the "
		    "%llu-byte region", g->off, g->width,
		    (unsigned long long)r->size);
	n = 0;
	if (opt_num(c, o, "reset", path, dev_width_mask(g->width), &n) < 0)
		return VX_ERR_INVALID;
	g->reset = g->val = n;
	g->access = VX_REG_RW;
	if ((v = json_object_get(o, "access")) != NULL) {
		if ((s = json_string_value(v)) == NULL ||
		    (g->access = access_value(s)) < 0)
			return perr(c, sub(p, path, ".access"), "must be \"rw\", "
			    "\"ro\", \"w1c\" or \"scratch\"");
	}
	g->doorbell.index = -1;
	g->set_reg = -1;
	if ((v = json_object_get(o, "doorbell")) != NULL) {
		static const char *const dkeys[] = { "irq", "vector", "set", NULL };

		if (parse_irq_ref(c, d, v, sub(p, path, ".doorbell"), dkeys,
		    &g->doorbell) < 0)
			return VX_ERR_INVALID;
	}
	return 0;
}

/* Doorbell "set" members name registers: resolved once all are known. */
static int
resolve_sets(struct pctx *c, struct vx_region *r, json_t *regs,
    const char *path)
{
	static const char *const keys[] = { "register", "bits", NULL };
	json_t *o, *set;
	const char *s;
	char p[PATHMAX], q[PATHMAX];
	unsigned i;
	int ri;
	uint64_t bits;

	for (i = 0; i < json_array_size(regs); i++) {
		o = json_array_get(regs, i);
		set = json_object_get(json_object_get(o, "doorbell"), "set");
		if (set == NULL)
			continue;
		sub(q, path, "[%u].doorbell.set", i);
		if (want_object(c, set, q) < 0 || check_keys(c, set, q, keys) < 0)
			return VX_ERR_INVALID;
		s = json_string_value(json_object_get(set, "register"));
		if (s == NULL || (ri = find_reg(r, s)) < 0)
			return perr(c, sub(p, q, ".register"), "must name a "
			    "register of this region");
		/* not sorted yet: entry i is the register of element i */
		if (ri == (int)i)
			return perr(c, sub(p, q, ".register"), "\"%s\" is the "
			    "doorbell itself: name another register, such as "
			    "a w1c status register", s);
		if (req_num(c, set, "bits", q, dev_width_mask(r->regs[ri].width),
		    &bits) < 0)
			return VX_ERR_INVALID;
		if (bits == 0)
			return perr(c, sub(p, q, ".bits"), "0 sets nothing: give "
			    "the bits to set, or leave out \"set\"");
		r->regs[i].set_reg = ri;
		r->regs[i].set_bits = bits;
	}
	return 0;
}

static int
parse_flags(struct pctx *c, json_t *v, const char *path, uint32_t *flags)
{
	const char *s;
	size_t i;

	if (!json_is_array(v))
		return perr(c, path, "must be an array of \"read\", \"write\", "
		    "\"mmap\"");
	*flags = 0;
	for (i = 0; i < json_array_size(v); i++) {
		s = json_string_value(json_array_get(v, i));
		if (s != NULL && strcmp(s, "read") == 0)
			*flags |= VX_REGION_READ;
		else if (s != NULL && strcmp(s, "write") == 0)
			*flags |= VX_REGION_WRITE;
		else if (s != NULL && strcmp(s, "mmap") == 0)
			*flags |= VX_REGION_MMAP;
		else {
			char p[PATHMAX];

			return perr(c, sub(p, path, "[%zu]", i), "must be "
			    "\"read\", \"write\" or \"mmap\"");
		}
	}
	return 0;
}

static int
cmp_reg(const void *a, const void *b)
{
	const struct vx_reg *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int
alloc_ram(struct pctx *c, struct vx_region *r, const char *path,
    const char *name)
{
	char fname[64];

	if (!(r->flags & VX_REGION_MMAP)) {
		if ((r->mem = calloc(1, (size_t)r->size)) == NULL)
			return perr(c, path, "out of memory");
		return 0;
	}
	snprintf(fname, sizeof(fname), "vfuctl-%s", name);
	if ((r->fd = memfd_create(fname, MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return perr(c, path, "memfd_create: %s", strerror(errno));
	if (ftruncate(r->fd, (off_t)r->size) < 0)
		return perr(c, path, "ftruncate: %s", strerror(errno));
	/* clients get this fd: none may resize it under our mapping (SIGBUS) */
	if (fcntl(r->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) < 0)
		return perr(c, path, "sealing the memfd: %s", strerror(errno));
	r->mem = mmap(NULL, (size_t)r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    r->fd, 0);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		return perr(c, path, "mmap: %s", strerror(errno));
	}
	return 0;
}

static int
parse_sparse(struct pctx *c, struct vx_region *r, json_t *v, const char *path)
{
	static const char *const keys[] = { "offset", "size", NULL };
	char p[PATHMAX];
	unsigned i, j;
	uint64_t off, sz;

	if (!json_is_array(v))
		return perr(c, path, "must be an array of {\"offset\", \"size\"}");
	if (json_array_size(v) > VX_DEV_MAX_SPARSE)
		return perr(c, path, "at most %d areas", VX_DEV_MAX_SPARSE);
	if (!(r->flags & VX_REGION_MMAP))
		return perr(c, path, "sparse areas need \"mmap\" in the flags");
	for (i = 0; i < json_array_size(v); i++) {
		json_t *o = json_array_get(v, i);

		sub(p, path, "[%u]", i);
		if (want_object(c, o, p) < 0 || check_keys(c, o, p, keys) < 0 ||
		    req_num(c, o, "offset", p, r->size, &off) < 0 ||
		    req_num(c, o, "size", p, r->size, &sz) < 0)
			return VX_ERR_INVALID;
		if (off % PAGE || sz % PAGE || sz == 0)
			return perr(c, p, "offset 0x%llx and size 0x%llx must be "
			    "non-zero multiples of %u", (unsigned long long)off,
			    (unsigned long long)sz, PAGE);
		if (off + sz > r->size)
			return perr(c, p, "0x%llx + 0x%llx is past the region",
			    (unsigned long long)off, (unsigned long long)sz);
		for (j = 0; j < i; j++)
			if (off < r->sparse[j].off + r->sparse[j].size &&
			    r->sparse[j].off < off + sz)
				return perr(c, p, "overlaps area %u", j);
		r->sparse[i].off = off;
		r->sparse[i].size = sz;
	}
	r->nsparse = (unsigned)json_array_size(v);
	return 0;
}

static int
parse_region(struct pctx *c, struct vx_device *d, struct vx_pci_desc *pd,
    unsigned idx, json_t *o, const char *path)
{
	static const char *const keys[] = { "size", "type", "prefetchable",
		"flags", "backing", "init", "sparse", "registers", NULL };
	static const char *const cfg_keys[] = { "size", NULL };
	struct vx_region *r = &d->region[idx];
	const char *s;
	json_t *v;
	char p[PATHMAX];
	uint64_t size;
	uint8_t *init = NULL;
	size_t ninit, i;

	if (want_object(c, o, path) < 0)
		return VX_ERR_INVALID;
	if (idx == VX_PCI_CONFIG) {
		if (check_keys(c, o, path, cfg_keys) < 0)
			return VX_ERR_INVALID;
		size = 0;
		if (opt_num(c, o, "size", path, 4096, &size) < 0)
			return VX_ERR_INVALID;
		if (size != 0 && size != 256 && size != 4096)
			return perr(c, sub(p, path, ".size"), "%llu is not 256 "
			    "or 4096", (unsigned long long)size);
		r->size = size;	/* checked against the generated size later */
		return 0;
	}
	if (check_keys(c, o, path, keys) < 0 ||
	    req_num(c, o, "size", path, 1ull << 40, &size) < 0)
		return VX_ERR_INVALID;
	if (!is_pow2(size))
		return perr(c, sub(p, path, ".size"), "%llu is not a power of two",
		    (unsigned long long)size);
	r->size = size;
	/* the ROM is read-only; everything else read-write by default */
	r->flags = VX_REGION_READ | (idx == VX_PCI_ROM ? 0 : VX_REGION_WRITE);
	if ((v = json_object_get(o, "flags")) != NULL &&
	    parse_flags(c, v, sub(p, path, ".flags"), &r->flags) < 0)
		return VX_ERR_INVALID;

	pd->bar[idx].size = size;
	if ((v = json_object_get(o, "type")) != NULL) {
		s = json_string_value(v);
		if (s != NULL && strcmp(s, "io") == 0)
			pd->bar[idx].io = 1;
		else if (s != NULL && strcmp(s, "mem64") == 0)
			pd->bar[idx].mem64 = 1;
		else if (s == NULL || strcmp(s, "mem") != 0)
			return perr(c, sub(p, path, ".type"), "must be \"mem\", "
			    "\"mem64\" or \"io\"");
		if (idx == VX_PCI_ROM && (pd->bar[idx].io || pd->bar[idx].mem64))
			return perr(c, sub(p, path, ".type"), "the ROM is 32-bit "
			    "memory");
	}
	if (opt_bool(c, o, "prefetchable", path, &pd->bar[idx].prefetch) < 0)
		return VX_ERR_INVALID;
	if (idx == VX_PCI_ROM && (r->flags & VX_REGION_WRITE))
		return perr(c, sub(p, path, ".flags"), "the ROM is read-only");

	s = "ram";
	if ((v = json_object_get(o, "backing")) != NULL &&
	    (s = json_string_value(v)) == NULL)
		s = "";
	if (strcmp(s, "ram") == 0) {
		r->backing = VX_BACK_RAM;
	} else if (strcmp(s, "registers") == 0) {
		r->backing = VX_BACK_REGS;
	} else {
		return perr(c, sub(p, path, ".backing"), "must be \"ram\" or "
		    "\"registers\"");
	}

	if (r->flags & VX_REGION_MMAP) {
		if (r->backing != VX_BACK_RAM)
			return perr(c, sub(p, path, ".flags"), "\"mmap\" needs "
			    "\"backing\": \"ram\"");
		if (pd->bar[idx].io)
			return perr(c, sub(p, path, ".flags"), "an I/O BAR cannot "
			    "be mapped");
		if (size % PAGE)
			return perr(c, sub(p, path, ".size"), "%llu: a region "
			    "with \"mmap\" is a multiple of %u bytes",
			    (unsigned long long)size, PAGE);
	}
	if ((v = json_object_get(o, "sparse")) != NULL &&
	    parse_sparse(c, r, v, sub(p, path, ".sparse")) < 0)
		return VX_ERR_INVALID;

	if (r->backing == VX_BACK_RAM) {
		if (json_object_get(o, "registers") != NULL)
			return perr(c, sub(p, path, ".registers"), "needs "
			    "\"backing\": \"registers\"");
		if (size > (1ull << 30))
			return perr(c, sub(p, path, ".size"), "RAM regions are "
			    "at most 1 GiB");
		if (alloc_ram(c, r, path, region_names[idx]) < 0)
			return VX_ERR_INVALID;
		if ((v = json_object_get(o, "init")) != NULL) {
			if (get_hex(c, v, sub(p, path, ".init"), &init, &ninit) < 0)
				return VX_ERR_INVALID;
			if (ninit > size) {
				free(init);
				return perr(c, p, "%zu bytes do not fit the "
				    "region", ninit);
			}
			memcpy(r->mem, init, ninit);
			free(init);
		}
		return 0;
	}

	if (json_object_get(o, "init") != NULL)
		return perr(c, sub(p, path, ".init"), "needs \"backing\": \"ram\"");
	v = json_object_get(o, "registers");
	if (v != NULL && !json_is_array(v))
		return perr(c, sub(p, path, ".registers"), "must be an array");
	if (v == NULL || json_array_size(v) == 0)
		return 0;
	if (json_array_size(v) > VX_DEV_MAX_REGS - 5)
		return perr(c, sub(p, path, ".registers"), "at most %d registers",
		    VX_DEV_MAX_REGS - 5);
	/* room for the DMA engine's registers too */
	r->regs = calloc(json_array_size(v) + 5, sizeof(*r->regs));
	if (r->regs == NULL)
		return perr(c, path, "out of memory");
	for (i = 0; i < json_array_size(v); i++) {
		char q[PATHMAX];

		sub(q, path, ".registers[%zu]", i);
		if (parse_register(c, d, r, json_array_get(v, i), q,
		    &r->regs[r->nregs++]) < 0)
			return VX_ERR_INVALID;
	}
	return resolve_sets(c, r, v, sub(p, path, ".registers"));
}

/* Sort registers and refuse overlaps; set_reg follows its target. */
static int
finish_registers(struct pctx *c, struct vx_region *r, unsigned idx)
{
	const char *target[VX_DEV_MAX_REGS];
	const char *name[VX_DEV_MAX_REGS];
	unsigned i, j;
	char p[PATHMAX];

	if (r->nregs == 0)
		return 0;
	if (r->nregs > VX_DEV_MAX_REGS)
		return perr(c, sub(p, ".regions", ".%s.registers",
		    region_names[idx]),
		    "at most %d registers", VX_DEV_MAX_REGS - 5);
	for (i = 0; i < r->nregs; i++) {
		name[i] = r->regs[i].name;
		target[i] = r->regs[i].set_reg >= 0 ?
		    r->regs[r->regs[i].set_reg].name : NULL;
	}
	qsort(r->regs, r->nregs, sizeof(*r->regs), cmp_reg);
	for (i = 0; i < r->nregs; i++) {
		r->regs[i].set_reg = -1;
		for (j = 0; j < r->nregs; j++)
			if (name[j] == r->regs[i].name && target[j] != NULL)
				r->regs[i].set_reg = find_reg(r, target[j]);
	}
	for (i = 1; i < r->nregs; i++)
		if (r->regs[i - 1].off + r->regs[i - 1].width > r->regs[i].off)
			return perr(c, sub(p, ".regions", ".%s.registers",
			    region_names[idx]), "\"%s\" at 0x%x overlaps \"%s\" "
			    "at 0x%x", r->regs[i].name, r->regs[i].off,
			    r->regs[i - 1].name, r->regs[i - 1].off);
	return 0;
}

/* --- DMA engine ----------------------------------------------------- */

static int
add_dma_regs(struct pctx *c, struct vx_device *d, struct vx_region *r)
{
	static const struct {
		uint32_t off;
		unsigned width;
		int access;
	} def[5] = {
		{ VX_DMA_REG_ADDR, 8, VX_REG_RW },
		{ VX_DMA_REG_LEN, 4, VX_REG_RW },
		{ VX_DMA_REG_DIR, 4, VX_REG_RW },
		{ VX_DMA_REG_GO, 4, VX_REG_RW },
		{ VX_DMA_REG_STATUS, 4, VX_REG_W1C },
	};
	struct vx_reg *nr;
	unsigned i;

	if (r->regs == NULL) {
		if ((nr = calloc(5, sizeof(*nr))) == NULL)
			return perr(c, ".dma", "out of memory");
		r->regs = nr;
	}
	for (i = 0; i < 5; i++) {
		struct vx_reg *g = &r->regs[r->nregs++];

		memset(g, 0, sizeof(*g));
		if (find_reg(r, dma_reg_names[i]) >= 0)
			return perr(c, ".dma", "register name \"%s\" is taken",
			    dma_reg_names[i]);
		if ((g->name = strdup(dma_reg_names[i])) == NULL)
			return perr(c, ".dma", "out of memory");
		g->off = d->dma.base + def[i].off;
		g->width = def[i].width;
		g->access = def[i].access;
		g->doorbell.index = -1;
		g->set_reg = -1;
		g->dma = (int)i + 1;
	}
	return 0;
}

static int
parse_dma(struct pctx *c, struct vx_device *d, json_t *o)
{
	static const char *const keys[] = { "registers", "buffer", "irq", NULL };
	static const char *const place[] = { "region", "offset", "size", NULL };
	static const char *const ikeys[] = { "irq", "vector", NULL };
	json_t *reg, *buf, *irq;
	const char *s;
	uint64_t v;
	int idx;

	if (want_object(c, o, ".dma") < 0 || check_keys(c, o, ".dma", keys) < 0)
		return VX_ERR_INVALID;
	if ((reg = json_object_get(o, "registers")) == NULL)
		return perr(c, ".dma.registers", "missing");
	if (want_object(c, reg, ".dma.registers") < 0 ||
	    check_keys(c, reg, ".dma.registers", place) < 0)
		return VX_ERR_INVALID;
	s = json_string_value(json_object_get(reg, "region"));
	idx = s != NULL ? region_index(s) : -1;
	if (idx < 0 || d->region[idx].backing != VX_BACK_REGS)
		return perr(c, ".dma.registers.region", "must name a region "
		    "with \"backing\": \"registers\"");
	v = 0;
	if (opt_num(c, reg, "offset", ".dma.registers", UINT32_MAX, &v) < 0)
		return VX_ERR_INVALID;
	if (v % 8 || v + VX_DMA_REGS_SIZE > d->region[idx].size)
		return perr(c, ".dma.registers.offset", "0x%llx: the %u engine "
		    "registers must fit the region, 8-byte aligned",
		    (unsigned long long)v, VX_DMA_REGS_SIZE);
	d->dma.region = (unsigned)idx;
	d->dma.base = (uint32_t)v;

	if ((buf = json_object_get(o, "buffer")) == NULL)
		return perr(c, ".dma.buffer", "missing");
	if (want_object(c, buf, ".dma.buffer") < 0 ||
	    check_keys(c, buf, ".dma.buffer", place) < 0)
		return VX_ERR_INVALID;
	s = json_string_value(json_object_get(buf, "region"));
	idx = s != NULL ? region_index(s) : -1;
	if (idx < 0 || d->region[idx].backing != VX_BACK_RAM)
		return perr(c, ".dma.buffer.region", "must name a region with "
		    "\"backing\": \"ram\"");
	d->dma.buf_region = (unsigned)idx;
	v = 0;
	if (opt_num(c, buf, "offset", ".dma.buffer", d->region[idx].size - 1,
	    &v) < 0)
		return VX_ERR_INVALID;
	d->dma.buf_off = v;
	v = d->region[idx].size - d->dma.buf_off;
	if (opt_num(c, buf, "size", ".dma.buffer", v, &v) < 0)
		return VX_ERR_INVALID;
	d->dma.buf_size = v;

	d->dma.irq.index = -1;
	if ((irq = json_object_get(o, "irq")) != NULL &&
	    parse_irq_ref(c, d, irq, ".dma.irq", ikeys, &d->dma.irq) < 0)
		return VX_ERR_INVALID;
	d->dma.present = 1;
	return add_dma_regs(c, d, &d->region[d->dma.region]);
}

/* --- loading -------------------------------------------------------- */

static void
region_free(struct vx_region *r)
{
	unsigned i;

	for (i = 0; i < r->nregs; i++)
		free(r->regs[i].name);
	free(r->regs);
	if (r->mem != NULL) {
		if (r->fd >= 0)
			munmap(r->mem, (size_t)r->size);
		else
			free(r->mem);
	}
	if (r->fd >= 0)
		close(r->fd);
}

void
vx_device_free(struct vx_device *d)
{
	unsigned i;

	if (d == NULL)
		return;
	for (i = 0; i < VX_DEV_NREGIONS; i++)
		region_free(&d->region[i]);
	free(d->name);
	free(d);
}

/*
 * QEMU's vfio-pci emulates the MSI-X table and PBA itself and never passes
 * accesses to them on: a register under either would be dead, and the two
 * must not overlap (QEMU refuses that).
 */
static int
check_msix_place(struct pctx *c, const struct vx_device *d,
    const struct vx_pci_desc *pd)
{
	static const char *const what[2] = { "table", "pba" };
	static const char *const label[2] = { "MSI-X table", "MSI-X PBA" };
	unsigned bar[2] = { pd->msix_table_bar, pd->msix_pba_bar };
	uint64_t lo[2] = { pd->msix_table_off, pd->msix_pba_off };
	uint64_t hi[2] = { lo[0] + 16ull * pd->msix_vectors,
		lo[1] + 8ull * ((pd->msix_vectors + 63) / 64) };
	const struct vx_region *r;
	char p[PATHMAX], q[PATHMAX];
	unsigned i, j;

	if (pd->msix_vectors == 0)
		return 0;
	sub(q, ".pci.capabilities", "[%u]", c->msix_cap);
	for (j = 0; j < 2; j++) {
		r = &d->region[bar[j]];
		for (i = 0; i < r->nregs; i++) {
			const struct vx_reg *g = &r->regs[i];

			if (g->off < hi[j] && lo[j] < g->off + g->width)
				return perr(c, sub(p, q, ".%s.offset", what[j]),
				    "the %s at [0x%llx, 0x%llx) covers register "
				    "\"%s\" at 0x%x of bar%u, which the client "
				    "would never pass on: move one of them",
				    label[j], (unsigned long long)lo[j],
				    (unsigned long long)hi[j], g->name, g->off,
				    bar[j]);
		}
	}
	if (bar[0] == bar[1] && lo[0] < hi[1] && lo[1] < hi[0])
		return perr(c, sub(p, q, ".pba.offset"), "the MSI-X PBA at "
		    "[0x%llx, 0x%llx) overlaps the table at [0x%llx, 0x%llx): "
		    "put it after the table", (unsigned long long)lo[1],
		    (unsigned long long)hi[1], (unsigned long long)lo[0],
		    (unsigned long long)hi[0]);
	return 0;
}

static int
parse_device(struct pctx *c, struct vx_device *d, json_t *root)
{
	static const char *const keys[] = { "name", "description", "pci",
		"regions", "dma", NULL };
	struct vx_pci_desc pd;
	uint8_t *vendor = NULL;
	json_t *regions, *v;
	const char *key;
	char p[PATHMAX];
	unsigned i;
	int idx, r = -1;

	memset(&pd, 0, sizeof(pd));
	if (!json_is_object(root))
		return perr(c, "", "the description must be a JSON object");
	if (check_keys(c, root, "", keys) < 0)
		return VX_ERR_INVALID;
	v = json_object_get(root, "name");
	if (v != NULL && !json_is_string(v))
		return perr(c, ".name", "must be a string");
	if (v != NULL && check_name(c, json_string_value(v), ".name") < 0)
		return VX_ERR_INVALID;
	if ((d->name = strdup(v != NULL ? json_string_value(v) : "device")) == NULL)
		return perr(c, "", "out of memory");
	v = json_object_get(root, "description");
	if (v != NULL && !json_is_string(v))
		return perr(c, ".description", "must be a string");

	if (parse_pci(c, d, &pd, json_object_get(root, "pci"), &vendor) < 0)
		goto out;

	if ((regions = json_object_get(root, "regions")) == NULL) {
		perr(c, ".regions", "missing");
		goto out;
	}
	if (want_object(c, regions, ".regions") < 0)
		goto out;
	json_object_foreach(regions, key, v) {
		sub(p, ".regions", ".%s", key);
		if ((idx = region_index(key)) < 0) {
			perr(c, p, "not a region name (bar0 to bar5, rom, config)");
			goto out;
		}
		if (parse_region(c, d, &pd, (unsigned)idx, v, p) < 0)
			goto out;
	}
	if ((v = json_object_get(root, "dma")) != NULL &&
	    parse_dma(c, d, v) < 0)
		goto out;
	for (i = 0; i < VX_DEV_NREGIONS; i++)
		if (finish_registers(c, &d->region[i], i) < 0)
			goto out;
	if (d->dma.present)
		for (i = 0; i < 5; i++)
			d->dma.reg[i] = find_reg(&d->region[d->dma.region],
			    dma_reg_names[i]);
	if (check_msix_place(c, d, &pd) < 0)
		goto out;

	if (vx_pci_config_init(&d->pci, &pd, p, sizeof(p)) < 0) {
		perr(c, ".pci", "%s", p);
		goto out;
	}
	if (d->region[VX_PCI_CONFIG].size != 0 &&
	    d->region[VX_PCI_CONFIG].size != d->pci.size) {
		perr(c, ".regions.config.size", "%llu, but the capabilities "
		    "make it %u", (unsigned long long)d->region[VX_PCI_CONFIG].size,
		    d->pci.size);
		goto out;
	}
	d->region[VX_PCI_CONFIG].backing = VX_BACK_CONFIG;
	d->region[VX_PCI_CONFIG].size = d->pci.size;
	d->region[VX_PCI_CONFIG].flags = VX_REGION_READ | VX_REGION_WRITE;
	r = 0;
out:
	free(vendor);
	return r;
}

struct vx_device *
vx_device_load(const char *path, char *err, size_t errlen)
{
	struct pctx c = { path, err, errlen, 0 };
	struct vx_device *d;
	json_error_t jerr;
	json_t *root;
	unsigned i;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line < 0)
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		else
			snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		json_decref(root);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	for (i = 0; i < VX_DEV_NREGIONS; i++)
		d->region[i].fd = -1;
	d->dma.irq.index = -1;
	if (parse_device(&c, d, root) < 0) {
		json_decref(root);
		vx_device_free(d);
		return NULL;
	}
	json_decref(root);
	return d;
}
