/*
 * tstate.h - keep each trace file a writer makes standing alone.  A
 * rotated file starts with a STATE record (vfuctl-trace(5)) for every
 * connection open at the time, and an export that leaves records out gets
 * a STATE record before a message whose connection's state the records
 * left out had changed, so that a reader's session layer starts from what
 * the writer's did.
 *
 * tstate_seen() follows every record of the input (the recorder: every
 * record it writes); an exporter also calls tstate_sync() and then
 * tstate_written() for each record it writes, before tstate_seen() of the
 * same record.  Each connection costs a session or two; CLOSE frees them.
 */
#ifndef VFUCTL_TSTATE_H
#define VFUCTL_TSTATE_H

#include <stdint.h>

#include "vx-trace.h"

struct tstate;

/* peer: enum vx_peer; mirror: also follow what is written (exporters). */
struct tstate *tstate_new(int peer, int mirror);
void tstate_free(struct tstate *t);

/* A record of the input.  0 or VX_ERR_NOMEM. */
int tstate_seen(struct tstate *t, const struct vx_trace_rec *rec);

/* rec is about to be written to w: first a STATE record if needed. */
int tstate_sync(struct tstate *t, struct vx_trace_writer *w,
    const struct vx_trace_rec *rec);

/* rec was written (mirror only). */
int tstate_written(struct tstate *t, const struct vx_trace_rec *rec);

/* A STATE record for every connection seen and not closed, at ts_ns. */
int tstate_write_all(struct tstate *t, struct vx_trace_writer *w,
    uint64_t ts_ns);

#endif /* VFUCTL_TSTATE_H */
