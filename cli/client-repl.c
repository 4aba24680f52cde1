/*
 * client-repl.c - the interactive prompt of `vfuctl client`: readline
 * with history and completion of command names, region names and
 * sub-arguments.
 *
 * readline runs in callback mode so that one poll() covers the terminal
 * and the sockets: the server's DMA_READ/DMA_WRITE are answered while the
 * prompt waits for typing, not only while a command waits for its reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "client-int.h"
#include "vx-error.h"

#define HISTORY_MAX	1000

static struct cl *repl_cl;
static int repl_done, repl_rc;

/* Words a generator offers, space separated, and where it is. */
static const char *gen_words;
static const char *const *gen_list;

static char *
gen_from_words(const char *text, int state)
{
	static const char *p;
	size_t tl = strlen(text);

	if (state == 0)
		p = gen_words;
	while (p != NULL && *p != '\0') {
		const char *w = p;
		size_t n = strcspn(p, " ");

		p += n;
		while (*p == ' ')
			p++;
		if (n >= tl && strncmp(w, text, tl) == 0)
			return strndup(w, n);
	}
	return NULL;
}

static char *
gen_from_list(const char *text, int state)
{
	static int i;
	size_t tl = strlen(text);

	if (state == 0)
		i = 0;
	while (gen_list[i] != NULL) {
		const char *w = gen_list[i++];

		if (strncmp(w, text, tl) == 0)
			return strdup(w);
	}
	return NULL;
}

static char *
gen_command(const char *text, int state)
{
	static int i;
	size_t tl = strlen(text);

	if (state == 0)
		i = 0;
	while (cl_cmds[i].name != NULL) {
		const char *w = cl_cmds[i++].name;

		if (strncmp(w, text, tl) == 0)
			return strdup(w);
	}
	return NULL;
}

static char *
gen_region(const char *text, int state)
{
	static unsigned i;
	size_t tl = strlen(text);
	const char *w;

	if (state == 0)
		i = 0;
	while ((w = cl_region_word(repl_cl, i++)) != NULL)
		if (strncmp(w, text, tl) == 0)
			return strdup(w);
	return NULL;
}

static char *
gen_msgcmd(const char *text, int state)
{
	static int i;
	size_t tl = strlen(text);

	if (state == 0)
		i = 0;
	while (vx_names_cmd[i].name != NULL) {
		const char *w = vx_names_cmd[i++].name;

		if (strncasecmp(w, text, tl) == 0)
			return strdup(w);
	}
	return NULL;
}

static const char *const irq_words[] = {
	"intx", "msi", "msix", "err", "req", NULL
};
static const char *const feature_words[] = {
	"migration", "mig-state", "dirty-start", "dirty-stop", "dirty-report",
	NULL
};
static const char *const state_words[] = {
	"STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P", "PRE_COPY",
	"PRE_COPY_P2P", NULL
};

/*
 * The words before the one being completed, from the last ';' on, without
 * options ("--posted", "-w N").  Returns how many (at most max).
 */
static int
words_before(int start, char words[][32], int max)
{
	const char *b = rl_line_buffer;
	int i = start, n = 0, skip = 0;
	int from;

	while (i > 0 && b[i - 1] != ';')
		i--;
	from = i;
	while (from < start) {
		int s, len;

		while (from < start && (b[from] == ' ' || b[from] == '\t'))
			from++;
		if (from >= start)
			break;
		s = from;
		while (from < start && b[from] != ' ' && b[from] != '\t')
			from++;
		len = from - s;
		if (skip) {
			skip = 0;
			continue;
		}
		if (b[s] == '-') {
			skip = len == 2 && b[s + 1] == 'w';
			continue;
		}
		if (n < max) {
			if (len > 31)
				len = 31;
			memcpy(words[n], b + s, (size_t)len);
			words[n][len] = '\0';
		}
		n++;
	}
	return n;
}

static char **
complete(const char *text, int start, int end)
{
	char words[4][32];
	const struct cl_cmd *c;
	rl_compentry_func_t *gen = NULL;
	int n, pos;

	(void)end;
	rl_attempted_completion_over = 1;	/* never file names */
	n = words_before(start, words, 4);
	if (n == 0)
		return rl_completion_matches(text, gen_command);
	if ((c = cl_find(words[0])) == NULL)
		return NULL;
	pos = n - 1;
	/* sub-command words shift the rest: "dma map ADDR", "irq enable IRQ" */
	if (strcmp(c->name, "feature") == 0 && pos == 2 && n > 2 &&
	    strcmp(words[1], "set") == 0 && strcmp(words[2], "mig-state") == 0) {
		gen_list = state_words;
		return rl_completion_matches(text, gen_from_list);
	}
	if (pos >= 4)
		return NULL;
	switch (c->argk[pos]) {
	case CL_A_REGION:
		gen = gen_region;
		break;
	case CL_A_WIDTH:
		gen_words = "1 2 4 8";
		gen = gen_from_words;
		break;
	case CL_A_SUB:
		gen_words = c->subs;
		gen = gen_from_words;
		break;
	case CL_A_IRQ:
		gen_list = irq_words;
		gen = gen_from_list;
		break;
	case CL_A_FEATURE:
		gen_list = feature_words;
		gen = gen_from_list;
		break;
	case CL_A_CMD:
		gen = gen_msgcmd;
		break;
	case CL_A_HELP:
		gen = gen_command;
		break;
	default:
		return NULL;
	}
	return rl_completion_matches(text, gen);
}

