/* kv.c - the namespaced value cache (value layout in kv.h). */
#include "config.h"

#include <stdlib.h>

#include "keyspace.h"
#include "kv.h"
#include "limits.h"
#include "log.h"

#define VALUE_FORMAT_VERSION 1
#define VALUE_HEADER_FIXED 2   /* version byte + content-type length byte */

void roost_kv_value_release(struct roost_kv_value *v)
{
    roost_buf_release(&v->raw);
    v->content_type = ROOST_SLICE_NULL;
    v->data = ROOST_SLICE_NULL;
}

int roost_kv_content_type_valid(struct roost_slice ct)
{
    if (ct.len > ROOST_CONTENT_TYPE_MAX)
        return 0;
    for (size_t i = 0; i < ct.len; i++) {
        unsigned char c = (unsigned char)ct.ptr[i];
        /* It is echoed as a response header: printable ASCII only, so it
         * can neither split the header block nor carry odd bytes. */
        if (c < 0x20 || c > 0x7E)
            return 0;
    }
    return 1;
}

int roost_kv_value_decode(struct roost_slice raw, struct roost_slice *ct, struct roost_slice *data)
{
    if (raw.len < VALUE_HEADER_FIXED || (unsigned char)raw.ptr[0] != VALUE_FORMAT_VERSION)
        return -1;
    size_t ctlen = (unsigned char)raw.ptr[1];
    if (raw.len < VALUE_HEADER_FIXED + ctlen)
        return -1;
    *ct = roost_slice_make(raw.ptr + VALUE_HEADER_FIXED, ctlen);
    *data = roost_slice_make(raw.ptr + VALUE_HEADER_FIXED + ctlen, raw.len - VALUE_HEADER_FIXED - ctlen);
    return 0;
}

static enum roost_err corrupt_value(struct roost_slice instance_id, struct roost_slice key)
{
    roost_log(ROOST_LOG_ERROR, "kv", "stored value of key '%.*s' in instance '%.*s' is unreadable; "
              "run roostctl check", (int)(key.len > 128 ? 128 : key.len), key.ptr,
              (int)instance_id.len, instance_id.ptr);
    return ROOST_ERR_STORE_CORRUPT;
}

enum roost_err roost_kv_get(struct roost_store *st, struct roost_slice instance_id,
                            struct roost_slice key, struct roost_kv_value *out)
{
    struct roost_store_scope sc;
    struct roost_buf skey = ROOST_BUF_INIT;
    roost_keyspace_data_key(&skey, instance_id, key);
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_get(&sc, roost_buf_slice(&skey), &out->raw);
    roost_store_end(&sc);
    roost_buf_release(&skey);
    if (err)
        return err;
    if (roost_kv_value_decode(roost_buf_slice(&out->raw), &out->content_type, &out->data))
        return corrupt_value(instance_id, key);
    return ROOST_OK;
}

/* Reads the usage record of the scope's instance; zero when absent. */
static enum roost_err read_usage(struct roost_store_scope *sc, struct roost_slice usage_key,
                                 struct roost_buf *scratch, struct roost_instance_usage *u)
{
    u->keys = 0;
    u->bytes = 0;
    enum roost_err err = roost_store_get(sc, usage_key, scratch);
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        return ROOST_OK;
    if (err)
        return err;
    if (roost_instance_usage_decode(roost_buf_slice(scratch), u)) {
        /* Damaged figures must not stop writes: recount with roostctl. */
        roost_log(ROOST_LOG_WARN, "kv", "usage record unreadable; counting from zero, "
                  "run roostctl check --repair");
        u->keys = 0;
        u->bytes = 0;
    }
    return ROOST_OK;
}

/* The op that stores u (or removes the record once nothing is left). */
static struct roost_store_op usage_op(struct roost_slice usage_key, const struct roost_instance_usage *u,
                                      unsigned char enc[ROOST_INSTANCE_USAGE_SIZE])
{
    if (u->keys <= 0)
        return (struct roost_store_op){ ROOST_STORE_OP_DELETE, usage_key, ROOST_SLICE_NULL };
    roost_instance_usage_encode(u, enc);
    return (struct roost_store_op){ ROOST_STORE_OP_PUT, usage_key,
                                    roost_slice_make((const char *)enc, ROOST_INSTANCE_USAGE_SIZE) };
}

/* Value bytes of a stored record (the data, not our header). */
static size_t stored_data_len(struct roost_slice raw)
{
    struct roost_slice ct, data;
    return roost_kv_value_decode(raw, &ct, &data) ? raw.len : data.len;
}

