/*
 * Request sanitizer: strict JSON parse with a depth limit, a walk over the
 * fields of an OpenAI-format body that the model reads, the rules on each,
 * and the decision.  See sanitize.h for the fields and the policy.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "rules.h"
#include "sanitize.h"

#define DEF_DEPTH	64
#define DEF_STRING	(1024 * 1024)
#define DEF_TEXTS	10000
#define PATH_MAX_LEN	256

struct walk {
	const struct ocss_rules		*rs;
	struct ocss_rules_scratch	*sc;
	struct ocss_sanitize_limits	 lim;
	struct ocss_sanitize_report	*rep;
	struct ocss_findings		 f;
	struct ocss_buf			 cl[2];	/* cleaned text, two rounds */
	char				 path[PATH_MAX_LEN];
	size_t				 plen;
	size_t				 ntexts;
	int				 changed;	/* body must be rewritten */
	int				 stop;		/* decision made */
};

const char *
ocss_sanitize_status_name(enum ocss_sanitize_status s)
{
	switch (s) {
	case OCSS_SANITIZE_PASS:	return "pass";
	case OCSS_SANITIZE_STRIPPED:	return "stripped";
	case OCSS_SANITIZE_REJECT:	return "reject";
	case OCSS_SANITIZE_BAD_INPUT:	return "bad_input";
	case OCSS_SANITIZE_ERROR:	return "error";
	}
	return "?";
}

void
ocss_sanitize_report_init(struct ocss_sanitize_report *r)
{
	memset(r, 0, sizeof(*r));
}

static void
report_clear(struct ocss_sanitize_report *r)
{
	size_t	 i;

	for (i = 0; i < r->nfindings; i++)
		free(r->findings[i].path);
	r->nfindings = 0;
	r->status = OCSS_SANITIZE_PASS;
	r->rule_id = NULL;
	r->reason[0] = '\0';
	ocss_buf_reset(&r->body);
}

