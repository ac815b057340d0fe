#!/bin/bash
# bench/run.sh - roost against its own ceiling and against webdis (issue 7).
#
#   ./dev.sh bench [options]      installs what is missing, builds, runs this
#   bench/run.sh [options]        the same on an existing build (--build DIR)
#
# Starts, all on 127.0.0.1 on free ports, each stopped by its pid at exit:
#   lean    lighttpd + www-conf/roost-local.conf + 4 x bench/lean-fcgi (the
#           do-nothing FastCGI responder: the ceiling of this stack)
#   roost   lighttpd + the same config + 4 x roost-fcgi, a fresh store per
#           workload (copied from a store bench/preload filled before)
#   webdis  redis-server (no persistence) + webdis (2 threads) in front of it,
#           flushed and refilled per workload
# and drives each with wrk -t2 and bench/wrk.lua. Every workload runs on all
# three in the same round, one after the other (the order rotates per
# round), so the ratios compare figures taken a few seconds apart on the
# same machine; the table shows medians over the rounds, ratios included.
# Results: a table on stdout, and bench/results/latest.json.
#
# Options:
#   --quick            CI smoke run: 1 round, 64 connections only, each wrk run
#                      cut at 1,500 responses per thread (at most 1 s), 10,000
#                      keys for the "1M" workload, no warm-up, targets not judged
#   --duration S       seconds per wrk run (default 10)
#   --repeats N        rounds (default 3)
#   --conns "16 64"    connection counts
#   --workloads "..."  subset of: get_hit get_miss put_100 put_4k mixed batch get_hit_1m
#   --targets "..."    subset of: lean roost webdis (ratios need lean / webdis)
#   --big-keys N       keys of get_hit_1m (default 1000000)
#   --warmup S         unrecorded wrk run per workload and target (default 1; 0: none)
#   --no-growth        skip the memory growth measurement
#   --build DIR        build directory (default ./build)
#   --out FILE         JSON output (default bench/results/latest.json)
#   --keep             keep the temporary directory (stores, logs)
set -eu -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------- options
duration=10 repeats=3 conns="16 64" warmup=1 quick=0 growth=1 keep=0
workloads="get_hit get_miss put_100 put_4k mixed batch get_hit_1m"
targets="lean roost webdis"
big_keys=1000000
build="$top/build"
out="$top/bench/results/latest.json"
wrk_threads=2 workers=4 small_keys=10000 instances=10
growth_first=10000 growth_total=100000
quick_stop=""   # --quick: each wrk run ends after this many responses per thread

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; duration=1; repeats=1; conns="64"; big_keys=10000; warmup=0
                 growth_first=1000; growth_total=10000; quick_stop=1500 ;;
        --duration) duration=$2; shift ;;
        --repeats) repeats=$2; shift ;;
        --conns) conns=$2; shift ;;
        --workloads) workloads=$2; shift ;;
        --targets) targets=$2; shift ;;
        --big-keys) big_keys=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --no-growth) growth=0 ;;
        --build) build=$(cd "$2" && pwd); shift ;;
        --out) out=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (--help lists them)" ;;
    esac
    shift
done
for w in $workloads; do
    case "$w" in get_hit|get_miss|put_100|put_4k|mixed|batch|get_hit_1m) ;;
        *) die "unknown workload '$w'" ;; esac
done
for t in $targets; do
    case "$t" in lean|roost|webdis) ;; *) die "unknown target '$t'" ;; esac
done
case "$duration$repeats$big_keys$warmup" in *[!0-9]*) die "--duration, --repeats, --big-keys, --warmup take whole numbers" ;; esac
if [ "$duration" -lt 1 ] || [ "$repeats" -lt 1 ]; then
    die "--duration and --repeats must be at least 1"
fi

lean_bin=$build/bench/lean-fcgi
roost_bin=$build/fcgi-app/roost-fcgi
preload_bin=$build/bench/preload
for b in "$lean_bin" "$roost_bin" "$preload_bin"; do
    [ -x "$b" ] || die "$b is missing: build first (./dev.sh bench does)"
done
for c in wrk jq curl lighttpd redis-server redis-cli webdis pgrep ss; do
    command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || die "$c is missing (./dev.sh bench installs it)"
