#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pcre2.h>

#include "governance.h"
#include "rules.h"
#include "token.h"

enum { C_FILE_READ, C_FILE_WRITE, C_FILE_DELETE, C_CODE_EXEC, C_SYSTEM_CMD,
	C_NETWORK, C_MESSAGING, C_READ_ONLY, C_UNKNOWN, C_N };
static const char *cat_names[C_N] = { "file_read", "file_write",
	"file_delete", "code_execution", "system_command", "network_request",
	"messaging", "read_only_query", "unknown" };
static const char *risk_names[] = { "none", "low", "medium", "high",
	"critical" };

/* Effects in increasing order of restriction: the most restrictive wins. */
enum effect { E_NONE, E_ALLOW, E_APPROVAL, E_BLOCK };
static const char *effect_names[] = { "none", "allow", "require_approval",
	"block" };

enum pkind { P_ACTION, P_RESOURCE, P_SEQUENCE, P_RATE };
static const char *pkind_names[] = { "action", "resource", "sequence",
	"rate" };

struct strlist {
	char	**v;
	size_t	  n;
};

struct intent_rule {
	char		*id;
	int		 cat;
	int		 risk;		/* 0: the category's */
	struct strlist	 tools;
	pcre2_code	*tool_re;
	char		*arg;		/* argument tested, "*" any */
	pcre2_code	*arg_re;
};

struct policy {
	char		*id;
	char		*description;
	enum pkind	 kind;
	unsigned	 cats;		/* bit per category, 0: any */
	struct strlist	 tools;		/* empty: any */
	int		 min_risk;
	struct strlist	 paths, hosts_allow, hosts_deny, commands;
	unsigned	 first, then;	/* sequence */
	int64_t		 within_ms;
	int		 max;		/* rate */
	int64_t		 window_ms;
	enum effect	 effect;
};

struct ocss_gov {
	int			 risk_of[C_N];
	struct intent_rule	*rules;
	size_t			 nrules;
	struct policy		*pol;
	size_t			 npol;
	enum effect		 deflt;
	int64_t			 history_ms;	/* longest window looked back */
	unsigned char		*secret;
	size_t			 secretlen;
	int64_t			 approval_ttl, token_ttl, session_ttl;
	int			 self_approval;
};

struct action {
	const char	*tool;
	int		 cat, risk, called;
	const char	*rkind;		/* "path", "url", "command" or NULL */
	char		*resource;
	char		*host;
};

struct plan {
	struct action	*a;
	size_t		 n;
};

/* ---- loading ---- */

