/*
 * store_gdbm.c - the GDBM backend of store.h.
 *
 * DESIGN (DESIGN.md "Store (GDBM backend): measured on this machine,
 * decided"; every figure below was measured with GDBM 1.23 on 2 cores, ext4)
 *
 * Files. <dir>/meta.db holds the META area; DATA is spread over
 * ROOST_STORE_SHARDS files kv-00.db..kv-15.db, shard = FNV-1a 64 of the
 * instance id % ROOST_STORE_SHARDS, so all keys of an instance share a file.
 * Sharding doubled pure read throughput on 2 cores and cuts repair and
 * compaction pauses 16x (it does not raise write throughput). Each X.db has
 *   X.db.lock  one 4 KiB page mapped MAP_SHARED by every process: magic,
 *              layout version, generation counter, dirty marker, log end,
 *              last record, checkpoint generation and size, compacted size;
 *   X.db.log   write-ahead log since the last checkpoint (store_gdbm_log.h);
 *   X.db.ckpt  a copy of X.db as of the checkpoint generation.
 * Local filesystems only (no NFS). Directory 0770, files 0660, owned by the
 * workers' user; roostctl runs as that user or root.
 *
 * Guard. An exclusive OFD lock (F_OFD_SETLKW, F_WRLCK, whole file) on
 * X.db.lock is held for every read and every write, gdbm_open included;
 * GDBM's own locking is off (GDBM_NOLOCK). Why:
 *   - Opening per request under GDBM's own locks measured 17-26k ops/s
 *     (1-2% of raw GDBM); gdbm_open fails at once while another process
 *     holds the file, and writers starve.
 *   - Reading without the lock gave stale reads, and readers died on
 *     "gdbm_open: Malformed avail_block" while a store was in progress.
 *   - OFD, never process-associated F_SETLK: any close() of any descriptor
 *     of the file drops those (SQLite os_unix.c). The kernel releases an
 *     OFD lock when its holder dies. One descriptor per lock file per
 *     process.
 *   - Exclusive even to read: Linux grants shared locks while a writer
 *     waits, and writers starve. (A robust process-shared mutex in the lock
 *     page measured 4x cheaper per read; worth it only if a benchmark shows
 *     the file lock costs more than a few percent of a request.)
 *   - OFD locks do not nest: locking again through the descriptor we hold
 *     succeeds silently and the inner unlock drops the outer lock. So the
 *     process tracks what it holds and a nested begin is a USAGE error.
 *   - fork() shares open file descriptions, so parent and child would share
 *     one lock: each process opens the store after fork (store.h), and a
 *     scope on a store opened before a fork is refused.
 *   - Two store objects on one directory in one process have their own lock
 *     descriptors and exclude each other like two processes: holding a
 *     scope on one while beginning the same partition on the other blocks
 *     forever. Open the store once per process (store.h). A store object
 *     is used by one thread at a time (workers are single-threaded).
 *
 * Coherence. Handles persist per process (one per file, opened lazily),
 * each remembering the page generation it was opened at. Every write,
 * repair and compaction bumps the generation; a scope that finds its handle
 * older reopens it, because GDBM keeps the header, directory, free list and
 * buckets in the process. About 30% of requests find a handle stale at 10%
 * writes; a stale GDBM_NOMMAP reader reopens in ~8 us (mmap'd: ~22 us); a
 * read with nothing written in between costs ~1 us. Readers are
 * GDBM_READER, mmap'd, until the process first writes the file. (DESIGN.md
 * chose GDBM_NOMMAP readers for the shards for their cheaper reopen; the
 * benchmark measured otherwise through lighttpd: a NOMMAP reader makes an
 * lseek and a read per fetch, 2 of a GET's 10 system calls, and mmap'd
 * readers took GET hits from 0.89x to 1.05x the lean responder with mixed
 * 90/10 unchanged at 0.84x. The mapping is file-backed page cache, not
 * RssAnon, and files are only ever replaced by rename, never truncated
 * under a mapping.) From the first write on: GDBM_WRITER|GDBM_NOMMAP, never
 * an mmap'd writer: a SIGKILL mid-store through one tore a 4 KiB bucket in
 * 1 of ~60 repairs, and gdbm_recover then dropped every key of that bucket
 * (up to 166 acknowledged keys). A stale writer is dropped without the
 * fsync of gdbm_close (store_gdbm_drop_dbf()), which would make writes ~10x
 * slower when workers write in turn.
 *
 * Writes and crashes. Plain GDBM leaves a file "needs recovery" in 6-12% of
 * SIGKILLs during writes (1.5-5% without mmap), and same-size overwrites are
 * done in place and can tear a value. gdbm_failure_atomic needs reflink (not
 * on ext4) and ~2 ms per write; gdbm_sync per write costs 0.2-0.6 ms (~10x)
 * and prevents none of it. So a write (a put, a delete, or an apply of up
 * to ROOST_STORE_APPLY_MAX of them; a put is an apply of one op plus its
 * existence check), under the lock (write_logged()):
 *   1. appends ONE record {seq = gen + 1, ops (op, key, value each),
 *      checksum} to X.db.log at the page's log end with pwritev (a torn
 *      tail is overwritten next time);
 *   2. commits it in the page: pending record, dirty = our pid, gen = seq
 *      (the commit point), log end and last record;
 *   3. gdbm_store / gdbm_delete per op, in order; 4. sets the handle's gen;
 *      clears dirty;
 *   5. only then returns OK, and the caller acknowledges.
 * A scope that finds dirty set (the writer died) repairs the file
 * (store_gdbm_repair()): gdbm_recover(GDBM_RCVR_FORCE), then re-applies
 * every op of the log's last record if it was committed (idempotent, so a
 * writer that died after k of n ops is finished, never left half done); if
 * gdbm_recover loses a key or a bucket, or the file cannot be opened at
 * all, the file is rebuilt from X.db.ckpt plus every record of the log
 * instead. Then gen++ (both rename the file) and dirty = 0. Either way a
 * write is all there after a crash or not at all. Checkpoints, repairs
 * and rebuilds live in store_gdbm_repair.c, the log format in
 * store_gdbm_log.h. With this scheme: 1,000 SIGKILLs during writes, 0 damaged
 * files, 0 acknowledged writes lost, the op in flight old or new; coherent
 * over 3.3 M checks. A repair pauses ~0.1 s per 12 MiB file, 1.8 s at
 * 170 MiB. No gdbm_sync on the request path: only roost_store_flush() and
 * roost_store_close() fsync (power-loss durability is a later setting).
 *
 * Checkpoint. When the log passes max(1 MiB, file size / 4), the file is
 * copied (copy_file_range, ~7 ms per 12 MiB) to a temporary renamed to
 * X.db.ckpt, the checkpoint generation recorded and the log emptied; the
 * checkpoint is exactly the state at its generation, so "checkpoint + every
 * later record" is exact.
 *
 * Compaction (roostctl compact). gdbm_reorganize on a writer under the lock
 * (~1 s per 100 MiB), gen++ because it renames the file (a handle opened
 * before would write into the unlinked old file and its writes would vanish
 * silently), then a checkpoint. Files grow ~30% of live data per 100k
 * overwrites without it.
 *
 * Budget. Raw GDBM costs 0.2-0.9 us per op; one op per request at 10% writes
 * should stay <= 9 us inside the store; a 1 MiB put 0.45 ms, get 0.09 ms. A
 * do-nothing FastCGI responder serves 12.8k req/s with one process, 26.6k
 * with four, so the store must stay a few percent of each request.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "hash.h"
#include "limits.h"
#include "log.h"
#include "store.h"
#include "store_gdbm.h"
#include "store_gdbm_int.h"
#include "store_gdbm_log.h"

#define DIR_MODE 0770
#define FILE_MODE 0660

/* Lock page. The layout version covers the page, the log record format and
 * the file set (ROOST_STORE_SHARDS is stored too: a store written with
 * another shard count must not be read with this one). */
