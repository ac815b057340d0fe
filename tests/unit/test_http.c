/*
 * test_http.c - lib/http.h: request parsing helpers and response building.
 *
 * Test organization
 *   group            what it checks                                 rule
 *   method           parse/name of the five methods, others OTHER   http.h; RFC 9110 s.9.1 (case-sensitive)
 *   uri              set_uri copies and splits path/query           http.h "Copies uri ... splits"
 *   percent-decode   valid escapes, %2F stays a byte, '+' by mode,  http.h percent_decode;
 *                    bad escapes -> -1, n respected                 DESIGN.md "Keys: the percent-decoded
 *                                                                   path segment"
 *   query_param      first match, absent, encoded name/value,       http.h query_param
 *                    empty value, bad escape
 *   instance id      header wins, invalid header not rescued by     DESIGN.md "API rules": Instance ID
 *                    query, none -> given 0, syntax checked
 *   response         error bodies, statuses from the table,         DESIGN.md "Errors are always JSON";
 *                    bytes/json bodies, the CGI head                http.h response_* and _head
 *   reuse            request/response reset                         http.h "reused ... _reset"
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
#include "error.h"
#include "http.h"
#include "testlib.h"

/* ---- method ------------------------------------------------------------ */

static void test_http__method_parse_and_name(void **state)
{
    (void)state;
    /* http.h: the six methods roost routes, parsed and named back */
    static const struct {
        const char *name;
        enum roost_method m;
    } known[] = {
        { "GET", ROOST_METHOD_GET },   { "HEAD", ROOST_METHOD_HEAD },
        { "PUT", ROOST_METHOD_PUT },   { "POST", ROOST_METHOD_POST },
        { "DELETE", ROOST_METHOD_DELETE }, { "PATCH", ROOST_METHOD_PATCH },
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(roost_http_method_parse(known[i].name), known[i].m);
        assert_string_equal(roost_http_method_name(known[i].m), known[i].name);
    }
}

static void test_http__method_parse_other(void **state)
{
    (void)state;
    /* RFC 9110 s.9.1: "The method token is case-sensitive" */
    static const char *const other[] = { "get", "Get", "patch", "OPTIONS", "TRACE", "CONNECT",
                                         "", "GETX", "GE", "DELETE " };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (roost_http_method_parse(other[i]) != ROOST_METHOD_OTHER)
            fail_msg("\"%s\" parsed as a known method", other[i]);
    assert_non_null(roost_http_method_name(ROOST_METHOD_OTHER));
}

/* ---- uri --------------------------------------------------------------- */

static void set_uri(struct roost_http_request *req, const char *uri)
{
    roost_http_request_set_uri(req, uri, strlen(uri));
}

static void test_http__set_uri_splits_path_and_query(void **state)
{
    (void)state;
    /* http.h: "path: into uri: before '?'", "query: into uri: after '?'" */
    struct roost_http_request req;
    roost_http_request_init(&req);
    set_uri(&req, "/v1/cache/k%2Fx?instance_id=g-1&a=b");
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&req.uri), "/v1/cache/k%2Fx?instance_id=g-1&a=b"));
    assert_true(roost_slice_eq_cstr(req.path, "/v1/cache/k%2Fx"));
    assert_true(roost_slice_eq_cstr(req.query, "instance_id=g-1&a=b"));
    /* http.h: path and query point into uri */
    assert_true(req.path.ptr >= req.uri.ptr && req.path.ptr + req.path.len <= req.uri.ptr + req.uri.len);
    assert_true(req.query.ptr >= req.uri.ptr && req.query.ptr + req.query.len <= req.uri.ptr + req.uri.len);
    roost_http_request_release(&req);
}

static void test_http__set_uri_without_query(void **state)
{
    (void)state;
    /* http.h: query is "empty if none" */
    struct roost_http_request req;
    roost_http_request_init(&req);
    set_uri(&req, "/health");
    assert_true(roost_slice_eq_cstr(req.path, "/health"));
    assert_int_equal(req.query.len, 0);
    set_uri(&req, "/health?");
    assert_true(roost_slice_eq_cstr(req.path, "/health"));
    assert_int_equal(req.query.len, 0);
    set_uri(&req, "/a?b?c");                      /* split at the first '?' */
    assert_true(roost_slice_eq_cstr(req.path, "/a"));
    assert_true(roost_slice_eq_cstr(req.query, "b?c"));
    set_uri(&req, "?x=1");
    assert_int_equal(req.path.len, 0);
    assert_true(roost_slice_eq_cstr(req.query, "x=1"));
    roost_http_request_release(&req);
}

