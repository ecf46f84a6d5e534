/*
 * Rules engine: JSON rule files compiled with PCRE2 (+ JIT), matched on the
 * normalised copy of a text, findings mapped back to the original bytes.
 *
 * Speed: most texts match nothing, so every normalised-text rule that can
 * be is also folded into one alternation, the PREFILTER; a segment the
 * prefilter does not match skips those rules.  Only a segment that matches
 * it pays for the rules one by one (to learn which rules, and where).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <pcre2.h>

#include "buf.h"
#include "err.h"
#include "normalize.h"
#include "rules.h"

#define RF_RAW		0x01	/* match the original bytes */
#define RF_NODECODE	0x02	/* segment 0 only */
#define RF_PRE		0x04	/* covered by the prefilter */
#define RF_KW		0x08	/* runs only where one of its keywords is */

#define KW_RULES	64	/* rules that can have keywords */

#define MATCH_LIMIT	5000000
#define DEPTH_LIMIT	100000

struct rule {
	char			*id;
	char			*desc;
	pcre2_code		*re;
	int			 jit;
	unsigned		 flags;
	enum ocss_rule_action	 action;
	enum ocss_rule_severity	 sev;
	char			**ex[2];	/* [0] nomatch, [1] match */
	size_t			 nex[2];
};

struct kwent {
	uint64_t	 h;		/* FNV-1a of the word, 0: empty slot */
	uint64_t	 mask;		/* rules (bit i: rule i) */
};

struct ocss_rules {
	struct rule	*r;
	size_t		 n;
	struct kwent	*kw;		/* open addressing, nkw a power of 2 */
	size_t		 nkw;
	pcre2_code	*pre;		/* NULL: no prefilter */
	int		 pre_jit;
};

struct ocss_rules_scratch {
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	pcre2_jit_stack		*js;
	struct ocss_norm	*norm;
};

void
ocss_findings_reset(struct ocss_findings *f)
{
	f->n = 0;
}

void
ocss_findings_free(struct ocss_findings *f)
{
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}

static int
findings_add(struct ocss_findings *f, size_t rule, size_t s, size_t e,
    enum ocss_norm_via via)
{
	struct ocss_finding *p;
	size_t	 ncap;

	if (f->n == f->cap) {
		ncap = f->cap ? f->cap * 2 : 16;
		if ((p = realloc(f->v, ncap * sizeof(*p))) == NULL)
			return -1;
		f->v = p;
		f->cap = ncap;
	}
	f->v[f->n].rule = rule;
	f->v[f->n].start = s;
	f->v[f->n].end = e;
	f->v[f->n].via = via;
	f->n++;
	return 0;
}

const char *
ocss_rule_action_name(enum ocss_rule_action a)
{
	return a == OCSS_RULE_REJECT ? "reject" : "strip";
}

static const char *const sevnames[] = { "low", "medium", "high", "critical" };

const char *
ocss_rule_severity_name(enum ocss_rule_severity s)
{
	return (unsigned)s < 4 ? sevnames[s] : "?";
}

static void
rule_free(struct rule *r)
{
	size_t	 i;
	int	 k;

	free(r->id);
	free(r->desc);
	pcre2_code_free(r->re);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < r->nex[k]; i++)
			free(r->ex[k][i]);
		free(r->ex[k]);
	}
}

void
ocss_rules_free(struct ocss_rules *rs)
{
	size_t	 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(&rs->r[i]);
	free(rs->r);
	free(rs->kw);
	pcre2_code_free(rs->pre);
	free(rs);
}

static int
valid_id(const char *s)
{
	size_t	 n = 0;

	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return n > 0 && n <= 64;
}

static int
flag_word(const char *w, size_t len, unsigned *fl, uint32_t *opt)
{
	static const struct { const char *name; unsigned fl; uint32_t opt; }
	    words[] = {
		{ "raw", RF_RAW, 0 },
		{ "nodecode", RF_NODECODE, 0 },
		{ "caseless", 0, PCRE2_CASELESS },
		{ "i", 0, PCRE2_CASELESS },
		{ "dotall", 0, PCRE2_DOTALL },
		{ "s", 0, PCRE2_DOTALL },
		{ "multiline", 0, PCRE2_MULTILINE },
		{ "m", 0, PCRE2_MULTILINE },
	};
	size_t	 k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strlen(words[k].name) == len &&
		    memcmp(words[k].name, w, len) == 0) {
			*fl |= words[k].fl;
			*opt |= words[k].opt;
			return 0;
		}
	return -1;
}

