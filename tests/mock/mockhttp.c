/*
 * mockhttp: what the test mocks share; see mockhttp.h.
 *
 * Thread per connection on purpose: routes and content callbacks may simply
 * sleep (slow answers, spaced events) with no event-loop bookkeeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mockhttp.h"

void
mock_init(struct mock *m, const char *prog, mock_route route, void *arg,
    size_t max_body)
{
	memset(m, 0, sizeof(*m));
	m->prog = prog;
	m->bind = "127.0.0.1";
	m->port = -1;
	m->max_body = max_body;
	m->route = route;
	m->arg = arg;
	atomic_init(&m->stopping, false);
}

int
mock_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
mock_args(struct mock *m, int argc, char *argv[], const struct option *opts,
    const char *shortopts, int (*own)(void *, int, const char *),
    void (*usage)(FILE *))
{
	uint64_t	 port;
	int		 opt;

	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (mock_parse_u64(optarg, 65535, &port) != 0) {
				fprintf(stderr, "%s: bad --port\n", m->prog);
				return 2;
			}
			m->port = (long)port;
			break;
		case 'f':
			m->port_file = optarg;
			break;
		case 'q':
			m->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* '?' too: own() knows no such letter */
			if (own == NULL || own(m->arg, opt, optarg) != 0) {
				usage(stderr);
				return 2;
			}
			break;
		}
	}
	if (m->port < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int
mock_nap(struct mock *m, uint64_t ms)
{
	struct timespec	 ts;
	uint64_t	 slice;

	for (; ms > 0 && !atomic_load(&m->stopping); ms -= slice) {
		slice = ms < 50 ? ms : 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)slice * 1000000;
		nanosleep(&ts, NULL);
	}
	return atomic_load(&m->stopping) ? -1 : 0;
}

char *
mock_json_text(json_object *o)
{
	const char	*s;

	if (o == NULL || (s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL)
		return NULL;
	return strdup(s);
}

enum MHD_Result
mock_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
    const char *type)
{
	enum MHD_Result	 ret = MHD_NO;

	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type) == MHD_YES)
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
mock_send_static(struct MHD_Connection *c, const char *json)
{
	return mock_queue(c, 200, MHD_create_response_from_buffer(strlen(json),
	    (void *)json, MHD_RESPMEM_PERSISTENT), "application/json");
}

enum MHD_Result
mock_send_owned(struct MHD_Connection *c, unsigned status, char *json)
{
	struct MHD_Response	*r = NULL;

	if (json && (r = MHD_create_response_from_buffer(strlen(json), json,
	    MHD_RESPMEM_MUST_FREE)) == NULL)
		free(json);
	return mock_queue(c, status, r, "application/json");
}

/*
 * Runs before MHD strips the query, so this is where the raw URL is kept.
 * MHD counts the request as seen by us from here on: request_done() will run.
 */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct mock_request	*rq;

	(void)cls;
	(void)c;
	if ((rq = calloc(1, sizeof(*rq))) != NULL &&
	    (rq->raw_url = strdup(uri)) == NULL) {
		free(rq);
		rq = NULL;
	}
	return rq;	/* NULL makes handle() drop the connection */
}

static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct mock_request	*rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->raw_url);
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* Keeps up to max bytes and counts the rest (for the mock to refuse). */
static int
append_body(struct mock_request *rq, const char *data, size_t n, size_t max)
{
	size_t	 cap;
	char	*p;

	rq->total += n;
	if (rq->len + n > max)
		n = max - rq->len;
	if (n == 0)
		return 0;
	if (rq->len + n + 1 > rq->cap) {
		cap = rq->cap ? rq->cap : 4096;
		while (cap < rq->len + n + 1)
			cap *= 2;
		if ((p = realloc(rq->body, cap)) == NULL)
			return -1;
		rq->body = p;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct mock		*m = cls;
	struct mock_request	*rq = *con_cls;
	int			 rc;

	(void)version;
	if (rq == NULL)
		return MHD_NO;
	if (!rq->started) {	/* headers only; a body comes later */
		rq->started = true;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		rc = append_body(rq, upload, *upload_size, m->max_body);
		*upload_size = 0;
		return rc == 0 ? MHD_YES : MHD_NO;
	}
	return m->route(m->arg, c, url, method, rq);
}

/* Temp file + rename, so that a polling test never reads half a number. */
static int
write_port_file(const char *path, unsigned port)
{
	FILE	*f;
	char	*tmp;
	int	 fd, rc = -1;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -1;
	if ((fd = mkstemp(tmp)) >= 0) {
		if ((f = fdopen(fd, "w")) == NULL)
			close(fd);
		else if (!((fprintf(f, "%u\n", port) < 0) | fclose(f)))
			rc = rename(tmp, path);
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int
mock_serve(struct mock *m)
{
	struct sockaddr_in		 sin;
	struct MHD_Daemon		*d;
	const union MHD_DaemonInfo	*info = NULL;
	sigset_t			 stop;
	int				 sig, rc = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)m->port);
	if (inet_pton(AF_INET, m->bind, &sin.sin_addr) != 1) {
		fprintf(stderr, "%s: --bind %s: not IPv4\n", m->prog, m->bind);
		return 2;
	}

	/*
	 * Block the stop signals before MHD starts its threads, so that they
	 * all inherit the mask and only sigwait() below ever sees the signals.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
		fprintf(stderr, "%s: cannot set up signals\n", m->prog);
		return 1;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | (m->quiet ? 0 : MHD_USE_ERROR_LOG),
	    (uint16_t)m->port, NULL, NULL, handle, m,
	    MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_CONNECTION_TIMEOUT, m->timeout,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
	    MHD_OPTION_END);
	if (d != NULL)
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		fprintf(stderr, "%s: cannot listen on %s port %ld\n", m->prog,
		    m->bind, m->port);
	else if (m->port_file && write_port_file(m->port_file,
	    info->port) != 0)
		fprintf(stderr, "%s: cannot write %s: %s\n", m->prog,
		    m->port_file, strerror(errno));
	else {
		printf("%s listening on %s:%u\n", m->prog, m->bind,
		    (unsigned)info->port);
		fflush(stdout);
		while (sigwait(&stop, &sig) != 0)
			continue;
		rc = 0;
	}
	atomic_store(&m->stopping, true);
	if (d != NULL)
		MHD_stop_daemon(d);	/* joins every connection thread */
	return rc;
}
