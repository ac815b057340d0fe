/* json_util.c - strict parsing, one serialisation style, roost's documents. */
#include "config.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "encoding.h"
#include "hash.h"
#include "json_util.h"
#include "keyspace.h"
#include "limits.h"

/* Compact, and '/' left alone: keys and values often hold paths. */
#define SERIALIZE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int only_whitespace(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return 0;
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the string token at p[0] == '"', or 0 if it is not one:
 * RFC 8259 section 7, no raw control characters, only the listed escapes. */
static size_t scan_string(const char *p, size_t n)
{
    size_t i = 1;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            i++;
            continue;
        }
        if (i + 1 >= n)
            return 0;
        char e = p[i + 1];
        if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            i += 2;
        } else if (e == 'u' && i + 5 < n && is_hex(p[i + 2]) && is_hex(p[i + 3])
                   && is_hex(p[i + 4]) && is_hex(p[i + 5])) {
            i += 6;
        } else {
            return 0;
        }
    }
    return 0;
}

/* Length of the number token at p, or 0: RFC 8259 section 6,
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t scan_number(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        while (i < n && is_digit(p[i]))
            i++;
    else
        return 0;
    if (i < n && p[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == start)
            return 0;
    }
    return i;
}

/* json-c 0.16 in strict mode still takes single-quoted strings, NaN and
 * Infinity, "1." and raw control characters in strings, and lets some
 * invalid UTF-8 through. This pass checks RFC 8259's token syntax and the
 * text's UTF-8; json-c then checks the structure. */
static const char *token_syntax_error(const char *p, size_t n)
{
    if (!roost_utf8_valid(p, n))
        return "document is not valid UTF-8";
    size_t i = 0;
    while (i < n) {
        size_t len = 0;
        switch (p[i]) {
        case ' ': case '\t': case '\n': case '\r':
        case '{': case '}': case '[': case ']': case ',': case ':':
            len = 1;
            break;
        case '"':
            len = scan_string(p + i, n - i);
            break;
        case 't':
            len = n - i >= 4 && memcmp(p + i, "true", 4) == 0 ? 4 : 0;
            break;
        case 'f':
            len = n - i >= 5 && memcmp(p + i, "false", 5) == 0 ? 5 : 0;
            break;
        case 'n':
            len = n - i >= 4 && memcmp(p + i, "null", 4) == 0 ? 4 : 0;
            break;
        default:
            len = scan_number(p + i, n - i);
            break;
        }
        if (!len)
            return "invalid token";
        i += len;
    }
    return NULL;
}

enum roost_err roost_json_parse(struct roost_slice text, struct json_object **out,
                                struct roost_buf *detail)
{
    if (text.len > INT32_MAX) {
        if (detail)
            roost_buf_set_str(detail, "document too large");
        return ROOST_ERR_INVALID_JSON;
    }
    const char *bad = token_syntax_error(text.ptr, text.len);
    if (bad) {
        if (detail)
            roost_buf_set_str(detail, bad);
        return ROOST_ERR_INVALID_JSON;
    }
    struct json_tokener *tok = json_tokener_new_ex(ROOST_JSON_DEPTH_MAX);
    if (!tok)
        abort(); /* only fails on allocation; the project aborts on OOM */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, text.ptr ? text.ptr : "", (int)text.len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!obj && jerr == json_tokener_continue && end == text.len) {
        /* A bare number or literal could go on: the NUL ends it. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = text.len;
    }
    enum roost_err err = ROOST_OK;
    const char *why = NULL;
    if (!obj && jerr == json_tokener_continue) {
        why = "unexpected end of document";
        err = ROOST_ERR_INVALID_JSON;
    } else if (!obj && jerr != json_tokener_success) {
        why = json_tokener_error_desc(jerr);
        err = ROOST_ERR_INVALID_JSON;
    } else if (end < text.len && !only_whitespace(text.ptr + end, text.len - end)) {
        why = "unexpected data after the document";
        err = ROOST_ERR_INVALID_JSON;
    }
    json_tokener_free(tok);
    if (err) {
        json_object_put(obj);
        if (detail)
            roost_buf_set_str(detail, why);
        return err;
    }
    *out = obj;
    return ROOST_OK;
}

void roost_json_serialize(const struct json_object *obj, struct roost_buf *out)
{
    size_t len = 0;
    /* json-c keeps the text in obj; const-cast is its API's, not a write. */
    const char *s = json_object_to_json_string_length((struct json_object *)obj, SERIALIZE_FLAGS, &len);
    roost_buf_append(out, s, len);
}

