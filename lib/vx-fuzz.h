/*
 * vx-fuzz.h - a stateful, structure-aware fuzzer for vfio-user device
 * servers (vfuctl fuzz).
 *
 * An exec is one short sequence of mutated messages sent on an
 * established connection: the connection first gets a prefix that brings
 * the session to a useful state (VERSION, DEVICE_GET_INFO, every region's
 * and IRQ index's info, a DMA_MAP with a real memfd; or a seed trace's
 * commands), and keeps it for many execs; it is rebuilt (reconnect, prefix
 * again) only when it broke or after opts.conn_execs execs.  Messages come
 * from templates filled with what the device reported, or from the seeds,
 * and are mutated through the model (vx-msg.h): each integer field's
 * bytes, as decoded, get boundary values; flags get bits; indexes go just
 * past what the device reported; argsz goes below and above the structure;
 * messages are truncated, grown, sent with too many, too few or the wrong
 * descriptors, split across writes or joined in one, repeated and
 * reordered; bytes flip at a low rate.  The server's DMA_READ/DMA_WRITE are
 * answered from the memfd windows, sometimes with an error.
 *
 * Oracles: the server process ends (the caller's fate hook says how: exit
 * status, signal, sanitizer frames), no reply within opts.timeout_ms
 * (hang), a reply that breaks the protocol (another command, an error flag
 * without errno, a reply to a No_reply command, one that does not decode),
 * and a server that no longer accepts connections.  A finding is
 * reproduced from a fresh server and minimized (delta debugging over
 * messages, then over each message's mutated fields), deduplicated by
 * kind, signal, last command and sanitizer frames, and handed to the
 * finding hook, which may save it as a trace (vx_fuzz_save) that
 * vfuctl replay reproduces.  Deterministic for one opts.seed and server.
 *
 * Coverage: given the map of a server built with AFL++'s instrumentation
 * (opts.cov_map: the shared memory its __AFL_SHM_ID names), each exec
 * starts with the map zeroed and ends, after its replies, with the hit
 * counts bucketed as afl-fuzz does; an exec that reached a new edge or
 * bucket joins the corpus that later execs splice and mutate.  A map still
 * all zero after the first exec means no instrumentation: black-box.
 * The edges a server runs after its last reply count to the right exec
 * only where the settle hook can tell when it has run them; else a guided
 * run repeats a seed's run only as far as the scheduler does.
 * The library never prints.
 */
#ifndef VX_FUZZ_H
#define VX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct vx_fuzz;

enum vx_fuzz_kind {
	VX_FUZZ_CRASH = 1,	/* the server process ended */
	VX_FUZZ_HANG,		/* no reply within the timeout */
	VX_FUZZ_VIOLATION,	/* a reply that breaks the protocol */
	VX_FUZZ_DEAF,		/* the server stopped accepting connections */
};

/* "crash", "hang", "violation", "deaf" */
const char *vx_fuzz_kind_name(int kind);

/* AFL++ coverage feedback, as far as it goes. */
enum vx_fuzz_cov {
	VX_FUZZ_COV_NONE = 0,	/* no map given: black-box */
	VX_FUZZ_COV_PENDING,	/* a map, no exec has ended yet */
	VX_FUZZ_COV_GUIDED,	/* the server writes its edges to it */
	VX_FUZZ_COV_SILENT,	/* it stayed all zero: black-box */
};

/* What became of the server, as the caller sees it. */
struct vx_fuzz_fate {
	int dead;		/* 1: the process ended */
	int status;		/* exit status, or -1 */
	int sig;		/* the signal that ended it, or 0 */
	char frames[256];	/* top sanitizer frames ("f < g < h"), or "" */
	char headline[256];	/* the sanitizer's first line, or "" */
};

