/*
 * Skill scanner output: terminal text, JSON, SARIF 2.1.0.
 */
#include <stdio.h>
#include <string.h>

#include "skillscan_int.h"

#define J(b, s) ocss_buf_json_str((b), (s), strlen(s))

int
ocss_skillscan_format_text(struct ocss_skillscan_report *const *reps,
    size_t n, int colour, struct ocss_buf *b)
{
	static const char *const sevc[] = { "\033[2m", "\033[36m", "\033[33m",
	    "\033[31m", "\033[1;31m" };
	const struct ocss_skillscan_finding	*f;
	size_t					 i, j, cnt;
	int					 rc = 0, score;
	const char				*on, *off, *bold;

	off = colour ? "\033[0m" : "";
	bold = colour ? "\033[1m" : "";
	for (i = 0; i < n; i++) {
		cnt = ocss_skillscan_report_count(reps[i]);
		score = ocss_skillscan_report_score(reps[i]);
		rc |= ocss_buf_printf(b, "%s%s%s: %zu file%s, %zu finding%s, "
		    "trust score %d/100\n", bold,
		    ocss_skillscan_report_name(reps[i]), off,
		    ocss_skillscan_report_nfiles(reps[i]),
		    ocss_skillscan_report_nfiles(reps[i]) == 1 ? "" : "s",
		    cnt, cnt == 1 ? "" : "s", score);
		for (j = 0; j < cnt; j++) {
			f = ocss_skillscan_report_finding(reps[i], j);
			on = colour ? sevc[f->severity] : "";
			rc |= ocss_buf_printf(b, "  %s:%u:%u: %s%s%s [%s] %s",
			    f->file, f->line, f->column, on,
			    ocss_skillscan_severity_name(f->severity), off,
			    f->rule_id, f->description);
			if (*f->detail)
				rc |= ocss_buf_printf(b, " (%s)", f->detail);
			rc |= ocss_buf_printf(b, "\n      %s\n", f->snippet);
		}
	}
	return rc ? -1 : 0;
}

static int
finding_json(struct ocss_buf *b, const struct ocss_skillscan_finding *f)
{
	int rc = 0;

	rc |= ocss_buf_puts(b, "{\"rule\":\"");
	rc |= J(b, f->rule_id);
	rc |= ocss_buf_printf(b, "\",\"category\":\"%s\",\"severity\":\"%s\","
	    "\"file\":\"", ocss_skillscan_category_name(f->category),
	    ocss_skillscan_severity_name(f->severity));
	rc |= J(b, f->file);
	rc |= ocss_buf_printf(b, "\",\"line\":%u,\"column\":%u,\"snippet\":\"",
	    f->line, f->column);
	rc |= J(b, f->snippet);
	rc |= ocss_buf_puts(b, "\",\"detail\":\"");
	rc |= J(b, f->detail);
	rc |= ocss_buf_puts(b, "\",\"description\":\"");
	rc |= J(b, f->description);
	rc |= ocss_buf_puts(b, "\"}");
	return rc;
}

int
ocss_skillscan_format_json(struct ocss_skillscan_report *const *reps,
    size_t n, struct ocss_buf *b)
{
	static const char *const st[] = { "ok", "parse_error", "too_large",
	    "binary", "manifest" };
	const struct ocss_skillscan_file *fl;
	size_t		 i, j;
	int		 rc = 0;

	rc |= ocss_buf_puts(b, "{\"skills\":[");
	for (i = 0; i < n; i++) {
		rc |= ocss_buf_puts(b, i ? ",{\"name\":\"" : "{\"name\":\"");
		rc |= J(b, ocss_skillscan_report_name(reps[i]));
		rc |= ocss_buf_printf(b, "\",\"trust_score\":%d,\"files\":[",
		    ocss_skillscan_report_score(reps[i]));
		for (j = 0; j < ocss_skillscan_report_nfiles(reps[i]); j++) {
			fl = ocss_skillscan_report_file(reps[i], j);
			rc |= ocss_buf_puts(b, j ? ",{\"path\":\"" :
			    "{\"path\":\"");
			rc |= J(b, fl->path);
			rc |= ocss_buf_printf(b, "\",\"status\":\"%s\",\"size\":"
			    "%llu,\"sha256\":\"%s\"}", st[fl->status],
			    (unsigned long long)fl->size, fl->sha256);
		}
		rc |= ocss_buf_puts(b, "],\"findings\":[");
		for (j = 0; j < ocss_skillscan_report_count(reps[i]); j++) {
			if (j)
				rc |= ocss_buf_putc(b, ',');
			rc |= finding_json(b,
			    ocss_skillscan_report_finding(reps[i], j));
		}
		rc |= ocss_buf_puts(b, "]}");
	}
	rc |= ocss_buf_puts(b, "]}\n");
	return rc ? -1 : 0;
}

