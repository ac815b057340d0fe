/*
 * store.h - the only way into roost's persistent data.
 *
 * The store holds two areas:
 *   - META: instance records and the instance-config cache (small, hot);
 *   - DATA: cache values, partitioned by instance id. A backend may spread
 *     DATA over several files or nodes; every key of one instance lives in
 *     the same partition, so a scope over an instance sees all of its keys.
 * Keys and values are opaque bytes; keyspace.h builds the keys.
 *
 * Concurrency contract (every backend must keep it):
 *   - Many processes open the same store at once (lighttpd's worker pool,
 *     roostctl). Each process opens it once, after fork, and keeps it.
 *   - Every operation runs inside a scope. A scope holds an exclusive lock
 *     on one partition for its whole life: what a scope reads is the latest
 *     acknowledged state of every process, and what it writes is durable
 *     against process crashes (SIGKILL at any instant) once the operation
 *     returns ROOST_OK. An operation interrupted by a crash is either wholly
 *     applied or not at all when the next scope opens.
 *   - A process holds at most one scope per partition, and when it holds
 *     two, it opened META first and at most one DATA partition; this fixed
 *     order is what keeps processes from deadlocking. Scopes are short:
 *     never hold one across network I/O or while writing a response.
 *
 * Calling sequence:
 *   struct roost_store *st = NULL;
 *   err = roost_store_open(dir, &st);                 // once per process
 *   struct roost_store_scope sc;
 *   err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
 *   err = roost_store_get(&sc, key, &value);          // ROOST_ERR_KEY_NOT_FOUND
 *   err = roost_store_put(&sc, key, value, 0, &existed);
 *   roost_store_end(&sc);                             // always, once begun
 *   roost_store_close(st);                            // clean shutdown
 *
 * The GDBM backend (store_gdbm*.c) is the only implementation for now; no
 * GDBM type, call or file name appears outside those files.
 */
#ifndef ROOST_STORE_H
#define ROOST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct roost_store;

enum roost_store_area {
    ROOST_STORE_META = 0,
    ROOST_STORE_DATA = 1,
};

/* A held lock on one partition. Lives on the caller's stack; its fields are
 * the backend's and must not be touched. Valid from a successful
 * roost_store_begin() until roost_store_end(). */
struct roost_store_scope {
    struct roost_store *store;
    int part;   /* backend's partition index; -1 when not begun */
};

/* Opens (creating if needed) the store in dir. Creates dir (mode 0770) if it
 * is missing. Cheap to call once per process; does not hold any lock after
 * it returns. *out must be NULL; set only on success.
 * Errors: STORE_UNAVAILABLE (cannot create or open: permissions, missing
 * parent, layout written by an incompatible version; the log says which). */
enum roost_err roost_store_open(const char *dir, struct roost_store **out);

/* Flushes (fsync) and closes everything. NULL is a no-op. */
void roost_store_close(struct roost_store *st);

/* Directory the store was opened on; borrowed, valid until close. */
const char *roost_store_dir(const struct roost_store *st);

/* Locks the partition holding META, or the DATA partition of instance_id
 * (ignored for META), repairing it first if a crashed writer left it
 * damaged. Blocks while another process holds it.
 * Errors: STORE_UNAVAILABLE, STORE_CORRUPT, STORE_IO, USAGE (nested scope
 * on the same partition). */
enum roost_err roost_store_begin(struct roost_store *st, enum roost_store_area area,
                                 struct roost_slice instance_id,
                                 struct roost_store_scope *sc);

/* Releases the lock. Safe on a scope whose begin failed. */
void roost_store_end(struct roost_store_scope *sc);

/* Fetches key into *value (replacing its contents).
 * Errors: KEY_NOT_FOUND, STORE_IO, STORE_CORRUPT. */
enum roost_err roost_store_get(struct roost_store_scope *sc, struct roost_slice key,
                               struct roost_buf *value);

/* Reports whether key exists (1) or not (0) in *exists. */
enum roost_err roost_store_exists(struct roost_store_scope *sc, struct roost_slice key,
                                  int *exists);

