/*
 * Gateway configuration: the process environment first, then an env file
 * (KEY=VALUE lines), then built-in defaults.  Loaded once, before any worker
 * starts; read-only afterwards, so every thread may share it.
 */
#ifndef OCSS_CONFIG_H
#define OCSS_CONFIG_H

#include <stddef.h>

#include "err.h"

enum ocss_fsync {
	OCSS_FSYNC_NEVER,	/* write(2) per line: survives a process crash */
	OCSS_FSYNC_ALWAYS	/* fdatasync(2) per line: survives power loss */
};

struct ocss_config {
	char		*token;		/* OPENCLAW_TOKEN: clients' Bearer */
	char		*upstream_url;	/* UPSTREAM_URL, no trailing '/' */
	char		*upstream_token; /* OCSS_UPSTREAM_TOKEN, else token */
	char		*operator_token; /* OCSS_OPERATOR_TOKEN, or NULL */
	char		*conf_dir;	/* OCSS_CONF_DIR */
	char		*state_dir;	/* OCSS_STATE_DIR */
	char		*audit_log_path; /* AUDIT_LOG_PATH */
	char		*env_file;	/* file read, or NULL */
	int		 proxy_port;	/* PROXY_PORT (for the web server) */
	size_t		 max_body;	/* OCSS_MAX_BODY bytes */
	long		 upstream_timeout; /* OCSS_UPSTREAM_TIMEOUT seconds */
	long		 connect_timeout; /* OCSS_UPSTREAM_CONNECT_TIMEOUT s */
	long		 heartbeat;	/* OCSS_SSE_HEARTBEAT s, 0 = off */
	int		 audit_fail_closed; /* OCSS_AUDIT_FAIL_CLOSED */
	enum ocss_fsync	 audit_fsync;	/* OCSS_AUDIT_FSYNC */
	int		 forward_client_ip; /* OCSS_FORWARD_CLIENT_IP */
	int		 sanitize_enabled; /* OCSS_SANITIZER_ENABLED */
	int		 rscan_enabled;	/* OCSS_RESPONSE_SCAN_ENABLED */
	int		 gov_enabled;	/* GOVERNANCE_ENABLED */
	char		*gov_secret;	/* GOVERNANCE_SECRET */
	long		 gov_approval_ttl; /* GOVERNANCE_APPROVAL_TTL s */
	long		 gov_token_ttl;	/* GOVERNANCE_TOKEN_TTL s */
	long		 gov_session_ttl; /* GOVERNANCE_SESSION_TTL s */
	int		 gov_self_approval; /* GOVERNANCE_ALLOW_SELF_APPROVAL */
	/* Webhook relay: a platform is on when its secret is set. */
	char		*tg_bot_token;	/* TELEGRAM_BOT_TOKEN */
	char		*tg_webhook_secret; /* TELEGRAM_WEBHOOK_SECRET, else
					 * hex SHA-256 of the bot token */
	char		*tg_api_base;	/* TELEGRAM_API_BASE, no trailing '/' */
	char		*wa_app_secret;	/* WHATSAPP_APP_SECRET */
	char		*wa_verify_token; /* WHATSAPP_VERIFY_TOKEN */
	char		*wa_access_token; /* WHATSAPP_ACCESS_TOKEN */
	char		*wa_phone_id;	/* WHATSAPP_PHONE_NUMBER_ID */
	char		*wa_api_base;	/* WHATSAPP_API_BASE, no trailing '/' */
	long		 wh_rate_limit;	/* WEBHOOK_RATE_LIMIT per minute, 0 off */
	long		 wa_replay_window; /* WHATSAPP_REPLAY_WINDOW_SECONDS */
	size_t		 wh_max_body;	/* WEBHOOK_MAX_BODY bytes */
	char		*trusted_proxies; /* OCSS_TRUSTED_PROXIES, or NULL */
};

/*
 * Load from the environment and env_file (NULL: $OCSS_ENV_FILE if set).
 * On error returns -1 and err names the variable, where it came from
 * (environment or file:line) and what a valid value looks like.
 * The caller owns cfg's strings: release with ocss_config_free().
 */
int	ocss_config_load(struct ocss_config *cfg, const char *env_file,
	    struct ocss_err *err);
void	ocss_config_free(struct ocss_config *);

/* Parse "10M", "512k", "1048576" into bytes; -1 on garbage or overflow. */
int	ocss_config_parse_size(const char *, size_t *);
/* Parse true/false/yes/no/on/off/1/0; -1 otherwise. */
int	ocss_config_parse_bool(const char *, int *);

#endif