/* "flags": ["raw", "caseless"] or "raw,caseless". */
static int
parse_flags(json_object *v, unsigned *fl, uint32_t *opt, const char **bad)
{
	const char *s, *p;
	size_t	 i, n;

	if (json_object_is_type(v, json_type_array)) {
		for (i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string)) {
				*bad = "(not a string)";
				return -1;
			}
			s = json_object_get_string(e);
			if (flag_word(s, strlen(s), fl, opt) == -1) {
				*bad = s;
				return -1;
			}
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*bad = "(not a string or array)";
		return -1;
	}
	s = json_object_get_string(v);
	while (*s) {
		n = strcspn(s, ", |");
		if (n > 0 && flag_word(s, n, fl, opt) == -1) {
			*bad = s;
			return -1;
		}
		p = s + n;
		s = *p ? p + 1 : p;
	}
	return 0;
}

static int
parse_examples(json_object *v, struct rule *r, const char **why)
{
	static const char *const keys[2] = { "nomatch", "match" };
	json_object	*a;
	size_t		 i, n;
	int		 k;

	if (!json_object_is_type(v, json_type_object)) {
		*why = "\"examples\" must be an object {\"match\": [...], "
		    "\"nomatch\": [...]}";
		return -1;
	}
	for (k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(v, keys[k], &a))
			continue;
		if (!json_object_is_type(a, json_type_array)) {
			*why = "examples must be arrays of strings";
			return -1;
		}
		n = json_object_array_length(a);
		if ((r->ex[k] = calloc(n ? n : 1, sizeof(char *))) == NULL) {
			*why = "out of memory";
			return -1;
		}
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(a, i);
			if (!json_object_is_type(e, json_type_string)) {
				*why = "examples must be arrays of strings";
				return -1;
			}
			if ((r->ex[k][i] = strdup(json_object_get_string(e)))
			    == NULL) {
				*why = "out of memory";
				return -1;
			}
			r->nex[k]++;
		}
	}
	return 0;
}

static int
known_member(const char *k)
{
	static const char *const keys[] = { "id", "description", "pattern",
	    "flags", "action", "severity", "examples", "comment",
	    "references", "keywords" };
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

static const char *
str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
compile_rule(struct rule *r, const char *pat, uint32_t opt, const char *name,
    size_t idx, struct ocss_err *err)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 ec;

	opt |= PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
	if (r->flags & RF_RAW)
		opt |= PCRE2_MATCH_INVALID_UTF;
	r->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opt, &ec,
	    &off, NULL);
	if (r->re == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): pattern error at "
		    "offset %zu: %s; fix the pattern", name, idx, r->id,
		    (size_t)off, (char *)msg);
		return -1;
	}
	r->jit = pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

