/*
 * SQLite backend of the store (lib/store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"

struct ocss_store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*seen_ins;
	sqlite3_stmt	*rate_del;
	sqlite3_stmt	*rate_count;
	sqlite3_stmt	*rate_ins;
};

/* Each entry moves the schema from version i to i + 1. */
static const char *migrations[] = {
	/* 0 -> 1: replay ids and rate-limit hits. */
	"CREATE TABLE seen ("
	"  ns TEXT NOT NULL, id TEXT NOT NULL, expires INTEGER NOT NULL,"
	"  PRIMARY KEY (ns, id)) WITHOUT ROWID;"
	"CREATE INDEX seen_expires ON seen (expires);"
	"CREATE TABLE rate_hits (key TEXT NOT NULL, ts INTEGER NOT NULL);"
	"CREATE INDEX rate_hits_key_ts ON rate_hits (key, ts);"
	"CREATE INDEX rate_hits_ts ON rate_hits (ts);",
	/* 1 -> 2: governance. */
	"CREATE TABLE gov_plans ("
	"  id TEXT PRIMARY KEY, session TEXT NOT NULL,"
	"  decision TEXT NOT NULL, digest TEXT NOT NULL,"
	"  plan_json TEXT NOT NULL, violations_json TEXT NOT NULL,"
	"  requester TEXT, created INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX gov_plans_expires ON gov_plans (expires);"
	"CREATE TABLE gov_approvals ("
	"  id TEXT PRIMARY KEY,"
	"  plan_id TEXT NOT NULL UNIQUE REFERENCES gov_plans (id)"
	"    ON DELETE CASCADE,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('pending', 'approved', 'rejected', 'expired')),"
	"  decided_by TEXT, note TEXT, created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL, decided_at INTEGER NOT NULL DEFAULT 0,"
	"  token_expires INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX gov_approvals_status ON gov_approvals (status, created);"
	"CREATE TABLE gov_sessions ("
	"  id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE TABLE gov_session_actions ("
	"  session TEXT NOT NULL, ts INTEGER NOT NULL,"
	"  category TEXT NOT NULL, tool TEXT NOT NULL);"
	"CREATE INDEX gov_session_actions_s ON gov_session_actions (session, ts);",
	/* 2 -> 3: skill quarantine (ocss scan --quarantine, ocss quarantine). */
	"CREATE TABLE quarantine ("
	"  name TEXT PRIMARY KEY, path TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('quarantined', 'overridden', 'released')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  trust_score INTEGER NOT NULL DEFAULT -1,"
	"  nfindings INTEGER NOT NULL DEFAULT 0,"
	"  findings_json TEXT NOT NULL DEFAULT '[]',"
	"  content_sha256 TEXT NOT NULL DEFAULT '',"
	"  needs_rescan INTEGER NOT NULL DEFAULT 0,"
	"  scanned_at INTEGER NOT NULL DEFAULT 0,"
	"  quarantined_at INTEGER NOT NULL DEFAULT 0,"
	"  released_at INTEGER NOT NULL DEFAULT 0,"
	"  override_user TEXT, override_ack TEXT,"
	"  override_at INTEGER NOT NULL DEFAULT 0,"
	"  override_findings_json TEXT);"
	"CREATE INDEX quarantine_status ON quarantine (status, name);",
	/* 3 -> 4: the webhook relay's outbox. */
	"CREATE TABLE relay_jobs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('chat', 'reply')),"
	"  platform TEXT NOT NULL CHECK (platform IN ('telegram', 'whatsapp')),"
	"  chat TEXT NOT NULL, phone_id TEXT NOT NULL DEFAULT '',"
	"  request_id TEXT NOT NULL DEFAULT '', peer TEXT NOT NULL DEFAULT '',"
	"  payload TEXT NOT NULL, parts_sent INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
	"  lease_until INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
	"CREATE INDEX relay_jobs_due ON relay_jobs (next_at);",
};

