/* What both webhook fuzz harnesses check of ocss_wh_split(). */
#ifndef OCSS_FUZZ_SPLIT_H
#define OCSS_FUZZ_SPLIT_H

#include <stdlib.h>

#include "webhook.h"

/* Parts make progress, stay in the text and never start mid-character
 * (the text is valid UTF-8). */
static void
split_all(const char *t, size_t len, size_t max)
{
	size_t	 off, n;

	for (off = 0; off < len; off += n)
		if ((n = ocss_wh_split(t + off, len - off, max)) == 0 ||
		    n > len - off || (off + n < len &&
		    ((unsigned char)t[off + n] & 0xc0) == 0x80))
			abort();
}

#endif
