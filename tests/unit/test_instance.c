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
 *   metadata     round trip with metadata and every field set,    issue 5 part 1 "Instance records";
 *                version-1 record without metadata, bad maps      instance.h "a reader fills fields
 *                in a record, to_object for the API               missing from an older record"
 *   patch        each field, all or nothing, unknown field named, instance.h apply_patch; issue 5
 *                INVALID_STATUS, bounds (label 64, owner 256,     "Unknown fields and invalid values
 *                metadata 64/64/1024, quota ranges), wrong        get 400 ... naming the problem"
 *                types, "id" only with allow_id
 *   transitions  all 25 (from, to) by patch, servable per state   DESIGN.md "any of the five states
 *                                                                 from any state"; spec "Instance States"
 *   usage        16-byte little-endian round trip, bad lengths    instance.h usage encoding
 *   activity     due at 60 s not 59, clock backwards, extremes    spec "Activity Tracking"
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
        "\"cpu_cores\":4},\"owner\":\"\",\"metadata\":{},"
        "\"created_at\":1735238400,\"last_active\":1735238400}");
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

/* ---- metadata and record format (issue 5 part 1) ----------------------- */

static struct json_object *jparse(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    if (!o)
        fail_msg("test JSON does not parse: %s", text);
    return o;
}

static void assert_metadata_is(const struct roost_instance *inst, const char *want_json)
{
    struct json_object *want = jparse(want_json);
    struct json_object *got = inst->metadata;
    if (!got && json_object_object_length(want) == 0) {
        json_object_put(want);
        return;
    }
    if (!got || !json_object_equal(got, want))
        fail_msg("metadata %s, want %s", got ? json_object_to_json_string(got) : "(none)", want_json);
    json_object_put(want);
}

static void test_instance__record_round_trip_with_metadata(void **state)
{
    (void)state;
    /* issue 5 part 1: "id, status, game_type, region, resource_quota, owner
     * (may be empty), metadata (string map), created_at, last_active" -
     * every one of them, none at its default, survives to_json/from_json */
    struct roost_instance a, b;
    fill_custom(&a);
    a.status = ROOST_INSTANCE_MIGRATING;
    a.metadata = jparse("{\"team\":\"blue\",\"empty\":\"\",\"caf\\u00e9\":\"\\u20ac 5\","
                        "\"quote\":\"a\\\"b\\\\c\",\"slash\":\"a/b\"}");
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&a, &out);
    roost_instance_init(&b);
    assert_roost_ok(roost_instance_from_json(roost_buf_slice(&out), &b));
    assert_same_instance(&a, &b);
    assert_non_null(b.metadata);
    assert_true(json_object_equal(a.metadata, b.metadata));
    assert_int_equal(json_object_object_length(b.metadata), 5);
    /* and the second trip writes the very same bytes */
    struct roost_buf again = ROOST_BUF_INIT;
    roost_instance_to_json(&b, &again);
    assert_string_equal(out.ptr, again.ptr);
    roost_buf_release(&again);
    roost_buf_release(&out);
    roost_instance_release(&a);
    roost_instance_release(&b);
}

static void test_instance__old_record_without_metadata(void **state)
{
    (void)state;
    /* instance.h: "a reader fills fields missing from an older record with
     * their defaults" - a version-1 record written before metadata existed
     * (the golden form of the previous release, byte for byte) reads with
     * every stored field and an empty map, and is written back with one. */
    static const char old[] =
        "{\"version\":1,\"id\":\"game-instance-123\",\"status\":\"paused\","
        "\"game_type\":\"mmo\",\"region\":\"eu\","
        "\"resource_quota\":{\"memory_bytes\":1024,\"storage_bytes\":2048,"
        "\"cpu_cores\":2},\"owner\":\"alice\",\"created_at\":1735238400,\"last_active\":1735238460}";
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_instance_from_json(roost_slice_make(old, sizeof(old) - 1), &inst));
    assert_string_equal(inst.id, "game-instance-123");
    assert_int_equal(inst.status, ROOST_INSTANCE_PAUSED);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.game_type), "mmo"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.region), "eu"));
    assert_int_equal(inst.quota.memory_bytes, 1024);
    assert_int_equal(inst.quota.storage_bytes, 2048);
    assert_int_equal(inst.quota.cpu_cores, 2);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.owner), "alice"));
    assert_int_equal(inst.created_at, 1735238400);
    assert_int_equal(inst.last_active, 1735238460);
    assert_metadata_is(&inst, "{}");
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    assert_non_null(strstr(out.ptr, "\"owner\":\"alice\",\"metadata\":{},\"created_at\""));
    roost_buf_release(&out);

    /* the oldest form (id only) also has no metadata */
    assert_roost_ok(parse_text("{\"version\":1,\"id\":\"x\"}", &inst));
    assert_metadata_is(&inst, "{}");
    /* and a record that had metadata, read into it, replaces it */
    assert_roost_ok(parse_text("{\"version\":1,\"id\":\"x\",\"metadata\":{\"k\":\"v\"}}", &inst));
    assert_metadata_is(&inst, "{\"k\":\"v\"}");
    assert_roost_ok(parse_text("{\"version\":1,\"id\":\"y\"}", &inst));
    assert_metadata_is(&inst, "{}");
    roost_instance_release(&inst);
}

