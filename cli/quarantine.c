/*
 * ocss quarantine list|show|override|release|rescan|export|check: the
 * operator's side of the skill quarantine (lib/quarantine.h), and the
 * state helpers ocss scan --quarantine and ocss pins share (commands.h).
 * Exit status: 0 done, 1 refused / blocked / still quarantined, 2 usage or
 * error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "commands.h"
#include "quarantine.h"
#include "skillscan.h"
#include "store.h"

#ifndef OCSS_SYSCONFDIR
#define OCSS_SYSCONFDIR "/etc/ocss"
#endif
#ifndef OCSS_LOCALSTATEDIR
#define OCSS_LOCALSTATEDIR "/var/lib/ocss"
#endif

#define J(b, s) ocss_buf_json_str((b), (s), strlen(s))

static char *
pick(const char *opt, const char *env, const char *def)
{
	const char	*v = opt;

	if (v == NULL || *v == '\0')
		v = getenv(env);
	if (v == NULL || *v == '\0')
		v = def;
	return strdup(v);
}

int
ocss_qenv_init(struct ocss_qenv *q, const char *prog, const char *state_dir,
    const char *conf_dir, const char *export_path, const char *pins_path)
{
	const char	*a;

	memset(q, 0, sizeof(*q));
	q->prog = prog;
	if ((q->state_dir = pick(state_dir, "OCSS_STATE_DIR",
	    OCSS_LOCALSTATEDIR)) == NULL ||
	    (q->conf_dir = pick(conf_dir, "OCSS_CONF_DIR", OCSS_SYSCONFDIR))
	    == NULL)
		goto oom;
	if (export_path && *export_path)
		q->export_path = strdup(export_path);
	else if (asprintf(&q->export_path, "%s/%s", q->conf_dir,
	    OCSS_QUARANTINE_LIST) == -1)
		q->export_path = NULL;
	if (pins_path && *pins_path)
		q->pins_path = strdup(pins_path);
	else if (asprintf(&q->pins_path, "%s/skill-pins.json", q->conf_dir)
	    == -1)
		q->pins_path = NULL;
	if ((a = getenv("AUDIT_LOG_PATH")) != NULL && *a)
		q->audit_path = strdup(a);
	else if (asprintf(&q->audit_path, "%s/audit.jsonl", q->state_dir)
	    == -1)
		q->audit_path = NULL;
	if (q->export_path && q->pins_path && q->audit_path)
		return 0;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
	ocss_qenv_free(q);
	return -1;
}

int
ocss_qenv_open(struct ocss_qenv *q)
{
	struct ocss_err	 err;
	struct stat	 st;

	if (stat(q->state_dir, &st) == -1 && errno == ENOENT &&
	    strstr(q->state_dir, ".db") == NULL) {
		fprintf(stderr, "%s: state directory %s does not exist: "
		    "create it (the gateway's OCSS_STATE_DIR) or give "
		    "--state-dir DIR\n", q->prog, q->state_dir);
		return -1;
	}
	if ((q->st = ocss_store_open(q->state_dir, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", q->prog, err.msg);
		return -1;
	}
	return 0;
}

void
ocss_qenv_free(struct ocss_qenv *q)
{
	ocss_store_close(q->st);
	free(q->state_dir);
	free(q->conf_dir);
	free(q->export_path);
	free(q->audit_path);
	free(q->pins_path);
	memset(q, 0, sizeof(*q));
}

int
ocss_qenv_export(struct ocss_qenv *q)
{
	struct ocss_err	 err;
	size_t		 n = 0;

	if (ocss_quarantine_export(q->st, q->export_path, &n, &err) == -1) {
		fprintf(stderr, "%s: export of the quarantine list: %s "
		    "(give --export FILE or fix OCSS_CONF_DIR)\n", q->prog,
		    err.msg);
		return -1;
	}
	fprintf(stderr, "%s: %zu quarantined skill%s exported to %s\n",
	    q->prog, n, n == 1 ? "" : "s", q->export_path);
	return 0;
}

int
ocss_qenv_audit(struct ocss_qenv *q, const char *event, const char *decision,
    const char *name, const char *reason, const char *extra)
{
	struct ocss_err	 err;

	if (ocss_quarantine_audit(q->audit_path, event, decision, name,
	    reason, extra, &err) == -1) {
		fprintf(stderr, "%s: %s (set AUDIT_LOG_PATH or --state-dir "
		    "to a writable place)\n", q->prog, err.msg);
		return -1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ocss quarantine list [--status S] [--format text|json]\n"
"       ocss quarantine show NAME [--format text|json]\n"
"       ocss quarantine override NAME --user NAME --ack TEXT\n"
"       ocss quarantine release NAME --user NAME --ack TEXT\n"
"       ocss quarantine rescan NAME... | --all [--rules FILE]\n"
"                              [--allowlist FILE] [--min-severity SEV]\n"
"       ocss quarantine export\n"
"       ocss quarantine check NAME\n"
"\n"
"Skills enter the quarantine with 'ocss scan --quarantine PATH'.  NAME is\n"
"the skill's name (SKILL.md or package.json, as 'ocss scan' prints it).\n"
"\n"
"  list      every skill on record (S: quarantined, overridden, released,\n"
"            all (default))\n"
"  show      status, reason, findings and override of one skill\n"
"  override  allow a quarantined skill; needs --user and --ack (e.g.\n"
"            --ack \"I accept the risk\"); audited with the findings it\n"
"            accepts.  It holds until the skill's content changes.\n"
"  release   take a skill out of quarantine (same requirements)\n"
"  rescan    scan the stored path again: clean -> released, findings ->\n"
"            quarantined (an override holds only if nothing changed)\n"
"  export    write the list of quarantined names for the plugin\n"
"  check     exit 1 when NAME is blocked (quarantined), 0 when not\n"
"\n"
"Options common to all:\n"
"  --state-dir DIR   the store (default $OCSS_STATE_DIR, else "
OCSS_LOCALSTATEDIR ")\n"
"  --conf-dir DIR    default $OCSS_CONF_DIR, else " OCSS_SYSCONFDIR "\n"
"  --export FILE     the plugin's list (default\n"
"                    CONF_DIR/" OCSS_QUARANTINE_LIST "), rewritten after\n"
"                    every change\n"
"The audit log is $AUDIT_LOG_PATH, else STATE_DIR/audit.jsonl.\n"
"Exit status: 0 done, 1 refused or still quarantined (check: blocked),\n"
"2 usage or error.\n");
}

static void
iso(int64_t ms, char out[32])
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (ms <= 0) {
		out[0] = '\0';
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One record as a JSON object; findings arrays only when full. */
static int
rec_json(struct ocss_buf *b, const struct ocss_quarantine_rec *q, int full)
{
	char	 t[32];
	int	 rc = 0;

	rc |= ocss_buf_puts(b, "{\"name\":\"");
	rc |= J(b, q->name);
	rc |= ocss_buf_puts(b, "\",\"path\":\"");
	rc |= J(b, q->path ? q->path : "");
	rc |= ocss_buf_printf(b, "\",\"status\":\"%s\",\"blocked\":%s,"
	    "\"reason\":\"", q->status, strcmp(q->status, "quarantined") ?
	    "false" : "true");
	rc |= J(b, q->reason ? q->reason : "");
	rc |= ocss_buf_printf(b, "\",\"trust_score\":%d,\"findings_count\":"
	    "%ld,\"needs_rescan\":%s,\"content_sha256\":\"%s\"",
	    q->trust_score, q->nfindings, q->needs_rescan ? "true" : "false",
	    q->content_sha256 ? q->content_sha256 : "");
	iso(q->scanned_at, t);
	rc |= ocss_buf_printf(b, ",\"scanned_at\":\"%s\"", t);
	iso(q->quarantined_at, t);
	rc |= ocss_buf_printf(b, ",\"quarantined_at\":\"%s\"", t);
	iso(q->released_at, t);
	rc |= ocss_buf_printf(b, ",\"released_at\":\"%s\"", t);
	if (q->override_user) {
		iso(q->override_at, t);
		rc |= ocss_buf_puts(b, ",\"override\":{\"user\":\"");
		rc |= J(b, q->override_user);
		rc |= ocss_buf_puts(b, "\",\"ack\":\"");
		rc |= J(b, q->override_ack ? q->override_ack : "");
		rc |= ocss_buf_printf(b, "\",\"at\":\"%s\"", t);
		if (full)
			rc |= ocss_buf_printf(b, ",\"findings\":%s",
			    q->override_findings_json ?
			    q->override_findings_json : "[]");
		rc |= ocss_buf_putc(b, '}');
	} else
		rc |= ocss_buf_puts(b, ",\"override\":null");
	if (full)
		rc |= ocss_buf_printf(b, ",\"findings\":%s",
		    q->findings_json ? q->findings_json : "[]");
	rc |= ocss_buf_putc(b, '}');
	return rc;
}

