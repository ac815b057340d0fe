/*
 * test_encoding.c - lib/encoding.h: UTF-8 validity, control characters,
 * base64 (RFC 4648, standard alphabet, padded).
 *
 * Test organization
 *   group          what it checks                                 rule
 *   utf8 valid     1-4 byte sequences at their range edges        RFC 3629 table 2; encoding.h
 *   utf8 invalid   overlongs, surrogates, > U+10FFFF, truncated,  encoding.h "no overlongs, no
 *                  stray continuation bytes, n respected            surrogates, no code points
 *                                                                   above U+10FFFF"
 *   control        C0, DEL, C1 read as UTF-8; non-controls that   encoding.h roost_has_control
 *                  merely contain bytes 0x80-0x9F
 *   base64 encode  RFC 4648 section 10 vectors, '+' and '/'       RFC 4648 s.4, s.10
 *   base64 decode  vectors, all 256 bytes round trip, errors      encoding.h roost_base64_decode
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
#include "encoding.h"
#include "testlib.h"

#define VALID(lit) assert_int_equal(roost_utf8_valid((lit), sizeof(lit) - 1), 1)
#define INVALID(lit)                                                                        \
    do {                                                                                    \
        if (roost_utf8_valid((lit), sizeof(lit) - 1) != 0)                                 \
            fail_msg("roost_utf8_valid accepted %s", #lit);                                 \
    } while (0)

/* ---- utf8 valid -------------------------------------------------------- */

static void test_encoding__utf8_empty_and_ascii_valid(void **state)
{
    (void)state;
    /* encoding.h: "An empty string is valid." */
    assert_int_equal(roost_utf8_valid("", 0), 1);
    assert_int_equal(roost_utf8_valid(NULL, 0), 1);
    VALID("plain ascii / : ? # [] ~");
    /* U+0000 and U+007F are well-formed UTF-8 (control is a separate check). */
    VALID("a\0b");
    VALID("\x7f");
    char all_ascii[128];
    for (int i = 0; i < 128; i++)
        all_ascii[i] = (char)i;
    assert_int_equal(roost_utf8_valid(all_ascii, sizeof(all_ascii)), 1);
}

static void test_encoding__utf8_valid_multibyte_range_edges(void **state)
{
    (void)state;
    /* RFC 3629 section 4 syntax, each sequence length at both ends */
    VALID("\xC2\x80");               /* U+0080, smallest 2-byte */
    VALID("\xDF\xBF");               /* U+07FF, largest 2-byte */
    VALID("\xE0\xA0\x80");           /* U+0800, smallest 3-byte */
    VALID("\xED\x9F\xBF");           /* U+D7FF, just below the surrogates */
    VALID("\xEE\x80\x80");           /* U+E000, just above the surrogates */
    VALID("\xEF\xBF\xBF");           /* U+FFFF */
    VALID("\xEF\xBB\xBF");           /* U+FEFF BOM is a valid scalar */
    VALID("\xF0\x90\x80\x80");       /* U+10000, smallest 4-byte */
    VALID("\xF4\x8F\xBF\xBF");       /* U+10FFFF, largest code point */
    VALID("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");   /* é € 😀 mixed */
}

/* ---- utf8 invalid ------------------------------------------------------ */

static void test_encoding__utf8_rejects_overlongs(void **state)
{
    (void)state;
    /* encoding.h: "no overlongs" */
    INVALID("\xC0\x80");             /* U+0000 in 2 bytes */
    INVALID("\xC0\xAF");             /* '/' in 2 bytes: classic path trick */
    INVALID("\xC1\xBF");             /* U+007F in 2 bytes */
    INVALID("\xE0\x80\x80");         /* U+0000 in 3 bytes */
    INVALID("\xE0\x80\xAF");         /* '/' in 3 bytes */
    INVALID("\xE0\x9F\xBF");         /* U+07FF in 3 bytes */
    INVALID("\xF0\x80\x80\x80");     /* U+0000 in 4 bytes */
    INVALID("\xF0\x8F\xBF\xBF");     /* U+FFFF in 4 bytes */
}

static void test_encoding__utf8_rejects_surrogates(void **state)
{
    (void)state;
    /* encoding.h: "no surrogates" (RFC 3629 section 3) */
    INVALID("\xED\xA0\x80");                 /* U+D800 */
    INVALID("\xED\xAF\xBF");                 /* U+DBFF */
    INVALID("\xED\xB0\x80");                 /* U+DC00 */
    INVALID("\xED\xBF\xBF");                 /* U+DFFF */
    INVALID("\xED\xA0\xBD\xED\xB8\x80");     /* CESU-8 pair for U+1F600 */
}

