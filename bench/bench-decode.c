/*
 * bench-decode.c - throughput of vx_decode on the messages a busy device
 * sees most: small REGION_READ/REGION_WRITE commands and replies (4 to 8
 * data bytes), against an unchecked reference decoder over the same bytes.
 *
 *   bench-decode [-m vx|items|ref] [-n COUNT | -t SECONDS] [-w WARMUP]
 *
 *   -m vx    vx_decode + validation (status must be OK) by a lazy decoder,
 *            folding the header and the access view: the default
 *   -m items an eager decoder (what dissect, print, encode and filters
 *            use), folding every item it built
 *   -m ref   reference: memcpy header and body into a struct, no checks
 *   -n       decode exactly COUNT messages (for callgrind)
 *   -t       decode for SECONDS of wall time (default 0.5)
 *   -w       messages decoded before measuring (default 10000)
 *
 * Prints one line of key=value pairs: mode, msgs, secs (wall), cpu_secs,
 * msgs_per_s (wall), checksum, allocs, allocs_per_msg.  All modes fold the
 * same values in the same order into the checksum (every header and body
 * field, the data length and the data bytes), so at equal COUNT the
 * checksums must match: that shows the reference decodes what vx_decode
 * does, and keeps the compiler from dropping either loop.  bench/run.sh
 * runs both and prints the ratios.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx-msg.h"

/* --- allocation counting ------------------------------------------------- */

/*
 * Count every allocation the process makes by taking over the malloc
 * family and forwarding to glibc's own.  Sanitizers bring their own
 * allocator: there, counting is off and allocs prints -1.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define NO_ALLOC_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NO_ALLOC_COUNT 1
#endif

static unsigned long long nallocs;

#ifndef NO_ALLOC_COUNT
#define ALLOC_COUNTING 1

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

void *
malloc(size_t n)
{
	nallocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	nallocs++;
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	nallocs++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}
#else
#define ALLOC_COUNTING 0
#endif

/* --- the messages ------------------------------------------------------- */

#define NMSG		64	/* a power of two: the loop masks with it */
#define HDR		16
#define ACCESS		16	/* offset u64, region u32, count u32 */

struct bmsg {
	const uint8_t *p;
	uint32_t len;
	uint8_t dir;
};

static uint8_t msgbuf[NMSG * (HDR + ACCESS + 8)];
static struct bmsg msgs[NMSG];

