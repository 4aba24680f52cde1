/*
 * test-session.c - the session layer over sequences of built messages:
 * reply pairing by (channel, direction, msg_id) in FIFO order, version
 * negotiation and peer recognition, descriptor and transfer limits,
 * regions, IRQs and DMA windows (their edges and max_dma_maps), and every
 * finding they report.
 *
 * Each message is laid out with the builder, decoded with the profile
 * vx_session_peer() gives for its direction, and fed in order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx-error.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "unit.h"
#include "vx-strbuf.h"

enum { FV_END = 0, FV_U, FV_H, FV_S };

/* One field to build: an integer, hex bytes, or text with its NUL. */
struct fv {
	int kind;
	unsigned field;
	uint64_t val;
	const char *s;
};
#define U(f, v)	{ FV_U, VXF_##f, (v), NULL }
#define H(f, h)	{ FV_H, VXF_##f, 0, (h) }
#define S(f, t)	{ FV_S, VXF_##f, 0, (t) }
#define END	{ FV_END, 0, 0, NULL }
#define F(...)	((const struct fv[]){ __VA_ARGS__, END })

static const struct fv nof[] = { END };

#define R	VX_F_TYPE_REPLY
#define MAIN	VX_CHAN_MAIN
#define TWIN	VX_CHAN_TWIN

/* Client and server capabilities of an ordinary negotiation. */
#define CJSON "{\"capabilities\":{\"max_msg_fds\":8," \
	"\"max_data_xfer_size\":1048576,\"twin_socket\":{\"supported\":true}," \
	"\"write_multiple\":true}}"
#define SJSON "{\"capabilities\":{\"max_msg_fds\":8," \
	"\"max_data_xfer_size\":65536,\"write_multiple\":true}}"

struct sx {
	struct vx_session *s;
	struct vx_decoder d;
	struct vx_builder b;
	struct vx_msg m;		/* the message last fed */
	struct vx_session_result r;
	uint64_t frame;
	int rc;
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if ((v = vx_hexval((unsigned char)*s)) < 0)
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n < cap)
			out[n] = (uint8_t)(hi << 4 | v);
		n++;
		hi = -1;
	}
	return n;
}

static void
start(struct sx *x, int peer)
{
	memset(x, 0, sizeof(*x));
	if ((x->s = vx_session_new(peer)) == NULL)
		abort();
	vx_decoder_init(&x->d);
	vx_builder_init(&x->b);
}

static void
stop(struct sx *x)
{
	vx_session_free(x->s);
	vx_decoder_release(&x->d);
	vx_builder_release(&x->b);
}

/* Build, decode and feed one message; frame numbers count from 1. */
static const struct vx_session_result *
feed(struct sx *x, int dir, int chan, int nfds, uint16_t id, uint16_t cmd,
    uint32_t flags, const struct fv *f)
{
	static uint8_t tmp[8192];
	struct vx_msg bm;
	struct vx_dctx ctx;
	size_t n;

	vx_build_header(&x->b, id, cmd, flags,
	    flags & VX_F_ERROR ? EINVAL : 0);
	for (; f->kind != FV_END; f++) {
		if (f->kind == FV_U) {
			vx_build_uint(&x->b, f->field, f->val);
		} else if (f->kind == FV_H) {
			n = unhex(f->s, tmp, sizeof(tmp));
			vx_build_bytes(&x->b, f->field, tmp, n);
		} else {
			vx_build_bytes(&x->b, f->field, f->s, strlen(f->s) + 1);
		}
	}
	memset(&x->r, 0, sizeof(x->r));
	if ((x->rc = vx_build_finish(&x->b, &bm)) != 0)
		return &x->r;
	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = (uint8_t)dir;
	ctx.chan = (uint8_t)chan;
	ctx.peer = (uint8_t)vx_session_peer(x->s, dir);
	ctx.nfds = nfds;
	if ((x->rc = vx_decode(&x->d, bm.buf, bm.len, &ctx, &x->m)) != 0)
		return &x->r;
	x->frame++;
	x->rc = vx_session_feed(x->s, &x->m, x->frame, x->frame * 1000,
	    &x->r);
	return &x->r;
}

static unsigned
count(const struct vx_session_result *r, unsigned code)
{
	unsigned i, n = 0;

	for (i = 0; i < r->nfindings; i++)
		n += r->findings[i].code == code;
	return n;
}

static const char *
text_of(const struct vx_session_result *r, unsigned code)
{
	unsigned i;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].code == code)
			return r->findings[i].text;
	return "";
}

static void
show(const struct vx_session_result *r)
{
	unsigned i;

	if (r->nfindings == 0)
		diag("no findings");
	for (i = 0; i < r->nfindings; i++)
		diag("finding %s: %s", vx_finding_key(r->findings[i].code),
		    r->findings[i].text);
}

/* The result has the finding (and, if alone, nothing else). */
static void
expect(const struct sx *x, unsigned code, int alone, const char *what)
{
	const struct vx_session_result *r = &x->r;
	int good = x->rc == 0 && count(r, code) == 1 &&
	    (!alone || r->nfindings == 1);

	if (!ok(good, "%s: %s%s", what, vx_finding_key(code),
	    alone ? " only" : ""))
		show(r);
}

static void
expect_none(const struct sx *x, const char *what)
{
	if (!ok(x->rc == 0 && x->r.nfindings == 0, "%s: no findings", what))
		show(&x->r);
}

static void
expect_not(const struct sx *x, unsigned code, const char *what)
{
	if (!ok(x->rc == 0 && count(&x->r, code) == 0, "%s: no %s", what,
	    vx_finding_key(code)))
		show(&x->r);
}

static void
expect_paired(const struct sx *x, uint64_t frame, uint16_t cmd,
    const char *what)
{
	const struct vx_session_result *r = &x->r;

	if (!ok(x->rc == 0 && r->paired && r->req_frame == frame &&
	    r->req_ts_ns == frame * 1000 && r->req_cmd == cmd,
	    "%s: paired with frame %llu (%s)", what, (unsigned long long)frame,
	    vx_cmd_name(cmd)))
		diag("paired %d frame %llu cmd %u", r->paired,
		    (unsigned long long)r->req_frame, r->req_cmd);
}

/* --- message helpers ------------------------------------------------- */

static void
version(struct sx *x, uint16_t cminor, const char *cjson, uint16_t sminor,
    const char *sjson, int snfds)
{
	if (cjson != NULL)
		feed(x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
		    F(U(VER_MAJOR, 0), U(VER_MINOR, cminor),
		    S(VER_JSON, cjson)));
	else
		feed(x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
		    F(U(VER_MAJOR, 0), U(VER_MINOR, cminor)));
	if (sjson != NULL)
		feed(x, VX_S2C, MAIN, snfds, 0, VX_CMD_VERSION, R,
		    F(U(VER_MAJOR, 0), U(VER_MINOR, sminor),
		    S(VER_JSON, sjson)));
	else
		feed(x, VX_S2C, MAIN, snfds, 0, VX_CMD_VERSION, R,
		    F(U(VER_MAJOR, 0), U(VER_MINOR, sminor)));
}

static void
get_info(struct sx *x, uint16_t id, uint32_t nregions, uint32_t nirqs)
{
	feed(x, VX_C2S, MAIN, 0, id, VX_CMD_DEVICE_GET_INFO, 0,
	    F(U(ARGSZ, 16), U(DEV_FLAGS, 0), U(DEV_NUM_REGIONS, 0),
	    U(DEV_NUM_IRQS, 0)));
	feed(x, VX_S2C, MAIN, 0, id, VX_CMD_DEVICE_GET_INFO, R,
	    F(U(ARGSZ, 16), U(DEV_FLAGS, 3), U(DEV_NUM_REGIONS, nregions),
	    U(DEV_NUM_IRQS, nirqs)));
}

static void
region_info_cmd(struct sx *x, uint16_t id, uint32_t index, uint32_t argsz)
{
	feed(x, VX_C2S, MAIN, 0, id, VX_CMD_DEVICE_GET_REGION_INFO, 0,
	    F(U(ARGSZ, argsz), U(RINFO_FLAGS, 0), U(REGION_INDEX, index),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, 0), U(RINFO_OFFSET, 0)));
}

