/*
 * client.c - a vfio-user client connection (contract in vx-client.h).
 *
 * The connection engine (vx-conn.h) does the sockets, the msg_ids and the
 * waiting; this file negotiates VERSION, keeps the DMA windows and answers
 * the server's DMA_READ/DMA_WRITE from them, wherever and whenever they
 * come.  Server commands are answered from the raw bytes (address u64 @16,
 * count u64 @24, data @32, the spec's and libvfio-user's form) so that the
 * connection's decoder holds the awaited reply's items.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client-int.h"
#include "vx-client.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-sock.h"

int
vxc_fail(struct vx_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

int
vxc_refused(struct vx_client *c, const struct vx_msg *m, const char *what)
{
	const char *n = vx_tok_name(vx_names_errno, m->error);

	c->reply_errno = m->error;
	return vxc_fail(c, VX_ERR_REPLY, "server answered %s with %s (%u: %s)",
	    what, n != NULL ? n : "error", m->error, strerror((int)m->error));
}

static void
drop_reply(struct vx_client *c)
{
	if (c->have_reply) {
		vx_frame_release(&c->reply);
		c->have_reply = 0;
	}
}

/* --- serving the server's commands --------------------------------------- */

static struct vx_dma_win *
find_win(struct vx_client *c, uint64_t addr, uint64_t len)
{
	unsigned i;

	for (i = 0; i < c->nwins; i++) {
		struct vx_dma_win *w = &c->wins[i];

		if (addr >= w->addr && len <= w->size &&
		    addr - w->addr <= w->size - len)
			return w;
	}
	return NULL;
}

uint8_t *
vx_client_dma_ptr(struct vx_client *c, uint64_t addr, uint64_t len)
{
	struct vx_dma_win *w = find_win(c, addr, len);

	return w == NULL ? NULL : w->mem + (addr - w->addr);
}

static int
send_error(struct vx_client *c, int chan, uint16_t id, uint16_t cmd, int err)
{
	struct vx_msg m;

	vx_build_header(&c->out, id, cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
	    (uint32_t)err);
	if (vx_build_finish(&c->out, &m) < 0)
		return VX_ERR_NOMEM;
	c->stats.served_errors++;
	return vx_conn_send(c->conn, chan, m.buf, m.len, NULL, 0);
}

/*
 * Answer one command the server sent, from its decoded fields: DMA_READ
 * and DMA_WRITE in the spec's form (count u64) only.
 */
static int
serve_one(struct vx_client *c, const struct vx_conn_event *ev)
{
	int chan = ev->chan;
	uint16_t id = ev->id, cmd = ev->cmd;
	const struct vx_item *data;
	uint64_t addr, count;
	struct vx_dma_win *w;
	struct vx_msg m;

	if (ev->flags & VX_F_NO_REPLY)
		return 0;
	if (cmd != VX_CMD_DMA_READ && cmd != VX_CMD_DMA_WRITE)
		return send_error(c, chan, id, cmd, ENOTSUP);
	if (vx_conn_decode(c->conn, ev, &m) < 0 ||
	    m.status == VX_MSG_MALFORMED ||
	    vx_msg_get(&m, VXF_DMA_ADDR, &addr) < 0 ||
	    vx_msg_get(&m, VXF_DMA_COUNT, &count) < 0)
		return send_error(c, chan, id, cmd, EINVAL);
	data = vx_msg_item(&m, VXF_DMA_DATA);
	if (cmd == VX_CMD_DMA_WRITE && (data == NULL ? 0 : data->len) != count)
		return send_error(c, chan, id, cmd, EINVAL);
	if (cmd == VX_CMD_DMA_READ && (m.len != VX_HDR_SIZE + 16 ||
	    count > vx_client_xfer(c)))
		return send_error(c, chan, id, cmd, EINVAL);
	w = find_win(c, addr, count);
	if (w == NULL)
		return send_error(c, chan, id, cmd, EFAULT);
	if (!(w->prot & (cmd == VX_CMD_DMA_READ ? VX_DMA_MAP_READ :
	    VX_DMA_MAP_WRITE)))
		return send_error(c, chan, id, cmd, EPERM);

	vx_build_header(&c->out, id, cmd, VX_F_TYPE_REPLY, 0);
	if (cmd == VX_CMD_DMA_READ) {
		vx_build_uint(&c->out, VXF_DMA_ADDR, addr);
		vx_build_uint(&c->out, VXF_DMA_COUNT, count);
		vx_build_bytes(&c->out, VXF_DMA_DATA, w->mem + (addr - w->addr),
		    (size_t)count);
		c->stats.served_reads++;
	} else {
		if (count > 0)
			memcpy(w->mem + (addr - w->addr), data->ptr,
			    (size_t)count);
		if (c->opts.dma_write_reply != VX_VAR_QEMU)
			vx_build_uint(&c->out, VXF_DMA_ADDR, addr);
		if (c->opts.dma_write_reply == VX_VAR_SPEC)
			vx_build_uint(&c->out, VXF_DMA_COUNT32, count);
		else if (c->opts.dma_write_reply != VX_VAR_QEMU)
			vx_build_uint(&c->out, VXF_DMA_COUNT, count);
		c->stats.served_writes++;
	}
	if (vx_build_finish(&c->out, &m) < 0)
		return VX_ERR_NOMEM;
	return vx_conn_send(c->conn, chan, m.buf, m.len, NULL, 0);
}

