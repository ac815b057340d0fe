/*
 * test_json_util.c - lib/json_util.h: strict parsing, one serialisation
 * style, byte values, error bodies and the batch-get request.
 *
 * Test organization
 *   group         what it checks                                   rule
 *   parse ok      objects, arrays, strings, surrounding whitespace json_util.h "strictly (RFC 8259)"
 *   parse strict  trailing garbage, comments, single quotes,       json_util.h "no comments, no
 *                 trailing commas, NaN, raw control characters     trailing garbage"; RFC 8259 s.7
 *   depth/utf-8   16 levels ok, 17 refused; invalid UTF-8 refused  ROOST_JSON_DEPTH_MAX; "checks UTF-8"
 *   serialise     compact, '/' unescaped, NUL escaped, appends     json_util.h "Serialisation flags"
 *   bytes value   UTF-8 -> string (NUL too), else {"base64"}       DESIGN.md "Batch get returns only
 *                                                                  valid JSON"
 *   error body    spec bodies byte for byte, extra fields          spec "Error Responses"
 *   batch         shape errors, key errors, limits, de-duplication json_util.h parse_batch
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
#include <json-c/json.h>

#include "buf.h"
#include "encoding.h"
#include "error.h"
#include "json_util.h"
#include "limits.h"
#include "testlib.h"

static enum roost_err parse_n(const char *text, size_t n, struct json_object **out)
{
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_json_parse(roost_slice_make(text, n), out, &detail);
    /* json_util.h: "detail ... gets the tokenizer's reason" */
    if (err && detail.len == 0)
        fail_msg("no detail for a refused document");
    roost_buf_release(&detail);
    return err;
}

static enum roost_err parse(const char *text, struct json_object **out)
{
    return parse_n(text, strlen(text), out);
}

static void expect_invalid(const char *text, size_t n)
{
    struct json_object *o = NULL;
    enum roost_err err = parse_n(text, n, &o);
    if (err != ROOST_ERR_INVALID_JSON)
        fail_msg("%s for document %.*s", roost_err_name(err), (int)n, text);
    /* STYLE.md: out-parameters "are set only on success" */
    assert_null(o);
}

#define INVALID_JSON(lit) expect_invalid((lit), sizeof(lit) - 1)

static void serialise_eq(struct json_object *o, const char *want)
{
    struct roost_buf out = ROOST_BUF_INIT;
    roost_json_serialize(o, &out);
    if (out.len != strlen(want) || memcmp(out.ptr, want, out.len) != 0)
        fail_msg("serialised %s, want %s", out.ptr, want);
    roost_buf_release(&out);
}

/* ---- parse ok ---------------------------------------------------------- */

static void test_json_util__parse_valid_documents(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{\"a\":1}", "{}", "[]", "[1,2,3]", "\"s\"", "[true,false,null]",
        "  {\"a\" : [ 1 , {\"b\":\"c\"} ] }\r\n\t ",       /* whitespace around tokens */
        "{\"k\":\"caf\xC3\xA9 \\u00e9 \\ud83d\\ude00\"}",
        "[-0.5e+10,1E3,0]",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct json_object *o = NULL;
        enum roost_err err = parse(ok[i], &o);
        if (err)
            fail_msg("%s for valid document %s", roost_err_name(err), ok[i]);
        json_object_put(o);
    }
}

static void test_json_util__parse_bare_scalars(void **state)
{
    (void)state;
    /* RFC 8259 s.2: "A JSON text is a serialized value" - any value, so a
     * number or literal that ends exactly at the end of the text is a
     * whole document (the tokenizer must not wait for more input). A bare
     * "null" is left out: it has no object to hand back in *out. */
    static const char *const ok[] = { "42", "-1", "0", "1.5e3", "true", "false", "\"s\"", " 7 " };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct json_object *o = NULL;
        enum roost_err err = parse(ok[i], &o);
        if (err)
            fail_msg("%s for document %s", roost_err_name(err), ok[i]);
        assert_non_null(o);
        json_object_put(o);
    }
}

