/*
 * mock-platform: stands in for the Telegram Bot API and the WhatsApp Cloud
 * (Graph) API in the integration tests and the benchmarks.  It answers in
 * their wire formats, records every call (GET /_mock/requests), and fails
 * or stalls on demand (POST /_mock/fail) for the relay's retry and timeout
 * paths.  It listens on 127.0.0.1 only.  usage() lists the routes.
 *
 * Thread per connection (mockhttp.c): an injected delay is a plain
 * sleep on the connection's own thread.  json-c objects never cross
 * threads (their reference counts are not atomic): shared state is kept
 * as C strings and numbers under the server's lock.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "buf.h"		/* ocss_hexval() */
#include "mockhttp.h"

#define PROG		"mock-platform"
#define RING_SIZE	1024		/* calls kept for /_mock/requests */
#define MAX_BODY	(1024u * 1024)	/* larger: 413 */
#define RECORD_BODY	(64u * 1024)	/* larger: recorded as null */
#define TEXT_MAX	4096		/* both platforms, UTF-16 units */
#define JSON_DEPTH	64
#define SECRET_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789_-"
#define BOT_ID_DEFAULT	1000000001LL

enum platform { P_TELEGRAM, P_WHATSAPP, P_UNKNOWN };

static const char *const platform_names[] = { "telegram", "whatsapp",
    "unknown" };

/* One recorded call: JSON text, with what /_mock/requests filters on. */
struct rec {
	enum platform	 plat;
	char		*api;		/* api_method, or NULL */
	char		*json;
};

/* What setWebhook stored; getWebhookInfo reads it. */
struct webhook {
	char		*url;		/* NULL: none set */
	char		*secret;
	char		*allowed;	/* JSON text of allowed_updates */
	long long	 max_conn;
	long long	 pending;	/* set by POST /_mock/webhook */
	char		*last_error;
	long long	 last_error_date;
};

/* POST /_mock/fail: the next count platform calls fail or stall. */
struct failure {
	uint64_t	 count;
	unsigned	 status;	/* 0: only the delay */
	long long	 retry_after;	/* -1: no Retry-After */
	uint64_t	 delay_ms;
};

/* Shared by the connection threads; all but the options under lock. */
struct server {
	struct mock	 m;
	pthread_mutex_t	 lock;
	struct rec	 ring[RING_SIZE];
	uint64_t	 count;		/* recorded since reset */
	uint64_t	 message_id;	/* last sendMessage message_id */
	uint64_t	 wamid;		/* last WhatsApp message id */
	struct failure	 fail;
	struct webhook	 wh;
	const char	*tg_token;	/* NULL: any token passes */
	const char	*wa_token;	/* NULL: any (or no) Bearer passes */
};

/* A platform call as seen: what gets recorded and what answers use. */
struct call {
	enum platform	 plat;
	const char	*method;	/* HTTP */
	char		*path;		/* bot token redacted */
	char		*api;		/* Bot API method or Graph edge */
	bool		 cred_ok;	/* right token / Bearer (recorded) */
	bool		 denied;	/* answer 401 */
	bool		 injected;	/* answered by /_mock/fail */
	const char	*ctype;
	json_object	*body;		/* as recorded: object, string, NULL */
	json_object	*query;		/* URL arguments, or NULL */
	json_object	*params;	/* query overlaid by body fields */
	int64_t		 time_ms;
};

