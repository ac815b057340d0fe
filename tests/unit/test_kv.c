/*
 * test_kv.c - lib/kv.h: the namespaced value cache, on a real store in a
 * temporary directory (roost_store_open; removed by the group teardown).
 *
 * Test organization
 *   group          what it checks                                  rule
 *   put/get        created 1 then 0, data and Content-Type back,   DESIGN.md "PUT/POST 201 when the key
 *                  default type, binary, empty value               was created, 200 when replaced";
 *                                                                  "Values are raw bytes, binary-safe"
 *   limits         exactly max ok, max+1 VALUE_TOO_LARGE and       kv.h "Size limits are checked before
 *                  nothing written                                 anything is written"
 *   delete         delete, then KEY_NOT_FOUND                      DESIGN.md "a missing key on GET or
 *                                                                  DELETE is 404 KEY_NOT_FOUND"
 *   isolation      same key in two instances; "a"/"ab" ids         spec "Data Isolation"
 *   content type   validity rules, refused types write nothing     kv.h content_type_valid
 *   on disk        value layout, unreadable values STORE_CORRUPT   kv.h "On disk" layout
 *   batch          order, found flags, empty n, stop on error,     kv.h roost_kv_batch_get
 *                  max_total_bytes boundary
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "keyspace.h"
#include "kv.h"
#include "limits.h"
#include "store.h"
#include "testlib.h"

static int setup(void **state)
{
    return roost_test_store_setup(state, "kv");
}

static int teardown(void **state)
{
    return roost_test_store_teardown(state);
}

#define S(lit) roost_slice_make((lit), sizeof(lit) - 1)


static enum roost_err put(void **state, const char *id, const char *key, const char *ct,
                          struct roost_slice data, size_t max, int *created)
{
    return roost_kv_put(roost_test_store(state), roost_slice_cstr(id), roost_slice_cstr(key),
                        roost_slice_cstr(ct), data, max, created);
}

static enum roost_err get(void **state, const char *id, const char *key, struct roost_kv_value *v)
{
    return roost_kv_get(roost_test_store(state), roost_slice_cstr(id), roost_slice_cstr(key), v);
}

static void expect_stored(void **state, const char *id, const char *key, const char *ct,
                         struct roost_slice data)
{
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    enum roost_err err = get(state, id, key, &v);
    if (err)
        fail_msg("get %s/%s: %s", id, key, roost_err_name(err));
    if (!roost_slice_eq_cstr(v.content_type, ct))
        fail_msg("get %s/%s: content type \"%.*s\", want \"%s\"", id, key,
                 (int)v.content_type.len, v.content_type.ptr, ct);
    assert_int_equal(v.data.len, data.len);
    if (data.len)
        assert_memory_equal(v.data.ptr, data.ptr, data.len);
    roost_kv_value_release(&v);
}

static void expect_missing(void **state, const char *id, const char *key)
{
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    assert_roost_err(get(state, id, key, &v), ROOST_ERR_KEY_NOT_FOUND);
    roost_kv_value_release(&v);
}

/* ---- put/get ----------------------------------------------------------- */

static void test_kv__put_created_then_replaced(void **state)
{
    /* DESIGN.md: "PUT/POST 201 when the key was created, 200 when replaced";
     * kv.h: "created ... is 1 when the key did not exist" */
    int created = -1;
    assert_roost_ok(put(state, "minecraft-server-001", "player-score", "application/octet-stream",
                        S("1500"), ROOST_VALUE_MAX_DEFAULT, &created));
    assert_int_equal(created, 1);
    expect_stored(state, "minecraft-server-001", "player-score", "application/octet-stream", S("1500"));
    created = -1;
    assert_roost_ok(put(state, "minecraft-server-001", "player-score", "text/plain", S("1600"),
                        ROOST_VALUE_MAX_DEFAULT, &created));
    assert_int_equal(created, 0);
    expect_stored(state, "minecraft-server-001", "player-score", "text/plain", S("1600"));
}

static void test_kv__put_created_may_be_null(void **state)
{
    /* kv.h: "created (may be NULL)" */
    assert_roost_ok(put(state, "g", "k", "", S("v"), 10, NULL));
    assert_roost_ok(put(state, "g", "k", "", S("w"), 10, NULL));
    expect_stored(state, "g", "k", ROOST_KV_DEFAULT_CONTENT_TYPE, S("w"));
}

