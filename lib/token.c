#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
ocss_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char	 d[32];
	unsigned int	 dl = 0;

	EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL);
	hex(d, 32, out);
}

static int
mac(const void *key, size_t keylen, const char *plan_id, const char *session,
    const char *digest, int64_t exp, char out[65])
{
	struct ocss_buf	 m = OCSS_BUF_INIT;
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dl = 0;
	int		 rc = -1;

	if (ocss_buf_printf(&m, "ocss-plan-v1\n%s\n%s\n%s\n%lld", plan_id,
	    session, digest, (long long)exp) == -1)
		goto out;
	if (HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)m.data,
	    m.len, d, &dl) == NULL || dl != 32)
		goto out;
	hex(d, 32, out);
	OPENSSL_cleanse(d, sizeof(d));
	rc = 0;
out:
	ocss_buf_free(&m);
	return rc;
}

int
ocss_token_sign(const void *key, size_t keylen, const char *plan_id,
    const char *session, const char *digest, int64_t exp, struct ocss_buf *out)
{
	char	 m[65];

	if (mac(key, keylen, plan_id, session, digest, exp, m) == -1)
		return -1;
	return ocss_buf_printf(out, "v1.%lld.%s", (long long)exp, m);
}

enum ocss_token_result
ocss_token_verify(const void *key, size_t keylen, const char *tok,
    const char *plan_id, const char *session, const char *digest, int64_t now)
{
	char		 want[65], *end;
	const char	*p;
	long long	 exp;
	int		 same;

	if (tok == NULL || strncmp(tok, "v1.", 3) != 0)
		return OCSS_TOKEN_MALFORMED;
	p = tok + 3;
	if (*p < '0' || *p > '9')
		return OCSS_TOKEN_MALFORMED;
	exp = strtoll(p, &end, 10);
	if (*end != '.' || end - p > 15 || strlen(end + 1) != 64)
		return OCSS_TOKEN_MALFORMED;
	if (mac(key, keylen, plan_id, session, digest, exp, want) == -1)
		return OCSS_TOKEN_MALFORMED;
	same = CRYPTO_memcmp(want, end + 1, 64) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!same)
		return OCSS_TOKEN_BAD_MAC;
	/* Checked after the MAC so an attacker learns nothing from timing
	 * about which part failed; and an expiry can only be trusted once
	 * the MAC says it is ours. */
	if (exp <= now)
		return OCSS_TOKEN_EXPIRED;
	return OCSS_TOKEN_OK;
}
