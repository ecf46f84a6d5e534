#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

int
ocss_buf_reserve(struct ocss_buf *b, size_t extra)
{
	size_t	 need, ncap;
	char	*p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
ocss_buf_append(struct ocss_buf *b, const void *p, size_t n)
{
	if (ocss_buf_reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
ocss_buf_puts(struct ocss_buf *b, const char *s)
{
	return ocss_buf_append(b, s, strlen(s));
}

int
ocss_buf_putc(struct ocss_buf *b, char c)
{
	return ocss_buf_append(b, &c, 1);
}

int
ocss_buf_vprintf(struct ocss_buf *b, const char *fmt, va_list ap)
{
	va_list	 cp;
	int	 n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || ocss_buf_reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
ocss_buf_printf(struct ocss_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = ocss_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

size_t
ocss_utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t	 len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
ocss_buf_json_str(struct ocss_buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t	 i, run, l;
	char	 esc[6];

	if (ocss_buf_reserve(b, n + 2) == -1)
		return -1;
	for (i = 0; i < n; ) {
		/* Copy the longest run that needs no escaping in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		if (run > i && ocss_buf_append(b, s + i, run - i) == -1)
			return -1;
		i = run;
		if (i >= n)
			break;
		if (s[i] >= 0x80) {
			if ((l = ocss_utf8_seq(s + i, n - i)) == 0) {
				if (ocss_buf_append(b, "\xef\xbf\xbd", 3) == -1)
					return -1;
				i++;
			} else {
				if (ocss_buf_append(b, s + i, l) == -1)
					return -1;
				i += l;
			}
			continue;
		}
		switch (s[i]) {
		case '"':  memcpy(esc, "\\\"", 2); l = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); l = 2; break;
		case '\n': memcpy(esc, "\\n", 2); l = 2; break;
		case '\r': memcpy(esc, "\\r", 2); l = 2; break;
		case '\t': memcpy(esc, "\\t", 2); l = 2; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 0xf];
			l = 6;
			break;
		}
		if (ocss_buf_append(b, esc, l) == -1)
			return -1;
		i++;
	}
	return 0;
}

void
ocss_buf_reset(struct ocss_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
ocss_buf_free(struct ocss_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
ocss_buf_steal(struct ocss_buf *b)
{
	char	*p;

	if (b->data == NULL && ocss_buf_reserve(b, 0) == -1)
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
ocss_err_set(struct ocss_err *e, const char *fmt, ...)
{
	va_list	 ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}
