#!/bin/sh
# dev.sh - install what is missing, build, and run roost or its tests.
#
#   ./dev.sh serve    lighttpd + workers on 127.0.0.1:$ROOST_PORT (default 8080)
#   ./dev.sh test     every test (unit, integration, sanitizer pass); exit 0 only if all pass
#   ./dev.sh build    just build
#   ./dev.sh bench    benchmark against a do-nothing responder and webdis
#                     (bench/README.md; --quick for a smoke run, --help)
#
# Idempotent: packages are installed only when missing, configure runs only
# when its inputs changed, make rebuilds only what changed.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

packages="gcc libc6-dev make autoconf automake pkg-config libfcgi-dev libgdbm-dev \
libjson-c-dev libcmocka-dev libcurl4-openssl-dev lighttpd curl"

say() { printf 'dev.sh: %s\n' "$*" >&2; }

ensure_packages() {
    missing=""
    for p in $packages; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing packages:$missing; run as root or: sudo apt-get install$missing"
        exit 1
    fi
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends keeps lighttpd from pulling in extras; the
    # package's own service is not used (we run our own lighttpd).
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# build DIR [configure args...]: out-of-tree build in DIR.
build() {
    dir=$1; shift
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        say "autoreconf"
        ./autogen.sh >/dev/null 2>&1 || ./autogen.sh
    fi
    mkdir -p "$dir"
    stamp="$dir/.configure-args"
    want="$*"
    if [ ! -f "$dir/Makefile" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] \
        || [ configure -nt "$dir/Makefile" ]; then
        say "configure $dir $want"
        (cd "$dir" && "$top/configure" --quiet "$@")
        printf '%s' "$want" > "$stamp"
    fi
    make -C "$dir" -j"$(nproc)" --no-print-directory >/dev/null
}

cmd_serve() {
    ensure_packages
    build build
    : "${ROOST_PORT:=8080}" "${ROOST_WORKERS:=4}" "${ROOST_STORE_DIR:=$top/var/store}"
    ROOST_RUNDIR=${ROOST_RUNDIR:-$top/var/run}
    ROOST_FCGI_BIN=$top/build/fcgi-app/roost-fcgi
    export ROOST_PORT ROOST_WORKERS ROOST_STORE_DIR ROOST_RUNDIR ROOST_FCGI_BIN
    mkdir -p "$ROOST_STORE_DIR" "$ROOST_RUNDIR"
    lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
    "$lighttpd" -tt -f www-conf/roost-local.conf
    say "serving on http://127.0.0.1:$ROOST_PORT/ with $ROOST_WORKERS workers, store $ROOST_STORE_DIR"
    say "error log: $ROOST_RUNDIR/error.log; Ctrl-C stops"
    # lighttpd stops its workers when it stops; forward Ctrl-C and SIGTERM.
    "$lighttpd" -D -f www-conf/roost-local.conf &
    pid=$!
    trap 'kill -TERM $pid 2>/dev/null' INT TERM
    wait $pid || true
    # wait returns early when a trapped signal arrives: wait for the exit.
    while kill -0 $pid 2>/dev/null; do wait $pid || true; done
    say "stopped"
}

cmd_test() {
    ensure_packages
    build build
    fail=0
    say "make check (build/)"
    make -C build -j"$(nproc)" check --no-print-directory || fail=1
    # Sanitizer pass: the same suite with ASan+UBSan in its own build dir.
    say "make check (build-asan/, AddressSanitizer + UndefinedBehaviorSanitizer)"
    build build-asan --enable-asan --enable-ubsan
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        make -C build-asan -j"$(nproc)" check --no-print-directory || fail=1
    for d in build build-asan; do
        [ -f "$d/test-suite.log" ] && [ $fail -ne 0 ] && cat "$d/test-suite.log" >&2
    done
    if [ $fail -ne 0 ]; then
        say "FAILED"
        exit 1
    fi
    say "all tests passed"
}

# The benchmark (bench/README.md): its tools come from Debian's packages too.
cmd_bench() {
    packages="$packages wrk redis-server redis-tools webdis jq procps iproute2"
    ensure_packages
    build build
    exec bash "$top/bench/run.sh" --build "$top/build" "$@"
}

case "${1:-}" in
    serve) cmd_serve ;;
    test) cmd_test ;;
    build) ensure_packages; build build ;;
    bench) shift; cmd_bench "$@" ;;
    *) echo "usage: $0 serve|test|build|bench" >&2; exit 2 ;;
esac
