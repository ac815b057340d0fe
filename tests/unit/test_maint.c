/*
 * test_maint.c - lib/maint.h: dump, load, check and compact on real stores
 * in temporary directories (roost_test_store_setup; a second store is made
 * where a test needs one to load into).
 *
 * Test organization
 *   group      what it checks                                    rule
 *   dump/load  round trip: values byte-identical (NULs, non-      issue 5 "dump ... binary values
 *              UTF-8, empty), content types, records (status,     encoded ... load ... restoring a
 *              owner, metadata), usage; a second dump equals      store exactly"
 *              the first; from a pipe-like FILE and from a file
 *   load       malformed input refused with its line number and   maint.h "a malformed dump writes
 *              nothing written; existing instances refused        nothing"; ROOST_MAINT_REPLACE
 *              without REPLACE, replaced exactly with it
 *   check      clean store; usage mismatch (wrong and missing     issue 5 "check (verify the store:
 *              record) found and repaired; orphan keys found,     every key belongs to a known
 *              removed only with REPAIR; unreadable record,       instance, usage figures match,
 *              value, unknown keys reported and never removed     records parse)"
 *   compact    every partition, values intact                     issue 5 "compact (reorganize)"
 *   printable  one-line rendering of ids and keys                 maint.h append_printable
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
#include "error.h"
#include "instance.h"
#include "json_util.h"
#include "keyspace.h"
#include "kv.h"
#include "maint.h"
#include "registry.h"
#include "store.h"
#include "testlib.h"

#define S(lit) roost_slice_make((lit), sizeof(lit) - 1)
#define NOW 1735238400

static int setup(void **state)
{
    return roost_test_store_setup(state, "maint");
}

static int teardown(void **state)
{
    return roost_test_store_teardown(state);
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

struct value_spec {
    const char *id;
    const char *key;
    const char *ct;
    const char *data;
    size_t len;
};

/* Values chosen to break anything that is not binary-safe. */
static const struct value_spec sample_values[] = {
    { "alpha", "nul", "application/octet-stream", "a\0b\0", 4 },
    { "alpha", "latin1", "text/plain; charset=latin1", "caf\xe9 \xff\xfe\x80", 8 },
    { "alpha", "empty", "text/plain", "", 0 },
    { "alpha", "dir/key \xc3\xbc", "application/json", "{\"a\":1}", 7 },
    { "beta", "k", "application/x-thing", "\x00\x01\x02\x7f\x80\xc0\xff\n\r\"\\", 11 },
};
#define SAMPLE_COUNT (sizeof(sample_values) / sizeof(sample_values[0]))

static void put_value(struct roost_store *st, const char *id, const char *key, const char *ct,
                      const char *data, size_t len)
{
    assert_roost_ok(roost_kv_put(st, roost_slice_cstr(id), roost_slice_cstr(key),
                                 roost_slice_cstr(ct), roost_slice_make(data, len), SIZE_MAX,
                                 NULL));
}

static void create_instance(struct roost_store *st, const char *json)
{
    struct json_object *fields = NULL;
    struct roost_instance inst;
    struct roost_buf detail = ROOST_BUF_INIT;
    roost_instance_init(&inst);
    assert_roost_ok(roost_json_parse(roost_slice_cstr(json), &fields, NULL));
    enum roost_err err = roost_registry_create(st, fields, NOW, &inst, &detail);
    if (err)
        fail_msg("create %s: %s (%s)", json, roost_err_name(err), detail.ptr);
    json_object_put(fields);
    roost_instance_release(&inst);
    roost_buf_release(&detail);
}

/* Two instances with non-default records and the sample values. */
static void fill_sample(struct roost_store *st)
{
    create_instance(st, "{\"id\":\"alpha\",\"status\":\"paused\",\"owner\":\"alice\","
                        "\"region\":\"eu-west\",\"metadata\":{\"tier\":\"gold\",\"x\":\"\"}}");
    create_instance(st, "{\"id\":\"beta\",\"game_type\":\"chess\",\"status\":\"migrating\"}");
    for (size_t i = 0; i < SAMPLE_COUNT; i++) {
        const struct value_spec *v = &sample_values[i];
        put_value(st, v->id, v->key, v->ct, v->data, v->len);
    }
    /* One more, big, every byte value many times. */
    char big[70000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7 + i / 256);
    put_value(st, "beta", "big", "application/octet-stream", big, sizeof(big));
}

static void expect_kv(struct roost_store *st, const char *id, const char *key, const char *ct,
                         const char *data, size_t len)
{
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    enum roost_err err = roost_kv_get(st, roost_slice_cstr(id), roost_slice_cstr(key), &v);
    if (err)
        fail_msg("get %s/%s: %s", id, key, roost_err_name(err));
    if (!roost_slice_eq_cstr(v.content_type, ct))
        fail_msg("get %s/%s: content type '%.*s', want '%s'", id, key, (int)v.content_type.len,
                 v.content_type.ptr, ct);
    assert_int_equal(v.data.len, len);
    if (len)
        assert_memory_equal(v.data.ptr, data, len);
    roost_kv_value_release(&v);
}