void
ocss_sanitize_report_free(struct ocss_sanitize_report *r)
{
	report_clear(r);
	free(r->findings);
	ocss_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

static void
decide(struct walk *w, enum ocss_sanitize_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
decide(struct walk *w, enum ocss_sanitize_status st, const char *fmt, ...)
{
	va_list	 ap;

	w->stop = 1;
	w->rep->status = st;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(w->rep->reason, sizeof(w->rep->reason), fmt, ap);
		va_end(ap);
	}
}

static int
report_add(struct walk *w, const struct ocss_finding *f)
{
	struct ocss_sanitize_report	*r = w->rep;
	struct ocss_sanitize_finding	*p;
	size_t				 ncap;

	if (r->nfindings == r->cap) {
		ncap = r->cap ? r->cap * 2 : 8;
		if ((p = realloc(r->findings, ncap * sizeof(*p))) == NULL)
			return -1;
		r->findings = p;
		r->cap = ncap;
	}
	p = &r->findings[r->nfindings];
	if ((p->path = strdup(w->plen ? w->path : "text")) == NULL)
		return -1;
	p->rule_id = ocss_rules_id(w->rs, f->rule);
	p->action = ocss_rules_action(w->rs, f->rule);
	p->severity = ocss_rules_severity(w->rs, f->rule);
	p->start = f->start;
	p->end = f->end;
	p->via = f->via;
	r->nfindings++;
	return 0;
}

static int
by_start(const void *a, const void *b)
{
	const struct ocss_finding *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Scan one text.  Returns 1 when it was stripped (the cleaned text is in
 * *out, owned by the walk), 0 when unchanged, -1 when a decision stops the
 * walk.
 */
static int
scan_text(struct walk *w, const char *s, size_t len, struct ocss_buf **out)
{
	struct ocss_err	 err;
	struct ocss_buf	*dst;
	size_t		 i, pos, e;
	int		 round, rc, cur = 0;

	if (len > w->lim.max_string) {
		decide(w, OCSS_SANITIZE_BAD_INPUT, "text field %s is %zu bytes, "
		    "more than the limit of %zu", w->plen ? w->path : "text",
		    len, w->lim.max_string);
		return -1;
	}
	if (++w->ntexts > w->lim.max_texts) {
		decide(w, OCSS_SANITIZE_BAD_INPUT, "more than %zu text fields "
		    "in one body", w->lim.max_texts);
		return -1;
	}
	for (round = 0; ; round++) {
		ocss_findings_reset(&w->f);
		err.msg[0] = '\0';
		rc = ocss_rules_scan(w->rs, w->sc, s, len,
		    OCSS_SCAN_FIRST_REJECT, &w->f, &err);
		if (rc == -1) {
			if (strstr(err.msg, "out of memory")) {
				decide(w, OCSS_SANITIZE_ERROR, "out of memory");
				return -1;
			}
			decide(w, OCSS_SANITIZE_BAD_INPUT, "text field %s could "
			    "not be scanned within the limits",
			    w->plen ? w->path : "text");
			return -1;
		}
		for (i = 0; i < w->f.n; i++)
			if (report_add(w, &w->f.v[i]) == -1) {
				decide(w, OCSS_SANITIZE_ERROR, "out of memory");
				return -1;
			}
		for (i = 0; i < w->f.n; i++)
			if (ocss_rules_action(w->rs, w->f.v[i].rule) ==
			    OCSS_RULE_REJECT) {
				w->rep->rule_id = ocss_rules_id(w->rs,
				    w->f.v[i].rule);
				decide(w, OCSS_SANITIZE_REJECT, NULL);
				return -1;
			}
		if (rc == 0)
			return round > 0;
		if (round == OCSS_SANITIZE_STRIP_ROUNDS) {
			/* Stripping keeps producing matches: refuse. */
			w->rep->rule_id = ocss_rules_id(w->rs, w->f.v[0].rule);
			decide(w, OCSS_SANITIZE_REJECT, NULL);
			return -1;
		}
		/* Remove the union of the matched ranges. */
		qsort(w->f.v, w->f.n, sizeof(w->f.v[0]), by_start);
		dst = &w->cl[cur];
		ocss_buf_reset(dst);
		if (ocss_buf_reserve(dst, len) == -1) {
			decide(w, OCSS_SANITIZE_ERROR, "out of memory");
			return -1;
		}
		pos = 0;
		for (i = 0; i < w->f.n; i++) {
			if (w->f.v[i].start > pos)
				ocss_buf_append(dst, s + pos,
				    w->f.v[i].start - pos);
			e = w->f.v[i].end > len ? len : w->f.v[i].end;
			if (e > pos)
				pos = e;
		}
		if (pos < len)
			ocss_buf_append(dst, s + pos, len - pos);
		if (dst->data == NULL && ocss_buf_putc(dst, '\0') == 0)
			dst->len = 0;
		s = dst->data;
		len = dst->len;
		*out = dst;
		cur ^= 1;
	}
}

static size_t
path_push(struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct walk *w, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 old = w->plen;
	int	 n;

	if (w->plen < sizeof(w->path) - 1) {
		va_start(ap, fmt);
		n = vsnprintf(w->path + w->plen, sizeof(w->path) - w->plen,
		    fmt, ap);
		va_end(ap);
		if (n > 0)
			w->plen += (size_t)n;
		if (w->plen >= sizeof(w->path))
			w->plen = sizeof(w->path) - 1;
	}
	return old;
}

static void
path_pop(struct walk *w, size_t old)
{
	w->plen = old;
	w->path[old] = '\0';
}

/* A JSON string the model reads: scanned, replaced when stripped. */
static void
walk_string(struct walk *w, json_object *o)
{
	struct ocss_buf	*out = NULL;

	if (w->stop || !json_object_is_type(o, json_type_string))
		return;
	if (scan_text(w, json_object_get_string(o),
	    (size_t)json_object_get_string_len(o), &out) == 1) {
		if (json_object_set_string_len(o, out->data ? out->data : "",
		    (int)out->len) == 0) {
			decide(w, OCSS_SANITIZE_ERROR, "out of memory");
			return;
		}
		w->changed = 1;
	}
}

/* Every string inside o (not the keys). */
static void
walk_any(struct walk *w, json_object *o)
{
	size_t	 i, old;

	if (w->stop)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		walk_string(w, o);
		break;
	case json_type_array:
		for (i = 0; i < json_object_array_length(o) && !w->stop; i++) {
			old = path_push(w, "[%zu]", i);
			walk_any(w, json_object_array_get_idx(o, i));
			path_pop(w, old);
		}
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (w->stop)
				break;
			old = path_push(w, ".%s", key);
			walk_any(w, val);
			path_pop(w, old);
		}
		break;
	}
	default:
		break;
	}
}

