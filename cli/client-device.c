/*
 * client-device.c - the client's device commands: version, info, regions,
 * irqs.  lib's typed calls ask; one print path shows text or JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client-int.h"
#include "vx-strbuf.h"

int
cl_c_version(struct cl *cl, int argc, char **argv)
{
	const struct vx_conn *conn = vx_client_conn(cl->c);
	const struct vx_session *ss = vx_conn_session(conn);
	const struct vx_caps *s = vx_session_caps(ss, VX_S2C);
	const struct vx_caps *ours = vx_session_caps(ss, VX_C2S);
	const char *js = vx_client_server_json(cl->c);
	int twin = vx_conn_twin(conn) >= 0;
	uint64_t major = 0, minor = 0;
	char buf[2048];
	size_t pos = 0;

	(void)argv;
	if (argc != 1)
		return cl_usage(cl, "version");
	vx_session_version(ss, VX_S2C, &major, &minor);
	snprintf(buf, sizeof(buf), "%llu.%llu", (unsigned long long)major,
	    (unsigned long long)minor);
	cl_print_uint(cl, PRINT_JSON, "major", NULL, major);
	cl_print_uint(cl, PRINT_JSON, "minor", NULL, minor);
	cl_print_string(cl, PRINT_TEXT, NULL, "protocol           %s\n", buf);
	/* the server's text: never raw to a terminal */
	buf[0] = '\0';
	if (js != NULL)
		vx_sb_text(buf, sizeof(buf), &pos, js, strlen(js));
	cl_print_string(cl, PRINT_TEXT, NULL, "server caps        %s\n",
	    js != NULL ? buf : "(none)");
	if (cl->json)
		cl_print_json(cl, "server", js != NULL ?
		    json_loads(js, 0, NULL) : NULL);
	cl_print_uint(cl, PRINT_ANY, "max_data_xfer_size",
	    "max_data_xfer_size %llu", vx_client_xfer(cl->c));
	snprintf(buf, sizeof(buf), " (server %llu, client %llu)\n",
	    (unsigned long long)s->max_data_xfer_size,
	    (unsigned long long)ours->max_data_xfer_size);
	cl_printf(cl, "%s", buf);
	cl_print_uint(cl, PRINT_ANY, "max_msg_fds",
	    "max_msg_fds        %llu (server accepts)\n", s->max_msg_fds);
	cl_print_uint(cl, PRINT_ANY, "max_dma_maps",
	    "max_dma_maps       %llu\n", s->max_dma_maps);
	cl_print_uint(cl, PRINT_ANY, "pgsizes", "pgsizes            0x%llx\n",
	    s->pgsizes);
	cl_print_bool(cl, PRINT_JSON, "twin_socket", NULL, twin);
	cl_print_string(cl, PRINT_TEXT, NULL, "twin_socket        %s\n",
	    twin ? "yes" : s->twin_supported ? "offered" : "no");
	cl_print_bool(cl, PRINT_JSON, "write_multiple", NULL,
	    s->write_multiple);
	cl_print_string(cl, PRINT_TEXT, NULL, "write_multiple     %s\n",
	    s->write_multiple ? "yes" : "no");
	return 0;
}

int
cl_c_info(struct cl *cl, int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1)
		return cl_usage(cl, "info");
	cl->have_info = 0;
	if ((r = cl_ensure_info(cl)) != 0)
		return r;
	cl_print_uint(cl, PRINT_ANY, "flags", "flags       0x%llx",
	    cl->dev_flags);
	cl_print_bool(cl, PRINT_ANY, "reset", " reset",
	    (cl->dev_flags & VX_DEV_RESET) != 0);
	cl_print_bool(cl, PRINT_ANY, "pci", " pci",
	    (cl->dev_flags & VX_DEV_PCI) != 0);
	cl_printf(cl, "\n");
	cl_print_uint(cl, PRINT_ANY, "num_regions", "num_regions %llu\n",
	    cl->nregions);
	cl_print_uint(cl, PRINT_ANY, "num_irqs", "num_irqs    %llu\n",
	    cl->nirqs);
	return 0;
}

