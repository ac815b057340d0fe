/*
 * test_config.c - the two shipped lighttpd configurations, and how the
 * workers treat bad settings.
 *
 * Source of truth: STYLE.md "Config checks" ("lighttpd -tt -f runs on both
 * shipped configs"), DESIGN.md "Configuration", issue 4 part 2.
 *
 * Test organization:
 *   test_config__local_*    www-conf/roost-local.conf: -tt with the
 *                           environment it documents, and without it
 *   test_config__debian_*   www-conf/10-roost.conf inside a minimal main
 *                           config: -tt, the effective config (-p), the
 *                           settings it documents, and a live server
 *                           running it (paths moved into a run directory)
 *   test_config__bad_*      a bad ROOST_* value: logged, requests refused
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
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "testlib.h"

extern char **environ;

static const char *top;
static const char *lighttpd;

/* Every setting the worker reads (settings.c); later settings join as they are built. */
static const char *const design_settings[] = {
    "ROOST_STORE_DIR", "ROOST_DEFAULT_INSTANCE", "ROOST_AUTO_CREATE", "ROOST_MAX_VALUE_BYTES",
    "ROOST_MAX_BATCH_KEYS", "ROOST_MODE", "ROOST_LOG_LEVEL", "ROOST_ADMIN_TOKEN",
    "ROOST_ADMIN_USERS", "ROOST_CONFIG_SOURCE", "ROOST_CONFIG_TTL", "ROOST_CONFIG_STALE_MAX",
    "ROOST_CONFIG_USE_STALE", "ROOST_CONFIG_TIMEOUT_MS", "ROOST_TRUSTED_USER_HEADER",
    "ROOST_REQUIRE_AUTH", NULL,
};

/* Per-test server, stopped by the teardown even when the test fails. */
static struct harness_server *srv;
static struct harness_client *http;
static int test_passed;
static char *scratch_dir;

static int per_test_setup(void **state)
{
    (void)state;
    test_passed = 0;
    return 0;
}

static int per_test_teardown(void **state)
{
    (void)state;
    harness_client_free(http);
    http = NULL;
    int rc = 0;
    if (srv) {
        rc = harness_server_stop(srv);
        harness_server_free(srv, !test_passed || rc != 0);
        srv = NULL;
    }
    if (scratch_dir) {
        if (test_passed)
            roost_test_rmtree(scratch_dir);
        else
            fprintf(stderr, "test: kept %s\n", scratch_dir);
        free(scratch_dir);
        scratch_dir = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* running lighttpd -tt / -p                                           */

struct run {
    int status;              /* exit status, -1 if it did not exit */
    struct roost_buf out, err;
};

static int read_fd_into(int fd, struct roost_buf *b)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n > 0)
        roost_buf_append(b, tmp, (size_t)n);
    return (int)n;
}

/* Runs lighttpd with args and env entries (NAME=value; every ROOST_* of our
 * own environment is dropped first), at most 20 s. */
static void run_lighttpd(const char *const *args, const char *const *env, struct run *r)
{
    r->status = -1;
    roost_buf_init(&r->out);
    roost_buf_init(&r->err);

    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    for (const char *const *e = env; e && *e; e++)
        n++;
    char **envp = calloc(n + 1, sizeof(*envp));
    size_t k = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "ROOST_", 6) != 0)
            envp[k++] = *e;
    for (const char *const *e = env; e && *e; e++)
        envp[k++] = (char *)*e;
    envp[k] = NULL;

    size_t na = 0;
    while (args[na])
        na++;
    char **argv = calloc(na + 2, sizeof(*argv));
    argv[0] = (char *)lighttpd;
    for (size_t i = 0; i < na; i++)
        argv[i + 1] = (char *)args[i];

    int po[2], pe[2];
    assert_int_equal(pipe(po), 0);
    assert_int_equal(pipe(pe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        execve(lighttpd, argv, envp);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    long deadline = harness_now_ms() + 20000L * harness_time_scale();
    int open_o = 1, open_e = 1, st = 0;
    while ((open_o || open_e) && harness_now_ms() < deadline) {
        int progressed = 0;
        if (open_o) {
            int got = read_fd_into(po[0], &r->out);
            if (got == 0)
                open_o = 0;
            progressed |= got > 0;
        }
        if (open_e) {
            int got = read_fd_into(pe[0], &r->err);
            if (got == 0)
                open_e = 0;
            progressed |= got > 0;
        }
        if (!progressed)
            usleep(2000);
    }
    if (open_o || open_e)
        kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    if (WIFEXITED(st))
        r->status = WEXITSTATUS(st);
    close(po[0]);
    close(pe[0]);
    free(envp);
    free(argv);
}

static void run_release(struct run *r)
{
    roost_buf_release(&r->out);
    roost_buf_release(&r->err);
}

static void print_run(const char *what, const struct run *r)
{
    fprintf(stderr, "%s: exit %d\n-- stdout --\n%s\n-- stderr --\n%s\n", what, r->status,
            r->out.ptr, r->err.ptr);
}

static char *path_in(const char *dir, const char *name)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_appendf(&b, "%s/%s", dir, name);
    return roost_buf_detach(&b, NULL);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void read_text(const char *path, struct roost_buf *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    char tmp[4096];
    size_t n;
    roost_buf_reset(out);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        roost_buf_append(out, tmp, n);
    fclose(f);
}

/* Replaces every occurrence of from by to in b. */
static void replace_all(struct roost_buf *b, const char *from, const char *to)
{
    struct roost_buf o = ROOST_BUF_INIT;
    size_t fl = strlen(from);
    const char *p = b->ptr, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        roost_buf_append(&o, p, (size_t)(hit - p));
        roost_buf_append_str(&o, to);
        p = hit + fl;
    }
    roost_buf_append_str(&o, p);
    roost_buf_release(b);
    *b = o;
}

