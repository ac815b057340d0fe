/*
 * config_cache.c - cached configs in the store's META area (see
 * config_cache.h).
 *
 * Every read-decide-write runs inside one META scope, so it is atomic with
 * respect to every other worker: a purge removes exactly the entry that was
 * judged purged, a claim is taken by exactly one process, and a put drops
 * the claim in the same atomic write (roost_store_apply) that stores the
 * entry, so nobody ever sees a fresh entry with a claim still standing, or
 * a claim lifted before the entry is there.
 *
 * Stored documents (written through json_util, read back strictly):
 *   entry  {"config": {...}, "cached_at": N, "ttl": N}
 *          spec: instance-lookup.md "Cache Entry", field order as shown
 *   claim  {"claimed_at": N, "expires_at": N, "pid": N}
 *          valid while claimed_at <= now < expires_at; claimed_at catches a
 *          clock set back (the claim would otherwise outlive its lease), pid
 *          lets unclaim drop only its own process's claim.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config_cache.h"
#include "instance.h"
#include "json_util.h"
#include "keyspace.h"
#include "limits.h"
#include "log.h"

/* spec: instance-lookup.md "TTL Behavior" (see config_cache.h for the
 * table). The purge test comes first so that an entry past stale_max is
 * never served, even if its own ttl is longer (settings.c refuses
 * STALE_MAX < TTL, but an entry written under other settings may carry
 * any ttl). */
enum roost_cache_state roost_config_cache_classify(int64_t cached_at, int64_t ttl,
                                                   int64_t stale_max, int64_t now)
{
    int64_t age;
    if (__builtin_sub_overflow(now, cached_at, &age))
        /* Out of int64 range: a stamp absurdly far in the future is still
         * a future stamp (stale); one absurdly far back is long purged. */
        return cached_at > now ? ROOST_CACHE_STALE : ROOST_CACHE_PURGED;
    if (age < 0)
        return ROOST_CACHE_STALE;   /* config_cache.h: a clock set back */
    if (age >= stale_max)
        return ROOST_CACHE_PURGED;
    if (age < ttl)
        return ROOST_CACHE_FRESH;
    return ROOST_CACHE_STALE;
}

void roost_config_entry_release(struct roost_config_entry *e)
{
    if (!e)
        return;
    json_object_put(e->config);
    e->config = NULL;
    e->cached_at = 0;
    e->ttl = 0;
    e->state = ROOST_CACHE_FRESH;
}

/* The arguments every operation takes. Ids are checked here, not only by
 * callers: keyspace.h's collision argument rests on ids without ':'. */
static enum roost_err check_args(const struct roost_config_cache *c, const char *collection,
                                 struct roost_slice id)
{
    if (!c || !c->store || !c->now || !roost_keyspace_collection_valid(collection)
        || !roost_instance_id_valid(id))
        return ROOST_ERR_USAGE;
    return ROOST_OK;
}

static enum roost_err begin_meta(const struct roost_config_cache *c, struct roost_store_scope *sc)
{
    return roost_store_begin(c->store, ROOST_STORE_META, ROOST_SLICE_NULL, sc);
}

/* ---- entries ----------------------------------------------------------- */

/* 1 when o nests deeper than max containers (a scalar is depth 0, a
 * container one more than its deepest member), counted as json_util's
 * parser counts ROOST_JSON_DEPTH_MAX. Recursion stops at max. */
static int depth_exceeds(struct json_object *o, int max)
{
    if (json_object_is_type(o, json_type_object)) {
        if (max < 1)
            return 1;
        json_object_object_foreach(o, name, v) {
            (void)name;
            if (depth_exceeds(v, max - 1))
                return 1;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        if (max < 1)
            return 1;
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++)
            if (depth_exceeds(json_object_array_get_idx(o, i), max - 1))
                return 1;
    }
    return 0;
}