static void test_kv__default_content_type(void **state)
{
    /* kv.h: "An empty content_type stores the default
     * (application/octet-stream)." */
    assert_roost_ok(put(state, "g", "k", "", S("x"), 10, NULL));
    expect_stored(state, "g", "k", "application/octet-stream", S("x"));
    assert_string_equal(ROOST_KV_DEFAULT_CONTENT_TYPE, "application/octet-stream");
}

static void test_kv__content_type_stored_verbatim(void **state)
{
    /* DESIGN.md: "the request's Content-Type is stored and returned" */
    assert_roost_ok(put(state, "g", "k", "text/plain; charset=utf-8", S("hi"), 10, NULL));
    expect_stored(state, "g", "k", "text/plain; charset=utf-8", S("hi"));
}

static void test_kv__binary_values(void **state)
{
    /* DESIGN.md: "Values are raw bytes, binary-safe" */
    unsigned char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (unsigned char)(i % 256);
    struct roost_slice data = roost_slice_make((const char *)all, sizeof(all));
    assert_roost_ok(put(state, "g", "bin", "", data, 1024, NULL));
    expect_stored(state, "g", "bin", ROOST_KV_DEFAULT_CONTENT_TYPE, data);
    assert_roost_ok(put(state, "g", "nul", "", S("\0"), 1024, NULL));
    expect_stored(state, "g", "nul", ROOST_KV_DEFAULT_CONTENT_TYPE, S("\0"));
}

static void test_kv__empty_value(void **state)
{
    /* DESIGN.md: "An empty body is a valid value (0 bytes): stored, and
     * returned as 200 with an empty body." */
    int created = -1;
    assert_roost_ok(put(state, "g", "empty", "text/plain", ROOST_SLICE_NULL, 10, &created));
    assert_int_equal(created, 1);
    expect_stored(state, "g", "empty", "text/plain", ROOST_SLICE_NULL);
    assert_roost_ok(put(state, "g", "empty", "", S(""), 0, &created));   /* max 0: empty fits */
    assert_int_equal(created, 0);
    expect_stored(state, "g", "empty", ROOST_KV_DEFAULT_CONTENT_TYPE, ROOST_SLICE_NULL);
}

static void test_kv__value_struct_reused(void **state)
{
    /* kv.h: "Reuse one across requests." - a short value read after a long
     * one is exactly the short one */
    char big[4000];
    memset(big, 'B', sizeof(big));
    assert_roost_ok(put(state, "g", "big", "application/x-big", roost_slice_make(big, sizeof(big)),
                        8000, NULL));
    assert_roost_ok(put(state, "g", "small", "text/x-s", S("s"), 8000, NULL));
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    assert_roost_ok(get(state, "g", "big", &v));
    assert_int_equal(v.data.len, sizeof(big));
    assert_roost_ok(get(state, "g", "small", &v));
    assert_true(roost_slice_eq_cstr(v.data, "s"));
    assert_true(roost_slice_eq_cstr(v.content_type, "text/x-s"));
    /* the slices point into raw */
    assert_true(v.data.ptr >= v.raw.ptr && v.data.ptr + v.data.len <= v.raw.ptr + v.raw.len);
    roost_kv_value_release(&v);
    roost_kv_value_release(&v);
}

static void test_kv__longest_key_and_id(void **state)
{
    /* 512-byte multibyte key under a 64-byte id: the largest store key */
    char key[513];
    for (int i = 0; i < 128; i++)
        memcpy(key + 4 * i, "\xF0\x9F\x98\x80", 4);
    key[512] = '\0';
    char id[65];
    memset(id, 'i', 64);
    id[64] = '\0';
    assert_true(roost_keyspace_key_valid(roost_slice_make(key, 512)));
    assert_roost_ok(put(state, id, key, "", S("v"), 10, NULL));
    expect_stored(state, id, key, ROOST_KV_DEFAULT_CONTENT_TYPE, S("v"));
}

/* ---- limits ------------------------------------------------------------ */

static void test_kv__max_size_exact_ok(void **state)
{
    /* kv.h: "VALUE_TOO_LARGE (data.len > max_value_bytes ...)" - equal is fine */
    char *big = malloc(ROOST_VALUE_MAX_DEFAULT);
    assert_non_null(big);
    for (size_t i = 0; i < ROOST_VALUE_MAX_DEFAULT; i++)
        big[i] = (char)(i * 7);
    struct roost_slice data = roost_slice_make(big, ROOST_VALUE_MAX_DEFAULT);
    assert_roost_ok(put(state, "g", "max", "", data, ROOST_VALUE_MAX_DEFAULT, NULL));
    expect_stored(state, "g", "max", ROOST_KV_DEFAULT_CONTENT_TYPE, data);
    free(big);
}

