/*
 * Quarantine: the store functions (migration 3), recording scan reports,
 * override / release rules, rescan and the atomic export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quarantine.h"
#include "store.h"
#include "suites.h"

static char qdir[64];

static struct ocss_store *
qstore(void)
{
	struct ocss_store *s;
	struct ocss_err	 e;

	if (qdir[0] == '\0') {
		snprintf(qdir, sizeof(qdir), "/tmp/ocss-quar-XXXXXX");
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(qdir));
	}
	if ((s = ocss_store_open(qdir, &e)) == NULL)
		fprintf(stderr, "%s\n", e.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static struct ocss_skillscan *
scanner(void)
{
	struct ocss_skillscan	*sc = NULL;
	struct ocss_err		 e;

	if (ocss_skillscan_new(&sc, OCSS_TEST_CONFDIR "/scanner-rules.json",
	    OCSS_TEST_CONFDIR "/egress-allowlist.conf", &e) == -1)
		fprintf(stderr, "%s\n", e.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	return sc;
}

static void
write_text(const char *path, const char *s)
{
	FILE	*f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(s, f);
	fclose(f);
}

static char *
read_text(const char *path)
{
	static char	 buf[4096];
	FILE		*f = fopen(path, "r");
	size_t		 n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_store_records(void)
{
	struct ocss_store		*s = qstore();
	struct ocss_quarantine_rec	 q, g;
	struct ocss_err			 e;

	memset(&q, 0, sizeof(q));
	q.name = "s1";
	q.path = "/skills/s1";
	q.status = "quarantined";
	q.trust_score = 10;
	q.nfindings = 2;
	q.findings_json = "[{\"rule\":\"dyn.eval\"}]";
	q.quarantined_at = 5;
	CU_ASSERT_EQUAL(ocss_store_quarantine_put(s, &q, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_quarantine_get(s, "nope", &g, &e), 1);
	CU_ASSERT_EQUAL_FATAL(ocss_store_quarantine_get(s, "s1", &g, &e), 0);
	CU_ASSERT_STRING_EQUAL(g.status, "quarantined");
	CU_ASSERT_EQUAL(g.trust_score, 10);
	CU_ASSERT_PTR_NULL(g.override_user);
	ocss_store_quarantine_free(&g);
	CU_ASSERT_EQUAL(ocss_store_quarantine_by_path(s, "/skills/s1", &g, &e),
	    0);
	CU_ASSERT_STRING_EQUAL(g.name, "s1");
	ocss_store_quarantine_free(&g);
	CU_ASSERT_EQUAL(ocss_store_quarantine_is_blocked(s, "s1", &e), 1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_is_blocked(s, "nope", &e), 0);

	/* Override copies the findings; a second override finds none. */
	CU_ASSERT_EQUAL(ocss_store_quarantine_override(s, "s1", "alice",
	    "I accept the risk", 7, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_quarantine_override(s, "s1", "bob", "x", 8,
	    &e), 1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_get(s, "s1", &g, &e), 0);
	CU_ASSERT_STRING_EQUAL(g.status, "overridden");
	CU_ASSERT_STRING_EQUAL(g.override_user, "alice");
	CU_ASSERT_STRING_EQUAL(g.override_ack, "I accept the risk");
	CU_ASSERT_STRING_EQUAL(g.override_findings_json, q.findings_json);
	CU_ASSERT_EQUAL(g.override_at, 7);
	ocss_store_quarantine_free(&g);
	CU_ASSERT_EQUAL(ocss_store_quarantine_is_blocked(s, "s1", &e), 0);

	/* A changed skill: override dropped, blocked, rescan needed; no
	 * override or release until then. */
	CU_ASSERT_EQUAL(ocss_store_quarantine_invalidate(s, "s1", "changed",
	    9, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_quarantine_invalidate(s, "nope", NULL, 9,
	    &e), 1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_get(s, "s1", &g, &e), 0);
	CU_ASSERT_STRING_EQUAL(g.status, "quarantined");
	CU_ASSERT_EQUAL(g.needs_rescan, 1);
	CU_ASSERT_PTR_NULL(g.override_user);
	CU_ASSERT_EQUAL(g.quarantined_at, 9);
	ocss_store_quarantine_free(&g);
	CU_ASSERT_EQUAL(ocss_store_quarantine_is_blocked(s, "s1", &e), 1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_override(s, "s1", "a", "b", 10,
	    &e), 1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_release(s, "s1", NULL, 10, &e),
	    1);
	q.needs_rescan = 0;
	CU_ASSERT_EQUAL(ocss_store_quarantine_put(s, &q, &e), 0);
	CU_ASSERT_EQUAL(ocss_store_quarantine_release(s, "s1", "ok", 11, &e),
	    0);
	CU_ASSERT_EQUAL(ocss_store_quarantine_release(s, "s1", "ok", 12, &e),
	    1);
	CU_ASSERT_EQUAL(ocss_store_quarantine_is_blocked(s, "s1", &e), 0);
	/* The CHECK constraint refuses unknown statuses. */
	q.status = "maybe";
	CU_ASSERT_EQUAL(ocss_store_quarantine_put(s, &q, &e), -1);
	ocss_store_close(s);
}

static int	listed;

static void
count_one(void *arg, const struct ocss_quarantine_rec *q)
{
	(void)arg;
	(void)q;
	listed++;
}

static void
test_record_override_rescan(void)
{
	struct ocss_store		*s = qstore();
	struct ocss_skillscan		*sc = scanner();
	struct ocss_skillscan_report	*r;
	struct ocss_quarantine_rec	 g;
	enum ocss_quarantine_result	 res;
	struct ocss_err			 e;
	char				 skill[128], file[160], list[128];
	char				*t;

	snprintf(skill, sizeof(skill), "%s/skill", qdir);
	mkdir(skill, 0755);
	snprintf(file, sizeof(file), "%s/index.js", skill);
	write_text(file, "eval(process.argv[2]);\n");
	snprintf(file, sizeof(file), "%s/SKILL.md", skill);
	write_text(file, "---\nname: evaly\n---\n");

	r = ocss_skillscan_report_new(skill);
	CU_ASSERT_EQUAL_FATAL(ocss_skillscan_path(sc, skill, r, &e), 0);
	CU_ASSERT_EQUAL(ocss_quarantine_record(s, r, skill, NULL,
	    OCSS_SKILLSCAN_MEDIUM, 100, &res, &g, &e), 0);
	CU_ASSERT_EQUAL(res, OCSS_QUARANTINE_QUARANTINED);
	CU_ASSERT_STRING_EQUAL(g.name, "evaly");
	CU_ASSERT_PTR_NOT_NULL(strstr(g.findings_json, "dyn.eval"));
	CU_ASSERT_EQUAL(strlen(g.content_sha256), 64);
	ocss_store_quarantine_free(&g);
	/* A threshold above every finding records nothing new for a clean
	 * verdict of an unknown skill, but releases a known one. */
	CU_ASSERT_EQUAL(ocss_quarantine_record(s, r, skill, "other",
	    OCSS_SKILLSCAN_CRITICAL, 100, &res, NULL, &e), 0);
	CU_ASSERT_EQUAL(res, OCSS_QUARANTINE_CLEAN);
	CU_ASSERT_EQUAL(ocss_store_quarantine_get(s, "other", &g, &e), 1);

	/* Override: user and ack required, blanks refused. */
	CU_ASSERT_EQUAL(ocss_quarantine_override(s, "evaly", NULL, "x", 1,
	    &e), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--ack"));
	CU_ASSERT_EQUAL(ocss_quarantine_override(s, "evaly", "bob", " \t",
	    1, &e), 1);
	CU_ASSERT_EQUAL(ocss_quarantine_override(s, "ghost", "bob", "ok", 1,
	    &e), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no skill"));
	CU_ASSERT_EQUAL(ocss_quarantine_override(s, "evaly", "bob",
	    "I accept the risk", 101, &e), 0);
	CU_ASSERT_EQUAL(ocss_quarantine_override(s, "evaly", "bob", "again",
	    101, &e), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "overridden"));

	/* The same content scanned again keeps the override. */
	CU_ASSERT_EQUAL(ocss_quarantine_record(s, r, skill, NULL,
	    OCSS_SKILLSCAN_MEDIUM, 102, &res, NULL, &e), 0);
	CU_ASSERT_EQUAL(res, OCSS_QUARANTINE_OVERRIDDEN);
	ocss_skillscan_report_free(r);

	/* Other content with findings: quarantined again. */
	snprintf(file, sizeof(file), "%s/index.js", skill);
	write_text(file, "eval(process.argv[3]);\n");
	CU_ASSERT_EQUAL(ocss_quarantine_rescan(s, sc, "evaly",
	    OCSS_SKILLSCAN_MEDIUM, 103, &res, NULL, &e), 0);
	CU_ASSERT_EQUAL(res, OCSS_QUARANTINE_QUARANTINED);
	CU_ASSERT_EQUAL(ocss_quarantine_is_blocked(s, "evaly", &e), 1);

	/* Export: the quarantined names only, mode 0644, no temp left. */
	snprintf(list, sizeof(list), "%s/list.json", qdir);
	CU_ASSERT_EQUAL(ocss_quarantine_export(s, list, NULL, &e), 0);
	t = read_text(list);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"evaly\""));
	CU_ASSERT_PTR_NULL(strstr(t, "\"s1\""));
	{
		struct stat st;

		CU_ASSERT_EQUAL(stat(list, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	}

	/* Clean content: released, and gone from the export. */
	write_text(file, "module.exports = 1;\n");
	CU_ASSERT_EQUAL(ocss_quarantine_rescan(s, sc, "evaly",
	    OCSS_SKILLSCAN_MEDIUM, 104, &res, NULL, &e), 0);
	CU_ASSERT_EQUAL(res, OCSS_QUARANTINE_RELEASED);
	CU_ASSERT_EQUAL(ocss_quarantine_release(s, "evaly", "bob", "ok", 105,
	    &e), 1);
	CU_ASSERT_EQUAL(ocss_quarantine_export(s, list, NULL, &e), 0);
	t = read_text(list);
	CU_ASSERT_STRING_EQUAL(t, "[]\n");
	CU_ASSERT_EQUAL(ocss_quarantine_rescan(s, sc, "ghost",
	    OCSS_SKILLSCAN_MEDIUM, 104, &res, NULL, &e), 1);
	listed = 0;
	CU_ASSERT_EQUAL(ocss_store_quarantine_list(s, "released", count_one,
	    NULL, &e), 0);
	CU_ASSERT(listed >= 2);
	/* An export into a missing directory fails and says where. */
	CU_ASSERT_EQUAL(ocss_quarantine_export(s, "/nonexistent/dir/l.json",
	    NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/nonexistent/dir/l.json"));
	ocss_skillscan_free(sc);
	ocss_store_close(s);
}

static void
test_audit_line(void)
{
	struct ocss_err	 e;
	char		 path[128], *t;

	snprintf(path, sizeof(path), "%s/audit.jsonl", qdir[0] ? qdir :
	    "/tmp");
	unlink(path);
	CU_ASSERT_EQUAL(ocss_quarantine_audit(path, "skill_override", "allow",
	    "sk\"ill", "why", "\"user\":\"u\"", &e), 0);
	t = read_text(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"skill\":\"sk\\\"ill\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"user\":\"u\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"event\":\"skill_override\""));
	unlink(path);
}

static void
test_severity(void)
{
	enum ocss_skillscan_severity s = OCSS_SKILLSCAN_INFO;

	CU_ASSERT_EQUAL(ocss_quarantine_severity("high", &s), 0);
	CU_ASSERT_EQUAL(s, OCSS_SKILLSCAN_HIGH);
	CU_ASSERT_EQUAL(ocss_quarantine_severity("severe", &s), -1);
}

static void
test_cleanup(void)
{
	char	 cmd[128];

	if (qdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qdir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
}

void
suite_quarantine(void)
{
	CU_pSuite s = ocss_test_suite("quarantine");

	ocss_test_add(s, "store records, override, invalidate, release",
	    test_store_records);
	ocss_test_add(s, "record, override, rescan, export",
	    test_record_override_rescan);
	ocss_test_add(s, "audit line", test_audit_line);
	ocss_test_add(s, "severity names", test_severity);
	ocss_test_add(s, "cleanup", test_cleanup);
}
