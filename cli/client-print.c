/*
 * client-print.c - one print path for the client's commands, after
 * iproute2's print_*(): each call names the value once, with the text
 * form's format and the JSON key, and writes whichever the session wants
 * (cl->json).  PRINT_TEXT or PRINT_JSON limit a call to one form, for
 * the places where the two differ.
 *
 * JSON values go into the innermost open object or array, the command's
 * object (cl->out) at the bottom.  An array or object is attached to its
 * parent when it is closed, so a command that fails half-way leaves no
 * half-filled array in its JSON (cl_print_reset drops what is open).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "client-int.h"

static json_t *
top(struct cl *cl)
{
	return cl->jdepth > 0 ? cl->jstack[cl->jdepth - 1].v : cl->out;
}

/* Put v (a new reference) under key in the innermost container. */
static void
jadd(struct cl *cl, const char *key, json_t *v)
{
	json_t *t = top(cl);

	if (t == NULL || v == NULL)
		json_decref(v);
	else if (json_is_array(t))
		json_array_append_new(t, v);
	else
		json_object_set_new(t, key, v);
}

static int
want_text(const struct cl *cl, int type, const char *fmt)
{
	return !cl->json && (type & PRINT_TEXT) && fmt != NULL;
}

static int
want_json(const struct cl *cl, int type)
{
	return cl->json && (type & PRINT_JSON);
}

void
cl_print_uint(struct cl *cl, int type, const char *key, const char *fmt,
    unsigned long long v)
{
	if (want_json(cl, type))
		jadd(cl, key, json_integer((json_int_t)v));
	else if (want_text(cl, type, fmt))
		printf(fmt, v);
}

void
cl_print_string(struct cl *cl, int type, const char *key, const char *fmt,
    const char *s)
{
	if (want_json(cl, type))
		jadd(cl, key, s != NULL ? json_string(s) : json_null());
	else if (want_text(cl, type, fmt))
		printf(fmt, s);
}

void
cl_print_bool(struct cl *cl, int type, const char *key, const char *fmt,
    int v)
{
	if (want_json(cl, type))
		jadd(cl, key, json_boolean(v));
	else if (v && want_text(cl, type, fmt))
		fputs(fmt, stdout);
}

void
cl_print_json(struct cl *cl, const char *key, void *v)
{
	if (cl->json)
		jadd(cl, key, v != NULL ? v : json_null());
	else
		json_decref(v);
}

void
cl_print_hex(struct cl *cl, const char *key, const uint8_t *p, size_t n)
{
	char *s;

	if (!cl->json)
		return;
	s = cl_hex(p, n);
	jadd(cl, key, json_string(s != NULL ? s : ""));
	free(s);
}

void
cl_printf(struct cl *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void
open_container(struct cl *cl, const char *key, json_t *v)
{
	if (!cl->json)
		return;
	if (cl->jdepth == CL_JSON_DEPTH) {	/* a bug: keep printing */
		json_decref(v);
		v = NULL;
	}
	if (v == NULL)
		return;
	cl->jstack[cl->jdepth].v = v;
	cl->jstack[cl->jdepth].key = key;
	cl->jdepth++;
}

void
cl_open_array(struct cl *cl, const char *key)
{
	open_container(cl, key, cl->json ? json_array() : NULL);
}

void
cl_open_object(struct cl *cl, const char *key)
{
	open_container(cl, key, cl->json ? json_object() : NULL);
}

/* Close the innermost array or object: it joins its parent now. */
static void
close_container(struct cl *cl)
{
	struct cl_jopen *o;

	if (!cl->json || cl->jdepth == 0)
		return;
	o = &cl->jstack[--cl->jdepth];
	jadd(cl, o->key, o->v);
}

void
cl_close_array(struct cl *cl)
{
	close_container(cl);
}

void
cl_close_object(struct cl *cl)
{
	close_container(cl);
}

void
cl_print_reset(struct cl *cl)
{
	while (cl->jdepth > 0)
		json_decref(cl->jstack[--cl->jdepth].v);
}
