/*
 * Response scanner: the indirect-injection rules (lib/rules.h, normally
 * conf/indirect-injection-rules.json) over what the upstream model answers,
 * buffered or streamed.  Same rules engine as the sanitizer.
 *
 * Buffered responses (ocss_rscan_buffer): an OpenAI-format JSON answer is
 * scanned field by field (choices[i].message.content, its tool call
 * arguments, choices[i].text, output[i].content[j].text, content[i].text);
 * any other body as one text.  Findings go to the audit log and to the
 * response header
 *     X-Prompt-Guard: flagged; rules=<id>[,<id>...]; action=<flag|block>
 * (ids in rule order, each once; "block" when a finding's rule says
 * reject; absent when nothing was found).
 *
 * Streamed responses (struct ocss_rscan): feed every chunk as it comes, in
 * order, BEFORE forwarding it.  With OCSS_RSCAN_SSE the scanner parses the
 * event stream and scans the text the model produces (choices[].delta
 * .content, tool call argument fragments, choices[].text, Responses API
 * "delta" strings; other data as is), concatenated across events, so a
 * pattern split across chunks or events is still found.  It keeps the last
 * `overlap` bytes of that text (default OCSS_RSCAN_OVERLAP) and scans them
 * with each new chunk: a match longer than the overlap that straddles
 * chunks can be missed.  Nothing is held back: the caller forwards the chunk
 * after feed() returns, unless the stream must be cut.
 *   New findings: announce each in the stream with ocss_rscan_announce():
 *     : prompt-guard flagged; rule=<id>; severity=<sev>; action=<flag|cut>
 *   an SSE comment line, ignored by SSE clients, visible to operators.
 *   ocss_rscan_should_cut(): a finding's rule says reject.  Then do not
 *   forward the chunk; write ocss_rscan_cut_event() and end the response:
 *     data: {"error":{"code":"prompt_guard","message":"response stopped
 *            by indirect-injection rule <id>","rule":"<id>"}}
 *     data: [DONE]
 *   (OpenAI SDKs raise an APIError on an "error" member.)
 *
 * Ownership: reports and scanners own their findings; rule ids point into
 * the rule set, which must outlive them.  A scanner uses the caller's
 * per-thread scratch; one scanner per response, one thread at a time.
 */
#ifndef OCSS_RSCAN_H
#define OCSS_RSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "rules.h"

#define OCSS_RSCAN_OVERLAP	2048	/* text kept between chunks */
#define OCSS_RSCAN_MAX_EVENT	(1024 * 1024)	/* SSE event data cap */

struct ocss_rscan_finding {
	const char		*rule_id;	/* points into the rule set */
	enum ocss_rule_action	 action;
	enum ocss_rule_severity	 severity;
	char			 field[64];	/* "choices[0].message.content",
						 * "body" or "stream" */
	uint64_t		 start, end;	/* bytes of that field; stream:
						 * of the scanned text so far */
	enum ocss_norm_via	 via;
};

struct ocss_rscan_report {
	struct ocss_rscan_finding	*v;
	size_t				 n, cap;
};
#define OCSS_RSCAN_REPORT_INIT { NULL, 0, 0 }
void	ocss_rscan_report_free(struct ocss_rscan_report *);

/* Whole-buffer scan; appends to rep.  0, or -1 with err (memory, limits:
 * treat as flagged). */
int	ocss_rscan_buffer(const struct ocss_rules *,
	    struct ocss_rules_scratch *, const char *body, size_t len,
	    struct ocss_rscan_report *rep, struct ocss_err *);

/* The X-Prompt-Guard value for rep ("flagged; rules=a,b; action=flag"),
 * appended to b.  Returns 1 when a value was written, 0 when there is
 * nothing to flag, -1 when memory is exhausted. */
int	ocss_rscan_header(const struct ocss_rules *,
	    const struct ocss_rscan_report *, struct ocss_buf *);

enum ocss_rscan_mode {
	OCSS_RSCAN_SSE = 0,	/* text/event-stream */
	OCSS_RSCAN_TEXT		/* any other streamed body: bytes as text */
};

struct ocss_rscan;

/* overlap 0: OCSS_RSCAN_OVERLAP.  NULL when memory is exhausted. */
struct ocss_rscan *ocss_rscan_new(const struct ocss_rules *,
	    struct ocss_rules_scratch *, enum ocss_rscan_mode, size_t overlap);
void	ocss_rscan_free(struct ocss_rscan *);

/* Feed the next chunk.  Returns the number of NEW findings (read them with
 * ocss_rscan_findings() from index old n), or -1 with err. */
int	ocss_rscan_feed(struct ocss_rscan *, const char *data, size_t len,
	    struct ocss_err *);
/* End of stream: scans what is still pending (an unterminated event). */
int	ocss_rscan_finish(struct ocss_rscan *, struct ocss_err *);

const struct ocss_rscan_report *ocss_rscan_findings(const struct ocss_rscan *);
int	ocss_rscan_should_cut(const struct ocss_rscan *);

/* SSE text for the client (see above), appended to b; 0 or -1 (memory). */
int	ocss_rscan_announce(const struct ocss_rscan_finding *,
	    struct ocss_buf *);
int	ocss_rscan_cut_event(const struct ocss_rscan *, struct ocss_buf *);

/* Audit members for one finding ("rule":..,"action":..,"field":..,...). */
int	ocss_rscan_finding_json(const struct ocss_rscan_finding *,
	    struct ocss_buf *);

#endif
