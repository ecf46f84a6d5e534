/*
 * ocss-fcgi: the FastCGI front end of the ocss gateway.
 *
 * A supervising parent holds the listening socket (inherited on fd 0 from
 * spawn-fcgi or lighttpd, or opened with --socket), forks N worker processes
 * and replaces any that die.  Each worker runs T threads, each looping on
 * FCGX_Accept_r and handing the request to libocss.  All policy is in lib/;
 * this file only translates between FastCGI and struct ocss_request.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "buf.h"
#include "config.h"
#include "gateway.h"
#include "request.h"

#define MAX_WORKERS	256
#define MAX_THREADS	1024

static const char	*progname = "ocss-fcgi";
static volatile sig_atomic_t got_term, got_chld;

struct worker_arg {
	struct ocss_gateway	*gw;
	int			 fd;
};

/* The writer: FastCGI's stdout stream, "Status:" header first. */
struct fcgi_out {
	FCGX_Stream	*out;
	struct ocss_buf	 hb;
};

static int
safe_field(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

static int
w_head(void *arg, int status, const struct ocss_header *h, size_t n)
{
	struct fcgi_out	*o = arg;
	size_t		 i;
	char		 code[4];

	if (status < 100 || status > 999)
		status = 500;
	code[0] = (char)('0' + status / 100);
	code[1] = (char)('0' + status / 10 % 10);
	code[2] = (char)('0' + status % 10);
	code[3] = '\0';
	/* Built with appends, not printf: this runs once per request. */
	ocss_buf_reset(&o->hb);
	if (ocss_buf_puts(&o->hb, "Status: ") == -1 ||
	    ocss_buf_puts(&o->hb, code) == -1 ||
	    ocss_buf_putc(&o->hb, ' ') == -1 ||
	    ocss_buf_puts(&o->hb, ocss_status_reason(status)) == -1 ||
	    ocss_buf_puts(&o->hb, "\r\n") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!safe_field(h[i].name) || !safe_field(h[i].value))
			continue;
		if (ocss_buf_puts(&o->hb, h[i].name) == -1 ||
		    ocss_buf_puts(&o->hb, ": ") == -1 ||
		    ocss_buf_puts(&o->hb, h[i].value) == -1 ||
		    ocss_buf_puts(&o->hb, "\r\n") == -1)
			return -1;
	}
	if (ocss_buf_puts(&o->hb, "\r\n") == -1)
		return -1;
	if (FCGX_PutStr(o->hb.data, (int)o->hb.len, o->out) != (int)o->hb.len)
		return -1;
	return 0;
}

