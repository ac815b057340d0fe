/*
 * test_store.c - the store interface (store.h) on its GDBM backend.
 *
 * Groups:
 *   basics        open/create, put/get/delete/exists, binary and empty and
 *                 1 MiB values, INSERT, existed, size limit, iterate,
 *                 apply (mixed puts and deletes, a key twice, n == 0, its
 *                 op and byte limits), META vs DATA, partitions, nested
 *                 scopes, reopen
 *   processes     several processes at once: mutual exclusion, read-your-
 *                 writes, other processes' writes, fork misuse
 *   crashes       SIGKILLed writers, some of them writing batches with
 *                 apply (acknowledged writes survive, the write in flight
 *                 is all there or not at all), staged crashes at each step
 *                 of a write and between the ops of an apply (test hooks of
 *                 store_gdbm.h), a damaged file rebuilt from checkpoint +
 *                 log (single-op and multi-op records), leftover temporaries
 *   maintenance   checkpoint after 1 MiB of log, compaction seen by handles
 *                 of other processes, roost_store_part_stats()
 *   log           the write-ahead log's records: round trip (one op, several,
 *                 the most), torn and damaged records refused
 *
 * Child processes never return into cmocka: they report through their exit
 * status and pipes, and end with _exit(). Every loop is bounded in count and
 * in time; processes synchronise through pipes and waitpid, never sleeps
 * (the crash test's random delays only choose when to kill).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "store.h"
#include "store_gdbm.h"
#include "store_gdbm_log.h"

/* ---- fixture: a fresh store directory per test ---- */

