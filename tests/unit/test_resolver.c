/*
 * test_resolver.c - lib/resolver.h: the resolution chain, the config
 * lookup (fresh cache, source, stale cache), the access rules, the
 * source-error mapping, the stampede guard and warm.
 *
 * Everything is real: a store in a temporary directory (testlib fixture),
 * the counters file in it, and a file:// config source over a second
 * temporary directory that each test fills with instances/, projects/ and
 * users/ JSON files. A source "failure" is a file holding invalid JSON (or
 * not a JSON object, or not a regular file), which config_source.c answers
 * CONFIG_SERVICE_UNAVAILABLE; a source "404" is a missing file. Tests run
 * as root, so unreadable files are checked only when not root. Time is
 * testlib's fake clock; only the stampede tests take real time: the
 * resolver's own bounded wait (ROOST_CONFIG_TIMEOUT_MS=100, so about a
 * second) and a child that stores its entry 40 ms into that wait.
 * "Another process" holding a refresh claim is a forked child with its own
 * store handle that stays alive until the test releases it.
 *
 * Counting model asserted here (resolver.c): hit = a fresh entry served
 * from the cache; miss = the source was asked; stale_hit = a stale entry
 * served (after a failed fetch: miss + stale_hit); eviction = an entry
 * purged when seen, or invalidated (config_cache.c counts those).
 *
 * Test organization
 *   group     what it checks                                     rule
 *   chain     explicit > project > user default > configured      spec "Resolution Flow" step 1;
 *             default (only with allow_default); MISSING_          resolver.h links 1-5; issue 6
 *             INSTANCE_ID when nothing was given; INVALID_CONTEXT  part 1
 *             for an unknown/invalid project mapping or a user
 *             record without a usable default; mappings cached
 *   nosource  registry origin, auto-create on/off, project ->     resolver.h "Without a config
 *             INVALID_CONTEXT, no user defaults                    source"; DESIGN.md settings
 *   config    fresh hit never reads the source; TTL boundary;     spec "Resolution Flow" steps 2-4,
 *             refetch; stale fallback (use_stale on/off); purge;   "TTL Behavior", "Stale Cache
 *             404 -> INSTANCE_NOT_FOUND and invalidation;          Fallback"; issue 6 part 2, 3
 *             status from the config; local fence; counters;
 *             another process's writes seen at once (memo)        README roostctl: "seen by the very
 *                                                                  next request on every worker"
 *   errors    source failure shapes -> CONFIG_SERVICE_UNAVAILABLE  spec "Error Handling"; config_
 *             and no local record made; 404 -> INSTANCE_NOT_FOUND  source.h fetch errors
 *   access    unowned open; REQUIRE_AUTH; owner (config or         spec "Access Control"; issue 6
 *             registry); others 403; admins by ROOST_ADMIN_USERS   part 5; DESIGN.md settings table
 *             or user record roles; anonymous on owned 403
 *   stampede  claim held elsewhere: stale served without the       issue 6 part 2 "must not
 *             source; no entry: bounded wait -> 503 or the         stampede"; config_cache.h
 *             claimant's entry; expired claim frees the entry      "Stampede guard"
 *   warm      fills the cache for the ids; failures counted        spec "warmCache"; resolver.h warm
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "config_cache.h"
#include "config_source.h"
#include "counters.h"
#include "error.h"
#include "instance.h"
#include "registry.h"
#include "resolver.h"
#include "settings.h"
#include "store.h"
#include "testlib.h"

#define T0 1735238400

/* Paths in the temporary directories are short. */
#define PATH_BUF 4096

/* The resolver waits for another worker's fetch at most about this long
 * (plus resolver.c's margin): small, so the stampede tests stay fast. */
#define TEST_TIMEOUT_MS "100"

struct var {
    const char *name;
    const char *value;
};

struct fx {
    void *store_state;                 /* testlib's store fixture */
    struct roost_store *st;
    const char *store_dir;
    char *src_dir;                     /* the file:// source's directory */
    char *src_url;
    struct roost_config_source *src;
    struct roost_counters *counters;
    struct roost_settings settings;
    int settings_loaded;
    struct roost_resolver r;
    int resolver_inited;
    struct roost_lookup_result res;    /* of the last resolve() */
};

/* ---- fixture ---------------------------------------------------------- */

struct settings_arg {
    struct fx *f;
    int with_source;
    const struct var *vars;
};