static int get_int(struct json_object *doc, const char *name, int64_t *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(doc, name, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    *out = json_object_get_int64(v);
    return 0;
}

/* Parses a stored entry; 0 and e filled (e->config a new reference), or
 * -1. Members other than the three are ignored, so that a later version
 * may add some without this one purging its entries. */
static int entry_parse(struct roost_slice raw, struct roost_config_entry *e)
{
    struct json_object *doc = NULL, *config;
    int ret = -1;
    if (roost_json_parse(raw, &doc, NULL) != ROOST_OK || !json_object_is_type(doc, json_type_object))
        goto out;
    if (!json_object_object_get_ex(doc, "config", &config)
        || !json_object_is_type(config, json_type_object)
        || get_int(doc, "cached_at", &e->cached_at) || get_int(doc, "ttl", &e->ttl) || e->ttl < 0)
        goto out;
    e->config = json_object_get(config);
    ret = 0;
out:
    json_object_put(doc);
    return ret;
}

enum roost_err roost_config_cache_get(struct roost_config_cache *c, const char *collection,
                                      struct roost_slice id, struct roost_config_entry *out)
{
    enum roost_err err = check_args(c, collection, id);
    if (err || !out)
        return err ? err : ROOST_ERR_USAGE;
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    struct roost_config_entry e = { NULL, 0, 0, ROOST_CACHE_FRESH };
    roost_keyspace_cache_key(&key, collection, id);

    err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&key), &raw);
    if (err)
        goto out;
    if (entry_parse(roost_buf_slice(&raw), &e) < 0) {
        /* Removed under the same lock that read it, so a good entry a
         * racing worker stored meanwhile is never the one removed. */
        roost_log(ROOST_LOG_WARN, "config_cache", "cached entry '%s' is unreadable; removing it",
                  key.ptr);
        err = roost_store_delete(&sc, roost_buf_slice(&key));
        if (!err) {
            roost_counters_add(c->counters, ROOST_COUNTER_EVICTIONS, 1);
            err = ROOST_ERR_STORE_CORRUPT;
        }
        goto out;
    }
    e.state = roost_config_cache_classify(e.cached_at, e.ttl, c->stale_max, c->now());
    if (e.state == ROOST_CACHE_PURGED) {
        /* spec "TTL Behavior": "Purged: 3600+ seconds" - never served */
        err = roost_store_delete(&sc, roost_buf_slice(&key));
        if (!err) {
            roost_counters_add(c->counters, ROOST_COUNTER_EVICTIONS, 1);
            err = ROOST_ERR_KEY_NOT_FOUND;
        }
        goto out;
    }
    *out = e;
    e.config = NULL;   /* handed over */
out:
    roost_store_end(&sc);
    roost_config_entry_release(&e);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

enum roost_err roost_config_cache_put(struct roost_config_cache *c, const char *collection,
                                      struct roost_slice id, struct json_object *config)
{
    enum roost_err err = check_args(c, collection, id);
    if (err || !json_object_is_type(config, json_type_object))
        return err ? err : ROOST_ERR_USAGE;
    /* The entry wraps config in one more object; what get cannot parse back
     * must not be stored (it would be purged as unreadable on every read). */
    if (depth_exceeds(config, ROOST_JSON_DEPTH_MAX - 1)) {
        roost_log(ROOST_LOG_WARN, "config_cache", "config of %s '%.*s' nests deeper than %d "
                  "levels; serving it uncached", collection, (int)id.len, id.ptr,
                  ROOST_JSON_DEPTH_MAX - 1);
        return ROOST_ERR_STORE_TOO_BIG;
    }
    struct roost_buf key = ROOST_BUF_INIT, claim = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    struct roost_store_scope sc;

    /* spec "Cache Entry": {"config", "cached_at", "ttl"}, in that order */
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "config", json_object_get(config));
    json_object_object_add(doc, "cached_at", json_object_new_int64(c->now()));
    json_object_object_add(doc, "ttl", json_object_new_int64(c->ttl));
    roost_json_serialize(doc, &raw);
    json_object_put(doc);

    roost_keyspace_cache_key(&key, collection, id);
    roost_keyspace_claim_key(&claim, collection, id);
    struct roost_store_op ops[2] = {
        { ROOST_STORE_OP_PUT, roost_buf_slice(&key), roost_buf_slice(&raw) },
        { ROOST_STORE_OP_DELETE, roost_buf_slice(&claim), ROOST_SLICE_NULL },
    };
    err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_apply(&sc, ops, 2);
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&claim);
    roost_buf_release(&raw);
    return err;
}

/* ---- claims ------------------------------------------------------------ */

struct claim {
    int64_t claimed_at, expires_at, pid;
};

static int claim_parse(struct roost_slice raw, struct claim *cl)
{
    struct json_object *doc = NULL;
    int ret = -1;
    if (roost_json_parse(raw, &doc, NULL) == ROOST_OK && json_object_is_type(doc, json_type_object)
        && !get_int(doc, "claimed_at", &cl->claimed_at) && !get_int(doc, "expires_at", &cl->expires_at)
        && !get_int(doc, "pid", &cl->pid))
        ret = 0;
    json_object_put(doc);
    return ret;
}

enum roost_err roost_config_cache_claim(struct roost_config_cache *c, const char *collection,
                                        struct roost_slice id, int64_t lease_seconds, int *claimed)
{
    enum roost_err err = check_args(c, collection, id);
    if (err || lease_seconds <= 0 || !claimed)
        return err ? err : ROOST_ERR_USAGE;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    struct roost_store_scope sc;
    int64_t now = c->now();
    roost_keyspace_claim_key(&key, collection, id);

    err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&key), &raw);
    if (!err) {
        struct claim cl;
        /* An unreadable claim protects nothing: take it over. */
        if (claim_parse(roost_buf_slice(&raw), &cl) == 0 && cl.claimed_at <= now
            && now < cl.expires_at) {
            *claimed = 0;
            goto out;
        }
    } else if (err != ROOST_ERR_KEY_NOT_FOUND) {
        goto out;
    }
    int64_t expires;
    if (__builtin_add_overflow(now, lease_seconds, &expires))
        expires = INT64_MAX;
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "claimed_at", json_object_new_int64(now));
    json_object_object_add(doc, "expires_at", json_object_new_int64(expires));
    json_object_object_add(doc, "pid", json_object_new_int64((int64_t)getpid()));
    roost_buf_reset(&raw);
    roost_json_serialize(doc, &raw);
    json_object_put(doc);
    err = roost_store_put(&sc, roost_buf_slice(&key), roost_buf_slice(&raw), 0, NULL);
    if (!err)
        *claimed = 1;
