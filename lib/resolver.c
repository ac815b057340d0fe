/* resolver.c - the resolution chain, config lookup and access check
 * (see resolver.h for the rules and where they come from). */
#include "config.h"

#include <json-c/json.h>
#include <time.h>

#include "hash.h"
#include "log.h"
#include "registry.h"
#include "resolver.h"

/* How long a refresh claim lasts: the source's timeout plus a margin, so a
 * claimant that died frees the entry soon after it would have answered. */
static int64_t claim_seconds(const struct roost_resolver *r)
{
    return r->settings->config_timeout_ms / 1000 + 2;
}

void roost_resolver_init(struct roost_resolver *r, struct roost_store *st,
                         struct roost_config_source *source, struct roost_counters *counters,
                         const struct roost_settings *settings, roost_now_fn now)
{
    memset(r->memo, 0, sizeof(r->memo));
    for (size_t i = 0; i < ROOST_RESOLVER_MEMO_SLOTS; i++)
        roost_buf_init(&r->memo[i].owner);
    r->store = st;
    r->source = source;
    r->counters = counters;
    r->settings = settings;
    r->now = now;
    r->cache.store = st;
    r->cache.counters = counters;
    r->cache.ttl = settings->config_ttl;
    r->cache.stale_max = settings->config_stale_max;
    r->cache.now = now;
}

void roost_resolver_release(struct roost_resolver *r)
{
    for (size_t i = 0; i < ROOST_RESOLVER_MEMO_SLOTS; i++) {
        roost_buf_release(&r->memo[i].owner);
        json_object_put(r->memo[i].config);
    }
    memset(r->memo, 0, sizeof(r->memo));
}

/* The slot (kind, id) maps to: direct-mapped, so a lookup is one compare. */
static struct roost_resolver_memo *memo_slot(struct roost_resolver *r, char kind, struct roost_slice id)
{
    uint64_t h = roost_fnv1a64(id.ptr, id.len) ^ (uint64_t)(unsigned char)kind;
    return &r->memo[h % ROOST_RESOLVER_MEMO_SLOTS];
}

static int memo_matches(const struct roost_resolver_memo *m, char kind, struct roost_slice id, uint64_t version)
{
    return m->version && m->version == version && m->kind == kind
           && strlen(m->id) == id.len && memcmp(m->id, id.ptr, id.len) == 0;
}

static void memo_claim(struct roost_resolver_memo *m, char kind, struct roost_slice id, uint64_t version)
{
    json_object_put(m->config);
    m->config = NULL;
    m->version = version;
    m->kind = kind;
    memcpy(m->id, id.ptr, id.len);
    m->id[id.len] = '\0';
}

const char *roost_config_origin_name(enum roost_config_origin o)
{
    switch (o) {
    case ROOST_ORIGIN_REGISTRY: return "registry";
    case ROOST_ORIGIN_CACHE: return "cache";
    case ROOST_ORIGIN_SOURCE: return "source";
    case ROOST_ORIGIN_STALE_CACHE: return "stale_cache";
    }
    return "registry";
}

void roost_lookup_result_init(struct roost_lookup_result *res)
{
    memset(res, 0, sizeof(*res));
    roost_buf_init(&res->owner);
}