static void test_encoding__utf8_rejects_above_max_code_point(void **state)
{
    (void)state;
    /* encoding.h: "no code points above U+10FFFF" */
    INVALID("\xF4\x90\x80\x80");             /* U+110000 */
    INVALID("\xF5\x80\x80\x80");
    INVALID("\xF7\xBF\xBF\xBF");             /* U+1FFFFF */
    INVALID("\xF8\x88\x80\x80\x80");         /* old 5-byte form */
    INVALID("\xFC\x84\x80\x80\x80\x80");     /* old 6-byte form */
    INVALID("\xFE");
    INVALID("\xFF");
}

static void test_encoding__utf8_rejects_truncated_and_stray_bytes(void **state)
{
    (void)state;
    INVALID("\xC3");                         /* lead byte at end */
    INVALID("\xE2\x82");                     /* 3-byte cut after 2 */
    INVALID("\xF0\x9F\x98");                 /* 4-byte cut after 3 */
    INVALID("\xC3" "a");                     /* lead byte then ASCII */
    INVALID("\xE2\x82" "a");
    INVALID("\xF0\x9F\x98" "a");
    INVALID("\x80");                         /* lone continuation */
    INVALID("\xBF");
    INVALID("a\x80" "b");
    INVALID("\xC3\xA9\xA9");                 /* one continuation too many */
    INVALID("\xE2\x28\xA1");                 /* bad second byte */
    INVALID("\xF0\x9F\x28\x80");             /* bad third byte */
}

static void test_encoding__utf8_respects_length(void **state)
{
    (void)state;
    /* p[0..n): bytes past n are not looked at, and a sequence cut by n is
     * truncated even if the full one follows in memory. */
    assert_int_equal(roost_utf8_valid("\xC3\xA9", 1), 0);
    assert_int_equal(roost_utf8_valid("\xF0\x9F\x98\x80", 3), 0);
    assert_int_equal(roost_utf8_valid("ab\xFF", 2), 1);
    assert_int_equal(roost_utf8_valid("\xC3\xA9\xFF", 2), 1);
}

static void test_encoding__utf8_exhaustive_two_byte_leads(void **state)
{
    (void)state;
    /* Every (lead, continuation) pair: valid exactly for C2..DF x 80..BF. */
    for (int a = 0x80; a <= 0xFF; a++) {
        for (int b = 0; b <= 0xFF; b++) {
            char s[2] = { (char)a, (char)b };
            int want = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
            if (roost_utf8_valid(s, 2) != want)
                fail_msg("%02X %02X: got %d want %d", a, b, !want, want);
        }
    }
}

/* ---- control ----------------------------------------------------------- */

static void test_encoding__control_c0_and_del(void **state)
{
    (void)state;
    /* encoding.h: "a C0 control (U+0000-U+001F), DEL (U+007F)" */
    for (int c = 0; c < 0x20; c++) {
        char s[3] = { 'a', (char)c, 'b' };
        if (roost_has_control(s, 3) != 1)
            fail_msg("C0 byte %02X not detected", c);
        if (roost_has_control(s + 1, 1) != 1)
            fail_msg("C0 byte %02X alone not detected", c);
    }
    assert_int_equal(roost_has_control("a\x7f" "b", 3), 1);
    assert_int_equal(roost_has_control("x\n", 2), 1);     /* at the end */
    assert_int_equal(roost_has_control("\0", 1), 1);      /* NUL is C0 */
}

static void test_encoding__control_printable_ascii_is_not(void **state)
{
    (void)state;
    /* encoding.h: only C0, DEL and C1 count as control; U+0020-U+007E do not */
    char s[0x7f - 0x20];
    for (int c = 0x20; c < 0x7f; c++)
        s[c - 0x20] = (char)c;
    assert_int_equal(roost_has_control(s, sizeof(s)), 0);
    assert_int_equal(roost_has_control("", 0), 0);
}

static void test_encoding__control_c1_as_utf8(void **state)
{
    (void)state;
    /* encoding.h: "or, read as UTF-8, a C1 control (U+0080-U+009F)" */
    for (int c = 0x80; c <= 0x9F; c++) {
        char s[4] = { 'k', (char)0xC2, (char)c, 'z' };
        if (roost_has_control(s, 4) != 1)
            fail_msg("C1 U+%04X not detected", c);
    }
    assert_int_equal(roost_has_control("\xC2\xA0", 2), 0);   /* U+00A0 NBSP: not C1 */
    assert_int_equal(roost_has_control("\xC2\xBF", 2), 0);
}

