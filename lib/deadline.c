/*
 * deadline.c - the deadlines a server keeps on its client (deadline-int.h).
 */
#include <limits.h>
#include <stdio.h>

#include "deadline-int.h"
#include "vx-error.h"

/* A deadline ms from now, or 0 (none) for ms 0. */
static int64_t
deadline_in(int ms)
{
	return ms > 0 ? vx_conn_now_ms(NULL) + ms : 0;
}

/* The earlier of two deadlines, 0 meaning none. */
static int64_t
earlier(int64_t a, int64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

void
vx_deadlines_set(struct vx_deadlines *d, int handshake_ms, int message_ms)
{
	d->hs_ms = handshake_ms > 0 ? handshake_ms : 0;
	d->msg_ms = message_ms > 0 ? message_ms : 0;
	d->hs = d->in = d->out = 0;
}

void
vx_deadlines_start(struct vx_deadlines *d)
{
	d->hs = deadline_in(d->hs_ms);
	d->in = d->out = 0;
}

int
vx_deadlines_check(struct vx_deadlines *d, const struct vx_conn *c,
    int handshaken, const char *first, char *why, size_t whycap)
{
	int unsent = vx_conn_unsent(c) > 0;
	int64_t now = vx_conn_now_ms(NULL);

	if (handshaken)
		d->hs = 0;
	/* the message clock stops while a reply waits to be taken */
	if (!vx_conn_partial(c) || unsent)
		d->in = 0;
	else if (d->in == 0)
		d->in = deadline_in(d->msg_ms);
	if (!unsent)
		d->out = 0;
	else if (d->out == 0)
		d->out = deadline_in(d->msg_ms);
	if (d->hs && now >= d->hs)
		snprintf(why, whycap, "sent no %s within %d ms", first,
		    d->hs_ms);
	else if (d->in && now >= d->in)
		snprintf(why, whycap, "left a message unfinished for %d ms",
		    d->msg_ms);
	else if (d->out && now >= d->out)
		snprintf(why, whycap, "took no reply for %d ms", d->msg_ms);
	else
		return 0;
	return VX_ERR_TIMEOUT;
}

int
vx_deadlines_timeout(const struct vx_deadlines *d, int conn_ms)
{
	int64_t dl = earlier(earlier(d->hs, d->in), d->out), ms;

	if (dl == 0)
		return conn_ms;
	ms = dl - vx_conn_now_ms(NULL);
	ms = ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : ms;
	return conn_ms < 0 || ms < conn_ms ? (int)ms : conn_ms;
}
