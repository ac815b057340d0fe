/*
 * counters.c - the statistics page shared by every process of a store
 * (see counters.h).
 *
 * The file "<store dir>/counters", COUNTERS_SIZE bytes, host byte order (it
 * never leaves the host):
 *   offset 0          u64 tag: COUNTERS_MAGIC in the high 32 bits, the
 *                     layout version in the low 32
 *   offset 8..63      reserved, zero
 *   offset 64*(1+i)   u64 counter i, one cache line each, so that workers
 *                     counting different things do not bounce one line
 *                     between cores
 *
 * Creation is race-free without a lock: every opener runs the same
 * idempotent steps, so any number of workers may create the file at once,
 * and one that dies at any step leaves nothing to repair.
 *   1. open with O_CREAT and without O_EXCL: everyone gets the same inode;
 *   2. an empty file is grown to COUNTERS_SIZE (growing it again to the
 *      same size changes nothing; the new bytes read as zero, which is a
 *      valid set of counts) and its blocks are reserved, so that a store
 *      through the mapping cannot meet a full disk (SIGBUS);
 *   3. mmap MAP_SHARED (the descriptor is closed at once: a mapping keeps
 *      the file, and there are no locks on it to lose);
 *   4. compare-and-swap the tag from 0 to its value. The tag is one aligned
 *      64-bit word, so a header is never half written: a process sees 0
 *      (and tries the swap itself) or the whole tag. The loser of the swap
 *      reads the winner's tag and checks it like any existing file's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include <json-c/json.h>

#include "counters.h"
#include "log.h"

#define COUNTERS_FILE "counters"
/* One page: the smallest mapping, and room for 63 counters. */
#define COUNTERS_SIZE 4096
#define COUNTERS_MAGIC 0x52535443u   /* "RSTC" */
/* Bump when the layout changes; an old file is then refused, not misread. */
#define COUNTERS_VERSION 1u
#define COUNTERS_TAG (((uint64_t)COUNTERS_MAGIC << 32) | COUNTERS_VERSION)
#define COUNTERS_SLOT 64
/* Same mode as the store's files (DESIGN.md "Store", point 9). */
#define COUNTERS_MODE 0660

_Static_assert(COUNTERS_SLOT * (1 + ROOST_COUNTER__COUNT) <= COUNTERS_SIZE,
               "the counters must fit in one page");

struct roost_counters {
    unsigned char *page;   /* COUNTERS_SIZE bytes, MAP_SHARED */
};

static uint64_t *tag_of(const struct roost_counters *c)
{
    return (uint64_t *)(void *)c->page;
}

static uint64_t *slot_of(const struct roost_counters *c, enum roost_counter which)
{
    return (uint64_t *)(void *)(c->page + COUNTERS_SLOT * (1 + (size_t)which));
}

static int counter_valid(enum roost_counter which)
{
    return (unsigned)which < (unsigned)ROOST_COUNTER__COUNT;
}

/* A file we find empty was just created, by us or a racing opener: give it
 * the store's mode whatever the umask, and when we run as root (roostctl)
 * the store directory's owner, or the workers could not open it. Every
 * opener that finds it empty does the same, so the race is harmless. */
static void adopt(int fd, const char *dir)
{
    int failed = fchmod(fd, COUNTERS_MODE) < 0;
    struct stat ds;
    if (geteuid() == 0 && stat(dir, &ds) == 0)
        failed |= fchown(fd, ds.st_uid, ds.st_gid) < 0;
    (void)failed;   /* the file stays usable by its creator */
}

/* Steps 1 and 2 of the header comment: a descriptor on a file of exactly
 * COUNTERS_SIZE bytes, or -1 (logged). */
