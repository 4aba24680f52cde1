/*
 * deadline-int.h - the deadlines a server keeps on its client (vx_server,
 * and server --replay's vx_sreplay): the first message within the
 * handshake deadline of attaching; a message, once its first byte is in,
 * whole within the message deadline; each reply taken within it too.  A
 * client that misses one must go, so that it cannot hold the device (or a
 * replay) for ever.
 */
#ifndef VX_DEADLINE_INT_H
#define VX_DEADLINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vx-conn.h"

struct vx_deadlines {
	int hs_ms, msg_ms;		/* 0: none */
	int64_t hs, in, out;		/* when they fall; 0 none */
};

/* Limits in ms (<= 0: none); the clocks stopped. */
void vx_deadlines_set(struct vx_deadlines *d, int handshake_ms,
    int message_ms);

/* A client attached: the handshake clock starts. */
void vx_deadlines_start(struct vx_deadlines *d);

/*
 * After a step on c: start or stop the clocks (the handshake's stops once
 * handshaken; the message clock stops while a reply waits to be taken).
 * 0, or VX_ERR_TIMEOUT with what the client did not do in why, "sent no
 * FIRST within N ms" and the like.
 */
int vx_deadlines_check(struct vx_deadlines *d, const struct vx_conn *c,
    int handshaken, const char *first, char *why, size_t whycap);

/* poll's timeout: conn_ms (the connection's own, -1 none) or sooner. */
int vx_deadlines_timeout(const struct vx_deadlines *d, int conn_ms);

#endif