static void
region_info_reply(struct sx *x, uint16_t id, uint32_t index, uint32_t flags,
    uint64_t size)
{
	feed(x, VX_S2C, MAIN, flags & VX_REGION_MMAP ? 1 : 0, id,
	    VX_CMD_DEVICE_GET_REGION_INFO, R,
	    F(U(ARGSZ, 32), U(RINFO_FLAGS, flags), U(REGION_INDEX, index),
	    U(RINFO_CAP_OFFSET, 0), U(RINFO_SIZE, size), U(RINFO_OFFSET, 0)));
}

static void
region_read(struct sx *x, uint16_t id, uint32_t index, uint64_t off,
    uint32_t cnt, int nfds)
{
	feed(x, VX_C2S, MAIN, nfds, id, VX_CMD_REGION_READ, 0,
	    F(U(REGION_OFFSET, off), U(REGION_INDEX, index),
	    U(REGION_COUNT, cnt)));
}

static void
region_write(struct sx *x, uint16_t id, uint32_t index, uint64_t off,
    const char *hex)
{
	size_t n = strlen(hex) / 2;

	feed(x, VX_C2S, MAIN, 0, id, VX_CMD_REGION_WRITE, 0,
	    F(U(REGION_OFFSET, off), U(REGION_INDEX, index),
	    U(REGION_COUNT, n), H(REGION_DATA, hex)));
}

static void
dma_map(struct sx *x, uint16_t id, uint64_t addr, uint64_t size, int nfds)
{
	feed(x, VX_C2S, MAIN, nfds, id, VX_CMD_DMA_MAP, 0,
	    F(U(ARGSZ, 32), U(DMA_MAP_FLAGS, 3), U(DMA_MAP_OFFSET, 0),
	    U(DMA_ADDR, addr), U(DMA_SIZE, size)));
}

static void
dma_unmap(struct sx *x, uint16_t id, uint32_t flags, uint64_t addr,
    uint64_t size)
{
	feed(x, VX_C2S, MAIN, 0, id, VX_CMD_DMA_UNMAP, 0,
	    F(U(ARGSZ, 24), U(DMA_UNMAP_FLAGS, flags), U(DMA_ADDR, addr),
	    U(DMA_SIZE, size)));
}

/* A server DMA_READ in the form the session says the client expects. */
static void
dma_read(struct sx *x, int chan, uint16_t id, uint64_t addr, uint64_t cnt)
{
	if (vx_session_peer(x->s, VX_S2C) == VX_PEER_QEMU)
		feed(x, VX_S2C, chan, 0, id, VX_CMD_DMA_READ, 0,
		    F(U(DMA_ADDR, addr), U(DMA_COUNT32, cnt), U(DMA_PAD, 0)));
	else
		feed(x, VX_S2C, chan, 0, id, VX_CMD_DMA_READ, 0,
		    F(U(DMA_ADDR, addr), U(DMA_COUNT, cnt)));
}

static void
set_irqs(struct sx *x, uint16_t id, uint32_t flags, uint32_t index,
    uint32_t cnt, int nfds)
{
	feed(x, VX_C2S, MAIN, nfds, id, VX_CMD_DEVICE_SET_IRQS, 0,
	    F(U(ARGSZ, 20), U(IRQ_SET_FLAGS, flags), U(IRQ_INDEX, index),
	    U(IRQ_START, 0), U(IRQ_COUNT, cnt)));
}

static void
reply0(struct sx *x, uint16_t id, uint16_t cmd)
{
	feed(x, VX_S2C, MAIN, 0, id, cmd, R, nof);
}

/* --- tests ----------------------------------------------------------- */

static void
test_clean_session(void)
{
	struct sx x;
	struct vx_finding f[4];
	int bad = 0;

	start(&x, VX_PEER_AUTO);
	ok(vx_session_caps(x.s, VX_S2C) == NULL,
	    "clean: no server caps before VERSION");
	feed(&x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 2), S(VER_JSON, CJSON)));
	bad |= x.r.nfindings != 0;
	feed(&x, VX_S2C, MAIN, 0, 0, VX_CMD_VERSION, R,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 2), S(VER_JSON, SJSON)));
	expect_paired(&x, 1, VX_CMD_VERSION, "clean: VERSION reply");
	bad |= x.r.nfindings != 0;
	ok(vx_session_caps(x.s, VX_S2C) != NULL &&
	    vx_session_caps(x.s, VX_S2C)->max_data_xfer_size == 65536 &&
	    vx_session_caps(x.s, VX_C2S)->max_msg_fds == 8,
	    "clean: negotiated caps of both sides kept");
	get_info(&x, 1, 9, 5);
	expect_paired(&x, 3, VX_CMD_DEVICE_GET_INFO, "clean: GET_INFO reply");
	bad |= x.r.nfindings != 0;
	region_info_cmd(&x, 2, 0, 32);
	bad |= x.r.nfindings != 0;
	region_info_reply(&x, 2, 0, VX_REGION_READ | VX_REGION_WRITE, 0x100);
	bad |= x.r.nfindings != 0;
	region_read(&x, 3, 0, 0xfc, 4, 0);
	bad |= x.r.nfindings != 0;
	feed(&x, VX_S2C, MAIN, 0, 3, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0xfc), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "01020304")));
	expect_paired(&x, 7, VX_CMD_REGION_READ, "clean: REGION_READ reply");
	bad |= x.r.nfindings != 0;
	region_write(&x, 4, 0, 0, "0a0b");
	bad |= x.r.nfindings != 0;
	feed(&x, VX_S2C, MAIN, 0, 4, VX_CMD_REGION_WRITE, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 2)));
	bad |= x.r.nfindings != 0 || !x.r.paired;
	set_irqs(&x, 5, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 4, 4);
	bad |= x.r.nfindings != 0;
	reply0(&x, 5, VX_CMD_DEVICE_SET_IRQS);
	bad |= x.r.nfindings != 0 || !x.r.paired;
	if (!ok(!bad && x.rc == 0,
	    "clean: a well-behaved session has no findings"))
		show(&x.r);
	ok(vx_session_finish(x.s, f, 4) == 0, "clean: nothing left pending");
	stop(&x);
}

