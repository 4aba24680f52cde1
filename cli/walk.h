/*
 * walk.h - read a trace record by record, decode its messages with one
 * session per connection, and hand each record to a callback.  Shared by
 * dissect and stats so both see the same decode, pairing and findings.
 */
#ifndef VFUCTL_WALK_H
#define VFUCTL_WALK_H

#include <stdint.h>

#include "vx-msg.h"
#include "vx-session.h"
#include "vx-trace.h"

struct walk_item {
	/* NULL at the end of the trace, where only unanswered is set */
	const struct vx_trace_rec *rec;
	const struct vx_msg *msg;		/* NULL for events */
	const struct vx_session_result *res;	/* NULL for events */
	/* at a CLOSE record (or the end): commands never answered */
	const struct vx_finding *unanswered;
	unsigned nunanswered;
	/* a STATE record: what it says, or why it could not be used */
	const char *state;
};

struct walk_opts {
	const char *path;	/* trace path or "-" */
	int follow;		/* keep reading as the file grows */
	int peer;		/* enum vx_peer for every connection */
	int big_endian;		/* override: decode as big-endian */
	int lazy;		/* items only when asked for (vx_msg_items) */
};

/* Return < 0 from the callback to stop the walk early (not an error). */
typedef int (*walk_fn)(void *arg, const struct walk_item *it);

/*
 * Walk the whole trace.  Returns 0, or a VX_ERR_* code with the reason in
 * err ("frame 12: ...") after every valid record before it went to fn.
 */
int walk_trace(const struct walk_opts *o, walk_fn fn, void *arg, char *err,
    size_t errlen);

/* Set by SIGINT/SIGTERM during a --follow walk: stop at the next record. */
extern volatile int walk_stop;

#endif /* VFUCTL_WALK_H */
