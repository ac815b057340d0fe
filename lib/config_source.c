/*
 * config_source.c - instance, project and user configs from an http(s)://
 * config service through libcurl, or from JSON files under a file://
 * directory. See config_source.h for the contract.
 *
 * spec: instance-lookup.md "Fetch from Config Service": GET
 * /instances/{instanceId} with X-User-ID and X-Request-ID; DESIGN.md
 * "Mapping the lookup spec": file:// URLs are the same paths as JSON files.
 *
 * Decisions, each with its reason:
 * - Only a 200 whose body parses (json_util.h, strict) as a JSON object is a
 *   config; 404 is "not found"; every other outcome (other statuses,
 *   3xx included since redirects are never followed, refused, timed out,
 *   DNS, TLS, oversized or non-object body) is CONFIG_SERVICE_UNAVAILABLE,
 *   so that the resolver may fall back to a stale entry (spec "Error
 *   Handling": "If Config Service down: try stale cache").
 * - The response's Content-Type is not checked: a plain static file server
 *   (lighttpd serving instances/{id} without an extension) is a legitimate
 *   config service, and the body is parsed strictly anyway.
 * - The id and collection are checked here even though callers validate
 *   them: they become a path segment, and "." / ".." would climb out of the
 *   collection (curl squashes dot segments in URLs; open() follows them).
 * - Header values with control characters are refused (USAGE): they would
 *   split the request (header injection); callers pass sane values.
 * - The environment's proxy variables (http_proxy, no_proxy ...) are left
 *   to libcurl's default handling: the sysadmin controls the worker's
 *   environment in lighttpd.conf and may need a proxy.
 * - file:// reads with open/read, not libcurl: no URL decoding questions,
 *   errno tells a missing file (404) from an unreadable one (503), and
 *   fstat bounds the size before reading.
 * - file:// follows symlinks (no O_NOFOLLOW): the directory belongs to the
 *   sysadmin, ids cannot contain '/', so the only links followed are ones
 *   the sysadmin placed there (aliases, files managed by a deploy tool).
 *   Non-regular files (a FIFO, a device) are refused without blocking
 *   (O_NONBLOCK on open, then fstat).
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_source.h"
#include "instance.h"
#include "json_util.h"
#include "limits.h"

/* ROOST_CONFIG_TIMEOUT_MS bounds (DESIGN.md settings table; settings.c
 * enforces the same range, this keeps the module safe on its own). */
#define TIMEOUT_MS_MIN 1
#define TIMEOUT_MS_MAX 60000

/* Read size for file:// documents; a config of a few KiB is one read. */
#define FILE_CHUNK 16384

enum source_kind { SOURCE_HTTP, SOURCE_FILE };

struct roost_config_source {
    enum source_kind kind;
    char *base;            /* the configured URL without trailing '/' */
    char *display;         /* base with any password masked, for log lines */
    char *dir;             /* file://: the directory */
    long timeout_ms;
    CURL *curl;            /* http(s): kept for the source's life so its
                            * connection cache is reused between fetches */
    struct roost_buf body; /* http(s): the answer being received */
    int too_large;         /* http(s): the write callback hit the cap */
    char curl_error[CURL_ERROR_SIZE];
};

/* curl_global_init is process-wide and, before libcurl 7.84, not
 * thread-safe; a roost worker is a single thread, so one static flag is
 * enough. This flag is the module's only process-global state (the one
 * allowed piece besides the loaded settings). curl_global_cleanup is never
 * called: the state lives as long as the process, and tearing it down
 * while another source still exists would break that source. */
static int curl_ready;

static enum roost_err curl_global_once(struct roost_buf *detail)
{
    if (curl_ready)
        return ROOST_OK;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail, "libcurl cannot start: %s",
                                curl_easy_strerror(rc));
    curl_ready = 1;
    return ROOST_OK;
}

static int has_control_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

/* The base with "user:password@" shown as "user:***@", so log lines never
 * carry a credential. url is "scheme://authority[/path]". */
static char *masked_url(const char *url)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t auth_len = strcspn(auth, "/");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon)
        return roost_xstrdup(url);
    struct roost_buf b = ROOST_BUF_INIT;
    roost_buf_append(&b, url, (size_t)(colon - url));
    roost_buf_append_str(&b, ":***");
    roost_buf_append_str(&b, at);
    return roost_buf_detach(&b, NULL);
}

/* ---- opening ----------------------------------------------------------- */

