/*
 * test-conn.c - the connection engine against scripted peers over
 * socketpairs: a reply split at every byte, several messages in one read,
 * descriptors with a split message, the twin socket, per-call deadlines on
 * a clock the test moves, peer death mid-message, msg_id wrap with calls
 * pending, replies nobody awaits, many connections in one poll loop, the
 * blocking helper and its handler; the session it keeps of what goes
 * out and comes in; and no descriptor leaks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-session.h"
#include "vx-wire.h"
#include "helpers.h"
#include "unit.h"

static int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Write n bytes to the peer's end with nfds descriptors on the first. */
static void
peer_write(int s, const void *p, size_t n, const int *fds, int nfds)
{
	if (unit_send_fds(s, p, n, fds, nfds) < 0)
		diag("peer_write: %s", strerror(errno));
}

/* Read one whole message from the peer's end: its length, or -1. */
static ssize_t
peer_read(int s, uint8_t *buf, size_t cap)
{
	size_t got = 0, want = VX_HDR_SIZE;
	ssize_t n;

	while (got < want) {
		if ((n = read(s, buf + got, want - got)) <= 0)
			return -1;
		got += (size_t)n;
		if (got == VX_HDR_SIZE) {
			want = (size_t)vx_load(buf + 4, 4, 0);
			if (want < VX_HDR_SIZE || want > cap)
				return -1;
		}
	}
	return (ssize_t)got;
}

/* A connection on one end of a socketpair; *peer is the other end. */
static struct vx_conn *
pair(int role, int *peer)
{
	struct vx_conn *c;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	*peer = sv[1];
	c = vx_conn_new(sv[0], role, NULL);
	vx_conn_set_clock(c, fake_clock, NULL);
	return c;
}

/* Start a 24-byte REGION_READ-like call; its msg_id, read by the peer. */
static int
start_call(struct vx_conn *c, int peer, int timeout_ms, void *cookie)
{
	uint8_t m[24], got[64];
	int id;

	unit_mkmsg(m, sizeof(m), 0, VX_CMD_REGION_READ, VX_F_TYPE_COMMAND);
	id = vx_conn_start(c, VX_CHAN_MAIN, m, sizeof(m), NULL, 0, timeout_ms,
	    cookie);
	if (id >= 0 && peer_read(peer, got, sizeof(got)) != sizeof(m))
		return -100;
	return id;
}

static int
step(struct vx_conn *c, struct vx_conn_event *ev)
{
	return vx_conn_step(c, ev);
}

static void
test_split_every_byte(void)
{
	struct vx_conn_event ev;
	uint8_t reply[40];
	struct vx_conn *c;
	int peer, id, bad = 0;
	size_t k;

	c = pair(VX_CONN_CLIENT, &peer);
	for (k = 1; k < sizeof(reply); k++) {
		id = start_call(c, peer, -1, (void *)k);
		unit_mkmsg(reply, sizeof(reply), (uint16_t)id, VX_CMD_REGION_READ,
		    VX_F_TYPE_REPLY);
		peer_write(peer, reply, k, NULL, 0);
		if (step(c, &ev) != 0 || vx_conn_pending(c) != 1)
			bad++;
		peer_write(peer, reply + k, sizeof(reply) - k, NULL, 0);
		if (step(c, &ev) != 1 || ev.kind != VX_CONN_EV_CALL ||
		    ev.err != 0 || ev.cookie != (void *)k || ev.frame == NULL ||
		    ev.frame->len != sizeof(reply) ||
		    memcmp(ev.frame->data, reply, sizeof(reply)) != 0)
			bad++;
		if (step(c, &ev) != 0)
			bad++;
	}
	ok(bad == 0, "a reply split at each of its 39 inner bytes: nothing "
	    "before its last byte, then the call with its bytes (%d bad)", bad);
	vx_conn_free(c);
	close(peer);
}

