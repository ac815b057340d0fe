/*
 * store_gdbm_repair.c - the GDBM backend's recovery side: checkpoints,
 * repair after a writer died mid-write (gdbm_recover, then redo of the
 * committed record), rebuild from checkpoint + log, and the temporaries
 * all of these leave behind if they die. The design and the measurements
 * behind it are at the top of store_gdbm.c; the log format is in
 * store_gdbm_log.h. Every function runs with the file's lock held.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "store.h"
#include "store_gdbm.h"
#include "store_gdbm_int.h"
#include "store_gdbm_log.h"

/* Smallest log that triggers a checkpoint; see ckpt_threshold(). */
#define CKPT_LOG_MIN (1024 * 1024)

/* mkstemp names as GDBM's own temporaries (gdbm_recover, gdbm_reorganize):
 * "X.db." plus six letters or digits. One pattern, one cleanup rule. */
static char *temp_template(const struct gfile *f)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "%s.XXXXXX", f->db_path);
    return roost_buf_detach(&b, NULL);
}

static int is_temp_name(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || name[n] != '.' || strlen(name + n + 1) != 6)
        return 0;
    for (const char *s = name + n + 1; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* Deletes f's leftover temporaries. The caller holds f's lock, and every
 * temporary is made and renamed (or removed) under it, so any temporary
 * seen now belongs to a process that died. */
void store_gdbm_remove_temps(struct roost_store *st, struct gfile *f)
{
    DIR *d = opendir(st->dir);
    if (!d) {
        roost_log(ROOST_LOG_WARN, "store", "cannot list '%s': %s", st->dir, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_temp_name(de->d_name, f->base))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
            st->stats.temps_removed++;
            roost_log(ROOST_LOG_INFO, "store", "removed leftover temporary '%s/%s'", st->dir,
                      de->d_name);
        } else if (errno != ENOENT) {
            roost_log(ROOST_LOG_WARN, "store", "cannot remove leftover temporary '%s/%s': %s",
                      st->dir, de->d_name, strerror(errno));
        }
    }
    closedir(d);
}

/* Copies size bytes of src to dst from offset 0; 0 or -1 with errno. */
static int copy_fd(int src, int dst, uint64_t size)
{
    loff_t in = 0, outpos = 0;
    while ((uint64_t)in < size) {
        ssize_t n = copy_file_range(src, &in, dst, &outpos, (size_t)(size - (uint64_t)in), 0);
        if (n > 0)
            continue;
        if (n == 0) {
            errno = EIO; /* the source shrank under the lock: not ours */
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
            return -1;
        /* Filesystems without copy_file_range: plain copy. */
        char buf[65536];
        while ((uint64_t)in < size) {
            size_t want = size - (uint64_t)in < sizeof(buf) ? (size_t)(size - (uint64_t)in)
                                                             : sizeof(buf);
            ssize_t r = pread(src, buf, want, in);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r == 0)
                    errno = EIO;
                return -1;
            }
            for (ssize_t done = 0; done < r;) {
                ssize_t w = pwrite(dst, buf + done, (size_t)(r - done), outpos);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    return -1;
                done += w;
                outpos += w;
            }
            in += r;
        }
    }
    return 0;
}

/*
 * Checkpoint when the log passes max(1 MiB, file size / 4). A fixed 1 MiB
 * would copy the whole file per MiB written: 170 MiB copied per MiB of
 * writes on a large shard. A quarter of the file bounds the copying to 4
 * bytes per byte logged, and a rebuild then replays at most a quarter of
 * the file's size. The size is the one at the last checkpoint, so no write
 * pays a stat; it lags the real size by at most one checkpoint.
 */
static uint64_t ckpt_threshold(const struct gfile *f)
{
    uint64_t quarter = PG_GET(f, ckpt_size) / 4;
    return quarter > CKPT_LOG_MIN ? quarter : CKPT_LOG_MIN;
}

