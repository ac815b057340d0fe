/*
 * settings.h - roost's own settings, read once at start from ROOST_*
 * environment variables (set in lighttpd.conf with bin-environment).
 * Named "settings" so it is never confused with an instance config.
 *
 * Every variable has a safe default. Problems are collected, one line
 * each naming the variable and the value, and never acted on here: the
 * caller logs them and refuses to serve (DESIGN.md "Configuration").
 */
#ifndef ROOST_SETTINGS_H
#define ROOST_SETTINGS_H

#include <stddef.h>

#include "buf.h"
#include "log.h"

#define ROOST_STORE_DIR_DEFAULT "/var/lib/roost"
#define ROOST_DEFAULT_INSTANCE_DEFAULT "default"
#define ROOST_MODE_DEFAULT "primary"

struct roost_settings {
    char *store_dir;               /* ROOST_STORE_DIR */
    char *default_instance;        /* ROOST_DEFAULT_INSTANCE */
    int auto_create;               /* ROOST_AUTO_CREATE: 0 or 1 */
    size_t max_value_bytes;        /* ROOST_MAX_VALUE_BYTES */
    size_t max_batch_keys;         /* ROOST_MAX_BATCH_KEYS */
    char *mode;                    /* ROOST_MODE */
    enum roost_log_level log_level;/* ROOST_LOG_LEVEL */
};

/* Looks a variable up; NULL when unset. Production passes a getenv wrapper;
 * tests pass a table. */
typedef const char *(*roost_settings_lookup_fn)(void *arg, const char *name);
const char *roost_settings_getenv(void *arg, const char *name);

/* Fills s from lookup. A variable that is unset or empty takes its default
 * (an empty bin-environment entry is how a sysadmin comments one out). Returns the number of problems; each is appended to
 * problems as one line ("ROOST_X='value': reason\n"). On problems s still
 * holds defaults for the bad variables and must be released. */
int roost_settings_load(struct roost_settings *s, roost_settings_lookup_fn lookup, void *arg,
                        struct roost_buf *problems);

void roost_settings_release(struct roost_settings *s);

#endif
