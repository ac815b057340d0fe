/*
 * test_error.c - lib/error.h: the closed error table and its accessors.
 *
 * Test organization
 *   group        what it checks                                    rule
 *   table shape  every row: UPPER_SNAKE code, status 400-599       DESIGN.md "API rules": JSON errors
 *                (OK: 200), non-empty message, name                with stable UPPER_SNAKE codes
 *   accessors    each accessor returns its row (X-macro order)      error.h
 *   spec rows    the codes, statuses and messages the spec and     spec "Error Responses";
 *                DESIGN.md fix                                     DESIGN.md "API rules"
 *   robustness   out-of-range values never crash or give NULL      error.h "Never NULL"
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "testlib.h"

static int is_upper_snake(const char *s)
{
    if (!s || !(*s >= 'A' && *s <= 'Z'))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return s[strlen(s) - 1] != '_';
}

/* ---- table shape ------------------------------------------------------- */

static void test_error__ok_is_zero(void **state)
{
    (void)state;
    /* STYLE.md "Return values": "ROOST_OK is 0" */
    assert_int_equal(ROOST_OK, 0);
    assert_int_equal(ROOST_ERR_OK, 0);
    assert_int_equal(roost_err_status(ROOST_OK), 200);
}

static void test_error__every_code_is_upper_snake(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": errors carry "code": "UPPER_SNAKE" */
    for (int e = 0; e < ROOST_ERR__COUNT; e++) {
        const char *code = roost_err_code((enum roost_err)e);
        if (!is_upper_snake(code))
            fail_msg("%s: code \"%s\" is not UPPER_SNAKE", roost_err_name((enum roost_err)e),
                     code ? code : "(null)");
    }
}

static void test_error__every_error_status_is_4xx_or_5xx(void **state)
{
    (void)state;
    /* DESIGN.md: "never a bare 500" means every error has a deliberate
     * status; an error is never reported with a success status. */
    for (int e = 1; e < ROOST_ERR__COUNT; e++) {
        int st = roost_err_status((enum roost_err)e);
        if (st < 400 || st > 599)
            fail_msg("%s: status %d outside 400-599", roost_err_name((enum roost_err)e), st);
    }
}

static void test_error__every_message_and_name_present(void **state)
{
    (void)state;
    /* error.h: message "lowercase, no full stop. Never NULL." */
    for (int e = 0; e < ROOST_ERR__COUNT; e++) {
        const char *msg = roost_err_message((enum roost_err)e);
        const char *name = roost_err_name((enum roost_err)e);
        assert_non_null(msg);
        assert_non_null(name);
        if (!*msg || !*name)
            fail_msg("row %d has an empty message or name", e);
        size_t n = strlen(msg);
        if (msg[n - 1] == '.' || msg[n - 1] == '\n' || msg[n - 1] == ' ')
            fail_msg("%s: message \"%s\" ends with '%c'", name, msg, msg[n - 1]);
        if (!is_upper_snake(name))
            fail_msg("row %d: name \"%s\" is not an enum-style name", e, name);
    }
}

static void test_error__same_code_same_status(void **state)
{
    (void)state;
    /* A client maps code -> meaning: one code never arrives with two
     * different statuses (USAGE deliberately reuses INTERNAL_ERROR). */
    for (int a = 0; a < ROOST_ERR__COUNT; a++)
        for (int b = a + 1; b < ROOST_ERR__COUNT; b++)
            if (strcmp(roost_err_code((enum roost_err)a), roost_err_code((enum roost_err)b)) == 0
                && roost_err_status((enum roost_err)a) != roost_err_status((enum roost_err)b))
                fail_msg("code %s has statuses %d and %d", roost_err_code((enum roost_err)a),
                         roost_err_status((enum roost_err)a), roost_err_status((enum roost_err)b));
}

/* ---- accessors --------------------------------------------------------- */

static void test_error__accessors_follow_table_rows(void **state)
{
    (void)state;
    /* error.h: one X-macro table gives name, code, status, message; each
     * accessor must return its own enum's row. */
    static const struct {
        enum roost_err err;
        const char *name, *code;
        int status;
        const char *message;
    } rows[] = {
#define ROW(name, code, status, msg) { ROOST_ERR_##name, #name, code, status, msg },
        ROOST_ERR_MAP(ROW)
#undef ROW
    };
    assert_int_equal(sizeof(rows) / sizeof(rows[0]), ROOST_ERR__COUNT);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(rows[i].err, i);
        assert_string_equal(roost_err_name(rows[i].err), rows[i].name);
        assert_string_equal(roost_err_code(rows[i].err), rows[i].code);
        assert_int_equal(roost_err_status(rows[i].err), rows[i].status);
        assert_string_equal(roost_err_message(rows[i].err), rows[i].message);
    }
}

