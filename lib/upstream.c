#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "upstream.h"

#define MAX_RESP_HEADERS 64

#define MAX_SOCKS	4	/* a transfer's sockets: eyeballs, resolver */

struct ocss_upstream {
	CURL			*h;
	CURLM			*m;	/* h's own: driven by perform() */
	struct pollfd		 ps[MAX_SOCKS];	/* what curl asked to watch */
	int			 nps;
	long			 timer_ms;	/* curl's timer, -1: none */
	const struct ocss_config *cfg;
	struct ocss_buf		 url;
	struct ocss_buf		 line;	/* one "Name: value" for the slist */
	struct ocss_buf		 authz;	/* "Bearer <upstream token>" */
	char			 errbuf[CURL_ERROR_SIZE];
	int			 configured;	/* the fixed options are set */
	int			 method_set;	/* last request left method options */

	/* Probe cache. */
	time_t			 probe_at;
	int			 probe_up;
	long			 probe_ms;

	/* State of the request in flight. */
	const struct ocss_fwd	*fwd;
	struct ocss_writer	*w;
	struct ocss_fwd_result	*res;
	int			 status;
	struct ocss_buf		 rh;	/* response headers: name\0value\0 */
	size_t			 rh_off[MAX_RESP_HEADERS][2];
	size_t			 nrh;
	int			 sse;
	int			 client_gone;
	int			 too_large;
	int			 truncated;
	int			 cut;
	int			 nomem;
	int			 decided;	/* filter said stream or hold */
	int			 holding;
	struct ocss_buf		 held;
	size_t			 body_off;
	struct timespec		 last_out;
};

/* Hop-by-hop and headers ocss owns: never copied from client to upstream. */
static const char *drop_req[] = {
	"Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Host", "Content-Length", "Authorization", "Expect", "Accept-Encoding",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Forwarded-Port", "Forwarded", "X-Real-Ip", "X-Request-Id",
	"X-Governance-Plan-Id", "X-Governance-Token", NULL
};

/* Hop-by-hop on the way back; the web server does its own framing. */
static const char *drop_resp[] = {
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "X-Request-Id",
	"Status", NULL
};

static int
in_list(const char **list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncasecmp(*list, name, len) == 0)
			return 1;
	return 0;
}

int
ocss_upstream_drop_request_header(const char *name)
{
	return in_list(drop_req, name, strlen(name));
}

static int	on_progress(void *, curl_off_t, curl_off_t, curl_off_t,
		    curl_off_t);

/* curl says which sockets of the transfer to watch for what. */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct ocss_upstream *u = arg;
	int		 i;

	(void)e; (void)sockp;
	for (i = 0; i < u->nps && u->ps[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < u->nps)
			u->ps[i] = u->ps[--u->nps];
		return 0;
	}
	if (i == u->nps) {
		if (u->nps == MAX_SOCKS)
			return -1;	/* fails the transfer */
		u->nps++;
	}
	u->ps[i].fd = fd;
	u->ps[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
	    (what & CURL_POLL_OUT ? POLLOUT : 0));
	return 0;
}

static int
on_timer(CURLM *m, long ms, void *arg)
{
	struct ocss_upstream *u = arg;

	(void)m;
	u->timer_ms = ms;
	return 0;
}

/*
 * curl_easy_perform() without its extra polls: the handle's own multi
 * handle in socket mode, one poll(2) per wait on exactly the sockets curl
 * asked for, and the readiness passed in, so curl need not poll again to
 * learn it.  Waits are cut at a second, and a wait that ends with nothing
 * to read checks the SSE heartbeat, as often as curl_easy_perform() ran
 * the progress callback.
 */
