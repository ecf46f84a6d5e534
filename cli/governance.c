/*
 * ocss governance list|show|approve|reject: the operator's side of
 * governance from a shell on the gateway host.  It runs the same code as
 * the REST routes (ocss_gov_rest) on the same store, and audits decisions
 * the same way.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "buf.h"
#include "commands.h"
#include "config.h"
#include "governance.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ocss governance list [--status S] [--limit N] [--format text|json]\n"
"       ocss governance show ID\n"
"       ocss governance approve ID --user NAME --ack TEXT\n"
"       ocss governance reject ID --user NAME [--reason TEXT]\n"
"\n"
"Options common to all: --env-file FILE (default $OCSS_ENV_FILE).\n"
"S is pending (default), approved, rejected, expired or all.  ID is an\n"
"approval id.  'approve' prints the plan token the agent re-sends as\n"
"x-governance-token (with x-governance-plan-id).\n");
}

/* One human line per approval of a list answer. */
static void
print_text(json_object *list)
{
	json_object	*arr, *a, *v, *plan, *acts, *act;
	size_t		 i, j;

	if (!json_object_object_get_ex(list, "approvals", &arr) ||
	    json_object_array_length(arr) == 0) {
		printf("no approvals\n");
		return;
	}
	printf("%-32s  %-9s  %-14s  %s\n", "APPROVAL", "STATUS", "REQUESTER",
	    "ACTIONS");
	for (i = 0; i < json_object_array_length(arr); i++) {
		a = json_object_array_get_idx(arr, i);
		printf("%-32s  ", json_object_object_get_ex(a, "approval_id",
		    &v) ? json_object_get_string(v) : "?");
		printf("%-9s  ", json_object_object_get_ex(a, "status", &v) ?
		    json_object_get_string(v) : "?");
		printf("%-14.14s  ", json_object_object_get_ex(a,
		    "requester_id", &v) ? json_object_get_string(v) : "");
		if (json_object_object_get_ex(a, "plan", &plan) &&
		    json_object_object_get_ex(plan, "actions", &acts))
			for (j = 0; j < json_object_array_length(acts); j++) {
				act = json_object_array_get_idx(acts, j);
				printf("%s%s(%s)", j ? ", " : "",
				    json_object_object_get_ex(act, "tool", &v) ?
				    json_object_get_string(v) : "?",
				    json_object_object_get_ex(act, "category",
				    &v) ? json_object_get_string(v) : "?");
			}
		printf("\n");
	}
}

