/*
 * router.h - the static route table and a pure matcher over raw paths.
 *
 * The table says, per route, which methods it takes and what the
 * dispatcher must do before the handler runs (flags); the dispatcher checks
 * those flags once, so handlers never repeat instance resolution, state
 * checks or error bodies.
 */
#ifndef ROOST_ROUTER_H
#define ROOST_ROUTER_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "http.h"

enum roost_route_id {
    ROOST_ROUTE_ROOT,
    ROOST_ROUTE_HEALTH,
    ROOST_ROUTE_BATCH_GET,
    ROOST_ROUTE_CACHE_KEY,
    ROOST_ROUTE_ADMIN_INSTANCES,
    ROOST_ROUTE_ADMIN_INSTANCE,
    ROOST_ROUTE_ADMIN_STATS,
    ROOST_ROUTE_ADMIN_CACHE_STATS,
    ROOST_ROUTE_ADMIN_CACHE_WARM,
    ROOST_ROUTE_ADMIN_CACHE_ENTRIES,
    ROOST_ROUTE_ADMIN_CACHE_ENTRY,
};

/* The route serves one instance, resolved (auto-created) and state-checked
 * before the handler runs. */
#define ROOST_ROUTE_INSTANCE          0x1
/* With ROOST_ROUTE_INSTANCE: no id given -> 400 MISSING_INSTANCE_ID
 * (without it, the configured default instance is used). */
#define ROOST_ROUTE_INSTANCE_REQUIRED 0x2
/* The route reads the request body. */
#define ROOST_ROUTE_HAS_BODY          0x4
/* The route is the admin API: the dispatcher checks credentials first. */
#define ROOST_ROUTE_ADMIN             0x8

struct roost_route {
    enum roost_route_id id;
    const char *pattern;       /* for docs and GET /: "/v1/cache/{key}" */
    unsigned methods;          /* bitwise OR of enum roost_method */
    unsigned flags;
};

struct roost_route_match {
    const struct roost_route *route;
    struct roost_slice raw_key;   /* CACHE_KEY: the key; ADMIN_INSTANCE and
                                     ADMIN_CACHE_ENTRY: the id;
                                     still percent-encoded */
    unsigned allowed;             /* on METHOD_NOT_ALLOWED: the route's methods */
};

/* Matches method and raw path (no query). Errors: NOT_FOUND,
 * METHOD_NOT_ALLOWED (m->allowed set). HEAD matches wherever GET does. */
enum roost_err roost_router_match(enum roost_method method, struct roost_slice path,
                                  struct roost_route_match *m);

/* "GET, HEAD, PUT" for an Allow header, replacing out's contents. */
void roost_router_allow(unsigned methods, struct roost_buf *out);

/* The whole table, for GET / . */
const struct roost_route *roost_router_routes(size_t *count);

#endif
