/*
 * test_admin.c - instance lifecycle through a real lighttpd and 4 real
 * workers: the admin HTTP API, its authentication, instance states set by
 * an operator, activity tracking, usage figures, delete, auto-create off.
 *
 * Source of truth: issue 5 "Parts" 1-4 and 6 and its "Tests that must
 * exist" ("issue"), spec/instance-context-api.md ("spec"), DESIGN.md "API
 * rules where the spec is silent" ("DESIGN"), and the admin API as
 * documented for the implementation ("API": routes, bodies and codes).
 * Each test quotes the rule it checks.
 *
 * Test organization: one server per group, each group a store of its own.
 *   group    server settings                         tests
 *   off      defaults (no admin credentials)         test_auth__disabled_*
 *   token    ROOST_ADMIN_TOKEN                       test_auth__token_*,
 *                                                    test_route__*, test_create__*,
 *                                                    test_show__*, test_patch__*,
 *                                                    test_state__*, test_list__*,
 *                                                    test_stats__*, test_usage__*,
 *                                                    test_activity__*, test_delete__*
 *   users    ROOST_ADMIN_USERS=" alice , bob ", and   test_users__*
 *            a lighttpd config of the test's own:
 *            roost-local.conf + mod_auth (basic,
 *            plain userfile) on /v1/admin/
 *   both     ROOST_ADMIN_TOKEN and ROOST_ADMIN_USERS  test_both__*
 *   noauto   ROOST_AUTO_CREATE=0, ROOST_ADMIN_TOKEN   test_list__empty_store (first),
 *                                                    test_autocreate__*
 *
 * Every worker is reached on purpose: lighttpd sends sequential requests to
 * the same worker, so "seen by the next request on any worker" is checked
 * with FastCGI straight to each worker's socket as well. Records with an
 * old last_active and bulk keys are written through the library on the
 * server's own store directory while it serves (store.h allows any number
 * of processes on one store). Forked clients never call cmocka: they count
 * into shared memory and _exit(); the parent checks.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "error.h"
#include "harness.h"
#include "hash.h"
#include "instance.h"
#include "keyspace.h"
#include "kv.h"
#include "registry.h"
#include "store.h"
#include "testlib.h"

#define WORKERS 4
#define TOKEN "roost-admin-test-token-6f1c2a9e04"      /* >= 16 characters */
#define ADMIN_USERS " alice , bob "

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

struct fixture {
    const char *name;
    struct harness_server *srv;
    struct harness_client *http;
    struct roost_store *store;
    const char *token;              /* ROOST_ADMIN_TOKEN, NULL: none set */
    char *sock[WORKERS];            /* worker sockets, for direct FastCGI */
};

static struct fixture fx_off = { .name = "off" };
static struct fixture fx_token = { .name = "token", .token = TOKEN };
static struct fixture fx_users = { .name = "users" };
static struct fixture fx_both = { .name = "both", .token = TOKEN };
static struct fixture fx_noauto = { .name = "noauto", .token = TOKEN };

static struct fixture *fx;              /* the running group's */
static struct harness_response resp;    /* the last response */
static unsigned long requests_total;

/* Figures printed at the end (the brief asks for them). */
static long delete_10k_ms = -1, delete_10k_neighbour_writes = -1;

static int start_group(struct fixture *f, struct harness_server *srv)
{
    fx = f;
    f->srv = srv;
    if (harness_server_start(srv) != 0)
        return -1;
    f->http = harness_client_new(srv);
    for (int i = 0; i < WORKERS; i++)
        f->sock[i] = harness_worker_socket(srv, i);
    if (roost_store_open(srv->store_dir, &f->store) != ROOST_OK) {
        fprintf(stderr, "test: roost_store_open(%s) failed\n", srv->store_dir);
        return -1;
    }
    printf("# %s: lighttpd pid %d on %s, ready in %ld ms, run dir %s\n", f->name,
           (int)srv->pid, srv->base_url, srv->startup_ms, srv->rundir);
    return 0;
}

static int stop_group(struct fixture *f)
{
    if (f->http) {
        requests_total += harness_client_count(f->http);
        harness_client_free(f->http);
        f->http = NULL;
    }
    for (int i = 0; i < WORKERS; i++) {
        free(f->sock[i]);
        f->sock[i] = NULL;
    }
    roost_store_close(f->store);
    f->store = NULL;
    return harness_server_stop(f->srv);
}

static struct harness_server *new_server(const char *tag, const char *const *env)
{
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = tag;
    o.env = env;
    o.workers = WORKERS;
    return harness_server_new(&o);
}

static int setup_off(void **state)
{
    (void)state;
    return start_group(&fx_off, new_server("admin-off", NULL));
}

static const char *token_env[] = { "ROOST_ADMIN_TOKEN=" TOKEN, NULL };

static int setup_token(void **state)
{
    (void)state;
    return start_group(&fx_token, new_server("admin-token", token_env));
}

static const char *both_env[] = { "ROOST_ADMIN_TOKEN=" TOKEN, "ROOST_ADMIN_USERS=alice", NULL };

static int setup_both(void **state)
{
    (void)state;
    return start_group(&fx_both, new_server("admin-both", both_env));
}

static const char *noauto_env[] = { "ROOST_AUTO_CREATE=0", "ROOST_ADMIN_TOKEN=" TOKEN, NULL };

static int setup_noauto(void **state)
{
    (void)state;
    return start_group(&fx_noauto, new_server("admin-noauto", noauto_env));
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* Runs `lighttpd -tt -f conf` in the server's environment; 0 when it
 * accepts the file without a warning (a module-order warning means mod_auth
 * would not guard the FastCGI routes). */
static int check_lighttpd_conf(struct harness_server *srv)
{
    struct roost_buf out_path = ROOST_BUF_INIT, out = ROOST_BUF_INIT;
    roost_buf_appendf(&out_path, "%s/conf-check.txt", srv->rundir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out_path.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        char *argv[] = { srv->lighttpd, "-tt", "-f", srv->conf, NULL };
        execve(srv->lighttpd, argv, srv->env);
        execvpe(srv->lighttpd, argv, srv->env);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    FILE *f = fopen(out_path.ptr, "r");
    if (f) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            roost_buf_append(&out, buf, n);
        fclose(f);
    }
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0
             && (!out.ptr || !strstr(out.ptr, "Warning"));
    if (!ok)
        fprintf(stderr, "test: lighttpd -tt -f %s: status 0x%x\n%s\n", srv->conf, status,
                out.ptr ? out.ptr : "");
    roost_buf_release(&out_path);
    roost_buf_release(&out);
    return ok ? 0 : -1;
}

static const char *users_env[] = { "ROOST_ADMIN_USERS=" ADMIN_USERS, NULL };

/* The users group runs lighttpd's real mod_auth in front of /v1/admin/:
 * the project's roost-local.conf, with mod_auth and mod_authn_file put
 * before mod_fastcgi (lighttpd requires that order; appended after it,
 * mod_fastcgi takes the request and mod_auth never runs). */
static int setup_users(void **state)
{
    (void)state;
    struct harness_server *srv = new_server("admin-users", users_env);
    const char *top = getenv("ROOST_TOP_SRCDIR");
    struct roost_buf conf = ROOST_BUF_INIT, path = ROOST_BUF_INIT, users = ROOST_BUF_INIT;
    roost_buf_appendf(&users, "%s/users.txt", srv->rundir);
    roost_buf_appendf(&conf,
                      "# test_admin users group: roost-local.conf behind mod_auth\n"
                      "include \"%s/www-conf/roost-local.conf\"\n"
                      "server.modules := ( \"mod_auth\", \"mod_authn_file\" ) + server.modules\n"
                      "auth.backend = \"plain\"\n"
                      "auth.backend.plain.userfile = \"%s\"\n"
                      "auth.require = ( \"/v1/admin/\" => ( \"method\" => \"basic\",\n"
                      "                 \"realm\" => \"roost admin\", \"require\" => \"valid-user\" ) )\n",
                      top, users.ptr);
    roost_buf_appendf(&path, "%s/lighttpd-auth.conf", srv->rundir);
    int rc = -1;
    if (write_text(users.ptr, "alice:alice-pw\nbob:bob-pw\ncarol:carol-pw\n") == 0
        && write_text(path.ptr, conf.ptr) == 0) {
        free(srv->conf);
        srv->conf = roost_buf_detach(&path, NULL);
        rc = check_lighttpd_conf(srv);
    }
    roost_buf_release(&conf);
    roost_buf_release(&path);
    roost_buf_release(&users);
    if (rc) {
        fx_users.srv = srv;
        srv->failed = 1;
        return -1;
    }
    return start_group(&fx_users, srv);
}

static int teardown_off(void **state) { (void)state; return stop_group(&fx_off); }
static int teardown_token(void **state) { (void)state; return stop_group(&fx_token); }
static int teardown_users(void **state) { (void)state; return stop_group(&fx_users); }
static int teardown_both(void **state) { (void)state; return stop_group(&fx_both); }
static int teardown_noauto(void **state) { (void)state; return stop_group(&fx_noauto); }

/* ------------------------------------------------------------------ */
/* requests                                                            */

static void must_respond(int rc)
{
    if (rc != 0) {
        print_error("no HTTP response\n");
        harness_response_print(&resp);
        fail();
    }
}

static struct harness_response *http_h(const char *method, const char *target,
                                       const char *const *headers, const void *body, size_t len)
{
    must_respond(harness_request(fx->http, method, target, headers, body, len, &resp));
    return &resp;
}

/* Notes the JSON body in resp.what, for failure messages. */
static void note_body(const char *method, const char *target, const char *via, const char *json)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "%s %.60s%s%.60s%s%.70s%s", method, target, via ? " " : "",
                      via ? via : "", json ? " body " : "", json ? json : "",
                      json && strlen(json) > 70 ? "..." : "");
    size_t n = b.len < sizeof(resp.what) - 1 ? b.len : sizeof(resp.what) - 1;
    memcpy(resp.what, b.ptr, n);
    resp.what[n] = '\0';
    roost_buf_release(&b);
}

/* An admin request. auth: NULL sends the group's token as a bearer (none
 * when the group has no token), "" sends no Authorization, anything else
 * is sent as the header line given. json: body (Content-Type
 * application/json) or NULL. */
static struct harness_response *admin_as(const char *auth, const char *method, const char *target,
                                         const char *json)
{
    char ah[600];
    const char *h[4];
    int n = 0;
    if (!auth && fx->token) {
        snprintf(ah, sizeof(ah), "Authorization: Bearer %s", fx->token);
        h[n++] = ah;
    } else if (auth && *auth) {
        snprintf(ah, sizeof(ah), "%s", auth);
        h[n++] = ah;
    }
    if (json)
        h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    http_h(method, target, h, json, json ? strlen(json) : 0);
    note_body(method, target, NULL, json);
    return &resp;
}

static struct harness_response *admin(const char *method, const char *target, const char *json)
{
    return admin_as(NULL, method, target, json);
}

/* The same straight to worker w, with extra CGI parameters (REMOTE_USER). */
static struct harness_response *admin_fcgi(int w, const char *auth, const char *const *params,
                                           const char *method, const char *target,
                                           const char *json)
{
    char ah[600];
    const char *h[4];
    int n = 0;
    if (!auth && fx->token) {
        snprintf(ah, sizeof(ah), "Authorization: Bearer %s", fx->token);
        h[n++] = ah;
    } else if (auth && *auth) {
        snprintf(ah, sizeof(ah), "%s", auth);
        h[n++] = ah;
    }
    if (json)
        h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    must_respond(harness_fcgi_request_params(fx->sock[w], method, target, h, params, json,
                                             json ? strlen(json) : 0, &resp));
    char via[96];
    snprintf(via, sizeof(via), "(FastCGI worker %d%s%s)", w, params && params[0] ? ", " : "",
             params && params[0] ? params[0] : "");
    note_body(method, target, via, json);
    return &resp;
}

/* "/v1/admin/instances/<id>"; rotating buffers, so two may be in use. */
static const char *ipath(const char *id)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof(bufs[0]), "/v1/admin/instances/%s", id);
    return b;
}

/* "/v1/cache/" + percent-encoded key; caller frees. */
static char *key_path(const char *key)
{
    char *enc = harness_pct_encode(key, strlen(key));
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "/v1/cache/%s", enc);
    free(enc);
    return roost_buf_detach(&b, NULL);
}

/* A cache request for (id, key) through lighttpd (w < 0) or straight to
 * worker w. body NULL: none. */
static struct harness_response *cache_w(int w, const char *method, const char *id, const char *key,
                                        const void *body, size_t len)
{
    char ih[128];
    snprintf(ih, sizeof(ih), "X-Instance-ID: %s", id);
    const char *h[] = { ih, NULL };
    char *path = key_path(key);
    if (w < 0)
        http_h(method, path, h, body, len);
    else
        must_respond(harness_fcgi_request(fx->sock[w], method, path, h, body, len, &resp));
    free(path);
    return &resp;
}

static struct harness_response *cache(const char *method, const char *id, const char *key,
                                      const void *body, size_t len)
{
    return cache_w(-1, method, id, key, body, len);
}

static void put_ok(const char *id, const char *key, const void *v, size_t n)
{
    cache("PUT", id, key, v, n);
    if (resp.status != 200 && resp.status != 201) {
        print_error("PUT failed\n");
        harness_response_print(&resp);
        fail();
    }
}

