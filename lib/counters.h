/*
 * counters.h - statistics shared by every process of one store: the
 * config cache's hits, misses, stale_hits and evictions (instance-lookup.md
 * "Cache Hit Ratio"), counted across all workers, not per process.
 *
 * A one-page file (<store dir>/counters) mapped MAP_SHARED by every
 * process; counters are 64-bit and updated with atomic adds, so counting
 * costs a few nanoseconds and no lock. Counts survive restarts; they are
 * statistics, not data: a crash may lose nothing but an increment in flight.
 */
#ifndef ROOST_COUNTERS_H
#define ROOST_COUNTERS_H

#include <stdint.h>

#include "error.h"

enum roost_counter {
    ROOST_COUNTER_HITS,
    ROOST_COUNTER_MISSES,
    ROOST_COUNTER_STALE_HITS,
    ROOST_COUNTER_EVICTIONS,
    ROOST_COUNTER__COUNT
};

struct roost_counters;

/* Opens (creating) the counters file in dir. Errors: STORE_UNAVAILABLE. */
enum roost_err roost_counters_open(const char *dir, struct roost_counters **out);
void roost_counters_close(struct roost_counters *c);

/* NULL c is a no-op, so callers need not care whether counting is on. */
void roost_counters_add(struct roost_counters *c, enum roost_counter which, uint64_t n);
uint64_t roost_counters_get(const struct roost_counters *c, enum roost_counter which);
/* Sets every counter to 0 (roostctl stats --reset). */
void roost_counters_reset(struct roost_counters *c);
/* "hits", "misses", "stale_hits", "evictions". */
const char *roost_counter_name(enum roost_counter which);

/* Every counter as a JSON object {"hits": N, ...} (new reference); a NULL
 * c gives zeros. */
struct json_object;
struct json_object *roost_counters_to_json(const struct roost_counters *c);

#endif
