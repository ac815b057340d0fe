/*
 * handlers.h - the application object, the per-request context and the
 * handlers. No FastCGI here: fcgi_io.c turns FastCGI into these types.
 *
 * The dispatcher (dispatch.c) does, once for every route, what the route
 * table's flags ask: 404/405, body limits, key decoding, instance id,
 * instance resolution (auto-create) and the state check. A handler runs
 * only when all of that passed, and only performs its operation.
 */
#ifndef ROOST_HANDLERS_H
#define ROOST_HANDLERS_H

#include <stdint.h>

#include "clock.h"
#include "http.h"
#include "instance.h"
#include "config_source.h"
#include "counters.h"
#include "kv.h"
#include "resolver.h"
#include "router.h"
#include "settings.h"
#include "store.h"

/* Everything a worker process keeps between requests: its settings (read
 * once), its store handle, and buffers reused by every request. */
struct roost_app {
    struct roost_settings settings;
    int misconfigured;              /* settings had problems: refuse to serve */
    struct roost_store *store;      /* NULL until it could be opened */
    int64_t store_retry_at;         /* next time to retry opening it */
    struct roost_counters *counters;        /* with the store */
    struct roost_config_source *source;     /* NULL: the local registry */
    struct roost_resolver resolver;         /* set up once the store is open */
    roost_now_fn now;
    /* per-request scratch, reused */
    struct roost_buf instance_id;
    struct roost_buf project_id;
    struct roost_buf request_id;
    struct roost_id_gen ids;
    struct roost_lookup_result lookup;
    struct roost_buf key;
    struct roost_buf scratch;
    struct roost_kv_value value;
    struct roost_instance instance;
    /* deferred work, run after the response has gone out */
    int touch_pending;              /* write last_active of touch_id */
    char touch_id[ROOST_INSTANCE_ID_MAX + 1];
};

struct roost_request_ctx {
    struct roost_app *app;
    const struct roost_http_request *req;
    struct roost_http_response *resp;
    struct roost_route_match match;
    struct roost_slice instance_id;  /* valid id when the route serves one */
    int instance_given;              /* the request named it */
    struct roost_slice key;          /* decoded key for CACHE_KEY */
};

/* Loads settings from the environment (problems are logged, once) and tries
 * to open the store. Never fails: a misconfigured or storeless app answers
 * every request with a JSON error instead. */
void roost_app_init(struct roost_app *app, roost_now_fn now);
void roost_app_release(struct roost_app *app);

/* The most body bytes the request's route accepts; anything larger is
 * drained and answered 413 (fcgi_io.c reads the body with this). */
size_t roost_app_body_limit(const struct roost_app *app, const struct roost_http_request *req);

/* Runs one request. resp->body may point into app's buffers: write it
 * before the next call. */
void roost_app_handle(struct roost_app *app, const struct roost_http_request *req,
                      struct roost_http_response *resp);

/* Work deferred until the response has been sent (FCGX_Finish_r):
 * activity tracking (spec "Activity Tracking": asynchronous, throttled to
 * once a minute), so it never adds latency to a request. */
void roost_app_after_response(struct roost_app *app);

/* Returns the store, opening it if needed (retried at most once a second
 * so a broken store does not flood the error log). NULL if unavailable. */
struct roost_store *roost_app_store(struct roost_app *app);

/* Error response from the table; errors of status >= 500 are logged with
 * the request line, since they are the operator's business. */
void roost_respond_error(struct roost_request_ctx *ctx, enum roost_err err);

void roost_handle_root(struct roost_request_ctx *ctx);
void roost_handle_health(struct roost_request_ctx *ctx);
void roost_handle_batch_get(struct roost_request_ctx *ctx);
void roost_handle_cache_key(struct roost_request_ctx *ctx);
void roost_handle_admin_instances(struct roost_request_ctx *ctx);
void roost_handle_admin_instance(struct roost_request_ctx *ctx);
void roost_handle_admin_stats(struct roost_request_ctx *ctx);
void roost_handle_admin_cache(struct roost_request_ctx *ctx);

#endif