#define LOCK_MAGIC "roostLK\0"
#define LAYOUT_VERSION 2u /* 2: multi-op log records (store_gdbm_log.h) */

/* GDBM's bucket cache, per handle. By default GDBM grows it with the
 * directory, up to one bucket (4 KiB, plus a copy of the last entry read
 * from it) per directory entry. A worker keeps up to 17 handles and must
 * stay within RssAnon <= 8 MiB with 1M keys; a request touches one or two
 * buckets and a write splits at most one, and ~30% of requests reopen
 * their handle anyway, so a big cache buys nothing. Measured with 1M keys
 * in one shard, 200k ops at 10% writes: RssAnon 34 MiB with GDBM's
 * automatic cache, 0.3 MiB with 16 buckets, same throughput. */
#define GDBM_CACHE_BUCKETS 16

/* Largest key + value GDBM can hold: a datum's dsize is an int and
 * gdbm_store adds the two sizes in an int. */
#define GDBM_ENTRY_MAX ((size_t)INT_MAX)

/* Bumped in the child of every fork(). The backend's one mutable global
 * besides open handles: it lets begin refuse, at no cost per call, a store
 * that was opened before a fork and so shares its lock descriptors (and
 * GDBM's file offsets) with another process. */
static volatile unsigned long fork_count;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    fork_count++;
}

static void install_fork_hook(void)
{
    int rc = pthread_atfork(NULL, NULL, on_fork_child);
    if (rc != 0)
        roost_log(ROOST_LOG_WARN, "store", "cannot watch for fork: %s", strerror(rc));
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "%s/%s%s", dir, name, suffix);
    return roost_buf_detach(&b, NULL);
}

static int shard_of(struct roost_slice id)
{
    return (int)(roost_fnv1a64(id.ptr, id.len) % ROOST_STORE_SHARDS);
}

/* Gives a file we just created the store's mode whatever the umask (the
 * workers' group shares the store) and, when we run as root (roostctl),
 * the store directory's owner: a root-owned file would lock the workers
 * out. GDBM's own temporaries copy the replaced file's owner the same way.
 * On failure the file stays usable by its creator, so nothing is reported. */
void store_gdbm_adopt_owner(const struct roost_store *st, int fd)
{
    int failed = fchmod(fd, FILE_MODE) < 0;
    if (geteuid() == 0)
        failed |= fchown(fd, st->dir_uid, st->dir_gid) < 0;
    (void)failed;
}

/* Opens path read-write, creating it (see store_gdbm_adopt_owner()) if
 * missing. */
static int open_create(const struct roost_store *st, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
    if (fd >= 0) {
        store_gdbm_adopt_owner(st, fd);
        return fd;
    }
    if (errno != EEXIST)
        return -1;
    return open(path, O_RDWR | O_CLOEXEC);
}

static int path_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* GDBM errors that mean the file's contents are bad (as opposed to the
 * system failing us): a repair may fix them. */
static int gdbm_err_is_damage(int e)
{
    switch (e) {
    case GDBM_BLOCK_SIZE_ERROR:
    case GDBM_FILE_SEEK_ERROR:
    case GDBM_FILE_READ_ERROR:
    case GDBM_BAD_MAGIC_NUMBER:
    case GDBM_EMPTY_DATABASE:
    case GDBM_UNKNOWN_ERROR:
    case GDBM_MALFORMED_DATA:
    case GDBM_BYTE_SWAPPED:
    case GDBM_BAD_FILE_OFFSET:
    case GDBM_FILE_EOF:
    case GDBM_NEED_RECOVERY:
    case GDBM_DIR_OVERFLOW:
    case GDBM_BAD_BUCKET:
    case GDBM_BAD_HEADER:
    case GDBM_BAD_AVAIL:
    case GDBM_BAD_HASH_TABLE:
    case GDBM_BAD_DIR_ENTRY:
    case GDBM_BUCKET_CACHE_CORRUPTED:
    case GDBM_BAD_HASH_ENTRY:
        return 1;
    default:
        return 0;
    }
}

void store_gdbm_set_cache_size(const struct gfile *f, GDBM_FILE dbf)
{
    size_t n = GDBM_CACHE_BUCKETS;
    if (gdbm_setopt(dbf, GDBM_SETCACHESIZE, &n, sizeof(n)) != 0)
        roost_log(ROOST_LOG_DEBUG, "store", "cannot cap the bucket cache of '%s': %s",
                  f->db_path, gdbm_db_strerror(dbf));
}

/*
 * Closes a handle without flushing it. gdbm_close() fsyncs a writer
 * (gdbm_file_sync), 0.2-0.6 ms, and there is nothing to flush: gdbm_store
 * and gdbm_delete write the buckets, directory and header (_gdbm_end_update)
 * before they return, and GDBM writes nothing else at close. GDBM has no
 * close-without-sync, so the handle's descriptor is first turned into one
 * on /dev/null: dup2() closes the real file atomically, and the fsync then
 * fails harmlessly (EINVAL) on /dev/null. Readers never fsync. Only
 * roost_store_close() closes with the fsync.
 */
void store_gdbm_drop_dbf(struct roost_store *st, GDBM_FILE dbf, int writer)
{
    if (!dbf)
        return;
    if (writer && dup2(st->devnull_fd, gdbm_fdesc(dbf)) < 0)
        roost_log(ROOST_LOG_DEBUG, "store", "cannot detach a handle, closing it with fsync: %s",
                  strerror(errno));
    gdbm_close(dbf);
}