static struct harness_response *batch_w(int w, const char *id, const char *json)
{
    char ih[128];
    snprintf(ih, sizeof(ih), "X-Instance-ID: %s", id);
    const char *h[] = { ih, "Content-Type: application/json", NULL };
    if (w < 0)
        http_h("POST", "/v1/cache/batch/get", h, json, strlen(json));
    else
        must_respond(harness_fcgi_request(fx->sock[w], "POST", "/v1/cache/batch/get", h, json,
                                          strlen(json), &resp));
    return &resp;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static struct json_object *body_json(void)
{
    struct json_object *o = harness_response_json(&resp);
    if (!o || !json_object_is_type(o, json_type_object)) {
        print_error("body is not a JSON object\n");
        harness_response_print(&resp);
        json_object_put(o);
        fail();
    }
    return o;
}

/* Member at a dotted path ("usage.keys"); fails the test when absent. */
static struct json_object *jget(struct json_object *o, const char *dotted)
{
    char name[64];
    const char *p = dotted;
    struct json_object *cur = o;
    while (*p) {
        size_t n = strcspn(p, ".");
        snprintf(name, sizeof(name), "%.*s", (int)n, p);
        struct json_object *next = NULL;
        if (!json_object_is_type(cur, json_type_object)
            || !json_object_object_get_ex(cur, name, &next)) {
            print_error("no member \"%s\" in %s\n", dotted, json_object_to_json_string(o));
            harness_response_print(&resp);
            fail();
        }
        cur = next;
        p += n + (p[n] == '.');
    }
    return cur;
}

static int64_t jint(struct json_object *o, const char *dotted)
{
    struct json_object *v = jget(o, dotted);
    if (!json_object_is_type(v, json_type_int)) {
        print_error("\"%s\" is %s, not an integer\n", dotted, json_object_to_json_string(v));
        harness_response_print(&resp);
        fail();
    }
    return json_object_get_int64(v);
}

static const char *jstr(struct json_object *o, const char *dotted)
{
    struct json_object *v = jget(o, dotted);
    if (!json_object_is_type(v, json_type_string)) {
        print_error("\"%s\" is %s, not a string\n", dotted, json_object_to_json_string(v));
        harness_response_print(&resp);
        fail();
    }
    return json_object_get_string(v);
}

static void assert_jstr(struct json_object *o, const char *dotted, const char *want)
{
    const char *got = jstr(o, dotted);
    if (strcmp(got, want) != 0) {
        print_error("\"%s\": expected \"%s\", got \"%s\"\n", dotted, want, got);
        harness_response_print(&resp);
        fail();
    }
}

static void assert_jint(struct json_object *o, const char *dotted, int64_t want)
{
    int64_t got = jint(o, dotted);
    if (got != want) {
        print_error("\"%s\": expected %lld, got %lld\n", dotted, (long long)want, (long long)got);
        harness_response_print(&resp);
        fail();
    }
}

/* The error body's "error" message contains needle (it names the problem). */
static void assert_error_mentions(const char *needle)
{
    struct json_object *o = body_json();
    const char *msg = jstr(o, "error");
    if (!strstr(msg, needle)) {
        print_error("error message \"%s\" does not mention \"%s\"\n", msg, needle);
        harness_response_print(&resp);
        json_object_put(o);
        fail();
    }
    json_object_put(o);
}

/* A refusal of a cache request: code, and instance_id and status in the
 * body (DESIGN "each body carries instance_id and status"). HEAD: status
 * only. */
static void assert_refusal(const char *method, long status, const char *code, const char *id,
                           const char *state)
{
    if (strcmp(method, "HEAD") == 0) {
        assert_http_status(&resp, status);
        assert_int_equal(resp.body.len, 0);
        return;
    }
    assert_json_error(&resp, status, code);
    struct json_object *o = body_json();
    assert_jstr(o, "instance_id", id);
    assert_jstr(o, "status", state);
    json_object_put(o);
}

/* GET /v1/admin/instances/<id>, 200; the record (caller puts). */
static struct json_object *show(const char *id)
{
    admin("GET", ipath(id), NULL);
    assert_http_status(&resp, 200);
    return body_json();
}

static void assert_usage(const char *id, int64_t keys, int64_t bytes)
{
    struct json_object *o = show(id);
    int64_t k = jint(o, "usage.keys"), b = jint(o, "usage.bytes");
    json_object_put(o);
    if (k != keys || b != bytes) {
        print_error("usage of %s: expected {keys %lld, bytes %lld}, got {keys %lld, bytes %lld}\n",
                    id, (long long)keys, (long long)bytes, (long long)k, (long long)b);
        fail();
    }
}

static void assert_admin_404(const char *id)
{
    admin("GET", ipath(id), NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
}

/* POST /v1/admin/instances {"id": id[, more]} -> 201. */
static void create(const char *id, const char *more)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"id\":\"%s\"%s%s}", id, more ? "," : "", more ? more : "");
    admin("POST", "/v1/admin/instances", body);
    assert_http_status(&resp, 201);
}

static void patch_status(const char *id, const char *state)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"status\":\"%s\"}", state);
    admin("PATCH", ipath(id), body);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_jstr(o, "status", state);
    json_object_put(o);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* the store, through the library                                     */

/* Changes so far of the META partition (instance records): a write of a
 * record, and nothing else the tests do, moves it. */
static uint64_t meta_generation(void)
{
    struct roost_store_scope sc;
    struct roost_store_part_stats ps;
    assert_roost_ok(roost_store_begin_part(fx->store, ROOST_STORE_META, 0, &sc));
    enum roost_err err = roost_store_part_stats(&sc, &ps);
    roost_store_end(&sc);
    assert_roost_ok(err);
    return ps.generation;
}

static int count_key(void *arg, struct roost_slice key, struct roost_slice value)
{
    (void)key;
    (void)value;
    (*(long *)arg)++;
    return 0;
}

/* Keys of the instance's namespace actually in the store (not the usage
 * figures: the keys themselves). */
static long store_key_count(const char *id)
{
    struct roost_buf prefix = ROOST_BUF_INIT;
    roost_keyspace_data_prefix(&prefix, roost_slice_cstr(id));
    struct roost_store_scope sc;
    long n = 0;
    enum roost_err err = roost_store_begin(fx->store, ROOST_STORE_DATA, roost_slice_cstr(id), &sc);
    if (!err)
        err = roost_store_iterate(&sc, roost_buf_slice(&prefix), count_key, &n);
    roost_store_end(&sc);
    roost_buf_release(&prefix);
    assert_roost_ok(err);
    return n;
}

static struct roost_instance_usage store_usage(const char *id)
{
    struct roost_instance_usage u;
    assert_roost_ok(roost_kv_usage(fx->store, roost_slice_cstr(id), &u));
    return u;
}

/* Writes a record with the given state and stamps. */
static void put_record(const char *id, enum roost_instance_status status, int64_t created_at,
                       int64_t last_active)
{
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr(id), created_at);
    inst.status = status;
    inst.last_active = last_active;
    assert_roost_ok(roost_registry_put(fx->store, &inst));
    roost_instance_release(&inst);
}

static int64_t record_last_active(const char *id)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr(id), &inst));
    int64_t la = inst.last_active;
    roost_instance_release(&inst);
    return la;
}

static int shard_of(const char *id)
{
    int parts = roost_store_part_count(fx->store, ROOST_STORE_DATA);
    return (int)(roost_fnv1a64(id, strlen(id)) % (uint64_t)parts);
}

/* Loads n keys "<prefix>%05d" with value_of() values through the library;
 * returns their usage bytes (key bytes + value bytes). */
static size_t value_of(const char *prefix, long i, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s:%06ld:", prefix, i);
    size_t want = 16 + (size_t)(i % 48);
    while ((size_t)n < want && (size_t)n < cap - 1) {
        out[n] = (char)('a' + (i + n) % 26);
        n++;
    }
    out[n] = '\0';
    return (size_t)n;
}

static int64_t load_keys(const char *id, const char *prefix, long n)
{
    int64_t bytes = 0;
    char key[64], val[128];
    for (long i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof(key), "%s%05ld", prefix, i);
        size_t vl = value_of(prefix, i, val, sizeof(val));
        assert_roost_ok(roost_kv_put(fx->store, roost_slice_cstr(id), roost_slice_make(key, (size_t)kl),
                                     roost_slice_cstr("text/plain"), roost_slice_make(val, vl),
                                     1 << 20, NULL));
        bytes += kl + (int64_t)vl;
    }
    return bytes;
}

/* Reads keys "<prefix>%05d" 0..n-1 of id back through batch get (100 per
 * request) and compares each value; returns how many differ or are
 * missing (the first few are printed). */
static long verify_keys(const char *id, const char *prefix, long n)
{
    long bad = 0;
    char key[64], val[128];
    for (long start = 0; start < n; start += 100) {
        long end = start + 100 < n ? start + 100 : n;
        struct roost_buf body = ROOST_BUF_INIT;
        roost_buf_append_str(&body, "{\"keys\":[");
        for (long i = start; i < end; i++)
            roost_buf_appendf(&body, "%s\"%s%05ld\"", i > start ? "," : "", prefix, i);
        roost_buf_append_str(&body, "]}");
        batch_w(-1, id, body.ptr);
        roost_buf_release(&body);
        assert_http_status(&resp, 200);
        struct json_object *o = body_json(), *entries = jget(o, "entries");
        for (long i = start; i < end; i++) {
            snprintf(key, sizeof(key), "%s%05ld", prefix, i);
            value_of(prefix, i, val, sizeof(val));
            struct json_object *v = NULL;
            if (!json_object_object_get_ex(entries, key, &v) || !json_object_is_type(v, json_type_string)
                || strcmp(json_object_get_string(v), val) != 0) {
                if (bad++ < 5)
                    print_error("instance %s key %s: expected \"%s\", got %s\n", id, key, val,
                                v ? json_object_to_json_string(v) : "(missing)");
            }
        }
        json_object_put(o);
    }
    return bad;
}

/* ------------------------------------------------------------------ */
/* the routes, for the credential tests                                 */

struct admin_call {
    const char *method;
    const char *target;
    const char *json;
};

/* Every admin route and method, aimed at instance `victim` (which the
 * caller creates with a key, to see that a refused call changed nothing). */
static const struct admin_call admin_calls[] = {
    { "GET", "/v1/admin/instances", NULL },
    { "HEAD", "/v1/admin/instances", NULL },
    { "GET", "/v1/admin/instances?status=active&limit=5", NULL },
    { "POST", "/v1/admin/instances", "{\"id\":\"auth-new\"}" },
    { "GET", "/v1/admin/instances/auth-victim", NULL },
    { "HEAD", "/v1/admin/instances/auth-victim", NULL },
    { "PATCH", "/v1/admin/instances/auth-victim", "{\"status\":\"paused\"}" },
    { "DELETE", "/v1/admin/instances/auth-victim", NULL },
    { "GET", "/v1/admin/stats", NULL },
    { "HEAD", "/v1/admin/stats", NULL },
};
#define N_ADMIN_CALLS (sizeof(admin_calls) / sizeof(admin_calls[0]))

/* A refused admin call changed nothing: auth-new was not created,
 * auth-victim is still active with its key. */
static void assert_refused_calls_changed_nothing(void)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("auth-new"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr("auth-victim"), &inst));
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    roost_instance_release(&inst);
    cache("GET", "auth-victim", "kept", NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "still here", 10);
}

static void assert_admin_refused(long status, const char *code, const char *method)
{
    if (strcmp(method, "HEAD") == 0) {
        assert_http_status(&resp, status);
        assert_int_equal(resp.body.len, 0);
    } else {
        assert_json_error(&resp, status, code);
    }
}

/* ------------------------------------------------------------------ */
/* group off                                                           */

/* EVIDENCE-OF: issue part 4 "Admin authentication: off until configured
 * ... Without either configured, the admin API answers 403 with a JSON
 * error that says how to enable it." Whatever credentials come along (a
 * bearer token, a REMOTE_USER from mod_auth), nothing is done. */
static void test_auth__disabled_403_on_every_route_says_how_to_enable(void **state)
{
    (void)state;
    put_ok("auth-victim", "kept", "still here", 10);
    const char *auths[] = { "", "Authorization: Bearer " TOKEN, "Authorization: Basic YWxpY2U6eA==" };
    for (size_t c = 0; c < N_ADMIN_CALLS; c++) {
        const struct admin_call *a = &admin_calls[c];
        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
            admin_as(auths[i], a->method, a->target, a->json);
            assert_admin_refused(403, "ADMIN_DISABLED", a->method);
            if (strcmp(a->method, "HEAD") != 0) {
                assert_error_mentions("ROOST_ADMIN_TOKEN");
                assert_error_mentions("ROOST_ADMIN_USERS");
            }
        }
        /* REMOTE_USER as mod_auth would set it, on every worker */
        const char *params[] = { "REMOTE_USER=alice", "AUTH_TYPE=Basic", NULL };
        admin_fcgi((int)(c % WORKERS), "Authorization: Basic YWxpY2U6eA==", params, a->method,
                   a->target, a->json);
        assert_admin_refused(403, "ADMIN_DISABLED", a->method);
    }
    assert_refused_calls_changed_nothing();
}

/* ------------------------------------------------------------------ */
/* group token: authentication                                         */

/* EVIDENCE-OF: issue part 4 "An admin token ... sent as Authorization:
 * Bearer … (compared in constant time)"; API "wrong/missing -> 401
 * UNAUTHORIZED with WWW-Authenticate: Bearer". Near misses of the token
 * (a prefix, one byte more, one byte changed, another scheme, no scheme)
 * are all refused, on every route, and change nothing. */
