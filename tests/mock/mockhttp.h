/*
 * mockhttp: the plumbing the test mocks (mock-upstream, mock-platform)
 * share: the command line they have in common, a libmicrohttpd daemon with
 * a thread per connection, request bodies read whole up to a cap, JSON
 * answers, and a sleep that gives way to shutdown.  Each mock keeps its
 * routes and wire formats; mock_serve() hands it every complete request.
 */
#ifndef MOCKHTTP_H
#define MOCKHTTP_H

#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <microhttpd.h>

/* The options mock_args() reads itself, to begin a mock's option table. */
#define MOCK_OPTIONS \
	{ "port", required_argument, NULL, 'p' }, \
	{ "port-file", required_argument, NULL, 'f' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }
#define MOCK_SHORTOPTS	"p:f:qh"

/* One HTTP request, owned by mockhttp: the route must not keep it. */
struct mock_request {
	char		*raw_url;	/* as sent, query included */
	char		*body;		/* NUL-terminated; NULL when empty */
	size_t		 len, cap;
	uint64_t	 total;		/* even past max_body */
	bool		 started;	/* headers seen; a body may follow */
};

/* The mock's answer to a request, called once its body is read. */
typedef enum MHD_Result (*mock_route)(void *arg, struct MHD_Connection *,
    const char *url, const char *method, const struct mock_request *);

struct mock {
	const char	*prog;		/* names the mock in messages */
	const char	*bind;		/* IPv4 address; "127.0.0.1" */
	const char	*port_file;	/* --port-file, or NULL */
	long		 port;		/* --port; -1 until given */
	unsigned	 timeout;	/* idle seconds to a close; 0: never */
	size_t		 max_body;	/* body bytes kept; the rest counted */
	mock_route	 route;
	void		*arg;		/* the route's first argument */
	atomic_bool	 stopping;	/* set at shutdown: sleepers give up */
	bool		 quiet;		/* --quiet: no log lines on stderr */
};

void	mock_init(struct mock *, const char *prog, mock_route, void *arg,
	    size_t max_body);

/*
 * Reads the command line.  opts begins with MOCK_OPTIONS and shortopts
 * with MOCK_SHORTOPTS; those are taken here, the mock's other options go
 * to own(m->arg, letter, optarg): 0, or -1 for a letter it does not know
 * (then usage(stderr), status 2).  Returns -1 to go on, else the status
 * to exit with (after --help, a bad or missing --port, a stray argument).
 */
int	mock_args(struct mock *, int argc, char *argv[],
	    const struct option *opts, const char *shortopts,
	    int (*own)(void *, int, const char *), void (*usage)(FILE *));

/*
 * Listens on m->bind and m->port, writes the port to m->port_file, says
 * "<prog> listening on ADDR:PORT" on stdout, and answers until SIGTERM or
 * SIGINT.  Returns with every connection thread joined: the exit status.
 */
int	mock_serve(struct mock *);

/* Sleeps ms in slices of 50 ms; -1 as soon as the mock is stopping. */
int	mock_nap(struct mock *, uint64_t ms);

/* A decimal number, digits only, up to max: 0, or -1 leaving out as is. */
int	mock_parse_u64(const char *, uint64_t max, uint64_t *out);

/* o as compact JSON text, '/' unescaped, malloc'ed; NULL for NULL, ENOMEM. */
char	*mock_json_text(json_object *o);

/*
 * Answers.  mock_queue() adds Content-Type: type to r; the other two send
 * application/json: a string that outlives the connection with 200, or a
 * malloc'ed one that mock_send_owned() frees.  Given NULL (a failed build)
 * each drops the connection; mock_queue() takes r either way.
 */
enum MHD_Result	mock_queue(struct MHD_Connection *, unsigned status,
		    struct MHD_Response *r, const char *type);
enum MHD_Result	mock_send_static(struct MHD_Connection *, const char *json);
enum MHD_Result	mock_send_owned(struct MHD_Connection *, unsigned status,
		    char *json);

#endif