done
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
conf=$top/www-conf/roost-local.conf

# ---------------------------------------------------------------- processes
tmp=$(mktemp -d /tmp/roost-bench.XXXXXX)
declare -A PID PORT
cleanup() {
    local rc=$? name
    trap - EXIT INT TERM
    for name in "${!PID[@]}"; do stop_server "$name"; done
    if [ "$keep" = 1 ] || [ $rc -ne 0 ]; then
        say "logs and stores kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# A port nobody listens on or connects from, below the ephemeral range
# (wrk's own connections take ports there). The server started on it may
# still lose a race: the callers retry with another port.
free_port() {
    local used p
    used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
    while :; do
        p=$((20000 + RANDOM % 12000))
        grep -qx "$p" <<<"$used" || { echo "$p"; return; }
    done
}

# running PID: exists and is not a zombie (workers orphaned by lighttpd's
# exit wait for PID 1 to reap them, which may take a while).
running() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# stop_server NAME: SIGTERM, 5 s, SIGKILL; then the workers it left, if any.
stop_server() {
    local name=$1 pid=${PID[$1]:-} kids i
    [ -n "$pid" ] || return 0
    kids=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 250); do running "$pid" || break; sleep 0.02; done
    running "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    for i in $kids; do
        for _ in $(seq 150); do running "$i" || break; sleep 0.02; done
        running "$i" && kill -KILL "$i" 2>/dev/null
    done
    unset "PID[$name]"
}

# wait_http URL PID: until URL answers 200 (10 s), as long as PID lives.
wait_http() {
    local url=$1 pid=$2 deadline=$(( $(now_ms) + 10000 ))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" = 200 ] && return 0
        sleep 0.02
    done
    return 1
}

# start_lighttpd NAME FCGI_BIN STORE_DIR: lighttpd with www-conf/roost-local.conf
# and a clean environment (a developer's exported ROOST_* must not change a
# run). The lean and roost servers differ only in ROOST_FCGI_BIN.
start_lighttpd() {
    local name=$1 bin=$2 store=$3 rundir=$tmp/$1 port pid n i
    mkdir -p "$rundir"
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        : >"$rundir/error.log"
        env -i PATH="/usr/sbin:/usr/bin:/sbin:/bin" HOME="$tmp" \
            ROOST_PORT="$port" ROOST_RUNDIR="$rundir" ROOST_WORKERS="$workers" \
            ROOST_FCGI_BIN="$bin" ROOST_STORE_DIR="$store" \
            "$lighttpd" -D -f "$conf" >>"$rundir/lighttpd.out" 2>&1 </dev/null &
        pid=$!
        PID[$name]=$pid
        if wait_http "http://127.0.0.1:$port/health" "$pid"; then
            # our lighttpd (server.tag), with every worker up
            curl -sI --max-time 2 "http://127.0.0.1:$port/health" | grep -qi '^Server: roost' \
                || die "port $port did not answer as our lighttpd ($name)"
            for i in $(seq 100); do
                n=$(pgrep -P "$pid" | wc -l)
                [ "$n" -ge "$workers" ] && break
                sleep 0.05
            done
            [ "$n" -eq "$workers" ] || die "$name: $n workers instead of $workers"
            PORT[$name]=$port
            return 0
        fi
        stop_server "$name"
        if grep -qs 'Address already in use' "$rundir/lighttpd.out" "$rundir/error.log"; then
            say "$name: port $port was taken, retrying"
            continue
        fi
        tail -n 20 "$rundir/lighttpd.out" "$rundir/error.log" >&2 || true
        die "lighttpd ($name) did not come up"
    done
    die "lighttpd ($name): no free port after 5 attempts"
}

