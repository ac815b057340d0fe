/* error.c - accessors over the ROOST_ERR_MAP table. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"

struct err_row {
    const char *name;
    const char *code;
    int status;
    const char *message;
};

static const struct err_row rows[] = {
#define ROOST_ERR_ROW(name, code, status, msg) { #name, code, status, msg },
    ROOST_ERR_MAP(ROOST_ERR_ROW)
#undef ROOST_ERR_ROW
};

static const struct err_row *row(enum roost_err err)
{
    if ((unsigned)err >= ROOST_ERR__COUNT)
        err = ROOST_ERR_INTERNAL;
    return &rows[err];
}

const char *roost_err_code(enum roost_err err) { return row(err)->code; }
int roost_err_status(enum roost_err err) { return row(err)->status; }
const char *roost_err_message(enum roost_err err) { return row(err)->message; }
const char *roost_err_name(enum roost_err err) { return row(err)->name; }

enum roost_err roost_err_detail(enum roost_err err, struct roost_buf *detail, const char *fmt, ...)
{
    if (detail) {
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        roost_buf_set_str(detail, line);
    }
    return err;
}
