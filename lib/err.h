/*
 * ocss_err: what went wrong and where.  Functions that can fail return 0 / -1
 * (or an enum) and fill one of these when the caller passes it (NULL is fine).
 */
#ifndef OCSS_ERR_H
#define OCSS_ERR_H

struct ocss_err {
	char	 msg[512];	/* human sentence: what, where, and the fix */
};

void	ocss_err_set(struct ocss_err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
