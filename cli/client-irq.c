/*
 * client-irq.c - the client's interrupt commands: irq enable, disable,
 * trigger, mask, unmask (DEVICE_SET_IRQS through lib) and wait-irq (the
 * eventfds polled while lib serves the sockets); one print path shows
 * text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cli.h"
#include "client-int.h"

static int
irq_arg(struct cl *cl, const char *s, uint32_t *idx)
{
	uint64_t v;

	if (strcasecmp(s, "msix") == 0)
		v = VX_IRQ_MSIX;
	else if (vx_tok_value(vx_names_irq, s, &v) < 0 &&
	    vx_parse_u64(s, &v) < 0)
		return cl_err(cl, VX_EXIT_USAGE, "invalid IRQ index '%s': want "
		    "intx, msi, msix, err, req or a number", s);
	if (v > UINT32_MAX)
		return cl_err(cl, VX_EXIT_USAGE, "invalid IRQ index '%s'", s);
	*idx = (uint32_t)v;
	return 0;
}

static int
set_irqs(struct cl *cl, uint32_t flags, uint32_t idx, uint32_t start,
    uint32_t count, const int *fds, int nfds)
{
	int r = vx_client_set_irqs(cl->c, flags, idx, start, count, fds,
	    nfds);

	return r < 0 ? cl_call_err(cl, r) : 0;
}

void
cl_close_irqfds(struct cl *cl, uint32_t idx, int all)
{
	int i, k = 0;

	for (i = 0; i < cl->nirqfds; i++) {
		if (all || cl->irqfds[i].index == idx)
			close(cl->irqfds[i].fd);
		else
			cl->irqfds[k++] = cl->irqfds[i];
	}
	cl->nirqfds = k;
}

static int
irq_disable(struct cl *cl, int argc, uint32_t idx)
{
	char nb[16];
	int r;

	if (argc != 3)
		return cl_usage(cl, "irq");
	if ((r = set_irqs(cl, VX_IRQ_DATA_NONE | VX_IRQ_ACTION_TRIGGER, idx, 0,
	    0, NULL, 0)) != 0)
		return r;
	cl_close_irqfds(cl, idx, 0);
	cl_printf(cl, "%s disabled\n", cl_irq_name(idx, nb, sizeof(nb)));
	return 0;
}

/* One eventfd per vector, passed at most max_msg_fds a message. */
static int
irq_enable(struct cl *cl, uint32_t idx, uint64_t start, uint64_t count,
    const char *count_arg)
{
	int fds[CL_MAX_IRQFDS];
	uint32_t i, done = 0, chunk;
	int maxfds = vx_conn_peer_max_fds(vx_client_conn(cl->c)) > 0 ?
	    vx_conn_peer_max_fds(vx_client_conn(cl->c)) : 1;
	char nb[16];
	int r;

	if (count == 0 || count + (uint64_t)cl->nirqfds > CL_MAX_IRQFDS)
		return cl_err(cl, VX_EXIT_USAGE, "invalid count %s: want "
		    "1..%d eventfds in all", count_arg,
		    CL_MAX_IRQFDS - cl->nirqfds);
	for (i = 0; i < count; i++) {
		if ((fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			r = errno;
			while (i-- > 0)
				close(fds[i]);
			return cl_err(cl, VX_EXIT_FAIL, "eventfd: %s",
			    strerror(r));
		}
	}
	while (done < count) {
		chunk = (uint32_t)count - done;
		if (chunk > (uint32_t)maxfds)
			chunk = (uint32_t)maxfds;
		r = set_irqs(cl, VX_IRQ_DATA_EVENTFD | VX_IRQ_ACTION_TRIGGER,
		    idx, (uint32_t)start + done, chunk, fds + done, (int)chunk);
		if (r != 0) {
			for (i = 0; i < count; i++)
				close(fds[i]);
			return r;
		}
		done += chunk;
	}
	for (i = 0; i < count; i++) {
		cl->irqfds[cl->nirqfds].index = idx;
		cl->irqfds[cl->nirqfds].vector = (uint32_t)start + i;
		cl->irqfds[cl->nirqfds++].fd = fds[i];
	}
	cl_printf(cl, "%s vectors %llu..%llu enabled (eventfds)\n",
	    cl_irq_name(idx, nb, sizeof(nb)), (unsigned long long)start,
	    (unsigned long long)(start + count - 1));
	return 0;
}

int
cl_c_irq(struct cl *cl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	uint64_t start = 0, count = 0;
	uint32_t idx = 0, act;
	char nb[16];
	int r;

	if (argc < 3)
		return cl_usage(cl, "irq");
	if ((r = irq_arg(cl, argv[2], &idx)) != 0)
		return r;
	if (strcmp(sub, "disable") == 0)
		return irq_disable(cl, argc, idx);
	if (argc != 5)
		return cl_usage(cl, "irq");
	if ((r = cl_num_arg(cl, "start", argv[3], &start)) != 0 ||
	    (r = cl_num_arg(cl, "count", argv[4], &count)) != 0)
		return r;
	if (start > UINT32_MAX || count > UINT32_MAX - start)
		return cl_err(cl, VX_EXIT_USAGE, "invalid vector range %s+%s",
		    argv[3], argv[4]);
	if (strcmp(sub, "enable") == 0)
		return irq_enable(cl, idx, start, count, argv[4]);
	if (strcmp(sub, "trigger") && strcmp(sub, "mask") &&
	    strcmp(sub, "unmask"))
		return cl_usage(cl, "irq");
	act = sub[0] == 't' ? VX_IRQ_ACTION_TRIGGER :
	    sub[0] == 'm' ? VX_IRQ_ACTION_MASK : VX_IRQ_ACTION_UNMASK;
	if ((r = set_irqs(cl, VX_IRQ_DATA_NONE | act, idx, (uint32_t)start,
	    (uint32_t)count, NULL, 0)) != 0)
		return r;
	cl_printf(cl, "%s vectors %llu+%llu %s\n",
	    cl_irq_name(idx, nb, sizeof(nb)), (unsigned long long)start,
	    (unsigned long long)count, sub[0] == 't' ? "triggered" :
	    sub[0] == 'm' ? "masked" : "unmasked");
	return 0;
}

/* Read every enabled vector's eventfd; print those that fired. */
static unsigned
collect_fired(struct cl *cl)
{
	unsigned fired = 0;
	char nb[16];
	int i;

	for (i = 0; i < cl->nirqfds; i++) {
		const struct cl_irqfd *f = &cl->irqfds[i];
		uint64_t n;

		if (read(f->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
			continue;
		fired++;
		cl_open_object(cl, NULL);
		cl_print_string(cl, PRINT_ANY, "irq", "%s",
		    cl_irq_name(f->index, nb, sizeof(nb)));
		cl_print_uint(cl, PRINT_JSON, "index", NULL, f->index);
		cl_print_uint(cl, PRINT_ANY, "vector", " vector %llu fired",
		    f->vector);
		cl_print_uint(cl, PRINT_ANY, "count", " (%llu)\n", n);
		cl_close_object(cl);
	}
	return fired;
}

/* wait-irq [TIMEOUT]: wait for an enabled vector's eventfd */
int
cl_c_wait_irq(struct cl *cl, int argc, char **argv)
{
	int fds[CL_MAX_IRQFDS + 1];
	int ms = 1000, i, ready, r, nfds;
	unsigned fired = 0;
	int64_t end;

	if (argc > 2)
		return cl_usage(cl, "wait-irq");
	if (argc == 2 && (r = cl_ms_arg(cl, argv[1], &ms)) != 0)
		return r;
	if (cl->nirqfds == 0)
		return cl_err(cl, VX_EXIT_USAGE, "no interrupt is enabled; run "
		    "'irq enable INDEX START COUNT' first");
	for (i = 0; i < cl->nirqfds; i++)
		fds[i] = cl->irqfds[i].fd;
	nfds = cl->nirqfds;
	if (cl_sigfd >= 0)
		fds[nfds++] = cl_sigfd;	/* Ctrl-C wakes the wait */
	end = cl_mono_ms() + ms;
	cl_open_array(cl, "fired");
	for (;;) {
		int64_t left = end - cl_mono_ms();

		/* the sockets are served while we wait */
		r = vx_client_serve(cl->c, left > 0 ? (int)left : 0, fds, nfds,
		    &ready);
		if (r < 0)
			return cl_err(cl, VX_EXIT_FAIL, "%s", vx_client_errmsg(cl->c));
		/* every vector that fired, not only the first */
		fired += collect_fired(cl);
		if (fired || cl_mono_ms() >= end)
			break;
		if (cl_interrupted)
			return cl_err(cl, VX_EXIT_FAIL, "wait-irq interrupted");
	}
	cl_close_array(cl);
	if (!fired)
		return cl_err(cl, VX_EXIT_FAIL, "no interrupt within %d ms", ms);
	return 0;
}
