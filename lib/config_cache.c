/* config_cache.c - being written; see config_cache.h. */
#include "config.h"

#include "config_cache.h"
