/*
 * test_lookup.c - the instance lookup (issue 6) through a real lighttpd and
 * 4 real workers, against a real config service: a second lighttpd on
 * another loopback port serving JSON files, whose access log counts every
 * question roost asks it.
 *
 * Source of truth: issue 6 "Parts" and "Tests that must exist" ("issue"),
 * spec/instance-lookup.md ("spec"), DESIGN.md "Mapping the lookup spec" and
 * its settings table ("DESIGN"), and lib/resolver.h ("resolver.h": which
 * code comes when). Each test quotes the rule it checks.
 *
 * The config service (started once, in main):
 *   lighttpd -D -f <dir>/config-service.conf on a free 127.0.0.1 port,
 *   document root <dir>/www holding {instances,projects,users}/{id}.json;
 *   mod_rewrite maps GET /{collection}/{id} (what roost asks an http source)
 *   to {id}.json, so the same directory is also the file:// source of the
 *   file group. Its access log goes through a piped logger ("|cat >> file")
 *   because lighttpd buffers a plain access-log file for up to 4 s, while a
 *   pipe is written at the end of every request; one line per request:
 *   "%r|%s|%{X-User-ID}i|%{X-Request-ID}i".
 *   A blackhole: a socket that listen()s on another loopback port and never
 *   accepts, so a request to it is never answered (the timeout case).
 *
 * Test organization: one roost server per group, each with a store of its
 * own (so the shared counters of each group start at 0).
 *   group    roost settings                                  tests
 *   http     ROOST_CONFIG_SOURCE=http://config service,      test_chain__*,
 *            TTL 2 s, ROOST_TRUSTED_USER_HEADER=X-User-ID,   test_cache__*,
 *            ROOST_DEFAULT_INSTANCE=dflt, ROOST_ADMIN_TOKEN  test_status__*,
 *                                                            test_source__*,
 *                                                            test_request_id__*,
 *                                                            test_access__*,
 *                                                            test_stats__*,
 *                                                            test_admin__*,
 *                                                            test_stale__* (last:
 *                                                            stops the service)
 *   file     ROOST_CONFIG_SOURCE=file://<dir>/www, TTL 2 s,  test_file__*
 *            ROOST_TRUSTED_USER_HEADER=X-User-ID,
 *            ROOST_DEFAULT_INSTANCE=f-a
 *   auth     http source, ROOST_REQUIRE_AUTH=1,              test_auth__*
 *            ROOST_ADMIN_USERS=ops, lighttpd's real mod_auth
 *            (basic, plain userfile) for every request that
 *            carries an Authorization header
 *   nostale  http source, TTL 2 s, ROOST_CONFIG_USE_STALE=0  test_nostale__*
 *   timeout  source = the blackhole, ROOST_CONFIG_TIMEOUT_MS  test_timeout__*
 *            =300, TTL 2 s; stale entries seeded through the
 *            library on the server's store
 *
 * Time: TTLs are whole seconds (cached_at is a unix second), so a 2 s TTL
 * leaves an entry fresh for at least 1 s; tests that need "still fresh"
 * check they ran inside that second. Expiry is awaited by bounded polling,
 * never by a fixed sleep. Every bound is multiplied by harness_time_scale().
 * Forked clients never call cmocka: they count into shared memory and
 * _exit(); the parent checks.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "config_cache.h"
#include "config_source.h"
#include "error.h"
#include "harness.h"
#include "store.h"
#include "testlib.h"

#define WORKERS 4
#define TOKEN "roost-lookup-test-token-2b7d91c3e5"
#define TTL_S 2
/* Longest wait for an entry to expire: TTL, the second it may have been
 * cached in, and slack for a loaded machine. */
#define EXPIRY_WAIT_MS ((TTL_S + 3) * 1000)
#define POLL_MS 50
#define TIMEOUT_MS 300            /* ROOST_CONFIG_TIMEOUT_MS of the timeout group */