int
ocss_cmd_governance(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "ack", required_argument, NULL, 'a' },
		{ "reason", required_argument, NULL, 'r' },
		{ "env-file", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_config	 cfg;
	struct ocss_err		 err;
	struct ocss_gov		*g = NULL;
	struct ocss_store	*st = NULL;
	struct ocss_audit	*au = NULL;
	struct ocss_audit_event	 e;
	struct ocss_buf		 sub = OCSS_BUF_INIT, q = OCSS_BUF_INIT,
				 body = OCSS_BUF_INIT, out = OCSS_BUF_INIT,
				 extra = OCSS_BUF_INIT;
	const char		*status = "pending", *limit = "50", *fmt = "text";
	const char		*user = NULL, *ack = NULL, *reason = NULL;
	const char		*envfile = NULL, *verb, *id = NULL, *why = NULL;
	const char		*method = "GET";
	json_object		*o;
	int			 c, code, rc = 2, loaded = 0;

	optind = 1;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': status = optarg; break;
		case 'l': limit = optarg; break;
		case 'f': fmt = optarg; break;
		case 'u': user = optarg; break;
		case 'a': ack = optarg; break;
		case 'r': reason = optarg; break;
		case 'e': envfile = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind != argc || (strcmp(verb, "list") != 0) == (id == NULL)) {
		usage(stderr);
		return 2;
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ocss governance: --format is text or json\n");
		return 2;
	}
	if (strcmp(verb, "list") == 0) {
		if (ocss_buf_puts(&sub, "/approvals") ||
		    ocss_buf_printf(&q, "status=%s&limit=%s", status, limit))
			goto oom;
	} else if (strcmp(verb, "show") == 0) {
		if (ocss_buf_printf(&sub, "/approvals/%s", id))
			goto oom;
	} else if (strcmp(verb, "approve") == 0 ||
	    strcmp(verb, "reject") == 0) {
		int approve = verb[0] == 'a';

		if (user == NULL || (approve && ack == NULL)) {
			fprintf(stderr, "ocss governance %s: --user%s required\n",
			    verb, approve ? " and --ack are" : " is");
			return 2;
		}
		method = "POST";
		if (ocss_buf_printf(&sub, "/approvals/%s/%s", id, verb) ||
		    ocss_buf_printf(&body, "{\"%s\":\"", approve ?
		    "approver_id" : "rejector_id") ||
		    ocss_buf_json_str(&body, user, strlen(user)) ||
		    ocss_buf_printf(&body, "\",\"%s\":\"", approve ?
		    "acknowledgment" : "reason") ||
		    ocss_buf_json_str(&body, approve ? ack : reason ? reason :
		    "", strlen(approve ? ack : reason ? reason : "")) ||
		    ocss_buf_puts(&body, "\"}"))
			goto oom;
	} else {
		fprintf(stderr, "ocss governance: unknown command '%s'\n", verb);
		usage(stderr);
		return 2;
	}

	if (ocss_config_load(&cfg, envfile, &err) == -1) {
		fprintf(stderr, "ocss governance: %s\n", err.msg);
		goto out;
	}
	loaded = 1;
	if (!cfg.gov_enabled) {
		fprintf(stderr, "ocss governance: governance is off "
		    "(GOVERNANCE_ENABLED=false)\n");
		goto out;
	}
	if ((g = ocss_gov_load(&cfg, &err)) == NULL ||
	    (st = ocss_store_open(cfg.state_dir, &err)) == NULL ||
	    (au = ocss_audit_open(cfg.audit_log_path, cfg.audit_fsync,
	    &err)) == NULL) {
		fprintf(stderr, "ocss governance: %s\n", err.msg);
		goto out;
	}
	code = ocss_gov_rest(g, st, method, sub.data, q.data ? q.data : "",
	    body.data, body.len, ocss_store_now_ms(), &out, &why, &extra);
	if (why != NULL) {
		memset(&e, 0, sizeof(e));
		e.event = "governance_decision";
		e.method = "CLI";
		e.path = sub.data;
		e.decision = code == 200 ? "allow" : "deny";
		e.reason = why;
		e.status = code;
		e.extra = extra.len ? extra.data : NULL;
		if (ocss_audit_write(au, &e) == -1 && cfg.audit_fail_closed) {
			fprintf(stderr, "ocss governance: the audit log %s "
			    "cannot be written\n", cfg.audit_log_path);
			goto out;
		}
	}
	o = json_tokener_parse(out.data ? out.data : "");
	if (code != 200) {
		json_object *er, *m;
		fprintf(stderr, "ocss governance: %s (HTTP %d)\n",
		    o && json_object_object_get_ex(o, "error", &er) &&
		    json_object_object_get_ex(er, "message", &m) ?
		    json_object_get_string(m) : "failed", code);
		rc = code == 410 || code == 404 || code == 403 ? 1 : 2;
	} else {
		if (strcmp(verb, "list") == 0 && strcmp(fmt, "text") == 0)
			print_text(o);
		else
			printf("%s\n", json_object_to_json_string_ext(o,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = 0;
	}
	json_object_put(o);
	goto out;
oom:
	fprintf(stderr, "ocss governance: out of memory\n");
out:
	ocss_audit_close(au);
	ocss_store_close(st);
	ocss_gov_free(g);
	if (loaded)
		ocss_config_free(&cfg);
	ocss_buf_free(&sub);
	ocss_buf_free(&q);
	ocss_buf_free(&body);
	ocss_buf_free(&out);
	ocss_buf_free(&extra);
	return rc;
}