static int
parse_rule(struct ocss_rules *rs, json_object *o, size_t idx,
    const char *name, struct ocss_err *err)
{
	struct rule	*r = &rs->r[idx];
	json_object	*v;
	const char	*s, *pat, *why = NULL, *bad;
	uint32_t	 opt = 0;
	size_t		 i;

	if (!json_object_is_type(o, json_type_object)) {
		ocss_err_set(err, "%s: rules[%zu]: not a JSON object; each rule "
		    "is {\"id\", \"pattern\", \"action\", ...}", name, idx);
		return -1;
	}
	if ((s = str_member(o, "id")) == NULL || !valid_id(s)) {
		ocss_err_set(err, "%s: rules[%zu]: \"id\" missing or not 1-64 "
		    "characters of [A-Za-z0-9._-]", name, idx);
		return -1;
	}
	if ((r->id = strdup(s)) == NULL)
		goto oom;
	for (i = 0; i < idx; i++)
		if (strcmp(rs->r[i].id, s) == 0) {
			ocss_err_set(err, "%s: rules[%zu]: id \"%s\" already "
			    "used by rules[%zu]; ids must be unique", name, idx,
			    s, i);
			return -1;
		}
	{
		json_object_object_foreach(o, key, val) {
			(void)val;
			if (!known_member(key)) {
				ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): "
				    "unknown member \"%s\" (known: id, "
				    "description, pattern, flags, action, "
				    "severity, keywords, examples, comment)",
				    name, idx,
				    r->id, key);
				return -1;
			}
		}
	}
	s = str_member(o, "description");
	if ((r->desc = strdup(s ? s : "")) == NULL)
		goto oom;
	if ((pat = str_member(o, "pattern")) == NULL || *pat == '\0') {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): \"pattern\" "
		    "missing or empty", name, idx, r->id);
		return -1;
	}
	if ((s = str_member(o, "action")) != NULL && strcmp(s, "strip") == 0)
		r->action = OCSS_RULE_STRIP;
	else if (s != NULL && strcmp(s, "reject") == 0)
		r->action = OCSS_RULE_REJECT;
	else {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): \"action\" must "
		    "be \"strip\" or \"reject\"", name, idx, r->id);
		return -1;
	}
	r->sev = OCSS_SEV_MEDIUM;
	if (json_object_object_get_ex(o, "severity", &v)) {
		s = json_object_get_string(v);
		for (i = 0; i < 4; i++)
			if (json_object_is_type(v, json_type_string) &&
			    strcmp(s, sevnames[i]) == 0)
				break;
		if (i == 4) {
			ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): "
			    "\"severity\" must be low, medium, high or "
			    "critical", name, idx, r->id);
			return -1;
		}
		r->sev = (enum ocss_rule_severity)i;
	}
	if (json_object_object_get_ex(o, "flags", &v) &&
	    parse_flags(v, &r->flags, &opt, &bad) == -1) {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): unknown flag "
		    "\"%.40s\" (known: raw, nodecode, caseless, dotall, "
		    "multiline)", name, idx, r->id, bad);
		return -1;
	}
	if (json_object_object_get_ex(o, "examples", &v) &&
	    parse_examples(v, r, &why) == -1) {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): %s", name, idx,
		    r->id, why);
		return -1;
	}
	return compile_rule(r, pat, opt, name, idx, err);
oom:
	ocss_err_set(err, "%s: out of memory", name);
	return -1;
}

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t	 i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h ? h : 1;
}

static struct kwent *
kw_slot(struct kwent *t, size_t n, uint64_t h)
{
	size_t	 i = (size_t)h & (n - 1);

	while (t[i].h != 0 && t[i].h != h)
		i = (i + 1) & (n - 1);
	return &t[i];
}

/*
 * "keywords": words of the normalised text (lower case, no spaces) of which
 * at least one must be in a segment for the rule to run there.  A cheap
 * word-hash lookup then spares most texts every PCRE2 pass.
 */
static int
parse_keywords(struct ocss_rules *rs, json_object *rules, const char *name,
    struct ocss_err *err)
{
	json_object	*o, *a, *e;
	const char	*w;
	size_t		 i, k, total = 0, n;
	struct kwent	*slot;

	for (i = 0; i < rs->n && i < KW_RULES; i++) {
		o = json_object_array_get_idx(rules, i);
		if (json_object_object_get_ex(o, "keywords", &a) &&
		    json_object_is_type(a, json_type_array))
			total += json_object_array_length(a);
	}
	if (total == 0)
		return 0;
	for (n = 16; n < total * 2; n *= 2)
		;
	if ((rs->kw = calloc(n, sizeof(*rs->kw))) == NULL) {
		ocss_err_set(err, "%s: out of memory", name);
		return -1;
	}
	rs->nkw = n;
	for (i = 0; i < rs->n; i++) {
		o = json_object_array_get_idx(rules, i);
		if (!json_object_object_get_ex(o, "keywords", &a))
			continue;
		if (!json_object_is_type(a, json_type_array) || i >= KW_RULES) {
			ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): "
			    "\"keywords\" must be an array of words (and only "
			    "the first %d rules may have keywords)", name, i,
			    rs->r[i].id, KW_RULES);
			return -1;
		}
		for (k = 0; k < json_object_array_length(a); k++) {
			e = json_object_array_get_idx(a, k);
			w = json_object_get_string(e);
			if (!json_object_is_type(e, json_type_string) ||
			    *w == '\0' || strchr(w, ' ') != NULL) {
				ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): "
				    "keywords[%zu] must be one lower-case word",
				    name, i, rs->r[i].id, k);
				return -1;
			}
			slot = kw_slot(rs->kw, n, fnv(w, strlen(w)));
			slot->h = fnv(w, strlen(w));
			slot->mask |= 1ULL << i;
		}
		rs->r[i].flags |= RF_KW;
	}
	return 0;
}

