/*
 * store_gdbm.h - what the GDBM backend shows beyond store.h: counters and
 * the state of one partition for roostctl-style diagnostics, and hooks that
 * let its unit test stage a crash at a chosen instant. Nothing here names a
 * GDBM type; callers outside lib/store_gdbm* and tests/unit/test_store.c
 * should not need this header.
 *
 *   struct roost_store_gdbm_stats s;
 *   roost_store_gdbm_get_stats(st, &s);        // per process, since open
 *   struct roost_store_gdbm_info info;
 *   roost_store_gdbm_get_info(&sc, &info);      // under a scope
 */
#ifndef ROOST_STORE_GDBM_H
#define ROOST_STORE_GDBM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* What this process has done since roost_store_open(). */
struct roost_store_gdbm_stats {
    unsigned long handle_opens;   /* GDBM handles opened (first use or reopen) */
    unsigned long stale_reopens;  /* of which: another process changed the file */
    unsigned long upgrades;       /* reader handles replaced by writers */
    unsigned long recoveries;     /* repairs after a crashed writer or damage */
    unsigned long rebuilds;       /* of which: rebuilt from checkpoint + log */
    unsigned long replays;        /* log's last record re-applied by a repair */
    unsigned long checkpoints;
    unsigned long compactions;
    unsigned long temps_removed;  /* leftover temporaries deleted at open */
};

void roost_store_gdbm_get_stats(const struct roost_store *st, struct roost_store_gdbm_stats *out);

/* The lock page of the scope's partition. */
struct roost_store_gdbm_info {
    uint64_t gen;           /* bumped by every write, repair and compaction */
    uint64_t dirty_pid;     /* writer that died mid-write, 0 when clean */
    uint64_t log_end;       /* bytes of log since the last checkpoint */
    uint64_t ckpt_gen;      /* generation the checkpoint holds */
    uint64_t ckpt_size;     /* size of the file at the last checkpoint */
    uint64_t compact_size;  /* size after the last compaction, 0 if never */
    uint64_t file_size;     /* size of the data file now */
    uint64_t repairs;       /* repairs since the lock page was made */
    uint64_t rebuilds;      /* of which: rebuilt from checkpoint and log */
};

enum roost_err roost_store_gdbm_get_info(struct roost_store_scope *sc,
                                         struct roost_store_gdbm_info *out);

/* Path of a partition's data file (index as for roost_store_begin_part());
 * borrowed, valid until close; NULL if out of range. For tools and tests
 * that must name the file, e.g. to damage it on purpose. */
const char *roost_store_gdbm_path(const struct roost_store *st, enum roost_store_area area,
                                  int index);

/* ---- Test hooks: they break the store's guarantees on purpose. ---- */

/* Marks the scope's partition as left by a writer that died mid-write, as
 * process pid; the next scope on it repairs it. */
enum roost_err roost_store_gdbm_test_mark_dirty(struct roost_store_scope *sc, pid_t pid);

/* Runs a write like roost_store_apply() (or, for put_partial, a put of one
 * key) but stops where a SIGKILL could:
 *   AFTER_LOG: the whole record is in the log but not committed (the page is
 *     untouched): the write must vanish;
 *   TORN_LOG: only the first half of the record reached the log (it is cut
 *     there), nothing committed: the write must vanish;
 *   BEFORE_GEN: the record is logged and the page marks it pending and the
 *     file dirty, but the generation (the commit point) did not move: the
 *     next scope repairs the file and the write must vanish;
 *   AFTER_COMMIT: the record is committed and the file marked dirty, but
 *     GDBM was not called: the next scope must redo the whole write;
 *   MID_APPLY: committed, and the first `done` ops (of n) went through GDBM:
 *     the next scope must redo the whole write.
 * Returns OK once stopped there (the scope stays usable only for ending it). */
enum roost_store_gdbm_test_stop {
    ROOST_STORE_GDBM_TEST_STOP_AFTER_LOG = 1,
    ROOST_STORE_GDBM_TEST_STOP_AFTER_COMMIT = 2,
    ROOST_STORE_GDBM_TEST_STOP_TORN_LOG = 3,
    ROOST_STORE_GDBM_TEST_STOP_BEFORE_GEN = 4,
    ROOST_STORE_GDBM_TEST_STOP_MID_APPLY = 5,
};
enum roost_err roost_store_gdbm_test_put_partial(struct roost_store_scope *sc,
                                                 struct roost_slice key,
                                                 struct roost_slice value,
                                                 enum roost_store_gdbm_test_stop stop);
enum roost_err roost_store_gdbm_test_apply_partial(struct roost_store_scope *sc,
                                                   const struct roost_store_op *ops, size_t n,
                                                   enum roost_store_gdbm_test_stop stop,
                                                   size_t done);

#endif