static enum roost_err open_file(struct roost_config_source *src, const char *url,
                                struct roost_buf *detail)
{
    const char *path = url + strlen("file://");
    if (path[0] != '/')
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE '%s' must name an absolute directory "
                                "as file:///path (three slashes, no host)", url);
    /* The path is used as written: refusing the URL-special characters
     * avoids guessing whether "%20" means a space. */
    if (strpbrk(path, "%?#"))
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE '%s': write the directory path plainly, "
                                "without %%-escapes, '?' or '#'", url);
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    src->dir = roost_xmemdup_str(path, n);
    /* A sysadmin wants a wrong path reported once at start-up, not as a
     * 503 on every request. */
    struct stat st;
    if (stat(src->dir, &st) != 0)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE directory '%s' cannot be used: %s",
                                src->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE '%s' is not a directory", src->dir);
    if (access(src->dir, X_OK) != 0)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE directory '%s' is not searchable by "
                                "the worker's user: %s", src->dir, strerror(errno));
    return ROOST_OK;
}

/* Checks the URL with libcurl's own parser, so that what is accepted here
 * is exactly what curl will request later. */
static enum roost_err check_http_url(const char *url, int https, struct roost_buf *detail)
{
    /* curl reads "http:///x" as host "x"; a sysadmin who wrote three
     * slashes meant something else. */
    const char *auth = strstr(url, "://") + 3;
    if (*auth == '\0' || *auth == '/')
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE '%s' has no host", url);
    enum roost_err err = ROOST_OK;
    char *part = NULL;
    CURLU *u = curl_url();
    if (!u)
        abort(); /* allocation failure: the project aborts (buf.h) */
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        err = roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                               "ROOST_CONFIG_SOURCE '%s' is not a valid URL: %s", url,
                               curl_url_strerror(rc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
        err = roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                               "ROOST_CONFIG_SOURCE '%s' has no host", url);
        goto out;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK
        || strchr(url, '?') || strchr(url, '#')) {
        err = roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                               "ROOST_CONFIG_SOURCE '%s' must be a base URL without '?' "
                               "or '#': {base}/instances/{id} is appended to it", url);
        goto out;
    }
    if (https && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_SSL)) {
        err = roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                               "ROOST_CONFIG_SOURCE '%s': this libcurl has no TLS support", url);
        goto out;
    }
out:
    curl_free(part);
    curl_url_cleanup(u);
    return err;
}

/* The options every fetch shares, set once (per-fetch: URL and headers). */
static enum roost_err setup_curl(struct roost_config_source *src, struct roost_buf *detail)
{
    src->curl = curl_easy_init();
    if (!src->curl)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail, "libcurl cannot create a handle");
    CURL *c = src->curl;
    CURLcode rc = CURLE_OK;
    const char *what = NULL;
#define SET(opt, val) \
    do { if (rc == CURLE_OK && (rc = curl_easy_setopt(c, opt, val)) != CURLE_OK) what = #opt; } while (0)
    /* A worker is one process among many under lighttpd: no SIGALRM for
     * timeouts (libcurl then needs its threaded resolver to time out DNS,
     * which Debian's build has); SIGPIPE is ignored by the worker. */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, src->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, src->timeout_ms);
    /* Redirects are not followed (a 3xx is an error naming its status):
     * the sysadmin configures the real URL. Only http and https at all. */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string forms */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_HTTPGET, 1L);
    /* The cap twice: up front when the answer declares its length, and
     * in the write callback for chunked or close-delimited bodies. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ROOST_CONFIG_RESPONSE_MAX);
    SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    SET(CURLOPT_ERRORBUFFER, src->curl_error);
#undef SET
    if (rc != CURLE_OK)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail, "libcurl refused %s: %s", what,
                                curl_easy_strerror(rc));
    return ROOST_OK;
}

enum roost_err roost_config_source_open(const char *url, long timeout_ms,
                                        struct roost_config_source **out, struct roost_buf *detail)
{
    if (!out || *out)
        return roost_err_detail(ROOST_ERR_USAGE, detail, "config source: *out must be NULL");
    if (!url || !*url)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail, "ROOST_CONFIG_SOURCE is empty");
    if (has_control_chars(url, strlen(url)) || strchr(url, ' '))
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_SOURCE has spaces or control characters");
    if (timeout_ms < TIMEOUT_MS_MIN || timeout_ms > TIMEOUT_MS_MAX)
        return roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                                "ROOST_CONFIG_TIMEOUT_MS %ld is out of range %d..%d", timeout_ms,
                                TIMEOUT_MS_MIN, TIMEOUT_MS_MAX);

    struct roost_config_source *src = roost_xcalloc(1, sizeof(*src));
    roost_buf_init(&src->body);
    src->timeout_ms = timeout_ms;
    enum roost_err err;
    if (strncasecmp(url, "file://", 7) == 0) {
        src->kind = SOURCE_FILE;
        err = open_file(src, url, detail);
    } else if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
        src->kind = SOURCE_HTTP;
        err = check_http_url(url, url[4] == 's' || url[4] == 'S', detail);
        if (!err)
            err = curl_global_once(detail);
        if (!err)
            err = setup_curl(src, detail);
    } else {
        err = roost_err_detail(ROOST_ERR_MISCONFIGURED, detail,
                               "ROOST_CONFIG_SOURCE '%s' must start with http://, https:// "
                               "or file:///", url);
    }
    if (err) {
        roost_config_source_close(src);
        return err;
    }
    /* The authority (http) or the root "/" (file) stays: only path
     * slashes go. */
    size_t n = strlen(url), keep = (size_t)(strstr(url, "://") - url) + 4;
    while (n > keep && url[n - 1] == '/')
        n--;
    src->base = roost_xmemdup_str(url, n);
    src->display = masked_url(src->base);
    *out = src;
    return ROOST_OK;
}