static int
w_body(void *arg, const void *p, size_t len)
{
	struct fcgi_out	*o = arg;
	int		 chunk;

	while (len > 0) {
		chunk = len > 1 << 20 ? 1 << 20 : (int)len;
		if (FCGX_PutStr(p, chunk, o->out) != chunk)
			return -1;
		p = (const char *)p + chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

static int
w_flush(void *arg)
{
	struct fcgi_out *o = arg;

	return FCGX_FFlush(o->out) == 0 && FCGX_GetError(o->out) == 0 ? 0 : -1;
}

static ssize_t
r_body(void *arg, void *buf, size_t len)
{
	FCGX_Stream	*in = arg;
	int		 n;

	n = FCGX_GetStr(buf, len > 1 << 20 ? 1 << 20 : (int)len, in);
	if (n < 0 || FCGX_GetError(in) != 0)
		return -1;
	return n;
}

/*
 * Has the request's input been read to its end?  libfcgi ends a connection
 * with a "lingering close": shutdown(2), then up to 2 s of poll(2) and
 * read(2) until the web server hangs up, so that input left unread cannot
 * turn into a TCP reset that costs the server our answer.  With nothing
 * left unread there is nothing to reset, and that wait is a sleep and a
 * wake-up of the thread on every request: FCGX_Detach() makes libfcgi
 * just close(2).  A request without a body has its empty stdin record in
 * the buffer with the params already, so reading it costs no system call.
 */
static int
input_done(FCGX_Request *fr, const struct ocss_request *r, int parsed)
{
	if (FCGX_GetError(fr->in) != 0)
		return 0;
	if (FCGX_HasSeenEOF(fr->in))
		return 1;
	if (!parsed || r->content_length > 0 || r->body_to_eof ||
	    (r->content_length < 0 &&
	    ocss_request_header(r, "Transfer-Encoding") != NULL))
		return 0;
	return FCGX_GetChar(fr->in) == EOF && FCGX_GetError(fr->in) == 0;
}

static void *
serve(void *p)
{
	struct worker_arg	*wa = p;
	struct ocss_gw_thread	*t;
	struct ocss_request	 r;
	struct ocss_err		 err;
	struct fcgi_out		 o;
	struct ocss_writer	 w = { w_head, w_body, w_flush, &o };
	FCGX_Request		 fr;
	int			 parsed;

	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	if ((t = ocss_gateway_thread_new(wa->gw, &err)) == NULL) {
		fprintf(stderr, "%s[%ld]: %s\n", progname, (long)getpid(),
		    err.msg);
		_exit(1);
	}
	if (FCGX_InitRequest(&fr, wa->fd, 0) != 0) {
		fprintf(stderr, "%s: FCGX_InitRequest failed\n", progname);
		_exit(1);
	}
	while (FCGX_Accept_r(&fr) >= 0) {
		o.out = fr.out;
		parsed = ocss_request_from_cgi(&r, fr.envp, &err) == 0;
		if (parsed) {
			r.read = r_body;
			r.read_arg = fr.in;
			ocss_gateway_handle(t, &r, &w);
		} else {
			r.id[0] = '\0';
			(void)ocss_respond_error(&w, &r, 400, "bad_request",
			    err.msg, NULL, 0);
		}
		if (input_done(&fr, &r, parsed))
			FCGX_Detach(&fr);
		/* Sends what the writer still holds with the end-of-request
		 * records: an answer not streamed goes out in one write(2). */
		FCGX_Finish_r(&fr);
	}
	/* Accept fails only when the listening socket is gone. */
	ocss_request_free(&r);
	ocss_buf_free(&o.hb);
	ocss_gateway_thread_free(t);
	return NULL;
}

static void
worker(int fd, const struct ocss_config *cfg, int nthreads)
{
	struct worker_arg	 wa;
	struct ocss_err		 err;
	pthread_t		*tids;
	sigset_t		 none;
	int			 i;

	/* Die with the supervisor rather than serve unsupervised. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
	/* libfcgi catches SIGTERM and only sets a flag, which a thread
	 * blocked in accept() never looks at: take the default back. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	wa.fd = fd;
	if ((wa.gw = ocss_gateway_new(cfg, &err)) == NULL ||
	    ocss_gateway_start(wa.gw, &err) == -1) {
		fprintf(stderr, "%s[%ld]: %s\n", progname, (long)getpid(),
		    err.msg);
		_exit(1);
	}
	if ((tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		_exit(1);
	for (i = 1; i < nthreads; i++)
		if ((errno = pthread_create(&tids[i], NULL, serve, &wa)) != 0) {
			fprintf(stderr, "%s: pthread_create: %s\n", progname,
			    strerror(errno));
			_exit(1);
		}
	serve(&wa);
	for (i = 1; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	ocss_gateway_free(wa.gw);
	_exit(0);
}

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static int single_fd = -1;

static void
on_single_term(int sig)
{
	(void)sig;
	shutdown(single_fd, SHUT_RDWR);
}

static pid_t
spawn(int fd, const struct ocss_config *cfg, int nthreads)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "%s: fork: %s\n", progname, strerror(errno));
		return -1;
	}
	if (pid == 0)
		worker(fd, cfg, nthreads);
	return pid;
}

/*
 * Keep nworkers alive until SIGTERM/SIGINT.  A worker that dies is replaced
 * at once; if workers keep dying right after start the supervisor gives up
 * instead of spinning.
 */
static int
supervise(int fd, const struct ocss_config *cfg, int nworkers, int nthreads)
{
	pid_t		 pids[MAX_WORKERS], pid;
	time_t		 started[MAX_WORKERS];
	struct sigaction sa;
	sigset_t	 block, old;
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	int		 i, st, quick = 0, alive, tries;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, SIGTERM);
	sigdelset(&old, SIGINT);
	sigdelset(&old, SIGCHLD);

	for (i = 0; i < nworkers; i++) {
		if ((pids[i] = spawn(fd, cfg, nthreads)) == -1)
			goto stop;
		started[i] = time(NULL);
	}
	fprintf(stderr, "%s[%ld]: %d workers x %d threads, upstream %s\n",
	    progname, (long)getpid(), nworkers, nthreads, cfg->upstream_url);
	while (!got_term) {
		sigsuspend(&old);
		if (!got_chld)
			continue;
		got_chld = 0;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < nworkers && pids[i] != pid; i++)
				;
			if (i == nworkers)
				continue;
			if (WIFSIGNALED(st))
				fprintf(stderr, "%s: worker %ld killed by "
				    "signal %d; restarting\n", progname,
				    (long)pid, WTERMSIG(st));
			else
				fprintf(stderr, "%s: worker %ld exited with "
				    "%d; restarting\n", progname, (long)pid,
				    WEXITSTATUS(st));
			if (time(NULL) - started[i] < 2) {
				if (++quick >= 10) {
					fprintf(stderr, "%s: workers keep "
					    "dying at start; giving up\n",
					    progname);
					pids[i] = -1;
					goto stop;
				}
				nanosleep(&ts, NULL);
			} else
				quick = 0;
			if ((pids[i] = spawn(fd, cfg, nthreads)) == -1)
				goto stop;
			started[i] = time(NULL);
		}
	}
stop:
	for (i = 0; i < nworkers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	/* Give workers 10 s to go, then insist. */
	for (tries = 0; tries < 200; tries++) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			for (i = 0; i < nworkers; i++)
				if (pids[i] == pid)
					pids[i] = -1;
		for (alive = 0, i = 0; i < nworkers; i++)
			alive += pids[i] > 0;
		if (!alive)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < nworkers; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
		}
	return got_term ? 0 : 1;
}

