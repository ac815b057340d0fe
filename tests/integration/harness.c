/*
 * harness.c - a real lighttpd + roost worker pool for integration tests.
 * See harness.h for the contract; the comments here say why.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
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
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "buf.h"
#include "encoding.h"
#include "harness.h"
#include "testlib.h"

extern char **environ;

/* Bounds (milliseconds unless named otherwise), multiplied by
 * harness_time_scale() under ROOST_TEST_TRACE. */
#define START_ATTEMPTS       5      /* lighttpd lost its port: new port, again */
#define CONNECT_WAIT_MS      10000  /* STYLE.md: connect every 10 ms up to 10 s */
#define CONNECT_STEP_MS      10
#define HEALTH_WAIT_MS       15000  /* workers answering /health */
#define HEALTH_STEP_MS       20
#define STOP_TERM_WAIT_MS    5000   /* STYLE.md: SIGTERM, 5 s, then SIGKILL */
#define WORKER_EXIT_WAIT_MS  3000   /* workers gone after lighttpd exits */
#define REQUEST_TIMEOUT_MS   15000  /* one HTTP request, 1 MiB bodies included */
#define CONNECT_TIMEOUT_MS   3000
#define LOG_TAIL_LINES       60

/* Marker put in lighttpd's environment; lighttpd hands its environment to
 * every worker it spawns, so /proc/PID/environ tells our workers apart from
 * any other roost-fcgi on the machine (another test run, ./dev.sh serve).
 * Not a ROOST_* name, so the worker's settings never see it. */
#define RUN_MARKER "ROOSTTEST_RUN="

/* ------------------------------------------------------------------ */
/* small utilities                                                     */

int harness_time_scale(void)
{
    const char *t = getenv("ROOST_TEST_TRACE");
    return (t && *t) ? 10 : 1;
}

long harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static int read_file(const char *path, struct roost_buf *out)
{
    roost_buf_reset(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char tmp[8192];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        roost_buf_append(out, tmp, (size_t)n);
    }
    close(fd);
    return 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    return close(fd);
}

/* Prints the last `lines` lines of path to stderr, under a title. */
static void print_tail(const char *title, const char *path, int lines)
{
    struct roost_buf b = ROOST_BUF_INIT;
    if (read_file(path, &b) < 0 || b.len == 0) {
        roost_buf_release(&b);
        return;
    }
    size_t start = b.len;
    int seen = 0;
    if (start > 0 && b.ptr[start - 1] == '\n')
        start--;
    while (start > 0) {
        if (b.ptr[start - 1] == '\n' && ++seen >= lines)
            break;
        start--;
    }
    fprintf(stderr, "---- %s (%s), last %d lines ----\n%.*s%s---- end ----\n", title, path,
            lines, (int)(b.len - start), b.ptr + start,
            (b.len && b.ptr[b.len - 1] == '\n') ? "" : "\n");
    roost_buf_release(&b);
}

static const char *lighttpd_binary(void)
{
    const char *l = getenv("ROOST_LIGHTTPD");
    if (l && *l)
        return l;
    if (access("/usr/sbin/lighttpd", X_OK) == 0)
        return "/usr/sbin/lighttpd";
    return "lighttpd";
}

/* ------------------------------------------------------------------ */
/* server set-up                                                       */

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void env_push(char ***env, size_t *n, char *entry)
{
    *env = realloc(*env, (*n + 2) * sizeof(**env));
    if (!*env)
        abort();
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
}

/* Sets NAME=value in env, replacing an earlier NAME= entry. Takes entry. */
static void env_set(char ***env, size_t *n, char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t name_len = eq ? (size_t)(eq - entry) + 1 : strlen(entry);
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*env)[i], entry, name_len) == 0) {
            free((*env)[i]);
            (*env)[i] = entry;
            return;
        }
    }
    env_push(env, n, entry);
}

/* Writes the TRACEME-style wrapper lighttpd spawns instead of the worker.
 * lighttpd hands the worker its listening socket as fd 0; `exec` keeps it
 * and keeps the pid, so the wrapper is invisible to lighttpd. */
static char *write_trace_wrapper(const struct harness_server *srv, const char *trace)
{
    char *path = xasprintf("%s/fcgi-trace.sh", srv->rundir);
    char *script;
    if (strcmp(trace, "valgrind") == 0) {
        script = xasprintf("#!/bin/sh\n"
                           "exec valgrind --quiet --error-exitcode=99 --track-fds=no "
                           "--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite "
                           "--log-file='%s/valgrind.%%p.log' '%s' \"$@\"\n",
                           srv->rundir, srv->real_fcgi_bin);
    } else if (strcmp(trace, "strace") == 0) {
        script = xasprintf("#!/bin/sh\n"
                           "exec strace -f -tt -s 256 -o '%s/strace.'$$ '%s' \"$@\"\n",
                           srv->rundir, srv->real_fcgi_bin);
    } else {
        fail_msg("ROOST_TEST_TRACE='%s': expected valgrind or strace", trace);
        return NULL;
    }
    if (write_file(path, script, 0755) < 0)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    free(script);
    return path;
}

struct harness_server *harness_server_new(const struct harness_opts *opts)
{
    struct harness_opts defaults = HARNESS_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    struct harness_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        abort();

    const char *top = getenv("ROOST_TOP_SRCDIR");
    const char *bin = getenv("ROOST_FCGI_BIN");
    if (!top || !*top || !bin || !*bin)
        fail_msg("ROOST_TOP_SRCDIR and ROOST_FCGI_BIN must be set (make check sets them)");

