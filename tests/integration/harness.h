/*
 * harness.h - start a real lighttpd with the real roost worker pool on a
 * free loopback port, talk HTTP to it, stop it, and check nothing is left.
 *
 * STYLE.md "Integration tests": a mkdtemp run directory holds the store,
 * the logs, the pid file and the worker sockets; the port comes from the
 * kernel (bind port 0) and start-up is retried a bounded number of times if
 * lighttpd loses the port to someone else; readiness is a bounded connect
 * loop that notices an early death, then GET /health until a worker answers;
 * stop is SIGTERM by pid, SIGKILL after 5 s, then a check that no worker
 * outlived lighttpd. Every wait and every request loop is bounded; traffic
 * goes to 127.0.0.1 only.
 *
 * Calling sequence (one cmocka group per server):
 *
 *   static struct harness_server *srv;
 *   static struct harness_client *http;
 *
 *   static int setup(void **state) {
 *       struct harness_opts o = HARNESS_OPTS_INIT;
 *       o.env = (const char *[]){ "ROOST_AUTO_CREATE=0", NULL };
 *       srv = harness_server_new(&o);
 *       if (harness_server_start(srv)) return -1;
 *       http = harness_client_new(srv);
 *       return 0;
 *   }
 *   static int teardown(void **state) {
 *       harness_client_free(http);
 *       return harness_server_stop(srv);     // -1 when a worker lingered
 *   }
 *   ...
 *   failed = cmocka_run_group_tests_name("...", tests, setup, teardown);
 *   harness_server_free(srv, failed);       // log tail + keep dir on failure
 *
 * Environment read here:
 *   ROOST_TOP_SRCDIR   checkout (www-conf/roost-local.conf is found there)
 *   ROOST_FCGI_BIN     the built worker
 *   ROOST_LIGHTTPD     lighttpd binary (default: lighttpd on PATH, /usr/sbin)
 *   ROOST_TEST_TRACE   "valgrind" or "strace": wrap the worker (lighttpd's
 *                      TRACEME); every time bound is multiplied by 10
 *   ROOST_TEST_KEEP    "1": keep run directories even when tests pass
 * Every other ROOST_* variable of the test's own environment is dropped
 * before lighttpd starts, so a developer's shell cannot change the outcome.
 */
#ifndef ROOST_HARNESS_H
#define ROOST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

struct json_object;

/* ------------------------------------------------------------------ */
/* The server                                                          */

struct harness_opts {
    int workers;             /* ROOST_WORKERS; 0: 4 */
    const char *const *env;  /* NULL-terminated "ROOST_X=value" to add */
    const char *store_dir;   /* ROOST_STORE_DIR; NULL: <rundir>/store */
    const char *conf;        /* lighttpd config; NULL: www-conf/roost-local.conf */
    /* Status GET /health must answer (with a JSON body from a worker)
     * before the server counts as ready: 0 means 200; -1 means any status
     * (for servers that are meant to be unhealthy or misconfigured). */
    int health_status;
    const char *tag;         /* run directory name part; NULL: "it" */
};
#define HARNESS_OPTS_INIT { 0, NULL, NULL, NULL, 0, NULL }

struct harness_server {
    char *rundir;            /* mkdtemp'd; removed by _free unless failed */
    char *store_dir;         /* what the workers get as ROOST_STORE_DIR */
    char *conf;              /* config file lighttpd runs */
    char *lighttpd;          /* lighttpd binary */
    char *fcgi_bin;          /* what lighttpd spawns (a wrapper when tracing) */
    char *real_fcgi_bin;     /* the built worker */
    char **env;              /* lighttpd's environment (NULL-terminated) */
    int workers;
    int health_status;
    int port;
    pid_t pid;               /* lighttpd; 0 when not running */
    char base_url[64];       /* "http://127.0.0.1:PORT" */
    long startup_ms;         /* fork to first healthy answer */
    int failed;              /* set by start/stop on failure; keeps the rundir */
};

/* Creates the run directory and fills the paths; does not start anything.
 * Never NULL (fails the running test on a setup error). */
struct harness_server *harness_server_new(const struct harness_opts *opts);

