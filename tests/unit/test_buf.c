/*
 * test_buf.c - lib/buf.h: the growable byte buffer and the borrowed slice.
 *
 * Test organization
 *   group            what it checks                                  rule (buf.h)
 *   sentinel         ROOST_BUF_INIT/_init share roost_buf_empty,     "ptr never NULL after _init:
 *                    nothing ever writes into it                       points at a NUL at least"
 *   append           append/_str/_char/_slice/_set, growth           "len is the truth", NUL after
 *   grow             room is really reserved                         "Makes room for at least extra"
 *   reset/release    reset keeps the block, release returns to INIT  _reset/_release comments
 *   appendf          short and long (> internal probe) output        "printf-style append"
 *   binary           NUL bytes inside the contents                   "the contents may hold NULs"
 *   attach/detach    ownership hand-over both ways                   _attach/_detach comments
 *   slice            roost_slice helpers                             inline helpers
 *   alloc            checked allocators' results                     roost_x* helpers
 *
 * Every test ends by checking the NUL-terminator invariant on what it built.
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
#include "testlib.h"

/* buf.h: "They are always followed by a NUL that is not counted in len";
 * alloc is 0 exactly when ptr is the shared empty string. */
static void assert_buf_invariant(const struct roost_buf *b)
{
    assert_non_null(b->ptr);
    assert_int_equal(b->ptr[b->len], '\0');
    if (b->alloc == 0) {
        assert_ptr_equal(b->ptr, roost_buf_empty);
        assert_int_equal(b->len, 0);
    } else {
        assert_true(b->alloc >= b->len + 1);
        assert_ptr_not_equal(b->ptr, roost_buf_empty);
    }
}

static void assert_buf_bytes(const struct roost_buf *b, const void *want, size_t n)
{
    assert_int_equal(b->len, n);
    if (n)
        assert_memory_equal(b->ptr, want, n);
    assert_buf_invariant(b);
}

/* ---- sentinel ---------------------------------------------------------- */

static void test_buf__init_macro_points_at_shared_empty(void **state)
{
    (void)state;
    /* buf.h: "#define ROOST_BUF_INIT { roost_buf_empty, 0, 0 }" and
     * "alloc: 0 when ptr is the shared empty string" */
    struct roost_buf a = ROOST_BUF_INIT;
    struct roost_buf b = ROOST_BUF_INIT;
    assert_ptr_equal(a.ptr, roost_buf_empty);
    assert_ptr_equal(a.ptr, b.ptr);
    assert_int_equal(a.len, 0);
    assert_int_equal(a.alloc, 0);
    assert_string_equal(a.ptr, "");
    assert_buf_invariant(&a);
}

static void test_buf__init_function_matches_macro(void **state)
{
    (void)state;
    /* buf.h: roost_buf_init gives what ROOST_BUF_INIT gives, whatever b held */
    struct roost_buf b;
    memset(&b, 0x5a, sizeof(b));
    roost_buf_init(&b);
    assert_ptr_equal(b.ptr, roost_buf_empty);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
}

static void test_buf__empty_operations_leave_sentinel_untouched(void **state)
{
    (void)state;
    /* The sentinel is shared by every empty buffer of the process: writing
     * anything but its NUL into it would corrupt them all. */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_reset(&b);
    roost_buf_append(&b, "x", 0);
    roost_buf_append_str(&b, "");
    roost_buf_appendf(&b, "%s", "");
    roost_buf_release(&b);
    roost_buf_release(&b);           /* twice: still INIT, still fine */
    assert_int_equal(roost_buf_empty[0], '\0');
    assert_ptr_equal(b.ptr, roost_buf_empty);
    assert_int_equal(b.alloc, 0);
    assert_buf_invariant(&b);
}

static void test_buf__slice_of_empty_buffer_is_empty_string(void **state)
{
    (void)state;
    /* buf.h: "ptr never NULL after _init" - so its slice is a usable empty view */
    struct roost_buf b = ROOST_BUF_INIT;
    struct roost_slice s = roost_buf_slice(&b);
    assert_non_null(s.ptr);
    assert_int_equal(s.len, 0);
    assert_true(roost_slice_eq_cstr(s, ""));
}

/* ---- append ------------------------------------------------------------ */

static void test_buf__append_bytes(void **state)
{
    (void)state;
    /* buf.h: roost_buf_append adds n bytes, "followed by a NUL that is not counted in len" */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append(&b, "hello", 5);
    assert_buf_bytes(&b, "hello", 5);
    assert_string_equal(b.ptr, "hello");
    roost_buf_append(&b, ", world", 7);
    assert_buf_bytes(&b, "hello, world", 12);
    roost_buf_release(&b);
}

