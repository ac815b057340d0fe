/*
 * test_keyspace.c - lib/keyspace.h: the key syntax and every store key.
 *
 * Test organization
 *   group           what it checks                                rule
 *   key syntax      1..512 bytes, UTF-8, no controls, '/' ':'     DESIGN.md "API rules": Keys
 *                   allowed, multibyte characters at the bound
 *   data keys       exact layout, injectivity over many tricky    keyspace.h DATA layout;
 *                   (id, key) pairs, decode round trip            DESIGN.md "collision-proof"
 *   prefixes        an instance's prefix covers all its keys and  store.h iterate by prefix;
 *                   none of another instance's ("a" vs "ab")      spec "Data Isolation"
 *   meta keys       "instance:{id}", "instance_config:{id}" and   keyspace.h META layout;
 *                   the instance-key decoder                      instance-lookup.md key format
 *   usage keys      0x02 LEN ID layout, decode round trip and     keyspace.h usage record
 *                   refusals, never a data key nor under any      (issue 5 part 1 usage figures)
 *                   instance's data prefix
 *   config cache    "instance_config:{id}" (and project_, user_),  keyspace.h META layout;
 *                   "config_claim:{collection}:{id}" layouts,      config_cache.h; issue 6
 *                   unknown collections refused, decode round      part 1 (project and user
 *                   trip and refusals, all META families           lookups cached like configs)
 *                   pairwise disjoint over tricky ids
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "keyspace.h"
#include "limits.h"
#include "testlib.h"

static int key_ok(const char *p, size_t n)
{
    return roost_keyspace_key_valid(roost_slice_make(p, n));
}

#define KEY_OK(lit) (key_ok((lit), sizeof(lit) - 1))

/* A key of n bytes: fill ASCII 'k', then the given tail. */
static char *make_key(size_t fill, const char *tail, size_t tail_len, size_t *len)
{
    char *k = malloc(fill + tail_len + 1);
    assert_non_null(k);
    memset(k, 'k', fill);
    memcpy(k + fill, tail, tail_len);
    k[fill + tail_len] = '\0';
    *len = fill + tail_len;
    return k;
}

/* ---- key syntax -------------------------------------------------------- */

static void test_keyspace__key_length_bounds(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "1–512 bytes of valid UTF-8" */
    size_t n;
    char *k = make_key(ROOST_KEY_MAX + 1, "", 0, &n);
    assert_int_equal(ROOST_KEY_MAX, 512);
    assert_int_equal(key_ok(k, 1), 1);
    assert_int_equal(key_ok(k, 512), 1);
    assert_int_equal(key_ok(k, 513), 0);
    assert_int_equal(key_ok(k, 0), 0);
    assert_int_equal(roost_keyspace_key_valid(ROOST_SLICE_NULL), 0);
    assert_int_equal(roost_keyspace_key_valid(roost_slice_cstr("")), 0);
    free(k);
}

static void test_keyspace__key_multibyte_at_the_bound(void **state)
{
    (void)state;
    /* The bound is in bytes, not characters (DESIGN.md: "1–512 bytes"). */
    static const struct {
        const char *ch;
        size_t len;
    } chars[] = { { "\xC3\xA9", 2 }, { "\xE2\x82\xAC", 3 }, { "\xF0\x9F\x98\x80", 4 } };
    for (size_t i = 0; i < 3; i++) {
        size_t n;
        char *k = make_key(ROOST_KEY_MAX - chars[i].len, chars[i].ch, chars[i].len, &n);
        assert_int_equal(n, 512);
        if (!key_ok(k, n))
            fail_msg("512-byte key ending in a %zu-byte character rejected", chars[i].len);
        free(k);
        k = make_key(ROOST_KEY_MAX - chars[i].len + 1, chars[i].ch, chars[i].len, &n);
        assert_int_equal(n, 513);
        if (key_ok(k, n))
            fail_msg("513-byte key ending in a %zu-byte character accepted", chars[i].len);
        /* the first 512 bytes of it end inside the character: not UTF-8 */
        if (key_ok(k, 512))
            fail_msg("key cut inside a %zu-byte character accepted", chars[i].len);
        free(k);
    }
    /* 128 four-byte characters are exactly 512 bytes */
    char k[512];
    for (int i = 0; i < 128; i++)
        memcpy(k + 4 * i, "\xF0\x9F\x98\x80", 4);
    assert_int_equal(key_ok(k, 512), 1);
}