static void
test_many_in_one_read(void)
{
	struct vx_conn_event ev;
	uint8_t buf[4 * 64];
	struct vx_conn *c;
	size_t n = 0;
	int peer, ids[3], i, kinds[8], nev = 0;
	void *cookies[8];

	c = pair(VX_CONN_CLIENT, &peer);
	for (i = 0; i < 3; i++)
		ids[i] = start_call(c, peer, -1, &ids[i]);
	/* replies out of order, a request between them, one write */
	n += unit_mkmsg(buf + n, 20, (uint16_t)ids[2], VX_CMD_REGION_READ,
	    VX_F_TYPE_REPLY);
	n += unit_mkmsg(buf + n, 32, 7, VX_CMD_DMA_READ, VX_F_TYPE_COMMAND);
	n += unit_mkmsg(buf + n, 16, (uint16_t)ids[0], VX_CMD_REGION_READ,
	    VX_F_TYPE_REPLY);
	n += unit_mkmsg(buf + n, 64, (uint16_t)ids[1], VX_CMD_REGION_READ,
	    VX_F_TYPE_REPLY);
	peer_write(peer, buf, n, NULL, 0);
	while (nev < 8 && step(c, &ev) == 1) {
		kinds[nev] = ev.kind;
		cookies[nev++] = ev.cookie;
	}
	ok(nev == 4 && kinds[0] == VX_CONN_EV_CALL && cookies[0] == &ids[2] &&
	    kinds[1] == VX_CONN_EV_REQUEST && kinds[2] == VX_CONN_EV_CALL &&
	    cookies[2] == &ids[0] && kinds[3] == VX_CONN_EV_CALL &&
	    cookies[3] == &ids[1] && vx_conn_pending(c) == 0,
	    "four messages in one write: four events in order, each reply to "
	    "its call (%d events)", nev);
	vx_conn_free(c);
	close(peer);
}

static void
test_fds_with_split_message(void)
{
	struct vx_conn_event ev;
	uint8_t buf[48 + 16];
	struct vx_conn *c;
	int peer, efd[2], r1, r2, nfds1 = -1, nfds2 = -1;
	uint64_t one = 1, v = 0;

	c = pair(VX_CONN_SERVER, &peer);
	efd[0] = eventfd(0, EFD_CLOEXEC);
	efd[1] = eventfd(0, EFD_CLOEXEC);
	unit_mkmsg(buf, 48, 3, VX_CMD_DEVICE_SET_IRQS, VX_F_TYPE_COMMAND);
	unit_mkmsg(buf + 48, 16, 4, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND);
	/* descriptors ride the second chunk, mid-message; the next message
	 * follows in the same write as the first message's tail */
	peer_write(peer, buf, 10, NULL, 0);
	r1 = step(c, &ev);
	peer_write(peer, buf + 10, 30, efd, 2);
	peer_write(peer, buf + 40, sizeof(buf) - 40, NULL, 0);
	r2 = step(c, &ev);
	if (r2 == 1 && ev.kind == VX_CONN_EV_REQUEST && ev.id == 3) {
		nfds1 = ev.frame->nfds;
		if (nfds1 == 2) {
			/* the descriptor is the eventfd we sent */
			if (write(ev.frame->fds[1], &one, sizeof(one)) !=
			    sizeof(one) || read(efd[1], &v, sizeof(v)) !=
			    sizeof(v))
				v = 0;
		}
	}
	if (step(c, &ev) == 1 && ev.kind == VX_CONN_EV_REQUEST && ev.id == 4)
		nfds2 = ev.frame->nfds;
	ok(r1 == 0 && nfds1 == 2 && v == 1 && nfds2 == 0, "descriptors sent "
	    "with the middle of a split message are that message's (%d), the "
	    "next message has none (%d)", nfds1, nfds2);
	close(efd[0]);
	close(efd[1]);
	vx_conn_free(c);
	close(peer);
}

static void
test_twin(void)
{
	struct vx_conn_event ev;
	uint8_t m[32], got[64];
	struct vx_conn *c;
	int peer, tw[2], id, r1, chan1 = -1, r2, kind2 = -1, chan2 = -1;
	int decoded = 0;
	struct vx_msg dm;
	ssize_t n;

	c = pair(VX_CONN_CLIENT, &peer);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tw);
	vx_conn_set_twin(c, tw[0]);
	id = start_call(c, peer, -1, NULL);
	/* the server asks on the twin before it answers on main */
	unit_mkmsg(m, 32, 9, VX_CMD_DMA_READ, VX_F_TYPE_COMMAND);
	peer_write(tw[1], m, 32, NULL, 0);
	r1 = step(c, &ev);
	if (r1 == 1 && ev.kind == VX_CONN_EV_REQUEST &&
	    vx_conn_decode(c, &ev, &dm) == 0 && dm.cmd == VX_CMD_DMA_READ &&
	    dm.dir == VX_S2C && dm.chan == VX_CHAN_TWIN && dm.id == 9)
		decoded = 1;
	if (r1 == 1 && ev.kind == VX_CONN_EV_REQUEST) {
		chan1 = ev.chan;
		unit_mkmsg(m, 20, ev.id, ev.cmd, VX_F_TYPE_REPLY);
		vx_conn_send(c, ev.chan, m, 20, NULL, 0);
	}
	n = peer_read(tw[1], got, sizeof(got));
	unit_mkmsg(m, 16, (uint16_t)id, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 16, NULL, 0);
	r2 = step(c, &ev);
	if (r2 == 1) {
		kind2 = ev.kind;
		chan2 = ev.chan;
	}
	ok(chan1 == VX_CHAN_TWIN && decoded && n == 20 &&
	    vx_load(got, 2, 0) == 9 && kind2 == VX_CONN_EV_CALL &&
	    chan2 == VX_CHAN_MAIN && ev.err == 0, "twin socket: a request "
	    "there comes with chan twin (and decodes as the server's, on the "
	    "twin), its reply goes back there, the call completes on main");
	vx_conn_free(c);
	close(peer);
	close(tw[1]);
}

