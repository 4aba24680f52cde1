/*
 * test-filter.c - display filters: every operator and keyword, precedence,
 * each field kind, any-item semantics over REGION_WRITE_MULTI entries,
 * pseudo-fields from the message and the context, dissect's shortcuts,
 * error messages with their caret columns, and a microbenchmark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx-error.h"
#include "vx-filter.h"
#include "vx-trace.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "unit.h"

/* Messages under test; each owns its builder or decoder. */
static struct vx_builder b_write, b_err, b_irq, b_mig, b_ver, b_wm, b_short;
static struct vx_decoder d_wm, d_short, d_tiny;
static struct vx_msg m_write, m_err, m_irq, m_mig, m_ver, m_wm, m_short,
    m_tiny;

static void
build_all(void)
{
	static const uint8_t data[4] = { 0x1f, 0x00, 0x00, 0x00 };
	static const char json[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	static const uint8_t wdata[3][8] = {
		{ 0xaa, 0xbb, 0, 0, 0, 0, 0, 0 },
		{ 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0 },
		{ 0xcc, 0, 0, 0, 0, 0, 0, 0 },
	};
	static const uint64_t woff[3] = { 0x0, 0x8, 0x100 };
	static const uint64_t wcount[3] = { 2, 4, 1 };
	struct vx_dctx dctx = { 0 };
	unsigned i;

	/* REGION_WRITE bar2+0x10, 4 bytes, client to server */
	vx_builder_init(&b_write);
	vx_build_header(&b_write, 7, VX_CMD_REGION_WRITE, 0, 0);
	vx_build_uint(&b_write, VXF_REGION_OFFSET, 0x10);
	vx_build_uint(&b_write, VXF_REGION_INDEX, 2);
	vx_build_uint(&b_write, VXF_REGION_COUNT, 4);
	vx_build_bytes(&b_write, VXF_REGION_DATA, data, sizeof(data));
	vx_build_finish(&b_write, &m_write);
	m_write.dir = VX_C2S;

	/* REGION_READ error reply, EINVAL, server to client on the twin */
	vx_builder_init(&b_err);
	vx_build_header(&b_err, 8, VX_CMD_REGION_READ,
	    VX_F_TYPE_REPLY | VX_F_ERROR, EINVAL);
	vx_build_finish(&b_err, &m_err);
	m_err.dir = VX_S2C;
	m_err.chan = VX_CHAN_TWIN;

	/* DEVICE_SET_IRQS MSI-X, no_reply */
	vx_builder_init(&b_irq);
	vx_build_header(&b_irq, 9, VX_CMD_DEVICE_SET_IRQS, VX_F_NO_REPLY, 0);
	vx_build_uint(&b_irq, VXF_ARGSZ, 20);
	vx_build_uint(&b_irq, VXF_IRQ_SET_FLAGS,
	    VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER);
	vx_build_uint(&b_irq, VXF_IRQ_INDEX, VX_IRQ_MSIX);
	vx_build_uint(&b_irq, VXF_IRQ_START, 0);
	vx_build_uint(&b_irq, VXF_IRQ_COUNT, 1);
	vx_build_finish(&b_irq, &m_irq);

	/* DEVICE_FEATURE set MIG_DEVICE_STATE RUNNING */
	vx_builder_init(&b_mig);
	vx_build_header(&b_mig, 10, VX_CMD_DEVICE_FEATURE, 0, 0);
	vx_build_uint(&b_mig, VXF_ARGSZ, 16);
	vx_build_uint(&b_mig, VXF_FEAT_FLAGS,
	    VX_FEAT_MIG_DEVICE_STATE | VX_FEATURE_SET);
	vx_build_uint(&b_mig, VXF_FEAT_ID, VX_FEAT_MIG_DEVICE_STATE);
	vx_build_uint(&b_mig, VXF_MIG_STATE, VX_MIG_RUNNING);
	vx_build_uint(&b_mig, VXF_MIG_DATA_FD, 0);
	vx_build_finish(&b_mig, &m_mig);

	/* VERSION with JSON text and a virtual bool */
	vx_builder_init(&b_ver);
	vx_build_header(&b_ver, 0, VX_CMD_VERSION, 0, 0);
	vx_build_uint(&b_ver, VXF_VER_MAJOR, 0);
	vx_build_uint(&b_ver, VXF_VER_MINOR, 1);
	vx_build_bytes(&b_ver, VXF_VER_JSON, json, sizeof(json));
	vx_build_uint(&b_ver, VXF_CAP_WRITE_MULTI, 1);
	vx_build_uint(&b_ver, VXF_CAP_TWIN, 0);
	vx_build_finish(&b_ver, &m_ver);

	/* REGION_WRITE_MULTI with three writes, decoded for real groups */
	vx_builder_init(&b_wm);
	vx_build_header(&b_wm, 11, VX_CMD_REGION_WRITE_MULTI, 0, 0);
	vx_build_uint(&b_wm, VXF_WM_COUNT, 3);
	for (i = 0; i < 3; i++) {
		vx_build_uint(&b_wm, VXF_REGION_OFFSET, woff[i]);
		vx_build_uint(&b_wm, VXF_REGION_INDEX, 2);
		vx_build_uint(&b_wm, VXF_REGION_COUNT, wcount[i]);
		vx_build_bytes(&b_wm, VXF_WM_DATA, wdata[i], 8);
	}
	vx_build_finish(&b_wm, &m_wm);
	vx_decoder_init(&d_wm);
	if (vx_decode(&d_wm, b_wm.buf, b_wm.len, &dctx, &m_wm) != 0 ||
	    m_wm.status != VX_MSG_OK)
		diag("REGION_WRITE_MULTI did not decode: %s", m_wm.err.text);

	/* a REGION_READ cut short: malformed */
	vx_builder_init(&b_short);
	vx_build_header(&b_short, 12, VX_CMD_REGION_READ, 0, 0);
	vx_build_uint(&b_short, VXF_REGION_OFFSET, 0);
	vx_build_finish(&b_short, &m_short);
	vx_decoder_init(&d_short);
	vx_decode(&d_short, b_short.buf, b_short.len, &dctx, &m_short);

	/* ten bytes: not even a header */
	vx_decoder_init(&d_tiny);
	vx_decode(&d_tiny, b_short.buf, 10, &dctx, &m_tiny);
}

static void
release_all(void)
{
	vx_builder_release(&b_write);
	vx_builder_release(&b_err);
	vx_builder_release(&b_irq);
	vx_builder_release(&b_mig);
	vx_builder_release(&b_ver);
	vx_builder_release(&b_wm);
	vx_builder_release(&b_short);
	vx_decoder_release(&d_wm);
	vx_decoder_release(&d_short);
	vx_decoder_release(&d_tiny);
}

/* s on one line, for a TAP test name */
static const char *
oneline(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < cap - 1; i++)
		buf[i] = s[i] == '\n' || s[i] == '\t' ? ' ' : s[i];
	buf[i] = '\0';
	return buf;
}

