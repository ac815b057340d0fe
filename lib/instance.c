/* instance.c - instance ids, states and the record's JSON form. */
#include "config.h"

#include <json-c/json.h>

#include "instance.h"
#include "json_util.h"

static const char *const status_names[] = {
    [ROOST_INSTANCE_ACTIVE] = "active",
    [ROOST_INSTANCE_INACTIVE] = "inactive",
    [ROOST_INSTANCE_PAUSED] = "paused",
    [ROOST_INSTANCE_MIGRATING] = "migrating",
    [ROOST_INSTANCE_DELETING] = "deleting",
};
#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

int roost_instance_id_valid(struct roost_slice id)
{
    if (id.len < 1 || id.len > ROOST_INSTANCE_ID_MAX)
        return 0;
    for (size_t i = 0; i < id.len; i++) {
        char c = id.ptr[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *roost_instance_status_name(enum roost_instance_status s)
{
    return (unsigned)s < STATUS_COUNT ? status_names[s] : "unknown";
}

int roost_instance_status_parse(struct roost_slice name)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (roost_slice_eq_cstr(name, status_names[i]))
            return (int)i;
    return -1;
}

enum roost_err roost_instance_servable(enum roost_instance_status s)
{
    /* spec: "Only instances in active or migrating states can accept requests." */
    switch (s) {
    case ROOST_INSTANCE_ACTIVE:
    case ROOST_INSTANCE_MIGRATING:
        return ROOST_OK;
    case ROOST_INSTANCE_INACTIVE:
        return ROOST_ERR_INSTANCE_INACTIVE;
    case ROOST_INSTANCE_PAUSED:
        return ROOST_ERR_INSTANCE_PAUSED;
    case ROOST_INSTANCE_DELETING:
        return ROOST_ERR_INSTANCE_DELETING;
    }
    return ROOST_ERR_INSTANCE_INACTIVE;
}

void roost_instance_init(struct roost_instance *inst)
{
    memset(inst, 0, sizeof(*inst));
    roost_buf_init(&inst->game_type);
    roost_buf_init(&inst->region);
    roost_buf_init(&inst->owner);
}

void roost_instance_release(struct roost_instance *inst)
{
    roost_buf_release(&inst->game_type);
    roost_buf_release(&inst->region);
    roost_buf_release(&inst->owner);
    roost_instance_init(inst);
}

static void set_defaults(struct roost_instance *inst)
{
    /* spec "Instance Creation": Active, GameType default, Region default,
     * ResourceQuota 8GB memory, 100GB storage, 4 CPU cores. */
    inst->status = ROOST_INSTANCE_ACTIVE;
    roost_buf_set(&inst->game_type, ROOST_INSTANCE_DEFAULT_GAME_TYPE, strlen(ROOST_INSTANCE_DEFAULT_GAME_TYPE));
    roost_buf_set(&inst->region, ROOST_INSTANCE_DEFAULT_REGION, strlen(ROOST_INSTANCE_DEFAULT_REGION));
    inst->quota.memory_bytes = ROOST_QUOTA_MEMORY_BYTES_DEFAULT;
    inst->quota.storage_bytes = ROOST_QUOTA_STORAGE_BYTES_DEFAULT;
    inst->quota.cpu_cores = ROOST_QUOTA_CPU_CORES_DEFAULT;
    roost_buf_reset(&inst->owner);
}

void roost_instance_init_defaults(struct roost_instance *inst, struct roost_slice id, int64_t now)
{
    roost_instance_init(inst);
    size_t n = id.len > ROOST_INSTANCE_ID_MAX ? ROOST_INSTANCE_ID_MAX : id.len;
    memcpy(inst->id, id.ptr, n);
    inst->id[n] = '\0';
    set_defaults(inst);
    inst->created_at = now;
    inst->last_active = now;
}

void roost_instance_to_json(const struct roost_instance *inst, struct roost_buf *out)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int(ROOST_INSTANCE_RECORD_VERSION));
    json_object_object_add(o, "id", json_object_new_string(inst->id));
    json_object_object_add(o, "status", json_object_new_string(roost_instance_status_name(inst->status)));
    json_object_object_add(o, "game_type", roost_json_string(roost_buf_slice(&inst->game_type)));
    json_object_object_add(o, "region", roost_json_string(roost_buf_slice(&inst->region)));
    struct json_object *q = json_object_new_object();
    json_object_object_add(q, "memory_bytes", json_object_new_int64(inst->quota.memory_bytes));
    json_object_object_add(q, "storage_bytes", json_object_new_int64(inst->quota.storage_bytes));
    json_object_object_add(q, "cpu_cores", json_object_new_int64(inst->quota.cpu_cores));
    json_object_object_add(o, "resource_quota", q);
    json_object_object_add(o, "owner", roost_json_string(roost_buf_slice(&inst->owner)));
    json_object_object_add(o, "created_at", json_object_new_int64(inst->created_at));
    json_object_object_add(o, "last_active", json_object_new_int64(inst->last_active));
    roost_json_serialize(o, out);
    json_object_put(o);
}

/* Field readers: a field that is absent keeps the default already in place
 * (older records); a field of the wrong type makes the record unreadable. */
static int read_string(struct json_object *o, const char *name, struct roost_buf *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    roost_buf_set(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    return 0;
}

static int read_int(struct json_object *o, const char *name, int64_t *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    *out = json_object_get_int64(v);
    return 0;
}

enum roost_err roost_instance_from_json(struct roost_slice json, struct roost_instance *inst)
{
    struct json_object *o = NULL;
    enum roost_err err = roost_json_parse(json, &o, NULL);
    if (err)
        return ROOST_ERR_STORE_CORRUPT;
    struct roost_buf tmp = ROOST_BUF_INIT;
    err = ROOST_ERR_STORE_CORRUPT;
    if (!json_object_is_type(o, json_type_object))
        goto out;

    roost_instance_release(inst);
    set_defaults(inst);
    if (read_string(o, "id", &tmp) || !roost_instance_id_valid(roost_buf_slice(&tmp)))
        goto out;
    memcpy(inst->id, tmp.ptr, tmp.len + 1);
    roost_buf_reset(&tmp);
    /* An absent status is an old record's default (active); a present but
     * unknown one (even "") must not un-fence a paused or deleting instance. */
    struct json_object *status;
    if (json_object_object_get_ex(o, "status", &status)) {
        if (read_string(o, "status", &tmp))
            goto out;
        int st = roost_instance_status_parse(roost_buf_slice(&tmp));
        if (st < 0)
            goto out;
        inst->status = (enum roost_instance_status)st;
    }
    if (read_string(o, "game_type", &inst->game_type) || read_string(o, "region", &inst->region)
        || read_string(o, "owner", &inst->owner)
        || read_int(o, "created_at", &inst->created_at)
        || read_int(o, "last_active", &inst->last_active))
        goto out;
    struct json_object *q;
    if (json_object_object_get_ex(o, "resource_quota", &q)) {
        if (!json_object_is_type(q, json_type_object)
            || read_int(q, "memory_bytes", &inst->quota.memory_bytes)
            || read_int(q, "storage_bytes", &inst->quota.storage_bytes)
            || read_int(q, "cpu_cores", &inst->quota.cpu_cores))
            goto out;
    }
    err = ROOST_OK;
out:
    roost_buf_release(&tmp);
    json_object_put(o);
    return err;
}