static void expect_same_record(struct roost_store *a, struct roost_store *b, const char *id)
{
    struct roost_instance ia, ib;
    struct roost_buf ja = ROOST_BUF_INIT, jb = ROOST_BUF_INIT;
    roost_instance_init(&ia);
    roost_instance_init(&ib);
    assert_roost_ok(roost_registry_get(a, roost_slice_cstr(id), &ia));
    assert_roost_ok(roost_registry_get(b, roost_slice_cstr(id), &ib));
    roost_instance_to_json(&ia, &ja);
    roost_instance_to_json(&ib, &jb);
    assert_string_equal(ja.ptr, jb.ptr);
    roost_instance_release(&ia);
    roost_instance_release(&ib);
    roost_buf_release(&ja);
    roost_buf_release(&jb);
}

static void expect_same_usage(struct roost_store *a, struct roost_store *b, const char *id)
{
    struct roost_instance_usage ua, ub;
    assert_roost_ok(roost_kv_usage(a, roost_slice_cstr(id), &ua));
    assert_roost_ok(roost_kv_usage(b, roost_slice_cstr(id), &ub));
    assert_int_equal(ua.keys, ub.keys);
    assert_int_equal(ua.bytes, ub.bytes);
}

/* A dump of st, in memory (caller frees). */
static char *dump_to_memory(struct roost_store *st, size_t *len,
                            struct roost_maint_dump_stats *ds)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_non_null(f);
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_maint_dump(st, f, NULL, NULL, ds, &detail);
    if (err)
        fail_msg("dump: %s (%s)", roost_err_name(err), detail.ptr);
    fclose(f);
    roost_buf_release(&detail);
    return text;
}

/* Loads text through a FILE with no descriptor (as a pipe: spooled). */
static enum roost_err load_from_memory(struct roost_store *st, const char *text, size_t len,
                                       int flags, struct roost_maint_load_stats *ls,
                                       struct roost_buf *detail)
{
    /* fmemopen of 0 bytes is refused on some libcs: give it the NUL. */
    FILE *f = fmemopen((void *)(len ? text : ""), len ? len : 1, "r");
    assert_non_null(f);
    if (!len)
        (void)fgetc(f);
    enum roost_err err = roost_maint_load(st, f, flags, ls, detail);
    fclose(f);
    return err;
}

struct second_store {
    char *dir;
    struct roost_store *st;
};

static struct roost_store *open_second(struct second_store *s)
{
    s->dir = roost_test_tmpdir("maint2");
    s->st = NULL;
    assert_roost_ok(roost_store_open(s->dir, &s->st));
    return s->st;
}

static void close_second(struct second_store *s)
{
    roost_store_close(s->st);
    roost_test_rmtree(s->dir);
    free(s->dir);
}

/* Problems seen by check, by kind. */
struct seen {
    size_t count[ROOST_MAINT_USAGE_MISMATCH + 1];
    size_t repaired;
    struct roost_maint_problem last[ROOST_MAINT_USAGE_MISMATCH + 1];
    char last_id[ROOST_MAINT_USAGE_MISMATCH + 1][80];
    struct roost_buf text;
};

static void collect(void *arg, const struct roost_maint_problem *p)
{
    struct seen *s = arg;
    assert_true((size_t)p->kind <= ROOST_MAINT_USAGE_MISMATCH);
    assert_non_null(p->text);
    assert_null(strchr(p->text, '\n'));
    s->count[p->kind]++;
    s->repaired += p->repaired != 0;
    s->last[p->kind] = *p;
    snprintf(s->last_id[p->kind], sizeof(s->last_id[p->kind]), "%.*s", (int)p->instance_id.len,
             p->instance_id.ptr ? p->instance_id.ptr : "");
    s->last[p->kind].text = NULL;
    s->last[p->kind].instance_id = ROOST_SLICE_NULL;
    roost_buf_append_str(&s->text, p->text);
    roost_buf_append_char(&s->text, '\n');
}

static void run_check(struct roost_store *st, int flags, struct seen *s,
                      struct roost_maint_check_stats *cs)
{
    roost_buf_release(&s->text);
    memset(s, 0, sizeof(*s));
    roost_buf_init(&s->text);
    assert_roost_ok(roost_maint_check(st, flags, collect, s, cs));
    assert_int_equal(cs->problems, s->count[0] + s->count[1] + s->count[2] + s->count[3]
                                       + s->count[4] + s->count[5] + s->count[6]);
    assert_int_equal(cs->repaired, s->repaired);
}