static CURLcode
perform(struct ocss_upstream *u)
{
	struct pollfd	 ready[MAX_SOCKS];
	CURLMsg		*msg;
	CURLcode	 cc = CURLE_OK;
	int		 running = 0, n, i, left, ev;
	long		 t;

	u->nps = 0;
	u->timer_ms = -1;
	if (curl_multi_add_handle(u->m, u->h) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_socket_action(u->m, CURL_SOCKET_TIMEOUT, 0,
	    &running) != CURLM_OK)
		running = 0;
	while (running) {
		t = u->timer_ms < 0 || u->timer_ms > 1000 ? 1000 : u->timer_ms;
		n = poll(u->ps, (nfds_t)u->nps, (int)t);
		if (n == -1 && errno != EINTR) {
			cc = CURLE_RECV_ERROR;
			break;
		}
		if (n <= 0) {
			if (curl_multi_socket_action(u->m, CURL_SOCKET_TIMEOUT,
			    0, &running) != CURLM_OK)
				break;
			/* curl calls the progress callback only for a transfer
			 * it runs, and a silent stream runs on no timer: the
			 * heartbeat is checked here, as curl_easy_perform()'s
			 * wake-ups once a second did. */
			if (running && on_progress(u, 0, 0, 0, 0) != 0) {
				cc = CURLE_ABORTED_BY_CALLBACK;
				break;
			}
			continue;
		}
		/* The callbacks may change u->ps: act on a copy. */
		memcpy(ready, u->ps, sizeof(ready));
		for (i = 0, left = u->nps; i < left; i++) {
			if (ready[i].revents == 0)
				continue;
			ev = (ready[i].revents & (POLLIN | POLLHUP) ?
			    CURL_CSELECT_IN : 0) |
			    (ready[i].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
			    (ready[i].revents & (POLLERR | POLLNVAL) ?
			    CURL_CSELECT_ERR : 0);
			if (curl_multi_socket_action(u->m, ready[i].fd, ev,
			    &running) != CURLM_OK) {
				running = 0;
				break;
			}
		}
	}
	while ((msg = curl_multi_info_read(u->m, &n)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	curl_multi_remove_handle(u->m, u->h);
	return cc;
}

struct ocss_upstream *
ocss_upstream_new(const struct ocss_config *cfg, struct ocss_err *err)
{
	struct ocss_upstream *u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	if ((u->h = curl_easy_init()) == NULL ||
	    (u->m = curl_multi_init()) == NULL) {
		ocss_err_set(err, "curl_easy_init failed");
		curl_easy_cleanup(u->h);
		free(u);
		return NULL;
	}
	curl_multi_setopt(u->m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(u->m, CURLMOPT_SOCKETDATA, u);
	curl_multi_setopt(u->m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(u->m, CURLMOPT_TIMERDATA, u);
	u->cfg = cfg;
	if (ocss_buf_printf(&u->authz, "Bearer %s", cfg->upstream_token)) {
		ocss_err_set(err, "out of memory");
		ocss_upstream_free(u);
		return NULL;
	}
	return u;
}

void
ocss_upstream_free(struct ocss_upstream *u)
{
	if (u == NULL)
		return;
	curl_multi_cleanup(u->m);
	curl_easy_cleanup(u->h);
	ocss_buf_free(&u->url);
	ocss_buf_free(&u->line);
	if (u->authz.data != NULL)
		OPENSSL_cleanse(u->authz.data, u->authz.len);
	ocss_buf_free(&u->authz);
	ocss_buf_free(&u->rh);
	ocss_buf_free(&u->held);
	free(u);
}

static void
collect_headers(struct ocss_upstream *u, struct ocss_header *h, size_t *n)
{
	size_t	 i;

	for (i = 0; i < u->nrh; i++) {
		h[*n].name = u->rh.data + u->rh_off[i][0];
		h[(*n)++].value = u->rh.data + u->rh_off[i][1];
	}
	h[*n].name = "X-Request-Id";
	h[(*n)++].value = u->fwd->req->id;
}

/* Send the head; with a held body, held() may add headers first. */
static int
send_head(struct ocss_upstream *u)
{
	struct ocss_header h[MAX_RESP_HEADERS + 6];
	size_t		 n = 0, nextra = 0;

	collect_headers(u, h, &n);
	if (u->holding && u->fwd->filter->held != NULL) {
		u->fwd->filter->held(u->fwd->filter->arg, u->held.data,
		    u->held.len, h + n, &nextra);
		n += nextra > 4 ? 4 : nextra;
	}
	u->res->head_sent = 1;
	if (u->sse)	/* only event streams get heartbeats */
		clock_gettime(CLOCK_MONOTONIC, &u->last_out);
	if (u->w->head(u->w->arg, u->status, h, n) == -1) {
		u->client_gone = 1;
		return -1;
	}
	return 0;
}

/* Ask the filter, once, whether to stream or hold the body. */
static void
decide(struct ocss_upstream *u)
{
	struct ocss_header h[MAX_RESP_HEADERS + 2];
	size_t		 n = 0;

	if (u->decided)
		return;
	u->decided = 1;
	if (u->fwd->filter == NULL || u->fwd->filter->head == NULL)
		return;
	collect_headers(u, h, &n);
	u->holding = u->fwd->filter->head(u->fwd->filter->arg, u->status, h,
	    n) == 1;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ocss_upstream *u = arg;
	size_t		 len = size * nmemb, nl, vs, ve;
	const char	*colon;

	/* Trim the line end; curl hands over one header line per call. */
	ve = len;
	while (ve > 0 && (p[ve - 1] == '\r' || p[ve - 1] == '\n'))
		ve--;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new status line (after 1xx, too) starts a fresh set. */
		const char *sp = memchr(p, ' ', ve);
		u->status = sp ? atoi(sp + 1) : 0;
		u->nrh = 0;
		ocss_buf_reset(&u->rh);
		u->sse = 0;
		return len;
	}
	if (ve == 0 || (colon = memchr(p, ':', ve)) == NULL)
		return len;
	nl = (size_t)(colon - p);
	if (nl == 0 || in_list(drop_resp, p, nl))
		return len;
	vs = nl + 1;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0 &&
	    ve - vs >= 17 && strncasecmp(p + vs, "text/event-stream", 17) == 0)
		u->sse = 1;
	if (u->nrh == MAX_RESP_HEADERS)
		return len;	/* more than we pass on: drop the rest */
	u->rh_off[u->nrh][0] = u->rh.len;
	if (ocss_buf_append(&u->rh, p, nl) == -1 ||
	    ocss_buf_putc(&u->rh, '\0') == -1) {
		u->nomem = 1;
		return 0;
	}
	u->rh_off[u->nrh][1] = u->rh.len;
	if (ocss_buf_append(&u->rh, p + vs, ve - vs) == -1 ||
	    ocss_buf_putc(&u->rh, '\0') == -1) {
		u->nomem = 1;
		return 0;
	}
	u->nrh++;
	return len;
}

static int	pass_chunk(struct ocss_upstream *, const char *, size_t);

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ocss_upstream *u = arg;
	size_t		 len = size * nmemb;

	decide(u);
	if (u->holding) {
		if (u->held.len + len <= u->fwd->filter->hold_max) {
			if (ocss_buf_append(&u->held, p, len) == -1) {
				u->nomem = 1;
				return 0;
			}
			return len;
		}
		/* Too big to hold: head as it is, then stream what we have
		 * and the rest through data(). */
		u->holding = 0;
		if (send_head(u) == -1 || (u->held.len && pass_chunk(u,
		    u->held.data, u->held.len) == -1))
			return 0;
		ocss_buf_reset(&u->held);
		return pass_chunk(u, p, len) == -1 ? 0 : len;
	}
	if (!u->res->head_sent && send_head(u) == -1)
		return 0;
	return pass_chunk(u, p, len) == -1 ? 0 : len;
}

/* One chunk through the filter to the client, flushed. */
static int
pass_chunk(struct ocss_upstream *u, const char *p, size_t len)
{
	int	 f = 0;

	if (u->fwd->filter != NULL && u->fwd->filter->data != NULL) {
		f = u->fwd->filter->data(u->fwd->filter->arg, p, len, u->w);
		if (f == -1) {
			u->cut = 1;
			(void)u->w->flush(u->w->arg);
			return -1;
		}
	}
	if (f == 0 && u->w->body(u->w->arg, p, len) == -1) {
		u->client_gone = 1;
		return -1;
	}
	if (u->w->flush(u->w->arg) == -1) {
		u->client_gone = 1;
		return -1;
	}
	u->res->bytes_down += (long long)len;
	if (u->sse)
		clock_gettime(CLOCK_MONOTONIC, &u->last_out);
	return 0;
}

/* Called by curl about once a second: keeps silent event streams alive
 * through front ends that cut idle responses, and notices a gone client. */
static int
on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
    curl_off_t uln)
{
	struct ocss_upstream *u = arg;
	struct timespec	 now;
	static const char ping[] = ": ping\n\n";

	(void)dlt; (void)dln; (void)ult; (void)uln;
	if (!u->sse || !u->res->head_sent || u->cfg->heartbeat == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - u->last_out.tv_sec < u->cfg->heartbeat)
		return 0;
	u->last_out = now;
	if (u->w->body(u->w->arg, ping, sizeof(ping) - 1) == -1 ||
	    u->w->flush(u->w->arg) == -1) {
		u->client_gone = 1;
		return 1;
	}
	return 0;
}

static size_t
on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ocss_upstream *u = arg;
	const struct ocss_fwd *f = u->fwd;
	size_t		 len = size * nmemb, n;
	ssize_t		 r;

	if (f->body != NULL) {
		n = f->body_len - u->body_off;
		if (n > len)
			n = len;
		memcpy(p, f->body + u->body_off, n);
		u->body_off += n;
		u->res->bytes_up += (long long)n;
		return n;
	}
	r = f->req->read(f->req->read_arg, p, len);
	if (r < 0) {
		u->truncated = 1;
		return CURL_READFUNC_ABORT;
	}
	if (r == 0 && f->req->content_length >= 0 &&
	    u->res->bytes_up < f->req->content_length) {
		u->truncated = 1;
		return CURL_READFUNC_ABORT;
	}
	u->res->bytes_up += r;
	if ((unsigned long long)u->res->bytes_up > u->cfg->max_body) {
		u->too_large = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)r;
}

