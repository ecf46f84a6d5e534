/*
 * The webhook relay: Telegram and WhatsApp messages through the gateway's
 * defences to OpenClaw, and the answer back to the platform.
 *
 * On the request path (ocss_relay_handle): signature, per-address rate
 * limit, replay, size, parse, sanitizer, governance, skill quarantine; a
 * message that passes becomes a "chat" job in the store's outbox and the
 * platform gets its 200 at once.  Off the request path, a sender thread
 * in every worker takes due jobs: forward to OpenClaw, scan the answer,
 * send it (split at the platform's limit) with retries and capped
 * exponential backoff.  Refusals become "reply" jobs with a short polite
 * text.  Every step is an audit line.
 */
#ifndef OCSS_RELAY_H
#define OCSS_RELAY_H

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "request.h"

struct ocss_gateway;
struct ocss_gw_thread;
struct ocss_relay;

#define OCSS_RELAY_TELEGRAM_PATH	"/webhook/telegram"
#define OCSS_RELAY_WHATSAPP_PATH	"/webhook/whatsapp"

/* The relay of gateway g (whose config says which platforms are on).
 * NULL with err set on bad configuration (OCSS_TRUSTED_PROXIES). */
struct ocss_relay *ocss_relay_new(struct ocss_gateway *g, struct ocss_err *);
/* Stops the sender thread (after its current job) and frees. */
void	ocss_relay_free(struct ocss_relay *);
/* Start the sender thread, when a platform is on.  Once per process,
 * after fork().  0, or -1 with err. */
int	ocss_relay_start(struct ocss_relay *, struct ocss_err *);
/* Handle a request for one of the webhook paths (canonical path in
 * t->canon).  Always answers. */
void	ocss_relay_handle(struct ocss_gw_thread *, struct ocss_request *,
	    struct ocss_writer *);
/* Run due outbox jobs in the calling thread until none is due or max
 * were run (tests and benchmarks).  Returns the number run, or -1. */
int	ocss_relay_run_due(struct ocss_relay *, int max, struct ocss_err *);

/*
 * One call to a platform API (the relay's replies, ocss telegram): POST
 * body (JSON) to url with handle h, reset first; 10 s to connect, 30 s in
 * all, http(s) only.  auth is a whole header line or NULL.  At most max
 * bytes of the answer are appended to ans (more: CURLE_WRITE_ERROR).
 * errbuf (CURL_ERROR_SIZE) or NULL gets curl's words.  *status is the
 * HTTP status, 0 when there is none.  h keeps the answer's headers.
 */
CURLcode ocss_relay_post_json(CURL *h, const char *url, const char *auth,
	    const char *body, size_t len, struct ocss_buf *ans, size_t max,
	    long *status, char *errbuf);

#endif
