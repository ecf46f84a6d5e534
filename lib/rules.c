/*
 * Rules engine: JSON rule files compiled with PCRE2 (+ JIT), matched on the
 * normalised copy of a text, findings mapped back to the original bytes.
 *
 * Speed: most texts match nothing, and PCRE2 scanning a whole text for a
 * rule costs far more than normalising it.  So:
 *   - ANCHORED rules: when every branch of a normalised-text pattern starts
 *     with \b and a literal word prefix ("\b(?:ignore|disregard) ..."),
 *     the prefixes are derived at load time.  One pass over the words of a
 *     segment looks each word's first two bytes up in a table of all those
 *     prefixes, and the rule runs (compiled a second time with
 *     PCRE2_ANCHORED) only at the words that start with one of its
 *     prefixes.  Same matches as a scan of the whole segment: a match can
 *     only begin at such a word.
 *   - other rules with "keywords" run only on segments holding one;
 *   - the remaining normalised-text rules are folded into one alternation,
 *     the PREFILTER; a segment it does not match skips them.
 * OCSS_SCAN_NOGATE turns all of that off (tests compare both ways).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <pcre2.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define RULES_SSE2	1
#endif

#include "buf.h"
#include "err.h"
#include "normalize.h"
#include "rules.h"

#define RF_RAW		0x01	/* match the original bytes */
#define RF_NODECODE	0x02	/* segment 0 only */
#define RF_PRE		0x04	/* covered by the prefilter */
#define RF_KW		0x08	/* runs only where one of its keywords is */
#define RF_ANCH		0x10	/* runs anchored at its start words */
#define RF_MODEL	0x20	/* n-gram model, not a pattern */
#define RF_NEEDLE	0x40	/* raw: runs only near its needle bytes */

#define NEEDLE_MAX	8	/* distinct needle bytes of one raw rule */
#define NEEDLE_MAXCH	64	/* characters before a needle, at most */
#define NEEDLE_WINDOWS	16	/* windows a text gets in any case, */
#define NEEDLE_DENSITY	128	/* and one more per this many bytes */

#define MODEL_MAGIC	"OCSSNG2"	/* + NUL: 8 bytes */
#define MODEL_MAXDIM	(1u << 24)

#define MAX_PREFIXES	512	/* literal prefixes derived from one rule */
#define PFX_MAX		31	/* bytes of a prefix kept */

#define KW_RULES	64	/* rules that can have keywords */

#define MATCH_LIMIT	5000000
#define DEPTH_LIMIT	100000

struct rule {
	char			*id;
	char			*desc;
	pcre2_code		*re;
	pcre2_code		*are;	/* RF_ANCH: the same, PCRE2_ANCHORED */
	pcre2_code		*nre;	/* RF_NEEDLE: the same with
					 * PCRE2_USE_OFFSET_LIMIT */
	int			 jit, ajit, njit;
	unsigned char		 needle[NEEDLE_MAX];	/* RF_NEEDLE */
	size_t			 nneedle;
	size_t			 nback;	/* bytes a match starts before one */
	int			 nws;	/* and a \s run before the needle */
	unsigned		 flags;
	enum ocss_rule_action	 action;
	enum ocss_rule_severity	 sev;
	int16_t			*mw;	/* RF_MODEL: weights[mdim] / mscale */
	uint32_t		 mdim;
	int			 mbits;	/* mdim = 1 << mbits */
	float			 mbias, mscale;
	double			 mlogit;	/* flag when score > mlogit */
	char			**ex[2];	/* [0] nomatch, [1] match */
	size_t			 nex[2];
};

struct kwent {
	uint64_t	 h;		/* FNV-1a of the word, 0: empty slot */
	uint64_t	 mask;		/* rules (bit i: rule i) */
};

/* A word of a segment that starts with a prefix of some anchored rules. */
struct whit {
	size_t		 pos;
	uint64_t	 mask;
};

/* A literal prefix a match of some anchored rules starts with. */
struct pfx {
	char		 s[PFX_MAX + 1];
	unsigned char	 len;
	unsigned char	 wlen;		/* its first word: s[0..wlen) */
	uint64_t	 mask;		/* rules (bit i: rule i) */
	uint64_t	 v8, m8;	/* the word's first 8 bytes (load8),
					 * mask */
	uint64_t	 t8, tm8;	/* the first 8 bytes after the word
					 * (the tail), mask */
	uint16_t	 next;		/* the first entry after the run of
					 * those with the same first word */
};

struct ocss_rules {
	struct rule	*r;
	size_t		 n;
	struct pfx	*pfx;		/* sorted by first two bytes */
	size_t		 npfx;
	uint16_t	*pfx_ix;	/* [bucket]: first entry; [bucket+1]: end */
	uint64_t	*pfx_b2;	/* [bucket]: bit bslot[c] for every third
					 * byte c of its prefixes; all bits
					 * when one is shorter than 3 bytes */
	uint64_t	 amask;		/* anchored rules */
	int		 model;		/* some rule is a model */
	struct kwent	*kw;		/* open addressing, nkw a power of 2 */
	size_t		 nkw;
	pcre2_code	*pre;		/* NULL: no prefilter */
	int		 pre_jit;
};

static uint64_t	load8(const char *, size_t);

struct ocss_rules_scratch {
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	pcre2_match_context	*lctx;		/* mctx + an offset limit */
	pcre2_jit_stack		*js;
	struct ocss_norm	*norm;
	struct whit		*wh;		/* words starting a prefix */
	size_t			 nwh, whcap;
	uint64_t		 wamask;	/* rules with a word that starts
						 * the first word of a prefix */
	uint64_t		*th;		/* token hashes of segment 0 */
	size_t			 nth, thcap;
	uint64_t		*seen;		/* model features seen: bits */
	uint32_t		*feat;		/* the features set in seen */
	size_t			 featcap;
	uint32_t		 sdim;
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

int
ocss_findings_equal(const struct ocss_findings *a,
    const struct ocss_findings *b)
{
	size_t	 i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].rule != b->v[i].rule ||
		    a->v[i].start != b->v[i].start ||
		    a->v[i].end != b->v[i].end || a->v[i].via != b->v[i].via)
			return 0;
	return 1;
}


/* PCRE2's JIT code is opaque to valgrind, which then reports reads of
 * uninitialised memory inside it; OCSS_PCRE2_NO_JIT=1 (set by the test
 * suite's valgrind runs) keeps to the interpreter.  1 when JIT is on. */
int
ocss_jit_compile(pcre2_code *re)
{
	if (getenv("OCSS_PCRE2_NO_JIT") != NULL)
		return 0;
	return pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
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
	pcre2_code_free(r->are);
	pcre2_code_free(r->nre);
	free(r->mw);
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
	free(rs->pfx);
	free(rs->pfx_ix);
	free(rs->pfx_b2);
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
	    "references", "keywords", "model", "threshold" };
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
	r->jit = ocss_jit_compile(r->re);
	return 0;
}

/*
 * An n-gram model file (tests/tools/train-ngram.py): "OCSSNG2\0", uint32
 * dim (a power of two), uint32 flags, float32 bias, float32 threshold,
 * float32 scale, int16 weights[dim] (a weight is scale * weights[i]), all
 * little endian.  path is relative to the directory of the rule file
 * (name).
 */