void roost_config_source_close(struct roost_config_source *src)
{
    if (!src)
        return;
    if (src->curl)
        curl_easy_cleanup(src->curl);
    roost_buf_release(&src->body);
    free(src->base);
    free(src->display);
    free(src->dir);
    free(src);
}

const char *roost_config_source_url(const struct roost_config_source *src)
{
    return src->display;
}

/* ---- fetching ---------------------------------------------------------- */

/* The document must be a JSON object (a config, project or user record). */
static enum roost_err parse_object(struct roost_slice text, const char *where,
                                   struct json_object **out, struct roost_buf *detail)
{
    struct json_object *doc = NULL;
    struct roost_buf why = ROOST_BUF_INIT;
    enum roost_err err = ROOST_OK;
    if (roost_json_parse(text, &doc, &why) != ROOST_OK)
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: invalid JSON from source: %s", where, why.ptr);
    else if (!json_object_is_type(doc, json_type_object))
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: invalid JSON from source: not a JSON object", where);
    roost_buf_release(&why);
    if (err) {
        json_object_put(doc);
        return err;
    }
    *out = doc;
    return ROOST_OK;
}

static enum roost_err fetch_file(struct roost_config_source *src, const char *collection,
                                 struct roost_slice id, struct json_object **out,
                                 struct roost_buf *detail)
{
    struct roost_buf path = ROOST_BUF_INIT, text = ROOST_BUF_INIT;
    roost_buf_appendf(&path, "%s/%s/%.*s.json", strcmp(src->dir, "/") ? src->dir : "",
                      collection, (int)id.len, id.ptr);
    enum roost_err err = ROOST_OK;
    int fd = open(path.ptr, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        /* A missing collection directory is "not found" too: a sysadmin
         * who keeps no projects needs no projects/ directory. */
        if (errno == ENOENT)
            err = roost_err_detail(ROOST_ERR_CONFIG_NOT_FOUND, detail, "no file '%s'", path.ptr);
        else
            err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                                   "cannot open '%s': %s", path.ptr, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "cannot stat '%s': %s", path.ptr, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "'%s' is not a regular file", path.ptr);
        goto out;
    }
    /* Checked on the size and again while reading: the file may grow. */
    if (st.st_size > ROOST_CONFIG_RESPONSE_MAX)
        goto too_large;
    for (;;) {
        char chunk[FILE_CHUNK];
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                                   "cannot read '%s': %s", path.ptr, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        if ((size_t)got > ROOST_CONFIG_RESPONSE_MAX - text.len)
            goto too_large;
        roost_buf_append(&text, chunk, (size_t)got);
    }
    err = parse_object(roost_buf_slice(&text), path.ptr, out, detail);
    goto out;
too_large:
    err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                           "'%s' is larger than %d bytes (ROOST_CONFIG_RESPONSE_MAX)", path.ptr,
                           ROOST_CONFIG_RESPONSE_MAX);
out:
    if (fd >= 0)
        close(fd);
    roost_buf_release(&path);
    roost_buf_release(&text);
    return err;
}

/* libcurl's write callback: keeps the body up to the cap. Returning less
 * than was offered makes curl abort the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct roost_config_source *src = userdata;
    size_t n = size * nmemb;
    if (n > ROOST_CONFIG_RESPONSE_MAX - src->body.len) {
        src->too_large = 1;
        return 0;
    }
    roost_buf_append(&src->body, data, n);
    return n;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name,
                                     struct roost_slice value)
{
    struct roost_buf line = ROOST_BUF_INIT;
    roost_buf_appendf(&line, "%s: %.*s", name, (int)value.len, value.ptr);
    struct curl_slist *grown = curl_slist_append(list, line.ptr);
    roost_buf_release(&line);
    if (!grown)
        abort(); /* allocation failure: the project aborts (buf.h) */
    return grown;
}

