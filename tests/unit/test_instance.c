/*
 * test_instance.c - lib/instance.h: ids, the five states, the record and
 * its JSON form in the store.
 *
 * Test organization
 *   group        what it checks                                   rule
 *   id syntax    1..64 bytes of [A-Za-z0-9._-], every other byte  DESIGN.md "API rules": Instance ID
 *   states       names, parse (exact, slice-bounded), servable    spec "Instance States";
 *                mapping to errors                                DESIGN.md "Instance states"
 *   defaults     a new instance's fields                          spec "Instance Creation"
 *   json         golden form, round trip of every field, appends  instance.h "JSON form"
 *   compat       missing fields -> defaults, unknown fields        instance.h "a reader fills fields
 *                ignored, previous contents replaced              missing ... ignores fields it does
 *                                                                 not know"
 *   corrupt      anything that is not a record -> STORE_CORRUPT   instance.h from_json errors
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "instance.h"
#include "testlib.h"

static int id_ok(const char *p, size_t n)
{
    return roost_instance_id_valid(roost_slice_make(p, n));
}

/* ---- id syntax --------------------------------------------------------- */

static void test_instance__id_length_bounds(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "1–64 bytes of [A-Za-z0-9._-]" */
    char id[66];
    memset(id, 'a', sizeof(id));
    assert_int_equal(id_ok(id, 1), 1);
    assert_int_equal(id_ok(id, 64), 1);
    assert_int_equal(id_ok(id, 65), 0);
    assert_int_equal(id_ok(id, 0), 0);
    assert_int_equal(roost_instance_id_valid(ROOST_SLICE_NULL), 0);
}

static void test_instance__id_charset_every_byte(void **state)
{
    (void)state;
    /* DESIGN.md: "anything else is 400 INVALID_INSTANCE_ID" - so every byte
     * outside [A-Za-z0-9._-] is refused, wherever it stands. */
    for (int c = 0; c < 256; c++) {
        int allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                   || c == '.' || c == '_' || c == '-';
        char mid[3] = { 'a', (char)c, 'b' };
        char first[2] = { (char)c, 'b' };
        char last[2] = { 'a', (char)c };
        if (id_ok(mid, 3) != allowed || id_ok(first, 2) != allowed || id_ok(last, 2) != allowed)
            fail_msg("byte 0x%02X: want %s", c, allowed ? "allowed" : "refused");
    }
}

static void test_instance__id_examples(void **state)
{
    (void)state;
    assert_true(id_ok("game-instance-123", 17));              /* the spec's example */
    assert_true(id_ok("minecraft-server-001", 20));
    assert_true(id_ok("ABCxyz019._-", 12));
    assert_true(id_ok(".", 1));                                /* charset as written */
    assert_true(id_ok("..", 2));
    assert_false(id_ok("a:b", 3));                             /* the peer's separator */
    assert_false(id_ok("a/b", 3));
    assert_false(id_ok("a b", 3));
    assert_false(id_ok("a\0b", 3));
    assert_false(id_ok("caf\xC3\xA9", 5));
    assert_true(id_ok("abc:", 3));                             /* only p[0..n) counts */
}

/* ---- states ------------------------------------------------------------ */

static const struct {
    enum roost_instance_status st;
    const char *name;
    enum roost_err servable;
} states[] = {
    /* spec "Instance States"; DESIGN.md "Instance states": "inactive -> 503
     * INSTANCE_INACTIVE, paused -> 503 INSTANCE_PAUSED, deleting -> 410
     * INSTANCE_DELETING ... active and migrating are served." */
    { ROOST_INSTANCE_ACTIVE, "active", ROOST_OK },
    { ROOST_INSTANCE_INACTIVE, "inactive", ROOST_ERR_INSTANCE_INACTIVE },
    { ROOST_INSTANCE_PAUSED, "paused", ROOST_ERR_INSTANCE_PAUSED },
    { ROOST_INSTANCE_MIGRATING, "migrating", ROOST_OK },
    { ROOST_INSTANCE_DELETING, "deleting", ROOST_ERR_INSTANCE_DELETING },
};
#define NSTATES (sizeof(states) / sizeof(states[0]))