static void test_kv__over_max_refused_old_value_intact(void **state)
{
    /* DESIGN.md: "Oversized bodies get 413 and nothing is written";
     * kv.h: "VALUE_TOO_LARGE (data.len > max_value_bytes, nothing written)" */
    assert_roost_ok(put(state, "g", "k", "text/old", S("0123456789abcdef"), 16, NULL));
    int created = -1;
    assert_roost_err(put(state, "g", "k", "text/new", S("0123456789abcdefX"), 16, &created),
                     ROOST_ERR_VALUE_TOO_LARGE);
    expect_stored(state, "g", "k", "text/old", S("0123456789abcdef"));
    /* a new key over the limit is not created either */
    assert_roost_err(put(state, "g", "new", "", S("0123456789abcdefX"), 16, NULL),
                     ROOST_ERR_VALUE_TOO_LARGE);
    expect_missing(state, "g", "new");
    assert_roost_err(put(state, "g", "new", "", S("x"), 0, NULL), ROOST_ERR_VALUE_TOO_LARGE);
    expect_missing(state, "g", "new");
}

/* ---- delete ------------------------------------------------------------ */

static void test_kv__delete_then_not_found(void **state)
{
    /* DESIGN.md: "DELETE 204 with no body; a missing key on GET or DELETE
     * is 404 KEY_NOT_FOUND" */
    assert_roost_ok(put(state, "g", "k", "", S("v"), 10, NULL));
    assert_roost_ok(roost_kv_delete(roost_test_store(state), S("g"), S("k")));
    expect_missing(state, "g", "k");
    assert_roost_err(roost_kv_delete(roost_test_store(state), S("g"), S("k")), ROOST_ERR_KEY_NOT_FOUND);
    assert_roost_err(roost_kv_delete(roost_test_store(state), S("g"), S("never")), ROOST_ERR_KEY_NOT_FOUND);
    /* put after delete creates again */
    int created = -1;
    assert_roost_ok(put(state, "g", "k", "", S("v2"), 10, &created));
    assert_int_equal(created, 1);
}

static void test_kv__get_missing(void **state)
{
    /* kv.h get: "Errors: KEY_NOT_FOUND" - also for an instance that never stored anything */
    expect_missing(state, "g", "nothing-here");
    expect_missing(state, "never-seen-instance", "k");
}

/* ---- isolation --------------------------------------------------------- */

static void test_kv__isolation_between_instances(void **state)
{
    /* spec "Data Isolation": "Data stored by one instance cannot be
     * accessed by another"; spec example: minecraft-server-002 gets 404 */
    assert_roost_ok(put(state, "minecraft-server-001", "player-score", "", S("1500"), 10, NULL));
    expect_missing(state, "minecraft-server-002", "player-score");
    int created = -1;
    assert_roost_ok(put(state, "minecraft-server-002", "player-score", "", S("7"), 10, &created));
    assert_int_equal(created, 1);                   /* not the other's key */
    expect_stored(state, "minecraft-server-001", "player-score", ROOST_KV_DEFAULT_CONTENT_TYPE, S("1500"));
    expect_stored(state, "minecraft-server-002", "player-score", ROOST_KV_DEFAULT_CONTENT_TYPE, S("7"));
    assert_roost_ok(roost_kv_delete(roost_test_store(state), S("minecraft-server-001"), S("player-score")));
    expect_stored(state, "minecraft-server-002", "player-score", ROOST_KV_DEFAULT_CONTENT_TYPE, S("7"));
}

