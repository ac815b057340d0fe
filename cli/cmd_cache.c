/* cmd_cache.c - roostctl's config-cache commands: cache-stats, warm,
 * invalidate, invalidate-all (instance-lookup.md "Manual Cache
 * Invalidation", "Cache Warming", "Cache Hit Ratio"). */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "config_cache.h"
#include "config_source.h"
#include "counters.h"
#include "resolver.h"
#include "roostctl.h"
#include "settings.h"

/* The cache as the workers see it: the same settings (ROOST_* from the
 * environment, like the workers' bin-environment) and the same counters. */
struct cache_ctx {
    struct roost_settings settings;
    struct roost_counters *counters;
    struct roost_config_source *source;
    struct roost_resolver resolver;
};

static int cache_open(struct ctl *c, const struct ctl_command *cmd, struct cache_ctx *cc, int need_source)
{
    memset(cc, 0, sizeof(*cc));
    struct roost_buf problems = ROOST_BUF_INIT;
    int rc = CTL_OK;
    if (roost_settings_load(&cc->settings, roost_settings_getenv, NULL, &problems)) {
        char *nl = strchr(problems.ptr, '\n');
        if (nl)
            *nl = '\0';
        rc = ctl_fail("%s: %s", cmd->name, problems.ptr);
        goto out;
    }
    if (ctl_open_store(c)) {
        rc = CTL_FAIL;
        goto out;
    }
    enum roost_err err = roost_counters_open(c->store_dir, &cc->counters);
    if (err) {
        rc = ctl_fail_err(c, cmd, err, "cannot open the cache counters");
        goto out;
    }
    if (need_source) {
        if (!cc->settings.config_source) {
            rc = ctl_fail("%s: no config source: set ROOST_CONFIG_SOURCE as in lighttpd.conf", cmd->name);
            goto out;
        }
        roost_buf_reset(&problems);
        if (roost_config_source_open(cc->settings.config_source, cc->settings.config_timeout_ms,
                                     &cc->source, &problems)) {
            rc = ctl_fail("%s: ROOST_CONFIG_SOURCE='%s': %s", cmd->name, cc->settings.config_source,
                          problems.ptr);
            goto out;
        }
    }
    roost_resolver_init(&cc->resolver, c->st, cc->source, cc->counters, &cc->settings, roost_clock_real);
out:
    roost_buf_release(&problems);
    return rc;
}

static void cache_close(struct cache_ctx *cc)
{
    roost_resolver_release(&cc->resolver);
    roost_config_source_close(cc->source);
    roost_counters_close(cc->counters);
    roost_settings_release(&cc->settings);
}

int ctl_cmd_cache_stats(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int reset = 0;
    const struct ctl_option opts[] = {
        { "reset", NULL, &reset },
        { NULL, NULL, NULL },
    };
    int rc = ctl_parse_args(cmd, argc, argv, opts, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    struct cache_ctx cc;
    if ((rc = cache_open(c, cmd, &cc, 0)) == CTL_OK) {
        uint64_t hits = roost_counters_get(cc.counters, ROOST_COUNTER_HITS);
        uint64_t misses = roost_counters_get(cc.counters, ROOST_COUNTER_MISSES);
        uint64_t stale = roost_counters_get(cc.counters, ROOST_COUNTER_STALE_HITS);
        for (int i = 0; i < ROOST_COUNTER__COUNT; i++)
            printf("%-10s %llu\n", roost_counter_name((enum roost_counter)i),
                   (unsigned long long)roost_counters_get(cc.counters, (enum roost_counter)i));
        uint64_t lookups = hits + misses + stale;
        if (lookups)
            printf("%-10s %.1f%%\n", "hit ratio", 100.0 * (double)(hits + stale) / (double)lookups);
        if (reset)
            roost_counters_reset(cc.counters);
        cache_close(&cc);
    }
    return ctl_finish_stdout(rc);
}

int ctl_cmd_warm(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    char *ids[ROOST_CTL_WARM_MAX];
    int n = 0;
    int rc = ctl_parse_args(cmd, argc, argv, NULL, ids, 1, ROOST_CTL_WARM_MAX, &n);
    if (rc != CTL_CONTINUE)
        return rc;
    for (int i = 0; i < n; i++)
        if (ctl_check_id(cmd, ids[i]))
            return CTL_USAGE;
    struct cache_ctx cc;
    if ((rc = cache_open(c, cmd, &cc, 1)) != CTL_OK)
        return rc;
    struct roost_slice slices[ROOST_CTL_WARM_MAX];
    for (int i = 0; i < n; i++)
        slices[i] = roost_slice_cstr(ids[i]);
    size_t ok = 0, failed = 0;
    struct roost_buf reqid = ROOST_BUF_INIT;
    roost_buf_appendf(&reqid, "roostctl-warm-%ld", (long)getpid());
    enum roost_err err = roost_resolver_warm(&cc.resolver, slices, (size_t)n, roost_buf_slice(&reqid), &ok, &failed);
    roost_buf_release(&reqid);
    cache_close(&cc);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot warm the cache");
    printf("warmed %zu, failed %zu\n", ok, failed);
    return ctl_finish_stdout(failed ? CTL_FAIL : CTL_OK);
}

int ctl_cmd_invalidate(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    char *pos[1];
    int rc = ctl_parse_args(cmd, argc, argv, NULL, pos, 1, 1, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    if (ctl_check_id(cmd, pos[0]))
        return CTL_USAGE;
    struct cache_ctx cc;
    if ((rc = cache_open(c, cmd, &cc, 0)) != CTL_OK)
        return rc;
    enum roost_err err = roost_config_cache_invalidate(&cc.resolver.cache, "instances", roost_slice_cstr(pos[0]));
    cache_close(&cc);
    if (err == ROOST_ERR_KEY_NOT_FOUND)
        return ctl_fail("%s: no cached config for '%s'", cmd->name, pos[0]);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot invalidate");
    printf("invalidated %s\n", pos[0]);
    return ctl_finish_stdout(CTL_OK);
}

int ctl_cmd_invalidate_all(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv)
{
    int rc = ctl_parse_args(cmd, argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc != CTL_CONTINUE)
        return rc;
    struct cache_ctx cc;
    if ((rc = cache_open(c, cmd, &cc, 0)) != CTL_OK)
        return rc;
    size_t removed = 0;
    enum roost_err err = roost_config_cache_invalidate_all(&cc.resolver.cache, &removed);
    cache_close(&cc);
    if (err)
        return ctl_fail_err(c, cmd, err, "cannot invalidate");
    printf("invalidated %zu cached config%s\n", removed, ctl_plural(removed));
    return ctl_finish_stdout(CTL_OK);
}