static void
test_timeout(void)
{
	struct vx_conn_event ev;
	uint8_t m[16];
	struct vx_conn *c;
	int peer, id, id2, r0, t0, r1, r2, kind2 = -1, err2 = 0, r3, kind3;
	void *ck2 = NULL;

	fake_now = 1000;
	c = pair(VX_CONN_CLIENT, &peer);
	id = start_call(c, peer, 500, "first");
	id2 = start_call(c, peer, -1, "second");
	fake_now = 1499;
	r0 = step(c, &ev);
	t0 = vx_conn_timeout(c);
	fake_now = 1500;
	r1 = step(c, &ev);
	if (r1 == 1 && ev.kind == VX_CONN_EV_CALL && ev.err == VX_ERR_TIMEOUT &&
	    ev.id == id)
		r1 = 100;
	/* the late reply is nobody's now; the other call still waits */
	unit_mkmsg(m, 16, (uint16_t)id, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 16, NULL, 0);
	unit_mkmsg(m, 16, (uint16_t)id2, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 16, NULL, 0);
	r2 = step(c, &ev);
	kind2 = ev.kind;
	r3 = step(c, &ev);
	kind3 = ev.kind;
	if (r3 == 1) {
		err2 = ev.err;
		ck2 = ev.cookie;
	}
	ok(r0 == 0 && t0 == 1 && r1 == 100 && r2 == 1 && kind2 == VX_CONN_EV_STRAY && r3 == 1 &&
	    kind3 == VX_CONN_EV_CALL && err2 == 0 && ck2 != NULL &&
	    strcmp(ck2, "second") == 0, "per-call deadline on the owner's "
	    "clock: nothing at 499 ms (1 ms left), the timeout at 500, the "
	    "late reply is a stray, the call without deadline completes");
	vx_conn_free(c);
	close(peer);
	fake_now = 0;
}

static void
test_peer_death(void)
{
	struct vx_conn_event ev;
	struct pollfd pfd[VX_CONN_MAX_POLLFDS];
	uint8_t m[40];
	struct vx_conn *c;
	int peer, id, r[4], k[4], e[4], i;

	c = pair(VX_CONN_CLIENT, &peer);
	id = start_call(c, peer, -1, NULL);
	unit_mkmsg(m, 40, (uint16_t)id, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 25, NULL, 0);
	close(peer);
	for (i = 0; i < 4; i++) {
		r[i] = step(c, &ev);
		k[i] = ev.kind;
		e[i] = ev.err;
	}
	ok(r[0] == 1 && k[0] == VX_CONN_EV_CALL && e[0] == VX_ERR_TRUNCATED &&
	    r[1] == 1 && k[1] == VX_CONN_EV_CLOSED && e[1] == VX_ERR_TRUNCATED &&
	    r[2] == 0 && r[3] == 0 && vx_conn_pollfds(c, pfd) == 0 &&
	    vx_conn_ended(c) == VX_ERR_TRUNCATED,
	    "peer gone mid-message: the pending call fails, then the end, "
	    "both 'truncated'; then nothing, nothing to poll, ended says why");
	ok(vx_conn_start(c, VX_CHAN_MAIN, m, 40, NULL, 0, -1, NULL) ==
	    VX_ERR_CLOSED, "no call starts after the end: %s",
	    vx_conn_errmsg(c));
	vx_conn_free(c);

	c = pair(VX_CONN_CLIENT, &peer);
	close(peer);
	r[0] = step(c, &ev);
	ok(r[0] == 1 && ev.kind == VX_CONN_EV_CLOSED && ev.err ==
	    VX_ERR_CLOSED, "peer gone between messages: 'connection closed'");
	vx_conn_free(c);
}

