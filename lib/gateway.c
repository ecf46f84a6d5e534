#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "gateway.h"
#include "gateway_int.h"
#include "governance.h"
#include "path.h"
#include "relay.h"
#include "rscan.h"
#include "rules.h"
#include "sanitize.h"
#include "store.h"
#include "upstream.h"

#define JSON_MAX_DEPTH		64
#define GOV_REST_MAX_BODY	65536
#define CLEANUP_EVERY_MS	60000
#define RESPONSE_HOLD_MAX	(16 * 1024 * 1024)

/* The response scanner's state for one proxied answer. */
struct rfilter {
	struct ocss_gw_thread	*t;
	struct ocss_request	*r;
	struct ocss_rscan	*scan;	/* streaming */
	int			 sse;
	int			 skip;	/* binary: not scanned */
	size_t			 seen;	/* findings already reported */
	struct ocss_buf		 hv;	/* X-Prompt-Guard value */
	struct ocss_buf		 tmp;
};

static struct ocss_rules *
load_rules(const struct ocss_config *cfg, const char *name,
    struct ocss_err *err)
{
	struct ocss_buf	 p = OCSS_BUF_INIT;
	struct ocss_rules *r;

	if (ocss_buf_printf(&p, "%s/%s", cfg->conf_dir, name) == -1) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	r = ocss_rules_load(p.data, err);
	ocss_buf_free(&p);
	return r;
}

struct ocss_gateway *
ocss_gateway_new(const struct ocss_config *cfg, struct ocss_err *err)
{
	struct ocss_gateway *g;
	struct ocss_store *st;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	g->cfg = cfg;
	if ((g->auth = ocss_auth_new(cfg->token, err)) == NULL)
		goto fail;
	if (ocss_auth_add_path(g->auth, "/health", OCSS_AUTH_PUBLIC) == -1 ||
	    ocss_auth_add_path(g->auth, OCSS_RELAY_TELEGRAM_PATH,
	    OCSS_AUTH_EXEMPT) == -1 ||
	    ocss_auth_add_path(g->auth, OCSS_RELAY_WHATSAPP_PATH,
	    OCSS_AUTH_EXEMPT) == -1) {
		ocss_err_set(err, "out of memory");
		goto fail;
	}
	if (cfg->operator_token != NULL &&
	    (g->opauth = ocss_auth_new(cfg->operator_token, err)) == NULL)
		goto fail;
	if ((g->audit = ocss_audit_open(cfg->audit_log_path, cfg->audit_fsync,
	    err)) == NULL)
		goto fail;
	/* Open (and migrate) the store once here so a broken state directory
	 * stops the start; threads open their own connections. */
	if ((st = ocss_store_open(cfg->state_dir, err)) == NULL)
		goto fail;
	ocss_store_close(st);
	if (cfg->sanitize_enabled && (g->prompt = load_rules(cfg,
	    "prompt-rules.json", err)) == NULL)
		goto fail;
	if (cfg->rscan_enabled && (g->indirect = load_rules(cfg,
	    "indirect-injection-rules.json", err)) == NULL)
		goto fail;
	if ((g->relay = ocss_relay_new(g, err)) == NULL)
		goto fail;
	if (cfg->gov_enabled) {
		if ((g->gov = ocss_gov_load(cfg, err)) == NULL)
			goto fail;
	} else {
		struct ocss_audit_event e;

		memset(&e, 0, sizeof(e));
		e.event = "startup";
		e.decision = "governance_disabled";
		e.reason = "GOVERNANCE_ENABLED=false: tool calls are not "
		    "governed";
		if (ocss_audit_write(g->audit, &e) == -1 &&
		    cfg->audit_fail_closed) {
			ocss_err_set(err, "audit log %s: cannot write",
			    cfg->audit_log_path);
			goto fail;
		}
	}
	return g;
fail:
	ocss_gateway_free(g);
	return NULL;
}

int
ocss_gateway_start(struct ocss_gateway *g, struct ocss_err *err)
{
	return ocss_relay_start(g->relay, err);
}

void
ocss_gateway_free(struct ocss_gateway *g)
{
	if (g == NULL)
		return;
	/* First: its sender thread uses the rest. */
	ocss_relay_free(g->relay);
	ocss_auth_free(g->auth);
	ocss_auth_free(g->opauth);
	ocss_audit_close(g->audit);
	ocss_gov_free(g->gov);
	ocss_rules_free(g->prompt);
	ocss_rules_free(g->indirect);
	free(g);
}

