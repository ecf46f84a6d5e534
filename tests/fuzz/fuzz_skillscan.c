/* libFuzzer: arbitrary bytes as JavaScript, TypeScript and TSX source
 * through the whole skill scanner (parse, walk, evaluator, queries,
 * report, all three output formats), plus the same bytes as a
 * package.json manifest.  The first byte picks the language.  Rules: the
 * shipped conf/scanner-rules.json plus one query rule with predicates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skillscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ocss_skillscan *sc;

static const char extra_rule[] =
    "{ \"id\": \"fuzz.query\", \"category\": \"dangerous_api\", "
    "\"severity\": \"low\", \"description\": \"q\", \"query\": "
    "\"(call_expression function: (member_expression object: (identifier) "
    "@o property: (property_identifier) @p) (#eq? @o \\\"a\\\") "
    "(#match? @p \\\"^[bc]\\\"))\" },";

static char *
rules_text(void)
{
	char		 exe[4096], path[8192];
	const char	*d = getenv("OCSS_SRCDIR");
	char		*p, *buf, *out;
	ssize_t		 n;
	FILE		*f;
	long		 len;
	int		 i;

	if (d != NULL)
		snprintf(path, sizeof(path), "%s/conf/scanner-rules.json", d);
	else {
		/* builddir/tests/fuzz/fuzz_skillscan, source beside it. */
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
			return NULL;
		exe[n] = '\0';
		for (i = 0; i < 3 && (p = strrchr(exe, '/')) != NULL; i++)
			*p = '\0';
		snprintf(path, sizeof(path), "%s/%s", exe, __FILE__);
		if ((p = strstr(path, "tests/fuzz/fuzz_skillscan.c")) == NULL)
			return NULL;
		strcpy(p, "conf/scanner-rules.json");
		if (__FILE__[0] == '/') {
			snprintf(path, sizeof(path), "%s", __FILE__);
			p = strstr(path, "tests/fuzz/fuzz_skillscan.c");
			if (p == NULL)
				return NULL;
			strcpy(p, "conf/scanner-rules.json");
		}
	}
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	out = malloc((size_t)len + sizeof(extra_rule) + 1);
	if (buf == NULL || out == NULL || fread(buf, 1, (size_t)len, f) !=
	    (size_t)len) {
		fclose(f);
		free(buf);
		free(out);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	/* Insert the query rule at the start of the rules array. */
	if ((p = strstr(buf, "\"rules\": [")) == NULL) {
		free(buf);
		free(out);
		return NULL;
	}
	p += strlen("\"rules\": [");
	snprintf(out, (size_t)len + sizeof(extra_rule) + 1, "%.*s%s%s",
	    (int)(p - buf), buf, extra_rule, p);
	free(buf);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum ocss_skillscan_lang langs[] = {
		OCSS_SKILLSCAN_LANG_JS, OCSS_SKILLSCAN_LANG_TS,
		OCSS_SKILLSCAN_LANG_TSX
	};
	struct ocss_skillscan_report	*r;
	struct ocss_buf			 b = OCSS_BUF_INIT;
	struct ocss_err			 err;
	const struct ocss_skillscan_finding *f;
	char				*rules;
	size_t				 i;

	if (sc == NULL) {
		if ((rules = rules_text()) == NULL ||
		    ocss_skillscan_new_mem(&sc, rules, "example.com\nlocalhost\n",
		    &err) == -1) {
			fprintf(stderr, "fuzz_skillscan: cannot load rules "
			    "(set OCSS_SRCDIR)\n");
			abort();
		}
		free(rules);
	}
	if (len == 0)
		return 0;
	if ((r = ocss_skillscan_report_new("fuzz")) == NULL)
		return 0;
	if (ocss_skillscan_source(sc, "f.js", langs[data[0] % 3],
	    (const char *)data + 1, len - 1, r, &err) == 0) {
		for (i = 0; i < ocss_skillscan_report_count(r); i++) {
			f = ocss_skillscan_report_finding(r, i);
			if (f->line == 0 || f->column == 0 ||
			    f->rule_id == NULL || f->snippet == NULL)
				abort();
		}
		if (ocss_skillscan_report_score(r) < 0 ||
		    ocss_skillscan_report_score(r) > 100)
			abort();
	}
	ocss_skillscan_manifest(sc, "package.json", (const char *)data + 1,
	    len - 1, r, &err);
	ocss_skillscan_format_text(&r, 1, 1, &b);
	ocss_skillscan_format_json(&r, 1, &b);
	ocss_skillscan_format_sarif(sc, &r, 1, &b);
	ocss_buf_free(&b);
	ocss_skillscan_report_free(r);
	return 0;
}
