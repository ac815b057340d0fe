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
#include <stdint.h>

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
    char *admin_token;             /* ROOST_ADMIN_TOKEN, NULL: none */
    char **admin_users;            /* ROOST_ADMIN_USERS, NULL-terminated; NULL: none */
    char *config_source;           /* ROOST_CONFIG_SOURCE, NULL: the local registry */
    int64_t config_ttl;            /* ROOST_CONFIG_TTL, seconds */
    int64_t config_stale_max;      /* ROOST_CONFIG_STALE_MAX, seconds after caching */
    int config_use_stale;          /* ROOST_CONFIG_USE_STALE */
    long config_timeout_ms;        /* ROOST_CONFIG_TIMEOUT_MS */
    char *trusted_user_header;     /* ROOST_TRUSTED_USER_HEADER, NULL: REMOTE_USER only */
    char *trusted_user_param;      /* its CGI name, e.g. HTTP_X_USER_ID */
    int require_auth;              /* ROOST_REQUIRE_AUTH */
};

/* instance-lookup.md "TTL Behavior": fresh 300 s, purged 3600 s after
 * caching; the config service timeout 5000 ms. */
#define ROOST_CONFIG_TTL_DEFAULT 300
#define ROOST_CONFIG_STALE_MAX_DEFAULT 3600
#define ROOST_CONFIG_TIMEOUT_MS_DEFAULT 5000

/* Shortest admin token accepted: a guessable token is worse than none. */
#define ROOST_ADMIN_TOKEN_MIN 16
/* 1 if user is named in ROOST_ADMIN_USERS. */
int roost_settings_is_admin_user(const struct roost_settings *s, const char *user);

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
