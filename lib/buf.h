/*
 * buf.h - a growable, binary-safe byte buffer and a borrowed byte view.
 *
 * struct roost_buf owns its bytes. They are always followed by a NUL that is
 * not counted in len, so text can be passed to C string functions, but the
 * contents may hold NULs of their own: len is the truth.
 *
 *   struct roost_buf b = ROOST_BUF_INIT;
 *   roost_buf_append(&b, ptr, n);
 *   ...use b.ptr, b.len...
 *   roost_buf_release(&b);          // back to ROOST_BUF_INIT
 *
 * Allocation failure is decided once for the whole project: the checked
 * allocators below log and abort. A worker that aborts is respawned by
 * lighttpd and the store's crash safety covers the interrupted request, so
 * no caller needs an out-of-memory path.
 *
 * struct roost_slice is a borrowed view (pointer + length); whoever hands
 * one out says how long it stays valid.
 */
#ifndef ROOST_BUF_H
#define ROOST_BUF_H

#include <stddef.h>
#include <string.h>

struct roost_slice {
    const char *ptr;
    size_t len;
};

#define ROOST_SLICE_NULL ((struct roost_slice){ NULL, 0 })

static inline struct roost_slice roost_slice_make(const char *p, size_t n)
{
    return (struct roost_slice){ p, n };
}

/* View of a NUL-terminated string; NULL gives the null slice. */
static inline struct roost_slice roost_slice_cstr(const char *s)
{
    return (struct roost_slice){ s, s ? strlen(s) : 0 };
}

static inline int roost_slice_eq(struct roost_slice a, struct roost_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline int roost_slice_eq_cstr(struct roost_slice a, const char *s)
{
    return roost_slice_eq(a, roost_slice_cstr(s));
}

struct roost_buf {
    char *ptr;     /* never NULL after _init: points at a NUL at least */
    size_t len;    /* bytes used, excluding the trailing NUL */
    size_t alloc;  /* bytes allocated; 0 when ptr is the shared empty string */
};

extern char roost_buf_empty[];
#define ROOST_BUF_INIT { roost_buf_empty, 0, 0 }

void roost_buf_init(struct roost_buf *b);
/* Frees the bytes and returns b to ROOST_BUF_INIT. */
void roost_buf_release(struct roost_buf *b);
/* Empties b but keeps its allocation for reuse. */
void roost_buf_reset(struct roost_buf *b);
/* Makes room for at least extra more bytes. */
void roost_buf_grow(struct roost_buf *b, size_t extra);
void roost_buf_append(struct roost_buf *b, const void *data, size_t n);
void roost_buf_append_str(struct roost_buf *b, const char *s);
void roost_buf_append_char(struct roost_buf *b, char c);
void roost_buf_append_slice(struct roost_buf *b, struct roost_slice s);
void roost_buf_set(struct roost_buf *b, const void *data, size_t n);
void roost_buf_set_str(struct roost_buf *b, const char *s);
/* printf-style append. */
void roost_buf_appendf(struct roost_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Takes over a malloc'd block of n bytes (reallocated to n + 1 for the NUL);
 * b's previous contents are released. */
void roost_buf_attach(struct roost_buf *b, void *mem, size_t n);
/* Hands the bytes to the caller (who frees them with free()) and returns b
 * to ROOST_BUF_INIT; never NULL. */
char *roost_buf_detach(struct roost_buf *b, size_t *len_out);

static inline struct roost_slice roost_buf_slice(const struct roost_buf *b)
{
    return (struct roost_slice){ b->ptr, b->len };
}

/* Checked allocators: log and abort on failure (see above). */
void *roost_xmalloc(size_t n);
void *roost_xcalloc(size_t count, size_t n);
void *roost_xrealloc(void *p, size_t n);
char *roost_xstrdup(const char *s);
char *roost_xmemdup_str(const char *p, size_t n); /* n bytes + NUL */

#endif