int64_t
ocss_store_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
fail(struct ocss_store *s, struct ocss_err *err, const char *what)
{
	ocss_err_set(err, "store %s: %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
	return -1;
}

static int
exec(struct ocss_store *s, const char *sql, struct ocss_err *err)
{
	char	*msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ocss_err_set(err, "store %s: %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
user_version(struct ocss_store *s, int *v, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL))
		return fail(s, err, "read schema version");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fail(s, err, "read schema version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Bring the schema up to date.  BEGIN IMMEDIATE serialises workers that
 * start at the same moment: the second finds the work done. */
static int
migrate(struct ocss_store *s, struct ocss_err *err)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	int		 v, n = (int)(sizeof(migrations) / sizeof(*migrations));

	if (exec(s, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	if (user_version(s, &v, err) == -1)
		goto rollback;
	if (v > n) {
		ocss_err_set(err, "store %s: schema version %d is newer than "
		    "this ocss understands (%d): use a newer ocss or another "
		    "OCSS_STATE_DIR", s->path, v, n);
		goto rollback;
	}
	for (; v < n; v++) {
		ocss_buf_reset(&b);
		if (exec(s, migrations[v], err) == -1 ||
		    ocss_buf_printf(&b, "PRAGMA user_version = %d", v + 1) ||
		    exec(s, b.data, err) == -1)
			goto rollback;
	}
	ocss_buf_free(&b);
	return exec(s, "COMMIT", err);
rollback:
	ocss_buf_free(&b);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare(struct ocss_store *s, sqlite3_stmt **st, const char *sql,
    struct ocss_err *err)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK)
		return fail(s, err, "prepare");
	return 0;
}

struct ocss_store *
ocss_store_open(const char *spec, struct ocss_err *err)
{
	struct ocss_store *s;
	struct ocss_buf	 p = OCSS_BUF_INIT;
	struct stat	 st;

	if (strncmp(spec, "sqlite:", 7) == 0)
		spec += 7;
	else if (strstr(spec, "://") != NULL) {
		ocss_err_set(err, "store '%s': only SQLite is built in; give "
		    "a file or directory path", spec);
		return NULL;
	}
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (ocss_buf_printf(&p, "%s/ocss.db", spec) == -1)
			goto oom;
	} else if (ocss_buf_puts(&p, spec) == -1)
		goto oom;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto oom;
	s->path = ocss_buf_steal(&p);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ocss_err_set(err, "store %s: %s (is OCSS_STATE_DIR writable?)",
		    s->path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	chmod(s->path, 0600);
	/* Writers from other workers wait instead of failing. */
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode = WAL", err) == -1 ||
	    exec(s, "PRAGMA synchronous = NORMAL", err) == -1 ||
	    exec(s, "PRAGMA foreign_keys = ON", err) == -1 ||
	    migrate(s, err) == -1)
		goto fail;
	if (prepare(s, &s->seen_ins, "INSERT INTO seen (ns, id, expires) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (ns, id) DO UPDATE SET "
	    "expires = excluded.expires WHERE seen.expires <= ?4", err) ||
	    prepare(s, &s->rate_del, "DELETE FROM rate_hits WHERE key = ?1 "
	    "AND ts <= ?2", err) ||
	    prepare(s, &s->rate_count, "SELECT count(*), min(ts) FROM "
	    "rate_hits WHERE key = ?1", err) ||
	    prepare(s, &s->rate_ins, "INSERT INTO rate_hits (key, ts) "
	    "VALUES (?1, ?2)", err))
		goto fail;
	return s;
oom:
	ocss_buf_free(&p);
	ocss_err_set(err, "out of memory");
	return NULL;
fail:
	ocss_store_close(s);
	return NULL;
}

void
ocss_store_close(struct ocss_store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->seen_ins);
	sqlite3_finalize(s->rate_del);
	sqlite3_finalize(s->rate_count);
	sqlite3_finalize(s->rate_ins);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int
ocss_store_seen(struct ocss_store *s, const char *ns, const char *id,
    int64_t now, int64_t expires, struct ocss_err *err)
{
	int	 rc;

	/* One statement: inserts a new id, or revives an expired one; a live
	 * one is left alone and changes() says 0. */
	sqlite3_bind_text(s->seen_ins, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->seen_ins, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->seen_ins, 3, expires);
	sqlite3_bind_int64(s->seen_ins, 4, now);
	rc = sqlite3_step(s->seen_ins);
	sqlite3_reset(s->seen_ins);
	sqlite3_clear_bindings(s->seen_ins);
	if (rc != SQLITE_DONE)
		return fail(s, err, "record replay id");
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
ocss_store_rate_hit(struct ocss_store *s, const char *key, int64_t now,
    int64_t window, int limit, int64_t *retry_ms, struct ocss_err *err)
{
	int64_t	 oldest = 0;
	int	 n = 0, limited = 0;

	*retry_ms = 0;
	/* IMMEDIATE: count and insert as one step across processes. */
	if (exec(s, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	sqlite3_bind_text(s->rate_del, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->rate_del, 2, now - window);
	if (sqlite3_step(s->rate_del) != SQLITE_DONE)
		goto fail;
	sqlite3_bind_text(s->rate_count, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s->rate_count) != SQLITE_ROW)
		goto fail;
	n = sqlite3_column_int(s->rate_count, 0);
	oldest = sqlite3_column_int64(s->rate_count, 1);
	if (n >= limit) {
		limited = 1;
		*retry_ms = oldest + window - now;
		if (*retry_ms < 1)
			*retry_ms = 1;
	} else {
		sqlite3_bind_text(s->rate_ins, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->rate_ins, 2, now);
		if (sqlite3_step(s->rate_ins) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_reset(s->rate_del);
	sqlite3_reset(s->rate_count);
	sqlite3_reset(s->rate_ins);
	if (exec(s, "COMMIT", err) == -1)
		return -1;
	return limited;
fail:
	fail(s, err, "rate limit");
	sqlite3_reset(s->rate_del);
	sqlite3_reset(s->rate_count);
	sqlite3_reset(s->rate_ins);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

long
ocss_store_cleanup(struct ocss_store *s, int64_t now, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	long		 n = 0;
	static const char *sql[] = {
		"DELETE FROM seen WHERE expires <= ?1",
		/* Windows are a minute: an hour is plenty, and keeps the
		 * table small when many addresses send one request each. */
		"DELETE FROM rate_hits WHERE ts <= ?1 - 3600000",
		"UPDATE gov_approvals SET status = 'expired' "
		"WHERE status = 'pending' AND expires <= ?1",
		"DELETE FROM gov_session_actions WHERE session IN "
		"(SELECT id FROM gov_sessions WHERE expires <= ?1)",
		"DELETE FROM gov_sessions WHERE expires <= ?1",
		/* Decided or unapproved plans, once no token can use them. */
		"DELETE FROM gov_plans WHERE expires <= ?1 AND id NOT IN "
		"(SELECT plan_id FROM gov_approvals WHERE status = 'pending' "
		"OR token_expires > ?1)",
	};
	size_t		 i;

	for (i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL))
			return fail(s, err, "cleanup");
		sqlite3_bind_int64(st, 1, now);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return fail(s, err, "cleanup");
		}
		n += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	return n;
}

/* Governance records. */

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void
ocss_store_plan_free(struct ocss_plan_rec *p)
{
	free(p->id);
	free(p->session);
	free(p->decision);
	free(p->digest);
	free(p->plan_json);
	free(p->violations_json);
	free(p->requester);
	memset(p, 0, sizeof(*p));
}

void
ocss_store_approval_free(struct ocss_approval_rec *a)
{
	free(a->id);
	free(a->plan_id);
	free(a->status);
	free(a->decided_by);
	free(a->note);
	memset(a, 0, sizeof(*a));
}

/* Run a prepared statement to completion; 0 or -1. */
static int
step_done(struct ocss_store *s, sqlite3_stmt *st, const char *what,
    struct ocss_err *err)
{
	int	 rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, what);
	return 0;
}

int
ocss_store_plan_put(struct ocss_store *s, const struct ocss_plan_rec *p,
    struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO gov_plans (id, session, "
	    "decision, digest, plan_json, violations_json, requester, created,"
	    " expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT (id) DO UPDATE SET decision = excluded.decision, "
	    "expires = excluded.expires", -1, &st, NULL))
		return fail(s, err, "store plan");
	bind_opt(st, 1, p->id);
	bind_opt(st, 2, p->session);
	bind_opt(st, 3, p->decision);
	bind_opt(st, 4, p->digest);
	bind_opt(st, 5, p->plan_json);
	bind_opt(st, 6, p->violations_json ? p->violations_json : "[]");
	bind_opt(st, 7, p->requester);
	sqlite3_bind_int64(st, 8, p->created);
	sqlite3_bind_int64(st, 9, p->expires);
	return step_done(s, st, "store plan", err);
}

int
ocss_store_plan_get(struct ocss_store *s, const char *id,
    struct ocss_plan_rec *p, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(s->db, "SELECT id, session, decision, digest, "
	    "plan_json, violations_json, requester, created, expires FROM "
	    "gov_plans WHERE id = ?1", -1, &st, NULL))
		return fail(s, err, "read plan");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->id = col_dup(st, 0);
		p->session = col_dup(st, 1);
		p->decision = col_dup(st, 2);
		p->digest = col_dup(st, 3);
		p->plan_json = col_dup(st, 4);
		p->violations_json = col_dup(st, 5);
		p->requester = col_dup(st, 6);
		p->created = sqlite3_column_int64(st, 7);
		p->expires = sqlite3_column_int64(st, 8);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return fail(s, err, "read plan");
}

int
ocss_store_approval_put(struct ocss_store *s,
    const struct ocss_approval_rec *a, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO gov_approvals (id, "
	    "plan_id, status, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
	    -1, &st, NULL))
		return fail(s, err, "store approval");
	bind_opt(st, 1, a->id);
	bind_opt(st, 2, a->plan_id);
	bind_opt(st, 3, a->status ? a->status : "pending");
	sqlite3_bind_int64(st, 4, a->created);
	sqlite3_bind_int64(st, 5, a->expires);
	return step_done(s, st, "store approval", err);
}

#define APPROVAL_COLS "id, plan_id, CASE WHEN status = 'pending' AND " \
	"expires <= ?9 THEN 'expired' ELSE status END AS status, decided_by, " \
	"note, " \
	"created, expires, decided_at, token_expires"

static void
approval_row(sqlite3_stmt *st, struct ocss_approval_rec *a)
{
	a->id = col_dup(st, 0);
	a->plan_id = col_dup(st, 1);
	a->status = col_dup(st, 2);
	a->decided_by = col_dup(st, 3);
	a->note = col_dup(st, 4);
	a->created = sqlite3_column_int64(st, 5);
	a->expires = sqlite3_column_int64(st, 6);
	a->decided_at = sqlite3_column_int64(st, 7);
	a->token_expires = sqlite3_column_int64(st, 8);
}

static int
approval_one(struct ocss_store *s, const char *sql, const char *key,
    int64_t now, struct ocss_approval_rec *a, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(a, 0, sizeof(*a));
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return fail(s, err, "read approval");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		approval_row(st, a);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return fail(s, err, "read approval");
}

int
ocss_store_approval_get(struct ocss_store *s, const char *id, int64_t now,
    struct ocss_approval_rec *a, struct ocss_err *err)
{
	return approval_one(s, "SELECT " APPROVAL_COLS " FROM gov_approvals "
	    "WHERE id = ?1", id, now, a, err);
}

int
ocss_store_approval_by_plan(struct ocss_store *s, const char *plan_id,
    int64_t now, struct ocss_approval_rec *a, struct ocss_err *err)
{
	return approval_one(s, "SELECT " APPROVAL_COLS " FROM gov_approvals "
	    "WHERE plan_id = ?1", plan_id, now, a, err);
}

int
ocss_store_approval_decide(struct ocss_store *s, const char *id,
    const char *status, const char *who, const char *note, int64_t now,
    int64_t token_expires, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	/* The WHERE clause is the lock: of concurrent deciders, only the
	 * first UPDATE finds the row still pending. */
	if (sqlite3_prepare_v2(s->db, "UPDATE gov_approvals SET status = ?2, "
	    "decided_by = ?3, note = ?4, decided_at = ?5, token_expires = ?6 "
	    "WHERE id = ?1 AND status = 'pending' AND expires > ?5",
	    -1, &st, NULL))
		return fail(s, err, "decide approval");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	bind_opt(st, 3, who);
	bind_opt(st, 4, note);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, token_expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "decide approval");
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
ocss_store_approval_list(struct ocss_store *s, const char *status,
    int64_t now, long offset, long limit,
    void (*fn)(void *, const struct ocss_approval_rec *), void *arg,
    struct ocss_err *err)
{
	sqlite3_stmt		*st;
	struct ocss_approval_rec a;
	int			 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT * FROM (SELECT " APPROVAL_COLS
	    " FROM gov_approvals) WHERE ?1 IS NULL OR status = ?1 "
	    "ORDER BY created DESC, id LIMIT ?2 OFFSET ?3", -1, &st, NULL))
		return fail(s, err, "list approvals");
	bind_opt(st, 1, status);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	sqlite3_bind_int64(st, 9, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		approval_row(st, &a);
		fn(arg, &a);
		ocss_store_approval_free(&a);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "list approvals");
	return 0;
}