static void test_keyspace__key_rejects_control_characters(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "valid UTF-8 with no control characters" */
    for (int c = 0; c < 0x20; c++) {
        char k[3] = { 'a', (char)c, 'b' };
        if (key_ok(k, 3))
            fail_msg("key with control byte %02X accepted", c);
    }
    assert_int_equal(KEY_OK("a\x7f"), 0);            /* DEL */
    assert_int_equal(KEY_OK("a\0b"), 0);             /* NUL inside */
    assert_int_equal(KEY_OK("\xC2\x85"), 0);         /* U+0085 NEL, a C1 control */
    assert_int_equal(KEY_OK("x\xC2\x9F"), 0);        /* U+009F */
    assert_int_equal(KEY_OK("line\n"), 0);
    assert_int_equal(KEY_OK("tab\there"), 0);
}

static void test_keyspace__key_rejects_invalid_utf8(void **state)
{
    (void)state;
    assert_int_equal(KEY_OK("\xFF"), 0);
    assert_int_equal(KEY_OK("a\xC0\xAF"), 0);        /* overlong '/' */
    assert_int_equal(KEY_OK("\xED\xA0\x80"), 0);     /* surrogate */
    assert_int_equal(KEY_OK("abc\xE2\x82"), 0);      /* truncated at the end */
    assert_int_equal(KEY_OK("\xF4\x90\x80\x80"), 0); /* above U+10FFFF */
    assert_int_equal(KEY_OK("\x80"), 0);
}

static void test_keyspace__key_accepts_separators_and_text(void **state)
{
    (void)state;
    /* DESIGN.md: "/ inside a key is sent as %2F" - so '/' is a key byte;
     * ':' is the peer's separator and must be an ordinary byte here. */
    assert_int_equal(KEY_OK("a/b"), 1);
    assert_int_equal(KEY_OK("/"), 1);
    assert_int_equal(KEY_OK(":"), 1);
    assert_int_equal(KEY_OK("instance:x"), 1);
    assert_int_equal(KEY_OK("player-score"), 1);
    assert_int_equal(KEY_OK("with space"), 1);
    assert_int_equal(KEY_OK("%2F"), 1);              /* literal, already decoded */
    assert_int_equal(KEY_OK("."), 1);
    assert_int_equal(KEY_OK(".."), 1);
    assert_int_equal(KEY_OK("caf\xC3\xA9"), 1);
    assert_int_equal(KEY_OK("\xE3\x82\xAD\xE3\x83\xBC"), 1);   /* キー */
    assert_int_equal(KEY_OK("\xC2\xA0"), 1);         /* NBSP is not a control */
}

/* ---- data keys --------------------------------------------------------- */

static void test_keyspace__data_key_layout(void **state)
{
    (void)state;
    /* keyspace.h: "0x01 LEN ID KEY  LEN is one byte, the id's length" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "stale contents");
    roost_keyspace_data_key(&out, roost_slice_cstr("abc"), roost_slice_cstr("k/1"));
    assert_int_equal(out.len, 2 + 3 + 3);
    assert_memory_equal(out.ptr, "\x01\x03" "abc" "k/1", 8);   /* replaced, not appended */
    assert_int_equal(out.ptr[out.len], '\0');

    char id[65];
    memset(id, 'i', 64);
    id[64] = '\0';
    roost_keyspace_data_key(&out, roost_slice_make(id, 64), roost_slice_make("k\0k", 3));
    assert_int_equal(out.len, 2 + 64 + 3);
    assert_int_equal((unsigned char)out.ptr[0], ROOST_KEYSPACE_DATA_TAG);
    assert_int_equal((unsigned char)out.ptr[1], 64);
    assert_memory_equal(out.ptr + 66, "k\0k", 3);
    roost_buf_release(&out);
}

/* Ids and keys chosen to break naive joins: prefixes of each other,
 * separators of common schemes ('.', '-', '_', ':', '/'), bytes that look
 * like the tag and length bytes, and the longest id. */
static const char *const tricky_ids[] = {
    "a", "ab", "abc", "b", "bc", "c", "a.b", "a-b", "a_b", "a.", ".a", ".", "..", "-", "_",
    "a.b.c", "ab.c", "a.bc", "1", "01", "001", "A", "instance", "default",
    "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii", /* 64 */
    "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii",  /* 63 */
};
#define NIDS (sizeof(tricky_ids) / sizeof(tricky_ids[0]))

