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
 *   usage          keys and key+value bytes exact after put new,   issue 5 part 1 "usage figures (keys,
 *                  overwrite bigger/smaller, delete, delete of a    bytes) kept current on every write
 *                  missing key; record layout; removed at zero     and delete"; kv.h
 *   set_usage      overwrite, later writes count from it, zero     kv.h roost_kv_set_usage
 *   purge          1,000 keys and the usage record gone, repeat,   kv.h roost_kv_purge_instance "Safe to
 *                  a neighbour in the same partition untouched,    repeat after an interruption"
 *                  partial purge finished, wrong figures zeroed
 *   scan           every value once with id/key/type/data,         kv.h roost_kv_scan, scan_usage
 *                  unreadable reported, stop on error; usages
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
#include "hash.h"
#include "instance.h"
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

/* ---- usage figures (issue 5 part 1: "usage figures (keys, bytes) kept
 * current on every write and delete") ------------------------------------ */

static struct roost_instance_usage usage_of(void **state, const char *id)
{
    struct roost_instance_usage u = { -1, -1 };
    assert_roost_ok(roost_kv_usage(roost_test_store(state), roost_slice_cstr(id), &u));
    return u;
}

#define assert_usage(state, id, k, b) do { \
        struct roost_instance_usage u_ = usage_of((state), (id)); \
        if (u_.keys != (k) || u_.bytes != (b)) \
            fail_msg("usage of %s: %lld keys %lld bytes, want %lld keys %lld bytes", (id), \
                     (long long)u_.keys, (long long)u_.bytes, (long long)(k), (long long)(b)); \
    } while (0)

/* The raw usage record (keyspace.h "0x02 LEN ID" in the instance's DATA
 * partition); KEY_NOT_FOUND when there is none. */
static enum roost_err raw_usage(void **state, const char *id, struct roost_buf *out)
{
    struct roost_buf ukey = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, roost_slice_cstr(id));
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(roost_test_store(state), ROOST_STORE_DATA, roost_slice_cstr(id), &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&ukey), out);
    roost_store_end(&sc);
    roost_buf_release(&ukey);
    return err;
}

static void test_kv__usage_put_overwrite_delete(void **state)
{
    /* instance.h: "bytes = key bytes + value bytes" (the Content-Type and
     * our header do not count), kept by every put and delete */
    assert_usage(state, "u", 0, 0);                                  /* no keys yet */
    assert_roost_ok(put(state, "u", "key1", "text/plain", S("0123456789"), 100, NULL));
    assert_usage(state, "u", 1, 4 + 10);
    assert_roost_ok(put(state, "u", "k2", "", S("abc"), 100, NULL));
    assert_usage(state, "u", 2, 14 + 2 + 3);
    /* overwrite bigger, then smaller, with another Content-Type */
    assert_roost_ok(put(state, "u", "key1", "application/x-much-longer-type", S("0123456789012345678901234"),
                        100, NULL));
    assert_usage(state, "u", 2, 4 + 25 + 5);
    assert_roost_ok(put(state, "u", "key1", "", S("0"), 100, NULL));
    assert_usage(state, "u", 2, 4 + 1 + 5);
    assert_roost_ok(put(state, "u", "key1", "", ROOST_SLICE_NULL, 100, NULL));      /* empty value */
    assert_usage(state, "u", 2, 4 + 0 + 5);
    /* delete */
    assert_roost_ok(roost_kv_delete(roost_test_store(state), S("u"), S("k2")));
    assert_usage(state, "u", 1, 4);
    /* delete of a missing key: KEY_NOT_FOUND, figures unchanged */
    assert_roost_err(roost_kv_delete(roost_test_store(state), S("u"), S("k2")), ROOST_ERR_KEY_NOT_FOUND);
    assert_roost_err(roost_kv_delete(roost_test_store(state), S("u"), S("never")), ROOST_ERR_KEY_NOT_FOUND);
    assert_usage(state, "u", 1, 4);
    /* the last key gone: zero, and no record left behind */
    assert_roost_ok(roost_kv_delete(roost_test_store(state), S("u"), S("key1")));
    assert_usage(state, "u", 0, 0);
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_err(raw_usage(state, "u", &raw), ROOST_ERR_KEY_NOT_FOUND);
    roost_buf_release(&raw);
}

