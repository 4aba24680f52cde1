/*
 * helpers.h - what several unit tests need from the system: open
 * descriptors counted, bytes and descriptors sent as a raw peer would, a
 * temporary directory, a "vfuctl server" started.  tests/unit/helpers.c;
 * the Makefile links it into every unit test.
 */
#ifndef VX_UNIT_HELPERS_H
#define VX_UNIT_HELPERS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* A message of len bytes (>= 16) in buf: header, then bytes id + i. */
size_t unit_mkmsg(uint8_t *buf, size_t len, uint16_t id, uint16_t cmd,
    uint32_t flags);

/* Descriptors open in this process (compare two counts for leaks). */
int unit_count_fds(void);

/* One sendmsg of n bytes with nfds (<= 8) descriptors: 0, or -1. */
int unit_send_fds(int sock, const void *p, size_t n, const int *fds,
    int nfds);

/* mkdtemp of $TMPDIR/NAME.XXXXXX into dir (/tmp if unset or if that
 * does not fit in size: socket paths are short): 0, or -1. */
int unit_mkdtemp(char *dir, size_t size, const char *name);

/* $VFUCTL (default cli/vfuctl); NULL, after a "not ok" line, if it is
 * not executable. */
const char *unit_vfuctl(void);

/*
 * "vfuctl server --socket-path SOCK --device DEVICE [EXTRA]", stderr to
 * /dev/null unless $TEST_SERVER_VERBOSE; returns once the socket exists
 * (up to 20 s: valgrind starts slowly).
 */
pid_t unit_spawn_server(const char *vfuctl, const char *device,
    const char *sock, const char *extra);

#endif /* VX_UNIT_HELPERS_H */