/* Copies X.db to X.db.ckpt and empties the log (lock held, file clean). */
enum roost_err store_gdbm_checkpoint(struct roost_store *st, struct gfile *f)
{
    enum roost_err err = ROOST_ERR_STORE_IO;
    uint64_t t0 = now_us();
    char *tmp = temp_template(f);
    int renamed = 0, src = -1;
    struct stat sb;

    int dst = mkostemp(tmp, O_CLOEXEC);
    if (dst < 0) {
        roost_log(ROOST_LOG_WARN, "store", "cannot checkpoint '%s': creating '%s': %s",
                  f->db_path, tmp, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    store_gdbm_adopt_owner(st, dst);
    src = open(f->db_path, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &sb) < 0 || copy_fd(src, dst, (uint64_t)sb.st_size) < 0) {
        roost_log(ROOST_LOG_WARN, "store", "cannot checkpoint '%s': copying: %s", f->db_path,
                  strerror(errno));
        goto out;
    }
    int rc = close(dst);
    dst = -1;
    if (rc < 0 || rename(tmp, f->ckpt_path) < 0) {
        roost_log(ROOST_LOG_WARN, "store", "cannot checkpoint '%s': writing '%s': %s",
                  f->db_path, f->ckpt_path, strerror(errno));
        goto out;
    }
    renamed = 1;
    /* Death between the rename and here leaves a checkpoint that already
     * holds the log's records: replaying them again is harmless, as each
     * sets its key to a fixed value. Log end goes to 0 before the log is
     * truncated, never after: a log end past the end of the file would
     * make the next record leave a hole in the log. */
    PG_SET(f, ckpt_gen, PG_GET(f, gen));
    PG_SET(f, ckpt_size, (uint64_t)sb.st_size);
    PG_SET(f, pending_off, NO_OFFSET);
    PG_SET(f, last_rec, NO_OFFSET);
    PG_SET(f, log_end, 0);
    if (ftruncate(f->log_fd, 0) < 0)
        roost_log(ROOST_LOG_WARN, "store", "cannot truncate '%s': %s", f->log_path,
                  strerror(errno));
    st->stats.checkpoints++;
    roost_log(ROOST_LOG_DEBUG, "store", "checkpointed '%s': %lld bytes in %.1f ms", f->db_path,
              (long long)sb.st_size, ms_since(t0));
    err = ROOST_OK;
out:
    if (dst >= 0)
        close(dst);
    if (src >= 0)
        close(src);
    if (!renamed && tmp[0])
        unlink(tmp);
    free(tmp);
    return err;
}

void store_gdbm_checkpoint_if_due(struct roost_store *st, struct gfile *f)
{
    uint64_t log_end = PG_GET(f, log_end);
    if (log_end > ckpt_threshold(f) && log_end >= f->ckpt_retry_at
        && store_gdbm_checkpoint(st, f) != ROOST_OK) {
        /* Logged already. The log keeps every write meanwhile; do not
         * copy the whole file again on every write while, say, the disk
         * is full: retry after another CKPT_LOG_MIN of log. */
        f->ckpt_retry_at = log_end + CKPT_LOG_MIN;
    }
}

/* Applies ops[0..n) to dbf in order; 0, or -1 with the error on dbf and
 * *what (may be NULL) naming the GDBM call that failed. A delete of a
 * missing key does nothing. Idempotent as a whole (store_gdbm_log.h):
 * applying the ops again to a file that holds none, some or all of them
 * leaves the same contents, so a repair may redo a whole record whatever
 * part of it the dead writer got to. */
int store_gdbm_apply_ops(GDBM_FILE dbf, const struct roost_store_op *ops, size_t n,
                         const char **what)
{
    for (size_t i = 0; i < n; i++) {
        datum k = slice_datum(ops[i].key);
        if (ops[i].kind == ROOST_STORE_OP_PUT) {
            if (gdbm_store(dbf, k, slice_datum(ops[i].value), GDBM_REPLACE) != 0) {
                if (what)
                    *what = "gdbm_store";
                return -1;
            }
        } else if (gdbm_delete(dbf, k) != 0 && gdbm_last_errno(dbf) != GDBM_ITEM_NOT_FOUND) {
            if (what)
                *what = "gdbm_delete";
            return -1;
        }
    }
    return 0;
}

struct repair_report {
    const char *method;
    char rebuild_why[200];  /* why gdbm_recover was not enough */
    size_t keys_ok;
    size_t keys_failed;
    size_t buckets_failed;
    size_t records;        /* log records replayed by a rebuild */
    int replayed;          /* last record re-applied after gdbm_recover */
};

static const char gdbm_recover_method[] = "gdbm_recover";

static void rcvr_errfun(void *data, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rcvr_errfun(void *data, const char *fmt, ...)
{
    const struct gfile *f = data;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    roost_log(ROOST_LOG_DEBUG, "store", "recovering '%s': %s", f->db_path, msg);
}

/* Rebuilds X.db from X.db.ckpt plus every log record after it, through a
 * temporary renamed over X.db (lock held). Errors are logged here. */
static enum roost_err rebuild(struct roost_store *st, struct gfile *f, struct repair_report *rp)
{
    enum roost_err err = ROOST_ERR_STORE_CORRUPT;
    struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
    GDBM_FILE dbf = NULL;
    char *tmp = temp_template(f);
    int renamed = 0, src = -1;
    uint64_t size = 0;

    int dst = mkostemp(tmp, O_CLOEXEC);
    if (dst < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot create '%s': %s", tmp, strerror(errno));
        tmp[0] = '\0';
        err = ROOST_ERR_STORE_IO;
        goto out;
    }
    store_gdbm_adopt_owner(st, dst);
    src = open(f->ckpt_path, O_RDONLY | O_CLOEXEC);
    if (src < 0 && !(errno == ENOENT && PG_GET(f, ckpt_gen) == 0)) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot open checkpoint '%s': %s", f->ckpt_path,
                  strerror(errno));
        goto out;
    }
    /* No checkpoint ever taken (ckpt gen 0): the log holds every write since
     * the file was created empty, so start from an empty file. */
    if (src >= 0) {
        struct stat sb;
        if (fstat(src, &sb) < 0 || copy_fd(src, dst, (uint64_t)sb.st_size) < 0) {
            roost_log(ROOST_LOG_ERROR, "store", "cannot copy checkpoint '%s': %s", f->ckpt_path,
                      strerror(errno));
            err = ROOST_ERR_STORE_IO;
            goto out;
        }
        size = (uint64_t)sb.st_size;
    }
    dbf = gdbm_fd_open(dst, tmp, 0,
                       (size ? GDBM_WRITER : GDBM_NEWDB) | GDBM_NOLOCK | GDBM_NOMMAP
                           | GDBM_CLOEXEC | GDBM_CLOERROR,
                       NULL);
    dst = -1; /* the handle owns it now, or GDBM closed it */
    if (!dbf) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot open checkpoint '%s': %s", f->ckpt_path,
                  gdbm_strerror(gdbm_errno));
        goto out;
    }
    store_gdbm_set_cache_size(f, dbf);

    uint64_t off = 0, end = PG_GET(f, log_end), ckpt_gen = PG_GET(f, ckpt_gen);
    while (off < end) {
        int r = roost_store_gdbm_log_read(f->log_fd, off, end, &rec);
        if (r < 0) {
            roost_log(ROOST_LOG_ERROR, "store", "cannot read '%s': %s", f->log_path,
                      strerror(errno));
            err = ROOST_ERR_STORE_IO;
            goto out;
        }
        if (r == 0) {
            /* Crashes cannot leave a bad record before the log end (the
             * end moves only past a whole record); this is damage from
             * outside. Keep what can be kept, and say so loudly. */
            roost_log(ROOST_LOG_ERROR, "store",
                      "log '%s' is damaged at offset %llu of %llu: writes after it are lost",
                      f->log_path, (unsigned long long)off, (unsigned long long)end);
            break;
        }
        if (rec.seq > ckpt_gen) {
            if (store_gdbm_apply_ops(dbf, rec.ops, rec.n, NULL) < 0) {
                roost_log(ROOST_LOG_ERROR, "store", "cannot replay '%s' into '%s': %s",
                          f->log_path, tmp, gdbm_db_strerror(dbf));
                err = ROOST_ERR_STORE_IO;
                goto out;
            }
            rp->records++;
        }
        off = rec.end;
    }
    /* A rebuild is rare and not on the request path: let gdbm_close fsync
     * it (the name GDBM holds is the temporary's, so it cannot stay open). */
    int rc = gdbm_close(dbf);
    dbf = NULL;
    if (rc != 0 || rename(tmp, f->db_path) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot write '%s': %s", f->db_path, strerror(errno));
        err = ROOST_ERR_STORE_IO;
        goto out;
    }
    renamed = 1;
    err = ROOST_OK;
