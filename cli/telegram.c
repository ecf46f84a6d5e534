/*
 * ocss telegram set-webhook|delete-webhook|info: the gateway's webhook as
 * the Telegram Bot API knows it.  The bot token, the API base and the
 * secret come from the gateway's own configuration (lib/config.h), so that
 * the secret registered is the one the relay checks.
 *
 * The bot token travels in the URL path of every Bot API call, so it is
 * never printed: URLs are shown with it redacted, and whatever came back
 * (curl's errors, Telegram's descriptions) is scrubbed of it and of
 * control characters before it reaches the terminal.
 * Exit status: 0 done, 1 the Bot API refused or could not be reached,
 * 2 usage or configuration error.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "buf.h"
#include "commands.h"
#include "config.h"
#include "relay.h"
#include "webhook.h"

#define PROG		"ocss telegram"
#define ANSWER_MAX	(1024 * 1024)	/* Bot API answers are a few hundred
					 * bytes; more is not the Bot API */
#define WEBHOOK_PATH	"/webhook/telegram"	/* where the gateway listens */
#define SECRET_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789_-"
#define REDACTED	"<redacted>"

/* The updates the relay reads (ocss_tg_parse); the rest stay with
 * Telegram instead of costing a webhook call each. */
static const char *const allowed_updates[] = {
	"message", "edited_message", "channel_post", "edited_channel_post"
};

enum verb { V_SET, V_DELETE, V_INFO, NVERBS };

static const struct verb_help {
	const char	*name;
	const char	*synopsis;
	const char	*about;
} verbs[NVERBS] = {
	[V_SET] = { "set-webhook",
	    "ocss telegram set-webhook URL [--secret S] "
	    "[--drop-pending-updates]\n"
	    "                                 [--env-file FILE]\n",
	    "  set-webhook     point Telegram at URL, normally\n"
	    "                  https://HOST" WEBHOOK_PATH ".\n"
	    "                  URL must be https://: the Bot API refuses "
	    "others.\n"
	    "                  http:// is accepted only to a loopback host\n"
	    "                  (127.0.0.0/8, ::1, localhost), for local tests\n"
	    "                  against a mock or a local Bot API server.\n"
	    "                  Telegram sends the secret with every update, "
	    "in\n"
	    "                  X-Telegram-Bot-Api-Secret-Token: --secret S, "
	    "else\n"
	    "                  TELEGRAM_WEBHOOK_SECRET, else the default the\n"
	    "                  gateway checks: the hex SHA-256 of the bot "
	    "token.\n"
	    "                  A --secret other than the gateway's makes it\n"
	    "                  refuse every update.  Updates asked for: "
	    "message,\n"
	    "                  edited_message, channel_post, "
	    "edited_channel_post.\n" },
	[V_DELETE] = { "delete-webhook",
	    "ocss telegram delete-webhook [--drop-pending-updates] "
	    "[--env-file FILE]\n",
	    "  delete-webhook  stop Telegram calling the webhook\n" },
	[V_INFO] = { "info",
	    "ocss telegram info [--env-file FILE]\n",
	    "  info            the webhook Telegram has: URL, pending "
	    "updates,\n"
	    "                  last error, allowed updates\n" }
};

static void
usage(FILE *f, int verb)
{
	int	 i;

	for (i = 0; i < NVERBS; i++)
		if (verb < 0 || verb == i)
			fprintf(f, "%s%s", i == 0 || verb >= 0 ? "usage: " :
			    "       ", verbs[i].synopsis);
	fputs("\nThe bot token, the API base and the secret come from the "
	    "gateway's\nconfiguration: the environment, then --env-file FILE "
	    "or $OCSS_ENV_FILE,\nread as ocss-fcgi reads it.\n\n", f);
	for (i = 0; i < NVERBS; i++)
		if (verb < 0 || verb == i)
			fputs(verbs[i].about, f);
	fputs("\n", f);
	if (verb < 0 || verb == V_SET)
		fputs("  --secret S              16 to 256 of A-Z a-z 0-9 "
		    "_ -\n", f);
	if (verb < 0 || verb != V_INFO)
		fputs("  --drop-pending-updates  discard the updates Telegram "
		    "holds\n", f);
	fputs("  --env-file FILE         the gateway's env file\n"
	    "\nEnvironment: TELEGRAM_BOT_TOKEN (required), "
	    "TELEGRAM_WEBHOOK_SECRET,\nTELEGRAM_API_BASE (default "
	    "https://api.telegram.org), and what the gateway\nneeds to start: "
	    "OPENCLAW_TOKEN, GOVERNANCE_SECRET or GOVERNANCE_ENABLED=false.\n"
	    "The bot token is never printed.\n"
	    "Exit status: 0 done, 1 the Bot API refused or could not be "
	    "reached,\n2 usage or configuration error.\n", f);
}