struct vx_fuzz_finding {
	int kind;		/* enum vx_fuzz_kind */
	uint16_t last_cmd;	/* the command it happened on */
	unsigned nmsgs;		/* messages in the minimized sequence */
	unsigned orig_msgs;	/* ... and before minimizing */
	uint64_t exec;		/* the exec that found it (1-based) */
	struct vx_fuzz_fate fate;
	char key[384];		/* what deduplicates it */
	char text[384];		/* one line: what happened */
};

struct vx_fuzz_hooks {
	/* A socket connected to the server, or a VX_ERR_* with why. */
	int (*connect)(void *arg, char *why, size_t whycap);
	/* Start the server afresh (after it died or hung); NULL: cannot. */
	int (*restart)(void *arg, char *why, size_t whycap);
	/* Has the server ended?  Wait up to wait_ms for it to; NULL:
	 * nothing is known (--connect). */
	void (*fate)(void *arg, int wait_ms, struct vx_fuzz_fate *f);
	/* A new (not yet seen) finding, minimized. */
	void (*finding)(void *arg, struct vx_fuzz *fz,
	    const struct vx_fuzz_finding *f);
	void *arg;
	/* With coverage: wait (briefly) until the server has run what
	 * follows its last reply and waits for input, so those edges count
	 * to the exec they belong to; NULL: cannot tell. */
	void (*settle)(void *arg);
};

struct vx_fuzz_opts {
	uint64_t seed;		/* the PRNG's seed */
	int timeout_ms;		/* per reply: beyond it a hang (<= 0: 1000) */
	unsigned max_msgs;	/* mutated messages per exec (0: 4) */
	unsigned conn_execs;	/* execs before the connection is rebuilt
				 * (0: 16) */
	int restart_each;	/* every exec on a server started afresh
				 * (the restart hook), as process-per-exec
				 * fuzzers do: conn_execs is then 1 */
	const char *const *seeds;	/* seed traces, nseeds of them */
	unsigned nseeds;
	int no_minimize;	/* keep findings as found */
	uint8_t *cov_map;	/* AFL++ coverage map, or NULL: black-box */
	size_t cov_size;	/* its bytes */
};

struct vx_fuzz_stats {
	uint64_t execs, messages, findings, duplicates;
	uint64_t reconnects, restarts, dma_served;
	unsigned commands;	/* distinct commands answered without error */
	unsigned states;	/* distinct (command, errno) replies seen */
	unsigned corpus;	/* sequences kept for reaching a new state */
	unsigned seed_msgs;	/* commands taken from the seeds */
	int coverage;		/* enum vx_fuzz_cov */
	unsigned edges;		/* edges of the map ever hit */
	unsigned cov_kept;	/* execs kept for new edges or buckets */
};

/*
 * A fuzzer over the hooks.  Returns 0, or a VX_ERR_* with the reason in
 * vx_fuzz_error() (a seed trace that cannot be read); *out is set either
 * way (NULL only for VX_ERR_NOMEM) and must be freed.
 */
int vx_fuzz_new(const struct vx_fuzz_opts *o, const struct vx_fuzz_hooks *h,
    struct vx_fuzz **out);
void vx_fuzz_free(struct vx_fuzz *fz);

/*
 * One exec.  Returns 0, or a VX_ERR_* when fuzzing cannot go on (the
 * server is gone and cannot be restarted, or never answered the prefix),
 * with the reason in vx_fuzz_error().
 */
int vx_fuzz_exec(struct vx_fuzz *fz);

const struct vx_fuzz_stats *vx_fuzz_stats(const struct vx_fuzz *fz);
const char *vx_fuzz_error(const struct vx_fuzz *fz);

/*
 * From the finding hook: run f's minimized sequence once more on a fresh
 * server and record it as a trace at path (vfuctl-trace(5)), the report
 * as an annotation; where the server owed a reply it never sent, the
 * trace holds an error reply in its place, so that vfuctl replay stops
 * there.  0 or a VX_ERR_*.
 */
int vx_fuzz_save(struct vx_fuzz *fz, const struct vx_fuzz_finding *f,
    const char *path);

#endif /* VX_FUZZ_H */