struct ocss_gw_thread *
ocss_gateway_thread_new(struct ocss_gateway *g, struct ocss_err *err)
{
	struct ocss_gw_thread *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	t->gw = g;
	ocss_sanitize_report_init(&t->srep);
	if ((t->up = ocss_upstream_new(g->cfg, err)) == NULL ||
	    (t->store = ocss_store_open(g->cfg->state_dir, err)) == NULL) {
		ocss_gateway_thread_free(t);
		return NULL;
	}
	if ((g->prompt && (t->psc = ocss_rules_scratch_new(g->prompt)) ==
	    NULL) || (g->indirect && (t->isc =
	    ocss_rules_scratch_new(g->indirect)) == NULL)) {
		ocss_err_set(err, "out of memory");
		ocss_gateway_thread_free(t);
		return NULL;
	}
	return t;
}

void
ocss_gateway_thread_free(struct ocss_gw_thread *t)
{
	if (t == NULL)
		return;
	ocss_upstream_free(t->up);
	ocss_store_close(t->store);
	ocss_rules_scratch_free(t->psc);
	ocss_rules_scratch_free(t->isc);
	ocss_sanitize_report_free(&t->srep);
	ocss_buf_free(&t->out);
	ocss_buf_free(&t->canon);
	ocss_buf_free(&t->target);
	ocss_buf_free(&t->body);
	ocss_buf_free(&t->extra);
	free(t);
}

/*
 * Write one audit line.  Returns 0, or -1 when the line could not be
 * written and the gateway is configured to fail closed: the caller must
 * then refuse the request.
 */
int
ocss_gw_audit(struct ocss_gw_thread *t, const struct ocss_request *r,
    const char *event, const char *decision, const char *reason, int status,
    const char *extra)
{
	struct ocss_audit_event e;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.request_id = r->id;
	e.peer = r->peer;
	e.method = r->method;
	e.path = t->canon.len ? t->canon.data : r->uri;
	e.decision = decision;
	e.reason = reason;
	e.status = status;
	e.extra = extra;
	if (ocss_audit_write(t->gw->audit, &e) == 0)
		return 0;
	fprintf(stderr, "ocss: audit log %s: cannot write (%m); %s\n",
	    t->gw->cfg->audit_log_path, t->gw->cfg->audit_fail_closed ?
	    "refusing requests (OCSS_AUDIT_FAIL_CLOSED)" : "continuing");
	return t->gw->cfg->audit_fail_closed ? -1 : 0;
}

void
ocss_gw_deny(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w, const char *event, int status, const char *code,
    const char *msg, const struct ocss_header *extra, size_t nextra)
{
	(void)ocss_gw_audit(t, r, event, "deny", code, status, NULL);
	(void)ocss_respond_error(w, r, status, code, msg, extra, nextra);
}

static void
health(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	long		 ms = 0;
	int		 up;

	up = ocss_upstream_probe(t->up, &ms);
	if (ocss_buf_printf(&b, "{\"status\":\"%s\",\"upstream\":{\"reachable\""
	    ":%s,\"latency_ms\":%ld}}\n", up ? "ok" : "degraded",
	    up ? "true" : "false", ms) == -1) {
		(void)ocss_respond_error(w, r, 500, "internal", "out of memory",
		    NULL, 0);
		return;
	}
	(void)ocss_respond(w, r, up ? 200 : 503, "application/json", b.data,
	    b.len);
	ocss_buf_free(&b);
}

static int
read_body(struct ocss_gw_thread *t, struct ocss_request *r, size_t max)
{
	ssize_t	 n;

	ocss_buf_reset(&t->body);
	/* Declared too large: refused before a byte is read or reserved. */
	if (r->content_length >= 0 &&
	    (unsigned long long)r->content_length > max)
		return 413;
	if (r->content_length > 0 &&
	    ocss_buf_reserve(&t->body, (size_t)r->content_length) == -1)
		return 500;
	for (;;) {
		if (ocss_buf_reserve(&t->body, 16384) == -1)
			return 500;
		n = r->read(r->read_arg, t->body.data + t->body.len, 16384);
		if (n < 0)
			return 400;
		if (n == 0)
			break;
		t->body.len += (size_t)n;
		if (t->body.len > max)
			return 413;
	}
	t->body.data[t->body.len] = '\0';
	if (r->content_length >= 0 &&
	    t->body.len != (unsigned long long)r->content_length)
		return 400;
	return 0;
}

