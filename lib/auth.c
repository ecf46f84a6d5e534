#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "auth.h"

#define MAX_PATHS 16

struct auth_path {
	char			*path;
	enum ocss_auth_class	 cls;
};

struct ocss_auth {
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	EVP_MD		*md;	/* fetched once: an implicit fetch per digest
				 * costs more than the digest itself */
	struct auth_path paths[MAX_PATHS];
	size_t		 npaths;
};

static int
sha256(const struct ocss_auth *a, const void *p, size_t n,
    unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, a->md, NULL) == 1 ? 0 : -1;
}

struct ocss_auth *
ocss_auth_new(const char *token, struct ocss_err *err)
{
	struct ocss_auth *a;

	if (token == NULL || *token == '\0') {
		ocss_err_set(err, "empty gateway token");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	if ((a->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    sha256(a, token, strlen(token), a->digest) == -1) {
		ocss_err_set(err, "SHA-256 unavailable in libcrypto");
		EVP_MD_free(a->md);
		free(a);
		return NULL;
	}
	return a;
}

void
ocss_auth_free(struct ocss_auth *a)
{
	size_t	 i;

	if (a == NULL)
		return;
	for (i = 0; i < a->npaths; i++)
		free(a->paths[i].path);
	EVP_MD_free(a->md);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

int
ocss_auth_add_path(struct ocss_auth *a, const char *path,
    enum ocss_auth_class cls)
{
	if (a->npaths == MAX_PATHS || path[0] != '/')
		return -1;
	if ((a->paths[a->npaths].path = strdup(path)) == NULL)
		return -1;
	a->paths[a->npaths++].cls = cls;
	return 0;
}

enum ocss_auth_class
ocss_auth_classify(const struct ocss_auth *a, const char *canon)
{
	size_t	 i;

	/* Exact, case-sensitive: "/HEALTH" or "/health;x" stay protected. */
	for (i = 0; i < a->npaths; i++)
		if (strcmp(a->paths[i].path, canon) == 0)
			return a->paths[i].cls;
	return OCSS_AUTH_PROTECTED;
}

enum ocss_auth_result
ocss_auth_check(const struct ocss_auth *a, const char *h)
{
	unsigned char	 d[SHA256_DIGEST_LENGTH];
	size_t		 n;
	int		 same;

	if (h == NULL)
		return OCSS_AUTH_MISSING;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return OCSS_AUTH_MISSING;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n == 0)
		return OCSS_AUTH_MISSING;
	/* Comparing fixed-size digests makes the time independent of where
	 * the presented token first differs, and of its length. */
	if (sha256(a, h, n, d) == -1)
		return OCSS_AUTH_BAD;
	same = CRYPTO_memcmp(d, a->digest, sizeof(d)) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return same ? OCSS_AUTH_OK : OCSS_AUTH_BAD;
}