static void test_buf__append_variants(void **state)
{
    (void)state;
    /* buf.h: _append_str, _append_char and _append_slice are _append of their bytes */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "ab");
    roost_buf_append_char(&b, 'c');
    roost_buf_append_slice(&b, roost_slice_make("defXYZ", 3));
    roost_buf_append_slice(&b, ROOST_SLICE_NULL);   /* empty slice: no-op */
    assert_buf_bytes(&b, "abcdef", 6);
    roost_buf_release(&b);
}

static void test_buf__append_char_nul_is_counted(void **state)
{
    (void)state;
    /* "the contents may hold NULs of their own: len is the truth" */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_char(&b, '\0');
    roost_buf_append_char(&b, 'x');
    assert_buf_bytes(&b, "\0x", 2);
    roost_buf_release(&b);
}

static void test_buf__append_grows_across_many_reallocations(void **state)
{
    (void)state;
    /* buf.h: "a growable ... byte buffer" - contents survive every reallocation */
    struct roost_buf b = ROOST_BUF_INIT;
    for (size_t i = 0; i < 100000; i++) {
        roost_buf_append_char(&b, (char)('a' + i % 26));
        if (i % 9973 == 0)
            assert_buf_invariant(&b);
    }
    assert_int_equal(b.len, 100000);
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i] != (char)('a' + i % 26))
            fail_msg("byte %zu is %d", i, b.ptr[i]);
    assert_buf_invariant(&b);
    roost_buf_release(&b);
}

static void test_buf__append_one_large_block(void **state)
{
    (void)state;
    /* buf.h: growable - one append far larger than the block in hand */
    size_t n = 3 * 1024 * 1024 + 7;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31);
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_char(&b, '<');
    roost_buf_append(&b, big, n);
    assert_int_equal(b.len, n + 1);
    assert_int_equal(b.ptr[0], '<');
    assert_memory_equal(b.ptr + 1, big, n);
    assert_buf_invariant(&b);
    roost_buf_release(&b);
    free(big);
}

static void test_buf__set_replaces_contents(void **state)
{
    (void)state;
    /* buf.h: roost_buf_set replaces the contents (an empty set empties) */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "a long first value");
    roost_buf_set(&b, "xy", 2);
    assert_buf_bytes(&b, "xy", 2);
    roost_buf_set(&b, "", 0);
    assert_buf_bytes(&b, "", 0);
    roost_buf_release(&b);
}

/* ---- grow -------------------------------------------------------------- */

static void test_buf__grow_reserves_room_without_changing_contents(void **state)
{
    (void)state;
    /* buf.h: "Makes room for at least extra more bytes." So appending that
     * many bytes afterwards must not move the block. */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "abc");
    roost_buf_grow(&b, 1000);
    assert_true(b.alloc >= b.len + 1000 + 1);
    assert_buf_bytes(&b, "abc", 3);
    char *before = b.ptr;
    char chunk[1000];
    memset(chunk, 'z', sizeof(chunk));
    roost_buf_append(&b, chunk, sizeof(chunk));
    assert_ptr_equal(b.ptr, before);
    assert_int_equal(b.len, 1003);
    assert_buf_invariant(&b);
    roost_buf_release(&b);
}

static void test_buf__grow_zero_on_empty_gives_own_terminated_block(void **state)
{
    (void)state;
    /* buf.h: "never NULL after _init: points at a NUL at least", also after _grow */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_grow(&b, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.ptr[0], '\0');
    assert_buf_invariant(&b);
    roost_buf_release(&b);
    assert_ptr_equal(b.ptr, roost_buf_empty);
}

/* ---- reset / release ------------------------------------------------------ */

static void test_buf__reset_keeps_allocation(void **state)
{
    (void)state;
    /* buf.h: "Empties b but keeps its allocation for reuse." */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "some bytes");
    char *p = b.ptr;
    size_t alloc = b.alloc;
    roost_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.ptr, p);
    assert_int_equal(b.alloc, alloc);
    assert_string_equal(b.ptr, "");
    assert_buf_invariant(&b);
    roost_buf_append_str(&b, "new");
    assert_ptr_equal(b.ptr, p);
    assert_buf_bytes(&b, "new", 3);
    roost_buf_release(&b);
}

static void test_buf__release_returns_to_init(void **state)
{
    (void)state;
    /* buf.h: "Frees the bytes and returns b to ROOST_BUF_INIT." */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "data");
    roost_buf_release(&b);
    assert_ptr_equal(b.ptr, roost_buf_empty);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    /* usable again after release */
    roost_buf_append_str(&b, "again");
    assert_buf_bytes(&b, "again", 5);
    roost_buf_release(&b);
}