start_webdis_stack() {
    local rundir=$tmp/webdis port pid i
    mkdir -p "$rundir"
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --daemonize no --save "" \
            --appendonly no --dir "$rundir" --logfile "$rundir/redis.log" \
            </dev/null >/dev/null 2>&1 &
        pid=$!
        PID[redis]=$pid
        for i in $(seq 200); do
            redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.02
        done
        if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
            PORT[redis]=$port
            break
        fi
        stop_server redis
        grep -qs 'Address already in use' "$rundir/redis.log" && continue
        tail -n 20 "$rundir/redis.log" >&2 || true
        die "redis-server did not come up"
    done
    [ -n "${PORT[redis]:-}" ] || die "redis-server: no free port after 5 attempts"
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        jq -n --argjson rport "${PORT[redis]}" --argjson hport "$port" --arg log "$rundir/webdis.log" \
            '{redis_host: "127.0.0.1", redis_port: $rport, redis_auth: null,
              http_host: "127.0.0.1", http_port: $hport, threads: 2,
              daemonize: false, database: 0, verbosity: 1, logfile: $log}' >"$rundir/webdis.json"
        webdis "$rundir/webdis.json" </dev/null >>"$rundir/webdis.out" 2>&1 &
        pid=$!
        PID[webdis]=$pid
        if wait_http "http://127.0.0.1:$port/PING" "$pid"; then
            PORT[webdis]=$port
            return 0
        fi
        stop_server webdis
        grep -qsi 'in use' "$rundir/webdis.log" "$rundir/webdis.out" && continue
        tail -n 20 "$rundir/webdis.log" "$rundir/webdis.out" >&2 || true
        die "webdis did not come up"
    done
    die "webdis: no free port after 5 attempts"
}

# ---------------------------------------------------------------- data
# preload_template DIR KEYS: a store filled through the library (timed).
preload_template() {
    local dir=$1 keys=$2 t0 t1
    t0=$(now_ms)
    "$preload_bin" "$dir" "$keys" 100 "$instances" 2>>"$tmp/preload.log" \
        || { cat "$tmp/preload.log" >&2; die "preload of $keys keys failed"; }
    t1=$(now_ms)
    echo $((t1 - t0))
}

# The same keys and values for redis, as the protocol redis-cli --pipe reads:
# key "bench-NN:k<i>", value as bench/preload.c fills it.
redis_protocol() {
    awk -v n="$1" -v inst="$instances" 'BEGIN {
        a = "abcdefghijklmnopqrstuvwxyz"; alpha = a a a a a a
        for (i = 0; i < n; i++) {
            k = sprintf("bench-%02d:k%d", i % inst, i)
            v = substr(alpha, (i % 26) + 1, 100)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v
        }
    }'
}

redis_fill() {
    local keys=$1 file=$tmp/redis-$1.proto
    redis-cli -p "${PORT[redis]}" flushall >/dev/null
    [ -f "$file" ] || redis_protocol "$keys" >"$file"
    redis-cli -p "${PORT[redis]}" --pipe <"$file" >"$tmp/redis-pipe.log" 2>&1 \
        || { cat "$tmp/redis-pipe.log" >&2; die "redis preload failed"; }
    [ "$(redis-cli -p "${PORT[redis]}" dbsize)" = "$keys" ] || die "redis holds $(redis-cli -p "${PORT[redis]}" dbsize) keys, not $keys"
}

# ---------------------------------------------------------------- measuring
# mem_json LIGHTTPD_PID: VmRSS and RssAnon of its workers (KiB), sum and max.
mem_json() {
    local pid
    for pid in $(pgrep -P "$1"); do
        awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r, a }' "/proc/$pid/status"
    done | jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | map(tonumber))
        | { workers: length,
            rss_sum_kib: (map(.[0]) | add), rss_max_kib: (map(.[0]) | max),
            anon_sum_kib: (map(.[1]) | add), anon_max_kib: (map(.[1]) | max),
            anon_kib: map(.[1]) }'
}

url_of() {
    echo "http://127.0.0.1:${PORT[$1]}/"
}

# wrk_args WORKLOAD: bench/wrk.lua arguments for it.
wrk_args() {
    case "$1" in
        get_hit) echo "op=get keys=$small_keys" ;;
        get_miss) echo "op=miss keys=$small_keys" ;;
        put_100) echo "op=put keys=$small_keys value_bytes=100" ;;
        put_4k) echo "op=put keys=$small_keys value_bytes=4096" ;;
        mixed) echo "op=mixed keys=$small_keys put_pct=10" ;;
        batch) echo "op=batch keys=$small_keys batch=100" ;;
        get_hit_1m) echo "op=get keys=$big_keys" ;;
    esac
}

