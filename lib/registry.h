/*
 * registry.h - instance records in the store's META area.
 *
 *   struct roost_instance inst;
 *   roost_instance_init(&inst);
 *   err = roost_registry_resolve(st, id, auto_create, now, &inst, &created);
 *   if (!err) err = roost_instance_servable(inst.status);
 *   roost_instance_release(&inst);
 */
#ifndef ROOST_REGISTRY_H
#define ROOST_REGISTRY_H

#include "clock.h"
#include "error.h"
#include "instance.h"
#include "store.h"

/* Loads the record of id into inst. Errors: INSTANCE_NOT_FOUND,
 * STORE_CORRUPT (record unreadable), store errors. */
enum roost_err roost_registry_get(struct roost_store *st, struct roost_slice id,
                                  struct roost_instance *inst);

/* Loads the record of id; when there is none and auto_create is set,
 * creates it with the spec's defaults (created_at = last_active = now) in
 * the same lock scope, so concurrent first requests on several workers
 * create it exactly once. created (may be NULL) says which happened.
 * spec: "Instances are automatically created when first accessed."
 * Errors: INSTANCE_NOT_FOUND (none and !auto_create), store errors. */
enum roost_err roost_registry_resolve(struct roost_store *st, struct roost_slice id,
                                      int auto_create, int64_t now,
                                      struct roost_instance *inst, int *created);

/* Writes inst's record, replacing any existing one. */
enum roost_err roost_registry_put(struct roost_store *st, const struct roost_instance *inst);

struct json_object;

/* Creates an instance from a JSON object ({"id": ..., any field of
 * roost_instance_apply_patch}); missing fields take the spec's defaults,
 * created_at = last_active = now. inst receives the stored record.
 * Errors: INVALID_REQUEST (no or bad "id", bad fields), INVALID_STATUS,
 * INVALID_INSTANCE_ID, INSTANCE_EXISTS, store errors. */
enum roost_err roost_registry_create(struct roost_store *st, const struct json_object *fields,
                                     int64_t now, struct roost_instance *inst,
                                     struct roost_buf *detail);

/* Applies a patch (roost_instance_apply_patch) to the stored record under
 * one lock; inst receives the result. Errors: INSTANCE_NOT_FOUND, the
 * patch's errors, store errors. */
enum roost_err roost_registry_update(struct roost_store *st, struct roost_slice id,
                                     const struct json_object *patch, struct roost_instance *inst,
                                     struct roost_buf *detail);

/* Sets the status (any state from any state: DESIGN.md "API rules").
 * Errors: INSTANCE_NOT_FOUND, store errors. */
enum roost_err roost_registry_set_status(struct roost_store *st, struct roost_slice id,
                                         enum roost_instance_status status);

/* Removes the record (not the data: see roost_admin_delete_instance).
 * Errors: INSTANCE_NOT_FOUND, store errors. */
enum roost_err roost_registry_remove(struct roost_store *st, struct roost_slice id);

/* Activity tracking (spec "Activity Tracking"): sets last_active = now if
 * the stored value is at least ROOST_ACTIVITY_INTERVAL old, re-checked
 * under the lock so that workers racing on the same instance write once.
 * written (may be NULL) says whether it wrote. A missing instance is OK
 * (deleted meanwhile), written = 0. */
enum roost_err roost_registry_touch(struct roost_store *st, struct roost_slice id, int64_t now,
                                    int *written);

/* One page of instances in id order: those with id > after (empty: from
 * the start), of the given status (-1: any), at most limit of them. fn is
 * called per instance, in order, with no lock held. more is set to 1 when
 * further instances follow the page. Errors: store errors, or fn's. */
typedef enum roost_err (*roost_registry_list_fn)(void *arg, const struct roost_instance *inst);
enum roost_err roost_registry_list(struct roost_store *st, int status, struct roost_slice after,
                                   size_t limit, roost_registry_list_fn fn, void *arg, int *more);

#endif
