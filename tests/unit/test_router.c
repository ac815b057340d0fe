/*
 * test_router.c - fcgi-app/router.h: the static route table and the pure
 * matcher over raw paths.
 *
 * Test organization
 *   group        what it checks                                    rule
 *   table        the seven routes, their patterns, methods, flags  router.h; DESIGN.md "API rules"
 *   methods      every route x every method: OK or 405 + allowed;  router.h "HEAD matches wherever
 *                HEAD wherever GET                                 GET does"
 *   cache key    raw (still encoded) key slice, %2F, empty key     DESIGN.md "Keys ... taken from the
 *                                                                  raw REQUEST_URI"
 *   not found    segments after the key, unknown paths             DESIGN.md "A path with segments
 *                                                                  after /v1/cache/{key} ... 404"
 *   batch        POST only, 405 with Allow: POST                   spec "Batch Get"
 *   allow        Allow header text in table order                  router.h roost_router_allow
 *   admin        /v1/admin/instances[/{id}], /v1/admin/stats:      issue 5 part 3 "Admin HTTP API";
 *                methods, ADMIN flag, 405 Allow (with PATCH),      STYLE.md router "404 or 405 with
 *                raw id segment, segments after the id 404         Allow"
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "http.h"
#include "router.h"
#include "testlib.h"

static const enum roost_method all_methods[] = {
    ROOST_METHOD_GET, ROOST_METHOD_HEAD, ROOST_METHOD_PUT, ROOST_METHOD_POST, ROOST_METHOD_DELETE,
    ROOST_METHOD_PATCH, ROOST_METHOD_OTHER,
};
#define NMETHODS (sizeof(all_methods) / sizeof(all_methods[0]))

#define ALL_FIVE (ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_PUT | ROOST_METHOD_POST \
                  | ROOST_METHOD_DELETE)
#define ALL_SIX (ALL_FIVE | ROOST_METHOD_PATCH)

static enum roost_err match(enum roost_method m, const char *path, struct roost_route_match *out)
{
    return roost_router_match(m, roost_slice_cstr(path), out);
}

static const struct roost_route *route_by_id(enum roost_route_id id)
{
    size_t n = 0;
    const struct roost_route *r = roost_router_routes(&n);
    for (size_t i = 0; i < n; i++)
        if (r[i].id == id)
            return &r[i];
    fail_msg("route %d missing from the table", (int)id);
    return NULL;
}

/* A concrete path that names each route. */
static const char *sample_path(enum roost_route_id id)
{
    switch (id) {
    case ROOST_ROUTE_ROOT: return "/";
    case ROOST_ROUTE_HEALTH: return "/health";
    case ROOST_ROUTE_BATCH_GET: return "/v1/cache/batch/get";
    case ROOST_ROUTE_CACHE_KEY: return "/v1/cache/player-score";
    case ROOST_ROUTE_ADMIN_INSTANCES: return "/v1/admin/instances";
    case ROOST_ROUTE_ADMIN_INSTANCE: return "/v1/admin/instances/game-instance-123";
    case ROOST_ROUTE_ADMIN_STATS: return "/v1/admin/stats";
    case ROOST_ROUTE_ADMIN_CACHE_STATS: return "/v1/admin/cache/stats";
    case ROOST_ROUTE_ADMIN_CACHE_WARM: return "/v1/admin/cache/warm";
    case ROOST_ROUTE_ADMIN_CACHE_ENTRIES: return "/v1/admin/cache/entries";
    case ROOST_ROUTE_ADMIN_CACHE_ENTRY: return "/v1/admin/cache/entries/game-instance-123";
    }
    fail_msg("unknown route id %d", (int)id);
    return NULL;
}

/* ---- table ------------------------------------------------------------- */

