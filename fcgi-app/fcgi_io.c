/* fcgi_io.c - libfcgi accept loop and CGI <-> roost_http conversion. */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fcgi_io.h"
#include "handlers.h"
#include "log.h"

/* Unset or unparsable CONTENT_LENGTH means no body: lighttpd buffers the
 * whole request body (server.stream-request-body = 0) and always announces
 * its length. */
static size_t content_length(const char *v)
{
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return errno || *end ? 0 : (size_t)n;
}

/* Reads stdin to its end, discarding it: past the announced bytes this
 * consumes the empty record that closes FastCGI stdin, so lighttpd's last
 * write never meets a closed socket ("connection was dropped after
 * accept()" in its log). Returns 1 at the end of stdin, 0 on error. */
static int drain_stdin(FCGX_Request *r)
{
    char sink[16384];
    int got;
    while ((got = FCGX_GetStr(sink, sizeof(sink), r->in)) > 0)
        ;
    return got == 0 && !FCGX_GetError(r->in);
}

/* Reads the body when it fits the route's limit, else drains it unread so
 * lighttpd finishes sending and gets our 413. Returns 1 when stdin was
 * read to its end (the condition for FCGX_Detach). */
static int read_body(FCGX_Request *r, struct roost_http_request *req, size_t limit)
{
    size_t want = req->content_length;
    if (want > limit) {
        req->body_too_large = 1;
        return drain_stdin(r);
    }
    roost_buf_grow(&req->body, want);
    while (req->body.len < want) {
        size_t chunk = want - req->body.len;
        if (chunk > 1 << 20)
            chunk = 1 << 20;
        int got = FCGX_GetStr(req->body.ptr + req->body.len, (int)chunk, r->in);
        if (got <= 0)
            break;
        req->body.len += (size_t)got;
    }
    req->body.ptr[req->body.len] = '\0';
    if (req->body.len != want) {
        /* lighttpd gave up on the request (its client went away): acting on
         * part of a body would store a value nobody sent. */
        req->body_incomplete = 1;
        return 0;
    }
    return drain_stdin(r);
}

/* The CGI parameters roost reads, and where each goes. */
struct wanted_param {
    const char *name;
    size_t len;
    struct roost_buf *out;
    int *present;
};

static int build_request(FCGX_Request *r, struct roost_app *app, struct roost_http_request *req)
{
    /* Borrowed from libfcgi, used before FCGX_Finish_r. */
    const char *method = NULL, *uri = NULL, *length = NULL;
    int has_authorization = 0, has_remote_user = 0;
#define WANT(n, buf, has) { n, sizeof(n) - 1, buf, has }
    struct wanted_param wanted[] = {
        WANT("CONTENT_TYPE", &req->content_type, &req->has_content_type),
        WANT("HTTP_X_INSTANCE_ID", &req->instance_header, &req->has_instance_header),
        WANT("HTTP_X_PROJECT_ID", &req->project_header, &req->has_project_header),
        WANT("HTTP_X_REQUEST_ID", &req->request_id, &req->has_request_id),
        WANT("HTTP_AUTHORIZATION", &req->authorization, &has_authorization),
        WANT("REMOTE_USER", &req->remote_user, &has_remote_user),
        { app->settings.trusted_user_param,
          app->settings.trusted_user_param ? strlen(app->settings.trusted_user_param) : 0,
          &req->trusted_user, &req->has_trusted_user },
    };
#undef WANT
    size_t nwanted = sizeof(wanted) / sizeof(wanted[0]) - (app->settings.trusted_user_param ? 0 : 1);
    /* One pass over the parameters instead of a FCGX_GetParam scan per name
     * (measured ~6% of a worker's CPU); the first occurrence wins, as with
     * FCGX_GetParam. */
    char trusted0 = app->settings.trusted_user_param ? app->settings.trusted_user_param[0] : 'H';
    for (char **p = r->envp; p && *p; p++) {
        const char *e = *p;
        /* Every name we want starts with one of these: skip the rest
         * (SERVER_*, SCRIPT_*, GATEWAY_INTERFACE, ...) at one compare. */
        if (e[0] != 'H' && e[0] != 'R' && e[0] != 'C' && e[0] != trusted0)
            continue;
        if (!method && strncmp(e, "REQUEST_METHOD=", 15) == 0) {
            method = e + 15;
            continue;
        }
        if (!uri && strncmp(e, "REQUEST_URI=", 12) == 0) {
            uri = e + 12;
            continue;
        }
        if (!length && strncmp(e, "CONTENT_LENGTH=", 15) == 0) {
            length = e + 15;
            continue;
        }
        for (size_t i = 0; i < nwanted; i++) {
            if (*wanted[i].present || strncmp(e, wanted[i].name, wanted[i].len) != 0 || e[wanted[i].len] != '=')
                continue;
            *wanted[i].present = 1;
            roost_buf_set_str(wanted[i].out, e + wanted[i].len + 1);
            break;
        }
    }
    req->method = roost_http_method_parse(method ? method : "");
    if (!uri)
        uri = "/";
    roost_http_request_set_uri(req, uri, strlen(uri));
    req->content_length = content_length(length);
    return read_body(r, req, roost_app_body_limit(app, req));
}