static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static float
lef(const unsigned char *p)
{
	uint32_t u = le32(p);
	float	 f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static int
load_model(struct rule *r, const char *file, json_object *o,
    const char *name, size_t idx, struct ocss_err *err)
{
	unsigned char	 hdr[28], wb[2];
	char		 path[4096];
	const char	*slash;
	json_object	*tv;
	double		 t;
	uint32_t	 i;
	FILE		*f;

	slash = strrchr(name, '/');
	if (file[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - name),
		    name, file);
	if ((f = fopen(path, "rb")) == NULL) {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): model %s: %s "
		    "(train it with tests/tools/train-ngram.py)", name, idx,
		    r->id, path, strerror(errno));
		return -1;
	}
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr, MODEL_MAGIC, 8) != 0 || (r->mdim = le32(hdr + 8)) < 2
	    || r->mdim > MODEL_MAXDIM || (r->mdim & (r->mdim - 1)) != 0)
		goto bad;
	r->mbias = lef(hdr + 16);
	t = lef(hdr + 20);
	r->mscale = lef(hdr + 24);
	if (!isfinite(r->mbias) || !isfinite(r->mscale))
		goto bad;
	for (r->mbits = 0; (1u << r->mbits) < r->mdim; r->mbits++)
		;
	if (json_object_object_get_ex(o, "threshold", &tv))
		t = json_object_get_double(tv);
	if (!(t > 0.0 && t < 1.0)) {
		fclose(f);
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): \"threshold\" "
		    "must be a probability between 0 and 1", name, idx, r->id);
		return -1;
	}
	r->mlogit = log(t / (1.0 - t));
	if ((r->mw = calloc(r->mdim, sizeof(int16_t))) == NULL) {
		fclose(f);
		ocss_err_set(err, "%s: out of memory", name);
		return -1;
	}
	for (i = 0; i < r->mdim; i++) {
		if (fread(wb, 1, 2, f) != 2)
			goto bad;
		r->mw[i] = (int16_t)(uint16_t)(wb[0] | wb[1] << 8);
	}
	if (fgetc(f) != EOF)
		goto bad;
	fclose(f);
	r->flags |= RF_MODEL | RF_NODECODE;
	return 0;
bad:
	fclose(f);
	ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): %s is not an n-gram "
	    "model file (or is truncated); retrain it with "
	    "tests/tools/train-ngram.py", name, idx, r->id, path);
	return -1;
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
	pat = str_member(o, "pattern");
	if (str_member(o, "model") != NULL && pat != NULL) {
		ocss_err_set(err, "%s: rules[%zu] (id \"%s\"): a rule has a "
		    "\"pattern\" or a \"model\", not both", name, idx, r->id);
		return -1;
	}
	if (str_member(o, "model") == NULL && (pat == NULL || *pat == '\0')) {
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
	if (pat == NULL)
		return load_model(r, str_member(o, "model"), o, name, idx, err);
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
 * Literal prefixes.  A small reader for the part of PCRE2 syntax the rule
 * files use: it finds the literal strings one of which every match of a
 * pattern starts with.  Whatever it does not understand ends a prefix
 * there, so a prefix is always a true one (possibly shorter than it could
 * be); a branch it cannot give a prefix to makes the rule unanchored.
 */
struct pset {
	char		 s[MAX_PREFIXES][PFX_MAX + 1];
	unsigned char	 len[MAX_PREFIXES];
	unsigned char	 open[MAX_PREFIXES];
	size_t		 n;
};

#define is_wordch(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9'))

static int pfx_alt(const char *, size_t, size_t, struct pset *, int);

/*
 * The structure of a pattern, as far as the readers below need it: where a
 * character class, a group and an alternative end.  Classes as PCRE2 reads
 * them ("[]a]" and "[^]a]" hold a ']', "[[:alpha:]]" is one class, \c
 * takes the next byte); anything these do not follow (\Q...\E quoting,
 * comments, callouts, verbs, option settings) makes the caller give up,
 * never guess.
 */

/* The ':]' that ends the POSIX class "[:" at p[k] inside a class (its
 * ']'), or 0 when PCRE2 does not read one there (a ']' or another "[:"
 * first: then '[' is a literal). */
static size_t
posix_end(const char *p, size_t k, size_t end)
{
	char	 t = p[k + 1];

	for (k += 2; k < end; k++) {
		if (p[k] == '\\' && k + 1 < end && (p[k + 1] == ']' ||
		    p[k + 1] == '\\'))
			k++;
		else if (p[k] == ']' || (p[k] == '[' && k + 1 < end &&
		    p[k + 1] == t))
			return 0;
		else if (p[k] == t && k + 1 < end && p[k + 1] == ']')
			return k + 1;
	}
	return 0;
}

/* The ']' that ends the class whose '[' is at p[i], or 0. */
static size_t
class_end(const char *p, size_t i, size_t end)
{
	size_t	 k = i + 1, e;

	if (k < end && p[k] == '^')
		k++;
	if (k < end && p[k] == ']')
		k++;		/* first: a literal */
	for (; k < end && p[k] != ']'; k++) {
		if (p[k] == '\\') {
			if (k + 1 >= end || p[k + 1] == 'Q' ||
			    (p[k + 1] == 'c' && k + 2 >= end))
				return 0;
			k += p[k + 1] == 'c' ? 2 : 1;	/* \c takes a byte */
		} else if (p[k] == '[' && k + 1 < end && (p[k + 1] == ':' ||
		    p[k + 1] == '.' || p[k + 1] == '=') &&
		    (e = posix_end(p, k, end)) != 0)
			k = e;
	}
	return k < end ? k : 0;
}

/* Past the item that starts at p[i] as far as nesting goes: an escape, a
 * class, or one byte; 0 when the readers cannot follow it.  An option
 * setting, (?x) or (?i:, holds to the end of its group, alternatives
 * after it included ("a(?x)b|c #" is a|c), so it is not followed either. */
static size_t
skip_atom(const char *p, size_t i, size_t end)
{
	size_t	 k;

	if (p[i] == '\\') {
		if (i + 1 >= end || p[i + 1] == 'Q')
			return 0;
		if (p[i + 1] == 'c')	/* \c[ is ESC: the byte after \c */
			return i + 2 < end ? i + 3 : 0;
		return i + 2;
	}
	if (p[i] == '[')
		return (k = class_end(p, i, end)) != 0 ? k + 1 : 0;
	if (p[i] == '(' && i + 1 < end && p[i + 1] == '*')
		return 0;	/* a verb: its name may hold '[' or '|' */
	if (p[i] == '(' && i + 2 < end && p[i + 1] == '?') {
		if (p[i + 2] == '#' || p[i + 2] == 'C')
			return 0;	/* a comment, a callout's string */
		for (k = i + 2; k < end && p[k] != '\0' &&
		    strchr("imnsxJU^-", p[k]) != NULL; k++)
			;
		if (k > i + 2 && k < end && (p[k] == ')' || p[k] == ':'))
			return 0;	/* options */
	}
	return i + 1;
}

/* The end of the group whose '(' is at p[i], or 0. */
static size_t
group_end(const char *p, size_t i, size_t end)
{
	int	 depth = 0;

	while (i < end) {
		if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i;
		if ((i = skip_atom(p, i, end)) == 0)
			return 0;
	}
	return 0;
}

#define ALT_BAD	SIZE_MAX

/* The end of the alternative that starts at p[i] in p[..end): the '|' of
 * its level after it, or end; ALT_BAD when it cannot be read. */
static size_t
alt_end(const char *p, size_t i, size_t end)
{
	int	 depth = 0;

	while (i < end) {
		if (p[i] == '|' && depth == 0)
			return i;
		if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth < 0)
			return ALT_BAD;
		if ((i = skip_atom(p, i, end)) == 0)
			return ALT_BAD;
	}
	return depth == 0 ? end : ALT_BAD;
}

