/*
 * Pre-execution governance of tool calls.
 *
 * For a request that carries tools or tool calls (OpenAI format: `tools`,
 * `functions`, assistant `tool_calls` / `function_call`), classify each
 * action's intent (conf/intent-patterns.json), build a plan, check it
 * against conf/governance-policies.json with the session's history, and
 * decide ALLOW, BLOCK or REQUIRE_APPROVAL.  Plans, approvals and sessions
 * live in the store, so every worker sees the same state.
 *
 * struct ocss_gov is read-only after load and shared by threads; the store
 * handle passed in is the calling thread's.
 */
#ifndef OCSS_GOVERNANCE_H
#define OCSS_GOVERNANCE_H

#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "store.h"

struct ocss_gov;

enum ocss_gov_decision {
	OCSS_GOV_NONE,		/* no tools in the request: not governed */
	OCSS_GOV_ALLOW,		/* forward, with plan id and token */
	OCSS_GOV_BLOCK,		/* 403 */
	OCSS_GOV_APPROVAL,	/* 202: held for an operator */
	OCSS_GOV_INVALID	/* 403: bad, stale or foreign plan headers */
};

struct ocss_gov_result {
	enum ocss_gov_decision decision;
	char		 plan_id[33];
	char		 approval_id[33];
	char		 session[65];
	struct ocss_buf	 token;		/* for the upstream, on ALLOW */
	struct ocss_buf	 body;		/* JSON answer for 202 / 403 */
	struct ocss_buf	 audit;		/* extra audit members */
	const char	*reason;	/* short, for the audit line */
};

/* What the gateway knows about the request besides its body. */
struct ocss_gov_input {
	json_object	*body;		/* parsed request body */
	const char	*plan_id;	/* x-governance-plan-id, or NULL */
	const char	*token;		/* x-governance-token, or NULL */
	const char	*session;	/* session header, or NULL */
	const char	*requester;	/* who asks (for self-approval) */
	int64_t		 now_ms;
};

/* Load and compile conf_dir's intent patterns and policies.  NULL with err
 * naming the file, JSON path and fix when something is wrong. */
struct ocss_gov	*ocss_gov_load(const struct ocss_config *, struct ocss_err *);
void		 ocss_gov_free(struct ocss_gov *);

/* Decide on one request.  -1 on a store error (the caller fails closed). */
int	ocss_gov_evaluate(struct ocss_gov *, struct ocss_store *,
	    const struct ocss_gov_input *, struct ocss_gov_result *,
	    struct ocss_err *);
void	ocss_gov_result_free(struct ocss_gov_result *);

/*
 * The REST API under /governance (sub is the path after it, "" or "/...").
 * Fills out with a JSON body and returns the HTTP status.  who is recorded
 * for audit.  *audit_event and *audit_reason (static strings) say what to
 * log, or stay NULL for reads.
 */
int	ocss_gov_rest(struct ocss_gov *, struct ocss_store *,
	    const char *method, const char *sub, const char *query,
	    const char *body, size_t len, int64_t now_ms,
	    struct ocss_buf *out, const char **audit_reason,
	    struct ocss_buf *audit_extra);

/* Classify one tool call (for tests and `ocss governance`): category name
 * and risk name of tool with JSON arguments (may be NULL). */
void	ocss_gov_classify(const struct ocss_gov *, const char *tool,
	    json_object *args, const char **category, const char **risk);

#endif
