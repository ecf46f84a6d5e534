/* libFuzzer: arbitrary bytes as a WhatsApp webhook body: the signature
 * check (body, and the bytes as the header) and the notification parser;
 * every message parsed is answered and split as the relay would, and the
 * reply must read back as the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "split.h"
#include "webhook.h"

#define SIG	"sha256=0000000000000000000000000000000000000000000000000000" \
		"000000000000"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
reply(const struct ocss_wh_msg *m)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	json_object	*o, *v, *w;
	const char	*t = m->text != NULL ? m->text : "";

	if (ocss_wa_reply_json(m->chat, t, strlen(t), &b) == -1)
		abort();
	if ((o = json_tokener_parse(b.data)) == NULL ||
	    !json_object_object_get_ex(o, "to", &v) ||
	    strcmp(json_object_get_string(v), m->chat) != 0 ||
	    !json_object_object_get_ex(o, "text", &w) ||
	    !json_object_object_get_ex(w, "body", &v) ||
	    strcmp(json_object_get_string(v), t) != 0)
		abort();
	json_object_put(o);
	ocss_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_wh_msgs ms;
	struct ocss_err	 err;
	const char	*why;
	char		*hdr;
	size_t		 i;

	/* Zeros never are the HMAC of anything we will meet. */
	if (ocss_wa_check_signature("fuzz-secret", data, len, SIG, &why) != 0)
		abort();
	if ((hdr = strndup((const char *)data, len)) == NULL)
		return 0;
	(void)ocss_wa_check_signature("fuzz-secret", "", 0, hdr, &why);
	free(hdr);

	err.msg[0] = '\0';
	if (ocss_wa_parse((const char *)data, len, &ms, &err) == -1) {
		if (err.msg[0] == '\0' || ms.v != NULL || ms.n != 0)
			abort();
		return 0;
	}
	if (ms.n > 256)
		abort();
	for (i = 0; i < ms.n; i++) {
		const struct ocss_wh_msg *m = &ms.v[i];

		if (m->id == NULL || m->chat == NULL || m->sender == NULL ||
		    (m->kind == OCSS_WH_TEXT && m->text == NULL) ||
		    (m->kind == OCSS_WH_ATTACHMENT && m->attachment == NULL))
			abort();
		reply(m);
		if (m->text != NULL) {
			split_all(m->text, strlen(m->text), OCSS_WH_TEXT_MAX);
			split_all(m->text, strlen(m->text), 1 + i % 5);
		}
	}
	ocss_wh_msgs_free(&ms);
	return 0;
}
