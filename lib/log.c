/* log.c - single-line log records on stderr. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static enum roost_log_level threshold = ROOST_LOG_WARN;

void roost_log_set_level(enum roost_log_level level) { threshold = level; }
enum roost_log_level roost_log_get_level(void) { return threshold; }

int roost_log_level_parse(const char *name)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void roost_log(enum roost_log_level level, const char *module, const char *fmt, ...)
{
    if (level > threshold)
        return;
    /* Build the whole line first and emit it with one write(), so lines of
     * concurrent workers never interleave in lighttpd's error log. */
    char line[2048];
    int n = snprintf(line, sizeof(line), "roost[%ld]: %s: ", (long)getpid(), module);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    va_end(ap);
    if (m > 0)
        used += (size_t)m < sizeof(line) - used ? (size_t)m : sizeof(line) - used - 1;
    /* Keep one record on one line whatever the message held. */
    for (size_t i = 0; i < used; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[used++] = '\n';
    if (write(2, line, used) < 0) {
        /* stderr gone: nothing else to tell */
    }
}