static const struct {
    const char *p;
    size_t len;
} tricky_keys[] = {
#define K(lit) { lit, sizeof(lit) - 1 }
    K("c"), K("bc"), K("abc"), K("b.c"), K(".c"), K("c."), K("b:c"), K(":c"), K("c:"), K(":"),
    K("::"), K("b-c"), K("-c"), K("b_c"), K("_c"), K("/"), K("b/c"), K("/c"), K("a"), K("ab"),
    K("b"), K("."), K(".."), K("instance:a"), K("a:b"), K("\xC3\xA9"), K("k\xC3\xA9y"),
    /* bytes resembling the layout's tag and length bytes */
    K("\x01"), K("\x01\x01" "a"), K("\x02" "ab"), K("\x01\x02" "abc"), K("\x40"),
#undef K
};
#define NKEYS (sizeof(tricky_keys) / sizeof(tricky_keys[0]))

struct pair_key {
    size_t id, key;
    struct roost_buf stored;
};

static struct pair_key *all_pairs(size_t *count)
{
    struct pair_key *p = calloc(NIDS * NKEYS, sizeof(*p));
    assert_non_null(p);
    size_t n = 0;
    for (size_t i = 0; i < NIDS; i++) {
        for (size_t k = 0; k < NKEYS; k++, n++) {
            p[n].id = i;
            p[n].key = k;
            roost_buf_init(&p[n].stored);
            roost_keyspace_data_key(&p[n].stored, roost_slice_cstr(tricky_ids[i]),
                                    roost_slice_make(tricky_keys[k].p, tricky_keys[k].len));
        }
    }
    *count = n;
    return p;
}

static void free_pairs(struct pair_key *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        roost_buf_release(&p[i].stored);
    free(p);
}

static void test_keyspace__data_keys_are_collision_proof(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "Namespacing must be collision-proof: no
     * (instance, key) pair may ever map to the same store key as another
     * pair (the peer implementation's instance:{id}:{key} joins are not,
     * for ids or keys containing the separator)." */
    size_t n;
    struct pair_key *p = all_pairs(&n);
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            if (roost_slice_eq(roost_buf_slice(&p[a].stored), roost_buf_slice(&p[b].stored)))
                fail_msg("(\"%s\", key #%zu) and (\"%s\", key #%zu) share a store key",
                         tricky_ids[p[a].id], p[a].key, tricky_ids[p[b].id], p[b].key);
    free_pairs(p, n);
}

static void test_keyspace__data_keys_named_collisions(void **state)
{
    (void)state;
    /* The concrete pairs that break "{id}{key}", "{id}.{key}", "{id}-{key}"
     * and "{id}:{key}" joins. */
    static const char *const pairs[][4] = {
        { "ab", "c", "a", "bc" },
        { "a.b", "c", "a", "b.c" },
        { "a-b", "c", "a", "b-c" },
        { "a_b", "c", "a", "b_c" },
        { "a", "b:c", "ab", ":c" },
        { "a.", "c", "a", ".c" },
    };
    struct roost_buf x = ROOST_BUF_INIT, y = ROOST_BUF_INIT;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        roost_keyspace_data_key(&x, roost_slice_cstr(pairs[i][0]), roost_slice_cstr(pairs[i][1]));
        roost_keyspace_data_key(&y, roost_slice_cstr(pairs[i][2]), roost_slice_cstr(pairs[i][3]));
        if (roost_slice_eq(roost_buf_slice(&x), roost_buf_slice(&y)))
            fail_msg("(\"%s\",\"%s\") collides with (\"%s\",\"%s\")", pairs[i][0], pairs[i][1],
                     pairs[i][2], pairs[i][3]);
    }
    roost_buf_release(&x);
    roost_buf_release(&y);
}

static void test_keyspace__data_keys_never_look_like_meta_keys(void **state)
{
    (void)state;
    /* keyspace.h: META keys start "instance:" / "instance_config:"; DATA
     * keys start with the tag byte, so no key of one family is one of the
     * other even if both ever shared a file. */
    size_t n;
    struct pair_key *p = all_pairs(&n);
    struct roost_slice id;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((unsigned char)p[i].stored.ptr[0], ROOST_KEYSPACE_DATA_TAG);
        assert_int_equal(roost_keyspace_instance_key_decode(roost_buf_slice(&p[i].stored), &id), -1);
    }
    free_pairs(p, n);
}