static void write_response(FCGX_Request *r, const struct roost_http_response *resp,
                           int head_only, struct roost_buf *head)
{
    roost_buf_reset(head);
    roost_http_response_head(resp, head);
    /* Small responses go out in one write: libfcgi buffers both puts and
     * flushes them together at FCGX_Finish_r. */
    FCGX_PutStr(head->ptr, (int)head->len, r->out);
    if (!head_only && resp->body.len)
        FCGX_PutStr(resp->body.ptr, (int)resp->body.len, r->out);
}

/* FCGX_Detach before FCGX_Finish_r turns libfcgi's lingering close
 * (shutdown, poll up to 2 s for the peer, read, close) into a plain close:
 * measured 1.24x on this stack. Only safe on a unix socket, and only once
 * stdin was read to its end (DESIGN.md "Worker loop and lighttpd"). */
static int listen_socket_is_unix(void)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getsockname(0, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    return sa.ss_family == AF_UNIX;
}

int roost_fcgi_run(struct roost_app *app, volatile sig_atomic_t *stop)
{
    if (FCGX_Init() != 0) {
        roost_log(ROOST_LOG_ERROR, "fcgi", "cannot initialise libfcgi");
        return -1;
    }
    FCGX_Request r;
    if (FCGX_InitRequest(&r, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        roost_log(ROOST_LOG_ERROR, "fcgi", "cannot set up the request on fd 0");
        return -1;
    }
    int unix_socket = listen_socket_is_unix();
    struct roost_http_request req;
    struct roost_http_response resp;
    struct roost_buf head = ROOST_BUF_INIT;
    roost_http_request_init(&req);
    roost_http_response_init(&resp);
    int rc = 0;
    while (!*stop) {
        if (FCGX_Accept_r(&r) < 0) {
            if (!*stop) {
                roost_log(ROOST_LOG_ERROR, "fcgi", "accept on the FastCGI socket failed; "
                          "is this process started by lighttpd (bin-path) or spawn-fcgi?");
                rc = -1;
            }
            break;
        }
        int body_done = build_request(&r, app, &req);
        roost_app_handle(app, &req, &resp);
        write_response(&r, &resp, req.method == ROOST_METHOD_HEAD, &head);
        if (unix_socket && body_done)
            FCGX_Detach(&r);
        FCGX_Finish_r(&r);
        roost_app_after_response(app);
        roost_http_request_reset(&req);
        roost_http_response_reset(&resp);
    }
    roost_http_request_release(&req);
    roost_http_response_release(&resp);
    roost_buf_release(&head);
    FCGX_Free(&r, 1);
    return rc;
}
