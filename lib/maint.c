/*
 * maint.c - dump, load, check and compact a whole store (maint.h).
 *
 * Lock discipline (store.h): META first, then at most one DATA partition;
 * no scope is held while a caller's function runs or output is written,
 * so a slow terminal or pipe never stalls the workers. Iteration callbacks
 * only copy what they need into memory; decisions and writes come after.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "encoding.h"
#include "hash.h"
#include "json_util.h"
#include "keyspace.h"
#include "kv.h"
#include "limits.h"
#include "log.h"
#include "maint.h"
#include "registry.h"

/* Keys per atomic write when orphans are removed: the store's own bound. */
#define ORPHAN_BATCH ROOST_STORE_APPLY_MAX

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

void roost_maint_append_printable(struct roost_buf *out, struct roost_slice s)
{
    if (roost_utf8_valid(s.ptr, s.len) && !roost_has_control(s.ptr, s.len)) {
        roost_buf_append_slice(out, s);
        return;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c >= 0x20 && c < 0x7F && c != '\\')
            roost_buf_append_char(out, (char)c);
        else
            roost_buf_appendf(out, "\\x%02X", c);
    }
}

/* instance.h: "bytes = key bytes + value bytes" (the client's key and
 * value, not the store's encodings of them). */
static int64_t usage_bytes(struct roost_slice key, struct roost_slice data)
{
    return (int64_t)key.len + (int64_t)data.len;
}

/* "s" unless n is 1: messages are read by people. */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static int usage_eq(const struct roost_instance_usage *a, const struct roost_instance_usage *b)
{
    return a->keys == b->keys && a->bytes == b->bytes;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* A list of byte-string pairs in one arena (ids and keys, ids and raw   */
/* records), sortable by (a, b).                                         */

struct pair {
    size_t a_off, a_len, b_off, b_len;
    const char *base;   /* the arena, set by pairs_sort for the comparator */
};

struct pair_list {
    struct roost_buf arena;
    struct pair *items;
    size_t n, alloc;
};

#define PAIR_LIST_INIT { ROOST_BUF_INIT, NULL, 0, 0 }

static void pairs_add(struct pair_list *l, struct roost_slice a, struct roost_slice b)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->items = roost_xrealloc(l->items, l->alloc * sizeof(*l->items));
    }
    struct pair *p = &l->items[l->n++];
    p->a_off = l->arena.len;
    p->a_len = a.len;
    roost_buf_append_slice(&l->arena, a);
    p->b_off = l->arena.len;
    p->b_len = b.len;
    roost_buf_append_slice(&l->arena, b);
}

static struct roost_slice pair_a(const struct pair_list *l, size_t i)
{
    return roost_slice_make(l->arena.ptr + l->items[i].a_off, l->items[i].a_len);
}

static struct roost_slice pair_b(const struct pair_list *l, size_t i)
{
    return roost_slice_make(l->arena.ptr + l->items[i].b_off, l->items[i].b_len);
}

static int slice_cmp(struct roost_slice x, struct roost_slice y)
{
    size_t n = x.len < y.len ? x.len : y.len;
    int c = n ? memcmp(x.ptr, y.ptr, n) : 0;
    if (c)
        return c;
    return x.len < y.len ? -1 : x.len > y.len;
}

static int pair_cmp(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    int c = slice_cmp(roost_slice_make(p->base + p->a_off, p->a_len),
                      roost_slice_make(q->base + q->a_off, q->a_len));
    if (c)
        return c;
    return slice_cmp(roost_slice_make(p->base + p->b_off, p->b_len),
                     roost_slice_make(q->base + q->b_off, q->b_len));
}

/* The arena no longer grows once sorting starts, so its address can ride
 * along in each item (qsort has no context argument). */
static void pairs_sort(struct pair_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->items[i].base = l->arena.ptr;
    if (l->n > 1)
        qsort(l->items, l->n, sizeof(*l->items), pair_cmp);
}

static void pairs_release(struct pair_list *l)
{
    roost_buf_release(&l->arena);
    free(l->items);
    l->items = NULL;
    l->n = l->alloc = 0;
}

/* ------------------------------------------------------------------ */
/* Instance ids seen, with what check learns about each                 */

enum record_state { REC_NONE = 0, REC_OK, REC_UNREADABLE };

struct id_entry {
    char id[ROOST_INSTANCE_ID_MAX + 1];
    size_t len;
    enum record_state record;
    int part;                          /* DATA partition; -1: none seen */
    int has_usage, bad_usage;
    struct roost_instance_usage stored, counted;
};

struct id_map {
    struct id_entry *entries;
    size_t n, alloc;
    size_t *slots;        /* index + 1; 0 empty */
    size_t nslots;        /* power of two, kept at most half full */
};

#define ID_MAP_INIT { NULL, 0, 0, NULL, 0 }