int
ocss_gw_read_body(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w, const char *event, size_t max,
    const char *too_large)
{
	int	 st;

	switch ((st = read_body(t, r, max))) {
	case 0:
		return 0;
	case 413:
		ocss_gw_deny(t, r, w, event, 413, "body_too_large", too_large,
		    NULL, 0);
		break;
	case 400:
		ocss_gw_deny(t, r, w, event, 400, "bad_body",
		    "request body truncated or unreadable", NULL, 0);
		break;
	default:
		ocss_gw_deny(t, r, w, event, 500, "internal", "out of memory",
		    NULL, 0);
		break;
	}
	return st;
}

static int
is_json(const struct ocss_request *r)
{
	const char *ct = ocss_request_header(r, "Content-Type");

	return ct != NULL && strncasecmp(ct, "application/json", 16) == 0;
}

static int
may_have_body(const struct ocss_request *r)
{
	return r->content_length != 0 && strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0;
}

/* Parse t->body strictly: one JSON value, nothing after it, bounded
 * depth.  NULL when it is not JSON. */
static json_object *
parse_json(struct ocss_gw_thread *t)
{
	struct json_tokener	*tk;
	json_object		*o;

	if ((tk = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tk, t->body.data, (int)t->body.len);
	if (o != NULL && (json_tokener_get_error(tk) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tk) != t->body.len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tk);
	return o;
}

void
ocss_gw_maybe_cleanup(struct ocss_gw_thread *t, int64_t now)
{
	struct ocss_err	 err;

	if (now - t->last_cleanup < CLEANUP_EVERY_MS)
		return;
	t->last_cleanup = now;
	if (ocss_store_cleanup(t->store, now, &err) == -1)
		fprintf(stderr, "ocss: %s\n", err.msg);
}

static void
governance_rest(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w, const char *sub)
{
	const char	*reason = NULL;
	int64_t		 now = ocss_store_now_ms();
	int		 st;

	if (t->gw->gov == NULL) {
		ocss_gw_deny(t, r, w, "governance", 404, "governance_disabled",
		    "governance is off (GOVERNANCE_ENABLED=false)", NULL, 0);
		return;
	}
	ocss_buf_reset(&t->body);
	if (may_have_body(r) && ocss_gw_read_body(t, r, w, "governance",
	    GOV_REST_MAX_BODY, "governance requests are small") != 0)
		return;
	ocss_gw_maybe_cleanup(t, now);
	ocss_buf_reset(&t->out);
	ocss_buf_reset(&t->extra);
	st = ocss_gov_rest(t->gw->gov, t->store, r->method, sub, r->query,
	    t->body.data, t->body.len, now, &t->out, &reason, &t->extra);
	if (st == 500 || t->out.len == 0) {
		ocss_gw_deny(t, r, w, "governance", 500, "internal",
		    "internal error", NULL, 0);
		return;
	}
	/* Operator decisions are audited before they are answered. */
	if (reason != NULL && ocss_gw_audit(t, r, "governance_decision",
	    st == 200 ? "allow" : "deny", reason, st, t->extra.len ?
	    t->extra.data : NULL) == -1) {
		(void)ocss_respond_error(w, r, 503, "audit_unavailable",
		    "the audit log cannot be written", NULL, 0);
		return;
	}
	(void)ocss_respond(w, r, st, "application/json", t->out.data,
	    t->out.len);
}

int
ocss_gw_audit_findings(struct ocss_gw_thread *t, const struct ocss_request *r,
    const char *decision, int status)
{
	const struct ocss_sanitize_report *rep = &t->srep;
	size_t	 i;

	for (i = 0; i < rep->nfindings; i++) {
		ocss_buf_reset(&t->extra);
		if (ocss_sanitize_finding_json(&rep->findings[i], &t->extra))
			ocss_buf_reset(&t->extra);
		if (ocss_gw_audit(t, r, "sanitizer", decision,
		    rep->findings[i].rule_id, status, t->extra.len ?
		    t->extra.data : NULL) == -1)
			return -1;
	}
	return 0;
}

void
ocss_gw_audit_rscan(struct ocss_gw_thread *t, const struct ocss_request *r,
    const struct ocss_rscan_report *rep, size_t from, const char *decision)
{
	size_t	 i;

	for (i = from; i < rep->n; i++) {
		ocss_buf_reset(&t->extra);
		if (ocss_rscan_finding_json(&rep->v[i], &t->extra) == -1)
			ocss_buf_reset(&t->extra);
		(void)ocss_gw_audit(t, r, "response_scan", decision,
		    rep->v[i].rule_id, 0, t->extra.len ? t->extra.data : NULL);
	}
}

/*
 * The prompt sanitizer over a buffered body.  Returns 1 to go on (with
 * *body / *len replaced by the cleaned body when something was stripped),
 * 0 when an answer was sent.
 */
static int
sanitize(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w, const char **body, size_t *len)
{
	enum ocss_sanitize_status st;
	int		 status;

	st = ocss_sanitize_body(t->gw->prompt, t->psc, *body, *len, NULL,
	    &t->srep);
	switch (st) {
	case OCSS_SANITIZE_PASS:
		return 1;
	case OCSS_SANITIZE_STRIPPED:
		if (ocss_gw_audit_findings(t, r, "strip", 0) == -1) {
			(void)ocss_respond_error(w, r, 503, "audit_unavailable",
			    "the audit log cannot be written", NULL, 0);
			return 0;
		}
		*body = t->srep.body.data;
		*len = t->srep.body.len;
		return 1;
	default:
		status = st == OCSS_SANITIZE_ERROR ? 500 : 400;
		if (t->srep.nfindings)
			(void)ocss_gw_audit_findings(t, r, "reject", status);
		else
			(void)ocss_gw_audit(t, r, "sanitizer", "deny",
			    t->srep.reason, status, NULL);
		ocss_buf_reset(&t->out);
		if (ocss_sanitize_error_json(&t->srep, &t->out) == -1) {
			(void)ocss_respond_error(w, r, 500, "internal",
			    "out of memory", NULL, 0);
			return 0;
		}
		(void)ocss_respond(w, r, status, "application/json",
		    t->out.data, t->out.len);
		return 0;
	}
}

/* ---- response scanner, as the upstream's response filter ---- */

static void
rf_audit_new(struct rfilter *f, const struct ocss_rscan_report *rep,
    const char *decision)
{
	ocss_gw_audit_rscan(f->t, f->r, rep, f->seen, decision);
	f->seen = rep->n;
}

static int
rf_head(void *arg, int status, const struct ocss_header *h, size_t n)
{
	struct rfilter	*f = arg;
	const char	*ct = NULL;
	size_t		 i;

	(void)status;
	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, "Content-Type") == 0)
			ct = h[i].value;
	if (ct != NULL && strncasecmp(ct, "text/event-stream", 17) == 0) {
		f->sse = 1;
		f->scan = ocss_rscan_new(f->t->gw->indirect, f->t->isc,
		    OCSS_RSCAN_SSE, 0);
		return 0;
	}
	/* What a model writes is JSON or text: hold it to set the header.
	 * Binary answers (images, archives) are not text to scan. */
	if (ct == NULL || strncasecmp(ct, "text/", 5) == 0 ||
	    strcasestr(ct, "json") != NULL || strcasestr(ct, "xml") != NULL)
		return 1;
	f->skip = 1;
	return 0;
}