static void test_auth__token_missing_or_wrong_401(void **state)
{
    (void)state;
    put_ok("auth-victim", "kept", "still here", 10);
    char changed[] = "Authorization: Bearer " TOKEN;
    changed[strlen(changed) - 1] ^= 1;
    char prefix[] = "Authorization: Bearer " TOKEN;
    prefix[strlen(prefix) - 1] = '\0';
    const char *auths[] = {
        "",                                             /* none */
        "Authorization: Bearer wrong-token-wrong-token",
        prefix,                                         /* all but the last byte */
        "Authorization: Bearer " TOKEN "x",             /* one byte more */
        changed,                                        /* last byte changed */
        "Authorization: Bearer  " TOKEN,                /* two spaces */
        "Authorization: Bearer",                        /* scheme only */
        "Authorization: Basic " TOKEN,                  /* another scheme */
        "Authorization: " TOKEN,                        /* no scheme */
        "X-Admin-Token: " TOKEN,                        /* another header */
    };
    for (size_t c = 0; c < N_ADMIN_CALLS; c++) {
        const struct admin_call *a = &admin_calls[c];
        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
            admin_as(auths[i], a->method, a->target, a->json);
            assert_admin_refused(401, "UNAUTHORIZED", a->method);
            const char *www = harness_response_header(&resp, "WWW-Authenticate");
            if (!www || strncmp(www, "Bearer", 6) != 0) {
                print_error("401 without WWW-Authenticate: Bearer (got %s)\n", www ? www : "none");
                harness_response_print(&resp);
                fail();
            }
        }
    }
    /* the token in the query string is not a credential */
    admin_as("", "GET", "/v1/admin/stats?token=" TOKEN, NULL);
    assert_json_error(&resp, 401, "UNAUTHORIZED");
    assert_refused_calls_changed_nothing();
}

/* EVIDENCE-OF: issue part 4 "sent as Authorization: Bearer …"; RFC 7235
 * 2.1 "the auth-scheme is case-insensitive". Every route with the token,
 * through lighttpd and on every worker. */
static void test_auth__token_accepted_on_every_route(void **state)
{
    (void)state;
    admin("POST", "/v1/admin/instances", "{\"id\":\"tok-1\"}");
    assert_http_status(&resp, 201);
    admin("GET", ipath("tok-1"), NULL);
    assert_http_status(&resp, 200);
    admin("HEAD", ipath("tok-1"), NULL);
    assert_http_status(&resp, 200);
    assert_int_equal(resp.body.len, 0);
    admin("PATCH", ipath("tok-1"), "{\"region\":\"eu\"}");
    assert_http_status(&resp, 200);
    admin("GET", "/v1/admin/instances", NULL);
    assert_http_status(&resp, 200);
    admin("HEAD", "/v1/admin/instances", NULL);
    assert_http_status(&resp, 200);
    admin("GET", "/v1/admin/stats", NULL);
    assert_http_status(&resp, 200);
    admin_as("Authorization: bearer " TOKEN, "GET", "/v1/admin/stats", NULL);
    assert_http_status(&resp, 200);
    for (int w = 0; w < WORKERS; w++) {
        admin_fcgi(w, NULL, NULL, "GET", ipath("tok-1"), NULL);
        assert_http_status(&resp, 200);
    }
    admin("DELETE", ipath("tok-1"), NULL);
    assert_http_status(&resp, 200);
}

/* EVIDENCE-OF: issue part 4 "users named in ROOST_ADMIN_USERS matched
 * against REMOTE_USER": with ROOST_ADMIN_USERS unset, no REMOTE_USER is an
 * admin (403: authenticated, not an admin); the token still works with one. */
static void test_auth__remote_user_not_admin_without_admin_users(void **state)
{
    (void)state;
    const char *params[] = { "REMOTE_USER=alice", "AUTH_TYPE=Basic", NULL };
    for (int w = 0; w < WORKERS; w++) {
        admin_fcgi(w, "", params, "GET", "/v1/admin/stats", NULL);
        assert_json_error(&resp, 403, "FORBIDDEN");
    }
    admin_fcgi(0, NULL, params, "GET", "/v1/admin/stats", NULL);
    assert_http_status(&resp, 200);
}

/* ------------------------------------------------------------------ */
/* group token: routes                                                  */

/* EVIDENCE-OF: issue part 3 "names are yours; keep them REST-like";
 * DESIGN "GET / answers ... each endpoint as METHOD /path"; the wrong
 * method gets 405 with Allow, paths that are no route 404 NOT_FOUND, a bad
 * id in the path 400 INVALID_INSTANCE_ID. */
static void test_route__admin_methods_paths_and_ids(void **state)
{
    (void)state;
    http_h("GET", "/", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    const char *listed[] = { "GET /v1/admin/instances", "POST /v1/admin/instances",
                             "GET /v1/admin/instances/{id}", "PATCH /v1/admin/instances/{id}",
                             "DELETE /v1/admin/instances/{id}", "GET /v1/admin/stats" };
    struct json_object *o = body_json(), *eps = jget(o, "endpoints");
    for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
        int found = 0;
        for (size_t j = 0; j < json_object_array_length(eps); j++)
            found |= strcmp(json_object_get_string(json_object_array_get_idx(eps, j)), listed[i]) == 0;
        if (!found) {
            print_error("GET / does not list \"%s\"\n", listed[i]);
            harness_response_print(&resp);
            fail();
        }
    }
    json_object_put(o);

    struct { const char *method, *target, *allow; } wrong[] = {
        { "PUT", "/v1/admin/instances", "GET, HEAD, POST" },
        { "DELETE", "/v1/admin/instances", "GET, HEAD, POST" },
        { "POST", "/v1/admin/instances/x", "GET, HEAD, PATCH, DELETE" },
        { "PUT", "/v1/admin/instances/x", "GET, HEAD, PATCH, DELETE" },
        { "POST", "/v1/admin/stats", "GET, HEAD" },
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        /* POST and PUT carry a body: lighttpd answers 411 itself without one */
        int has_body = strcmp(wrong[i].method, "POST") == 0 || strcmp(wrong[i].method, "PUT") == 0;
        admin(wrong[i].method, wrong[i].target, has_body ? "{}" : NULL);
        assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
        const char *allow = harness_response_header(&resp, "Allow");
        if (!allow || strcmp(allow, wrong[i].allow) != 0) {
            print_error("Allow: expected \"%s\", got \"%s\"\n", wrong[i].allow, allow ? allow : "none");
            harness_response_print(&resp);
            fail();
        }
    }
    const char *nowhere[] = { "/v1/admin", "/v1/admin/", "/v1/admin/instance", "/v1/admin/stats/x",
                              "/v1/admin/instances/a/b", "/v1/admin/instances/a/" };
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++) {
        admin("GET", nowhere[i], NULL);
        assert_json_error(&resp, 404, "NOT_FOUND");
    }
    char long_id[80];
    memset(long_id, 'i', 65);
    long_id[65] = '\0';
    const char *bad_ids[] = { "", "bad%20id", "a%2Fb", "caf%C3%A9", long_id };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        const char *methods[] = { "GET", "PATCH", "DELETE" };
        for (size_t m = 0; m < 3; m++) {
            admin(methods[m], ipath(bad_ids[i]), strcmp(methods[m], "PATCH") ? NULL : "{}");
            assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
        }
    }
}

/* EVIDENCE-OF: limits.h ROOST_ADMIN_BODY_MAX (256 KiB) and README "Errors"
 * REQUEST_TOO_LARGE 413: an admin body larger than any admin request can
 * need is refused before it is parsed, and nothing is created. */
static void test_route__admin_body_too_large_413(void **state)
{
    (void)state;
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"id\":\"too-big\"", 15);
    big[n - 1] = '}';
    big[n] = '\0';
    admin("POST", "/v1/admin/instances", big);
    free(big);
    assert_json_error(&resp, 413, "REQUEST_TOO_LARGE");
    assert_admin_404("too-big");
}

/* ------------------------------------------------------------------ */
/* group token: create and show                                         */

/* EVIDENCE-OF: issue part 3 "create one with given fields"; part 1 the
 * record's fields; spec "Instance Creation" defaults (Active, default,
 * default, 8GB memory, 100GB storage, 4 CPU cores); API "201 record with
 * usage {keys 0, bytes 0}". The record is then served and shown alike. */
static void test_create__defaults_201_with_usage(void **state)
{
    (void)state;
    int64_t t0 = (int64_t)time(NULL);
    create("made-1", NULL);
    int64_t t1 = (int64_t)time(NULL);
    struct json_object *o = body_json();
    int64_t created = jint(o, "created_at");
    assert_true(created >= t0 && created <= t1);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"id\":\"made-1\",\"status\":\"active\",\"game_type\":\"default\",\"region\":\"default\","
             "\"resource_quota\":{\"memory_bytes\":8589934592,\"storage_bytes\":107374182400,"
             "\"cpu_cores\":4},\"owner\":\"\",\"metadata\":{},\"created_at\":%lld,"
             "\"last_active\":%lld,\"usage\":{\"keys\":0,\"bytes\":0}}",
             (long long)created, (long long)created);
    assert_json_body_eq(&resp, want);
    const char *ct = harness_response_header(&resp, "Content-Type");
    assert_true(ct && strncmp(ct, "application/json", 16) == 0);
    json_object_put(o);

    admin("GET", ipath("made-1"), NULL);
    assert_json_body_eq(&resp, want);
    /* served at once, and not created a second time by the cache path */
    cache("PUT", "made-1", "k", "v", 1);
    assert_http_status(&resp, 201);
    o = show("made-1");
    assert_jint(o, "created_at", created);
    assert_jint(o, "usage.keys", 1);
    json_object_put(o);
}

/* EVIDENCE-OF: issue part 3 "create one with given fields" (status,
 * game_type, region, resource_quota, owner, metadata); a quota given in
 * part keeps the defaults of the rest; a state set at creation is
 * enforced from the first request. */
static void test_create__with_every_field(void **state)
{
    (void)state;
    create("made-2", "\"status\":\"paused\",\"game_type\":\"chess\",\"region\":\"eu-west\","
                     "\"resource_quota\":{\"memory_bytes\":1024},\"owner\":\"alice\","
                     "\"metadata\":{\"team\":\"blue\",\"tier\":\"gold\"}");
    struct json_object *o = body_json();
    assert_jstr(o, "id", "made-2");
    assert_jstr(o, "status", "paused");
    assert_jstr(o, "game_type", "chess");
    assert_jstr(o, "region", "eu-west");
    assert_jint(o, "resource_quota.memory_bytes", 1024);
    assert_jint(o, "resource_quota.storage_bytes", 107374182400LL);
    assert_jint(o, "resource_quota.cpu_cores", 4);
    assert_jstr(o, "owner", "alice");
    assert_jstr(o, "metadata.team", "blue");
    assert_jstr(o, "metadata.tier", "gold");
    assert_int_equal(json_object_object_length(jget(o, "metadata")), 2);
    assert_jint(o, "usage.keys", 0);
    /* what was answered is what is stored */
    struct json_object *again = show("made-2");
    assert_true(json_object_equal(o, again));
    json_object_put(again);
    json_object_put(o);
    /* the owner's own request (REMOTE_USER as mod_auth sets it) */
    {
        const char *params[] = { "REMOTE_USER=alice", NULL };
        const char *h[] = { "X-Instance-ID: made-2", NULL };
        must_respond(harness_fcgi_request_params(fx->sock[1], "GET", "/v1/cache/k", h, params, NULL,
                                                 0, &resp));
    }
    assert_refusal("GET", 503, "INSTANCE_PAUSED", "made-2", "paused");
}

/* EVIDENCE-OF: API "existing -> 409 INSTANCE_EXISTS", whether the instance
 * was made through the admin API or auto-created by a cache request; the
 * existing record is left as it was. */
static void test_create__existing_409_unchanged(void **state)
{
    (void)state;
    create("made-3", "\"region\":\"us\"");
    struct json_object *before = show("made-3");
    admin("POST", "/v1/admin/instances", "{\"id\":\"made-3\",\"region\":\"eu\",\"status\":\"paused\"}");
    assert_json_error(&resp, 409, "INSTANCE_EXISTS");
    struct json_object *after = show("made-3");
    assert_true(json_object_equal(before, after));
    json_object_put(before);
    json_object_put(after);

    put_ok("auto-made", "k", "value", 5);
    admin("POST", "/v1/admin/instances", "{\"id\":\"auto-made\",\"status\":\"inactive\"}");
    assert_json_error(&resp, 409, "INSTANCE_EXISTS");
    cache("GET", "auto-made", "k", NULL, 0);
    assert_http_status(&resp, 200);
}

struct bad_body {
    const char *json;
    const char *code;
    const char *mentions;       /* the error message names the problem */
};

/* EVIDENCE-OF: issue part 3 "Unknown fields and invalid values get 400
 * with a JSON error naming the problem"; API "unknown field -> 400
 * INVALID_REQUEST naming it; bad status -> 400 INVALID_STATUS". Nothing is
 * created by a refused request. */
