/*
 * Request sanitizer: strict JSON parse with a depth limit, a walk over the
 * fields of an OpenAI-format body that the model reads, the rules on each,
 * and the decision.  See sanitize.h for the fields and the policy.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define F_SSE2		1
#endif

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
	struct ocss_buf			 dec[2];	/* fast path: decoded */
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

/*
 * The fast path.  Most bodies hold nothing any rule matches, and building
 * json-c's object tree costs more than scanning the texts.  One pass over
 * the body checks that it is JSON of a strict subset of what json-c
 * accepts (RFC 8259, UTF-8 without surrogates, no \u0000 or escaped
 * surrogates, no escaped keys, nesting one level under the limit) and
 * scans in place every string value at a path the walk above can reach,
 * duplicate keys and all.  When every one of those scans finds nothing,
 * the body passes: the walk would have scanned a subset of the same texts.
 * Anything else (a finding, a limit, JSON outside the subset) leaves the
 * decision to the json-c walk, which then does all the work again.
 */
enum role {
	V_OTHER, V_ROOT, V_MSGS, V_MSG, V_CONTENT, V_PART, V_TEXT, V_CALLS,
	V_CALL, V_CALLFN, V_ARGS, V_TOOLS, V_TOOL, V_TOOLFN, V_ANY
};

struct fast {
	struct walk		*w;
	const unsigned char	*s;
	size_t			 len, pos, ntexts;
	int			 depth, level;	/* level 1: inside arguments */
	struct ocss_buf		*dec;		/* decoded strings, by level */
};

#define F_ONES		UINT64_C(0x0101010101010101)
#define F_HIGHS		(F_ONES * 0x80)
#define is_ws(c)	((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

static enum role
member_role(enum role r, const unsigned char *k, size_t kl)
{
#define KEY(name)	(kl == sizeof(name) - 1 && memcmp(k, name, kl) == 0)
	switch (r) {
	case V_ROOT:
		if (KEY("messages") || KEY("prompt") || KEY("input"))
			return V_MSGS;
		if (KEY("instructions"))
			return V_TEXT;
		if (KEY("system"))
			return V_CONTENT;
		return KEY("tools") ? V_TOOLS : V_OTHER;
	case V_MSG:
		if (KEY("content") || KEY("output"))
			return V_CONTENT;
		if (KEY("tool_calls"))
			return V_CALLS;
		return KEY("function_call") ? V_CALLFN : V_OTHER;
	case V_PART:
		return KEY("text") ? V_TEXT : V_OTHER;
	case V_CALL:
		return KEY("function") ? V_CALLFN : V_OTHER;
	case V_CALLFN:
		return KEY("arguments") ? V_ARGS : V_OTHER;
	case V_TOOL:
		return KEY("function") ? V_TOOLFN : V_OTHER;
	case V_TOOLFN:
		return KEY("description") ? V_TEXT : V_OTHER;
	case V_ANY:
		return V_ANY;
	default:
		return V_OTHER;
	}
#undef KEY
}

static enum role
element_role(enum role r)
{
	switch (r) {
	case V_MSGS:	return V_MSG;
	case V_CONTENT:	return V_PART;
	case V_CALLS:	return V_CALL;
	case V_TOOLS:	return V_TOOL;
	case V_ANY:	return V_ANY;
	default:	return V_OTHER;
	}
}

/* The string whose quote is at s[pos]: its bytes [*a, *b), *esc when it
 * has escapes; pos moves past it.  -1: not in the subset. */
static int
f_string(struct fast *f, size_t *a, size_t *b, int *esc)
{
	const unsigned char *s = f->s;
	size_t		 i = f->pos + 1, k;
	uint64_t	 x, y, m;
	int		 v;

	*esc = 0;
	for (;;) {
		/* skip bytes that are none of '"', '\\', < 0x20, >= 0x80 */
#ifdef F_SSE2
		while (i + 16 <= f->len) {	/* 16 at a time */
			__m128i	 vb;
			unsigned bits;

			vb = _mm_loadu_si128((const __m128i *)(const void *)
			    (s + i));
			/* signed: "< 0x20" holds the bytes >= 0x80 too */
			bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_cmplt_epi8(vb, _mm_set1_epi8(0x20)),
			    _mm_or_si128(_mm_cmpeq_epi8(vb, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(vb, _mm_set1_epi8('\\')))));
			if (bits != 0) {
				i += (size_t)__builtin_ctz(bits);
				goto special;
			}
			i += 16;
		}
#endif
		while (i + 8 <= f->len) {
			memcpy(&x, s + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			x = __builtin_bswap64(x);	/* byte i: bits 8i.. */
#endif
			y = x & ~F_HIGHS;
			m = (x | ~(y + F_ONES * 0x60) |
			    ~((y ^ F_ONES * '"') + F_ONES * 0x7F) |
			    ~((y ^ F_ONES * '\\') + F_ONES * 0x7F)) & F_HIGHS;
			if (m != 0) {
				i += (size_t)__builtin_ctzll(m) >> 3;
				break;
			}
			i += 8;
		}
#ifdef F_SSE2
special:
#endif
		if (i >= f->len)
			return -1;
		if (s[i] == '"')
			break;
		if (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '\\') {
			i++;	/* the last bytes, one at a time */
			continue;
		}
		if (s[i] >= 0x80) {
			if ((k = ocss_utf8_seq(s + i, f->len - i)) == 0)
				return -1;
			i += k;
			continue;
		}
		if (s[i] != '\\' || i + 1 >= f->len)
			return -1;	/* control character, or truncated */
		*esc = 1;
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i += 2;
			continue;
		default:
			break;
		}
		if (s[i + 1] != 'u' || i + 6 > f->len)
			return -1;
		for (v = 0, k = 2; k < 6; k++) {
			if (ocss_hexval(s[i + k]) < 0)
				return -1;
			v = v * 16 + ocss_hexval(s[i + k]);
		}
		if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
			return -1;
		i += 6;
	}
	*a = f->pos + 1;
	*b = i;
	f->pos = i + 1;
	return 0;
}

