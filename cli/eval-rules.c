/*
 * ocss eval-rules --rules FILE --corpus FILE.jsonl [--check] [--repeat N]
 *     [--show-misses] [--show-fp] [--verify-gates]
 *
 * Measures a rule file on a labelled corpus (JSON Lines: {"text": ...,
 * "label": "injection"|"benign", "source": ...}): recall and false-positive
 * rate per source and overall, hits per rule, and throughput of the rules
 * engine and of the sanitizer (each text wrapped in a chat request body).
 * --check runs every rule on its own examples first and fails on a miss.
 * --flags FILE writes one line a text, 1 when flagged, 0 when not (for
 * tests/tools/train-ngram.py --rules-flags).
 * --verify-gates scans every text a second time with the gates off
 * (OCSS_SCAN_NOGATE) and fails when the findings differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "commands.h"
#include "err.h"
#include "rules.h"
#include "sanitize.h"

struct item {
	char	*text;
	size_t	 len;
	int	 inj;
	size_t	 src;
};

struct source {
	char	*name;
	size_t	 n[2], hit[2];	/* [0] benign, [1] injection */
};

struct corpus {
	struct item	*it;
	size_t		 n, cap;
	struct source	*src;
	size_t		 nsrc;
	size_t		 bytes;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
source_id(struct corpus *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nsrc; i++)
		if (strcmp(c->src[i].name, name) == 0)
			return i;
	c->src = realloc(c->src, (c->nsrc + 1) * sizeof(*c->src));
	if (c->src == NULL) {
		perror("realloc");
		exit(2);
	}
	memset(&c->src[c->nsrc], 0, sizeof(c->src[0]));
	if ((c->src[c->nsrc].name = strdup(name)) == NULL)
		exit(2);
	return c->nsrc++;
}

static int
load_corpus(const char *path, struct corpus *c)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	json_object	*o, *t, *l, *s;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if ((o = json_tokener_parse(line)) == NULL ||
		    !json_object_object_get_ex(o, "text", &t) ||
		    !json_object_object_get_ex(o, "label", &l)) {
			fprintf(stderr, "%s:%zu: not {\"text\", \"label\"}\n",
			    path, lineno);
			json_object_put(o);
			continue;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 1024;
			if ((c->it = realloc(c->it, c->cap * sizeof(*c->it)))
			    == NULL)
				exit(2);
		}
		c->it[c->n].len = (size_t)json_object_get_string_len(t);
		if ((c->it[c->n].text = malloc(c->it[c->n].len + 1)) == NULL)
			exit(2);
		memcpy(c->it[c->n].text, json_object_get_string(t),
		    c->it[c->n].len + 1);
		c->it[c->n].inj = strcmp(json_object_get_string(l),
		    "injection") == 0;
		c->it[c->n].src = source_id(c,
		    json_object_object_get_ex(o, "source", &s) ?
		    json_object_get_string(s) : "(none)");
		c->bytes += c->it[c->n].len;
		c->n++;
		json_object_put(o);
	}
	free(line);
	fclose(f);
	return 0;
}

static int
check_examples(const struct ocss_rules *rs, struct ocss_rules_scratch *sc)
{
	struct ocss_findings	 f = OCSS_FINDINGS_INIT;
	struct ocss_err		 err;
	size_t			 r, k, i, bad = 0, total = 0;
	int			 m, hit;
	const char		*ex;

	for (r = 0; r < ocss_rules_count(rs); r++) {
		if (ocss_rules_nexamples(rs, r, 1) == 0) {
			printf("check: rule %s has no positive example\n",
			    ocss_rules_id(rs, r));
			bad++;
		}
		for (m = 0; m < 2; m++)
			for (k = 0; k < ocss_rules_nexamples(rs, r, m); k++) {
				ex = ocss_rules_example(rs, r, m, k);
				ocss_findings_reset(&f);
				if (ocss_rules_scan(rs, sc, ex, strlen(ex), 0, &f,
				    &err) == -1) {
					printf("check: %s\n", err.msg);
					bad++;
					continue;
				}
				for (hit = 0, i = 0; i < f.n; i++)
					if (f.v[i].rule == r)
						hit = 1;
				total++;
				if (hit != m) {
					printf("check: rule %s %s example %zu: "
					    "%.100s\n", ocss_rules_id(rs, r),
					    m ? "misses its" : "matches its non-",
					    k, ex);
					bad++;
				}
			}
	}
	ocss_findings_free(&f);
	printf("check: %zu examples, %zu failures\n", total, bad);
	return bad ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ocss eval-rules --rules FILE --corpus "
	    "FILE.jsonl [--check] [--repeat N] [--show-misses] [--show-fp] "
	    "[--verify-gates] [--flags FILE]\n");
}