out:
    if (dbf)
        store_gdbm_drop_dbf(st, dbf, 1);
    if (dst >= 0)
        close(dst);
    if (src >= 0)
        close(src);
    if (!renamed && tmp[0])
        unlink(tmp);
    free(tmp);
    roost_store_gdbm_log_rec_release(&rec);
    return err;
}

/*
 * Repairs f (lock held) after a writer died mid-write (dirty set) or GDBM
 * found the file damaged; see the top of the file. On success f has a
 * writer handle at the new generation; on failure dirty stays as it was, so
 * the next scope tries again.
 */
enum roost_err store_gdbm_repair(struct roost_store *st, struct gfile *f, const char *why)
{
    uint64_t t0 = now_us();
    struct repair_report rp = { .method = gdbm_recover_method };
    struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
    GDBM_FILE dbf = NULL;
    char damage[160];
    int pending = 0;
    enum roost_err err;

    store_gdbm_drop_handle(st, f);
    if (PG_GET(f, dirty)) {
        uint64_t off = PG_GET(f, pending_off), end = PG_GET(f, pending_end);
        /* gen == seq means the writer got past its commit point: the write
         * (every op of its record) must be applied. Otherwise it died
         * before and GDBM was not touched: the write never happened. */
        if (off != NO_OFFSET && roost_store_gdbm_log_read(f->log_fd, off, end, &rec) == 1
            && rec.end == end && rec.seq == PG_GET(f, gen)) {
            pending = 1;
            /* Finish the commit in case the writer died before these. */
            PG_SET(f, last_rec, off);
            PG_SET(f, log_end, end);
        }
    }