static void test_kv__isolation_prefix_ids(void **state)
{
    /* DESIGN.md "collision-proof": ("ab","c") and ("a","bc") are different
     * entries, as are ("a.b","c") and ("a","b.c") */
    assert_roost_ok(put(state, "ab", "c", "", S("ab|c"), 10, NULL));
    int created = -1;
    assert_roost_ok(put(state, "a", "bc", "", S("a|bc"), 10, &created));
    assert_int_equal(created, 1);
    assert_roost_ok(put(state, "a.b", "c", "", S("a.b|c"), 10, NULL));
    assert_roost_ok(put(state, "a", "b.c", "", S("a|b.c"), 10, &created));
    assert_int_equal(created, 1);
    expect_stored(state, "ab", "c", ROOST_KV_DEFAULT_CONTENT_TYPE, S("ab|c"));
    expect_stored(state, "a", "bc", ROOST_KV_DEFAULT_CONTENT_TYPE, S("a|bc"));
    expect_stored(state, "a.b", "c", ROOST_KV_DEFAULT_CONTENT_TYPE, S("a.b|c"));
    expect_stored(state, "a", "b.c", ROOST_KV_DEFAULT_CONTENT_TYPE, S("a|b.c"));
    expect_missing(state, "a", "c");
    expect_missing(state, "ab", "bc");
}

/* ---- content type ------------------------------------------------------ */

static void test_kv__content_type_validity(void **state)
{
    (void)state;
    /* kv.h: "at most ROOST_CONTENT_TYPE_MAX bytes of printable ASCII (it is
     * sent back as a header)" */
    char ct[ROOST_CONTENT_TYPE_MAX + 2];
    memset(ct, 'a', sizeof(ct));
    assert_true(roost_kv_content_type_valid(roost_slice_make(ct, ROOST_CONTENT_TYPE_MAX)));
    assert_false(roost_kv_content_type_valid(roost_slice_make(ct, ROOST_CONTENT_TYPE_MAX + 1)));
    assert_true(roost_kv_content_type_valid(S("")));          /* empty: the default */
    assert_true(roost_kv_content_type_valid(S("text/plain; charset=\"utf-8\"")));
    assert_true(roost_kv_content_type_valid(S(" ~!")));
    static const char *const bad[] = {
        "text/plain\r\nX-Evil: 1", "text/plain\n", "a\rb", "a\tb", "a\x7f", "a\x01",
        "text/plain; name=caf\xC3\xA9", "\xC2\x85",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (roost_kv_content_type_valid(roost_slice_cstr(bad[i])))
            fail_msg("content type #%zu accepted", i);
    assert_false(roost_kv_content_type_valid(S("a\0b")));
}

static void test_kv__invalid_content_type_writes_nothing(void **state)
{
    /* kv.h: "Errors: ... INVALID_CONTENT_TYPE"; kv.h "Size limits are
     * checked before anything is written" - and so is the type */
    assert_roost_err(put(state, "g", "k", "text/plain\r\nSet-Cookie: a=b", S("v"), 10, NULL),
                     ROOST_ERR_INVALID_CONTENT_TYPE);
    expect_missing(state, "g", "k");
    assert_roost_ok(put(state, "g", "k", "text/old", S("v"), 10, NULL));
    assert_roost_err(put(state, "g", "k", "bad\x01", S("new"), 10, NULL),
                     ROOST_ERR_INVALID_CONTENT_TYPE);
    expect_stored(state, "g", "k", "text/old", S("v"));
}

/* ---- on disk ----------------------------------------------------------- */

static enum roost_err raw_put(void **state, const char *id, const char *key, struct roost_slice raw)
{
    struct roost_buf skey = ROOST_BUF_INIT;
    roost_keyspace_data_key(&skey, roost_slice_cstr(id), roost_slice_cstr(key));
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(roost_test_store(state), ROOST_STORE_DATA, roost_slice_cstr(id), &sc);
    if (!err)
        err = roost_store_put(&sc, roost_buf_slice(&skey), raw, 0, NULL);
    roost_store_end(&sc);
    roost_buf_release(&skey);
    return err;
}

static enum roost_err raw_get(void **state, const char *id, const char *key, struct roost_buf *out)
{
    struct roost_buf skey = ROOST_BUF_INIT;
    roost_keyspace_data_key(&skey, roost_slice_cstr(id), roost_slice_cstr(key));
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(roost_test_store(state), ROOST_STORE_DATA, roost_slice_cstr(id), &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&skey), out);
    roost_store_end(&sc);
    roost_buf_release(&skey);
    return err;
}

