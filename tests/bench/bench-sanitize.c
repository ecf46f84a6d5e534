/*
 * bench-sanitize RULES.json [TEXT-FILE|CORPUS.jsonl] [MB]
 *
 * Throughput of the normaliser, the rules engine and the whole sanitizer
 * (a chat request body of ~16 KiB messages) on ordinary chat text: the
 * file given, or built-in English prose.  A .jsonl corpus (lines of
 * {"text": ..., "label": ...}) contributes its benign texts, and is also
 * measured one chat request body per text (the realistic shape: many short
 * messages).  Prints MB/s per stage, per core: the time is this thread's
 * CPU time, so other load on the machine does not skew it.
 *
 * BENCH_STAGE=normalise|scan|bodies|chat runs that stage alone (for perf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "normalize.h"
#include "rules.h"
#include "sanitize.h"

static const char prose[] =
    "Could you help me plan a three-day trip to Lisbon? I'd like to see the "
    "old town, eat good seafood and maybe take a day trip to Sintra. My "
    "budget is around 600 euros, not counting flights. Also, what's the best "
    "way to get from the airport to the city centre late at night? Please "
    "write the answer as a short itinerary with times, and add a list of "
    "three restaurants (with prices) near Alfama. Thanks a lot!\n";

/* Benign texts of a corpus: appended to text (blank line between), and
 * each wrapped as a chat request body into bodies (NUL-separated). */
static int
load_jsonl(const char *path, struct ocss_buf *text, struct ocss_buf *bodies)
{
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	json_object	*o, *t, *l;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while (getline(&line, &cap, fp) > 0) {
		if ((o = json_tokener_parse(line)) == NULL)
			continue;
		if (json_object_object_get_ex(o, "text", &t) &&
		    json_object_object_get_ex(o, "label", &l) &&
		    strcmp(json_object_get_string(l), "benign") == 0) {
			ocss_buf_append(text, json_object_get_string(t),
			    (size_t)json_object_get_string_len(t));
			ocss_buf_puts(text, "\n\n");
			ocss_buf_puts(bodies, "{\"model\":\"m\",\"messages\":"
			    "[{\"role\":\"system\",\"content\":\"You are "
			    "helpful.\"},{\"role\":\"user\",\"content\":\"");
			ocss_buf_json_str(bodies, json_object_get_string(t),
			    (size_t)json_object_get_string_len(t));
			ocss_buf_puts(bodies, "\"}]}");
			ocss_buf_putc(bodies, '\0');
		}
		json_object_put(o);
	}
	free(line);
	fclose(fp);
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the stage named is to run (BENCH_STAGE unset: all of them). */
static int
stage(const char *name)
{
	const char *only = getenv("BENCH_STAGE");

	return only == NULL || *only == '\0' || strcmp(only, name) == 0;
}

int
main(int argc, char *argv[])
{
	struct ocss_rules	*rs;
	struct ocss_rules_scratch *sc;
	struct ocss_norm	*n;
	struct ocss_findings	 f = OCSS_FINDINGS_INIT;
	struct ocss_sanitize_report rep;
	struct ocss_buf		 text = OCSS_BUF_INIT, body = OCSS_BUF_INIT,
				 bodies = OCSS_BUF_INIT;
	const char		*p, *e;
	struct ocss_err		 err;
	size_t			 total, done, chunk = 16384, off, k;
	double			 t0, t;
	FILE			*fp;
	char			 buf[65536];

	if (argc < 2) {
		fprintf(stderr, "usage: bench-sanitize RULES.json [TEXT] [MB]\n");
		return 2;
	}
	if ((rs = ocss_rules_load(argv[1], &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (argc > 2 && strlen(argv[2]) > 6 &&
	    strcmp(argv[2] + strlen(argv[2]) - 6, ".jsonl") == 0) {
		if (load_jsonl(argv[2], &text, &bodies) == -1)
			return 1;
	} else if (argc > 2 && strcmp(argv[2], "-") != 0) {
		if ((fp = fopen(argv[2], "r")) == NULL) {
			perror(argv[2]);
			return 1;
		}
		while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
			ocss_buf_append(&text, buf, k);
		fclose(fp);
	}
	while (text.len < 4 * chunk)
		ocss_buf_append(&text, prose, sizeof(prose) - 1);
	total = (size_t)(argc > 3 ? atof(argv[3]) : 200) * 1000000;
	sc = ocss_rules_scratch_new(rs);
	n = ocss_norm_new();
	ocss_sanitize_report_init(&rep);

	if (stage("normalise")) {
		t0 = now();
		for (done = 0, off = 0; done < total; done += chunk) {
			off = (off + chunk) % (text.len - chunk);
			ocss_norm_run(n, text.data + off, chunk, 0);
		}
		t = now() - t0;
		printf("normalise:  %7.1f MB/s\n", (double)done / 1e6 / t);
	}

	if (stage("scan")) {
		t0 = now();
		for (done = 0, off = 0; done < total; done += chunk) {
			off = (off + chunk) % (text.len - chunk);
			ocss_findings_reset(&f);
			ocss_rules_scan(rs, sc, text.data + off, chunk, 0, &f,
			    &err);
		}
		t = now() - t0;
		printf("rules scan: %7.1f MB/s (%zu rules, normalisation "
		    "included)\n", (double)done / 1e6 / t,
		    ocss_rules_count(rs));
	}

	if (stage("chat")) {
		t0 = now();
		for (done = 0, off = 0; done < total; done += body.len) {
			off = (off + chunk) % (text.len - chunk);
			ocss_buf_reset(&body);
			ocss_buf_puts(&body, "{\"model\":\"m\",\"messages\":"
			    "[{\"role\":\"system\",\"content\":\"You are "
			    "helpful.\"},{\"role\":\"user\",\"content\":\"");
			ocss_buf_json_str(&body, text.data + off, chunk);
			ocss_buf_puts(&body, "\"}]}");
			ocss_sanitize_body(rs, sc, body.data, body.len, NULL,
			    &rep);
		}
		t = now() - t0;
		printf("sanitizer:  %7.1f MB/s of request bodies (status of "
		    "last: %s)\n", (double)done / 1e6 / t,
		    ocss_sanitize_status_name(rep.status));
	}

	if (bodies.len > 0 && stage("bodies")) {
		t0 = now();
		for (done = 0; done < total; ) {
			for (p = bodies.data, e = p + bodies.len; p < e;
			    p += k + 1) {
				k = strlen(p);
				ocss_sanitize_body(rs, sc, p, k, NULL, &rep);
				done += k;
			}
		}
		t = now() - t0;
		printf("sanitizer:  %7.1f MB/s of request bodies, one per "
		    "corpus text\n", (double)done / 1e6 / t);
	}

	ocss_sanitize_report_free(&rep);
	ocss_buf_free(&bodies);
	ocss_findings_free(&f);
	ocss_buf_free(&text);
	ocss_buf_free(&body);
	ocss_norm_free(n);
	ocss_rules_scratch_free(sc);
	ocss_rules_free(rs);
	return 0;
}