static void
pset_close(struct pset *r)
{
	memset(r->open, 0, sizeof(r->open[0]) * r->n);
}

static int
pset_any_open(const struct pset *r)
{
	size_t	 k;

	for (k = 0; k < r->n; k++)
		if (r->open[k])
			return 1;
	return 0;
}

/* A quantifier at p[i]: 0 none, 1 may repeat zero times, 2 at least once;
 * *qlen its length (with a lazy or possessive mark). */
static int
quantifier(const char *p, size_t i, size_t end, size_t *qlen)
{
	size_t	 j = i;
	int	 kind;

	*qlen = 0;
	if (i >= end)
		return 0;
	if (p[i] == '?' || p[i] == '*')
		kind = 1;
	else if (p[i] == '+')
		kind = 2;
	else if (p[i] == '{' && i + 1 < end && ((p[i + 1] >= '0' &&
	    p[i + 1] <= '9') || p[i + 1] == ',' || p[i + 1] == ' ')) {
		/* {,n} and { n } are literals to PCRE2 10.42, {0,n} and
		 * {n} to 10.43: may be zero */
		kind = p[i + 1] >= '1' && p[i + 1] <= '9' ? 2 : 1;
		while (j < end && p[j] != '}')
			j++;
	} else
		return 0;
	j++;
	if (j < end && (p[j] == '?' || p[j] == '+'))
		j++;
	*qlen = j - i;
	return kind;
}

/* Appends sub (one alternative set) to every open string of r. */
static int
pset_cat(struct pset *r, const struct pset *sub)
{
	struct pset	*o;
	size_t		 a, b, l;

	if ((o = malloc(sizeof(*o))) == NULL)
		return -1;
	o->n = 0;
	for (a = 0; a < r->n; a++) {
		if (!r->open[a]) {
			if (o->n == MAX_PREFIXES)
				goto full;
			memcpy(o->s[o->n], r->s[a], r->len[a] + 1u);
			o->len[o->n] = r->len[a];
			o->open[o->n++] = 0;
			continue;
		}
		for (b = 0; b < sub->n; b++) {
			if (o->n == MAX_PREFIXES)
				goto full;
			l = r->len[a];
			memcpy(o->s[o->n], r->s[a], l);
			if (l + sub->len[b] > PFX_MAX) {
				memcpy(o->s[o->n] + l, sub->s[b], PFX_MAX - l);
				l = PFX_MAX;
				o->open[o->n] = 0;
			} else {
				memcpy(o->s[o->n] + l, sub->s[b], sub->len[b]);
				l += sub->len[b];
				o->open[o->n] = sub->open[b];
			}
			o->s[o->n][l] = '\0';
			o->len[o->n++] = (unsigned char)l;
		}
	}
	memcpy(r, o, sizeof(*r));
	free(o);
	return 0;
full:
	free(o);
	return -1;
}

/* One branch p[i..end): the literal strings its matches start with. */
static int
pfx_seq(const char *p, size_t i, size_t end, struct pset *r, int depth)
{
	struct pset	*sub;
	size_t		 g, ql, k, n;
	int		 q, rc;
	char		 c;

	r->n = 1;
	r->s[0][0] = '\0';
	r->len[0] = 0;
	r->open[0] = 1;
	while (i < end && pset_any_open(r)) {
		c = p[i];
		if (c == '\\' && i + 1 < end) {
			c = p[i + 1];
			if (c == 'b') {
				i += 2;
				continue;
			}
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9'))
				break;	/* \w, \d, \x.. and the like */
			i++;	/* escaped punctuation: a literal */
		} else if (c == '(') {
			if (depth > 8 || (i + 1 < end && p[i + 1] == '?' &&
			    !(i + 2 < end && p[i + 2] == ':')))
				break;	/* look-around, flags, names */
			if ((g = group_end(p, i, end)) == 0)
				break;
			q = quantifier(p, g + 1, end, &ql);
			if (q == 1)
				break;
			if ((sub = malloc(sizeof(*sub))) == NULL)
				return -1;
			k = i + 1 + (p[i + 1] == '?' ? 2 : 0);
			rc = pfx_alt(p, k, g, sub, depth + 1);
			if (rc == 0)
				rc = pset_cat(r, sub);
			free(sub);
			if (rc == -1)
				return -1;
			if (q == 2)
				break;
			i = g + 1;
			continue;
		} else if (c == '^') {
			i++;
			continue;
		} else if (strchr("[.$|)?*+{", c) != NULL)
			break;
		/* one character: a quantifier after it applies to all of
		 * its UTF-8 bytes */
		for (n = 1; (unsigned char)c >= 0xC0 && i + n < end &&
		    ((unsigned char)p[i + n] & 0xC0) == 0x80; n++)
			;
		q = quantifier(p, i + n, end, &ql);
		if (q == 1)
			break;
		for (k = 0; k < r->n; k++) {
			if (!r->open[k])
				continue;
			if (r->len[k] + n > PFX_MAX) {
				r->open[k] = 0;
				continue;
			}
			memcpy(r->s[k] + r->len[k], p + i, n);
			if (c >= 'A' && c <= 'Z')
				r->s[k][r->len[k]] = (char)(c + 32);
			r->len[k] = (unsigned char)(r->len[k] + n);
			r->s[k][r->len[k]] = '\0';
		}
		if (q == 2)
			break;
		i += n;
	}
	/* Stopped early: the prefixes end here.  A branch read to its end
	 * leaves them open, so a group of literal alternatives does not end
	 * the prefixes of the sequence it is in ("you (?:are|re) now"). */
	if (i < end)
		pset_close(r);
	return 0;
}

/* Alternatives p[i..end): the union of their prefix sets; depth 0 (the
 * whole pattern) also requires every branch to start with \b. */
static int
pfx_alt(const char *p, size_t i, size_t end, struct pset *r, int depth)
{
	struct pset	*b;
	size_t		 j, k, start = i;

	if ((b = malloc(sizeof(*b))) == NULL)
		return -1;
	r->n = 0;
	for (;; start = j + 1) {
		if ((j = alt_end(p, start, end)) == ALT_BAD)
			goto fail;
		if ((depth == 0 && (j - start < 2 ||
		    strncmp(p + start, "\\b", 2) != 0)) ||
		    pfx_seq(p, start, j, b, depth) == -1)
			goto fail;
		for (k = 0; k < b->n; k++) {
			if (r->n == MAX_PREFIXES)
				goto fail;
			memcpy(r->s[r->n], b->s[k], b->len[k] + 1u);
			r->len[r->n] = b->len[k];
			r->open[r->n++] = b->open[k];
		}
		if (j == end)
			break;
	}
	free(b);
	return 0;
fail:
	free(b);
	return -1;
}

