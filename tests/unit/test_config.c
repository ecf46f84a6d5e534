#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static const char *vars[] = {
	"OPENCLAW_TOKEN", "UPSTREAM_URL", "OCSS_UPSTREAM_TOKEN",
	"OCSS_CONF_DIR", "OCSS_STATE_DIR", "AUDIT_LOG_PATH", "PROXY_PORT",
	"OCSS_MAX_BODY", "OCSS_UPSTREAM_TIMEOUT", "OCSS_AUDIT_FAIL_CLOSED",
	"OCSS_AUDIT_FSYNC", "OCSS_ENV_FILE", "OCSS_FORWARD_CLIENT_IP",
	"OCSS_SSE_HEARTBEAT", "OCSS_UPSTREAM_CONNECT_TIMEOUT",
	"GOVERNANCE_ENABLED", "GOVERNANCE_SECRET", "GOVERNANCE_APPROVAL_TTL",
	"GOVERNANCE_TOKEN_TTL", "GOVERNANCE_SESSION_TTL",
	"GOVERNANCE_ALLOW_SELF_APPROVAL", "TELEGRAM_BOT_TOKEN",
	"TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE", "WHATSAPP_APP_SECRET",
	"WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN",
	"WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_API_BASE", "WEBHOOK_RATE_LIMIT",
	"WHATSAPP_REPLAY_WINDOW_SECONDS", "WEBHOOK_MAX_BODY",
	"OCSS_TRUSTED_PROXIES", NULL
};

#define SECRET "governance-secret-0123456789abcdef"

/* Clear every variable, then set a valid governance secret: the tests of
 * other settings should not trip over it. */
static void
clear_env(void)
{
	int	 i;

	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("GOVERNANCE_SECRET", SECRET, 1);
}

static char *
write_file(const char *text)
{
	static char path[64];
	FILE	*f;
	int	 fd;

	snprintf(path, sizeof(path), "/tmp/ocss-cfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd != -1);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_defaults(void)
{
	struct ocss_config c;
	struct ocss_err	 e;

	clear_env();
	setenv("OPENCLAW_TOKEN", "0123456789abcdef", 1);
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, NULL, &e), 0);
	CU_ASSERT_STRING_EQUAL(c.upstream_url, "http://127.0.0.1:18789");
	CU_ASSERT_STRING_EQUAL(c.upstream_token, "0123456789abcdef");
	CU_ASSERT_EQUAL(c.max_body, 10 * 1024 * 1024);
	CU_ASSERT_EQUAL(c.upstream_timeout, 300);
	CU_ASSERT_EQUAL(c.proxy_port, 8080);
	CU_ASSERT_EQUAL(c.audit_fail_closed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.audit_log_path, "/audit.jsonl"));
	CU_ASSERT_EQUAL(c.gov_enabled, 1);
	CU_ASSERT_EQUAL(c.gov_approval_ttl, 3600);
	CU_ASSERT_EQUAL(c.gov_token_ttl, 900);
	CU_ASSERT_EQUAL(c.gov_session_ttl, 3600);
	CU_ASSERT_EQUAL(c.gov_self_approval, 0);
	ocss_config_free(&c);
	clear_env();
}

