/*
 * test_admin.c - lib/admin.h: the instance operations that combine the
 * registry (META) and the values (DATA), on a real store in a temporary
 * directory (roost_test_store_setup; removed by each test's teardown).
 *
 * Test organization
 *   group        what it checks                                    rule
 *   delete       record and every key gone, count of keys, usage   issue 5 part 3 "Delete moves the
 *                record gone, other instances (same partition)     instance to deleting ..., removes
 *                untouched, repeat -> INSTANCE_NOT_FOUND           every key of its namespace, then
 *                                                                  removes the record; it is idempotent"
 *   interrupted  a delete stopped after the fence, or halfway      issue 5: "if interrupted (worker
 *                through the keys, or before removing the record,  killed), finishes on the next
 *                is finished by the next call                      attempt"; admin.h
 *   show         record fields + usage, no store version,          admin.h roost_admin_show
 *                INSTANCE_NOT_FOUND
 *   stats        instances per status (all five names, zeros       admin.h roost_admin_stats; store.h
 *                too), 17 partitions (META + 16 DATA) by name,     part_stats; limits.h STORE_SHARDS
 *                unreadable records not counted
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

#include "admin.h"
#include "buf.h"
#include "error.h"
#include "hash.h"
#include "instance.h"
#include "keyspace.h"
#include "kv.h"
#include "limits.h"
#include "registry.h"
#include "store.h"
#include "testlib.h"

static int setup(void **state)
{
    roost_test_clock_set(1735238400);
    return roost_test_store_setup(state, "admin");
}

static int teardown(void **state)
{
    return roost_test_store_teardown(state);
}

#define S(lit) roost_slice_make((lit), sizeof(lit) - 1)

static struct roost_store *store(void **state)
{
    return roost_test_store(state);
}

/* An instance record with the given state, as the registry writes it. */
static void make_instance(void **state, const char *id, enum roost_instance_status status)
{
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr(id), roost_test_clock_now());
    inst.status = status;
    assert_roost_ok(roost_registry_put(store(state), &inst));
    roost_instance_release(&inst);
}

/* n keys "k0000".. with values "value-0".. */
static void put_keys(void **state, const char *id, int from, int to)
{
    for (int i = from; i < to; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "k%04d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        assert_roost_ok(roost_kv_put(store(state), roost_slice_cstr(id), roost_slice_cstr(key), S(""),
                                     roost_slice_cstr(val), ROOST_VALUE_MAX_DEFAULT, NULL));
    }
}

static int key_exists(void **state, const char *id, int i)
{
    char key[32];
    snprintf(key, sizeof(key), "k%04d", i);
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    enum roost_err err = roost_kv_get(store(state), roost_slice_cstr(id), roost_slice_cstr(key), &v);
    roost_kv_value_release(&v);
    if (err && err != ROOST_ERR_KEY_NOT_FOUND)
        fail_msg("get %s/%s: %s", id, key, roost_err_name(err));
    return err == ROOST_OK;
}

static struct roost_instance_usage usage_of(void **state, const char *id)
{
    struct roost_instance_usage u = { -1, -1 };
    assert_roost_ok(roost_kv_usage(store(state), roost_slice_cstr(id), &u));
    return u;
}

static enum roost_err status_of(void **state, const char *id, enum roost_instance_status *out)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    enum roost_err err = roost_registry_get(store(state), roost_slice_cstr(id), &inst);
    if (!err)
        *out = inst.status;
    roost_instance_release(&inst);
    return err;
}

/* Every value the store holds for id (kv scan). */
struct count_arg {
    const char *id;
    size_t n;
};

static enum roost_err count_values(void *arg, struct roost_slice id, struct roost_slice key,
                                   struct roost_slice ct, struct roost_slice data)
{
    (void)key; (void)ct; (void)data;
    struct count_arg *c = arg;
    if (roost_slice_eq_cstr(id, c->id))
        c->n++;
    return ROOST_OK;
}

static size_t values_of(void **state, const char *id)
{
    struct count_arg c = { id, 0 };
    assert_roost_ok(roost_kv_scan(store(state), count_values, &c));
    return c.n;
}

/* The raw usage record of id: KEY_NOT_FOUND when there is none. */
static enum roost_err raw_usage(void **state, const char *id)
{
    struct roost_buf ukey = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, roost_slice_cstr(id));
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(store(state), ROOST_STORE_DATA, roost_slice_cstr(id), &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&ukey), &raw);
    roost_store_end(&sc);
    roost_buf_release(&ukey);
    roost_buf_release(&raw);
    return err;
}

