/*
 * test_config_source.c - lib/config_source.h: file:// and http:// sources.
 *
 * Test organization
 *   group        what it checks                                  rule
 *   open         accepted and refused URL forms, timeout range,  config_source.h open;
 *                trailing '/', password masked in url()          DESIGN.md settings table
 *   file://      found in each collection, not found (file or    DESIGN.md "Mapping the lookup
 *                collection dir), malformed / not an object /    spec": file:// = same paths
 *                too large / not a regular file -> unavailable,  as JSON files
 *                symlinks followed, bad collection or id -> USAGE
 *   http://      path and headers sent, 200 / 404 / 500 / 302,   instance-lookup.md "Fetch from
 *                invalid JSON, body cap (declared, streamed,     Config Service", "Error
 *                exactly at it), timeout, refused, reuse of one  Handling"
 *                connection for consecutive fetches
 *
 * The http tests fork a tiny HTTP server on 127.0.0.1, port 0. Its answer
 * is chosen by the id in the request path (see `replies`); it appends
 * every request head to a log file the test reads back. The child kills
 * itself after 20 s whatever happens; teardown kills it at once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config_source.h"
#include "testlib.h"

/* ---- fixtures ---------------------------------------------------------- */

/* tests/data: $ROOST_TOP_SRCDIR under make check, else next to this file
 * (an out-of-tree build compiles it by absolute path). */
static const char *data_dir(void)
{
    static char dir[4096];
    if (dir[0])
        return dir;
    const char *top = getenv("ROOST_TOP_SRCDIR");
    if (top && *top) {
        snprintf(dir, sizeof(dir), "%s/tests/data", top);
    } else {
        const char *me = __FILE__;
        const char *tail = strstr(me, "tests/unit/test_config_source.c");
        if (!tail)
            fail_msg("cannot locate tests/data: set ROOST_TOP_SRCDIR");
        snprintf(dir, sizeof(dir), "%.*stests/data", (int)(tail - me), me);
    }
    return dir;
}

struct fixture {
    char *tmp;                          /* per-test scratch directory */
    struct roost_config_source *src;
    struct json_object *doc;
    struct roost_buf detail;
    pid_t server;                       /* 0: none */
    int port;
    int blocker;                        /* bound, not listening: refuses */
};

static int setup(void **state)
{
    struct fixture *f = roost_xcalloc(1, sizeof(*f));
    f->tmp = roost_test_tmpdir("cs");
    roost_buf_init(&f->detail);
    f->blocker = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->server > 0) {
        kill(f->server, SIGKILL);
        waitpid(f->server, NULL, 0);
    }
    if (f->blocker >= 0)
        close(f->blocker);
    json_object_put(f->doc);
    roost_config_source_close(f->src);
    roost_buf_release(&f->detail);
    roost_test_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static void open_ok(struct fixture *f, const char *url, long timeout_ms)
{
    roost_buf_reset(&f->detail);
    enum roost_err err = roost_config_source_open(url, timeout_ms, &f->src, &f->detail);
    if (err)
        fail_msg("open '%s': %s: %s", url, roost_err_name(err), f->detail.ptr);
    assert_non_null(f->src);
}

static void open_data_dir(struct fixture *f)
{
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "file://%s", data_dir());
    open_ok(f, url.ptr, 5000);
    roost_buf_release(&url);
}

/* Fetches into f->doc (released first) and f->detail. */
static enum roost_err fetch(struct fixture *f, const char *collection, const char *id,
                            const char *user, const char *reqid)
{
    json_object_put(f->doc);
    f->doc = NULL;
    roost_buf_reset(&f->detail);
    return roost_config_source_fetch(f->src, collection, roost_slice_cstr(id),
                                     roost_slice_cstr(user), roost_slice_cstr(reqid), &f->doc,
                                     &f->detail);
}

static void assert_detail_has(const struct fixture *f, const char *needle)
{
    if (!strstr(f->detail.ptr, needle))
        fail_msg("detail '%s' lacks '%s'", f->detail.ptr, needle);
}