static int
rf_data(void *arg, const char *p, size_t len, struct ocss_writer *w)
{
	struct rfilter	*f = arg;
	struct ocss_err	 err;
	const struct ocss_rscan_report *rep;
	size_t		 i;
	int		 n, cut;

	if (f->skip)
		return 0;
	if (f->scan == NULL && (f->scan = ocss_rscan_new(f->t->gw->indirect,
	    f->t->isc, OCSS_RSCAN_TEXT, 0)) == NULL) {
		f->skip = 1;
		(void)ocss_gw_audit(f->t, f->r, "response_scan", "error",
		    "out of memory: not scanned", 0, NULL);
		return 0;
	}
	if ((n = ocss_rscan_feed(f->scan, p, len, &err)) == -1) {
		(void)ocss_gw_audit(f->t, f->r, "response_scan", "error",
		    err.msg, 0, NULL);
		return 0;
	}
	if (n == 0)
		return 0;
	rep = ocss_rscan_findings(f->scan);
	cut = ocss_rscan_should_cut(f->scan);
	ocss_buf_reset(&f->tmp);
	for (i = f->seen; f->sse && i < rep->n; i++)
		(void)ocss_rscan_announce(&rep->v[i], &f->tmp);
	rf_audit_new(f, rep, cut ? "cut" : "flag");
	if (cut) {
		/* The chunk that completed the match is not passed on. */
		if (ocss_rscan_cut_event(f->scan, &f->tmp) == 0)
			(void)w->body(w->arg, f->tmp.data, f->tmp.len);
		return -1;
	}
	if (f->tmp.len && w->body(w->arg, f->tmp.data, f->tmp.len) == -1)
		return -1;
	if (w->body(w->arg, p, len) == -1)
		return -1;
	return 1;
}

