/*
 * Skill scanner: configuration (rules, allowlist), reports, the trust score,
 * and walking a skill's directory.  The per-file analysis is in
 * skillscan_walk.c, the output formats in skillscan_out.c.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "skillscan_int.h"

#define DEFAULT_MAX_FILE	(2u << 20)
#define MAX_DEPTH		32

struct ocss_skillscan_report {
	char				*name;
	char				*manifest_name;
	char				*root;	/* directory files are under */
	struct ocss_skillscan_finding	*f;
	size_t				 nf, capf;
	struct ocss_skillscan_file	*files;
	size_t				 nfiles, capfiles;
};

static const char *const cat_names[] = { "dangerous_api", "process",
	"network", "filesystem", "obfuscation", "scanner" };
static const char *const sev_names[] = { "info", "low", "medium", "high",
	"critical" };

const char *
ocss_skillscan_category_name(enum ocss_skillscan_category c)
{
	return (unsigned)c < sizeof(cat_names) / sizeof(cat_names[0]) ?
	    cat_names[c] : "?";
}

const char *
ocss_skillscan_severity_name(enum ocss_skillscan_severity s)
{
	return (unsigned)s < sizeof(sev_names) / sizeof(sev_names[0]) ?
	    sev_names[s] : "?";
}

/* ------------------------------------------------------------------ */
/* Rules */

static void
free_query(struct ss_query *q)
{
	uint32_t i;
	size_t	 j;

	for (i = 0; i < q->npats; i++) {
		for (j = 0; j < q->pats[i].npreds; j++) {
			free(q->pats[i].preds[j].str);
			if (q->pats[i].preds[j].has_re)
				regfree(&q->pats[i].preds[j].re);
		}
		free(q->pats[i].preds);
	}
	free(q->pats);
	if (q->q)
		ts_query_delete(q->q);
	memset(q, 0, sizeof(*q));
}

void
ocss_skillscan_free(struct ocss_skillscan *sc)
{
	size_t	 i;
	int	 l;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nrules; i++) {
		free(sc->rules[i].id);
		free(sc->rules[i].description);
		free(sc->rules[i].query);
	}
	free(sc->rules);
	for (l = 0; l < SS_NLANG; l++) {
		free_query(&sc->queries[l]);
		free(sc->kind[l]);
	}
	for (i = 0; i < sc->nallow; i++)
		free(sc->allow[i]);
	free(sc->allow);
	if (sc->qc)
		ts_query_cursor_delete(sc->qc);
	if (sc->parser)
		ts_parser_delete(sc->parser);
	free(sc);
}

static int
lookup(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
add_rule(struct ocss_skillscan *sc, const char *id, int cat, int sev,
    const char *desc, const char *query)
{
	struct ss_rule *r;

	if ((r = realloc(sc->rules, (sc->nrules + 1) * sizeof(*r))) == NULL)
		return -1;
	sc->rules = r;
	r = &sc->rules[sc->nrules];
	memset(r, 0, sizeof(*r));
	r->category = (enum ocss_skillscan_category)cat;
	r->severity = (enum ocss_skillscan_severity)sev;
	if ((r->id = strdup(id)) == NULL ||
	    (r->description = strdup(desc)) == NULL ||
	    (query && (r->query = strdup(query)) == NULL)) {
		free(r->id);
		free(r->description);
		return -1;
	}
	sc->nrules++;
	return 0;
}

/* Predicates of one pattern: #eq? #not-eq? #match? #not-match?. */
static int
load_preds(struct ss_query *q, uint32_t pi, const char *where,
    struct ocss_err *err)
{
	const TSQueryPredicateStep	*st;
	uint32_t			 n, i, j, len;
	struct ss_pattern		*pat = &q->pats[pi];
	struct ss_pred			*p;
	const char			*op;

	st = ts_query_predicates_for_pattern(q->q, pi, &n);
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && st[j].type != TSQueryPredicateStepTypeDone;
		    j++)
			;
		if (j - i != 3 || st[i].type != TSQueryPredicateStepTypeString ||
		    st[i + 1].type != TSQueryPredicateStepTypeCapture) {
			ocss_err_set(err, "%s: unsupported query predicate; use "
			    "(#eq? @cap \"text\"), #not-eq?, #match?, #not-match?",
			    where);
			return -1;
		}
		op = ts_query_string_value_for_id(q->q, st[i].value_id, &len);
		if ((p = realloc(pat->preds, (pat->npreds + 1) * sizeof(*p)))
		    == NULL)
			goto oom;
		pat->preds = p;
		p = &pat->preds[pat->npreds];
		memset(p, 0, sizeof(*p));
		p->capture = st[i + 1].value_id;
		p->other_capture = -1;
		if (strcmp(op, "eq?") == 0)
			p->op = SS_P_EQ;
		else if (strcmp(op, "not-eq?") == 0)
			p->op = SS_P_NOT_EQ;
		else if (strcmp(op, "match?") == 0)
			p->op = SS_P_MATCH;
		else if (strcmp(op, "not-match?") == 0)
			p->op = SS_P_NOT_MATCH;
		else {
			ocss_err_set(err, "%s: unknown predicate #%s (supported: "
			    "#eq?, #not-eq?, #match?, #not-match?)", where, op);
			return -1;
		}
		if (st[i + 2].type == TSQueryPredicateStepTypeCapture) {
			if (p->op == SS_P_MATCH || p->op == SS_P_NOT_MATCH) {
				ocss_err_set(err, "%s: #match? needs a string "
				    "regex as its second argument", where);
				return -1;
			}
			p->other_capture = (int)st[i + 2].value_id;
		} else {
			op = ts_query_string_value_for_id(q->q,
			    st[i + 2].value_id, &len);
			if ((p->str = strdup(op)) == NULL)
				goto oom;
			if (p->op == SS_P_MATCH || p->op == SS_P_NOT_MATCH) {
				if (regcomp(&p->re, op, REG_EXTENDED | REG_NOSUB)
				    != 0) {
					free(p->str);
					ocss_err_set(err, "%s: bad regular "
					    "expression \"%s\" (POSIX extended)",
					    where, op);
					return -1;
				}
				p->has_re = 1;
			}
		}
		pat->npreds++;
	}
	return 0;
