/*
 * test_counters.c - lib/counters.h: statistics shared by every process.
 *
 * Test organization
 *   group        what it checks                                  rule
 *   file         one 4096-byte page "<dir>/counters", mode 0660  counters.h; DESIGN.md "Store"
 *                whatever the umask, golden header bytes          point 9 (files 0660)
 *   counting     add/get/reset/names, NULL-safe calls, unknown   counters.h
 *                counters ignored, counts survive a reopen and
 *                are shared between handles
 *   processes    4 forked workers x 10,000 adds: exact totals;   issue 6 part 6: "counted across
 *                workers creating the file at the same instant    all workers (not per process)"
 *                (many rounds): nobody fails, nothing is lost
 *   refusals     wrong magic, other layout version, wrong size,  counters.h: STORE_UNAVAILABLE;
 *                not a regular file, missing directory: refused   STYLE.md log lines
 *                with a log line, the file left untouched
 *   crash        a creator that died before sizing (empty file)  counters.c creation steps
 *                or before the header (zero page) is recovered
 *
 * Child processes never return into cmocka: they report through their exit
 * status and end with _exit(). They are released together through a pipe,
 * never with sleeps.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "counters.h"
#include "testlib.h"

#define PAGE 4096
/* counters.c's tag: "RSTC" in the high 32 bits, layout version 1 */
#define GOLDEN_TAG ((((uint64_t)0x52535443u) << 32) | 1u)

struct fx {
    char *dir;
    char *path;   /* dir/counters */
};

static int setup(void **state)
{
    struct fx *f = roost_xcalloc(1, sizeof(*f));
    f->dir = roost_test_tmpdir("counters");
    struct roost_buf p = ROOST_BUF_INIT;
    roost_buf_appendf(&p, "%s/counters", f->dir);
    f->path = roost_buf_detach(&p, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    roost_test_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static struct roost_counters *open_ok(const char *dir)
{
    struct roost_counters *c = NULL;
    assert_roost_ok(roost_counters_open(dir, &c));
    assert_non_null(c);
    return c;
}

static void write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0660);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void read_file(const char *path, struct roost_buf *out)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    char chunk[4096];
    ssize_t n;
    roost_buf_reset(out);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        roost_buf_append(out, chunk, (size_t)n);
    close(fd);
}

/* Opening dir must fail with STORE_UNAVAILABLE, logging one line that
 * names the file and contains want. */
static void assert_refused_with_log(const struct fx *f, const char *want)
{
    struct roost_test_capture cap;
    struct roost_buf log = ROOST_BUF_INIT;
    struct roost_counters *c = NULL;
    roost_test_capture_start(&cap);
    enum roost_err err = roost_counters_open(f->dir, &c);
    roost_test_capture_stop(&cap, &log);
    assert_roost_err(err, ROOST_ERR_STORE_UNAVAILABLE);
    assert_null(c);
    if (!strstr(log.ptr, "counters: ") || !strstr(log.ptr, f->path) || !strstr(log.ptr, want))
        fail_msg("log line lacks '%s' or the path: %s", want, log.ptr);
    /* STYLE.md: one line per event */
    assert_non_null(strchr(log.ptr, '\n'));
    assert_int_equal(strchr(log.ptr, '\n') - log.ptr + 1, (long)log.len);
    roost_buf_release(&log);
}

/* ---- file -------------------------------------------------------------- */

static void test_counters__creates_one_page_file_0660(void **state)
{
    struct fx *f = *state;
    /* counters.h: "A one-page file (<store dir>/counters)"; DESIGN.md
     * "Store" point 9: "Files mode 0660" - whatever the umask */
    mode_t old = umask(077);
    struct roost_counters *c = open_ok(f->dir);
    umask(old);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, PAGE);
    assert_int_equal(st.st_mode & 0777, 0660);
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        assert_int_equal(roost_counters_get(c, (enum roost_counter)i), 0);
    roost_counters_close(c);
}

static void test_counters__header_and_slots_golden(void **state)
{
    struct fx *f = *state;
    /* counters.c layout: tag at 0, counter i at 64 * (1 + i), host order */
    struct roost_counters *c = open_ok(f->dir);
    roost_counters_add(c, ROOST_COUNTER_HITS, 5);
    roost_counters_add(c, ROOST_COUNTER_EVICTIONS, 7);
    struct roost_buf b = ROOST_BUF_INIT;
    read_file(f->path, &b);
    assert_int_equal(b.len, PAGE);
    uint64_t v;
    memcpy(&v, b.ptr, 8);
    assert_true(v == GOLDEN_TAG);
    memcpy(&v, b.ptr + 64 * (1 + ROOST_COUNTER_HITS), 8);
    assert_int_equal(v, 5);
    memcpy(&v, b.ptr + 64 * (1 + ROOST_COUNTER_EVICTIONS), 8);
    assert_int_equal(v, 7);
    roost_buf_release(&b);
    roost_counters_close(c);
}

