/* libFuzzer: arbitrary bytes as a request path through canonicalisation
 * and re-encoding.  Checks the invariants the auth decision relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_buf	 c = OCSS_BUF_INIT, e = OCSS_BUF_INIT,
			 c2 = OCSS_BUF_INIT;
	struct ocss_err	 err;

	if (ocss_path_canon((const char *)data, len, &c, &err) == 0) {
		/* Canonical: starts with '/', no "//", no "/./" or "/../". */
		if (c.len == 0 || c.data[0] != '/' || strstr(c.data, "//") ||
		    strstr(c.data, "/./") || strstr(c.data, "/../"))
			abort();
		/* Encoding then canonicalising again is a fixed point. */
		if (ocss_path_encode(c.data, c.len, &e) == -1 ||
		    ocss_path_canon(e.data, e.len, &c2, &err) == -1 ||
		    c2.len != c.len || memcmp(c2.data, c.data, c.len) != 0)
			abort();
	}
	ocss_buf_free(&c);
	ocss_buf_free(&e);
	ocss_buf_free(&c2);
	return 0;
}