/*
 * Writes s to f with every occurrence of the bot token replaced, and
 * control characters (a hostile answer's terminal escapes) as '?'.
 */
static void
put_clean(FILE *f, const char *s, const char *token)
{
	size_t	 tl = token != NULL ? strlen(token) : 0;

	while (*s != '\0') {
		if (tl > 0 && strncmp(s, token, tl) == 0) {
			fputs(REDACTED, f);
			s += tl;
			continue;
		}
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		s++;
	}
}

/*
 * Splits an http(s) URL: host (brackets of an IPv6 literal removed) into
 * host[hsize], *path to what follows the authority.  Returns 1 for
 * https, 0 for http, -1 when url is neither or has no host.
 */
static int
url_parts(const char *url, char *host, size_t hsize, const char **path)
{
	const char	*h, *end, *p, *hend;
	int		 https;

	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		h = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		h = url + 7;
	} else
		return -1;
	end = h + strcspn(h, "/?#");
	for (p = h; p < end; p++)	/* user info ends at the last '@' */
		if (*p == '@')
			h = p + 1;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		h++;
	} else if ((hend = memchr(h, ':', (size_t)(end - h))) == NULL)
		hend = end;
	if (hend == h || (size_t)(hend - h) >= hsize)
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*path = end;
	return https;
}

static bool
loopback_host(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* NULL when Telegram may be given url, else why not. */
static const char *
check_url(const char *url)
{
	const char	*p, *path;
	char		 host[256];
	int		 https;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "URL has a space or a control character";
	if ((https = url_parts(url, host, sizeof(host), &path)) == -1)
		return strncasecmp(url, "http", 4) == 0 ?
		    "URL has no host" : "URL must start with https://";
	if (!https && !loopback_host(host))
		return "URL must be https:// (the Bot API refuses others); "
		    "http:// is allowed only to a loopback host (127.0.0.1, "
		    "::1, localhost), for local testing";
	return NULL;
}

/* The characters of bot tokens ("123456:AA..."): nothing that could
 * change the URL it is put in. */
static bool
token_ok(const char *token)
{
	size_t	 n = strlen(token);

	return n > 0 && strspn(token, SECRET_CHARS ":") == n;
}

/* Whether URL's path (query and fragment aside) ends in WEBHOOK_PATH. */
static bool
leads_to_gateway(const char *url)
{
	const char	*path;
	char		 host[256];
	size_t		 n, l = sizeof(WEBHOOK_PATH) - 1;

	if (url_parts(url, host, sizeof(host), &path) == -1)
		return false;
	n = strcspn(path, "?#");
	return n >= l && memcmp(path + n - l, WEBHOOK_PATH, l) == 0;
}

/*
 * POSTs body (JSON) to <api base>/bot<token>/<method>.  Returns the
 * parsed answer (an object, whatever the HTTP status, which goes in
 * *status), or NULL after saying on stderr why there is none.
 */
static json_object *
bot_call(const struct ocss_config *cfg, const char *method, const char *body,
    long *status)
{
	struct ocss_buf		 url = OCSS_BUF_INIT, ans = OCSS_BUF_INIT;
	json_object		*o = NULL;
	CURL			*h = NULL;
	CURLcode		 cc;
	char			 errbuf[CURL_ERROR_SIZE];
	const char		*why = NULL;

	*status = 0;
	errbuf[0] = '\0';
	if (ocss_buf_printf(&url, "%s/bot%s/%s", cfg->tg_api_base,
	    cfg->tg_bot_token, method) == -1 ||
	    (h = curl_easy_init()) == NULL) {
		why = "out of memory";
		goto done;
	}
	if ((cc = ocss_relay_post_json(h, url.data, NULL, body, strlen(body),
	    &ans, ANSWER_MAX, status, errbuf)) != CURLE_OK) {
		why = cc == CURLE_WRITE_ERROR ? "the answer is over 1 MiB" :
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
		goto done;
	}
	if (ans.len > 0 && ocss_buf_putc(&ans, '\0') == 0)
		o = json_tokener_parse(ans.data);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL) {
		fprintf(stderr, PROG ": %s failed: HTTP %ld and no Bot API "
		    "answer from ", method, *status);
		put_clean(stderr, cfg->tg_api_base, cfg->tg_bot_token);
		fputs(" (is TELEGRAM_API_BASE right?)\n", stderr);
	}
done:
	if (why != NULL) {
		fprintf(stderr, PROG ": ");
		put_clean(stderr, cfg->tg_api_base, cfg->tg_bot_token);
		fprintf(stderr, "/bot" REDACTED "/%s: ", method);
		put_clean(stderr, why, cfg->tg_bot_token);
		fputc('\n', stderr);
	}
	if (url.data != NULL)
		explicit_bzero(url.data, url.len);
	ocss_buf_free(&url);
	ocss_buf_free(&ans);
	if (h != NULL)
		curl_easy_cleanup(h);
	return o;
}