/* Every event but the awaited reply: serve commands, drop the rest. */
static void
on_event(void *arg, struct vx_conn *conn, struct vx_conn_event *ev)
{
	struct vx_client *c = arg;

	(void)conn;
	if (ev->kind == VX_CONN_EV_REQUEST)
		serve_one(c, ev);
	else if (ev->kind == VX_CONN_EV_STRAY || ev->kind == VX_CONN_EV_BAD)
		c->stats.stray++;
}

int
vx_client_serve(struct vx_client *c, int timeout_ms, const int *extra,
    int nextra, int *ready)
{
	struct pollfd pfd[VX_CONN_MAX_POLLFDS + VX_CLIENT_MAX_EXTRA];
	struct vx_conn_event ev;
	int64_t now, deadline = -1;
	int i, n, r, left;

	if (ready != NULL)
		*ready = -1;
	if (nextra > VX_CLIENT_MAX_EXTRA)
		nextra = VX_CLIENT_MAX_EXTRA;
	if (timeout_ms >= 0)
		deadline = vx_conn_now_ms(NULL) + timeout_ms;
	for (;;) {
		while ((r = vx_conn_step(c->conn, &ev)) > 0)
			on_event(c, c->conn, &ev);
		if (r == 0)
			r = vx_conn_ended(c->conn);
		if (r == VX_ERR_CLOSED || r == VX_ERR_TRUNCATED)
			return vxc_fail(c, VX_ERR_CLOSED, "server closed the "
			    "connection");
		if (r < 0)
			return vxc_fail(c, r, "connection failed: %s",
			    vx_strerror(r));
		n = vx_conn_pollfds(c->conn, pfd);
		for (i = 0; i < nextra; i++) {
			pfd[n + i].fd = extra[i];
			pfd[n + i].events = POLLIN;
			pfd[n + i].revents = 0;
		}
		left = -1;
		if (deadline >= 0) {
			now = vx_conn_now_ms(NULL);
			left = deadline > now ? (int)(deadline - now) : 0;
		}
		r = poll(pfd, (nfds_t)(n + nextra), left);
		/* a signal ends serving: the caller checks why */
		if (r < 0 && errno != EINTR)
			return vxc_fail(c, VX_ERR_IO, "connection failed: %s",
			    vx_strerror(VX_ERR_IO));
		if (r <= 0)
			return 0;
		for (i = 0; i < nextra; i++)
			if (pfd[n + i].revents) {
				if (ready != NULL)
					*ready = i;
				return 0;
			}
	}
}

/* --- commands ----------------------------------------------------------- */

int
vx_client_call(struct vx_client *c, uint8_t *msg, size_t len,
    const int *fds, int nfds, struct vx_msg *reply)
{
	struct vx_conn_event ev;
	int r;

	drop_reply(c);
	r = vx_conn_call(c->conn, VX_CHAN_MAIN, msg, len, fds, nfds,
	    c->opts.timeout_ms, &ev);
	if (r < 0)
		return vxc_fail(c, r, "%s", vx_conn_errmsg(c->conn));
	if (ev.frame == NULL)	/* VX_F_NO_REPLY: sent */
		return 0;
	/* the conn decodes only when asked: this reply's items stay */
	r = vx_conn_decode(c->conn, &ev, reply);
	vx_conn_take(c->conn, &ev, &c->reply);
	c->have_reply = 1;
	if (r < 0)
		return vxc_fail(c, r, "decoding the reply: %s", vx_strerror(r));
	return 0;
}

