/*
 * client-raw.c - the client's raw command: a hand-built message, its
 * reply shown as the decoder's field tree or JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "vx-cursor.h"

/* Print a reply: summary and field tree, or its JSON under "reply". */
static void
show_reply(struct cl *cl, const struct vx_msg *m)
{
	char sum[256];

	if (cl->json) {
		cl_print_json(cl, "reply", vx_msg_json(m));
		cl_print_bool(cl, PRINT_JSON, "error_reply", NULL,
		    (m->flags & VX_F_ERROR) != 0);
		return;
	}
	vx_summary(m, sum, sizeof(sum));
	printf("%s\n", sum);
	vx_print_tree(stdout, m, "  ");
	if (m->status == VX_MSG_MALFORMED)
		printf("  malformed: %s\n", m->err.text);
}

/* raw [--posted] CMD [HEXPAYLOAD] */
int
cl_c_raw(struct cl *cl, int argc, char **argv)
{
	uint8_t *pay = NULL, *msg;
	size_t n = 0;
	uint64_t cmd;
	struct vx_msg m;
	int r, posted, k = cl_posted_opt(argc, argv, &posted);

	argc -= k;
	argv += k;
	if (argc < 2 || argc > 3)
		return cl_usage(cl, "raw");
	if (vx_tok_value(vx_names_cmd, argv[1], &cmd) < 0 &&
	    vx_parse_u64(argv[1], &cmd) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid command '%s': want a "
		    "name such as REGION_READ or a number", argv[1]);
	if (cmd > 0xffff)
		return cl_err(cl, VX_EXIT_USAGE, "invalid command '%s': above "
		    "0xffff", argv[1]);
	if (argc == 3 && (r = cl_hex_arg(cl, argv[2], &pay, &n)) != 0)
		return r;
	if ((msg = calloc(1, VX_HDR_SIZE + n)) == NULL) {
		free(pay);
		return cl_err(cl, VX_EXIT_FAIL, "out of memory");
	}
	vx_store(msg + VX_HDR_OFF_CMD, 2, cmd, 0);
	vx_store(msg + VX_HDR_OFF_SIZE, 4, VX_HDR_SIZE + n, 0);
	vx_store(msg + VX_HDR_OFF_FLAGS, 4, posted ? VX_F_NO_REPLY : 0, 0);
	if (n)
		memcpy(msg + VX_HDR_SIZE, pay, n);
	free(pay);
	r = vx_client_call(cl->c, msg, VX_HDR_SIZE + n, NULL, 0, &m);
	free(msg);
	if (r < 0)
		return cl_call_err(cl, r);
	if (posted)
		cl_printf(cl, "sent (no reply requested)\n");
	else
		show_reply(cl, &m);
	return 0;
}