/* The peer answers, then hangs up before the next call is written. */
static void
test_hangup_before_send(void)
{
	struct vx_conn_event ev;
	uint8_t m[24];
	struct vx_conn *c;
	int peer, a, b, r[3], k[3], e[3], i;
	void *ck[3];

	c = pair(VX_CONN_CLIENT, &peer);
	a = start_call(c, peer, -1, "a");
	unit_mkmsg(m, 24, (uint16_t)a, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 24, NULL, 0);
	close(peer);
	unit_mkmsg(m, 24, 0, VX_CMD_DEVICE_GET_INFO, VX_F_TYPE_COMMAND);
	b = vx_conn_start(c, VX_CHAN_MAIN, m, 24, NULL, 0, -1, "b");
	for (i = 0; i < 3; i++) {
		r[i] = step(c, &ev);
		k[i] = ev.kind;
		e[i] = ev.err;
		ck[i] = ev.cookie;
	}
	ok(b >= 0 && r[0] == 1 && k[0] == VX_CONN_EV_CALL && e[0] == 0 &&
	    strcmp(ck[0], "a") == 0 && r[1] == 1 && k[1] == VX_CONN_EV_CALL &&
	    e[1] == VX_ERR_CLOSED && strcmp(ck[1], "b") == 0 && r[2] == 1 &&
	    k[2] == VX_CONN_EV_CLOSED, "a peer that answered and hung up: its "
	    "answer is read, the call written after it fails 'closed'");
	vx_conn_free(c);
}

static void
test_id_wrap(void)
{
	struct vx_conn_event ev;
	uint8_t m[16];
	struct vx_conn *c;
	int peer, a, b, d, e, f, ok_order = 1;
	const int order[3] = { 0, 65534, 65535 };
	int i;

	c = pair(VX_CONN_CLIENT, &peer);
	vx_conn_set_next_id(c, 65534);
	a = start_call(c, peer, -1, "a");
	b = start_call(c, peer, -1, "b");
	d = start_call(c, peer, -1, "c");
	for (i = 0; i < 3; i++) {
		unit_mkmsg(m, 16, (uint16_t)order[i], VX_CMD_REGION_READ,
		    VX_F_TYPE_REPLY);
		peer_write(peer, m, 16, NULL, 0);
	}
	/* replies to 0, 65534, 65535 come to c, a, b */
	for (i = 0; i < 3; i++)
		if (step(c, &ev) != 1 || ev.kind != VX_CONN_EV_CALL ||
		    strcmp(ev.cookie, i == 0 ? "c" : i == 1 ? "a" : "b") != 0)
			ok_order = 0;
	ok(a == 65534 && b == 65535 && d == 0 && ok_order, "msg_id wraps "
	    "65534, 65535, 0 with calls pending; each reply to its call");

	vx_conn_set_next_id(c, 65535);
	e = start_call(c, peer, -1, "e");	/* 65535 */
	f = start_call(c, peer, -1, "f");	/* 0 */
	vx_conn_set_next_id(c, 65535);
	d = start_call(c, peer, -1, "g");	/* 65535, 0 pending: 1 */
	ok(e == 65535 && f == 0 && d == 1 && vx_conn_pending(c) == 3,
	    "ids still pending are skipped after the wrap (got %d)", d);
	vx_conn_free(c);
	close(peer);
}