static void test_create__invalid_bodies_400_naming_the_problem(void **state)
{
    (void)state;
    char long_id[200], long_label[200], big_quota[200];
    snprintf(long_id, sizeof(long_id), "{\"id\":\"%065d\"}", 0);
    snprintf(long_label, sizeof(long_label), "{\"id\":\"bad-1\",\"region\":\"%065d\"}", 0);
    snprintf(big_quota, sizeof(big_quota),
             "{\"id\":\"bad-1\",\"resource_quota\":{\"storage_bytes\":%lld}}",
             (long long)((INT64_C(1) << 60) + 1));
    const struct bad_body cases[] = {
        { "", "INVALID_JSON", NULL },
        { "{", "INVALID_JSON", NULL },
        { "{\"id\":\"bad-1\"} trailing", "INVALID_JSON", NULL },
        { "[]", "INVALID_REQUEST", NULL },
        { "\"bad-1\"", "INVALID_REQUEST", NULL },
        { "{}", "INVALID_REQUEST", "id" },
        { "{\"id\":5}", "INVALID_REQUEST", "id" },
        { "{\"id\":null}", "INVALID_REQUEST", "id" },
        { "{\"id\":\"bad id\"}", "INVALID_INSTANCE_ID", NULL },
        { "{\"id\":\"\"}", "INVALID_INSTANCE_ID", NULL },
        { long_id, "INVALID_INSTANCE_ID", NULL },
        { "{\"id\":\"bad-1\",\"colour\":\"red\"}", "INVALID_REQUEST", "colour" },
        { "{\"id\":\"bad-1\",\"created_at\":1}", "INVALID_REQUEST", "created_at" },
        { "{\"id\":\"bad-1\",\"last_active\":1}", "INVALID_REQUEST", "last_active" },
        { "{\"id\":\"bad-1\",\"usage\":{\"keys\":1}}", "INVALID_REQUEST", "usage" },
        { "{\"id\":\"bad-1\",\"status\":\"sleeping\"}", "INVALID_STATUS", "sleeping" },
        { "{\"id\":\"bad-1\",\"status\":\"ACTIVE\"}", "INVALID_STATUS", "ACTIVE" },
        { "{\"id\":\"bad-1\",\"status\":\"\"}", "INVALID_STATUS", "status" },
        { "{\"id\":\"bad-1\",\"status\":1}", "INVALID_STATUS", "status" },
        { "{\"id\":\"bad-1\",\"status\":null}", "INVALID_STATUS", "status" },
        { "{\"id\":\"bad-1\",\"game_type\":\"\"}", "INVALID_REQUEST", "game_type" },
        { "{\"id\":\"bad-1\",\"game_type\":7}", "INVALID_REQUEST", "game_type" },
        { "{\"id\":\"bad-1\",\"game_type\":\"a\\nb\"}", "INVALID_REQUEST", "game_type" },
        { long_label, "INVALID_REQUEST", "region" },
        { "{\"id\":\"bad-1\",\"owner\":7}", "INVALID_REQUEST", "owner" },
        { "{\"id\":\"bad-1\",\"metadata\":[]}", "INVALID_REQUEST", "metadata" },
        { "{\"id\":\"bad-1\",\"metadata\":{\"k\":1}}", "INVALID_REQUEST", "metadata" },
        { "{\"id\":\"bad-1\",\"metadata\":{\"k\":null}}", "INVALID_REQUEST", "metadata" },
        { "{\"id\":\"bad-1\",\"resource_quota\":5}", "INVALID_REQUEST", "resource_quota" },
        { "{\"id\":\"bad-1\",\"resource_quota\":{\"gpus\":1}}", "INVALID_REQUEST", "gpus" },
        { "{\"id\":\"bad-1\",\"resource_quota\":{\"memory_bytes\":-1}}", "INVALID_REQUEST", "memory_bytes" },
        { "{\"id\":\"bad-1\",\"resource_quota\":{\"cpu_cores\":\"4\"}}", "INVALID_REQUEST", "cpu_cores" },
        { "{\"id\":\"bad-1\",\"resource_quota\":{\"cpu_cores\":2.5}}", "INVALID_REQUEST", "cpu_cores" },
        { big_quota, "INVALID_REQUEST", "storage_bytes" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        admin("POST", "/v1/admin/instances", cases[i].json);
        assert_json_error(&resp, 400, cases[i].code);
        if (cases[i].mentions)
            assert_error_mentions(cases[i].mentions);
    }
    assert_admin_404("bad-1");
}

/* EVIDENCE-OF: API "missing -> 404 INSTANCE_NOT_FOUND" for show, change
 * and delete; an admin request never auto-creates the instance it names
 * (spec auto-creation is for cache requests). */
static void test_show__missing_404_and_not_created(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        admin("GET", ipath("ghost"), NULL);
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
        admin("HEAD", ipath("ghost"), NULL);
        assert_http_status(&resp, 404);
        admin("PATCH", ipath("ghost"), "{\"status\":\"active\"}");
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
        admin("DELETE", ipath("ghost"), NULL);
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    }
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("ghost"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
}

/* ------------------------------------------------------------------ */
/* group token: change                                                  */

/* EVIDENCE-OF: issue part 3 "change status / metadata / quota / owner";
 * API "PATCH -> 200 record + usage". A patch changes what it names and
 * nothing else; metadata is replaced as a whole; the answer is what a
 * later GET shows. */
static void test_patch__changes_named_fields_only(void **state)
{
    (void)state;
    create("pat-1", "\"metadata\":{\"a\":\"1\",\"b\":\"2\"}");
    put_ok("pat-1", "key", "12345", 5);
    struct json_object *base = show("pat-1");
    struct {
        const char *patch;
        const char *field;       /* the member that changes */
        const char *want;        /* its JSON value after */
    } steps[] = {
        { "{\"game_type\":\"chess\"}", "game_type", "\"chess\"" },
        { "{\"region\":\"ap-south\"}", "region", "\"ap-south\"" },
        { "{\"owner\":\"alice\"}", "owner", "\"alice\"" },
        { "{\"owner\":\"bob\"}", "owner", "\"bob\"" },
        { "{\"owner\":\"\"}", "owner", "\"\"" },
        { "{\"metadata\":{\"c\":\"3\"}}", "metadata", "{\"c\":\"3\"}" },
        { "{\"metadata\":{}}", "metadata", "{}" },
        { "{\"resource_quota\":{\"cpu_cores\":16}}", "resource_quota",
          "{\"memory_bytes\":8589934592,\"storage_bytes\":107374182400,\"cpu_cores\":16}" },
        { "{\"resource_quota\":{\"memory_bytes\":0,\"storage_bytes\":1}}", "resource_quota",
          "{\"memory_bytes\":0,\"storage_bytes\":1,\"cpu_cores\":16}" },
        { "{\"status\":\"migrating\"}", "status", "\"migrating\"" },
        { "{}", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        admin("PATCH", ipath("pat-1"), steps[i].patch);
        assert_http_status(&resp, 200);
        struct json_object *got = body_json();
        if (steps[i].field) {
            struct json_object *want = json_tokener_parse(steps[i].want);
            assert_non_null(want);
            json_object_object_add(base, steps[i].field, want);
        }
        if (!json_object_equal(base, got)) {
            print_error("after %s expected %s\n", steps[i].patch, json_object_to_json_string(base));
            harness_response_print(&resp);
            fail();
        }
        json_object_put(got);
        struct json_object *shown = show("pat-1");
        assert_true(json_object_equal(base, shown));
        json_object_put(shown);
    }
    json_object_put(base);
    /* usage came along in every answer; the data is untouched */
    cache("GET", "pat-1", "key", NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "12345", 5);
}

/* EVIDENCE-OF: issue part 3 "Unknown fields and invalid values get 400
 * with a JSON error naming the problem"; instance.h "Nothing is changed
 * unless the whole patch is valid"; id, created_at, last_active and usage
 * are not the operator's to set. */
static void test_patch__invalid_400_all_or_nothing(void **state)
{
    (void)state;
    create("pat-2", "\"game_type\":\"go\"");
    struct json_object *before = show("pat-2");
    const struct bad_body cases[] = {
        { "", "INVALID_JSON", NULL },
        { "{\"status\":", "INVALID_JSON", NULL },
        { "[]", "INVALID_REQUEST", NULL },
        { "null", "INVALID_REQUEST", NULL },
        { "{\"id\":\"pat-2\"}", "INVALID_REQUEST", "id" },
        { "{\"id\":\"other\"}", "INVALID_REQUEST", "id" },
        { "{\"created_at\":1}", "INVALID_REQUEST", "created_at" },
        { "{\"last_active\":1}", "INVALID_REQUEST", "last_active" },
        { "{\"usage\":{}}", "INVALID_REQUEST", "usage" },
        { "{\"colour\":\"red\"}", "INVALID_REQUEST", "colour" },
        { "{\"status\":\"sleeping\"}", "INVALID_STATUS", "sleeping" },
        { "{\"status\":\"Paused\"}", "INVALID_STATUS", "Paused" },
        { "{\"status\":true}", "INVALID_STATUS", "status" },
        { "{\"game_type\":\"chess\",\"status\":\"bogus\"}", "INVALID_STATUS", "bogus" },
        { "{\"status\":\"paused\",\"colour\":\"red\"}", "INVALID_REQUEST", "colour" },
        { "{\"region\":\"eu\",\"metadata\":{\"k\":5}}", "INVALID_REQUEST", "metadata" },
        { "{\"owner\":\"x\",\"resource_quota\":{\"cpu_cores\":-4}}", "INVALID_REQUEST", "cpu_cores" },
        { "{\"resource_quota\":{\"memory_bytes\":1,\"disk\":2}}", "INVALID_REQUEST", "disk" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        admin("PATCH", ipath("pat-2"), cases[i].json);
        assert_json_error(&resp, 400, cases[i].code);
        if (cases[i].mentions)
            assert_error_mentions(cases[i].mentions);
        struct json_object *after = show("pat-2");
        if (!json_object_equal(before, after)) {
            print_error("refused patch %s changed the record to %s\n", cases[i].json,
                        json_object_to_json_string(after));
            fail();
        }
        json_object_put(after);
    }
    json_object_put(before);
}

/* ------------------------------------------------------------------ */
/* group token: states                                                  */

static const char *const states[] = { "active", "inactive", "paused", "migrating", "deleting" };

/* EVIDENCE-OF: DESIGN "an operator may set any of the five states from any
 * state"; issue part 3 "Status changes follow DESIGN.md (any of the five
 * states from any state; unknown state names refused)". */
static void test_state__any_state_from_any_state(void **state)
{
    (void)state;
    create("st-any", NULL);
    for (size_t from = 0; from < 5; from++) {
        for (size_t to = 0; to < 5; to++) {
            patch_status("st-any", states[from]);
            patch_status("st-any", states[to]);
            struct json_object *o = show("st-any");
            assert_jstr(o, "status", states[to]);
            json_object_put(o);
        }
    }
}

/* EVIDENCE-OF: spec "Only instances in active or migrating states can
 * accept requests"; DESIGN "inactive -> 503 INSTANCE_INACTIVE, paused ->
 * 503 INSTANCE_PAUSED, deleting -> 410 INSTANCE_DELETING; each body
 * carries instance_id and status"; API "States via admin PATCH are seen by
 * the very next cache request on any worker"; DESIGN "deleting set by hand
 * fences the instance with 410 without removing data". */
static void test_state__admin_patch_seen_by_next_request_on_every_worker(void **state)
{
    (void)state;
    const char *id = "st-next";
    put_ok(id, "kept", "kept value", 10);
    struct { const char *state; long status; const char *code; } seq[] = {
        { "inactive", 503, "INSTANCE_INACTIVE" }, { "paused", 503, "INSTANCE_PAUSED" },
        { "deleting", 410, "INSTANCE_DELETING" }, { "migrating", 0, NULL },
        { "active", 0, NULL }, { "paused", 503, "INSTANCE_PAUSED" },
        { "migrating", 0, NULL }, { "deleting", 410, "INSTANCE_DELETING" },
        { "inactive", 503, "INSTANCE_INACTIVE" }, { "active", 0, NULL },
    };
    const char *methods[] = { "GET", "HEAD", "PUT", "DELETE", "BATCH" };
    int round = 0;
    for (size_t s = 0; s < sizeof(seq) / sizeof(seq[0]); s++) {
        patch_status(id, seq[s].state);
        /* the very next request, on each worker in turn and through lighttpd */
        for (int w = -1; w < WORKERS; w++) {
            const char *m = methods[round++ % 5];
            if (seq[s].code) {
                if (strcmp(m, "BATCH") == 0)
                    batch_w(w, id, "{\"keys\":[\"kept\"]}");
                else if (strcmp(m, "PUT") == 0)
                    cache_w(w, m, id, "kept", "overwrite!", 10);
                else
                    cache_w(w, m, id, "kept", NULL, 0);
                assert_refusal(m, seq[s].status, seq[s].code, id, seq[s].state);
            } else {
                /* served: a read that sees the value kept through all refusals */
                cache_w(w, "GET", id, "kept", NULL, 0);
                assert_http_status(&resp, 200);
                assert_body_eq(&resp, "kept value", 10);
            }
        }
    }
    /* nothing any refused request asked for was done */
    assert_usage(id, 1, 4 + 10);
}

/* ------------------------------------------------------------------ */
/* group token: list and stats                                          */

/* Fetches every page of target (which has a query) with the given limit,
 * checking page size and cursor; returns all ids as a JSON array. */
static struct json_object *all_pages(const char *query, int limit, int *pages)
{
    struct json_object *ids = json_object_new_array();
    char cursor[128] = "";
    *pages = 0;
    for (int guard = 0; guard < 2000; guard++) {
        char target[512];
        snprintf(target, sizeof(target), "/v1/admin/instances?%s%slimit=%d%s%s", query,
                 *query ? "&" : "", limit, *cursor ? "&cursor=" : "", cursor);
        admin("GET", target, NULL);
        assert_http_status(&resp, 200);
        (*pages)++;
        struct json_object *o = body_json(), *list = jget(o, "instances"), *next = jget(o, "next_cursor");
        size_t n = json_object_array_length(list);
        assert_true(n <= (size_t)limit);
        for (size_t i = 0; i < n; i++)
            json_object_array_add(ids, json_object_get(jget(json_object_array_get_idx(list, i), "id")));
        if (json_object_is_type(next, json_type_null)) {
            json_object_put(o);
            return ids;
        }
        /* API: next_cursor is the last id of this page, on a full page */
        assert_int_equal(n, limit);
        assert_string_equal(json_object_get_string(next),
                            json_object_get_string(jget(json_object_array_get_idx(list, n - 1), "id")));
        snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
        json_object_put(o);
    }
    fail_msg("more than 2000 pages");
    return NULL;
}

static void assert_ids_ascending(struct json_object *ids)
{
    for (size_t i = 1; i < json_object_array_length(ids); i++) {
        const char *a = json_object_get_string(json_object_array_get_idx(ids, i - 1));
        const char *b = json_object_get_string(json_object_array_get_idx(ids, i));
        if (strcmp(a, b) >= 0) {
            print_error("ids out of order or repeated: \"%s\" then \"%s\"\n", a, b);
            fail();
        }
    }
}

/* EVIDENCE-OF: issue part 3 "list instances (with filters by status and a
 * cursor for large lists)"; API "ordered by id; limit 1..1000 (default
 * 100); next_cursor id|null". Paging with any limit, with or without a
 * filter, yields exactly the whole list once, in order. */
static void test_list__pages_filters_and_cursor(void **state)
{
    (void)state;
    /* 105 instances of our own, in all five states */
    for (int i = 0; i < 105; i++) {
        char id[32], more[64];
        snprintf(id, sizeof(id), "ls-%03d", i);
        snprintf(more, sizeof(more), "\"status\":\"%s\"", states[i % 5]);
        create(id, more);
    }
    admin("GET", "/v1/admin/instances?limit=1000", NULL);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json(), *list = jget(o, "instances");
    assert_true(json_object_is_type(jget(o, "next_cursor"), json_type_null));
    size_t total = json_object_array_length(list);
    assert_true(total >= 105);
    struct json_object *full = json_object_new_array();
    for (size_t i = 0; i < total; i++) {
        struct json_object *rec = json_object_array_get_idx(list, i);
        json_object_array_add(full, json_object_get(jget(rec, "id")));
        /* each entry is a whole record */
        jstr(rec, "status");
        jint(rec, "created_at");
        jint(rec, "resource_quota.cpu_cores");
    }
    json_object_put(o);
    assert_ids_ascending(full);

    /* default limit: 100 */
    admin("GET", "/v1/admin/instances", NULL);
    o = body_json();
    assert_int_equal(json_object_array_length(jget(o, "instances")), 100);
    assert_string_equal(jstr(o, "next_cursor"),
                        json_object_get_string(json_object_array_get_idx(full, 99)));
    json_object_put(o);

    int limits[] = { 1, 7, 100, (int)total, 1000 };
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        int pages;
        struct json_object *ids = all_pages("", limits[l], &pages);
        if (!json_object_equal(ids, full)) {
            print_error("paging with limit %d gave %s\n", limits[l], json_object_to_json_string(ids));
            fail();
        }
        assert_int_equal(pages, (int)((total + (size_t)limits[l] - 1) / (size_t)limits[l]));
        json_object_put(ids);
    }

    /* status filter: only that state, all of ours in it, paged too */
    for (int s = 0; s < 5; s++) {
        char q[64];
        snprintf(q, sizeof(q), "status=%s", states[s]);
        int pages;
        struct json_object *ids = all_pages(q, 3, &pages);
        assert_ids_ascending(ids);
        int ours = 0;
        for (size_t i = 0; i < json_object_array_length(ids); i++) {
            const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
            struct json_object *rec = show(id);
            assert_jstr(rec, "status", states[s]);
            json_object_put(rec);
            ours += strncmp(id, "ls-", 3) == 0;
        }
        assert_int_equal(ours, 21);
        json_object_put(ids);
    }

    /* a cursor is a position: any valid id, listed or not */
    admin("GET", "/v1/admin/instances?cursor=ls-050a&limit=2", NULL);
    assert_http_status(&resp, 200);
    o = body_json();
    list = jget(o, "instances");
    assert_int_equal(json_object_array_length(list), 2);
    assert_jstr(json_object_array_get_idx(list, 0), "id", "ls-051");
    assert_jstr(json_object_array_get_idx(list, 1), "id", "ls-052");
    json_object_put(o);
    /* past the end: empty, no cursor */
    admin("GET", "/v1/admin/instances?cursor=zzzz", NULL);
    assert_json_body_eq(&resp, "{\"instances\":[],\"next_cursor\":null}");
    json_object_put(full);
}

/* EVIDENCE-OF: API "bad status -> 400 INVALID_STATUS; bad cursor -> 400
 * INVALID_CURSOR; limit 1..1000". */
static void test_list__bad_parameters_400(void **state)
{
    (void)state;
    const char *bad_status[] = { "status=bogus", "status=", "status=ACTIVE", "status=active%20" };
    for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/v1/admin/instances?%s", bad_status[i]);
        admin("GET", t, NULL);
        assert_json_error(&resp, 400, "INVALID_STATUS");
    }
    const char *bad_limit[] = { "0", "1001", "-1", "abc", "1.5", "", "10x", "+5", "99999999999999999999" };
    for (size_t i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/v1/admin/instances?limit=%s", bad_limit[i]);
        admin("GET", t, NULL);
        assert_json_error(&resp, 400, "INVALID_REQUEST");
        assert_error_mentions("limit");
    }
    admin("GET", "/v1/admin/instances?limit=1", NULL);
    assert_http_status(&resp, 200);
    admin("GET", "/v1/admin/instances?limit=1000", NULL);
    assert_http_status(&resp, 200);
    char long_cursor[128];
    snprintf(long_cursor, sizeof(long_cursor), "/v1/admin/instances?cursor=%065d", 0);
    const char *bad_cursor[] = { "/v1/admin/instances?cursor=bad%20id", "/v1/admin/instances?cursor=a%2Fb",
                                 "/v1/admin/instances?cursor=%C3%A9", long_cursor };
    for (size_t i = 0; i < sizeof(bad_cursor) / sizeof(bad_cursor[0]); i++) {
        admin("GET", bad_cursor[i], NULL);
        assert_json_error(&resp, 400, "INVALID_CURSOR");
    }
}

/* EVIDENCE-OF: API "GET /v1/admin/stats -> {instances, instances_by_status,
 * partitions [{name, file_bytes, ...}]}"; the counts agree with the list
 * and follow a create and a delete. */
static void test_stats__counts_agree_with_list(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        admin("GET", "/v1/admin/stats", NULL);
        assert_http_status(&resp, 200);
        struct json_object *o = body_json();
        int64_t total = jint(o, "instances"), sum = 0;
        struct json_object *by = jget(o, "instances_by_status");
        assert_int_equal(json_object_object_length(by), 5);
        for (int s = 0; s < 5; s++) {
            char path[64];
            snprintf(path, sizeof(path), "instances_by_status.%s", states[s]);
            int64_t n = jint(o, path);
            sum += n;
            char q[64];
            int pages;
            snprintf(q, sizeof(q), "status=%s", states[s]);
            struct json_object *ids = all_pages(q, 1000, &pages);
            assert_int_equal(n, (int64_t)json_object_array_length(ids));
            json_object_put(ids);
        }
        assert_int_equal(sum, total);
        int pages;
        struct json_object *ids = all_pages("", 1000, &pages);
        assert_int_equal(total, (int64_t)json_object_array_length(ids));
        json_object_put(ids);

        struct json_object *parts = jget(o, "partitions");
        size_t np = json_object_array_length(parts);
        assert_int_equal(np, 1 + (size_t)roost_store_part_count(fx->store, ROOST_STORE_DATA));
        for (size_t i = 0; i < np; i++) {
            struct json_object *p = json_object_array_get_idx(parts, i);
            const char *name = jstr(p, "name");
            assert_true(*name);
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(name, jstr(json_object_array_get_idx(parts, j), "name"));
            assert_true(jint(p, "file_bytes") > 0);
            const char *figures[] = { "log_bytes", "generation", "repairs", "rebuilds" };
            for (int f = 0; f < 4; f++)
                assert_true(jint(p, figures[f]) >= 0);
        }
        json_object_put(o);
        if (round == 0) {
            /* one more paused instance: both counts move by one */
            admin("GET", "/v1/admin/stats", NULL);
            o = body_json();
            int64_t before = jint(o, "instances"), paused = jint(o, "instances_by_status.paused");
            json_object_put(o);
            create("stats-1", "\"status\":\"paused\"");
            admin("GET", "/v1/admin/stats", NULL);
            o = body_json();
            assert_jint(o, "instances", before + 1);
            assert_jint(o, "instances_by_status.paused", paused + 1);
            json_object_put(o);
            admin("DELETE", ipath("stats-1"), NULL);
            assert_http_status(&resp, 200);
            admin("GET", "/v1/admin/stats", NULL);
            o = body_json();
            assert_jint(o, "instances", before);
            assert_jint(o, "instances_by_status.paused", paused);
            json_object_put(o);
        }
    }
}

