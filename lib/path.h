/*
 * Canonical request paths.  Routing, the auth decision and the path sent
 * upstream all use the canonical form, so no spelling of a path can be
 * judged as one thing and reach the upstream as another.
 */
#ifndef OCSS_PATH_H
#define OCSS_PATH_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Canonicalise the path part of a request URI (everything before '?'):
 * percent-decode once (malformed escapes and %00 are errors), treat every
 * '/' (decoded %2F too) as a separator, drop empty and "." segments, resolve
 * ".." (never above the root), keep a trailing '/' when the input had one.
 * Case, ';' parameters and all other bytes are kept as they are.
 * Appends the decoded canonical path (always starting with '/') to out.
 * Returns 0, or -1 with err set when the path is malformed.
 */
int	ocss_path_canon(const char *raw, size_t len, struct ocss_buf *out,
	    struct ocss_err *err);

/* Append path percent-encoded for a URI: unreserved, sub-delims, ':', '@'
 * and '/' stay literal; every other byte becomes %XX. */
int	ocss_path_encode(const char *path, size_t len, struct ocss_buf *out);

#endif