static const char *
sarif_level(enum ocss_skillscan_severity s)
{
	switch (s) {
	case OCSS_SKILLSCAN_CRITICAL:
	case OCSS_SKILLSCAN_HIGH:
		return "error";
	case OCSS_SKILLSCAN_MEDIUM:
		return "warning";
	default:
		return "note";
	}
}

int
ocss_skillscan_format_sarif(const struct ocss_skillscan *sc,
    struct ocss_skillscan_report *const *reps, size_t n, struct ocss_buf *b)
{
	const struct ocss_skillscan_finding *f;
	size_t		 i, j, k;
	int		 rc = 0, first = 1;
	char		 uri[4096];
	const char	*root;

	rc |= ocss_buf_puts(b, "{\"$schema\":\"https://json.schemastore.org/"
	    "sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":"
	    "{\"driver\":{\"name\":\"ocss-scan\",\"rules\":[");
	for (k = 0; k < sc->nrules; k++) {
		const struct ss_rule *r = &sc->rules[k];

		rc |= ocss_buf_puts(b, k ? ",{\"id\":\"" : "{\"id\":\"");
		rc |= J(b, r->id);
		rc |= ocss_buf_puts(b, "\",\"shortDescription\":{\"text\":\"");
		rc |= J(b, r->description);
		rc |= ocss_buf_printf(b, "\"},\"defaultConfiguration\":{\"level\":"
		    "\"%s\"},\"properties\":{\"category\":\"%s\",\"severity\":"
		    "\"%s\"}}", sarif_level(r->severity),
		    ocss_skillscan_category_name(r->category),
		    ocss_skillscan_severity_name(r->severity));
	}
	rc |= ocss_buf_puts(b, "]}},\"results\":[");
	for (i = 0; i < n; i++)
		for (j = 0; j < ocss_skillscan_report_count(reps[i]); j++) {
			f = ocss_skillscan_report_finding(reps[i], j);
			for (k = 0; k < sc->nrules; k++)
				if (strcmp(sc->rules[k].id, f->rule_id) == 0)
					break;
			rc |= ocss_buf_puts(b, first ? "{" : ",{");
			first = 0;
			rc |= ocss_buf_puts(b, "\"ruleId\":\"");
			rc |= J(b, f->rule_id);
			if (k < sc->nrules)
				rc |= ocss_buf_printf(b, "\",\"ruleIndex\":%zu", k);
			else
				rc |= ocss_buf_putc(b, '"');
			rc |= ocss_buf_printf(b, ",\"level\":\"%s\",\"message\":"
			    "{\"text\":\"", sarif_level(f->severity));
			rc |= J(b, f->description);
			if (*f->detail) {
				rc |= ocss_buf_puts(b, ": ");
				rc |= J(b, f->detail);
			}
			root = ss_report_root(reps[i]);
			snprintf(uri, sizeof(uri), "%s%s%s", root,
			    *root ? "/" : "", f->file);
			rc |= ocss_buf_puts(b, "\"},\"locations\":[{\"physical"
			    "Location\":{\"artifactLocation\":{\"uri\":\"");
			rc |= J(b, uri);
			rc |= ocss_buf_printf(b, "\"},\"region\":{\"startLine\":%u,"
			    "\"startColumn\":%u,\"snippet\":{\"text\":\"",
			    f->line, f->column);
			rc |= J(b, f->snippet);
			rc |= ocss_buf_printf(b, "\"}}}}],\"properties\":{"
			    "\"category\":\"%s\",\"severity\":\"%s\",\"skill\":\"",
			    ocss_skillscan_category_name(f->category),
			    ocss_skillscan_severity_name(f->severity));
			rc |= J(b, ocss_skillscan_report_name(reps[i]));
			rc |= ocss_buf_printf(b, "\",\"trust_score\":%d}}",
			    ocss_skillscan_report_score(reps[i]));
		}
	rc |= ocss_buf_puts(b, "]}]}\n");
	return rc ? -1 : 0;
}
