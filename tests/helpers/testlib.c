/* testlib.c - temporary directories, a fake clock, error assertions. */
#include "config.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "store.h"
#include "testlib.h"

char *roost_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    struct roost_buf path = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/roost-%s-XXXXXX", base, tag);
    if (!mkdtemp(path.ptr))
        fail_msg("mkdtemp %s failed", path.ptr);
    return roost_buf_detach(&path, NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void roost_test_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t fake_now = 1735238400;

int64_t roost_test_clock_now(void) { return fake_now; }
void roost_test_clock_set(int64_t now) { fake_now = now; }
void roost_test_clock_advance(int64_t seconds) { fake_now += seconds; }

void roost_test_assert_err(enum roost_err got, enum roost_err want, const char *what,
                           const char *file, int line)
{
    if (got != want) {
        print_error("%s returned %s, expected %s\n", what, roost_err_name(got),
                    roost_err_name(want));
        _fail(file, line);
    }
}

int roost_test_store_setup(void **state, const char *tag)
{
    struct roost_test_store *f = roost_xcalloc(1, sizeof(*f));
    f->dir = roost_test_tmpdir(tag);
    if (roost_store_open(f->dir, &f->st) != ROOST_OK) {
        roost_test_rmtree(f->dir);
        free(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int roost_test_store_teardown(void **state)
{
    struct roost_test_store *f = *state;
    roost_store_close(f->st);
    roost_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

struct roost_store *roost_test_store(void **state)
{
    return ((struct roost_test_store *)*state)->st;
}

void roost_test_capture_start(struct roost_test_capture *c)
{
    fflush(stderr);
    FILE *f = tmpfile();
    assert_non_null(f);
    c->file = f;
    c->saved_fd = dup(2);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(f), 2) >= 0);
}

void roost_test_capture_stop(struct roost_test_capture *c, struct roost_buf *out)
{
    FILE *f = c->file;
    fflush(stderr);
    dup2(c->saved_fd, 2);
    close(c->saved_fd);
    roost_buf_reset(out);
    off_t end = lseek(fileno(f), 0, SEEK_END);
    assert_true(end >= 0);
    roost_buf_grow(out, (size_t)end);
    ssize_t n = pread(fileno(f), out->ptr, (size_t)end, 0);
    assert_int_equal(n, end);
    out->len = (size_t)n;
    out->ptr[out->len] = '\0';
    fclose(f);
}