static const char *settings_lookup(void *arg, const char *name)
{
    const struct settings_arg *a = arg;
    for (const struct var *v = a->vars; v && v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v->value;
    if (strcmp(name, "ROOST_CONFIG_SOURCE") == 0)
        return a->with_source ? a->f->src_url : NULL;
    if (strcmp(name, "ROOST_CONFIG_TIMEOUT_MS") == 0)
        return TEST_TIMEOUT_MS;
    if (strcmp(name, "ROOST_STORE_DIR") == 0)
        return a->f->store_dir;
    return NULL;
}

/* (Re)loads the settings from vars (NULL-terminated; everything else at
 * its default, the timeout at TEST_TIMEOUT_MS) and re-initialises the
 * resolver, with the file:// source or with none (the local registry). */
static void configure(struct fx *f, int with_source, const struct var *vars)
{
    if (f->settings_loaded)
        roost_settings_release(&f->settings);
    struct roost_buf problems = ROOST_BUF_INIT;
    struct settings_arg arg = { f, with_source, vars };
    int n = roost_settings_load(&f->settings, settings_lookup, &arg, &problems);
    f->settings_loaded = 1;
    if (n)
        fail_msg("settings problems: %s", problems.ptr);
    roost_buf_release(&problems);
    if (f->resolver_inited)
        roost_resolver_release(&f->r);
    f->resolver_inited = 1;
    roost_resolver_init(&f->r, f->st, with_source ? f->src : NULL, f->counters, &f->settings,
                        roost_test_clock_now);
}

static int setup(void **state)
{
    roost_test_clock_set(T0);
    struct fx *f = roost_xcalloc(1, sizeof(*f));
    if (roost_test_store_setup(&f->store_state, "resolver") != 0) {
        free(f);
        return -1;
    }
    f->st = roost_test_store(&f->store_state);
    f->store_dir = roost_store_dir(f->st);
    f->src_dir = roost_test_tmpdir("resolver-src");
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "file://%s", f->src_dir);
    f->src_url = roost_buf_detach(&url, NULL);
    struct roost_buf detail = ROOST_BUF_INIT;
    if (roost_config_source_open(f->src_url, 100, &f->src, &detail) != ROOST_OK) {
        print_error("config source '%s': %s\n", f->src_url, detail.ptr);
        roost_buf_release(&detail);
        return -1;
    }
    roost_buf_release(&detail);
    if (roost_counters_open(f->store_dir, &f->counters) != ROOST_OK)
        return -1;
    roost_lookup_result_init(&f->res);
    configure(f, 1, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    roost_lookup_result_release(&f->res);
    if (f->resolver_inited)
        roost_resolver_release(&f->r);
    if (f->settings_loaded)
        roost_settings_release(&f->settings);
    roost_counters_close(f->counters);
    roost_config_source_close(f->src);
    roost_test_rmtree(f->src_dir);
    free(f->src_dir);
    free(f->src_url);
    roost_test_store_teardown(&f->store_state);
    free(f);
    return 0;
}

/* ---- the config source's files ---------------------------------------- */

static void doc_path(struct fx *f, const char *collection, const char *id, char *out, size_t n)
{
    if (snprintf(out, n, "%s/%s", f->src_dir, collection) >= (int)n)
        fail_msg("path too long");
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", out, strerror(errno));
    if (snprintf(out, n, "%s/%s/%s.json", f->src_dir, collection, id) >= (int)n)
        fail_msg("path too long");
}

/* Writes {src}/{collection}/{id}.json (replaced whole, by rename). */
static void put_doc(struct fx *f, const char *collection, const char *id, const char *text)
{
    char path[PATH_BUF], tmp[PATH_BUF + 8];
    doc_path(f, collection, id, path, sizeof(path));
    if (snprintf(tmp, sizeof(tmp), "%s.tmp~", path) >= (int)sizeof(tmp))
        fail_msg("path too long");
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        fail_msg("fopen %s: %s", tmp, strerror(errno));
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* The source answers 404 for it from now on. */
static void del_doc(struct fx *f, const char *collection, const char *id)
{
    char path[PATH_BUF];
    doc_path(f, collection, id, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
}

/* A source failure for this document: invalid JSON (root reads anything,
 * so permissions cannot make it fail). */
static void break_doc(struct fx *f, const char *collection, const char *id)
{
    put_doc(f, collection, id, "{\"status\": \"active\", \"owner_id\": ");
}

/* ---- resolving --------------------------------------------------------- */

/* Resolves with the given context (NULL: not given) into f->res. */
static enum roost_err resolve(struct fx *f, const char *instance, const char *project, const char *user,
                              int allow_default)
{
    struct roost_lookup_context ctx = { 0 };
    ctx.instance_id = roost_slice_cstr(instance);
    ctx.project_id = roost_slice_cstr(project);
    ctx.user_id = roost_slice_cstr(user);
    ctx.request_id = roost_slice_cstr("req-test-1");
    ctx.allow_default = allow_default;
    roost_lookup_result_release(&f->res);
    return roost_resolver_resolve(&f->r, &ctx, &f->res);
}

/* A string member of the last result's config, or NULL. */
static const char *res_str(struct fx *f, const char *name)
{
    struct json_object *v;
    if (!f->res.config || !json_object_object_get_ex(f->res.config, name, &v)
        || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

#define assert_origin(f, want) \
    assert_string_equal(roost_config_origin_name((f)->res.origin), (want))

#define assert_marker(f, want) assert_string_equal(res_str((f), "marker") ? res_str((f), "marker") : "(none)", (want))

static void check_counters(struct fx *f, uint64_t hits, uint64_t misses, uint64_t stale, uint64_t evictions,
                           const char *file, int line)
{
    uint64_t h = roost_counters_get(f->counters, ROOST_COUNTER_HITS);
    uint64_t m = roost_counters_get(f->counters, ROOST_COUNTER_MISSES);
    uint64_t s = roost_counters_get(f->counters, ROOST_COUNTER_STALE_HITS);
    uint64_t e = roost_counters_get(f->counters, ROOST_COUNTER_EVICTIONS);
    if (h != hits || m != misses || s != stale || e != evictions) {
        print_error("counters hits=%llu misses=%llu stale_hits=%llu evictions=%llu, "
                    "expected %llu %llu %llu %llu\n",
                    (unsigned long long)h, (unsigned long long)m, (unsigned long long)s,
                    (unsigned long long)e, (unsigned long long)hits, (unsigned long long)misses,
                    (unsigned long long)stale, (unsigned long long)evictions);
        _fail(file, line);
    }
}
#define assert_counters(f, h, m, s, e) check_counters((f), (h), (m), (s), (e), __FILE__, __LINE__)

static struct roost_config_cache cache_of(struct fx *f, struct roost_store *st)
{
    struct roost_config_cache c = { 0 };
    c.store = st;
    c.counters = NULL;
    c.ttl = f->settings.config_ttl;
    c.stale_max = f->settings.config_stale_max;
    c.now = roost_test_clock_now;
    return c;
}

/* The cached entry of (collection, id), straight from the cache. */
static enum roost_err cached(struct fx *f, const char *collection, const char *id)
{
    struct roost_config_cache c = cache_of(f, f->st);
    struct roost_config_entry e = { 0 };
    enum roost_err err = roost_config_cache_get(&c, collection, roost_slice_cstr(id), &e);
    roost_config_entry_release(&e);
    return err;
}

/* ---- chain --------------------------------------------------------------- */

static void test_resolver__chain_explicit_wins(void **state)
{
    struct fx *f = *state;
    /* spec "Resolution Flow" 1: "Check context.instance_id (from
     * X-Instance-ID header)" first; project and user come only after. The
     * project and user records are broken: consulting them would fail. */
    put_doc(f, "instances", "inst-x", "{\"marker\": \"x\"}");
    put_doc(f, "instances", "inst-p", "{\"marker\": \"p\"}");
    put_doc(f, "instances", "inst-u", "{\"marker\": \"u\"}");
    break_doc(f, "projects", "proj-1");
    break_doc(f, "users", "alice");
    assert_roost_ok(resolve(f, "inst-x", "proj-1", "alice", 1));
    assert_string_equal(f->res.instance_id, "inst-x");
    assert_int_equal(f->res.link, ROOST_LINK_EXPLICIT);
    assert_marker(f, "x");
    /* only instances/inst-x was asked for */
    assert_counters(f, 0, 1, 0, 0);
}

static void test_resolver__chain_project_over_user_default(void **state)
{
    struct fx *f = *state;
    /* spec "Resolution Flow" 1: "Fallback to context.project_id mapping",
     * then "Fallback to context.user.default_instance_id"; issue 6 part 1:
     * mapping held by the source at /projects/{id}. */
    put_doc(f, "projects", "proj-1", "{\"instance_id\": \"inst-p\"}");
    put_doc(f, "instances", "inst-p", "{\"marker\": \"p\"}");
    put_doc(f, "instances", "inst-u", "{\"marker\": \"u\"}");
    break_doc(f, "users", "alice");  /* the user default is never consulted */
    assert_roost_ok(resolve(f, NULL, "proj-1", "alice", 1));
    assert_string_equal(f->res.instance_id, "inst-p");
    assert_int_equal(f->res.link, ROOST_LINK_PROJECT);
    assert_marker(f, "p");
}

static void test_resolver__chain_user_default(void **state)
{
    struct fx *f = *state;
    /* spec "Resolution Flow" 1: "Fallback to context.user.default_instance_id";
     * issue 6: "default_instance_id of the user, from the config source at
     * /users/{id}" - and it wins over the configured default. */
    put_doc(f, "users", "alice", "{\"default_instance_id\": \"inst-u\"}");
    put_doc(f, "instances", "inst-u", "{\"marker\": \"u\"}");
    put_doc(f, "instances", "default", "{\"marker\": \"configured\"}");
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 1));
    assert_string_equal(f->res.instance_id, "inst-u");
    assert_int_equal(f->res.link, ROOST_LINK_USER_DEFAULT);
    assert_marker(f, "u");
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 0));
    assert_string_equal(f->res.instance_id, "inst-u");
}

static void test_resolver__chain_configured_default_only_when_allowed(void **state)
{
    struct fx *f = *state;
    /* resolver.h link 4: "the configured default instance
     * (ROOST_DEFAULT_INSTANCE), only on routes that allow it". */
    const struct var vars[] = { { "ROOST_DEFAULT_INSTANCE", "fallback-1" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "fallback-1", "{\"marker\": \"configured\"}");
    assert_roost_ok(resolve(f, NULL, NULL, NULL, 1));
    assert_string_equal(f->res.instance_id, "fallback-1");
    assert_int_equal(f->res.link, ROOST_LINK_CONFIGURED_DEFAULT);
    assert_marker(f, "configured");
    /* a user with no record at the source: nothing from link 3 */
    assert_roost_ok(resolve(f, NULL, NULL, "nobody", 1));
    assert_string_equal(f->res.instance_id, "fallback-1");
    /* a user record without a default falls to link 4 when allowed */
    put_doc(f, "users", "carol", "{\"roles\": []}");
    assert_roost_ok(resolve(f, NULL, NULL, "carol", 1));
    assert_string_equal(f->res.instance_id, "fallback-1");
    assert_int_equal(f->res.link, ROOST_LINK_CONFIGURED_DEFAULT);
}

static void test_resolver__chain_nothing_is_missing_instance_id(void **state)
{
    struct fx *f = *state;
    /* spec "Resolution Flow" 1: "Error if no ID found"; issue 6: "keep the
     * spec's MISSING_INSTANCE_ID when nothing at all was given". */
    put_doc(f, "instances", "default", "{}");
    assert_roost_err(resolve(f, NULL, NULL, NULL, 0), ROOST_ERR_MISSING_INSTANCE_ID);
    /* a user the source has no record of gave nothing to go on either */
    assert_roost_err(resolve(f, NULL, NULL, "nobody", 0), ROOST_ERR_MISSING_INSTANCE_ID);
}

static void test_resolver__chain_unknown_project_is_invalid_context(void **state)
{
    struct fx *f = *state;
    /* resolver.h link 5: "INVALID_CONTEXT when a project was named but maps
     * to no instance" - and it does not fall through to the user default. */
    put_doc(f, "users", "alice", "{\"default_instance_id\": \"inst-u\"}");
    put_doc(f, "instances", "inst-u", "{}");
    put_doc(f, "instances", "default", "{}");
    assert_roost_err(resolve(f, NULL, "no-such-project", "alice", 1), ROOST_ERR_INVALID_CONTEXT);
    assert_int_equal(f->res.link, ROOST_LINK_PROJECT);
}

static void test_resolver__chain_invalid_project_mapping_is_invalid_context(void **state)
{
    struct fx *f = *state;
    /* resolver.h link 2: the record is {"instance_id": "..."}; anything
     * else maps to no instance -> INVALID_CONTEXT. */
    static const char *const bad[] = {
        "{}",
        "{\"instance_id\": \"\"}",
        "{\"instance_id\": \"has space\"}",
        "{\"instance_id\": \"a/b\"}",
        "{\"instance_id\": 42}",
        "{\"instance_id\": null}",
        "{\"instance_id\": [\"inst-1\"]}",
        "{\"instance_id\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", /* 65 */
    };
    put_doc(f, "instances", "inst-1", "{}");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "proj-%zu", i);
        put_doc(f, "projects", id, bad[i]);
        enum roost_err err = resolve(f, NULL, id, NULL, 1);
        if (err != ROOST_ERR_INVALID_CONTEXT)
            fail_msg("project record %s: %s, expected INVALID_CONTEXT", bad[i], roost_err_name(err));
    }
    /* a valid mapping to an instance the source does not know: 404 */
    put_doc(f, "projects", "proj-gone", "{\"instance_id\": \"inst-gone\"}");
    assert_roost_err(resolve(f, NULL, "proj-gone", NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    /* the project record cannot be read: the source failed, not the context */
    break_doc(f, "projects", "proj-broken");
    assert_roost_err(resolve(f, NULL, "proj-broken", NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
}

static void test_resolver__chain_user_without_default_is_invalid_context(void **state)
{
    struct fx *f = *state;
    /* resolver.h link 5: "INVALID_CONTEXT ... the user's record names no
     * usable default instance" (when link 4 is not allowed). */
    put_doc(f, "instances", "default", "{}");
    put_doc(f, "users", "carol", "{\"roles\": [\"user\"]}");
    assert_roost_err(resolve(f, NULL, NULL, "carol", 0), ROOST_ERR_INVALID_CONTEXT);
    put_doc(f, "users", "dave", "{\"default_instance_id\": \"not valid!\"}");
    assert_roost_err(resolve(f, NULL, NULL, "dave", 0), ROOST_ERR_INVALID_CONTEXT);
    put_doc(f, "users", "erin", "{\"default_instance_id\": 7}");
    assert_roost_err(resolve(f, NULL, NULL, "erin", 0), ROOST_ERR_INVALID_CONTEXT);
    /* a user record the source cannot give: 503, not a guess */
    break_doc(f, "users", "frank");
    assert_roost_err(resolve(f, NULL, NULL, "frank", 1), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    /* the user default names an instance the source does not know */
    put_doc(f, "users", "gina", "{\"default_instance_id\": \"inst-gone\"}");
    assert_roost_err(resolve(f, NULL, NULL, "gina", 1), ROOST_ERR_INSTANCE_NOT_FOUND);
}

static void test_resolver__chain_mappings_are_cached(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 1: project mapping and user record "cached like configs" */
    put_doc(f, "instances", "inst-a", "{}");
    put_doc(f, "instances", "inst-b", "{}");
    put_doc(f, "projects", "proj-1", "{\"instance_id\": \"inst-a\"}");
    put_doc(f, "users", "alice", "{\"default_instance_id\": \"inst-a\"}");
    assert_roost_ok(resolve(f, NULL, "proj-1", NULL, 0));
    assert_string_equal(f->res.instance_id, "inst-a");
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 0));
    assert_string_equal(f->res.instance_id, "inst-a");
    put_doc(f, "projects", "proj-1", "{\"instance_id\": \"inst-b\"}");
    put_doc(f, "users", "alice", "{\"default_instance_id\": \"inst-b\"}");
    roost_test_clock_advance(299);
    assert_roost_ok(resolve(f, NULL, "proj-1", NULL, 0));
    assert_string_equal(f->res.instance_id, "inst-a");
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 0));
    assert_string_equal(f->res.instance_id, "inst-a");
    roost_test_clock_advance(1);
    assert_roost_ok(resolve(f, NULL, "proj-1", NULL, 0));
    assert_string_equal(f->res.instance_id, "inst-b");
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 0));
    assert_string_equal(f->res.instance_id, "inst-b");
}

