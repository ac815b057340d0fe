/*
 * preload.c - fills a roost store for the benchmark, straight through the
 * library (no lighttpd, no HTTP), before the workers start.
 *
 *   preload STORE_DIR KEYS [VALUE_BYTES [INSTANCES]]
 *   preload --dump KEYS [VALUE_BYTES [INSTANCES]] > FILE   (roostctl load < FILE)
 *
 * Key i (0 <= i < KEYS) is "k<i>" in instance "bench-<i % INSTANCES>"
 * (two digits), with VALUE_BYTES (default 100) bytes of value, Content-Type
 * application/octet-stream. The wrk scripts in bench/ name keys the same
 * way. The instances are created first with the spec's defaults (what a
 * worker's auto-create would write), so no request of the benchmark pays
 * for a creation.
 *
 * Every value goes through roost_kv_put, one lock scope per key, exactly
 * as a worker's PUT does (log record, GDBM store, generation, usage
 * figures), so the store it leaves is indistinguishable from one filled
 * over HTTP. --dump writes the same data as a roostctl dump instead, which
 * is how the two ways of preloading were compared (bench/README.md).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "encoding.h"
#include "instance.h"
#include "kv.h"
#include "registry.h"
#include "store.h"

#define CONTENT_TYPE "application/octet-stream"

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: preload STORE_DIR KEYS [VALUE_BYTES [INSTANCES]]\n"
                    "       preload --dump KEYS [VALUE_BYTES [INSTANCES]] > FILE\n");
    return 2;
}

static int parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static void instance_id(char *out, size_t n, unsigned long i)
{
    snprintf(out, n, "bench-%02lu", i);
}

/* A value that differs per key, so that no layer can get away with
 * sharing pages between identical values. */
static void fill_value(char *v, size_t n, unsigned long key)
{
    for (size_t j = 0; j < n; j++)
        v[j] = (char)('a' + (key + j) % 26);
}

static int write_dump(unsigned long keys, size_t value_bytes, unsigned long instances)
{
    int64_t now = roost_clock_real();
    char id[32], key[32];
    char *value = malloc(value_bytes + 1);
    struct roost_buf rec = ROOST_BUF_INIT, b64 = ROOST_BUF_INIT;
    if (!value)
        return 1;
    printf("{\"type\":\"roost-dump\",\"version\":1}\n");
    for (unsigned long i = 0; i < instances; i++) {
        instance_id(id, sizeof(id), i);
        struct roost_instance inst;
        roost_instance_init_defaults(&inst, roost_slice_cstr(id), now);
        roost_buf_reset(&rec);
        roost_instance_to_json(&inst, &rec);
        roost_instance_release(&inst);
        printf("{\"type\":\"instance\",\"record\":%.*s}\n", (int)rec.len, rec.ptr);
    }
    /* ids and keys are plain ASCII: no JSON escaping needed. */
    for (unsigned long k = 0; k < keys; k++) {
        instance_id(id, sizeof(id), k % instances);
        snprintf(key, sizeof(key), "k%lu", k);
        fill_value(value, value_bytes, k);
        roost_buf_reset(&b64);
        roost_base64_encode(&b64, value, value_bytes);
        printf("{\"type\":\"value\",\"instance_id\":\"%s\",\"key\":\"%s\","
               "\"content_type\":\"" CONTENT_TYPE "\",\"value_base64\":\"%.*s\"}\n",
               id, key, (int)b64.len, b64.ptr);
    }
    roost_buf_release(&rec);
    roost_buf_release(&b64);
    free(value);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int dump = argc > 1 && strcmp(argv[1], "--dump") == 0;
    int first = 3; /* argv[1] is STORE_DIR or --dump, argv[2] KEYS */
    if (argc < first || argc > first + 2)
        return usage();
    unsigned long keys, value_bytes = 100, instances = 10;
    if (parse_count(argv[first - 1], 0, 100000000UL, &keys) < 0
        || (argc > first && parse_count(argv[first], 0, 1UL << 20, &value_bytes) < 0)
        || (argc > first + 1 && parse_count(argv[first + 1], 1, 100, &instances) < 0))
        return usage();
    if (dump)
        return write_dump(keys, value_bytes, instances);

    const char *dir = argv[1];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct roost_store *st = NULL;
    enum roost_err err = roost_store_open(dir, &st);
    if (err) {
        fprintf(stderr, "preload: cannot open the store in %s: %s\n", dir, roost_err_message(err));
        return 1;
    }
    char id[32], key[32];
    for (unsigned long i = 0; i < instances; i++) {
        instance_id(id, sizeof(id), i);
        struct roost_instance inst;
        roost_instance_init(&inst);
        err = roost_registry_resolve(st, roost_slice_cstr(id), 1, roost_clock_real(), &inst, NULL);
        roost_instance_release(&inst);
        if (err) {
            fprintf(stderr, "preload: instance %s: %s\n", id, roost_err_message(err));
            roost_store_close(st);
            return 1;
        }
    }
    char *value = malloc(value_bytes + 1);
    if (!value)
        abort();
    const struct roost_slice ct = roost_slice_cstr(CONTENT_TYPE);
    for (unsigned long k = 0; k < keys; k++) {
        instance_id(id, sizeof(id), k % instances);
        int klen = snprintf(key, sizeof(key), "k%lu", k);
        fill_value(value, value_bytes, k);
        err = roost_kv_put(st, roost_slice_cstr(id), roost_slice_make(key, (size_t)klen), ct,
                           roost_slice_make(value, value_bytes), value_bytes, NULL);
        if (err) {
            fprintf(stderr, "preload: put %s/%s: %s\n", id, key, roost_err_message(err));
            free(value);
            roost_store_close(st);
            return 1;
        }
    }
    free(value);
    roost_store_close(st);
    fprintf(stderr, "preload: %lu keys of %lu bytes in %lu instances in %.2f s\n", keys,
            value_bytes, instances, seconds_since(&t0));
    return 0;
}