int
ocss_store_approval_counts(struct ocss_store *s, int64_t now, long c[4],
    struct ocss_err *err)
{
	static const char *names[] = { "pending", "approved", "rejected",
	    "expired" };
	sqlite3_stmt	*st;
	const char	*k;
	int		 rc, i;

	memset(c, 0, 4 * sizeof(*c));
	if (sqlite3_prepare_v2(s->db, "SELECT CASE WHEN status = 'pending' "
	    "AND expires <= ?1 THEN 'expired' ELSE status END AS st, count(*) "
	    "FROM gov_approvals GROUP BY st", -1, &st, NULL))
		return fail(s, err, "count approvals");
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; i < 4; i++)
			if (k && strcmp(k, names[i]) == 0)
				c[i] += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "count approvals");
	return 0;
}

int
ocss_store_session_touch(struct ocss_store *s, const char *id, int64_t now,
    int64_t ttl, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	/* An expired session starts over: its old actions no longer count. */
	if (sqlite3_prepare_v2(s->db, "DELETE FROM gov_session_actions WHERE "
	    "session = ?1 AND EXISTS (SELECT 1 FROM gov_sessions WHERE id = ?1 "
	    "AND expires <= ?2)", -1, &st, NULL))
		return fail(s, err, "session");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (step_done(s, st, "session", err) == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO gov_sessions (id, created, "
	    "last_seen, expires) VALUES (?1, ?2, ?2, ?3) ON CONFLICT (id) DO "
	    "UPDATE SET created = CASE WHEN expires <= ?2 THEN ?2 ELSE created "
	    "END, last_seen = ?2, expires = ?3", -1, &st, NULL))
		return fail(s, err, "session");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + ttl);
	return step_done(s, st, "session", err);
}

