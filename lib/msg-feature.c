/*
 * msg-feature.c - DEVICE_FEATURE, MIG_DATA_READ, MIG_DATA_WRITE (spec
 * sections of the same names).
 *
 * DEVICE_FEATURE, command and reply
 *   0       4                      8
 *   +-------+----------------------+------------------------
 *   | argsz | flags: index 0-15,   | feature data
 *   |       | get 16, set 17,      |
 *   |       | probe 18             |
 *   +-------+----------------------+------------------------
 * Feature data:
 *   MIGRATION (1), GET reply:        flags u64 (stop_copy, p2p, pre_copy)
 *   MIG_DEVICE_STATE (2), SET, GET reply: device_state u32, data_fd u32
 *   DMA_LOGGING_START/STOP (6/7), SET: page_size u64, num_ranges u32,
 *       reserved u32, num_ranges x { iova u64, length u64 }
 *   DMA_LOGGING_REPORT (8), GET: iova u64, length u64, page_size u64;
 *       the reply appends the bitmap (u64 words, bit n = page n)
 *
 * MIG_DATA_READ command: argsz u32, size u32; reply: argsz, size, data.
 * MIG_DATA_WRITE command: argsz, size, data; reply: no payload.
 */
#include "decode-int.h"

static int
logging_control(struct vx_dstate *s)
{
	uint64_t nr;
	uint32_t at = dx_off(s), i;
	int r, g;

	if ((r = dx_uint(s, VXF_LOG_PAGE_SIZE, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_LOG_NUM_RANGES, &nr)) < 0 ||
	    (r = dx_uint(s, VXF_LOG_RESERVED, NULL)) < 0)
		return r;
	if (nr > dx_left(s) / 16)
		return dx_fail(s, VX_ERR_TRUNCATED, VXF_LOG_NUM_RANGES, at + 8,
		    "num_ranges %llu but room for %zu ranges",
		    (unsigned long long)nr, dx_left(s) / 16);
	for (i = 0; i < nr; i++) {
		if ((g = dx_group_open(s, VXF_LOG_RANGE, i)) < 0)
			return g;
		if ((r = dx_uint(s, VXF_LOG_IOVA, NULL)) < 0 ||
		    (r = dx_uint(s, VXF_LOG_LENGTH, NULL)) < 0)
			return r;
		dx_group_close(s, g);
	}
	return 0;
}

static int
logging_report(struct vx_dstate *s, int reply)
{
	uint64_t length, pgsize, pages, want;
	uint32_t at = dx_off(s);
	int r;

	if ((r = dx_uint(s, VXF_LOG_IOVA, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_LOG_LENGTH, &length)) < 0 ||
	    (r = dx_uint(s, VXF_LOG_PAGE_SIZE, &pgsize)) < 0)
		return r;
	if (pgsize == 0 || (pgsize & (pgsize - 1)) != 0)
		return dx_fail(s, VX_ERR_INVALID, VXF_LOG_PAGE_SIZE, at + 16,
		    "page_size %llu is not a power of two",
		    (unsigned long long)pgsize);
	if (!reply)
		return 0;
	pages = length / pgsize + (length % pgsize != 0);
	want = (pages / 64 + (pages % 64 != 0)) * 8;
	if (want != dx_left(s))
		return dx_fail(s, want > dx_left(s) ? VX_ERR_TRUNCATED :
		    VX_ERR_INVALID, VXF_LOG_BITMAP, dx_off(s),
		    "bitmap for %llu pages needs %llu bytes, %zu given",
		    (unsigned long long)pages, (unsigned long long)want,
		    dx_left(s));
	return dx_bytes(s, VXF_LOG_BITMAP, dx_left(s));
}

