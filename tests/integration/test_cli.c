/*
 * test_cli.c - roostctl against a live server: a real lighttpd with 4 real
 * workers (harness.h) serving the store roostctl works on at the same time.
 *
 * Source of truth: issue 5 part 5 ("roostctl") and DESIGN.md ("API rules",
 * "Instance status is an operator's switch"). Each test quotes its rule.
 *
 * Test organization: one server per group, each with a store of its own.
 *   group    server settings        tests
 *   cli      defaults (auto-create)  test_cli__help*, test_cli__usage_*,
 *                                    test_cli__missing_store_*,
 *                                    test_cli__set_status_*,
 *                                    test_cli__instances_show_stats,
 *                                    test_cli__check_* (one while a child
 *                                    process writes), test_cli__dump_*,
 *                                    test_cli__load_*, test_cli__delete_*,
 *                                    test_cli__compact_*, test_cli__flush
 *   noauto   ROOST_AUTO_CREATE=0     test_noauto__*: instances exist only as
 *                                    roostctl load makes them; delete -> 404
 *
 * roostctl runs as a child process with ROOST_ROOSTCTL_BIN (make check sets
 * it), with every ROOST_* variable of the test's environment removed, its
 * stdout and stderr captured to files in the run directory, and a time
 * bound on each run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "json_util.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

struct fixture {
    const char *name;
    struct harness_server *srv;
    struct harness_client *http;
};

static struct fixture fx_cli = { .name = "cli", NULL, NULL };
static struct fixture fx_noauto = { .name = "noauto", NULL, NULL };
static struct fixture *fx;
static struct harness_response resp;

static int start_group(struct fixture *f, const struct harness_opts *o)
{
    fx = f;
    f->srv = harness_server_new(o);
    if (harness_server_start(f->srv) != 0)
        return -1;
    f->http = harness_client_new(f->srv);
    printf("# %s: lighttpd pid %d on %s, ready in %ld ms, run dir %s\n", f->name,
           (int)f->srv->pid, f->srv->base_url, f->srv->startup_ms, f->srv->rundir);
    return 0;
}

static int stop_group(struct fixture *f)
{
    harness_client_free(f->http);
    f->http = NULL;
    return harness_server_stop(f->srv);
}

static int setup_cli(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "cli";
    return start_group(&fx_cli, &o);
}

static int teardown_cli(void **state)
{
    (void)state;
    return stop_group(&fx_cli);
}

static int setup_noauto(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "cli-noauto";
    o.env = (const char *[]){ "ROOST_AUTO_CREATE=0", NULL };
    return start_group(&fx_noauto, &o);
}

static int teardown_noauto(void **state)
{
    (void)state;
    return stop_group(&fx_noauto);
}

/* ------------------------------------------------------------------ */
/* running roostctl                                                    */

struct ctl_result {
    int status;              /* exit status; -1 when killed */
    struct roost_buf out;
    struct roost_buf err;
};

static struct ctl_result ctl_res = { 0, ROOST_BUF_INIT, ROOST_BUF_INIT };

static void slurp(const char *path, struct roost_buf *out)
{
    roost_buf_reset(out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        roost_buf_append(out, chunk, n);
    fclose(f);
}

static char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xstrfmt(const char *fmt, ...)
{
    struct roost_buf b = ROOST_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    char tmp[4096];
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    roost_buf_append_str(&b, tmp);
    return roost_buf_detach(&b, NULL);
}

/*
 * Runs roostctl with args (NULL-terminated), stdin from in_path (NULL:
 * /dev/null), stdout to out_path (NULL: captured in ctl_res.out), stderr
 * captured in ctl_res.err, and env added to a ROOST_*-free environment.
 * Fails the test if it does not finish within the bound.
 */
static struct ctl_result *ctl_run(const char *const *env, const char *in_path,
                                  const char *out_path, const char *const *args)
{
    const char *bin = getenv("ROOST_ROOSTCTL_BIN");
    if (!bin || !*bin)
        fail_msg("ROOST_ROOSTCTL_BIN must be set (make check sets it)");
    char *outp = out_path ? strdup(out_path) : xstrfmt("%s/ctl.out", fx->srv->rundir);
    char *errp = xstrfmt("%s/ctl.err", fx->srv->rundir);

    size_t nenv = 0, nargs = 0;
    for (char **e = environ; *e; e++)
        nenv++;
    for (const char *const *e = env; e && *e; e++)
        nenv++;
    for (const char *const *a = args; *a; a++)
        nargs++;
    char **envp = calloc(nenv + 1, sizeof(*envp));
    char **argv = calloc(nargs + 2, sizeof(*argv));
    size_t k = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "ROOST_", 6) != 0)
            envp[k++] = *e;
    for (const char *const *e = env; e && *e; e++)
        envp[k++] = (char *)*e;
    argv[0] = (char *)"roostctl";
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = (char *)args[i];

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execve(bin, argv, envp);
        _exit(127);
    }
    int st = 0;
    long deadline = harness_now_ms() + 60000L * harness_time_scale();
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
        if (harness_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("roostctl %s did not finish in time", args[0] ? args[0] : "");
        }
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    ctl_res.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (out_path)
        roost_buf_reset(&ctl_res.out);
    else
        slurp(outp, &ctl_res.out);
    slurp(errp, &ctl_res.err);
    free(outp);
    free(errp);
    free(envp);
    free(argv);
    return &ctl_res;
}

