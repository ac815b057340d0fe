/* counters.c - being written; see counters.h. */
#include "config.h"

#include "counters.h"