static void test_kv__usage_multibyte_key_counts_bytes(void **state)
{
    /* bytes, not characters: a 4-byte emoji key */
    assert_roost_ok(put(state, "u", "\xF0\x9F\x98\x80", "", S("xy"), 100, NULL));
    assert_usage(state, "u", 1, 4 + 2);
}

static void test_kv__usage_refused_put_changes_nothing(void **state)
{
    /* kv.h: "Size limits are checked before anything is written" - the
     * figures included */
    assert_roost_ok(put(state, "u", "k", "", S("12345"), 10, NULL));
    assert_roost_err(put(state, "u", "k", "", S("0123456789X"), 10, NULL), ROOST_ERR_VALUE_TOO_LARGE);
    assert_roost_err(put(state, "u", "new", "", S("0123456789X"), 10, NULL), ROOST_ERR_VALUE_TOO_LARGE);
    assert_roost_err(put(state, "u", "new", "bad\n", S("v"), 10, NULL), ROOST_ERR_INVALID_CONTENT_TYPE);
    assert_usage(state, "u", 1, 1 + 5);
}

static void test_kv__usage_record_layout(void **state)
{
    /* kv.h: usage lives "in the instance's DATA partition, next to its
     * keys"; instance.h "Fixed 16-byte little-endian encoding" */
    assert_roost_ok(put(state, "lay", "ab", "", S("xyz"), 100, NULL));
    assert_roost_ok(put(state, "lay", "c", "", S("0123456789"), 100, NULL));
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_ok(raw_usage(state, "lay", &raw));
    assert_int_equal(raw.len, ROOST_INSTANCE_USAGE_SIZE);
    static const unsigned char want[16] = { 2, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0 };
    assert_memory_equal(raw.ptr, want, 16);
    roost_buf_release(&raw);
}

static void test_kv__usage_per_instance(void **state)
{
    /* spec "Data Isolation": each instance's figures count its own keys */
    assert_roost_ok(put(state, "a", "k", "", S("1"), 100, NULL));
    assert_roost_ok(put(state, "ab", "k", "", S("22"), 100, NULL));
    assert_roost_ok(put(state, "ab", "kk", "", S("22"), 100, NULL));
    assert_usage(state, "a", 1, 2);
    assert_usage(state, "ab", 2, 3 + 4);
    assert_usage(state, "b", 0, 0);
}

static void test_kv__usage_damaged_record_does_not_stop_writes(void **state)
{
    /* kv.c read_usage: "Damaged figures must not stop writes" - they are
     * counted from zero again */
    assert_roost_ok(put(state, "d", "k", "", S("1"), 100, NULL));
    struct roost_buf ukey = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, S("d"));
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(roost_test_store(state), ROOST_STORE_DATA, S("d"), &sc));
    assert_roost_ok(roost_store_put(&sc, roost_buf_slice(&ukey), S("short"), 0, NULL));
    roost_store_end(&sc);
    roost_buf_release(&ukey);
    assert_usage(state, "d", 0, 0);
    assert_roost_ok(put(state, "d", "k2", "", S("22"), 100, NULL));
    assert_usage(state, "d", 1, 4);
    expect_stored(state, "d", "k2", ROOST_KV_DEFAULT_CONTENT_TYPE, S("22"));
}

/* ---- set_usage ---------------------------------------------------------- */

static void test_kv__set_usage(void **state)
{
    /* kv.h: "Overwrites the instance's usage record (check --repair, load)" */
    struct roost_instance_usage u = { 5, 500 };
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("su"), &u));
    assert_usage(state, "su", 5, 500);
    /* later writes count from the figures set */
    assert_roost_ok(put(state, "su", "k", "", S("12"), 100, NULL));
    assert_usage(state, "su", 6, 503);
    u.keys = 1;
    u.bytes = 3;
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("su"), &u));
    assert_usage(state, "su", 1, 3);
    /* zero: the record goes */
    struct roost_instance_usage zero = { 0, 0 };
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("su"), &zero));
    assert_usage(state, "su", 0, 0);
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_err(raw_usage(state, "su", &raw), ROOST_ERR_KEY_NOT_FOUND);
    /* and of an instance that never had one */
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("none"), &zero));
    roost_buf_release(&raw);
}