static void test_json_util__parse_null_document(void **state)
{
    (void)state;
    /* json_util.h: "NULL for the document "null"": valid JSON, so a batch
     * body of null is the wrong shape (INVALID_REQUEST), not bad JSON. */
    struct json_object *o = NULL;
    assert_roost_ok(parse(" null ", &o));
    assert_null(o);
    struct roost_batch_request req = { 0 };
    assert_roost_err(roost_json_parse_batch(roost_slice_cstr("null"), 100, &req, NULL),
                     ROOST_ERR_INVALID_REQUEST);
}

static void test_json_util__parse_returns_new_reference(void **state)
{
    (void)state;
    /* json_util.h: "On OK *out ... holds a new reference" */
    struct json_object *o = NULL;
    assert_roost_ok(parse("{\"keys\":[\"a\"]}", &o));
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_object));
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "keys", &v));
    assert_int_equal(json_object_array_length(v), 1);
    assert_int_equal(json_object_put(o), 1);        /* we held the only reference */
}

static void test_json_util__parse_detail_may_be_null(void **state)
{
    (void)state;
    /* json_util.h: "detail (may be NULL)" */
    struct json_object *o = NULL;
    assert_roost_err(roost_json_parse(roost_slice_cstr("{"), &o, NULL), ROOST_ERR_INVALID_JSON);
    assert_null(o);
}

/* ---- parse strict ------------------------------------------------------ */

static void test_json_util__parse_rejects_trailing_garbage(void **state)
{
    (void)state;
    /* json_util.h: "no trailing garbage" */
    INVALID_JSON("{} x");
    INVALID_JSON("{}{}");
    INVALID_JSON("[1]]");
    INVALID_JSON("{\"a\":1},");
    INVALID_JSON("\"a\"\"b\"");
    INVALID_JSON("{}\0x");              /* a NUL does not end the document */
    INVALID_JSON("{}\0");
}

static void test_json_util__parse_rejects_comments(void **state)
{
    (void)state;
    /* json_util.h: "no comments" */
    INVALID_JSON("/* c */ {}");
    INVALID_JSON("{} // c");
    INVALID_JSON("{\"a\":1 /* c */}");
    INVALID_JSON("# c\n{}");
}

static void test_json_util__parse_rejects_single_quotes(void **state)
{
    (void)state;
    /* RFC 8259 s.7: "A string begins and ends with quotation marks." */
    INVALID_JSON("['x']");
    INVALID_JSON("{\"a\":'x'}");
    INVALID_JSON("{'a':1}");            /* a single-quoted member name */
}

static void test_json_util__parse_rejects_other_extensions(void **state)
{
    (void)state;
    /* RFC 8259 grammar: no trailing commas, no unquoted names, no hex or
     * leading zeros, no NaN/Infinity, no bare words */
    INVALID_JSON("[1,]");
    INVALID_JSON("{\"a\":1,}");
    INVALID_JSON("{a:1}");
    INVALID_JSON("[0x10]");
    INVALID_JSON("[01]");
    INVALID_JSON("[.5]");
    INVALID_JSON("[1.]");
    INVALID_JSON("[1.e5]");
    INVALID_JSON("[TRUE]");
    INVALID_JSON("[NaN]");
    INVALID_JSON("[Infinity]");
    INVALID_JSON("[-Infinity]");
}

static void test_json_util__parse_rejects_raw_control_characters(void **state)
{
    (void)state;
    /* RFC 8259 s.7: "All Unicode characters may be placed within the
     * quotation marks, except for the characters that MUST be escaped:
     * quotation mark, reverse solidus, and the control characters (U+0000
     * through U+001F)." */
    INVALID_JSON("[\"a\x01" "b\"]");
    INVALID_JSON("[\"a\tb\"]");
    INVALID_JSON("[\"a\nb\"]");
    INVALID_JSON("[\"a\0b\"]");
}

