/* dispatch.c - route, check once what the route's flags ask, run the handler. */
#include "config.h"

#include <json-c/json.h>
#include <strings.h>

#include "handlers.h"
#include "encoding.h"
#include "keyspace.h"
#include "limits.h"
#include "log.h"
#include "registry.h"

void roost_app_init(struct roost_app *app, roost_now_fn now)
{
    memset(app, 0, sizeof(*app));
    app->now = now;
    roost_buf_init(&app->instance_id);
    roost_buf_init(&app->project_id);
    roost_buf_init(&app->request_id);
    roost_id_gen_init(&app->ids);
    roost_lookup_result_init(&app->lookup);
    roost_buf_init(&app->key);
    roost_buf_init(&app->scratch);
    roost_buf_init(&app->value.raw);
    roost_instance_init(&app->instance);

    struct roost_buf problems = ROOST_BUF_INIT;
    int n = roost_settings_load(&app->settings, roost_settings_getenv, NULL, &problems);
    roost_log_set_level(app->settings.log_level);
    if (n) {
        /* DESIGN.md "Configuration": reported once, naming the variable and
         * the value; the worker then refuses to serve rather than guess. */
        const char *line = problems.ptr;
        while (*line) {
            const char *nl = strchr(line, '\n');
            int len = nl ? (int)(nl - line) : (int)strlen(line);
            roost_log(ROOST_LOG_ERROR, "settings", "%.*s; fix it in bin-environment of lighttpd.conf",
                      len, line);
            line += len + (nl ? 1 : 0);
        }
        roost_log(ROOST_LOG_ERROR, "settings", "refusing to serve: %d bad setting%s", n, n == 1 ? "" : "s");
        app->misconfigured = 1;
    }
    if (!app->misconfigured && app->settings.config_source) {
        roost_buf_reset(&problems);
        if (roost_config_source_open(app->settings.config_source, app->settings.config_timeout_ms,
                                     &app->source, &problems) != ROOST_OK) {
            roost_log(ROOST_LOG_ERROR, "settings", "ROOST_CONFIG_SOURCE='%s': %s; refusing to serve",
                      app->settings.config_source, problems.ptr);
            app->misconfigured = 1;
        }
    }
    roost_buf_release(&problems);
    if (!app->misconfigured)
        (void)roost_app_store(app);
}

void roost_app_release(struct roost_app *app)
{
    roost_resolver_release(&app->resolver);
    roost_config_source_close(app->source);
    roost_counters_close(app->counters);
    roost_store_close(app->store);
    roost_settings_release(&app->settings);
    roost_buf_release(&app->instance_id);
    roost_buf_release(&app->project_id);
    roost_buf_release(&app->request_id);
    roost_lookup_result_release(&app->lookup);
    roost_buf_release(&app->key);
    roost_buf_release(&app->scratch);
    roost_kv_value_release(&app->value);
    roost_instance_release(&app->instance);
}

struct roost_store *roost_app_store(struct roost_app *app)
{
    if (app->store)
        return app->store;
    int64_t now = app->now();
    if (now < app->store_retry_at)
        return NULL;
    app->store_retry_at = now + 1;
    if (roost_store_open(app->settings.store_dir, &app->store) != ROOST_OK) {
        app->store = NULL; /* the store module logged why */
        return NULL;
    }
    /* Statistics are optional: without them the cache still works. */
    if (roost_counters_open(app->settings.store_dir, &app->counters) != ROOST_OK)
        app->counters = NULL;
    roost_resolver_init(&app->resolver, app->store, app->source, app->counters, &app->settings, app->now);
    return app->store;
}