/* The path of an inherited unix socket, so it can be removed at the end
 * (spawn-fcgi leaves it behind); NULL for TCP or abstract sockets. */
static const char *
inherited_path(int fd, char *buf, size_t len)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl = sizeof(sun);

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &sl) == -1 ||
	    sun.sun_family != AF_UNIX || sun.sun_path[0] != '/')
		return NULL;
	snprintf(buf, len, "%.*s", (int)sizeof(sun.sun_path), sun.sun_path);
	return buf;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"\n"
"The ocss gateway as a FastCGI application.  Listens on the socket passed as\n"
"fd 0 (spawn-fcgi, lighttpd's bin-path) or on --socket.\n"
"\n"
"  -s, --socket PATH|HOST:PORT  open this listening socket instead of fd 0\n"
"  -m, --socket-mode MODE       permissions of a unix socket (default 0660)\n"
"  -b, --backlog N              listen backlog for --socket (default 1024)\n"
"  -w, --workers N              worker processes (default: CPUs; 0 = serve\n"
"                               in this process, no supervisor)\n"
"  -t, --threads N              accept threads per worker (default 8; one\n"
"                               open stream holds one thread)\n"
"  -e, --env-file FILE          read KEY=VALUE settings (default $OCSS_ENV_FILE)\n"
"  -c, --check                  validate the configuration and exit\n"
"  -V, --version                print the version and exit\n"
"  -h, --help                   this text\n"
"\n"
"Settings come from the environment and the env file: OPENCLAW_TOKEN,\n"
"UPSTREAM_URL, OCSS_CONF_DIR, OCSS_STATE_DIR, AUDIT_LOG_PATH, OCSS_MAX_BODY,\n"
"OCSS_UPSTREAM_TIMEOUT, ...  See ocss-fcgi(8).\n", progname);
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "workers", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 't' },
		{ "env-file", required_argument, NULL, 'e' },
		{ "check", no_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ocss_config	 cfg;
	struct ocss_err		 err;
	struct ocss_gateway	*gw;
	struct stat		 st;
	const char		*sock = NULL, *envfile = NULL;
	char			 sockpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int			 c, mode = 0660, backlog = 1024, check = 0;
	int			 nworkers, nthreads = 8, fd = 0, rc;
	long			 ncpu;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nworkers = ncpu > 0 && ncpu < MAX_WORKERS ? (int)ncpu : 2;
	while ((c = getopt_long(argc, argv, "s:m:b:w:t:e:cVh", opts, NULL))
	    != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'e': envfile = optarg; break;
		case 'c': check = 1; break;
		case 'm':
			if (parse_int(optarg, 0, 0777, &mode) == -1)
				goto bad;
			break;
		case 'b':
			if (parse_int(optarg, 1, 65535, &backlog) == -1)
				goto bad;
			break;
		case 'w':
			if (parse_int(optarg, 0, MAX_WORKERS, &nworkers) == -1)
				goto bad;
			break;
		case 't':
			if (parse_int(optarg, 1, MAX_THREADS, &nthreads) == -1)
				goto bad;
			break;
		case 'V':
			printf("ocss-fcgi %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", progname,
		    argv[optind]);
		return 2;
	}

	if (ocss_config_load(&cfg, envfile, &err) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err.msg);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Build everything once here so a bad configuration stops the start,
	 * not each worker in a respawn loop. */
	if ((gw = ocss_gateway_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, err.msg);
		rc = 1;
		goto out;
	}
	ocss_gateway_free(gw);
	if (check) {
		printf("configuration OK: upstream %s, audit %s, conf %s\n",
		    cfg.upstream_url, cfg.audit_log_path, cfg.conf_dir);
		rc = 0;
		goto out;
	}

	if (FCGX_Init() != 0) {
		fprintf(stderr, "%s: FCGX_Init failed\n", progname);
		rc = 1;
		goto out;
	}
	if (sock != NULL) {
		if (strchr(sock, '/') != NULL && lstat(sock, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			unlink(sock);	/* stale from a previous run */
		if ((fd = FCGX_OpenSocket(sock, backlog)) < 0) {
			fprintf(stderr, "%s: cannot listen on %s: %s\n",
			    progname, sock, strerror(errno));
			rc = 1;
			goto out;
		}
		if (strchr(sock, '/') != NULL && chmod(sock, (mode_t)mode)) {
			fprintf(stderr, "%s: chmod %s: %s\n", progname, sock,
			    strerror(errno));
			rc = 1;
			goto out;
		}
	} else if (FCGX_IsCGI()) {
		fprintf(stderr, "%s: fd 0 is not a listening socket: run me "
		    "under spawn-fcgi or a web server that starts FastCGI "
		    "apps, or pass --socket PATH\n", progname);
		rc = 2;
		goto out;
	} else
		sock = inherited_path(fd, sockpath, sizeof(sockpath));

	if (nworkers == 0) {
		struct worker_arg wa = { NULL, fd };
		struct sigaction sa;

		/* Alone with the socket, a signal can shut it down: accept()
		 * then fails, the loop ends, everything is freed (so leak
		 * checkers see a clean exit). */
		single_fd = fd;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_single_term;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		if ((wa.gw = ocss_gateway_new(&cfg, &err)) == NULL ||
		    ocss_gateway_start(wa.gw, &err) == -1) {
			fprintf(stderr, "%s: %s\n", progname, err.msg);
			ocss_gateway_free(wa.gw);
			rc = 1;
			goto out;
		}
		serve(&wa);
		ocss_gateway_free(wa.gw);
		rc = 0;
	} else
		rc = supervise(fd, &cfg, nworkers, nthreads);
	if (sock != NULL && strchr(sock, '/') != NULL)
		unlink(sock);
out:
	curl_global_cleanup();
	ocss_config_free(&cfg);
	return rc;
bad:
	fprintf(stderr, "%s: bad value '%s' for -%c\n", progname, optarg, c);
	return 2;
}
