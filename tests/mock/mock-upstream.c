/*
 * mock-upstream: a local OpenAI-compatible upstream for the demo quick start,
 * the integration tests and the benchmarks.  usage() lists routes and controls.
 *
 * Thread per connection (mockhttp.c): routes and content callbacks may simply
 * sleep (slow mode, spaced SSE events) with no event-loop bookkeeping.
 * Behaviour is chosen per request by X-Mock-* headers, so that tests can drive
 * it through the gateway, with ?mock_* query arguments as a fallback.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "mockhttp.h"

#define RING_SIZE	64			/* kept for /_mock/requests */
#define MAX_BODY	(64u * 1024 * 1024)	/* request body kept, parsed */
#define RECORD_BODY	(1024u * 1024)		/* body bytes in the log */
#define CHUNK_HEAD	"data: {\"id\":\"chatcmpl-mock\",\"object\":" \
	"\"chat.completion.chunk\",\"created\":0,\"model\":\"mock-model\"," \
	"\"choices\":[{\"index\":0,"

static const char models_json[] = "{\"object\":\"list\",\"data\":"
    "[{\"id\":\"mock-model\",\"object\":\"model\",\"created\":0,"
    "\"owned_by\":\"ocss-mock\"}]}";

/* Shared by all connection threads; ring, count and reply under lock. */
struct server {
	struct mock	 m;
	pthread_mutex_t	 lock;
	char		*ring[RING_SIZE];	/* JSON of recent requests */
	uint64_t	 count;			/* recorded since reset */
	char		*reply;			/* POST /_mock/reply */
};

enum mode { M_NORMAL, M_SLOW, M_FAIL, M_DROP, M_STATUS, M_ECHO, M_BIG };

struct controls {
	enum mode	 mode;
	unsigned	 status;
	uint64_t	 big, events, delay_ms;
	const char	*reply;		/* X-Mock-Reply: the assistant's text */
};

struct sse {
	struct server	*srv;
	uint64_t	 events, delay_ms;
	uint64_t	 next;			/* next event, from 1 */
	bool		 drop;
	char		*reply;			/* split over the events */
	char		 buf[4096];
	size_t		 len, off;		/* buf[off..len) is left */
};

/* The JSON string literal, quotes included, for s[0..len); NULL on ENOMEM. */
static char *
json_quote(const char *s, size_t len)
{
	json_object	*o;
	char		*q;

	o = json_object_new_string_len(s, (int)len);
	q = mock_json_text(o);
	json_object_put(o);
	return q;
}

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char	*q, *body = NULL;

	q = json_quote(msg, strlen(msg));
	if (q && asprintf(&body, "{\"error\":{\"message\":%s,\"type\":\"%s\","
	    "\"param\":null,\"code\":%u}}", q, status >= 500 ? "server_error" :
	    "invalid_request_error", status) < 0)
		body = NULL;
	free(q);
	return mock_send_owned(c, status, body);
}

struct hdr_ctx {
	json_object	*obj;
	bool		 ok;
};

/* Lower-cases names; a repeated header is joined with ", " as HTTP allows. */
static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_ctx	*h = cls;
	json_object	*prev, *val = NULL;
	char		*name, *p, *joined = NULL;

	(void)kind;
	if (value == NULL)
		value = "";
	if ((name = strdup(key)) != NULL) {
		for (p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (!json_object_object_get_ex(h->obj, name, &prev))
			val = json_object_new_string(value);
		else if (asprintf(&joined, "%s, %s",
		    json_object_get_string(prev), value) >= 0)
			val = json_object_new_string(joined);
	}
	/* json-c leaves val with us when adding fails */
	if (val == NULL || json_object_object_add(h->obj, name, val) != 0) {
		json_object_put(val);
		h->ok = false;
	}
	free(joined);
	free(name);
	return h->ok ? MHD_YES : MHD_NO;
}