size_t roost_app_body_limit(const struct roost_app *app, const struct roost_http_request *req)
{
    struct roost_route_match m;
    if (roost_router_match(req->method, req->path, &m) != ROOST_OK
        || !(m.route->flags & ROOST_ROUTE_HAS_BODY))
        return 0;
    if (m.route->id == ROOST_ROUTE_BATCH_GET)
        return app->settings.max_batch_keys * (ROOST_KEY_MAX * 6 + 4) + 64;
    if (m.route->flags & ROOST_ROUTE_ADMIN)
        return ROOST_ADMIN_BODY_MAX;
    if (req->method == ROOST_METHOD_PUT || req->method == ROOST_METHOD_POST)
        return app->settings.max_value_bytes;
    return 0;
}

void roost_respond_error(struct roost_request_ctx *ctx, enum roost_err err)
{
    if (roost_err_status(err) >= 500)
        roost_log(ROOST_LOG_ERROR, "request", "%s %.*s failed: %s",
                  roost_http_method_name(ctx->req->method), (int)ctx->req->path.len,
                  ctx->req->path.ptr, roost_err_code(err));
    roost_http_response_error(ctx->resp, err, NULL, NULL);
}

/* The user the request acts for: the operator's trusted header when one is
 * configured (only behind a front that sets it), else lighttpd's
 * REMOTE_USER (DESIGN.md "Mapping": user context). */
static struct roost_slice request_user(const struct roost_app *app, const struct roost_http_request *req)
{
    if (app->settings.trusted_user_header && req->has_trusted_user && req->trusted_user.len)
        return roost_buf_slice(&req->trusted_user);
    return roost_buf_slice(&req->remote_user);
}

/* Runs the instance lookup (resolver.h: chain, config, access) and refuses
 * instances whose state does not accept requests. 0 when served. */
static int resolve_instance_or_respond(struct roost_request_ctx *ctx)
{
    struct roost_app *app = ctx->app;
    const struct roost_http_request *req = ctx->req;
    if (!roost_app_store(app)) {
        roost_http_response_error(ctx->resp, ROOST_ERR_STORE_UNAVAILABLE, NULL, NULL);
        return -1;
    }
    struct roost_slice user = request_user(app, req);
    if (user.len > ROOST_USER_MAX || !roost_utf8_valid(user.ptr, user.len) || roost_has_control(user.ptr, user.len)) {
        roost_http_response_error(ctx->resp, ROOST_ERR_INVALID_USER, NULL, NULL);
        return -1;
    }
    int project_given = 0;
    enum roost_err err = roost_http_project_id(req, &app->project_id, &project_given);
    if (err) {
        roost_http_response_error(ctx->resp, err, NULL, NULL);
        return -1;
    }
    struct roost_lookup_context lc = {
        .instance_id = ctx->instance_given ? roost_buf_slice(&app->instance_id) : ROOST_SLICE_NULL,
        .project_id = project_given ? roost_buf_slice(&app->project_id) : ROOST_SLICE_NULL,
        .user_id = user,
        .request_id = roost_buf_slice(&app->request_id),
        .allow_default = !(ctx->match.route->flags & ROOST_ROUTE_INSTANCE_REQUIRED),
    };
    struct roost_lookup_result *res = &app->lookup;
    roost_lookup_result_release(res);
    err = roost_resolver_resolve(&app->resolver, &lc, res);
    if (err) {
        roost_respond_error(ctx, err);
        return -1;
    }
    /* spec "Stale Cache Fallback": the result is marked with its source. */
    roost_http_response_header(ctx->resp, "X-Config-Source", roost_slice_cstr(roost_config_origin_name(res->origin)));
    roost_buf_set_str(&app->instance_id, res->instance_id);
    ctx->instance_id = roost_buf_slice(&app->instance_id);
    err = roost_instance_servable(res->status);
    if (err) {
        /* DESIGN.md "API rules": each refusal carries instance_id and status. */
        struct json_object *extra = json_object_new_object();
        json_object_object_add(extra, "instance_id", json_object_new_string(res->instance_id));
        json_object_object_add(extra, "status", json_object_new_string(roost_instance_status_name(res->status)));
        roost_http_response_error(ctx->resp, err, NULL, extra);
        return -1;
    }
    if (roost_instance_activity_due(res->last_active, app->now())) {
        app->touch_pending = 1;
        memcpy(app->touch_id, res->instance_id, sizeof(app->touch_id));
    }
    return 0;
}