/* roostctl --store <the server's store> args... */
#define CTL(...) ctl_store(NULL, NULL, (const char *[]){ __VA_ARGS__, NULL })
static struct ctl_result *ctl_store(const char *in_path, const char *out_path,
                                    const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    const char **full = calloc(n + 3, sizeof(*full));
    full[0] = "--store";
    full[1] = fx->srv->store_dir;
    memcpy(full + 2, args, (n + 1) * sizeof(*full));
    struct ctl_result *r = ctl_run(NULL, in_path, out_path, full);
    free(full);
    return r;
}

static void print_ctl(const struct ctl_result *r)
{
    print_error("roostctl exit %d\n--- stdout:\n%.*s\n--- stderr:\n%.*s\n", r->status,
                (int)(r->out.len > 4000 ? 4000 : r->out.len), r->out.ptr, (int)r->err.len,
                r->err.ptr);
}

#define assert_ctl_exit(r, want) ctl_assert_exit((r), (want), __FILE__, __LINE__)
static void ctl_assert_exit(const struct ctl_result *r, int want, const char *file, int line)
{
    if (r->status != want) {
        print_ctl(r);
        print_error("expected exit status %d\n", want);
        _fail(file, line);
    }
}

static size_t count_lines(const struct roost_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->ptr[i] == '\n';
    return n;
}

/* The error contract: one line on stderr, "roostctl: ..." (issue 5 "errors
 * on stderr in one line a sysadmin understands"). */
#define assert_one_line_error(r, needle) ctl_assert_error((r), (needle), __FILE__, __LINE__)
static void ctl_assert_error(const struct ctl_result *r, const char *needle, const char *file,
                             int line)
{
    if (count_lines(&r->err) != 1 || strncmp(r->err.ptr, "roostctl: ", 10) != 0
        || (needle && !strstr(r->err.ptr, needle))) {
        print_ctl(r);
        print_error("expected one stderr line starting 'roostctl: '%s%s\n",
                    needle ? " containing " : "", needle ? needle : "");
        _fail(file, line);
    }
}

#define assert_out_has(r, needle) ctl_assert_out((r), (needle), __FILE__, __LINE__)
static void ctl_assert_out(const struct ctl_result *r, const char *needle, const char *file,
                           int line)
{
    if (!strstr(r->out.ptr, needle)) {
        print_ctl(r);
        print_error("expected stdout to contain '%s'\n", needle);
        _fail(file, line);
    }
}

/* ------------------------------------------------------------------ */
/* HTTP helpers                                                        */

static void http_put(const char *id, const char *key_raw, size_t key_len, const char *ct,
                     const void *data, size_t len)
{
    char *key = harness_pct_encode(key_raw, key_len);
    char *target = xstrfmt("/v1/cache/%s", key);
    char *h_id = xstrfmt("X-Instance-ID: %s", id);
    char *h_ct = xstrfmt("Content-Type: %s", ct);
    const char *headers[] = { h_id, h_ct, NULL };
    assert_int_equal(harness_request(fx->http, "PUT", target, headers, data, len, &resp), 0);
    if (resp.status != 200 && resp.status != 201) {
        harness_response_print(&resp);
        fail_msg("PUT %s/%s: %ld", id, key, resp.status);
    }
    free(key);
    free(target);
    free(h_id);
    free(h_ct);
}

static void http_get(const char *id, const char *key_raw, size_t key_len)
{
    char *key = harness_pct_encode(key_raw, key_len);
    char *target = xstrfmt("/v1/cache/%s", key);
    char *h_id = xstrfmt("X-Instance-ID: %s", id);
    const char *headers[] = { h_id, NULL };
    assert_int_equal(harness_request(fx->http, "GET", target, headers, NULL, 0, &resp), 0);
    free(key);
    free(target);
    free(h_id);
}

static void http_delete(const char *id, const char *key)
{
    char *target = xstrfmt("/v1/cache/%s", key);
    char *h_id = xstrfmt("X-Instance-ID: %s", id);
    const char *headers[] = { h_id, NULL };
    assert_int_equal(harness_request(fx->http, "DELETE", target, headers, NULL, 0, &resp), 0);
    assert_http_status(&resp, 204);
    free(target);
    free(h_id);
}

static void expect_get(const char *id, const char *key_raw, size_t key_len, const char *ct,
                       const void *data, size_t len)
{
    http_get(id, key_raw, key_len);
    assert_http_status(&resp, 200);
    const char *got_ct = harness_response_header(&resp, "Content-Type");
    if (!got_ct || strcmp(got_ct, ct) != 0) {
        harness_response_print(&resp);
        fail_msg("GET %s: Content-Type '%s', want '%s'", id, got_ct ? got_ct : "(none)", ct);
    }
    assert_body_eq(&resp, data, len);
}

