/* hash.h - FNV-1a 64, the one non-cryptographic hash roost uses: store
 * shard selection and in-memory de-duplication. Not for anything an
 * attacker could aim collisions at where that would matter. */
#ifndef ROOST_HASH_H
#define ROOST_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t roost_fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