/* ------------------------------------------------------------------ */
/* small utilities                                                     */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static long scaled(long ms)
{
    return ms * harness_time_scale();
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

static int read_text(const char *path, struct roost_buf *out)
{
    roost_buf_reset(out);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        roost_buf_append(out, tmp, n);
    fclose(f);
    return 0;
}

static int is_uuid_v4(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* ------------------------------------------------------------------ */
/* the config service: a second lighttpd serving JSON files            */

struct config_service {
    char *dir;           /* mkdtemp'd: www/, conf, logs */
    char *www;           /* document root = the file:// source */
    char *conf;
    char *access_log;
    int port;            /* kept across restarts */
    pid_t pid;           /* 0: stopped */
    char url[64];        /* "http://127.0.0.1:PORT" */
    int failed;
};

static struct config_service cs;

static int blackhole_fd = -1;
static int blackhole_port;

static int tcp_connects(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static const char *lighttpd_binary(void)
{
    const char *l = getenv("ROOST_LIGHTTPD");
    if (l && *l)
        return l;
    if (access("/usr/sbin/lighttpd", X_OK) == 0)
        return "/usr/sbin/lighttpd";
    return "lighttpd";
}

static int cs_write_conf(void)
{
    char *text = xasprintf(
        "# test_lookup: the config service roost asks for instance configs\n"
        "server.modules = ( \"mod_rewrite\", \"mod_accesslog\" )\n"
        "server.bind = \"127.0.0.1\"\n"
        "server.port = %d\n"
        "server.document-root = \"%s\"\n"
        "server.errorlog = \"%s/error.log\"\n"
        "server.tag = \"roost-test-config-service\"\n"
        "# roost asks {base}/{collection}/{id}; the files are {id}.json so that\n"
        "# the same directory serves the file:// source\n"
        "url.rewrite-once = ( \"^/(instances|projects|users)/([A-Za-z0-9._-]+)$\" => \"/$1/$2.json\" )\n"
        "mimetype.assign = ( \".json\" => \"application/json\" )\n"
        "# a pipe: written per request (a plain file is buffered up to 4 s)\n"
        "accesslog.filename = \"|exec /bin/cat >> '%s'\"\n"
        "accesslog.format = \"%%r|%%s|%%{X-User-ID}i|%%{X-Request-ID}i\"\n",
        cs.port, cs.www, cs.dir, cs.access_log);
    int rc = write_text(cs.conf, text);
    free(text);
    return rc;
}

static void cs_kill(void)
{
    if (cs.pid <= 0)
        return;
    kill(cs.pid, SIGTERM);
    long deadline = harness_now_ms() + scaled(5000);
    int status;
    while (waitpid(cs.pid, &status, WNOHANG) == 0) {
        if (harness_now_ms() > deadline) {
            kill(cs.pid, SIGKILL);
            waitpid(cs.pid, &status, 0);
            break;
        }
        sleep_ms(5);
    }
    /* the piped logger is in lighttpd's process group (our child's
     * setpgid); it ends on EOF, this only hurries it */
    kill(-cs.pid, SIGTERM);
    cs.pid = 0;
}

/* Starts the config service; on a restart, on the port it had (lighttpd
 * binds with SO_REUSEADDR). 0 when it answers; -1 otherwise. */
static int cs_start(void)
{
    int fixed = cs.port > 0;
    for (int attempt = 1; attempt <= 5; attempt++) {
        if (!fixed)
            cs.port = harness_free_port();
        if (cs.port <= 0 || cs_write_conf() < 0)
            return -1;
        snprintf(cs.url, sizeof(cs.url), "http://127.0.0.1:%d", cs.port);
        char *out = xasprintf("%s/lighttpd.out", cs.dir);
        pid_t pid = harness_spawn_lighttpd(lighttpd_binary(), cs.conf, NULL, out);
        if (pid < 0) {
            free(out);
            return -1;
        }
        free(out);
        cs.pid = pid;
        long deadline = harness_now_ms() + scaled(10000);
        int status, died = 0;
        while (harness_now_ms() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                died = 1;
                break;
            }
            if (tcp_connects(cs.port)) {
                /* our server, not whoever else might hold the port */
                struct harness_client *c = harness_client_new_url(cs.url);
                struct harness_response r;
                harness_response_init(&r);
                int ok = harness_request(c, "GET", "/ready-probe", NULL, NULL, 0, &r) == 0
                         && harness_response_header(&r, "Server")
                         && strcmp(harness_response_header(&r, "Server"), "roost-test-config-service") == 0;
                harness_response_release(&r);
                harness_client_free(c);
                if (ok)
                    return 0;
            }
            sleep_ms(10);
        }
        if (!died)
            cs_kill();
        cs.pid = 0;
        fprintf(stderr, "test: config service on port %d did not start (attempt %d)\n", cs.port,
                attempt);
        if (fixed)
            break;
    }
    cs.failed = 1;
    return -1;
}

/* id.json under collection; replaced atomically (rename), so neither the
 * service nor the file:// source ever reads half a file. */
static void put_doc(const char *collection, const char *id, const char *json)
{
    char *tmp = xasprintf("%s/%s/.%s.tmp", cs.www, collection, id);
    char *path = xasprintf("%s/%s/%s.json", cs.www, collection, id);
    if (write_text(tmp, json) < 0 || rename(tmp, path) < 0)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    free(tmp);
    free(path);
}

static void remove_doc(const char *collection, const char *id)
{
    char *path = xasprintf("%s/%s/%s.json", cs.www, collection, id);
    if (unlink(path) < 0)
        fail_msg("cannot remove %s: %s", path, strerror(errno));
    free(path);
}

#define ACTIVE "{\"status\":\"active\"}"

static int cs_setup_dir(void)
{
    cs.dir = roost_test_tmpdir("lookup-cs");
    cs.www = xasprintf("%s/www", cs.dir);
    cs.conf = xasprintf("%s/config-service.conf", cs.dir);
    cs.access_log = xasprintf("%s/access.log", cs.dir);
    const char *sub[] = { "", "/instances", "/projects", "/users" };
    for (size_t i = 0; i < 4; i++) {
        char *d = xasprintf("%s%s", cs.www, sub[i]);
        int rc = mkdir(d, 0755);
        free(d);
        if (rc < 0)
            return -1;
    }
    /* http group */
    put_doc("instances", "in-a",
            "{\"status\":\"active\",\"owner_id\":\"u-owner\",\"quota\":{\"max_keys\":1000},"
            "\"rate_limits\":{\"ideogram\":{\"rpm\":60}},\"worker_urls\":{\"image_gen\":"
            "\"https://w.example/img\"},\"api_keys\":{\"ideogram\":\"k-123\"},"
            "\"extra\":{\"nested\":[1,2,{\"deep\":true}]}}");
    const char *active[] = { "in-b", "in-c", "dflt", "in-q", "in-exp", "in-gone", "in-st",
                             "in-stats", "in-rid", "in-w1", "in-w2", "in-rush", "in-x", "in-long",
                             "in-broken" };
    for (size_t i = 0; i < sizeof(active) / sizeof(active[0]); i++)
        put_doc("instances", active[i], ACTIVE);
    put_doc("instances", "in-paused", "{\"status\":\"paused\",\"owner_id\":\"\"}");
    put_doc("instances", "in-migrating", "{\"status\":\"migrating\"}");
    put_doc("instances", "in-hdr", "{\"status\":\"active\",\"owner_id\":\"u-hdr\"}");
    put_doc("projects", "pr-b", "{\"instance_id\":\"in-b\"}");
    put_doc("projects", "pr-none", "{\"name\":\"a project with no instance\"}");
    put_doc("users", "u-c", "{\"default_instance_id\":\"in-c\"}");
    put_doc("users", "u-admin", "{\"roles\":[\"admin\"]}");
    put_doc("users", "u-plain", "{\"roles\":[\"user\"]}");
    put_doc("users", "u-owner", "{\"default_instance_id\":\"in-a\"}");
    /* file group */
    put_doc("instances", "f-a", ACTIVE);
    put_doc("instances", "f-exp", ACTIVE);
    put_doc("instances", "f-bad", ACTIVE);
    put_doc("instances", "f-gone", ACTIVE);
    put_doc("instances", "f-paused", "{\"status\":\"paused\"}");
    put_doc("projects", "f-pr", "{\"instance_id\":\"f-a\"}");
    put_doc("users", "f-u", "{\"default_instance_id\":\"f-a\"}");
    /* auth group */
    put_doc("instances", "au-owned", "{\"status\":\"active\",\"owner_id\":\"alice\"}");
    put_doc("instances", "au-alice2", "{\"status\":\"active\",\"owner_id\":\"alice\"}");
    /* answers that are no config (http group) */
    put_doc("instances", "in-badjson", "{\"status\": \"active\"");
    put_doc("instances", "in-array", "[{\"status\":\"active\"}]");
    char *d = xasprintf("%s/instances/in-isdir.json", cs.www);   /* lighttpd: 301 */
    int rc = mkdir(d, 0755);
    free(d);
    if (rc < 0)
        return -1;
    struct roost_buf big = ROOST_BUF_INIT;
    roost_buf_append_str(&big, "{\"status\":\"active\",\"pad\":\"");
    for (size_t i = 0; i < ROOST_CONFIG_RESPONSE_MAX + 100; i++)
        roost_buf_append_char(&big, 'p');
    roost_buf_append_str(&big, "\"}");
    put_doc("instances", "in-huge", big.ptr);
    roost_buf_release(&big);
    put_doc("instances", "au-open", ACTIVE);
    put_doc("users", "alice", "{\"default_instance_id\":\"au-owned\"}");
    put_doc("users", "root", "{\"roles\":[\"admin\"]}");
    put_doc("users", "bob", "{\"roles\":[\"user\"]}");
    /* nostale group */
    put_doc("instances", "ns-1", ACTIVE);
    return 0;
}

/* A socket that takes connections into its backlog and never answers. */
static int blackhole_open(void)
{
    blackhole_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (blackhole_fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(blackhole_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(blackhole_fd, 64) < 0
        || getsockname(blackhole_fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    blackhole_port = ntohs(sa.sin_port);
    return 0;
}

/* ---- the access log: what roost asked --------------------------------- */

struct source_line {
    char status[8];
    char user[160];
    char request_id[160];
};

/* Lines "GET {path} HTTP/1.1|status|user|reqid" for path; the last one's
 * fields into last (may be NULL). */
static int source_count(const char *path, struct source_line *last)
{
    struct roost_buf b = ROOST_BUF_INIT;
    char *prefix = xasprintf("GET %s HTTP/", path);
    size_t plen = strlen(prefix);
    int n = 0;
    if (read_text(cs.access_log, &b) == 0) {
        const char *p = b.ptr, *end = b.ptr + b.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break; /* a line still being written */
            if ((size_t)(nl - p) > plen && memcmp(p, prefix, plen) == 0) {
                n++;
                if (last) {
                    char line[512];
                    size_t len = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) : sizeof(line) - 1;
                    memcpy(line, p, len);
                    line[len] = '\0';
                    char *f[4] = { NULL };
                    char *save = NULL, *tok = strtok_r(line, "|", &save);
                    for (int i = 0; i < 4 && tok; i++, tok = strtok_r(NULL, "|", &save))
                        f[i] = tok;
                    snprintf(last->status, sizeof(last->status), "%s", f[1] ? f[1] : "");
                    snprintf(last->user, sizeof(last->user), "%s", f[2] ? f[2] : "");
                    snprintf(last->request_id, sizeof(last->request_id), "%s", f[3] ? f[3] : "");
                }
            }
            p = nl + 1;
        }
    }
    free(prefix);
    roost_buf_release(&b);
    return n;
}

static void print_source_log(void)
{
    struct roost_buf b = ROOST_BUF_INIT;
    if (read_text(cs.access_log, &b) == 0) {
        size_t start = b.len > 3000 ? b.len - 3000 : 0;
        fprintf(stderr, "---- config service access log (last %zu bytes) ----\n%.*s---- end ----\n",
                b.len - start, (int)(b.len - start), b.ptr + start);
    }
    roost_buf_release(&b);
}

/* The service writes its log line just after answering, so a count is
 * settled when it has stayed the same for a moment. Fails at once on more
 * than want (an extra question is exactly what these tests look for). */
#define assert_source_hits(path, want) assert_source_hits_at((path), (want), __LINE__)
static void assert_source_hits_at(const char *path, int want, int line)
{
    long deadline = harness_now_ms() + scaled(2000), stable_since = -1;
    int n = -1;
    for (;;) {
        int now_n = source_count(path, NULL);
        if (now_n > want)
            break;
        if (now_n != n) {
            n = now_n;
            stable_since = harness_now_ms();
        } else if (n == want && harness_now_ms() - stable_since >= 60) {
            return;
        }
        if (harness_now_ms() > deadline)
            break;
        sleep_ms(5);
    }
    n = source_count(path, NULL);
    print_source_log();
    fail_msg("line %d: the config service was asked GET %s %d time(s), expected %d", line, path, n,
             want);
}

/* ------------------------------------------------------------------ */
/* roost groups                                                        */

struct group {
    const char *name;
    struct harness_server *srv;
    struct harness_client *http;
    char *sock[WORKERS];
};

static struct group g_http = { .name = "http" }, g_file = { .name = "file" },
                    g_auth = { .name = "auth" }, g_nostale = { .name = "nostale" },
                    g_timeout = { .name = "timeout" };
static struct group *g;                 /* the running group */
static struct harness_response resp;    /* the last response */
static long resp_ms;                    /* how long it took */
static unsigned long requests_total;

/* Starts gr's roost with env; with conf_extra, lighttpd runs roost-local.conf
 * plus conf_extra, and users (may be NULL) is written to <rundir>/users.txt. */
static int start_group(struct group *gr, const char *const *env, const char *conf_extra,
                       const char *users)
{
    g = gr;
    struct harness_opts o = HARNESS_OPTS_INIT;
    char tag[32];
    snprintf(tag, sizeof(tag), "lookup-%s", gr->name);
    o.tag = tag;
    o.env = env;
    o.workers = WORKERS;
    gr->srv = harness_server_new(&o);
    if (conf_extra) {
        const char *top = getenv("ROOST_TOP_SRCDIR");
        char *path = xasprintf("%s/lighttpd-lookup.conf", gr->srv->rundir);
        char *text = xasprintf("# test_lookup %s group\ninclude \"%s/www-conf/roost-local.conf\"\n%s",
                               gr->name, top, conf_extra);
        int rc = write_text(path, text);
        free(text);
        if (rc == 0 && users) {
            char *upath = xasprintf("%s/users.txt", gr->srv->rundir);
            rc = write_text(upath, users);
            free(upath);
        }
        if (rc < 0) {
            free(path);
            return -1;
        }
        free(gr->srv->conf);
        gr->srv->conf = path;
    }
    if (harness_server_start(gr->srv) != 0)
        return -1;
    gr->http = harness_client_new(gr->srv);
    for (int i = 0; i < WORKERS; i++)
        gr->sock[i] = harness_worker_socket(gr->srv, i);
    printf("# %s: lighttpd pid %d on %s, ready in %ld ms, run dir %s\n", gr->name, (int)gr->srv->pid,
           gr->srv->base_url, gr->srv->startup_ms, gr->srv->rundir);
    return 0;
}

static int stop_group(void **state)
{
    (void)state;
    struct group *gr = g;
    if (gr->http) {
        requests_total += harness_client_count(gr->http);
        harness_client_free(gr->http);
        gr->http = NULL;
    }
    for (int i = 0; i < WORKERS; i++) {
        free(gr->sock[i]);
        gr->sock[i] = NULL;
    }
    /* a test that stopped the service and failed half-way must not take
     * the next groups down with it */
    if (cs.pid <= 0 && !cs.failed)
        cs_start();
    return harness_server_stop(gr->srv);
}

/* ---- requests ------------------------------------------------------- */

/* method target with header lines (NULL-terminated, may be NULL), through
 * lighttpd (worker < 0) or FastCGI straight to worker's socket. */
static void send_req(int worker, const char *method, const char *target, const char *const *headers,
                     const char *body)
{
    long t0 = harness_now_ms();
    int rc;
    size_t blen = body ? strlen(body) : 0;
    if (worker < 0)
        rc = harness_request(g->http, method, target, headers, body, blen, &resp);
    else
        rc = harness_fcgi_request(g->sock[worker % WORKERS], method, target, headers, body, blen, &resp);
    resp_ms = harness_now_ms() - t0;
    if (rc != 0) {
        harness_response_print(&resp);
        fail_msg("%s %s: no HTTP response", method, target);
    }
}

#define HDRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* GET of a key nobody wrote: resolution ran and the instance was served
 * when the answer is 404 KEY_NOT_FOUND. */
static void probe(int worker, const char *instance_hdr_value, const char *const *more)
{
    const char *h[8] = { NULL };
    size_t n = 0;
    char *ih = instance_hdr_value ? xasprintf("X-Instance-ID: %s", instance_hdr_value) : NULL;
    if (ih)
        h[n++] = ih;
    for (const char *const *m = more; m && *m && n < 7; m++)
        h[n++] = *m;
    send_req(worker, "GET", "/v1/cache/never-written", h, NULL);
    free(ih);
}

static const char *origin(void)
{
    return harness_response_header(&resp, "X-Config-Source");
}

#define assert_served(want_origin) assert_served_at((want_origin), __LINE__)
static void assert_served_at(const char *want_origin, int line)
{
    const char *o = origin();
    if (resp.status == 404 && harness_response_header_count(&resp, "X-Config-Source") == 1
        && o && (!want_origin || strcmp(o, want_origin) == 0)) {
        struct json_object *j = harness_response_json(&resp), *code;
        int ok = j && json_object_object_get_ex(j, "code", &code)
                 && strcmp(json_object_get_string(code), "KEY_NOT_FOUND") == 0;
        json_object_put(j);
        if (ok)
            return;
    }
    harness_response_print(&resp);
    fail_msg("line %d: expected the instance served (404 KEY_NOT_FOUND) with X-Config-Source: %s",
             line, want_origin ? want_origin : "(any)");
}

#define assert_origin(want) assert_origin_at((want), __LINE__)
static void assert_origin_at(const char *want, int line)
{
    const char *o = origin();
    if (o && strcmp(o, want) == 0 && harness_response_header_count(&resp, "X-Config-Source") == 1)
        return;
    harness_response_print(&resp);
    fail_msg("line %d: expected X-Config-Source: %s", line, want);
}

/* PUT /v1/cache/{key}: the body names the instance that served it. */
static void put_value(int worker, const char *target, const char *const *headers, const char *value)
{
    send_req(worker, "PUT", target, headers, value);
}

#define assert_put_instance(id) assert_put_instance_at((id), __LINE__)
static void assert_put_instance_at(const char *id, int line)
{
    struct json_object *j = harness_response_json(&resp), *v;
    int ok = (resp.status == 200 || resp.status == 201) && j
             && json_object_object_get_ex(j, "instance_id", &v) && strcmp(json_object_get_string(v), id) == 0;
    json_object_put(j);
    if (ok)
        return;
    harness_response_print(&resp);
    fail_msg("line %d: expected the PUT to be served by instance '%s'", line, id);
}

static struct json_object *body_json(void)
{
    struct json_object *j = harness_response_json(&resp);
    if (!j) {
        harness_response_print(&resp);
        fail_msg("body is not JSON");
    }
    return j;
}

static int64_t jint(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
        fail_msg("no integer \"%s\" in %s", name, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

static const char *admin_hdr[] = { "Authorization: Bearer " TOKEN, NULL };

struct cache_stats {
    int64_t hits, misses, stale_hits, evictions;
};

static struct cache_stats get_stats(void)
{
    send_req(-1, "GET", "/v1/admin/cache/stats", admin_hdr, NULL);
    assert_http_status(&resp, 200);
    struct json_object *j = body_json();
    struct cache_stats s = { jint(j, "hits"), jint(j, "misses"), jint(j, "stale_hits"),
                             jint(j, "evictions") };
    json_object_put(j);
    return s;
}

/* Polls instance id (through lighttpd) until done(resp) or the bound;
 * every answer before must be "still as before": served from the cache.
 * Returns the number of polls. */
typedef int (*poll_done_fn)(void);

static int poll_until(const char *id, poll_done_fn done, long bound_ms, const char *what)
{
    long deadline = harness_now_ms() + scaled(bound_ms);
    int polls = 0;
    for (;;) {
        probe(-1, id, NULL);
        polls++;
        if (done())
            return polls;
        /* until then the cached config must be what answers */
        if (resp.status != 404 || !origin() || strcmp(origin(), "cache") != 0) {
            harness_response_print(&resp);
            fail_msg("while waiting for %s of '%s': expected a fresh cache hit meanwhile", what, id);
        }
        if (harness_now_ms() > deadline) {
            harness_response_print(&resp);
            fail_msg("'%s': %s did not happen within %ld ms", id, what, scaled(bound_ms));
        }
        sleep_ms(POLL_MS);
    }
}

static int error_code_is(const char *code)
{
    struct json_object *j = harness_response_json(&resp), *v;
    int ok = j && json_object_object_get_ex(j, "code", &v) && strcmp(json_object_get_string(v), code) == 0;
    json_object_put(j);
    return ok;
}

/* A JSON error with a 4xx status: the client's mistake, answered as one
 * (DESIGN "Errors are always JSON ... never a bare 500"). */
#define assert_client_error(what) assert_client_error_at((what), __LINE__)
static void assert_client_error_at(const char *what, int line)
{
    struct json_object *j = harness_response_json(&resp), *v;
    int ok = resp.status >= 400 && resp.status < 500 && j && json_object_object_get_ex(j, "code", &v)
             && json_object_is_type(v, json_type_string);
    json_object_put(j);
    if (ok)
        return;
    harness_response_print(&resp);
    fail_msg("line %d: %s: expected a 4xx JSON error, not status %ld", line, what, resp.status);
}

static int done_paused(void)
{
    return resp.status == 503 && error_code_is("INSTANCE_PAUSED");
}

static int done_stale(void)
{
    return resp.status == 404 && origin() && strcmp(origin(), "stale_cache") == 0;
}

static int done_unavailable(void)
{
    return resp.status == 503 && error_code_is("CONFIG_SERVICE_UNAVAILABLE");
}

/* ------------------------------------------------------------------ */
/* group http: the resolution chain                                     */

/* EVIDENCE-OF: spec "Resolution Flow" 1 "Check context.instance_id (from
 * X-Instance-ID header)"; DESIGN "header X-Instance-ID wins over query
 * instance_id"; resolver.h link 1 comes before project and user: with an
 * explicit id nobody asks the source about the project or the user. */
static void test_chain__explicit_header_then_query(void **state)
{
    (void)state;
    put_value(-1, "/v1/cache/k1", HDRS("X-Instance-ID: in-b"), "b");
    assert_http_status(&resp, 201);
    assert_put_instance("in-b");
    assert_origin("source");
    assert_source_hits("/instances/in-b", 1);

    put_value(-1, "/v1/cache/k1?instance_id=in-c", NULL, "c");
    assert_put_instance("in-c");
    assert_origin("source");

    put_value(-1, "/v1/cache/k1?instance_id=in-c", HDRS("X-Instance-ID: in-b"), "b2");
    assert_http_status(&resp, 200);
    assert_put_instance("in-b");
    assert_origin("cache");

    put_value(-1, "/v1/cache/k1?project_id=pr-b", HDRS("X-Instance-ID: in-c", "X-Project-ID: pr-b",
                                                        "X-User-ID: u-c"), "c2");
    assert_put_instance("in-c");
    assert_source_hits("/projects/pr-b", 0);
    assert_source_hits("/users/u-c", 0);
    assert_source_hits("/instances/in-b", 1);
    assert_source_hits("/instances/in-c", 1);
}

/* EVIDENCE-OF: issue part 1 "project id from an X-Project-ID header or the
 * project_id query parameter, mapping held by the config source at
 * /projects/{id} and cached like configs"; resolver.h: a project that maps
 * to no instance is INVALID_CONTEXT. */
static void test_chain__project_header_and_query(void **state)
{
    (void)state;
    put_value(-1, "/v1/cache/kp", HDRS("X-Project-ID: pr-b"), "via project");
    assert_put_instance("in-b");
    assert_source_hits("/projects/pr-b", 1);
    put_value(-1, "/v1/cache/kp?project_id=pr-b", NULL, "via query");
    assert_put_instance("in-b");
    /* the project before the user's default */
    put_value(2, "/v1/cache/kp", HDRS("X-Project-ID: pr-b", "X-User-ID: u-c"), "x");
    assert_put_instance("in-b");
    assert_source_hits("/projects/pr-b", 1);     /* cached like configs */
    assert_source_hits("/users/u-c", 0);

    put_value(-1, "/v1/cache/kp", HDRS("X-Project-ID: pr-none"), "x");
    assert_json_error(&resp, 400, "INVALID_CONTEXT");
    put_value(-1, "/v1/cache/kp", HDRS("X-Project-ID: pr-missing"), "x");
    assert_json_error(&resp, 400, "INVALID_CONTEXT");
    assert_source_hits("/projects/pr-missing", 1);
    put_value(-1, "/v1/cache/kp?project_id=a%20b", NULL, "x");
    assert_json_error(&resp, 400, "INVALID_PROJECT_ID");
}

/* EVIDENCE-OF: spec "Fallback to context.user.default_instance_id"; issue
 * part 1 "the user's default instance (default_instance_id of the user,
 * from the config source at /users/{id}, cached)"; part 5 the user is the
 * ROOST_TRUSTED_USER_HEADER when the operator names one; resolver.h
 * "INVALID_CONTEXT when ... the user's record names no usable default
 * instance; MISSING_INSTANCE_ID ... when the request gave nothing to go on:
 * no instance, no project, no user record". */
static void test_chain__user_default(void **state)
{
    (void)state;
    put_value(-1, "/v1/cache/ku", HDRS("X-User-ID: u-c"), "via user");
    assert_put_instance("in-c");
    struct source_line sl;
    assert_source_hits("/users/u-c", 1);
    source_count("/users/u-c", &sl);
    assert_string_equal(sl.user, "u-c");
    for (int w = 0; w < WORKERS; w++) {
        put_value(w, "/v1/cache/ku", HDRS("X-User-ID: u-c"), "again");
        assert_put_instance("in-c");
    }
    assert_source_hits("/users/u-c", 1);

    put_value(-1, "/v1/cache/ku", HDRS("X-User-ID: u-plain"), "x");
    assert_json_error(&resp, 400, "INVALID_CONTEXT");
    put_value(-1, "/v1/cache/ku", HDRS("X-User-ID: u-nobody"), "x");
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
    put_value(-1, "/v1/cache/ku", NULL, "x");
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
    assert_json_body_eq(&resp, "{\"error\":\"instance ID is required\",\"code\":\"MISSING_INSTANCE_ID\"}");
}

/* EVIDENCE-OF: DESIGN settings "ROOST_DEFAULT_INSTANCE: instance used by
 * batch get ... when the request names none (single-key routes still
 * answer MISSING_INSTANCE_ID)"; resolver.h link 4 "only on routes that
 * allow it"; a user without a default falls through to it there. */
static void test_chain__configured_default_on_batch_get(void **state)
{
    (void)state;
    put_value(-1, "/v1/cache/kd", HDRS("X-Instance-ID: dflt"), "from-dflt");
    assert_put_instance("dflt");
    const char *body = "{\"keys\":[\"kd\"]}";
    send_req(-1, "POST", "/v1/cache/batch/get", HDRS("Content-Type: application/json"), body);
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"kd\":\"from-dflt\"},\"missing\":[]}");
    assert_origin("cache");
    send_req(1, "POST", "/v1/cache/batch/get", HDRS("Content-Type: application/json", "X-User-ID: u-plain"),
             body);
    assert_json_body_eq(&resp, "{\"entries\":{\"kd\":\"from-dflt\"},\"missing\":[]}");
    send_req(2, "POST", "/v1/cache/batch/get", HDRS("Content-Type: application/json", "X-Instance-ID: in-b"),
             body);
    assert_json_body_eq(&resp, "{\"entries\":{},\"missing\":[\"kd\"]}");
    send_req(3, "POST", "/v1/cache/batch/get", HDRS("Content-Type: application/json", "X-User-ID: u-c"), body);
    assert_json_body_eq(&resp, "{\"entries\":{},\"missing\":[\"kd\"]}"); /* u-c's in-c first */
    assert_source_hits("/instances/dflt", 1);
}

/* ------------------------------------------------------------------ */
/* group http: the cache                                                */

/* EVIDENCE-OF: spec "If found and fresh (within TTL): return immediately";
 * issue "fresh hits don't touch the source (count its access-log lines)";
 * the cache is the shared store, so every worker sees the entry another
 * one fetched. */
static void test_cache__fresh_hits_do_not_touch_source(void **state)
{
    (void)state;
    for (int attempt = 0; attempt < 3; attempt++) {
        char id[16];
        snprintf(id, sizeof(id), attempt ? "in-q%d" : "in-q", attempt);
        if (attempt)
            put_doc("instances", id, ACTIVE);
        char path[48];
        snprintf(path, sizeof(path), "/instances/%s", id);
        long t0 = harness_now_ms();
        probe(-1, id, NULL);
        assert_served("source");
        for (int i = 0; i < 12; i++) {
            probe(i < 8 ? -1 : i % WORKERS, id, NULL);
            assert_served("cache");
        }
        /* inside the second the entry is guaranteed fresh in (TTL 2 s) */
        if (harness_now_ms() - t0 >= 900 * harness_time_scale()) {
            fprintf(stderr, "test: 13 requests took %ld ms; again\n", harness_now_ms() - t0);
            continue;
        }
        assert_source_hits(path, 1);
        return;
    }
    fail_msg("13 requests never fitted in 900 ms");
}

/* EVIDENCE-OF: spec "If expired: proceed to step 3" (fetch again); issue
 * "expiry refetches"; issue part 3 "status from the config governs state
 * enforcement" (paused -> 503 INSTANCE_PAUSED, DESIGN "each body carries
 * instance_id and status"); "Source 404 -> 404 INSTANCE_NOT_FOUND" even
 * with an expired entry at hand (resolver: "a stale copy must not keep it
 * alive"). */
static void test_cache__expiry_refetches(void **state)
{
    (void)state;
    /* in-gone and in-broken first: cached no later than in-exp, they are
     * expired once in-exp is seen refetched */
    probe(-1, "in-gone", NULL);
    assert_served(NULL);
    probe(-1, "in-broken", NULL);
    assert_served(NULL);
    probe(-1, "in-exp", NULL);
    assert_served("source");
    put_doc("instances", "in-exp", "{\"status\":\"paused\"}");
    remove_doc("instances", "in-gone");
    put_doc("instances", "in-broken", "{\"status\":");
    probe(3, "in-exp", NULL);
    if (resp.status == 404)
        assert_served("cache");            /* the old config, still fresh */
    poll_until("in-exp", done_paused, EXPIRY_WAIT_MS, "a refetch showing the paused status");
    assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    assert_origin("source");
    struct json_object *j = body_json(), *v;
    assert_true(json_object_object_get_ex(j, "instance_id", &v));
    assert_string_equal(json_object_get_string(v), "in-exp");
    assert_true(json_object_object_get_ex(j, "status", &v));
    assert_string_equal(json_object_get_string(v), "paused");
    json_object_put(j);
    assert_source_hits("/instances/in-exp", 2);
    for (int w = 0; w < WORKERS; w++) {
        probe(w, "in-exp", NULL);
        assert_json_error(&resp, 503, "INSTANCE_PAUSED");
        assert_origin("cache");
    }
    assert_source_hits("/instances/in-exp", 2);

    /* cached before in-exp's first fetch: expired too by now */
    probe(-1, "in-gone", NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    assert_source_hits("/instances/in-gone", 2);
    probe(0, "in-gone", NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    /* invalid JSON at the source: the expired entry, marked */
    probe(1, "in-broken", NULL);
    assert_served("stale_cache");
    assert_source_hits("/instances/in-broken", 2);
}

/* EVIDENCE-OF: issue part 3 "status from the config governs state
 * enforcement"; DESIGN "paused -> 503 INSTANCE_PAUSED ... each body carries
 * instance_id and status. active and migrating are served". */
static void test_status__config_status_governs(void **state)
{
    (void)state;
    for (int w = -1; w < WORKERS; w++) {
        probe(w, "in-paused", NULL);
        assert_json_error(&resp, 503, "INSTANCE_PAUSED");
        struct json_object *j = body_json(), *v;
        assert_true(json_object_object_get_ex(j, "instance_id", &v));
        assert_string_equal(json_object_get_string(v), "in-paused");
        assert_true(json_object_object_get_ex(j, "status", &v));
        assert_string_equal(json_object_get_string(v), "paused");
        json_object_put(j);
        put_value(w, "/v1/cache/k", HDRS("X-Instance-ID: in-paused"), "no");
        assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    }
    probe(-1, "in-migrating", NULL);
    assert_served(NULL);
    assert_source_hits("/instances/in-paused", 1);
}

/* EVIDENCE-OF: spec "If instance not found: throw 404"; issue "404 from the
 * source -> 404 INSTANCE_NOT_FOUND"; the spec's body. */
static void test_source__404_instance_not_found(void **state)
{
    (void)state;
    for (int w = -1; w < WORKERS; w++) {
        probe(w, "in-missing", NULL);
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
        assert_json_body_eq(&resp, "{\"error\":\"instance not found\",\"code\":\"INSTANCE_NOT_FOUND\"}");
        put_value(w, "/v1/cache/k", HDRS("X-Instance-ID: in-missing"), "no");
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    }
    struct source_line sl;
    assert_true(source_count("/instances/in-missing", &sl) >= 1);
    assert_string_equal(sl.status, "404");
}

/* EVIDENCE-OF: issue part 3 "5xx, timeout, refused connection, invalid
 * JSON -> stale if allowed ..., else 503 CONFIG_SERVICE_UNAVAILABLE";
 * config_source.h "CONFIG_SERVICE_UNAVAILABLE (... 5xx or any other status,
 * body too large, not a JSON object)", "redirects not followed", "the body
 * capped at ROOST_CONFIG_RESPONSE_MAX". None of these is an entry to keep:
 * asked again next time. */
static void test_source__bad_answers_are_outages(void **state)
{
    (void)state;
    const char *ids[] = { "in-badjson", "in-array", "in-isdir", "in-huge" };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        for (int w = 0; w < 2; w++) {
            probe(w ? (int)i % WORKERS : -1, ids[i], NULL);
            if (resp.status != 503 || !error_code_is("CONFIG_SERVICE_UNAVAILABLE")) {
                harness_response_print(&resp);
                fail_msg("instance '%s': expected 503 CONFIG_SERVICE_UNAVAILABLE", ids[i]);
            }
        }
        char path[64];
        snprintf(path, sizeof(path), "/instances/%s", ids[i]);
        assert_source_hits(path, 2);
    }
    struct source_line sl;
    source_count("/instances/in-isdir", &sl);
    assert_string_equal(sl.status, "301");
}

/* EVIDENCE-OF: DESIGN "Instance ID: ... 1-64 bytes of [A-Za-z0-9._-];
 * anything else is 400 INVALID_INSTANCE_ID", "Errors are always JSON ...
 * never a bare 500": ids and user names are the client's input, so an odd
 * one is a 4xx, whichever link of the chain it reaches. "." and ".." fit
 * the syntax (config_source.c refuses them as path segments); a user name
 * may be as long as the front lets through, and roost refuses one over
 * ROOST_USER_MAX (256 bytes) with 400 INVALID_USER whatever the instance. */
static void test_source__odd_ids_are_client_errors(void **state)
{
    (void)state;
    struct roost_buf longuser = ROOST_BUF_INIT;
    roost_buf_append_str(&longuser, "X-User-ID: ");
    for (int i = 0; i < 1100; i++)
        roost_buf_append_char(&longuser, 'u');
    /* every case is tried, then all that failed are reported together */
    struct {
        const char *what, *target, *h1, *h2;
        int want;               /* 0: any 4xx; else this status */
        const char *code;       /* with want */
    } cases[] = {
        { "X-Instance-ID: .", "/v1/cache/k", "X-Instance-ID: .", NULL, 0, NULL },
        { "X-Instance-ID: ..", "/v1/cache/k", "X-Instance-ID: ..", NULL, 0, NULL },
        { "?instance_id=..", "/v1/cache/k?instance_id=..", NULL, NULL, 0, NULL },
        { "X-Project-ID: ..", "/v1/cache/k", "X-Project-ID: ..", NULL, 0, NULL },
        { "X-Project-ID: .", "/v1/cache/k", "X-Project-ID: .", NULL, 0, NULL },
        { "X-User-ID: .. (no instance)", "/v1/cache/k", "X-User-ID: ..", NULL, 0, NULL },
        { "X-User-ID: .. on owned in-a", "/v1/cache/k", "X-Instance-ID: in-a", "X-User-ID: ..", 403,
          "ACCESS_DENIED" },
        { "X-User-ID: . on owned in-a", "/v1/cache/k", "X-Instance-ID: in-a", "X-User-ID: .", 403,
          "ACCESS_DENIED" },
        /* in-long is never cached before: the fetch carries the user */
        { "X-User-ID of 1100 bytes, unowned in-long", "/v1/cache/k", "X-Instance-ID: in-long",
          longuser.ptr, 400, "INVALID_USER" },
        { "X-User-ID of 1100 bytes, owned in-a", "/v1/cache/k", "X-Instance-ID: in-a", longuser.ptr, 400,
          "INVALID_USER" },
    };
    struct roost_buf bad = ROOST_BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *hs[3] = { cases[i].h1, cases[i].h2, NULL };
        if (!hs[0]) {
            hs[0] = hs[1];
            hs[1] = NULL;
        }
        send_req((int)(i % (WORKERS + 1)) - 1, "GET", cases[i].target, hs, NULL);
        struct json_object *j = harness_response_json(&resp), *v;
        const char *code = j && json_object_object_get_ex(j, "code", &v) ? json_object_get_string(v) : NULL;
        int ok = code && (cases[i].want ? resp.status == cases[i].want && strcmp(code, cases[i].code) == 0
                                        : resp.status >= 400 && resp.status < 500);
        if (!ok) {
            char want[64];
            if (cases[i].want)
                snprintf(want, sizeof(want), "%d %s", cases[i].want, cases[i].code);
            else
                snprintf(want, sizeof(want), "a 4xx JSON error");
            roost_buf_appendf(&bad, "  %s: GET %s -> %ld %s (expected %s)\n", cases[i].what,
                              cases[i].target, resp.status, code ? code : "(no JSON code)", want);
        }
        json_object_put(j);
    }
    roost_buf_release(&longuser);
    if (bad.len) {
        fprintf(stderr, "client input answered as a server error:\n%s", bad.ptr);
        roost_buf_release(&bad);
        fail_msg("odd ids or user names not answered as client errors (see above)");
    }
    roost_buf_release(&bad);
}

/* EVIDENCE-OF: spec "Call GET /instances/{instanceId} - Include X-User-ID
 * and X-Request-ID headers"; issue part 4 "every request gets an
 * X-Request-ID (the client's if it sent a sane one, else a fresh UUID),
 * passed to the config source and returned in the response headers". */
static void test_source__user_and_request_id_reach_source(void **state)
{
    (void)state;
    probe(-1, "in-hdr", HDRS("X-User-ID: u-hdr", "X-Request-ID: req-hdr-0001"));
    assert_served("source");
    assert_string_equal(harness_response_header(&resp, "X-Request-ID"), "req-hdr-0001");
    assert_source_hits("/instances/in-hdr", 1);
    struct source_line sl;
    source_count("/instances/in-hdr", &sl);
    assert_string_equal(sl.user, "u-hdr");
    assert_string_equal(sl.request_id, "req-hdr-0001");

    /* an insane id is replaced, and the replacement is what the source sees */
    probe(2, "in-rid", HDRS("X-Request-ID: not sane!"));
    assert_served("source");
    const char *rid = harness_response_header(&resp, "X-Request-ID");
    if (!is_uuid_v4(rid)) {
        harness_response_print(&resp);
        fail_msg("expected a fresh UUID v4 for an insane X-Request-ID");
    }
    assert_source_hits("/instances/in-rid", 1);
    source_count("/instances/in-rid", &sl);
    assert_string_equal(sl.request_id, rid);
    assert_string_equal(sl.user, "-");          /* anonymous: no X-User-ID sent */
}

/* EVIDENCE-OF: issue part 4 "every request gets an X-Request-ID (the
 * client's if it sent a sane one, else a fresh UUID) ... returned in the
 * response headers"; http.h "sane: 1-128 characters of A-Z a-z 0-9 . _ :
 * -". On every response: served, refused, unknown route, admin. */
static void test_request_id__echoed_or_replaced(void **state)
{
    (void)state;
    char long_ok[160], long_bad[160];
    memset(long_ok, 'a', 128);
    long_ok[128] = '\0';
    memset(long_bad, 'b', 129);
    long_bad[129] = '\0';
    const char *sane[] = { "abc", "A.b_c:d-9", "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc", long_ok };
    const char *targets[] = { "/health", "/v1/cache/k?instance_id=in-b", "/no/such/route",
                              "/v1/cache/k?instance_id=in-paused", "/v1/admin/cache/stats" };
    for (size_t i = 0; i < sizeof(sane) / sizeof(sane[0]); i++) {
        for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
            char *h = xasprintf("X-Request-ID: %s", sane[i]);
            send_req((int)t % 2 ? -1 : (int)(i % WORKERS), "GET", targets[t], HDRS(h), NULL);
            free(h);
            assert_int_equal(harness_response_header_count(&resp, "X-Request-ID"), 1);
            assert_string_equal(harness_response_header(&resp, "X-Request-ID"), sane[i]);
        }
    }
    char *insane[] = { "has space", long_bad, "a/b", "<script>", "ä-umlaut", "x;y", NULL };
    char seen[8][40];
    size_t nseen = 0;
    for (size_t i = 0; i < 7; i++) {
        char *h = insane[i] ? xasprintf("X-Request-ID: %s", insane[i]) : NULL;
        send_req(i % 2 ? -1 : (int)i % WORKERS, "GET", targets[i % 5], h ? HDRS(h) : NULL, NULL);
        free(h);
        const char *rid = harness_response_header(&resp, "X-Request-ID");
        if (harness_response_header_count(&resp, "X-Request-ID") != 1 || !is_uuid_v4(rid)) {
            harness_response_print(&resp);
            fail_msg("X-Request-ID '%s': expected one fresh UUID v4 instead",
                     insane[i] ? insane[i] : "(none)");
        }
        for (size_t k = 0; k < nseen; k++)
            assert_string_not_equal(seen[k], rid);
        snprintf(seen[nseen++], sizeof(seen[0]), "%s", rid);
    }
    send_req(1, "GET", "/health", HDRS("X-Request-ID;"), NULL); /* present, empty */
    assert_true(is_uuid_v4(harness_response_header(&resp, "X-Request-ID")));
}

/* EVIDENCE-OF: spec "Access Control: Instance owner can access; Users with
 * 'admin' role can access any instance; Others get 403 Access Denied";
 * issue part 5 the user from ROOST_TRUSTED_USER_HEADER, roles from the
 * config source's user record. Anonymous requests to an owned instance
 * (ROOST_REQUIRE_AUTH=0) are "others" (resolver.c check_access). */
static void test_access__owner_admin_others_by_trusted_header(void **state)
{
    (void)state;
    probe(-1, "in-a", HDRS("X-User-ID: u-owner"));
    assert_served(NULL);
    put_value(1, "/v1/cache/ka", HDRS("X-Instance-ID: in-a", "X-User-ID: u-owner"), "mine");
    assert_put_instance("in-a");
    probe(2, "in-a", HDRS("X-User-ID: u-admin"));
    assert_served("cache");
    send_req(3, "GET", "/v1/cache/ka", HDRS("X-Instance-ID: in-a", "X-User-ID: u-admin"), NULL);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "mine", 4);
    const char *others[] = { "X-User-ID: u-plain", "X-User-ID: u-nobody", "X-User-ID: U-OWNER" };
    for (size_t i = 0; i < 3; i++) {
        send_req((int)i, "GET", "/v1/cache/ka", HDRS("X-Instance-ID: in-a", others[i]), NULL);
        assert_json_error(&resp, 403, "ACCESS_DENIED");
        put_value(-1, "/v1/cache/ka", HDRS("X-Instance-ID: in-a", others[i]), "theirs");
        assert_json_error(&resp, 403, "ACCESS_DENIED");
    }
    send_req(-1, "GET", "/v1/cache/ka", HDRS("X-Instance-ID: in-a"), NULL);
    assert_json_error(&resp, 403, "ACCESS_DENIED");
    /* the owner's value is untouched */
    send_req(0, "GET", "/v1/cache/ka", HDRS("X-Instance-ID: in-a", "X-User-ID: u-owner"), NULL);
    assert_body_eq(&resp, "mine", 4);
    /* the user's default leads to an instance it owns */
    put_value(-1, "/v1/cache/kb", HDRS("X-User-ID: u-owner"), "default");
    assert_put_instance("in-a");

    /* every field of the config is kept in the cache entry (issue part 3) */
    struct roost_store *st = NULL;
    assert_int_equal(roost_store_open(g->srv->store_dir, &st), ROOST_OK);
    struct roost_config_cache c = { .store = st, .ttl = TTL_S, .stale_max = 3600,
                                    .now = roost_test_clock_now };
    roost_test_clock_set((int64_t)time(NULL));
    struct roost_config_entry e = { 0 };
    assert_int_equal(roost_config_cache_get(&c, "instances", roost_slice_cstr("in-a"), &e), ROOST_OK);
    struct json_object *want = json_tokener_parse(
        "{\"status\":\"active\",\"owner_id\":\"u-owner\",\"quota\":{\"max_keys\":1000},"
        "\"rate_limits\":{\"ideogram\":{\"rpm\":60}},\"worker_urls\":{\"image_gen\":"
        "\"https://w.example/img\"},\"api_keys\":{\"ideogram\":\"k-123\"},"
        "\"extra\":{\"nested\":[1,2,{\"deep\":true}]}}");
    if (!json_object_equal(want, e.config))
        fail_msg("cached config differs: %s", json_object_to_json_string(e.config));
    assert_int_equal(e.ttl, TTL_S);
    json_object_put(want);
    roost_config_entry_release(&e);
    roost_store_close(st);
}

/* ------------------------------------------------------------------ */
/* group http: stats, stampede, admin                                   */

struct tally {
    int served, source, cache, stale, other;
};

static void tally_resp(const struct harness_response *r, struct tally *t)
{
    const char *o = harness_response_header(r, "X-Config-Source");
    if (r->status != 404 || !o) {
        __atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
        return;
    }
    __atomic_add_fetch(&t->served, 1, __ATOMIC_SEQ_CST);
    if (strcmp(o, "source") == 0)
        __atomic_add_fetch(&t->source, 1, __ATOMIC_SEQ_CST);
    else if (strcmp(o, "cache") == 0)
        __atomic_add_fetch(&t->cache, 1, __ATOMIC_SEQ_CST);
    else if (strcmp(o, "stale_cache") == 0)
        __atomic_add_fetch(&t->stale, 1, __ATOMIC_SEQ_CST);
    else
        __atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
}

/* Forks n clients; client i runs fn(i, shared) and _exits. Waits for all,
 * bounded; returns the number that did not exit 0. go: clients wait on it
 * and start together when the parent closes it. */
static int run_clients(int n, void (*fn)(int, struct tally *), struct tally *t)
{
    int gate[2];
    if (pipe(gate) < 0)
        fail_msg("pipe: %s", strerror(errno));
    pid_t pids[32];
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            fail_msg("fork: %s", strerror(errno));
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                ;
            fn(i, t);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int bad = 0;
    long deadline = harness_now_ms() + scaled(30000);
    for (int i = 0; i < n; i++) {
        int status;
        pid_t r;
        while ((r = waitpid(pids[i], &status, WNOHANG)) == 0 && harness_now_ms() < deadline)
            sleep_ms(5);
        if (r != pids[i]) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &status, 0);
            bad++;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
        }
    }
    return bad;
}