static void test_instance__status_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSTATES; i++)
        assert_string_equal(roost_instance_status_name(states[i].st), states[i].name);
    /* instance.h: "Never NULL" */
    assert_non_null(roost_instance_status_name((enum roost_instance_status)99));
    assert_non_null(roost_instance_status_name((enum roost_instance_status)-1));
}

static void test_instance__status_parse_all_five(void **state)
{
    (void)state;
    /* spec "Instance States": the five names parse back to their states */
    for (size_t i = 0; i < NSTATES; i++)
        assert_int_equal(roost_instance_status_parse(roost_slice_cstr(states[i].name)),
                         (int)states[i].st);
}

static void test_instance__status_parse_unknown(void **state)
{
    (void)state;
    /* DESIGN.md: "An unknown state name is refused" */
    static const char *const bad[] = { "", "activ", "actives", "active ", " active", "unknown",
                                       "deleted", "running", "pause" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (roost_instance_status_parse(roost_slice_cstr(bad[i])) != -1)
            fail_msg("\"%s\" parsed as a state", bad[i]);
    assert_int_equal(roost_instance_status_parse(ROOST_SLICE_NULL), -1);
    assert_int_equal(roost_instance_status_parse(roost_slice_make("active\0", 7)), -1);
    /* a slice: the bytes after len are not part of the name */
    assert_int_equal(roost_instance_status_parse(roost_slice_make("pausedXYZ", 6)),
                     ROOST_INSTANCE_PAUSED);
}

static void test_instance__servable_mapping(void **state)
{
    (void)state;
    /* instance.h / spec: "Only instances in active or migrating states can
     * accept requests." */
    for (size_t i = 0; i < NSTATES; i++)
        assert_roost_err(roost_instance_servable(states[i].st), states[i].servable);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_instance__defaults_for_new_instance(void **state)
{
    (void)state;
    /* spec "Instance Creation": "Status: Active, GameType: default, Region:
     * default, ResourceQuota: 8GB memory, 100GB storage, 4 CPU cores" */
    int64_t now = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("game-instance-123"), now);
    assert_string_equal(inst.id, "game-instance-123");
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.game_type), "default"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.region), "default"));
    assert_int_equal(inst.quota.memory_bytes, 8LL * 1024 * 1024 * 1024);
    assert_int_equal(inst.quota.storage_bytes, 100LL * 1024 * 1024 * 1024);
    assert_int_equal(inst.quota.cpu_cores, 4);
    assert_int_equal(inst.owner.len, 0);
    /* registry.h: "created_at = last_active = now" */
    assert_int_equal(inst.created_at, now);
    assert_int_equal(inst.last_active, now);
    roost_instance_release(&inst);
}

static void test_instance__defaults_longest_id(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": a 64-byte id is valid and fits the record */
    char id[65];
    memset(id, 'Z', 64);
    id[64] = '\0';
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_make(id, 64), 1);
    assert_string_equal(inst.id, id);
    roost_instance_release(&inst);
}

static void test_instance__init_and_release(void **state)
{
    (void)state;
    /* instance.h: "inst must be released with roost_instance_release()"; release leaves an
     * initialised record */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_int_equal(inst.game_type.len, 0);
    assert_non_null(inst.game_type.ptr);
    assert_int_equal(inst.owner.len, 0);
    roost_instance_release(&inst);
    roost_instance_release(&inst);              /* release of a released record */
    roost_instance_init_defaults(&inst, roost_slice_cstr("x"), 5);
    roost_instance_release(&inst);
}

/* ---- json -------------------------------------------------------------- */

static void fill_custom(struct roost_instance *inst)
{
    roost_instance_init(inst);
    strcpy(inst->id, "game-001");
    inst->status = ROOST_INSTANCE_PAUSED;
    roost_buf_append_str(&inst->game_type, "mmo \"quoted\" \\ caf\xC3\xA9 a/b");
    roost_buf_set(&inst->region, "eu-west", 7);
    inst->quota.memory_bytes = 3LL << 33;          /* beyond 32 bits */
    inst->quota.storage_bytes = 5LL << 40;
    inst->quota.cpu_cores = 17;
    roost_buf_set(&inst->owner, "alice", 5);
    inst->created_at = 1735238400LL;
    inst->last_active = 4102444800LL;              /* past 2038 */
}

