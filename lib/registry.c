/* registry.c - instance records in the store's META area. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "keyspace.h"
#include "kv.h"
#include "log.h"
#include "registry.h"

static enum roost_err load(struct roost_store_scope *sc, struct roost_slice id,
                           struct roost_buf *key, struct roost_buf *raw,
                           struct roost_instance *inst)
{
    roost_keyspace_instance_key(key, id);
    enum roost_err err = roost_store_get(sc, roost_buf_slice(key), raw);
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        return ROOST_ERR_INSTANCE_NOT_FOUND;
    if (err)
        return err;
    err = roost_instance_from_json(roost_buf_slice(raw), inst);
    if (err)
        roost_log(ROOST_LOG_ERROR, "registry", "instance record '%.*s' is unreadable; "
                  "repair it with roostctl or remove it", (int)id.len, id.ptr);
    return err;
}

/* Writes a record that starts an instance's life: its delete fence is lifted
 * first (under the META lock held by sc, so no other creation races it;
 * fence first, so that a crash in between leaves no fenced live record). */
static enum roost_err insert_record(struct roost_store *st, struct roost_store_scope *sc,
                                    struct roost_slice id, const struct roost_buf *key,
                                    const struct roost_buf *raw, int replace)
{
    int exists = 0;
    enum roost_err err = roost_store_exists(sc, roost_buf_slice(key), &exists);
    if (!err && exists && !replace)
        err = ROOST_ERR_INSTANCE_EXISTS;
    if (!err && !exists)
        err = roost_kv_unfence(st, id);
    if (!err)
        err = roost_store_put(sc, roost_buf_slice(key), roost_buf_slice(raw), 0, NULL);
    return err;
}