int
vx_client_call_built(struct vx_client *c, struct vx_builder *b,
    const int *fds, int nfds, struct vx_msg *reply)
{
	struct vx_msg m;
	int r;

	if ((r = vx_build_finish(b, &m)) < 0)
		return vxc_fail(c, r, "building the message: %s", vx_strerror(r));
	return vx_client_call(c, b->buf, m.len, fds, nfds, reply);
}

/* --- connection ---------------------------------------------------------- */

static char *
version_json(const struct vx_client_opts *o)
{
	json_t *root, *caps;
	char *s;

	caps = json_object();
	json_object_set_new(caps, "max_msg_fds", json_integer(
	    (json_int_t)o->max_fds));
	json_object_set_new(caps, "max_data_xfer_size", json_integer(
	    (json_int_t)o->max_xfer));
	json_object_set_new(caps, "pgsizes", json_integer(4096));
	if (o->twin_socket)
		json_object_set_new(caps, "twin_socket",
		    json_pack("{s:b}", "supported", 1));
	if (o->write_multiple)
		json_object_set_new(caps, "write_multiple", json_true());
	root = json_pack("{s:o}", "capabilities", caps);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

static int
negotiate(struct vx_client *c)
{
	const struct vx_session *s = vx_conn_session(c->conn);
	const struct vx_caps *srv;
	struct vx_builder b;
	struct vx_msg m;
	const struct vx_item *it;
	char *js = version_json(&c->opts);
	uint64_t maxmsg, major, minor;
	int r;

	if (js == NULL)
		return vxc_fail(c, VX_ERR_NOMEM, "out of memory");
	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_VERSION, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_VER_MAJOR, VX_PROTO_MAJOR);
	vx_build_uint(&b, VXF_VER_MINOR, VX_PROTO_MINOR);
	vx_build_bytes(&b, VXF_VER_JSON, js, strlen(js) + 1);
	free(js);
	r = vx_client_call_built(c, &b, NULL, 0, &m);
	vx_builder_release(&b);
	if (r < 0)
		return r;
	if ((m.flags & VX_F_ERROR) && m.error == EBUSY)
		return vxc_fail(c, VX_ERR_INVALID, "server busy: it serves one "
		    "client at a time and another is attached (EBUSY); try "
		    "again when that one has gone");
	if (m.flags & VX_F_ERROR)
		return vxc_fail(c, VX_ERR_INVALID, "server refused VERSION: %s "
		    "(%u)", vx_tok_name(vx_names_errno, m.error) ?
		    vx_tok_name(vx_names_errno, m.error) : "error", m.error);
	if (m.status != VX_MSG_OK || m.caps == NULL)
		return vxc_fail(c, VX_ERR_INVALID, "malformed VERSION reply: %s",
		    m.status == VX_MSG_MALFORMED ? m.err.text : "unknown");
	/* the session has taken the reply in: what was agreed is there */
	if ((srv = vx_session_caps(s, VX_S2C)) == NULL ||
	    vx_session_version(s, VX_S2C, &major, &minor) < 0)
		return vxc_fail(c, VX_ERR_INVALID, "VERSION reply not taken "
		    "as the answer to our VERSION");
	if (major != VX_PROTO_MAJOR)
		return vxc_fail(c, VX_ERR_UNSUPPORTED, "server speaks vfio-user "
		    "%u.%u, this client %d.%d", (uint16_t)major,
		    (uint16_t)minor, VX_PROTO_MAJOR, VX_PROTO_MINOR);
	if ((it = vx_msg_item(&m, VXF_VER_JSON)) != NULL && it->ptr != NULL)
		c->srv_json = strndup((const char *)it->ptr, it->len);
	maxmsg = VX_MSG_FOR_XFER(srv->max_data_xfer_size);
	vx_conn_set_peer_limits(c->conn, srv->max_msg_fds > VX_MAX_FDS ?
	    VX_MAX_FDS : (int)srv->max_msg_fds, maxmsg > VX_MAX_MSG_CAP ?
	    VX_MAX_MSG_CAP : (uint32_t)maxmsg);

	if (c->opts.twin_socket && srv->twin_supported) {
		if (!(srv->present & VX_CAPF_TWIN_FD) ||
		    srv->twin_fd_index >= (uint64_t)c->reply.nfds)
			return vxc_fail(c, VX_ERR_FDS, "server accepted the twin "
			    "socket but its fd_index does not name one of "
			    "the %d descriptors it sent", c->reply.nfds);
		vx_conn_set_twin(c->conn, c->reply.fds[srv->twin_fd_index]);
		c->reply.fds[srv->twin_fd_index] = -1;
	}
	drop_reply(c);
	return 0;
}

