/*
 * cmd_instances.c - roostctl instances, show, set-status, delete, stats:
 * the registry and admin.h, printed for a person (tables, indented JSON)
 * or for a script (--json: JSON lines).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "admin.h"
#include "counters.h"
#include "instance.h"
#include "json_util.h"
#include "kv.h"
#include "maint.h"
#include "registry.h"
#include "roostctl.h"

/* Indented JSON for people. json_util.h has only the compact form, so the
 * pretty flags live here, the one place roostctl prints JSON for a person. */
#define PRETTY_FLAGS \
    (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static void print_pretty(struct json_object *obj)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(obj, PRETTY_FLAGS, &len);
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
}

static void print_compact(struct json_object *obj)
{
    struct roost_buf b = ROOST_BUF_INIT;
    roost_json_serialize(obj, &b);
    roost_buf_append_char(&b, '\n');
    (void)ctl_write(stdout, &b);
    roost_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Tables                                                               */

struct table {
    size_t ncols;
    const char *const *heads;
    const unsigned char *right;     /* 1: right-aligned column */
    char **cells;                   /* rows * ncols, owned */
    size_t rows, alloc;
};

static void table_add(struct table *t, char **row)
{
    if (t->rows == t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : 64;
        t->cells = roost_xrealloc(t->cells, t->alloc * t->ncols * sizeof(char *));
    }
    memcpy(t->cells + t->rows * t->ncols, row, t->ncols * sizeof(char *));
    t->rows++;
}

/* Display width: bytes, counting UTF-8 continuation bytes as nothing. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void table_print(const struct table *t)
{
    size_t *w = roost_xcalloc(t->ncols, sizeof(*w));
    for (size_t c = 0; c < t->ncols; c++)
        w[c] = width(t->heads[c]);
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r <= t->rows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->heads[c] : t->cells[(r - 1) * t->ncols + c];
            size_t pad = w[c] - width(s);
            int last = c + 1 == t->ncols;
            if (t->right[c])
                printf("%*s%s", (int)pad, "", s);
            else
                printf("%s%*s", s, last ? 0 : (int)pad, "");
            fputs(last ? "\n" : "  ", stdout);
        }
    }
    free(w);
}

static void table_release(struct table *t)
{
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->rows = t->alloc = 0;
}

/* A cell from bytes a tenant or an admin chose: nothing that could move
 * the cursor or split the line reaches the terminal. */
static char *cell_text(struct roost_slice s, const char *if_empty)
{
    struct roost_buf b = ROOST_BUF_INIT;
    if (!s.len)
        roost_buf_append_str(&b, if_empty);
    else
        roost_maint_append_printable(&b, s);
    return roost_buf_detach(&b, NULL);
}

static char *cell_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cell_fmt(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = roost_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    else
        s[0] = '\0';
    va_end(ap2);
    return s;
}

static char *cell_time(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char tmp[32];
    if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return cell_fmt("%" PRId64, t);
    return cell_fmt("%s", tmp);
}

/* ------------------------------------------------------------------ */
/* instances                                                            */

static const char *const instance_heads[] = {
    "ID", "STATUS", "GAME_TYPE", "REGION", "OWNER", "CREATED_AT", "LAST_ACTIVE", "KEYS", "BYTES",
};
static const unsigned char instance_right[] = { 0, 0, 0, 0, 0, 0, 0, 1, 1 };

struct list_state {
    struct roost_store *st;
    int json;
    struct table table;
};

static enum roost_err list_one(void *arg, const struct roost_instance *inst)
{
    struct list_state *ls = arg;
    struct roost_instance_usage u = { 0, 0 };
    struct roost_slice id = roost_slice_cstr(inst->id);
    /* registry_list calls us with no lock held: the usage read is a scope
     * of its own. */
    enum roost_err err = roost_kv_usage(ls->st, id, &u);
    if (err)
        return err;
    if (ls->json) {
        struct json_object *o = roost_instance_to_object(inst, &u);
        print_compact(o);
        json_object_put(o);
        return ROOST_OK;
    }
    char *row[9] = {
        cell_text(id, "-"),
        cell_fmt("%s", roost_instance_status_name(inst->status)),
        cell_text(roost_buf_slice(&inst->game_type), "-"),
        cell_text(roost_buf_slice(&inst->region), "-"),
        cell_text(roost_buf_slice(&inst->owner), "-"),
        cell_time(inst->created_at),
        cell_time(inst->last_active),
        cell_fmt("%" PRId64, u.keys),
        cell_fmt("%" PRId64, u.bytes),
    };
    table_add(&ls->table, row);
    return ROOST_OK;
}

int ctl_cmd_instances(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    const char *status_s = NULL, *limit_s = NULL;
    int json = 0;
    const struct ctl_option opts[] = {
        { "status", &status_s, NULL },
        { "limit", &limit_s, NULL },
        { "json", NULL, &json },
        { NULL, NULL, NULL },
    };
    int rc = ctl_parse_args(cmd, argc, argv, opts, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    int status = -1;
    if (status_s) {
        status = roost_instance_status_parse(roost_slice_cstr(status_s));
        if (status < 0)
            return ctl_usage(cmd, "unknown state '%s' (one of active, inactive, paused, "
                                  "migrating, deleting)", status_s);
    }
    size_t limit = 0;
    if (limit_s) {
        char *end = NULL;
        unsigned long long v = strtoull(limit_s, &end, 10);
        if (!*limit_s || *end || limit_s[0] == '-' || v == 0 || v > SIZE_MAX / 2)
            return ctl_usage(cmd, "--limit needs a positive whole number, not '%s'", limit_s);
        limit = (size_t)v;
    }
    if (ctl_open_store(c))
        return CTL_FAIL;

    struct list_state ls;
    memset(&ls, 0, sizeof(ls));
    ls.st = c->st;
    ls.json = json;
    ls.table.ncols = 9;
    ls.table.heads = instance_heads;
    ls.table.right = instance_right;

    /* One call: the registry reads every record under one META lock
     * anyway, so pages would only repeat that work. */
    int more = 0;
    enum roost_err err = roost_registry_list(c->st, status, ROOST_SLICE_NULL,
                                             limit ? limit : SIZE_MAX, list_one, &ls, &more);
    if (err)
        rc = ctl_fail_err(c, cmd, err, "cannot list instances");
    else if (!json)
        table_print(&ls.table);
    table_release(&ls.table);
    return rc == CTL_CONTINUE ? CTL_OK : rc;
}

/* ------------------------------------------------------------------ */
/* show, set-status, delete                                             */

static int not_found(const struct ctl *c, const struct ctl_command *cmd, const char *id)
{
    return ctl_fail("%s: no instance '%s' in store '%s'", cmd->name, id, c->store_dir);
}

int ctl_cmd_show(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    char *pos[1];
    int rc = ctl_parse_args(cmd, argc, argv, NULL, pos, 1, 1, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_check_id(cmd, pos[0]))
        return CTL_USAGE;
    if (ctl_open_store(c))
        return CTL_FAIL;
    struct json_object *obj = NULL;
    enum roost_err err = roost_admin_show(c->st, roost_slice_cstr(pos[0]), &obj);
    if (err == ROOST_ERR_INSTANCE_NOT_FOUND)
        return not_found(c, cmd, pos[0]);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot read the instance");
    print_pretty(obj);
    json_object_put(obj);
    return CTL_OK;
}

int ctl_cmd_set_status(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    char *pos[2];
    int rc = ctl_parse_args(cmd, argc, argv, NULL, pos, 2, 2, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_check_id(cmd, pos[0]))
        return CTL_USAGE;
    /* DESIGN.md "API rules": an unknown state name is refused (exit 2). */
    int status = roost_instance_status_parse(roost_slice_cstr(pos[1]));
    if (status < 0)
        return ctl_usage(cmd, "unknown state '%s' (one of active, inactive, paused, migrating, "
                              "deleting)", pos[1]);
    if (ctl_open_store(c))
        return CTL_FAIL;
    enum roost_err err = roost_registry_set_status(c->st, roost_slice_cstr(pos[0]),
                                                   (enum roost_instance_status)status);
    if (err == ROOST_ERR_INSTANCE_NOT_FOUND)
        return not_found(c, cmd, pos[0]);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot set the status");
    printf("instance '%s' is now %s\n", pos[0],
           roost_instance_status_name((enum roost_instance_status)status));
    return CTL_OK;
}

int ctl_cmd_delete(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    char *pos[1];
    int rc = ctl_parse_args(cmd, argc, argv, NULL, pos, 1, 1, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_check_id(cmd, pos[0]))
        return CTL_USAGE;
    if (ctl_open_store(c))
        return CTL_FAIL;
    size_t removed = 0;
    enum roost_err err = roost_admin_delete_instance(c->st, roost_slice_cstr(pos[0]), &removed);
    if (err == ROOST_ERR_INSTANCE_NOT_FOUND)
        return not_found(c, cmd, pos[0]);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot delete the instance (run the same command "
                                         "again to finish)");
    printf("deleted instance '%s': %zu key%s removed\n", pos[0], removed, ctl_plural(removed));
    return CTL_OK;
}

/* ------------------------------------------------------------------ */
/* stats: whatever roost_admin_stats returns, for a person              */

static char *scalar_text(struct json_object *v)
{
    if (json_object_is_type(v, json_type_string))
        return cell_text(roost_slice_make(json_object_get_string(v),
                                          (size_t)json_object_get_string_len(v)), "\"\"");
    if (!v)
        return cell_fmt("-");
    return cell_fmt("%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int is_scalar(struct json_object *v)
{
    return !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array);
}

/* An array of objects whose members are all scalars: a table. */
static int is_table(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *row = json_object_array_get_idx(v, i);
        if (!json_object_is_type(row, json_type_object))
            return 0;
        json_object_object_foreach(row, k, x) {
            (void)k;
            if (!is_scalar(x))
                return 0;
        }
    }
    return 1;
}

static void render_table(struct json_object *arr, int indent)
{
    /* Columns: every member name, in order of first appearance. */
    const char **heads = NULL;
    size_t ncols = 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object_object_foreach(json_object_array_get_idx(arr, i), k, x) {
            (void)x;
            size_t c = 0;
            while (c < ncols && strcmp(heads[c], k) != 0)
                c++;
            if (c == ncols) {
                heads = roost_xrealloc(heads, (ncols + 1) * sizeof(*heads));
                heads[ncols++] = k;
            }
        }
    }
    unsigned char *right = roost_xcalloc(ncols, 1);
    struct table t = { ncols, heads, right, NULL, 0, 0 };
    char **row = roost_xcalloc(ncols, sizeof(*row));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        for (size_t c = 0; c < ncols; c++) {
            struct json_object *v = NULL;
            json_object_object_get_ex(o, heads[c], &v);
            row[c] = scalar_text(v);
            if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
                right[c] = 1;
        }
        table_add(&t, row);
    }
    /* Indent by printing the table into the first column's margin. */
    if (indent) {
        for (size_t r = 0; r < t.rows; r++) {
            char *old = t.cells[r * ncols];
            t.cells[r * ncols] = cell_fmt("%*s%s", indent, "", old);
            free(old);
        }
        char *h0 = cell_fmt("%*s%s", indent, "", heads[0]);
        heads[0] = h0;
        table_print(&t);
        free(h0);
    } else {
        table_print(&t);
    }
    table_release(&t);
    free(row);
    free(right);
    free(heads);
}