static void test_keyspace__data_key_decode_round_trip(void **state)
{
    (void)state;
    /* keyspace.h: "Splits a data key into borrowed views of its parts" */
    size_t n;
    struct pair_key *p = all_pairs(&n);
    for (size_t i = 0; i < n; i++) {
        struct roost_slice id = ROOST_SLICE_NULL, key = ROOST_SLICE_NULL;
        struct roost_slice stored = roost_buf_slice(&p[i].stored);
        assert_int_equal(roost_keyspace_data_key_decode(stored, &id, &key), 0);
        assert_true(roost_slice_eq_cstr(id, tricky_ids[p[i].id]));
        assert_true(roost_slice_eq(key, roost_slice_make(tricky_keys[p[i].key].p,
                                                         tricky_keys[p[i].key].len)));
        /* borrowed: the views point into the stored bytes */
        assert_true(id.ptr >= stored.ptr && id.ptr + id.len <= stored.ptr + stored.len);
        assert_true(key.ptr >= stored.ptr && key.ptr + key.len <= stored.ptr + stored.len);
    }
    free_pairs(p, n);
}

static void test_keyspace__data_key_decode_rejects_non_data_keys(void **state)
{
    (void)state;
    /* keyspace.h: "-1 if stored is not a data key" */
    static const struct {
        const char *p;
        size_t len;
        const char *why;
    } bad[] = {
        { "", 0, "empty" },
        { "\x01", 1, "tag only" },
        { "instance:abc", 12, "instance record key" },
        { "instance_config:abc", 19, "config cache key" },
        { "\x02\x01" "ak", 4, "wrong tag" },
        { "\x01\x00" "k", 3, "zero-length id" },
        { "\x01\x05" "ab", 4, "id longer than the rest" },
        { "\x01\x41" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "k", 68,
          "id of 65 bytes" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_slice id = ROOST_SLICE_NULL, key = ROOST_SLICE_NULL;
        if (roost_keyspace_data_key_decode(roost_slice_make(bad[i].p, bad[i].len), &id, &key) != -1)
            fail_msg("decoded a non-data key: %s", bad[i].why);
    }
}

/* ---- prefixes ---------------------------------------------------------- */

static int has_prefix(const struct roost_buf *s, const struct roost_buf *prefix)
{
    return s->len >= prefix->len && memcmp(s->ptr, prefix->ptr, prefix->len) == 0;
}

static void test_keyspace__prefix_covers_exactly_own_keys(void **state)
{
    (void)state;
    /* store.h: iterate "every key ... that starts with prefix"; spec "Data
     * Isolation": "Data stored by one instance cannot be accessed by
     * another". So the prefix of instance i starts every key of i and no
     * key of any other instance - in particular "a" vs "ab". */
    size_t n;
    struct pair_key *p = all_pairs(&n);
    struct roost_buf prefix = ROOST_BUF_INIT;
    for (size_t i = 0; i < NIDS; i++) {
        roost_keyspace_data_prefix(&prefix, roost_slice_cstr(tricky_ids[i]));
        for (size_t j = 0; j < n; j++) {
            int want = p[j].id == i;
            if (has_prefix(&p[j].stored, &prefix) != want)
                fail_msg("prefix of \"%s\" %s key #%zu of \"%s\"", tricky_ids[i],
                         want ? "misses" : "covers", p[j].key, tricky_ids[p[j].id]);
        }
    }
    roost_buf_release(&prefix);
    free_pairs(p, n);
}

static void test_keyspace__prefix_a_vs_ab(void **state)
{
    (void)state;
    /* keyspace.h: the length byte keeps id "a" from being a prefix of id "ab" */
    struct roost_buf pa = ROOST_BUF_INIT, pab = ROOST_BUF_INIT, k = ROOST_BUF_INIT;
    roost_keyspace_data_prefix(&pa, roost_slice_cstr("a"));
    roost_keyspace_data_prefix(&pab, roost_slice_cstr("ab"));
    roost_keyspace_data_key(&k, roost_slice_cstr("ab"), roost_slice_cstr("x"));
    assert_false(has_prefix(&k, &pa));
    assert_true(has_prefix(&k, &pab));
    roost_keyspace_data_key(&k, roost_slice_cstr("a"), roost_slice_cstr("bx"));
    assert_true(has_prefix(&k, &pa));
    assert_false(has_prefix(&k, &pab));
    /* the prefix is the key layout minus the key: replaced, not appended */
    roost_buf_append_str(&pa, "junk");
    roost_keyspace_data_prefix(&pa, roost_slice_cstr("a"));
    assert_int_equal(pa.len, 3);
    assert_memory_equal(pa.ptr, "\x01\x01" "a", 3);
    roost_buf_release(&pa);
    roost_buf_release(&pab);
    roost_buf_release(&k);
}

/* ---- meta keys --------------------------------------------------------- */

static void test_keyspace__instance_and_config_key_format(void **state)
{
    (void)state;
    /* keyspace.h: "instance:" ID and "instance_config:" ID
     * (instance-lookup.md: cache key instance_config:{id}) */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "old");
    roost_keyspace_instance_key(&out, roost_slice_cstr("game-instance-123"));
    assert_string_equal(out.ptr, "instance:game-instance-123");
    assert_int_equal(out.len, strlen("instance:game-instance-123"));
    roost_keyspace_config_key(&out, roost_slice_cstr("game-instance-123"));
    assert_string_equal(out.ptr, "instance_config:game-instance-123");
    assert_int_equal(out.len, strlen("instance_config:game-instance-123"));
    roost_buf_release(&out);
}

