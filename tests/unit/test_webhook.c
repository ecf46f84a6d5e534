#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "suites.h"
#include "webhook.h"

/* Telegram's documented sample token; the digest is from sha256sum(1). */
#define TG_TOKEN	"123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
#define TG_SECRET	"731fa294d036e54f19df879bfcd4fe72" \
			"d967dc6327800c5f74a48414a3f258c9"

/* HMAC-SHA256 under WA_KEY, from openssl-dgst(1) -sha256 -hmac. */
#define WA_KEY		"test-app-secret"
#define WA_BODY		"{\"object\":\"whatsapp_business_account\"," \
			"\"entry\":[]}"
#define WA_SIG		"c84a394cc475525991e78ff16e430b02" \
			"e47f953877d2af0ade26956ce6f384dc"
#define WA_SIG_EMPTY	"a7dfadfa864dba471c925e814eca5ee0" \
			"32a7ded01574b16ac33dd477b5d6d0f7"
#define WA_SIG_OTHER	"427319d9da742e75b6d633ec37fe8951" \
			"457dd74f4362f2f7f3024b7047b06d2b"

/* ---- fixtures, after the Bot API and Cloud API documentation ---- */

static const char tg_text[] =
    "{\"update_id\":815355371,\n"
    " \"message\":{\"message_id\":1,\"from\":{\"id\":42,\"is_bot\":false,"
    "\"first_name\":\"Ann\",\"username\":\"ann_b\",\"language_code\":"
    "\"en\"},\"chat\":{\"id\":42,\"first_name\":\"Ann\",\"username\":"
    "\"ann_b\",\"type\":\"private\"},\"date\":1700000000,\"text\":"
    "\"hi \\\"there\\\"\\n\\u00e9\\ud83d\\ude00\",\"entities\":[]}}\n";

static const char tg_edited[] =
    "{\"update_id\":815355372,\"edited_message\":{\"message_id\":1,"
    "\"from\":{\"id\":42,\"is_bot\":false,\"first_name\":\"Ann\"},"
    "\"chat\":{\"id\":42,\"type\":\"private\"},\"date\":1700000000,"
    "\"edit_date\":1700000100,\"text\":\"hi, edited\"}}";

static const char tg_channel[] =
    "{\"update_id\":815355373,\"channel_post\":{\"message_id\":7,"
    "\"sender_chat\":{\"id\":-1001234567890,\"title\":\"News\","
    "\"username\":\"news_chan\",\"type\":\"channel\"},\"chat\":{\"id\":"
    "-1001234567890,\"title\":\"News\",\"type\":\"channel\"},\"date\":"
    "1700000200,\"text\":\"posted\"}}";

static const char tg_group[] =
    "{\"update_id\":815355374,\"message\":{\"message_id\":9,\"from\":{"
    "\"id\":1111,\"is_bot\":false,\"first_name\":\"Bob\"},\"chat\":{"
    "\"id\":-1009876543210,\"title\":\"Team\",\"type\":\"supergroup\"},"
    "\"date\":1700000300,\"text\":\"/ask what now\"}}";

static const char tg_photo[] =
    "{\"update_id\":815355375,\"message\":{\"message_id\":10,\"from\":{"
    "\"id\":42,\"is_bot\":false,\"first_name\":\"Ann\"},\"chat\":{\"id\":"
    "42,\"type\":\"private\"},\"date\":1700000400,\"photo\":[{\"file_id\":"
    "\"AgAD1\",\"file_unique_id\":\"AQAD1\",\"file_size\":1234,\"width\":"
    "90,\"height\":67},{\"file_id\":\"AgAD2\",\"file_unique_id\":\"AQAD2\","
    "\"width\":320,\"height\":240}],\"caption\":\"look at this\"}}";

static const char tg_voice[] =
    "{\"update_id\":815355376,\"message\":{\"message_id\":11,\"from\":{"
    "\"id\":42,\"is_bot\":false,\"first_name\":\"Ann\"},\"chat\":{\"id\":"
    "42,\"type\":\"private\"},\"date\":1700000500,\"voice\":{\"duration\":"
    "3,\"mime_type\":\"audio/ogg\",\"file_id\":\"AwAD\",\"file_unique_id\":"
    "\"AgAD\",\"file_size\":4000}}}";

static const char tg_callback[] =
    "{\"update_id\":815355377,\"callback_query\":{\"id\":\"4382bfdwdsb323b2"
    "d9\",\"from\":{\"id\":42,\"is_bot\":false,\"first_name\":\"Ann\"},"
    "\"chat_instance\":\"-1234\",\"data\":\"Data from button callback\"}}";

static const char tg_service[] =
    "{\"update_id\":815355378,\"message\":{\"message_id\":12,\"from\":{"
    "\"id\":42,\"is_bot\":false,\"first_name\":\"Ann\"},\"chat\":{\"id\":"
    "-100555,\"type\":\"group\",\"title\":\"T\"},\"date\":1700000600,"
    "\"new_chat_members\":[{\"id\":43,\"is_bot\":false,\"first_name\":"
    "\"Cy\"}]}}";

