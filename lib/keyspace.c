/* keyspace.c - store key construction (see keyspace.h for the layout). */
#include "config.h"

#include <string.h>

#include "encoding.h"
#include "keyspace.h"
#include "limits.h"

int roost_keyspace_key_valid(struct roost_slice key)
{
    return key.len >= 1 && key.len <= ROOST_KEY_MAX
        && roost_utf8_valid(key.ptr, key.len)
        && !roost_has_control(key.ptr, key.len);
}

void roost_keyspace_data_prefix(struct roost_buf *out, struct roost_slice instance_id)
{
    roost_buf_reset(out);
    roost_buf_append_char(out, (char)ROOST_KEYSPACE_DATA_TAG);
    roost_buf_append_char(out, (char)(unsigned char)instance_id.len);
    roost_buf_append_slice(out, instance_id);
}

void roost_keyspace_data_key(struct roost_buf *out, struct roost_slice instance_id,
                             struct roost_slice key)
{
    roost_keyspace_data_prefix(out, instance_id);
    roost_buf_append_slice(out, key);
}

int roost_keyspace_data_key_decode(struct roost_slice stored, struct roost_slice *instance_id,
                                   struct roost_slice *key)
{
    if (stored.len < 2 || (unsigned char)stored.ptr[0] != ROOST_KEYSPACE_DATA_TAG)
        return -1;
    size_t idlen = (unsigned char)stored.ptr[1];
    if (idlen == 0 || idlen > ROOST_INSTANCE_ID_MAX || stored.len < 2 + idlen)
        return -1;
    *instance_id = roost_slice_make(stored.ptr + 2, idlen);
    *key = roost_slice_make(stored.ptr + 2 + idlen, stored.len - 2 - idlen);
    return 0;
}

/* Keys that are a tag and an id: usage records and fences. */
static void tagged_id_key(struct roost_buf *out, unsigned char tag, struct roost_slice instance_id)
{
    roost_buf_reset(out);
    roost_buf_append_char(out, (char)tag);
    roost_buf_append_char(out, (char)(unsigned char)instance_id.len);
    roost_buf_append_slice(out, instance_id);
}

static int tagged_id_decode(struct roost_slice stored, unsigned char tag, struct roost_slice *instance_id)
{
    if (stored.len < 3 || (unsigned char)stored.ptr[0] != tag)
        return -1;
    size_t idlen = (unsigned char)stored.ptr[1];
    if (idlen == 0 || idlen > ROOST_INSTANCE_ID_MAX || stored.len != 2 + idlen)
        return -1;
    *instance_id = roost_slice_make(stored.ptr + 2, idlen);
    return 0;
}

void roost_keyspace_usage_key(struct roost_buf *out, struct roost_slice instance_id)
{
    tagged_id_key(out, ROOST_KEYSPACE_USAGE_TAG, instance_id);
}

int roost_keyspace_usage_key_decode(struct roost_slice stored, struct roost_slice *instance_id)
{
    return tagged_id_decode(stored, ROOST_KEYSPACE_USAGE_TAG, instance_id);
}

void roost_keyspace_fence_key(struct roost_buf *out, struct roost_slice instance_id)
{
    tagged_id_key(out, ROOST_KEYSPACE_FENCE_TAG, instance_id);
}

int roost_keyspace_fence_key_decode(struct roost_slice stored, struct roost_slice *instance_id)
{
    return tagged_id_decode(stored, ROOST_KEYSPACE_FENCE_TAG, instance_id);
}

static void prefixed(struct roost_buf *out, const char *prefix, struct roost_slice id)
{
    roost_buf_reset(out);
    roost_buf_append_str(out, prefix);
    roost_buf_append_slice(out, id);
}

void roost_keyspace_instance_key(struct roost_buf *out, struct roost_slice instance_id)
{
    prefixed(out, ROOST_KEYSPACE_INSTANCE_PREFIX, instance_id);
}

void roost_keyspace_config_key(struct roost_buf *out, struct roost_slice instance_id)
{
    prefixed(out, ROOST_KEYSPACE_CONFIG_PREFIX, instance_id);
}

