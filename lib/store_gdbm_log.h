/*
 * store_gdbm_log.h - the write-ahead log of one GDBM store file (X.db.log).
 * Private to the GDBM backend (lib/store_gdbm*.c).
 *
 * Every put and delete is appended here before the GDBM file is touched, so
 *   - a writer killed inside gdbm_store()/gdbm_delete() is redone by
 *     re-applying the log's last record after gdbm_recover(), and
 *   - a file that gdbm_recover() cannot repair is rebuilt exactly from
 *     X.db.ckpt (the file as of the checkpoint) plus every record after it.
 *
 * The log holds no state of its own: where it ends, which record is the last
 * one and which checkpoint it follows live in the lock page (store_gdbm.c),
 * which is only written under the file's lock. Bytes past the page's log end
 * are garbage (a torn record of a writer that died mid-append) and the next
 * append overwrites them, so a torn tail never ends up inside the log.
 *
 * Record (native byte order and fixed-width fields: the log is read only on
 * the machine that wrote it, by the same layout version):
 *   off  0  u32 magic      ROOST_STORE_GDBM_LOG_MAGIC
 *   off  4  u8  op         ROOST_STORE_GDBM_LOG_PUT or _DEL
 *   off  5  u8  pad[3]     zero
 *   off  8  u64 seq        generation the write creates (page gen + 1)
 *   off 16  u32 key_len
 *   off 20  u32 value_len  0 for a delete
 *   off 24  u64 sum        checksum of bytes 0..23, the key and the value
 *   off 32  key bytes, then value bytes
 *
 *   uint64_t end;
 *   if (roost_store_gdbm_log_append(fd, off, seq, ROOST_STORE_GDBM_LOG_PUT,
 *                                   key, value, &end) < 0) ...errno...
 *   struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
 *   int r = roost_store_gdbm_log_read(fd, off, limit, &rec);  // 1 valid
 *   roost_store_gdbm_log_rec_release(&rec);
 */
#ifndef ROOST_STORE_GDBM_LOG_H
#define ROOST_STORE_GDBM_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ROOST_STORE_GDBM_LOG_MAGIC 0x31474c52u /* "RLG1" */
#define ROOST_STORE_GDBM_LOG_HEADER 32

enum roost_store_gdbm_log_op {
    ROOST_STORE_GDBM_LOG_PUT = 1,
    ROOST_STORE_GDBM_LOG_DEL = 2,
};

/* One record read back. key and value point into buf; valid until the next
 * read into the same rec or its release. */
struct roost_store_gdbm_log_rec {
    uint64_t seq;
    int op;
    uint64_t off;              /* where the record starts */
    uint64_t end;              /* offset just past it */
    struct roost_slice key;
    struct roost_slice value;
    struct roost_buf buf;      /* owns key and value bytes */
};

#define ROOST_STORE_GDBM_LOG_REC_INIT { 0, 0, 0, 0, ROOST_SLICE_NULL, ROOST_SLICE_NULL, ROOST_BUF_INIT }

void roost_store_gdbm_log_rec_release(struct roost_store_gdbm_log_rec *rec);

/* Bytes a record of these sizes takes in the log. */
uint64_t roost_store_gdbm_log_rec_size(size_t key_len, size_t value_len);

/* Writes one record at off with pwrite (never O_APPEND: see above) and sets
 * *end to the offset just past it. key_len and value_len must each fit in
 * 32 bits (the store refuses larger entries before calling).
 * Returns 0, or -1 with errno set (nothing is known about the bytes at off). */
int roost_store_gdbm_log_append(int fd, uint64_t off, uint64_t seq, int op,
                                struct roost_slice key, struct roost_slice value,
                                uint64_t *end);

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