/* ---- appendf ----------------------------------------------------------- */

static void test_buf__appendf_short(void **state)
{
    (void)state;
    /* buf.h: "printf-style append" after existing bytes */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, ">");
    roost_buf_appendf(&b, "%s=%d/%zu", "n", -42, (size_t)7);
    assert_buf_bytes(&b, ">n=-42/7", 8);
    roost_buf_appendf(&b, "%c", 'x');
    assert_buf_bytes(&b, ">n=-42/7x", 9);
    roost_buf_release(&b);
}

static void test_buf__appendf_long_output(void **state)
{
    (void)state;
    /* Output longer than any small stack probe must come out whole. */
    char word[5001];
    memset(word, 'w', 5000);
    word[5000] = '\0';
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "head:");
    roost_buf_appendf(&b, "[%s]%d", word, 99);
    assert_int_equal(b.len, 5 + 1 + 5000 + 1 + 2);
    assert_memory_equal(b.ptr, "head:[", 6);
    assert_memory_equal(b.ptr + 6, word, 5000);
    assert_memory_equal(b.ptr + 5006, "]99", 3);
    assert_buf_invariant(&b);
    roost_buf_release(&b);
}

static void test_buf__appendf_every_length_near_probe_sizes(void **state)
{
    (void)state;
    /* Lengths around typical internal probe sizes (64..1100) each produce
     * exactly the formatted bytes. */
    char s[1200];
    memset(s, 'q', sizeof(s));
    for (int n = 60; n < 1100; n++) {
        struct roost_buf b = ROOST_BUF_INIT;
        roost_buf_append_char(&b, '#');
        roost_buf_appendf(&b, "%.*s", n, s);
        assert_int_equal(b.len, (size_t)n + 1);
        assert_memory_equal(b.ptr + 1, s, (size_t)n);
        assert_buf_invariant(&b);
        roost_buf_release(&b);
    }
}

/* ---- binary ------------------------------------------------------------ */

static void test_buf__binary_bytes_with_nuls(void **state)
{
    (void)state;
    /* buf.h: "the contents may hold NULs of their own: len is the truth" */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append(&b, "\0\0", 2);
    roost_buf_append(&b, all, sizeof(all));
    roost_buf_append(&b, "\0", 1);
    assert_int_equal(b.len, 259);
    assert_memory_equal(b.ptr, "\0\0", 2);
    assert_memory_equal(b.ptr + 2, all, 256);
    assert_int_equal(b.ptr[258], '\0');
    assert_buf_invariant(&b);
    roost_buf_set(&b, "a\0b", 3);
    assert_buf_bytes(&b, "a\0b", 3);
    roost_buf_release(&b);
}

/* ---- attach / detach --------------------------------------------------- */

static void test_buf__attach_takes_block_and_terminates(void **state)
{
    (void)state;
    /* buf.h: "Takes over a malloc'd block of n bytes (reallocated to n + 1
     * for the NUL); b's previous contents are released." */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "previous contents, must not leak");
    char *mem = malloc(4);
    assert_non_null(mem);
    memcpy(mem, "a\0bc", 4);            /* no terminator of its own */
    roost_buf_attach(&b, mem, 4);
    assert_buf_bytes(&b, "a\0bc", 4);
    roost_buf_append_str(&b, "d");
    assert_buf_bytes(&b, "a\0bcd", 5);
    roost_buf_release(&b);
}

static void test_buf__attach_empty_block(void **state)
{
    (void)state;
    /* buf.h: _attach of a 0-byte block still leaves "a NUL at least" */
    struct roost_buf b = ROOST_BUF_INIT;
    char *mem = malloc(1);
    assert_non_null(mem);
    roost_buf_attach(&b, mem, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.ptr[0], '\0');
    roost_buf_release(&b);
    assert_ptr_equal(b.ptr, roost_buf_empty);
}

static void test_buf__detach_hands_over_bytes(void **state)
{
    (void)state;
    /* buf.h: "Hands the bytes to the caller (who frees them with free())
     * and returns b to ROOST_BUF_INIT; never NULL." */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append(&b, "x\0y", 3);
    size_t len = 99;
    char *p = roost_buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "x\0y", 4);   /* terminator included */
    assert_ptr_equal(b.ptr, roost_buf_empty);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    free(p);
}

