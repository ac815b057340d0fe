/*
 * instance.h - the instance (tenant) record: id syntax, the five states,
 * the record's fields and its JSON form in the store.
 *
 * spec: instance-context-api.md "Instance Lifecycle", "Instance States".
 * The JSON form carries "version" so later fields never break an old
 * store: a reader fills fields missing from an older record with their
 * defaults and ignores fields it does not know.
 */
#ifndef ROOST_INSTANCE_H
#define ROOST_INSTANCE_H

#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "limits.h"

/* Current version of the record's JSON form. */
#define ROOST_INSTANCE_RECORD_VERSION 1

enum roost_instance_status {
    ROOST_INSTANCE_ACTIVE = 0,
    ROOST_INSTANCE_INACTIVE,
    ROOST_INSTANCE_PAUSED,
    ROOST_INSTANCE_MIGRATING,
    ROOST_INSTANCE_DELETING,
};

/* spec "Instance Creation": 8GB memory, 100GB storage, 4 CPU cores. */
#define ROOST_QUOTA_MEMORY_BYTES_DEFAULT  (8LL * 1024 * 1024 * 1024)
#define ROOST_QUOTA_STORAGE_BYTES_DEFAULT (100LL * 1024 * 1024 * 1024)
#define ROOST_QUOTA_CPU_CORES_DEFAULT     4
#define ROOST_INSTANCE_DEFAULT_GAME_TYPE  "default"
#define ROOST_INSTANCE_DEFAULT_REGION     "default"

struct roost_resource_quota {
    int64_t memory_bytes;
    int64_t storage_bytes;
    int64_t cpu_cores;
};

/* Usage of one instance, kept current by every write and delete (kv.c)
 * in the instance's DATA partition, next to its keys, in the same atomic
 * write as the change it counts. bytes = key bytes + value bytes. */
struct roost_instance_usage {
    int64_t keys;
    int64_t bytes;
};
#define ROOST_INSTANCE_USAGE_SIZE 16
/* Fixed 16-byte little-endian encoding: keys, bytes. */
void roost_instance_usage_encode(const struct roost_instance_usage *u,
                                 unsigned char out[ROOST_INSTANCE_USAGE_SIZE]);
/* 0, or -1 when raw is not a usage record. */
int roost_instance_usage_decode(struct roost_slice raw, struct roost_instance_usage *u);

/* spec "Activity Tracking": "throttled to once per minute". */
#define ROOST_ACTIVITY_INTERVAL 60
/* 1 when last_active is at least ROOST_ACTIVITY_INTERVAL away from now,
 * either way: a stamp from a clock set back heals, a second's skew between
 * workers does not cause a second write. */
int roost_instance_activity_due(int64_t last_active, int64_t now);

struct json_object;

struct roost_instance {
    char id[ROOST_INSTANCE_ID_MAX + 1];
    enum roost_instance_status status;
    struct roost_buf game_type;
    struct roost_buf region;
    struct roost_resource_quota quota;
    struct roost_buf owner;          /* empty: nobody owns it */
    struct json_object *metadata;    /* object of string values; owned */
    int64_t created_at;              /* Unix seconds */
    int64_t last_active;             /* Unix seconds */
};

/* 1 if id is 1-64 bytes of [A-Za-z0-9._-] (DESIGN.md "API rules"). */
int roost_instance_id_valid(struct roost_slice id);

/* "active", "inactive", ... Never NULL. */
const char *roost_instance_status_name(enum roost_instance_status s);
/* Parses a state name; -1 if it is none of the five. */
int roost_instance_status_parse(struct roost_slice name);

/* OK when the state accepts requests (active, migrating); else the error
 * the client gets: INSTANCE_INACTIVE, INSTANCE_PAUSED, INSTANCE_DELETING.
 * spec: "Only instances in active or migrating states can accept requests." */
enum roost_err roost_instance_servable(enum roost_instance_status s);

/* Fills inst with the spec's defaults for a new instance id created now.
 * inst must be released with roost_instance_release(). id must be valid. */
void roost_instance_init_defaults(struct roost_instance *inst, struct roost_slice id, int64_t now);

void roost_instance_init(struct roost_instance *inst);
void roost_instance_release(struct roost_instance *inst);

/* JSON form (appended to out, compact): the stored record. */
void roost_instance_to_json(const struct roost_instance *inst, struct roost_buf *out);
/* The record as a json-c object (new reference), for API answers; usage
 * (may be NULL) is added as "usage": {"keys", "bytes"}. */
struct json_object *roost_instance_to_object(const struct roost_instance *inst,
                                             const struct roost_instance_usage *usage);
/* Parses the JSON form into inst (which must be initialised; its previous
 * contents are replaced). Errors: STORE_CORRUPT (not an instance record). */
enum roost_err roost_instance_from_json(struct roost_slice json, struct roost_instance *inst);

/* Bounds of the editable fields (each with its reason in instance.c). */
#define ROOST_INSTANCE_LABEL_MAX 64        /* game_type, region */
#define ROOST_INSTANCE_OWNER_MAX 256
#define ROOST_INSTANCE_METADATA_ENTRIES 64
#define ROOST_INSTANCE_METADATA_KEY_MAX 64
#define ROOST_INSTANCE_METADATA_VALUE_MAX 1024

/* Applies a JSON object of changes to inst: "status", "game_type",
 * "region", "resource_quota" (any of "memory_bytes", "storage_bytes",
 * "cpu_cores"; others kept), "owner" ("" for none), "metadata" (replaces
 * the whole map). With allow_id, an "id" member is accepted (and must equal
 * inst->id; creation sets it first). Nothing is changed unless the whole
 * patch is valid. Errors: INVALID_REQUEST (not an object, unknown field,
 * wrong type, out of bounds), INVALID_STATUS (unknown state name); detail
 * (may be NULL) gets one sentence naming the field. */
enum roost_err roost_instance_apply_patch(struct roost_instance *inst, const struct json_object *patch,
                                          int allow_id, struct roost_buf *detail);

#endif