/* A minimal main config around the Debian snippet, with Debian's stock
 * server.http-parseopts (/etc/lighttpd/lighttpd.conf of lighttpd 1.4.69),
 * which decode %2F in the path lighttpd routes on. */
static char *main_conf_text(const char *snippet, int live)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append_str(&b, "# written by test_config\n");
    if (live) {
        roost_buf_append_str(&b, "server.bind = \"127.0.0.1\"\n"
                                 "server.port = env.ROOST_PORT\n"
                                 "server.document-root = env.ROOST_RUNDIR\n"
                                 "server.errorlog = env.ROOST_RUNDIR + \"/error.log\"\n"
                                 "server.tag = \"roost\"\n");
    } else {
        roost_buf_append_str(&b, "server.bind = \"127.0.0.1\"\n"
                                 "server.port = 8080\n"
                                 "server.document-root = \"/var/www/html\"\n");
    }
    roost_buf_append_str(&b, "server.http-parseopts = (\n"
                             "  \"header-strict\" => \"enable\",\n"
                             "  \"host-strict\" => \"enable\",\n"
                             "  \"host-normalize\" => \"enable\",\n"
                             "  \"url-normalize-unreserved\" => \"enable\",\n"
                             "  \"url-normalize-required\" => \"enable\",\n"
                             "  \"url-ctrls-reject\" => \"enable\",\n"
                             "  \"url-path-2f-decode\" => \"enable\",\n"
                             "  \"url-path-dotseg-remove\" => \"enable\",\n"
                             ")\n");
    roost_buf_appendf(&b, "include \"%s\"\n", snippet);
    return roost_buf_detach(&b, NULL);
}

static char *snippet_path(void)
{
    return path_in(top, "www-conf/10-roost.conf");
}

/* ------------------------------------------------------------------ */
/* roost-local.conf                                                    */

/* EVIDENCE-OF: STYLE.md "lighttpd -tt -f runs on both shipped configs";
 * roost-local.conf takes ROOST_PORT, ROOST_RUNDIR, ROOST_WORKERS and
 * ROOST_FCGI_BIN from the environment. */
static void test_config__local_conf_passes_tt(void **state)
{
    (void)state;
    scratch_dir = roost_test_tmpdir("config-local");
    char *conf = path_in(top, "www-conf/roost-local.conf");
    struct roost_buf rundir = ROOST_BUF_INIT, bin = ROOST_BUF_INIT;
    roost_buf_appendf(&rundir, "ROOST_RUNDIR=%s", scratch_dir);
    roost_buf_appendf(&bin, "ROOST_FCGI_BIN=%s", getenv("ROOST_FCGI_BIN"));
    const char *env[] = { "ROOST_PORT=8080", rundir.ptr, "ROOST_WORKERS=4", bin.ptr, NULL };
    struct run r;
    run_lighttpd((const char *[]){ "-tt", "-f", conf, NULL }, env, &r);
    if (r.status != 0 || r.err.len != 0) {
        print_run("lighttpd -tt -f roost-local.conf", &r);
        fail();
    }
    run_release(&r);

    /* the effective config: the worker pool as documented */
    run_lighttpd((const char *[]){ "-p", "-f", conf, NULL }, env, &r);
    assert_int_equal(r.status, 0);
    const char *want[] = { "\"mod_fastcgi\"", "\"max-procs\"", "\"check-local\"",
                           "\"127.0.0.1\"", "roost.sock", NULL };
    for (const char **w = want; *w; w++)
        if (!strstr(r.out.ptr, *w)) {
            print_run("lighttpd -p -f roost-local.conf", &r);
            fail_msg("effective config lacks %s", *w);
        }
    run_release(&r);
    roost_buf_release(&rundir);
    roost_buf_release(&bin);
    free(conf);
    test_passed = 1;
}

