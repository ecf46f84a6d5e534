#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "config.h"

#ifndef OCSS_SYSCONFDIR
#define OCSS_SYSCONFDIR "/etc/ocss"
#endif
#ifndef OCSS_LOCALSTATEDIR
#define OCSS_LOCALSTATEDIR "/var/lib/ocss"
#endif

/* One KEY=VALUE read from the env file, with where it came from. */
struct kv {
	char	*key;
	char	*val;
	int	 line;
};

struct src {
	const char	*file;
	struct kv	*kv;
	size_t		 n;
};

/* Strip surrounding whitespace and one pair of matching quotes. */
static char *
trim_value(char *v)
{
	size_t	 n;

	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

static int
read_env_file(struct src *s, const char *path, struct ocss_err *err)
{
	FILE	*f;
	char	*line = NULL, *p, *eq, *key;
	size_t	 cap = 0, i;
	ssize_t	 len;
	int	 lineno = 0, rc = -1;
	struct kv *nkv;

	if ((f = fopen(path, "r")) == NULL) {
		ocss_err_set(err, "env file %s: %s (set OCSS_ENV_FILE or "
		    "--env-file to a readable file)", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if ((eq = strchr(p, '=')) == NULL) {
			ocss_err_set(err, "%s:%d: expected KEY=VALUE", path,
			    lineno);
			goto out;
		}
		*eq = '\0';
		key = p;
		for (i = strlen(key); i > 0 && isspace((unsigned char)key[i - 1]);
		    i--)
			key[i - 1] = '\0';
		for (i = 0; key[i]; i++)
			if (!(isalnum((unsigned char)key[i]) || key[i] == '_'))
				break;
		if (i == 0 || key[i] != '\0') {
			ocss_err_set(err, "%s:%d: bad variable name '%s'",
			    path, lineno, key);
			goto out;
		}
		nkv = realloc(s->kv, (s->n + 1) * sizeof(*s->kv));
		if (nkv == NULL)
			goto oom;
		s->kv = nkv;
		s->kv[s->n].key = strdup(key);
		s->kv[s->n].val = strdup(trim_value(eq + 1));
		s->kv[s->n].line = lineno;
		if (s->kv[s->n].key == NULL || s->kv[s->n].val == NULL) {
			free(s->kv[s->n].key);
			free(s->kv[s->n].val);
			goto oom;
		}
		s->n++;
	}
	if (ferror(f)) {
		ocss_err_set(err, "%s: read error", path);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	ocss_err_set(err, "%s:%d: out of memory", path, lineno);
out:
	if (line != NULL) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}

static void
free_src(struct src *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		free(s->kv[i].key);
		OPENSSL_cleanse(s->kv[i].val, strlen(s->kv[i].val));
		free(s->kv[i].val);
	}
	free(s->kv);
}

/*
 * Look a variable up: the environment wins over the env file (the later of
 * two lines in the file wins).  *where describes the origin for messages.
 */
static const char *
get(const struct src *s, const char *key, char *where, size_t wsz)
{
	const char *v;
	size_t	 i;

	if ((v = getenv(key)) != NULL) {
		snprintf(where, wsz, "environment");
		return v;
	}
	for (i = s->n; i > 0; i--)
		if (strcmp(s->kv[i - 1].key, key) == 0) {
			snprintf(where, wsz, "%s:%d", s->file, s->kv[i - 1].line);
			return s->kv[i - 1].val;
		}
	return NULL;
}

int
ocss_config_parse_size(const char *s, size_t *out)
{
	char		*end;
	unsigned long long v, mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':	break;
	case 'k': case 'K': mul = 1024ULL; end++; break;
	case 'm': case 'M': mul = 1024ULL * 1024; end++; break;
	case 'g': case 'G': mul = 1024ULL * 1024 * 1024; end++; break;
	default:	return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

int
ocss_config_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "1", "true", "yes", "on" };
	static const char *no[] = { "0", "false", "no", "off" };
	size_t	 i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (!isdigit((unsigned char)*s) && *s != '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A duration in seconds, 1 s to 30 days. */
static int
time_setting(const struct src *s, const char *key, long def, long *out,
    struct ocss_err *err)
{
	const char	*v;
	char		 w[512];

	*out = def;
	if ((v = get(s, key, w, sizeof(w))) == NULL)
		return 0;
	if (parse_long(v, 1, 30L * 86400, out) == -1) {
		ocss_err_set(err, "%s (%s) is '%s': use seconds from 1 to "
		    "2592000", key, w, v);
		return -1;
	}
	return 0;
}

static int
dup_or_default(char **dst, const char *v, const char *def)
{
	if ((*dst = strdup(v ? v : def)) == NULL)
		return -1;
	return 0;
}

/* A secret or identifier: NULL when unset or empty. */
static int
opt_string(const struct src *s, const char *key, char **out)
{
	const char	*v;
	char		 w[512];

	*out = NULL;
	if ((v = get(s, key, w, sizeof(w))) == NULL || *v == '\0')
		return 0;
	return (*out = strdup(v)) == NULL ? -1 : 0;
}

/* An http(s) base URL without trailing '/'. */
static int
base_url(const struct src *s, const char *key, const char *def, char **out,
    struct ocss_err *err)
{
	const char	*v;
	char		 w[512];
	size_t		 n;

	v = get(s, key, w, sizeof(w));
	if ((*out = strdup(v && *v ? v : def)) == NULL) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	if (strncmp(*out, "http://", 7) != 0 &&
	    strncmp(*out, "https://", 8) != 0) {
		ocss_err_set(err, "%s (%s) is '%s': use an http:// or https:// "
		    "base URL such as %s", key, w, *out, def);
		return -1;
	}
	n = strlen(*out);
	while (n > 0 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	return 0;
}

static int
webhook_settings(struct ocss_config *c, const struct src *s,
    struct ocss_err *err)
{
	const char	*v;
	char		 w[512];

	if (opt_string(s, "TELEGRAM_BOT_TOKEN", &c->tg_bot_token) ||
	    opt_string(s, "TELEGRAM_WEBHOOK_SECRET", &c->tg_webhook_secret) ||
	    opt_string(s, "WHATSAPP_APP_SECRET", &c->wa_app_secret) ||
	    opt_string(s, "WHATSAPP_VERIFY_TOKEN", &c->wa_verify_token) ||
	    opt_string(s, "WHATSAPP_ACCESS_TOKEN", &c->wa_access_token) ||
	    opt_string(s, "WHATSAPP_PHONE_NUMBER_ID", &c->wa_phone_id) ||
	    opt_string(s, "OCSS_TRUSTED_PROXIES", &c->trusted_proxies)) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	/* Telegram allows 1-256 characters of A-Z a-z 0-9 _ - here. */
	if (c->tg_webhook_secret != NULL) {
		size_t n = strlen(c->tg_webhook_secret), i;

		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)c->tg_webhook_secret[i]) &&
			    c->tg_webhook_secret[i] != '_' &&
			    c->tg_webhook_secret[i] != '-')
				break;
		if (n < 16 || n > 256 || i < n) {
			ocss_err_set(err, "TELEGRAM_WEBHOOK_SECRET must be 16 to "
			    "256 characters of A-Z, a-z, 0-9, '_' and '-' (the "
			    "Bot API's rule for secret_token)");
			return -1;
		}
	}
	if (base_url(s, "TELEGRAM_API_BASE", "https://api.telegram.org",
	    &c->tg_api_base, err) == -1 ||
	    base_url(s, "WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0",
	    &c->wa_api_base, err) == -1)
		return -1;
	c->wh_rate_limit = 60;
	if ((v = get(s, "WEBHOOK_RATE_LIMIT", w, sizeof(w))) != NULL &&
	    parse_long(v, 0, 1000000, &c->wh_rate_limit) == -1) {
		ocss_err_set(err, "WEBHOOK_RATE_LIMIT (%s) is '%s': use requests "
		    "per minute per client address, 0 (off) to 1000000", w, v);
		return -1;
	}
	if (time_setting(s, "WHATSAPP_REPLAY_WINDOW_SECONDS", 300,
	    &c->wa_replay_window, err) == -1)
		return -1;
	c->wh_max_body = 10 * 1024 * 1024;
	if ((v = get(s, "WEBHOOK_MAX_BODY", w, sizeof(w))) != NULL &&
	    (ocss_config_parse_size(v, &c->wh_max_body) == -1 ||
	    c->wh_max_body == 0)) {
		ocss_err_set(err, "WEBHOOK_MAX_BODY (%s) is '%s': use a byte "
		    "count with an optional k/M/G suffix, e.g. 10M", w, v);
		return -1;
	}
	return 0;
}

int
ocss_config_load(struct ocss_config *c, const char *env_file,
    struct ocss_err *err)
{
	struct src	 s = { NULL, NULL, 0 };
	struct ocss_buf	 b = OCSS_BUF_INIT;
	char		 w[512];
	const char	*v;
	long		 l;
	size_t		 n;

	memset(c, 0, sizeof(*c));
	if (env_file == NULL)
		env_file = getenv("OCSS_ENV_FILE");
	if (env_file != NULL && *env_file != '\0') {
		s.file = env_file;
		if (read_env_file(&s, env_file, err) == -1)
			goto fail;
		if ((c->env_file = strdup(env_file)) == NULL)
			goto oom;
	}

	v = get(&s, "OPENCLAW_TOKEN", w, sizeof(w));
	if (v == NULL || *v == '\0') {
		ocss_err_set(err, "OPENCLAW_TOKEN is not set: the gateway "
		    "refuses to run without a client token (generate one with "
		    "'ocss token' and put OPENCLAW_TOKEN=... in the env file)");
		goto fail;
	}
	if (strlen(v) < 16) {
		ocss_err_set(err, "OPENCLAW_TOKEN (%s) is %zu characters; use "
		    "at least 16 ('ocss token' makes a 43-character one)", w,
		    strlen(v));
		goto fail;
	}
	if ((c->token = strdup(v)) == NULL)
		goto oom;

	v = get(&s, "UPSTREAM_URL", w, sizeof(w));
	if (dup_or_default(&c->upstream_url, v, "http://127.0.0.1:18789"))
		goto oom;
	if (strncmp(c->upstream_url, "http://", 7) != 0 &&
	    strncmp(c->upstream_url, "https://", 8) != 0) {
		ocss_err_set(err, "UPSTREAM_URL (%s) is '%s': use an http:// "
		    "or https:// base URL such as http://127.0.0.1:18789", w,
		    c->upstream_url);
		goto fail;
	}
	n = strlen(c->upstream_url);
	while (n > 0 && c->upstream_url[n - 1] == '/')
		c->upstream_url[--n] = '\0';

	v = get(&s, "OCSS_UPSTREAM_TOKEN", w, sizeof(w));
	if (dup_or_default(&c->upstream_token, v && *v ? v : NULL, c->token))
		goto oom;

	if ((v = get(&s, "OCSS_OPERATOR_TOKEN", w, sizeof(w))) != NULL &&
	    *v != '\0') {
		if (strlen(v) < 16 || strcmp(v, c->token) == 0) {
			ocss_err_set(err, "OCSS_OPERATOR_TOKEN (%s) must be at "
			    "least 16 characters and differ from "
			    "OPENCLAW_TOKEN ('ocss token' makes one)", w);
			goto fail;
		}
		if ((c->operator_token = strdup(v)) == NULL)
			goto oom;
	}

	v = get(&s, "OCSS_CONF_DIR", w, sizeof(w));
	if (dup_or_default(&c->conf_dir, v, OCSS_SYSCONFDIR))
		goto oom;
	v = get(&s, "OCSS_STATE_DIR", w, sizeof(w));
	if (dup_or_default(&c->state_dir, v, OCSS_LOCALSTATEDIR))
		goto oom;
	v = get(&s, "AUDIT_LOG_PATH", w, sizeof(w));
	if (v == NULL || *v == '\0') {
		if (ocss_buf_printf(&b, "%s/audit.jsonl", c->state_dir) == -1)
			goto oom;
		c->audit_log_path = ocss_buf_steal(&b);
	} else
		c->audit_log_path = strdup(v);
	if (c->audit_log_path == NULL)
		goto oom;

	c->proxy_port = 8080;
	if ((v = get(&s, "PROXY_PORT", w, sizeof(w))) != NULL) {
		if (parse_long(v, 1, 65535, &l) == -1) {
			ocss_err_set(err, "PROXY_PORT (%s) is '%s': use a port "
			    "number from 1 to 65535", w, v);
			goto fail;
		}
		c->proxy_port = (int)l;
	}

	c->max_body = 10 * 1024 * 1024;
	if ((v = get(&s, "OCSS_MAX_BODY", w, sizeof(w))) != NULL &&
	    (ocss_config_parse_size(v, &c->max_body) == -1 ||
	    c->max_body == 0)) {
		ocss_err_set(err, "OCSS_MAX_BODY (%s) is '%s': use a byte "
		    "count with an optional k/M/G suffix, e.g. 10M", w, v);
		goto fail;
	}

	c->upstream_timeout = 300;
	if ((v = get(&s, "OCSS_UPSTREAM_TIMEOUT", w, sizeof(w))) != NULL &&
	    parse_long(v, 1, 86400, &c->upstream_timeout) == -1) {
		ocss_err_set(err, "OCSS_UPSTREAM_TIMEOUT (%s) is '%s': use "
		    "seconds from 1 to 86400", w, v);
		goto fail;
	}
	c->connect_timeout = 10;
	if ((v = get(&s, "OCSS_UPSTREAM_CONNECT_TIMEOUT", w, sizeof(w))) !=
	    NULL && parse_long(v, 1, 600, &c->connect_timeout) == -1) {
		ocss_err_set(err, "OCSS_UPSTREAM_CONNECT_TIMEOUT (%s) is '%s': "
		    "use seconds from 1 to 600", w, v);
		goto fail;
	}
	c->heartbeat = 15;
	if ((v = get(&s, "OCSS_SSE_HEARTBEAT", w, sizeof(w))) != NULL &&
	    parse_long(v, 0, 3600, &c->heartbeat) == -1) {
		ocss_err_set(err, "OCSS_SSE_HEARTBEAT (%s) is '%s': use seconds "
		    "from 0 (off) to 3600", w, v);
		goto fail;
	}

	c->audit_fail_closed = 1;
	if ((v = get(&s, "OCSS_AUDIT_FAIL_CLOSED", w, sizeof(w))) != NULL &&
	    ocss_config_parse_bool(v, &c->audit_fail_closed) == -1) {
		ocss_err_set(err, "OCSS_AUDIT_FAIL_CLOSED (%s) is '%s': use "
		    "true or false", w, v);
		goto fail;
	}
	c->audit_fsync = OCSS_FSYNC_NEVER;
	if ((v = get(&s, "OCSS_AUDIT_FSYNC", w, sizeof(w))) != NULL) {
		if (strcmp(v, "always") == 0)
			c->audit_fsync = OCSS_FSYNC_ALWAYS;
		else if (strcmp(v, "never") != 0) {
			ocss_err_set(err, "OCSS_AUDIT_FSYNC (%s) is '%s': use "
			    "'never' (default) or 'always'", w, v);
			goto fail;
		}
	}
	if ((v = get(&s, "OCSS_FORWARD_CLIENT_IP", w, sizeof(w))) != NULL &&
	    ocss_config_parse_bool(v, &c->forward_client_ip) == -1) {
		ocss_err_set(err, "OCSS_FORWARD_CLIENT_IP (%s) is '%s': use "
		    "true or false", w, v);
		goto fail;
	}
	c->sanitize_enabled = c->rscan_enabled = 1;
	if ((v = get(&s, "OCSS_SANITIZER_ENABLED", w, sizeof(w))) != NULL &&
	    ocss_config_parse_bool(v, &c->sanitize_enabled) == -1) {
		ocss_err_set(err, "OCSS_SANITIZER_ENABLED (%s) is '%s': use true "
		    "or false", w, v);
		goto fail;
	}
	if ((v = get(&s, "OCSS_RESPONSE_SCAN_ENABLED", w, sizeof(w))) !=
	    NULL && ocss_config_parse_bool(v, &c->rscan_enabled) == -1) {
		ocss_err_set(err, "OCSS_RESPONSE_SCAN_ENABLED (%s) is '%s': use "
		    "true or false", w, v);
		goto fail;
	}
	c->gov_enabled = 1;
	if ((v = get(&s, "GOVERNANCE_ENABLED", w, sizeof(w))) != NULL &&
	    ocss_config_parse_bool(v, &c->gov_enabled) == -1) {
		ocss_err_set(err, "GOVERNANCE_ENABLED (%s) is '%s': use true or "
		    "false", w, v);
		goto fail;
	}
	if ((v = get(&s, "GOVERNANCE_SECRET", w, sizeof(w))) != NULL &&
	    *v != '\0' && (c->gov_secret = strdup(v)) == NULL)
		goto oom;
	if (c->gov_enabled && (c->gov_secret == NULL ||
	    strlen(c->gov_secret) < 32)) {
		ocss_err_set(err, "GOVERNANCE_SECRET is %s: governance signs plan "
		    "tokens with it; set at least 32 characters ('ocss token' "
		    "makes one) or turn governance off with "
		    "GOVERNANCE_ENABLED=false", c->gov_secret ? "too short" :
		    "not set");
		goto fail;
	}
	if (time_setting(&s, "GOVERNANCE_APPROVAL_TTL", 3600,
	    &c->gov_approval_ttl, err) == -1 ||
	    time_setting(&s, "GOVERNANCE_TOKEN_TTL", 900, &c->gov_token_ttl,
	    err) == -1 ||
	    time_setting(&s, "GOVERNANCE_SESSION_TTL", 3600,
	    &c->gov_session_ttl, err) == -1)
		goto fail;
	if ((v = get(&s, "GOVERNANCE_ALLOW_SELF_APPROVAL", w, sizeof(w))) !=
	    NULL && ocss_config_parse_bool(v, &c->gov_self_approval) == -1) {
		ocss_err_set(err, "GOVERNANCE_ALLOW_SELF_APPROVAL (%s) is '%s': "
		    "use true or false", w, v);
		goto fail;
	}
	if (webhook_settings(c, &s, err) == -1)
		goto fail;
	free_src(&s);
	return 0;
oom:
	ocss_err_set(err, "out of memory while reading the configuration");
fail:
	ocss_buf_free(&b);
	free_src(&s);
	ocss_config_free(c);
	return -1;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void
ocss_config_free(struct ocss_config *c)
{
	free_secret(c->token);
	free_secret(c->upstream_token);
	free_secret(c->gov_secret);
	free_secret(c->operator_token);
	free_secret(c->tg_bot_token);
	free_secret(c->tg_webhook_secret);
	free_secret(c->wa_app_secret);
	free_secret(c->wa_verify_token);
	free_secret(c->wa_access_token);
	free(c->wa_phone_id);
	free(c->tg_api_base);
	free(c->wa_api_base);
	free(c->trusted_proxies);
	free(c->upstream_url);
	free(c->conf_dir);
	free(c->state_dir);
	free(c->audit_log_path);
	free(c->env_file);
	memset(c, 0, sizeof(*c));
}
