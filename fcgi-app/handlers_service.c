/* handlers_service.c - GET / (service description) and GET /health. */
#include "config.h"

#include <json-c/json.h>

#include "handlers.h"
#include "json_util.h"
#include "keyspace.h"

void roost_handle_root(struct roost_request_ctx *ctx)
{
    /* DESIGN.md "API rules": {"service", "version", "endpoints"}, each
     * endpoint as "METHOD /path"; HEAD is implied by GET and not listed. */
    static const enum roost_method listed[] = {
        ROOST_METHOD_GET, ROOST_METHOD_PUT, ROOST_METHOD_POST, ROOST_METHOD_PATCH, ROOST_METHOD_DELETE,
    };
    struct json_object *endpoints = json_object_new_array();
    size_t n;
    const struct roost_route *routes = roost_router_routes(&n);
    struct roost_buf *line = &ctx->app->scratch;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof(listed) / sizeof(listed[0]); j++) {
            if (!(routes[i].methods & (unsigned)listed[j]))
                continue;
            roost_buf_reset(line);
            roost_buf_appendf(line, "%s %s", roost_http_method_name(listed[j]), routes[i].pattern);
            json_object_array_add(endpoints, roost_json_string(roost_buf_slice(line)));
        }
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "service", json_object_new_string("roost"));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "endpoints", endpoints);
    roost_http_response_json(ctx->resp, 200, o);
}

/* The store is healthy when its META partition can be locked and read. */
static enum roost_err probe_store(struct roost_app *app)
{
    struct roost_store *st = roost_app_store(app);
    if (!st)
        return ROOST_ERR_STORE_UNAVAILABLE;
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
    if (!err) {
        roost_keyspace_instance_key(&app->key, roost_slice_cstr(app->settings.default_instance));
        int exists = 0;
        err = roost_store_exists(&sc, roost_buf_slice(&app->key), &exists);
    }
    roost_store_end(&sc);
    return err;
}

void roost_handle_health(struct roost_request_ctx *ctx)
{
    /* spec "Health Check": status, mode, instance_id (the request's if it
     * named one, else the default), timestamp. */
    enum roost_err err = probe_store(ctx->app);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(err ? "unhealthy" : "healthy"));
    json_object_object_add(o, "mode", json_object_new_string(ctx->app->settings.mode));
    json_object_object_add(o, "instance_id", roost_json_string(ctx->instance_id));
    json_object_object_add(o, "timestamp", json_object_new_int64(ctx->app->now()));
    if (err) {
        json_object_object_add(o, "error", json_object_new_string(roost_err_message(err)));
        json_object_object_add(o, "code", json_object_new_string(roost_err_code(err)));
    }
    roost_http_response_json(ctx->resp, err ? 503 : 200, o);
}
