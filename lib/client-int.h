/*
 * client-int.h - what lib/client.c and lib/client-calls.c share: the
 * failure helpers that leave their sentence in c->errmsg.  Internal: not
 * installed, not exported from the shared object.
 */
#ifndef VX_CLIENT_INT_H
#define VX_CLIENT_INT_H

#include "vx-client.h"

/* Set c->errmsg from fmt and return err. */
int vxc_fail(struct vx_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error reply m to what: VX_ERR_REPLY with reply_errno set and
 * "server answered what with E.. (n: text)" in c->errmsg. */
int vxc_refused(struct vx_client *c, const struct vx_msg *m,
    const char *what);

#endif /* VX_CLIENT_INT_H */