/* -1 if expr does not compile (the error goes to diag) */
static int
run(const char *expr, const struct vx_msg *m, const struct vx_filter_ctx *ctx)
{
	char err[512];
	struct vx_filter *f;
	int r;

	if (vx_filter_compile(expr, err, sizeof(err), &f) < 0) {
		diag("%s", err);
		return -1;
	}
	r = vx_filter_match(f, m, ctx);
	vx_filter_free(f);
	return r;
}

#define YES(m, e)	ok(run(e, &(m), NULL) == 1, "%s: %s", #m, e)
#define NO(m, e)	ok(run(e, &(m), NULL) == 0, "%s: not %s", #m, e)

static void
test_operators(void)
{
	/* == and its spellings, on an enum by name and by number */
	YES(m_write, "vfio_user.cmd == REGION_WRITE");
	YES(m_write, "vfio_user.cmd == region_write");
	YES(m_write, "vfio_user.cmd == 10");
	YES(m_write, "vfio_user.cmd == 0xa");
	YES(m_write, "vfio_user.cmd eq REGION_WRITE");
	YES(m_write, "vfio_user.cmd any_eq REGION_WRITE");
	YES(m_write, "vfio_user.cmd == \"REGION_WRITE\"");
	NO(m_write, "vfio_user.cmd == REGION_READ");
	/* != and its spellings */
	YES(m_write, "vfio_user.cmd != REGION_READ");
	YES(m_write, "vfio_user.cmd ne REGION_READ");
	YES(m_write, "vfio_user.cmd all_ne REGION_READ");
	NO(m_write, "vfio_user.cmd != REGION_WRITE");
	/* ordering, both spellings */
	YES(m_write, "vfio_user.cmd < 11");
	NO(m_write, "vfio_user.cmd < 10");
	YES(m_write, "vfio_user.cmd lt 11");
	YES(m_write, "vfio_user.cmd <= 10");
	YES(m_write, "vfio_user.cmd le 10");
	NO(m_write, "vfio_user.cmd <= 9");
	YES(m_write, "vfio_user.cmd > REGION_READ");
	YES(m_write, "vfio_user.cmd gt 9");
	NO(m_write, "vfio_user.cmd > 10");
	YES(m_write, "vfio_user.cmd >= 10");
	YES(m_write, "vfio_user.cmd ge 10");
	NO(m_write, "vfio_user.cmd >= 11");
	/* uint and hex */
	YES(m_write, "vfio_user.region.count == 4");
	YES(m_write, "vfio_user.region.offset == 0x10");
	YES(m_write, "vfio_user.region.offset == 16");
	YES(m_write, "vfio_user.region.offset > 0xf");
	YES(m_write, "vfio_user.size == 36");
	YES(m_write, "vfio_user.msg_id == 7");
	/* bitwise and */
	YES(m_write, "vfio_user.region.offset & 0x10");
	YES(m_write, "vfio_user.region.offset bitand 0x30");
	NO(m_write, "vfio_user.region.offset & 0x0f");
	/* enum names of each table */
	YES(m_write, "vfio_user.region.index == bar2");
	YES(m_write, "vfio_user.region.index == BAR2");
	NO(m_write, "vfio_user.region.index == config");
	YES(m_irq, "vfio_user.irq.index == MSI-X");
	YES(m_irq, "vfio_user.irq.index == msi-x");
	NO(m_irq, "vfio_user.irq.index == MSI");
	YES(m_err, "vfio_user.error == EINVAL");
	YES(m_err, "vfio_user.error == 22");
	NO(m_err, "vfio_user.error == EIO");
	YES(m_mig, "vfio_user.mig_state.device_state == RUNNING");
	YES(m_mig, "vfio_user.feature.id == MIG_DEVICE_STATE");
	NO(m_mig, "vfio_user.mig_state.device_state == STOP");
	/* flags: exact value, names, bit tests */
	YES(m_err, "vfio_user.flags == 0x21");
	YES(m_err, "vfio_user.flags & error");
	YES(m_err, "vfio_user.flags & 0x20");
	YES(m_err, "vfio_user.flags & reply");
	NO(m_err, "vfio_user.flags & no_reply");
	YES(m_irq, "vfio_user.flags == no_reply");
	YES(m_irq, "vfio_user.irq_set.flags & action_trigger");
	NO(m_irq, "vfio_user.irq_set.flags & action_mask");
	/* booleans */
	YES(m_ver, "vfio_user.version.write_multiple == true");
	YES(m_ver, "vfio_user.version.write_multiple == 1");
	YES(m_ver, "vfio_user.version.write_multiple != false");
	NO(m_ver, "vfio_user.version.write_multiple == false");
	YES(m_ver, "vfio_user.version.twin_socket.supported == FALSE");
	YES(m_ver, "vfio_user.version.twin_socket.supported");
	/* bytes: ==, contains, the byte spellings, strings */
	YES(m_write, "vfio_user.region.data == 1f:00:00:00");
	YES(m_write, "vfio_user.region.data == 1f-00-00-00");
	YES(m_write, "vfio_user.region.data == 1f.00.00.00");
	YES(m_write, "vfio_user.region.data == 1F000000");
	YES(m_write, "vfio_user.region.data == \"\\x1f\\0\\0\\0\"");
	NO(m_write, "vfio_user.region.data == 1f:00:00");
	YES(m_write, "vfio_user.region.data != 1f:00:00");
	YES(m_write, "vfio_user.region.data contains 1f");
	YES(m_write, "vfio_user.region.data contains 00:00:00");
	NO(m_write, "vfio_user.region.data contains 00:1f");
	YES(m_write, "vfio_user.region.data contains \"\"");
	/* text */
	YES(m_ver, "vfio_user.version.json contains \"max_msg_fds\"");
	NO(m_ver, "vfio_user.version.json contains \"twin_socket\"");
	YES(m_ver, "vfio_user.version.json == "
	    "\"{\\\"capabilities\\\":{\\\"max_msg_fds\\\":8}}\"");
	YES(m_ver, "vfio_user.version.json != \"{}\"");
	/* bare fields test presence; groups only that */
	YES(m_write, "vfio_user.region.data");
	NO(m_write, "vfio_user.dma.address");
	YES(m_wm, "vfio_user.write_multi.write");
	NO(m_write, "vfio_user.write_multi.write");
	/* an absent field fails every comparison, != too */
	NO(m_write, "vfio_user.irq.index != MSI");
	NO(m_write, "vfio_user.irq.index == MSI");
	YES(m_write, "!(vfio_user.irq.index == MSI)");
	/* sets */
	YES(m_write, "vfio_user.cmd in {REGION_READ REGION_WRITE}");
	YES(m_write, "vfio_user.cmd in {REGION_READ, 10}");
	NO(m_write, "vfio_user.cmd in {VERSION, DMA_MAP}");
	YES(m_write, "vfio_user.cmd in {1..3, REGION_READ..REGION_WRITE}");
	NO(m_write, "vfio_user.cmd in {1..9}");
	YES(m_write, "vfio_user.region.data in {00 1f:00:00:00}");
	YES(m_ver, "vfio_user.version.json in {\"x\" "
	    "\"{\\\"capabilities\\\":{\\\"max_msg_fds\\\":8}}\"}");
}