static void
test_webhook_settings(void)
{
	struct ocss_config c;
	struct ocss_err	 e;
	static const char *bad[][2] = {
		{ "WEBHOOK_RATE_LIMIT", "-1" },
		{ "WEBHOOK_RATE_LIMIT", "60/min" },
		{ "WHATSAPP_REPLAY_WINDOW_SECONDS", "0" },
		{ "WEBHOOK_MAX_BODY", "0" },
		{ "WEBHOOK_MAX_BODY", "ten" },
		{ "TELEGRAM_API_BASE", "ftp://example.org" },
		{ "WHATSAPP_API_BASE", "graph" },
		{ "TELEGRAM_WEBHOOK_SECRET", "short" },
		{ "TELEGRAM_WEBHOOK_SECRET", "has spaces in it, 16+ long" },
	};
	size_t	 i;

	clear_env();
	setenv("OPENCLAW_TOKEN", "0123456789abcdef", 1);
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, NULL, &e), 0);
	CU_ASSERT_PTR_NULL(c.tg_bot_token);
	CU_ASSERT_PTR_NULL(c.wa_app_secret);
	CU_ASSERT_PTR_NULL(c.trusted_proxies);
	CU_ASSERT_STRING_EQUAL(c.tg_api_base, "https://api.telegram.org");
	CU_ASSERT_STRING_EQUAL(c.wa_api_base,
	    "https://graph.facebook.com/v21.0");
	CU_ASSERT_EQUAL(c.wh_rate_limit, 60);
	CU_ASSERT_EQUAL(c.wa_replay_window, 300);
	CU_ASSERT_EQUAL(c.wh_max_body, 10 * 1024 * 1024);
	ocss_config_free(&c);

	setenv("TELEGRAM_BOT_TOKEN", "123:abc", 1);
	setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9/", 1);
	setenv("WEBHOOK_RATE_LIMIT", "0", 1);
	setenv("WEBHOOK_MAX_BODY", "1M", 1);
	setenv("WHATSAPP_APP_SECRET", "", 1);	/* empty: off */
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, NULL, &e), 0);
	CU_ASSERT_STRING_EQUAL(c.tg_bot_token, "123:abc");
	CU_ASSERT_STRING_EQUAL(c.tg_api_base, "http://127.0.0.1:9");
	CU_ASSERT_EQUAL(c.wh_rate_limit, 0);
	CU_ASSERT_EQUAL(c.wh_max_body, 1024 * 1024);
	CU_ASSERT_PTR_NULL(c.wa_app_secret);
	ocss_config_free(&c);

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		clear_env();
		setenv("OPENCLAW_TOKEN", "0123456789abcdef", 1);
		setenv(bad[i][0], bad[i][1], 1);
		CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad[i][0]));
	}
	clear_env();
}

static void
test_governance_settings(void)
{
	struct ocss_config c;
	struct ocss_err	 e;

	clear_env();
	setenv("OPENCLAW_TOKEN", "0123456789abcdef", 1);
	unsetenv("GOVERNANCE_SECRET");
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "GOVERNANCE_SECRET is not set"));
	setenv("GOVERNANCE_SECRET", "short", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "too short"));
	/* Off explicitly: no secret needed. */
	setenv("GOVERNANCE_ENABLED", "false", 1);
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, NULL, &e), 0);
	CU_ASSERT_EQUAL(c.gov_enabled, 0);
	ocss_config_free(&c);
	unsetenv("GOVERNANCE_ENABLED");
	setenv("GOVERNANCE_SECRET", SECRET, 1);
	setenv("GOVERNANCE_TOKEN_TTL", "0", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "GOVERNANCE_TOKEN_TTL"));
	setenv("GOVERNANCE_TOKEN_TTL", "60", 1);
	setenv("GOVERNANCE_ALLOW_SELF_APPROVAL", "yes", 1);
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, NULL, &e), 0);
	CU_ASSERT_EQUAL(c.gov_token_ttl, 60);
	CU_ASSERT_EQUAL(c.gov_self_approval, 1);
	ocss_config_free(&c);
	clear_env();
}

static void
test_missing_token(void)
{
	struct ocss_config c;
	struct ocss_err	 e;

	clear_env();
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "OPENCLAW_TOKEN"));
	setenv("OPENCLAW_TOKEN", "short", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "at least 16"));
	clear_env();
}