static void test_router__routes_lists_all(void **state)
{
    (void)state;
    /* DESIGN.md: "GET / answers ... each endpoint as "METHOD /path"" - the
     * table holds every route exactly once (issue 5 added the admin API,
     * issue 6 the config-cache administration). */
    size_t n = 0;
    const struct roost_route *r = roost_router_routes(&n);
    assert_non_null(r);
    assert_int_equal(n, 11);
    static const struct {
        enum roost_route_id id;
        const char *pattern;
    } want[] = {
        { ROOST_ROUTE_ROOT, "/" },
        { ROOST_ROUTE_HEALTH, "/health" },
        { ROOST_ROUTE_BATCH_GET, "/v1/cache/batch/get" },
        { ROOST_ROUTE_CACHE_KEY, "/v1/cache/{key}" },
        { ROOST_ROUTE_ADMIN_INSTANCES, "/v1/admin/instances" },
        { ROOST_ROUTE_ADMIN_INSTANCE, "/v1/admin/instances/{id}" },
        { ROOST_ROUTE_ADMIN_STATS, "/v1/admin/stats" },
        { ROOST_ROUTE_ADMIN_CACHE_STATS, "/v1/admin/cache/stats" },
        { ROOST_ROUTE_ADMIN_CACHE_WARM, "/v1/admin/cache/warm" },
        { ROOST_ROUTE_ADMIN_CACHE_ENTRIES, "/v1/admin/cache/entries" },
        { ROOST_ROUTE_ADMIN_CACHE_ENTRY, "/v1/admin/cache/entries/{id}" },
    };
    for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            if (r[i].id != want[w].id)
                continue;
            seen++;
            assert_string_equal(r[i].pattern, want[w].pattern);
            assert_true(r[i].methods != 0);
            assert_int_equal(r[i].methods & ~(unsigned)ALL_SIX, 0);
        }
        assert_int_equal(seen, 1);
    }
}

static void test_router__route_methods(void **state)
{
    (void)state;
    /* spec "API Endpoints"; DESIGN.md "Responses of the cache routes":
     * "PUT/POST 201 ... GET 200 ... DELETE 204" */
    assert_int_equal(route_by_id(ROOST_ROUTE_CACHE_KEY)->methods, ALL_FIVE);
    assert_int_equal(route_by_id(ROOST_ROUTE_BATCH_GET)->methods, ROOST_METHOD_POST);
    assert_true(route_by_id(ROOST_ROUTE_HEALTH)->methods & ROOST_METHOD_GET);
    assert_true(route_by_id(ROOST_ROUTE_ROOT)->methods & ROOST_METHOD_GET);
    assert_false(route_by_id(ROOST_ROUTE_HEALTH)->methods & (ROOST_METHOD_PUT | ROOST_METHOD_DELETE));
}

static void test_router__route_flags(void **state)
{
    (void)state;
    const struct roost_route *key = route_by_id(ROOST_ROUTE_CACHE_KEY);
    const struct roost_route *batch = route_by_id(ROOST_ROUTE_BATCH_GET);
    /* spec: "All cache operations require an instance context"; DESIGN.md:
     * "single-key routes still answer MISSING_INSTANCE_ID" */
    assert_true(key->flags & ROOST_ROUTE_INSTANCE);
    assert_true(key->flags & ROOST_ROUTE_INSTANCE_REQUIRED);
    assert_true(key->flags & ROOST_ROUTE_HAS_BODY);                 /* PUT/POST bodies */
    /* spec "Batch Get": "X-Instance-ID: <instance-id> (optional)";
     * DESIGN.md: ROOST_DEFAULT_INSTANCE is "used by batch get ... when the
     * request names none" */
    assert_true(batch->flags & ROOST_ROUTE_INSTANCE);
    assert_false(batch->flags & ROOST_ROUTE_INSTANCE_REQUIRED);
    assert_true(batch->flags & ROOST_ROUTE_HAS_BODY);
    /* spec "Health Check": "Health checks do not require instance context" */
    assert_false(route_by_id(ROOST_ROUTE_HEALTH)->flags & ROOST_ROUTE_INSTANCE_REQUIRED);
    assert_false(route_by_id(ROOST_ROUTE_HEALTH)->flags & ROOST_ROUTE_HAS_BODY);
    assert_false(route_by_id(ROOST_ROUTE_ROOT)->flags
                 & (ROOST_ROUTE_INSTANCE | ROOST_ROUTE_INSTANCE_REQUIRED | ROOST_ROUTE_HAS_BODY));
}

