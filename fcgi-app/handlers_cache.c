/* handlers_cache.c - /v1/cache/{key} and /v1/cache/batch/get. */
#include "config.h"

#include <json-c/json.h>

#include "handlers.h"
#include "json_util.h"
#include "limits.h"

/* DESIGN.md "API rules": a raw value is tenant-controlled content served
 * from our origin, so browsers must neither sniff nor run it. */
static void value_safety_headers(struct roost_http_response *resp)
{
    roost_http_response_header(resp, "X-Content-Type-Options", roost_slice_cstr("nosniff"));
    roost_http_response_header(resp, "Content-Security-Policy", roost_slice_cstr("sandbox"));
}

static void get_value(struct roost_request_ctx *ctx)
{
    struct roost_kv_value *v = &ctx->app->value;
    enum roost_err err = roost_kv_get(ctx->app->store, ctx->instance_id, ctx->key, v);
    if (err) {
        roost_respond_error(ctx, err);
        return;
    }
    ctx->resp->status = 200;
    roost_http_response_content_type(ctx->resp, v->content_type);
    value_safety_headers(ctx->resp);
    /* Served straight from the fetched record: no copy of the value. */
    ctx->resp->body = v->data;
}

static void put_value(struct roost_request_ctx *ctx)
{
    const struct roost_http_request *req = ctx->req;
    struct roost_slice ct = req->has_content_type ? roost_buf_slice(&req->content_type) : ROOST_SLICE_NULL;
    int created = 0;
    enum roost_err err = roost_kv_put(ctx->app->store, ctx->instance_id, ctx->key, ct,
                                      roost_buf_slice(&req->body), ctx->app->settings.max_value_bytes,
                                      &created);
    if (err) {
        roost_respond_error(ctx, err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", roost_json_string(ctx->key));
    json_object_object_add(o, "instance_id", roost_json_string(ctx->instance_id));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)req->body.len));
    roost_http_response_json(ctx->resp, created ? 201 : 200, o);
}

static void delete_value(struct roost_request_ctx *ctx)
{
    enum roost_err err = roost_kv_delete(ctx->app->store, ctx->instance_id, ctx->key);
    if (err) {
        roost_respond_error(ctx, err);
        return;
    }
    ctx->resp->status = 204;
}

void roost_handle_cache_key(struct roost_request_ctx *ctx)
{
    switch (ctx->req->method) {
    case ROOST_METHOD_GET:
    case ROOST_METHOD_HEAD:
        get_value(ctx);
        break;
    case ROOST_METHOD_PUT:
    case ROOST_METHOD_POST:
        put_value(ctx);
        break;
    case ROOST_METHOD_DELETE:
        delete_value(ctx);
        break;
    case ROOST_METHOD_PATCH:
    case ROOST_METHOD_OTHER:
        /* the router only lets the route's methods through */
        roost_respond_error(ctx, ROOST_ERR_METHOD_NOT_ALLOWED);
        break;
    }
}

struct batch_out {
    const struct roost_batch_request *req;
    struct json_object *entries;
    struct json_object *missing;
};

static enum roost_err add_batch_entry(void *arg, size_t index, int found,
                                      struct roost_slice content_type, struct roost_slice data)
{
    struct batch_out *out = arg;
    (void)content_type;
    struct roost_slice key = out->req->keys[index];
    if (!found) {
        json_object_array_add(out->missing, roost_json_string(key));
        return ROOST_OK;
    }
    /* Keys are validated UTF-8 without NULs (safe member names) and were
     * de-duplicated, so json-c may skip its lookup for an existing member. */
    json_object_object_add_ex(out->entries, key.ptr, roost_json_bytes_value(data),
                              JSON_C_OBJECT_ADD_KEY_IS_NEW);
    return ROOST_OK;
}

void roost_handle_batch_get(struct roost_request_ctx *ctx)
{
    struct roost_batch_request breq = { 0 };
    struct roost_buf *detail = &ctx->app->scratch;
    roost_buf_reset(detail);
    enum roost_err err = roost_json_parse_batch(roost_buf_slice(&ctx->req->body),
                                                ctx->app->settings.max_batch_keys, &breq, detail);
    if (err) {
        roost_http_response_error(ctx->resp, err, detail->len ? detail->ptr : NULL, NULL);
        return;
    }
    struct batch_out out = { &breq, json_object_new_object(), json_object_new_array() };
    err = roost_kv_batch_get(ctx->app->store, ctx->instance_id, breq.keys, breq.count,
                             ROOST_BATCH_RESPONSE_MAX, add_batch_entry, &out);
    if (err) {
        json_object_put(out.entries);
        json_object_put(out.missing);
        roost_respond_error(ctx, err);
    } else {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "entries", out.entries);
        json_object_object_add(o, "missing", out.missing);
        roost_http_response_json(ctx->resp, 200, o);
    }
    roost_batch_request_release(&breq);
}