    srv->rundir = roost_test_tmpdir(opts->tag ? opts->tag : "it");
    srv->store_dir = opts->store_dir ? strdup(opts->store_dir)
                                     : xasprintf("%s/store", srv->rundir);
    srv->conf = opts->conf ? strdup(opts->conf)
                           : xasprintf("%s/www-conf/roost-local.conf", top);
    srv->lighttpd = strdup(lighttpd_binary());
    srv->real_fcgi_bin = strdup(bin);
    srv->workers = opts->workers > 0 ? opts->workers : 4;
    srv->health_status = opts->health_status;

    const char *trace = getenv("ROOST_TEST_TRACE");
    srv->fcgi_bin = (trace && *trace) ? write_trace_wrapper(srv, trace) : strdup(bin);

    /* lighttpd's environment: ours minus every ROOST_* (a developer's
     * exported ROOST_AUTO_CREATE=0 must not change a test), plus the run's. */
    size_t n = 0;
    for (char **e = environ; *e; e++) {
        if (has_prefix(*e, "ROOST_") || has_prefix(*e, RUN_MARKER))
            continue;
        env_push(&srv->env, &n, strdup(*e));
    }
    env_set(&srv->env, &n, xasprintf("ROOST_RUNDIR=%s", srv->rundir));
    env_set(&srv->env, &n, xasprintf("ROOST_WORKERS=%d", srv->workers));
    env_set(&srv->env, &n, xasprintf("ROOST_FCGI_BIN=%s", srv->fcgi_bin));
    env_set(&srv->env, &n, xasprintf("ROOST_STORE_DIR=%s", srv->store_dir));
    env_set(&srv->env, &n, xasprintf("%s%s", RUN_MARKER, srv->rundir));
    for (const char *const *x = opts->env; x && *x; x++) {
        if (!strchr(*x, '='))
            fail_msg("harness env entry '%s' is not NAME=value", *x);
        env_set(&srv->env, &n, strdup(*x));
    }
    env_set(&srv->env, &n, strdup("ROOST_PORT=0")); /* set per attempt */
    return srv;
}

/* A port the kernel considers free right now. lighttpd binds it a moment
 * later; if someone takes it in between, lighttpd dies with EADDRINUSE and
 * start() tries again with another port (redis port_busy). */
int harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0
        && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void set_port(struct harness_server *srv, int port)
{
    for (char **e = srv->env; *e; e++) {
        if (has_prefix(*e, "ROOST_PORT=")) {
            free(*e);
            *e = xasprintf("ROOST_PORT=%d", port);
        }
    }
    srv->port = port;
    snprintf(srv->base_url, sizeof(srv->base_url), "http://127.0.0.1:%d", port);
}

pid_t harness_spawn_lighttpd(const char *lighttpd, const char *conf, char *const env[],
                             const char *out_path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* If the test program dies (time bound, crash), lighttpd must not
         * live on holding its workers: it gets SIGTERM with its parent. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        if (in > 2)
            close(in);
        if (out > 2)
            close(out);
        setpgid(0, 0);
        char *argv[] = { (char *)lighttpd, "-D", "-f", (char *)conf, NULL };
        char *const *envp = env ? env : environ;
        execve(lighttpd, argv, envp);
        if (!strchr(lighttpd, '/'))
            execvpe(lighttpd, argv, envp);
        dprintf(2, "harness: exec %s: %s\n", lighttpd, strerror(errno));
        _exit(127);
    }
    return pid;
}

static pid_t spawn_lighttpd(struct harness_server *srv)
{
    char *out_path = xasprintf("%s/lighttpd.out", srv->rundir);
    pid_t pid = harness_spawn_lighttpd(srv->lighttpd, srv->conf, srv->env, out_path);
    free(out_path);
    return pid;
}

/* 1 if lighttpd's own output or the error log says the port was taken. */
static int lost_port(const struct harness_server *srv)
{
    struct roost_buf b = ROOST_BUF_INIT;
    int lost = 0;
    const char *files[] = { "lighttpd.out", "error.log" };
    for (size_t i = 0; i < 2 && !lost; i++) {
        char *p = xasprintf("%s/%s", srv->rundir, files[i]);
        if (read_file(p, &b) == 0 && strstr(b.ptr, "Address already in use"))
            lost = 1;
        free(p);
    }
    roost_buf_release(&b);
    return lost;
}

static int reap(struct harness_server *srv, int *status)
{
    if (srv->pid <= 0)
        return 1;
    pid_t r = waitpid(srv->pid, status, WNOHANG);
    if (r == srv->pid || (r < 0 && errno == ECHILD)) {
        srv->pid = 0;
        return 1;
    }
    return 0;
}

int harness_server_alive(struct harness_server *srv)
{
    int status;
    return srv->pid > 0 && !reap(srv, &status);
}

static int tcp_connects(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void describe_exit(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "ended (status 0x%x)", status);
}

/* Stops lighttpd without the worker checks (start-up failure paths). */
static void kill_quietly(struct harness_server *srv)
{
    if (srv->pid <= 0)
        return;
    kill(srv->pid, SIGTERM);
    long deadline = harness_now_ms() + STOP_TERM_WAIT_MS;
    int status;
    while (!reap(srv, &status) && harness_now_ms() < deadline)
        sleep_ms(10);
    if (srv->pid > 0) {
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
        srv->pid = 0;
    }
}