/* The refusal a state gives, with its body (DESIGN.md "API rules":
 * "each body carries instance_id and status"). */
static void expect_refused(long status, const char *code, const char *id, const char *state)
{
    assert_json_error(&resp, status, code);
    struct json_object *o = harness_response_json(&resp), *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "instance_id", &v));
    assert_string_equal(json_object_get_string(v), id);
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), state);
    json_object_put(o);
}

/* The same GET on every worker's own socket, bypassing lighttpd (which
 * sends sequential requests to one worker). */
static void expect_every_worker(const char *id, const char *key, long status, const char *code)
{
    char *target = xstrfmt("/v1/cache/%s", key);
    char *h_id = xstrfmt("X-Instance-ID: %s", id);
    const char *headers[] = { h_id, NULL };
    for (int w = 0; w < fx->srv->workers; w++) {
        char *sock = harness_worker_socket(fx->srv, w);
        assert_int_equal(harness_fcgi_request(sock, "GET", target, headers, NULL, 0, &resp), 0);
        if (code)
            assert_json_error(&resp, status, code);
        else
            assert_http_status(&resp, status);
        free(sock);
    }
    free(target);
    free(h_id);
}

/* ------------------------------------------------------------------ */
/* help and usage                                                      */

/* EVIDENCE: issue 5 "--help for each command; exit codes 0 ok". */
static void test_cli__help(void **state)
{
    (void)state;
    static const char *const names[] = { "instances", "show", "set-status", "delete", "stats",
                                         "dump", "load", "check", "compact", NULL };
    struct ctl_result *r = ctl_run(NULL, NULL, NULL, (const char *[]){ "--help", NULL });
    assert_ctl_exit(r, 0);
    assert_out_has(r, "usage: roostctl [--store DIR] COMMAND");
    assert_int_equal(r->err.len, 0);
    for (int i = 0; names[i]; i++)
        assert_out_has(r, names[i]);
    for (int i = 0; names[i]; i++) {
        r = ctl_run(NULL, NULL, NULL, (const char *[]){ names[i], "--help", NULL });
        assert_ctl_exit(r, 0);
        assert_out_has(r, "usage: roostctl [--store DIR] ");
        assert_out_has(r, names[i]);
        r = ctl_run(NULL, NULL, NULL, (const char *[]){ "help", names[i], NULL });
        assert_ctl_exit(r, 0);
        assert_out_has(r, names[i]);
    }
}

/* EVIDENCE: issue 5 "exit codes 0 ok, 1 failure, 2 usage"; DESIGN.md "An
 * unknown state name is refused (400, or exit 2 in roostctl)". */
static void test_cli__usage_errors_exit_2(void **state)
{
    (void)state;
    const char *const *const cases[] = {
        (const char *[]){ NULL },
        (const char *[]){ "frobnicate", NULL },
        (const char *[]){ "set-status", "cli-a", "sleepy", NULL },
        (const char *[]){ "set-status", "cli-a", NULL },
        (const char *[]){ "set-status", "cli-a", "active", "extra", NULL },
        (const char *[]){ "instances", "--limit", "abc", NULL },
        (const char *[]){ "instances", "--limit", "0", NULL },
        (const char *[]){ "instances", "--status", "sleepy", NULL },
        (const char *[]){ "instances", "--color", NULL },
        (const char *[]){ "show", NULL },
        (const char *[]){ "show", "a", "b", NULL },
        (const char *[]){ "show", "no spaces allowed", NULL },
        (const char *[]){ "delete", "../etc", NULL },
        (const char *[]){ "stats", "--store", "/tmp", NULL },
        (const char *[]){ "check", "--repair=yes", NULL },
        (const char *[]){ "--store", NULL },
        (const char *[]){ "--frobnicate", "stats", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ctl_result *r = ctl_run(NULL, NULL, NULL, cases[i]);
        if (r->status != 2)
            fail_msg("case %zu (%s ...): exit %d, want 2; stderr: %s", i,
                     cases[i][0] ? cases[i][0] : "(none)", r->status, r->err.ptr);
        assert_one_line_error(r, NULL);
        assert_int_equal(r->out.len, 0);
    }
    /* The state error names the five states. */
    struct ctl_result *r = CTL("set-status", "cli-a", "sleepy");
    assert_ctl_exit(r, 2);
    assert_one_line_error(r, "unknown state 'sleepy'");
    assert_one_line_error(r, "active, inactive, paused, migrating");
}

/* EVIDENCE: brief "roostctl must never create a store where there was
 * none by accident: if the directory does not exist, fail with a clear
 * message"; issue 5 "errors on stderr in one line". */
static void test_cli__missing_store_dir_exits_1(void **state)
{
    (void)state;
    char *dir = xstrfmt("%s/no-such/store", fx->srv->rundir);
    struct ctl_result *r = ctl_run(NULL, NULL, NULL,
                                   (const char *[]){ "--store", dir, "instances", NULL });
    assert_ctl_exit(r, 1);
    char *want = xstrfmt("roostctl: cannot open store '%s': no such directory", dir);
    assert_one_line_error(r, want);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), -1);

    /* The same through ROOST_STORE_DIR, and the message says where from. */
    char *env = xstrfmt("ROOST_STORE_DIR=%s", dir);
    r = ctl_run((const char *[]){ env, NULL }, NULL, NULL, (const char *[]){ "stats", NULL });
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, want);
    assert_one_line_error(r, "ROOST_STORE_DIR");
    assert_int_equal(stat(dir, &sb), -1);

    /* A file where the directory should be. */
    char *file = xstrfmt("%s/a-file", fx->srv->rundir);
    FILE *f = fopen(file, "w");
    fclose(f);
    r = ctl_run(NULL, NULL, NULL, (const char *[]){ "--store", file, "check", NULL });
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "not a directory");
    free(file);
    free(env);
    free(want);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* set-status                                                          */

