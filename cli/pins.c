/*
 * ocss pins add|verify|list|remove: SHA-256 per file of a skill, kept in
 * conf/skill-pins.json (lib/pins.h).  A failed verification quarantines the
 * skill again (dropping an override) until 'ocss quarantine rescan'.
 * Exit status: 0 done / all pins hold, 1 a pin failed, 2 usage or error.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "commands.h"
#include "pins.h"
#include "quarantine.h"
#include "store.h"

#define J(b, s) ocss_buf_json_str((b), (s), strlen(s))

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ocss pins add PATH [--name NAME] [--user NAME]\n"
"       ocss pins verify [NAME...]\n"
"       ocss pins list [--format text|json]\n"
"       ocss pins remove NAME\n"
"\n"
"Pin a skill: the SHA-256 of each of its files (every regular file below\n"
"PATH except .git and node_modules; links are pinned, not followed).\n"
"\n"
"  add     pin (or re-pin) the skill at PATH.  NAME defaults to the\n"
"          skill's name on record in the quarantine store for PATH, else\n"
"          its SKILL.md or package.json name, else the directory name.\n"
"  verify  hash the pinned skills (all, or the NAMEs) again; on a changed,\n"
"          added or missing file the skill is quarantined again (an\n"
"          override is dropped), audited, and must be rescanned with\n"
"          'ocss quarantine rescan NAME', then re-pinned with 'add'.\n"
"  list    the pinned skills\n"
"  remove  forget a pin\n"
"\n"
"Options common to all:\n"
"  --pins FILE       default CONF_DIR/skill-pins.json\n"
"  --state-dir DIR   the store (default $OCSS_STATE_DIR)\n"
"  --conf-dir DIR    default $OCSS_CONF_DIR\n"
"  --export FILE     the quarantine list (default\n"
"                    CONF_DIR/" OCSS_QUARANTINE_LIST ")\n"
"Exit status: 0 done or every pin holds, 1 a pin failed, 2 usage or\n"
"error.\n");
}

/* The skill's own name, as the scanner reads it; NULL when none. */
static char *
manifest_name(const char *dir)
{
	char		 path[PATH_MAX + 16], line[512], *p, *e;
	json_object	*o, *v;
	FILE		*f;
	char		*name = NULL;
	int		 first = 1;

	snprintf(path, sizeof(path), "%s/SKILL.md", dir);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (first) {
				if (strncmp(line, "---", 3) != 0)
					break;
				first = 0;
				continue;
			}
			if (strncmp(line, "---", 3) == 0)
				break;
			if (strncmp(line, "name:", 5) != 0)
				continue;
			for (p = line + 5; *p == ' ' || *p == '\t' ||
			    *p == '"' || *p == '\''; p++)
				;
			for (e = p; *e && *e != '\n' && *e != '\r' &&
			    *e != '"' && *e != '\''; e++)
				;
			if (e > p)
				name = strndup(p, (size_t)(e - p));
			break;
		}
		fclose(f);
		if (name)
			return name;
	}
	snprintf(path, sizeof(path), "%s/package.json", dir);
	if ((o = json_object_from_file(path)) != NULL) {
		if (json_object_object_get_ex(o, "name", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    *json_object_get_string(v))
			name = strdup(json_object_get_string(v));
		json_object_put(o);
	}
	return name;
}

static char *
skill_name(struct ocss_qenv *q, const char *path)
{
	struct ocss_quarantine_rec	 rec;
	struct ocss_err			 err;
	char				 abs[PATH_MAX], *n;
	const char			*base;

	if (realpath(path, abs) == NULL)
		return NULL;
	if (ocss_store_quarantine_by_path(q->st, abs, &rec, &err) == 0) {
		n = rec.name;
		rec.name = NULL;
		ocss_store_quarantine_free(&rec);
		return n;
	}
	if ((n = manifest_name(abs)) != NULL)
		return n;
	base = strrchr(abs, '/');
	base = base && base[1] ? base + 1 : abs;
	return strdup(base);
}

/* A pin failed: quarantine again, audit, say so.  0 or -1. */
static int
pin_failed(struct ocss_qenv *q, const struct ocss_pins *ps, const char *name,
    const struct ocss_pins_result *r)
{
	struct ocss_quarantine_rec	 rec;
	struct ocss_buf			 why = OCSS_BUF_INIT, x = OCSS_BUF_INIT;
	struct ocss_err			 err;
	long				 at = ocss_pins_find(ps, name);
	int64_t				 now = ocss_store_now_ms();
	size_t				 i;
	int				 rc = -1, st;

	if (ocss_buf_printf(&why, "pin failed: %zu changed, %zu added, %zu "
	    "missing file(s); rescan required", r->nchanged, r->nadded,
	    r->nmissing) == -1)
		goto oom;
#define LIST(key, v, n) do { \
	if (ocss_buf_printf(&x, "%s\"" key "\":[", x.len ? "," : "")) \
		goto oom; \
	for (i = 0; i < (n); i++) \
		if (ocss_buf_puts(&x, i ? ",\"" : "\"") || J(&x, (v)[i]) || \
		    ocss_buf_putc(&x, '"')) \
			goto oom; \
	if (ocss_buf_putc(&x, ']')) \
		goto oom; \
} while (0)
	LIST("changed", r->changed, r->nchanged);
	LIST("added", r->added, r->nadded);
	LIST("missing", r->missing, r->nmissing);