static const char wa_text[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":"
    "\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":"
    "\"whatsapp\",\"metadata\":{\"display_phone_number\":\"15550783881\","
    "\"phone_number_id\":\"106540352242922\"},\"contacts\":[{\"profile\":"
    "{\"name\":\"Kerry Fisher\"},\"wa_id\":\"16315551181\"}],\"messages\":"
    "[{\"from\":\"16315551181\",\"id\":\"wamid.ABGGFlA5Fpa\",\"timestamp\":"
    "\"1504902988\",\"text\":{\"body\":\"this is a text message\"},"
    "\"type\":\"text\"}]},\"field\":\"messages\"}]}]}";

static const char wa_image[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\","
    "\"metadata\":{\"display_phone_number\":\"15550783881\","
    "\"phone_number_id\":\"106540352242922\"},\"contacts\":[{\"profile\":"
    "{\"name\":\"Kerry Fisher\"},\"wa_id\":\"16315551181\"}],\"messages\":"
    "[{\"from\":\"16315551181\",\"id\":\"wamid.IMG\",\"timestamp\":"
    "\"1504902990\",\"type\":\"image\",\"image\":{\"caption\":"
    "\"our \\\"plan\\\"\",\"mime_type\":\"image/jpeg\",\"sha256\":"
    "\"abc\",\"id\":\"1479537139650973\"}}]},\"field\":\"messages\"}]}]}";

/* Two entries: two messages from two senders, then an audio and a
 * status change, under another phone number. */
static const char wa_multi[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":["
    "{\"id\":\"A\",\"changes\":[{\"field\":\"messages\",\"value\":{"
    "\"messaging_product\":\"whatsapp\",\"metadata\":{"
    "\"phone_number_id\":\"111\"},\"contacts\":[{\"profile\":{\"name\":"
    "\"First\"},\"wa_id\":\"100\"},{\"profile\":{\"name\":\"Second\"},"
    "\"wa_id\":\"200\"}],\"messages\":[{\"from\":\"100\",\"id\":\"m1\","
    "\"timestamp\":\"1700000001\",\"type\":\"text\",\"text\":{\"body\":"
    "\"one\"}},{\"from\":\"200\",\"id\":\"m2\",\"timestamp\":"
    "\"1700000002\",\"type\":\"text\",\"text\":{\"body\":\"two\"}}]}}]},"
    "{\"id\":\"B\",\"changes\":[{\"field\":\"messages\",\"value\":{"
    "\"messaging_product\":\"whatsapp\",\"metadata\":{"
    "\"phone_number_id\":\"222\"},\"contacts\":[{\"profile\":{\"name\":"
    "\"Other\"},\"wa_id\":\"999\"}],\"messages\":[{\"from\":\"300\","
    "\"id\":\"m3\",\"timestamp\":\"1700000003\",\"type\":\"audio\","
    "\"audio\":{\"id\":\"55\",\"mime_type\":\"audio/ogg\",\"voice\":"
    "true}}]}},{\"field\":\"messages\",\"value\":{\"messaging_product\":"
    "\"whatsapp\",\"metadata\":{\"phone_number_id\":\"222\"},\"statuses\":"
    "[{\"id\":\"wamid.X\",\"status\":\"read\",\"timestamp\":"
    "\"1700000004\",\"recipient_id\":\"300\"}]}}]}]}";

static const char wa_status[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\","
    "\"metadata\":{\"display_phone_number\":\"15550783881\","
    "\"phone_number_id\":\"106540352242922\"},\"statuses\":[{\"id\":"
    "\"wamid.HBg\",\"status\":\"delivered\",\"timestamp\":\"1750263773\","
    "\"recipient_id\":\"16505551234\",\"conversation\":{\"id\":\"c1\","
    "\"origin\":{\"type\":\"service\"}},\"pricing\":{\"billable\":false,"
    "\"pricing_model\":\"PMP\",\"category\":\"service\"}}]},\"field\":"
    "\"messages\"}]}]}";

/* A one-message notification around the message object m. */
static char *
wa_one(const char *m)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;

	CU_ASSERT_EQUAL_FATAL(ocss_buf_printf(&b, "{\"object\":"
	    "\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
	    "\"changes\":[{\"field\":\"messages\",\"value\":{"
	    "\"messaging_product\":\"whatsapp\",\"metadata\":{"
	    "\"phone_number_id\":\"9\"},\"messages\":[%s]}}]}]}", m), 0);
	return ocss_buf_steal(&b);
}

/* ---- signatures ---- */

static void
test_tg_secret(void)
{
	char	 s[65];

	ocss_tg_default_secret(TG_TOKEN, s);
	CU_ASSERT_STRING_EQUAL(s, TG_SECRET);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal(s, TG_SECRET), 1);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", "abc"), 1);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", "abd"), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", NULL), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", ""), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", "ab"), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("abc", "abcd"), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal(TG_SECRET, TG_TOKEN), 0);
	/* An empty secret must not open the door to an empty header. */
	CU_ASSERT_EQUAL(ocss_wh_secret_equal("", ""), 0);
	CU_ASSERT_EQUAL(ocss_wh_secret_equal(NULL, "x"), 0);
}

static void
test_wa_signature(void)
{
	const char	*why = "unset", *b = WA_BODY;
	size_t		 n = strlen(WA_BODY);
	char		 h[128], *p;

	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, "sha256="
	    WA_SIG, &why), 1);
	CU_ASSERT_PTR_NULL(why);
	/* Upper-case hex is the same digest. */
	snprintf(h, sizeof(h), "sha256=%s", WA_SIG);
	for (p = h + 7; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, h, &why), 1);
	/* Signed under another secret, or another body. */
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, "sha256="
	    WA_SIG_OTHER, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "mismatch");
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n - 1, "sha256="
	    WA_SIG, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "mismatch");
	CU_ASSERT_EQUAL(ocss_wa_check_signature("other-secret", b, n,
	    "sha256=" WA_SIG_OTHER, &why), 1);
	/* Missing and malformed headers. */
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, NULL, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "missing");
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, "", &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "missing");
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, WA_SIG, &why),
	    0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, "sha1=" WA_SIG,
	    &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	snprintf(h, sizeof(h), "sha256=%.63s", WA_SIG);
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, h, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	snprintf(h, sizeof(h), "sha256=%s0", WA_SIG);
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, h, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	snprintf(h, sizeof(h), "sha256=%s", WA_SIG);
	h[20] = 'g';
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, h, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, b, n, "sha256=", &why),
	    0);
	CU_ASSERT_STRING_EQUAL(why, "malformed");
	/* Empty body; no why wanted; no secret never matches. */
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, "", 0, "sha256="
	    WA_SIG_EMPTY, NULL), 1);
	CU_ASSERT_EQUAL(ocss_wa_check_signature(WA_KEY, NULL, 0, "sha256="
	    WA_SIG_EMPTY, NULL), 1);
	CU_ASSERT_EQUAL(ocss_wa_check_signature("", b, n, "sha256=" WA_SIG,
	    &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "mismatch");
}

