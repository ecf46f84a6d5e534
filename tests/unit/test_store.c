#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "suites.h"

static char dir[64];

static struct ocss_store *
open_tmp(void)
{
	struct ocss_store *s;
	struct ocss_err	 e;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/ocss-store-XXXXXX");
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	}
	s = ocss_store_open(dir, &e);
	if (s == NULL)
		fprintf(stderr, "%s\n", e.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static void
test_schema_and_wal(void)
{
	struct ocss_store *s = open_tmp();
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 path[128];

	ocss_store_close(s);
	snprintf(path, sizeof(path), "%s/ocss.db", dir);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), OCSS_STORE_SCHEMA);
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL(sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Re-opening an up-to-date store migrates nothing and works. */
	ocss_store_close(open_tmp());
}

static void
test_newer_schema_refused(void)
{
	struct ocss_err	 e;
	sqlite3		*db;
	char		 path[128];

	snprintf(path, sizeof(path), "%s/newer.db", dir[0] ? dir : "/tmp");
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	CU_ASSERT_PTR_NULL(ocss_store_open(path, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "newer"));
	unlink(path);
	CU_ASSERT_PTR_NULL(ocss_store_open("postgresql://x/y", &e));
	CU_ASSERT_PTR_NULL(ocss_store_open("/nonexistent/dir/x.db", &e));
}

static void
test_seen(void)
{
	struct ocss_store *s = open_tmp();
	struct ocss_err	 e;

	CU_ASSERT_EQUAL(ocss_store_seen(s, "tg", "42", 1000, 2000, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_seen(s, "tg", "42", 1500, 2500, &e), 1);
	CU_ASSERT_EQUAL(ocss_store_seen(s, "wa", "42", 1500, 2500, &e), 0);
	/* At or after its expiry an id counts as new again. */
	CU_ASSERT_EQUAL(ocss_store_seen(s, "tg", "42", 2000, 3000, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_seen(s, "tg", "42", 2999, 4000, &e), 1);
	CU_ASSERT(ocss_store_cleanup(s, 10000, &e) >= 2);
	CU_ASSERT_EQUAL(ocss_store_seen(s, "tg", "42", 10000, 11000, &e), 0);
	ocss_store_close(s);
}

static void
test_rate_window(void)
{
	struct ocss_store *s = open_tmp();
	struct ocss_err	 e;
	int64_t		 retry;
	int		 i;

	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:a", 1000 + i * 10,
		    60000, 5, &retry, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:a", 2000, 60000, 5, &retry,
	    &e), 1);
	/* The oldest hit (t=1000) leaves the window at 61000. */
	CU_ASSERT_EQUAL(retry, 59000);
	CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:b", 2000, 60000, 5, &retry,
	    &e), 0);
	/* Edge: at exactly t = 1000 + window the first hit is out. */
	CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:a", 60999, 60000, 5, &retry,
	    &e), 1);
	CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:a", 61000, 60000, 5, &retry,
	    &e), 0);
	CU_ASSERT_EQUAL(ocss_store_rate_hit(s, "ip:a", 61001, 60000, 5, &retry,
	    &e), 1);
	ocss_store_close(s);
}

