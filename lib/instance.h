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

struct roost_instance {
    char id[ROOST_INSTANCE_ID_MAX + 1];
    enum roost_instance_status status;
    struct roost_buf game_type;
    struct roost_buf region;
    struct roost_resource_quota quota;
    struct roost_buf owner;          /* empty: nobody owns it */
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

/* JSON form (appended to out, compact). */
void roost_instance_to_json(const struct roost_instance *inst, struct roost_buf *out);
/* Parses the JSON form into inst (which must be initialised; its previous
 * contents are replaced). Errors: STORE_CORRUPT (not an instance record). */
enum roost_err roost_instance_from_json(struct roost_slice json, struct roost_instance *inst);

#endif
