/*
 * cmd-server.c - vfuctl server: a vfio-user backend program serving one
 * emulated PCI device, described in JSON (vfuctl-device(5)), to clients
 * one after another.
 *
 * Structure: one thread, one poll loop over the listening socket, the
 * connected client's sockets, clients being told "busy" and a signalfd
 * (SIGTERM, SIGINT), with a poll timeout for the nearest deadline.  The
 * protocol is struct vx_server (lib/server.c): requests, the device, DMA,
 * migration, the deadlines on the client; or, with --replay, struct
 * vx_sreplay (lib/server-replay.c), a trace's server side played back in
 * the same loop.  This file adds who may connect, "busy" and logging.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "server-replay-int.h"
#include "vx-conn.h"
#include "vx-cursor.h"
#include "vx-device.h"
#include "vx-error.h"
#include "vx-msg.h"
#include "vx-server.h"
#include "vx-sock.h"

const char cmd_server_usage[] =
	"usage: vfuctl server --socket-path PATH | --fd N\n"
	"                     --device FILE.json | --replay TRACE [--strict]\n"
	"                     [--conn ID] [--window N] [--ignore RULE ...]\n"
	"                     [--rules FILE]\n"
	"                     [--once] [--mode MODE] [--max-data-xfer-size N]\n"
	"                     [--handshake-timeout MS] [--message-timeout MS]\n"
	"                     [--allow-uid UID ...] [--allow-any-uid]\n"
	"                     [-v] [--print-json]\n"
	"\n"
	"Serve the PCI device described in FILE.json (see vfuctl-device(5)) to\n"
	"vfio-user clients, one after another, on a UNIX socket.  Follows the\n"
	"spec's backend program conventions: stays in the foreground, and on\n"
	"SIGTERM removes its socket and exits 0.  With --replay, play the\n"
	"server side of a recorded trace instead: each recorded connection to\n"
	"one client, each live request answered as the recorded request it\n"
	"equals (its command and fields, msg_id aside), the recorded DMA\n"
	"requests and interrupts sent where they were, and every departure of\n"
	"the client from the recording reported on stderr.\n"
	"\n"
	"  --socket-path PATH     listen on PATH (\"@name\": abstract socket)\n"
	"  --fd N                 serve descriptor N: a listening socket, or a\n"
	"                         connected one (then one client only)\n"
	"  --device FILE          the device description (JSON)\n"
	"  --replay TRACE         serve the recorded session(s) in TRACE (as\n"
	"                         vfuctl record or vfuctl import write them),\n"
	"                         then exit\n"
	"  --strict               with --replay: exit 1 if a client departed\n"
	"  --conn ID              with --replay: play only the recorded\n"
	"                         connection ID (1 for dissect's \"c1\")\n"
	"  --window N             with --replay: match a live request among the\n"
	"                         recorded ones up to N past the furthest one\n"
	"                         played and not N behind it (default 4096)\n"
	"  --ignore RULE          with --replay: FIELD [cmd=C] [region=R]\n"
	"                         [offset=N[-M]] may differ from the recording\n"
	"                         (beyond msg_id and padding); repeatable\n"
	"  --rules FILE           with --replay: --ignore rules, one a line\n"
	"  --once                 exit after the first client disconnects\n"
	"  --mode MODE            socket file mode, octal (default 0600); not\n"
	"                         for abstract sockets, which have no file\n"
	"  --allow-uid UID        let UID (a number or user name) connect, as\n"
	"                         root and our own uid may; repeatable\n"
	"  --allow-any-uid        let every local user connect\n"
	"  --max-data-xfer-size N largest data transfer offered in VERSION\n"
	"                         (default 1048576, at most 67108864)\n"
	"  --handshake-timeout MS drop a client that sends no VERSION (with\n"
	"                         --replay: no request) within MS milliseconds\n"
	"                         of connecting (default 5000, 0 none); a\n"
	"                         client that comes while another is attached\n"
	"                         gets EBUSY, within the same time\n"
	"  --message-timeout MS   drop a client that leaves a message half sent,\n"
	"                         or a reply untaken, for MS milliseconds\n"
	"                         (default 5000, 0 none)\n"
	"  -v, --verbose          one summary line per message on stderr\n"
	"  --print-json           print the backend description JSON and exit\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: 0 on SIGTERM or after --once, 1 on failure (with --replay\n"
	"--strict, also when the client departed), 2 on usage errors, bad device\n"
	"descriptions and traces that cannot be served.\n";

#define DEF_DEADLINE_MS	5000		/* --handshake-, --message-timeout */
#define MAX_DEADLINE_MS	86400000	/* a day */