/* EVIDENCE: issue 5 "roostctl against a live server (set-status through
 * the CLI is seen by the very next HTTP request)"; spec "Instance States";
 * DESIGN.md "any of the five states from any state". */
static void test_cli__set_status_seen_by_next_request(void **state)
{
    (void)state;
    http_put("cli-a", "k", 1, "text/plain", "v1", 2);
    expect_get("cli-a", "k", 1, "text/plain", "v1", 2);

    struct ctl_result *r = CTL("set-status", "cli-a", "paused");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "instance 'cli-a' is now paused");
    http_get("cli-a", "k", 1);
    expect_refused(503, "INSTANCE_PAUSED", "cli-a", "paused");
    expect_every_worker("cli-a", "k", 503, "INSTANCE_PAUSED");

    assert_ctl_exit(CTL("set-status", "cli-a", "inactive"), 0);
    http_get("cli-a", "k", 1);
    expect_refused(503, "INSTANCE_INACTIVE", "cli-a", "inactive");

    /* deleting set by hand fences with 410 without removing data. */
    assert_ctl_exit(CTL("set-status", "cli-a", "deleting"), 0);
    http_get("cli-a", "k", 1);
    expect_refused(410, "INSTANCE_DELETING", "cli-a", "deleting");
    expect_every_worker("cli-a", "k", 410, "INSTANCE_DELETING");

    assert_ctl_exit(CTL("set-status", "cli-a", "migrating"), 0);
    expect_get("cli-a", "k", 1, "text/plain", "v1", 2);

    assert_ctl_exit(CTL("set-status", "cli-a", "active"), 0);
    expect_get("cli-a", "k", 1, "text/plain", "v1", 2);
    expect_every_worker("cli-a", "k", 200, NULL);

    r = CTL("set-status", "cli-nobody", "paused");
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "no instance 'cli-nobody'");
}

/* ------------------------------------------------------------------ */
/* instances, show, stats                                              */

static struct json_object *parse_json_text(const char *p, size_t n)
{
    struct json_object *o = NULL;
    struct roost_buf detail = ROOST_BUF_INIT;
    if (roost_json_parse(roost_slice_make(p, n), &o, &detail) != ROOST_OK)
        fail_msg("not JSON (%s): %.*s", detail.ptr, (int)(n > 300 ? 300 : n), p);
    roost_buf_release(&detail);
    return o;
}

static int64_t get_int(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, a, &v))
        fail_msg("no member '%s'", a);
    if (b && !json_object_object_get_ex(v, b, &v))
        fail_msg("no member '%s.%s'", a, b);
    return json_object_get_int64(v);
}

/* A table row of stdout starting with the word id, or NULL. */
static const char *find_row(const struct roost_buf *out, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = out->ptr; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, id, n) == 0 && p[n] == ' ')
            return p;
    return NULL;
}

