/* clock.h - injectable wall clock, so TTL and activity logic is testable
 * without sleeping. Returns seconds since the Unix epoch. */
#ifndef ROOST_CLOCK_H
#define ROOST_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef int64_t (*roost_now_fn)(void);

static inline int64_t roost_clock_real(void)
{
    return (int64_t)time(NULL);
}

#endif
