/*
 * The state store: everything that must hold across the workers of a pool
 * and across restarts (replay ids, rate-limit windows, governance plans,
 * approvals and sessions, skill quarantine).
 *
 * Callers see only these functions; a backend is one file implementing
 * all of them (lib/store.c: SQLite).  The embedded default is SQLite (one file, WAL mode, busy
 * timeout, schema version in PRAGMA user_version, migrations applied at
 * open).  A deployment that outgrows one machine can add a backend that
 * keeps the same state in a shared database server.
 *
 * A store handle is one connection: open one per thread.  Every function
 * returns -1 with err set on a storage error; callers fail closed.
 */
#ifndef OCSS_STORE_H
#define OCSS_STORE_H

#include <stdint.h>

#include "err.h"

struct ocss_store;

#define OCSS_STORE_SCHEMA	1	/* PRAGMA user_version after migration */

/*
 * Open the store named by spec: a path to an SQLite file, "sqlite:PATH",
 * or a directory (then DIR/ocss.db).  Creates and migrates as needed.
 */
struct ocss_store *ocss_store_open(const char *spec, struct ocss_err *);
void		ocss_store_close(struct ocss_store *);
/* Milliseconds since the epoch, the clock every expiry uses. */
int64_t		ocss_store_now_ms(void);

/*
 * Replay protection: record (ns, id) until expires_ms.  Returns 0 when it
 * was new (and is now recorded), 1 when it had been seen and has not
 * expired, -1 on error.  Atomic across processes.
 */
int	ocss_store_seen(struct ocss_store *, const char *ns, const char *id,
	    int64_t now_ms, int64_t expires_ms, struct ocss_err *);

/*
 * Sliding-window rate limit: at most limit hits per window_ms for key.
 * Returns 0 and counts the hit when under the limit; 1 when limited, with
 * *retry_ms set to when the oldest hit in the window leaves it; -1 on
 * error.  Atomic across processes.
 */
int	ocss_store_rate_hit(struct ocss_store *, const char *key,
	    int64_t now_ms, int64_t window_ms, int limit, int64_t *retry_ms,
	    struct ocss_err *);

/* Drop expired rows everywhere.  Returns the number removed, or -1. */
long	ocss_store_cleanup(struct ocss_store *, int64_t now_ms,
	    struct ocss_err *);

#endif
