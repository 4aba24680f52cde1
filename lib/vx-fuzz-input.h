/*
 * vx-fuzz-input.h - in-process fuzzing of a device server: turn a
 * fuzzer's byte string into a sequence of vfio-user messages with
 * descriptors and push it over a socketpair into a server running in the
 * same process, so that a libFuzzer or AFL++ harness is ten lines
 * (man vx_fuzz_input(3)).
 *
 * Input: records `u8 ctl, u8 cmd, u16 len (little-endian), len bytes`;
 * the harness builds each message's 16-byte header (msg_id counting up,
 * size right) around the payload, so mutations land where a server
 * parses.  ctl bits 0-1: how many descriptors (0-3); bit 2: eventfds
 * (for SET_IRQS), else 64 KiB memfds (for DMA_MAP); bit 3: flag
 * no_reply; bit 4: a reply to the server's last DMA_READ/DMA_WRITE
 * instead (its msg_id, command and address, on the socket it came on;
 * bit 0 then sets the error flag); bit 5: the message in two writes, the
 * server stepped between them.  A valid VERSION goes first unless the
 * first record is a VERSION itself or VX_FUZZ_INPUT_NO_VERSION is set.
 * At most VX_FUZZ_INPUT_MAX_RECORDS records are sent.
 */
#ifndef VX_FUZZ_INPUT_H
#define VX_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "vx-framer.h"

#define VX_FUZZ_INPUT_MAX_RECORDS	64

/* vx_fuzz_input_new() flags */
#define VX_FUZZ_INPUT_NO_VERSION	0x1u	/* send no VERSION first */

struct vx_fuzz_input;

/*
 * Run one step of the server without blocking.  Returns 0 when it waits
 * for input, > 0 when it has more to do (called again), < 0 when it has
 * ended the connection (a VX_ERR_* code, returned by vx_fuzz_input_run).
 */
typedef int vx_fuzz_input_step_fn(void *arg);

/* Each message the server sent, chan 0 the main socket, 1 the twin: the
 * place for the harness's own checks (abort() on a violation). */
typedef void vx_fuzz_input_sent_fn(void *arg, struct vx_frame *f, int chan);

/*
 * A client's end of a fresh socketpair; *server_sock is the other end,
 * for the server to serve (it owns it from now on).  NULL with errno set
 * when out of memory or descriptors.
 */
struct vx_fuzz_input *vx_fuzz_input_new(unsigned flags, int *server_sock);
void vx_fuzz_input_set_sent(struct vx_fuzz_input *fi,
    vx_fuzz_input_sent_fn *fn, void *arg);

/*
 * Send data's messages, stepping the server after each write until it
 * waits and reading back what it sent (the twin socket, if passed, is
 * kept).  Returns 0 when the server served it all, the step's code when
 * it ended the connection, VX_ERR_BUSY when it kept busy without input
 * (1000 steps).  Call once per vx_fuzz_input.
 */
int vx_fuzz_input_run(struct vx_fuzz_input *fi, const uint8_t *data,
    size_t size, vx_fuzz_input_step_fn *step, void *arg);

/* A vx_fuzz_input_step_fn for a struct vx_server (vx-server.h) as arg. */
int vx_fuzz_input_server_step(void *vx_server);

/* Close the client's sockets and free. */
void vx_fuzz_input_free(struct vx_fuzz_input *fi);

#endif /* VX_FUZZ_INPUT_H */
