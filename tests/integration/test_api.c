/*
 * test_api.c - the HTTP API through a real lighttpd and 4 real workers.
 *
 * Source of truth: spec/instance-context-api.md ("spec") and DESIGN.md
 * "API rules where the spec is silent" ("DESIGN"). Each test quotes the
 * rule it checks (SQLite EVIDENCE-OF style).
 *
 * Test organization: one server per group, each group a store of its own.
 *   group     server settings                      tests
 *   spec      defaults                             test_spec__*: every
 *             (fresh store: created = 201)         example of the spec as
 *                                                  written, run with curl
 *   api       defaults                             test_route__*,
 *                                                  test_instance__*,
 *                                                  test_state__*,
 *                                                  test_cache__*,
 *                                                  test_value__*, test_key__*,
 *                                                  test_isolation__*,
 *                                                  test_batch__*,
 *                                                  test_health__*
 *   settings  ROOST_AUTO_CREATE=0, ROOST_MODE=     test_settings__*
 *             replica, ROOST_DEFAULT_INSTANCE=
 *             tenant-zero, ROOST_MAX_BATCH_KEYS=5,
 *             ROOST_MAX_VALUE_BYTES=4096
 *   nostore   ROOST_STORE_DIR under a regular      test_nostore__*
 *             file (cannot be created)
 *
 * Instance records are written through the library (roost_registry_put) on
 * the server's own store directory while the server runs; store.h allows
 * any number of processes on one store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "error.h"
#include "harness.h"
#include "instance.h"
#include "registry.h"
#include "store.h"
#include "testlib.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

struct fixture {
    const char *name;
    struct harness_server *srv;
    struct harness_client *http;
    struct roost_store *store;
    int failed;
};

static struct fixture fx_spec = { .name = "spec" };
static struct fixture fx_api = { .name = "api" };
static struct fixture fx_settings = { .name = "settings" };
static struct fixture fx_nostore = { .name = "nostore" };

static struct fixture *fx;              /* the running group's */
static struct harness_response resp;    /* the last response */
static unsigned long requests_total;

static int start_group(struct fixture *f, const struct harness_opts *o, int open_store)
{
    fx = f;
    f->srv = harness_server_new(o);
    if (harness_server_start(f->srv) != 0)
        return -1;
    f->http = harness_client_new(f->srv);
    if (open_store && roost_store_open(f->srv->store_dir, &f->store) != ROOST_OK) {
        fprintf(stderr, "test: roost_store_open(%s) failed\n", f->srv->store_dir);
        return -1;
    }
    printf("# %s: lighttpd pid %d on %s, ready in %ld ms, run dir %s\n", f->name,
           (int)f->srv->pid, f->srv->base_url, f->srv->startup_ms, f->srv->rundir);
    return 0;
}

static int stop_group(struct fixture *f)
{
    if (f->http) {
        requests_total += harness_client_count(f->http);
        harness_client_free(f->http);
        f->http = NULL;
    }
    roost_store_close(f->store);
    f->store = NULL;
    return harness_server_stop(f->srv);
}

static int setup_spec(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "api-spec";
    return start_group(&fx_spec, &o, 1);
}

static int setup_api(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "api";
    return start_group(&fx_api, &o, 1);
}

static const char *settings_env[] = {
    "ROOST_AUTO_CREATE=0",
    "ROOST_MODE=replica",
    "ROOST_DEFAULT_INSTANCE=tenant-zero",
    "ROOST_MAX_BATCH_KEYS=5",
    "ROOST_MAX_VALUE_BYTES=4096",
    NULL,
};

static int setup_settings(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "api-settings";
    o.env = settings_env;
    return start_group(&fx_settings, &o, 1);
}

static char *nostore_dir;

static int setup_nostore(void **state)
{
    (void)state;
    /* A regular file where a directory should be: the store can be neither
     * created nor opened, whoever runs the test (root included). */
    char *base = roost_test_tmpdir("api-nostore-file");
    struct roost_buf p = ROOST_BUF_INIT;
    roost_buf_appendf(&p, "%s/plainfile", base);
    int fd = open(p.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    roost_buf_appendf(&p, "/store");
    nostore_dir = roost_buf_detach(&p, NULL);
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "api-nostore";
    o.store_dir = nostore_dir;
    o.health_status = -1; /* ready when a worker answers at all */
    int rc = start_group(&fx_nostore, &o, 0);
    free(base);
    return rc;
}

static int teardown_spec(void **state) { (void)state; return stop_group(&fx_spec); }
static int teardown_api(void **state) { (void)state; return stop_group(&fx_api); }
static int teardown_settings(void **state) { (void)state; return stop_group(&fx_settings); }
static int teardown_nostore(void **state) { (void)state; return stop_group(&fx_nostore); }

/* ------------------------------------------------------------------ */
/* requests                                                            */

#define MAX_HEADERS 8

/* Sends a request with the given header lines; a transport error fails the
 * test. The response is in `resp`. */
static struct harness_response *req_h(const char *method, const char *target,
                                      const char *const *headers, const void *body, size_t len)
{
    if (harness_request(fx->http, method, target, headers, body, len, &resp) != 0) {
        print_error("no HTTP response\n");
        harness_response_print(&resp);
        fail();
    }
    return &resp;
}

/* instance: X-Instance-ID value (NULL: no header); ctype: Content-Type
 * (NULL: none); body NULL: no body. */
static struct harness_response *req(const char *method, const char *target,
                                    const char *instance, const char *ctype, const void *body,
                                    size_t len)
{
    char ih[256], ch[512];
    const char *headers[MAX_HEADERS];
    int n = 0;
    if (instance) {
        snprintf(ih, sizeof(ih), "X-Instance-ID: %s", instance);
        headers[n++] = ih;
    }
    if (ctype) {
        snprintf(ch, sizeof(ch), "Content-Type: %s", ctype);
        headers[n++] = ch;
    }
    headers[n] = NULL;
    return req_h(method, target, headers, body, len);
}

/* "/v1/cache/" + percent-encoded key */
static char *key_path(const void *key, size_t len)
{
    char *enc = harness_pct_encode(key, len);
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "/v1/cache/%s", enc);
    free(enc);
    return roost_buf_detach(&b, NULL);
}

static struct harness_response *put_bytes(const char *instance, const char *key,
                                          const void *v, size_t n, const char *ctype)
{
    char *path = key_path(key, strlen(key));
    req("PUT", path, instance, ctype, v, n);
    free(path);
    return &resp;
}

static void put_ok(const char *instance, const char *key, const void *v, size_t n)
{
    put_bytes(instance, key, v, n, NULL);
    if (resp.status != 200 && resp.status != 201) {
        print_error("PUT failed\n");
        harness_response_print(&resp);
        fail();
    }
}

static void put_str(const char *instance, const char *key, const char *v)
{
    put_ok(instance, key, v, strlen(v));
}

static struct harness_response *get_key(const char *instance, const char *key)
{
    char *path = key_path(key, strlen(key));
    req("GET", path, instance, NULL, NULL, 0);
    free(path);
    return &resp;
}

static void expect_bytes(const char *instance, const char *key, const void *v, size_t n)
{
    get_key(instance, key);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, v, n);
}

static void expect_str(const char *instance, const char *key, const char *v)
{
    expect_bytes(instance, key, v, strlen(v));
}

static void expect_missing(const char *instance, const char *key)
{
    get_key(instance, key);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
}

static struct harness_response *batch(const char *instance, const char *json)
{
    req("POST", "/v1/cache/batch/get", instance, "application/json", json, strlen(json));
    snprintf(resp.what, sizeof(resp.what), "POST /v1/cache/batch/get (%s) body: %.90s%s",
             instance ? instance : "no instance", json, strlen(json) > 90 ? "..." : "");
    return &resp;
}

/* ------------------------------------------------------------------ */
/* JSON and store helpers                                              */

static struct json_object *body_json(void)
{
    struct json_object *o = harness_response_json(&resp);
    if (!o) {
        print_error("body is not JSON\n");
        harness_response_print(&resp);
        fail();
    }
    return o;
}

static struct json_object *field(struct json_object *o, const char *name)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v)) {
        print_error("no field \"%s\" in %s\n", name, json_object_to_json_string(o));
        fail();
    }
    return v;
}

static void assert_field_str(struct json_object *o, const char *name, const char *want)
{
    struct json_object *v = field(o, name);
    if (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), want)) {
        print_error("field \"%s\": expected \"%s\", got %s\n", name, want,
                    json_object_to_json_string(v));
        harness_response_print(&resp);
        fail();
    }
}

static void assert_field_int(struct json_object *o, const char *name, int64_t want)
{
    struct json_object *v = field(o, name);
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != want) {
        print_error("field \"%s\": expected %lld, got %s\n", name, (long long)want,
                    json_object_to_json_string(v));
        harness_response_print(&resp);
        fail();
    }
}

/* PUT/POST body: {"key": key, "instance_id": instance, "size": n}. */
static void assert_write_body(const char *key, size_t klen, const char *instance, size_t n)
{
    struct json_object *o = body_json();
    struct json_object *k = field(o, "key");
    if (!json_object_is_type(k, json_type_string) || (size_t)json_object_get_string_len(k) != klen
        || memcmp(json_object_get_string(k), key, klen) != 0) {
        print_error("field \"key\" is %s, expected the %zu-byte decoded key\n",
                    json_object_to_json_string(k), klen);
        harness_response_print(&resp);
        json_object_put(o);
        fail();
    }
    assert_field_str(o, "instance_id", instance);
    assert_field_int(o, "size", (int64_t)n);
    json_object_put(o);
}

static void assert_header(const char *name, const char *want)
{
    const char *v = harness_response_header(&resp, name);
    if (!v || strcmp(v, want) != 0) {
        print_error("header %s: expected \"%s\", got \"%s\"\n", name, want, v ? v : "(absent)");
        harness_response_print(&resp);
        fail();
    }
}

/* Allow header holds exactly the methods listed (any order). */
static void assert_allow(const char *const *methods)
{
    const char *allow = harness_response_header(&resp, "Allow");
    if (!allow) {
        print_error("405 without an Allow header\n");
        harness_response_print(&resp);
        fail();
    }
    size_t want = 0, got = 0;
    for (const char *const *m = methods; *m; m++) {
        want++;
        const char *p = allow;
        int found = 0;
        while ((p = strstr(p, *m)) != NULL) {
            size_t l = strlen(*m);
            int start_ok = p == allow || p[-1] == ' ' || p[-1] == ',';
            int end_ok = p[l] == '\0' || p[l] == ',' || p[l] == ' ';
            if (start_ok && end_ok) {
                found = 1;
                break;
            }
            p += l;
        }
        if (!found) {
            print_error("Allow: %s lacks %s\n", allow, *m);
            harness_response_print(&resp);
            fail();
        }
    }
    for (const char *p = allow; *p; p++)
        if ((p == allow || p[-1] == ',' || p[-1] == ' ') && *p != ',' && *p != ' ')
            got++;
    if (got != want) {
        print_error("Allow: %s lists %zu methods, expected %zu\n", allow, got, want);
        harness_response_print(&resp);
        fail();
    }
}

