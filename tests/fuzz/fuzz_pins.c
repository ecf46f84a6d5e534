/* libFuzzer: arbitrary bytes as conf/skill-pins.json through the pins
 * parser and its accessors; a parsed set must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pins.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ocss_pins *p;
	struct ocss_err	 err;
	size_t		 i, n;

	if ((p = ocss_pins_parse((const char *)data, len, "fuzz", &err)) ==
	    NULL) {
		if (err.msg[0] == '\0')
			abort();	/* every refusal says why */
		return 0;
	}
	n = ocss_pins_count(p);
	for (i = 0; i < n; i++) {
		const char *name = ocss_pins_name(p, i);

		if (name == NULL || ocss_pins_find(p, name) != (long)i)
			abort();
		(void)ocss_pins_path(p, i);
		(void)ocss_pins_sha256(p, i);
		(void)ocss_pins_nfiles(p, i);
	}
	if (ocss_pins_name(p, n) != NULL)
		abort();
	ocss_pins_free(p);
	return 0;
}