static const char *member_string(struct json_object *obj, const char *name)
{
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(obj, name, &v));
    return json_object_get_string(v);
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* A JSON object of exactly n bytes: {"pad":"xxx...x"} (n >= 10). */
static char *object_of_size(size_t n)
{
    char *p = roost_xmalloc(n + 1);
    memcpy(p, "{\"pad\":\"", 8);
    memset(p + 8, 'x', n - 10);
    memcpy(p + n - 2, "\"}", 3);
    return p;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- open -------------------------------------------------------------- */

static void test_config_source__open_refuses_bad_urls(void **state)
{
    struct fixture *f = *state;
    struct roost_buf plain_file = ROOST_BUF_INIT, file_url = ROOST_BUF_INIT;
    roost_buf_appendf(&plain_file, "%s/not-a-dir", f->tmp);
    write_file(plain_file.ptr, "x", 1);
    roost_buf_appendf(&file_url, "file://%s", plain_file.ptr);
    const char *bad[] = {
        "",                           /* empty */
        "ftp://127.0.0.1/configs",    /* scheme */
        "gopher://127.0.0.1/",
        "/etc/roost",                 /* no scheme */
        "127.0.0.1:8080",
        "file:/etc/roost",            /* one slash */
        "file://etc/roost",           /* relative, or a host */
        "file://localhost/etc/roost", /* a host */
        "file:///nonexistent-roost-config-dir",
        file_url.ptr,                 /* a regular file, not a directory */
        "file:///tmp/a%20b",          /* escapes are not guessed at */
        "file:///tmp?x",
        "http://",                    /* no host */
        "http:///configs",
        "https://",
        "http://127.0.0.1:8080/cfg?x=1", /* query: ids would be appended after it */
        "http://127.0.0.1:8080/cfg#top",
        "http://127.0.0.1 :8080/",    /* space */
        "http://127.0.0.1:8080/\n",   /* control character */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_config_source *src = NULL;
        roost_buf_reset(&f->detail);
        enum roost_err err = roost_config_source_open(bad[i], 5000, &src, &f->detail);
        if (err != ROOST_ERR_MISCONFIGURED)
            fail_msg("open '%s' gave %s, want MISCONFIGURED", bad[i], roost_err_name(err));
        assert_null(src);
        if (f->detail.len == 0)
            fail_msg("open '%s' gave no detail", bad[i]);
    }
    roost_buf_release(&plain_file);
    roost_buf_release(&file_url);
}

static void test_config_source__open_timeout_range(void **state)
{
    struct fixture *f = *state;
    /* DESIGN.md settings table: ROOST_CONFIG_TIMEOUT_MS, 1..60000 */
    const long bad[] = { 0, -1, 60001, 1000000 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct roost_config_source *src = NULL;
        assert_roost_err(roost_config_source_open("http://127.0.0.1:1/", bad[i], &src, &f->detail),
                         ROOST_ERR_MISCONFIGURED);
        assert_null(src);
        assert_detail_has(f, "ROOST_CONFIG_TIMEOUT_MS");
    }
    const long good[] = { 1, 60000 };
    for (size_t i = 0; i < 2; i++) {
        struct roost_config_source *src = NULL;
        assert_roost_ok(roost_config_source_open("http://127.0.0.1:1/", good[i], &src, &f->detail));
        roost_config_source_close(src);
    }
}

static void test_config_source__open_accepts_and_normalises(void **state)
{
    struct fixture *f = *state;
    /* open does no network I/O: unreachable hosts are fine here. */
    static const struct {
        const char *url, *shown;
    } cases[] = {
        { "http://127.0.0.1:1", "http://127.0.0.1:1" },
        { "http://127.0.0.1:1/", "http://127.0.0.1:1" },
        { "http://127.0.0.1:1/base//", "http://127.0.0.1:1/base" },
        { "HTTP://config.example/base/", "HTTP://config.example/base" },
        { "https://config.example/v1/", "https://config.example/v1" },
        { "http://[::1]:8080/cfg", "http://[::1]:8080/cfg" },
        { "http://user:secret@config.example/cfg/", "http://user:***@config.example/cfg" },
        { "http://user@config.example/cfg", "http://user@config.example/cfg" },
        { "file:///", "file:///" },
        { "file:///tmp/", "file:///tmp" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct roost_config_source *src = NULL;
        roost_buf_reset(&f->detail);
        enum roost_err err = roost_config_source_open(cases[i].url, 5000, &src, &f->detail);
        if (err)
            fail_msg("open '%s': %s: %s", cases[i].url, roost_err_name(err), f->detail.ptr);
        assert_string_equal(roost_config_source_url(src), cases[i].shown);
        roost_config_source_close(src);
    }
    roost_config_source_close(NULL); /* no-op */
}

static void test_config_source__open_requires_null_out(void **state)
{
    struct fixture *f = *state;
    open_ok(f, "http://127.0.0.1:1/", 5000);
    struct roost_config_source *keep = f->src;
    assert_roost_err(roost_config_source_open("http://127.0.0.1:1/", 5000, &f->src, &f->detail),
                     ROOST_ERR_USAGE);
    assert_ptr_equal(f->src, keep);
}

/* ---- file:// ----------------------------------------------------------- */

static void test_config_source__file_found(void **state)
{
    struct fixture *f = *state;
    open_data_dir(f);
    assert_roost_ok(fetch(f, "instances", "inst-1", "alice", "req-1"));
    assert_true(json_object_is_type(f->doc, json_type_object));
    assert_string_equal(member_string(f->doc, "owner_id"), "alice");
    /* issue 6 part 3: fields roost does not know are kept */
    struct json_object *extra = NULL;
    assert_true(json_object_object_get_ex(f->doc, "extra", &extra));
    assert_roost_ok(fetch(f, "projects", "proj-1", "", ""));
    assert_string_equal(member_string(f->doc, "instance_id"), "inst-1");
    assert_roost_ok(fetch(f, "users", "alice", "", ""));
    assert_string_equal(member_string(f->doc, "default_instance_id"), "inst-1");
}

static void test_config_source__file_trailing_slash(void **state)
{
    struct fixture *f = *state;
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "file://%s//", data_dir());
    open_ok(f, url.ptr, 5000);
    assert_roost_ok(fetch(f, "instances", "inst-open", "", ""));
    const char *shown = roost_config_source_url(f->src);
    assert_true(shown[strlen(shown) - 1] != '/');
    assert_roost_err(fetch(f, "instances", "nope", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    assert_null(strstr(f->detail.ptr, "//"));
    roost_buf_release(&url);
}

static void test_config_source__file_not_found(void **state)
{
    struct fixture *f = *state;
    open_data_dir(f);
    assert_roost_err(fetch(f, "instances", "no-such-instance", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    assert_null(f->doc);
    assert_detail_has(f, "instances/no-such-instance.json");
    assert_roost_err(fetch(f, "users", "nobody", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    /* ids are case-sensitive file names */
    assert_roost_err(fetch(f, "instances", "INST-1", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
}

static void test_config_source__file_missing_collection_dir(void **state)
{
    struct fixture *f = *state;
    /* A sysadmin who keeps no projects needs no projects/ directory. */
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    assert_roost_err(fetch(f, "projects", "proj-1", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    roost_buf_release(&url);
}

static void test_config_source__file_malformed(void **state)
{
    struct fixture *f = *state;
    open_data_dir(f);
    /* issue 6 part 3: "invalid JSON -> stale if allowed, else 503" */
    const char *bad[] = { "bad-json", "trailing-garbage", "with-comment", "empty" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum roost_err err = fetch(f, "instances", bad[i], "", "");
        if (err != ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE)
            fail_msg("%s gave %s", bad[i], roost_err_name(err));
        assert_null(f->doc);
        assert_detail_has(f, "invalid JSON from source");
        assert_detail_has(f, bad[i]);
    }
}

static void test_config_source__file_not_an_object(void **state)
{
    struct fixture *f = *state;
    open_data_dir(f);
    const char *bad[] = { "not-object", "null-doc", "string-doc" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_roost_err(fetch(f, "instances", bad[i], "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
        assert_null(f->doc);
        assert_detail_has(f, "not a JSON object");
    }
}

static void test_config_source__file_size_cap(void **state)
{
    struct fixture *f = *state;
    struct roost_buf path = ROOST_BUF_INIT, url = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/instances", f->tmp);
    assert_int_equal(mkdir(path.ptr, 0755), 0);
    char *doc = object_of_size(ROOST_CONFIG_RESPONSE_MAX);
    roost_buf_reset(&path);
    roost_buf_appendf(&path, "%s/instances/at-cap.json", f->tmp);
    write_file(path.ptr, doc, ROOST_CONFIG_RESPONSE_MAX);
    free(doc);
    doc = object_of_size(ROOST_CONFIG_RESPONSE_MAX + 1);
    roost_buf_reset(&path);
    roost_buf_appendf(&path, "%s/instances/over-cap.json", f->tmp);
    write_file(path.ptr, doc, ROOST_CONFIG_RESPONSE_MAX + 1);
    free(doc);

    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    /* ROOST_CONFIG_RESPONSE_MAX is the largest document accepted */
    assert_roost_ok(fetch(f, "instances", "at-cap", "", ""));
    assert_int_equal(strlen(member_string(f->doc, "pad")), ROOST_CONFIG_RESPONSE_MAX - 10);
    assert_roost_err(fetch(f, "instances", "over-cap", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "larger than 1048576 bytes");
    roost_buf_release(&path);
    roost_buf_release(&url);
}

static void test_config_source__file_not_regular(void **state)
{
    struct fixture *f = *state;
    struct roost_buf path = ROOST_BUF_INIT, url = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/instances", f->tmp);
    assert_int_equal(mkdir(path.ptr, 0755), 0);
    roost_buf_appendf(&path, "/a-dir.json");
    assert_int_equal(mkdir(path.ptr, 0755), 0);
    roost_buf_reset(&path);
    roost_buf_appendf(&path, "%s/instances/a-fifo.json", f->tmp);
    assert_int_equal(mkfifo(path.ptr, 0644), 0);
    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    assert_roost_err(fetch(f, "instances", "a-dir", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "not a regular file");
    /* A FIFO without a writer must not block the worker. */
    assert_roost_err(fetch(f, "instances", "a-fifo", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "not a regular file");
    roost_buf_release(&path);
    roost_buf_release(&url);
}

static void test_config_source__file_collection_not_a_dir(void **state)
{
    struct fixture *f = *state;
    struct roost_buf path = ROOST_BUF_INIT, url = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/instances", f->tmp);
    write_file(path.ptr, "{}", 2);
    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    /* instances is a file: the sysadmin's layout is wrong, not the id */
    assert_roost_err(fetch(f, "instances", "inst-1", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "cannot open");
    roost_buf_release(&path);
    roost_buf_release(&url);
}

static void test_config_source__file_unreadable(void **state)
{
    struct fixture *f = *state;
    if (geteuid() == 0)
        skip(); /* root reads mode 000 files */
    struct roost_buf path = ROOST_BUF_INIT, url = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/instances", f->tmp);
    assert_int_equal(mkdir(path.ptr, 0755), 0);
    roost_buf_appendf(&path, "/locked.json");
    write_file(path.ptr, "{}", 2);
    assert_int_equal(chmod(path.ptr, 0), 0);
    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    assert_roost_err(fetch(f, "instances", "locked", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "Permission denied");
    roost_buf_release(&path);
    roost_buf_release(&url);
}

static void test_config_source__file_symlink_followed(void **state)
{
    struct fixture *f = *state;
    /* Links inside the sysadmin's directory are legitimate (aliases). */
    struct roost_buf path = ROOST_BUF_INIT, target = ROOST_BUF_INIT, url = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/instances", f->tmp);
    assert_int_equal(mkdir(path.ptr, 0755), 0);
    roost_buf_appendf(&path, "/alias.json");
    roost_buf_appendf(&target, "%s/instances/inst-1.json", data_dir());
    assert_int_equal(symlink(target.ptr, path.ptr), 0);
    roost_buf_appendf(&url, "file://%s", f->tmp);
    open_ok(f, url.ptr, 5000);
    assert_roost_ok(fetch(f, "instances", "alias", "", ""));
    assert_string_equal(member_string(f->doc, "id"), "inst-1");
    /* A dangling link is a missing file; a loop is a broken directory
     * (this is also the unreadable case that runs as root). */
    roost_buf_reset(&path);
    roost_buf_appendf(&path, "%s/instances/dangling.json", f->tmp);
    assert_int_equal(symlink("/nonexistent-roost-target.json", path.ptr), 0);
    assert_roost_err(fetch(f, "instances", "dangling", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    roost_buf_reset(&path);
    roost_buf_appendf(&path, "%s/instances/loop.json", f->tmp);
    assert_int_equal(symlink("loop.json", path.ptr), 0);
    assert_roost_err(fetch(f, "instances", "loop", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "cannot open");
    roost_buf_release(&path);
    roost_buf_release(&target);
    roost_buf_release(&url);
}

static void test_config_source__bad_collection_or_id(void **state)
{
    struct fixture *f = *state;
    open_data_dir(f);
    const char *collections[] = { "secrets", "", "instances/..", "../instances", "Instances", NULL };
    for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
        assert_roost_err(fetch(f, collections[i], "inst-1", "", ""), ROOST_ERR_USAGE);
    const char *ids[] = {
        "", ".", "..", "../instances/inst-1", "inst-1/x", "a b", "inst-1.json\n",
        "x12345678901234567890123456789012345678901234567890123456789012345", /* 65 */
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        enum roost_err err = fetch(f, "instances", ids[i], "", "");
        if (err != ROOST_ERR_USAGE)
            fail_msg("id '%s' gave %s", ids[i], roost_err_name(err));
        assert_null(f->doc);
    }
    /* an embedded NUL is a different id, not "inst-1" */
    assert_roost_err(roost_config_source_fetch(f->src, "instances", roost_slice_make("inst-1\0x", 8),
                                               ROOST_SLICE_NULL, ROOST_SLICE_NULL, &f->doc, NULL),
                     ROOST_ERR_USAGE);
    /* *out must be NULL */
    assert_roost_ok(fetch(f, "instances", "inst-1", "", ""));
    assert_roost_err(roost_config_source_fetch(f->src, "instances", roost_slice_cstr("inst-1"),
                                               ROOST_SLICE_NULL, ROOST_SLICE_NULL, &f->doc, NULL),
                     ROOST_ERR_USAGE);
}

/* ---- the test HTTP server ---------------------------------------------- */

/* What the server answers, by the last path segment of the request. */
enum reply {
    REPLY_JSON,        /* 200 {"id":..., "owner_id":"alice"} */
    REPLY_404,
    REPLY_500,
    REPLY_302,         /* Location: /base/instances/ok */
    REPLY_BAD_JSON,    /* 200 truncated JSON */
    REPLY_ARRAY,       /* 200 [1,2] */
    REPLY_AT_CAP,      /* 200 a JSON object of exactly ROOST_CONFIG_RESPONSE_MAX bytes */
    REPLY_BIG_DECLARED,/* 200 Content-Length: MAX + 1 */
    REPLY_BIG_STREAMED,/* 200 no Content-Length, 4 MiB until close */
    REPLY_SILENT,      /* reads the request, never answers */
};

static const struct {
    const char *id;
    enum reply reply;
} replies[] = {
    { "missing", REPLY_404 },       { "boom", REPLY_500 },         { "moved", REPLY_302 },
    { "garbled", REPLY_BAD_JSON },  { "array", REPLY_ARRAY },       { "at-cap", REPLY_AT_CAP },
    { "huge", REPLY_BIG_DECLARED }, { "endless", REPLY_BIG_STREAMED }, { "silent", REPLY_SILENT },
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away: fine */
        p += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, const char *status, const char *extra_headers, const char *body,
                    size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n",
                     status, extra_headers, len);
    write_all(fd, head, (size_t)n);
    write_all(fd, body, len);
}

/* Serves one connection, request after request (keep-alive), until the
 * client closes it. Returns 1 when the connection must be dropped. */
static int serve_request(int fd, int conn, int log_fd)
{
    char req[8192];
    size_t len = 0;
    while (!memmem(req, len, "\r\n\r\n", 4)) {
        if (len == sizeof(req))
            return 1;
        ssize_t r = read(fd, req + len, sizeof(req) - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 1;
        len += (size_t)r;
    }
    char mark[32];
    int m = snprintf(mark, sizeof(mark), "CONN %d\n", conn);
    struct roost_buf rec = ROOST_BUF_INIT;
    roost_buf_append(&rec, mark, (size_t)m);
    roost_buf_append(&rec, req, len);
    roost_buf_append_str(&rec, "----\n");
    write_all(log_fd, rec.ptr, rec.len); /* O_APPEND: one record per write */
    roost_buf_release(&rec);

    /* "GET /path HTTP/1.1": the reply is chosen by the last segment */
    char *sp = memchr(req, ' ', len), *end = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - req)) : NULL;
    enum reply reply = REPLY_JSON;
    if (sp && end) {
        char *seg = end;
        while (seg > sp && seg[-1] != '/')
            seg--;
        for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
            if ((size_t)(end - seg) == strlen(replies[i].id) && memcmp(seg, replies[i].id, (size_t)(end - seg)) == 0)
                reply = replies[i].reply;
    }
    static const char json[] = "{\"id\":\"ok\",\"owner_id\":\"alice\",\"status\":\"active\"}";
    switch (reply) {
    case REPLY_JSON:
        respond(fd, "200 OK", "", json, sizeof(json) - 1);
        return 0;
    case REPLY_404:
        respond(fd, "404 Not Found", "", "{\"error\":\"not found\"}", 21);
        return 0;
    case REPLY_500:
        respond(fd, "500 Internal Server Error", "", "{}", 2);
        return 0;
    case REPLY_302:
        respond(fd, "302 Found", "Location: /base/instances/ok\r\n", "", 0);
        return 0;
    case REPLY_BAD_JSON:
        respond(fd, "200 OK", "", "{\"id\": \"garbled\", ", 18);
        return 0;
    case REPLY_ARRAY:
        respond(fd, "200 OK", "", "[1,2]", 5);
        return 0;
    case REPLY_AT_CAP:
    case REPLY_BIG_DECLARED: {
        size_t n = reply == REPLY_AT_CAP ? ROOST_CONFIG_RESPONSE_MAX : ROOST_CONFIG_RESPONSE_MAX + 1;
        char *doc = object_of_size(n);
        respond(fd, "200 OK", "", doc, n);
        free(doc);
        return 0;
    }
    case REPLY_BIG_STREAMED: {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Connection: close\r\n\r\n{\"pad\":\"";
        write_all(fd, head, sizeof(head) - 1);
        char chunk[65536];
        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 64; i++) /* 4 MiB, or until the client hangs up */
            write_all(fd, chunk, sizeof(chunk));
        return 1;
    }
    case REPLY_SILENT:
        /* Block until the client gives up and closes. */
        while (read(fd, req, sizeof(req)) > 0) {
        }
        return 1;
    }
    return 1;
}

static void serve(int lfd, const char *log_path)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(20); /* whatever happens, this child does not outlive the test */
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        _exit(2);
    for (int conn = 1;; conn++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        while (!serve_request(fd, conn, log_fd)) {
        }
        close(fd);
    }
}

static char *log_path(const struct fixture *f)
{
    struct roost_buf p = ROOST_BUF_INIT;
    roost_buf_appendf(&p, "%s/requests.log", f->tmp);
    return roost_buf_detach(&p, NULL);
}

/* Starts the server on 127.0.0.1, port 0; opens f->src on base /base/. */
static void start_server(struct fixture *f, long timeout_ms)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
    f->port = ntohs(sa.sin_port);
    char *path = log_path(f);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        serve(lfd, path); /* never returns */
    /* listen() came before fork: connections queue, no readiness race */
    close(lfd);
    free(path);
    f->server = pid;
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "http://127.0.0.1:%d/base/", f->port);
    open_ok(f, url.ptr, timeout_ms);
    roost_buf_release(&url);
}

/* Everything the server logged so far (caller frees). */
static char *server_log(const struct fixture *f)
{
    char *path = log_path(f);
    struct roost_buf b = ROOST_BUF_INIT;
    FILE *fp = fopen(path, "rb");
    if (fp) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
            roost_buf_append(&b, chunk, n);
        fclose(fp);
    }
    free(path);
    return roost_buf_detach(&b, NULL);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- http:// ----------------------------------------------------------- */

static void test_config_source__http_200_json(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    /* spec "Fetch from Config Service": "Call GET /instances/{instanceId}",
     * "Include X-User-ID and X-Request-ID headers" */
    assert_roost_ok(fetch(f, "instances", "inst-1", "alice", "req-123"));
    assert_true(json_object_is_type(f->doc, json_type_object));
    assert_string_equal(member_string(f->doc, "owner_id"), "alice");
    char *log = server_log(f);
    assert_non_null(strstr(log, "CONN 1\nGET /base/instances/inst-1 HTTP/1.1\r\n"));
    assert_non_null(strstr(log, "\r\nX-User-ID: alice\r\n"));
    assert_non_null(strstr(log, "\r\nX-Request-ID: req-123\r\n"));
    assert_non_null(strstr(log, "\r\nAccept: application/json\r\n"));
    free(log);
}

static void test_config_source__http_collections_and_empty_headers(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    assert_roost_ok(fetch(f, "projects", "proj-1", "", ""));
    assert_roost_ok(fetch(f, "users", "alice", "", "req-9"));
    char *log = server_log(f);
    assert_non_null(strstr(log, "GET /base/projects/proj-1 HTTP/1.1\r\n"));
    assert_non_null(strstr(log, "GET /base/users/alice HTTP/1.1\r\n"));
    /* an empty user id is not sent at all; the request id only when given */
    assert_null(strstr(log, "X-User-ID"));
    assert_int_equal(count(log, "X-Request-ID:"), 1);
    free(log);
}

static void test_config_source__http_header_injection_refused(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    assert_roost_err(fetch(f, "instances", "inst-1", "alice\r\nX-Admin: 1", "r"), ROOST_ERR_USAGE);
    assert_roost_err(fetch(f, "instances", "inst-1", "alice", "r\n1"), ROOST_ERR_USAGE);
    assert_roost_err(fetch(f, "instances", "..", "alice", "r"), ROOST_ERR_USAGE);
    char *log = server_log(f);
    assert_string_equal(log, ""); /* nothing was sent */
    free(log);
}

static void test_config_source__http_404(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    /* spec "Error Handling": "If instance not found: throw 404" */
    assert_roost_err(fetch(f, "instances", "missing", "", ""), ROOST_ERR_CONFIG_NOT_FOUND);
    assert_null(f->doc);
    assert_detail_has(f, "404");
    assert_detail_has(f, "/base/instances/missing");
}

static void test_config_source__http_500(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    /* issue 6 part 3: "5xx, timeout, refused connection, invalid JSON -> stale
     * if allowed ... else 503 CONFIG_SERVICE_UNAVAILABLE" */
    assert_roost_err(fetch(f, "instances", "boom", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "HTTP status 500");
}

static void test_config_source__http_redirect_not_followed(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    assert_roost_err(fetch(f, "instances", "moved", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_detail_has(f, "HTTP status 302");
    assert_detail_has(f, "redirects are not followed");
    char *log = server_log(f);
    assert_int_equal(count(log, "GET "), 1);
    free(log);
}

static void test_config_source__http_invalid_json(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    assert_roost_err(fetch(f, "instances", "garbled", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "invalid JSON from source");
    assert_roost_err(fetch(f, "instances", "array", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "not a JSON object");
}

static void test_config_source__http_body_cap(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    /* ROOST_CONFIG_RESPONSE_MAX is the largest answer accepted */
    assert_roost_ok(fetch(f, "instances", "at-cap", "", ""));
    assert_int_equal(strlen(member_string(f->doc, "pad")), ROOST_CONFIG_RESPONSE_MAX - 10);
    /* one byte more, declared in Content-Length */
    assert_roost_err(fetch(f, "instances", "huge", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "larger than 1048576 bytes");
    /* no length given: the transfer is cut at the cap, not read to the end */
    assert_roost_err(fetch(f, "instances", "endless", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(f->doc);
    assert_detail_has(f, "larger than 1048576 bytes");
    /* and the source still works afterwards */
    assert_roost_ok(fetch(f, "instances", "inst-1", "", ""));
}

static void test_config_source__http_timeout(void **state)
{
    struct fixture *f = *state;
    start_server(f, 200);
    int64_t t0 = now_ms();
    assert_roost_err(fetch(f, "instances", "silent", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    int64_t took = now_ms() - t0;
    if (took > 1000)
        fail_msg("a 200 ms timeout took %lld ms", (long long)took);
    assert_true(took >= 150);
    assert_null(f->doc);
    assert_detail_has(f, "timed out");
    assert_detail_has(f, "curl error 28");
    /* the next request on the same source is not poisoned by the last */
    assert_roost_ok(fetch(f, "instances", "inst-1", "", ""));
}

static void test_config_source__http_refused(void **state)
{
    struct fixture *f = *state;
    /* Bound but not listening: connect() is refused, and no other process
     * can take the port while the test runs. */
    f->blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->blocker >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    assert_int_equal(bind(f->blocker, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(f->blocker, (struct sockaddr *)&sa, &salen), 0);
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
    open_ok(f, url.ptr, 2000);
    int64_t t0 = now_ms();
    assert_roost_err(fetch(f, "instances", "inst-1", "alice", "r1"), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_true(now_ms() - t0 < 1000);
    assert_null(f->doc);
    assert_detail_has(f, "curl error 7");
    assert_detail_has(f, url.ptr);
    roost_buf_release(&url);
}

static void test_config_source__http_connection_reused(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    /* One handle per source keeps its connection: consecutive fetches,
     * found or not, go over one TCP connection. */
    assert_roost_ok(fetch(f, "instances", "a", "alice", "r1"));
    assert_roost_err(fetch(f, "instances", "missing", "alice", "r2"), ROOST_ERR_CONFIG_NOT_FOUND);
    assert_roost_ok(fetch(f, "users", "alice", "alice", "r3"));
    char *log = server_log(f);
    assert_int_equal(count(log, "GET "), 3);
    assert_int_equal(count(log, "CONN 1\n"), 3);
    assert_null(strstr(log, "CONN 2\n"));
    /* each request carries its own request id, not the previous one's */
    assert_int_equal(count(log, "X-Request-ID: r2\r\n"), 1);
    free(log);
}

static void test_config_source__http_password_not_in_detail(void **state)
{
    struct fixture *f = *state;
    start_server(f, 5000);
    roost_config_source_close(f->src);
    f->src = NULL;
    struct roost_buf url = ROOST_BUF_INIT;
    roost_buf_appendf(&url, "http://roost:s3cret@127.0.0.1:%d/base", f->port);
    open_ok(f, url.ptr, 5000);
    assert_roost_err(fetch(f, "instances", "boom", "", ""), ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE);
    assert_null(strstr(f->detail.ptr, "s3cret"));
    assert_detail_has(f, "roost:***@");
    char *log = server_log(f);
    assert_non_null(strstr(log, "\r\nAuthorization: Basic ")); /* still sent */
    free(log);
    roost_buf_release(&url);
}

int main(void)
{
    /* The worker ignores SIGPIPE (fcgi-app/main.c); libcurl relies on that
     * with CURLOPT_NOSIGNAL. Proxies from the environment would take the
     * loopback requests elsewhere. */
    signal(SIGPIPE, SIG_IGN);
    const char *proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                              "all_proxy", "ALL_PROXY" };
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
#define T(name) cmocka_unit_test_setup_teardown(test_config_source__##name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(open_refuses_bad_urls),
        T(open_timeout_range),
        T(open_accepts_and_normalises),
        T(open_requires_null_out),
        T(file_found),
        T(file_trailing_slash),
        T(file_not_found),
        T(file_missing_collection_dir),
        T(file_malformed),
        T(file_not_an_object),
        T(file_size_cap),
        T(file_not_regular),
        T(file_collection_not_a_dir),
        T(file_unreadable),
        T(file_symlink_followed),
        T(bad_collection_or_id),
        T(http_200_json),
        T(http_collections_and_empty_headers),
        T(http_header_injection_refused),
        T(http_404),
        T(http_500),
        T(http_redirect_not_followed),
        T(http_invalid_json),
        T(http_body_cap),
        T(http_timeout),
        T(http_refused),
        T(http_connection_reused),
        T(http_password_not_in_detail),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
