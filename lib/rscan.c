/*
 * Response scanner: buffered answers field by field, streams through an SSE
 * parser into a sliding text window.  See rscan.h for formats and policy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "rscan.h"
#include "rules.h"

#define JSON_DEPTH	64

struct ocss_rscan {
	const struct ocss_rules		*rs;
	struct ocss_rules_scratch	*sc;
	enum ocss_rscan_mode		 mode;
	size_t				 overlap;
	struct ocss_rscan_report	 rep;
	struct ocss_findings		 f;
	/* SSE parser */
	struct ocss_buf			 line;	/* current line */
	int				 cr;	/* last byte was '\r' */
	int				 toolong; /* line over the cap */
	struct ocss_buf			 data;	/* event data so far */
	int				 mid, prev_mid;	/* inside an event */
	/* text window */
	struct ocss_buf			 win;
	size_t				 scanned;	/* win prefix scanned */
	uint64_t			 base;		/* offset of win[0] */
	uint64_t			*last;		/* per rule: last start */
	int				 cut;
};

void
ocss_rscan_report_free(struct ocss_rscan_report *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

static int
rep_add(struct ocss_rscan_report *r, const struct ocss_rules *rs,
    const struct ocss_finding *f, const char *field, uint64_t base)
{
	struct ocss_rscan_finding *p;
	size_t	 ncap;

	if (r->n == r->cap) {
		ncap = r->cap ? r->cap * 2 : 8;
		if ((p = realloc(r->v, ncap * sizeof(*p))) == NULL)
			return -1;
		r->v = p;
		r->cap = ncap;
	}
	p = &r->v[r->n++];
	p->rule_id = ocss_rules_id(rs, f->rule);
	p->action = ocss_rules_action(rs, f->rule);
	p->severity = ocss_rules_severity(rs, f->rule);
	snprintf(p->field, sizeof(p->field), "%s", field);
	p->start = base + f->start;
	p->end = base + f->end;
	p->via = f->via;
	return 0;
}

struct bscan {
	const struct ocss_rules		*rs;
	struct ocss_rules_scratch	*sc;
	struct ocss_rscan_report	*rep;
	struct ocss_findings		 f;
	struct ocss_err			*err;
	int				 nfields;
	int				 failed;
};

static void
bscan_text(struct bscan *b, const char *s, size_t len, const char *field)
{
	size_t	 i;

	if (b->failed)
		return;
	b->nfields++;
	ocss_findings_reset(&b->f);
	if (ocss_rules_scan(b->rs, b->sc, s, len, 0, &b->f, b->err) == -1) {
		b->failed = 1;
		return;
	}
	for (i = 0; i < b->f.n; i++)
		if (rep_add(b->rep, b->rs, &b->f.v[i], field, 0) == -1) {
			ocss_err_set(b->err, "out of memory");
			b->failed = 1;
			return;
		}
}

static void
bscan_str(struct bscan *b, json_object *o, const char *field)
{
	if (json_object_is_type(o, json_type_string))
		bscan_text(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), field);
}