oom:
	ocss_err_set(err, "%s: out of memory", where);
	return -1;
}

static int
compile_queries(struct ocss_skillscan *sc, const char *file,
    struct ocss_err *err)
{
	struct ocss_buf	 all = OCSS_BUF_INIT;
	int		*owner = NULL, *tmp;
	size_t		 r, npat = 0;
	int		 l, rc = -1;
	uint32_t	 off, i, k;
	TSQueryError	 qe;
	TSQuery		*one;
	char		 where[300];
	static const char *const lname[] = { "JavaScript", "TypeScript", "TSX" };

	for (l = 0; l < SS_NLANG; l++) {
		ocss_buf_reset(&all);
		npat = 0;
		for (r = 0; r < sc->nrules; r++) {
			if (sc->rules[r].query == NULL)
				continue;
			one = ts_query_new(sc->lang[l], sc->rules[r].query,
			    (uint32_t)strlen(sc->rules[r].query), &off, &qe);
			if (one == NULL) {
				ocss_err_set(err, "%s: rule %s: query does not "
				    "compile for %s (error %d at byte %u); check "
				    "node and field names against the grammar's "
				    "node-types.json", file, sc->rules[r].id,
				    lname[l], (int)qe, off);
				goto done;
			}
			k = ts_query_pattern_count(one);
			ts_query_delete(one);
			if ((tmp = realloc(owner, (npat + k) * sizeof(int)))
			    == NULL)
				goto oom;
			owner = tmp;
			for (i = 0; i < k; i++)
				owner[npat + i] = (int)r;
			npat += k;
			if (ocss_buf_puts(&all, sc->rules[r].query) == -1 ||
			    ocss_buf_putc(&all, '\n') == -1)
				goto oom;
		}
		if (npat == 0)
			continue;
		sc->queries[l].q = ts_query_new(sc->lang[l], all.data,
		    (uint32_t)all.len, &off, &qe);
		if (sc->queries[l].q == NULL ||
		    ts_query_pattern_count(sc->queries[l].q) != npat) {
			ocss_err_set(err, "%s: query rules do not combine "
			    "(error %d at byte %u)", file, (int)qe, off);
			goto done;
		}
		if ((sc->queries[l].pats = calloc(npat,
		    sizeof(struct ss_pattern))) == NULL)
			goto oom;
		sc->queries[l].npats = (uint32_t)npat;
		for (i = 0; i < npat; i++) {
			sc->queries[l].pats[i].rule = owner[i];
			snprintf(where, sizeof(where), "%s: rule %s", file,
			    sc->rules[owner[i]].id);
			if (load_preds(&sc->queries[l], i, where, err) == -1)
				goto done;
		}
	}
	rc = 0;
	goto done;
oom:
	ocss_err_set(err, "%s: out of memory", file);
done:
	free(owner);
	ocss_buf_free(&all);
	return rc;
}

static const char *const check_list_hint =
    "see docs/DETECTION.md for the list of checks";

static int
load_rules(struct ocss_skillscan *sc, const char *json, const char *file,
    struct ocss_err *err)
{
	struct json_tokener	*tok;
	json_object		*root = NULL, *rules, *r, *v, *chk;
	enum json_tokener_error	 jerr;
	size_t			 i, j, n;
	int			 cat, sev, ck, rc = -1;
	const char		*id, *desc, *query;
	char			 path[64];