/* gdbm_recover and gdbm_reorganize move the handle onto a file they made
 * with plain mkstemp, so GDBM_CLOEXEC no longer holds for it. */
void store_gdbm_keep_cloexec(GDBM_FILE dbf)
{
    int fd = gdbm_fdesc(dbf);
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void store_gdbm_drop_handle(struct roost_store *st, struct gfile *f)
{
    store_gdbm_drop_dbf(st, f->dbf, f->dbf_writer);
    f->dbf = NULL;
    f->dbf_writer = 0;
}

/*
 * Opens a GDBM handle on f's file at its current state (lock held).
 * On damage a repair can fix (file missing, empty, not GDBM, or GDBM says it
 * needs recovery) returns STORE_CORRUPT and describes it in damage;
 * otherwise damage is left empty and failures are logged here. for_repair
 * (a writer for gdbm_recover) accepts a file that needs recovery: that is
 * what gdbm_recover is for.
 */
enum roost_err store_gdbm_handle_open(struct roost_store *st, struct gfile *f, int writer,
                                      int for_repair, GDBM_FILE *out, char *damage,
                                      size_t damage_len)
{
    enum roost_err err = ROOST_OK;
    GDBM_FILE dbf = NULL;
    struct stat sb;
    int fd;

    damage[0] = '\0';
    fd = open(f->db_path, (writer ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            snprintf(damage, damage_len, "the file is missing");
            err = ROOST_ERR_STORE_CORRUPT;
            goto out;
        }
        int e = errno;
        roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s", f->db_path, strerror(e));
        err = (e == EACCES || e == EPERM || e == EROFS) ? ROOST_ERR_STORE_UNAVAILABLE
                                                        : ROOST_ERR_STORE_IO;
        goto out;
    }
    if (fstat(fd, &sb) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot stat '%s': %s", f->db_path, strerror(errno));
        close(fd);
        err = ROOST_ERR_STORE_IO;
        goto out;
    }
    if (sb.st_size == 0) {
        /* GDBM would turn an empty file opened by a writer into a new,
         * empty database: never let a damaged file be silently emptied. */
        close(fd);
        snprintf(damage, damage_len, "the file is empty");
        err = ROOST_ERR_STORE_CORRUPT;
        goto out;
    }
    int flags = (writer ? GDBM_WRITER : GDBM_READER) | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR;
    if (writer)
        flags |= GDBM_NOMMAP;
    dbf = gdbm_fd_open(fd, f->db_path, 0, flags, NULL);
    if (!dbf) {
        int e = gdbm_errno;
        if (gdbm_err_is_damage(e)) {
            snprintf(damage, damage_len, "%s", gdbm_strerror(e));
            err = ROOST_ERR_STORE_CORRUPT;
            goto out;
        }
        roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s%s%s", f->db_path,
                  gdbm_strerror(e), gdbm_check_syserr(e) ? ": " : "",
                  gdbm_check_syserr(e) ? strerror(errno) : "");
        err = ROOST_ERR_STORE_IO;
        goto out;
    }
    st->stats.handle_opens++;
    if (gdbm_needs_recovery(dbf) && !for_repair) {
        snprintf(damage, damage_len, "GDBM reports it needs recovery");
        store_gdbm_drop_dbf(st, dbf, writer);
        dbf = NULL;
        err = ROOST_ERR_STORE_CORRUPT;
        goto out;
    }
    store_gdbm_set_cache_size(f, dbf);
    *out = dbf;
out:
    return err;
}

static enum roost_err lock_file(struct gfile *f)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    while (fcntl(f->lock_fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno == EINTR)
            continue;
        roost_log(ROOST_LOG_ERROR, "store", "cannot lock '%s': %s", f->lock_path, strerror(errno));
        return ROOST_ERR_STORE_IO;
    }
    return ROOST_OK;
}

static void unlock_file(struct gfile *f)
{
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(f->lock_fd, F_OFD_SETLK, &fl) < 0)
        roost_log(ROOST_LOG_ERROR, "store", "cannot unlock '%s': %s", f->lock_path, strerror(errno));
}

/* Maps the lock page (lock held), initialising a new one. *fresh tells the
 * caller that no page existed: the log and checkpoint, if any, are not to be
 * trusted and a checkpoint must be taken. */