int
ocss_store_session_add_action(struct ocss_store *s, const char *id,
    int64_t ts, const char *cat, const char *tool, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO gov_session_actions "
	    "(session, ts, category, tool) VALUES (?1, ?2, ?3, ?4)", -1, &st,
	    NULL))
		return fail(s, err, "session action");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, cat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tool, -1, SQLITE_STATIC);
	return step_done(s, st, "session action", err);
}

int
ocss_store_session_actions(struct ocss_store *s, const char *id,
    int64_t since,
    void (*fn)(void *, int64_t, const char *, const char *), void *arg,
    struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT ts, category, tool FROM "
	    "gov_session_actions WHERE session = ?1 AND ts >= ?2 "
	    "ORDER BY ts, rowid", -1, &st, NULL))
		return fail(s, err, "session actions");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "session actions");
	return 0;
}

/* Skill quarantine. */

void
ocss_store_quarantine_free(struct ocss_quarantine_rec *q)
{
	free(q->name);
	free(q->path);
	free(q->status);
	free(q->reason);
	free(q->findings_json);
	free(q->content_sha256);
	free(q->override_user);
	free(q->override_ack);
	free(q->override_findings_json);
	memset(q, 0, sizeof(*q));
}

int
ocss_store_quarantine_put(struct ocss_store *s,
    const struct ocss_quarantine_rec *q, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO quarantine "
	    "(name, path, status, reason, trust_score, nfindings, "
	    "findings_json, content_sha256, needs_rescan, scanned_at, "
	    "quarantined_at, released_at, override_user, override_ack, "
	    "override_at, override_findings_json) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", -1, &st,
	    NULL))
		return fail(s, err, "store quarantine");
	bind_opt(st, 1, q->name);
	bind_opt(st, 2, q->path);
	bind_opt(st, 3, q->status);
	bind_opt(st, 4, q->reason ? q->reason : "");
	sqlite3_bind_int(st, 5, q->trust_score);
	sqlite3_bind_int64(st, 6, q->nfindings);
	bind_opt(st, 7, q->findings_json ? q->findings_json : "[]");
	bind_opt(st, 8, q->content_sha256 ? q->content_sha256 : "");
	sqlite3_bind_int(st, 9, q->needs_rescan != 0);
	sqlite3_bind_int64(st, 10, q->scanned_at);
	sqlite3_bind_int64(st, 11, q->quarantined_at);
	sqlite3_bind_int64(st, 12, q->released_at);
	bind_opt(st, 13, q->override_user);
	bind_opt(st, 14, q->override_ack);
	sqlite3_bind_int64(st, 15, q->override_at);
	bind_opt(st, 16, q->override_findings_json);
	return step_done(s, st, "store quarantine", err);
}