static void
test_stray_and_bad(void)
{
	struct vx_conn_event ev;
	uint8_t m[16];
	struct vx_conn *c;
	int peer, id, r1, k1, r2, k2, e2, r3, k3;

	c = pair(VX_CONN_CLIENT, &peer);
	id = start_call(c, peer, -1, "mine");
	unit_mkmsg(m, 16, (uint16_t)(id + 76), VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 16, NULL, 0);
	r1 = step(c, &ev);
	k1 = ev.kind;
	/* msg_size 8: the header stands alone, marked */
	unit_mkmsg(m, 16, 5, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	vx_store(m + 4, 4, 8, 0);
	peer_write(peer, m, 16, NULL, 0);
	r2 = step(c, &ev);
	k2 = ev.kind;
	e2 = ev.err;
	unit_mkmsg(m, 16, (uint16_t)id, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
	peer_write(peer, m, 16, NULL, 0);
	r3 = step(c, &ev);
	k3 = ev.kind;
	ok(r1 == 1 && k1 == VX_CONN_EV_STRAY && r2 == 1 &&
	    k2 == VX_CONN_EV_BAD && e2 == VX_ERR_INVALID && r3 == 1 &&
	    k3 == VX_CONN_EV_CALL && ev.err == 0 && strcmp(ev.cookie,
	    "mine") == 0, "a reply to an unknown msg_id is a stray, an "
	    "unframeable header bad; the pending call still gets its reply");
	vx_conn_free(c);
	close(peer);
}

static void
test_limits(void)
{
	uint8_t m[64];
	struct vx_conn *c;
	int peer, efd[2], r1, r2;

	c = pair(VX_CONN_CLIENT, &peer);
	vx_conn_set_peer_limits(c, 1, 48);
	efd[0] = eventfd(0, EFD_CLOEXEC);
	efd[1] = eventfd(0, EFD_CLOEXEC);
	unit_mkmsg(m, 64, 0, VX_CMD_REGION_WRITE, VX_F_TYPE_COMMAND);
	r1 = vx_conn_start(c, VX_CHAN_MAIN, m, 64, NULL, 0, -1, NULL);
	unit_mkmsg(m, 32, 0, VX_CMD_DEVICE_SET_IRQS, VX_F_TYPE_COMMAND);
	r2 = vx_conn_start(c, VX_CHAN_MAIN, m, 32, efd, 2, -1, NULL);
	ok(r1 == VX_ERR_TOO_LARGE && r2 == VX_ERR_FDS &&
	    vx_conn_pending(c) == 0 && vx_conn_start(c, VX_CHAN_TWIN, m, 32,
	    NULL, 0, -1, NULL) == VX_ERR_INVALID, "the peer's limits refuse "
	    "a call before it is sent, so does a missing twin: %s",
	    vx_conn_errmsg(c));
	close(efd[0]);
	close(efd[1]);
	vx_conn_free(c);
	close(peer);
}

/*
 * A peer that asks without reading the answers: the connection stops
 * reading at VX_CONN_MAX_BACKLOG of untaken output and asks for POLLOUT
 * only, then goes on once the peer reads.
 */
#define NASKS	200
#define ANSWER	(64u << 10)

static void
test_backlog(void)
{
	static uint8_t answer[ANSWER], sink[1u << 16];
	struct pollfd pfd[VX_CONN_MAX_POLLFDS];
	struct vx_conn_event ev;
	uint8_t asks[NASKS * 32];
	struct vx_conn *c;
	int peer, i, answered = 0, stalled, events = 0, rounds = 0;
	int sndbuf = 64 << 10;

	c = pair(VX_CONN_CLIENT, &peer);
	setsockopt(vx_conn_sock(c), SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf));
	for (i = 0; i < NASKS; i++)
		unit_mkmsg(asks + 32 * i, 32, (uint16_t)i, VX_CMD_DMA_READ,
		    VX_F_TYPE_COMMAND);
	peer_write(peer, asks, sizeof(asks), NULL, 0);
	while (vx_conn_step(c, &ev) == 1) {
		unit_mkmsg(answer, ANSWER, ev.id, ev.cmd, VX_F_TYPE_REPLY);
		if (vx_conn_send(c, ev.chan, answer, ANSWER, NULL, 0) == 0)
			answered++;
	}
	stalled = answered;
	if (vx_conn_pollfds(c, pfd) == 1)
		events = pfd[0].events;
	/* the peer reads now: the rest is asked and answered */
	while (answered < NASKS && rounds++ < 100000) {
		while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		while (vx_conn_step(c, &ev) == 1) {
			unit_mkmsg(answer, ANSWER, ev.id, ev.cmd, VX_F_TYPE_REPLY);
			if (vx_conn_send(c, ev.chan, answer, ANSWER, NULL,
			    0) == 0)
				answered++;
		}
	}
	ok(stalled < NASKS && stalled <= (int)(VX_CONN_MAX_BACKLOG / ANSWER) +
	    8 && events == POLLOUT && answered == NASKS, "a peer that asks "
	    "without reading: %d of %d asks taken at the backlog limit, then "
	    "POLLOUT only; all once it reads", stalled, NASKS);
	vx_conn_free(c);
	close(peer);
}

#define NCONNS	64

static void
test_many_conns(void)
{
	struct pollfd pfd[NCONNS * VX_CONN_MAX_POLLFDS];
	struct vx_conn_event ev;
	struct vx_conn *c[NCONNS];
	int peer[NCONNS], ids[NCONNS], done[NCONNS], i, n, ndone = 0, rounds = 0;
	int wrong = 0;
	uint8_t m[24];

	for (i = 0; i < NCONNS; i++) {
		c[i] = pair(VX_CONN_CLIENT, &peer[i]);
		vx_conn_set_clock(c[i], NULL, NULL);
		ids[i] = start_call(c[i], peer[i], 60000, &done[i]);
		done[i] = 0;
	}
	/* answered in reverse order, the odd ones after a server request */
	for (i = NCONNS; i-- > 0;) {
		if (i % 2) {
			unit_mkmsg(m, 24, 1, VX_CMD_DMA_WRITE, VX_F_TYPE_COMMAND |
			    VX_F_NO_REPLY);
			peer_write(peer[i], m, 24, NULL, 0);
		}
		unit_mkmsg(m, 24, (uint16_t)ids[i], VX_CMD_REGION_READ,
		    VX_F_TYPE_REPLY);
		peer_write(peer[i], m, 24, NULL, 0);
	}
	while (ndone < NCONNS && rounds++ < 1000) {
		for (n = 0, i = 0; i < NCONNS; i++)
			n += vx_conn_pollfds(c[i], pfd + n);
		if (poll(pfd, (nfds_t)n, 10000) <= 0)
			break;
		for (i = 0; i < NCONNS; i++)
			while (vx_conn_step(c[i], &ev) == 1) {
				if (ev.kind != VX_CONN_EV_CALL)
					continue;
				if (ev.cookie != &done[i] || ev.err != 0)
					wrong++;
				done[i]++;
				ndone++;
			}
	}
	for (i = 0; i < NCONNS; i++)
		if (done[i] != 1)
			wrong++;
	ok(ndone == NCONNS && wrong == 0, "%d connections in one poll loop: "
	    "every call completes once, on its own connection (%d rounds)",
	    NCONNS, rounds);
	for (i = 0; i < NCONNS; i++) {
		vx_conn_free(c[i]);
		close(peer[i]);
	}
}

/* --- the blocking helper against a peer process --------------------------- */

/*
 * The scripted server: for each command, a DMA_READ request on main first,
 * then the reply, whose error field is that of the DMA_READ's answer;
 * DEVICE_RESET gets no reply at all.
 */
static void
serve_script(int s)
{
	uint8_t in[256], m[32];
	uint16_t id;

	while (peer_read(s, in, sizeof(in)) > 0) {
		id = (uint16_t)vx_load(in, 2, 0);
		if (vx_load(in + 2, 2, 0) == VX_CMD_DEVICE_RESET)
			continue;	/* never answered */
		unit_mkmsg(m, 32, 0x4000, VX_CMD_DMA_READ, VX_F_TYPE_COMMAND);
		peer_write(s, m, 32, NULL, 0);
		if (peer_read(s, in, sizeof(in)) < 0)
			break;
		unit_mkmsg(m, 16, id, VX_CMD_REGION_READ, VX_F_TYPE_REPLY);
		vx_store(m + 12, 4, vx_load(in + 12, 4, 0), 0);
		peer_write(s, m, 16, NULL, 0);
	}
	_exit(0);
}

static int handled;

static void
answer_dma(void *arg, struct vx_conn *c, struct vx_conn_event *ev)
{
	uint8_t m[16];

	(void)arg;
	if (ev->kind != VX_CONN_EV_REQUEST)
		return;
	handled++;
	unit_mkmsg(m, 16, ev->id, ev->cmd, VX_F_TYPE_REPLY | VX_F_ERROR);
	vx_store(m + 12, 4, 42, 0);
	vx_conn_send(c, ev->chan, m, 16, NULL, 0);
}

static void
test_blocking_call(void)
{
	struct vx_conn_event ev;
	struct vx_conn *c;
	uint8_t m[24];
	int sv[2], r1, e1 = -1, r2, e2 = -1, r3, st;
	pid_t pid;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		serve_script(sv[1]);
	}
	close(sv[1]);
	c = vx_conn_new(sv[0], VX_CONN_CLIENT, NULL);
	unit_mkmsg(m, 24, 0, VX_CMD_REGION_READ, VX_F_TYPE_COMMAND);
	r1 = vx_conn_call(c, VX_CHAN_MAIN, m, 24, NULL, 0, 60000, &ev);
	if (r1 == 0 && ev.frame != NULL)
		e1 = (int)vx_load(ev.frame->data + 12, 4, 0);
	vx_conn_set_handler(c, answer_dma, NULL);
	r2 = vx_conn_call(c, VX_CHAN_MAIN, m, 24, NULL, 0, 60000, &ev);
	if (r2 == 0 && ev.frame != NULL)
		e2 = (int)vx_load(ev.frame->data + 12, 4, 0);
	ok(r1 == 0 && e1 == ENOTSUP && r2 == 0 && e2 == 42 && handled == 1,
	    "vx_conn_call serves the peer's request while it waits: refused "
	    "(ENOTSUP) without a handler, the handler's answer with one");
	/* a deadline proven by a peer that never answers */
	unit_mkmsg(m, 16, 0, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND);
	r3 = vx_conn_call(c, VX_CHAN_MAIN, m, 16, NULL, 0, 50, &ev);
	ok(r3 == VX_ERR_TIMEOUT && vx_conn_pending(c) == 0 &&
	    strstr(vx_conn_errmsg(c), "no reply to DEVICE_RESET") != NULL,
	    "vx_conn_call times out when no reply comes: %s",
	    vx_conn_errmsg(c));
	vx_conn_free(c);
	waitpid(pid, &st, 0);
}