/* Forks and execs `lighttpd -D -f conf`, waits for readiness. 0 when ready;
 * -1 on failure (reason and error-log tail printed; lighttpd stopped; the
 * run directory is kept so the caller may read the log). */
int harness_server_start(struct harness_server *srv);

/* SIGTERM, up to 5 s, then SIGKILL; then waits up to 3 s for every worker
 * to exit, kills leftovers. Under ROOST_TEST_TRACE=valgrind also fails on
 * valgrind errors. 0 clean; -1 if lighttpd needed SIGKILL, a worker
 * lingered, valgrind reported errors, or a worker's stderr holds an
 * AddressSanitizer, LeakSanitizer or UBSan report. No-op (0) when not
 * running. */
int harness_server_stop(struct harness_server *srv);

/* Stops the server if still running; on failed (or srv->failed) prints the
 * error-log tail and keeps the run directory, else removes it; frees.
 * NULL is a no-op. */
void harness_server_free(struct harness_server *srv, int failed);

/* 1 while the lighttpd process runs. */
int harness_server_alive(struct harness_server *srv);

/* Prints the last `lines` lines of <rundir>/error.log (and of lighttpd's
 * own stdout/stderr file) to stderr. */
void harness_server_dump_log(const struct harness_server *srv, int lines);

/* Everything lighttpd and the workers logged, into out (replacing it):
 * <rundir>/error.log (server.errorlog) followed by lighttpd's own
 * stdout/stderr, which is where the workers' stderr goes under -D unless
 * the config sets server.breakagelog. 0, or -1 if neither exists. */
int harness_server_read_log(const struct harness_server *srv, struct roost_buf *out);

/* Pids of live (non-zombie) worker processes spawned by this server's
 * lighttpd: direct children of srv->pid that carry the run's environment
 * marker and are not lighttpd itself (a freshly forked, not yet exec'd
 * child is skipped). Returns the count (at most max stored). */
int harness_worker_pids(const struct harness_server *srv, pid_t *pids, int max);

/* Waits (polling every 5 ms, at most timeout_ms) until exactly `count`
 * workers run and none of them is `gone` (0: any). Returns the elapsed
 * milliseconds, or -1 on timeout. */
long harness_wait_workers(const struct harness_server *srv, int count, pid_t gone,
                          long timeout_ms);

/* Path of worker socket `index` (lighttpd names them <socket>-<index>);
 * caller frees. */
char *harness_worker_socket(const struct harness_server *srv, int index);

/* Multiplier for every time bound: 10 under ROOST_TEST_TRACE, else 1. */
int harness_time_scale(void);

/* Milliseconds on a monotonic clock. */
long harness_now_ms(void);

/* A 127.0.0.1 TCP port the kernel considers free right now (bind port 0,
 * getsockname, close), for a helper server a test starts itself; whoever
 * binds it must cope with losing it to someone else. -1 on failure. */
int harness_free_port(void);

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

struct harness_header {
    char *name;
    char *value;
};

struct harness_response {
    long status;                 /* 0: no HTTP response (see error) */
    struct roost_buf body;       /* bytes as received (binary-safe) */
    struct harness_header *headers;
    size_t nheaders, alloc;
    char error[256];             /* transport error text, "" if none */
    char what[160];              /* "PUT /v1/cache/x" for messages */
};

void harness_response_init(struct harness_response *r);
void harness_response_reset(struct harness_response *r);
void harness_response_release(struct harness_response *r);

/* First header named name (case-insensitive), value without surrounding
 * blanks; NULL when absent. Borrowed until the response is reset. */
const char *harness_response_header(const struct harness_response *r, const char *name);
/* Number of headers named name. */
size_t harness_response_header_count(const struct harness_response *r, const char *name);

/* The body parsed as JSON (strict, whole body); NULL if it is not JSON.
 * Caller releases with json_object_put. */
struct json_object *harness_response_json(const struct harness_response *r);

/* One reused libcurl easy handle (keep-alive to lighttpd) per client. */
struct harness_client;