static void assert_same_instance(const struct roost_instance *a, const struct roost_instance *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->status, b->status);
    assert_true(roost_slice_eq(roost_buf_slice(&a->game_type), roost_buf_slice(&b->game_type)));
    assert_true(roost_slice_eq(roost_buf_slice(&a->region), roost_buf_slice(&b->region)));
    assert_int_equal(a->quota.memory_bytes, b->quota.memory_bytes);
    assert_int_equal(a->quota.storage_bytes, b->quota.storage_bytes);
    assert_int_equal(a->quota.cpu_cores, b->quota.cpu_cores);
    assert_true(roost_slice_eq(roost_buf_slice(&a->owner), roost_buf_slice(&b->owner)));
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->last_active, b->last_active);
}

static void test_instance__json_golden_form(void **state)
{
    (void)state;
    /* The record is a persistent on-disk format: its field names are fixed
     * once written (instance.h "The JSON form carries version"). */
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("game-instance-123"), 1735238400);
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    assert_string_equal(out.ptr,
        "{\"version\":1,\"id\":\"game-instance-123\",\"status\":\"active\","
        "\"game_type\":\"default\",\"region\":\"default\","
        "\"resource_quota\":{\"memory_bytes\":8589934592,\"storage_bytes\":107374182400,"
        "\"cpu_cores\":4},\"owner\":\"\",\"created_at\":1735238400,\"last_active\":1735238400}");
    roost_buf_release(&out);
    roost_instance_release(&inst);
}

static void test_instance__json_carries_version(void **state)
{
    (void)state;
    /* instance.h: "The JSON form carries version"; states are stored by name */
    struct roost_instance inst;
    fill_custom(&inst);
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    struct json_object *o = json_tokener_parse(out.ptr);
    assert_non_null(o);
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "version", &v));
    assert_int_equal(json_object_get_int(v), ROOST_INSTANCE_RECORD_VERSION);
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), "paused");   /* the state by name */
    json_object_put(o);
    roost_buf_release(&out);
    roost_instance_release(&inst);
}

static void test_instance__json_round_trip_every_field(void **state)
{
    (void)state;
    /* instance.h: to_json then from_json gives every field back, in every state */
    struct roost_instance a, b;
    fill_custom(&a);
    for (size_t i = 0; i < NSTATES; i++) {
        a.status = states[i].st;
        struct roost_buf out = ROOST_BUF_INIT;
        roost_instance_to_json(&a, &out);
        roost_instance_init(&b);
        assert_roost_ok(roost_instance_from_json(roost_buf_slice(&out), &b));
        assert_same_instance(&a, &b);
        roost_instance_release(&b);
        roost_buf_release(&out);
    }
    roost_instance_release(&a);
}

static void test_instance__json_round_trip_binary_strings(void **state)
{
    (void)state;
    /* game_type/region/owner are buffers: embedded NUL and control bytes
     * survive the trip (json-c escapes them). */
    struct roost_instance a, b;
    fill_custom(&a);
    roost_buf_set(&a.owner, "o\0w\n\x01", 5);
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&a, &out);
    roost_instance_init(&b);
    assert_roost_ok(roost_instance_from_json(roost_buf_slice(&out), &b));
    assert_same_instance(&a, &b);
    roost_instance_release(&a);
    roost_instance_release(&b);
    roost_buf_release(&out);
}

static void test_instance__to_json_appends(void **state)
{
    (void)state;
    /* instance.h: "JSON form (appended to out, compact)" */
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("x"), 1);
    struct roost_buf out = ROOST_BUF_INIT;
    roost_buf_append_str(&out, "KEEP");
    roost_instance_to_json(&inst, &out);
    assert_memory_equal(out.ptr, "KEEP{", 5);
    assert_null(strchr(out.ptr, '\n'));
    assert_null(strstr(out.ptr, ": "));          /* compact */
    roost_buf_release(&out);
    roost_instance_release(&inst);
}

/* ---- compat ------------------------------------------------------------ */

static enum roost_err parse_text(const char *text, struct roost_instance *inst)
{
    return roost_instance_from_json(roost_slice_cstr(text), inst);
}