static void test_instance__record_from_later_version(void **state)
{
    (void)state;
    /* instance.h: "ignores fields it does not know" - also when the
     * version number says a later release wrote it */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(parse_text("{\"version\":7,\"id\":\"x\",\"status\":\"inactive\",\"shiny\":[1],"
                               "\"metadata\":{\"a\":\"b\"}}", &inst));
    assert_int_equal(inst.status, ROOST_INSTANCE_INACTIVE);
    assert_metadata_is(&inst, "{\"a\":\"b\"}");
    roost_instance_release(&inst);
}

static void test_instance__invalid_metadata_in_record_is_corrupt(void **state)
{
    (void)state;
    /* instance.h: "Errors: STORE_CORRUPT (not an instance record)" - a
     * metadata member that is not a map of strings within the bounds */
    static const char *const bad[] = {
        "{\"version\":1,\"id\":\"x\",\"metadata\":[]}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":\"k=v\"}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":null}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":{\"k\":1}}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":{\"k\":{\"nested\":\"v\"}}}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":{\"k\":null}}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":{\"\":\"v\"}}",
        "{\"version\":1,\"id\":\"x\",\"metadata\":{\"k\":\"line\\nbreak\"}}",
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

static void test_instance__to_object_for_the_api(void **state)
{
    (void)state;
    /* instance.h: "The record as a json-c object ... usage (may be NULL) is
     * added as "usage": {"keys", "bytes"}" - and the store's "version" is
     * not part of an API answer */
    struct roost_instance inst;
    fill_custom(&inst);
    inst.metadata = jparse("{\"k\":\"v\"}");
    struct roost_instance_usage u = { 3, 1LL << 40 };
    struct json_object *o = roost_instance_to_object(&inst, &u);
    assert_non_null(o);
    struct json_object *v, *w;
    assert_false(json_object_object_get_ex(o, "version", &v));
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_string_equal(json_object_get_string(v), "game-001");
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), "paused");
    assert_true(json_object_object_get_ex(o, "owner", &v));
    assert_string_equal(json_object_get_string(v), "alice");
    assert_true(json_object_object_get_ex(o, "resource_quota", &v));
    assert_true(json_object_object_get_ex(v, "cpu_cores", &w));
    assert_int_equal(json_object_get_int64(w), 17);
    assert_true(json_object_object_get_ex(o, "metadata", &v));
    assert_true(json_object_equal(v, inst.metadata));
    assert_true(json_object_object_get_ex(o, "created_at", &v));
    assert_int_equal(json_object_get_int64(v), 1735238400LL);
    assert_true(json_object_object_get_ex(o, "last_active", &v));
    assert_int_equal(json_object_get_int64(v), 4102444800LL);
    assert_true(json_object_object_get_ex(o, "usage", &v));
    assert_true(json_object_object_get_ex(v, "keys", &w));
    assert_int_equal(json_object_get_int64(w), 3);
    assert_true(json_object_object_get_ex(v, "bytes", &w));
    assert_int_equal(json_object_get_int64(w), 1LL << 40);
    json_object_put(o);
    /* the record outlives the object handed out, and vice versa */
    o = roost_instance_to_object(&inst, NULL);
    assert_false(json_object_object_get_ex(o, "usage", &v));
    assert_true(json_object_object_get_ex(o, "metadata", &v));
    roost_instance_release(&inst);
    assert_string_equal(json_object_get_string(v), "{ \"k\": \"v\" }");
    json_object_put(o);
}

/* ---- apply_patch ------------------------------------------------------- */

/* Applies the patch text to inst; detail receives the message. */
static enum roost_err patch_text(struct roost_instance *inst, const char *text, int allow_id,
                                 struct roost_buf *detail)
{
    struct json_object *p = jparse(text);
    enum roost_err err = roost_instance_apply_patch(inst, p, allow_id, detail);
    json_object_put(p);
    return err;
}

static enum roost_err patch_obj(struct roost_instance *inst, struct json_object *p, int allow_id,
                                struct roost_buf *detail)
{
    enum roost_err err = roost_instance_apply_patch(inst, p, allow_id, detail);
    json_object_put(p);
    return err;
}

/* The serialized record, to compare "nothing changed" field for field. */
static char *record_text(const struct roost_instance *inst)
{
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(inst, &out);
    return roost_buf_detach(&out, NULL);
}

/* apply must fail with want and leave inst exactly as it was */
static void expect_refused(struct roost_instance *inst, struct json_object *p, int allow_id,
                           enum roost_err want, const char *detail_has)
{
    char *before = record_text(inst);
    char *what = roost_xstrdup(json_object_to_json_string(p));
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = patch_obj(inst, p, allow_id, &detail);
    if (err != want)
        fail_msg("patch %s: %s, want %s", what, roost_err_name(err), roost_err_name(want));
    /* instance.h: "detail ... gets one sentence naming the field" */
    if (detail.len == 0)
        fail_msg("patch %s: no detail", what);
    if (detail_has && !strstr(detail.ptr, detail_has))
        fail_msg("patch %s: detail \"%s\" does not name \"%s\"", what, detail.ptr, detail_has);
    if (strchr(detail.ptr, '\n'))
        fail_msg("patch %s: detail is not one line: \"%s\"", what, detail.ptr);
    char *after = record_text(inst);
    if (strcmp(before, after) != 0)
        fail_msg("patch %s changed the record:\n  %s\n  %s", what, before, after);
    free(before);
    free(after);
    free(what);
    roost_buf_release(&detail);
}

static void expect_refused_text(struct roost_instance *inst, const char *text, enum roost_err want,
                                const char *detail_has)
{
    expect_refused(inst, jparse(text), 0, want, detail_has);
}

static struct json_object *one_field(const char *name, struct json_object *v)
{
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, name, v);
    return p;
}

static struct json_object *string_of(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    struct json_object *o = json_object_new_string_len(s, (int)n);
    free(s);
    return o;
}

static void test_instance__patch_each_field(void **state)
{
    (void)state;
    /* instance.h apply_patch: "status", "game_type", "region",
     * "resource_quota", "owner", "metadata" - each alone changes only itself */
    struct roost_instance inst, want;
    fill_custom(&inst);
    fill_custom(&want);
    struct roost_buf detail = ROOST_BUF_INIT;

    assert_roost_ok(patch_text(&inst, "{\"status\":\"inactive\"}", 0, &detail));
    want.status = ROOST_INSTANCE_INACTIVE;
    assert_same_instance(&inst, &want);

    assert_roost_ok(patch_text(&inst, "{\"game_type\":\"fps\"}", 0, &detail));
    roost_buf_set(&want.game_type, "fps", 3);
    assert_same_instance(&inst, &want);

    assert_roost_ok(patch_text(&inst, "{\"region\":\"\\u6771\\u4eac\"}", 0, &detail));
    roost_buf_set(&want.region, "\xE6\x9D\xB1\xE4\xBA\xAC", 6);
    assert_same_instance(&inst, &want);

    assert_roost_ok(patch_text(&inst, "{\"owner\":\"bob@example.org\"}", 0, &detail));
    roost_buf_set(&want.owner, "bob@example.org", 15);
    assert_same_instance(&inst, &want);
    assert_roost_ok(patch_text(&inst, "{\"owner\":\"\"}", 0, &detail));   /* "" for none */
    roost_buf_reset(&want.owner);
    assert_same_instance(&inst, &want);

    /* "resource_quota" (any of ...; others kept) */
    assert_roost_ok(patch_text(&inst, "{\"resource_quota\":{\"cpu_cores\":64}}", 0, &detail));
    want.quota.cpu_cores = 64;
    assert_same_instance(&inst, &want);
    assert_roost_ok(patch_text(&inst, "{\"resource_quota\":{\"memory_bytes\":0,\"storage_bytes\":1}}", 0,
                               &detail));
    want.quota.memory_bytes = 0;
    want.quota.storage_bytes = 1;
    assert_same_instance(&inst, &want);
    assert_roost_ok(patch_text(&inst, "{\"resource_quota\":{}}", 0, &detail));
    assert_same_instance(&inst, &want);

    /* "metadata" (replaces the whole map) */
    assert_roost_ok(patch_text(&inst, "{\"metadata\":{\"a\":\"1\",\"b\":\"2\"}}", 0, &detail));
    assert_metadata_is(&inst, "{\"a\":\"1\",\"b\":\"2\"}");
    assert_roost_ok(patch_text(&inst, "{\"metadata\":{\"c\":\"3\"}}", 0, &detail));
    assert_metadata_is(&inst, "{\"c\":\"3\"}");
    assert_roost_ok(patch_text(&inst, "{\"metadata\":{}}", 0, &detail));
    assert_metadata_is(&inst, "{}");
    assert_same_instance(&inst, &want);

    /* an empty patch changes nothing; created_at/last_active are not editable */
    assert_roost_ok(patch_text(&inst, "{}", 0, NULL));
    assert_same_instance(&inst, &want);

    /* several fields at once */
    assert_roost_ok(patch_text(&inst, "{\"status\":\"active\",\"owner\":\"carol\",\"game_type\":\"rts\","
                                      "\"region\":\"us\",\"metadata\":{\"x\":\"y\"},"
                                      "\"resource_quota\":{\"memory_bytes\":5}}", 0, NULL));
    want.status = ROOST_INSTANCE_ACTIVE;
    roost_buf_set(&want.owner, "carol", 5);
    roost_buf_set(&want.game_type, "rts", 3);
    roost_buf_set(&want.region, "us", 2);
    want.quota.memory_bytes = 5;
    assert_same_instance(&inst, &want);
    assert_metadata_is(&inst, "{\"x\":\"y\"}");

    /* and the patched record round-trips through the store form */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    struct roost_instance back;
    roost_instance_init(&back);
    assert_roost_ok(roost_instance_from_json(roost_buf_slice(&out), &back));
    assert_same_instance(&inst, &back);
    assert_metadata_is(&back, "{\"x\":\"y\"}");
    roost_instance_release(&back);
    roost_buf_release(&out);
    roost_buf_release(&detail);
    roost_instance_release(&inst);
    roost_instance_release(&want);
}

static void test_instance__patch_metadata_outlives_patch(void **state)
{
    (void)state;
    /* instance.h "metadata ... owned": the record keeps its map after the
     * caller drops the patch (valgrind would see a use after free) */
    struct roost_instance inst;
    fill_custom(&inst);
    struct json_object *p = jparse("{\"metadata\":{\"k\":\"v\"}}");
    assert_roost_ok(roost_instance_apply_patch(&inst, p, 0, NULL));
    json_object_put(p);
    assert_metadata_is(&inst, "{\"k\":\"v\"}");
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    assert_non_null(strstr(out.ptr, "\"metadata\":{\"k\":\"v\"}"));
    roost_buf_release(&out);
    roost_instance_release(&inst);
}

static void test_instance__patch_all_or_nothing(void **state)
{
    (void)state;
    /* instance.h: "Nothing is changed unless the whole patch is valid." -
     * valid fields before the bad one (json-c keeps member order) are not
     * applied either */
    struct roost_instance inst;
    fill_custom(&inst);
    inst.metadata = jparse("{\"keep\":\"me\"}");
    expect_refused_text(&inst, "{\"status\":\"active\",\"owner\":\"mallory\",\"game_type\":\"x\","
                               "\"region\":\"y\",\"metadata\":{},\"resource_quota\":{\"cpu_cores\":1},"
                               "\"colour\":\"red\"}", ROOST_ERR_INVALID_REQUEST, "colour");
    expect_refused_text(&inst, "{\"owner\":\"mallory\",\"status\":\"asleep\"}", ROOST_ERR_INVALID_STATUS,
                        "asleep");
    expect_refused_text(&inst, "{\"status\":\"active\",\"resource_quota\":{\"memory_bytes\":1,"
                               "\"cpu_cores\":-1}}", ROOST_ERR_INVALID_REQUEST, "cpu_cores");
    expect_refused_text(&inst, "{\"metadata\":{\"a\":\"b\"},\"region\":\"\"}", ROOST_ERR_INVALID_REQUEST,
                        "region");
    expect_refused_text(&inst, "{\"resource_quota\":{\"memory_bytes\":7},\"metadata\":{\"a\":1}}",
                        ROOST_ERR_INVALID_REQUEST, "metadata");
    assert_int_equal(inst.status, ROOST_INSTANCE_PAUSED);
    assert_int_equal(inst.quota.memory_bytes, 3LL << 33);
    assert_metadata_is(&inst, "{\"keep\":\"me\"}");
    roost_instance_release(&inst);
}

static void test_instance__patch_unknown_field_named(void **state)
{
    (void)state;
    /* issue 5: "Unknown fields and invalid values get 400 with a JSON error
     * naming the problem" */
    struct roost_instance inst;
    fill_custom(&inst);
    static const char *const unknown[] = { "colour", "Status", "created_at", "last_active", "version",
                                           "usage", "quota", "" };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct json_object *p = one_field(unknown[i], json_object_new_string("x"));
        expect_refused(&inst, p, 0, ROOST_ERR_INVALID_REQUEST, unknown[i]);
    }
    /* inside resource_quota too */
    expect_refused_text(&inst, "{\"resource_quota\":{\"gpu_count\":1}}", ROOST_ERR_INVALID_REQUEST,
                        "gpu_count");
    expect_refused_text(&inst, "{\"resource_quota\":{\"memory_bytes\":1,\"disk\":2}}",
                        ROOST_ERR_INVALID_REQUEST, "disk");
    roost_instance_release(&inst);
}

