/* instance.c - instance ids, states and the record's JSON form. */
#include "config.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "encoding.h"
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
    json_object_put(inst->metadata);
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
    json_object_put(inst->metadata);
    inst->metadata = NULL;
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

static struct json_object *record_object(const struct roost_instance *inst)
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
    json_object_object_add(o, "metadata", inst->metadata ? json_object_get(inst->metadata)
                                                         : json_object_new_object());
    json_object_object_add(o, "created_at", json_object_new_int64(inst->created_at));
    json_object_object_add(o, "last_active", json_object_new_int64(inst->last_active));
    return o;
}

void roost_instance_to_json(const struct roost_instance *inst, struct roost_buf *out)
{
    struct json_object *o = record_object(inst);
    roost_json_serialize(o, out);
    json_object_put(o);
}

struct json_object *roost_instance_to_object(const struct roost_instance *inst,
                                             const struct roost_instance_usage *usage)
{
    struct json_object *o = record_object(inst);
    json_object_object_del(o, "version");   /* the store's business, not the API's */
    if (usage) {
        struct json_object *u = json_object_new_object();
        json_object_object_add(u, "keys", json_object_new_int64(usage->keys));
        json_object_object_add(u, "bytes", json_object_new_int64(usage->bytes));
        json_object_object_add(o, "usage", u);
    }
    return o;
}

void roost_instance_usage_encode(const struct roost_instance_usage *u,
                                 unsigned char out[ROOST_INSTANCE_USAGE_SIZE])
{
    uint64_t v[2] = { (uint64_t)u->keys, (uint64_t)u->bytes };
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 8; b++)
            out[i * 8 + b] = (unsigned char)(v[i] >> (8 * b));
}

int roost_instance_usage_decode(struct roost_slice raw, struct roost_instance_usage *u)
{
    if (raw.len != ROOST_INSTANCE_USAGE_SIZE)
        return -1;
    const unsigned char *p = (const unsigned char *)raw.ptr;
    uint64_t v[2] = { 0, 0 };
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 8; b++)
            v[i] |= (uint64_t)p[i * 8 + b] << (8 * b);
    if (v[0] > INT64_MAX || v[1] > INT64_MAX)
        return -1;
    u->keys = (int64_t)v[0];
    u->bytes = (int64_t)v[1];
    return 0;
}

int roost_instance_activity_due(int64_t last_active, int64_t now)
{
    /* The distance either way, in unsigned arithmetic so that no stored
     * stamp can overflow it. Workers read the clock before taking the lock,
     * so a stamp a second ahead is normal; only one a whole interval in the
     * future (a clock set back) is rewritten. */
    uint64_t gap = now >= last_active ? (uint64_t)now - (uint64_t)last_active
                                      : (uint64_t)last_active - (uint64_t)now;
    return gap >= ROOST_ACTIVITY_INTERVAL;
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

/* Text an operator types: UTF-8 without control characters, bounded. */
static int text_ok(struct json_object *v, size_t min, size_t max)
{
    if (!json_object_is_type(v, json_type_string))
        return 0;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    return n >= min && n <= max && roost_utf8_valid(s, n) && !roost_has_control(s, n);
}

/* Metadata is a flat map of strings, bounded so a record stays small
 * enough to be read on every request. 0 when valid. */
static int check_metadata(struct json_object *md, struct roost_buf *detail)
{
    if (!json_object_is_type(md, json_type_object)) {
        roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "\"metadata\" must be an object of strings");
        return -1;
    }
    if (json_object_object_length(md) > ROOST_INSTANCE_METADATA_ENTRIES) {
        roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "\"metadata\" has more than %d entries",
                   ROOST_INSTANCE_METADATA_ENTRIES);
        return -1;
    }
    json_object_object_foreach(md, k, v) {
        size_t klen = strlen(k);
        if (klen < 1 || klen > ROOST_INSTANCE_METADATA_KEY_MAX || !roost_utf8_valid(k, klen)
            || roost_has_control(k, klen)) {
            roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                       "metadata names must be 1-%d characters without control characters",
                       ROOST_INSTANCE_METADATA_KEY_MAX);
            return -1;
        }
        if (!text_ok(v, 0, ROOST_INSTANCE_METADATA_VALUE_MAX)) {
            roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                       "metadata \"%.64s\" must be a string of at most %d bytes without control characters",
                       k, ROOST_INSTANCE_METADATA_VALUE_MAX);
            return -1;
        }
    }
    return 0;
}

static int quota_field(struct json_object *q, const char *name, int64_t max, int64_t *out,
                       struct roost_buf *detail)
{
    struct json_object *v;
    if (!json_object_object_get_ex(q, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0
        || json_object_get_int64(v) > max) {
        roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                   "resource_quota.%s must be a whole number from 0 to %lld", name, (long long)max);
        return -1;
    }
    *out = json_object_get_int64(v);
    return 0;
}

