#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/*
 * The lock every writer of one log takes, worker threads and processes and
 * the CLI alike: a robust process-shared mutex in a small file next to the
 * log (<log>.lock), mapped shared.  Taking it costs no system call unless
 * another writer holds it.  A writer that dies holding it leaves at most a
 * partial line behind; the next one to take it cuts that off (repair()).
 */
#define SHM_MAGIC	(0x6f637373u ^ (uint32_t)sizeof(pthread_mutex_t))

struct audit_shm {
	uint32_t	 magic;		/* set last, once mu is ready */
	pthread_mutex_t	 mu;
};

struct ocss_audit {
	int		 fd;
	enum ocss_fsync	 fsync;
	struct audit_shm *shm;		/* mapped, or own memory (below) */
	int		 mapped;
	char		*path;		/* for repair() */
	char		 tail[32];	/* ,"pid":N}\n: 10 + <= 20 digits */
	size_t		 tail_len;
};

static int
mutex_init(pthread_mutex_t *mu, int shared)
{
	pthread_mutexattr_t	 at;
	int			 rc;

	if ((rc = pthread_mutexattr_init(&at)) != 0)
		return rc;
	if ((rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST)) == 0 &&
	    (rc = pthread_mutexattr_setpshared(&at, shared ?
	    PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE)) == 0)
		rc = pthread_mutex_init(mu, &at);
	pthread_mutexattr_destroy(&at);
	return rc;
}

/*
 * Maps <path>.lock, creating and initialising it under an flock(2) so two
 * first openers cannot both initialise it.  A log that is not a regular file
 * (a pipe, a terminal) gets a lock of its own process only: such a file has
 * no end to cut back, and a pipe keeps writes of up to PIPE_BUF whole.
 */
static int
lock_open(struct ocss_audit *a, const char *path, struct ocss_err *err)
{
	struct stat	 st;
	char		*lp;
	int		 lfd, rc;

	if (fstat(a->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if ((a->shm = calloc(1, sizeof(*a->shm))) == NULL ||
		    mutex_init(&a->shm->mu, 0) != 0) {
			ocss_err_set(err, "audit lock: out of memory");
			return -1;
		}
		return 0;
	}
	if (asprintf(&lp, "%s.lock", path) == -1) {
		ocss_err_set(err, "out of memory");
		return -1;
	}
	lfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd == -1) {
		ocss_err_set(err, "audit lock %s: %s", lp, strerror(errno));
		free(lp);
		return -1;
	}
	rc = -1;
	while (flock(lfd, LOCK_EX) == -1)
		if (errno != EINTR)
			goto out;
	if (fstat(lfd, &st) == -1 || (st.st_size < (off_t)sizeof(*a->shm) &&
	    ftruncate(lfd, sizeof(*a->shm)) == -1))
		goto out;
	a->shm = mmap(NULL, sizeof(*a->shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED, lfd, 0);
	if (a->shm == MAP_FAILED) {
		a->shm = NULL;
		goto out;
	}
	a->mapped = 1;
	if (__atomic_load_n(&a->shm->magic, __ATOMIC_ACQUIRE) != SHM_MAGIC) {
		if ((errno = mutex_init(&a->shm->mu, 1)) != 0)
			goto out;
		__atomic_store_n(&a->shm->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	}
	rc = 0;
out:
	if (rc == -1)
		ocss_err_set(err, "audit lock %s: %s", lp, strerror(errno));
	/* Unlocked by hand: the mapping holds the open file, so close(2)
	 * alone would not release the flock. */
	flock(lfd, LOCK_UN);
	close(lfd);
	free(lp);
	return rc;
}

struct ocss_audit *
ocss_audit_open(const char *path, enum ocss_fsync fs, struct ocss_err *err)
{
	struct ocss_audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path)) == NULL) {
		free(a);
		ocss_err_set(err, "out of memory");
		return NULL;
	}
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd == -1) {
		ocss_err_set(err, "audit log %s: %s (set AUDIT_LOG_PATH or "
		    "OCSS_STATE_DIR to a writable place)", path,
		    strerror(errno));
		ocss_audit_close(a);
		return NULL;
	}
	if (lock_open(a, path, err) == -1) {
		ocss_audit_close(a);
		return NULL;
	}
	a->fsync = fs;
	/* The handle is not shared across fork() (see audit.h), so the pid
	 * of every line is the opener's: no getpid(2) per line. */
	a->tail_len = (size_t)snprintf(a->tail, sizeof(a->tail),
	    ",\"pid\":%ld}\n", (long)getpid());
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
 * One line, whole or not at all, with the lock held.  The lock gives us the
 * end of the file: a line that only partly made it (disk full, file size
 * limit) is cut back to where it began.  With O_APPEND the file offset ends
 * where our last byte went, so the line began `done` bytes before it: no
 * fstat(2) is needed while all goes well.
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

/*
 * The last holder of the lock died holding it, perhaps in the middle of its
 * write(2): cut the file back to its last newline, so every line in it stays
 * whole.  Reads back from the end a block at a time.
 */
static void
repair(struct ocss_audit *a)
{
	char		 blk[4096];
	struct stat	 st, ours;
	off_t		 end, at, cut = 0;
	ssize_t		 n;
	int		 rfd;

	/* Read through the name, but only if it still names our file (a
	 * rotated log is not ours to cut). */
	if ((rfd = open(a->path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(rfd, &st) == -1 || fstat(a->fd, &ours) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_dev != ours.st_dev ||
	    st.st_ino != ours.st_ino) {
		close(rfd);
		return;
	}
	for (end = st.st_size; end > 0; end = at) {
		at = end > (off_t)sizeof(blk) ? end - (off_t)sizeof(blk) : 0;
		n = pread(rfd, blk, (size_t)(end - at), at);
		if (n != (ssize_t)(end - at)) {
			close(rfd);
			return;		/* cannot tell: leave it */
		}
		while (n > 0 && blk[n - 1] != '\n')
			n--;
		if (n > 0) {
			cut = at + n;
			break;
		}
	}
	close(rfd);
	if (cut != st.st_size)
		(void)ftruncate(a->fd, cut);
}

static int
lock(struct ocss_audit *a)
{
	int	 rc;

	if ((rc = pthread_mutex_lock(&a->shm->mu)) == EOWNERDEAD) {
		repair(a);
		rc = pthread_mutex_consistent(&a->shm->mu);
	}
	return rc;
}

int
ocss_audit_write(struct ocss_audit *a, const struct ocss_audit_event *e)
{
	struct ocss_buf	 line = OCSS_BUF_INIT;
	int		 rc, saved;

	/* Formatting needs no lock: only the write itself is serialised, so
	 * writers wait on each other for as short a time as possible. */
	if (format(&line, a, e) == -1) {
		ocss_buf_free(&line);
		errno = ENOMEM;
		return -1;
	}
	if ((rc = lock(a)) != 0) {
		ocss_buf_free(&line);
		errno = rc;
		return -1;
	}
	/* Stamped under the lock: lines are in time-stamp order (barring
	 * steps of the clock). */
	stamp(line.data + TS_OFF);
	rc = append(a, line.data, line.len);
	saved = errno;
	pthread_mutex_unlock(&a->shm->mu);
	ocss_buf_free(&line);
	errno = saved;
	return rc;
}

void
ocss_audit_close(struct ocss_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	if (a->mapped)
		munmap(a->shm, sizeof(*a->shm));
	else if (a->shm != NULL) {
		pthread_mutex_destroy(&a->shm->mu);
		free(a->shm);
	}
	free(a->path);
	free(a);
}