#define STATS_DIRECT_PER_WORKER 6
#define STATS_HTTP_CLIENTS 4
#define STATS_HTTP_EACH 5

static char stats_base_url[64];

static void stats_client(int i, struct tally *t)
{
    struct harness_response r;
    harness_response_init(&r);
    const char *ids[] = { "in-stats", "in-b", "in-c", "in-x" };
    if (i < WORKERS) {
        /* FastCGI straight to worker i */
        for (int k = 0; k < STATS_DIRECT_PER_WORKER; k++) {
            char *h = xasprintf("X-Instance-ID: %s", ids[(i + k) % 4]);
            const char *hs[] = { h, NULL };
            if (harness_fcgi_request(g->sock[i], "GET", "/v1/cache/never-written", hs, NULL, 0, &r) == 0) {
                tally_resp(&r, t);
            } else {
                __atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
            }
            free(h);
        }
    } else {
        /* parallel clients through lighttpd, which spreads them */
        struct harness_client *c = harness_client_new_url(stats_base_url);
        harness_client_fresh(c, 1);
        for (int k = 0; k < STATS_HTTP_EACH; k++) {
            char *h = xasprintf("X-Instance-ID: %s", ids[(i + k) % 4]);
            const char *hs[] = { h, NULL };
            if (harness_request(c, "GET", "/v1/cache/never-written", hs, NULL, 0, &r) == 0) {
                tally_resp(&r, t);
            } else {
                __atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
            }
            free(h);
        }
        harness_client_free(c);
    }
    harness_response_release(&r);
}