/* {"method","path","headers","body","body_len"}, malloc'ed; NULL on ENOMEM. */
static char *
request_json(struct MHD_Connection *c, const struct mock_request *rq,
    const char *method, size_t body_limit)
{
	static const char *const keys[] =
	    { "method", "path", "headers", "body", "body_len" };
	struct hdr_ctx	 h = { json_object_new_object(), true };
	json_object	*o, *vals[5];
	char		*copy = NULL;
	size_t		 i;

	if (h.obj)
		MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &h);
	o = json_object_new_object();
	vals[0] = json_object_new_string(method);
	vals[1] = json_object_new_string(rq->raw_url);
	vals[2] = h.obj;
	vals[3] = json_object_new_string_len(rq->body ? rq->body : "",
	    (int)(rq->len < body_limit ? rq->len : body_limit));
	vals[4] = json_object_new_uint64(rq->total);
	for (i = 0; i < 5; i++) {
		if (o == NULL || vals[i] == NULL ||
		    json_object_object_add(o, keys[i], vals[i]) != 0) {
			json_object_put(vals[i]);
			h.ok = false;
		}
	}
	if (h.ok)
		copy = mock_json_text(o);
	json_object_put(o);
	return copy;
}

static void
clear_ring(struct server *srv)
{
	size_t	 i;

	for (i = 0; i < RING_SIZE; i++) {
		free(srv->ring[i]);
		srv->ring[i] = NULL;
	}
	srv->count = 0;
}

/* Takes entry; NULL (out of memory) is listed as null. */
static void
record(struct server *srv, char *entry)
{
	size_t	 slot;

	pthread_mutex_lock(&srv->lock);
	slot = (size_t)(srv->count++ % RING_SIZE);
	free(srv->ring[slot]);
	srv->ring[slot] = entry;
	pthread_mutex_unlock(&srv->lock);
}

static enum MHD_Result
mock_admin(struct server *srv, struct MHD_Connection *c, const char *url,
    const char *method, const struct mock_request *rq)
{
	FILE		*f;
	char		*body = NULL;
	const char	*e;
	size_t		 len;
	uint64_t	 i, n;

	if (strcmp(url, "/_mock/reset") == 0 && strcmp(method, "POST") == 0) {
		pthread_mutex_lock(&srv->lock);
		clear_ring(srv);
		free(srv->reply);
		srv->reply = NULL;
		pthread_mutex_unlock(&srv->lock);
		return mock_send_static(c, "{\"reset\":true}");
	}
	/* The assistant's text for requests that do not say (X-Mock-Reply):
	 * for callers that cannot set headers, such as the webhook relay. */
	if (strcmp(url, "/_mock/reply") == 0 && strcmp(method, "POST") == 0) {
		char *r = rq->len ? strndup(rq->body, rq->len) : NULL;

		pthread_mutex_lock(&srv->lock);
		free(srv->reply);
		srv->reply = r;
		pthread_mutex_unlock(&srv->lock);
		return mock_send_static(c, "{\"reply\":true}");
	}
	if (strcmp(url, "/_mock/requests") != 0 || strcmp(method, "GET") != 0)
		return send_error(c, 404, "unknown /_mock endpoint");
	if ((f = open_memstream(&body, &len)) == NULL)
		return MHD_NO;
	pthread_mutex_lock(&srv->lock);
	n = srv->count < RING_SIZE ? srv->count : RING_SIZE;
	fprintf(f, "{\"count\":%llu,\"requests\":[",
	    (unsigned long long)srv->count);
	for (i = 0; i < n; i++) {
		e = srv->ring[(srv->count - n + i) % RING_SIZE];
		fprintf(f, "%s%s", i ? "," : "", e ? e : "null");
	}
	pthread_mutex_unlock(&srv->lock);
	fputs("]}", f);
	if (ferror(f) | fclose(f)) {	/* both: fclose() must run */
		free(body);
		body = NULL;
	}
	return mock_send_owned(c, 200, body);
}

/* Headers first, so that the controls pass through the gateway. */
static const char *
control(struct MHD_Connection *c, const char *header, const char *arg)
{
	const char	*v;

	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
	if (v == NULL)
		v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, arg);
	return v;
}