static void
test_pairing(void)
{
	struct sx x;
	struct vx_finding f[4];

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);

	/* reused ids pair oldest first */
	region_read(&x, 7, 0, 0, 4, 0);		/* frame 3 */
	expect_none(&x, "pairing: first command id 7");
	region_read(&x, 7, 0, 4, 4, 0);		/* frame 4 */
	expect(&x, VX_FIND_MSGID_REUSED, 1, "pairing: second command id 7");
	ok(x.r.findings[0].severity == VX_SEV_NOTE,
	    "pairing: MSGID_REUSED is a note");
	region_write(&x, 8, 0, 0, "00");	/* frame 5 */
	feed(&x, VX_S2C, MAIN, 0, 7, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect_paired(&x, 3, VX_CMD_REGION_READ,
	    "pairing: first reply id 7 (FIFO)");
	expect_none(&x, "pairing: first reply id 7");
	feed(&x, VX_S2C, MAIN, 0, 7, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 4), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect_paired(&x, 4, VX_CMD_REGION_READ, "pairing: second reply id 7");
	feed(&x, VX_S2C, MAIN, 0, 7, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 4), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "pairing: third reply id 7");
	ok(!x.r.paired, "pairing: third reply id 7 not paired");
	feed(&x, VX_S2C, MAIN, 0, 8, VX_CMD_REGION_WRITE, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 1)));
	expect_paired(&x, 5, VX_CMD_REGION_WRITE, "pairing: reply id 8");

	/* a server command with the id of a pending client command */
	region_read(&x, 5, 0, 0, 4, 0);		/* frame 10, C2S id 5 */
	dma_map(&x, 6, 0x100000, 0x10000, 0);	/* frame 11 */
	reply0(&x, 6, VX_CMD_DMA_MAP);
	dma_read(&x, MAIN, 5, 0x100000, 4);	/* frame 13, S2C id 5 */
	expect_not(&x, VX_FIND_MSGID_REUSED,
	    "pairing: server id 5 beside client id 5");
	feed(&x, VX_C2S, MAIN, 0, 5, VX_CMD_DMA_READ, R,
	    F(U(DMA_ADDR, 0x100000), U(DMA_COUNT, 4), H(DMA_DATA, "01020304")));
	expect_paired(&x, 13, VX_CMD_DMA_READ,
	    "pairing: client reply id 5 goes to the server's DMA_READ");
	expect_none(&x, "pairing: client reply id 5");
	feed(&x, VX_S2C, MAIN, 0, 5, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect_paired(&x, 10, VX_CMD_REGION_READ,
	    "pairing: server reply id 5 goes to the client's REGION_READ");
	expect_none(&x, "pairing: server reply id 5");

	/* a reply in the command's direction pairs with nothing */
	region_read(&x, 0x20, 0, 0, 4, 0);	/* frame 16 */
	feed(&x, VX_C2S, MAIN, 0, 0x20, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "pairing: reply travelling the command's direction");
	/* nor does one on the other channel */
	feed(&x, VX_S2C, TWIN, 0, 0x20, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "pairing: reply on the twin channel to a main command");
	feed(&x, VX_S2C, MAIN, 0, 0x20, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(REGION_DATA, "00000000")));
	expect_paired(&x, 16, VX_CMD_REGION_READ,
	    "pairing: then the right reply still pairs");

	/* reply with another command number */
	region_read(&x, 9, 0, 0, 4, 0);		/* frame 20 */
	feed(&x, VX_S2C, MAIN, 0, 9, VX_CMD_REGION_WRITE, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 0), U(REGION_COUNT, 4)));
	expect(&x, VX_FIND_REPLY_WRONG_CMD, 1, "pairing: REGION_WRITE reply "
	    "to REGION_READ");
	expect_paired(&x, 20, VX_CMD_REGION_READ,
	    "pairing: wrong-command reply still takes the command");
	feed(&x, VX_S2C, MAIN, 0, 9, VX_CMD_REGION_READ, R | VX_F_ERROR, nof);
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "pairing: command consumed by the wrong reply");

	/* no_reply */
	feed(&x, VX_C2S, MAIN, 0, 0x30, VX_CMD_REGION_WRITE_MULTI,
	    VX_F_NO_REPLY, F(U(WM_COUNT, 1), U(REGION_OFFSET, 0),
	    U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(WM_DATA, "0100000000000000")));
	expect_none(&x, "pairing: WRITE_MULTI no_reply");
	feed(&x, VX_S2C, MAIN, 0, 0x30, VX_CMD_REGION_WRITE_MULTI, R,
	    F(U(WM_COUNT, 1)));
	expect(&x, VX_FIND_REPLY_TO_NO_REPLY, 1,
	    "pairing: reply to a no_reply command");
	ok(!x.r.paired, "pairing: reply to no_reply not paired");

	/* error reply pairs like any other */
	region_read(&x, 0x31, 0, 0, 4, 0);	/* frame 25 */
	feed(&x, VX_S2C, MAIN, 0, 0x31, VX_CMD_REGION_READ, R | VX_F_ERROR,
	    nof);
	expect_paired(&x, 25, VX_CMD_REGION_READ, "pairing: error reply");
	expect_none(&x, "pairing: error reply");

	/* never answered */
	feed(&x, VX_C2S, MAIN, 0, 0x42, VX_CMD_DEVICE_RESET, 0, nof);
	region_read(&x, 0x43, 0, 0, 4, 0);
	memset(f, 0, sizeof(f));
	ok(vx_session_finish(x.s, f, 4) == 2 &&
	    f[0].code == VX_FIND_UNANSWERED && f[1].code == VX_FIND_UNANSWERED,
	    "pairing: finish reports 2 unanswered commands");
	ok((strstr(f[0].text, "DEVICE_RESET") != NULL &&
	    strstr(f[0].text, "0x0042") != NULL) ||
	    (strstr(f[1].text, "DEVICE_RESET") != NULL &&
	    strstr(f[1].text, "0x0042") != NULL),
	    "pairing: unanswered DEVICE_RESET msg_id 0x0042 named");
	ok(f[0].severity == VX_SEV_WARN, "pairing: UNANSWERED is a warning");
	ok(vx_session_finish(x.s, f, 0) == 2,
	    "pairing: finish counts with no room for findings");
	stop(&x);
}

static void
test_negotiation(void)
{
	struct sx x;

	/* a command before VERSION on a connection that starts here */
	start(&x, VX_PEER_AUTO);
	vx_session_begin(x.s);
	get_info(&x, 1, 9, 5);
	ok(x.r.paired, "negotiation: GET_INFO before VERSION still pairs");
	feed(&x, VX_C2S, MAIN, 0, 2, VX_CMD_DEVICE_GET_INFO, 0,
	    F(U(ARGSZ, 16), U(DEV_FLAGS, 0), U(DEV_NUM_REGIONS, 0),
	    U(DEV_NUM_IRQS, 0)));
	expect(&x, VX_FIND_BEFORE_VERSION, 1,
	    "negotiation: GET_INFO before VERSION");
	version(&x, 2, CJSON, 2, SJSON, 0);
	expect_none(&x, "negotiation: VERSION after GET_INFO");
	stop(&x);

	/* minor above the proposal */
	start(&x, VX_PEER_AUTO);
	version(&x, 1, CJSON, 2, SJSON, 0);
	expect(&x, VX_FIND_VERSION_MISMATCH, 1,
	    "negotiation: server answers 0.2 to 0.1");
	stop(&x);

	/* another major */
	start(&x, VX_PEER_AUTO);
	feed(&x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 2)));
	feed(&x, VX_S2C, MAIN, 0, 0, VX_CMD_VERSION, R,
	    F(U(VER_MAJOR, 1), U(VER_MINOR, 0)));
	expect(&x, VX_FIND_VERSION_MISMATCH, 1,
	    "negotiation: server answers 1.0 to 0.2");
	stop(&x);

	/* a lower minor is allowed */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 1, SJSON, 0);
	expect_none(&x, "negotiation: server answers 0.1 to 0.2");
	stop(&x);

	/* capability not proposed */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"max_data_xfer_size\":4096}}", 2, SJSON, 0);
	expect(&x, VX_FIND_CAP_NOT_PROPOSED, 1,
	    "negotiation: write_multiple not proposed");
	ok(strstr(text_of(&x.r, VX_FIND_CAP_NOT_PROPOSED), "write_multiple") !=
	    NULL, "negotiation: the finding names write_multiple");
	ok(x.r.findings[0].severity == VX_SEV_NOTE,
	    "negotiation: CAP_NOT_PROPOSED is a note");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, NULL, 2, "{\"capabilities\":{\"migration\":"
	    "{\"pgsize\":4096}}}", 0);
	expect(&x, VX_FIND_CAP_NOT_PROPOSED, 1,
	    "negotiation: migration without a client JSON");
	stop(&x);
}

static void
test_mid_session(void)
{
	struct sx x;

	/* no OPEN, no STATE: the capture began after VERSION */
	start(&x, VX_PEER_AUTO);
	feed(&x, VX_S2C, MAIN, 0, 7, VX_CMD_REGION_READ, R,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 2), U(REGION_COUNT, 1),
	    H(REGION_DATA, "aa")));
	expect(&x, VX_FIND_MID_SESSION, 1,
	    "mid-session: a reply first: one note, no orphan reply");
	ok(x.r.findings[0].severity == VX_SEV_NOTE, "mid-session: a note");
	dma_read(&x, MAIN, 1, 0x400000, 4);
	expect_not(&x, VX_FIND_DMA_OUTSIDE,
	    "mid-session: windows mapped before the capture");
	expect_not(&x, VX_FIND_MID_SESSION, "mid-session: said once");
	feed(&x, VX_C2S, MAIN, 0, 8, VX_CMD_DEVICE_RESET, 0, nof);
	expect_none(&x, "mid-session: no BEFORE_VERSION");
	feed(&x, VX_S2C, MAIN, 0, 8, VX_CMD_DEVICE_RESET, R, nof);
	ok(x.r.paired, "mid-session: a command in the capture pairs");
	feed(&x, VX_S2C, MAIN, 0, 6, VX_CMD_DEVICE_GET_INFO, R,
	    F(U(ARGSZ, 16), U(DEV_FLAGS, 0), U(DEV_NUM_REGIONS, 9),
	    U(DEV_NUM_IRQS, 5)));
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "mid-session: an orphan after a paired reply is one");
	dma_unmap(&x, 9, VX_DMA_UNMAP_ALL, 0, 0);
	dma_read(&x, MAIN, 2, 0x400000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1,
	    "mid-session: windows known after unmap all");
	stop(&x);

	/* a VERSION command first is the start of the connection */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	expect_none(&x, "mid-session: VERSION first is a start");
	stop(&x);
}