static const char *
member_str(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
member_int(json_object *o, const char *key, long long *out)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/*
 * Telegram's verdict on a call: 0 when it says ok (*result then points
 * into ans), else -1 after printing its description on stderr.
 */
static int
verdict(const struct ocss_config *cfg, const char *method, json_object *ans,
    long status, json_object **result)
{
	json_object	*v, *par;
	const char	*desc = member_str(ans, "description");
	long long	 code, retry;

	if (json_object_object_get_ex(ans, "ok", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v) && status >= 200 && status < 300) {
		*result = json_object_object_get_ex(ans, "result", &v) ? v :
		    NULL;
		return 0;
	}
	if (!member_int(ans, "error_code", &code))
		code = status;
	fprintf(stderr, PROG ": %s failed: ", method);
	put_clean(stderr, desc != NULL ? desc : "no description",
	    cfg->tg_bot_token);
	fprintf(stderr, " (HTTP %ld", status);
	if (json_object_object_get_ex(ans, "parameters", &par) &&
	    member_int(par, "retry_after", &retry))
		fprintf(stderr, "; retry after %lld s", retry);
	fputc(')', stderr);
	if (code == 401 || code == 404)
		fputs("; check TELEGRAM_BOT_TOKEN", stderr);
	fputc('\n', stderr);
	return -1;
}

/* Prints the answer's description (or fallback) on stdout. */
static void
print_description(const struct ocss_config *cfg, json_object *ans,
    const char *fallback)
{
	const char	*desc = member_str(ans, "description");

	put_clean(stdout, desc != NULL ? desc : fallback, cfg->tg_bot_token);
	fputc('\n', stdout);
}

static int
set_webhook(const struct ocss_config *cfg, const char *url,
    const char *secret_opt, bool drop)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	json_object	*ans = NULL, *result;
	const char	*secret, *from;
	char		 def[65];
	long		 status;
	size_t		 i;
	int		 rc = 1;

	ocss_tg_default_secret(cfg->tg_bot_token, def);
	if (secret_opt != NULL) {
		secret = secret_opt;
		from = "from --secret";
		if (!ocss_wh_secret_equal(cfg->tg_webhook_secret ?
		    cfg->tg_webhook_secret : def, secret_opt))
			fprintf(stderr, PROG ": warning: --secret is not the "
			    "secret the gateway checks (%s); set "
			    "TELEGRAM_WEBHOOK_SECRET to the same value, or it "
			    "will refuse every update\n",
			    cfg->tg_webhook_secret ? "TELEGRAM_WEBHOOK_SECRET" :
			    "the SHA-256 of the bot token");
	} else if (cfg->tg_webhook_secret != NULL) {
		secret = cfg->tg_webhook_secret;
		from = "from TELEGRAM_WEBHOOK_SECRET";
	} else {
		secret = def;
		from = "the default: hex SHA-256 of the bot token";
	}
	if (ocss_buf_puts(&b, "{\"url\":\"") == -1 ||
	    ocss_buf_json_str(&b, url, strlen(url)) == -1 ||
	    ocss_buf_puts(&b, "\",\"secret_token\":\"") == -1 ||
	    ocss_buf_json_str(&b, secret, strlen(secret)) == -1 ||
	    ocss_buf_puts(&b, "\",\"allowed_updates\":[") == -1)
		goto oom;
	for (i = 0; i < sizeof(allowed_updates) / sizeof(*allowed_updates);
	    i++)
		if (ocss_buf_printf(&b, "%s\"%s\"", i ? "," : "",
		    allowed_updates[i]) == -1)
			goto oom;
	if (ocss_buf_printf(&b, "],\"drop_pending_updates\":%s}",
	    drop ? "true" : "false") == -1)
		goto oom;

	if ((ans = bot_call(cfg, "setWebhook", b.data, &status)) == NULL ||
	    verdict(cfg, "setWebhook", ans, status, &result) == -1)
		goto done;
	print_description(cfg, ans, "webhook set");
	printf("  url              ");
	put_clean(stdout, url, cfg->tg_bot_token);
	printf("\n  secret           %s\n  allowed updates  ", from);
	for (i = 0; i < sizeof(allowed_updates) / sizeof(*allowed_updates);
	    i++)
		printf("%s%s", i ? ", " : "", allowed_updates[i]);
	printf("\n%s", drop ? "  pending updates  dropped\n" : "");
	if (!leads_to_gateway(url))
		fprintf(stderr, PROG ": note: the gateway takes Telegram's "
		    "updates at " WEBHOOK_PATH "; make sure URL leads "
		    "there\n");
	rc = 0;
	goto done;
oom:
	fprintf(stderr, PROG ": out of memory\n");
	rc = 2;
done:
	json_object_put(ans);
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);	/* it holds the secret */
	ocss_buf_free(&b);
	explicit_bzero(def, sizeof(def));
	return rc;
}