struct json_object *roost_json_string(struct roost_slice s)
{
    struct json_object *o = json_object_new_string_len(s.ptr ? s.ptr : "", (int)s.len);
    if (!o)
        abort();
    return o;
}

struct json_object *roost_json_bytes_value(struct roost_slice data)
{
    if (roost_utf8_valid(data.ptr, data.len))
        return roost_json_string(data);
    struct roost_buf b64 = ROOST_BUF_INIT;
    roost_base64_encode(&b64, data.ptr, data.len);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "base64", roost_json_string(roost_buf_slice(&b64)));
    roost_buf_release(&b64);
    return o;
}

struct json_object *roost_json_error_body(enum roost_err err, const char *message,
                                          struct json_object *extra)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(message ? message : roost_err_message(err)));
    json_object_object_add(o, "code", json_object_new_string(roost_err_code(err)));
    if (extra) {
        json_object_object_foreach(extra, k, v) {
            json_object_object_add(o, k, json_object_get(v));
        }
        json_object_put(extra);
    }
    return o;
}

/* De-duplication of batch keys: open addressing over indices into keys[]. */
static void dedupe(struct roost_batch_request *req)
{
    size_t cap = 16;
    while (cap < req->count * 2)
        cap *= 2;
    size_t *slots = roost_xmalloc(cap * sizeof(*slots));
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    size_t kept = 0;
    for (size_t i = 0; i < req->count; i++) {
        struct roost_slice k = req->keys[i];
        size_t pos = (size_t)roost_fnv1a64(k.ptr, k.len) & (cap - 1);
        int dup = 0;
        while (slots[pos] != SIZE_MAX) {
            if (roost_slice_eq(req->keys[slots[pos]], k)) {
                dup = 1;
                break;
            }
            pos = (pos + 1) & (cap - 1);
        }
        if (dup)
            continue;
        req->keys[kept] = k;
        slots[pos] = kept;
        kept++;
    }
    req->count = kept;
    free(slots);
}

enum roost_err roost_json_parse_batch(struct roost_slice body, size_t max_keys,
                                      struct roost_batch_request *out, struct roost_buf *detail)
{
    struct json_object *doc = NULL;
    enum roost_err err = roost_json_parse(body, &doc, detail);
    if (err)
        return err;
    struct roost_batch_request req = { doc, NULL, 0 };
    struct json_object *keys = NULL;
    if (!json_object_is_type(doc, json_type_object)) {
        err = roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "body must be a JSON object with a \"keys\" array");
        goto out;
    }
    json_object_object_foreach(doc, name, value) {
        if (strcmp(name, "keys") != 0) {
            err = roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "unknown field \"%.64s\"; only \"keys\" is accepted", name);
            goto out;
        }
        keys = value;
    }
    if (!keys || !json_object_is_type(keys, json_type_array)) {
        err = roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "\"keys\" must be an array of strings");
        goto out;
    }
    size_t n = json_object_array_length(keys);
    if (n > max_keys) {
        err = roost_err_detail(ROOST_ERR_BATCH_TOO_LARGE, detail, "%zu keys given; at most %zu per batch (ROOST_MAX_BATCH_KEYS)", n, max_keys);
        goto out;
    }
    req.keys = roost_xcalloc(n ? n : 1, sizeof(*req.keys));
    for (size_t i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(keys, i);
        if (!json_object_is_type(k, json_type_string)) {
            err = roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "keys[%zu] is not a string", i);
            goto out;
        }
        struct roost_slice s = roost_slice_make(json_object_get_string(k), (size_t)json_object_get_string_len(k));
        if (!roost_keyspace_key_valid(s)) {
            err = roost_err_detail(ROOST_ERR_INVALID_KEY, detail, "keys[%zu] is not a valid key (1-%d bytes of UTF-8 without control characters)", i, ROOST_KEY_MAX);
            goto out;
        }
        req.keys[req.count++] = s;
    }
    dedupe(&req);
out:
    if (err) {
        roost_batch_request_release(&req);
        return err;
    }
    *out = req;
    return ROOST_OK;
}

void roost_batch_request_release(struct roost_batch_request *req)
{
    json_object_put(req->doc);
    free(req->keys);
    req->doc = NULL;
    req->keys = NULL;
    req->count = 0;
}