#define QUARANTINE_COLS "name, path, status, reason, trust_score, " \
	"nfindings, findings_json, content_sha256, needs_rescan, scanned_at, " \
	"quarantined_at, released_at, override_user, override_ack, " \
	"override_at, override_findings_json"

static void
quarantine_row(sqlite3_stmt *st, struct ocss_quarantine_rec *q)
{
	q->name = col_dup(st, 0);
	q->path = col_dup(st, 1);
	q->status = col_dup(st, 2);
	q->reason = col_dup(st, 3);
	q->trust_score = sqlite3_column_int(st, 4);
	q->nfindings = (long)sqlite3_column_int64(st, 5);
	q->findings_json = col_dup(st, 6);
	q->content_sha256 = col_dup(st, 7);
	q->needs_rescan = sqlite3_column_int(st, 8);
	q->scanned_at = sqlite3_column_int64(st, 9);
	q->quarantined_at = sqlite3_column_int64(st, 10);
	q->released_at = sqlite3_column_int64(st, 11);
	q->override_user = col_dup(st, 12);
	q->override_ack = col_dup(st, 13);
	q->override_at = sqlite3_column_int64(st, 14);
	q->override_findings_json = col_dup(st, 15);
}

static int
quarantine_one(struct ocss_store *s, const char *sql, const char *key,
    struct ocss_quarantine_rec *q, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(q, 0, sizeof(*q));
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return fail(s, err, "read quarantine");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		quarantine_row(st, q);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return fail(s, err, "read quarantine");
}

