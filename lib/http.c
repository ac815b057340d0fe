/* http.c - request parsing helpers and response building, no FastCGI. */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "instance.h"
#include "json_util.h"

static const struct {
    enum roost_method method;
    const char *name;
} methods[] = {
    { ROOST_METHOD_GET, "GET" },
    { ROOST_METHOD_HEAD, "HEAD" },
    { ROOST_METHOD_PUT, "PUT" },
    { ROOST_METHOD_POST, "POST" },
    { ROOST_METHOD_DELETE, "DELETE" },
    { ROOST_METHOD_PATCH, "PATCH" },
};

enum roost_method roost_http_method_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].method;
    return ROOST_METHOD_OTHER;
}

const char *roost_http_method_name(enum roost_method m)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].method == m)
            return methods[i].name;
    return "OTHER";
}

void roost_http_request_init(struct roost_http_request *req)
{
    memset(req, 0, sizeof(*req));
    roost_buf_init(&req->uri);
    roost_buf_init(&req->instance_header);
    roost_buf_init(&req->content_type);
    roost_buf_init(&req->project_header);
    roost_buf_init(&req->request_id);
    roost_buf_init(&req->trusted_user);
    roost_buf_init(&req->authorization);
    roost_buf_init(&req->remote_user);
    roost_buf_init(&req->body);
}

void roost_http_request_reset(struct roost_http_request *req)
{
    req->method = ROOST_METHOD_OTHER;
    roost_buf_reset(&req->uri);
    req->path = ROOST_SLICE_NULL;
    req->query = ROOST_SLICE_NULL;
    req->has_instance_header = 0;
    roost_buf_reset(&req->instance_header);
    req->has_content_type = 0;
    roost_buf_reset(&req->content_type);
    req->has_project_header = 0;
    roost_buf_reset(&req->project_header);
    req->has_request_id = 0;
    roost_buf_reset(&req->request_id);
    req->has_trusted_user = 0;
    roost_buf_reset(&req->trusted_user);
    roost_buf_reset(&req->authorization);
    roost_buf_reset(&req->remote_user);
    req->content_length = 0;
    req->body_too_large = 0;
    req->body_incomplete = 0;
    roost_buf_reset(&req->body);
}

void roost_http_request_release(struct roost_http_request *req)
{
    roost_buf_release(&req->uri);
    roost_buf_release(&req->instance_header);
    roost_buf_release(&req->content_type);
    roost_buf_release(&req->project_header);
    roost_buf_release(&req->request_id);
    roost_buf_release(&req->trusted_user);
    roost_buf_release(&req->authorization);
    roost_buf_release(&req->remote_user);
    roost_buf_release(&req->body);
    roost_http_request_init(req);
}