static void expect_clean(struct roost_store *st)
{
    struct seen s;
    struct roost_maint_check_stats cs;
    memset(&s, 0, sizeof(s));
    roost_buf_init(&s.text);
    run_check(st, 0, &s, &cs);
    if (cs.problems)
        fail_msg("check found %zu problems:\n%s", cs.problems, s.text.ptr);
    roost_buf_release(&s.text);
}

/* Raw writes, to craft damage the library would never make. */
static void raw_put(struct roost_store *st, enum roost_store_area area, const char *id,
                    struct roost_slice key, struct roost_slice value)
{
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(st, area, roost_slice_cstr(id), &sc));
    enum roost_err err = roost_store_put(&sc, key, value, 0, NULL);
    roost_store_end(&sc);
    assert_roost_ok(err);
}

static void raw_delete(struct roost_store *st, const char *id, struct roost_slice key)
{
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(st, ROOST_STORE_DATA, roost_slice_cstr(id), &sc));
    enum roost_err err = roost_store_delete(&sc, key);
    roost_store_end(&sc);
    assert_roost_ok(err);
}

static int raw_exists(struct roost_store *st, const char *id, struct roost_slice key)
{
    struct roost_store_scope sc;
    int exists = -1;
    assert_roost_ok(roost_store_begin(st, ROOST_STORE_DATA, roost_slice_cstr(id), &sc));
    enum roost_err err = roost_store_exists(&sc, key, &exists);
    roost_store_end(&sc);
    assert_roost_ok(err);
    return exists;
}

static void set_raw_usage(struct roost_store *st, const char *id, int64_t keys, int64_t bytes)
{
    struct roost_instance_usage u = { keys, bytes };
    unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
    struct roost_buf ukey = ROOST_BUF_INIT;
    roost_instance_usage_encode(&u, enc);
    roost_keyspace_usage_key(&ukey, roost_slice_cstr(id));
    raw_put(st, ROOST_STORE_DATA, id, roost_buf_slice(&ukey),
            roost_slice_make((const char *)enc, sizeof(enc)));
    roost_buf_release(&ukey);
}

/* A value in kv.h's on-disk layout: version 1, content-type length, type, data. */
static void raw_value(struct roost_buf *out, const char *ct, const char *data, size_t len)
{
    roost_buf_reset(out);
    roost_buf_append_char(out, 1);
    roost_buf_append_char(out, (char)strlen(ct));
    roost_buf_append_str(out, ct);
    roost_buf_append(out, data, len);
}

static size_t count_instances(struct roost_store *st)
{
    size_t n = 0;
    struct roost_maint_check_stats cs;
    assert_roost_ok(roost_maint_check(st, 0, NULL, NULL, &cs));
    n = cs.instances;
    return n;
}

/* ------------------------------------------------------------------ */
/* dump / load                                                         */

/* EVIDENCE: issue 5 "dump (whole store to JSON lines on stdout, binary
 * values encoded) and load (from that format, restoring a store exactly)". */
static void test_maint__round_trip_is_exact(void **state)
{
    struct roost_store *a = roost_test_store(state);
    fill_sample(a);

    size_t len = 0;
    struct roost_maint_dump_stats ds;
    char *text = dump_to_memory(a, &len, &ds);
    assert_int_equal(ds.instances, 2);
    assert_int_equal(ds.values, SAMPLE_COUNT + 1);
    assert_int_equal(ds.skipped, 0);
    const char *header = "{\"type\":\"roost-dump\",\"version\":1}\n";
    assert_true(len > strlen(header));
    assert_memory_equal(text, header, strlen(header));

    /* Every line is one JSON object of a known type. */
    size_t lines = 0;
    for (char *p = text, *nl; (nl = memchr(p, '\n', (size_t)(text + len - p))); p = nl + 1) {
        struct json_object *o = NULL;
        assert_roost_ok(roost_json_parse(roost_slice_make(p, (size_t)(nl - p)), &o, NULL));
        assert_true(json_object_is_type(o, json_type_object));
        json_object_put(o);
        lines++;
    }
    assert_int_equal(lines, 1 + 2 + SAMPLE_COUNT + 1);

    struct second_store s2;
    struct roost_store *b = open_second(&s2);
    struct roost_maint_load_stats ls;
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = load_from_memory(b, text, len, 0, &ls, &detail);
    if (err)
        fail_msg("load: %s (%s)", roost_err_name(err), detail.ptr);
    assert_int_equal(ls.instances, 2);
    assert_int_equal(ls.values, SAMPLE_COUNT + 1);
    assert_int_equal(ls.replaced, 0);

    for (size_t i = 0; i < SAMPLE_COUNT; i++) {
        const struct value_spec *v = &sample_values[i];
        expect_kv(b, v->id, v->key, v->ct, v->data, v->len);
    }
    struct roost_kv_value big = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    assert_roost_ok(roost_kv_get(a, S("beta"), S("big"), &big));
    expect_kv(b, "beta", "big", "application/octet-stream", big.data.ptr, big.data.len);
    roost_kv_value_release(&big);

    expect_same_record(a, b, "alpha");
    expect_same_record(a, b, "beta");
    expect_same_usage(a, b, "alpha");
    expect_same_usage(a, b, "beta");
    expect_clean(b);

    /* The strongest form of "exactly": dumping the copy gives the same bytes. */
    size_t len2 = 0;
    char *text2 = dump_to_memory(b, &len2, &ds);
    assert_int_equal(len2, len);
    assert_memory_equal(text2, text, len);

    free(text);
    free(text2);
    roost_buf_release(&detail);
    close_second(&s2);
}

