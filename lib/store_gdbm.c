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
 * GDBM_READER (mmap'd for meta.db, GDBM_NOMMAP for the shards) until the
 * process first writes the file; from then on GDBM_WRITER|GDBM_NOMMAP, never
 * an mmap'd writer: a SIGKILL mid-store through one tore a 4 KiB bucket in
 * 1 of ~60 repairs, and gdbm_recover then dropped every key of that bucket
 * (up to 166 acknowledged keys). A stale writer is dropped without the
 * fsync of gdbm_close (drop_dbf()), which would make writes ~10x slower
 * when workers write in turn.
 *
 * Writes and crashes. Plain GDBM leaves a file "needs recovery" in 6-12% of
 * SIGKILLs during writes (1.5-5% without mmap), and same-size overwrites are
 * done in place and can tear a value. gdbm_failure_atomic needs reflink (not
 * on ext4) and ~2 ms per write; gdbm_sync per write costs 0.2-0.6 ms (~10x)
 * and prevents none of it. So a write, under the lock (write_op()):
 *   1. appends {seq = gen + 1, op, key, value, checksum} to X.db.log at the
 *      page's log end with pwrite (a torn tail is overwritten next time);
 *   2. commits it in the page: pending record, dirty = our pid, gen = seq
 *      (the commit point), log end and last record;
 *   3. gdbm_store / gdbm_delete; 4. sets the handle's gen; clears dirty;
 *   5. only then returns OK, and the caller acknowledges.
 * A scope that finds dirty set (the writer died) repairs the file
 * (repair()): gdbm_recover(GDBM_RCVR_FORCE), then re-applies the log's last
 * record if it was committed; if gdbm_recover loses a key or a bucket, or
 * the file cannot be opened at all, the file is rebuilt from X.db.ckpt plus
 * every record of the log instead. Then gen++ (both rename the file) and
 * dirty = 0. With this scheme: 1,000 SIGKILLs during writes, 0 damaged
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
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
#include "store_gdbm_log.h"

/* File 0 is meta.db; files 1..ROOST_STORE_SHARDS are the DATA shards. */
#define STORE_FILES (1 + ROOST_STORE_SHARDS)
#define META_PART 0

#define DIR_MODE 0770
#define FILE_MODE 0660

/* Lock page. The layout version covers the page, the log record format and
 * the file set (ROOST_STORE_SHARDS is stored too: a store written with
 * another shard count must not be read with this one). */
#define LOCK_PAGE_SIZE 4096
#define LOCK_MAGIC "roostLK\0"
#define LAYOUT_VERSION 1u

/* GDBM's bucket cache, per handle. By default GDBM grows it with the
 * directory, up to one bucket (4 KiB, plus a copy of the last entry read
 * from it) per directory entry. A worker keeps up to 17 handles and must
 * stay within RssAnon <= 8 MiB with 1M keys; a request touches one or two
 * buckets and a write splits at most one, and ~30% of requests reopen
 * their handle anyway, so a big cache buys nothing. Measured with 1M keys
 * in one shard, 200k ops at 10% writes: RssAnon 34 MiB with GDBM's
 * automatic cache, 0.3 MiB with 16 buckets, same throughput. */
#define GDBM_CACHE_BUCKETS 16

/* Smallest log that triggers a checkpoint; see ckpt_threshold(). */
#define CKPT_LOG_MIN (1024 * 1024)

/* Largest key + value GDBM can hold: a datum's dsize is an int and
 * gdbm_store adds the two sizes in an int. */
#define GDBM_ENTRY_MAX ((size_t)INT_MAX)

#define NO_OFFSET UINT64_MAX

struct lock_page {
    char magic[8];
    uint32_t layout;
    uint32_t shards;
    uint64_t gen;          /* bumped by every write, repair, compaction */
    uint64_t dirty;        /* pid of a writer between commit and done; 0 clean */
    uint64_t log_end;      /* bytes of log that count */
    uint64_t last_rec;     /* offset of the last committed record (for tools;
                            * repair() goes by the pending fields) */
    uint64_t pending_off;  /* record of the latest write attempt */
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
 * of them leaves the page as written so far, and repair() depends on the
 * order (see write_op()). */
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
    uid_t dir_uid;          /* owner of the store dir: see adopt_owner() */
    gid_t dir_gid;
    unsigned long forks;    /* fork_count when opened */
    uint64_t pid;
    int devnull_fd;
    int data_held;          /* index of the DATA file held, or -1 */
    struct roost_store_gdbm_stats stats;
    struct gfile files[STORE_FILES];
};

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

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double ms_since(uint64_t t0)
{
    return (double)(now_us() - t0) / 1000.0;
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "%s/%s%s", dir, name, suffix);
    return roost_buf_detach(&b, NULL);
}