void roost_app_after_response(struct roost_app *app)
{
    if (!app->touch_pending)
        return;
    app->touch_pending = 0;
    if (!app->store)
        return;
    enum roost_err err = roost_registry_touch(app->store, roost_slice_cstr(app->touch_id), app->now(), NULL);
    if (err)
        roost_log(ROOST_LOG_WARN, "activity", "cannot record activity of instance '%s': %s",
                  app->touch_id, roost_err_code(err));
}

/* Compares without an early exit, so the time taken does not tell how
 * much of a guessed token was right. */
static int token_equal(struct roost_slice given, const char *secret)
{
    size_t n = strlen(secret);
    unsigned char diff = given.len != n;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(secret[i] ^ (i < given.len ? given.ptr[i] : 0));
    return diff == 0;
}

/* Admin API credentials (issue: off until configured): a bearer token set
 * in ROOST_ADMIN_TOKEN, or a REMOTE_USER named in ROOST_ADMIN_USERS. */
static int admin_allowed_or_respond(struct roost_request_ctx *ctx)
{
    const struct roost_settings *s = &ctx->app->settings;
    const struct roost_http_request *req = ctx->req;
    if (!s->admin_token && !s->admin_users) {
        roost_http_response_error(ctx->resp, ROOST_ERR_ADMIN_DISABLED, NULL, NULL);
        return -1;
    }
    static const char bearer[] = "Bearer ";
    int offered_bearer = req->authorization.len > sizeof(bearer) - 1
                         && strncasecmp(req->authorization.ptr, bearer, sizeof(bearer) - 1) == 0;
    if (s->admin_token && offered_bearer
        && token_equal(roost_slice_make(req->authorization.ptr + sizeof(bearer) - 1,
                                        req->authorization.len - (sizeof(bearer) - 1)),
                       s->admin_token))
        return 0;
    if (roost_settings_is_admin_user(s, req->remote_user.ptr))
        return 0;
    if (req->remote_user.len && !offered_bearer) {
        /* Authenticated by lighttpd, but not an admin: asking again with
         * other credentials would not help. */
        roost_log(ROOST_LOG_WARN, "admin", "user '%.64s' is not in ROOST_ADMIN_USERS; refused %s %.*s",
                  req->remote_user.ptr, roost_http_method_name(req->method), (int)req->path.len, req->path.ptr);
        roost_http_response_error(ctx->resp, ROOST_ERR_FORBIDDEN, NULL, NULL);
        return -1;
    }
    /* RFC 9110 11.6.1: a 401 names how to authenticate. */
    if (s->admin_token)
        roost_http_response_header(ctx->resp, "WWW-Authenticate", roost_slice_cstr("Bearer realm=\"roost admin\""));
    if (s->admin_users)
        roost_http_response_header(ctx->resp, "WWW-Authenticate", roost_slice_cstr("Basic realm=\"roost admin\""));
    roost_http_response_error(ctx->resp, ROOST_ERR_UNAUTHORIZED, NULL, NULL);
    return -1;
}

