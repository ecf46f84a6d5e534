#include <string.h>

#include "path.h"
#include "suites.h"

static void
expect(const char *in, const char *want)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	struct ocss_err	 e;
	int		 rc;

	rc = ocss_path_canon(in, strlen(in), &b, &e);
	if (want == NULL) {
		CU_ASSERT_EQUAL(rc, -1);
	} else {
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		if (strcmp(b.data, want) != 0)
			fprintf(stderr, "\ncanon(%s) = %s, want %s\n", in,
			    b.data, want);
		CU_ASSERT_STRING_EQUAL(b.data, want);
	}
	ocss_buf_free(&b);
}

static void
test_plain(void)
{
	expect("/", "/");
	expect("/v1/models", "/v1/models");
	expect("/v1/models/", "/v1/models/");
	expect("/health", "/health");
}

static void
test_dots_and_slashes(void)
{
	expect("//health", "/health");
	expect("/health/../v1/models", "/v1/models");
	expect("/./v1/./models", "/v1/models");
	expect("/../../health", "/health");
	expect("/a/b/../../..", "/");
	expect("/a/..", "/");
	expect("/a/../", "/");
	expect("/v1//chat///completions", "/v1/chat/completions");
}

static void
test_encoding(void)
{
	expect("/%68ealth", "/health");
	expect("/%2e%2e/health", "/health");
	expect("/v1%2F..%2Fhealth", "/health");
	expect("/a%20b", "/a b");
	expect("/%", NULL);
	expect("/%4", NULL);
	expect("/%zz", NULL);
	expect("/a%00b", NULL);
	expect("/a%0d%0ab", NULL);
	expect("health", NULL);
	expect("", NULL);
}

static void
test_kept(void)
{
	/* Case and ';' parameters are not folded: they stay distinct paths. */
	expect("/HEALTH", "/HEALTH");
	expect("/health;x", "/health;x");
	expect("/%2e%2E", "/");
}

static void
test_encode(void)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	const char	*p = "/a b/%/?#/\xc3\xa9/x;y=1";

	CU_ASSERT_EQUAL(ocss_path_encode(p, strlen(p), &b), 0);
	CU_ASSERT_STRING_EQUAL(b.data, "/a%20b/%25/%3F%23/%C3%A9/x;y=1");
	ocss_buf_free(&b);
}

void
suite_path(void)
{
	CU_pSuite s = ocss_test_suite("path");

	ocss_test_add(s, "plain paths", test_plain);
	ocss_test_add(s, "dot segments and slashes", test_dots_and_slashes);
	ocss_test_add(s, "percent-decoding", test_encoding);
	ocss_test_add(s, "case and params kept", test_kept);
	ocss_test_add(s, "re-encoding for upstream", test_encode);
}
