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
    return l.count;
}

void roost_settings_release(struct roost_settings *s)
{
    free(s->store_dir);
    free(s->default_instance);
    free(s->mode);
    memset(s, 0, sizeof(*s));
}