static int
add_header(struct ocss_upstream *u, struct curl_slist **l, const char *name,
    const char *value)
{
	struct curl_slist *n;

	ocss_buf_reset(&u->line);
	if (ocss_buf_puts(&u->line, name) == -1 ||
	    ocss_buf_puts(&u->line, ": ") == -1 ||
	    ocss_buf_puts(&u->line, value) == -1)
		return -1;
	if ((n = curl_slist_append(*l, u->line.data)) == NULL)
		return -1;
	*l = n;
	return 0;
}

/* Is name listed in the client's Connection header (hop-by-hop by name)? */
static int
named_in_connection(const char *conn, const char *name)
{
	size_t	 nl = strlen(name), tl;
	const char *p = conn;

	while (conn != NULL && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		tl = strcspn(p, ", \t");
		if (tl == nl && strncasecmp(p, name, nl) == 0)
			return 1;
		p += tl;
	}
	return 0;
}

static int
has_request_body(const struct ocss_request *r)
{
	if (r->content_length > 0)
		return 1;
	if (r->content_length == 0)
		return 0;
	return r->body_to_eof ||
	    ocss_request_header(r, "Transfer-Encoding") != NULL;
}

/*
 * How the handle reaches the upstream, for forwards and probes alike:
 * straight to UPSTREAM_URL, since proxy variables a worker inherits
 * (http_proxy, all_proxy, ...) must not divert a connection that carries
 * the upstream token (and libcurl need not read them on every transfer).
 */
