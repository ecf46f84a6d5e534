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

#define OCSS_STORE_SCHEMA	4	/* PRAGMA user_version after migration */

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

/*
 * Expire pending approvals past their time, drop expired replay ids, rate
 * hits, sessions with their actions, and plans no approval refers to
 * once they expired.  Returns the number of rows changed, or -1.
 */
long	ocss_store_cleanup(struct ocss_store *, int64_t now_ms,
	    struct ocss_err *);

/* Governance records.  Strings are owned by the record: free with
 * ocss_store_plan_free() / ocss_store_approval_free(). */
struct ocss_plan_rec {
	char	*id;
	char	*session;
	char	*decision;	/* "allow", "block", "require_approval" */
	char	*digest;	/* hex SHA-256 of the canonical actions */
	char	*plan_json;	/* the plan as shown to operators */
	char	*violations_json; /* JSON array */
	char	*requester;
	int64_t	 created;
	int64_t	 expires;
};

struct ocss_approval_rec {
	char	*id;
	char	*plan_id;
	char	*status;	/* pending, approved, rejected, expired */
	char	*decided_by;	/* NULL while pending */
	char	*note;		/* acknowledgment or rejection reason */
	int64_t	 created;
	int64_t	 expires;	/* of the pending request */
	int64_t	 decided_at;
	int64_t	 token_expires;	/* of the plan token, once approved */
};

void	ocss_store_plan_free(struct ocss_plan_rec *);
void	ocss_store_approval_free(struct ocss_approval_rec *);
int	ocss_store_plan_put(struct ocss_store *, const struct ocss_plan_rec *,
	    struct ocss_err *);
/* 0 found, 1 unknown id, -1 error. */
int	ocss_store_plan_get(struct ocss_store *, const char *id,
	    struct ocss_plan_rec *, struct ocss_err *);
int	ocss_store_approval_put(struct ocss_store *,
	    const struct ocss_approval_rec *, struct ocss_err *);
/* 0 found, 1 unknown id, -1 error.  A pending approval past its expiry
 * is reported (and stored) as expired. */
int	ocss_store_approval_get(struct ocss_store *, const char *id,
	    int64_t now_ms, struct ocss_approval_rec *, struct ocss_err *);
/* 0 found, 1 none, -1 error: the approval of a plan. */
int	ocss_store_approval_by_plan(struct ocss_store *, const char *plan_id,
	    int64_t now_ms, struct ocss_approval_rec *, struct ocss_err *);
/*
 * Decide a pending, unexpired approval: status "approved" or "rejected".
 * Exactly one of any number of concurrent deciders wins: returns 0 for the
 * winner, 1 when the approval is unknown, already decided or expired.
 */
int	ocss_store_approval_decide(struct ocss_store *, const char *id,
	    const char *status, const char *who, const char *note,
	    int64_t now_ms, int64_t token_expires, struct ocss_err *);
/* Call fn for approvals with status (NULL: all), newest first. */
int	ocss_store_approval_list(struct ocss_store *, const char *status,
	    int64_t now_ms, long offset, long limit,
	    void (*fn)(void *, const struct ocss_approval_rec *), void *arg,
	    struct ocss_err *);
/* Count approvals by status into pending, approved, rejected, expired. */
int	ocss_store_approval_counts(struct ocss_store *, int64_t now_ms,
	    long counts[4], struct ocss_err *);

/* Sessions: multi-turn state for sequence and rate policies. */
int	ocss_store_session_touch(struct ocss_store *, const char *id,
	    int64_t now_ms, int64_t ttl_ms, struct ocss_err *);
int	ocss_store_session_add_action(struct ocss_store *, const char *id,
	    int64_t ts, const char *category, const char *tool,
	    struct ocss_err *);
/* Actions of a session at or after since_ms, oldest first. */
int	ocss_store_session_actions(struct ocss_store *, const char *id,
	    int64_t since_ms,
	    void (*fn)(void *, int64_t ts, const char *category,
		const char *tool), void *arg, struct ocss_err *);

/*
 * Skill quarantine (ocss scan --quarantine, ocss quarantine, ocss pins).
 * One record per skill name.  Strings are owned by the record: free with
 * ocss_store_quarantine_free().  status is "quarantined" (blocked),
 * "overridden" (allowed by an operator who acknowledged the findings) or
 * "released" (clean at the last scan, or released by an operator).
 */
