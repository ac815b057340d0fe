/*
 * roostctl.c - the admin CLI: global options, the command table, argument
 * parsing and the store opening every command shares.
 *
 *   roostctl [--store DIR] COMMAND [OPTIONS] [ARGS]
 *
 * It works on the store directly through the library and its locks (the
 * same as the workers'), so it is safe while lighttpd is serving. The
 * store is --store DIR, else ROOST_STORE_DIR, else /var/lib/roost.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance.h"
#include "log.h"
#include "roostctl.h"
#include "settings.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const struct ctl_command commands[] = {
    { "instances", ctl_cmd_instances, "instances [--status STATE] [--limit N] [--json]",
      "list instances with their usage",
      "Lists instances in id order as an aligned table: id, status, game type, region,\n"
      "owner, created and last active (UTC), keys and bytes stored.\n"
      "\n"
      "  --status STATE  only instances in STATE (active, inactive, paused,\n"
      "                  migrating, deleting)\n"
      "  --limit N       at most N instances\n"
      "  --json          one JSON object per line (the record with \"usage\")\n" },
    { "show", ctl_cmd_show, "show ID",
      "show one instance's record and usage as JSON",
      "Prints the instance's record with its usage figures as indented JSON.\n"
      "Exit status 1 if there is no such instance.\n" },
    { "set-status", ctl_cmd_set_status, "set-status ID STATE",
      "set an instance's status",
      "Sets the status of instance ID to STATE, one of active, inactive, paused,\n"
      "migrating, deleting; any state may follow any other. The very next request\n"
      "to any worker sees it: inactive and paused answer 503, deleting 410 (without\n"
      "removing data; 'roostctl delete' removes it), active and migrating are served.\n" },
    { "delete", ctl_cmd_delete, "delete ID",
      "delete an instance and every key it holds",
      "Marks the instance deleting (requests get 410 at once), removes every key of\n"
      "its namespace, then removes its record. Safe to run again if interrupted.\n"
      "With ROOST_AUTO_CREATE=1 (the default) the next request creates it afresh.\n" },
    { "stats", ctl_cmd_stats, "stats [--json]",
      "store-wide figures",
      "Prints instances per status, the config cache's counters (hits, misses,\n"
      "stale hits, evictions) and, per store file, its size, log size,\n"
      "generation, crash repairs and rebuilds.\n"
      "\n"
      "  --json  the same as one JSON object\n" },
    { "dump", ctl_cmd_dump, "dump > FILE",
      "write the whole store as JSON lines on stdout",
      "Writes a header line {\"type\":\"roost-dump\",\"version\":1}, then one line per\n"
      "instance record ({\"type\":\"instance\",\"record\":{...}}), then one line per value\n"
      "({\"type\":\"value\",\"instance_id\",\"key\",\"content_type\",\"value_base64\"}).\n"
      "Values are base64, so any bytes survive. Usage figures and the config cache\n"
      "are not dumped (load recomputes the first; the second refills).\n"
      "While lighttpd serves, each value is read under its own lock: pause the\n"
      "instances or stop lighttpd first for a point-in-time copy.\n"
      "Exit status 1 if unreadable entries had to be left out (they are named).\n" },
    { "load", ctl_cmd_load, "load [--replace] [FILE] < FILE",
      "restore a dump (from stdin, or FILE)",
      "Reads a dump and restores its records and values exactly; usage figures are\n"
      "recomputed. Every line is checked before anything is written: a malformed\n"
      "dump is refused with its line number and the store is left untouched.\n"
      "\n"
      "  --replace  instances of the dump that exist in the store are deleted with\n"
      "             their data first, so each ends up exactly as dumped; instances\n"
      "             not in the dump are left alone. Without it, load refuses to run\n"
      "             if any instance of the dump exists in the store.\n" },
    { "check", ctl_cmd_check, "check [--repair]",
      "verify the store",
      "Checks that every instance record parses, every key belongs to an instance\n"
      "that has a record, every value is readable and each instance's usage figures\n"
      "match its keys. Prints each problem on one line; exit status 1 if any remains.\n"
      "\n"
      "  --repair  rewrite wrong usage figures, and remove keys of instances that have\n"
      "            no record. Unreadable records and values are only reported.\n" },
    { "compact", ctl_cmd_compact, "compact",
      "reorganize every store file to reclaim free space",
      "Rewrites each store file without its free space, one at a time under its own\n"
      "lock (requests on the other files go on). Prints each file's size before and\n"
      "after.\n" },
    { "cache-stats", ctl_cmd_cache_stats, "cache-stats [--reset]",
      "config-cache hits, misses, stale hits and evictions",
      "Prints the instance-config cache's counters, shared by every worker of the\n"
      "store, and the hit ratio.\n"
      "\n"
      "  --reset  set the counters to zero after printing them\n" },
    { "warm", ctl_cmd_warm, "warm ID...",
      "fetch instance configs into the cache",
      "Fetches each instance's config from ROOST_CONFIG_SOURCE (read from the\n"
      "environment, as the workers read it from bin-environment) into the cache.\n"
      "Exit status 1 if any could not be fetched.\n" },
    { "invalidate", ctl_cmd_invalidate, "invalidate ID",
      "drop one instance's cached config",
      "Removes the cached config of instance ID; the next request fetches it from\n"
      "the config source. Exit status 1 if none was cached.\n" },
    { "invalidate-all", ctl_cmd_invalidate_all, "invalidate-all",
      "drop every cached config",
      "Removes every cached instance, project and user config.\n" },
    { "flush", ctl_cmd_flush, "flush",
      "force everything written so far to disk (fsync)",
      "Requests are acknowledged once they survive a process crash; flush makes them\n"
      "survive a power loss too.\n" },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* ------------------------------------------------------------------ */
