/*
 * error.c - text for the codes of vx-error.h.
 */
#include "vx-error.h"

/* Indexed by -code; keep in step with enum vx_err. */
static const char *const vx_err_text[] = {
	"ok", "truncated", "invalid", "too large", "unsupported",
	"out of memory", "I/O error", "connection closed", "would block",
	"timed out", "bad descriptors", "error reply",
};

const char *
vx_strerror(int err)
{
	if (err > 0 || err < VX_ERR_REPLY)
		return "unknown error";
	return vx_err_text[-err];
}
