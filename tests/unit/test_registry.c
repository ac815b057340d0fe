/*
 * test_registry.c - lib/registry.h: instance records in the store's META
 * area, on a real store in a temporary directory (roost_store_open;
 * removed by each test's teardown). Time comes from testlib's fake clock.
 *
 * Test organization
 *   group        what it checks                                   rule
 *   resolve      auto-create with defaults and created flag,      spec "Instances are automatically
 *                second resolve finds it and keeps created_at,    created when first accessed";
 *                !auto_create -> INSTANCE_NOT_FOUND, nothing made registry.h resolve
 *                racing processes create it exactly once          registry.h "exactly once"
 *   get/put      round trip of every field, replace, missing      registry.h get/put
 *   layout       the record lives at keyspace's instance key as   keyspace.h META; instance.h JSON
 *                the instance JSON; survives reopening the store
 *   corrupt      an unreadable record is STORE_CORRUPT and is     registry.h "STORE_CORRUPT (record
 *                not silently replaced by auto-create             unreadable)"
 *   create       defaults, every field, INSTANCE_EXISTS,          registry.h create; issue 5 part 3
 *                INVALID_INSTANCE_ID, missing id, bad fields      "create one with given fields"
 *                write nothing, created in each state
 *   update       patch stored, errors keep the record, four       registry.h update "under one lock"
 *                processes editing one record lose nothing
 *   set_status   all 25 transitions stored and seen by resolve,   DESIGN.md "any of the five states
 *                missing -> INSTANCE_NOT_FOUND                    from any state"
 *   remove       record gone, neighbours kept, repeat NOT_FOUND   registry.h remove
 *   touch        300 touches in a minute -> one write (written    spec "Activity Tracking"; issue 5
 *                flag and META generation), 60 s later one more,  "many requests in a minute -> one
 *                missing ok, clock backwards heals, racing        write"; registry.h touch
 *                processes write once
 *   list         id order, cursor pages 100/100/50 with more,     registry.h list; issue 5 "filters
 *                status filter, unreadable skipped, fn error      by status and a cursor"
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
#include <json-c/json.h>

#include "buf.h"
#include "error.h"
#include "instance.h"
#include "keyspace.h"
#include "registry.h"
#include "store.h"
#include "testlib.h"

static int setup(void **state)
{
    roost_test_clock_set(1735238400);
    return roost_test_store_setup(state, "registry");
}

static int teardown(void **state)
{
    return roost_test_store_teardown(state);
}


static enum roost_err resolve(void **state, const char *id, int auto_create,
                              struct roost_instance *inst, int *created)
{
    return roost_registry_resolve(roost_test_store(state), roost_slice_cstr(id), auto_create,
                                  roost_test_clock_now(), inst, created);
}

static void assert_defaults(const struct roost_instance *inst, const char *id, int64_t created)
{
    /* spec "Instance Creation": Active, GameType default, Region default,
     * 8GB memory, 100GB storage, 4 CPU cores */
    assert_string_equal(inst->id, id);
    assert_int_equal(inst->status, ROOST_INSTANCE_ACTIVE);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst->game_type), "default"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst->region), "default"));
    assert_int_equal(inst->quota.memory_bytes, 8LL * 1024 * 1024 * 1024);
    assert_int_equal(inst->quota.storage_bytes, 100LL * 1024 * 1024 * 1024);
    assert_int_equal(inst->quota.cpu_cores, 4);
    assert_int_equal(inst->owner.len, 0);
    assert_int_equal(inst->created_at, created);
}

/* ---- resolve ----------------------------------------------------------- */

static void test_registry__resolve_creates_with_defaults(void **state)
{
    /* registry.h: "when there is none and auto_create is set, creates it
     * with the spec's defaults (created_at = last_active = now)" */
    int64_t now = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init(&inst);
    int created = -1;
    assert_roost_ok(resolve(state, "minecraft-server-001", 1, &inst, &created));
    assert_int_equal(created, 1);
    assert_defaults(&inst, "minecraft-server-001", now);
    assert_int_equal(inst.last_active, now);
    roost_instance_release(&inst);
}

static void test_registry__second_resolve_finds_it(void **state)
{
    /* the second request finds the record: created 0, created_at kept */
    int64_t first = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init(&inst);
    int created = -1;
    assert_roost_ok(resolve(state, "game-001", 1, &inst, &created));
    assert_int_equal(created, 1);
    roost_instance_release(&inst);

    roost_test_clock_advance(3600);
    roost_instance_init(&inst);
    created = -1;
    assert_roost_ok(resolve(state, "game-001", 1, &inst, &created));
    assert_int_equal(created, 0);
    assert_defaults(&inst, "game-001", first);          /* not re-created at the new time */
    roost_instance_release(&inst);

    /* and without auto_create too */
    roost_instance_init(&inst);
    created = -1;
    assert_roost_ok(resolve(state, "game-001", 0, &inst, &created));
    assert_int_equal(created, 0);
    assert_int_equal(inst.created_at, first);
    roost_instance_release(&inst);
}

static void test_registry__resolve_created_may_be_null(void **state)
{
    /* registry.h: "created (may be NULL)"; the record replaces inst's contents */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(resolve(state, "g", 1, &inst, NULL));
    assert_string_equal(inst.id, "g");
    assert_roost_ok(resolve(state, "g", 1, &inst, NULL));   /* inst reused: replaced */
    assert_string_equal(inst.id, "g");
    roost_instance_release(&inst);
}

