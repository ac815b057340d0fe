/* settings.c - ROOST_* environment variables into struct roost_settings. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "instance.h"
#include "limits.h"
#include "settings.h"

const char *roost_settings_getenv(void *arg, const char *name)
{
    (void)arg;
    return getenv(name);
}

struct loader {
    roost_settings_lookup_fn lookup;
    void *arg;
    struct roost_buf *problems;
    int count;
};

static void problem(struct loader *l, const char *name, const char *value, const char *why)
{
    l->count++;
    if (!l->problems)
        return;
    /* One problem, one line: control bytes in the value are shown escaped
     * so a value can neither split the report nor forge a log line. */
    roost_buf_appendf(l->problems, "%s='", name);
    for (size_t i = 0; value[i] && i < 200; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7F || c == '\\')
            roost_buf_appendf(l->problems, "\\x%02x", c);
        else
            roost_buf_append_char(l->problems, (char)c);
    }
    roost_buf_appendf(l->problems, "': %s\n", why);
}

/* Unset and empty both mean "use the default": an empty bin-environment
 * entry in lighttpd.conf is how a sysadmin comments a value out in place. */
static const char *get(struct loader *l, const char *name)
{
    const char *v = l->lookup(l->arg, name);
    return v && *v ? v : NULL;
}

static void get_size(struct loader *l, const char *name, size_t min, size_t max, size_t *out)
{
    const char *v = get(l, name);
    if (!v)
        return;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || errno || *end || n < min || n > max) {
        char why[128];
        snprintf(why, sizeof(why), "must be a whole number from %zu to %zu", min, max);
        problem(l, name, v, why);
        return;
    }
    *out = (size_t)n;
}

static void get_bool(struct loader *l, const char *name, int *out)
{
    const char *v = get(l, name);
    if (!v)
        return;
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
        *out = v[0] == '1';
    else
        problem(l, name, v, "must be 0 or 1");
}

static void get_string(struct loader *l, const char *name, char **out)
{
    const char *v = get(l, name);
    if (v) {
        free(*out);
        *out = roost_xstrdup(v);
    }
}

static void get_admin_token(struct loader *l, struct roost_settings *s)
{
    const char *v = get(l, "ROOST_ADMIN_TOKEN");
    if (!v)
        return;
    size_t n = strlen(v);
    int ok = n >= ROOST_ADMIN_TOKEN_MIN && n <= 512;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > 0x20 && v[i] < 0x7F;
    if (!ok) {
        /* The value itself is a secret: never echo it into the log. */
        char why[160];
        snprintf(why, sizeof(why), "must be %d-512 printable characters without spaces "
                 "(e.g. from: head -c 32 /dev/urandom | base64)", ROOST_ADMIN_TOKEN_MIN);
        problem(l, "ROOST_ADMIN_TOKEN", "(hidden)", why);
        return;
    }
    s->admin_token = roost_xstrdup(v);
}

static void get_admin_users(struct loader *l, struct roost_settings *s)
{
    const char *v = get(l, "ROOST_ADMIN_USERS");
    if (!v)
        return;
    size_t count = 0, cap = 4;
    char **users = roost_xcalloc(cap + 1, sizeof(*users));
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *start = p;
        p += len + (comma ? 1 : 0);
        while (len && (*start == ' ' || *start == '\t')) {
            start++;
            len--;
        }
        while (len && (start[len - 1] == ' ' || start[len - 1] == '\t'))
            len--;
        if (!len)
            continue;
        if (count == cap) {
            cap *= 2;
            users = roost_xrealloc(users, (cap + 1) * sizeof(*users));
        }
        users[count++] = roost_xmemdup_str(start, len);
        users[count] = NULL;
    }
    if (!count) {
        free(users);
        problem(l, "ROOST_ADMIN_USERS", v, "must name at least one user, comma-separated");
        return;
    }
    s->admin_users = users;
}

/* The instance-lookup settings (DESIGN.md settings table). The source URL
 * itself is checked by config_source.c when the worker opens it. */