/* ---- methods ----------------------------------------------------------- */

static void test_router__every_route_every_method(void **state)
{
    (void)state;
    /* router.h: "Errors: NOT_FOUND, METHOD_NOT_ALLOWED (m->allowed set).
     * HEAD matches wherever GET does." */
    size_t n = 0;
    const struct roost_route *r = roost_router_routes(&n);
    for (size_t i = 0; i < n; i++) {
        unsigned accepts = r[i].methods;
        if (accepts & ROOST_METHOD_GET)
            accepts |= ROOST_METHOD_HEAD;
        for (size_t k = 0; k < NMETHODS; k++) {
            struct roost_route_match m;
            enum roost_err err = match(all_methods[k], sample_path(r[i].id), &m);
            if (accepts & (unsigned)all_methods[k]) {
                if (err != ROOST_OK)
                    fail_msg("%s %s: %s", roost_http_method_name(all_methods[k]),
                             sample_path(r[i].id), roost_err_name(err));
                assert_non_null(m.route);
                assert_int_equal(m.route->id, r[i].id);
            } else {
                if (err != ROOST_ERR_METHOD_NOT_ALLOWED)
                    fail_msg("%s %s: %s, want METHOD_NOT_ALLOWED",
                             roost_http_method_name(all_methods[k]), sample_path(r[i].id),
                             roost_err_name(err));
                assert_int_equal(m.allowed, r[i].methods);
            }
        }
    }
}