static void
rf_held(void *arg, const char *body, size_t len, struct ocss_header *extra,
    size_t *nextra)
{
	struct rfilter		*f = arg;
	struct ocss_rscan_report rep = OCSS_RSCAN_REPORT_INIT;
	struct ocss_err		 err;

	*nextra = 0;
	if (ocss_rscan_buffer(f->t->gw->indirect, f->t->isc, body, len, &rep,
	    &err) == -1) {
		/* Could not be scanned: say so rather than pass it as clean. */
		(void)ocss_gw_audit(f->t, f->r, "response_scan", "error",
		    err.msg, 0, NULL);
		extra[0].name = "X-Prompt-Guard";
		extra[0].value = "error; not scanned";
		*nextra = 1;
		ocss_rscan_report_free(&rep);
		return;
	}
	rf_audit_new(f, &rep, "flag");
	ocss_buf_reset(&f->hv);
	if (ocss_rscan_header(f->t->gw->indirect, &rep, &f->hv) == 1) {
		extra[0].name = "X-Prompt-Guard";
		extra[0].value = f->hv.data;
		*nextra = 1;
	}
	ocss_rscan_report_free(&rep);
}

/*
 * Governance of a JSON body.  Returns 1 when the request may go on (with
 * *nadd headers for the upstream in add[]), 0 when an answer was sent.
 */
static int
govern(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w, json_object *body, struct ocss_gov_result *res,
    struct ocss_header *add, size_t *nadd)
{
	struct ocss_gov_input	 in;
	struct ocss_err		 err;
	const char		*who;
	const char		*sess;

	memset(&in, 0, sizeof(in));
	in.body = body;
	in.plan_id = ocss_request_header(r, "X-Governance-Plan-Id");
	in.token = ocss_request_header(r, "X-Governance-Token");
	/* The original stack's header names first, then common ones. */
	if ((sess = ocss_request_header(r, "X-Governance-Session")) == NULL &&
	    (sess = ocss_request_header(r, "X-Session-Id")) == NULL)
		sess = ocss_request_header(r, "X-Openclaw-Session-Key");
	in.session = sess;
	if ((who = ocss_request_header(r, "X-User-Id")) == NULL)
		who = ocss_request_header(r, "X-Governance-Requester");
	in.requester = who && *who ? who : r->peer;
	in.now_ms = ocss_store_now_ms();
	ocss_gw_maybe_cleanup(t, in.now_ms);
	if (ocss_gov_evaluate(t->gw->gov, t->store, &in, res, &err) == -1) {
		fprintf(stderr, "ocss: %s\n", err.msg);
		ocss_gw_deny(t, r, w, "governance", 503,
		    "governance_unavailable", "governance state cannot be "
		    "read; refusing (fail closed)", NULL, 0);
		return 0;
	}
	switch (res->decision) {
	case OCSS_GOV_NONE:
		return 1;
	case OCSS_GOV_ALLOW:
		if (ocss_gw_audit(t, r, "governance", "allow", res->reason, 0,
		    res->audit.len ? res->audit.data : NULL) == -1) {
			(void)ocss_respond_error(w, r, 503, "audit_unavailable",
			    "the audit log cannot be written", NULL, 0);
			return 0;
		}
		add[0].name = "X-Governance-Plan-Id";
		add[0].value = res->plan_id;
		add[1].name = "X-Governance-Token";
		add[1].value = res->token.data;
		*nadd = 2;
		return 1;
	case OCSS_GOV_APPROVAL:
		if (ocss_gw_audit(t, r, "governance", "require_approval",
		    res->reason, 202, res->audit.data) == -1) {
			(void)ocss_respond_error(w, r, 503, "audit_unavailable",
			    "the audit log cannot be written", NULL, 0);
			return 0;
		}
		(void)ocss_respond(w, r, 202, "application/json",
		    res->body.data, res->body.len);
		return 0;
	default:
		(void)ocss_gw_audit(t, r, "governance", "deny", res->reason,
		    403, res->audit.len ? res->audit.data : NULL);
		(void)ocss_respond(w, r, 403, "application/json",
		    res->body.data, res->body.len);
		return 0;
	}
}

