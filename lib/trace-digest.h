/*
 * trace-digest.h - the BLAKE2b digest chain over trace records
 * (lib/trace-digest.c), shared by the trace writer and reader.  Not
 * installed; the public contract is vx-trace.h.
 */
#ifndef VX_TRACE_DIGEST_H
#define VX_TRACE_DIGEST_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "vx-trace.h"

/*
 * The digest chain: H_i = BLAKE2b-256[key](H_{i-1} || R... || P_i), with
 * H_0 all zero, R one covered record (le32 ts_sec, le32 ts_nsec, le32
 * caplen, le32 len, captured bytes) and P_i the digest record's fixed
 * pseudo-header.  The state must be 64-byte aligned (libsodium's type says
 * so), hence the structs that hold it come from aligned_alloc().
 */
struct vx_chain {
	crypto_generichash_state st;
	uint8_t prev[VX_TRACE_DIGEST_LEN];
	uint8_t key[VX_TRACE_KEY_MAX];
	size_t keylen;
	uint64_t nrec;		/* records since the last digest */
	uint64_t first;		/* frame of the first of them (reader) */
};

void vx_chain_init(struct vx_chain *c, const uint8_t *key, size_t keylen);
void vx_chain_record(struct vx_chain *c, uint32_t sec, uint32_t nsec,
    uint32_t caplen, uint32_t len, const uint8_t *data);
/* Finish H_i over fixed (VX_TRACE_FIXED_LEN bytes) into out; restart. */
void vx_chain_digest(struct vx_chain *c, const uint8_t *fixed, uint8_t *out);

#endif /* VX_TRACE_DIGEST_H */