/* Rules whose keywords occur in the normalised segment s. */
static uint64_t
kw_mask(const struct ocss_rules *rs, const char *s, size_t len)
{
	const struct kwent *e;
	uint64_t mask = 0, h;
	size_t	 i = 0, j;

	if (rs->nkw == 0)
		return 0;
	while (i < len) {
		h = 0xcbf29ce484222325ULL;
		for (j = i; j < len && s[j] != ' '; j++)
			h = (h ^ (unsigned char)s[j]) * 0x100000001b3ULL;
		if (j > i) {
			e = kw_slot(rs->kw, rs->nkw, h ? h : 1);
			mask |= e->mask;
		}
		i = j + 1;
	}
	return mask;
}

/*
 * One alternation of all normalised-text rules that can be combined safely:
 * no back references (group numbers shift) and no backtracking verbs
 * ((*COMMIT) in one branch would cut the others).
 */
static void
build_prefilter(struct ocss_rules *rs, json_object *rules)
{
	struct ocss_buf	 p = OCSS_BUF_INIT;
	PCRE2_SIZE	 off;
	uint32_t	 backrefs, opts;
	const char	*pat;
	size_t		 i, n = 0;
	int		 ec;

	for (i = 0; i < rs->n; i++) {
		struct rule *r = &rs->r[i];
		json_object *o = json_object_array_get_idx(rules, i);

		if (r->flags & (RF_RAW | RF_KW))
			continue;
		pat = str_member(o, "pattern");
		if (pcre2_pattern_info(r->re, PCRE2_INFO_BACKREFMAX,
		    &backrefs) != 0 || backrefs > 0 || strstr(pat, "(*") ||
		    pcre2_pattern_info(r->re, PCRE2_INFO_ARGOPTIONS, &opts) != 0)
			continue;
		if (ocss_buf_puts(&p, n ? "|(?:" : "(?:") == -1 ||
		    ((opts & (PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_MULTILINE))
		    && ocss_buf_printf(&p, "(?%s%s%s)",
		    opts & PCRE2_CASELESS ? "i" : "",
		    opts & PCRE2_DOTALL ? "s" : "",
		    opts & PCRE2_MULTILINE ? "m" : "") == -1) ||
		    ocss_buf_puts(&p, pat) == -1 || ocss_buf_puts(&p, ")") == -1)
			goto done;
		r->flags |= RF_PRE;
		n++;
	}
	if (n == 0)
		goto done;
	rs->pre = pcre2_compile((PCRE2_SPTR)p.data, p.len,
	    PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &ec, &off, NULL);
	if (rs->pre == NULL) {
		/* Combination failed (e.g. duplicate group names): the rules
		 * still work one by one, only slower. */
		for (i = 0; i < rs->n; i++)
			rs->r[i].flags &= ~RF_PRE;
		goto done;
	}
	rs->pre_jit = pcre2_jit_compile(rs->pre, PCRE2_JIT_COMPLETE) == 0;
done:
	ocss_buf_free(&p);
}

struct ocss_rules *
ocss_rules_parse(const char *json, size_t len, const char *name,
    struct ocss_err *err)
{
	struct ocss_rules	*rs = NULL;
	struct json_tokener	*tok;
	json_object		*root = NULL, *rules;
	size_t			 i, line = 1, off;

