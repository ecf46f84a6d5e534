/* ocss token, ocss config check, ocss audit verify|tail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "commands.h"
#include "config.h"
#include "gateway.h"

static int
wants_help(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
ocss_cmd_token(int argc, char **argv)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char	 rnd[32];
	char		 out[48];
	size_t		 i, n = 0;
	unsigned int	 v;

	if (wants_help(argc, argv) || argc > 1) {
		printf("usage: ocss token\n\nPrint a new gateway token: 256 "
		    "bits from the system CSPRNG, base64url.\n");
		return argc > 1 && !wants_help(argc, argv) ? 2 : 0;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		fprintf(stderr, "ocss token: no random bytes from the CSPRNG\n");
		return 1;
	}
	/* 32 bytes = 10 groups of 3 + 2 left: 43 characters, no padding. */
	for (i = 0; i + 3 <= sizeof(rnd); i += 3) {
		v = (unsigned)rnd[i] << 16 | (unsigned)rnd[i + 1] << 8 | rnd[i + 2];
		out[n++] = b64url[v >> 18 & 63];
		out[n++] = b64url[v >> 12 & 63];
		out[n++] = b64url[v >> 6 & 63];
		out[n++] = b64url[v & 63];
	}
	v = (unsigned)rnd[30] << 16 | (unsigned)rnd[31] << 8;
	out[n++] = b64url[v >> 18 & 63];
	out[n++] = b64url[v >> 12 & 63];
	out[n++] = b64url[v >> 6 & 63];
	out[n] = '\0';
	printf("%s\n", out);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

int
ocss_cmd_config(int argc, char **argv)
{
	struct ocss_config	 cfg;
	struct ocss_err		 err;
	struct ocss_gateway	*gw;
	const char		*envfile = NULL;

	if (wants_help(argc, argv) || argc < 2 || strcmp(argv[1], "check")) {
		printf("usage: ocss config check [--env-file FILE]\n\n"
		    "Load the configuration the way ocss-fcgi does (environment, "
		    "env file,\nconf/ files), build every stage, and report the "
		    "first problem.\n");
		return wants_help(argc, argv) ? 0 : 2;
	}
	if (argc == 4 && strcmp(argv[2], "--env-file") == 0)
		envfile = argv[3];
	else if (argc != 2) {
		fprintf(stderr, "usage: ocss config check [--env-file FILE]\n");
		return 2;
	}
	if (ocss_config_load(&cfg, envfile, &err) == -1) {
		fprintf(stderr, "ocss config: %s\n", err.msg);
		return 1;
	}
	if ((gw = ocss_gateway_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "ocss config: %s\n", err.msg);
		ocss_config_free(&cfg);
		return 1;
	}
	printf("configuration OK\n  upstream   %s\n  conf dir   %s\n"
	    "  state dir  %s\n  audit log  %s\n  max body   %zu bytes\n",
	    cfg.upstream_url, cfg.conf_dir, cfg.state_dir, cfg.audit_log_path,
	    cfg.max_body);
	printf("  telegram   %s\n  whatsapp   %s\n", cfg.tg_bot_token ||
	    cfg.tg_webhook_secret ? (cfg.tg_bot_token ? "on" :
	    "on (no TELEGRAM_BOT_TOKEN: cannot reply)") : "off",
	    cfg.wa_app_secret ? (cfg.wa_access_token ? "on" :
	    "on (no WHATSAPP_ACCESS_TOKEN: cannot reply)") : "off");
	ocss_gateway_free(gw);
	ocss_config_free(&cfg);
	return 0;
}

/* Every line one JSON object with ts and event; report the bad ones. */
static int
audit_verify(const char *path)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	long		 n = 0, bad = 0;
	json_object	*o, *ts, *ev;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ocss audit: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		n++;
		if (len == 0 || line[len - 1] != '\n') {
			printf("%s:%ld: line not terminated (cut short?)\n",
			    path, n);
			bad++;
			continue;
		}
		o = json_tokener_parse(line);
		if (o == NULL || !json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "ts", &ts) ||
		    !json_object_object_get_ex(o, "event", &ev)) {
			printf("%s:%ld: not an audit record\n", path, n);
			bad++;
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	printf("%s: %ld lines, %ld bad\n", path, n, bad);
	return bad ? 1 : 0;
}

/* Print new lines as they are appended, like tail -f. */
static int
audit_tail(const char *path)
{
	FILE	*f;
	char	 buf[65536];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ocss audit: %s: %s\n", path, strerror(errno));
		return 2;
	}
	fseek(f, 0, SEEK_END);
	for (;;) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			fwrite(buf, 1, n, stdout);
			fflush(stdout);
		}
		clearerr(f);
		usleep(200000);
	}
}

int
ocss_cmd_audit(int argc, char **argv)
{
	struct ocss_config	 cfg;
	struct ocss_err		 err;
	const char		*path;
	char			 def[4096];
	int			 rc;

	if (wants_help(argc, argv) || argc < 2 || argc > 3 ||
	    (strcmp(argv[1], "verify") && strcmp(argv[1], "tail"))) {
		printf("usage: ocss audit verify|tail [FILE]\n\n"
		    "verify  check that every line is a whole JSON audit record\n"
		    "tail    print records as they are appended\n"
		    "FILE defaults to AUDIT_LOG_PATH (or OCSS_STATE_DIR/"
		    "audit.jsonl).\n");
		return wants_help(argc, argv) ? 0 : 2;
	}
	if (argc == 3)
		path = argv[2];
	else {
		if (ocss_config_load(&cfg, NULL, &err) == -1) {
			fprintf(stderr, "ocss audit: %s (or name the file)\n",
			    err.msg);
			return 2;
		}
		snprintf(def, sizeof(def), "%s", cfg.audit_log_path);
		ocss_config_free(&cfg);
		path = def;
	}
	rc = strcmp(argv[1], "verify") == 0 ? audit_verify(path) :
	    audit_tail(path);
	return rc;
}
