#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "governance.h"
#include "store.h"
#include "suites.h"

#ifndef OCSS_TEST_CONFDIR
#define OCSS_TEST_CONFDIR "conf"
#endif

#define SECRET "unit-test-governance-secret-0123456789"

static char tmpdir[64];

static void
mkconf(const char *policies)
{
	char	 path[8192];
	FILE	*f;

	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ocss-gov-XXXXXX");
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof(path), "%s/governance-policies.json", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(policies, f);
	fclose(f);
	/* The shipped intent patterns, always. */
	snprintf(path, sizeof(path), "cp %s/intent-patterns.json %s/",
	    OCSS_TEST_CONFDIR, tmpdir);
	CU_ASSERT_EQUAL_FATAL(system(path), 0);
}

static void
cfg_for(struct ocss_config *c, const char *confdir)
{
	memset(c, 0, sizeof(*c));
	c->conf_dir = (char *)confdir;
	c->state_dir = tmpdir;
	c->gov_enabled = 1;
	c->gov_secret = SECRET;
	c->gov_approval_ttl = 3600;
	c->gov_token_ttl = 900;
	c->gov_session_ttl = 3600;
}

static struct ocss_gov *
load(const char *confdir)
{
	struct ocss_config c;
	struct ocss_err	 e;
	struct ocss_gov	*g;

	cfg_for(&c, confdir);
	if ((g = ocss_gov_load(&c, &e)) == NULL)
		fprintf(stderr, "\n%s\n", e.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	return g;
}

static const char *
cat(struct ocss_gov *g, const char *tool, const char *args)
{
	json_object	*a = args ? json_tokener_parse(args) : NULL;
	const char	*c, *r;

	ocss_gov_classify(g, tool, a, &c, &r);
	json_object_put(a);
	return c;
}

static void
test_classifier(void)
{
	struct ocss_gov	*g = load(OCSS_TEST_CONFDIR);

	CU_ASSERT_STRING_EQUAL(cat(g, "exec", "{\"command\":\"ls\"}"),
	    "system_command");
	CU_ASSERT_STRING_EQUAL(cat(g, "bash", "{\"command\":\"rm -rf /x\"}"),
	    "file_delete");
	CU_ASSERT_STRING_EQUAL(cat(g, "exec", "{\"command\":\"sudo rm x\"}"),
	    "file_delete");
	CU_ASSERT_STRING_EQUAL(cat(g, "exec", "{\"command\":\"curl -s x\"}"),
	    "network_request");
	CU_ASSERT_STRING_EQUAL(cat(g, "run_python", NULL), "code_execution");
	CU_ASSERT_STRING_EQUAL(cat(g, "write_file", NULL), "file_write");
	CU_ASSERT_STRING_EQUAL(cat(g, "edit", NULL), "file_write");
	CU_ASSERT_STRING_EQUAL(cat(g, "apply_patch", NULL), "file_write");
	CU_ASSERT_STRING_EQUAL(cat(g, "delete_file", NULL), "file_delete");
	CU_ASSERT_STRING_EQUAL(cat(g, "read_file", NULL), "file_read");
	CU_ASSERT_STRING_EQUAL(cat(g, "read", NULL), "file_read");
	CU_ASSERT_STRING_EQUAL(cat(g, "web_fetch", NULL), "network_request");
	CU_ASSERT_STRING_EQUAL(cat(g, "browser", NULL), "network_request");
	CU_ASSERT_STRING_EQUAL(cat(g, "send_email", NULL), "messaging");
	CU_ASSERT_STRING_EQUAL(cat(g, "message", NULL), "messaging");
	CU_ASSERT_STRING_EQUAL(cat(g, "get_weather", NULL), "read_only_query");
	CU_ASSERT_STRING_EQUAL(cat(g, "frobnicate", NULL), "unknown");
	ocss_gov_free(g);
}

/* Evaluate one body against a fresh store; returns the decision. */
static enum ocss_gov_decision
eval(struct ocss_gov *g, struct ocss_store *st, const char *body,
    const char *session, int64_t now, struct ocss_gov_result *r)
{
	struct ocss_gov_input in;
	struct ocss_err	 e;
	json_object	*o = json_tokener_parse(body);

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	memset(&in, 0, sizeof(in));
	in.body = o;
	in.session = session;
	in.requester = "tester";
	in.now_ms = now;
	if (ocss_gov_evaluate(g, st, &in, r, &e) == -1) {
		fprintf(stderr, "\n%s\n", e.msg);
		CU_FAIL("evaluate");
	}
	json_object_put(o);
	return r->decision;
}

#define CALL(tool, args) "{\"messages\":[{\"role\":\"user\",\"content\":" \
	"\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\"," \
	"\"type\":\"function\",\"function\":{\"name\":\"" tool "\"," \
	"\"arguments\":\"" args "\"}}]}]}"

static struct ocss_store *
store(void)
{
	struct ocss_err	 e;
	struct ocss_store *s = ocss_store_open(tmpdir, &e);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static void
test_policy_kinds(void)
{
	struct ocss_gov_result r;
	struct ocss_gov	*g;
	struct ocss_store *st;

	mkconf("{\"default\":\"allow\",\"policies\":["
	    "{\"id\":\"act\",\"kind\":\"action\",\"categories\":"
	    "[\"system_command\"],\"effect\":\"require_approval\"},"
	    "{\"id\":\"res\",\"kind\":\"resource\",\"categories\":"
	    "[\"file_read\"],\"paths\":[\"/etc/*\"],\"effect\":\"block\"},"
	    "{\"id\":\"host\",\"kind\":\"resource\",\"hosts_allow\":"
	    "[\"*.example.org\"],\"effect\":\"block\"},"
	    "{\"id\":\"seq\",\"kind\":\"sequence\",\"first\":{\"categories\":"
	    "[\"network_request\"]},\"then\":{\"categories\":[\"file_write\"]},"
	    "\"within_seconds\":60,\"effect\":\"require_approval\"},"
	    "{\"id\":\"rate\",\"kind\":\"rate\",\"categories\":[\"file_read\"],"
	    "\"max\":2,\"window_seconds\":60,\"effect\":\"block\"}]}");
	g = load(tmpdir);
	st = store();

	CU_ASSERT_EQUAL(eval(g, st, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"hi\"}]}", "s0", 1000, &r), OCSS_GOV_NONE);
	ocss_gov_result_free(&r);
	/* action */
	CU_ASSERT_EQUAL(eval(g, st, CALL("exec", "{\\\"command\\\":\\\"ls\\\"}"),
	    "s1", 1000, &r), OCSS_GOV_APPROVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body.data, "\"act\""));
	ocss_gov_result_free(&r);
	/* resource: path */
	CU_ASSERT_EQUAL(eval(g, st, CALL("read_file",
	    "{\\\"path\\\":\\\"/etc/passwd\\\"}"), "s2", 1000, &r),
	    OCSS_GOV_BLOCK);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body.data, "\"res\""));
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("read_file",
	    "{\\\"path\\\":\\\"docs/a.md\\\"}"), "s2", 1000, &r),
	    OCSS_GOV_ALLOW);
	CU_ASSERT(strncmp(r.token.data, "v1.", 3) == 0);
	ocss_gov_result_free(&r);
	/* resource: host allow-list */
	CU_ASSERT_EQUAL(eval(g, st, CALL("web_fetch",
	    "{\\\"url\\\":\\\"https://evil.test/x\\\"}"), "s3", 1000, &r),
	    OCSS_GOV_BLOCK);
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("web_fetch",
	    "{\\\"url\\\":\\\"https://API.Example.org:443/x\\\"}"), "s3", 1000,
	    &r), OCSS_GOV_ALLOW);
	ocss_gov_result_free(&r);
	/* sequence: the fetch above (allowed, s3) then a write in s3 */
	CU_ASSERT_EQUAL(eval(g, st, CALL("write_file",
	    "{\\\"path\\\":\\\"a\\\"}"), "s3", 2000, &r), OCSS_GOV_APPROVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body.data, "\"seq\""));
	ocss_gov_result_free(&r);
	/* ... not in another session, nor after the window */
	CU_ASSERT_EQUAL(eval(g, st, CALL("write_file",
	    "{\\\"path\\\":\\\"a\\\"}"), "s4", 2000, &r), OCSS_GOV_ALLOW);
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("write_file",
	    "{\\\"path\\\":\\\"a\\\"}"), "s3", 1000 + 61000, &r),
	    OCSS_GOV_ALLOW);
	ocss_gov_result_free(&r);
	/* rate: s2 had one allowed read; two more reach max 2 -> block */
	CU_ASSERT_EQUAL(eval(g, st, CALL("read_file",
	    "{\\\"path\\\":\\\"b\\\"}"), "s2", 3000, &r), OCSS_GOV_ALLOW);
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("read_file",
	    "{\\\"path\\\":\\\"c\\\"}"), "s2", 4000, &r), OCSS_GOV_BLOCK);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body.data, "\"rate\""));
	ocss_gov_result_free(&r);
	ocss_store_close(st);
	ocss_gov_free(g);
}