static int
delete_webhook(const struct ocss_config *cfg, bool drop)
{
	json_object	*ans, *result;
	long		 status;
	int		 rc = 1;

	if ((ans = bot_call(cfg, "deleteWebhook", drop ?
	    "{\"drop_pending_updates\":true}" :
	    "{\"drop_pending_updates\":false}", &status)) != NULL &&
	    verdict(cfg, "deleteWebhook", ans, status, &result) == 0) {
		print_description(cfg, ans, "webhook deleted");
		if (drop)
			printf("  pending updates  dropped\n");
		rc = 0;
	}
	json_object_put(ans);
	return rc;
}

static void
print_date(long long t)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;
	char		 s[32];

	if (gmtime_r(&tt, &tm) != NULL &&
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		printf("%s", s);
	else
		printf("%lld", t);
}

static int
info(const struct ocss_config *cfg)
{
	json_object	*ans, *r = NULL, *al, *v;
	const char	*url, *msg, *ip;
	long long	 n;
	long		 status;
	size_t		 i;
	int		 rc = 1;

	if ((ans = bot_call(cfg, "getWebhookInfo", "{}", &status)) == NULL ||
	    verdict(cfg, "getWebhookInfo", ans, status, &r) == -1)
		goto done;
	if (r == NULL || !json_object_is_type(r, json_type_object)) {
		fprintf(stderr, PROG ": getWebhookInfo: the answer has no "
		    "result object\n");
		goto done;
	}
	url = member_str(r, "url");
	printf("url                  ");
	if (url != NULL && *url != '\0')
		put_clean(stdout, url, cfg->tg_bot_token);
	else
		printf("(none: no webhook is set)");
	printf("\npending updates      %lld\n",
	    member_int(r, "pending_update_count", &n) ? n : 0);
	printf("allowed updates      ");
	if (json_object_object_get_ex(r, "allowed_updates", &al) &&
	    json_object_is_type(al, json_type_array) &&
	    json_object_array_length(al) > 0)
		for (i = 0; i < json_object_array_length(al); i++) {
			v = json_object_array_get_idx(al, i);
			printf("%s", i ? ", " : "");
			put_clean(stdout, json_object_get_string(v),
			    cfg->tg_bot_token);
		}
	else
		printf("(Telegram's default: all but chat_member, "
		    "message_reaction and message_reaction_count)");
	putchar('\n');
	if (member_int(r, "max_connections", &n))
		printf("max connections      %lld\n", n);
	if ((ip = member_str(r, "ip_address")) != NULL) {
		printf("ip address           ");
		put_clean(stdout, ip, cfg->tg_bot_token);
		putchar('\n');
	}
	if ((msg = member_str(r, "last_error_message")) != NULL) {
		printf("last error           ");
		if (member_int(r, "last_error_date", &n)) {
			print_date(n);
			printf(": ");
		}
		put_clean(stdout, msg, cfg->tg_bot_token);
		putchar('\n');
	} else
		printf("last error           none\n");
	if (member_int(r, "last_synchronization_error_date", &n)) {
		printf("last sync error      ");
		print_date(n);
		putchar('\n');
	}
	if (json_object_object_get_ex(r, "has_custom_certificate", &v) &&
	    json_object_get_boolean(v))
		printf("custom certificate   yes\n");
	rc = 0;
done:
	json_object_put(ans);
	return rc;
}

