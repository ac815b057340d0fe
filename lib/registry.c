/* registry.c - instance records in the store's META area. */
#include "config.h"

#include "keyspace.h"
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
    err = roost_store_put(&sc, roost_buf_slice(&key), roost_buf_slice(&raw), ROOST_STORE_INSERT, NULL);
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
        err = roost_store_put(&sc, roost_buf_slice(&key), roost_buf_slice(&raw), 0, NULL);
    }
    roost_store_end(&sc);
    roost_buf_release(&key);
    roost_buf_release(&raw);
    return err;
}
