/*
 * bench-sanitize RULES.json [TEXT-FILE] [MB]
 *
 * Throughput of the normaliser, the rules engine and the whole sanitizer
 * (a chat request body of ~16 KiB messages) on ordinary chat text: the
 * file given, or built-in English prose.  Prints MB/s per stage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct ocss_rules	*rs;
	struct ocss_rules_scratch *sc;
	struct ocss_norm	*n;
	struct ocss_findings	 f = OCSS_FINDINGS_INIT;
	struct ocss_sanitize_report rep;
	struct ocss_buf		 text = OCSS_BUF_INIT, body = OCSS_BUF_INIT;
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
	if (argc > 2 && strcmp(argv[2], "-") != 0) {
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

	t0 = now();
	for (done = 0, off = 0; done < total; done += chunk) {
		off = (off + chunk) % (text.len - chunk);
		ocss_norm_run(n, text.data + off, chunk, 0);
	}
	t = now() - t0;
	printf("normalise:  %7.1f MB/s\n", (double)done / 1e6 / t);

	t0 = now();
	for (done = 0, off = 0; done < total; done += chunk) {
		off = (off + chunk) % (text.len - chunk);
		ocss_findings_reset(&f);
		ocss_rules_scan(rs, sc, text.data + off, chunk, 0, &f, &err);
	}
	t = now() - t0;
	printf("rules scan: %7.1f MB/s (%zu rules, normalisation included)\n",
	    (double)done / 1e6 / t, ocss_rules_count(rs));

	t0 = now();
	for (done = 0, off = 0; done < total; done += body.len) {
		off = (off + chunk) % (text.len - chunk);
		ocss_buf_reset(&body);
		ocss_buf_puts(&body, "{\"model\":\"m\",\"messages\":[{\"role\":"
		    "\"system\",\"content\":\"You are helpful.\"},{\"role\":"
		    "\"user\",\"content\":\"");
		ocss_buf_json_str(&body, text.data + off, chunk);
		ocss_buf_puts(&body, "\"}]}");
		ocss_sanitize_body(rs, sc, body.data, body.len, NULL, &rep);
	}
	t = now() - t0;
	printf("sanitizer:  %7.1f MB/s of request bodies (status of last: %s)\n",
	    (double)done / 1e6 / t, ocss_sanitize_status_name(rep.status));

	ocss_sanitize_report_free(&rep);
	ocss_findings_free(&f);
	ocss_buf_free(&text);
	ocss_buf_free(&body);
	ocss_norm_free(n);
	ocss_rules_scratch_free(sc);
	ocss_rules_free(rs);
	return 0;
}