/* Returns NULL, or the name of the control whose value is invalid. */
static const char *
parse_controls(struct MHD_Connection *c, struct controls *ct)
{
	const char	*mode, *events, *delay;
	uint64_t	 v;

	mode = control(c, "X-Mock-Mode", "mock_mode");
	events = control(c, "X-Mock-Events", "mock_events");
	delay = control(c, "X-Mock-Delay-Ms", "mock_delay_ms");
	memset(ct, 0, sizeof(*ct));
	ct->reply = control(c, "X-Mock-Reply", "mock_reply");
	ct->events = 3;
	if (events && mock_parse_u64(events, 10000, &ct->events) != 0)
		return "X-Mock-Events";
	if (delay && mock_parse_u64(delay, 60000, &ct->delay_ms) != 0)
		return "X-Mock-Delay-Ms";
	if (mode == NULL || *mode == '\0')
		ct->mode = M_NORMAL;
	else if (strcasecmp(mode, "slow") == 0) {
		ct->mode = M_SLOW;
		ct->delay_ms = delay ? ct->delay_ms : 3000;
	} else if (strcasecmp(mode, "fail") == 0)
		ct->mode = M_FAIL;
	else if (strcasecmp(mode, "drop") == 0)
		ct->mode = M_DROP;
	else if (strcasecmp(mode, "echo") == 0)
		ct->mode = M_ECHO;
	/* 1xx are not final answers; MHD will not queue them as such */
	else if (strncasecmp(mode, "status:", 7) == 0 &&
	    mock_parse_u64(mode + 7, 599, &v) == 0 && v >= 200) {
		ct->mode = M_STATUS;
		ct->status = (unsigned)v;
	} else if (strncasecmp(mode, "big:", 4) == 0 &&
	    mock_parse_u64(mode + 4, UINT64_MAX - 1, &ct->big) == 0)
		ct->mode = M_BIG;	/* UINT64_MAX is MHD_SIZE_UNKNOWN */
	else
		return "X-Mock-Mode";
	return NULL;
}

/*
 * Hands MHD one SSE event per call.  MHD sends (and pushes) what one call
 * returned before it asks again, so each event leaves as its own write, and
 * the delay is slept here, on the connection's own thread.
 */
static ssize_t
sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse	*s = cls;
	size_t		 k;
	int		 n;

	(void)pos;
	if (s->off == s->len) {
		if (s->next > s->events + 2)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->next > 1 && mock_nap(&s->srv->m, s->delay_ms) != 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->drop && s->next > 2)	/* no last chunk: a cut */
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->next <= s->events && s->reply != NULL) {
			/* Slice next of the reply, so a phrase spans events. */
			size_t	 rl = strlen(s->reply);
			size_t	 a = rl * (s->next - 1) / s->events;
			size_t	 b = rl * s->next / s->events;
			char	*q = json_quote(s->reply + a, b - a);

			n = q == NULL ? -1 : snprintf(s->buf, sizeof(s->buf),
			    CHUNK_HEAD "\"delta\":{\"content\":%s},"
			    "\"finish_reason\":null}]}\n\n", q);
			free(q);
		} else if (s->next <= s->events)
			n = snprintf(s->buf, sizeof(s->buf), CHUNK_HEAD
			    "\"delta\":{\"content\":\"event %llu \"},"
			    "\"finish_reason\":null}]}\n\n",
			    (unsigned long long)s->next);
		else if (s->next == s->events + 1)
			n = snprintf(s->buf, sizeof(s->buf), "%s", CHUNK_HEAD
			    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
		else
			n = snprintf(s->buf, sizeof(s->buf),
			    "data: [DONE]\n\n");
		if (n < 0 || (size_t)n >= sizeof(s->buf))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		s->len = (size_t)n;
		s->off = 0;
		s->next++;
	}
	k = s->len - s->off < max ? s->len - s->off : max;
	memcpy(out, s->buf + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

static void
sse_free(void *p)
{
	struct sse	*s = p;

	free(s->reply);
	free(s);
}

static enum MHD_Result
send_sse(struct server *srv, struct MHD_Connection *c,
    const struct controls *ct)
{
	struct MHD_Response	*r;
	struct sse		*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MHD_NO;
	s->srv = srv;
	s->next = 1;
	s->drop = ct->mode == M_DROP;
	s->events = s->drop ? 2 : ct->events;
	if (ct->reply != NULL && s->events > 0 &&
	    (s->reply = strdup(ct->reply)) == NULL) {
		free(s);
		return MHD_NO;
	}
	/* in slow mode the delay was spent before the headers */
	s->delay_ms = ct->mode == M_SLOW ? 0 : ct->delay_ms;
	/* Unknown size: chunked on HTTP/1.1, so a dropped stream shows. */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read,
	    s, sse_free);
	if (r == NULL) {
		sse_free(s);
		return MHD_NO;
	}
	return mock_queue(c, 200, r, "text/event-stream");
}