/* EVIDENCE-OF: roost-local.conf "Everything it needs comes from the
 * environment": without ROOST_PORT it refuses, naming the variable. */
static void test_config__local_conf_needs_its_environment(void **state)
{
    (void)state;
    char *conf = path_in(top, "www-conf/roost-local.conf");
    const char *env[] = { "ROOST_RUNDIR=/nonexistent", "ROOST_WORKERS=4",
                          "ROOST_FCGI_BIN=/bin/true", NULL };
    struct run r;
    run_lighttpd((const char *[]){ "-tt", "-f", conf, NULL }, env, &r);
    if (r.status == 0 || !strstr(r.err.ptr, "ROOST_PORT")) {
        print_run("lighttpd -tt -f roost-local.conf without ROOST_PORT", &r);
        fail();
    }
    run_release(&r);
    free(conf);
    test_passed = 1;
}

/* ------------------------------------------------------------------ */
/* 10-roost.conf                                                       */

/* EVIDENCE-OF: STYLE.md "lighttpd -tt -f runs on both shipped configs";
 * 10-roost.conf is a conf-available snippet, so it is checked inside a
 * minimal main config that includes it. */
static void test_config__debian_snippet_passes_tt(void **state)
{
    (void)state;
    scratch_dir = roost_test_tmpdir("config-debian");
    char *snippet = snippet_path();
    char *main_conf = path_in(scratch_dir, "lighttpd.conf");
    char *text = main_conf_text(snippet, 0);
    write_text(main_conf, text);
    struct run r;
    run_lighttpd((const char *[]){ "-tt", "-f", main_conf, NULL }, NULL, &r);
    /* Where roost is not installed, lighttpd notes that bin-path does not
     * exist (and still passes); nothing else may be said. */
    int installed = access("/usr/local/bin/roost-fcgi", X_OK) == 0;
    for (const char *line = r.err.ptr; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len && (installed || !memmem(line, len, "invalid \"bin-path\" => "
                                         "\"/usr/local/bin/roost-fcgi\"", 47))) {
            print_run("lighttpd -tt -f <main including 10-roost.conf>", &r);
            fail_msg("unexpected complaint: %.*s", (int)len, line);
        }
        line += len + (eol ? 1 : 0);
    }
    if (r.status != 0) {
        print_run("lighttpd -tt -f <main including 10-roost.conf>", &r);
        fail();
    }
    run_release(&r);

    /* with the worker where bin-path says, -tt is silent */
    struct roost_buf stext = ROOST_BUF_INIT;
    read_text(snippet, &stext);
    replace_all(&stext, "/usr/local/bin/roost-fcgi", getenv("ROOST_FCGI_BIN"));
    char *copy = path_in(scratch_dir, "10-roost.conf");
    write_text(copy, stext.ptr);
    free(text);
    text = main_conf_text(copy, 0);
    write_text(main_conf, text);
    run_lighttpd((const char *[]){ "-tt", "-f", main_conf, NULL }, NULL, &r);
    if (r.status != 0 || r.err.len != 0) {
        print_run("lighttpd -tt -f <main including 10-roost.conf, bin-path moved>", &r);
        fail();
    }
    run_release(&r);
    roost_buf_release(&stext);
    free(copy);
    free(text);
    free(main_conf);
    free(snippet);
    test_passed = 1;
}

/* EVIDENCE-OF: STYLE.md 10-roost.conf "contains server.modules += (
 * "mod_fastcgi" ) and a fastcgi.server block with bin-path, max-procs and
 * bin-environment, with every ROOST_* variable shown commented out at its
 * default"; decided: mounted on the prefixes /v1/ and /health, bin-path
 * /usr/local/bin/roost-fcgi (make install's default prefix), socket under
 * /run/lighttpd/, max-procs 4. */