int
dec_feature(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags, state;
	uint32_t at = dx_off(s);
	unsigned feature;
	int get, set, probe, r;

	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_FEAT_FLAGS, &flags)) < 0)
		return r;
	feature = (unsigned)(flags & VX_FEATURE_MASK);
	if ((r = dx_virt(s, VXF_FEAT_ID, feature, NULL)) < 0)
		return r;
	get = (flags & VX_FEATURE_GET) != 0;
	set = (flags & VX_FEATURE_SET) != 0;
	probe = (flags & VX_FEATURE_PROBE) != 0;
	if (flags & ~(uint64_t)(VX_FEATURE_MASK | VX_FEATURE_GET |
	    VX_FEATURE_SET | VX_FEATURE_PROBE))
		return dx_fail(s, VX_ERR_INVALID, VXF_FEAT_FLAGS, at + 4,
		    "feature flags 0x%llx has unknown bits",
		    (unsigned long long)flags);
	if (!get && !set && !probe)
		return dx_fail(s, VX_ERR_INVALID, VXF_FEAT_FLAGS, at + 4,
		    "feature flags 0x%llx has none of get, set, probe",
		    (unsigned long long)flags);
	if (get && set && !probe)
		return dx_fail(s, VX_ERR_INVALID, VXF_FEAT_FLAGS, at + 4,
		    "get and set together need probe");
	if (!reply && argsz < 8)
		return dx_argsz_min(s, argsz, 8, at);
	if (reply && argsz != dx_payload_len(s))
		dx_note(s, VX_NOTE_ARGSZ_MISMATCH, VXF_ARGSZ, at);
	if (probe)
		return dx_bytes(s, VXF_FEAT_DATA, dx_left(s));

	switch (feature) {
	case VX_FEAT_MIGRATION:
		/* a GET request may carry the buffer the reply will fill */
		if (dx_left(s) > 0 || (reply && get))
			return dx_uint(s, VXF_MIG_FLAGS, NULL);
		return 0;
	case VX_FEAT_MIG_DEVICE_STATE:
		if (dx_left(s) == 0 && !set && !reply)
			return 0;
		if ((r = dx_uint(s, VXF_MIG_STATE, &state)) < 0 ||
		    (r = dx_uint(s, VXF_MIG_DATA_FD, NULL)) < 0)
			return r;
		if (state >= VX_MIG_NUM_STATES)
			return dx_fail(s, VX_ERR_INVALID, VXF_MIG_STATE, at + 8,
			    "device_state %llu is not a migration state",
			    (unsigned long long)state);
		return 0;
	case VX_FEAT_DMA_LOGGING_START:
	case VX_FEAT_DMA_LOGGING_STOP:
		return dx_left(s) > 0 ? logging_control(s) : 0;
	case VX_FEAT_DMA_LOGGING_REPORT:
		return logging_report(s, reply);
	default:
		dx_note(s, VX_NOTE_UNKNOWN_FEATURE, VXF_FEAT_FLAGS, at + 4);
		return dx_bytes(s, VXF_FEAT_DATA, dx_left(s));
	}
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

int
dec_mig_data(struct vx_dstate *s, int reply)
{
	int write = s->m->cmd == VX_CMD_MIG_DATA_WRITE;
	uint64_t argsz, size;
	uint32_t at = dx_off(s);
	int r;

	if (write && reply)
		return 0;
	if (!write && !reply &&
	    (r = dx_expect_len(s, 8, VXF_MIGD_SIZE, "MIG_DATA_READ")) < 0)
		return r;
	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_MIGD_SIZE, &size)) < 0)
		return r;
	if (!reply && (r = dx_argsz_struct(s, argsz, 8, at,
	    write ? "MIG_DATA_WRITE" : "MIG_DATA_READ")) < 0)
		return r;
	if (!write && !reply) {
		if (argsz < 8 + size)
			dx_note(s, VX_NOTE_ARGSZ_MISMATCH, VXF_ARGSZ, at);
		return 0;
	}
	if (size > dx_left(s))
		return dx_fail(s, VX_ERR_TRUNCATED, VXF_MIGD_DATA, dx_off(s),
		    "size %llu but %zu data bytes", (unsigned long long)size,
		    dx_left(s));
	if ((r = dx_bytes(s, VXF_MIGD_DATA, (size_t)size)) < 0)
		return r;
	if (dx_left(s) == 0)
		return 0;
	if (write || !all_zero(s->c.p, dx_left(s)))
		return dx_fail(s, VX_ERR_INVALID, VXF_TRAILING, dx_off(s),
		    "size %llu but %zu more bytes follow the data",
		    (unsigned long long)size, dx_left(s));
	dx_note(s, VX_NOTE_PADDING, VXF_TRAILING, dx_off(s));
	return dx_bytes(s, VXF_TRAILING, dx_left(s));
}