static void test_instance__patch_bad_status(void **state)
{
    (void)state;
    /* DESIGN.md: "An unknown state name is refused"; instance.h:
     * "INVALID_STATUS (unknown state name)" */
    struct roost_instance inst;
    fill_custom(&inst);
    static const char *const bad[] = { "\"\"", "\"deleted\"", "\"ACTIVE\"", "\"active \"", "\"pause\"",
                                       "\"running\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"status\":%s}", bad[i]);
        expect_refused_text(&inst, text, ROOST_ERR_INVALID_STATUS, "status");
    }
    /* a status that is not a string at all */
    expect_refused_text(&inst, "{\"status\":1}", ROOST_ERR_INVALID_STATUS, "status");
    expect_refused_text(&inst, "{\"status\":null}", ROOST_ERR_INVALID_STATUS, "status");
    expect_refused_text(&inst, "{\"status\":[\"active\"]}", ROOST_ERR_INVALID_STATUS, "status");
    /* a NUL inside the name is not the name */
    expect_refused(&inst, one_field("status", json_object_new_string_len("active\0x", 8)), 0,
                   ROOST_ERR_INVALID_STATUS, "status");
    roost_instance_release(&inst);
}

static void test_instance__patch_text_bounds(void **state)
{
    (void)state;
    /* instance.h: label (game_type, region) 1-64 bytes, owner 0-256 bytes,
     * without control characters, valid UTF-8 */
    static const char *const labels[] = { "game_type", "region" };
    struct roost_instance inst;
    fill_custom(&inst);
    for (size_t i = 0; i < 2; i++) {
        assert_roost_ok(patch_obj(&inst, one_field(labels[i], string_of('L', ROOST_INSTANCE_LABEL_MAX)), 0,
                                  NULL));
        assert_int_equal(roost_buf_slice(i ? &inst.region : &inst.game_type).len, 64);
        assert_roost_ok(patch_obj(&inst, one_field(labels[i], string_of('l', 1)), 0, NULL));
        expect_refused(&inst, one_field(labels[i], string_of('L', ROOST_INSTANCE_LABEL_MAX + 1)), 0,
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_string("")), 0,
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_string("a\tb")), 0,
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_string_len("a\0b", 3)), 0,
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_string("\xC3\x28")), 0,
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_string("\xC2\x85")), 0,  /* C1 NEL */
                       ROOST_ERR_INVALID_REQUEST, labels[i]);
        expect_refused(&inst, one_field(labels[i], json_object_new_int(5)), 0, ROOST_ERR_INVALID_REQUEST,
                       labels[i]);
        expect_refused(&inst, one_field(labels[i], NULL), 0, ROOST_ERR_INVALID_REQUEST, labels[i]);
    }
    /* the bound is in bytes: 32 two-byte characters fit, 33 do not */
    struct roost_buf s = ROOST_BUF_INIT;
    for (int i = 0; i < 32; i++)
        roost_buf_append_str(&s, "\xC3\xA9");
    assert_roost_ok(patch_obj(&inst, one_field("region", json_object_new_string(s.ptr)), 0, NULL));
    roost_buf_append_str(&s, "\xC3\xA9");
    expect_refused(&inst, one_field("region", json_object_new_string(s.ptr)), 0, ROOST_ERR_INVALID_REQUEST,
                   "region");
    roost_buf_release(&s);

    assert_roost_ok(patch_obj(&inst, one_field("owner", string_of('o', ROOST_INSTANCE_OWNER_MAX)), 0, NULL));
    assert_int_equal(inst.owner.len, 256);
    expect_refused(&inst, one_field("owner", string_of('o', ROOST_INSTANCE_OWNER_MAX + 1)), 0,
                   ROOST_ERR_INVALID_REQUEST, "owner");
    expect_refused(&inst, one_field("owner", json_object_new_string("a\nb")), 0, ROOST_ERR_INVALID_REQUEST,
                   "owner");
    expect_refused(&inst, one_field("owner", NULL), 0, ROOST_ERR_INVALID_REQUEST, "owner");
    expect_refused(&inst, one_field("owner", json_object_new_boolean(0)), 0, ROOST_ERR_INVALID_REQUEST,
                   "owner");
    expect_refused(&inst, one_field("owner", json_object_new_string("\xFF")), 0, ROOST_ERR_INVALID_REQUEST,
                   "owner");
    assert_int_equal(ROOST_INSTANCE_LABEL_MAX, 64);
    assert_int_equal(ROOST_INSTANCE_OWNER_MAX, 256);
    roost_instance_release(&inst);
}

