-- Steady load for scripts/test's blue/green step (scripts/lib/bg-test.sh), run by wrk.
--
-- A fixed mix of routes that all answer 2xx (catalog page, a product, categories, the
-- cart and the profile with a token), each connection pausing BG_DELAY_MS between
-- requests so the load stays steady and well under the machine's cores. BG_MODE:
--   close      every request on a new connection (`Connection: close`): nothing is ever
--              idle, so every reset, refused connection or timeout is a failed request;
--   keepalive  requests reuse connections, like browsers and service clients.
--
-- Accounting, per request: `sent` counts request() calls (wrk calls it once per request it
-- writes, including after a reconnect), `answered` counts complete responses, `non_2xx`
-- the answers outside 200-299. A request lost to a reset, a refused connection or a
-- timeout is sent but never answered. When BG_STOP_FILE exists every connection stops
-- after its current request, so the run ends with nothing in flight before wrk is
-- interrupted.
--
-- Both modes are held to the same rule (scripts/lib/bg-test.sh): a blue/green switch
-- changes one marker file nginx reads per request and reloads nothing, so no connection is
-- closed under a client; every reset, close or timeout counts as a failure. (With the
-- reload-based switch of before, a retiring nginx worker closed idle keep-alive
-- connections, which wrk counted as read errors and which reset a request written at that
-- instant: docs/deploy.md "What zero downtime covers".)

local token = os.getenv("BG_TOKEN") or ""
local product_id = os.getenv("BG_PRODUCT_ID") or "1"
local stop_file = os.getenv("BG_STOP_FILE") or ""
local pause_ms = tonumber(os.getenv("BG_DELAY_MS") or "25")
local agent = os.getenv("BG_AGENT") or "mall-bluegreen-load"
local out_file = os.getenv("BG_OUT") or ""
local close = (os.getenv("BG_MODE") or "close") == "close"

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_no", #threads)
end

local reqs = {}
local cursor = 0
sent = 0
answered = 0
non_2xx = 0
by_status = {}
served_by = {}

function init(args)
    local bearer = "Bearer " .. token
    local routes = {
        { "/api/products?size=5", false },
        { "/api/products/" .. product_id, false },
        { "/api/categories", false },
        { "/api/cart", true },
        { "/api/users/me", true },
    }
    for _, route in ipairs(routes) do
        local headers = { ["User-Agent"] = agent }
        if route[2] then headers["Authorization"] = bearer end
        if close then headers["Connection"] = "close" end
        table.insert(reqs, wrk.format("GET", route[1], headers))
    end
    cursor = (thread_no or 1) * 2
    -- wrk calls the first thread's request() once before the run, to inspect the request
    -- (script_verify_request); that one is never sent.
    if (thread_no or 1) == 1 then
        sent = -1
    end
end

function request()
    cursor = cursor % #reqs + 1
    sent = sent + 1
    return reqs[cursor]
end

function delay()
    if stop_file ~= "" then
        local f = io.open(stop_file, "r")
        if f then
            f:close()
            return 3600000
        end
    end
    return pause_ms
end

function response(status, headers, body)
    answered = answered + 1
    local key = tostring(status)
    by_status[key] = (by_status[key] or 0) + 1
    if status < 200 or status > 299 then
        non_2xx = non_2xx + 1
    end
    local by = headers["X-Served-By"] or headers["x-served-by"] or "-"
    served_by[by] = (served_by[by] or 0) + 1
end

local function json_object(t)
    local parts = {}
    for k, v in pairs(t) do
        local key = string.gsub(tostring(k), '[%c"\\]', "")
        table.insert(parts, string.format('"%s":%d', key, v))
    end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
end

local function add_into(total, t)
    for k, v in pairs(t) do
        total[k] = (total[k] or 0) + v
    end
end

function done(summary, latency, requests)
    local s, a, bad, statuses, served = 0, 0, 0, {}, {}
    for _, thread in ipairs(threads) do
        s = s + thread:get("sent")
        a = a + thread:get("answered")
        bad = bad + thread:get("non_2xx")
        add_into(statuses, thread:get("by_status"))
        add_into(served, thread:get("served_by"))
    end
    local e = summary.errors
    local line = string.format(
        '{"sent":%d,"answered":%d,"non_2xx":%d,"by_status":%s,"served_by":%s,'
            .. '"wrk":{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,'
            .. '"write":%d,"status":%d,"timeout":%d}},'
            .. '"latency_us":{"p50":%d,"p99":%d,"max":%d}}',
        s, a, bad, json_object(statuses), json_object(served),
        summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(99), latency.max)
    if out_file ~= "" then
        local f = assert(io.open(out_file, "w"))
        f:write(line, "\n")
        f:close()
    else
        io.write(line, "\n")
    end
end
