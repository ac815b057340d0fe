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

#endif