struct list_ctx {
	struct ocss_buf	*b;
	int		 json, n, rc;
};

static void
list_one(void *arg, const struct ocss_quarantine_rec *q)
{
	struct list_ctx	*x = arg;
	char		 t[32];

	if (x->json) {
		x->rc |= ocss_buf_puts(x->b, x->n ? ",\n  " : "\n  ");
		x->rc |= rec_json(x->b, q, 0);
	} else {
		if (x->n == 0)
			x->rc |= ocss_buf_printf(x->b, "%-24s  %-11s  %5s  "
			    "%-20s  %s\n", "SKILL", "STATUS", "SCORE",
			    "SCANNED", "REASON");
		iso(q->scanned_at, t);
		x->rc |= ocss_buf_printf(x->b, "%-24s  %-11s  %5d  %-20s  "
		    "%s%s\n", q->name, q->status, q->trust_score, t,
		    q->needs_rescan ? "[needs rescan] " : "",
		    q->reason ? q->reason : "");
	}
	x->n++;
}

static void
print_findings(const char *json, const char *indent)
{
	json_object	*a, *f, *v;
	size_t		 i;

	if ((a = json_tokener_parse(json ? json : "[]")) == NULL ||
	    !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		f = json_object_array_get_idx(a, i);
#define S(k) (json_object_object_get_ex(f, k, &v) ? \
	json_object_get_string(v) : "")
		printf("%s%s:%s:%s: %s [%s]", indent, S("file"), S("line"),
		    S("column"), S("severity"), S("rule"));
		if (*S("detail"))
			printf(" (%s)", S("detail"));
		printf("\n%s    %s\n", indent, S("snippet"));
#undef S
	}
	json_object_put(a);
}