/* ---- without a source ---------------------------------------------------- */

static void test_resolver__nosource_registry_auto_create(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 3: "No source configured -> the local registry of the
     * previous issue is the source (auto-create as now)"; origin "registry". */
    configure(f, 0, NULL);
    assert_roost_ok(resolve(f, "fresh-1", NULL, NULL, 0));
    assert_string_equal(f->res.instance_id, "fresh-1");
    assert_origin(f, "registry");
    assert_int_equal(f->res.status, ROOST_INSTANCE_ACTIVE);
    assert_null(f->res.config);
    assert_int_equal(f->res.owner.len, 0);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(f->st, roost_slice_cstr("fresh-1"), &inst));
    roost_instance_release(&inst);
    /* the registry's own state is what is reported */
    assert_roost_ok(roost_registry_set_status(f->st, roost_slice_cstr("fresh-1"), ROOST_INSTANCE_PAUSED));
    assert_roost_ok(resolve(f, "fresh-1", NULL, NULL, 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_PAUSED);
    /* no cache in play without a source */
    assert_counters(f, 0, 0, 0, 0);
}

static void test_resolver__nosource_auto_create_off_is_not_found(void **state)
{
    struct fx *f = *state;
    /* DESIGN.md: ROOST_AUTO_CREATE "0: 404 INSTANCE_NOT_FOUND" */
    const struct var vars[] = { { "ROOST_AUTO_CREATE", "0" }, { NULL, NULL } };
    configure(f, 0, vars);
    assert_roost_err(resolve(f, "unknown-1", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(f->st, roost_slice_cstr("unknown-1"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
}

static void test_resolver__nosource_project_is_invalid_context(void **state)
{
    struct fx *f = *state;
    /* resolver.h: "Without a config source ... a project id is then
     * INVALID_CONTEXT, and users have no default instance." Files in the
     * source directory must not matter. */
    configure(f, 0, NULL);
    put_doc(f, "projects", "proj-1", "{\"instance_id\": \"inst-1\"}");
    put_doc(f, "users", "alice", "{\"default_instance_id\": \"inst-1\"}");
    assert_roost_err(resolve(f, NULL, "proj-1", "alice", 1), ROOST_ERR_INVALID_CONTEXT);
    assert_roost_err(resolve(f, NULL, NULL, "alice", 0), ROOST_ERR_MISSING_INSTANCE_ID);
    assert_roost_ok(resolve(f, NULL, NULL, "alice", 1));
    assert_string_equal(f->res.instance_id, "default");
    assert_int_equal(f->res.link, ROOST_LINK_CONFIGURED_DEFAULT);
    assert_origin(f, "registry");
}

/* ---- config: cache, source, stale ---------------------------------------- */

static void test_resolver__config_fresh_hit_skips_source(void **state)
{
    struct fx *f = *state;
    /* spec "Resolution Flow" 2: "If found and fresh (within TTL): return
     * immediately"; issue 6: "Fresh from 0 to TTL ... served without
     * touching the source". */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v1");
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_OK);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "v1");
    /* a broken or vanished source file is not noticed while fresh */
    break_doc(f, "instances", "inst-a");
    roost_test_clock_advance(150);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    del_doc(f, "instances", "inst-a");
    roost_test_clock_advance(149);           /* age 299 = TTL - 1: fresh */
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "v1");
    assert_counters(f, 3, 1, 0, 0);
}

static void test_resolver__config_expired_refetches(void **state)
{
    struct fx *f = *state;
    /* spec "TTL Behavior": "Expired: 300+ seconds"; "If expired: proceed to
     * step 3" (fetch, "Cache result with TTL"). */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    roost_test_clock_advance(300);           /* age = TTL: expired */
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v2");
    /* re-cached: fresh again from now */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v3\"}");
    roost_test_clock_advance(299);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "v2");
    assert_counters(f, 1, 2, 0, 0);
    /* the configured TTL, not the spec's default, decides */
    const struct var vars[] = { { "ROOST_CONFIG_TTL", "10" }, { NULL, NULL } };
    configure(f, 1, vars);
    roost_test_clock_advance(1);             /* age 300 of the v2 entry cached with ttl 300 */
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v3");
    roost_test_clock_advance(9);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    roost_test_clock_advance(1);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v4\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v4");
}