	if ((tok = json_tokener_new()) == NULL)
		goto oom;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		off = tok->char_offset;
		for (i = 0; i < off && i < len; i++)
			if (json[i] == '\n')
				line++;
		ocss_err_set(err, "%s: line %zu: JSON syntax error: %s; fix the "
		    "JSON (a trailing comma or a missing quote?)", name, line,
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		json_object_put(root);
		return NULL;
	}
	json_tokener_free(tok);
	rules = root;
	if (json_object_is_type(root, json_type_object) &&
	    !json_object_object_get_ex(root, "rules", &rules))
		rules = NULL;
	if (rules == NULL || !json_object_is_type(rules, json_type_array)) {
		ocss_err_set(err, "%s: expected {\"rules\": [ ... ]} or a JSON "
		    "array of rules", name);
		goto fail;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL ||
	    (rs->r = calloc(json_object_array_length(rules) + 1,
	    sizeof(struct rule))) == NULL)
		goto oom;
	for (i = 0; i < json_object_array_length(rules); i++) {
		rs->n = i + 1;
		if (parse_rule(rs, json_object_array_get_idx(rules, i), i, name,
		    err) == -1)
			goto fail;
	}
	if (parse_keywords(rs, rules, name, err) == -1)
		goto fail;
	build_prefilter(rs, rules);
	json_object_put(root);
	return rs;
oom:
	ocss_err_set(err, "%s: out of memory", name);
fail:
	json_object_put(root);
	ocss_rules_free(rs);
	return NULL;
}