static void
strlist_free(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
cat_index(const char *s)
{
	int	 i;

	for (i = 0; i < C_N; i++)
		if (strcmp(s, cat_names[i]) == 0)
			return i;
	return -1;
}

static int
risk_index(const char *s)
{
	int	 i;

	for (i = 1; i <= 4; i++)
		if (strcmp(s, risk_names[i]) == 0)
			return i;
	return -1;
}

static json_object *
load_json(const char *dir, const char *name, char *path, size_t plen,
    struct ocss_err *err)
{
	json_object	*o;

	snprintf(path, plen, "%s/%s", dir, name);
	if ((o = json_object_from_file(path)) == NULL) {
		ocss_err_set(err, "%s: %s (set OCSS_CONF_DIR to the directory "
		    "holding the shipped conf/ files)", path,
		    json_util_get_last_err() ? json_util_get_last_err() :
		    "cannot read");
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		ocss_err_set(err, "%s: top level must be a JSON object", path);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Optional array of strings at key; -1 with err if it is something else. */
static int
get_strlist(json_object *o, const char *key, struct strlist *out,
    const char *path, const char *where, struct ocss_err *err)
{
	json_object	*a, *e;
	size_t		 i, n;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(o, key, &a))
		return 0;
	if (!json_object_is_type(a, json_type_array)) {
		ocss_err_set(err, "%s: %s.%s must be an array of strings", path,
		    where, key);
		return -1;
	}
	n = json_object_array_length(a);
	if (n && (out->v = calloc(n, sizeof(char *))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string)) {
			ocss_err_set(err, "%s: %s.%s[%zu] must be a string",
			    path, where, key, i);
			strlist_free(out);
			return -1;
		}
		if ((out->v[out->n++] = strdup(json_object_get_string(e))) ==
		    NULL)
			goto oom;
	}
	return 0;
oom:
	strlist_free(out);
	ocss_err_set(err, "out of memory");
	return -1;
}

static const char *
get_str(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static pcre2_code *
compile(const char *pat, const char *path, const char *where,
    struct ocss_err *err)
{
	pcre2_code	*re;
	int		 ec;
	PCRE2_SIZE	 off;
	PCRE2_UCHAR	 msg[256];

	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off,
	    NULL);
	if (re == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		ocss_err_set(err, "%s: %s: bad pattern at offset %zu: %s", path,
		    where, (size_t)off, msg);
		return NULL;
	}
	(void)ocss_jit_compile(re);
	return re;
}

static unsigned
cat_mask(json_object *o, const char *path, const char *where, int *bad,
    struct ocss_err *err)
{
	struct strlist	 l;
	unsigned	 m = 0;
	size_t		 i;
	int		 c;

	if (get_strlist(o, "categories", &l, path, where, err) == -1) {
		*bad = 1;
		return 0;
	}
	for (i = 0; i < l.n; i++) {
		if ((c = cat_index(l.v[i])) < 0) {
			ocss_err_set(err, "%s: %s.categories: unknown category "
			    "'%s' (one of file_read, file_write, file_delete, "
			    "code_execution, system_command, network_request, "
			    "messaging, read_only_query, unknown)", path, where,
			    l.v[i]);
			*bad = 1;
			break;
		}
		m |= 1u << c;
	}
	strlist_free(&l);
	return m;
}

static int
load_intents(struct ocss_gov *g, const char *dir, struct ocss_err *err)
{
	char		 path[4096], where[64];
	json_object	*root, *levels, *rules, *r;
	const char	*s;
	size_t		 i, n;
	int		 c, rc = -1;

	if ((root = load_json(dir, "intent-patterns.json", path, sizeof(path),
	    err)) == NULL)
		return -1;
	for (c = 0; c < C_N; c++)
		g->risk_of[c] = 2;
	if (json_object_object_get_ex(root, "risk", &levels)) {
		json_object_object_foreach(levels, k, v) {
			if ((c = cat_index(k)) < 0 ||
			    !json_object_is_type(v, json_type_string) ||
			    risk_index(json_object_get_string(v)) < 0) {
				ocss_err_set(err, "%s: risk.%s: use a category "
				    "name and one of low, medium, high, "
				    "critical", path, k);
				goto out;
			}
			g->risk_of[c] = risk_index(json_object_get_string(v));
		}
	}
	if (!json_object_object_get_ex(root, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array)) {
		ocss_err_set(err, "%s: 'rules' must be an array", path);
		goto out;
	}
	n = json_object_array_length(rules);
	if ((g->rules = calloc(n ? n : 1, sizeof(*g->rules))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct intent_rule *ir = &g->rules[g->nrules++];

		snprintf(where, sizeof(where), "rules[%zu]", i);
		r = json_object_array_get_idx(rules, i);
		if (!json_object_is_type(r, json_type_object)) {
			ocss_err_set(err, "%s: %s must be an object", path,
			    where);
			goto out;
		}
		s = get_str(r, "id");
		ir->id = strdup(s ? s : where);
		if ((s = get_str(r, "category")) == NULL ||
		    (ir->cat = cat_index(s)) < 0) {
			ocss_err_set(err, "%s: %s (%s): 'category' missing or "
			    "unknown", path, where, ir->id);
			goto out;
		}
		if ((s = get_str(r, "risk")) != NULL &&
		    (ir->risk = risk_index(s)) < 0) {
			ocss_err_set(err, "%s: %s (%s): risk must be low, "
			    "medium, high or critical", path, where, ir->id);
			goto out;
		}
		if (get_strlist(r, "tools", &ir->tools, path, where, err))
			goto out;
		if ((s = get_str(r, "tool_pattern")) != NULL &&
		    (ir->tool_re = compile(s, path, where, err)) == NULL)
			goto out;
		if ((s = get_str(r, "argument")) != NULL) {
			ir->arg = strdup(s);
			if ((s = get_str(r, "pattern")) == NULL) {
				ocss_err_set(err, "%s: %s (%s): 'argument' needs "
				    "a 'pattern'", path, where, ir->id);
				goto out;
			}
			if ((ir->arg_re = compile(s, path, where, err)) == NULL)
				goto out;
		}
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

static int
load_policies(struct ocss_gov *g, const char *dir, struct ocss_err *err)
{
	char		 path[4096], where[64];
	json_object	*root, *pols, *p, *v;
	const char	*s;
	size_t		 i, n, k;
	int		 rc = -1, bad = 0, e;

	if ((root = load_json(dir, "governance-policies.json", path,
	    sizeof(path), err)) == NULL)
		return -1;
	g->deflt = E_ALLOW;
	if ((s = get_str(root, "default")) != NULL) {
		for (e = E_ALLOW; e <= E_BLOCK; e++)
			if (strcmp(s, effect_names[e]) == 0)
				break;
		if (e > E_BLOCK) {
			ocss_err_set(err, "%s: default: use allow, "
			    "require_approval or block", path);
			goto out;
		}
		g->deflt = (enum effect)e;
	}
	if (!json_object_object_get_ex(root, "policies", &pols) ||
	    !json_object_is_type(pols, json_type_array)) {
		ocss_err_set(err, "%s: 'policies' must be an array", path);
		goto out;
	}
	n = json_object_array_length(pols);
	if ((g->pol = calloc(n ? n : 1, sizeof(*g->pol))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct policy *q = &g->pol[g->npol++];

		snprintf(where, sizeof(where), "policies[%zu]", i);
		p = json_object_array_get_idx(pols, i);
		if (!json_object_is_type(p, json_type_object) ||
		    (s = get_str(p, "id")) == NULL) {
			ocss_err_set(err, "%s: %s must be an object with an "
			    "'id'", path, where);
			goto out;
		}
		q->id = strdup(s);
		s = get_str(p, "description");
		q->description = strdup(s ? s : "");
		s = get_str(p, "kind");
		for (k = 0; s && k < 4; k++)
			if (strcmp(s, pkind_names[k]) == 0)
				break;
		if (s == NULL || k == 4) {
			ocss_err_set(err, "%s: %s (%s): kind must be action, "
			    "resource, sequence or rate", path, where, q->id);
			goto out;
		}
		q->kind = (enum pkind)k;
		s = get_str(p, "effect");
		for (e = E_ALLOW; s && e <= E_BLOCK; e++)
			if (strcmp(s, effect_names[e]) == 0)
				break;
		if (s == NULL || e > E_BLOCK) {
			ocss_err_set(err, "%s: %s (%s): effect must be allow, "
			    "require_approval or block", path, where, q->id);
			goto out;
		}
		q->effect = (enum effect)e;
		q->cats = cat_mask(p, path, where, &bad, err);
		if (bad || get_strlist(p, "tools", &q->tools, path, where,
		    err) || get_strlist(p, "paths", &q->paths, path, where,
		    err) || get_strlist(p, "hosts_allow", &q->hosts_allow,
		    path, where, err) || get_strlist(p, "hosts_deny",
		    &q->hosts_deny, path, where, err) || get_strlist(p,
		    "commands", &q->commands, path, where, err))
			goto out;
		if ((s = get_str(p, "min_risk")) != NULL &&
		    (q->min_risk = risk_index(s)) < 0) {
			ocss_err_set(err, "%s: %s (%s): min_risk must be low, "
			    "medium, high or critical", path, where, q->id);
			goto out;
		}
		if (q->kind == P_RESOURCE && q->paths.n + q->hosts_allow.n +
		    q->hosts_deny.n + q->commands.n == 0) {
			ocss_err_set(err, "%s: %s (%s): a resource policy needs "
			    "paths, hosts_allow, hosts_deny or commands", path,
			    where, q->id);
			goto out;
		}
		if (q->kind == P_SEQUENCE) {
			json_object *sub;
			if (!json_object_object_get_ex(p, "first", &sub) ||
			    !json_object_object_get_ex(p, "then", &v)) {
				ocss_err_set(err, "%s: %s (%s): a sequence needs "
				    "'first' and 'then' ({\"categories\": "
				    "[...]})", path, where, q->id);
				goto out;
			}
			q->first = cat_mask(sub, path, where, &bad, err);
			q->then = cat_mask(v, path, where, &bad, err);
			if (bad || !q->first || !q->then) {
				if (!bad)
					ocss_err_set(err, "%s: %s (%s): first "
					    "and then need categories", path,
					    where, q->id);
				goto out;
			}
			q->within_ms = 600000;
			if (json_object_object_get_ex(p, "within_seconds", &v))
				q->within_ms = json_object_get_int64(v) * 1000;
			if (q->within_ms <= 0) {
				ocss_err_set(err, "%s: %s (%s): within_seconds "
				    "must be positive", path, where, q->id);
				goto out;
			}
			if (q->within_ms > g->history_ms)
				g->history_ms = q->within_ms;
		}
		if (q->kind == P_RATE) {
			if (!json_object_object_get_ex(p, "max", &v) ||
			    (q->max = json_object_get_int(v)) < 0 ||
			    !json_object_object_get_ex(p, "window_seconds",
			    &v) || (q->window_ms =
			    json_object_get_int64(v) * 1000) <= 0) {
				ocss_err_set(err, "%s: %s (%s): a rate policy "
				    "needs max >= 0 and window_seconds > 0",
				    path, where, q->id);
				goto out;
			}
			if (q->window_ms > g->history_ms)
				g->history_ms = q->window_ms;
		}
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

struct ocss_gov *
ocss_gov_load(const struct ocss_config *cfg, struct ocss_err *err)
{
	struct ocss_gov	*g;

	if (cfg->gov_secret == NULL || strlen(cfg->gov_secret) < 32) {
		ocss_err_set(err, "GOVERNANCE_SECRET must be set to at least 32 "
		    "characters while governance is on (make one with 'ocss "
		    "token', or set GOVERNANCE_ENABLED=false)");
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	g->secretlen = strlen(cfg->gov_secret);
	if ((g->secret = malloc(g->secretlen)) == NULL) {
		free(g);
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	memcpy(g->secret, cfg->gov_secret, g->secretlen);
	g->approval_ttl = cfg->gov_approval_ttl * 1000;
	g->token_ttl = cfg->gov_token_ttl * 1000;
	g->session_ttl = cfg->gov_session_ttl * 1000;
	g->self_approval = cfg->gov_self_approval;
	if (load_intents(g, cfg->conf_dir, err) == -1 ||
	    load_policies(g, cfg->conf_dir, err) == -1) {
		ocss_gov_free(g);
		return NULL;
	}
	return g;
}

void
ocss_gov_free(struct ocss_gov *g)
{
	size_t	 i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nrules; i++) {
		free(g->rules[i].id);
		free(g->rules[i].arg);
		strlist_free(&g->rules[i].tools);
		pcre2_code_free(g->rules[i].tool_re);
		pcre2_code_free(g->rules[i].arg_re);
	}
	free(g->rules);
	for (i = 0; i < g->npol; i++) {
		free(g->pol[i].id);
		free(g->pol[i].description);
		strlist_free(&g->pol[i].tools);
		strlist_free(&g->pol[i].paths);
		strlist_free(&g->pol[i].hosts_allow);
		strlist_free(&g->pol[i].hosts_deny);
		strlist_free(&g->pol[i].commands);
	}
	free(g->pol);
	if (g->secret != NULL)
		OPENSSL_cleanse(g->secret, g->secretlen);
	free(g->secret);
	free(g);
}

/* ---- classification ---- */

static int
re_match(pcre2_code *re, const char *s, size_t len)
{
	pcre2_match_data *md;
	int		 rc;

	if ((md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL)
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static int
in_list(const struct strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Does argument name (or any top-level string when "*") match re? */
static int
arg_match(const struct intent_rule *r, json_object *args, const char *raw)
{
	json_object	*v;
	const char	*s;

	if (args == NULL || !json_object_is_type(args, json_type_object))
		return raw != NULL && strcmp(r->arg, "*") == 0 &&
		    re_match(r->arg_re, raw, strlen(raw));
	if (strcmp(r->arg, "*") == 0) {
		json_object_object_foreach(args, k, val) {
			(void)k;
			if (json_object_is_type(val, json_type_string) &&
			    re_match(r->arg_re, json_object_get_string(val),
			    (size_t)json_object_get_string_len(val)))
				return 1;
		}
		return 0;
	}
	if (!json_object_object_get_ex(args, r->arg, &v))
		return 0;
	/* Arrays (argv style) are tested as one space-joined string. */
	s = json_object_is_type(v, json_type_array) ?
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) :
	    json_object_get_string(v);
	return s != NULL && re_match(r->arg_re, s, strlen(s));
}

static void
classify(const struct ocss_gov *g, const char *tool, json_object *args,
    const char *raw, int *cat, int *risk)
{
	const struct intent_rule *r;
	size_t	 i;

	for (i = 0; i < g->nrules; i++) {
		r = &g->rules[i];
		if (r->tools.n && !in_list(&r->tools, tool))
			continue;
		if (r->tool_re && !re_match(r->tool_re, tool, strlen(tool)))
			continue;
		if (r->arg && !arg_match(r, args, raw))
			continue;
		*cat = r->cat;
		*risk = r->risk ? r->risk : g->risk_of[r->cat];
		return;
	}
	*cat = C_UNKNOWN;
	*risk = g->risk_of[C_UNKNOWN];
}

void
ocss_gov_classify(const struct ocss_gov *g, const char *tool,
    json_object *args, const char **category, const char **risk)
{
	int	 c, r;

	classify(g, tool, args, NULL, &c, &r);
	*category = cat_names[c];
	*risk = risk_names[r];
}

/* ---- plans ---- */

static const struct {
	const char	*key;
	const char	*kind;
} resource_keys[] = {
	{ "path", "path" }, { "file_path", "path" }, { "filePath", "path" },
	{ "file", "path" }, { "filename", "path" }, { "target", "path" },
	{ "destination", "path" }, { "dest", "path" }, { "dir", "path" },
	{ "directory", "path" },
	{ "url", "url" }, { "uri", "url" }, { "href", "url" },
	{ "endpoint", "url" },
	{ "command", "command" }, { "cmd", "command" }, { "script", "command" },
};

/* Lower-cased host of a URL ("https://Host:1/x" -> "host"), or NULL. */
static char *
url_host(const char *u)
{
	const char	*p, *e;
	char		*h;
	size_t		 i;

	p = strstr(u, "://");
	p = p ? p + 3 : u;
	if ((e = strchr(p, '@')) != NULL && e < p + strcspn(p, "/?#"))
		p = e + 1;
	if (*p == '[')
		e = strchr(p, ']') ? strchr(p, ']') + 1 : p + strlen(p);
	else
		e = p + strcspn(p, ":/?#");
	if (e == p || (h = strndup(p, (size_t)(e - p))) == NULL)
		return NULL;
	for (i = 0; h[i]; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	return h;
}

static int
add_action(const struct ocss_gov *g, struct plan *p, const char *tool,
    const char *raw, int called)
{
	struct action	*a, *na;
	json_object	*args = NULL, *v;
	size_t		 i;

	if ((na = realloc(p->a, (p->n + 1) * sizeof(*p->a))) == NULL)
		return -1;
	p->a = na;
	a = &p->a[p->n++];
	memset(a, 0, sizeof(*a));
	a->tool = tool;
	a->called = called;
	if (raw != NULL && *raw != '\0') {
		struct json_tokener *tk = json_tokener_new_ex(32);
		if (tk != NULL) {
			args = json_tokener_parse_ex(tk, raw, (int)strlen(raw));
			json_tokener_free(tk);
		}
	}
	classify(g, tool, args, raw, &a->cat, &a->risk);
	for (i = 0; args && json_object_is_type(args, json_type_object) &&
	    i < sizeof(resource_keys) / sizeof(*resource_keys); i++) {
		if (!json_object_object_get_ex(args, resource_keys[i].key, &v))
			continue;
		if (json_object_is_type(v, json_type_string))
			a->resource = strdup(json_object_get_string(v));
		else if (json_object_is_type(v, json_type_array))
			a->resource = strdup(json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN));
		else
			continue;
		a->rkind = resource_keys[i].kind;
		if (a->resource && strcmp(a->rkind, "url") == 0)
			a->host = url_host(a->resource);
		break;
	}
	json_object_put(args);
	return 0;
}

static void
plan_free(struct plan *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		free(p->a[i].resource);
		free(p->a[i].host);
	}
	free(p->a);
	memset(p, 0, sizeof(*p));
}

static const char *
fn_name(json_object *fn)
{
	const char *s = get_str(fn, "name");

	return s && *s ? s : NULL;
}

/*
 * The actions of a request: the tool calls of the assistant turn(s) after
 * the last user message (with their arguments), then every tool the
 * request offers the model that was not already called.
 */
static int
collect(const struct ocss_gov *g, json_object *body, struct plan *p)
{
	json_object	*msgs, *m, *calls, *c, *fn, *tools, *t;
	const char	*role, *name;
	size_t		 i, j, n, start = 0, k;
	int		 seen;

	if (json_object_object_get_ex(body, "messages", &msgs) &&
	    json_object_is_type(msgs, json_type_array)) {
		n = json_object_array_length(msgs);
		for (i = 0; i < n; i++) {
			role = get_str(json_object_array_get_idx(msgs, i),
			    "role");
			if (role && strcmp(role, "user") == 0)
				start = i + 1;
		}
		for (i = start; i < n; i++) {
			m = json_object_array_get_idx(msgs, i);
			role = get_str(m, "role");
			if (role == NULL || strcmp(role, "assistant") != 0)
				continue;
			if (json_object_object_get_ex(m, "tool_calls", &calls) &&
			    json_object_is_type(calls, json_type_array))
				for (j = 0; j < json_object_array_length(calls);
				    j++) {
					c = json_object_array_get_idx(calls, j);
					if (!json_object_object_get_ex(c,
					    "function", &fn) ||
					    (name = fn_name(fn)) == NULL)
						continue;
					if (add_action(g, p, name, get_str(fn,
					    "arguments"), 1) == -1)
						return -1;
				}
			if (json_object_object_get_ex(m, "function_call", &fn) &&
			    (name = fn_name(fn)) != NULL &&
			    add_action(g, p, name, get_str(fn, "arguments"),
			    1) == -1)
				return -1;
		}
	}
	for (k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(body, k ? "functions" : "tools",
		    &tools) || !json_object_is_type(tools, json_type_array))
			continue;
		for (i = 0; i < json_object_array_length(tools); i++) {
			t = json_object_array_get_idx(tools, i);
			if (k == 0 && !json_object_object_get_ex(t, "function",
			    &t))
				continue;
			if ((name = fn_name(t)) == NULL)
				continue;
			for (seen = 0, j = 0; j < p->n && !seen; j++)
				seen = strcmp(p->a[j].tool, name) == 0;
			if (!seen && add_action(g, p, name, NULL, 0) == -1)
				return -1;
		}
	}
	return 0;
}

static int
plan_json(const struct plan *p, struct ocss_buf *b, int canonical)
{
	const struct action *a;
	size_t	 i;
	int	 maxr = 0;

	if (ocss_buf_putc(b, '[') == -1)
		return -1;
	for (i = 0; i < p->n; i++) {
		a = &p->a[i];
		if (a->risk > maxr)
			maxr = a->risk;
		if (ocss_buf_puts(b, i ? ",{\"tool\":\"" : "{\"tool\":\"") ||
		    ocss_buf_json_str(b, a->tool, strlen(a->tool)) ||
		    ocss_buf_printf(b, "\",\"category\":\"%s\",\"called\":%s",
		    cat_names[a->cat], a->called ? "true" : "false"))
			return -1;
		if (!canonical && ocss_buf_printf(b, ",\"risk\":\"%s\"",
		    risk_names[a->risk]))
			return -1;
		if (a->resource && (ocss_buf_printf(b, ",\"resource_kind\":"
		    "\"%s\",\"resource\":\"", a->rkind) ||
		    ocss_buf_json_str(b, a->resource, strlen(a->resource)) ||
		    ocss_buf_putc(b, '"')))
			return -1;
		if (ocss_buf_putc(b, '}'))
			return -1;
	}
	return ocss_buf_putc(b, ']');
}

/* ---- policies ---- */

struct hist {
	int64_t	*ts;
	int	*cat;
	char	**tool;
	size_t	 n;
	int	 nomem;
};

static void
hist_add(void *arg, int64_t ts, const char *cat, const char *tool)
{
	struct hist	*h = arg;
	int64_t		*nts;
	int		*nc, c;
	char		**nt;

	if ((c = cat_index(cat)) < 0)
		c = C_UNKNOWN;
	nts = realloc(h->ts, (h->n + 1) * sizeof(*h->ts));
	if (nts)
		h->ts = nts;
	nc = realloc(h->cat, (h->n + 1) * sizeof(*h->cat));
	if (nc)
		h->cat = nc;
	nt = realloc(h->tool, (h->n + 1) * sizeof(*h->tool));
	if (nt)
		h->tool = nt;
	if (!nts || !nc || !nt || (h->tool[h->n] = strdup(tool)) == NULL) {
		h->nomem = 1;
		return;
	}
	h->ts[h->n] = ts;
	h->cat[h->n++] = c;
}

static void
hist_free(struct hist *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free(h->tool[i]);
	free(h->ts);
	free(h->cat);
	free(h->tool);
}

static int
in_scope(const struct policy *q, int cat, const char *tool, int risk)
{
	return (q->cats == 0 || (q->cats & (1u << cat))) &&
	    (q->tools.n == 0 || in_list(&q->tools, tool)) &&
	    (q->min_risk == 0 || risk >= q->min_risk);
}

static int
host_matches(const struct strlist *l, const char *host)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], host, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

/* Is the program of any command in a shell line (split on ; | & and
 * newlines; sudo/env skipped) one of the listed names? */
static int
command_matches(const struct strlist *l, const char *cmd)
{
	char	*copy, *seg, *save = NULL, *w, *save2, *base;
	int	 hit = 0;

	if ((copy = strdup(cmd)) == NULL)
		return 1;	/* fail towards the policy */
	for (seg = strtok_r(copy, ";|&\n`$()", &save); seg && !hit;
	    seg = strtok_r(NULL, ";|&\n`$()", &save)) {
		save2 = NULL;
		for (w = strtok_r(seg, " \t\"'[],", &save2); w;
		    w = strtok_r(NULL, " \t\"'[],", &save2)) {
			if (strcmp(w, "sudo") == 0 || strcmp(w, "env") == 0 ||
			    strchr(w, '=') != NULL)
				continue;
			base = strrchr(w, '/') ? strrchr(w, '/') + 1 : w;
			hit = in_list(l, base);
			break;
		}
	}
	free(copy);
	return hit;
}

static int
resource_violates(const struct policy *q, const struct action *a)
{
	size_t	 i;

	if (a->resource == NULL)
		return 0;
	if (strcmp(a->rkind, "path") == 0)
		for (i = 0; i < q->paths.n; i++)
			if (fnmatch(q->paths.v[i], a->resource, 0) == 0)
				return 1;
	if (a->host != NULL) {
		if (q->hosts_allow.n && !host_matches(&q->hosts_allow, a->host))
			return 1;
		if (host_matches(&q->hosts_deny, a->host))
			return 1;
	}
	if (strcmp(a->rkind, "command") == 0 && q->commands.n &&
	    command_matches(&q->commands, a->resource))
		return 1;
	return 0;
}

static int
violation(struct ocss_buf *v, const struct policy *q, const struct action *a,
    const char *why)
{
	if (ocss_buf_puts(v, v->len > 1 ? ",{\"policy_id\":\"" :
	    "{\"policy_id\":\"") ||
	    ocss_buf_json_str(v, q->id, strlen(q->id)) ||
	    ocss_buf_printf(v, "\",\"kind\":\"%s\",\"effect\":\"%s\"",
	    pkind_names[q->kind], effect_names[q->effect]))
		return -1;
	if (a != NULL && (ocss_buf_puts(v, ",\"tool\":\"") ||
	    ocss_buf_json_str(v, a->tool, strlen(a->tool)) ||
	    ocss_buf_printf(v, "\",\"category\":\"%s\"", cat_names[a->cat])))
		return -1;
	if (ocss_buf_puts(v, ",\"reason\":\"") ||
	    ocss_buf_json_str(v, *q->description ? q->description : why,
	    strlen(*q->description ? q->description : why)) ||
	    ocss_buf_puts(v, "\"}"))
		return -1;
	return 0;
}

/* Evaluate every policy; fills viol (a JSON array) and returns the effect
 * of the plan, or -1 when memory runs out. */
static int
evaluate(const struct ocss_gov *g, const struct plan *p,
    const struct hist *h, int64_t now, struct ocss_buf *viol)
{
	const struct policy *q;
	const struct action *a;
	size_t		 i, j, k;
	int		 eff = E_NONE, ae, count, hit;

	if (ocss_buf_putc(viol, '[') == -1)
		return -1;
	for (j = 0; j < p->n; j++) {
		a = &p->a[j];
		ae = E_NONE;
		for (i = 0; i < g->npol; i++) {
			q = &g->pol[i];
			if (!in_scope(q, a->cat, a->tool, a->risk))
				continue;
			if (q->kind == P_ACTION ||
			    (q->kind == P_RESOURCE && resource_violates(q, a))) {
				if ((int)q->effect > ae)
					ae = q->effect;
				if (q->effect > E_ALLOW && violation(viol, q, a,
				    q->kind == P_ACTION ? "action not allowed "
				    "without review" : "resource outside "
				    "policy") == -1)
					return -1;
			}
		}
		if (ae == E_NONE)
			ae = g->deflt;
		if (ae > eff)
			eff = ae;
	}
	for (i = 0; i < g->npol; i++) {
		q = &g->pol[i];
		if (q->kind == P_SEQUENCE) {
			for (j = 0; j < p->n; j++) {
				a = &p->a[j];
				if (!a->called || !(q->then & (1u << a->cat)) ||
				    !in_scope(q, a->cat, a->tool, a->risk))
					continue;
				for (hit = 0, k = 0; k < h->n && !hit; k++)
					hit = h->ts[k] >= now - q->within_ms &&
					    (q->first & (1u << h->cat[k]));
				for (k = 0; k < j && !hit; k++)
					hit = p->a[k].called &&
					    (q->first & (1u << p->a[k].cat));
				if (!hit)
					continue;
				if ((int)q->effect > eff)
					eff = q->effect;
				if (violation(viol, q, a, "forbidden sequence "
				    "of actions in this session") == -1)
					return -1;
				break;
			}
		} else if (q->kind == P_RATE) {
			for (count = 0, k = 0; k < h->n; k++)
				count += h->ts[k] > now - q->window_ms &&
				    in_scope(q, h->cat[k], h->tool[k], 0);
			for (a = NULL, j = 0; j < p->n; j++)
				if (p->a[j].called && in_scope(q, p->a[j].cat,
				    p->a[j].tool, p->a[j].risk)) {
					count++;
					a = &p->a[j];
				}
			if (a != NULL && count > q->max) {
				if ((int)q->effect > eff)
					eff = q->effect;
				if (violation(viol, q, a, "too many actions of "
				    "this kind in the session's window") == -1)
					return -1;
			}
		}
	}
	if (ocss_buf_putc(viol, ']') == -1)
		return -1;
	return eff == E_NONE ? (int)g->deflt : eff;
}

/* ---- decisions ---- */

static void
random_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 r[16];
	int		 i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		abort();	/* no CSPRNG: ids would be guessable */
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0xf];
	}
	out[32] = '\0';
}

static int
valid_id(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._:-", *s))
			return 0;
	return 1;
}

/* The session: the client's header when sane, else one derived from the
 * conversation's first user message and the requester. */
static void
session_of(const struct ocss_gov_input *in, char out[65])
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	json_object	*msgs, *m, *c;
	size_t		 i;

	if (valid_id(in->session, 64)) {
		snprintf(out, 65, "%s", in->session);
		return;
	}
	ocss_buf_printf(&b, "conversation\n%s\n",
	    in->requester ? in->requester : "");
	if (json_object_object_get_ex(in->body, "messages", &msgs) &&
	    json_object_is_type(msgs, json_type_array))
		for (i = 0; i < json_object_array_length(msgs); i++) {
			m = json_object_array_get_idx(msgs, i);
			if (get_str(m, "role") && strcmp(get_str(m, "role"),
			    "user") == 0 && json_object_object_get_ex(m,
			    "content", &c)) {
				ocss_buf_puts(&b, json_object_to_json_string_ext(
				    c, JSON_C_TO_STRING_PLAIN));
				break;
			}
		}
	if (b.data == NULL)
		ocss_sha256_hex("", 0, out);
	else
		ocss_sha256_hex(b.data, b.len, out);
	out[32] = '\0';
	ocss_buf_free(&b);
}

static int
record_calls(struct ocss_store *st, const char *session, const struct plan *p,
    int64_t now, struct ocss_err *err)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (p->a[i].called && ocss_store_session_add_action(st, session,
		    now, cat_names[p->a[i].cat], p->a[i].tool, err) == -1)
			return -1;
	return 0;
}

static int
invalid(struct ocss_gov_result *r, const char *reason)
{
	r->decision = OCSS_GOV_INVALID;
	r->reason = reason;
	ocss_buf_reset(&r->body);
	if (ocss_buf_puts(&r->body, "{\"error\":{\"code\":"
	    "\"governance_token_invalid\",\"message\":\"") ||
	    ocss_buf_json_str(&r->body, reason, strlen(reason)) ||
	    ocss_buf_puts(&r->body, "\"}}\n"))
		return -1;
	return 0;
}

/* A retry carrying x-governance-plan-id / x-governance-token. */
static int
verify_retry(struct ocss_gov *g, struct ocss_store *st,
    const struct ocss_gov_input *in, const struct plan *p, const char *digest,
    struct ocss_gov_result *r, struct ocss_err *err)
{
	struct ocss_plan_rec	 rec;
	struct ocss_approval_rec ap;
	int			 rc;

	if (!valid_id(in->plan_id, 32) || in->token == NULL)
		return invalid(r, "x-governance-plan-id and x-governance-token "
		    "must come together");
	if ((rc = ocss_store_plan_get(st, in->plan_id, &rec, err)) == -1)
		return -1;
	if (rc == 1)
		return invalid(r, "unknown or expired plan");
	snprintf(r->plan_id, sizeof(r->plan_id), "%s", rec.id);
	if (strcmp(rec.decision, "block") == 0) {
		ocss_store_plan_free(&rec);
		return invalid(r, "the plan was blocked");
	}
	if (strcmp(rec.decision, "require_approval") == 0) {
		if ((rc = ocss_store_approval_by_plan(st, rec.id, in->now_ms,
		    &ap, err)) == -1) {
			ocss_store_plan_free(&rec);
			return -1;
		}
		if (rc == 1 || strcmp(ap.status, "approved") != 0) {
			rc = invalid(r, rc == 1 ? "the plan has no approval" :
			    strcmp(ap.status, "rejected") == 0 ?
			    "the plan was rejected" :
			    strcmp(ap.status, "expired") == 0 ?
			    "the approval expired" : "the plan is not approved "
			    "yet");
			if (rc != -1 && r->approval_id[0] == '\0' && ap.id)
				snprintf(r->approval_id, 33, "%s", ap.id);
			ocss_store_approval_free(&ap);
			ocss_store_plan_free(&rec);
			return rc;
		}
		snprintf(r->approval_id, 33, "%s", ap.id);
		ocss_store_approval_free(&ap);
	}
	if (strcmp(rec.digest, digest) != 0) {
		ocss_store_plan_free(&rec);
		return invalid(r, "the request's tool calls differ from the "
		    "approved plan");
	}
	ocss_store_plan_free(&rec);
	switch (ocss_token_verify(g->secret, g->secretlen, in->token,
	    in->plan_id, r->session, digest, in->now_ms)) {
	case OCSS_TOKEN_OK:
		break;
	case OCSS_TOKEN_EXPIRED:
		return invalid(r, "the plan token expired");
	case OCSS_TOKEN_BAD_MAC:
		return invalid(r, "the plan token does not match this plan "
		    "and session");
	default:
		return invalid(r, "malformed plan token");
	}
	if (ocss_store_session_touch(st, r->session, in->now_ms,
	    g->session_ttl, err) == -1 ||
	    record_calls(st, r->session, p, in->now_ms, err) == -1)
		return -1;
	r->decision = OCSS_GOV_ALLOW;
	r->reason = "approved plan";
	ocss_buf_reset(&r->token);
	return ocss_buf_puts(&r->token, in->token);
}

int
ocss_gov_evaluate(struct ocss_gov *g, struct ocss_store *st,
    const struct ocss_gov_input *in, struct ocss_gov_result *r,
    struct ocss_err *err)
{
	struct plan		 p = { NULL, 0 };
	struct hist		 h;
	struct ocss_buf		 canon = OCSS_BUF_INIT, pj = OCSS_BUF_INIT,
				 viol = OCSS_BUF_INIT;
	struct ocss_plan_rec	 rec;
	struct ocss_approval_rec ap;
	char			 digest[65];
	int			 eff, rc = -1;

	memset(&h, 0, sizeof(h));
	memset(r, 0, sizeof(*r));
	if (collect(g, in->body, &p) == -1)
		goto oom;
	if (p.n == 0) {
		r->decision = OCSS_GOV_NONE;
		rc = 0;
		goto out;
	}
	session_of(in, r->session);
	if (plan_json(&p, &canon, 1) == -1)
		goto oom;
	ocss_sha256_hex(canon.data, canon.len, digest);
	if (in->plan_id != NULL || in->token != NULL) {
		rc = verify_retry(g, st, in, &p, digest, r, err);
		goto out;
	}

	if (ocss_store_session_touch(st, r->session, in->now_ms,
	    g->session_ttl, err) == -1 || (g->history_ms &&
	    ocss_store_session_actions(st, r->session, in->now_ms -
	    g->history_ms, hist_add, &h, err) == -1))
		goto out;
	if (h.nomem || (eff = evaluate(g, &p, &h, in->now_ms, &viol)) == -1)
		goto oom;

	random_id(r->plan_id);
	if (ocss_buf_puts(&pj, "{\"plan_id\":\"") || ocss_buf_puts(&pj,
	    r->plan_id) || ocss_buf_printf(&pj, "\",\"session\":\"%s\","
	    "\"created_at\":%lld,\"requester\":\"", r->session,
	    (long long)in->now_ms) || ocss_buf_json_str(&pj, in->requester ?
	    in->requester : "", in->requester ? strlen(in->requester) : 0) ||
	    ocss_buf_puts(&pj, "\",\"actions\":") || plan_json(&p, &pj, 0) ||
	    ocss_buf_putc(&pj, '}'))
		goto oom;
	memset(&rec, 0, sizeof(rec));
	rec.id = r->plan_id;
	rec.session = r->session;
	rec.decision = (char *)effect_names[eff];
	rec.digest = digest;
	rec.plan_json = pj.data;
	rec.violations_json = viol.data;
	rec.requester = (char *)(in->requester ? in->requester : "");
	rec.created = in->now_ms;
	rec.expires = in->now_ms + g->token_ttl +
	    (eff == E_APPROVAL ? g->approval_ttl : 0);
	if (ocss_store_plan_put(st, &rec, err) == -1)
		goto out;
	if (ocss_buf_printf(&r->audit, "\"plan_id\":\"%s\",\"session\":\"%s\","
	    "\"actions\":%zu,\"violations\":%s", r->plan_id, r->session, p.n,
	    viol.data) == -1)
		goto oom;

	switch (eff) {
	case E_BLOCK:
		r->decision = OCSS_GOV_BLOCK;
		r->reason = "policy violation";
		if (ocss_buf_printf(&r->body, "{\"error\":{\"code\":"
		    "\"governance_blocked\",\"message\":\"the request's tool "
		    "calls violate policy\"},\"plan_id\":\"%s\",\"violations\":"
		    "%s}\n", r->plan_id, viol.data) == -1)
			goto oom;
		break;
	case E_APPROVAL:
		r->decision = OCSS_GOV_APPROVAL;
		r->reason = "approval required";
		random_id(r->approval_id);
		memset(&ap, 0, sizeof(ap));
		ap.id = r->approval_id;
		ap.plan_id = r->plan_id;
		ap.status = "pending";
		ap.created = in->now_ms;
		ap.expires = in->now_ms + g->approval_ttl;
		if (ocss_store_approval_put(st, &ap, err) == -1)
			goto out;
		if (ocss_buf_printf(&r->body, "{\"status\":\"approval_required\","
		    "\"approval_id\":\"%s\",\"plan_id\":\"%s\",\"expires_at\":"
		    "%lld,\"approve_url\":\"/approve/?approval=%s\","
		    "\"api\":\"/governance/approvals/%s\",\"violations\":%s,"
		    "\"message\":\"an operator must approve these tool calls; "
		    "then re-send the request with x-governance-plan-id and "
		    "x-governance-token from the approval\"}\n",
		    r->approval_id, r->plan_id, (long long)ap.expires,
		    r->approval_id, r->approval_id, viol.data) == -1)
			goto oom;
		if (ocss_buf_printf(&r->audit, ",\"approval_id\":\"%s\"",
		    r->approval_id) == -1)
			goto oom;
		break;
	default:
		r->decision = OCSS_GOV_ALLOW;
		r->reason = "policy allows";
		if (ocss_token_sign(g->secret, g->secretlen, r->plan_id,
		    r->session, digest, in->now_ms + g->token_ttl,
		    &r->token) == -1 ||
		    record_calls(st, r->session, &p, in->now_ms, err) == -1)
			goto out;
		break;
	}
	rc = 0;
	goto out;
oom:
	ocss_err_set(err, "governance: out of memory");
	rc = -1;
out:
	plan_free(&p);
	hist_free(&h);
	ocss_buf_free(&canon);
	ocss_buf_free(&pj);
	ocss_buf_free(&viol);
	return rc;
}

void
ocss_gov_result_free(struct ocss_gov_result *r)
{
	ocss_buf_free(&r->token);
	ocss_buf_free(&r->body);
	ocss_buf_free(&r->audit);
}

/* ---- REST ---- */

static int
rest_error(struct ocss_buf *out, int status, const char *code,
    const char *msg)
{
	ocss_buf_reset(out);
	if (ocss_buf_printf(out, "{\"error\":{\"code\":\"%s\",\"message\":\"",
	    code) || ocss_buf_json_str(out, msg, strlen(msg)) ||
	    ocss_buf_puts(out, "\"}}\n"))
		return 500;
	return status;
}

static int
approval_json(struct ocss_store *st, const struct ocss_approval_rec *a,
    struct ocss_buf *out, int with_plan)
{
	struct ocss_plan_rec	 p;
	struct ocss_err		 err;

	if (ocss_buf_printf(out, "{\"approval_id\":\"%s\",\"plan_id\":\"%s\","
	    "\"status\":\"%s\",\"created_at\":%lld,\"expires_at\":%lld",
	    a->id, a->plan_id, a->status, (long long)a->created,
	    (long long)a->expires))
		return -1;
	if (a->decided_by && (ocss_buf_puts(out, ",\"decided_by\":\"") ||
	    ocss_buf_json_str(out, a->decided_by, strlen(a->decided_by)) ||
	    ocss_buf_printf(out, "\",\"decided_at\":%lld",
	    (long long)a->decided_at)))
		return -1;
	if (a->note && (ocss_buf_puts(out, ",\"note\":\"") ||
	    ocss_buf_json_str(out, a->note, strlen(a->note)) ||
	    ocss_buf_putc(out, '"')))
		return -1;
	if (with_plan && ocss_store_plan_get(st, a->plan_id, &p, &err) == 0) {
		if (ocss_buf_puts(out, ",\"requester_id\":\"") == -1 ||
		    ocss_buf_json_str(out, p.requester ? p.requester : "",
		    p.requester ? strlen(p.requester) : 0) == -1 ||
		    ocss_buf_printf(out, "\",\"plan\":%s,\"violations\":%s",
		    p.plan_json, p.violations_json) == -1) {
			ocss_store_plan_free(&p);
			return -1;
		}
		ocss_store_plan_free(&p);
	}
	return ocss_buf_putc(out, '}');
}

struct list_ctx {
	struct ocss_store	*st;
	struct ocss_buf		*out;
	int			 n, fail;
};

static void
list_one(void *arg, const struct ocss_approval_rec *a)
{
	struct list_ctx	*c = arg;

	if (c->n++ && ocss_buf_putc(c->out, ',') == -1)
		c->fail = 1;
	if (approval_json(c->st, a, c->out, 1) == -1)
		c->fail = 1;
}

/* Value of key in an x-www-form-urlencoded query (no decoding needed for
 * the values used here); copied into buf. */
static const char *
query_get(const char *q, const char *key, char *buf, size_t len)
{
	size_t	 kl = strlen(key), vl;

	while (q && *q) {
		if (strncmp(q, key, kl) == 0 && q[kl] == '=') {
			vl = strcspn(q + kl + 1, "&");
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, q + kl + 1, vl);
			buf[vl] = '\0';
			return buf;
		}
		q = strchr(q, '&');
		if (q)
			q++;
	}
	return NULL;
}

static int
parse_body(const char *body, size_t len, json_object **out)
{
	struct json_tokener *tk;
	json_object	*o;

	*out = NULL;
	if ((tk = json_tokener_new_ex(16)) == NULL)
		return -1;
	o = json_tokener_parse_ex(tk, body ? body : "", (int)len);
	if (o == NULL || json_tokener_get_error(tk) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object) ||
	    (size_t)json_tokener_get_parse_end(tk) != len) {
		json_object_put(o);
		json_tokener_free(tk);
		return -1;
	}
	json_tokener_free(tk);
	*out = o;
	return 0;
}