struct ocss_quarantine_rec {
	char	*name;
	char	*path;		/* absolute path of the skill */
	char	*status;
	char	*reason;	/* why it has this status, one line */
	int	 trust_score;	/* 0..100 at the last scan, -1 unknown */
	long	 nfindings;	/* at or above the quarantine threshold */
	char	*findings_json;	/* JSON array of the last scan's findings */
	char	*content_sha256; /* hex, over the scanned files' hashes */
	int	 needs_rescan;	/* content changed since the last scan */
	int64_t	 scanned_at;
	int64_t	 quarantined_at;
	int64_t	 released_at;
	char	*override_user;	/* NULL unless overridden */
	char	*override_ack;
	int64_t	 override_at;
	char	*override_findings_json; /* the findings the override accepted */
};

void	ocss_store_quarantine_free(struct ocss_quarantine_rec *);
/* Insert or replace the whole record (name is the key). */
int	ocss_store_quarantine_put(struct ocss_store *,
	    const struct ocss_quarantine_rec *, struct ocss_err *);
/* 0 found, 1 unknown name, -1 error. */
int	ocss_store_quarantine_get(struct ocss_store *, const char *name,
	    struct ocss_quarantine_rec *, struct ocss_err *);
/* 0 found, 1 none, -1 error: the (most recently scanned) record of path. */
int	ocss_store_quarantine_by_path(struct ocss_store *, const char *path,
	    struct ocss_quarantine_rec *, struct ocss_err *);
/* Call fn for records with status (NULL: all), by name. */
int	ocss_store_quarantine_list(struct ocss_store *, const char *status,
	    void (*fn)(void *, const struct ocss_quarantine_rec *), void *arg,
	    struct ocss_err *);
/*
 * Override a quarantined skill that needs no rescan: status "overridden",
 * user, ack and time recorded, and the current findings copied to
 * override_findings_json, in one statement.  0 done, 1 when the skill is
 * unknown, not quarantined or needs a rescan, -1 error.
 */
int	ocss_store_quarantine_override(struct ocss_store *, const char *name,
	    const char *user, const char *ack, int64_t now_ms,
	    struct ocss_err *);
/* Release a skill that is not released and needs no rescan: 0 done,
 * 1 unknown / already released / needs a rescan, -1 error. */
int	ocss_store_quarantine_release(struct ocss_store *, const char *name,
	    const char *reason, int64_t now_ms, struct ocss_err *);
/*
 * The content of a skill changed (a pin failed): whatever its status, it
 * is quarantined again, its override is dropped and it needs a rescan.
 * 0 done, 1 unknown name, -1 error.
 */
int	ocss_store_quarantine_invalidate(struct ocss_store *, const char *name,
	    const char *reason, int64_t now_ms, struct ocss_err *);
/* 1 when name is quarantined (blocked), 0 when not (or unknown), -1. */
int	ocss_store_quarantine_is_blocked(struct ocss_store *, const char *name,
	    struct ocss_err *);

/*
 * The webhook relay's outbox: work that must survive the request that
 * queued it and the worker that runs it.  "chat" jobs carry the OpenAI
 * request body for the upstream, "reply" jobs the text for the platform.
 * Delivery is at least once: a worker that dies mid-job lets its lease
 * run out and another worker runs the job again.
 */
struct ocss_job_rec {
	int64_t	 id;
	char	*kind;		/* "chat" or "reply" */
	char	*platform;	/* "telegram" or "whatsapp" */
	char	*chat;		/* where the reply goes */
	char	*phone_id;	/* WhatsApp sender number id, "" otherwise */
	char	*request_id;	/* of the webhook request, for the audit */
	char	*peer;		/* client address of the webhook request */
	char	*payload;
	int	 parts_sent;	/* reply parts already delivered */
	int	 attempts;
	int64_t	 next_at;	/* not before */
	int64_t	 created;
};

void	ocss_store_job_free(struct ocss_job_rec *);
/* Queue a job (id ignored); *id set to the new id when id is not NULL. */
int	ocss_store_job_put(struct ocss_store *, const struct ocss_job_rec *,
	    int64_t *id, struct ocss_err *);
/* Lease the oldest due job for lease_ms: 0 claimed (free the record),
 * 1 none due, -1 error. */
int	ocss_store_job_claim(struct ocss_store *, int64_t now_ms,
	    int64_t lease_ms, struct ocss_job_rec *, struct ocss_err *);
/* Store kind, payload, parts_sent, attempts and next_at; drop the lease. */
int	ocss_store_job_update(struct ocss_store *, const struct ocss_job_rec *,
	    struct ocss_err *);
int	ocss_store_job_done(struct ocss_store *, int64_t id, struct ocss_err *);
long	ocss_store_job_count(struct ocss_store *, struct ocss_err *);

#endif