static void
test_rate_across_processes(void)
{
	pid_t	 pids[4];
	int	 p, i, st, allowed = 0;
	int	 fds[2];
	char	 c;

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	ocss_store_close(open_tmp());	/* migrate before the race */
	for (p = 0; p < 4; p++) {
		if ((pids[p] = fork()) == 0) {
			struct ocss_store *s;
			struct ocss_err	 e;
			int64_t		 retry;

			close(fds[0]);
			if ((s = ocss_store_open(dir, &e)) == NULL)
				_exit(2);
			for (i = 0; i < 100; i++) {
				int r = ocss_store_rate_hit(s, "ip:shared",
				    ocss_store_now_ms(), 600000, 150, &retry,
				    &e);
				if (r == -1)
					_exit(3);
				if (r == 0 && write(fds[1], "x", 1) != 1)
					_exit(4);
			}
			ocss_store_close(s);
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &c, 1) == 1)
		allowed++;
	close(fds[0]);
	for (p = 0; p < 4; p++) {
		waitpid(pids[p], &st, 0);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* 400 attempts against one shared window of 150. */
	CU_ASSERT_EQUAL(allowed, 150);
}

static void
test_outbox(void)
{
	struct ocss_store *a = open_tmp(), *b = open_tmp();
	struct ocss_job_rec j, k, c;
	struct ocss_err	 e;
	int64_t		 id1, id2, now = 1000000;

	memset(&j, 0, sizeof(j));
	j.kind = "chat";
	j.platform = "telegram";
	j.chat = "42";
	j.payload = "{\"model\":\"openclaw\"}";
	j.request_id = "rid";
	j.next_at = now;
	j.created = now;
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_put(a, &j, &id1, &e), 0);
	j.chat = "43";
	j.next_at = now + 5000;		/* not due yet */
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_put(a, &j, &id2, &e), 0);
	CU_ASSERT(id2 > id1);
	CU_ASSERT_EQUAL(ocss_store_job_count(b, &e), 2);

	/* One connection leases the due job; the other finds nothing. */
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_claim(a, now, 60000, &k, &e), 0);
	CU_ASSERT_EQUAL(k.id, id1);
	CU_ASSERT_STRING_EQUAL(k.kind, "chat");
	CU_ASSERT_STRING_EQUAL(k.chat, "42");
	CU_ASSERT_STRING_EQUAL(k.phone_id, "");
	CU_ASSERT_STRING_EQUAL(k.request_id, "rid");
	CU_ASSERT_EQUAL(ocss_store_job_claim(b, now, 60000, &c, &e), 1);

	/* A lease that runs out lets another worker take the job over. */
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_claim(b, now + 60000, 60000, &c,
	    &e), 0);
	CU_ASSERT_EQUAL(c.id, id1);
	ocss_store_job_free(&c);

	/* Rescheduled as a reply: new payload and time, lease dropped. */
	free(k.kind);
	free(k.payload);
	k.kind = strdup("reply");
	k.payload = strdup("hello");
	k.parts_sent = 1;
	k.attempts = 2;
	k.next_at = now + 200000;
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_update(a, &k, &e), 0);
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_claim(b, now + 150000, 1000, &c,
	    &e), 0);
	CU_ASSERT_EQUAL(c.id, id2);		/* now the earlier one */
	ocss_store_job_free(&c);
	CU_ASSERT_EQUAL(ocss_store_job_done(b, id2, &e), 0);
	CU_ASSERT_EQUAL_FATAL(ocss_store_job_claim(b, now + 200000, 1000, &c,
	    &e), 0);
	CU_ASSERT_EQUAL(c.id, id1);
	CU_ASSERT_STRING_EQUAL(c.kind, "reply");
	CU_ASSERT_STRING_EQUAL(c.payload, "hello");
	CU_ASSERT_EQUAL(c.parts_sent, 1);
	CU_ASSERT_EQUAL(c.attempts, 2);
	ocss_store_job_free(&c);
	ocss_store_job_free(&k);

	CU_ASSERT_EQUAL(ocss_store_job_done(a, id1, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_job_count(b, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_job_claim(a, now + 10000000, 1000, &c, &e),
	    1);
	ocss_store_close(a);
	ocss_store_close(b);
}

void
suite_store(void)
{
	CU_pSuite s = ocss_test_suite("store");

	ocss_test_add(s, "schema version and WAL", test_schema_and_wal);
	ocss_test_add(s, "newer schema and bad specs refused",
	    test_newer_schema_refused);
	ocss_test_add(s, "replay ids with expiry", test_seen);
	ocss_test_add(s, "sliding window edges", test_rate_window);
	ocss_test_add(s, "relay outbox: lease, take-over, reschedule",
	    test_outbox);
	ocss_test_add(s, "one window shared by 4 processes",
	    test_rate_across_processes);
}