/* vx_conn_call to a peer that hung up names the call, posted or not. */
static void
test_call_hangup(void)
{
	static const char *const how[] = { "awaited its reply",
	    "was being sent" };
	struct vx_conn_event ev;
	struct vx_conn *c;
	uint8_t m[16];
	int peer, posted, r;

	for (posted = 0; posted < 2; posted++) {
		c = pair(VX_CONN_CLIENT, &peer);
		close(peer);
		unit_mkmsg(m, 16, 0, VX_CMD_DEVICE_RESET, VX_F_TYPE_COMMAND |
		    (posted ? VX_F_NO_REPLY : 0));
		r = vx_conn_call(c, VX_CHAN_MAIN, m, 16, NULL, 0, 60000, &ev);
		ok(r == VX_ERR_CLOSED && strstr(vx_conn_errmsg(c), "server "
		    "closed the connection while DEVICE_RESET (msg_id") !=
		    NULL && strstr(vx_conn_errmsg(c), how[posted]) != NULL,
		    "vx_conn_call to a peer gone, %s: %s", posted ? "posted" :
		    "awaiting a reply", vx_conn_errmsg(c));
		vx_conn_free(c);
	}
}

/* A VERSION command or reply with JSON js, into b (released by the
 * caller); its length, the message in b->buf. */