static void set_state(const char *id, enum roost_instance_status status)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    enum roost_err err = roost_registry_get(fx->store, roost_slice_cstr(id), &inst);
    if (err == ROOST_ERR_INSTANCE_NOT_FOUND) {
        roost_instance_release(&inst);
        roost_instance_init_defaults(&inst, roost_slice_cstr(id), (int64_t)time(NULL));
    } else {
        assert_roost_ok(err);
    }
    inst.status = status;
    assert_roost_ok(roost_registry_put(fx->store, &inst));
    roost_instance_release(&inst);
}

static void register_instance(const char *id)
{
    set_state(id, ROOST_INSTANCE_ACTIVE);
}

static char *b64(const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct roost_buf b = ROOST_BUF_INIT;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        roost_buf_append_char(&b, tbl[(v >> 18) & 63]);
        roost_buf_append_char(&b, tbl[(v >> 12) & 63]);
        roost_buf_append_char(&b, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
        roost_buf_append_char(&b, i + 2 < n ? tbl[v & 63] : '=');
    }
    return roost_buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* group spec: the spec's examples, as written, with the curl program   */

/* Runs curl with argv (NULL-terminated, after the program name), the
 * spec's "http://localhost:8080" replaced by the server's base URL, plus
 * observation-only options (-sS, status code on the last line, time
 * bound, no proxy). Fills resp.status and resp.body. Skips the test if
 * curl is not installed. */
static void run_curl(const char *const *argv)
{
    const char *pre[] = { "curl", "-sS", "--noproxy", "*", "--max-time", "20",
                          "-w", "\n%{http_code}" };
    size_t npre = sizeof(pre) / sizeof(pre[0]), n = 0;
    while (argv[n])
        n++;
    char **args = calloc(npre + n + 1, sizeof(*args));
    assert_non_null(args);
    for (size_t i = 0; i < npre; i++)
        args[i] = strdup(pre[i]);
    for (size_t i = 0; i < n; i++) {
        const char *a = argv[i];
        if (strncmp(a, "http://localhost:8080", 21) == 0) {
            struct roost_buf u = ROOST_BUF_INIT;
            roost_buf_appendf(&u, "%s%s", fx->srv->base_url, a + 21);
            args[npre + i] = roost_buf_detach(&u, NULL);
        } else {
            args[npre + i] = strdup(a);
        }
    }
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execvp("curl", args);
        _exit(127);
    }
    close(pfd[1]);
    harness_response_reset(&resp);
    snprintf(resp.what, sizeof(resp.what), "curl");
    for (size_t i = npre; i < npre + n && strlen(resp.what) < sizeof(resp.what) - 40; i++) {
        strncat(resp.what, " ", sizeof(resp.what) - strlen(resp.what) - 1);
        strncat(resp.what, args[i], sizeof(resp.what) - strlen(resp.what) - 1);
    }
    char buf[4096];
    ssize_t r;
    while ((r = read(pfd[0], buf, sizeof(buf))) > 0)
        roost_buf_append(&resp.body, buf, (size_t)r);
    close(pfd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    for (size_t i = 0; i < npre + n; i++)
        free(args[i]);
    free(args);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        skip();
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* split off the status line -w appended */
    char *nl = resp.body.len ? memrchr(resp.body.ptr, '\n', resp.body.len) : NULL;
    assert_non_null(nl);
    resp.status = strtol(nl + 1, NULL, 10);
    resp.body.len = (size_t)(nl - resp.body.ptr);
    resp.body.ptr[resp.body.len] = '\0';
}

/* EVIDENCE-OF: spec "Example Usage" / "Create and Use an Instance":
 *   "# First request creates the instance automatically" (PUT -d "1500"),
 *   "# Retrieve the value ... # Output: 1500",
 *   "# Different instance cannot see the data ... # Output: 404 Not Found". */
static void test_spec__create_and_use_an_instance(void **state)
{
    (void)state;
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("minecraft-server-001"),
                                        &inst), ROOST_ERR_INSTANCE_NOT_FOUND);

    run_curl((const char *[]){ "-X", "PUT", "http://localhost:8080/v1/cache/player-score",
                               "-H", "X-Instance-ID: minecraft-server-001",
                               "-H", "Content-Type: application/octet-stream",
                               "-d", "1500", NULL });
    assert_http_status(&resp, 201);
    assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr("minecraft-server-001"),
                                       &inst));
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    roost_instance_release(&inst);

    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/player-score",
                               "-H", "X-Instance-ID: minecraft-server-001", NULL });
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "1500", 4);

    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/player-score",
                               "-H", "X-Instance-ID: minecraft-server-002", NULL });
    assert_http_status(&resp, 404);
    /* the same request through libcurl, to see the error body's headers */
    req("GET", "/v1/cache/player-score", "minecraft-server-002", NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
}

/* EVIDENCE-OF: spec "Batch Operations with Instance Context": after
 * PUT player1 -d "Alice" and PUT player2 -d "Bob" in game-001, batch get
 * of ["player1", "player2", "player3"] responds
 *   {"entries": {"player1": "Alice", "player2": "Bob"}, "missing": ["player3"]} */
static void test_spec__batch_operations_with_instance_context(void **state)
{
    (void)state;
    run_curl((const char *[]){ "-X", "PUT", "http://localhost:8080/v1/cache/player1",
                               "-H", "X-Instance-ID: game-001", "-d", "Alice", NULL });
    assert_http_status(&resp, 201);
    run_curl((const char *[]){ "-X", "PUT", "http://localhost:8080/v1/cache/player2",
                               "-H", "X-Instance-ID: game-001", "-d", "Bob", NULL });
    assert_http_status(&resp, 201);
    run_curl((const char *[]){ "-X", "POST", "http://localhost:8080/v1/cache/batch/get",
                               "-H", "X-Instance-ID: game-001",
                               "-H", "Content-Type: application/json",
                               "-d", "{\"keys\": [\"player1\", \"player2\", \"player3\"]}",
                               NULL });
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\": {\"player1\": \"Alice\", \"player2\": \"Bob\"},"
                               " \"missing\": [\"player3\"]}");
    /* DESIGN: "the request's Content-Type is stored and returned"; curl -d
     * sends application/x-www-form-urlencoded. */
    req("GET", "/v1/cache/player1", "game-001", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_header("Content-Type", "application/x-www-form-urlencoded");
}

/* EVIDENCE-OF: spec "X-Instance-ID Header" and "Query Parameter
 * Alternative": GET /v1/cache/mykey with -H "X-Instance-ID:
 * game-instance-123" and GET /v1/cache/mykey?instance_id=game-instance-123
 * name the same instance. */
static void test_spec__header_and_query_parameter(void **state)
{
    (void)state;
    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/mykey",
                               "-H", "X-Instance-ID: game-instance-123", NULL });
    assert_http_status(&resp, 404);
    put_str("game-instance-123", "mykey", "my value");
    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/mykey",
                               "-H", "X-Instance-ID: game-instance-123", NULL });
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "my value", 8);
    run_curl((const char *[]){ "-X", "GET",
                               "http://localhost:8080/v1/cache/mykey?instance_id=game-instance-123",
                               NULL });
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "my value", 8);
}

/* EVIDENCE-OF: spec "Health Check": GET /health needs no instance context;
 * response {"status": "healthy", "mode": "primary", "instance_id":
 * "default", "timestamp": 1735238400} (a Unix time). */
static void test_spec__health_check(void **state)
{
    (void)state;
    int64_t before = (int64_t)time(NULL);
    run_curl((const char *[]){ "http://localhost:8080/health", NULL });
    int64_t after = (int64_t)time(NULL);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_int_equal(json_object_object_length(o), 4);
    assert_field_str(o, "status", "healthy");
    assert_field_str(o, "mode", "primary");
    assert_field_str(o, "instance_id", "default");
    struct json_object *ts = field(o, "timestamp");
    assert_true(json_object_is_type(ts, json_type_int));
    assert_in_range(json_object_get_int64(ts), before - 2, after + 2);
    json_object_put(o);
}

/* EVIDENCE-OF: spec "Missing Instance ID": {"error": "instance ID is
 * required", "code": "MISSING_INSTANCE_ID"}; DESIGN: it is 400. */
static void test_spec__error_missing_instance_id(void **state)
{
    (void)state;
    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/mykey", NULL });
    assert_http_status(&resp, 400);
    assert_json_body_eq(&resp, "{\"error\": \"instance ID is required\","
                               " \"code\": \"MISSING_INSTANCE_ID\"}");
    req("GET", "/v1/cache/mykey", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
    assert_json_body_eq(&resp, "{\"error\":\"instance ID is required\","
                               "\"code\":\"MISSING_INSTANCE_ID\"}");
}

/* EVIDENCE-OF: spec "Instance Not Active": {"error": "instance is
 * inactive", "code": "INSTANCE_INACTIVE", "instance_id":
 * "game-instance-123", "status": "inactive"}; DESIGN: 503. */
static void test_spec__error_instance_not_active(void **state)
{
    (void)state;
    put_str("game-instance-123", "mykey", "my value");
    set_state("game-instance-123", ROOST_INSTANCE_INACTIVE);
    run_curl((const char *[]){ "-X", "GET", "http://localhost:8080/v1/cache/mykey",
                               "-H", "X-Instance-ID: game-instance-123", NULL });
    assert_http_status(&resp, 503);
    assert_json_body_eq(&resp, "{\"error\": \"instance is inactive\", \"code\":"
                               " \"INSTANCE_INACTIVE\", \"instance_id\": \"game-instance-123\","
                               " \"status\": \"inactive\"}");
    req("GET", "/v1/cache/mykey", "game-instance-123", NULL, NULL, 0);
    assert_json_error(&resp, 503, "INSTANCE_INACTIVE");
    set_state("game-instance-123", ROOST_INSTANCE_ACTIVE);
    expect_str("game-instance-123", "mykey", "my value");
}

/* EVIDENCE-OF: spec "Instance Creation": "Instances are automatically
 * created when first accessed. The default configuration includes: Status:
 * Active, GameType: default, Region: default, ResourceQuota: 8GB memory,
 * 100GB storage, 4 CPU cores". */
static void test_spec__instance_creation_defaults(void **state)
{
    (void)state;
    const char *id = "spec-created-on-get";
    int64_t before = (int64_t)time(NULL);
    expect_missing(id, "nothing-here");   /* a GET is an access too */
    int64_t after = (int64_t)time(NULL);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr(id), &inst));
    assert_string_equal(inst.id, id);
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    assert_string_equal(inst.game_type.ptr, "default");
    assert_string_equal(inst.region.ptr, "default");
    assert_true(inst.quota.memory_bytes == 8LL * 1024 * 1024 * 1024);
    assert_true(inst.quota.storage_bytes == 100LL * 1024 * 1024 * 1024);
    assert_int_equal(inst.quota.cpu_cores, 4);
    assert_in_range(inst.created_at, before - 2, after + 2);
    assert_in_range(inst.last_active, before - 2, after + 2);
    roost_instance_release(&inst);
}