static void test_registry__resolve_without_auto_create(void **state)
{
    /* registry.h: "Errors: INSTANCE_NOT_FOUND (none and !auto_create)";
     * DESIGN.md: ROOST_AUTO_CREATE "0: 404 INSTANCE_NOT_FOUND" */
    struct roost_instance inst;
    roost_instance_init(&inst);
    int created = -1;
    assert_roost_err(resolve(state, "unknown", 0, &inst, &created), ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_int_equal(created == 1, 0);
    /* nothing was created on the way */
    assert_roost_err(roost_registry_get(roost_test_store(state), roost_slice_cstr("unknown"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
}

static void test_registry__resolve_keeps_stored_state(void **state)
{
    /* resolve finds what an operator set: a paused instance stays paused
     * (DESIGN.md "Instance status is an operator's switch") */
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("paused-one"), 100);
    inst.status = ROOST_INSTANCE_PAUSED;
    assert_roost_ok(roost_registry_put(roost_test_store(state), &inst));
    roost_instance_release(&inst);

    roost_instance_init(&inst);
    int created = -1;
    assert_roost_ok(resolve(state, "paused-one", 1, &inst, &created));
    assert_int_equal(created, 0);
    assert_int_equal(inst.status, ROOST_INSTANCE_PAUSED);
    assert_int_equal(inst.created_at, 100);
    assert_roost_err(roost_instance_servable(inst.status), ROOST_ERR_INSTANCE_PAUSED);
    roost_instance_release(&inst);
}

static void test_registry__instances_are_separate(void **state)
{
    /* "a" and "ab" are two instances, each created once */
    struct roost_instance inst;
    int created = -1;
    roost_instance_init(&inst);
    assert_roost_ok(resolve(state, "a", 1, &inst, &created));
    assert_int_equal(created, 1);
    assert_roost_ok(resolve(state, "ab", 1, &inst, &created));
    assert_int_equal(created, 1);
    assert_string_equal(inst.id, "ab");
    assert_roost_ok(resolve(state, "a", 1, &inst, &created));
    assert_int_equal(created, 0);
    assert_string_equal(inst.id, "a");
    roost_instance_release(&inst);
}

static void test_registry__concurrent_first_resolve_creates_once(void **state)
{
    /* registry.h: "creates it ... in the same lock scope, so concurrent
     * first requests on several workers create it exactly once." Several
     * processes (each opening the store after fork, as store.h requires)
     * are released at once through a pipe and race for the same new id. */
    enum { WORKERS = 6 };
    struct roost_test_store *f = *state;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pids[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(gate[1]);
            char c;
            if (read(gate[0], &c, 1) != 0)     /* EOF: the parent opened the gate */
                _exit(20);
            struct roost_store *st = NULL;
            if (roost_store_open(f->dir, &st) != ROOST_OK)
                _exit(21);
            struct roost_instance inst;
            roost_instance_init(&inst);
            int created = -1;
            enum roost_err err = roost_registry_resolve(st, roost_slice_cstr("race"), 1,
                                                        1735238400 + i, &inst, &created);
            roost_instance_release(&inst);
            roost_store_close(st);
            _exit(err ? 30 + (int)err % 50 : created);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int creators = 0;
    for (int i = 0; i < WORKERS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        if (code > 1)
            fail_msg("worker %d exited %d", i, code);
        creators += code;
    }
    assert_int_equal(creators, 1);
    /* and every worker saw the same record */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(f->st, roost_slice_cstr("race"), &inst));
    assert_in_range(inst.created_at, 1735238400, 1735238400 + WORKERS - 1);
    roost_instance_release(&inst);
}

/* ---- get/put ----------------------------------------------------------- */

static void fill_custom(struct roost_instance *inst, const char *id)
{
    roost_instance_init_defaults(inst, roost_slice_cstr(id), 1735238400);
    inst->status = ROOST_INSTANCE_MIGRATING;
    roost_buf_set(&inst->game_type, "mmo", 3);
    roost_buf_set(&inst->region, "eu-west", 7);
    inst->quota.memory_bytes = 1LL << 35;
    inst->quota.storage_bytes = 1LL << 41;
    inst->quota.cpu_cores = 16;
    roost_buf_set(&inst->owner, "alice", 5);
    inst->last_active = 1735238400 + 86400;
}

static void assert_same(const struct roost_instance *a, const struct roost_instance *b)
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

static void test_registry__put_then_get(void **state)
{
    /* registry.h: put writes the record, get loads it back field for field */
    struct roost_instance a, b;
    fill_custom(&a, "game-instance-123");
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    roost_instance_init(&b);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("game-instance-123"), &b));
    assert_same(&a, &b);
    roost_instance_release(&a);
    roost_instance_release(&b);
}

static void test_registry__put_replaces(void **state)
{
    /* registry.h: "Writes inst's record, replacing any existing one." */
    struct roost_instance a, b;
    fill_custom(&a, "g");
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    a.status = ROOST_INSTANCE_DELETING;
    roost_buf_reset(&a.owner);
    a.last_active += 60;
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    roost_instance_init(&b);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("g"), &b));
    assert_same(&a, &b);
    roost_instance_release(&a);
    roost_instance_release(&b);
}