static void test_resolver__config_stale_served_when_source_fails(void **state)
{
    struct fx *f = *state;
    /* spec "Stale Cache Fallback": "Config Service error triggers stale
     * cache lookup. Returns stale data if within grace period. Marks result
     * with source: 'stale_cache'". */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    break_doc(f, "instances", "inst-a");
    roost_test_clock_advance(300);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "stale_cache");
    assert_marker(f, "v1");
    /* up to the last second of the grace period (3599 s after caching) */
    roost_test_clock_advance(3599 - 300);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "stale_cache");
    assert_marker(f, "v1");
    assert_counters(f, 0, 3, 2, 0);
    /* the failed fetch left no claim behind: the next request asks the
     * source again, and a good answer replaces the stale entry */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v2");
    assert_counters(f, 0, 4, 2, 0);
}

static void test_resolver__config_no_stale_when_use_stale_off(void **state)
{
    struct fx *f = *state;
    /* spec "Stale Cache Fallback": "When use_stale_on_error: true"; issue 6:
     * "stale ... usable only as a fallback when the source fails and
     * ROOST_CONFIG_USE_STALE is on"; else 503. */
    const struct var vars[] = { { "ROOST_CONFIG_USE_STALE", "0" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    break_doc(f, "instances", "inst-a");
    roost_test_clock_advance(300);
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 0, 2, 0, 0);
    /* the entry is still there (the source failing is no reason to drop it) */
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_OK);
}

static void test_resolver__config_source_fails_without_entry_is_503(void **state)
{
    struct fx *f = *state;
    /* spec "Error Handling" 4: "If no fallback available: throw 503" */
    break_doc(f, "instances", "inst-a");
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_ERR_KEY_NOT_FOUND);
    assert_counters(f, 0, 1, 0, 0);
    /* no claim left behind: fixed at the source, served at once */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
}

