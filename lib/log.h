/*
 * log.h - one line per event on stderr, which lighttpd writes to its error
 * log. Format:  roost[PID]: MODULE: message 'subject': reason
 * Lowercase, no final full stop; name the setting that fixes the problem.
 *
 *   roost_log(ROOST_LOG_ERROR, "store", "cannot open '%s': %s", path, strerror(errno));
 */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

enum roost_log_level {
    ROOST_LOG_ERROR = 0,
    ROOST_LOG_WARN = 1,
    ROOST_LOG_INFO = 2,
    ROOST_LOG_DEBUG = 3,
};

/* Sets the threshold; lines above it are dropped. Default: warn. This and
 * the pid cache are the process's only logging state, set once at start. */
void roost_log_set_level(enum roost_log_level level);
enum roost_log_level roost_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int roost_log_level_parse(const char *name);

void roost_log(enum roost_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