/* A non-empty string field of at most max bytes, or NULL. */
static const char *
field(json_object *o, const char *k, size_t max)
{
	const char *s = get_str(o, k);

	return s && *s && strlen(s) <= max ? s : NULL;
}

static int
decide(struct ocss_gov *g, struct ocss_store *st, const char *id,
    int approve, const char *body, size_t len, int64_t now,
    struct ocss_buf *out, const char **areason, struct ocss_buf *aextra)
{
	struct ocss_approval_rec a;
	struct ocss_plan_rec	 p;
	struct ocss_buf		 tok = OCSS_BUF_INIT;
	struct ocss_err		 err;
	json_object		*o;
	const char		*who, *note;
	int64_t			 texp = 0;
	int			 rc, status;

	if (parse_body(body, len, &o) == -1)
		return rest_error(out, 400, "bad_json", "the body must be a "
		    "JSON object");
	who = field(o, approve ? "approver_id" : "rejector_id", 128);
	note = field(o, approve ? "acknowledgment" : "reason", 2000);
	if (who == NULL || (approve && note == NULL)) {
		json_object_put(o);
		return rest_error(out, 400, "missing_field", approve ?
		    "approver_id and acknowledgment are required" :
		    "rejector_id is required");
	}
	if (!valid_id(id, 32) || (rc = ocss_store_approval_get(st, id, now,
	    &a, &err)) == 1) {
		json_object_put(o);
		return rest_error(out, 410, "unknown", "unknown approval");
	}
	if (rc == -1) {
		json_object_put(o);
		return rest_error(out, 503, "store_unavailable", err.msg);
	}
	if ((rc = ocss_store_plan_get(st, a.plan_id, &p, &err)) != 0) {
		ocss_store_approval_free(&a);
		json_object_put(o);
		return rest_error(out, rc == 1 ? 410 : 503, rc == 1 ? "gone" :
		    "store_unavailable", rc == 1 ? "the plan expired" :
		    err.msg);
	}
	if (approve && !g->self_approval && p.requester && *p.requester &&
	    strcmp(p.requester, who) == 0) {
		status = rest_error(out, 403, "self_approval",
		    "the requester cannot approve their own plan");
		*areason = "self-approval refused";
		goto done;
	}
	if (approve) {
		texp = now + g->token_ttl;
		if (ocss_token_sign(g->secret, g->secretlen, p.id, p.session,
		    p.digest, texp, &tok) == -1) {
			status = rest_error(out, 500, "internal",
			    "out of memory");
			goto done;
		}
	}
	rc = ocss_store_approval_decide(st, id, approve ? "approved" :
	    "rejected", who, note, now, texp, &err);
	if (rc == -1) {
		status = rest_error(out, 503, "store_unavailable", err.msg);
		goto done;
	}
	if (rc == 1) {
		/* Say which: decided (by whom) or expired. */
		struct ocss_approval_rec now_a;
		if (ocss_store_approval_get(st, id, now, &now_a, &err) == 0 &&
		    strcmp(now_a.status, "expired") != 0) {
			ocss_buf_reset(out);
			if (ocss_buf_printf(out, "{\"error\":{\"code\":"
			    "\"already_decided\",\"message\":\"the approval "
			    "was already %s\"},\"status\":\"%s\","
			    "\"decided_by\":\"", now_a.status, now_a.status) ||
			    ocss_buf_json_str(out, now_a.decided_by ?
			    now_a.decided_by : "", now_a.decided_by ?
			    strlen(now_a.decided_by) : 0) ||
			    ocss_buf_puts(out, "\"}\n"))
				status = 500;
			else
				status = 410;
		} else
			status = rest_error(out, 410, "expired",
			    "the approval has expired");
		ocss_store_approval_free(&now_a);
		*areason = "decision on a closed approval";
		goto done;
	}
	ocss_buf_reset(out);
	if (approve)
		status = ocss_buf_printf(out, "{\"status\":\"approved\","
		    "\"approval_id\":\"%s\",\"plan_id\":\"%s\",\"token\":\"%s\","
		    "\"expires_at\":%lld}\n", id, p.id, tok.data,
		    (long long)texp) == -1 ? 500 : 200;
	else
		status = ocss_buf_printf(out, "{\"status\":\"rejected\","
		    "\"approval_id\":\"%s\",\"plan_id\":\"%s\"}\n", id, p.id) ==
		    -1 ? 500 : 200;
	*areason = approve ? "approved" : "rejected";
done:
	ocss_buf_reset(aextra);
	if (ocss_buf_printf(aextra, "\"approval_id\":\"%s\",\"plan_id\":\"%s\""
	    ",\"operator\":\"", id, p.id) == 0 &&
	    ocss_buf_json_str(aextra, who, strlen(who)) == 0 &&
	    ocss_buf_puts(aextra, "\",\"note\":\"") == 0 &&
	    ocss_buf_json_str(aextra, note ? note : "", note ? strlen(note) :
	    0) == 0)
		(void)ocss_buf_putc(aextra, '"');
	if (tok.data)
		OPENSSL_cleanse(tok.data, tok.len);
	ocss_buf_free(&tok);
	ocss_store_plan_free(&p);
	ocss_store_approval_free(&a);
	json_object_put(o);
	return status;
}

