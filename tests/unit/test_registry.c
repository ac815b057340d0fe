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
    };
#undef T
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
