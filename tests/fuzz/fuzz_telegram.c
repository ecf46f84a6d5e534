/* libFuzzer: arbitrary bytes as a Telegram webhook body through the Update
 * parser; what parses is answered and split as the relay would, and the
 * reply must read back as the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "split.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
reply(const struct ocss_wh_msg *m)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	json_object	*o, *v;
	const char	*t = m->text != NULL ? m->text : "";

	if (ocss_tg_reply_json(m->chat != NULL ? m->chat : m->id, t,
	    strlen(t), &b) == -1)
		abort();
	if ((o = json_tokener_parse(b.data)) == NULL ||
	    !json_object_object_get_ex(o, "text", &v) ||
	    strcmp(json_object_get_string(v), t) != 0 ||
	    !json_object_object_get_ex(o, "chat_id", &v))
		abort();
	json_object_put(o);
	ocss_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_wh_msg m;
	struct ocss_err	 err;

	err.msg[0] = '\0';
	if (ocss_tg_parse((const char *)data, len, &m, &err) == -1) {
		if (err.msg[0] == '\0' || m.id != NULL)
			abort();	/* every refusal says why, frees all */
		return 0;
	}
	if (m.id == NULL || (m.kind != OCSS_WH_OTHER && m.chat == NULL) ||
	    (m.kind == OCSS_WH_TEXT && m.text == NULL) ||
	    (m.kind == OCSS_WH_ATTACHMENT && m.attachment == NULL))
		abort();
	reply(&m);
	if (m.text != NULL) {
		split_all(m.text, strlen(m.text), OCSS_WH_TEXT_MAX);
		split_all(m.text, strlen(m.text), 1 + len % 7);
	}
	ocss_wh_msg_free(&m);
	return 0;
}