int
ocss_store_quarantine_get(struct ocss_store *s, const char *name,
    struct ocss_quarantine_rec *q, struct ocss_err *err)
{
	return quarantine_one(s, "SELECT " QUARANTINE_COLS " FROM quarantine "
	    "WHERE name = ?1", name, q, err);
}

int
ocss_store_quarantine_by_path(struct ocss_store *s, const char *path,
    struct ocss_quarantine_rec *q, struct ocss_err *err)
{
	return quarantine_one(s, "SELECT " QUARANTINE_COLS " FROM quarantine "
	    "WHERE path = ?1 ORDER BY scanned_at DESC, name LIMIT 1", path, q,
	    err);
}

int
ocss_store_quarantine_list(struct ocss_store *s, const char *status,
    void (*fn)(void *, const struct ocss_quarantine_rec *), void *arg,
    struct ocss_err *err)
{
	sqlite3_stmt			*st;
	struct ocss_quarantine_rec	 q;
	int				 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT " QUARANTINE_COLS " FROM "
	    "quarantine WHERE ?1 IS NULL OR status = ?1 ORDER BY name", -1,
	    &st, NULL))
		return fail(s, err, "list quarantine");
	bind_opt(st, 1, status);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&q, 0, sizeof(q));
		quarantine_row(st, &q);
		fn(arg, &q);
		ocss_store_quarantine_free(&q);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "list quarantine");
	return 0;
}