static void test_cli__instances_show_stats(void **state)
{
    (void)state;
    http_put("cli-b", "one", 3, "text/plain", "1", 1);
    http_put("cli-b", "two", 3, "text/plain", "22", 2);
    http_put("cli-c", "x", 1, "text/plain", "", 0);
    assert_ctl_exit(CTL("set-status", "cli-c", "paused"), 0);

    struct ctl_result *r = CTL("instances");
    assert_ctl_exit(r, 0);
    assert_true(strncmp(r->out.ptr, "ID", 2) == 0);
    static const char *const heads[] = { "STATUS", "GAME_TYPE", "REGION", "OWNER", "CREATED_AT",
                                         "LAST_ACTIVE", "KEYS", "BYTES", NULL };
    for (int i = 0; heads[i]; i++)
        assert_out_has(r, heads[i]);
    const char *row = find_row(&r->out, "cli-b");
    if (!row) {
        print_ctl(r);
        fail_msg("no row for cli-b");
    }
    /* keys 2, bytes (3+1)+(3+2) = 9: the last two columns. */
    const char *eol = strchr(row, '\n');
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)(eol - row), row);
    assert_non_null(strstr(line, " active "));
    long long keys = -1, bytes = -1;
    char *last = strrchr(line, ' ');
    assert_non_null(last);
    bytes = strtoll(last + 1, NULL, 10);
    while (last > line && *last == ' ')
        last--;
    while (last > line && last[-1] != ' ')
        last--;
    keys = strtoll(last, NULL, 10);
    assert_int_equal(keys, 2);
    assert_int_equal(bytes, 9);
    /* Columns line up: BYTES is right-aligned, so every line is as long
     * as the header. */
    size_t width = (size_t)(strchr(r->out.ptr, '\n') - r->out.ptr);
    for (const char *p = r->out.ptr, *nl; (nl = strchr(p, '\n')); p = nl + 1)
        assert_int_equal((size_t)(nl - p), width);

    /* --json: one object per line, the record with its usage. */
    r = CTL("instances", "--json");
    assert_ctl_exit(r, 0);
    int seen_b = 0;
    for (const char *p = r->out.ptr, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        struct json_object *o = parse_json_text(p, (size_t)(nl - p)), *id;
        assert_true(json_object_object_get_ex(o, "id", &id));
        if (strcmp(json_object_get_string(id), "cli-b") == 0) {
            seen_b = 1;
            assert_int_equal(get_int(o, "usage", "keys"), 2);
            assert_int_equal(get_int(o, "usage", "bytes"), 9);
        }
        json_object_put(o);
    }
    assert_true(seen_b);

    r = CTL("instances", "--status", "paused", "--json");
    assert_ctl_exit(r, 0);
    assert_non_null(strstr(r->out.ptr, "\"cli-c\""));
    assert_null(strstr(r->out.ptr, "\"cli-b\""));

    r = CTL("instances", "--limit", "1");
    assert_ctl_exit(r, 0);
    assert_int_equal(count_lines(&r->out), 2);

    /* The store from ROOST_STORE_DIR when --store is not given. */
    char *env = xstrfmt("ROOST_STORE_DIR=%s", fx->srv->store_dir);
    r = ctl_run((const char *[]){ env, NULL }, NULL, NULL, (const char *[]){ "show", "cli-b", NULL });
    free(env);
    assert_ctl_exit(r, 0);
    struct json_object *o = parse_json_text(r->out.ptr, r->out.len), *v;
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_string_equal(json_object_get_string(v), "cli-b");
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), "active");
    assert_int_equal(get_int(o, "usage", "keys"), 2);
    assert_int_equal(get_int(o, "usage", "bytes"), 9);
    json_object_put(o);
    assert_true(count_lines(&r->out) > 3); /* indented for people */

    r = CTL("show", "cli-nobody");
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "no instance 'cli-nobody'");

    r = CTL("stats", "--json");
    assert_ctl_exit(r, 0);
    o = parse_json_text(r->out.ptr, r->out.len);
    assert_true(get_int(o, "instances", NULL) >= 3);
    json_object_put(o);
    r = CTL("stats");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "instances");
    assert_out_has(r, "paused");
    assert_true(count_lines(&r->out) >= 18); /* a line per store file at least */
}

/* ------------------------------------------------------------------ */
/* check, dump, load                                                   */

/* EVIDENCE: issue 5 "check (verify the store: every key belongs to a known
 * instance, usage figures match, records parse)" on a store written the
 * way clients write it. */
static void test_cli__check_passes_on_http_written_store(void **state)
{
    (void)state;
    char key[32], val[300];
    for (int i = 0; i < 60; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        memset(val, 'a' + i % 26, sizeof(val));
        val[0] = '\0';
        http_put("cli-check", key, strlen(key), "application/octet-stream", val,
                 (size_t)(i * 5 % 300));
    }
    for (int i = 0; i < 60; i += 3) {
        snprintf(key, sizeof(key), "k%d", i);
        http_put("cli-check", key, strlen(key), "text/plain", "again", 5);
    }
    for (int i = 1; i < 60; i += 4) {
        snprintf(key, sizeof(key), "k%d", i);
        http_delete("cli-check", key);
    }
    struct ctl_result *r = CTL("check");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "no problems");
    assert_int_equal(count_lines(&r->out), 1);
    r = CTL("check", "--repair");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "no problems");
}

/* A writer process: PUTs and DELETEs over HTTP, a new instance every 16
 * requests (so auto-creation races the check's two passes). Exits 0 when
 * every answer was as expected. */
static void live_writer(const char *base_url, int requests)
{
    struct harness_client *c = harness_client_new_url(base_url);
    struct harness_response r;
    harness_response_init(&r);
    int bad = 0;
    char target[64], hid[64], body[200];
    memset(body, 'w', sizeof(body));
    for (int i = 0; i < requests && !bad; i++) {
        snprintf(target, sizeof(target), "/v1/cache/k%d", i % 5);
        snprintf(hid, sizeof(hid), "X-Instance-ID: live-%d", i / 16);
        const char *headers[] = { hid, "Content-Type: text/plain", NULL };
        if (i % 4 == 3) {
            if (harness_request(c, "DELETE", target, headers, NULL, 0, &r) != 0
                || (r.status != 204 && r.status != 404))
                bad = 1;
        } else if (harness_request(c, "PUT", target, headers, body, (size_t)(i % 200), &r) != 0
                   || (r.status != 200 && r.status != 201)) {
            bad = 1;
        }
    }
    harness_response_release(&r);
    harness_client_free(c);
    _exit(bad);
}