struct answer {
	unsigned	 status;
	json_object	*body;		/* NULL after a failed build */
	long long	 retry_after;	/* -1: no Retry-After header */
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds val to o under key, taking val even on failure (and NULL, which is
 * a failed constructor, not JSON null).  0 or -1. */
static int
put(json_object *o, const char *key, json_object *val)
{
	if (o == NULL || val == NULL ||
	    json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/* Appends val to the array a, taking val even on failure.  0 or -1. */
static int
push(json_object *a, json_object *val)
{
	if (a == NULL || val == NULL || json_object_array_add(a, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/* s, or JSON null when s is NULL. */
static int
put_str(json_object *o, const char *key, const char *s)
{
	if (s == NULL)
		return o == NULL || json_object_object_add(o, key, NULL) != 0 ?
		    -1 : 0;
	return put(o, key, json_object_new_string(s));
}

static json_object *
parse_json(const char *s, size_t len)
{
	struct json_tokener	*tok;
	json_object		*o = NULL;

	if (len == 0 || len > INT32_MAX ||
	    (tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Percent-decodes s[0..n), '+' as space; a bad escape stays literal. */
static char *
form_decode(const char *s, size_t n, size_t *outlen)
{
	char	*d;
	size_t	 i, j = 0;
	int	 hi, lo;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			d[j++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = ocss_hexval(s[i + 1])) >= 0 &&
		    (lo = ocss_hexval(s[i + 2])) >= 0) {
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[j++] = s[i];
	}
	d[j] = '\0';
	*outlen = j;
	return d;
}

/* application/x-www-form-urlencoded (or a query) as an object of strings;
 * a repeated field keeps its last value.  NULL on ENOMEM. */
static json_object *
parse_form(const char *s, size_t n)
{
	json_object	*o;
	const char	*p, *end = s + n, *amp, *eq;
	char		*k, *v;
	size_t		 kl, vl;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (p = s; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		k = form_decode(p, (size_t)(eq - p), &kl);
		v = form_decode(eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, &vl);
		if (k == NULL || v == NULL || put(o, k,
		    json_object_new_string_len(v, (int)vl)) != 0) {
			free(k);
			free(v);
			json_object_put(o);
			return NULL;
		}
		free(k);
		free(v);
	}
	return o;
}

/* Length in UTF-16 code units, as both platforms count text. */
static size_t
utf16_len(const char *s, size_t n)
{
	size_t		 i, u = 0;
	unsigned char	 b;

	for (i = 0; i < n; i++) {
		b = (unsigned char)s[i];
		if ((b & 0xc0) != 0x80)
			u += b >= 0xf0 ? 2 : 1;
	}
	return u;
}

/* A parameter's text: a string as is, a number or boolean as JSON spells
 * it; NULL when absent, null, an object or an array. */
static const char *
param(const struct call *k, const char *key)
{
	json_object	*v;

	if (k->params == NULL ||
	    !json_object_object_get_ex(k->params, key, &v) ||
	    v == NULL || json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array))
		return NULL;
	return json_object_get_string(v);
}

static bool
param_true(const struct call *k, const char *key)
{
	const char	*v = param(k, key);

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* An integer as Telegram takes one: optional '-', 1 to 18 digits. */
static bool
integer_text(const char *s, long long *out)
{
	const char	*p = s;
	size_t		 n;

	if (*p == '-')
		p++;
	n = strspn(p, "0123456789");
	if (n == 0 || n > 18 || p[n] != '\0')
		return false;
	*out = strtoll(s, NULL, 10);
	return true;
}

/* ---- answers ---- */

static void
tg_ok(struct answer *a, json_object *result, const char *description)
{
	json_object	*o = json_object_new_object();

	a->status = 200;
	if (put(o, "ok", json_object_new_boolean(1)) != 0) {
		json_object_put(result);
		json_object_put(o);
		a->body = NULL;
		return;
	}
	if (put(o, "result", result) != 0 ||
	    (description != NULL && put_str(o, "description",
	    description) != 0)) {
		json_object_put(o);
		o = NULL;
	}
	a->body = o;
}

static void
tg_error(struct answer *a, unsigned status, const char *description)
{
	json_object	*o = json_object_new_object(), *par;

	a->status = status;
	if (put(o, "ok", json_object_new_boolean(0)) != 0 ||
	    put(o, "error_code", json_object_new_int((int)status)) != 0 ||
	    put_str(o, "description", description) != 0)
		goto fail;
	/* Children are attached first, so that freeing o frees all. */
	if (status == 429 && a->retry_after >= 0 &&
	    (put(o, "parameters", par = json_object_new_object()) != 0 ||
	    put(par, "retry_after",
	    json_object_new_int64(a->retry_after)) != 0))
		goto fail;
	a->body = o;
	return;
fail:
	json_object_put(o);
	a->body = NULL;
}

/* A Graph API error object; details (or NULL) go in error_data. */
static void
wa_error(struct answer *a, unsigned status, int code, const char *message,
    const char *details)
{
	json_object	*o = json_object_new_object(), *e, *d;

	a->status = status;
	if (put(o, "error", e = json_object_new_object()) != 0 ||
	    put_str(e, "message", message) != 0 ||
	    put_str(e, "type", "OAuthException") != 0 ||
	    put(e, "code", json_object_new_int(code)) != 0 ||
	    (details != NULL &&
	    (put(e, "error_data", d = json_object_new_object()) != 0 ||
	    put_str(d, "messaging_product", "whatsapp") != 0 ||
	    put_str(d, "details", details) != 0)) ||
	    put_str(e, "fbtrace_id", "mock") != 0) {
		json_object_put(o);
		o = NULL;
	}
	a->body = o;
}

static const char *
tg_status_text(unsigned status)
{
	switch (status) {
	case 400:
		return "Bad Request: mock failure";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden: mock failure";
	case 404:
		return "Not Found";
	case 409:
		return "Conflict: mock failure";
	case 413:
		return "Request Entity Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "mock failure";
	}
}

/* The answer /_mock/fail asked for, in the platform's format. */
static void
injected(const struct call *k, const struct failure *f, struct answer *a)
{
	char	 msg[64];

	a->retry_after = f->retry_after;
	if (k->plat == P_TELEGRAM) {
		if (f->status == 429 && f->retry_after >= 0)
			snprintf(msg, sizeof(msg), "Too Many Requests: retry "
			    "after %lld", f->retry_after);
		else if (f->status == 429)
			snprintf(msg, sizeof(msg), "Too Many Requests");
		else
			snprintf(msg, sizeof(msg), "%s",
			    tg_status_text(f->status));
		tg_error(a, f->status, msg);
	} else if (f->status == 429)
		wa_error(a, 429, 130429, "(#130429) Rate limit hit",
		    "Cloud API message throughput has been reached.");
	else if (f->status == 401)
		wa_error(a, 401, 190, "Invalid OAuth access token - mock "
		    "failure", NULL);
	else if (f->status >= 500)
		wa_error(a, f->status, 131000, "(#131000) Something went "
		    "wrong", "mock failure");
	else
		wa_error(a, f->status, 100, "(#100) Invalid parameter",
		    "mock failure");
}

/* ---- Telegram ---- */

static long long
bot_id(const struct server *srv)
{
	long long	 id;
	char		 digits[20];
	size_t		 n;

	if (srv->tg_token == NULL)
		return BOT_ID_DEFAULT;
	n = strspn(srv->tg_token, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return BOT_ID_DEFAULT;
	memcpy(digits, srv->tg_token, n);
	digits[n] = '\0';
	id = strtoll(digits, NULL, 10);
	return id > 0 ? id : BOT_ID_DEFAULT;
}

static json_object *
tg_user(const struct server *srv, bool full)
{
	json_object	*u = json_object_new_object();

	if (put(u, "id", json_object_new_int64(bot_id(srv))) != 0 ||
	    put(u, "is_bot", json_object_new_boolean(1)) != 0 ||
	    put_str(u, "first_name", "mock") != 0 ||
	    put_str(u, "username", "mock_bot") != 0)
		goto fail;
	if (full && (put(u, "can_join_groups",
	    json_object_new_boolean(1)) != 0 ||
	    put(u, "can_read_all_group_messages",
	    json_object_new_boolean(0)) != 0 ||
	    put(u, "supports_inline_queries",
	    json_object_new_boolean(0)) != 0))
		goto fail;
	return u;
fail:
	json_object_put(u);
	return NULL;
}

static void
tg_send_message(struct server *srv, const struct call *k, struct answer *a)
{
	json_object	*m, *chat;
	const char	*chat_id = param(k, "chat_id");
	const char	*text = param(k, "text");
	long long	 id;
	uint64_t	 mid;

	if (chat_id == NULL || *chat_id == '\0') {
		tg_error(a, 400, "Bad Request: chat_id is empty");
		return;
	}
	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0') {
		tg_error(a, 400, "Bad Request: message text is empty");
		return;
	}
	if (utf16_len(text, strlen(text)) > TEXT_MAX) {
		tg_error(a, 400, "Bad Request: message is too long");
		return;
	}
	pthread_mutex_lock(&srv->lock);
	mid = ++srv->message_id;
	pthread_mutex_unlock(&srv->lock);

	m = json_object_new_object();
	if (put(m, "message_id", json_object_new_int64((int64_t)mid)) != 0 ||
	    put(m, "from", tg_user(srv, false)) != 0 ||
	    put(m, "chat", chat = json_object_new_object()) != 0 ||
	    put(chat, "id", integer_text(chat_id, &id) ?
	    json_object_new_int64(id) : json_object_new_string(chat_id)) != 0 ||
	    put_str(chat, "type", "private") != 0 ||
	    put(m, "date", json_object_new_int64(time(NULL))) != 0 ||
	    put_str(m, "text", text) != 0) {
		json_object_put(m);
		a->status = 200;
		a->body = NULL;
		return;
	}
	tg_ok(a, m, NULL);
}

/* allowed_updates as JSON text: an array given as such, or (in a form or
 * a query) as a JSON-serialized string.  1 when absent, -1 when bad. */
static int
tg_allowed(const struct call *k, char **out)
{
	json_object	*v, *parsed = NULL;
	const char	*s;
	size_t		 i;
	int		 rc = -1;

	*out = NULL;
	if (!json_object_object_get_ex(k->params, "allowed_updates", &v) ||
	    v == NULL)
		return 1;
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if ((parsed = parse_json(s, strlen(s))) == NULL)
			return -1;
		v = parsed;
	}
	if (!json_object_is_type(v, json_type_array))
		goto done;
	for (i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i),
		    json_type_string))
			goto done;
	if ((*out = mock_json_text(v)) != NULL)
		rc = 0;
done:
	json_object_put(parsed);
	return rc;
}

static void
webhook_clear(struct webhook *w, bool all)
{
	free(w->url);
	free(w->secret);
	free(w->allowed);
	w->url = w->secret = w->allowed = NULL;
	w->max_conn = 0;
	if (all) {
		free(w->last_error);
		w->last_error = NULL;
		w->last_error_date = 0;
		w->pending = 0;
	}
}

static void
tg_set_webhook(struct server *srv, const struct call *k, struct answer *a)
{
	const char	*url = param(k, "url"), *secret, *mc;
	char		*u = NULL, *s = NULL, *allowed = NULL;
	long long	 max_conn = 40;
	size_t		 n;
	bool		 had;

	if (url == NULL) {
		tg_error(a, 400, "Bad Request: bad webhook: URL must be "
		    "provided");
		return;
	}
	if (*url != '\0' && strncasecmp(url, "https://", 8) != 0) {
		tg_error(a, 400, "Bad Request: bad webhook: An HTTPS URL must "
		    "be provided for webhook");
		return;
	}
	if ((secret = param(k, "secret_token")) != NULL) {
		n = strlen(secret);
		if (n == 0 || n > 256 || strspn(secret, SECRET_CHARS) != n) {
			tg_error(a, 400, "Bad Request: secret token contains "
			    "unallowed characters");
			return;
		}
	}
	if ((mc = param(k, "max_connections")) != NULL &&
	    (!integer_text(mc, &max_conn) || max_conn < 1 || max_conn > 100)) {
		tg_error(a, 400, "Bad Request: bad max_connections");
		return;
	}
	if (tg_allowed(k, &allowed) == -1) {
		tg_error(a, 400, "Bad Request: can't parse allowed updates "
		    "JSON object");
		return;
	}
	if (*url != '\0' && ((u = strdup(url)) == NULL ||
	    (secret != NULL && (s = strdup(secret)) == NULL))) {
		free(u);
		free(allowed);
		a->status = 200;
		a->body = NULL;
		return;
	}
	pthread_mutex_lock(&srv->lock);
	had = srv->wh.url != NULL;
	webhook_clear(&srv->wh, false);
	if (u != NULL) {
		srv->wh.url = u;
		srv->wh.secret = s;
		srv->wh.allowed = allowed;
		srv->wh.max_conn = max_conn;
		allowed = NULL;
	}
	if (param_true(k, "drop_pending_updates"))
		srv->wh.pending = 0;
	pthread_mutex_unlock(&srv->lock);
	free(allowed);
	tg_ok(a, json_object_new_boolean(1), u != NULL ? "Webhook was set" :
	    had ? "Webhook was deleted" : "Webhook is already deleted");
}

static void
tg_delete_webhook(struct server *srv, const struct call *k, struct answer *a)
{
	bool	 had;

	pthread_mutex_lock(&srv->lock);
	had = srv->wh.url != NULL;
	webhook_clear(&srv->wh, false);
	if (param_true(k, "drop_pending_updates"))
		srv->wh.pending = 0;
	pthread_mutex_unlock(&srv->lock);
	tg_ok(a, json_object_new_boolean(1), had ? "Webhook was deleted" :
	    "Webhook is already deleted");
}

static json_object *
webhook_info(struct server *srv, bool with_secret)
{
	const struct webhook	*w = &srv->wh;	/* under the lock */
	json_object		*r = json_object_new_object();

	if (put_str(r, "url", w->url ? w->url : "") != 0 ||
	    put(r, "has_custom_certificate", json_object_new_boolean(0)) != 0 ||
	    put(r, "pending_update_count",
	    json_object_new_int64(w->pending)) != 0 ||
	    (w->url != NULL && put(r, "max_connections",
	    json_object_new_int64(w->max_conn)) != 0) ||
	    (w->last_error != NULL && (put(r, "last_error_date",
	    json_object_new_int64(w->last_error_date)) != 0 ||
	    put_str(r, "last_error_message", w->last_error) != 0)) ||
	    (w->allowed != NULL && put(r, "allowed_updates",
	    parse_json(w->allowed, strlen(w->allowed))) != 0) ||
	    (with_secret && put_str(r, "secret_token", w->secret) != 0)) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static void
telegram(struct server *srv, const struct call *k, struct answer *a)
{
	json_object	*r;

	if (k->denied) {
		tg_error(a, 401, "Unauthorized");
		return;
	}
	if (strcmp(k->method, "GET") != 0 && strcmp(k->method, "POST") != 0) {
		tg_error(a, 405, "Method Not Allowed");
		return;
	}
	if (strcasecmp(k->api, "sendMessage") == 0)
		tg_send_message(srv, k, a);
	else if (strcasecmp(k->api, "setWebhook") == 0)
		tg_set_webhook(srv, k, a);
	else if (strcasecmp(k->api, "deleteWebhook") == 0)
		tg_delete_webhook(srv, k, a);
	else if (strcasecmp(k->api, "getWebhookInfo") == 0) {
		pthread_mutex_lock(&srv->lock);
		r = webhook_info(srv, false);
		pthread_mutex_unlock(&srv->lock);
		tg_ok(a, r, NULL);
	} else if (strcasecmp(k->api, "getMe") == 0)
		tg_ok(a, tg_user(srv, true), NULL);
	else
		tg_error(a, 404, "Not Found");
}

/* ---- WhatsApp ---- */

/* The string member key of o, or "" when absent or not a string. */
static const char *
member_str(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* Why a text message body is refused, or NULL when it is fine. */
static const char *
wa_invalid(json_object *b)
{
	json_object	*v, *t;
	const char	*s;

	if (b == NULL || !json_object_is_type(b, json_type_object))
		return "The request body must be a JSON object.";
	if (strcmp(member_str(b, "messaging_product"), "whatsapp") != 0)
		return "Param messaging_product must be 'whatsapp'.";
	if (*member_str(b, "to") == '\0')
		return "The parameter to is required.";
	if (strcmp(member_str(b, "type"), "text") != 0)
		return "Param type must be 'text' (the only type mocked).";
	if (!json_object_object_get_ex(b, "text", &t) ||
	    !json_object_is_type(t, json_type_object) ||
	    !json_object_object_get_ex(t, "body", &v) ||
	    !json_object_is_type(v, json_type_string))
		return "The parameter text['body'] is required.";
	s = json_object_get_string(v);
	if (*s == '\0')
		return "Param text['body'] must be at least 1 character long.";
	if (utf16_len(s, (size_t)json_object_get_string_len(v)) > TEXT_MAX)
		return "Param text['body'] must be at most 4096 characters "
		    "long.";
	return NULL;
}

static void
whatsapp(struct server *srv, const struct call *k, struct answer *a)
{
	json_object	*o, *arr, *e, *to;
	const char	*why;
	char		 id[48];
	uint64_t	 n;

	if (k->denied) {
		wa_error(a, 401, 190, "Invalid OAuth access token - Cannot "
		    "parse access token", NULL);
		return;
	}
	if (strcmp(k->method, "POST") != 0 || strcmp(k->api, "messages") != 0) {
		wa_error(a, 400, 100, "(#100) Unsupported request: only POST "
		    "/<version>/<phone-number-id>/messages is mocked", NULL);
		return;
	}
	if ((why = wa_invalid(k->body)) != NULL) {
		wa_error(a, 400, 100, "(#100) Invalid parameter", why);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	n = ++srv->wamid;
	pthread_mutex_unlock(&srv->lock);
	snprintf(id, sizeof(id), "wamid.mock%llu", (unsigned long long)n);

	json_object_object_get_ex(k->body, "to", &to);
	a->status = 200;
	o = json_object_new_object();
	if (put_str(o, "messaging_product", "whatsapp") != 0 ||
	    put(o, "contacts", arr = json_object_new_array()) != 0 ||
	    push(arr, e = json_object_new_object()) != 0 ||
	    put_str(e, "input", json_object_get_string(to)) != 0 ||
	    put_str(e, "wa_id", json_object_get_string(to)) != 0 ||
	    put(o, "messages", arr = json_object_new_array()) != 0 ||
	    push(arr, e = json_object_new_object()) != 0 ||
	    put_str(e, "id", id) != 0) {
		json_object_put(o);
		o = NULL;
	}
	a->body = o;
}

/* ---- the call: classify, parse, record ---- */

/* "/v21.0/<id>/<edge>": 1 and the edge, else 0. */
static int
wa_path(const char *url, const char **edge)
{
	const char	*p = url;
	size_t		 n;

	if (p[0] != '/' || p[1] != 'v')
		return 0;
	p += 2;
	if ((n = strspn(p, "0123456789")) == 0)
		return 0;
	p += n;
	if (*p == '.') {
		if ((n = strspn(++p, "0123456789")) == 0)
			return 0;
		p += n;
	}
	if (*p++ != '/' || *p == '/' || *p == '\0' ||
	    (p = strchr(p, '/')) == NULL || *++p == '\0' ||
	    strchr(p, '/') != NULL)
		return 0;
	*edge = p;
	return 1;
}

static void
call_free(struct call *k)
{
	free(k->path);
	free(k->api);
	json_object_put(k->body);
	json_object_put(k->query);
	json_object_put(k->params);
}

/* Fields of src (an object) into dst, later ones replacing; 0 or -1. */
static int
overlay(json_object *dst, json_object *src)
{
	json_object_iter	 it;

	if (src == NULL || !json_object_is_type(src, json_type_object))
		return 0;
	json_object_object_foreachC(src, it)
		if (json_object_object_add(dst, it.key,
		    json_object_get(it.val)) != 0) {
			json_object_put(it.val);
			return -1;
		}
	return 0;
}

static bool
has_prefix_ci(const char *s, const char *prefix)
{
	return s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Fills k; -1 on ENOMEM. */
static int
call_init(struct server *srv, struct call *k, struct MHD_Connection *c,
    const char *url, const char *method, const struct mock_request *rq)
{
	const char	*slash, *edge, *auth, *q;
	char		*token;
	size_t		 tl;

	memset(k, 0, sizeof(*k));
	k->method = method;
	k->time_ms = now_ms();
	k->ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (strncmp(url, "/bot", 4) == 0) {
		k->plat = P_TELEGRAM;
		slash = strchr(url + 4, '/');
		tl = slash ? (size_t)(slash - url - 4) : strlen(url + 4);
		if ((token = strndup(url + 4, tl)) == NULL)
			return -1;
		k->cred_ok = srv->tg_token ? strcmp(token, srv->tg_token) == 0 :
		    *token != '\0';
		k->denied = srv->tg_token != NULL && !k->cred_ok;
		free(token);
		if (asprintf(&k->path, "/bot<redacted>%s", slash ? slash : "")
		    < 0) {
			k->path = NULL;
			return -1;
		}
		if ((k->api = strdup(slash ? slash + 1 : "")) == NULL)
			return -1;
	} else if (wa_path(url, &edge)) {
		k->plat = P_WHATSAPP;
		auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_AUTHORIZATION);
		if (has_prefix_ci(auth, "Bearer ")) {
			auth += 7;
			auth += strspn(auth, " ");
		} else
			auth = NULL;
		k->cred_ok = auth != NULL && (srv->wa_token ?
		    strcmp(auth, srv->wa_token) == 0 : *auth != '\0');
		k->denied = srv->wa_token != NULL && !k->cred_ok;
		if ((k->path = strdup(url)) == NULL ||
		    (k->api = strdup(edge)) == NULL)
			return -1;
	} else {
		k->plat = P_UNKNOWN;
		if ((k->path = strdup(url)) == NULL)
			return -1;
	}

	if ((q = strchr(rq->raw_url, '?')) != NULL &&
	    (k->query = parse_form(q + 1, strlen(q + 1))) == NULL)
		return -1;
	if (rq->len > 0 && rq->total <= MAX_BODY) {
		if (has_prefix_ci(k->ctype, "application/json"))
			k->body = parse_json(rq->body, rq->len);
		else if (has_prefix_ci(k->ctype,
		    "application/x-www-form-urlencoded") &&
		    (k->body = parse_form(rq->body, rq->len)) == NULL)
			return -1;
		/* not JSON after all, or another type: the text */
		if (k->body == NULL && (k->body = json_object_new_string_len(
		    rq->body, (int)rq->len)) == NULL)
			return -1;
	}
	if ((k->params = json_object_new_object()) == NULL ||
	    overlay(k->params, k->query) != 0 ||
	    overlay(k->params, k->body) != 0)
		return -1;
	return 0;
}

/* The call's record without "n" (added under the lock), or NULL. */
static char *
record_json(const struct call *k, const struct answer *a,
    const struct mock_request *rq)
{
	json_object	*o = json_object_new_object(), *b = NULL;
	char		*copy = NULL;

	/* A GET's arguments stand for its body.  Shared with k, not copied:
	 * the record is serialized here, on this thread. */
	if (rq->total <= RECORD_BODY)
		b = rq->len == 0 && k->query != NULL ? k->query : k->body;
	if (put_str(o, "platform", platform_names[k->plat]) == 0 &&
	    put_str(o, "method", k->method) == 0 &&
	    put_str(o, "path", k->path) == 0 &&
	    put_str(o, "api_method", k->api) == 0 &&
	    put(o, "status", json_object_new_int((int)a->status)) == 0 &&
	    put_str(o, "content_type", k->ctype) == 0 &&
	    put(o, "token_ok", json_object_new_boolean(k->cred_ok)) == 0 &&
	    put(o, "authorization_ok",
	    json_object_new_boolean(k->cred_ok)) == 0 &&
	    (b != NULL ? put(o, "body", json_object_get(b)) :
	    put_str(o, "body", NULL)) == 0 &&
	    put(o, "body_len", json_object_new_uint64(rq->total)) == 0 &&
	    (k->query == NULL || put(o, "query",
	    json_object_get(k->query)) == 0) &&
	    put(o, "injected", json_object_new_boolean(k->injected)) == 0 &&
	    put(o, "time_ms", json_object_new_int64(k->time_ms)) == 0)
		copy = mock_json_text(o);
	json_object_put(o);
	return copy;
}

static void
ring_clear(struct server *srv)
{
	size_t	 i;

	for (i = 0; i < RING_SIZE; i++) {
		free(srv->ring[i].api);
		free(srv->ring[i].json);
		srv->ring[i].api = srv->ring[i].json = NULL;
	}
	srv->count = 0;
}

/* Recorded before the answer is queued, so that a client that has its
 * answer finds the call in /_mock/requests. */
static void
record(struct server *srv, const struct call *k, const struct answer *a,
    const struct mock_request *rq)
{
	struct rec	*r;
	char		*tail, *json = NULL, *api;
	uint64_t	 n;

	tail = record_json(k, a, rq);
	api = k->api ? strdup(k->api) : NULL;
	pthread_mutex_lock(&srv->lock);
	n = ++srv->count;
	if (tail != NULL && asprintf(&json, "{\"n\":%llu,%s",
	    (unsigned long long)n, tail + 1) < 0)
		json = NULL;
	r = &srv->ring[(n - 1) % RING_SIZE];
	free(r->api);
	free(r->json);
	r->plat = k->plat;
	r->api = api;
	r->json = json;	/* NULL (out of memory) is listed as null */
	pthread_mutex_unlock(&srv->lock);
	free(tail);
}

/* ---- HTTP ---- */

/* Does not take o; NULL (a failed build) drops the connection. */
static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, json_object *o,
    long long retry_after)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret = MHD_NO;
	char			*body, ra[24];

	if (retry_after < 0)
		return mock_send_owned(c, status, mock_json_text(o));
	/* Not mock_send_owned(): Retry-After must follow Content-Type (MHD
	 * sends the headers in the order they are added). */
	if ((body = mock_json_text(o)) == NULL)
		return MHD_NO;
	if ((r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(body);
		return MHD_NO;
	}
	snprintf(ra, sizeof(ra), "%lld", retry_after);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json") == MHD_YES &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
	    ra) == MHD_YES)
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
admin_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	json_object	*o = json_object_new_object();
	enum MHD_Result	 ret = MHD_NO;

	if (put(o, "ok", json_object_new_boolean(0)) == 0 &&
	    put_str(o, "description", msg) == 0)
		ret = send_json(c, status, o, -1);
	json_object_put(o);
	return ret;
}

/* An integer member in [lo, hi]: 1 set, 0 absent, -1 bad. */
static int
member_int(json_object *o, const char *key, long long lo, long long hi,
    long long *out)
{
	json_object	*v;
	long long	 x;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	x = json_object_get_int64(v);
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 1;
}

static enum MHD_Result
admin_fail(struct server *srv, struct MHD_Connection *c,
    const struct mock_request *rq)
{
	struct failure	 f = { 1, 500, -1, 0 };
	json_object	*o;
	long long	 count = 1, status = 500, delay = 0;
	const char	*bad = NULL;

	o = parse_json(rq->body, rq->len);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		bad = "body must be a JSON object: {\"count\":N,\"status\":S,"
		    "\"retry_after\":R,\"delay_ms\":D}";
	else if (member_int(o, "count", 0, 1000000, &count) < 0)
		bad = "count: 0 to 1000000";
	else if (member_int(o, "status", 0, 599, &status) < 0 ||
	    (status != 0 && status < 400))
		bad = "status: 0 (delay only) or 400 to 599";
	else if (member_int(o, "retry_after", 0, 86400, &f.retry_after) < 0)
		bad = "retry_after: 0 to 86400 seconds";
	else if (member_int(o, "delay_ms", 0, 600000, &delay) < 0)
		bad = "delay_ms: 0 to 600000";
	json_object_put(o);
	if (bad != NULL)
		return admin_error(c, 400, bad);
	f.count = (uint64_t)count;
	f.status = (unsigned)status;
	f.delay_ms = (uint64_t)delay;
	pthread_mutex_lock(&srv->lock);
	srv->fail = f;
	pthread_mutex_unlock(&srv->lock);
	return mock_send_static(c, "{\"ok\":true}");
}

/* POST /_mock/webhook: what getWebhookInfo reports besides the url. */
static enum MHD_Result
admin_webhook_set(struct server *srv, struct MHD_Connection *c,
    const struct mock_request *rq)
{
	json_object	*o, *v;
	long long	 pending = -1, date = -1;
	char		*msg = NULL;
	const char	*bad = NULL;
	bool		 set_msg = false;

	o = parse_json(rq->body, rq->len);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		bad = "body must be a JSON object";
	else if (member_int(o, "pending_update_count", 0, INT32_MAX,
	    &pending) < 0)
		bad = "pending_update_count: a count";
	else if (member_int(o, "last_error_date", 0, INT64_MAX, &date) < 0)
		bad = "last_error_date: seconds since the epoch";
	else if (json_object_object_get_ex(o, "last_error_message", &v)) {
		set_msg = true;
		if (v != NULL && !json_object_is_type(v, json_type_string))
			bad = "last_error_message: a string or null";
		else if (v != NULL && (msg = strdup(json_object_get_string(v)))
		    == NULL)
			bad = "out of memory";
	}
	json_object_put(o);
	if (bad != NULL) {
		free(msg);
		return admin_error(c, 400, bad);
	}
	pthread_mutex_lock(&srv->lock);
	if (pending >= 0)
		srv->wh.pending = pending;
	if (set_msg) {
		free(srv->wh.last_error);
		srv->wh.last_error = msg;
		srv->wh.last_error_date = date >= 0 ? date :
		    msg ? (long long)time(NULL) : 0;
	} else if (date >= 0)
		srv->wh.last_error_date = date;
	pthread_mutex_unlock(&srv->lock);
	return mock_send_static(c, "{\"ok\":true}");
}

static enum MHD_Result
admin_requests(struct server *srv, struct MHD_Connection *c)
{
	const char	*plat, *api;
	struct rec	*r;
	FILE		*f;
	char		*body = NULL;
	size_t		 len;
	uint64_t	 i, first;
	bool		 any = false;

	plat = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "platform");
	api = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "api_method");
	if ((f = open_memstream(&body, &len)) == NULL)
		return MHD_NO;
	fputc('[', f);
	pthread_mutex_lock(&srv->lock);
	first = srv->count > RING_SIZE ? srv->count - RING_SIZE : 0;
	for (i = first; i < srv->count; i++) {
		r = &srv->ring[i % RING_SIZE];
		if (plat != NULL && strcmp(plat, platform_names[r->plat]) != 0)
			continue;
		if (api != NULL && (r->api == NULL ||
		    strcasecmp(api, r->api) != 0))
			continue;
		fprintf(f, "%s%s", any ? ",\n" : "\n",
		    r->json ? r->json : "null");
		any = true;
	}
	pthread_mutex_unlock(&srv->lock);
	fputs(any ? "\n]\n" : "]\n", f);
	if (ferror(f) | fclose(f)) {	/* both: fclose() must run */
		free(body);
		body = NULL;
	}
	return mock_send_owned(c, 200, body);
}

static enum MHD_Result
mock_admin(struct server *srv, struct MHD_Connection *c, const char *url,
    const char *method, const struct mock_request *rq)
{
	json_object	*o;
	enum MHD_Result	 ret;
	bool		 get = strcmp(method, "GET") == 0;
	bool		 post = strcmp(method, "POST") == 0;

	if (get && strcmp(url, "/_mock/health") == 0)
		return mock_send_static(c, "{\"ok\":true}");
	if (get && strcmp(url, "/_mock/requests") == 0)
		return admin_requests(srv, c);
	if (post && strcmp(url, "/_mock/reset") == 0) {
		pthread_mutex_lock(&srv->lock);
		ring_clear(srv);
		memset(&srv->fail, 0, sizeof(srv->fail));
		webhook_clear(&srv->wh, true);
		pthread_mutex_unlock(&srv->lock);
		return mock_send_static(c, "{\"ok\":true}");
	}
	if (post && strcmp(url, "/_mock/fail") == 0)
		return admin_fail(srv, c, rq);
	if (get && strcmp(url, "/_mock/webhook") == 0) {
		pthread_mutex_lock(&srv->lock);
		o = webhook_info(srv, true);
		pthread_mutex_unlock(&srv->lock);
		ret = send_json(c, 200, o, -1);
		json_object_put(o);
		return ret;
	}
	if (post && strcmp(url, "/_mock/webhook") == 0)
		return admin_webhook_set(srv, c, rq);
	return admin_error(c, 404, "unknown /_mock endpoint (see "
	    PROG " --help)");
}

/* Takes the next injected failure, if any: f->count is then 1. */
static void
take_failure(struct server *srv, struct failure *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&srv->lock);
	if (srv->fail.count > 0) {
		*f = srv->fail;
		f->count = 1;
		srv->fail.count--;
	}
	pthread_mutex_unlock(&srv->lock);
}

static enum MHD_Result
platform_call(struct server *srv, struct MHD_Connection *c, const char *url,
    const char *method, const struct mock_request *rq)
{
	struct call	 k;
	struct answer	 a = { 500, NULL, -1 };
	struct failure	 f;
	enum MHD_Result	 ret;

	if (call_init(srv, &k, c, url, method, rq) == -1) {
		call_free(&k);
		return MHD_NO;
	}
	memset(&f, 0, sizeof(f));
	if (k.plat != P_UNKNOWN)
		take_failure(srv, &f);
	if (f.count > 0 && mock_nap(&srv->m, f.delay_ms) != 0) {
		call_free(&k);
		return MHD_NO;
	}
	if (f.count > 0 && f.status != 0) {
		k.injected = true;
		injected(&k, &f, &a);
	} else if (rq->total > MAX_BODY) {
		if (k.plat == P_WHATSAPP)
			wa_error(&a, 413, 100, "(#100) Request entity too "
			    "large", "the mock takes bodies up to 1 MiB");
		else
			tg_error(&a, 413, "Request Entity Too Large");
	} else if (k.plat == P_TELEGRAM)
		telegram(srv, &k, &a);
	else if (k.plat == P_WHATSAPP)
		whatsapp(srv, &k, &a);
	else
		tg_error(&a, 404, "Not Found");
	record(srv, &k, &a, rq);
	if (!srv->m.quiet)
		fprintf(stderr, PROG ": %s %s -> %u%s (%llu body bytes)\n",
		    method, k.path, a.status, k.injected ? " injected" : "",
		    (unsigned long long)rq->total);
	ret = send_json(c, a.status, a.body, a.retry_after);
	json_object_put(a.body);
	call_free(&k);
	return ret;
}

/* Each request, once its body is read (up to MAX_BODY). */
static enum MHD_Result
route(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const struct mock_request *rq)
{
	struct server	*srv = arg;

	if (strncmp(url, "/_mock/", 7) == 0)
		return mock_admin(srv, c, url, method, rq);
	return platform_call(srv, c, url, method, rq);
}

static void
usage(FILE *f)
{
	fputs("usage: " PROG " --port N [--port-file PATH] "
	    "[--telegram-token TOKEN]\n"
	    "                     [--whatsapp-token TOKEN] [--quiet]\n"
	    "The Telegram Bot API and the WhatsApp Cloud API, mocked on "
	    "127.0.0.1.\n"
	    "  --port N                TCP port; 0 picks a free one\n"
	    "  --port-file PATH        once listening, write the port there\n"
	    "  --telegram-token TOKEN  other bot tokens get 401 (default: "
	    "any)\n"
	    "  --whatsapp-token TOKEN  other or no Bearer gets 401 (default: "
	    "any)\n"
	    "  --quiet                 no log lines on stderr\n"
	    "Telegram (GET with query or POST with a JSON or form body):\n"
	    "  /bot<TOKEN>/sendMessage     chat_id, text (1..4096 UTF-16 "
	    "units)\n"
	    "  /bot<TOKEN>/setWebhook      url (https://), secret_token,\n"
	    "                              allowed_updates, max_connections,\n"
	    "                              drop_pending_updates\n"
	    "  /bot<TOKEN>/deleteWebhook   drop_pending_updates\n"
	    "  /bot<TOKEN>/getWebhookInfo, /bot<TOKEN>/getMe\n"
	    "WhatsApp (JSON body, Authorization: Bearer <TOKEN>):\n"
	    "  POST /<version>/<phone-number-id>/messages  a text message\n"
	    "Bodies over 1 MiB: 413.  Control:\n"
	    "  GET  /_mock/health    {\"ok\":true}\n"
	    "  GET  /_mock/requests  the last 1024 calls, oldest first, as a "
	    "JSON array of\n"
	    "       {n, platform, method, path (bot token redacted), "
	    "api_method, status,\n"
	    "       content_type, token_ok, authorization_ok, body, body_len, "
	    "query,\n"
	    "       injected, time_ms}; ?platform=telegram|whatsapp|unknown "
	    "and\n"
	    "       ?api_method=NAME filter\n"
	    "  POST /_mock/reset     forget calls, failures, webhook state\n"
	    "  POST /_mock/fail      {\"count\":N,\"status\":S,"
	    "\"retry_after\":R,\"delay_ms\":D}:\n"
	    "       the next N platform calls wait D ms, then answer S "
	    "(0: normally)\n"
	    "       with Retry-After: R when R is given (N 1, S 500 by "
	    "default)\n"
	    "  GET  /_mock/webhook   the webhook state, secret_token "
	    "included\n"
	    "  POST /_mock/webhook   {\"pending_update_count\":N,"
	    "\"last_error_message\":M,\n"
	    "       \"last_error_date\":T} for getWebhookInfo\n", f);
}

/* mock-platform's own options: the tokens it takes. */
static int
option(void *arg, int opt, const char *value)
{
	struct server	*srv = arg;

	if (opt == 't')
		srv->tg_token = value;
	else if (opt == 'w')
		srv->wa_token = value;
	else
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		MOCK_OPTIONS,
		{ "telegram-token", required_argument, NULL, 't' },
		{ "whatsapp-token", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct server	 srv = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int		 rc;

	mock_init(&srv.m, PROG, route, &srv, MAX_BODY);
	srv.m.timeout = 120;
	if ((rc = mock_args(&srv.m, argc, argv, opts, MOCK_SHORTOPTS "t:w:",
	    option, usage)) != -1)
		return rc;
	if ((srv.tg_token != NULL && (*srv.tg_token == '\0' ||
	    strchr(srv.tg_token, '/') != NULL)) ||
	    (srv.wa_token != NULL && *srv.wa_token == '\0')) {
		fprintf(stderr, PROG ": a token must be non-empty (and a bot "
		    "token has no '/')\n");
		return 2;
	}
	rc = mock_serve(&srv.m);
	ring_clear(&srv);
	webhook_clear(&srv.wh, true);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