static size_t slot_of(const struct id_map *m, struct roost_slice id)
{
    size_t mask = m->nslots - 1;
    size_t i = (size_t)roost_fnv1a64(id.ptr, id.len) & mask;
    while (m->slots[i]) {
        const struct id_entry *e = &m->entries[m->slots[i] - 1];
        if (roost_slice_eq(roost_slice_make(e->id, e->len), id))
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static struct id_entry *id_find(const struct id_map *m, struct roost_slice id)
{
    if (!m->nslots)
        return NULL;
    size_t i = slot_of(m, id);
    return m->slots[i] ? &m->entries[m->slots[i] - 1] : NULL;
}

static void id_rehash(struct id_map *m, size_t nslots)
{
    free(m->slots);
    m->slots = roost_xcalloc(nslots, sizeof(*m->slots));
    m->nslots = nslots;
    for (size_t k = 0; k < m->n; k++) {
        struct roost_slice id = roost_slice_make(m->entries[k].id, m->entries[k].len);
        m->slots[slot_of(m, id)] = k + 1;
    }
}

/* id must be 1-64 bytes (callers check roost_instance_id_valid or the
 * keyspace's one-byte length); longer ones are refused with NULL. */
static struct id_entry *id_get(struct id_map *m, struct roost_slice id)
{
    if (id.len == 0 || id.len > ROOST_INSTANCE_ID_MAX)
        return NULL;
    struct id_entry *e = id_find(m, id);
    if (e)
        return e;
    if ((m->n + 1) * 2 > m->nslots)
        id_rehash(m, m->nslots ? m->nslots * 2 : 256);
    if (m->n == m->alloc) {
        m->alloc = m->alloc ? m->alloc * 2 : 128;
        m->entries = roost_xrealloc(m->entries, m->alloc * sizeof(*m->entries));
    }
    e = &m->entries[m->n];
    memset(e, 0, sizeof(*e));
    memcpy(e->id, id.ptr, id.len);
    e->len = id.len;
    e->part = -1;
    m->slots[slot_of(m, id)] = ++m->n;
    return e;
}

static void id_map_release(struct id_map *m)
{
    free(m->entries);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static struct roost_slice entry_id(const struct id_entry *e)
{
    return roost_slice_make(e->id, e->len);
}

/* ------------------------------------------------------------------ */
/* Problems                                                             */

struct reporter {
    roost_maint_problem_fn fn;
    void *arg;
    size_t count, repaired;
    struct roost_buf text;
};

static void report(struct reporter *r, enum roost_maint_problem_kind kind,
                   struct roost_slice id, const struct roost_instance_usage *stored,
                   const struct roost_instance_usage *counted, int repaired)
{
    r->count++;
    if (repaired)
        r->repaired++;
    if (r->fn) {
        struct roost_maint_problem p;
        memset(&p, 0, sizeof(p));
        p.kind = kind;
        p.instance_id = id;
        if (stored)
            p.stored = *stored;
        if (counted)
            p.counted = *counted;
        p.repaired = repaired;
        p.text = r->text.ptr;
        r->fn(r->arg, &p);
    }
    roost_buf_reset(&r->text);
}

/* ------------------------------------------------------------------ */
/* META: the raw instance records, copied out under one scope           */

struct meta_scan {
    struct pair_list records;   /* (id, raw record) */
    struct pair_list bad_keys;  /* (store key, "") */
};

static int meta_scan_fn(void *arg, struct roost_slice key, struct roost_slice value)
{
    struct meta_scan *ms = arg;
    struct roost_slice id;
    if (roost_keyspace_instance_key_decode(key, &id) == 0)
        pairs_add(&ms->records, id, value);
    else if (roost_keyspace_cache_key_decode(key, NULL, NULL) == ROOST_KEYSPACE_NOT_CACHE)
        pairs_add(&ms->bad_keys, key, ROOST_SLICE_NULL);
    return 0;
}

static enum roost_err meta_scan(struct roost_store *st, struct meta_scan *ms)
{
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin_part(st, ROOST_STORE_META, 0, &sc);
    if (!err)
        err = roost_store_iterate(&sc, ROOST_SLICE_NULL, meta_scan_fn, ms);
    roost_store_end(&sc);
    if (!err)
        pairs_sort(&ms->records);
    return err;
}

static void meta_scan_release(struct meta_scan *ms)
{
    pairs_release(&ms->records);
    pairs_release(&ms->bad_keys);
}

/* Parses a raw record: 0 when it is readable and names the id it is
 * stored under, -1 when it does not parse, -2 when it names another id. */
static int parse_record(struct roost_slice id, struct roost_slice raw, struct roost_instance *inst)
{
    if (roost_instance_from_json(raw, inst) != ROOST_OK)
        return -1;
    return roost_slice_eq_cstr(id, inst->id) ? 0 : -2;
}

static void describe_bad_record(struct roost_buf *text, struct roost_slice id,
                                const struct roost_instance *inst, int why)
{
    roost_buf_append_str(text, "instance record '");
    roost_maint_append_printable(text, id);
    if (why == -2)
        roost_buf_appendf(text, "' names another instance, '%s'", inst->id);
    else
        roost_buf_append_str(text, "' is unreadable");
}

/* ------------------------------------------------------------------ */
/* dump                                                                 */

static enum roost_err write_line(FILE *out, struct json_object *doc, struct roost_buf *line,
                                 struct roost_buf *detail)
{
    roost_buf_reset(line);
    roost_json_serialize(doc, line);
    roost_buf_append_char(line, '\n');
    if (fwrite(line->ptr, 1, line->len, out) != line->len) {
        if (detail)
            roost_buf_appendf(detail, "cannot write the dump: %s", strerror(errno));
        return ROOST_ERR_INTERNAL;
    }
    return ROOST_OK;
}

struct data_keys {
    struct pair_list keys;   /* (instance id, key) */
    struct pair_list bad;    /* (store key, "") outside the key syntax */
};

static int data_keys_fn(void *arg, struct roost_slice skey, struct roost_slice value)
{
    (void)value;
    struct data_keys *dk = arg;
    struct roost_slice id, key;
    if (roost_keyspace_data_key_decode(skey, &id, &key) != 0)
        return 0;
    if (roost_instance_id_valid(id) && roost_keyspace_key_valid(key))
        pairs_add(&dk->keys, id, key);
    else
        pairs_add(&dk->bad, skey, ROOST_SLICE_NULL);
    return 0;
}

static void describe_bad_data_key(struct roost_buf *text, struct roost_slice skey, int part)
{
    struct roost_slice id, key;
    if (roost_keyspace_data_key_decode(skey, &id, &key) == 0) {
        roost_buf_append_str(text, "key '");
        roost_maint_append_printable(text, key);
        roost_buf_append_str(text, "' of instance '");
        roost_maint_append_printable(text, id);
        roost_buf_append_str(text, "' is outside the key syntax");
    } else {
        roost_buf_appendf(text, "unknown key in data partition %d: '", part);
        roost_maint_append_printable(text, skey);
        roost_buf_append_char(text, '\'');
    }
}

static enum roost_err dump_records(struct roost_store *st, FILE *out, struct reporter *rep,
                                   struct roost_maint_dump_stats *ds, struct roost_buf *line,
                                   struct roost_buf *detail)
{
    struct meta_scan ms = { PAIR_LIST_INIT, PAIR_LIST_INIT };
    struct roost_instance inst;
    struct roost_buf json = ROOST_BUF_INIT;
    roost_instance_init(&inst);
    enum roost_err err = meta_scan(st, &ms);
    for (size_t i = 0; !err && i < ms.records.n; i++) {
        struct roost_slice id = pair_a(&ms.records, i);
        int why = parse_record(id, pair_b(&ms.records, i), &inst);
        if (why != 0) {
            describe_bad_record(&rep->text, id, &inst, why);
            roost_buf_append_str(&rep->text, "; left out of the dump");
            report(rep, ROOST_MAINT_BAD_RECORD, id, NULL, NULL, 0);
            ds->skipped++;
            continue;
        }
        /* The record's stored form, as the registry writes it. */
        struct json_object *record = NULL;
        roost_buf_reset(&json);
        roost_instance_to_json(&inst, &json);
        err = roost_json_parse(roost_buf_slice(&json), &record, NULL);
        if (err) {
            err = ROOST_ERR_INTERNAL;
            break;
        }
        struct json_object *doc = json_object_new_object();
        json_object_object_add(doc, "type", json_object_new_string("instance"));
        json_object_object_add(doc, "record", record);
        err = write_line(out, doc, line, detail);
        json_object_put(doc);
        if (!err)
            ds->instances++;
    }
    roost_instance_release(&inst);
    roost_buf_release(&json);
    meta_scan_release(&ms);
    return err;
}

static enum roost_err dump_values(struct roost_store *st, FILE *out, struct reporter *rep,
                                  struct roost_maint_dump_stats *ds, struct roost_buf *line,
                                  struct roost_buf *detail)
{
    struct data_keys dk = { PAIR_LIST_INIT, PAIR_LIST_INIT };
    struct roost_kv_value v = { ROOST_BUF_INIT, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
    struct roost_buf b64 = ROOST_BUF_INIT;
    enum roost_err err = ROOST_OK;
    int parts = roost_store_part_count(st, ROOST_STORE_DATA);

    /* Keys only under the lock (small); each value is then read in a scope
     * of its own, and written with no lock held. */
    for (int p = 0; !err && p < parts; p++) {
        struct roost_store_scope sc;
        size_t bad_before = dk.bad.n;
        err = roost_store_begin_part(st, ROOST_STORE_DATA, p, &sc);
        if (!err)
            err = roost_store_iterate(&sc, ROOST_SLICE_NULL, data_keys_fn, &dk);
        roost_store_end(&sc);
        for (size_t i = bad_before; !err && i < dk.bad.n; i++) {
            describe_bad_data_key(&rep->text, pair_a(&dk.bad, i), p);
            roost_buf_append_str(&rep->text, "; left out of the dump");
            report(rep, ROOST_MAINT_BAD_DATA_KEY, ROOST_SLICE_NULL, NULL, NULL, 0);
            ds->skipped++;
        }
    }
    if (!err)
        pairs_sort(&dk.keys);
    for (size_t i = 0; !err && i < dk.keys.n; i++) {
        struct roost_slice id = pair_a(&dk.keys, i), key = pair_b(&dk.keys, i);
        err = roost_kv_get(st, id, key, &v);
        if (err == ROOST_ERR_KEY_NOT_FOUND) {
            err = ROOST_OK; /* deleted since the keys were listed */
            continue;
        }
        if (err == ROOST_ERR_STORE_CORRUPT) {
            roost_buf_append_str(&rep->text, "value of key '");
            roost_maint_append_printable(&rep->text, key);
            roost_buf_append_str(&rep->text, "' in instance '");
            roost_maint_append_printable(&rep->text, id);
            roost_buf_append_str(&rep->text, "' is unreadable; left out of the dump");
            report(rep, ROOST_MAINT_BAD_VALUE, id, NULL, NULL, 0);
            ds->skipped++;
            err = ROOST_OK;
            continue;
        }
        if (err)
            break;
        roost_buf_reset(&b64);
        roost_base64_encode(&b64, v.data.ptr, v.data.len);
        struct json_object *doc = json_object_new_object();
        json_object_object_add(doc, "type", json_object_new_string("value"));
        json_object_object_add(doc, "instance_id", roost_json_string(id));
        json_object_object_add(doc, "key", roost_json_string(key));
        json_object_object_add(doc, "content_type", roost_json_string(v.content_type));
        json_object_object_add(doc, "value_base64", roost_json_string(roost_buf_slice(&b64)));
        err = write_line(out, doc, line, detail);
        json_object_put(doc);
        if (!err) {
            ds->values++;
            ds->bytes += v.data.len;
        }
    }
    roost_kv_value_release(&v);
    roost_buf_release(&b64);
    pairs_release(&dk.keys);
    pairs_release(&dk.bad);
    return err;
}

enum roost_err roost_maint_dump(struct roost_store *st, FILE *out, roost_maint_problem_fn fn,
                                void *arg, struct roost_maint_dump_stats *stats,
                                struct roost_buf *detail)
{
    struct roost_maint_dump_stats ds;
    struct reporter rep = { fn, arg, 0, 0, ROOST_BUF_INIT };
    struct roost_buf line = ROOST_BUF_INIT;
    memset(&ds, 0, sizeof(ds));

    struct json_object *hdr = json_object_new_object();
    json_object_object_add(hdr, "type", json_object_new_string(ROOST_MAINT_DUMP_TYPE));
    json_object_object_add(hdr, "version", json_object_new_int(ROOST_MAINT_DUMP_VERSION));
    enum roost_err err = write_line(out, hdr, &line, detail);
    json_object_put(hdr);
    if (!err)
        err = dump_records(st, out, &rep, &ds, &line, detail);
    if (!err)
        err = dump_values(st, out, &rep, &ds, &line, detail);
    if (!err && fflush(out) != 0) {
        if (detail)
            roost_buf_appendf(detail, "cannot write the dump: %s", strerror(errno));
        err = ROOST_ERR_INTERNAL;
    }
    roost_buf_release(&line);
    roost_buf_release(&rep.text);
    if (stats)
        *stats = ds;
    return err;
}

/* ------------------------------------------------------------------ */
/* load                                                                 */

enum line_kind { LINE_BLANK, LINE_HEADER, LINE_INSTANCE, LINE_VALUE };

/* One parsed and validated input line. The slices point into doc. */
struct load_line {
    enum line_kind kind;
    struct json_object *doc;
    struct roost_instance inst;          /* LINE_INSTANCE */
    struct roost_slice id, key, ct;      /* LINE_VALUE */
    struct roost_buf value;              /* LINE_VALUE, decoded */
};

static void load_line_init(struct load_line *l)
{
    memset(l, 0, sizeof(*l));
    roost_instance_init(&l->inst);
    roost_buf_init(&l->value);
}

static void load_line_reset(struct load_line *l)
{
    json_object_put(l->doc);
    l->doc = NULL;
    l->kind = LINE_BLANK;
    l->id = l->key = l->ct = ROOST_SLICE_NULL;
    roost_buf_reset(&l->value);
}

static void load_line_release(struct load_line *l)
{
    load_line_reset(l);
    roost_instance_release(&l->inst);
    roost_buf_release(&l->value);
}

/* Member name of obj not in allowed (NULL-terminated), or NULL. */
static const char *unknown_member(struct json_object *obj, const char *const *allowed)
{
    json_object_object_foreach(obj, name, val) {
        (void)val;
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], name) != 0)
            i++;
        if (!allowed[i])
            return name;
    }
    return NULL;
}

/* A required string member; 0, or -1 with why set. */
static int string_member(struct json_object *obj, const char *name, struct roost_slice *out,
                         struct roost_buf *why)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, name, &v)) {
        roost_buf_appendf(why, "member \"%s\" is missing", name);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        roost_buf_appendf(why, "member \"%s\" is not a string", name);
        return -1;
    }
    *out = roost_slice_make(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    return 0;
}