static datum slice_datum(struct roost_slice s)
{
    /* GDBM refuses a NULL dptr even for an empty datum, and never writes
     * through the pointers it is given. */
    datum d = { s.ptr ? (char *)s.ptr : (char *)"", (int)s.len };
    return d;
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
static void adopt_owner(const struct roost_store *st, int fd)
{
    int failed = fchmod(fd, FILE_MODE) < 0;
    if (geteuid() == 0)
        failed |= fchown(fd, st->dir_uid, st->dir_gid) < 0;
    (void)failed;
}

/* Opens path read-write, creating it (see adopt_owner()) if missing. */
static int open_create(const struct roost_store *st, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
    if (fd >= 0) {
        adopt_owner(st, fd);
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

static void set_cache_size(const struct gfile *f, GDBM_FILE dbf)
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
static void drop_dbf(struct roost_store *st, GDBM_FILE dbf, int writer)
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
static void keep_cloexec(GDBM_FILE dbf)
{
    int fd = gdbm_fdesc(dbf);
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void drop_handle(struct roost_store *st, struct gfile *f)
{
    drop_dbf(st, f->dbf, f->dbf_writer);
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
static enum roost_err handle_open(struct roost_store *st, struct gfile *f, int writer,
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
    if (writer || !f->is_meta)
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
        drop_dbf(st, dbf, writer);
        dbf = NULL;
        err = ROOST_ERR_STORE_CORRUPT;
        goto out;
    }
    set_cache_size(f, dbf);
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
static void remove_temps(struct roost_store *st, struct gfile *f)
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
static enum roost_err checkpoint(struct roost_store *st, struct gfile *f)
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
    adopt_owner(st, dst);
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

/* Applies a log record to dbf; 0, or -1 with the error on dbf. Idempotent:
 * each record sets its key to a fixed value or removes it. */
static int apply_record(GDBM_FILE dbf, const struct roost_store_gdbm_log_rec *rec)
{
    datum k = slice_datum(rec->key);
    if (rec->op == ROOST_STORE_GDBM_LOG_PUT)
        return gdbm_store(dbf, k, slice_datum(rec->value), GDBM_REPLACE) == 0 ? 0 : -1;
    if (gdbm_delete(dbf, k) == 0 || gdbm_last_errno(dbf) == GDBM_ITEM_NOT_FOUND)
        return 0;
    return -1;
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
    adopt_owner(st, dst);
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
    set_cache_size(f, dbf);

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
            if (apply_record(dbf, &rec) < 0) {
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
        drop_dbf(st, dbf, 1);
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
static enum roost_err repair(struct roost_store *st, struct gfile *f, const char *why)
{
    uint64_t t0 = now_us();
    struct repair_report rp = { .method = gdbm_recover_method };
    struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
    GDBM_FILE dbf = NULL;
    char damage[160];
    int pending = 0;
    enum roost_err err;

    drop_handle(st, f);
    if (PG_GET(f, dirty)) {
        uint64_t off = PG_GET(f, pending_off), end = PG_GET(f, pending_end);
        /* gen == seq means the writer got past its commit point: the write
         * must be applied. Otherwise it died before and GDBM was not
         * touched: the write never happened. */
        if (off != NO_OFFSET && roost_store_gdbm_log_read(f->log_fd, off, end, &rec) == 1
            && rec.end == end && rec.seq == PG_GET(f, gen)) {
            pending = 1;
            /* Finish the commit in case the writer died before these. */
            PG_SET(f, last_rec, off);
            PG_SET(f, log_end, end);
        }
    }

    err = handle_open(st, f, 1, 1, &dbf, damage, sizeof(damage));
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
            keep_cloexec(dbf);
        if (rc == 0 && !rcvr.failed_keys && !rcvr.failed_buckets
            && (!pending || apply_record(dbf, &rec) == 0)) {
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
        drop_dbf(st, dbf, 1);
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
        err = handle_open(st, f, 1, 0, &dbf, damage, sizeof(damage));
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
        drop_dbf(st, dbf, 1);
    roost_store_gdbm_log_rec_release(&rec);
    return err;
}

static enum roost_err repair_dirty(struct roost_store *st, struct gfile *f)
{
    char why[64];
    snprintf(why, sizeof(why), "writer pid %llu died mid-write",
             (unsigned long long)PG_GET(f, dirty));
    return repair(st, f, why);
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
            drop_handle(st, f);
            st->stats.stale_reopens++;
        } else if (f->dbf && f->wrote && !f->dbf_writer) {
            drop_handle(st, f);
            st->stats.upgrades++;
        }
        if (f->dbf)
            return ROOST_OK;
        GDBM_FILE dbf = NULL;
        enum roost_err err = handle_open(st, f, f->wrote, 0, &dbf, damage, sizeof(damage));
        if (err == ROOST_OK) {
            f->dbf = dbf;
            f->dbf_writer = f->wrote;
            f->dbf_gen = gen;
            return ROOST_OK;
        }
        if (!damage[0] || attempt > 0)
            return err;
        err = repair(st, f, damage);
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
        return repair(st, f, why);
    roost_log(ROOST_LOG_ERROR, "store", "%s failed on '%s': %s", what, f->db_path,
              gdbm_db_strerror(f->dbf));
    if (damaged) {
        /* Leave no half-broken handle behind for the next scope. */
        drop_handle(st, f);
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
            drop_handle(st, f);
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
    adopt_owner(st, fd);
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
    remove_temps(st, f);

    /* Repairs here are a courtesy: a failure is logged and left for the
     * scopes that need the file, which report it. */
    if (PG_GET(f, dirty) && repair_dirty(st, f) != ROOST_OK)
        goto out;
    if (!path_exists(f->db_path)) {
        if (!fresh && (PG_GET(f, ckpt_gen) || PG_GET(f, log_end))) {
            (void)repair(st, f, "the file is missing");
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
        (void)checkpoint(st, f);
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
        err = repair_dirty(st, f);
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

/* Writer part of put and delete; stop is 0, or a test hook's crash point. */
static enum roost_err write_op(struct roost_store_scope *sc, int op, struct roost_slice key,
                               struct roost_slice value, int flags, int *existed, int stop)
{
    struct gfile *f = scope_file(sc);
    struct roost_store *st;
    enum roost_err err;
    int ex = 0;

    if (!f)
        return ROOST_ERR_USAGE;
    st = sc->store;
    if (key.len > GDBM_ENTRY_MAX || value.len > GDBM_ENTRY_MAX - key.len)
        return op == ROOST_STORE_GDBM_LOG_PUT ? ROOST_ERR_STORE_TOO_BIG : ROOST_ERR_KEY_NOT_FOUND;

    for (int retry = 0;; retry++) {
        err = prepare(st, f, 1);
        if (err != ROOST_OK)
            return err;
        ex = gdbm_exists(f->dbf, slice_datum(key));
        if (ex || gdbm_last_errno(f->dbf) == GDBM_NO_ERROR
            || gdbm_last_errno(f->dbf) == GDBM_ITEM_NOT_FOUND)
            break;
        err = op_failed(st, f, "gdbm_exists", retry);
        if (err != ROOST_OK)
            return err;
    }
    if (op == ROOST_STORE_GDBM_LOG_PUT && (flags & ROOST_STORE_INSERT) && ex)
        return ROOST_ERR_STORE_EXISTS;
    if (op == ROOST_STORE_GDBM_LOG_DEL && !ex)
        return ROOST_ERR_KEY_NOT_FOUND;

    /* 1. Log. Nothing counts until the commit below, so a failure or a
     * death here leaves the store as it was. */
    uint64_t seq = PG_GET(f, gen) + 1, off = PG_GET(f, log_end), end = 0;
    if (roost_store_gdbm_log_append(f->log_fd, off, seq, op, key, value, &end) < 0) {
        roost_log(ROOST_LOG_ERROR, "store", "cannot append to '%s': %s", f->log_path,
                  strerror(errno));
        return ROOST_ERR_STORE_IO;
    }
    if (stop == ROOST_STORE_GDBM_TEST_STOP_AFTER_LOG)
        return ROOST_OK;

    /* 2. Commit. The order matters to a SIGKILL between any two stores:
     * the pending fields are scratch until gen moves; dirty comes before
     * gen so that a committed write is always seen by a repair; gen = seq
     * is the commit point (repair() re-applies the pending record exactly
     * when gen == its seq); log end and last record follow, and repair()
     * sets them from the pending fields if we die before them. */
    PG_SET(f, pending_off, off);
    PG_SET(f, pending_end, end);
    PG_SET(f, dirty, st->pid);
    PG_SET(f, gen, seq);
    PG_SET(f, last_rec, off);
    PG_SET(f, log_end, end);
    if (stop == ROOST_STORE_GDBM_TEST_STOP_AFTER_COMMIT)
        return ROOST_OK;

    /* 3. Apply. */
    int rc = op == ROOST_STORE_GDBM_LOG_PUT
                 ? gdbm_store(f->dbf, slice_datum(key), slice_datum(value), GDBM_REPLACE)
                 : gdbm_delete(f->dbf, slice_datum(key));
    if (rc != 0) {
        /* The write is committed: a repair re-applies it, and then it
         * stands; if the repair fails, dirty stays set for the next scope. */
        char why[192];
        snprintf(why, sizeof(why), "%s failed: %s",
                 op == ROOST_STORE_GDBM_LOG_PUT ? "gdbm_store" : "gdbm_delete",
                 gdbm_db_strerror(f->dbf));
        err = repair(st, f, why);
        if (err != ROOST_OK)
            return err;
    } else {
        /* 4. Done: our own write does not make our handle stale. */
        f->dbf_gen = seq;
        PG_SET(f, dirty, 0);
    }
    if (existed)
        *existed = ex;
    uint64_t log_end = PG_GET(f, log_end);
    if (log_end > ckpt_threshold(f) && log_end >= f->ckpt_retry_at
        && checkpoint(st, f) != ROOST_OK) {
        /* Logged already. The log keeps every write meanwhile; do not
         * copy the whole file again on every write while, say, the disk
         * is full: retry after another CKPT_LOG_MIN of log. */
        f->ckpt_retry_at = log_end + CKPT_LOG_MIN;
    }
    return ROOST_OK;
}

enum roost_err roost_store_put(struct roost_store_scope *sc, struct roost_slice key,
                               struct roost_slice value, int flags, int *existed)
{
    return write_op(sc, ROOST_STORE_GDBM_LOG_PUT, key, value, flags, existed, 0);
}

enum roost_err roost_store_delete(struct roost_store_scope *sc, struct roost_slice key)
{
    return write_op(sc, ROOST_STORE_GDBM_LOG_DEL, key, ROOST_SLICE_NULL, 0, NULL, 0);
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
        drop_handle(st, f);
        return ROOST_ERR_STORE_IO;
    }
    keep_cloexec(f->dbf);
    f->dbf_gen = gen;
    st->stats.compactions++;
    uint64_t after = fstat(gdbm_fdesc(f->dbf), &sb) == 0 ? (uint64_t)sb.st_size : 0;
    PG_SET(f, compact_size, after);
    /* The checkpoint is a byte copy of the old file: replace it, or a
     * rebuild would start from the bloated layout (the contents are the
     * same, so a failure here loses nothing). */
    (void)checkpoint(st, f);
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
            (void)repair_dirty(st, f);
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
    return write_op(sc, ROOST_STORE_GDBM_LOG_PUT, key, value, 0, NULL, (int)stop);
}
