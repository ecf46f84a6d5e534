#include <stdio.h>
#include <string.h>

#include "request.h"
#include "suites.h"

static void
test_from_cgi(void)
{
	char *env[] = {
		"REQUEST_METHOD=POST", "REQUEST_URI=/v1/chat/completions?a=1",
		"REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=5555",
		"CONTENT_LENGTH=12", "CONTENT_TYPE=application/json",
		"HTTP_AUTHORIZATION=Bearer x", "HTTP_X_REQUEST_ID=abc-123",
		"HTTP_ACCEPT_ENCODING=gzip", "SERVER_SOFTWARE=lighttpd",
		"HTTP_CONTENT_TYPE=application/json", "HTTP_CONTENT_LENGTH=12",
		"GARBAGE", NULL
	};
	struct ocss_request r;
	struct ocss_err	 e;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(ocss_request_from_cgi(&r, env, &e), 0);
	CU_ASSERT_STRING_EQUAL(r.method, "POST");
	CU_ASSERT_STRING_EQUAL(r.query, "a=1");
	CU_ASSERT_STRING_EQUAL(r.peer, "127.0.0.1");
	CU_ASSERT_EQUAL(r.content_length, 12);
	CU_ASSERT_EQUAL(r.nheaders, 4);
	CU_ASSERT_STRING_EQUAL(ocss_request_header(&r, "content-type"),
	    "application/json");
	CU_ASSERT_STRING_EQUAL(ocss_request_header(&r, "Authorization"),
	    "Bearer x");
	CU_ASSERT_STRING_EQUAL(r.headers[3].name, "Accept-Encoding");
	CU_ASSERT_PTR_NULL(ocss_request_header(&r, "Server-Software"));
	ocss_request_set_id(&r);
	CU_ASSERT_STRING_EQUAL(r.id, "abc-123");
	/* Reuse of the same request keeps working (storage recycled). */
	CU_ASSERT_EQUAL_FATAL(ocss_request_from_cgi(&r, env, &e), 0);
	CU_ASSERT_EQUAL(r.nheaders, 4);
	ocss_request_free(&r);
}

static void
test_bad_params(void)
{
	char *nomethod[] = { "REQUEST_URI=/", NULL };
	char *badmethod[] = { "REQUEST_METHOD=GE T", "REQUEST_URI=/", NULL };
	char *baduri[] = { "REQUEST_METHOD=GET", "REQUEST_URI=x", NULL };
	char *badlen[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
	    "CONTENT_LENGTH=12x", NULL };
	char *neglen[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
	    "CONTENT_LENGTH=-5", NULL };
	char *chunked[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/",
	    "CONTENT_LENGTH=-1", NULL };
	struct ocss_request r;
	struct ocss_err	 e;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, nomethod, &e), -1);
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, badmethod, &e), -1);
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, baduri, &e), -1);
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, badlen, &e), -1);
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, neglen, &e), -1);
	/* Caddy's way of saying "chunked": unknown length, not an error. */
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, chunked, &e), 0);
	CU_ASSERT_EQUAL(r.content_length, -1);
	CU_ASSERT_EQUAL(r.body_to_eof, 1);
	ocss_request_free(&r);
}

static void
test_header_flood(void)
{
	static char	 names[200][32];
	char		*env[204];
	struct ocss_request r;
	struct ocss_err	 e;
	int		 i;

	env[0] = "REQUEST_METHOD=GET";
	env[1] = "REQUEST_URI=/";
	for (i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "HTTP_X_H%d=v", i);
		env[2 + i] = names[i];
	}
	env[202] = NULL;
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(ocss_request_from_cgi(&r, env, &e), 0);
	CU_ASSERT_EQUAL(r.nheaders, OCSS_MAX_HEADERS);
	CU_ASSERT_EQUAL(r.too_many_headers, 1);
	ocss_request_free(&r);
}

static void
test_request_id(void)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
	    "HTTP_X_REQUEST_ID=bad id\"with quotes", NULL };
	struct ocss_request r;
	struct ocss_err	 e;
	char		 first[OCSS_REQUEST_ID_MAX + 1];
	size_t		 i;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(ocss_request_from_cgi(&r, env, &e), 0);
	ocss_request_set_id(&r);
	CU_ASSERT_EQUAL(strlen(r.id), 32);
	for (i = 0; i < 32; i++)
		CU_ASSERT(strchr("0123456789abcdef", r.id[i]) != NULL);
	memcpy(first, r.id, sizeof(first));
	ocss_request_set_id(&r);
	CU_ASSERT(strcmp(first, r.id) != 0);
	ocss_request_free(&r);
}

void
suite_request(void)
{
	CU_pSuite s = ocss_test_suite("request");

	ocss_test_add(s, "from CGI parameters", test_from_cgi);
	ocss_test_add(s, "malformed parameters", test_bad_params);
	ocss_test_add(s, "header flood capped", test_header_flood);
	ocss_test_add(s, "request id generated or kept", test_request_id);
}