struct fixture {
    char dir[256];    /* mkdtemp'd parent, removed by teardown */
    char store[300];  /* the store dir inside it (created by open) */
    struct roost_store *st;
};

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/roost-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->store, sizeof(fx->store), "%s/store", fx->dir);
    if (roost_store_open(fx->store, &fx->st) != ROOST_OK) {
        nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    roost_store_close(fx->st);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

#define S(str) roost_slice_cstr(str)
#define assert_err(expr, want)                                                                 \
    do {                                                                                       \
        enum roost_err got_ = (expr);                                                          \
        if (got_ != (want))                                                                    \
            fail_msg("%s: got %s, want %s", #expr, roost_err_name(got_), roost_err_name(want)); \
    } while (0)
#define assert_ok(expr) assert_err(expr, ROOST_OK)

static void put_str(struct roost_store *st, enum roost_store_area area, const char *inst,
                    const char *key, const char *value)
{
    struct roost_store_scope sc;
    assert_ok(roost_store_begin(st, area, S(inst), &sc));
    assert_ok(roost_store_put(&sc, S(key), S(value), 0, NULL));
    roost_store_end(&sc);
}

/* Returns the value as a malloc'd string, or NULL if the key is missing. */
static char *get_str(struct roost_store *st, enum roost_store_area area, const char *inst,
                     const char *key)
{
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    assert_ok(roost_store_begin(st, area, S(inst), &sc));
    enum roost_err err = roost_store_get(&sc, S(key), &v);
    roost_store_end(&sc);
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        return NULL;
    assert_ok(err);
    return roost_buf_detach(&v, NULL);
}

static void assert_value(struct roost_store *st, enum roost_store_area area, const char *inst,
                         const char *key, const char *want)
{
    char *got = get_str(st, area, inst, key);
    if (!want) {
        if (got)
            fail_msg("key '%s': got '%s', want missing", key, got);
        return;
    }
    if (!got)
        fail_msg("key '%s': missing, want '%s'", key, want);
    assert_string_equal(got, want);
    free(got);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void fill_bytes(char *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            seed = mix64(seed + i);
        p[i] = (char)(seed >> (8 * (i % 8)));
    }
}

static struct roost_store_op op_put(const char *key, struct roost_slice value)
{
    struct roost_store_op op = { ROOST_STORE_OP_PUT, S(key), value };
    return op;
}

static struct roost_store_op op_del(const char *key)
{
    /* store.h: a delete's value is ignored, whatever it holds. */
    struct roost_store_op op = { ROOST_STORE_OP_DELETE, S(key), S("ignored") };
    return op;
}

static pid_t fork_or_fail(void)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    return pid;
}

static int wait_status(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Damages the data file of the partition sc held: its header and first
 * buckets become garbage. */
static void damage_file(const char *path)
{
    char junk[8192];
    memset(junk, 0x5a, sizeof(junk));
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
    close(fd);
}

/* Damages the data file of an instance's DATA partition and marks it dirty
 * (as a writer that died), so that this process too finds the damage
 * instead of reading through the buckets its handle has cached. */
static void damage_partition(struct roost_store *st, const char *inst)
{
    struct roost_store_scope sc;
    assert_ok(roost_store_begin(st, ROOST_STORE_DATA, S(inst), &sc));
    damage_file(roost_store_gdbm_path(st, ROOST_STORE_DATA, sc.part - 1));
    assert_ok(roost_store_gdbm_test_mark_dirty(&sc, 1));
    roost_store_end(&sc);
}

/* ---- basics ---- */

static void test_store__open_creates_directory(void **state)
{
    struct fixture *fx = *state;
    struct stat sb;
    /* store.h: "Creates dir (mode 0770) if it is missing." */
    assert_int_equal(stat(fx->store, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0770);
    assert_string_equal(roost_store_dir(fx->st), fx->store);
    /* Every file of every partition exists after open, mode 0660. */
    for (int i = 0; i < roost_store_part_count(fx->st, ROOST_STORE_DATA); i++) {
        const char *p = roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, i);
        assert_non_null(p);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0660);
    }
    /* "*out must be NULL" */
    struct roost_store *other = fx->st;
    assert_err(roost_store_open(fx->store, &other), ROOST_ERR_USAGE);
    /* A missing parent is not created. */
    char bad[400];
    snprintf(bad, sizeof(bad), "%s/no/such/parent", fx->dir);
    other = NULL;
    assert_err(roost_store_open(bad, &other), ROOST_ERR_STORE_UNAVAILABLE);
    assert_null(other);
    roost_store_close(NULL);
}

static void test_store__put_get_delete_exists(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    int existed = -1, ex = -1;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("inst-a"), &sc));
    assert_err(roost_store_get(&sc, S("k1"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_ok(roost_store_exists(&sc, S("k1"), &ex));
    assert_int_equal(ex, 0);
    assert_ok(roost_store_put(&sc, S("k1"), S("v1"), 0, &existed));
    assert_int_equal(existed, 0);
    assert_ok(roost_store_put(&sc, S("k1"), S("v2"), 0, &existed));
    assert_int_equal(existed, 1);
    assert_ok(roost_store_get(&sc, S("k1"), &v));
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.ptr, "v2", 2);
    assert_ok(roost_store_exists(&sc, S("k1"), &ex));
    assert_int_equal(ex, 1);

    /* ROOST_STORE_INSERT: "fail with STORE_EXISTS if key exists", and the
     * value is left alone. */
    assert_err(roost_store_put(&sc, S("k1"), S("v3"), ROOST_STORE_INSERT, &existed),
               ROOST_ERR_STORE_EXISTS);
    assert_ok(roost_store_get(&sc, S("k1"), &v));
    assert_memory_equal(v.ptr, "v2", 2);
    assert_ok(roost_store_put(&sc, S("k2"), S("new"), ROOST_STORE_INSERT, &existed));
    assert_int_equal(existed, 0);

    /* Binary values with NUL bytes come back byte for byte. */
    static const char bin[] = { 'a', 0, 'b', 0, 0, (char)0xff, '\n', 0 };
    assert_ok(roost_store_put(&sc, S("bin"), roost_slice_make(bin, sizeof(bin)), 0, NULL));
    assert_ok(roost_store_get(&sc, S("bin"), &v));
    assert_int_equal(v.len, sizeof(bin));
    assert_memory_equal(v.ptr, bin, sizeof(bin));
    /* Keys are bytes too. */
    static const char binkey[] = { 'k', 0, 'x' };
    assert_ok(roost_store_put(&sc, roost_slice_make(binkey, 3), S("nul-key"), 0, NULL));
    assert_err(roost_store_get(&sc, S("k"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_ok(roost_store_get(&sc, roost_slice_make(binkey, 3), &v));
    assert_memory_equal(v.ptr, "nul-key", 7);

    /* DESIGN.md "API rules": an empty body is a valid value (0 bytes). */
    assert_ok(roost_store_put(&sc, S("empty"), roost_slice_make(NULL, 0), 0, &existed));
    assert_ok(roost_store_get(&sc, S("empty"), &v));
    assert_int_equal(v.len, 0);
    assert_ok(roost_store_exists(&sc, S("empty"), &ex));
    assert_int_equal(ex, 1);

    /* A 1 MiB value (ROOST_MAX_VALUE_BYTES default). */
    size_t big_len = 1024 * 1024;
    char *big = malloc(big_len);
    fill_bytes(big, big_len, 42);
    assert_ok(roost_store_put(&sc, S("big"), roost_slice_make(big, big_len), 0, NULL));
    assert_ok(roost_store_get(&sc, S("big"), &v));
    assert_int_equal(v.len, big_len);
    assert_memory_equal(v.ptr, big, big_len);
    assert_int_equal(v.ptr[v.len], '\0'); /* buf.h: always NUL-terminated */

    /* gdbm's dsize is an int: larger entries are refused before anything
     * is read from the slice. */
    assert_err(roost_store_put(&sc, S("huge"), roost_slice_make(big, (size_t)1 << 31), 0, NULL),
               ROOST_ERR_STORE_TOO_BIG);
    free(big);

    assert_ok(roost_store_delete(&sc, S("k1")));
    assert_err(roost_store_delete(&sc, S("k1")), ROOST_ERR_KEY_NOT_FOUND);
    assert_err(roost_store_get(&sc, S("k1"), &v), ROOST_ERR_KEY_NOT_FOUND);
    roost_store_end(&sc);
    roost_store_end(&sc); /* twice is harmless */

    /* Operations outside a scope are refused. */
    assert_err(roost_store_get(&sc, S("k2"), &v), ROOST_ERR_USAGE);
    roost_buf_release(&v);
}

struct iter_seen {
    int count;
    int stop_after;
    char keys[8][16];
    char values[8][16];
};

static int collect(void *arg, struct roost_slice key, struct roost_slice value)
{
    struct iter_seen *s = arg;
    if (s->count < 8) {
        snprintf(s->keys[s->count], 16, "%.*s", (int)key.len, key.ptr);
        snprintf(s->values[s->count], 16, "%.*s", (int)value.len, value.ptr);
    }
    s->count++;
    return s->stop_after && s->count >= s->stop_after ? ROOST_ERR_INTERNAL : 0;
}

static int seen_pair(const struct iter_seen *s, const char *k, const char *v)
{
    for (int i = 0; i < s->count && i < 8; i++)
        if (strcmp(s->keys[i], k) == 0 && strcmp(s->values[i], v) == 0)
            return 1;
    return 0;
}

static void test_store__iterate_prefix(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct iter_seen seen;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("it"), &sc));
    assert_ok(roost_store_put(&sc, S("a/1"), S("x1"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("a/2"), S("x2"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("ab"), S("x3"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("b/1"), S("x4"), 0, NULL));

    memset(&seen, 0, sizeof(seen));
    assert_ok(roost_store_iterate(&sc, S("a/"), collect, &seen));
    assert_int_equal(seen.count, 2);
    assert_true(seen_pair(&seen, "a/1", "x1"));
    assert_true(seen_pair(&seen, "a/2", "x2"));

    memset(&seen, 0, sizeof(seen));
    assert_ok(roost_store_iterate(&sc, ROOST_SLICE_NULL, collect, &seen));
    assert_int_equal(seen.count, 4);

    memset(&seen, 0, sizeof(seen));
    assert_ok(roost_store_iterate(&sc, S("zzz"), collect, &seen));
    assert_int_equal(seen.count, 0);

    /* fn's non-zero return stops the walk and comes back as the error. */
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 1;
    assert_err(roost_store_iterate(&sc, ROOST_SLICE_NULL, collect, &seen), ROOST_ERR_INTERNAL);
    assert_int_equal(seen.count, 1);
    roost_store_end(&sc);
}

static struct roost_store_gdbm_info info_of(struct roost_store_scope *sc)
{
    struct roost_store_gdbm_info info;
    assert_ok(roost_store_gdbm_get_info(sc, &info));
    return info;
}

static void test_store__apply_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("batch"), &sc));
    assert_ok(roost_store_put(&sc, S("c"), S("old-c"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("e"), S("old-e"), 0, NULL));
    struct roost_store_gdbm_info i0 = info_of(&sc);

    /* Puts and deletes mixed; a delete of a missing key is no error; the
     * same key twice in one batch: the last op wins, whichever it is. */
    static const char bin[] = { 'x', 0, 'y' };
    struct roost_store_op ops[] = {
        op_put("a", S("1")),
        op_put("b", S("2")),
        op_del("c"),
        op_del("never-there"),
        op_put("a", S("3")),
        op_put("d", roost_slice_make(NULL, 0)),
        op_put("e", S("new-e")),
        op_del("e"),
        op_del("f"),
        op_put("f", roost_slice_make(bin, sizeof(bin))),
    };
    const size_t n = sizeof(ops) / sizeof(ops[0]);
    assert_ok(roost_store_apply(&sc, ops, n));
    struct roost_store_gdbm_info i1 = info_of(&sc);
    /* One write: one generation, one log record. */
    assert_int_equal(i1.gen, i0.gen + 1);
    assert_int_equal(i1.log_end - i0.log_end, roost_store_gdbm_log_rec_size(ops, n));
    assert_int_equal(i1.dirty_pid, 0);

    assert_ok(roost_store_get(&sc, S("a"), &v));
    assert_true(roost_slice_eq(roost_buf_slice(&v), S("3")));
    assert_ok(roost_store_get(&sc, S("b"), &v));
    assert_true(roost_slice_eq(roost_buf_slice(&v), S("2")));
    assert_err(roost_store_get(&sc, S("c"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_err(roost_store_get(&sc, S("never-there"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_ok(roost_store_get(&sc, S("d"), &v));
    assert_int_equal(v.len, 0);
    assert_err(roost_store_get(&sc, S("e"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_ok(roost_store_get(&sc, S("f"), &v));
    assert_true(roost_slice_eq(roost_buf_slice(&v), roost_slice_make(bin, sizeof(bin))));

    /* n == 0 writes nothing: no record, no new generation. */
    assert_ok(roost_store_apply(&sc, ops, 0));
    assert_ok(roost_store_apply(&sc, NULL, 0));
    struct roost_store_gdbm_info i2 = info_of(&sc);
    assert_int_equal(i2.gen, i1.gen);
    assert_int_equal(i2.log_end, i1.log_end);

    /* Malformed calls: USAGE, nothing written. */
    assert_err(roost_store_apply(&sc, NULL, 1), ROOST_ERR_USAGE);
    struct roost_store_op bad[] = { op_put("g", S("1")), op_put("h", S("2")) };
    bad[1].kind = (enum roost_store_op_kind)7;
    assert_err(roost_store_apply(&sc, bad, 2), ROOST_ERR_USAGE);
    bad[1] = op_put("h", roost_slice_make(NULL, 3));
    assert_err(roost_store_apply(&sc, bad, 2), ROOST_ERR_USAGE);
    assert_err(roost_store_get(&sc, S("g"), &v), ROOST_ERR_KEY_NOT_FOUND);
    assert_int_equal(info_of(&sc).gen, i1.gen);
    roost_store_end(&sc);
    assert_err(roost_store_apply(&sc, ops, n), ROOST_ERR_USAGE); /* outside a scope */

    /* Another process sees the whole batch. */
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        struct roost_store *st = NULL;
        struct roost_buf w = ROOST_BUF_INIT;
        if (roost_store_open(fx->store, &st) != ROOST_OK
            || roost_store_begin(st, ROOST_STORE_DATA, S("batch"), &sc) != ROOST_OK)
            _exit(2);
        int ok = roost_store_get(&sc, S("a"), &w) == ROOST_OK && strcmp(w.ptr, "3") == 0
                 && roost_store_get(&sc, S("c"), &w) == ROOST_ERR_KEY_NOT_FOUND
                 && roost_store_get(&sc, S("f"), &w) == ROOST_OK && w.len == sizeof(bin);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(wait_status(pid), 0);
    roost_buf_release(&v);
}

static void test_store__apply_limits(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    char (*names)[16] = calloc(ROOST_STORE_APPLY_MAX + 1, 16);
    struct roost_store_op *ops = calloc(ROOST_STORE_APPLY_MAX + 1, sizeof(*ops));

    for (int i = 0; i <= ROOST_STORE_APPLY_MAX; i++) {
        snprintf(names[i], 16, "many-%d", i);
        ops[i] = op_put(names[i], S(names[i]));
    }
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("limits"), &sc));
    struct roost_store_gdbm_info i0 = info_of(&sc);
    /* One op too many: STORE_TOO_BIG, and nothing written. */
    assert_err(roost_store_apply(&sc, ops, ROOST_STORE_APPLY_MAX + 1), ROOST_ERR_STORE_TOO_BIG);
    struct roost_store_gdbm_info i1 = info_of(&sc);
    assert_int_equal(i1.gen, i0.gen);
    assert_int_equal(i1.log_end, i0.log_end);
    assert_err(roost_store_get(&sc, S("many-0"), &v), ROOST_ERR_KEY_NOT_FOUND);
    /* Exactly the most ops: one write (one record, however many pwritev
     * calls it takes). */
    assert_ok(roost_store_apply(&sc, ops, ROOST_STORE_APPLY_MAX));
    assert_int_equal(info_of(&sc).gen, i0.gen + 1);
    for (int i = 0; i < ROOST_STORE_APPLY_MAX; i += 97) {
        assert_ok(roost_store_get(&sc, S(names[i]), &v));
        assert_string_equal(v.ptr, names[i]);
    }
    assert_ok(roost_store_get(&sc, S(names[ROOST_STORE_APPLY_MAX - 1]), &v));
    assert_err(roost_store_get(&sc, S(names[ROOST_STORE_APPLY_MAX]), &v), ROOST_ERR_KEY_NOT_FOUND);

    /* Bytes: keys and values together, at most ROOST_STORE_APPLY_BYTES. Two
     * values share one buffer; the byte after the limit is refused before
     * anything is read or written. */
    size_t half = ROOST_STORE_APPLY_BYTES / 2;
    char *big = malloc(half);
    fill_bytes(big, half, 9);
    struct roost_store_op two[] = {
        op_put("B", roost_slice_make(big, half - 1)),
        op_put("C", roost_slice_make(big, half - 1)),
    };
    two[1].value.len = half; /* 1 + (half-1) + 1 + half = limit + 1 */
    uint64_t gen = info_of(&sc).gen;
    assert_err(roost_store_apply(&sc, two, 2), ROOST_ERR_STORE_TOO_BIG);
    assert_int_equal(info_of(&sc).gen, gen);
    assert_err(roost_store_get(&sc, S("B"), &v), ROOST_ERR_KEY_NOT_FOUND);
    /* A delete's value does not count, and neither does it get read. */
    struct roost_store_op del_huge = { ROOST_STORE_OP_DELETE, S("B"),
                                       roost_slice_make(big, (size_t)1 << 40) };
    assert_ok(roost_store_apply(&sc, &del_huge, 1));
    /* Exactly at the limit: accepted, and every byte comes back. */
    two[1].value.len = half - 1;
    assert_ok(roost_store_apply(&sc, two, 2));
    assert_ok(roost_store_get(&sc, S("C"), &v));
    assert_int_equal(v.len, half - 1);
    assert_memory_equal(v.ptr, big, half - 1);
    free(big);
    roost_store_end(&sc);
    roost_buf_release(&v);
    free(names);
    free(ops);
}

static void test_store__meta_and_data_are_separate(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope a;

    put_str(fx->st, ROOST_STORE_META, NULL, "same-key", "meta");
    put_str(fx->st, ROOST_STORE_DATA, "inst-1", "same-key", "data");
    assert_value(fx->st, ROOST_STORE_META, NULL, "same-key", "meta");
    assert_value(fx->st, ROOST_STORE_DATA, "inst-1", "same-key", "data");

    /* store.h: "every key of one instance lives in the same partition". */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("inst-1"), &a));
    int part = a.part;
    roost_store_end(&a);
    for (int i = 0; i < 5; i++) {
        assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("inst-1"), &a));
        assert_int_equal(a.part, part);
        roost_store_end(&a);
    }
    /* Distinct instances spread over the partitions. */
    int used[64] = { 0 }, distinct = 0;
    for (int i = 0; i < 64; i++) {
        char id[32];
        snprintf(id, sizeof(id), "tenant-%d", i);
        assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S(id), &a));
        assert_in_range(a.part, 0, 63);
        distinct += !used[a.part]++;
        roost_store_end(&a);
    }
    assert_true(distinct > 4);

    assert_int_equal(roost_store_part_count(fx->st, ROOST_STORE_META), 1);
    int n = roost_store_part_count(fx->st, ROOST_STORE_DATA);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        assert_ok(roost_store_begin_part(fx->st, ROOST_STORE_DATA, i, &a));
        roost_store_end(&a);
    }
    assert_err(roost_store_begin_part(fx->st, ROOST_STORE_DATA, n, &a), ROOST_ERR_USAGE);
    assert_err(roost_store_begin_part(fx->st, ROOST_STORE_META, 1, &a), ROOST_ERR_USAGE);
    roost_store_end(&a); /* safe on a failed begin */

    /* The part the instance maps to is the one begin_part reaches. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("inst-1"), &a));
    roost_store_end(&a);
}

static void test_store__nested_scope_is_usage_error(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope outer, inner;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("nest"), &outer));
    /* An OFD re-lock would silently succeed and the inner end would drop
     * the outer lock: refused. */
    assert_err(roost_store_begin(fx->st, ROOST_STORE_DATA, S("nest"), &inner), ROOST_ERR_USAGE);
    roost_store_end(&inner);
    /* store.h lock order: META first, at most one DATA partition. */
    assert_err(roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &inner),
               ROOST_ERR_USAGE);
    int other = -1;
    for (int i = 0; i < roost_store_part_count(fx->st, ROOST_STORE_DATA); i++)
        if (i != outer.part - 1) {
            other = i;
            break;
        }
    assert_err(roost_store_begin_part(fx->st, ROOST_STORE_DATA, other, &inner), ROOST_ERR_USAGE);
    /* The outer scope is still whole. */
    assert_ok(roost_store_put(&outer, S("k"), S("v"), 0, NULL));
    roost_store_end(&outer);

    /* The allowed order: META, then one DATA. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &outer));
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("nest"), &inner));
    assert_ok(roost_store_put(&outer, S("m"), S("1"), 0, NULL));
    assert_ok(roost_store_put(&inner, S("d"), S("2"), 0, NULL));
    roost_store_end(&inner);
    roost_store_end(&outer);
    assert_value(fx->st, ROOST_STORE_DATA, "nest", "k", "v");
}

static void test_store__reopen_sees_data(void **state)
{
    struct fixture *fx = *state;
    put_str(fx->st, ROOST_STORE_DATA, "persist", "key", "value");
    put_str(fx->st, ROOST_STORE_META, NULL, "mkey", "mvalue");
    roost_store_close(fx->st);
    fx->st = NULL;
    assert_ok(roost_store_open(fx->store, &fx->st));
    assert_value(fx->st, ROOST_STORE_DATA, "persist", "key", "value");
    assert_value(fx->st, ROOST_STORE_META, NULL, "mkey", "mvalue");
    /* A second store object in the same process shares the files. */
    struct roost_store *second = NULL;
    assert_ok(roost_store_open(fx->store, &second));
    put_str(second, ROOST_STORE_DATA, "persist", "key", "changed");
    assert_value(fx->st, ROOST_STORE_DATA, "persist", "key", "changed");
    roost_store_close(second);
    assert_ok(roost_store_flush(fx->st));
}

static void test_store__refuses_foreign_lock_page(void **state)
{
    struct fixture *fx = *state;
    char lock[512];
    snprintf(lock, sizeof(lock), "%s.lock", roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, 3));
    roost_store_close(fx->st);
    fx->st = NULL;
    int fd = open(lock, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "NOTOURS!", 8, 0), 8);
    close(fd);
    struct roost_store *st = NULL;
    assert_err(roost_store_open(fx->store, &st), ROOST_ERR_STORE_UNAVAILABLE);
    assert_null(st);
    /* Put it back so that teardown's close has a store to close. */
    assert_int_equal(unlink(lock), 0);
    assert_ok(roost_store_open(fx->store, &fx->st));
}