/* MHD clamps max to what is left of the declared size. */
static ssize_t
big_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)cls;
	(void)pos;
	memset(out, 'x', max);
	return (ssize_t)max;
}

static void
put_text(json_object *s, FILE *f)
{
	if (json_object_is_type(s, json_type_string))
		fwrite(json_object_get_string(s), 1,
		    (size_t)json_object_get_string_len(s), f);
}

/*
 * Writes the text of the last user message to f.  The text parts of an
 * array content are concatenated without separator; other parts are skipped.
 */
static void
last_user_text(json_object *req, FILE *f)
{
	json_object	*msgs, *m, *role, *content, *t;
	size_t		 i, j;

	if (!json_object_object_get_ex(req, "messages", &msgs) ||
	    !json_object_is_type(msgs, json_type_array))
		return;
	for (i = json_object_array_length(msgs); i-- > 0;) {
		m = json_object_array_get_idx(msgs, i);
		if (!json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string) ||
		    strcmp(json_object_get_string(role), "user") != 0)
			continue;
		if (!json_object_object_get_ex(m, "content", &content))
			return;
		put_text(content, f);
		for (j = 0; json_object_is_type(content, json_type_array) &&
		    j < json_object_array_length(content); j++)
			if (json_object_object_get_ex(
			    json_object_array_get_idx(content, j), "text", &t))
				put_text(t, f);
		return;
	}
}

static enum MHD_Result
send_completion(struct MHD_Connection *c, json_object *req, const char *text)
{
	static const char prefix[] = "mock reply: ";
	FILE	*f;
	char	*reply = NULL, *q = NULL, *body = NULL;
	size_t	 len = 0, prompt, completion;

	if ((f = open_memstream(&reply, &len)) == NULL)
		return MHD_NO;
	if (text != NULL)
		fputs(text, f);
	else {
		fputs(prefix, f);
		last_user_text(req, f);
	}
	if (!(ferror(f) | fclose(f)))	/* both: fclose() must run */
		q = json_quote(reply, len);
	/* Rough counts, four bytes a token; only q != NULL uses them. */
	prompt = (len - (sizeof(prefix) - 1) + 3) / 4;
	completion = (len + 3) / 4;
	if (q && asprintf(&body, "{\"id\":\"chatcmpl-mock\",\"object\":"
	    "\"chat.completion\",\"created\":0,\"model\":\"mock-model\","
	    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	    "\"content\":%s},\"finish_reason\":\"stop\"}],\"usage\":"
	    "{\"prompt_tokens\":%zu,\"completion_tokens\":%zu,"
	    "\"total_tokens\":%zu}}", q, prompt, completion,
	    prompt + completion) < 0)
		body = NULL;
	free(reply);
	free(q);
	return mock_send_owned(c, 200, body);
}

static enum MHD_Result
chat(struct server *srv, struct MHD_Connection *c,
    const struct mock_request *rq, const struct controls *ct)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	enum MHD_Result		 ret;
	json_object		*req = NULL, *stream;
	char			 msg[128];

	if (rq->total > MAX_BODY)
		return send_error(c, 413, "request body exceeds 64 MiB");
	if ((tok = json_tokener_new_ex(256)) == NULL)
		return MHD_NO;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* no trailing junk */
	if (rq->len > 0)
		req = json_tokener_parse_ex(tok, rq->body, (int)rq->len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);

	if (req == NULL || jerr != json_tokener_success) {
		snprintf(msg, sizeof(msg), "request body is not valid JSON: %s",
		    rq->len == 0 ? "empty" : jerr == json_tokener_continue ?
		    "truncated" : json_tokener_error_desc(jerr));
		ret = send_error(c, 400, msg);
	} else if (!json_object_is_type(req, json_type_object))
		ret = send_error(c, 400, "request body must be a JSON object");
	else if (json_object_object_get_ex(req, "stream", &stream) &&
	    json_object_is_type(stream, json_type_boolean) &&
	    json_object_get_boolean(stream))
		ret = send_sse(srv, c, ct);
	else if (ct->mode == M_DROP)
		ret = MHD_NO;	/* MHD closes the connection, no response */
	else
		ret = send_completion(c, req, ct->reply);
	json_object_put(req);
	return ret;
}

