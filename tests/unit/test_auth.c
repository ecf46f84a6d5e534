#include <string.h>

#include "auth.h"
#include "buf.h"
#include "path.h"
#include "suites.h"

#define TOKEN "s3cret-token-0123456789abcdef"

static struct ocss_auth *
mk(void)
{
	struct ocss_auth *a = ocss_auth_new(TOKEN, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ocss_auth_add_path(a, "/health", OCSS_AUTH_PUBLIC), 0);
	CU_ASSERT_EQUAL(ocss_auth_add_path(a, "/webhook/telegram",
	    OCSS_AUTH_EXEMPT), 0);
	return a;
}

static void
test_bearer(void)
{
	struct ocss_auth *a = mk();

	CU_ASSERT_EQUAL(ocss_auth_check(a, NULL), OCSS_AUTH_MISSING);
	CU_ASSERT_EQUAL(ocss_auth_check(a, ""), OCSS_AUTH_MISSING);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Basic dXNlcjpwYXNz"),
	    OCSS_AUTH_MISSING);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Bearer"), OCSS_AUTH_MISSING);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Bearer   "), OCSS_AUTH_MISSING);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Bearer " TOKEN), OCSS_AUTH_OK);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "bearer  " TOKEN " "), OCSS_AUTH_OK);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Bearer " TOKEN "x"), OCSS_AUTH_BAD);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "Bearer s3cret"), OCSS_AUTH_BAD);
	CU_ASSERT_EQUAL(ocss_auth_check(a, "BearerX " TOKEN),
	    OCSS_AUTH_MISSING);
	ocss_auth_free(a);
}

/* Classify what a request URI becomes after canonicalisation. */
static enum ocss_auth_class
cls(struct ocss_auth *a, const char *uri)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	enum ocss_auth_class c;

	if (ocss_path_canon(uri, strcspn(uri, "?"), &b, NULL) == -1)
		return OCSS_AUTH_PROTECTED;	/* refused with 400 */
	c = ocss_auth_classify(a, b.data);
	ocss_buf_free(&b);
	return c;
}

static void
test_path_tricks(void)
{
	struct ocss_auth *a = mk();

	CU_ASSERT_EQUAL(cls(a, "/health"), OCSS_AUTH_PUBLIC);
	/* Spellings of /health itself may be served as /health ... */
	CU_ASSERT_EQUAL(cls(a, "//health"), OCSS_AUTH_PUBLIC);
	CU_ASSERT_EQUAL(cls(a, "/%68ealth"), OCSS_AUTH_PUBLIC);
	CU_ASSERT_EQUAL(cls(a, "/health?x=../"), OCSS_AUTH_PUBLIC);
	/* ... but nothing else becomes public through them. */
	CU_ASSERT_EQUAL(cls(a, "/health/../v1/models"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/health/%2e%2e/v1/models"),
	    OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/HEALTH"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/Health"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/health;x"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/health/"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/health/x"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/healthz"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/v1/models?/health"), OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/webhook/telegram/../../v1/models"),
	    OCSS_AUTH_PROTECTED);
	CU_ASSERT_EQUAL(cls(a, "/webhook/telegram"), OCSS_AUTH_EXEMPT);
	CU_ASSERT_EQUAL(cls(a, "/webhook/Telegram"), OCSS_AUTH_PROTECTED);
	ocss_auth_free(a);
}

static void
test_empty_token(void)
{
	struct ocss_err e;

	CU_ASSERT_PTR_NULL(ocss_auth_new("", &e));
	CU_ASSERT_PTR_NULL(ocss_auth_new(NULL, &e));
}

void
suite_auth(void)
{
	CU_pSuite s = ocss_test_suite("auth");

	ocss_test_add(s, "bearer parsing and comparison", test_bearer);
	ocss_test_add(s, "path tricks never reach exemption",
	    test_path_tricks);
	ocss_test_add(s, "empty token refused", test_empty_token);
}