/*
 * Needle gates for raw rules.  A raw pattern runs on the original bytes,
 * where PCRE2 may have to try a match at a good share of all positions
 * (doc-role-marker: at every s, a, u, h, d behind a blank).  When every
 * top-level branch holds a mandatory literal ASCII punctuation byte (the
 * NEEDLE: ':' '<' '[' '#' ...) preceded only by items of bounded width
 * (at most nback bytes: characters counted as 4 bytes, look-arounds and
 * \b as none) and at most one unbounded \s run right before the needle,
 * then a match starts either within nback bytes before the whitespace
 * run that precedes some needle byte, or not at all.  The rule then runs
 * only there: for the next needle q, PCRE2 searches from that window's
 * start with the offset limit q (a second compile with
 * PCRE2_USE_OFFSET_LIMIT).  No match can start before the window (its
 * needle would be q or a later one, whose window starts later), so the
 * findings are those of a scan of the whole text.  Anything the reader
 * does not understand leaves the rule ungated.
 */

/* One item of a pattern at p[i] (not '|' or ')'): its width in characters
 * (0 for assertions), -1 if unknown; *next: after it (quantifier not
 * included); *lit: the literal byte for an ASCII punctuation literal, else
 * 0; *ws: the item is \s. */
static long needle_alt_width(const char *, size_t, size_t);

static long
item_width(const char *p, size_t i, size_t end, size_t *next, int *lit,
    int *ws)
{
	unsigned char	 c = (unsigned char)p[i], d;
	size_t		 g, k;

	*lit = *ws = 0;
	if (c == '\\') {
		if (i + 1 >= end)
			return -1;
		d = (unsigned char)p[i + 1];
		*next = i + 2;
		if (d == 'b' || d == 'B')
			return 0;
		if (strchr("sSwWdDhHvVN", d) != NULL && d != '\0') {
			*ws = d == 's';
			return 1;
		}
		if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
		    (d >= '0' && d <= '9') || d >= 0x80)
			return -1;	/* \x.., \p{..}, \K, \R, back refs */
		*lit = d;
		return 1;
	}
	if (c == '(') {
		if ((g = group_end(p, i, end)) == 0)
			return -1;
		*next = g + 1;
		if (i + 2 < end && p[i + 1] == '?') {
			if (p[i + 2] == '=' || p[i + 2] == '!' ||
			    (p[i + 2] == '<' && i + 3 < end &&
			    (p[i + 3] == '=' || p[i + 3] == '!')))
				return 0;	/* look-around */
			if (p[i + 2] != ':')
				return -1;	/* flags, names, atomic ... */
			return needle_alt_width(p, i + 3, g);
		}
		return needle_alt_width(p, i + 1, g);
	}
	if (c == '[') {
		if ((k = class_end(p, i, end)) == 0)
			return -1;
		*next = k + 1;
		return 1;
	}
	*next = i + 1;
	if (c == '^' || c == '$')
		return 0;
	if (c == '.')
		return 1;
	if (strchr("|)?*+{", c) != NULL)
		return -1;
	if (c >= 0x80) {	/* a UTF-8 literal: one character */
		while (*next < end && ((unsigned char)p[*next] & 0xC0) == 0x80)
			(*next)++;
		return 1;
	}
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == ' ' || c < 0x20))
		*lit = c;
	return 1;
}

/* The quantifier at p[i]: its least and most counts (*max -1: no bound),
 * *next after it.  No quantifier: 1, 1.  -1: one that PCRE2 versions
 * read differently ({,n} and { n }: literals to 10.42, not to 10.43). */
static int
item_repeat(const char *p, size_t i, size_t end, long *min, long *max,
    size_t *next)
{
	char	*e;

	*min = *max = 1;
	*next = i;
	if (i >= end)
		return 0;
	if (p[i] == '{' && i + 1 < end && (p[i + 1] == ',' || p[i + 1] == ' '))
		return -1;
	if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
		*min = p[i] == '+';
		*max = p[i] == '?' ? 1 : -1;
		*next = i + 1;
	} else if (p[i] == '{' && i + 1 < end && p[i + 1] >= '0' &&
	    p[i + 1] <= '9') {
		*min = strtol(p + i + 1, &e, 10);
		if (*e == '}')
			*max = *min;
		else if (*e == ',' && e[1] == '}')
			*max = -1, e++;
		else if (*e == ',' && e[1] >= '0' && e[1] <= '9')
			*max = strtol(e + 1, &e, 10);
		else
			e = NULL;
		if (e == NULL || *e != '}' || (size_t)(e - p) >= end) {
			*min = *max = 1;	/* a literal '{': not an item */
			return 0;
		}
		*next = (size_t)(e - p) + 1;
	} else
		return 0;
	if (*next < end && (p[*next] == '?' || p[*next] == '+'))
		(*next)++;
	return 0;
}

/* The most characters a sequence p[i..end) matches, -1 if unbounded or
 * unknown. */
static long
needle_seq_width(const char *p, size_t i, size_t end)
{
	long	 w, min, max, total = 0;
	size_t	 j;
	int	 lit, ws;

	while (i < end) {
		if ((w = item_width(p, i, end, &j, &lit, &ws)) < 0)
			return -1;
		if (item_repeat(p, j, end, &min, &max, &i) == -1)
			return -1;
		if (max < 0 && w > 0)
			return -1;
		if (max > 0)
			total += w * max;
		if (total > NEEDLE_MAXCH)
			return -1;
	}
	return total;
}

/* The same for alternatives p[i..end): the widest. */
static long
needle_alt_width(const char *p, size_t i, size_t end)
{
	size_t	 j;
	long	 w, most = 0;

	for (;; i = j + 1) {
		if ((j = alt_end(p, i, end)) == ALT_BAD ||
		    (w = needle_seq_width(p, i, j)) < 0)
			return -1;
		if (w > most)
			most = w;
		if (j == end)
			return most;
	}
}

/* One top-level branch p[i..end): its needle byte and the characters
 * before it; *ws when an unbounded \s run comes right before it. */
static int
needle_branch(const char *p, size_t i, size_t end, int *needle, long *before,
    int *ws)
{
	long	 w, min, max, total = 0;
	size_t	 j, k;
	int	 lit, isws, run = 0;

	while (i < end) {
		if ((w = item_width(p, i, end, &j, &lit, &isws)) < 0)
			return -1;
		if (item_repeat(p, j, end, &min, &max, &k) == -1)
			return -1;
		if (lit && min >= 1) {
			*needle = lit;
			*before = total;
			*ws = run;
			return 0;
		}
		if (run)
			return -1;	/* the run must end at the needle */
		if (max < 0 && w > 0) {
			if (!isws)
				return -1;
			run = 1;
		} else if (max > 0)
			total += w * max;
		if (total > NEEDLE_MAXCH)
			return -1;
		i = k;
	}
	return -1;
}

/* Derives raw rule r's needles from its pattern and compiles it again for
 * offset limits; leaves the rule ungated when it cannot. */