/* The text column: "cap sparse_mmap, area 0x0+0x1000 type 0x3 ...". */
static void
chain_text(const struct vx_msg *m, char *line, size_t cap)
{
	size_t pos = 0;
	uint32_t k;

	line[0] = '\0';
	for (k = 0; k < m->nitems; k++) {
		const struct vx_item *it = &m->items[k];

		if (it->field == VXF_CAP_ID) {
			const char *n = vx_tok_name(vx_fields[VXF_CAP_ID].names,
			    it->val);

			pos += (size_t)snprintf(line + pos, cap - pos,
			    "%scap %s", pos ? ", " : "", n ? n : "unknown");
		} else if (it->field == VXF_AREA_OFFSET && k + 1 < m->nitems &&
		    m->items[k + 1].field == VXF_AREA_SIZE) {
			pos += (size_t)snprintf(line + pos, cap - pos,
			    "%sarea 0x%llx+0x%llx", pos ? ", " : "",
			    (unsigned long long)it->val,
			    (unsigned long long)m->items[k + 1].val);
		} else if (it->field == VXF_CAP_TYPE) {
			pos += (size_t)snprintf(line + pos, cap - pos,
			    " type 0x%llx", (unsigned long long)it->val);
		} else if (it->field == VXF_CAP_SUBTYPE) {
			pos += (size_t)snprintf(line + pos, cap - pos,
			    " subtype 0x%llx", (unsigned long long)it->val);
		}
		if (pos >= cap)
			pos = cap - 1;
	}
}

/* The JSON form of the chain: "sparse_areas" and "caps" arrays. */
static void
chain_json(struct cl *cl, const struct vx_msg *m)
{
	uint32_t k;

	cl_open_array(cl, "sparse_areas");
	for (k = 0; k + 1 < m->nitems; k++) {
		if (m->items[k].field != VXF_AREA_OFFSET ||
		    m->items[k + 1].field != VXF_AREA_SIZE)
			continue;
		cl_open_object(cl, NULL);
		cl_print_uint(cl, PRINT_JSON, "offset", NULL, m->items[k].val);
		cl_print_uint(cl, PRINT_JSON, "size", NULL,
		    m->items[k + 1].val);
		cl_close_object(cl);
	}
	cl_close_array(cl);
	cl_open_array(cl, "caps");
	for (k = 0; k < m->nitems; k++) {
		const char *n;

		if (m->items[k].field != VXF_CAP_ID)
			continue;
		n = vx_tok_name(vx_fields[VXF_CAP_ID].names, m->items[k].val);
		cl_print_string(cl, PRINT_JSON, NULL, NULL, n ? n : "unknown");
	}
	cl_close_array(cl);
}

static void
print_region(struct cl *cl, const struct vx_region_info *ri)
{
	uint32_t f = ri->flags;
	char fl[4], line[512];

	fl[0] = f & VX_REGION_READ ? 'r' : '-';
	fl[1] = f & VX_REGION_WRITE ? 'w' : '-';
	fl[2] = f & VX_REGION_MMAP ? 'm' : '-';
	fl[3] = '\0';
	cl_open_object(cl, NULL);
	cl_print_uint(cl, PRINT_ANY, "index", "%-5llu ", ri->index);
	cl_print_string(cl, PRINT_ANY, "name", "%-7s ", cl_rname(ri->index));
	cl_print_uint(cl, PRINT_ANY, "size", "0x%-10llx ", ri->size);
	cl_print_uint(cl, PRINT_JSON, "flags", NULL, f);
	cl_print_bool(cl, PRINT_JSON, "read", NULL, (f & VX_REGION_READ) != 0);
	cl_print_bool(cl, PRINT_JSON, "write", NULL,
	    (f & VX_REGION_WRITE) != 0);
	cl_print_bool(cl, PRINT_JSON, "mmap", NULL, (f & VX_REGION_MMAP) != 0);
	if (cl->json) {
		chain_json(cl, &ri->reply);
	} else {
		chain_text(&ri->reply, line, sizeof(line));
		cl_printf(cl, "%-5s %s\n", fl, ri->size == 0 ? "(absent)" :
		    line);
	}
	cl_close_object(cl);
}

