#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "request.h"

/* Where one string of the request will live inside r->store. */
struct pending {
	const char	**dst;
	size_t		 off;
};

/* HTTP_X_FOO_BAR -> X-Foo-Bar, written at p (len bytes, no NUL). */
static void
header_name(char *p, const char *cgi, size_t len)
{
	size_t	 i;
	int	 up = 1;

	for (i = 0; i < len; i++) {
		char c = cgi[i];
		if (c == '_') {
			p[i] = '-';
			up = 1;
		} else {
			if (c >= 'A' && c <= 'Z' && !up)
				c = (char)(c - 'A' + 'a');
			else if (c >= 'a' && c <= 'z' && up)
				c = (char)(c - 'a' + 'A');
			p[i] = c;
			up = 0;
		}
	}
}

static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

int
ocss_request_from_cgi(struct ocss_request *r, char **envp,
    struct ocss_err *err)
{
	struct ocss_buf	 st = r->store;
	size_t		 i, need = 0, nl, off;
	const char	*e, *eq, *cl = NULL;
	char		*end;
	struct {
		const char	*name;
		const char	**dst;
	} fixed[] = {
		{ "REQUEST_METHOD", &r->method },
		{ "REQUEST_URI", &r->uri },
		{ "REMOTE_ADDR", &r->peer },
		{ "REMOTE_PORT", &r->peer_port },
	};
	size_t		 nfixed = sizeof(fixed) / sizeof(fixed[0]), k;

	memset(r, 0, sizeof(*r));
	r->store = st;
	ocss_buf_reset(&r->store);
	r->content_length = -1;
	r->query = r->peer = r->peer_port = "";

	/* The store must not move while pointers into it are handed out:
	 * size it first. */
	for (i = 0; envp[i] != NULL; i++)
		need += strlen(envp[i]) + 2;
	if (ocss_buf_reserve(&r->store, need) == -1) {
		ocss_err_set(err, "out of memory for request parameters");
		return -1;
	}
	for (i = 0; envp[i] != NULL; i++) {
		e = envp[i];
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		nl = (size_t)(eq - e);
		for (k = 0; k < nfixed; k++)
			if (strlen(fixed[k].name) == nl &&
			    memcmp(fixed[k].name, e, nl) == 0) {
				*fixed[k].dst = eq + 1;
				break;
			}
		if (k < nfixed)
			continue;
		if (nl == 14 && memcmp(e, "CONTENT_LENGTH", 14) == 0) {
			cl = eq + 1;
			continue;
		}
		if (!(nl == 12 && memcmp(e, "CONTENT_TYPE", 12) == 0) &&
		    !(nl > 5 && memcmp(e, "HTTP_", 5) == 0))
			continue;
		/* Caddy sends these as well as CONTENT_TYPE / CONTENT_LENGTH;
		 * the CGI names are the ones that count. */
		if ((nl == 17 && memcmp(e, "HTTP_CONTENT_TYPE", 17) == 0) ||
		    (nl == 19 && memcmp(e, "HTTP_CONTENT_LENGTH", 19) == 0))
			continue;
		if (r->nheaders == OCSS_MAX_HEADERS) {
			r->too_many_headers = 1;
			continue;
		}
		if (e[0] == 'H') {
			e += 5;
			nl -= 5;
		}
		off = r->store.len;
		header_name(r->store.data + off, e, nl);
		r->store.data[off + nl] = '\0';
		r->store.len += nl + 1;
		r->headers[r->nheaders].name = r->store.data + off;
		r->headers[r->nheaders].value = eq + 1;
		r->nheaders++;
	}
	if (r->method == NULL || !is_token(r->method)) {
		ocss_err_set(err, "missing or malformed REQUEST_METHOD");
		return -1;
	}
	if (r->uri == NULL || r->uri[0] != '/') {
		ocss_err_set(err, "missing or malformed REQUEST_URI");
		return -1;
	}
	if ((e = strchr(r->uri, '?')) != NULL)
		r->query = e + 1;
	/* Caddy says -1 for a chunked body (and Go drops Transfer-Encoding
	 * from the headers); Apache leaves it unset and passes the header. */
	if (cl != NULL && strcmp(cl, "-1") == 0)
		r->body_to_eof = 1;
	else if (cl != NULL && *cl != '\0') {
		if (*cl < '0' || *cl > '9') {
			ocss_err_set(err, "malformed Content-Length");
			return -1;
		}
		r->content_length = strtoll(cl, &end, 10);
		if (*end != '\0' || r->content_length < 0) {
			ocss_err_set(err, "malformed Content-Length");
			return -1;
		}
	}
	return 0;
}

