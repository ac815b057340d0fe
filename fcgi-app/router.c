/* router.c - the route table and the matcher (see router.h). */
#include "config.h"

#include "router.h"

#define CACHE_PREFIX "/v1/cache/"
#define ADMIN_INSTANCE_PREFIX "/v1/admin/instances/"
#define ADMIN_CACHE_ENTRY_PREFIX "/v1/admin/cache/entries/"

/* The segment after prefix when path is prefix + one segment (no raw '/'
 * after it: DESIGN.md, a '/' inside a segment arrives as %2F). */
static int one_segment(struct roost_slice path, const char *prefix, struct roost_slice *seg)
{
    size_t plen = strlen(prefix);
    if (path.len < plen || memcmp(path.ptr, prefix, plen) != 0)
        return 0;
    *seg = roost_slice_make(path.ptr + plen, path.len - plen);
    return memchr(seg->ptr, '/', seg->len) ? -1 : 1;
}

static const struct roost_route routes[] = {
    { ROOST_ROUTE_ROOT, "/", ROOST_METHOD_GET | ROOST_METHOD_HEAD, 0 },
    { ROOST_ROUTE_HEALTH, "/health", ROOST_METHOD_GET | ROOST_METHOD_HEAD, 0 },
    { ROOST_ROUTE_BATCH_GET, "/v1/cache/batch/get", ROOST_METHOD_POST,
      ROOST_ROUTE_INSTANCE | ROOST_ROUTE_HAS_BODY },
    { ROOST_ROUTE_CACHE_KEY, "/v1/cache/{key}",
      ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_PUT | ROOST_METHOD_POST | ROOST_METHOD_DELETE,
      ROOST_ROUTE_INSTANCE | ROOST_ROUTE_INSTANCE_REQUIRED | ROOST_ROUTE_HAS_BODY },
    { ROOST_ROUTE_ADMIN_INSTANCES, "/v1/admin/instances", ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_POST,
      ROOST_ROUTE_ADMIN | ROOST_ROUTE_HAS_BODY },
    { ROOST_ROUTE_ADMIN_INSTANCE, "/v1/admin/instances/{id}",
      ROOST_METHOD_GET | ROOST_METHOD_HEAD | ROOST_METHOD_PATCH | ROOST_METHOD_DELETE,
      ROOST_ROUTE_ADMIN | ROOST_ROUTE_HAS_BODY },
    { ROOST_ROUTE_ADMIN_STATS, "/v1/admin/stats", ROOST_METHOD_GET | ROOST_METHOD_HEAD, ROOST_ROUTE_ADMIN },
    { ROOST_ROUTE_ADMIN_CACHE_STATS, "/v1/admin/cache/stats", ROOST_METHOD_GET | ROOST_METHOD_HEAD,
      ROOST_ROUTE_ADMIN },
    { ROOST_ROUTE_ADMIN_CACHE_WARM, "/v1/admin/cache/warm", ROOST_METHOD_POST,
      ROOST_ROUTE_ADMIN | ROOST_ROUTE_HAS_BODY },
    { ROOST_ROUTE_ADMIN_CACHE_ENTRIES, "/v1/admin/cache/entries", ROOST_METHOD_DELETE, ROOST_ROUTE_ADMIN },
    { ROOST_ROUTE_ADMIN_CACHE_ENTRY, "/v1/admin/cache/entries/{id}", ROOST_METHOD_DELETE, ROOST_ROUTE_ADMIN },
};

static const struct roost_route *by_id(enum roost_route_id id)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (routes[i].id == id)
            return &routes[i];
    return NULL;
}

enum roost_err roost_router_match(enum roost_method method, struct roost_slice path,
                                  struct roost_route_match *m)
{
    memset(m, 0, sizeof(*m));
    const struct roost_route *r = NULL;
    if (roost_slice_eq_cstr(path, "/")) {
        r = by_id(ROOST_ROUTE_ROOT);
    } else if (roost_slice_eq_cstr(path, "/health")) {
        r = by_id(ROOST_ROUTE_HEALTH);
    } else if (roost_slice_eq_cstr(path, "/v1/cache/batch/get")) {
        r = by_id(ROOST_ROUTE_BATCH_GET);
    } else if (roost_slice_eq_cstr(path, "/v1/admin/instances")) {
        r = by_id(ROOST_ROUTE_ADMIN_INSTANCES);
    } else if (roost_slice_eq_cstr(path, "/v1/admin/stats")) {
        r = by_id(ROOST_ROUTE_ADMIN_STATS);
    } else if (roost_slice_eq_cstr(path, "/v1/admin/cache/stats")) {
        r = by_id(ROOST_ROUTE_ADMIN_CACHE_STATS);
    } else if (roost_slice_eq_cstr(path, "/v1/admin/cache/warm")) {
        r = by_id(ROOST_ROUTE_ADMIN_CACHE_WARM);
    } else if (roost_slice_eq_cstr(path, "/v1/admin/cache/entries")) {
        r = by_id(ROOST_ROUTE_ADMIN_CACHE_ENTRIES);
    } else {
        struct roost_slice seg;
        int found = one_segment(path, CACHE_PREFIX, &seg);
        if (found > 0)
            r = by_id(ROOST_ROUTE_CACHE_KEY);
        else if (!found && (found = one_segment(path, ADMIN_INSTANCE_PREFIX, &seg)) > 0)
            r = by_id(ROOST_ROUTE_ADMIN_INSTANCE);
        else if (!found && (found = one_segment(path, ADMIN_CACHE_ENTRY_PREFIX, &seg)) > 0)
            r = by_id(ROOST_ROUTE_ADMIN_CACHE_ENTRY);
        if (found < 0)
            return ROOST_ERR_NOT_FOUND;
        m->raw_key = seg;
    }
    if (!r)
        return ROOST_ERR_NOT_FOUND;
    m->route = r;
    if (!(r->methods & (unsigned)method)) {
        m->allowed = r->methods;
        return ROOST_ERR_METHOD_NOT_ALLOWED;
    }
    return ROOST_OK;
}

void roost_router_allow(unsigned methods, struct roost_buf *out)
{
    static const enum roost_method order[] = {
        ROOST_METHOD_GET, ROOST_METHOD_HEAD, ROOST_METHOD_PUT, ROOST_METHOD_POST, ROOST_METHOD_PATCH,
        ROOST_METHOD_DELETE,
    };
    roost_buf_reset(out);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(methods & (unsigned)order[i]))
            continue;
        if (out->len)
            roost_buf_append(out, ", ", 2);
        roost_buf_append_str(out, roost_http_method_name(order[i]));
    }
}

const struct roost_route *roost_router_routes(size_t *count)
{
    *count = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
