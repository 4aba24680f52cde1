/*
 * client-int.h - what lib/client.c and lib/client-calls.c share: struct
 * vx_client, private to them (vx-client.h has the accessors), and the
 * failure helpers that leave their sentence in c->errmsg.  Internal: not
 * installed, not exported from the shared object.
 */
#ifndef VX_CLIENT_INT_H
#define VX_CLIENT_INT_H

#include "vx-client.h"

struct vx_client {
	struct vx_conn *conn;	/* sockets, msg_ids, waiting, decoding */
	struct vx_builder out;	/* replies we send to the server */
	struct vx_client_opts opts;

	/* what was negotiated is the session's (vx_conn_session) */
	char *srv_json;		/* the server's capabilities JSON, NUL-ended */

	struct vx_dma_win *wins;
	unsigned nwins, wcap;
	struct vx_client_stats stats;

	struct vx_frame reply;	/* the last reply, valid until the next call */
	int have_reply;
	uint32_t reply_errno;	/* VX_ERR_REPLY: the errno the server sent */
	char errmsg[256];
};

/* Set c->errmsg from fmt and return err. */
int vxc_fail(struct vx_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error reply m to what: VX_ERR_REPLY with reply_errno set and
 * "server answered what with E.. (n: text)" in c->errmsg. */
int vxc_refused(struct vx_client *c, const struct vx_msg *m,
    const char *what);

#endif /* VX_CLIENT_INT_H */