/* ---- purge ----------------------------------------------------------------- */

/* An id other than `of` whose DATA partition is the same (store_gdbm.c:
 * FNV-1a 64 of the id % ROOST_STORE_SHARDS). */
static void same_partition_id(const char *of, char *out, size_t cap)
{
    uint64_t want = roost_fnv1a64(of, strlen(of)) % ROOST_STORE_SHARDS;
    for (int i = 0; i < 10000; i++) {
        snprintf(out, cap, "neighbour-%d", i);
        if (roost_fnv1a64(out, strlen(out)) % ROOST_STORE_SHARDS == want && strcmp(out, of) != 0)
            return;
    }
    fail_msg("no id shares a partition with %s", of);
}

static void put_many(void **state, const char *id, int n, const char *fmt)
{
    for (int i = 0; i < n; i++) {
        char key[64], val[64];
        snprintf(key, sizeof(key), fmt, i);
        snprintf(val, sizeof(val), "value-%d", i);
        assert_roost_ok(put(state, id, key, "", roost_slice_cstr(val), 100, NULL));
    }
}

struct scan_count {
    const char *id;
    size_t values;           /* values of id */
    size_t others;           /* values of any other instance */
    size_t unreadable;
};

static enum roost_err count_values(void *arg, struct roost_slice id, struct roost_slice key,
                                   struct roost_slice ct, struct roost_slice data)
{
    (void)key; (void)ct;
    struct scan_count *c = arg;
    if (!data.ptr)
        c->unreadable++;
    if (roost_slice_eq_cstr(id, c->id))
        c->values++;
    else
        c->others++;
    return ROOST_OK;
}

static void test_kv__purge_removes_everything(void **state)
{
    /* kv.h purge: "Removes every key of the instance and its usage record
     * ... removed (may be NULL) counts the keys." - 1,000 keys, several
     * purge batches */
    put_many(state, "doomed", 1000, "key-%04d");
    /* keys "key-0000".. are 8 bytes; values "value-0".. 7, 8 or 9 bytes */
    assert_usage(state, "doomed", 1000, 1000 * 8 + 10 * 7 + 90 * 8 + 900 * 9);
    size_t removed = 0;
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("doomed"), &removed));
    assert_int_equal(removed, 1000);
    assert_usage(state, "doomed", 0, 0);
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_err(raw_usage(state, "doomed", &raw), ROOST_ERR_KEY_NOT_FOUND);
    roost_buf_release(&raw);
    expect_missing(state, "doomed", "key-0000");
    expect_missing(state, "doomed", "key-0500");
    expect_missing(state, "doomed", "key-0999");
    struct scan_count c = { "doomed", 0, 0, 0 };
    assert_roost_ok(roost_kv_scan(roost_test_store(state), count_values, &c));
    assert_int_equal(c.values, 0);
    /* "Safe to repeat" */
    removed = 77;
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("doomed"), &removed));
    assert_int_equal(removed, 0);
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("doomed"), NULL));
    /* and the instance can store again from zero */
    int created = -1;
    assert_roost_ok(put(state, "doomed", "key-0000", "", S("again"), 100, &created));
    assert_int_equal(created, 1);
    assert_usage(state, "doomed", 1, 8 + 5);
}

static void test_kv__purge_of_unknown_instance(void **state)
{
    size_t removed = 9;
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("never-was"), &removed));
    assert_int_equal(removed, 0);
}

