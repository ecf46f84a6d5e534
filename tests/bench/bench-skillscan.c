/*
 * bench-skillscan: scan throughput against the bare tree-sitter parse of
 * the same files, in one run.
 *
 *   bench-skillscan RULES ALLOWLIST [-n ROUNDS] FILE...
 *
 * Each round parses every file (bare: ts_parser_parse_string and
 * ts_tree_delete, nothing else) and then scans it (ocss_skillscan_source:
 * parse + walk + queries + report).  Prints MB/s for both, their ratio and
 * a line "bench-skillscan: ratio R" (the target is R <= 1.5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tree_sitter/api.h>

#include "skillscan.h"

const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*b = NULL;
	long	 n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n + 1)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		if (f)
			fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

int
main(int argc, char *argv[])
{
	struct ocss_skillscan		*sc;
	struct ocss_skillscan_report	*r;
	struct ocss_err			 err;
	TSParser			*p;
	TSTree				*t;
	char				**src;
	size_t				*len, total = 0, nfind = 0;
	int				*lang, i, k, nf = 0, rounds = 5, first = 3;
	double				 t0, tparse = 0, tscan = 0, mb;
	const TSLanguage		*langs[4];

	if (argc > 4 && strcmp(argv[3], "-n") == 0) {
		rounds = atoi(argv[4]);
		first = 5;
	}
	if (argc <= first || rounds < 1) {
		fprintf(stderr, "usage: bench-skillscan RULES ALLOWLIST "
		    "[-n ROUNDS] FILE...\n");
		return 2;
	}
	if (ocss_skillscan_new(&sc, argv[1], argv[2], &err) == -1) {
		fprintf(stderr, "bench-skillscan: %s\n", err.msg);
		return 2;
	}
	ocss_skillscan_set_max_file(sc, (size_t)1 << 30);
	langs[OCSS_SKILLSCAN_LANG_JS] = tree_sitter_javascript();
	langs[OCSS_SKILLSCAN_LANG_TS] = tree_sitter_typescript();
	langs[OCSS_SKILLSCAN_LANG_TSX] = tree_sitter_tsx();
	src = calloc((size_t)argc, sizeof(*src));
	len = calloc((size_t)argc, sizeof(*len));
	lang = calloc((size_t)argc, sizeof(*lang));
	p = ts_parser_new();
	if (src == NULL || len == NULL || lang == NULL || p == NULL)
		return 2;
	for (i = first; i < argc; i++) {
		lang[nf] = (int)ocss_skillscan_lang_for(argv[i]);
		if (lang[nf] == OCSS_SKILLSCAN_LANG_NONE)
			continue;
		if ((src[nf] = slurp(argv[i], &len[nf])) == NULL) {
			fprintf(stderr, "bench-skillscan: cannot read %s\n",
			    argv[i]);
			return 2;
		}
		total += len[nf];
		nf++;
	}
	for (k = 0; k < rounds; k++) {
		t0 = now();
		for (i = 0; i < nf; i++) {
			ts_parser_set_language(p, langs[lang[i]]);
			t = ts_parser_parse_string(p, NULL, src[i],
			    (uint32_t)len[i]);
			ts_tree_delete(t);
		}
		tparse += now() - t0;
		t0 = now();
		for (i = 0; i < nf; i++) {
			r = ocss_skillscan_report_new("bench");
			if (r == NULL || ocss_skillscan_source(sc, "f",
			    (enum ocss_skillscan_lang)lang[i], src[i], len[i], r,
			    &err) == -1) {
				fprintf(stderr, "bench-skillscan: %s\n", err.msg);
				return 2;
			}
			if (k == 0)
				nfind += ocss_skillscan_report_count(r);
			ocss_skillscan_report_free(r);
		}
		tscan += now() - t0;
	}
	mb = (double)total * rounds / 1e6;
	printf("files %d, %.2f MB, %d rounds, %zu findings per round\n", nf,
	    (double)total / 1e6, rounds, nfind);
	printf("bare parse: %.3f s, %.1f MB/s\n", tparse, mb / tparse);
	printf("full scan:  %.3f s, %.1f MB/s\n", tscan, mb / tscan);
	printf("bench-skillscan: ratio %.2f (scan time / parse time; target "
	    "<= 1.5)\n", tscan / tparse);
	for (i = 0; i < nf; i++)
		free(src[i]);
	free(src);
	free(len);
	free(lang);
	ts_parser_delete(p);
	ocss_skillscan_free(sc);
	return 0;
}
