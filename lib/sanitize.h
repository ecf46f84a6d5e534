/*
 * Request sanitizer: applies the prompt rules (lib/rules.h) to every text an
 * OpenAI-format request body gives the model.
 *
 * Fields scanned (a field path names each in findings):
 *   messages[i].content              string, or array of parts: every part
 *                                    with a string "text" (type text,
 *                                    input_text, ...) -> .content[j].text
 *   messages[i].tool_calls[k].function.arguments, messages[i].function_call
 *   .arguments                       when the arguments string is JSON, each
 *                                    string inside it (path continues with
 *                                    .key / [n]); otherwise the string itself
 *   prompt                           legacy completions: string or array
 *   input                            responses API: string, array of strings
 *                                    or of message items (as messages[])
 *   instructions, system             strings
 *   tools[i].function.description    the model reads it too
 * Bodies that do not start with '{' or '[' and JSON bodies without any of
 * these members pass untouched.  A body that starts like JSON must be valid
 * strict JSON (RFC 8259, UTF-8, no trailing data) within the limits, or it is
 * BAD_INPUT: a body we cannot read must not reach a parser that might read
 * it differently.
 *
 * Decisions: any reject finding -> REJECT (the first rejecting rule is named;
 * the matched text never is).  Otherwise strip findings -> the matched
 * original bytes are removed, the field is scanned again (removal can join
 * an attack back together; after OCSS_SANITIZE_STRIP_ROUNDS rounds that still
 * match, the request is REJECTed) and the body re-serialised (json-c: key
 * order and string content kept, insignificant whitespace dropped).
 *
 * Ownership: the report owns its findings, paths and the cleaned body;
 * rule ids point into the rule set, which must outlive the report.
 * Thread-safety: as lib/rules.h (one scratch per thread).
 */
#ifndef OCSS_SANITIZE_H
#define OCSS_SANITIZE_H

#include <stddef.h>

#include "buf.h"
#include "rules.h"

enum ocss_sanitize_status {
	OCSS_SANITIZE_PASS = 0,		/* forward the original body */
	OCSS_SANITIZE_STRIPPED,		/* forward report.body instead */
	OCSS_SANITIZE_REJECT,		/* 400, report.rule_id */
	OCSS_SANITIZE_BAD_INPUT,	/* 400, report.reason */
	OCSS_SANITIZE_ERROR		/* 500: out of memory, report.reason */
};

#define OCSS_SANITIZE_STRIP_ROUNDS	3

struct ocss_sanitize_limits {
	int		 max_depth;	/* JSON nesting; default 64 */
	size_t		 max_string;	/* one text field; default 1 MiB */
	size_t		 max_texts;	/* text fields in a body; default 10000 */
	int		 no_fast;	/* tests: no fast pass (sanitize.c), the
					 * json-c walk decides alone, the same */
};

struct ocss_sanitize_finding {
	const char		*rule_id;	/* points into the rule set */
	enum ocss_rule_action	 action;
	enum ocss_rule_severity	 severity;
	char			*path;		/* "messages[2].content" */
	size_t			 start, end;	/* bytes of that field's value */
	enum ocss_norm_via	 via;		/* "base64" ... or text */
};

struct ocss_sanitize_report {
	enum ocss_sanitize_status	 status;
	const char			*rule_id;	/* REJECT */
	char				 reason[200];	/* BAD_INPUT, ERROR */
	struct ocss_buf			 body;		/* STRIPPED */
	struct ocss_sanitize_finding	*findings;
	size_t				 nfindings, cap;
};

void	ocss_sanitize_report_init(struct ocss_sanitize_report *);
void	ocss_sanitize_report_free(struct ocss_sanitize_report *);

/* Sanitize a request body.  limits may be NULL (defaults).  The report is
 * reset first; the status is returned and kept in report->status. */
enum ocss_sanitize_status ocss_sanitize_body(const struct ocss_rules *,
	    struct ocss_rules_scratch *, const char *body, size_t len,
	    const struct ocss_sanitize_limits *, struct ocss_sanitize_report *);

/* Sanitize one plain text (a webhook message).  path names it in findings.
 * STRIPPED puts the cleaned text in report->body. */
enum ocss_sanitize_status ocss_sanitize_text(const struct ocss_rules *,
	    struct ocss_rules_scratch *, const char *text, size_t len,
	    const char *path, struct ocss_sanitize_report *);

/* The JSON error body for REJECT / BAD_INPUT / ERROR:
 * {"error":{"code":"prompt_rejected","message":"...","rule":"id"}}.
 * Never contains request text.  0, or -1 when memory is exhausted. */
int	ocss_sanitize_error_json(const struct ocss_sanitize_report *,
	    struct ocss_buf *);

/* Audit members for one finding, to append to an audit line:
 * "rule":"id","action":"strip","severity":"high","field":"messages[2].content",
 * "start":10,"end":42,"via":"base64"  (no text of the prompt). */
int	ocss_sanitize_finding_json(const struct ocss_sanitize_finding *,
	    struct ocss_buf *);

const char *ocss_sanitize_status_name(enum ocss_sanitize_status);

#endif
