/*
 * trace-digest.c - the BLAKE2b digest chain over trace records and key
 * files (libsodium's crypto_generichash does the hashing).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trace-digest.h"
#include "vx-cursor.h"
#include "vx-error.h"

static void
chain_start(struct vx_chain *c)
{
	crypto_generichash_init(&c->st, c->keylen ? c->key : NULL, c->keylen,
	    VX_TRACE_DIGEST_LEN);
	crypto_generichash_update(&c->st, c->prev, VX_TRACE_DIGEST_LEN);
	c->nrec = 0;
}

void
vx_chain_init(struct vx_chain *c, const uint8_t *key, size_t keylen)
{
	memset(c->prev, 0, sizeof(c->prev));
	c->keylen = key != NULL ? keylen : 0;
	if (c->keylen)
		memcpy(c->key, key, keylen);
	c->first = 1;
	chain_start(c);
}

void
vx_chain_record(struct vx_chain *c, uint32_t sec, uint32_t nsec,
    uint32_t caplen, uint32_t len, const uint8_t *data)
{
	uint8_t h[16];

	/* Canonical little-endian, whatever byte order the file uses. */
	vx_store(h, 4, sec, 0);
	vx_store(h + 4, 4, nsec, 0);
	vx_store(h + 8, 4, caplen, 0);
	vx_store(h + 12, 4, len, 0);
	crypto_generichash_update(&c->st, h, sizeof(h));
	crypto_generichash_update(&c->st, data, caplen);
	c->nrec++;
}

void
vx_chain_digest(struct vx_chain *c, const uint8_t *fixed, uint8_t *out)
{
	crypto_generichash_update(&c->st, fixed, VX_TRACE_FIXED_LEN);
	crypto_generichash_final(&c->st, out, VX_TRACE_DIGEST_LEN);
	memcpy(c->prev, out, VX_TRACE_DIGEST_LEN);
	chain_start(c);
}

int
vx_trace_load_key(const char *path, uint8_t *key)
{
	uint8_t buf[VX_TRACE_KEY_MAX + 1];
	FILE *fp;
	size_t n;
	int err;

	if ((fp = fopen(path, "rb")) == NULL)
		return VX_ERR_IO;
	n = fread(buf, 1, sizeof(buf), fp);
	err = ferror(fp) ? errno : 0;
	fclose(fp);
	if (err) {
		errno = err;
		return VX_ERR_IO;
	}
	if (n < VX_TRACE_KEY_MIN || n > VX_TRACE_KEY_MAX) {
		sodium_memzero(buf, sizeof(buf));
		return VX_ERR_INVALID;
	}
	memcpy(key, buf, n);
	sodium_memzero(buf, sizeof(buf));
	return (int)n;
}