/* One change of one key (value NULL: delete), with its usage figures, as
 * one atomic write. The old value is fetched for its size: GDBM has no
 * cheaper way to learn it. */
static enum roost_err change_key(struct roost_store *st, struct roost_slice instance_id,
                                 struct roost_slice key, const struct roost_buf *value,
                                 size_t data_len, int *existed)
{
    struct roost_buf skey = ROOST_BUF_INIT, ukey = ROOST_BUF_INIT, fkey = ROOST_BUF_INIT;
    struct roost_buf old = ROOST_BUF_INIT;
    roost_keyspace_fence_key(&fkey, instance_id);
    roost_keyspace_data_key(&skey, instance_id, key);
    roost_keyspace_usage_key(&ukey, instance_id);
    struct roost_store_scope sc;
    struct roost_instance_usage u;
    unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
    int fenced = 0;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_exists(&sc, roost_buf_slice(&fkey), &fenced);
    if (!err && fenced)
        err = ROOST_ERR_INSTANCE_DELETING;
    if (err)
        goto out;
    err = roost_store_get(&sc, roost_buf_slice(&skey), &old);
    int had = err == ROOST_OK;
    if (err && err != ROOST_ERR_KEY_NOT_FOUND)
        goto out;
    if (!value && !had) {
        err = ROOST_ERR_KEY_NOT_FOUND;
        goto out;
    }
    size_t old_len = had ? stored_data_len(roost_buf_slice(&old)) : 0;
    err = read_usage(&sc, roost_buf_slice(&ukey), &old, &u);
    if (err)
        goto out;
    if (had) {
        u.keys -= 1;
        u.bytes -= (int64_t)(key.len + old_len);
    }
    if (value) {
        u.keys += 1;
        u.bytes += (int64_t)(key.len + data_len);
    }
    if (u.bytes < 0)
        u.bytes = 0;
    struct roost_store_op ops[2];
    ops[0] = value ? (struct roost_store_op){ ROOST_STORE_OP_PUT, roost_buf_slice(&skey), roost_buf_slice(value) }
                   : (struct roost_store_op){ ROOST_STORE_OP_DELETE, roost_buf_slice(&skey), ROOST_SLICE_NULL };
    ops[1] = usage_op(roost_buf_slice(&ukey), &u, enc);
    err = roost_store_apply(&sc, ops, 2);
    if (!err)
        *existed = had;
out:
    roost_store_end(&sc);
    roost_buf_release(&skey);
    roost_buf_release(&ukey);
    roost_buf_release(&fkey);
    roost_buf_release(&old);
    return err;
}

enum roost_err roost_kv_put(struct roost_store *st, struct roost_slice instance_id,
                            struct roost_slice key, struct roost_slice content_type,
                            struct roost_slice data, size_t max_value_bytes, int *created)
{
    if (data.len > max_value_bytes)
        return ROOST_ERR_VALUE_TOO_LARGE;
    if (!roost_kv_content_type_valid(content_type))
        return ROOST_ERR_INVALID_CONTENT_TYPE;
    if (content_type.len == 0)
        content_type = roost_slice_cstr(ROOST_KV_DEFAULT_CONTENT_TYPE);

    struct roost_buf value = ROOST_BUF_INIT;
    roost_buf_grow(&value, VALUE_HEADER_FIXED + content_type.len + data.len);
    roost_buf_append_char(&value, (char)VALUE_FORMAT_VERSION);
    roost_buf_append_char(&value, (char)(unsigned char)content_type.len);
    roost_buf_append_slice(&value, content_type);
    roost_buf_append_slice(&value, data);
    int existed = 0;
    enum roost_err err = change_key(st, instance_id, key, &value, data.len, &existed);
    roost_buf_release(&value);
    if (!err && created)
        *created = !existed;
    return err;
}

enum roost_err roost_kv_delete(struct roost_store *st, struct roost_slice instance_id,
                               struct roost_slice key)
{
    int existed = 0;
    return change_key(st, instance_id, key, NULL, 0, &existed);
}

