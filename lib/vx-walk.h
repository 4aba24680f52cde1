/*
 * vx-walk.h - walk a trace record by record with the session tracked.
 *
 * A walk reads a trace (vfuctl-trace(5)), decodes each MESSAGE record with
 * one session per connection, and hands out one item per record, in file
 * order.  The session is what the record's connection negotiated so far:
 * an OPEN record says the connection starts there, a STATE record (a
 * rotated file's first record, or a capture that began mid-session)
 * seeds it, and a CLOSE record ends it with the commands it left
 * unanswered, unless the CLOSE says only the capture ended
 * (VX_TRF_CAPTURE_END).  At the end of the trace (or after vx_walk_end())
 * the connections still open come out as items without a record, one per
 * connection with unanswered commands.  dissect and stats are walks;
 * replay and fuzz seeds can be.
 *
 *	struct vx_walk *w;
 *	struct vx_walk_item it;
 *
 *	if (vx_walk_open(path, NULL, &w) < 0)
 *		... vx_walk_error(w), then vx_walk_close(w)
 *	while ((r = vx_walk_next(w, &it)) > 0)
 *		... it.rec, it.msg, it.res
 *	... r < 0: vx_walk_error(w); vx_walk_close(w);
 *
 * An item points into the walk: valid until the next vx_walk_next() or
 * vx_walk_close().
 */
#ifndef VX_WALK_H
#define VX_WALK_H

#include <stddef.h>

#include "vx-msg.h"
#include "vx-session.h"
#include "vx-trace.h"

struct vx_walk;

struct vx_walk_item {
	/* the record; NULL for a connection still open at the end */
	const struct vx_trace_rec *rec;
	const struct vx_msg *msg;		/* MESSAGE records only */
	const struct vx_session_result *res;	/* MESSAGE records only */
	/* CLOSE record (or end): commands never answered, at most 16 */
	const struct vx_finding *unanswered;
	unsigned nunanswered;
	/* STATE record: what the session now holds, or why it is unusable */
	const char *state;
};

#define VX_WALK_FOLLOW	0x1	/* the trace grows: VX_ERR_AGAIN at its end */
#define VX_WALK_LAZY	0x2	/* a message's items only when asked for */
#define VX_WALK_BE	0x4	/* decode every message as big-endian */

struct vx_walk_opts {
	unsigned flags;		/* VX_WALK_* */
	int peer;		/* enum vx_peer for every connection */
};

/*
 * Start a walk of the trace at path ("-": standard input).  o may be NULL
 * (no flags, peer detected per connection).  Returns 0, or a VX_ERR_* code
 * with the reason in vx_walk_error(); *out is set either way (NULL only
 * for VX_ERR_NOMEM) and must be closed.  With VX_WALK_FOLLOW a file whose
 * header is not written yet is not an error: vx_walk_next() waits for it.
 */
int vx_walk_open(const char *path, const struct vx_walk_opts *o,
    struct vx_walk **out);

/*
 * The next item.  Returns 1 and *it, 0 at the end, or:
 *   VX_ERR_AGAIN   (VX_WALK_FOLLOW) nothing more yet: call again later;
 *   any other VX_ERR_* the trace is unreadable from here (the reason,
 *                  naming the frame, in vx_walk_error()): returned after
 *                  the end's items, in place of the 0.
 */
int vx_walk_next(struct vx_walk *w, struct vx_walk_item *it);

/*
 * A walk of records that come from elsewhere (a recorder, a relay, a
 * program's own trace): each vx_walk_feed() decodes one record, tracking
 * its connection's session as a walk of a file does, and returns 1 with
 * its item, or VX_ERR_NOMEM.  rec and what it points at must stay valid
 * while the item is used.  After vx_walk_end(), vx_walk_next() gives the
 * end's items, then 0; a fed walk's vx_walk_next() never reads a file.
 */
int vx_walk_new(const struct vx_walk_opts *o, struct vx_walk **out);
int vx_walk_feed(struct vx_walk *w, const struct vx_trace_rec *rec,
    struct vx_walk_item *it);

/* Read no more records: next come the end's items, then 0. */
void vx_walk_end(struct vx_walk *w);

/* Why the walk failed ("frame 12: ..."), or "" if it did not. */
const char *vx_walk_error(const struct vx_walk *w);

void vx_walk_close(struct vx_walk *w);

#endif /* VX_WALK_H */
