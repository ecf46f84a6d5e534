/* libFuzzer: arbitrary bytes as a request body through the JSON walker and
 * the sanitizer with the shipped prompt rules, and as one plain text.
 * Checks: no crash or leak, a decision always, the same decision and
 * findings without the fast pass, a stripped body that is still accepted
 * by the sanitizer, offsets inside the field.  The same bytes as a text:
 * the normaliser's block paths (SSE2, SWAR) give the segments and maps of
 * its byte loop, and both shipped rule files and a few rules written to
 * trip the gates' pattern readers find the same with their gates (words,
 * needles) as without. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "rules.h"
#include "sanitize.h"

#ifndef OCSS_TEST_CONFDIR
#define OCSS_TEST_CONFDIR "conf"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ocss_rules *rs, *ri, *rg;
static struct ocss_rules_scratch *sc, *si, *sg;

/* Rules whose gates are easy to get wrong: POSIX classes, classes with a
 * ']' first, multibyte literals under a quantifier, caseless non-ASCII
 * literals, windows before a needle with and without a \s run, inline
 * option settings. */
static const char gate_rules[] = "{\"rules\":["
    "{\"id\":\"p1\",\"pattern\":\"[[:alpha:]]{1,4}:\",\"flags\":\"raw\","
    "\"action\":\"strip\"},"
    "{\"id\":\"p2\",\"pattern\":\"a[[:digit:]:]b:|[^]<]{1,3}\\\\s*<\","
    "\"flags\":\"raw,caseless\",\"action\":\"strip\"},"
    "{\"id\":\"p3\",\"pattern\":\"(?<![a-z])(?:ab|c\\u0434e)\\\\s*:x|"
    "\\\\[q\\\\]|^\\\\s*#{2}\",\"flags\":\"raw,caseless,multiline\","
    "\"action\":\"strip\"},"
    "{\"id\":\"n1\",\"pattern\":\"\\\\bfoo \\u0434?bar|\\\\bab\\u00e9*c\","
    "\"action\":\"strip\"},"
    "{\"id\":\"n2\",\"pattern\":\"\\\\bfoo \\u03c3x\",\"flags\":\"i\","
    "\"action\":\"strip\"},"
    "{\"id\":\"n3\",\"pattern\":\"\\\\b(?:you|we) (?:are|re) "
    "(?:now|no(?: longer)?) \\\\w\",\"action\":\"strip\"},"
    "{\"id\":\"o1\",\"pattern\":\"a:(?x)b|c #:\",\"flags\":\"raw\","
    "\"action\":\"strip\"},"
    "{\"id\":\"o2\",\"pattern\":\"\\\\bzz(?i)|\\\\bfoo \\u03c3x|"
    "\\\\bbar(?x) baz\",\"action\":\"strip\"}]}";
static struct ocss_norm *na, *nb;

/* Segments and maps of a text through the block paths and the byte loop:
 * abort() when they differ. */
static void
same_norm(const char *text, size_t len, unsigned flags)
{
	if (ocss_norm_run(na, text, len, flags) != 0 ||
	    ocss_norm_run(nb, text, len, OCSS_NORM_BYTES) != 0 ||
	    !ocss_norm_same(na, nb))
		abort();
}

/* Findings with and without the gates: abort() when they differ. */
static void
same_ungated(const struct ocss_rules *r, struct ocss_rules_scratch *s,
    const char *text, size_t len)
{
	struct ocss_findings a = OCSS_FINDINGS_INIT, b = OCSS_FINDINGS_INIT;
	struct ocss_err	 err;

	if (ocss_rules_scan(r, s, text, len, 0, &a, &err) >= 0 &&
	    ocss_rules_scan(r, s, text, len, OCSS_SCAN_NOGATE, &b, &err) >=
	    0 && !ocss_findings_equal(&a, &b))
		abort();
	ocss_findings_free(&a);
	ocss_findings_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_sanitize_report rep, rep2;
	struct ocss_sanitize_limits slow = { 0, 0, 0, 1 };
	struct ocss_err	 err;
	struct ocss_buf	 b = OCSS_BUF_INIT;
	enum ocss_sanitize_status st;
	size_t		 i;

	if (rs == NULL) {
		if ((rs = ocss_rules_load(OCSS_TEST_CONFDIR "/prompt-rules.json",
		    &err)) == NULL || (sc = ocss_rules_scratch_new(rs)) == NULL)
			abort();
		if ((ri = ocss_rules_load(OCSS_TEST_CONFDIR
		    "/indirect-injection-rules.json", &err)) == NULL ||
		    (si = ocss_rules_scratch_new(ri)) == NULL ||
		    (na = ocss_norm_new()) == NULL ||
		    (nb = ocss_norm_new()) == NULL)
			abort();
		if ((rg = ocss_rules_parse(gate_rules, sizeof(gate_rules) - 1,
		    "gate-rules", &err)) == NULL ||
		    (sg = ocss_rules_scratch_new(rg)) == NULL)
			abort();
	}
	same_norm((const char *)data, len, 0);
	same_norm((const char *)data, len, OCSS_NORM_NOSIMD);
	same_ungated(rs, sc, (const char *)data, len);
	same_ungated(ri, si, (const char *)data, len);
	same_ungated(rg, sg, (const char *)data, len);
	ocss_sanitize_report_init(&rep);
	ocss_sanitize_report_init(&rep2);
	st = ocss_sanitize_body(rs, sc, (const char *)data, len, NULL, &rep);
	if (st == OCSS_SANITIZE_REJECT && rep.rule_id == NULL)
		abort();
	if (ocss_sanitize_body(rs, sc, (const char *)data, len, &slow, &rep2) !=
	    st || rep2.nfindings != rep.nfindings ||
	    strcmp(rep2.reason, rep.reason) != 0)
		abort();
	if (st == OCSS_SANITIZE_STRIPPED) {
		if (rep.body.len == 0)
			abort();
		/* The cleaned body is valid JSON the sanitizer accepts. */
		if (ocss_sanitize_body(rs, sc, rep.body.data, rep.body.len, NULL,
		    &rep2) == OCSS_SANITIZE_BAD_INPUT)
			abort();
	}
	for (i = 0; i < rep.nfindings; i++)
		if (rep.findings[i].start > rep.findings[i].end ||
		    ocss_sanitize_finding_json(&rep.findings[i], &b) == -1)
			abort();
	if (ocss_sanitize_error_json(&rep, &b) == -1)
		abort();
	st = ocss_sanitize_text(rs, sc, (const char *)data, len, NULL, &rep);
	for (i = 0; i < rep.nfindings; i++)
		if (rep.findings[i].end > len)
			abort();
	if (st == OCSS_SANITIZE_STRIPPED && rep.body.len >= len)
		abort();
	ocss_buf_free(&b);
	ocss_sanitize_report_free(&rep);
	ocss_sanitize_report_free(&rep2);
	return 0;
}