/* Phase 2 of readiness: a worker answers GET /health with JSON and the
 * status wanted. The "Server: roost" tag (roost-local.conf server.tag)
 * proves the answer came from our lighttpd, not from whoever else might
 * hold the port. */
static int wait_healthy(struct harness_server *srv, long deadline, char *why, size_t why_len)
{
    struct harness_client *c = harness_client_new(srv);
    struct harness_response r;
    harness_response_init(&r);
    int ok = 0, status;
    while (harness_now_ms() < deadline) {
        if (reap(srv, &status)) {
            describe_exit(status, why, why_len);
            break;
        }
        if (harness_request(c, "GET", "/health", NULL, NULL, 0, &r) == 0) {
            const char *ct = harness_response_header(&r, "Content-Type");
            int from_worker = ct && has_prefix(ct, "application/json");
            int want = srv->health_status ? srv->health_status : 200;
            if (from_worker && (want < 0 || r.status == want)) {
                ok = 1;
                break;
            }
            snprintf(why, why_len, "GET /health answered %ld (%s)", r.status,
                     ct ? ct : "no Content-Type");
        } else {
            snprintf(why, why_len, "GET /health: %s", r.error);
        }
        sleep_ms(HEALTH_STEP_MS);
    }
    if (ok) {
        const char *tag = harness_response_header(&r, "Server");
        if (!tag || strcmp(tag, "roost") != 0) {
            snprintf(why, why_len, "port %d answered with Server: %s, not our lighttpd",
                     srv->port, tag ? tag : "(none)");
            ok = 0;
        }
    }
    harness_response_release(&r);
    harness_client_free(c);
    return ok;
}

int harness_server_start(struct harness_server *srv)
{
    int scale = harness_time_scale();
    char why[512] = "";

    if (srv->pid > 0)
        return 0;
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        int port = harness_free_port();
        if (port <= 0) {
            snprintf(why, sizeof(why), "no free loopback port: %s", strerror(errno));
            break;
        }
        set_port(srv, port);
        long t0 = harness_now_ms();
        srv->pid = spawn_lighttpd(srv);
        if (srv->pid < 0) {
            srv->pid = 0;
            snprintf(why, sizeof(why), "fork: %s", strerror(errno));
            break;
        }

        /* Phase 1: the listening socket, noticing an early death. */
        int up = 0, died = 0, status = 0;
        long deadline = t0 + (long)CONNECT_WAIT_MS * scale;
        while (harness_now_ms() < deadline) {
            if (reap(srv, &status)) {
                died = 1;
                break;
            }
            if (tcp_connects(port)) {
                up = 1;
                break;
            }
            sleep_ms(CONNECT_STEP_MS);
        }
        if (died) {
            if (lost_port(srv)) {
                fprintf(stderr, "harness: port %d was taken, retrying (%d/%d)\n", port,
                        attempt, START_ATTEMPTS);
                continue;
            }
            char how[64];
            describe_exit(status, how, sizeof(how));
            snprintf(why, sizeof(why), "lighttpd %s before listening", how);
            break;
        }
        if (!up) {
            snprintf(why, sizeof(why), "lighttpd did not listen on port %d within %d ms", port,
                     CONNECT_WAIT_MS * scale);
            kill_quietly(srv);
            break;
        }

        /* Phase 2: workers answer. */
        if (wait_healthy(srv, harness_now_ms() + (long)HEALTH_WAIT_MS * scale, why,
                         sizeof(why))) {
            srv->startup_ms = harness_now_ms() - t0;
            return 0;
        }
        if (srv->pid == 0 && lost_port(srv)) {
            fprintf(stderr, "harness: port %d was taken, retrying (%d/%d)\n", port, attempt,
                    START_ATTEMPTS);
            continue;
        }
        kill_quietly(srv);
        break;
    }
    srv->failed = 1;
    fprintf(stderr, "harness: starting %s -D -f %s failed: %s (run dir %s)\n", srv->lighttpd,
            srv->conf, why[0] ? why : "too many attempts", srv->rundir);
    harness_server_dump_log(srv, LOG_TAIL_LINES);
    return -1;
}

/* ------------------------------------------------------------------ */
/* workers in /proc                                                    */

struct proc_info {
    pid_t pid, ppid;
    char state;
    char comm[64];
};

static int read_proc_stat(pid_t pid, struct proc_info *pi)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* pid (comm) state ppid ...; comm may hold spaces and parentheses. */
    char *open_paren = strchr(buf, '(');
    char *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -1;
    size_t clen = (size_t)(close_paren - open_paren - 1);
    if (clen >= sizeof(pi->comm))
        clen = sizeof(pi->comm) - 1;
    memcpy(pi->comm, open_paren + 1, clen);
    pi->comm[clen] = '\0';
    int ppid = 0;
    char state = '?';
    if (sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    pi->pid = pid;
    pi->state = state;
    pi->ppid = ppid;
    return 0;
}

/* 1 if /proc/PID/environ holds marker exactly (NAME=value entry). */
static int proc_has_env(pid_t pid, const char *entry)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    struct roost_buf b = ROOST_BUF_INIT;
    int found = 0;
    if (read_file(path, &b) == 0) {
        size_t elen = strlen(entry);
        for (size_t off = 0; off < b.len;) {
            const char *s = b.ptr + off;
            size_t slen = strnlen(s, b.len - off);
            if (slen == elen && memcmp(s, entry, elen) == 0) {
                found = 1;
                break;
            }
            off += slen + 1;
        }
    }
    roost_buf_release(&b);
    return found;
}