/* Parses and validates one line (without its newline). expect_header: the
 * first non-blank line. On failure why gets the reason (no line number). */
static int parse_load_line(struct roost_slice text, int expect_header, struct load_line *l,
                           struct roost_buf *why)
{
    static const char *const header_members[] = { "type", "version", NULL };
    static const char *const instance_members[] = { "type", "record", NULL };
    static const char *const value_members[] = { "type", "instance_id", "key", "content_type",
                                                 "value_base64", NULL };
    struct roost_buf jdetail = ROOST_BUF_INIT;
    struct roost_slice type;
    const char *extra;
    int rc = -1;

    load_line_reset(l);
    if (text.len == 0) {
        if (expect_header)
            return 0; /* blank lines before the header are blank lines */
        l->kind = LINE_BLANK;
        return 0;
    }
    if (roost_json_parse(text, &l->doc, &jdetail) != ROOST_OK) {
        roost_buf_appendf(why, "not JSON (%s)", jdetail.ptr);
        goto out;
    }
    if (!json_object_is_type(l->doc, json_type_object)) {
        roost_buf_append_str(why, "not a JSON object");
        goto out;
    }
    if (string_member(l->doc, "type", &type, why))
        goto out;

    if (expect_header) {
        struct json_object *ver;
        if (!roost_slice_eq_cstr(type, ROOST_MAINT_DUMP_TYPE)) {
            roost_buf_append_str(why, "not a roost dump (the first line must be "
                                      "{\"type\":\"roost-dump\",\"version\":1})");
            goto out;
        }
        if ((extra = unknown_member(l->doc, header_members))) {
            roost_buf_appendf(why, "unknown member \"%s\" in the header", extra);
            goto out;
        }
        if (!json_object_object_get_ex(l->doc, "version", &ver)
            || !json_object_is_type(ver, json_type_int)) {
            roost_buf_append_str(why, "the header has no integer \"version\"");
            goto out;
        }
        if (json_object_get_int64(ver) != ROOST_MAINT_DUMP_VERSION) {
            roost_buf_appendf(why, "dump version %lld is not supported (this roostctl reads "
                              "version %d)", (long long)json_object_get_int64(ver),
                              ROOST_MAINT_DUMP_VERSION);
            goto out;
        }
        l->kind = LINE_HEADER;
    } else if (roost_slice_eq_cstr(type, "instance")) {
        struct json_object *rec;
        if ((extra = unknown_member(l->doc, instance_members))) {
            roost_buf_appendf(why, "unknown member \"%s\"", extra);
            goto out;
        }
        if (!json_object_object_get_ex(l->doc, "record", &rec)
            || !json_object_is_type(rec, json_type_object)) {
            roost_buf_append_str(why, "member \"record\" is missing or not an object");
            goto out;
        }
        struct roost_buf raw = ROOST_BUF_INIT;
        roost_json_serialize(rec, &raw);
        enum roost_err err = roost_instance_from_json(roost_buf_slice(&raw), &l->inst);
        roost_buf_release(&raw);
        if (err) {
            roost_buf_append_str(why, "the instance record is invalid (instance.h record form)");
            goto out;
        }
        l->kind = LINE_INSTANCE;
    } else if (roost_slice_eq_cstr(type, "value")) {
        struct roost_slice b64;
        if ((extra = unknown_member(l->doc, value_members))) {
            roost_buf_appendf(why, "unknown member \"%s\"", extra);
            goto out;
        }
        if (string_member(l->doc, "instance_id", &l->id, why)
            || string_member(l->doc, "key", &l->key, why)
            || string_member(l->doc, "content_type", &l->ct, why)
            || string_member(l->doc, "value_base64", &b64, why))
            goto out;
        if (!roost_instance_id_valid(l->id)) {
            roost_buf_append_str(why, "\"instance_id\" is not a valid instance id");
            goto out;
        }
        if (!roost_keyspace_key_valid(l->key)) {
            roost_buf_append_str(why, "\"key\" is not a valid key (1-512 bytes of UTF-8 "
                                      "without control characters)");
            goto out;
        }
        if (!roost_kv_content_type_valid(l->ct)) {
            roost_buf_append_str(why, "\"content_type\" is too long or has control characters");
            goto out;
        }
        if (b64.len / 4 * 3 > ROOST_VALUE_MAX_CEILING + 3) {
            roost_buf_appendf(why, "the value is larger than %d bytes", ROOST_VALUE_MAX_CEILING);
            goto out;
        }
        if (roost_base64_decode(&l->value, b64.ptr, b64.len) != 0) {
            roost_buf_append_str(why, "\"value_base64\" is not valid base64");
            goto out;
        }
        if (l->value.len > ROOST_VALUE_MAX_CEILING) {
            roost_buf_appendf(why, "the value is larger than %d bytes", ROOST_VALUE_MAX_CEILING);
            goto out;
        }
        l->kind = LINE_VALUE;
    } else if (roost_slice_eq_cstr(type, ROOST_MAINT_DUMP_TYPE)) {
        roost_buf_append_str(why, "a second header");
        goto out;
    } else {
        roost_buf_append_str(why, "unknown \"type\" (expected \"instance\" or \"value\")");
        goto out;
    }
    rc = 0;
out:
    roost_buf_release(&jdetail);
    return rc;
}