/* Tool / function call arguments: a JSON document in a string. */
static void
walk_arguments(struct walk *w, json_object *o)
{
	struct json_tokener	*tok;
	json_object		*args;
	const char		*s, *ser;
	size_t			 len;
	int			 changed = w->changed;

	if (w->stop || !json_object_is_type(o, json_type_string))
		return;
	s = json_object_get_string(o);
	len = (size_t)json_object_get_string_len(o);
	if (len > w->lim.max_string) {
		decide(w, OCSS_SANITIZE_BAD_INPUT, "text field %s is %zu bytes, "
		    "more than the limit of %zu", w->path, len,
		    w->lim.max_string);
		return;
	}
	if ((tok = json_tokener_new_ex(w->lim.max_depth)) == NULL) {
		decide(w, OCSS_SANITIZE_ERROR, "out of memory");
		return;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	args = json_tokener_parse_ex(tok, s, (int)len);
	if (args == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !(json_object_is_type(args, json_type_object) ||
	    json_object_is_type(args, json_type_array))) {
		/* Not a JSON document: the text itself. */
		json_object_put(args);
		json_tokener_free(tok);
		walk_string(w, o);
		return;
	}
	json_tokener_free(tok);
	w->changed = 0;
	walk_any(w, args);
	if (!w->stop && w->changed) {
		ser = json_object_to_json_string_ext(args,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (ser == NULL || json_object_set_string(o, ser) == 0)
			decide(w, OCSS_SANITIZE_ERROR, "out of memory");
	}
	w->changed |= changed;
	json_object_put(args);
}

/* content: a string, or an array of parts (strings or {"text": ...}). */
static void
walk_content(struct walk *w, json_object *c)
{
	json_object	*part, *t;
	size_t		 i, old, old2;

	if (json_object_is_type(c, json_type_string)) {
		walk_string(w, c);
		return;
	}
	if (!json_object_is_type(c, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(c) && !w->stop; i++) {
		part = json_object_array_get_idx(c, i);
		old = path_push(w, "[%zu]", i);
		if (json_object_is_type(part, json_type_string))
			walk_string(w, part);
		else if (json_object_is_type(part, json_type_object) &&
		    json_object_object_get_ex(part, "text", &t)) {
			old2 = path_push(w, ".text");
			walk_string(w, t);
			path_pop(w, old2);
		}
		path_pop(w, old);
	}
}

static void
walk_call(struct walk *w, json_object *call, const char *member)
{
	json_object	*fn, *args;
	size_t		 old;

	if (!json_object_is_type(call, json_type_object))
		return;
	if (member != NULL) {
		if (!json_object_object_get_ex(call, member, &fn) ||
		    !json_object_is_type(fn, json_type_object))
			return;
	} else
		fn = call;
	if (json_object_object_get_ex(fn, "arguments", &args)) {
		old = path_push(w, "%s%s.arguments", member ? "." : "",
		    member ? member : "");
		walk_arguments(w, args);
		path_pop(w, old);
	}
}

static void
walk_message(struct walk *w, json_object *m)
{
	json_object	*v;
	size_t		 i, old, old2;

	if (json_object_is_type(m, json_type_string)) {
		walk_string(w, m);
		return;
	}
	if (!json_object_is_type(m, json_type_object))
		return;
	if (json_object_object_get_ex(m, "content", &v)) {
		old = path_push(w, ".content");
		walk_content(w, v);
		path_pop(w, old);
	}
	if (!w->stop && json_object_object_get_ex(m, "tool_calls", &v) &&
	    json_object_is_type(v, json_type_array))
		for (i = 0; i < json_object_array_length(v) && !w->stop; i++) {
			old = path_push(w, ".tool_calls[%zu]", i);
			walk_call(w, json_object_array_get_idx(v, i),
			    "function");
			path_pop(w, old);
		}
	if (!w->stop && json_object_object_get_ex(m, "function_call", &v)) {
		old = path_push(w, ".function_call");
		walk_call(w, v, NULL);
		path_pop(w, old);
	}
	/* Responses API items: function_call_output carries tool output. */
	if (!w->stop && json_object_object_get_ex(m, "output", &v)) {
		old2 = path_push(w, ".output");
		walk_content(w, v);
		path_pop(w, old2);
	}
}

static void
walk_messages(struct walk *w, json_object *a, const char *name)
{
	size_t	 i, old;

	if (json_object_is_type(a, json_type_string)) {
		old = path_push(w, "%s", name);
		walk_string(w, a);
		path_pop(w, old);
		return;
	}
	if (!json_object_is_type(a, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(a) && !w->stop; i++) {
		old = path_push(w, "%s[%zu]", name, i);
		walk_message(w, json_object_array_get_idx(a, i));
		path_pop(w, old);
	}
}

static void
walk_body(struct walk *w, json_object *root)
{
	json_object	*v, *fn, *d;
	size_t		 i, old;

	if (json_object_object_get_ex(root, "messages", &v))
		walk_messages(w, v, "messages");
	if (!w->stop && json_object_object_get_ex(root, "prompt", &v))
		walk_messages(w, v, "prompt");
	if (!w->stop && json_object_object_get_ex(root, "input", &v))
		walk_messages(w, v, "input");
	if (!w->stop && json_object_object_get_ex(root, "instructions", &v)) {
		old = path_push(w, "instructions");
		walk_string(w, v);
		path_pop(w, old);
	}
	if (!w->stop && json_object_object_get_ex(root, "system", &v)) {
		old = path_push(w, "system");
		walk_content(w, v);
		path_pop(w, old);
	}
	if (!w->stop && json_object_object_get_ex(root, "tools", &v) &&
	    json_object_is_type(v, json_type_array))
		for (i = 0; i < json_object_array_length(v) && !w->stop; i++) {
			json_object *t = json_object_array_get_idx(v, i);
			if (!json_object_is_type(t, json_type_object) ||
			    !json_object_object_get_ex(t, "function", &fn) ||
			    !json_object_is_type(fn, json_type_object) ||
			    !json_object_object_get_ex(fn, "description", &d))
				continue;
			old = path_push(w, "tools[%zu].function.description",
			    i);
			walk_string(w, d);
			path_pop(w, old);
		}
}

static void
walk_init(struct walk *w, const struct ocss_rules *rs,
    struct ocss_rules_scratch *sc, const struct ocss_sanitize_limits *lim,
    struct ocss_sanitize_report *rep)
{
	memset(w, 0, sizeof(*w));
	w->rs = rs;
	w->sc = sc;
	w->rep = rep;
	w->lim.max_depth = lim && lim->max_depth > 0 ? lim->max_depth :
	    DEF_DEPTH;
	w->lim.max_string = lim && lim->max_string ? lim->max_string :
	    DEF_STRING;
	w->lim.max_texts = lim && lim->max_texts ? lim->max_texts : DEF_TEXTS;
	report_clear(rep);
}

static void
walk_done(struct walk *w)
{
	ocss_findings_free(&w->f);
	ocss_buf_free(&w->cl[0]);
	ocss_buf_free(&w->cl[1]);
}

enum ocss_sanitize_status
ocss_sanitize_body(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *body, size_t len, const struct ocss_sanitize_limits *lim,
    struct ocss_sanitize_report *rep)
{
	struct walk		 w;
	struct json_tokener	*tok = NULL;
	json_object		*root = NULL;
	enum json_tokener_error	 je;
	const char		*ser;
	size_t			 i, end, n;

	walk_init(&w, rs, sc, lim, rep);
	for (i = 0; i < len && strchr(" \t\r\n", body[i]) && body[i]; i++)
		;
	if (i == len || (body[i] != '{' && body[i] != '['))
		goto done;		/* not JSON: not ours to judge */
	if (len > INT_MAX) {
		decide(&w, OCSS_SANITIZE_BAD_INPUT, "body too large to parse");
		goto done;
	}
	if ((tok = json_tokener_new_ex(w.lim.max_depth)) == NULL) {
		decide(&w, OCSS_SANITIZE_ERROR, "out of memory");
		goto done;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, body, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (je == json_tokener_continue)
		decide(&w, OCSS_SANITIZE_BAD_INPUT, "truncated JSON body");
	else if (je == json_tokener_error_depth)
		decide(&w, OCSS_SANITIZE_BAD_INPUT, "JSON body nested deeper "
		    "than %d levels", w.lim.max_depth);
	else if (je == json_tokener_error_parse_utf8_string)
		decide(&w, OCSS_SANITIZE_BAD_INPUT, "JSON body is not valid "
		    "UTF-8 (near byte %zu)", end);
	else if (je != json_tokener_success || root == NULL)
		decide(&w, OCSS_SANITIZE_BAD_INPUT, "malformed JSON body near "
		    "byte %zu: %s", end, json_tokener_error_desc(je));
	else {
		for (i = end; i < len && strchr(" \t\r\n", body[i]) &&
		    body[i]; i++)
			;
		if (i < len)
			decide(&w, OCSS_SANITIZE_BAD_INPUT, "trailing data "
			    "after the JSON body at byte %zu", i);
	}
	if (w.stop || !json_object_is_type(root, json_type_object))
		goto done;
	walk_body(&w, root);
	if (w.stop || !w.changed)
		goto done;
	ser = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (ser == NULL || ocss_buf_append(&rep->body, ser, n) == -1) {
		decide(&w, OCSS_SANITIZE_ERROR, "out of memory");
		goto done;
	}
	rep->status = OCSS_SANITIZE_STRIPPED;
done:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	walk_done(&w);
	return rep->status;
}

enum ocss_sanitize_status
ocss_sanitize_text(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *text, size_t len, const char *path,
    struct ocss_sanitize_report *rep)
{
	struct walk	 w;
	struct ocss_buf	*out = NULL;

	walk_init(&w, rs, sc, NULL, rep);
	path_push(&w, "%s", path ? path : "text");
	if (scan_text(&w, text, len, &out) == 1) {
		if (ocss_buf_append(&rep->body, out->data ? out->data : "",
		    out->len) == -1)
			decide(&w, OCSS_SANITIZE_ERROR, "out of memory");
		else
			rep->status = OCSS_SANITIZE_STRIPPED;
	}
	walk_done(&w);
	return rep->status;
}

int
ocss_sanitize_error_json(const struct ocss_sanitize_report *r,
    struct ocss_buf *b)
{
	const char	*code, *msg;

	switch (r->status) {
	case OCSS_SANITIZE_REJECT:
		if (ocss_buf_puts(b, "{\"error\":{\"code\":\"prompt_rejected\","
		    "\"message\":\"request blocked by prompt rule ") == -1 ||
		    ocss_buf_json_str(b, r->rule_id ? r->rule_id : "?",
		    strlen(r->rule_id ? r->rule_id : "?")) == -1 ||
		    ocss_buf_puts(b, "\",\"rule\":\"") == -1 ||
		    ocss_buf_json_str(b, r->rule_id ? r->rule_id : "?",
		    strlen(r->rule_id ? r->rule_id : "?")) == -1 ||
		    ocss_buf_puts(b, "\"}}") == -1)
			return -1;
		return 0;
	case OCSS_SANITIZE_BAD_INPUT:
		code = "bad_request";
		msg = r->reason;
		break;
	case OCSS_SANITIZE_ERROR:
		code = "internal_error";
		msg = r->reason[0] ? r->reason : "sanitizer failure";
		break;
	default:
		code = "ok";
		msg = "";
		break;
	}
	if (ocss_buf_printf(b, "{\"error\":{\"code\":\"%s\",\"message\":\"",
	    code) == -1 || ocss_buf_json_str(b, msg, strlen(msg)) == -1 ||
	    ocss_buf_puts(b, "\"}}") == -1)
		return -1;
	return 0;
}

int
ocss_sanitize_finding_json(const struct ocss_sanitize_finding *f,
    struct ocss_buf *b)
{
	return ocss_rules_finding_json(b, f->rule_id, f->action, f->severity,
	    f->path, f->start, f->end, f->via);
}