/* 1 if the process image is lighttpd (a forked child before its exec). */
static int proc_is_lighttpd(pid_t pid, const struct proc_info *pi)
{
    if (strcmp(pi->comm, "lighttpd") == 0)
        return 1;
    char path[64], exe[4096];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    return strcmp(base, "lighttpd") == 0;
}

/* Every live process of this run that is not lighttpd; with parent > 0
 * only that process's children. */
static int scan_workers(const struct harness_server *srv, pid_t parent, pid_t *pids, int max)
{
    char *marker = xasprintf("%s%s", RUN_MARKER, srv->rundir);
    DIR *d = opendir("/proc");
    int count = 0;
    if (!d) {
        free(marker);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        struct proc_info pi;
        if (pid == getpid() || pid == srv->pid || read_proc_stat(pid, &pi) < 0)
            continue;
        if (pi.state == 'Z' || pi.state == 'X')
            continue;
        if (parent > 0 && pi.ppid != parent)
            continue;
        if (!proc_has_env(pid, marker) || proc_is_lighttpd(pid, &pi))
            continue;
        if (count < max)
            pids[count] = pid;
        count++;
    }
    closedir(d);
    free(marker);
    return count;
}

int harness_worker_pids(const struct harness_server *srv, pid_t *pids, int max)
{
    if (srv->pid <= 0)
        return 0;
    return scan_workers(srv, srv->pid, pids, max);
}

long harness_wait_workers(const struct harness_server *srv, int count, pid_t gone,
                          long timeout_ms)
{
    long t0 = harness_now_ms();
    pid_t pids[64];
    do {
        int n = harness_worker_pids(srv, pids, 64);
        int ok = n == count;
        for (int i = 0; ok && i < n && i < 64; i++)
            if (gone > 0 && pids[i] == gone)
                ok = 0;
        if (ok)
            return harness_now_ms() - t0;
        sleep_ms(5);
    } while (harness_now_ms() - t0 < timeout_ms);
    return -1;
}

char *harness_worker_socket(const struct harness_server *srv, int index)
{
    /* roost-local.conf: "socket" => env.ROOST_RUNDIR + "/roost.sock" */
    return xasprintf("%s/roost.sock-%d", srv->rundir, index);
}

/* ------------------------------------------------------------------ */
/* stop                                                                */

/* Valgrind runs with --quiet, so a log that is not empty holds errors;
 * prints them. */
static int valgrind_errors(const struct harness_server *srv)
{
    DIR *d = opendir(srv->rundir);
    if (!d)
        return 0;
    int bad = 0;
    struct dirent *de;
    struct roost_buf b = ROOST_BUF_INIT;
    while ((de = readdir(d)) != NULL) {
        if (!has_prefix(de->d_name, "valgrind."))
            continue;
        char *p = xasprintf("%s/%s", srv->rundir, de->d_name);
        if (read_file(p, &b) == 0 && b.len > 0) {
            bad++;
            print_tail("valgrind", p, 80);
        }
        free(p);
    }
    roost_buf_release(&b);
    closedir(d);
    return bad;
}

/* Sanitizer reports a worker wrote to its stderr (the ASan/UBSan CI pass:
 * a worker's exit status is seen by lighttpd only, so its report is the
 * evidence); prints the log tail if any. */
static int sanitizer_reports(const struct harness_server *srv)
{
    static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error: ", "ERROR: UndefinedBehaviorSanitizer",
                                         NULL };
    struct roost_buf b = ROOST_BUF_INIT;
    int found = 0;
    if (harness_server_read_log(srv, &b) == 0)
        for (const char *const *m = marks; *m; m++)
            if (strstr(b.ptr, *m)) {
                fprintf(stderr, "harness: a worker reported \"%s\"\n", *m);
                found++;
            }
    roost_buf_release(&b);
    if (found)
        harness_server_dump_log(srv, 200);
    return found;
}

int harness_server_stop(struct harness_server *srv)
{
    if (!srv || srv->pid <= 0)
        return 0;
    int scale = harness_time_scale();
    int rc = 0, status = 0;
    pid_t before[64];
    int nbefore = harness_worker_pids(srv, before, 64);

    kill(srv->pid, SIGTERM);
    long deadline = harness_now_ms() + (long)STOP_TERM_WAIT_MS * scale;
    while (!reap(srv, &status) && harness_now_ms() < deadline)
        sleep_ms(10);
    if (srv->pid > 0) {
        fprintf(stderr, "harness: lighttpd %d ignored SIGTERM for %d ms; SIGKILL\n",
                (int)srv->pid, STOP_TERM_WAIT_MS * scale);
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
        srv->pid = 0;
        rc = -1;
    }

    /* lighttpd sends its workers SIGTERM as it exits; they are reparented
     * and must be gone shortly after. Anything of this run still alive
     * after the bound is a worker that ignores SIGTERM. */
    pid_t left[64];
    int nleft = 0;
    deadline = harness_now_ms() + (long)WORKER_EXIT_WAIT_MS * scale;
    do {
        nleft = scan_workers(srv, 0, left, 64);
        if (nleft == 0)
            break;
        sleep_ms(10);
    } while (harness_now_ms() < deadline);
    if (nleft > 0) {
        fprintf(stderr, "harness: %d worker(s) still alive %d ms after lighttpd exited "
                "(had %d before stop); killing:", nleft, WORKER_EXIT_WAIT_MS * scale,
                nbefore);
        for (int i = 0; i < nleft && i < 64; i++) {
            fprintf(stderr, " %d", (int)left[i]);
            kill(left[i], SIGKILL);
        }
        fprintf(stderr, "\n");
        rc = -1;
    }
    if (valgrind_errors(srv) > 0 || sanitizer_reports(srv) > 0)
        rc = -1;
    if (rc)
        srv->failed = 1;
    return rc;
}

