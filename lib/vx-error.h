/*
 * vx-error.h - the library's error vocabulary.
 *
 * Every lib/ function that can fail returns 0 (or a count) on success and one
 * of the negative codes below on failure.  The library never prints and never
 * exits; callers turn codes into text with vx_strerror().
 *
 * Truncated (fewer bytes than a field needs) is kept apart from invalid (the
 * bytes are there but break a rule) and from too large (a length or count
 * above a limit), as tcpdump keeps "[|proto]" apart from "invalid".
 */
#ifndef VX_ERROR_H
#define VX_ERROR_H

enum vx_err {
	VX_OK = 0,
	VX_ERR_TRUNCATED = -1,	/* input ends before a field does */
	VX_ERR_INVALID = -2,	/* a value breaks a protocol rule */
	VX_ERR_TOO_LARGE = -3,	/* a length or count exceeds a limit */
	VX_ERR_UNSUPPORTED = -4,	/* well formed but not understood */
	VX_ERR_NOMEM = -5,	/* allocation failed */
	VX_ERR_IO = -6,		/* system call failed; errno is kept */
	VX_ERR_CLOSED = -7,	/* peer closed the connection */
	VX_ERR_AGAIN = -8,	/* would block; try again when ready */
	VX_ERR_TIMEOUT = -9,	/* no answer in time */
	VX_ERR_FDS = -10,	/* descriptors missing, extra or cut off */
	/* what a device server refuses a request for (wire errno at its edge) */
	VX_ERR_EXISTS = -11,	/* overlaps something already there */
	VX_ERR_NOENT = -12,	/* no such thing (to remove, or by that name) */
	VX_ERR_BUSY = -13,	/* not now: in use or stopped */
	VX_ERR_FAULT = -14,	/* memory out of reach */
	VX_ERR_PERM = -15,	/* not allowed (a window's direction) */
	VX_ERR_NOSPC = -16,	/* a table is full */
	VX_ERR_UNKNOWN = -17,	/* no such command */
	VX_ERR_REPLY = -18,	/* the peer answered with an error reply */
};

/* Short lowercase description of a code ("truncated", "invalid", ...). */
const char *vx_strerror(int err);

/*
 * The errno a vfio-user error reply carries for err, for the one place
 * that answers a peer (the server's edge): 0 for VX_OK (and counts above
 * it), EINVAL for a message that is truncated, invalid, carries the wrong
 * descriptors or an unknown code, E2BIG, ENOTSUP, ENOMEM, EIO, EPIPE,
 * EAGAIN, ETIMEDOUT, EEXIST, ENOENT, EBUSY, EFAULT, EPERM, ENOSPC and
 * ENOSYS, EIO for the others, in the order of enum vx_err.  Never 0 for a
 * failure.
 */
int vx_err_to_errno(int err);

#endif /* VX_ERROR_H */