static void render(struct json_object *obj, int indent)
{
    size_t w = 0;
    json_object_object_foreach(obj, k0, v0) {
        if (is_scalar(v0) && strlen(k0) > w)
            w = strlen(k0);
    }
    json_object_object_foreach(obj, k, v) {
        if (is_scalar(v)) {
            char *s = scalar_text(v);
            printf("%*s%s:%*s %s\n", indent, "", k, (int)(w - strlen(k)), "", s);
            free(s);
        } else if (json_object_is_type(v, json_type_object)) {
            printf("%*s%s:\n", indent, "", k);
            render(v, indent + 2);
        } else if (is_table(v)) {
            printf("%*s%s:\n", indent, "", k);
            render_table(v, indent + 2);
        } else {
            size_t n = json_object_array_length(v);
            printf("%*s%s:", indent, "", k);
            for (size_t i = 0; i < n; i++) {
                struct json_object *x = json_object_array_get_idx(v, i);
                if (is_scalar(x)) {
                    char *s = scalar_text(x);
                    printf("%s %s", i ? "," : "", s);
                    free(s);
                } else {
                    printf("\n");
                    render(x, indent + 2);
                }
            }
            printf("\n");
        }
    }
}

int ctl_cmd_stats(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int json = 0;
    const struct ctl_option opts[] = {
        { "json", NULL, &json },
        { NULL, NULL, NULL },
    };
    int rc = ctl_parse_args(cmd, argc, argv, opts, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_open_store(c))
        return CTL_FAIL;
    struct json_object *obj = NULL;
    enum roost_err err = roost_admin_stats(c->st, &obj);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot read the figures");
    /* The config cache's counters, as the workers count them. */
    struct roost_counters *counters = NULL;
    if (roost_counters_open(c->store_dir, &counters) == ROOST_OK) {
        json_object_object_add(obj, "config_cache", roost_counters_to_json(counters));
        roost_counters_close(counters);
    }
    if (json)
        print_compact(obj);
    else if (json_object_is_type(obj, json_type_object)) {
        printf("store: %s\n", c->store_dir);
        render(obj, 0);
    } else
        print_pretty(obj);
    json_object_put(obj);
    return CTL_OK;
}