/* Each request, once its body is read (up to MAX_BODY). */
static enum MHD_Result
route(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const struct mock_request *rq)
{
	struct server	*srv = arg;
	struct controls	 ct;
	const char	*bad;
	char		 msg[64];

	if (strncmp(url, "/_mock/", 7) == 0)
		return mock_admin(srv, c, url, method, rq);

	record(srv, request_json(c, rq, method, RECORD_BODY));
	if (!srv->m.quiet)
		fprintf(stderr, "mock-upstream: %s %s (%llu body bytes)\n",
		    method, rq->raw_url, (unsigned long long)rq->total);
	if ((bad = parse_controls(c, &ct)) != NULL) {
		snprintf(msg, sizeof(msg), "invalid %s value", bad);
		return send_error(c, 400, msg);
	}
	if (ct.mode == M_SLOW && mock_nap(&srv->m, ct.delay_ms) != 0)
		return MHD_NO;
	switch (ct.mode) {
	case M_FAIL:
		return send_error(c, 500, "mock failure (X-Mock-Mode: fail)");
	case M_STATUS:
		return send_error(c, ct.status, "mock status (X-Mock-Mode)");
	case M_ECHO:
		return mock_send_owned(c, 200,
		    request_json(c, rq, method, MAX_BODY));
	case M_BIG:	/* generated as sent, never whole in memory */
		return mock_queue(c, 200, MHD_create_response_from_callback(
		    ct.big, 64 * 1024, big_read, NULL, NULL),
		    "application/octet-stream");
	default:
		break;
	}
	if (strcmp(method, "POST") == 0 &&
	    strcmp(url, "/v1/chat/completions") == 0) {
		enum MHD_Result	 ret;
		char		*fixed = NULL;

		if (ct.reply == NULL) {
			pthread_mutex_lock(&srv->lock);
			if (srv->reply != NULL)
				ct.reply = fixed = strdup(srv->reply);
			pthread_mutex_unlock(&srv->lock);
		}
		ret = chat(srv, c, rq, &ct);
		free(fixed);
		return ret;
	}
	if (ct.mode == M_DROP)
		return MHD_NO;	/* MHD closes the connection, no response */
	if (strcmp(method, "GET") == 0 &&
	    (strcmp(url, "/v1/models") == 0 || strcmp(url, "/static") == 0))
		return mock_send_static(c, models_json);
	return send_error(c, 404, "no such route on mock-upstream");
}

static void
usage(FILE *f)
{
	fputs("usage: mock-upstream --port N [--bind ADDR] [--port-file PATH]"
	    " [--quiet]\n"
	    "  --port N          TCP port; 0 picks a free one\n"
	    "  --bind ADDR       IPv4 address (default 127.0.0.1)\n"
	    "  --port-file PATH  once listening, write the port there\n"
	    "  --quiet           no log lines on stderr\n"
	    "routes: GET /v1/models, GET /static, POST /v1/chat/completions,\n"
	    "        GET /_mock/requests, POST /_mock/reset,\n"
	    "        POST /_mock/reply (body: the reply when X-Mock-Reply is\n"
	    "        absent; empty body: back to echoing)\n"
	    "per request, header or query argument (default, maximum):\n"
	    "  X-Mock-Events    mock_events    SSE events (3, 10000)\n"
	    "  X-Mock-Reply     mock_reply     the assistant's text (split over\n"
	    "                                  the SSE events when streaming)\n"
	    "  X-Mock-Delay-Ms  mock_delay_ms  ms between events (0, 60000)\n"
	    "  X-Mock-Mode      mock_mode      slow | fail | drop | echo |\n"
	    "                                  status:NNN | big:BYTES\n", f);
}

/* mock-upstream's own option: --bind. */
static int
option(void *arg, int opt, const char *value)
{
	struct server	*srv = arg;

	if (opt != 'b')
		return -1;
	srv->m.bind = value;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		MOCK_OPTIONS,
		{ "bind", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct server	 srv = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int		 rc;

	mock_init(&srv.m, "mock-upstream", route, &srv, MAX_BODY);
	if ((rc = mock_args(&srv.m, argc, argv, opts, MOCK_SHORTOPTS "b:",
	    option, usage)) != -1)
		return rc;
	rc = mock_serve(&srv.m);
	clear_ring(&srv);
	free(srv.reply);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
