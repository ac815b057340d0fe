/*
 * testlib.h - helpers shared by the cmocka test programs.
 * Include after <cmocka.h> (and its prerequisites).
 */
#ifndef ROOST_TESTLIB_H
#define ROOST_TESTLIB_H

#include <stdint.h>

#include "error.h"

/* A fresh directory under $TMPDIR (or /tmp) named roost-TAG-XXXXXX.
 * Caller frees the string; roost_test_rmtree() removes the directory. */
char *roost_test_tmpdir(const char *tag);

/* rm -rf path (no-op on NULL). */
void roost_test_rmtree(const char *path);

/* A fake clock for roost_now_fn parameters: starts at 1735238400 (the
 * spec's example timestamp) and moves only when told. */
int64_t roost_test_clock_now(void);
void roost_test_clock_set(int64_t now);
void roost_test_clock_advance(int64_t seconds);

/* A store in a fresh temporary directory, as a cmocka fixture:
 *   static int setup(void **state) { return roost_test_store_setup(state, "kv"); }
 * and roost_test_store_teardown as the teardown; roost_test_store(state)
 * is the open store. */
struct roost_store;
struct roost_test_store {
    char *dir;
    struct roost_store *st;
};
int roost_test_store_setup(void **state, const char *tag);
int roost_test_store_teardown(void **state);
struct roost_store *roost_test_store(void **state);

/* Captures what is written to fd 2 between start and stop (log lines);
 * fd 2 is redirected only in between, so cmocka's own failure messages
 * always reach the real stderr. stop puts it back and hands over the text. */
struct roost_test_capture {
    int saved_fd;
    void *file;   /* FILE * */
};
struct roost_buf;
void roost_test_capture_start(struct roost_test_capture *c);
void roost_test_capture_stop(struct roost_test_capture *c, struct roost_buf *out);

/* Fails the test with the error's enum name when expr is not ROOST_OK. */
#define assert_roost_ok(expr) \
    roost_test_assert_err((expr), ROOST_OK, #expr, __FILE__, __LINE__)
#define assert_roost_err(expr, want) \
    roost_test_assert_err((expr), (want), #expr, __FILE__, __LINE__)
void roost_test_assert_err(enum roost_err got, enum roost_err want, const char *what,
                           const char *file, int line);

#endif