static void test_registry__get_missing(void **state)
{
    /* registry.h get: "Errors: INSTANCE_NOT_FOUND" */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(roost_test_store(state), roost_slice_cstr("nobody"), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
}

/* ---- layout ------------------------------------------------------------ */

static enum roost_err meta_get(void **state, struct roost_slice key, struct roost_buf *out)
{
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(roost_test_store(state), ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
    if (!err)
        err = roost_store_get(&sc, key, out);
    roost_store_end(&sc);
    return err;
}

static enum roost_err meta_put(void **state, struct roost_slice key, struct roost_slice value)
{
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(roost_test_store(state), ROOST_STORE_META, ROOST_SLICE_NULL, &sc);
    if (!err)
        err = roost_store_put(&sc, key, value, 0, NULL);
    roost_store_end(&sc);
    return err;
}

static void test_registry__record_at_instance_key(void **state)
{
    /* keyspace.h: META "instance:" ID holds the instance record (instance.h
     * JSON form) */
    struct roost_instance inst, back;
    roost_instance_init(&inst);
    assert_roost_ok(resolve(state, "game-7", 1, &inst, NULL));
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    roost_keyspace_instance_key(&key, roost_slice_cstr("game-7"));
    assert_string_equal(key.ptr, "instance:game-7");
    assert_roost_ok(meta_get(state, roost_buf_slice(&key), &raw));
    roost_instance_init(&back);
    assert_roost_ok(roost_instance_from_json(roost_buf_slice(&raw), &back));
    assert_same(&inst, &back);
    roost_instance_release(&inst);
    roost_instance_release(&back);
    roost_buf_release(&key);
    roost_buf_release(&raw);
}

static void test_registry__survives_reopen(void **state)
{
    /* store.h: what a scope writes "is durable against process crashes ...
     * once the operation returns ROOST_OK" - at least it is there for the
     * next open of the store */
    struct roost_test_store *f = *state;
    struct roost_instance a, b;
    fill_custom(&a, "kept");
    assert_roost_ok(roost_registry_put(f->st, &a));
    roost_store_close(f->st);
    f->st = NULL;
    assert_roost_ok(roost_store_open(f->dir, &f->st));
    roost_instance_init(&b);
    int created = -1;
    assert_roost_ok(resolve(state, "kept", 1, &b, &created));
    assert_int_equal(created, 0);
    assert_same(&a, &b);
    roost_instance_release(&a);
    roost_instance_release(&b);
}

/* ---- corrupt ----------------------------------------------------------- */

static void test_registry__unreadable_record_is_corrupt(void **state)
{
    /* registry.h get: "STORE_CORRUPT (record unreadable)". resolve must not
     * treat a damaged record as "none" and overwrite it with defaults: that
     * would silently un-pause (or un-delete) an instance and lose its owner. */
    struct roost_buf key = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    roost_keyspace_instance_key(&key, roost_slice_cstr("damaged"));
    assert_roost_ok(meta_put(state, roost_buf_slice(&key), roost_slice_cstr("{\"version\":1,\"id\":")));
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(roost_test_store(state), roost_slice_cstr("damaged"), &inst),
                     ROOST_ERR_STORE_CORRUPT);
    int created = -1;
    assert_roost_err(resolve(state, "damaged", 1, &inst, &created), ROOST_ERR_STORE_CORRUPT);
    assert_int_equal(created == 1, 0);
    assert_roost_ok(meta_get(state, roost_buf_slice(&key), &raw));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&raw), "{\"version\":1,\"id\":"));
    roost_instance_release(&inst);
    roost_buf_release(&key);
    roost_buf_release(&raw);
}

/* ---- create (issue 5 part 3: "create one with given fields") ------------ */

static struct json_object *jparse(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    if (!o)
        fail_msg("test JSON does not parse: %s", text);
    return o;
}

static enum roost_err create_text(void **state, const char *text, struct roost_instance *inst,
                                  struct roost_buf *detail)
{
    struct json_object *fields = jparse(text);
    enum roost_err err = roost_registry_create(roost_test_store(state), fields, roost_test_clock_now(),
                                               inst, detail);
    json_object_put(fields);
    return err;
}

static void expect_absent(void **state, const char *id)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(roost_test_store(state), roost_slice_cstr(id), &inst),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
}

static enum roost_err count_one(void *arg, const struct roost_instance *inst)
{
    (void)inst;
    ++*(size_t *)arg;
    return ROOST_OK;
}

/* Readable instance records in the store. */
static size_t count_instances(void **state)
{
    size_t n = 0;
    int more = -1;
    assert_roost_ok(roost_registry_list(roost_test_store(state), -1, ROOST_SLICE_NULL, SIZE_MAX, count_one,
                                        &n, &more));
    assert_int_equal(more, 0);
    return n;
}

static void test_registry__create_with_defaults(void **state)
{
    /* registry.h create: "missing fields take the spec's defaults,
     * created_at = last_active = now. inst receives the stored record." */
    int64_t now = roost_test_clock_now();
    struct roost_instance inst, stored;
    roost_instance_init(&inst);
    assert_roost_ok(create_text(state, "{\"id\":\"fresh-1\"}", &inst, NULL));
    assert_defaults(&inst, "fresh-1", now);
    assert_int_equal(inst.last_active, now);
    roost_instance_init(&stored);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("fresh-1"), &stored));
    assert_same(&inst, &stored);
    assert_true(stored.metadata == NULL || json_object_object_length(stored.metadata) == 0);
    roost_instance_release(&inst);
    roost_instance_release(&stored);
}

static void test_registry__create_with_fields(void **state)
{
    /* issue 5: "create one with given fields" - every editable field */
    int64_t now = roost_test_clock_now();
    struct roost_instance inst, stored;
    roost_instance_init(&inst);
    roost_instance_init(&stored);
    assert_roost_ok(create_text(state, "{\"id\":\"full-1\",\"status\":\"paused\",\"game_type\":\"mmo\","
                                       "\"region\":\"eu-west\",\"owner\":\"alice\","
                                       "\"resource_quota\":{\"cpu_cores\":16},"
                                       "\"metadata\":{\"tier\":\"gold\"}}", &inst, NULL));
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("full-1"), &stored));
    assert_same(&inst, &stored);
    assert_string_equal(stored.id, "full-1");
    assert_int_equal(stored.status, ROOST_INSTANCE_PAUSED);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.game_type), "mmo"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.region), "eu-west"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.owner), "alice"));
    assert_int_equal(stored.quota.cpu_cores, 16);
    assert_int_equal(stored.quota.memory_bytes, ROOST_QUOTA_MEMORY_BYTES_DEFAULT);   /* others kept */
    assert_int_equal(stored.quota.storage_bytes, ROOST_QUOTA_STORAGE_BYTES_DEFAULT);
    assert_int_equal(stored.created_at, now);
    assert_int_equal(stored.last_active, now);
    struct json_object *want = jparse("{\"tier\":\"gold\"}");
    assert_non_null(stored.metadata);
    assert_true(json_object_equal(stored.metadata, want));
    json_object_put(want);
    roost_instance_release(&inst);
    roost_instance_release(&stored);
}