/* content: string or array of parts with "text". */
static void
bscan_content(struct bscan *b, json_object *c, const char *field)
{
	json_object	*t;
	char		 f[64];
	size_t		 i;

	if (json_object_is_type(c, json_type_string)) {
		bscan_str(b, c, field);
		return;
	}
	if (!json_object_is_type(c, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(c); i++) {
		json_object *p = json_object_array_get_idx(c, i);
		snprintf(f, sizeof(f), "%s[%zu].text", field, i);
		if (json_object_is_type(p, json_type_object) &&
		    json_object_object_get_ex(p, "text", &t))
			bscan_str(b, t, f);
		else if (json_object_is_type(p, json_type_string))
			bscan_str(b, p, f);
	}
}

static void
bscan_message(struct bscan *b, json_object *m, const char *prefix)
{
	json_object	*v, *fn, *a;
	char		 f[64];
	size_t		 k;

	if (!json_object_is_type(m, json_type_object))
		return;
	if (json_object_object_get_ex(m, "content", &v)) {
		snprintf(f, sizeof(f), "%s.content", prefix);
		bscan_content(b, v, f);
	}
	if (json_object_object_get_ex(m, "tool_calls", &v) &&
	    json_object_is_type(v, json_type_array))
		for (k = 0; k < json_object_array_length(v); k++) {
			json_object *c = json_object_array_get_idx(v, k);
			if (json_object_is_type(c, json_type_object) &&
			    json_object_object_get_ex(c, "function", &fn) &&
			    json_object_is_type(fn, json_type_object) &&
			    json_object_object_get_ex(fn, "arguments", &a)) {
				snprintf(f, sizeof(f), "%s.tool_calls[%zu]"
				    ".function.arguments", prefix, k);
				bscan_str(b, a, f);
			}
		}
}

/*
 * Could the body hold one of the members scanned one by one below?  Not if
 * none of their names is in it and nothing is escaped (an escape could spell
 * a name): then parsing it would find none, and the whole text would be
 * scanned anyway.  Most answers that are not completions (a model list, a
 * status) skip the parse this way.
 */
static int
has_fields(const char *body, size_t len)
{
	return memchr(body, '\\', len) != NULL ||
	    memmem(body, len, "\"choices\"", 9) != NULL ||
	    memmem(body, len, "\"output\"", 8) != NULL ||
	    memmem(body, len, "\"content\"", 9) != NULL;
}

int
ocss_rscan_buffer(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *body, size_t len, struct ocss_rscan_report *rep,
    struct ocss_err *err)
{
	struct bscan		 b;
	struct json_tokener	*tok;
	json_object		*root = NULL, *v, *t;
	char			 f[64];
	size_t			 i;

	memset(&b, 0, sizeof(b));
	b.rs = rs;
	b.sc = sc;
	b.rep = rep;
	b.err = err;
	if (!has_fields(body, len)) {
		bscan_text(&b, body, len, "body");
		goto out;
	}
	if (len < 0x7fffffff && (tok = json_tokener_new_ex(JSON_DEPTH)) != NULL) {
		root = json_tokener_parse_ex(tok, body, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(root);
			root = NULL;
		}
		json_tokener_free(tok);
	}
	if (json_object_is_type(root, json_type_object)) {
		if (json_object_object_get_ex(root, "choices", &v) &&
		    json_object_is_type(v, json_type_array))
			for (i = 0; i < json_object_array_length(v); i++) {
				json_object *c = json_object_array_get_idx(v, i);
				if (!json_object_is_type(c, json_type_object))
					continue;
				snprintf(f, sizeof(f), "choices[%zu].message", i);
				if (json_object_object_get_ex(c, "message", &t))
					bscan_message(&b, t, f);
				snprintf(f, sizeof(f), "choices[%zu].text", i);
				if (json_object_object_get_ex(c, "text", &t))
					bscan_str(&b, t, f);
			}
		if (json_object_object_get_ex(root, "output", &v) &&
		    json_object_is_type(v, json_type_array))
			for (i = 0; i < json_object_array_length(v); i++) {
				snprintf(f, sizeof(f), "output[%zu]", i);
				bscan_message(&b, json_object_array_get_idx(v,
				    i), f);
			}
		if (json_object_object_get_ex(root, "content", &v))
			bscan_content(&b, v, "content");
	}
	if (b.nfields == 0 && !b.failed)
		bscan_text(&b, body, len, "body");
	json_object_put(root);
out:
	ocss_findings_free(&b.f);
	return b.failed ? -1 : 0;
}

int
ocss_rscan_header(const struct ocss_rules *rs,
    const struct ocss_rscan_report *rep, struct ocss_buf *b)
{
	size_t	 r, i, n = 0;
	int	 block = 0;

	if (rep->n == 0)
		return 0;
	if (ocss_buf_puts(b, "flagged; rules=") == -1)
		return -1;
	for (r = 0; r < ocss_rules_count(rs); r++) {
		const char *id = ocss_rules_id(rs, r);
		for (i = 0; i < rep->n; i++)
			if (strcmp(rep->v[i].rule_id, id) == 0)
				break;
		if (i == rep->n)
			continue;
		if (rep->v[i].action == OCSS_RULE_REJECT)
			block = 1;
		if (ocss_buf_printf(b, "%s%s", n++ ? "," : "", id) == -1)
			return -1;
	}
	if (ocss_buf_printf(b, "; action=%s", block ? "block" : "flag") == -1)
		return -1;
	return 1;
}

struct ocss_rscan *
ocss_rscan_new(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    enum ocss_rscan_mode mode, size_t overlap)
{
	struct ocss_rscan *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->last = calloc(ocss_rules_count(rs) + 1, sizeof(uint64_t)))
	    == NULL) {
		free(s);
		return NULL;
	}
	s->rs = rs;
	s->sc = sc;
	s->mode = mode;
	s->overlap = overlap ? overlap : OCSS_RSCAN_OVERLAP;
	return s;
}