static void
proxy(struct ocss_gw_thread *t, struct ocss_request *r, struct ocss_writer *w)
{
	const struct ocss_config *cfg = t->gw->cfg;
	struct ocss_fwd		 f;
	struct ocss_fwd_result	 res;
	struct ocss_gov_result	 gres;
	struct ocss_header	 add[2];
	struct ocss_resp_filter	 filt;
	struct rfilter		 rf;
	struct ocss_err		 err;
	json_object		*json = NULL;
	int			 status;
	const char		*code, *msg;

	memset(&f, 0, sizeof(f));
	memset(&gres, 0, sizeof(gres));
	memset(&rf, 0, sizeof(rf));
	f.req = r;
	if (r->content_length >= 0 &&
	    (unsigned long long)r->content_length > cfg->max_body) {
		ocss_gw_deny(t, r, w, "request", 413, "body_too_large",
		    "request body exceeds OCSS_MAX_BODY", NULL, 0);
		return;
	}
	/* JSON bodies (and anything for the API under /v1/) are what the
	 * inspecting stages read: take them whole.  Anything else streams
	 * through as it arrives. */
	if (may_have_body(r) && (is_json(r) ||
	    strncmp(t->canon.data, "/v1/", 4) == 0)) {
		if (ocss_gw_read_body(t, r, w, "request", cfg->max_body,
		    "request body exceeds OCSS_MAX_BODY") != 0)
			return;
		f.body = t->body.data;
		f.body_len = t->body.len;
		json = t->body.len ? parse_json(t) : NULL;
		/* Declared JSON must be JSON: a lenient upstream parser must
		 * not see tool calls the inspection could not. */
		if (json == NULL && is_json(r) && t->body.len) {
			ocss_gw_deny(t, r, w, "request", 400, "bad_json",
			    "the body is not valid JSON (or nested deeper "
			    "than 64)", NULL, 0);
			return;
		}
		if (json != NULL && t->gw->gov != NULL &&
		    !govern(t, r, w, json, &gres, add, &f.nadd))
			goto done;
		f.add = add;
		if (t->gw->prompt != NULL && !sanitize(t, r, w, &f.body,
		    &f.body_len))
			goto done;
	}
	if (t->gw->indirect != NULL) {
		rf.t = t;
		rf.r = r;
		filt.head = rf_head;
		filt.data = rf_data;
		filt.held = rf_held;
		filt.arg = &rf;
		filt.hold_max = RESPONSE_HOLD_MAX;
		f.filter = &filt;
	}

	ocss_buf_reset(&t->target);
	if (ocss_path_encode(t->canon.data, t->canon.len, &t->target) == -1 ||
	    (*r->query && (ocss_buf_putc(&t->target, '?') == -1 ||
	    ocss_buf_puts(&t->target, r->query) == -1))) {
		ocss_gw_deny(t, r, w, "request", 500, "internal",
		    "out of memory", NULL, 0);
		goto done;
	}
	f.target = t->target.data;

	if (ocss_gw_audit(t, r, "proxy", "allow", "authenticated", 0,
	    NULL) == -1) {
		(void)ocss_respond_error(w, r, 503, "audit_unavailable",
		    "the audit log cannot be written", NULL, 0);
		goto done;
	}
	if (ocss_upstream_forward(t->up, &f, w, &res) == 0) {
		/* What an unterminated last event still held. */
		if (rf.scan != NULL && ocss_rscan_finish(rf.scan, &err) > 0)
			rf_audit_new(&rf, ocss_rscan_findings(rf.scan), "flag");
		goto done;
	}
	if (res.outcome == OCSS_FWD_CUT) {
		(void)ocss_gw_audit(t, r, "response_scan", "cut",
		    "stream cut by an indirect-injection rule", res.status,
		    NULL);
		goto done;
	}

	switch (res.outcome) {
	case OCSS_FWD_CONNECT:
		status = 502; code = "upstream_unreachable";
		msg = "the upstream cannot be reached";
		break;
	case OCSS_FWD_TIMEOUT:
		status = 504; code = "upstream_timeout";
		msg = "the upstream did not answer in time";
		break;
	case OCSS_FWD_TOO_LARGE:
		status = 413; code = "body_too_large";
		msg = "request body exceeds OCSS_MAX_BODY";
		break;
	case OCSS_FWD_BAD_BODY:
		status = 400; code = "bad_body";
		msg = "request body truncated or unreadable";
		break;
	case OCSS_FWD_INTERNAL:
		status = 500; code = "internal";
		msg = "internal error";
		break;
	case OCSS_FWD_CLIENT_GONE:
		status = 0; code = "client_gone"; msg = NULL;
		break;
	default:
		status = 502; code = "upstream_error";
		msg = "the upstream answer was broken or cut short";
		break;
	}
	/* On memory exhaustion the line goes out without the details. */
	ocss_buf_reset(&t->extra);
	if (ocss_buf_puts(&t->extra, "\"detail\":\"") == -1 ||
	    ocss_buf_json_str(&t->extra, res.detail,
	    strlen(res.detail)) == -1 ||
	    ocss_buf_printf(&t->extra, "\",\"upstream_status\":%d,"
	    "\"bytes_down\":%lld,\"head_sent\":%s", res.status,
	    res.bytes_down, res.head_sent ? "true" : "false") == -1)
		ocss_buf_reset(&t->extra);
	(void)ocss_gw_audit(t, r, "upstream_error", "error", code,
	    res.head_sent ? res.status : status, t->extra.data);
	if (!res.head_sent && status != 0)
		(void)ocss_respond_error(w, r, status, code, msg, NULL, 0);
done:
	json_object_put(json);
	ocss_gov_result_free(&gres);
	ocss_rscan_free(rf.scan);
	ocss_buf_free(&rf.hv);
	ocss_buf_free(&rf.tmp);
}

