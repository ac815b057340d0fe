/*
 * json_util.h - the only path to and from JSON (json-c).
 *
 * Parsing is strict (RFC 8259: no comments, no trailing garbage), checks
 * UTF-8, and limits nesting (ROOST_JSON_DEPTH_MAX). Serialisation flags
 * live here so every document is written the same way.
 */
#ifndef ROOST_JSON_UTIL_H
#define ROOST_JSON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct json_object;

/* Parses text strictly. On OK *out (which must be NULL) holds a new
 * reference, or NULL for the document "null" (json-c's null; valid JSON,
 * so a caller checking the type answers "wrong shape", not "not JSON"). Errors: INVALID_JSON; detail (may be NULL) gets the tokenizer's
 * reason. */
enum roost_err roost_json_parse(struct roost_slice text, struct json_object **out,
                                struct roost_buf *detail);

/* Appends obj's compact serialisation to out. */
void roost_json_serialize(const struct json_object *obj, struct roost_buf *out);

/* A new JSON string holding exactly bytes p[0..n) (NULs included). */
struct json_object *roost_json_string(struct roost_slice s);

/* A JSON value for arbitrary bytes (DESIGN.md "API rules", batch get): a
 * string when data is valid UTF-8, else {"base64": "..."}. */
struct json_object *roost_json_bytes_value(struct roost_slice data);

/* The error body {"error": message, "code": CODE} plus extra's fields
 * (extra may be NULL; its reference is taken). message NULL: the table's. */
struct json_object *roost_json_error_body(enum roost_err err, const char *message,
                                          struct json_object *extra);

/* Batch get request: {"keys": [string, ...]}. */
struct roost_batch_request {
    struct json_object *doc;     /* owns the strings keys point into */
    struct roost_slice *keys;    /* de-duplicated, in first-seen order */
    size_t count;
};

/* Parses and validates a batch get body. Keys must be valid (keyspace.h);
 * duplicates are kept once; an empty list is fine.
 * Errors: INVALID_JSON, INVALID_REQUEST (not an object, "keys" missing or
 * not an array, unknown field, non-string key), INVALID_KEY, BATCH_TOO_LARGE
 * (more than max_keys entries, counted before de-duplication).
 * detail (may be NULL) gets one sentence naming the problem. */
enum roost_err roost_json_parse_batch(struct roost_slice body, size_t max_keys,
                                      struct roost_batch_request *out, struct roost_buf *detail);
void roost_batch_request_release(struct roost_batch_request *req);

#endif