static void test_router__head_wherever_get(void **state)
{
    (void)state;
    /* router.h: "HEAD matches wherever GET does" */
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_HEAD, "/", &m));
    assert_roost_ok(match(ROOST_METHOD_HEAD, "/health", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_HEALTH);
    assert_roost_ok(match(ROOST_METHOD_HEAD, "/v1/cache/k", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
    assert_true(roost_slice_eq_cstr(m.raw_key, "k"));
    /* no GET on batch get, so no HEAD either */
    assert_roost_err(match(ROOST_METHOD_HEAD, "/v1/cache/batch/get", &m),
                     ROOST_ERR_METHOD_NOT_ALLOWED);
}

/* ---- cache key --------------------------------------------------------- */

static void test_router__cache_key_raw_slice(void **state)
{
    (void)state;
    /* router.h: "raw_key: ROOST_ROUTE_CACHE_KEY: still percent-encoded";
     * DESIGN.md: "/ inside a key is sent as %2F" */
    static const char *const keys[] = { "player-score", "a%2Fb", "%E2%82%AC", "a+b", "%2F",
                                        "batch", "batch%2Fget", "health", ".", "..", "%2E%2E",
                                        "with%20space", "x:y", "%ZZ" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/v1/cache/%s", keys[i]);
        struct roost_route_match m;
        enum roost_err err = match(ROOST_METHOD_GET, path, &m);
        if (err)
            fail_msg("GET %s: %s", path, roost_err_name(err));
        assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
        assert_true(roost_slice_eq_cstr(m.raw_key, keys[i]));
        /* a view into the path handed in, not a copy */
        assert_ptr_equal(m.raw_key.ptr, path + strlen("/v1/cache/"));
    }
}

static void test_router__cache_key_named_like_routes(void **state)
{
    (void)state;
    /* "batch" alone and "batch%2Fget" are ordinary keys; only the raw path
     * /v1/cache/batch/get is the batch route. */
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_PUT, "/v1/cache/batch%2Fget", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
    assert_true(roost_slice_eq_cstr(m.raw_key, "batch%2Fget"));
    assert_roost_ok(match(ROOST_METHOD_DELETE, "/v1/cache/batch", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
    assert_true(roost_slice_eq_cstr(m.raw_key, "batch"));
}

static void test_router__cache_key_empty(void **state)
{
    (void)state;
    /* "/v1/cache/" names the key route with an empty key; the handler
     * answers 400 INVALID_KEY (DESIGN.md: keys are 1–512 bytes) rather
     * than the router a 404. */
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_GET, "/v1/cache/", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
    assert_int_equal(m.raw_key.len, 0);
}

static void test_router__path_is_a_slice(void **state)
{
    (void)state;
    /* only path[0..len) is the path */
    struct roost_route_match m;
    assert_roost_ok(roost_router_match(ROOST_METHOD_GET, roost_slice_make("/healthXYZ", 7), &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_HEALTH);
    assert_roost_ok(roost_router_match(ROOST_METHOD_GET, roost_slice_make("/v1/cache/ab/c", 12), &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_CACHE_KEY);
    assert_true(roost_slice_eq_cstr(m.raw_key, "ab"));
}

/* ---- not found --------------------------------------------------------- */

static void test_router__segments_after_key_not_found(void **state)
{
    (void)state;
    /* DESIGN.md: "A path with segments after /v1/cache/{key} matches no
     * route: 404 NOT_FOUND"; "a raw / after the key is not a key" */
    static const char *const paths[] = { "/v1/cache/a/b", "/v1/cache/a/", "/v1/cache//",
                                         "/v1/cache//a", "/v1/cache/a%2Fb/c",
                                         "/v1/cache/batch/get/x", "/v1/cache/batch/get/",
                                         "/v1/cache/batch/put" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t k = 0; k < NMETHODS; k++) {
            struct roost_route_match m;
            enum roost_err err = match(all_methods[k], paths[i], &m);
            if (err != ROOST_ERR_NOT_FOUND)
                fail_msg("%s %s: %s, want NOT_FOUND", roost_http_method_name(all_methods[k]),
                         paths[i], roost_err_name(err));
        }
    }
}

static void test_router__unknown_paths_not_found(void **state)
{
    (void)state;
    /* router.h: "Errors: NOT_FOUND" for any path no route names (exact, case-sensitive) */
    static const char *const paths[] = { "", "//", "/v1", "/v1/", "/v1/cache", "/v2/cache/k",
                                         "/healthz", "/health/", "/HEALTH", "/Health",
                                         "/v1/Cache/k", "/v1//cache/k", "v1/cache/k",
                                         "/v1/cache%2Fk", "/index.html", "/v1/admin",
                                         "/v1/admin/", "/v1/admin/stats/", "/v1/admin/stat",
                                         "/v1/admin/instance", "/v1/admin/instancesx",
                                         "/v1/Admin/stats", "/v1/admin/Instances", "/v1/admin//stats",
                                         "/admin/instances", "/v2/admin/stats" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct roost_route_match m;
        enum roost_err err = match(ROOST_METHOD_GET, paths[i], &m);
        if (err != ROOST_ERR_NOT_FOUND)
            fail_msg("GET \"%s\": %s, want NOT_FOUND", paths[i], roost_err_name(err));
        /* path is checked before the method: an unknown path is 404 for
         * any method, never 405 */
        err = match(ROOST_METHOD_OTHER, paths[i], &m);
        assert_int_equal(err, ROOST_ERR_NOT_FOUND);
    }
}

/* ---- batch ------------------------------------------------------------- */

static void test_router__batch_get_post_only(void **state)
{
    (void)state;
    /* spec "Batch Get": "POST /v1/cache/batch/get" */
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_POST, "/v1/cache/batch/get", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_BATCH_GET);
    assert_roost_err(match(ROOST_METHOD_GET, "/v1/cache/batch/get", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    assert_int_equal(m.allowed, ROOST_METHOD_POST);
    struct roost_buf allow = ROOST_BUF_INIT;
    roost_router_allow(m.allowed, &allow);
    assert_string_equal(allow.ptr, "POST");
    roost_buf_release(&allow);
    assert_roost_err(match(ROOST_METHOD_PUT, "/v1/cache/batch/get", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    assert_roost_err(match(ROOST_METHOD_DELETE, "/v1/cache/batch/get", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
}

/* ---- allow ------------------------------------------------------------- */

static void test_router__allow_text(void **state)
{
    (void)state;
    /* router.h: ""GET, HEAD, PUT" for an Allow header, replacing out's
     * contents" - methods in the fixed order GET, HEAD, PUT, POST, DELETE,
     * whatever order the bits were given in. */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "stale");
    roost_router_allow(ALL_FIVE, &out);
    assert_string_equal(out.ptr, "GET, HEAD, PUT, POST, DELETE");
    roost_router_allow(ROOST_METHOD_DELETE | ROOST_METHOD_GET, &out);
    assert_string_equal(out.ptr, "GET, DELETE");
    roost_router_allow(ROOST_METHOD_POST, &out);
    assert_string_equal(out.ptr, "POST");
    roost_router_allow(0, &out);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

static void test_router__allow_for_405_answers(void **state)
{
    (void)state;
    /* STYLE.md router: "answers JSON 404 or 405 with Allow"; RFC 9110
     * s.15.5.6: the Allow of a 405 lists the target's methods - HEAD
     * included wherever GET is served. */
    struct roost_route_match m;
    struct roost_buf out = ROOST_BUF_INIT;
    assert_roost_err(match(ROOST_METHOD_PUT, "/health", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    roost_router_allow(m.allowed, &out);
    assert_string_equal(out.ptr, "GET, HEAD");
    assert_roost_err(match(ROOST_METHOD_OTHER, "/v1/cache/k", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    roost_router_allow(m.allowed, &out);
    assert_string_equal(out.ptr, "GET, HEAD, PUT, POST, DELETE");
    roost_buf_release(&out);
}

/* ---- admin (issue 5 part 3) -------------------------------------------- */

static void test_router__admin_routes_table(void **state)
{
    (void)state;
    /* issue 5: "list instances ... show one, create one ..., change status /
     * metadata / quota / owner, delete one" - REST-like: collection GET/POST,
     * item GET/PATCH/DELETE, stats GET; the dispatcher checks credentials
     * (ROOST_ROUTE_ADMIN) and never resolves an instance for them */
    const struct roost_route *list = route_by_id(ROOST_ROUTE_ADMIN_INSTANCES);
    const struct roost_route *item = route_by_id(ROOST_ROUTE_ADMIN_INSTANCE);
    const struct roost_route *stats = route_by_id(ROOST_ROUTE_ADMIN_STATS);
    assert_int_equal(list->methods, ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_POST);
    assert_int_equal(item->methods, ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_PATCH | ROOST_METHOD_DELETE);
    assert_int_equal(stats->methods, ROOST_METHOD_GET | ROOST_METHOD_HEAD);
    const struct roost_route *admin[] = { list, item, stats };
    for (size_t i = 0; i < 3; i++) {
        assert_true(admin[i]->flags & ROOST_ROUTE_ADMIN);
        assert_false(admin[i]->flags & (ROOST_ROUTE_INSTANCE | ROOST_ROUTE_INSTANCE_REQUIRED));
    }
    assert_true(list->flags & ROOST_ROUTE_HAS_BODY);      /* POST: the new instance's fields */
    assert_true(item->flags & ROOST_ROUTE_HAS_BODY);      /* PATCH: the changes */
    assert_false(stats->flags & ROOST_ROUTE_HAS_BODY);
    /* and no cache or service route is an admin route (issue 6 added the
     * config-cache administration under /v1/admin/cache/) */
    size_t n = 0;
    const struct roost_route *r = roost_router_routes(&n);
    for (size_t i = 0; i < n; i++) {
        int is_admin = r[i].id == ROOST_ROUTE_ADMIN_INSTANCES || r[i].id == ROOST_ROUTE_ADMIN_INSTANCE
                    || r[i].id == ROOST_ROUTE_ADMIN_STATS || r[i].id == ROOST_ROUTE_ADMIN_CACHE_STATS
                    || r[i].id == ROOST_ROUTE_ADMIN_CACHE_WARM || r[i].id == ROOST_ROUTE_ADMIN_CACHE_ENTRIES
                    || r[i].id == ROOST_ROUTE_ADMIN_CACHE_ENTRY;
        assert_int_equal(!!(r[i].flags & ROOST_ROUTE_ADMIN), is_admin);
        assert_int_equal(strncmp(r[i].pattern, "/v1/admin/", 10) == 0, is_admin);
    }
}

static void test_router__admin_methods(void **state)
{
    (void)state;
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_GET, "/v1/admin/instances", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCES);
    assert_roost_ok(match(ROOST_METHOD_POST, "/v1/admin/instances", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCES);
    assert_roost_ok(match(ROOST_METHOD_GET, "/v1/admin/instances/g1", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCE);
    assert_roost_ok(match(ROOST_METHOD_PATCH, "/v1/admin/instances/g1", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCE);
    assert_roost_ok(match(ROOST_METHOD_DELETE, "/v1/admin/instances/g1", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCE);
    assert_roost_ok(match(ROOST_METHOD_HEAD, "/v1/admin/stats", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_STATS);
    /* PATCH is for instances only: the cache key route answers 405 */
    assert_roost_err(match(ROOST_METHOD_PATCH, "/v1/cache/k", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    assert_roost_err(match(ROOST_METHOD_PATCH, "/v1/admin/instances", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
}

static void expect_405(enum roost_method method, const char *path, const char *allow)
{
    struct roost_route_match m;
    struct roost_buf out = ROOST_BUF_INIT;
    enum roost_err err = match(method, path, &m);
    if (err != ROOST_ERR_METHOD_NOT_ALLOWED)
        fail_msg("%s %s: %s, want METHOD_NOT_ALLOWED", roost_http_method_name(method), path,
                 roost_err_name(err));
    assert_non_null(m.route);
    roost_router_allow(m.allowed, &out);
    if (strcmp(out.ptr, allow) != 0)
        fail_msg("%s %s: Allow \"%s\", want \"%s\"", roost_http_method_name(method), path, out.ptr, allow);
    roost_buf_release(&out);
}

static void test_router__admin_405_allow(void **state)
{
    (void)state;
    /* STYLE.md router: "answers JSON 404 or 405 with Allow"; the Allow
     * order is GET, HEAD, PUT, POST, PATCH, DELETE */
    expect_405(ROOST_METHOD_POST, "/v1/admin/stats", "GET, HEAD");
    expect_405(ROOST_METHOD_DELETE, "/v1/admin/stats", "GET, HEAD");
    expect_405(ROOST_METHOD_PATCH, "/v1/admin/stats", "GET, HEAD");
    expect_405(ROOST_METHOD_PUT, "/v1/admin/instances", "GET, HEAD, POST");
    expect_405(ROOST_METHOD_DELETE, "/v1/admin/instances", "GET, HEAD, POST");
    expect_405(ROOST_METHOD_PUT, "/v1/admin/instances/g1", "GET, HEAD, PATCH, DELETE");
    expect_405(ROOST_METHOD_POST, "/v1/admin/instances/g1", "GET, HEAD, PATCH, DELETE");
    expect_405(ROOST_METHOD_OTHER, "/v1/admin/instances/g1", "GET, HEAD, PATCH, DELETE");
    expect_405(ROOST_METHOD_PATCH, "/v1/cache/k", "GET, HEAD, PUT, POST, DELETE");
}

static void test_router__allow_text_with_patch(void **state)
{
    (void)state;
    /* router.c: GET, HEAD, PUT, POST, PATCH, DELETE whatever the bit order */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_router_allow(ALL_SIX, &out);
    assert_string_equal(out.ptr, "GET, HEAD, PUT, POST, PATCH, DELETE");
    roost_router_allow(ROOST_METHOD_DELETE | ROOST_METHOD_PATCH, &out);
    assert_string_equal(out.ptr, "PATCH, DELETE");
    roost_router_allow(ROOST_METHOD_PATCH | ROOST_METHOD_POST, &out);
    assert_string_equal(out.ptr, "POST, PATCH");
    roost_router_allow(ROOST_METHOD_PATCH, &out);
    assert_string_equal(out.ptr, "PATCH");
    roost_buf_release(&out);
}

static void test_router__admin_instance_raw_id(void **state)
{
    (void)state;
    /* router.h: "ADMIN_INSTANCE: the id; still percent-encoded" - the
     * handler decodes and validates it (an invalid id is 400, not 404) */
    static const char *const ids[] = { "game-instance-123", "a", "a%2Fb", "a%20b", "%61", "a:b", "..",
                                       "%ZZ", "batch", "stats" };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char path[96];
        snprintf(path, sizeof(path), "/v1/admin/instances/%s", ids[i]);
        struct roost_route_match m;
        enum roost_err err = match(ROOST_METHOD_GET, path, &m);
        if (err)
            fail_msg("GET %s: %s", path, roost_err_name(err));
        assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCE);
        assert_true(roost_slice_eq_cstr(m.raw_key, ids[i]));
        assert_ptr_equal(m.raw_key.ptr, path + strlen("/v1/admin/instances/"));
    }
    /* an empty segment names the route with an empty id: the handler's
     * id check answers it (INVALID_INSTANCE_ID), as for an empty key */
    struct roost_route_match m;
    assert_roost_ok(match(ROOST_METHOD_GET, "/v1/admin/instances/", &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_INSTANCE);
    assert_int_equal(m.raw_key.len, 0);
    /* a 405 still carries the route and its id */
    assert_roost_err(match(ROOST_METHOD_PUT, "/v1/admin/instances/x", &m), ROOST_ERR_METHOD_NOT_ALLOWED);
    assert_true(roost_slice_eq_cstr(m.raw_key, "x"));
    /* only path[0..len) is the path */
    assert_roost_ok(roost_router_match(ROOST_METHOD_DELETE, roost_slice_make("/v1/admin/instances/ab/c", 22), &m));
    assert_true(roost_slice_eq_cstr(m.raw_key, "ab"));
    assert_roost_ok(roost_router_match(ROOST_METHOD_GET, roost_slice_make("/v1/admin/statsXYZ", 15), &m));
    assert_int_equal(m.route->id, ROOST_ROUTE_ADMIN_STATS);
}

static void test_router__admin_segments_after_id_not_found(void **state)
{
    (void)state;
    /* as for keys (DESIGN.md "A path with segments after ... matches no
     * route: 404 NOT_FOUND"): a raw '/' after the id is no id */
    static const char *const paths[] = { "/v1/admin/instances/a/b", "/v1/admin/instances/a/",
                                         "/v1/admin/instances//", "/v1/admin/instances//a",
                                         "/v1/admin/instances/a%2Fb/c", "/v1/admin/instances/a/keys",
                                         "/v1/admin/stats/a" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t k = 0; k < NMETHODS; k++) {
            struct roost_route_match m;
            enum roost_err err = match(all_methods[k], paths[i], &m);
            if (err != ROOST_ERR_NOT_FOUND)
                fail_msg("%s %s: %s, want NOT_FOUND", roost_http_method_name(all_methods[k]), paths[i],
                         roost_err_name(err));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router__routes_lists_all),
        cmocka_unit_test(test_router__route_methods),
        cmocka_unit_test(test_router__route_flags),
        cmocka_unit_test(test_router__every_route_every_method),
        cmocka_unit_test(test_router__head_wherever_get),
        cmocka_unit_test(test_router__cache_key_raw_slice),
        cmocka_unit_test(test_router__cache_key_named_like_routes),
        cmocka_unit_test(test_router__cache_key_empty),
        cmocka_unit_test(test_router__path_is_a_slice),
        cmocka_unit_test(test_router__segments_after_key_not_found),
        cmocka_unit_test(test_router__unknown_paths_not_found),
        cmocka_unit_test(test_router__batch_get_post_only),
        cmocka_unit_test(test_router__allow_text),
        cmocka_unit_test(test_router__allow_for_405_answers),
        cmocka_unit_test(test_router__admin_routes_table),
        cmocka_unit_test(test_router__admin_methods),
        cmocka_unit_test(test_router__admin_405_allow),
        cmocka_unit_test(test_router__allow_text_with_patch),
        cmocka_unit_test(test_router__admin_instance_raw_id),
        cmocka_unit_test(test_router__admin_segments_after_id_not_found),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