#undef LIST
	if ((st = ocss_store_quarantine_invalidate(q->st, name, why.data, now,
	    &err)) == -1) {
		fprintf(stderr, "%s: %s\n", q->prog, err.msg);
		goto done;
	}
	if (st == 1) {
		/* Not on record (it was clean): block it until rescanned. */
		memset(&rec, 0, sizeof(rec));
		rec.name = (char *)name;
		rec.path = (char *)ocss_pins_path(ps, (size_t)at);
		rec.status = (char *)"quarantined";
		rec.reason = why.data;
		rec.trust_score = -1;
		rec.needs_rescan = 1;
		rec.quarantined_at = now;
		if (ocss_store_quarantine_put(q->st, &rec, &err) == -1) {
			fprintf(stderr, "%s: %s\n", q->prog, err.msg);
			goto done;
		}
	}
	rc = ocss_qenv_audit(q, "skill_pin_failed", "block", name, why.data,
	    x.data);
	goto done;
oom:
	fprintf(stderr, "%s: out of memory\n", q->prog);
done:
	ocss_buf_free(&why);
	ocss_buf_free(&x);
	return rc;
}

static int
verify_one(struct ocss_qenv *q, const struct ocss_pins *ps, const char *name,
    int *failed)
{
	struct ocss_pins_result	 r;
	struct ocss_err		 err;
	size_t			 i;
	int			 rc;

	if ((rc = ocss_pins_verify(ps, name, &r, &err)) == -1) {
		fprintf(stderr, "ocss pins: %s\n", err.msg);
		ocss_pins_result_free(&r);
		return -1;
	}
	if (rc == 0) {
		printf("%s: ok (%zu files)\n", name,
		    ocss_pins_nfiles(ps, (size_t)ocss_pins_find(ps, name)));
		ocss_pins_result_free(&r);
		return 0;
	}
	printf("%s: FAILED\n", name);
	for (i = 0; i < r.nchanged; i++)
		printf("  changed: %s\n", r.changed[i]);
	for (i = 0; i < r.nadded; i++)
		printf("  added:   %s\n", r.added[i]);
	for (i = 0; i < r.nmissing; i++)
		printf("  missing: %s\n", r.missing[i]);
	*failed = 1;
	rc = pin_failed(q, ps, name, &r);
	ocss_pins_result_free(&r);
	if (rc == 0)
		printf("  quarantined until 'ocss quarantine rescan %s'; "
		    "re-pin with 'ocss pins add' once reviewed\n", name);
	return rc;
}

