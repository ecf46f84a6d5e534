#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "suites.h"

#define PROCS	8
#define THREADS	4
#define LINES	500

static void
unlink_lock(const char *path)
{
	char	 p[256];

	snprintf(p, sizeof(p), "%s.lock", path);
	unlink(p);
}

struct targ {
	struct ocss_audit	*a;
	int			 proc, thr;
};

static void *
writer(void *p)
{
	struct targ		*t = p;
	struct ocss_audit_event	 e;
	char			 id[64], extra[4200];
	int			 i;

	memset(&e, 0, sizeof(e));
	e.event = "test";
	e.request_id = id;
	e.decision = "allow";
	e.reason = "quote \" backslash \\ newline \n";
	/* Lines over PIPE_BUF so only the lock keeps them whole. */
	memset(extra, 0, sizeof(extra));
	memcpy(extra, "\"pad\":\"", 7);
	memset(extra + 7, 'x', 4096);
	memcpy(extra + 7 + 4096, "\"", 2);
	e.extra = extra;
	for (i = 0; i < LINES; i++) {
		snprintf(id, sizeof(id), "%d-%d-%d", t->proc, t->thr, i);
		if (ocss_audit_write(t->a, &e) == -1)
			_exit(3);
	}
	return NULL;
}

static void
test_concurrent_append(void)
{
	char		 path[] = "/tmp/ocss-audit-XXXXXX";
	int		 fd, p, i, st, bad = 0, lines = 0;
	pid_t		 pids[PROCS];
	FILE		*f;
	char		*line = NULL, seen_key[64];
	size_t		 cap = 0;
	ssize_t		 len;
	static unsigned char seen[PROCS][THREADS][LINES];
	json_object	*o, *id;

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd != -1);
	close(fd);
	for (p = 0; p < PROCS; p++) {
		if ((pids[p] = fork()) == 0) {
			pthread_t	 th[THREADS];
			struct targ	 ta[THREADS];
			struct ocss_audit *a;

			/* Each process opens its own, as workers do. */
			if ((a = ocss_audit_open(path, OCSS_FSYNC_NEVER,
			    NULL)) == NULL)
				_exit(2);
			for (i = 0; i < THREADS; i++) {
				ta[i].a = a;
				ta[i].proc = p;
				ta[i].thr = i;
				pthread_create(&th[i], NULL, writer, &ta[i]);
			}
			for (i = 0; i < THREADS; i++)
				pthread_join(th[i], NULL);
			ocss_audit_close(a);
			_exit(0);
		}
		CU_ASSERT_FATAL(pids[p] > 0);
	}
	for (p = 0; p < PROCS; p++) {
		waitpid(pids[p], &st, 0);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	memset(seen, 0, sizeof(seen));
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while ((len = getline(&line, &cap, f)) != -1) {
		int	 a, b, c;

		lines++;
		o = json_tokener_parse(line);
		if (o == NULL || !json_object_object_get_ex(o, "request_id",
		    &id)) {
			bad++;
			json_object_put(o);
			continue;
		}
		snprintf(seen_key, sizeof(seen_key), "%s",
		    json_object_get_string(id));
		if (sscanf(seen_key, "%d-%d-%d", &a, &b, &c) == 3 &&
		    a >= 0 && a < PROCS && b >= 0 && b < THREADS && c >= 0 &&
		    c < LINES)
			seen[a][b][c]++;
		json_object_put(o);
	}
	free(line);
	fclose(f);
	unlink(path);
	unlink_lock(path);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(lines, PROCS * THREADS * LINES);
	for (p = 0; p < PROCS; p++)
		for (i = 0; i < THREADS; i++)
			for (st = 0; st < LINES; st++)
				if (seen[p][i][st] != 1)
					bad++;
	CU_ASSERT_EQUAL(bad, 0);	/* each line exactly once */
}