/* Run an UPDATE whose WHERE clause decides: 0 changed a row, 1 none. */
static int
quarantine_update(struct ocss_store *s, sqlite3_stmt *st, const char *what,
    struct ocss_err *err)
{
	if (step_done(s, st, what, err) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
ocss_store_quarantine_override(struct ocss_store *s, const char *name,
    const char *user, const char *ack, int64_t now, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "UPDATE quarantine SET status = "
	    "'overridden', override_user = ?2, override_ack = ?3, "
	    "override_at = ?4, override_findings_json = findings_json, "
	    "reason = 'overridden by ' || ?2 WHERE name = ?1 AND "
	    "status = 'quarantined' AND needs_rescan = 0", -1, &st, NULL))
		return fail(s, err, "override quarantine");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ack, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return quarantine_update(s, st, "override quarantine", err);
}

int
ocss_store_quarantine_release(struct ocss_store *s, const char *name,
    const char *reason, int64_t now, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "UPDATE quarantine SET status = "
	    "'released', released_at = ?2, reason = ?3 WHERE name = ?1 AND "
	    "status != 'released' AND needs_rescan = 0", -1, &st, NULL))
		return fail(s, err, "release quarantine");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	bind_opt(st, 3, reason ? reason : "released");
	return quarantine_update(s, st, "release quarantine", err);
}

int
ocss_store_quarantine_invalidate(struct ocss_store *s, const char *name,
    const char *reason, int64_t now, struct ocss_err *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "UPDATE quarantine SET quarantined_at = "
	    "CASE WHEN status = 'quarantined' THEN quarantined_at ELSE ?2 END, "
	    "status = 'quarantined', needs_rescan = 1, reason = ?3, "
	    "override_user = NULL, override_ack = NULL, override_at = 0, "
	    "override_findings_json = NULL WHERE name = ?1", -1, &st, NULL))
		return fail(s, err, "invalidate quarantine");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	bind_opt(st, 3, reason ? reason : "content changed: rescan required");
	return quarantine_update(s, st, "invalidate quarantine", err);
}

int
ocss_store_quarantine_is_blocked(struct ocss_store *s, const char *name,
    struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM quarantine WHERE "
	    "name = ?1 AND status = 'quarantined'", -1, &st, NULL))
		return fail(s, err, "read quarantine");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail(s, err, "read quarantine");
}

/* ---- the relay's outbox ---- */

void
ocss_store_job_free(struct ocss_job_rec *j)
{
	free(j->kind);
	free(j->platform);
	free(j->chat);
	free(j->phone_id);
	free(j->request_id);
	free(j->peer);
	free(j->payload);
	memset(j, 0, sizeof(*j));
}

