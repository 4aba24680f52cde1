/*
 * test-error.c - the library's one error vocabulary (lib/vx-error.h): text
 * and wire errno for every code, and the PCI config, filter, trace,
 * socket, name-table, field and JSON-printing code that return it (with
 * errno kept where the message prints strerror).  vx_copy_guarded's
 * VX_ERR_FAULT is in test-guard.c.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "unit.h"
#include "vx-error.h"
#include "vx-filter.h"
#include "vx-msg.h"
#include "vx-pci.h"
#include "vx-sock.h"
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

/* A trace path through a symbolic link, or in no directory. */
static void
test_trace_create(const char *dir)
{
	char path[128], link[128];
	int r;

	snprintf(path, sizeof(path), "%s/none/t.pcap", dir);
	errno = 0;
	r = vx_trace_create(path);
	ok(r == VX_ERR_IO && errno == ENOENT,
	    "trace create in no directory: VX_ERR_IO, ENOENT (%d, %d)", r,
	    errno);
	snprintf(path, sizeof(path), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	if (symlink(path, link) < 0)
		return;
	errno = 0;
	r = vx_trace_create(link);
	ok(r == VX_ERR_IO && errno == ELOOP,
	    "trace create through a symbolic link: VX_ERR_IO, ELOOP (%d, %d)",
	    r, errno);
	unlink(link);
}

static void
test_sock(const char *dir)
{
	char path[128], lng[200];
	int fd, r;

	snprintf(path, sizeof(path), "%s/nobody", dir);
	errno = 0;
	r = vx_sock_connect(path, 0);
	ok(r == VX_ERR_IO && errno == ENOENT,
	    "connect to no socket: VX_ERR_IO, ENOENT (%d)", r);
	ok(vx_sock_connect("", 0) == VX_ERR_INVALID,
	    "connect to an empty path: VX_ERR_INVALID");
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	ok(vx_sock_listen(lng, 0600, 1) == VX_ERR_TOO_LARGE,
	    "listen on a path too long for sun_path: VX_ERR_TOO_LARGE");
	snprintf(path, sizeof(path), "%s/file", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0)
		close(fd);
	errno = 0;
	r = vx_sock_listen(path, 0600, 1);
	ok(r == VX_ERR_INVALID && errno == EEXIST,
	    "listen over a plain file: VX_ERR_INVALID, EEXIST (%d)", r);
	unlink(path);
	snprintf(path, sizeof(path), "%s/l", dir);
	fd = vx_sock_listen(path, 0600, 1);
	if (ok(fd >= 0, "listen: a descriptor")) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		ok(vx_sock_accept(fd) == VX_ERR_AGAIN,
		    "accept with nobody there: VX_ERR_AGAIN");
		close(fd);
		unlink(path);
	}
	ok(vx_sock_accept(-1) == VX_ERR_IO && vx_sock_peer_cred(-1, NULL,
	    NULL, NULL) == VX_ERR_IO, "accept and peer_cred of no descriptor: "
	    "VX_ERR_IO");
}

static void
test_lookups(void)
{
	struct vx_builder b;
	struct vx_msg m;
	uint64_t v = 7;

	ok(vx_tok_value(vx_names_cmd, "DMA_MAP", &v) == 0 && v == VX_CMD_DMA_MAP,
	    "a command name: 0 and its number");
	ok(vx_tok_value(vx_names_cmd, "DMA_MAPS", &v) == VX_ERR_NOENT &&
	    v == VX_CMD_DMA_MAP, "no such name: VX_ERR_NOENT, value untouched");
	vx_builder_init(&b);
	vx_build_header(&b, 1, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND, 0);
	if (ok(vx_build_finish(&b, &m) == 0, "a DEVICE_RESET built"))
		ok(vx_msg_get(&m, VXF_DMA_ADDR, &v) == VX_ERR_NOENT &&
		    v == VX_CMD_DMA_MAP, "a field it lacks: VX_ERR_NOENT");
	vx_builder_release(&b);
}

/* A stream that takes no writes: /dev/full, unbuffered. */
static void
test_json_print(void)
{
	FILE *fp = fopen("/dev/full", "w");
	json_t *j = json_true();

	if (!ok(fp != NULL, "/dev/full opened"))
		return;
	setvbuf(fp, NULL, _IONBF, 0);
	errno = 0;
	ok(vx_json_print(fp, j, JSON_ENCODE_ANY) == VX_ERR_IO && errno == ENOSPC,
	    "JSON printed to a full device: VX_ERR_IO, ENOSPC");
	fclose(fp);
}

int
main(void)
{
	char dir[64];

	test_codes();
	test_pci();
	test_filter();
	test_trace();
	test_lookups();
	test_json_print();
	if (unit_mkdtemp(dir, sizeof(dir), "test-error") == 0) {
		test_trace_create(dir);
		test_sock(dir);
		rmdir(dir);
	}
	return unit_done();
}