enum roost_err roost_kv_batch_get(struct roost_store *st, struct roost_slice instance_id,
                                  const struct roost_slice *keys, size_t n,
                                  size_t max_total_bytes, roost_kv_batch_fn fn, void *arg)
{
    struct roost_store_scope sc;
    struct roost_buf skey = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    size_t total = 0;
    /* One lock for the whole batch: a consistent snapshot of the instance,
     * and one lock round trip instead of n. */
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    for (size_t i = 0; !err && i < n; i++) {
        roost_keyspace_data_key(&skey, instance_id, keys[i]);
        err = roost_store_get(&sc, roost_buf_slice(&skey), &raw);
        if (err == ROOST_ERR_KEY_NOT_FOUND) {
            err = fn(arg, i, 0, ROOST_SLICE_NULL, ROOST_SLICE_NULL);
            continue;
        }
        if (err)
            break;
        struct roost_slice ct, data;
        if (roost_kv_value_decode(roost_buf_slice(&raw), &ct, &data)) {
            err = corrupt_value(instance_id, keys[i]);
            break;
        }
        total += data.len;
        if (total > max_total_bytes) {
            err = ROOST_ERR_BATCH_RESPONSE_TOO_LARGE;
            break;
        }
        err = fn(arg, i, 1, ct, data);
    }
    roost_store_end(&sc);
    roost_buf_release(&skey);
    roost_buf_release(&raw);
    return err;
}

static enum roost_err set_fence(struct roost_store *st, struct roost_slice instance_id, int on)
{
    struct roost_buf fkey = ROOST_BUF_INIT;
    roost_keyspace_fence_key(&fkey, instance_id);
    struct roost_store_op op = { on ? ROOST_STORE_OP_PUT : ROOST_STORE_OP_DELETE, roost_buf_slice(&fkey),
                                 ROOST_SLICE_NULL };
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_apply(&sc, &op, 1);
    roost_store_end(&sc);
    roost_buf_release(&fkey);
    return err;
}

enum roost_err roost_kv_fence(struct roost_store *st, struct roost_slice instance_id)
{
    return set_fence(st, instance_id, 1);
}

enum roost_err roost_kv_unfence(struct roost_store *st, struct roost_slice instance_id)
{
    return set_fence(st, instance_id, 0);
}

enum roost_err roost_kv_usage(struct roost_store *st, struct roost_slice instance_id,
                              struct roost_instance_usage *usage)
{
    struct roost_buf ukey = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, instance_id);
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = read_usage(&sc, roost_buf_slice(&ukey), &raw, usage);
    roost_store_end(&sc);
    roost_buf_release(&ukey);
    roost_buf_release(&raw);
    return err;
}

enum roost_err roost_kv_set_usage(struct roost_store *st, struct roost_slice instance_id,
                                  const struct roost_instance_usage *usage)
{
    struct roost_buf ukey = ROOST_BUF_INIT;
    roost_keyspace_usage_key(&ukey, instance_id);
    unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
    struct roost_store_op op = usage_op(roost_buf_slice(&ukey), usage, enc);
    struct roost_store_scope sc;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_apply(&sc, &op, 1);
    roost_store_end(&sc);
    roost_buf_release(&ukey);
    return err;
}

/* Purge: keys of the instance with their value sizes, found in one scan. */
struct purge_entry {
    size_t key_len;             /* the store key follows the entry */
    int64_t bytes;              /* what the key counts for in the usage */
};

struct purge_list {
    struct roost_buf entries;   /* struct purge_entry + store key, packed */
    size_t count;
};

static int list_for_purge(void *arg, struct roost_slice key, struct roost_slice value)
{
    struct purge_list *pl = arg;
    struct roost_slice id, k;
    if (roost_keyspace_data_key_decode(key, &id, &k))
        return 0;
    struct purge_entry e = { key.len, (int64_t)(k.len + stored_data_len(value)) };
    roost_buf_append(&pl->entries, &e, sizeof(e));
    roost_buf_append_slice(&pl->entries, key);
    pl->count++;
    return 0;
}

/* Keys deleted per atomic write and lock scope: large enough to make the
 * purge of 10,000 keys take a few dozen writes, small enough that other
 * instances on the partition wait at most a few milliseconds. */
#define PURGE_BATCH 256