/* An id other than `of` in the same DATA partition (store_gdbm.c: FNV-1a
 * 64 of the id % ROOST_STORE_SHARDS). */
static void same_partition_id(const char *of, char *out, size_t cap)
{
    uint64_t want = roost_fnv1a64(of, strlen(of)) % ROOST_STORE_SHARDS;
    for (int i = 0; i < 10000; i++) {
        snprintf(out, cap, "bystander-%d", i);
        if (roost_fnv1a64(out, strlen(out)) % ROOST_STORE_SHARDS == want)
            return;
    }
    fail_msg("no id shares a partition with %s", of);
}

/* ---- delete -------------------------------------------------------------- */

static void test_admin__delete_removes_record_and_keys(void **state)
{
    /* issue 5 part 3: "Delete ... removes every key of its namespace, then
     * removes the record"; admin.h: "removed ... counts the keys removed by
     * this call" */
    make_instance(state, "doomed", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "doomed", 0, 600);
    assert_int_equal(usage_of(state, "doomed").keys, 600);
    size_t removed = 0;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("doomed"), &removed));
    assert_int_equal(removed, 600);
    enum roost_instance_status st;
    assert_roost_err(status_of(state, "doomed", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(values_of(state, "doomed"), 0);
    assert_false(key_exists(state, "doomed", 0));
    assert_false(key_exists(state, "doomed", 599));
    struct roost_instance_usage u = usage_of(state, "doomed");
    assert_int_equal(u.keys, 0);
    assert_int_equal(u.bytes, 0);
    assert_roost_err(raw_usage(state, "doomed"), ROOST_ERR_KEY_NOT_FOUND);
}

static void test_admin__delete_again_not_found(void **state)
{
    /* admin.h: "Errors: INSTANCE_NOT_FOUND (no record)" - a finished delete
     * repeated, and an instance that never was; neither creates a record */
    make_instance(state, "once", ROOST_INSTANCE_PAUSED);
    put_keys(state, "once", 0, 3);
    assert_roost_ok(roost_admin_delete_instance(store(state), S("once"), NULL));
    size_t removed = 99;
    assert_roost_err(roost_admin_delete_instance(store(state), S("once"), &removed),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(removed, 0);
    removed = 99;
    assert_roost_err(roost_admin_delete_instance(store(state), S("never"), &removed),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(removed, 0);
    enum roost_instance_status st;
    assert_roost_err(status_of(state, "once", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_roost_err(status_of(state, "never", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
}

static void test_admin__delete_without_keys(void **state)
{
    make_instance(state, "empty", ROOST_INSTANCE_ACTIVE);
    size_t removed = 99;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("empty"), &removed));
    assert_int_equal(removed, 0);
    enum roost_instance_status st;
    assert_roost_err(status_of(state, "empty", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
}

static void test_admin__delete_from_every_state(void **state)
{
    /* DESIGN.md: an operator may set any state; delete works from each */
    for (int s = 0; s <= ROOST_INSTANCE_DELETING; s++) {
        char id[16];
        snprintf(id, sizeof(id), "st-%d", s);
        make_instance(state, id, (enum roost_instance_status)s);
        put_keys(state, id, 0, 5);
        size_t removed = 0;
        assert_roost_ok(roost_admin_delete_instance(store(state), roost_slice_cstr(id), &removed));
        assert_int_equal(removed, 5);
        enum roost_instance_status st;
        assert_roost_err(status_of(state, id, &st), ROOST_ERR_INSTANCE_NOT_FOUND);
    }
}

static void test_admin__delete_leaves_other_instances(void **state)
{
    /* spec "Data Isolation"; issue 5: "delete of an instance ... (the other
     * instance loses nothing)" - one in the same DATA partition, and ids
     * that extend or shorten the deleted one */
    char bystander[32];
    same_partition_id("target", bystander, sizeof(bystander));
    const char *others[] = { bystander, "target2", "targe", "other" };
    make_instance(state, "target", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "target", 0, 300);
    struct roost_instance_usage before[4];
    for (int i = 0; i < 4; i++) {
        make_instance(state, others[i], ROOST_INSTANCE_ACTIVE);
        put_keys(state, others[i], 0, 20 + i);
        before[i] = usage_of(state, others[i]);
    }
    size_t removed = 0;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("target"), &removed));
    assert_int_equal(removed, 300);
    for (int i = 0; i < 4; i++) {
        enum roost_instance_status st;
        assert_roost_ok(status_of(state, others[i], &st));
        assert_int_equal(st, ROOST_INSTANCE_ACTIVE);
        assert_int_equal(values_of(state, others[i]), (size_t)(20 + i));
        struct roost_instance_usage u = usage_of(state, others[i]);
        assert_int_equal(u.keys, before[i].keys);
        assert_int_equal(u.bytes, before[i].bytes);
        for (int k = 0; k < 20 + i; k++)
            assert_true(key_exists(state, others[i], k));
    }
}

/* ---- interrupted ----------------------------------------------------------- */

static void test_admin__interrupted_after_fence(void **state)
{
    /* A worker killed right after step 1 ("sets it deleting first"): the
     * record says deleting, every key is still there. Requests are refused
     * meanwhile (410), and the next delete finishes the job. */
    make_instance(state, "cut1", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "cut1", 0, 400);
    assert_roost_ok(roost_registry_set_status(store(state), S("cut1"), ROOST_INSTANCE_DELETING));
    enum roost_instance_status st;
    assert_roost_ok(status_of(state, "cut1", &st));
    assert_roost_err(roost_instance_servable(st), ROOST_ERR_INSTANCE_DELETING);
    size_t removed = 0;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("cut1"), &removed));
    assert_int_equal(removed, 400);
    assert_roost_err(status_of(state, "cut1", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(values_of(state, "cut1"), 0);
    assert_roost_err(raw_usage(state, "cut1"), ROOST_ERR_KEY_NOT_FOUND);
}

static void test_admin__interrupted_halfway_through_keys(void **state)
{
    /* Killed in step 2 after some purge batches: deleting, half the keys
     * gone (each batch took its keys and the usage figures with it), half
     * left. The next call removes the rest - and counts only those. */
    make_instance(state, "cut2", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "cut2", 0, 1000);
    assert_roost_ok(roost_registry_set_status(store(state), S("cut2"), ROOST_INSTANCE_DELETING));
    for (int i = 0; i < 1000; i += 2) {
        char key[32];
        snprintf(key, sizeof(key), "k%04d", i);
        assert_roost_ok(roost_kv_delete(store(state), S("cut2"), roost_slice_cstr(key)));
    }
    assert_int_equal(usage_of(state, "cut2").keys, 500);
    size_t removed = 0;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("cut2"), &removed));
    assert_int_equal(removed, 500);
    enum roost_instance_status st;
    assert_roost_err(status_of(state, "cut2", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(values_of(state, "cut2"), 0);
    struct roost_instance_usage u = usage_of(state, "cut2");
    assert_int_equal(u.keys, 0);
    assert_int_equal(u.bytes, 0);
}

static void test_admin__interrupted_before_record_removal(void **state)
{
    /* Killed between step 2 and 3: every key gone, the deleting record
     * left. The next call removes the record (0 keys this time). */
    make_instance(state, "cut3", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "cut3", 0, 50);
    assert_roost_ok(roost_registry_set_status(store(state), S("cut3"), ROOST_INSTANCE_DELETING));
    size_t purged = 0;
    assert_roost_ok(roost_kv_purge_instance(store(state), S("cut3"), &purged));
    assert_int_equal(purged, 50);
    enum roost_instance_status st;
    assert_roost_ok(status_of(state, "cut3", &st));
    assert_int_equal(st, ROOST_INSTANCE_DELETING);
    size_t removed = 99;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("cut3"), &removed));
    assert_int_equal(removed, 0);
    assert_roost_err(status_of(state, "cut3", &st), ROOST_ERR_INSTANCE_NOT_FOUND);
}

static void test_admin__interrupted_with_late_write(void **state)
{
    /* kv.c purge: "a write that passed the state check just before the
     * instance became deleting may land during the purge" - a key written
     * after the fence is removed by the (next) delete too, and counted */
    make_instance(state, "cut4", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "cut4", 0, 10);
    assert_roost_ok(roost_registry_set_status(store(state), S("cut4"), ROOST_INSTANCE_DELETING));
    put_keys(state, "cut4", 10, 12);
    size_t removed = 0;
    assert_roost_ok(roost_admin_delete_instance(store(state), S("cut4"), &removed));
    assert_int_equal(removed, 12);
    assert_int_equal(values_of(state, "cut4"), 0);
}

/* ---- show ------------------------------------------------------------------ */

static struct json_object *member(struct json_object *o, const char *name)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v))
        fail_msg("no \"%s\" in %s", name, json_object_to_json_string(o));
    return v;
}