out:
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

enum roost_err roost_config_cache_unclaim(struct roost_config_cache *c, const char *collection,
                                          struct roost_slice id)
{
    enum roost_err err = check_args(c, collection, id);
    if (err)
        return err;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    struct roost_store_scope sc;
    roost_keyspace_claim_key(&key, collection, id);

    err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&key), &raw);
    if (!err) {
        struct claim cl;
        /* Only our own claim (or an unreadable one): after our lease ran
         * out another worker may hold it, and lifting theirs would let a
         * third fetch alongside them. */
        if (claim_parse(roost_buf_slice(&raw), &cl) < 0 || cl.pid == (int64_t)getpid())
            err = roost_store_delete(&sc, roost_buf_slice(&key));
    }
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        err = ROOST_OK;   /* nothing to drop: done */
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

/* ---- invalidation ------------------------------------------------------ */

enum roost_err roost_config_cache_invalidate(struct roost_config_cache *c, const char *collection,
                                             struct roost_slice id)
{
    enum roost_err err = check_args(c, collection, id);
    if (err)
        return err;
    struct roost_buf key = ROOST_BUF_INIT;
    struct roost_store_scope sc;
    roost_keyspace_cache_key(&key, collection, id);
    err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_delete(&sc, roost_buf_slice(&key));
    if (!err)
        roost_counters_add(c->counters, ROOST_COUNTER_EVICTIONS, 1);
    roost_store_end(&sc);
    roost_buf_release(&key);
    return err;
}

/* Keys found by the scan of invalidate_all: copies, since iteration's
 * slices die with each call. */
struct found {
    struct roost_buf *keys;
    unsigned char *is_entry;   /* 1: an entry, 0: a claim */
    size_t n, alloc;
};

static int collect_cache_key(void *arg, struct roost_slice key, struct roost_slice value)
{
    (void)value;
    struct found *f = arg;
    enum roost_keyspace_cache_kind kind = roost_keyspace_cache_key_decode(key, NULL, NULL);
    if (kind == ROOST_KEYSPACE_NOT_CACHE)
        return 0;
    if (f->n == f->alloc) {
        f->alloc = f->alloc ? 2 * f->alloc : 64;
        f->keys = roost_xrealloc(f->keys, f->alloc * sizeof(*f->keys));
        f->is_entry = roost_xrealloc(f->is_entry, f->alloc);
    }
    roost_buf_init(&f->keys[f->n]);
    roost_buf_set(&f->keys[f->n], key.ptr, key.len);
    f->is_entry[f->n] = kind == ROOST_KEYSPACE_CACHE_ENTRY;
    f->n++;
    return 0;
}

/* spec: instance-lookup.md "invalidateAll" ("Nuclear option"). One META
 * scope covers the scan and every batch, so each key removed is one seen
 * in this scan and the count is exact. The lock is held for one scan plus
 * one write per ROOST_STORE_APPLY_MAX keys: an admin's rare request, and
 * what the store's batch bound is for. Claims go too: the entries they
 * guard are gone, and a claim outliving them would only delay the refetch. */
enum roost_err roost_config_cache_invalidate_all(struct roost_config_cache *c, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (!c || !c->store)
        return ROOST_ERR_USAGE;
    struct found f = { NULL, NULL, 0, 0 };
    struct roost_store_op *ops = NULL;
    struct roost_store_scope sc;
    size_t done = 0;

    enum roost_err err = begin_meta(c, &sc);
    if (!err)
        err = roost_store_iterate(&sc, ROOST_SLICE_NULL, collect_cache_key, &f);
    if (err || f.n == 0)
        goto out;
    size_t batch_max = f.n < ROOST_STORE_APPLY_MAX ? f.n : ROOST_STORE_APPLY_MAX;
    ops = roost_xcalloc(batch_max, sizeof(*ops));
    for (size_t start = 0; start < f.n && !err; start += batch_max) {
        size_t n = f.n - start < batch_max ? f.n - start : batch_max, entries = 0;
        for (size_t i = 0; i < n; i++) {
            ops[i].kind = ROOST_STORE_OP_DELETE;
            ops[i].key = roost_buf_slice(&f.keys[start + i]);
            ops[i].value = ROOST_SLICE_NULL;
            entries += f.is_entry[start + i];
        }
        err = roost_store_apply(&sc, ops, n);
        if (!err) {
            done += entries;
            roost_counters_add(c->counters, ROOST_COUNTER_EVICTIONS, entries);
        }
    }
out:
    roost_store_end(&sc);
    if (done)
        roost_log(ROOST_LOG_INFO, "config_cache", "invalidated %zu cached configs", done);
    if (removed)
        *removed = done;
    for (size_t i = 0; i < f.n; i++)
        roost_buf_release(&f.keys[i]);
    free(f.keys);
    free(f.is_entry);
    free(ops);
    return err;
}