static void test_kv__purge_leaves_partition_neighbours(void **state)
{
    /* spec "Data Isolation"; kv.h purge removes "every key of the
     * instance" - and not one of another instance that shares its
     * partition, nor of one whose id it is a prefix of */
    char neighbour[32];
    same_partition_id("victim", neighbour, sizeof(neighbour));
    put_many(state, "victim", 300, "k%d");
    put_many(state, neighbour, 40, "k%d");
    put_many(state, "victim2", 5, "k%d");
    put_many(state, "victi", 5, "k%d");
    struct roost_instance_usage nu = usage_of(state, neighbour);
    struct roost_instance_usage v2 = usage_of(state, "victim2");
    size_t removed = 0;
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("victim"), &removed));
    assert_int_equal(removed, 300);
    assert_usage(state, "victim", 0, 0);
    assert_usage(state, neighbour, nu.keys, nu.bytes);
    assert_int_equal(nu.keys, 40);
    assert_usage(state, "victim2", v2.keys, v2.bytes);
    assert_usage(state, "victi", 5, 5 * (2 + 7));
    for (int i = 0; i < 40; i++) {
        char key[16], val[32];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        expect_stored(state, neighbour, key, ROOST_KV_DEFAULT_CONTENT_TYPE, roost_slice_cstr(val));
    }
    expect_stored(state, "victim2", "k4", ROOST_KV_DEFAULT_CONTENT_TYPE, S("value-4"));
    expect_stored(state, "victi", "k0", ROOST_KV_DEFAULT_CONTENT_TYPE, S("value-0"));
    struct scan_count c = { "victim", 0, 0, 0 };
    assert_roost_ok(roost_kv_scan(roost_test_store(state), count_values, &c));
    assert_int_equal(c.values, 0);
    assert_int_equal(c.others, 50);
}

static void test_kv__purge_after_partial_purge(void **state)
{
    /* kv.h purge: "Safe to repeat after an interruption" - half the keys
     * gone already (as after a killed purge, whose batches each update the
     * figures), the rest goes and the figures end at zero */
    put_many(state, "half", 200, "k%03d");
    for (int i = 0; i < 200; i += 2) {
        char key[16];
        snprintf(key, sizeof(key), "k%03d", i);
        assert_roost_ok(roost_kv_delete(roost_test_store(state), S("half"), roost_slice_cstr(key)));
    }
    assert_int_equal(usage_of(state, "half").keys, 100);
    size_t removed = 0;
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("half"), &removed));
    assert_int_equal(removed, 100);
    assert_usage(state, "half", 0, 0);
}

static void test_kv__purge_with_wrong_figures(void **state)
{
    /* kv.c purge: "Whatever the figures said, an instance with no keys has
     * none" - figures too low (they would go negative) or too high */
    put_many(state, "skew", 10, "k%d");
    struct roost_instance_usage low = { 2, 5 };
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("skew"), &low));
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("skew"), NULL));
    assert_usage(state, "skew", 0, 0);
    put_many(state, "skew", 10, "k%d");
    struct roost_instance_usage high = { 5000, 1LL << 40 };
    assert_roost_ok(roost_kv_set_usage(roost_test_store(state), S("skew"), &high));
    assert_roost_ok(roost_kv_purge_instance(roost_test_store(state), S("skew"), NULL));
    assert_usage(state, "skew", 0, 0);
    struct roost_buf raw = ROOST_BUF_INIT;
    assert_roost_err(raw_usage(state, "skew", &raw), ROOST_ERR_KEY_NOT_FOUND);
    roost_buf_release(&raw);
}

/* ---- scan ------------------------------------------------------------------ */

struct seen_value {
    char id[ROOST_INSTANCE_ID_MAX + 1];
    char key[ROOST_KEY_MAX + 1];
    char ct[ROOST_CONTENT_TYPE_MAX + 1];
    unsigned char data[64];
    size_t data_len;
    int unreadable;
};

struct scan_log {
    struct seen_value v[64];
    size_t n;
    size_t stop_at;          /* 0: never; else return INTERNAL on that call */
};