	if ((tok = json_tokener_new()) == NULL)
		goto oom;
	root = json_tokener_parse_ex(tok, json, (int)strlen(json));
	jerr = json_tokener_get_error(tok);
	if (root == NULL || jerr != json_tokener_success) {
		ocss_err_set(err, "%s: not valid JSON near byte %zu: %s", file,
		    (size_t)tok->char_offset, json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		goto done;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array)) {
		ocss_err_set(err, "%s: expected an object with a \"rules\" array",
		    file);
		goto done;
	}
	if (json_object_object_get_ex(root, "max_file_bytes", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1024) {
			ocss_err_set(err, "%s: max_file_bytes: expected an "
			    "integer >= 1024", file);
			goto done;
		}
		sc->max_file = (size_t)json_object_get_int64(v);
	}
	n = json_object_array_length(rules);
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(rules, i);
		snprintf(path, sizeof(path), "rules[%zu]", i);
#define STR(key, out, need) do {					\
		if (json_object_object_get_ex(r, key, &v) &&		\
		    json_object_is_type(v, json_type_string))		\
			out = json_object_get_string(v);		\
		else if (need) {					\
			ocss_err_set(err, "%s: %s.%s: expected a string", \
			    file, path, key);				\
			goto done;					\
		} else							\
			out = NULL;					\
	} while (0)
		if (!json_object_is_type(r, json_type_object)) {
			ocss_err_set(err, "%s: %s: expected an object", file,
			    path);
			goto done;
		}
		STR("id", id, 1);
		STR("description", desc, 1);
		STR("category", query, 1);
		if ((cat = lookup(query, cat_names, 6)) < 0) {
			ocss_err_set(err, "%s: %s (%s).category: \"%s\" is not "
			    "one of dangerous_api, process, network, filesystem, "
			    "obfuscation, scanner", file, path, id, query);
			goto done;
		}
		STR("severity", query, 1);
		if ((sev = lookup(query, sev_names, 5)) < 0) {
			ocss_err_set(err, "%s: %s (%s).severity: \"%s\" is not "
			    "one of info, low, medium, high, critical", file,
			    path, id, query);
			goto done;
		}
		for (j = 0; j < sc->nrules; j++)
			if (strcmp(sc->rules[j].id, id) == 0) {
				ocss_err_set(err, "%s: %s: duplicate rule id %s",
				    file, path, id);
				goto done;
			}
		STR("query", query, 0);
		if (!json_object_object_get_ex(r, "checks", &chk))
			chk = NULL;
		if (query == NULL && chk == NULL) {
			ocss_err_set(err, "%s: %s (%s): needs \"checks\" (named "
			    "checks) and/or \"query\" (tree-sitter query)", file,
			    path, id);
			goto done;
		}
		if (add_rule(sc, id, cat, sev, desc, query) == -1)
			goto oom;
		if (chk != NULL) {
			if (!json_object_is_type(chk, json_type_array)) {
				ocss_err_set(err, "%s: %s (%s).checks: expected "
				    "an array of check names", file, path, id);
				goto done;
			}
			for (j = 0; j < json_object_array_length(chk); j++) {
				v = json_object_array_get_idx(chk, j);
				ck = json_object_is_type(v, json_type_string) ?
				    lookup(json_object_get_string(v),
				    ss_check_names, SS_CK_MAX) : -1;
				if (ck < 0) {
					ocss_err_set(err, "%s: %s (%s).checks[%zu]:"
					    " unknown check \"%s\"; %s", file,
					    path, id, j, json_object_get_string(v),
					    check_list_hint);
					goto done;
				}
				if (sc->check_rule[ck] >= 0) {
					ocss_err_set(err, "%s: %s (%s): check "
					    "\"%s\" is already used by rule %s",
					    file, path, id, ss_check_names[ck],
					    sc->rules[sc->check_rule[ck]].id);
					goto done;
				}
				sc->check_rule[ck] = (int)sc->nrules - 1;
			}
		}
