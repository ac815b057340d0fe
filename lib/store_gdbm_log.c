/* store_gdbm_log.c - write-ahead log records of the GDBM backend. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "store.h"
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
    free(rec->ops);
    rec->ops = NULL;
    rec->ops_alloc = 0;
    rec->n = 0;
}

/* A delete is logged without a value, whatever its value slice holds. */
static size_t logged_value_len(const struct roost_store_op *op)
{
    return op->kind == ROOST_STORE_OP_PUT ? op->value.len : 0;
}

uint64_t roost_store_gdbm_log_rec_size(const struct roost_store_op *ops, size_t n)
{
    uint64_t size = ROOST_STORE_GDBM_LOG_HEADER + (uint64_t)n * ROOST_STORE_GDBM_LOG_ENTRY;
    for (size_t i = 0; i < n; i++)
        size += (uint64_t)ops[i].key.len + logged_value_len(&ops[i]);
    return size;
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The checksum chains the header (without its own sum field), the op table
 * and every key and value, each hashed with the previous result as seed:
 * the writer has them in separate places, the reader in one buffer. */
static uint64_t record_sum(const unsigned char *hdr, const unsigned char *table,
                           const struct roost_store_op *ops, size_t n)
{
    uint64_t h = roost_store_gdbm_log_sum(0, hdr, 24);
    h = roost_store_gdbm_log_sum(h, table, n * ROOST_STORE_GDBM_LOG_ENTRY);
    for (size_t i = 0; i < n; i++) {
        size_t vlen = logged_value_len(&ops[i]);
        h = roost_store_gdbm_log_sum(h, ops[i].key.ptr, ops[i].key.len);
        h = roost_store_gdbm_log_sum(h, vlen ? ops[i].value.ptr : NULL, vlen);
    }
    return h;
}

/* Linux refuses more than UIO_MAXIOV (1024) vectors per call. */
#ifdef IOV_MAX
#define LOG_IOV_MAX IOV_MAX
#else
#define LOG_IOV_MAX 1024
#endif

/* Writes every vector at off; 0 with *end past them, or -1 (errno). */
static int pwritev_all(int fd, struct iovec *v, int nv, uint64_t off, uint64_t *end)
{
    uint64_t pos = off;
    while (nv > 0) {
        if (v->iov_len == 0) {
            v++;
            nv--;
            continue;
        }
        ssize_t n = pwritev(fd, v, nv < LOG_IOV_MAX ? nv : LOG_IOV_MAX, (off_t)pos);
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

/* Ops a record carries without allocating: a put, a delete, small batches. */
#define SMALL_OPS 8

int roost_store_gdbm_log_append(int fd, uint64_t off, uint64_t seq,
                                const struct roost_store_op *ops, size_t n, uint64_t *end)
{
    unsigned char small_head[ROOST_STORE_GDBM_LOG_HEADER + SMALL_OPS * ROOST_STORE_GDBM_LOG_ENTRY];
    struct iovec small_iov[1 + 2 * SMALL_OPS];
    unsigned char *head = small_head;
    struct iovec *iov = small_iov;
    int rc = -1, nv = 1;

    if (n == 0 || n > ROOST_STORE_APPLY_MAX || !ops) {
        errno = EINVAL;
        return -1;
    }
    size_t table_len = n * ROOST_STORE_GDBM_LOG_ENTRY;
    size_t head_len = ROOST_STORE_GDBM_LOG_HEADER + table_len;
    if (n > SMALL_OPS) {
        head = roost_xmalloc(head_len);
        iov = roost_xmalloc((1 + 2 * n) * sizeof(*iov));
    }
    memset(head, 0, head_len);
    unsigned char *table = head + ROOST_STORE_GDBM_LOG_HEADER;
    uint64_t body = table_len;
    for (size_t i = 0; i < n; i++) {
        const struct roost_store_op *op = &ops[i];
        unsigned char *e = table + i * ROOST_STORE_GDBM_LOG_ENTRY;
        size_t vlen = logged_value_len(op);
        if (op->kind != ROOST_STORE_OP_PUT && op->kind != ROOST_STORE_OP_DELETE) {
            errno = EINVAL;
            goto out;
        }
        if (op->key.len > UINT32_MAX || vlen > UINT32_MAX) {
            errno = EFBIG;
            goto out;
        }
        e[0] = op->kind == ROOST_STORE_OP_PUT ? ROOST_STORE_GDBM_LOG_PUT : ROOST_STORE_GDBM_LOG_DEL;
        put_u32(e + 4, (uint32_t)op->key.len);
        put_u32(e + 8, (uint32_t)vlen);
        body += op->key.len + vlen;
        if (op->key.len)
            iov[nv++] = (struct iovec){ (void *)op->key.ptr, op->key.len };
        if (vlen)
            iov[nv++] = (struct iovec){ (void *)op->value.ptr, vlen };
    }
    put_u32(head, ROOST_STORE_GDBM_LOG_MAGIC);
    put_u32(head + 4, (uint32_t)n);
    put_u64(head + 8, seq);
    put_u64(head + 16, body);
    put_u64(head + 24, record_sum(head, table, ops, n));
    iov[0] = (struct iovec){ head, head_len };
    /* One pwritev per record: the common case is a single system call. */
    rc = pwritev_all(fd, iov, nv, off, end);
out:
    if (head != small_head) {
        int saved = errno;
        free(head);
        free(iov);
        errno = saved;
    }
    return rc;
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
    rec->n = 0;
    if (off > limit || limit - off < ROOST_STORE_GDBM_LOG_HEADER)
        return 0;
    int r = pread_all(fd, hdr, sizeof(hdr), off);
    if (r <= 0)
        return r;
    uint32_t count = get_u32(hdr + 4);
    uint64_t body = get_u64(hdr + 16);
    if (get_u32(hdr) != ROOST_STORE_GDBM_LOG_MAGIC || count == 0
        || count > ROOST_STORE_APPLY_MAX
        || body > limit - off - ROOST_STORE_GDBM_LOG_HEADER
        || body < (uint64_t)count * ROOST_STORE_GDBM_LOG_ENTRY)
        return 0;

    /* body is bounded by the log's real size (limit is the page's log end). */
    roost_buf_reset(&rec->buf);
    roost_buf_grow(&rec->buf, (size_t)body);
    r = pread_all(fd, rec->buf.ptr, (size_t)body, off + ROOST_STORE_GDBM_LOG_HEADER);
    if (r <= 0)
        return r;
    rec->buf.len = (size_t)body;
    rec->buf.ptr[body] = '\0';
    if (rec->ops_alloc < count) {
        rec->ops = roost_xrealloc(rec->ops, count * sizeof(*rec->ops));
        rec->ops_alloc = count;
    }

    const unsigned char *table = (const unsigned char *)rec->buf.ptr;
    uint64_t pos = (uint64_t)count * ROOST_STORE_GDBM_LOG_ENTRY;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * ROOST_STORE_GDBM_LOG_ENTRY;
        uint32_t klen = get_u32(e + 4), vlen = get_u32(e + 8);
        struct roost_store_op *op = &rec->ops[i];
        if ((e[0] != ROOST_STORE_GDBM_LOG_PUT && e[0] != ROOST_STORE_GDBM_LOG_DEL)
            || e[1] || e[2] || e[3] || (e[0] == ROOST_STORE_GDBM_LOG_DEL && vlen != 0)
            || klen > body - pos || vlen > body - pos - klen)
            return 0;
        op->kind = e[0] == ROOST_STORE_GDBM_LOG_PUT ? ROOST_STORE_OP_PUT : ROOST_STORE_OP_DELETE;
        op->key = roost_slice_make(rec->buf.ptr + pos, klen);
        pos += klen;
        op->value = op->kind == ROOST_STORE_OP_PUT ? roost_slice_make(rec->buf.ptr + pos, vlen)
                                                   : ROOST_SLICE_NULL;
        pos += vlen;
    }
    if (pos != body || record_sum(hdr, table, rec->ops, count) != get_u64(hdr + 24))
        return 0;
    rec->seq = get_u64(hdr + 8);
    rec->n = count;
    rec->off = off;
    rec->end = off + ROOST_STORE_GDBM_LOG_HEADER + body;
    return 1;
}