/* EVIDENCE-OF: issue part 6 "hits, misses, stale_hits, evictions counted
 * across all workers (not per process), readable through the admin API";
 * issue "stats add up across 4 workers"; spec "Monitor with getCacheStats()
 * {hits, misses, stale_hits, evictions}". Each request here looks up one
 * config (explicit id, anonymous, unowned instance), so the counters must
 * grow by exactly the requests made, and each answer's X-Config-Source
 * names which counter it moved. */
static void test_stats__add_up_across_workers(void **state)
{
    (void)state;
    struct cache_stats before = get_stats();
    snprintf(stats_base_url, sizeof(stats_base_url), "%s", g->srv->base_url);
    struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(t != MAP_FAILED);
    memset(t, 0, sizeof(*t));
    int bad = run_clients(WORKERS + STATS_HTTP_CLIENTS, stats_client, t);
    assert_int_equal(bad, 0);
    int want = WORKERS * STATS_DIRECT_PER_WORKER + STATS_HTTP_CLIENTS * STATS_HTTP_EACH;
    struct tally got = *t;
    munmap(t, sizeof(*t));
    if (got.served != want || got.other != 0)
        fail_msg("%d of %d requests served (%d other answers)", got.served, want, got.other);
    struct cache_stats after = get_stats();
    int64_t looked = (after.hits - before.hits) + (after.misses - before.misses)
                     + (after.stale_hits - before.stale_hits);
    printf("# stats: %d requests: %d source, %d cache, %d stale; counters +%lld hits +%lld misses "
           "+%lld stale_hits\n", want, got.source, got.cache, got.stale,
           (long long)(after.hits - before.hits), (long long)(after.misses - before.misses),
           (long long)(after.stale_hits - before.stale_hits));
    assert_int_equal(looked, want);
    assert_int_equal(after.hits - before.hits, got.cache);
    assert_int_equal(after.misses - before.misses, got.source);
    assert_int_equal(after.stale_hits - before.stale_hits, got.stale);

    /* the same figures in the store-wide stats */
    send_req(-1, "GET", "/v1/admin/stats", admin_hdr, NULL);
    assert_http_status(&resp, 200);
    struct json_object *j = body_json(), *cc;
    assert_true(json_object_object_get_ex(j, "config_cache", &cc));
    assert_int_equal(jint(cc, "hits"), after.hits);
    assert_int_equal(jint(cc, "misses"), after.misses);
    assert_int_equal(jint(cc, "stale_hits"), after.stale_hits);
    assert_int_equal(jint(cc, "evictions"), after.evictions);
    json_object_put(j);
    /* and the same on every worker */
    for (int w = 0; w < WORKERS; w++) {
        send_req(w, "GET", "/v1/admin/cache/stats", admin_hdr, NULL);
        assert_http_status(&resp, 200);
        j = body_json();
        assert_int_equal(jint(j, "hits"), after.hits);
        assert_int_equal(jint(j, "misses"), after.misses);
        json_object_put(j);
    }
}

