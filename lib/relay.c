#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "gateway.h"
#include "gateway_int.h"
#include "governance.h"
#include "relay.h"
#include "rscan.h"
#include "rules.h"
#include "store.h"
#include "upstream.h"
#include "webhook.h"

#define RATE_WINDOW_MS		60000
#define TG_REPLAY_MS		(24LL * 3600 * 1000) /* Telegram keeps updates
							 * for a day */
#define POLL_MS			500	/* how often idle senders look */
#define ANSWER_MAX		(4u * 1024 * 1024)
#define SEND_ATTEMPTS		8	/* then the reply is given up */
#define CHAT_ATTEMPTS		3	/* upstream unreachable: retries */
#define BACKOFF_BASE_MS		1000
#define BACKOFF_MAX_MS		60000
#define RETRY_AFTER_MAX_MS	3600000
#define PLATFORM_TIMEOUT_S	30
#define RELAY_MODEL		"openclaw"

#define TXT_REFUSED	"Sorry, I can't pass this message on: it looks like " \
	"an attempt to override the assistant's instructions."
#define TXT_BLOCKED	"Sorry, this request is blocked by policy."
#define TXT_APPROVAL	"This request needs an operator's approval before " \
	"it can go on (approval %s)."
#define TXT_QUARANTINE	"Sorry, the skill \"%s\" is quarantined by the " \
	"operator and cannot be used."
#define TXT_TEXT_ONLY	"Sorry, I can only read text messages; the %s was " \
	"not passed on."
#define TXT_UNAVAILABLE	"Sorry, the assistant is not available right now. " \
	"Please try again later."
#define TXT_WITHHELD	"The answer was withheld: it contained text that " \
	"looks like an injected instruction."

struct ocss_relay {
	struct ocss_gateway	*g;
	const struct ocss_config *cfg;
	int			 tg, wa;	/* platform on */
	char			 tg_secret[257];
	struct ocss_cidrs	 trusted;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 th;
	int			 started, stop, kicked;
	/* The sender's own state: used by one thread at a time (the sender
	 * thread, or ocss_relay_run_due's caller). */
	struct ocss_gw_thread	*st;
	CURL			*curl;
	struct ocss_buf		 url, resp, tmp;
};

/* A message on its way in: what the checks decided, for the answer. */
struct verdict {
	int		 status;
	const char	*decision;	/* "queued", "refused", ... */
	const char	*reason;
};

/* ---- set-up ---- */

struct ocss_relay *
ocss_relay_new(struct ocss_gateway *g, struct ocss_err *err)
{
	const struct ocss_config *cfg = g->cfg;
	struct ocss_relay *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	rl->g = g;
	rl->cfg = cfg;
	pthread_mutex_init(&rl->mu, NULL);
	pthread_cond_init(&rl->cv, NULL);
	if (cfg->trusted_proxies != NULL &&
	    ocss_cidrs_parse(cfg->trusted_proxies, &rl->trusted, err) == -1) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		ocss_err_set(err, "OCSS_TRUSTED_PROXIES: %s (use addresses or "
		    "networks like 127.0.0.1, 10.0.0.0/8, ::1)", msg);
		ocss_relay_free(rl);
		return NULL;
	}
	if (cfg->tg_webhook_secret != NULL) {
		snprintf(rl->tg_secret, sizeof(rl->tg_secret), "%s",
		    cfg->tg_webhook_secret);
		rl->tg = 1;
	} else if (cfg->tg_bot_token != NULL) {
		ocss_tg_default_secret(cfg->tg_bot_token, rl->tg_secret);
		rl->tg = 1;
	}
	rl->wa = cfg->wa_app_secret != NULL;
	return rl;
}

void
ocss_relay_free(struct ocss_relay *rl)
{
	if (rl == NULL)
		return;
	if (rl->started) {
		pthread_mutex_lock(&rl->mu);
		rl->stop = 1;
		pthread_cond_signal(&rl->cv);
		pthread_mutex_unlock(&rl->mu);
		pthread_join(rl->th, NULL);
	}
	ocss_gateway_thread_free(rl->st);
	if (rl->curl != NULL)
		curl_easy_cleanup(rl->curl);
	ocss_buf_free(&rl->url);
	ocss_buf_free(&rl->resp);
	ocss_buf_free(&rl->tmp);
	ocss_cidrs_free(&rl->trusted);
	pthread_mutex_destroy(&rl->mu);
	pthread_cond_destroy(&rl->cv);
	explicit_bzero(rl->tg_secret, sizeof(rl->tg_secret));
	free(rl);
}

static void
kick(struct ocss_relay *rl)
{
	pthread_mutex_lock(&rl->mu);
	rl->kicked = 1;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}

/* ---- small helpers ---- */

