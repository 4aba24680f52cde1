/*
 * fuzz-session.c - libFuzzer target for the session layer: a whole
 * connection, both directions and both channels, each message decoded with
 * the profile the session has recognised and then fed to it.
 *
 * Input:
 *   byte 0      peer option for vx_session_new (low 2 bits: AUTO, SPEC,
 *               LVU, QEMU)
 *   then records until the input ends:
 *     u8        bit 0 direction (1 s2c), bit 1 twin channel, bits 2-4
 *               nfds (descriptors said to come with it), bit 5 big-endian,
 *               bit 6: not a message but a STATE record's JSON, loaded
 *               with vx_session_load
 *     u16 le    message length n
 *     n bytes   the message, header included (fewer if the input ends)
 *
 * tests/fuzz/make-corpus.sh turns each vector file into inputs of this layout.
 */
#include "fuzz-common.h"

#define REC_S2C		0x01u
#define REC_TWIN	0x02u
#define REC_NFDS(c)	(((unsigned)(c) >> 2) & 7u)
#define REC_BE		0x20u
#define REC_STATE	0x40u

static void
check_result(const struct vx_msg *m, const struct vx_session_result *res)
{
	unsigned k;

	if (res->nfindings > sizeof(res->findings) / sizeof(res->findings[0]))
		fx_fail(m, "%u findings, room for %zu", res->nfindings,
		    sizeof(res->findings) / sizeof(res->findings[0]));
	for (k = 0; k < res->nfindings; k++) {
		const struct vx_finding *f = &res->findings[k];

		if (f->code >= VX_FIND_COUNT || f->severity > VX_SEV_ERROR ||
		    memchr(f->text, '\0', sizeof(f->text)) == NULL)
			fx_fail(m, "finding %u: code %u severity %u, text unended",
			    k, f->code, f->severity);
	}
}

/* Redaction zeroes within the message and keeps the header. */
static void
check_redact(const struct vx_msg *m)
{
	uint8_t *out = malloc(m->len ? m->len : 1);
	long r;

	if (out == NULL)
		abort();
	memcpy(out, m->buf, m->len);
	r = vx_msg_redact(m, out);
	if (r != VX_ERR_NOMEM && (r < 0 || (size_t)r > m->len ||
	    memcmp(out, m->buf, m->len < VX_HDR_SIZE ? m->len :
	    VX_HDR_SIZE) != 0))
		fx_fail(m, "vx_msg_redact returned %ld or changed the header", r);
	free(out);
}

/* What is saved loads into a new session that saves the same text. */
static void
check_saved(const struct vx_session *s)
{
	struct vx_session *t;
	char *a, *b, why[160];

	if ((a = vx_session_save(s)) == NULL)
		return;		/* out of memory */
	if ((t = vx_session_new(VX_PEER_AUTO)) == NULL)
		abort();
	if (vx_session_load(t, a, strlen(a), why, sizeof(why)) == 0 &&
	    (b = vx_session_save(t)) != NULL) {
		if (strcmp(a, b) != 0)
			fx_fail(NULL, "state saved again differs:\n%s\n%s", a, b);
		free(b);
	} else if (strstr(why, "memory") == NULL) {
		fx_fail(NULL, "saved state does not load: %s\n%s", why, a);
	}
	vx_session_free(t);
	free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_finding pend[8];
	struct vx_session *s;
	size_t pos = 1;
	uint64_t frame = 0;

	fx_init();
	if (size < 1)
		return 0;
	if ((s = vx_session_new(data[0] & 3)) == NULL)
		abort();
	while (pos + 3 <= size) {
		struct vx_session_result res;
		struct vx_dctx ctx;
		struct vx_msg m;
		uint8_t ctl = data[pos], *buf;
		size_t n = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
		int r;

		pos += 3;
		if (n > size - pos)
			n = size - pos;
		/* a copy of exact size, so ASan sees a read past the message */
		if ((buf = malloc(n ? n : 1)) == NULL)
			abort();
		memcpy(buf, data + pos, n);
		pos += n;

		if (ctl & REC_STATE) {
			char why[160];

			r = vx_session_load(s, (const char *)buf, n, why,
			    sizeof(why));
			if (r < 0 && memchr(why, '\0', sizeof(why)) == NULL)
				fx_fail(NULL, "vx_session_load: reason unended");
			free(buf);
			continue;
		}
		memset(&ctx, 0, sizeof(ctx));
		ctx.dir = (ctl & REC_S2C) ? VX_S2C : VX_C2S;
		ctx.chan = (ctl & REC_TWIN) ? VX_CHAN_TWIN : VX_CHAN_MAIN;
		ctx.nfds = (int)REC_NFDS(ctl);
		ctx.big_endian = (ctl & REC_BE) != 0;
		ctx.peer = (uint8_t)vx_session_peer(s, ctx.dir);
		if (ctx.peer > VX_PEER_QEMU)
			fx_fail(NULL, "vx_session_peer returned %u", ctx.peer);
		r = vx_decode(&fx_dec, buf, n, &ctx, &m);
		if (r == VX_ERR_NOMEM) {
			free(buf);
			break;
		}
		if (r != 0)
			fx_fail(&m, "vx_decode returned %d", r);
		fx_check_items(&m);
		fx_check_roundtrip(&m);
		fx_check_summary(&m);
		check_redact(&m);
		r = vx_session_feed(s, &m, frame, frame * 1000, &res);
		if (r != 0 && r != VX_ERR_NOMEM)
			fx_fail(&m, "vx_session_feed returned %d", r);
		check_result(&m, &res);
		free(buf);
		frame++;
		if (r == VX_ERR_NOMEM)
			break;
	}
	check_saved(s);
	vx_session_finish(s, pend, sizeof(pend) / sizeof(pend[0]));
	if (vx_session_peer_name(s, VX_C2S) == NULL ||
	    vx_session_peer_name(s, VX_S2C) == NULL)
		fx_fail(NULL, "vx_session_peer_name returned NULL");
	(void)vx_session_caps(s, VX_C2S);
	(void)vx_session_caps(s, VX_S2C);
	vx_session_free(s);
	return 0;
}
