/*
 * config_cache.h - the instance-config cache in the shared store
 * (instance-lookup.md "Caching Strategy").
 *
 * Key: "instance_config:{id}" (also "project_config:{id}" and
 * "user_config:{id}" for the other lookups of the resolution chain).
 * Entry: {"config": {...}, "cached_at": unix seconds, "ttl": seconds}.
 * spec "TTL Behavior", with ttl from the entry and stale_max from
 * ROOST_CONFIG_STALE_MAX, age = now - cached_at:
 *   age <  ttl              fresh   served without touching the source
 *   ttl <= age < stale_max  stale   refetched; served only as a fallback
 *   age >= stale_max        purged  never served, removed when seen
 * An entry stamped in the future (a clock set back) counts as stale, so it
 * is refetched rather than trusted for ever.
 *
 * Stampede guard: when an entry is missing or stale, the first process to
 * claim it (roost_config_cache_claim) fetches from the source; the others
 * serve the stale entry meanwhile, or, with nothing to serve, wait briefly
 * for the claimant's entry (resolver.c). A claim is a separate key
 * ("config_claim:{collection}:{id}") holding its expiry, so a claimant that
 * dies frees it by itself.
 */
#ifndef ROOST_CONFIG_CACHE_H
#define ROOST_CONFIG_CACHE_H

#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "counters.h"
#include "error.h"
#include "store.h"

struct json_object;

enum roost_cache_state {
    ROOST_CACHE_FRESH,
    ROOST_CACHE_STALE,
    ROOST_CACHE_PURGED,
};

enum roost_cache_state roost_config_cache_classify(int64_t cached_at, int64_t ttl,
                                                   int64_t stale_max, int64_t now);

struct roost_config_cache {
    struct roost_store *store;
    struct roost_counters *counters;   /* may be NULL */
    int64_t ttl;                       /* ROOST_CONFIG_TTL, for new entries */
    int64_t stale_max;                 /* ROOST_CONFIG_STALE_MAX */
    roost_now_fn now;
};

struct roost_config_entry {
    struct json_object *config;        /* owned reference; NULL when empty */
    int64_t cached_at;
    int64_t ttl;
    enum roost_cache_state state;
};

void roost_config_entry_release(struct roost_config_entry *e);

/* Every function below returns USAGE for an unknown collection ("instances",
 * "projects", "users") or an id outside the id syntax.
 *
 * Reads the entry of (collection, id) and classifies it. A purged or
 * unreadable entry is removed and counted as an eviction. Errors:
 * KEY_NOT_FOUND (no entry, or purged), STORE_CORRUPT (entry unreadable, or
 * the partition damaged), store errors. Counts nothing else: hits and
 * misses are the resolver's call. */
enum roost_err roost_config_cache_get(struct roost_config_cache *c, const char *collection,
                                      struct roost_slice id, struct roost_config_entry *out);

/* Stores config (its own reference is taken) with cached_at = now and
 * ttl = c->ttl, and drops any claim on it, in one atomic write. Errors:
 * USAGE (config not an object), STORE_TOO_BIG (nested too deep to read
 * back), store errors. */
enum roost_err roost_config_cache_put(struct roost_config_cache *c, const char *collection,
                                      struct roost_slice id, struct json_object *config);

/* Tries to claim the refresh of (collection, id) for lease_seconds;
 * claimed = 1 when this process got it (no claim, or an expired one). Not
 * re-entrant: a standing claim of this very process also gives 0. */
enum roost_err roost_config_cache_claim(struct roost_config_cache *c, const char *collection,
                                        struct roost_slice id, int64_t lease_seconds, int *claimed);
/* Drops this process's claim after a failed fetch (never another's). */
enum roost_err roost_config_cache_unclaim(struct roost_config_cache *c, const char *collection,
                                          struct roost_slice id);

/* Removes the entry (spec "invalidate"). Errors: KEY_NOT_FOUND. Counted as
 * an eviction. */
enum roost_err roost_config_cache_invalidate(struct roost_config_cache *c, const char *collection,
                                             struct roost_slice id);
/* Removes every cached config of every collection (spec "invalidateAll")
 * and every claim; removed (may be NULL) counts the configs. */
enum roost_err roost_config_cache_invalidate_all(struct roost_config_cache *c, size_t *removed);

#endif