static void
build_needles(struct rule *r, const char *p)
{
	size_t		 j, start = 0, end = strlen(p), k;
	uint32_t	 opt;
	long		 before, most = 0;
	int		 needle, ws, anyws = 0, ec;
	PCRE2_SIZE	 eo;

	r->nneedle = 0;
	for (;; start = j + 1) {
		if ((j = alt_end(p, start, end)) == ALT_BAD)
			goto none;
		if (needle_branch(p, start, j, &needle, &before, &ws) == -1)
			goto none;
		for (k = 0; k < r->nneedle && r->needle[k] != needle; k++)
			;
		if (k == r->nneedle) {
			if (k == NEEDLE_MAX)
				goto none;
			r->needle[r->nneedle++] = (unsigned char)needle;
		}
		if (before > most)
			most = before;
		anyws |= ws;
		if (j == end)
			break;
	}
	if (r->nneedle == 0 || pcre2_pattern_info(r->re,
	    PCRE2_INFO_ARGOPTIONS, &opt) != 0)
		goto none;
	r->nre = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED,
	    opt | PCRE2_USE_OFFSET_LIMIT, &ec, &eo, NULL);
	if (r->nre == NULL)
		goto none;
	r->njit = ocss_jit_compile(r->nre);
	r->nback = (size_t)most * 4;	/* UTF-8: <= 4 bytes a character */
	r->nws = anyws;
	r->flags |= RF_NEEDLE;
	return;
none:
	r->nneedle = 0;
}

/* Bucket of a word by its first two bytes (the second 0 for one-byte
 * words and prefixes). */
#define NBUCKET		(36 * 37)
static const unsigned char bslot[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['g'] = 17,
	['h'] = 18, ['i'] = 19, ['j'] = 20, ['k'] = 21, ['l'] = 22,
	['m'] = 23, ['n'] = 24, ['o'] = 25, ['p'] = 26, ['q'] = 27,
	['r'] = 28, ['s'] = 29, ['t'] = 30, ['u'] = 31, ['v'] = 32,
	['w'] = 33, ['x'] = 34, ['y'] = 35, ['z'] = 36,
};

static size_t
bucket(unsigned b0, unsigned b1)
{
	return (size_t)(bslot[b0] - 1) * 37 + bslot[b1];
}

struct pent {
	size_t		 b;
	struct pfx	 p;
};

static int
by_bucket(const void *x, const void *y)
{
	const struct pent *a = x, *b = y;

	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return strcmp(a->p.s, b->p.s);
}

/*
 * Derives the prefixes of every normalised-text rule it can, compiles
 * those rules a second time anchored, and builds the bucket table.  A rule
 * that cannot be anchored keeps its other gates; failure here (memory) only
 * means slower scans.
 */
static void
build_anchors(struct ocss_rules *rs, json_object *rules)
{
	struct pset	*ps = NULL;
	struct pent	*e = NULL, *ne;
	size_t		 ne_n = 0, ecap = 0, i, k, t, b1, j;
	const char	*pat;
	uint32_t	 opts;
	PCRE2_SIZE	 off;
	int		 ec, ok;

	if ((ps = malloc(sizeof(*ps))) == NULL)
		return;
	for (i = 0; i < rs->n && i < KW_RULES; i++) {
		struct rule *r = &rs->r[i];

		if (r->flags & (RF_RAW | RF_MODEL))
			continue;
		pat = str_member(json_object_array_get_idx(rules, i),
		    "pattern");
		if (pcre2_pattern_info(r->re, PCRE2_INFO_ARGOPTIONS, &opts) != 0
		    || (opts & PCRE2_MULTILINE) ||
		    pfx_alt(pat, 0, strlen(pat), ps, 0) == -1)
			continue;
		ok = ps->n > 0;
		for (k = 0; k < ps->n && ok; k++) {
			/* Caseless, PCRE2 matches a non-ASCII letter with
			 * others the normaliser keeps apart (sigma and final
			 * sigma): the prefix ends before it. */
			for (t = 0; (opts & PCRE2_CASELESS) &&
			    t < ps->len[k]; t++)
				if ((unsigned char)ps->s[k][t] >= 0x80) {
					ps->len[k] = (unsigned char)t;
					ps->s[k][t] = '\0';
				}
			for (t = 0; t < ps->len[k] && is_wordch(ps->s[k][t]);
			    t++)
				;
			ok = t > 0;	/* starts with a word */
		}
		if (!ok)
			continue;
		r->are = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    opts | PCRE2_ANCHORED, &ec, &off, NULL);
		if (r->are == NULL)
			continue;
		r->ajit = ocss_jit_compile(r->are);
		for (k = 0; k < ps->n; k++) {
			for (t = 0; t < ps->len[k] && is_wordch(ps->s[k][t]);
			    t++)
				;
			/* one-byte words go in every bucket of their first
			 * byte */
			for (b1 = 0; b1 < 37; b1++) {
				if (t > 1 ? b1 > 0 : 0)
					break;
				if (ne_n == ecap) {
					ecap = ecap ? ecap * 2 : 256;
					if ((ne = realloc(e, ecap *
					    sizeof(*e))) == NULL)
						goto fail;
					e = ne;
				}
				ne = &e[ne_n++];
				memset(ne, 0, sizeof(*ne));
				ne->b = t > 1 ?
				    bucket((unsigned char)ps->s[k][0],
				    (unsigned char)ps->s[k][1]) :
				    (size_t)(bslot[(unsigned char)ps->s[k][0]]
				    - 1) * 37 + b1;
				memcpy(ne->p.s, ps->s[k], ps->len[k] + 1u);
				ne->p.len = ps->len[k];
				ne->p.wlen = (unsigned char)t;
				ne->p.mask = 1ULL << i;
			}
		}
		r->flags |= RF_ANCH;
		rs->amask |= 1ULL << i;
	}
	if (ne_n == 0)
		goto done;
	qsort(e, ne_n, sizeof(*e), by_bucket);
	/* Merge equal prefixes of one bucket. */
	for (i = 0, j = 0; i < ne_n; i++) {
		if (j > 0 && e[j - 1].b == e[i].b &&
		    strcmp(e[j - 1].p.s, e[i].p.s) == 0) {
			e[j - 1].p.mask |= e[i].p.mask;
			continue;
		}
		e[j++] = e[i];
	}
	ne_n = j;
	if (ne_n > UINT16_MAX ||
	    (rs->pfx = calloc(ne_n, sizeof(*rs->pfx))) == NULL ||
	    (rs->pfx_ix = calloc(NBUCKET + 1, sizeof(*rs->pfx_ix))) == NULL ||
	    (rs->pfx_b2 = calloc(NBUCKET + 1, sizeof(*rs->pfx_b2))) == NULL)
		goto fail;
	for (i = 0, k = 0; k <= NBUCKET; k++) {
		rs->pfx_ix[k] = (uint16_t)i;
		while (i < ne_n && e[i].b == k) {
			rs->pfx_b2[k] |= e[i].p.wlen < 3 ? ~UINT64_C(0) :
			    UINT64_C(1) << bslot[(unsigned char)e[i].p.s[2]];
			rs->pfx[i] = e[i].p;
			rs->pfx[i].v8 = load8(e[i].p.s, e[i].p.wlen);
			rs->pfx[i].m8 = e[i].p.wlen < 8 ? (UINT64_C(1) <<
			    (8 * e[i].p.wlen)) - 1 : ~UINT64_C(0);
			t = (size_t)(e[i].p.len - e[i].p.wlen);
			rs->pfx[i].t8 = load8(e[i].p.s + e[i].p.wlen,
			    t < 8 ? t : 8);
			rs->pfx[i].tm8 = t < 8 ? (UINT64_C(1) << (8 * t)) - 1 :
			    ~UINT64_C(0);
			i++;
		}
	}
	/* Runs of entries of one bucket with the same first word. */
	for (i = ne_n; i-- > 0; )
		rs->pfx[i].next = (uint16_t)(i + 1 < ne_n &&
		    e[i + 1].b == e[i].b && rs->pfx[i + 1].wlen ==
		    rs->pfx[i].wlen && memcmp(rs->pfx[i + 1].s, rs->pfx[i].s,
		    rs->pfx[i].wlen) == 0 ? rs->pfx[i + 1].next : i + 1);
	rs->npfx = ne_n;
	goto done;