static void
on_line(char *line)
{
	if (line == NULL) {
		/* Ctrl-D */
		repl_done = 1;
		putchar('\n');
		return;
	}
	if (*line != '\0') {
		add_history(line);
		repl_cl->line++;
		/* like a shell: the status of the last command */
		repl_rc = cl_run_line(repl_cl, line, 1);
	}
	free(line);
	if (repl_cl->quit)
		repl_done = 1;
}

static char *
history_path(void)
{
	const char *e = getenv("VFUCTL_HISTORY"), *home = getenv("HOME");
	char *p;

	if (e != NULL)
		return *e != '\0' ? strdup(e) : NULL;
	if (home == NULL || *home == '\0')
		return NULL;
	if (asprintf(&p, "%s/.vfuctl_history", home) < 0)
		return NULL;
	return p;
}

static int sigpipe[2] = { -1, -1 };

static void
on_sigint(int sig)
{
	int e = errno;

	(void)sig;
	cl_interrupted = 1;
	if (write(sigpipe[1], "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = e;
}

static void
drain_sigpipe(void)
{
	char buf[64];

	while (read(sigpipe[0], buf, sizeof(buf)) > 0)
		;
}

/*
 * readline's own getc retries a read that our SIGINT handler interrupted,
 * blocking on a terminal whose input the ^C just flushed: give readline a
 * harmless NUL (set-mark) instead, and let the loop clear the line.
 */
static int
repl_getc(FILE *fp)
{
	unsigned char ch;
	ssize_t n;

	for (;;) {
		n = read(fileno(fp), &ch, 1);
		if (n == 1)
			return ch;
		if (n == 0)
			return EOF;
		if (errno != EINTR)
			return EOF;
		if (cl_interrupted)
			return 0;
	}
}

/* Ctrl-C: drop the line being typed and show a fresh prompt. */
static void
clear_line(void)
{
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
}

int
cl_repl(struct cl *cl)
{
	struct sigaction sa, old;
	int fds[2];
	char *hist = history_path();
	int in = STDIN_FILENO, ready, r;
	uint64_t major = 0, minor = 0;

	repl_cl = cl;
	repl_done = 0;
	repl_rc = 0;
	cl->src = NULL;
	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(hist);
		return cl_err(cl, VX_EXIT_FAIL, "pipe: %s", strerror(errno));
	}
	cl_sigfd = sigpipe[0];
	/* our handler, without SA_RESTART: poll() returns and we look */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	rl_catch_signals = 0;
	rl_getc_function = repl_getc;
	rl_readline_name = "vfuctl";
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t;";
	using_history();
	stifle_history(HISTORY_MAX);
	if (hist != NULL)
		read_history(hist);
	vx_session_version(vx_conn_session(vx_client_conn(cl->c)), VX_S2C,
	    &major, &minor);
	printf("connected to %s (vfio-user %llu.%llu); 'help' lists the "
	    "commands\n", cl->path, (unsigned long long)major,
	    (unsigned long long)minor);
	fflush(stdout);
	rl_callback_handler_install("vfuctl> ", on_line);
	while (!repl_done) {
		fds[0] = in;
		fds[1] = sigpipe[0];
		r = vx_client_serve(cl->c, -1, fds, 2, &ready);
		if (r < 0) {
			rl_callback_handler_remove();
			putchar('\n');
			cl_err(cl, VX_EXIT_FAIL, "%s", vx_client_errmsg(cl->c));
			repl_rc = VX_EXIT_FAIL;
			break;
		}
		if (cl_interrupted || ready == 1) {
			drain_sigpipe();
			cl_interrupted = 0;
			clear_line();
			continue;
		}
		if (ready == 0)
			rl_callback_read_char();
		/* a command that was interrupted has reported it */
		if (cl_interrupted) {
			drain_sigpipe();
			cl_interrupted = 0;
		}
	}
	if (repl_done)
		rl_callback_handler_remove();
	sigaction(SIGINT, &old, NULL);
	cl_sigfd = -1;
	close(sigpipe[0]);
	close(sigpipe[1]);
	if (hist != NULL) {
		write_history(hist);
		free(hist);
	}
	return repl_rc;
}
