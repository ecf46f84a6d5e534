#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"

/* The line starts with a fixed-width time stamp, filled in under the lock:
 * {"ts":"2026-01-02T03:04:05.678Z" */
#define TS_PREFIX	"{\"ts\":\""
#define TS_OFF		(sizeof(TS_PREFIX) - 1)
#define LINE_GUESS	512	/* most lines fit: one allocation */

struct ocss_audit {
	int		 fd;
	enum ocss_fsync	 fsync;
	pthread_mutex_t	 mu;		/* threads share fd, hence its flock */
	char		 tail[32];	/* ,"pid":N}\n: 10 + <= 20 digits */
	size_t		 tail_len;
};

struct ocss_audit *
ocss_audit_open(const char *path, enum ocss_fsync fs, struct ocss_err *err)
{
	struct ocss_audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd == -1) {
		ocss_err_set(err, "audit log %s: %s (set AUDIT_LOG_PATH or "
		    "OCSS_STATE_DIR to a writable place)", path,
		    strerror(errno));
		free(a);
		return NULL;
	}
	a->fsync = fs;
	/* The handle is not shared across fork() (see audit.h), so the pid
	 * of every line is the opener's: no getpid(2) per line. */
	a->tail_len = (size_t)snprintf(a->tail, sizeof(a->tail),
	    ",\"pid\":%ld}\n", (long)getpid());
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

static int
member(struct ocss_buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	if (ocss_buf_puts(b, key) == -1 ||
	    ocss_buf_json_str(b, val, strlen(val)) == -1 ||
	    ocss_buf_putc(b, '"') == -1)
		return -1;
	return 0;
}

/* Everything but the time stamp, which gets a placeholder of its width. */
static int
format(struct ocss_buf *b, const struct ocss_audit *a,
    const struct ocss_audit_event *e)
{
	if (ocss_buf_reserve(b, LINE_GUESS) == -1 ||
	    ocss_buf_puts(b, TS_PREFIX "0000-00-00T00:00:00.000Z\"") == -1 ||
	    member(b, ",\"event\":\"", e->event) == -1 ||
	    member(b, ",\"request_id\":\"", e->request_id) == -1 ||
	    member(b, ",\"peer\":\"", e->peer) == -1 ||
	    member(b, ",\"method\":\"", e->method) == -1 ||
	    member(b, ",\"path\":\"", e->path) == -1 ||
	    member(b, ",\"decision\":\"", e->decision) == -1 ||
	    member(b, ",\"reason\":\"", e->reason) == -1)
		return -1;
	if (e->status && ocss_buf_printf(b, ",\"status\":%d", e->status) == -1)
		return -1;
	if (e->extra && *e->extra && (ocss_buf_putc(b, ',') == -1 ||
	    ocss_buf_puts(b, e->extra) == -1))
		return -1;
	return ocss_buf_append(b, a->tail, a->tail_len);
}

static void
digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Write the current UTC time over the placeholder: 24 bytes at p. */
static void
stamp(char *p)
{
	struct timeval	 tv;
	struct tm	 tm;
	int		 y;

	gettimeofday(&tv, NULL);
	if (gmtime_r(&tv.tv_sec, &tm) == NULL)
		return;		/* keeps the zero placeholder */
	y = tm.tm_year + 1900;
	digits(p, (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y), 4);
	digits(p + 5, (unsigned)tm.tm_mon + 1, 2);
	digits(p + 8, (unsigned)tm.tm_mday, 2);
	digits(p + 11, (unsigned)tm.tm_hour, 2);
	digits(p + 14, (unsigned)tm.tm_min, 2);
	digits(p + 17, (unsigned)tm.tm_sec, 2);
	digits(p + 20, (unsigned)(tv.tv_usec / 1000), 3);
}

/*
 * One line, whole or not at all, with a->mu and the flock held.  The flock
 * gives us the end of the file: a line that only partly made it (disk full,
 * file size limit) is cut back to where it began.  With O_APPEND the file
 * offset ends where our last byte went, so the line began `done` bytes
 * before it: no fstat(2) is needed while all goes well.
 */
static int
append(struct ocss_audit *a, const char *p, size_t len)
{
	ssize_t		 w;
	size_t		 done = 0;
	off_t		 end;
	int		 saved;

	while (done < len) {
		w = write(a->fd, p + done, len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w == 0 ? ENOSPC : errno;
			if (done > 0 && ((end = lseek(a->fd, 0, SEEK_CUR)) ==
			    -1 || ftruncate(a->fd, end - (off_t)done) == -1))
				saved = errno;
			errno = saved;
			return -1;
		}
		done += (size_t)w;
	}
	if (a->fsync == OCSS_FSYNC_ALWAYS && fdatasync(a->fd) == -1)
		return -1;
	return 0;
}

int
ocss_audit_write(struct ocss_audit *a, const struct ocss_audit_event *e)
{
	struct ocss_buf	 line = OCSS_BUF_INIT;
	int		 rc = -1, saved;

	/* Formatting needs no lock: only the write itself is serialised, so
	 * threads wait on each other for as short a time as possible. */
	if (format(&line, a, e) == -1) {
		ocss_buf_free(&line);
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&a->mu);
	while (flock(a->fd, LOCK_EX) == -1)
		if (errno != EINTR)
			goto out;
	/* Stamped under the lock: lines are in time-stamp order (barring
	 * steps of the clock). */
	stamp(line.data + TS_OFF);
	rc = append(a, line.data, line.len);
	saved = errno;
	flock(a->fd, LOCK_UN);
	errno = saved;
out:
	saved = errno;
	pthread_mutex_unlock(&a->mu);
	ocss_buf_free(&line);
	errno = saved;
	return rc;
}

void
ocss_audit_close(struct ocss_audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