static void test_registry__create_exists(void **state)
{
    /* registry.h create: "INSTANCE_EXISTS" - and the first record stays */
    struct roost_instance inst, stored;
    roost_instance_init(&inst);
    roost_instance_init(&stored);
    assert_roost_ok(create_text(state, "{\"id\":\"dup\",\"owner\":\"first\"}", &inst, NULL));
    roost_test_clock_advance(100);
    assert_roost_err(create_text(state, "{\"id\":\"dup\",\"owner\":\"second\"}", &inst, NULL),
                     ROOST_ERR_INSTANCE_EXISTS);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("dup"), &stored));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.owner), "first"));
    assert_int_equal(stored.created_at, roost_test_clock_now() - 100);
    /* an auto-created instance exists too */
    assert_roost_ok(resolve(state, "auto", 1, &inst, NULL));
    assert_roost_err(create_text(state, "{\"id\":\"auto\"}", &inst, NULL), ROOST_ERR_INSTANCE_EXISTS);
    roost_instance_release(&inst);
    roost_instance_release(&stored);
}

static void test_registry__create_invalid_id(void **state)
{
    /* registry.h create: "INVALID_INSTANCE_ID"; DESIGN.md "API rules" */
    static const char *const bad[] = {
        "{\"id\":\"\"}", "{\"id\":\"a:b\"}", "{\"id\":\"a b\"}", "{\"id\":\"caf\\u00e9\"}",
        "{\"id\":\"a\\u0000b\"}", "{\"id\":\"../x\"}",
        "{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_instance inst;
        roost_instance_init(&inst);
        enum roost_err err = create_text(state, bad[i], &inst, NULL);
        if (err != ROOST_ERR_INVALID_INSTANCE_ID)
            fail_msg("create %s: %s, want INVALID_INSTANCE_ID", bad[i], roost_err_name(err));
        roost_instance_release(&inst);
    }
    /* nothing was written: the META area holds no instance */
    assert_int_equal(count_instances(state), 0);
}

static void test_registry__create_missing_or_bad_id(void **state)
{
    /* registry.h create: "INVALID_REQUEST (no or bad "id", bad fields)" */
    static const char *const bad[] = { "{}", "{\"owner\":\"x\"}", "{\"id\":1}", "{\"id\":null}",
                                       "{\"id\":[\"x\"]}", "[\"x\"]", "\"x\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_instance inst;
        roost_instance_init(&inst);
        struct roost_buf detail = ROOST_BUF_INIT;
        enum roost_err err = create_text(state, bad[i], &inst, &detail);
        if (err != ROOST_ERR_INVALID_REQUEST)
            fail_msg("create %s: %s, want INVALID_REQUEST", bad[i], roost_err_name(err));
        if (!strstr(detail.ptr, "id"))
            fail_msg("create %s: detail \"%s\" does not name id", bad[i], detail.ptr);
        roost_buf_release(&detail);
        roost_instance_release(&inst);
    }
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_create(roost_test_store(state), NULL, 1, &inst, NULL),
                     ROOST_ERR_INVALID_REQUEST);
    roost_instance_release(&inst);
}

static void test_registry__create_bad_fields_write_nothing(void **state)
{
    /* registry.h create: "INVALID_REQUEST (... bad fields), INVALID_STATUS" -
     * and no record is left behind */
    struct roost_instance inst;
    roost_instance_init(&inst);
    struct roost_buf detail = ROOST_BUF_INIT;
    assert_roost_err(create_text(state, "{\"id\":\"b1\",\"colour\":\"red\"}", &inst, &detail),
                     ROOST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(detail.ptr, "colour"));
    expect_absent(state, "b1");
    assert_roost_err(create_text(state, "{\"id\":\"b2\",\"status\":\"sleeping\"}", &inst, &detail),
                     ROOST_ERR_INVALID_STATUS);
    expect_absent(state, "b2");
    assert_roost_err(create_text(state, "{\"id\":\"b3\",\"owner\":\"ok\",\"region\":\"\"}", &inst, &detail),
                     ROOST_ERR_INVALID_REQUEST);
    expect_absent(state, "b3");
    assert_roost_err(create_text(state, "{\"id\":\"b4\",\"created_at\":5}", &inst, &detail),
                     ROOST_ERR_INVALID_REQUEST);
    expect_absent(state, "b4");
    assert_int_equal(count_instances(state), 0);
    roost_buf_release(&detail);
    roost_instance_release(&inst);
}

static void test_registry__create_every_state(void **state)
{
    /* DESIGN.md: "any of the five states" - an instance may also be created in each */
    static const char *const names[] = { "active", "inactive", "paused", "migrating", "deleting" };
    for (int s = 0; s < 5; s++) {
        char text[64], id[16];
        snprintf(id, sizeof(id), "st-%d", s);
        snprintf(text, sizeof(text), "{\"id\":\"%s\",\"status\":\"%s\"}", id, names[s]);
        struct roost_instance inst;
        roost_instance_init(&inst);
        assert_roost_ok(create_text(state, text, &inst, NULL));
        assert_int_equal(inst.status, s);
        assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr(id), &inst));
        assert_int_equal(inst.status, s);
        roost_instance_release(&inst);
    }
}

/* ---- update ------------------------------------------------------------- */

static enum roost_err update_text(void **state, const char *id, const char *text,
                                  struct roost_instance *inst, struct roost_buf *detail)
{
    struct json_object *patch = jparse(text);
    enum roost_err err = roost_registry_update(roost_test_store(state), roost_slice_cstr(id), patch, inst,
                                               detail);
    json_object_put(patch);
    return err;
}

static void test_registry__update_applies_and_stores(void **state)
{
    /* registry.h update: "Applies a patch ... to the stored record under
     * one lock; inst receives the result" */
    struct roost_instance a, inst, stored;
    fill_custom(&a, "upd");
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    roost_instance_init(&inst);
    roost_instance_init(&stored);
    assert_roost_ok(update_text(state, "upd", "{\"status\":\"paused\",\"owner\":\"bob\","
                                              "\"metadata\":{\"k\":\"v\"},\"resource_quota\":{\"cpu_cores\":2}}",
                                &inst, NULL));
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("upd"), &stored));
    assert_same(&inst, &stored);
    assert_int_equal(stored.status, ROOST_INSTANCE_PAUSED);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.owner), "bob"));
    assert_int_equal(stored.quota.cpu_cores, 2);
    assert_int_equal(stored.quota.memory_bytes, a.quota.memory_bytes);
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&stored.region), "eu-west"));  /* untouched */
    assert_int_equal(stored.created_at, a.created_at);
    assert_int_equal(stored.last_active, a.last_active);
    assert_non_null(stored.metadata);
    assert_int_equal(json_object_object_length(stored.metadata), 1);
    roost_instance_release(&a);
    roost_instance_release(&inst);
    roost_instance_release(&stored);
}