static void
test_header_fast_path(void)
{
	/* header fields are looked up in place; same answers as a scan */
	YES(m_wm, "vfio_user.cmd == REGION_WRITE_MULTI");
	NO(m_wm, "vfio_user.cmd == REGION_WRITE");
	YES(m_wm, "vfio_user.cmd != REGION_WRITE");
	NO(m_wm, "vfio_user.cmd != REGION_WRITE_MULTI");
	YES(m_wm, "vfio_user.cmd === REGION_WRITE_MULTI");
	NO(m_wm, "vfio_user.cmd === REGION_WRITE");
	YES(m_wm, "vfio_user.cmd !== REGION_WRITE");
	NO(m_wm, "vfio_user.cmd !== REGION_WRITE_MULTI");
	YES(m_wm, "vfio_user.msg_id == 11 && vfio_user.size == 96 && "
	    "vfio_user.flags == 0 && vfio_user.error == 0");
	/* ten bytes hold msg_id, cmd and size, not flags and error */
	YES(m_tiny, "vfio_user.msg_id == 12 && vfio_user.cmd == REGION_READ");
	NO(m_tiny, "vfio_user.flags");
	NO(m_tiny, "vfio_user.flags != 1");
	NO(m_tiny, "vfio_user.flags === 0");
	NO(m_tiny, "vfio_user.flags !== 1");
	NO(m_tiny, "vfio_user.error == 0");
}

static void
test_any_item(void)
{
	/* three writes: offsets 0x0 0x8 0x100, all bar2, counts 2 4 1 */
	YES(m_wm, "vfio_user.cmd == REGION_WRITE_MULTI");
	YES(m_wm, "vfio_user.write_multi.wr_cnt == 3");
	YES(m_wm, "vfio_user.region.offset == 0x8");
	YES(m_wm, "vfio_user.region.offset == 0x100");
	NO(m_wm, "vfio_user.region.offset == 0x9");
	/* != is "no item equals" ... */
	NO(m_wm, "vfio_user.region.offset != 0x8");
	YES(m_wm, "vfio_user.region.offset != 0x9");
	/* ... !== and ~= "some item differs" ... */
	YES(m_wm, "vfio_user.region.offset !== 0x8");
	YES(m_wm, "vfio_user.region.offset ~= 0x8");
	YES(m_wm, "vfio_user.region.offset any_ne 0x8");
	NO(m_wm, "vfio_user.region.index !== bar2");
	/* ... and === "every item equals" */
	YES(m_wm, "vfio_user.region.index === bar2");
	YES(m_wm, "vfio_user.region.index all_eq bar2");
	NO(m_wm, "vfio_user.region.offset === 0x8");
	NO(m_write, "vfio_user.irq.index === MSI");
	/* ordering over items */
	YES(m_wm, "vfio_user.region.offset > 0xff");
	YES(m_wm, "vfio_user.region.offset < 1");
	NO(m_wm, "vfio_user.region.offset > 0x100");
	YES(m_wm, "vfio_user.region.count >= 4 && vfio_user.region.count <= 1");
	/* a contradiction for one item holds across items, as in Wireshark */
	YES(m_wm, "vfio_user.region.offset == 0 && vfio_user.region.offset == 8");
	NO(m_wm, "vfio_user.region.offset == 0x8 && vfio_user.region.offset != 0x8");
	YES(m_wm, "vfio_user.write_multi.data contains aa:bb");
	YES(m_wm, "vfio_user.write_multi.data contains 01:02:03:04");
	NO(m_wm, "vfio_user.write_multi.data contains aa:cc");
	YES(m_wm, "vfio_user.region.offset in {0x100 0x200}");
	YES(m_wm, "vfio_user.region.offset in {1..8}");
	NO(m_wm, "vfio_user.region.offset in {1..7}");
	YES(m_wm, "vfio_user.region.offset & 0x100");
}