struct harness_client *harness_client_new(const struct harness_server *srv);
/* For a client made after fork (or without a server object). */
struct harness_client *harness_client_new_url(const char *base_url);
void harness_client_free(struct harness_client *c);
/* 1: a new TCP connection for every request. */
void harness_client_fresh(struct harness_client *c, int on);
/* Number of requests this client has sent. */
unsigned long harness_client_count(const struct harness_client *c);

/*
 * Sends method target (raw, sent exactly as given: no dot-segment removal,
 * no re-encoding) with extra header lines (NULL-terminated, curl syntax:
 * "Name: value", "Name;" for an empty value). body NULL: no body; else
 * body_len bytes (0 allowed: an empty body with Content-Length: 0). With a
 * body and no Content-Type among the headers, none is sent. HEAD gets no
 * body. Returns 0 when an HTTP response arrived (any status), -1 otherwise
 * (resp->error says why). resp is reset first.
 */
int harness_request(struct harness_client *c, const char *method, const char *target,
                    const char *const *headers, const void *body, size_t body_len,
                    struct harness_response *resp);

/*
 * The same request spoken as FastCGI directly to one worker's socket,
 * bypassing lighttpd (which sends every sequential request to the same
 * worker): the CGI parameters are those lighttpd sends (REQUEST_URI raw,
 * HTTP_* headers, CONTENT_TYPE/CONTENT_LENGTH). The CGI "Status:" header
 * becomes resp->status (200 if absent). Returns 0 or -1 as above.
 */
int harness_fcgi_request(const char *socket_path, const char *method, const char *target,
                         const char *const *headers, const void *body, size_t body_len,
                         struct harness_response *resp);

/* As harness_fcgi_request, plus CGI parameters a lighttpd module would
 * add (NULL-terminated "NAME=value", e.g. "REMOTE_USER=alice" as mod_auth
 * sets it), sent after the standard ones. params NULL: none. */
int harness_fcgi_request_params(const char *socket_path, const char *method, const char *target,
                                const char *const *headers, const char *const *params,
                                const void *body, size_t body_len, struct harness_response *resp);

/* ------------------------------------------------------------------ */
/* Assertions (cmocka; include <cmocka.h> first). On failure they print  */
/* the request, the status, the headers and the start of the body.      */

#define assert_http_status(resp, want) \
    harness_assert_status((resp), (want), __FILE__, __LINE__)
/* status, Content-Type application/json, body an object with a non-empty
 * string "error" and "code" equal to code. */
#define assert_json_error(resp, want_status, code) \
    harness_assert_json_error((resp), (want_status), (code), __FILE__, __LINE__)
/* body equals (len, bytes) exactly. */
#define assert_body_eq(resp, ptr, len) \
    harness_assert_body((resp), (ptr), (len), __FILE__, __LINE__)
/* body parses to JSON equal (json_object_equal) to expected_json. */
#define assert_json_body_eq(resp, expected_json) \
    harness_assert_json_body((resp), (expected_json), __FILE__, __LINE__)

void harness_assert_status(const struct harness_response *r, long want, const char *file,
                           int line);
void harness_assert_json_error(const struct harness_response *r, long want_status,
                               const char *code, const char *file, int line);
void harness_assert_body(const struct harness_response *r, const void *ptr, size_t len,
                         const char *file, int line);
void harness_assert_json_body(const struct harness_response *r, const char *expected_json,
                              const char *file, int line);
/* Prints what resp holds (request, status, headers, body start). */
void harness_response_print(const struct harness_response *r);

/* Percent-encodes every byte outside [A-Za-z0-9._~-] (so '/' becomes %2F
 * and '+' %2B). Caller frees. */
char *harness_pct_encode(const void *ptr, size_t len);

/* Forks and execs `lighttpd -D -f conf` (env NULL: the test's own
 * environment) with stdin from /dev/null and stdout and stderr appended to
 * out_path, in a process group of its own, and SIGTERM'd if the test
 * program dies. The child's pid, or -1. */
pid_t harness_spawn_lighttpd(const char *lighttpd, const char *conf, char *const env[],
                             const char *out_path);

/* "Authorization: Basic base64(user:password)" as a header line for the
 * request helpers; caller frees. */
char *harness_basic_auth(const char *user, const char *password);

#endif