static void test_registry__update_errors_keep_record(void **state)
{
    /* registry.h update: "Errors: INSTANCE_NOT_FOUND, the patch's errors" -
     * a refused patch leaves the stored record as it was */
    struct roost_instance a, inst, stored;
    fill_custom(&a, "keep");
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    roost_instance_init(&inst);
    roost_instance_init(&stored);
    struct roost_buf detail = ROOST_BUF_INIT;
    assert_roost_err(update_text(state, "nobody", "{\"owner\":\"x\"}", &inst, &detail),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    expect_absent(state, "nobody");
    assert_roost_err(update_text(state, "keep", "{\"owner\":\"x\",\"nope\":1}", &inst, &detail),
                     ROOST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(detail.ptr, "nope"));
    assert_roost_err(update_text(state, "keep", "{\"owner\":\"x\",\"status\":\"gone\"}", &inst, &detail),
                     ROOST_ERR_INVALID_STATUS);
    /* update never takes "id" (allow_id is for creation only) */
    assert_roost_err(update_text(state, "keep", "{\"id\":\"keep\"}", &inst, &detail),
                     ROOST_ERR_INVALID_REQUEST);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("keep"), &stored));
    assert_same(&a, &stored);
    roost_buf_release(&detail);
    roost_instance_release(&a);
    roost_instance_release(&inst);
    roost_instance_release(&stored);
}

static void test_registry__concurrent_updates_lose_nothing(void **state)
{
    /* registry.h update: "under one lock" - the read-modify-write of one
     * process never overwrites another's change. Four processes each own
     * one field and set it 100 times; without the lock a stale read of one
     * would put back an old value of another's field. */
    enum { WORKERS = 4, ROUNDS = 100 };
    struct roost_test_store *f = *state;
    struct roost_instance inst;
    fill_custom(&inst, "shared");
    assert_roost_ok(roost_registry_put(f->st, &inst));
    roost_instance_release(&inst);
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(gate[1]);
            char c;
            if (read(gate[0], &c, 1) != 0)
                _exit(20);
            struct roost_store *st = NULL;
            if (roost_store_open(f->dir, &st) != ROOST_OK)
                _exit(21);
            for (int r = 1; r <= ROUNDS; r++) {
                char text[128];
                switch (w) {
                case 0: snprintf(text, sizeof(text), "{\"owner\":\"o%d\"}", r); break;
                case 1: snprintf(text, sizeof(text), "{\"region\":\"r%d\"}", r); break;
                case 2: snprintf(text, sizeof(text), "{\"game_type\":\"g%d\"}", r); break;
                default: snprintf(text, sizeof(text), "{\"resource_quota\":{\"cpu_cores\":%d}}", r); break;
                }
                struct json_object *p = json_tokener_parse(text);
                struct roost_instance out;
                roost_instance_init(&out);
                enum roost_err err = roost_registry_update(st, roost_slice_cstr("shared"), p, &out, NULL);
                roost_instance_release(&out);
                json_object_put(p);
                if (err)
                    _exit(30);
            }
            roost_store_close(st);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int w = 0; w < WORKERS; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status))
            fail_msg("worker %d exited %d", w, WEXITSTATUS(status));
    }
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(f->st, roost_slice_cstr("shared"), &inst));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.owner), "o100"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.region), "r100"));
    assert_true(roost_slice_eq_cstr(roost_buf_slice(&inst.game_type), "g100"));
    assert_int_equal(inst.quota.cpu_cores, ROUNDS);
    roost_instance_release(&inst);
}

/* ---- set_status ----------------------------------------------------------- */

static void test_registry__set_status_every_transition(void **state)
{
    /* registry.h: "Sets the status (any state from any state: DESIGN.md "API
     * rules")" - all 25 pairs, each stored, other fields kept, and the
     * stored state served or refused per spec "Instance States" */
    static const enum roost_err servable[] = { ROOST_OK, ROOST_ERR_INSTANCE_INACTIVE,
                                               ROOST_ERR_INSTANCE_PAUSED, ROOST_OK,
                                               ROOST_ERR_INSTANCE_DELETING };
    struct roost_instance a, got;
    fill_custom(&a, "sm");
    for (int from = 0; from < 5; from++) {
        for (int to = 0; to < 5; to++) {
            a.status = (enum roost_instance_status)from;
            assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
            assert_roost_ok(roost_registry_set_status(roost_test_store(state), roost_slice_cstr("sm"),
                                                      (enum roost_instance_status)to));
            roost_instance_init(&got);
            assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("sm"), &got));
            if ((int)got.status != to)
                fail_msg("%d -> %d: stored %d", from, to, (int)got.status);
            assert_roost_err(roost_instance_servable(got.status), servable[to]);
            a.status = got.status;
            assert_same(&a, &got);
            /* what a request sees next: resolve reads the same state */
            int created = -1;
            assert_roost_ok(resolve(state, "sm", 1, &got, &created));
            assert_int_equal(created, 0);
            assert_int_equal((int)got.status, to);
            roost_instance_release(&got);
        }
    }
    roost_instance_release(&a);
}

static void test_registry__set_status_missing(void **state)
{
    /* registry.h set_status: "Errors: INSTANCE_NOT_FOUND" - and it creates nothing */
    assert_roost_err(roost_registry_set_status(roost_test_store(state), roost_slice_cstr("ghost"),
                                               ROOST_INSTANCE_PAUSED),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    expect_absent(state, "ghost");
}

/* ---- remove --------------------------------------------------------------- */

static void test_registry__remove(void **state)
{
    /* registry.h: "Removes the record ... Errors: INSTANCE_NOT_FOUND" */
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(resolve(state, "rm-a", 1, &inst, NULL));
    assert_roost_ok(resolve(state, "rm-ab", 1, &inst, NULL));
    assert_roost_ok(roost_registry_remove(roost_test_store(state), roost_slice_cstr("rm-a")));
    expect_absent(state, "rm-a");
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("rm-ab"), &inst));
    assert_roost_err(roost_registry_remove(roost_test_store(state), roost_slice_cstr("rm-a")),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    assert_roost_err(roost_registry_remove(roost_test_store(state), roost_slice_cstr("never")),
                     ROOST_ERR_INSTANCE_NOT_FOUND);
    /* after removal, auto-create makes a new one */
    int created = -1;
    assert_roost_ok(resolve(state, "rm-a", 1, &inst, &created));
    assert_int_equal(created, 1);
    roost_instance_release(&inst);
}