static void rush_client(int i, struct tally *t)
{
    struct harness_response r;
    harness_response_init(&r);
    const char *hs[] = { "X-Instance-ID: in-rush", NULL };
    if (harness_fcgi_request(g->sock[i % WORKERS], "GET", "/v1/cache/never-written", hs, NULL, 0, &r) == 0) {
        tally_resp(&r, t);
    } else {
        __atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
    }
    harness_response_release(&r);
}

/* EVIDENCE-OF: issue part 2 "Concurrent workers that all see an expired
 * entry must not stampede the config source (one fetches, others serve
 * stale while it does, or wait briefly)"; config_cache.h "the first process
 * to claim it fetches ... the others ... wait briefly for the claimant's
 * entry". 8 requests for a never-cached instance start together on the 4
 * workers: the source is asked once. */
static void test_cache__cold_rush_asks_source_once(void **state)
{
    (void)state;
    struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(t != MAP_FAILED);
    memset(t, 0, sizeof(*t));
    assert_int_equal(run_clients(2 * WORKERS, rush_client, t), 0);
    struct tally got = *t;
    munmap(t, sizeof(*t));
    printf("# rush: %d served (%d source, %d cache, %d stale), %d other\n", got.served, got.source,
           got.cache, got.stale, got.other);
    assert_int_equal(got.served, 2 * WORKERS);
    assert_source_hits("/instances/in-rush", 1);
    assert_int_equal(got.source, 1);
}

