/*
 * test_config_cache.c - lib/config_cache.h: cached configs in the store.
 *
 * Test organization
 *   group        what it checks                                   rule
 *   classify     every window and each boundary (ttl-1, ttl,       spec "TTL Behavior";
 *                stale_max-1, stale_max, future stamps) for        config_cache.h table
 *                300/3600 and custom values, ttl > stale_max,
 *                stamps at the ends of int64
 *   get          the same windows through the store; ttl from      config_cache.h; spec
 *                the entry, stale_max from the setting; purged     "TTL Behavior": Purged
 *                and unreadable entries removed under the same
 *                scope and counted as evictions
 *   put          the entry's exact JSON, round trip of configs,    spec "Cache Entry";
 *                re-stamping, refusals, drops the claim in the     config_cache.h put
 *                same single write
 *   claims       claim/unclaim/expiry, a clock set back, an        config_cache.h "Stampede
 *                unreadable claim, another process's claim; a      guard"; issue 6 part 2
 *                race of forked workers has exactly one winner     ("must not stampede")
 *   invalidate   one entry, all entries of every collection and    spec "Manual Cache
 *                every claim in batches of <= 1024 ops per write   Invalidation"; store.h
 *                (> 1024 entries), evictions counted               ROOST_STORE_APPLY_MAX
 *   persistence  entries and counts survive a store reopen         store.h durability
 *
 * Time comes from testlib's fake clock; no test sleeps. Child processes
 * open the store after fork (store.h), report through their exit status and
 * end with _exit(); they are released together through a pipe.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "config_cache.h"
#include "counters.h"
#include "json_util.h"
#include "keyspace.h"
#include "limits.h"
#include "store.h"
#include "testlib.h"

#define T0 INT64_C(1735238400)   /* testlib's clock start, the spec's example */
#define INST ROOST_KEYSPACE_COLLECTION_INSTANCE
#define PROJ ROOST_KEYSPACE_COLLECTION_PROJECT
#define USER ROOST_KEYSPACE_COLLECTION_USER
#define S(lit) roost_slice_cstr(lit)

/* ---- fixture ----------------------------------------------------------- */

struct fx {
    void *ts;                        /* testlib's store fixture */
    struct roost_counters *ctr;
    struct roost_config_cache c;
};

static struct roost_test_store *ts_of(struct fx *f)
{
    return f->ts;
}