static struct json_object *metadata_of(size_t entries, size_t key_len, size_t value_len)
{
    struct json_object *md = json_object_new_object();
    for (size_t i = 0; i < entries; i++) {
        char key[128];
        assert_true(key_len < sizeof(key) && key_len >= 3);
        memset(key, 'k', key_len);
        key[0] = (char)('A' + i / 26 % 26);
        key[1] = (char)('a' + i % 26);
        key[2] = (char)('0' + i / 676 % 10);
        key[key_len] = '\0';
        json_object_object_add(md, key, string_of('v', value_len));
    }
    return md;
}

static void test_instance__patch_metadata_bounds(void **state)
{
    (void)state;
    /* instance.h: metadata at most 64 entries, names 1-64, values 0-1024
     * bytes, all strings */
    struct roost_instance inst;
    fill_custom(&inst);
    assert_roost_ok(patch_obj(&inst, one_field("metadata", metadata_of(ROOST_INSTANCE_METADATA_ENTRIES,
                                                                       ROOST_INSTANCE_METADATA_KEY_MAX,
                                                                       ROOST_INSTANCE_METADATA_VALUE_MAX)),
                              0, NULL));
    assert_int_equal(json_object_object_length(inst.metadata), 64);
    /* the largest record still round-trips */
    struct roost_buf out = ROOST_BUF_INIT;
    roost_instance_to_json(&inst, &out);
    struct roost_instance back;
    roost_instance_init(&back);
    assert_roost_ok(roost_instance_from_json(roost_buf_slice(&out), &back));
    assert_true(json_object_equal(inst.metadata, back.metadata));
    assert_true(out.len < ROOST_ADMIN_BODY_MAX);    /* limits.h: "a record with full metadata ... fits" */
    roost_instance_release(&back);
    roost_buf_release(&out);

    expect_refused(&inst, one_field("metadata", metadata_of(65, 8, 1)), 0, ROOST_ERR_INVALID_REQUEST,
                   "metadata");
    expect_refused(&inst, one_field("metadata", metadata_of(1, 65, 1)), 0, ROOST_ERR_INVALID_REQUEST,
                   "metadata");
    expect_refused(&inst, one_field("metadata", metadata_of(1, 8, 1025)), 0, ROOST_ERR_INVALID_REQUEST,
                   "metadata");
    assert_roost_ok(patch_obj(&inst, one_field("metadata", metadata_of(1, 8, 0)), 0, NULL));  /* "" value */
    static const char *const bad[] = {
        "{\"metadata\":[]}", "{\"metadata\":\"a=b\"}", "{\"metadata\":null}", "{\"metadata\":1}",
        "{\"metadata\":{\"a\":1}}", "{\"metadata\":{\"a\":true}}", "{\"metadata\":{\"a\":null}}",
        "{\"metadata\":{\"a\":[\"b\"]}}", "{\"metadata\":{\"a\":{\"b\":\"c\"}}}",
        "{\"metadata\":{\"\":\"b\"}}", "{\"metadata\":{\"a\\nb\":\"c\"}}",
        "{\"metadata\":{\"a\":\"b\\u0007\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused_text(&inst, bad[i], ROOST_ERR_INVALID_REQUEST, "metadata");
    struct json_object *md = json_object_new_object();
    json_object_object_add(md, "bin", json_object_new_string("\xFF\xFE"));
    expect_refused(&inst, one_field("metadata", md), 0, ROOST_ERR_INVALID_REQUEST, "metadata");
    md = json_object_new_object();
    json_object_object_add(md, "\xC3", json_object_new_string("v"));
    expect_refused(&inst, one_field("metadata", md), 0, ROOST_ERR_INVALID_REQUEST, "metadata");
    roost_instance_release(&inst);
}

static void test_instance__patch_quota_bounds(void **state)
{
    (void)state;
    /* instance.c: memory and storage 0..2^60 bytes, cpu_cores 0..1000000,
     * whole numbers only */
    struct roost_instance inst;
    fill_custom(&inst);
    assert_roost_ok(patch_text(&inst, "{\"resource_quota\":{\"memory_bytes\":1152921504606846976,"
                                      "\"storage_bytes\":1152921504606846976,\"cpu_cores\":1000000}}", 0, NULL));
    assert_int_equal(inst.quota.memory_bytes, INT64_C(1) << 60);
    assert_int_equal(inst.quota.storage_bytes, INT64_C(1) << 60);
    assert_int_equal(inst.quota.cpu_cores, 1000000);
    assert_roost_ok(patch_text(&inst, "{\"resource_quota\":{\"memory_bytes\":0,\"storage_bytes\":0,"
                                      "\"cpu_cores\":0}}", 0, NULL));
    assert_int_equal(inst.quota.cpu_cores, 0);
    static const char *const fields[] = { "memory_bytes", "storage_bytes", "cpu_cores" };
    static const char *const bad_for_all[] = { "-1", "1.5", "1e3", "\"5\"", "true", "null", "[]", "{}",
                                               "-9223372036854775808", "18446744073709551615" };
    for (size_t f = 0; f < 3; f++) {
        for (size_t b = 0; b < sizeof(bad_for_all) / sizeof(bad_for_all[0]); b++) {
            char text[160];
            snprintf(text, sizeof(text), "{\"resource_quota\":{\"%s\":%s}}", fields[f], bad_for_all[b]);
            expect_refused_text(&inst, text, ROOST_ERR_INVALID_REQUEST, fields[f]);
        }
    }
    expect_refused_text(&inst, "{\"resource_quota\":{\"memory_bytes\":1152921504606846977}}",
                        ROOST_ERR_INVALID_REQUEST, "memory_bytes");
    expect_refused_text(&inst, "{\"resource_quota\":{\"storage_bytes\":9223372036854775807}}",
                        ROOST_ERR_INVALID_REQUEST, "storage_bytes");
    expect_refused_text(&inst, "{\"resource_quota\":{\"cpu_cores\":1000001}}", ROOST_ERR_INVALID_REQUEST,
                        "cpu_cores");
    /* resource_quota itself must be an object */
    static const char *const not_obj[] = { "{\"resource_quota\":8}", "{\"resource_quota\":null}",
                                           "{\"resource_quota\":[1,2,3]}", "{\"resource_quota\":\"8GB\"}" };
    for (size_t i = 0; i < 4; i++)
        expect_refused_text(&inst, not_obj[i], ROOST_ERR_INVALID_REQUEST, "resource_quota");
    roost_instance_release(&inst);
}

static void test_instance__patch_must_be_object(void **state)
{
    (void)state;
    /* instance.h: "INVALID_REQUEST (not an object, ...)" */
    struct roost_instance inst;
    fill_custom(&inst);
    char *before = record_text(&inst);
    struct roost_buf detail = ROOST_BUF_INIT;
    static const char *const bad[] = { "[]", "[{\"status\":\"active\"}]", "\"active\"", "1", "true" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(&inst, jparse(bad[i]), 0, ROOST_ERR_INVALID_REQUEST, NULL);
    /* json-c's null is a NULL object */
    assert_roost_err(roost_instance_apply_patch(&inst, NULL, 0, &detail), ROOST_ERR_INVALID_REQUEST);
    assert_true(detail.len > 0);
    assert_roost_err(roost_instance_apply_patch(&inst, NULL, 1, NULL), ROOST_ERR_INVALID_REQUEST);
    char *after = record_text(&inst);
    assert_string_equal(before, after);
    free(before);
    free(after);
    roost_buf_release(&detail);
    roost_instance_release(&inst);
}

static void test_instance__patch_id_only_with_allow_id(void **state)
{
    (void)state;
    /* instance.h: "With allow_id, an "id" member is accepted (and must equal
     * inst->id ...)"; without it, "id" is an unknown field */
    struct roost_instance inst;
    fill_custom(&inst);                                     /* id game-001 */
    expect_refused_text(&inst, "{\"id\":\"game-001\"}", ROOST_ERR_INVALID_REQUEST, "id");
    expect_refused_text(&inst, "{\"id\":\"game-001\",\"owner\":\"x\"}", ROOST_ERR_INVALID_REQUEST, "id");

    struct roost_buf detail = ROOST_BUF_INIT;
    assert_roost_ok(patch_text(&inst, "{\"id\":\"game-001\",\"owner\":\"zed\"}", 1, &detail));
    assert_string_equal(inst.id, "game-001");
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.owner), "zed"));
    roost_buf_release(&detail);

    static const char *const bad[] = { "{\"id\":\"game-002\",\"owner\":\"q\"}", "{\"id\":\"GAME-001\"}",
                                       "{\"id\":\"game-00\"}", "{\"id\":\"game-0011\"}", "{\"id\":\"\"}",
                                       "{\"id\":1}", "{\"id\":null}", "{\"owner\":\"q\",\"id\":[\"game-001\"]}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(&inst, jparse(bad[i]), 1, ROOST_ERR_INVALID_REQUEST, "id");
    /* "must equal inst->id": all of it - a NUL does not end the comparison */
    expect_refused(&inst, one_field("id", json_object_new_string_len("game-001\0x", 10)), 1,
                   ROOST_ERR_INVALID_REQUEST, "id");
    /* the id is never changed by a patch */
    assert_string_equal(inst.id, "game-001");
    roost_instance_release(&inst);
}