static void
show_text(const struct ocss_quarantine_rec *q)
{
	char	 t[32];

	printf("skill:        %s\n", q->name);
	printf("status:       %s%s\n", q->status, q->needs_rescan ?
	    " (needs rescan)" : "");
	printf("reason:       %s\n", q->reason ? q->reason : "");
	printf("path:         %s\n", q->path ? q->path : "");
	printf("trust score:  %d/100\n", q->trust_score);
	iso(q->scanned_at, t);
	printf("scanned:      %s\n", t);
	iso(q->quarantined_at, t);
	printf("quarantined:  %s\n", t);
	if (q->released_at) {
		iso(q->released_at, t);
		printf("released:     %s\n", t);
	}
	if (q->override_user) {
		iso(q->override_at, t);
		printf("override:     by %s at %s: \"%s\"\n", q->override_user,
		    t, q->override_ack ? q->override_ack : "");
	}
	printf("findings (%ld at or above the threshold):\n", q->nfindings);
	print_findings(q->findings_json, "  ");
}

static const char *
result_name(enum ocss_quarantine_result r)
{
	switch (r) {
	case OCSS_QUARANTINE_CLEAN:
		return "clean";
	case OCSS_QUARANTINE_RELEASED:
		return "released";
	case OCSS_QUARANTINE_QUARANTINED:
		return "quarantined";
	default:
		return "overridden";
	}
}