static void
test_saved_state(void)
{
	struct sx x, y;
	char *text, *again, why[160];

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	get_info(&x, 1, 9, 5);
	dma_map(&x, 2, 0x100000, 0x10000, 0);
	dma_map(&x, 3, 0xfffffffffff00000ull, 0x1000, 1);
	get_info(&x, 4, 9, 5);
	/* a command left waiting: its reply pairs after the load */
	feed(&x, VX_C2S, MAIN, 0, 5, VX_CMD_DEVICE_RESET, 0, nof);
	text = vx_session_save(x.s);
	ok(text != NULL, "state: saved");
	start(&y, VX_PEER_AUTO);
	ok(vx_session_load(y.s, text, strlen(text), why, sizeof(why)) == 0,
	    "state: loaded (%s)", why);
	again = vx_session_save(y.s);
	ok(again != NULL && strcmp(text, again) == 0, "state: load and save "
	    "give the same text");
	y.frame = 100;
	feed(&y, VX_S2C, MAIN, 0, 5, VX_CMD_DEVICE_RESET, R, nof);
	expect_paired(&y, x.frame, VX_CMD_DEVICE_RESET,
	    "state: a pending command from before pairs");
	dma_read(&y, MAIN, 1, 0x100000, 4);
	expect_not(&y, VX_FIND_DMA_OUTSIDE, "state: windows known");
	expect_not(&y, VX_FIND_MID_SESSION, "state: not mid-session");
	dma_read(&y, MAIN, 2, 0x400000, 4);
	expect(&y, VX_FIND_DMA_OUTSIDE, 1, "state: checks on after the load");
	feed(&y, VX_C2S, MAIN, 0, 9, VX_CMD_REGION_READ, 0,
	    F(U(REGION_OFFSET, 0), U(REGION_INDEX, 12), U(REGION_COUNT, 1)));
	expect(&y, VX_FIND_NO_SUCH_REGION, 1, "state: num_regions kept");
	ok(vx_session_load(y.s, "{\"state\":2}", 11, why, sizeof(why)) ==
	    VX_ERR_UNSUPPORTED && strstr(why, "state version 2") != NULL,
	    "state: a later version is refused: %s", why);
	ok(vx_session_load(y.s, "{\"state\":1,\"peer\":7}", 21, why,
	    sizeof(why)) == VX_ERR_INVALID, "state: bad peer refused: %s", why);
	ok(vx_session_load(y.s, "[", 1, why, sizeof(why)) == VX_ERR_INVALID,
	    "state: not JSON refused: %s", why);
	ok(vx_session_load(y.s, text, (size_t)5 << 20, why, sizeof(why)) ==
	    VX_ERR_TOO_LARGE, "state: over 4 MiB refused unread: %s", why);
	{
		/* 65537 windows: refused, not allocated */
		size_t cap = 65537 * 12 + 256, n;
		char *big = malloc(cap);
		unsigned k;

		n = (size_t)snprintf(big, cap, "{\"state\":1,\"peer\":{\"client\":"
		    "\"auto\",\"server\":\"auto\"},\"version\":{},\"dma\":[");
		for (k = 0; k < 65537; k++)
			n += (size_t)snprintf(big + n, cap - n, "%s{}", k ? "," : "");
		n += (size_t)snprintf(big + n, cap - n, "]}");
		ok(vx_session_load(y.s, big, n, why, sizeof(why)) ==
		    VX_ERR_TOO_LARGE, "state: 65537 DMA windows refused: %s", why);
		free(big);
	}
	free(text);
	free(again);
	stop(&x);
	stop(&y);
}

static void
test_twin(void)
{
	static const char twin_ok[] = "{\"capabilities\":{\"twin_socket\":"
	    "{\"supported\":true,\"fd_index\":0}}}";
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, twin_ok, 1);
	expect_none(&x, "twin: supported, fd_index 0 of 1 fd");
	dma_map(&x, 1, 0x100000, 0x10000, 0);
	dma_read(&x, TWIN, 1, 0x100000, 16);
	expect_none(&x, "twin: DMA_READ on the twin socket");
	feed(&x, VX_C2S, TWIN, 0, 1, VX_CMD_DMA_READ, R,
	    F(U(DMA_ADDR, 0x100000), U(DMA_COUNT, 4), H(DMA_DATA, "01020304")));
	expect_paired(&x, 4, VX_CMD_DMA_READ, "twin: reply on the twin socket");
	dma_read(&x, MAIN, 2, 0x100000, 16);
	expect(&x, VX_FIND_SERVER_CMD_ON_MAIN, 1,
	    "twin: DMA_READ on main although twin negotiated");
	ok(strstr(text_of(&x.r, VX_FIND_SERVER_CMD_ON_MAIN), "twin") != NULL,
	    "twin: the finding says a twin socket was negotiated");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, "{\"capabilities\":{\"twin_socket\":"
	    "{\"supported\":true,\"fd_index\":1}}}", 1);
	expect(&x, VX_FIND_VERSION_MISMATCH, 1,
	    "twin: fd_index 1 but one fd");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, "{\"capabilities\":{\"twin_socket\":"
	    "{\"supported\":true}}}", 1);
	expect(&x, VX_FIND_VERSION_MISMATCH, 1, "twin: no fd_index");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, "{}", 2, twin_ok, 1);
	expect(&x, VX_FIND_CAP_NOT_PROPOSED, 1,
	    "twin: accepted although not proposed");
	stop(&x);

	/* without a twin socket: said once */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	dma_map(&x, 1, 0x100000, 0x10000, 0);
	dma_read(&x, MAIN, 1, 0x100000, 16);
	expect(&x, VX_FIND_SERVER_CMD_ON_MAIN, 1,
	    "twin: DMA_READ on main, no twin socket");
	ok(x.r.findings[0].severity == VX_SEV_NOTE,
	    "twin: SERVER_CMD_ON_MAIN is a note");
	dma_read(&x, MAIN, 2, 0x100000, 16);
	expect_none(&x, "twin: second DMA_READ on main");
	stop(&x);
}

static void
test_fds(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);	/* server max_msg_fds 8 */
	dma_map(&x, 1, 0x100000, 0x10000, 2);
	expect(&x, VX_FIND_FDS, 0, "fds: DMA_MAP with 2 fds");
	dma_map(&x, 2, 0x200000, 0x10000, 1);
	expect(&x, VX_FIND_INVISIBLE_DMA, 1, "fds: DMA_MAP with 1 fd");
	ok(x.r.findings[0].severity == VX_SEV_NOTE,
	    "fds: INVISIBLE_DMA is a note");
	set_irqs(&x, 3, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 4, 3);
	expect(&x, VX_FIND_FDS, 1, "fds: SET_IRQS eventfd count 4 with 3 fds");
	set_irqs(&x, 4, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 4, 4);
	expect_none(&x, "fds: SET_IRQS eventfd count 4 with 4 fds");
	set_irqs(&x, 5, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 4, 0);
	expect_none(&x, "fds: SET_IRQS eventfd with no fds (de-assign)");
	set_irqs(&x, 6, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER, 2, 1, 1);
	expect(&x, VX_FIND_FDS, 1, "fds: SET_IRQS data_none with 1 fd");
	region_read(&x, 7, 0, 0, 4, 1);
	expect(&x, VX_FIND_FDS, 1, "fds: REGION_READ with 1 fd");
	feed(&x, VX_S2C, MAIN, 2, 1, VX_CMD_DMA_MAP, R, nof);
	expect(&x, VX_FIND_FDS, 1, "fds: DMA_MAP reply with 2 fds");
	stop(&x);

	/* the server accepts 1 fd (default): 4 eventfds are too many */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, "{}", 0);
	set_irqs(&x, 1, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 4, 4);
	expect(&x, VX_FIND_FDS_OVER_LIMIT, 1,
	    "fds: 4 eventfds, server max_msg_fds 1 (default)");
	set_irqs(&x, 2, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER, 2, 1, 1);
	expect_none(&x, "fds: 1 eventfd, server max_msg_fds 1");
	stop(&x);

	/* the client accepts 2: a reply with 3 fds is over its limit */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, "{\"capabilities\":{\"max_msg_fds\":2}}", 2,
	    "{\"capabilities\":{\"max_msg_fds\":2}}", 0);
	feed(&x, VX_C2S, MAIN, 0, 1, VX_CMD_DEVICE_GET_REGION_IO_FDS, 0,
	    F(U(ARGSZ, 16 + 3 * 40), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 0)));
	feed(&x, VX_S2C, MAIN, 3, 1, VX_CMD_DEVICE_GET_REGION_IO_FDS, R,
	    F(U(ARGSZ, 16 + 3 * 40), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 0),
	    U(IOFDS_COUNT, 3),
	    U(SUB_OFFSET, 0), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 0),
	    U(SUB_TYPE, 0), U(SUB_FLAGS, 0), U(SUB_PADDING, 0),
	    U(SUB_DATAMATCH, 0),
	    U(SUB_OFFSET, 4), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 1),
	    U(SUB_TYPE, 0), U(SUB_FLAGS, 0), U(SUB_PADDING, 0),
	    U(SUB_DATAMATCH, 0),
	    U(SUB_OFFSET, 8), U(SUB_SIZE, 4), U(SUB_FD_INDEX, 2),
	    U(SUB_TYPE, 0), U(SUB_FLAGS, 0), U(SUB_PADDING, 0),
	    U(SUB_DATAMATCH, 0)));
	expect(&x, VX_FIND_FDS_OVER_LIMIT, 1,
	    "fds: IO_FDS reply with 3 fds, client max_msg_fds 2");
	stop(&x);
}