/* ---- spec rows --------------------------------------------------------- */

static void check_row(enum roost_err e, const char *code, int status)
{
    assert_string_equal(roost_err_code(e), code);
    assert_int_equal(roost_err_status(e), status);
}

static void test_error__spec_error_responses(void **state)
{
    (void)state;
    /* spec "Error Responses": {"error": "instance ID is required",
     * "code": "MISSING_INSTANCE_ID"}; DESIGN.md: "MISSING_INSTANCE_ID is 400" */
    check_row(ROOST_ERR_MISSING_INSTANCE_ID, "MISSING_INSTANCE_ID", 400);
    assert_string_equal(roost_err_message(ROOST_ERR_MISSING_INSTANCE_ID), "instance ID is required");
    /* spec: {"error": "instance not found", "code": "INSTANCE_NOT_FOUND"};
     * DESIGN.md: "INSTANCE_NOT_FOUND 404" */
    check_row(ROOST_ERR_INSTANCE_NOT_FOUND, "INSTANCE_NOT_FOUND", 404);
    assert_string_equal(roost_err_message(ROOST_ERR_INSTANCE_NOT_FOUND), "instance not found");
    /* spec: {"error": "instance is inactive", "code": "INSTANCE_INACTIVE"};
     * DESIGN.md: "inactive -> 503 INSTANCE_INACTIVE" */
    check_row(ROOST_ERR_INSTANCE_INACTIVE, "INSTANCE_INACTIVE", 503);
    assert_string_equal(roost_err_message(ROOST_ERR_INSTANCE_INACTIVE), "instance is inactive");
}

static void test_error__design_api_rule_rows(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "paused -> 503 INSTANCE_PAUSED, deleting ->
     * 410 INSTANCE_DELETING" */
    check_row(ROOST_ERR_INSTANCE_PAUSED, "INSTANCE_PAUSED", 503);
    check_row(ROOST_ERR_INSTANCE_DELETING, "INSTANCE_DELETING", 410);
    /* "anything else is 400 INVALID_INSTANCE_ID" */
    check_row(ROOST_ERR_INVALID_INSTANCE_ID, "INVALID_INSTANCE_ID", 400);
    /* "A key-syntax error ... is 400 INVALID_KEY" */
    check_row(ROOST_ERR_INVALID_KEY, "INVALID_KEY", 400);
    /* "a missing key on GET or DELETE is 404 KEY_NOT_FOUND" */
    check_row(ROOST_ERR_KEY_NOT_FOUND, "KEY_NOT_FOUND", 404);
    /* "Oversized bodies get 413" */
    check_row(ROOST_ERR_VALUE_TOO_LARGE, "VALUE_TOO_LARGE", 413);
    /* "A path with segments after /v1/cache/{key} matches no route: 404 NOT_FOUND" */
    check_row(ROOST_ERR_NOT_FOUND, "NOT_FOUND", 404);
    /* STYLE.md router: "answers JSON 404 or 405 with Allow" */
    check_row(ROOST_ERR_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", 405);
    /* DESIGN.md settings: "ROOST_MAX_BATCH_KEYS ... more keys in one batch: 400" */
    check_row(ROOST_ERR_BATCH_TOO_LARGE, "BATCH_TOO_LARGE", 400);
    /* DESIGN.md: "never a bare 500": internal errors still have a code */
    check_row(ROOST_ERR_INTERNAL, "INTERNAL_ERROR", 500);
}

/* ---- robustness -------------------------------------------------------- */

static void test_error__out_of_range_values_are_safe(void **state)
{
    (void)state;
    /* error.h: code and message "Never NULL" - also for a value no row has */
    const int bogus[] = { ROOST_ERR__COUNT, ROOST_ERR__COUNT + 1, 9999, -1, -12345 };
    for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
        enum roost_err e = (enum roost_err)bogus[i];
        const char *code = roost_err_code(e);
        const char *msg = roost_err_message(e);
        const char *name = roost_err_name(e);
        assert_non_null(code);
        assert_non_null(msg);
        assert_non_null(name);
        assert_true(is_upper_snake(code));
        assert_true(*msg != '\0');
        int st = roost_err_status(e);
        /* never reported as success */
        assert_in_range(st, 500, 599);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error__ok_is_zero),
        cmocka_unit_test(test_error__every_code_is_upper_snake),
        cmocka_unit_test(test_error__every_error_status_is_4xx_or_5xx),
        cmocka_unit_test(test_error__every_message_and_name_present),
        cmocka_unit_test(test_error__same_code_same_status),
        cmocka_unit_test(test_error__accessors_follow_table_rows),
        cmocka_unit_test(test_error__spec_error_responses),
        cmocka_unit_test(test_error__design_api_rule_rows),
        cmocka_unit_test(test_error__out_of_range_values_are_safe),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
