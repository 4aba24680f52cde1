/*
 * client-dma.c - the client's DMA command: map, unmap, list, dump, fill.
 * lib keeps the windows and serves the server's DMA_READ/DMA_WRITE from
 * them (vx_client_dma_*); one print path shows text or JSON.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "vx-error.h"

static int
parse_prot(struct cl *cl, const char *s, uint32_t *prot)
{
	if (strcmp(s, "rw") == 0)
		*prot = VX_DMA_MAP_READ | VX_DMA_MAP_WRITE;
	else if (strcmp(s, "r") == 0)
		*prot = VX_DMA_MAP_READ;
	else if (strcmp(s, "w") == 0)
		*prot = VX_DMA_MAP_WRITE;
	else
		return cl_err(cl, VX_EXIT_USAGE, "invalid protection '%s': "
		    "want r, w or rw", s);
	return 0;
}

/* dma map [--fd|--no-fd] ADDR SIZE [r|w|rw] */
static int
dma_map(struct cl *cl, int argc, char **argv)
{
	uint32_t prot = VX_DMA_MAP_READ | VX_DMA_MAP_WRITE;
	int use_fd = !cl->no_fd, r;
	uint64_t addr, size;
	struct vx_msg m;

	if (argc > 1 && (strcmp(argv[1], "--no-fd") == 0 ||
	    strcmp(argv[1], "--fd") == 0)) {
		use_fd = argv[1][2] == 'f';
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4)
		return cl_usage(cl, "dma");
	if ((r = cl_num_arg(cl, "address", argv[1], &addr)) != 0 ||
	    (r = cl_num_arg(cl, "size", argv[2], &size)) != 0 ||
	    (argc == 4 && (r = parse_prot(cl, argv[3], &prot)) != 0))
		return r;
	r = vx_client_dma_map(cl->c, addr, size, prot, use_fd, &m);
	if (r == VX_ERR_INVALID || r == VX_ERR_TOO_LARGE)
		return cl_err(cl, VX_EXIT_USAGE, "%s", vx_client_errmsg(cl->c));
	if (r < 0)
		return cl_call_err(cl, r);
	cl_print_uint(cl, PRINT_ANY, "address", "mapped 0x%llx", addr);
	cl_print_uint(cl, PRINT_ANY, "size", "+0x%llx ", size);
	cl_printf(cl, "%s%s", prot & VX_DMA_MAP_READ ? "r" : "",
	    prot & VX_DMA_MAP_WRITE ? "w" : "");
	cl_print_bool(cl, PRINT_JSON, "fd", NULL, use_fd);
	cl_printf(cl, "%s\n", use_fd ? " (memfd)" : " (DMA_READ/DMA_WRITE)");
	return 0;
}

/* dma unmap ADDR SIZE | dma unmap all */
static int
dma_unmap(struct cl *cl, int argc, char **argv)
{
	int all = argc == 3 && strcmp(argv[2], "all") == 0, r;
	uint64_t addr = 0, size = 0;
	struct vx_msg m;

	if (!all && argc != 4)
		return cl_usage(cl, "dma");
	if (!all && ((r = cl_num_arg(cl, "address", argv[2], &addr)) != 0 ||
	    (r = cl_num_arg(cl, "size", argv[3], &size)) != 0))
		return r;
	r = vx_client_dma_unmap(cl->c, addr, size, all, &m);
	if (r == VX_ERR_INVALID)
		return cl_err(cl, VX_EXIT_USAGE, "%s", vx_client_errmsg(cl->c));
	if (r < 0)
		return cl_call_err(cl, r);
	cl_printf(cl, "unmapped %s\n", all ? "all" : argv[2]);
	return 0;
}

static void
dma_list(struct cl *cl)
{
	const struct vx_client_stats *st = vx_client_stats(cl->c);
	const struct vx_dma_win *wins;
	unsigned i, n;

	wins = vx_client_dma_windows(cl->c, &n);
	cl_open_array(cl, "windows");
	for (i = 0; i < n; i++) {
		const struct vx_dma_win *w = &wins[i];

		cl_open_object(cl, NULL);
		cl_print_uint(cl, PRINT_ANY, "address", "0x%016llx ", w->addr);
		cl_print_uint(cl, PRINT_ANY, "size", "0x%-10llx ", w->size);
		cl_print_bool(cl, PRINT_JSON, "read", NULL,
		    (w->prot & VX_DMA_MAP_READ) != 0);
		cl_print_bool(cl, PRINT_JSON, "write", NULL,
		    (w->prot & VX_DMA_MAP_WRITE) != 0);
		cl_print_bool(cl, PRINT_JSON, "fd", NULL, w->fd >= 0);
		cl_printf(cl, "%s%s %s\n", w->prot & VX_DMA_MAP_READ ? "r" : "-",
		    w->prot & VX_DMA_MAP_WRITE ? "w" : "-",
		    w->fd >= 0 ? "memfd" : "messages");
		cl_close_object(cl);
	}
	cl_close_array(cl);
	cl_print_uint(cl, PRINT_ANY, "served_reads", "served %llu DMA_READ, ",
	    st->served_reads);
	cl_print_uint(cl, PRINT_ANY, "served_writes", "%llu DMA_WRITE, ",
	    st->served_writes);
	cl_printf(cl, "%lu refused\n", st->served_errors);
}

/* dma dump ADDR LEN | dma fill ADDR LEN BYTE: client memory */
static int
dma_dump(struct cl *cl, int argc, char **argv, int fill)
{
	uint64_t addr, size, byte = 0;
	uint8_t *p;
	int r;

	if (argc != (fill ? 5 : 4))
		return cl_usage(cl, "dma");
	if ((r = cl_num_arg(cl, "address", argv[2], &addr)) != 0 ||
	    (r = cl_num_arg(cl, "length", argv[3], &size)) != 0 ||
	    (fill && (r = cl_num_arg(cl, "byte", argv[4], &byte)) != 0))
		return r;
	if (byte > 0xff)
		return cl_err(cl, VX_EXIT_USAGE, "invalid byte '%s': want "
		    "0..0xff", argv[4]);
	if ((p = vx_client_dma_ptr(cl->c, addr, size)) == NULL)
		return cl_err(cl, VX_EXIT_USAGE, "0x%llx+0x%llx is not inside "
		    "one mapped DMA window; see 'dma list'",
		    (unsigned long long)addr, (unsigned long long)size);
	if (fill) {
		memset(p, (int)byte, (size_t)size);
		cl_printf(cl, "filled 0x%llx+0x%llx with 0x%02x\n",
		    (unsigned long long)addr, (unsigned long long)size,
		    (unsigned)byte);
		return 0;
	}
	cl_print_uint(cl, PRINT_JSON, "address", NULL, addr);
	cl_print_hex(cl, "data", p, (size_t)size);
	if (!cl->json)
		cl_hexdump(stdout, p, (size_t)size, addr);
	return 0;
}

int
cl_c_dma(struct cl *cl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "map") == 0)
		return dma_map(cl, argc - 1, argv + 1);
	if (strcmp(sub, "unmap") == 0)
		return dma_unmap(cl, argc, argv);
	if (strcmp(sub, "list") == 0) {
		dma_list(cl);
		return 0;
	}
	if (strcmp(sub, "dump") == 0 || strcmp(sub, "fill") == 0)
		return dma_dump(cl, argc, argv, sub[0] == 'f');
	return cl_usage(cl, "dma");
}