/* EVIDENCE-OF: spec "warmCache", "invalidateCache", "invalidateAllCaches";
 * issue part 6 "warm (a list of ids fetched into the cache), invalidate
 * one, invalidate all - through the admin API". A warmed entry is served
 * without asking the source; an invalidated one is asked for again;
 * invalidation counts as an eviction. */
static void test_admin__warm_and_invalidate(void **state)
{
    (void)state;
    send_req(-1, "POST", "/v1/admin/cache/warm", HDRS("Content-Type: application/json"),
             "{\"instance_ids\":[\"in-w1\"]}");
    assert_json_error(&resp, 401, "UNAUTHORIZED");
    assert_source_hits("/instances/in-w1", 0);

    send_req(-1, "POST", "/v1/admin/cache/warm", HDRS(admin_hdr[0], "Content-Type: application/json"),
             "{\"instance_ids\":[\"in-w1\",\"in-w2\",\"in-nowhere\"]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"warmed\":2,\"failed\":1}");
    assert_source_hits("/instances/in-w1", 1);
    assert_source_hits("/instances/in-w2", 1);
    assert_source_hits("/instances/in-nowhere", 1);
    for (int w = 0; w < WORKERS; w++) {
        probe(w, w % 2 ? "in-w2" : "in-w1", NULL);
        assert_served("cache");
    }
    assert_source_hits("/instances/in-w1", 1);
    assert_source_hits("/instances/in-w2", 1);

    struct cache_stats s0 = get_stats();
    send_req(2, "DELETE", "/v1/admin/cache/entries/in-w1", admin_hdr, NULL);
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"invalidated\":\"in-w1\"}");
    struct cache_stats s1 = get_stats();
    assert_int_equal(s1.evictions - s0.evictions, 1);
    probe(1, "in-w1", NULL);
    assert_served("source");
    assert_source_hits("/instances/in-w1", 2);
    probe(-1, "in-w2", NULL);
    assert_served("cache");

    send_req(-1, "DELETE", "/v1/admin/cache/entries/in-never-cached", admin_hdr, NULL);
    assert_json_error(&resp, 404, "NOT_FOUND");
    send_req(-1, "DELETE", "/v1/admin/cache/entries/bad%20id", admin_hdr, NULL);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    send_req(-1, "POST", "/v1/admin/cache/warm", HDRS(admin_hdr[0], "Content-Type: application/json"),
             "{\"ids\":[\"in-w1\"]}");
    assert_json_error(&resp, 400, "INVALID_REQUEST");
    send_req(-1, "POST", "/v1/admin/cache/warm", HDRS(admin_hdr[0], "Content-Type: application/json"),
             "{\"instance_ids\":[\"in w1\"]}");
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");

    send_req(-1, "DELETE", "/v1/admin/cache/entries", admin_hdr, NULL);
    assert_http_status(&resp, 200);
    struct json_object *j = body_json();
    int64_t n = jint(j, "invalidated");
    json_object_put(j);
    assert_true(n >= 2);
    struct cache_stats s2 = get_stats();
    assert_int_equal(s2.evictions - s1.evictions, n);
    probe(3, "in-w2", NULL);
    assert_served("source");
    probe(-1, "in-w1", NULL);
    assert_served("source");
    assert_source_hits("/instances/in-w1", 3);
    assert_source_hits("/instances/in-w2", 2);
    /* nothing left after a second sweep but what was just fetched */
    send_req(1, "DELETE", "/v1/admin/cache/entries", admin_hdr, NULL);
    assert_json_body_eq(&resp, "{\"invalidated\":2}");
}

/* ------------------------------------------------------------------ */
/* group http: the source goes away (last: it stops the service)        */

/* EVIDENCE-OF: spec "If Config Service down: try stale cache (if enabled)
 * ... Marks result with source: 'stale_cache'"; issue "source stopped ->
 * stale served and marked; source stopped with no stale entry -> 503"
 * (spec "If no fallback available: throw 503"); a fresh entry does not
 * need the source at all. */
