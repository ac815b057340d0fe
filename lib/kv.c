/* kv.c - the namespaced value cache (value layout in kv.h). */
#include "config.h"

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

/* Splits a stored value into its content type and data. */
static int decode_value(struct roost_slice raw, struct roost_slice *ct, struct roost_slice *data)
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
    if (decode_value(roost_buf_slice(&out->raw), &out->content_type, &out->data))
        return corrupt_value(instance_id, key);
    return ROOST_OK;
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

    struct roost_buf skey = ROOST_BUF_INIT, value = ROOST_BUF_INIT;
    roost_keyspace_data_key(&skey, instance_id, key);
    roost_buf_grow(&value, VALUE_HEADER_FIXED + content_type.len + data.len);
    roost_buf_append_char(&value, (char)VALUE_FORMAT_VERSION);
    roost_buf_append_char(&value, (char)(unsigned char)content_type.len);
    roost_buf_append_slice(&value, content_type);
    roost_buf_append_slice(&value, data);

    struct roost_store_scope sc;
    int existed = 0;
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_put(&sc, roost_buf_slice(&skey), roost_buf_slice(&value), 0, &existed);
    roost_store_end(&sc);
    roost_buf_release(&skey);
    roost_buf_release(&value);
    if (!err && created)
        *created = !existed;
    return err;
}

enum roost_err roost_kv_delete(struct roost_store *st, struct roost_slice instance_id,
                               struct roost_slice key)
{
    struct roost_store_scope sc;
    struct roost_buf skey = ROOST_BUF_INIT;
    roost_keyspace_data_key(&skey, instance_id, key);
    enum roost_err err = roost_store_begin(st, ROOST_STORE_DATA, instance_id, &sc);
    if (!err)
        err = roost_store_delete(&sc, roost_buf_slice(&skey));
    roost_store_end(&sc);
    roost_buf_release(&skey);
    return err;
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
        if (decode_value(roost_buf_slice(&raw), &ct, &data)) {
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