int
ocss_cmd_telegram(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secret", required_argument, NULL, 's' },
		{ "drop-pending-updates", no_argument, NULL, 'd' },
		{ "env-file", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_config	 cfg;
	struct ocss_err		 err;
	const char		*secret = NULL, *envfile = NULL, *url = NULL;
	const char		*why, *path;
	char			 host[256];
	size_t			 n;
	bool			 drop = false;
	int			 c, v, rc;

	if (argc < 2) {
		usage(stderr, -1);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout, -1);
		return 0;
	}
	for (v = 0; v < NVERBS && strcmp(argv[1], verbs[v].name) != 0; v++)
		;
	if (v == NVERBS) {
		fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
		usage(stderr, -1);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			secret = optarg;
			break;
		case 'd':
			drop = true;
			break;
		case 'e':
			envfile = optarg;
			break;
		case 'h':
			usage(stdout, v);
			return 0;
		default:
			usage(stderr, v);
			return 2;
		}
	}
	if ((secret != NULL && v != V_SET) || (drop && v == V_INFO)) {
		fprintf(stderr, PROG " %s: %s is not an option of this "
		    "command\n", verbs[v].name, secret != NULL && v != V_SET ?
		    "--secret" : "--drop-pending-updates");
		return 2;
	}
	if (argc - optind != (v == V_SET ? 1 : 0)) {
		usage(stderr, v);
		return 2;
	}
	if (v == V_SET) {
		url = argv[optind];
		if ((why = check_url(url)) != NULL) {
			fprintf(stderr, PROG " set-webhook: %s\n", why);
			return 2;
		}
		n = secret != NULL ? strlen(secret) : 0;
		if (secret != NULL && (n < 16 || n > 256 ||
		    strspn(secret, SECRET_CHARS) != n)) {
			fprintf(stderr, PROG " set-webhook: --secret must "
			    "be 16 to 256 characters of A-Z, a-z, 0-9, '_' "
			    "and '-' (the Bot API's rule, and the gateway's "
			    "minimum)\n");
			return 2;
		}
	}

	if (ocss_config_load(&cfg, envfile, &err) == -1) {
		fprintf(stderr, PROG ": configuration: %s\n", err.msg);
		return 2;
	}
	rc = 2;
	if (cfg.tg_bot_token == NULL || *cfg.tg_bot_token == '\0')
		fprintf(stderr, PROG ": TELEGRAM_BOT_TOKEN is not set: put the "
		    "token @BotFather gave in the environment or the env "
		    "file\n");
	else if (!token_ok(cfg.tg_bot_token))
		fprintf(stderr, PROG ": TELEGRAM_BOT_TOKEN has characters no "
		    "bot token has (digits, ':', then A-Z a-z 0-9 _ -); check "
		    "it (it is not printed)\n");
	else {
		if (url_parts(cfg.tg_api_base, host, sizeof(host),
		    &path) == 0 && !loopback_host(host)) {
			fprintf(stderr, PROG ": warning: TELEGRAM_API_BASE (");
			put_clean(stderr, cfg.tg_api_base, cfg.tg_bot_token);
			fprintf(stderr, ") is http:// to a host that is not "
			    "this one: the bot token crosses the network in "
			    "clear\n");
		}
		switch (v) {
		case V_SET:
			rc = set_webhook(&cfg, url, secret, drop);
			break;
		case V_DELETE:
			rc = delete_webhook(&cfg, drop);
			break;
		default:
			rc = info(&cfg);
			break;
		}
	}
	ocss_config_free(&cfg);
	return rc;
}