/* ------------------------------------------------------------------ */
/* group api: routing                                                  */

/* EVIDENCE-OF: DESIGN "GET / answers 200 {"service": "roost", "version":
 * …, "endpoints": […]}, each endpoint as "METHOD /path"". */
static void test_route__root_lists_endpoints(void **state)
{
    (void)state;
    req("GET", "/", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_non_null(harness_response_header(&resp, "Content-Type"));
    assert_true(strncmp(harness_response_header(&resp, "Content-Type"), "application/json", 16) == 0);
    struct json_object *o = body_json();
    assert_field_str(o, "service", "roost");
    assert_field_str(o, "version", PACKAGE_VERSION);
    struct json_object *eps = field(o, "endpoints");
    assert_true(json_object_is_type(eps, json_type_array));
    const char *want[] = { "GET /", "GET /health", "POST /v1/cache/batch/get",
                           "GET /v1/cache/{key}", "PUT /v1/cache/{key}",
                           "POST /v1/cache/{key}", "DELETE /v1/cache/{key}", NULL };
    for (const char **w = want; *w; w++) {
        int found = 0;
        for (size_t i = 0; i < json_object_array_length(eps); i++) {
            struct json_object *e = json_object_array_get_idx(eps, i);
            if (json_object_is_type(e, json_type_string)
                && strcmp(json_object_get_string(e), *w) == 0)
                found = 1;
        }
        if (!found) {
            print_error("endpoints lack \"%s\"\n", *w);
            harness_response_print(&resp);
            fail();
        }
    }
    for (size_t i = 0; i < json_object_array_length(eps); i++) {
        struct json_object *e = json_object_array_get_idx(eps, i);
        const char *s = json_object_get_string(e);
        assert_true(json_object_is_type(e, json_type_string));
        assert_non_null(strstr(s, " /"));   /* "METHOD /path" */
    }
    json_object_put(o);
}

/* EVIDENCE-OF: issue 4 "Unknown route -> 404 JSON"; DESIGN "A path with
 * segments after /v1/cache/{key} matches no route: 404 NOT_FOUND". */
static void test_route__unknown_paths_404_json(void **state)
{
    (void)state;
    const char *paths[] = { "/nope", "/v1", "/v1/", "/v1/cache", "/v2/cache/k",
                            "/v1/cachex/k", "/healthz", "/health/x", "/v1/cache/k/extra",
                            "/v1/cache/a/b", "/v1/cache/k/", "/v1/cache/batch/get/x",
                            "/v1/cache/batch/other", NULL };
    for (const char **p = paths; *p; p++) {
        req("GET", *p, "route-test", NULL, NULL, 0);
        assert_json_error(&resp, 404, "NOT_FOUND");
    }
    /* the same for writes: a raw '/' after the key is not a key */
    req("PUT", "/v1/cache/a/b", "route-test", NULL, "v", 1);
    assert_json_error(&resp, 404, "NOT_FOUND");
    expect_missing("route-test", "a");
    expect_missing("route-test", "a/b");
}

/* EVIDENCE-OF: issue 4 "known route with a wrong method -> 405 JSON with an
 * Allow header". */
static void test_route__wrong_method_405_with_allow(void **state)
{
    (void)state;
    req("PATCH", "/v1/cache/k", "route-test", NULL, "x", 1);
    assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_allow((const char *[]){ "GET", "HEAD", "PUT", "POST", "DELETE", NULL });

    req("GET", "/v1/cache/batch/get", "route-test", NULL, NULL, 0);
    assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_allow((const char *[]){ "POST", NULL });

    req("DELETE", "/v1/cache/batch/get", "route-test", NULL, NULL, 0);
    assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_allow((const char *[]){ "POST", NULL });

    req("POST", "/health", NULL, "application/json", "{}", 2);
    assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_allow((const char *[]){ "GET", "HEAD", NULL });

    req("DELETE", "/", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 405, "METHOD_NOT_ALLOWED");
    assert_allow((const char *[]){ "GET", "HEAD", NULL });
}

/* EVIDENCE-OF: DESIGN "Keys: the percent-decoded path segment after
 * /v1/cache/, taken from the raw REQUEST_URI": /v1/cache/batch%2Fget is
 * the key "batch/get", not the batch route; "batch" alone is a key. */
static void test_route__encoded_batch_path_is_a_key(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/batch%2Fget", "route-key", NULL, "k1", 2);
    assert_http_status(&resp, 201);
    assert_write_body("batch/get", 9, "route-key", 2);
    req("GET", "/v1/cache/batch%2Fget", "route-key", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "k1", 2);
    req("PUT", "/v1/cache/batch", "route-key", NULL, "k2", 2);
    assert_http_status(&resp, 201);
    expect_str("route-key", "batch", "k2");
    batch("route-key", "{\"keys\":[\"batch/get\",\"batch\"]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"batch/get\":\"k1\",\"batch\":\"k2\"},"
                               "\"missing\":[]}");
}

/* EVIDENCE-OF: DESIGN "Errors are always JSON ... never an HTML page": a
 * HEAD of a missing key is 404 with no body. */
static void test_route__head_errors_have_no_body(void **state)
{
    (void)state;
    req("HEAD", "/v1/cache/never-written", "route-test", NULL, NULL, 0);
    assert_http_status(&resp, 404);
    assert_int_equal(resp.body.len, 0);
    req("HEAD", "/v1/cache/never-written", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 400);
    assert_int_equal(resp.body.len, 0);
}

/* ------------------------------------------------------------------ */
/* group api: instance ids                                             */

/* EVIDENCE-OF: DESIGN "Instance ID: header X-Instance-ID wins over query
 * instance_id". */
static void test_instance__header_wins_over_query(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/hq?instance_id=inst-query", "inst-header", NULL, "from-header", 11);
    assert_http_status(&resp, 201);
    assert_write_body("hq", 2, "inst-header", 11);
    expect_str("inst-header", "hq", "from-header");
    req("GET", "/v1/cache/hq?instance_id=inst-query", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    req("GET", "/v1/cache/hq?instance_id=inst-query", "inst-header", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "from-header", 11);
    /* a present but invalid header is not overridden by a valid query */
    req("GET", "/v1/cache/hq?instance_id=inst-header", "bad id", NULL, NULL, 0);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
}

/* EVIDENCE-OF: spec "Query Parameter Alternative: You can also specify the
 * instance ID as a query parameter". */
static void test_instance__query_parameter(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/qk?instance_id=inst-q", NULL, NULL, "qv", 2);
    assert_http_status(&resp, 201);
    assert_write_body("qk", 2, "inst-q", 2);
    expect_str("inst-q", "qk", "qv");
    /* other parameters around it, and a percent-encoded id */
    req("GET", "/v1/cache/qk?x=1&instance_id=inst%2Dq&y=2", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "qv", 2);
    req("DELETE", "/v1/cache/qk?instance_id=inst-q", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 204);
    expect_missing("inst-q", "qk");
}

/* EVIDENCE-OF: DESIGN "1–64 bytes of [A-Za-z0-9._-]; anything else is 400
 * INVALID_INSTANCE_ID". */
static void test_instance__invalid_ids_400(void **state)
{
    (void)state;
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    const char *bad_header[] = { long_id, "bad id", "a:b", "a/b", "a+b", "a*", "{x}",
                                 "a%41", NULL };
    for (const char **b = bad_header; *b; b++) {
        req("PUT", "/v1/cache/k", *b, NULL, "v", 1);
        assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
        req("GET", "/v1/cache/k", *b, NULL, NULL, 0);
        assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    }
    /* bytes lighttpd's header-strict parsing may refuse before a worker
     * sees them: 400 either way, and INVALID_INSTANCE_ID when ours */
    const char *odd_header[] = { "caf\xc3\xa9", "a\tb", NULL };
    for (const char **b = odd_header; *b; b++) {
        req("GET", "/v1/cache/k", *b, NULL, NULL, 0);
        assert_http_status(&resp, 400);
        const char *ct = harness_response_header(&resp, "Content-Type");
        if (ct && strncmp(ct, "application/json", 16) == 0)
            assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    }
    const char *bad_query[] = { "a%3Ab", "a%2Fb", "a%20b", "caf%C3%A9", "%00",
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                NULL };
    for (const char **b = bad_query; *b; b++) {
        struct roost_buf t = ROOST_BUF_INIT;
        roost_buf_appendf(&t, "/v1/cache/k?instance_id=%s", *b);
        req("GET", t.ptr, NULL, NULL, NULL, 0);
        /* lighttpd may refuse %00 in the query itself; the rest is ours */
        if (strcmp(*b, "%00") == 0)
            assert_http_status(&resp, 400);
        else
            assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
        roost_buf_release(&t);
    }
    /* nothing was created for any of them */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("a"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
}

/* EVIDENCE-OF: DESIGN "1–64 bytes of [A-Za-z0-9._-]; anything else is 400
 * INVALID_INSTANCE_ID": an id given empty (header with no value, or
 * ?instance_id=) is given, and 0 bytes is not 1-64; it is not the same as
 * no id at all (which would be MISSING_INSTANCE_ID, or the default
 * instance on batch get and /health). */
static void test_instance__empty_id_400(void **state)
{
    (void)state;
    /* lighttpd does not pass a header with an empty value to the backend,
     * so an empty X-Instance-ID is indistinguishable from none at all. */
    req_h("GET", "/v1/cache/k", (const char *[]){ "X-Instance-ID;", NULL }, NULL, 0);
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
    req("GET", "/v1/cache/k?instance_id=", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    req("POST", "/v1/cache/batch/get?instance_id=", NULL, "application/json", "{\"keys\":[]}",
        strlen("{\"keys\":[]}"));
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    req("GET", "/health?instance_id=", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
}

/* EVIDENCE-OF: DESIGN "1–64 bytes of [A-Za-z0-9._-]": the edges are fine. */
static void test_instance__edge_ids_accepted(void **state)
{
    (void)state;
    char id64[65];
    for (int i = 0; i < 64; i++)
        id64[i] = "aZ09._-"[i % 7];
    id64[64] = '\0';
    const char *ids[] = { id64, "a", "Z", "0", ".", "_", "-", "..", "A.b_c-9", NULL };
    for (const char **id = ids; *id; id++) {
        put_str(*id, "edge", *id);
        assert_write_body("edge", 4, *id, strlen(*id));
        expect_str(*id, "edge", *id);
    }
}

/* EVIDENCE-OF: issue 4 "400 MISSING_INSTANCE_ID on /v1/cache/{key} when
 * none is given (the default instance serves only batch get and /health)". */
static void test_instance__missing_on_key_routes_400(void **state)
{
    (void)state;
    const char *methods[] = { "GET", "PUT", "POST", "DELETE", NULL };
    for (const char **m = methods; *m; m++) {
        int body = strcmp(*m, "PUT") == 0 || strcmp(*m, "POST") == 0;
        req(*m, "/v1/cache/k", NULL, NULL, body ? "v" : NULL, body ? 1 : 0);
        assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
        assert_json_body_eq(&resp, "{\"error\":\"instance ID is required\","
                                   "\"code\":\"MISSING_INSTANCE_ID\"}");
    }
    /* the default instance was not used for the PUT */
    expect_missing("default", "k");
}

/* EVIDENCE-OF: spec "Batch Get ... X-Instance-ID: <instance-id>
 * (optional)"; DESIGN ROOST_DEFAULT_INSTANCE "instance used by batch get
 * and /health when the request names none" (default "default"). */
static void test_instance__batch_without_instance_uses_default(void **state)
{
    (void)state;
    put_str("default", "dflt-key", "in default");
    put_str("other-inst", "dflt-key", "in other");
    batch(NULL, "{\"keys\":[\"dflt-key\",\"dflt-missing\"]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"dflt-key\":\"in default\"},"
                               "\"missing\":[\"dflt-missing\"]}");
}

/* EVIDENCE-OF: DESIGN "anything else is 400 INVALID_INSTANCE_ID" applies
 * to /health too (it reports the request's instance). */
static void test_instance__health_invalid_id_400(void **state)
{
    (void)state;
    req("GET", "/health", "no spaces allowed", NULL, NULL, 0);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
    req("GET", "/health?instance_id=a%3Ab", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
}

/* EVIDENCE-OF: spec "Instances are automatically created when first
 * accessed"; registry.h: concurrent first requests create it exactly once.
 * Four first requests in a row, on a fresh id each, all succeed. */
static void test_instance__auto_created_on_first_write(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof(id), "auto-%d-%ld", i, (long)getpid());
        struct roost_instance inst;
        roost_instance_init(&inst);
        assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr(id), &inst),
                         ROOST_ERR_INSTANCE_NOT_FOUND);
        put_bytes(id, "first", "1", 1, NULL);
        assert_http_status(&resp, 201);
        assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr(id), &inst));
        assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
        assert_string_equal(inst.id, id);
        roost_instance_release(&inst);
    }
}