/* ------------------------------------------------------------------ */
/* group token: usage                                                   */

/* EVIDENCE-OF: issue part 1 "usage figures (keys, bytes) kept current on
 * every write and delete"; API "usage {keys, bytes (key bytes + value
 * bytes)}". Content types are not counted; refused writes count nothing. */
static void test_usage__exact_after_puts_overwrites_deletes(void **state)
{
    (void)state;
    const char *id = "use-1";
    create(id, NULL);
    assert_usage(id, 0, 0);
    cache("PUT", id, "a", "0123456789", 10);              /* +1 key, 1 + 10 */
    assert_http_status(&resp, 201);
    assert_usage(id, 1, 11);
    cache("PUT", id, "bb", "", 0);                        /* empty value: 2 + 0 */
    assert_http_status(&resp, 201);
    assert_usage(id, 2, 13);
    cache("PUT", id, "a", "xyz", 3);                      /* overwrite: 10 -> 3 */
    assert_http_status(&resp, 200);
    assert_usage(id, 2, 6);
    char *big = malloc(100000);
    assert_non_null(big);
    memset(big, 'B', 100000);
    cache("PUT", id, "a", big, 100000);                   /* overwrite: 3 -> 100000 */
    assert_http_status(&resp, 200);
    assert_usage(id, 2, 2 + 100001);
    unsigned char bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    {
        const char *h[] = { "X-Instance-ID: use-1",
                            "Content-Type: application/x-a-rather-long-content-type-name", NULL };
        http_h("PUT", "/v1/cache/ccc", h, bin, sizeof(bin));  /* 3 + 256, type not counted */
        assert_http_status(&resp, 201);
    }
    assert_usage(id, 3, 2 + 100001 + 259);
    cache("PUT", id, "caf\xc3\xa9", "12345", 5);          /* a 5-byte UTF-8 key */
    assert_http_status(&resp, 201);
    assert_usage(id, 4, 2 + 100001 + 259 + 10);
    cache("DELETE", id, "a", NULL, 0);                    /* -1 key, -(1 + 100000) */
    assert_http_status(&resp, 204);
    assert_usage(id, 3, 2 + 259 + 10);
    /* refused or failed changes count nothing */
    cache("DELETE", id, "missing", NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    big = realloc(big, (1 << 20) + 1);
    assert_non_null(big);
    memset(big, 'T', (1 << 20) + 1);
    cache("PUT", id, "toolarge", big, (1 << 20) + 1);
    assert_json_error(&resp, 413, "VALUE_TOO_LARGE");
    free(big);
    batch_w(-1, id, "{\"keys\":[\"bb\",\"ccc\"]}");
    assert_http_status(&resp, 200);
    patch_status(id, "paused");
    cache("PUT", id, "while-paused", "zz", 2);
    assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    patch_status(id, "active");
    assert_usage(id, 3, 2 + 259 + 10);
    /* down to nothing */
    cache("DELETE", id, "bb", NULL, 0);
    cache("DELETE", id, "ccc", NULL, 0);
    cache("DELETE", id, "caf\xc3\xa9", NULL, 0);
    assert_http_status(&resp, 204);
    assert_usage(id, 0, 0);
    /* the same figures on every worker */
    cache("PUT", id, "w", "four", 4);
    for (int w = 0; w < WORKERS; w++) {
        admin_fcgi(w, NULL, NULL, "GET", ipath(id), NULL);
        struct json_object *o = body_json();
        assert_jint(o, "usage.keys", 1);
        assert_jint(o, "usage.bytes", 5);
        json_object_put(o);
    }
}

/* ------------------------------------------------------------------ */
/* group token: activity                                                */

/* Sends n served requests to id, spread over lighttpd and every worker. */
static void served_requests(const char *id, int n)
{
    for (int i = 0; i < n; i++) {
        int w = i % (WORKERS + 1) - 1;
        if (i % 3 == 0) {
            cache_w(w, "PUT", id, "act-key", "v", 1);
            assert_true(resp.status == 200 || resp.status == 201);
        } else if (i % 3 == 1) {
            cache_w(w, "GET", id, "act-key", NULL, 0);
            assert_true(resp.status == 200 || resp.status == 404);
        } else {
            batch_w(w, id, "{\"keys\":[\"act-key\"]}");
            assert_http_status(&resp, 200);
        }
    }
}

/* The after-response write of the last request may still be running on
 * its worker; this long is plenty (it is one record write). */
#define SETTLE_MS 150

/* Waits (bounded) until the admin API shows last_active != old. */
static int64_t wait_last_active_change(const char *id, int64_t old)
{
    long deadline = harness_now_ms() + 3000L * harness_time_scale();
    for (;;) {
        struct json_object *o = show(id);
        int64_t la = jint(o, "last_active");
        json_object_put(o);
        if (la != old || harness_now_ms() > deadline)
            return la;
        sleep_ms(10);
    }
}

/* EVIDENCE-OF: issue part 2 "last_active is updated when a request is
 * served and at least 60 s have passed since the stored value"; spec
 * "Updates are throttled to once per minute". An instance created by its
 * first request starts with last_active = created_at; the many requests
 * of the next seconds, on every worker, write no record at all. */
static void test_activity__first_request_creates_then_throttled(void **state)
{
    (void)state;
    const char *id = "act-new";
    int64_t t0 = (int64_t)time(NULL);
    cache("PUT", id, "act-key", "v", 1);
    assert_http_status(&resp, 201);
    int64_t t1 = (int64_t)time(NULL);
    struct json_object *o = show(id);
    int64_t created = jint(o, "created_at"), la = jint(o, "last_active");
    json_object_put(o);
    assert_true(created >= t0 && created <= t1);
    assert_int_equal(la, created);
    sleep_ms(SETTLE_MS);
    uint64_t g0 = meta_generation();
    served_requests(id, 60);
    sleep_ms(SETTLE_MS);
    uint64_t g1 = meta_generation();
    o = show(id);
    assert_jint(o, "last_active", la);
    json_object_put(o);
    if (g1 != g0) {
        print_error("60 requests within a minute of creation wrote %llu instance records\n",
                    (unsigned long long)(g1 - g0));
        fail();
    }
}

/* EVIDENCE-OF: issue part 2 "updated when a request is served and at least
 * 60 s have passed since the stored value, written after the response has
 * been sent"; registry.h "re-checked under the lock so that workers racing
 * on the same instance write once". An hour-old stamp becomes now with the
 * first served request (one record write), then stays for the requests
 * that follow, on every worker; a stamp 50 s old is left alone, one 70 s
 * old is renewed. */
static void test_activity__old_stamp_updated_once(void **state)
{
    (void)state;
    const char *id = "act-old";
    int64_t now = (int64_t)time(NULL);
    put_record(id, ROOST_INSTANCE_ACTIVE, now - 7200, now - 3600);
    sleep_ms(SETTLE_MS);
    uint64_t g0 = meta_generation();
    int64_t t0 = (int64_t)time(NULL);
    cache("PUT", id, "act-key", "v", 1);
    assert_http_status(&resp, 201);
    int64_t la = wait_last_active_change(id, now - 3600);
    int64_t t1 = (int64_t)time(NULL);
    if (la < t0 || la > t1) {
        print_error("last_active %lld, expected the time of the request (%lld..%lld)\n",
                    (long long)la, (long long)t0, (long long)t1);
        fail();
    }
    struct json_object *o = show(id);
    assert_jint(o, "created_at", now - 7200);
    json_object_put(o);
    sleep_ms(SETTLE_MS);
    assert_int_equal(meta_generation(), g0 + 1);

    served_requests(id, 60);
    sleep_ms(SETTLE_MS);
    assert_int_equal(record_last_active(id), la);
    assert_int_equal(meta_generation(), g0 + 1);

    /* the boundary, without waiting a minute: 50 s old stays, 70 s old goes */
    now = (int64_t)time(NULL);
    put_record(id, ROOST_INSTANCE_ACTIVE, now - 7200, now - 50);
    served_requests(id, 10);
    sleep_ms(SETTLE_MS);
    assert_int_equal(record_last_active(id), now - 50);
    put_record(id, ROOST_INSTANCE_ACTIVE, now - 7200, now - 70);
    t0 = (int64_t)time(NULL);
    cache("GET", id, "act-key", NULL, 0);
    assert_http_status(&resp, 200);
    la = wait_last_active_change(id, now - 70);
    assert_true(la >= t0 && la <= (int64_t)time(NULL));
}

/* EVIDENCE-OF: registry.h "re-checked under the lock so that workers
 * racing on the same instance write once": four workers that all see the
 * same old stamp at the same moment write one record between them. */
static void test_activity__racing_workers_write_once(void **state)
{
    (void)state;
    const char *id = "act-race";
    int64_t now = (int64_t)time(NULL);
    cache("PUT", id, "act-key", "v", 1);
    put_record(id, ROOST_INSTANCE_ACTIVE, now - 7200, now - 3600);
    sleep_ms(SETTLE_MS);
    uint64_t g0 = meta_generation();
    int *go = mmap(NULL, sizeof(int) * 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(go != MAP_FAILED);
    go[0] = 0;
    go[1] = 0;
    pid_t pids[WORKERS];
    fflush(stdout);
    fflush(stderr);
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            long deadline = harness_now_ms() + 5000;
            while (!__atomic_load_n(&go[0], __ATOMIC_ACQUIRE) && harness_now_ms() < deadline)
                ;
            struct harness_response r;
            harness_response_init(&r);
            const char *h[] = { "X-Instance-ID: act-race", NULL };
            for (int i = 0; i < 5; i++)
                if (harness_fcgi_request(fx->sock[w], "GET", "/v1/cache/act-key", h, NULL, 0, &r) != 0
                    || r.status != 200)
                    __atomic_add_fetch(&go[1], 1, __ATOMIC_SEQ_CST);
            _exit(0);
        }
    }
    sleep_ms(50);
    __atomic_store_n(&go[0], 1, __ATOMIC_RELEASE);
    for (int w = 0; w < WORKERS; w++)
        waitpid(pids[w], NULL, 0);
    int failures = go[1];
    munmap(go, sizeof(int) * 2);
    assert_int_equal(failures, 0);
    sleep_ms(SETTLE_MS);
    int64_t la = record_last_active(id);
    assert_true(la >= now);
    assert_int_equal(meta_generation(), g0 + 1);
}