/* Messages                                                             */

int ctl_fail(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("roostctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_FAIL;
}

int ctl_usage(const struct ctl_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("roostctl: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, " (see roostctl %s --help)\n", cmd->name);
    else
        fputs(" (see roostctl --help)\n", stderr);
    return CTL_USAGE;
}

int ctl_fail_err(const struct ctl *c, const struct ctl_command *cmd, enum roost_err err,
                 const char *what)
{
    const char *hint = "";
    switch (err) {
    case ROOST_ERR_STORE_CORRUPT:
        hint = "; run roostctl check";
        break;
    case ROOST_ERR_STORE_IO:
    case ROOST_ERR_STORE_UNAVAILABLE:
        hint = "; the line above says why";
        break;
    default:
        break;
    }
    return ctl_fail("%s: %s: %s (store '%s')%s", cmd->name, what, roost_err_message(err),
                    c->store_dir, hint);
}

const char *ctl_plural(unsigned long long n)
{
    return n == 1 ? "" : "s";
}

int ctl_write(FILE *f, const struct roost_buf *b)
{
    return fwrite(b->ptr, 1, b->len, f) == b->len ? 0 : -1;
}

int ctl_finish_stdout(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_fail("cannot write the output: %s", strerror(errno));
        return CTL_FAIL;
    }
    return rc;
}

int ctl_check_id(const struct ctl_command *cmd, const char *id)
{
    if (roost_instance_id_valid(roost_slice_cstr(id)))
        return 0;
    ctl_usage(cmd, "'%s' is not an instance id (1-64 characters of A-Z a-z 0-9 . _ -)", id);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Help                                                                 */

static void print_overview(FILE *f)
{
    fputs("usage: roostctl [--store DIR] COMMAND [OPTIONS] [ARGS]\n"
          "\n"
          "Administers a roost store directly, through the same library and locks as\n"
          "the workers; safe while lighttpd is serving.\n"
          "\n"
          "commands:\n", f);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "global options (before the command):\n"
          "  --store DIR   the store directory; default: $ROOST_STORE_DIR, else\n"
          "                " ROOST_STORE_DIR_DEFAULT "\n"
          "  --help        this text; roostctl COMMAND --help for one command\n"
          "  --version     the version\n"
          "\n"
          "Run it as the workers' user (www-data on Debian) or root. ROOST_LOG_LEVEL\n"
          "(error, warn, info, debug) sets how much the library logs on stderr.\n"
          "exit status: 0 ok, 1 failure, 2 usage error\n", f);
}

static void print_command_help(const struct ctl_command *cmd)
{
    printf("usage: roostctl [--store DIR] %s\n\n%s", cmd->synopsis, cmd->help);
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */

static const struct ctl_option *find_option(const struct ctl_option *opts, const char *name,
                                            size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

int ctl_parse_args(const struct ctl_command *cmd, int argc, char **argv,
                   const struct ctl_option *opts, char **pos, int min, int max, int *npos)
{
    int n = 0, options = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = 0;
            continue;
        }
        if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            print_command_help(cmd);
            return CTL_OK;
        }
        if (options && a[0] == '-' && a[1] != '\0') {
            const char *name = a + (a[1] == '-' ? 2 : 1);
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct ctl_option *o = a[1] == '-' ? find_option(opts, name, len) : NULL;
            if (!o) {
                if (strncmp(a, "--store", 7) == 0)
                    return ctl_usage(cmd, "--store goes before the command: "
                                          "roostctl --store DIR %s ...", cmd->name);
                return ctl_usage(cmd, "unknown option '%s'", a);
            }
            if (o->value) {
                if (eq) {
                    *o->value = eq + 1;
                } else if (i + 1 < argc) {
                    *o->value = argv[++i];
                } else {
                    return ctl_usage(cmd, "option '--%s' needs a value", o->name);
                }
            } else {
                if (eq)
                    return ctl_usage(cmd, "option '--%s' takes no value", o->name);
                *o->flag = 1;
            }
            continue;
        }
        if (n >= max)
            return ctl_usage(cmd, "unexpected argument '%s'", a);
        pos[n++] = argv[i];
    }
    if (n < min)
        return ctl_usage(cmd, "missing argument: roostctl %s", cmd->synopsis);
    if (npos)
        *npos = n;
    return CTL_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* The store                                                            */

int ctl_open_store(struct ctl *c)
{
    struct stat sb;
    if (c->st)
        return 0;
    /* roost_store_open creates a missing directory: right for a worker's
     * first start, wrong for a typo in --store. */
    if (stat(c->store_dir, &sb) < 0) {
        if (errno == ENOENT)
            ctl_fail("cannot open store '%s': no such directory (%s; give the right one "
                     "with --store DIR or ROOST_STORE_DIR)", c->store_dir, c->store_from);
        else
            ctl_fail("cannot open store '%s': %s", c->store_dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        ctl_fail("cannot open store '%s': not a directory", c->store_dir);
        return -1;
    }
    /* Every operation, reads included, takes a write lock on the store's
     * lock files, so reading needs write access too. */
    if (access(c->store_dir, R_OK | W_OK | X_OK) < 0) {
        ctl_fail("cannot open store '%s': %s (run roostctl as the workers' user or root)",
                 c->store_dir, strerror(errno));
        return -1;
    }
    enum roost_err err = roost_store_open(c->store_dir, &c->st);
    if (err) {
        ctl_fail("cannot open store '%s': %s", c->store_dir, roost_err_message(err));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* main                                                                 */

static const struct ctl_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    struct ctl c = { NULL, NULL, NULL };
    int i = 1;

    const char *level = getenv("ROOST_LOG_LEVEL");
    if (level && *level) {
        int l = roost_log_level_parse(level);
        if (l < 0)
            return ctl_usage(NULL, "ROOST_LOG_LEVEL='%s' is not one of error, warn, info, debug",
                             level);
        roost_log_set_level((enum roost_log_level)l);
    }

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_overview(stdout);
            return ctl_finish_stdout(CTL_OK);
        }
        if (strcmp(a, "--version") == 0) {
            printf("roostctl (roost) %s\n", PACKAGE_VERSION);
            return ctl_finish_stdout(CTL_OK);
        }
        if (strcmp(a, "--store") == 0) {
            if (i + 1 >= argc)
                return ctl_usage(NULL, "option '--store' needs a directory");
            c.store_dir = argv[++i];
        } else if (strncmp(a, "--store=", 8) == 0) {
            c.store_dir = a + 8;
        } else {
            return ctl_usage(NULL, "unknown option '%s'", a);
        }
        if (!*c.store_dir)
            return ctl_usage(NULL, "option '--store' needs a directory");
        c.store_from = "from --store";
    }
    if (i >= argc)
        return ctl_usage(NULL, "no command given");
    if (strcmp(argv[i], "help") == 0) {
        const struct ctl_command *cmd = i + 1 < argc ? find_command(argv[i + 1]) : NULL;
        if (i + 1 < argc && !cmd)
            return ctl_usage(NULL, "unknown command '%s'", argv[i + 1]);
        if (cmd)
            print_command_help(cmd);
        else
            print_overview(stdout);
        return ctl_finish_stdout(CTL_OK);
    }
    const struct ctl_command *cmd = find_command(argv[i]);
    if (!cmd)
        return ctl_usage(NULL, "unknown command '%s'", argv[i]);

    if (!c.store_dir) {
        /* An empty variable counts as unset, as in the workers' settings. */
        const char *env = getenv("ROOST_STORE_DIR");
        if (env && *env) {
            c.store_dir = env;
            c.store_from = "from ROOST_STORE_DIR";
        } else {
            c.store_dir = ROOST_STORE_DIR_DEFAULT;
            c.store_from = "the default; neither --store nor ROOST_STORE_DIR is set";
        }
    }

    int rc = cmd->run(&c, cmd, argc - i, argv + i);
    roost_store_close(c.st);
    return ctl_finish_stdout(rc);
}