/* ---- touch (spec "Activity Tracking") ------------------------------------ */

/* Writes the META partition has taken so far (store.h part_stats). */
static uint64_t meta_generation(void **state)
{
    struct roost_store_scope sc;
    struct roost_store_part_stats ps;
    assert_roost_ok(roost_store_begin(roost_test_store(state), ROOST_STORE_META, ROOST_SLICE_NULL, &sc));
    assert_roost_ok(roost_store_part_stats(&sc, &ps));
    roost_store_end(&sc);
    return ps.generation;
}

static int64_t stored_last_active(void **state, const char *id)
{
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr(id), &inst));
    int64_t t = inst.last_active;
    roost_instance_release(&inst);
    return t;
}

static void test_registry__touch_throttle(void **state)
{
    /* spec "Activity Tracking": "throttled to once per minute"; issue 5: "A
     * test proves the throttle (many requests in a minute -> one write)
     * without sleeping a minute (inject the clock)." */
    int64_t t0 = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("busy"), t0 - 3600);
    assert_roost_ok(roost_registry_put(roost_test_store(state), &inst));
    roost_instance_release(&inst);

    uint64_t gen0 = meta_generation(state);
    int writes = 0;
    /* 300 requests spread over the first minute, the first one at t0 */
    for (int i = 0; i < 300; i++) {
        roost_test_clock_set(t0 + i / 5);                /* t0 .. t0+59 */
        int written = -1;
        assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("busy"),
                                             roost_test_clock_now(), &written));
        assert_true(written == 0 || written == 1);
        writes += written;
        if (i == 0)
            assert_int_equal(written, 1);
        assert_int_equal(stored_last_active(state, "busy"), t0);
    }
    assert_int_equal(writes, 1);
    uint64_t gen1 = meta_generation(state);
    assert_true(gen1 > gen0);
    uint64_t per_write = gen1 - gen0;                   /* what one record write costs */

    /* ROOST_ACTIVITY_INTERVAL later: one more write */
    roost_test_clock_set(t0 + 60);
    int written = -1;
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("busy"), t0 + 60, &written));
    assert_int_equal(written, 1);
    assert_int_equal(stored_last_active(state, "busy"), t0 + 60);
    assert_int_equal(meta_generation(state), gen1 + per_write);
    /* and throttled again from there */
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("busy"), t0 + 119, &written));
    assert_int_equal(written, 0);
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("busy"), t0 + 120, &written));
    assert_int_equal(written, 1);
    assert_int_equal(stored_last_active(state, "busy"), t0 + 120);
}

static void test_registry__touch_fresh_record_not_written(void **state)
{
    /* a record created now is fresh: the requests of its first minute
     * write nothing at all (no store write: the META generation stays) */
    int64_t t0 = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(resolve(state, "new", 1, &inst, NULL));
    roost_instance_release(&inst);
    uint64_t gen = meta_generation(state);
    for (int s = 0; s < 60; s++) {
        int written = -1;
        assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("new"), t0 + s, &written));
        assert_int_equal(written, 0);
    }
    assert_int_equal(meta_generation(state), gen);
    assert_int_equal(stored_last_active(state, "new"), t0);
    /* written may be NULL */
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("new"), t0 + 61, NULL));
    assert_int_equal(stored_last_active(state, "new"), t0 + 61);
}

static void test_registry__touch_missing_is_ok(void **state)
{
    /* registry.h touch: "A missing instance is OK (deleted meanwhile),
     * written = 0" - and touch does not create it */
    int written = -1;
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("gone"),
                                         roost_test_clock_now(), &written));
    assert_int_equal(written, 0);
    expect_absent(state, "gone");
}

static void test_registry__touch_clock_backwards(void **state)
{
    /* instance.h activity_due: "A clock that went backwards also counts,
     * so a bad future stamp heals" */
    int64_t t0 = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("future"), t0);
    inst.last_active = t0 + 86400;
    assert_roost_ok(roost_registry_put(roost_test_store(state), &inst));
    int written = -1;
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("future"), t0, &written));
    assert_int_equal(written, 1);
    assert_int_equal(stored_last_active(state, "future"), t0);
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("future"), t0 + 30, &written));
    assert_int_equal(written, 0);
    roost_instance_release(&inst);
}

static void test_registry__touch_keeps_other_fields(void **state)
{
    /* touch writes last_active only: a paused instance stays paused */
    struct roost_instance a, got;
    fill_custom(&a, "tk");
    a.status = ROOST_INSTANCE_PAUSED;
    a.last_active = 0;
    assert_roost_ok(roost_registry_put(roost_test_store(state), &a));
    int written = -1;
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("tk"), 1735238400, &written));
    assert_int_equal(written, 1);
    roost_instance_init(&got);
    assert_roost_ok(roost_registry_get(roost_test_store(state), roost_slice_cstr("tk"), &got));
    a.last_active = 1735238400;
    assert_same(&a, &got);
    roost_instance_release(&a);
    roost_instance_release(&got);
}