/* Reads one line into *line (without "\n" or "\r\n"). 1 read, 0 end of
 * input, -1 read error. */
static int read_line(FILE *in, char **line, size_t *cap, struct roost_slice *out)
{
    errno = 0;
    ssize_t n = getline(line, cap, in);
    if (n < 0)
        return ferror(in) ? -1 : 0;
    size_t len = (size_t)n;
    if (len && (*line)[len - 1] == '\n')
        len--;
    if (len && (*line)[len - 1] == '\r')
        len--;
    *out = roost_slice_make(*line, len);
    return 1;
}

/* A FILE that can be read twice: in itself when it is a regular file we
 * can seek, else a copy in an unlinked temporary file. */
static FILE *rewindable(FILE *in, int *owned, struct roost_buf *detail)
{
    struct stat sb;
    off_t pos;
    *owned = 0;
    if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode) && (pos = ftello(in)) >= 0
        && fseeko(in, pos, SEEK_SET) == 0)
        return in;

    const char *dir = getenv("TMPDIR");
    struct roost_buf path = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/roostctl-load-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path.ptr);
    if (fd < 0) {
        roost_buf_appendf(detail, "cannot create a temporary file in '%s' to hold the input: %s "
                          "(set TMPDIR, or load from a file)", dir && *dir ? dir : "/tmp",
                          strerror(errno));
        roost_buf_release(&path);
        return NULL;
    }
    unlink(path.ptr);
    roost_buf_release(&path);
    FILE *tmp = fdopen(fd, "w+");
    if (!tmp) {
        close(fd);
        roost_buf_appendf(detail, "cannot use a temporary file: %s", strerror(errno));
        return NULL;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
        if (fwrite(chunk, 1, n, tmp) != n) {
            roost_buf_appendf(detail, "cannot spool the input to a temporary file: %s",
                              strerror(errno));
            fclose(tmp);
            return NULL;
        }
    }
    if (ferror(in)) {
        roost_buf_appendf(detail, "cannot read the input: %s", strerror(errno));
        fclose(tmp);
        return NULL;
    }
    if (fflush(tmp) != 0 || fseeko(tmp, 0, SEEK_SET) != 0) {
        roost_buf_appendf(detail, "cannot spool the input to a temporary file: %s",
                          strerror(errno));
        fclose(tmp);
        return NULL;
    }
    *owned = 1;
    return tmp;
}

