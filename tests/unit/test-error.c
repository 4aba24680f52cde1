/*
 * test-error.c - the library's one error vocabulary (lib/vx-error.h): text
 * and wire errno for every code, and the PCI config, filter and trace code
 * that return it.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "vx-error.h"
#include "vx-filter.h"
#include "vx-pci.h"
#include "vx-trace.h"

static void
test_codes(void)
{
	static const struct {
		int err, wire;
		const char *text;
	} codes[] = {
		{ VX_OK, 0, "ok" },
		{ VX_ERR_TRUNCATED, EINVAL, "truncated" },
		{ VX_ERR_INVALID, EINVAL, "invalid" },
		{ VX_ERR_TOO_LARGE, E2BIG, "too large" },
		{ VX_ERR_UNSUPPORTED, ENOTSUP, "unsupported" },
		{ VX_ERR_NOMEM, ENOMEM, "out of memory" },
		{ VX_ERR_IO, EIO, "I/O error" },
		{ VX_ERR_CLOSED, EPIPE, "connection closed" },
		{ VX_ERR_AGAIN, EAGAIN, "would block" },
		{ VX_ERR_TIMEOUT, ETIMEDOUT, "timed out" },
		{ VX_ERR_FDS, EINVAL, "bad descriptors" },
		{ VX_ERR_EXISTS, EEXIST, "exists" },
		{ VX_ERR_NOENT, ENOENT, "no such entry" },
		{ VX_ERR_BUSY, EBUSY, "busy" },
		{ VX_ERR_FAULT, EFAULT, "bad address" },
		{ VX_ERR_PERM, EPERM, "not permitted" },
		{ VX_ERR_NOSPC, ENOSPC, "no space" },
		{ VX_ERR_UNKNOWN, ENOSYS, "unknown command" },
		{ VX_ERR_REPLY, EIO, "error reply" },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ok(vx_err_to_errno(codes[i].err) == codes[i].wire &&
		    strcmp(vx_strerror(codes[i].err), codes[i].text) == 0,
		    "%d: %s, errno %d", codes[i].err, codes[i].text,
		    codes[i].wire);
	ok(vx_err_to_errno(VX_ERR_REPLY - 1) == EINVAL &&
	    strcmp(vx_strerror(VX_ERR_REPLY - 1), "unknown error") == 0,
	    "a code past the last: EINVAL on the wire, unknown error");
	ok(vx_err_to_errno(5) == 0 && strcmp(vx_strerror(1), "unknown error") ==
	    0, "a count is no error (and has no error text)");
}

static void
test_pci(void)
{
	struct vx_pci_config pc;
	struct vx_pci_desc d;
	char err[128];

	memset(&d, 0, sizeof(d));
	d.bar[0].size = 4096;
	ok(vx_pci_config_init(&pc, &d, err, sizeof(err)) == 0,
	    "pci config: a 4 KiB BAR");
	d.bar[0].size = 8;
	ok(vx_pci_config_init(&pc, &d, err, sizeof(err)) == VX_ERR_INVALID &&
	    strcmp(err, "bar0: a memory BAR is at least 16 bytes") == 0,
	    "pci config: an 8-byte memory BAR is VX_ERR_INVALID: %s", err);
	d.bar[0].size = 4096;
	d.cap_order[0] = 0x77;
	ok(vx_pci_config_init(&pc, &d, err, sizeof(err)) == VX_ERR_INVALID &&
	    strcmp(err, "unknown capability id 0x77") == 0,
	    "pci config: an unknown capability is VX_ERR_INVALID: %s", err);
}

static void
test_filter(void)
{
	struct vx_filter *f = (struct vx_filter *)&f;
	char err[256];

	ok(vx_filter_compile("vfio_user.cmd ==", err, sizeof(err), &f) ==
	    VX_ERR_INVALID && f == NULL, "filter: a syntax error is VX_ERR_INVALID");
	ok(vx_filter_compile("vfio_user.cmd == 1", err, sizeof(err), &f) == 0 &&
	    f != NULL, "filter: compiles to 0 and a filter");
	vx_filter_free(f);
}

static void
test_trace(void)
{
	ok(vx_trace_kind_value("digest") == VX_TR_DIGEST &&
	    vx_trace_kind_value("digests") == VX_ERR_INVALID,
	    "trace kinds: a name, and VX_ERR_INVALID for none");
}

int
main(void)
{
	test_codes();
	test_pci();
	test_filter();
	test_trace();
	return unit_done();
}