    err = store_gdbm_handle_open(st, f, 1, 1, &dbf, damage, sizeof(damage));
    if (err == ROOST_OK) {
        gdbm_recovery rcvr;
        memset(&rcvr, 0, sizeof(rcvr));
        rcvr.errfun = rcvr_errfun;
        rcvr.data = f;
        int rc = gdbm_recover(dbf, &rcvr, GDBM_RCVR_FORCE | GDBM_RCVR_ERRFUN);
        free(rcvr.backup_name);
        rp.keys_ok = rcvr.recovered_keys;
        rp.keys_failed = rcvr.failed_keys;
        rp.buckets_failed = rcvr.failed_buckets;
        if (rc == 0)
            store_gdbm_keep_cloexec(dbf);
        if (rc == 0 && !rcvr.failed_keys && !rcvr.failed_buckets
            && (!pending || store_gdbm_apply_ops(dbf, rec.ops, rec.n, NULL) == 0)) {
            rp.replayed = pending;
            goto done;
        }
        if (rc != 0)
            snprintf(rp.rebuild_why, sizeof(rp.rebuild_why), "gdbm_recover failed: %s",
                     gdbm_db_strerror(dbf));
        else if (rcvr.failed_keys || rcvr.failed_buckets)
            snprintf(rp.rebuild_why, sizeof(rp.rebuild_why),
                     "gdbm_recover lost %zu keys and %zu buckets", rp.keys_failed,
                     rp.buckets_failed);
        else
            snprintf(rp.rebuild_why, sizeof(rp.rebuild_why),
                     "cannot re-apply the last logged write: %s", gdbm_db_strerror(dbf));
        store_gdbm_drop_dbf(st, dbf, 1);
        dbf = NULL;
    } else if (damage[0]) {
        snprintf(rp.rebuild_why, sizeof(rp.rebuild_why), "cannot open it: %s", damage);
    } else {
        goto out;
    }