static void test_encoding__control_not_confused_by_continuation_bytes(void **state)
{
    (void)state;
    /* Bytes 0x80-0x9F are ordinary continuation bytes of many characters;
     * only U+0080-U+009F themselves are C1 controls. */
    assert_int_equal(roost_has_control("\xE2\x82\xAC", 3), 0);        /* € (82) */
    assert_int_equal(roost_has_control("\xC4\x80", 2), 0);            /* U+0100 (80) */
    assert_int_equal(roost_has_control("\xC3\x9F", 2), 0);            /* ß (9F) */
    assert_int_equal(roost_has_control("\xF0\x9F\x98\x80", 4), 0);    /* 😀 (9F 98 80) */
    assert_int_equal(roost_has_control("\xE2\x80\x8B", 3), 0);        /* U+200B ZWSP: not C0/C1 */
    assert_int_equal(roost_has_control("\xE3\x82\xAD\xE3\x83\xBC", 6), 0);   /* キー */
}

static void test_encoding__control_respects_length(void **state)
{
    (void)state;
    assert_int_equal(roost_has_control("ab\n", 2), 0);
    assert_int_equal(roost_has_control("a\xC2\x85", 2), 0);   /* C1 cut off by n */
}

/* ---- base64 encode ----------------------------------------------------- */

static const struct {
    const char *plain;
    const char *b64;
} rfc4648_vectors[] = {
    /* RFC 4648 section 10 */
    { "", "" },
    { "f", "Zg==" },
    { "fo", "Zm8=" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" },
    { "fooba", "Zm9vYmE=" },
    { "foobar", "Zm9vYmFy" },
};
#define NVECTORS (sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]))

static void test_encoding__base64_encode_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 s.10 test vectors; encoding.h "standard alphabet, padded" */
    for (size_t i = 0; i < NVECTORS; i++) {
        struct roost_buf out = ROOST_BUF_INIT;
        roost_base64_encode(&out, rfc4648_vectors[i].plain, strlen(rfc4648_vectors[i].plain));
        assert_int_equal(out.len, strlen(rfc4648_vectors[i].b64));
        assert_string_equal(out.ptr, rfc4648_vectors[i].b64);
        roost_buf_release(&out);
    }
}

static void test_encoding__base64_encode_standard_alphabet_and_binary(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": base64 "standard alphabet, padded" (RFC 4648
     * s.4: 62 is '+', 63 is '/'), not the URL alphabet. */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_base64_encode(&out, "\xFB\xFF", 2);
    assert_string_equal(out.ptr, "+/8=");
    roost_buf_reset(&out);
    roost_base64_encode(&out, "\xFF\xFF\xFF", 3);
    assert_string_equal(out.ptr, "////");
    roost_buf_reset(&out);
    roost_base64_encode(&out, "\xFB\xEF\xBE", 3);
    assert_string_equal(out.ptr, "++++");
    roost_buf_reset(&out);
    roost_base64_encode(&out, "\0\0\0\0", 4);
    assert_string_equal(out.ptr, "AAAAAA==");
    roost_buf_release(&out);
}

static void test_encoding__base64_encode_appends(void **state)
{
    (void)state;
    /* encoding.h: "Appends the base64 form" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "prefix:");
    roost_base64_encode(&out, "foobar", 6);
    roost_base64_encode(&out, "f", 1);
    assert_string_equal(out.ptr, "prefix:Zm9vYmFyZg==");
    assert_int_equal(out.len, strlen("prefix:Zm9vYmFyZg=="));
    roost_buf_release(&out);
}

/* ---- base64 decode ----------------------------------------------------- */

static void test_encoding__base64_decode_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 s.10 test vectors, decoded */
    for (size_t i = 0; i < NVECTORS; i++) {
        struct roost_buf out = ROOST_BUF_INIT;
        const char *t = rfc4648_vectors[i].b64;
        assert_int_equal(roost_base64_decode(&out, t, strlen(t)), 0);
        assert_int_equal(out.len, strlen(rfc4648_vectors[i].plain));
        assert_string_equal(out.ptr, rfc4648_vectors[i].plain);
        roost_buf_release(&out);
    }
}