void
ocss_rscan_free(struct ocss_rscan *s)
{
	if (s == NULL)
		return;
	ocss_rscan_report_free(&s->rep);
	ocss_findings_free(&s->f);
	ocss_buf_free(&s->line);
	ocss_buf_free(&s->data);
	ocss_buf_free(&s->win);
	free(s->last);
	free(s);
}

/* Scans the window; reports matches that reach into the new bytes. */
static int
win_scan(struct ocss_rscan *s, struct ocss_err *err)
{
	const struct ocss_finding *f;
	size_t	 i, cut;
	uint64_t start;

	if (s->win.len == s->scanned)
		return 0;
	ocss_findings_reset(&s->f);
	if (ocss_rules_scan(s->rs, s->sc, s->win.data, s->win.len, 0, &s->f,
	    err) == -1)
		return -1;
	for (i = 0; i < s->f.n; i++) {
		f = &s->f.v[i];
		start = s->base + f->start;
		if (f->end <= s->scanned ||
		    (s->last[f->rule] != 0 && s->last[f->rule] == start + 1))
			continue;	/* seen in an earlier chunk */
		s->last[f->rule] = start + 1;
		if (rep_add(&s->rep, s->rs, f, "stream", s->base) == -1) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		if (ocss_rules_action(s->rs, f->rule) == OCSS_RULE_REJECT)
			s->cut = 1;
	}
	/* Keep the overlap, cut at a character boundary. */
	if (s->win.len > s->overlap) {
		cut = s->win.len - s->overlap;
		while (cut < s->win.len && (s->win.data[cut] & 0xC0) == 0x80)
			cut++;
		memmove(s->win.data, s->win.data + cut, s->win.len - cut);
		s->win.len -= cut;
		s->win.data[s->win.len] = '\0';
		s->base += cut;
	}
	s->scanned = s->win.len;
	return 0;
}