static int setup(void **state)
{
    struct fx *f = roost_xcalloc(1, sizeof(*f));
    if (roost_test_store_setup(&f->ts, "ccache") != 0) {
        free(f);
        return -1;
    }
    if (roost_counters_open(ts_of(f)->dir, &f->ctr) != ROOST_OK) {
        roost_test_store_teardown(&f->ts);
        free(f);
        return -1;
    }
    roost_test_clock_set(T0);
    /* DESIGN.md settings table: ROOST_CONFIG_TTL 300, ROOST_CONFIG_STALE_MAX 3600 */
    f->c = (struct roost_config_cache){ ts_of(f)->st, f->ctr, 300, 3600, roost_test_clock_now };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    roost_counters_close(f->ctr);
    roost_test_store_teardown(&f->ts);
    free(f);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct json_object *parse(const char *text)
{
    struct json_object *o = NULL;
    assert_roost_ok(roost_json_parse(S(text), &o, NULL));
    assert_non_null(o);
    return o;
}

static void put_text(struct fx *f, const char *coll, const char *id, const char *json)
{
    struct json_object *o = parse(json);
    assert_roost_ok(roost_config_cache_put(&f->c, coll, S(id), o));
    json_object_put(o);
}

/* State of (coll, id) at time t: a roost_cache_state, or -1 for
 * KEY_NOT_FOUND; any other error fails the test. */
static int state_at(struct fx *f, const char *coll, const char *id, int64_t t)
{
    roost_test_clock_set(t);
    struct roost_config_entry e = { 0 };
    enum roost_err err = roost_config_cache_get(&f->c, coll, S(id), &e);
    if (err == ROOST_ERR_KEY_NOT_FOUND) {
        assert_null(e.config);
        return -1;
    }
    assert_roost_ok(err);
    assert_non_null(e.config);
    int s = (int)e.state;
    roost_config_entry_release(&e);
    return s;
}

static uint64_t evictions(struct fx *f)
{
    return roost_counters_get(f->ctr, ROOST_COUNTER_EVICTIONS);
}

/* The raw stored value of a META key: OK or KEY_NOT_FOUND. */
static enum roost_err raw_get(struct fx *f, const char *key, struct roost_buf *out)
{
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(ts_of(f)->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
    if (!err)
        err = roost_store_get(&sc, S(key), out);
    roost_store_end(&sc);
    return err;
}

static void raw_put(struct fx *f, const char *key, struct roost_slice value)
{
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(ts_of(f)->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_roost_ok(roost_store_put(&sc, S(key), value, 0, NULL));
    roost_store_end(&sc);
}

static int raw_exists(struct fx *f, const char *key)
{
    struct roost_buf b = ROOST_BUF_INIT;
    enum roost_err err = raw_get(f, key, &b);
    roost_buf_release(&b);
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        return 0;
    assert_roost_ok(err);
    return 1;
}

/* The META partition's write count (store.h part stats): one per write. */
static uint64_t meta_generation(struct fx *f)
{
    struct roost_store_scope sc;
    struct roost_store_part_stats ps;
    assert_roost_ok(roost_store_begin(ts_of(f)->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_roost_ok(roost_store_part_stats(&sc, &ps));
    roost_store_end(&sc);
    return ps.generation;
}

static const char *state_name(int s)
{
    switch (s) {
    case ROOST_CACHE_FRESH: return "fresh";
    case ROOST_CACHE_STALE: return "stale";
    case ROOST_CACHE_PURGED: return "purged";
    case -1: return "not found";
    }
    return "?";
}

#define F ROOST_CACHE_FRESH
#define ST ROOST_CACHE_STALE
#define P ROOST_CACHE_PURGED

struct window_case {
    int64_t age;
    int want;
};

static void check_classify(int64_t ttl, int64_t stale_max, const struct window_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum roost_cache_state got =
            roost_config_cache_classify(T0, ttl, stale_max, T0 + cases[i].age);
        if ((int)got != cases[i].want)
            fail_msg("ttl %lld stale_max %lld age %lld: %s, want %s", (long long)ttl,
                     (long long)stale_max, (long long)cases[i].age, state_name((int)got),
                     state_name(cases[i].want));
    }
}

/* ---- classify ---------------------------------------------------------- */

static void test_config_cache__classify_default_windows(void **state)
{
    (void)state;
    /* spec "TTL Behavior": "Fresh: 0-300 seconds", "Expired: 300+ seconds",
     * "Stale Grace: 300-3600 seconds", "Purged: 3600+ seconds";
     * config_cache.h: "age < ttl fresh; ttl <= age < stale_max stale;
     * age >= stale_max purged" */
    static const struct window_case cases[] = {
        { 0, F }, { 1, F }, { 150, F }, { 299, F },           /* ttl - 1 */
        { 300, ST }, { 301, ST }, { 1800, ST }, { 3599, ST }, /* ttl .. stale_max - 1 */
        { 3600, P }, { 3601, P }, { 86400, P }, { INT64_C(1) << 40, P },
        /* config_cache.h: "An entry stamped in the future (a clock set
         * back) counts as stale" */
        { -1, ST }, { -300, ST }, { -3600, ST }, { -(INT64_C(1) << 40), ST },
    };
    check_classify(300, 3600, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_config_cache__classify_custom_windows(void **state)
{
    (void)state;
    /* DESIGN.md: "ROOST_CONFIG_TTL ... ROOST_CONFIG_STALE_MAX: seconds after
     * caching until an entry is purged; between TTL and this it is stale" */
    static const struct window_case short_windows[] = {
        { 0, F }, { 9, F }, { 10, ST }, { 19, ST }, { 20, P }, { -1, ST },
    };
    check_classify(10, 20, short_windows, 6);
    static const struct window_case long_windows[] = {
        { 86399, F }, { 86400, ST }, { 7 * 86400 - 1, ST }, { 7 * 86400, P },
    };
    check_classify(86400, 7 * 86400, long_windows, 4);
    /* stale_max == ttl: no stale window at all */
    static const struct window_case no_grace[] = { { 59, F }, { 60, P }, { -1, ST } };
    check_classify(60, 60, no_grace, 3);
    static const struct window_case one_second[] = { { 0, F }, { 1, P } };
    check_classify(1, 1, one_second, 2);
    /* an entry written with ttl 0 is never fresh */
    static const struct window_case ttl_zero[] = { { 0, ST }, { 4, ST }, { 5, P } };
    check_classify(0, 5, ttl_zero, 3);
    /* an entry whose ttl outlives stale_max (written under other settings):
     * past stale_max it is purged all the same - "never served" */
    static const struct window_case ttl_beyond[] = { { 49, F }, { 50, P }, { 99, P }, { 100, P } };
    check_classify(100, 50, ttl_beyond, 4);
}

static void test_config_cache__classify_extreme_stamps(void **state)
{
    (void)state;
    /* now - cached_at beyond int64: no overflow, the sensible answer */
    assert_int_equal(roost_config_cache_classify(INT64_MIN, 300, 3600, T0), P);
    assert_int_equal(roost_config_cache_classify(INT64_MAX, 300, 3600, T0), ST);
    assert_int_equal(roost_config_cache_classify(-1, 300, 3600, INT64_MAX), P);
    assert_int_equal(roost_config_cache_classify(INT64_MAX, 300, 3600, -1), ST);
    assert_int_equal(roost_config_cache_classify(0, 300, 3600, 0), F);
    assert_int_equal(roost_config_cache_classify(INT64_MAX, 300, 3600, INT64_MAX), F);
}

/* ---- get --------------------------------------------------------------- */

static void run_store_windows(struct fx *f, const struct window_case *cases, size_t n)
{
    /* one entry stamped at T0, looked at from every age that keeps it */
    roost_test_clock_set(T0);
    put_text(f, INST, "game-1", "{\"status\":\"active\"}");
    for (size_t i = 0; i < n; i++) {
        int got = state_at(f, INST, "game-1", T0 + cases[i].age);
        if (got != cases[i].want)
            fail_msg("ttl %lld stale_max %lld age %lld: %s, want %s", (long long)f->c.ttl,
                     (long long)f->c.stale_max, (long long)cases[i].age, state_name(got),
                     state_name(cases[i].want));
    }
    assert_int_equal(evictions(f), 0);
}

static void test_config_cache__get_windows_default(void **state)
{
    struct fx *f = *state;
    /* spec "TTL Behavior" through the store, ttl 300 / stale_max 3600 */
    static const struct window_case cases[] = {
        { 0, F }, { 299, F }, { 300, ST }, { 3599, ST }, { -1, ST }, { -100000, ST },
    };
    run_store_windows(f, cases, sizeof(cases) / sizeof(cases[0]));
    /* "Purged: 3600+ seconds": never served, and removed */
    assert_int_equal(state_at(f, INST, "game-1", T0 + 3600), -1);
    assert_int_equal(evictions(f), 1);
    assert_int_equal(raw_exists(f, "instance_config:game-1"), 0);
}

static void test_config_cache__get_windows_custom(void **state)
{
    struct fx *f = *state;
    f->c.ttl = 10;
    f->c.stale_max = 20;
    static const struct window_case cases[] = { { 0, F }, { 9, F }, { 10, ST }, { 19, ST }, { -5, ST } };
    run_store_windows(f, cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(state_at(f, INST, "game-1", T0 + 20), -1);
    assert_int_equal(evictions(f), 1);
}

static void test_config_cache__get_returns_entry_fields(void **state)
{
    struct fx *f = *state;
    /* config_cache.h struct roost_config_entry: config, cached_at, ttl, state */
    roost_test_clock_set(T0 + 7);
    put_text(f, PROJ, "proj.9", "{\"instance_id\":\"game-1\"}");
    roost_test_clock_set(T0 + 400);
    struct roost_config_entry e = { 0 };
    assert_roost_ok(roost_config_cache_get(&f->c, PROJ, S("proj.9"), &e));
    assert_int_equal(e.cached_at, T0 + 7);
    assert_int_equal(e.ttl, 300);
    assert_int_equal(e.state, ROOST_CACHE_STALE);
    struct roost_buf b = ROOST_BUF_INIT;
    roost_json_serialize(e.config, &b);
    assert_string_equal(b.ptr, "{\"instance_id\":\"game-1\"}");
    roost_buf_release(&b);
    roost_config_entry_release(&e);
    assert_null(e.config);
    roost_config_entry_release(&e);   /* twice is harmless */
    roost_config_entry_release(NULL);
}

static void test_config_cache__entry_ttl_and_setting_stale_max(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "with ttl from the entry and stale_max from
     * ROOST_CONFIG_STALE_MAX" - an entry keeps the ttl it was cached
     * with; lowering the setting affects new entries only */
    put_text(f, INST, "a", "{}");
    f->c.ttl = 10;
    assert_int_equal(state_at(f, INST, "a", T0 + 299), F);
    put_text(f, INST, "b", "{}");   /* stamped T0 + 299, ttl 10 */
    assert_int_equal(state_at(f, INST, "b", T0 + 299 + 9), F);
    assert_int_equal(state_at(f, INST, "b", T0 + 299 + 10), ST);
    /* a lower stale_max purges what the old one kept */
    f->c.stale_max = 500;
    assert_int_equal(state_at(f, INST, "a", T0 + 499), ST);
    assert_int_equal(state_at(f, INST, "a", T0 + 500), -1);
    assert_int_equal(evictions(f), 1);
}

static void test_config_cache__get_missing(void **state)
{
    struct fx *f = *state;
    struct roost_config_entry e = { 0 };
    assert_roost_err(roost_config_cache_get(&f->c, INST, S("nobody"), &e), ROOST_ERR_KEY_NOT_FOUND);
    assert_null(e.config);
    assert_int_equal(evictions(f), 0);
    /* collections are apart: an instance entry is not a user entry */
    put_text(f, INST, "same", "{}");
    assert_roost_err(roost_config_cache_get(&f->c, USER, S("same"), &e), ROOST_ERR_KEY_NOT_FOUND);
    assert_roost_err(roost_config_cache_get(&f->c, PROJ, S("same"), &e), ROOST_ERR_KEY_NOT_FOUND);
}

static void test_config_cache__purge_removes_and_counts(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "A purged entry is removed and counted as an
     * eviction. Errors: KEY_NOT_FOUND (no entry, or purged)" */
    put_text(f, INST, "old", "{\"v\":1}");
    put_text(f, USER, "old", "{\"v\":2}");
    roost_test_clock_set(T0 + 3000);
    put_text(f, INST, "young", "{\"v\":3}");
    assert_int_equal(state_at(f, INST, "old", T0 + 3600), -1);
    assert_int_equal(evictions(f), 1);
    assert_int_equal(raw_exists(f, "instance_config:old"), 0);
    /* once gone it is a plain miss: not counted again */
    assert_int_equal(state_at(f, INST, "old", T0 + 3600), -1);
    assert_int_equal(evictions(f), 1);
    /* the other entries were left alone */
    assert_int_equal(raw_exists(f, "user_config:old"), 1);
    assert_int_equal(state_at(f, INST, "young", T0 + 3600), ST);
    assert_int_equal(state_at(f, USER, "old", T0 + 3600), -1);
    assert_int_equal(evictions(f), 2);
}

static void test_config_cache__unreadable_entry_removed(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "STORE_CORRUPT (entry unreadable: it is removed too)";
     * each removal counts as an eviction and is logged naming the key */
    static const struct {
        const char *raw;
        size_t len;
        const char *why;
    } bad[] = {
#define B(lit, why) { lit, sizeof(lit) - 1, why }
        B("", "empty"),
        B("not json", "not JSON"),
        B("{\"config\":{},\"cached_at\":1735238400", "truncated"),
        B("null", "null"),
        B("[]", "an array"),
        B("{}", "no members"),
        B("{\"config\":[],\"cached_at\":1735238400,\"ttl\":300}", "config not an object"),
        B("{\"config\":\"x\",\"cached_at\":1735238400,\"ttl\":300}", "config a string"),
        B("{\"cached_at\":1735238400,\"ttl\":300}", "config missing"),
        B("{\"config\":{},\"ttl\":300}", "cached_at missing"),
        B("{\"config\":{},\"cached_at\":\"1735238400\",\"ttl\":300}", "cached_at a string"),
        B("{\"config\":{},\"cached_at\":1735238400.5,\"ttl\":300}", "cached_at fractional"),
        B("{\"config\":{},\"cached_at\":1735238400}", "ttl missing"),
        B("{\"config\":{},\"cached_at\":1735238400,\"ttl\":-1}", "ttl negative"),
        B("{\"config\":{},\"cached_at\":1735238400,\"ttl\":null}", "ttl null"),
        B("{\"config\":{\"k\":\"\xff\"},\"cached_at\":1735238400,\"ttl\":300}", "invalid UTF-8"),
        B("{\"config\":{},\"cached_at\":1735238400,\"ttl\":300} x", "trailing garbage"),
        B("{\"config\":{}\0,\"cached_at\":1735238400,\"ttl\":300}", "NUL inside"),
#undef B
    };
    put_text(f, INST, "good", "{}");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_put(f, "instance_config:bad", roost_slice_make(bad[i].raw, bad[i].len));
        struct roost_config_entry e = { 0 };
        struct roost_test_capture cap;
        struct roost_buf log = ROOST_BUF_INIT;
        roost_test_capture_start(&cap);
        enum roost_err err = roost_config_cache_get(&f->c, INST, S("bad"), &e);
        roost_test_capture_stop(&cap, &log);
        if (err != ROOST_ERR_STORE_CORRUPT)
            fail_msg("%s: %s, want STORE_CORRUPT", bad[i].why, roost_err_name(err));
        assert_null(e.config);
        if (raw_exists(f, "instance_config:bad"))
            fail_msg("%s: entry left in the store", bad[i].why);
        assert_int_equal(evictions(f), i + 1);
        if (!strstr(log.ptr, "config_cache: ") || !strstr(log.ptr, "'instance_config:bad'"))
            fail_msg("%s: log line missing or without the key: %s", bad[i].why, log.ptr);
        roost_buf_release(&log);
        /* and then it is a plain miss */
        assert_roost_err(roost_config_cache_get(&f->c, INST, S("bad"), &e), ROOST_ERR_KEY_NOT_FOUND);
    }
    assert_int_equal(state_at(f, INST, "good", T0), F);
}

static void test_config_cache__unknown_members_tolerated(void **state)
{
    struct fx *f = *state;
    /* config_cache.c: members other than the three are ignored, so a later
     * version's entries are not purged by this one */
    static const char raw[] = "{\"config\":{\"a\":1},\"cached_at\":1735238400,\"ttl\":60,\"etag\":\"x\"}";
    raw_put(f, "instance_config:newer", roost_slice_make(raw, sizeof(raw) - 1));
    struct roost_config_entry e = { 0 };
    roost_test_clock_set(T0 + 59);
    assert_roost_ok(roost_config_cache_get(&f->c, INST, S("newer"), &e));
    assert_int_equal(e.state, F);
    assert_int_equal(e.ttl, 60);
    roost_config_entry_release(&e);
    assert_int_equal(state_at(f, INST, "newer", T0 + 60), ST);
    assert_int_equal(evictions(f), 0);
}

/* ---- put --------------------------------------------------------------- */

static void test_config_cache__put_entry_json_exact(void **state)
{
    struct fx *f = *state;
    /* spec "Cache Entry": { "config": { ... }, "cached_at": 1234567890,
     * "ttl": 300 } - exactly these members, in this order */
    put_text(f, INST, "game-instance-123",
             "{\"instance_id\":\"game-instance-123\",\"owner_id\":\"user_123\",\"status\":\"active\"}");
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_ok(raw_get(f, "instance_config:game-instance-123", &raw));
    assert_string_equal(raw.ptr,
                        "{\"config\":{\"instance_id\":\"game-instance-123\",\"owner_id\":\"user_123\","
                        "\"status\":\"active\"},\"cached_at\":1735238400,\"ttl\":300}");
    /* the other collections use their own prefixes, same shape */
    roost_test_clock_set(T0 + 1);
    f->c.ttl = 45;
    put_text(f, PROJ, "p1", "{\"instance_id\":\"i1\"}");
    put_text(f, USER, "u1", "{\"default_instance_id\":\"i1\",\"roles\":[\"admin\"]}");
    assert_roost_ok(raw_get(f, "project_config:p1", &raw));
    assert_string_equal(raw.ptr, "{\"config\":{\"instance_id\":\"i1\"},\"cached_at\":1735238401,\"ttl\":45}");
    assert_roost_ok(raw_get(f, "user_config:u1", &raw));
    assert_string_equal(raw.ptr, "{\"config\":{\"default_instance_id\":\"i1\",\"roles\":[\"admin\"]},"
                                 "\"cached_at\":1735238401,\"ttl\":45}");
    roost_buf_release(&raw);
}

static void test_config_cache__put_round_trip(void **state)
{
    struct fx *f = *state;
    /* spec "Cache Entry": "config": { InstanceConfig } - whatever fields
     * the config holds come back equal (issue 6 part 3: "arbitrary extra
     * fields are kept") */
    static const char *const configs[] = {
        "{}",
        "{\"instance_id\":\"production\",\"owner_id\":\"user_123\",\"status\":\"active\","
        "\"worker_urls\":{\"image_gen\":\"https://img.example.com/v1\"},"
        "\"api_keys\":{\"ideogram\":\"sk-\\u00e9\\\"quoted\\\"\"},"
        "\"rate_limits\":{\"ideogram\":{\"rpm\":60,\"burst\":1.5}},"
        "\"quota\":{\"storage_bytes\":9223372036854775807,\"min\":-9223372036854775808},"
        "\"flags\":[true,false,null,0,\"\"],\"nested\":{\"a\":{\"b\":{\"c\":[[[]]]}}}}",
        "{\"unicode\":\"\xe3\x82\xad\xe3\x83\xbc \xf0\x9f\x98\x80\",\"ctl\":\"\\u0000\\n\\t\"}",
        "{\"path\":\"/a/b\",\"empty\":{},\"list\":[]}",
    };
    char ids[][8] = { "c0", "c1", "c2", "c3" };
    for (size_t i = 0; i < 4; i++)
        put_text(f, INST, ids[i], configs[i]);
    for (size_t i = 0; i < 4; i++) {
        struct json_object *want = parse(configs[i]);
        struct roost_config_entry e = { 0 };
        assert_roost_ok(roost_config_cache_get(&f->c, INST, S(ids[i]), &e));
        if (!json_object_equal(want, e.config))
            fail_msg("config %zu came back different: %s", i, json_object_to_json_string(e.config));
        roost_config_entry_release(&e);
        json_object_put(want);
    }
}

/* An object nested depth levels deep: {"a":{"a":...{}}}. */
static struct json_object *nested(int depth)
{
    struct json_object *o = json_object_new_object();
    for (int i = 1; i < depth; i++) {
        struct json_object *outer = json_object_new_object();
        json_object_object_add(outer, "a", o);
        o = outer;
    }
    return o;
}

static void test_config_cache__put_depth_bound(void **state)
{
    struct fx *f = *state;
    /* config_cache.c: the entry adds one level to the config; what get
     * could not parse back (ROOST_JSON_DEPTH_MAX) is refused, not stored */
    struct json_object *ok = nested(ROOST_JSON_DEPTH_MAX - 1);
    struct json_object *deep = nested(ROOST_JSON_DEPTH_MAX);
    assert_roost_ok(roost_config_cache_put(&f->c, INST, S("ok"), ok));
    struct roost_config_entry e = { 0 };
    assert_roost_ok(roost_config_cache_get(&f->c, INST, S("ok"), &e));
    assert_true(json_object_equal(ok, e.config));
    roost_config_entry_release(&e);

    struct roost_test_capture cap;
    struct roost_buf log = ROOST_BUF_INIT;
    roost_test_capture_start(&cap);
    enum roost_err err = roost_config_cache_put(&f->c, INST, S("deep"), deep);
    roost_test_capture_stop(&cap, &log);
    assert_roost_err(err, ROOST_ERR_STORE_TOO_BIG);
    assert_non_null(strstr(log.ptr, "'deep'"));
    assert_int_equal(raw_exists(f, "instance_config:deep"), 0);
    /* the same bound through an array: {"list": [ nested ]} is 2 + nested */
    struct json_object *arr = json_object_new_object(), *a = json_object_new_array();
    json_object_array_add(a, nested(ROOST_JSON_DEPTH_MAX - 3));
    json_object_object_add(arr, "list", a);
    assert_roost_ok(roost_config_cache_put(&f->c, INST, S("arr"), arr));
    assert_roost_ok(roost_config_cache_get(&f->c, INST, S("arr"), &e));
    roost_config_entry_release(&e);
    json_object_array_add(a, nested(ROOST_JSON_DEPTH_MAX - 2));
    roost_test_capture_start(&cap);
    err = roost_config_cache_put(&f->c, INST, S("arr2"), arr);
    roost_test_capture_stop(&cap, &log);
    assert_roost_err(err, ROOST_ERR_STORE_TOO_BIG);
    roost_buf_release(&log);
    json_object_put(ok);
    json_object_put(deep);
    json_object_put(arr);
}

static void test_config_cache__put_replaces_and_restamps(void **state)
{
    struct fx *f = *state;
    put_text(f, INST, "g", "{\"v\":1}");
    roost_test_clock_set(T0 + 3000);
    put_text(f, INST, "g", "{\"v\":2}");
    struct roost_config_entry e = { 0 };
    roost_test_clock_set(T0 + 3299);
    assert_roost_ok(roost_config_cache_get(&f->c, INST, S("g"), &e));
    assert_int_equal(e.state, F);
    assert_int_equal(e.cached_at, T0 + 3000);
    struct json_object *v;
    assert_true(json_object_object_get_ex(e.config, "v", &v));
    assert_int_equal(json_object_get_int(v), 2);
    roost_config_entry_release(&e);
    /* the caller keeps its own reference: put took one of its own */
    struct json_object *mine = parse("{\"x\":1}");
    assert_roost_ok(roost_config_cache_put(&f->c, INST, S("h"), mine));
    json_object_object_add(mine, "y", json_object_new_int(2));   /* still ours to change */
    json_object_put(mine);
    assert_int_equal(state_at(f, INST, "h", T0 + 3299), F);
}

static void test_config_cache__usage_errors(void **state)
{
    struct fx *f = *state;
    /* keyspace.h: cache keys are built for valid ids only (the collision
     * argument rests on ids without ':'); collections are the three */
    struct json_object *o = parse("{}"), *arr = parse("[]"), *str = parse("\"s\"");
    struct roost_config_entry e = { 0 };
    int claimed = -1;
    size_t removed = 7;
    static const char *const bad_ids[] = { "", "a:b", "a/b", "a b", "caf\xc3\xa9",
        "12345678901234567890123456789012345678901234567890123456789012345" /* 65 */ };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        struct roost_slice id = S(bad_ids[i]);
        assert_roost_err(roost_config_cache_put(&f->c, INST, id, o), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_get(&f->c, INST, id, &e), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_claim(&f->c, INST, id, 5, &claimed), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_unclaim(&f->c, INST, id), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_invalidate(&f->c, INST, id), ROOST_ERR_USAGE);
    }
    static const char *const bad_colls[] = { "instance", "tenants", "", "instances_config" };
    for (size_t i = 0; i < 4; i++) {
        assert_roost_err(roost_config_cache_put(&f->c, bad_colls[i], S("a"), o), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_get(&f->c, bad_colls[i], S("a"), &e), ROOST_ERR_USAGE);
        assert_roost_err(roost_config_cache_invalidate(&f->c, bad_colls[i], S("a")), ROOST_ERR_USAGE);
    }
    assert_roost_err(roost_config_cache_put(&f->c, NULL, S("a"), o), ROOST_ERR_USAGE);
    /* config_cache.h "Entry": config is an object */
    assert_roost_err(roost_config_cache_put(&f->c, INST, S("a"), arr), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_put(&f->c, INST, S("a"), str), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_put(&f->c, INST, S("a"), NULL), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_get(&f->c, INST, S("a"), NULL), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_claim(&f->c, INST, S("a"), 0, &claimed), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_claim(&f->c, INST, S("a"), -5, &claimed), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_claim(&f->c, INST, S("a"), 5, NULL), ROOST_ERR_USAGE);
    assert_int_equal(claimed, -1);
    assert_null(e.config);
    struct roost_config_cache no_clock = f->c;
    no_clock.now = NULL;
    assert_roost_err(roost_config_cache_put(&no_clock, INST, S("a"), o), ROOST_ERR_USAGE);
    assert_roost_err(roost_config_cache_invalidate_all(NULL, &removed), ROOST_ERR_USAGE);
    assert_int_equal(removed, 0);
    /* nothing reached the store */
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, &removed));
    assert_int_equal(removed, 0);
    json_object_put(o);
    json_object_put(arr);
    json_object_put(str);
}

/* ---- claims ------------------------------------------------------------ */

static int claim_at(struct fx *f, const char *coll, const char *id, int64_t t, int64_t lease)
{
    roost_test_clock_set(t);
    int claimed = -1;
    assert_roost_ok(roost_config_cache_claim(&f->c, coll, S(id), lease, &claimed));
    assert_true(claimed == 0 || claimed == 1);
    return claimed;
}

static void test_config_cache__claim_lifecycle(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "claimed = 1 when this process got it (no claim, or
     * an expired one)"; the claim holds its expiry (now + lease) */
    assert_int_equal(claim_at(f, INST, "g", T0, 10), 1);
    assert_int_equal(claim_at(f, INST, "g", T0, 10), 0);       /* held, even for us */
    assert_int_equal(claim_at(f, INST, "g", T0 + 9, 10), 0);   /* lease - 1 */
    assert_int_equal(claim_at(f, INST, "g", T0 + 10, 10), 1);  /* expired at now + lease */
    assert_int_equal(claim_at(f, INST, "g", T0 + 15, 10), 0);  /* the new lease runs to T0 + 20 */
    /* "Drops this process's claim after a failed fetch." */
    assert_roost_ok(roost_config_cache_unclaim(&f->c, INST, S("g")));
    assert_int_equal(raw_exists(f, "config_claim:instances:g"), 0);
    assert_int_equal(claim_at(f, INST, "g", T0 + 15, 10), 1);
    /* unclaim with nothing claimed is fine */
    assert_roost_ok(roost_config_cache_unclaim(&f->c, INST, S("g")));
    assert_roost_ok(roost_config_cache_unclaim(&f->c, INST, S("g")));
    /* claims are per collection and id */
    assert_int_equal(claim_at(f, INST, "h", T0 + 15, 10), 1);
    assert_int_equal(claim_at(f, PROJ, "g", T0 + 15, 10), 1);
    assert_int_equal(claim_at(f, USER, "g", T0 + 15, 10), 1);
    assert_int_equal(claim_at(f, USER, "g", T0 + 15, 10), 0);
    /* a huge lease does not overflow into the past */
    assert_int_equal(claim_at(f, INST, "forever", T0, INT64_MAX), 1);
    assert_int_equal(claim_at(f, INST, "forever", T0 + 86400 * 365, 1), 0);
    /* claims are not cache entries and count nothing */
    assert_int_equal(state_at(f, INST, "g", T0 + 15), -1);
    assert_int_equal(evictions(f), 0);
}

static void test_config_cache__claim_value_and_clock_set_back(void **state)
{
    struct fx *f = *state;
    /* config_cache.c: {"claimed_at", "expires_at", "pid"} */
    assert_int_equal(claim_at(f, PROJ, "p", T0, 7), 1);
    struct roost_buf raw = ROOST_BUF_INIT, want = ROOST_BUF_INIT;
    assert_roost_ok(raw_get(f, "config_claim:projects:p", &raw));
    roost_buf_appendf(&want, "{\"claimed_at\":%lld,\"expires_at\":%lld,\"pid\":%ld}", (long long)T0,
                      (long long)(T0 + 7), (long)getpid());
    assert_string_equal(raw.ptr, want.ptr);
    /* a clock set back: the claim was made "in the future" and must not
     * outlive its lease by the size of the jump */
    assert_int_equal(claim_at(f, PROJ, "p", T0 - 1, 7), 1);
    assert_int_equal(claim_at(f, PROJ, "p", T0 - 1, 7), 0);
    roost_buf_release(&raw);
    roost_buf_release(&want);
}

static void test_config_cache__unreadable_claim_taken_over(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = { "", "garbage", "{}", "[]", "{\"expires_at\":99999999999}",
                                       "{\"claimed_at\":1,\"expires_at\":\"x\",\"pid\":1}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_put(f, "config_claim:instances:g", S(bad[i]));
        if (claim_at(f, INST, "g", T0, 10) != 1)
            fail_msg("claim over '%s' not taken", bad[i]);
        /* unclaim of an unreadable claim removes it as well */
        raw_put(f, "config_claim:instances:g", S(bad[i]));
        assert_roost_ok(roost_config_cache_unclaim(&f->c, INST, S("g")));
        assert_int_equal(raw_exists(f, "config_claim:instances:g"), 0);
    }
}

static void test_config_cache__unclaim_leaves_other_process_claim(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: "Drops this process's claim" - after our lease ran
     * out another worker's claim must survive our late unclaim */
    struct roost_buf other = ROOST_BUF_INIT;
    roost_buf_appendf(&other, "{\"claimed_at\":%lld,\"expires_at\":%lld,\"pid\":%ld}", (long long)T0,
                      (long long)(T0 + 10), (long)getpid() + 1);
    raw_put(f, "config_claim:instances:g", roost_buf_slice(&other));
    assert_roost_ok(roost_config_cache_unclaim(&f->c, INST, S("g")));
    assert_int_equal(raw_exists(f, "config_claim:instances:g"), 1);
    assert_int_equal(claim_at(f, INST, "g", T0 + 5, 10), 0);
    roost_buf_release(&other);
}

static void test_config_cache__put_drops_claim_in_one_write(void **state)
{
    struct fx *f = *state;
    /* config_cache.h: put "drops any claim on it"; config_cache.c: in the
     * same roost_store_apply as the entry - one write of the partition */
    assert_int_equal(claim_at(f, INST, "g", T0, 30), 1);
    assert_int_equal(claim_at(f, USER, "g", T0, 30), 1);
    uint64_t gen = meta_generation(f);
    put_text(f, INST, "g", "{}");
    assert_int_equal(meta_generation(f), gen + 1);
    assert_int_equal(raw_exists(f, "config_claim:instances:g"), 0);
    assert_int_equal(raw_exists(f, "instance_config:g"), 1);
    /* only that entry's claim */
    assert_int_equal(raw_exists(f, "config_claim:users:g"), 1);
    assert_int_equal(claim_at(f, INST, "g", T0, 30), 1);
    /* and with no claim standing the put still succeeds */
    put_text(f, PROJ, "g", "{}");
}

enum { RACERS = 8, RACE_ROUNDS = 5 };

struct race {
    const char *dir;
    const char *id;
};

static void test_config_cache__claim_race_one_winner(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 2: "Concurrent workers that all see an expired entry
     * must not stampede the config source (one fetches ...)" - RACERS
     * processes, each with its own store handle (store.h: opened after
     * fork), released at once: exactly one claims */
    for (int round = 0; round < RACE_ROUNDS; round++) {
        char id[16];
        snprintf(id, sizeof(id), "race-%d", round);
        int gate[2];
        assert_int_equal(pipe(gate), 0);
        pid_t pids[RACERS];
        fflush(stdout);
        fflush(stderr);
        for (int i = 0; i < RACERS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(gate[1]);
                char ch;
                if (read(gate[0], &ch, 1) != 0)
                    _exit(90);
                struct roost_store *st = NULL;
                if (roost_store_open(ts_of(f)->dir, &st) != ROOST_OK)
                    _exit(91);
                struct roost_config_cache c = f->c;
                c.store = st;
                c.counters = NULL;
                int claimed = -1;
                enum roost_err err = roost_config_cache_claim(&c, INST, S(id), 30, &claimed);
                roost_store_close(st);
                _exit(err ? 92 : claimed);
            }
        }
        close(gate[0]);
        close(gate[1]);
        int winners = 0;
        for (int i = 0; i < RACERS; i++) {
            int status = 0;
            while (waitpid(pids[i], &status, 0) < 0)
                assert_int_equal(errno, EINTR);
            if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                fail_msg("round %d: racer %d ended with status 0x%x", round, i, status);
            winners += WEXITSTATUS(status);
        }
        if (winners != 1)
            fail_msg("round %d: %d winners", round, winners);
        /* the claim stands for everyone else, this process included */
        assert_int_equal(claim_at(f, INST, id, T0, 30), 0);
    }
}

/* ---- invalidate -------------------------------------------------------- */

static void test_config_cache__invalidate_one(void **state)
{
    struct fx *f = *state;
    /* spec "Manual Cache Invalidation": invalidateCache('production');
     * config_cache.h: "Errors: KEY_NOT_FOUND. Counted as an eviction." */
    put_text(f, INST, "production", "{}");
    put_text(f, USER, "production", "{}");
    assert_roost_ok(roost_config_cache_invalidate(&f->c, INST, S("production")));
    assert_int_equal(evictions(f), 1);
    assert_int_equal(state_at(f, INST, "production", T0), -1);
    assert_roost_err(roost_config_cache_invalidate(&f->c, INST, S("production")),
                     ROOST_ERR_KEY_NOT_FOUND);
    assert_int_equal(evictions(f), 1);
    /* the same id in another collection is another entry */
    assert_int_equal(state_at(f, USER, "production", T0), F);
    /* a stale entry is removed the same way */
    put_text(f, PROJ, "p", "{}");
    roost_test_clock_set(T0 + 1000);
    assert_roost_ok(roost_config_cache_invalidate(&f->c, PROJ, S("p")));
    assert_int_equal(evictions(f), 2);
    /* counting is optional */
    f->c.counters = NULL;
    assert_roost_ok(roost_config_cache_invalidate(&f->c, USER, S("production")));
    assert_int_equal(evictions(f), 2);
}

struct key_count {
    size_t entries, claims, other;
};

static int count_keys(void *arg, struct roost_slice key, struct roost_slice value)
{
    (void)value;
    struct key_count *k = arg;
    switch (roost_keyspace_cache_key_decode(key, NULL, NULL)) {
    case ROOST_KEYSPACE_CACHE_ENTRY: k->entries++; break;
    case ROOST_KEYSPACE_CACHE_CLAIM: k->claims++; break;
    default: k->other++; break;
    }
    return 0;
}

static struct key_count meta_keys(struct fx *f)
{
    struct key_count k = { 0, 0, 0 };
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(ts_of(f)->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_roost_ok(roost_store_iterate(&sc, ROOST_SLICE_NULL, count_keys, &k));
    roost_store_end(&sc);
    return k;
}

enum { MANY = 1500, MANY_CLAIMS = 600 };

static void test_config_cache__invalidate_all_in_batches(void **state)
{
    struct fx *f = *state;
    /* spec: invalidateAllCaches() "Nuclear option"; config_cache.h
     * "Removes every cached config of every collection"; store.h: at most
     * ROOST_STORE_APPLY_MAX ops per apply. 2100 keys: 3 writes. */
    static const char *const colls[] = { INST, PROJ, USER };
    char id[32];
    for (int i = 0; i < MANY; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        roost_test_clock_set(T0 + i);
        put_text(f, colls[i % 3], id, "{\"n\":1}");
    }
    for (int i = 0; i < MANY_CLAIMS; i++) {
        snprintf(id, sizeof(id), "claimed-%d", i);
        assert_int_equal(claim_at(f, colls[i % 3], id, T0, 60), 1);
    }
    /* records of other families stay */
    raw_put(f, "instance:id-1", S("{\"id\":\"id-1\"}"));
    raw_put(f, "instance:id-2", S("{\"id\":\"id-2\"}"));
    struct key_count before = meta_keys(f);
    assert_int_equal(before.entries, MANY);
    assert_int_equal(before.claims, MANY_CLAIMS);
    assert_int_equal(before.other, 2);

    uint64_t gen = meta_generation(f);
    size_t removed = 0;
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, &removed));
    assert_int_equal(removed, MANY);
    assert_int_equal(evictions(f), MANY);
    size_t keys = MANY + MANY_CLAIMS;
    assert_int_equal(meta_generation(f) - gen, (keys + ROOST_STORE_APPLY_MAX - 1) / ROOST_STORE_APPLY_MAX);
    struct key_count after = meta_keys(f);
    assert_int_equal(after.entries, 0);
    assert_int_equal(after.claims, 0);
    assert_int_equal(after.other, 2);
    assert_int_equal(raw_exists(f, "instance:id-1"), 1);
    assert_int_equal(state_at(f, INST, "id-0", T0), -1);
    assert_int_equal(claim_at(f, INST, "claimed-0", T0, 60), 1);

    /* again: one claim to remove, no entry, no write beyond that one */
    gen = meta_generation(f);
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, &removed));
    assert_int_equal(removed, 0);
    assert_int_equal(evictions(f), MANY);
    assert_int_equal(meta_generation(f) - gen, 1);
    /* nothing at all: no write; removed may be NULL */
    gen = meta_generation(f);
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, NULL));
    assert_int_equal(meta_generation(f), gen);
}