static void test_encoding__base64_round_trip_all_bytes(void **state)
{
    (void)state;
    /* All 256 byte values, at every length 0..256 (so each padding case
     * and every byte in each of the three positions is covered). */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= sizeof(all); n++) {
        for (size_t off = 0; off < 3 && off + n <= sizeof(all); off++) {
            struct roost_buf enc = ROOST_BUF_INIT, dec = ROOST_BUF_INIT;
            roost_base64_encode(&enc, all + off, n);
            assert_int_equal(enc.len, (n + 2) / 3 * 4);
            assert_int_equal(roost_base64_decode(&dec, enc.ptr, enc.len), 0);
            assert_int_equal(dec.len, n);
            if (n)
                assert_memory_equal(dec.ptr, all + off, n);
            assert_int_equal(dec.ptr[dec.len], '\0');
            roost_buf_release(&enc);
            roost_buf_release(&dec);
        }
    }
}

static void test_encoding__base64_decode_appends(void **state)
{
    (void)state;
    /* encoding.h: "Appends the bytes of base64 text to out" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append(&out, "<\0", 2);
    assert_int_equal(roost_base64_decode(&out, "Zm9v", 4), 0);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.ptr, "<\0foo", 5);
    roost_buf_release(&out);
}

static void test_encoding__base64_decode_errors(void **state)
{
    (void)state;
    /* encoding.h: "-1 on a character outside the alphabet, wrong padding or
     * a length that is not a multiple of 4" */
    static const char *const bad[] = {
        "Zm9",          /* length 3 */
        "Zg",           /* unpadded */
        "Zg=",          /* short padding */
        "Zm9vY",        /* length 5 */
        "Zm9*",         /* '*' outside the alphabet */
        "Zm9v\n",       /* whitespace is not in the alphabet */
        "Zm 9",
        "-_8=",         /* URL-safe alphabet is not the standard one */
        "Zm9_",
        "====",         /* padding only */
        "Z===",         /* three pad characters */
        "=Zg=",         /* padding first */
        "Zg=a",         /* data after padding in a quad */
        "Zg==Zm9v",     /* data after a padded quad */
        "Zm8=Zg==",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_buf out = ROOST_BUF_INIT;
        if (roost_base64_decode(&out, bad[i], strlen(bad[i])) != -1)
            fail_msg("decode accepted \"%s\"", bad[i]);
        roost_buf_release(&out);
    }
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(roost_base64_decode(&out, "Zm\0v", 4), -1);   /* NUL inside */
    roost_buf_release(&out);
}

static void test_encoding__base64_decode_respects_length(void **state)
{
    (void)state;
    struct roost_buf out = ROOST_BUF_INIT;
    /* Only text[0..n) is base64; what follows in memory is not read. */
    assert_int_equal(roost_base64_decode(&out, "Zm9v!!!!", 4), 0);
    assert_string_equal(out.ptr, "foo");
    roost_buf_reset(&out);
    assert_int_equal(roost_base64_decode(&out, "Zm9v", 0), 0);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding__utf8_empty_and_ascii_valid),
        cmocka_unit_test(test_encoding__utf8_valid_multibyte_range_edges),
        cmocka_unit_test(test_encoding__utf8_rejects_overlongs),
        cmocka_unit_test(test_encoding__utf8_rejects_surrogates),
        cmocka_unit_test(test_encoding__utf8_rejects_above_max_code_point),
        cmocka_unit_test(test_encoding__utf8_rejects_truncated_and_stray_bytes),
        cmocka_unit_test(test_encoding__utf8_respects_length),
        cmocka_unit_test(test_encoding__utf8_exhaustive_two_byte_leads),
        cmocka_unit_test(test_encoding__control_c0_and_del),
        cmocka_unit_test(test_encoding__control_printable_ascii_is_not),
        cmocka_unit_test(test_encoding__control_c1_as_utf8),
        cmocka_unit_test(test_encoding__control_not_confused_by_continuation_bytes),
        cmocka_unit_test(test_encoding__control_respects_length),
        cmocka_unit_test(test_encoding__base64_encode_rfc4648_vectors),
        cmocka_unit_test(test_encoding__base64_encode_standard_alphabet_and_binary),
        cmocka_unit_test(test_encoding__base64_encode_appends),
        cmocka_unit_test(test_encoding__base64_decode_rfc4648_vectors),
        cmocka_unit_test(test_encoding__base64_round_trip_all_bytes),
        cmocka_unit_test(test_encoding__base64_decode_appends),
        cmocka_unit_test(test_encoding__base64_decode_errors),
        cmocka_unit_test(test_encoding__base64_decode_respects_length),
    };
    return cmocka_run_group_tests_name("encoding", tests, NULL, NULL);
}