/* ---- processes ---- */

#define COHERENCE_PROCS 4
#define COHERENCE_ITERS 300

/* One child of the coherence test: increments shared counters under their
 * scope (a lost update means a stale read or a broken lock), writes and
 * reads back its own key, and watches the others' keys move forward. */
static int coherence_child(const char *dir, int id)
{
    struct roost_store *st = NULL;
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    long last_seen[COHERENCE_PROCS] = { 0 };
    char own_inst[32], own_key[32], num[32];
    int rc = 1;

    snprintf(own_inst, sizeof(own_inst), "proc-%d", id);
    snprintf(own_key, sizeof(own_key), "k-%d", id);
    if (roost_store_open(dir, &st) != ROOST_OK)
        return 2;
    for (int i = 1; i <= COHERENCE_ITERS; i++) {
        for (int area = 0; area < 2; area++) {
            if (area == ROOST_STORE_META && i % 3 != 0)
                continue;
            if (roost_store_begin(st, area, S("shared"), &sc) != ROOST_OK)
                goto out;
            long n = 0;
            enum roost_err err = roost_store_get(&sc, S(area ? "counter" : "mcounter"), &v);
            if (err == ROOST_OK)
                n = strtol(v.ptr, NULL, 10);
            else if (err != ROOST_ERR_KEY_NOT_FOUND)
                goto out;
            snprintf(num, sizeof(num), "%ld", n + 1);
            if (roost_store_put(&sc, S(area ? "counter" : "mcounter"), S(num), 0, NULL))
                goto out;
            roost_store_end(&sc);
        }
        /* Read-your-writes across scopes. */
        snprintf(num, sizeof(num), "%d", i);
        if (roost_store_begin(st, ROOST_STORE_DATA, S(own_inst), &sc)
            || roost_store_put(&sc, S(own_key), S(num), 0, NULL))
            goto out;
        roost_store_end(&sc);
        if (roost_store_begin(st, ROOST_STORE_DATA, S(own_inst), &sc)
            || roost_store_get(&sc, S(own_key), &v) || strcmp(v.ptr, num) != 0) {
            rc = 3;
            goto out;
        }
        roost_store_end(&sc);
        /* Other processes' writes only ever move forward. */
        for (int j = 0; j < COHERENCE_PROCS; j++) {
            char inst[32], key[32];
            if (j == id)
                continue;
            snprintf(inst, sizeof(inst), "proc-%d", j);
            snprintf(key, sizeof(key), "k-%d", j);
            if (roost_store_begin(st, ROOST_STORE_DATA, S(inst), &sc))
                goto out;
            enum roost_err err = roost_store_get(&sc, S(key), &v);
            roost_store_end(&sc);
            if (err == ROOST_ERR_KEY_NOT_FOUND)
                continue;
            if (err)
                goto out;
            long n = strtol(v.ptr, NULL, 10);
            if (n < last_seen[j]) {
                rc = 4;
                goto out;
            }
            last_seen[j] = n;
        }
    }
    rc = 0;
out:
    roost_store_end(&sc);
    roost_buf_release(&v);
    roost_store_close(st);
    return rc;
}

static void test_store__processes_are_coherent(void **state)
{
    struct fixture *fx = *state;
    pid_t pids[COHERENCE_PROCS];

    /* A store must be opened after fork: each child opens its own. */
    for (int i = 0; i < COHERENCE_PROCS; i++) {
        pids[i] = fork_or_fail();
        if (pids[i] == 0)
            _exit(coherence_child(fx->store, i));
    }
    for (int i = 0; i < COHERENCE_PROCS; i++) {
        int status = wait_status(pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d failed: status 0x%x", i, status);
    }
    /* No increment was lost: each ran under an exclusive lock on data that
     * was never stale. */
    char want[32];
    snprintf(want, sizeof(want), "%d", COHERENCE_PROCS * COHERENCE_ITERS);
    assert_value(fx->st, ROOST_STORE_DATA, "shared", "counter", want);
    snprintf(want, sizeof(want), "%d", COHERENCE_PROCS * (COHERENCE_ITERS / 3));
    assert_value(fx->st, ROOST_STORE_META, "shared", "mcounter", want);
    snprintf(want, sizeof(want), "%d", COHERENCE_ITERS);
    for (int i = 0; i < COHERENCE_PROCS; i++) {
        char inst[32], key[32];
        snprintf(inst, sizeof(inst), "proc-%d", i);
        snprintf(key, sizeof(key), "k-%d", i);
        assert_value(fx->st, ROOST_STORE_DATA, inst, key, want);
    }
}

static void test_store__scope_after_fork_is_refused(void **state)
{
    struct fixture *fx = *state;
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        /* The parent's store shares its lock descriptors with the parent. */
        struct roost_store_scope sc;
        enum roost_err err = roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
        roost_store_close(fx->st); /* releases our copies only */
        _exit(err == ROOST_ERR_USAGE ? 0 : 1);
    }
    assert_int_equal(wait_status(pid), 0);
    /* The parent's store is untouched. */
    put_str(fx->st, ROOST_STORE_META, NULL, "after-fork", "ok");
    assert_value(fx->st, ROOST_STORE_META, NULL, "after-fork", "ok");
}

/* ---- crashes ---- */

/*
 * SIGKILLed writers. CRASH_SLOTS writer processes run at once, each on its
 * own keys (in its own DATA partition and in META); the parent kills one at
 * a random moment, collects the writes it acknowledged, settles the write
 * that was in flight (below), and starts another writer in its slot that
 * continues on the same keys. Writes follow a fixed schedule (op_at()), so
 * the parent knows every write, acknowledged or not. Slot 0 writes with
 * put and delete only; the other slots make about half of their writes
 * roost_store_apply() batches of 2..CRASH_BATCH_MAX puts and deletes (a key
 * may come twice: the last op wins). A child acknowledges a write on its
 * pipe after put/delete/apply returned OK.
 *
 * The write in flight when a writer died (at most one: writes are
 * sequential) may be applied or not, but as a whole: right after the kill
 * the parent reads every key it touches (its scope repairs the partition if
 * the writer died mid-write) and finds each key either as the write left
 * it or as before it, never a mix. The model then takes the write or not,
 * so it stays exact, and at the end a fresh process checks every key
 * against it: nothing acknowledged may be lost.
 */
#define CRASH_SLOTS 3
#define CRASH_KEYS 24
#define CRASH_BATCH_MAX 6 /* below 8: a value's tag is counter * 8 + op index */
#define CRASH_KILLS 300
#define CRASH_MAX_DELAY_US 30000
#define CRASH_TIME_LIMIT_S 20
#define CRASH_VALUE_MAX 70000