static enum roost_err log_value(void *arg, struct roost_slice id, struct roost_slice key,
                                struct roost_slice ct, struct roost_slice data)
{
    struct scan_log *l = arg;
    assert_true(l->n < 64);
    struct seen_value *s = &l->v[l->n++];
    memset(s, 0, sizeof(*s));
    assert_true(id.len <= ROOST_INSTANCE_ID_MAX && key.len <= ROOST_KEY_MAX && ct.len <= ROOST_CONTENT_TYPE_MAX);
    memcpy(s->id, id.ptr, id.len);
    memcpy(s->key, key.ptr, key.len);
    if (ct.len)
        memcpy(s->ct, ct.ptr, ct.len);
    s->unreadable = data.ptr == NULL;
    if (data.ptr) {
        assert_true(data.len <= sizeof(s->data));
        if (data.len)
            memcpy(s->data, data.ptr, data.len);
        s->data_len = data.len;
    }
    if (l->stop_at && l->n == l->stop_at)
        return ROOST_ERR_INTERNAL;
    return ROOST_OK;
}

static const struct seen_value *find_seen(const struct scan_log *l, const char *id, const char *key)
{
    const struct seen_value *found = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].id, id) == 0 && strcmp(l->v[i].key, key) == 0) {
            if (found)
                fail_msg("scan reported %s/%s twice", id, key);
            found = &l->v[i];
        }
    }
    if (!found)
        fail_msg("scan did not report %s/%s", id, key);
    return found;
}

static void test_kv__scan_visits_every_value(void **state)
{
    /* kv.h scan: "Every value of the store, partition by partition ... fn
     * gets the instance id, key, content type and data"; usage records
     * "are not values" and are skipped */
    char neighbour[32];
    same_partition_id("scan-a", neighbour, sizeof(neighbour));
    assert_roost_ok(put(state, "scan-a", "k1", "text/plain", S("one"), 100, NULL));
    assert_roost_ok(put(state, "scan-a", "caf\xC3\xA9 key/with:colon", "", S("b\0n"), 100, NULL));
    assert_roost_ok(put(state, "scan-a", "empty", "application/json", ROOST_SLICE_NULL, 100, NULL));
    assert_roost_ok(put(state, neighbour, "k1", "image/png", S("\x89PNG"), 100, NULL));
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "spread-%d", i);
        assert_roost_ok(put(state, id, "k", "", roost_slice_cstr(id), 100, NULL));
    }
    struct scan_log *l = calloc(1, sizeof(*l));
    assert_roost_ok(roost_kv_scan(roost_test_store(state), log_value, l));
    assert_int_equal(l->n, 24);
    const struct seen_value *s = find_seen(l, "scan-a", "k1");
    assert_string_equal(s->ct, "text/plain");
    assert_int_equal(s->data_len, 3);
    assert_memory_equal(s->data, "one", 3);
    s = find_seen(l, "scan-a", "caf\xC3\xA9 key/with:colon");
    assert_string_equal(s->ct, ROOST_KV_DEFAULT_CONTENT_TYPE);
    assert_int_equal(s->data_len, 3);
    assert_memory_equal(s->data, "b\0n", 3);
    s = find_seen(l, "scan-a", "empty");
    assert_string_equal(s->ct, "application/json");
    assert_int_equal(s->data_len, 0);
    assert_false(s->unreadable);
    s = find_seen(l, neighbour, "k1");
    assert_string_equal(s->ct, "image/png");
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "spread-%d", i);
        s = find_seen(l, id, "k");
        assert_int_equal(s->data_len, strlen(id));
        assert_memory_equal(s->data, id, strlen(id));
    }
    free(l);
}

static void test_kv__scan_empty_store(void **state)
{
    struct scan_log *l = calloc(1, sizeof(*l));
    assert_roost_ok(roost_kv_scan(roost_test_store(state), log_value, l));
    assert_int_equal(l->n, 0);
    free(l);
}

