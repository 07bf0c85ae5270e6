-- wrk script for `make bench`: cycles through pre-signed requests.
--
--   wrk ... -s bench/req.lua URL -- FILE PATH MODEL VERSION OFFSET COUNT
--
-- FILE holds `Signature-Input<TAB>Signature` lines (bench/gen sign), or
-- the one line `NOSIG`: PATH alone (a token URL), no other header.
-- Thread t of T takes lines OFFSET+t, OFFSET+t+T, ... up to COUNT lines
-- in all, so no two requests of a run share a nonce; a run that uses
-- them all wraps around (the gate then answers 401 replay, which shows
-- as non-2xx).  BENCH_LIMIT=N in the environment: each thread stops
-- after N responses and creates the file $BENCH_DONE.<thread> (cache
-- warm-up; the caller then interrupts wrk).  done() prints one BENCH
-- line.

-- setup() runs in its own Lua state: it hands each thread the globals
-- tid and nthreads
local nsetup = 0
local threads = {}

function setup(thread)
    thread:set("tid", nsetup)
    nsetup = nsetup + 1
    table.insert(threads, thread)
    for _, t in ipairs(threads) do
        t:set("nthreads", nsetup)
    end
end

local reqs = {}
local n = 0
local i = 0

function init(args)
    local file, path, model, version = args[1], args[2], args[3], args[4]
    local offset = tonumber(args[5] or "0")
    local count = tonumber(args[6] or "0")
    local k = 0
    local last = count > 0 and offset + count or math.huge
    local head = "GET " .. path .. " HTTP/1.1\r\nHost: fw.bench\r\n" ..
                 "X-Device-Model: " .. model .. "\r\n" ..
                 "X-Firmware-Version: " .. version .. "\r\n"
    for line in io.lines(file) do
        if k >= last then
            break
        end
        if line == "NOSIG" then
            n = 1
            reqs[1] = "GET " .. path .. " HTTP/1.1\r\nHost: fw.bench\r\n\r\n"
            break
        end
        if k >= offset and (k - offset) % nthreads == tid then
            local si, sig = line:match("^(.-)\t(.*)$")
            n = n + 1
            reqs[n] = head .. "Signature-Input: " .. si .. "\r\n" ..
                      "Signature: " .. sig .. "\r\n\r\n"
        end
        k = k + 1
    end
    if n == 0 then
        error("no requests for thread " .. tid)
    end
end

function request()
    i = i + 1
    if i > n then
        i = 1
    end
    return reqs[i]
end

local limit = tonumber(os.getenv("BENCH_LIMIT") or "")
if limit then
    local got = 0
    local marker = os.getenv("BENCH_DONE")
    function response(status, headers, body)
        got = got + 1
        if got == limit then
            if marker then
                local f = io.open(marker .. "." .. tid, "w")
                if f then
                    f:close()
                end
            end
            wrk.thread:stop()
        end
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d " ..
        "non2xx=%d sockerr=%d\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99),
        e.status, e.connect + e.read + e.write + e.timeout))
end