static void test_stale__source_stopped(void **state)
{
    (void)state;
    probe(-1, "in-st", NULL);
    assert_served("source");
    long cached_at = harness_now_ms();
    cs_kill();
    assert_false(tcp_connects(cs.port));
    probe(1, "in-st", NULL);
    if (harness_now_ms() - cached_at < 900)
        assert_served("cache");
    struct cache_stats s0 = get_stats();
    poll_until("in-st", done_stale, EXPIRY_WAIT_MS, "a stale answer");
    for (int w = 0; w < WORKERS; w++) {
        probe(w, "in-st", NULL);
        assert_served("stale_cache");
    }
    struct cache_stats s1 = get_stats();
    assert_int_equal(s1.stale_hits - s0.stale_hits, WORKERS + 1);

    for (int w = -1; w < WORKERS; w++) {
        probe(w, "in-never", NULL);
        assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");
        /* refused at once: no reason to wait for the timeout */
        assert_true(resp_ms < scaled(1500));
    }
    /* a project or a user that cannot be looked up is the same outage */
    put_value(-1, "/v1/cache/k", HDRS("X-Project-ID: pr-never"), "x");
    assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");
    put_value(-1, "/v1/cache/k", HDRS("X-User-ID: u-never"), "x");
    assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");

    assert_int_equal(cs_start(), 0);
    probe(2, "in-st", NULL);
    assert_served("source");
    probe(-1, "in-never", NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
}

/* ------------------------------------------------------------------ */
/* group file                                                           */

/* EVIDENCE-OF: DESIGN "file:// URLs let a sysadmin keep instance configs as
 * JSON files with no service at all"; config_source.h "file:///etc/roost
 * the file {base}/{collection}/{id}.json"; issue part 3 "the same paths".
 * The whole chain works the same. */
static void test_file__chain_and_origin(void **state)
{
    (void)state;
    probe(-1, "f-a", NULL);
    assert_served("source");
    for (int w = 0; w < WORKERS; w++) {
        probe(w, "f-a", NULL);
        assert_served("cache");
    }
    put_value(-1, "/v1/cache/kf", HDRS("X-Instance-ID: f-a"), "file value");
    assert_put_instance("f-a");
    put_value(1, "/v1/cache/kf2", HDRS("X-Project-ID: f-pr"), "p");
    assert_put_instance("f-a");
    put_value(2, "/v1/cache/kf3?project_id=f-pr", NULL, "p");
    assert_put_instance("f-a");
    put_value(3, "/v1/cache/kf4", HDRS("X-User-ID: f-u"), "u");
    assert_put_instance("f-a");
    send_req(-1, "POST", "/v1/cache/batch/get", HDRS("Content-Type: application/json"),
             "{\"keys\":[\"kf\",\"nope\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"kf\":\"file value\"},\"missing\":[\"nope\"]}");
    put_value(-1, "/v1/cache/k", HDRS("X-Project-ID: f-pr-missing"), "x");
    assert_json_error(&resp, 400, "INVALID_CONTEXT");
    put_value(-1, "/v1/cache/k", NULL, "x");
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");

    probe(-1, "f-missing", NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    probe(-1, "f-paused", NULL);
    assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    /* "." and ".." fit the id syntax but name directories */
    probe(-1, "..", NULL);
    assert_client_error("X-Instance-ID: ..");
    probe(0, ".", NULL);
    assert_client_error("X-Instance-ID: .");
}

/* EVIDENCE-OF: spec "expired: proceed to step 3"; issue part 3 "invalid
 * JSON -> stale if allowed (response marked)"; "Source 404 -> 404" (a file
 * removed is not kept alive by its stale copy). */
static void test_file__expiry_malformed_and_removed(void **state)
{
    (void)state;
    /* f-bad and f-gone first: expired once f-exp is seen refetched */
    probe(0, "f-bad", NULL);
    assert_served("source");
    probe(1, "f-gone", NULL);
    assert_served("source");
    probe(-1, "f-exp", NULL);
    assert_served("source");
    put_doc("instances", "f-exp", "{\"status\":\"paused\"}");
    put_doc("instances", "f-bad", "{\"status\": \"active\",");
    remove_doc("instances", "f-gone");
    poll_until("f-exp", done_paused, EXPIRY_WAIT_MS, "a refetch showing the paused status");
    assert_origin("source");
    probe(2, "f-bad", NULL);
    assert_served("stale_cache");
    probe(-1, "f-bad", NULL);
    assert_served("stale_cache");
    probe(3, "f-gone", NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    put_doc("instances", "f-bad", ACTIVE);
    probe(-1, "f-bad", NULL);
    assert_served("source");
}

/* ------------------------------------------------------------------ */
/* group auth: REMOTE_USER from lighttpd's real mod_auth                */

static const char auth_conf[] =
    "server.modules := ( \"mod_auth\", \"mod_authn_file\" ) + server.modules\n"
    "auth.backend = \"plain\"\n"
    "auth.backend.plain.userfile = env.ROOST_RUNDIR + \"/users.txt\"\n"
    "# credentials offered are checked by lighttpd (REMOTE_USER); requests\n"
    "# without any reach roost anonymous, for roost to refuse or serve\n"
    "$REQUEST_HEADER[\"Authorization\"] =~ \"^Basic \" {\n"
    "  auth.require = ( \"/\" => ( \"method\" => \"basic\", \"realm\" => \"roost\",\n"
    "                              \"require\" => \"valid-user\" ) )\n"
    "}\n";

/* EVIDENCE-OF: issue part 5 "Instances with no owner are open unless the
 * operator sets ROOST_REQUIRE_AUTH=1, in which case anonymous requests get
 * 401 AUTHENTICATION_REQUIRED"; "the user is REMOTE_USER ... or, only when
 * the operator names it in ROOST_TRUSTED_USER_HEADER, that header": an
 * X-User-ID header is nobody's identity here. */
static void test_auth__anonymous_401(void **state)
{
    (void)state;
    const char *ids[] = { "au-open", "au-owned" };
    for (int i = 0; i < 2; i++) {
        probe(-1, ids[i], NULL);
        assert_json_error(&resp, 401, "AUTHENTICATION_REQUIRED");
        assert_true(is_uuid_v4(harness_response_header(&resp, "X-Request-ID")));
        probe(-1, ids[i], HDRS("X-User-ID: alice"));
        assert_json_error(&resp, 401, "AUTHENTICATION_REQUIRED");
        for (int w = 0; w < WORKERS; w++) {
            put_value(w, "/v1/cache/k", HDRS(i ? "X-Instance-ID: au-owned" : "X-Instance-ID: au-open",
                                             "X-User-ID: alice"), "x");
            assert_json_error(&resp, 401, "AUTHENTICATION_REQUIRED");
        }
    }
    /* "anonymous requests get 401", whether or not the instance exists:
     * a 404 would tell strangers which instance ids are in use */
    for (int w = -1; w < WORKERS; w++) {
        probe(w, "au-no-such-instance", NULL);
        assert_json_error(&resp, 401, "AUTHENTICATION_REQUIRED");
    }
    /* no instance at all: still nobody to ask about */
    put_value(-1, "/v1/cache/k", NULL, "x");
    assert_true(resp.status == 400 || resp.status == 401);
}

/* EVIDENCE-OF: spec "Access Control" (owner; 'admin' role; others 403);
 * issue part 5 "Roles come from the config source's user record or from
 * the app's config" (ROOST_ADMIN_USERS); "403 and 401 paths through real
 * mod_auth". A wrong password never reaches roost: lighttpd answers. */
static void test_auth__owner_admin_others_via_mod_auth(void **state)
{
    (void)state;
    char *alice = harness_basic_auth("alice", "alice-pw"), *bob = harness_basic_auth("bob", "bob-pw"),
         *root = harness_basic_auth("root", "root-pw"), *ops = harness_basic_auth("ops", "ops-pw"),
         *wrong = harness_basic_auth("alice", "nope");
    put_value(-1, "/v1/cache/secret", HDRS("X-Instance-ID: au-alice2", alice), "alice's");
    assert_http_status(&resp, 201);
    assert_put_instance("au-alice2");
    struct source_line sl;
    assert_source_hits("/instances/au-alice2", 1);
    source_count("/instances/au-alice2", &sl);
    assert_string_equal(sl.user, "alice");                  /* REMOTE_USER reaches the source */
    put_value(-1, "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", alice), "alice's");
    assert_http_status(&resp, 201);
    assert_put_instance("au-owned");

    send_req(-1, "GET", "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", bob), NULL);
    assert_json_error(&resp, 403, "ACCESS_DENIED");
    put_value(-1, "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", bob), "bob's");
    assert_json_error(&resp, 403, "ACCESS_DENIED");
    assert_source_hits("/users/bob", 1);            /* asked for bob's roles */
    source_count("/users/bob", &sl);
    assert_string_equal(sl.user, "bob");
    put_value(-1, "/v1/cache/k", HDRS("X-Instance-ID: au-open", bob), "bob's");
    assert_put_instance("au-open");

    const char *admins[] = { root, ops };
    for (int i = 0; i < 2; i++) {
        send_req(-1, "GET", "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", admins[i]), NULL);
        assert_http_status(&resp, 200);
        assert_body_eq(&resp, "alice's", 7);
    }
    send_req(-1, "GET", "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", wrong), NULL);
    assert_http_status(&resp, 401);
    const char *www = harness_response_header(&resp, "WWW-Authenticate");
    assert_true(www && strncmp(www, "Basic", 5) == 0);
    /* bob cannot borrow alice's identity through a header */
    send_req(-1, "GET", "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", "X-User-ID: alice", bob), NULL);
    assert_json_error(&resp, 403, "ACCESS_DENIED");
    /* nothing bob tried changed alice's value */
    send_req(-1, "GET", "/v1/cache/secret", HDRS("X-Instance-ID: au-owned", alice), NULL);
    assert_body_eq(&resp, "alice's", 7);
    /* REMOTE_USER picks the user's default instance */
    put_value(-1, "/v1/cache/kd", HDRS(alice), "by default");
    assert_put_instance("au-owned");
    free(alice);
    free(bob);
    free(root);
    free(ops);
    free(wrong);
}

/* ------------------------------------------------------------------ */
/* group nostale                                                        */

/* EVIDENCE-OF: DESIGN "ROOST_CONFIG_USE_STALE 1: serve stale config when
 * the source fails"; issue part 3 "stale if allowed ..., else 503
 * CONFIG_SERVICE_UNAVAILABLE": with it off, an expired entry is not served
 * when the source is down. */