static size_t
build_version(struct vx_builder *b, uint16_t id, int reply, unsigned minor,
    const char *js)
{
	struct vx_msg m;

	vx_builder_init(b);
	vx_build_header(b, id, VX_CMD_VERSION, reply ? VX_F_TYPE_REPLY :
	    VX_F_TYPE_COMMAND, 0);
	vx_build_uint(b, VXF_VER_MAJOR, 0);
	vx_build_uint(b, VXF_VER_MINOR, minor);
	vx_build_bytes(b, VXF_VER_JSON, js, strlen(js) + 1);
	return vx_build_finish(b, &m) == 0 ? m.len : 0;
}

static unsigned long long
windows(const struct vx_session *s)
{
	char d[256];
	const char *p;

	vx_session_describe(s, d, sizeof(d));
	p = strstr(d, " IRQ types, ");
	return p != NULL ? strtoull(p + 12, NULL, 10) : ~0ull;
}

/*
 * The session follows both directions: as a server, the client's VERSION
 * that comes in and the reply that goes out, then a DMA_MAP; as a client,
 * the VERSION that goes out and the reply that comes in.
 */
static void
test_session(void)
{
	static const char cjs[] = "{\"capabilities\":{\"max_msg_fds\":8,"
	    "\"max_data_xfer_size\":4096}}";
	static const char sjs[] = "{\"capabilities\":{\"max_msg_fds\":4,"
	    "\"max_data_xfer_size\":2048,\"max_dma_maps\":7}}";
	const struct vx_session *s;
	const struct vx_caps *caps;
	struct vx_conn_event ev;
	struct vx_builder b;
	struct vx_msg m;
	uint8_t buf[256], dma[48];
	uint64_t major = 9, minor = 9;
	struct vx_conn *c;
	size_t n;
	int peer, id;

	c = pair(VX_CONN_SERVER, &peer);
	s = vx_conn_session(c);
	n = build_version(&b, 5, 0, 2, cjs);
	peer_write(peer, b.buf, n, NULL, 0);
	vx_builder_release(&b);
	ok(step(c, &ev) == 1 && ev.kind == VX_CONN_EV_REQUEST &&
	    vx_conn_decode(c, &ev, &m) == 0 && m.cmd == VX_CMD_VERSION &&
	    m.caps != NULL && m.caps->max_msg_fds == 8,
	    "server: the client's VERSION, decoded as it came in");
	caps = vx_session_caps(s, VX_C2S);
	ok(caps != NULL && caps->max_msg_fds == 8 &&
	    caps->max_data_xfer_size == 4096 && vx_session_caps(s, VX_S2C) ==
	    NULL && vx_session_version(s, VX_S2C, &major, &minor) ==
	    VX_ERR_NOENT, "server: the session has the proposal, no answer yet");
	n = build_version(&b, 5, 1, 1, sjs);
	ok(vx_conn_send(c, VX_CHAN_MAIN, b.buf, n, NULL, 0) == 0 &&
	    peer_read(peer, buf, sizeof(buf)) == (ssize_t)n, "server: answered");
	vx_builder_release(&b);
	caps = vx_session_caps(s, VX_S2C);
	ok(caps != NULL && caps->max_dma_maps == 7 && caps->max_msg_fds == 4 &&
	    vx_session_version(s, VX_S2C, &major, &minor) == 0 && major == 0 &&
	    minor == 1, "server: the session has the answer it sent: 0.%llu, "
	    "max_dma_maps %llu", (unsigned long long)minor,
	    caps ? (unsigned long long)caps->max_dma_maps : 0ull);
	unit_mkmsg(dma, sizeof(dma), 6, VX_CMD_DMA_MAP, VX_F_TYPE_COMMAND);
	vx_store(dma + 16, 4, 32, 0);			/* argsz */
	vx_store(dma + 20, 4, VX_DMA_MAP_READ, 0);	/* flags */
	vx_store(dma + 32, 8, 0x10000, 0);		/* address */
	vx_store(dma + 40, 8, 0x1000, 0);		/* size */
	peer_write(peer, dma, sizeof(dma), NULL, 0);
	ok(step(c, &ev) == 1 && ev.kind == VX_CONN_EV_REQUEST &&
	    windows(s) == 1, "server: a DMA_MAP that came in is a window (%llu)",
	    windows(s));
	vx_conn_free(c);
	close(peer);

	c = pair(VX_CONN_CLIENT, &peer);
	s = vx_conn_session(c);
	n = build_version(&b, 0, 0, 2, cjs);
	id = vx_conn_start(c, VX_CHAN_MAIN, b.buf, n, NULL, 0, -1, NULL);
	vx_builder_release(&b);
	ok(id >= 0 && peer_read(peer, buf, sizeof(buf)) == (ssize_t)n &&
	    vx_session_version(s, VX_C2S, &major, &minor) == 0 && minor == 2 &&
	    vx_session_caps(s, VX_S2C) == NULL,
	    "client: the session has the VERSION that went out");
	n = build_version(&b, (uint16_t)id, 1, 1, sjs);
	peer_write(peer, b.buf, n, NULL, 0);
	vx_builder_release(&b);
	ok(step(c, &ev) == 1 && ev.kind == VX_CONN_EV_CALL && ev.err == 0 &&
	    (caps = vx_session_caps(s, VX_S2C)) != NULL &&
	    caps->max_data_xfer_size == 2048 &&
	    vx_session_version(s, VX_S2C, &major, &minor) == 0 && minor == 1,
	    "client: and the reply that came in");
	vx_conn_free(c);
	close(peer);
}

int
main(void)
{
	int nfd = unit_count_fds();

	test_split_every_byte();
	test_many_in_one_read();
	test_fds_with_split_message();
	test_twin();
	test_timeout();
	test_peer_death();
	test_hangup_before_send();
	test_id_wrap();
	test_stray_and_bad();
	test_limits();
	test_backlog();
	test_many_conns();
	test_blocking_call();
	test_call_hangup();
	test_session();
	ok(unit_count_fds() == nfd, "no descriptor leaks (%d open, %d before)",
	    unit_count_fds(), nfd);
	return unit_done();
}