static void test_json_util__parse_rejects_empty_and_truncated(void **state)
{
    (void)state;
    /* RFC 8259 s.2: a JSON text is one whole value; nothing or a part of one is INVALID_JSON */
    INVALID_JSON("");
    INVALID_JSON("   \n");
    INVALID_JSON("{");
    INVALID_JSON("{\"a\":");
    INVALID_JSON("[1,2");
    INVALID_JSON("\"open");
    INVALID_JSON("{\"keys\":[\"a\"]");
    struct json_object *o = NULL;
    assert_roost_err(roost_json_parse(ROOST_SLICE_NULL, &o, NULL), ROOST_ERR_INVALID_JSON);
    assert_null(o);
}

static void test_json_util__parse_respects_length(void **state)
{
    (void)state;
    /* Only text[0..len) is the document. */
    struct json_object *o = NULL;
    assert_roost_ok(parse_n("{\"a\":1}GARBAGE", 7, &o));
    json_object_put(o);
    o = NULL;
    expect_invalid("{\"a\":1}", 6);
}

/* ---- depth / utf-8 ------------------------------------------------------ */

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    assert_non_null(s);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_json_util__parse_depth_limit(void **state)
{
    (void)state;
    /* limits.h: "JSON nesting accepted from clients ... 16"; json_util.h
     * "limits nesting (ROOST_JSON_DEPTH_MAX)" */
    char *s = nested(ROOST_JSON_DEPTH_MAX);
    struct json_object *o = NULL;
    assert_roost_ok(parse(s, &o));
    json_object_put(o);
    free(s);
    s = nested(ROOST_JSON_DEPTH_MAX + 1);
    expect_invalid(s, strlen(s));
    free(s);
    /* objects count too */
    struct roost_buf b = ROOST_BUF_INIT;
    for (int i = 0; i < ROOST_JSON_DEPTH_MAX + 1; i++)
        roost_buf_append_str(&b, "{\"a\":");
    roost_buf_append_str(&b, "1");
    for (int i = 0; i < ROOST_JSON_DEPTH_MAX + 1; i++)
        roost_buf_append_char(&b, '}');
    expect_invalid(b.ptr, b.len);
    roost_buf_release(&b);
    /* a stack-depth attack is refused, not crashed on */
    s = nested(100000);
    expect_invalid(s, strlen(s));
    free(s);
}

static void test_json_util__parse_rejects_invalid_utf8(void **state)
{
    (void)state;
    /* json_util.h: "checks UTF-8" */
    INVALID_JSON("[\"\xFF\"]");
    INVALID_JSON("[\"\xC0\xAF\"]");                /* overlong */
    INVALID_JSON("[\"\xED\xA0\x80\"]");            /* surrogate */
    INVALID_JSON("{\"\xC3\":1}");                  /* truncated, in a member name */
    INVALID_JSON("[\"ok\"] \xFF");
}

/* ---- serialise --------------------------------------------------------- */

static void test_json_util__serialise_compact(void **state)
{
    (void)state;
    /* json_util.h: "Appends obj's compact serialisation" */
    struct json_object *o = NULL;
    assert_roost_ok(parse("{ \"a\" : 1, \"b\" : [ 1, 2 ], \"c\" : { } }", &o));
    serialise_eq(o, "{\"a\":1,\"b\":[1,2],\"c\":{}}");
    json_object_put(o);
}

static void test_json_util__serialise_does_not_escape_slash(void **state)
{
    (void)state;
    /* json_util.h serialisation: keys and values often hold paths; "/"
     * needs no escape in JSON (RFC 8259 s.7) and "\/" confuses clients. */
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string("a/b/c"));
    json_object_object_add(o, "path/name", json_object_new_string("/"));
    serialise_eq(o, "{\"key\":\"a/b/c\",\"path/name\":\"/\"}");
    json_object_put(o);
}

static void test_json_util__serialise_appends(void **state)
{
    (void)state;
    /* json_util.h: roost_json_serialize "Appends" */
    struct json_object *o = json_object_new_array();
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "x=");
    roost_json_serialize(o, &out);
    roost_json_serialize(o, &out);
    assert_string_equal(out.ptr, "x=[][]");
    roost_buf_release(&out);
    json_object_put(o);
}