/* ---- counting ---------------------------------------------------------- */

static void test_counters__add_get_and_names(void **state)
{
    struct fx *f = *state;
    struct roost_counters *c = open_ok(f->dir);
    roost_counters_add(c, ROOST_COUNTER_HITS, 1);
    roost_counters_add(c, ROOST_COUNTER_HITS, 1249);
    roost_counters_add(c, ROOST_COUNTER_MISSES, 15);
    roost_counters_add(c, ROOST_COUNTER_STALE_HITS, 3);
    roost_counters_add(c, ROOST_COUNTER_EVICTIONS, 5);
    roost_counters_add(c, ROOST_COUNTER_EVICTIONS, 0);
    /* spec "Cache Hit Ratio": {hits: 1250, misses: 15, stale_hits: 3, evictions: 5} */
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_HITS), 1250);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_MISSES), 15);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_STALE_HITS), 3);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_EVICTIONS), 5);
    assert_string_equal(roost_counter_name(ROOST_COUNTER_HITS), "hits");
    assert_string_equal(roost_counter_name(ROOST_COUNTER_MISSES), "misses");
    assert_string_equal(roost_counter_name(ROOST_COUNTER_STALE_HITS), "stale_hits");
    assert_string_equal(roost_counter_name(ROOST_COUNTER_EVICTIONS), "evictions");
    /* 64-bit: no wrap at 2^32 */
    roost_counters_add(c, ROOST_COUNTER_MISSES, UINT64_C(1) << 32);
    assert_true(roost_counters_get(c, ROOST_COUNTER_MISSES) == (UINT64_C(1) << 32) + 15);
    roost_counters_close(c);
}

static void test_counters__null_and_unknown_are_noops(void **state)
{
    struct fx *f = *state;
    /* counters.h: "NULL c is a no-op, so callers need not care whether
     * counting is on." */
    roost_counters_add(NULL, ROOST_COUNTER_HITS, 1);
    assert_int_equal(roost_counters_get(NULL, ROOST_COUNTER_HITS), 0);
    roost_counters_reset(NULL);
    roost_counters_close(NULL);
    /* a counter outside the enum touches nothing */
    struct roost_counters *c = open_ok(f->dir);
    roost_counters_add(c, ROOST_COUNTER__COUNT, 1);
    roost_counters_add(c, (enum roost_counter)-1, 1);
    roost_counters_add(c, (enum roost_counter)1000, 1);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER__COUNT), 0);
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        assert_int_equal(roost_counters_get(c, (enum roost_counter)i), 0);
    assert_string_equal(roost_counter_name(ROOST_COUNTER__COUNT), "unknown");
    roost_counters_close(c);
    /* usage errors */
    c = NULL;
    assert_roost_err(roost_counters_open(NULL, &c), ROOST_ERR_USAGE);
    assert_roost_err(roost_counters_open(f->dir, NULL), ROOST_ERR_USAGE);
    struct roost_counters *not_null = (struct roost_counters *)&c;
    assert_roost_err(roost_counters_open(f->dir, &not_null), ROOST_ERR_USAGE);
}

static void test_counters__shared_between_handles_and_reopen(void **state)
{
    struct fx *f = *state;
    /* counters.h: "Counts survive restarts" */
    struct roost_counters *a = open_ok(f->dir), *b = open_ok(f->dir);
    roost_counters_add(a, ROOST_COUNTER_HITS, 2);
    roost_counters_add(b, ROOST_COUNTER_HITS, 3);
    assert_int_equal(roost_counters_get(a, ROOST_COUNTER_HITS), 5);
    assert_int_equal(roost_counters_get(b, ROOST_COUNTER_HITS), 5);
    roost_counters_close(a);
    roost_counters_close(b);
    a = open_ok(f->dir);
    assert_int_equal(roost_counters_get(a, ROOST_COUNTER_HITS), 5);
    roost_counters_close(a);
}

