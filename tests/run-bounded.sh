#!/bin/sh
# LOG_COMPILER for `make check`: runs one test program under a time bound.
# On overrun the program gets SIGABRT (so a core or backtrace shows where it
# hung), then SIGKILL 5 s later. Bound: ROOST_TEST_TIMEOUT seconds
# (default 300).
limit=${ROOST_TEST_TIMEOUT:-300}
exec timeout --signal=ABRT --kill-after=5 "$limit" "$@"