struct crash_op {
    int meta;        /* 1: META area, 0: the slot's DATA partition */
    int n;           /* 1: a put or delete; more: one apply of n ops */
    int key[CRASH_BATCH_MAX];   /* 0..CRASH_KEYS-1 */
    int del[CRASH_BATCH_MAX];
    size_t len[CRASH_BATCH_MAX];
};

static struct crash_op op_at(int slot, uint64_t counter)
{
    uint64_t h = mix64(counter * 0x9e3779b97f4a7c15ull + 7);
    uint64_t b = mix64(h ^ 0x5bd1e9955bd1e995ull);
    struct crash_op op;
    memset(&op, 0, sizeof(op));
    op.meta = h % 8 == 0;
    op.n = slot > 0 && b % 2 == 0 ? 2 + (int)((b >> 8) % (CRASH_BATCH_MAX - 1)) : 1;
    for (int i = 0; i < op.n; i++) {
        uint64_t g = i == 0 ? h : mix64(h + (uint64_t)i);
        op.key[i] = (int)((g >> 8) % CRASH_KEYS);
        op.del[i] = (g >> 16) % 13 == 0;
        unsigned r = (unsigned)((g >> 24) % 100);
        /* Mostly small values, some large enough to force checkpoints and
         * multi-page writes while processes are being killed. */
        op.len[i] = r < 70 ? 16 + (g >> 32) % 500 : r < 97 ? 16 + (g >> 32) % 8000
                                                          : 40000 + (g >> 32) % 30000;
    }
    return op;
}

static uint64_t crash_tag(uint64_t counter, int i)
{
    return counter * 8 + (uint64_t)i;
}

static void crash_key(char *buf, size_t n, int slot, int key)
{
    snprintf(buf, n, "slot%d-key%02d", slot, key);
}

/* A value names its tag (counter and op index) in its first 8 bytes; the
 * rest follows from the tag, so any tear or mix-up shows. */
static void crash_value(char *buf, uint64_t tag, size_t len)
{
    memcpy(buf, &tag, 8);
    fill_bytes(buf + 8, len - 8, tag);
}

static int crash_writer(const char *dir, int slot, uint64_t base, int ack_fd)
{
    struct roost_store *st = NULL;
    char inst[32], keys[CRASH_BATCH_MAX][32];
    char *vals = malloc((size_t)CRASH_BATCH_MAX * CRASH_VALUE_MAX);
    struct roost_store_op ops[CRASH_BATCH_MAX];

    roost_log_set_level(ROOST_LOG_ERROR);
    snprintf(inst, sizeof(inst), "crash-slot-%d", slot);
    if (!vals || roost_store_open(dir, &st) != ROOST_OK)
        return 2;
    for (uint64_t c = 0;; c++) {
        uint64_t counter = base + c;
        struct crash_op op = op_at(slot, counter);
        struct roost_store_scope sc;
        for (int i = 0; i < op.n; i++) {
            char *val = vals + (size_t)i * CRASH_VALUE_MAX;
            crash_key(keys[i], sizeof(keys[i]), slot, op.key[i]);
            ops[i].kind = op.del[i] ? ROOST_STORE_OP_DELETE : ROOST_STORE_OP_PUT;
            ops[i].key = S(keys[i]);
            ops[i].value = ROOST_SLICE_NULL;
            if (!op.del[i]) {
                crash_value(val, crash_tag(counter, i), op.len[i]);
                ops[i].value = roost_slice_make(val, op.len[i]);
            }
        }
        if (roost_store_begin(st, op.meta ? ROOST_STORE_META : ROOST_STORE_DATA, S(inst), &sc))
            return 3;
        enum roost_err err;
        if (op.n > 1) {
            err = roost_store_apply(&sc, ops, (size_t)op.n);
        } else if (op.del[0]) {
            err = roost_store_delete(&sc, ops[0].key);
            if (err == ROOST_ERR_KEY_NOT_FOUND)
                err = ROOST_OK;
        } else {
            err = roost_store_put(&sc, ops[0].key, ops[0].value, 0, NULL);
        }
        roost_store_end(&sc);
        if (err)
            return 4;
        /* Acknowledge only now that the store said OK. */
        if (write(ack_fd, &counter, sizeof(counter)) != sizeof(counter))
            return 5;
    }
}

/* Expected state: per key, the tag of the last op on it of the last write
 * that was acknowledged (or found applied after a kill); 0 if none. */
struct crash_model {
    uint64_t keys[CRASH_SLOTS][2][CRASH_KEYS];
};

static void model_apply(struct crash_model *m, int slot, uint64_t counter)
{
    struct crash_op op = op_at(slot, counter);
    for (int i = 0; i < op.n; i++) /* in order: the last op on a key wins */
        m->keys[slot][op.meta][op.key[i]] = crash_tag(counter, i);
}

/* Does value v (NULL: missing) match the state after the op of tag (0: the
 * key was never written)? */
static int crash_matches(int slot, uint64_t tag, const struct roost_buf *v, char *scratch)
{
    if (tag == 0)
        return v == NULL;
    struct crash_op op = op_at(slot, tag / 8);
    int i = (int)(tag % 8);
    if (op.del[i])
        return v == NULL;
    if (!v || v->len != op.len[i])
        return 0;
    crash_value(scratch, tag, op.len[i]);
    return memcmp(v->ptr, scratch, op.len[i]) == 0;
}

struct crash_figures {
    long acked;            /* writes acknowledged */
    long acked_batches;    /* of which: applies of several ops */
    long settled[3];       /* in flight at a kill: applied whole, not at all, either */
    long batches[3];       /* of which: applies of several ops */
    long batches_redone;   /* batches a repair re-applied from the log */
    long torn;             /* in flight and found partly applied: must be 0 */
};

/* The writer of slot died with the write of counter possibly in flight:
 * reads its keys in this process (whose scope repairs the partition first
 * if the writer died mid-write) and takes the write into the model if it is
 * there. Every key must show the write or the state before it, all the
 * same one (keys where the two look alike, say a delete of a missing key,
 * count as either). */
static void crash_settle(struct roost_store *st, struct crash_model *m, int slot,
                         uint64_t counter, struct crash_figures *fig, char *scratch)
{
    struct crash_op op = op_at(slot, counter);
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    struct roost_store_gdbm_stats before, after;
    char inst[32], key[32];
    int news = 0, olds = 0, neither = 0;

    snprintf(inst, sizeof(inst), "crash-slot-%d", slot);
    roost_store_gdbm_get_stats(st, &before);
    assert_ok(roost_store_begin(st, op.meta ? ROOST_STORE_META : ROOST_STORE_DATA, S(inst), &sc));
    for (int i = 0; i < op.n; i++) {
        int last = 1;
        for (int j = i + 1; j < op.n; j++)
            last &= op.key[j] != op.key[i];
        if (!last)
            continue; /* a later op of the write sets this key */
        crash_key(key, sizeof(key), slot, op.key[i]);
        enum roost_err err = roost_store_get(&sc, S(key), &v);
        if (err != ROOST_ERR_KEY_NOT_FOUND)
            assert_ok(err);
        const struct roost_buf *got = err == ROOST_OK ? &v : NULL;
        int is_new = crash_matches(slot, crash_tag(counter, i), got, scratch);
        int is_old = crash_matches(slot, m->keys[slot][op.meta][op.key[i]], got, scratch);
        news += is_new && !is_old;
        olds += is_old && !is_new;
        neither += !is_new && !is_old;
    }
    roost_store_end(&sc);
    roost_buf_release(&v);
    roost_store_gdbm_get_stats(st, &after);

    int k = news ? 0 : olds ? 1 : 2;
    if (neither || (news && olds)) {
        fprintf(stderr, "crash test: slot %d, write %llu of %d ops in flight: %d keys show it, "
                "%d the state before, %d neither\n", slot, (unsigned long long)counter, op.n,
                news, olds, neither);
        fig->torn++;
        return;
    }
    fig->settled[k]++;
    if (op.n > 1) {
        fig->batches[k]++;
        fig->batches_redone += (long)(after.replays - before.replays);
    }
    if (k != 1)
        model_apply(m, slot, counter);
}

/* Checks every key in a fresh process; reports lost keys and the repairs
 * the lock pages counted (long[3]: lost, repairs, rebuilds) on out_fd. */
static int crash_verify(const char *dir, const struct crash_model *m, int out_fd)
{
    struct roost_store *st = NULL;
    struct roost_buf v = ROOST_BUF_INIT;
    char *scratch = malloc(CRASH_VALUE_MAX);
    int lost = 0;

    if (roost_store_open(dir, &st) != ROOST_OK)
        return 255;
    for (int slot = 0; slot < CRASH_SLOTS; slot++) {
        char inst[32], key[32];
        snprintf(inst, sizeof(inst), "crash-slot-%d", slot);
        for (int meta = 0; meta < 2; meta++) {
            for (int k = 0; k < CRASH_KEYS; k++) {
                uint64_t want = m->keys[slot][meta][k];
                struct roost_store_scope sc;
                crash_key(key, sizeof(key), slot, k);
                if (roost_store_begin(st, meta ? ROOST_STORE_META : ROOST_STORE_DATA, S(inst),
                                      &sc)) {
                    lost++;
                    continue;
                }
                enum roost_err err = roost_store_get(&sc, S(key), &v);
                roost_store_end(&sc);
                if (err != ROOST_OK && err != ROOST_ERR_KEY_NOT_FOUND) {
                    lost++;
                    continue;
                }
                const struct roost_buf *got = err == ROOST_OK ? &v : NULL;
                if (crash_matches(slot, want, got, scratch))
                    continue;
                uint64_t tag = 0;
                if (got && got->len >= 8)
                    memcpy(&tag, got->ptr, 8);
                fprintf(stderr, "crash test: %s %s: want op %llu.%d, found %s (op %llu.%d, "
                        "%zu bytes)\n", meta ? "META" : inst, key,
                        (unsigned long long)(want / 8), (int)(want % 8),
                        got ? "a value" : "nothing", (unsigned long long)(tag / 8),
                        (int)(tag % 8), got ? got->len : 0);
                lost++;
            }
        }
    }
    long report[3] = { lost, 0, 0 };
    for (int area = 0; area < 2; area++)
        for (int i = 0; i < roost_store_part_count(st, area); i++) {
            struct roost_store_scope sc;
            struct roost_store_gdbm_info info;
            if (roost_store_begin_part(st, area, i, &sc) == ROOST_OK
                && roost_store_gdbm_get_info(&sc, &info) == ROOST_OK) {
                report[1] += (long)info.repairs;
                report[2] += (long)info.rebuilds;
            }
            roost_store_end(&sc);
        }
    if (write(out_fd, report, sizeof(report)) != sizeof(report))
        return 254;
    roost_buf_release(&v);
    roost_store_close(st);
    free(scratch);
    return 0;
}

