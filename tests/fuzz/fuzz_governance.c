/* libFuzzer: arbitrary bytes as a chat request body through tool-call
 * extraction, intent classification and policy evaluation, against the
 * shipped conf/ files and a store in a temporary directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "governance.h"
#include "store.h"

#ifndef OCSS_TEST_CONFDIR
#define OCSS_TEST_CONFDIR "conf"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ocss_gov	*gov;
static struct ocss_store *st;

static void
setup(void)
{
	static char	 dir[64];
	struct ocss_config c;
	struct ocss_err	 e;

	snprintf(dir, sizeof(dir), "/tmp/ocss-fuzz-gov-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&c, 0, sizeof(c));
	c.conf_dir = OCSS_TEST_CONFDIR;
	c.state_dir = dir;
	c.gov_enabled = 1;
	c.gov_secret = "fuzz-governance-secret-0123456789abcdef";
	c.gov_approval_ttl = 3600;
	c.gov_token_ttl = 900;
	c.gov_session_ttl = 3600;
	if ((gov = ocss_gov_load(&c, &e)) == NULL ||
	    (st = ocss_store_open(dir, &e)) == NULL) {
		fprintf(stderr, "%s\n", e.msg);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct json_tokener	*tk;
	struct ocss_gov_input	 in;
	struct ocss_gov_result	 r;
	struct ocss_err		 e;
	json_object		*o;

	if (gov == NULL)
		setup();
	if ((tk = json_tokener_new_ex(64)) == NULL)
		return 0;
	o = json_tokener_parse_ex(tk, (const char *)data, (int)len);
	json_tokener_free(tk);
	if (o == NULL)
		return 0;
	memset(&in, 0, sizeof(in));
	in.body = o;
	in.requester = "fuzz";
	in.now_ms = 1000;
	if (ocss_gov_evaluate(gov, st, &in, &r, &e) == 0) {
		/* Every held or blocked plan explains itself in JSON. */
		if (r.decision == OCSS_GOV_BLOCK ||
		    r.decision == OCSS_GOV_APPROVAL) {
			json_object *b = r.body.data ?
			    json_tokener_parse(r.body.data) : NULL;
			if (b == NULL)
				abort();
			json_object_put(b);
		}
		ocss_gov_result_free(&r);
	}
	json_object_put(o);
	return 0;
}