void
ocss_request_free(struct ocss_request *r)
{
	ocss_buf_free(&r->store);
}

const char *
ocss_request_header(const struct ocss_request *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static _Thread_local unsigned char pool[256];
static _Thread_local size_t pool_left;

void
ocss_request_set_id(struct ocss_request *r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 rnd[16];
	const char	*v, *p;
	size_t		 i;

	if ((v = ocss_request_header(r, "X-Request-Id")) != NULL &&
	    *v != '\0' && strlen(v) <= OCSS_REQUEST_ID_MAX) {
		for (p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("._:-", *p)))
				break;
		if (*p == '\0') {
			memcpy(r->id, v, strlen(v) + 1);
			return;
		}
	}
	/* An id is not a secret: random bytes are drawn 16 ids at a time
	 * per thread.  Threads start with an empty pool, and no request is
	 * handled before the workers fork, so no two processes share one.
	 * RAND_bytes only fails when the kernel has no entropy to give; then
	 * getentropy(), then zeros. */
	if (pool_left < sizeof(rnd)) {
		if (RAND_bytes(pool, sizeof(pool)) != 1 &&
		    getentropy(pool, sizeof(pool)) == -1)
			memset(pool, 0, sizeof(pool));
		pool_left = sizeof(pool);
	}
	memcpy(rnd, pool + sizeof(pool) - pool_left, sizeof(rnd));
	pool_left -= sizeof(rnd);
	for (i = 0; i < sizeof(rnd); i++) {
		r->id[2 * i] = hex[rnd[i] >> 4];
		r->id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	r->id[32] = '\0';
}

const char *
ocss_status_reason(int s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Unknown";
	}
}

int
ocss_respond(struct ocss_writer *w, const struct ocss_request *r, int status,
    const char *ctype, const char *body, size_t len)
{
	struct ocss_header h[3];
	char	 clen[32];

	snprintf(clen, sizeof(clen), "%zu", len);
	h[0].name = "Content-Type";
	h[0].value = ctype;
	h[1].name = "Content-Length";
	h[1].value = clen;
	h[2].name = "X-Request-Id";
	h[2].value = r->id;
	if (w->head(w->arg, status, h, r->id[0] ? 3 : 2) == -1)
		return -1;
	if (len && w->body(w->arg, body, len) == -1)
		return -1;
	/* No flush: a complete answer leaves with the end of the request,
	 * in one write. */
	return 0;
}

int
ocss_respond_error(struct ocss_writer *w, const struct ocss_request *r,
    int status, const char *code, const char *msg,
    const struct ocss_header *extra, size_t nextra)
{
	struct ocss_header h[8];
	struct ocss_buf	 b = OCSS_BUF_INIT;
	char		 clen[32];
	size_t		 n = 0, i;
	int		 rc = -1;

	if (ocss_buf_puts(&b, "{\"error\":{\"code\":\"") == -1 ||
	    ocss_buf_json_str(&b, code, strlen(code)) == -1 ||
	    ocss_buf_puts(&b, "\",\"message\":\"") == -1 ||
	    ocss_buf_json_str(&b, msg, strlen(msg)) == -1 ||
	    ocss_buf_puts(&b, "\"}}\n") == -1)
		goto out;
	snprintf(clen, sizeof(clen), "%zu", b.len);
	h[n].name = "Content-Type";
	h[n++].value = "application/json";
	h[n].name = "Content-Length";
	h[n++].value = clen;
	h[n].name = "Cache-Control";
	h[n++].value = "no-store";
	if (r != NULL && r->id[0]) {
		h[n].name = "X-Request-Id";
		h[n++].value = r->id;
	}
	for (i = 0; i < nextra && n < 8; i++)
		h[n++] = extra[i];
	if (w->head(w->arg, status, h, n) == -1 ||
	    w->body(w->arg, b.data, b.len) == -1)
		goto out;
	rc = 0;		/* sent with the end of the request, as above */
out:
	ocss_buf_free(&b);
	return rc;
}