enum roost_err roost_instance_apply_patch(struct roost_instance *inst, const struct json_object *cpatch,
                                          int allow_id, struct roost_buf *detail)
{
    /* json-c's accessors take non-const objects; nothing here writes. */
    struct json_object *patch = (struct json_object *)cpatch;
    if (!json_object_is_type(patch, json_type_object))
        return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "body must be a JSON object");
    /* Validate everything first, then apply: all or nothing. */
    int status = -1;
    struct roost_resource_quota quota = inst->quota;
    json_object_object_foreach(patch, name, v) {
        if (strcmp(name, "id") == 0 && allow_id) {
            if (!json_object_is_type(v, json_type_string)
                || (size_t)json_object_get_string_len(v) != strlen(inst->id)
                || strcmp(json_object_get_string(v), inst->id) != 0)
                return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "\"id\" does not match");
        } else if (strcmp(name, "status") == 0) {
            if (!json_object_is_type(v, json_type_string))
                return roost_err_detail(ROOST_ERR_INVALID_STATUS, detail, "\"status\" must be a string");
            status = roost_instance_status_parse(roost_slice_make(json_object_get_string(v),
                                                                  (size_t)json_object_get_string_len(v)));
            if (status < 0)
                return roost_err_detail(ROOST_ERR_INVALID_STATUS, detail,
                                  "unknown status \"%.32s\"; use active, inactive, paused, migrating or deleting",
                                  json_object_get_string(v));
        } else if (strcmp(name, "game_type") == 0 || strcmp(name, "region") == 0) {
            if (!text_ok(v, 1, ROOST_INSTANCE_LABEL_MAX))
                return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                                  "\"%s\" must be a string of 1-%d bytes without control characters",
                                  name, ROOST_INSTANCE_LABEL_MAX);
        } else if (strcmp(name, "owner") == 0) {
            if (!text_ok(v, 0, ROOST_INSTANCE_OWNER_MAX))
                return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                                  "\"owner\" must be a string of at most %d bytes without control characters",
                                  ROOST_INSTANCE_OWNER_MAX);
        } else if (strcmp(name, "metadata") == 0) {
            if (check_metadata(v, detail))
                return ROOST_ERR_INVALID_REQUEST;
        } else if (strcmp(name, "resource_quota") == 0) {
            if (!json_object_is_type(v, json_type_object))
                return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail, "\"resource_quota\" must be an object");
            json_object_object_foreach(v, qname, qv) {
                (void)qv;
                if (strcmp(qname, "memory_bytes") && strcmp(qname, "storage_bytes") && strcmp(qname, "cpu_cores"))
                    return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                                      "unknown field \"resource_quota.%.64s\"; known: memory_bytes, storage_bytes, cpu_cores",
                                      qname);
            }
            /* Bounds: an exabyte and a million cores are "unlimited" here
             * while staying far from int64 overflow in any sum. */
            if (quota_field(v, "memory_bytes", INT64_C(1) << 60, &quota.memory_bytes, detail)
                || quota_field(v, "storage_bytes", INT64_C(1) << 60, &quota.storage_bytes, detail)
                || quota_field(v, "cpu_cores", 1000000, &quota.cpu_cores, detail))
                return ROOST_ERR_INVALID_REQUEST;
        } else {
            return roost_err_detail(ROOST_ERR_INVALID_REQUEST, detail,
                              "unknown field \"%.64s\"; known: %sstatus, game_type, region, resource_quota, owner, metadata",
                              name, allow_id ? "id, " : "");
        }
    }
    json_object_object_foreach(patch, name2, v2) {
        if (strcmp(name2, "game_type") == 0)
            roost_buf_set(&inst->game_type, json_object_get_string(v2), (size_t)json_object_get_string_len(v2));
        else if (strcmp(name2, "region") == 0)
            roost_buf_set(&inst->region, json_object_get_string(v2), (size_t)json_object_get_string_len(v2));
        else if (strcmp(name2, "owner") == 0)
            roost_buf_set(&inst->owner, json_object_get_string(v2), (size_t)json_object_get_string_len(v2));
        else if (strcmp(name2, "metadata") == 0) {
            json_object_put(inst->metadata);
            inst->metadata = json_object_get(v2);
        }
    }
    if (status >= 0)
        inst->status = (enum roost_instance_status)status;
    inst->quota = quota;
    return ROOST_OK;
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
    struct json_object *md;
    if (json_object_object_get_ex(o, "metadata", &md)) {
        if (check_metadata(md, NULL))
            goto out;
        inst->metadata = json_object_get(md);
    }
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