static void
test_precedence(void)
{
	struct ocss_gov_result r;
	struct ocss_gov	*g;
	struct ocss_store *st;

	/* allow + require_approval + block on one action: block wins; with
	 * only allow matching, a restrictive default does not apply. */
	mkconf("{\"default\":\"require_approval\",\"policies\":["
	    "{\"id\":\"a\",\"kind\":\"action\",\"tools\":[\"exec\"],"
	    "\"effect\":\"allow\"},"
	    "{\"id\":\"b\",\"kind\":\"action\",\"tools\":[\"exec\"],"
	    "\"effect\":\"require_approval\"},"
	    "{\"id\":\"c\",\"kind\":\"resource\",\"commands\":[\"dd\"],"
	    "\"effect\":\"block\"},"
	    "{\"id\":\"d\",\"kind\":\"action\",\"tools\":[\"read_file\"],"
	    "\"effect\":\"allow\"}]}");
	g = load(tmpdir);
	st = store();
	CU_ASSERT_EQUAL(eval(g, st, CALL("exec",
	    "{\\\"command\\\":\\\"sudo /bin/dd if=/dev/zero\\\"}"), "p1", 1000,
	    &r), OCSS_GOV_BLOCK);
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("exec",
	    "{\\\"command\\\":\\\"ls\\\"}"), "p1", 1000, &r), OCSS_GOV_APPROVAL);
	ocss_gov_result_free(&r);
	CU_ASSERT_EQUAL(eval(g, st, CALL("read_file",
	    "{\\\"path\\\":\\\"x\\\"}"), "p1", 1000, &r), OCSS_GOV_ALLOW);
	ocss_gov_result_free(&r);
	/* Nothing matches: the default. */
	CU_ASSERT_EQUAL(eval(g, st, CALL("frobnicate", "{}"), "p1", 1000, &r),
	    OCSS_GOV_APPROVAL);
	ocss_gov_result_free(&r);
	ocss_store_close(st);
	ocss_gov_free(g);
}