# run_wrk TARGET WORKLOAD CONNS SECONDS [extra wrk.lua args]: prints wrk's BENCH
# line as a JSON object.
run_wrk() {
    local target=$1 workload=$2 c=$3 d=$4 out line
    shift 4
    [ -n "$quick_stop" ] && set -- stop="$quick_stop" "$@"
    # shellcheck disable=SC2046
    out=$(wrk -t"$wrk_threads" -c"$c" -d"${d}s" --timeout 5s -s "$top/bench/wrk.lua" \
          "$(url_of "$target")" -- target="$target" $(wrk_args "$workload") "$@" 2>&1) \
        || { printf '%s\n' "$out" >&2; die "wrk failed ($target $workload c$c)"; }
    line=$(grep '^BENCH ' <<<"$out") || { printf '%s\n' "$out" >&2; die "no result from wrk"; }
    jq -n --arg line "${line#BENCH }" \
        '$line | split(" ") | map(split("=") | { (.[0]): (.[1] | tonumber) }) | add'
}

# check_answers WORKLOAD: one request of the workload's kind per target,
# with curl, before measuring: a benchmark of error pages measures nothing.
check_answers() {
    local w=$1 r l wd code
    r="http://127.0.0.1:${PORT[roost]:-0}"; l="http://127.0.0.1:${PORT[lean]:-0}"
    wd="http://127.0.0.1:${PORT[webdis]:-0}"
    expect() { # URL-LABEL WANT CURL-ARGS...
        local label=$1 want=$2
        shift 2
        code=$(curl -s -o "$tmp/answer" -w '%{http_code}' --max-time 5 "$@" || true)
        [ "$code" = "$want" ] || { head -c 300 "$tmp/answer" >&2; echo >&2;
            die "$w: $label answered $code, expected $want"; }
    }
    local inst=(-H "X-Instance-ID: bench-03")
    local put=(-X PUT -H "Content-Type: application/octet-stream" --data-binary @"$tmp/value100")
    [ -f "$tmp/value100" ] || printf '%0100d' 0 >"$tmp/value100"
    has() { [[ " $targets " == *" $1 "* ]]; }
    case "$w" in
        get_hit|get_hit_1m|mixed)
            has roost && expect "roost GET" 200 "${inst[@]}" "$r/v1/cache/k3"
            has roost && { [ "$(wc -c <"$tmp/answer")" -eq 100 ] || die "$w: roost GET k3 is not 100 bytes"; }
            has webdis && expect "webdis GET" 200 "$wd/GET/bench-03:k3"
            has webdis && { grep -q 'defghij' "$tmp/answer" || die "$w: webdis has no bench-03:k3"; }
            ;;
        get_miss)
            has roost && expect "roost GET miss" 404 "${inst[@]}" "$r/v1/cache/m3"
            has webdis && expect "webdis GET miss" 200 "$wd/GET/bench-03:m3"
            ;;
        put_100|put_4k)
            has roost && expect "roost PUT" 200 "${inst[@]}" "${put[@]}" "$r/v1/cache/k3"
            has webdis && expect "webdis PUT /SET" 200 "${put[@]}" "$wd/SET/bench-03:k3"
            ;;
        batch)
            has roost && expect "roost batch" 200 "${inst[@]}" -H "Content-Type: application/json" \
                --data-binary '{"keys":["k3","k13"]}' "$r/v1/cache/batch/get"
            has roost && { jq -e '.entries | length == 2' "$tmp/answer" >/dev/null || die "$w: roost batch found no keys"; }
            has webdis && expect "webdis MGET" 200 "$wd/MGET/bench-03:k3/bench-03:k13"
            ;;
    esac
    has lean && expect "lean" 200 "$l/v1/cache/k3"
    return 0
}