/* EVIDENCE-OF: issue part 2 "last_active is updated when a request is
 * served": a refused request (paused) and admin requests serve nothing and
 * write nothing. */
static void test_activity__refused_and_admin_requests_not_recorded(void **state)
{
    (void)state;
    const char *id = "act-paused";
    int64_t now = (int64_t)time(NULL);
    put_record(id, ROOST_INSTANCE_PAUSED, now - 7200, now - 3600);
    sleep_ms(SETTLE_MS);
    uint64_t g0 = meta_generation();
    for (int w = -1; w < WORKERS; w++) {
        cache_w(w, "GET", id, "act-key", NULL, 0);
        assert_json_error(&resp, 503, "INSTANCE_PAUSED");
        admin_fcgi(w < 0 ? 0 : w, NULL, NULL, "GET", ipath(id), NULL);
        assert_http_status(&resp, 200);
    }
    sleep_ms(SETTLE_MS);
    assert_int_equal(record_last_active(id), now - 3600);
    assert_int_equal(meta_generation(), g0);
}

/* ------------------------------------------------------------------ */
/* group token: delete                                                  */

/* EVIDENCE-OF: issue part 3 "Delete ... removes every key of its
 * namespace, then removes the record"; API "DELETE -> 200
 * {instance_id, deleted: true, keys_removed: N} ... afterwards the
 * instance is gone (GET admin -> 404; a cache request auto-creates a
 * fresh empty one)". Other instances keep their data. */
static void test_delete__removes_keys_and_record(void **state)
{
    (void)state;
    const char *id = "del-small";
    put_ok("del-bystander", "k", "bystander", 9);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%02d", i);
        put_ok(id, key, key, strlen(key));
    }
    int64_t t0 = (int64_t)time(NULL);
    admin("DELETE", ipath(id), NULL);
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"instance_id\":\"del-small\",\"deleted\":true,\"keys_removed\":20}");
    assert_admin_404(id);
    assert_int_equal(store_key_count(id), 0);
    assert_int_equal(store_usage(id).keys, 0);
    int pages;
    struct json_object *ids = all_pages("", 1000, &pages);
    for (size_t i = 0; i < json_object_array_length(ids); i++)
        assert_string_not_equal(json_object_get_string(json_object_array_get_idx(ids, i)), id);
    json_object_put(ids);
    /* a second delete: nothing left to delete */
    admin("DELETE", ipath(id), NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    cache("GET", "del-bystander", "k", NULL, 0);
    assert_http_status(&resp, 200);
    /* the next cache request meets a fresh, empty instance */
    cache("GET", id, "k00", NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    struct json_object *o = show(id);
    assert_jstr(o, "status", "active");
    assert_true(jint(o, "created_at") >= t0);
    assert_jint(o, "usage.keys", 0);
    assert_jint(o, "usage.bytes", 0);
    json_object_put(o);

    /* an empty instance, and one in each state, delete alike */
    for (int s = 0; s < 5; s++) {
        char did[32], more[64];
        snprintf(did, sizeof(did), "del-state-%d", s);
        snprintf(more, sizeof(more), "\"status\":\"%s\"", states[s]);
        create(did, more);
        if (s == 0)
            put_ok(did, "one", "1", 1);
        admin("DELETE", ipath(did), NULL);
        assert_http_status(&resp, 200);
        o = body_json();
        assert_jint(o, "keys_removed", s == 0 ? 1 : 0);
        json_object_put(o);
        assert_admin_404(did);
    }
}

/* Pid of the worker listening on socket path (its fd 0), or -1. */
static pid_t worker_on_socket(const char *path)
{
    FILE *f = fopen("/proc/net/unix", "r");
    if (!f)
        return -1;
    char line[1024];
    unsigned long inode = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long flags, ino;
        char p[512];
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %511s", &flags, &ino, p) == 3
            && (flags & 0x10000) && strcmp(p, path) == 0) {
            inode = ino;
            break;
        }
    }
    fclose(f);
    if (!inode)
        return -1;
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    pid_t pids[32];
    int n = harness_worker_pids(fx->srv, pids, 32);
    for (int i = 0; i < n && i < 32; i++) {
        char fd0[64], link[128];
        snprintf(fd0, sizeof(fd0), "/proc/%d/fd/0", (int)pids[i]);
        ssize_t l = readlink(fd0, link, sizeof(link) - 1);
        if (l > 0) {
            link[l] = '\0';
            if (strcmp(link, want) == 0)
                return pids[i];
        }
    }
    return -1;
}

/* EVIDENCE-OF: issue part 3 "Delete moves the instance to deleting (so new
 * requests get 410 INSTANCE_DELETING at once) ... it is idempotent and, if
 * interrupted (worker killed), finishes on the next attempt". The worker
 * running a delete of 10,000 keys is SIGKILLed in the middle of the purge
 * (or, failing that in 8 tries, at least before the record is removed):
 * no answer was sent, the instance stays fenced, its usage figures match
 * the keys not yet removed, and the next DELETE removes exactly those and
 * the record. */
static void test_delete__interrupted_by_sigkill_finishes_on_repeat(void **state)
{
    (void)state;
    const long n = 10000;
    int scale = harness_time_scale();
    int mid_purge = 0, before_purge = 0, after_purge = 0, too_late = 0;
    /* The kill comes a delay after the DELETE is sent, tuned from attempt
     * to attempt until it lands in the purge (watching the purge through
     * the store would take the partition's lock and change its pace). */
    long delay_us = 15000L * scale;
    for (int attempt = 1; attempt <= 8 && !mid_purge; attempt++) {
        char id[32];
        snprintf(id, sizeof(id), "del-killed-%d", attempt);
        create(id, NULL);
        int64_t bytes = load_keys(id, "x", n);
        assert_usage(id, n, bytes);
        pid_t victim = worker_on_socket(fx->sock[0]);
        assert_true(victim > 0);

        int go[2];
        assert_int_equal(pipe(go), 0);
        fflush(stdout);
        fflush(stderr);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(go[0]);
            struct harness_response r;
            harness_response_init(&r);
            const char *h[] = { "Authorization: Bearer " TOKEN, NULL };
            if (write(go[1], "g", 1) != 1)
                _exit(2);
            int rc = harness_fcgi_request(fx->sock[0], "DELETE", ipath(id), h, NULL, 0, &r);
            _exit(rc == 0 ? 0 : 1);   /* 1: the connection died, as intended */
        }
        close(go[1]);
        char c;
        assert_int_equal(read(go[0], &c, 1), 1);
        close(go[0]);
        struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
        kill(victim, SIGKILL);
        int child_status = 0;
        waitpid(child, &child_status, 0);
        long respawn = harness_wait_workers(fx->srv, WORKERS, victim, 10000L * scale);
        assert_true(respawn >= 0);

        admin("GET", ipath(id), NULL);
        if (resp.status == 404) {
            printf("# interrupted delete attempt %d: killed %ld us after the request, too late\n",
                   attempt, delay_us);
            too_late++;
            delay_us /= 2;
            continue;
        }
        struct json_object *o = body_json();
        assert_jstr(o, "status", "deleting");
        int64_t left = jint(o, "usage.keys");
        json_object_put(o);
        long in_store = store_key_count(id);
        printf("# interrupted delete attempt %d: worker %d killed %ld us after the request with "
               "%lld of %ld keys left (%ld in the store), respawned in %ld ms\n", attempt,
               (int)victim, delay_us, (long long)left, n, in_store, respawn);
        /* the connection died with the worker: no answer was sent */
        assert_false(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0);
        /* the figures followed every batch up to the kill */
        assert_int_equal(left, in_store);
        if (left == n) {
            before_purge++;
            delay_us += delay_us / 2;
        } else if (left == 0) {
            after_purge++;
            delay_us = delay_us * 2 / 3;
        } else {
            mid_purge++;
        }
        /* fenced: every request of the interrupted instance gets 410 */
        for (int w = -1; w < WORKERS; w++) {
            if (w < 0)
                cache_w(w, "GET", id, "x00001", NULL, 0);
            else
                cache_w(w, "PUT", id, "x00001", "new", 3);
            assert_refusal("GET", 410, "INSTANCE_DELETING", id, "deleting");
        }
        assert_int_equal(store_key_count(id), in_store);
        /* the repeat finishes it */
        admin("DELETE", ipath(id), NULL);
        assert_http_status(&resp, 200);
        o = body_json();
        assert_jstr(o, "instance_id", id);
        assert_true(json_object_get_boolean(jget(o, "deleted")));
        assert_jint(o, "keys_removed", in_store);
        json_object_put(o);
        assert_admin_404(id);
        assert_int_equal(store_key_count(id), 0);
        assert_int_equal(store_usage(id).keys, 0);
    }
    printf("# interrupted delete: killed %d times mid-purge, %d before the purge, %d after it, "
           "%d too late\n", mid_purge, before_purge, after_purge, too_late);
    if (!mid_purge && !before_purge && !after_purge)
        fail_msg("eight deletes of %ld keys all finished before the kill", n);
}

/* Shared with the forked clients of the 10k delete. */
#define NB_WRITERS 2
struct del_share {
    volatile int stop;
    struct {
        volatile long acked;            /* keys 0..acked-1 acknowledged */
        volatile long max_ms;           /* slowest acknowledged write */
        volatile long failed;
        volatile long bad_status;
        volatile int done;
    } w[NB_WRITERS];
    struct {
        volatile long polls, active_before, deleting, other_200, gone, errors, bad_status;
        volatile long min_keys, max_keys;  /* while deleting */
        volatile int done;
    } obs;
};