#undef STR
	}
	/* Files that cannot be scanned are never silent. */
	if (sc->check_rule[SS_CK_SCAN_PARSE_ERROR] < 0) {
		if (add_rule(sc, "scan.parse-error", OCSS_SKILLSCAN_SCANNER,
		    OCSS_SKILLSCAN_LOW, "source has syntax errors; parts may "
		    "not have been analysed", NULL) == -1)
			goto oom;
		sc->check_rule[SS_CK_SCAN_PARSE_ERROR] = (int)sc->nrules - 1;
	}
	if (sc->check_rule[SS_CK_SCAN_TOO_LARGE] < 0) {
		if (add_rule(sc, "scan.too-large", OCSS_SKILLSCAN_SCANNER,
		    OCSS_SKILLSCAN_MEDIUM, "source file over the size limit, "
		    "not analysed", NULL) == -1)
			goto oom;
		sc->check_rule[SS_CK_SCAN_TOO_LARGE] = (int)sc->nrules - 1;
	}
	if (sc->check_rule[SS_CK_SCAN_BINARY] < 0) {
		if (add_rule(sc, "scan.binary", OCSS_SKILLSCAN_SCANNER,
		    OCSS_SKILLSCAN_MEDIUM, "source file contains binary data, "
		    "not analysed", NULL) == -1)
			goto oom;
		sc->check_rule[SS_CK_SCAN_BINARY] = (int)sc->nrules - 1;
	}
	if (sc->check_rule[SS_CK_SCAN_BUDGET] < 0) {
		if (add_rule(sc, "scan.budget", OCSS_SKILLSCAN_SCANNER,
		    OCSS_SKILLSCAN_MEDIUM, "constant-folding budget exceeded: "
		    "bindings were reset, aliases made before this point are "
		    "not followed", NULL) == -1)
			goto oom;
		sc->check_rule[SS_CK_SCAN_BUDGET] = (int)sc->nrules - 1;
	}
	rc = 0;
	goto done;
oom:
	ocss_err_set(err, "%s: out of memory", file);
done:
	if (root)
		json_object_put(root);
	return rc;
}

static int
load_allowlist(struct ocss_skillscan *sc, const char *text, const char *file,
    struct ocss_err *err)
{
	const char	*p = text, *e, *s, *t;
	size_t		 line = 0, n, i;
	char		*d, **a;