void
ocss_gateway_handle(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	struct ocss_err	 err;
	size_t		 plen;
	int		 gov_path;
	static const struct ocss_header www_auth = {
		"WWW-Authenticate", "Bearer realm=\"ocss\""
	};

	ocss_request_set_id(r);
	ocss_buf_reset(&t->canon);
	if (r->too_many_headers) {
		ocss_gw_deny(t, r, w, "request", 431, "too_many_headers",
		    "too many request headers", NULL, 0);
		return;
	}
	plen = strcspn(r->uri, "?");
	if (ocss_path_canon(r->uri, plen, &t->canon, &err) == -1) {
		ocss_buf_reset(&t->canon);
		ocss_gw_deny(t, r, w, "request", 400, "bad_path", err.msg,
		    NULL, 0);
		return;
	}
	switch (ocss_auth_classify(t->gw->auth, t->canon.data)) {
	case OCSS_AUTH_PUBLIC:
		/* The only public path is served here, never proxied. */
		if (strcmp(r->method, "GET") != 0 &&
		    strcmp(r->method, "HEAD") != 0) {
			static const struct ocss_header allow = {
				"Allow", "GET, HEAD"
			};
			(void)ocss_respond_error(w, r, 405,
			    "method_not_allowed", "use GET", &allow, 1);
			return;
		}
		health(t, r, w);
		return;
	case OCSS_AUTH_EXEMPT:
		/* Webhooks carry their own signatures. */
		ocss_relay_handle(t, r, w);
		return;
	case OCSS_AUTH_PROTECTED:
		break;
	}
	/* Operator decisions may have their own token, so that an agent
	 * holding the gateway token cannot approve its own plans. */
	gov_path = strcmp(t->canon.data, "/governance") == 0 ||
	    strncmp(t->canon.data, "/governance/", 12) == 0;
	switch (ocss_auth_check(gov_path && t->gw->opauth ? t->gw->opauth :
	    t->gw->auth, ocss_request_header(r, "Authorization"))) {
	case OCSS_AUTH_MISSING:
		ocss_gw_deny(t, r, w, "auth", 401, "unauthorized",
		    "missing Bearer token", &www_auth, 1);
		return;
	case OCSS_AUTH_BAD:
		ocss_gw_deny(t, r, w, "auth", 403, "forbidden", "invalid token",
		    NULL, 0);
		return;
	case OCSS_AUTH_OK:
		break;
	}
	if (gov_path) {
		governance_rest(t, r, w, t->canon.data + 11);
		return;
	}
	proxy(t, r, w);
}