static void
test_logic(void)
{
	static const struct {
		const char *in, *out;
	} dumps[] = {
		{ "vfio_user.cmd == 9 || vfio_user.cmd == 10 && vfio_user.dir == s2c",
		  "(vfio_user.cmd == REGION_READ || (vfio_user.cmd == REGION_WRITE && vfio_user.dir == s2c))" },
		{ "vfio_user.cmd == 9 && vfio_user.cmd == 10 || vfio_user.dir == s2c",
		  "((vfio_user.cmd == REGION_READ && vfio_user.cmd == REGION_WRITE) || vfio_user.dir == s2c)" },
		{ "!vfio_user.no_reply && vfio_user.dir == c2s",
		  "(!vfio_user.no_reply && vfio_user.dir == c2s)" },
		{ "!(vfio_user.no_reply || vfio_user.dir == c2s)",
		  "!(vfio_user.no_reply || vfio_user.dir == c2s)" },
		{ "not vfio_user.no_reply and vfio_user.cmd eq 9 or vfio_user.size gt 16",
		  "((!vfio_user.no_reply && vfio_user.cmd == REGION_READ) || vfio_user.size > 16)" },
		{ "NOT vfio_user.no_reply AND vfio_user.frame OR vfio_user.conn",
		  "((!vfio_user.no_reply && vfio_user.frame) || vfio_user.conn)" },
		{ "vfio_user.size>=16&&vfio_user.size<=20||!!vfio_user",
		  "((vfio_user.size >= 16 && vfio_user.size <= 20) || !!vfio_user)" },
		{ "", "" },
		{ "  \t\n", "" },
		{ "vfio_user.region.data contains \"a\\\"b\\n\" && vfio_user.region.data == 0a:0B",
		  "(vfio_user.region.data contains 61:22:62:0a && vfio_user.region.data == 0a:0b)" },
		{ "vfio_user.version.json contains \"a\\\"b\\n\\\\\" || vfio_user.region.data == \"\"",
		  "(vfio_user.version.json contains \"a\\\"b\\x0a\\\\\" || vfio_user.region.data == \"\")" },
		{ "vfio_user.cmd in {1, 9..10} && vfio_user.flags & error",
		  "((vfio_user.cmd == VERSION || vfio_user.cmd in {REGION_READ..REGION_WRITE}) && vfio_user.flags & 0x20)" },
		{ "((vfio_user.dir == c2s))", "vfio_user.dir == c2s" },
		{ "vfio_user.dir == 1", "vfio_user.dir == s2c" },
		{ "vfio_user.region.offset === 4 || vfio_user.region.offset !== 5 || vfio_user.region.offset ~= 6",
		  "(vfio_user.region.offset === 0x4 || vfio_user.region.offset !== 0x5 || vfio_user.region.offset !== 0x6)" },
	};
	char err[512], buf[512], again[512], name[200];
	struct vx_filter *f, *g;
	size_t i, n;

	for (i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		vx_filter_compile(dumps[i].in, err, sizeof(err), &f);
		if (!ok(f != NULL, "compiles: %s",
		    oneline(dumps[i].in, name, sizeof(name)))) {
			diag("%s", err);
			continue;
		}
		n = vx_filter_dump(f, buf, sizeof(buf));
		ok(strcmp(buf, dumps[i].out) == 0 && n == strlen(buf),
		    "dump: %s", buf);
		/* the dump is itself a filter that dumps the same */
		vx_filter_compile(buf, err, sizeof(err), &g);
		vx_filter_dump(g, again, sizeof(again));
		ok(g != NULL && strcmp(buf, again) == 0, "dump round trip: %s",
		    again);
		vx_filter_free(g);
		vx_filter_free(f);
	}

	/* precedence decides these */
	YES(m_write, "vfio_user.cmd == REGION_READ && vfio_user.dir == s2c || "
	    "vfio_user.cmd == REGION_WRITE");
	NO(m_write, "vfio_user.cmd == REGION_READ && (vfio_user.dir == s2c || "
	    "vfio_user.cmd == REGION_WRITE)");
	YES(m_write, "vfio_user.cmd == REGION_WRITE || vfio_user.cmd == 1 && "
	    "vfio_user.dir == s2c");
	NO(m_write, "(vfio_user.cmd == REGION_WRITE || vfio_user.cmd == 1) && "
	    "vfio_user.dir == s2c");
	YES(m_write, "!vfio_user.cmd == REGION_READ || vfio_user.dir == c2s");
	NO(m_write, "!(vfio_user.cmd == REGION_WRITE || vfio_user.dir == s2c)");
	YES(m_write, "!!vfio_user.region.data");
	YES(m_write, "not not not vfio_user.dma.data");
	NO(m_write, "!vfio_user");
	YES(m_write, "((((vfio_user.cmd == 10))))");
	/* long chains are matched in a loop */
	{
		char *big = malloc(40 * 1000 + 64);
		size_t k, at = 0;

		for (k = 0; k < 1000; k++)
			at += (size_t)sprintf(big + at, "%svfio_user.size != %zu",
			    k ? " && " : "", k + 100);
		ok(run(big, &m_write, NULL) == 1, "1000-term && chain");
		at = 0;
		for (k = 0; k < 1000; k++)
			at += (size_t)sprintf(big + at, "%svfio_user.size == %zu",
			    k ? " || " : "", 1000 - k);
		ok(run(big, &m_write, NULL) == 1, "1000-term || chain");
		free(big);
	}
	/* a NULL filter matches everything */
	ok(vx_filter_match(NULL, &m_write, NULL) == 1, "NULL filter matches");
	vx_filter_compile("", err, sizeof(err), &f);
	ok(f != NULL && vx_filter_match(f, &m_short, NULL) == 1,
	    "empty filter matches all");
	vx_filter_free(f);
	vx_filter_free(NULL);
}

