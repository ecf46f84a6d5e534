/*
 * The request pipeline: route -> auth -> (governance, sanitizer) -> upstream
 * -> (response scan) -> audit.
 *
 * struct ocss_gateway is per worker process: built after fork() from a
 * configuration that outlives it, then shared read-only by the threads.
 * struct ocss_gw_thread is per thread: its upstream connection and scratch.
 */
#ifndef OCSS_GATEWAY_H
#define OCSS_GATEWAY_H

#include "config.h"
#include "err.h"
#include "request.h"

struct ocss_gateway;
struct ocss_gw_thread;

/* Opens the audit log, compiles rules; -1 with err naming what is wrong. */
struct ocss_gateway	*ocss_gateway_new(const struct ocss_config *,
			    struct ocss_err *);
/* Start background work (the webhook relay's sender thread): once per
 * worker process, after fork().  0, or -1 with err. */
int			 ocss_gateway_start(struct ocss_gateway *,
			    struct ocss_err *);
void			 ocss_gateway_free(struct ocss_gateway *);
struct ocss_gw_thread	*ocss_gateway_thread_new(struct ocss_gateway *,
			    struct ocss_err *);
void			 ocss_gateway_thread_free(struct ocss_gw_thread *);
/* Handle one request completely.  Never fails: every problem becomes a
 * JSON error response (if the client still listens) and an audit line. */
void			 ocss_gateway_handle(struct ocss_gw_thread *,
			    struct ocss_request *, struct ocss_writer *);

#endif