struct crash_slot {
    pid_t pid;
    int fd;             /* read end of the child's ack pipe */
    uint64_t base;      /* counter of the child's first op */
    uint64_t next;      /* counter of the next op expected to be acked */
};

/* Reads whatever acknowledgements are waiting; with wait_eof, until the
 * (dead) child's pipe ends. Returns -1 if out of order. */
static int drain_acks(struct crash_model *m, int slot_no, struct crash_slot *s, int wait_eof,
                      struct crash_figures *fig)
{
    for (;;) {
        uint64_t buf[512];
        if (!wait_eof) {
            struct pollfd p = { .fd = s->fd, .events = POLLIN };
            if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
                return 0;
        }
        ssize_t r = read(s->fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        /* Writes of 8 bytes to a pipe are atomic, so whole records. */
        for (size_t i = 0; i < (size_t)r / 8; i++) {
            if (buf[i] != s->next)
                return -1;
            model_apply(m, slot_no, buf[i]);
            fig->acked++;
            fig->acked_batches += op_at(slot_no, buf[i]).n > 1;
            s->next++;
        }
        if (!wait_eof && (size_t)r < sizeof(buf))
            return 0;
    }
}

static void crash_spawn(const char *dir, struct crash_slot *s, int slot_no, uint64_t base)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    s->base = s->next = base;
    s->pid = fork_or_fail();
    if (s->pid == 0) {
        close(p[0]);
        _exit(crash_writer(dir, slot_no, base, p[1]));
    }
    close(p[1]);
    s->fd = p[0];
}

/* Kills slot's writer (if not dead yet), collects its acknowledgements and
 * settles its write in flight. Returns 1 if it had exited by itself. */
static int crash_reap(struct roost_store *st, struct crash_model *m, int slot,
                      struct crash_slot *s, struct crash_figures *fig, char *scratch)
{
    kill(s->pid, SIGKILL);
    int status = wait_status(s->pid);
    if (drain_acks(m, slot, s, 1, fig) < 0)
        fail_msg("slot %d: acknowledgements out of order", slot);
    close(s->fd);
    /* The op after the last acknowledged one may have been applied. */
    crash_settle(st, m, slot, s->next, fig, scratch);
    if (WIFSIGNALED(status))
        return 0;
    fprintf(stderr, "crash test: writer exited early with status 0x%x\n", status);
    return 1;
}

static void test_store__acknowledged_writes_survive_sigkill(void **state)
{
    struct fixture *fx = *state;
    struct crash_model *m = calloc(1, sizeof(*m));
    struct crash_slot slots[CRASH_SLOTS];
    struct crash_figures fig;
    char *scratch = malloc(CRASH_VALUE_MAX);
    uint64_t next_base = 1;
    long kills = 0, early_exits = 0;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *env_seed = getenv("ROOST_TEST_SEED");
    if (env_seed)
        seed = (unsigned)strtoul(env_seed, NULL, 10);
    srand(seed);
    memset(&fig, 0, sizeof(fig));
    time_t start = time(NULL);
    /* This process repairs what the dead writers left: quietly. */
    enum roost_log_level level = roost_log_get_level();
    roost_log_set_level(ROOST_LOG_ERROR);

    /* Each child starts a counter range of its own: 10^7 ops is more than
     * any child can do in CRASH_TIME_LIMIT_S. */
    for (int i = 0; i < CRASH_SLOTS; i++) {
        crash_spawn(fx->store, &slots[i], i, next_base);
        next_base += 10000000;
    }
    while (kills < CRASH_KILLS && time(NULL) - start < CRASH_TIME_LIMIT_S) {
        int victim = rand() % CRASH_SLOTS;
        struct timespec d = { 0, (long)(rand() % CRASH_MAX_DELAY_US) * 1000 };
        nanosleep(&d, NULL); /* picks the moment to kill; nothing waits on it */
        for (int i = 0; i < CRASH_SLOTS; i++)
            if (drain_acks(m, i, &slots[i], 0, &fig) < 0)
                fail_msg("slot %d: acknowledgements out of order", i);
        early_exits += crash_reap(fx->st, m, victim, &slots[victim], &fig, scratch);
        kills++;
        crash_spawn(fx->store, &slots[victim], victim, next_base);
        next_base += 10000000;
    }
    for (int i = 0; i < CRASH_SLOTS; i++) {
        early_exits += crash_reap(fx->st, m, i, &slots[i], &fig, scratch);
        kills++;
    }
    roost_log_set_level(level);

    /* Verify in a process that never saw the store before. */
    int rp[2];
    long report[3] = { -1, 0, 0 };
    assert_int_equal(pipe(rp), 0);
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        close(rp[0]);
        _exit(crash_verify(fx->store, m, rp[1]));
    }
    close(rp[1]);
    ssize_t got = read(rp[0], report, sizeof(report));
    close(rp[0]);
    int status = wait_status(pid);
    printf("crash test: seed %u, %ld kills, %ld acknowledged writes (%ld batches of 2-%d ops), "
           "%ld lost; in flight at a kill: %ld applied whole, %ld not at all, %ld either way "
           "(batches: %ld / %ld / %ld, %ld redone from the log by a repair), %ld torn; "
           "%ld repairs (%ld rebuilds), %ld s\n",
           seed, kills, fig.acked, fig.acked_batches, CRASH_BATCH_MAX, report[0],
           fig.settled[0], fig.settled[1], fig.settled[2], fig.batches[0], fig.batches[1],
           fig.batches[2], fig.batches_redone, fig.torn, report[1], report[2],
           (long)(time(NULL) - start));
    free(m);
    free(scratch);
    assert_int_equal(status, 0);
    assert_int_equal(got, sizeof(report));
    assert_int_equal(early_exits, 0);
    assert_true(kills >= 50);
    assert_true(fig.acked > 0);
    assert_true(fig.acked_batches > 0);
    /* All or nothing for every write in flight, nothing acknowledged lost. */
    assert_int_equal(fig.torn, 0);
    assert_int_equal(report[0], 0);
    /* Kills landed inside writes (else this tested nothing). */
    assert_true(report[1] > 0);
    assert_true(fig.batches[0] + fig.batches[1] + fig.batches[2] > 0);
}

/* A writer died between its commit and gdbm_store: the next scope must
 * redo the write from the log. */
static void test_store__committed_write_is_redone(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_store_gdbm_stats before, after;

    put_str(fx->st, ROOST_STORE_DATA, "redo", "k", "old");
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("redo"), &sc));
    assert_ok(roost_store_gdbm_test_put_partial(&sc, S("k"), S("new"),
                                                ROOST_STORE_GDBM_TEST_STOP_AFTER_COMMIT));
    roost_store_end(&sc);
    roost_store_gdbm_get_stats(fx->st, &before);
    assert_value(fx->st, ROOST_STORE_DATA, "redo", "k", "new");
    roost_store_gdbm_get_stats(fx->st, &after);
    assert_int_equal(after.recoveries, before.recoveries + 1);
    assert_int_equal(after.replays, before.replays + 1);

    /* And in another process, which only sees the files. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("redo"), &sc));
    assert_ok(roost_store_gdbm_test_put_partial(&sc, S("k"), S("newer"),
                                                ROOST_STORE_GDBM_TEST_STOP_AFTER_COMMIT));
    roost_store_end(&sc);
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        /* No cmocka asserts in a child: they would jump back into the
         * runner and run the remaining tests twice. */
        struct roost_store *st = NULL;
        struct roost_buf v = ROOST_BUF_INIT;
        if (roost_store_open(fx->store, &st) != ROOST_OK
            || roost_store_begin(st, ROOST_STORE_DATA, S("redo"), &sc) != ROOST_OK)
            _exit(2);
        enum roost_err err = roost_store_get(&sc, S("k"), &v);
        _exit(err == ROOST_OK && strcmp(v.ptr, "newer") == 0 ? 0 : 1);
    }
    assert_int_equal(wait_status(pid), 0);
    assert_value(fx->st, ROOST_STORE_DATA, "redo", "k", "newer");
}

/* A writer died after logging but before its commit: the write never
 * happened, and a later rebuild from the log must not resurrect it. */
static void test_store__uncommitted_write_vanishes(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;

    put_str(fx->st, ROOST_STORE_DATA, "phantom", "k", "old");
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("phantom"), &sc));
    assert_ok(roost_store_gdbm_test_put_partial(&sc, S("k"), S("phantom"),
                                                ROOST_STORE_GDBM_TEST_STOP_AFTER_LOG));
    roost_store_end(&sc);
    assert_value(fx->st, ROOST_STORE_DATA, "phantom", "k", "old");
    put_str(fx->st, ROOST_STORE_DATA, "phantom", "k2", "later");

    /* Force a rebuild from checkpoint + log. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("phantom"), &sc));
    int part = sc.part - 1;
    roost_store_end(&sc);
    damage_file(roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part));
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("phantom"), &sc));
    assert_ok(roost_store_gdbm_test_mark_dirty(&sc, 1));
    roost_store_end(&sc);
    struct roost_store_gdbm_stats before, after;
    roost_store_gdbm_get_stats(fx->st, &before);
    assert_value(fx->st, ROOST_STORE_DATA, "phantom", "k", "old");
    assert_value(fx->st, ROOST_STORE_DATA, "phantom", "k2", "later");
    roost_store_gdbm_get_stats(fx->st, &after);
    assert_int_equal(after.rebuilds, before.rebuilds + 1);
}

/* The batch of the staged-crash tests: on top of staged_base(), every op
 * changes something, and "a" is written twice. */
static const char *const staged_keys[] = { "a", "b", "c", "d", "e" };

