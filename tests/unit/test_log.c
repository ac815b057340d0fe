/*
 * test_log.c - lib/log.h: one line per event on stderr.
 *
 * stderr (fd 2) is pointed at a temporary file (dup2) around the logging
 * calls and put back before any assertion, so what lighttpd would write to
 * its error log can be read back byte for byte.
 *
 * Test organization
 *   group       what it checks                                   rule
 *   levels      parse of the four names, unknown -> -1,          log.h roost_log_level_parse;
 *               default threshold warn, set/get                  "Default: warn"
 *   threshold   records above the threshold are dropped          log.h "lines above it are dropped"
 *   format      "roost[PID]: module: message", one line each,    log.h "Format: roost[PID]: MODULE:
 *               newlines in messages flattened, long messages     message"; STYLE.md "one line per
 *               still one line, the writer's pid after a fork    event"
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "log.h"
#include "testlib.h"

static int reset_level(void **state)
{
    (void)state;
    roost_log_set_level(ROOST_LOG_WARN);
    return 0;
}

static int count_lines(const struct roost_buf *b)
{
    int n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->ptr[i] == '\n';
    return n;
}

static char *prefix(const char *module)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "roost[%ld]: %s: ", (long)getpid(), module);
    return roost_buf_detach(&b, NULL);
}

/* ---- levels ------------------------------------------------------------ */

static void test_log__default_threshold_is_warn(void **state)
{
    (void)state;
    /* log.h: "Default: warn." - runs first, before any test sets a level */
    assert_int_equal(roost_log_get_level(), ROOST_LOG_WARN);
}

static void test_log__level_parse(void **state)
{
    (void)state;
    /* log.h: "Parses "error", "warn", "info", "debug"; returns -1 if unknown." */
    assert_int_equal(roost_log_level_parse("error"), ROOST_LOG_ERROR);
    assert_int_equal(roost_log_level_parse("warn"), ROOST_LOG_WARN);
    assert_int_equal(roost_log_level_parse("info"), ROOST_LOG_INFO);
    assert_int_equal(roost_log_level_parse("debug"), ROOST_LOG_DEBUG);
    static const char *const bad[] = { "", "verbose", "warning", "err", "trace", "warn ", "3" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (roost_log_level_parse(bad[i]) != -1)
            fail_msg("\"%s\" parsed as a level", bad[i]);
}

static void test_log__set_and_get_level(void **state)
{
    (void)state;
    /* log.h: roost_log_get_level returns what roost_log_set_level set */
    for (int l = ROOST_LOG_ERROR; l <= ROOST_LOG_DEBUG; l++) {
        roost_log_set_level((enum roost_log_level)l);
        assert_int_equal(roost_log_get_level(), l);
    }
}

/* ---- threshold --------------------------------------------------------- */

static void log_all_four(void)
{
    roost_log(ROOST_LOG_ERROR, "t", "E");
    roost_log(ROOST_LOG_WARN, "t", "W");
    roost_log(ROOST_LOG_INFO, "t", "I");
    roost_log(ROOST_LOG_DEBUG, "t", "D");
}

static void test_log__threshold_drops_lines_above_it(void **state)
{
    (void)state;
    /* log.h: "Sets the threshold; lines above it are dropped." */
    static const char *const want[] = {
        [ROOST_LOG_ERROR] = "E", [ROOST_LOG_WARN] = "EW", [ROOST_LOG_INFO] = "EWI",
        [ROOST_LOG_DEBUG] = "EWID",
    };
    struct roost_buf out = ROOST_BUF_INIT;
    char *pre = prefix("t");
    for (int l = ROOST_LOG_ERROR; l <= ROOST_LOG_DEBUG; l++) {
        struct roost_test_capture c;
        roost_log_set_level((enum roost_log_level)l);
        roost_test_capture_start(&c);
        log_all_four();
        roost_test_capture_stop(&c, &out);
        /* the lines written, in order, one letter each */
        struct roost_buf letters = ROOST_BUF_INIT;
        for (char *line = out.ptr; *line; ) {
            char *nl = strchr(line, '\n');
            assert_non_null(nl);
            assert_memory_equal(line, pre, strlen(pre));
            roost_buf_append(&letters, line + strlen(pre), (size_t)(nl - line) - strlen(pre));
            line = nl + 1;
        }
        assert_string_equal(letters.ptr, want[l]);
        roost_buf_release(&letters);
    }
    free(pre);
    roost_buf_release(&out);
}

static void test_log__default_level_drops_info(void **state)
{
    (void)state;
    /* DESIGN.md: ROOST_LOG_LEVEL default "warn" - info and debug are dropped */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    roost_log_set_level(ROOST_LOG_WARN);
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_INFO, "registry", "created instance '%s'", "x");
    roost_log(ROOST_LOG_DEBUG, "registry", "noise");
    roost_test_capture_stop(&c, &out);
    assert_int_equal(out.len, 0);
    roost_buf_release(&out);
}

/* ---- format ------------------------------------------------------------ */