/* ---- the state machine -------------------------------------------------- */

static void test_instance__every_transition_by_patch(void **state)
{
    (void)state;
    /* DESIGN.md "API rules": "an operator may set any of the five states
     * from any state" - all 25 (from, to) pairs, and each resulting state
     * is served or refused per spec "Instance States" */
    for (size_t from = 0; from < NSTATES; from++) {
        for (size_t to = 0; to < NSTATES; to++) {
            struct roost_instance inst;
            fill_custom(&inst);
            inst.status = states[from].st;
            char text[64];
            snprintf(text, sizeof(text), "{\"status\":\"%s\"}", states[to].name);
            struct roost_buf detail = ROOST_BUF_INIT;
            enum roost_err err = patch_text(&inst, text, 0, &detail);
            if (err)
                fail_msg("%s -> %s: %s (%s)", states[from].name, states[to].name, roost_err_name(err),
                         detail.ptr);
            assert_int_equal(inst.status, states[to].st);
            assert_roost_err(roost_instance_servable(inst.status), states[to].servable);
            roost_buf_release(&detail);
            roost_instance_release(&inst);
        }
    }
}

/* ---- usage figures ------------------------------------------------------ */

static void test_instance__usage_round_trip(void **state)
{
    (void)state;
    /* instance.h: "Fixed 16-byte little-endian encoding: keys, bytes." */
    static const struct roost_instance_usage cases[] = {
        { 0, 0 }, { 1, 9 }, { 255, 256 }, { 1000, 1LL << 33 }, { 0x0102030405060708LL, 0x1112131415161718LL },
        { INT64_MAX, INT64_MAX },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
        roost_instance_usage_encode(&cases[i], enc);
        struct roost_instance_usage back = { -5, -5 };
        assert_int_equal(roost_instance_usage_decode(roost_slice_make((const char *)enc, sizeof(enc)), &back), 0);
        assert_int_equal(back.keys, cases[i].keys);
        assert_int_equal(back.bytes, cases[i].bytes);
    }
    unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
    struct roost_instance_usage u = { 0x0102030405060708LL, 0x1112131415161718LL };
    roost_instance_usage_encode(&u, enc);
    static const unsigned char want[16] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                                            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11 };
    assert_memory_equal(enc, want, 16);
    assert_int_equal(ROOST_INSTANCE_USAGE_SIZE, 16);
}

