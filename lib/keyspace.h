/*
 * keyspace.h - the only place that builds store keys, and the key syntax.
 *
 * META area:
 *   "instance:" ID          the instance record (instance.h)
 *   "instance_config:" ID   the instance-config cache (instance-lookup.md)
 *   "project_config:" ID    the project -> instance mapping cache
 *   "user_config:" ID       the user record cache (default instance, roles)
 *   "config_claim:" COLLECTION ":" ID
 *                           a worker's claim on refreshing one cached
 *                           config (config_cache.h); COLLECTION is
 *                           "instances", "projects" or "users"
 *   Ids never contain ':' (these keys are only built for valid ids), and
 *   each family's prefix is a distinct word without ':' followed by one
 *   ':' ("instance" and "instance_config" are different words). So the
 *   text before a key's first ':' names its family and no family can
 *   produce another's keys; in a claim key the text between the first and
 *   second ':' names the collection (which holds no ':' either) and the
 *   rest is the id.
 * DATA area (one partition per instance, see store.h):
 *   0x01 LEN ID KEY         LEN is one byte, the id's length (1..64)
 *   0x02 LEN ID             the instance's usage figures
 *   0x03 LEN ID             the instance's delete fence
 *   The length prefix makes the encoding injective: no two (instance, key)
 *   pairs map to the same bytes, whatever bytes ids and keys hold. (The
 *   peer implementation's "instance:{id}:{key}" join is not: ("a:b","c")
 *   and ("a","b:c") collide.) The leading tag byte leaves room for other
 *   record kinds in the same partition later.
 */
#ifndef ROOST_KEYSPACE_H
#define ROOST_KEYSPACE_H

#include "buf.h"

#define ROOST_KEYSPACE_DATA_TAG 0x01
#define ROOST_KEYSPACE_INSTANCE_PREFIX "instance:"
#define ROOST_KEYSPACE_CONFIG_PREFIX "instance_config:"

/* 1 if key is 1-512 bytes of valid UTF-8 without control characters
 * (DESIGN.md "API rules": one key syntax for paths and batch JSON). */
int roost_keyspace_key_valid(struct roost_slice key);

/* Replace out's contents with the store key of (instance_id, key).
 * instance_id must be valid (instance.h). */
void roost_keyspace_data_key(struct roost_buf *out, struct roost_slice instance_id,
                             struct roost_slice key);
/* The prefix every data key of instance_id starts with. */
void roost_keyspace_data_prefix(struct roost_buf *out, struct roost_slice instance_id);
/* Splits a data key into borrowed views of its parts; 0 on success, -1 if
 * stored is not a data key. */
int roost_keyspace_data_key_decode(struct roost_slice stored, struct roost_slice *instance_id,
                                   struct roost_slice *key);

/* The instance's usage record, in its DATA partition:
 *   0x02 LEN ID         (the tag keeps it apart from every data key) */
#define ROOST_KEYSPACE_USAGE_TAG 0x02
void roost_keyspace_usage_key(struct roost_buf *out, struct roost_slice instance_id);
/* Id of a usage key; 0 on success, -1 if stored is not one. */
int roost_keyspace_usage_key_decode(struct roost_slice stored, struct roost_slice *instance_id);

/* The instance's delete fence, in its DATA partition (kv.h):
 *   0x03 LEN ID */
#define ROOST_KEYSPACE_FENCE_TAG 0x03
void roost_keyspace_fence_key(struct roost_buf *out, struct roost_slice instance_id);
/* Id of a fence key; 0 on success, -1 if stored is not one. */
int roost_keyspace_fence_key_decode(struct roost_slice stored, struct roost_slice *instance_id);

void roost_keyspace_instance_key(struct roost_buf *out, struct roost_slice instance_id);
/* "instance_config:" ID; the same as roost_keyspace_cache_key("instances"). */
void roost_keyspace_config_key(struct roost_buf *out, struct roost_slice instance_id);
/* Id part of an instance-record key; 0 on success, -1 if not one. */
int roost_keyspace_instance_key_decode(struct roost_slice stored, struct roost_slice *instance_id);

/* The config cache (config_cache.h): one collection per lookup of the
 * resolution chain, named as the config source names them ("instances",
 * "projects", "users") and cached under "instance_config:{id}" (the spec's
 * key), "project_config:{id}" and "user_config:{id}"; and the
 * refresh claims of all of them under "config_claim:{collection}:{id}".
 * id must be a valid id (1-64 bytes of [A-Za-z0-9._-], instance.h). */
#define ROOST_KEYSPACE_COLLECTION_INSTANCE "instances"
#define ROOST_KEYSPACE_COLLECTION_PROJECT "projects"
#define ROOST_KEYSPACE_COLLECTION_USER "users"
#define ROOST_KEYSPACE_PROJECT_CONFIG_PREFIX "project_config:"
#define ROOST_KEYSPACE_USER_CONFIG_PREFIX "user_config:"
#define ROOST_KEYSPACE_CLAIM_PREFIX "config_claim:"

/* 1 if collection (may be NULL) is one of the three above. */
int roost_keyspace_collection_valid(const char *collection);
/* Replace out's contents with the cache key of (collection, id); 0, or -1
 * (out emptied) if collection is not one of the three. */
int roost_keyspace_cache_key(struct roost_buf *out, const char *collection, struct roost_slice id);
/* The same for the claim key. */
int roost_keyspace_claim_key(struct roost_buf *out, const char *collection, struct roost_slice id);

/* What roost_keyspace_cache_key_decode() found. */
enum roost_keyspace_cache_kind {
    ROOST_KEYSPACE_NOT_CACHE = 0,    /* any other key */
    ROOST_KEYSPACE_CACHE_ENTRY = 1,  /* "instance_config:{id}", "project_config:{id}", ... */
    ROOST_KEYSPACE_CACHE_CLAIM = 2,  /* "config_claim:{collection}:{id}" */
};
/* Tells whether stored is a config-cache entry or claim key (of a known
 * collection, with a non-empty id) for invalidate-all and roostctl check.
 * On a match *collection (may be NULL) is the static collection name and
 * *id (may be NULL) a view into stored. */
enum roost_keyspace_cache_kind roost_keyspace_cache_key_decode(struct roost_slice stored,
                                                               const char **collection,
                                                               struct roost_slice *id);

#endif