static void
test_xfer(void)
{
	static char big[2 * 4097 + 1];
	struct sx x;

	memset(big, '0', sizeof(big) - 1);
	start(&x, VX_PEER_AUTO);
	version(&x, 2, "{\"capabilities\":{\"max_data_xfer_size\":4096}}", 2,
	    "{\"capabilities\":{\"max_data_xfer_size\":4096}}", 0);
	big[2 * 4096] = '\0';
	region_write(&x, 1, 0, 0, big);
	expect_none(&x, "xfer: REGION_WRITE of 4096, limit 4096");
	big[2 * 4096] = '0';
	region_write(&x, 2, 0, 0, big);
	expect(&x, VX_FIND_XFER_OVER_LIMIT, 1,
	    "xfer: REGION_WRITE of 4097, limit 4096");
	region_read(&x, 3, 0, 0, 8192, 0);
	expect(&x, VX_FIND_XFER_OVER_LIMIT, 1,
	    "xfer: REGION_READ of 8192, limit 4096");
	dma_map(&x, 4, 0x100000, 0x100000, 0);
	dma_read(&x, MAIN, 1, 0x100000, 8192);
	expect(&x, VX_FIND_XFER_OVER_LIMIT, 0,
	    "xfer: DMA_READ of 8192, client limit 4096");
	dma_read(&x, MAIN, 2, 0x100000, 4096);
	expect_none(&x, "xfer: DMA_READ of 4096, client limit 4096");
	stop(&x);

	/* defaults: 1 MiB */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, NULL, 2, NULL, 0);
	region_read(&x, 1, 0, 0, 1048576, 0);
	expect_none(&x, "xfer: REGION_READ of 1 MiB, default limit");
	region_read(&x, 2, 0, 0, 1048577, 0);
	expect(&x, VX_FIND_XFER_OVER_LIMIT, 1,
	    "xfer: REGION_READ of 1 MiB + 1, default limit");
	stop(&x);
}

static void
test_regions(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	/* nothing known yet: nothing to say */
	region_read(&x, 1, 12, 0x10000, 4, 0);
	expect_none(&x, "regions: REGION_READ before GET_INFO");
	get_info(&x, 2, 9, 5);
	region_info_cmd(&x, 3, 0, 32);
	region_info_reply(&x, 3, 0, VX_REGION_READ, 0x100);
	expect_none(&x, "regions: bar0 read-only, 256 bytes");
	region_info_cmd(&x, 4, 2, 32);
	region_info_reply(&x, 4, 2, VX_REGION_READ | VX_REGION_WRITE |
	    VX_REGION_MMAP, 0x4000);
	expect(&x, VX_FIND_INVISIBLE_MMAP, 1, "regions: bar2 mmap-able");
	ok(strstr(text_of(&x.r, VX_FIND_INVISIBLE_MMAP), "bar2") != NULL,
	    "regions: INVISIBLE_MMAP names bar2");
	region_info_cmd(&x, 5, 2, 32);
	region_info_reply(&x, 5, 2, VX_REGION_READ | VX_REGION_WRITE |
	    VX_REGION_MMAP, 0x4000);
	expect_none(&x, "regions: bar2 again, said once");

	region_read(&x, 6, 9, 0, 4, 0);
	expect(&x, VX_FIND_NO_SUCH_REGION, 1,
	    "regions: REGION_READ region 9 of 9");
	region_info_cmd(&x, 7, 12, 32);
	expect(&x, VX_FIND_NO_SUCH_REGION, 1, "regions: REGION_INFO region 12");
	feed(&x, VX_C2S, MAIN, 0, 8, VX_CMD_DEVICE_GET_REGION_IO_FDS, 0,
	    F(U(ARGSZ, 16), U(IOFDS_FLAGS, 0), U(REGION_INDEX, 9),
	    U(IOFDS_COUNT, 0)));
	expect(&x, VX_FIND_NO_SUCH_REGION, 1, "regions: IO_FDS region 9");
	region_read(&x, 9, 0, 0xfc, 4, 0);
	expect_none(&x, "regions: last 4 bytes of bar0");
	region_read(&x, 10, 0, 0xfc, 8, 0);
	expect(&x, VX_FIND_REGION_BOUNDS, 1, "regions: read past bar0's end");
	region_read(&x, 11, 0, 0x200, 1, 0);
	expect(&x, VX_FIND_REGION_BOUNDS, 1, "regions: read beyond bar0");
	region_read(&x, 12, 0, 0xffffffffffffff00ull, 0x200, 0);
	expect(&x, VX_FIND_REGION_BOUNDS, 1, "regions: offset+count overflows");
	region_write(&x, 13, 0, 0, "01020304");
	expect(&x, VX_FIND_REGION_PERM, 1, "regions: write to read-only bar0");
	region_write(&x, 14, 2, 0x3ffc, "01020304");
	expect_none(&x, "regions: write to bar2 in bounds");
	region_read(&x, 15, 1, 0, 4, 0);
	expect_none(&x, "regions: bar1 (no region info yet) unchecked");
	feed(&x, VX_C2S, MAIN, 0, 16, VX_CMD_REGION_WRITE_MULTI, 0,
	    F(U(WM_COUNT, 2),
	    U(REGION_OFFSET, 0x3ff8), U(REGION_INDEX, 2), U(REGION_COUNT, 8),
	    H(WM_DATA, "0102030405060708"),
	    U(REGION_OFFSET, 0xfe), U(REGION_INDEX, 0), U(REGION_COUNT, 4),
	    H(WM_DATA, "0102030400000000")));
	ok(count(&x.r, VX_FIND_REGION_BOUNDS) == 1 &&
	    count(&x.r, VX_FIND_REGION_PERM) == 1 && x.r.nfindings == 2,
	    "regions: WRITE_MULTI checks each write");
	stop(&x);

	/* a region info retry reply teaches nothing */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	get_info(&x, 1, 9, 5);
	region_info_cmd(&x, 2, 0, 32);
	feed(&x, VX_S2C, MAIN, 0, 2, VX_CMD_DEVICE_GET_REGION_INFO, R,
	    F(U(ARGSZ, 64), U(RINFO_FLAGS, VX_REGION_READ | VX_REGION_CAPS),
	    U(REGION_INDEX, 0), U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x10),
	    U(RINFO_OFFSET, 0)));
	expect_none(&x, "regions: retry reply (argsz 64)");
	region_read(&x, 3, 0, 0x100, 4, 0);
	expect_none(&x, "regions: retry reply sets no bounds");
	stop(&x);
}

static void
test_irqs(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	set_irqs(&x, 1, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER, 9, 1, 0);
	expect_none(&x, "irqs: SET_IRQS before GET_INFO");
	get_info(&x, 2, 9, 5);
	set_irqs(&x, 3, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER, 4, 1, 0);
	expect_none(&x, "irqs: SET_IRQS index 4 of 5");
	set_irqs(&x, 4, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER, 5, 1, 0);
	expect(&x, VX_FIND_NO_SUCH_IRQ, 1, "irqs: SET_IRQS index 5 of 5");
	feed(&x, VX_C2S, MAIN, 0, 5, VX_CMD_DEVICE_GET_IRQ_INFO, 0,
	    F(U(ARGSZ, 16), U(IRQ_INFO_FLAGS, 0), U(IRQ_INDEX, 7),
	    U(IRQ_COUNT, 0)));
	expect(&x, VX_FIND_NO_SUCH_IRQ, 1, "irqs: GET_IRQ_INFO index 7");
	stop(&x);
}