static void test_config_cache__invalidate_all_exact_batch(void **state)
{
    struct fx *f = *state;
    /* exactly ROOST_STORE_APPLY_MAX keys: one write; one more: two */
    char id[32];
    for (int i = 0; i < ROOST_STORE_APPLY_MAX; i++) {
        snprintf(id, sizeof(id), "k%d", i);
        put_text(f, USER, id, "{}");
    }
    uint64_t gen = meta_generation(f);
    size_t removed = 0;
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, &removed));
    assert_int_equal(removed, ROOST_STORE_APPLY_MAX);
    assert_int_equal(meta_generation(f) - gen, 1);
    for (int i = 0; i <= ROOST_STORE_APPLY_MAX; i++) {
        snprintf(id, sizeof(id), "k%d", i);
        put_text(f, USER, id, "{}");
    }
    gen = meta_generation(f);
    assert_roost_ok(roost_config_cache_invalidate_all(&f->c, &removed));
    assert_int_equal(removed, ROOST_STORE_APPLY_MAX + 1);
    assert_int_equal(meta_generation(f) - gen, 2);
    assert_int_equal(evictions(f), 2 * ROOST_STORE_APPLY_MAX + 1);
}

/* ---- persistence ------------------------------------------------------- */

static void test_config_cache__entries_survive_reopen(void **state)
{
    struct fx *f = *state;
    /* store.h: "what it writes is durable ... once the operation returns
     * ROOST_OK"; counters.h: "Counts survive restarts" */
    put_text(f, INST, "keep", "{\"owner_id\":\"u1\",\"quota\":{\"max\":5}}");
    put_text(f, INST, "gone", "{}");
    assert_roost_ok(roost_config_cache_invalidate(&f->c, INST, S("gone")));
    assert_int_equal(claim_at(f, PROJ, "keep", T0, 60), 1);
    roost_store_close(ts_of(f)->st);
    ts_of(f)->st = NULL;
    roost_counters_close(f->ctr);
    f->ctr = NULL;

    assert_roost_ok(roost_store_open(ts_of(f)->dir, &ts_of(f)->st));
    assert_roost_ok(roost_counters_open(ts_of(f)->dir, &f->ctr));
    f->c.store = ts_of(f)->st;
    f->c.counters = f->ctr;
    struct roost_config_entry e = { 0 };
    roost_test_clock_set(T0 + 299);
    assert_roost_ok(roost_config_cache_get(&f->c, INST, S("keep"), &e));
    assert_int_equal(e.state, F);
    assert_int_equal(e.cached_at, T0);
    struct json_object *want = parse("{\"owner_id\":\"u1\",\"quota\":{\"max\":5}}");
    assert_true(json_object_equal(want, e.config));
    json_object_put(want);
    roost_config_entry_release(&e);
    assert_int_equal(state_at(f, INST, "gone", T0), -1);
    assert_int_equal(evictions(f), 1);
    assert_int_equal(claim_at(f, PROJ, "keep", T0 + 1, 60), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(test_config_cache__##name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_cache__classify_default_windows),
        cmocka_unit_test(test_config_cache__classify_custom_windows),
        cmocka_unit_test(test_config_cache__classify_extreme_stamps),
        T(get_windows_default),
        T(get_windows_custom),
        T(get_returns_entry_fields),
        T(entry_ttl_and_setting_stale_max),
        T(get_missing),
        T(purge_removes_and_counts),
        T(unreadable_entry_removed),
        T(unknown_members_tolerated),
        T(put_entry_json_exact),
        T(put_round_trip),
        T(put_depth_bound),
        T(put_replaces_and_restamps),
        T(usage_errors),
        T(claim_lifecycle),
        T(claim_value_and_clock_set_back),
        T(unreadable_claim_taken_over),
        T(unclaim_leaves_other_process_claim),
        T(put_drops_claim_in_one_write),
        T(claim_race_one_winner),
        T(invalidate_one),
        T(invalidate_all_in_batches),
        T(invalidate_all_exact_batch),
        T(entries_survive_reopen),
    };
    return cmocka_run_group_tests_name("config_cache", tests, NULL, NULL);
}