static void
put(uint8_t *p, unsigned w, uint64_t v)
{
	unsigned i;

	for (i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Read command, read reply with data, write command with data, write
 * reply, in turn; data 4 to 8 bytes; packed back to back as they would be
 * in a receive buffer, so most are unaligned.
 */
static void
build_msgs(void)
{
	uint8_t *p = msgbuf;
	unsigned i, k;

	for (i = 0; i < NMSG; i++) {
		unsigned kind = i % 4, dlen = 4 + i % 5;
		int reply = kind == 1 || kind == 3;
		int write = kind >= 2;
		int data = kind == 1 || kind == 2;
		uint32_t len = HDR + ACCESS + (data ? dlen : 0);

		put(p + 0, 2, i / 2);				/* msg_id */
		put(p + 2, 2, write ? VX_CMD_REGION_WRITE : VX_CMD_REGION_READ);
		put(p + 4, 4, len);
		put(p + 8, 4, reply ? VX_F_TYPE_REPLY : VX_F_TYPE_COMMAND);
		put(p + 12, 4, 0);
		put(p + 16, 8, 0x1000 + 8 * i);			/* offset */
		put(p + 24, 4, i % 3 == 0 ? 7 : 2);		/* config, bar2 */
		put(p + 28, 4, dlen);				/* count */
		for (k = 0; data && k < dlen; k++)
			p[32 + k] = (uint8_t)(0x5a ^ (i * 8 + k));
		msgs[i].p = p;
		msgs[i].len = len;
		msgs[i].dir = reply ? VX_S2C : VX_C2S;
		p += len;
	}
}

/* --- decoding ----------------------------------------------------------- */

/*
 * Rotate and xor: order-sensitive, and a 2-cycle dependency chain, so the
 * checksum does not set the pace of the reference loop (a multiply would).
 */
static uint64_t
fold(uint64_t sum, uint64_t v)
{
	return (sum << 5 | sum >> 59) ^ v;
}

/* Up to 8 data bytes as one little-endian word. */
static uint64_t
data_word(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

static struct vx_decoder dec;		/* lazy: items on demand */
static struct vx_decoder eager;		/* items always, as dissect uses */

static void
fail(uint64_t i, const struct vx_msg *m)
{
	fprintf(stderr, "bench-decode: message %u did not decode: %s\n",
	    (unsigned)(i & (NMSG - 1)), m->err.text);
	exit(1);
}

/* What a relay or a device's hot loop uses: header and access view. */
static uint64_t __attribute__((noinline))
loop_vx(uint64_t n, uint64_t sum)
{
	struct vx_dctx ctx;
	struct vx_msg m;
	uint64_t i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.peer = VX_PEER_AUTO;
	for (i = 0; i < n; i++) {
		const struct bmsg *b = &msgs[i & (NMSG - 1)];

		ctx.dir = b->dir;
		if (vx_decode(&dec, b->p, b->len, &ctx, &m) != 0 ||
		    m.status != VX_MSG_OK)
			fail(i, &m);
		sum = fold(sum, m.id);
		sum = fold(sum, m.cmd);
		sum = fold(sum, m.size);
		sum = fold(sum, m.flags);
		sum = fold(sum, m.error);
		sum = fold(sum, m.rw.offset);
		sum = fold(sum, m.rw.index);
		sum = fold(sum, m.rw.count);
		if (m.dlen > 0) {
			sum = fold(sum, m.dlen);
			sum = fold(sum, data_word(m.data, m.dlen));
		}
	}
	return sum;
}

/* What print, encode and filters use: every item, built and walked. */
static uint64_t __attribute__((noinline))
loop_items(uint64_t n, uint64_t sum)
{
	struct vx_dctx ctx;
	struct vx_msg m;
	uint64_t i;
	uint32_t k;

	memset(&ctx, 0, sizeof(ctx));
	ctx.peer = VX_PEER_AUTO;
	for (i = 0; i < n; i++) {
		const struct bmsg *b = &msgs[i & (NMSG - 1)];

		ctx.dir = b->dir;
		if (vx_decode(&eager, b->p, b->len, &ctx, &m) != 0 ||
		    m.status != VX_MSG_OK)
			fail(i, &m);
		for (k = 0; k < m.nitems; k++) {
			const struct vx_item *it = &m.items[k];

			sum = fold(sum, it->val);
			if (it->ptr != NULL)
				sum = fold(sum, data_word(it->ptr, it->len));
		}
	}
	return sum;
}

/* The unchecked reference: what a decoder that trusts its input costs. */
struct ref_msg {
	uint16_t id, cmd;
	uint32_t size, flags, error;
	uint64_t offset;
	uint32_t region, count;
	const uint8_t *data;
	uint32_t dlen;
};

static uint64_t __attribute__((noinline))
loop_ref(uint64_t n, uint64_t sum)
{
	struct ref_msg r;
	uint64_t i;

	for (i = 0; i < n; i++) {
		const struct bmsg *b = &msgs[i & (NMSG - 1)];

		memcpy(&r.id, b->p + 0, 2);
		memcpy(&r.cmd, b->p + 2, 2);
		memcpy(&r.size, b->p + 4, 4);
		memcpy(&r.flags, b->p + 8, 4);
		memcpy(&r.error, b->p + 12, 4);
		memcpy(&r.offset, b->p + 16, 8);
		memcpy(&r.region, b->p + 24, 4);
		memcpy(&r.count, b->p + 28, 4);
		r.data = b->p + HDR + ACCESS;
		r.dlen = b->len - HDR - ACCESS;

		sum = fold(sum, r.id);
		sum = fold(sum, r.cmd);
		sum = fold(sum, r.size);
		sum = fold(sum, r.flags);
		sum = fold(sum, r.error);
		sum = fold(sum, r.offset);
		sum = fold(sum, r.region);
		sum = fold(sum, r.count);
		if (r.dlen > 0) {
			sum = fold(sum, r.dlen);
			sum = fold(sum, data_word(r.data, r.dlen));
		}
	}
	return sum;
}

/* --- driver ------------------------------------------------------------- */

static double
now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fputs("usage: bench-decode [-m vx|items|ref] [-n COUNT | -t SECONDS] "
	    "[-w WARMUP]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t (*loop)(uint64_t, uint64_t) = loop_vx;
	const char *mode = "vx";
	unsigned long long count = 0, warm = 10000, done = 0;
	double secs = 0.5, t0, c0, wall, cpu;
	uint64_t sum = 0xcbf29ce484222325ull;
	int c;

	while ((c = getopt(argc, argv, "m:n:t:w:")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			if (strcmp(mode, "vx") == 0)
				loop = loop_vx;
			else if (strcmp(mode, "items") == 0)
				loop = loop_items;
			else if (strcmp(mode, "ref") == 0)
				loop = loop_ref;
			else
				usage();
			break;
		case 'n':
			count = strtoull(optarg, NULL, 0);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'w':
			warm = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	build_msgs();
	vx_decoder_init(&dec);
	vx_decoder_init(&eager);
	dec.lazy = 1;
	/* warm-up grows the decoder's item array and the caches; not folded */
	loop(warm, 0);
	nallocs = 0;

	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	if (count > 0) {
		sum = loop(count, sum);
		done = count;
	} else {
		/* whole rounds of NMSG, so the checksum depends on done only */
		do {
			sum = loop(NMSG * 1024, sum);
			done += NMSG * 1024;
		} while (now(CLOCK_MONOTONIC) - t0 < secs);
	}
	wall = now(CLOCK_MONOTONIC) - t0;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;

	printf("mode=%s msgs=%llu secs=%.4f cpu_secs=%.4f msgs_per_s=%.0f "
	    "checksum=%016llx allocs=%lld allocs_per_msg=%.6f\n", mode, done,
	    wall, cpu, wall > 0 ? (double)done / wall : 0.0,
	    (unsigned long long)sum,
	    ALLOC_COUNTING ? (long long)nallocs : -1LL,
	    ALLOC_COUNTING ? (double)nallocs / (double)done : -1.0);
	vx_decoder_release(&dec);
	vx_decoder_release(&eager);
	return 0;
}