static void test_config__debian_snippet_content(void **state)
{
    (void)state;
    scratch_dir = roost_test_tmpdir("config-debian");
    char *snippet = snippet_path();
    char *main_conf = path_in(scratch_dir, "lighttpd.conf");
    char *text = main_conf_text(snippet, 0);
    write_text(main_conf, text);
    struct run r;
    /* -p prints the effective config; on a machine without the installed
     * worker it also complains about bin-path on stderr, which is fine */
    run_lighttpd((const char *[]){ "-p", "-f", main_conf, NULL }, NULL, &r);
    assert_int_equal(r.status, 0);
    /* squeeze the alignment blanks -p puts before "=>" */
    size_t used = 0;
    for (size_t i = 0; i < r.out.len; i++)
        if (!(r.out.ptr[i] == ' ' && used > 0 && r.out.ptr[used - 1] == ' '))
            r.out.ptr[used++] = r.out.ptr[i];
    r.out.len = used;
    r.out.ptr[used] = '\0';
    const char *p = strstr(r.out.ptr, "fastcgi.server");
    if (!p) {
        print_run("lighttpd -p", &r);
        fail_msg("no fastcgi.server in the effective config");
    }
    const char *want[] = { "\"/v1/\"", "\"/health\"",
                           "\"bin-path\" => \"/usr/local/bin/roost-fcgi\"",
                           "\"max-procs\" => 4", "\"check-local\" => \"disable\"",
                           "\"socket\" => \"/run/lighttpd/", "\"bin-environment\" => ()", NULL };
    for (const char **w = want; *w; w++)
        if (!strstr(p, *w)) {
            print_run("lighttpd -p", &r);
            fail_msg("effective fastcgi.server lacks %s", *w);
        }
    assert_non_null(strstr(r.out.ptr, "\"mod_fastcgi\""));
    run_release(&r);

    /* every setting, commented out */
    struct roost_buf file = ROOST_BUF_INIT;
    read_text(snippet, &file);
    assert_non_null(strstr(file.ptr, "server.modules += ( \"mod_fastcgi\" )"));
    for (const char *const *s = design_settings; *s; s++) {
        struct roost_buf line = ROOST_BUF_INIT;
        roost_buf_appendf(&line, "# \"%s\"", *s);
        if (!strstr(file.ptr, line.ptr))
            fail_msg("10-roost.conf does not show %s commented out", *s);
        roost_buf_release(&line);
    }
    roost_buf_release(&file);
    free(text);
    free(main_conf);
    free(snippet);
    test_passed = 1;
}

/* EVIDENCE-OF: issue 4 part 2 "a Debian conf-available/ snippet a
 * sysadmin enables with lighty-enable-mod": run as it is (bin-path and
 * socket moved into a run directory), behind Debian's parseopts, it serves
 * /health and /v1/ with one pool of 4 workers, keys with %2F intact, and
 * leaves the rest of the site alone. */