static void
connect_options(struct ocss_upstream *u)
{
	curl_easy_setopt(u->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(u->h, CURLOPT_PROXY, "");
	curl_easy_setopt(u->h, CURLOPT_PROTOCOLS_STR, "http,https");
}

/*
 * The options every forwarded request shares, set once per handle rather
 * than after a curl_easy_reset() per request: the handle keeps them, and
 * its connection, from one request to the next.  ocss_upstream_probe()
 * resets the handle and so calls for this again.
 */
static void
configure(struct ocss_upstream *u)
{
	connect_options(u);
	curl_easy_setopt(u->h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(u->h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(u->h, CURLOPT_ERRORBUFFER, u->errbuf);
	curl_easy_setopt(u->h, CURLOPT_CONNECTTIMEOUT, u->cfg->connect_timeout);
	curl_easy_setopt(u->h, CURLOPT_TIMEOUT, u->cfg->upstream_timeout);
	curl_easy_setopt(u->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(u->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(u->h, CURLOPT_HEADERDATA, u);
	curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(u->h, CURLOPT_WRITEDATA, u);
	curl_easy_setopt(u->h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(u->h, CURLOPT_READDATA, u);
	curl_easy_setopt(u->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(u->h, CURLOPT_XFERINFODATA, u);
	curl_easy_setopt(u->h, CURLOPT_NOPROGRESS, 0L);
	u->configured = 1;
	/* The probe's HEAD (NOBODY) may still be set: start from a GET. */
	u->method_set = 1;
}

/* Back to a plain GET: undo whatever the last request set for its method,
 * so that, say, a GET after a POST carries no upload or custom verb. */
static void
method_reset(struct ocss_upstream *u)
{
	if (!u->method_set)
		return;
	curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE, -1L);
	curl_easy_setopt(u->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(u->h, CURLOPT_CUSTOMREQUEST, NULL);
	/* Last: GET, and with it upload and nobody off. */
	curl_easy_setopt(u->h, CURLOPT_HTTPGET, 1L);
	u->method_set = 0;
}

int
ocss_upstream_forward(struct ocss_upstream *u, const struct ocss_fwd *f,
    struct ocss_writer *w, struct ocss_fwd_result *res)
{
	const struct ocss_request *r = f->req;
	struct curl_slist *hl = NULL;
	const char	*conn;
	size_t		 i;
	CURLcode	 cc;
	int		 body;

	memset(res, 0, sizeof(*res));
	u->fwd = f;
	u->w = w;
	u->res = res;
	u->status = 0;
	u->nrh = 0;
	ocss_buf_reset(&u->rh);
	u->sse = u->client_gone = u->too_large = u->truncated = 0;
	u->cut = u->nomem = u->decided = u->holding = 0;
	ocss_buf_reset(&u->held);
	u->body_off = 0;
	u->errbuf[0] = '\0';

	ocss_buf_reset(&u->url);
	if (ocss_buf_puts(&u->url, u->cfg->upstream_url) == -1 ||
	    ocss_buf_puts(&u->url, f->target) == -1)
		goto nomem;

	conn = ocss_request_header(r, "Connection");
	for (i = 0; i < r->nheaders; i++) {
		if (ocss_upstream_drop_request_header(r->headers[i].name) ||
		    named_in_connection(conn, r->headers[i].name))
			continue;
		if (add_header(u, &hl, r->headers[i].name,
		    r->headers[i].value) == -1)
			goto nomem;
	}
	for (i = 0; i < f->nadd; i++)
		if (add_header(u, &hl, f->add[i].name, f->add[i].value) == -1)
			goto nomem;
	/* The client's credential is ocss's; the upstream gets its own. */
	if (add_header(u, &hl, "Authorization", u->authz.data) == -1)
		goto nomem;
	if (add_header(u, &hl, "X-Request-Id", r->id) == -1)
		goto nomem;
	/* OpenClaw refuses loopback requests carrying forwarding headers from
	 * proxies it does not trust: send them only when told to. */
	if (u->cfg->forward_client_ip && r->peer[0] &&
	    add_header(u, &hl, "X-Forwarded-For", r->peer) == -1)
		goto nomem;
	if ((hl = curl_slist_append(hl, "Expect:")) == NULL)
		goto nomem;

	if (!u->configured)
		configure(u);
	method_reset(u);
	curl_easy_setopt(u->h, CURLOPT_URL, u->url.data);
	curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, hl);

	body = f->body != NULL ? f->body_len > 0 : has_request_body(r);
	/* A body-less GET is what method_reset() leaves; anything else sets
	 * options the next request has to undo. */
	u->method_set = body || strcmp(r->method, "GET") != 0;
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(u->h, CURLOPT_NOBODY, 1L);
	else if (body) {
		curl_easy_setopt(u->h, CURLOPT_UPLOAD, 1L);
		if (f->body != NULL)
			curl_easy_setopt(u->h, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)f->body_len);
		else if (r->content_length >= 0)
			curl_easy_setopt(u->h, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)r->content_length);
	} else if (strcmp(r->method, "POST") == 0 ||
	    strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
		/* A body-less POST still says Content-Length: 0. */
		curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		curl_easy_setopt(u->h, CURLOPT_CUSTOMREQUEST, r->method);

	cc = perform(u);
	/* The handle outlives the list: leave it no dangling pointer. */
	curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	hl = NULL;
	res->status = u->status;

	if (cc == CURLE_OK) {
		decide(u);
		if (!res->head_sent && send_head(u) == -1) {
			res->outcome = OCSS_FWD_CLIENT_GONE;
			return -1;
		}
		if (u->holding && u->held.len) {
			if (w->body(w->arg, u->held.data, u->held.len) == -1) {
				res->outcome = OCSS_FWD_CLIENT_GONE;
				return -1;
			}
			res->bytes_down += (long long)u->held.len;
		}
		/* No flush: what a held (or body-less) answer left in the
		 * writer goes out when the front end ends the request, in the
		 * same write as its end-of-request records. */
		res->outcome = OCSS_FWD_OK;
		return 0;
	}
	snprintf(res->detail, sizeof(res->detail), "%s",
	    u->errbuf[0] ? u->errbuf : curl_easy_strerror(cc));
	if (u->nomem)
		res->outcome = OCSS_FWD_INTERNAL;
	else if (u->client_gone)
		res->outcome = OCSS_FWD_CLIENT_GONE;
	else if (u->cut)
		res->outcome = OCSS_FWD_CUT;
	else if (u->too_large)
		res->outcome = OCSS_FWD_TOO_LARGE;
	else if (u->truncated)
		res->outcome = OCSS_FWD_BAD_BODY;
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		res->outcome = OCSS_FWD_TIMEOUT;
	else if (cc == CURLE_COULDNT_CONNECT ||
	    cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_SSL_CONNECT_ERROR)
		res->outcome = OCSS_FWD_CONNECT;
	else
		res->outcome = OCSS_FWD_PROTOCOL;
	return -1;
nomem:
	curl_slist_free_all(hl);
	res->outcome = OCSS_FWD_INTERNAL;
	snprintf(res->detail, sizeof(res->detail), "out of memory");
	return -1;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p; (void)arg;
	return size * nmemb;
}

int
ocss_upstream_probe(struct ocss_upstream *u, long *ms)
{
	struct timespec	 a, b;
	long		 code = 0;
	CURLcode	 cc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (u->probe_at != 0 && a.tv_sec - u->probe_at < 1) {
		*ms = u->probe_ms;
		return u->probe_up;
	}
	ocss_buf_reset(&u->url);
	if (ocss_buf_puts(&u->url, u->cfg->upstream_url) == -1 ||
	    ocss_buf_putc(&u->url, '/') == -1)
		return 0;
	curl_easy_reset(u->h);
	connect_options(u);
	curl_easy_setopt(u->h, CURLOPT_URL, u->url.data);
	curl_easy_setopt(u->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(u->h, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, discard);
	/* Not the forwarding options: set those again on the next forward. */
	u->configured = 0;
	u->sse = 0;		/* no heartbeat: the last forward's state is gone */
	cc = perform(u);
	clock_gettime(CLOCK_MONOTONIC, &b);
	curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &code);
	u->probe_at = a.tv_sec;
	u->probe_up = cc == CURLE_OK && code > 0;
	u->probe_ms = (b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000;
	*ms = u->probe_ms;
	return u->probe_up;
}
