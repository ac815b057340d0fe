/* handlers_admin.c - /v1/admin/: instances (list, create, show, change,
 * delete) and store statistics. Credentials were checked by the
 * dispatcher (ROOST_ROUTE_ADMIN); each handler is a call into lib/. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "admin.h"
#include "handlers.h"
#include "json_util.h"
#include "kv.h"
#include "limits.h"
#include "registry.h"

static struct roost_store *store_or_respond(struct roost_request_ctx *ctx)
{
    struct roost_store *st = roost_app_store(ctx->app);
    if (!st)
        roost_http_response_error(ctx->resp, ROOST_ERR_STORE_UNAVAILABLE, NULL, NULL);
    return st;
}

/* Parses the request body as JSON, answering 400 itself on failure. */
static struct json_object *body_or_respond(struct roost_request_ctx *ctx, int *failed)
{
    struct json_object *doc = NULL;
    struct roost_buf *detail = &ctx->app->scratch;
    roost_buf_reset(detail);
    enum roost_err err = roost_json_parse(roost_buf_slice(&ctx->req->body), &doc, detail);
    *failed = err != ROOST_OK;
    if (err)
        roost_http_response_error(ctx->resp, err, detail->len ? detail->ptr : NULL, NULL);
    return doc;
}

/* Errors that carry a detail sentence (patch validation) say it. */
static void respond_detail(struct roost_request_ctx *ctx, enum roost_err err)
{
    struct roost_buf *detail = &ctx->app->scratch;
    if (roost_err_status(err) == 400 && detail->len)
        roost_http_response_error(ctx->resp, err, detail->ptr, NULL);
    else
        roost_respond_error(ctx, err);
}

static enum roost_err list_one(void *arg, const struct roost_instance *inst)
{
    json_object_array_add(arg, roost_instance_to_object(inst, NULL));
    return ROOST_OK;
}

static int query_or_respond(struct roost_request_ctx *ctx, const char *name, struct roost_buf *out)
{
    int found = roost_http_query_param(ctx->req->query, name, out);
    if (found < 0) {
        roost_buf_reset(&ctx->app->scratch);
        roost_buf_appendf(&ctx->app->scratch, "query parameter \"%s\" has a bad %%-escape", name);
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_REQUEST, ctx->app->scratch.ptr, NULL);
    }
    return found;
}

/* GET /v1/admin/instances?status=S&cursor=C&limit=N */
static void list_instances(struct roost_request_ctx *ctx, struct roost_store *st)
{
    struct roost_buf v = ROOST_BUF_INIT, cursor = ROOST_BUF_INIT;
    int status = -1;
    size_t limit = ROOST_ADMIN_LIST_DEFAULT;
    int found = query_or_respond(ctx, "status", &v);
    if (found < 0)
        goto out;
    if (found && (status = roost_instance_status_parse(roost_buf_slice(&v))) < 0) {
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_STATUS, NULL, NULL);
        goto out;
    }
    if ((found = query_or_respond(ctx, "limit", &v)) < 0)
        goto out;
    if (found) {
        char *end;
        unsigned long n = strtoul(v.ptr, &end, 10);
        if (!v.len || *end || v.ptr[0] < '0' || v.ptr[0] > '9' || n < 1 || n > ROOST_ADMIN_LIST_MAX) {
            roost_buf_reset(&ctx->app->scratch);
            roost_buf_appendf(&ctx->app->scratch, "limit must be a whole number from 1 to %d",
                              ROOST_ADMIN_LIST_MAX);
            roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_REQUEST, ctx->app->scratch.ptr, NULL);
            goto out;
        }
        limit = n;
    }
    if ((found = query_or_respond(ctx, "cursor", &cursor)) < 0)
        goto out;
    /* The cursor is the last id of the previous page. */
    if (found && !roost_instance_id_valid(roost_buf_slice(&cursor))) {
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_CURSOR, NULL, NULL);
        goto out;
    }
    struct json_object *items = json_object_new_array();
    int more = 0;
    enum roost_err err = roost_registry_list(st, status, roost_buf_slice(&cursor), limit, list_one, items, &more);
    if (err) {
        json_object_put(items);
        roost_respond_error(ctx, err);
        goto out;
    }
    struct json_object *o = json_object_new_object();
    size_t n = json_object_array_length(items);
    struct json_object *next = NULL;
    if (more && n) {
        struct json_object *last = json_object_array_get_idx(items, n - 1), *id;
        if (json_object_object_get_ex(last, "id", &id))
            next = json_object_get(id);
    }
    json_object_object_add(o, "instances", items);
    json_object_object_add(o, "next_cursor", next);
    roost_http_response_json(ctx->resp, 200, o);