static void test_instance__usage_decode_bad(void **state)
{
    (void)state;
    /* instance.h: "-1 when raw is not a usage record" - any length but 16,
     * and figures that do not fit int64 (a negative count) */
    char raw[40];
    memset(raw, 0, sizeof(raw));
    struct roost_instance_usage u = { 7, 7 };
    static const size_t lens[] = { 0, 1, 8, 15, 17, 32, 40 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        if (roost_instance_usage_decode(roost_slice_make(raw, lens[i]), &u) != -1)
            fail_msg("a %zu-byte usage record decoded", lens[i]);
    }
    assert_int_equal(roost_instance_usage_decode(ROOST_SLICE_NULL, &u), -1);
    raw[7] = (char)0x80;                        /* keys' top bit */
    assert_int_equal(roost_instance_usage_decode(roost_slice_make(raw, 16), &u), -1);
    raw[7] = 0;
    raw[15] = (char)0xFF;                       /* bytes' top byte */
    assert_int_equal(roost_instance_usage_decode(roost_slice_make(raw, 16), &u), -1);
    /* a refused record leaves u alone */
    assert_int_equal(u.keys, 7);
    assert_int_equal(u.bytes, 7);
}

/* ---- activity ----------------------------------------------------------- */

static void test_instance__activity_due(void **state)
{
    (void)state;
    /* spec "Activity Tracking": "throttled to once per minute"; instance.h:
     * "A clock that went backwards also counts, so a bad future stamp heals" */
    const int64_t t = 1735238400;
    assert_int_equal(ROOST_ACTIVITY_INTERVAL, 60);
    assert_int_equal(roost_instance_activity_due(t, t), 0);
    assert_int_equal(roost_instance_activity_due(t, t + 1), 0);
    assert_int_equal(roost_instance_activity_due(t, t + 59), 0);
    assert_int_equal(roost_instance_activity_due(t, t + 60), 1);
    assert_int_equal(roost_instance_activity_due(t, t + 61), 1);
    assert_int_equal(roost_instance_activity_due(t, t + 86400 * 365), 1);
    /* the clock went backwards (or the stamp is in the future) */
    assert_int_equal(roost_instance_activity_due(t, t - 3600), 1);
    assert_int_equal(roost_instance_activity_due(t, t - 86400 * 365), 1);
    assert_int_equal(roost_instance_activity_due(0, 59), 0);
    assert_int_equal(roost_instance_activity_due(0, 60), 1);
}

