/*
 * ocss_buf: a growing byte string.  The one dynamic string type of libocss.
 * The buffer owns its memory; ocss_buf_free() releases it.  Data is always
 * NUL-terminated after a successful append, so it may be used as a C string
 * when it holds no embedded NUL.
 */
#ifndef OCSS_BUF_H
#define OCSS_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct ocss_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define OCSS_BUF_INIT { NULL, 0, 0 }

/* All return 0 on success, -1 when memory is exhausted (buffer unchanged). */
int	ocss_buf_reserve(struct ocss_buf *, size_t extra);
int	ocss_buf_append(struct ocss_buf *, const void *, size_t);
int	ocss_buf_puts(struct ocss_buf *, const char *);
int	ocss_buf_putc(struct ocss_buf *, char);
int	ocss_buf_printf(struct ocss_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	ocss_buf_vprintf(struct ocss_buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Append s as the body of a JSON string (no quotes added), escaping as RFC 8259
 * requires; bytes that are not valid UTF-8 become U+FFFD. */
/* Value of a hex digit (either case), -1 for anything else. */
static inline int
ocss_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Length of the valid UTF-8 sequence at s (1..4, n > 0), or 0 when it is
 * invalid: overlong forms, surrogates and values past U+10FFFF included. */
size_t	ocss_utf8_seq(const unsigned char *s, size_t n);
int	ocss_buf_json_str(struct ocss_buf *, const char *s, size_t len);
void	ocss_buf_reset(struct ocss_buf *);	/* len = 0, keeps memory */
void	ocss_buf_free(struct ocss_buf *);	/* releases memory */
/* Take ownership of the data (NUL-terminated); the buffer is left empty. */
char	*ocss_buf_steal(struct ocss_buf *);

#endif
