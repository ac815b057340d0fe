/*
 * http.h - HTTP request and response types that know nothing of FastCGI.
 *
 * The FastCGI shell fills a struct roost_http_request from the CGI
 * environment (copying everything, so nothing borrowed outlives the
 * FastCGI request) and writes a struct roost_http_response back. Both are
 * reused from one request to the next: _reset keeps their allocations.
 *
 * Routing uses the raw REQUEST_URI: lighttpd's own path has already turned
 * %2F into '/' and removed dot segments (DESIGN.md "API rules").
 */
#ifndef ROOST_HTTP_H
#define ROOST_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct json_object;

enum roost_method {
    ROOST_METHOD_OTHER = 0,
    ROOST_METHOD_GET = 1 << 0,
    ROOST_METHOD_HEAD = 1 << 1,
    ROOST_METHOD_PUT = 1 << 2,
    ROOST_METHOD_POST = 1 << 3,
    ROOST_METHOD_DELETE = 1 << 4,
    ROOST_METHOD_PATCH = 1 << 5,
};

enum roost_method roost_http_method_parse(const char *name);
const char *roost_http_method_name(enum roost_method m);

struct roost_http_request {
    enum roost_method method;
    struct roost_buf uri;          /* raw REQUEST_URI */
    struct roost_slice path;       /* into uri: before '?' */
    struct roost_slice query;      /* into uri: after '?', empty if none */
    int has_instance_header;
    struct roost_buf instance_header;   /* X-Instance-ID */
    int has_content_type;
    struct roost_buf content_type;      /* CONTENT_TYPE */
    int has_project_header;
    struct roost_buf project_header;    /* X-Project-ID */
    int has_request_id;
    struct roost_buf request_id;        /* X-Request-ID as sent */
    int has_trusted_user;
    struct roost_buf trusted_user;      /* ROOST_TRUSTED_USER_HEADER's value */
    struct roost_buf authorization;     /* Authorization header, "" if none */
    struct roost_buf remote_user;       /* REMOTE_USER from lighttpd's mod_auth, "" if none */
    size_t content_length;         /* CONTENT_LENGTH as announced */
    int body_too_large;            /* body exceeded the route's limit: not kept */
    int body_incomplete;           /* stdin ended before content_length bytes */
    struct roost_buf body;
};

void roost_http_request_init(struct roost_http_request *req);
void roost_http_request_reset(struct roost_http_request *req);
void roost_http_request_release(struct roost_http_request *req);
/* Copies uri into req->uri and splits path and query. */
void roost_http_request_set_uri(struct roost_http_request *req, const char *uri, size_t len);

/* Percent-decodes in into out (replacing its contents). plus_is_space: '+'
 * means ' ' (query strings), else it is literal (paths).
 * Returns 0, or -1 on '%' not followed by two hex digits. */
int roost_http_percent_decode(struct roost_slice in, int plus_is_space, struct roost_buf *out);

/* Finds the first name=value pair of query whose decoded name is name and
 * decodes its value into out. Returns 1 found, 0 absent, -1 bad escape. */
int roost_http_query_param(struct roost_slice query, const char *name, struct roost_buf *out);

/* The request's instance id: X-Instance-ID header, else the instance_id
 * query parameter (DESIGN.md: the header wins). given is set to 1 when
 * either was present. On OK, out holds a valid id, or is empty when none
 * was given. Errors: INVALID_INSTANCE_ID. */
enum roost_err roost_http_instance_id(const struct roost_http_request *req,
                                      struct roost_buf *out, int *given);

/* The request's project id: X-Project-ID, else ?project_id= (the header
 * wins), like roost_http_instance_id. Errors: INVALID_PROJECT_ID. */
enum roost_err roost_http_project_id(const struct roost_http_request *req,
                                     struct roost_buf *out, int *given);

/* Source of fresh request ids: seeded once per process from the kernel's
 * random pool, then a counter through a bijective mixer, so ids are unique
 * within the process and unpredictable-enough across processes without a
 * system call per request. Not for secrets. */
struct roost_id_gen {
    uint64_t key[2];
    uint64_t next;
};
void roost_id_gen_init(struct roost_id_gen *g);

/* The request id (issue 6): the client's X-Request-ID when it is sane
 * (1-128 characters of A-Z a-z 0-9 . _ : -), else a fresh UUID (version 4
 * layout) from g. Replaces out's contents. */
void roost_http_request_id(const struct roost_http_request *req, struct roost_id_gen *g,
                           struct roost_buf *out);

struct roost_http_response {
    int status;
    struct roost_buf headers;      /* "Name: value\r\n" lines but Content-Type */
    struct roost_buf storage;      /* owns the body bytes when body points here */
    struct roost_slice body;       /* what is sent; must outlive the write */
    struct roost_buf content_type; /* sent as Content-Type unless empty */
};

void roost_http_response_init(struct roost_http_response *resp);
void roost_http_response_reset(struct roost_http_response *resp);
void roost_http_response_release(struct roost_http_response *resp);

/* Adds a header line. Name and value must not hold CR or LF (callers pass
 * constants or validated values). */
void roost_http_response_header(struct roost_http_response *resp, const char *name,
                                struct roost_slice value);
/* Sets (replaces) the Content-Type. */
void roost_http_response_content_type(struct roost_http_response *resp, struct roost_slice ct);
/* Sets status and Content-Type, and the body to the bytes given (copied). */
void roost_http_response_bytes(struct roost_http_response *resp, int status,
                               struct roost_slice content_type, struct roost_slice body);
/* Sets status, JSON Content-Type, and the body to obj's serialisation.
 * Takes ownership of obj (drops its reference). */
void roost_http_response_json(struct roost_http_response *resp, int status,
                              struct json_object *obj);
/* Error response: status and body {"error", "code", ...} from the error
 * table. message: NULL for the table's default. extra: NULL or a JSON
 * object whose fields are added to the body (ownership taken). */
void roost_http_response_error(struct roost_http_response *resp, enum roost_err err,
                               const char *message, struct json_object *extra);

/* The CGI response head: "Status: 200 OK\r\n", headers, Content-Length,
 * blank line. Appended to out. */
void roost_http_response_head(const struct roost_http_response *resp, struct roost_buf *out);

/* Reason phrase for a status ("OK", "Not Found", ...). */
const char *roost_http_reason(int status);

#endif