static void test_registry__touch_racing_processes_write_once(void **state)
{
    /* registry.h touch: "re-checked under the lock so that workers racing
     * on the same instance write once" */
    enum { WORKERS = 6 };
    struct roost_test_store *f = *state;
    int64_t t0 = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("hot"), t0 - 600);
    assert_roost_ok(roost_registry_put(f->st, &inst));
    roost_instance_release(&inst);
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(gate[1]);
            char c;
            if (read(gate[0], &c, 1) != 0)
                _exit(20);
            struct roost_store *st = NULL;
            if (roost_store_open(f->dir, &st) != ROOST_OK)
                _exit(21);
            int written = -1;
            enum roost_err err = roost_registry_touch(st, roost_slice_cstr("hot"), t0, &written);
            roost_store_close(st);
            _exit(err ? 30 : written);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int writers = 0;
    for (int w = 0; w < WORKERS; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) > 1)
            fail_msg("worker %d exited %d", w, WEXITSTATUS(status));
        writers += WEXITSTATUS(status);
    }
    assert_int_equal(writers, 1);
    assert_int_equal(stored_last_active(state, "hot"), t0);
}

static void test_registry__touch_workers_a_second_apart_write_once(void **state)
{
    /* registry.h touch: "re-checked under the lock so that workers racing
     * on the same instance write once". fcgi-app/dispatch.c reads the
     * clock before taking the lock, so of two workers racing across a
     * second boundary the one that read t0 may get the lock after the one
     * that read t0 + 1 and wrote it. That is the same minute, not a clock
     * that went backwards: it must not write (nor move last_active back). */
    int64_t t0 = roost_test_clock_now();
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr("skew"), t0 - 600);
    assert_roost_ok(roost_registry_put(roost_test_store(state), &inst));
    roost_instance_release(&inst);
    int written = -1;
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("skew"), t0 + 1, &written));
    assert_int_equal(written, 1);
    assert_roost_ok(roost_registry_touch(roost_test_store(state), roost_slice_cstr("skew"), t0, &written));
    assert_int_equal(written, 0);
    assert_int_equal(stored_last_active(state, "skew"), t0 + 1);
}

/* ---- list ------------------------------------------------------------------ */

struct listing {
    char ids[400][ROOST_INSTANCE_ID_MAX + 1];
    int status[400];
    size_t n;
    size_t stop_after;          /* 0: never; else return INTERNAL on that call */
};

static enum roost_err collect(void *arg, const struct roost_instance *inst)
{
    struct listing *l = arg;
    assert_true(l->n < 400);
    strcpy(l->ids[l->n], inst->id);
    l->status[l->n] = (int)inst->status;
    l->n++;
    if (l->stop_after && l->n == l->stop_after)
        return ROOST_ERR_INTERNAL;
    return ROOST_OK;
}

static enum roost_err list(void **state, int status, const char *after, size_t limit, struct listing *l,
                           int *more)
{
    l->n = 0;
    return roost_registry_list(roost_test_store(state), status, roost_slice_cstr(after), limit, collect, l,
                               more);
}

static void put_instance(void **state, const char *id, enum roost_instance_status status)
{
    struct roost_instance inst;
    roost_instance_init_defaults(&inst, roost_slice_cstr(id), 1735238400);
    inst.status = status;
    assert_roost_ok(roost_registry_put(roost_test_store(state), &inst));
    roost_instance_release(&inst);
}

static void test_registry__list_in_id_order(void **state)
{
    /* registry.h list: "One page of instances in id order" - byte order,
     * whatever order they were created in */
    static const char *const ids[] = { "b", "a", "_x", "Z", "a.b", "ab", "a-b", "0", "aa", "A", "-", "z" };
    static const char *const sorted[] = { "-", "0", "A", "Z", "_x", "a", "a-b", "a.b", "aa", "ab", "b", "z" };
    for (size_t i = 0; i < 12; i++)
        put_instance(state, ids[i], ROOST_INSTANCE_ACTIVE);
    struct listing *l = calloc(1, sizeof(*l));
    int more = -1;
    assert_roost_ok(list(state, -1, "", 100, l, &more));
    assert_int_equal(more, 0);
    assert_int_equal(l->n, 12);
    for (size_t i = 0; i < 12; i++)
        assert_string_equal(l->ids[i], sorted[i]);
    /* after = an id: strictly after it */
    assert_roost_ok(list(state, -1, "a", 100, l, &more));
    assert_int_equal(l->n, 6);
    assert_string_equal(l->ids[0], "a-b");
    /* after = not an id: from the next one up */
    assert_roost_ok(list(state, -1, "a0", 100, l, &more));
    assert_int_equal(l->n, 4);
    assert_string_equal(l->ids[0], "aa");
    assert_roost_ok(list(state, -1, "zz", 100, l, &more));
    assert_int_equal(l->n, 0);
    assert_int_equal(more, 0);
    /* an empty store lists nothing */
    free(l);
}

static void test_registry__list_pages_with_cursor(void **state)
{
    /* issue 5: "list instances (with filters by status and a cursor for
     * large lists)" - 250 instances, 100 a page: 100 + 100 + 50, "more" on
     * the first two, every instance exactly once, in order */
    for (int i = 0; i < 250; i++) {
        char id[32];
        snprintf(id, sizeof(id), "inst-%03d", (i * 97) % 250);      /* created out of order */
        put_instance(state, id, ROOST_INSTANCE_ACTIVE);
    }
    struct listing *l = calloc(1, sizeof(*l));
    char cursor[ROOST_INSTANCE_ID_MAX + 1] = "";
    static const size_t want_n[] = { 100, 100, 50 };
    static const int want_more[] = { 1, 1, 0 };
    int seen = 0;
    for (int page = 0; page < 3; page++) {
        int more = -1;
        assert_roost_ok(list(state, -1, cursor, 100, l, &more));
        assert_int_equal(l->n, want_n[page]);
        assert_int_equal(more, want_more[page]);
        for (size_t i = 0; i < l->n; i++) {
            char id[32];
            snprintf(id, sizeof(id), "inst-%03d", seen++);
            assert_string_equal(l->ids[i], id);
        }
        strcpy(cursor, l->ids[l->n - 1]);
    }
    assert_int_equal(seen, 250);
    /* a page that ends exactly at the last instance says no more */
    int more = -1;
    assert_roost_ok(list(state, -1, "inst-149", 100, l, &more));
    assert_int_equal(l->n, 100);
    assert_int_equal(more, 0);
    /* limit 0: nothing listed, but more says there is */
    assert_roost_ok(list(state, -1, "", 0, l, &more));
    assert_int_equal(l->n, 0);
    assert_int_equal(more, 1);
    free(l);
}