    rp.method = "rebuilt from checkpoint and log";
    st->stats.rebuilds++;
    err = rebuild(st, f, &rp);
    if (err == ROOST_OK)
        err = store_gdbm_handle_open(st, f, 1, 0, &dbf, damage, sizeof(damage));
    if (err == ROOST_ERR_STORE_IO) {
        /* The system failed us (disk full, I/O error), not the data: dirty
         * stays set and the next scope tries again. */
        roost_log(ROOST_LOG_ERROR, "store", "cannot repair '%s' now: %s; the next request "
                  "retries (check free space and the disk)", f->db_path, rp.rebuild_why);
        goto out;
    }
    if (err != ROOST_OK) {
        roost_log(ROOST_LOG_ERROR, "store",
                  "cannot repair '%s': %s; stop the workers, move it aside and restore it from a "
                  "backup (its checkpoint and log are '%s' and '%s')",
                  f->db_path, damage[0] ? damage : rp.rebuild_why, f->ckpt_path, f->log_path);
        err = ROOST_ERR_STORE_CORRUPT;
        goto out;
    }

done:
    /* gdbm_recover and the rebuild both renamed the file: every handle of
     * every process must reopen. */
    f->dbf = dbf;
    f->dbf_writer = 1;
    dbf = NULL;
    /* The pending record is now in the file, or was never committed:
     * forget it before the generation moves. Else a repairer killed
     * between the next two stores would leave dirty set and gen equal to
     * the seq of a record that was never committed (seq = old gen + 1),
     * and the repair after it would apply that record. */
    PG_SET(f, pending_off, NO_OFFSET);
    f->dbf_gen = PG_GET(f, gen) + 1;
    PG_SET(f, gen, f->dbf_gen);
    PG_SET(f, dirty, 0);
    PG_SET(f, repairs, PG_GET(f, repairs) + 1);
    if (rp.method != gdbm_recover_method)
        PG_SET(f, rebuilds, PG_GET(f, rebuilds) + 1);
    st->stats.recoveries++;
    if (rp.replayed)
        st->stats.replays++;
    if (rp.method != gdbm_recover_method)
        roost_log(ROOST_LOG_WARN, "store",
                  "repaired '%s': %s; %s; %s, replayed %zu logged writes, %.1f ms", f->db_path,
                  why, rp.rebuild_why, rp.method, rp.records, ms_since(t0));
    else
        roost_log(ROOST_LOG_WARN, "store",
                  "repaired '%s': %s; %s, %zu keys recovered, %zu keys and %zu buckets lost%s, "
                  "%.1f ms", f->db_path, why, rp.method, rp.keys_ok, rp.keys_failed,
                  rp.buckets_failed, rp.replayed ? ", re-applied the last logged write" : "",
                  ms_since(t0));
    err = ROOST_OK;
out:
    if (dbf)
        store_gdbm_drop_dbf(st, dbf, 1);
    roost_store_gdbm_log_rec_release(&rec);
    return err;
}

enum roost_err store_gdbm_repair_dirty(struct roost_store *st, struct gfile *f)
{
    char why[64];
    snprintf(why, sizeof(why), "writer pid %llu died mid-write",
             (unsigned long long)PG_GET(f, dirty));
    return store_gdbm_repair(st, f, why);
}