/* The string s[a..b) (escapes checked) decoded into f->dec[level]. */
static int
f_decode(struct fast *f, size_t a, size_t b)
{
	struct ocss_buf	*d = &f->dec[f->level];
	const unsigned char *s = f->s;
	const unsigned char *p;
	char		 u[3];
	unsigned	 v;
	size_t		 k;

	ocss_buf_reset(d);
	/* decoded, it is no longer: one allocation, not a doubling chain */
	if (ocss_buf_reserve(d, b - a + 1) == -1)
		return -1;
	while (a < b) {
		p = memchr(s + a, '\\', b - a);
		k = p ? (size_t)(p - (s + a)) : b - a;
		if (ocss_buf_append(d, s + a, k) == -1)
			return -1;
		if ((a += k) == b)
			break;
		switch (s[a + 1]) {
		case 'b':	u[0] = '\b'; break;
		case 'f':	u[0] = '\f'; break;
		case 'n':	u[0] = '\n'; break;
		case 'r':	u[0] = '\r'; break;
		case 't':	u[0] = '\t'; break;
		case 'u':
			v = (unsigned)(ocss_hexval(s[a + 2]) << 12 |
			    ocss_hexval(s[a + 3]) << 8 |
			    ocss_hexval(s[a + 4]) << 4 | ocss_hexval(s[a + 5]));
			a += 6;
			if (v < 0x80) {
				u[0] = (char)v;
				k = 1;
			} else if (v < 0x800) {
				u[0] = (char)(0xC0 | (v >> 6));
				u[1] = (char)(0x80 | (v & 0x3F));
				k = 2;
			} else {
				u[0] = (char)(0xE0 | (v >> 12));
				u[1] = (char)(0x80 | ((v >> 6) & 0x3F));
				u[2] = (char)(0x80 | (v & 0x3F));
				k = 3;
			}
			if (ocss_buf_append(d, u, k) == -1)
				return -1;
			continue;
		default:	u[0] = (char)s[a + 1]; break;	/* " \ / */
		}
		if (ocss_buf_append(d, u, 1) == -1)
			return -1;
		a += 2;
	}
	if (ocss_buf_putc(d, '\0') == -1)	/* a terminated text, even "" */
		return -1;
	d->len--;
	return 0;
}

/* One text: 0 when no rule matches it, -1 otherwise (or at a limit). */
static int
f_scan(struct fast *f, const char *s, size_t len)
{
	struct walk	*w = f->w;
	struct ocss_err	 err;

	if (len > w->lim.max_string || ++f->ntexts > w->lim.max_texts)
		return -1;
	ocss_findings_reset(&w->f);
	return ocss_rules_scan(w->rs, w->sc, s, len, OCSS_SCAN_FIRST_REJECT,
	    &w->f, &err) == 0 ? 0 : -1;
}

static int f_value(struct fast *, enum role);

static void
f_ws(struct fast *f)
{
	while (f->pos < f->len && is_ws(f->s[f->pos]))
		f->pos++;
}

static int
f_literal(struct fast *f, const char *lit)
{
	size_t	 n = strlen(lit);

	if (f->len - f->pos < n || memcmp(f->s + f->pos, lit, n) != 0)
		return -1;
	f->pos += n;
	return 0;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
f_number(struct fast *f)
{
	const unsigned char *s = f->s;
	size_t	 i = f->pos, d;

#define DIGITS() do { \
		for (d = i; i < f->len && s[i] >= '0' && s[i] <= '9'; i++) \
			; \
		if (i == d) \
			return -1; \
	} while (0)
	if (i < f->len && s[i] == '-')
		i++;
	if (i < f->len && s[i] == '0')
		i++;
	else
		DIGITS();
	if (i < f->len && s[i] == '.') {
		i++;
		DIGITS();
	}
	if (i < f->len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < f->len && (s[i] == '+' || s[i] == '-'))
			i++;
		DIGITS();
	}
