#include <string.h>

#include "path.h"

int
ocss_path_canon(const char *raw, size_t len, struct ocss_buf *out,
    struct ocss_err *err)
{
	struct ocss_buf	 dec = OCSS_BUF_INIT;
	size_t		 i, base, seg, slen;
	int		 hi, lo, trailing;
	char		 c;

	if (len == 0 || raw[0] != '/') {
		ocss_err_set(err, "request path must start with '/'");
		return -1;
	}
	/* The output never outgrows the input plus a '/': reserving it up
	 * front also means out->data exists when ".." trims it. */
	if (ocss_buf_reserve(&dec, len) == -1 ||
	    ocss_buf_reserve(out, len + 1) == -1)
		goto oom;
	for (i = 0; i < len; i++) {
		c = raw[i];
		if (c == '%') {
			if (i + 2 >= len) {
				ocss_err_set(err, "truncated %%-escape in path");
				goto fail;
			}
			hi = ocss_hexval((unsigned char)raw[i + 1]);
			lo = ocss_hexval((unsigned char)raw[i + 2]);
			if (hi < 0 || lo < 0) {
				ocss_err_set(err, "malformed %%-escape in path");
				goto fail;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			ocss_err_set(err, "NUL byte in path");
			goto fail;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f) {
			ocss_err_set(err, "control character in path");
			goto fail;
		}
		dec.data[dec.len++] = c;
	}
	dec.data[dec.len] = '\0';

	trailing = dec.len > 1 && dec.data[dec.len - 1] == '/';
	base = out->len;
	for (i = 0; i < dec.len; ) {
		while (i < dec.len && dec.data[i] == '/')
			i++;
		seg = i;
		while (i < dec.len && dec.data[i] != '/')
			i++;
		slen = i - seg;
		if (slen == 0 || (slen == 1 && dec.data[seg] == '.'))
			continue;
		if (slen == 2 && dec.data[seg] == '.' &&
		    dec.data[seg + 1] == '.') {
			/* Pop the last segment, never past the root. */
			while (out->len > base && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
			out->data[out->len] = '\0';
			continue;
		}
		if (ocss_buf_putc(out, '/') == -1 ||
		    ocss_buf_append(out, dec.data + seg, slen) == -1)
			goto oom;
	}
	if (out->len == base || trailing)
		if (ocss_buf_putc(out, '/') == -1)
			goto oom;
	ocss_buf_free(&dec);
	return 0;
oom:
	ocss_err_set(err, "out of memory");
fail:
	ocss_buf_free(&dec);
	return -1;
}

int
ocss_path_encode(const char *p, size_t len, struct ocss_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char keep[] = "-._~!$&'()*+,;=:@/";
	unsigned char	 c;
	char		 esc[3];
	size_t		 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != 0 && strchr(keep, c))) {
			if (ocss_buf_putc(out, (char)c) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		if (ocss_buf_append(out, esc, 3) == -1)
			return -1;
	}
	return 0;
}
