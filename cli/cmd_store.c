/*
 * cmd_store.c - roostctl dump, load, check, compact, flush: thin shells
 * around lib/maint.h (where the work and its locking rules live) and
 * roost_store_flush.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "maint.h"
#include "roostctl.h"

/* ------------------------------------------------------------------ */
/* dump                                                                 */

struct dump_report {
    const struct ctl_command *cmd;
};

static void dump_problem(void *arg, const struct roost_maint_problem *p)
{
    struct dump_report *dr = arg;
    /* stdout is the dump itself: warnings go to stderr. */
    fprintf(stderr, "roostctl: %s: %s\n", dr->cmd->name, p->text);
}

int ctl_cmd_dump(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int rc = ctl_parse_args(cmd, argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_open_store(c))
        return CTL_FAIL;
    struct dump_report dr = { cmd };
    struct roost_maint_dump_stats ds;
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_maint_dump(c->st, stdout, dump_problem, &dr, &ds, &detail);
    if (err == ROOST_ERR_INTERNAL && detail.len)
        rc = ctl_fail("%s: %s", cmd->name, detail.ptr);
    else if (err)
        rc = ctl_fail_err(c, cmd, err, "cannot read the store");
    else if (ds.skipped)
        rc = ctl_fail("%s: %zu unreadable entr%s left out of the dump (named above; "
                      "see roostctl check)", cmd->name, ds.skipped, ds.skipped == 1 ? "y was" : "ies were");
    else
        rc = CTL_OK;
    roost_buf_release(&detail);
    return rc;
}

/* ------------------------------------------------------------------ */
/* load                                                                 */

int ctl_cmd_load(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int replace = 0;
    const struct ctl_option opts[] = {
        { "replace", NULL, &replace },
        { NULL, NULL, NULL },
    };
    char *pos[1] = { NULL };
    int rc = ctl_parse_args(cmd, argc, argv, opts, pos, 0, 1, NULL);
    if (rc != CTL_CONTINUE)
        return rc;

    FILE *in = stdin;
    const char *name = "standard input";
    if (pos[0] && strcmp(pos[0], "-") != 0) {
        in = fopen(pos[0], "r");
        if (!in)
            return ctl_fail("%s: cannot open '%s': %s", cmd->name, pos[0], strerror(errno));
        name = pos[0];
    } else if (isatty(STDIN_FILENO)) {
        /* Waiting for a dump typed at the terminal helps nobody. */
        return ctl_usage(cmd, "reads a dump on standard input: roostctl load < FILE");
    }
    if (ctl_open_store(c)) {
        if (in != stdin)
            fclose(in);
        return CTL_FAIL;
    }

    struct roost_maint_load_stats ls;
    struct roost_buf detail = ROOST_BUF_INIT;
    enum roost_err err = roost_maint_load(c->st, in, replace ? ROOST_MAINT_REPLACE : 0, &ls,
                                          &detail);
    switch (err) {
    case ROOST_OK:
        printf("loaded %zu instance%s and %zu value%s (%" PRIu64 " byte%s)", ls.instances,
               ctl_plural(ls.instances), ls.values, ctl_plural(ls.values), ls.bytes,
               ctl_plural(ls.bytes));
        if (ls.replaced)
            printf("; %zu existing instance%s replaced", ls.replaced, ctl_plural(ls.replaced));
        printf("\n");
        rc = CTL_OK;
        break;
    case ROOST_ERR_INVALID_REQUEST:
        rc = ctl_fail("%s: %s: %s; nothing was written", cmd->name, name, detail.ptr);
        break;
    case ROOST_ERR_INSTANCE_EXISTS:
        rc = ctl_fail("%s: %s; nothing was written", cmd->name, detail.ptr);
        break;
    case ROOST_ERR_INTERNAL:
        rc = ctl_fail("%s: %s", cmd->name, detail.len ? detail.ptr : roost_err_message(err));
        break;
    default:
        /* Pass 2 failed part way: say how far it got and how to finish. */
        rc = ctl_fail("%s: %s: %s (store '%s'); %zu instances and %zu values were written "
                      "before it; run the same load with --replace to finish", cmd->name,
                      detail.len ? detail.ptr : "cannot write", roost_err_message(err),
                      c->store_dir, ls.instances, ls.values);
        break;
    }
    roost_buf_release(&detail);
    if (in != stdin)
        fclose(in);
    return rc;
}

/* ------------------------------------------------------------------ */
/* check                                                                */

static void check_problem(void *arg, const struct roost_maint_problem *p)
{
    (void)arg;
    printf("%s\n", p->text);
}

int ctl_cmd_check(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int repair = 0;
    const struct ctl_option opts[] = {
        { "repair", NULL, &repair },
        { NULL, NULL, NULL },
    };
    int rc = ctl_parse_args(cmd, argc, argv, opts, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_open_store(c))
        return CTL_FAIL;
    struct roost_maint_check_stats cs;
    enum roost_err err = roost_maint_check(c->st, repair ? ROOST_MAINT_REPAIR : 0,
                                           check_problem, NULL, &cs);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot read the store");
    printf("checked %zu instance%s and %zu key%s (%" PRIu64 " byte%s): ", cs.instances,
           ctl_plural(cs.instances), cs.keys, ctl_plural(cs.keys), cs.bytes, ctl_plural(cs.bytes));
    if (!cs.problems) {
        printf("no problems\n");
        return CTL_OK;
    }
    size_t left = cs.problems - cs.repaired;
    if (repair)
        printf("%zu problem%s, %zu repaired, %zu left\n", cs.problems, ctl_plural(cs.problems),
               cs.repaired, left);
    else
        printf("%zu problem%s (roostctl check --repair fixes usage figures and orphaned keys)\n",
               cs.problems, ctl_plural(cs.problems));
    return left ? CTL_FAIL : CTL_OK;
}

/* ------------------------------------------------------------------ */
/* compact, flush                                                       */

static void print_size(uint64_t n)
{
    if (n >= 10u * 1024 * 1024)
        printf("%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 10u * 1024)
        printf("%.1f KiB", (double)n / 1024.0);
    else
        printf("%" PRIu64 " bytes", n);
}

static void compact_done(void *arg, const struct roost_store_part_stats *before,
                         const struct roost_store_part_stats *after, double ms)
{
    uint64_t *saved = arg;
    printf("%s: ", after->name[0] ? after->name : before->name);
    print_size(before->file_bytes);
    printf(" -> ");
    print_size(after->file_bytes);
    printf(" (%.1f ms)\n", ms);
    if (before->file_bytes > after->file_bytes)
        *saved += before->file_bytes - after->file_bytes;
    fflush(stdout);
}

int ctl_cmd_compact(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int rc = ctl_parse_args(cmd, argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_open_store(c))
        return CTL_FAIL;
    uint64_t saved = 0;
    enum roost_err err = roost_maint_compact(c->st, compact_done, &saved);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot compact the store");
    printf("compacted; ");
    print_size(saved);
    printf(" reclaimed\n");
    return CTL_OK;
}

int ctl_cmd_flush(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int rc = ctl_parse_args(cmd, argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_open_store(c))
        return CTL_FAIL;
    enum roost_err err = roost_store_flush(c->st);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot flush the store");
    return CTL_OK;
}