/* Loading from a regular file takes the seekable path (no spooling). */
static void test_maint__load_from_file(void **state)
{
    struct roost_store *a = roost_test_store(state);
    fill_sample(a);
    size_t len = 0;
    struct roost_maint_dump_stats ds;
    char *text = dump_to_memory(a, &len, &ds);

    struct second_store s2;
    struct roost_store *b = open_second(&s2);
    struct roost_buf path = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/dump.jsonl", s2.dir);
    FILE *f = fopen(path.ptr, "w+");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    rewind(f);
    struct roost_maint_load_stats ls;
    assert_roost_ok(roost_maint_load(b, f, 0, &ls, NULL));
    fclose(f);
    assert_int_equal(ls.values, SAMPLE_COUNT + 1);
    expect_kv(b, "alpha", "nul", "application/octet-stream", "a\0b\0", 4);
    expect_same_record(a, b, "alpha");
    free(text);
    roost_buf_release(&path);
    close_second(&s2);
}

/* EVIDENCE: issue 5 part 5 "load ... refuse malformed lines with the line
 * number"; maint.h "a malformed dump writes nothing". */
static void test_maint__load_rejects_malformed(void **state)
{
    struct roost_store *st = roost_test_store(state);
#define HDR "{\"type\":\"roost-dump\",\"version\":1}\n"
#define GOOD "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k\",\"content_type\":\"text/plain\",\"value_base64\":\"aGk=\"}\n"
#define REC "{\"type\":\"instance\",\"record\":{\"version\":1,\"id\":\"x\",\"status\":\"active\"}}\n"
    static const struct {
        const char *input;
        const char *want;     /* start of the detail */
    } cases[] = {
        { "", "line 1:" },
        { "not json\n", "line 1:" },
        { "{\"type\":\"roost-dump\",\"version\":2}\n", "line 1: dump version 2" },
        { "{\"type\":\"value\"}\n", "line 1: not a roost dump" },
        { HDR GOOD "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k2\",\"content_type\":"
              "\"text/plain\",\"value_base64\":\"@@@@\"}\n", "line 3:" },
        { HDR REC GOOD "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"a\\u0001b\","
              "\"content_type\":\"text/plain\",\"value_base64\":\"\"}\n", "line 4:" },
        { HDR GOOD "{\"type\":\"value\",\"instance_id\":\"a b\",\"key\":\"k\","
              "\"content_type\":\"text/plain\",\"value_base64\":\"\"}\n", "line 3:" },
        { HDR "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k\",\"content_type\":"
              "\"text/plain\",\"value_base64\":\"\",\"extra\":1}\n", "line 2: unknown member" },
        { HDR "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k\",\"content_type\":"
              "\"text/plain\"}\n", "line 2: member \"value_base64\" is missing" },
        { HDR "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k\",\"content_type\":"
              "\"text/\\u0007\",\"value_base64\":\"\"}\n", "line 2:" },
        { HDR REC REC, "line 3: a second record" },
        { HDR "{\"type\":\"instance\",\"record\":{\"id\":\"x\",\"status\":\"bogus\"}}\n", "line 2:" },
        { HDR "{\"type\":\"instance\",\"record\":{\"id\":\"\"}}\n", "line 2:" },
        { HDR "{\"type\":\"snapshot\"}\n", "line 2: unknown \"type\"" },
        { HDR HDR, "line 2: a second header" },
        { HDR "\n" GOOD "[1,2]\n", "line 4: not a JSON object" },
        { HDR GOOD "{\"type\":\"value\"", "line 3: not JSON" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct roost_buf detail = ROOST_BUF_INIT;
        struct roost_maint_load_stats ls;
        enum roost_err err = load_from_memory(st, cases[i].input, strlen(cases[i].input), 0, &ls,
                                              &detail);
        if (err != ROOST_ERR_INVALID_REQUEST)
            fail_msg("case %zu: %s, want INVALID_REQUEST (%s)", i, roost_err_name(err),
                     detail.ptr);
        if (strncmp(detail.ptr, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: detail '%s', want it to start with '%s'", i, detail.ptr,
                     cases[i].want);
        assert_int_equal(ls.instances, 0);
        assert_int_equal(ls.values, 0);
        roost_buf_release(&detail);
    }
    /* Nothing of any of them reached the store. */
    struct roost_instance_usage u;
    assert_roost_ok(roost_kv_usage(st, S("x"), &u));
    assert_int_equal(u.keys, 0);
    assert_int_equal(count_instances(st), 0);
    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_err(roost_registry_get(st, S("x"), &inst), ROOST_ERR_INSTANCE_NOT_FOUND);
    roost_instance_release(&inst);
#undef HDR
#undef GOOD
#undef REC
}

/* Blank lines are ignored, CRLF endings accepted, values need no record. */
static void test_maint__load_tolerates_blank_lines_and_crlf(void **state)
{
    struct roost_store *st = roost_test_store(state);
    const char *in = "\n{\"type\":\"roost-dump\",\"version\":1}\r\n\r\n"
                     "{\"type\":\"value\",\"instance_id\":\"x\",\"key\":\"k\","
                     "\"content_type\":\"text/plain\",\"value_base64\":\"AGI=\"}\r\n\n";
    struct roost_maint_load_stats ls;
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = load_from_memory(st, in, strlen(in), 0, &ls, &detail);
    if (err)
        fail_msg("load: %s (%s)", roost_err_name(err), detail.ptr);
    assert_int_equal(ls.values, 1);
    assert_int_equal(ls.lines, 5);
    expect_kv(st, "x", "k", "text/plain", "\0b", 2);
    roost_buf_release(&detail);
}

/* maint.h ROOST_MAINT_REPLACE: without it an existing instance is refused
 * and nothing changes; with it the instance ends up exactly as dumped. */
static void test_maint__load_existing_instances(void **state)
{
    struct roost_store *st = roost_test_store(state);
    create_instance(st, "{\"id\":\"alpha\",\"owner\":\"old\"}");
    put_value(st, "alpha", "k1", "text/plain", "old", 3);
    put_value(st, "alpha", "k2", "text/plain", "gone soon", 9);
    create_instance(st, "{\"id\":\"other\"}");
    put_value(st, "other", "o", "text/plain", "untouched", 9);

    const char *in =
        "{\"type\":\"roost-dump\",\"version\":1}\n"
        "{\"type\":\"instance\",\"record\":{\"version\":1,\"id\":\"alpha\",\"status\":\"paused\","
        "\"owner\":\"new\",\"created_at\":5,\"last_active\":6}}\n"
        "{\"type\":\"value\",\"instance_id\":\"alpha\",\"key\":\"k1\","
        "\"content_type\":\"application/x-new\",\"value_base64\":\"bmV3\"}\n";
    struct roost_maint_load_stats ls;
    struct roost_buf detail = ROOST_BUF_INIT;
    assert_roost_err(load_from_memory(st, in, strlen(in), 0, &ls, &detail),
                     ROOST_ERR_INSTANCE_EXISTS);
    assert_non_null(strstr(detail.ptr, "'alpha'"));
    expect_kv(st, "alpha", "k1", "text/plain", "old", 3);
    expect_kv(st, "alpha", "k2", "text/plain", "gone soon", 9);

    roost_buf_reset(&detail);
    enum roost_err err = load_from_memory(st, in, strlen(in), ROOST_MAINT_REPLACE, &ls, &detail);
    if (err)
        fail_msg("load --replace: %s (%s)", roost_err_name(err), detail.ptr);
    assert_int_equal(ls.replaced, 1);
    expect_kv(st, "alpha", "k1", "application/x-new", "new", 3);
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    assert_roost_err(roost_kv_get(st, S("alpha"), S("k2"), &v), ROOST_ERR_KEY_NOT_FOUND);
    roost_kv_value_release(&v);
    expect_kv(st, "other", "o", "text/plain", "untouched", 9);

    struct roost_instance inst;
    roost_instance_init(&inst);
    assert_roost_ok(roost_registry_get(st, S("alpha"), &inst));
    assert_int_equal(inst.status, ROOST_INSTANCE_PAUSED);
    assert_string_equal(inst.owner.ptr, "new");
    assert_int_equal(inst.created_at, 5);
    assert_int_equal(inst.last_active, 6);
    roost_instance_release(&inst);

    struct roost_instance_usage u;
    assert_roost_ok(roost_kv_usage(st, S("alpha"), &u));
    assert_int_equal(u.keys, 1);
    assert_int_equal(u.bytes, 2 + 3);
    expect_clean(st);
    roost_buf_release(&detail);
}

/* ------------------------------------------------------------------ */
/* check                                                               */

static void test_maint__check_clean_store(void **state)
{
    struct roost_store *st = roost_test_store(state);
    fill_sample(st);
    put_value(st, "alpha", "nul", "text/plain", "replaced", 8);
    assert_roost_ok(roost_kv_delete(st, S("alpha"), S("empty")));
    struct seen s;
    struct roost_maint_check_stats cs;
    memset(&s, 0, sizeof(s));
    run_check(st, 0, &s, &cs);
    if (cs.problems)
        fail_msg("problems:\n%s", s.text.ptr);
    assert_int_equal(cs.instances, 2);
    assert_int_equal(cs.keys, SAMPLE_COUNT);  /* + big - empty */
    roost_buf_release(&s.text);
}

/* EVIDENCE: issue 5 "check (... usage figures match ...)"; part 5 spec
 * "check --repair recomputes usage figures". */
static void test_maint__check_finds_and_repairs_usage(void **state)
{
    struct roost_store *st = roost_test_store(state);
    create_instance(st, "{\"id\":\"alpha\"}");
    create_instance(st, "{\"id\":\"beta\"}");
    put_value(st, "alpha", "a", "text/plain", "12345", 5);
    put_value(st, "alpha", "bb", "text/plain", "", 0);
    put_value(st, "alpha", "ccc", "text/plain", "\0\0", 2);
    put_value(st, "beta", "k", "text/plain", "v", 1);
    struct roost_instance_usage truth;
    assert_roost_ok(roost_kv_usage(st, S("alpha"), &truth));
    assert_int_equal(truth.keys, 3);
    assert_int_equal(truth.bytes, (1 + 5) + (2 + 0) + (3 + 2));

    set_raw_usage(st, "alpha", 99, 12345);
    /* beta: the record is gone altogether. */
    struct roost_buf ukey = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, S("beta"));
    raw_delete(st, "beta", roost_buf_slice(&ukey));

    struct seen s;
    struct roost_maint_check_stats cs;
    memset(&s, 0, sizeof(s));
    run_check(st, 0, &s, &cs);
    assert_int_equal(cs.problems, 2);
    assert_int_equal(s.count[ROOST_MAINT_USAGE_MISMATCH], 2);
    assert_int_equal(cs.repaired, 0);
    assert_non_null(strstr(s.text.ptr, "'alpha'"));
    assert_non_null(strstr(s.text.ptr, "99 keys, 12345 bytes"));
    assert_non_null(strstr(s.text.ptr, "'beta'"));
    /* Without --repair nothing changed. */
    struct roost_instance_usage u;
    assert_roost_ok(roost_kv_usage(st, S("alpha"), &u));
    assert_int_equal(u.keys, 99);

    run_check(st, ROOST_MAINT_REPAIR, &s, &cs);
    assert_int_equal(cs.problems, 2);
    assert_int_equal(cs.repaired, 2);
    assert_non_null(strstr(s.text.ptr, "(repaired)"));
    assert_roost_ok(roost_kv_usage(st, S("alpha"), &u));
    assert_int_equal(u.keys, truth.keys);
    assert_int_equal(u.bytes, truth.bytes);
    assert_roost_ok(roost_kv_usage(st, S("beta"), &u));
    assert_int_equal(u.keys, 1);
    assert_int_equal(u.bytes, 2);
    expect_clean(st);

    /* And kv goes on counting from the repaired figures. */
    assert_roost_ok(roost_kv_delete(st, S("alpha"), S("a")));
    expect_clean(st);

    /* An unreadable usage record is reported and rewritten. */
    roost_keyspace_usage_key(&ukey, S("alpha"));
    raw_put(st, ROOST_STORE_DATA, "alpha", roost_buf_slice(&ukey), S("junk"));
    run_check(st, ROOST_MAINT_REPAIR, &s, &cs);
    assert_true(s.count[ROOST_MAINT_BAD_USAGE] >= 1);
    assert_int_equal(cs.problems, cs.repaired);
    expect_clean(st);

    roost_buf_release(&ukey);
    roost_buf_release(&s.text);
}

/* EVIDENCE: issue 5 "every key belongs to a known instance"; part 5 spec
 * "reports orphans, which it removes only with --repair". */
static void test_maint__check_finds_and_removes_orphans(void **state)
{
    struct roost_store *st = roost_test_store(state);
    create_instance(st, "{\"id\":\"alpha\"}");
    put_value(st, "alpha", "mine", "text/plain", "keep", 4);

    /* "ghost" has keys and a usage record but no instance record. */
    struct roost_buf key = ROOST_BUF_INIT, val = ROOST_BUF_INIT, ukey = ROOST_BUF_INIT;
    raw_value(&val, "text/plain", "boo", 3);
    roost_keyspace_data_key(&key, S("ghost"), S("k1"));
    raw_put(st, ROOST_STORE_DATA, "ghost", roost_buf_slice(&key), roost_buf_slice(&val));
    roost_keyspace_data_key(&key, S("ghost"), S("k22"));
    raw_put(st, ROOST_STORE_DATA, "ghost", roost_buf_slice(&key), roost_buf_slice(&val));
    set_raw_usage(st, "ghost", 2, 11);
    /* "shade": a usage record alone. */
    set_raw_usage(st, "shade", 1, 1);

    struct seen s;
    struct roost_maint_check_stats cs;
    memset(&s, 0, sizeof(s));
    run_check(st, 0, &s, &cs);
    assert_int_equal(s.count[ROOST_MAINT_ORPHAN_KEYS], 2);
    assert_int_equal(cs.problems, 2);
    assert_int_equal(cs.repaired, 0);
    assert_non_null(strstr(s.text.ptr, "instance 'ghost' has no record but 2 keys (11 bytes)"));
    assert_non_null(strstr(s.text.ptr, "'shade'"));
    assert_int_equal(raw_exists(st, "ghost", roost_buf_slice(&key)), 1);

    run_check(st, ROOST_MAINT_REPAIR, &s, &cs);
    assert_int_equal(s.count[ROOST_MAINT_ORPHAN_KEYS], 2);
    assert_int_equal(cs.repaired, 2);
    assert_non_null(strstr(s.text.ptr, "(removed)"));
    assert_int_equal(raw_exists(st, "ghost", roost_buf_slice(&key)), 0);
    roost_keyspace_data_key(&key, S("ghost"), S("k1"));
    assert_int_equal(raw_exists(st, "ghost", roost_buf_slice(&key)), 0);
    roost_keyspace_usage_key(&ukey, S("ghost"));
    assert_int_equal(raw_exists(st, "ghost", roost_buf_slice(&ukey)), 0);
    roost_keyspace_usage_key(&ukey, S("shade"));
    assert_int_equal(raw_exists(st, "shade", roost_buf_slice(&ukey)), 0);
    expect_kv(st, "alpha", "mine", "text/plain", "keep", 4);
    expect_clean(st);

    roost_buf_release(&key);
    roost_buf_release(&val);
    roost_buf_release(&ukey);
    roost_buf_release(&s.text);
}

/* An orphan with more keys than one atomic write takes. */
static void test_maint__repair_removes_large_orphan(void **state)
{
    struct roost_store *st = roost_test_store(state);
    struct roost_buf key = ROOST_BUF_INIT, val = ROOST_BUF_INIT;
    raw_value(&val, "text/plain", "x", 1);
    const int n = ROOST_STORE_APPLY_MAX + 37;
    char name[32];
    struct roost_store_scope sc;
    assert_roost_ok(roost_store_begin(st, ROOST_STORE_DATA, S("ghost"), &sc));
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "key-%05d", i);
        roost_keyspace_data_key(&key, S("ghost"), roost_slice_cstr(name));
        assert_roost_ok(roost_store_put(&sc, roost_buf_slice(&key), roost_buf_slice(&val), 0, NULL));
    }
    roost_store_end(&sc);

    struct seen s;
    struct roost_maint_check_stats cs;
    memset(&s, 0, sizeof(s));
    run_check(st, ROOST_MAINT_REPAIR, &s, &cs);
    assert_int_equal(cs.problems, 1);
    assert_int_equal(cs.repaired, 1);
    assert_int_equal(s.last[ROOST_MAINT_ORPHAN_KEYS].counted.keys, n);
    expect_clean(st);
    roost_buf_release(&key);
    roost_buf_release(&val);
    roost_buf_release(&s.text);
}