static void get_lookup_settings(struct loader *l, struct roost_settings *s)
{
    s->config_ttl = ROOST_CONFIG_TTL_DEFAULT;
    s->config_stale_max = ROOST_CONFIG_STALE_MAX_DEFAULT;
    s->config_use_stale = 1;
    s->config_timeout_ms = ROOST_CONFIG_TIMEOUT_MS_DEFAULT;
    get_string(l, "ROOST_CONFIG_SOURCE", &s->config_source);
    size_t ttl = (size_t)s->config_ttl, stale = (size_t)s->config_stale_max;
    size_t timeout = (size_t)s->config_timeout_ms;
    /* A week bounds both: a config older than that is not a cache. */
    get_size(l, "ROOST_CONFIG_TTL", 1, 7 * 86400, &ttl);
    get_size(l, "ROOST_CONFIG_STALE_MAX", 1, 7 * 86400, &stale);
    get_size(l, "ROOST_CONFIG_TIMEOUT_MS", 1, 60000, &timeout);
    s->config_ttl = (int64_t)ttl;
    s->config_stale_max = (int64_t)stale;
    s->config_timeout_ms = (long)timeout;
    if (s->config_stale_max < s->config_ttl) {
        char why[96];
        snprintf(why, sizeof(why), "must not be less than ROOST_CONFIG_TTL (%lld)", (long long)s->config_ttl);
        char val[32];
        snprintf(val, sizeof(val), "%lld", (long long)s->config_stale_max);
        problem(l, "ROOST_CONFIG_STALE_MAX", val, why);
    }
    get_bool(l, "ROOST_CONFIG_USE_STALE", &s->config_use_stale);
    get_bool(l, "ROOST_REQUIRE_AUTH", &s->require_auth);

    const char *v = get(l, "ROOST_TRUSTED_USER_HEADER");
    if (!v)
        return;
    size_t n = strlen(v);
    int ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-';
    if (!ok) {
        problem(l, "ROOST_TRUSTED_USER_HEADER", v, "must be a header name such as X-User-ID");
        return;
    }
    s->trusted_user_header = roost_xstrdup(v);
    /* CGI's name for it: HTTP_ + upper case, '-' as '_'. */
    s->trusted_user_param = roost_xmalloc(n + 6);
    memcpy(s->trusted_user_param, "HTTP_", 5);
    for (size_t i = 0; i <= n; i++) {
        char ch = v[i];
        s->trusted_user_param[5 + i] = ch == '-' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
}

int roost_settings_load(struct roost_settings *s, roost_settings_lookup_fn lookup, void *arg,
                        struct roost_buf *problems)
{
    struct loader l = { lookup, arg, problems, 0 };
    memset(s, 0, sizeof(*s));
    s->store_dir = roost_xstrdup(ROOST_STORE_DIR_DEFAULT);
    s->default_instance = roost_xstrdup(ROOST_DEFAULT_INSTANCE_DEFAULT);
    s->auto_create = 1;
    s->max_value_bytes = ROOST_VALUE_MAX_DEFAULT;
    s->max_batch_keys = ROOST_BATCH_KEYS_DEFAULT;
    s->mode = roost_xstrdup(ROOST_MODE_DEFAULT);
    s->log_level = ROOST_LOG_WARN;

    const char *v = get(&l, "ROOST_STORE_DIR");
    if (v && v[0] != '/')
        problem(&l, "ROOST_STORE_DIR", v,
                "must be an absolute path (workers do not run in a predictable directory)");
    else
        get_string(&l, "ROOST_STORE_DIR", &s->store_dir);

    v = get(&l, "ROOST_DEFAULT_INSTANCE");
    if (v && !roost_instance_id_valid(roost_slice_cstr(v)))
        problem(&l, "ROOST_DEFAULT_INSTANCE", v, "must be 1-64 characters of A-Z a-z 0-9 . _ -");
    else
        get_string(&l, "ROOST_DEFAULT_INSTANCE", &s->default_instance);

    get_bool(&l, "ROOST_AUTO_CREATE", &s->auto_create);
    get_size(&l, "ROOST_MAX_VALUE_BYTES", 1, ROOST_VALUE_MAX_CEILING, &s->max_value_bytes);
    get_size(&l, "ROOST_MAX_BATCH_KEYS", 1, ROOST_BATCH_KEYS_CEILING, &s->max_batch_keys);

    v = get(&l, "ROOST_MODE");
    if (v) {
        size_t n = strlen(v);
        int ok = n <= ROOST_MODE_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_';
        if (ok)
            get_string(&l, "ROOST_MODE", &s->mode);
        else
            problem(&l, "ROOST_MODE", v, "must be a lowercase word of at most 32 characters, e.g. primary or replica");
    }

    v = get(&l, "ROOST_LOG_LEVEL");
    if (v) {
        int level = roost_log_level_parse(v);
        if (level < 0)
            problem(&l, "ROOST_LOG_LEVEL", v, "must be one of error, warn, info, debug");
        else
            s->log_level = (enum roost_log_level)level;
    }
    get_admin_token(&l, s);
    get_admin_users(&l, s);
    get_lookup_settings(&l, s);
    return l.count;
}

int roost_settings_is_admin_user(const struct roost_settings *s, const char *user)
{
    if (!s->admin_users || !user || !*user)
        return 0;
    for (char **u = s->admin_users; *u; u++)
        if (strcmp(*u, user) == 0)
            return 1;
    return 0;
}

void roost_settings_release(struct roost_settings *s)
{
    free(s->config_source);
    free(s->trusted_user_header);
    free(s->trusted_user_param);
    free(s->admin_token);
    if (s->admin_users)
        for (char **u = s->admin_users; *u; u++)
            free(*u);
    free(s->admin_users);
    free(s->store_dir);
    free(s->default_instance);
    free(s->mode);
    memset(s, 0, sizeof(*s));
}
