/*
 * keyspace.h - the only place that builds store keys, and the key syntax.
 *
 * META area:
 *   "instance:" ID          the instance record (instance.h)
 *   "instance_config:" ID   the instance-config cache (instance-lookup.md)
 *   Ids never contain ':', so neither family can produce the other's keys.
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
void roost_keyspace_config_key(struct roost_buf *out, struct roost_slice instance_id);
/* Id part of an instance-record key; 0 on success, -1 if not one. */
int roost_keyspace_instance_key_decode(struct roost_slice stored, struct roost_slice *instance_id);

#endif