static void test_http__set_uri_copies_and_respects_length(void **state)
{
    (void)state;
    /* http.h: "Copies uri into req->uri" - nothing borrowed outlives the
     * FastCGI request. */
    char src[] = "/v1/cache/key?instance_id=a";
    struct roost_http_request req;
    roost_http_request_init(&req);
    roost_http_request_set_uri(&req, src, 14);   /* "/v1/cache/key?" */
    memset(src, 'X', sizeof(src) - 1);
    assert_true(roost_slice_eq_cstr(req.path, "/v1/cache/key"));
    assert_int_equal(req.query.len, 0);
    assert_int_equal(req.uri.len, 14);
    roost_http_request_release(&req);
}

/* ---- percent-decode ---------------------------------------------------- */

static int decode(const char *in, int plus_is_space, struct roost_buf *out)
{
    return roost_http_percent_decode(roost_slice_cstr(in), plus_is_space, out);
}

static void test_http__percent_decode_valid(void **state)
{
    (void)state;
    /* http.h: "Percent-decodes in into out"; RFC 3986 s.2.1: hex digits in either case */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(decode("plain-key", 0, &out), 0);
    assert_string_equal(out.ptr, "plain-key");
    assert_int_equal(decode("a%20b", 0, &out), 0);
    assert_string_equal(out.ptr, "a b");
    assert_int_equal(decode("%4a%4A%4b", 0, &out), 0);          /* either hex case */
    assert_string_equal(out.ptr, "JJK");
    assert_int_equal(decode("%E2%82%AC", 0, &out), 0);
    assert_string_equal(out.ptr, "\xE2\x82\xAC");
    assert_int_equal(decode("%2541", 0, &out), 0);              /* decoded once only */
    assert_string_equal(out.ptr, "%41");
    assert_int_equal(decode("", 0, &out), 0);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

static void test_http__percent_decode_slash_stays_a_byte(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "/ inside a key is sent as %2F" - it decodes
     * to the key byte '/', in either hex case. */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(decode("a%2Fb", 0, &out), 0);
    assert_int_equal(out.len, 3);
    assert_string_equal(out.ptr, "a/b");
    assert_int_equal(decode("%2f%2F", 0, &out), 0);
    assert_string_equal(out.ptr, "//");
    roost_buf_release(&out);
}

static void test_http__percent_decode_nul_byte(void **state)
{
    (void)state;
    /* Binary-safe: %00 is a byte of the output (the key check refuses it
     * later, but the decoder must not truncate). */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(decode("a%00b", 0, &out), 0);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.ptr, "a\0b", 3);
    roost_buf_release(&out);
}

static void test_http__percent_decode_plus_by_mode(void **state)
{
    (void)state;
    /* http.h: "'+' means ' ' (query strings), else it is literal (paths)" */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(decode("a+b", 0, &out), 0);
    assert_string_equal(out.ptr, "a+b");
    assert_int_equal(decode("a+b", 1, &out), 0);
    assert_string_equal(out.ptr, "a b");
    assert_int_equal(decode("a%2Bb", 1, &out), 0);             /* %2B is a real '+' */
    assert_string_equal(out.ptr, "a+b");
    assert_int_equal(decode("%20", 1, &out), 0);
    assert_string_equal(out.ptr, " ");
    roost_buf_release(&out);
}

static void test_http__percent_decode_bad_escapes(void **state)
{
    (void)state;
    /* http.h: "-1 on '%' not followed by two hex digits" */
    static const char *const bad[] = { "%G1", "%1G", "%", "abc%", "%4", "abc%4", "%%", "%%41",
                                       "%-1", "% 1", "%0x", "a%zzb" };
    for (int mode = 0; mode <= 1; mode++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct roost_buf out = ROOST_BUF_INIT;
            if (decode(bad[i], mode, &out) != -1)
                fail_msg("decoded \"%s\" (plus_is_space=%d)", bad[i], mode);
            roost_buf_release(&out);
        }
    }
}

