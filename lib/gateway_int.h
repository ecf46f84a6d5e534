/*
 * What the pipeline's modules share inside libocss: the gateway and its
 * per-thread state, and the helpers every handler uses.  Not for front
 * ends: they see gateway.h only.
 */
#ifndef OCSS_GATEWAY_INT_H
#define OCSS_GATEWAY_INT_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "request.h"
#include "sanitize.h"

struct ocss_auth;
struct ocss_audit;
struct ocss_gov;
struct ocss_rules;
struct ocss_rules_scratch;
struct ocss_relay;
struct ocss_store;
struct ocss_upstream;

struct ocss_gateway {
	const struct ocss_config *cfg;
	struct ocss_auth	*auth;
	struct ocss_auth	*opauth; /* /governance, if its own token */
	struct ocss_audit	*audit;
	struct ocss_gov		*gov;	/* NULL: GOVERNANCE_ENABLED=false */
	struct ocss_rules	*prompt; /* NULL: sanitizer off */
	struct ocss_rules	*indirect; /* NULL: response scan off */
	struct ocss_relay	*relay;	/* NULL: no webhook platform set */
};

struct ocss_gw_thread {
	struct ocss_gateway	*gw;
	struct ocss_upstream	*up;
	struct ocss_store	*store;
	int64_t			 last_cleanup;
	struct ocss_buf		 canon;	/* decoded canonical path */
	struct ocss_buf		 target; /* encoded path + query for upstream */
	struct ocss_buf		 body;	/* buffered request body */
	struct ocss_buf		 extra;	/* extra audit members */
	struct ocss_buf		 out;	/* JSON answers built here */
	struct ocss_rules_scratch *psc;	/* prompt rules scratch */
	struct ocss_rules_scratch *isc;	/* indirect rules scratch */
	struct ocss_sanitize_report srep;
};

/*
 * Write one audit line for request r.  Returns 0, or -1 when the line
 * could not be written and the gateway is configured to fail closed: the
 * caller must then refuse the request.
 */
int	ocss_gw_audit(struct ocss_gw_thread *, const struct ocss_request *r,
	    const char *event, const char *decision, const char *reason,
	    int status, const char *extra);
/* One audit line per finding of t->srep (event "sanitizer"); -1 as for
 * ocss_gw_audit(). */
int	ocss_gw_audit_findings(struct ocss_gw_thread *,
	    const struct ocss_request *r, const char *decision, int status);
/* One audit line per response-scanner finding from index from on. */
struct ocss_rscan_report;
void	ocss_gw_audit_rscan(struct ocss_gw_thread *,
	    const struct ocss_request *r, const struct ocss_rscan_report *,
	    size_t from, const char *decision);
/* Refuse: audit line, then JSON error. */
void	ocss_gw_deny(struct ocss_gw_thread *, struct ocss_request *,
	    struct ocss_writer *, const char *event, int status,
	    const char *code, const char *msg, const struct ocss_header *extra,
	    size_t nextra);
/*
 * Read the whole body (at most max bytes, by Content-Length before any
 * byte and by count) into t->body, NUL-terminated.  0, or the status of
 * the refusal it sent and audited as event: 413 (too_large is the
 * message), 400 (truncated) or 500.
 */
int	ocss_gw_read_body(struct ocss_gw_thread *, struct ocss_request *,
	    struct ocss_writer *, const char *event, size_t max,
	    const char *too_large);
/* Expire old state now and then (at most once a minute per thread). */
void	ocss_gw_maybe_cleanup(struct ocss_gw_thread *, int64_t now_ms);

#endif