static void
test_pseudo(void)
{
	static const struct vx_finding findings[2] = {
		{ VX_FIND_MSGID_REUSED, VX_SEV_NOTE, "" },
		{ VX_FIND_REGION_BOUNDS, VX_SEV_ERROR, "" },
	};
	struct vx_filter_ctx ctx;
	struct vx_msg noted;
	const char *desc, *key;
	unsigned i;

	YES(m_write, "vfio_user");
	YES(m_write, "vfio_user.dir == c2s");
	NO(m_write, "vfio_user.dir == s2c");
	YES(m_err, "vfio_user.dir == s2c");
	YES(m_err, "vfio_user.dir == \"S2C\"");
	YES(m_write, "vfio_user.chan == main");
	YES(m_err, "vfio_user.chan == twin");
	YES(m_write, "vfio_user.type == command");
	YES(m_err, "vfio_user.type == reply");
	YES(m_write, "vfio_user.status == ok");
	YES(m_short, "vfio_user.status == malformed");
	NO(m_short, "vfio_user.status == ok");
	YES(m_short, "vfio_user.type == command");
	NO(m_tiny, "vfio_user.type");
	NO(m_tiny, "vfio_user.error_reply || vfio_user.no_reply");
	YES(m_tiny, "vfio_user.status == malformed && vfio_user.undecoded");
	YES(m_err, "vfio_user.error_reply");
	YES(m_err, "vfio_user.error_reply == true");
	NO(m_write, "vfio_user.error_reply");
	YES(m_write, "!vfio_user.error_reply");
	NO(m_write, "vfio_user.error_reply == false");
	YES(m_irq, "vfio_user.no_reply");
	NO(m_write, "vfio_user.no_reply");
	NO(m_write, "vfio_user.variant");

	/* notes and the variant come with the message */
	noted = m_err;
	noted.nnotes = 2;
	noted.notes[0].code = VX_NOTE_VARIANT_LVU;
	noted.notes[1].code = VX_NOTE_ERROR_BODY;
	noted.variant = VX_VAR_LVU;
	YES(noted, "vfio_user.note == ERROR_BODY");
	YES(noted, "vfio_user.note == variant_lvu");
	NO(noted, "vfio_user.note == ERRNO_ZERO");
	YES(noted, "vfio_user.note != ERRNO_ZERO");
	YES(noted, "vfio_user.variant == libvfio-user");
	NO(m_write, "vfio_user.note");

	/* the context's fields, absent without it */
	memset(&ctx, 0, sizeof(ctx));
	ctx.have = VX_FCTX_FRAME | VX_FCTX_CONN | VX_FCTX_LATENCY |
	    VX_FCTX_REQ_FRAME;
	ctx.frame = 42;
	ctx.req_frame = 40;
	ctx.conn = 3;
	ctx.latency_ns = 15000;
	ctx.findings = findings;
	ctx.nfindings = 2;
	ok(run("vfio_user.frame == 42", &m_err, &ctx) == 1, "frame");
	ok(run("vfio_user.request_frame == 40", &m_err, &ctx) == 1,
	    "request_frame");
	ok(run("vfio_user.conn == 3 && vfio_user.conn != 4", &m_err, &ctx) == 1,
	    "conn");
	ok(run("vfio_user.latency_ns > 10000", &m_err, &ctx) == 1, "latency");
	ok(run("vfio_user.latency_ns < 10000", &m_err, &ctx) == 0,
	    "latency, no");
	ok(run("vfio_user.finding == REGION_BOUNDS", &m_err, &ctx) == 1,
	    "finding by key");
	ok(run("vfio_user.finding == region_bounds", &m_err, &ctx) == 1,
	    "finding, any case");
	ok(run("vfio_user.finding == DMA_OUTSIDE", &m_err, &ctx) == 0,
	    "finding not there");
	ok(run("vfio_user.finding.severity == error", &m_err, &ctx) == 1,
	    "some finding is an error");
	ok(run("vfio_user.finding.severity === note", &m_err, &ctx) == 0,
	    "not every finding is a note");
	ok(run("vfio_user.frame || vfio_user.conn || vfio_user.latency_ns || "
	    "vfio_user.finding || vfio_user.request_frame", &m_err, NULL) == 0,
	    "no context, no context fields");
	ctx.have = 0;
	ctx.nfindings = 0;
	ok(run("vfio_user.frame || vfio_user.conn || vfio_user.finding",
	    &m_err, &ctx) == 0, "context fields not set are absent");

	for (i = 0; (key = vx_filter_pseudo(i, &desc)) != NULL; i++) {
		char expr[128];

		snprintf(expr, sizeof(expr), "%s || !%s", key, key);
		if (run(expr, &m_write, NULL) != 1 || desc == NULL)
			break;
	}
	ok(key == NULL && i == 25, "%u pseudo-fields, each a filter", i);
}