enum roost_err roost_kv_purge_instance(struct roost_store *st, struct roost_slice instance_id,
                                       size_t *removed)
{
    struct roost_buf prefix = ROOST_BUF_INIT, ukey = ROOST_BUF_INIT, raw = ROOST_BUF_INIT;
    struct purge_list pl = { ROOST_BUF_INIT, 0 };
    struct roost_store_op *ops = roost_xcalloc(PURGE_BATCH + 1, sizeof(*ops));
    roost_keyspace_data_prefix(&prefix, instance_id);
    roost_keyspace_usage_key(&ukey, instance_id);
    size_t total = 0;
    enum roost_err err = ROOST_OK;
    /* Scan, delete what was found, and scan again until a scan finds
     * nothing: a write that passed the state check just before the
     * instance became `deleting` may land during the purge. */
    for (;;) {
        struct roost_store_scope sc;
        roost_buf_reset(&pl.entries);
        pl.count = 0;
        err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
        if (!err)
            err = roost_store_iterate(&sc, roost_buf_slice(&prefix), list_for_purge, &pl);
        roost_store_end(&sc);
        if (err || pl.count == 0)
            break;
        size_t off = 0;
        for (size_t done = 0; !err && done < pl.count;) {
            size_t n = 0;
            int64_t batch_bytes = 0;
            while (n < PURGE_BATCH && done + n < pl.count) {
                struct purge_entry e;
                memcpy(&e, pl.entries.ptr + off, sizeof(e));
                off += sizeof(e);
                ops[n++] = (struct roost_store_op){ ROOST_STORE_OP_DELETE,
                                                    roost_slice_make(pl.entries.ptr + off, e.key_len),
                                                    ROOST_SLICE_NULL };
                off += e.key_len;
                batch_bytes += e.bytes;
            }
            err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
            struct roost_instance_usage u;
            unsigned char enc[ROOST_INSTANCE_USAGE_SIZE];
            if (!err)
                err = read_usage(&sc, roost_buf_slice(&ukey), &raw, &u);
            if (!err) {
                /* Figures follow every batch, so an interrupted purge
                 * leaves them right. Sizes come from the scan: a key
                 * rewritten since is off until roostctl check --repair. */
                u.keys -= (int64_t)n;
                u.bytes -= batch_bytes;
                if (u.keys <= 0 || u.bytes < 0) {
                    u.keys = u.keys < 0 ? 0 : u.keys;
                    u.bytes = u.bytes < 0 ? 0 : u.bytes;
                }
                ops[n] = usage_op(roost_buf_slice(&ukey), &u, enc);
                err = roost_store_apply(&sc, ops, n + 1);
            }
            roost_store_end(&sc);
            done += n;
            if (!err)
                total += n;
        }
        if (err)
            break;
    }
    if (!err) {
        /* Whatever the figures said, an instance with no keys has none. */
        struct roost_instance_usage zero = { 0, 0 };
        err = roost_kv_set_usage(st, instance_id, &zero);
    }
    free(ops);
    roost_buf_release(&pl.entries);
    roost_buf_release(&prefix);
    roost_buf_release(&ukey);
    roost_buf_release(&raw);
    if (removed)
        *removed = total;
    return err;
}

/* Whole-store scans, partition by partition. */
struct scan_arg {
    roost_kv_scan_fn values;
    roost_kv_usage_fn usages;
    void *arg;
    enum roost_err stop;
};

static int scan_one(void *arg, struct roost_slice key, struct roost_slice value)
{
    struct scan_arg *sa = arg;
    struct roost_slice id, k;
    if (sa->values && roost_keyspace_data_key_decode(key, &id, &k) == 0) {
        struct roost_slice ct, data;
        if (roost_kv_value_decode(value, &ct, &data)) {
            ct = ROOST_SLICE_NULL;
            data = ROOST_SLICE_NULL;
        }
        sa->stop = sa->values(sa->arg, id, k, ct, data);
    } else if (sa->usages && roost_keyspace_usage_key_decode(key, &id) == 0) {
        struct roost_instance_usage u;
        if (roost_instance_usage_decode(value, &u)) {
            u.keys = -1;
            u.bytes = -1;
        }
        sa->stop = sa->usages(sa->arg, id, &u);
    }
    return sa->stop != ROOST_OK;
}

static enum roost_err scan_data(struct roost_store *st, struct scan_arg *sa)
{
    int parts = roost_store_part_count(st, ROOST_STORE_DATA);
    for (int i = 0; i < parts; i++) {
        struct roost_store_scope sc;
        enum roost_err err = roost_store_begin_part(st, ROOST_STORE_DATA, i, &sc);
        if (!err)
            err = roost_store_iterate(&sc, ROOST_SLICE_NULL, scan_one, sa);
        roost_store_end(&sc);
        if (sa->stop)
            return sa->stop;
        if (err)
            return err;
    }
    return ROOST_OK;
}

enum roost_err roost_kv_scan(struct roost_store *st, roost_kv_scan_fn fn, void *arg)
{
    struct scan_arg sa = { fn, NULL, arg, ROOST_OK };
    return scan_data(st, &sa);
}

enum roost_err roost_kv_scan_usage(struct roost_store *st, roost_kv_usage_fn fn, void *arg)
{
    struct scan_arg sa = { NULL, fn, arg, ROOST_OK };
    return scan_data(st, &sa);
}