int
vx_client_open(struct vx_client **cp, const char *path,
    const struct vx_client_opts *opts)
{
	static const struct vx_client_opts def = VX_CLIENT_OPTS_DEFAULT;
	struct vx_client *c;
	struct vx_limits lim;
	uint64_t maxmsg;
	int sock;

	if ((*cp = c = calloc(1, sizeof(*c))) == NULL)
		return VX_ERR_NOMEM;
	c->opts = opts != NULL ? *opts : def;
	vx_builder_init(&c->out);
	maxmsg = VX_MSG_FOR_XFER(c->opts.max_xfer > VX_DEF_MAX_XFER ?
	    c->opts.max_xfer : VX_DEF_MAX_XFER);
	lim.max_msg_size = maxmsg > VX_MAX_MSG_CAP ? VX_MAX_MSG_CAP :
	    (uint32_t)maxmsg;
	lim.max_fds = VX_MAX_FDS;

	if ((sock = vx_sock_connect(path, c->opts.timeout_ms)) < 0)
		return vxc_fail(c, sock, "cannot connect to '%s': %s", path,
		    sock == VX_ERR_IO ? strerror(errno) : vx_strerror(sock));
	if ((c->conn = vx_conn_new(sock, VX_CONN_CLIENT, &lim)) == NULL)
		return vxc_fail(c, VX_ERR_NOMEM, "out of memory");
	vx_conn_set_handler(c->conn, on_event, c);
	return negotiate(c);
}

void
vx_client_close(struct vx_client *c)
{
	unsigned i;

	if (c == NULL)
		return;
	drop_reply(c);
	for (i = 0; i < c->nwins; i++) {
		if (c->wins[i].fd >= 0) {
			munmap(c->wins[i].mem, (size_t)c->wins[i].size);
			close(c->wins[i].fd);
		} else {
			free(c->wins[i].mem);
		}
	}
	free(c->wins);
	vx_conn_free(c->conn);
	vx_builder_release(&c->out);
	free(c->srv_json);
	free(c);
}

/* --- what the caller may read -------------------------------------------- */

const char *
vx_client_errmsg(const struct vx_client *c)
{
	return c != NULL ? c->errmsg : vx_strerror(VX_ERR_NOMEM);
}

uint32_t
vx_client_reply_errno(const struct vx_client *c)
{
	return c->reply_errno;
}

const struct vx_conn *
vx_client_conn(const struct vx_client *c)
{
	return c->conn;
}

const char *
vx_client_server_json(const struct vx_client *c)
{
	return c->srv_json;
}

uint64_t
vx_client_xfer(const struct vx_client *c)
{
	const struct vx_caps *srv = vx_session_caps(vx_conn_session(c->conn),
	    VX_S2C);

	if (srv == NULL)
		return VX_DEF_MAX_XFER;
	return c->opts.max_xfer < srv->max_data_xfer_size ? c->opts.max_xfer :
	    srv->max_data_xfer_size;
}

const struct vx_dma_win *
vx_client_dma_windows(const struct vx_client *c, unsigned *n)
{
	*n = c->nwins;
	return c->wins;
}

const struct vx_client_stats *
vx_client_stats(const struct vx_client *c)
{
	return &c->stats;
}

/* --- DMA ---------------------------------------------------------------- */

static void
free_win(struct vx_dma_win *w)
{
	if (w->fd >= 0) {
		munmap(w->mem, (size_t)w->size);
		close(w->fd);
	} else {
		free(w->mem);
	}
}

static void
remove_win(struct vx_client *c, unsigned i)
{
	free_win(&c->wins[i]);
	memmove(&c->wins[i], &c->wins[i + 1],
	    (c->nwins - i - 1) * sizeof(c->wins[0]));
	c->nwins--;
}