/* Pass 1: validates every line, collects the instance ids named. */
static enum roost_err load_validate(FILE *in, struct id_map *ids, size_t *lines,
                                    struct roost_buf *detail)
{
    struct load_line l;
    struct roost_buf why = ROOST_BUF_INIT;
    char *buf = NULL;
    size_t cap = 0, lineno = 0;
    int header = 0, r;
    struct roost_slice text;
    enum roost_err err = ROOST_OK;

    load_line_init(&l);
    while ((r = read_line(in, &buf, &cap, &text)) > 0) {
        lineno++;
        roost_buf_reset(&why);
        if (parse_load_line(text, !header, &l, &why) != 0) {
            roost_buf_appendf(detail, "line %zu: %s", lineno, why.ptr);
            err = ROOST_ERR_INVALID_REQUEST;
            break;
        }
        if (l.kind == LINE_HEADER) {
            header = 1;
        } else if (l.kind == LINE_INSTANCE) {
            struct id_entry *e = id_get(ids, roost_slice_cstr(l.inst.id));
            if (e->record != REC_NONE) {
                roost_buf_appendf(detail, "line %zu: a second record of instance '%s'", lineno,
                                  l.inst.id);
                err = ROOST_ERR_INVALID_REQUEST;
                break;
            }
            e->record = REC_OK;
        } else if (l.kind == LINE_VALUE) {
            (void)id_get(ids, l.id);
        }
    }
    if (!err && r < 0) {
        roost_buf_appendf(detail, "cannot read the input: %s", strerror(errno));
        err = ROOST_ERR_INTERNAL;
    }
    if (!err && !header) {
        roost_buf_appendf(detail, "line %zu: the input is empty, not a roost dump", lineno + 1);
        err = ROOST_ERR_INVALID_REQUEST;
    }
    *lines = lineno;
    free(buf);
    roost_buf_release(&why);
    load_line_release(&l);
    return err;
}

/* Applies the existing-instance rule (ROOST_MAINT_REPLACE in maint.h). */
static enum roost_err load_clear(struct roost_store *st, struct id_map *ids, int flags,
                                 size_t *replaced, struct roost_buf *detail)
{
    struct roost_instance inst;
    enum roost_err err = ROOST_OK;
    size_t existing = 0;
    const struct id_entry *first = NULL;
    roost_instance_init(&inst);
    for (size_t i = 0; !err && i < ids->n; i++) {
        struct roost_slice id = entry_id(&ids->entries[i]);
        struct roost_instance_usage u = { 0, 0 };
        int has_record = 0;
        err = roost_registry_get(st, id, &inst);
        if (err == ROOST_OK || err == ROOST_ERR_STORE_CORRUPT)
            has_record = 1;
        if (err == ROOST_OK || err == ROOST_ERR_STORE_CORRUPT || err == ROOST_ERR_INSTANCE_NOT_FOUND)
            err = roost_kv_usage(st, id, &u);
        if (err)
            break;
        if (!has_record && u.keys == 0)
            continue;
        if (!(flags & ROOST_MAINT_REPLACE)) {
            /* Counted to the end, so the message says how many. */
            if (!existing++)
                first = &ids->entries[i];
            continue;
        }
        if (has_record) {
            /* admin.c deletes unreadable records too. */
            err = roost_admin_delete_instance(st, id, NULL);
            if (err == ROOST_ERR_INSTANCE_NOT_FOUND) /* deleted meanwhile */
                err = roost_kv_purge_instance(st, id, NULL);
        } else {
            err = roost_kv_purge_instance(st, id, NULL);
        }
        if (err)
            roost_buf_appendf(detail, "cannot delete instance '%.*s' before loading it",
                              (int)id.len, id.ptr);
        else
            (*replaced)++;
    }
    if (!err && existing) {
        if (existing == 1)
            roost_buf_appendf(detail, "instance '%s' exists in the store already", first->id);
        else
            roost_buf_appendf(detail, "instance '%s' and %zu more of the dump exist in the "
                              "store already", first->id, existing - 1);
        roost_buf_append_str(detail, " (load --replace replaces the dump's instances)");
        err = ROOST_ERR_INSTANCE_EXISTS;
    }
    roost_instance_release(&inst);
    return err;
}

