/*
 * vx-array.h - room in a growable array: the one copy of the
 * double-when-full realloc that the connection's calls, the session's DMA
 * windows and the walker's connections all need.  Internal: not installed.
 */
#ifndef VX_ARRAY_H
#define VX_ARRAY_H

#include <stdint.h>
#include <stdlib.h>

/*
 * arr (elem bytes each, n in use, room for *cap) with room for one more:
 * first elements at the start, then twice as many each time.  The array
 * (moved, maybe) and *cap updated; NULL with arr and *cap as they were if
 * memory ran out.
 */
static inline void *
vx_array_room(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : first;
	if (ncap > SIZE_MAX / elem || (arr = realloc(arr, ncap * elem)) == NULL)
		return NULL;
	*cap = ncap;
	return arr;
}

#endif /* VX_ARRAY_H */