/* Events (m NULL) and Wireshark's frame fields. */
static void
test_events_and_frames(void)
{
	struct vx_filter_ctx ev, mc;
	char out[256];
	struct vx_filter *f;

	memset(&ev, 0, sizeof(ev));
	ev.have = VX_FCTX_FRAME | VX_FCTX_CONN | VX_FCTX_EVENT | VX_FCTX_TIME;
	ev.frame = 7;
	ev.conn = 2;
	ev.event = VX_TR_IRQ;
	ev.time_rel_ns = 1500000000;	/* 1.5 s */
	ev.time_delta_ns = 250000;	/* 0.000250 s */
	mc = ev;
	mc.have &= ~VX_FCTX_EVENT;
	ok(run("vfio_user.event == irq", NULL, &ev) == 1, "an event's kind");
	ok(run("vfio_user.event == \"irq\"", NULL, &ev) == 1, "quoted, too");
	ok(run("vfio_user.event == open", NULL, &ev) == 0, "another kind");
	ok(run("vfio_user.event", &m_write, &mc) == 0, "messages have no event");
	ok(run("vfio_user && vfio_user.conn == 2 && frame.number == 7", NULL,
	    &ev) == 1, "an event is vfio_user, with a connection and frame");
	ok(run("vfio_user.cmd", NULL, &ev) == 0 &&
	    run("!vfio_user.cmd", NULL, &ev) == 1 &&
	    run("vfio_user.dir == c2s", NULL, &ev) == 0,
	    "message fields are absent on an event");
	ok(run("frame.time_relative > 1.4 && frame.time_relative < 1.6", NULL,
	    &ev) == 1, "frame.time_relative in seconds");
	ok(run("frame.time_relative == 1.5", NULL, &ev) == 1 &&
	    run("frame.time_relative >= 2", NULL, &ev) == 0, "whole seconds");
	ok(run("frame.time_delta == 0.000250", NULL, &ev) == 1 &&
	    run("frame.time_delta < .00025", NULL, &ev) == 0, "fractions");
	ok(run("frame.time_relative > 0x1", NULL, &ev) == -1 &&
	    run("frame.time_relative > 1.5s", NULL, &ev) == -1 &&
	    run("frame.time_relative > .", NULL, &ev) == -1,
	    "times are decimal seconds");
	ok(run("frame.time_relative > 0.0000000001", NULL, &ev) == 1,
	    "finer than a nanosecond is dropped");
	ok(vx_filter_compile("frame.time_delta > 0.5", NULL, 0, &f) == 0,
	    "compiles");
	vx_filter_dump(f, out, sizeof(out));
	ok(strcmp(out, "frame.time_delta > 0.500000000") == 0,
	    "dumped in seconds: %s", out);
	vx_filter_free(f);
}

/* err's caret column (spaces after the first newline), -1 if none */
static int
caret(const char *err)
{
	const char *nl = strchr(err, '\n');
	int n = 0;

	if (nl == NULL)
		return -1;
	for (nl++; *nl == ' '; nl++)
		n++;
	return *nl == '^' ? n : -1;
}

static void
bad(const char *expr, int col, const char *msg)
{
	char err[512];
	struct vx_filter *f;
	int r = vx_filter_compile(expr, err, sizeof(err), &f);
	const char *nl = strchr(err, '\n');
	const char *got = nl != NULL && caret(err) >= 0 ?
	    nl + 1 + caret(err) + 2 : err;

	char name[128];

	if (!ok(r == VX_ERR_INVALID && f == NULL && caret(err) == col &&
	    strcmp(got, msg) == 0,
	    "error at %d: %s", col, oneline(expr, name, sizeof(name))))
		diag("got: %s", err);
	vx_filter_free(f);
}