static void
test_env_file(void)
{
	struct ocss_config c;
	struct ocss_err	 e;
	char		*p;

	clear_env();
	p = write_file("# comment\n\nOPENCLAW_TOKEN=\"from-file-0123456789\"\n"
	    "export UPSTREAM_URL=http://127.0.0.1:9/\n"
	    "OCSS_MAX_BODY=2M\nOCSS_STATE_DIR=/tmp/st\n");
	/* The environment wins over the file. */
	setenv("OCSS_MAX_BODY", "512k", 1);
	CU_ASSERT_EQUAL_FATAL(ocss_config_load(&c, p, &e), 0);
	CU_ASSERT_STRING_EQUAL(c.token, "from-file-0123456789");
	CU_ASSERT_STRING_EQUAL(c.upstream_url, "http://127.0.0.1:9");
	CU_ASSERT_EQUAL(c.max_body, 512 * 1024);
	CU_ASSERT_STRING_EQUAL(c.audit_log_path, "/tmp/st/audit.jsonl");
	ocss_config_free(&c);
	unlink(p);
	clear_env();
}

static void
test_bad_values_named(void)
{
	struct ocss_config c;
	struct ocss_err	 e;
	char		*p;

	clear_env();
	p = write_file("OPENCLAW_TOKEN=0123456789abcdef\nOCSS_MAX_BODY=lots\n");
	CU_ASSERT_EQUAL(ocss_config_load(&c, p, &e), -1);
	/* Names the variable, the file and line, and the fix. */
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "OCSS_MAX_BODY"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, ":2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "10M"));
	unlink(p);

	p = write_file("OPENCLAW_TOKEN=0123456789abcdef\nthis is not\n");
	CU_ASSERT_EQUAL(ocss_config_load(&c, p, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, ":2: expected KEY=VALUE"));
	unlink(p);

	setenv("OPENCLAW_TOKEN", "0123456789abcdef", 1);
	setenv("UPSTREAM_URL", "ftp://x", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "UPSTREAM_URL (environment)"));
	unsetenv("UPSTREAM_URL");
	setenv("PROXY_PORT", "70000", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "PROXY_PORT"));
	unsetenv("PROXY_PORT");
	setenv("OCSS_AUDIT_FAIL_CLOSED", "maybe", 1);
	CU_ASSERT_EQUAL(ocss_config_load(&c, NULL, &e), -1);
	unsetenv("OCSS_AUDIT_FAIL_CLOSED");
	CU_ASSERT_EQUAL(ocss_config_load(&c, "/nonexistent/ocss.env", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/nonexistent/ocss.env"));
	clear_env();
}

static void
test_parsers(void)
{
	size_t	 n;
	int	 b;

	CU_ASSERT_EQUAL(ocss_config_parse_size("10M", &n), 0);
	CU_ASSERT_EQUAL(n, 10u << 20);
	CU_ASSERT_EQUAL(ocss_config_parse_size("1kB", &n), 0);
	CU_ASSERT_EQUAL(n, 1024);
	CU_ASSERT_EQUAL(ocss_config_parse_size("-1", &n), -1);
	CU_ASSERT_EQUAL(ocss_config_parse_size("99999999999999999999G", &n),
	    -1);
	CU_ASSERT_EQUAL(ocss_config_parse_size("5X", &n), -1);
	CU_ASSERT_EQUAL(ocss_config_parse_bool("Yes", &b), 0);
	CU_ASSERT_EQUAL(b, 1);
	CU_ASSERT_EQUAL(ocss_config_parse_bool("off", &b), 0);
	CU_ASSERT_EQUAL(b, 0);
	CU_ASSERT_EQUAL(ocss_config_parse_bool("2", &b), -1);
}

void
suite_config(void)
{
	CU_pSuite s = ocss_test_suite("config");

	ocss_test_add(s, "defaults", test_defaults);
	ocss_test_add(s, "token required", test_missing_token);
	ocss_test_add(s, "env file and precedence", test_env_file);
	ocss_test_add(s, "bad values named with the fix",
	    test_bad_values_named);
	ocss_test_add(s, "size and bool parsers", test_parsers);
	ocss_test_add(s, "governance settings", test_governance_settings);
	ocss_test_add(s, "webhook settings", test_webhook_settings);
}