static void staged_base(struct roost_store *st, const char *inst)
{
    struct roost_store_scope sc;
    assert_ok(roost_store_begin(st, ROOST_STORE_DATA, S(inst), &sc));
    assert_ok(roost_store_put(&sc, S("a"), S("a0"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("b"), S("b0"), 0, NULL));
    assert_ok(roost_store_put(&sc, S("c"), S("c0"), 0, NULL));
    roost_store_end(&sc);
}

static const struct roost_store_op *staged_batch(size_t *n)
{
    static struct roost_store_op ops[6];
    ops[0] = op_put("a", S("a1"));
    ops[1] = op_del("b");
    ops[2] = op_put("d", S("d1"));
    ops[3] = op_put("c", S("c1"));
    ops[4] = op_put("a", S("a2"));
    ops[5] = op_put("e", S("e1"));
    *n = 6;
    return ops;
}

/* Values after the whole batch (NULL: missing), or before any of it. */
static const char *const staged_after[] = { "a2", NULL, "c1", "d1", "e1" };
static const char *const staged_before[] = { "a0", "b0", "c0", NULL, NULL };

static void assert_staged(struct roost_store *st, const char *inst, const char *const *want)
{
    for (size_t i = 0; i < sizeof(staged_keys) / sizeof(staged_keys[0]); i++)
        assert_value(st, ROOST_STORE_DATA, inst, staged_keys[i], want[i]);
}

/* Child process: 0 if it finds every staged key as want says. */
static int staged_child(const char *dir, const char *inst, const char *const *want)
{
    struct roost_store *st = NULL;
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    int rc = 0;
    if (roost_store_open(dir, &st) != ROOST_OK)
        return 2;
    if (roost_store_begin(st, ROOST_STORE_DATA, S(inst), &sc) != ROOST_OK)
        rc = 3;
    for (size_t i = 0; !rc && i < sizeof(staged_keys) / sizeof(staged_keys[0]); i++) {
        enum roost_err err = roost_store_get(&sc, S(staged_keys[i]), &v);
        if (want[i] ? err != ROOST_OK || strcmp(v.ptr, want[i]) != 0
                    : err != ROOST_ERR_KEY_NOT_FOUND)
            rc = 1;
    }
    roost_store_end(&sc);
    roost_store_close(st);
    roost_buf_release(&v);
    return rc;
}

/* An apply stopped after its commit, after 0, 1, 3, 5 or all 6 of its
 * GDBM ops: the next scope (this process, or another one) redoes the whole
 * record, and every op of it is visible. */
static void test_store__interrupted_apply_is_redone_whole(void **state)
{
    struct fixture *fx = *state;
    static const size_t stops[] = { 0, 1, 3, 5, 6 };
    size_t n;
    const struct roost_store_op *ops = staged_batch(&n);

    for (size_t t = 0; t < sizeof(stops) / sizeof(stops[0]); t++) {
        for (int other = 0; other < 2; other++) {
            char inst[32];
            struct roost_store_scope sc;
            struct roost_store_gdbm_stats before, after;
            snprintf(inst, sizeof(inst), "redo-%zu-%d", stops[t], other);
            staged_base(fx->st, inst);
            assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S(inst), &sc));
            uint64_t gen0 = info_of(&sc).gen;
            assert_ok(roost_store_gdbm_test_apply_partial(&sc, ops, n,
                                                          ROOST_STORE_GDBM_TEST_STOP_MID_APPLY,
                                                          stops[t]));
            struct roost_store_gdbm_info mid = info_of(&sc);
            assert_int_equal(mid.gen, gen0 + 1); /* committed */
            assert_int_not_equal(mid.dirty_pid, 0);
            roost_store_end(&sc);
            if (other) {
                pid_t pid = fork_or_fail();
                if (pid == 0)
                    _exit(staged_child(fx->store, inst, staged_after));
                assert_int_equal(wait_status(pid), 0);
                assert_staged(fx->st, inst, staged_after);
                continue;
            }
            roost_store_gdbm_get_stats(fx->st, &before);
            assert_staged(fx->st, inst, staged_after);
            roost_store_gdbm_get_stats(fx->st, &after);
            assert_int_equal(after.recoveries, before.recoveries + 1);
            assert_int_equal(after.replays, before.replays + 1);
            assert_int_equal(after.rebuilds, before.rebuilds);
        }
    }

    /* Stopped half-way and then the file damaged too: the rebuild from
     * checkpoint + log replays the committed record whole. */
    struct roost_store_scope sc;
    staged_base(fx->st, "redo-rebuild");
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("redo-rebuild"), &sc));
    int part = sc.part - 1;
    assert_ok(roost_store_gdbm_test_apply_partial(&sc, ops, n,
                                                  ROOST_STORE_GDBM_TEST_STOP_MID_APPLY, 2));
    roost_store_end(&sc);
    damage_file(roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part));
    struct roost_store_gdbm_stats before, after;
    roost_store_gdbm_get_stats(fx->st, &before);
    assert_staged(fx->st, "redo-rebuild", staged_after);
    roost_store_gdbm_get_stats(fx->st, &after);
    assert_int_equal(after.rebuilds, before.rebuilds + 1);
}

/* An apply stopped before its commit point (the record whole in the log,
 * torn in the log, or pending with the file marked dirty but the generation
 * not moved): none of it is visible, not after the repair, not after a
 * later write overwrote the log's tail, and not after a rebuild from
 * checkpoint + log. */
static void test_store__uncommitted_apply_vanishes_whole(void **state)
{
    struct fixture *fx = *state;
    static const enum roost_store_gdbm_test_stop stops[] = {
        ROOST_STORE_GDBM_TEST_STOP_AFTER_LOG,
        ROOST_STORE_GDBM_TEST_STOP_TORN_LOG,
        ROOST_STORE_GDBM_TEST_STOP_BEFORE_GEN,
    };
    size_t n;
    const struct roost_store_op *ops = staged_batch(&n);

    for (size_t t = 0; t < sizeof(stops) / sizeof(stops[0]); t++) {
        char inst[32];
        struct roost_store_scope sc;
        struct roost_store_gdbm_stats before, after;
        snprintf(inst, sizeof(inst), "void-%d", (int)stops[t]);
        staged_base(fx->st, inst);
        assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S(inst), &sc));
        struct roost_store_gdbm_info i0 = info_of(&sc);
        assert_ok(roost_store_gdbm_test_apply_partial(&sc, ops, n, stops[t], 0));
        struct roost_store_gdbm_info i1 = info_of(&sc);
        assert_int_equal(i1.gen, i0.gen);
        assert_int_equal(i1.log_end, i0.log_end);
        roost_store_end(&sc);

        roost_store_gdbm_get_stats(fx->st, &before);
        assert_staged(fx->st, inst, staged_before);
        roost_store_gdbm_get_stats(fx->st, &after);
        /* Only the dirty marker makes a repair, and it must not redo. */
        assert_int_equal(after.recoveries, before.recoveries
                                               + (stops[t] == ROOST_STORE_GDBM_TEST_STOP_BEFORE_GEN));
        assert_int_equal(after.replays, before.replays);

        /* A repair after the one above (here: a writer "dies" again without
         * writing anything) must not take the old pending record for a
         * committed one, though the generation moved onto its seq. */
        assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S(inst), &sc));
        assert_ok(roost_store_gdbm_test_mark_dirty(&sc, 999999));
        roost_store_end(&sc);
        assert_staged(fx->st, inst, staged_before);

        /* A later write takes the log's tail; then a rebuild. */
        assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S(inst), &sc));
        struct roost_store_op later[] = { op_put("z", S("later")), op_del("never") };
        assert_ok(roost_store_apply(&sc, later, 2));
        roost_store_end(&sc);
        damage_partition(fx->st, inst);
        roost_store_gdbm_get_stats(fx->st, &before);
        assert_staged(fx->st, inst, staged_before);
        assert_value(fx->st, ROOST_STORE_DATA, inst, "z", "later");
        roost_store_gdbm_get_stats(fx->st, &after);
        assert_int_equal(after.rebuilds, before.rebuilds + 1);
        /* And in a process that opens the store afresh. */
        pid_t pid = fork_or_fail();
        if (pid == 0)
            _exit(staged_child(fx->store, inst, staged_before));
        assert_int_equal(wait_status(pid), 0);
    }
}

/* Batches of 1-8 puts and deletes (keys repeating within a batch) past a
 * checkpoint and beyond; the file damaged; every key must come back from
 * checkpoint + log exactly as a model of the batches says, here and in a
 * process that opens the store afresh. */
#define RB_KEYS 300

static int rb_check(struct roost_store *st, const uint64_t *model)
{
    struct roost_store_scope sc;
    struct roost_buf v = ROOST_BUF_INIT;
    char key[32], val[2100];
    int bad = 0;
    if (roost_store_begin(st, ROOST_STORE_DATA, S("rb"), &sc) != ROOST_OK)
        return -1;
    for (int k = 0; k < RB_KEYS; k++) {
        snprintf(key, sizeof(key), "rb-%d", k);
        enum roost_err err = roost_store_get(&sc, S(key), &v);
        if (!model[k]) {
            bad += err != ROOST_ERR_KEY_NOT_FOUND;
            continue;
        }
        size_t len = 1 + model[k] % 2000;
        fill_bytes(val, len, model[k]);
        bad += err != ROOST_OK || v.len != len || memcmp(v.ptr, val, len) != 0;
    }
    roost_store_end(&sc);
    roost_buf_release(&v);
    return bad;
}

static void test_store__rebuild_replays_batches(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    uint64_t model[RB_KEYS] = { 0 }; /* seed of the value, 0: missing */
    char keys[8][32], vals[8][2100];
    struct roost_store_op ops[8];
    uint64_t seed = 1;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("rb"), &sc));
    int part = sc.part - 1;
    uint64_t ckpt_gen0 = info_of(&sc).ckpt_gen;
    for (int b = 0; b < 700; b++) {
        uint64_t h = mix64((uint64_t)b + 1000);
        size_t n = 1 + h % 8;
        for (size_t i = 0; i < n; i++) {
            uint64_t g = mix64(h + i);
            int k = (int)(g % (i && g % 4 == 0 ? 8 : RB_KEYS)); /* repeats */
            snprintf(keys[i], sizeof(keys[i]), "rb-%d", k);
            if ((g >> 20) % 6 == 0) {
                ops[i] = (struct roost_store_op){ ROOST_STORE_OP_DELETE, S(keys[i]),
                                                  ROOST_SLICE_NULL };
                model[k] = 0;
            } else {
                uint64_t sd = ++seed;
                size_t len = 1 + sd % 2000;
                fill_bytes(vals[i], len, sd);
                ops[i] = (struct roost_store_op){ ROOST_STORE_OP_PUT, S(keys[i]),
                                                  roost_slice_make(vals[i], len) };
                model[k] = sd;
            }
        }
        assert_ok(roost_store_apply(&sc, ops, n));
    }
    struct roost_store_gdbm_info info = info_of(&sc);
    roost_store_end(&sc);
    /* The log passed a checkpoint and holds batches after it. */
    assert_true(info.ckpt_gen > ckpt_gen0);
    assert_true(info.log_end > 0);
    assert_int_equal(rb_check(fx->st, model), 0);

    damage_file(roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part));
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        struct roost_store *st = NULL;
        struct roost_store_gdbm_stats stats;
        if (roost_store_open(fx->store, &st) != ROOST_OK)
            _exit(2);
        int bad = rb_check(st, model);
        roost_store_gdbm_get_stats(st, &stats);
        _exit(bad ? 1 : stats.rebuilds == 1 ? 0 : 4);
    }
    assert_int_equal(wait_status(pid), 0);
    /* This process's handle went stale with the rebuild: it reopens. */
    assert_int_equal(rb_check(fx->st, model), 0);
    /* Again, rebuilt here this time. */
    struct roost_store_gdbm_stats before, after;
    roost_store_gdbm_get_stats(fx->st, &before);
    damage_partition(fx->st, "rb");
    assert_int_equal(rb_check(fx->st, model), 0);
    roost_store_gdbm_get_stats(fx->st, &after);
    assert_int_equal(after.rebuilds, before.rebuilds + 1);
}