out:
    roost_buf_release(&v);
    roost_buf_release(&cursor);
}

/* POST /v1/admin/instances {"id": ..., fields} */
static void create_instance(struct roost_request_ctx *ctx, struct roost_store *st)
{
    int failed;
    struct json_object *doc = body_or_respond(ctx, &failed);
    if (failed)
        return;
    roost_buf_reset(&ctx->app->scratch);
    enum roost_err err = roost_registry_create(st, doc, ctx->app->now(), &ctx->app->instance,
                                               &ctx->app->scratch);
    json_object_put(doc);
    if (err) {
        respond_detail(ctx, err);
        return;
    }
    struct roost_instance_usage none = { 0, 0 };
    roost_http_response_json(ctx->resp, 201, roost_instance_to_object(&ctx->app->instance, &none));
}

void roost_handle_admin_instances(struct roost_request_ctx *ctx)
{
    struct roost_store *st = store_or_respond(ctx);
    if (!st)
        return;
    if (ctx->req->method == ROOST_METHOD_POST)
        create_instance(ctx, st);
    else
        list_instances(ctx, st);
}

static void show_instance(struct roost_request_ctx *ctx, struct roost_store *st, struct roost_slice id)
{
    struct json_object *o = NULL;
    enum roost_err err = roost_admin_show(st, id, &o);
    if (err)
        roost_respond_error(ctx, err);
    else
        roost_http_response_json(ctx->resp, 200, o);
}

void roost_handle_admin_instance(struct roost_request_ctx *ctx)
{
    struct roost_store *st = store_or_respond(ctx);
    if (!st)
        return;
    struct roost_buf *idbuf = &ctx->app->instance_id;
    if (roost_http_percent_decode(ctx->match.raw_key, 0, idbuf) < 0
        || !roost_instance_id_valid(roost_buf_slice(idbuf))) {
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_INSTANCE_ID, NULL, NULL);
        return;
    }
    struct roost_slice id = roost_buf_slice(idbuf);
    enum roost_err err;
    switch (ctx->req->method) {
    case ROOST_METHOD_PATCH: {
        int failed;
        struct json_object *doc = body_or_respond(ctx, &failed);
        if (failed)
            return;
        roost_buf_reset(&ctx->app->scratch);
        err = roost_registry_update(st, id, doc, &ctx->app->instance, &ctx->app->scratch);
        json_object_put(doc);
        if (err)
            respond_detail(ctx, err);
        else
            show_instance(ctx, st, id);
        return;
    }
    case ROOST_METHOD_DELETE: {
        size_t removed = 0;
        err = roost_admin_delete_instance(st, id, &removed);
        if (err) {
            roost_respond_error(ctx, err);
            return;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "instance_id", roost_json_string(id));
        json_object_object_add(o, "deleted", json_object_new_boolean(1));
        json_object_object_add(o, "keys_removed", json_object_new_int64((int64_t)removed));
        roost_http_response_json(ctx->resp, 200, o);
        return;
    }
    default:
        show_instance(ctx, st, id);
        return;
    }
}

void roost_handle_admin_stats(struct roost_request_ctx *ctx)
{
    struct roost_store *st = store_or_respond(ctx);
    if (!st)
        return;
    struct json_object *o = NULL;
    enum roost_err err = roost_admin_stats(st, &o);
    if (err) {
        roost_respond_error(ctx, err);
        return;
    }
    json_object_object_add(o, "config_cache", roost_counters_to_json(ctx->app->counters));
    roost_http_response_json(ctx->resp, 200, o);
}

