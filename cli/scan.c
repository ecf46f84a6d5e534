/*
 * ocss scan: static analysis of OpenClaw skills before they run.
 * Exit status: 0 nothing found, 1 findings, 2 error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "quarantine.h"
#include "skillscan.h"
#include "store.h"

#ifndef OCSS_SYSCONFDIR
#define OCSS_SYSCONFDIR "/etc/ocss"
#endif

static void
scan_usage(FILE *f)
{
	fprintf(f,
"usage: ocss scan [--format text|json|sarif] [--rules FILE]\n"
"                 [--allowlist FILE] [--include-node-modules]\n"
"                 [--max-file-size BYTES]\n"
"                 [--quarantine [--min-severity SEV] [--state-dir DIR]\n"
"                  [--export FILE]] PATH...\n"
"\n"
"Scan OpenClaw skills (JavaScript, TypeScript, TSX: .js .mjs .cjs .jsx\n"
".ts .mts .cts .tsx) for dynamic code execution, child processes, network\n"
"access outside the egress allowlist, file writes and deletes, and\n"
"obfuscation.  Each PATH is one skill: a directory (scanned recursively,\n"
"node_modules skipped unless asked; package.json and SKILL.md read as the\n"
"manifest) or a single file.\n"
"\n"
"  --format F              text (default; colour on a terminal), json, sarif\n"
"  --rules FILE            rules (default $OCSS_CONF_DIR/scanner-rules.json)\n"
"  --allowlist FILE        egress domains (default\n"
"                          $OCSS_CONF_DIR/egress-allowlist.conf)\n"
"  --include-node-modules  also scan node_modules directories\n"
"  --max-file-size BYTES   skip (and report) larger source files\n"
"  --quarantine            record each skill in the quarantine store: one\n"
"                          with a finding at or above --min-severity\n"
"                          (default medium) is quarantined (blocked), one\n"
"                          quarantined before and now clean is released;\n"
"                          audited, and the list of quarantined names is\n"
"                          exported (see ocss quarantine --help)\n"
"  --min-severity SEV      info, low, medium (default), high, critical\n"
"  --state-dir DIR         the store (default $OCSS_STATE_DIR)\n"
"  --export FILE           the exported list (default\n"
"                          $OCSS_CONF_DIR/" OCSS_QUARANTINE_LIST ")\n"
"\n"
"OCSS_CONF_DIR defaults to " OCSS_SYSCONFDIR ".\n"
"Exit status: 0 no findings, 1 findings, 2 error.\n");
}

static char *
conf_path(const char *name)
{
	const char	*dir = getenv("OCSS_CONF_DIR");
	char		*p;

	if (dir == NULL || *dir == '\0')
		dir = OCSS_SYSCONFDIR;
	if (asprintf(&p, "%s/%s", dir, name) == -1)
		return NULL;
	return p;
}

int
ocss_cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "rules", required_argument, NULL, 'r' },
		{ "allowlist", required_argument, NULL, 'a' },
		{ "include-node-modules", no_argument, NULL, 'n' },
		{ "max-file-size", required_argument, NULL, 'm' },
		{ "quarantine", no_argument, NULL, 'Q' },
		{ "min-severity", required_argument, NULL, 'M' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "export", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_skillscan		 *sc = NULL;
	struct ocss_skillscan_report	**reps = NULL;
	struct ocss_buf			  out = OCSS_BUF_INIT;
	struct ocss_err			  err;
	char				 *rules = NULL, *allow = NULL, *end;
	const char			 *format = "text";
	int				  ch, i, nrep = 0, rc = 2, nm = 0;
	long long			  maxf = -1;
	size_t				  total = 0;
	struct ocss_qenv		  qe;
	struct ocss_quarantine_rec	  qr;
	enum ocss_quarantine_result	  qres;
	enum ocss_skillscan_severity	  qmin = OCSS_SKILLSCAN_MEDIUM;
	const char			 *qstate = NULL, *qexport = NULL;
	int				  quar = 0;

	memset(&qe, 0, sizeof(qe));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:r:a:nm:h", opts, NULL)) != -1)
		switch (ch) {
		case 'Q':
			quar = 1;
			break;
		case 'M':
			if (ocss_quarantine_severity(optarg, &qmin) == -1) {
				fprintf(stderr, "ocss scan: --min-severity is "
				    "info, low, medium, high or critical\n");
				goto done;
			}
			break;
		case 'S':
			qstate = optarg;
			break;
		case 'E':
			qexport = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'r':
			free(rules);
			rules = strdup(optarg);
			break;
		case 'a':
			free(allow);
			allow = strdup(optarg);
			break;
		case 'n':
			nm = 1;
			break;
		case 'm':
			maxf = strtoll(optarg, &end, 10);
			if (*end != '\0' || maxf < 1) {
				fprintf(stderr, "ocss scan: --max-file-size: "
				    "expected a positive number of bytes\n");
				goto done;
			}
			break;
		case 'h':
			scan_usage(stdout);
			rc = 0;
			goto done;
		default:
			scan_usage(stderr);
			goto done;
		}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "sarif") != 0) {
		fprintf(stderr, "ocss scan: --format must be text, json or "
		    "sarif\n");
		goto done;
	}
	if (optind >= argc) {
		scan_usage(stderr);
		goto done;
	}
	if ((rules == NULL && (rules = conf_path("scanner-rules.json")) == NULL)
	    || (allow == NULL &&
	    (allow = conf_path("egress-allowlist.conf")) == NULL)) {
		fprintf(stderr, "ocss scan: out of memory\n");
		goto done;
	}
	if (ocss_skillscan_new(&sc, rules, allow, &err) == -1) {
		fprintf(stderr, "ocss scan: %s\n", err.msg);
		goto done;
	}
	if (quar && (ocss_qenv_init(&qe, "ocss scan", qstate, NULL, qexport,
	    NULL) == -1 || ocss_qenv_open(&qe) == -1))
		goto done;
	ocss_skillscan_set_node_modules(sc, nm);
	if (maxf > 0)
		ocss_skillscan_set_max_file(sc, (size_t)maxf);
	if ((reps = calloc((size_t)(argc - optind), sizeof(*reps))) == NULL)
		goto done;
	for (i = optind; i < argc; i++) {
		if ((reps[nrep] = ocss_skillscan_report_new(argv[i])) == NULL) {
			fprintf(stderr, "ocss scan: out of memory\n");
			goto done;
		}
		nrep++;
		if (ocss_skillscan_path(sc, argv[i], reps[nrep - 1], &err)
		    == -1) {
			fprintf(stderr, "ocss scan: %s\n", err.msg);
			goto done;
		}
		total += ocss_skillscan_report_count(reps[nrep - 1]);
		if (!quar)
			continue;
		if (ocss_quarantine_record(qe.st, reps[nrep - 1], argv[i],
		    NULL, qmin, ocss_store_now_ms(), &qres, &qr, &err) == -1) {
			fprintf(stderr, "ocss scan: %s\n", err.msg);
			goto done;
		}
		if (qres != OCSS_QUARANTINE_CLEAN)
			fprintf(stderr, "ocss scan: %s: %s (%s)\n", qr.name,
			    qres == OCSS_QUARANTINE_QUARANTINED ?
			    "quarantined" : qres == OCSS_QUARANTINE_RELEASED ?
			    "released" : "still overridden", qr.reason);
		ch = ocss_qenv_recorded(&qe, &qr, (int)qres);
		ocss_store_quarantine_free(&qr);
		if (ch == -1)
			goto done;
	}
	if (quar && ocss_qenv_export(&qe) == -1)
		goto done;
	if (strcmp(format, "json") == 0)
		i = ocss_skillscan_format_json(reps, (size_t)nrep, &out);
	else if (strcmp(format, "sarif") == 0)
		i = ocss_skillscan_format_sarif(sc, reps, (size_t)nrep, &out);
	else
		i = ocss_skillscan_format_text(reps, (size_t)nrep,
		    isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL, &out);
	if (i == -1 || fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "ocss scan: cannot write the report\n");
		goto done;
	}
	rc = total > 0 ? 1 : 0;
done:
	for (i = 0; i < nrep; i++)
		ocss_skillscan_report_free(reps[i]);
	free(reps);
	ocss_buf_free(&out);
	ocss_skillscan_free(sc);
	free(rules);
	free(allow);
	ocss_qenv_free(&qe);
	return rc;
}