void roost_app_handle(struct roost_app *app, const struct roost_http_request *req,
                      struct roost_http_response *resp)
{
    struct roost_request_ctx ctx = { .app = app, .req = req, .resp = resp };
    /* Every response names its request (issue 6, part 4). */
    roost_http_request_id(req, &app->ids, &app->request_id);
    roost_http_response_header(resp, "X-Request-ID", roost_buf_slice(&app->request_id));
    if (app->misconfigured) {
        roost_http_response_error(resp, ROOST_ERR_MISCONFIGURED, NULL, NULL);
        return;
    }
    enum roost_err err = roost_router_match(req->method, req->path, &ctx.match);
    if (err == ROOST_ERR_METHOD_NOT_ALLOWED) {
        roost_router_allow(ctx.match.allowed, &app->scratch);
        roost_http_response_header(resp, "Allow", roost_buf_slice(&app->scratch));
    }
    if (err) {
        roost_http_response_error(resp, err, NULL, NULL);
        return;
    }
    const struct roost_route *route = ctx.match.route;
    if (route->flags & ROOST_ROUTE_ADMIN && admin_allowed_or_respond(&ctx))
        return;
    if (req->body_incomplete) {
        roost_http_response_error(resp, ROOST_ERR_INCOMPLETE_BODY, NULL, NULL);
        return;
    }
    if (req->body_too_large) {
        /* Nothing has been read into memory or written: a clean refusal
         * that tells the client the limit and the operator the setting. */
        size_t limit = roost_app_body_limit(app, req);
        int is_value = route->id == ROOST_ROUTE_CACHE_KEY;
        roost_buf_reset(&app->scratch);
        roost_buf_appendf(&app->scratch, "%s of %zu bytes is larger than the maximum of %zu bytes%s",
                          is_value ? "value" : "request body", req->content_length, limit,
                          is_value ? " (ROOST_MAX_VALUE_BYTES)" : "");
        struct json_object *extra = json_object_new_object();
        json_object_object_add(extra, "max_bytes", json_object_new_int64((int64_t)limit));
        roost_http_response_error(resp, is_value ? ROOST_ERR_VALUE_TOO_LARGE : ROOST_ERR_REQUEST_TOO_LARGE,
                                  app->scratch.ptr, extra);
        return;
    }
    if (route->id == ROOST_ROUTE_CACHE_KEY) {
        if (roost_http_percent_decode(ctx.match.raw_key, 0, &app->key) < 0
            || !roost_keyspace_key_valid(roost_buf_slice(&app->key))) {
            roost_http_response_error(resp, ROOST_ERR_INVALID_KEY, NULL, NULL);
            return;
        }
        ctx.key = roost_buf_slice(&app->key);
    }
    if (route->flags & ROOST_ROUTE_INSTANCE || route->id == ROOST_ROUTE_HEALTH) {
        err = roost_http_instance_id(req, &app->instance_id, &ctx.instance_given);
        if (err) {
            roost_http_response_error(resp, err, NULL, NULL);
            return;
        }
        if (!ctx.instance_given && route->id == ROOST_ROUTE_HEALTH)
            roost_buf_set_str(&app->instance_id, app->settings.default_instance);
        ctx.instance_id = roost_buf_slice(&app->instance_id);
    }
    if (route->flags & ROOST_ROUTE_INSTANCE && resolve_instance_or_respond(&ctx))
        return;

    switch (route->id) {
    case ROOST_ROUTE_ROOT: roost_handle_root(&ctx); break;
    case ROOST_ROUTE_HEALTH: roost_handle_health(&ctx); break;
    case ROOST_ROUTE_BATCH_GET: roost_handle_batch_get(&ctx); break;
    case ROOST_ROUTE_CACHE_KEY: roost_handle_cache_key(&ctx); break;
    case ROOST_ROUTE_ADMIN_INSTANCES: roost_handle_admin_instances(&ctx); break;
    case ROOST_ROUTE_ADMIN_INSTANCE: roost_handle_admin_instance(&ctx); break;
    case ROOST_ROUTE_ADMIN_STATS: roost_handle_admin_stats(&ctx); break;
    case ROOST_ROUTE_ADMIN_CACHE_STATS:
    case ROOST_ROUTE_ADMIN_CACHE_WARM:
    case ROOST_ROUTE_ADMIN_CACHE_ENTRIES:
    case ROOST_ROUTE_ADMIN_CACHE_ENTRY: roost_handle_admin_cache(&ctx); break;
    }
}
