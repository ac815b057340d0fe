/*
 * kv.h - the namespaced value cache: get, put, delete, batch get.
 *
 * A stored value is the client's bytes plus the Content-Type they were sent
 * with. On disk (the store's value bytes):
 *   VERSION(1 byte = 1)  CTLEN(1 byte)  CONTENT-TYPE(CTLEN bytes)  DATA
 * Size limits are checked before anything is written. Keys must already be
 * valid (keyspace.h) and ids valid (instance.h). Every put and delete also
 * updates the instance's usage record in the same atomic store write.
 */
#ifndef ROOST_KV_H
#define ROOST_KV_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "instance.h"
#include "store.h"

#define ROOST_KV_DEFAULT_CONTENT_TYPE "application/octet-stream"

/* A fetched value. raw owns the bytes; the slices point into it and stay
 * valid until raw is reset or released. Reuse one across requests. */
struct roost_kv_value {
    struct roost_buf raw;
    struct roost_slice content_type;
    struct roost_slice data;
};

void roost_kv_value_release(struct roost_kv_value *v);

/* 1 if content_type may be stored: at most ROOST_CONTENT_TYPE_MAX bytes of
 * printable ASCII (it is sent back as a header). */
int roost_kv_content_type_valid(struct roost_slice content_type);

/* Errors: KEY_NOT_FOUND, STORE_CORRUPT (value unreadable), store errors. */
enum roost_err roost_kv_get(struct roost_store *st, struct roost_slice instance_id,
                            struct roost_slice key, struct roost_kv_value *out);

/* Stores data under (instance_id, key). An empty content_type stores the
 * default (application/octet-stream). created (may be NULL) is 1 when the
 * key did not exist. Errors: VALUE_TOO_LARGE (data.len > max_value_bytes,
 * nothing written), INVALID_CONTENT_TYPE, INSTANCE_DELETING (fenced),
 * store errors. */
enum roost_err roost_kv_put(struct roost_store *st, struct roost_slice instance_id,
                            struct roost_slice key, struct roost_slice content_type,
                            struct roost_slice data, size_t max_value_bytes, int *created);

/* Errors: KEY_NOT_FOUND, INSTANCE_DELETING (fenced), store errors. */
enum roost_err roost_kv_delete(struct roost_store *st, struct roost_slice instance_id,
                               struct roost_slice key);

/* Delete fence. A delete sets it before purging, and every put and delete
 * of a value checks it under the partition's lock: a write that passed the
 * state check before the instance became `deleting` and lands late gets
 * INSTANCE_DELETING instead of leaving an orphan key. It stays after the
 * record is gone; creating the instance again lifts it (registry.c). */
enum roost_err roost_kv_fence(struct roost_store *st, struct roost_slice instance_id);
enum roost_err roost_kv_unfence(struct roost_store *st, struct roost_slice instance_id);

/* Splits a stored value into its content type and data (borrowed from
 * raw); 0, or -1 when raw is not a value record. */
int roost_kv_value_decode(struct roost_slice raw, struct roost_slice *content_type,
                          struct roost_slice *data);

/* The instance's usage figures (zero when it has no keys). */
enum roost_err roost_kv_usage(struct roost_store *st, struct roost_slice instance_id,
                              struct roost_instance_usage *usage);

/* Removes every key of the instance and its usage record, a batch of keys
 * per atomic write and lock scope, so other instances' requests on the same
 * partition are served in between. removed (may be NULL) counts the keys.
 * Safe to repeat after an interruption. */
enum roost_err roost_kv_purge_instance(struct roost_store *st, struct roost_slice instance_id,
                                       size_t *removed);

/* Every value of the store, partition by partition (for dump and check):
 * fn gets the instance id, key, content type and data, borrowed for the
 * call, under the partition's lock (fn must not use the store). Records
 * that are not values are skipped; unreadable ones are reported with
 * data.ptr == NULL. Return non-OK from fn to stop. */
typedef enum roost_err (*roost_kv_scan_fn)(void *arg, struct roost_slice instance_id,
                                           struct roost_slice key, struct roost_slice content_type,
                                           struct roost_slice data);
enum roost_err roost_kv_scan(struct roost_store *st, roost_kv_scan_fn fn, void *arg);

/* Usage records of every instance that has one (for check). */
typedef enum roost_err (*roost_kv_usage_fn)(void *arg, struct roost_slice instance_id,
                                            const struct roost_instance_usage *usage);
enum roost_err roost_kv_scan_usage(struct roost_store *st, roost_kv_usage_fn fn, void *arg);

/* Overwrites the instance's usage record (check --repair, load). */
enum roost_err roost_kv_set_usage(struct roost_store *st, struct roost_slice instance_id,
                                  const struct roost_instance_usage *usage);

/* Called once per requested key, in order, under one lock. found is 0 for a
 * missing key (content_type and data are then empty). The slices are
 * borrowed for the call only. Return ROOST_OK to go on, an error to stop
 * (it becomes the batch's result). */
typedef enum roost_err (*roost_kv_batch_fn)(void *arg, size_t index, int found,
                                            struct roost_slice content_type,
                                            struct roost_slice data);

/* Fetches keys[0..n) of one instance under a single lock scope.
 * max_total_bytes bounds the sum of the values found: past it the batch
 * stops with BATCH_RESPONSE_TOO_LARGE. */
enum roost_err roost_kv_batch_get(struct roost_store *st, struct roost_slice instance_id,
                                  const struct roost_slice *keys, size_t n,
                                  size_t max_total_bytes, roost_kv_batch_fn fn, void *arg);

#endif