int
ocss_cmd_pins(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "pins", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "conf-dir", required_argument, NULL, 'C' },
		{ "export", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_qenv	 q;
	struct ocss_err		 err;
	struct ocss_pins	*ps = NULL;
	struct ocss_buf		 out = OCSS_BUF_INIT;
	const char	*name = NULL, *user = NULL, *fmt = "text", *pins = NULL;
	const char	*sdir = NULL, *cdir = NULL, *exp = NULL, *verb;
	char		*dname = NULL;
	size_t		 i;
	int		 c, rc = 2, failed = 0, bad = 0;

	memset(&q, 0, sizeof(q));
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
		case 'n': name = optarg; break;
		case 'u': user = optarg; break;
		case 'f': fmt = optarg; break;
		case 'p': pins = optarg; break;
		case 'S': sdir = optarg; break;
		case 'C': cdir = optarg; break;
		case 'E': exp = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ocss pins: --format is text or json\n");
		return 2;
	}
	if ((!strcmp(verb, "add") || !strcmp(verb, "remove")) ?
	    optind + 1 != argc : !strcmp(verb, "list") ? optind != argc :
	    strcmp(verb, "verify") != 0) {
		if (strcmp(verb, "add") && strcmp(verb, "remove") &&
		    strcmp(verb, "list") && strcmp(verb, "verify"))
			fprintf(stderr, "ocss pins: unknown command '%s'\n",
			    verb);
		usage(stderr);
		return 2;
	}
	if (ocss_qenv_init(&q, "ocss pins", sdir, cdir, exp, pins) == -1)
		return 2;
	if ((ps = ocss_pins_load(q.pins_path, &err)) == NULL) {
		fprintf(stderr, "ocss pins: %s\n", err.msg);
		goto done;
	}
	if (!strcmp(verb, "list")) {
		if (fmt[0] == 'j') {
			ocss_buf_putc(&out, '[');
			for (i = 0; i < ocss_pins_count(ps); i++) {
				ocss_buf_puts(&out, i ? ",\n  {\"name\":\"" :
				    "\n  {\"name\":\"");
				J(&out, ocss_pins_name(ps, i));
				ocss_buf_puts(&out, "\",\"path\":\"");
				J(&out, ocss_pins_path(ps, i) ?
				    ocss_pins_path(ps, i) : "");
				ocss_buf_printf(&out, "\",\"files\":%zu,"
				    "\"sha256\":\"%s\",\"pinned_at\":\"",
				    ocss_pins_nfiles(ps, i),
				    ocss_pins_sha256(ps, i));
				J(&out, ocss_pins_pinned_at(ps, i) ?
				    ocss_pins_pinned_at(ps, i) : "");
				ocss_buf_puts(&out, "\",\"pinned_by\":\"");
				J(&out, ocss_pins_pinned_by(ps, i) ?
				    ocss_pins_pinned_by(ps, i) : "");
				ocss_buf_puts(&out, "\"}");
			}
			if (ocss_buf_puts(&out, i ? "\n]\n" : "]\n") == -1) {
				fprintf(stderr, "ocss pins: out of memory\n");
				goto done;
			}
			fwrite(out.data, 1, out.len, stdout);
		} else if (ocss_pins_count(ps) == 0)
			printf("no pins in %s\n", q.pins_path);
		else
			for (i = 0; i < ocss_pins_count(ps); i++)
				printf("%-24s %4zu files  %-20s  %-12s  %s\n",
				    ocss_pins_name(ps, i),
				    ocss_pins_nfiles(ps, i),
				    ocss_pins_pinned_at(ps, i) ?
				    ocss_pins_pinned_at(ps, i) : "",
				    ocss_pins_pinned_by(ps, i) ?
				    ocss_pins_pinned_by(ps, i) : "",
				    ocss_pins_path(ps, i) ?
				    ocss_pins_path(ps, i) : "");
		rc = 0;
	} else if (!strcmp(verb, "remove")) {
		if (ocss_pins_remove(ps, argv[optind]) == 1) {
			fprintf(stderr, "ocss pins: no pin for '%s' (see "
			    "'ocss pins list')\n", argv[optind]);
			goto done;
		}
		if (ocss_pins_save(ps, q.pins_path, &err) == -1) {
			fprintf(stderr, "ocss pins: %s\n", err.msg);
			goto done;
		}
		printf("%s: pin removed\n", argv[optind]);
		rc = 0;
	} else if (!strcmp(verb, "add")) {
		if (access(argv[optind], F_OK) == -1) {
			fprintf(stderr, "ocss pins: %s: no such file or "
			    "directory\n", argv[optind]);
			goto done;
		}
		if (name == NULL) {
			if (ocss_qenv_open(&q) == -1)
				goto done;
			if ((dname = skill_name(&q, argv[optind])) == NULL) {
				fprintf(stderr, "ocss pins: no name for %s: "
				    "give --name NAME\n", argv[optind]);
				goto done;
			}
			name = dname;
		}
		if (user == NULL)
			user = getenv("USER");
		if (ocss_pins_add(ps, name, argv[optind], user,
		    ocss_store_now_ms(), &err) == -1 ||
		    ocss_pins_save(ps, q.pins_path, &err) == -1) {
			fprintf(stderr, "ocss pins: %s\n", err.msg);
			goto done;
		}
		printf("%s: pinned %zu files in %s\n", name,
		    ocss_pins_nfiles(ps, (size_t)ocss_pins_find(ps, name)),
		    q.pins_path);
		rc = 0;
	} else {	/* verify */
		if (ocss_qenv_open(&q) == -1)
			goto done;
		if (optind == argc && ocss_pins_count(ps) == 0) {
			printf("no pins in %s\n", q.pins_path);
			rc = 0;
			goto done;
		}
		if (optind == argc) {
			for (i = 0; i < ocss_pins_count(ps); i++)
				if (verify_one(&q, ps, ocss_pins_name(ps, i),
				    &failed) == -1)
					bad = 1;
		} else
			for (c = optind; c < argc; c++)
				if (verify_one(&q, ps, argv[c], &failed) == -1)
					bad = 1;
		if (failed && ocss_qenv_export(&q) == -1)
			bad = 1;
		rc = bad ? 2 : failed ? 1 : 0;
	}
done:
	free(dname);
	ocss_buf_free(&out);
	ocss_pins_free(ps);
	ocss_qenv_free(&q);
	return rc;
}