static void test_instance__old_record_missing_fields_get_defaults(void **state)
{
    (void)state;
    /* instance.h: "a reader fills fields missing from an older record with
     * their defaults" */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(parse_text("{\"version\":1,\"id\":\"old-1\"}", &inst));
    assert_string_equal(inst.id, "old-1");
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.game_type), "default"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.region), "default"));
    assert_int_equal(inst.quota.memory_bytes, ROOST_QUOTA_MEMORY_BYTES_DEFAULT);
    assert_int_equal(inst.quota.storage_bytes, ROOST_QUOTA_STORAGE_BYTES_DEFAULT);
    assert_int_equal(inst.quota.cpu_cores, ROOST_QUOTA_CPU_CORES_DEFAULT);
    assert_int_equal(inst.owner.len, 0);
    roost_instance_release(&inst);
}

static void test_instance__each_missing_field_defaults_alone(void **state)
{
    (void)state;
    /* Drop one field at a time from a full record: that field takes its
     * default, every other field keeps its value. */
    static const char *const fields[] = { "status", "game_type", "region", "resource_quota",
                                          "owner" };
    struct roost_instance full, got;
    fill_custom(&full);
    struct roost_buf text = ROOST_BUF_INIT;
    roost_instance_to_json(&full, &text);
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        struct json_object *o = json_tokener_parse(text.ptr);
        assert_non_null(o);
        json_object_object_del(o, fields[f]);
        roost_instance_init(&got);
        assert_roost_ok(parse_text(json_object_to_json_string(o), &got));
        struct roost_instance want;
        fill_custom(&want);
        switch (f) {
        case 0: want.status = ROOST_INSTANCE_ACTIVE; break;
        case 1: roost_buf_set(&want.game_type, "default", 7); break;
        case 2: roost_buf_set(&want.region, "default", 7); break;
        case 3:
            want.quota.memory_bytes = ROOST_QUOTA_MEMORY_BYTES_DEFAULT;
            want.quota.storage_bytes = ROOST_QUOTA_STORAGE_BYTES_DEFAULT;
            want.quota.cpu_cores = ROOST_QUOTA_CPU_CORES_DEFAULT;
            break;
        case 4: roost_buf_reset(&want.owner); break;
        }
        assert_same_instance(&want, &got);
        roost_instance_release(&want);
        roost_instance_release(&got);
        json_object_put(o);
    }
    roost_buf_release(&text);
    roost_instance_release(&full);
}

static void test_instance__unknown_fields_ignored(void **state)
{
    (void)state;
    /* instance.h: a reader "ignores fields it does not know" (records from
     * a later version) */
    struct roost_instance a, b;
    fill_custom(&a);
    struct roost_buf text = ROOST_BUF_INIT;
    roost_instance_to_json(&a, &text);
    struct json_object *o = json_tokener_parse(text.ptr);
    json_object_object_add(o, "future_field", json_object_new_string("x"));
    json_object_object_add(o, "labels", json_tokener_parse("{\"a\":[1,2,{\"b\":null}]}"));
    struct json_object *q;
    assert_true(json_object_object_get_ex(o, "resource_quota", &q));
    json_object_object_add(q, "gpu_count", json_object_new_int(2));
    roost_instance_init(&b);
    assert_roost_ok(parse_text(json_object_to_json_string(o), &b));
    assert_same_instance(&a, &b);
    json_object_put(o);
    roost_buf_release(&text);
    roost_instance_release(&a);
    roost_instance_release(&b);
}

static void test_instance__from_json_replaces_previous_contents(void **state)
{
    (void)state;
    /* instance.h: "its previous contents are replaced" - nothing of the
     * record held before survives into a record that lacks the field. */
    struct roost_instance inst;
    fill_custom(&inst);                      /* owner alice, region eu-west, paused */
    assert_roost_ok(parse_text("{\"version\":1,\"id\":\"other\"}", &inst));
    assert_string_equal(inst.id, "other");
    assert_int_equal(inst.status, ROOST_INSTANCE_ACTIVE);
    assert_int_equal(inst.owner.len, 0);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.region), "default"));
    assert_int_equal(inst.quota.cpu_cores, ROOST_QUOTA_CPU_CORES_DEFAULT);
    roost_instance_release(&inst);
}

/* ---- corrupt ----------------------------------------------------------- */