# ---------------------------------------------------------------- the run
# what was built and measured (taken now: the tree may change during a run)
roost_version=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
runs=$tmp/runs.jsonl
: >"$runs"
t_start=$(now_ms)
nconns=$(wc -w <<<"$conns")
nwork=$(wc -w <<<"$workloads")
ntarg=$(wc -w <<<"$targets")
est=$(( repeats * nwork * (nconns * ntarg * duration + ntarg * warmup + 3) ))
[ -z "$quick_stop" ] && say "$nwork workloads x $nconns connection counts x $ntarg targets x ${duration}s x $repeats rounds: about $((est / 60)) min $((est % 60)) s of runs"

has_target() { [[ " $targets " == *" $1 "* ]]; }

store_small=$tmp/template-10k
store_big=$tmp/template-big
preload_small_ms=$(preload_template "$store_small" "$small_keys")
say "preloaded $small_keys keys in ${preload_small_ms} ms"
preload_big_ms=null
if [ "$big_keys" = "$small_keys" ]; then
    store_big=$store_small
elif [[ " $workloads " == *" get_hit_1m "* ]] && has_target roost; then
    preload_big_ms=$(preload_template "$store_big" "$big_keys")
    say "preloaded $big_keys keys in ${preload_big_ms} ms"
fi

has_target lean && start_lighttpd lean "$lean_bin" "$tmp/lean-store"
has_target webdis && start_webdis_stack

round_targets() { # the order of the targets rotates per round
    local r=$1 list n i
    read -r -a list <<<"$targets"
    n=${#list[@]}
    for ((i = 0; i < n; i++)); do printf '%s ' "${list[(i + r - 1) % n]}"; done
}

for round in $(seq "$repeats"); do
    for w in $workloads; do
        keys=$small_keys template=$store_small
        [ "$w" = get_hit_1m ] && { keys=$big_keys; template=$store_big; }
        if has_target roost; then
            rm -rf "$tmp/store"
            cp -a "$template" "$tmp/store"
            start_lighttpd roost "$roost_bin" "$tmp/store"
        fi
        has_target webdis && redis_fill "$keys"
        check_answers "$w"
        for c in $conns; do
            for t in $(round_targets "$round"); do
                if [ "$warmup" -gt 0 ] && [ "$c" = "${conns%% *}" ]; then
                    run_wrk "$t" "$w" "$c" "$warmup" seed=$((round + 100)) >/dev/null
                fi
                load=$(cut -d' ' -f1 /proc/loadavg)
                res=$(run_wrk "$t" "$w" "$c" "$duration" seed="$round")
                mem=null
                case "$t" in
                    roost|lean) mem=$(mem_json "${PID[$t]}") ;;
                esac
                jq -c -n --argjson res "$res" --argjson mem "$mem" --arg t "$t" --arg w "$w" \
                    --argjson c "$c" --argjson round "$round" --argjson load "$load" \
                    '$res + { round: $round, workload: $w, conns: $c, target: $t,
                              load1_before: $load, memory: $mem }' >>"$runs"
                printf 'bench: round %d  %-10s c%-3d %-6s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' \
                    "$round" "$w" "$c" "$t" "$(jq -r .rps <<<"$res")" \
                    "$(jq -r '.p50_us / 1000' <<<"$res")" "$(jq -r '.p99_us / 1000' <<<"$res")" >&2
            done
        done
        has_target roost && stop_server roost
    done
done

# Worker memory over a run of requests: RssAnon after growth_first requests
# and after growth_total (mixed 90/10: both the read and the write path).
growth_json=null
if [ "$growth" = 1 ] && has_target roost; then
    rm -rf "$tmp/store"
    cp -a "$store_small" "$tmp/store"
    start_lighttpd roost "$roost_bin" "$tmp/store"
    saved_threads=$wrk_threads
    wrk_threads=1   # one thread: "stop" counts that thread's responses exactly
    run_wrk roost mixed 16 120 stop="$growth_first" >"$tmp/growth1.json"
    m1=$(mem_json "${PID[roost]}")
    run_wrk roost mixed 16 300 stop=$((growth_total - growth_first)) seed=2 >"$tmp/growth2.json"
    m2=$(mem_json "${PID[roost]}")
    wrk_threads=$saved_threads
    stop_server roost
    growth_json=$(jq -n --argjson m1 "$m1" --argjson m2 "$m2" \
        --slurpfile r1 "$tmp/growth1.json" --slurpfile r2 "$tmp/growth2.json" \
        --argjson n1 "$growth_first" --argjson n2 "$growth_total" \
        '{ workload: "mixed", conns: 16, requests_first: ($r1[0].requests), requests_total: ($r1[0].requests + $r2[0].requests),
           target_first: $n1, target_total: $n2, after_first: $m1, after_total: $m2,
           anon_growth_sum_kib: ($m2.anon_sum_kib - $m1.anon_sum_kib),
           anon_growth_max_kib: ([range(0; $m1.anon_kib | length)] | map($m2.anon_kib[.] - $m1.anon_kib[.]) | max),
           rss_growth_sum_kib: ($m2.rss_sum_kib - $m1.rss_sum_kib) }')