struct ocss_rules *
ocss_rules_load(const char *path, struct ocss_err *err)
{
	struct ocss_rules	*rs;
	struct ocss_buf		 b = OCSS_BUF_INIT;
	char			 chunk[8192];
	size_t			 n;
	FILE			*f;

	if ((f = fopen(path, "r")) == NULL) {
		ocss_err_set(err, "%s: %s (set OCSS_CONF_DIR or install the "
		    "rule file)", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ocss_buf_append(&b, chunk, n) == -1) {
			fclose(f);
			ocss_buf_free(&b);
			ocss_err_set(err, "%s: out of memory", path);
			return NULL;
		}
	if (ferror(f)) {
		ocss_err_set(err, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		ocss_buf_free(&b);
		return NULL;
	}
	fclose(f);
	rs = ocss_rules_parse(b.data ? b.data : "", b.len, path, err);
	ocss_buf_free(&b);
	return rs;
}

size_t
ocss_rules_count(const struct ocss_rules *rs)
{
	return rs->n;
}

const char *
ocss_rules_id(const struct ocss_rules *rs, size_t i)
{
	return i < rs->n ? rs->r[i].id : "?";
}

const char *
ocss_rules_description(const struct ocss_rules *rs, size_t i)
{
	return i < rs->n ? rs->r[i].desc : "";
}

enum ocss_rule_action
ocss_rules_action(const struct ocss_rules *rs, size_t i)
{
	return i < rs->n ? rs->r[i].action : OCSS_RULE_REJECT;
}

enum ocss_rule_severity
ocss_rules_severity(const struct ocss_rules *rs, size_t i)
{
	return i < rs->n ? rs->r[i].sev : OCSS_SEV_HIGH;
}

size_t
ocss_rules_nexamples(const struct ocss_rules *rs, size_t i, int match)
{
	return i < rs->n ? rs->r[i].nex[match != 0] : 0;
}

const char *
ocss_rules_example(const struct ocss_rules *rs, size_t i, int match,
    size_t k)
{
	if (i >= rs->n || k >= rs->r[i].nex[match != 0])
		return NULL;
	return rs->r[i].ex[match != 0][k];
}

struct ocss_rules_scratch *
ocss_rules_scratch_new(const struct ocss_rules *rs)
{
	struct ocss_rules_scratch *sc;
	uint32_t	 cap, max = 1;
	size_t		 i;

	for (i = 0; i < rs->n; i++)
		if (pcre2_pattern_info(rs->r[i].re, PCRE2_INFO_CAPTURECOUNT,
		    &cap) == 0 && cap + 1 > max)
			max = cap + 1;
	if (rs->pre != NULL && pcre2_pattern_info(rs->pre,
	    PCRE2_INFO_CAPTURECOUNT, &cap) == 0 && cap + 1 > max)
		max = cap + 1;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	if ((sc->md = pcre2_match_data_create(max, NULL)) == NULL ||
	    (sc->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (sc->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024,
	    NULL)) == NULL || (sc->norm = ocss_norm_new()) == NULL) {
		ocss_rules_scratch_free(sc);
		return NULL;
	}
	pcre2_jit_stack_assign(sc->mctx, NULL, sc->js);
	pcre2_set_match_limit(sc->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(sc->mctx, DEPTH_LIMIT);
	return sc;
}

void
ocss_rules_scratch_free(struct ocss_rules_scratch *sc)
{
	if (sc == NULL)
		return;
	pcre2_match_data_free(sc->md);
	pcre2_match_context_free(sc->mctx);
	pcre2_jit_stack_free(sc->js);
	ocss_norm_free(sc->norm);
	free(sc);
}

static int
do_match(const pcre2_code *re, int jit, const char *s, size_t len,
    size_t off, uint32_t opt, struct ocss_rules_scratch *sc)
{
	if (jit)
		return pcre2_jit_match(re, (PCRE2_SPTR)s, len, off, opt, sc->md,
		    sc->mctx);
	return pcre2_match(re, (PCRE2_SPTR)s, len, off, opt, sc->md, sc->mctx);
}

static int
match_error(int rc, const char *what, struct ocss_err *err)
{
	PCRE2_UCHAR	 msg[128];

	pcre2_get_error_message(rc, msg, sizeof(msg));
	ocss_err_set(err, "rule %s: %s; the text cannot be scanned within the "
	    "limits", what, (char *)msg);
	return -1;
}

/* Every match of rule i in s[0..len); seg < 0 means original offsets. */
static int
rule_matches(const struct ocss_rules *rs, size_t i,
    struct ocss_rules_scratch *sc, const char *s, size_t len, long seg,
    enum ocss_norm_via via, uint32_t opt, struct ocss_findings *out,
    struct ocss_err *err)
{
	const struct rule *r = &rs->r[i];
	PCRE2_SIZE	*ov;
	size_t		 off = 0, os, oe, hits = 0;
	int		 rc;

	while (hits < OCSS_RULES_MAX_HITS && off <= len) {
		rc = do_match(r->re, r->jit, s, len, off, opt, sc);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			return match_error(rc, r->id, err);
		ov = pcre2_get_ovector_pointer(sc->md);
		if (ov[1] < ov[0]) {	/* \K in a lookahead: ignore */
			off = ov[0] + 1;
			continue;
		}
		if (seg < 0) {
			os = ov[0];
			oe = ov[1];
		} else
			ocss_norm_map(sc->norm, (size_t)seg, ov[0], ov[1], &os,
			    &oe);
		if (findings_add(out, i, os, oe, via) == -1) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		hits++;
		off = ov[1];
		if (ov[1] == ov[0]) {
			off++;
			while (off < len && (s[off] & 0xC0) == 0x80)
				off++;
		}
	}
	return (int)hits;
}

int
ocss_rules_scan(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *text, size_t len, unsigned flags, struct ocss_findings *out,
    struct ocss_err *err)
{
	const char		*s;
	enum ocss_norm_via	 via;
	size_t			 nseg, seg, i, slen, before = out->n;
	uint64_t		 kw;
	int			 rc, pre;

	if (ocss_norm_run(sc->norm, text, len, 0) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	nseg = ocss_norm_nsegs(sc->norm);
	for (seg = 0; seg < nseg; seg++) {
		s = ocss_norm_seg(sc->norm, seg, &slen, &via);
		pre = 1;
		kw = kw_mask(rs, s, slen);
		if (rs->pre != NULL) {
			rc = do_match(rs->pre, rs->pre_jit, s, slen, 0,
			    PCRE2_NO_UTF_CHECK, sc);
			if (rc == PCRE2_ERROR_NOMATCH)
				pre = 0;
			else if (rc < 0)
				return match_error(rc, "(prefilter)", err);
		}
		for (i = 0; i < rs->n; i++) {
			const struct rule *r = &rs->r[i];

			if ((r->flags & RF_RAW) ||
			    ((r->flags & RF_NODECODE) && seg > 0) ||
			    ((r->flags & RF_PRE) && !pre) ||
			    ((r->flags & RF_KW) && !((kw >> i) & 1)))
				continue;
			if (rule_matches(rs, i, sc, s, slen, (long)seg, via,
			    PCRE2_NO_UTF_CHECK, out, err) == -1)
				return -1;
			if ((flags & OCSS_SCAN_FIRST_REJECT) && out->n > before &&
			    r->action == OCSS_RULE_REJECT)
				return (int)(out->n - before);
		}
	}
	for (i = 0; i < rs->n; i++) {
		if (!(rs->r[i].flags & RF_RAW))
			continue;
		if (rule_matches(rs, i, sc, text, len, -1, OCSS_VIA_TEXT, 0,
		    out, err) == -1)
			return -1;
	}
	return (int)(out->n - before);
}