/* The decoded value of key in a query string, into b; 1 found, 0 not. */
static int
query_arg(const char *q, const char *key, struct ocss_buf *b)
{
	size_t	 kl = strlen(key), n;
	const char *p, *e;
	int	 hi, lo;

	ocss_buf_reset(b);
	for (p = q; p && *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) < kl + 1 || strncmp(p, key, kl) != 0 ||
		    p[kl] != '=')
			continue;
		for (p += kl + 1; p < e; p++) {
			if (*p == '+')
				n = ocss_buf_putc(b, ' ');
			else if (*p == '%' && e - p > 2 &&
			    (hi = ocss_hexval(p[1])) >= 0 &&
			    (lo = ocss_hexval(p[2])) >= 0) {
				n = ocss_buf_putc(b, (char)(hi * 16 + lo));
				p += 2;
			} else
				n = ocss_buf_putc(b, *p);
			if (n != 0)
				return 0;
		}
		return ocss_buf_putc(b, '\0') == 0 ? (b->len--, 1) : 0;
	}
	return 0;
}

static int64_t
backoff_ms(int attempts)
{
	int64_t	 d = BACKOFF_BASE_MS;

	while (attempts-- > 1 && d < BACKOFF_MAX_MS)
		d *= 2;
	return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

static void
respond_json(struct ocss_writer *w, const struct ocss_request *r, int status,
    const char *decision, const char *reason)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;

	if (ocss_buf_printf(&b, "{\"ok\":%s,\"decision\":\"%s\"",
	    status < 300 ? "true" : "false", decision) == 0 &&
	    (reason == NULL || (ocss_buf_puts(&b, ",\"reason\":\"") == 0 &&
	    ocss_buf_json_str(&b, reason, strlen(reason)) == 0 &&
	    ocss_buf_putc(&b, '"') == 0)) && ocss_buf_puts(&b, "}\n") == 0)
		(void)ocss_respond(w, r, status, "application/json", b.data,
		    b.len);
	else
		(void)ocss_respond_error(w, r, 500, "internal",
		    "out of memory", NULL, 0);
	ocss_buf_free(&b);
}

/* ---- the outbox ---- */

static int
queue(struct ocss_gw_thread *t, const struct ocss_request *r,
    const char *kind, const char *platform, const struct ocss_wh_msg *m,
    const char *payload)
{
	struct ocss_job_rec j;
	struct ocss_err	 err;
	int64_t		 now = ocss_store_now_ms();

	memset(&j, 0, sizeof(j));
	j.kind = (char *)kind;
	j.platform = (char *)platform;
	j.chat = m->chat;
	j.phone_id = m->phone_id;
	j.request_id = (char *)r->id;
	j.peer = (char *)r->peer;
	j.payload = (char *)payload;
	j.next_at = now;
	j.created = now;
	if (ocss_store_job_put(t->store, &j, NULL, &err) == -1) {
		fprintf(stderr, "ocss: %s\n", err.msg);
		return -1;
	}
	if (t->gw->relay != NULL)
		kick(t->gw->relay);
	return 0;
}

/* Queue a polite refusal; failures are audited (the platform still gets
 * its answer: there is nothing it could do about them). */
static void
queue_reply(struct ocss_gw_thread *t, const struct ocss_request *r,
    const char *platform, const struct ocss_wh_msg *m, const char *text)
{
	if (m->chat == NULL || queue(t, r, "reply", platform, m, text) == 0)
		return;
	(void)ocss_gw_audit(t, r, "webhook_reply", "error",
	    "reply could not be queued", 0, NULL);
}

/* ---- checks on the request path ---- */

struct qmatch {
	const char	*text;
	char		*hit;
};

static int
word_char(int c)
{
	return isalnum(c) || c == '-' || c == '_' || (c & 0x80);
}

static void
qmatch_fn(void *arg, const struct ocss_quarantine_rec *q)
{
	struct qmatch	*m = arg;
	size_t		 n = strlen(q->name);
	const char	*p;

	if (m->hit != NULL || n == 0)
		return;
	for (p = m->text; (p = strcasestr(p, q->name)) != NULL; p++)
		if ((p == m->text || !word_char((unsigned char)p[-1])) &&
		    !word_char((unsigned char)p[n])) {
			m->hit = strdup(q->name);
			return;
		}
}