/* Unreadable records and values, unknown keys: reported, never removed;
 * dump leaves them out and says so. */
static void test_maint__check_reports_damage(void **state)
{
    struct roost_store *st = roost_test_store(state);
    create_instance(st, "{\"id\":\"alpha\"}");
    put_value(st, "alpha", "good", "text/plain", "ok", 2);

    struct roost_buf key = ROOST_BUF_INIT;
    roost_keyspace_instance_key(&key, S("broken"));
    raw_put(st, ROOST_STORE_META, "broken", roost_buf_slice(&key), S("{not json"));
    roost_keyspace_instance_key(&key, S("liar"));
    raw_put(st, ROOST_STORE_META, "liar", roost_buf_slice(&key),
            S("{\"version\":1,\"id\":\"someone-else\"}"));
    raw_put(st, ROOST_STORE_META, "x", S("zzz-unknown"), S("1"));
    /* A value not in kv's layout, counted in the usage as kv would. */
    roost_keyspace_data_key(&key, S("alpha"), S("bad"));
    raw_put(st, ROOST_STORE_DATA, "alpha", roost_buf_slice(&key), S("\x09garbage"));
    set_raw_usage(st, "alpha", 2, (4 + 2) + (3 + 8));
    /* A data key of an unknown tag in alpha's partition. */
    raw_put(st, ROOST_STORE_DATA, "alpha", S("\x07whatever"), S("1"));
    /* Keys of the unreadable record's instance are not orphans. */
    char raw[16];
    raw[0] = 1;
    raw[1] = 0;
    roost_keyspace_data_key(&key, S("broken"), S("k"));
    raw_put(st, ROOST_STORE_DATA, "broken", roost_buf_slice(&key), roost_slice_make(raw, 2));
    set_raw_usage(st, "broken", 1, 1);

    for (int repair = 0; repair <= 1; repair++) {
        struct seen s;
        struct roost_maint_check_stats cs;
        memset(&s, 0, sizeof(s));
        run_check(st, repair ? ROOST_MAINT_REPAIR : 0, &s, &cs);
        assert_int_equal(s.count[ROOST_MAINT_BAD_RECORD], 2);
        assert_int_equal(s.count[ROOST_MAINT_BAD_META_KEY], 1);
        assert_int_equal(s.count[ROOST_MAINT_BAD_DATA_KEY], 1);
        assert_int_equal(s.count[ROOST_MAINT_BAD_VALUE], 1);
        assert_int_equal(s.count[ROOST_MAINT_ORPHAN_KEYS], 0);
        assert_int_equal(s.count[ROOST_MAINT_USAGE_MISMATCH], 0);
        assert_int_equal(cs.problems, 5);
        assert_int_equal(cs.repaired, 0);
        assert_non_null(strstr(s.text.ptr, "instance record 'broken' is unreadable"));
        assert_non_null(strstr(s.text.ptr, "names another instance, 'someone-else'"));
        assert_non_null(strstr(s.text.ptr, "value of key 'bad' in instance 'alpha' is unreadable"));
        assert_non_null(strstr(s.text.ptr, "'\\x07whatever'"));
        roost_buf_release(&s.text);
    }
    assert_int_equal(raw_exists(st, "broken", roost_buf_slice(&key)), 1);

    struct roost_maint_dump_stats ds;
    size_t len = 0;
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    struct seen s;
    memset(&s, 0, sizeof(s));
    assert_roost_ok(roost_maint_dump(st, f, collect, &s, &ds, NULL));
    fclose(f);
    assert_int_equal(ds.instances, 1);       /* alpha */
    assert_int_equal(ds.values, 2);          /* alpha/good, broken/k */
    assert_int_equal(ds.skipped, 3);         /* broken, liar, alpha/bad */
    assert_int_equal(s.count[ROOST_MAINT_BAD_RECORD], 2);
    assert_int_equal(s.count[ROOST_MAINT_BAD_VALUE], 1);
    free(text);
    roost_buf_release(&s.text);
    roost_buf_release(&key);
}

