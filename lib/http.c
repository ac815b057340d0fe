/* http.c - request parsing helpers and response building, no FastCGI. */
#include "config.h"

#include <json-c/json.h>

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
    req->content_length = 0;
    req->body_too_large = 0;
    roost_buf_reset(&req->body);
}

void roost_http_request_release(struct roost_http_request *req)
{
    roost_buf_release(&req->uri);
    roost_buf_release(&req->instance_header);
    roost_buf_release(&req->content_type);
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

enum roost_err roost_http_instance_id(const struct roost_http_request *req,
                                      struct roost_buf *out, int *given)
{
    roost_buf_reset(out);
    *given = 0;
    if (req->has_instance_header) {
        /* DESIGN.md "API rules": the header wins over the query. */
        *given = 1;
        roost_buf_set(out, req->instance_header.ptr, req->instance_header.len);
    } else {
        int found = roost_http_query_param(req->query, "instance_id", out);
        if (found < 0) {
            *given = 1;
            return ROOST_ERR_INVALID_INSTANCE_ID;
        }
        *given = found;
    }
    if (*given && !roost_instance_id_valid(roost_buf_slice(out)))
        return ROOST_ERR_INVALID_INSTANCE_ID;
    return ROOST_OK;
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