static void test_json_util__string_holds_exact_bytes(void **state)
{
    (void)state;
    /* json_util.h: "A new JSON string holding exactly bytes p[0..n) (NULs
     * included)." */
    struct json_object *s = roost_json_string(roost_slice_make("a\0b\"\\\x01", 6));
    assert_int_equal(json_object_get_string_len(s), 6);
    assert_memory_equal(json_object_get_string(s), "a\0b\"\\\x01", 6);
    serialise_eq(s, "\"a\\u0000b\\\"\\\\\\u0001\"");
    json_object_put(s);
    s = roost_json_string(ROOST_SLICE_NULL);
    assert_int_equal(json_object_get_string_len(s), 0);
    serialise_eq(s, "\"\"");
    json_object_put(s);
}

/* ---- bytes value ------------------------------------------------------- */

static void test_json_util__bytes_value_utf8_is_string(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "a value that is valid UTF-8 is a JSON string,
     * whatever its Content-Type" */
    static const struct {
        const char *p;
        size_t n;
        const char *json;
    } cases[] = {
        { "Alice", 5, "\"Alice\"" },
        { "", 0, "\"\"" },
        { "a\0b", 3, "\"a\\u0000b\"" },                  /* NUL is valid UTF-8 */
        { "\x01\x1f\x7f", 3, NULL },                     /* controls are valid UTF-8 too */
        { "caf\xC3\xA9 \xF0\x9F\x98\x80", 10, NULL },
        { "{\"not\":\"parsed\"}", 16, "\"{\\\"not\\\":\\\"parsed\\\"}\"" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *v = roost_json_bytes_value(roost_slice_make(cases[i].p, cases[i].n));
        assert_true(json_object_is_type(v, json_type_string));
        assert_int_equal(json_object_get_string_len(v), cases[i].n);
        if (cases[i].n)
            assert_memory_equal(json_object_get_string(v), cases[i].p, cases[i].n);
        if (cases[i].json)
            serialise_eq(v, cases[i].json);
        /* and what we write parses back strictly */
        struct roost_buf out = ROOST_BUF_INIT;
        roost_json_serialize(v, &out);
        struct json_object *back = NULL;
        assert_roost_ok(parse_n(out.ptr, out.len, &back));
        json_object_put(back);
        roost_buf_release(&out);
        json_object_put(v);
    }
}

static void test_json_util__bytes_value_binary_is_base64_object(void **state)
{
    (void)state;
    /* DESIGN.md: "any other value is an object {"base64": "…"} (standard
     * alphabet, padded)" */
    struct json_object *v = roost_json_bytes_value(roost_slice_make("\xFF\xFE", 2));
    assert_true(json_object_is_type(v, json_type_object));
    assert_int_equal(json_object_object_length(v), 1);
    serialise_eq(v, "{\"base64\":\"//4=\"}");
    json_object_put(v);

    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    v = roost_json_bytes_value(roost_slice_make((const char *)all, sizeof(all)));
    struct json_object *b64;
    assert_true(json_object_object_get_ex(v, "base64", &b64));
    struct roost_buf dec = ROOST_BUF_INIT;
    assert_int_equal(roost_base64_decode(&dec, json_object_get_string(b64),
                                         (size_t)json_object_get_string_len(b64)), 0);
    assert_int_equal(dec.len, 256);
    assert_memory_equal(dec.ptr, all, 256);
    roost_buf_release(&dec);
    json_object_put(v);

    /* one bad byte after valid text is enough */
    v = roost_json_bytes_value(roost_slice_make("hello\xC3", 6));
    assert_true(json_object_is_type(v, json_type_object));
    json_object_put(v);
}

/* ---- error body -------------------------------------------------------- */

static void test_json_util__error_body_spec_examples(void **state)
{
    (void)state;
    /* spec "Error Responses", byte for byte (fields in the spec's order) */
    struct json_object *b = roost_json_error_body(ROOST_ERR_MISSING_INSTANCE_ID, NULL, NULL);
    serialise_eq(b, "{\"error\":\"instance ID is required\",\"code\":\"MISSING_INSTANCE_ID\"}");
    json_object_put(b);
    b = roost_json_error_body(ROOST_ERR_INSTANCE_NOT_FOUND, NULL, NULL);
    serialise_eq(b, "{\"error\":\"instance not found\",\"code\":\"INSTANCE_NOT_FOUND\"}");
    json_object_put(b);
    struct json_object *extra = json_object_new_object();
    json_object_object_add(extra, "instance_id", json_object_new_string("game-instance-123"));
    json_object_object_add(extra, "status", json_object_new_string("inactive"));
    b = roost_json_error_body(ROOST_ERR_INSTANCE_INACTIVE, NULL, extra);   /* extra taken */
    serialise_eq(b, "{\"error\":\"instance is inactive\",\"code\":\"INSTANCE_INACTIVE\","
                    "\"instance_id\":\"game-instance-123\",\"status\":\"inactive\"}");
    json_object_put(b);
}

static void test_json_util__error_body_custom_message(void **state)
{
    (void)state;
    /* json_util.h: "message NULL: the table's" - otherwise the given one,
     * escaped as JSON whatever it holds */
    struct json_object *b = roost_json_error_body(ROOST_ERR_INVALID_KEY, "bad \"key\"\n", NULL);
    serialise_eq(b, "{\"error\":\"bad \\\"key\\\"\\n\",\"code\":\"INVALID_KEY\"}");
    json_object_put(b);
}

/* ---- batch ------------------------------------------------------------- */

static enum roost_err batch(const char *body, size_t max_keys, struct roost_batch_request *req)
{
    memset(req, 0, sizeof(*req));
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_json_parse_batch(roost_slice_cstr(body), max_keys, req, &detail);
    /* json_util.h: "detail ... gets one sentence naming the problem" */
    if (err && detail.len == 0)
        fail_msg("no detail for %s", roost_err_name(err));
    roost_buf_release(&detail);
    return err;
}

static void expect_batch_err(const char *body, size_t max_keys, enum roost_err want)
{
    struct roost_batch_request req;
    enum roost_err err = batch(body, max_keys, &req);
    if (err != want)
        fail_msg("%s for batch %s, want %s", roost_err_name(err), body, roost_err_name(want));
    roost_batch_request_release(&req);     /* safe after a failure too */
}

static void assert_keys(const struct roost_batch_request *req, const char *const *want, size_t n)
{
    assert_int_equal(req->count, n);
    for (size_t i = 0; i < n; i++)
        if (!roost_slice_eq_cstr(req->keys[i], want[i]))
            fail_msg("keys[%zu] is \"%.*s\", want \"%s\"", i, (int)req->keys[i].len,
                     req->keys[i].ptr, want[i]);
}

static void test_json_util__batch_valid(void **state)
{
    (void)state;
    /* spec "Batch Get": {"keys": ["key1", "key2", "key3"]} */
    struct roost_batch_request req;
    assert_roost_ok(batch("{\"keys\": [\"player1\", \"player2\", \"player3\"]}", 100, &req));
    static const char *const want[] = { "player1", "player2", "player3" };
    assert_keys(&req, want, 3);
    roost_batch_request_release(&req);
    roost_batch_request_release(&req);      /* twice is harmless */
}

static void test_json_util__batch_empty_list(void **state)
{
    (void)state;
    /* json_util.h: "an empty list is fine" */
    struct roost_batch_request req;
    assert_roost_ok(batch("{\"keys\":[]}", 100, &req));
    assert_int_equal(req.count, 0);
    roost_batch_request_release(&req);
}

static void test_json_util__batch_deduplicates_in_first_seen_order(void **state)
{
    (void)state;
    /* json_util.h: "de-duplicated, in first-seen order" */
    struct roost_batch_request req;
    assert_roost_ok(batch("{\"keys\":[\"b\",\"a\",\"b\",\"c\",\"a\",\"\\u0062\"]}", 100, &req));
    static const char *const want[] = { "b", "a", "c" };
    assert_keys(&req, want, 3);
    roost_batch_request_release(&req);
}

static void test_json_util__batch_dedup_many(void **state)
{
    (void)state;
    /* 1000 entries of 250 distinct keys, each seen four times */
    struct roost_buf body = ROOST_BUF_INIT;
    roost_buf_append_str(&body, "{\"keys\":[");
    for (int round = 0; round < 4; round++)
        for (int k = 0; k < 250; k++)
            roost_buf_appendf(&body, "%s\"k%d\"", round || k ? "," : "", (k * 7 + round) % 250);
    roost_buf_append_str(&body, "]}");
    struct roost_batch_request req;
    assert_roost_ok(batch(body.ptr, 1000, &req));
    assert_int_equal(req.count, 250);
    for (size_t i = 0; i < req.count; i++) {
        char want[16];
        snprintf(want, sizeof(want), "k%zu", (i * 7) % 250);   /* first round's order */
        assert_true(roost_slice_eq_cstr(req.keys[i], want));
    }
    roost_batch_request_release(&req);
    roost_buf_release(&body);
}

static void test_json_util__batch_too_large(void **state)
{
    (void)state;
    /* json_util.h: "BATCH_TOO_LARGE (more than max_keys entries, counted
     * before de-duplication)"; DESIGN.md: "more keys in one batch: 400" */
    struct roost_batch_request req;
    assert_roost_ok(batch("{\"keys\":[\"a\",\"b\",\"c\"]}", 3, &req));
    roost_batch_request_release(&req);
    expect_batch_err("{\"keys\":[\"a\",\"b\",\"c\",\"d\"]}", 3, ROOST_ERR_BATCH_TOO_LARGE);
    expect_batch_err("{\"keys\":[\"a\",\"a\",\"a\"]}", 2, ROOST_ERR_BATCH_TOO_LARGE);
    expect_batch_err("{\"keys\":[\"a\"]}", 0, ROOST_ERR_BATCH_TOO_LARGE);
}

static void test_json_util__batch_wrong_shape(void **state)
{
    (void)state;
    /* json_util.h: "INVALID_REQUEST (not an object, "keys" missing or not
     * an array, unknown field, non-string key)" */
    static const char *const bad[] = {
        "[]", "[\"a\"]", "\"keys\"", "42", "true", "-1",         /* not an object */
        "{}", "{\"Keys\":[]}",                                   /* keys missing */
        "{\"keys\":\"a\"}", "{\"keys\":null}", "{\"keys\":{}}", "{\"keys\":1}",
        "{\"keys\":[1]}", "{\"keys\":[\"a\",null]}", "{\"keys\":[[\"a\"]]}",
        "{\"keys\":[{\"k\":\"a\"}]}", "{\"keys\":[true]}",
        "{\"keys\":[],\"x\":1}", "{\"x\":1,\"keys\":[]}",          /* unknown field */
        "{\"keys\":[\"a\"],\"limit\":10}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_batch_err(bad[i], 100, ROOST_ERR_INVALID_REQUEST);
}

static void test_json_util__batch_invalid_keys(void **state)
{
    (void)state;
    /* json_util.h: "Keys must be valid (keyspace.h)"; DESIGN.md: "one key
     * syntax everywhere, 400 INVALID_KEY otherwise" */
    char k513[600];
    snprintf(k513, sizeof(k513), "{\"keys\":[\"%0513d\"]}", 0);
    char k512[600];
    snprintf(k512, sizeof(k512), "{\"keys\":[\"%0512d\"]}", 0);
    static const char *const bad[] = {
        "{\"keys\":[\"\"]}",
        "{\"keys\":[\"ok\",\"\"]}",
        "{\"keys\":[\"a\\u0001\"]}",
        "{\"keys\":[\"a\\u0000b\"]}",            /* NUL inside: counted by length */
        "{\"keys\":[\"a\\nb\"]}",
        "{\"keys\":[\"\\u007f\"]}",
        "{\"keys\":[\"\\u0085\"]}",               /* C1 control */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_batch_err(bad[i], 100, ROOST_ERR_INVALID_KEY);
    expect_batch_err(k513, 100, ROOST_ERR_INVALID_KEY);
    struct roost_batch_request req;
    assert_roost_ok(batch(k512, 100, &req));
    assert_int_equal(req.count, 1);
    assert_int_equal(req.keys[0].len, 512);
    roost_batch_request_release(&req);
}

static void test_json_util__batch_key_text(void **state)
{
    (void)state;
    /* '/' and ':' are key bytes; escapes are decoded before the check */
    struct roost_batch_request req;
    assert_roost_ok(batch("{\"keys\":[\"a/b\",\"a\\/c\",\"x:y\",\"caf\\u00e9\",\"\xE2\x82\xAC\"]}", 100, &req));
    static const char *const want[] = { "a/b", "a/c", "x:y", "caf\xC3\xA9", "\xE2\x82\xAC" };
    assert_keys(&req, want, 5);
    roost_batch_request_release(&req);
}

static void test_json_util__batch_malformed_json(void **state)
{
    (void)state;
    /* json_util.h: "Errors: INVALID_JSON" */
    static const char *const bad[] = { "", "{", "{'keys':[]}", "{\"keys\":[]} x",
                                       "{\"keys\":[\"a\",]}", "{\"keys\":[\"\xFF\"]}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_batch_err(bad[i], 100, ROOST_ERR_INVALID_JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_util__parse_valid_documents),
        cmocka_unit_test(test_json_util__parse_bare_scalars),
        cmocka_unit_test(test_json_util__parse_null_document),
        cmocka_unit_test(test_json_util__parse_returns_new_reference),
        cmocka_unit_test(test_json_util__parse_detail_may_be_null),
        cmocka_unit_test(test_json_util__parse_rejects_trailing_garbage),
        cmocka_unit_test(test_json_util__parse_rejects_comments),
        cmocka_unit_test(test_json_util__parse_rejects_single_quotes),
        cmocka_unit_test(test_json_util__parse_rejects_other_extensions),
        cmocka_unit_test(test_json_util__parse_rejects_raw_control_characters),
        cmocka_unit_test(test_json_util__parse_rejects_empty_and_truncated),
        cmocka_unit_test(test_json_util__parse_respects_length),
        cmocka_unit_test(test_json_util__parse_depth_limit),
        cmocka_unit_test(test_json_util__parse_rejects_invalid_utf8),
        cmocka_unit_test(test_json_util__serialise_compact),
        cmocka_unit_test(test_json_util__serialise_does_not_escape_slash),
        cmocka_unit_test(test_json_util__serialise_appends),
        cmocka_unit_test(test_json_util__string_holds_exact_bytes),
        cmocka_unit_test(test_json_util__bytes_value_utf8_is_string),
        cmocka_unit_test(test_json_util__bytes_value_binary_is_base64_object),
        cmocka_unit_test(test_json_util__error_body_spec_examples),
        cmocka_unit_test(test_json_util__error_body_custom_message),
        cmocka_unit_test(test_json_util__batch_valid),
        cmocka_unit_test(test_json_util__batch_empty_list),
        cmocka_unit_test(test_json_util__batch_deduplicates_in_first_seen_order),
        cmocka_unit_test(test_json_util__batch_dedup_many),
        cmocka_unit_test(test_json_util__batch_too_large),
        cmocka_unit_test(test_json_util__batch_wrong_shape),
        cmocka_unit_test(test_json_util__batch_invalid_keys),
        cmocka_unit_test(test_json_util__batch_key_text),
        cmocka_unit_test(test_json_util__batch_malformed_json),
    };
    return cmocka_run_group_tests_name("json_util", tests, NULL, NULL);
}