/* Pass 2: writes every record and value, in input order. */
static enum roost_err load_apply(struct roost_store *st, FILE *in,
                                 struct roost_maint_load_stats *ls, struct roost_buf *detail)
{
    struct load_line l;
    struct roost_buf why = ROOST_BUF_INIT;
    char *buf = NULL;
    size_t cap = 0, lineno = 0;
    int header = 0, r;
    struct roost_slice text;
    enum roost_err err = ROOST_OK;

    load_line_init(&l);
    while (!err && (r = read_line(in, &buf, &cap, &text)) > 0) {
        lineno++;
        roost_buf_reset(&why);
        if (parse_load_line(text, !header, &l, &why) != 0) {
            /* Validated in pass 1: only a file changed under us gets here. */
            roost_buf_appendf(detail, "line %zu: %s (the input changed while loading)", lineno,
                              why.ptr);
            err = ROOST_ERR_INVALID_REQUEST;
            break;
        }
        switch (l.kind) {
        case LINE_HEADER:
            header = 1;
            break;
        case LINE_INSTANCE:
            err = roost_registry_put(st, &l.inst);
            if (!err)
                ls->instances++;
            break;
        case LINE_VALUE:
            /* No size limit here but the store's: restore what was there,
             * even if the server's ROOST_MAX_VALUE_BYTES is lower now. */
            err = roost_kv_put(st, l.id, l.key, l.ct, roost_buf_slice(&l.value), SIZE_MAX, NULL);
            if (!err) {
                ls->values++;
                ls->bytes += l.value.len;
            }
            break;
        case LINE_BLANK:
            break;
        }
        if (err)
            roost_buf_appendf(detail, "line %zu: cannot write it to the store", lineno);
    }
    if (!err && r < 0) {
        roost_buf_appendf(detail, "cannot read the input again: %s", strerror(errno));
        err = ROOST_ERR_INTERNAL;
    }
    free(buf);
    roost_buf_release(&why);
    load_line_release(&l);
    return err;
}

enum roost_err roost_maint_load(struct roost_store *st, FILE *in, int flags,
                                struct roost_maint_load_stats *stats, struct roost_buf *detail)
{
    struct roost_maint_load_stats ls;
    struct roost_buf local = ROOST_BUF_INIT;
    struct id_map ids = ID_MAP_INIT;
    int owned = 0;
    enum roost_err err;
    off_t start = 0;

    memset(&ls, 0, sizeof(ls));
    if (!detail)
        detail = &local;
    FILE *f = rewindable(in, &owned, detail);
    if (!f) {
        err = ROOST_ERR_INTERNAL;
        goto out;
    }
    start = ftello(f);
    err = load_validate(f, &ids, &ls.lines, detail);
    if (!err)
        err = load_clear(st, &ids, flags, &ls.replaced, detail);
    if (!err && fseeko(f, start, SEEK_SET) != 0) {
        roost_buf_appendf(detail, "cannot read the input again: %s", strerror(errno));
        err = ROOST_ERR_INTERNAL;
    }
    if (!err)
        err = load_apply(st, f, &ls, detail);
out:
    if (owned)
        fclose(f);
    id_map_release(&ids);
    roost_buf_release(&local);
    if (stats)
        *stats = ls;
    return err;
}

/* ------------------------------------------------------------------ */
/* check                                                                */

/* What one DATA partition's iteration found; problems are reported only
 * after its scope ends. */
struct part_scan {
    struct id_map *ids;
    int part;
    struct pair_list bad_keys;     /* (store key, "") */
    struct pair_list bad_values;   /* (id, key) */
    size_t keys;
};

static int part_scan_fn(void *arg, struct roost_slice skey, struct roost_slice value)
{
    struct part_scan *ps = arg;
    struct roost_slice id, key, ct, data;
    struct id_entry *e;

    if (roost_keyspace_data_key_decode(skey, &id, &key) == 0) {
        if (!roost_instance_id_valid(id) || !roost_keyspace_key_valid(key)) {
            pairs_add(&ps->bad_keys, skey, ROOST_SLICE_NULL);
            return 0;
        }
        e = id_get(ps->ids, id);
        e->part = ps->part;
        ps->keys++;
        if (roost_kv_value_decode(value, &ct, &data) != 0) {
            /* Still a key, counted as kv.c counts one it cannot decode:
             * the whole stored value. */
            pairs_add(&ps->bad_values, id, key);
            data = value;
        }
        e->counted.keys++;
        e->counted.bytes += usage_bytes(key, data);
    } else if (roost_keyspace_fence_key_decode(skey, &id) == 0 && roost_instance_id_valid(id)) {
        /* A delete fence (kv.h): legitimate with or without a record. */
    } else if (roost_keyspace_usage_key_decode(skey, &id) == 0 && roost_instance_id_valid(id)) {
        e = id_get(ps->ids, id);
        e->part = ps->part;
        e->has_usage = 1;
        if (roost_instance_usage_decode(value, &e->stored) != 0) {
            e->bad_usage = 1;
            memset(&e->stored, 0, sizeof(e->stored));
        }
    } else {
        pairs_add(&ps->bad_keys, skey, ROOST_SLICE_NULL);
    }
    return 0;
}

static struct roost_instance_usage stored_usage(const struct id_entry *e)
{
    struct roost_instance_usage zero = { 0, 0 };
    return e->has_usage && !e->bad_usage ? e->stored : zero;
}

/* A known instance whose usage record is missing, unreadable or wrong. */
static int needs_usage_fix(const struct id_entry *e)
{
    struct roost_instance_usage s = stored_usage(e);
    return e->record != REC_NONE && (e->bad_usage || !usage_eq(&s, &e->counted));
}