/* Who is on the other end (SO_PEERCRED), for log lines. */
struct peer {
	pid_t pid;
	uid_t uid;
};

#define MAX_IGNORE	32	/* --ignore options; more go in --rules */
#define MAX_BUSY	8	/* clients being told "busy" at once */
/* Connections the kernel holds for us while we serve: a burst of clients
 * waits in it instead of failing to connect (EAGAIN). */
#define LISTEN_BACKLOG	64

struct busy {
	int fd;
	struct peer who;
	int64_t deadline;		/* for its first message; 0 none */
	uint8_t hdr[VX_HDR_SIZE];	/* its first message's header */
	size_t got;
};

struct server {
	/* options */
	const char *path;	/* socket we created and remove, or NULL */
	int lfd;		/* listening socket, -1 if serving one fd */
	int once, verbose;
	uint32_t max_xfer;
	int handshake_ms, message_ms;	/* deadlines; 0 none */
	struct vx_peer_policy allow;	/* who may connect */
	int sigfd;
	struct vx_device *dev;
	struct vx_server *srv;	/* the protocol, one client at a time */
	struct vx_sreplay *rp;	/* --replay: the trace played instead */
	int strict;		/* --strict: departures make it exit 1 */
	const char *ignore[MAX_IGNORE];	/* --ignore rules */
	unsigned nignore;
	const char *rules;	/* --rules FILE */
	int64_t conn;		/* --conn ID, or -1: every connection */
	unsigned window;	/* --window N, or 0: the default */
	/* the attached client */
	struct peer who;
	int dead;
	int term;
	struct vx_builder b;	/* "busy" replies */
	struct busy busy[MAX_BUSY];	/* clients being told "busy" */
	unsigned nbusy;
};

static void
say(const struct server *s, const char *fmt, ...) VX_PRINTF(2, 3);