static void
test_errors(void)
{
	char err[512], deep[200], tiny[12];
	struct vx_filter *f;
	int i;

	vx_filter_compile("vfio_user.cmd == REGION_WRTE", err, sizeof(err), &f);
	ok(f == NULL && strcmp(err, "vfio_user.cmd == REGION_WRTE\n"
	    "                 ^ unknown value 'REGION_WRTE' for vfio_user.cmd (REGION_WRITE?)") == 0,
	    "the whole message, caret line included");
	if (f != NULL || strchr(err, '^') == NULL)
		diag("got: %s", err);

	/* unbalanced parentheses */
	bad("(vfio_user.cmd == 1", 0, "'(' is never closed");
	bad("vfio_user.dir == c2s && ((vfio_user.cmd == 1)", 24,
	    "'(' is never closed");
	bad("vfio_user.cmd == 1)", 18, "')' without '('");
	bad("(vfio_user.cmd == 1 vfio_user.dir)", 20,
	    "unexpected 'vfio_user.dir': expected ')', '&&' or '||'");
	bad("()", 1, "expected a field, '(' or '!', found ')'");
	/* missing pieces */
	bad("vfio_user.cmd ==", 16, "missing value after '=='");
	bad("vfio_user.cmd == && vfio_user.dir", 17,
	    "missing value after '=='");
	bad("vfio_user.cmd eq)", 16, "missing value after 'eq'");
	bad("vfio_user.dir == c2s &&", 23, "missing expression after '&&'");
	bad("vfio_user.dir == c2s or", 23, "missing expression after 'or'");
	bad("!", 1, "missing expression after '!'");
	bad("== 1", 0, "expected a field, '(' or '!', found '=='");
	bad("&& vfio_user", 0, "expected a field, '(' or '!', found '&&'");
	/* operators */
	bad("vfio_user.cmd = 1", 14, "unknown operator '=' (==?)");
	bad("vfio_user.cmd =< 1", 14, "unknown operator '=<' (<=?)");
	bad("vfio_user.cmd equals 1", 14, "unknown operator 'equals'");
	bad("vfio_user.cmd containz 1", 14,
	    "unknown operator 'containz' (contains?)");
	bad("vfio_user.dir == c2s | vfio_user.no_reply", 21,
	    "unknown operator '|' (||?)");
	bad("vfio_user.cmd contains 1", 14,
	    "'contains' needs a bytes or text field; vfio_user.cmd is enum");
	bad("vfio_user.region.data < 00", 22,
	    "'<' does not apply to bytes field vfio_user.region.data (==, !=, contains)");
	bad("vfio_user.write_multi.write == 1", 28,
	    "vfio_user.write_multi.write is a group: only its presence can be tested");
	bad("vfio_user == 1", 10,
	    "vfio_user is a group: only its presence can be tested");
	/* fields */
	bad("vfio_user.cmdd == 1", 0,
	    "unknown field 'vfio_user.cmdd' (vfio_user.cmd?)");
	bad("vfio_user.dir == c2s && cmd == 1", 24,
	    "unknown field 'cmd' (vfio_user.cmd?)");
	bad("region.ofset == 1", 0,
	    "unknown field 'region.ofset' (vfio_user.region.offset?)");
	bad("frobnicate", 0, "unknown field 'frobnicate'");
	/* values */
	bad("vfio_user.region.index == bar9", 26,
	    "unknown value 'bar9' for vfio_user.region.index (bar0?)");
	bad("vfio_user.irq.index == MSIX", 23,
	    "unknown value 'MSIX' for vfio_user.irq.index (MSI-X?)");
	bad("vfio_user.error == EINVL", 19,
	    "unknown value 'EINVL' for vfio_user.error (EINVAL?)");
	bad("vfio_user.finding == REGION_BOUND", 21,
	    "unknown value 'REGION_BOUND' for vfio_user.finding (REGION_BOUNDS?)");
	bad("vfio_user.cmd == \"REGION_WRTE\"", 17,
	    "unknown value 'REGION_WRTE' for vfio_user.cmd (REGION_WRITE?)");
	bad("vfio_user.cmd == \"\"", 17, "unknown value '' for vfio_user.cmd");
	bad("vfio_user.size == \"\"", 18,
	    "'' is not a number (vfio_user.size is uint: decimal or 0x hex)");
	bad("vfio_user.size == bar2", 18,
	    "'bar2' is not a number (vfio_user.size is uint: decimal or 0x hex)");
	bad("vfio_user.size == 99999999999999999999", 18,
	    "number '99999999999999999999' does not fit 64 bits");
	bad("vfio_user.size == 0x", 18,
	    "'0x' is not a number (vfio_user.size is uint: decimal or 0x hex)");
	bad("vfio_user.version.write_multiple == 2", 36,
	    "vfio_user.version.write_multiple is a bool: true, false, 1 or 0");
	bad("vfio_user.version.write_multiple == yes", 36,
	    "unknown value 'yes' for vfio_user.version.write_multiple");
	bad("vfio_user.region.data contains 0a:0", 31,
	    "'0a:0' is not hex bytes like 0a:0b:0c or a \"quoted string\"");
	bad("vfio_user.region.data == 0a:", 25,
	    "'0a:' is not hex bytes like 0a:0b:0c or a \"quoted string\"");
	bad("vfio_user.region.data == zz", 25,
	    "'zz' is not hex bytes like 0a:0b:0c or a \"quoted string\"");
	bad("vfio_user.version.json == abc", 26,
	    "vfio_user.version.json is text: write a \"quoted string\"");
	bad("vfio_user.version.json contains \"a\\qb\"", 34,
	    "unknown escape '\\q' (\\\\ \\\" \\n \\t \\r \\0 \\xHH)");
	bad("vfio_user.version.json contains \"abc", 32, "unterminated string");
	/* sets */
	bad("vfio_user.cmd in {1 2", 17, "'{' is never closed");
	bad("vfio_user.cmd in {}", 17, "empty set");
	bad("vfio_user.cmd in 1", 17, "expected '{' after 'in', found '1'");
	bad("vfio_user.cmd in {1 ) }", 20, "expected a value or '}', found ')'");
	bad("vfio_user.cmd in {5..1}", 18, "empty range '5..1'");
	bad("vfio_user.cmd in {1..REGION_WRTE}", 21,
	    "unknown value 'REGION_WRTE' for vfio_user.cmd (REGION_WRITE?)");
	bad("vfio_user.cmd in {..2}", 18, "a range is LOW..HIGH");
	/* trailing garbage and stray characters */
	bad("vfio_user.cmd == 1 xyz", 19,
	    "unexpected 'xyz' after the expression (&&, || or the end)");
	bad("vfio_user.cmd == 1 == 2", 19,
	    "unexpected '==' after the expression (&&, || or the end)");
	bad("vfio_user.cmd == 1 #", 19,
	    "unexpected '#' after the expression (&&, || or the end)");
	bad("$x", 0, "expected a field, '(' or '!', found '$'");
	/* tabs and newlines print as spaces so the caret still lines up */
	bad("vfio_user.dir\t==\nc3s", 17,
	    "unknown value 'c3s' for vfio_user.dir (c2s?)");
	vx_filter_compile("vfio_user.dir\t==\nc3s", err, sizeof(err), &f);
	ok(f == NULL && strncmp(err, "vfio_user.dir == c3s\n", 21) == 0,
	    "control characters echoed as spaces");

	/* nesting is bounded */
	for (i = 0; i < 100; i++)
		deep[i] = '(';
	deep[i] = '\0';
	bad(deep, 64, "expression nests deeper than 64");
	for (i = 0; i < 100; i++)
		deep[i] = '!';
	bad(deep, 64, "expression nests deeper than 64");
	memset(deep, '(', 64);
	strcpy(deep + 64, "vfio_user");
	memset(deep + 73, ')', 64);
	deep[137] = '\0';
	vx_filter_compile(deep, err, sizeof(err), &f);
	ok(f != NULL && vx_filter_match(f, &m_write, NULL) == 1,
	    "64 levels of parentheses are fine");
	vx_filter_free(f);

	/* small or no error buffer */
	memset(tiny, 'x', sizeof(tiny));
	vx_filter_compile("vfio_user.cmd ==", tiny, sizeof(tiny), &f);
	ok(f == NULL && strlen(tiny) == sizeof(tiny) - 1 &&
	    strncmp(tiny, "vfio_user.c", 11) == 0, "error cut to errlen");
	ok(vx_filter_compile("vfio_user.cmd ==", NULL, 0, &f) ==
	    VX_ERR_INVALID && f == NULL, "error without a buffer");
	ok(vx_filter_compile("(", tiny, 1, &f) == VX_ERR_INVALID &&
	    f == NULL && tiny[0] == '\0', "errlen 1");
}

