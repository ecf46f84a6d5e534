/*
 * Skill quarantine: what ocss does with a scan report that has findings.
 *
 * A skill whose report has a finding at or above a severity threshold is
 * quarantined in the store (lib/store.h, table quarantine): the gateway and
 * the webhook relay ask ocss_quarantine_is_blocked(), the OpenClaw plugin
 * reads the exported list (a JSON array of the names of quarantined skills,
 * conf/quarantine-list.json).  An operator may override a quarantined skill
 * only with a user name and an acknowledgement text; the override records
 * the findings it accepted and lasts as long as the skill's content does
 * (a rescan that finds other content, or a failed pin, drops it).
 *
 * Every function takes a store handle owned by the caller.  Results are
 * returned in records the caller frees with ocss_store_quarantine_free().
 */
#ifndef OCSS_QUARANTINE_H
#define OCSS_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"
#include "skillscan.h"
#include "store.h"

#define OCSS_QUARANTINE_LIST	"quarantine-list.json"

enum ocss_quarantine_result {
	OCSS_QUARANTINE_CLEAN,		/* nothing to quarantine, no record */
	OCSS_QUARANTINE_RELEASED,	/* was quarantined, now clean */
	OCSS_QUARANTINE_QUARANTINED,	/* blocked */
	OCSS_QUARANTINE_OVERRIDDEN	/* findings, but the override holds */
};

/* "info".."critical" to a severity; 0, or -1 when s names none. */
int	ocss_quarantine_severity(const char *s,
	    enum ocss_skillscan_severity *);

/* Append the report's findings as a JSON array (the fields of
 * `ocss scan --format json`).  0, or -1 on ENOMEM. */
int	ocss_quarantine_findings_json(const struct ocss_skillscan_report *,
	    struct ocss_buf *);
/* Hex SHA-256 over the scanned files' paths and hashes, in scan order. */
void	ocss_quarantine_content_sha256(const struct ocss_skillscan_report *,
	    char hex[65]);

/*
 * Record a scan report of the skill at path (stored as its absolute path)
 * under name (NULL: the report's name).  With a finding at or above min:
 * quarantined, unless the skill is overridden and neither its content nor
 * its findings changed.  Without: released if it had a record, else no
 * record is made.  *res (may be NULL) says which; the record as stored is
 * copied to *out when out is not NULL (free it).  0, or -1 with err set.
 */
int	ocss_quarantine_record(struct ocss_store *,
	    const struct ocss_skillscan_report *, const char *path,
	    const char *name, enum ocss_skillscan_severity min, int64_t now_ms,
	    enum ocss_quarantine_result *res, struct ocss_quarantine_rec *out,
	    struct ocss_err *);

/*
 * Override a quarantined skill.  user and ack must hold a non-blank text.
 * 0 done; 1 refused (err says why and what to do: unknown skill, not
 * quarantined, needs a rescan, missing user or ack); -1 store error.
 */
int	ocss_quarantine_override(struct ocss_store *, const char *name,
	    const char *user, const char *ack, int64_t now_ms,
	    struct ocss_err *);
/* Release a skill (same answers as override; user and ack required). */
int	ocss_quarantine_release(struct ocss_store *, const char *name,
	    const char *user, const char *ack, int64_t now_ms,
	    struct ocss_err *);
/*
 * Scan the skill's stored path again with sc and record the result under
 * its stored name (see ocss_quarantine_record).  1 when name is unknown
 * (err set), 0 done, -1 error (path gone, store).
 */
int	ocss_quarantine_rescan(struct ocss_store *, struct ocss_skillscan *,
	    const char *name, enum ocss_skillscan_severity min, int64_t now_ms,
	    enum ocss_quarantine_result *, struct ocss_quarantine_rec *out,
	    struct ocss_err *);

/* Read side for the gateway and the webhook relay: 1 blocked, 0 not, -1
 * error (callers fail closed). */
int	ocss_quarantine_is_blocked(struct ocss_store *, const char *name,
	    struct ocss_err *);

/*
 * Write the names of all quarantined skills (not overridden, not released)
 * as a JSON array, sorted, to path: atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory), mode 0644.  *count
 * (may be NULL) gets the number of names.  0 or -1.
 */
int	ocss_quarantine_export(struct ocss_store *, const char *path,
	    size_t *count, struct ocss_err *);

/* Replace path with data atomically (as above) with the given mode. */
int	ocss_quarantine_write_file(const char *path, const void *data,
	    size_t len, mode_t mode, struct ocss_err *);

/*
 * Append one security decision to the audit log at audit_path (opened,
 * written and closed).  event e.g. "skill_quarantine"; decision "block" or
 * "allow"; extra: further JSON members or NULL.  0 or -1.
 */
int	ocss_quarantine_audit(const char *audit_path, const char *event,
	    const char *decision, const char *name, const char *reason,
	    const char *extra, struct ocss_err *);

#endif
