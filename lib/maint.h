/*
 * maint.h - whole-store maintenance for roostctl: dump, load, check,
 * compact. Library code (no FastCGI, no argv): everything here works on an
 * open store through store.h, registry.h and kv.h, under the same locks as
 * the workers, so it is safe while lighttpd is serving.
 *
 * Dump format (JSON lines, one document per line, "\n" after each):
 *   {"type":"roost-dump","version":1}                      first line
 *   {"type":"instance","record":{...}}                     one per instance,
 *       the record's stored JSON form (instance.h), in id order
 *   {"type":"value","instance_id":"...","key":"...",
 *    "content_type":"...","value_base64":"..."}            one per value,
 *       in (instance id, key) byte order; content_type as stored, the
 *       value's bytes in standard padded base64 (binary-safe)
 * Usage figures are not dumped: load recomputes them (kv.h keeps them with
 * every put). The instance-config cache is not dumped either: it is a
 * cache and refills from its source.
 *
 * Consistency while serving: no lock is held while output is written (a
 * slow reader of a pipe must not stall the workers). Records are read in
 * one META scope; each value is read in a scope of its own, so a value
 * written during the dump appears either as it was or as it became, and a
 * key deleted during the dump is left out. For a point-in-time copy, pause
 * the instances (roostctl set-status ID paused) or stop lighttpd first.
 *
 * Calling sequence:
 *   struct roost_maint_dump_stats ds;
 *   err = roost_maint_dump(st, stdout, warn_fn, arg, &ds, &detail);
 *   err = roost_maint_load(st, stdin, ROOST_MAINT_REPLACE, &ls, &detail);
 *   err = roost_maint_check(st, ROOST_MAINT_REPAIR, problem_fn, arg, &cs);
 *   err = roost_maint_compact(st, part_fn, arg);
 */
#ifndef ROOST_MAINT_H
#define ROOST_MAINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"
#include "instance.h"
#include "store.h"

#define ROOST_MAINT_DUMP_TYPE "roost-dump"
#define ROOST_MAINT_DUMP_VERSION 1

/* ---- problems (check, and what dump has to skip) ---- */

enum roost_maint_problem_kind {
    ROOST_MAINT_BAD_RECORD,      /* an instance record that does not parse */
    ROOST_MAINT_BAD_META_KEY,    /* a META key of no known family */
    ROOST_MAINT_BAD_DATA_KEY,    /* a DATA key of no known family, or a key
                                    outside the key syntax (keyspace.h) */
    ROOST_MAINT_BAD_VALUE,       /* a value not in kv.h's on-disk layout */
    ROOST_MAINT_BAD_USAGE,       /* a usage record that does not decode */
    ROOST_MAINT_ORPHAN_KEYS,     /* keys of an instance that has no record */
    ROOST_MAINT_USAGE_MISMATCH,  /* usage figures differ from the keys */
};

/* One problem, handed to the caller's function. Everything is borrowed for
 * the call only. text is one line, without a newline, printable: bytes of
 * ids and keys that could disturb a terminal are written as \xNN. */
struct roost_maint_problem {
    enum roost_maint_problem_kind kind;
    struct roost_slice instance_id;      /* empty when unknown */
    struct roost_instance_usage stored;  /* USAGE_MISMATCH, ORPHAN_KEYS */
    struct roost_instance_usage counted; /* USAGE_MISMATCH, ORPHAN_KEYS */
    int repaired;                        /* 1 when --repair fixed it */
    const char *text;
};
typedef void (*roost_maint_problem_fn)(void *arg, const struct roost_maint_problem *p);

/* ---- dump ---- */

struct roost_maint_dump_stats {
    size_t instances;    /* record lines written */
    size_t values;       /* value lines written */
    uint64_t bytes;      /* value bytes (decoded) written */
    size_t skipped;      /* unreadable records or values left out */
};

/* Writes the whole store to out in the format above. Unreadable records
 * and values, and keys outside the key syntax (which load would refuse),
 * are reported through fn (may be NULL) and left out (counted in
 * stats->skipped; the caller decides whether that fails the dump).
 * stats (may be NULL) is filled. Errors: store errors; INTERNAL when out
 * cannot be written (detail, may be NULL, gets the reason). */