static void test_admin__show_with_usage(void **state)
{
    /* admin.h: "The instance's record with its usage, as a JSON object" */
    struct json_object *fields = json_tokener_parse(
        "{\"id\":\"shown\",\"status\":\"migrating\",\"game_type\":\"mmo\",\"region\":\"eu\","
        "\"owner\":\"alice\",\"resource_quota\":{\"cpu_cores\":8},\"metadata\":{\"tier\":\"gold\"}}");
    assert_non_null(fields);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_create(store(state), fields, roost_test_clock_now(), &inst, NULL));
    json_object_put(fields);
    roost_instance_release(&inst);
    assert_roost_ok(roost_kv_put(store(state), S("shown"), S("key1"), S("text/plain"), S("0123456789"),
                                 100, NULL));
    assert_roost_ok(roost_kv_put(store(state), S("shown"), S("k2"), S(""), S("abc"), 100, NULL));

    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_show(store(state), S("shown"), &o));
    assert_non_null(o);
    assert_string_equal(json_object_get_string(member(o, "id")), "shown");
    assert_string_equal(json_object_get_string(member(o, "status")), "migrating");
    assert_string_equal(json_object_get_string(member(o, "game_type")), "mmo");
    assert_string_equal(json_object_get_string(member(o, "region")), "eu");
    assert_string_equal(json_object_get_string(member(o, "owner")), "alice");
    assert_int_equal(json_object_get_int64(member(member(o, "resource_quota"), "cpu_cores")), 8);
    assert_int_equal(json_object_get_int64(member(member(o, "resource_quota"), "memory_bytes")),
                     ROOST_QUOTA_MEMORY_BYTES_DEFAULT);
    assert_string_equal(json_object_get_string(member(member(o, "metadata"), "tier")), "gold");
    assert_int_equal(json_object_get_int64(member(o, "created_at")), roost_test_clock_now());
    assert_int_equal(json_object_get_int64(member(o, "last_active")), roost_test_clock_now());
    struct json_object *usage = member(o, "usage");
    assert_int_equal(json_object_get_int64(member(usage, "keys")), 2);
    assert_int_equal(json_object_get_int64(member(usage, "bytes")), 4 + 10 + 2 + 3);
    struct json_object *v;
    assert_false(json_object_object_get_ex(o, "version", &v));   /* the store's business */
    json_object_put(o);
}