static void
test_bad_policy_files(void)
{
	struct ocss_config c;
	struct ocss_err	 e;

	mkconf("{\"policies\":[{\"id\":\"x\",\"kind\":\"sideways\","
	    "\"effect\":\"block\"}]}");
	cfg_for(&c, tmpdir);
	CU_ASSERT_PTR_NULL(ocss_gov_load(&c, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "policies[0] (x)"));
	mkconf("{\"policies\":[{\"id\":\"y\",\"kind\":\"action\","
	    "\"categories\":[\"teleport\"],\"effect\":\"block\"}]}");
	CU_ASSERT_PTR_NULL(ocss_gov_load(&c, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "teleport"));
	mkconf("{\"policies\": [");
	CU_ASSERT_PTR_NULL(ocss_gov_load(&c, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "governance-policies.json"));
	c.gov_secret = "short";
	CU_ASSERT_PTR_NULL(ocss_gov_load(&c, &e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "GOVERNANCE_SECRET"));
}

/* Approve one approval from two processes at once: exactly one wins. */
static void
test_double_approval(void)
{
	struct ocss_gov_result r;
	struct ocss_gov	*g;
	struct ocss_store *st;
	char		 id[33], body[256];
	int		 round, p, status, wins, fds[2];
	pid_t		 pids[2];
	char		 c;

	mkconf("{\"policies\":[{\"id\":\"a\",\"kind\":\"action\",\"tools\":"
	    "[\"exec\"],\"effect\":\"require_approval\"}]}");
	g = load(tmpdir);
	st = store();
	for (round = 0; round < 10; round++) {
		CU_ASSERT_EQUAL_FATAL(eval(g, st, CALL("exec", "{}"), "dbl",
		    ocss_store_now_ms(), &r), OCSS_GOV_APPROVAL);
		memcpy(id, r.approval_id, sizeof(id));
		ocss_gov_result_free(&r);
		CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
		for (p = 0; p < 2; p++) {
			if ((pids[p] = fork()) == 0) {
				struct ocss_store *s2;
				struct ocss_buf	 out = OCSS_BUF_INIT, ex =
				    OCSS_BUF_INIT;
				struct ocss_err	 e;
				const char	*why;
				char		 sub[64];
				int		 code;

				close(fds[0]);
				if ((s2 = ocss_store_open(tmpdir, &e)) == NULL)
					_exit(2);
				snprintf(sub, sizeof(sub),
				    "/approvals/%s/approve", id);
				snprintf(body, sizeof(body), "{\"approver_id\":"
				    "\"op%d\",\"acknowledgment\":\"ok\"}", p);
				code = ocss_gov_rest(g, s2, "POST", sub, "",
				    body, strlen(body), ocss_store_now_ms(),
				    &out, &why, &ex);
				if (code == 200 && write(fds[1], "w", 1) != 1)
					_exit(3);
				_exit(code == 200 || code == 410 ? 0 : 4);
			}
		}
		close(fds[1]);
		for (wins = 0; read(fds[0], &c, 1) == 1; wins++)
			;
		close(fds[0]);
		for (p = 0; p < 2; p++) {
			waitpid(pids[p], &status, 0);
			CU_ASSERT(WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0);
		}
		CU_ASSERT_EQUAL(wins, 1);
	}
	ocss_store_close(st);
	ocss_gov_free(g);
}

void
suite_governance(void)
{
	CU_pSuite s = ocss_test_suite("governance");

	ocss_test_add(s, "intent classifier", test_classifier);
	ocss_test_add(s, "action, resource, sequence, rate policies",
	    test_policy_kinds);
	ocss_test_add(s, "most restrictive wins; default", test_precedence);
	ocss_test_add(s, "bad policy files named", test_bad_policy_files);
	ocss_test_add(s, "two processes approve at once: one wins",
	    test_double_approval);
}
