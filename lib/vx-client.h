/*
 * vx-client.h - one vfio-user client connection: connect, negotiate
 * VERSION, send commands and wait for their replies, and serve what the
 * server asks of the client (DMA_READ, DMA_WRITE) at any time, also while
 * a reply is awaited, on the main socket and on the twin socket.
 *
 * A blocking layer over one struct vx_conn (vx-conn.h): the accessors
 * below, and vx_client_conn()'s, tell what was negotiated.  The struct is
 * private.  The library never prints: failures return a vx_err code and
 * leave a sentence in vx_client_errmsg() ("what, where") for the caller to
 * show.
 *
 * DMA windows.  vx_client_dma_map() backs a window with client memory: a
 * memfd that is mmap'ed here and passed to the server (it then accesses
 * the memory directly), or, with use_fd 0, plain memory the server reaches
 * through DMA_READ and DMA_WRITE.  Either way the client answers
 * DMA_READ/DMA_WRITE from that memory, so the contents are one.
 *
 * DMA_WRITE reply form.  The spec's table gives the reply as address u64
 * plus count u32 (12 bytes); libvfio-user's servers expect address and
 * count as u64 (16 bytes), and QEMU sends no payload.  The default is
 * libvfio-user's form, the one real servers check (a deliberate deviation
 * from the spec's table); dma_write_reply selects another.
 */
#ifndef VX_CLIENT_H
#define VX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "vx-conn.h"
#include "vx-framer.h"
#include "vx-msg.h"

/* What the client offers in VERSION. */
struct vx_client_opts {
	uint64_t max_fds;	/* max_msg_fds offered (default 16) */
	uint64_t max_xfer;	/* max_data_xfer_size offered (default 1 MiB) */
	int twin_socket;	/* ask for a twin socket */
	int write_multiple;	/* offer REGION_WRITE_MULTI */
	int timeout_ms;		/* per reply; -1 waits forever (default 10 s) */
	int dma_write_reply;	/* VX_VAR_LVU (default), _SPEC or _QEMU */
};

#define VX_CLIENT_OPTS_DEFAULT \
	{ 16, 1024u * 1024u, 0, 0, 10000, VX_VAR_LVU }

struct vx_dma_win {
	uint64_t addr, size;
	uint32_t prot;		/* VX_DMA_MAP_READ | VX_DMA_MAP_WRITE */
	uint8_t *mem;		/* size bytes of client memory */
	int fd;			/* the memfd passed, or -1 */
};

/* Private: one struct per connection, made by vx_client_open(). */
struct vx_client;

/*
 * Connect to path (a file or "@abstract") and negotiate VERSION with opts
 * (NULL: defaults).  Returns 0 with the client in *cp, or an error; then
 * *cp is NULL if there was no memory for it, else a client that holds
 * only the sentence (vx_client_errmsg).  vx_client_close() it either way.
 */
int vx_client_open(struct vx_client **cp, const char *path,
    const struct vx_client_opts *opts);
/* Close the connection, unmap the DMA windows and free c (NULL: nothing). */
void vx_client_close(struct vx_client *c);

/* The sentence of the last failure ("what, where"); never NULL. */
const char *vx_client_errmsg(const struct vx_client *c);
/* After VX_ERR_REPLY: the errno the server sent, else 0. */
uint32_t vx_client_reply_errno(const struct vx_client *c);
/*
 * The connection underneath, for reading only: what was negotiated
 * (vx_conn_twin, vx_conn_peer_max_fds) and the session, which knows the
 * server's version and capabilities (vx_session_version and
 * vx_session_caps of VX_S2C), the DMA windows as the server was told.
 */
const struct vx_conn *vx_client_conn(const struct vx_client *c);
/* Its capabilities JSON as sent (NUL-ended), or NULL if it sent none. */
const char *vx_client_server_json(const struct vx_client *c);
/* Bytes per REGION_READ/WRITE: min(ours, the server's max_data_xfer_size),
 * before VERSION's reply the spec's default. */
uint64_t vx_client_xfer(const struct vx_client *c);
/* The mapped DMA windows, *n of them, in the order they were mapped;
 * valid until the next dma_map/dma_unmap. */
const struct vx_dma_win *vx_client_dma_windows(const struct vx_client *c,
    unsigned *n);

/* What the client did on its own, for tools that show it. */
struct vx_client_stats {
	unsigned long served_reads;	/* DMA_READ answered */
	unsigned long served_writes;	/* DMA_WRITE answered */
	unsigned long served_errors;	/* server commands refused */
	unsigned long stray;	/* replies nobody waited for, dropped */
};

const struct vx_client_stats *vx_client_stats(const struct vx_client *c);

/*
 * Send msg (a whole message: header and payload; its msg_id is overwritten
 * with the next id) with nfds descriptors, then wait for its reply while
 * serving the server's commands.  With VX_F_NO_REPLY in the flags it
 * returns once the message is sent and *reply is untouched.  On 0, *reply
 * is the decoded reply (an error reply has VX_F_ERROR and m->error), valid
 * until the next call.  Errors: VX_ERR_TIMEOUT, VX_ERR_CLOSED, VX_ERR_IO,
 * VX_ERR_TOO_LARGE (beyond what the server accepts), VX_ERR_FDS.
 */
int vx_client_call(struct vx_client *c, uint8_t *msg, size_t len,
    const int *fds, int nfds, struct vx_msg *reply);