int
vx_client_dma_map(struct vx_client *c, uint64_t addr, uint64_t size,
    uint32_t prot, int use_fd, struct vx_msg *reply)
{
	struct vx_dma_win w;
	struct vx_builder b;
	unsigned i;
	int r;

	if (size == 0 || addr + size < addr)
		return vxc_fail(c, VX_ERR_INVALID, "invalid DMA window 0x%llx+0x%llx",
		    (unsigned long long)addr, (unsigned long long)size);
	if (size > ((uint64_t)1 << 32))
		return vxc_fail(c, VX_ERR_TOO_LARGE, "DMA window of 0x%llx bytes "
		    "is larger than this client backs (4 GiB)",
		    (unsigned long long)size);
	for (i = 0; i < c->nwins; i++)
		if (addr < c->wins[i].addr + c->wins[i].size &&
		    c->wins[i].addr < addr + size)
			return vxc_fail(c, VX_ERR_INVALID, "DMA window 0x%llx+0x%llx "
			    "overlaps the mapped 0x%llx+0x%llx; unmap it first",
			    (unsigned long long)addr, (unsigned long long)size,
			    (unsigned long long)c->wins[i].addr,
			    (unsigned long long)c->wins[i].size);
	memset(&w, 0, sizeof(w));
	w.addr = addr;
	w.size = size;
	w.prot = prot;
	w.fd = -1;
	if (use_fd) {
		void *p;

		w.fd = memfd_create("vfuctl-dma", MFD_CLOEXEC);
		if (w.fd < 0 || ftruncate(w.fd, (off_t)size) < 0) {
			r = errno;
			if (w.fd >= 0)
				close(w.fd);
			return vxc_fail(c, VX_ERR_IO, "memfd for DMA: %s",
			    strerror(r));
		}
		p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, w.fd, 0);
		if (p == MAP_FAILED) {
			r = errno;
			close(w.fd);
			return vxc_fail(c, VX_ERR_IO, "mmap of the DMA memfd: %s",
			    strerror(r));
		}
		w.mem = p;
	} else if ((w.mem = calloc(1, (size_t)size)) == NULL) {
		return vxc_fail(c, VX_ERR_NOMEM, "out of memory for 0x%llx bytes "
		    "of DMA memory", (unsigned long long)size);
	}
	if (c->nwins == c->wcap) {
		unsigned ncap = c->wcap ? c->wcap * 2 : 8;
		struct vx_dma_win *nw = realloc(c->wins, ncap * sizeof(*nw));

		if (nw == NULL) {
			free_win(&w);
			return vxc_fail(c, VX_ERR_NOMEM, "out of memory");
		}
		c->wins = nw;
		c->wcap = ncap;
	}
	/* registered first: the server may use it before it replies */
	c->wins[c->nwins++] = w;

	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DMA_MAP, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 32);
	vx_build_uint(&b, VXF_DMA_MAP_FLAGS, prot);
	vx_build_uint(&b, VXF_DMA_MAP_OFFSET, 0);
	vx_build_uint(&b, VXF_DMA_ADDR, addr);
	vx_build_uint(&b, VXF_DMA_SIZE, size);
	r = vx_client_call_built(c, &b, use_fd ? &w.fd : NULL, use_fd ? 1 : 0,
	    reply);
	vx_builder_release(&b);
	if (r == 0 && (reply->flags & VX_F_ERROR))
		r = vxc_refused(c, reply, "DMA_MAP");
	if (r < 0) {
		for (i = 0; i < c->nwins; i++)
			if (c->wins[i].addr == addr) {
				remove_win(c, i);
				break;
			}
	}
	return r;
}

int
vx_client_dma_unmap(struct vx_client *c, uint64_t addr, uint64_t size,
    int all, struct vx_msg *reply)
{
	struct vx_builder b;
	unsigned i;
	int r;

	if (!all) {
		for (i = 0; i < c->nwins; i++)
			if (c->wins[i].addr == addr && c->wins[i].size == size)
				break;
		if (i == c->nwins)
			return vxc_fail(c, VX_ERR_INVALID, "no DMA window "
			    "0x%llx+0x%llx is mapped; see 'dma list'",
			    (unsigned long long)addr, (unsigned long long)size);
	}
	vx_builder_init(&b);
	vx_build_header(&b, 0, VX_CMD_DMA_UNMAP, VX_F_TYPE_COMMAND, 0);
	vx_build_uint(&b, VXF_ARGSZ, 24);
	vx_build_uint(&b, VXF_DMA_UNMAP_FLAGS, all ? VX_DMA_UNMAP_ALL : 0);
	vx_build_uint(&b, VXF_DMA_ADDR, all ? 0 : addr);
	vx_build_uint(&b, VXF_DMA_SIZE, all ? 0 : size);
	r = vx_client_call_built(c, &b, NULL, 0, reply);
	vx_builder_release(&b);
	if (r == 0 && (reply->flags & VX_F_ERROR))
		r = vxc_refused(c, reply, "DMA_UNMAP");
	if (r < 0)
		return r;
	/* the server no longer uses it: release our side */
	for (i = c->nwins; i-- > 0;)
		if (all || (c->wins[i].addr == addr && c->wins[i].size == size))
			remove_win(c, i);
	return 0;
}