int roost_keyspace_instance_key_decode(struct roost_slice stored, struct roost_slice *instance_id)
{
    size_t plen = sizeof(ROOST_KEYSPACE_INSTANCE_PREFIX) - 1;
    if (stored.len <= plen || memcmp(stored.ptr, ROOST_KEYSPACE_INSTANCE_PREFIX, plen) != 0)
        return -1;
    *instance_id = roost_slice_make(stored.ptr + plen, stored.len - plen);
    return 0;
}

/* The config cache's collections and their entry-key prefixes. */
static const struct {
    const char *name;
    const char *prefix;
} collections[] = {
    { ROOST_KEYSPACE_COLLECTION_INSTANCE, ROOST_KEYSPACE_CONFIG_PREFIX },
    { ROOST_KEYSPACE_COLLECTION_PROJECT, ROOST_KEYSPACE_PROJECT_CONFIG_PREFIX },
    { ROOST_KEYSPACE_COLLECTION_USER, ROOST_KEYSPACE_USER_CONFIG_PREFIX },
};
#define NCOLLECTIONS (sizeof(collections) / sizeof(collections[0]))

static int collection_index(const char *collection)
{
    if (collection)
        for (size_t i = 0; i < NCOLLECTIONS; i++)
            if (strcmp(collection, collections[i].name) == 0)
                return (int)i;
    return -1;
}

int roost_keyspace_collection_valid(const char *collection)
{
    return collection_index(collection) >= 0;
}

int roost_keyspace_cache_key(struct roost_buf *out, const char *collection, struct roost_slice id)
{
    int i = collection_index(collection);
    if (i < 0) {
        roost_buf_reset(out);
        return -1;
    }
    prefixed(out, collections[i].prefix, id);
    return 0;
}

int roost_keyspace_claim_key(struct roost_buf *out, const char *collection, struct roost_slice id)
{
    int i = collection_index(collection);
    roost_buf_reset(out);
    if (i < 0)
        return -1;
    roost_buf_append_str(out, ROOST_KEYSPACE_CLAIM_PREFIX);
    roost_buf_append_str(out, collections[i].name);
    roost_buf_append_char(out, ':');
    roost_buf_append_slice(out, id);
    return 0;
}

/* 1 if s starts with the C string prefix and has more after it. */
static int starts_before_more(struct roost_slice s, const char *prefix, size_t *plen)
{
    *plen = strlen(prefix);
    return s.len > *plen && memcmp(s.ptr, prefix, *plen) == 0;
}

enum roost_keyspace_cache_kind roost_keyspace_cache_key_decode(struct roost_slice stored,
                                                               const char **collection,
                                                               struct roost_slice *id)
{
    size_t plen;
    for (size_t i = 0; i < NCOLLECTIONS; i++) {
        if (starts_before_more(stored, collections[i].prefix, &plen)) {
            if (collection)
                *collection = collections[i].name;
            if (id)
                *id = roost_slice_make(stored.ptr + plen, stored.len - plen);
            return ROOST_KEYSPACE_CACHE_ENTRY;
        }
    }
    if (!starts_before_more(stored, ROOST_KEYSPACE_CLAIM_PREFIX, &plen))
        return ROOST_KEYSPACE_NOT_CACHE;
    struct roost_slice rest = roost_slice_make(stored.ptr + plen, stored.len - plen);
    for (size_t i = 0; i < NCOLLECTIONS; i++) {
        size_t nlen = strlen(collections[i].name);
        /* "{collection}:" and at least one byte of id */
        if (rest.len > nlen + 1 && memcmp(rest.ptr, collections[i].name, nlen) == 0
            && rest.ptr[nlen] == ':') {
            if (collection)
                *collection = collections[i].name;
            if (id)
                *id = roost_slice_make(rest.ptr + nlen + 1, rest.len - nlen - 1);
            return ROOST_KEYSPACE_CACHE_CLAIM;
        }
    }
    return ROOST_KEYSPACE_NOT_CACHE;
}