	while (*p) {
		line++;
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		s = p;
		if ((t = memchr(s, '#', (size_t)(e - s))) == NULL)
			t = e;
		while (s < t && isspace((unsigned char)*s))
			s++;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (t - s >= 2 && s[0] == '*' && s[1] == '.')
			s += 2;
		while (t > s && t[-1] == '.')
			t--;
		n = (size_t)(t - s);
		if (n > 0) {
			for (i = 0; i < n; i++)
				if (!isalnum((unsigned char)s[i]) &&
				    !strchr(".-_:[]", s[i])) {
					ocss_err_set(err, "%s:%zu: \"%.*s\" is not "
					    "a domain name (one domain per line, "
					    "'*.' prefix optional, # comments)",
					    file, line, (int)n, s);
					return -1;
				}
			if ((a = realloc(sc->allow, (sc->nallow + 1) *
			    sizeof(*a))) == NULL || (d = strndup(s, n)) == NULL) {
				if (a)
					sc->allow = a;
				ocss_err_set(err, "%s: out of memory", file);
				return -1;
			}
			sc->allow = a;
			for (i = 0; i < n; i++)
				d[i] = (char)tolower((unsigned char)d[i]);
			sc->allow[sc->nallow++] = d;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

int
ss_host_allowed(const struct ocss_skillscan *sc, const char *host)
{
	size_t	 i, hl = strlen(host), dl;

	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	for (i = 0; i < sc->nallow; i++) {
		dl = strlen(sc->allow[i]);
		if (hl == dl && memcmp(host, sc->allow[i], hl) == 0)
			return 1;
		/* A listed domain covers its subdomains. */
		if (hl > dl && host[hl - dl - 1] == '.' &&
		    memcmp(host + hl - dl, sc->allow[i], dl) == 0)
			return 1;
	}
	return 0;
}

int
ocss_skillscan_new_mem(struct ocss_skillscan **out, const char *rules_json,
    const char *allowlist, struct ocss_err *err)
{
	struct ocss_skillscan	*sc;
	int			 i;

	*out = NULL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		ocss_err_set(err, "skillscan: out of memory");
		return -1;
	}
	for (i = 0; i < SS_CK_MAX; i++)
		sc->check_rule[i] = -1;
	sc->max_file = DEFAULT_MAX_FILE;
	if (ss_walk_init(sc, err) == -1 ||
	    load_rules(sc, rules_json, "scanner rules", err) == -1 ||
	    compile_queries(sc, "scanner rules", err) == -1 ||
	    (allowlist && load_allowlist(sc, allowlist, "egress allowlist",
	    err) == -1)) {
		ocss_skillscan_free(sc);
		return -1;
	}
	*out = sc;
	return 0;
}

static char *
slurp(const char *path, size_t max, size_t *len, struct ocss_err *err)
{
	int		 fd;
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 got = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		ocss_err_set(err, "%s: not a regular file of at most %zu bytes",
		    path, max);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		ocss_err_set(err, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

int
ocss_skillscan_new(struct ocss_skillscan **out, const char *rules_path,
    const char *allowlist_path, struct ocss_err *err)
{
	char		*rules = NULL, *allow = NULL;
	size_t		 len;
	int		 rc = -1;
	struct ocss_err	 e2;

	*out = NULL;
	if ((rules = slurp(rules_path, 16u << 20, &len, err)) == NULL)
		return -1;
	if (allowlist_path &&
	    (allow = slurp(allowlist_path, 16u << 20, &len, err)) == NULL)
		goto done;
	if (ocss_skillscan_new_mem(out, rules, allow, &e2) == -1) {
		/* Name the real files rather than the generic labels. */
		const char *m = e2.msg;

		if (strncmp(m, "scanner rules", 13) == 0)
			ocss_err_set(err, "%s%s", rules_path, m + 13);
		else if (allowlist_path &&
		    strncmp(m, "egress allowlist", 16) == 0)
			ocss_err_set(err, "%s%s", allowlist_path, m + 16);
		else
			ocss_err_set(err, "%s", m);
		goto done;
	}
	rc = 0;
done:
	free(rules);
	free(allow);
	return rc;
}

void
ocss_skillscan_set_node_modules(struct ocss_skillscan *sc, int on)
{
	sc->node_modules = on;
}

void
ocss_skillscan_set_max_file(struct ocss_skillscan *sc, size_t n)
{
	sc->max_file = n;
}

enum ocss_skillscan_lang
ocss_skillscan_lang_for(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return OCSS_SKILLSCAN_LANG_NONE;
	if (!strcmp(dot, ".js") || !strcmp(dot, ".mjs") ||
	    !strcmp(dot, ".cjs") || !strcmp(dot, ".jsx"))
		return OCSS_SKILLSCAN_LANG_JS;
	if (!strcmp(dot, ".ts") || !strcmp(dot, ".mts") || !strcmp(dot, ".cts"))
		return OCSS_SKILLSCAN_LANG_TS;
	if (!strcmp(dot, ".tsx"))
		return OCSS_SKILLSCAN_LANG_TSX;
	return OCSS_SKILLSCAN_LANG_NONE;
}

/* ------------------------------------------------------------------ */
/* Reports */

struct ocss_skillscan_report *
ocss_skillscan_report_new(const char *name)
{
	struct ocss_skillscan_report *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->name = strdup(name ? name : "")) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
ocss_skillscan_report_free(struct ocss_skillscan_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nf; i++) {
		free((char *)r->f[i].rule_id);
		free((char *)r->f[i].description);
		free((char *)r->f[i].file);
		free((char *)r->f[i].snippet);
		free((char *)r->f[i].detail);
	}
	free(r->f);
	for (i = 0; i < r->nfiles; i++)
		free((char *)r->files[i].path);
	free(r->files);
	free(r->manifest_name);
	free(r->root);
	free(r->name);
	free(r);
}

const char *
ss_report_root(const struct ocss_skillscan_report *r)
{
	return r->root ? r->root : "";
}

const char *
ocss_skillscan_report_path(const struct ocss_skillscan_report *r)
{
	return r->name;
}

const char *
ocss_skillscan_report_name(const struct ocss_skillscan_report *r)
{
	return r->manifest_name ? r->manifest_name : r->name;
}

size_t
ocss_skillscan_report_count(const struct ocss_skillscan_report *r)
{
	return r->nf;
}

const struct ocss_skillscan_finding *
ocss_skillscan_report_finding(const struct ocss_skillscan_report *r, size_t i)
{
	return i < r->nf ? &r->f[i] : NULL;
}

size_t
ocss_skillscan_report_nfiles(const struct ocss_skillscan_report *r)
{
	return r->nfiles;
}

const struct ocss_skillscan_file *
ocss_skillscan_report_file(const struct ocss_skillscan_report *r, size_t i)
{
	return i < r->nfiles ? &r->files[i] : NULL;
}

size_t
ocss_skillscan_report_count_rule(const struct ocss_skillscan_report *r,
    const char *id)
{
	size_t i, n = 0;

	for (i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].rule_id, id) == 0)
			n++;
	return n;
}

int
ocss_skillscan_report_score(const struct ocss_skillscan_report *r)
{
	static const int w[] = { 0, 3, 8, 20, 40 };
	size_t		 i, j, seen;
	int		 pen = 0, crit = 0, sc;

	for (i = 0; i < r->nf; i++) {
		if (r->f[i].severity == OCSS_SKILLSCAN_CRITICAL)
			crit = 1;
		/* How many earlier findings share this rule? */
		for (j = 0, seen = 0; j < i && seen < 3; j++)
			if (strcmp(r->f[j].rule_id, r->f[i].rule_id) == 0)
				seen++;
		if (seen == 0)
			pen += w[r->f[i].severity];
		else if (seen < 3)
			pen += w[r->f[i].severity] / 2;
		if (pen >= 100)
			break;
	}
	sc = pen >= 100 ? 0 : 100 - pen;
	if (crit && sc > 20)
		sc = 20;
	return sc;
}

/* Source line around byte, trimmed of indentation, at most 160 bytes. */
static void
snippet_of(const char *src, size_t len, uint32_t byte, const char **s,
    size_t *n)
{
	const char *a, *b, *e = src + len;

	if (byte > len)
		byte = (uint32_t)len;
	a = src + byte;
	while (a > src && a[-1] != '\n' && src + byte - a < 80)
		a--;
	while (a < e && (*a == ' ' || *a == '\t'))
		a++;
	b = src + byte;
	while (b < e && *b != '\n' && *b != '\r' && b - a < 160)
		b++;
	*s = a;
	*n = b > a ? (size_t)(b - a) : 0;
}

int
ss_emit_rule(struct ocss_skillscan *sc, struct ocss_skillscan_report *r,
    int rule, const char *file, const char *src, size_t len, uint32_t byte,
    unsigned line, unsigned col, const char *detail)
{
	struct ocss_skillscan_finding	*f;
	const struct ss_rule		*ru;
	const char			*sn = "";
	size_t				 sl = 0;

	if (rule < 0 || (size_t)rule >= sc->nrules)
		return 0;
	ru = &sc->rules[rule];
	/* The same rule at the same place once only. */
	if (r->nf > 0) {
		f = &r->f[r->nf - 1];
		if (f->line == line && f->column == col &&
		    strcmp(f->rule_id, ru->id) == 0 && strcmp(f->file, file) == 0)
			return 0;
	}
	if (r->nf == r->capf) {
		size_t ncap = r->capf ? r->capf * 2 : 16;

		if ((f = realloc(r->f, ncap * sizeof(*f))) == NULL)
			return -1;
		r->f = f;
		r->capf = ncap;
	}
	if (src)
		snippet_of(src, len, byte, &sn, &sl);
	f = &r->f[r->nf];
	memset(f, 0, sizeof(*f));
	f->category = ru->category;
	f->severity = ru->severity;
	f->line = line;
	f->column = col;
	if ((f->rule_id = strdup(ru->id)) == NULL ||
	    (f->description = strdup(ru->description)) == NULL ||
	    (f->file = strdup(file)) == NULL ||
	    (f->snippet = strndup(sn, sl)) == NULL ||
	    (f->detail = strdup(detail ? detail : "")) == NULL) {
		free((char *)f->rule_id);
		free((char *)f->description);
		free((char *)f->file);
		free((char *)f->snippet);
		return -1;
	}
	r->nf++;
	return 0;
}

int
ss_emit(struct ocss_skillscan *sc, struct ocss_skillscan_report *r,
    enum ss_check ck, const char *file, const char *src, size_t len,
    uint32_t byte, unsigned line, unsigned col, const char *detail)
{
	return ss_emit_rule(sc, r, sc->check_rule[ck], file, src, len, byte,
	    line, col, detail);
}

int
ss_report_add_file(struct ocss_skillscan_report *r, const char *path,
    enum ocss_skillscan_file_status st, uint64_t size, const char *src,
    size_t len)
{
	struct ocss_skillscan_file	*f;
	unsigned char			 md[EVP_MAX_MD_SIZE];
	unsigned int			 mdlen = 0, i;

	if (r->nfiles == r->capfiles) {
		size_t ncap = r->capfiles ? r->capfiles * 2 : 16;

		if ((f = realloc(r->files, ncap * sizeof(*f))) == NULL)
			return -1;
		r->files = f;
		r->capfiles = ncap;
	}
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		return -1;
	f->status = st;
	f->size = size;
	if (src && EVP_Digest(src, len, md, &mdlen, EVP_sha256(), NULL) == 1)
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(f->sha256 + 2 * i, 3, "%02x", md[i]);
	r->nfiles++;
	return 0;
}

void
ss_report_set_name(struct ocss_skillscan_report *r, const char *name)
{
	char *d;

	if ((d = strdup(name)) != NULL) {
		free(r->manifest_name);
		r->manifest_name = d;
	}
}

/* ------------------------------------------------------------------ */
/* Scanning */

int
ocss_skillscan_source(struct ocss_skillscan *sc, const char *name,
    enum ocss_skillscan_lang lang, const char *src, size_t len,
    struct ocss_skillscan_report *r, struct ocss_err *err)
{
	enum ocss_skillscan_file_status	 st = OCSS_SKILLSCAN_FILE_OK;
	size_t				 before = r->nf, i;
	int				 l;