/* ------------------------------------------------------------------ */
/* compact                                                             */

struct compact_seen {
    int calls;
    int named;
};

static void on_compact(void *arg, const struct roost_store_part_stats *before,
                       const struct roost_store_part_stats *after, double ms)
{
    struct compact_seen *cs = arg;
    (void)before;
    assert_true(ms >= 0);
    cs->calls++;
    cs->named += after->name[0] != '\0';
}

static void test_maint__compact_every_partition(void **state)
{
    struct roost_store *st = roost_test_store(state);
    fill_sample(st);
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "tmp-%d", i);
        put_value(st, "beta", name, "text/plain", "0123456789abcdef0123456789abcdef", 32);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "tmp-%d", i);
        assert_roost_ok(roost_kv_delete(st, S("beta"), roost_slice_cstr(name)));
    }
    struct compact_seen cs = { 0, 0 };
    assert_roost_ok(roost_maint_compact(st, on_compact, &cs));
    int parts = roost_store_part_count(st, ROOST_STORE_META) + roost_store_part_count(st, ROOST_STORE_DATA);
    assert_int_equal(cs.calls, parts);
    assert_int_equal(cs.named, parts);
    for (size_t i = 0; i < SAMPLE_COUNT; i++) {
        const struct value_spec *v = &sample_values[i];
        expect_kv(st, v->id, v->key, v->ct, v->data, v->len);
    }
    expect_clean(st);
    /* And writes after it land in the new files. */
    put_value(st, "alpha", "after", "text/plain", "yes", 3);
    expect_kv(st, "alpha", "after", "text/plain", "yes", 3);
}

/* ------------------------------------------------------------------ */
/* printable                                                           */

static void test_maint__append_printable(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        { "plain", 5, "plain" },
        { "caf\xc3\xa9", 5, "caf\xc3\xa9" },
        { "a\nb", 3, "a\\x0Ab" },
        { "\xff", 1, "\\xFF" },
        { "a\\b\x01", 4, "a\\x5Cb\\x01" },
        { "\x1b[2J", 4, "\\x1B[2J" },
        { "", 0, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct roost_buf b = ROOST_BUF_INIT;
        roost_maint_append_printable(&b, roost_slice_make(cases[i].in, cases[i].len));
        assert_string_equal(b.ptr, cases[i].out);
        roost_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_maint__round_trip_is_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__load_from_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__load_rejects_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__load_tolerates_blank_lines_and_crlf, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maint__load_existing_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__check_clean_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__check_finds_and_repairs_usage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maint__check_finds_and_removes_orphans, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maint__repair_removes_large_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__check_reports_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maint__compact_every_partition, setup, teardown),
        cmocka_unit_test(test_maint__append_printable),
    };
    return cmocka_run_group_tests_name("maint", tests, NULL, NULL);
}
