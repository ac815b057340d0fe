/*
 * test_settings.c - lib/settings.h: ROOST_* variables into struct
 * roost_settings, through a table-backed lookup (no real environment).
 *
 * Test organization
 *   group       what it checks                                    rule
 *   defaults    nothing set -> every documented default            DESIGN.md "Configuration" table
 *   parsing     each variable's accepted values and bounds         DESIGN.md table; limits.h ceilings
 *   problems    each bad value: one line naming variable and       settings.h "one line each naming the
 *               value, default kept, counted; several counted       variable and the value"
 *   getenv      the production lookup                              settings.h roost_settings_getenv
 *   admin       token bounds, refused token never echoed, users    issue 5 part 4 "Admin
 *               list trimming and empty entries, is_admin_user     authentication"; settings.c
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "limits.h"
#include "log.h"
#include "settings.h"
#include "testlib.h"

/* A lookup table: NULL-terminated name/value pairs. */
struct var {
    const char *name;
    const char *value;
};

static const char *table_lookup(void *arg, const char *name)
{
    for (const struct var *v = arg; v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v->value;
    return NULL;
}

static int load(struct roost_settings *s, const struct var *vars, struct roost_buf *problems)
{
    return roost_settings_load(s, table_lookup, (void *)vars, problems);
}

/* Loads exactly one variable and returns the problem count. */
static int load_one(struct roost_settings *s, const char *name, const char *value,
                    struct roost_buf *problems)
{
    const struct var vars[] = { { name, value }, { NULL, NULL } };
    return load(s, vars, problems);
}

static int count_lines(const struct roost_buf *b)
{
    int n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->ptr[i] == '\n';
    return n;
}

static void assert_defaults(const struct roost_settings *s)
{
    /* DESIGN.md "Configuration" table */
    assert_string_equal(s->store_dir, "/var/lib/roost");
    assert_string_equal(s->default_instance, "default");
    assert_int_equal(s->auto_create, 1);
    assert_int_equal(s->max_value_bytes, 1048576);
    assert_int_equal(s->max_batch_keys, 100);
    assert_string_equal(s->mode, "primary");
    assert_int_equal(s->log_level, ROOST_LOG_WARN);
    /* issue 5 part 4: the admin API is "off until configured" */
    assert_null(s->admin_token);
    assert_null(s->admin_users);
}

/* One bad value: exactly one problem, one line "ROOST_X='value': reason",
 * and the setting keeps its default. */
static void expect_problem(const char *name, const char *value)
{
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    int n = load_one(&s, name, value, &problems);
    if (n != 1)
        fail_msg("%s='%s': %d problems, want 1 (%s)", name, value, n, problems.ptr);
    /* settings.h: "each is appended to problems as one line
     * ("ROOST_X='value': reason\n")" */
    if (count_lines(&problems) != 1 || problems.ptr[problems.len - 1] != '\n')
        fail_msg("%s='%s': report is not one line: \"%s\"", name, value, problems.ptr);
    char want[256];
    snprintf(want, sizeof(want), "%s='", name);
    if (strncmp(problems.ptr, want, strlen(want)) != 0)
        fail_msg("report does not start with %s: \"%s\"", want, problems.ptr);
    if (!strchr(value, '\n') && !strchr(value, '\r') && !strstr(problems.ptr, value))
        fail_msg("report does not quote the value '%s': \"%s\"", value, problems.ptr);
    assert_non_null(strstr(problems.ptr, "': "));       /* a reason follows */
    /* settings.h: "On problems s still holds defaults for the bad variables" */
    assert_defaults(&s);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

static void expect_accepted(struct roost_settings *s, const char *name, const char *value)
{
    struct roost_buf problems = ROOST_BUF_INIT;
    int n = load_one(s, name, value, &problems);
    if (n != 0)
        fail_msg("%s='%s' refused: %s", name, value, problems.ptr);
    assert_int_equal(problems.len, 0);
    roost_buf_release(&problems);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_settings__defaults_with_nothing_set(void **state)
{
    (void)state;
    /* DESIGN.md: "Every one has a safe default, so the app runs with none set." */
    const struct var none[] = { { NULL, NULL } };
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    assert_int_equal(load(&s, none, &problems), 0);
    assert_int_equal(problems.len, 0);
    assert_defaults(&s);
    assert_string_equal(s.store_dir, ROOST_STORE_DIR_DEFAULT);
    assert_string_equal(s.default_instance, ROOST_DEFAULT_INSTANCE_DEFAULT);
    assert_string_equal(s.mode, ROOST_MODE_DEFAULT);
    assert_int_equal(s.max_value_bytes, ROOST_VALUE_MAX_DEFAULT);
    assert_int_equal(s.max_batch_keys, ROOST_BATCH_KEYS_DEFAULT);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

static void test_settings__problems_may_be_null(void **state)
{
    (void)state;
    /* settings.h: the count is returned even with nowhere to append the lines */
    const struct var vars[] = { { "ROOST_AUTO_CREATE", "maybe" }, { NULL, NULL } };
    struct roost_settings s;
    assert_int_equal(roost_settings_load(&s, table_lookup, (void *)vars, NULL), 1);
    roost_settings_release(&s);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_settings__every_variable_parsed(void **state)
{
    (void)state;
    /* DESIGN.md "Configuration": each variable of the table sets its field */
    const struct var vars[] = {
        { "ROOST_STORE_DIR", "/srv/roost/store" },
        { "ROOST_DEFAULT_INSTANCE", "game-instance-123" },
        { "ROOST_AUTO_CREATE", "0" },
        { "ROOST_MAX_VALUE_BYTES", "2048" },
        { "ROOST_MAX_BATCH_KEYS", "10" },
        { "ROOST_MODE", "replica" },
        { "ROOST_LOG_LEVEL", "debug" },
        { NULL, NULL },
    };
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    assert_int_equal(load(&s, vars, &problems), 0);
    assert_string_equal(s.store_dir, "/srv/roost/store");
    assert_string_equal(s.default_instance, "game-instance-123");
    assert_int_equal(s.auto_create, 0);
    assert_int_equal(s.max_value_bytes, 2048);
    assert_int_equal(s.max_batch_keys, 10);
    assert_string_equal(s.mode, "replica");
    assert_int_equal(s.log_level, ROOST_LOG_DEBUG);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

static void test_settings__auto_create_zero_and_one(void **state)
{
    (void)state;
    /* DESIGN.md: ROOST_AUTO_CREATE "1" creates; "0: 404 INSTANCE_NOT_FOUND" */
    struct roost_settings s;
    expect_accepted(&s, "ROOST_AUTO_CREATE", "0");
    assert_int_equal(s.auto_create, 0);
    roost_settings_release(&s);
    expect_accepted(&s, "ROOST_AUTO_CREATE", "1");
    assert_int_equal(s.auto_create, 1);
    roost_settings_release(&s);
}

static void test_settings__log_levels(void **state)
{
    (void)state;
    /* DESIGN.md: ROOST_LOG_LEVEL "error, warn, info, debug" */
    static const struct {
        const char *name;
        enum roost_log_level level;
    } levels[] = { { "error", ROOST_LOG_ERROR }, { "warn", ROOST_LOG_WARN },
                   { "info", ROOST_LOG_INFO }, { "debug", ROOST_LOG_DEBUG } };
    for (size_t i = 0; i < 4; i++) {
        struct roost_settings s;
        expect_accepted(&s, "ROOST_LOG_LEVEL", levels[i].name);
        assert_int_equal(s.log_level, levels[i].level);
        roost_settings_release(&s);
    }
}

static void test_settings__size_bounds(void **state)
{
    (void)state;
    /* limits.h: value ceiling ROOST_VALUE_MAX_CEILING (64 MiB), batch
     * ceiling ROOST_BATCH_KEYS_CEILING (10,000): both ends accepted. */
    struct roost_settings s;
    char num[32];
    snprintf(num, sizeof(num), "%d", ROOST_VALUE_MAX_CEILING);
    expect_accepted(&s, "ROOST_MAX_VALUE_BYTES", num);
    assert_int_equal(s.max_value_bytes, ROOST_VALUE_MAX_CEILING);
    roost_settings_release(&s);
    expect_accepted(&s, "ROOST_MAX_VALUE_BYTES", "1");
    assert_int_equal(s.max_value_bytes, 1);
    roost_settings_release(&s);
    snprintf(num, sizeof(num), "%d", ROOST_BATCH_KEYS_CEILING);
    expect_accepted(&s, "ROOST_MAX_BATCH_KEYS", num);
    assert_int_equal(s.max_batch_keys, ROOST_BATCH_KEYS_CEILING);
    roost_settings_release(&s);
    expect_accepted(&s, "ROOST_MAX_BATCH_KEYS", "1");
    assert_int_equal(s.max_batch_keys, 1);
    roost_settings_release(&s);
}

static void test_settings__default_instance_longest_id(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": ids are 1-64 bytes, so 64 is accepted */
    char id[65];
    memset(id, 'd', 64);
    id[64] = '\0';
    struct roost_settings s;
    expect_accepted(&s, "ROOST_DEFAULT_INSTANCE", id);
    assert_string_equal(s.default_instance, id);
    roost_settings_release(&s);
}

static void test_settings__mode_word(void **state)
{
    (void)state;
    /* limits.h: "ROOST_MODE: a short word reported by /health" (at most
     * ROOST_MODE_MAX bytes) */
    char mode[ROOST_MODE_MAX + 1];
    memset(mode, 'm', ROOST_MODE_MAX);
    mode[ROOST_MODE_MAX] = '\0';
    struct roost_settings s;
    expect_accepted(&s, "ROOST_MODE", mode);
    assert_string_equal(s.mode, mode);
    roost_settings_release(&s);
}

static void test_settings__empty_value_means_default(void **state)
{
    (void)state;
    /* settings.c: "Unset and empty both mean use the default: an empty
     * bin-environment entry in lighttpd.conf is how a sysadmin comments a
     * value out in place." (not in settings.h; see the report) */
    const struct var vars[] = {
        { "ROOST_STORE_DIR", "" }, { "ROOST_DEFAULT_INSTANCE", "" }, { "ROOST_AUTO_CREATE", "" },
        { "ROOST_MAX_VALUE_BYTES", "" }, { "ROOST_MAX_BATCH_KEYS", "" }, { "ROOST_MODE", "" },
        { "ROOST_LOG_LEVEL", "" }, { NULL, NULL },
    };
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    assert_int_equal(load(&s, vars, &problems), 0);
    assert_defaults(&s);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

/* ---- problems ---------------------------------------------------------- */

static void test_settings__bad_numbers(void **state)
{
    (void)state;
    /* DESIGN.md: "Bad configuration is reported once, clearly ... naming
     * the variable and the value, and the worker refuses to serve rather
     * than guess" - so no lenient number parsing. */
    static const char *const bad[] = { "abc", "-1", "12abc", "1e3", "0x10", " 12", "12 ", "+5",
                                       "1.5", "1,000", "99999999999999999999999999" };
    static const char *const vars[] = { "ROOST_MAX_VALUE_BYTES", "ROOST_MAX_BATCH_KEYS" };
    for (size_t v = 0; v < 2; v++)
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            expect_problem(vars[v], bad[i]);
}

static void test_settings__numbers_above_ceiling_or_zero(void **state)
{
    (void)state;
    /* limits.h: settings "may move some of them within the ranges given here" */
    char num[32];
    snprintf(num, sizeof(num), "%d", ROOST_VALUE_MAX_CEILING + 1);
    expect_problem("ROOST_MAX_VALUE_BYTES", num);
    snprintf(num, sizeof(num), "%d", ROOST_BATCH_KEYS_CEILING + 1);
    expect_problem("ROOST_MAX_BATCH_KEYS", num);
    /* a batch of at most zero keys would refuse every batch */
    expect_problem("ROOST_MAX_BATCH_KEYS", "0");
    /* wraps to a small number if parsed into 32 bits */
    expect_problem("ROOST_MAX_VALUE_BYTES", "4294967297");
    expect_problem("ROOST_MAX_BATCH_KEYS", "18446744073709551617");
}

static void test_settings__auto_create_only_zero_or_one(void **state)
{
    (void)state;
    /* Decided with the lead: ROOST_AUTO_CREATE accepts 0 and 1 only */
    static const char *const bad[] = { "2", "yes", "no", "true", "false", "on", "01", " 1", "-1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_problem("ROOST_AUTO_CREATE", bad[i]);
}

static void test_settings__bad_default_instance(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": ids are "1–64 bytes of [A-Za-z0-9._-]" */
    char long_id[66];
    memset(long_id, 'd', 65);
    long_id[65] = '\0';
    expect_problem("ROOST_DEFAULT_INSTANCE", long_id);
    expect_problem("ROOST_DEFAULT_INSTANCE", "a:b");
    expect_problem("ROOST_DEFAULT_INSTANCE", "with space");
    expect_problem("ROOST_DEFAULT_INSTANCE", "caf\xC3\xA9");
}

static void test_settings__bad_log_level(void **state)
{
    (void)state;
    /* DESIGN.md: ROOST_LOG_LEVEL is one of "error, warn, info, debug" */
    expect_problem("ROOST_LOG_LEVEL", "verbose");
    expect_problem("ROOST_LOG_LEVEL", "warning");
    expect_problem("ROOST_LOG_LEVEL", "3");
}

static void test_settings__bad_mode_and_store_dir(void **state)
{
    (void)state;
    /* DESIGN.md: "Bad configuration is reported ... naming the variable and the value" */
    char mode[ROOST_MODE_MAX + 2];
    memset(mode, 'm', ROOST_MODE_MAX + 1);
    mode[ROOST_MODE_MAX + 1] = '\0';
    expect_problem("ROOST_MODE", mode);                     /* longer than ROOST_MODE_MAX */
    /* workers run in no predictable directory: a relative store is a guess */
    expect_problem("ROOST_STORE_DIR", "var/store");
}

static void test_settings__problem_line_stays_one_line(void **state)
{
    (void)state;
    /* settings.h: each problem is "one line"; a value with a newline (a
     * stray line break in lighttpd.conf) must not split the report or
     * forge a second line in the error log. */
    expect_problem("ROOST_MAX_VALUE_BYTES", "1\n2");
    expect_problem("ROOST_LOG_LEVEL", "warn\nroost[1]: fake: line");
    expect_problem("ROOST_AUTO_CREATE", "1\r\n");
}

static void test_settings__several_problems_counted(void **state)
{
    (void)state;
    /* settings.h: "Returns the number of problems"; "Problems are collected"
     * - all of them, not just the first */
    const struct var vars[] = {
        { "ROOST_AUTO_CREATE", "yes" },
        { "ROOST_MAX_VALUE_BYTES", "lots" },
        { "ROOST_MAX_BATCH_KEYS", "0" },
        { "ROOST_LOG_LEVEL", "loud" },
        { "ROOST_MODE", "replica" },               /* fine */
        { NULL, NULL },
    };
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    roost_buf_append_str(&problems, "earlier\n");   /* "appended" */
    assert_int_equal(load(&s, vars, &problems), 4);
    assert_int_equal(count_lines(&problems), 5);
    assert_memory_equal(problems.ptr, "earlier\n", 8);
    assert_non_null(strstr(problems.ptr, "ROOST_AUTO_CREATE='yes'"));
    assert_non_null(strstr(problems.ptr, "ROOST_MAX_VALUE_BYTES='lots'"));
    assert_non_null(strstr(problems.ptr, "ROOST_MAX_BATCH_KEYS='0'"));
    assert_non_null(strstr(problems.ptr, "ROOST_LOG_LEVEL='loud'"));
    assert_null(strstr(problems.ptr, "ROOST_MODE"));
    assert_string_equal(s.mode, "replica");          /* good ones still applied */
    assert_int_equal(s.auto_create, 1);
    assert_int_equal(s.max_value_bytes, ROOST_VALUE_MAX_DEFAULT);
    assert_int_equal(s.max_batch_keys, ROOST_BATCH_KEYS_DEFAULT);
    assert_int_equal(s.log_level, ROOST_LOG_WARN);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

/* ---- getenv ------------------------------------------------------------ */

static void test_settings__getenv_lookup(void **state)
{
    (void)state;
    /* settings.h: "Production passes a getenv wrapper" */
    setenv("ROOST_TEST_SETTINGS_PROBE", "value-1", 1);
    assert_string_equal(roost_settings_getenv(NULL, "ROOST_TEST_SETTINGS_PROBE"), "value-1");
    unsetenv("ROOST_TEST_SETTINGS_PROBE");
    assert_null(roost_settings_getenv(NULL, "ROOST_TEST_SETTINGS_PROBE"));

    /* and it works as the loader's lookup */
    setenv("ROOST_MAX_BATCH_KEYS", "7", 1);
    struct roost_settings s;
    struct roost_buf problems = ROOST_BUF_INIT;
    roost_settings_load(&s, roost_settings_getenv, NULL, &problems);
    assert_int_equal(s.max_batch_keys, 7);
    unsetenv("ROOST_MAX_BATCH_KEYS");
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

/* ---- admin credentials (issue 5 part 4) --------------------------------- */

/* Loads ROOST_ADMIN_TOKEN=token: the problem count; problems gets the lines. */
static int load_token(struct roost_settings *s, const char *token, struct roost_buf *problems)
{
    return load_one(s, "ROOST_ADMIN_TOKEN", token, problems);
}

static void test_settings__admin_off_by_default(void **state)
{
    (void)state;
    /* issue 5 part 4: "off until configured" */
    const struct var none[] = { { NULL, NULL } };
    struct roost_settings s;
    assert_int_equal(load(&s, none, NULL), 0);
    assert_null(s.admin_token);
    assert_null(s.admin_users);
    assert_int_equal(roost_settings_is_admin_user(&s, "root"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, ""), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, NULL), 0);
    roost_settings_release(&s);
    /* empty values are "use the default" (commented out in place) */
    const struct var empty[] = { { "ROOST_ADMIN_TOKEN", "" }, { "ROOST_ADMIN_USERS", "" }, { NULL, NULL } };
    struct roost_buf problems = ROOST_BUF_INIT;
    assert_int_equal(load(&s, empty, &problems), 0);
    assert_int_equal(problems.len, 0);
    assert_null(s.admin_token);
    assert_null(s.admin_users);
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

static void test_settings__admin_token_accepted(void **state)
{
    (void)state;
    /* settings.h: ROOST_ADMIN_TOKEN_MIN 16; settings.c: up to 512 printable
     * characters without spaces (base64 of random bytes fits) */
    static const char *const good[] = {
        "0123456789abcdef",                                      /* exactly 16 */
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",                     /* printable punctuation */
        "q3Vx+9/Zk2mLr8TnWp0Ys4HcGj6BfA1e+Qd7Uo5Ni2M=",          /* base64 */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct roost_settings s;
        expect_accepted(&s, "ROOST_ADMIN_TOKEN", good[i]);
        assert_non_null(s.admin_token);
        assert_string_equal(s.admin_token, good[i]);
        roost_settings_release(&s);
    }
    char longest[513];
    memset(longest, 'T', 512);
    longest[512] = '\0';
    struct roost_settings s;
    expect_accepted(&s, "ROOST_ADMIN_TOKEN", longest);
    assert_string_equal(s.admin_token, longest);
    roost_settings_release(&s);
    assert_int_equal(ROOST_ADMIN_TOKEN_MIN, 16);
}

static void test_settings__admin_token_refused_and_hidden(void **state)
{
    (void)state;
    /* settings.c: "The value itself is a secret: never echo it into the
     * log." - a refused token gives one problem line that names the
     * variable and why, but carries no part of the token */
    char too_long[514];
    memset(too_long, 'S', 513);
    too_long[513] = '\0';
    const char *const bad[] = {
        "SecretShort15ch",                       /* 15: one short */
        "Sec",
        "Secret With Spaces 123",
        "SecretWithTab\t1234567",
        "SecretWithNewline\nroost[1]: forged",
        "SecretWithDel\x7f" "12345678",
        "SecretWithBell\x07" "12345678",
        "SecretNonAscii\xC3\xA9" "12345678",
        " LeadingSpaceSecret12",
        "TrailingSpaceSecret12 ",
        too_long,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_settings s;
        struct roost_buf problems = ROOST_BUF_INIT;
        int n = load_token(&s, bad[i], &problems);
        if (n != 1)
            fail_msg("token #%zu: %d problems, want 1", i, n);
        assert_null(s.admin_token);                             /* admin stays off */
        if (count_lines(&problems) != 1 || problems.ptr[problems.len - 1] != '\n')
            fail_msg("token #%zu: report is not one line: \"%s\"", i, problems.ptr);
        assert_memory_equal(problems.ptr, "ROOST_ADMIN_TOKEN='", 19);
        assert_non_null(strstr(problems.ptr, "16"));            /* says what is needed */
        /* no 4-byte piece of the secret appears (the word "Secret" is in
         * each, so that catches any partial echo) */
        assert_null(strstr(problems.ptr, "Secret"));
        assert_null(strstr(problems.ptr, "SSSS"));
        assert_null(strstr(problems.ptr, "forged"));
        roost_settings_release(&s);
        roost_buf_release(&problems);
    }
}

static void test_settings__admin_users_list(void **state)
{
    (void)state;
    /* issue 5 part 4: "users named in ROOST_ADMIN_USERS" - comma-separated,
     * blanks around names trimmed, empty entries skipped */
    static const struct {
        const char *value;
        const char *want[5];
    } cases[] = {
        { "alice", { "alice" } },
        { "alice,bob", { "alice", "bob" } },
        { " alice , bob\t,\tcarol ", { "alice", "bob", "carol" } },
        { ",alice,,bob,", { "alice", "bob" } },
        { "alice, ,bob", { "alice", "bob" } },
        { "a,b,c,d,e", { "a", "b", "c", "d", "e" } },   /* past the initial capacity of 4 */
        { "ops team", { "ops team" } },                 /* inner blanks belong to the name */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct roost_settings s;
        expect_accepted(&s, "ROOST_ADMIN_USERS", cases[i].value);
        assert_non_null(s.admin_users);
        size_t n = 0;
        while (n < 5 && cases[i].want[n]) {
            if (!s.admin_users[n] || strcmp(s.admin_users[n], cases[i].want[n]) != 0)
                fail_msg("'%s': user %zu is '%s', want '%s'", cases[i].value, n,
                         s.admin_users[n] ? s.admin_users[n] : "(end)", cases[i].want[n]);
            n++;
        }
        if (s.admin_users[n])
            fail_msg("'%s': extra user '%s'", cases[i].value, s.admin_users[n]);
        roost_settings_release(&s);
    }
    /* many users */
    struct roost_buf many = ROOST_BUF_INIT;
    for (int i = 0; i < 100; i++)
        roost_buf_appendf(&many, "%suser%d", i ? "," : "", i);
    struct roost_settings s;
    expect_accepted(&s, "ROOST_ADMIN_USERS", many.ptr);
    assert_string_equal(s.admin_users[99], "user99");
    assert_null(s.admin_users[100]);
    assert_int_equal(roost_settings_is_admin_user(&s, "user57"), 1);
    roost_settings_release(&s);
    roost_buf_release(&many);
}

static void test_settings__admin_users_all_empty(void **state)
{
    (void)state;
    /* a list that names nobody is a mistake, not "admin off" */
    static const char *const bad[] = { ",", " ", " , ,\t", ",,,", "\t" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_settings s;
        struct roost_buf problems = ROOST_BUF_INIT;
        assert_int_equal(load_one(&s, "ROOST_ADMIN_USERS", bad[i], &problems), 1);
        assert_int_equal(count_lines(&problems), 1);
        assert_memory_equal(problems.ptr, "ROOST_ADMIN_USERS='", 19);
        assert_null(s.admin_users);
        roost_settings_release(&s);
        roost_buf_release(&problems);
    }
}

static void test_settings__is_admin_user(void **state)
{
    (void)state;
    /* settings.h: "1 if user is named in ROOST_ADMIN_USERS" - exactly
     * (REMOTE_USER from mod_auth is compared as it is) */
    struct roost_settings s;
    expect_accepted(&s, "ROOST_ADMIN_USERS", " alice ,bob");
    assert_int_equal(roost_settings_is_admin_user(&s, "alice"), 1);
    assert_int_equal(roost_settings_is_admin_user(&s, "bob"), 1);
    assert_int_equal(roost_settings_is_admin_user(&s, "Alice"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, " alice"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, "alic"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, "alicex"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, "alice,bob"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, "carol"), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, ""), 0);
    assert_int_equal(roost_settings_is_admin_user(&s, NULL), 0);
    roost_settings_release(&s);
}

static void test_settings__admin_token_and_users_together(void **state)
{
    (void)state;
    /* issue 5 part 4: "and/or" - both at once; a bad token does not stop
     * the users from loading (every problem is collected, none acted on) */
    const struct var both[] = { { "ROOST_ADMIN_TOKEN", "abcdefghijklmnopqrstuvwxyz012345" },
                                { "ROOST_ADMIN_USERS", "ops" }, { NULL, NULL } };
    struct roost_settings s;
    assert_int_equal(load(&s, both, NULL), 0);
    assert_string_equal(s.admin_token, "abcdefghijklmnopqrstuvwxyz012345");
    assert_int_equal(roost_settings_is_admin_user(&s, "ops"), 1);
    roost_settings_release(&s);
    const struct var bad_token[] = { { "ROOST_ADMIN_TOKEN", "short" }, { "ROOST_ADMIN_USERS", "ops" },
                                     { "ROOST_AUTO_CREATE", "x" }, { NULL, NULL } };
    struct roost_buf problems = ROOST_BUF_INIT;
    assert_int_equal(load(&s, bad_token, &problems), 2);
    assert_null(s.admin_token);
    assert_int_equal(roost_settings_is_admin_user(&s, "ops"), 1);
    assert_null(strstr(problems.ptr, "short"));
    roost_settings_release(&s);
    roost_buf_release(&problems);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings__defaults_with_nothing_set),
        cmocka_unit_test(test_settings__problems_may_be_null),
        cmocka_unit_test(test_settings__every_variable_parsed),
        cmocka_unit_test(test_settings__auto_create_zero_and_one),
        cmocka_unit_test(test_settings__log_levels),
        cmocka_unit_test(test_settings__size_bounds),
        cmocka_unit_test(test_settings__default_instance_longest_id),
        cmocka_unit_test(test_settings__mode_word),
        cmocka_unit_test(test_settings__empty_value_means_default),
        cmocka_unit_test(test_settings__bad_numbers),
        cmocka_unit_test(test_settings__numbers_above_ceiling_or_zero),
        cmocka_unit_test(test_settings__auto_create_only_zero_or_one),
        cmocka_unit_test(test_settings__bad_default_instance),
        cmocka_unit_test(test_settings__bad_log_level),
        cmocka_unit_test(test_settings__bad_mode_and_store_dir),
        cmocka_unit_test(test_settings__problem_line_stays_one_line),
        cmocka_unit_test(test_settings__several_problems_counted),
        cmocka_unit_test(test_settings__getenv_lookup),
        cmocka_unit_test(test_settings__admin_off_by_default),
        cmocka_unit_test(test_settings__admin_token_accepted),
        cmocka_unit_test(test_settings__admin_token_refused_and_hidden),
        cmocka_unit_test(test_settings__admin_users_list),
        cmocka_unit_test(test_settings__admin_users_all_empty),
        cmocka_unit_test(test_settings__is_admin_user),
        cmocka_unit_test(test_settings__admin_token_and_users_together),
    };
    return cmocka_run_group_tests_name("settings", tests, NULL, NULL);
}
