/*
 * admin.h - instance administration shared by the admin HTTP API
 * (fcgi-app/handlers_admin.c) and roostctl: the operations that combine
 * the registry (META) and the values (DATA).
 */
#ifndef ROOST_ADMIN_H
#define ROOST_ADMIN_H

#include <stddef.h>

#include "error.h"
#include "instance.h"
#include "store.h"

struct json_object;

/* Deletes an instance with its data: sets it `deleting` first (new requests
 * get 410 INSTANCE_DELETING at once), removes every key of its namespace,
 * then removes the record. Safe to repeat: an interrupted delete (worker
 * killed) finishes on the next call. removed (may be NULL) counts the keys
 * removed by this call. Errors: INSTANCE_NOT_FOUND (no record), store
 * errors. */
enum roost_err roost_admin_delete_instance(struct roost_store *st, struct roost_slice id,
                                           size_t *removed);

/* The instance's record with its usage, as a JSON object (new reference
 * in *out, which must be NULL). Errors: INSTANCE_NOT_FOUND, store errors. */
enum roost_err roost_admin_show(struct roost_store *st, struct roost_slice id,
                                struct json_object **out);

/* Store-wide figures: instances per status, and per partition its file,
 * log, generation, repairs and rebuilds (new reference in *out). */
enum roost_err roost_admin_stats(struct roost_store *st, struct json_object **out);

#endif