/* ------------------------------------------------------------------ */
/* group api: instance states                                          */

struct refusal {
    enum roost_instance_status status;
    const char *name;
    long http;
    const char *code;
};

/* EVIDENCE-OF: spec "Only instances in active or migrating states can
 * accept requests"; DESIGN "inactive -> 503 INSTANCE_INACTIVE, paused ->
 * 503 INSTANCE_PAUSED, deleting -> 410 INSTANCE_DELETING; each body
 * carries instance_id and status". A record written by another process is
 * seen by the very next request. */
static void test_state__refused_states(void **state)
{
    (void)state;
    const struct refusal cases[] = {
        { ROOST_INSTANCE_INACTIVE, "inactive", 503, "INSTANCE_INACTIVE" },
        { ROOST_INSTANCE_PAUSED, "paused", 503, "INSTANCE_PAUSED" },
        { ROOST_INSTANCE_DELETING, "deleting", 410, "INSTANCE_DELETING" },
    };
    const char *id = "state-refused";
    put_str(id, "kept", "kept value");
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        set_state(id, cases[c].status);
        const char *methods[] = { "GET", "HEAD", "PUT", "POST", "DELETE", "BATCH", NULL };
        for (const char **m = methods; *m; m++) {
            if (strcmp(*m, "BATCH") == 0)
                batch(id, "{\"keys\":[\"kept\"]}");
            else if (strcmp(*m, "PUT") == 0 || strcmp(*m, "POST") == 0)
                req(*m, "/v1/cache/kept", id, NULL, "overwrite", 9);
            else
                req(*m, "/v1/cache/kept", id, NULL, NULL, 0);
            if (strcmp(*m, "HEAD") == 0) {
                assert_http_status(&resp, cases[c].http);
                continue;
            }
            assert_json_error(&resp, cases[c].http, cases[c].code);
            struct json_object *o = body_json();
            assert_field_str(o, "instance_id", id);
            assert_field_str(o, "status", cases[c].name);
            json_object_put(o);
        }
        /* DESIGN: "deleting set by hand fences the instance with 410
         * without removing data": nothing above wrote or deleted. */
        set_state(id, ROOST_INSTANCE_ACTIVE);
        expect_str(id, "kept", "kept value");
    }
}

/* EVIDENCE-OF: spec "Only instances in active or migrating states can
 * accept requests". */
static void test_state__active_and_migrating_served(void **state)
{
    (void)state;
    const char *id = "state-served";
    set_state(id, ROOST_INSTANCE_MIGRATING);
    put_bytes(id, "m", "during migration", 16, NULL);
    assert_http_status(&resp, 201);
    expect_str(id, "m", "during migration");
    batch(id, "{\"keys\":[\"m\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"m\":\"during migration\"},\"missing\":[]}");
    req("DELETE", "/v1/cache/m", id, NULL, NULL, 0);
    assert_http_status(&resp, 204);
    set_state(id, ROOST_INSTANCE_ACTIVE);
    expect_missing(id, "m");
    /* the request's path back and forth a few times: each flip is seen at
     * once, whichever worker takes the request */
    for (int i = 0; i < 6; i++) {
        set_state(id, (i & 1) ? ROOST_INSTANCE_ACTIVE : ROOST_INSTANCE_PAUSED);
        get_key(id, "m");
        if (i & 1)
            assert_json_error(&resp, 404, "KEY_NOT_FOUND");
        else
            assert_json_error(&resp, 503, "INSTANCE_PAUSED");
    }
}

/* ------------------------------------------------------------------ */
/* group api: cache operations                                         */

/* EVIDENCE-OF: DESIGN "PUT/POST 201 when the key was created, 200 when
 * replaced, body {"key": …, "instance_id": …, "size": N}". */
static void test_cache__put_201_created_then_200_replaced(void **state)
{
    (void)state;
    put_bytes("cache-ops", "pk", "first", 5, NULL);
    assert_http_status(&resp, 201);
    assert_write_body("pk", 2, "cache-ops", 5);
    const char *ct = harness_response_header(&resp, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json", 16) == 0);
    put_bytes("cache-ops", "pk", "second!", 7, NULL);
    assert_http_status(&resp, 200);
    assert_write_body("pk", 2, "cache-ops", 7);
    expect_str("cache-ops", "pk", "second!");
    /* shorter again: nothing of the longer value is left */
    put_bytes("cache-ops", "pk", "3", 1, NULL);
    assert_http_status(&resp, 200);
    expect_str("cache-ops", "pk", "3");
}

/* EVIDENCE-OF: issue 4 "PUT (and POST) store the raw body". */
static void test_cache__post_like_put(void **state)
{
    (void)state;
    req("POST", "/v1/cache/postk", "cache-ops", "text/plain", "posted", 6);
    assert_http_status(&resp, 201);
    assert_write_body("postk", 5, "cache-ops", 6);
    req("POST", "/v1/cache/postk", "cache-ops", "text/csv", "again", 5);
    assert_http_status(&resp, 200);
    assert_write_body("postk", 5, "cache-ops", 5);
    get_key("cache-ops", "postk");
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "again", 5);
    assert_header("Content-Type", "text/csv");
}

/* EVIDENCE-OF: DESIGN "GET 200 with the raw value and its stored
 * Content-Type"; "every value response carries X-Content-Type-Options:
 * nosniff and Content-Security-Policy: sandbox". */
static void test_cache__get_returns_bytes_type_and_safety_headers(void **state)
{
    (void)state;
    const char *html = "<script>alert(1)</script>";
    put_bytes("cache-ops", "html", html, strlen(html), "text/html; charset=utf-8");
    assert_http_status(&resp, 201);
    get_key("cache-ops", "html");
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, html, strlen(html));
    assert_header("Content-Type", "text/html; charset=utf-8");
    assert_header("X-Content-Type-Options", "nosniff");
    assert_header("Content-Security-Policy", "sandbox");
    assert_int_equal(harness_response_header_count(&resp, "Content-Type"), 1);
}

/* EVIDENCE-OF: DESIGN "the request's Content-Type is stored and returned";
 * decided: no Content-Type on PUT -> application/octet-stream; curl -d's
 * application/x-www-form-urlencoded is stored as it is. */
static void test_cache__content_type_defaults(void **state)
{
    (void)state;
    put_bytes("cache-ops", "noct", "raw", 3, NULL);
    assert_http_status(&resp, 201);
    get_key("cache-ops", "noct");
    assert_http_status(&resp, 200);
    assert_header("Content-Type", "application/octet-stream");
    put_bytes("cache-ops", "formct", "a=b", 3, "application/x-www-form-urlencoded");
    get_key("cache-ops", "formct");
    assert_header("Content-Type", "application/x-www-form-urlencoded");
    /* replacing the value replaces its type too */
    put_bytes("cache-ops", "formct", "{}", 2, "application/json");
    assert_http_status(&resp, 200);
    get_key("cache-ops", "formct");
    assert_header("Content-Type", "application/json");
    put_bytes("cache-ops", "formct", "x", 1, NULL);
    get_key("cache-ops", "formct");
    assert_header("Content-Type", "application/octet-stream");
}

/* EVIDENCE-OF: error.h INVALID_CONTENT_TYPE "Content-Type is too long or
 * has control characters"; limits.h ROOST_CONTENT_TYPE_MAX 255. */