	switch (lang) {
	case OCSS_SKILLSCAN_LANG_JS:
		l = 0;
		break;
	case OCSS_SKILLSCAN_LANG_TS:
		l = 1;
		break;
	case OCSS_SKILLSCAN_LANG_TSX:
		l = 2;
		break;
	default:
		ocss_err_set(err, "%s: not a JavaScript or TypeScript file", name);
		return -1;
	}
	if (len > sc->max_file) {
		char d[64];

		snprintf(d, sizeof(d), "%zu bytes, limit %zu", len, sc->max_file);
		ss_emit(sc, r, SS_CK_SCAN_TOO_LARGE, name, NULL, 0, 0, 1, 1, d);
		return ss_report_add_file(r, name, OCSS_SKILLSCAN_FILE_TOO_LARGE,
		    len, src, len) == -1 ? -1 : 0;
	}
	if (memchr(src, '\0', len) != NULL) {
		ss_emit(sc, r, SS_CK_SCAN_BINARY, name, NULL, 0, 0, 1, 1,
		    "NUL bytes");
		return ss_report_add_file(r, name, OCSS_SKILLSCAN_FILE_BINARY,
		    len, src, len) == -1 ? -1 : 0;
	}
	if (ss_walk_file(sc, name, l, src, len, r) == -1) {
		ocss_err_set(err, "%s: out of memory while scanning", name);
		return -1;
	}
	for (i = before; i < r->nf; i++)
		if (r->f[i].category == OCSS_SKILLSCAN_SCANNER &&
		    sc->check_rule[SS_CK_SCAN_PARSE_ERROR] >= 0 &&
		    strcmp(r->f[i].rule_id,
		    sc->rules[sc->check_rule[SS_CK_SCAN_PARSE_ERROR]].id) == 0)
			st = OCSS_SKILLSCAN_FILE_PARSE_ERROR;
	if (ss_report_add_file(r, name, st, len, src, len) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	return 0;
}

/* Line and column of the first occurrence of needle, else 1:1. */
static void
locate(const char *s, const char *needle, unsigned *line, unsigned *col,
    uint32_t *byte)
{
	const char	*p = strstr(s, needle), *q;

	*line = 1;
	*col = 1;
	*byte = 0;
	if (p == NULL)
		return;
	*byte = (uint32_t)(p - s);
	for (q = s; q < p; q++)
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
}

int
ocss_skillscan_manifest(struct ocss_skillscan *sc, const char *name,
    const char *json, size_t len, struct ocss_skillscan_report *r,
    struct ocss_err *err)
{
	static const char *const hooks[] = { "preinstall", "install",
	    "postinstall", "preuninstall", "uninstall", "postuninstall", NULL };
	struct json_tokener	*tok;
	json_object		*root, *scripts, *v;
	char			 key[32], detail[300];
	unsigned		 line, col;
	uint32_t		 byte;
	const char		*cmd;
	int			 i;