static void test_log__format_exact(void **state)
{
    (void)state;
    /* log.h: "Format:  roost[PID]: MODULE: message 'subject': reason" */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s", "/var/lib/roost/meta.db",
              "Permission denied");
    roost_test_capture_stop(&c, &out);
    struct roost_buf want = ROOST_BUF_INIT;
    roost_buf_appendf(&want, "roost[%ld]: store: cannot open '/var/lib/roost/meta.db': "
                      "Permission denied\n", (long)getpid());
    assert_string_equal(out.ptr, want.ptr);
    roost_buf_release(&want);
    roost_buf_release(&out);
}

static void test_log__one_line_per_record(void **state)
{
    (void)state;
    /* STYLE.md: "one line per event on stderr" */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_ERROR, "a", "first");
    roost_log(ROOST_LOG_WARN, "b", "second %d", 2);
    roost_log(ROOST_LOG_ERROR, "c", "%s", "");
    roost_test_capture_stop(&c, &out);
    assert_int_equal(count_lines(&out), 3);
    struct roost_buf want = ROOST_BUF_INIT;
    roost_buf_appendf(&want, "roost[%ld]: a: first\nroost[%ld]: b: second 2\nroost[%ld]: c: \n",
                      (long)getpid(), (long)getpid(), (long)getpid());
    assert_string_equal(out.ptr, want.ptr);
    roost_buf_release(&want);
    roost_buf_release(&out);
}

static void test_log__newlines_in_message_flattened(void **state)
{
    (void)state;
    /* STYLE.md "one line per event": a message (or a quoted subject from a
     * client) holding CR or LF must not start a forged line in the log. */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_ERROR, "kv", "key '%s' bad", "a\nroost[1]: fake: b\r\nc");
    roost_test_capture_stop(&c, &out);
    assert_int_equal(count_lines(&out), 1);
    assert_null(strchr(out.ptr, '\r'));
    assert_int_equal(out.ptr[out.len - 1], '\n');
    char *pre = prefix("kv");
    assert_memory_equal(out.ptr, pre, strlen(pre));
    assert_non_null(strstr(out.ptr, "key 'a"));
    assert_non_null(strstr(out.ptr, "c' bad\n"));
    free(pre);
    roost_buf_release(&out);
}

static void test_log__long_message_still_one_line(void **state)
{
    (void)state;
    /* STYLE.md "one line per event": a message longer than any buffer is cut, not split */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    char *big = malloc(20001);
    assert_non_null(big);
    memset(big, 'x', 20000);
    big[20000] = '\0';
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_ERROR, "big", "%s", big);
    roost_log(ROOST_LOG_ERROR, "after", "next");
    roost_test_capture_stop(&c, &out);
    assert_int_equal(count_lines(&out), 2);
    char *pre = prefix("big");
    assert_memory_equal(out.ptr, pre, strlen(pre));
    char *second = strchr(out.ptr, '\n') + 1;
    char *pre2 = prefix("after");
    assert_memory_equal(second, pre2, strlen(pre2));
    free(pre);
    free(pre2);
    free(big);
    roost_buf_release(&out);
}

static void test_log__pid_is_the_writers_after_fork(void **state)
{
    (void)state;
    /* log.h: "roost[PID]" and "the pid cache ... set once at start": a
     * process that forks (the store's tests, roostctl helpers) must still
     * name the process that wrote the line, or worker logs mislead. */
    struct roost_test_capture c;
    struct roost_buf out = ROOST_BUF_INIT;
    roost_log(ROOST_LOG_DEBUG, "t", "dropped, but may fill a cache");
    roost_test_capture_start(&c);
    roost_log(ROOST_LOG_ERROR, "parent", "before");
    pid_t child = fork();
    if (child == 0) {
        roost_log(ROOST_LOG_ERROR, "child", "hello");
        _exit(0);
    }
    int status = 0;
    pid_t waited = waitpid(child, &status, 0);
    roost_test_capture_stop(&c, &out);
    assert_true(child > 0);
    assert_int_equal(waited, child);
    struct roost_buf want = ROOST_BUF_INIT;
    roost_buf_appendf(&want, "roost[%ld]: parent: before\nroost[%ld]: child: hello\n",
                      (long)getpid(), (long)child);
    assert_string_equal(out.ptr, want.ptr);
    roost_buf_release(&want);
    roost_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log__default_threshold_is_warn),
        cmocka_unit_test(test_log__level_parse),
        cmocka_unit_test_teardown(test_log__set_and_get_level, reset_level),
        cmocka_unit_test_teardown(test_log__threshold_drops_lines_above_it, reset_level),
        cmocka_unit_test_teardown(test_log__default_level_drops_info, reset_level),
        cmocka_unit_test_teardown(test_log__format_exact, reset_level),
        cmocka_unit_test_teardown(test_log__one_line_per_record, reset_level),
        cmocka_unit_test_teardown(test_log__newlines_in_message_flattened, reset_level),
        cmocka_unit_test_teardown(test_log__long_message_still_one_line, reset_level),
        cmocka_unit_test_teardown(test_log__pid_is_the_writers_after_fork, reset_level),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