static void
test_dma(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	dma_map(&x, 1, 0x100000, 0x10000, 0);
	expect_none(&x, "dma: map [1 MiB, +64 KiB) without fd");
	dma_map(&x, 2, 0x108000, 0x10000, 0);
	expect(&x, VX_FIND_DMA_OVERLAP, 1, "dma: overlapping map");
	dma_map(&x, 3, 0x0f0000, 0x10000, 0);
	expect_none(&x, "dma: adjacent map below");
	dma_map(&x, 4, 0x110000, 0x10000, 1);
	expect(&x, VX_FIND_INVISIBLE_DMA, 1, "dma: adjacent map above with fd");

	dma_read(&x, MAIN, 1, 0x100000, 0x100);
	expect_not(&x, VX_FIND_DMA_OUTSIDE, "dma: read inside a window");
	dma_read(&x, MAIN, 2, 0x10ff00, 0x100);
	expect_none(&x, "dma: read up to a window's end");
	dma_read(&x, MAIN, 3, 0x400000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: read outside every window");
	dma_read(&x, MAIN, 4, 0x11ff00, 0x200);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: read past the last window");
	feed(&x, VX_S2C, MAIN, 0, 5, VX_CMD_DMA_WRITE, 0,
	    F(U(DMA_ADDR, 0x900000), U(DMA_COUNT, 2), H(DMA_DATA, "0102")));
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: write outside every window");

	dma_unmap(&x, 5, 0, 0x100000, 0x8000);
	expect(&x, VX_FIND_DMA_UNMAP_UNKNOWN, 1, "dma: unmap half a window");
	dma_unmap(&x, 6, 0, 0x100000, 0x10000);
	expect_none(&x, "dma: unmap a window exactly");
	dma_read(&x, MAIN, 6, 0x100000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: read in the unmapped window");
	dma_unmap(&x, 7, 0, 0x100000, 0x10000);
	expect(&x, VX_FIND_DMA_UNMAP_UNKNOWN, 1, "dma: unmap it twice");
	dma_read(&x, MAIN, 7, 0x0f0000, 4);
	expect_none(&x, "dma: the other windows stay");
	dma_unmap(&x, 8, VX_DMA_UNMAP_ALL, 0, 0);
	expect_none(&x, "dma: unmap all");
	dma_read(&x, MAIN, 8, 0x0f0000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: read after unmap all");
	dma_read(&x, MAIN, 9, 0x110000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma: fd window gone too");
	dma_map(&x, 9, 0x100000, 0x10000, 0);
	expect_none(&x, "dma: map again after unmap all");
	stop(&x);
}

/* Zero-size windows and accesses are the one byte at their address; a
 * window past 2^64 ends at the top of the address space. */
static void
test_dma_edges(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	dma_map(&x, 1, 0x200000, 0, 0);
	expect_none(&x, "dma edges: a zero-size window");
	dma_map(&x, 2, 0x200000, 0, 0);
	expect(&x, VX_FIND_DMA_OVERLAP, 1, "dma edges: the same zero-size window again");
	dma_map(&x, 3, 0x1ff000, 0x2000, 0);
	expect(&x, VX_FIND_DMA_OVERLAP, 1, "dma edges: a window over a zero-size one");
	ok(strstr(text_of(&x.r, VX_FIND_DMA_OVERLAP), "overlaps [0x200000, +0x0)") != NULL,
	    "dma edges: the overlap names the zero-size window: %s",
	    text_of(&x.r, VX_FIND_DMA_OVERLAP));
	dma_map(&x, 4, 0x1ff000, 0x1000, 0);
	expect_none(&x, "dma edges: a window just below a zero-size one");
	dma_map(&x, 30, 0x130000, 0x1000, 0);
	dma_map(&x, 31, 0x120000, 0x1000, 0);
	dma_map(&x, 32, 0x110000, 0x1000, 0);
	dma_map(&x, 33, 0x108000, 0x30000, 0);
	ok(strcmp(text_of(&x.r, VX_FIND_DMA_OVERLAP), "[0x108000, +0x30000) "
	    "overlaps [0x110000, +0x1000)") == 0,
	    "dma edges: a map over three names the lowest: %s",
	    text_of(&x.r, VX_FIND_DMA_OVERLAP));
	dma_map(&x, 34, 0x120800, 0x30000, 0);
	ok(strstr(text_of(&x.r, VX_FIND_DMA_OVERLAP), "overlaps [0x120000, +0x1000)") != NULL,
	    "dma edges: or the one holding its start: %s",
	    text_of(&x.r, VX_FIND_DMA_OVERLAP));
	dma_read(&x, MAIN, 1, 0x200000, 0);
	expect_not(&x, VX_FIND_DMA_OUTSIDE, "dma edges: zero bytes at a zero-size window");
	dma_read(&x, MAIN, 2, 0x200000, 1);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma edges: one byte of a zero-size window");
	dma_read(&x, MAIN, 3, 0x1ff800, 0x800);
	expect_none(&x, "dma edges: up to the end of the window below");
	dma_unmap(&x, 5, 0, 0x200000, 0);
	expect_none(&x, "dma edges: unmap the zero-size window");
	dma_read(&x, MAIN, 4, 0x200000, 0);
	expect_none(&x, "dma edges: zero bytes at a window's end are inside it");
	dma_read(&x, MAIN, 5, 0x200001, 0);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma edges: zero bytes past a window's end");

	dma_map(&x, 6, 0xfffffffffffff000ull, 0x2000, 0);
	expect_none(&x, "dma edges: a window past 2^64");
	dma_map(&x, 7, 0xfffffffffffff800ull, 0x100, 0);
	expect(&x, VX_FIND_DMA_OVERLAP, 1, "dma edges: a map inside the one past 2^64");
	dma_map(&x, 8, 0, 0x1000, 0);
	expect_none(&x, "dma edges: the one past 2^64 does not wrap to 0");
	dma_read(&x, MAIN, 6, 0xffffffffffffff00ull, 0x100);
	expect_none(&x, "dma edges: a read to the top of the address space");
	dma_read(&x, MAIN, 7, 0xfff, 2);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma edges: a read across a window's end");
	dma_map(&x, 9, 0xffffffffffffffffull, 0xffffffffffffffffull, 0);
	expect(&x, VX_FIND_DMA_OVERLAP, 1, "dma edges: the largest window overlaps");
	dma_unmap(&x, 10, 0, 0xfffffffffffff000ull, 0x2000);
	expect_none(&x, "dma edges: unmap the one past 2^64");
	dma_map(&x, 11, 0xffffffffffffffffull, 0xffffffffffffffffull, 0);
	expect_none(&x, "dma edges: the largest window in its place");
	dma_read(&x, MAIN, 8, 0xffffffffffffffffull, 1);
	expect_none(&x, "dma edges: the last byte of the address space");
	stop(&x);
}

#define SJSON_MAPS(n) "{\"capabilities\":{\"max_msg_fds\":8," \
	"\"max_dma_maps\":" #n "}}"
#define CJSON_MAPS "{\"capabilities\":{\"max_msg_fds\":8," \
	"\"max_dma_maps\":65535}}"

/* A DMA_MAP over the server's max_dma_maps: said, not kept, and no DMA or
 * unmap verdicts until an unmap-all. */
static void
test_dma_limit(void)
{
	struct sx x, y;
	char *text, why[160];
	unsigned k;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON_MAPS, 2, SJSON_MAPS(2), 0);
	dma_map(&x, 1, 0x10000, 0x1000, 0);
	dma_map(&x, 2, 0x20000, 0x1000, 0);
	expect_none(&x, "dma limit: two windows of max_dma_maps 2");
	dma_map(&x, 3, 0x30000, 0x1000, 0);
	expect(&x, VX_FIND_DMA_MAPS_OVER_LIMIT, 1, "dma limit: a third");
	ok(strcmp(text_of(&x.r, VX_FIND_DMA_MAPS_OVER_LIMIT),
	    "[0x30000, +0x1000) with 2 mapped, max_dma_maps 2") == 0 &&
	    x.r.findings[0].severity == VX_SEV_ERROR,
	    "dma limit: an error naming the window and the limit: %s",
	    text_of(&x.r, VX_FIND_DMA_MAPS_OVER_LIMIT));
	dma_read(&x, MAIN, 1, 0x30000, 4);
	expect_not(&x, VX_FIND_DMA_OUTSIDE, "dma limit: a read in the window not kept");
	dma_unmap(&x, 4, 0, 0x30000, 0x1000);
	expect_none(&x, "dma limit: its unmap");
	dma_unmap(&x, 5, 0, 0x20000, 0x1000);
	expect_none(&x, "dma limit: unmap a kept one");
	dma_map(&x, 6, 0x20000, 0x1000, 0);
	expect_none(&x, "dma limit: room for one again");
	text = vx_session_save(x.s);
	start(&y, VX_PEER_AUTO);
	ok(text != NULL && strstr(text, "\"windows_lost\":true") != NULL &&
	    vx_session_load(y.s, text, strlen(text), why, sizeof(why)) == 0,
	    "dma limit: the state keeps windows_lost (%s)", why);
	dma_read(&y, MAIN, 2, 0x50000, 4);
	expect_not(&y, VX_FIND_DMA_OUTSIDE, "dma limit: no verdicts after the load either");
	dma_map(&y, 7, 0x40000, 0x1000, 0);
	expect(&y, VX_FIND_DMA_MAPS_OVER_LIMIT, 1, "dma limit: the limit after the load");
	free(text);
	stop(&y);
	dma_unmap(&x, 7, VX_DMA_UNMAP_ALL, 0, 0);
	dma_read(&x, MAIN, 3, 0x10000, 4);
	expect(&x, VX_FIND_DMA_OUTSIDE, 1, "dma limit: verdicts again after unmap-all");
	stop(&x);

	/* a server's max_dma_maps above what vfuctl tracks: it says so */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON_MAPS, 2, SJSON_MAPS(1000000), 0);
	for (k = 0; k < 65536 && x.r.nfindings == 0; k++)
		dma_map(&x, (uint16_t)k, (uint64_t)k << 12, 0x1000, 0);
	ok(k == 65536, "dma limit: 65536 windows kept (%u)", k);
	dma_map(&x, 1, (uint64_t)k << 12, 0x1000, 0);
	expect(&x, VX_FIND_DMA_MAPS_OVER_LIMIT, 0, "dma limit: the 65537th");
	ok(strstr(text_of(&x.r, VX_FIND_DMA_MAPS_OVER_LIMIT),
	    "max_dma_maps 1000000 (vfuctl tracks 65536)") != NULL,
	    "dma limit: says vfuctl's own bound: %s",
	    text_of(&x.r, VX_FIND_DMA_MAPS_OVER_LIMIT));
	stop(&x);

	/* the spec's default without max_dma_maps in the reply */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	for (k = 0; k < 65535 && x.r.nfindings == 0; k++)
		dma_map(&x, (uint16_t)k, (uint64_t)k << 12, 0x1000, 0);
	dma_map(&x, 1, (uint64_t)k << 12, 0x1000, 0);
	expect(&x, VX_FIND_DMA_MAPS_OVER_LIMIT, 0, "dma limit: the default 65535");
	stop(&x);
}

/* State records: windows saved in address order; overlapping ones refused. */
static void
test_dma_state(void)
{
	static const char head[] = "{\"state\":1,\"peer\":{\"client\":\"auto\","
	    "\"server\":\"auto\"},\"version\":{\"major\":0,\"minor\":2},"
	    "\"begun\":true,";
	struct sx x;
	char *text, why[160], buf[512];
	int n;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	dma_map(&x, 1, 0x30000, 0x1000, 0);
	dma_map(&x, 2, 0x10000, 0x1000, 0);
	dma_map(&x, 3, 0x20000, 0, 0);
	text = vx_session_save(x.s);
	ok(text != NULL && strstr(text, "\"dma\":[{\"addr\":65536,") != NULL &&
	    strstr(text, "},{\"addr\":131072,\"size\":0,") != NULL &&
	    strstr(text, "},{\"addr\":196608,") != NULL,
	    "dma state: windows saved in address order: %s", text);
	free(text);
	n = snprintf(buf, sizeof(buf), "%s\"dma\":[{\"addr\":4096,\"size\":8192,"
	    "\"flags\":3},{\"addr\":8192,\"size\":1,\"flags\":3}]}", head);
	ok(vx_session_load(x.s, buf, (size_t)n, why, sizeof(why)) ==
	    VX_ERR_INVALID && strstr(why, "dma") != NULL,
	    "dma state: overlapping windows refused: %s", why);
	n = snprintf(buf, sizeof(buf), "%s\"dma\":[{\"addr\":8192,\"size\":1,"
	    "\"flags\":3},{\"addr\":4096,\"size\":4096,\"flags\":3}]}", head);
	ok(vx_session_load(x.s, buf, (size_t)n, why, sizeof(why)) == 0,
	    "dma state: adjacent windows loaded (%s)", why);
	dma_read(&x, MAIN, 1, 0x1000, 0x1001);
	expect(&x, VX_FIND_DMA_OUTSIDE, 0, "dma state: a read across two windows");
	dma_read(&x, MAIN, 2, 0x1800, 0x800);
	expect_not(&x, VX_FIND_DMA_OUTSIDE, "dma state: a read in the loaded window");
	stop(&x);
}

static void
test_write_multi(void)
{
	static const char nowm[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, nowm, 0);
	feed(&x, VX_C2S, MAIN, 0, 1, VX_CMD_REGION_WRITE_MULTI, VX_F_NO_REPLY,
	    F(U(WM_COUNT, 1), U(REGION_OFFSET, 0), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4), H(WM_DATA, "0100000000000000")));
	expect(&x, VX_FIND_WRITE_MULTI_NOT_NEGOTIATED, 1,
	    "write_multi: server did not accept write_multiple");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2,
	    "{\"capabilities\":{\"write_multiple\":false}}", 0);
	feed(&x, VX_C2S, MAIN, 0, 1, VX_CMD_REGION_WRITE_MULTI, 0,
	    F(U(WM_COUNT, 1), U(REGION_OFFSET, 0), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4), H(WM_DATA, "0100000000000000")));
	expect(&x, VX_FIND_WRITE_MULTI_NOT_NEGOTIATED, 1,
	    "write_multi: server said write_multiple false");
	stop(&x);

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	feed(&x, VX_C2S, MAIN, 0, 1, VX_CMD_REGION_WRITE_MULTI, 0,
	    F(U(WM_COUNT, 1), U(REGION_OFFSET, 0), U(REGION_INDEX, 0),
	    U(REGION_COUNT, 4), H(WM_DATA, "0100000000000000")));
	expect_none(&x, "write_multi: negotiated");
	feed(&x, VX_S2C, MAIN, 0, 1, VX_CMD_REGION_WRITE_MULTI, R,
	    F(U(WM_COUNT, 1)));
	expect_paired(&x, 3, VX_CMD_REGION_WRITE_MULTI, "write_multi: reply");
	stop(&x);
}