enum roost_err roost_maint_dump(struct roost_store *st, FILE *out, roost_maint_problem_fn fn,
                                void *arg, struct roost_maint_dump_stats *stats,
                                struct roost_buf *detail);

/* ---- load ---- */

/* Instances of the dump that exist in the store are deleted with their
 * data first (roost_admin_delete_instance), so each ends up exactly as in
 * the dump; instances not named in the dump are left alone. Without it,
 * load refuses to touch a store that holds any of the dump's instances. */
#define ROOST_MAINT_REPLACE 0x1

struct roost_maint_load_stats {
    size_t lines;        /* lines read, blank ones included */
    size_t instances;    /* records written */
    size_t values;       /* values written */
    uint64_t bytes;      /* value bytes written */
    size_t replaced;     /* existing instances deleted first (REPLACE) */
};

/* Restores a dump read from in (a pipe is fine: it is spooled to an
 * unlinked temporary file so that it can be read twice).
 * Pass 1 validates every line without writing anything: the first
 * non-blank line must be the header, every other one a record or a value
 * with exactly the members above, valid ids, keys, content types and
 * base64, and no instance record twice. Blank lines are ignored. Then the
 * existing-instance rule above is applied. Pass 2 writes records
 * (roost_registry_put) and values (roost_kv_put, which keeps the usage
 * figures) in the order of the input. So a malformed dump writes nothing;
 * a store error in pass 2 leaves the lines before it applied (running the
 * same load again with REPLACE finishes it).
 * Errors: INVALID_REQUEST (malformed input; detail "line N: reason"),
 * INSTANCE_EXISTS (without REPLACE; detail names the instance), INTERNAL
 * (in cannot be read or spooled; detail says why), store errors (detail
 * names the line). stats (may be NULL) is filled as far as it got. */
enum roost_err roost_maint_load(struct roost_store *st, FILE *in, int flags,
                                struct roost_maint_load_stats *stats, struct roost_buf *detail);

/* ---- check ---- */

#define ROOST_MAINT_REPAIR 0x1

struct roost_maint_check_stats {
    size_t instances;    /* readable instance records */
    size_t keys;         /* values seen */
    uint64_t bytes;      /* usage bytes counted over all instances */
    size_t problems;     /* problems reported */
    size_t repaired;     /* of which REPAIR fixed */
};

/* Verifies the store: every instance record parses and carries the id it
 * is stored under; every key of META and DATA is of a known family; every
 * value is readable and belongs to an instance that has a record; the
 * usage figures of each instance match its keys (keys, and key + value
 * bytes, instance.h). Each problem goes to fn (may be NULL).
 * Usage figures are counted and compared under the partition's lock, so
 * concurrent writes never cause a false report. Keys that seem orphaned
 * are checked again against META (an instance created during the check is
 * not an orphan).
 * With REPAIR: wrong usage figures are rewritten under that same lock, and
 * orphaned keys (and usage records) are removed under META + DATA locks,
 * each batch only after confirming again that no record exists. Unreadable
 * records and values are reported, never removed.
 * Returns OK when the check ran (look at stats->problems); errors: store
 * errors. */
enum roost_err roost_maint_check(struct roost_store *st, int flags, roost_maint_problem_fn fn,
                                 void *arg, struct roost_maint_check_stats *stats);

/* ---- compact ---- */

/* Called after each partition is compacted, with its figures before and
 * after and the time it took. */
typedef void (*roost_maint_compact_fn)(void *arg, const struct roost_store_part_stats *before,
                                       const struct roost_store_part_stats *after,
                                       double milliseconds);

/* Reorganizes every partition (META, then each DATA partition), one lock
 * scope each, so requests on the other partitions go on meanwhile.
 * fn may be NULL. Stops at the first error. */
enum roost_err roost_maint_compact(struct roost_store *st, roost_maint_compact_fn fn, void *arg);

/* ---- helpers shared with roostctl ---- */

/* Appends s to out for a one-line message: as it is when s is valid UTF-8
 * without control characters; otherwise printable ASCII as it is and every
 * other byte (and the backslash) as \xNN. */
void roost_maint_append_printable(struct roost_buf *out, struct roost_slice s);

#endif
