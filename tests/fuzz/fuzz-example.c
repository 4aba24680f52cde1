/*
 * fuzz-example.c - the README's "Fuzzing your device server": a
 * libFuzzer harness for a device served by vx_server, in process.  Build
 * with  clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz-example.c
 * lib/libvfuctl.a -ljansson.  For a server of your own, pass a step
 * function of yours instead of vx_fuzz_input_server_step
 * (man vx_fuzz_input(3)).  tests/harness.bats builds and runs it and
 * checks that README.md shows LLVMFuzzerTestOneInput as it is here.
 */
#include <stdlib.h>

#include "vx-device.h"
#include "vx-error.h"
#include "vx-fuzz-input.h"
#include "vx-server.h"

static const char *path = "tests/devices/gpio.json";	/* run from the top */
static struct vx_device *dev;	/* state kept across inputs, as a device's */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_fuzz_input *fi;
	struct vx_server *s;
	int sock;

	if (dev == NULL && (dev = vx_device_load(path, NULL, 0)) == NULL)
		abort();
	if ((fi = vx_fuzz_input_new(0, &sock)) == NULL)
		return 0;
	if ((s = vx_server_new(dev, 65536)) == NULL || vx_server_attach(s, sock) < 0)
		abort();
	if (vx_fuzz_input_run(fi, data, size, vx_fuzz_input_server_step, s) == VX_ERR_BUSY)
		abort();	/* the server never waits for input: a hang */
	vx_server_free(s);
	vx_fuzz_input_free(fi);
	return 0;
}