static void
test_opts(void)
{
	struct vx_filter_opts o;
	struct vx_filter_ctx ctx;
	struct vx_finding fd = { VX_FIND_REGION_BOUNDS, VX_SEV_ERROR, "" };
	struct vx_filter *f;
	char err[512], buf[512];

	memset(&o, 0, sizeof(o));
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f != NULL && vx_filter_match(f, &m_write, NULL) == 1,
	    "no options: everything");
	vx_filter_free(f);
	vx_filter_compile_opts(NULL, NULL, 0, &f);
	ok(f != NULL && vx_filter_match(f, &m_short, NULL) == 1,
	    "NULL options: everything");
	vx_filter_free(f);
	vx_filter_compile(NULL, NULL, 0, &f);
	ok(f != NULL && vx_filter_match(f, &m_short, NULL) == 1,
	    "NULL expression: everything");
	vx_filter_free(f);

	o.cmd = "REGION_READ,region_write,15";
	o.dir = "c2s";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	vx_filter_dump(f, buf, sizeof(buf));
	ok(f != NULL && strcmp(buf, "((vfio_user.cmd == REGION_READ || "
	    "vfio_user.cmd == REGION_WRITE || vfio_user.cmd == REGION_WRITE_MULTI)"
	    " && vfio_user.dir == c2s)") == 0, "--cmd list --dir: %s", buf);
	ok(vx_filter_match(f, &m_write, NULL) == 1 &&
	    vx_filter_match(f, &m_wm, NULL) == 1 &&
	    vx_filter_match(f, &m_err, NULL) == 0 &&
	    vx_filter_match(f, &m_irq, NULL) == 0, "--cmd --dir match");
	vx_filter_free(f);

	memset(&o, 0, sizeof(o));
	o.conn_set = 1;
	o.conn = 0;
	o.expr = "vfio_user.cmd == REGION_READ";
	memset(&ctx, 0, sizeof(ctx));
	ctx.have = VX_FCTX_CONN;
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f != NULL && vx_filter_match(f, &m_err, &ctx) == 1 &&
	    vx_filter_match(f, &m_err, NULL) == 0 &&
	    vx_filter_match(f, &m_write, &ctx) == 0, "--conn 0 and -Y");
	vx_filter_free(f);

	memset(&o, 0, sizeof(o));
	o.errors = 1;
	o.expr = "  ";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	vx_filter_dump(f, buf, sizeof(buf));
	ok(f != NULL && strcmp(buf, "(vfio_user.status != ok || "
	    "vfio_user.error_reply || vfio_user.finding.severity == error)") == 0,
	    "--errors: %s", buf);
	memset(&ctx, 0, sizeof(ctx));
	ok(vx_filter_match(f, &m_short, NULL) == 1 &&
	    vx_filter_match(f, &m_err, NULL) == 1 &&
	    vx_filter_match(f, &m_write, NULL) == 0 &&
	    vx_filter_match(f, &m_write, &ctx) == 0, "--errors match");
	ctx.findings = &fd;
	ctx.nfindings = 1;
	ok(vx_filter_match(f, &m_write, &ctx) == 1, "--errors: error finding");
	fd.severity = VX_SEV_WARN;
	ok(vx_filter_match(f, &m_write, &ctx) == 0, "--errors: not a warning");
	vx_filter_free(f);

	memset(&o, 0, sizeof(o));
	o.cmd = "REGION_READ,REGION_WRTE";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f == NULL && strcmp(err,
	    "--cmd: unknown command 'REGION_WRTE' (REGION_WRITE?)") == 0,
	    "--cmd error: %s", err);
	o.cmd = "9,";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f == NULL && strcmp(err, "--cmd: unknown command ''") == 0,
	    "--cmd empty name: %s", err);
	memset(&o, 0, sizeof(o));
	o.dir = "up";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f == NULL && strcmp(err, "--dir: 'up' is neither c2s nor s2c") == 0,
	    "--dir error: %s", err);
	memset(&o, 0, sizeof(o));
	o.dir = "s2c";
	o.expr = "vfio_user.cmd ==";
	vx_filter_compile_opts(&o, err, sizeof(err), &f);
	ok(f == NULL && caret(err) == 16, "-Y error keeps its caret");
}

/* CPU time: the machine may be busy with other builds */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
bench(const char *expr, const struct vx_msg *m, int want)
{
	struct vx_filter_ctx ctx;
	struct vx_filter *f;
	char err[512];
	long i, hits = 0, n = 40000;
	double t0, t1, best = 0;
	int round;

	memset(&ctx, 0, sizeof(ctx));
	ctx.have = VX_FCTX_FRAME | VX_FCTX_CONN;
	if (vx_filter_compile(expr, err, sizeof(err), &f) < 0) {
		ok(0, "bench filter compiles: %s", err);
		return;
	}
	/* the best of five rounds */
	for (round = 0; round < 5; round++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			ctx.frame = (uint64_t)i;
			hits += vx_filter_match(f, m, &ctx);
		}
		t1 = now_ns();
		if (round == 0 || t1 - t0 < best)
			best = t1 - t0;
	}
	ok(hits == (want ? 5 * n : 0), "bench: %ld matches", hits);
	diag("%.1f ns per match: %s (%u items)", best / (double)n, expr,
	    m->nitems);
	vx_filter_free(f);
}

int
main(void)
{
	build_all();
	test_operators();
	test_header_fast_path();
	test_any_item();
	test_logic();
	test_pseudo();
	test_errors();
	test_opts();
	test_events_and_frames();
	bench("vfio_user.cmd == REGION_WRITE", &m_write, 1);
	bench("vfio_user.region.data contains 00:00", &m_write, 1);
	bench("vfio_user.region.offset == 0x100", &m_wm, 1);
	bench("vfio_user.dma.address == 0x1000", &m_wm, 0);
	bench("(vfio_user.cmd in {REGION_READ REGION_WRITE_MULTI} && "
	    "vfio_user.dir == c2s && !vfio_user.error_reply) || "
	    "vfio_user.frame < 10", &m_wm, 1);
	release_all();
	return unit_done();
}
