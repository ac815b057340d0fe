-- wrk.lua - the benchmark's requests, for roost, the do-nothing responder
-- and webdis alike (bench/run.sh drives it; bench/README.md).
--
--   wrk -t2 -c64 -d10s -s bench/wrk.lua URL -- target=roost op=get [name=value...]
--
-- Arguments (after --), each name=value:
--   target       roost | lean | webdis. lean gets roost's exact requests
--                (the responder ignores them); webdis gets the Redis
--                equivalents: GET /GET/key, PUT /SET/key, GET /MGET/k1/k2...
--   op           get | miss | put | mixed | batch
--   keys         keys stored (default 10000); key i is "k<i>" in instance
--                "bench-<i % instances>" (bench/preload.c writes the same;
--                webdis' key is "bench-NN:k<i>")
--   instances    default 10
--   value_bytes  PUT body size (default 100)
--   put_pct      percentage of PUTs in op=mixed (default 10)
--   batch        keys per batch get (default 100), distinct, one instance
--   pool         requests built up front per thread (default: 65536; 8192
--                for put, 2048 for batch), then sent round-robin, so that no
--                Lua formatting runs while measuring
--   seed         random seed (default 1); each thread adds its number
--   stop         stop wrk once a thread has seen this many responses (memory
--                growth runs with -t1, and --quick; costs a Lua call per
--                response, so not for timing)
--
-- done() prints one line for run.sh:
--   BENCH requests=N duration_us=N rps=X p50_us=N ... status_errors=N
-- Latencies are wrk's (microseconds), percentiles of its full distribution.

local cfg = {
    target = "roost", op = "get", keys = 10000, instances = 10, value_bytes = 100,
    put_pct = 10, batch = 100, pool = nil, seed = 1, stop = nil,
}
local pool, npool, pos = {}, 0, 0

local thread_counter = 0
function setup(thread)
    thread_counter = thread_counter + 1
    thread:set("thread_id", thread_counter)
end

local function parse_args(args)
    for _, a in ipairs(args) do
        local k, v = a:match("^([%w_]+)=(.*)$")
        if not k or cfg[k] == nil and k ~= "pool" and k ~= "stop" then
            error("wrk.lua: unknown argument '" .. a .. "'")
        end
        cfg[k] = tonumber(v) or v
    end
end

local function instance_of(i) return string.format("bench-%02d", i % cfg.instances) end

local function value(n)
    local alphabet = "abcdefghijklmnopqrstuvwxyz"
    local s = string.rep(alphabet, math.floor(n / 26) + 1)
    return s:sub(1, n)
end

local body_cache
local function get_req(prefix)
    local i = math.random(0, cfg.keys - 1)
    local inst, key = instance_of(i), prefix .. i
    if cfg.target == "webdis" then
        return wrk.format("GET", "/GET/" .. inst .. ":" .. key)
    end
    return wrk.format("GET", "/v1/cache/" .. key, { ["X-Instance-ID"] = inst })
end

local function put_req()
    local i = math.random(0, cfg.keys - 1)
    local inst, key = instance_of(i), "k" .. i
    body_cache = body_cache or value(cfg.value_bytes)
    local h = { ["Content-Type"] = "application/octet-stream" }
    if cfg.target == "webdis" then
        return wrk.format("PUT", "/SET/" .. inst .. ":" .. key, h, body_cache)
    end
    h["X-Instance-ID"] = inst
    return wrk.format("PUT", "/v1/cache/" .. key, h, body_cache)
end

local function batch_req()
    local per = math.floor(cfg.keys / cfg.instances)
    if cfg.batch > per then error("wrk.lua: batch larger than the keys of one instance") end
    local b = math.random(0, cfg.instances - 1)
    local inst = instance_of(b)
    local seen, keys = {}, {}
    while #keys < cfg.batch do
        local j = math.random(0, per - 1)
        if not seen[j] then
            seen[j] = true
            keys[#keys + 1] = "k" .. (j * cfg.instances + b)
        end
    end
    if cfg.target == "webdis" then
        return wrk.format("GET", "/MGET/" .. inst .. ":" .. table.concat(keys, "/" .. inst .. ":"))
    end
    local body = '{"keys":["' .. table.concat(keys, '","') .. '"]}'
    return wrk.format("POST", "/v1/cache/batch/get",
                      { ["X-Instance-ID"] = inst, ["Content-Type"] = "application/json" }, body)
end

local builders = {
    get = function() return get_req("k") end,
    miss = function() return get_req("m") end,
    put = put_req,
    batch = batch_req,
    mixed = function()
        if math.random(1, 100) <= cfg.put_pct then return put_req() end
        return get_req("k")
    end,
}

function init(args)
    parse_args(args)
    local build = builders[cfg.op]
    if not build then error("wrk.lua: unknown op '" .. tostring(cfg.op) .. "'") end
    if cfg.target ~= "roost" and cfg.target ~= "lean" and cfg.target ~= "webdis" then
        error("wrk.lua: unknown target '" .. tostring(cfg.target) .. "'")
    end
    math.randomseed(cfg.seed * 1000 + (thread_id or 0))
    npool = cfg.pool or (cfg.op == "batch" and 2048 or cfg.op == "put" and 8192 or 65536)
    for k = 1, npool do pool[k] = build() end
    if cfg.stop then
        -- wrk's main thread sleeps for the whole -d whatever its threads
        -- do; SIGINT (which wrk handles as "stop now") wakes it up. The
        -- shell os.execute starts is wrk's child ($PPID is wrk), and the
        -- kill must come after os.execute returns: system() ignores SIGINT
        -- while it waits.
        local seen, limit = 0, cfg.stop
        response = function()
            seen = seen + 1
            if seen == limit then
                wrk.thread:stop()
                os.execute("(sleep 0.02; kill -INT $PPID) >/dev/null 2>&1 &")
            end
        end
    end
end

function request()
    pos = pos + 1
    if pos > npool then pos = 1 end
    return pool[pos]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d rps=%.1f bytes=%d " ..
        "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f " ..
        "connect_errors=%d read_errors=%d write_errors=%d timeout_errors=%d status_errors=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        summary.bytes,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max, latency.mean,
        e.connect, e.read, e.write, e.timeout, e.status))
end