static void
test_reply_argsz(void)
{
	struct sx x;

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	region_info_cmd(&x, 1, 2, 32);
	feed(&x, VX_S2C, MAIN, 0, 1, VX_CMD_DEVICE_GET_REGION_INFO, R,
	    F(U(ARGSZ, 48), U(RINFO_FLAGS, VX_REGION_READ | VX_REGION_CAPS),
	    U(REGION_INDEX, 2), U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x1000),
	    U(RINFO_OFFSET, 0), U(CAP_ID, 2), U(CAP_VERSION, 1),
	    U(CAP_NEXT, 0), U(CAP_TYPE, 1), U(CAP_SUBTYPE, 1)));
	expect(&x, VX_FIND_REPLY_OVER_ARGSZ, 1,
	    "argsz: 48-byte REGION_INFO reply to argsz 32");
	region_info_cmd(&x, 2, 2, 48);
	feed(&x, VX_S2C, MAIN, 0, 2, VX_CMD_DEVICE_GET_REGION_INFO, R,
	    F(U(ARGSZ, 48), U(RINFO_FLAGS, VX_REGION_READ | VX_REGION_CAPS),
	    U(REGION_INDEX, 2), U(RINFO_CAP_OFFSET, 32), U(RINFO_SIZE, 0x1000),
	    U(RINFO_OFFSET, 0), U(CAP_ID, 2), U(CAP_VERSION, 1),
	    U(CAP_NEXT, 0), U(CAP_TYPE, 1), U(CAP_SUBTYPE, 1)));
	expect_none(&x, "argsz: 48-byte REGION_INFO reply to argsz 48");

	feed(&x, VX_C2S, MAIN, 0, 3, VX_CMD_MIG_DATA_READ, 0,
	    F(U(ARGSZ, 12), U(MIGD_SIZE, 4)));
	feed(&x, VX_S2C, MAIN, 0, 3, VX_CMD_MIG_DATA_READ, R,
	    F(U(ARGSZ, 12), U(MIGD_SIZE, 4), H(MIGD_DATA, "01020304"),
	    H(TRAILING, "00000000")));
	expect_none(&x, "argsz: MIG_DATA_READ reply padded past argsz");
	feed(&x, VX_C2S, MAIN, 0, 4, VX_CMD_MIG_DATA_READ, 0,
	    F(U(ARGSZ, 12), U(MIGD_SIZE, 4)));
	feed(&x, VX_S2C, MAIN, 0, 4, VX_CMD_MIG_DATA_READ, R,
	    F(U(ARGSZ, 16), U(MIGD_SIZE, 8), H(MIGD_DATA, "0102030405060708")));
	expect(&x, VX_FIND_REPLY_OVER_ARGSZ, 1,
	    "argsz: 16-byte MIG_DATA_READ reply to argsz 12");
	feed(&x, VX_C2S, MAIN, 0, 5, VX_CMD_DEVICE_FEATURE, 0,
	    F(U(ARGSZ, 8), U(FEAT_FLAGS, 0x10001)));
	feed(&x, VX_S2C, MAIN, 0, 5, VX_CMD_DEVICE_FEATURE, R,
	    F(U(ARGSZ, 16), U(FEAT_FLAGS, 0x10001), U(MIG_FLAGS, 1)));
	expect(&x, VX_FIND_REPLY_OVER_ARGSZ, 1,
	    "argsz: 16-byte FEATURE reply to argsz 8");
	stop(&x);
}