static int open_sized(const char *dir, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, COUNTERS_MODE);
    if (fd < 0) {
        roost_log(ROOST_LOG_ERROR, "counters", "cannot open '%s': %s; check ROOST_STORE_DIR "
                  "and that the workers' user may write there", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        roost_log(ROOST_LOG_ERROR, "counters", "cannot stat '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        roost_log(ROOST_LOG_ERROR, "counters", "'%s' is not a regular file; move it out of "
                  "the store directory", path);
        goto fail;
    }
    if (st.st_size == 0) {
        adopt(fd, dir);
        if (ftruncate(fd, COUNTERS_SIZE) < 0) {
            roost_log(ROOST_LOG_ERROR, "counters", "cannot size '%s': %s", path, strerror(errno));
            goto fail;
        }
    } else if (st.st_size != COUNTERS_SIZE) {
        /* Not ours (or damaged beyond what a crash can do): never resize
         * someone else's file. */
        roost_log(ROOST_LOG_ERROR, "counters", "'%s' is %lld bytes, not %d: not a roost "
                  "counters file; remove it and roost creates a new one", path,
                  (long long)st.st_size, COUNTERS_SIZE);
        goto fail;
    }
    /* Mode 0 allocates without touching data, so it is safe while others
     * count; a file system without it just keeps the hole. */
    if (fallocate(fd, 0, 0, COUNTERS_SIZE) < 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
        roost_log(ROOST_LOG_ERROR, "counters", "cannot reserve '%s': %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

/* Step 4: 0 when the page carries (or now carries) our tag, -1 (logged). */
static int check_tag(struct roost_counters *c, const char *path)
{
    uint64_t seen = 0;
    if (__atomic_compare_exchange_n(tag_of(c), &seen, COUNTERS_TAG, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return 0;   /* we initialised it; the zero counts are the new file's */
    if (seen == COUNTERS_TAG)
        return 0;
    if ((uint32_t)(seen >> 32) != COUNTERS_MAGIC)
        roost_log(ROOST_LOG_ERROR, "counters", "'%s' is not a roost counters file (bad magic); "
                  "remove it and roost creates a new one", path);
    else
        roost_log(ROOST_LOG_ERROR, "counters", "'%s' has layout version %u, this roost reads "
                  "%u; remove it to start counting afresh", path, (unsigned)(uint32_t)seen,
                  COUNTERS_VERSION);
    return -1;
}

enum roost_err roost_counters_open(const char *dir, struct roost_counters **out)
{
    if (!dir || !out || *out)
        return ROOST_ERR_USAGE;
    struct roost_buf path = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/%s", dir, COUNTERS_FILE);
    enum roost_err err = ROOST_ERR_STORE_UNAVAILABLE;
    struct roost_counters *c = NULL;

    int fd = open_sized(dir, path.ptr);
    if (fd < 0)
        goto out;
    void *page = mmap(NULL, COUNTERS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int map_errno = errno;
    close(fd);
    if (page == MAP_FAILED) {
        roost_log(ROOST_LOG_ERROR, "counters", "cannot map '%s': %s", path.ptr,
                  strerror(map_errno));
        goto out;
    }
    c = roost_xcalloc(1, sizeof(*c));
    c->page = page;
    if (check_tag(c, path.ptr) < 0) {
        roost_counters_close(c);
        goto out;
    }
    *out = c;
    err = ROOST_OK;
out:
    roost_buf_release(&path);
    return err;
}

void roost_counters_close(struct roost_counters *c)
{
    if (!c)
        return;
    munmap(c->page, COUNTERS_SIZE);
    free(c);
}

/* Relaxed ordering: each counter is a statistic on its own; nothing else
 * is published through it. */
void roost_counters_add(struct roost_counters *c, enum roost_counter which, uint64_t n)
{
    if (c && counter_valid(which))
        __atomic_fetch_add(slot_of(c, which), n, __ATOMIC_RELAXED);
}

uint64_t roost_counters_get(const struct roost_counters *c, enum roost_counter which)
{
    if (!c || !counter_valid(which))
        return 0;
    return __atomic_load_n(slot_of(c, which), __ATOMIC_RELAXED);
}

void roost_counters_reset(struct roost_counters *c)
{
    if (!c)
        return;
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        __atomic_store_n(slot_of(c, (enum roost_counter)i), 0, __ATOMIC_RELAXED);
}

const char *roost_counter_name(enum roost_counter which)
{
    static const char *const names[ROOST_COUNTER__COUNT] = {
        [ROOST_COUNTER_HITS] = "hits",
        [ROOST_COUNTER_MISSES] = "misses",
        [ROOST_COUNTER_STALE_HITS] = "stale_hits",
        [ROOST_COUNTER_EVICTIONS] = "evictions",
    };
    return counter_valid(which) ? names[which] : "unknown";
}

struct json_object *roost_counters_to_json(const struct roost_counters *c)
{
    struct json_object *o = json_object_new_object();
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        json_object_object_add(o, roost_counter_name((enum roost_counter)i),
                               json_object_new_int64((int64_t)roost_counters_get(c, (enum roost_counter)i)));
    return o;
}