/* POST /v1/admin/cache/warm {"instance_ids": [...]} (spec "warmCache"). */
static void warm_cache(struct roost_request_ctx *ctx)
{
    int failed;
    struct json_object *doc = body_or_respond(ctx, &failed);
    if (failed)
        return;
    struct json_object *ids;
    size_t n = 0;
    struct roost_slice *slices = NULL;
    if (!json_object_is_type(doc, json_type_object) || json_object_object_length(doc) != 1
        || !json_object_object_get_ex(doc, "instance_ids", &ids) || !json_object_is_type(ids, json_type_array)
        || (n = json_object_array_length(ids)) > ROOST_ADMIN_LIST_MAX) {
        roost_buf_reset(&ctx->app->scratch);
        roost_buf_appendf(&ctx->app->scratch, "body must be {\"instance_ids\": [...]} with at most %d ids",
                          ROOST_ADMIN_LIST_MAX);
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_REQUEST, ctx->app->scratch.ptr, NULL);
        goto out;
    }
    slices = roost_xcalloc(n ? n : 1, sizeof(*slices));
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(ids, i);
        slices[i] = json_object_is_type(v, json_type_string)
                    ? roost_slice_make(json_object_get_string(v), (size_t)json_object_get_string_len(v))
                    : ROOST_SLICE_NULL;
        if (!roost_instance_id_valid(slices[i])) {
            roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_INSTANCE_ID, NULL, NULL);
            goto out;
        }
    }
    size_t ok = 0, bad = 0;
    enum roost_err err = roost_resolver_warm(&ctx->app->resolver, slices, n, roost_buf_slice(&ctx->app->request_id),
                                             &ok, &bad);
    if (err) {
        roost_respond_error(ctx, err);
        goto out;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "warmed", json_object_new_int64((int64_t)ok));
    json_object_object_add(o, "failed", json_object_new_int64((int64_t)bad));
    roost_http_response_json(ctx->resp, 200, o);
out:
    free(slices);
    json_object_put(doc);
}

void roost_handle_admin_cache(struct roost_request_ctx *ctx)
{
    if (!store_or_respond(ctx))
        return;
    struct roost_config_cache *cache = &ctx->app->resolver.cache;
    enum roost_err err;
    switch (ctx->match.route->id) {
    case ROOST_ROUTE_ADMIN_CACHE_WARM:
        warm_cache(ctx);
        return;
    case ROOST_ROUTE_ADMIN_CACHE_ENTRIES: {
        size_t removed = 0;
        err = roost_config_cache_invalidate_all(cache, &removed);
        if (err) {
            roost_respond_error(ctx, err);
            return;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "invalidated", json_object_new_int64((int64_t)removed));
        roost_http_response_json(ctx->resp, 200, o);
        return;
    }
    case ROOST_ROUTE_ADMIN_CACHE_ENTRY: {
        struct roost_buf *idbuf = &ctx->app->instance_id;
        if (roost_http_percent_decode(ctx->match.raw_key, 0, idbuf) < 0
            || !roost_instance_id_valid(roost_buf_slice(idbuf))) {
            roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_INSTANCE_ID, NULL, NULL);
            return;
        }
        err = roost_config_cache_invalidate(cache, "instances", roost_buf_slice(idbuf));
        if (err == ROOST_ERR_KEY_NOT_FOUND)
            err = ROOST_ERR_CONFIG_NOT_FOUND;
        if (err) {
            roost_http_response_error(ctx->resp, err, err == ROOST_ERR_CONFIG_NOT_FOUND
                                      ? "no cached config for this instance" : NULL, NULL);
            return;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "invalidated", roost_json_string(roost_buf_slice(idbuf)));
        roost_http_response_json(ctx->resp, 200, o);
        return;
    }
    default:
        roost_http_response_json(ctx->resp, 200, roost_counters_to_json(ctx->app->counters));
        return;
    }
}