static void
test_peers(void)
{
	static const char qemu[] = "{\"capabilities\":{\"max_msg_fds\":16,"
	    "\"max_data_xfer_size\":1048576,\"pgsizes\":4096,"
	    "\"max_dma_maps\":65535,\"migration\":{\"pgsize\":4096,"
	    "\"max_bitmap_size\":1048576}}}";
	static const char lvu_server[] = "{ \"capabilities\": { "
	    "\"max_msg_fds\": 8, \"max_data_xfer_size\": 1048576 } }";
	static const char lvu_client[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"max_data_xfer_size\":1048576}}";
	struct sx x;

	start(&x, VX_PEER_AUTO);
	ok(vx_session_peer(x.s, VX_C2S) == VX_PEER_AUTO &&
	    vx_session_peer(x.s, VX_S2C) == VX_PEER_AUTO,
	    "peers: AUTO before VERSION");
	feed(&x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 0), S(VER_JSON, qemu)));
	ok(vx_session_peer(x.s, VX_C2S) == VX_PEER_QEMU,
	    "peers: QEMU's VERSION makes the client side QEMU");
	ok(vx_session_peer(x.s, VX_S2C) == VX_PEER_QEMU,
	    "peers: ... and the server side QEMU (it must use QEMU's forms)");
	ok(strcmp(vx_session_peer_name(x.s, VX_C2S), "qemu") == 0,
	    "peers: client named qemu");
	feed(&x, VX_S2C, MAIN, 0, 0, VX_CMD_VERSION, R,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 0), S(VER_JSON, lvu_server)));
	expect_none(&x, "peers: server reply to QEMU");
	ok(vx_session_peer(x.s, VX_C2S) == VX_PEER_QEMU &&
	    vx_session_peer(x.s, VX_S2C) == VX_PEER_QEMU,
	    "peers: QEMU both ways after the server's reply");
	dma_map(&x, 1, 0x100000, 0x10000, 0);
	dma_read(&x, MAIN, 1, 0x100000, 4);
	ok(x.m.variant == VX_VAR_QEMU && x.m.status == VX_MSG_OK,
	    "peers: server DMA_READ decoded in QEMU's form");
	expect_not(&x, VX_FIND_DMA_OUTSIDE, "peers: QEMU DMA_READ count32");
	feed(&x, VX_C2S, MAIN, 0, 1, VX_CMD_DMA_READ, R,
	    F(U(DMA_ADDR, 0x100000), U(DMA_COUNT32, 4), H(DMA_DATA, "00000001"),
	    U(DMA_PAD, 0)));
	ok(x.m.variant == VX_VAR_QEMU && x.m.status == VX_MSG_OK,
	    "peers: QEMU's DMA_READ reply decoded in QEMU's form");
	expect_paired(&x, 4, VX_CMD_DMA_READ, "peers: QEMU DMA_READ reply");
	expect_none(&x, "peers: QEMU DMA_READ reply");
	feed(&x, VX_C2S, MAIN, 0, 2, VX_CMD_DMA_WRITE, R, nof);
	expect(&x, VX_FIND_REPLY_WITHOUT_COMMAND, 1,
	    "peers: stray QEMU DMA_WRITE reply");
	stop(&x);

	/* libvfio-user's JSON styles */
	start(&x, VX_PEER_AUTO);
	version(&x, 2, lvu_client, 2, lvu_server, 0);
	ok(vx_session_peer(x.s, VX_C2S) == VX_PEER_LVU &&
	    vx_session_peer(x.s, VX_S2C) == VX_PEER_LVU,
	    "peers: libvfio-user client and server recognised");
	stop(&x);

	/* an explicit profile is kept */
	start(&x, VX_PEER_SPEC);
	feed(&x, VX_C2S, MAIN, 0, 0, VX_CMD_VERSION, 0,
	    F(U(VER_MAJOR, 0), U(VER_MINOR, 0), S(VER_JSON, qemu)));
	ok(vx_session_peer(x.s, VX_C2S) == VX_PEER_SPEC &&
	    vx_session_peer(x.s, VX_S2C) == VX_PEER_SPEC,
	    "peers: explicit spec profile not overridden by QEMU's VERSION");
	stop(&x);
}

static void
test_bad_messages(void)
{
	static const uint8_t bad[] = {	/* DMA_MAP of 8 bytes */
		1, 0, 2, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		32, 0, 0, 0, 3, 0, 0, 0
	};
	static const uint8_t unk[] = {	/* command 99 */
		2, 0, 99, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	struct sx x;
	struct vx_dctx ctx;
	struct vx_finding f[2];

	start(&x, VX_PEER_AUTO);
	version(&x, 2, CJSON, 2, SJSON, 0);
	memset(&ctx, 0, sizeof(ctx));
	vx_decode(&x.d, bad, sizeof(bad), &ctx, &x.m);
	x.rc = vx_session_feed(x.s, &x.m, 10, 10000, &x.r);
	expect(&x, VX_FIND_MALFORMED, 1, "bad: malformed DMA_MAP");
	ok(x.r.findings[0].severity == VX_SEV_ERROR &&
	    strstr(x.r.findings[0].text, "truncated") != NULL,
	    "bad: MALFORMED is an error naming the decode error");
	vx_decode(&x.d, unk, sizeof(unk), &ctx, &x.m);
	x.rc = vx_session_feed(x.s, &x.m, 11, 11000, &x.r);
	expect(&x, VX_FIND_UNKNOWN_COMMAND, 1, "bad: command 99");
	vx_decode(&x.d, unk, 7, &ctx, &x.m);
	x.rc = vx_session_feed(x.s, &x.m, 12, 12000, &x.r);
	expect(&x, VX_FIND_MALFORMED, 1, "bad: 7-byte message");
	ok(vx_session_finish(x.s, f, 2) == 2,
	    "bad: malformed and unknown commands still wait for replies");
	stop(&x);
}

static void
test_finding_table(void)
{
	unsigned i, bad = 0;

	for (i = 0; i < VX_FIND_COUNT; i++)
		if (vx_finding_key(i) == NULL || vx_finding_text(i) == NULL ||
		    vx_finding_severity(i) < VX_SEV_NOTE ||
		    vx_finding_severity(i) > VX_SEV_ERROR)
			bad++;
	ok(bad == 0 && strcmp(vx_finding_key(VX_FIND_DMA_OUTSIDE),
	    "DMA_OUTSIDE") == 0 &&
	    strcmp(vx_finding_key(VX_FIND_COUNT), "UNKNOWN") == 0,
	    "findings: every code has a key, text and severity");
}

int
main(void)
{
	test_finding_table();
	test_clean_session();
	test_pairing();
	test_negotiation();
	test_mid_session();
	test_saved_state();
	test_twin();
	test_fds();
	test_xfer();
	test_regions();
	test_irqs();
	test_dma();
	test_dma_edges();
	test_dma_limit();
	test_dma_state();
	test_write_multi();
	test_reply_argsz();
	test_peers();
	test_bad_messages();
	return unit_done();
}