static enum roost_err page_attach(struct gfile *f, int *fresh)
{
    struct stat sb;
    *fresh = 0;
    if (fstat(f->lock_fd, &sb) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot stat '%s': %s", f->lock_path, strerror(errno));
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    if (sb.st_size == 0) {
        if (ftruncate(f->lock_fd, LOCK_PAGE_SIZE) < 0) {
            roost_log(ROOST_LOG_ERROR, "store", "cannot size '%s': %s", f->lock_path,
                      strerror(errno));
            return ROOST_ERR_STORE_UNAVAILABLE;
        }
    } else if (sb.st_size != LOCK_PAGE_SIZE) {
        roost_log(ROOST_LOG_ERROR, "store",
                  "refusing lock file '%s': it is %lld bytes, not a roost lock page; "
                  "move the store directory aside", f->lock_path, (long long)sb.st_size);
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    void *p = mmap(NULL, LOCK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->lock_fd, 0);
    if (p == MAP_FAILED) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot map '%s': %s", f->lock_path, strerror(errno));
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    f->page = p;
    static const char zero[8];
    if (memcmp(f->page->magic, zero, sizeof(zero)) == 0) {
        /* New, or its creator died before writing the magic, which comes
         * last for that reason. */
        PG_SET(f, layout, LAYOUT_VERSION);
        PG_SET(f, shards, (uint32_t)ROOST_STORE_SHARDS);
        PG_SET(f, gen, 1);
        PG_SET(f, dirty, 0);
        PG_SET(f, log_end, 0);
        PG_SET(f, last_rec, NO_OFFSET);
        PG_SET(f, pending_off, NO_OFFSET);
        PG_SET(f, pending_end, 0);
        PG_SET(f, ckpt_gen, 0);
        PG_SET(f, ckpt_size, 0);
        PG_SET(f, compact_size, 0);
        PG_SET(f, repairs, 0);
        PG_SET(f, rebuilds, 0);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(f->page->magic, LOCK_MAGIC, sizeof(f->page->magic));
        *fresh = 1;
        return ROOST_OK;
    }
    if (memcmp(f->page->magic, LOCK_MAGIC, sizeof(f->page->magic)) != 0) {
        roost_log(ROOST_LOG_ERROR, "store",
                  "refusing lock page '%s': not a roost lock page; move the store directory "
                  "aside or point ROOST_STORE_DIR elsewhere", f->lock_path);
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    if (PG_GET(f, layout) != LAYOUT_VERSION
        || PG_GET(f, shards) != (uint32_t)ROOST_STORE_SHARDS) {
        roost_log(ROOST_LOG_ERROR, "store",
                  "refusing lock page '%s': written by an incompatible roost (layout %u with %u "
                  "shards, this one reads layout %u with %d); use a matching roost or another "
                  "ROOST_STORE_DIR", f->lock_path, PG_GET(f, layout), PG_GET(f, shards),
                  LAYOUT_VERSION, ROOST_STORE_SHARDS);
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    return ROOST_OK;
}

/* Makes f->dbf a current handle (lock held): reopens it if another process
 * changed the file since, upgrades it to a writer if the process writes,
 * repairs the file if it cannot be opened. */
static enum roost_err prepare(struct roost_store *st, struct gfile *f, int writer)
{
    char damage[160];
    if (writer)
        f->wrote = 1;
    for (int attempt = 0;; attempt++) {
        uint64_t gen = PG_GET(f, gen);
        if (f->dbf && f->dbf_gen != gen) {
            store_gdbm_drop_handle(st, f);
            st->stats.stale_reopens++;
        } else if (f->dbf && f->wrote && !f->dbf_writer) {
            store_gdbm_drop_handle(st, f);
            st->stats.upgrades++;
        }
        if (f->dbf)
            return ROOST_OK;
        GDBM_FILE dbf = NULL;
        enum roost_err err = store_gdbm_handle_open(st, f, f->wrote, 0, &dbf, damage,
                                                    sizeof(damage));
        if (err == ROOST_OK) {
            f->dbf = dbf;
            f->dbf_writer = f->wrote;
            f->dbf_gen = gen;
            return ROOST_OK;
        }
        if (!damage[0] || attempt > 0)
            return err;
        err = store_gdbm_repair(st, f, damage);
        if (err != ROOST_OK)
            return err;
    }
}

/* After a GDBM call failed on f's handle: on damage, repairs the file and
 * returns OK so the caller retries once (retry = 0); a failure on the retry,
 * or any other failure, is logged and returned. */
static enum roost_err op_failed(struct roost_store *st, struct gfile *f, const char *what,
                                int retry)
{
    int e = gdbm_last_errno(f->dbf);
    int damaged = gdbm_needs_recovery(f->dbf) || gdbm_err_is_damage(e);
    char why[192];
    snprintf(why, sizeof(why), "%s failed: %s", what, gdbm_db_strerror(f->dbf));
    if (damaged && !retry)
        return store_gdbm_repair(st, f, why);
    roost_log(ROOST_LOG_ERROR, "store", "%s failed on '%s': %s", what, f->db_path,
              gdbm_db_strerror(f->dbf));
    if (damaged) {
        /* Leave no half-broken handle behind for the next scope. */
        store_gdbm_drop_handle(st, f);
        return ROOST_ERR_STORE_CORRUPT;
    }
    return ROOST_ERR_STORE_IO;
}

static struct gfile *scope_file(struct roost_store_scope *sc)
{
    if (!sc || !sc->store || sc->part < 0 || sc->part >= STORE_FILES
        || !sc->store->files[sc->part].held) {
        roost_log(ROOST_LOG_ERROR, "store", "operation outside a scope");
        return NULL;
    }
    return &sc->store->files[sc->part];
}

/* ---- Opening and closing ---- */

static void file_close(struct roost_store *st, struct gfile *f, int flush)
{
    if (f->held) {
        if (flush)
            unlock_file(f);
        f->held = 0;
    }
    if (f->dbf) {
        if (flush)
            gdbm_close(f->dbf); /* fsyncs a writer: clean shutdown */
        else
            store_gdbm_drop_handle(st, f);
        f->dbf = NULL;
    }
    if (f->log_fd >= 0) {
        if (flush && f->wrote && fsync(f->log_fd) < 0)
            roost_log(ROOST_LOG_WARN, "store", "cannot flush '%s': %s", f->log_path,
                      strerror(errno));
        close(f->log_fd);
    }
    if (f->page)
        munmap(f->page, LOCK_PAGE_SIZE);
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    free(f->db_path);
    free(f->lock_path);
    free(f->log_path);
    free(f->ckpt_path);
    memset(f, 0, sizeof(*f));
    f->lock_fd = f->log_fd = -1;
}

/* Creates an empty GDBM file (lock held, file missing). */
static enum roost_err create_db(struct roost_store *st, struct gfile *f)
{
    int fd = open(f->db_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
    if (fd < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot create '%s': %s", f->db_path, strerror(errno));
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    store_gdbm_adopt_owner(st, fd);
    GDBM_FILE dbf = gdbm_fd_open(fd, f->db_path, 0,
                                 GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP | GDBM_CLOEXEC
                                     | GDBM_CLOERROR,
                                 NULL);
    if (!dbf) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot create '%s': %s", f->db_path,
                  gdbm_strerror(gdbm_errno));
        unlink(f->db_path);
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    gdbm_close(dbf); /* once per store's life: the fsync is welcome */
    return ROOST_OK;
}

/* Opens one file's lock page and log and tidies it (under its lock):
 * leftover temporaries, a crashed writer, a missing file or checkpoint. */
static enum roost_err file_open(struct roost_store *st, struct gfile *f)
{
    enum roost_err err;
    int fresh = 0;

    f->lock_fd = open_create(st, f->lock_path);
    if (f->lock_fd < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s", f->lock_path, strerror(errno));
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    err = lock_file(f);
    if (err != ROOST_OK)
        return ROOST_ERR_STORE_UNAVAILABLE;
    err = page_attach(f, &fresh);
    if (err != ROOST_OK)
        goto out;
    f->log_fd = open_create(st, f->log_path);
    if (f->log_fd < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s", f->log_path, strerror(errno));
        err = ROOST_ERR_STORE_UNAVAILABLE;
        goto out;
    }
    store_gdbm_remove_temps(st, f);

    /* Repairs here are a courtesy: a failure is logged and left for the
     * scopes that need the file, which report it. */
    if (PG_GET(f, dirty) && store_gdbm_repair_dirty(st, f) != ROOST_OK)
        goto out;
    if (!path_exists(f->db_path)) {
        if (!fresh && (PG_GET(f, ckpt_gen) || PG_GET(f, log_end))) {
            (void)store_gdbm_repair(st, f, "the file is missing");
            goto out;
        }
        err = create_db(st, f);
        if (err != ROOST_OK)
            goto out;
    }
    /* A new page cannot vouch for an old log or checkpoint (the lock file
     * was lost), and a fresh store needs its first checkpoint: a rebuild
     * starts from it. */
    if (fresh || !path_exists(f->ckpt_path))
        (void)store_gdbm_checkpoint(st, f);
out:
    unlock_file(f);
    return err;
}

enum roost_err roost_store_open(const char *dir, struct roost_store **out)
{
    enum roost_err err = ROOST_OK;
    struct roost_store *st = NULL;
    struct stat sb;

    if (!dir || !*dir || !out || *out)
        return ROOST_ERR_USAGE;
    pthread_once(&fork_hook_once, install_fork_hook);

    if (mkdir(dir, DIR_MODE) == 0) {
        if (chmod(dir, DIR_MODE) < 0) {
            /* we just made it: cannot fail but for races we cannot fix */
        }
    } else if (errno != EEXIST) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot create store directory '%s': %s (set "
                  "ROOST_STORE_DIR to a writable place)", dir, strerror(errno));
        return ROOST_ERR_STORE_UNAVAILABLE;
    }
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot use store directory '%s': %s", dir,
                  errno ? strerror(errno) : "not a directory");
        return ROOST_ERR_STORE_UNAVAILABLE;
    }

    st = roost_xcalloc(1, sizeof(*st));
    st->dir = roost_xstrdup(dir);
    st->dir_uid = sb.st_uid;
    st->dir_gid = sb.st_gid;
    st->forks = fork_count;
    st->pid = (uint64_t)getpid();
    st->data_held = -1;
    for (int i = 0; i < STORE_FILES; i++)
        st->files[i].lock_fd = st->files[i].log_fd = -1;
    st->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (st->devnull_fd < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot open '/dev/null': %s", strerror(errno));
        err = ROOST_ERR_STORE_UNAVAILABLE;
        goto out;
    }
    for (int i = 0; i < STORE_FILES; i++) {
        struct gfile *f = &st->files[i];
        char name[16];
        if (i == META_PART)
            snprintf(name, sizeof(name), "meta.db");
        else
            snprintf(name, sizeof(name), "kv-%02d.db", i - 1);
        f->is_meta = i == META_PART;
        f->db_path = path_join(dir, name, "");
        f->lock_path = path_join(dir, name, ".lock");
        f->log_path = path_join(dir, name, ".log");
        f->ckpt_path = path_join(dir, name, ".ckpt");
        f->base = strrchr(f->db_path, '/') + 1;
        err = file_open(st, f);
        if (err != ROOST_OK)
            goto out;
    }
    *out = st;
    st = NULL;
out:
    if (st) {
        for (int i = 0; i < STORE_FILES; i++)
            file_close(st, &st->files[i], 0);
        if (st->devnull_fd >= 0)
            close(st->devnull_fd);
        free(st->dir);
        free(st);
    }
    return err;
}

void roost_store_close(struct roost_store *st)
{
    if (!st)
        return;
    /* In a child of the process that opened it, the descriptors are shared
     * with the parent: release our copies without touching the files. */
    int ours = st->forks == fork_count;
    for (int i = 0; i < STORE_FILES; i++)
        file_close(st, &st->files[i], ours);
    close(st->devnull_fd);
    free(st->dir);
    free(st);
}

const char *roost_store_dir(const struct roost_store *st)
{
    return st->dir;
}

/* ---- Scopes ---- */

static enum roost_err begin_index(struct roost_store *st, int part, struct roost_store_scope *sc)
{
    struct gfile *f = &st->files[part];
    enum roost_err err;

    if (st->forks != fork_count) {
        roost_log(ROOST_LOG_ERROR, "store", "store '%s' was opened before a fork; open it in "
                  "each process after fork", st->dir);
        return ROOST_ERR_USAGE;
    }
    if (f->held) {
        roost_log(ROOST_LOG_ERROR, "store", "nested scope on '%s': end the first one before "
                  "beginning another", f->db_path);
        return ROOST_ERR_USAGE;
    }
    if (st->data_held >= 0) {
        /* store.h: META first, then at most one DATA partition; any other
         * order can deadlock two processes. */
        roost_log(ROOST_LOG_ERROR, "store", "scope on '%s' while holding '%s': lock META first "
                  "and at most one DATA partition", f->db_path,
                  st->files[st->data_held].db_path);
        return ROOST_ERR_USAGE;
    }
    err = lock_file(f);
    if (err != ROOST_OK)
        return err;
    f->held = 1;
    if (part != META_PART)
        st->data_held = part;
    if (PG_GET(f, dirty)) {
        err = store_gdbm_repair_dirty(st, f);
        if (err != ROOST_OK) {
            unlock_file(f);
            f->held = 0;
            if (part != META_PART)
                st->data_held = -1;
            return err;
        }
    }
    sc->part = part;
    return ROOST_OK;
}

enum roost_err roost_store_begin(struct roost_store *st, enum roost_store_area area,
                                 struct roost_slice instance_id, struct roost_store_scope *sc)
{
    if (!sc)
        return ROOST_ERR_USAGE;
    sc->store = st;
    sc->part = -1;
    if (!st)
        return ROOST_ERR_USAGE;
    if (area == ROOST_STORE_META)
        return begin_index(st, META_PART, sc);
    if (area != ROOST_STORE_DATA)
        return ROOST_ERR_USAGE;
    return begin_index(st, 1 + shard_of(instance_id), sc);
}

uint64_t roost_store_version(const struct roost_store *st, enum roost_store_area area,
                             struct roost_slice instance_id)
{
    const struct gfile *f = &st->files[area == ROOST_STORE_META ? META_PART : 1 + shard_of(instance_id)];
    return PG_GET(f, gen);
}

int roost_store_part_count(const struct roost_store *st, enum roost_store_area area)
{
    (void)st;
    if (area == ROOST_STORE_META)
        return 1;
    if (area == ROOST_STORE_DATA)
        return ROOST_STORE_SHARDS;
    return 0;
}

static int part_index(enum roost_store_area area, int index)
{
    if (area == ROOST_STORE_META && index == 0)
        return META_PART;
    if (area == ROOST_STORE_DATA && index >= 0 && index < ROOST_STORE_SHARDS)
        return 1 + index;
    return -1;
}

enum roost_err roost_store_begin_part(struct roost_store *st, enum roost_store_area area,
                                      int index, struct roost_store_scope *sc)
{
    if (!sc)
        return ROOST_ERR_USAGE;
    sc->store = st;
    sc->part = -1;
    int part = part_index(area, index);
    if (!st || part < 0)
        return ROOST_ERR_USAGE;
    return begin_index(st, part, sc);
}

void roost_store_end(struct roost_store_scope *sc)
{
    if (!sc || !sc->store || sc->part < 0 || sc->part >= STORE_FILES)
        return;
    struct roost_store *st = sc->store;
    struct gfile *f = &st->files[sc->part];
    if (f->held) {
        unlock_file(f);
        f->held = 0;
        if (st->data_held == sc->part)
            st->data_held = -1;
    }
    sc->part = -1;
}

/* ---- Operations ---- */

enum roost_err roost_store_get(struct roost_store_scope *sc, struct roost_slice key,
                               struct roost_buf *value)
{
    struct gfile *f = scope_file(sc);
    if (!f || !value)
        return ROOST_ERR_USAGE;
    if (key.len > GDBM_ENTRY_MAX)
        return ROOST_ERR_KEY_NOT_FOUND;
    for (int retry = 0;; retry++) {
        enum roost_err err = prepare(sc->store, f, 0);
        if (err != ROOST_OK)
            return err;
        datum v = gdbm_fetch(f->dbf, slice_datum(key));
        if (v.dptr) {
            /* gdbm_fetch's memory is malloc'd and ours: hand it over. */
            roost_buf_attach(value, v.dptr, (size_t)v.dsize);
            return ROOST_OK;
        }
        if (gdbm_last_errno(f->dbf) == GDBM_ITEM_NOT_FOUND)
            return ROOST_ERR_KEY_NOT_FOUND;
        err = op_failed(sc->store, f, "gdbm_fetch", retry);
        if (err != ROOST_OK)
            return err;
    }
}

enum roost_err roost_store_exists(struct roost_store_scope *sc, struct roost_slice key,
                                  int *exists)
{
    struct gfile *f = scope_file(sc);
    if (!f || !exists)
        return ROOST_ERR_USAGE;
    if (key.len > GDBM_ENTRY_MAX) {
        *exists = 0;
        return ROOST_OK;
    }
    for (int retry = 0;; retry++) {
        enum roost_err err = prepare(sc->store, f, 0);
        if (err != ROOST_OK)
            return err;
        int ex = gdbm_exists(f->dbf, slice_datum(key));
        if (ex || gdbm_last_errno(f->dbf) == GDBM_NO_ERROR
            || gdbm_last_errno(f->dbf) == GDBM_ITEM_NOT_FOUND) {
            *exists = ex ? 1 : 0;
            return ROOST_OK;
        }
        err = op_failed(sc->store, f, "gdbm_exists", retry);
        if (err != ROOST_OK)
            return err;
    }
}

/* Where a test hook stops a write (store_gdbm.h); at is 0 for real writes. */
struct write_stop {
    int at;       /* enum roost_store_gdbm_test_stop, or 0 */
    size_t done;  /* MID_APPLY: ops that go through GDBM before it stops */
};

static const struct write_stop no_stop = { 0, 0 };

/*
 * Logs, commits and applies ops[0..n) as one write (lock held, f->dbf a
 * current writer handle, the ops within every limit). A put, a delete and
 * an apply all come through here; see the top of the file.
 */
static enum roost_err write_logged(struct roost_store *st, struct gfile *f,
                                   const struct roost_store_op *ops, size_t n,
                                   const struct write_stop *stop)
{
    /* 1. Log: one record for all ops. Nothing counts until the commit
     * below, so a failure or a death here leaves the store as it was. */
    uint64_t seq = PG_GET(f, gen) + 1, off = PG_GET(f, log_end), end = 0;
    if (roost_store_gdbm_log_append(f->log_fd, off, seq, ops, n, &end) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot append to '%s': %s", f->log_path,
                  strerror(errno));
        return ROOST_ERR_STORE_IO;
    }
    if (stop->at == ROOST_STORE_GDBM_TEST_STOP_AFTER_LOG)
        return ROOST_OK;
    if (stop->at == ROOST_STORE_GDBM_TEST_STOP_TORN_LOG) {
        /* As if the writer died inside pwritev: only a prefix got there. */
        if (ftruncate(f->log_fd, (off_t)(off + (end - off) / 2)) < 0)
            return ROOST_ERR_STORE_IO;
        return ROOST_OK;
    }

    /* 2. Commit. The order matters to a SIGKILL between any two stores:
     * the pending fields are scratch until gen moves; dirty comes before
     * gen so that a committed write is always seen by a repair; gen = seq
     * is the commit point (a repair re-applies the pending record exactly
     * when gen == its seq); log end and last record follow, and a repair
     * sets them from the pending fields if we die before them. */
    PG_SET(f, pending_off, off);
    PG_SET(f, pending_end, end);
    PG_SET(f, dirty, st->pid);
    if (stop->at == ROOST_STORE_GDBM_TEST_STOP_BEFORE_GEN)
        return ROOST_OK;
    PG_SET(f, gen, seq);
    PG_SET(f, last_rec, off);
    PG_SET(f, log_end, end);
    if (stop->at == ROOST_STORE_GDBM_TEST_STOP_AFTER_COMMIT)
        return ROOST_OK;

    /* 3. Apply, op after op. A death anywhere in here leaves dirty set and
     * the next scope redoes the whole record (store_gdbm_apply_ops() is
     * idempotent), so the write is all there after a crash, never a part. */
    const char *what = "gdbm_store";
    size_t upto = n;
    if (stop->at == ROOST_STORE_GDBM_TEST_STOP_MID_APPLY && stop->done < n)
        upto = stop->done;
    int rc = store_gdbm_apply_ops(f->dbf, ops, upto, &what);
    if (rc == 0 && stop->at == ROOST_STORE_GDBM_TEST_STOP_MID_APPLY)
        return ROOST_OK;
    if (rc != 0) {
        /* The write is committed: a repair re-applies it, and then it
         * stands; if the repair fails, dirty stays set for the next scope. */
        char why[192];
        snprintf(why, sizeof(why), "%s failed: %s", what, gdbm_db_strerror(f->dbf));
        enum roost_err err = store_gdbm_repair(st, f, why);
        if (err != ROOST_OK)
            return err;
    } else {
        /* 4. Done: our own write does not make our handle stale. */
        f->dbf_gen = seq;
        PG_SET(f, dirty, 0);
    }
    store_gdbm_checkpoint_if_due(st, f);
    return ROOST_OK;
}

/* Gets a writer handle and writes ops[0..n) (lock held, ops checked). With
 * one_key, ops[0] is a put or delete of store.h's roost_store_put() and
 * roost_store_delete(): the key's existence decides INSERT, existed and a
 * delete's KEY_NOT_FOUND before anything is written. */
static enum roost_err write_ops(struct roost_store *st, struct gfile *f,
                                const struct roost_store_op *ops, size_t n, int one_key,
                                int flags, int *existed, const struct write_stop *stop)
{
    enum roost_err err;
    int ex = 0;

    for (int retry = 0;; retry++) {
        err = prepare(st, f, 1);
        if (err != ROOST_OK)
            return err;
        if (!one_key)
            break;
        ex = gdbm_exists(f->dbf, slice_datum(ops[0].key));
        if (ex || gdbm_last_errno(f->dbf) == GDBM_NO_ERROR
            || gdbm_last_errno(f->dbf) == GDBM_ITEM_NOT_FOUND)
            break;
        err = op_failed(st, f, "gdbm_exists", retry);
        if (err != ROOST_OK)
            return err;
    }
    if (one_key && ops[0].kind == ROOST_STORE_OP_PUT && (flags & ROOST_STORE_INSERT) && ex)
        return ROOST_ERR_STORE_EXISTS;
    if (one_key && ops[0].kind == ROOST_STORE_OP_DELETE && !ex)
        return ROOST_ERR_KEY_NOT_FOUND;
    err = write_logged(st, f, ops, n, stop);
    if (err == ROOST_OK && existed)
        *existed = ex;
    return err;
}

/* roost_store_put() and roost_store_delete(): an apply of one op, plus the
 * existence checks above. Their size limit is GDBM's, not the apply's. */
static enum roost_err write_one(struct roost_store_scope *sc, enum roost_store_op_kind kind,
                                struct roost_slice key, struct roost_slice value, int flags,
                                int *existed, const struct write_stop *stop)
{
    struct gfile *f = scope_file(sc);
    if (!f)
        return ROOST_ERR_USAGE;
    if (kind == ROOST_STORE_OP_DELETE)
        value = ROOST_SLICE_NULL;
    if (key.len > GDBM_ENTRY_MAX || value.len > GDBM_ENTRY_MAX - key.len)
        return kind == ROOST_STORE_OP_PUT ? ROOST_ERR_STORE_TOO_BIG : ROOST_ERR_KEY_NOT_FOUND;
    struct roost_store_op op = { kind, key, value };
    return write_ops(sc->store, f, &op, 1, 1, flags, existed, stop);
}

enum roost_err roost_store_put(struct roost_store_scope *sc, struct roost_slice key,
                               struct roost_slice value, int flags, int *existed)
{
    return write_one(sc, ROOST_STORE_OP_PUT, key, value, flags, existed, &no_stop);
}

enum roost_err roost_store_delete(struct roost_store_scope *sc, struct roost_slice key)
{
    return write_one(sc, ROOST_STORE_OP_DELETE, key, ROOST_SLICE_NULL, 0, NULL, &no_stop);
}

/* The limits of store.h's roost_store_apply(): USAGE for malformed ops,
 * STORE_TOO_BIG past ROOST_STORE_APPLY_MAX ops or ROOST_STORE_APPLY_BYTES
 * of keys and values (which also keeps every entry far below GDBM's int
 * sizes and the log's 32-bit lengths). */
static enum roost_err check_ops(const struct roost_store_op *ops, size_t n)
{
    if (n > 0 && !ops)
        return ROOST_ERR_USAGE;
    if (n > ROOST_STORE_APPLY_MAX)
        return ROOST_ERR_STORE_TOO_BIG;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const struct roost_store_op *op = &ops[i];
        int put = op->kind == ROOST_STORE_OP_PUT;
        if ((!put && op->kind != ROOST_STORE_OP_DELETE) || (!op->key.ptr && op->key.len)
            || (put && !op->value.ptr && op->value.len))
            return ROOST_ERR_USAGE;
        size_t vlen = put ? op->value.len : 0;
        if (op->key.len > ROOST_STORE_APPLY_BYTES - bytes
            || vlen > ROOST_STORE_APPLY_BYTES - bytes - op->key.len)
            return ROOST_ERR_STORE_TOO_BIG;
        bytes += op->key.len + vlen;
    }
    return ROOST_OK;
}

static enum roost_err apply_stop(struct roost_store_scope *sc, const struct roost_store_op *ops,
                                 size_t n, const struct write_stop *stop)
{
    struct gfile *f = scope_file(sc);
    if (!f)
        return ROOST_ERR_USAGE;
    enum roost_err err = check_ops(ops, n);
    if (err != ROOST_OK || n == 0)
        return err;
    return write_ops(sc->store, f, ops, n, 0, 0, NULL, stop);
}

enum roost_err roost_store_apply(struct roost_store_scope *sc, const struct roost_store_op *ops,
                                 size_t n)
{
    return apply_stop(sc, ops, n, &no_stop);
}

static int has_prefix(datum k, struct roost_slice prefix)
{
    return (size_t)k.dsize >= prefix.len
           && (prefix.len == 0 || memcmp(k.dptr, prefix.ptr, prefix.len) == 0);
}

enum roost_err roost_store_iterate(struct roost_store_scope *sc, struct roost_slice prefix,
                                   roost_store_iter_fn fn, void *arg)
{
    struct gfile *f = scope_file(sc);
    if (!f || !fn)
        return ROOST_ERR_USAGE;
    for (int retry = 0;; retry++) {
        enum roost_err err = prepare(sc->store, f, 0);
        if (err != ROOST_OK)
            return err;
        size_t calls = 0;
        datum k = gdbm_firstkey(f->dbf);
        while (k.dptr) {
            if (has_prefix(k, prefix)) {
                datum v = gdbm_fetch(f->dbf, k);
                if (!v.dptr) {
                    free(k.dptr);
                    k.dptr = NULL;
                    break;
                }
                int r = fn(arg, roost_slice_make(k.dptr, (size_t)k.dsize),
                           roost_slice_make(v.dptr, (size_t)v.dsize));
                calls++;
                free(v.dptr);
                if (r) {
                    free(k.dptr);
                    return (enum roost_err)r;
                }
            }
            datum next = gdbm_nextkey(f->dbf, k);
            free(k.dptr);
            k = next;
        }
        int e = gdbm_last_errno(f->dbf);
        if (e == GDBM_NO_ERROR || e == GDBM_ITEM_NOT_FOUND)
            return ROOST_OK;
        if (!calls) {
            err = op_failed(sc->store, f, "iterating", retry);
            if (err != ROOST_OK)
                return err;
            continue;
        }
        /* A retry after keys were handed out would hand them out twice:
         * repair (on damage) for the next scope, and fail this one. */
        err = op_failed(sc->store, f, "iterating", 0);
        return err != ROOST_OK ? err : ROOST_ERR_STORE_IO;
    }
}

enum roost_err roost_store_compact(struct roost_store_scope *sc)
{
    struct gfile *f = scope_file(sc);
    struct roost_store *st;
    struct stat sb;
    uint64_t t0 = now_us(), before = 0;