fail:
	/* Out of memory: no rule anchored. */
	for (i = 0; i < rs->n; i++) {
		rs->r[i].flags &= ~RF_ANCH;
		pcre2_code_free(rs->r[i].are);
		rs->r[i].are = NULL;
	}
	rs->amask = 0;
	free(rs->pfx);
	free(rs->pfx_ix);
	free(rs->pfx_b2);
	rs->pfx = NULL;
	rs->pfx_ix = NULL;
	rs->pfx_b2 = NULL;
done:
	free(e);
	free(ps);
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

		if (r->flags & (RF_RAW | RF_KW | RF_ANCH | RF_MODEL))
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
	rs->pre_jit = ocss_jit_compile(rs->pre);
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
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].flags & RF_MODEL)
			rs->model = 1;
	if (parse_keywords(rs, rules, name, err) == -1)
		goto fail;
	build_anchors(rs, rules);
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].flags & RF_ANCH)
			rs->r[i].flags &= ~RF_KW;
	build_prefilter(rs, rules);
	for (i = 0; i < rs->n; i++)
		if ((rs->r[i].flags & RF_RAW) && rs->r[i].re != NULL)
			build_needles(&rs->r[i], str_member(
			    json_object_array_get_idx(rules, i), "pattern"));
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

const char *
ocss_rules_gate(const struct ocss_rules *rs, size_t i)
{
	if (i >= rs->n)
		return "?";
	if (rs->r[i].flags & RF_MODEL)
		return "model";
	if (rs->r[i].flags & RF_NEEDLE)
		return "raw, needles";
	if (rs->r[i].flags & RF_RAW)
		return "raw";
	if (rs->r[i].flags & RF_ANCH)
		return "anchored";
	if (rs->r[i].flags & RF_KW)
		return "keywords";
	if (rs->r[i].flags & RF_PRE)
		return "prefilter";
	return "none";
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

	uint32_t	 sdim = 0;

	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].flags & RF_MODEL) {
			if (rs->r[i].mdim > sdim)
				sdim = rs->r[i].mdim;
			continue;
		}
		if (pcre2_pattern_info(rs->r[i].re, PCRE2_INFO_CAPTURECOUNT,
		    &cap) == 0 && cap + 1 > max)
			max = cap + 1;
	}
	if (rs->pre != NULL && pcre2_pattern_info(rs->pre,
	    PCRE2_INFO_CAPTURECOUNT, &cap) == 0 && cap + 1 > max)
		max = cap + 1;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	if ((sc->md = pcre2_match_data_create(max, NULL)) == NULL ||
	    (sc->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (sc->lctx = pcre2_match_context_create(NULL)) == NULL ||
	    (sc->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024,
	    NULL)) == NULL || (sc->norm = ocss_norm_new()) == NULL ||
	    (sdim > 0 && (sc->seen = calloc(sdim / 64 + 1,
	    sizeof(uint64_t))) == NULL)) {
		ocss_rules_scratch_free(sc);
		return NULL;
	}
	sc->sdim = sdim;
	pcre2_jit_stack_assign(sc->mctx, NULL, sc->js);
	pcre2_set_match_limit(sc->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(sc->mctx, DEPTH_LIMIT);
	pcre2_jit_stack_assign(sc->lctx, NULL, sc->js);
	pcre2_set_match_limit(sc->lctx, MATCH_LIMIT);
	pcre2_set_depth_limit(sc->lctx, DEPTH_LIMIT);
	return sc;
}

void
ocss_rules_scratch_free(struct ocss_rules_scratch *sc)
{
	if (sc == NULL)
		return;
	pcre2_match_data_free(sc->md);
	pcre2_match_context_free(sc->mctx);
	pcre2_match_context_free(sc->lctx);
	pcre2_jit_stack_free(sc->js);
	ocss_norm_free(sc->norm);
	free(sc->wh);
	free(sc->th);
	free(sc->seen);
	free(sc->feat);
	free(sc);
}

static int
do_match_in(const pcre2_code *re, int jit, const char *s, size_t len,
    size_t off, uint32_t opt, struct ocss_rules_scratch *sc,
    pcre2_match_context *ctx)
{
	if (jit)
		return pcre2_jit_match(re, (PCRE2_SPTR)s, len, off, opt, sc->md,
		    ctx);
	return pcre2_match(re, (PCRE2_SPTR)s, len, off, opt, sc->md, ctx);
}

#define do_match(re, jit, s, len, off, opt, sc) \
	do_match_in((re), (jit), (s), (len), (off), (opt), (sc), (sc)->mctx)

static int
match_error(int rc, const char *what, struct ocss_err *err)
{
	PCRE2_UCHAR	 msg[128];

	pcre2_get_error_message(rc, msg, sizeof(msg));
	ocss_err_set(err, "rule %s: %s; the text cannot be scanned within the "
	    "limits", what, (char *)msg);
	return -1;
}

/* The first of rule r's needle bytes in s[i..len), or len.  Eight bytes
 * at a time: the lowest byte flagged in (t - ONES) & ~t & HIGHS, t = x ^
 * needle, is the first equal one (false hits only above a true one). */
static size_t
next_needle(const struct rule *r, const char *s, size_t len, size_t i)
{
	uint64_t	 x, t, m;
	size_t		 k;
#ifdef RULES_SSE2
	__m128i		 v, e;
	unsigned	 bits;

	for (; i + 16 <= len; i += 16) {	/* SSE2: 16 at a time */
		v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		e = _mm_cmpeq_epi8(v, _mm_set1_epi8((char)r->needle[0]));
		for (k = 1; k < r->nneedle; k++)
			e = _mm_or_si128(e, _mm_cmpeq_epi8(v,
			    _mm_set1_epi8((char)r->needle[k])));
		if ((bits = (unsigned)_mm_movemask_epi8(e)) != 0)
			return i + (size_t)__builtin_ctz(bits);
	}
#endif
	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		x = __builtin_bswap64(x);
#endif
		m = 0;
		for (k = 0; k < r->nneedle; k++) {
			t = x ^ (UINT64_C(0x0101010101010101) * r->needle[k]);
			m |= (t - UINT64_C(0x0101010101010101)) & ~t &
			    UINT64_C(0x8080808080808080);
		}
		if (m != 0)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
	}
	for (; i < len; i++)
		for (k = 0; k < r->nneedle; k++)
			if ((unsigned char)s[i] == r->needle[k])
				return i;
	return len;
}

/* The start of the window before needle q (see build_needles): a match
 * whose needle is q starts there or later, one that starts in [off, q]
 * has its needle at q or later. */
static size_t
needle_window(const struct rule *r, const char *s, size_t off, size_t q)
{
	size_t	 lo = q;

	if (r->nws)	/* \s, or any byte of a non-ASCII character */
		while (lo > off && (s[lo - 1] == ' ' ||
		    (s[lo - 1] >= '\t' && s[lo - 1] <= '\r') ||
		    (s[lo - 1] & 0x80)))
			lo--;
	lo = lo - off > r->nback ? lo - r->nback : off;
	while (lo > off && (s[lo] & 0xC0) == 0x80)
		lo--;	/* a character's first byte */
	return lo;
}

