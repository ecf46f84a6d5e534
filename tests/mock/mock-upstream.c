/*
 * mock-upstream: a local OpenAI-compatible upstream for the demo quick start,
 * the integration tests and the benchmarks.  usage() lists routes and controls.
 *
 * Thread per connection on purpose: handlers and content callbacks may simply
 * sleep (slow mode, spaced SSE events) with no event-loop bookkeeping.
 * Behaviour is chosen per request by X-Mock-* headers, so that tests can drive
 * it through the gateway, with ?mock_* query arguments as a fallback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#define RING_SIZE	64			/* kept for /_mock/requests */
#define MAX_BODY	(64u * 1024 * 1024)	/* request body kept, parsed */
#define RECORD_BODY	(1024u * 1024)		/* body bytes in the log */
#define JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | \
	JSON_C_TO_STRING_NOSLASHESCAPE)
#define CHUNK_HEAD	"data: {\"id\":\"chatcmpl-mock\",\"object\":" \
	"\"chat.completion.chunk\",\"created\":0,\"model\":\"mock-model\"," \
	"\"choices\":[{\"index\":0,"

static const char models_json[] = "{\"object\":\"list\",\"data\":"
    "[{\"id\":\"mock-model\",\"object\":\"model\",\"created\":0,"
    "\"owned_by\":\"ocss-mock\"}]}";

/* Shared by all connection threads; ring and count are guarded by lock. */
struct server {
	pthread_mutex_t	 lock;
	char		*ring[RING_SIZE];	/* JSON of recent requests */
	uint64_t	 count;			/* recorded since reset */
	atomic_bool	 stopping;		/* sleepers give up */
	char		*reply;			/* POST /_mock/reply, guarded */
	bool		 quiet;
};

/* One HTTP request: made by uri_log(), freed by request_done(). */
struct request {
	char		*raw_url;		/* as sent, query included */
	char		*body;
	size_t		 len, cap;
	uint64_t	 total;			/* even past MAX_BODY */
	bool		 started;
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

/*
 * Sleeps in slices of at most 50 ms so that shutdown never waits out a long
 * delay.  Returns -1 if the server is stopping.
 */
static int
nap(struct server *srv, uint64_t ms)
{
	struct timespec	 step;
	uint64_t	 slice;

	for (; ms > 0 && !atomic_load(&srv->stopping); ms -= slice) {
		slice = ms < 50 ? ms : 50;
		step.tv_sec = 0;
		step.tv_nsec = (long)slice * 1000000;
		nanosleep(&step, NULL);
	}
	return atomic_load(&srv->stopping) ? -1 : 0;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The JSON string literal, quotes included, for s[0..len); NULL on ENOMEM. */
static char *
json_quote(const char *s, size_t len)
{
	json_object	*o;
	const char	*q;
	char		*copy;

	o = json_object_new_string_len(s, (int)len);
	q = o ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;
	copy = q ? strdup(q) : NULL;
	json_object_put(o);
	return copy;
}

/* Queues r (NULL after a failed create) and drops our reference to it. */
static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
    const char *type)
{
	enum MHD_Result	 ret = MHD_NO;

	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type) == MHD_YES)
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_static(struct MHD_Connection *c, const char *text)
{
	return queue(c, 200, MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_PERSISTENT), "application/json");
}

/* Takes body: malloc'ed JSON, or NULL after a failed build. */
static enum MHD_Result
send_owned(struct MHD_Connection *c, unsigned status, char *body)
{
	struct MHD_Response	*r = NULL;

	if (body && (r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE)) == NULL)
		free(body);
	return queue(c, status, r, "application/json");
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
	return send_owned(c, status, body);
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
request_json(struct MHD_Connection *c, const struct request *rq,
    const char *method, size_t body_limit)
{
	static const char *const keys[] =
	    { "method", "path", "headers", "body", "body_len" };
	struct hdr_ctx	 h = { json_object_new_object(), true };
	json_object	*o, *vals[5];
	const char	*s = NULL;
	char		*copy;
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
		s = json_object_to_json_string_ext(o, JSON_FLAGS);
	copy = s ? strdup(s) : NULL;
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
    const char *method, const struct request *rq)
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
		return send_static(c, "{\"reset\":true}");
	}
	/* The assistant's text for requests that do not say (X-Mock-Reply):
	 * for callers that cannot set headers, such as the webhook relay. */
	if (strcmp(url, "/_mock/reply") == 0 && strcmp(method, "POST") == 0) {
		char *r = rq->len ? strndup(rq->body, rq->len) : NULL;

		pthread_mutex_lock(&srv->lock);
		free(srv->reply);
		srv->reply = r;
		pthread_mutex_unlock(&srv->lock);
		return send_static(c, "{\"reply\":true}");
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
	return send_owned(c, 200, body);
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
	if (events && parse_u64(events, 10000, &ct->events) != 0)
		return "X-Mock-Events";
	if (delay && parse_u64(delay, 60000, &ct->delay_ms) != 0)
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
	    parse_u64(mode + 7, 599, &v) == 0 && v >= 200) {
		ct->mode = M_STATUS;
		ct->status = (unsigned)v;
	} else if (strncasecmp(mode, "big:", 4) == 0 &&
	    parse_u64(mode + 4, UINT64_MAX - 1, &ct->big) == 0)
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
		if (s->next > 1 && nap(s->srv, s->delay_ms) != 0)
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
	return queue(c, 200, r, "text/event-stream");
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
	return send_owned(c, 200, body);
}