int
ocss_gov_rest(struct ocss_gov *g, struct ocss_store *st, const char *method,
    const char *sub, const char *query, const char *body, size_t len,
    int64_t now, struct ocss_buf *out, const char **areason,
    struct ocss_buf *aextra)
{
	struct ocss_approval_rec a;
	struct ocss_plan_rec	 p;
	struct ocss_err		 err;
	struct list_ctx		 lc;
	char			 id[40], qb[32], sbuf[16], *end;
	const char		*status, *rest;
	long			 off = 0, lim = 50, c[4];
	int			 get = strcmp(method, "GET") == 0, rc;
	int			 post = strcmp(method, "POST") == 0;
	size_t			 n;

	*areason = NULL;
	ocss_buf_reset(out);
	if (strcmp(sub, "/approvals") == 0 || strcmp(sub, "/approvals/") == 0) {
		if (!get)
			return rest_error(out, 405, "method_not_allowed",
			    "use GET");
		status = query_get(query, "status", qb, sizeof(qb));
		if (status && strcmp(status, "pending") &&
		    strcmp(status, "approved") && strcmp(status, "rejected") &&
		    strcmp(status, "expired") && strcmp(status, "all"))
			return rest_error(out, 400, "bad_status", "status must "
			    "be pending, approved, rejected, expired or all");
		if (status && strcmp(status, "all") == 0)
			status = NULL;
		if (status) {
			snprintf(sbuf, sizeof(sbuf), "%s", status);
			status = sbuf;
		}
		if (query_get(query, "offset", qb, sizeof(qb)) &&
		    ((off = strtol(qb, &end, 10)) < 0 || *end))
			return rest_error(out, 400, "bad_offset",
			    "offset must be a number >= 0");
		if (query_get(query, "limit", qb, sizeof(qb)) &&
		    ((lim = strtol(qb, &end, 10)) < 1 || lim > 200 || *end))
			return rest_error(out, 400, "bad_limit",
			    "limit must be 1 to 200");
		lc.st = st;
		lc.out = out;
		lc.n = lc.fail = 0;
		if (ocss_buf_puts(out, "{\"approvals\":[") == -1)
			return 500;
		if (ocss_store_approval_list(st, status, now, off, lim,
		    list_one, &lc, &err) == -1)
			return rest_error(out, 503, "store_unavailable",
			    err.msg);
		if (lc.fail || ocss_buf_printf(out, "],\"offset\":%ld,"
		    "\"limit\":%ld,\"count\":%d}\n", off, lim, lc.n) == -1)
			return 500;
		return 200;
	}
	if (strncmp(sub, "/approvals/", 11) == 0) {
		rest = sub + 11;
		n = strcspn(rest, "/");
		if (n >= sizeof(id))
			n = sizeof(id) - 1;
		memcpy(id, rest, n);
		id[n] = '\0';
		rest += strcspn(rest, "/");
		if (strcmp(rest, "/approve") == 0 || strcmp(rest, "/reject") ==
		    0) {
			if (!post)
				return rest_error(out, 405,
				    "method_not_allowed", "use POST");
			return decide(g, st, id, rest[1] == 'a', body, len, now,
			    out, areason, aextra);
		}
		if (*rest != '\0')
			return rest_error(out, 404, "not_found", "no such "
			    "governance route");
		if (!get)
			return rest_error(out, 405, "method_not_allowed",
			    "use GET");
		if (!valid_id(id, 32) ||
		    (rc = ocss_store_approval_get(st, id, now, &a, &err)) == 1)
			return rest_error(out, 404, "not_found",
			    "unknown approval");
		if (rc == -1)
			return rest_error(out, 503, "store_unavailable",
			    err.msg);
		rc = approval_json(st, &a, out, 1);
		ocss_store_approval_free(&a);
		return rc == -1 || ocss_buf_putc(out, '\n') == -1 ? 500 : 200;
	}
	if (strncmp(sub, "/plans/", 7) == 0) {
		if (!get)
			return rest_error(out, 405, "method_not_allowed",
			    "use GET");
		if (!valid_id(sub + 7, 32) ||
		    (rc = ocss_store_plan_get(st, sub + 7, &p, &err)) == 1)
			return rest_error(out, 404, "not_found", "unknown plan");
		if (rc == -1)
			return rest_error(out, 503, "store_unavailable",
			    err.msg);
		rc = ocss_buf_printf(out, "{\"plan\":%s,\"decision\":\"%s\","
		    "\"violations\":%s,\"expires_at\":%lld", p.plan_json,
		    p.decision, p.violations_json, (long long)p.expires);
		if (rc == 0 && ocss_store_approval_by_plan(st, p.id, now, &a,
		    &err) == 0) {
			rc = ocss_buf_puts(out, ",\"approval\":") ||
			    approval_json(st, &a, out, 0);
			ocss_store_approval_free(&a);
		}
		ocss_store_plan_free(&p);
		return rc || ocss_buf_puts(out, "}\n") ? 500 : 200;
	}
	if (strcmp(sub, "/cleanup") == 0) {
		long	 removed;

		if (!post)
			return rest_error(out, 405, "method_not_allowed",
			    "use POST");
		if ((removed = ocss_store_cleanup(st, now, &err)) < 0)
			return rest_error(out, 503, "store_unavailable",
			    err.msg);
		*areason = "cleanup";
		return ocss_buf_printf(out, "{\"status\":\"ok\",\"removed\":"
		    "%ld}\n", removed) == -1 ? 500 : 200;
	}
	if (strcmp(sub, "/stats") == 0) {
		if (!get)
			return rest_error(out, 405, "method_not_allowed",
			    "use GET");
		if (ocss_store_approval_counts(st, now, c, &err) == -1)
			return rest_error(out, 503, "store_unavailable",
			    err.msg);
		return ocss_buf_printf(out, "{\"approvals\":{\"pending\":%ld,"
		    "\"approved\":%ld,\"rejected\":%ld,\"expired\":%ld},"
		    "\"policies\":%zu,\"intent_rules\":%zu}\n", c[0], c[1],
		    c[2], c[3], g->npol, g->nrules) == -1 ? 500 : 200;
	}
	return rest_error(out, 404, "not_found", "no such governance route");
}
