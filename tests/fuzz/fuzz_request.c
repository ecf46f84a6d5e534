/* libFuzzer: arbitrary FastCGI parameters (NUL-separated NAME=value
 * strings) through request parsing, id handling and header lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct ocss_request r;	/* reused, as a worker does */
	struct ocss_err	 err;
	char		*copy, *env[300];
	size_t		 i, n = 0, start = 0;

	if ((copy = malloc(len + 1)) == NULL)
		return 0;
	memcpy(copy, data, len);
	copy[len] = '\0';
	for (i = 0; i <= len && n < 299; i++)
		if (copy[i] == '\0' || i == len) {
			copy[i] = '\0';
			env[n++] = copy + start;
			start = i + 1;
		}
	env[n] = NULL;
	if (ocss_request_from_cgi(&r, env, &err) == 0) {
		ocss_request_set_id(&r);
		if (strlen(r.id) == 0 || strlen(r.id) > OCSS_REQUEST_ID_MAX)
			abort();
		(void)ocss_request_header(&r, "Content-Type");
		for (i = 0; i < r.nheaders; i++)
			if (r.headers[i].name == NULL || r.headers[i].value == NULL)
				abort();
	}
	free(copy);
	return 0;
}