static enum roost_err fetch_http(struct roost_config_source *src, const char *collection,
                                 struct roost_slice id, struct roost_slice user_id,
                                 struct roost_slice request_id, struct json_object **out,
                                 struct roost_buf *detail)
{
    CURL *c = src->curl;
    struct roost_buf url = ROOST_BUF_INIT, where = ROOST_BUF_INIT;
    /* Ids are [A-Za-z0-9._-] and need no escaping today; escaping anyway
     * keeps the URL right if the id syntax ever widens. */
    char *esc = curl_easy_escape(c, id.ptr, (int)id.len);
    if (!esc)
        abort(); /* allocation failure */
    roost_buf_appendf(&url, "%s/%s/%s", src->base, collection, esc);
    roost_buf_appendf(&where, "GET %s/%s/%s", src->display, collection, esc);
    curl_free(esc);

    struct curl_slist *headers = NULL;
    headers = add_header(headers, "Accept", roost_slice_cstr("application/json"));
    if (user_id.len)
        headers = add_header(headers, "X-User-ID", user_id);
    if (request_id.len)
        headers = add_header(headers, "X-Request-ID", request_id);

    roost_buf_reset(&src->body);
    src->too_large = 0;
    src->curl_error[0] = '\0';
    CURLcode rc = curl_easy_setopt(c, CURLOPT_URL, url.ptr);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, src);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c);
    long status = 0;
    curl_off_t elapsed_us = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &elapsed_us);
    long elapsed_ms = (long)(elapsed_us / 1000);
    /* The handle outlives this list: never leave it pointing at freed memory. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(headers);

    enum roost_err err;
    if ((rc == CURLE_WRITE_ERROR && src->too_large) || rc == CURLE_FILESIZE_EXCEEDED) {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: answer larger than %d bytes (ROOST_CONFIG_RESPONSE_MAX), "
                               "HTTP status %ld", where.ptr, ROOST_CONFIG_RESPONSE_MAX, status);
    } else if (rc != CURLE_OK) {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: %s (curl error %d) after %ld ms", where.ptr,
                               src->curl_error[0] ? src->curl_error : curl_easy_strerror(rc),
                               (int)rc, elapsed_ms);
    } else if (status == 200) {
        err = parse_object(roost_buf_slice(&src->body), where.ptr, out, detail);
    } else if (status == 404) {
        err = roost_err_detail(ROOST_ERR_CONFIG_NOT_FOUND, detail, "%s: HTTP status 404", where.ptr);
    } else if (status >= 300 && status < 400) {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: HTTP status %ld after %ld ms; redirects are not followed, "
                               "set ROOST_CONFIG_SOURCE to the final URL", where.ptr, status,
                               elapsed_ms);
    } else {
        err = roost_err_detail(ROOST_ERR_CONFIG_SERVICE_UNAVAILABLE, detail,
                               "%s: HTTP status %ld after %ld ms", where.ptr, status, elapsed_ms);
    }
    /* A body may be up to 1 MiB: not kept between requests. */
    roost_buf_release(&src->body);
    roost_buf_release(&url);
    roost_buf_release(&where);
    return err;
}

static int collection_valid(const char *collection)
{
    return collection && (strcmp(collection, "instances") == 0 || strcmp(collection, "projects") == 0
                          || strcmp(collection, "users") == 0);
}

enum roost_err roost_config_source_fetch(struct roost_config_source *src, const char *collection,
                                         struct roost_slice id, struct roost_slice user_id,
                                         struct roost_slice request_id, struct json_object **out,
                                         struct roost_buf *detail)
{
    if (!src || !out || *out)
        return roost_err_detail(ROOST_ERR_USAGE, detail, "config source: no source, or *out not NULL");
    if (!collection_valid(collection))
        return roost_err_detail(ROOST_ERR_USAGE, detail,
                                "config source: unknown collection '%.32s'",
                                collection ? collection : "(null)");
    /* "." and ".." match the id syntax but name directories. */
    if (!roost_instance_id_valid(id) || roost_slice_eq_cstr(id, ".") || roost_slice_eq_cstr(id, ".."))
        return roost_err_detail(ROOST_ERR_USAGE, detail,
                                "config source: invalid %s id (%zu bytes; callers validate ids)",
                                collection, id.len);
    if (has_control_chars(user_id.ptr, user_id.len) || user_id.len > ROOST_HEADER_VALUE_MAX
        || has_control_chars(request_id.ptr, request_id.len)
        || request_id.len > ROOST_HEADER_VALUE_MAX)
        return roost_err_detail(ROOST_ERR_USAGE, detail,
                                "config source: user or request id too long or with control "
                                "characters");
    if (src->kind == SOURCE_FILE)
        return fetch_file(src, collection, id, out, detail);
    return fetch_http(src, collection, id, user_id, request_id, out, detail);
}