static void test_keyspace__instance_key_decode(void **state)
{
    (void)state;
    /* keyspace.h: "Id part of an instance-record key; 0 on success, -1 if
     * not one." */
    struct roost_buf out = ROOST_BUF_INIT;
    struct roost_slice id = ROOST_SLICE_NULL;
    for (size_t i = 0; i < NIDS; i++) {
        roost_keyspace_instance_key(&out, roost_slice_cstr(tricky_ids[i]));
        assert_int_equal(roost_keyspace_instance_key_decode(roost_buf_slice(&out), &id), 0);
        assert_true(roost_slice_eq_cstr(id, tricky_ids[i]));
        assert_true(id.ptr >= out.ptr && id.ptr + id.len <= out.ptr + out.len);
        /* "Ids never contain ':', so neither family can produce the
         * other's keys": a config key is never an instance key. */
        roost_keyspace_config_key(&out, roost_slice_cstr(tricky_ids[i]));
        assert_int_equal(roost_keyspace_instance_key_decode(roost_buf_slice(&out), &id), -1);
    }
    roost_buf_release(&out);
    assert_int_equal(roost_keyspace_instance_key_decode(roost_slice_cstr("instance"), &id), -1);
    assert_int_equal(roost_keyspace_instance_key_decode(roost_slice_cstr("Instance:a"), &id), -1);
    assert_int_equal(roost_keyspace_instance_key_decode(roost_slice_cstr("xinstance:a"), &id), -1);
    assert_int_equal(roost_keyspace_instance_key_decode(ROOST_SLICE_NULL, &id), -1);
    /* an empty id is no id (ids are 1-64 bytes) */
    assert_int_equal(roost_keyspace_instance_key_decode(roost_slice_cstr("instance:"), &id), -1);
}

/* ---- usage keys ---------------------------------------------------------- */

static void test_keyspace__usage_key_layout(void **state)
{
    (void)state;
    /* keyspace.h: "0x02 LEN ID (the tag keeps it apart from every data key)" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "stale contents");
    roost_keyspace_usage_key(&out, roost_slice_cstr("abc"));
    assert_int_equal(out.len, 2 + 3);
    assert_memory_equal(out.ptr, "\x02\x03" "abc", 5);          /* replaced, not appended */
    assert_int_equal(out.ptr[out.len], '\0');
    assert_int_equal(ROOST_KEYSPACE_USAGE_TAG, 0x02);
    char id[65];
    memset(id, 'i', 64);
    id[64] = '\0';
    roost_keyspace_usage_key(&out, roost_slice_make(id, 64));
    assert_int_equal(out.len, 66);
    assert_int_equal((unsigned char)out.ptr[1], 64);
    roost_buf_release(&out);
}

static void test_keyspace__usage_key_decode_round_trip(void **state)
{
    (void)state;
    /* keyspace.h: "Id of a usage key; 0 on success" - a borrowed view */
    struct roost_buf out = ROOST_BUF_INIT;
    for (size_t i = 0; i < NIDS; i++) {
        struct roost_slice id = ROOST_SLICE_NULL;
        roost_keyspace_usage_key(&out, roost_slice_cstr(tricky_ids[i]));
        assert_int_equal(roost_keyspace_usage_key_decode(roost_buf_slice(&out), &id), 0);
        assert_true(roost_slice_eq_cstr(id, tricky_ids[i]));
        assert_true(id.ptr >= out.ptr && id.ptr + id.len <= out.ptr + out.len);
    }
    roost_buf_release(&out);
}