void harness_server_dump_log(const struct harness_server *srv, int lines)
{
    char *p = xasprintf("%s/lighttpd.out", srv->rundir);
    print_tail("lighttpd stdout/stderr", p, lines);
    free(p);
    p = xasprintf("%s/error.log", srv->rundir);
    print_tail("lighttpd error log", p, lines);
    free(p);
}

int harness_server_read_log(const struct harness_server *srv, struct roost_buf *out)
{
    struct roost_buf part = ROOST_BUF_INIT;
    int found = 0;
    roost_buf_reset(out);
    const char *files[] = { "error.log", "lighttpd.out" };
    for (size_t i = 0; i < 2; i++) {
        char *p = xasprintf("%s/%s", srv->rundir, files[i]);
        if (read_file(p, &part) == 0) {
            roost_buf_append_slice(out, roost_buf_slice(&part));
            found = 1;
        }
        free(p);
    }
    roost_buf_release(&part);
    return found ? 0 : -1;
}

void harness_server_free(struct harness_server *srv, int failed)
{
    if (!srv)
        return;
    if (harness_server_stop(srv) != 0)
        failed = 1;
    failed = failed || srv->failed;
    const char *keep = getenv("ROOST_TEST_KEEP");
    if (failed) {
        harness_server_dump_log(srv, LOG_TAIL_LINES);
        fprintf(stderr, "harness: run directory kept: %s\n", srv->rundir);
    } else if (keep && strcmp(keep, "1") == 0) {
        fprintf(stderr, "harness: run directory kept (ROOST_TEST_KEEP): %s\n", srv->rundir);
    } else {
        roost_test_rmtree(srv->rundir);
    }
    for (char **e = srv->env; e && *e; e++)
        free(*e);
    free(srv->env);
    free(srv->rundir);
    free(srv->store_dir);
    free(srv->conf);
    free(srv->lighttpd);
    free(srv->fcgi_bin);
    free(srv->real_fcgi_bin);
    free(srv);
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

void harness_response_init(struct harness_response *r)
{
    memset(r, 0, sizeof(*r));
    roost_buf_init(&r->body);
}

static void clear_headers(struct harness_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->nheaders = 0;
}

void harness_response_reset(struct harness_response *r)
{
    r->status = 0;
    roost_buf_reset(&r->body);
    clear_headers(r);
    r->error[0] = '\0';
    r->what[0] = '\0';
}

void harness_response_release(struct harness_response *r)
{
    clear_headers(r);
    free(r->headers);
    roost_buf_release(&r->body);
    memset(r, 0, sizeof(*r));
    roost_buf_init(&r->body);
}

static void add_header(struct harness_response *r, const char *name, size_t nlen,
                       const char *value, size_t vlen)
{
    while (nlen > 0 && isspace((unsigned char)name[nlen - 1]))
        nlen--;
    while (vlen > 0 && isspace((unsigned char)*value)) {
        value++;
        vlen--;
    }
    while (vlen > 0 && isspace((unsigned char)value[vlen - 1]))
        vlen--;
    if (r->nheaders == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 16;
        r->headers = realloc(r->headers, r->alloc * sizeof(*r->headers));
        if (!r->headers)
            abort();
    }
    r->headers[r->nheaders].name = strndup(name, nlen);
    r->headers[r->nheaders].value = strndup(value, vlen);
    r->nheaders++;
}

/* One "Name: value" line (no line end). */
static void parse_header_line(struct harness_response *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return;
    add_header(r, line, (size_t)(colon - line), colon + 1, len - (size_t)(colon - line) - 1);
}

const char *harness_response_header(const struct harness_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t harness_response_header_count(const struct harness_response *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            n++;
    return n;
}

struct json_object *harness_response_json(const struct harness_response *r)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, r->body.ptr, (int)r->body.len);
    if (!obj || json_tokener_get_error(tok) != json_tokener_success
        || json_tokener_get_parse_end(tok) != r->body.len) {
        /* trailing whitespace after the document is fine */
        size_t end = obj ? json_tokener_get_parse_end(tok) : 0;
        int only_space = obj != NULL;
        for (size_t i = end; only_space && i < r->body.len; i++)
            if (!isspace((unsigned char)r->body.ptr[i]))
                only_space = 0;
        if (!only_space) {
            json_object_put(obj);
            obj = NULL;
        }
    }
    json_tokener_free(tok);
    return obj;
}

