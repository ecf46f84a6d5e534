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
		/* Hits older than a day can matter to no sane window. */
		"DELETE FROM rate_hits WHERE ts <= ?1 - 86400000",
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