/* ---- Telegram ---- */

static int
tg(const char *body, struct ocss_wh_msg *m, struct ocss_err *err)
{
	err->msg[0] = '\0';
	return ocss_tg_parse(body, strlen(body), m, err);
}

static void
test_tg_messages(void)
{
	struct ocss_wh_msg m;
	struct ocss_err	 err;

	CU_ASSERT_EQUAL_FATAL(tg(tg_text, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_TEXT);
	CU_ASSERT_STRING_EQUAL(m.id, "815355371");
	CU_ASSERT_STRING_EQUAL(m.chat, "42");
	CU_ASSERT_STRING_EQUAL(m.sender, "42");
	CU_ASSERT_STRING_EQUAL(m.sender_name, "ann_b");
	CU_ASSERT_STRING_EQUAL(m.text,
	    "hi \"there\"\n\xc3\xa9\xf0\x9f\x98\x80");
	CU_ASSERT_PTR_NULL(m.attachment);
	CU_ASSERT_PTR_NULL(m.phone_id);
	CU_ASSERT_EQUAL(m.timestamp, 1700000000);
	ocss_wh_msg_free(&m);
	CU_ASSERT_PTR_NULL(m.id);

	CU_ASSERT_EQUAL_FATAL(tg(tg_edited, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_TEXT);
	CU_ASSERT_STRING_EQUAL(m.id, "815355372");
	CU_ASSERT_STRING_EQUAL(m.sender_name, "Ann");
	CU_ASSERT_STRING_EQUAL(m.text, "hi, edited");
	ocss_wh_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(tg(tg_channel, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_TEXT);
	CU_ASSERT_STRING_EQUAL(m.chat, "-1001234567890");
	CU_ASSERT_STRING_EQUAL(m.sender, "-1001234567890");
	CU_ASSERT_STRING_EQUAL(m.sender_name, "news_chan");
	CU_ASSERT_STRING_EQUAL(m.text, "posted");
	ocss_wh_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(tg(tg_group, &m, &err), 0);
	CU_ASSERT_STRING_EQUAL(m.chat, "-1009876543210");
	CU_ASSERT_STRING_EQUAL(m.sender, "1111");
	CU_ASSERT_STRING_EQUAL(m.sender_name, "Bob");
	CU_ASSERT_STRING_EQUAL(m.text, "/ask what now");
	CU_ASSERT_EQUAL(m.timestamp, 1700000300);
	ocss_wh_msg_free(&m);
}

static void
test_tg_attachments(void)
{
	struct ocss_wh_msg m;
	struct ocss_err	 err;

	CU_ASSERT_EQUAL_FATAL(tg(tg_photo, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_ATTACHMENT);
	CU_ASSERT_STRING_EQUAL(m.attachment, "photo");
	CU_ASSERT_STRING_EQUAL(m.text, "look at this");
	CU_ASSERT_STRING_EQUAL(m.chat, "42");
	ocss_wh_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(tg(tg_voice, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_ATTACHMENT);
	CU_ASSERT_STRING_EQUAL(m.attachment, "voice");
	CU_ASSERT_PTR_NULL(m.text);
	ocss_wh_msg_free(&m);

	/* Not messages: only the id, for replay. */
	CU_ASSERT_EQUAL_FATAL(tg(tg_callback, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_OTHER);
	CU_ASSERT_STRING_EQUAL(m.id, "815355377");
	CU_ASSERT_PTR_NULL(m.chat);
	CU_ASSERT_PTR_NULL(m.text);
	ocss_wh_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(tg(tg_service, &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_OTHER);
	CU_ASSERT_PTR_NULL(m.text);
	CU_ASSERT_PTR_NULL(m.attachment);
	ocss_wh_msg_free(&m);

	CU_ASSERT_EQUAL_FATAL(tg("{\"update_id\":0}", &m, &err), 0);
	CU_ASSERT_EQUAL(m.kind, OCSS_WH_OTHER);
	CU_ASSERT_STRING_EQUAL(m.id, "0");
	ocss_wh_msg_free(&m);
}

static void
tg_bad(const char *body, size_t len, const char *why)
{
	struct ocss_wh_msg m;
	struct ocss_err	 err;

	memset(&m, 0x5a, sizeof(m));
	err.msg[0] = '\0';
	CU_ASSERT_EQUAL(ocss_tg_parse(body, len, &m, &err), -1);
	if (strstr(err.msg, why) == NULL)
		fprintf(stderr, "\n  %.40s: wanted \"%s\" in \"%s\"\n", body,
		    why, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
	/* Nothing left for the caller to free. */
	CU_ASSERT_PTR_NULL(m.id);
	CU_ASSERT_PTR_NULL(m.text);
	CU_ASSERT_PTR_NULL(m.chat);
}

#define TG_BAD(s, why)	tg_bad((s), sizeof(s) - 1, (why))

static void
test_tg_errors(void)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	struct ocss_wh_msg m;
	struct ocss_err	 err;
	int		 i;

	TG_BAD("{\"message\":{\"chat\":{\"id\":1},\"text\":\"x\"}}",
	    "update_id");
	TG_BAD("{\"update_id\":\"815355371\",\"message\":{\"chat\":{\"id\":1},"
	    "\"text\":\"x\"}}", "update_id");
	TG_BAD("{\"update_id\":1.5}", "update_id");
	TG_BAD("{\"update_id\":99999999999999999999}", "update_id");
	TG_BAD("{\"update_id\":1,\"message\":{\"text\":\"x\"}}", "chat.id");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":\"@c\"},"
	    "\"text\":\"x\"}}", "chat.id");
	/* Bad UTF-8: a lone byte, an overlong '/', an encoded surrogate; and
	 * a NUL that would cut the text short. */
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":"
	    "\"a\xc3(\"}}", "UTF-8");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":"
	    "\"\xc0\xaf\"}}", "text is not valid UTF-8");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":"
	    "\"\xed\xa0\x80\"}}", "text is not valid UTF-8");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":"
	    "\"a\\u0000b\"}}", "text is not valid UTF-8");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"from\":{"
	    "\"id\":2,\"first_name\":\"\xff\"},\"text\":\"x\"}}", "UTF-8");
	TG_BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"photo\":"
	    "[],\"caption\":\"\xed\xbf\xbf\"}}", "caption");
	/* Not one JSON object. */
	TG_BAD("{\"update_id\":1} {\"update_id\":2}", "JSON");
	TG_BAD("{\"update_id\":1}x", "JSON");
	TG_BAD("{\"update_id\":1}\0", "trailing");
	TG_BAD("{\"update_id\":1", "truncated");
	TG_BAD("[{\"update_id\":1}]", "not a JSON object");
	TG_BAD("", "JSON");
	TG_BAD("update_id=1", "JSON");
	TG_BAD("{\"update_id\":1,}", "JSON");
	for (i = 0; i < 40; i++)
		ocss_buf_puts(&b, i == 0 ? "{\"update_id\":1,\"x\":" : "[");
	for (i = 1; i < 40; i++)
		ocss_buf_puts(&b, "]");
	CU_ASSERT_EQUAL_FATAL(ocss_buf_puts(&b, "}"), 0);
	tg_bad(b.data, b.len, "deep");
	ocss_buf_free(&b);
	/* Whitespace around the object is fine. */
	CU_ASSERT_EQUAL(tg("\r\n {\"update_id\":5} \t\r\n", &m, &err), 0);
	ocss_wh_msg_free(&m);
}

