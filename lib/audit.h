/*
 * Append-only JSON Lines audit log of every security decision.
 *
 * Each event is formatted in memory and written with a single write(2) on an
 * O_APPEND descriptor while holding a lock that every writer of the log
 * shares (threads, worker processes, the CLI): a robust process-shared mutex
 * in <log>.lock, mapped by each.  It costs no system call unless contended,
 * so lines never interleave.  A short write (disk full) is cut back with
 * ftruncate(2), and the half line of a writer that died holding the lock is
 * cut off by the next one, so no half line remains.
 * With OCSS_FSYNC_NEVER a line survives a crash of the process as soon as
 * write(2) returns; OCSS_FSYNC_ALWAYS adds fdatasync(2) per line so it also
 * survives power loss, at the cost of a disk flush per decision.  Lines are
 * formatted before the locks are taken and time-stamped under them, so the
 * file is in time-stamp order and the locks are held for one write(2).
 */
#ifndef OCSS_AUDIT_H
#define OCSS_AUDIT_H

#include "config.h"
#include "err.h"

struct ocss_audit;

struct ocss_audit_event {
	const char	*event;		/* "auth", "proxy", "upstream_error" */
	const char	*request_id;
	const char	*peer;
	const char	*method;
	const char	*path;
	const char	*decision;	/* "allow", "deny", "error" */
	const char	*reason;	/* short, never request content */
	int		 status;	/* HTTP status given, 0 if none */
	/* Extra members, already JSON: "\"rule\":\"x\",\"n\":3" or NULL. */
	const char	*extra;
};

/* Opens (creates 0600) path for appending, and path.lock (0600) beside it
 * when path is a regular file.  Safe to share between threads; each process
 * opens its own (the "pid" of its lines is taken here, once). */
struct ocss_audit *ocss_audit_open(const char *path, enum ocss_fsync,
		    struct ocss_err *);
/* Returns 0 when the whole line is in the file, -1 (errno kept) if not. */
int		ocss_audit_write(struct ocss_audit *,
		    const struct ocss_audit_event *);
void		ocss_audit_close(struct ocss_audit *);

#endif