static void test_admin__show_without_keys(void **state)
{
    make_instance(state, "bare", ROOST_INSTANCE_INACTIVE);
    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_show(store(state), S("bare"), &o));
    assert_string_equal(json_object_get_string(member(o, "status")), "inactive");
    struct json_object *usage = member(o, "usage");
    assert_int_equal(json_object_get_int64(member(usage, "keys")), 0);
    assert_int_equal(json_object_get_int64(member(usage, "bytes")), 0);
    assert_int_equal(json_object_object_length(member(o, "metadata")), 0);
    json_object_put(o);
}

static void test_admin__show_not_found(void **state)
{
    /* admin.h show: "Errors: INSTANCE_NOT_FOUND" - *out untouched; keys
     * without a record (orphans) do not make an instance */
    assert_roost_ok(roost_kv_put(store(state), S("orphan"), S("k"), S(""), S("v"), 10, NULL));
    struct json_object *o = NULL;
    assert_roost_err(roost_admin_show(store(state), S("orphan"), &o), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_null(o);
    assert_roost_err(roost_admin_show(store(state), S("nobody"), &o), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_null(o);
}

/* ---- stats ------------------------------------------------------------------ */

static void check_partitions(struct json_object *o)
{
    /* store.h: META and the DATA partitions, each by its file name */
    struct json_object *parts = member(o, "partitions");
    assert_true(json_object_is_type(parts, json_type_array));
    assert_int_equal(json_object_array_length(parts), 1 + ROOST_STORE_SHARDS);
    assert_int_equal(ROOST_STORE_SHARDS, 16);
    for (size_t i = 0; i < json_object_array_length(parts); i++) {
        struct json_object *p = json_object_array_get_idx(parts, i);
        const char *name = json_object_get_string(member(p, "name"));
        char want[32];
        if (i == 0)
            snprintf(want, sizeof(want), "meta.db");
        else
            snprintf(want, sizeof(want), "kv-%02zu.db", i - 1);
        assert_string_equal(name, want);
        static const char *const figures[] = { "file_bytes", "log_bytes", "generation", "repairs", "rebuilds" };
        for (size_t f = 0; f < 5; f++) {
            struct json_object *v = member(p, figures[f]);
            assert_true(json_object_is_type(v, json_type_int));
            assert_true(json_object_get_int64(v) >= 0);
        }
    }
}

static void test_admin__stats_counts_by_status(void **state)
{
    /* admin.h stats: "instances per status, and per partition its file,
     * log, generation, repairs and rebuilds" */
    static const int per_status[] = { 3, 1, 2, 1, 1 };   /* active .. deleting */
    static const char *const names[] = { "active", "inactive", "paused", "migrating", "deleting" };
    int n = 0;
    for (int s = 0; s < 5; s++) {
        for (int i = 0; i < per_status[s]; i++) {
            char id[16];
            snprintf(id, sizeof(id), "i%02d", n++);
            make_instance(state, id, (enum roost_instance_status)s);
        }
    }
    put_keys(state, "i00", 0, 10);
    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_stats(store(state), &o));
    assert_int_equal(json_object_get_int64(member(o, "instances")), 8);
    struct json_object *by = member(o, "instances_by_status");
    assert_int_equal(json_object_object_length(by), 5);
    for (int s = 0; s < 5; s++)
        assert_int_equal(json_object_get_int64(member(by, names[s])), per_status[s]);
    check_partitions(o);
    /* the partitions were written to: META and i00's DATA partition have
     * a generation and a file */
    struct json_object *meta = json_object_array_get_idx(member(o, "partitions"), 0);
    assert_true(json_object_get_int64(member(meta, "generation")) > 0);
    assert_true(json_object_get_int64(member(meta, "file_bytes")) > 0);
    int part = (int)(roost_fnv1a64("i00", 3) % ROOST_STORE_SHARDS);
    struct json_object *data = json_object_array_get_idx(member(o, "partitions"), (size_t)part + 1);
    assert_true(json_object_get_int64(member(data, "generation")) > 0);
    json_object_put(o);
}

static void test_admin__stats_empty_store(void **state)
{
    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_stats(store(state), &o));
    assert_int_equal(json_object_get_int64(member(o, "instances")), 0);
    struct json_object *by = member(o, "instances_by_status");
    static const char *const names[] = { "active", "inactive", "paused", "migrating", "deleting" };
    for (int s = 0; s < 5; s++)
        assert_int_equal(json_object_get_int64(member(by, names[s])), 0);
    check_partitions(o);
    json_object_put(o);
}