static void test_resolver__config_purged_never_served(void **state)
{
    struct fx *f = *state;
    /* spec "TTL Behavior": "Purged: 3600+ seconds"; issue 6: "an entry past
     * it is never served, and is removed". Counted as an eviction. */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    break_doc(f, "instances", "inst-a");
    roost_test_clock_advance(3600);
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 0, 2, 0, 1);
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_ERR_KEY_NOT_FOUND);
    /* and it stays gone: the next failure has nothing to fall back on */
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 0, 3, 0, 1);
    /* ROOST_CONFIG_STALE_MAX decides the purge, not the spec's figure */
    const struct var vars[] = { { "ROOST_CONFIG_STALE_MAX", "600" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "inst-b", "{\"marker\": \"b1\"}");
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    break_doc(f, "instances", "inst-b");
    roost_test_clock_advance(599);
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    assert_origin(f, "stale_cache");
    roost_test_clock_advance(1);
    assert_roost_err(resolve(f, "inst-b", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 0, 6, 1, 2);
}

static void test_resolver__config_source_404_invalidates(void **state)
{
    struct fx *f = *state;
    /* spec "Error Handling" 4: "If instance not found: throw 404"; a stale
     * copy must not keep a deleted instance alive (resolver.c), nor be
     * served later when the source fails. */
    assert_roost_err(resolve(f, "inst-none", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_counters(f, 0, 1, 0, 0);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    del_doc(f, "instances", "inst-a");
    roost_test_clock_advance(300);
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_ERR_KEY_NOT_FOUND);
    assert_counters(f, 0, 3, 0, 1);
    break_doc(f, "instances", "inst-a");
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    /* a 404 of a fresh entry is not seen at all: the source is not asked */
    put_doc(f, "instances", "inst-b", "{\"marker\": \"b1\"}");
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    del_doc(f, "instances", "inst-b");
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    assert_origin(f, "cache");
}

static void test_resolver__config_status_from_config(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 3: "status from the config governs state enforcement";
     * resolver.c: absent means active, an unknown name is not served. */
    static const struct {
        const char *doc;
        enum roost_instance_status want;
    } cases[] = {
        { "{}", ROOST_INSTANCE_ACTIVE },
        { "{\"status\": \"active\"}", ROOST_INSTANCE_ACTIVE },
        { "{\"status\": \"paused\"}", ROOST_INSTANCE_PAUSED },
        { "{\"status\": \"inactive\"}", ROOST_INSTANCE_INACTIVE },
        { "{\"status\": \"migrating\"}", ROOST_INSTANCE_MIGRATING },
        { "{\"status\": \"deleting\"}", ROOST_INSTANCE_DELETING },
        { "{\"status\": \"frozen\"}", ROOST_INSTANCE_INACTIVE },
        { "{\"status\": \"\"}", ROOST_INSTANCE_INACTIVE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "inst-%zu", i);
        put_doc(f, "instances", id, cases[i].doc);
        assert_roost_ok(resolve(f, id, NULL, NULL, 0));
        if (f->res.status != cases[i].want)
            fail_msg("config %s: status %s, expected %s", cases[i].doc,
                     roost_instance_status_name(f->res.status), roost_instance_status_name(cases[i].want));
        /* served from the cache, the same answer */
        assert_roost_ok(resolve(f, id, NULL, NULL, 0));
        assert_origin(f, "cache");
        assert_int_equal(f->res.status, cases[i].want);
    }
}

static void test_resolver__config_non_string_status_not_served(void **state)
{
    struct fx *f = *state;
    /* resolver.c config_status: "an unknown name is not served". A status
     * that is present but not a string names no state either; treating it
     * as absent (active) would serve an instance the source tried to stop. */
    static const char *const docs[] = {
        "{\"status\": 1}",
        "{\"status\": null}",
        "{\"status\": {\"name\": \"paused\"}}",
        "{\"status\": [\"paused\"]}",
        "{\"status\": false}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "odd-%zu", i);
        put_doc(f, "instances", id, docs[i]);
        assert_roost_ok(resolve(f, id, NULL, NULL, 0));
        if (roost_instance_servable(f->res.status) == ROOST_OK)
            fail_msg("config %s is served as %s", docs[i], roost_instance_status_name(f->res.status));
    }
}

static void test_resolver__config_local_fence_overrides(void **state)
{
    struct fx *f = *state;
    /* resolver.c: "An operator's local fence (admin API, roostctl) holds
     * whatever the source says"; DESIGN.md "any of the five states from any
     * state". The instance known to the source gets a local record. */
    put_doc(f, "instances", "inst-a", "{\"status\": \"active\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_ACTIVE);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(f->st, roost_slice_cstr("inst-a"), &inst));
    roost_instance_release(&inst);
    assert_roost_ok(roost_registry_set_status(f->st, roost_slice_cstr("inst-a"), ROOST_INSTANCE_PAUSED));
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_int_equal(f->res.status, ROOST_INSTANCE_PAUSED);
    assert_roost_ok(roost_registry_set_status(f->st, roost_slice_cstr("inst-a"), ROOST_INSTANCE_DELETING));
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_DELETING);
    /* a servable local state does not revive a config that stops it */
    put_doc(f, "instances", "inst-b", "{\"status\": \"paused\"}");
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    assert_roost_ok(roost_registry_set_status(f->st, roost_slice_cstr("inst-b"), ROOST_INSTANCE_MIGRATING));
    assert_roost_ok(resolve(f, "inst-b", NULL, NULL, 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_PAUSED);
    /* nor a locally migrating record override an active config's state */
    put_doc(f, "instances", "inst-c", "{}");
    assert_roost_ok(resolve(f, "inst-c", NULL, NULL, 0));
    assert_roost_ok(roost_registry_set_status(f->st, roost_slice_cstr("inst-c"), ROOST_INSTANCE_MIGRATING));
    assert_roost_ok(resolve(f, "inst-c", NULL, NULL, 0));
    assert_int_equal(roost_instance_servable(f->res.status), ROOST_OK);
}

static void test_resolver__config_fields_kept(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 3: "The config's fields (status, owner_id, quota,
     * rate_limits, worker_urls, api_keys, arbitrary extra fields) are kept" -
     * from the source and from the cache alike. */
    const char *doc = "{\"status\": \"active\", \"owner_id\": \"alice\", "
                      "\"quota\": {\"memory_bytes\": 8589934592}, "
                      "\"rate_limits\": {\"ideogram\": {\"rpm\": 60}}, "
                      "\"worker_urls\": {\"image_gen\": \"http://127.0.0.1:9001\"}, "
                      "\"api_keys\": {\"ideogram\": \"k-1\"}, "
                      "\"extra\": {\"kept\": true, \"list\": [1, 2, 3]}}";
    put_doc(f, "instances", "inst-1", doc);
    struct json_object *want = json_tokener_parse(doc);
    assert_non_null(want);
    for (int pass = 0; pass < 2; pass++) {
        assert_roost_ok(resolve(f, "inst-1", NULL, "alice", 0));
        assert_origin(f, pass ? "cache" : "source");
        assert_true(json_object_equal(f->res.config, want));
        assert_true(roost_slice_eq_cstr(roost_buf_slice(&f->res.owner), "alice"));
    }
    json_object_put(want);
}

static void test_resolver__config_counters_add_up(void **state)
{
    struct fx *f = *state;
    /* spec "Cache Hit Ratio": hits, misses, stale_hits, evictions; counted
     * across all workers (the shared counters file). A scripted sequence,
     * checked after every step (see the counting model at the top). */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* source */
    assert_counters(f, 0, 1, 0, 0);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* cache */
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* cache */
    assert_counters(f, 2, 1, 0, 0);
    roost_test_clock_advance(300);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* expired: source */
    assert_origin(f, "source");
    assert_counters(f, 2, 2, 0, 0);
    roost_test_clock_advance(300);
    break_doc(f, "instances", "inst-a");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* stale fallback */
    assert_origin(f, "stale_cache");
    assert_counters(f, 2, 3, 1, 0);
    roost_test_clock_advance(3300);                                     /* 3600 after caching */
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 2, 4, 1, 1);                                     /* purged + asked */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));               /* source */
    assert_counters(f, 2, 5, 1, 1);
    del_doc(f, "instances", "inst-a");
    roost_test_clock_advance(300);
    assert_roost_err(resolve(f, "inst-a", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_counters(f, 2, 6, 1, 2);                                     /* 404 invalidated it */
    assert_roost_err(resolve(f, "inst-b", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_counters(f, 2, 7, 1, 2);
    /* another process's counters file view sees the same figures */
    struct roost_counters *other = NULL;
    assert_roost_ok(roost_counters_open(f->store_dir, &other));
    assert_int_equal(roost_counters_get(other, ROOST_COUNTER_HITS), 2);
    assert_int_equal(roost_counters_get(other, ROOST_COUNTER_MISSES), 7);
    assert_int_equal(roost_counters_get(other, ROOST_COUNTER_STALE_HITS), 1);
    assert_int_equal(roost_counters_get(other, ROOST_COUNTER_EVICTIONS), 2);
    roost_counters_close(other);
}

/* What another process (roostctl, another worker) does to the store, run
 * in a forked child with its own store handle. */
enum other_op {
    OTHER_SET_PAUSED,        /* roostctl set-status ID paused */
    OTHER_INVALIDATE,        /* roostctl invalidate ID */
    OTHER_PUT_MARKER_OTHER,  /* another worker cached {"marker": "other"} */
    OTHER_OWNER_BOB,         /* roostctl / admin API: owner -> bob */
    OTHER_INVALIDATE_ALL,    /* roostctl invalidate-all */
};

static void in_other_process(struct fx *f, enum other_op op, const char *id)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct roost_store *st = NULL;
        if (roost_store_open(f->store_dir, &st) != ROOST_OK)
            _exit(21);
        struct roost_config_cache c = cache_of(f, st);
        struct roost_slice sid = roost_slice_cstr(id);
        enum roost_err err = ROOST_OK;
        switch (op) {
        case OTHER_SET_PAUSED:
            err = roost_registry_set_status(st, sid, ROOST_INSTANCE_PAUSED);
            break;
        case OTHER_INVALIDATE:
            err = roost_config_cache_invalidate(&c, "instances", sid);
            break;
        case OTHER_PUT_MARKER_OTHER: {
            struct json_object *doc = json_tokener_parse("{\"marker\": \"other\"}");
            err = roost_config_cache_put(&c, "instances", sid, doc);
            json_object_put(doc);
            break;
        }
        case OTHER_OWNER_BOB: {
            struct json_object *patch = json_tokener_parse("{\"owner\": \"bob\"}");
            struct roost_instance inst;
            roost_instance_init(&inst);
            err = roost_registry_update(st, sid, patch, &inst, NULL);
            roost_instance_release(&inst);
            json_object_put(patch);
            break;
        }
        case OTHER_INVALIDATE_ALL:
            err = roost_config_cache_invalidate_all(&c, NULL);
            break;
        }
        roost_store_close(st);
        _exit(err ? 30 : 0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Resolves id until it is served from the cache twice in a row, so that
 * whatever this process remembers of it is in play. */
static void warm_up(struct fx *f, const char *id, const char *user)
{
    for (int i = 0; i < 3; i++)
        assert_roost_ok(resolve(f, id, NULL, user, 0));
    assert_origin(f, "cache");
}

static void test_resolver__config_other_process_changes_seen(void **state)
{
    struct fx *f = *state;
    /* README "roostctl": "a change it makes is seen by the very next
     * request on every worker"; issue 6 part 6: invalidate one, invalidate
     * all. Whatever a worker keeps of a config or record between requests
     * must give way at once to another process's write. */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    warm_up(f, "inst-a", NULL);
    assert_int_equal(f->res.status, ROOST_INSTANCE_ACTIVE);
    /* a local fence set by roostctl */
    in_other_process(f, OTHER_SET_PAUSED, "inst-a");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_PAUSED);
    /* an entry another worker refreshed */
    warm_up(f, "inst-a", NULL);
    in_other_process(f, OTHER_PUT_MARKER_OTHER, "inst-a");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "other");
    /* an entry invalidated elsewhere: fetched again, from a changed source */
    warm_up(f, "inst-a", NULL);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    in_other_process(f, OTHER_INVALIDATE, "inst-a");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v2");
    warm_up(f, "inst-a", NULL);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v3\"}");
    in_other_process(f, OTHER_INVALIDATE_ALL, "inst-a");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v3");
    /* the same process invalidating through the resolver's own cache */
    warm_up(f, "inst-a", NULL);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v4\"}");
    assert_roost_ok(roost_config_cache_invalidate(&f->r.cache, "instances", roost_slice_cstr("inst-a")));
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v4");
    /* without a source: the record's owner changed by roostctl */
    configure(f, 0, NULL);
    struct json_object *fields = json_tokener_parse("{\"id\": \"local-1\", \"owner\": \"alice\"}");
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_create(f->st, fields, roost_test_clock_now(), &inst, NULL));
    roost_instance_release(&inst);
    json_object_put(fields);
    for (int i = 0; i < 3; i++)
        assert_roost_ok(resolve(f, "local-1", NULL, "alice", 0));
    in_other_process(f, OTHER_OWNER_BOB, "local-1");
    assert_roost_err(resolve(f, "local-1", NULL, "alice", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_ok(resolve(f, "local-1", NULL, "bob", 0));
    in_other_process(f, OTHER_SET_PAUSED, "local-1");
    assert_roost_ok(resolve(f, "local-1", NULL, "bob", 0));
    assert_int_equal(f->res.status, ROOST_INSTANCE_PAUSED);
}

static void test_resolver__config_remembered_config_expires(void **state)
{
    struct fx *f = *state;
    /* spec "TTL Behavior": fresh 0-300 s, then refetched - also for a
     * config this process has served from the cache several times. */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    warm_up(f, "inst-a", NULL);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    roost_test_clock_advance(299);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "v1");
    roost_test_clock_advance(1);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v2");
    /* and the stale fallback still works for a remembered config */
    warm_up(f, "inst-a", NULL);
    break_doc(f, "instances", "inst-a");
    roost_test_clock_advance(300);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "stale_cache");
    assert_marker(f, "v2");
    /* a clock set back: an entry stamped in the future counts as stale
     * (config_cache.h), remembered or not */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v3\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    warm_up(f, "inst-a", NULL);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v4\"}");
    roost_test_clock_advance(-10);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v4");
}