/* Names of the records a rescan --all looks at: all but released. */
struct names_ctx {
	char	**v;
	size_t	  n;
	int	  oom;
};

static void
name_one(void *arg, const struct ocss_quarantine_rec *q)
{
	struct names_ctx *x = arg;
	char		**v;

	if (strcmp(q->status, "released") == 0 || x->oom)
		return;
	if ((v = realloc(x->v, (x->n + 1) * sizeof(*v))) == NULL ||
	    (v[x->n] = strdup(q->name)) == NULL) {
		if (v)
			x->v = v;
		x->oom = 1;
		return;
	}
	x->v = v;
	x->n++;
}

static char *
conf_file(const struct ocss_qenv *q, const char *opt, const char *name)
{
	char	*p;

	if (opt)
		return strdup(opt);
	if (asprintf(&p, "%s/%s", q->conf_dir, name) == -1)
		return NULL;
	return p;
}

int
ocss_qenv_recorded(struct ocss_qenv *q, const struct ocss_quarantine_rec *r,
    int res)
{
	struct ocss_buf	 x = OCSS_BUF_INIT;
	int		 rc = 0;

	if (res == OCSS_QUARANTINE_QUARANTINED) {
		if (ocss_buf_printf(&x, "\"trust_score\":%d,\"findings\":%s",
		    r->trust_score, r->findings_json) == -1)
			rc = -1;
		else
			rc = ocss_qenv_audit(q, "skill_quarantine", "block",
			    r->name, r->reason, x.data);
	} else if (res == OCSS_QUARANTINE_RELEASED)
		rc = ocss_qenv_audit(q, "skill_release", "allow", r->name,
		    "clean at rescan", NULL);
	ocss_buf_free(&x);
	return rc;
}