static void test_keyspace__usage_key_decode_rejects(void **state)
{
    (void)state;
    /* keyspace.h: "-1 if stored is not one" */
    static const struct {
        const char *p;
        size_t len;
        const char *why;
    } bad[] = {
        { "", 0, "empty" },
        { "\x02", 1, "tag only" },
        { "\x02\x00", 2, "zero-length id" },
        { "\x02\x01", 2, "id missing" },
        { "\x02\x01" "ab", 4, "trailing bytes (a data key would have a key here)" },
        { "\x02\x03" "ab", 4, "id shorter than its length" },
        { "\x01\x01" "a", 3, "data tag" },
        { "\x01\x01" "ak", 4, "a data key" },
        { "instance:a", 10, "instance record key" },
        { "\x02\x41" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 67, "id of 65 bytes" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_slice id = ROOST_SLICE_NULL;
        if (roost_keyspace_usage_key_decode(roost_slice_make(bad[i].p, bad[i].len), &id) != -1)
            fail_msg("decoded a non-usage key: %s", bad[i].why);
    }
}

static void test_keyspace__usage_keys_apart_from_data_keys(void **state)
{
    (void)state;
    /* keyspace.h: "the tag keeps it apart from every data key" - no usage
     * key is a data key, none starts with any instance's data prefix (a
     * purge by prefix never removes it by accident), and no data key
     * decodes as a usage key */
    size_t n;
    struct pair_key *p = all_pairs(&n);
    struct roost_buf u = ROOST_BUF_INIT, prefix = ROOST_BUF_INIT;
    for (size_t i = 0; i < NIDS; i++) {
        roost_keyspace_usage_key(&u, roost_slice_cstr(tricky_ids[i]));
        struct roost_slice id, key;
        assert_int_equal(roost_keyspace_data_key_decode(roost_buf_slice(&u), &id, &key), -1);
        assert_int_equal(roost_keyspace_instance_key_decode(roost_buf_slice(&u), &id), -1);
        for (size_t j = 0; j < NIDS; j++) {
            roost_keyspace_data_prefix(&prefix, roost_slice_cstr(tricky_ids[j]));
            assert_false(has_prefix(&u, &prefix));
        }
        for (size_t j = 0; j < n; j++)
            assert_false(roost_slice_eq(roost_buf_slice(&u), roost_buf_slice(&p[j].stored)));
    }
    for (size_t j = 0; j < n; j++) {
        struct roost_slice id;
        assert_int_equal(roost_keyspace_usage_key_decode(roost_buf_slice(&p[j].stored), &id), -1);
    }
    roost_buf_release(&u);
    roost_buf_release(&prefix);
    free_pairs(p, n);
}

/* ---- config cache keys ------------------------------------------------- */

static const char *const collections[] = { "instances", "projects", "users" };
#define NCOLL 3

static void test_keyspace__cache_and_claim_key_format(void **state)
{
    (void)state;
    /* keyspace.h: "instance_config:{id}", "project_config:{id}", "user_config:{id}"
     * and "config_claim:{collection}:{id}";
     * instance-lookup.md "Cache Key Format": instance_config:{instanceId} */
    static const char *const want_entry[] = { "instance_config:game-1", "project_config:game-1",
                                              "user_config:game-1" };
    static const char *const want_claim[] = { "config_claim:instances:game-1",
                                              "config_claim:projects:game-1",
                                              "config_claim:users:game-1" };
    struct roost_buf out = ROOST_BUF_INIT, cfg = ROOST_BUF_INIT;
    for (size_t c = 0; c < NCOLL; c++) {
        assert_int_equal(roost_keyspace_collection_valid(collections[c]), 1);
        roost_buf_set_str(&out, "stale contents");
        assert_int_equal(roost_keyspace_cache_key(&out, collections[c], roost_slice_cstr("game-1")), 0);
        assert_string_equal(out.ptr, want_entry[c]);
        assert_int_equal(out.len, strlen(want_entry[c]));
        roost_buf_set_str(&out, "stale contents");
        assert_int_equal(roost_keyspace_claim_key(&out, collections[c], roost_slice_cstr("game-1")), 0);
        assert_string_equal(out.ptr, want_claim[c]);
        assert_int_equal(out.len, strlen(want_claim[c]));
    }
    /* the instance collection's key is the existing config key */
    roost_keyspace_cache_key(&out, "instances", roost_slice_cstr("x.y"));
    roost_keyspace_config_key(&cfg, roost_slice_cstr("x.y"));
    assert_true(roost_slice_eq(roost_buf_slice(&out), roost_buf_slice(&cfg)));
    /* named as the config source names them (config_source.h) */
    assert_string_equal(ROOST_KEYSPACE_COLLECTION_INSTANCE, "instances");
    assert_string_equal(ROOST_KEYSPACE_COLLECTION_PROJECT, "projects");
    assert_string_equal(ROOST_KEYSPACE_COLLECTION_USER, "users");
    roost_buf_release(&out);
    roost_buf_release(&cfg);
}

static void test_keyspace__cache_key_unknown_collection(void **state)
{
    (void)state;
    /* keyspace.h: "-1 (out emptied) if collection is not one of the three" */
    static const char *const bad[] = { "instance", "project", "user", "", "Instances",
                                       "instances:", "instances/", "config", "claim",
                                       "instance_config", "instances_config" };
    struct roost_buf out = ROOST_BUF_INIT;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(roost_keyspace_collection_valid(bad[i]), 0);
        roost_buf_set_str(&out, "junk");
        assert_int_equal(roost_keyspace_cache_key(&out, bad[i], roost_slice_cstr("a")), -1);
        assert_int_equal(out.len, 0);
        roost_buf_set_str(&out, "junk");
        assert_int_equal(roost_keyspace_claim_key(&out, bad[i], roost_slice_cstr("a")), -1);
        assert_int_equal(out.len, 0);
    }
    assert_int_equal(roost_keyspace_collection_valid(NULL), 0);
    assert_int_equal(roost_keyspace_cache_key(&out, NULL, roost_slice_cstr("a")), -1);
    assert_int_equal(roost_keyspace_claim_key(&out, NULL, roost_slice_cstr("a")), -1);
    roost_buf_release(&out);
}

