/*
 * vx-guard.h - copy to or from memory that another process can take away:
 * a MAP_SHARED mapping of a file the peer owns (a client's DMA memfd),
 * which the peer may truncate at any time.  Touching a page past the
 * file's new end raises SIGBUS; an ordinary memcpy would kill us.
 *
 * vx_copy_guarded catches that SIGBUS (a handler installed on first use;
 * it jumps back only while a guarded copy runs, and otherwise restores the
 * default action so that a SIGBUS anywhere else still stops the program as
 * it would have).  The copy may have been partly done when it fails.
 */
#ifndef VX_GUARD_H
#define VX_GUARD_H

#include <stddef.h>

/* memcpy(dst, src, n); returns 0, or VX_ERR_FAULT if the memory was gone. */
int vx_copy_guarded(void *dst, const void *src, size_t n);

#endif /* VX_GUARD_H */
