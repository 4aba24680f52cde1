/*
 * record-hash.c - vfuctl record --hash-dma: a DMA window's digest as the
 * text of an ANNOTATION record (see record.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "record.h"

#define HASH_CHUNK	((size_t)1 << 20)	/* bytes read at a time */

static const char *const hash_when[] = { "map", "unmap", "close" };

/* Why h has no descriptor to read, after the text's head. */
static void
no_descriptor(const struct rec_hash *h, char *text, size_t cap)
{
	if (h->err < 0)
		snprintf(text, cap, ": not hashable: its descriptor was"
		    " cut off (MSG_CTRUNC)");
	else if (h->err)
		snprintf(text, cap, ": not hashable: cannot keep its "
		    "descriptor: %s", strerror(h->err));
	else
		snprintf(text, cap, ": not hashable: no descriptor (the"
		    " server reaches it with DMA_READ/DMA_WRITE)");
}

/*
 * "DMA hash at map: conn 1 iova 0x100000 size 0x4000 offset 0x0 hashed
 * 16384 blake2b-256 <hex>", with " (limit)" or " (end of file)" after the
 * count when fewer than size bytes were hashed, or "...: not hashable:
 * why".  Reading a device could block or have side effects: only regular
 * files (memfds are) are read.
 */
void
rec_hash_text(const struct rec_hash *h, uint8_t **buf, char *text,
    size_t cap)
{
	crypto_generichash_state st;
	uint8_t dig[REC_HASH_LEN];
	char hex[2 * REC_HASH_LEN + 1];
	uint64_t want, done = 0;
	struct stat sb;
	const char *why = NULL;
	ssize_t k;
	size_t n;
	int len, err = 0;

	len = snprintf(text, cap, "DMA hash at %s: conn %u iova 0x%llx size 0x%llx",
	    hash_when[h->when], h->conn, (unsigned long long)h->iova,
	    (unsigned long long)h->size);
	if (len < 0 || (size_t)len >= cap)
		return;
	text += len;
	cap -= (size_t)len;
	if (h->fd < 0) {
		no_descriptor(h, text, cap);
		return;
	}
	len = snprintf(text, cap, " offset 0x%llx", (unsigned long long)h->offset);
	if (len < 0 || (size_t)len >= cap)
		return;
	text += len;
	cap -= (size_t)len;
	want = h->size < h->limit ? h->size : h->limit;
	if (fstat(h->fd, &sb) < 0)
		err = errno;
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file or memfd";
	else if (h->offset > (uint64_t)INT64_MAX - want)
		why = "the offset is past what a file can hold";
	else if (*buf == NULL && (*buf = malloc(HASH_CHUNK)) == NULL)
		err = ENOMEM;
	if (err || why) {
		snprintf(text, cap, ": not hashable: %s", why ? why : strerror(err));
		return;
	}
	crypto_generichash_init(&st, NULL, 0, REC_HASH_LEN);
	while (done < want) {
		n = want - done < HASH_CHUNK ? (size_t)(want - done) : HASH_CHUNK;
		k = pread(h->fd, *buf, n, (off_t)(h->offset + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(text, cap, ": not hashable: reading at offset 0x%llx: %s",
			    (unsigned long long)(h->offset + done), strerror(errno));
			return;
		}
		if (k == 0)
			break;		/* the file ends inside the window */
		crypto_generichash_update(&st, *buf, (size_t)k);
		done += (uint64_t)k;
	}
	crypto_generichash_final(&st, dig, sizeof(dig));
	sodium_bin2hex(hex, sizeof(hex), dig, sizeof(dig));
	snprintf(text, cap, " hashed %llu%s blake2b-256 %s",
	    (unsigned long long)done, done == h->size ? "" :
	    done == want ? " (limit)" : " (end of file)", hex);
}