fi

# ---------------------------------------------------------------- results
mkdir -p "$(dirname "$out")"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine=$(jq -n --arg cpu "$cpu" --argjson nproc "$(nproc)" --arg kernel "$(uname -r)" \
    --argjson mem_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
    '{ nproc: $nproc, cpu: $cpu, kernel: $kernel, mem_kib: $mem_kib }')
versions=$(jq -n --arg lighttpd "$("$lighttpd" -v 2>&1 | head -1)" \
    --arg wrk "$(wrk -v 2>&1 | head -1)" \
    --arg redis "$(redis-server --version)" \
    --arg webdis "$(dpkg-query -W -f='${Version}' webdis 2>/dev/null || echo unknown)" \
    --arg gdbm "$(dpkg-query -W -f='${Version}' libgdbm6 2>/dev/null || echo unknown)" \
    --arg libfcgi "$(dpkg-query -W -f='${Version}' libfcgi0ldbl 2>/dev/null || echo unknown)" \
    --arg roost "$roost_version" \
    '$ARGS.named')
settings=$(jq -n --argjson duration_s "$duration" --argjson repeats "$repeats" \
    --arg conns "$conns" --arg workloads "$workloads" --arg targets "$targets" \
    --argjson wrk_threads "$wrk_threads" --argjson workers "$workers" \
    --argjson small_keys "$small_keys" --argjson big_keys "$big_keys" \
    --argjson instances "$instances" --argjson warmup_s "$warmup" \
    --argjson quick "$([ "$quick" = 1 ] && echo true || echo false)" \
    '$ARGS.named | .conns |= (split(" ") | map(select(length > 0) | tonumber))
     | .workloads |= split(" ") | .targets |= split(" ")')

jq -s --argjson machine "$machine" --argjson versions "$versions" --argjson settings "$settings" \
    --argjson growth "$growth_json" --argjson preload_small_ms "$preload_small_ms" \
    --argjson preload_big_ms "$preload_big_ms" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --argjson elapsed_s "$(( ($(now_ms) - t_start) / 1000 ))" '
def median: map(select(. != null)) | sort
    | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
      else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stats: if length == 0 then null else
    { rps: (map(.rps) | median), p50_us: (map(.p50_us) | median),
      p99_us: (map(.p99_us) | median), p999_us: (map(.p999_us) | median),
      runs: length, rps_each: map(.rps),
      non_2xx: (map(.status_errors) | add),
      socket_errors: (map(.connect_errors + .read_errors + .write_errors + .timeout_errors) | add) } end;
# roost / other, round by round, then the median of those ratios
def ratio($g; $other): [ $g | group_by(.round)[]
    | (map(select(.target == "roost"))[0].rps) as $a | (map(select(.target == $other))[0].rps) as $b
    | if $a == null or $b == null or $b == 0 then null else $a / $b end ] | median;
. as $runs
| ($settings.workloads) as $order
| [ $runs | group_by([.workload, .conns])[] | . as $g
    | { workload: $g[0].workload, conns: $g[0].conns,
        roost: ($g | map(select(.target == "roost")) | stats),
        lean: ($g | map(select(.target == "lean")) | stats),
        webdis: ($g | map(select(.target == "webdis")) | stats),
        ratio_lean: ratio($g; "lean"), ratio_webdis: ratio($g; "webdis"),
        memory: ($g | map(select(.target == "roost")) | last | .memory // null),
        lean_memory: ($g | map(select(.target == "lean")) | last | .memory // null) }
    | if .workload == "batch" and .roost != null then
        .keys_per_s = (.roost.rps * 100) | .webdis_keys_per_s = (if .webdis then .webdis.rps * 100 else null end)
      else . end
    | if .workload == "get_miss" and .roost != null then
        .roost.unexpected_status = (($g | map(select(.target == "roost")) | map(.requests - .status_errors) | add))
      else if .roost != null then .roost.unexpected_status = .roost.non_2xx else . end end ]
  | sort_by(.workload as $w | ($order | index($w)), .conns) as $results
| def row($w; $c): $results | map(select(.workload == $w and .conns == $c)) | first;
  def target($name; $value; $op; $limit; $unit):
      { target: $name, value: $value, limit: $limit, unit: $unit,
        met: (if $value == null then null elif $op == ">=" then $value >= $limit else $value <= $limit end),
        comparison: $op };
  [ target("GET hit >= 0.85x lean (c64)"; row("get_hit"; 64).ratio_lean; ">="; 0.85; "x"),
    target("GET miss >= 0.85x lean (c64)"; row("get_miss"; 64).ratio_lean; ">="; 0.85; "x"),
    target("GET hit >= 0.70x webdis GET (c64)"; row("get_hit"; 64).ratio_webdis; ">="; 0.70; "x"),
    target("PUT 100 B >= 0.60x lean (c64)"; row("put_100"; 64).ratio_lean; ">="; 0.60; "x"),
    target("mixed 90/10 >= 0.75x lean (c64)"; row("mixed"; 64).ratio_lean; ">="; 0.75; "x"),
    target("batch of 100 >= 300,000 keys/s (c64)"; row("batch"; 64).keys_per_s; ">="; 300000; "keys/s"),
    target("GET hit \($settings.big_keys) keys >= 0.90x GET hit \($settings.small_keys) (c64, roost/roost per round)";
           ([ $runs[] | select(.target == "roost" and .conns == 64
                               and (.workload == "get_hit" or .workload == "get_hit_1m")) ]
            | group_by(.round) | map(
                (map(select(.workload == "get_hit_1m"))[0].rps) as $big
                | (map(select(.workload == "get_hit"))[0].rps) as $small
                | if $big and $small then $big / $small else null end) | median); ">="; 0.90; "x"),
    target("p99 GET hit <= 5 ms (c64)"; (row("get_hit"; 64).roost.p99_us // null | if . then . / 1000 else null end); "<="; 5; "ms"),
    target("p99 GET miss <= 5 ms (c64)"; (row("get_miss"; 64).roost.p99_us // null | if . then . / 1000 else null end); "<="; 5; "ms"),
    target("p99 PUT 100 B <= 5 ms (c64)"; (row("put_100"; 64).roost.p99_us // null | if . then . / 1000 else null end); "<="; 5; "ms"),
    target("p99 PUT 4 KiB <= 5 ms (c64)"; (row("put_4k"; 64).roost.p99_us // null | if . then . / 1000 else null end); "<="; 5; "ms"),
    target("worker RssAnon <= 8 MiB with \($settings.big_keys) keys (max over workers)";
           ([$results[] | select(.workload == "get_hit_1m") | .memory.anon_max_kib] | max | if . then . / 1024 else null end); "<="; 8; "MiB"),
    target("no RssAnon growth between \($growth.target_first // "-") and \($growth.target_total // "-") requests (max per worker; 16 KiB tolerance)";
           ($growth.anon_growth_max_kib // null); "<="; 16; "KiB") ] as $targets
| { date: $date, elapsed_s: $elapsed_s, machine: $machine, versions: $versions, settings: $settings,
    preload_ms: { small: $preload_small_ms, big: $preload_big_ms },
    results: $results, memory_growth: $growth, targets: $targets, runs: $runs }
' "$runs" >"$out.tmp"
mv "$out.tmp" "$out"

# ---------------------------------------------------------------- the table
jq -r '"roost bench \(.date): \(.machine.nproc) x \(.machine.cpu), wrk -t\(.settings.wrk_threads), \(.settings.workers) workers, \(.settings.duration_s) s x \(.settings.repeats) round(s), medians\(if .settings.quick then " (--quick: smoke run, figures not meaningful)" else "" end)", ""' "$out"
jq -r '
def n0: if . == null then "-" else (. + 0.5 | floor | tostring) end;
def n2: if . == null then "-" else ((. * 100 + 0.5 | floor) / 100 | tostring
        | if test("\\.") then (if test("\\.[0-9]$") then . + "0" else . end) else . + ".00" end) end;
def ms: if . == null then "-" else (. / 1000 | n2) end;
def mib: if . == null then "-" else (. / 1024 * 10 + 0.5 | floor | . / 10 | tostring) end;
(["workload", "c", "roost/s", "p50ms", "p99ms", "lean/s", "p99ms", "x lean", "webdis/s", "p99ms", "x webdis", "RSS MiB sum/max", "RssAnon MiB sum/max", "keys/s"] | @tsv),
(.results[] | [ .workload, (.conns | tostring), (.roost.rps | n0), (.roost.p50_us | ms), (.roost.p99_us | ms),
    (.lean.rps | n0), (.lean.p99_us | ms), (.ratio_lean | n2),
    (.webdis.rps | n0), (.webdis.p99_us | ms), (.ratio_webdis | n2),
    (if .memory then "\(.memory.rss_sum_kib | mib) / \(.memory.rss_max_kib | mib)" else "-" end),
    (if .memory then "\(.memory.anon_sum_kib | mib) / \(.memory.anon_max_kib | mib)" else "-" end),
    (if .keys_per_s then (.keys_per_s | n0) + (if .webdis_keys_per_s then " (webdis \(.webdis_keys_per_s | n0))" else "" end) else "-" end)
  ] | @tsv)
' "$out" | column -t -s $'\t'

jq -r '
def mib: if . == null then "-" else (. / 1024 * 100 + 0.5 | floor | . / 100 | tostring) end;
"",
(.results | map(select(.lean_memory)) | first | .lean_memory
  | if . then "lean workers: RSS \(.rss_sum_kib | mib) MiB sum, \(.rss_max_kib | mib) max; RssAnon \(.anon_sum_kib | mib) sum, \(.anon_max_kib | mib) max" else empty end),
(.memory_growth | if . then
  "roost worker RssAnon over mixed 90/10 at c16: after \(.requests_first) requests \(.after_first.anon_sum_kib) KiB sum (\(.after_first.anon_kib | map(tostring) | join("/"))), after \(.requests_total) \(.after_total.anon_sum_kib) KiB sum (\(.after_total.anon_kib | map(tostring) | join("/"))): growth \(.anon_growth_sum_kib) KiB sum, \(.anon_growth_max_kib) KiB max per worker"
  else empty end),
(.results | map(select(.roost != null and .roost.unexpected_status > 0)) | .[]
  | "WARNING: \(.workload) c\(.conns): \(.roost.unexpected_status) roost answers with an unexpected status"),
(.results | map(select((.roost.socket_errors // 0) + (.lean.socket_errors // 0) + (.webdis.socket_errors // 0) > 0)) | .[]
  | "note: \(.workload) c\(.conns): socket errors roost \(.roost.socket_errors // 0), lean \(.lean.socket_errors // 0), webdis \(.webdis.socket_errors // 0)"),
"preload: \(.settings.small_keys) keys in \(.preload_ms.small) ms\(if .preload_ms.big then ", \(.settings.big_keys) keys in \(.preload_ms.big) ms" else "" end)",
"",
"targets (issue 7)\(if .settings.quick then ", not judged in a --quick run" else "" end):",
.settings.quick as $quick |
(.targets[] | "  \(if $quick then "(smoke run) " elif .met == null then "not measured" elif .met then "met         " else "NOT MET     " end)  \(.target): \(if .value == null then "-" elif .unit == "keys/s" then (.value | floor | tostring) else ((.value * 100 | round) / 100 | tostring) end) \(.unit)"),
"",
"elapsed \(.elapsed_s) s; JSON: '"$out"'"
' "$out"
