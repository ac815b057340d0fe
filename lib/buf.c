/* buf.c - growable byte buffer and checked allocators. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"

char roost_buf_empty[1];

static void die_nomem(size_t n)
{
    char line[96];
    int len = snprintf(line, sizeof(line), "roost[%ld]: alloc: out of memory allocating %zu bytes\n",
                       (long)getpid(), n);
    if (len > 0 && write(2, line, (size_t)len) < 0) {
        /* nothing left to report to */
    }
    abort();
}

void *roost_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_nomem(n);
    return p;
}

void *roost_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        die_nomem(count * n);
    return p;
}

void *roost_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_nomem(n);
    return q;
}

char *roost_xstrdup(const char *s)
{
    return roost_xmemdup_str(s, strlen(s));
}

char *roost_xmemdup_str(const char *p, size_t n)
{
    char *q = roost_xmalloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

void roost_buf_init(struct roost_buf *b)
{
    b->ptr = roost_buf_empty;
    b->len = 0;
    b->alloc = 0;
}

void roost_buf_release(struct roost_buf *b)
{
    if (b->alloc)
        free(b->ptr);
    roost_buf_init(b);
}

void roost_buf_reset(struct roost_buf *b)
{
    b->len = 0;
    if (b->alloc)
        b->ptr[0] = '\0';
}

void roost_buf_grow(struct roost_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need < b->len)
        die_nomem(SIZE_MAX);
    if (need <= b->alloc)
        return;
    size_t cap = b->alloc ? b->alloc : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->alloc) {
        b->ptr = roost_xrealloc(b->ptr, cap);
    } else {
        b->ptr = roost_xmalloc(cap);
        b->ptr[0] = '\0';
    }
    b->alloc = cap;
}

void roost_buf_append(struct roost_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    roost_buf_grow(b, n);
    memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

void roost_buf_append_str(struct roost_buf *b, const char *s)
{
    roost_buf_append(b, s, strlen(s));
}

void roost_buf_append_char(struct roost_buf *b, char c)
{
    roost_buf_append(b, &c, 1);
}

void roost_buf_append_slice(struct roost_buf *b, struct roost_slice s)
{
    roost_buf_append(b, s.ptr, s.len);
}

void roost_buf_set(struct roost_buf *b, const void *data, size_t n)
{
    roost_buf_reset(b);
    roost_buf_append(b, data, n);
}

void roost_buf_set_str(struct roost_buf *b, const char *s)
{
    roost_buf_set(b, s, strlen(s));
}

static void buf_vappendf(struct roost_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    char probe[256];
    int n = vsnprintf(probe, sizeof(probe), fmt, ap);
    if (n >= 0 && (size_t)n < sizeof(probe)) {
        roost_buf_append(b, probe, (size_t)n);
    } else if (n >= 0) {
        roost_buf_grow(b, (size_t)n);
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void roost_buf_appendf(struct roost_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void roost_buf_attach(struct roost_buf *b, void *mem, size_t n)
{
    roost_buf_release(b);
    b->ptr = roost_xrealloc(mem, n + 1);
    b->ptr[n] = '\0';
    b->len = n;
    b->alloc = n + 1;
}

char *roost_buf_detach(struct roost_buf *b, size_t *len_out)
{
    char *p;
    if (len_out)
        *len_out = b->len;
    if (b->alloc) {
        p = b->ptr;
    } else {
        p = roost_xmalloc(1);
        p[0] = '\0';
    }
    roost_buf_init(b);
    return p;
}