/* Writes more than 1 MiB (one checkpoint at least), then more after it;
 * damages the file; every value must come back from checkpoint + log, in
 * this process and in one that opens the store afresh. */
static void test_store__rebuild_from_checkpoint_and_log(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_store_gdbm_info info;
    char key[32], val[3000];
    const int n = 600; /* ~1.5 MiB of log */

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("ckpt"), &sc));
    int part = sc.part - 1;
    assert_ok(roost_store_gdbm_get_info(&sc, &info));
    uint64_t ckpt_gen0 = info.ckpt_gen;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "key-%d", i % 400);
        fill_bytes(val, sizeof(val), (uint64_t)i);
        assert_ok(roost_store_put(&sc, S(key), roost_slice_make(val, sizeof(val)), 0, NULL));
        if (i % 50 == 49) {
            snprintf(key, sizeof(key), "key-%d", (i * 7) % 400);
            enum roost_err err = roost_store_delete(&sc, S(key));
            assert_true(err == ROOST_OK || err == ROOST_ERR_KEY_NOT_FOUND);
        }
    }
    assert_ok(roost_store_gdbm_get_info(&sc, &info));
    /* Checkpoint after the log passed 1 MiB: the log restarted since. */
    assert_true(info.ckpt_gen > ckpt_gen0);
    assert_true(info.log_end < 1024 * 1024);
    assert_true(info.log_end > 0);
    assert_int_equal(info.dirty_pid, 0);

    /* The expected contents, read through the store. */
    struct roost_buf *want = calloc(400, sizeof(*want));
    int *present = calloc(400, sizeof(int));
    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        roost_buf_init(&want[i]);
        enum roost_err err = roost_store_get(&sc, S(key), &want[i]);
        present[i] = err == ROOST_OK;
    }
    roost_store_end(&sc);

    damage_file(roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part));
    /* A process that opens the store now finds the file unreadable and
     * rebuilds it. */
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        struct roost_store *st = NULL;
        struct roost_buf v = ROOST_BUF_INIT;
        int bad = 0;
        if (roost_store_open(fx->store, &st) != ROOST_OK)
            _exit(2);
        if (roost_store_begin(st, ROOST_STORE_DATA, S("ckpt"), &sc) != ROOST_OK)
            _exit(3);
        for (int i = 0; i < 400; i++) {
            snprintf(key, sizeof(key), "key-%d", i);
            enum roost_err err = roost_store_get(&sc, S(key), &v);
            if (present[i] ? err != ROOST_OK || !roost_slice_eq(roost_buf_slice(&v),
                                                                roost_buf_slice(&want[i]))
                           : err != ROOST_ERR_KEY_NOT_FOUND)
                bad++;
        }
        roost_store_end(&sc);
        struct roost_store_gdbm_stats stats;
        roost_store_gdbm_get_stats(st, &stats);
        _exit(bad ? 1 : stats.rebuilds == 1 ? 0 : 4);
    }
    assert_int_equal(wait_status(pid), 0);

    /* This process's handle is stale (the file was replaced): it reopens. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("ckpt"), &sc));
    struct roost_buf v = ROOST_BUF_INIT;
    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        enum roost_err err = roost_store_get(&sc, S(key), &v);
        if (present[i]) {
            assert_ok(err);
            assert_true(roost_slice_eq(roost_buf_slice(&v), roost_buf_slice(&want[i])));
        } else {
            assert_err(err, ROOST_ERR_KEY_NOT_FOUND);
        }
        roost_buf_release(&want[i]);
    }
    roost_store_end(&sc);
    roost_buf_release(&v);
    free(want);
    free(present);
}

/* A dirty marker alone (a writer died, the file is fine): gdbm_recover,
 * no key lost, and the generation moves so every handle reopens. */
static void test_store__dirty_marker_triggers_recover(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_store_gdbm_info i1, i2;
    struct roost_store_gdbm_stats s1, s2;

    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        put_str(fx->st, ROOST_STORE_META, NULL, key, key);
    }
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_ok(roost_store_gdbm_test_mark_dirty(&sc, 999999));
    assert_ok(roost_store_gdbm_get_info(&sc, &i1));
    roost_store_end(&sc);
    roost_store_gdbm_get_stats(fx->st, &s1);
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_ok(roost_store_gdbm_get_info(&sc, &i2));
    roost_store_end(&sc);
    roost_store_gdbm_get_stats(fx->st, &s2);
    assert_int_equal(s2.recoveries, s1.recoveries + 1);
    assert_int_equal(s2.rebuilds, s1.rebuilds);
    assert_int_equal(i2.dirty_pid, 0);
    assert_true(i2.gen > i1.gen);
    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        assert_value(fx->st, ROOST_STORE_META, NULL, key, key);
    }
}

static void test_store__leftover_temporaries_are_removed(void **state)
{
    struct fixture *fx = *state;
    char tmp[512], keep[512];
    const char *db = roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, 0);
    snprintf(tmp, sizeof(tmp), "%s.Ab12Z9", db);  /* as GDBM's and our mkstemp */
    snprintf(keep, sizeof(keep), "%s.notmine", db);
    int fd = open(tmp, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open(keep, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    struct roost_store *st = NULL;
    assert_ok(roost_store_open(fx->store, &st));
    struct roost_store_gdbm_stats stats;
    roost_store_gdbm_get_stats(st, &stats);
    roost_store_close(st);
    assert_int_equal(stats.temps_removed, 1);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(keep, F_OK), 0);
}

/* ---- maintenance ---- */

static void pipe_send(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(9);
}

static char pipe_recv(int fd)
{
    char c = 0;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
    return c;
}

static void test_store__compaction_seen_by_other_processes(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_store_gdbm_info before, after;
    char key[32], val[512];
    int to_child[2], to_parent[2];

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("compact"), &sc));
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_ok(roost_store_put(&sc, S(key), roost_slice_make(val, sizeof(val)), 0, NULL));
    }
    for (int i = 0; i < 2000; i++)
        if (i % 10) {
            snprintf(key, sizeof(key), "key-%d", i);
            assert_ok(roost_store_delete(&sc, S(key)));
        }
    roost_store_end(&sc);

    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork_or_fail();
    if (pid == 0) {
        struct roost_store *st = NULL;
        struct roost_buf v = ROOST_BUF_INIT;
        int bad = 0;
        if (roost_store_open(fx->store, &st) != ROOST_OK)
            _exit(2);
        /* Open a writer handle before the compaction. */
        if (roost_store_begin(st, ROOST_STORE_DATA, S("compact"), &sc)
            || roost_store_put(&sc, S("before"), S("b"), 0, NULL))
            _exit(3);
        roost_store_end(&sc);
        pipe_send(to_parent[1], 'r');
        if (pipe_recv(to_child[0]) != 'c')
            _exit(4);
        /* After it: this write must land in the new file. */
        if (roost_store_begin(st, ROOST_STORE_DATA, S("compact"), &sc)
            || roost_store_put(&sc, S("after"), S("a"), 0, NULL))
            _exit(5);
        for (int i = 0; i < 2000; i += 10) {
            snprintf(key, sizeof(key), "key-%d", i);
            if (roost_store_get(&sc, S(key), &v) || v.len != sizeof(val))
                bad++;
        }
        roost_store_end(&sc);
        roost_store_close(st);
        _exit(bad ? 6 : 0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    assert_int_equal(pipe_recv(to_parent[0]), 'r');
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("compact"), &sc));
    assert_ok(roost_store_gdbm_get_info(&sc, &before));
    assert_ok(roost_store_compact(&sc));
    assert_ok(roost_store_gdbm_get_info(&sc, &after));
    roost_store_end(&sc);
    pipe_send(to_child[1], 'c');
    assert_int_equal(wait_status(pid), 0);
    close(to_child[1]);
    close(to_parent[0]);

    assert_true(after.file_size < before.file_size);
    assert_int_equal(after.compact_size, after.file_size);
    assert_true(after.gen > before.gen);
    assert_int_equal(after.ckpt_gen, after.gen); /* checkpoint retaken */
    assert_value(fx->st, ROOST_STORE_DATA, "compact", "before", "b");
    assert_value(fx->st, ROOST_STORE_DATA, "compact", "after", "a");
    assert_value(fx->st, ROOST_STORE_DATA, "compact", "key-1", NULL);
    char *v = get_str(fx->st, ROOST_STORE_DATA, "compact", "key-10");
    assert_non_null(v);
    assert_int_equal(strlen(v), sizeof(val));
    free(v);
    /* And a rebuild from the new checkpoint still has it all. */
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("compact"), &sc));
    int part = sc.part - 1;
    roost_store_end(&sc);
    damage_file(roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part));
    assert_value(fx->st, ROOST_STORE_DATA, "compact", "after", "a");
    assert_value(fx->st, ROOST_STORE_DATA, "compact", "key-1991", NULL);
}