int
ocss_cmd_quarantine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "ack", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "rules", required_argument, NULL, 'r' },
		{ "allowlist", required_argument, NULL, 'l' },
		{ "min-severity", required_argument, NULL, 'm' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "conf-dir", required_argument, NULL, 'C' },
		{ "export", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_qenv		 q;
	struct ocss_err			 err;
	struct ocss_buf			 out = OCSS_BUF_INIT, x = OCSS_BUF_INIT;
	struct ocss_quarantine_rec	 rec;
	struct ocss_skillscan		*sc = NULL;
	struct list_ctx			 lc;
	enum ocss_skillscan_severity	 min = OCSS_SKILLSCAN_MEDIUM;
	enum ocss_quarantine_result	 res;
	const char	*status = NULL, *fmt = "text", *user = NULL, *ack = NULL;
	const char	*rules = NULL, *allow = NULL, *sdir = NULL, *cdir = NULL;
	const char	*exp = NULL, *verb;
	char		*rpath = NULL, *apath = NULL, **names = NULL;
	size_t		 nnames = 0, k;
	int		 c, rc = 2, all = 0, i, r, changed = 0, still = 0;

	memset(&q, 0, sizeof(q));
	memset(&rec, 0, sizeof(rec));
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': status = optarg; break;
		case 'f': fmt = optarg; break;
		case 'u': user = optarg; break;
		case 'a': ack = optarg; break;
		case 'A': all = 1; break;
		case 'r': rules = optarg; break;
		case 'l': allow = optarg; break;
		case 'S': sdir = optarg; break;
		case 'C': cdir = optarg; break;
		case 'E': exp = optarg; break;
		case 'm':
			if (ocss_quarantine_severity(optarg, &min) == -1) {
				fprintf(stderr, "ocss quarantine: "
				    "--min-severity is info, low, medium, high "
				    "or critical\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ocss quarantine: --format is text or json\n");
		return 2;
	}
	if (status && !strcmp(status, "all"))
		status = NULL;
	if (status && strcmp(status, "quarantined") &&
	    strcmp(status, "overridden") && strcmp(status, "released")) {
		fprintf(stderr, "ocss quarantine: --status is quarantined, "
		    "overridden, released or all\n");
		return 2;
	}
	/* Which verbs take names, and how many. */
	if (!strcmp(verb, "list") || !strcmp(verb, "export")) {
		if (optind != argc)
			goto badargs;
	} else if (!strcmp(verb, "show") || !strcmp(verb, "override") ||
	    !strcmp(verb, "release") || !strcmp(verb, "check")) {
		if (optind + 1 != argc)
			goto badargs;
	} else if (!strcmp(verb, "rescan")) {
		if ((optind == argc) == !all)
			goto badargs;
	} else {
		fprintf(stderr, "ocss quarantine: unknown command '%s'\n",
		    verb);
		usage(stderr);
		return 2;
	}
	if ((!strcmp(verb, "override") || !strcmp(verb, "release")) &&
	    (user == NULL || ack == NULL || !*user || !*ack)) {
		fprintf(stderr, "ocss quarantine %s: refused: give both "
		    "--user NAME and --ack TEXT (e.g. --ack \"I accept the "
		    "risk\"); the decision is audited with both\n", verb);
		return 2;
	}
	if (ocss_qenv_init(&q, "ocss quarantine", sdir, cdir, exp, NULL) == -1)
		return 2;
	if (ocss_qenv_open(&q) == -1)
		goto done;

	if (!strcmp(verb, "list")) {
		memset(&lc, 0, sizeof(lc));
		lc.b = &out;
		lc.json = fmt[0] == 'j';
		if (lc.json)
			lc.rc |= ocss_buf_putc(&out, '[');
		if (ocss_store_quarantine_list(q.st, status, list_one, &lc,
		    &err) == -1) {
			fprintf(stderr, "ocss quarantine: %s\n", err.msg);
			goto done;
		}
		if (lc.json)
			lc.rc |= ocss_buf_puts(&out, lc.n ? "\n]\n" : "]\n");
		else if (lc.n == 0)
			lc.rc |= ocss_buf_puts(&out, "no skills on record\n");
		if (lc.rc)
			goto oom;
		fwrite(out.data, 1, out.len, stdout);
		rc = 0;
	} else if (!strcmp(verb, "show")) {
		if ((r = ocss_store_quarantine_get(q.st, argv[optind], &rec,
		    &err)) != 0) {
			if (r == 1)
				fprintf(stderr, "ocss quarantine: no skill "
				    "'%s' on record (see 'ocss quarantine "
				    "list')\n", argv[optind]);
			else
				fprintf(stderr, "ocss quarantine: %s\n",
				    err.msg);
			goto done;
		}
		if (fmt[0] == 'j') {
			if (rec_json(&out, &rec, 1) || ocss_buf_putc(&out,
			    '\n'))
				goto oom;
			fwrite(out.data, 1, out.len, stdout);
		} else
			show_text(&rec);
		rc = 0;
	} else if (!strcmp(verb, "check")) {
		if ((r = ocss_quarantine_is_blocked(q.st, argv[optind], &err))
		    == -1) {
			fprintf(stderr, "ocss quarantine: %s\n", err.msg);
			goto done;
		}
		printf("%s: %s\n", argv[optind], r ? "blocked" :
		    "not blocked");
		rc = r ? 1 : 0;
	} else if (!strcmp(verb, "export")) {
		rc = ocss_qenv_export(&q) == 0 ? 0 : 2;
	} else if (!strcmp(verb, "override") || !strcmp(verb, "release")) {
		int over = verb[0] == 'o';
		const char *name = argv[optind];

		/* Read first: the audit line names the findings overridden. */
		if (ocss_store_quarantine_get(q.st, name, &rec, &err) == -1) {
			fprintf(stderr, "ocss quarantine: %s\n", err.msg);
			goto done;
		}
		r = over ? ocss_quarantine_override(q.st, name, user, ack,
		    ocss_store_now_ms(), &err) : ocss_quarantine_release(q.st,
		    name, user, ack, ocss_store_now_ms(), &err);
		if (r == -1) {
			fprintf(stderr, "ocss quarantine: %s\n", err.msg);
			goto done;
		}
		if (r == 1) {
			fprintf(stderr, "ocss quarantine %s: %s\n", verb,
			    err.msg);
			rc = 1;
			goto done;
		}
		if (ocss_buf_puts(&x, "\"user\":\"") || J(&x, user) ||
		    ocss_buf_puts(&x, "\",\"ack\":\"") || J(&x, ack) ||
		    ocss_buf_printf(&x, "\",\"previous_status\":\"%s\","
		    "\"trust_score\":%d,\"findings\":%s", rec.status,
		    rec.trust_score, rec.findings_json ? rec.findings_json :
		    "[]"))
			goto oom;
		if (ocss_qenv_audit(&q, over ? "skill_override" :
		    "skill_release", "allow", name, over ?
		    "quarantine overridden" : "quarantine released", x.data)
		    == -1)
			goto done;
		printf("%s: %s by %s\n", name, over ? "overridden" :
		    "released", user);
		rc = ocss_qenv_export(&q) == 0 ? 0 : 2;
	} else {	/* rescan */
		if ((rpath = conf_file(&q, rules, "scanner-rules.json")) ==
		    NULL || (apath = conf_file(&q, allow,
		    "egress-allowlist.conf")) == NULL)
			goto oom;
		if (ocss_skillscan_new(&sc, rpath, apath, &err) == -1) {
			fprintf(stderr, "ocss quarantine: %s\n", err.msg);
			goto done;
		}
		if (all) {
			struct names_ctx nc = { NULL, 0, 0 };

			if (ocss_store_quarantine_list(q.st, NULL, name_one,
			    &nc, &err) == -1) {
				fprintf(stderr, "ocss quarantine: %s\n",
				    err.msg);
				goto done;
			}
			names = nc.v;
			nnames = nc.n;
			if (nc.oom)
				goto oom;
		}
		rc = 0;
		for (i = 0; i < (all ? (int)nnames : argc - optind); i++) {
			const char *name = all ? names[i] : argv[optind + i];

			ocss_store_quarantine_free(&rec);
			r = ocss_quarantine_rescan(q.st, sc, name, min,
			    ocss_store_now_ms(), &res, &rec, &err);
			if (r != 0) {
				fprintf(stderr, "ocss quarantine rescan: %s\n",
				    err.msg);
				rc = 2;
				continue;
			}
			changed = 1;
			printf("%s: %s%s%s\n", name, result_name(res),
			    rec.reason && *rec.reason ? ": " : "",
			    rec.reason ? rec.reason : "");
			if (res == OCSS_QUARANTINE_QUARANTINED)
				still = 1;
			if (ocss_qenv_recorded(&q, &rec, (int)res) == -1)
				rc = 2;
		}
		if (changed && ocss_qenv_export(&q) == -1)
			rc = 2;
		if (rc == 0 && still)
			rc = 1;
	}
	goto done;
badargs:
	usage(stderr);
	return 2;
oom:
	fprintf(stderr, "ocss quarantine: out of memory\n");
	rc = 2;
done:
	ocss_store_quarantine_free(&rec);
	ocss_skillscan_free(sc);
	ocss_buf_free(&out);
	ocss_buf_free(&x);
	free(rpath);
	free(apath);
	for (k = 0; k < nnames; k++)
		free(names[k]);
	free(names);
	ocss_qenv_free(&q);
	return rc;
}
