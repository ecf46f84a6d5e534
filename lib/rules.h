/*
 * The rules engine shared by the request sanitizer (conf/prompt-rules.json)
 * and the response scanner (conf/indirect-injection-rules.json).
 *
 * Rule file: a JSON object {"rules": [ RULE, ... ]} (or the bare array):
 *   {"id": "ignore-previous",          unique, [A-Za-z0-9._-]{1,64}
 *    "description": "...",
 *    "pattern": "ignore (all )?previous instructions",   PCRE2 syntax
 *    "flags": ["raw", "caseless", "dotall", "multiline", "nodecode"],
 *    "action": "strip" | "reject",
 *    "severity": "low" | "medium" | "high" | "critical",
 *    "examples": {"match": ["..."], "nomatch": ["..."]}}     optional
 * Patterns run on the NORMALISED text (lib/normalize.h: lower case, words
 * separated by single spaces, look-alikes folded) and on every derived
 * segment (decoded base64 / hex / percent / entities, s p a c e d letters),
 * unless flagged "raw" (the original bytes, e.g. for chat-template tokens
 * such as "<|im_start|>") or "nodecode" (segment 0 only).  Examples are
 * checked by the unit tests and by `ocss eval-rules --check`.
 *
 * Ownership and threads: struct ocss_rules is built once per worker and is
 * read-only afterwards; any number of threads may scan with it at once,
 * each with its OWN struct ocss_rules_scratch (PCRE2 match data, JIT stack,
 * normalisation buffers).  Findings point into the rule set (ids) and live
 * in a struct ocss_findings owned by the caller.
 */
#ifndef OCSS_RULES_H
#define OCSS_RULES_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "normalize.h"

enum ocss_rule_action {
	OCSS_RULE_STRIP = 0,
	OCSS_RULE_REJECT
};

enum ocss_rule_severity {
	OCSS_SEV_LOW = 0,
	OCSS_SEV_MEDIUM,
	OCSS_SEV_HIGH,
	OCSS_SEV_CRITICAL
};

struct ocss_rules;
struct ocss_rules_scratch;

struct ocss_finding {
	size_t			 rule;	/* index in the rule set */
	size_t			 start;	/* byte offsets in the ORIGINAL text */
	size_t			 end;
	enum ocss_norm_via	 via;	/* segment kind the match was in */
};

/* A growing list of findings, owned by the caller: init with
 * OCSS_FINDINGS_INIT, reset between texts, free once. */
struct ocss_findings {
	struct ocss_finding	*v;
	size_t			 n, cap;
};
#define OCSS_FINDINGS_INIT { NULL, 0, 0 }
void	ocss_findings_reset(struct ocss_findings *);
void	ocss_findings_free(struct ocss_findings *);
/* The same findings, in the same order (rule, offsets, via)? */
int	ocss_findings_equal(const struct ocss_findings *,
	    const struct ocss_findings *);

/* Load and compile (PCRE2 + JIT).  NULL with err naming the file, the rule
 * (id and index) and for a bad pattern PCRE2's message and error offset.
 * The name is used in messages only. */
struct ocss_rules *ocss_rules_load(const char *path, struct ocss_err *);
struct ocss_rules *ocss_rules_parse(const char *json, size_t len,
		    const char *name, struct ocss_err *);
void		ocss_rules_free(struct ocss_rules *);

size_t		ocss_rules_count(const struct ocss_rules *);
const char	*ocss_rules_id(const struct ocss_rules *, size_t rule);
const char	*ocss_rules_description(const struct ocss_rules *, size_t);
enum ocss_rule_action ocss_rules_action(const struct ocss_rules *, size_t);
enum ocss_rule_severity ocss_rules_severity(const struct ocss_rules *,
		    size_t);
/* Example texts of a rule (match = 1: should match; 0: should not). */
size_t		ocss_rules_nexamples(const struct ocss_rules *, size_t rule,
		    int match);
const char	*ocss_rules_example(const struct ocss_rules *, size_t rule,
		    int match, size_t i);

/* How a rule is kept from running on every text: "anchored" (only at the
 * words its matches can start with), "keywords", "prefilter", "raw" (the
 * original bytes, ungated) or "none". */
const char	*ocss_rules_gate(const struct ocss_rules *, size_t rule);

const char	*ocss_rule_action_name(enum ocss_rule_action);
const char	*ocss_rule_severity_name(enum ocss_rule_severity);

/* Per-thread scratch for one rule set; NULL when memory is exhausted. */
struct ocss_rules_scratch *ocss_rules_scratch_new(const struct ocss_rules *);
void		ocss_rules_scratch_free(struct ocss_rules_scratch *);

/* Flags for ocss_rules_scan(). */
#define OCSS_SCAN_FIRST_REJECT	0x01	/* stop at the first reject finding */
#define OCSS_SCAN_NOGATE	0x02	/* every rule on every whole segment:
					 * no word gates, no prefilter (for
					 * tests: same findings, slower) */

/*
 * Scan text[0..len) with every rule; append findings to *out (at most
 * OCSS_RULES_MAX_HITS per rule and text).  Returns the number of findings
 * appended, or -1 with err set: memory exhausted, or a pattern hit the PCRE2
 * match limit (the text is then treated as unscannable; callers fail closed).
 */
#define OCSS_RULES_MAX_HITS	32
int		ocss_rules_scan(const struct ocss_rules *,
		    struct ocss_rules_scratch *, const char *text, size_t len,
		    unsigned flags, struct ocss_findings *out, struct ocss_err *);

/* pcre2_jit_compile(), unless OCSS_PCRE2_NO_JIT is set (valgrind runs:
 * JIT code is opaque to it).  1 when JIT is on.  For every PCRE2 user. */
struct pcre2_real_code_8;
int	ocss_jit_compile(struct pcre2_real_code_8 *);

/* Audit members of one finding, appended to b (no text of the input):
 * "rule":"id","action":"strip","severity":"high","field":"...",
 * "start":10,"end":42,"via":"base64".  0, or -1 when memory runs out.
 * Serves the sanitizer's and the response scanner's findings alike. */
int	ocss_rules_finding_json(struct ocss_buf *, const char *rule_id,
	    enum ocss_rule_action, enum ocss_rule_severity, const char *field,
	    unsigned long long start, unsigned long long end,
	    enum ocss_norm_via);

#endif