static void test_counters__reset(void **state)
{
    struct fx *f = *state;
    /* counters.h: "Sets every counter to 0 (roostctl stats --reset)." -
     * seen by every handle */
    struct roost_counters *a = open_ok(f->dir), *b = open_ok(f->dir);
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        roost_counters_add(a, (enum roost_counter)i, 10 + (uint64_t)i);
    roost_counters_reset(b);
    for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
        assert_int_equal(roost_counters_get(a, (enum roost_counter)i), 0);
    roost_counters_add(a, ROOST_COUNTER_MISSES, 1);
    assert_int_equal(roost_counters_get(b, ROOST_COUNTER_MISSES), 1);
    roost_counters_close(a);
    roost_counters_close(b);
    /* and the file is still ours after a reset */
    a = open_ok(f->dir);
    assert_int_equal(roost_counters_get(a, ROOST_COUNTER_MISSES), 1);
    roost_counters_close(a);
}

/* ---- processes --------------------------------------------------------- */

/* Forks n children that wait on a pipe until the parent closes it, then
 * run body(dir, i) and exit with its result. Returns after all exited;
 * fails the test unless every one exited 0. */
static void run_children(const char *dir, int n, int (*body)(const char *dir, int i))
{
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pids[32];
    assert_true(n <= 32);
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(gate[1]);
            char ch;
            if (read(gate[0], &ch, 1) != 0)   /* EOF: the gate opened */
                _exit(90);
            _exit(body(dir, i));
        }
    }
    close(gate[0]);
    close(gate[1]);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        while (waitpid(pids[i], &status, 0) < 0)
            assert_int_equal(errno, EINTR);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            print_error("child %d ended with status 0x%x\n", i, status);
            failed = 1;
        }
    }
    assert_false(failed);
}

enum { ADDERS = 4, ADDS = 10000 };

static int adder(const char *dir, int i)
{
    /* a worker: opens after fork, as every process does */
    struct roost_counters *c = NULL;
    if (roost_counters_open(dir, &c) != ROOST_OK)
        return 1;
    for (int k = 0; k < ADDS; k++) {
        roost_counters_add(c, ROOST_COUNTER_HITS, 1);
        roost_counters_add(c, ROOST_COUNTER_EVICTIONS, (uint64_t)i + 1);
    }
    roost_counters_close(c);
    return 0;
}

static void test_counters__forked_workers_exact_total(void **state)
{
    struct fx *f = *state;
    /* issue 6 part 6: "hits, misses, stale_hits, evictions counted across
     * all workers (not per process)" - and no increment is lost */
    struct roost_counters *c = open_ok(f->dir);
    roost_counters_add(c, ROOST_COUNTER_HITS, 1);
    run_children(f->dir, ADDERS, adder);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_HITS), 1 + ADDERS * ADDS);
    /* child i added i + 1 per round: (1 + 2 + 3 + 4) * ADDS */
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_EVICTIONS), 10 * ADDS);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_MISSES), 0);
    roost_counters_close(c);
}

enum { CREATORS = 8, CREATOR_ADDS = 1000, ROUNDS = 25 };

static int creator(const char *dir, int i)
{
    (void)i;
    struct roost_counters *c = NULL;
    if (roost_counters_open(dir, &c) != ROOST_OK)
        return 2;
    for (int k = 0; k < CREATOR_ADDS; k++)
        for (int w = 0; w < ROOST_COUNTER__COUNT; w++)
            roost_counters_add(c, (enum roost_counter)w, 1);
    roost_counters_close(c);
    return 0;
}

static void test_counters__concurrent_creators(void **state)
{
    struct fx *f = *state;
    /* counters.c: "any number of workers may create the file at once" -
     * each round a fresh directory, CREATORS processes released at the
     * same instant: none fails, none resets another's counts, and the
     * header ends up whole */
    for (int r = 0; r < ROUNDS; r++) {
        /* inside the fixture's directory, so teardown removes it even when
         * an assertion ends the test early */
        struct roost_buf dir = ROOST_BUF_INIT, p = ROOST_BUF_INIT, b = ROOST_BUF_INIT;
        roost_buf_appendf(&dir, "%s/round-%d", f->dir, r);
        assert_int_equal(mkdir(dir.ptr, 0700), 0);
        run_children(dir.ptr, CREATORS, creator);
        struct roost_counters *c = open_ok(dir.ptr);
        for (int w = 0; w < ROOST_COUNTER__COUNT; w++)
            if (roost_counters_get(c, (enum roost_counter)w) != CREATORS * CREATOR_ADDS)
                fail_msg("round %d: %s = %llu, want %d", r, roost_counter_name((enum roost_counter)w),
                         (unsigned long long)roost_counters_get(c, (enum roost_counter)w),
                         CREATORS * CREATOR_ADDS);
        roost_counters_close(c);
        roost_buf_appendf(&p, "%s/counters", dir.ptr);
        read_file(p.ptr, &b);
        assert_int_equal(b.len, PAGE);
        uint64_t tag;
        memcpy(&tag, b.ptr, 8);
        assert_true(tag == GOLDEN_TAG);
        roost_buf_release(&b);
        roost_buf_release(&p);
        roost_buf_release(&dir);
    }
}