#undef DIGITS
	f->pos = i;
	return 0;
}

static int
f_object(struct fast *f, enum role r)
{
	size_t	 ka, kb;
	int	 esc;

	if (++f->depth >= f->w->lim.max_depth)
		return -1;
	f->pos++;
	f_ws(f);
	if (f->pos < f->len && f->s[f->pos] == '}') {
		f->pos++;
		f->depth--;
		return 0;
	}
	for (;;) {
		if (f->pos >= f->len || f->s[f->pos] != '"' ||
		    f_string(f, &ka, &kb, &esc) == -1 || esc)
			return -1;
		f_ws(f);
		if (f->pos >= f->len || f->s[f->pos] != ':')
			return -1;
		f->pos++;
		if (f_value(f, member_role(r, f->s + ka, kb - ka)) == -1)
			return -1;
		f_ws(f);
		if (f->pos >= f->len)
			return -1;
		if (f->s[f->pos] == '}')
			break;
		if (f->s[f->pos] != ',')
			return -1;
		f->pos++;
		f_ws(f);
	}
	f->pos++;
	f->depth--;
	return 0;
}

static int
f_array(struct fast *f, enum role r)
{
	if (++f->depth >= f->w->lim.max_depth)
		return -1;
	f->pos++;
	f_ws(f);
	if (f->pos < f->len && f->s[f->pos] == ']') {
		f->pos++;
		f->depth--;
		return 0;
	}
	for (;;) {
		if (f_value(f, element_role(r)) == -1)
			return -1;
		f_ws(f);
		if (f->pos >= f->len)
			return -1;
		if (f->s[f->pos] == ']')
			break;
		if (f->s[f->pos] != ',')
			return -1;
		f->pos++;
	}
	f->pos++;
	f->depth--;
	return 0;
}

/* Tool call arguments s[0..len): a JSON object or array inside (its
 * strings are the texts) or a text, as walk_arguments() decides. */
static int
f_args(struct fast *f, const char *s, size_t len)
{
	struct fast	 g = *f;
	size_t		 i = 0;

	while (i < len && is_ws((unsigned char)s[i]))
		i++;
	if (i == len || (s[i] != '{' && s[i] != '['))
		return f_scan(f, s, len);	/* json-c finds no document */
	if (len > f->w->lim.max_string)
		return -1;
	g.s = (const unsigned char *)s;
	g.len = len;
	g.pos = i;
	g.depth = 0;
	g.level = 1;
	if (f_value(&g, V_ANY) == -1 || g.pos != len)
		return -1;
	f->ntexts = g.ntexts;
	return 0;
}

static int
f_value(struct fast *f, enum role r)
{
	const unsigned char *s = f->s;
	size_t		 a, b;
	int		 esc;
	const char	*t;

	f_ws(f);
	if (f->pos >= f->len)
		return -1;
	switch (s[f->pos]) {
	case '"':
		if (f_string(f, &a, &b, &esc) == -1)
			return -1;
		if (r != V_MSGS && r != V_MSG && r != V_CONTENT &&
		    r != V_PART && r != V_TEXT && r != V_ANY && r != V_ARGS)
			return 0;
		t = (const char *)s + a;
		if (esc) {
			if (f_decode(f, a, b) == -1)
				return -1;
			t = f->dec[f->level].data;
			b = a + f->dec[f->level].len;
		}
		if (r == V_ARGS)
			return f->level == 0 ? f_args(f, t, b - a) : -1;
		return f_scan(f, t, b - a);
	case '{':
		return f_object(f, r);
	case '[':
		return f_array(f, r);
	case 't':
		return f_literal(f, "true");
	case 'f':
		return f_literal(f, "false");
	case 'n':
		return f_literal(f, "null");
	default:
		return f_number(f);
	}
}

/* 1 when the fast path lets body[0..len) pass, 0 to take the json-c way. */
static int
fast_pass(struct walk *w, const char *body, size_t len)
{
	struct fast	 f;

	memset(&f, 0, sizeof(f));
	f.w = w;
	f.s = (const unsigned char *)body;
	f.len = len;
	f.dec = w->dec;
	if (f_value(&f, V_ROOT) == -1)
		return 0;
	f_ws(&f);
	return f.pos == len;
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
	w->lim.no_fast = lim && lim->no_fast;
	report_clear(rep);
}

static void
walk_done(struct walk *w)
{
	ocss_findings_free(&w->f);
	ocss_buf_free(&w->cl[0]);
	ocss_buf_free(&w->cl[1]);
	ocss_buf_free(&w->dec[0]);
	ocss_buf_free(&w->dec[1]);
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
	if (!w.lim.no_fast && fast_pass(&w, body + i, len - i))
		goto done;
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