static void test_kv__on_disk_layout(void **state)
{
    /* kv.h: "VERSION(1 byte = 1) CTLEN(1 byte) CONTENT-TYPE(CTLEN bytes)
     * DATA", stored under keyspace's data key */
    assert_roost_ok(put(state, "g", "k", "text/plain", S("a\0b"), 10, NULL));
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_ok(raw_get(state, "g", "k", &raw));
    assert_int_equal(raw.len, 2 + 10 + 3);
    assert_memory_equal(raw.ptr, "\x01\x0a" "text/plain" "a\0b", 15);
    roost_buf_release(&raw);

    /* a value written in that layout by hand reads back */
    assert_roost_ok(raw_put(state, "g", "hand", S("\x01\x09" "image/png" "\x89PNG")));
    expect_stored(state, "g", "hand", "image/png", S("\x89PNG"));
    assert_roost_ok(raw_put(state, "g", "hand0", S("\x01\x00")));
    expect_stored(state, "g", "hand0", "", ROOST_SLICE_NULL);
}

static void test_kv__unreadable_value_is_store_corrupt(void **state)
{
    /* kv.h: "Errors: ... STORE_CORRUPT (value unreadable)" */
    static const struct {
        const char *p;
        size_t len;
    } bad[] = {
        { "", 0 },                                  /* no header */
        { "\x01", 1 },                              /* no CTLEN */
        { "\x02\x00" "data", 6 },                   /* unknown version */
        { "\x00\x00" "data", 6 },
        { "\x01\x0a" "text", 6 },                   /* CTLEN past the end */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char key[16];
        snprintf(key, sizeof(key), "bad%zu", i);
        assert_roost_ok(raw_put(state, "g", key, roost_slice_make(bad[i].p, bad[i].len)));
        struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
        enum roost_err err = get(state, "g", key, &v);
        if (err != ROOST_ERR_STORE_CORRUPT)
            fail_msg("stored value #%zu: %s, want STORE_CORRUPT", i, roost_err_name(err));
        roost_kv_value_release(&v);
    }
}

/* ---- batch ------------------------------------------------------------- */

struct call {
    size_t index;
    int found;
    char ct[64];
    char data[64];
    size_t data_len;
};

struct recorder {
    struct call calls[32];
    size_t n;
    size_t stop_at;            /* index at which to return stop_err */
    enum roost_err stop_err;
};

static enum roost_err record(void *arg, size_t index, int found, struct roost_slice ct,
                             struct roost_slice data)
{
    struct recorder *r = arg;
    assert_true(r->n < 32);
    struct call *c = &r->calls[r->n++];
    c->index = index;
    c->found = found;
    assert_true(ct.len < sizeof(c->ct) && data.len <= sizeof(c->data));
    if (ct.len)
        memcpy(c->ct, ct.ptr, ct.len);
    c->ct[ct.len] = '\0';
    if (data.len)
        memcpy(c->data, data.ptr, data.len);
    c->data_len = data.len;
    if (r->stop_err && index == r->stop_at)
        return r->stop_err;
    return ROOST_OK;
}

static enum roost_err batch(void **state, const char *id, const struct roost_slice *keys, size_t n,
                            size_t max_total, struct recorder *r)
{
    return roost_kv_batch_get(roost_test_store(state), roost_slice_cstr(id), keys, n, max_total, record, r);
}

static void test_kv__batch_order_and_found(void **state)
{
    /* kv.h: "Called once per requested key, in order ... found is 0 for a
     * missing key (content_type and data are then empty)"; spec "Batch
     * Operations": player1, player2 found, player3 missing */
    assert_roost_ok(put(state, "game-001", "player1", "", S("Alice"), 100, NULL));
    assert_roost_ok(put(state, "game-001", "player2", "text/plain", S("Bob"), 100, NULL));
    assert_roost_ok(put(state, "game-002", "player3", "", S("Carol"), 100, NULL));
    const struct roost_slice keys[] = { S("player1"), S("player3"), S("player2"), S("player1") };
    struct recorder r = { .n = 0 };
    assert_roost_ok(batch(state, "game-001", keys, 4, ROOST_BATCH_RESPONSE_MAX, &r));
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(r.calls[i].index, i);
    assert_int_equal(r.calls[0].found, 1);
    assert_string_equal(r.calls[0].ct, ROOST_KV_DEFAULT_CONTENT_TYPE);
    assert_int_equal(r.calls[0].data_len, 5);
    assert_memory_equal(r.calls[0].data, "Alice", 5);
    assert_int_equal(r.calls[1].found, 0);                  /* other instance's key */
    assert_string_equal(r.calls[1].ct, "");
    assert_int_equal(r.calls[1].data_len, 0);
    assert_int_equal(r.calls[2].found, 1);
    assert_string_equal(r.calls[2].ct, "text/plain");
    assert_memory_equal(r.calls[2].data, "Bob", 3);
    assert_int_equal(r.calls[3].found, 1);
}