/* ---- refusals ---------------------------------------------------------- */

static void test_counters__wrong_magic_refused(void **state)
{
    struct fx *f = *state;
    /* brief: "A file with a wrong magic -> STORE_UNAVAILABLE with a log
     * line"; the file is somebody else's: left exactly as it was */
    char page[PAGE];
    memset(page, 0x5a, sizeof(page));
    write_file(f->path, page, sizeof(page));
    assert_refused_with_log(f, "not a roost counters file");
    struct roost_buf b = ROOST_BUF_INIT;
    read_file(f->path, &b);
    assert_int_equal(b.len, PAGE);
    assert_memory_equal(b.ptr, page, PAGE);
    roost_buf_release(&b);
}

static void test_counters__other_version_refused(void **state)
{
    struct fx *f = *state;
    /* a layout of another version is refused, not misread */
    char page[PAGE] = { 0 };
    uint64_t tag = (GOLDEN_TAG & ~UINT64_C(0xffffffff)) | 2u;
    memcpy(page, &tag, 8);
    write_file(f->path, page, sizeof(page));
    assert_refused_with_log(f, "layout version 2");
}

static void test_counters__wrong_size_refused_untouched(void **state)
{
    struct fx *f = *state;
    static const size_t sizes[] = { 1, 100, PAGE - 1, PAGE + 1, 2 * PAGE };
    char buf[2 * PAGE];
    memset(buf, 'x', sizeof(buf));
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        write_file(f->path, buf, sizes[i]);
        assert_refused_with_log(f, "not a roost counters file");
        struct stat st;
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_size, (off_t)sizes[i]);   /* never resized */
    }
}

static void test_counters__not_a_file_or_no_dir(void **state)
{
    struct fx *f = *state;
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_refused_with_log(f, "cannot open");
    assert_int_equal(rmdir(f->path), 0);
    /* a FIFO opens read-write without blocking: the type check refuses it */
    assert_int_equal(mkfifo(f->path, 0600), 0);
    assert_refused_with_log(f, "not a regular file");
    assert_int_equal(unlink(f->path), 0);

    struct fx missing = *f;
    struct roost_buf d = ROOST_BUF_INIT, p = ROOST_BUF_INIT;
    roost_buf_appendf(&d, "%s/no-such-dir", f->dir);
    roost_buf_appendf(&p, "%s/counters", d.ptr);
    missing.dir = d.ptr;
    missing.path = p.ptr;
    assert_refused_with_log(&missing, "ROOST_STORE_DIR");
    roost_buf_release(&d);
    roost_buf_release(&p);
}

/* ---- crash ------------------------------------------------------------- */

static void test_counters__creator_died_before_sizing_or_header(void **state)
{
    struct fx *f = *state;
    /* counters.c steps 1-2: a creator killed after open leaves an empty
     * file; killed after sizing, a page of zeros. Both are taken up. */
    write_file(f->path, "", 0);
    struct roost_counters *c = open_ok(f->dir);
    roost_counters_add(c, ROOST_COUNTER_MISSES, 1);
    roost_counters_close(c);

    char zero[PAGE] = { 0 };
    write_file(f->path, zero, sizeof(zero));
    c = open_ok(f->dir);
    assert_int_equal(roost_counters_get(c, ROOST_COUNTER_MISSES), 0);
    roost_counters_add(c, ROOST_COUNTER_MISSES, 1);
    roost_counters_close(c);
    struct roost_buf b = ROOST_BUF_INIT;
    read_file(f->path, &b);
    uint64_t tag;
    memcpy(&tag, b.ptr, 8);
    assert_true(tag == GOLDEN_TAG);
    roost_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counters__creates_one_page_file_0660, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__header_and_slots_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__add_get_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__null_and_unknown_are_noops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__shared_between_handles_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__forked_workers_exact_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__concurrent_creators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__wrong_magic_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__other_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__wrong_size_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__not_a_file_or_no_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters__creator_died_before_sizing_or_header, setup, teardown),
    };
    return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