static void test_admin__stats_skips_unreadable_records(void **state)
{
    /* registry.h list skips unreadable records; stats counts what it can
     * read and still answers */
    make_instance(state, "good", ROOST_INSTANCE_ACTIVE);
    struct roost_buf key = ROOST_BUF_INIT;
    roost_keyspace_instance_key(&key, S("bad"));
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(store(state), ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_roost_ok(roost_store_put(&sc, roost_buf_slice(&key), S("{\"id\":"), 0, NULL));
    roost_store_end(&sc);
    roost_buf_release(&key);
    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_stats(store(state), &o));
    assert_int_equal(json_object_get_int64(member(o, "instances")), 1);
    assert_int_equal(json_object_get_int64(member(member(o, "instances_by_status"), "active")), 1);
    json_object_put(o);
}

static void test_admin__stats_after_delete(void **state)
{
    /* a deleted instance is no longer counted; one mid-delete counts as deleting */
    make_instance(state, "a", ROOST_INSTANCE_ACTIVE);
    make_instance(state, "b", ROOST_INSTANCE_ACTIVE);
    put_keys(state, "a", 0, 3);
    assert_roost_ok(roost_admin_delete_instance(store(state), S("a"), NULL));
    assert_roost_ok(roost_registry_set_status(store(state), S("b"), ROOST_INSTANCE_DELETING));
    struct json_object *o = NULL;
    assert_roost_ok(roost_admin_stats(store(state), &o));
    assert_int_equal(json_object_get_int64(member(o, "instances")), 1);
    assert_int_equal(json_object_get_int64(member(member(o, "instances_by_status"), "active")), 0);
    assert_int_equal(json_object_get_int64(member(member(o, "instances_by_status"), "deleting")), 1);
    json_object_put(o);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_admin__delete_removes_record_and_keys),
        T(test_admin__delete_again_not_found),
        T(test_admin__delete_without_keys),
        T(test_admin__delete_from_every_state),
        T(test_admin__delete_leaves_other_instances),
        T(test_admin__interrupted_after_fence),
        T(test_admin__interrupted_halfway_through_keys),
        T(test_admin__interrupted_before_record_removal),
        T(test_admin__interrupted_with_late_write),
        T(test_admin__show_with_usage),
        T(test_admin__show_without_keys),
        T(test_admin__show_not_found),
        T(test_admin__stats_counts_by_status),
        T(test_admin__stats_empty_store),
        T(test_admin__stats_skips_unreadable_records),
        T(test_admin__stats_after_delete),
    };
#undef T
    return cmocka_run_group_tests_name("admin", tests, NULL, NULL);
}