/* Writer c: keys "w<c>-%05d" of instance nb, through lighttpd (c 0) or
 * straight to worker 1 (c 1), sequentially, until told to stop. */
static void del_writer(int c, struct del_share *sh, const char *nb, const char *base_url,
                       const char *sock)
{
    struct harness_client *cl = harness_client_new_url(base_url);
    struct harness_response r;
    harness_response_init(&r);
    char ih[128], prefix[8], key[32], path[64], val[128];
    snprintf(ih, sizeof(ih), "X-Instance-ID: %s", nb);
    snprintf(prefix, sizeof(prefix), "w%d-", c);
    const char *h[] = { ih, "Content-Type: text/plain", NULL };
    long deadline = harness_now_ms() + 60000L * harness_time_scale();
    for (long i = 0; i < 99999 && !sh->stop && harness_now_ms() < deadline; i++) {
        snprintf(key, sizeof(key), "%s%05ld", prefix, i);
        snprintf(path, sizeof(path), "/v1/cache/%s", key);
        size_t vl = value_of(prefix, i, val, sizeof(val));
        long t0 = harness_now_ms();
        int rc = c == 0 ? harness_request(cl, "PUT", path, h, val, vl, &r)
                        : harness_fcgi_request(sock, "PUT", path, h, val, vl, &r);
        long took = harness_now_ms() - t0;
        if (took > sh->w[c].max_ms)
            sh->w[c].max_ms = took;
        if (rc != 0 || r.status != 201) {
            sh->w[c].failed++;
            sh->w[c].bad_status = r.status;
            break;
        }
        __atomic_store_n(&sh->w[c].acked, i + 1, __ATOMIC_RELEASE);
    }
    harness_response_release(&r);
    harness_client_free(cl);
}

/* Observer: the victim's admin record, as often as it can, during the
 * delete. */
static void del_observer(struct del_share *sh, const char *victim, const char *base_url)
{
    struct harness_client *cl = harness_client_new_url(base_url);
    struct harness_response r;
    harness_response_init(&r);
    const char *h[] = { "Authorization: Bearer " TOKEN, NULL };
    char path[128];
    snprintf(path, sizeof(path), "/v1/admin/instances/%s", victim);
    sh->obs.min_keys = -1;
    for (long i = 0; i < 200000 && !sh->stop; i++) {
        sh->obs.polls++;
        if (harness_request(cl, "GET", path, h, NULL, 0, &r) != 0) {
            sh->obs.errors++;
            continue;
        }
        if (r.status == 404) {
            sh->obs.gone++;
        } else if (r.status == 200) {
            struct json_object *o = harness_response_json(&r), *st, *u, *k;
            if (o && json_object_object_get_ex(o, "status", &st)
                && strcmp(json_object_get_string(st), "deleting") == 0
                && json_object_object_get_ex(o, "usage", &u) && json_object_object_get_ex(u, "keys", &k)) {
                long keys = (long)json_object_get_int64(k);
                sh->obs.deleting++;
                if (sh->obs.min_keys < 0 || keys < sh->obs.min_keys)
                    sh->obs.min_keys = keys;
                if (keys > sh->obs.max_keys)
                    sh->obs.max_keys = keys;
            } else if (o && json_object_object_get_ex(o, "status", &st)
                       && strcmp(json_object_get_string(st), "active") == 0 && !sh->obs.deleting
                       && !sh->obs.gone) {
                sh->obs.active_before++;
            } else {
                sh->obs.other_200++;   /* active again after deleting, or another state */
            }
            json_object_put(o);
        } else {
            sh->obs.errors++;
            sh->obs.bad_status = r.status;
        }
        sleep_ms(1);
    }
    harness_response_release(&r);
    harness_client_free(cl);
}

/* EVIDENCE-OF: issue "Tests that must exist": "delete of an instance with
 * 10,000 keys while another instance is written concurrently (the other
 * instance loses nothing)". The other instance shares the victim's shard
 * (FNV-1a 64 of the id % 16), so the purge and the writes take turns on
 * the same file and lock. Every acknowledged write reads back, the usage
 * figures of the other instance are exact, and the victim is gone. */
static void test_delete__10k_keys_while_neighbour_written(void **state)
{
    (void)state;
    const char *victim = "del-10k";
    const long n = 10000, pre = 500;
    char nb[32] = "";
    for (int i = 0; i < 10000; i++) {
        snprintf(nb, sizeof(nb), "del-neighbour-%d", i);
        if (shard_of(nb) == shard_of(victim))
            break;
    }
    assert_int_equal(shard_of(nb), shard_of(victim));
    create(victim, NULL);
    put_record(nb, ROOST_INSTANCE_ACTIVE, (int64_t)time(NULL), (int64_t)time(NULL));
    long t_load = harness_now_ms();
    int64_t vbytes = load_keys(victim, "v", n);
    int64_t nbytes = load_keys(nb, "p", pre);
    printf("# 10k delete: victim %s and neighbour %s on shard %d; %ld keys loaded in %ld ms\n",
           victim, nb, shard_of(victim), n + pre, harness_now_ms() - t_load);
    assert_usage(victim, n, vbytes);
    assert_usage(nb, pre, nbytes);

    struct del_share *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset((void *)sh, 0, sizeof(*sh));
    pid_t pids[NB_WRITERS + 1];
    fflush(stdout);
    fflush(stderr);
    for (int c = 0; c <= NB_WRITERS; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (c < NB_WRITERS) {
                del_writer(c, sh, nb, fx->srv->base_url, fx->sock[1]);
                sh->w[c].done = 1;
            } else {
                del_observer(sh, victim, fx->srv->base_url);
                sh->obs.done = 1;
            }
            _exit(0);
        }
    }
    /* both writers under way before the delete starts */
    long deadline = harness_now_ms() + 10000L * harness_time_scale();
    while (harness_now_ms() < deadline
           && (sh->w[0].acked < 20 || sh->w[1].acked < 20 || sh->obs.polls < 5)
           && !sh->w[0].failed && !sh->w[1].failed)
        sleep_ms(2);
    long before = sh->w[0].acked + sh->w[1].acked;
    long t0 = harness_now_ms();
    admin("DELETE", ipath(victim), NULL);
    long t1 = harness_now_ms();
    long after = sh->w[0].acked + sh->w[1].acked;
    sleep_ms(100);
    sh->stop = 1;
    for (int c = 0; c <= NB_WRITERS; c++) {
        long wait_deadline = harness_now_ms() + 30000L * harness_time_scale();
        int st;
        while (waitpid(pids[c], &st, WNOHANG) == 0) {
            if (harness_now_ms() > wait_deadline) {
                kill(pids[c], SIGKILL);
                waitpid(pids[c], &st, 0);
                break;
            }
            sleep_ms(5);
        }
    }
    delete_10k_ms = t1 - t0;
    delete_10k_neighbour_writes = after - before;
    printf("# 10k delete: DELETE took %ld ms; neighbour writes acknowledged during it: %ld "
           "(total %ld + %ld, slowest %ld / %ld ms); observer: %ld polls, %ld saw deleting "
           "(keys %ld..%ld), %ld gone, %ld other\n", t1 - t0, after - before, sh->w[0].acked,
           sh->w[1].acked, sh->w[0].max_ms, sh->w[1].max_ms, sh->obs.polls, sh->obs.deleting,
           sh->obs.min_keys, sh->obs.max_keys, sh->obs.gone, sh->obs.other_200);

    /* the delete */
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"instance_id\":\"del-10k\",\"deleted\":true,\"keys_removed\":10000}");
    /* the writers: nothing refused, and real concurrency */
    for (int c = 0; c < NB_WRITERS; c++) {
        if (sh->w[c].failed) {
            print_error("writer %d: a write to %s failed with status %ld\n", c, nb, sh->w[c].bad_status);
            fail();
        }
        assert_true(sh->w[c].done);
    }
    /* the writers ran before, during and after the delete; none of their
     * writes waited for the whole delete to end (the purge lets go of the
     * shared partition between batches) */
    assert_true(sh->w[0].acked + sh->w[1].acked > after);
    for (int c = 0; c < NB_WRITERS; c++)
        assert_true(sh->w[c].max_ms < 5000L * harness_time_scale());
    assert_int_equal(sh->obs.errors, 0);
    assert_int_equal(sh->obs.other_200, 0);   /* never "active" again while deleting */

    /* the neighbour lost nothing */
    long acked[NB_WRITERS] = { sh->w[0].acked, sh->w[1].acked };
    munmap(sh, sizeof(*sh));
    assert_int_equal(verify_keys(nb, "p", pre), 0);
    int64_t keys = pre, bytes = nbytes;
    for (int c = 0; c < NB_WRITERS; c++) {
        char prefix[8], key[32], val[128];
        snprintf(prefix, sizeof(prefix), "w%d-", c);
        assert_int_equal(verify_keys(nb, prefix, acked[c]), 0);
        for (long i = 0; i < acked[c]; i++)
            bytes += snprintf(key, sizeof(key), "%s%05ld", prefix, i)
                     + (int64_t)value_of(prefix, i, val, sizeof(val));
        keys += acked[c];
    }
    assert_usage(nb, keys, bytes);
    assert_int_equal(store_key_count(nb), keys);
    /* the victim is gone, keys, figures and record */
    assert_admin_404(victim);
    assert_int_equal(store_key_count(victim), 0);
    assert_int_equal(store_usage(victim).keys, 0);
}

/* EVIDENCE-OF: issue part 3 "removes every key of its namespace, then
 * removes the record"; API "afterwards ... a cache request auto-creates a
 * fresh empty one". Writers keep writing an instance that is deleted over
 * and over: right after each delete, the instance has no key unless a
 * record exists again (a write that passed the state check before the
 * fence must not land in the store after the purge, where it would belong
 * to no instance, or to a later "fresh" one). */
static void test_delete__racing_writes_leave_no_orphan_keys(void **state)
{
    (void)state;
    const char *id = "del-race";
    int scale = harness_time_scale();
    put_ok(id, "k0", "seed", 4);
    struct race_share {
        volatile int stop;
        volatile long writes[3], refused[3], other[3];
    } *sh = mmap(NULL, sizeof(struct race_share), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset((void *)sh, 0, sizeof(*sh));
    pid_t pids[3];
    fflush(stdout);
    fflush(stderr);
    for (int c = 0; c < 3; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            struct harness_response r;
            harness_response_init(&r);
            const char *h[] = { "X-Instance-ID: del-race", NULL };
            char path[64];
            long deadline = harness_now_ms() + 30000L * scale;
            for (long i = 0; i < 1000000 && !sh->stop && harness_now_ms() < deadline; i++) {
                snprintf(path, sizeof(path), "/v1/cache/k%d-%ld", c, i % 64);
                int rc = harness_fcgi_request(fx->sock[c], "PUT", path, h, "v", 1, &r);
                if (rc == 0 && (r.status == 200 || r.status == 201))
                    sh->writes[c]++;
                else if (rc == 0 && r.status == 410)
                    sh->refused[c]++;
                else
                    sh->other[c]++;
            }
            _exit(0);
        }
    }
    long t_end = harness_now_ms() + 2500L * scale;
    long rounds = 0, deleted = 0, orphans = 0, removed = 0;
    while (harness_now_ms() < t_end && rounds < 2000) {
        rounds++;
        admin_fcgi(3, NULL, NULL, "DELETE", ipath(id), NULL);
        if (resp.status == 404)
            continue;
        assert_http_status(&resp, 200);
        deleted++;
        struct json_object *o = body_json();
        removed += (long)jint(o, "keys_removed");
        json_object_put(o);
        /* keys first, record second: a key seen before a missing record
         * was written by a request that resolved the deleted record */
        long keys = store_key_count(id);
        struct roost_instance inst;
        roost_instance_init(&inst);
        enum roost_err err = roost_registry_get(fx->store, roost_slice_cstr(id), &inst);
        roost_instance_release(&inst);
        if (keys > 0 && err == ROOST_ERR_INSTANCE_NOT_FOUND) {
            if (orphans++ < 3)
                print_error("round %ld: %ld key(s) of %s in the store and no record, right after "
                            "its delete\n", rounds, keys, id);
        }
    }
    sh->stop = 1;
    for (int c = 0; c < 3; c++)
        waitpid(pids[c], NULL, 0);
    long writes = sh->writes[0] + sh->writes[1] + sh->writes[2];
    long refused = sh->refused[0] + sh->refused[1] + sh->refused[2];
    long other = sh->other[0] + sh->other[1] + sh->other[2];
    munmap(sh, sizeof(*sh));
    printf("# racing delete: %ld rounds, %ld deletes (%ld keys removed), %ld writes, %ld refused "
           "410, %ld other, %ld orphaned\n", rounds, deleted, removed, writes, refused, other, orphans);
    assert_int_equal(other, 0);
    assert_true(deleted > 0);
    /* a last delete with nobody writing leaves nothing at all */
    admin("DELETE", ipath(id), NULL);
    assert_true(resp.status == 200 || resp.status == 404);
    assert_int_equal(orphans, 0);
    assert_int_equal(store_key_count(id), 0);
    assert_int_equal(store_usage(id).keys, 0);
}

/* ------------------------------------------------------------------ */
/* group users: REMOTE_USER from lighttpd's mod_auth                    */

/* EVIDENCE-OF: issue part 4 "users named in ROOST_ADMIN_USERS matched
 * against REMOTE_USER from lighttpd's mod_auth". Users are listed with
 * blanks around the names (" alice , bob "); both are admins, through the
 * real mod_auth (basic, plain userfile), on every route. */