static void test_instance__activity_due_extreme_stamps(void **state)
{
    (void)state;
    /* from_json accepts any int64 as last_active (a record from roostctl
     * load, or a damaged one): the oldest possible stamp is due, the
     * newest is "in the future" and due too - without signed overflow in
     * now - last_active (UB; with wrapping it says "not due" forever) */
    const int64_t t = 1735238400;
    assert_int_equal(roost_instance_activity_due(INT64_MIN, t), 1);
    assert_int_equal(roost_instance_activity_due(INT64_MIN + 1, t), 1);
    assert_int_equal(roost_instance_activity_due(-9000000000000000000LL, t), 1);
    assert_int_equal(roost_instance_activity_due(INT64_MAX, t), 1);
    assert_int_equal(roost_instance_activity_due(t, INT64_MAX), 1);
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
        cmocka_unit_test(test_instance__record_round_trip_with_metadata),
        cmocka_unit_test(test_instance__old_record_without_metadata),
        cmocka_unit_test(test_instance__record_from_later_version),
        cmocka_unit_test(test_instance__invalid_metadata_in_record_is_corrupt),
        cmocka_unit_test(test_instance__to_object_for_the_api),
        cmocka_unit_test(test_instance__patch_each_field),
        cmocka_unit_test(test_instance__patch_metadata_outlives_patch),
        cmocka_unit_test(test_instance__patch_all_or_nothing),
        cmocka_unit_test(test_instance__patch_unknown_field_named),
        cmocka_unit_test(test_instance__patch_bad_status),
        cmocka_unit_test(test_instance__patch_text_bounds),
        cmocka_unit_test(test_instance__patch_metadata_bounds),
        cmocka_unit_test(test_instance__patch_quota_bounds),
        cmocka_unit_test(test_instance__patch_must_be_object),
        cmocka_unit_test(test_instance__patch_id_only_with_allow_id),
        cmocka_unit_test(test_instance__every_transition_by_patch),
        cmocka_unit_test(test_instance__usage_round_trip),
        cmocka_unit_test(test_instance__usage_decode_bad),
        cmocka_unit_test(test_instance__activity_due),
        cmocka_unit_test(test_instance__activity_due_extreme_stamps),
    };
    return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}
