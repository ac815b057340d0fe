/*
 * store_gdbm_int.h - what the two halves of the GDBM backend share:
 * store_gdbm.c (open, scopes, reads, writes, compaction) and
 * store_gdbm_repair.c (checkpoints, crash repair, rebuilds, leftover
 * temporaries). Private to lib/store_gdbm*.c; the design is at the top of
 * store_gdbm.c.
 *
 * Every function here expects the caller to hold the file's lock.
 */
#ifndef ROOST_STORE_GDBM_INT_H
#define ROOST_STORE_GDBM_INT_H

#include <gdbm.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "limits.h" /* lib/limits.h: ROOST_STORE_SHARDS */
#include "store.h"
#include "store_gdbm.h"

/* File 0 is meta.db; files 1..ROOST_STORE_SHARDS are the DATA shards. */
#define STORE_FILES (1 + ROOST_STORE_SHARDS)
#define META_PART 0

#define LOCK_PAGE_SIZE 4096

#define NO_OFFSET UINT64_MAX

struct lock_page {
    char magic[8];
    uint32_t layout;
    uint32_t shards;
    uint64_t gen;          /* bumped by every write, repair, compaction */
    uint64_t dirty;        /* pid of a writer between commit and done; 0 clean */
    uint64_t log_end;      /* bytes of log that count */
    uint64_t last_rec;     /* offset of the last committed record (for tools;
                            * a repair goes by the pending fields) */
    uint64_t pending_off;  /* record of the latest write attempt, NO_OFFSET
                            * once a repair has dealt with it */
    uint64_t pending_end;
    uint64_t ckpt_gen;     /* generation X.db.ckpt holds */
    uint64_t ckpt_size;    /* size of X.db at that checkpoint */
    uint64_t compact_size; /* size of X.db after the last compaction */
    uint64_t repairs;      /* repairs since the page was made (diagnostics) */
    uint64_t rebuilds;     /* of which: rebuilt from checkpoint and log */
};

_Static_assert(sizeof(struct lock_page) <= LOCK_PAGE_SIZE, "lock page fits one page");

/* Page fields are read and written only under the file's lock, so other
 * processes need no atomics; the stores are atomic so that the compiler
 * keeps their order and never tears one, because a SIGKILL between any two
 * of them leaves the page as written so far, and a repair depends on the
 * order (see write_logged() in store_gdbm.c). */
#define PG_GET(f, field) __atomic_load_n(&(f)->page->field, __ATOMIC_ACQUIRE)
#define PG_SET(f, field, v) __atomic_store_n(&(f)->page->field, (v), __ATOMIC_RELEASE)

struct gfile {
    char *db_path;
    char *lock_path;
    char *log_path;
    char *ckpt_path;
    const char *base;       /* db file name inside the store dir */
    int is_meta;
    int lock_fd;
    int log_fd;
    struct lock_page *page;
    GDBM_FILE dbf;          /* this process's handle, or NULL */
    int dbf_writer;
    uint64_t dbf_gen;       /* page generation dbf was opened at */
    int wrote;              /* process has written the file: open writers */
    int held;               /* this process holds the file's lock */
    uint64_t ckpt_retry_at; /* after a failed checkpoint: log end to retry at */
};

struct roost_store {
    char *dir;
    uid_t dir_uid;          /* owner of the store dir: see store_gdbm_adopt_owner() */
    gid_t dir_gid;
    unsigned long forks;    /* fork_count when opened */
    uint64_t pid;
    int devnull_fd;
    int data_held;          /* index of the DATA file held, or -1 */
    struct roost_store_gdbm_stats stats;
    struct gfile files[STORE_FILES];
};

static inline uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline double ms_since(uint64_t t0)
{
    return (double)(now_us() - t0) / 1000.0;
}

static inline datum slice_datum(struct roost_slice s)
{
    /* GDBM refuses a NULL dptr even for an empty datum, and never writes
     * through the pointers it is given. */
    datum d = { s.ptr ? (char *)s.ptr : (char *)"", (int)s.len };
    return d;
}

/* ---- store_gdbm.c ---- */

/* Mode and owner of a file we just created. */
void store_gdbm_adopt_owner(const struct roost_store *st, int fd);
void store_gdbm_set_cache_size(const struct gfile *f, GDBM_FILE dbf);
/* Closes a handle without the fsync of gdbm_close (writers). */
void store_gdbm_drop_dbf(struct roost_store *st, GDBM_FILE dbf, int writer);
void store_gdbm_drop_handle(struct roost_store *st, struct gfile *f);
void store_gdbm_keep_cloexec(GDBM_FILE dbf);
/* Opens a handle on f's file; STORE_CORRUPT with damage described when a
 * repair could fix it. */
enum roost_err store_gdbm_handle_open(struct roost_store *st, struct gfile *f, int writer,
                                      int for_repair, GDBM_FILE *out, char *damage,
                                      size_t damage_len);

/* ---- store_gdbm_repair.c ---- */

/* Deletes f's leftover temporaries (at open). */
void store_gdbm_remove_temps(struct roost_store *st, struct gfile *f);
/* Copies X.db to X.db.ckpt and empties the log (file clean). */
enum roost_err store_gdbm_checkpoint(struct roost_store *st, struct gfile *f);
/* After a write: a checkpoint once the log has grown enough. */
void store_gdbm_checkpoint_if_due(struct roost_store *st, struct gfile *f);
/* Applies ops[0..n) to dbf in order, idempotently; 0, or -1 with the error
 * on dbf and *what (may be NULL) naming the GDBM call that failed. */
int store_gdbm_apply_ops(GDBM_FILE dbf, const struct roost_store_op *ops, size_t n,
                         const char **what);
/* Repairs f after a writer died mid-write or GDBM found it damaged; leaves
 * a writer handle at the new generation. */
enum roost_err store_gdbm_repair(struct roost_store *st, struct gfile *f, const char *why);
enum roost_err store_gdbm_repair_dirty(struct roost_store *st, struct gfile *f);

#endif