static void test_config__debian_snippet_serves(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "config-debian-live";
    scratch_dir = roost_test_tmpdir("config-debian-conf");
    char *main_conf = path_in(scratch_dir, "lighttpd.conf");
    o.conf = main_conf;
    srv = harness_server_new(&o);

    /* the snippet with its two machine paths moved */
    char *snippet = snippet_path();
    struct roost_buf text = ROOST_BUF_INIT;
    read_text(snippet, &text);
    struct roost_buf sock = ROOST_BUF_INIT;
    roost_buf_appendf(&sock, "%s/roost.sock", srv->rundir);
    replace_all(&text, "/usr/local/bin/roost-fcgi", srv->fcgi_bin);
    replace_all(&text, "/run/lighttpd/roost-fcgi.socket", sock.ptr);
    assert_null(strstr(text.ptr, "/run/lighttpd/"));
    char *copy = path_in(scratch_dir, "10-roost.conf");
    write_text(copy, text.ptr);
    char *mtext = main_conf_text(copy, 1);
    write_text(main_conf, mtext);

    assert_int_equal(harness_server_start(srv), 0);
    http = harness_client_new(srv);

    /* one pool for both mount points */
    pid_t pids[16];
    assert_int_equal(harness_worker_pids(srv, pids, 16), 4);

    struct harness_response r;
    harness_response_init(&r);
    const char *ih[] = { "X-Instance-ID: debian-1", NULL };
    assert_int_equal(harness_request(http, "GET", "/health", NULL, NULL, 0, &r), 0);
    assert_http_status(&r, 200);
    assert_int_equal(harness_request(http, "PUT", "/v1/cache/a%2Fb", ih, "slashed", 7, &r), 0);
    assert_http_status(&r, 201);
    struct json_object *j = harness_response_json(&r), *k;
    assert_non_null(j);
    assert_true(json_object_object_get_ex(j, "key", &k));
    assert_string_equal(json_object_get_string(k), "a/b");
    json_object_put(j);
    assert_int_equal(harness_request(http, "GET", "/v1/cache/a%2Fb", ih, NULL, 0, &r), 0);
    assert_http_status(&r, 200);
    assert_body_eq(&r, "slashed", 7);
    assert_int_equal(harness_request(http, "GET", "/v1/cache/a", ih, NULL, 0, &r), 0);
    assert_json_error(&r, 404, "KEY_NOT_FOUND");
    /* under /v1/ roost answers even for unknown routes */
    assert_int_equal(harness_request(http, "GET", "/v1/nothing", NULL, NULL, 0, &r), 0);
    assert_json_error(&r, 404, "NOT_FOUND");
    /* outside its prefixes, roost is not involved */
    assert_int_equal(harness_request(http, "GET", "/", NULL, NULL, 0, &r), 0);
    assert_true(r.status >= 400);
    struct json_object *not_roost = harness_response_json(&r);
    assert_null(not_roost);
    assert_int_equal(harness_request(http, "GET", "/other/page", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 404);
    harness_response_release(&r);

    roost_buf_release(&text);
    roost_buf_release(&sock);
    free(copy);
    free(mtext);
    free(snippet);
    free(main_conf);
    test_passed = 1;
}

/* ------------------------------------------------------------------ */
/* bad settings                                                        */

/* EVIDENCE-OF: DESIGN.md "Bad configuration is reported once, clearly, in
 * lighttpd's error log (the worker's stderr), naming the variable and the
 * value, and the worker refuses to serve rather than guess"; main.c: every
 * request is refused with a JSON 500 (SERVER_MISCONFIGURED). */
static void test_config__bad_setting_logged_and_refused(void **state)
{
    (void)state;
    struct harness_opts o = HARNESS_OPTS_INIT;
    o.tag = "config-bad";
    o.env = (const char *[]){ "ROOST_MAX_VALUE_BYTES=lots", NULL };
    o.health_status = -1;
    srv = harness_server_new(&o);
    assert_int_equal(harness_server_start(srv), 0);
    http = harness_client_new(srv);

    struct harness_response r;
    harness_response_init(&r);
    const char *ih[] = { "X-Instance-ID: bad-1", NULL };
    for (int i = 0; i < 10; i++) {
        assert_int_equal(harness_request(http, "PUT", "/v1/cache/k", ih, "v", 1, &r), 0);
        assert_json_error(&r, 500, "SERVER_MISCONFIGURED");
        assert_int_equal(harness_request(http, "GET", "/health", NULL, NULL, 0, &r), 0);
        assert_json_error(&r, 500, "SERVER_MISCONFIGURED");
    }
    harness_response_release(&r);

    /* logged by each worker once, not per request (the workers' stderr is
     * lighttpd's stderr: the harness's lighttpd.out) */
    struct roost_buf log = ROOST_BUF_INIT;
    assert_int_equal(harness_server_read_log(srv, &log), 0);
    int lines = 0;
    for (const char *p = log.ptr; (p = strstr(p, "ROOST_MAX_VALUE_BYTES")) != NULL; p++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (memmem(p, len, "lots", 4))
            lines++;
    }
    if (lines < 1 || lines > 4) {
        fprintf(stderr, "%s\n", log.ptr);
        fail_msg("expected 1-4 log lines naming ROOST_MAX_VALUE_BYTES and 'lots', found %d",
                 lines);
    }
    roost_buf_release(&log);
    test_passed = 1;
}

int main(void)
{
    top = getenv("ROOST_TOP_SRCDIR");
    lighttpd = getenv("ROOST_LIGHTTPD");
    if (!lighttpd || !*lighttpd) {
        fprintf(stderr, "test_config: lighttpd was not found by configure; skipping\n");
        return 77;
    }
    if (!top || !*top || !getenv("ROOST_FCGI_BIN")) {
        fprintf(stderr, "test_config: run through make check (ROOST_TOP_SRCDIR unset)\n");
        return 1;
    }
    long t0 = harness_now_ms();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config__local_conf_passes_tt, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_config__local_conf_needs_its_environment,
                                        per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_config__debian_snippet_passes_tt, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_config__debian_snippet_content, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_config__debian_snippet_serves, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_config__bad_setting_logged_and_refused,
                                        per_test_setup, per_test_teardown),
    };
    int failed = cmocka_run_group_tests_name("test_config", tests, NULL, NULL);
    printf("# test_config: %zu tests, %d failed, %.1f s\n", sizeof(tests) / sizeof(tests[0]),
           failed, (harness_now_ms() - t0) / 1000.0);
    return failed ? 1 : 0;
}