static void
vsay(const char *fmt, va_list ap)
{
	fputs("vfuctl server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void
say(const struct server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* Events an operator must see (a client refused, dropped or failing),
 * printed with or without -v. */
static void
notice(const char *fmt, ...) VX_PRINTF(1, 2);

static void
notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* The engine's lines. */
static void
server_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	notice("%s", line);
}

/* Milliseconds on a monotonic clock, for deadlines. */
static int64_t
now_ms(void)
{
	return vx_conn_now_ms(NULL);
}

/* A deadline ms from now, or 0 (none) for ms 0. */
static int64_t
deadline_in(int ms)
{
	return ms > 0 ? now_ms() + ms : 0;
}

/* --- the engine: the device, or a trace played back (--replay) -------- */

static int
eng_attach(struct server *s, int fd)
{
	return s->rp != NULL ? vx_sreplay_attach(s->rp, fd) :
	    vx_server_attach(s->srv, fd);
}

static void
eng_detach(struct server *s)
{
	if (s->rp != NULL)
		vx_sreplay_detach(s->rp);
	else
		vx_server_detach(s->srv);
}

static int
eng_attached(const struct server *s)
{
	return s->rp != NULL ? vx_sreplay_attached(s->rp) :
	    vx_server_attached(s->srv);
}

static int
eng_pollfds(const struct server *s, struct pollfd *pfd)
{
	return s->rp != NULL ? vx_sreplay_pollfds(s->rp, pfd) :
	    vx_server_pollfds(s->srv, pfd);
}

static int
eng_timeout(const struct server *s)
{
	return s->rp != NULL ? vx_sreplay_timeout(s->rp) :
	    vx_server_timeout(s->srv);
}

static int
eng_step(struct server *s)
{
	return s->rp != NULL ? vx_sreplay_step(s->rp) : vx_server_step(s->srv);
}

static const char *
eng_errmsg(const struct server *s)
{
	return s->rp != NULL ? vx_sreplay_errmsg(s->rp) :
	    vx_server_errmsg(s->srv);
}

static int
conn_start(struct server *s, int fd)
{
	if (eng_attach(s, fd) < 0)
		return -1;
	s->dead = 0;
	say(s, "client connected");
	return 0;
}

static void
conn_end(struct server *s)
{
	if (!eng_attached(s))
		return;
	eng_detach(s);
	say(s, "client disconnected");
}

/* --- clients turned away: "busy" --------------------------------------- */

/*
 * A client that comes while another is attached cannot be served: the
 * device is one.  It is kept until its first message (VERSION) arrives,
 * which is answered with an EBUSY error reply carrying that message's id,
 * and closed; so the client learns why instead of waiting for a reply
 * that never comes.  The wait is bounded by the handshake deadline.
 */
static void
busy_drop(struct server *s, unsigned i)
{
	close(s->busy[i].fd);
	s->busy[i] = s->busy[--s->nbusy];
}

static void
busy_add(struct server *s, int fd, const struct peer *p)
{
	struct busy *b;

	if (s->nbusy == MAX_BUSY) {
		notice("busy: closed the connection of pid %ld uid %lu at "
		    "once (%d others are waiting for their answer)",
		    (long)p->pid, (unsigned long)p->uid, MAX_BUSY);
		close(fd);
		return;
	}
	b = &s->busy[s->nbusy++];
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->who = *p;
	b->deadline = deadline_in(s->handshake_ms);
}

/* Read what the busy client i sent; answer once its header is whole. */
static void
busy_read(struct server *s, unsigned i)
{
	struct busy *b = &s->busy[i];
	struct vx_cursor cur;
	struct vx_msg m;
	uint16_t id = 0, cmd = 0;
	ssize_t n;

	n = recv(b->fd, b->hdr + b->got, sizeof(b->hdr) - b->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		busy_drop(s, i);	/* gone without asking */
		return;
	}
	b->got += (size_t)n;
	if (b->got < sizeof(b->hdr))
		return;
	vx_cursor_init(&cur, b->hdr, sizeof(b->hdr), 0);
	vx_cursor_u16(&cur, &id);
	vx_cursor_u16(&cur, &cmd);
	vx_build_header(&s->b, id, cmd, VX_F_TYPE_REPLY | VX_F_ERROR,
	    (uint32_t)vx_err_to_errno(VX_ERR_BUSY));
	/* a fresh socket's buffer takes 16 bytes; if not, it learns by EOF */
	if (vx_build_finish(&s->b, &m) < 0 ||
	    send(b->fd, m.buf, m.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		say(s, "busy: could not answer pid %ld: %s", (long)b->who.pid,
		    strerror(errno));
	notice("busy: answered pid %ld uid %lu with EBUSY: another client "
	    "is attached", (long)b->who.pid, (unsigned long)b->who.uid);
	busy_drop(s, i);
}

static void
busy_events(struct server *s, const struct pollfd *pfd, unsigned n)
{
	unsigned i = n;

	/* backwards: busy_drop moves the last entry into the hole */
	while (i-- > 0)
		if (pfd[i].revents && pfd[i].fd == s->busy[i].fd)
			busy_read(s, i);
}

static void
busy_expire(struct server *s, int64_t now)
{
	unsigned i = s->nbusy;

	while (i-- > 0)
		if (s->busy[i].deadline && now >= s->busy[i].deadline) {
			notice("busy: pid %ld uid %lu sent no message "
			    "within %d ms; closed", (long)s->busy[i].who.pid,
			    (unsigned long)s->busy[i].who.uid, s->handshake_ms);
			busy_drop(s, i);
		}
}

/* --- the attached client ------------------------------------------------ */

/* Serve what the client sent; note why it is gone if it is. */
static void
client_events(struct server *s)
{
	int r = eng_step(s);

	if (r == 0)
		return;
	if (r == VX_ERR_TIMEOUT)
		notice("pid %ld uid %lu %s; dropped", (long)s->who.pid,
		    (unsigned long)s->who.uid, eng_errmsg(s));
	else if (r != VX_ERR_CLOSED)	/* a reset: gone while we answered */
		say(s, "connection: %s", eng_errmsg(s));
	s->dead = 1;
}

/* Milliseconds to the nearest busy client's deadline or the engine's
 * timeout (the attached client's deadlines are in it), for poll. */
static int
poll_timeout(const struct server *s, int64_t now)
{
	int64_t dl = 0;
	int t = -1;
	unsigned i;

	for (i = 0; i < s->nbusy; i++)
		if (s->busy[i].deadline && (dl == 0 || s->busy[i].deadline < dl))
			dl = s->busy[i].deadline;
	if (dl != 0)
		t = dl <= now ? 0 : dl - now > INT_MAX ? INT_MAX : (int)(dl - now);
	if (eng_attached(s)) {
		int e = eng_timeout(s);

		if (e >= 0 && (t < 0 || e < t))
			t = e;
	}
	return t;
}

/* --- the loop ---------------------------------------------------------- */

static int
read_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		say(s, "signal %u, exiting", si.ssi_signo);
		s->term = 1;
	}
	return s->term;
}

/* Check a connection's SO_PEERCRED against --allow-uid; say who is refused. */
static int
peer_allowed(const struct server *s, int fd, struct peer *p)
{
	if (vx_sock_peer_allowed(fd, &s->allow, &p->pid, &p->uid))
		return 1;
	notice("refused pid %ld uid %lu: only root, uid %lu and the uids "
	    "of --allow-uid may connect", (long)p->pid, (unsigned long)p->uid,
	    (unsigned long)geteuid());
	return 0;
}

/* A newcomer: served if the device is free, else told it is busy. */
static int
accept_client(struct server *s)
{
	struct peer p = { 0, 0 };
	int fd;

	if ((fd = vx_sock_accept(s->lfd)) < 0) {
		if (fd == VX_ERR_AGAIN ||
		    (errno == ECONNABORTED || errno == EMFILE || errno == ENFILE))
			return 0;	/* gone already, or out of fds for now */
		return vx_error("accept: %s", strerror(errno));
	}
	if (!peer_allowed(s, fd, &p)) {
		close(fd);
		return 0;
	}
	if (eng_attached(s)) {
		busy_add(s, fd, &p);
		return 0;
	}
	if (conn_start(s, fd) < 0) {
		close(fd);
		return vx_error("out of memory");
	}
	s->who = p;
	return 0;
}

/* Poll slots: the signalfd, the listener, the client's sockets, then
 * clients being told "busy". */
enum { P_SIG, P_LISTEN, P_CLIENT, P_BUSY = P_CLIENT + VX_SERVER_MAX_POLLFDS };

static int
wait_events(struct server *s, struct pollfd *pfd)
{
	unsigned i, n;

	pfd[P_SIG].fd = s->sigfd;
	pfd[P_LISTEN].fd = s->lfd;		/* -1: ignored by poll */
	pfd[P_SIG].events = pfd[P_LISTEN].events = POLLIN;
	n = (unsigned)eng_pollfds(s, pfd + P_CLIENT);
	for (i = n; i < VX_SERVER_MAX_POLLFDS; i++) {
		pfd[P_CLIENT + i].fd = -1;
		pfd[P_CLIENT + i].events = 0;
	}
	for (i = 0; i < s->nbusy; i++) {
		pfd[P_BUSY + i].fd = s->busy[i].fd;
		pfd[P_BUSY + i].events = POLLIN;
	}
	for (i = 0; i < P_BUSY + s->nbusy; i++)
		pfd[i].revents = 0;
	return poll(pfd, P_BUSY + s->nbusy, poll_timeout(s, now_ms()));
}

static int
serve(struct server *s)
{
	struct pollfd pfd[P_BUSY + MAX_BUSY];
	unsigned nbusy;

	while (!s->term) {
		if (eng_attached(s) && (s->dead || s->term)) {
			conn_end(s);
			if (s->once || s->lfd < 0 ||
			    (s->rp != NULL && vx_sreplay_done(s->rp)))
				break;
			continue;
		}
		nbusy = s->nbusy;
		if (wait_events(s, pfd) < 0) {
			if (errno == EINTR)
				continue;
			return vx_error("poll: %s", strerror(errno));
		}
		if ((pfd[P_SIG].revents & POLLIN) && read_signal(s))
			break;
		if (eng_attached(s))
			client_events(s);
		busy_events(s, pfd + P_BUSY, nbusy);
		busy_expire(s, now_ms());
		if (eng_attached(s) && s->dead)
			continue;	/* free the device before the newcomers */
		if ((pfd[P_LISTEN].revents & POLLIN) && accept_client(s) < 0)
			return -1;
	}
	return 0;
}

/* --- options and setup ---------------------------------------------- */

static int
print_json(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	json_t *o;

	exe[n > 0 ? n : 0] = '\0';
	o = json_pack("{s:s,s:s,s:s,s:[s],s:{s:s,s:s,s:s}}",
	    "description", "vfuctl server: a vfio-user PCI device emulated "
	    "from a JSON description",
	    "type", "pci",
	    "binary", n > 0 ? exe : "vfuctl",
	    "arguments", "server",
	    "options", "socket-path", "--socket-path", "fd", "--fd",
	    "device", "--device");
	if (o == NULL)
		return vx_error("out of memory");
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
	return VX_EXIT_OK;
}

static int
setup_signals(struct server *s)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return vx_error("signalfd: %s", strerror(errno));
	return 0;
}

/* --fd N: a listening socket to accept on, or one connected client. */
static int
adopt_fd(struct server *s, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return vx_error("descriptor %d is not a socket", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return vx_error("descriptor %d: %s", fd, strerror(errno));
	if (listening) {
		s->lfd = fd;
		return 0;
	}
	s->lfd = -1;
	if (!peer_allowed(s, fd, &s->who))
		return -1;
	if (conn_start(s, fd) < 0)
		return vx_error("out of memory");
	return 0;
}

/* A deadline option: milliseconds, 0 for none. */
static int
parse_ms(const char *opt, const char *arg)
{
	uint64_t v;

	if (vx_parse_u64(arg, &v) < 0 || v > MAX_DEADLINE_MS)
		vx_invarg("server", opt, arg);
	return (int)v;
}

/*
 * Listen (or adopt descriptor fd) and serve until told to stop; then
 * release everything.  s has its engine: a device server or a replay.
 */
static int
run(struct server *s, const char *sock, int fd, mode_t mode)
{
	int rc = VX_EXIT_FAIL;

	vx_builder_init(&s->b);
	if (setup_signals(s) < 0)
		goto out;
	if (fd >= 0) {
		if (adopt_fd(s, fd) < 0)
			goto out;
	} else {
		s->lfd = vx_sock_listen(sock, mode, LISTEN_BACKLOG);
		if (s->lfd == VX_ERR_INVALID && errno == EEXIST) {
			vx_error("'%s' exists and is not a socket; not replacing it",
			    sock);
			goto out;
		}
		if (s->lfd < 0) {
			vx_error("cannot listen on '%s': %s", sock,
			    s->lfd == VX_ERR_IO ? strerror(errno) :
			    vx_strerror(s->lfd));
			goto out;
		}
		if (sock[0] != '@')
			s->path = sock;
		say(s, "listening on %s", sock);
	}
	rc = serve(s) < 0 ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	conn_end(s);
	while (s->nbusy > 0)
		busy_drop(s, 0);
	if (s->path != NULL)
		unlink(s->path);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	vx_server_free(s->srv);
	vx_builder_release(&s->b);
	vx_device_free(s->dev);
	return rc;
}

/* --ignore and --rules: what else may differ from the recording. */
static int
add_rules(struct server *s, char *why, size_t cap)
{
	unsigned i;
	int r;

	for (i = 0; i < s->nignore; i++)
		if ((r = vx_sreplay_add_rule(s->rp, s->ignore[i], why, cap)) < 0)
			return r;
	if (s->rules != NULL)
		return vx_sreplay_load_rules(s->rp, s->rules, why, cap);
	return 0;
}

/* --replay: load the trace, play it, sum up. */
static int
serve_replay(struct server *s, const char *trace, const char *sock, int fd,
    mode_t mode)
{
	struct vx_sreplay_stats st;
	char err[1024];
	int rc;

	if ((rc = vx_sreplay_open(trace, &s->rp, err, sizeof(err))) < 0) {
		fprintf(stderr, "vfuctl server: %s: %s\n", trace, err);
		return rc == VX_ERR_NOMEM ? VX_EXIT_FAIL : VX_EXIT_USAGE;
	}
	vx_sreplay_set_log(s->rp, server_log, NULL, s->verbose);
	vx_sreplay_set_deadlines(s->rp, s->handshake_ms, s->message_ms);
	if (s->window > 0)
		vx_sreplay_set_window(s->rp, s->window);	/* checked */
	if (s->conn >= 0 && vx_sreplay_only(s->rp, (uint32_t)s->conn) < 0) {
		fprintf(stderr, "vfuctl server: %s: no connection %" PRId64
		    " with a request in the trace\n", trace, s->conn);
		vx_sreplay_free(s->rp);
		return VX_EXIT_USAGE;
	}
	if (add_rules(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "vfuctl server: %s\n", err);
		vx_sreplay_free(s->rp);
		return VX_EXIT_USAGE;
	}
	rc = run(s, sock, fd, mode);
	vx_sreplay_get_stats(s->rp, &st);
	notice("replay: %u of %u recorded sessions played, %" PRIu64
	    " requests served, %" PRIu64 " DMA requests, %" PRIu64
	    " interrupts, %" PRIu64 " departures", st.served, st.sessions,
	    st.requests, st.dma, st.irqs, st.departures);
	if (rc == VX_EXIT_OK && s->strict && st.departures > 0)
		rc = VX_EXIT_FAIL;
	vx_sreplay_free(s->rp);
	return rc;
}

int
cmd_server(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket-path", required_argument, NULL, 's' },
		{ "fd", required_argument, NULL, 'f' },
		{ "device", required_argument, NULL, 'd' },
		{ "replay", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 'S' },
		{ "ignore", required_argument, NULL, 'I' },
		{ "rules", required_argument, NULL, 'R' },
		{ "conn", required_argument, NULL, 'C' },
		{ "window", required_argument, NULL, 'W' },
		{ "once", no_argument, NULL, '1' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-data-xfer-size", required_argument, NULL, 'x' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "message-timeout", required_argument, NULL, 'M' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "allow-any-uid", no_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "print-json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server s;
	const char *sock = NULL, *device = NULL, *trace = NULL;
	char err[512], *end;
	uint64_t v, fdnum = 0;
	unsigned long mode = 0600;
	int c, have_fd = 0, pjson = 0, mode_set = 0;

	memset(&s, 0, sizeof(s));
	s.max_xfer = VX_DEF_MAX_XFER;
	s.handshake_ms = s.message_ms = DEF_DEADLINE_MS;
	s.lfd = s.sigfd = -1;
	s.conn = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (sock != NULL)
				vx_duparg("server", "--socket-path", optarg);
			sock = optarg;
			break;
		case 'f':
			if (have_fd)
				vx_duparg("server", "--fd", optarg);
			if (vx_parse_u64(optarg, &fdnum) < 0 || fdnum > INT_MAX)
				vx_invarg("server", "--fd", optarg);
			have_fd = 1;
			break;
		case 'd':
			if (device != NULL)
				vx_duparg("server", "--device", optarg);
			device = optarg;
			break;
		case 'r':
			if (trace != NULL)
				vx_duparg("server", "--replay", optarg);
			trace = optarg;
			break;
		case 'S':
			s.strict = 1;
			break;
		case 'I':
			if (s.nignore == MAX_IGNORE)
				vx_usage_error("server", "more than %d --ignore "
				    "rules: put them in a --rules file",
				    MAX_IGNORE);
			s.ignore[s.nignore++] = optarg;
			break;
		case 'C':
			if (s.conn >= 0)
				vx_duparg("server", "--conn", optarg);
			if (vx_parse_u64(optarg, &v) < 0 || v > UINT32_MAX)
				vx_invarg("server", "--conn", optarg);
			s.conn = (int64_t)v;
			break;
		case 'W':
			if (s.window > 0)
				vx_duparg("server", "--window", optarg);
			if (vx_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > VX_SREPLAY_WINDOW_MAX)
				vx_invarg("server", "--window", optarg);
			s.window = (unsigned)v;
			break;
		case 'R':
			if (s.rules != NULL)
				vx_duparg("server", "--rules", optarg);
			s.rules = optarg;
			break;
		case '1':
			s.once = 1;
			break;
		case 'm':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (errno || *end != '\0' || optarg[0] == '\0' ||
			    mode > 0777)
				vx_invarg("server", "--mode", optarg);
			mode_set = 1;
			break;
		case 'x':
			if (vx_parse_u64(optarg, &v) < 0 || v < 4096 ||
			    v > VX_QEMU_MAX_XFER)
				vx_invarg("server", "--max-data-xfer-size", optarg);
			s.max_xfer = (uint32_t)v;
			break;
		case 'H':
			s.handshake_ms = parse_ms("--handshake-timeout", optarg);
			break;
		case 'M':
			s.message_ms = parse_ms("--message-timeout", optarg);
			break;
		case 'u':
			vx_allow_uid("server", &s.allow, optarg);
			break;
		case 'U':
			s.allow.any = 1;
			break;
		case 'v':
			s.verbose = 1;
			break;
		case 'j':
			pjson = 1;
			break;
		case 'h':
			fputs(cmd_server_usage, stdout);
			return VX_EXIT_OK;
		default:
			vx_usage_error("server", "unknown option");
		}
	}
	if (optind < argc)
		vx_usage_error("server", "unexpected argument '%s'", argv[optind]);
	if (pjson)
		return print_json();
	if (sock != NULL && have_fd)
		vx_usage_error("server", "--socket-path and --fd exclude each other");
	if (sock == NULL && !have_fd)
		vx_missarg("server", "--socket-path or --fd");
	if (device != NULL && trace != NULL)
		vx_usage_error("server", "--device and --replay exclude each "
		    "other: the trace plays the device");
	if (device == NULL && trace == NULL)
		vx_missarg("server", "--device or --replay");
	if ((s.strict || s.nignore || s.rules != NULL || s.conn >= 0 ||
	    s.window > 0) && trace == NULL)
		vx_usage_error("server", "--strict, --conn, --window, --ignore "
		    "and --rules apply to --replay only");
	if (mode_set && (sock == NULL || sock[0] == '@'))
		vx_usage_error("server", "--mode applies to a socket file only; "
		    "an abstract socket (@name) or --fd has none (who may "
		    "connect: --allow-uid)");

	if (trace != NULL)
		return serve_replay(&s, trace, sock, have_fd ? (int)fdnum : -1,
		    (mode_t)mode);
	if ((s.dev = vx_device_load(device, err, sizeof(err))) == NULL) {
		fprintf(stderr, "vfuctl server: %s\n", err);
		return VX_EXIT_USAGE;
	}
	if ((s.srv = vx_server_new(s.dev, s.max_xfer)) == NULL) {
		vx_device_free(s.dev);
		vx_error("out of memory");
		return VX_EXIT_FAIL;
	}
	vx_server_set_log(s.srv, server_log, NULL, s.verbose);
	vx_server_set_deadlines(s.srv, s.handshake_ms, s.message_ms);
	return run(&s, sock, have_fd ? (int)fdnum : -1, (mode_t)mode);
}
