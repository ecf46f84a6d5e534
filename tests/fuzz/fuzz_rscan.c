/* libFuzzer: arbitrary bytes as an upstream answer: buffered, then as an
 * SSE stream cut into chunks at sizes taken from the input, then as a plain
 * text stream.  Checks: no crash or leak, findings ordered sanely, the
 * stream and text modes never fail on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rscan.h"
#include "rules.h"

#ifndef OCSS_TEST_CONFDIR
#define OCSS_TEST_CONFDIR "conf"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ocss_rules *rs;
static struct ocss_rules_scratch *sc;

static void
stream(const uint8_t *data, size_t len, enum ocss_rscan_mode mode)
{
	struct ocss_rscan *s;
	struct ocss_err	 err;
	struct ocss_buf	 b = OCSS_BUF_INIT;
	const struct ocss_rscan_report *r;
	size_t		 off = 0, n, i;

	if ((s = ocss_rscan_new(rs, sc, mode, 256)) == NULL)
		abort();
	while (off < len) {
		n = 1 + data[off] % 61;
		if (n > len - off)
			n = len - off;
		if (ocss_rscan_feed(s, (const char *)data + off, n, &err) < 0)
			abort();
		off += n;
	}
	if (ocss_rscan_finish(s, &err) < 0)
		abort();
	r = ocss_rscan_findings(s);
	for (i = 0; i < r->n; i++)
		if (r->v[i].start > r->v[i].end ||
		    ocss_rscan_announce(&r->v[i], &b) == -1 ||
		    ocss_rscan_finding_json(&r->v[i], &b) == -1)
			abort();
	if (ocss_rscan_should_cut(s) && ocss_rscan_cut_event(s, &b) == -1)
		abort();
	ocss_buf_free(&b);
	ocss_rscan_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_rscan_report rep = OCSS_RSCAN_REPORT_INIT;
	struct ocss_buf	 h = OCSS_BUF_INIT;
	struct ocss_err	 err;

	if (rs == NULL) {
		if ((rs = ocss_rules_load(OCSS_TEST_CONFDIR
		    "/indirect-injection-rules.json", &err)) == NULL ||
		    (sc = ocss_rules_scratch_new(rs)) == NULL)
			abort();
	}
	if (ocss_rscan_buffer(rs, sc, (const char *)data, len, &rep, &err) == 0 &&
	    ocss_rscan_header(rs, &rep, &h) == -1)
		abort();
	ocss_rscan_report_free(&rep);
	ocss_buf_free(&h);
	stream(data, len, OCSS_RSCAN_SSE);
	stream(data, len, OCSS_RSCAN_TEXT);
	return 0;
}