static void test_cache__content_type_too_long_400(void **state)
{
    (void)state;
    char ct[300];
    memcpy(ct, "text/x-", 7);
    memset(ct + 7, 'a', sizeof(ct) - 7);
    ct[255] = '\0';
    put_bytes("cache-ops", "ct255", "v", 1, ct);
    assert_http_status(&resp, 201);
    get_key("cache-ops", "ct255");
    assert_header("Content-Type", ct);
    ct[255] = 'a';
    ct[256] = '\0';
    put_bytes("cache-ops", "ct256", "v", 1, ct);
    assert_json_error(&resp, 400, "INVALID_CONTENT_TYPE");
    expect_missing("cache-ops", "ct256");
}

/* EVIDENCE-OF: decided "HEAD works like GET without body". */
static void test_cache__head_like_get_without_body(void **state)
{
    (void)state;
    put_bytes("cache-ops", "headk", "twelve bytes", 12, "text/plain");
    req("HEAD", "/v1/cache/headk", "cache-ops", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_int_equal(resp.body.len, 0);
    assert_header("Content-Type", "text/plain");
    assert_header("X-Content-Type-Options", "nosniff");
    assert_header("Content-Security-Policy", "sandbox");
    const char *cl = harness_response_header(&resp, "Content-Length");
    if (cl)
        assert_string_equal(cl, "12");
}

/* EVIDENCE-OF: DESIGN "DELETE 204 with no body; a missing key on GET or
 * DELETE is 404 KEY_NOT_FOUND". */
static void test_cache__delete_204_then_404(void **state)
{
    (void)state;
    put_str("cache-ops", "delk", "bye");
    req("DELETE", "/v1/cache/delk", "cache-ops", NULL, NULL, 0);
    assert_http_status(&resp, 204);
    assert_int_equal(resp.body.len, 0);
    expect_missing("cache-ops", "delk");
    req("DELETE", "/v1/cache/delk", "cache-ops", NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    /* created again after a delete */
    put_bytes("cache-ops", "delk", "back", 4, NULL);
    assert_http_status(&resp, 201);
    expect_str("cache-ops", "delk", "back");
}

/* EVIDENCE-OF: DESIGN "a missing key on GET or DELETE is 404
 * KEY_NOT_FOUND". */
static void test_cache__missing_key_404(void **state)
{
    (void)state;
    expect_missing("cache-ops", "never-there");
    req("DELETE", "/v1/cache/never-there", "cache-ops", NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    req("HEAD", "/v1/cache/never-there", "cache-ops", NULL, NULL, 0);
    assert_http_status(&resp, 404);
}

/* EVIDENCE-OF: DESIGN "An empty body is a valid value (0 bytes): stored,
 * and returned as 200 with an empty body". */
static void test_cache__empty_value(void **state)
{
    (void)state;
    put_bytes("cache-ops", "empty", "", 0, NULL);
    assert_http_status(&resp, 201);
    assert_write_body("empty", 5, "cache-ops", 0);
    get_key("cache-ops", "empty");
    assert_http_status(&resp, 200);
    assert_int_equal(resp.body.len, 0);
    const char *cl = harness_response_header(&resp, "Content-Length");
    if (cl)
        assert_string_equal(cl, "0");
    put_bytes("cache-ops", "empty", "", 0, NULL);
    assert_http_status(&resp, 200);
    batch("cache-ops", "{\"keys\":[\"empty\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"empty\":\"\"},\"missing\":[]}");
}

/* ------------------------------------------------------------------ */
/* group api: values                                                   */

/* EVIDENCE-OF: DESIGN "Values are raw bytes, binary-safe". */
static void test_value__nul_bytes(void **state)
{
    (void)state;
    const char v[] = "\0lead\0mid\0\0trail\0";
    put_ok("values", "nul", v, sizeof(v) - 1);
    assert_write_body("nul", 3, "values", sizeof(v) - 1);
    expect_bytes("values", "nul", v, sizeof(v) - 1);
    const char one[1] = { 0 };
    put_ok("values", "one-nul", one, 1);
    expect_bytes("values", "one-nul", one, 1);
}

/* EVIDENCE-OF: DESIGN "Values are raw bytes, binary-safe": every byte
 * value, in both orders, and CR/LF sequences that look like headers. */
static void test_value__all_256_byte_values(void **state)
{
    (void)state;
    unsigned char v[512];
    for (int i = 0; i < 256; i++) {
        v[i] = (unsigned char)i;
        v[511 - i] = (unsigned char)i;
    }
    put_ok("values", "bytes", v, sizeof(v));
    expect_bytes("values", "bytes", v, sizeof(v));
    const char *tricky = "\r\n\r\nStatus: 500\r\nContent-Type: text/html\r\n\r\n<b>";
    put_ok("values", "tricky", tricky, strlen(tricky));
    expect_bytes("values", "tricky", tricky, strlen(tricky));
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

/* EVIDENCE-OF: DESIGN ROOST_MAX_VALUE_BYTES default 1048576; issue 4 "a
 * 1 MiB value". */
static void test_value__one_mib_accepted(void **state)
{
    (void)state;
    size_t n = 1048576;
    unsigned char *v = pattern(n, 1);
    put_bytes("values", "mib", v, n, NULL);
    assert_http_status(&resp, 201);
    assert_write_body("mib", 3, "values", n);
    expect_bytes("values", "mib", v, n);
    free(v);
}

/* EVIDENCE-OF: DESIGN "Oversized bodies get 413 and nothing is written". */
static void test_value__one_mib_plus_one_413_nothing_written(void **state)
{
    (void)state;
    size_t n = 1048577;
    unsigned char *v = pattern(n, 2);
    /* a new key stays absent */
    put_bytes("values", "too-big-new", v, n, NULL);
    assert_json_error(&resp, 413, "VALUE_TOO_LARGE");
    expect_missing("values", "too-big-new");
    /* an existing key keeps its value and its type */
    put_bytes("values", "too-big-old", "previous", 8, "text/plain");
    assert_http_status(&resp, 201);
    put_bytes("values", "too-big-old", v, n, "application/x-big");
    assert_json_error(&resp, 413, "VALUE_TOO_LARGE");
    expect_str("values", "too-big-old", "previous");
    assert_header("Content-Type", "text/plain");
    /* POST too */
    req("POST", "/v1/cache/too-big-old", "values", NULL, v, n);
    assert_json_error(&resp, 413, "VALUE_TOO_LARGE");
    expect_str("values", "too-big-old", "previous");
    free(v);
}

/* EVIDENCE-OF: error.h BATCH_RESPONSE_TOO_LARGE 413; limits.h
 * ROOST_BATCH_RESPONSE_MAX "Total value bytes one batch response may
 * carry" (32 MiB). 33 values of 1 MiB pass it. */
static void test_value__batch_response_too_large_413(void **state)
{
    (void)state;
    size_t n = 1048576;
    unsigned char *v = pattern(n, 3);
    struct roost_buf keys = ROOST_BUF_INIT;
    roost_buf_append_str(&keys, "{\"keys\":[");
    for (int i = 0; i < 33; i++) {
        char k[16];
        snprintf(k, sizeof(k), "big-%02d", i);
        v[0] = (unsigned char)i;
        put_ok("values-big", k, v, n);
        roost_buf_appendf(&keys, "%s\"%s\"", i ? "," : "", k);
    }
    roost_buf_append_str(&keys, "]}");
    batch("values-big", keys.ptr);
    assert_json_error(&resp, 413, "BATCH_RESPONSE_TOO_LARGE");
    /* one under the limit is fine */
    batch("values-big", "{\"keys\":[\"big-00\",\"big-01\"]}");
    assert_http_status(&resp, 200);
    roost_buf_release(&keys);
    free(v);
}

/* ------------------------------------------------------------------ */
/* group api: keys                                                     */

/* EVIDENCE-OF: DESIGN "Keys: the percent-decoded path segment after
 * /v1/cache/". */
static void test_key__percent_decoded(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/%41%62c%2e", "keys", NULL, "v1", 2);
    assert_http_status(&resp, 201);
    assert_write_body("Abc.", 4, "keys", 2);
    expect_str("keys", "Abc.", "v1");
    req("GET", "/v1/cache/Abc.", "keys", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    req("GET", "/v1/cache/%41bc%2E", "keys", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "v1", 2);
    /* a space, a quote, a percent sign, a question mark */
    const char *odd = "a b\"c%d?e#f";
    put_str("keys", odd, "odd");
    assert_write_body(odd, strlen(odd), "keys", 3);
    expect_str("keys", odd, "odd");
}

/* EVIDENCE-OF: DESIGN "/ inside a key is sent as %2F; a raw / after the key
 * is not a key". */
static void test_key__encoded_slash_is_part_of_the_key(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/a%2Fb", "keys", NULL, "slash", 5);
    assert_http_status(&resp, 201);
    assert_write_body("a/b", 3, "keys", 5);
    req("PUT", "/v1/cache/a", "keys", NULL, "plain", 5);
    assert_http_status(&resp, 201);
    req("GET", "/v1/cache/a%2Fb", "keys", NULL, NULL, 0);
    assert_body_eq(&resp, "slash", 5);
    req("GET", "/v1/cache/a%2fb", "keys", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "slash", 5);
    req("GET", "/v1/cache/a", "keys", NULL, NULL, 0);
    assert_body_eq(&resp, "plain", 5);
    req("GET", "/v1/cache/a/b", "keys", NULL, NULL, 0);
    assert_json_error(&resp, 404, "NOT_FOUND");
    req("PUT", "/v1/cache/%2F", "keys", NULL, "root", 4);
    assert_http_status(&resp, 201);
    assert_write_body("/", 1, "keys", 4);
    req("PUT", "/v1/cache/..%2F..%2Fetc", "keys", NULL, "dots", 4);
    assert_http_status(&resp, 201);
    assert_write_body("../../etc", 9, "keys", 4);
    batch("keys", "{\"keys\":[\"a/b\",\"a\",\"/\",\"../../etc\",\"b\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"a/b\":\"slash\",\"a\":\"plain\",\"/\":\"root\","
                               "\"../../etc\":\"dots\"},\"missing\":[\"b\"]}");
}

/* EVIDENCE-OF: DESIGN "1–512 bytes of valid UTF-8 with no control
 * characters ... 400 INVALID_KEY otherwise". */
static void test_key__length_limits(void **state)
{
    (void)state;
    char k[600];
    memset(k, 'k', sizeof(k));
    k[512] = '\0';
    put_str("keys", k, "max");
    assert_write_body(k, 512, "keys", 3);
    expect_str("keys", k, "max");
    k[512] = 'k';
    k[513] = '\0';
    put_bytes("keys", k, "over", 4, NULL);
    assert_json_error(&resp, 400, "INVALID_KEY");
    get_key("keys", k);
    assert_json_error(&resp, 400, "INVALID_KEY");
    /* bytes, not characters: 256 two-byte characters are 512 bytes */
    struct roost_buf u = ROOST_BUF_INIT;
    for (int i = 0; i < 256; i++)
        roost_buf_append_str(&u, "\xc3\xa9");
    put_str("keys", u.ptr, "e-acute x256");
    assert_write_body(u.ptr, 512, "keys", 12);
    roost_buf_append_char(&u, 'x');
    put_bytes("keys", u.ptr, "over", 4, NULL);
    assert_json_error(&resp, 400, "INVALID_KEY");
    roost_buf_release(&u);
}

/* EVIDENCE-OF: DESIGN "valid UTF-8 with no control characters (lighttpd
 * itself answers 400 to percent-encoded control bytes and invalid UTF-8 in
 * a URL ...)": 400 whoever answers. */
static void test_key__invalid_bytes_400(void **state)
{
    (void)state;
    const char *paths[] = { "/v1/cache/%FF", "/v1/cache/a%FFb", "/v1/cache/%C3",
                            "/v1/cache/%C0%AF", "/v1/cache/%ED%A0%80", "/v1/cache/%F4%90%80%80",
                            "/v1/cache/%00", "/v1/cache/a%01", "/v1/cache/%1F",
                            "/v1/cache/%7F", "/v1/cache/a%0Ab", "/v1/cache/a%0D%0AX-Evil:%201",
                            "/v1/cache/%G1", "/v1/cache/a%", "/v1/cache/a%2", NULL };
    for (const char **p = paths; *p; p++) {
        req("PUT", *p, "keys", NULL, "v", 1);
        assert_http_status(&resp, 400);
        req("GET", *p, "keys", NULL, NULL, 0);
        assert_http_status(&resp, 400);
        const char *ct = harness_response_header(&resp, "Content-Type");
        if (ct && strncmp(ct, "application/json", 16) == 0)
            assert_json_error(&resp, 400, "INVALID_KEY");
    }
}

/* EVIDENCE-OF: DESIGN "1–512 bytes": an empty key is not a key (the path
 * /v1/cache/ has none). 400 INVALID_KEY or 404 NOT_FOUND, as JSON. */
static void test_key__empty_key_refused(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/", "keys", NULL, "v", 1);
    assert_true(resp.status == 400 || resp.status == 404);
    assert_json_error(&resp, resp.status, resp.status == 400 ? "INVALID_KEY" : "NOT_FOUND");
    batch("keys", "{\"keys\":[\"\"]}");
    assert_json_error(&resp, 400, "INVALID_KEY");
}

/* EVIDENCE-OF: DESIGN "1–512 bytes of valid UTF-8": any valid UTF-8. */
static void test_key__unicode(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/%C3%A9", "keys", NULL, "e-acute", 7);
    assert_http_status(&resp, 201);
    assert_write_body("\xc3\xa9", 2, "keys", 7);
    expect_str("keys", "\xc3\xa9", "e-acute");
    const char *ks[] = { "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
                         "\xe6\x97\xa5\xe6\x9c\xac", "\xc2\xa0nbsp", NULL };
    for (const char **k = ks; *k; k++) {
        put_str("keys", *k, *k);
        expect_str("keys", *k, *k);
    }
    batch("keys", "{\"keys\":[\"\xc3\xa9\",\"\\u00e9\",\"\\ud83d\\ude00\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"\xc3\xa9\":\"e-acute\","
                               "\"\xf0\x9f\x98\x80\":\"\xf0\x9f\x98\x80\"},\"missing\":[]}");
}

/* EVIDENCE-OF: decided '"+" in a key is a literal plus' (http.h: in paths
 * '+' is literal; only query strings read it as a space). */
static void test_key__plus_is_literal(void **state)
{
    (void)state;
    req("PUT", "/v1/cache/a+b", "keys", NULL, "plus", 4);
    assert_http_status(&resp, 201);
    assert_write_body("a+b", 3, "keys", 4);
    req("GET", "/v1/cache/a%2Bb", "keys", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_body_eq(&resp, "plus", 4);
    req("GET", "/v1/cache/a%20b", "keys", NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    batch("keys", "{\"keys\":[\"a+b\",\"a b\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{\"a+b\":\"plus\"},\"missing\":[\"a b\"]}");
}

/* ------------------------------------------------------------------ */
/* group api: isolation                                                */

/* EVIDENCE-OF: spec "Each instance has its own isolated namespace for
 * cache keys"; "Data stored by one instance cannot be accessed by
 * another". */
static void test_isolation__same_key_different_values(void **state)
{
    (void)state;
    put_bytes("iso-one", "shared", "one", 3, NULL);
    assert_http_status(&resp, 201);
    put_bytes("iso-two", "shared", "two", 3, NULL);
    assert_http_status(&resp, 201);   /* created in iso-two: not a replace */
    expect_str("iso-one", "shared", "one");
    expect_str("iso-two", "shared", "two");
    req("DELETE", "/v1/cache/shared", "iso-two", NULL, NULL, 0);
    assert_http_status(&resp, 204);
    expect_str("iso-one", "shared", "one");
    expect_missing("iso-two", "shared");
}

/* EVIDENCE-OF: spec "Data stored by one instance cannot be accessed by
 * another": not by GET, HEAD, DELETE nor batch get. */
static void test_isolation__no_access_across_instances(void **state)
{
    (void)state;
    put_str("iso-owner", "secret", "s3cret");
    expect_missing("iso-intruder", "secret");
    req("HEAD", "/v1/cache/secret", "iso-intruder", NULL, NULL, 0);
    assert_http_status(&resp, 404);
    req("DELETE", "/v1/cache/secret", "iso-intruder", NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    batch("iso-intruder", "{\"keys\":[\"secret\"]}");
    assert_json_body_eq(&resp, "{\"entries\":{},\"missing\":[\"secret\"]}");
    req("GET", "/v1/cache/secret?instance_id=iso-intruder", NULL, NULL, NULL, 0);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    expect_str("iso-owner", "secret", "s3cret");
}

/* EVIDENCE-OF: DESIGN "Namespacing must be collision-proof: no (instance,
 * key) pair may ever map to the same store key as another pair (the peer
 * implementation's instance:{id}:{key} joins are not)". Pairs whose plain
 * concatenation, or a join on any id character, would collide. */
static void test_isolation__no_collisions_between_pairs(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        { "ab", "c" }, { "a", "bc" }, { "abc", "x" }, { "abcx", "y" },
        { "a.b", "c" }, { "a", "b.c" }, { "a.", "b.c" },
        { "a-", "b" }, { "a", "-b" }, { "a_", "_b" }, { "a__", "b" },
        { "a1", "2b" }, { "a12", "b" }, { "a", "12b" },
        { "x", "instance:x" }, { "x", "x:instance" }, { "ins", "tance:x" },
        { "a", ":b" }, { "a:", "b" }, /* the second id is invalid: refused */
    };
    size_t n = sizeof(pairs) / sizeof(pairs[0]);
    for (size_t i = 0; i < n; i++) {
        char v[64];
        snprintf(v, sizeof(v), "value of (%s, %s)", pairs[i][0], pairs[i][1]);
        put_bytes(pairs[i][0], pairs[i][1], v, strlen(v), NULL);
        if (strchr(pairs[i][0], ':')) {
            assert_json_error(&resp, 400, "INVALID_INSTANCE_ID");
            continue;
        }
        if (resp.status != 201) {
            print_error("(%s, %s) was not created: it collided with an earlier pair\n",
                        pairs[i][0], pairs[i][1]);
            harness_response_print(&resp);
            fail();
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (strchr(pairs[i][0], ':'))
            continue;
        char v[64];
        snprintf(v, sizeof(v), "value of (%s, %s)", pairs[i][0], pairs[i][1]);
        expect_str(pairs[i][0], pairs[i][1], v);
    }
}

/* EVIDENCE-OF: spec "Each instance has its own isolated namespace";
 * DESIGN "shard = FNV-1a(instance id) % 16": 40 instances share 16 shards,
 * so several live in the same file, each still alone. */
static void test_isolation__instances_sharing_a_shard(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) {
        char id[32], v[32];
        snprintf(id, sizeof(id), "shard-%d", i);
        snprintf(v, sizeof(v), "value %d", i);
        put_str(id, "same-key", v);
    }
    for (int i = 0; i < 40; i++) {
        char id[32], v[32];
        snprintf(id, sizeof(id), "shard-%d", i);
        snprintf(v, sizeof(v), "value %d", i);
        expect_str(id, "same-key", v);
    }
    for (int i = 0; i < 40; i += 2) {
        char id[32];
        snprintf(id, sizeof(id), "shard-%d", i);
        req("DELETE", "/v1/cache/same-key", id, NULL, NULL, 0);
        assert_http_status(&resp, 204);
    }
    for (int i = 0; i < 40; i++) {
        char id[32], v[32];
        snprintf(id, sizeof(id), "shard-%d", i);
        snprintf(v, sizeof(v), "value %d", i);
        if (i % 2)
            expect_str(id, "same-key", v);
        else
            expect_missing(id, "same-key");
    }
}

/* EVIDENCE-OF: keyspace.h "Ids never contain ':', so neither family can
 * produce the other's keys": cache keys named like registry keys touch no
 * instance record. */
static void test_isolation__cache_keys_cannot_touch_instance_records(void **state)
{
    (void)state;
    const char *id = "iso-meta";
    const char *keys[] = { "instance:iso-meta", "instance_config:iso-meta", "instance:victim",
                           "iso-meta", NULL };
    for (const char **k = keys; *k; k++)
        put_str(id, *k, "{\"status\":\"deleting\"}");
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(fx->store, roost_slice_cstr(id), &inst));
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("victim"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
    expect_str(id, "instance:iso-meta", "{\"status\":\"deleting\"}");
}

/* ------------------------------------------------------------------ */
/* group api: batch get                                                */

struct enc_case {
    const char *key;
    const char *value;
    size_t len;
    int utf8;
};

/* EVIDENCE-OF: DESIGN "In entries, a value that is valid UTF-8 is a JSON
 * string, whatever its Content-Type; any other value is an object
 * {"base64": "…"} (standard alphabet, padded)". */
static void test_batch__utf8_strings_and_base64(void **state)
{
    (void)state;
    static const struct enc_case cases[] = {
        { "ascii", "plain text", 10, 1 },
        { "latin", "h\xc3\xa9llo", 6, 1 },
        { "euro", "\xe2\x82\xac", 3, 1 },
        { "emoji", "\xf0\x9f\x98\x80", 4, 1 },
        { "maxcp", "\xf4\x8f\xbf\xbf", 4, 1 },
        { "nul", "a\0b", 3, 1 },
        { "json-ish", "{\"a\":[1,2]}\n\t\"", 14, 1 },
        { "ff", "\xff", 1, 0 },
        { "fffe", "\xff\xfe", 2, 0 },
        { "trunc", "ab\xc3", 3, 0 },
        { "overlong", "\xc0\xaf", 2, 0 },
        { "surrogate", "\xed\xa0\x80", 3, 0 },
        { "beyond", "\xf4\x90\x80\x80", 4, 0 },
        { "cont", "\x80", 1, 0 },
        { "pad1", "\x00\x01\xfa\xfb", 4, 0 },
        { "pad2", "\xfa\xfb\xfc\xfd\xfe", 5, 0 },
        { "pad0", "\xfa\xfb\xfc", 3, 0 },
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct roost_buf q = ROOST_BUF_INIT;
    roost_buf_append_str(&q, "{\"keys\":[");
    for (size_t i = 0; i < n; i++) {
        /* stored as octet-stream: the type does not decide the encoding */
        put_bytes("batch-enc", cases[i].key, cases[i].value, cases[i].len,
                  "application/octet-stream");
        roost_buf_appendf(&q, "%s\"%s\"", i ? "," : "", cases[i].key);
    }
    roost_buf_append_str(&q, "]}");
    batch("batch-enc", q.ptr);
    assert_http_status(&resp, 200);
    const char *ct = harness_response_header(&resp, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json", 16) == 0);
    struct json_object *o = body_json();
    struct json_object *entries = field(o, "entries");
    assert_int_equal(json_object_object_length(entries), n);
    assert_int_equal(json_object_array_length(field(o, "missing")), 0);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = field(entries, cases[i].key);
        if (cases[i].utf8) {
            if (!json_object_is_type(e, json_type_string)
                || (size_t)json_object_get_string_len(e) != cases[i].len
                || memcmp(json_object_get_string(e), cases[i].value, cases[i].len) != 0) {
                print_error("entry \"%s\" should be the string value, is %s\n", cases[i].key,
                            json_object_to_json_string(e));
                fail();
            }
        } else {
            char *want = b64((const unsigned char *)cases[i].value, cases[i].len);
            struct json_object *b = NULL;
            if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 1
                || !json_object_object_get_ex(e, "base64", &b)
                || !json_object_is_type(b, json_type_string)
                || strcmp(json_object_get_string(b), want) != 0) {
                print_error("entry \"%s\" should be {\"base64\":\"%s\"}, is %s\n",
                            cases[i].key, want, json_object_to_json_string(e));
                free(want);
                fail();
            }
            free(want);
        }
    }
    json_object_put(o);
    roost_buf_release(&q);
}

/* EVIDENCE-OF: issue 4 "duplicates handled sensibly"; decided "duplicates
 * appear once". */
static void test_batch__duplicates_once(void **state)
{
    (void)state;
    put_str("batch-dup", "d1", "one");
    batch("batch-dup", "{\"keys\":[\"d1\",\"zz\",\"d1\",\"zz\",\"d1\"]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"d1\":\"one\"},\"missing\":[\"zz\"]}");
    struct json_object *o = body_json();
    assert_int_equal(json_object_array_length(field(o, "missing")), 1);
    json_object_put(o);
    /* the raw text holds "d1" as a member name once only */
    const char *first = strstr(resp.body.ptr, "\"d1\"");
    assert_non_null(first);
    assert_null(strstr(first + 4, "\"d1\""));
}

/* EVIDENCE-OF: spec batch response shape {"entries": {…}, "missing": […]}
 * for an empty request too. */
static void test_batch__empty_key_list(void **state)
{
    (void)state;
    batch("batch-dup", "{\"keys\":[]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{},\"missing\":[]}");
}

/* EVIDENCE-OF: issue 4 "at most 100 keys by default (configurable), more ->
 * 400"; DESIGN ROOST_MAX_BATCH_KEYS default 100. */
static void test_batch__limit_100_keys(void **state)
{
    (void)state;
    put_str("batch-limit", "k7", "seven");
    struct roost_buf q = ROOST_BUF_INIT;
    roost_buf_append_str(&q, "{\"keys\":[");
    for (int i = 0; i < 100; i++)
        roost_buf_appendf(&q, "%s\"k%d\"", i ? "," : "", i);
    struct roost_buf q101 = ROOST_BUF_INIT;
    roost_buf_append_slice(&q101, roost_buf_slice(&q));
    roost_buf_append_str(&q, "]}");
    roost_buf_append_str(&q101, ",\"k100\"]}");
    batch("batch-limit", q.ptr);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_int_equal(json_object_object_length(field(o, "entries")), 1);
    assert_int_equal(json_object_array_length(field(o, "missing")), 99);
    assert_field_str(field(o, "entries"), "k7", "seven");
    json_object_put(o);
    batch("batch-limit", q101.ptr);
    assert_json_error(&resp, 400, "BATCH_TOO_LARGE");
    roost_buf_release(&q);
    roost_buf_release(&q101);
}

/* EVIDENCE-OF: issue 4 "malformed JSON ... -> 400 with a JSON error";
 * decided INVALID_JSON. */
static void test_batch__malformed_json_400(void **state)
{
    (void)state;
    const char *bodies[] = { "", "{", "{\"keys\": [\"a\",]}", "not json", "{\"keys\": [\"a\"]",
                             "{\"keys\": [\"a\"]} trailing", "{'keys': ['a']}",
                             "{\"keys\": [\"\xff\"]}", NULL };
    for (const char **b = bodies; *b; b++) {
        batch("batch-bad", *b);
        if (resp.status == 400 && strstr(*b, "\xff")) {
            /* invalid UTF-8 inside a JSON string: not JSON, or not a key */
            struct json_object *o = body_json();
            const char *code = json_object_get_string(field(o, "code"));
            assert_true(strcmp(code, "INVALID_JSON") == 0 || strcmp(code, "INVALID_KEY") == 0);
            json_object_put(o);
            continue;
        }
        assert_json_error(&resp, 400, "INVALID_JSON");
    }
    /* deeper than any batch document needs */
    struct roost_buf deep = ROOST_BUF_INIT;
    for (int i = 0; i < 2000; i++)
        roost_buf_append_char(&deep, '[');
    for (int i = 0; i < 2000; i++)
        roost_buf_append_char(&deep, ']');
    batch("batch-bad", deep.ptr);
    assert_http_status(&resp, 400);
    roost_buf_release(&deep);
}

/* EVIDENCE-OF: issue 4 "wrong types, non-string keys -> 400 with a JSON
 * error"; decided INVALID_REQUEST for wrong types, a missing "keys", a
 * non-string key and an unknown top-level field. */
static void test_batch__wrong_shape_400(void **state)
{
    (void)state;
    const char *bodies[] = { "{}", "[]", "[\"a\"]", "\"keys\"", "42", "null",
                             "{\"keys\": \"a\"}", "{\"keys\": {}}", "{\"keys\": null}",
                             "{\"keys\": [1]}", "{\"keys\": [\"a\", null]}",
                             "{\"keys\": [[\"a\"]]}", "{\"keys\": [{\"k\":\"a\"}]}",
                             "{\"keys\": [true]}", "{\"keys\": [\"a\"], \"extra\": 1}",
                             "{\"Keys\": [\"a\"]}", NULL };
    for (const char **b = bodies; *b; b++) {
        batch("batch-bad", *b);
        assert_json_error(&resp, 400, "INVALID_REQUEST");
    }
}

/* EVIDENCE-OF: DESIGN "the same rule applies to keys given in batch JSON:
 * one key syntax everywhere, 400 INVALID_KEY otherwise". */
static void test_batch__invalid_keys_400(void **state)
{
    (void)state;
    char big[600];
    memset(big, 'k', sizeof(big));
    big[513] = '\0';
    struct roost_buf q = ROOST_BUF_INIT;
    roost_buf_appendf(&q, "{\"keys\":[\"ok\",\"%s\"]}", big);
    const char *bodies[] = { "{\"keys\":[\"\"]}", "{\"keys\":[\"ok\",\"a\\u0001b\"]}",
                             "{\"keys\":[\"a\\nb\"]}", "{\"keys\":[\"\\u007f\"]}",
                             "{\"keys\":[\"tab\\there\"]}", q.ptr, NULL };
    for (const char **b = bodies; *b; b++) {
        batch("batch-bad", *b);
        assert_json_error(&resp, 400, "INVALID_KEY");
    }
    big[512] = '\0';   /* 512 bytes: the longest valid key */
    roost_buf_reset(&q);
    roost_buf_appendf(&q, "{\"keys\":[\"%s\"]}", big);
    batch("batch-bad", q.ptr);
    assert_http_status(&resp, 200);
    roost_buf_release(&q);
}

/* EVIDENCE-OF: spec "X-Instance-ID: <instance-id> (optional)" on batch
 * get, and the query alternative. */
static void test_batch__instance_from_query(void **state)
{
    (void)state;
    put_str("batch-q", "bq", "by query");
    req("POST", "/v1/cache/batch/get?instance_id=batch-q", NULL, "application/json",
        "{\"keys\":[\"bq\"]}", strlen("{\"keys\":[\"bq\"]}"));
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"bq\":\"by query\"},\"missing\":[]}");
}

/* ------------------------------------------------------------------ */
/* group api: health                                                   */

/* EVIDENCE-OF: spec "Health checks do not require instance context ...
 * Response includes instance information if provided". */
static void test_health__reports_the_requests_instance(void **state)
{
    (void)state;
    req("GET", "/health", "health-inst", NULL, NULL, 0);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_field_str(o, "status", "healthy");
    assert_field_str(o, "mode", "primary");
    assert_field_str(o, "instance_id", "health-inst");
    int64_t now = (int64_t)time(NULL);
    struct json_object *ts = field(o, "timestamp");
    assert_true(json_object_is_type(ts, json_type_int));
    assert_in_range(json_object_get_int64(ts), now - 5, now + 5);
    json_object_put(o);
    req("GET", "/health?instance_id=health-q", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
    o = body_json();
    assert_field_str(o, "instance_id", "health-q");
    json_object_put(o);
    req("GET", "/health", NULL, NULL, NULL, 0);
    o = body_json();
    assert_field_str(o, "instance_id", "default");
    json_object_put(o);
    req("HEAD", "/health", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
    assert_int_equal(resp.body.len, 0);
}

/* ------------------------------------------------------------------ */
/* group settings                                                      */

/* EVIDENCE-OF: DESIGN ROOST_AUTO_CREATE "0: 404 INSTANCE_NOT_FOUND"; spec
 * "Instance Not Found": {"error": "instance not found", "code":
 * "INSTANCE_NOT_FOUND"}. */
static void test_settings__auto_create_off(void **state)
{
    (void)state;
    const char *exact = "{\"error\":\"instance not found\",\"code\":\"INSTANCE_NOT_FOUND\"}";
    put_bytes("unknown-inst", "k", "v", 1, NULL);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    assert_json_body_eq(&resp, exact);
    get_key("unknown-inst", "k");
    assert_json_body_eq(&resp, exact);
    req("DELETE", "/v1/cache/k", "unknown-inst", NULL, NULL, 0);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    batch("unknown-inst", "{\"keys\":[\"k\"]}");
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(fx->store, roost_slice_cstr("unknown-inst"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);

    /* registered by an operator (here: the library), it is served */
    register_instance("known-inst");
    put_bytes("known-inst", "k", "v", 1, NULL);
    assert_http_status(&resp, 201);
    expect_str("known-inst", "k", "v");
}

/* EVIDENCE-OF: DESIGN ROOST_MODE "the mode reported by /health";
 * ROOST_DEFAULT_INSTANCE "instance used by batch get and /health when the
 * request names none". */
static void test_settings__mode_and_default_instance(void **state)
{
    (void)state;
    req("GET", "/health", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
    struct json_object *o = body_json();
    assert_field_str(o, "status", "healthy");
    assert_field_str(o, "mode", "replica");
    assert_field_str(o, "instance_id", "tenant-zero");
    json_object_put(o);
    /* batch without an instance reads tenant-zero, which must exist here */
    batch(NULL, "{\"keys\":[\"tz\"]}");
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    register_instance("tenant-zero");
    put_str("tenant-zero", "tz", "zero");
    batch(NULL, "{\"keys\":[\"tz\"]}");
    assert_http_status(&resp, 200);
    assert_json_body_eq(&resp, "{\"entries\":{\"tz\":\"zero\"},\"missing\":[]}");
    /* single-key routes still require an id */
    get_key(NULL, "tz");
    assert_json_error(&resp, 400, "MISSING_INSTANCE_ID");
}

/* EVIDENCE-OF: DESIGN ROOST_MAX_BATCH_KEYS "more keys in one batch: 400";
 * ROOST_MAX_VALUE_BYTES "larger bodies: 413, nothing written". */
static void test_settings__limits(void **state)
{
    (void)state;
    register_instance("limits");
    batch("limits", "{\"keys\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}");
    assert_http_status(&resp, 200);
    batch("limits", "{\"keys\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}");
    assert_json_error(&resp, 400, "BATCH_TOO_LARGE");
    unsigned char *v = pattern(4097, 9);
    put_bytes("limits", "v", v, 4096, NULL);
    assert_http_status(&resp, 201);
    put_bytes("limits", "v", v, 4097, NULL);
    assert_json_error(&resp, 413, "VALUE_TOO_LARGE");
    expect_bytes("limits", "v", v, 4096);
    free(v);
}

/* ------------------------------------------------------------------ */
/* group nostore                                                       */

/* EVIDENCE-OF: issue 4 "Health ... 503 with "status":"unhealthy" when the
 * store cannot be opened". */
static void test_nostore__health_unhealthy_503(void **state)
{
    (void)state;
    req("GET", "/health", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 503);
    const char *ct = harness_response_header(&resp, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json", 16) == 0);
    struct json_object *o = body_json();
    assert_field_str(o, "status", "unhealthy");
    json_object_put(o);
}

/* EVIDENCE-OF: error.h STORE_UNAVAILABLE 503 "the store cannot be opened";
 * DESIGN "never an HTML page, never a bare 500". */
static void test_nostore__requests_503_store_unavailable(void **state)
{
    (void)state;
    put_bytes("any", "k", "v", 1, NULL);
    assert_json_error(&resp, 503, "STORE_UNAVAILABLE");
    get_key("any", "k");
    assert_json_error(&resp, 503, "STORE_UNAVAILABLE");
    batch("any", "{\"keys\":[\"k\"]}");
    assert_json_error(&resp, 503, "STORE_UNAVAILABLE");
    /* requests that need no store still work */
    req("GET", "/", NULL, NULL, NULL, 0);
    assert_http_status(&resp, 200);
}

/* ------------------------------------------------------------------ */

int main(void)
{
    const char *l = getenv("ROOST_LIGHTTPD");
    if (l && !*l) {
        fprintf(stderr, "test_api: lighttpd was not found by configure; skipping\n");
        return 77;
    }
    harness_response_init(&resp);
    long t0 = harness_now_ms();
    int failed = 0, total = 0;

    const struct CMUnitTest spec[] = {
        cmocka_unit_test(test_spec__create_and_use_an_instance),
        cmocka_unit_test(test_spec__batch_operations_with_instance_context),
        cmocka_unit_test(test_spec__header_and_query_parameter),
        cmocka_unit_test(test_spec__health_check),
        cmocka_unit_test(test_spec__error_missing_instance_id),
        cmocka_unit_test(test_spec__error_instance_not_active),
        cmocka_unit_test(test_spec__instance_creation_defaults),
    };
    const struct CMUnitTest api[] = {
        cmocka_unit_test(test_route__root_lists_endpoints),
        cmocka_unit_test(test_route__unknown_paths_404_json),
        cmocka_unit_test(test_route__wrong_method_405_with_allow),
        cmocka_unit_test(test_route__encoded_batch_path_is_a_key),
        cmocka_unit_test(test_route__head_errors_have_no_body),
        cmocka_unit_test(test_instance__header_wins_over_query),
        cmocka_unit_test(test_instance__query_parameter),
        cmocka_unit_test(test_instance__invalid_ids_400),
        cmocka_unit_test(test_instance__empty_id_400),
        cmocka_unit_test(test_instance__edge_ids_accepted),
        cmocka_unit_test(test_instance__missing_on_key_routes_400),
        cmocka_unit_test(test_instance__batch_without_instance_uses_default),
        cmocka_unit_test(test_instance__health_invalid_id_400),
        cmocka_unit_test(test_instance__auto_created_on_first_write),
        cmocka_unit_test(test_state__refused_states),
        cmocka_unit_test(test_state__active_and_migrating_served),
        cmocka_unit_test(test_cache__put_201_created_then_200_replaced),
        cmocka_unit_test(test_cache__post_like_put),
        cmocka_unit_test(test_cache__get_returns_bytes_type_and_safety_headers),
        cmocka_unit_test(test_cache__content_type_defaults),
        cmocka_unit_test(test_cache__content_type_too_long_400),
        cmocka_unit_test(test_cache__head_like_get_without_body),
        cmocka_unit_test(test_cache__delete_204_then_404),
        cmocka_unit_test(test_cache__missing_key_404),
        cmocka_unit_test(test_cache__empty_value),
        cmocka_unit_test(test_value__nul_bytes),
        cmocka_unit_test(test_value__all_256_byte_values),
        cmocka_unit_test(test_value__one_mib_accepted),
        cmocka_unit_test(test_value__one_mib_plus_one_413_nothing_written),
        cmocka_unit_test(test_value__batch_response_too_large_413),
        cmocka_unit_test(test_key__percent_decoded),
        cmocka_unit_test(test_key__encoded_slash_is_part_of_the_key),
        cmocka_unit_test(test_key__length_limits),
        cmocka_unit_test(test_key__invalid_bytes_400),
        cmocka_unit_test(test_key__empty_key_refused),
        cmocka_unit_test(test_key__unicode),
        cmocka_unit_test(test_key__plus_is_literal),
        cmocka_unit_test(test_isolation__same_key_different_values),
        cmocka_unit_test(test_isolation__no_access_across_instances),
        cmocka_unit_test(test_isolation__no_collisions_between_pairs),
        cmocka_unit_test(test_isolation__instances_sharing_a_shard),
        cmocka_unit_test(test_isolation__cache_keys_cannot_touch_instance_records),
        cmocka_unit_test(test_batch__utf8_strings_and_base64),
        cmocka_unit_test(test_batch__duplicates_once),
        cmocka_unit_test(test_batch__empty_key_list),
        cmocka_unit_test(test_batch__limit_100_keys),
        cmocka_unit_test(test_batch__malformed_json_400),
        cmocka_unit_test(test_batch__wrong_shape_400),
        cmocka_unit_test(test_batch__invalid_keys_400),
        cmocka_unit_test(test_batch__instance_from_query),
        cmocka_unit_test(test_health__reports_the_requests_instance),
    };
    const struct CMUnitTest settings[] = {
        cmocka_unit_test(test_settings__auto_create_off),
        cmocka_unit_test(test_settings__mode_and_default_instance),
        cmocka_unit_test(test_settings__limits),
    };
    const struct CMUnitTest nostore[] = {
        cmocka_unit_test(test_nostore__health_unhealthy_503),
        cmocka_unit_test(test_nostore__requests_503_store_unavailable),
    };

#define RUN_GROUP(arr, f, setup, teardown)                                              \
    do {                                                                                \
        int n_ = cmocka_run_group_tests_name("test_api " #arr, arr, setup, teardown);   \
        failed += n_;                                                                   \
        total += (int)(sizeof(arr) / sizeof(arr[0]));                                   \
        harness_server_free((f).srv, n_ != 0);                                          \
        (f).srv = NULL;                                                                 \
    } while (0)

    RUN_GROUP(spec, fx_spec, setup_spec, teardown_spec);
    RUN_GROUP(api, fx_api, setup_api, teardown_api);
    RUN_GROUP(settings, fx_settings, setup_settings, teardown_settings);
    RUN_GROUP(nostore, fx_nostore, setup_nostore, teardown_nostore);

    if (nostore_dir) {
        /* <base>/plainfile/store -> remove <base> */
        char *slash = strrchr(nostore_dir, '/');
        if (slash) {
            *slash = '\0';
            slash = strrchr(nostore_dir, '/');
            if (slash)
                *slash = '\0';
            roost_test_rmtree(nostore_dir);
        }
        free(nostore_dir);
    }
    harness_response_release(&resp);
    printf("# test_api: %d tests, %d failed, 4 servers, %lu HTTP requests, %.1f s\n", total,
           failed, requests_total, (harness_now_ms() - t0) / 1000.0);
    return failed ? 1 : 0;
}
