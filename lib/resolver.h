/*
 * resolver.h - the instance lookup of instance-lookup.md, mapped onto
 * roost (DESIGN.md "Mapping the lookup spec"): which instance serves a
 * request, its config (fresh cache, source, or stale cache), and whether
 * the user may use it.
 *
 * Resolution chain (spec "Resolution Flow", step 1; the project mapping the
 * spec marks "future" is built):
 *   1. explicit instance id: X-Instance-ID, else ?instance_id=
 *   2. project id (X-Project-ID, else ?project_id=) mapped by the config
 *      source's /projects/{id} record: {"instance_id": "..."}
 *   3. the user's default instance: /users/{id} record's
 *      "default_instance_id"
 *   4. the configured default instance (ROOST_DEFAULT_INSTANCE), only on
 *      routes that allow it (batch get, /health)
 *   5. otherwise: INVALID_CONTEXT when a project was named but maps to no
 *      instance, or the user's record names no usable default instance;
 *      MISSING_INSTANCE_ID (the spec's own error) when the request gave
 *      nothing to go on: no instance, no project, no user record.
 * Without a config source, links 2 and 3 have nothing to ask: a project id
 * is then INVALID_CONTEXT, and users have no default instance.
 *
 * Config (steps 2-4): the local registry is the source when none is
 * configured (auto-create as before). With a source: the cache entry when
 * fresh; else the source; when the source fails, the stale entry if
 * ROOST_CONFIG_USE_STALE, else CONFIG_SERVICE_UNAVAILABLE. Source 404:
 * INSTANCE_NOT_FOUND. Stampede guard: see config_cache.h.
 *
 * Users are looked up at the source (/users/{id}) only when their name has
 * the id syntax (1-64 of A-Z a-z 0-9 . _ -); others simply have no record.
 *
 * Access (spec "Access Control"): the owner may use the instance, users
 * with the admin role may use any, others get ACCESS_DENIED. Instances
 * without an owner are open, unless ROOST_REQUIRE_AUTH, when anonymous
 * requests get AUTHENTICATION_REQUIRED, before anything is looked up (so
 * strangers cannot probe which instances exist). Without it, anonymous
 * requests to an owned instance get ACCESS_DENIED. Roles come from the user's record at the config source
 * ("roles": [...]) and from ROOST_ADMIN_USERS (admin).
 */
#ifndef ROOST_RESOLVER_H
#define ROOST_RESOLVER_H

#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "config_cache.h"
#include "config_source.h"
#include "counters.h"
#include "error.h"
#include "instance.h"
#include "settings.h"
#include "store.h"

struct json_object;

/* What this process last read of a record or config, kept while the META
 * partition's version (store.h roost_store_version) stays the same: a hot
 * instance is then resolved without a lock, a fetch or a JSON parse. */
#define ROOST_RESOLVER_MEMO_SLOTS 64
struct roost_resolver_memo {
    uint64_t version;                 /* META version before it was read; 0: empty */
    char kind;                        /* 'r' local record, else a collection's first letter */
    char id[ROOST_INSTANCE_ID_MAX + 1];
    enum roost_instance_status status;    /* 'r' */
    struct roost_buf owner;               /* 'r' */
    int64_t last_active;                  /* 'r' */
    struct json_object *config;           /* configs: the entry's config */
    int64_t cached_at, ttl;               /* configs */
};

struct roost_resolver {
    struct roost_store *store;
    struct roost_config_source *source;   /* NULL: the local registry */
    struct roost_counters *counters;      /* may be NULL */
    const struct roost_settings *settings;
    roost_now_fn now;
    struct roost_config_cache cache;      /* filled by roost_resolver_init */
    struct roost_resolver_memo memo[ROOST_RESOLVER_MEMO_SLOTS];
};

void roost_resolver_init(struct roost_resolver *r, struct roost_store *st,
                         struct roost_config_source *source, struct roost_counters *counters,
                         const struct roost_settings *settings, roost_now_fn now);
/* Frees what the resolver remembers; init it again before reuse. */
void roost_resolver_release(struct roost_resolver *r);

/* What the request brought. Slices are borrowed for the call. */
struct roost_lookup_context {
    struct roost_slice instance_id;   /* valid id, or empty */
    struct roost_slice project_id;    /* valid id, or empty */
    struct roost_slice user_id;       /* authenticated user, or empty (anonymous) */
    struct roost_slice request_id;
    int allow_default;                /* link 4 may be used */
};

enum roost_link {
    ROOST_LINK_EXPLICIT,
    ROOST_LINK_PROJECT,
    ROOST_LINK_USER_DEFAULT,
    ROOST_LINK_CONFIGURED_DEFAULT,
};

/* spec: result marked with its source: "cache", "source", "stale_cache";
 * "registry" when no config source is configured. */
enum roost_config_origin {
    ROOST_ORIGIN_REGISTRY,
    ROOST_ORIGIN_CACHE,
    ROOST_ORIGIN_SOURCE,
    ROOST_ORIGIN_STALE_CACHE,
};
const char *roost_config_origin_name(enum roost_config_origin o);

struct roost_lookup_result {
    char instance_id[ROOST_INSTANCE_ID_MAX + 1];
    enum roost_link link;
    enum roost_config_origin origin;
    enum roost_instance_status status;   /* the config's (source) or the record's */
    struct roost_buf owner;              /* owner_id; empty: none */
    struct json_object *config;          /* the whole config (NULL from the registry) */
    int64_t last_active;                 /* the local record's, for activity tracking */
};

void roost_lookup_result_init(struct roost_lookup_result *res);
void roost_lookup_result_release(struct roost_lookup_result *res);

/* Runs the chain, the config lookup and the access check. On OK the
 * instance may be used by this user; its state is not yet checked
 * (roost_instance_servable(res->status), which the caller answers with
 * instance_id and status in the body).
 * Errors: MISSING_INSTANCE_ID, INVALID_CONTEXT, INSTANCE_NOT_FOUND,
 * CONFIG_SERVICE_UNAVAILABLE, ACCESS_DENIED, AUTHENTICATION_REQUIRED,
 * store errors. */
enum roost_err roost_resolver_resolve(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                                      struct roost_lookup_result *res);

/* Fetches each id into the cache from the source (spec "warmCache"), sent
 * with request_id; ok and failed (may be NULL) count them. Without a
 * source: nothing to do. */
enum roost_err roost_resolver_warm(struct roost_resolver *r, const struct roost_slice *ids, size_t n,
                                   struct roost_slice request_id, size_t *ok, size_t *failed);

#endif