/* ---- WhatsApp ---- */

static int
wa(const char *body, struct ocss_wh_msgs *ms, struct ocss_err *err)
{
	err->msg[0] = '\0';
	return ocss_wa_parse(body, strlen(body), ms, err);
}

static void
test_wa_messages(void)
{
	struct ocss_wh_msgs ms;
	struct ocss_err	 err;
	struct ocss_wh_msg *m;

	CU_ASSERT_EQUAL_FATAL(wa(wa_text, &ms, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ms.n, 1);
	m = &ms.v[0];
	CU_ASSERT_EQUAL(m->kind, OCSS_WH_TEXT);
	CU_ASSERT_STRING_EQUAL(m->id, "wamid.ABGGFlA5Fpa");
	CU_ASSERT_STRING_EQUAL(m->chat, "16315551181");
	CU_ASSERT_STRING_EQUAL(m->sender, "16315551181");
	CU_ASSERT_STRING_EQUAL(m->sender_name, "Kerry Fisher");
	CU_ASSERT_STRING_EQUAL(m->text, "this is a text message");
	CU_ASSERT_STRING_EQUAL(m->phone_id, "106540352242922");
	CU_ASSERT_PTR_NULL(m->attachment);
	CU_ASSERT_EQUAL(m->timestamp, 1504902988);
	ocss_wh_msgs_free(&ms);
	CU_ASSERT_PTR_NULL(ms.v);
	CU_ASSERT_EQUAL(ms.n, 0);

	CU_ASSERT_EQUAL_FATAL(wa(wa_image, &ms, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ms.n, 1);
	CU_ASSERT_EQUAL(ms.v[0].kind, OCSS_WH_ATTACHMENT);
	CU_ASSERT_STRING_EQUAL(ms.v[0].attachment, "image");
	CU_ASSERT_STRING_EQUAL(ms.v[0].text, "our \"plan\"");
	CU_ASSERT_EQUAL(ms.v[0].timestamp, 1504902990);
	ocss_wh_msgs_free(&ms);

	CU_ASSERT_EQUAL_FATAL(wa(wa_multi, &ms, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ms.n, 3);
	CU_ASSERT_STRING_EQUAL(ms.v[0].id, "m1");
	CU_ASSERT_STRING_EQUAL(ms.v[0].text, "one");
	CU_ASSERT_STRING_EQUAL(ms.v[0].sender_name, "First");
	CU_ASSERT_STRING_EQUAL(ms.v[0].phone_id, "111");
	CU_ASSERT_STRING_EQUAL(ms.v[1].id, "m2");
	CU_ASSERT_STRING_EQUAL(ms.v[1].chat, "200");
	CU_ASSERT_STRING_EQUAL(ms.v[1].text, "two");
	CU_ASSERT_STRING_EQUAL(ms.v[1].sender_name, "Second");
	CU_ASSERT_EQUAL(ms.v[1].timestamp, 1700000002);
	CU_ASSERT_STRING_EQUAL(ms.v[2].id, "m3");
	CU_ASSERT_EQUAL(ms.v[2].kind, OCSS_WH_ATTACHMENT);
	CU_ASSERT_STRING_EQUAL(ms.v[2].attachment, "audio");
	CU_ASSERT_PTR_NULL(ms.v[2].text);
	CU_ASSERT_STRING_EQUAL(ms.v[2].phone_id, "222");
	/* No contact with wa_id 300: the first one's name. */
	CU_ASSERT_STRING_EQUAL(ms.v[2].sender_name, "Other");
	ocss_wh_msgs_free(&ms);

	CU_ASSERT_EQUAL_FATAL(wa(wa_status, &ms, &err), 0);
	CU_ASSERT_EQUAL(ms.n, 0);
	ocss_wh_msgs_free(&ms);
	CU_ASSERT_EQUAL(wa("{\"object\":\"whatsapp_business_account\","
	    "\"entry\":[]}", &ms, &err), 0);
	CU_ASSERT_EQUAL(ms.n, 0);
	ocss_wh_msgs_free(&ms);
}

/* got is want, both NULL or equal strings. */
static void
same(const char *got, const char *want)
{
	if (want == NULL) {
		CU_ASSERT_PTR_NULL(got);
	} else if (got == NULL) {
		CU_FAIL("NULL where a string was wanted");
	} else {
		CU_ASSERT_STRING_EQUAL(got, want);
	}
}

static void
wa_kind(const char *msg, enum ocss_wh_kind kind, const char *text,
    const char *att)
{
	struct ocss_wh_msgs ms;
	struct ocss_err	 err;
	char		*body = wa_one(msg);

	CU_ASSERT_EQUAL_FATAL(wa(body, &ms, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ms.n, 1);
	CU_ASSERT_EQUAL(ms.v[0].kind, kind);
	same(ms.v[0].text, text);
	same(ms.v[0].attachment, att);
	CU_ASSERT_PTR_NULL(ms.v[0].sender_name);
	ocss_wh_msgs_free(&ms);
	free(body);
}

#define WA_M(type, rest) "{\"from\":\"1\",\"id\":\"x\",\"timestamp\":\"5\"," \
    "\"type\":\"" type "\"" rest "}"

static void
test_wa_kinds(void)
{
	wa_kind(WA_M("document", ",\"document\":{\"caption\":\"cv\","
	    "\"filename\":\"cv.pdf\"}"), OCSS_WH_ATTACHMENT, "cv", "document");
	wa_kind(WA_M("sticker", ",\"sticker\":{\"id\":\"1\"}"),
	    OCSS_WH_ATTACHMENT, NULL, "sticker");
	wa_kind(WA_M("location", ",\"location\":{\"latitude\":1.5,"
	    "\"longitude\":2}"), OCSS_WH_ATTACHMENT, NULL, "location");
	wa_kind(WA_M("interactive", ",\"interactive\":{\"type\":"
	    "\"button_reply\",\"button_reply\":{\"id\":\"b1\",\"title\":"
	    "\"Yes\"}}"), OCSS_WH_TEXT, "Yes", NULL);
	wa_kind(WA_M("interactive", ",\"interactive\":{\"type\":"
	    "\"list_reply\",\"list_reply\":{\"id\":\"r1\",\"title\":\"Row\","
	    "\"description\":\"d\"}}"), OCSS_WH_TEXT, "Row", NULL);
	wa_kind(WA_M("button", ",\"button\":{\"text\":\"Stop\",\"payload\":"
	    "\"p\"}"), OCSS_WH_TEXT, "Stop", NULL);
	wa_kind(WA_M("reaction", ",\"reaction\":{\"message_id\":\"w\","
	    "\"emoji\":\"\\ud83d\\udc4d\"}"), OCSS_WH_OTHER, NULL, NULL);
	wa_kind(WA_M("unsupported", ",\"errors\":[{\"code\":131051}]"),
	    OCSS_WH_OTHER, NULL, NULL);
	wa_kind(WA_M("text", ""), OCSS_WH_OTHER, NULL, NULL);
}

static void
wa_bad(const char *body, const char *why)
{
	struct ocss_wh_msgs ms = { (void *)1, 7 };
	struct ocss_err	 err;

	CU_ASSERT_EQUAL(wa(body, &ms, &err), -1);
	if (strstr(err.msg, why) == NULL)
		fprintf(stderr, "\n  wanted \"%s\" in \"%s\"\n", why, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
	CU_ASSERT_PTR_NULL(ms.v);
	CU_ASSERT_EQUAL(ms.n, 0);
}

static void
wa_bad_msg(const char *msg, const char *why)
{
	char	*body = wa_one(msg);

	wa_bad(body, why);
	free(body);
}

static void
test_wa_errors(void)
{
	wa_bad("{\"object\":\"page\",\"entry\":[]}", "whatsapp_business");
	wa_bad("{\"entry\":[]}", "whatsapp_business");
	wa_bad("{\"object\":\"whatsapp_business_account\"}", "entry");
	wa_bad("{\"object\":\"whatsapp_business_account\",\"entry\":{}}",
	    "entry");
	wa_bad("{\"object\":\"whatsapp_business_account\",\"entry\":[{}]}",
	    "entry[0] without changes");
	wa_bad("[]", "not a JSON object");
	wa_bad("{\"object\":\"whatsapp_business_account\",\"entry\":[]}}",
	    "JSON");
	wa_bad_msg("{\"from\":\"1\",\"timestamp\":\"5\",\"type\":\"text\","
	    "\"text\":{\"body\":\"x\"}}", "without id");
	wa_bad_msg("{\"id\":\"\",\"from\":\"1\",\"timestamp\":\"5\"}",
	    "without id");
	wa_bad_msg("{\"id\":\"x\",\"timestamp\":\"5\",\"type\":\"text\"}",
	    "without from");
	wa_bad_msg("{\"id\":\"x\",\"from\":1,\"timestamp\":\"5\"}",
	    "without from");
	wa_bad_msg("{\"id\":\"x\",\"from\":\"1\",\"type\":\"text\"}",
	    "timestamp");
	wa_bad_msg("{\"id\":\"x\",\"from\":\"1\",\"timestamp\":\"15049a\"}",
	    "timestamp");
	wa_bad_msg("{\"id\":\"x\",\"from\":\"1\",\"timestamp\":1504902988}",
	    "timestamp");
	wa_bad_msg("{\"id\":\"x\",\"from\":\"1\",\"timestamp\":\"-5\"}",
	    "timestamp");
	wa_bad_msg("{\"id\":\"x\",\"from\":\"1\",\"timestamp\":"
	    "\"9999999999999999999\"}", "timestamp");
	wa_bad_msg("\"not an object\"", "messages[0] without id");
	wa_bad_msg(WA_M("text", ",\"text\":{\"body\":\"\xe2\x82\"}"),
	    "UTF-8");
	wa_bad_msg(WA_M("image", ",\"image\":{\"caption\":\"\xf8\x88\x80"
	    "\x80\x80\"}"), "UTF-8");
	/* A bad second message spoils the whole notification. */
	wa_bad_msg(WA_M("text", ",\"text\":{\"body\":\"ok\"}") ",{}",
	    "messages[1] without id");
}

static void
test_wa_bounds(void)
{
	struct ocss_buf	 m = OCSS_BUF_INIT;
	struct ocss_wh_msgs ms;
	struct ocss_err	 err;
	char		*body;
	int		 i;

	for (i = 0; i < 300; i++)
		CU_ASSERT_EQUAL_FATAL(ocss_buf_printf(&m, "%s{\"from\":\"1\","
		    "\"id\":\"w%d\",\"timestamp\":\"5\",\"type\":\"text\","
		    "\"text\":{\"body\":\"t%d\"}}", i ? "," : "", i, i), 0);
	body = wa_one(m.data);
	CU_ASSERT_EQUAL_FATAL(wa(body, &ms, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ms.n, 256);
	CU_ASSERT_STRING_EQUAL(ms.v[0].id, "w0");
	CU_ASSERT_STRING_EQUAL(ms.v[255].id, "w255");
	CU_ASSERT_STRING_EQUAL(ms.v[255].text, "t255");
	ocss_wh_msgs_free(&ms);
	free(body);
	ocss_buf_free(&m);
}

/* ---- replies ---- */

static json_object *
reparse(const struct ocss_buf *b, size_t from)
{
	json_tokener	*tk = json_tokener_new();
	json_object	*o;

	json_tokener_set_flags(tk, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tk, b->data + from, (int)(b->len - from));
	CU_ASSERT_EQUAL(json_tokener_get_parse_end(tk), b->len - from);
	json_tokener_free(tk);
	return o;
}

static const char *
sget(json_object *o, const char *path)
{
	char	 k[64], *p;

	snprintf(k, sizeof(k), "%s", path);
	for (p = strtok(k, "."); p != NULL; p = strtok(NULL, "."))
		if (!json_object_object_get_ex(o, p, &o))
			return "(absent)";
	return json_object_get_string(o);
}

static void
test_reply_json(void)
{
	static const char text[] = "say \"hi\"\n\\ back\t\x01 \xc3\xa9 "
	    "\xf0\x9f\x98\x80 </script>";
	struct ocss_buf	 b = OCSS_BUF_INIT;
	json_object	*o, *v;

	CU_ASSERT_EQUAL_FATAL(ocss_buf_puts(&b, "prefix"), 0);
	CU_ASSERT_EQUAL_FATAL(ocss_tg_reply_json("-1001234567890", text,
	    sizeof(text) - 1, &b), 0);
	CU_ASSERT_EQUAL(strncmp(b.data, "prefix{", 7), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = reparse(&b, 6));
	CU_ASSERT_FATAL(json_object_object_get_ex(o, "chat_id", &v));
	CU_ASSERT(json_object_is_type(v, json_type_int));
	CU_ASSERT_EQUAL(json_object_get_int64(v), -1001234567890LL);
	CU_ASSERT_STRING_EQUAL(sget(o, "text"), text);
	CU_ASSERT_EQUAL(json_object_object_length(o), 2);
	json_object_put(o);

	/* Names and odd ids are strings; invalid UTF-8 becomes U+FFFD. */
	ocss_buf_reset(&b);
	CU_ASSERT_EQUAL_FATAL(ocss_tg_reply_json("@my\"chan", "a\xff", 2, &b),
	    0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = reparse(&b, 0));
	CU_ASSERT_STRING_EQUAL(sget(o, "chat_id"), "@my\"chan");
	CU_ASSERT_STRING_EQUAL(sget(o, "text"), "a\xef\xbf\xbd");
	json_object_put(o);
	ocss_buf_reset(&b);
	CU_ASSERT_EQUAL_FATAL(ocss_tg_reply_json("007", "", 0, &b), 0);
	CU_ASSERT_STRING_EQUAL(b.data, "{\"chat_id\":\"007\",\"text\":\"\"}");
	ocss_buf_reset(&b);
	CU_ASSERT_EQUAL_FATAL(ocss_tg_reply_json("42", "x", 1, &b), 0);
	CU_ASSERT_STRING_EQUAL(b.data, "{\"chat_id\":42,\"text\":\"x\"}");

	ocss_buf_reset(&b);
	CU_ASSERT_EQUAL_FATAL(ocss_wa_reply_json("16315551181", text,
	    sizeof(text) - 1, &b), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = reparse(&b, 0));
	CU_ASSERT_STRING_EQUAL(sget(o, "messaging_product"), "whatsapp");
	CU_ASSERT_STRING_EQUAL(sget(o, "recipient_type"), "individual");
	CU_ASSERT_STRING_EQUAL(sget(o, "to"), "16315551181");
	CU_ASSERT_STRING_EQUAL(sget(o, "type"), "text");
	CU_ASSERT_STRING_EQUAL(sget(o, "text.preview_url"), "false");
	CU_ASSERT_STRING_EQUAL(sget(o, "text.body"), text);
	json_object_put(o);
	ocss_buf_free(&b);
}

/* ---- splitting ---- */

static void
test_split(void)
{
	static const char emoji[] = "\xf0\x9f\x98\x80";	/* U+1F600 */
	struct ocss_buf	 b = OCSS_BUF_INIT;
	size_t		 off, n, units, i;

	CU_ASSERT_EQUAL(ocss_wh_split("", 0, 10), 0);
	CU_ASSERT_EQUAL(ocss_wh_split("hello world", 11, 11), 11);
	CU_ASSERT_EQUAL(ocss_wh_split("abcdefghijk", 11, 10), 10);
	CU_ASSERT_EQUAL(ocss_wh_split("hello world!", 12, 11), 6);
	/* é is two bytes, one unit: never half of it. */
	CU_ASSERT_EQUAL(ocss_wh_split("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 2), 4);
	CU_ASSERT_EQUAL(ocss_wh_split("a\xc3\xa9", 3, 1), 1);
	CU_ASSERT_EQUAL(ocss_wh_split("\xe2\x82\xac\xe2\x82\xac", 6, 1), 3);
	/* An emoji is two units. */
	CU_ASSERT_EQUAL(ocss_wh_split("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8,
	    3), 4);
	CU_ASSERT_EQUAL(ocss_wh_split("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8,
	    4), 8);
	CU_ASSERT_EQUAL(ocss_wh_split("a\xf0\x9f\x98\x80", 5, 2), 1);
	/* Too small for one character: still progress. */
	CU_ASSERT_EQUAL(ocss_wh_split(emoji, 4, 1), 4);
	CU_ASSERT_EQUAL(ocss_wh_split(emoji, 4, 0), 4);
	CU_ASSERT_EQUAL(ocss_wh_split("ab", 2, 0), 1);
	/* Newline before space, only in the second half. */
	CU_ASSERT_EQUAL(ocss_wh_split("aaaaaa\nbb cc dd", 15, 13), 7);
	CU_ASSERT_EQUAL(ocss_wh_split("aaaa\nbbbb cccc", 14, 12), 10);
	CU_ASSERT_EQUAL(ocss_wh_split("a\nbbbbbbbbbb", 12, 8), 8);
	CU_ASSERT_EQUAL(ocss_wh_split("a bbbbbbbbbb", 12, 8), 8);
	/* Invalid bytes are one unit each (they go out as U+FFFD). */
	CU_ASSERT_EQUAL(ocss_wh_split("\xff\xff\xff", 3, 2), 2);
	CU_ASSERT_EQUAL(ocss_wh_split("\xf0\x9f\x98", 3, 2), 2);

	/* A long mixed text: parts fit, join up, start on characters. */
	for (i = 0; i < 3000; i++)
		CU_ASSERT_EQUAL_FATAL(ocss_buf_puts(&b, i % 7 == 0 ? emoji :
		    i % 5 == 0 ? "w\xc3\xa9rd " : i % 50 == 0 ? "\n" : "ab"),
		    0);
	for (off = 0; off < b.len; off += n) {
		n = ocss_wh_split(b.data + off, b.len - off, OCSS_WH_TEXT_MAX);
		CU_ASSERT_FATAL(n > 0 && n <= b.len - off);
		for (i = off, units = 0; i < off + n; i++)
			if (((unsigned char)b.data[i] & 0xc0) != 0x80)
				units += ((unsigned char)b.data[i] >= 0xf0) +
				    1;
		CU_ASSERT(units <= OCSS_WH_TEXT_MAX);
		/* Breaks are looked for in the second half (bytes). */
		CU_ASSERT(off + n == b.len || units > OCSS_WH_TEXT_MAX / 4);
		CU_ASSERT(((unsigned char)b.data[off + n] & 0xc0) != 0x80);
	}
	CU_ASSERT_EQUAL(off, b.len);
	ocss_buf_free(&b);
}

/* ---- addresses ---- */

static void
test_cidrs(void)
{
	static const char *bad[] = { "10.0.0.0/33", "::/129", "10.0.0.0/",
	    "10.0.0.0/8x", "999.1.1.1", "host.example", "10.0.0.0/-1",
	    "1.2.3", "10.0.0.0/8/8", "::ffff:1.2.3.4/1000", "/8", "fe80::1%lo",
	    ("0123456789012345678901234567890123456789012345678901234567890123"
	    "4567") };
	struct ocss_cidrs cs;
	struct ocss_err	 err;
	size_t		 i;
	char		 list[200];

	CU_ASSERT_EQUAL_FATAL(ocss_cidrs_parse("127.0.0.1, 10.0.0.0/8 ::1 "
	    "fd00::/8,,\t192.168.1.77/24 ::ffff:1.2.3.0/120", &cs, &err), 0);
	CU_ASSERT_EQUAL_FATAL(cs.n, 6);
	CU_ASSERT_EQUAL(cs.v[0].family, AF_INET);
	CU_ASSERT_EQUAL(cs.v[0].bits, 32);
	CU_ASSERT_EQUAL(cs.v[1].bits, 8);
	CU_ASSERT_EQUAL(cs.v[2].family, AF_INET6);
	CU_ASSERT_EQUAL(cs.v[2].bits, 128);
	CU_ASSERT_EQUAL(cs.v[3].bits, 8);
	CU_ASSERT_EQUAL(cs.v[5].family, AF_INET);
	CU_ASSERT_EQUAL(cs.v[5].bits, 24);

	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "127.0.0.1"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "127.0.0.2"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "10.255.1.2"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "11.0.0.1"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::1"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::2"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "fdff:1::9"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "fe00::1"), 0);
	/* Host bits past the prefix do not matter. */
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "192.168.1.1"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "192.168.2.1"), 0);
	/* v4-mapped either side. */
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::ffff:10.1.2.3"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::FFFF:127.0.0.1"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "1.2.3.99"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "1.2.4.1"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "garbage"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, ""), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, NULL), 0);
	ocss_cidrs_free(&cs);

	CU_ASSERT_EQUAL_FATAL(ocss_cidrs_parse("1.2.3.0/24", &cs, &err), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::ffff:1.2.3.4"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::ffff:1.2.4.4"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "::1.2.3.4"), 0);
	ocss_cidrs_free(&cs);
	CU_ASSERT_EQUAL_FATAL(ocss_cidrs_parse("0.0.0.0/0 2001:db8::/32",
	    &cs, &err), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "203.0.113.9"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "2001:db8:ffff::1"), 1);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "2001:db9::1"), 0);
	ocss_cidrs_free(&cs);
	CU_ASSERT_EQUAL_FATAL(ocss_cidrs_parse("::/0", &cs, &err), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "2a00::1"), 1);
	ocss_cidrs_free(&cs);

	CU_ASSERT_EQUAL(ocss_cidrs_parse("", &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.n, 0);
	CU_ASSERT_EQUAL(ocss_cidrs_match(&cs, "127.0.0.1"), 0);
	CU_ASSERT_EQUAL(ocss_cidrs_parse(" , \t", &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.n, 0);
	CU_ASSERT_EQUAL(ocss_cidrs_parse(NULL, &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.n, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(list, sizeof(list), "127.0.0.1, %s ::1", bad[i]);
		err.msg[0] = '\0';
		CU_ASSERT_EQUAL(ocss_cidrs_parse(list, &cs, &err), -1);
		/* The message names the element (its first 60 bytes). */
		CU_ASSERT_EQUAL(strncmp(err.msg + 1, bad[i], strlen(bad[i]) <
		    60 ? strlen(bad[i]) : 60), 0);
		CU_ASSERT_PTR_NULL(cs.v);
		CU_ASSERT_EQUAL(cs.n, 0);
	}
}

static const char *
cip(const struct ocss_cidrs *cs, const char *peer, const char *xff)
{
	static char	 b[64];

	memset(b, 'x', sizeof(b));
	return ocss_client_ip(cs, peer, xff, b, sizeof(b));
}

static void
test_client_ip(void)
{
	struct ocss_cidrs cs, none = { NULL, 0 };
	struct ocss_err	 err;
	char		 small[4];

	CU_ASSERT_EQUAL_FATAL(ocss_cidrs_parse("127.0.0.1 10.0.0.0/8 ::1",
	    &cs, &err), 0);
	/* Untrusted peers speak for themselves, whatever they claim. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "203.0.113.5", "1.1.1.1"),
	    "203.0.113.5");
	CU_ASSERT_STRING_EQUAL(cip(&none, "127.0.0.1", "1.1.1.1"),
	    "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(NULL, "127.0.0.1", "1.1.1.1"),
	    "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", NULL), "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", ""), "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "198.51.100.7"),
	    "198.51.100.7");
	/* The client's own claim on the left is not believed. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "6.6.6.6, 198.51.100.7, "
	    "10.0.0.2"), "198.51.100.7");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "::1", "  198.51.100.7  ,\t10.0.0.2 "),
	    "198.51.100.7");
	/* All trusted: the leftmost. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "10.0.0.3, 10.0.0.2"),
	    "10.0.0.3");
	/* Garbage stops the walk at the last trusted hop. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "198.51.100.7, garbage, "
	    "10.0.0.2"), "10.0.0.2");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "198.51.100.7, ,10.0.0.2"),
	    "10.0.0.2");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "garbage"), "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "198.51.100.7,"),
	    "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "1.2.3.4:5678"),
	    "127.0.0.1");
	/* One spelling per address. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "::FFFF:127.0.0.1", "2001:DB8::0001"),
	    "2001:db8::1");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "::ffff:203.0.113.5", NULL),
	    "203.0.113.5");
	CU_ASSERT_STRING_EQUAL(cip(&cs, "127.0.0.1", "::ffff:198.51.100.7"),
	    "198.51.100.7");
	/* Not an address at all (a Unix socket): as given. */
	CU_ASSERT_STRING_EQUAL(cip(&cs, "unix:/run/x", "1.1.1.1"),
	    "unix:/run/x");
	CU_ASSERT_STRING_EQUAL(cip(&cs, NULL, "1.1.1.1"), "");
	CU_ASSERT_STRING_EQUAL(ocss_client_ip(&cs, "127.0.0.1",
	    "198.51.100.7", small, sizeof(small)), "198");
	ocss_cidrs_free(&cs);
}

void
suite_webhook(void)
{
	CU_pSuite s = ocss_test_suite("webhook");

	ocss_test_add(s, "telegram secret and compare", test_tg_secret);
	ocss_test_add(s, "whatsapp signature", test_wa_signature);
	ocss_test_add(s, "telegram text, edits, channels, groups",
	    test_tg_messages);
	ocss_test_add(s, "telegram attachments and other updates",
	    test_tg_attachments);
	ocss_test_add(s, "telegram refusals", test_tg_errors);
	ocss_test_add(s, "whatsapp messages and statuses", test_wa_messages);
	ocss_test_add(s, "whatsapp message types", test_wa_kinds);
	ocss_test_add(s, "whatsapp refusals", test_wa_errors);
	ocss_test_add(s, "whatsapp at most 256 messages", test_wa_bounds);
	ocss_test_add(s, "reply bodies round-trip", test_reply_json);
	ocss_test_add(s, "split into parts", test_split);
	ocss_test_add(s, "trusted proxy networks", test_cidrs);
	ocss_test_add(s, "client address behind proxies", test_client_ip);
}