/* The OpenAI chat request for OpenClaw, into b. */
static int
chat_body(struct ocss_buf *b, const char *platform, const char *chat,
    const char *text, size_t len)
{
	ocss_buf_reset(b);
	return ocss_buf_puts(b, "{\"model\":\"" RELAY_MODEL "\",\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"") ||
	    ocss_buf_json_str(b, text, len) ||
	    ocss_buf_printf(b, "\"}],\"user\":\"%s:", platform) ||
	    ocss_buf_json_str(b, chat, strlen(chat)) ||
	    ocss_buf_puts(b, "\"}") ? -1 : 0;
}

/*
 * One message through sanitizer, governance and quarantine, then queued
 * for OpenClaw.  Refusals queue a reply instead.
 */
static struct verdict
relay_message(struct ocss_gw_thread *t, struct ocss_request *r,
    const char *platform, struct ocss_wh_msg *m)
{
	struct verdict		 v = { 200, "queued", NULL };
	struct ocss_gov_input	 in;
	struct ocss_gov_result	 gres;
	struct ocss_err		 err;
	struct qmatch		 qm = { NULL, NULL };
	struct ocss_buf		 sess = OCSS_BUF_INIT, who = OCSS_BUF_INIT;
	json_object		*json = NULL;
	const char		*text = m->text;
	size_t			 len;
	char			*msg = NULL;

	memset(&gres, 0, sizeof(gres));
	if (m->kind == OCSS_WH_OTHER || m->chat == NULL) {
		(void)ocss_gw_audit(t, r, "webhook", "ignore",
		    "not a message", 200, NULL);
		return (struct verdict){ 200, "ignored", "not a message" };
	}
	if (text == NULL || *text == '\0') {
		(void)ocss_gw_audit(t, r, "webhook", "ignore", m->attachment ?
		    m->attachment : "empty message", 200, NULL);
		if (asprintf(&msg, TXT_TEXT_ONLY, m->attachment ?
		    m->attachment : "message") != -1) {
			queue_reply(t, r, platform, m, msg);
			free(msg);
		}
		return (struct verdict){ 200, "ignored", "no text" };
	}
	len = strlen(text);

	if (t->gw->prompt != NULL) {
		switch (ocss_sanitize_text(t->gw->prompt, t->psc, text, len,
		    "message.text", &t->srep)) {
		case OCSS_SANITIZE_PASS:
			break;
		case OCSS_SANITIZE_STRIPPED:
			if (ocss_gw_audit_findings(t, r, "strip", 0) == -1)
				return (struct verdict){ 503, "error",
				    "audit_unavailable" };
			text = t->srep.body.data;
			len = t->srep.body.len;
			break;
		default:
			if (t->srep.nfindings)
				(void)ocss_gw_audit_findings(t, r, "reject", 0);
			else
				(void)ocss_gw_audit(t, r, "sanitizer", "deny",
				    t->srep.reason, 200, NULL);
			queue_reply(t, r, platform, m, TXT_REFUSED);
			return (struct verdict){ 200, "refused",
			    t->srep.rule_id ? t->srep.rule_id : "bad_input" };
		}
	}
	if (chat_body(&t->body, platform, m->chat, text, len) == -1)
		return (struct verdict){ 500, "error", "out of memory" };

	if (t->gw->gov != NULL) {
		memset(&in, 0, sizeof(in));
		if ((json = json_tokener_parse(t->body.data)) == NULL ||
		    ocss_buf_printf(&sess, "%s:%s", platform, m->chat) == -1 ||
		    ocss_buf_printf(&who, "%s:%s", platform, m->sender ?
		    m->sender : m->chat) == -1) {
			v = (struct verdict){ 500, "error", "out of memory" };
			goto out;
		}
		in.body = json;
		in.session = sess.data;
		in.requester = who.data;
		in.now_ms = ocss_store_now_ms();
		ocss_gw_maybe_cleanup(t, in.now_ms);
		if (ocss_gov_evaluate(t->gw->gov, t->store, &in, &gres,
		    &err) == -1) {
			fprintf(stderr, "ocss: %s\n", err.msg);
			(void)ocss_gw_audit(t, r, "governance", "deny",
			    "governance_unavailable", 503, NULL);
			v = (struct verdict){ 503, "error",
			    "governance_unavailable" };
			goto out;
		}
		switch (gres.decision) {
		case OCSS_GOV_NONE:
		case OCSS_GOV_ALLOW:
			break;
		case OCSS_GOV_APPROVAL:
			(void)ocss_gw_audit(t, r, "governance",
			    "require_approval", gres.reason, 202,
			    gres.audit.len ? gres.audit.data : NULL);
			if (asprintf(&msg, TXT_APPROVAL,
			    gres.approval_id) != -1)
				queue_reply(t, r, platform, m, msg);
			v = (struct verdict){ 202, "require_approval",
			    gres.reason };
			goto out;
		default:
			(void)ocss_gw_audit(t, r, "governance", "deny",
			    gres.reason, 403, gres.audit.len ?
			    gres.audit.data : NULL);
			queue_reply(t, r, platform, m, TXT_BLOCKED);
			v = (struct verdict){ 403, "blocked", gres.reason };
			goto out;
		}
	}

	/* A message that names a quarantined skill does not reach the
	 * agent that would run it. */
	qm.text = text;
	if (ocss_store_quarantine_list(t->store, "quarantined", qmatch_fn, &qm,
	    &err) == -1) {
		fprintf(stderr, "ocss: %s\n", err.msg);
		(void)ocss_gw_audit(t, r, "quarantine", "deny",
		    "quarantine state cannot be read", 503, NULL);
		v = (struct verdict){ 503, "error", "quarantine_unavailable" };
		goto out;
	}
	if (qm.hit != NULL) {
		ocss_buf_reset(&t->extra);
		if (ocss_buf_puts(&t->extra, "\"skill\":\"") == -1 ||
		    ocss_buf_json_str(&t->extra, qm.hit, strlen(qm.hit)) ||
		    ocss_buf_putc(&t->extra, '"'))
			ocss_buf_reset(&t->extra);
		(void)ocss_gw_audit(t, r, "quarantine", "deny",
		    "message names a quarantined skill", 403,
		    t->extra.len ? t->extra.data : NULL);
		if (asprintf(&msg, TXT_QUARANTINE, qm.hit) != -1)
			queue_reply(t, r, platform, m, msg);
		v = (struct verdict){ 403, "blocked", "skill_quarantined" };
		goto out;
	}

	ocss_buf_reset(&t->extra);
	if (ocss_buf_printf(&t->extra, "\"platform\":\"%s\",\"chat\":\"",
	    platform) || ocss_buf_json_str(&t->extra, m->chat,
	    strlen(m->chat)) || ocss_buf_puts(&t->extra, "\",\"message\":\"") ||
	    ocss_buf_json_str(&t->extra, m->id ? m->id : "", m->id ?
	    strlen(m->id) : 0) || ocss_buf_putc(&t->extra, '"'))
		ocss_buf_reset(&t->extra);
	if (ocss_gw_audit(t, r, "webhook", "allow", "queued for the "
	    "upstream", 200, t->extra.len ? t->extra.data : NULL) == -1) {
		v = (struct verdict){ 503, "error", "audit_unavailable" };
		goto out;
	}
	if (queue(t, r, "chat", platform, m, t->body.data) == -1)
		v = (struct verdict){ 503, "error", "outbox_unavailable" };
out:
	json_object_put(json);
	ocss_gov_result_free(&gres);
	ocss_buf_free(&sess);
	ocss_buf_free(&who);
	free(qm.hit);
	free(msg);
	return v;
}

/* Per client address, shared by all workers through the store.  1 when
 * the request may go on, 0 when answered. */
static int
rate_ok(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	const struct ocss_config *cfg = t->gw->cfg;
	struct ocss_err	 err;
	struct ocss_header h;
	char		 ip[64], key[80], ra[24];
	int64_t		 retry;
	int		 rc;

	if (cfg->wh_rate_limit == 0)
		return 1;
	ocss_client_ip(&t->gw->relay->trusted, r->peer,
	    ocss_request_header(r, "X-Forwarded-For"), ip, sizeof(ip));
	snprintf(key, sizeof(key), "webhook:%s", ip);
	rc = ocss_store_rate_hit(t->store, key, ocss_store_now_ms(),
	    RATE_WINDOW_MS, (int)cfg->wh_rate_limit, &retry, &err);
	if (rc == 0)
		return 1;
	if (rc == -1) {
		fprintf(stderr, "ocss: %s\n", err.msg);
		ocss_gw_deny(t, r, w, "webhook", 503, "rate_limit_unavailable",
		    "rate-limit state cannot be read; refusing (fail closed)",
		    NULL, 0);
		return 0;
	}
	snprintf(ra, sizeof(ra), "%lld", (long long)((retry + 999) / 1000));
	h.name = "Retry-After";
	h.value = ra;
	ocss_gw_deny(t, r, w, "webhook", 429, "rate_limited",
	    "too many webhook requests from this address", &h, 1);
	return 0;
}

/* The raw body, measured before anything parses it.  1 go on, 0 answered. */
static int
body_ok(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	return ocss_gw_read_body(t, r, w, "webhook", t->gw->cfg->wh_max_body,
	    "webhook body exceeds WEBHOOK_MAX_BODY") == 0;
}

static void
telegram(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	struct ocss_relay *rl = t->gw->relay;
	struct ocss_wh_msg m;
	struct ocss_err	 err;
	struct verdict	 v;
	int64_t		 now;
	int		 rc;

	if (!ocss_wh_secret_equal(rl->tg_secret, ocss_request_header(r,
	    "X-Telegram-Bot-Api-Secret-Token"))) {
		ocss_gw_deny(t, r, w, "webhook", 401, "bad_signature",
		    "missing or wrong X-Telegram-Bot-Api-Secret-Token", NULL,
		    0);
		return;
	}
	if (!rate_ok(t, r, w) || !body_ok(t, r, w))
		return;
	memset(&m, 0, sizeof(m));
	if (ocss_tg_parse(t->body.data, t->body.len, &m, &err) == -1) {
		ocss_gw_deny(t, r, w, "webhook", 400, "bad_payload", err.msg,
		    NULL, 0);
		return;
	}
	now = ocss_store_now_ms();
	rc = ocss_store_seen(t->store, "telegram", m.id, now, now +
	    TG_REPLAY_MS, &err);
	if (rc != 0) {
		if (rc == -1)
			fprintf(stderr, "ocss: %s\n", err.msg);
		ocss_gw_deny(t, r, w, "webhook", rc == 1 ? 409 : 503,
		    rc == 1 ? "replay" : "replay_state_unavailable",
		    rc == 1 ? "update_id already seen" : "replay state cannot "
		    "be read; refusing (fail closed)", NULL, 0);
		ocss_wh_msg_free(&m);
		return;
	}
	v = relay_message(t, r, "telegram", &m);
	respond_json(w, r, v.status, v.decision, v.reason);
	ocss_wh_msg_free(&m);
}

static void
whatsapp_verify(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	const struct ocss_config *cfg = t->gw->cfg;
	struct ocss_buf	 mode = OCSS_BUF_INIT, tok = OCSS_BUF_INIT,
			 ch = OCSS_BUF_INIT;

	if (cfg->wa_verify_token == NULL) {
		ocss_gw_deny(t, r, w, "webhook", 404, "not_found",
		    "WHATSAPP_VERIFY_TOKEN is not set", NULL, 0);
	} else if (!query_arg(r->query, "hub.mode", &mode) ||
	    strcmp(mode.data, "subscribe") != 0 ||
	    !query_arg(r->query, "hub.challenge", &ch) ||
	    !query_arg(r->query, "hub.verify_token", &tok) ||
	    !ocss_wh_secret_equal(cfg->wa_verify_token, tok.data)) {
		ocss_gw_deny(t, r, w, "webhook", 403, "verification_failed",
		    "hub.mode, hub.verify_token or hub.challenge wrong",
		    NULL, 0);
	} else {
		(void)ocss_gw_audit(t, r, "webhook", "allow",
		    "whatsapp verification", 200, NULL);
		(void)ocss_respond(w, r, 200, "text/plain", ch.data, ch.len);
	}
	ocss_buf_free(&mode);
	ocss_buf_free(&tok);
	ocss_buf_free(&ch);
}

static void
whatsapp(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	const struct ocss_config *cfg = t->gw->cfg;
	struct ocss_wh_msgs ms = { NULL, 0 };
	struct ocss_err	 err;
	struct verdict	 v = { 200, "ignored", "no messages" }, one;
	const char	*why;
	int64_t		 now, win = cfg->wa_replay_window * 1000LL;
	size_t		 i, fresh = 0;
	int		 rc;

	/* The signature covers the raw body: it is read (within the size
	 * limit) before anything parses it. */
	if (!body_ok(t, r, w))
		return;
	if (!ocss_wa_check_signature(cfg->wa_app_secret, t->body.data,
	    t->body.len, ocss_request_header(r, "X-Hub-Signature-256"),
	    &why)) {
		ocss_gw_deny(t, r, w, "webhook", 401, "bad_signature", why,
		    NULL, 0);
		return;
	}
	if (!rate_ok(t, r, w))
		return;
	if (ocss_wa_parse(t->body.data, t->body.len, &ms, &err) == -1) {
		ocss_gw_deny(t, r, w, "webhook", 400, "bad_payload", err.msg,
		    NULL, 0);
		return;
	}
	now = ocss_store_now_ms();
	for (i = 0; i < ms.n; i++) {
		struct ocss_wh_msg *m = &ms.v[i];
		int64_t ts = m->timestamp * 1000LL;

		if (ts < now - win || ts > now + win) {
			(void)ocss_gw_audit(t, r, "webhook", "deny",
			    "replay_window", 409, NULL);
			continue;
		}
		rc = ocss_store_seen(t->store, "whatsapp", m->id, now,
		    now + 2 * win, &err);
		if (rc == -1) {
			fprintf(stderr, "ocss: %s\n", err.msg);
			v = (struct verdict){ 503, "error",
			    "replay_state_unavailable" };
			(void)ocss_gw_audit(t, r, "webhook", "deny", v.reason,
			    503, NULL);
			goto out;
		}
		if (rc == 1) {
			(void)ocss_gw_audit(t, r, "webhook", "deny",
			    "replay", 409, NULL);
			continue;
		}
		if (m->phone_id == NULL && cfg->wa_phone_id != NULL)
			m->phone_id = strdup(cfg->wa_phone_id);
		one = relay_message(t, r, "whatsapp", m);
		/* The first fresh message's verdict, unless a later one
		 * failed: a failure must make the platform retry. */
		if (fresh++ == 0 || one.status >= 500)
			v = one;
	}
	if (ms.n > 0 && fresh == 0)
		v = (struct verdict){ 409, "replay",
		    "message ids already seen or outside the window" };
out:
	if (v.status == 409)
		(void)ocss_respond_error(w, r, 409, "replay", v.reason, NULL,
		    0);
	else
		respond_json(w, r, v.status, v.decision, v.reason);
	ocss_wh_msgs_free(&ms);
}

void
ocss_relay_handle(struct ocss_gw_thread *t, struct ocss_request *r,
    struct ocss_writer *w)
{
	struct ocss_relay *rl = t->gw->relay;
	int	 tg = strcmp(t->canon.data, OCSS_RELAY_TELEGRAM_PATH) == 0;
	static const struct ocss_header allow_post = { "Allow", "POST" },
	    allow_wa = { "Allow", "GET, POST" };

	if (rl == NULL || (tg ? !rl->tg : !rl->wa)) {
		ocss_gw_deny(t, r, w, "webhook", 404, "webhook_disabled",
		    tg ? "Telegram is not configured (TELEGRAM_BOT_TOKEN)" :
		    "WhatsApp is not configured (WHATSAPP_APP_SECRET)", NULL,
		    0);
		return;
	}
	if (!tg && strcmp(r->method, "GET") == 0) {
		whatsapp_verify(t, r, w);
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		ocss_gw_deny(t, r, w, "webhook", 405, "method_not_allowed",
		    "use POST", tg ? &allow_post : &allow_wa, 1);
		return;
	}
	if (tg)
		telegram(t, r, w);
	else
		whatsapp(t, r, w);
}

/* ---- off the request path: the sender ---- */

/* The request an outbox job stands for, for audit lines and upstream. */
static void
jobreq_init(struct ocss_request *r, const struct ocss_job_rec *j,
    size_t body_len)
{
	memset(r, 0, sizeof(*r));
	r->method = "POST";
	r->uri = "/v1/chat/completions";
	r->query = "";
	r->peer = j->peer;
	r->peer_port = "";
	r->content_length = (long long)body_len;
	r->headers[0].name = "Content-Type";
	r->headers[0].value = "application/json";
	r->headers[1].name = "Accept";
	r->headers[1].value = "application/json";
	r->nheaders = 2;
	snprintf(r->id, sizeof(r->id), "%s", j->request_id);
}

struct capture {
	struct ocss_buf	*b;
	int		 status;
};

static int
cap_head(void *arg, int status, const struct ocss_header *h, size_t n)
{
	(void)h;
	(void)n;
	((struct capture *)arg)->status = status;
	return 0;
}

static int
cap_body(void *arg, const void *p, size_t len)
{
	struct capture *c = arg;

	if (c->b->len + len > ANSWER_MAX)
		return -1;
	return ocss_buf_append(c->b, p, len);
}

static int
cap_flush(void *arg)
{
	(void)arg;
	return 0;
}

/* The webhook request a job came from, as its audit lines name it. */
static void
job_audit_req(struct ocss_relay *rl, const struct ocss_job_rec *j,
    struct ocss_request *r)
{
	jobreq_init(r, j, 0);
	r->uri = strcmp(j->platform, "telegram") == 0 ?
	    OCSS_RELAY_TELEGRAM_PATH : OCSS_RELAY_WHATSAPP_PATH;
	ocss_buf_reset(&rl->st->canon);
}

static void
job_audit(struct ocss_relay *rl, const struct ocss_job_rec *j,
    const char *event, const char *decision, const char *reason, int status,
    const char *extra)
{
	struct ocss_request r;

	job_audit_req(rl, j, &r);
	(void)ocss_gw_audit(rl->st, &r, event, decision, reason, status,
	    extra);
}

/* The assistant's text in an OpenAI chat completion, into b; 0 or -1. */
static int
answer_text(const char *body, size_t len, struct ocss_buf *b)
{
	json_object	*o, *ch, *c0, *msg, *content;
	int		 rc = -1;

	if ((o = json_tokener_parse(body)) == NULL)
		return -1;
	(void)len;
	if (json_object_object_get_ex(o, "choices", &ch) &&
	    json_object_is_type(ch, json_type_array) &&
	    (c0 = json_object_array_get_idx(ch, 0)) != NULL &&
	    json_object_object_get_ex(c0, "message", &msg) &&
	    json_object_object_get_ex(msg, "content", &content) &&
	    json_object_is_type(content, json_type_string) &&
	    json_object_get_string_len(content) > 0) {
		ocss_buf_reset(b);
		rc = ocss_buf_append(b, json_object_get_string(content),
		    (size_t)json_object_get_string_len(content));
	}
	json_object_put(o);
	return rc;
}

/*
 * A chat job: the message to OpenClaw, its answer scanned.  Turns j into
 * the reply job (payload: the text to send) and returns 1, or returns 0
 * after rescheduling j for another try (upstream unreachable).
 */
static int
run_chat(struct ocss_relay *rl, struct ocss_job_rec *j)
{
	struct ocss_gw_thread	*t = rl->st;
	struct ocss_request	 r, ar;
	struct ocss_fwd		 f;
	struct ocss_fwd_result	 res;
	struct capture		 cap = { &rl->resp, 0 };
	struct ocss_writer	 w = { cap_head, cap_body, cap_flush, &cap };
	struct ocss_rscan_report rep = OCSS_RSCAN_REPORT_INIT;
	struct ocss_err		 err;
	const char		*text = TXT_UNAVAILABLE;
	size_t			 i;
	int			 cut = 0;
	char			*p;

	jobreq_init(&r, j, strlen(j->payload));
	memset(&f, 0, sizeof(f));
	f.req = &r;
	f.target = "/v1/chat/completions";
	f.body = j->payload;
	f.body_len = strlen(j->payload);
	ocss_buf_reset(&rl->resp);
	if (ocss_upstream_forward(t->up, &f, &w, &res) == -1 ||
	    cap.status != 200) {
		if (res.outcome == OCSS_FWD_CONNECT &&
		    j->attempts + 1 < CHAT_ATTEMPTS) {
			j->attempts++;
			j->next_at = ocss_store_now_ms() +
			    backoff_ms(j->attempts);
			job_audit(rl, j, "upstream_error", "retry",
			    "upstream_unreachable", 502, NULL);
			if (ocss_store_job_update(t->store, j, &err) == -1)
				fprintf(stderr, "ocss: %s\n", err.msg);
			return 0;
		}
		job_audit(rl, j, "upstream_error", "error", res.outcome ==
		    OCSS_FWD_OK ? "upstream_status" : res.detail[0] ?
		    res.detail : "upstream_error", cap.status ? cap.status :
		    502, NULL);
	} else if (answer_text(rl->resp.data, rl->resp.len, &rl->tmp) == -1) {
		job_audit(rl, j, "upstream_error", "error",
		    "answer is not a chat completion", 502, NULL);
	} else {
		if (rl->g->indirect != NULL &&
		    ocss_rscan_buffer(rl->g->indirect, t->isc, rl->resp.data,
		    rl->resp.len, &rep, &err) == -1) {
			job_audit(rl, j, "response_scan", "error", err.msg, 0,
			    NULL);
			cut = 1;	/* not scanned: not sent */
		}
		for (i = 0; i < rep.n; i++)
			if (rep.v[i].action == OCSS_RULE_REJECT)
				cut = 1;
		job_audit_req(rl, j, &ar);
		ocss_gw_audit_rscan(t, &ar, &rep, 0, cut ? "cut" : "flag");
		ocss_rscan_report_free(&rep);
		if (!cut) {
			if (ocss_buf_putc(&rl->tmp, '\0') == -1)
				return 0;
			text = rl->tmp.data;
		} else
			text = TXT_WITHHELD;
	}
	if ((p = strdup(text)) == NULL)
		return 0;
	free(j->kind);
	free(j->payload);
	j->kind = strdup("reply");
	j->payload = p;
	j->parts_sent = 0;
	j->attempts = 0;
	return j->kind != NULL;
}

struct capped {
	struct ocss_buf	*b;
	size_t		 max;
};

static size_t
on_capped(char *p, size_t size, size_t n, void *arg)
{
	struct capped	*c = arg;

	if (c->b->len + size * n > c->max ||
	    ocss_buf_append(c->b, p, size * n) == -1)
		return 0;
	return size * n;
}

CURLcode
ocss_relay_post_json(CURL *h, const char *url, const char *auth,
    const char *body, size_t len, struct ocss_buf *ans, size_t max,
    long *status, char *errbuf)
{
	struct curl_slist *hl, *nh;
	struct capped	 c = { ans, max };
	CURLcode	 cc;

	*status = 0;
	if ((hl = curl_slist_append(NULL, "Content-Type: application/json")) ==
	    NULL)
		return CURLE_OUT_OF_MEMORY;
	if (auth != NULL) {
		if ((nh = curl_slist_append(hl, auth)) == NULL) {
			curl_slist_free_all(hl);
			return CURLE_OUT_OF_MEMORY;
		}
		hl = nh;
	}
	if (errbuf != NULL)
		errbuf[0] = '\0';
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_capped);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)PLATFORM_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ocss/" PACKAGE_VERSION);
	if (errbuf != NULL)
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if ((cc = curl_easy_perform(h)) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	/* Nothing on the handle may point at what is freed here. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(hl);
	return cc;
}

/*
 * One message to the platform.  0 sent, 1 retry later (*retry_ms: what
 * the platform asked for, 0 when it did not say), -1 give up.  *why
 * describes a failure.
 */
static int
send_part(struct ocss_relay *rl, const struct ocss_job_rec *j,
    const char *text, size_t len, int64_t *retry_ms, char *why, size_t wsz)
{
	const struct ocss_config *cfg = rl->cfg;
	struct curl_header *ra;
	struct ocss_buf	 body = OCSS_BUF_INIT, auth = OCSS_BUF_INIT;
	json_object	*o = NULL, *par, *v;
	long		 status = 0;
	CURLcode	 cc;
	int		 tg = strcmp(j->platform, "telegram") == 0, rc = -1;

	*retry_ms = 0;
	ocss_buf_reset(&rl->url);
	ocss_buf_reset(&rl->resp);
	if (tg ? (ocss_buf_printf(&rl->url, "%s/bot%s/sendMessage",
	    cfg->tg_api_base, cfg->tg_bot_token ? cfg->tg_bot_token : "") ||
	    ocss_tg_reply_json(j->chat, text, len, &body)) :
	    (ocss_buf_printf(&rl->url, "%s/%s/messages", cfg->wa_api_base,
	    j->phone_id) || ocss_wa_reply_json(j->chat, text, len, &body) ||
	    ocss_buf_printf(&auth, "Authorization: Bearer %s",
	    cfg->wa_access_token ? cfg->wa_access_token : ""))) {
		snprintf(why, wsz, "out of memory");
		goto out;
	}
	if (tg && cfg->tg_bot_token == NULL) {
		snprintf(why, wsz, "TELEGRAM_BOT_TOKEN is not set: cannot "
		    "reply");
		goto out;
	}
	if (!tg && (cfg->wa_access_token == NULL || *j->phone_id == '\0')) {
		snprintf(why, wsz, "WHATSAPP_ACCESS_TOKEN or "
		    "WHATSAPP_PHONE_NUMBER_ID is not set: cannot reply");
		goto out;
	}
	cc = ocss_relay_post_json(rl->curl, rl->url.data, tg ? NULL : auth.data,
	    body.data, body.len, &rl->resp, 65536, &status, NULL);
	if (cc != CURLE_OK) {
		/* Never the URL: it holds the bot token. */
		snprintf(why, wsz, "%s", curl_easy_strerror(cc));
		rc = 1;
		goto out;
	}
	if (status >= 200 && status < 300) {
		rc = 0;
		goto out;
	}
	snprintf(why, wsz, "platform answered %ld", status);
	if (ocss_buf_putc(&rl->resp, '\0') == 0 &&
	    (o = json_tokener_parse(rl->resp.data)) != NULL) {
		if (json_object_object_get_ex(o, "description", &v) ||
		    (json_object_object_get_ex(o, "error", &par) &&
		    json_object_object_get_ex(par, "message", &v)))
			snprintf(why, wsz, "platform answered %ld: %.150s",
			    status, json_object_get_string(v));
		if (json_object_object_get_ex(o, "parameters", &par) &&
		    json_object_object_get_ex(par, "retry_after", &v))
			*retry_ms = json_object_get_int64(v) * 1000;
	}
	if (*retry_ms == 0 && curl_easy_header(rl->curl, "Retry-After", 0,
	    CURLH_HEADER, -1, &ra) == CURLHE_OK)
		*retry_ms = strtoll(ra->value, NULL, 10) * 1000;
	if (*retry_ms < 0 || *retry_ms > RETRY_AFTER_MAX_MS)
		*retry_ms = RETRY_AFTER_MAX_MS;
	rc = status == 429 || status >= 500 || status == 408 ? 1 : -1;
out:
	json_object_put(o);
	ocss_buf_free(&body);
	if (auth.data != NULL)
		explicit_bzero(auth.data, auth.len);
	ocss_buf_free(&auth);
	return rc;
}

/* A reply job: every part not yet delivered, in order. */
static void
run_reply(struct ocss_relay *rl, struct ocss_job_rec *j)
{
	struct ocss_err	 err;
	const char	*p = j->payload;
	size_t		 left = strlen(p), n;
	int		 part, rc = 0;
	int64_t		 retry;
	char		 why[256], extra[64];

	for (part = 0; left > 0; part++, p += n, left -= n) {
		n = ocss_wh_split(p, left, OCSS_WH_TEXT_MAX);
		if (part < j->parts_sent)
			continue;
		if ((rc = send_part(rl, j, p, n, &retry, why,
		    sizeof(why))) != 0)
			break;
		j->parts_sent = part + 1;
	}
	snprintf(extra, sizeof(extra), "\"parts\":%d,\"attempts\":%d",
	    j->parts_sent, j->attempts + 1);
	if (rc == 0) {
		job_audit(rl, j, "webhook_reply", "sent", j->platform, 200,
		    extra);
	} else if (rc == 1 && j->attempts + 1 < SEND_ATTEMPTS) {
		j->attempts++;
		j->next_at = ocss_store_now_ms() + (retry > 0 ? retry :
		    backoff_ms(j->attempts));
		job_audit(rl, j, "webhook_reply", "retry", why, 0, extra);
		if (ocss_store_job_update(rl->st->store, j, &err) == -1)
			fprintf(stderr, "ocss: %s\n", err.msg);
		return;
	} else
		job_audit(rl, j, "webhook_reply", "failed", why, 0, extra);
	if (ocss_store_job_done(rl->st->store, j->id, &err) == -1)
		fprintf(stderr, "ocss: %s\n", err.msg);
}

static int
sender_init(struct ocss_relay *rl, struct ocss_err *err)
{
	if (rl->st == NULL &&
	    (rl->st = ocss_gateway_thread_new(rl->g, err)) == NULL)
		return -1;
	if (rl->curl == NULL && (rl->curl = curl_easy_init()) == NULL) {
		ocss_err_set(err, "curl_easy_init failed");
		return -1;
	}
	return 0;
}

int
ocss_relay_run_due(struct ocss_relay *rl, int max, struct ocss_err *err)
{
	struct ocss_job_rec j;
	/* Long enough for the slowest upstream answer plus every send. */
	int64_t		 lease = (rl->cfg->upstream_timeout +
	    2 * PLATFORM_TIMEOUT_S + 60) * 1000LL;
	int		 n, rc;

	if (sender_init(rl, err) == -1)
		return -1;
	for (n = 0; n < max; n++) {
		if ((rc = ocss_store_job_claim(rl->st->store,
		    ocss_store_now_ms(), lease, &j, err)) == -1)
			return -1;
		if (rc == 1)
			break;
		if (strcmp(j.kind, "reply") == 0 || run_chat(rl, &j))
			run_reply(rl, &j);
		ocss_store_job_free(&j);
	}
	return n;
}

static void *
sender(void *arg)
{
	struct ocss_relay *rl = arg;
	struct ocss_err	 err;
	struct timespec	 ts;
	int		 n;

	for (;;) {
		pthread_mutex_lock(&rl->mu);
		rl->kicked = 0;
		pthread_mutex_unlock(&rl->mu);
		if ((n = ocss_relay_run_due(rl, 16, &err)) == -1)
			fprintf(stderr, "ocss: relay: %s\n", err.msg);
		pthread_mutex_lock(&rl->mu);
		if (n < 16 && !rl->kicked && !rl->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += POLL_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			(void)pthread_cond_timedwait(&rl->cv, &rl->mu, &ts);
		}
		if (rl->stop) {
			pthread_mutex_unlock(&rl->mu);
			return NULL;
		}
		pthread_mutex_unlock(&rl->mu);
	}
}

int
ocss_relay_start(struct ocss_relay *rl, struct ocss_err *err)
{
	if (rl == NULL || rl->started || !(rl->tg || rl->wa))
		return 0;
	if (sender_init(rl, err) == -1)
		return -1;
	if ((errno = pthread_create(&rl->th, NULL, sender, rl)) != 0) {
		ocss_err_set(err, "relay sender thread: %s", strerror(errno));
		return -1;
	}
	rl->started = 1;
	return 0;
}
