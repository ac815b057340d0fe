/* admin.c - instance administration over registry (META) and values (DATA). */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>

#include "admin.h"
#include "kv.h"
#include "log.h"
#include "registry.h"

enum roost_err roost_admin_delete_instance(struct roost_store *st, struct roost_slice id,
                                           size_t *removed)
{
    if (removed)
        *removed = 0;
    /* 1. Fence: from here on every request gets 410 INSTANCE_DELETING. */
    enum roost_err err = roost_registry_set_status(st, id, ROOST_INSTANCE_DELETING);
    if (err == ROOST_ERR_STORE_CORRUPT) {
        /* An unreadable record cannot be fenced, but it serves nobody
         * either (every request gets 500): deleting it is the repair. */
        roost_log(ROOST_LOG_WARN, "admin", "instance record '%.*s' is unreadable; deleting it anyway",
                  (int)id.len, id.ptr);
        err = ROOST_OK;
    }
    if (err)
        return err;
    /* 2. The fence: a write already past the state check is refused at the
     * partition (kv.h). 3. The data, in batches; 4. the record last, so an
     * interrupted delete leaves a `deleting` record the next one finishes. */
    size_t n = 0;
    err = roost_kv_fence(st, id);
    if (!err)
        err = roost_kv_purge_instance(st, id, &n);
    if (removed)
        *removed = n;
    if (!err)
        err = roost_registry_remove(st, id);
    if (err)
        roost_log(ROOST_LOG_ERROR, "admin", "delete of instance '%.*s' stopped after %zu keys: %s; "
                  "repeat the delete to finish it", (int)id.len, id.ptr, n, roost_err_code(err));
    else
        roost_log(ROOST_LOG_INFO, "admin", "deleted instance '%.*s' and its %zu keys",
                  (int)id.len, id.ptr, n);
    return err;
}

enum roost_err roost_admin_show(struct roost_store *st, struct roost_slice id,
                                struct json_object **out)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    struct roost_instance_usage usage;
    enum roost_err err = roost_registry_get(st, id, &inst);
    if (!err)
        err = roost_kv_usage(st, id, &usage);
    if (!err)
        *out = roost_instance_to_object(&inst, &usage);
    roost_instance_release(&inst);
    return err;
}

static enum roost_err count_status(void *arg, const struct roost_instance *inst)
{
    int64_t *counts = arg;
    counts[inst->status]++;
    return ROOST_OK;
}

static struct json_object *part_object(const struct roost_store_part_stats *ps)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(ps->name));
    json_object_object_add(o, "file_bytes", json_object_new_int64((int64_t)ps->file_bytes));
    json_object_object_add(o, "log_bytes", json_object_new_int64((int64_t)ps->log_bytes));
    json_object_object_add(o, "generation", json_object_new_int64((int64_t)ps->generation));
    json_object_object_add(o, "repairs", json_object_new_int64((int64_t)ps->repairs));
    json_object_object_add(o, "rebuilds", json_object_new_int64((int64_t)ps->rebuilds));
    return o;
}

static enum roost_err add_parts(struct roost_store *st, enum roost_store_area area,
                                struct json_object *parts)
{
    int n = roost_store_part_count(st, area);
    for (int i = 0; i < n; i++) {
        struct roost_store_scope sc;
        struct roost_store_part_stats ps;
        enum roost_err err = roost_store_begin_part(st, area, i, &sc);
        if (!err)
            err = roost_store_part_stats(&sc, &ps);
        roost_store_end(&sc);
        if (err)
            return err;
        json_object_array_add(parts, part_object(&ps));
    }
    return ROOST_OK;
}

enum roost_err roost_admin_stats(struct roost_store *st, struct json_object **out)
{
    int64_t counts[ROOST_INSTANCE_DELETING + 1] = { 0 };
    int more = 0;
    enum roost_err err = roost_registry_list(st, -1, ROOST_SLICE_NULL, SIZE_MAX, count_status, counts, &more);
    if (err)
        return err;
    struct json_object *parts = json_object_new_array();
    err = add_parts(st, ROOST_STORE_META, parts);
    if (!err)
        err = add_parts(st, ROOST_STORE_DATA, parts);
    if (err) {
        json_object_put(parts);
        return err;
    }
    struct json_object *by_status = json_object_new_object();
    int64_t total = 0;
    for (int s = 0; s <= ROOST_INSTANCE_DELETING; s++) {
        json_object_object_add(by_status, roost_instance_status_name((enum roost_instance_status)s),
                               json_object_new_int64(counts[s]));
        total += counts[s];
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "instances", json_object_new_int64(total));
    json_object_object_add(o, "instances_by_status", by_status);
    json_object_object_add(o, "partitions", parts);
    *out = o;
    return ROOST_OK;
}