/* ---- source errors ------------------------------------------------------- */

static void test_resolver__errors_source_failures_are_503(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 3: "5xx, timeout, refused connection, invalid JSON ->
     * stale if allowed ..., else 503 CONFIG_SERVICE_UNAVAILABLE"; config_
     * source.h: "not a JSON object" too. A failure creates no local record. */
    static const char *const docs[] = {
        "{\"status\": ",        /* truncated */
        "",                     /* empty */
        "[1, 2]",               /* not an object */
        "null",
        "\"inst\"",
        "{} trailing",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "bad-%zu", i);
        put_doc(f, "instances", id, docs[i]);
        enum roost_err err = resolve(f, id, NULL, NULL, 0);
        if (err != ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE)
            fail_msg("source file '%s': %s, expected CONFIG_SERVICE_UNAVAILABLE", docs[i],
                     roost_err_name(err));
        struct roost_instance inst;
        roost_instance_init(&inst);
        assert_roost_err(roost_registry_get(f->st, roost_slice_cstr(id), &inst),
                         ROOST_ERR_INSTANCE_NOT_FOUND);
        roost_instance_release(&inst);
    }
    /* not a regular file */
    char path[PATH_BUF];
    doc_path(f, "instances", "a-dir", path, sizeof(path));
    assert_int_equal(mkdir(path, 0755), 0);
    assert_roost_err(resolve(f, "a-dir", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
}

static void test_resolver__errors_unreadable_file_is_503(void **state)
{
    struct fx *f = *state;
    /* config_source.c: "errno tells a missing file (404) from an unreadable
     * one (503)". Root reads anything: only checkable as another user. */
    if (geteuid() == 0)
        skip();
    put_doc(f, "instances", "locked", "{}");
    char path[PATH_BUF];
    doc_path(f, "instances", "locked", path, sizeof(path));
    assert_int_equal(chmod(path, 0), 0);
    assert_roost_err(resolve(f, "locked", NULL, NULL, 0), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
}

static void test_resolver__errors_source_404_is_instance_not_found(void **state)
{
    struct fx *f = *state;
    /* spec "Error Handling": INSTANCE_NOT_FOUND -> 404; no local record is
     * made for an instance the source does not know, and nothing cached. */
    assert_roost_err(resolve(f, "inst-none", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(f->st, roost_slice_cstr("inst-none"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
    assert_int_equal(cached(f, "instances", "inst-none"), ROOST_ERR_KEY_NOT_FOUND);
    /* with a source, ROOST_AUTO_CREATE does not invent it either */
    const struct var vars[] = { { "ROOST_AUTO_CREATE", "1" }, { NULL, NULL } };
    configure(f, 1, vars);
    assert_roost_err(resolve(f, "inst-none", NULL, NULL, 0), ROOST_ERR_INSTANCE_NOT_FOUND);
}

/* ---- access -------------------------------------------------------------- */

static void test_resolver__access_unowned_is_open(void **state)
{
    struct fx *f = *state;
    /* resolver.h: "Instances without an owner are open, unless
     * ROOST_REQUIRE_AUTH"; issue 6 part 5. */
    put_doc(f, "instances", "open-1", "{}");
    assert_roost_ok(resolve(f, "open-1", NULL, NULL, 0));
    assert_roost_ok(resolve(f, "open-1", NULL, "anyone", 0));
    put_doc(f, "instances", "open-2", "{\"owner_id\": \"\"}");
    assert_roost_ok(resolve(f, "open-2", NULL, NULL, 0));
}

static void test_resolver__access_require_auth(void **state)
{
    struct fx *f = *state;
    /* DESIGN.md: ROOST_REQUIRE_AUTH "1: anonymous requests to owned or
     * unowned instances get 401" */
    const struct var vars[] = { { "ROOST_REQUIRE_AUTH", "1" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "open-1", "{}");
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    assert_roost_err(resolve(f, "open-1", NULL, NULL, 0), ROOST_ERR_AUTHENTICATION_REQUIRED);
    assert_roost_err(resolve(f, "owned-1", NULL, NULL, 0), ROOST_ERR_AUTHENTICATION_REQUIRED);
    assert_roost_ok(resolve(f, "open-1", NULL, "bob", 0));
    assert_roost_ok(resolve(f, "owned-1", NULL, "alice", 0));
    assert_roost_err(resolve(f, "owned-1", NULL, "bob", 0), ROOST_ERR_ACCESS_DENIED);
    /* the same without a source */
    configure(f, 0, vars);
    assert_roost_err(resolve(f, "local-1", NULL, NULL, 0), ROOST_ERR_AUTHENTICATION_REQUIRED);
    assert_roost_ok(resolve(f, "local-1", NULL, "bob", 0));
}

static void test_resolver__access_owner_from_config(void **state)
{
    struct fx *f = *state;
    /* spec "Access Control": "Instance owner can access ... Others get 403
     * Access Denied"; the owner is the config's owner_id. The owner needs
     * no user record (alice's is broken here). */
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    break_doc(f, "users", "alice");
    assert_roost_ok(resolve(f, "owned-1", NULL, "alice", 0));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&f->res.owner), "alice"));
    assert_roost_err(resolve(f, "owned-1", NULL, "bob", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_err(resolve(f, "owned-1", NULL, "Alice", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_err(resolve(f, "owned-1", NULL, "alice2", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_err(resolve(f, "owned-1", NULL, "alic", 0), ROOST_ERR_ACCESS_DENIED);
    /* a user record that is not an admin's changes nothing */
    put_doc(f, "users", "bob", "{\"roles\": [\"user\"], \"default_instance_id\": \"owned-1\"}");
    assert_roost_err(resolve(f, "owned-1", NULL, "bob", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_err(resolve(f, NULL, NULL, "bob", 0), ROOST_ERR_ACCESS_DENIED);
    put_doc(f, "users", "carl", "{\"roles\": \"admin\"}");   /* not a list */
    assert_roost_err(resolve(f, "owned-1", NULL, "carl", 0), ROOST_ERR_ACCESS_DENIED);
    put_doc(f, "users", "cody", "{\"roles\": [\"Admin\", \"admins\"]}");
    assert_roost_err(resolve(f, "owned-1", NULL, "cody", 0), ROOST_ERR_ACCESS_DENIED);
}

static void test_resolver__access_anonymous_on_owned_is_denied(void **state)
{
    struct fx *f = *state;
    /* resolver.h: without ROOST_REQUIRE_AUTH an anonymous request is not the
     * owner and not an admin: ACCESS_DENIED. */
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    assert_roost_err(resolve(f, "owned-1", NULL, NULL, 0), ROOST_ERR_ACCESS_DENIED);
    configure(f, 0, NULL);
    const char *rec = "{\"id\": \"local-owned\", \"owner\": \"alice\"}";
    struct json_object *fields = json_tokener_parse(rec);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_create(f->st, fields, roost_test_clock_now(), &inst, NULL));
    roost_instance_release(&inst);
    json_object_put(fields);
    assert_roost_err(resolve(f, "local-owned", NULL, NULL, 0), ROOST_ERR_ACCESS_DENIED);
}

static void test_resolver__access_owner_from_registry(void **state)
{
    struct fx *f = *state;
    /* README "Who may use it": "The owner (owner_id, or the record's owner)
     * may use an instance". Without a source the record's owner counts. */
    const struct var vars[] = { { "ROOST_ADMIN_USERS", "ops, root-admin" }, { NULL, NULL } };
    configure(f, 0, vars);
    struct json_object *fields = json_tokener_parse("{\"id\": \"local-owned\", \"owner\": \"bob\"}");
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_create(f->st, fields, roost_test_clock_now(), &inst, NULL));
    roost_instance_release(&inst);
    json_object_put(fields);
    assert_roost_ok(resolve(f, "local-owned", NULL, "bob", 0));
    assert_origin(f, "registry");
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&f->res.owner), "bob"));
    assert_roost_err(resolve(f, "local-owned", NULL, "carol", 0), ROOST_ERR_ACCESS_DENIED);
    assert_roost_ok(resolve(f, "local-owned", NULL, "ops", 0));
    assert_roost_ok(resolve(f, "local-owned", NULL, "root-admin", 0));
    /* with a source, the config's owner_id decides, not the local record */
    configure(f, 1, NULL);
    put_doc(f, "instances", "local-owned", "{\"owner_id\": \"carol\"}");
    assert_roost_ok(resolve(f, "local-owned", NULL, "carol", 0));
    assert_roost_err(resolve(f, "local-owned", NULL, "bob", 0), ROOST_ERR_ACCESS_DENIED);
}

static void test_resolver__access_admin_by_settings(void **state)
{
    struct fx *f = *state;
    /* spec "Access Control": "Users with 'admin' role can access any
     * instance"; DESIGN.md: ROOST_ADMIN_USERS "users with the admin role". */
    const struct var vars[] = { { "ROOST_ADMIN_USERS", "ops,root-admin" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    assert_roost_ok(resolve(f, "owned-1", NULL, "ops", 0));          /* no user record */
    assert_roost_ok(resolve(f, "owned-1", NULL, "root-admin", 0));
    assert_roost_err(resolve(f, "owned-1", NULL, "op", 0), ROOST_ERR_ACCESS_DENIED);
}

static void test_resolver__access_admin_by_settings_needs_no_source(void **state)
{
    struct fx *f = *state;
    /* DESIGN.md "Roles (admin) come from the instance config source or the
     * app's config": an admin named in ROOST_ADMIN_USERS is an admin
     * whatever the source says about the user, so a failing user record
     * must not turn the admin away with 503. */
    const struct var vars[] = { { "ROOST_ADMIN_USERS", "ops" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    break_doc(f, "users", "ops");
    enum roost_err err = resolve(f, "owned-1", NULL, "ops", 0);
    if (err != ROOST_OK)
        fail_msg("admin listed in ROOST_ADMIN_USERS, users/ops.json broken: %s", roost_err_name(err));
}

static void test_resolver__access_admin_by_user_record(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 5: "Roles come from the config source's user record";
     * users/U.json {"roles": ["admin"]}. */
    put_doc(f, "instances", "owned-1", "{\"owner_id\": \"alice\"}");
    put_doc(f, "users", "root-admin", "{\"roles\": [\"user\", \"admin\"]}");
    assert_roost_ok(resolve(f, "owned-1", NULL, "root-admin", 0));
    /* the role is cached like the rest of the record */
    put_doc(f, "users", "root-admin", "{\"roles\": []}");
    assert_roost_ok(resolve(f, "owned-1", NULL, "root-admin", 0));
    roost_test_clock_advance(300);
    assert_roost_err(resolve(f, "owned-1", NULL, "root-admin", 0), ROOST_ERR_ACCESS_DENIED);
    /* the admin's own default instance, owned by someone else */
    put_doc(f, "users", "boss", "{\"roles\": [\"admin\"], \"default_instance_id\": \"owned-1\"}");
    assert_roost_ok(resolve(f, NULL, NULL, "boss", 0));
    assert_string_equal(f->res.instance_id, "owned-1");
    assert_int_equal(f->res.link, ROOST_LINK_USER_DEFAULT);
}

/* ---- stampede -------------------------------------------------------------- */

/* "Another process" holding the refresh claim of (collection, id): a child
 * with its own store handle that claims and then stays alive until
 * claimant_release (or until this process exits). */
struct claimant {
    pid_t pid;
    int hold_fd;
};

static struct claimant claim_elsewhere(struct fx *f, const char *collection, const char *id, int64_t lease)
{
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        char result = 'E';
        struct roost_store *st = NULL;
        if (roost_store_open(f->store_dir, &st) == ROOST_OK) {
            struct roost_config_cache c = cache_of(f, st);
            int claimed = 0;
            if (roost_config_cache_claim(&c, collection, roost_slice_cstr(id), lease, &claimed) == ROOST_OK)
                result = claimed ? 'C' : 'N';
        }
        if (write(ready[1], &result, 1) != 1)
            _exit(2);
        char c;
        while (read(hold[0], &c, 1) > 0)
            ;
        roost_store_close(st);
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char result = 0;
    assert_int_equal(read(ready[0], &result, 1), 1);
    close(ready[0]);
    if (result != 'C')
        fail_msg("the other process could not claim %s/%s (%c)", collection, id, result);
    return (struct claimant){ pid, hold[1] };
}

static void claimant_release(struct claimant *c)
{
    close(c->hold_fd);
    int status = 0;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 + (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

static void test_resolver__stampede_claimed_serves_stale(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 2: "Concurrent workers that all see an expired entry must
     * not stampede the config source"; config_cache.h: "the others serve
     * the stale entry meanwhile". The source has v2 by now: a stale v1
     * proves it was not asked. */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    roost_test_clock_advance(300);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    struct claimant other = claim_elsewhere(f, "instances", "inst-a", 600);
    for (int i = 0; i < 3; i++) {
        assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
        assert_origin(f, "stale_cache");
        assert_marker(f, "v1");
    }
    assert_counters(f, 0, 1, 3, 0);
    claimant_release(&other);
    /* config_cache.h: "a claimant that dies frees it by itself" - once its
     * lease is over, the next request fetches */
    roost_test_clock_advance(601);
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "source");
    assert_marker(f, "v2");
    assert_counters(f, 0, 2, 3, 0);
}

static void test_resolver__stampede_no_stale_when_use_stale_off(void **state)
{
    struct fx *f = *state;
    /* DESIGN.md: ROOST_CONFIG_USE_STALE "serve stale config when the source
     * fails"; issue 6 part 2: stale is "usable only as a fallback when the
     * source fails and ROOST_CONFIG_USE_STALE is on". With it off, a worker
     * that finds the refresh claimed must not serve the stale entry. */
    const struct var vars[] = { { "ROOST_CONFIG_USE_STALE", "0" }, { NULL, NULL } };
    configure(f, 1, vars);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v1\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    roost_test_clock_advance(300);
    put_doc(f, "instances", "inst-a", "{\"marker\": \"v2\"}");
    struct claimant other = claim_elsewhere(f, "instances", "inst-a", 600);
    enum roost_err err = resolve(f, "inst-a", NULL, NULL, 0);
    claimant_release(&other);
    if (err == ROOST_OK && f->res.origin == ROOST_ORIGIN_STALE_CACHE)
        fail_msg("ROOST_CONFIG_USE_STALE=0, refresh claimed elsewhere: served stale (marker %s)",
                 res_str(f, "marker") ? res_str(f, "marker") : "?");
}

static void test_resolver__stampede_claimed_no_entry_waits_bounded(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "with nothing to serve, wait briefly for the
     * claimant's entry"; resolver.c: bounded by the source's timeout. The
     * claimant never answers: 503, and the source is never asked (its file
     * is valid; asking it would succeed). */
    put_doc(f, "instances", "inst-w", "{\"marker\": \"from-source\"}");
    struct claimant other = claim_elsewhere(f, "instances", "inst-w", 3600);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum roost_err err = resolve(f, "inst-w", NULL, NULL, 0);
    double ms = elapsed_ms(&t0);
    claimant_release(&other);
    assert_roost_err(err, ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_counters(f, 0, 0, 0, 0);
    if (ms < 50 || ms > 5000)
        fail_msg("waited %.0f ms with ROOST_CONFIG_TIMEOUT_MS=%s", ms, TEST_TIMEOUT_MS);
}

static void test_resolver__stampede_claimed_no_entry_gets_claimants_entry(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: the waiter takes "the claimant's entry" when it
     * lands; the source (which has a different config) is not asked. */
    put_doc(f, "instances", "inst-w", "{\"marker\": \"from-source\"}");
    struct claimant other = claim_elsewhere(f, "instances", "inst-w", 3600);
    fflush(NULL);
    pid_t writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        struct timespec ts = { 0, 40 * 1000000L };
        nanosleep(&ts, NULL);
        struct roost_store *st = NULL;
        if (roost_store_open(f->store_dir, &st) != ROOST_OK)
            _exit(21);
        struct roost_config_cache c = cache_of(f, st);
        struct json_object *doc = json_tokener_parse("{\"marker\": \"from-claimant\"}");
        enum roost_err err = roost_config_cache_put(&c, "instances", roost_slice_cstr("inst-w"), doc);
        json_object_put(doc);
        roost_store_close(st);
        _exit(err ? 22 : 0);
    }
    enum roost_err err = resolve(f, "inst-w", NULL, NULL, 0);
    int status = 0;
    assert_int_equal(waitpid(writer, &status, 0), writer);
    claimant_release(&other);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_roost_ok(err);
    assert_origin(f, "cache");
    assert_marker(f, "from-claimant");
    assert_counters(f, 1, 0, 0, 0);
}

/* ---- warm ---------------------------------------------------------------- */

static void test_resolver__warm_fills_cache(void **state)
{
    struct fx *f = *state;
    /* spec "Cache Warming": "await resolver.warmCache(popularInstances)";
     * resolver.h: "Fetches each id into the cache from the source; ok and
     * failed count them". */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"a1\"}");
    put_doc(f, "instances", "inst-b", "{\"marker\": \"b1\"}");
    break_doc(f, "instances", "inst-bad");
    const struct roost_slice ids[] = {
        roost_slice_cstr("inst-a"), roost_slice_cstr("inst-missing"),
        roost_slice_cstr("inst-b"), roost_slice_cstr("inst-bad"),
    };
    size_t ok = 99, failed = 99;
    assert_roost_ok(roost_resolver_warm(&f->r, ids, 4, roost_slice_cstr("warm-test"), &ok, &failed));
    assert_int_equal(ok, 2);
    assert_int_equal(failed, 2);
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_OK);
    assert_int_equal(cached(f, "instances", "inst-b"), ROOST_OK);
    assert_int_equal(cached(f, "instances", "inst-missing"), ROOST_ERR_KEY_NOT_FOUND);
    assert_int_equal(cached(f, "instances", "inst-bad"), ROOST_ERR_KEY_NOT_FOUND);
    /* warmed entries are fresh: served without the source */
    put_doc(f, "instances", "inst-a", "{\"marker\": \"a2\"}");
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "a1");
    /* warming replaces a stale entry and restarts its TTL */
    roost_test_clock_advance(400);
    assert_roost_ok(roost_resolver_warm(&f->r, ids, 1, roost_slice_cstr("warm-test"), NULL, NULL));
    assert_roost_ok(resolve(f, "inst-a", NULL, NULL, 0));
    assert_origin(f, "cache");
    assert_marker(f, "a2");
    /* NULL counts are allowed, an empty list does nothing */
    assert_roost_ok(roost_resolver_warm(&f->r, ids, 0, roost_slice_cstr("warm-test"), &ok, &failed));
    assert_int_equal(ok, 0);
    assert_int_equal(failed, 0);
}

static void test_resolver__warm_without_source_does_nothing(void **state)
{
    struct fx *f = *state;
    /* resolver.h: "Without a source: nothing to do." */
    configure(f, 0, NULL);
    put_doc(f, "instances", "inst-a", "{}");
    const struct roost_slice ids[] = { roost_slice_cstr("inst-a") };
    size_t ok = 99, failed = 99;
    assert_roost_ok(roost_resolver_warm(&f->r, ids, 1, roost_slice_cstr("warm-test"), &ok, &failed));
    assert_int_equal(ok, 0);
    assert_int_equal(failed, 0);
    assert_int_equal(cached(f, "instances", "inst-a"), ROOST_ERR_KEY_NOT_FOUND);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_resolver__chain_explicit_wins),
        T(test_resolver__chain_project_over_user_default),
        T(test_resolver__chain_user_default),
        T(test_resolver__chain_configured_default_only_when_allowed),
        T(test_resolver__chain_nothing_is_missing_instance_id),
        T(test_resolver__chain_unknown_project_is_invalid_context),
        T(test_resolver__chain_invalid_project_mapping_is_invalid_context),
        T(test_resolver__chain_user_without_default_is_invalid_context),
        T(test_resolver__chain_mappings_are_cached),
        T(test_resolver__nosource_registry_auto_create),
        T(test_resolver__nosource_auto_create_off_is_not_found),
        T(test_resolver__nosource_project_is_invalid_context),
        T(test_resolver__config_fresh_hit_skips_source),
        T(test_resolver__config_expired_refetches),
        T(test_resolver__config_stale_served_when_source_fails),
        T(test_resolver__config_no_stale_when_use_stale_off),
        T(test_resolver__config_source_fails_without_entry_is_503),
        T(test_resolver__config_purged_never_served),
        T(test_resolver__config_source_404_invalidates),
        T(test_resolver__config_status_from_config),
        T(test_resolver__config_non_string_status_not_served),
        T(test_resolver__config_local_fence_overrides),
        T(test_resolver__config_fields_kept),
        T(test_resolver__config_counters_add_up),
        T(test_resolver__config_other_process_changes_seen),
        T(test_resolver__config_remembered_config_expires),
        T(test_resolver__errors_source_failures_are_503),
        T(test_resolver__errors_unreadable_file_is_503),
        T(test_resolver__errors_source_404_is_instance_not_found),
        T(test_resolver__access_unowned_is_open),
        T(test_resolver__access_require_auth),
        T(test_resolver__access_owner_from_config),
        T(test_resolver__access_anonymous_on_owned_is_denied),
        T(test_resolver__access_owner_from_registry),
        T(test_resolver__access_admin_by_settings),
        T(test_resolver__access_admin_by_settings_needs_no_source),
        T(test_resolver__access_admin_by_user_record),
        T(test_resolver__stampede_claimed_serves_stale),
        T(test_resolver__stampede_no_stale_when_use_stale_off),
        T(test_resolver__stampede_claimed_no_entry_waits_bounded),
        T(test_resolver__stampede_claimed_no_entry_gets_claimants_entry),
        T(test_resolver__warm_fills_cache),
        T(test_resolver__warm_without_source_does_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