static void test_keyspace__cache_key_decode_round_trip(void **state)
{
    (void)state;
    /* keyspace.h: decode returns the kind, the static collection name and
     * a view of the id inside stored */
    struct roost_buf out = ROOST_BUF_INIT;
    for (size_t i = 0; i < NIDS; i++) {
        for (size_t c = 0; c < NCOLL; c++) {
            for (int claim = 0; claim < 2; claim++) {
                if (claim)
                    roost_keyspace_claim_key(&out, collections[c], roost_slice_cstr(tricky_ids[i]));
                else
                    roost_keyspace_cache_key(&out, collections[c], roost_slice_cstr(tricky_ids[i]));
                const char *coll = NULL;
                struct roost_slice id = ROOST_SLICE_NULL;
                enum roost_keyspace_cache_kind kind =
                    roost_keyspace_cache_key_decode(roost_buf_slice(&out), &coll, &id);
                assert_int_equal(kind, claim ? ROOST_KEYSPACE_CACHE_CLAIM : ROOST_KEYSPACE_CACHE_ENTRY);
                assert_non_null(coll);
                assert_string_equal(coll, collections[c]);
                assert_true(roost_slice_eq_cstr(id, tricky_ids[i]));
                assert_true(id.ptr >= out.ptr && id.ptr + id.len <= out.ptr + out.len);
                /* the out-parameters may be NULL */
                assert_int_equal(roost_keyspace_cache_key_decode(roost_buf_slice(&out), NULL, NULL), kind);
            }
        }
    }
    roost_buf_release(&out);
}

static void test_keyspace__cache_key_decode_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        size_t len;
        const char *why;
    } bad[] = {
#define B(lit, why) { lit, sizeof(lit) - 1, why }
        B("", "empty"),
        B("instance:a", "instance record key"),
        B("instance_config:", "entry without id"),
        B("project_config:", "entry without id"),
        B("user_config:", "entry without id"),
        B("instance_config", "no ':'"),
        B("Instance_config:a", "case differs"),
        B("xinstance_config:a", "prefix not at the start"),
        B("tenant_config:a", "unknown collection"),
        B("config_claim:", "claim without collection"),
        B("config_claim:instances", "claim without ':' after the collection"),
        B("config_claim:instances:", "claim without id"),
        B("config_claim:instance:a", "singular collection"),
        B("config_claim:instancesx:a", "longer collection"),
        B("config_claim:inst:a", "truncated collection"),
        B("config_claim:tenants:a", "unknown collection"),
        B("config_claim:instances_a", "'_' where ':' belongs"),
        B("\x01\x01" "ak", "a data key"),
        B("\x02\x01" "a", "a usage key"),
        B("\x03\x01" "a", "a fence key"),
#undef B
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *coll = "untouched";
        struct roost_slice id = roost_slice_cstr("untouched");
        if (roost_keyspace_cache_key_decode(roost_slice_make(bad[i].p, bad[i].len), &coll, &id)
            != ROOST_KEYSPACE_NOT_CACHE)
            fail_msg("decoded a non-cache key: %s", bad[i].why);
        assert_string_equal(coll, "untouched");
        assert_true(roost_slice_eq_cstr(id, "untouched"));
    }
}