static void
test_fields(void)
{
	char			 path[] = "/tmp/ocss-audit-XXXXXX";
	struct ocss_audit	*a;
	struct ocss_audit_event	 e;
	json_object		*o, *v;
	char			 buf[4096];
	FILE			*f;
	int			 fd;

	fd = mkstemp(path);
	close(fd);
	a = ocss_audit_open(path, OCSS_FSYNC_ALWAYS, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	memset(&e, 0, sizeof(e));
	e.event = "auth";
	e.request_id = "r1";
	e.peer = "127.0.0.1";
	e.method = "GET";
	e.path = "/v1/models";
	e.decision = "deny";
	e.reason = "unauthorized";
	e.status = 401;
	CU_ASSERT_EQUAL(ocss_audit_write(a, &e), 0);
	ocss_audit_close(a);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
	unlink_lock(path);
	o = json_tokener_parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(json_object_object_get_ex(o, "ts", &v));
	CU_ASSERT(json_object_object_get_ex(o, "status", &v) &&
	    json_object_get_int(v) == 401);
	CU_ASSERT(json_object_object_get_ex(o, "decision", &v) &&
	    strcmp(json_object_get_string(v), "deny") == 0);
	CU_ASSERT(json_object_object_get_ex(o, "path", &v) &&
	    strcmp(json_object_get_string(v), "/v1/models") == 0);
	json_object_put(o);
}

static void
test_unwritable(void)
{
	struct ocss_err	 e;

	CU_ASSERT_PTR_NULL(ocss_audit_open("/nonexistent/dir/audit.jsonl",
	    OCSS_FSYNC_NEVER, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/nonexistent/dir"));
}

/*
 * In a child, since the file-size limit is per process: line 2 fits only
 * half.  With SIGXFSZ ignored the write fails, must leave no half line,
 * and line 3 must follow line 1 directly; with its default action the
 * child dies in the middle of line 2, holding the lock.
 */
static void
half_line_child(const char *path, int die)
{
	struct ocss_audit	*a;
	struct ocss_audit_event	 e;
	struct rlimit		 rl;
	struct stat		 st;

	signal(SIGXFSZ, die ? SIG_DFL : SIG_IGN);
	if ((a = ocss_audit_open(path, OCSS_FSYNC_NEVER, NULL)) == NULL)
		_exit(10);
	memset(&e, 0, sizeof(e));
	e.event = "test";
	e.decision = "allow";
	e.request_id = "line-1";
	if (ocss_audit_write(a, &e) != 0 || stat(path, &st) != 0)
		_exit(11);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = (rlim_t)(st.st_size + st.st_size / 2);
	setrlimit(RLIMIT_FSIZE, &rl);
	e.request_id = "line-2";
	if (ocss_audit_write(a, &e) != -1 || die)
		_exit(12);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
	e.request_id = "line-3";
	if (ocss_audit_write(a, &e) != 0)
		_exit(13);
	ocss_audit_close(a);
	_exit(0);
}

/* The file holds line 1 and line 3, whole, and nothing of line 2. */
static void
assert_lines_1_3(const char *path)
{
	char	 line[512];
	FILE	*f;
	int	 n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		json_object *o = json_tokener_parse(line);

		CU_ASSERT_PTR_NOT_NULL(o);
		CU_ASSERT_PTR_NULL(strstr(line, "line-2"));
		CU_ASSERT_PTR_NOT_NULL(strstr(line, n == 0 ? "line-1" :
		    "line-3"));
		json_object_put(o);
		n++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(n, 2);
}

/* The next writer must neither hang on the dead holder's lock nor leave
 * its half line in the file. */
static void
next_child(const char *path)
{
	struct ocss_audit	*a;
	struct ocss_audit_event	 e;

	alarm(10);
	if ((a = ocss_audit_open(path, OCSS_FSYNC_NEVER, NULL)) == NULL)
		_exit(20);
	memset(&e, 0, sizeof(e));
	e.event = "test";
	e.decision = "allow";
	e.request_id = "line-3";
	if (ocss_audit_write(a, &e) != 0)
		_exit(21);
	ocss_audit_close(a);
	_exit(0);
}

/* A short write, or a writer dying in the middle of its line (then a next
 * writer follows it), and in the end line 1 and line 3, whole. */
static void
half_line(int die)
{
	char	 path[] = "/tmp/ocss-audit-hl-XXXXXX";
	pid_t	 pid;
	int	 fd, status;

	CU_ASSERT_FATAL((fd = mkstemp(path)) != -1);
	close(fd);
	if ((pid = fork()) == 0)
		half_line_child(path, die);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	if (die) {
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
		if ((pid = fork()) == 0)
			next_child(path);
		CU_ASSERT_FATAL(pid > 0);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	}
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_lines_1_3(path);
	unlink(path);
	unlink_lock(path);
}

static void
test_short_write(void)
{
	half_line(0);
}

static void
test_dead_holder(void)
{
	half_line(1);
}

void
suite_audit(void)
{
	CU_pSuite s = ocss_test_suite("audit");

	ocss_test_add(s, "8 processes x 4 threads append, none lost",
	    test_concurrent_append);
	ocss_test_add(s, "record fields", test_fields);
	ocss_test_add(s, "unwritable path named", test_unwritable);
	ocss_test_add(s, "a short write leaves no half line",
	    test_short_write);
	ocss_test_add(s, "a writer dead with the lock held: no hang, no "
	    "half line", test_dead_holder);
}