static enum MHD_Result
chat(struct server *srv, struct MHD_Connection *c, const struct request *rq,
    const struct controls *ct)
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

/*
 * Runs before MHD strips the query, so this is where the raw URL is kept.
 * MHD counts the request as seen by us from here on: request_done() will run.
 */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct request	*rq;

	(void)cls;
	(void)c;
	if ((rq = calloc(1, sizeof(*rq))) != NULL &&
	    (rq->raw_url = strdup(uri)) == NULL) {
		free(rq);
		rq = NULL;
	}
	return rq;	/* NULL makes handle() drop the connection */
}

static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request	*rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->raw_url);
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static int
append_body(struct request *rq, const char *data, size_t n)
{
	size_t	 cap;
	char	*p;

	rq->total += n;
	if (rq->len + n > MAX_BODY)	/* counted, not kept: answered 413 */
		n = MAX_BODY - rq->len;
	if (rq->len + n + 1 > rq->cap) {
		cap = rq->len + n + 1;
		if (cap < rq->cap * 2)
			cap = rq->cap * 2;
		if ((p = realloc(rq->body, cap)) == NULL)
			return -1;
		rq->body = p;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct server	*srv = cls;
	struct request	*rq = *con_cls;
	struct controls	 ct;
	const char	*bad;
	char		 msg[64];
	int		 rc;

	(void)version;
	if (rq == NULL)
		return MHD_NO;
	if (!rq->started) {	/* headers only; a body comes later */
		rq->started = true;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		rc = append_body(rq, upload, *upload_size);
		*upload_size = 0;
		return rc == 0 ? MHD_YES : MHD_NO;
	}
	if (strncmp(url, "/_mock/", 7) == 0)
		return mock_admin(srv, c, url, method, rq);

	record(srv, request_json(c, rq, method, RECORD_BODY));
	if (!srv->quiet)
		fprintf(stderr, "mock-upstream: %s %s (%llu body bytes)\n",
		    method, rq->raw_url, (unsigned long long)rq->total);
	if ((bad = parse_controls(c, &ct)) != NULL) {
		snprintf(msg, sizeof(msg), "invalid %s value", bad);
		return send_error(c, 400, msg);
	}
	if (ct.mode == M_SLOW && nap(srv, ct.delay_ms) != 0)
		return MHD_NO;
	switch (ct.mode) {
	case M_FAIL:
		return send_error(c, 500, "mock failure (X-Mock-Mode: fail)");
	case M_STATUS:
		return send_error(c, ct.status, "mock status (X-Mock-Mode)");
	case M_ECHO:
		return send_owned(c, 200,
		    request_json(c, rq, method, MAX_BODY));
	case M_BIG:	/* generated as sent, never whole in memory */
		return queue(c, 200, MHD_create_response_from_callback(ct.big,
		    64 * 1024, big_read, NULL, NULL),
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
		return send_static(c, models_json);
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

/* Temp file + rename, so that a polling test never reads half a number. */
static int
write_port_file(const char *path, unsigned port)
{
	FILE	*f;
	char	*tmp;
	int	 fd, rc = -1;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -1;
	if ((fd = mkstemp(tmp)) >= 0) {
		if ((f = fdopen(fd, "w")) == NULL)
			close(fd);
		else if (!((fprintf(f, "%u\n", port) < 0) | fclose(f)))
			rc = rename(tmp, path);
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server			 srv;	/* outlives the daemon */
	struct sockaddr_in		 sin;
	struct MHD_Daemon		*d;
	const union MHD_DaemonInfo	*info = NULL;
	const char			*bind_addr = "127.0.0.1";
	const char			*port_file = NULL;
	uint64_t			 port = UINT64_MAX;
	sigset_t			 stop;
	int				 opt, sig, rc = 1;

	memset(&srv, 0, sizeof(srv));
	atomic_init(&srv.stopping, false);
	while ((opt = getopt_long(argc, argv, "p:b:f:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_u64(optarg, 65535, &port) != 0) {
				fprintf(stderr, "mock-upstream: bad --port\n");
				return 2;
			}
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'q':
			srv.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (port == UINT64_MAX || optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "mock-upstream: --bind %s: not IPv4\n",
		    bind_addr);
		return 2;
	}

	/*
	 * Block the stop signals before MHD starts its threads, so that they
	 * all inherit the mask and only sigwait() below ever sees the signals.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 ||
	    pthread_mutex_init(&srv.lock, NULL) != 0) {
		fprintf(stderr, "mock-upstream: cannot set up signals\n");
		return 1;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | (srv.quiet ? 0 : MHD_USE_ERROR_LOG),
	    (uint16_t)port, NULL, NULL, handle, &srv,
	    MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
	    MHD_OPTION_END);
	if (d != NULL)
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		fprintf(stderr, "mock-upstream: cannot listen on %s port %u\n",
		    bind_addr, (unsigned)port);
	else if (port_file && write_port_file(port_file, info->port) != 0)
		fprintf(stderr, "mock-upstream: cannot write %s: %s\n",
		    port_file, strerror(errno));
	else {
		printf("mock-upstream listening on %s:%u\n", bind_addr,
		    (unsigned)info->port);
		fflush(stdout);
		while (sigwait(&stop, &sig) != 0)
			continue;
		rc = 0;
	}
	atomic_store(&srv.stopping, true);
	if (d != NULL)
		MHD_stop_daemon(d);	/* joins every connection thread */
	clear_ring(&srv);
	free(srv.reply);
	pthread_mutex_destroy(&srv.lock);
	return rc;
}