static void test_registry__list_status_filter(void **state)
{
    /* registry.h list: "of the given status (-1: any)" - with pages too */
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof(id), "s-%02d", i);
        put_instance(state, id, (enum roost_instance_status)(i % 5));
    }
    struct listing *l = calloc(1, sizeof(*l));
    int more = -1;
    for (int s = 0; s < 5; s++) {
        assert_roost_ok(list(state, s, "", 100, l, &more));
        assert_int_equal(l->n, 10);
        assert_int_equal(more, 0);
        for (size_t i = 0; i < l->n; i++) {
            assert_int_equal(l->status[i], s);
            char id[32];
            snprintf(id, sizeof(id), "s-%02d", (int)i * 5 + s);
            assert_string_equal(l->ids[i], id);
        }
    }
    /* paged: 4 + 4 + 2 paused ones */
    assert_roost_ok(list(state, ROOST_INSTANCE_PAUSED, "", 4, l, &more));
    assert_int_equal(l->n, 4);
    assert_int_equal(more, 1);
    assert_string_equal(l->ids[3], "s-17");
    assert_roost_ok(list(state, ROOST_INSTANCE_PAUSED, "s-17", 4, l, &more));
    assert_int_equal(l->n, 4);
    assert_int_equal(more, 1);
    assert_roost_ok(list(state, ROOST_INSTANCE_PAUSED, "s-37", 4, l, &more));
    assert_int_equal(l->n, 2);
    assert_int_equal(more, 0);
    /* exactly the last matching ones fill the page: no more, though other
     * instances (of other states) follow */
    assert_roost_ok(list(state, ROOST_INSTANCE_PAUSED, "s-37", 2, l, &more));
    assert_int_equal(l->n, 2);
    assert_int_equal(more, 0);
    assert_roost_ok(list(state, -1, "", 100, l, &more));
    assert_int_equal(l->n, 50);
    free(l);
}

static void test_registry__list_skips_unreadable_and_other_keys(void **state)
{
    /* registry.h list: unreadable records are left out (the rest is
     * listed); instance_config entries of the META area are not instances */
    put_instance(state, "a", ROOST_INSTANCE_ACTIVE);
    put_instance(state, "c", ROOST_INSTANCE_ACTIVE);
    struct roost_buf key = ROOST_BUF_INIT;
    roost_keyspace_instance_key(&key, roost_slice_cstr("b"));
    assert_roost_ok(meta_put(state, roost_buf_slice(&key), roost_slice_cstr("{broken")));
    roost_keyspace_config_key(&key, roost_slice_cstr("d"));
    assert_roost_ok(meta_put(state, roost_buf_slice(&key), roost_slice_cstr("{\"config\":1}")));
    roost_buf_release(&key);
    struct listing *l = calloc(1, sizeof(*l));
    int more = -1;
    assert_roost_ok(list(state, -1, "", 100, l, &more));
    assert_int_equal(l->n, 2);
    assert_string_equal(l->ids[0], "a");
    assert_string_equal(l->ids[1], "c");
    assert_int_equal(more, 0);
    /* and a page boundary next to it */
    assert_roost_ok(list(state, -1, "", 1, l, &more));
    assert_int_equal(l->n, 1);
    assert_int_equal(more, 1);
    assert_roost_ok(list(state, -1, "a", 1, l, &more));
    assert_int_equal(l->n, 1);
    assert_string_equal(l->ids[0], "c");
    assert_int_equal(more, 0);
    free(l);
}

static void test_registry__list_callback_error_stops(void **state)
{
    /* registry.h list: "Errors: store errors, or fn's." */
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof(id), "e%d", i);
        put_instance(state, id, ROOST_INSTANCE_ACTIVE);
    }
    struct listing *l = calloc(1, sizeof(*l));
    l->stop_after = 2;
    int more = -1;
    assert_roost_err(list(state, -1, "", 100, l, &more), ROOST_ERR_INTERNAL);
    assert_int_equal(l->n, 2);
    /* no lock is left held: the store is usable */
    put_instance(state, "after", ROOST_INSTANCE_ACTIVE);
    free(l);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_registry__resolve_creates_with_defaults),
        T(test_registry__second_resolve_finds_it),
        T(test_registry__resolve_created_may_be_null),
        T(test_registry__resolve_without_auto_create),
        T(test_registry__resolve_keeps_stored_state),
        T(test_registry__instances_are_separate),
        T(test_registry__concurrent_first_resolve_creates_once),
        T(test_registry__put_then_get),
        T(test_registry__put_replaces),
        T(test_registry__get_missing),
        T(test_registry__record_at_instance_key),
        T(test_registry__survives_reopen),
        T(test_registry__unreadable_record_is_corrupt),
        T(test_registry__create_with_defaults),
        T(test_registry__create_with_fields),
        T(test_registry__create_exists),
        T(test_registry__create_invalid_id),
        T(test_registry__create_missing_or_bad_id),
        T(test_registry__create_bad_fields_write_nothing),
        T(test_registry__create_every_state),
        T(test_registry__update_applies_and_stores),
        T(test_registry__update_errors_keep_record),
        T(test_registry__concurrent_updates_lose_nothing),
        T(test_registry__set_status_every_transition),
        T(test_registry__set_status_missing),
        T(test_registry__remove),
        T(test_registry__touch_throttle),
        T(test_registry__touch_fresh_record_not_written),
        T(test_registry__touch_missing_is_ok),
        T(test_registry__touch_clock_backwards),
        T(test_registry__touch_keeps_other_fields),
        T(test_registry__touch_racing_processes_write_once),
        T(test_registry__touch_workers_a_second_apart_write_once),
        T(test_registry__list_in_id_order),
        T(test_registry__list_pages_with_cursor),
        T(test_registry__list_status_filter),
        T(test_registry__list_skips_unreadable_and_other_keys),
        T(test_registry__list_callback_error_stops),
    };
#undef T
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