/* Every match of rule i in s[0..len); seg < 0 means original offsets.
 * needles (a raw rule with RF_NEEDLE): PCRE2 searches only the window
 * before each needle byte, up to it, with the same findings. */
static int
rule_matches(const struct ocss_rules *rs, size_t i,
    struct ocss_rules_scratch *sc, const char *s, size_t len, long seg,
    enum ocss_norm_via via, uint32_t opt, int needles,
    struct ocss_findings *out, struct ocss_err *err)
{
	const struct rule *r = &rs->r[i];
	PCRE2_SIZE	*ov;
	size_t		 off = 0, os, oe, hits = 0, q;
	size_t		 windows = NEEDLE_WINDOWS + len / NEEDLE_DENSITY;
	int		 rc;

	/* Without JIT, the whole text: a call of PCRE2's interpreter on text
	 * with invalid UTF-8 costs time in proportion to the rest of the
	 * text, so the windows were quadratic (1.6 MB: a minute; whole,
	 * 0.05 s). */
	if (!r->njit)
		needles = 0;
	while (hits < OCSS_RULES_MAX_HITS && off <= len) {
		/* Needles everywhere (code, tables, random bytes): one PCRE2
		 * call per needle, each over its window, would cost many times
		 * the whole-text scan.  Past a budget of windows, the rest of
		 * the text is scanned whole from off, which finds the same. */
		if (needles && windows-- == 0)
			needles = 0;
		if (needles) {
			if ((q = next_needle(r, s, len, off)) >= len)
				break;
			pcre2_set_offset_limit(sc->lctx, q);
			rc = do_match_in(r->nre, r->njit, s, len,
			    needle_window(r, s, off, q), opt, sc, sc->lctx);
			if (rc == PCRE2_ERROR_NOMATCH) {
				off = q + 1;	/* no match starts in [off, q] */
				continue;
			}
		} else if ((rc = do_match(r->re, r->jit, s, len, off, opt,
		    sc)) == PCRE2_ERROR_NOMATCH)
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

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	(ONES * 0x80)
#define MIX1	UINT64_C(0x9E3779B97F4A7C15)	/* model hashes */
#define MIX2	UINT64_C(0xD6E8FEB86659FD93)

/* The up to 8 bytes at s (n of them there), zero-padded, little endian. */
static uint64_t
load8(const char *s, size_t n)
{
	unsigned char	 b[8] = { 0 };
	uint64_t	 x;

	if (n >= 8)
		memcpy(&x, s, 8);
	else {
		memcpy(b, s, n);
		memcpy(&x, b, 8);
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

static int
push_hit(struct ocss_rules_scratch *sc, size_t pos, uint64_t mask)
{
	struct whit	*nw;
	size_t		 ncap;

	if (sc->nwh == sc->whcap) {
		ncap = sc->whcap ? sc->whcap * 2 : 64;
		if ((nw = realloc(sc->wh, ncap * sizeof(*nw))) == NULL)
			return -1;
		sc->wh = nw;
		sc->whcap = ncap;
	}
	sc->wh[sc->nwh].pos = pos;
	sc->wh[sc->nwh++].mask = mask;
	return 0;
}

/* The word [a-z0-9]+ at s[w..w+wl) of segment s[0..len), its first 8
 * bytes x (load8, bytes past the word 0): a hit when the text there starts
 * with a prefix (its first word against the word, any rest of it against
 * the text after the word). */
static int
gate_word(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *s, size_t len, size_t w, size_t wl, uint64_t x)
{
	const struct pfx *p, *pe, *q;
	size_t		 b;
	uint64_t	 mask = 0, wmask = 0;

	b = (size_t)(bslot[x & 0xFF] - 1) * 37 + bslot[(x >> 8) & 0xFF];
	/* A prefix whose first word has 3 bytes or more has the word's
	 * third byte there. */
	if (!((rs->pfx_b2[b] >> bslot[(x >> 16) & 0xFF]) & 1))
		return 0;
	p = rs->pfx + rs->pfx_ix[b];
	pe = rs->pfx + rs->pfx_ix[b + 1];
	while (p < pe) {
		/* the first word, once for a run of prefixes that share it */
		if (p->wlen > wl || (x & p->m8) != p->v8 || (p->wlen > 8 &&
		    memcmp(s + w + 8, p->s + 8, p->wlen - 8u) != 0)) {
			p = rs->pfx + p->next;
			continue;
		}
		for (q = p, p = rs->pfx + p->next; q < p; q++) {
			wmask |= q->mask;
			if (q->len == q->wlen)
				mask |= q->mask;
			else if (q->len <= len - w && (len - w - q->wlen < 8 ?
			    memcmp(s + w + q->wlen, q->s + q->wlen, q->len -
			    q->wlen) == 0 : (load8(s + w + q->wlen, 8) &
			    q->tm8) == q->t8 && (q->len - q->wlen <= 8 ||
			    memcmp(s + w + q->wlen + 8, q->s + q->wlen + 8,
			    q->len - q->wlen - 8u) == 0)))
				mask |= q->mask;
		}
	}
	sc->wamask |= wmask;
	return mask ? push_hit(sc, w, mask) : 0;
}

/*
 * One pass over the words of normalised segment s (bytes other than ' ',
 * one space between words).  With gate: the words that start with a
 * prefix of an anchored rule, in text order, into sc->wh; a word for them
 * is a run of [a-z0-9] (the bytes \w matches in a normalised segment, so
 * a word start is where \b before a letter or digit holds), and a word
 * holding non-ASCII letters may hold several.  With hashes: each word's
 * hash into sc->th for the model rules (tests/tools/train-ngram.py
 * computes the same): h = 0, then for each 8 bytes of the word (zero-
 * padded, little endian) h = (h ^ x) * MIX1, h ^= h >> 29.  The word's
 * length comes from the first space in its 8-byte blocks (SWAR), so there
 * is no branch per byte.
 */
static int
seg_words(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *s, size_t len, int gate, int hashes)
{
	size_t		 i = 0, w, k, j;
	uint64_t	 x, x0 = 0, t, z, h, hi, *nt;

	sc->nwh = sc->nth = 0;
	sc->wamask = 0;
	if (hashes && sc->thcap < len / 2 + 1) {
		if ((nt = realloc(sc->th, (len / 2 + 1) * sizeof(*nt))) == NULL)
			return -1;
		sc->th = nt;
		sc->thcap = len / 2 + 1;
	}
	while (i < len) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		w = i;
		h = hi = 0;
		do {
			x = load8(s + i, len - i);
			t = x ^ (ONES * ' ');
			z = (t - ONES) & ~t & HIGHS;	/* lowest: first space */
			k = z ? (size_t)__builtin_ctzll(z) >> 3 : 8;
			if (k > len - i)
				k = len - i;
			if (k < 8)
				x &= (UINT64_C(1) << (8 * k)) - 1;
			if (i == w)
				x0 = x;
			hi |= x & HIGHS;
			h = (h ^ x) * MIX1;
			h ^= h >> 29;
			i += k;
		} while (k == 8 && i < len && s[i] != ' ');
		if (hashes)
			sc->th[sc->nth++] = h;
		if (!gate)
			continue;
		if (hi == 0) {
			if (gate_word(rs, sc, s, len, w, i - w, x0) == -1)
				return -1;
			continue;
		}
		while (w < i) {		/* non-ASCII letters split it */
			for (; w < i && (s[w] < 'a' || s[w] > 'z') &&
			    (s[w] < '0' || s[w] > '9'); w++)
				;
			for (j = w; j < i && ((s[j] >= 'a' && s[j] <= 'z') ||
			    (s[j] >= '0' && s[j] <= '9')); j++)
				;
			x = load8(s + w, j - w);
			if (j > w && gate_word(rs, sc, s, len, w, j - w,
			    j - w < 8 ? x & ((UINT64_C(1) << (8 * (j - w))) - 1)
			    : x) == -1)
				return -1;
			w = j;
		}
	}
	return 0;
}

/* Rule i (anchored) tried at each of its words. */
static int
rule_anchored(const struct ocss_rules *rs, size_t i,
    struct ocss_rules_scratch *sc, const char *s, size_t len, size_t seg,
    enum ocss_norm_via via, struct ocss_findings *out, struct ocss_err *err)
{
	const struct rule *r = &rs->r[i];
	PCRE2_SIZE	*ov;
	size_t		 k, off = 0, os, oe, hits = 0;
	int		 rc;

	for (k = 0; k < sc->nwh && hits < OCSS_RULES_MAX_HITS; k++) {
		if (!((sc->wh[k].mask >> i) & 1) || sc->wh[k].pos < off)
			continue;
		rc = do_match(r->are, r->ajit, s, len, sc->wh[k].pos,
		    PCRE2_NO_UTF_CHECK, sc);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0)
			return match_error(rc, r->id, err);
		ov = pcre2_get_ovector_pointer(sc->md);
		if (ov[1] < ov[0])
			continue;
		ocss_norm_map(sc->norm, seg, ov[0], ov[1], &os, &oe);
		if (findings_add(out, i, os, oe, via) == -1) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		hits++;
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return (int)hits;
}

/*
 * Model rule i on the words of segment 0 (sc->th): the distinct buckets
 * of its word unigrams, (h * MIX2) >> (64 - bits), and bigrams,
 * ((h1 * MIX1) ^ h2) * MIX2 >> (64 - bits), each weighing
 * 1/sqrt(their number).  Flags the whole original text.
 */
static int
rule_model(const struct ocss_rules *rs, size_t i,
    struct ocss_rules_scratch *sc, size_t olen, struct ocss_findings *out,
    struct ocss_err *err)
{
	const struct rule *r = &rs->r[i];
	uint64_t	*seen = sc->seen;
	uint32_t	*nf, f;
	size_t		 k, n = 0, need = 2 * sc->nth + 1, new;
	int64_t		 sum = 0;
	int		 sh = 64 - r->mbits;

	if (seen == NULL || r->mdim > sc->sdim)
		return 0;
	if (sc->featcap < need) {
		if ((nf = realloc(sc->feat, need * sizeof(*nf))) == NULL) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		sc->feat = nf;
		sc->featcap = need;
	}
#define FEATURE(x) do {		/* without a branch: new is random */ \
		f = (uint32_t)((x) >> sh); \
		new = ((seen[f >> 6] >> (f & 63)) & 1) ^ 1; \
		seen[f >> 6] |= UINT64_C(1) << (f & 63); \
		sum += r->mw[f] & -(int64_t)new; \
		sc->feat[n] = f; \
		n += new; \
	} while (0)
	for (k = 0; k < sc->nth; k++) {
		FEATURE(sc->th[k] * MIX2);
		if (k > 0)
			FEATURE(((sc->th[k - 1] * MIX1) ^ sc->th[k]) * MIX2);
	}
#undef FEATURE
	for (k = 0; k < n; k++)
		seen[sc->feat[k] >> 6] = 0;
	if (n == 0 || r->mbias + r->mscale * (double)sum / sqrt((double)n) <=
	    r->mlogit)
		return 0;
	if (findings_add(out, i, 0, olen, OCSS_VIA_TEXT) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	return 1;
}

int
ocss_rules_scan(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const char *text, size_t len, unsigned flags, struct ocss_findings *out,
    struct ocss_err *err)
{
	const char		*s;
	enum ocss_norm_via	 via;
	size_t			 nseg, seg, i, slen, before = out->n;
	uint64_t		 kw, kwrules = 0, amask;
	int			 rc, pre, gate = !(flags & OCSS_SCAN_NOGATE);

	if (ocss_norm_run(sc->norm, text, len, 0) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	for (i = 0; i < rs->n && i < KW_RULES; i++)
		if (rs->r[i].flags & RF_KW)
			kwrules |= 1ULL << i;
	nseg = ocss_norm_nsegs(sc->norm);
	for (seg = 0; seg < nseg; seg++) {
		s = ocss_norm_seg(sc->norm, seg, &slen, &via);
		pre = 1;
		kw = gate && kwrules ? kw_mask(rs, s, slen) : 0;
		amask = 0;
		if (((gate && rs->amask) || (seg == 0 && rs->model)) &&
		    seg_words(rs, sc, s, slen, gate && rs->amask, seg == 0 &&
		    rs->model) == -1) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		if (gate && rs->amask)
			for (i = 0; i < sc->nwh; i++)
				amask |= sc->wh[i].mask;
		if (gate && rs->pre != NULL) {
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
			    ((r->flags & RF_NODECODE) && seg > 0))
				continue;
			if (r->flags & RF_MODEL)
				rc = rule_model(rs, i, sc, len, out, err);
			else if (gate && (r->flags & RF_ANCH)) {
				/* No word starts the first word of one of its
				 * prefixes: skipped.  One does, but the text
				 * there does not go on as the prefix does: it
				 * cannot match, but counts as run (for
				 * OCSS_SCAN_FIRST_REJECT, as it always did). */
				if (!((sc->wamask >> i) & 1))
					continue;
				rc = (amask >> i) & 1 ? rule_anchored(rs, i, sc,
				    s, slen, seg, via, out, err) : 0;
			} else if (gate && (((r->flags & RF_PRE) && !pre) ||
			    ((r->flags & RF_KW) && !((kw >> i) & 1))))
				continue;
			else
				rc = rule_matches(rs, i, sc, s, slen, (long)seg,
				    via, PCRE2_NO_UTF_CHECK, 0, out, err);
			if (rc == -1)
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
		    gate && (rs->r[i].flags & RF_NEEDLE), out, err) == -1)
			return -1;
	}
	return (int)(out->n - before);
}

int
ocss_rules_finding_json(struct ocss_buf *b, const char *rule_id,
    enum ocss_rule_action action, enum ocss_rule_severity severity,
    const char *field, unsigned long long start, unsigned long long end,
    enum ocss_norm_via via)
{
	if (ocss_buf_puts(b, "\"rule\":\"") == -1 ||
	    ocss_buf_json_str(b, rule_id, strlen(rule_id)) == -1 ||
	    ocss_buf_printf(b, "\",\"action\":\"%s\",\"severity\":\"%s\","
	    "\"field\":\"", ocss_rule_action_name(action),
	    ocss_rule_severity_name(severity)) == -1 ||
	    ocss_buf_json_str(b, field, strlen(field)) == -1 ||
	    ocss_buf_printf(b, "\",\"start\":%llu,\"end\":%llu,\"via\":\"%s\"",
	    start, end, ocss_norm_via_name(via)) == -1)
		return -1;
	return 0;
}