/* Like vx_client_call for a builder's message. */
int vx_client_call_built(struct vx_client *c, struct vx_builder *b,
    const int *fds, int nfds, struct vx_msg *reply);

#define VX_CLIENT_MAX_EXTRA	256

/*
 * Serve the server's commands for up to timeout_ms (0: only what is
 * waiting; -1: until the connection closes), also returning early when
 * one of the nextra (at most VX_CLIENT_MAX_EXTRA) descriptors in extra
 * becomes readable (*ready is then
 * its index, else -1), or when a signal interrupts the wait.  Returns 0,
 * VX_ERR_CLOSED or VX_ERR_IO.
 */
int vx_client_serve(struct vx_client *c, int timeout_ms, const int *extra,
    int nextra, int *ready);

/*
 * Map [addr, addr+size) with prot: memory comes from a memfd passed to the
 * server (use_fd) or from the heap.  *reply holds the server's answer; an
 * error reply unregisters the window again and is VX_ERR_REPLY (errno in
 * vx_client_reply_errno()).  VX_ERR_INVALID: a bad or overlapping window,
 * VX_ERR_TOO_LARGE: over 4 GiB.
 */
int vx_client_dma_map(struct vx_client *c, uint64_t addr, uint64_t size,
    uint32_t prot, int use_fd, struct vx_msg *reply);
/* Unmap one window (all 0: every window, DMA_UNMAP_ALL); errors as above. */
int vx_client_dma_unmap(struct vx_client *c, uint64_t addr, uint64_t size,
    int all, struct vx_msg *reply);
/* Client memory for [addr, addr+len) inside one window, or NULL. */
uint8_t *vx_client_dma_ptr(struct vx_client *c, uint64_t addr, uint64_t len);

/*
 * Typed calls (lib/client-calls.c): build the command, wait for the reply,
 * decode it into the struct.  Each returns 0, or a VX_ERR_* code with the
 * sentence in vx_client_errmsg(); VX_ERR_REPLY is an error reply (its
 * errno in vx_client_reply_errno()), VX_ERR_INVALID a malformed one.
 */
struct vx_device_info {
	uint32_t flags;		/* VX_DEV_RESET, VX_DEV_PCI */
	uint32_t num_regions, num_irqs;
};

int vx_client_device_info(struct vx_client *c, struct vx_device_info *di);

struct vx_region_info {
	uint32_t index, flags;	/* VX_REGION_* */
	uint64_t size, offset;
	/* the reply: its capability chain (VXF_CAP_*, VXF_AREA_* items),
	 * valid until the next call */
	struct vx_msg reply;
};

/* DEVICE_RESET. */
int vx_client_reset(struct vx_client *c);

/* DEVICE_GET_REGION_INFO, asked again once with the argsz the reply wants. */
int vx_client_region_info(struct vx_client *c, uint32_t index,
    struct vx_region_info *ri);

struct vx_irq_info {
	uint32_t index, flags;	/* VX_IRQ_INFO_* */
	uint32_t count;
};

int vx_client_irq_info(struct vx_client *c, uint32_t index,
    struct vx_irq_info *ii);

/*
 * REGION_READ or REGION_WRITE of [off, off+len) of region index, in pieces
 * of at most vx_client_xfer() bytes.  A posted write (VX_F_NO_REPLY) returns once
 * sent.  A read reply carrying other than the count asked is
 * VX_ERR_INVALID.
 */
int vx_client_region_read(struct vx_client *c, uint32_t index, uint64_t off,
    uint8_t *buf, size_t len);
int vx_client_region_write(struct vx_client *c, uint32_t index, uint64_t off,
    const uint8_t *buf, size_t len, int posted);

/*
 * DEVICE_SET_IRQS: flags VX_IRQ_DATA_* | VX_IRQ_ACTION_*, vectors
 * [start, start+count) of IRQ index, with nfds eventfds for DATA_EVENTFD.
 */
int vx_client_set_irqs(struct vx_client *c, uint32_t flags, uint32_t index,
    uint32_t start, uint32_t count, const int *fds, int nfds);

/* What a DEVICE_FEATURE reply carries, as far as it does. */
struct vx_feature_reply {
	int has_state;
	uint32_t device_state;	/* enum vx_mig_state (mig-state GET) */
	int has_mig_flags;
	uint64_t mig_flags;	/* VX_MIGRATION_* (migration GET) */
	const uint8_t *bitmap;	/* dirty-report GET: the bitmap, or NULL */
	size_t bitmap_len;
	struct vx_msg reply;	/* the whole reply; valid until the next call */
};

/*
 * DEVICE_FEATURE with flags (feature | VX_FEATURE_PROBE/GET/SET) and n
 * bytes of data; argsz is what the command declares (at least 8 + n): room
 * for what a GET returns.  A PROBE of an unsupported feature is
 * VX_ERR_REPLY.
 */
int vx_client_feature(struct vx_client *c, uint32_t flags, const void *data,
    size_t n, uint64_t argsz, struct vx_feature_reply *fr);

/*
 * MIG_DATA_READ of at most size bytes: *data and *len the bytes the server
 * sent (valid until the next call; *len 0 when it had none).
 * MIG_DATA_WRITE of n bytes.
 */
int vx_client_mig_read(struct vx_client *c, uint32_t size,
    const uint8_t **data, size_t *len);
int vx_client_mig_write(struct vx_client *c, const uint8_t *data, size_t n);

#endif /* VX_CLIENT_H */
