/*
 * roostctl.h - what the roostctl command files share: the context, the
 * command table's row, argument parsing and the one-line error helpers.
 *
 * Exit codes (DESIGN.md, issue 5): 0 ok, 1 failure, 2 usage. Every error is
 * one line on stderr that starts with "roostctl: "; results go to stdout.
 *
 *   int cmd_show(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
 *   {
 *       char *pos[1];
 *       int rc = ctl_parse_args(cmd, argc, argv, NULL, pos, 1, 1);
 *       if (rc != CTL_CONTINUE) return rc;        // usage error or --help
 *       if (ctl_open_store(c)) return CTL_FAIL;    // message printed
 *       ...
 *   }
 */
#ifndef ROOST_CTL_H
#define ROOST_CTL_H

#include <stdio.h>

#include "buf.h"
#include "error.h"
#include "store.h"

enum {
    CTL_OK = 0,
    CTL_FAIL = 1,
    CTL_USAGE = 2,
    CTL_CONTINUE = -1,   /* ctl_parse_args: go on with the command */
};

struct ctl {
    const char *store_dir;       /* --store, ROOST_STORE_DIR or the default */
    const char *store_from;      /* which of the three, for messages */
    struct roost_store *st;      /* opened by ctl_open_store */
};

struct ctl_command;
typedef int (*ctl_run_fn)(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);

struct ctl_command {
    const char *name;
    ctl_run_fn run;
    const char *synopsis;        /* after "roostctl [--store DIR] " */
    const char *summary;         /* one line for roostctl --help */
    const char *help;            /* the rest of roostctl COMMAND --help */
};

/* An option of a command: "--name" (flag) or "--name VALUE"/"--name=VALUE". */
struct ctl_option {
    const char *name;            /* without the dashes */
    const char **value;          /* non-NULL: takes a value */
    int *flag;                   /* set to 1 when given (flags) */
};

/* Parses argv[1..argc) of a command (argv[0] is its name) against opts
 * (terminated by a zeroed row; NULL for none). Positional arguments go to
 * pos[0..max) and their number must lie in [min, max]. "--" ends options.
 * Returns CTL_CONTINUE, CTL_OK after printing --help, or CTL_USAGE after
 * printing the problem. *npos (may be NULL) gets the count. */
int ctl_parse_args(const struct ctl_command *cmd, int argc, char **argv,
                   const struct ctl_option *opts, char **pos, int min, int max, int *npos);

/* Opens c->store_dir (once). Refuses, with one line on stderr, a directory
 * that does not exist (roost_store_open would create it: roostctl never
 * makes a store by accident) or that this user cannot use. 0 or -1. */
int ctl_open_store(struct ctl *c);

/* "roostctl: " + message on stderr, one line. Returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "roostctl: COMMAND: " + message + " (see roostctl COMMAND --help)".
 * Returns CTL_USAGE. */
int ctl_usage(const struct ctl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line for a failed library call: "roostctl: COMMAND: what: message"
 * naming the store where it helps. Returns CTL_FAIL. */
int ctl_fail_err(const struct ctl *c, const struct ctl_command *cmd, enum roost_err err,
                 const char *what);

/* "s" unless n is 1, for counts in messages. */
const char *ctl_plural(unsigned long long n);

/* Writes b to f; -1 (with errno) on a write error. */
int ctl_write(FILE *f, const struct roost_buf *b);
/* Flushes stdout; a failure (disk full, closed pipe) is reported and
 * turns rc into CTL_FAIL. */
int ctl_finish_stdout(int rc);

/* A valid instance id, or a usage error printed (returns 0 / -1). */
int ctl_check_id(const struct ctl_command *cmd, const char *id);

/* The commands (cmd_instances.c, cmd_store.c, cmd_cache.c). */
int ctl_cmd_instances(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_show(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_set_status(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_delete(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_stats(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_dump(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_load(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_check(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_compact(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_flush(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
/* cmd_cache.c */
#define ROOST_CTL_WARM_MAX 1000   /* ids per warm, like the admin API's */
int ctl_cmd_cache_stats(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_warm(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_invalidate(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);
int ctl_cmd_invalidate_all(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv);

#endif