static void test_http__percent_decode_respects_length(void **state)
{
    (void)state;
    /* A slice: an escape cut by len is incomplete even if the bytes that
     * would complete it follow in memory. */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(roost_http_percent_decode(roost_slice_make("a%41", 3), 0, &out), -1);
    assert_int_equal(roost_http_percent_decode(roost_slice_make("a%41", 2), 0, &out), -1);
    assert_int_equal(roost_http_percent_decode(roost_slice_make("ab%41", 2), 0, &out), 0);
    assert_string_equal(out.ptr, "ab");
    roost_buf_release(&out);
}

static void test_http__percent_decode_replaces_output(void **state)
{
    (void)state;
    /* http.h: "into out (replacing its contents)" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "previous");
    assert_int_equal(decode("x", 0, &out), 0);
    assert_int_equal(out.len, 1);
    assert_string_equal(out.ptr, "x");
    roost_buf_release(&out);
}

/* ---- query_param ------------------------------------------------------- */

static int qp(const char *query, const char *name, struct roost_buf *out)
{
    return roost_http_query_param(roost_slice_cstr(query), name, out);
}

static void test_http__query_param_found_and_first_match(void **state)
{
    (void)state;
    /* http.h: "Finds the first name=value pair of query whose decoded name
     * is name" */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(qp("a=1&b=2", "b", &out), 1);
    assert_string_equal(out.ptr, "2");
    assert_int_equal(qp("a=1&a=2", "a", &out), 1);
    assert_string_equal(out.ptr, "1");
    assert_int_equal(qp("&&a=1&", "a", &out), 1);
    assert_string_equal(out.ptr, "1");
    assert_int_equal(qp("a=b=c", "a", &out), 1);          /* value holds '=' */
    assert_string_equal(out.ptr, "b=c");
    roost_buf_release(&out);
}

static void test_http__query_param_absent(void **state)
{
    (void)state;
    /* http.h: "Returns ... 0 absent" - names match whole and exactly */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(qp("", "a", &out), 0);
    assert_int_equal(qp("b=1", "a", &out), 0);
    assert_int_equal(qp("ab=1", "a", &out), 0);           /* not a prefix match */
    assert_int_equal(qp("xa=1", "a", &out), 0);
    assert_int_equal(qp("instance_id_x=1", "instance_id", &out), 0);
    assert_int_equal(qp("A=1", "a", &out), 0);            /* names are case-sensitive */
    roost_buf_release(&out);
}

static void test_http__query_param_encoded_name_and_value(void **state)
{
    (void)state;
    /* http.h: "whose decoded name is name and decodes its value" */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(qp("instance%5Fid=game%2D1", "instance_id", &out), 1);
    assert_string_equal(out.ptr, "game-1");
    assert_int_equal(qp("v=a%20b+c", "v", &out), 1);      /* '+' is space in queries */
    assert_string_equal(out.ptr, "a b c");
    assert_int_equal(qp("v=%26%3D", "v", &out), 1);       /* encoded '&' and '=' */
    assert_string_equal(out.ptr, "&=");
    roost_buf_release(&out);
}

static void test_http__query_param_empty_value(void **state)
{
    (void)state;
    /* http.h: a pair with an empty value is found (1) with an empty value */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "stale");
    assert_int_equal(qp("a=&b=2", "a", &out), 1);
    assert_int_equal(out.len, 0);
    assert_int_equal(qp("b=2&a=", "a", &out), 1);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

static void test_http__query_param_bad_escape(void **state)
{
    (void)state;
    /* http.h: "-1 bad escape" */
    struct roost_buf out = ROOST_BUF_INIT;
    assert_int_equal(qp("a=%G1", "a", &out), -1);
    assert_int_equal(qp("x=1&a=50%", "a", &out), -1);
    roost_buf_release(&out);
}

/* ---- instance id ------------------------------------------------------- */

static void make_req(struct roost_http_request *req, const char *header, const char *uri)
{
    roost_http_request_init(req);
    if (header) {
        req->has_instance_header = 1;
        roost_buf_append_str(&req->instance_header, header);
    }
    set_uri(req, uri);
}

static enum roost_err instance_id(const char *header, const char *uri, struct roost_buf *out,
                                  int *given)
{
    struct roost_http_request req;
    make_req(&req, header, uri);
    enum roost_err err = roost_http_instance_id(&req, out, given);
    roost_http_request_release(&req);
    return err;
}

static void test_http__instance_id_from_header(void **state)
{
    (void)state;
    /* spec "X-Instance-ID Header": the primary method */
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_ok(instance_id("game-instance-123", "/v1/cache/mykey", &out, &given));
    assert_int_equal(given, 1);
    assert_string_equal(out.ptr, "game-instance-123");
    roost_buf_release(&out);
}

static void test_http__instance_id_from_query(void **state)
{
    (void)state;
    /* spec "Query Parameter Alternative": ?instance_id=game-instance-123 */
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_ok(instance_id(NULL, "/v1/cache/mykey?instance_id=game-instance-123", &out, &given));
    assert_int_equal(given, 1);
    assert_string_equal(out.ptr, "game-instance-123");
    assert_roost_ok(instance_id(NULL, "/v1/cache/k?x=1&instance_id=game%2D1", &out, &given));
    assert_string_equal(out.ptr, "game-1");
    roost_buf_release(&out);
}

static void test_http__instance_id_header_wins(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "header X-Instance-ID wins over query instance_id" */
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_ok(instance_id("from-header", "/v1/cache/k?instance_id=from-query", &out, &given));
    assert_int_equal(given, 1);
    assert_string_equal(out.ptr, "from-header");
    /* the query is not consulted at all when the header is there */
    assert_roost_ok(instance_id("from-header", "/v1/cache/k?instance_id=%ZZ", &out, &given));
    assert_string_equal(out.ptr, "from-header");
    assert_roost_ok(instance_id("from-header", "/v1/cache/k?instance_id=bad:id", &out, &given));
    assert_string_equal(out.ptr, "from-header");
    roost_buf_release(&out);
}

static void test_http__instance_id_invalid_header_not_rescued_by_query(void **state)
{
    (void)state;
    /* DESIGN.md: the header wins; an invalid one is "400
     * INVALID_INSTANCE_ID" even when the query holds a valid id. */
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_err(instance_id("bad id!", "/v1/cache/k?instance_id=good", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    assert_int_equal(given, 1);
    assert_roost_err(instance_id("a:b", "/v1/cache/k?instance_id=good", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    roost_buf_release(&out);
}

static void test_http__instance_id_none_given(void **state)
{
    (void)state;
    /* http.h: "On OK, out holds a valid id, or is empty when none was given" */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "stale");
    int given = -1;
    assert_roost_ok(instance_id(NULL, "/v1/cache/k", &out, &given));
    assert_int_equal(given, 0);
    assert_int_equal(out.len, 0);
    assert_roost_ok(instance_id(NULL, "/v1/cache/k?other=1&instance_idx=a", &out, &given));
    assert_int_equal(given, 0);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

static void test_http__instance_id_syntax_checked(void **state)
{
    (void)state;
    /* DESIGN.md: "1–64 bytes of [A-Za-z0-9._-]; anything else is 400
     * INVALID_INSTANCE_ID" - from either source. A present but empty id is
     * "anything else", not "no id". */
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    char uri[200];
    snprintf(uri, sizeof(uri), "/v1/cache/k?instance_id=%s", long_id);
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_err(instance_id(long_id, "/v1/cache/k", &out, &given), ROOST_ERR_INVALID_INSTANCE_ID);
    assert_roost_err(instance_id(NULL, uri, &out, &given), ROOST_ERR_INVALID_INSTANCE_ID);
    long_id[64] = '\0';
    assert_roost_ok(instance_id(long_id, "/v1/cache/k", &out, &given));
    assert_roost_err(instance_id("", "/v1/cache/k", &out, &given), ROOST_ERR_INVALID_INSTANCE_ID);
    assert_int_equal(given, 1);
    assert_roost_err(instance_id(NULL, "/v1/cache/k?instance_id=", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    assert_int_equal(given, 1);
    assert_roost_err(instance_id(NULL, "/v1/cache/k?instance_id=a%3Ab", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    assert_roost_err(instance_id(NULL, "/v1/cache/k?instance_id=a+b", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    assert_roost_err(instance_id(NULL, "/v1/cache/k?instance_id=%G1", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    assert_roost_err(instance_id(NULL, "/v1/cache/k?instance_id=a%00", &out, &given),
                     ROOST_ERR_INVALID_INSTANCE_ID);
    roost_buf_release(&out);
}

/* ---- response ---------------------------------------------------------- */

static struct json_object *body_json(const struct roost_http_response *resp)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, resp->body.ptr, (int)resp->body.len);
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    assert_int_equal(json_tokener_get_parse_end(tok), resp->body.len);
    json_tokener_free(tok);
    assert_non_null(o);
    return o;
}

static const char *str_field(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v))
        fail_msg("field \"%s\" missing", name);
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static void head_of(const struct roost_http_response *resp, struct roost_buf *out)
{
    roost_buf_reset(out);
    roost_http_response_head(resp, out);
}

static int count_occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_http__error_body_is_json_with_code(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "Errors are always JSON {"error": "...",
     * "code": "UPPER_SNAKE", ...} with Content-Type: application/json";
     * spec "Instance Not Found" body. */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_error(&resp, ROOST_ERR_INSTANCE_NOT_FOUND, NULL, NULL);
    assert_int_equal(resp.status, 404);
    assert_true(resp.content_type.len > 0);
    struct json_object *o = body_json(&resp);
    assert_string_equal(str_field(o, "error"), "instance not found");
    assert_string_equal(str_field(o, "code"), "INSTANCE_NOT_FOUND");
    assert_int_equal(json_object_object_length(o), 2);
    json_object_put(o);
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_non_null(strstr(head.ptr, "\r\nContent-Type: application/json\r\n"));
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__error_body_extra_fields_and_message(void **state)
{
    (void)state;
    /* spec "Instance Not Active": {"error": "instance is inactive", "code":
     * "INSTANCE_INACTIVE", "instance_id": "game-instance-123", "status":
     * "inactive"}; DESIGN.md: "each body carries instance_id and status" */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    struct json_object *extra = json_object_new_object();
    json_object_object_add(extra, "instance_id", json_object_new_string("game-instance-123"));
    json_object_object_add(extra, "status", json_object_new_string("inactive"));
    roost_http_response_error(&resp, ROOST_ERR_INSTANCE_INACTIVE, NULL, extra);
    assert_int_equal(resp.status, 503);
    struct json_object *o = body_json(&resp);
    assert_string_equal(str_field(o, "error"), "instance is inactive");
    assert_string_equal(str_field(o, "code"), "INSTANCE_INACTIVE");
    assert_string_equal(str_field(o, "instance_id"), "game-instance-123");
    assert_string_equal(str_field(o, "status"), "inactive");
    json_object_put(o);

    /* http.h: "message: NULL for the table's default" - else the one given */
    roost_http_response_reset(&resp);
    roost_http_response_error(&resp, ROOST_ERR_INVALID_REQUEST, "keys[2] is not a string", NULL);
    assert_int_equal(resp.status, 400);
    o = body_json(&resp);
    assert_string_equal(str_field(o, "error"), "keys[2] is not a string");
    assert_string_equal(str_field(o, "code"), "INVALID_REQUEST");
    json_object_put(o);
    roost_http_response_release(&resp);
}

static void test_http__error_status_and_code_from_table(void **state)
{
    (void)state;
    /* error.h: "Only enum values travel ... the strings come from here" */
    for (int e = 1; e < ROOST_ERR__COUNT; e++) {
        struct roost_http_response resp;
        roost_http_response_init(&resp);
        roost_http_response_error(&resp, (enum roost_err)e, NULL, NULL);
        assert_int_equal(resp.status, roost_err_status((enum roost_err)e));
        struct json_object *o = body_json(&resp);
        assert_string_equal(str_field(o, "code"), roost_err_code((enum roost_err)e));
        assert_string_equal(str_field(o, "error"), roost_err_message((enum roost_err)e));
        json_object_put(o);
        roost_http_response_release(&resp);
    }
}

static void test_http__error_after_bytes_is_still_json(void **state)
{
    (void)state;
    /* http.h: response_error "Sets status, JSON Content-Type" and DESIGN.md
     * "Errors are always JSON ... with Content-Type: application/json":
     * an error that replaces a value response must not keep the value's
     * (tenant-chosen) Content-Type. */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_bytes(&resp, 200, roost_slice_cstr("text/html"), roost_slice_cstr("<b>x</b>"));
    roost_http_response_error(&resp, ROOST_ERR_STORE_IO, NULL, NULL);
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_int_equal(count_occurrences(head.ptr, "Content-Type:"), 1);
    assert_non_null(strstr(head.ptr, "Content-Type: application/json\r\n"));
    assert_null(strstr(head.ptr, "text/html"));
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__head_serialisation(void **state)
{
    (void)state;
    /* http.h: "The CGI response head: "Status: 200 OK\r\n", headers,
     * Content-Length, blank line. Appended to out." */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_error(&resp, ROOST_ERR_KEY_NOT_FOUND, NULL, NULL);
    struct roost_buf head = ROOST_BUF_INIT;
    roost_buf_append_str(&head, "PRE");
    roost_http_response_head(&resp, &head);
    assert_memory_equal(head.ptr, "PREStatus: 404 Not Found\r\n", 26);
    assert_non_null(strstr(head.ptr, "\r\nContent-Type: application/json\r\n"));
    char cl[64];
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", resp.body.len);
    assert_non_null(strstr(head.ptr, cl));
    assert_true(head.len >= 4);
    assert_memory_equal(head.ptr + head.len - 4, "\r\n\r\n", 4);
    assert_int_equal(count_occurrences(head.ptr, "\r\n\r\n"), 1);   /* one blank line, at the end */
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__bytes_response(void **state)
{
    (void)state;
    /* http.h: "Sets status and Content-Type, and the body to the bytes
     * given (copied)"; DESIGN.md: values are binary-safe */
    char body[] = "hi\0there";
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_bytes(&resp, 201, roost_slice_cstr("text/plain"), roost_slice_make(body, 8));
    memset(body, 'X', sizeof(body));
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body.len, 8);
    assert_memory_equal(resp.body.ptr, "hi\0there", 8);
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_memory_equal(head.ptr, "Status: 201 Created\r\n", 21);
    assert_non_null(strstr(head.ptr, "Content-Type: text/plain\r\n"));
    assert_non_null(strstr(head.ptr, "Content-Length: 8\r\n"));
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__empty_body_response(void **state)
{
    (void)state;
    /* DESIGN.md: "An empty body is a valid value (0 bytes): stored, and
     * returned as 200 with an empty body." */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_bytes(&resp, 200, roost_slice_cstr("application/octet-stream"), ROOST_SLICE_NULL);
    assert_int_equal(resp.body.len, 0);
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_non_null(strstr(head.ptr, "Content-Length: 0\r\n"));
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__no_content_head_has_no_length(void **state)
{
    (void)state;
    /* DESIGN.md: "DELETE 204 with no body"; RFC 9110 s.8.6: "A server MUST
     * NOT send a Content-Length header field in any response with a status
     * code of ... 204 (No Content)." */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    resp.status = 204;
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_memory_equal(head.ptr, "Status: 204 No Content\r\n", 24);
    assert_null(strstr(head.ptr, "Content-Length"));
    assert_memory_equal(head.ptr + head.len - 4, "\r\n\r\n", 4);
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__json_response_and_extra_headers(void **state)
{
    (void)state;
    /* DESIGN.md: value responses carry "X-Content-Type-Options: nosniff"
     * and "Content-Security-Policy: sandbox" - added as header lines. */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_header(&resp, "X-Content-Type-Options", roost_slice_cstr("nosniff"));
    roost_http_response_header(&resp, "Content-Security-Policy", roost_slice_cstr("sandbox"));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string("a/b"));
    json_object_object_add(o, "size", json_object_new_int(3));
    roost_http_response_json(&resp, 201, o);       /* ownership taken */
    assert_int_equal(resp.status, 201);
    assert_true(roost_slice_eq_cstr(resp.body, "{\"key\":\"a/b\",\"size\":3}"));
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_non_null(strstr(head.ptr, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(head.ptr, "\r\nContent-Security-Policy: sandbox\r\n"));
    assert_non_null(strstr(head.ptr, "\r\nContent-Type: application/json\r\n"));
    assert_int_equal(count_occurrences(head.ptr, "Content-Type:"), 1);
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}

static void test_http__reason_phrases(void **state)
{
    (void)state;
    /* RFC 9110 s.15 reason phrases for every status roost sends */
    assert_string_equal(roost_http_reason(200), "OK");
    assert_string_equal(roost_http_reason(201), "Created");
    assert_string_equal(roost_http_reason(204), "No Content");
    assert_string_equal(roost_http_reason(400), "Bad Request");
    assert_string_equal(roost_http_reason(404), "Not Found");
    assert_string_equal(roost_http_reason(405), "Method Not Allowed");
    assert_string_equal(roost_http_reason(410), "Gone");
    assert_string_equal(roost_http_reason(500), "Internal Server Error");
    assert_string_equal(roost_http_reason(503), "Service Unavailable");
    for (int e = 0; e < ROOST_ERR__COUNT; e++) {
        const char *r = roost_http_reason(roost_err_status((enum roost_err)e));
        assert_non_null(r);
        assert_true(*r != '\0');
    }
    assert_non_null(roost_http_reason(299));
    assert_non_null(roost_http_reason(0));
}

/* ---- reuse ------------------------------------------------------------- */

static void test_http__request_reset_clears_everything(void **state)
{
    (void)state;
    /* http.h: "Both are reused from one request to the next: _reset keeps
     * their allocations." Nothing of one request leaks into the next. */
    struct roost_http_request req;
    make_req(&req, "game-1", "/v1/cache/k?instance_id=q");
    req.method = ROOST_METHOD_PUT;
    req.has_content_type = 1;
    roost_buf_append_str(&req.content_type, "text/plain");
    roost_buf_append_str(&req.body, "value");
    req.content_length = 5;
    req.body_too_large = 1;
    roost_http_request_reset(&req);
    assert_int_equal(req.content_length, 0);
    assert_int_equal(req.body_too_large, 0);
    assert_int_equal(req.method, ROOST_METHOD_OTHER);
    assert_int_equal(req.uri.len, 0);
    assert_int_equal(req.path.len, 0);
    assert_int_equal(req.query.len, 0);
    assert_int_equal(req.has_instance_header, 0);
    assert_int_equal(req.instance_header.len, 0);
    assert_int_equal(req.has_content_type, 0);
    assert_int_equal(req.content_type.len, 0);
    assert_int_equal(req.body.len, 0);
    struct roost_buf out = ROOST_BUF_INIT;
    int given = -1;
    assert_roost_ok(roost_http_instance_id(&req, &out, &given));
    assert_int_equal(given, 0);
    roost_buf_release(&out);
    roost_http_request_release(&req);
}

static void test_http__response_reset_clears_everything(void **state)
{
    (void)state;
    /* http.h: "_reset keeps their allocations" but no header, type or body of the last
     * response */
    struct roost_http_response resp;
    roost_http_response_init(&resp);
    roost_http_response_header(&resp, "X-Old", roost_slice_cstr("1"));
    roost_http_response_bytes(&resp, 201, roost_slice_cstr("text/plain"), roost_slice_cstr("abc"));
    roost_http_response_reset(&resp);
    assert_int_equal(resp.body.len, 0);
    assert_int_equal(resp.content_type.len, 0);
    roost_http_response_bytes(&resp, 200, roost_slice_cstr("image/png"), roost_slice_cstr("z"));
    struct roost_buf head = ROOST_BUF_INIT;
    head_of(&resp, &head);
    assert_null(strstr(head.ptr, "X-Old"));
    assert_null(strstr(head.ptr, "text/plain"));
    assert_non_null(strstr(head.ptr, "Content-Type: image/png\r\n"));
    assert_non_null(strstr(head.ptr, "Content-Length: 1\r\n"));
    roost_buf_release(&head);
    roost_http_response_release(&resp);
}


static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_http__request_ids(void **state)
{
    (void)state;
    /* issue 6: "every request gets an X-Request-ID (the client's if it sent
     * a sane one, else a fresh UUID)" - fresh ones are UUIDv4-shaped and
     * never repeat within a process */
    enum { N = 20000 };
    struct roost_id_gen g;
    roost_id_gen_init(&g);
    struct roost_http_request req;
    roost_http_request_init(&req);
    struct roost_buf id = ROOST_BUF_INIT;
    char **all = calloc(N, sizeof(*all));
    assert_non_null(all);
    for (int i = 0; i < N; i++) {
        roost_http_request_id(&req, &g, &id);
        assert_int_equal(id.len, 36);
        assert_int_equal(id.ptr[14], '4');
        assert_non_null(strchr("89ab", id.ptr[19]));
        all[i] = strdup(id.ptr);
    }
    qsort(all, N, sizeof(*all), cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(all[i - 1], all[i]);
    for (int i = 0; i < N; i++)
        free(all[i]);
    free(all);
    /* a sane client id is kept; an insane one replaced */
    req.has_request_id = 1;
    roost_buf_set_str(&req.request_id, "abc-123:x_y.z");
    roost_http_request_id(&req, &g, &id);
    assert_string_equal(id.ptr, "abc-123:x_y.z");
    roost_buf_set_str(&req.request_id, "bad id\r\nX: y");
    roost_http_request_id(&req, &g, &id);
    assert_int_equal(id.len, 36);
    roost_buf_release(&id);
    roost_http_request_release(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http__method_parse_and_name),
        cmocka_unit_test(test_http__method_parse_other),
        cmocka_unit_test(test_http__set_uri_splits_path_and_query),
        cmocka_unit_test(test_http__set_uri_without_query),
        cmocka_unit_test(test_http__set_uri_copies_and_respects_length),
        cmocka_unit_test(test_http__percent_decode_valid),
        cmocka_unit_test(test_http__percent_decode_slash_stays_a_byte),
        cmocka_unit_test(test_http__percent_decode_nul_byte),
        cmocka_unit_test(test_http__percent_decode_plus_by_mode),
        cmocka_unit_test(test_http__percent_decode_bad_escapes),
        cmocka_unit_test(test_http__percent_decode_respects_length),
        cmocka_unit_test(test_http__percent_decode_replaces_output),
        cmocka_unit_test(test_http__query_param_found_and_first_match),
        cmocka_unit_test(test_http__query_param_absent),
        cmocka_unit_test(test_http__query_param_encoded_name_and_value),
        cmocka_unit_test(test_http__query_param_empty_value),
        cmocka_unit_test(test_http__query_param_bad_escape),
        cmocka_unit_test(test_http__instance_id_from_header),
        cmocka_unit_test(test_http__instance_id_from_query),
        cmocka_unit_test(test_http__instance_id_header_wins),
        cmocka_unit_test(test_http__instance_id_invalid_header_not_rescued_by_query),
        cmocka_unit_test(test_http__instance_id_none_given),
        cmocka_unit_test(test_http__instance_id_syntax_checked),
        cmocka_unit_test(test_http__error_body_is_json_with_code),
        cmocka_unit_test(test_http__error_body_extra_fields_and_message),
        cmocka_unit_test(test_http__error_status_and_code_from_table),
        cmocka_unit_test(test_http__error_after_bytes_is_still_json),
        cmocka_unit_test(test_http__head_serialisation),
        cmocka_unit_test(test_http__bytes_response),
        cmocka_unit_test(test_http__empty_body_response),
        cmocka_unit_test(test_http__no_content_head_has_no_length),
        cmocka_unit_test(test_http__json_response_and_extra_headers),
        cmocka_unit_test(test_http__reason_phrases),
        cmocka_unit_test(test_http__request_reset_clears_everything),
        cmocka_unit_test(test_http__response_reset_clears_everything),
        cmocka_unit_test(test_http__request_ids),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