static void test_kv__scan_reports_unreadable(void **state)
{
    /* kv.h scan: "unreadable ones are reported with data.ptr == NULL" */
    assert_roost_ok(put(state, "g", "good", "", S("fine"), 100, NULL));
    assert_roost_ok(raw_put(state, "g", "bad", S("\x07garbage")));
    struct scan_log *l = calloc(1, sizeof(*l));
    assert_roost_ok(roost_kv_scan(roost_test_store(state), log_value, l));
    assert_int_equal(l->n, 2);
    assert_true(find_seen(l, "g", "bad")->unreadable);
    assert_false(find_seen(l, "g", "good")->unreadable);
    free(l);
}

static void test_kv__scan_stops_on_error(void **state)
{
    /* kv.h scan: "Return non-OK from fn to stop." - and that is the result */
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "stop-%d", i);
        assert_roost_ok(put(state, id, "k", "", S("v"), 100, NULL));
    }
    struct scan_log *l = calloc(1, sizeof(*l));
    l->stop_at = 3;
    assert_roost_err(roost_kv_scan(roost_test_store(state), log_value, l), ROOST_ERR_INTERNAL);
    assert_int_equal(l->n, 3);
    /* no partition lock left behind */
    assert_roost_ok(put(state, "stop-0", "k2", "", S("v"), 100, NULL));
    free(l);
}

struct usage_log {
    char id[32][ROOST_INSTANCE_ID_MAX + 1];
    struct roost_instance_usage u[32];
    size_t n;
};

static enum roost_err log_usage(void *arg, struct roost_slice id, const struct roost_instance_usage *u)
{
    struct usage_log *l = arg;
    assert_true(l->n < 32 && id.len <= ROOST_INSTANCE_ID_MAX);
    memset(l->id[l->n], 0, sizeof(l->id[l->n]));
    memcpy(l->id[l->n], id.ptr, id.len);
    l->u[l->n++] = *u;
    return ROOST_OK;
}

static const struct roost_instance_usage *find_usage(const struct usage_log *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->id[i], id) == 0)
            return &l->u[i];
    return NULL;
}

static void test_kv__scan_usage(void **state)
{
    /* kv.h: "Usage records of every instance that has one (for check)" */
    char neighbour[32];
    same_partition_id("use-a", neighbour, sizeof(neighbour));
    assert_roost_ok(put(state, "use-a", "k", "", S("12345"), 100, NULL));
    assert_roost_ok(put(state, "use-a", "kk", "", S("1"), 100, NULL));
    assert_roost_ok(put(state, neighbour, "key", "", S("xy"), 100, NULL));
    assert_roost_ok(put(state, "use-c", "gone", "", S("xy"), 100, NULL));
    assert_roost_ok(roost_kv_delete(roost_test_store(state), S("use-c"), S("gone")));   /* no record left */
    struct usage_log *l = calloc(1, sizeof(*l));
    assert_roost_ok(roost_kv_scan_usage(roost_test_store(state), log_usage, l));
    assert_int_equal(l->n, 2);
    const struct roost_instance_usage *u = find_usage(l, "use-a");
    assert_non_null(u);
    assert_int_equal(u->keys, 2);
    assert_int_equal(u->bytes, 1 + 5 + 2 + 1);
    u = find_usage(l, neighbour);
    assert_non_null(u);
    assert_int_equal(u->keys, 1);
    assert_int_equal(u->bytes, 5);
    assert_null(find_usage(l, "use-c"));
    free(l);
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
        T(test_kv__usage_put_overwrite_delete),
        T(test_kv__usage_multibyte_key_counts_bytes),
        T(test_kv__usage_refused_put_changes_nothing),
        T(test_kv__usage_record_layout),
        T(test_kv__usage_per_instance),
        T(test_kv__usage_damaged_record_does_not_stop_writes),
        T(test_kv__set_usage),
        T(test_kv__purge_removes_everything),
        T(test_kv__purge_of_unknown_instance),
        T(test_kv__purge_leaves_partition_neighbours),
        T(test_kv__purge_after_partial_purge),
        T(test_kv__purge_with_wrong_figures),
        T(test_kv__scan_visits_every_value),
        T(test_kv__scan_empty_store),
        T(test_kv__scan_reports_unreadable),
        T(test_kv__scan_stops_on_error),
        T(test_kv__scan_usage),
    };
#undef T
    return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}
