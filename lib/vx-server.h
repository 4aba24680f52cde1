/*
 * vx-server.h - serve one emulated device (vx-device.h) to one vfio-user
 * client at a time, on a struct vx_conn, without blocking.
 *
 * The server answers every request from a table of handlers over the
 * device: VERSION, DMA windows, device, region and IRQ info, region
 * accesses, interrupts through eventfds, reset, migration (the spec's v2
 * state machine) and dirty page logging.  When the device's DMA engine
 * needs client memory that came without a descriptor, the server sends
 * DMA_READ/DMA_WRITE and the handler that started it is suspended: its
 * reply goes once the client has answered, while the client's other
 * commands are served in order meanwhile (the spec allows replies out of
 * order).  Errors inside are VX_ERR_* codes; the wire errno of an error
 * reply comes from them in one place.
 *
 * The loop is the caller's: attach a connected socket, poll what
 * vx_server_pollfds() asks for with vx_server_timeout(), call
 * vx_server_step(); when it returns an error the client is gone (or must
 * go) and vx_server_detach() ends the connection: DMA windows and IRQ
 * eventfds go with it, device state stays for the next client.  Deadlines
 * on the client (vx_server_set_deadlines) are kept the same way: a client
 * that misses one ends with VX_ERR_TIMEOUT.  Nothing here prints: lines
 * go to the log function, if any.
 */
#ifndef VX_SERVER_H
#define VX_SERVER_H

#include <poll.h>
#include <stdint.h>

#include "vx-device.h"

struct vx_server;

#define VX_SERVER_MAX_POLLFDS	2	/* the main and the twin socket */

enum vx_server_log_level {
	VX_SERVER_DEBUG,	/* one line per message and event (verbose) */
	VX_SERVER_NOTICE,	/* what an operator must see */
};

typedef void vx_server_log_fn(void *arg, int level, const char *line);

/*
 * A server for dev (borrowed: it must outlive the server; its ops become
 * the server's), offering max_xfer bytes per transfer in VERSION.  NULL
 * when out of memory.
 */
struct vx_server *vx_server_new(struct vx_device *dev, uint32_t max_xfer);
/* Detach the client, if any, and free. */
void vx_server_free(struct vx_server *s);

/* Where lines go; debug lines only when verbose (they cost a summary). */
void vx_server_set_log(struct vx_server *s, vx_server_log_fn *fn, void *arg,
    int verbose);

/*
 * Deadlines on each client, in ms (0, the default: none): VERSION within
 * handshake_ms of attaching; a message, once its first byte is in, whole
 * within message_ms; each reply taken by the client within message_ms.
 */
void vx_server_set_deadlines(struct vx_server *s, int handshake_ms,
    int message_ms);

/*
 * Serve the client on connected socket sock (adopted: closed at detach).
 * Returns 0, VX_ERR_BUSY (a client is attached: sock is left alone) or
 * VX_ERR_NOMEM (sock closed).
 */
int vx_server_attach(struct vx_server *s, int sock);
/* End the client's connection (spec "Client Disconnection"). */
void vx_server_detach(struct vx_server *s);
int vx_server_attached(const struct vx_server *s);

/* What to poll for (at most VX_SERVER_MAX_POLLFDS entries) and how long
 * (ms, -1 for input only); 0 entries without a client. */
int vx_server_pollfds(const struct vx_server *s, struct pollfd *pfd);
int vx_server_timeout(const struct vx_server *s);

/*
 * Serve what has come without blocking (a bounded number of messages, so
 * a streaming client cannot hold the caller's loop: vx_server_timeout()
 * is then 0).  Returns 0 while the client is served, else why it is over
 * (VX_ERR_CLOSED: it hung up; VX_ERR_TIMEOUT: it missed a deadline;
 * others: it broke the stream or the system failed; vx_server_errmsg()
 * says how, e.g. "sent no VERSION within 100 ms"); detach then.
 */
int vx_server_step(struct vx_server *s);
const char *vx_server_errmsg(const struct vx_server *s);

/* 1 once the client's VERSION has been answered */
int vx_server_negotiated(const struct vx_server *s);

#endif /* VX_SERVER_H */
