#include <string.h>

#include "suites.h"
#include "token.h"

#define KEY	"governance-secret-for-tests-0123"
#define KL	(sizeof(KEY) - 1)

static void
sign(struct ocss_buf *b, const char *plan, const char *sess, const char *dig,
    int64_t exp)
{
	ocss_buf_reset(b);
	CU_ASSERT_EQUAL_FATAL(ocss_token_sign(KEY, KL, plan, sess, dig, exp, b),
	    0);
}

static void
test_roundtrip(void)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;

	sign(&b, "p1", "s1", "d1", 10000);
	CU_ASSERT_EQUAL(strncmp(b.data, "v1.10000.", 9), 0);
	CU_ASSERT_EQUAL(strlen(b.data), 9 + 64);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, b.data, "p1", "s1", "d1",
	    9999), OCSS_TOKEN_OK);
	ocss_buf_free(&b);
}

static void
test_tampering(void)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	char		 t[128];

	sign(&b, "p1", "s1", "d1", 10000);
	/* Another plan, session (replay elsewhere), altered contents. */
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, b.data, "p2", "s1", "d1", 1),
	    OCSS_TOKEN_BAD_MAC);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, b.data, "p1", "s2", "d1", 1),
	    OCSS_TOKEN_BAD_MAC);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, b.data, "p1", "s1", "d2", 1),
	    OCSS_TOKEN_BAD_MAC);
	/* Wrong secret. */
	CU_ASSERT_EQUAL(ocss_token_verify("other-secret", 12, b.data, "p1",
	    "s1", "d1", 1), OCSS_TOKEN_BAD_MAC);
	/* A longer expiry written in by hand breaks the MAC. */
	snprintf(t, sizeof(t), "v1.99999%s", b.data + 8);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, t, "p1", "s1", "d1", 1),
	    OCSS_TOKEN_BAD_MAC);
	/* One flipped hex digit. */
	snprintf(t, sizeof(t), "%s", b.data);
	t[20] = t[20] == 'a' ? 'b' : 'a';
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, t, "p1", "s1", "d1", 1),
	    OCSS_TOKEN_BAD_MAC);
	ocss_buf_free(&b);
}

static void
test_expired_and_malformed(void)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;

	sign(&b, "p1", "s1", "d1", 10000);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, b.data, "p1", "s1", "d1",
	    10000), OCSS_TOKEN_EXPIRED);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, NULL, "p", "s", "d", 1),
	    OCSS_TOKEN_MALFORMED);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, "", "p", "s", "d", 1),
	    OCSS_TOKEN_MALFORMED);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, "v1.abc.def", "p", "s", "d",
	    1), OCSS_TOKEN_MALFORMED);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, "v2.1.00", "p", "s", "d", 1),
	    OCSS_TOKEN_MALFORMED);
	CU_ASSERT_EQUAL(ocss_token_verify(KEY, KL, "v1.10000.abcd", "p", "s",
	    "d", 1), OCSS_TOKEN_MALFORMED);
	ocss_buf_free(&b);
}

static void
test_sha256_hex(void)
{
	char	 h[65];

	ocss_sha256_hex("abc", 3, h);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

void
suite_token(void)
{
	CU_pSuite s = ocss_test_suite("token");

	ocss_test_add(s, "sign and verify", test_roundtrip);
	ocss_test_add(s, "other plan, session, contents, secret",
	    test_tampering);
	ocss_test_add(s, "expired and malformed", test_expired_and_malformed);
	ocss_test_add(s, "sha256 hex", test_sha256_hex);
}