static int
win_add(struct ocss_rscan *s, const char *p, size_t n, struct ocss_err *err)
{
	if (ocss_buf_append(&s->win, p, n) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	/* A huge chunk is scanned in pieces so the window stays bounded. */
	if (s->win.len - s->scanned > OCSS_RSCAN_MAX_EVENT)
		return win_scan(s, err);
	return 0;
}

static void
json_text(struct ocss_rscan *s, json_object *o, struct ocss_buf *out)
{
	if (json_object_is_type(o, json_type_string))
		ocss_buf_append(out, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	(void)s;
}

/* The text the model produced in one event's data. */
static int
event_text(struct ocss_rscan *s, const char *d, size_t len,
    struct ocss_err *err)
{
	struct ocss_buf		 out = OCSS_BUF_INIT;
	struct json_tokener	*tok;
	json_object		*root = NULL, *v, *c, *delta, *t;
	size_t			 i, k;
	int			 rc, json = 0;

	if (len == 6 && memcmp(d, "[DONE]", 6) == 0)
		return 0;
	if (len > 0 && (d[0] == '{' || d[0] == '[') &&
	    (tok = json_tokener_new_ex(JSON_DEPTH)) != NULL) {
		root = json_tokener_parse_ex(tok, d, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(root);
			root = NULL;
		}
		json_tokener_free(tok);
	}
	if (json_object_is_type(root, json_type_object)) {
		json = 1;
		if (json_object_object_get_ex(root, "choices", &v) &&
		    json_object_is_type(v, json_type_array))
			for (i = 0; i < json_object_array_length(v); i++) {
				c = json_object_array_get_idx(v, i);
				if (!json_object_is_type(c, json_type_object))
					continue;
				if (json_object_object_get_ex(c, "text", &t))
					json_text(s, t, &out);
				if (!json_object_object_get_ex(c, "delta",
				    &delta) && !json_object_object_get_ex(c,
				    "message", &delta))
					continue;
				if (json_object_object_get_ex(delta, "content",
				    &t))
					json_text(s, t, &out);
				if (json_object_object_get_ex(delta,
				    "tool_calls", &t) &&
				    json_object_is_type(t, json_type_array))
					for (k = 0; k < json_object_array_length(t);
					    k++) {
						json_object *tc, *fn, *a;
						tc = json_object_array_get_idx(t, k);
						if (json_object_object_get_ex(tc,
						    "function", &fn) &&
						    json_object_object_get_ex(fn,
						    "arguments", &a))
							json_text(s, a, &out);
					}
			}
		/* Responses API: {"type":"response.output_text.delta",
		 * "delta":"..."} */
		if (json_object_object_get_ex(root, "delta", &t))
			json_text(s, t, &out);
	}
	json_object_put(root);
	if (json)
		rc = out.len ? win_add(s, out.data, out.len, err) : 0;
	else
		rc = win_add(s, d, len, err);
	ocss_buf_free(&out);
	return rc;
}

static int
dispatch(struct ocss_rscan *s, struct ocss_err *err)
{
	int	 rc = 0;

	if (s->data.len > 0 || s->mid) {
		/* The spec drops one trailing LF joined in by "data:" lines. */
		if (s->data.len && s->data.data[s->data.len - 1] == '\n')
			s->data.len--;
		rc = event_text(s, s->data.data ? s->data.data : "",
		    s->data.len, err);
	}
	ocss_buf_reset(&s->data);
	s->mid = 0;
	return rc;
}

/* One complete line of the event stream. */
static int
sse_line(struct ocss_rscan *s, const char *l, size_t n, struct ocss_err *err)
{
	size_t	 k;

	if (n == 0)
		return dispatch(s, err);
	s->mid = 1;
	if (n >= 5 && memcmp(l, "data:", 5) == 0) {
		k = 5;
		if (k < n && l[k] == ' ')
			k++;
		if (s->data.len + (n - k) > OCSS_RSCAN_MAX_EVENT) {
			/* Oversized event: scan what we have as text. */
			if (win_add(s, s->data.data ? s->data.data : "",
			    s->data.len, err) == -1)
				return -1;
			ocss_buf_reset(&s->data);
		}
		if (ocss_buf_append(&s->data, l + k, n - k) == -1 ||
		    ocss_buf_putc(&s->data, '\n') == -1) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
	}
	return 0;		/* comments, event:, id:, retry: */
}

static int
sse_feed(struct ocss_rscan *s, const char *p, size_t n, struct ocss_err *err)
{
	size_t	 i, st = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r') {
			s->cr = 0;
			continue;
		}
		if (p[i] == '\n' && s->cr) {
			/* LF of a CRLF pair: the CR ended the line. */
			s->cr = 0;
			st = i + 1;
			continue;
		}
		s->cr = p[i] == '\r';
		if (s->toolong) {
			/* The end of an oversized line: text, not a field. */
			if (win_add(s, p + st, i - st, err) == -1)
				return -1;
		} else {
			if (ocss_buf_append(&s->line, p + st, i - st) == -1)
				goto oom;
			if (sse_line(s, s->line.data ? s->line.data : "",
			    s->line.len, err) == -1)
				return -1;
		}
		ocss_buf_reset(&s->line);
		s->toolong = 0;
		st = i + 1;
	}
	if (st < n) {
		if (s->line.len + (n - st) > OCSS_RSCAN_MAX_EVENT) {
			/* A line without end: scan it as text, keep none. */
			if (win_add(s, s->line.data ? s->line.data : "",
			    s->line.len, err) == -1 ||
			    win_add(s, p + st, n - st, err) == -1)
				return -1;
			ocss_buf_reset(&s->line);
			s->toolong = 1;
			s->mid = 1;
		} else if (!s->toolong &&
		    ocss_buf_append(&s->line, p + st, n - st) == -1)
			goto oom;
		else if (s->toolong && win_add(s, p + st, n - st, err) == -1)
			return -1;
	}
	return 0;
oom:
	ocss_err_set(err, "out of memory");
	return -1;
}