#define ROOST_STORE_INSERT 0x1 /* fail with STORE_EXISTS if key exists */

/* Stores value under key. existed (may be NULL) is set to 1 if the key
 * held a value before. Acknowledged (crash-durable) when it returns OK.
 * Errors: STORE_EXISTS (with ROOST_STORE_INSERT), STORE_TOO_BIG, STORE_IO. */
enum roost_err roost_store_put(struct roost_store_scope *sc, struct roost_slice key,
                               struct roost_slice value, int flags, int *existed);

/* Removes key. Errors: KEY_NOT_FOUND, STORE_IO. */
enum roost_err roost_store_delete(struct roost_store_scope *sc, struct roost_slice key);

/* One change of a multi-operation write. */
enum roost_store_op_kind {
    ROOST_STORE_OP_PUT,
    ROOST_STORE_OP_DELETE,   /* of a missing key: no error, nothing done */
};
struct roost_store_op {
    enum roost_store_op_kind kind;
    struct roost_slice key;
    struct roost_slice value;   /* PUT only */
};

/* Applies ops[0..n) in order as one write: after a crash at any instant,
 * either all of them are visible or none (the value and the usage figures
 * of a put, the keys of a purge batch). Acknowledged when it returns OK.
 * At most ROOST_STORE_APPLY_MAX ops and ROOST_STORE_APPLY_BYTES bytes of
 * keys and values together. Errors: STORE_TOO_BIG, STORE_IO, USAGE. */
#define ROOST_STORE_APPLY_MAX 1024
#define ROOST_STORE_APPLY_BYTES (80 * 1024 * 1024)
enum roost_err roost_store_apply(struct roost_store_scope *sc, const struct roost_store_op *ops,
                                 size_t n);

/* Calls fn for every key of the scope's partition that starts with prefix
 * (an empty prefix: every key), in no particular order. The key and value
 * slices are borrowed for the duration of the call only. fn returns non-zero
 * to stop early. fn must not write through sc; collect keys and write
 * after iterating.
 * Errors: STORE_IO, STORE_CORRUPT, or whatever fn returned (as roost_err). */
typedef int (*roost_store_iter_fn)(void *arg, struct roost_slice key, struct roost_slice value);
enum roost_err roost_store_iterate(struct roost_store_scope *sc, struct roost_slice prefix,
                                   roost_store_iter_fn fn, void *arg);

/* Number of partitions per area, so tools can visit every DATA partition:
 * roost_store_begin_part() takes an index below this count. */
int roost_store_part_count(const struct roost_store *st, enum roost_store_area area);
enum roost_err roost_store_begin_part(struct roost_store *st, enum roost_store_area area,
                                      int index, struct roost_store_scope *sc);

/* A number that changes whenever the partition of (area, instance_id)
 * changes: every write, repair or compaction, by any process. Read without
 * a scope, in a few nanoseconds. A value a process read under a scope is
 * still current while this number is what it was before that scope began
 * (writers change the number before they change anything), so processes
 * may keep parsed copies of records and check this instead of reading
 * them again. */
uint64_t roost_store_version(const struct roost_store *st, enum roost_store_area area,
                             struct roost_slice instance_id);

/* Rewrites the scope's partition without its free space (roostctl compact). */
enum roost_err roost_store_compact(struct roost_store_scope *sc);

/* Figures of one partition, for roostctl stats and the admin API. */
struct roost_store_part_stats {
    char name[32];              /* backend's name for it, e.g. "kv-03.db" */
    uint64_t file_bytes;        /* size of its data file */
    uint64_t log_bytes;         /* write-ahead log not yet checkpointed */
    uint64_t generation;        /* changes so far */
    uint64_t repairs;           /* crash repairs done */
    uint64_t rebuilds;          /* rebuilds from checkpoint + log */
};
/* Fills *out for the partition the scope holds. */
enum roost_err roost_store_part_stats(struct roost_store_scope *sc, struct roost_store_part_stats *out);

/* Forces everything written so far to stable storage (fsync). */
enum roost_err roost_store_flush(struct roost_store *st);

#endif