static void test_users__listed_users_allowed_through_mod_auth(void **state)
{
    (void)state;
    char *alice = harness_basic_auth("alice", "alice-pw"), *bob = harness_basic_auth("bob", "bob-pw");
    admin_as(alice, "POST", "/v1/admin/instances", "{\"id\":\"usr-1\"}");
    assert_http_status(&resp, 201);
    admin_as(bob, "GET", ipath("usr-1"), NULL);
    assert_http_status(&resp, 200);
    admin_as(alice, "PATCH", ipath("usr-1"), "{\"status\":\"paused\"}");
    assert_http_status(&resp, 200);
    cache("GET", "usr-1", "k", NULL, 0);
    assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    admin_as(bob, "GET", "/v1/admin/instances?status=paused", NULL);
    assert_http_status(&resp, 200);
    admin_as(alice, "GET", "/v1/admin/stats", NULL);
    assert_http_status(&resp, 200);
    admin_as(bob, "DELETE", ipath("usr-1"), NULL);
    assert_http_status(&resp, 200);
    admin_as(bob, "GET", ipath("usr-1"), NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    free(alice);
    free(bob);
}

/* EVIDENCE-OF: API "ROOST_ADMIN_USERS: REMOTE_USER from lighttpd's mod_auth
 * matched -> allowed; authenticated but not listed -> 403 FORBIDDEN".
 * carol has a valid password, so lighttpd lets her through with
 * REMOTE_USER=carol (and, as it always does, her Authorization header);
 * asking again cannot help her, so the answer is 403, not 401. */
static void test_users__authenticated_but_unlisted_user_403(void **state)
{
    (void)state;
    put_ok("auth-victim", "kept", "still here", 10);
    char *carol = harness_basic_auth("carol", "carol-pw");
    for (size_t c = 0; c < N_ADMIN_CALLS; c++) {
        admin_as(carol, admin_calls[c].method, admin_calls[c].target, admin_calls[c].json);
        assert_admin_refused(403, "FORBIDDEN", admin_calls[c].method);
    }
    free(carol);
    assert_refused_calls_changed_nothing();
}

/* EVIDENCE-OF: issue part 4 "REMOTE_USER from lighttpd's mod_auth": the
 * credentials are lighttpd's to check. Without them, or with a wrong
 * password, lighttpd itself answers 401 with its Basic challenge and no
 * worker is asked; names are matched exactly (no blanks, no case folding).
 * The cache routes stay outside the protected prefix. */
static void test_users__mod_auth_guards_the_admin_prefix(void **state)
{
    (void)state;
    char *wrong = harness_basic_auth("alice", "not-her-password"), *ghost = harness_basic_auth("mallory", "x");
    const char *auths[] = { "", wrong, ghost };
    for (size_t i = 0; i < 3; i++) {
        admin_as(auths[i], "GET", "/v1/admin/stats", NULL);
        assert_http_status(&resp, 401);
        const char *www = harness_response_header(&resp, "WWW-Authenticate");
        if (!www || strncmp(www, "Basic", 5) != 0) {
            print_error("expected lighttpd's Basic challenge (mod_auth in front of the workers)\n");
            harness_response_print(&resp);
            fail();
        }
    }
    free(wrong);
    free(ghost);
    put_ok("usr-cache", "k", "no credentials needed", 21);
    cache("GET", "usr-cache", "k", NULL, 0);
    assert_http_status(&resp, 200);
    /* exact names, straight to the workers as mod_auth would pass them */
    const char *near[] = { "REMOTE_USER=Alice", "REMOTE_USER= alice", "REMOTE_USER=alice,bob",
                           "REMOTE_USER=alic", "REMOTE_USER=alicebob" };
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        const char *params[] = { near[i], NULL };
        admin_fcgi((int)(i % WORKERS), "", params, "GET", "/v1/admin/stats", NULL);
        assert_json_error(&resp, 403, "FORBIDDEN");
    }
    const char *ok[] = { "REMOTE_USER=alice", "REMOTE_USER=bob" };
    for (int w = 0; w < WORKERS; w++) {
        const char *params[] = { ok[w & 1], NULL };
        admin_fcgi(w, "", params, "GET", "/v1/admin/stats", NULL);
        assert_http_status(&resp, 200);
    }
    /* no token configured: a bearer is no credential here */
    admin_fcgi(0, "Authorization: Bearer " TOKEN, NULL, "GET", "/v1/admin/stats", NULL);
    assert_json_error(&resp, 401, "UNAUTHORIZED");
}

/* ------------------------------------------------------------------ */
/* group both                                                          */

/* EVIDENCE-OF: issue part 4 "An admin token ... and/or users named in
 * ROOST_ADMIN_USERS": with both set, either credential is enough; an
 * authenticated user who is not listed is refused with 403 unless the
 * request also carries the token; nothing at all is 401 with the Bearer
 * challenge. */
static void test_both__either_credential(void **state)
{
    (void)state;
    char *basic_alice = harness_basic_auth("alice", "pw"), *basic_carol = harness_basic_auth("carol", "pw");
    const char *alice[] = { "REMOTE_USER=alice", "AUTH_TYPE=Basic", NULL };
    const char *carol[] = { "REMOTE_USER=carol", "AUTH_TYPE=Basic", NULL };
    admin("GET", "/v1/admin/stats", NULL);                     /* token through lighttpd */
    assert_http_status(&resp, 200);
    for (int w = 0; w < WORKERS; w++) {
        admin_fcgi(w, "", alice, "GET", "/v1/admin/stats", NULL);
        assert_http_status(&resp, 200);
        admin_fcgi(w, basic_alice, alice, "GET", "/v1/admin/stats", NULL);  /* as lighttpd sends it */
        assert_http_status(&resp, 200);
        admin_fcgi(w, NULL, carol, "GET", "/v1/admin/stats", NULL);        /* token wins */
        assert_http_status(&resp, 200);
        admin_fcgi(w, "", carol, "GET", "/v1/admin/stats", NULL);
        assert_json_error(&resp, 403, "FORBIDDEN");
        admin_fcgi(w, basic_carol, carol, "GET", "/v1/admin/stats", NULL);  /* as lighttpd sends it */
        assert_json_error(&resp, 403, "FORBIDDEN");
    }
    admin_as("", "GET", "/v1/admin/stats", NULL);
    assert_json_error(&resp, 401, "UNAUTHORIZED");
    const char *www = harness_response_header(&resp, "WWW-Authenticate");
    assert_true(www && strncmp(www, "Bearer", 6) == 0);
    free(basic_alice);
    free(basic_carol);
}

/* ------------------------------------------------------------------ */
/* group noauto                                                         */

/* EVIDENCE-OF: API "GET /v1/admin/instances -> {instances, next_cursor}",
 * "GET /v1/admin/stats -> {instances: N, ...}" hold for a store with no
 * instance at all (this group's store is empty when it starts: nothing is
 * auto-created), with any filter and cursor. */
static void test_list__empty_store(void **state)
{
    (void)state;
    const char *targets[] = { "/v1/admin/instances", "/v1/admin/instances?status=paused",
                              "/v1/admin/instances?cursor=a&limit=1" };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        admin("GET", targets[i], NULL);
        assert_json_body_eq(&resp, "{\"instances\":[],\"next_cursor\":null}");
    }
    admin("GET", "/v1/admin/stats", NULL);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_jint(o, "instances", 0);
    for (int s = 0; s < 5; s++) {
        char path[64];
        snprintf(path, sizeof(path), "instances_by_status.%s", states[s]);
        assert_jint(o, path, 0);
    }
    json_object_put(o);
}

/* EVIDENCE-OF: issue part 6 "ROOST_AUTO_CREATE=0 turns auto-creation off;
 * unknown instances then get 404 INSTANCE_NOT_FOUND as the spec shows"
 * (spec "Instance Not Found": {"error": "instance not found", "code":
 * "INSTANCE_NOT_FOUND"}); API "an instance created through the admin API
 * is then served", and one deleted through it is unknown again. */
static void test_autocreate__off_admin_created_instance_served(void **state)
{
    (void)state;
    const char *id = "na-1";
    for (int w = -1; w < WORKERS; w++) {
        const char *m = w < 0 ? "GET" : (w % 2 ? "PUT" : "DELETE");
        cache_w(w, m, id, "k", strcmp(m, "PUT") == 0 ? "v" : NULL, strcmp(m, "PUT") == 0 ? 1 : 0);
        assert_json_body_eq(&resp, "{\"error\":\"instance not found\",\"code\":\"INSTANCE_NOT_FOUND\"}");
        assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    }
    batch_w(-1, id, "{\"keys\":[\"k\"]}");
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    assert_admin_404(id);

    create(id, NULL);
    cache("PUT", id, "k", "value", 5);
    assert_http_status(&resp, 201);
    for (int w = 0; w < WORKERS; w++) {
        cache_w(w, "GET", id, "k", NULL, 0);
        assert_http_status(&resp, 200);
        assert_body_eq(&resp, "value", 5);
    }
    batch_w(-1, id, "{\"keys\":[\"k\",\"m\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"k\":\"value\"},\"missing\":[\"m\"]}");
    /* created paused: refused as paused, not as unknown */
    create("na-2", "\"status\":\"paused\"");
    cache("GET", "na-2", "k", NULL, 0);
    assert_refusal("GET", 503, "INSTANCE_PAUSED", "na-2", "paused");

    admin("DELETE", ipath(id), NULL);
    assert_json_body_eq(&resp, "{\"instance_id\":\"na-1\",\"deleted\":true,\"keys_removed\":1}");
    cache("PUT", id, "k", "again", 5);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    assert_admin_404(id);
    assert_int_equal(store_key_count(id), 0);
}

/* ------------------------------------------------------------------ */

int main(void)
{
    const char *l = getenv("ROOST_LIGHTTPD");
    if (l && !*l) {
        fprintf(stderr, "test_admin: lighttpd was not found by configure; skipping\n");
        return 77;
    }
    harness_response_init(&resp);
    long t0 = harness_now_ms();
    int failed = 0, total = 0, servers = 0;

    const struct CMUnitTest off[] = {
        cmocka_unit_test(test_auth__disabled_403_on_every_route_says_how_to_enable),
    };
    const struct CMUnitTest token[] = {
        cmocka_unit_test(test_auth__token_missing_or_wrong_401),
        cmocka_unit_test(test_auth__token_accepted_on_every_route),
        cmocka_unit_test(test_auth__remote_user_not_admin_without_admin_users),
        cmocka_unit_test(test_route__admin_methods_paths_and_ids),
        cmocka_unit_test(test_route__admin_body_too_large_413),
        cmocka_unit_test(test_create__defaults_201_with_usage),
        cmocka_unit_test(test_create__with_every_field),
        cmocka_unit_test(test_create__existing_409_unchanged),
        cmocka_unit_test(test_create__invalid_bodies_400_naming_the_problem),
        cmocka_unit_test(test_show__missing_404_and_not_created),
        cmocka_unit_test(test_patch__changes_named_fields_only),
        cmocka_unit_test(test_patch__invalid_400_all_or_nothing),
        cmocka_unit_test(test_state__any_state_from_any_state),
        cmocka_unit_test(test_state__admin_patch_seen_by_next_request_on_every_worker),
        cmocka_unit_test(test_list__pages_filters_and_cursor),
        cmocka_unit_test(test_list__bad_parameters_400),
        cmocka_unit_test(test_stats__counts_agree_with_list),
        cmocka_unit_test(test_usage__exact_after_puts_overwrites_deletes),
        cmocka_unit_test(test_activity__first_request_creates_then_throttled),
        cmocka_unit_test(test_activity__old_stamp_updated_once),
        cmocka_unit_test(test_activity__racing_workers_write_once),
        cmocka_unit_test(test_activity__refused_and_admin_requests_not_recorded),
        cmocka_unit_test(test_delete__removes_keys_and_record),
        cmocka_unit_test(test_delete__interrupted_by_sigkill_finishes_on_repeat),
        cmocka_unit_test(test_delete__10k_keys_while_neighbour_written),
        cmocka_unit_test(test_delete__racing_writes_leave_no_orphan_keys),
    };
    const struct CMUnitTest users[] = {
        cmocka_unit_test(test_users__listed_users_allowed_through_mod_auth),
        cmocka_unit_test(test_users__authenticated_but_unlisted_user_403),
        cmocka_unit_test(test_users__mod_auth_guards_the_admin_prefix),
    };
    const struct CMUnitTest both[] = {
        cmocka_unit_test(test_both__either_credential),
    };
    const struct CMUnitTest noauto[] = {
        cmocka_unit_test(test_list__empty_store),
        cmocka_unit_test(test_autocreate__off_admin_created_instance_served),
    };

#define RUN_GROUP(arr, f, setup, teardown)                                                \
    do {                                                                                  \
        int n_ = cmocka_run_group_tests_name("test_admin " #arr, arr, setup, teardown);   \
        failed += n_;                                                                     \
        total += (int)(sizeof(arr) / sizeof(arr[0]));                                     \
        servers++;                                                                        \
        harness_server_free((f).srv, n_ != 0);                                            \
        (f).srv = NULL;                                                                   \
    } while (0)

    RUN_GROUP(off, fx_off, setup_off, teardown_off);
    RUN_GROUP(token, fx_token, setup_token, teardown_token);
    RUN_GROUP(users, fx_users, setup_users, teardown_users);
    RUN_GROUP(both, fx_both, setup_both, teardown_both);
    RUN_GROUP(noauto, fx_noauto, setup_noauto, teardown_noauto);

    harness_response_release(&resp);
    printf("# test_admin: %d tests, %d failed, %d servers, %lu HTTP requests through lighttpd, "
           "%.1f s; delete of 10000 keys: %ld ms (%ld neighbour writes during it)\n",
           total, failed, servers, requests_total, (harness_now_ms() - t0) / 1000.0, delete_10k_ms,
           delete_10k_neighbour_writes);
    return failed ? 1 : 0;
}