    if (!f)
        return ROOST_ERR_USAGE;
    st = sc->store;
    enum roost_err err = prepare(st, f, 1);
    if (err != ROOST_OK)
        return err;
    if (fstat(gdbm_fdesc(f->dbf), &sb) == 0)
        before = (uint64_t)sb.st_size;
    /* gdbm_reorganize builds a new file and renames it over X.db. Bump the
     * generation first, so that even if we die right after the rename no
     * handle opened before it survives (it would write into the unlinked
     * old file). The old file stays whole until the rename, and the new one
     * is complete (and fsynced by GDBM) before it, so a death leaves only a
     * temporary for the next open to delete. */
    uint64_t gen = PG_GET(f, gen) + 1;
    PG_SET(f, gen, gen);
    if (gdbm_reorganize(f->dbf) != 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot compact '%s': %s", f->db_path,
                  gdbm_db_strerror(f->dbf));
        store_gdbm_drop_handle(st, f);
        return ROOST_ERR_STORE_IO;
    }
    store_gdbm_keep_cloexec(f->dbf);
    f->dbf_gen = gen;
    st->stats.compactions++;
    uint64_t after = fstat(gdbm_fdesc(f->dbf), &sb) == 0 ? (uint64_t)sb.st_size : 0;
    PG_SET(f, compact_size, after);
    /* The checkpoint is a byte copy of the old file: replace it, or a
     * rebuild would start from the bloated layout (the contents are the
     * same, so a failure here loses nothing). */
    (void)store_gdbm_checkpoint(st, f);
    roost_log(ROOST_LOG_INFO, "store", "compacted '%s': %llu -> %llu bytes, %.1f ms", f->db_path,
              (unsigned long long)before, (unsigned long long)after, ms_since(t0));
    return ROOST_OK;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

enum roost_err roost_store_flush(struct roost_store *st)
{
    enum roost_err err = ROOST_OK;
    if (!st)
        return ROOST_ERR_USAGE;
    if (st->forks != fork_count)
        return ROOST_ERR_USAGE;
    for (int i = 0; i < STORE_FILES; i++) {
        struct gfile *f = &st->files[i];
        /* A file whose scope we hold is already locked: locking it again
         * would succeed, and our unlock would end the caller's scope. */
        int lock = !f->held;
        if (lock && lock_file(f) != ROOST_OK) {
            err = ROOST_ERR_STORE_IO;
            continue;
        }
        if (PG_GET(f, dirty))
            (void)store_gdbm_repair_dirty(st, f);
        int rc;
        if (f->dbf && f->dbf_writer && f->dbf_gen == PG_GET(f, gen))
            rc = gdbm_sync(f->dbf);
        else
            rc = fsync_path(f->db_path, 0);
        if (rc != 0 || fsync(f->log_fd) < 0 || fsync_path(f->ckpt_path, 0) < 0) {
            roost_log(ROOST_LOG_ERROR, "store", "cannot flush '%s': %s", f->db_path,
                      strerror(errno));
            err = ROOST_ERR_STORE_IO;
        }
        if (lock)
            unlock_file(f);
    }
    if (fsync_path(st->dir, 1) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot flush '%s': %s", st->dir, strerror(errno));
        err = ROOST_ERR_STORE_IO;
    }
    return err;
}

/* ---- store_gdbm.h ---- */

void roost_store_gdbm_get_stats(const struct roost_store *st, struct roost_store_gdbm_stats *out)
{
    *out = st->stats;
}

enum roost_err roost_store_gdbm_get_info(struct roost_store_scope *sc,
                                         struct roost_store_gdbm_info *out)
{
    struct gfile *f = scope_file(sc);
    struct stat sb;
    if (!f || !out)
        return ROOST_ERR_USAGE;
    out->gen = PG_GET(f, gen);
    out->dirty_pid = PG_GET(f, dirty);
    out->log_end = PG_GET(f, log_end);
    out->ckpt_gen = PG_GET(f, ckpt_gen);
    out->ckpt_size = PG_GET(f, ckpt_size);
    out->compact_size = PG_GET(f, compact_size);
    out->repairs = PG_GET(f, repairs);
    out->rebuilds = PG_GET(f, rebuilds);
    out->file_size = stat(f->db_path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    return ROOST_OK;
}

enum roost_err roost_store_part_stats(struct roost_store_scope *sc,
                                      struct roost_store_part_stats *out)
{
    struct gfile *f = scope_file(sc);
    struct stat sb;
    if (!f || !out)
        return ROOST_ERR_USAGE;
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", f->base);
    if (stat(f->db_path, &sb) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot stat '%s': %s", f->db_path, strerror(errno));
        return ROOST_ERR_STORE_IO;
    }
    out->file_bytes = (uint64_t)sb.st_size;
    out->log_bytes = PG_GET(f, log_end);
    out->generation = PG_GET(f, gen);
    out->repairs = PG_GET(f, repairs);
    out->rebuilds = PG_GET(f, rebuilds);
    return ROOST_OK;
}

const char *roost_store_gdbm_path(const struct roost_store *st, enum roost_store_area area,
                                  int index)
{
    int part = part_index(area, index);
    return part < 0 ? NULL : st->files[part].db_path;
}

enum roost_err roost_store_gdbm_test_mark_dirty(struct roost_store_scope *sc, pid_t pid)
{
    struct gfile *f = scope_file(sc);
    if (!f)
        return ROOST_ERR_USAGE;
    PG_SET(f, dirty, (uint64_t)pid);
    return ROOST_OK;
}

enum roost_err roost_store_gdbm_test_put_partial(struct roost_store_scope *sc,
                                                 struct roost_slice key,
                                                 struct roost_slice value,
                                                 enum roost_store_gdbm_test_stop stop)
{
    struct write_stop ws = { (int)stop, 0 };
    return write_one(sc, ROOST_STORE_OP_PUT, key, value, 0, NULL, &ws);
}

enum roost_err roost_store_gdbm_test_apply_partial(struct roost_store_scope *sc,
                                                   const struct roost_store_op *ops, size_t n,
                                                   enum roost_store_gdbm_test_stop stop,
                                                   size_t done)
{
    struct write_stop ws = { (int)stop, done };
    return apply_stop(sc, ops, n, &ws);
}