static void test_kv__batch_empty_value_is_found(void **state)
{
    assert_roost_ok(put(state, "g", "empty", "", ROOST_SLICE_NULL, 10, NULL));
    const struct roost_slice keys[] = { S("empty") };
    struct recorder r = { .n = 0 };
    assert_roost_ok(batch(state, "g", keys, 1, 0, &r));     /* 0 bytes fit in 0 */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.calls[0].found, 1);
    assert_int_equal(r.calls[0].data_len, 0);
}

static void test_kv__batch_no_keys(void **state)
{
    /* json_util.h: "an empty list is fine" - and kv batch of n = 0 calls nothing */
    struct recorder r = { .n = 0 };
    assert_roost_ok(batch(state, "g", NULL, 0, ROOST_BATCH_RESPONSE_MAX, &r));
    assert_int_equal(r.n, 0);
}

static void test_kv__batch_callback_error_stops(void **state)
{
    /* kv.h: "Return ROOST_OK to go on, an error to stop (it becomes the
     * batch's result)." */
    assert_roost_ok(put(state, "g", "a", "", S("1"), 10, NULL));
    const struct roost_slice keys[] = { S("a"), S("missing"), S("a"), S("a") };
    struct recorder r = { .n = 0, .stop_at = 1, .stop_err = ROOST_ERR_INTERNAL };
    assert_roost_err(batch(state, "g", keys, 4, ROOST_BATCH_RESPONSE_MAX, &r), ROOST_ERR_INTERNAL);
    assert_int_equal(r.n, 2);
    /* the scope was released: the instance is usable afterwards */
    assert_roost_ok(put(state, "g", "b", "", S("2"), 10, NULL));
}

static void test_kv__batch_response_limit(void **state)
{
    /* kv.h: "max_total_bytes bounds the sum of the values found: past it
     * the batch stops with BATCH_RESPONSE_TOO_LARGE." */
    assert_roost_ok(put(state, "g", "a", "", S("0123456789"), 100, NULL));
    assert_roost_ok(put(state, "g", "b", "", S("0123456789"), 100, NULL));
    assert_roost_ok(put(state, "g", "c", "", S("0123456789"), 100, NULL));
    const struct roost_slice keys[] = { S("a"), S("missing"), S("b"), S("c") };
    struct recorder r = { .n = 0 };
    assert_roost_ok(batch(state, "g", keys, 4, 30, &r));    /* exactly the limit */
    assert_int_equal(r.n, 4);
    r.n = 0;
    assert_roost_err(batch(state, "g", keys, 4, 29, &r), ROOST_ERR_BATCH_RESPONSE_TOO_LARGE);
    assert_true(r.n <= 3);                                   /* stopped at "c" */
    r.n = 0;
    assert_roost_err(batch(state, "g", keys, 4, 0, &r), ROOST_ERR_BATCH_RESPONSE_TOO_LARGE);
    /* missing keys cost nothing */
    const struct roost_slice none[] = { S("x"), S("y") };
    r.n = 0;
    assert_roost_ok(batch(state, "g", none, 2, 0, &r));
    assert_int_equal(r.n, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_kv__put_created_then_replaced),
        T(test_kv__put_created_may_be_null),
        T(test_kv__default_content_type),
        T(test_kv__content_type_stored_verbatim),
        T(test_kv__binary_values),
        T(test_kv__empty_value),
        T(test_kv__value_struct_reused),
        T(test_kv__longest_key_and_id),
        T(test_kv__max_size_exact_ok),
        T(test_kv__over_max_refused_old_value_intact),
        T(test_kv__delete_then_not_found),
        T(test_kv__get_missing),
        T(test_kv__isolation_between_instances),
        T(test_kv__isolation_prefix_ids),
        cmocka_unit_test(test_kv__content_type_validity),
        T(test_kv__invalid_content_type_writes_nothing),
        T(test_kv__on_disk_layout),
        T(test_kv__unreadable_value_is_store_corrupt),
        T(test_kv__batch_order_and_found),
        T(test_kv__batch_empty_value_is_found),
        T(test_kv__batch_no_keys),
        T(test_kv__batch_callback_error_stops),
        T(test_kv__batch_response_limit),
    };
#undef T
    return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}