static void test_keyspace__meta_families_are_disjoint(void **state)
{
    (void)state;
    /* keyspace.h: "the text before a key's first ':' names its family and
     * no family can produce another's keys" - over every tricky id, the
     * instance key, and the entry and claim key of each collection: all
     * distinct, and each decodes only as what it is */
    enum { PER_ID = 1 + 2 * NCOLL };
    size_t n = NIDS * PER_ID;
    struct roost_buf *keys = calloc(n, sizeof(*keys));
    assert_non_null(keys);
    for (size_t i = 0; i < NIDS; i++) {
        struct roost_slice id = roost_slice_cstr(tricky_ids[i]);
        struct roost_buf *k = keys + i * PER_ID;
        for (size_t j = 0; j < PER_ID; j++)
            roost_buf_init(&k[j]);
        roost_keyspace_instance_key(&k[0], id);
        for (size_t c = 0; c < NCOLL; c++) {
            roost_keyspace_cache_key(&k[1 + c], collections[c], id);
            roost_keyspace_claim_key(&k[1 + NCOLL + c], collections[c], id);
        }
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            if (roost_slice_eq(roost_buf_slice(&keys[a]), roost_buf_slice(&keys[b])))
                fail_msg("'%s' built twice (#%zu and #%zu)", keys[a].ptr, a, b);
    for (size_t a = 0; a < n; a++) {
        struct roost_slice id;
        int is_instance = a % PER_ID == 0;
        assert_int_equal(roost_keyspace_instance_key_decode(roost_buf_slice(&keys[a]), &id),
                         is_instance ? 0 : -1);
        assert_int_equal(roost_keyspace_cache_key_decode(roost_buf_slice(&keys[a]), NULL, NULL)
                             == ROOST_KEYSPACE_NOT_CACHE,
                         is_instance);
        roost_buf_release(&keys[a]);
    }
    free(keys);
    /* and no DATA-area key is a cache key */
    size_t np;
    struct pair_key *p = all_pairs(&np);
    for (size_t j = 0; j < np; j++)
        assert_int_equal(roost_keyspace_cache_key_decode(roost_buf_slice(&p[j].stored), NULL, NULL),
                         ROOST_KEYSPACE_NOT_CACHE);
    free_pairs(p, np);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyspace__key_length_bounds),
        cmocka_unit_test(test_keyspace__key_multibyte_at_the_bound),
        cmocka_unit_test(test_keyspace__key_rejects_control_characters),
        cmocka_unit_test(test_keyspace__key_rejects_invalid_utf8),
        cmocka_unit_test(test_keyspace__key_accepts_separators_and_text),
        cmocka_unit_test(test_keyspace__data_key_layout),
        cmocka_unit_test(test_keyspace__data_keys_are_collision_proof),
        cmocka_unit_test(test_keyspace__data_keys_named_collisions),
        cmocka_unit_test(test_keyspace__data_keys_never_look_like_meta_keys),
        cmocka_unit_test(test_keyspace__data_key_decode_round_trip),
        cmocka_unit_test(test_keyspace__data_key_decode_rejects_non_data_keys),
        cmocka_unit_test(test_keyspace__prefix_covers_exactly_own_keys),
        cmocka_unit_test(test_keyspace__prefix_a_vs_ab),
        cmocka_unit_test(test_keyspace__instance_and_config_key_format),
        cmocka_unit_test(test_keyspace__instance_key_decode),
        cmocka_unit_test(test_keyspace__usage_key_layout),
        cmocka_unit_test(test_keyspace__usage_key_decode_round_trip),
        cmocka_unit_test(test_keyspace__usage_key_decode_rejects),
        cmocka_unit_test(test_keyspace__usage_keys_apart_from_data_keys),
        cmocka_unit_test(test_keyspace__cache_and_claim_key_format),
        cmocka_unit_test(test_keyspace__cache_key_unknown_collection),
        cmocka_unit_test(test_keyspace__cache_key_decode_round_trip),
        cmocka_unit_test(test_keyspace__cache_key_decode_rejects),
        cmocka_unit_test(test_keyspace__meta_families_are_disjoint),
    };
    return cmocka_run_group_tests_name("keyspace", tests, NULL, NULL);
}