/* maint.h "Usage figures are counted and compared under the partition's
 * lock, so concurrent writes never cause a false report"; orphans are
 * checked again against META. */
static void test_cli__check_while_clients_write(void **state)
{
    (void)state;
    const int requests = 600;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        live_writer(fx->srv->base_url, requests);
    int runs = 0, st = 0;
    long deadline = harness_now_ms() + 60000L * harness_time_scale();
    for (;;) {
        struct ctl_result *r = CTL("check", runs % 2 ? "--repair" : "--");
        if (r->status != 0 || !strstr(r->out.ptr, "no problems")) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            print_ctl(r);
            fail_msg("check run %d found problems while clients wrote", runs);
        }
        runs++;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (harness_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("the writer did not finish in time");
        }
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    printf("# check ran %d times during %d writes\n", runs, requests);
    assert_true(runs >= 2);
    struct ctl_result *r = CTL("check");
    assert_ctl_exit(r, 0);
}

struct sample {
    const char *id;
    const char *key;
    size_t key_len;
    const char *ct;
    const char *data;
    size_t len;
};

static const struct sample dump_samples[] = {
    { "dump-a", "nul", 3, "application/octet-stream", "\0a\0b\0", 5 },
    { "dump-a", "latin1", 6, "text/plain; charset=iso-8859-1", "caf\xe9\xff\xfe", 6 },
    { "dump-a", "empty", 5, "text/plain", "", 0 },
    { "dump-a", "a/b c+d", 7, "application/json", "{\"x\":[1,2]}", 11 },
    { "dump-a", "\xc3\xbc\xe2\x82\xac", 5, "text/plain; charset=utf-8", "\xe2\x82\xac", 3 },
    { "dump-b", "crlf", 4, "application/x-thing", "\r\n\r\n\x1b[2J\x7f", 9 },
};
#define DUMP_SAMPLES (sizeof(dump_samples) / sizeof(dump_samples[0]))

static void put_dump_samples(void)
{
    for (size_t i = 0; i < DUMP_SAMPLES; i++) {
        const struct sample *s = &dump_samples[i];
        http_put(s->id, s->key, s->key_len, s->ct, s->data, s->len);
    }
    char key[32], big[4096];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 31);
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "bulk-%02d", i);
        http_put("dump-b", key, strlen(key), "application/octet-stream", big, (size_t)i * 100);
    }
}

static void expect_dump_samples(void)
{
    for (size_t i = 0; i < DUMP_SAMPLES; i++) {
        const struct sample *s = &dump_samples[i];
        expect_get(s->id, s->key, s->key_len, s->ct, s->data, s->len);
    }
    char key[32], big[4096];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 31);
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "bulk-%02d", i);
        expect_get("dump-b", key, strlen(key), "application/octet-stream", big, (size_t)i * 100);
    }
}

/* A dump without the lines of other tests' instances and without
 * last_active, which a request may legitimately move (activity tracking). */
static void normalized_dump(const char *path, struct roost_buf *out)
{
    struct roost_buf raw = ROOST_BUF_INIT;
    slurp(path, &raw);
    roost_buf_reset(out);
    for (char *p = raw.ptr, *nl; (nl = memchr(p, '\n', (size_t)(raw.ptr + raw.len - p))); p = nl + 1) {
        struct json_object *o = parse_json_text(p, (size_t)(nl - p)), *rec, *id;
        if (json_object_object_get_ex(o, "record", &rec)) {
            json_object_object_del(rec, "last_active");
            json_object_object_get_ex(rec, "id", &id);
        } else if (!json_object_object_get_ex(o, "instance_id", &id)) {
            id = NULL; /* the header */
        }
        if (!id || strncmp(json_object_get_string(id), "dump-", 5) == 0) {
            roost_json_serialize(o, out);
            roost_buf_append_char(out, '\n');
        }
        json_object_put(o);
    }
    roost_buf_release(&raw);
}

/* EVIDENCE: issue 5 "dump -> wipe -> load gives back byte-identical
 * values"; part 5 "load ... restoring a store exactly". */
