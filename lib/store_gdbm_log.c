/* store_gdbm_log.c - write-ahead log records of the GDBM backend. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "store_gdbm_log.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static inline uint64_t lane_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * FNV64_PRIME;
    return h ^ (h >> 29);
}

static inline uint64_t fnv1a_bytes(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV64_PRIME;
    return h;
}

uint64_t roost_store_gdbm_log_sum(uint64_t seed, const void *data, size_t len)
{
    const unsigned char *p = data;
    /* Four lanes so the multiplies of consecutive words do not wait for one
     * another; distinct starting values so that equal words in different
     * lanes do not hash alike. */
    uint64_t l0 = FNV64_OFFSET ^ seed, l1 = l0 + 1, l2 = l0 + 2, l3 = l0 + 3;
    size_t n = len;
    while (n >= 32) {
        uint64_t w[4];
        memcpy(w, p, sizeof(w));
        l0 = lane_step(l0, w[0]);
        l1 = lane_step(l1, w[1]);
        l2 = lane_step(l2, w[2]);
        l3 = lane_step(l3, w[3]);
        p += 32;
        n -= 32;
    }
    uint64_t h = FNV64_OFFSET;
    uint64_t lanes[5] = { l0, l1, l2, l3, (uint64_t)len };
    h = fnv1a_bytes(h, (const unsigned char *)lanes, sizeof(lanes));
    return fnv1a_bytes(h, p, n);
}

void roost_store_gdbm_log_rec_release(struct roost_store_gdbm_log_rec *rec)
{
    roost_buf_release(&rec->buf);
    rec->key = ROOST_SLICE_NULL;
    rec->value = ROOST_SLICE_NULL;
}

uint64_t roost_store_gdbm_log_rec_size(size_t key_len, size_t value_len)
{
    return ROOST_STORE_GDBM_LOG_HEADER + (uint64_t)key_len + (uint64_t)value_len;
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The checksum chains the header (without its own sum field), the key and
 * the value, each hashed with the previous result as seed. */
static uint64_t record_sum(const unsigned char *hdr, struct roost_slice key,
                           struct roost_slice value)
{
    uint64_t h = roost_store_gdbm_log_sum(0, hdr, 24);
    h = roost_store_gdbm_log_sum(h, key.ptr, key.len);
    return roost_store_gdbm_log_sum(h, value.ptr, value.len);
}

int roost_store_gdbm_log_append(int fd, uint64_t off, uint64_t seq, int op,
                                struct roost_slice key, struct roost_slice value,
                                uint64_t *end)
{
    unsigned char hdr[ROOST_STORE_GDBM_LOG_HEADER] = { 0 };
    if (key.len > UINT32_MAX || value.len > UINT32_MAX) {
        errno = EFBIG;
        return -1;
    }
    put_u32(hdr, ROOST_STORE_GDBM_LOG_MAGIC);
    hdr[4] = (unsigned char)op;
    put_u64(hdr + 8, seq);
    put_u32(hdr + 16, (uint32_t)key.len);
    put_u32(hdr + 20, (uint32_t)value.len);
    put_u64(hdr + 24, record_sum(hdr, key, value));

    /* One pwritev per record: the common case is a single system call. */
    struct iovec iov[3] = {
        { hdr, sizeof(hdr) },
        { (void *)key.ptr, key.len },
        { (void *)value.ptr, value.len },
    };
    struct iovec *v = iov;
    int nv = 3;
    uint64_t pos = off;
    while (nv > 0) {
        if (v->iov_len == 0) {
            v++;
            nv--;
            continue;
        }
        ssize_t n = pwritev(fd, v, nv, (off_t)pos);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        pos += (uint64_t)n;
        size_t left = (size_t)n;
        while (nv > 0 && left >= v->iov_len) {
            left -= v->iov_len;
            v++;
            nv--;
        }
        if (nv > 0) {
            v->iov_base = (char *)v->iov_base + left;
            v->iov_len -= left;
        }
    }
    *end = pos;
    return 0;
}

/* Reads exactly n bytes; returns 1, 0 at end of file, -1 on error. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return 0;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 1;
}

int roost_store_gdbm_log_read(int fd, uint64_t off, uint64_t limit,
                              struct roost_store_gdbm_log_rec *rec)
{
    unsigned char hdr[ROOST_STORE_GDBM_LOG_HEADER];
    if (off > limit || limit - off < ROOST_STORE_GDBM_LOG_HEADER)
        return 0;
    int r = pread_all(fd, hdr, sizeof(hdr), off);
    if (r <= 0)
        return r;
    uint32_t klen = get_u32(hdr + 16), vlen = get_u32(hdr + 20);
    int op = hdr[4];
    if (get_u32(hdr) != ROOST_STORE_GDBM_LOG_MAGIC
        || (op != ROOST_STORE_GDBM_LOG_PUT && op != ROOST_STORE_GDBM_LOG_DEL)
        || hdr[5] || hdr[6] || hdr[7]
        || (op == ROOST_STORE_GDBM_LOG_DEL && vlen != 0))
        return 0;
    uint64_t body = (uint64_t)klen + vlen;
    if (body > limit - off - ROOST_STORE_GDBM_LOG_HEADER)
        return 0;

    roost_buf_reset(&rec->buf);
    roost_buf_grow(&rec->buf, (size_t)body);
    r = pread_all(fd, rec->buf.ptr, (size_t)body, off + ROOST_STORE_GDBM_LOG_HEADER);
    if (r <= 0)
        return r;
    rec->buf.len = (size_t)body;
    rec->buf.ptr[body] = '\0';
    rec->key = roost_slice_make(rec->buf.ptr, klen);
    rec->value = roost_slice_make(rec->buf.ptr + klen, vlen);
    if (record_sum(hdr, rec->key, rec->value) != get_u64(hdr + 24))
        return 0;
    rec->seq = get_u64(hdr + 8);
    rec->op = op;
    rec->off = off;
    rec->end = off + ROOST_STORE_GDBM_LOG_HEADER + body;
    return 1;
}