	if ((tok = json_tokener_new()) == NULL) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	root = json_tokener_parse_ex(tok, json, (int)(len > INT32_MAX ?
	    INT32_MAX : len));
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		json_tokener_free(tok);
		if (root)
			json_object_put(root);
		ss_emit(sc, r, SS_CK_SCAN_PARSE_ERROR, name, json, len, 0, 1, 1,
		    "package.json is not valid JSON");
		return ss_report_add_file(r, name,
		    OCSS_SKILLSCAN_FILE_PARSE_ERROR, len, json, len);
	}
	json_tokener_free(tok);
	if (json_object_is_type(root, json_type_object)) {
		if (json_object_object_get_ex(root, "name", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    r->manifest_name == NULL)
			ss_report_set_name(r, json_object_get_string(v));
		if (json_object_object_get_ex(root, "scripts", &scripts) &&
		    json_object_is_type(scripts, json_type_object))
			for (i = 0; hooks[i]; i++) {
				if (!json_object_object_get_ex(scripts, hooks[i],
				    &v) || !json_object_is_type(v,
				    json_type_string))
					continue;
				cmd = json_object_get_string(v);
				snprintf(key, sizeof(key), "\"%s\"", hooks[i]);
				locate(json, key, &line, &col, &byte);
				snprintf(detail, sizeof(detail), "%s: %s",
				    hooks[i], cmd);
				ss_emit(sc, r, SS_CK_INSTALL_SCRIPT, name, json,
				    len, byte, line, col, detail);
				{
					static const char *const bad[] = {
					    "curl ", "wget ", "| sh", "|sh",
					    "| bash", "node -e", "base64",
					    "powershell", "/dev/tcp", "rm -rf",
					    NULL };
					int b;

					for (b = 0; bad[b]; b++)
						if (strstr(cmd, bad[b])) {
							ss_emit(sc, r,
							    SS_CK_SHELL_DANGEROUS,
							    name, json, len, byte,
							    line, col, detail);
							break;
						}
				}
			}
	}
	json_object_put(root);
	return ss_report_add_file(r, name, OCSS_SKILLSCAN_FILE_MANIFEST, len,
	    json, len) == -1 ? -1 : 0;
}

/* SKILL.md front matter: "name: x" between the leading --- lines. */
static void
skill_md(struct ocss_skillscan_report *r, const char *s)
{
	const char	*p, *e;
	char		 name[128];
	size_t		 n;

	if (strncmp(s, "---", 3) != 0)
		return;
	for (p = strchr(s, '\n'); p && strncmp(p + 1, "---", 3) != 0;
	    p = strchr(p + 1, '\n')) {
		if (strncmp(p + 1, "name:", 5) != 0)
			continue;
		p += 6;
		while (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')
			p++;
		for (e = p; *e && *e != '\n' && *e != '\r' && *e != '"' &&
		    *e != '\''; e++)
			;
		n = (size_t)(e - p);
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			ss_report_set_name(r, name);
		}
		return;
	}
}

static int
scan_file(struct ocss_skillscan *sc, const char *path, const char *rel,
    int top, struct ocss_skillscan_report *r, struct ocss_err *err)
{
	enum ocss_skillscan_lang	 lang;
	const char			*base;
	char				*src;
	size_t				 len;
	struct stat			 st;
	int				 rc;

	base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	lang = ocss_skillscan_lang_for(base);
	if (top && strcmp(base, "SKILL.md") == 0) {
		if ((src = slurp(path, 1u << 20, &len, err)) != NULL) {
			skill_md(r, src);
			free(src);
		}
		return 0;
	}
	if (top && strcmp(base, "package.json") == 0) {
		if ((src = slurp(path, sc->max_file, &len, err)) == NULL)
			return -1;
		rc = ocss_skillscan_manifest(sc, rel, src, len, r, err);
		free(src);
		return rc;
	}
	if (lang == OCSS_SKILLSCAN_LANG_NONE)
		return 0;
	if (stat(path, &st) == -1) {
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)st.st_size > sc->max_file) {
		char d[64];

		snprintf(d, sizeof(d), "%lld bytes, limit %zu",
		    (long long)st.st_size, sc->max_file);
		ss_emit(sc, r, SS_CK_SCAN_TOO_LARGE, rel, NULL, 0, 0, 1, 1, d);
		return ss_report_add_file(r, rel, OCSS_SKILLSCAN_FILE_TOO_LARGE,
		    (uint64_t)st.st_size, NULL, 0);
	}
	if ((src = slurp(path, sc->max_file, &len, err)) == NULL)
		return -1;
	rc = ocss_skillscan_source(sc, rel, lang, src, len, r, err);
	free(src);
	return rc;
}

static int
scan_dir(struct ocss_skillscan *sc, const char *dir, const char *rel,
    int depth, struct ocss_skillscan_report *r, struct ocss_err *err)
{
	struct dirent	**ents = NULL;
	struct stat	 st;
	int		 n, i, rc = 0;
	char		*path = NULL, *nrel = NULL;

	if (depth > MAX_DEPTH)
		return 0;
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		ocss_err_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;

		if (rc == -1 || !strcmp(nm, ".") || !strcmp(nm, "..") ||
		    !strcmp(nm, ".git") ||
		    (!sc->node_modules && !strcmp(nm, "node_modules")))
			continue;
		if (asprintf(&path, "%s/%s", dir, nm) == -1 ||
		    asprintf(&nrel, "%s%s%s", rel, *rel ? "/" : "", nm) == -1) {
			ocss_err_set(err, "out of memory");
			rc = -1;
			path = nrel = NULL;
			continue;
		}
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = scan_dir(sc, path, nrel, depth + 1, r, err);
			else if (S_ISREG(st.st_mode))
				rc = scan_file(sc, path, nrel, depth == 0, r,
				    err);
		}
		free(path);
		free(nrel);
		path = nrel = NULL;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

int
ocss_skillscan_path(struct ocss_skillscan *sc, const char *path,
    struct ocss_skillscan_report *r, struct ocss_err *err)
{
	struct stat	 st;
	const char	*base;

	if (stat(path, &st) == -1) {
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	base = strrchr(path, '/');
	free(r->root);
	if (S_ISDIR(st.st_mode)) {
		if ((r->root = strdup(path)) != NULL) {
			size_t n = strlen(r->root);

			while (n > 1 && r->root[n - 1] == '/')
				r->root[--n] = '\0';
		}
		return scan_dir(sc, path, "", 0, r, err);
	}
	r->root = base ? strndup(path, (size_t)(base - path)) : NULL;
	base = base ? base + 1 : path;
	if (ocss_skillscan_lang_for(base) == OCSS_SKILLSCAN_LANG_NONE &&
	    strcmp(base, "package.json") != 0) {
		ocss_err_set(err, "%s: not a .js/.mjs/.cjs/.jsx/.ts/.mts/.cts/"
		    ".tsx file, package.json or directory", path);
		return -1;
	}
	return scan_file(sc, path, base, 1, r, err);
}