static void test_cli__dump_wipe_load_gives_back_identical_values(void **state)
{
    (void)state;
    put_dump_samples();
    assert_ctl_exit(CTL("set-status", "dump-b", "migrating"), 0);

    char *dump1 = xstrfmt("%s/dump1.jsonl", fx->srv->rundir);
    char *dump2 = xstrfmt("%s/dump2.jsonl", fx->srv->rundir);
    struct ctl_result *r = ctl_store(NULL, dump1, (const char *[]){ "dump", NULL });
    assert_ctl_exit(r, 0);
    assert_int_equal(r->err.len, 0);

    /* Wipe: delete both instances through the CLI. */
    r = CTL("delete", "dump-a");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "deleted instance 'dump-a': 5 keys removed");
    r = CTL("delete", "dump-b");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "41 keys removed");
    http_get("dump-a", "nul", 3);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");  /* auto-created afresh, empty */

    /* dump-a exists again (the GET created it): a plain load refuses and
     * writes nothing; --replace restores it as dumped. */
    r = ctl_store(dump1, NULL, (const char *[]){ "load", NULL });
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "exist in the store already");
    assert_one_line_error(r, "nothing was written");
    http_get("dump-b", "crlf", 4);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");

    r = ctl_store(dump1, NULL, (const char *[]){ "load", "--replace", NULL });
    assert_ctl_exit(r, 0);
    assert_out_has(r, "values");
    expect_dump_samples();

    /* Records too: dump-b is migrating again, and a second dump says the
     * same as the first. */
    r = CTL("show", "dump-b");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "\"migrating\"");
    r = ctl_store(NULL, dump2, (const char *[]){ "dump", NULL });
    assert_ctl_exit(r, 0);
    struct roost_buf n1 = ROOST_BUF_INIT, n2 = ROOST_BUF_INIT;
    normalized_dump(dump1, &n1);
    normalized_dump(dump2, &n2);
    assert_true(n1.len > 0);
    assert_string_equal(n1.ptr, n2.ptr);

    r = CTL("check");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "no problems");

    /* Into a fresh, empty store directory (an installed but unused one):
     * the same dump back out of it. */
    char *fresh = xstrfmt("%s/fresh-store", fx->srv->rundir);
    assert_int_equal(mkdir(fresh, 0770), 0);
    r = ctl_run(NULL, dump1, NULL, (const char *[]){ "--store", fresh, "load", NULL });
    assert_ctl_exit(r, 0);
    char *dump3 = xstrfmt("%s/dump3.jsonl", fx->srv->rundir);
    r = ctl_run(NULL, NULL, dump3, (const char *[]){ "--store", fresh, "dump", NULL });
    assert_ctl_exit(r, 0);
    /* Nothing touched the fresh store in between: byte for byte. */
    struct roost_buf raw1 = ROOST_BUF_INIT, raw3 = ROOST_BUF_INIT;
    slurp(dump1, &raw1);
    slurp(dump3, &raw3);
    assert_int_equal(raw1.len, raw3.len);
    assert_memory_equal(raw1.ptr, raw3.ptr, raw1.len);
    r = ctl_run(NULL, NULL, NULL, (const char *[]){ "--store", fresh, "check", NULL });
    assert_ctl_exit(r, 0);

    roost_buf_release(&n1);
    roost_buf_release(&n2);
    roost_buf_release(&raw1);
    roost_buf_release(&raw3);
    free(dump1);
    free(dump2);
    free(dump3);
    free(fresh);
}

/* EVIDENCE: brief "load ... refuse malformed lines with the line number
 * (exit 1 ...)"; maint.h "a malformed dump writes nothing". */
static void test_cli__load_rejects_malformed_input(void **state)
{
    (void)state;
    char *path = xstrfmt("%s/bad.jsonl", fx->srv->rundir);
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"roost-dump\",\"version\":1}\n"
          "{\"type\":\"value\",\"instance_id\":\"cli-bad\",\"key\":\"k\",\"content_type\":"
          "\"text/plain\",\"value_base64\":\"aGk=\"}\n"
          "{\"type\":\"value\",\"instance_id\":\"cli-bad\",\"key\":\"k2\",\"content_type\":"
          "\"text/plain\",\"value_base64\":\"not base64!\"}\n", f);
    fclose(f);
    struct ctl_result *r = CTL("load", path);
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "line 3:");
    assert_one_line_error(r, "nothing was written");
    http_get("cli-bad", "k", 1);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");

    r = CTL("load", "/nonexistent/dump.jsonl");
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "cannot open '/nonexistent/dump.jsonl'");
    free(path);
}

/* ------------------------------------------------------------------ */
/* delete, compact, flush                                              */

/* EVIDENCE: issue 5 part 3 "Delete moves the instance to deleting ...
 * removes every key of its namespace, then removes the record"; brief
 * "delete via CLI -> HTTP gets 404 / auto-creates afresh". */
static void test_cli__delete_then_http_sees_a_fresh_instance(void **state)
{
    (void)state;
    http_put("cli-del", "a", 1, "text/plain", "1", 1);
    http_put("cli-del", "b", 1, "text/plain", "2", 1);
    assert_ctl_exit(CTL("set-status", "cli-del", "paused"), 0);
    struct ctl_result *r = CTL("delete", "cli-del");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "deleted instance 'cli-del': 2 keys removed");

    r = CTL("show", "cli-del");
    assert_ctl_exit(r, 1);
    http_get("cli-del", "a", 1);
    assert_json_error(&resp, 404, "KEY_NOT_FOUND");
    /* Auto-created afresh: active (not the paused of before), no keys. */
    r = CTL("show", "cli-del");
    assert_ctl_exit(r, 0);
    struct json_object *o = parse_json_text(r->out.ptr, r->out.len), *v;
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), "active");
    assert_int_equal(get_int(o, "usage", "keys"), 0);
    json_object_put(o);

    r = CTL("delete", "cli-nobody");
    assert_ctl_exit(r, 1);
    assert_one_line_error(r, "no instance 'cli-nobody'");
}