static void test_buf__detach_empty_is_freeable_empty_string(void **state)
{
    (void)state;
    /* buf.h: _detach is "never NULL" and the caller frees it with free(), even for an empty
     * buffer (the shared empty string must never be handed out) */
    struct roost_buf b = ROOST_BUF_INIT;
    size_t len = 99;
    char *p = roost_buf_detach(&b, &len);
    assert_non_null(p);
    assert_ptr_not_equal(p, roost_buf_empty);   /* caller frees it */
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    p = roost_buf_detach(&b, NULL);              /* len_out may be NULL */
    assert_non_null(p);
    free(p);
    assert_int_equal(roost_buf_empty[0], '\0');
}

static void test_buf__detach_after_reset(void **state)
{
    (void)state;
    /* buf.h: _detach after _reset hands over an empty, terminated string */
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "gone");
    roost_buf_reset(&b);
    size_t len = 99;
    char *p = roost_buf_detach(&b, &len);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    assert_buf_invariant(&b);
}

/* ---- slice ------------------------------------------------------------- */

static void test_buf__slice_helpers(void **state)
{
    (void)state;
    /* buf.h: roost_slice helpers compare by length and bytes, NULs included */
    struct roost_slice n = roost_slice_cstr(NULL);
    assert_null(n.ptr);
    assert_int_equal(n.len, 0);
    assert_true(roost_slice_eq(n, ROOST_SLICE_NULL));
    assert_true(roost_slice_eq(n, roost_slice_cstr("")));   /* both empty */
    assert_true(roost_slice_eq_cstr(roost_slice_make("abc!", 3), "abc"));
    assert_false(roost_slice_eq_cstr(roost_slice_make("abc", 3), "ab"));
    assert_false(roost_slice_eq_cstr(roost_slice_make("abc", 3), "abd"));
    assert_true(roost_slice_eq(roost_slice_make("a\0b", 3), roost_slice_make("a\0b", 3)));
    assert_false(roost_slice_eq(roost_slice_make("a\0b", 3), roost_slice_make("a\0c", 3)));
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append(&b, "a\0b", 3);
    struct roost_slice s = roost_buf_slice(&b);
    assert_ptr_equal(s.ptr, b.ptr);
    assert_int_equal(s.len, 3);
    roost_buf_release(&b);
}

/* ---- alloc ------------------------------------------------------------- */

static void test_buf__checked_allocators(void **state)
{
    (void)state;
    char *d = roost_xmemdup_str("ab\0cd", 5);   /* "n bytes + NUL" */
    assert_memory_equal(d, "ab\0cd", 6);
    free(d);
    d = roost_xmemdup_str("ignored", 0);
    assert_string_equal(d, "");
    free(d);
    d = roost_xstrdup("copy");
    assert_string_equal(d, "copy");
    free(d);
    unsigned char *z = roost_xcalloc(10, 3);
    for (int i = 0; i < 30; i++)
        assert_int_equal(z[i], 0);
    z = roost_xrealloc(z, 4096);
    assert_int_equal(z[29], 0);                  /* contents kept */
    free(z);
    void *m = roost_xmalloc(16);
    assert_non_null(m);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__init_macro_points_at_shared_empty),
        cmocka_unit_test(test_buf__init_function_matches_macro),
        cmocka_unit_test(test_buf__empty_operations_leave_sentinel_untouched),
        cmocka_unit_test(test_buf__slice_of_empty_buffer_is_empty_string),
        cmocka_unit_test(test_buf__append_bytes),
        cmocka_unit_test(test_buf__append_variants),
        cmocka_unit_test(test_buf__append_char_nul_is_counted),
        cmocka_unit_test(test_buf__append_grows_across_many_reallocations),
        cmocka_unit_test(test_buf__append_one_large_block),
        cmocka_unit_test(test_buf__set_replaces_contents),
        cmocka_unit_test(test_buf__grow_reserves_room_without_changing_contents),
        cmocka_unit_test(test_buf__grow_zero_on_empty_gives_own_terminated_block),
        cmocka_unit_test(test_buf__reset_keeps_allocation),
        cmocka_unit_test(test_buf__release_returns_to_init),
        cmocka_unit_test(test_buf__appendf_short),
        cmocka_unit_test(test_buf__appendf_long_output),
        cmocka_unit_test(test_buf__appendf_every_length_near_probe_sizes),
        cmocka_unit_test(test_buf__binary_bytes_with_nuls),
        cmocka_unit_test(test_buf__attach_takes_block_and_terminates),
        cmocka_unit_test(test_buf__attach_empty_block),
        cmocka_unit_test(test_buf__detach_hands_over_bytes),
        cmocka_unit_test(test_buf__detach_empty_is_freeable_empty_string),
        cmocka_unit_test(test_buf__detach_after_reset),
        cmocka_unit_test(test_buf__slice_helpers),
        cmocka_unit_test(test_buf__checked_allocators),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
