/*
 * Forwarding to the upstream (OpenClaw's gateway) with libcurl.
 *
 * One ocss_upstream per worker thread: it keeps one curl easy handle with
 * the options all requests share set once, so the connection to the
 * upstream is reused across requests (keep-alive) and a request sets only
 * what is its own (URL, headers, method).  The request body is passed on as
 * it is read (or from a buffer a stage filled), the response is handed to
 * the writer chunk by chunk with a flush after each, so SSE streams through
 * unbuffered.  A held answer is left in the writer unflushed: the front end
 * sends it when it ends the request, head, body and end in one write.
 */
#ifndef OCSS_UPSTREAM_H
#define OCSS_UPSTREAM_H

#include "config.h"
#include "err.h"
#include "request.h"

struct ocss_upstream;

/*
 * Optional inspection of the response on its way out (response scanner).
 * head() sees the status and headers first and answers 0 to stream the
 * body (head sent at once, each chunk through data()) or 1 to hold the
 * whole body: then held() gets it at the end and may add up to 4 headers
 * before head and body go out.  A held body over hold_max bytes stops being
 * held: head goes out as it is and the body continues through data().
 * data() returns 0 to pass the chunk on as is, 1 when it has written what
 * should go out instead, -1 to cut the stream.
 */
struct ocss_resp_filter {
	int	(*head)(void *arg, int status, const struct ocss_header *,
		    size_t n);
	int	(*data)(void *arg, const char *p, size_t len,
		    struct ocss_writer *w);
	void	(*held)(void *arg, const char *body, size_t len,
		    struct ocss_header *extra, size_t *nextra);
	void	*arg;
	size_t	 hold_max;
};

struct ocss_fwd {
	const struct ocss_request *req;
	const char	*target;	/* encoded canonical path [+ '?' query] */
	const char	*body;		/* buffered body, or NULL: stream req */
	size_t		 body_len;
	const struct ocss_header *add;	/* extra headers for the upstream */
	size_t		 nadd;
	const struct ocss_resp_filter *filter; /* NULL: none */
};

enum ocss_fwd_outcome {
	OCSS_FWD_OK,		/* upstream answered, all sent to the client */
	OCSS_FWD_CONNECT,	/* could not reach the upstream (502) */
	OCSS_FWD_TIMEOUT,	/* upstream too slow (504) */
	OCSS_FWD_PROTOCOL,	/* broken answer or cut mid-way (502) */
	OCSS_FWD_CLIENT_GONE,	/* client went away; nothing more to send */
	OCSS_FWD_TOO_LARGE,	/* request body over max_body (413) */
	OCSS_FWD_BAD_BODY,	/* request body truncated or unreadable (400) */
	OCSS_FWD_CUT,		/* the response filter cut the stream */
	OCSS_FWD_INTERNAL	/* out of memory or curl misuse (500) */
};

struct ocss_fwd_result {
	enum ocss_fwd_outcome outcome;
	int		 status;	/* upstream HTTP status, 0 if none */
	int		 head_sent;	/* the client already has a status */
	long long	 bytes_up;	/* request body bytes sent upstream */
	long long	 bytes_down;	/* response body bytes to the client */
	char		 detail[256];	/* curl's words, for the audit line */
};

/* cfg must outlive the upstream. */
struct ocss_upstream *ocss_upstream_new(const struct ocss_config *cfg,
		    struct ocss_err *);
void		ocss_upstream_free(struct ocss_upstream *);
/* Forward one request; writes the response (or nothing, when the result
 * says head_sent == 0: the caller then answers with an error).  0 when the
 * upstream was reached and answered completely, -1 otherwise (see res). */
int		ocss_upstream_forward(struct ocss_upstream *,
		    const struct ocss_fwd *, struct ocss_writer *,
		    struct ocss_fwd_result *res);
/* Is the upstream answering HTTP at all?  1 yes, 0 no; *ms its latency.
 * The answer is cached for a second so /health floods do not reach it. */
int		ocss_upstream_probe(struct ocss_upstream *, long *ms);
/* Should this request header be withheld from the upstream? */
int		ocss_upstream_drop_request_header(const char *name);

#endif