static enum roost_err check_part(struct roost_store *st, int p, int flags, struct id_map *ids,
                                 struct reporter *rep, struct roost_maint_check_stats *cs)
{
    struct part_scan ps = { ids, p, PAIR_LIST_INIT, PAIR_LIST_INIT, 0 };
    struct roost_store_scope sc;
    struct roost_buf ukey = ROOST_BUF_INIT;
    unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
    unsigned char *fixed = NULL;

    enum roost_err err = roost_store_begin_part(st, ROOST_STORE_DATA, p, &sc);
    if (!err)
        err = roost_store_iterate(&sc, ROOST_SLICE_NULL, part_scan_fn, &ps);
    /* Repairs under the same lock as the count: no write can slip in
     * between, so the figure written is exact. */
    if (!err && (flags & ROOST_MAINT_REPAIR)) {
        fixed = roost_xcalloc(ids->n ? ids->n : 1, 1);
        for (size_t i = 0; !err && i < ids->n; i++) {
            struct id_entry *e = &ids->entries[i];
            if (e->part != p || !needs_usage_fix(e))
                continue;
            /* As kv.c keeps it: a record while there are keys, none
             * once there are none. */
            struct roost_store_op op = { ROOST_STORE_OP_DELETE, ROOST_SLICE_NULL, ROOST_SLICE_NULL };
            roost_keyspace_usage_key(&ukey, entry_id(e));
            op.key = roost_buf_slice(&ukey);
            if (e->counted.keys > 0) {
                roost_instance_usage_encode(&e->counted, enc);
                op.kind = ROOST_STORE_OP_PUT;
                op.value = roost_slice_make((const char *)enc, sizeof(enc));
            }
            err = roost_store_apply(&sc, &op, 1);
            if (!err)
                fixed[i] = 1;
        }
    }
    roost_store_end(&sc);
    if (err)
        goto out;

    cs->keys += ps.keys;
    for (size_t i = 0; i < ps.bad_keys.n; i++) {
        describe_bad_data_key(&rep->text, pair_a(&ps.bad_keys, i), p);
        report(rep, ROOST_MAINT_BAD_DATA_KEY, ROOST_SLICE_NULL, NULL, NULL, 0);
    }
    for (size_t i = 0; i < ps.bad_values.n; i++) {
        struct roost_slice id = pair_a(&ps.bad_values, i);
        roost_buf_append_str(&rep->text, "value of key '");
        roost_maint_append_printable(&rep->text, pair_b(&ps.bad_values, i));
        roost_buf_append_str(&rep->text, "' in instance '");
        roost_maint_append_printable(&rep->text, id);
        roost_buf_append_str(&rep->text, "' is unreadable");
        report(rep, ROOST_MAINT_BAD_VALUE, id, NULL, NULL, 0);
    }
    for (size_t i = 0; i < ids->n; i++) {
        struct id_entry *e = &ids->entries[i];
        if (e->part != p || e->record == REC_NONE)
            continue;
        cs->bytes += (uint64_t)e->counted.bytes;
        if (!needs_usage_fix(e))
            continue;
        int done = fixed && fixed[i];
        if (e->bad_usage) {
            roost_buf_appendf(&rep->text, "usage record of instance '%s' is unreadable%s", e->id,
                              done ? " (rewritten)" : "");
            report(rep, ROOST_MAINT_BAD_USAGE, entry_id(e), NULL, &e->counted, done);
            continue;
        }
        struct roost_instance_usage s = stored_usage(e);
        roost_buf_appendf(&rep->text, "usage of instance '%s' says %lld key%s, %lld byte%s; its "
                          "keys add up to %lld key%s, %lld byte%s%s", e->id, (long long)s.keys,
                          plural(s.keys), (long long)s.bytes, plural(s.bytes),
                          (long long)e->counted.keys, plural(e->counted.keys),
                          (long long)e->counted.bytes, plural(e->counted.bytes),
                          done ? " (repaired)" : "");
        report(rep, ROOST_MAINT_USAGE_MISMATCH, entry_id(e), &s, &e->counted, done);
    }
out:
    free(fixed);
    roost_buf_release(&ukey);
    pairs_release(&ps.bad_keys);
    pairs_release(&ps.bad_values);
    return err;
}

/* Whether META holds a record (readable or not) for id, in the caller's
 * META scope. */
static enum roost_err record_exists(struct roost_store_scope *meta, struct roost_slice id,
                                    struct roost_buf *key, int *exists)
{
    roost_keyspace_instance_key(key, id);
    return roost_store_exists(meta, roost_buf_slice(key), exists);
}

struct key_collect {
    struct pair_list keys;   /* (store key, "") */
};

static int key_collect_fn(void *arg, struct roost_slice key, struct roost_slice value)
{
    (void)value;
    struct key_collect *kc = arg;
    pairs_add(&kc->keys, key, ROOST_SLICE_NULL);
    return 0;
}

/* Removes the keys and usage record of an instance that has no record.
 * Every batch runs under META + DATA and only after confirming there is
 * still no record, so an instance created meanwhile (auto-create on a
 * first request) never loses a key. revived is set when that happened. */
static enum roost_err purge_orphan(struct roost_store *st, struct roost_slice id, int *revived)
{
    struct roost_store_scope meta, data;
    struct roost_buf rkey = ROOST_BUF_INIT, prefix = ROOST_BUF_INIT, ukey = ROOST_BUF_INIT;
    struct key_collect kc = { PAIR_LIST_INIT };
    struct roost_store_op *ops = roost_xcalloc(ORPHAN_BATCH, sizeof(*ops));
    int exists = 0;
    size_t next = 0;
    enum roost_err err;