int
ocss_rscan_feed(struct ocss_rscan *s, const char *data, size_t len,
    struct ocss_err *err)
{
	size_t	 before = s->rep.n;

	s->prev_mid = s->mid || s->line.len > 0;
	if (s->mode == OCSS_RSCAN_SSE) {
		if (sse_feed(s, data, len, err) == -1)
			return -1;
	} else if (win_add(s, data, len, err) == -1)
		return -1;
	if (win_scan(s, err) == -1)
		return -1;
	return (int)(s->rep.n - before);
}

int
ocss_rscan_finish(struct ocss_rscan *s, struct ocss_err *err)
{
	size_t	 before = s->rep.n;

	if (s->mode == OCSS_RSCAN_SSE) {
		if (s->line.len > 0 && sse_line(s, s->line.data, s->line.len,
		    err) == -1)
			return -1;
		ocss_buf_reset(&s->line);
		if (dispatch(s, err) == -1)
			return -1;
	}
	if (win_scan(s, err) == -1)
		return -1;
	return (int)(s->rep.n - before);
}

const struct ocss_rscan_report *
ocss_rscan_findings(const struct ocss_rscan *s)
{
	return &s->rep;
}

int
ocss_rscan_should_cut(const struct ocss_rscan *s)
{
	return s->cut;
}

int
ocss_rscan_announce(const struct ocss_rscan_finding *f, struct ocss_buf *b)
{
	return ocss_buf_printf(b, ": prompt-guard flagged; rule=%s; "
	    "severity=%s; action=%s\n\n", f->rule_id,
	    ocss_rule_severity_name(f->severity),
	    f->action == OCSS_RULE_REJECT ? "cut" : "flag");
}

int
ocss_rscan_cut_event(const struct ocss_rscan *s, struct ocss_buf *b)
{
	const char	*id = "?";
	size_t		 i;

	for (i = 0; i < s->rep.n; i++)
		if (s->rep.v[i].action == OCSS_RULE_REJECT) {
			id = s->rep.v[i].rule_id;
			break;
		}
	/* Close an event the client has half received first. */
	if ((s->prev_mid && ocss_buf_puts(b, "\n\n") == -1) ||
	    ocss_buf_printf(b, "data: {\"error\":{\"code\":\"prompt_guard\","
	    "\"message\":\"response stopped by indirect-injection rule %s\","
	    "\"rule\":\"%s\"}}\n\ndata: [DONE]\n\n", id, id) == -1)
		return -1;
	return 0;
}

int
ocss_rscan_finding_json(const struct ocss_rscan_finding *f,
    struct ocss_buf *b)
{
	return ocss_rules_finding_json(b, f->rule_id, f->action, f->severity,
	    f->field, f->start, f->end, f->via);
}