/* Same findings with and without the gates, on every text. */
static int
verify_gates(const struct ocss_rules *rs, struct ocss_rules_scratch *sc,
    const struct corpus *c)
{
	struct ocss_findings	 f1 = OCSS_FINDINGS_INIT, f2 = OCSS_FINDINGS_INIT;
	struct ocss_err		 err;
	size_t			 i, bad = 0;
	int			 r1, r2;

	for (i = 0; i < c->n; i++) {
		ocss_findings_reset(&f1);
		ocss_findings_reset(&f2);
		r1 = ocss_rules_scan(rs, sc, c->it[i].text, c->it[i].len, 0,
		    &f1, &err);
		r2 = ocss_rules_scan(rs, sc, c->it[i].text, c->it[i].len,
		    OCSS_SCAN_NOGATE, &f2, &err);
		if (r1 == r2 && ocss_findings_equal(&f1, &f2))
			continue;
		bad++;
		printf("GATE MISMATCH text %zu: %d findings gated, %d not: "
		    "%.200s\n", i, r1, r2, c->it[i].text);
	}
	ocss_findings_free(&f1);
	ocss_findings_free(&f2);
	printf("verify-gates: %zu texts, %zu differ\n", c->n, bad);
	return bad ? -1 : 0;
}

int
ocss_cmd_eval_rules(int argc, char **argv)
{
	struct corpus		 c;
	struct ocss_rules	*rs = NULL;
	struct ocss_rules_scratch *sc = NULL;
	struct ocss_findings	 f = OCSS_FINDINGS_INIT;
	struct ocss_sanitize_report rep;
	struct ocss_buf		 body = OCSS_BUF_INIT;
	struct ocss_err		 err;
	const char		*rules = NULL, *corpus = NULL, *flagsout = NULL;
	FILE			*ff = NULL;
	size_t			 i, k, r, *rhit[2] = { NULL, NULL }, tot[2] = {0},
				 hit[2] = {0}, sbytes = 0;
	int			 a, check = 0, repeat = 3, misses = 0, fps = 0,
				 rc = 1, flagged, vgates = 0;
	double			 t0, t_rules, t_san;

	memset(&c, 0, sizeof(c));
	ocss_sanitize_report_init(&rep);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--rules") == 0 && a + 1 < argc)
			rules = argv[++a];
		else if (strcmp(argv[a], "--corpus") == 0 && a + 1 < argc)
			corpus = argv[++a];
		else if (strcmp(argv[a], "--repeat") == 0 && a + 1 < argc)
			repeat = atoi(argv[++a]);
		else if (strcmp(argv[a], "--check") == 0)
			check = 1;
		else if (strcmp(argv[a], "--show-misses") == 0)
			misses = 1;
		else if (strcmp(argv[a], "--show-fp") == 0)
			fps = 1;
		else if (strcmp(argv[a], "--verify-gates") == 0)
			vgates = 1;
		else if (strcmp(argv[a], "--flags") == 0 && a + 1 < argc)
			flagsout = argv[++a];
		else {
			usage();
			return 2;
		}
	}
	if (rules == NULL || (corpus == NULL && !check)) {
		usage();
		return 2;
	}
	if (repeat < 1)
		repeat = 1;
	if ((rs = ocss_rules_load(rules, &err)) == NULL) {
		fprintf(stderr, "ocss eval-rules: %s\n", err.msg);
		return 1;
	}
	if ((sc = ocss_rules_scratch_new(rs)) == NULL)
		goto done;
	printf("rules: %s (%zu rules)\n", rules, ocss_rules_count(rs));
	for (r = 0; r < ocss_rules_count(rs); r++)
		printf("  %-36s gate: %s\n", ocss_rules_id(rs, r),
		    ocss_rules_gate(rs, r));
	if (check && check_examples(rs, sc) == -1)
		goto done;
	if (corpus == NULL) {
		rc = 0;
		goto done;
	}
	if (load_corpus(corpus, &c) == -1)
		goto done;
	printf("corpus: %s (%zu texts, %zu bytes)\n", corpus, c.n, c.bytes);
	if (vgates && verify_gates(rs, sc, &c) == -1)
		goto done;
	if (flagsout != NULL && (ff = fopen(flagsout, "w")) == NULL) {
		perror(flagsout);
		goto done;
	}
	rhit[0] = calloc(ocss_rules_count(rs) + 1, sizeof(size_t));
	rhit[1] = calloc(ocss_rules_count(rs) + 1, sizeof(size_t));
	if (rhit[0] == NULL || rhit[1] == NULL)
		goto done;
	for (i = 0; i < c.n; i++) {
		struct item *it = &c.it[i];
		ocss_findings_reset(&f);
		if (ocss_rules_scan(rs, sc, it->text, it->len, 0, &f, &err)
		    == -1) {
			fprintf(stderr, "text %zu: %s\n", i, err.msg);
			flagged = 1;	/* fail closed, as the gateway does */
		} else
			flagged = f.n > 0;
		for (r = 0; r < ocss_rules_count(rs); r++)
			for (k = 0; k < f.n; k++)
				if (f.v[k].rule == r) {
					rhit[it->inj][r]++;
					break;
				}
		if (ff != NULL)
			fprintf(ff, "%d\n", flagged);
		c.src[it->src].n[it->inj]++;
		c.src[it->src].hit[it->inj] += flagged;
		tot[it->inj]++;
		hit[it->inj] += flagged;
		if ((misses && it->inj && !flagged) ||
		    (fps && !it->inj && flagged)) {
			printf("%s [%s] %.300s\n", it->inj ? "MISS" : "FP",
			    flagged ? ocss_rules_id(rs, f.v[0].rule) : "-",
			    it->text);
		}
	}
	printf("\n%-48s %-9s %6s %7s %8s\n", "source", "label", "n", "flagged",
	    "rate");
	for (i = 0; i < c.nsrc; i++)
		for (k = 0; k < 2; k++) {
			if (c.src[i].n[k] == 0)
				continue;
			printf("%-48s %-9s %6zu %7zu %7.1f%% %s\n",
			    c.src[i].name, k ? "injection" : "benign",
			    c.src[i].n[k], c.src[i].hit[k],
			    100.0 * (double)c.src[i].hit[k] /
			    (double)c.src[i].n[k], k ? "recall" : "FP");
		}
	printf("%-48s %-9s %6zu %7zu %7.1f%% recall\n", "ALL", "injection",
	    tot[1], hit[1], tot[1] ? 100.0 * (double)hit[1] /
	    (double)tot[1] : 0.0);
	printf("%-48s %-9s %6zu %7zu %7.1f%% FP\n", "ALL", "benign", tot[0],
	    hit[0], tot[0] ? 100.0 * (double)hit[0] / (double)tot[0] : 0.0);
	printf("\n%-36s %9s %9s\n", "rule", "inj hits", "ben hits");
	for (r = 0; r < ocss_rules_count(rs); r++)
		printf("%-36s %9zu %9zu\n", ocss_rules_id(rs, r), rhit[1][r],
		    rhit[0][r]);
	/* Throughput: the engine on each text, then the sanitizer on each
	 * text as a chat request body. */
	t0 = now();
	for (a = 0; a < repeat; a++)
		for (i = 0; i < c.n; i++) {
			ocss_findings_reset(&f);
			(void)ocss_rules_scan(rs, sc, c.it[i].text, c.it[i].len,
			    0, &f, &err);
		}
	t_rules = now() - t0;
	t_san = 0;
	for (i = 0; i < c.n; i++) {
		ocss_buf_reset(&body);
		if (ocss_buf_puts(&body, "{\"model\":\"m\",\"messages\":[{\""
		    "role\":\"user\",\"content\":\"") == -1 ||
		    ocss_buf_json_str(&body, c.it[i].text, c.it[i].len) == -1 ||
		    ocss_buf_puts(&body, "\"}]}") == -1)
			goto done;
		t0 = now();
		for (a = 0; a < repeat; a++)
			(void)ocss_sanitize_body(rs, sc, body.data, body.len,
			    NULL, &rep);
		t_san += now() - t0;
		sbytes += body.len * (size_t)repeat;
	}
	printf("\nthroughput: rules engine %.1f MB/s (%zu bytes x %d in %.3f s);"
	    " sanitizer %.1f MB/s of request bodies\n",
	    (double)c.bytes * repeat / 1e6 / t_rules, c.bytes, repeat, t_rules,
	    (double)sbytes / 1e6 / t_san);
	rc = 0;
done:
	if (ff != NULL)
		fclose(ff);
	for (i = 0; i < c.n; i++)
		free(c.it[i].text);
	free(c.it);
	for (i = 0; i < c.nsrc; i++)
		free(c.src[i].name);
	free(c.src);
	free(rhit[0]);
	free(rhit[1]);
	ocss_findings_free(&f);
	ocss_sanitize_report_free(&rep);
	ocss_buf_free(&body);
	ocss_rules_scratch_free(sc);
	ocss_rules_free(rs);
	return rc;
}