    *revived = 0;
    roost_keyspace_data_prefix(&prefix, id);
    roost_keyspace_usage_key(&ukey, id);
    /* Usage record last, so an interrupted purge still shows as orphan
     * keys to the next check. */
    for (int first = 1;; first = 0) {
        err = roost_store_begin(st, ROOST_STORE_META, id, &meta);
        if (!err)
            err = record_exists(&meta, id, &rkey, &exists);
        if (!err && exists)
            *revived = 1;
        if (err || exists) {
            roost_store_end(&meta);
            break;
        }
        err = roost_store_begin(st, ROOST_STORE_DATA, id, &data);
        if (!err && first)
            err = roost_store_iterate(&data, roost_buf_slice(&prefix), key_collect_fn, &kc);
        size_t n = 0;
        while (!err && n < ORPHAN_BATCH && next < kc.keys.n) {
            ops[n].kind = ROOST_STORE_OP_DELETE;
            ops[n].key = pair_a(&kc.keys, next++);
            n++;
        }
        int last = next == kc.keys.n;
        if (!err && last && n < ORPHAN_BATCH) {
            ops[n].kind = ROOST_STORE_OP_DELETE;
            ops[n].key = roost_buf_slice(&ukey);
            n++;
        }
        if (!err && n)
            err = roost_store_apply(&data, ops, n);
        roost_store_end(&data);
        roost_store_end(&meta);
        if (err || (last && n < ORPHAN_BATCH) || n == 0)
            break;
    }
    free(ops);
    pairs_release(&kc.keys);
    roost_buf_release(&rkey);
    roost_buf_release(&prefix);
    roost_buf_release(&ukey);
    return err;
}

static enum roost_err check_orphans(struct roost_store *st, int flags, struct id_map *ids,
                                    struct reporter *rep)
{
    struct roost_buf rkey = ROOST_BUF_INIT;
    enum roost_err err = ROOST_OK;
    for (size_t i = 0; !err && i < ids->n; i++) {
        struct id_entry *e = &ids->entries[i];
        if (e->record != REC_NONE || e->part < 0)
            continue;
        /* Created after META was read? Then it is no orphan. */
        struct roost_store_scope meta;
        int exists = 0, revived = 0, done = 0;
        err = roost_store_begin(st, ROOST_STORE_META, entry_id(e), &meta);
        if (!err)
            err = record_exists(&meta, entry_id(e), &rkey, &exists);
        roost_store_end(&meta);
        if (err)
            break;
        if (exists)
            continue;
        if (flags & ROOST_MAINT_REPAIR) {
            err = purge_orphan(st, entry_id(e), &revived);
            if (err)
                break;
            if (revived)
                continue;
            done = 1;
        }
        roost_buf_appendf(&rep->text, "instance '%s' has no record but %lld key%s (%lld byte%s) "
                          "%s stored%s%s", e->id, (long long)e->counted.keys,
                          plural(e->counted.keys), (long long)e->counted.bytes,
                          plural(e->counted.bytes), e->counted.keys == 1 ? "is" : "are",
                          e->has_usage ? ", with a usage record" : "", done ? " (removed)" : "");
        struct roost_instance_usage s = stored_usage(e);
        report(rep, ROOST_MAINT_ORPHAN_KEYS, entry_id(e), &s, &e->counted, done);
    }
    roost_buf_release(&rkey);
    return err;
}

enum roost_err roost_maint_check(struct roost_store *st, int flags, roost_maint_problem_fn fn,
                                 void *arg, struct roost_maint_check_stats *stats)
{
    struct roost_maint_check_stats cs;
    struct reporter rep = { fn, arg, 0, 0, ROOST_BUF_INIT };
    struct meta_scan ms = { PAIR_LIST_INIT, PAIR_LIST_INIT };
    struct id_map ids = ID_MAP_INIT;
    struct roost_instance inst;
    memset(&cs, 0, sizeof(cs));
    roost_instance_init(&inst);

    enum roost_err err = meta_scan(st, &ms);
    if (err)
        goto out;
    for (size_t i = 0; i < ms.bad_keys.n; i++) {
        roost_buf_append_str(&rep.text, "unknown key in the instance area: '");
        roost_maint_append_printable(&rep.text, pair_a(&ms.bad_keys, i));
        roost_buf_append_char(&rep.text, '\'');
        report(&rep, ROOST_MAINT_BAD_META_KEY, ROOST_SLICE_NULL, NULL, NULL, 0);
    }
    for (size_t i = 0; i < ms.records.n; i++) {
        struct roost_slice id = pair_a(&ms.records, i);
        int why = parse_record(id, pair_b(&ms.records, i), &inst);
        struct id_entry *e = roost_instance_id_valid(id) ? id_get(&ids, id) : NULL;
        if (e)
            e->record = why == 0 ? REC_OK : REC_UNREADABLE;
        if (why == 0) {
            cs.instances++;
            continue;
        }
        describe_bad_record(&rep.text, id, &inst, why);
        report(&rep, ROOST_MAINT_BAD_RECORD, id, NULL, NULL, 0);
    }

    int parts = roost_store_part_count(st, ROOST_STORE_DATA);
    for (int p = 0; !err && p < parts; p++)
        err = check_part(st, p, flags, &ids, &rep, &cs);
    if (!err)
        err = check_orphans(st, flags, &ids, &rep);
out:
    cs.problems = rep.count;
    cs.repaired = rep.repaired;
    if (stats)
        *stats = cs;
    roost_instance_release(&inst);
    meta_scan_release(&ms);
    id_map_release(&ids);
    roost_buf_release(&rep.text);
    return err;
}

/* ------------------------------------------------------------------ */
/* compact                                                              */

static enum roost_err compact_one(struct roost_store *st, enum roost_store_area area, int index,
                                  roost_maint_compact_fn fn, void *arg)
{
    struct roost_store_part_stats before, after;
    struct roost_store_scope sc;
    memset(&before, 0, sizeof(before));
    memset(&after, 0, sizeof(after));
    double t0 = now_ms();
    enum roost_err err = roost_store_begin_part(st, area, index, &sc);
    if (!err)
        err = roost_store_part_stats(&sc, &before);
    if (!err)
        err = roost_store_compact(&sc);
    if (!err)
        err = roost_store_part_stats(&sc, &after);
    roost_store_end(&sc);
    if (!err && fn)
        fn(arg, &before, &after, now_ms() - t0);
    return err;
}

enum roost_err roost_maint_compact(struct roost_store *st, roost_maint_compact_fn fn, void *arg)
{
    enum roost_err err = ROOST_OK;
    int metas = roost_store_part_count(st, ROOST_STORE_META);
    int datas = roost_store_part_count(st, ROOST_STORE_DATA);
    for (int i = 0; !err && i < metas; i++)
        err = compact_one(st, ROOST_STORE_META, i, fn, arg);
    for (int i = 0; !err && i < datas; i++)
        err = compact_one(st, ROOST_STORE_DATA, i, fn, arg);
    return err;
}