void harness_response_print(const struct harness_response *r)
{
    fprintf(stderr, "  request:  %s\n", r->what[0] ? r->what : "(unknown)");
    if (r->error[0])
        fprintf(stderr, "  error:    %s\n", r->error);
    fprintf(stderr, "  status:   %ld\n", r->status);
    for (size_t i = 0; i < r->nheaders; i++)
        fprintf(stderr, "  header:   %s: %s\n", r->headers[i].name, r->headers[i].value);
    size_t show = r->body.len < 600 ? r->body.len : 600;
    fprintf(stderr, "  body:     %zu bytes: \"", r->body.len);
    for (size_t i = 0; i < show; i++) {
        unsigned char ch = (unsigned char)r->body.ptr[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"')
            fputc(ch, stderr);
        else
            fprintf(stderr, "\\x%02x", ch);
    }
    fprintf(stderr, "\"%s\n", show < r->body.len ? "..." : "");
}

/* ------------------------------------------------------------------ */
/* HTTP over libcurl                                                   */

struct harness_client {
    CURL *curl;
    char base[64];
    int fresh;
    long timeout_ms;
    unsigned long count;
    struct harness_response *cur;
    int in_final_head;   /* header lines belong to the final response */
    char errbuf[CURL_ERROR_SIZE];
};

static void curl_init_once(void)
{
    static int done;
    if (!done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            abort();
        done = 1;
    }
}

struct harness_client *harness_client_new_url(const char *base_url)
{
    curl_init_once();
    struct harness_client *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->curl = curl_easy_init();
    if (!c->curl)
        abort();
    snprintf(c->base, sizeof(c->base), "%s", base_url);
    c->timeout_ms = (long)REQUEST_TIMEOUT_MS * harness_time_scale();
    return c;
}

struct harness_client *harness_client_new(const struct harness_server *srv)
{
    return harness_client_new_url(srv->base_url);
}

void harness_client_free(struct harness_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

void harness_client_fresh(struct harness_client *c, int on)
{
    c->fresh = on;
}

unsigned long harness_client_count(const struct harness_client *c)
{
    return c->count;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct harness_client *c = arg;
    roost_buf_append(&c->cur->body, ptr, size * nmemb);
    return size * nmemb;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct harness_client *c = arg;
    size_t len = size * nmemb, n = len;
    while (n > 0 && (ptr[n - 1] == '\n' || ptr[n - 1] == '\r'))
        n--;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* A new response head (after a 100 Continue, say): start over. */
        clear_headers(c->cur);
        c->in_final_head = 1;
    } else if (n > 0 && c->in_final_head) {
        parse_header_line(c->cur, ptr, n);
    }
    return len;
}

static int has_header(const char *const *headers, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *const *h = headers; h && *h; h++)
        if (strncasecmp(*h, name, nlen) == 0 && ((*h)[nlen] == ':' || (*h)[nlen] == ';'))
            return 1;
    return 0;
}

int harness_request(struct harness_client *c, const char *method, const char *target,
                    const char *const *headers, const void *body, size_t body_len,
                    struct harness_response *resp)
{
    harness_response_reset(resp);
    snprintf(resp->what, sizeof(resp->what), "%s %.140s%s", method, target,
             strlen(target) > 140 ? "..." : "");
    c->cur = resp;
    c->in_final_head = 0;
    c->errbuf[0] = '\0';
    c->count++;

    CURL *h = c->curl;
    /* reset keeps the live connection, so keep-alive still works */
    curl_easy_reset(h);
    char *url = xasprintf("%s%s", c->base, target);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);       /* send "../" and "%2F" as is */
    curl_easy_setopt(h, CURLOPT_PROXY, "");            /* never an http_proxy */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS * harness_time_scale());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (c->fresh) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }

    struct curl_slist *list = NULL;
    for (const char *const *x = headers; x && *x; x++)
        list = curl_slist_append(list, *x);
    /* no "Expect: 100-continue" round trip for large bodies */
    if (!has_header(headers, "Expect"))
        list = curl_slist_append(list, "Expect:");

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_len ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        /* curl would add application/x-www-form-urlencoded; the caller
         * says which Content-Type, if any, the request carries. */
        if (!has_header(headers, "Content-Type"))
            list = curl_slist_append(list, "Content-Type:");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(resp->error, sizeof(resp->error), "%.60s: %.180s", curl_easy_strerror(rc),
                 c->errbuf);
    resp->status = status;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(list);
    free(url);
    c->cur = NULL;
    return rc == CURLE_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* FastCGI straight to one worker                                      */

#define FCGI_VERSION_1      1
#define FCGI_BEGIN_REQUEST  1
#define FCGI_END_REQUEST    3
#define FCGI_PARAMS         4
#define FCGI_STDIN          5
#define FCGI_STDOUT         6
#define FCGI_STDERR         7
#define FCGI_RESPONDER      1
#define FCGI_REQUEST_ID     1

static void fcgi_record(struct roost_buf *out, int type, const void *data, size_t len)
{
    unsigned char h[8] = { FCGI_VERSION_1, (unsigned char)type, 0, FCGI_REQUEST_ID,
                           (unsigned char)(len >> 8), (unsigned char)(len & 0xff), 0, 0 };
    roost_buf_append(out, h, sizeof(h));
    roost_buf_append(out, data, len);
}

/* Stream records (PARAMS, STDIN) split at 65535 bytes, then the empty one. */
static void fcgi_stream(struct roost_buf *out, int type, const char *data, size_t len)
{
    while (len > 0) {
        size_t n = len > 65535 ? 65535 : len;
        fcgi_record(out, type, data, n);
        data += n;
        len -= n;
    }
    fcgi_record(out, type, "", 0);
}

static void fcgi_len(struct roost_buf *b, size_t n)
{
    if (n < 128) {
        roost_buf_append_char(b, (char)n);
    } else {
        unsigned char l[4] = { (unsigned char)((n >> 24) | 0x80), (unsigned char)(n >> 16),
                               (unsigned char)(n >> 8), (unsigned char)n };
        roost_buf_append(b, l, 4);
    }
}