static void test_store__part_stats(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_scope sc;
    struct roost_store_part_stats a, b, c;

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_ok(roost_store_part_stats(&sc, &a));
    roost_store_end(&sc);
    assert_string_equal(a.name, "meta.db");
    assert_true(a.file_bytes > 0);
    assert_true(a.generation >= 1);
    assert_err(roost_store_part_stats(&sc, &a), ROOST_ERR_USAGE); /* outside a scope */

    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("stats"), &sc));
    int part = sc.part - 1;
    assert_ok(roost_store_part_stats(&sc, &a));
    const char *path = roost_store_gdbm_path(fx->st, ROOST_STORE_DATA, part);
    assert_string_equal(a.name, strrchr(path, '/') + 1);
    assert_int_equal(strncmp(a.name, "kv-", 3), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(a.file_bytes, (uint64_t)sb.st_size);
    assert_int_equal(a.repairs, 0);
    assert_int_equal(a.rebuilds, 0);
    /* A put: one change, one record of log. */
    assert_ok(roost_store_put(&sc, S("k"), S("v"), 0, NULL));
    assert_ok(roost_store_part_stats(&sc, &b));
    assert_int_equal(b.generation, a.generation + 1);
    assert_int_equal(b.log_bytes, a.log_bytes + ROOST_STORE_GDBM_LOG_HEADER
                                      + ROOST_STORE_GDBM_LOG_ENTRY + 2);
    /* An apply of three ops: one change too. */
    struct roost_store_op ops[] = { op_put("x", S("1")), op_put("y", S("2")), op_del("k") };
    assert_ok(roost_store_apply(&sc, ops, 3));
    assert_ok(roost_store_part_stats(&sc, &c));
    assert_int_equal(c.generation, b.generation + 1);
    assert_int_equal(c.log_bytes, b.log_bytes + roost_store_gdbm_log_rec_size(ops, 3));
    assert_true(c.file_bytes > 0);
    /* Repairs and rebuilds come from the lock page. */
    assert_ok(roost_store_gdbm_test_mark_dirty(&sc, 999999));
    roost_store_end(&sc);
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("stats"), &sc));
    assert_ok(roost_store_part_stats(&sc, &a));
    roost_store_end(&sc);
    assert_int_equal(a.repairs, 1);
    assert_int_equal(a.rebuilds, 0);
    assert_true(a.generation > c.generation);
    damage_partition(fx->st, "stats");
    assert_value(fx->st, ROOST_STORE_DATA, "stats", "x", "1");
    assert_ok(roost_store_begin(fx->st, ROOST_STORE_DATA, S("stats"), &sc));
    assert_ok(roost_store_part_stats(&sc, &b));
    roost_store_end(&sc);
    assert_int_equal(b.repairs, 2);
    assert_int_equal(b.rebuilds, 1);
    assert_true(b.generation > a.generation);
}

/* ---- log ---- */

static void test_store__log_records_round_trip_and_tears_show(void **state)
{
    struct fixture *fx = *state;
    struct roost_store_gdbm_log_rec rec = ROOST_STORE_GDBM_LOG_REC_INIT;
    char path[400], big[5000];
    uint64_t end1, end2, end3, end4;

    snprintf(path, sizeof(path), "%s/test.log", fx->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    fill_bytes(big, sizeof(big), 3);
    struct roost_store_op put1 = op_put("key", roost_slice_make(big, sizeof(big)));
    struct roost_store_op del1 = op_del("key");
    struct roost_store_op empty1 = op_put("e", roost_slice_make(NULL, 0));
    assert_int_equal(roost_store_gdbm_log_append(fd, 0, 7, &put1, 1, &end1), 0);
    assert_int_equal(end1, roost_store_gdbm_log_rec_size(&put1, 1));
    assert_int_equal(end1, ROOST_STORE_GDBM_LOG_HEADER + ROOST_STORE_GDBM_LOG_ENTRY + 3
                               + sizeof(big));
    assert_int_equal(roost_store_gdbm_log_append(fd, end1, 8, &del1, 1, &end2), 0);
    /* The delete's value is not logged. */
    assert_int_equal(end2 - end1, ROOST_STORE_GDBM_LOG_HEADER + ROOST_STORE_GDBM_LOG_ENTRY + 3);
    assert_int_equal(roost_store_gdbm_log_append(fd, end2, 9, &empty1, 1, &end3), 0);
    /* A record of several ops: puts and deletes, one key twice. */
    struct roost_store_op multi[4] = {
        op_put("a", S("1")), op_del("b"), op_put("a", roost_slice_make(big, 100)), op_put("", S("")),
    };
    assert_int_equal(roost_store_gdbm_log_append(fd, end3, 10, multi, 4, &end4), 0);
    assert_int_equal(end4 - end3, roost_store_gdbm_log_rec_size(multi, 4));

    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end4, &rec), 1);
    assert_int_equal(rec.seq, 7);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.ops[0].kind, ROOST_STORE_OP_PUT);
    assert_true(roost_slice_eq(rec.ops[0].key, S("key")));
    assert_int_equal(rec.ops[0].value.len, sizeof(big));
    assert_memory_equal(rec.ops[0].value.ptr, big, sizeof(big));
    assert_int_equal(rec.end, end1);
    assert_int_equal(roost_store_gdbm_log_read(fd, end1, end4, &rec), 1);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.ops[0].kind, ROOST_STORE_OP_DELETE);
    assert_int_equal(rec.ops[0].value.len, 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, end2, end4, &rec), 1);
    assert_int_equal(rec.ops[0].value.len, 0);
    assert_int_equal(rec.ops[0].kind, ROOST_STORE_OP_PUT);
    assert_int_equal(roost_store_gdbm_log_read(fd, end3, end4, &rec), 1);
    assert_int_equal(rec.seq, 10);
    assert_int_equal(rec.n, 4);
    assert_int_equal(rec.end, end4);
    assert_int_equal(rec.ops[0].kind, ROOST_STORE_OP_PUT);
    assert_true(roost_slice_eq(rec.ops[0].value, S("1")));
    assert_int_equal(rec.ops[1].kind, ROOST_STORE_OP_DELETE);
    assert_true(roost_slice_eq(rec.ops[1].key, S("b")));
    assert_true(roost_slice_eq(rec.ops[2].key, S("a")));
    assert_true(roost_slice_eq(rec.ops[2].value, roost_slice_make(big, 100)));
    assert_int_equal(rec.ops[3].key.len, 0);
    assert_int_equal(rec.ops[3].value.len, 0);
    /* A record must end within the limit (the page's log end). */
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1 - 1, &rec), 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, end3, end4 - 1, &rec), 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, end4, end4 + 100, &rec), 0);
    /* Malformed calls write nothing. */
    assert_int_equal(roost_store_gdbm_log_append(fd, end4, 11, multi, 0, &end1), -1);
    assert_int_equal(roost_store_gdbm_log_append(fd, end4, 11, multi, ROOST_STORE_APPLY_MAX + 1,
                                                 &end1), -1);

    /* The largest record: more ops than one pwritev takes (IOV_MAX 1024). */
    struct roost_store_op *many = calloc(ROOST_STORE_APPLY_MAX, sizeof(*many));
    char (*names)[16] = calloc(ROOST_STORE_APPLY_MAX, 16);
    for (int i = 0; i < ROOST_STORE_APPLY_MAX; i++) {
        snprintf(names[i], 16, "k%d", i);
        many[i] = i % 5 == 4 ? op_del(names[i])
                             : op_put(names[i], roost_slice_make(big + i, 1 + (size_t)i % 7));
    }
    uint64_t end5;
    assert_int_equal(roost_store_gdbm_log_append(fd, end4, 11, many, ROOST_STORE_APPLY_MAX, &end5),
                     0);
    assert_int_equal(end5 - end4, roost_store_gdbm_log_rec_size(many, ROOST_STORE_APPLY_MAX));
    assert_int_equal(roost_store_gdbm_log_read(fd, end4, end5, &rec), 1);
    assert_int_equal(rec.n, ROOST_STORE_APPLY_MAX);
    for (int i = 0; i < ROOST_STORE_APPLY_MAX; i++) {
        assert_true(roost_slice_eq(rec.ops[i].key, S(names[i])));
        assert_int_equal(rec.ops[i].kind, many[i].kind);
        if (many[i].kind == ROOST_STORE_OP_PUT)
            assert_true(roost_slice_eq(rec.ops[i].value, many[i].value));
    }
    free(many);
    free(names);

    /* A tear inside a multi-op record: its last op never reached the file. */
    assert_int_equal(ftruncate(fd, (off_t)end4 - 1), 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, end3, end4, &rec), 0);
    assert_int_equal(rec.n, 0);
    /* A tear: the tail of the first record never reached the file. */
    assert_int_equal(ftruncate(fd, (off_t)end1 - 100), 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end3, &rec), 0);
    /* Rewritten whole, then one byte of its value flipped. */
    assert_int_equal(roost_store_gdbm_log_append(fd, 0, 7, &put1, 1, &end1), 0);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1, &rec), 1);
    char c = (char)(big[4000] ^ 0x01);
    off_t value_at = ROOST_STORE_GDBM_LOG_HEADER + ROOST_STORE_GDBM_LOG_ENTRY + 3;
    assert_int_equal(pwrite(fd, &c, 1, value_at + 4000), 1);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1, &rec), 0);
    /* Or of its sequence number. */
    assert_int_equal(roost_store_gdbm_log_append(fd, 0, 7, &put1, 1, &end1), 0);
    c = 8;
    assert_int_equal(pwrite(fd, &c, 1, 8), 1);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1, &rec), 0);
    /* Or of its op table: the op, or a length moving bytes from the key
     * to the value. */
    assert_int_equal(roost_store_gdbm_log_append(fd, 0, 7, &put1, 1, &end1), 0);
    c = ROOST_STORE_GDBM_LOG_DEL;
    assert_int_equal(pwrite(fd, &c, 1, ROOST_STORE_GDBM_LOG_HEADER), 1);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1, &rec), 0);
    assert_int_equal(roost_store_gdbm_log_append(fd, 0, 7, &put1, 1, &end1), 0);
    uint32_t klen = 4, vlen = sizeof(big) - 1;
    assert_int_equal(pwrite(fd, &klen, 4, ROOST_STORE_GDBM_LOG_HEADER + 4), 4);
    assert_int_equal(pwrite(fd, &vlen, 4, ROOST_STORE_GDBM_LOG_HEADER + 8), 4);
    assert_int_equal(roost_store_gdbm_log_read(fd, 0, end1, &rec), 0);
    roost_store_gdbm_log_rec_release(&rec);
    roost_store_gdbm_log_rec_release(&rec); /* twice is harmless */
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store__open_creates_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__put_get_delete_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__iterate_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__apply_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__apply_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__meta_and_data_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__nested_scope_is_usage_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__reopen_sees_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__refuses_foreign_lock_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__processes_are_coherent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__scope_after_fork_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__committed_write_is_redone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__uncommitted_write_vanishes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__dirty_marker_triggers_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__interrupted_apply_is_redone_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__uncommitted_apply_vanishes_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__rebuild_replays_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__rebuild_from_checkpoint_and_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__leftover_temporaries_are_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__compaction_seen_by_other_processes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__part_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__log_records_round_trip_and_tears_show, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__acknowledged_writes_survive_sigkill, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
