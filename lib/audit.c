#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"

struct ocss_audit {
	int		 fd;
	enum ocss_fsync	 fsync;
	pthread_mutex_t	 mu;
	struct ocss_buf	 line;		/* guarded by mu */
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
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

static int
member(struct ocss_buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	if (ocss_buf_printf(b, ",\"%s\":\"", key) == -1 ||
	    ocss_buf_json_str(b, val, strlen(val)) == -1 ||
	    ocss_buf_putc(b, '"') == -1)
		return -1;
	return 0;
}

static int
format(struct ocss_buf *b, const struct ocss_audit_event *e)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ocss_buf_printf(b, "{\"ts\":\"%s.%03ldZ\"", ts,
	    (long)(tv.tv_usec / 1000)) == -1 ||
	    member(b, "event", e->event) == -1 ||
	    member(b, "request_id", e->request_id) == -1 ||
	    member(b, "peer", e->peer) == -1 ||
	    member(b, "method", e->method) == -1 ||
	    member(b, "path", e->path) == -1 ||
	    member(b, "decision", e->decision) == -1 ||
	    member(b, "reason", e->reason) == -1)
		return -1;
	if (e->status && ocss_buf_printf(b, ",\"status\":%d", e->status) == -1)
		return -1;
	if (e->extra && *e->extra && (ocss_buf_putc(b, ',') == -1 ||
	    ocss_buf_puts(b, e->extra) == -1))
		return -1;
	if (ocss_buf_printf(b, ",\"pid\":%ld}\n", (long)getpid()) == -1)
		return -1;
	return 0;
}

int
ocss_audit_write(struct ocss_audit *a, const struct ocss_audit_event *e)
{
	struct stat	 st;
	ssize_t		 w;
	size_t		 done = 0;
	int		 rc = -1, saved;

	pthread_mutex_lock(&a->mu);
	ocss_buf_reset(&a->line);
	if (format(&a->line, e) == -1) {
		errno = ENOMEM;
		goto out;
	}
	while (flock(a->fd, LOCK_EX) == -1)
		if (errno != EINTR)
			goto out;
	if (fstat(a->fd, &st) == -1)
		goto unlock;
	while (done < a->line.len) {
		w = write(a->fd, a->line.data + done, a->line.len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w == 0 ? ENOSPC : errno;
			/* Under the lock we own the end of the file: cut the
			 * half line back so the log stays parseable. */
			if (done > 0 && ftruncate(a->fd, st.st_size) == -1)
				saved = errno;
			errno = saved;
			goto unlock;
		}
		done += (size_t)w;
	}
	if (a->fsync == OCSS_FSYNC_ALWAYS && fdatasync(a->fd) == -1)
		goto unlock;
	rc = 0;
unlock:
	saved = errno;
	flock(a->fd, LOCK_UN);
	errno = saved;
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void
ocss_audit_close(struct ocss_audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	pthread_mutex_destroy(&a->mu);
	ocss_buf_free(&a->line);
	free(a);
}