static void test_instance__invalid_records_are_store_corrupt(void **state)
{
    (void)state;
    /* instance.h: "Errors: STORE_CORRUPT (not an instance record)" */
    static const char *const bad[] = {
        "",
        "not json",
        "{\"version\":1,\"id\":\"x\"",                     /* truncated */
        "{\"version\":1,\"id\":\"x\"} trailing",
        "[]",
        "42",
        "\"instance\"",
        "null",
        "{}",                                              /* no id */
        "{\"version\":1}",
        "{\"version\":1,\"id\":\"\"}",                     /* empty id */
        "{\"version\":1,\"id\":\"a:b\"}",                  /* invalid id */
        "{\"version\":1,\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
        "{\"version\":1,\"id\":42}",                       /* id of wrong type */
        "{\"version\":1,\"id\":\"x\",\"status\":\"zombie\"}",
        "{\"version\":1,\"id\":\"x\",\"status\":\"ACTIVE\"}",
        "{\"version\":1,\"id\":\"x\",\"status\":3}",
        "{\"version\":1,\"id\":\"x\",\"game_type\":7}",
        "{\"version\":1,\"id\":\"x\",\"created_at\":\"yesterday\"}",
        "{\"version\":1,\"id\":\"x\",\"resource_quota\":\"big\"}",
        "{\"version\":1,\"id\":\"x\",\"resource_quota\":{\"cpu_cores\":\"four\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_instance inst;
        roost_instance_init(&inst);
        enum roost_err err = parse_text(bad[i], &inst);
        if (err != ROOST_ERR_STORE_CORRUPT)
            fail_msg("%s for record %s", roost_err_name(err), bad[i]);
        roost_instance_release(&inst);
    }
}

static void test_instance__empty_status_is_corrupt(void **state)
{
    (void)state;
    /* An empty "status" is none of the five names. Reading it as "active"
     * would un-fence a paused or deleting instance whose record was
     * damaged (DESIGN.md "Instance states"; "An unknown state name is
     * refused"). */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(parse_text("{\"version\":1,\"id\":\"x\",\"status\":\"\"}", &inst),
                     ROOST_ERR_STORE_CORRUPT);
    roost_instance_release(&inst);
}

static void test_instance__invalid_record_bytes_are_store_corrupt(void **state)
{
    (void)state;
    /* bytes that are not UTF-8, and a NUL inside the document */
    struct roost_instance inst;
    roost_instance_init(&inst);
    static const char bad_utf8[] = "{\"version\":1,\"id\":\"x\",\"owner\":\"\xFF\"}";
    assert_roost_err(roost_instance_from_json(roost_slice_make(bad_utf8, sizeof(bad_utf8) - 1), &inst),
                     ROOST_ERR_STORE_CORRUPT);
    static const char nul[] = "{\"version\":1,\"id\":\"x\"}\0garbage";
    assert_roost_err(roost_instance_from_json(roost_slice_make(nul, sizeof(nul) - 1), &inst),
                     ROOST_ERR_STORE_CORRUPT);
    roost_instance_release(&inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance__id_length_bounds),
        cmocka_unit_test(test_instance__id_charset_every_byte),
        cmocka_unit_test(test_instance__id_examples),
        cmocka_unit_test(test_instance__status_names),
        cmocka_unit_test(test_instance__status_parse_all_five),
        cmocka_unit_test(test_instance__status_parse_unknown),
        cmocka_unit_test(test_instance__servable_mapping),
        cmocka_unit_test(test_instance__defaults_for_new_instance),
        cmocka_unit_test(test_instance__defaults_longest_id),
        cmocka_unit_test(test_instance__init_and_release),
        cmocka_unit_test(test_instance__json_golden_form),
        cmocka_unit_test(test_instance__json_carries_version),
        cmocka_unit_test(test_instance__json_round_trip_every_field),
        cmocka_unit_test(test_instance__json_round_trip_binary_strings),
        cmocka_unit_test(test_instance__to_json_appends),
        cmocka_unit_test(test_instance__old_record_missing_fields_get_defaults),
        cmocka_unit_test(test_instance__each_missing_field_defaults_alone),
        cmocka_unit_test(test_instance__unknown_fields_ignored),
        cmocka_unit_test(test_instance__from_json_replaces_previous_contents),
        cmocka_unit_test(test_instance__invalid_records_are_store_corrupt),
        cmocka_unit_test(test_instance__empty_status_is_corrupt),
        cmocka_unit_test(test_instance__invalid_record_bytes_are_store_corrupt),
    };
    return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}