int
ocss_store_job_put(struct ocss_store *s, const struct ocss_job_rec *j,
    int64_t *id, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO relay_jobs (kind, platform,"
	    " chat, phone_id, request_id, peer, payload, parts_sent, attempts,"
	    " next_at, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11)", -1, &st, NULL))
		return fail(s, err, "queue a relay job");
	sqlite3_bind_text(st, 1, j->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->chat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, j->phone_id ? j->phone_id : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, j->request_id ? j->request_id : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, j->peer ? j->peer : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, j->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, j->parts_sent);
	sqlite3_bind_int(st, 9, j->attempts);
	sqlite3_bind_int64(st, 10, j->next_at);
	sqlite3_bind_int64(st, 11, j->created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "queue a relay job");
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
ocss_store_job_claim(struct ocss_store *s, int64_t now, int64_t lease_ms,
    struct ocss_job_rec *j, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(j, 0, sizeof(*j));
	/* One statement picks and leases the oldest due job: two workers
	 * never hold the same one.  A worker that dies lets its lease run
	 * out and another takes the job over. */
	if (sqlite3_prepare_v2(s->db, "UPDATE relay_jobs SET lease_until = ?2"
	    " WHERE id = (SELECT id FROM relay_jobs WHERE next_at <= ?1 AND"
	    " lease_until <= ?1 ORDER BY next_at, id LIMIT 1) RETURNING id,"
	    " kind, platform, chat, phone_id, request_id, peer, payload,"
	    " parts_sent, attempts, next_at, created", -1, &st, NULL))
		return fail(s, err, "claim a relay job");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now + lease_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fail(s, err, "claim a relay job");
	}
	j->id = sqlite3_column_int64(st, 0);
	j->kind = col_dup(st, 1);
	j->platform = col_dup(st, 2);
	j->chat = col_dup(st, 3);
	j->phone_id = col_dup(st, 4);
	j->request_id = col_dup(st, 5);
	j->peer = col_dup(st, 6);
	j->payload = col_dup(st, 7);
	j->parts_sent = sqlite3_column_int(st, 8);
	j->attempts = sqlite3_column_int(st, 9);
	j->next_at = sqlite3_column_int64(st, 10);
	j->created = sqlite3_column_int64(st, 11);
	/* Step to the end so the UPDATE is complete before finalize. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || !j->kind || !j->platform || !j->chat ||
	    !j->phone_id || !j->request_id || !j->peer || !j->payload) {
		ocss_store_job_free(j);
		return rc != SQLITE_DONE ? fail(s, err, "claim a relay job") :
		    (ocss_err_set(err, "out of memory"), -1);
	}
	return 0;
}

int
ocss_store_job_update(struct ocss_store *s, const struct ocss_job_rec *j,
    struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE relay_jobs SET kind = ?2,"
	    " payload = ?3, parts_sent = ?4, attempts = ?5, next_at = ?6,"
	    " lease_until = 0 WHERE id = ?1", -1, &st, NULL))
		return fail(s, err, "update a relay job");
	sqlite3_bind_int64(st, 1, j->id);
	sqlite3_bind_text(st, 2, j->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, j->parts_sent);
	sqlite3_bind_int(st, 5, j->attempts);
	sqlite3_bind_int64(st, 6, j->next_at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, err, "update a relay job");
}

int
ocss_store_job_done(struct ocss_store *s, int64_t id, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM relay_jobs WHERE id = ?1",
	    -1, &st, NULL))
		return fail(s, err, "finish a relay job");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, err, "finish a relay job");
}

long
ocss_store_job_count(struct ocss_store *s, struct ocss_err *err)
{
	sqlite3_stmt	*st;
	long		 n = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM relay_jobs", -1,
	    &st, NULL))
		return fail(s, err, "count relay jobs");
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n < 0 ? fail(s, err, "count relay jobs") : n;
}
