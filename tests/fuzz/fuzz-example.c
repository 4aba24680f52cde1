/*
 * fuzz-example.c - the README's "Fuzzing your device server": a
 * libFuzzer harness for a device served by vx_server, in process.  Build
 * with  clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz-example.c
 * lib/libvfuctl.a -ljansson.  For a server of your own, pass a step
 * function of yours instead of vx_fuzz_input_server_step
 * (man vx_fuzz_input(3)).  tests/harness.bats builds and runs it and
 * checks that README.md shows LLVMFuzzerTestOneInput as it is here.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-device.h"
#include "vx-error.h"
#include "vx-fuzz-input.h"
#include "vx-server.h"

static const char *path = "tests/devices/gpio.json";	/* run from the top */
static struct vx_device *dev;	/* state kept across inputs, as a device's */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not run from the top: the device beside the binary, as .clusterfuzzlite/
 * build.sh puts it in $OUT. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char beside[PATH_MAX];
	ssize_t n;

	(void)argc;
	(void)argv;
	if (access(path, R_OK) == 0)
		return 0;
	n = readlink("/proc/self/exe", beside, sizeof(beside) - 1);
	beside[n > 0 ? n : 0] = '\0';
	if (strrchr(beside, '/') != NULL)
		*strrchr(beside, '/') = '\0';
	if (strlen(beside) + 1 + strlen(path) < sizeof(beside)) {
		strcat(strcat(beside, "/"), path);
		path = beside;
	}
	return 0;
}

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