void roost_lookup_result_release(struct roost_lookup_result *res)
{
    roost_buf_release(&res->owner);
    json_object_put(res->config);
    roost_lookup_result_init(res);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static enum roost_err fetch_source(struct roost_resolver *r, const char *collection, struct roost_slice id,
                                   const struct roost_lookup_context *ctx, struct json_object **doc)
{
    /* "." and ".." have the id syntax but can name no file or URL path
     * segment: nothing at any source has them. */
    if (roost_slice_eq_cstr(id, ".") || roost_slice_eq_cstr(id, ".."))
        return ROOST_ERR_CONFIG_NOT_FOUND;
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_config_source_fetch(r->source, collection, id, ctx->user_id,
                                                   ctx->request_id, doc, &detail);
    if (err == ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE)
        roost_log(ROOST_LOG_WARN, "lookup", "config source '%s' failed for %s/%.*s (request %.*s): %s",
                  roost_config_source_url(r->source), collection, (int)id.len, id.ptr,
                  (int)ctx->request_id.len, ctx->request_id.ptr, detail.ptr);
    roost_buf_release(&detail);
    return err;
}

/* A config document of collection/id: fresh from the cache, else from the
 * source (one process per entry at a time), else stale when allowed.
 * spec "Resolution Flow" steps 2-4. */
static enum roost_err lookup_config(struct roost_resolver *r, const char *collection, struct roost_slice id,
                                    const struct roost_lookup_context *ctx, struct json_object **doc,
                                    enum roost_config_origin *origin)
{
    uint64_t version = roost_store_version(r->store, ROOST_STORE_META, ROOST_SLICE_NULL);
    struct roost_resolver_memo *m = memo_slot(r, collection[0], id);
    if (memo_matches(m, collection[0], id, version) && m->config
        && roost_config_cache_classify(m->cached_at, m->ttl, r->cache.stale_max, r->now()) == ROOST_CACHE_FRESH) {
        roost_counters_add(r->counters, ROOST_COUNTER_HITS, 1);
        *doc = json_object_get(m->config);
        *origin = ROOST_ORIGIN_CACHE;
        return ROOST_OK;
    }
    struct roost_config_entry entry = { 0 };
    enum roost_err err = roost_config_cache_get(&r->cache, collection, id, &entry);
    if (err && err != ROOST_ERR_KEY_NOT_FOUND && err != ROOST_ERR_STORE_CORRUPT)
        return err;
    int have = err == ROOST_OK;
    if (have && entry.state == ROOST_CACHE_FRESH) {
        roost_counters_add(r->counters, ROOST_COUNTER_HITS, 1);
        memo_claim(m, collection[0], id, version);
        m->config = json_object_get(entry.config);
        m->cached_at = entry.cached_at;
        m->ttl = entry.ttl;
        *doc = json_object_get(entry.config);
        *origin = ROOST_ORIGIN_CACHE;
        roost_config_entry_release(&entry);
        return ROOST_OK;
    }
    int claimed = 0;
    err = roost_config_cache_claim(&r->cache, collection, id, claim_seconds(r), &claimed);
    if (err)
        goto out;
    if (!claimed) {
        /* Another worker is fetching this entry: serve what we have
         * meanwhile (when stale configs may be served at all), or wait,
         * bounded by the source's timeout, for its answer rather than send
         * the source a second request. */
        if (have && r->settings->config_use_stale) {
            roost_counters_add(r->counters, ROOST_COUNTER_STALE_HITS, 1);
            *doc = json_object_get(entry.config);
            *origin = ROOST_ORIGIN_STALE_CACHE;
            goto out;
        }
        for (long waited = 0; waited <= r->settings->config_timeout_ms + 1000; waited += 10) {
            sleep_ms(10);
            struct roost_config_entry e2 = { 0 };
            if (roost_config_cache_get(&r->cache, collection, id, &e2) == ROOST_OK
                && e2.state == ROOST_CACHE_FRESH) {
                roost_counters_add(r->counters, ROOST_COUNTER_HITS, 1);
                *doc = json_object_get(e2.config);
                *origin = ROOST_ORIGIN_CACHE;
                roost_config_entry_release(&e2);
                goto out;
            }
            roost_config_entry_release(&e2);
            if (roost_config_cache_claim(&r->cache, collection, id, claim_seconds(r), &claimed) == ROOST_OK
                && claimed)
                break; /* the other worker gave up: our turn */
        }
        if (!claimed) {
            err = ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE;
            goto out;
        }
    }
    /* Won the claim: the previous claimant may have stored its answer
     * between our read and our claim (put drops the claim with it). */
    struct roost_config_entry again = { 0 };
    if (roost_config_cache_get(&r->cache, collection, id, &again) == ROOST_OK
        && again.state == ROOST_CACHE_FRESH) {
        roost_config_cache_unclaim(&r->cache, collection, id);
        roost_counters_add(r->counters, ROOST_COUNTER_HITS, 1);
        *doc = json_object_get(again.config);
        *origin = ROOST_ORIGIN_CACHE;
        roost_config_entry_release(&again);
        err = ROOST_OK;
        goto out;
    }
    roost_config_entry_release(&again);
    roost_counters_add(r->counters, ROOST_COUNTER_MISSES, 1);
    struct json_object *fetched = NULL;
    err = fetch_source(r, collection, id, ctx, &fetched);
    if (!err) {
        enum roost_err perr = roost_config_cache_put(&r->cache, collection, id, fetched);
        if (perr)
            roost_log(ROOST_LOG_WARN, "lookup", "cannot cache %s/%.*s: %s", collection, (int)id.len, id.ptr,
                      roost_err_code(perr));
        *doc = fetched;
        *origin = ROOST_ORIGIN_SOURCE;
        goto out;
    }
    roost_config_cache_unclaim(&r->cache, collection, id);
    if (err == ROOST_ERR_CONFIG_NOT_FOUND) {
        /* Gone at the source: a stale copy must not keep it alive. */
        if (have)
            roost_config_cache_invalidate(&r->cache, collection, id);
        goto out;
    }
    /* spec "Stale Cache Fallback": the source failed; serve the entry if
     * it is within the grace period and the operator allows it. */
    if (have && r->settings->config_use_stale) {
        roost_counters_add(r->counters, ROOST_COUNTER_STALE_HITS, 1);
        *doc = json_object_get(entry.config);
        *origin = ROOST_ORIGIN_STALE_CACHE;
        err = ROOST_OK;
    }
out:
    roost_config_entry_release(&entry);
    return err;
}

/* A string member of a config document, or the null slice. */
static struct roost_slice member_string(struct json_object *doc, const char *name)
{
    struct json_object *v;
    if (!doc || !json_object_object_get_ex(doc, name, &v) || !json_object_is_type(v, json_type_string))
        return ROOST_SLICE_NULL;
    return roost_slice_make(json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

/* Link 2: the project's instance. */
static enum roost_err project_instance(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                                       struct roost_buf *id)
{
    if (!r->source)
        return ROOST_ERR_INVALID_CONTEXT; /* nothing maps projects without a source */
    struct json_object *doc = NULL;
    enum roost_config_origin origin;
    enum roost_err err = lookup_config(r, "projects", ctx->project_id, ctx, &doc, &origin);
    if (err == ROOST_ERR_CONFIG_NOT_FOUND)
        err = ROOST_ERR_INVALID_CONTEXT;
    if (!err) {
        struct roost_slice mapped = member_string(doc, "instance_id");
        if (roost_instance_id_valid(mapped))
            roost_buf_set(id, mapped.ptr, mapped.len);
        else
            err = ROOST_ERR_INVALID_CONTEXT;
    }
    json_object_put(doc);
    return err;
}

/* The user's record at the source (link 3 and roles); NULL when there is
 * no source, no user, or no record. */
static enum roost_err user_record(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                                  struct json_object **doc)
{
    *doc = NULL;
    if (!r->source || !ctx->user_id.len || !roost_instance_id_valid(ctx->user_id))
        return ROOST_OK;
    enum roost_config_origin origin;
    enum roost_err err = lookup_config(r, "users", ctx->user_id, ctx, doc, &origin);
    return err == ROOST_ERR_CONFIG_NOT_FOUND ? ROOST_OK : err;
}

static int has_admin_role(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                          struct json_object *user)
{
    if (ctx->user_id.len && ctx->user_id.len < 256) {
        char name[256];
        memcpy(name, ctx->user_id.ptr, ctx->user_id.len);
        name[ctx->user_id.len] = '\0';
        if (roost_settings_is_admin_user(r->settings, name))
            return 1;
    }
    struct json_object *roles;
    if (!user || !json_object_object_get_ex(user, "roles", &roles) || !json_object_is_type(roles, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(roles); i++) {
        struct json_object *role = json_object_array_get_idx(roles, i);
        if (json_object_is_type(role, json_type_string) && strcmp(json_object_get_string(role), "admin") == 0)
            return 1;
    }
    return 0;
}

/* spec "Access Control". */
static enum roost_err check_access(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                                   const struct roost_lookup_result *res, struct json_object **user)
{
    int anonymous = ctx->user_id.len == 0;
    if (res->owner.len == 0)
        return ROOST_OK;                           /* unowned: open */
    if (anonymous)
        return ROOST_ERR_ACCESS_DENIED;
    if (roost_slice_eq(ctx->user_id, roost_buf_slice(&res->owner)))
        return ROOST_OK;                           /* the owner */
    if (has_admin_role(r, ctx, NULL))
        return ROOST_OK;                           /* an admin by the operator's word */
    if (!*user) {
        enum roost_err err = user_record(r, ctx, user);
        if (err)
            return err;
    }
    return has_admin_role(r, ctx, *user) ? ROOST_OK : ROOST_ERR_ACCESS_DENIED;
}

/* Instance status named by a source config: absent means active (the
 * spec's default); an unknown name, or a status that is not a string, is
 * not served. */
static enum roost_instance_status config_status(struct json_object *config, const char *id)
{
    struct json_object *v;
    if (!json_object_object_get_ex(config, "status", &v))
        return ROOST_INSTANCE_ACTIVE;
    struct roost_slice name = member_string(config, "status");
    if (!name.ptr) {
        roost_log(ROOST_LOG_WARN, "lookup", "config of instance '%s' has a status that is not a string; "
                  "not serving it", id);
        return ROOST_INSTANCE_INACTIVE;
    }
    int s = roost_instance_status_parse(name);
    if (s >= 0)
        return (enum roost_instance_status)s;
    roost_log(ROOST_LOG_WARN, "lookup", "config of instance '%s' has unknown status '%.*s'; not serving it",
              id, (int)(name.len > 32 ? 32 : name.len), name.ptr);
    return ROOST_INSTANCE_INACTIVE;
}

/* The instance's local record (status, owner, last_active): remembered
 * while META is unchanged, else read (and created for an instance the
 * source knows, or with ROOST_AUTO_CREATE) through the registry. */
static enum roost_err local_record(struct roost_resolver *r, struct roost_slice id,
                                   struct roost_instance *inst)
{
    uint64_t version = roost_store_version(r->store, ROOST_STORE_META, ROOST_SLICE_NULL);
    struct roost_resolver_memo *m = memo_slot(r, 'r', id);
    if (memo_matches(m, 'r', id, version)) {
        memcpy(inst->id, m->id, sizeof(inst->id));
        inst->status = m->status;
        roost_buf_set(&inst->owner, m->owner.ptr, m->owner.len);
        inst->last_active = m->last_active;
        return ROOST_OK;
    }
    enum roost_err err = roost_registry_resolve(r->store, id, r->source ? 1 : r->settings->auto_create,
                                                r->now(), inst, NULL);
    if (err)
        return err;
    /* Stamped with the version from before the read: if anything changed
     * meanwhile, the next lookup reads again. */
    memo_claim(m, 'r', id, version);
    m->status = inst->status;
    roost_buf_set(&m->owner, inst->owner.ptr, inst->owner.len);
    m->last_active = inst->last_active;
    return ROOST_OK;
}

enum roost_err roost_resolver_resolve(struct roost_resolver *r, const struct roost_lookup_context *ctx,
                                      struct roost_lookup_result *res)
{
    struct roost_buf id = ROOST_BUF_INIT;
    struct json_object *user = NULL;
    struct roost_instance inst;
    roost_instance_init(&inst);
    enum roost_err err = ROOST_OK;

    /* Anonymous requests are refused before any lookup when authentication
     * is required: a stranger must not learn which instances exist, nor
     * make roost ask the source about them. */
    if (r->settings->require_auth && ctx->user_id.len == 0) {
        err = ROOST_ERR_AUTHENTICATION_REQUIRED;
        goto out;
    }

    /* 1. Which instance. */
    if (ctx->instance_id.len) {
        roost_buf_set(&id, ctx->instance_id.ptr, ctx->instance_id.len);
        res->link = ROOST_LINK_EXPLICIT;
    } else if (ctx->project_id.len) {
        err = project_instance(r, ctx, &id);
        res->link = ROOST_LINK_PROJECT;
    } else {
        err = user_record(r, ctx, &user);
        struct roost_slice def = member_string(user, "default_instance_id");
        if (!err && roost_instance_id_valid(def)) {
            roost_buf_set(&id, def.ptr, def.len);
            res->link = ROOST_LINK_USER_DEFAULT;
        } else if (!err && ctx->allow_default) {
            roost_buf_set_str(&id, r->settings->default_instance);
            res->link = ROOST_LINK_CONFIGURED_DEFAULT;
        } else if (!err) {
            /* The user's record exists but names no usable default: the
             * context is wrong. Nothing to go on at all: the spec's own
             * MISSING_INSTANCE_ID. */
            err = user ? ROOST_ERR_INVALID_CONTEXT : ROOST_ERR_MISSING_INSTANCE_ID;
        }
    }
    if (err)
        goto out;
    memcpy(res->instance_id, id.ptr, id.len + 1);

    /* 2. Its config, and the local record that carries usage and activity
     * (always created for an instance the source knows). */
    if (r->source) {
        err = lookup_config(r, "instances", roost_buf_slice(&id), ctx, &res->config, &res->origin);
        if (err == ROOST_ERR_CONFIG_NOT_FOUND)
            err = ROOST_ERR_INSTANCE_NOT_FOUND;
        if (err)
            goto out;
        res->status = config_status(res->config, res->instance_id);
        struct roost_slice owner = member_string(res->config, "owner_id");
        roost_buf_set(&res->owner, owner.ptr, owner.len);
    }
    err = local_record(r, roost_buf_slice(&id), &inst);
    if (err)
        goto out;
    res->last_active = inst.last_active;
    if (!r->source) {
        res->origin = ROOST_ORIGIN_REGISTRY;
        res->status = inst.status;
        roost_buf_set(&res->owner, inst.owner.ptr, inst.owner.len);
    } else if (roost_instance_servable(inst.status) != ROOST_OK) {
        /* An operator's local fence (admin API, roostctl) holds whatever
         * the source says. */
        res->status = inst.status;
    }

    /* 3. May this user use it. */
    err = check_access(r, ctx, res, &user);
out:
    json_object_put(user);
    roost_instance_release(&inst);
    roost_buf_release(&id);
    return err;
}

enum roost_err roost_resolver_warm(struct roost_resolver *r, const struct roost_slice *ids, size_t n,
                                   struct roost_slice request_id, size_t *ok, size_t *failed)
{
    size_t good = 0, bad = 0;
    struct roost_lookup_context ctx = { 0 };
    ctx.request_id = request_id;
    for (size_t i = 0; r->source && i < n; i++) {
        struct json_object *doc = NULL;
        enum roost_err err = fetch_source(r, "instances", ids[i], &ctx, &doc);
        if (!err)
            err = roost_config_cache_put(&r->cache, "instances", ids[i], doc);
        json_object_put(doc);
        if (err)
            bad++;
        else
            good++;
    }
    if (ok)
        *ok = good;
    if (failed)
        *failed = bad;
    return ROOST_OK;
}
