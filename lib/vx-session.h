/*
 * vx-session.h - the state of one vfio-user connection, fed one decoded
 * message at a time in the order they were seen, both directions and both
 * channels.  It pairs replies with commands, tracks what was negotiated,
 * the regions, IRQs and DMA windows, and reports context findings (a reply
 * without command, an access beyond a region, DMA outside the windows, ...)
 * that a lone message cannot show.  Decode errors stay in struct vx_msg.
 *
 * Pairing follows the spec: msg_ids belong to the sender and may be reused,
 * so a reply is matched to the oldest pending command with the same
 * (channel, direction, msg_id), and its command number is then checked.
 */
#ifndef VX_SESSION_H
#define VX_SESSION_H

#include <stdint.h>

#include "vx-msg.h"

enum vx_severity { VX_SEV_NOTE = 0, VX_SEV_WARN = 1, VX_SEV_ERROR = 2 };

enum vx_finding_code {
#define VX_FINDING(id, sev, text) VX_FIND_##id,
#include "findings.def"
#undef VX_FINDING
	VX_FIND_COUNT
};

struct vx_finding {
	uint16_t code;		/* enum vx_finding_code */
	uint8_t severity;	/* enum vx_severity */
	char text[160];		/* the specifics */
};

const char *vx_finding_key(unsigned code);
const char *vx_finding_text(unsigned code);
int vx_finding_severity(unsigned code);

/* What feeding a message tells the caller. */
struct vx_session_result {
	int paired;		/* a reply matched its command */
	uint64_t req_frame;	/* the command's frame number */
	uint64_t req_ts_ns;	/* the command's timestamp */
	uint16_t req_cmd;
	unsigned nfindings;
	struct vx_finding findings[8];
};

struct vx_session;

/* peer: VX_PEER_AUTO to recognise QEMU and libvfio-user from VERSION. */
struct vx_session *vx_session_new(int peer);
void vx_session_free(struct vx_session *s);

/* The wire-form profile to decode the next message from dir with. */
int vx_session_peer(const struct vx_session *s, int dir);
/* "qemu", "libvfio-user", "spec" or "unknown" for the client's side. */
const char *vx_session_peer_name(const struct vx_session *s, int dir);

/*
 * Feed one decoded message.  frame numbers and timestamps are the
 * caller's; they come back in later pairings.  Returns 0 or VX_ERR_NOMEM.
 */
int vx_session_feed(struct vx_session *s, const struct vx_msg *m,
    uint64_t frame, uint64_t ts_ns, struct vx_session_result *res);

/*
 * Report commands still waiting for a reply (at most max findings, each
 * naming the command's frame).  Returns how many are pending in all.
 */
unsigned vx_session_finish(struct vx_session *s, struct vx_finding *out,
    unsigned max);

/*
 * Where the capture began.  A session that is told nothing takes its first
 * message as the connection's start if that is a VERSION command; if not,
 * the capture began mid-session: one MID_SESSION note, and the checks
 * that need what came before (message before VERSION, DMA outside the
 * windows, replies to commands before the first paired reply) are off.
 * vx_session_begin() says the connection starts here (an OPEN record):
 * then a message before VERSION is an error.
 */
void vx_session_begin(struct vx_session *s);

/*
 * The state so far as JSON text (the payload of a STATE record, documented
 * in man/vfuctl-trace.5): negotiation, peer variants, regions, IRQs, DMA
 * windows and commands waiting for replies.  malloc'd, NUL-terminated;
 * NULL if out of memory.
 */
char *vx_session_save(const struct vx_session *s);

/*
 * Replace the state with one vx_session_save() wrote (len bytes of text).
 * A --peer given at vx_session_new() wins over the saved variants.
 * Returns 0, or VX_ERR_INVALID (overlapping DMA windows among other
 * things) / VX_ERR_UNSUPPORTED (a later state
 * version) / VX_ERR_TOO_LARGE (over 4 MiB of text, 65536 DMA windows or
 * 2^20 pending commands) / VX_ERR_NOMEM with the reason in why and the
 * session reset to know nothing.
 */
int vx_session_load(struct vx_session *s, const char *text, size_t len,
    char *why, size_t whycap);

/* One line for people: "VERSION 0.2 (qemu client, ...), 9 regions, ...". */
void vx_session_describe(const struct vx_session *s, char *out, size_t cap);

/* Negotiated state, for tools that show it: dir VX_C2S the client's
 * VERSION, VX_S2C the server's reply (NULL until it came). */
const struct vx_caps *vx_session_caps(const struct vx_session *s, int dir);
/* The version in that message: 0, or VX_ERR_NOENT until it came. */
int vx_session_version(const struct vx_session *s, int dir, uint64_t *major,
    uint64_t *minor);

#endif /* VX_SESSION_H */
