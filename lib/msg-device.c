/*
 * msg-device.c - DEVICE_GET_INFO, DEVICE_GET_IRQ_INFO, DEVICE_SET_IRQS and
 * DEVICE_RESET (spec sections of the same names).
 *
 * DEVICE_GET_INFO, command and reply, 16 bytes
 *   0       4       8             12          16
 *   +-------+-------+-------------+-----------+
 *   | argsz | flags | num_regions | num_irqs  |
 *   +-------+-------+-------------+-----------+
 *
 * DEVICE_GET_IRQ_INFO, command and reply, 16 bytes
 *   +-------+-------+-------+-------+
 *   | argsz | flags | index | count |
 *   +-------+-------+-------+-------+
 *
 * DEVICE_SET_IRQS command, 20 bytes + count bool bytes with data_bool;
 * fds: count eventfds with data_eventfd (0 de-assigns); reply: no payload
 *   0       4       8       12      16      20
 *   +-------+-------+-------+-------+-------+-----------
 *   | argsz | flags | index | start | count | bool data
 *   +-------+-------+-------+-------+-------+-----------
 *
 * DEVICE_RESET: no payload either way.
 */
#include "decode-int.h"

/* Command and reply of GET_INFO and GET_IRQ_INFO share one shape. */
static int
dec_info16(struct vx_dstate *s, int reply, const unsigned f[4],
    const char *what)
{
	uint64_t v[4];
	uint32_t at = dx_off(s);
	int i, r;

	if ((r = dx_expect_len(s, 16, f[3], what)) < 0)
		return r;
	for (i = 0; i < 4; i++)
		if ((r = dx_uint(s, f[i], &v[i])) < 0)
			return r;
	if (reply) {
		if (v[0] > 16)
			dx_note(s, VX_NOTE_ARGSZ_RETRY, VXF_ARGSZ, at);
		return 0;
	}
	if ((r = dx_argsz_min(s, v[0], 16, at)) < 0)
		return r;
	/* GET_INFO: all but argsz zero; GET_IRQ_INFO: all but argsz, index */
	if (v[1] != 0 || v[3] != 0 || (f[2] == VXF_DEV_NUM_REGIONS && v[2] != 0))
		dx_note(s, VX_NOTE_NONZERO_RESERVED, f[1], at + 4);
	return 0;
}

int
dec_device_info(struct vx_dstate *s, int reply)
{
	static const unsigned f[4] = {
		VXF_ARGSZ, VXF_DEV_FLAGS, VXF_DEV_NUM_REGIONS, VXF_DEV_NUM_IRQS
	};

	return dec_info16(s, reply, f, "DEVICE_GET_INFO");
}

int
dec_irq_info(struct vx_dstate *s, int reply)
{
	static const unsigned f[4] = {
		VXF_ARGSZ, VXF_IRQ_INFO_FLAGS, VXF_IRQ_INDEX, VXF_IRQ_COUNT
	};

	return dec_info16(s, reply, f, "DEVICE_GET_IRQ_INFO");
}

/* Exactly one bit of mask set? */
static int
one_bit(uint64_t v, uint64_t mask)
{
	v &= mask;
	return v != 0 && (v & (v - 1)) == 0;
}

int
dec_set_irqs(struct vx_dstate *s, int reply)
{
	uint64_t argsz, flags, start, count;
	uint32_t at = dx_off(s);
	int r;

	if (reply)
		return 0;
	if ((r = dx_uint(s, VXF_ARGSZ, &argsz)) < 0 ||
	    (r = dx_uint(s, VXF_IRQ_SET_FLAGS, &flags)) < 0 ||
	    (r = dx_uint(s, VXF_IRQ_INDEX, NULL)) < 0 ||
	    (r = dx_uint(s, VXF_IRQ_START, &start)) < 0 ||
	    (r = dx_uint(s, VXF_IRQ_COUNT, &count)) < 0)
		return r;
	if ((flags & ~(uint64_t)(VX_IRQ_DATA_BITS | VX_IRQ_ACTION_BITS)) ||
	    !one_bit(flags, VX_IRQ_DATA_BITS) ||
	    !one_bit(flags, VX_IRQ_ACTION_BITS))
		return dx_fail(s, VX_ERR_INVALID, VXF_IRQ_SET_FLAGS, at + 4,
		    "SET_IRQS flags 0x%llx needs exactly one data_* and one action_* bit",
		    (unsigned long long)flags);
	if (count > UINT32_MAX - start)
		return dx_fail(s, VX_ERR_INVALID, VXF_IRQ_COUNT, at + 16,
		    "start %llu + count %llu overflows",
		    (unsigned long long)start, (unsigned long long)count);
	if ((flags & VX_IRQ_DATA_NONE) && count == 0 && start == 0)
		dx_note(s, VX_NOTE_DISABLE_ALL_IRQS, VXF_IRQ_COUNT, at + 16);
	if (flags & VX_IRQ_DATA_BOOL) {
		if (count != dx_left(s))
			return dx_fail(s, count > dx_left(s) ? VX_ERR_TRUNCATED :
			    VX_ERR_INVALID, VXF_IRQ_DATA, dx_off(s),
			    "data_bool with count %llu but %zu data bytes",
			    (unsigned long long)count, dx_left(s));
		if ((r = dx_bytes(s, VXF_IRQ_DATA, (size_t)count)) < 0)
			return r;
	}
	/* bool data is part of the structure; eventfds come as descriptors */
	if ((r = dx_argsz_struct(s, argsz, 20 + (flags & VX_IRQ_DATA_BOOL ?
	    count : 0), at, "DEVICE_SET_IRQS")) < 0)
		return r;
	if (argsz != dx_payload_len(s))
		dx_note(s, VX_NOTE_ARGSZ_MISMATCH, VXF_ARGSZ, at);
	return 0;
}

int
dec_reset(struct vx_dstate *s, int reply)
{
	(void)s;
	(void)reply;
	return 0;
}
