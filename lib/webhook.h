/*
 * Telegram and WhatsApp webhooks, the pure part: secrets and signatures,
 * payload parsers, reply bodies, message splitting, and the client address
 * behind trusted proxies.  No I/O and no state: the relay (lib/relay.c)
 * does the checking in order, the store keeps replay and rate state.
 */
#ifndef OCSS_WEBHOOK_H
#define OCSS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Both platforms refuse text over 4096 characters in one message; we
 * count UTF-16 code units, the stricter reading (an emoji counts 2). */
#define OCSS_WH_TEXT_MAX	4096

/* ---- signatures ---- */

/* The original stack's Telegram webhook secret: lower-case hex SHA-256 of
 * the bot token.  out must hold 65 bytes. */
void	ocss_tg_default_secret(const char *bot_token, char out[65]);
/* Constant time in the length of expected: 1 when got equals expected,
 * 0 otherwise (also when got is NULL, and always when expected is NULL
 * or empty: an unset secret must not admit an empty header). */
int	ocss_wh_secret_equal(const char *expected, const char *got);
/*
 * WhatsApp: header is X-Hub-Signature-256, "sha256=" and 64 hex digits of
 * HMAC-SHA256(app_secret, body); hex digits in either case.  Returns 1
 * when it matches (*why NULL), 0 when not, with *why "missing",
 * "malformed" or "mismatch" (why may be NULL).  An empty app_secret
 * never matches.  The comparison is constant time.
 */
int	ocss_wa_check_signature(const char *app_secret, const void *body,
	    size_t len, const char *header, const char **why);

/* ---- payloads ---- */

enum ocss_wh_kind {
	OCSS_WH_TEXT,		/* a text message (text set) */
	OCSS_WH_ATTACHMENT,	/* photo, document, voice...: attachment set,
				 * text is the caption or NULL */
	OCSS_WH_OTHER		/* nothing to relay (callback queries,
				 * reactions, member updates, service
				 * messages) */
};

/* One incoming message.  Strings are NUL-terminated, owned by the
 * message; NULL when the payload has none. */
struct ocss_wh_msg {
	enum ocss_wh_kind kind;
	char	*id;		/* Telegram: update_id; WhatsApp: message id */
	char	*chat;		/* where to reply: Telegram chat.id,
				 * WhatsApp the sender's wa_id ("from") */
	char	*sender;	/* Telegram from.id (channel posts:
				 * sender_chat.id); WhatsApp "from" */
	char	*sender_name;	/* Telegram from.username or first_name
				 * (sender_chat.username or title);
				 * WhatsApp contacts[].profile.name */
	char	*text;		/* UTF-8, valid */
	char	*attachment;	/* "photo", "document", "voice", "audio",
				 * "video", "sticker", "image", "location" ... */
	char	*phone_id;	/* WhatsApp metadata.phone_number_id */
	int64_t	 timestamp;	/* seconds since the epoch, 0 if none */
};

struct ocss_wh_msgs {
	struct ocss_wh_msg *v;
	size_t	 n;
};

void	ocss_wh_msg_free(struct ocss_wh_msg *);
void	ocss_wh_msgs_free(struct ocss_wh_msgs *);

/*
 * A Telegram Update (one JSON object).  update_id is required; the message
 * is taken from message, edited_message, channel_post or
 * edited_channel_post; anything else (callback queries, polls, member
 * updates) is OCSS_WH_OTHER with only id set.  Returns 0, or -1 when the
 * body is not an Update (not JSON, too deep, no integer update_id, text
 * not valid UTF-8) with err saying why in a few words.
 */
int	ocss_tg_parse(const char *body, size_t len, struct ocss_wh_msg *m,
	    struct ocss_err *err);
/*
 * A WhatsApp Cloud API notification: object "whatsapp_business_account",
 * every entry[].changes[] with field "messages", every value.messages[]
 * (id, from and timestamp required).  Button and list replies are text
 * (the title chosen); media, location and contacts are attachments.
 * Status notifications give no messages (n == 0).  At most 256 messages
 * are taken, the rest ignored.  Returns 0, or -1 with err (and out
 * empty) when the body is not such a notification or a text is not
 * valid UTF-8.
 */
int	ocss_wa_parse(const char *body, size_t len, struct ocss_wh_msgs *out,
	    struct ocss_err *err);

/* ---- replies ---- */

/* sendMessage body: {"chat_id":<chat>,"text":"..."}; chat is written as a
 * JSON number when it is an integer (up to 18 digits, no leading zero),
 * else as a string ("@channel").  Bytes of text that are not UTF-8 go
 * out as U+FFFD.  Appends to out; 0, or -1 out of memory (out as it
 * was). */
int	ocss_tg_reply_json(const char *chat, const char *text, size_t len,
	    struct ocss_buf *out);
/* Graph API message body: {"messaging_product":"whatsapp",
 * "recipient_type":"individual","to":"...","type":"text",
 * "text":{"preview_url":false,"body":"..."}}.  0 or -1. */
int	ocss_wa_reply_json(const char *to, const char *text, size_t len,
	    struct ocss_buf *out);
/*
 * Length in bytes of the first part of text[0..len) that fits in max
 * UTF-16 code units, never cutting a UTF-8 sequence, and breaking after
 * the last newline (else space) in the part's second half when there is
 * one.  Returns len when all of it fits; >0 whenever len > 0.
 */
size_t	ocss_wh_split(const char *text, size_t len, size_t max);

/* ---- client address ---- */

struct ocss_cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	int		 bits;
};

struct ocss_cidrs {
	struct ocss_cidr *v;
	size_t		 n;
};

/* Parse a list of addresses and networks separated by commas and/or
 * spaces: "127.0.0.1, 10.0.0.0/8 ::1 fd00::/8".  An empty list is valid.
 * -1 with err naming the bad element. */
int	ocss_cidrs_parse(const char *list, struct ocss_cidrs *,
	    struct ocss_err *);
void	ocss_cidrs_free(struct ocss_cidrs *);
/* 1 when ip (textual, v4, v6 or v4-mapped v6) is in one of the networks. */
int	ocss_cidrs_match(const struct ocss_cidrs *, const char *ip);
/*
 * The client's address: peer, unless peer is a trusted proxy and xff
 * (X-Forwarded-For) is present; then the rightmost xff element that is
 * not itself a trusted proxy (all trusted: the leftmost).  Elements that
 * are not addresses stop the walk and the last trusted hop is used.
 * Addresses are written in one spelling (inet_ntop; v4-mapped as IPv4),
 * a peer that is no address as given.  Writes into buf
 * (INET6_ADDRSTRLEN is enough) and returns buf.
 */
const char *ocss_client_ip(const struct ocss_cidrs *trusted, const char *peer,
	    const char *xff, char *buf, size_t buflen);

#endif
