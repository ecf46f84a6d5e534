/*
 * Bearer-token authentication and the public / exempt / protected decision.
 * The decision is always made on the canonical path (lib/path.h).
 */
#ifndef OCSS_AUTH_H
#define OCSS_AUTH_H

#include "err.h"

struct ocss_auth;

enum ocss_auth_class {
	OCSS_AUTH_PROTECTED,	/* needs the gateway token */
	OCSS_AUTH_PUBLIC,	/* served without credentials (/health) */
	OCSS_AUTH_EXEMPT	/* webhooks: they carry their own signature */
};

enum ocss_auth_result {
	OCSS_AUTH_OK,
	OCSS_AUTH_MISSING,	/* no Authorization or not Bearer: 401 */
	OCSS_AUTH_BAD		/* Bearer with the wrong token: 403 */
};

/* Copies a SHA-256 digest of token; the caller may wipe its copy. */
struct ocss_auth	*ocss_auth_new(const char *token, struct ocss_err *);
void			 ocss_auth_free(struct ocss_auth *);
/* Register an exact canonical path as public or exempt. */
int			 ocss_auth_add_path(struct ocss_auth *, const char *path,
			    enum ocss_auth_class);
enum ocss_auth_class	 ocss_auth_classify(const struct ocss_auth *,
			    const char *canon_path);
/* Check an Authorization header value (NULL when absent) in constant time
 * with respect to the token's contents. */
enum ocss_auth_result	 ocss_auth_check(const struct ocss_auth *,
			    const char *authorization);

#endif
