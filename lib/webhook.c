/* Telegram and WhatsApp payloads and signatures: see webhook.h. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"
#include "webhook.h"

#define JSON_DEPTH	32	/* both platforms nest well under 10 */
#define WA_MAX_MSGS	256
#define WA_OBJECT	"whatsapp_business_account"
#define SEPS		", \t\r\n"
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Valid UTF-8 without NUL: a NUL would cut the C string short. */
static int
text_ok(const char *s, size_t n)
{
	size_t	 i, l;

	for (i = 0; i < n; i += l)
		if (s[i] == '\0' ||
		    (l = ocss_utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return 0;
	return 1;
}

/* ---- signatures ---- */

void
ocss_tg_default_secret(const char *bot_token, char out[65])
{
	if (bot_token != NULL)
		ocss_sha256_hex(bot_token, strlen(bot_token), out);
	else
		out[0] = '\0';
}

int
ocss_wh_secret_equal(const char *expected, const char *got)
{
	size_t	 el;

	/* An empty secret would let an empty header in. */
	if (expected == NULL || (el = strlen(expected)) == 0 || got == NULL)
		return 0;
	if (strlen(got) != el) {
		(void)CRYPTO_memcmp(expected, expected, el);
		return 0;
	}
	return CRYPTO_memcmp(expected, got, el) == 0;
}

int
ocss_wa_check_signature(const char *app_secret, const void *body,
    size_t len, const char *header, const char **why)
{
	unsigned char	 want[EVP_MAX_MD_SIZE], got[32];
	unsigned int	 wl = 0;
	const char	*w, *h;
	size_t		 i;
	int		 hi, lo, ok = 0;

	if (why == NULL)
		why = &w;
	*why = "missing";
	if (header == NULL || *header == '\0')
		return 0;
	*why = "malformed";
	if (strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
		return 0;
	for (h = header + 7, i = 0; i < 32; i++) {
		if ((hi = OPENSSL_hexchar2int(h[2 * i])) == -1 ||
		    (lo = OPENSSL_hexchar2int(h[2 * i + 1])) == -1)
			return 0;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	*why = "mismatch";
	/* Anyone can compute an HMAC under an empty key. */
	if (app_secret == NULL || *app_secret == '\0' ||
	    strlen(app_secret) > INT_MAX)
		return 0;
	if (HMAC(EVP_sha256(), app_secret, (int)strlen(app_secret),
	    body != NULL ? body : "", len, want, &wl) != NULL && wl == 32 &&
	    CRYPTO_memcmp(want, got, 32) == 0) {
		*why = NULL;
		ok = 1;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* ---- payloads ---- */

void
ocss_wh_msg_free(struct ocss_wh_msg *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->chat);
	free(m->sender);
	free(m->sender_name);
	free(m->text);
	free(m->attachment);
	free(m->phone_id);
	memset(m, 0, sizeof(*m));
	m->kind = OCSS_WH_OTHER;
}

void
ocss_wh_msgs_free(struct ocss_wh_msgs *ms)
{
	size_t	 i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->n; i++)
		ocss_wh_msg_free(&ms->v[i]);
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

/* Exactly one JSON object, nothing but whitespace after it. */
static json_object *
parse(const char *body, size_t len, struct ocss_err *err)
{
	json_tokener	*tk;
	json_object	*o;
	enum json_tokener_error je;
	size_t		 end;

	if (len > INT_MAX || (tk = json_tokener_new_ex(JSON_DEPTH)) == NULL) {
		ocss_err_set(err, "body too large or out of memory");
		return NULL;
	}
	json_tokener_set_flags(tk, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tk, body, (int)len);
	je = json_tokener_get_error(tk);
	end = json_tokener_get_parse_end(tk);
	json_tokener_free(tk);
	if (o == NULL || je != json_tokener_success) {
		ocss_err_set(err, "%s near byte %zu",
		    je == json_tokener_continue ? "truncated JSON" :
		    je == json_tokener_error_depth ?
		    "JSON nested too deep" :
		    je == json_tokener_error_parse_utf8_string ?
		    "not valid UTF-8" : "not valid JSON", end);
		goto fail;
	}
	while (end < len && body[end] != '\0' && strchr(" \t\r\n", body[end]))
		end++;
	if (end != len) {
		ocss_err_set(err, "trailing data after the JSON at byte %zu",
		    end);
		goto fail;
	}
	if (json_object_is_type(o, json_type_object))
		return o;
	ocss_err_set(err, "not a JSON object");
fail:
	json_object_put(o);
	return NULL;
}

/* Member k of o when o is an object and k is there and not null. */
static json_object *
get(json_object *o, const char *k)
{
	json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* String v, or "" when v is no string. */
static const char *
str(json_object *v)
{
	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

/* *out becomes a copy of s[0..n). */
static int
keep(char **out, const char *s, size_t n, struct ocss_err *err)
{
	free(*out);
	if ((*out = strndup(s, n)) != NULL)
		return 0;
	ocss_err_set(err, "out of memory");
	return -1;
}

/*
 * A copy of string v into *out.  0 (*out untouched when v is not a
 * string), -1 when it is not valid UTF-8 or memory is out.
 */
static int
dupstr(json_object *v, const char *what, char **out, struct ocss_err *err)
{
	const char	*s;
	size_t		 n;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!text_ok(s, n)) {
		ocss_err_set(err, "%s is not valid UTF-8", what);
		return -1;
	}
	return keep(out, s, n, err);
}

/* Integer v as decimal: 1 when v is no integer (or one too large,
 * which json-c saturates), 0 done, -1 out of memory. */
static int
dupint(json_object *v, char **out, struct ocss_err *err)
{
	char	 b[24];
	int64_t	 x;

	if (!json_object_is_type(v, json_type_int) ||
	    (x = json_object_get_int64(v)) == INT64_MAX || x == INT64_MIN)
		return 1;
	snprintf(b, sizeof(b), "%lld", (long long)x);
	return keep(out, b, strlen(b), err);
}

static const char *const tg_holders[] = { "message", "edited_message",
    "channel_post", "edited_channel_post" };
static const char *const tg_media[] = { "photo", "document", "voice",
    "audio", "video", "video_note", "sticker", "animation", "location",
    "contact" };

int
ocss_tg_parse(const char *body, size_t len, struct ocss_wh_msg *m,
    struct ocss_err *err)
{
	json_object	*root, *msg = NULL, *from, *v;
	size_t		 i;
	int		 rc;

	memset(m, 0, sizeof(*m));
	m->kind = OCSS_WH_OTHER;
	if ((root = parse(body, len, err)) == NULL)
		return -1;
	if ((rc = dupint(get(root, "update_id"), &m->id, err)) != 0) {
		if (rc == 1)
			ocss_err_set(err, "no integer update_id");
		goto fail;
	}
	for (i = 0; i < nitems(tg_holders); i++)
		if (json_object_is_type(msg = get(root, tg_holders[i]),
		    json_type_object))
			break;
	if (i == nitems(tg_holders))
		goto done;
	if ((rc = dupint(get(get(msg, "chat"), "id"), &m->chat, err)) != 0) {
		if (rc == 1)
			ocss_err_set(err, "%s without an integer chat.id",
			    tg_holders[i]);
		goto fail;
	}
	/* Channel posts are signed by the channel, not a user. */
	if ((from = get(msg, "from")) == NULL)
		from = get(msg, "sender_chat");
	if (json_object_is_type(v = get(msg, "date"), json_type_int))
		m->timestamp = json_object_get_int64(v);
	if (dupint(get(from, "id"), &m->sender, err) == -1 ||
	    dupstr(get(from, "title"), "sender name", &m->sender_name,
	    err) == -1 ||
	    dupstr(get(from, "first_name"), "sender name", &m->sender_name,
	    err) == -1 ||
	    dupstr(get(from, "username"), "sender name", &m->sender_name,
	    err) == -1)
		goto fail;
	if (json_object_is_type(v = get(msg, "text"), json_type_string)) {
		m->kind = OCSS_WH_TEXT;
		if (dupstr(v, "text", &m->text, err) == -1)
			goto fail;
		goto done;
	}
	for (i = 0; i < nitems(tg_media); i++)
		if (get(msg, tg_media[i]) != NULL)
			break;
	if (i == nitems(tg_media))
		goto done;		/* a service message: joins, pins... */
	m->kind = OCSS_WH_ATTACHMENT;
	if (keep(&m->attachment, tg_media[i], strlen(tg_media[i]), err) == -1 ||
	    dupstr(get(msg, "caption"), "caption", &m->text, err) == -1)
		goto fail;
done:
	json_object_put(root);
	return 0;
fail:
	json_object_put(root);
	ocss_wh_msg_free(m);
	return -1;
}

/* Required non-empty string member of a WhatsApp message. */
static int
wa_req(json_object *msg, const char *k, size_t i, char **out,
    struct ocss_err *err)
{
	json_object	*v = get(msg, k);

	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0) {
		ocss_err_set(err, "messages[%zu] without %s", i, k);
		return -1;
	}
	return dupstr(v, k, out, err);
}

/*
 * One of value.messages[].  Replies to buttons and lists are what the
 * user chose, so they are text; media and places are attachments;
 * reactions, orders, system and unsupported messages are OTHER.
 */
static int
wa_msg(json_object *msg, json_object *value, size_t i, struct ocss_wh_msg *m,
    struct ocss_err *err)
{
	static const char *const media[] = { "image", "document", "audio",
	    "video", "sticker", "location", "contacts" };
	json_object	*c, *v, *cs = get(value, "contacts");
	const char	*t;
	size_t		 k, n;

	m->kind = OCSS_WH_OTHER;
	if (wa_req(msg, "id", i, &m->id, err) == -1 ||
	    wa_req(msg, "from", i, &m->chat, err) == -1 ||
	    keep(&m->sender, m->chat, strlen(m->chat), err) == -1)
		return -1;
	t = str(get(msg, "timestamp"));
	if ((n = strlen(t)) == 0 || n > 18 || strspn(t, "0123456789") != n) {
		ocss_err_set(err, "messages[%zu] without a decimal timestamp",
		    i);
		return -1;
	}
	m->timestamp = strtoll(t, NULL, 10);
	if (dupstr(get(get(value, "metadata"), "phone_number_id"),
	    "phone_number_id", &m->phone_id, err) == -1)
		return -1;
	n = json_object_is_type(cs, json_type_array) ?
	    json_object_array_length(cs) : 0;
	for (k = 0; k < n; k++)
		if (strcmp(str(get(json_object_array_get_idx(cs, k),
		    "wa_id")), m->chat) == 0)
			break;
	c = n > 0 ? json_object_array_get_idx(cs, k < n ? k : 0) : NULL;
	if (dupstr(get(get(c, "profile"), "name"), "profile.name",
	    &m->sender_name, err) == -1)
		return -1;

	t = str(get(msg, "type"));
	v = NULL;
	if (strcmp(t, "text") == 0)
		v = get(get(msg, "text"), "body");
	else if (strcmp(t, "button") == 0)
		v = get(get(msg, "button"), "text");
	else if (strcmp(t, "interactive") == 0 && (v = get(get(get(msg,
	    "interactive"), "button_reply"), "title")) == NULL)
		v = get(get(get(msg, "interactive"), "list_reply"), "title");
	if (json_object_is_type(v, json_type_string)) {
		m->kind = OCSS_WH_TEXT;
		return dupstr(v, "text", &m->text, err);
	}
	for (k = 0; k < nitems(media); k++)
		if (strcmp(t, media[k]) == 0) {
			m->kind = OCSS_WH_ATTACHMENT;
			return keep(&m->attachment, t, strlen(t), err) == -1 ||
			    dupstr(get(get(msg, t), "caption"), "caption",
			    &m->text, err) == -1 ? -1 : 0;
		}
	return 0;
}

/* The messages of one change, appended to out: WA_MAX_MSGS in all. */
static int
wa_value(json_object *value, struct ocss_wh_msgs *out, struct ocss_err *err)
{
	json_object	*ms = get(value, "messages");
	size_t		 k;

	if (!json_object_is_type(ms, json_type_array))
		return 0;		/* statuses */
	for (k = 0; k < json_object_array_length(ms) && out->n < WA_MAX_MSGS;
	    k++) {
		if (out->v == NULL && (out->v = calloc(WA_MAX_MSGS,
		    sizeof(*out->v))) == NULL) {
			ocss_err_set(err, "out of memory");
			return -1;
		}
		out->n++;
		if (wa_msg(json_object_array_get_idx(ms, k), value, out->n - 1,
		    &out->v[out->n - 1], err) == -1)
			return -1;
	}
	return 0;
}

int
ocss_wa_parse(const char *body, size_t len, struct ocss_wh_msgs *out,
    struct ocss_err *err)
{
	json_object	*root, *es, *cs, *c;
	size_t		 i, j;

	out->v = NULL;
	out->n = 0;
	if ((root = parse(body, len, err)) == NULL)
		return -1;
	if (strcmp(str(get(root, "object")), WA_OBJECT) != 0) {
		ocss_err_set(err, "object is not " WA_OBJECT);
		goto fail;
	}
	if (!json_object_is_type(es = get(root, "entry"), json_type_array)) {
		ocss_err_set(err, "no entry array");
		goto fail;
	}
	for (i = 0; i < json_object_array_length(es); i++) {
		cs = get(json_object_array_get_idx(es, i), "changes");
		if (!json_object_is_type(cs, json_type_array)) {
			ocss_err_set(err, "entry[%zu] without changes", i);
			goto fail;
		}
		for (j = 0; j < json_object_array_length(cs); j++) {
			c = json_object_array_get_idx(cs, j);
			if (strcmp(str(get(c, "field")), "messages") == 0 &&
			    wa_value(get(c, "value"), out, err) == -1)
				goto fail;
		}
	}
	json_object_put(root);
	return 0;
fail:
	json_object_put(root);
	ocss_wh_msgs_free(out);
	return -1;
}

/* ---- replies ---- */

/* A JSON integer, as Telegram chat ids are, that fits any reader. */
static int
is_int(const char *s)
{
	size_t	 n;

	if (*s == '-')
		s++;
	n = strspn(s, "0123456789");
	return n > 0 && n <= 18 && s[n] == '\0' && (s[0] != '0' || n == 1);
}

/* Undo a half-written body so out is as the caller gave it. */
static int
undo(struct ocss_buf *out, size_t mark)
{
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	return -1;
}

int
ocss_tg_reply_json(const char *chat, const char *text, size_t len,
    struct ocss_buf *out)
{
	size_t	 mark = out->len;

	if (chat == NULL)
		chat = "";
	if (ocss_buf_puts(out, "{\"chat_id\":") == -1 ||
	    (is_int(chat) ? ocss_buf_puts(out, chat) :
	    ocss_buf_putc(out, '"') || ocss_buf_json_str(out, chat,
	    strlen(chat)) || ocss_buf_putc(out, '"')) ||
	    ocss_buf_puts(out, ",\"text\":\"") == -1 ||
	    ocss_buf_json_str(out, text, len) == -1 ||
	    ocss_buf_puts(out, "\"}") == -1)
		return undo(out, mark);
	return 0;
}

int
ocss_wa_reply_json(const char *to, const char *text, size_t len,
    struct ocss_buf *out)
{
	size_t	 mark = out->len;

	if (to == NULL)
		to = "";
	if (ocss_buf_puts(out, "{\"messaging_product\":\"whatsapp\","
	    "\"recipient_type\":\"individual\",\"to\":\"") == -1 ||
	    ocss_buf_json_str(out, to, strlen(to)) == -1 ||
	    ocss_buf_puts(out, "\",\"type\":\"text\",\"text\":"
	    "{\"preview_url\":false,\"body\":\"") == -1 ||
	    ocss_buf_json_str(out, text, len) == -1 ||
	    ocss_buf_puts(out, "\"}}") == -1)
		return undo(out, mark);
	return 0;
}

size_t
ocss_wh_split(const char *text, size_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t	 i, l, u, sp, units = 0;

	/* An invalid byte goes out as U+FFFD: one unit, like a BMP char. */
	for (i = 0; i < len; i += l) {
		if ((l = ocss_utf8_seq(s + i, len - i)) == 0)
			l = 1;
		u = l == 4 ? 2 : 1;
		if (units + u > max)
			break;
		units += u;
	}
	if (i == len)
		return len;
	if (i == 0)
		return l;	/* max below one character: progress anyway */
	for (u = i, sp = 0; u > i / 2; u--)
		if (s[u - 1] == '\n')
			return u;
		else if (s[u - 1] == ' ' && sp == 0)
			sp = u;
	return sp != 0 ? sp : i;
}

/* ---- client address ---- */

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

/* s as 16 bytes, IPv4 mapped into ::ffff:0:0/96; AF_INET for IPv4 and
 * v4-mapped IPv6, AF_INET6, or -1 when s is no address. */
static int
ip16(const char *s, unsigned char a[16])
{
	if (inet_pton(AF_INET, s, a + 12) == 1) {
		memcpy(a, v4mapped, 12);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, a) == 1)
		return memcmp(a, v4mapped, 12) == 0 ? AF_INET : AF_INET6;
	return -1;
}

/* The first bits of a and b are equal. */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int	 n = bits / 8, r = bits % 8;

	return memcmp(a, b, n) == 0 && (r == 0 ||
	    ((a[n] ^ b[n]) & (0xff << (8 - r)) & 0xff) == 0);
}

static int
cidr_parse(char *s, struct ocss_cidr *c)
{
	unsigned char	 a[16];
	char		*slash = strchr(s, '/');
	int		 fam, bits, v4text;

	if (slash != NULL)
		*slash++ = '\0';
	if ((fam = ip16(s, a)) == -1)
		return -1;
	v4text = strchr(s, ':') == NULL;
	bits = 128;
	if (slash != NULL) {
		if (*slash == '\0' || strlen(slash) > 3 ||
		    strspn(slash, "0123456789") != strlen(slash) ||
		    (bits = atoi(slash)) > (v4text ? 32 : 128))
			return -1;
		if (v4text)
			bits += 96;
	}
	memset(c, 0, sizeof(*c));
	/* ::ffff:a.b.c.d/120 is a.b.c.d/24; wider ones stay IPv6. */
	if (fam == AF_INET && bits >= 96) {
		c->family = AF_INET;
		memcpy(c->addr, a + 12, 4);
		c->bits = bits - 96;
	} else {
		c->family = AF_INET6;
		memcpy(c->addr, a, 16);
		c->bits = bits;
	}
	return 0;
}

int
ocss_cidrs_parse(const char *list, struct ocss_cidrs *cs,
    struct ocss_err *err)
{
	struct ocss_cidr *nv;
	char		 tok[64];
	size_t		 n;

	cs->v = NULL;
	cs->n = 0;
	while (list != NULL && *(list += strspn(list, SEPS)) != '\0') {
		n = strcspn(list, SEPS);
		if ((nv = reallocarray(cs->v, cs->n + 1, sizeof(*nv))) ==
		    NULL) {
			ocss_err_set(err, "out of memory");
			goto fail;
		}
		cs->v = nv;
		tok[0] = '\0';		/* too long: no address */
		if (n < sizeof(tok))
			snprintf(tok, sizeof(tok), "%.*s", (int)n, list);
		if (cidr_parse(tok, &cs->v[cs->n]) == -1) {
			ocss_err_set(err, "\"%.*s\" is not an address or "
			    "network", (int)(n < 60 ? n : 60), list);
			goto fail;
		}
		cs->n++;
		list += n;
	}
	return 0;
fail:
	ocss_cidrs_free(cs);
	return -1;
}

void
ocss_cidrs_free(struct ocss_cidrs *cs)
{
	if (cs == NULL)
		return;
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}

static int
in_cidrs(const struct ocss_cidrs *cs, const unsigned char a[16])
{
	unsigned char	 net[16];
	size_t		 i;

	for (i = 0; cs != NULL && i < cs->n; i++) {
		if (cs->v[i].family == AF_INET) {
			memcpy(net, v4mapped, 12);
			memcpy(net + 12, cs->v[i].addr, 4);
			if (prefix_eq(a, net, cs->v[i].bits + 96))
				return 1;
		} else if (prefix_eq(a, cs->v[i].addr, cs->v[i].bits))
			return 1;
	}
	return 0;
}

int
ocss_cidrs_match(const struct ocss_cidrs *cs, const char *ip)
{
	unsigned char	 a[16];

	return ip != NULL && ip16(ip, a) != -1 && in_cidrs(cs, a);
}

/* The one spelling of an address, so rate keys cannot be dodged by
 * writing it another way. */
static void
canon(int fam, const unsigned char a[16], char *buf, size_t buflen)
{
	char	 s[INET6_ADDRSTRLEN];

	if (inet_ntop(fam, fam == AF_INET ? a + 12 : a, s, sizeof(s)) == NULL)
		s[0] = '\0';
	snprintf(buf, buflen, "%s", s);
}

const char *
ocss_client_ip(const struct ocss_cidrs *trusted, const char *peer,
    const char *xff, char *buf, size_t buflen)
{
	unsigned char	 a[16];
	char		 tok[INET6_ADDRSTRLEN + 1];
	const char	*start, *b, *e, *end;
	int		 fam;

	if (buflen == 0)
		return buf;
	if (peer == NULL)
		peer = "";
	if ((fam = ip16(peer, a)) == -1) {
		snprintf(buf, buflen, "%s", peer);
		return buf;
	}
	canon(fam, a, buf, buflen);
	if (xff == NULL || !in_cidrs(trusted, a))
		return buf;
	/* Right to left: each trusted hop vouches for the one before. */
	for (end = xff + strlen(xff); ; end = start - 1) {
		for (start = end; start > xff && start[-1] != ','; start--)
			;
		for (b = start; b < end && isspace((unsigned char)*b); b++)
			;
		for (e = end; e > b && isspace((unsigned char)e[-1]); e--)
			;
		if ((size_t)(e - b) >= sizeof(tok))
			break;
		memcpy(tok, b, e - b);
		tok[e - b] = '\0';
		if ((fam = ip16(tok, a)) == -1)
			break;
		canon(fam, a, buf, buflen);
		if (!in_cidrs(trusted, a) || start == xff)
			break;		/* all trusted: the leftmost */
	}
	return buf;
}