enum roost_err roost_registry_get(struct roost_store *st, struct roost_slice id,
                                  struct roost_instance *inst)
{
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (!err)
        err = load(&sc, id, &key, &raw, inst);
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

enum roost_err roost_registry_resolve(struct roost_store *st, struct roost_slice id,
                                      int auto_create, int64_t now,
                                      struct roost_instance *inst, int *created)
{
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    if (created)
        *created = 0;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (err)
        goto out;
    err = load(&sc, id, &key, &raw, inst);
    if (err != ROOST_ERR_INSTANCE_NOT_FOUND || !auto_create)
        goto out;
    /* Created under the same lock as the failed lookup: a concurrent first
     * request on another worker waits and then finds this record. */
    roost_instance_release(inst);
    roost_instance_init_defaults(inst, id, now);
    roost_buf_reset(&raw);
    roost_instance_to_json(inst, &raw);
    err = insert_record(st, &sc, id, &key, &raw, 0);
    if (!err) {
        if (created)
            *created = 1;
        roost_log(ROOST_LOG_INFO, "registry", "created instance '%s'", inst->id);
    }
out:
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

enum roost_err roost_registry_put(struct roost_store *st, const struct roost_instance *inst)
{
    struct roost_slice id = roost_slice_cstr(inst->id);
    if (!roost_instance_id_valid(id))
        return ROOST_ERR_INVALID_INSTANCE_ID;
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (!err) {
        roost_keyspace_instance_key(&key, id);
        roost_instance_to_json(inst, &raw);
        err = insert_record(st, &sc, id, &key, &raw, 1);
    }
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

/* Loads the record of id under an open META scope, lets change() edit it,
 * and writes it back: one lock for the read-modify-write. */
typedef enum roost_err (*edit_fn)(void *arg, struct roost_instance *inst);

static enum roost_err edit(struct roost_store *st, struct roost_slice id, edit_fn change, void *arg,
                           struct roost_instance *inst)
{
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (!err)
        err = load(&sc, id, &key, &raw, inst);
    if (!err)
        err = change(arg, inst);
    if (!err) {
        roost_buf_reset(&raw);
        roost_instance_to_json(inst, &raw);
        err = roost_store_put(&sc, roost_buf_slice(&key), roost_buf_slice(&raw), 0, NULL);
    }
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}

struct patch_arg {
    const struct json_object *patch;
    struct roost_buf *detail;
};

static enum roost_err apply_patch(void *arg, struct roost_instance *inst)
{
    struct patch_arg *p = arg;
    return roost_instance_apply_patch(inst, p->patch, 0, p->detail);
}

enum roost_err roost_registry_update(struct roost_store *st, struct roost_slice id,
                                     const struct json_object *patch, struct roost_instance *inst,
                                     struct roost_buf *detail)
{
    struct patch_arg p = { patch, detail };
    enum roost_err err = edit(st, id, apply_patch, &p, inst);
    if (!err)
        roost_log(ROOST_LOG_INFO, "registry", "updated instance '%s', status %s", inst->id,
                  roost_instance_status_name(inst->status));
    return err;
}

static enum roost_err set_status(void *arg, struct roost_instance *inst)
{
    inst->status = *(enum roost_instance_status *)arg;
    return ROOST_OK;
}

enum roost_err roost_registry_set_status(struct roost_store *st, struct roost_slice id,
                                         enum roost_instance_status status)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    enum roost_err err = edit(st, id, set_status, &status, &inst);
    if (!err)
        roost_log(ROOST_LOG_INFO, "registry", "instance '%s' is now %s", inst.id,
                  roost_instance_status_name(status));
    roost_instance_release(&inst);
    return err;
}

struct touch_arg {
    int64_t now;
    int written;
};

static enum roost_err touch(void *arg, struct roost_instance *inst)
{
    struct touch_arg *t = arg;
    /* Re-checked under the lock: of several workers that all saw an old
     * stamp, the first writes and the others find it fresh. */
    if (!roost_instance_activity_due(inst->last_active, t->now))
        return ROOST_ERR_STORE_EXISTS;
    inst->last_active = t->now;
    t->written = 1;
    return ROOST_OK;
}

enum roost_err roost_registry_touch(struct roost_store *st, struct roost_slice id, int64_t now,
                                    int *written)
{
    struct touch_arg t = { now, 0 };
    struct roost_instance inst;
    roost_instance_init(&inst);
    enum roost_err err = edit(st, id, touch, &t, &inst);
    roost_instance_release(&inst);
    if (err == ROOST_ERR_STORE_EXISTS || err == ROOST_ERR_INSTANCE_NOT_FOUND)
        err = ROOST_OK; /* fresh already, or deleted meanwhile: nothing to do */
    if (written)
        *written = t.written;
    return err;
}

enum roost_err roost_registry_create(struct roost_store *st, const struct json_object *fields,
                                     int64_t now, struct roost_instance *inst,
                                     struct roost_buf *detail)
{
    struct json_object *idv;
    if (!json_object_is_type((struct json_object *)fields, json_type_object)
        || !json_object_object_get_ex((struct json_object *)fields, "id", &idv)
        || !json_object_is_type(idv, json_type_string)) {
        if (detail)
            roost_buf_set_str(detail, "body must be a JSON object with a string \"id\"");
        return ROOST_ERR_INVALID_REQUEST;
    }
    struct roost_slice id = roost_slice_make(json_object_get_string(idv), (size_t)json_object_get_string_len(idv));
    if (!roost_instance_id_valid(id)) {
        if (detail)
            roost_buf_set_str(detail, "\"id\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
        return ROOST_ERR_INVALID_INSTANCE_ID;
    }
    roost_instance_release(inst);
    roost_instance_init_defaults(inst, id, now);
    enum roost_err err = roost_instance_apply_patch(inst, fields, 1, detail);
    if (err)
        return err;
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (!err) {
        roost_keyspace_instance_key(&key, id);
        roost_instance_to_json(inst, &raw);
        err = insert_record(st, &sc, id, &key, &raw, 0);
    }
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    if (!err)
        roost_log(ROOST_LOG_INFO, "registry", "created instance '%s' through the admin interface", inst->id);
    return err;
}

enum roost_err roost_registry_remove(struct roost_store *st, struct roost_slice id)
{
    struct roost_store_scope sc;
    struct roost_buf key = ROOST_BUF_INIT;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, id, &sc);
    if (!err) {
        roost_keyspace_instance_key(&key, id);
        err = roost_store_delete(&sc, roost_buf_slice(&key));
        if (err == ROOST_ERR_KEY_NOT_FOUND)
            err = ROOST_ERR_INSTANCE_NOT_FOUND;
    }
    roost_store_end(&sc);
    roost_buf_release(&key);
    return err;
}

/* Listing: ids and raw records after the cursor, collected under one META
 * lock, sorted, then parsed and filtered with no lock held. */
struct listed {
    char *id;
    char *raw;
    size_t raw_len;
};

struct collect {
    struct roost_slice after;
    struct listed *items;
    size_t count, cap;
};

static int collect_one(void *arg, struct roost_slice key, struct roost_slice value)
{
    struct collect *c = arg;
    struct roost_slice id;
    if (roost_keyspace_instance_key_decode(key, &id))
        return 0;
    if (c->after.len) {
        size_t n = id.len < c->after.len ? id.len : c->after.len;
        int cmp = memcmp(id.ptr, c->after.ptr, n);
        if (cmp < 0 || (cmp == 0 && id.len <= c->after.len))
            return 0;
    }
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = roost_xrealloc(c->items, c->cap * sizeof(*c->items));
    }
    c->items[c->count].id = roost_xmemdup_str(id.ptr, id.len);
    c->items[c->count].raw = roost_xmemdup_str(value.ptr, value.len);
    c->items[c->count].raw_len = value.len;
    c->count++;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->id, ((const struct listed *)b)->id);
}

enum roost_err roost_registry_list(struct roost_store *st, int status, struct roost_slice after,
                                   size_t limit, roost_registry_list_fn fn, void *arg, int *more)
{
    struct collect c = { after, NULL, 0, 0 };
    struct roost_store_scope sc;
    *more = 0;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
    if (!err)
        err = roost_store_iterate(&sc, roost_slice_cstr(ROOST_KEYSPACE_INSTANCE_PREFIX), collect_one, &c);
    roost_store_end(&sc);
    if (!err && c.count)
        qsort(c.items, c.count, sizeof(*c.items), by_id);
    struct roost_instance inst;
    roost_instance_init(&inst);
    size_t emitted = 0;
    for (size_t i = 0; !err && i < c.count; i++) {
        enum roost_err perr = roost_instance_from_json(roost_slice_make(c.items[i].raw, c.items[i].raw_len), &inst);
        if (perr) {
            roost_log(ROOST_LOG_WARN, "registry", "skipping unreadable instance record '%s' in a listing; "
                      "run roostctl check", c.items[i].id);
            continue;
        }
        if (status >= 0 && (int)inst.status != status)
            continue;
        if (emitted == limit) {
            *more = 1;
            break;
        }
        err = fn(arg, &inst);
        emitted++;
    }
    roost_instance_release(&inst);
    for (size_t i = 0; i < c.count; i++) {
        free(c.items[i].id);
        free(c.items[i].raw);
    }
    free(c.items);
    return err;
}
