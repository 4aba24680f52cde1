/*
 * dissect-chrome.h - vfuctl dissect -o chrome: the Trace Event Format
 * (Perfetto UI, chrome://tracing), written as the walk goes.
 */
#ifndef VFUCTL_DISSECT_CHROME_H
#define VFUCTL_DISSECT_CHROME_H

#include <stdint.h>
#include <stdio.h>

#include "vx-walk.h"

struct chrome;

/* Start the JSON object on fp. */
struct chrome *chrome_open(FILE *fp);
/* One walk item, with the summary text dissect shows for it. */
void chrome_item(struct chrome *co, const struct vx_walk_item *it,
    const char *summary);
/* End the slices still open, close the JSON; returns the slices written. */
uint64_t chrome_close(struct chrome *co);

#endif /* VFUCTL_DISSECT_CHROME_H */
