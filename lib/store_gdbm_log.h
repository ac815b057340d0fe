/*
 * store_gdbm_log.h - the write-ahead log of one GDBM store file (X.db.log).
 * Private to the GDBM backend (lib/store_gdbm*.c).
 *
 * Every write (a put, a delete, or a roost_store_apply() of up to
 * ROOST_STORE_APPLY_MAX of them) is appended here as ONE record before the
 * GDBM file is touched, so
 *   - a writer killed anywhere among its gdbm_store()/gdbm_delete() calls is
 *     redone by re-applying every op of the log's last record after
 *     gdbm_recover(), and
 *   - a file that gdbm_recover() cannot repair is rebuilt exactly from
 *     X.db.ckpt (the file as of the checkpoint) plus every record after it.
 * Re-applying a record is idempotent even on a state that already holds
 * part or all of it: each op sets its key to a fixed value or removes it,
 * and the ops are applied in order, so each key the record touches ends as
 * its last op on that key says, whatever it held before.
 *
 * The log holds no state of its own: where it ends, which record is the last
 * one and which checkpoint it follows live in the lock page (store_gdbm.c),
 * which is only written under the file's lock. Bytes past the page's log end
 * are garbage (a torn record of a writer that died mid-append) and the next
 * append overwrites them, so a torn tail never ends up inside the log.
 *
 * Record (layout 2; native byte order and fixed-width fields: the log is read
 * only on the machine that wrote it, by the same layout version):
 *   off  0  u32 magic      ROOST_STORE_GDBM_LOG_MAGIC ("RLG2")
 *   off  4  u32 count      ops in the record, 1..ROOST_STORE_APPLY_MAX
 *   off  8  u64 seq        generation the write creates (page gen + 1)
 *   off 16  u64 body       bytes after the header (op table, keys, values)
 *   off 24  u64 sum        checksum (below)
 *   off 32  op table, count entries of ROOST_STORE_GDBM_LOG_ENTRY bytes:
 *             u8  op        ROOST_STORE_GDBM_LOG_PUT or _DEL
 *             u8  pad[3]    zero
 *             u32 key_len
 *             u32 value_len 0 for a delete
 *           then, op after op in table order, its key bytes and value bytes.
 * The sum chains roost_store_gdbm_log_sum() over bytes 0..23, the op table,
 * then each key and each value, every call seeded with the previous result.
 * A put or a delete is a record of one op (12 bytes more than layout 1).
 *
 *   struct roost_store_op ops[2] = { ... };
 *   uint64_t end;
 *   if (roost_store_gdbm_log_append(fd, off, seq, ops, 2, &end) < 0) ...errno...
 *   struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
 *   int r = roost_store_gdbm_log_read(fd, off, limit, &rec);  // 1 valid
 *   for (size_t i = 0; i < rec.n; i++) ...rec.ops[i]...
 *   roost_store_gdbm_log_rec_release(&rec);
 */
#ifndef ROOST_STORE_GDBM_LOG_H
#define ROOST_STORE_GDBM_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#define ROOST_STORE_GDBM_LOG_MAGIC 0x32474c52u /* "RLG2" */
#define ROOST_STORE_GDBM_LOG_HEADER 32
#define ROOST_STORE_GDBM_LOG_ENTRY 12

/* Op codes on disk (store.h's enum roost_store_op_kind is not). */
enum roost_store_gdbm_log_op {
    ROOST_STORE_GDBM_LOG_PUT = 1,
    ROOST_STORE_GDBM_LOG_DEL = 2,
};

/* One record read back. The ops' keys and values point into buf; all valid
 * until the next read into the same rec or its release. A delete's value is
 * the null slice. */
struct roost_store_gdbm_log_rec {
    uint64_t seq;
    uint64_t off;                  /* where the record starts */
    uint64_t end;                  /* offset just past it */
    size_t n;                      /* ops */
    struct roost_store_op *ops;
    size_t ops_alloc;
    struct roost_buf buf;          /* owns the op table, keys and values */
};

#define ROOST_STORE_GDBM_LOG_REC_INIT { 0, 0, 0, 0, NULL, 0, ROOST_BUF_INIT }

void roost_store_gdbm_log_rec_release(struct roost_store_gdbm_log_rec *rec);

/* Bytes a record of these ops takes in the log (a delete's value slice is
 * ignored: it is logged as empty). */
uint64_t roost_store_gdbm_log_rec_size(const struct roost_store_op *ops, size_t n);

/* Writes one record of ops[0..n) at off with pwritev (never O_APPEND: see
 * above) and sets *end to the offset just past it. 1 <= n <=
 * ROOST_STORE_APPLY_MAX; every key and value length must fit in 32 bits
 * (the store refuses larger entries before calling): else -1 with EINVAL or
 * EFBIG and nothing written.
 * Returns 0, or -1 with errno set (nothing is known about the bytes at off). */
int roost_store_gdbm_log_append(int fd, uint64_t off, uint64_t seq,
                                const struct roost_store_op *ops, size_t n, uint64_t *end);

/* Reads the record at off, which must end at or before limit.
 * Returns 1 when a whole record with a valid checksum is there, 0 when not
 * (torn, garbage, past the end of the file), -1 on a read error (errno). */
int roost_store_gdbm_log_read(int fd, uint64_t off, uint64_t limit,
                              struct roost_store_gdbm_log_rec *rec);

/* The checksum: 64-bit, four independent lanes over 8-byte words (an FNV-1a
 * multiply followed by an xorshift per word), then FNV-1a over the lane
 * results and the tail bytes. Measured: 0.09 ms per MiB, against 1.5 ms
 * for byte-wise FNV-1a 64, which alone would cost three times a whole
 * 1 MiB put (0.45 ms, DESIGN.md "Store", point 10). Every step is a
 * bijection of the lane state, so any change confined to one word is
 * always detected, and the xorshift carries high bits down so that two
 * changes in one lane do not cancel. It detects torn and stale records;
 * it is not a defence against an attacker. */
uint64_t roost_store_gdbm_log_sum(uint64_t seed, const void *data, size_t len);

#endif