/* EVIDENCE: issue 5 "compact (reorganize)"; DESIGN.md "Store" point 8:
 * handles opened before a compaction reopen, or their writes vanish. */
static void test_cli__compact_while_serving(void **state)
{
    (void)state;
    char key[32], val[512];
    memset(val, 'z', sizeof(val));
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        http_put("cli-compact", key, strlen(key), "text/plain", val, sizeof(val));
    }
    for (int i = 0; i < 200; i += 2) {
        snprintf(key, sizeof(key), "c%d", i);
        http_delete("cli-compact", key);
    }
    struct ctl_result *r = CTL("compact");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "kv-");
    assert_out_has(r, "reclaimed");
    assert_true(count_lines(&r->out) >= 17);
    expect_get("cli-compact", "c1", 2, "text/plain", val, sizeof(val));
    /* Writes after the compaction are kept, on every worker. */
    http_put("cli-compact", "after", 5, "text/plain", "yes", 3);
    expect_every_worker("cli-compact", "after", 200, NULL);
    r = CTL("check");
    assert_ctl_exit(r, 0);
}

static void test_cli__flush(void **state)
{
    (void)state;
    struct ctl_result *r = CTL("flush");
    assert_ctl_exit(r, 0);
    assert_int_equal(r->err.len, 0);
}

/* ------------------------------------------------------------------ */
/* noauto                                                              */

/* With ROOST_AUTO_CREATE=0 an instance exists only as an operator makes
 * it: here by loading a dump, then deleting it. spec: unknown instances
 * get 404 INSTANCE_NOT_FOUND. */
static void test_noauto__load_creates_delete_removes(void **state)
{
    (void)state;
    http_get("na-1", "k", 1);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");

    char *path = xstrfmt("%s/na.jsonl", fx->srv->rundir);
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"roost-dump\",\"version\":1}\n"
          "{\"type\":\"instance\",\"record\":{\"version\":1,\"id\":\"na-1\",\"status\":\"active\","
          "\"owner\":\"\",\"created_at\":1735238400,\"last_active\":1735238400}}\n"
          "{\"type\":\"value\",\"instance_id\":\"na-1\",\"key\":\"k\",\"content_type\":"
          "\"application/octet-stream\",\"value_base64\":\"AP8A\"}\n", f);
    fclose(f);
    struct ctl_result *r = ctl_store(path, NULL, (const char *[]){ "load", NULL });
    assert_ctl_exit(r, 0);
    assert_out_has(r, "loaded 1 instance and 1 value (3 bytes)");
    expect_get("na-1", "k", 1, "application/octet-stream", "\0\xff\0", 3);

    r = CTL("delete", "na-1");
    assert_ctl_exit(r, 0);
    assert_out_has(r, "1 key removed");
    http_get("na-1", "k", 1);
    assert_json_error(&resp, 404, "INSTANCE_NOT_FOUND");
    expect_every_worker("na-1", "k", 404, "INSTANCE_NOT_FOUND");
    r = CTL("check");
    assert_ctl_exit(r, 0);
    free(path);
}

int main(void)
{
    const struct CMUnitTest cli_tests[] = {
        cmocka_unit_test(test_cli__help),
        cmocka_unit_test(test_cli__usage_errors_exit_2),
        cmocka_unit_test(test_cli__missing_store_dir_exits_1),
        cmocka_unit_test(test_cli__set_status_seen_by_next_request),
        cmocka_unit_test(test_cli__instances_show_stats),
        cmocka_unit_test(test_cli__check_passes_on_http_written_store),
        cmocka_unit_test(test_cli__check_while_clients_write),
        cmocka_unit_test(test_cli__dump_wipe_load_gives_back_identical_values),
        cmocka_unit_test(test_cli__load_rejects_malformed_input),
        cmocka_unit_test(test_cli__delete_then_http_sees_a_fresh_instance),
        cmocka_unit_test(test_cli__compact_while_serving),
        cmocka_unit_test(test_cli__flush),
    };
    const struct CMUnitTest noauto_tests[] = {
        cmocka_unit_test(test_noauto__load_creates_delete_removes),
    };
    harness_response_init(&resp);
    int failed = cmocka_run_group_tests_name("cli", cli_tests, setup_cli, teardown_cli);
    harness_server_free(fx_cli.srv, failed);
    int failed2 = cmocka_run_group_tests_name("noauto", noauto_tests, setup_noauto,
                                              teardown_noauto);
    harness_server_free(fx_noauto.srv, failed2);
    harness_response_release(&resp);
    roost_buf_release(&ctl_res.out);
    roost_buf_release(&ctl_res.err);
    return failed || failed2;
}
