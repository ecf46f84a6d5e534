/*
 * Plan tokens: HMAC-SHA256 under GOVERNANCE_SECRET, binding a plan id, the
 * digest of the plan's canonical contents, the session and an expiry.
 *
 *   token = "v1." <expiry ms, decimal> "." <64 hex HMAC>
 *   HMAC over "ocss-plan-v1\n" plan_id "\n" session "\n" digest "\n" expiry
 *
 * The token carries nothing but the expiry and the MAC: the rest is supplied
 * by the verifier from its own records, so a token is worthless for any other
 * plan, session or plan contents.
 */
#ifndef OCSS_TOKEN_H
#define OCSS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ocss_token_result {
	OCSS_TOKEN_OK,
	OCSS_TOKEN_MALFORMED,
	OCSS_TOKEN_BAD_MAC,	/* wrong secret, plan, session or contents */
	OCSS_TOKEN_EXPIRED
};

int	ocss_token_sign(const void *key, size_t keylen, const char *plan_id,
	    const char *session, const char *digest, int64_t expires_ms,
	    struct ocss_buf *out);
enum ocss_token_result ocss_token_verify(const void *key, size_t keylen,
	    const char *token, const char *plan_id, const char *session,
	    const char *digest, int64_t now_ms);
/* Hex SHA-256 of data into out (65 bytes). */
void	ocss_sha256_hex(const void *data, size_t len, char out[65]);

#endif
