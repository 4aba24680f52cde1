/*
 * error.c - text and wire errno for the codes of vx-error.h.
 */
#include <errno.h>

#include "vx-error.h"

/* Indexed by -code; keep in step with enum vx_err. */
static const char *const vx_err_text[] = {
	"ok", "truncated", "invalid", "too large", "unsupported",
	"out of memory", "I/O error", "connection closed", "would block",
	"timed out", "bad descriptors", "exists", "no such entry", "busy",
	"bad address", "not permitted", "no space", "unknown command",
	"error reply",
};

const char *
vx_strerror(int err)
{
	if (err > 0 || err < VX_ERR_REPLY)
		return "unknown error";
	return vx_err_text[-err];
}

/* Indexed by -code, like vx_err_text. */
static const int vx_err_errno[] = {
	0, EINVAL, EINVAL, E2BIG, ENOTSUP, ENOMEM, EIO, EPIPE, EAGAIN,
	ETIMEDOUT, EINVAL, EEXIST, ENOENT, EBUSY, EFAULT, EPERM, ENOSPC, ENOSYS,
	EIO,
};

/* A code added to enum vx_err without its text and errno fails here. */
_Static_assert(sizeof(vx_err_text) / sizeof(vx_err_text[0]) ==
    1 - VX_ERR_REPLY, "vx_err_text out of step with enum vx_err");
_Static_assert(sizeof(vx_err_errno) / sizeof(vx_err_errno[0]) ==
    1 - VX_ERR_REPLY, "vx_err_errno out of step with enum vx_err");

int
vx_err_to_errno(int err)
{
	if (err > 0)
		return 0;
	if (err < VX_ERR_REPLY)
		return EINVAL;
	return vx_err_errno[-err];
}
