/*
 * device-int.h - what the device loader (device-load.c) and the running
 * device (device.c) share; not installed.
 */
#ifndef DEVICE_INT_H
#define DEVICE_INT_H

#include <stdint.h>

/* struct vx_reg.dma of the engine's go register (its names' index + 1) */
#define DEV_ROLE_GO	4

/* The bits a register of w bytes holds. */
static inline uint64_t
dev_width_mask(unsigned w)
{
	return w >= 8 ? ~0ull : (1ull << (8 * w)) - 1;
}

#endif /* DEVICE_INT_H */
