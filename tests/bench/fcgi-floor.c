/*
 * fcgi-floor: the least a FastCGI forwarder can do per request, to measure
 * what ocss-fcgi costs above it (tests/bench/bench-gateway.sh, setups (d)).
 * Not part of the product: no auth, no audit, no pipeline, GET only, one
 * fixed upstream URL, answers of up to 64 KiB.
 *
 *   fcgi-floor MODE PROCS THREADS UPSTREAM_URL
 *
 * serves the listening socket on fd 0 (as spawn-fcgi passes it) with PROCS
 * processes of THREADS threads each, like ocss-fcgi --workers --threads.
 *
 * MODE curl:   each thread forwards with its own kept-alive libcurl easy
 *              handle, as ocss-fcgi does, and answers the upstream's body;
 * MODE socket: each thread keeps one plain TCP connection to the upstream,
 *              writes a fixed GET and reads one answer with Content-Length
 *              (the cost of the hop itself, without an HTTP library);
 * MODE none:   no upstream at all: every request is answered with the body
 *              the upstream gave once at start-up (the cost of the FastCGI
 *              hop alone, a bound no forwarder can beat).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#define MAXBODY	65536

enum mode { M_CURL, M_SOCKET, M_NONE };
static const char *const modes[] = { "curl", "socket", "none" };
static enum mode	 mode;
static const char	*url;
static struct sockaddr_in up;
static char		 get_req[512];

struct body {
	char	 d[MAXBODY];
	size_t	 n;
};
static struct body	 fixed;	/* M_NONE's answer */

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct body	*b = arg;

	if (n != 0 && sz > (MAXBODY - b->n) / n)
		return 0;
	memcpy(b->d + b->n, p, sz * n);
	b->n += sz * n;
	return sz * n;
}

/* One answer from a kept-alive connection into b: -1 to reconnect. */
static int
sock_get(int *fd, struct body *b)
{
	char		 buf[MAXBODY + 4096], *e, *cl;
	size_t		 have = 0, hlen, want;
	ssize_t		 k;

	if (*fd == -1) {
		if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(*fd, (struct sockaddr *)&up, sizeof(up)) == -1)
			goto fail;
	}
	if (send(*fd, get_req, strlen(get_req), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(get_req))
		goto fail;
	for (;;) {
		if ((k = recv(*fd, buf + have, sizeof(buf) - 1 - have, 0)) <= 0)
			goto fail;
		have += (size_t)k;
		buf[have] = '\0';
		if ((e = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		hlen = (size_t)(e + 4 - buf);
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL ||
		    cl > e)
			goto fail;
		want = strtoul(cl + 17, NULL, 10);
		if (want > MAXBODY)
			goto fail;
		if (have >= hlen + want) {
			memcpy(b->d, buf + hlen, want);
			b->n = want;
			return 0;
		}
	}
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

/* The mode named s (enum mode), or -1. */
static int
mode_of(const char *s)
{
	int	 m;

	for (m = 0; m < (int)(sizeof(modes) / sizeof(modes[0])); m++)
		if (strcmp(s, modes[m]) == 0)
			return m;
	return -1;
}

static void *
serve(void *arg)
{
	FCGX_Request	 r;
	struct body	*b;
	const struct body *ans;
	CURL		*h = NULL;
	int		 fd = -1, ok;

	(void)arg;
	if ((b = malloc(sizeof(*b))) == NULL || FCGX_InitRequest(&r, 0, 0))
		exit(1);
	if (mode == M_CURL) {
		if ((h = curl_easy_init()) == NULL)
			exit(1);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	}
	while (FCGX_Accept_r(&r) >= 0) {
		b->n = 0;
		ans = b;
		if (mode == M_CURL)
			ok = curl_easy_perform(h) == CURLE_OK;
		else if (mode == M_SOCKET)
			/* the upstream may have closed a kept-alive one */
			ok = sock_get(&fd, b) == 0 || sock_get(&fd, b) == 0;
		else {
			ans = &fixed;
			ok = 1;
		}
		if (!ok) {
			FCGX_PutS("Status: 502 Bad Gateway\r\n\r\n", r.out);
			continue;
		}
		FCGX_FPrintF(r.out, "Status: 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %d\r\n\r\n",
		    (int)ans->n);
		FCGX_PutStr(ans->d, (int)ans->n, r.out);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_t	 t[64];
	unsigned	 port;
	char		 host[64], path[256];
	int		 i, n, procs, m;

	if (argc != 5 || (procs = atoi(argv[2])) < 1 || procs > 64 ||
	    (n = atoi(argv[3])) < 1 || n > 64 ||
	    (m = mode_of(argv[1])) == -1 ||
	    sscanf(argv[4], "http://%63[0-9.]:%u%255s", host, &port,
	    path) != 3) {
		fprintf(stderr, "usage: fcgi-floor curl|socket|none PROCS "
		    "THREADS http://IPV4:PORT/PATH\n");
		return 2;
	}
	mode = (enum mode)m;
	url = argv[4];
	up.sin_family = AF_INET;
	up.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &up.sin_addr) != 1) {
		fprintf(stderr, "fcgi-floor: %s: not an IPv4 address\n", host);
		return 2;
	}
	snprintf(get_req, sizeof(get_req), "GET %s HTTP/1.1\r\nHost: %s:%u"
	    "\r\nAccept: */*\r\n\r\n", path, host, port);
	if (FCGX_Init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	if (mode == M_NONE) {
		int	 fd = -1;

		if (sock_get(&fd, &fixed) == -1) {
			fprintf(stderr, "fcgi-floor: %s: no answer\n", url);
			return 1;
		}
		close(fd);
	}
	/* libfcgi catches SIGTERM to end its accept loop, which threads
	 * blocked in accept(2) never see: let it simply end the process. */
	signal(SIGTERM, SIG_DFL);
	for (i = 1; i < procs; i++) {
		pid_t	 pid = fork();

		if (pid == -1) {
			perror("fcgi-floor: fork");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			break;
		}
	}
	for (i = 0; i < n; i++)
		if ((errno = pthread_create(&t[i], NULL, serve, NULL)) != 0) {
			perror("fcgi-floor: pthread_create");
			return 1;
		}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