static void fcgi_param(struct roost_buf *b, const char *name, const char *value, size_t vlen)
{
    fcgi_len(b, strlen(name));
    fcgi_len(b, vlen);
    roost_buf_append_str(b, name);
    roost_buf_append(b, value, vlen);
}

static void fcgi_param_str(struct roost_buf *b, const char *name, const char *value)
{
    fcgi_param(b, name, value, strlen(value));
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Splits a CGI response (headers, blank line, body) into resp. */
static int parse_cgi_response(struct harness_response *resp, struct roost_buf *raw)
{
    const char *p = raw->ptr, *end = raw->ptr + raw->len;
    resp->status = 200;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return -1;
        size_t len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0) {
            p = nl + 1;
            break;
        }
        if (len > 7 && strncasecmp(p, "Status:", 7) == 0)
            resp->status = strtol(p + 7, NULL, 10);
        else
            parse_header_line(resp, p, len);
        p = nl + 1;
    }
    roost_buf_set(&resp->body, p, (size_t)(end - p));
    return 0;
}

int harness_fcgi_request(const char *socket_path, const char *method, const char *target,
                         const char *const *headers, const void *body, size_t body_len,
                         struct harness_response *resp)
{
    return harness_fcgi_request_params(socket_path, method, target, headers, NULL, body,
                                       body_len, resp);
}