static void test_nostale__503_even_with_stale_entry(void **state)
{
    (void)state;
    probe(-1, "ns-1", NULL);
    assert_served("source");
    cs_kill();
    poll_until("ns-1", done_unavailable, EXPIRY_WAIT_MS, "503 once the entry expired");
    for (int w = 0; w < WORKERS; w++) {
        probe(w, "ns-1", NULL);
        assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");
    }
    assert_int_equal(cs_start(), 0);
    probe(-1, "ns-1", NULL);
    assert_served("source");
}

/* ------------------------------------------------------------------ */
/* group timeout                                                        */

static int64_t seed_now;
static int64_t seed_clock(void)
{
    return seed_now;
}

/* Writes a cache entry for id as if cached age seconds ago, through the
 * library on the server's store. */
static void seed_entry(const char *id, int64_t age)
{
    struct roost_store *st = NULL;
    assert_int_equal(roost_store_open(g->srv->store_dir, &st), ROOST_OK);
    seed_now = (int64_t)time(NULL) - age;
    struct roost_config_cache c = { .store = st, .ttl = TTL_S, .stale_max = 3600, .now = seed_clock };
    struct json_object *cfg = json_tokener_parse(ACTIVE);
    assert_int_equal(roost_config_cache_put(&c, "instances", roost_slice_cstr(id), cfg), ROOST_OK);
    json_object_put(cfg);
    roost_store_close(st);
}

/* EVIDENCE-OF: spec "config_service_timeout ... Default: 5000ms"; DESIGN
 * "ROOST_CONFIG_TIMEOUT_MS config-source request timeout"; issue part 3
 * "timeout -> stale if allowed ..., else 503 CONFIG_SERVICE_UNAVAILABLE";
 * issue "a socket that accepts and never answers, for the timeout". The
 * answer comes after about the timeout, not before and not much later. */
static void test_timeout__503_within_about_the_timeout(void **state)
{
    (void)state;
    for (int w = -1; w < WORKERS; w++) {
        probe(w, "to-1", NULL);
        assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");
        printf("# timeout: 503 after %ld ms (ROOST_CONFIG_TIMEOUT_MS=%d)\n", resp_ms, TIMEOUT_MS);
        if (resp_ms < TIMEOUT_MS - 50 || resp_ms > scaled(TIMEOUT_MS + 1200))
            fail_msg("503 after %ld ms; expected about %d ms", resp_ms, TIMEOUT_MS);
    }
}

/* EVIDENCE-OF: spec "Stale Grace: 300-3600 seconds", "Config Service error
 * triggers stale cache lookup - Returns stale data if within grace
 * period"; "Purged: 3600+ seconds" never served. */
static void test_timeout__stale_served_purged_not(void **state)
{
    (void)state;
    seed_entry("to-stale", TTL_S + 5);
    probe(-1, "to-stale", NULL);
    assert_served("stale_cache");
    if (resp_ms < TIMEOUT_MS - 50)
        fail_msg("stale answer after %ld ms: the source was not asked first", resp_ms);
    for (int w = 0; w < WORKERS; w++) {
        probe(w, "to-stale", NULL);
        assert_served("stale_cache");
    }
    seed_entry("to-fresh", 0);
    probe(-1, "to-fresh", NULL);
    assert_served("cache");
    assert_true(resp_ms < scaled(TIMEOUT_MS));
    struct cache_stats s0 = get_stats();
    seed_entry("to-purged", 3600 + 5);
    probe(-1, "to-purged", NULL);
    assert_json_error(&resp, 503, "CONFIG_SERVICE_UNAVAILABLE");
    struct cache_stats s1 = get_stats();
    assert_int_equal(s1.evictions - s0.evictions, 1);
}

/* ------------------------------------------------------------------ */
/* group set-up                                                          */

static char *source_env, *file_env, *blackhole_env;

static int setup_http(void **state)
{
    (void)state;
    const char *env[] = { source_env, "ROOST_CONFIG_TTL=2", "ROOST_CONFIG_TIMEOUT_MS=2000",
                          "ROOST_TRUSTED_USER_HEADER=X-User-ID", "ROOST_DEFAULT_INSTANCE=dflt",
                          "ROOST_ADMIN_TOKEN=" TOKEN, NULL };
    return start_group(&g_http, env, NULL, NULL);
}

static int setup_file(void **state)
{
    (void)state;
    const char *env[] = { file_env, "ROOST_CONFIG_TTL=2", "ROOST_TRUSTED_USER_HEADER=X-User-ID",
                          "ROOST_DEFAULT_INSTANCE=f-a", "ROOST_ADMIN_TOKEN=" TOKEN, NULL };
    return start_group(&g_file, env, NULL, NULL);
}

static int setup_auth(void **state)
{
    (void)state;
    const char *env[] = { source_env, "ROOST_CONFIG_TTL=60", "ROOST_REQUIRE_AUTH=1",
                          "ROOST_ADMIN_USERS=ops", NULL };
    return start_group(&g_auth, env, auth_conf, "alice:alice-pw\nbob:bob-pw\nroot:root-pw\nops:ops-pw\n");
}

static int setup_nostale(void **state)
{
    (void)state;
    const char *env[] = { source_env, "ROOST_CONFIG_TTL=2", "ROOST_CONFIG_USE_STALE=0",
                          "ROOST_ADMIN_TOKEN=" TOKEN, NULL };
    return start_group(&g_nostale, env, NULL, NULL);
}

static int setup_timeout(void **state)
{
    (void)state;
    char timeout[64];
    snprintf(timeout, sizeof(timeout), "ROOST_CONFIG_TIMEOUT_MS=%d", TIMEOUT_MS);
    const char *env[] = { blackhole_env, timeout, "ROOST_CONFIG_TTL=2", "ROOST_ADMIN_TOKEN=" TOKEN, NULL };
    return start_group(&g_timeout, env, NULL, NULL);
}

int main(void)
{
    const char *l = getenv("ROOST_LIGHTTPD");
    if (l && !*l) {
        fprintf(stderr, "test_lookup: lighttpd was not found by configure; skipping\n");
        return 77;
    }
    /* loopback only: no proxy may come between roost and the service */
    const char *proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                              "ALL_PROXY" };
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    setenv("no_proxy", "127.0.0.1", 1);
    harness_response_init(&resp);
    long t0 = harness_now_ms();
    int failed = 0, total = 0, servers = 0;

    if (cs_setup_dir() != 0 || cs_start() != 0 || blackhole_open() != 0) {
        fprintf(stderr, "test_lookup: cannot start the config service (dir %s)\n", cs.dir);
        return 99;
    }
    source_env = xasprintf("ROOST_CONFIG_SOURCE=%s", cs.url);
    file_env = xasprintf("ROOST_CONFIG_SOURCE=file://%s", cs.www);
    blackhole_env = xasprintf("ROOST_CONFIG_SOURCE=http://127.0.0.1:%d", blackhole_port);
    printf("# config service: lighttpd pid %d on %s, files in %s; blackhole on port %d\n", (int)cs.pid,
           cs.url, cs.www, blackhole_port);

    const struct CMUnitTest http[] = {
        cmocka_unit_test(test_chain__explicit_header_then_query),
        cmocka_unit_test(test_chain__project_header_and_query),
        cmocka_unit_test(test_chain__user_default),
        cmocka_unit_test(test_chain__configured_default_on_batch_get),
        cmocka_unit_test(test_cache__fresh_hits_do_not_touch_source),
        cmocka_unit_test(test_cache__expiry_refetches),
        cmocka_unit_test(test_status__config_status_governs),
        cmocka_unit_test(test_source__404_instance_not_found),
        cmocka_unit_test(test_source__odd_ids_are_client_errors),
        cmocka_unit_test(test_source__bad_answers_are_outages),
        cmocka_unit_test(test_source__user_and_request_id_reach_source),
        cmocka_unit_test(test_request_id__echoed_or_replaced),
        cmocka_unit_test(test_access__owner_admin_others_by_trusted_header),
        cmocka_unit_test(test_stats__add_up_across_workers),
        cmocka_unit_test(test_cache__cold_rush_asks_source_once),
        cmocka_unit_test(test_admin__warm_and_invalidate),
        cmocka_unit_test(test_stale__source_stopped),
    };
    const struct CMUnitTest file[] = {
        cmocka_unit_test(test_file__chain_and_origin),
        cmocka_unit_test(test_file__expiry_malformed_and_removed),
    };
    const struct CMUnitTest auth[] = {
        cmocka_unit_test(test_auth__anonymous_401),
        cmocka_unit_test(test_auth__owner_admin_others_via_mod_auth),
    };
    const struct CMUnitTest nostale[] = {
        cmocka_unit_test(test_nostale__503_even_with_stale_entry),
    };
    const struct CMUnitTest timeout[] = {
        cmocka_unit_test(test_timeout__503_within_about_the_timeout),
        cmocka_unit_test(test_timeout__stale_served_purged_not),
    };

#define RUN_GROUP(arr, gr, setup)                                                          \
    do {                                                                                   \
        int n_ = cmocka_run_group_tests_name("test_lookup " #arr, arr, setup, stop_group); \
        failed += n_;                                                                      \
        total += (int)(sizeof(arr) / sizeof(arr[0]));                                      \
        servers++;                                                                         \
        harness_server_free((gr).srv, n_ != 0);                                            \
        (gr).srv = NULL;                                                                   \
    } while (0)

    RUN_GROUP(http, g_http, setup_http);
    RUN_GROUP(file, g_file, setup_file);
    RUN_GROUP(auth, g_auth, setup_auth);
    RUN_GROUP(nostale, g_nostale, setup_nostale);
    RUN_GROUP(timeout, g_timeout, setup_timeout);

    cs_kill();
    close(blackhole_fd);
    if (failed || cs.failed) {
        fprintf(stderr, "test_lookup: config service directory kept: %s\n", cs.dir);
        print_source_log();
    } else {
        roost_test_rmtree(cs.dir);
    }
    harness_response_release(&resp);
    printf("# test_lookup: %d tests, %d failed, %d roost servers + 1 config service, %lu requests "
           "through lighttpd, %.1f s\n", total, failed, servers, requests_total,
           (harness_now_ms() - t0) / 1000.0);
    free(source_env);
    free(file_env);
    free(blackhole_env);
    free(cs.dir);
    free(cs.www);
    free(cs.conf);
    free(cs.access_log);
    return failed ? 1 : 0;
}