int
cl_c_regions(struct cl *cl, int argc, char **argv)
{
	struct vx_region_info ri;
	uint32_t i;
	int r;

	(void)argv;
	if (argc != 1)
		return cl_usage(cl, "regions");
	cl->have_info = 0;
	if ((r = cl_ensure_info(cl)) != 0)
		return r;
	cl_printf(cl, "%-5s %-7s %-12s %-5s %s\n", "index", "name", "size",
	    "flags", "details");
	cl_open_array(cl, "regions");
	for (i = 0; i < cl->nregions; i++) {
		if ((r = cl_region_info(cl, i, &ri)) != 0)
			return r;
		print_region(cl, &ri);
	}
	cl_close_array(cl);
	return 0;
}

const char *
cl_irq_name(uint32_t i, char *buf, size_t n)
{
	const char *s = i < VX_PCI_NUM_IRQS ? vx_tok_name(vx_names_irq, i) :
	    NULL;

	if (s != NULL)
		return s;
	snprintf(buf, n, "irq %u", i);
	return buf;
}

static void
print_irq(struct cl *cl, const struct vx_irq_info *ii)
{
	uint32_t f = ii->flags;
	char nb[16];

	cl_open_object(cl, NULL);
	cl_print_uint(cl, PRINT_ANY, "index", "%-5llu ", ii->index);
	cl_print_string(cl, PRINT_ANY, "name", "%-6s ",
	    cl_irq_name(ii->index, nb, sizeof(nb)));
	cl_print_uint(cl, PRINT_ANY, "count", "%-6llu ", ii->count);
	cl_print_uint(cl, PRINT_ANY, "flags", "0x%llx", f);
	cl_print_bool(cl, PRINT_ANY, "eventfd", " eventfd",
	    (f & VX_IRQ_INFO_EVENTFD) != 0);
	cl_print_bool(cl, PRINT_ANY, "maskable", " maskable",
	    (f & VX_IRQ_INFO_MASKABLE) != 0);
	cl_print_bool(cl, PRINT_ANY, "automasked", " automasked",
	    (f & VX_IRQ_INFO_AUTOMASKED) != 0);
	cl_print_bool(cl, PRINT_ANY, "noresize", " noresize",
	    (f & VX_IRQ_INFO_NORESIZE) != 0);
	cl_printf(cl, "\n");
	cl_close_object(cl);
}

int
cl_c_irqs(struct cl *cl, int argc, char **argv)
{
	struct vx_irq_info ii;
	uint32_t i;
	int r;

	(void)argv;
	if (argc != 1)
		return cl_usage(cl, "irqs");
	cl->have_info = 0;
	if ((r = cl_ensure_info(cl)) != 0)
		return r;
	cl_printf(cl, "%-5s %-6s %-6s %s\n", "index", "name", "count", "flags");
	cl_open_array(cl, "irqs");
	for (i = 0; i < cl->nirqs; i++) {
		if ((r = vx_client_irq_info(cl->c, i, &ii)) < 0)
			return cl_call_err(cl, r);
		print_irq(cl, &ii);
	}
	cl_close_array(cl);
	return 0;
}

int
cl_c_reset(struct cl *cl, int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1)
		return cl_usage(cl, "reset");
	if ((r = vx_client_reset(cl->c)) < 0)
		return cl_call_err(cl, r);
	cl_printf(cl, "reset done\n");
	return 0;
}