int harness_fcgi_request_params(const char *socket_path, const char *method, const char *target,
                                const char *const *headers, const char *const *params_extra,
                                const void *body, size_t body_len, struct harness_response *resp)
{
    harness_response_reset(resp);
    snprintf(resp->what, sizeof(resp->what), "%s %.120s (FastCGI %s)", method, target,
             strrchr(socket_path, '/') ? strrchr(socket_path, '/') + 1 : socket_path);

    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof(sa.sun_path)) {
        snprintf(resp->error, sizeof(resp->error), "socket path too long");
        return -1;
    }
    strcpy(sa.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(resp->error, sizeof(resp->error), "socket: %s", strerror(errno));
        return -1;
    }
    long tmo = (long)REQUEST_TIMEOUT_MS * harness_time_scale();
    struct timeval tv = { tmo / 1000, (tmo % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(resp->error, sizeof(resp->error), "connect %s: %s", socket_path,
                 strerror(errno));
        close(fd);
        return -1;
    }

    /* The parameters lighttpd 1.4 sends (http_cgi.c) for a "/" prefix. */
    struct roost_buf params = ROOST_BUF_INIT, out = ROOST_BUF_INIT, tmp = ROOST_BUF_INIT;
    const char *q = strchr(target, '?');
    size_t path_len = q ? (size_t)(q - target) : strlen(target);
    int has_body = body != NULL && strcmp(method, "HEAD") != 0;
    roost_buf_appendf(&tmp, "%zu", has_body ? body_len : 0);
    fcgi_param(&params, "CONTENT_LENGTH", tmp.ptr, tmp.len);
    fcgi_param_str(&params, "QUERY_STRING", q ? q + 1 : "");
    fcgi_param_str(&params, "REQUEST_URI", target);
    fcgi_param_str(&params, "REDIRECT_STATUS", "200");
    fcgi_param_str(&params, "SCRIPT_NAME", "");
    fcgi_param(&params, "PATH_INFO", target, path_len);
    fcgi_param_str(&params, "SERVER_SOFTWARE", "roost-harness");
    fcgi_param_str(&params, "SERVER_NAME", "127.0.0.1");
    fcgi_param_str(&params, "GATEWAY_INTERFACE", "CGI/1.1");
    fcgi_param_str(&params, "REQUEST_SCHEME", "http");
    fcgi_param_str(&params, "SERVER_PORT", "80");
    fcgi_param_str(&params, "SERVER_ADDR", "127.0.0.1");
    fcgi_param_str(&params, "REMOTE_ADDR", "127.0.0.1");
    fcgi_param_str(&params, "REMOTE_PORT", "40000");
    fcgi_param_str(&params, "REQUEST_METHOD", method);
    fcgi_param_str(&params, "SERVER_PROTOCOL", "HTTP/1.1");
    fcgi_param_str(&params, "HTTP_HOST", "127.0.0.1");
    for (const char *const *h = headers; h && *h; h++) {
        const char *sep = strpbrk(*h, ":;");
        if (!sep)
            continue;
        const char *value = sep + 1;
        if (*sep == ';')
            value = "";
        while (*value == ' ' || *value == '\t')
            value++;
        roost_buf_reset(&tmp);
        size_t nlen = (size_t)(sep - *h);
        if (nlen == 12 && strncasecmp(*h, "Content-Type", 12) == 0) {
            if (*sep == ':' && !*value)
                continue; /* curl syntax for "no such header" */
            roost_buf_append_str(&tmp, "CONTENT_TYPE");
        } else {
            if (*sep == ':' && !*value)
                continue;
            roost_buf_append_str(&tmp, "HTTP_");
            for (size_t i = 0; i < nlen; i++) {
                char ch = (*h)[i];
                roost_buf_append_char(&tmp, ch == '-' ? '_' : (char)toupper((unsigned char)ch));
            }
        }
        fcgi_param_str(&params, tmp.ptr, value);
    }
    /* What a lighttpd module would add (mod_auth: REMOTE_USER, AUTH_TYPE). */
    for (const char *const *p = params_extra; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        roost_buf_reset(&tmp);
        roost_buf_append(&tmp, *p, (size_t)(eq - *p));
        fcgi_param_str(&params, tmp.ptr, eq + 1);
    }

    unsigned char begin[8] = { 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
    fcgi_record(&out, FCGI_BEGIN_REQUEST, begin, sizeof(begin));
    fcgi_stream(&out, FCGI_PARAMS, params.ptr, params.len);
    fcgi_stream(&out, FCGI_STDIN, has_body ? (const char *)body : "", has_body ? body_len : 0);

    int rc = -1;
    struct roost_buf raw = ROOST_BUF_INIT;
    if (write_all(fd, out.ptr, out.len) < 0) {
        snprintf(resp->error, sizeof(resp->error), "write: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        unsigned char h[8];
        if (read_full(fd, h, 8) < 0) {
            snprintf(resp->error, sizeof(resp->error), "read: connection closed before "
                     "FCGI_END_REQUEST (%s)", strerror(errno));
            goto out;
        }
        size_t clen = ((size_t)h[4] << 8) | h[5], plen = h[6];
        roost_buf_reset(&tmp);
        roost_buf_grow(&tmp, clen + plen);
        if (read_full(fd, tmp.ptr, clen + plen) < 0) {
            snprintf(resp->error, sizeof(resp->error), "read: short record");
            goto out;
        }
        if (h[1] == FCGI_STDOUT)
            roost_buf_append(&raw, tmp.ptr, clen);
        else if (h[1] == FCGI_STDERR)
            fprintf(stderr, "harness: worker stderr: %.*s\n", (int)clen, tmp.ptr);
        else if (h[1] == FCGI_END_REQUEST)
            break;
    }
    if (parse_cgi_response(resp, &raw) < 0) {
        snprintf(resp->error, sizeof(resp->error), "malformed CGI response (%zu bytes)",
                 raw.len);
        resp->status = 0;
        goto out;
    }
    if (strcmp(method, "HEAD") == 0)
        roost_buf_reset(&resp->body);
    rc = 0;
out:
    close(fd);
    roost_buf_release(&raw);
    roost_buf_release(&params);
    roost_buf_release(&out);
    roost_buf_release(&tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* assertions                                                          */

void harness_assert_status(const struct harness_response *r, long want, const char *file,
                           int line)
{
    if (r->status == want)
        return;
    print_error("expected HTTP %ld, got %ld\n", want, r->status);
    harness_response_print(r);
    _fail(file, line);
}

void harness_assert_json_error(const struct harness_response *r, long want_status,
                               const char *code, const char *file, int line)
{
    const char *why = NULL;
    const char *ct = harness_response_header(r, "Content-Type");
    struct json_object *obj = harness_response_json(r), *v;
    if (r->status != want_status)
        why = "status";
    else if (!ct || strncasecmp(ct, "application/json", 16) != 0)
        why = "Content-Type is not application/json";
    else if (!obj || !json_object_is_type(obj, json_type_object))
        why = "body is not a JSON object";
    else if (!json_object_object_get_ex(obj, "error", &v) || !json_object_is_type(v, json_type_string)
             || json_object_get_string_len(v) == 0)
        why = "no non-empty string \"error\"";
    else if (!json_object_object_get_ex(obj, "code", &v) || !json_object_is_type(v, json_type_string)
             || strcmp(json_object_get_string(v), code) != 0)
        why = "\"code\" differs";
    json_object_put(obj);
    if (!why)
        return;
    print_error("expected JSON error %ld %s: %s\n", want_status, code, why);
    harness_response_print(r);
    _fail(file, line);
}

void harness_assert_body(const struct harness_response *r, const void *ptr, size_t len,
                         const char *file, int line)
{
    if (r->body.len == len && (len == 0 || memcmp(r->body.ptr, ptr, len) == 0))
        return;
    size_t at = 0;
    while (at < len && at < r->body.len && r->body.ptr[at] == ((const char *)ptr)[at])
        at++;
    print_error("body differs: expected %zu bytes, got %zu; first difference at byte %zu\n",
                len, r->body.len, at);
    harness_response_print(r);
    _fail(file, line);
}

void harness_assert_json_body(const struct harness_response *r, const char *expected_json,
                              const char *file, int line)
{
    struct json_object *want = json_tokener_parse(expected_json);
    if (!want) {
        print_error("test bug: expected JSON does not parse: %s\n", expected_json);
        _fail(file, line);
        return;
    }
    struct json_object *got = harness_response_json(r);
    int eq = got && json_object_equal(want, got);
    json_object_put(got);
    json_object_put(want);
    if (eq)
        return;
    print_error("expected JSON body %s\n", expected_json);
    harness_response_print(r);
    _fail(file, line);
}

char *harness_pct_encode(const void *ptr, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = ptr;
    struct roost_buf b = ROOST_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = p[i];
        if (isalnum(ch) || ch == '.' || ch == '_' || ch == '~' || ch == '-') {
            roost_buf_append_char(&b, (char)ch);
        } else {
            char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            roost_buf_append(&b, e, 3);
        }
    }
    return roost_buf_detach(&b, NULL);
}

char *harness_basic_auth(const char *user, const char *password)
{
    struct roost_buf plain = ROOST_BUF_INIT, line = ROOST_BUF_INIT;
    roost_buf_appendf(&plain, "%s:%s", user, password);
    roost_buf_append_str(&line, "Authorization: Basic ");
    roost_base64_encode(&line, plain.ptr, plain.len);
    roost_buf_release(&plain);
    return roost_buf_detach(&line, NULL);
}