void roost_http_request_set_uri(struct roost_http_request *req, const char *uri, size_t len)
{
    roost_buf_set(&req->uri, uri, len);
    const char *q = memchr(req->uri.ptr, '?', req->uri.len);
    if (q) {
        req->path = roost_slice_make(req->uri.ptr, (size_t)(q - req->uri.ptr));
        req->query = roost_slice_make(q + 1, req->uri.len - req->path.len - 1);
    } else {
        req->path = roost_buf_slice(&req->uri);
        req->query = roost_slice_make(req->uri.ptr + req->uri.len, 0);
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int roost_http_percent_decode(struct roost_slice in, int plus_is_space, struct roost_buf *out)
{
    roost_buf_reset(out);
    roost_buf_grow(out, in.len);
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%') {
            int hi, lo;
            if (in.len - i < 3 || (hi = hex_value(in.ptr[i + 1])) < 0
                || (lo = hex_value(in.ptr[i + 2])) < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out->ptr[out->len++] = c;
    }
    out->ptr[out->len] = '\0';
    return 0;
}

int roost_http_query_param(struct roost_slice query, const char *name, struct roost_buf *out)
{
    struct roost_buf decoded_name = ROOST_BUF_INIT;
    int result = 0;
    size_t i = 0;
    while (i < query.len && result == 0) {
        const char *start = query.ptr + i;
        const char *amp = memchr(start, '&', query.len - i);
        size_t plen = amp ? (size_t)(amp - start) : query.len - i;
        i += plen + 1;
        const char *eq = memchr(start, '=', plen);
        struct roost_slice n = roost_slice_make(start, eq ? (size_t)(eq - start) : plen);
        struct roost_slice v = eq ? roost_slice_make(eq + 1, plen - n.len - 1) : ROOST_SLICE_NULL;
        if (roost_http_percent_decode(n, 1, &decoded_name) < 0)
            continue; /* a malformed pair that is not ours does not matter */
        if (strcmp(decoded_name.ptr, name) != 0 || decoded_name.len != strlen(name))
            continue;
        result = roost_http_percent_decode(v, 1, out) < 0 ? -1 : 1;
    }
    roost_buf_release(&decoded_name);
    return result;
}

/* An id from a header, else from a query parameter (the header wins:
 * DESIGN.md "API rules"), checked against the id syntax. */
static enum roost_err id_from(const struct roost_http_request *req, int has_header,
                              const struct roost_buf *header, const char *query_name,
                              enum roost_err invalid, struct roost_buf *out, int *given)
{
    roost_buf_reset(out);
    *given = 0;
    if (has_header) {
        *given = 1;
        roost_buf_set(out, header->ptr, header->len);
    } else {
        int found = roost_http_query_param(req->query, query_name, out);
        if (found < 0) {
            *given = 1;
            return invalid;
        }
        *given = found;
    }
    if (*given && !roost_instance_id_valid(roost_buf_slice(out)))
        return invalid;
    return ROOST_OK;
}

enum roost_err roost_http_instance_id(const struct roost_http_request *req,
                                      struct roost_buf *out, int *given)
{
    return id_from(req, req->has_instance_header, &req->instance_header, "instance_id",
                   ROOST_ERR_INVALID_INSTANCE_ID, out, given);
}

enum roost_err roost_http_project_id(const struct roost_http_request *req,
                                     struct roost_buf *out, int *given)
{
    return id_from(req, req->has_project_header, &req->project_header, "project_id",
                   ROOST_ERR_INVALID_PROJECT_ID, out, given);
}

static int request_id_sane(const struct roost_buf *id)
{
    if (id->len < 1 || id->len > 128)
        return 0;
    for (size_t i = 0; i < id->len; i++) {
        char c = id->ptr[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

void roost_id_gen_init(struct roost_id_gen *g)
{
    memset(g, 0, sizeof(*g));
    /* getrandom() from the kernel's pool never blocks once the system is
     * up; should it fail, time and pid still keep processes apart. */
    if (getrandom(g->key, sizeof(g->key), 0) != (ssize_t)sizeof(g->key)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g->key[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        g->key[1] = (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_nsec;
    }
}

/* splitmix64's finaliser: a bijection on 64-bit words. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void roost_http_request_id(const struct roost_http_request *req, struct roost_id_gen *g,
                           struct roost_buf *out)
{
    if (req->has_request_id && request_id_sane(&req->request_id)) {
        roost_buf_set(out, req->request_id.ptr, req->request_id.len);
        return;
    }
    uint64_t n = g->next++;
    uint64_t w[2] = { mix64(g->key[0] + n), mix64(g->key[1] ^ n) };
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(w[0] >> (8 * i));
        b[8 + i] = (unsigned char)(w[1] >> (8 * i));
    }
    /* RFC 9562 version 4 layout: version and variant bits. */
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char text[36];
    size_t len = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            text[len++] = '-';
        text[len++] = hex[b[i] >> 4];
        text[len++] = hex[b[i] & 15];
    }
    roost_buf_set(out, text, len);
}

void roost_http_response_init(struct roost_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    roost_buf_init(&resp->headers);
    roost_buf_init(&resp->storage);
    roost_buf_init(&resp->content_type);
    resp->status = 200;
}

void roost_http_response_reset(struct roost_http_response *resp)
{
    resp->status = 200;
    roost_buf_reset(&resp->headers);
    roost_buf_reset(&resp->storage);
    resp->body = ROOST_SLICE_NULL;
    roost_buf_reset(&resp->content_type);
}

void roost_http_response_release(struct roost_http_response *resp)
{
    roost_buf_release(&resp->headers);
    roost_buf_release(&resp->storage);
    roost_buf_release(&resp->content_type);
    roost_http_response_init(resp);
}

void roost_http_response_header(struct roost_http_response *resp, const char *name,
                                struct roost_slice value)
{
    roost_buf_append_str(&resp->headers, name);
    roost_buf_append(&resp->headers, ": ", 2);
    roost_buf_append_slice(&resp->headers, value);
    roost_buf_append(&resp->headers, "\r\n", 2);
}

void roost_http_response_content_type(struct roost_http_response *resp, struct roost_slice ct)
{
    roost_buf_set(&resp->content_type, ct.ptr, ct.len);
}

void roost_http_response_bytes(struct roost_http_response *resp, int status,
                               struct roost_slice content_type, struct roost_slice body)
{
    resp->status = status;
    roost_http_response_content_type(resp, content_type);
    roost_buf_set(&resp->storage, body.ptr, body.len);
    resp->body = roost_buf_slice(&resp->storage);
}

void roost_http_response_json(struct roost_http_response *resp, int status,
                              struct json_object *obj)
{
    resp->status = status;
    roost_http_response_content_type(resp, roost_slice_cstr("application/json"));
    roost_buf_reset(&resp->storage);
    roost_json_serialize(obj, &resp->storage);
    json_object_put(obj);
    resp->body = roost_buf_slice(&resp->storage);
}

void roost_http_response_error(struct roost_http_response *resp, enum roost_err err,
                               const char *message, struct json_object *extra)
{
    roost_http_response_json(resp, roost_err_status(err),
                             roost_json_error_body(err, message, extra));
}

void roost_http_response_head(const struct roost_http_response *resp, struct roost_buf *out)
{
    roost_buf_appendf(out, "Status: %d %s\r\n", resp->status, roost_http_reason(resp->status));
    if (resp->content_type.len) {
        roost_buf_append(out, "Content-Type: ", 14);
        roost_buf_append_slice(out, roost_buf_slice(&resp->content_type));
        roost_buf_append(out, "\r\n", 2);
    }
    roost_buf_append_slice(out, roost_buf_slice(&resp->headers));
    /* 204 and 304 carry no body and no Content-Length (RFC 9110 8.6). */
    if (resp->status != 204 && resp->status != 304)
        roost_buf_appendf(out, "Content-Length: %zu\r\n", resp->body.len);
    roost_buf_append(out, "\r\n", 2);
}

const char *roost_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}
