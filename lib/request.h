/*
 * The request as libocss sees it, independent of FastCGI, and the writer
 * through which a response leaves.  A front end fills a request (usually with
 * ocss_request_from_cgi()) and supplies a body reader and a writer.
 */
#ifndef OCSS_REQUEST_H
#define OCSS_REQUEST_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

#define OCSS_MAX_HEADERS	128	/* more: 431 */
#define OCSS_REQUEST_ID_MAX	64

struct ocss_header {
	const char	*name;	/* canonical case: "Content-Type" */
	const char	*value;
};

/* Reads up to len body bytes; returns the count, 0 at the end, -1 on error. */
typedef ssize_t	(*ocss_body_read_fn)(void *arg, void *buf, size_t len);

struct ocss_request {
	const char	*method;	/* "GET" */
	const char	*uri;		/* raw request URI: path?query */
	const char	*query;		/* after '?', "" when none */
	const char	*peer;		/* client address from the web server */
	const char	*peer_port;	/* "" when unknown */
	long long	 content_length; /* -1 when unknown (chunked) */
	int		 body_to_eof;	/* CONTENT_LENGTH=-1: a body, read to EOF */
	struct ocss_header headers[OCSS_MAX_HEADERS];
	size_t		 nheaders;
	int		 too_many_headers; /* more than OCSS_MAX_HEADERS seen */
	ocss_body_read_fn read;
	void		*read_arg;
	char		 id[OCSS_REQUEST_ID_MAX + 1]; /* X-Request-Id */
	struct ocss_buf	 store;		/* owns the strings above */
};

/*
 * Fill r from a CGI/FastCGI parameter list ("NAME=value" strings, NULL-
 * terminated): REQUEST_METHOD, REQUEST_URI, REMOTE_ADDR, REMOTE_PORT,
 * CONTENT_LENGTH, CONTENT_TYPE and every HTTP_* as a header.  A request keeps
 * its storage between calls: call ocss_request_free() once at the end.
 * Returns -1 with err set when a required parameter is missing or malformed.
 */
int	ocss_request_from_cgi(struct ocss_request *r, char **envp,
	    struct ocss_err *err);
void	ocss_request_free(struct ocss_request *);
/* Case-insensitive header lookup; NULL when absent. */
const char *ocss_request_header(const struct ocss_request *, const char *name);
/* Use the client's X-Request-Id when it is 1..64 of [A-Za-z0-9._:-],
 * otherwise make a random 128-bit hex one. */
void	ocss_request_set_id(struct ocss_request *);

/* Response side.  head() once, then body() and flush() any number of times.
 * Each returns 0, or -1 when the client is gone. */
struct ocss_writer {
	int	(*head)(void *arg, int status, const struct ocss_header *,
		    size_t n);
	int	(*body)(void *arg, const void *data, size_t len);
	int	(*flush)(void *arg);
	void	*arg;
};

/* Standard reason phrase for a status code ("Unknown" if none). */
const char *ocss_status_reason(int status);
/* Send a complete JSON error response {"error":{"code":..,"message":..}}
 * with Content-Type, X-Request-Id and any extra headers. */
int	ocss_respond_error(struct ocss_writer *, const struct ocss_request *,
	    int status, const char *code, const char *message,
	    const struct ocss_header *extra, size_t nextra);
/* Send a complete response with the given body and content type. */
int	ocss_respond(struct ocss_writer *, const struct ocss_request *,
	    int status, const char *ctype, const char *body, size_t len);

#endif
