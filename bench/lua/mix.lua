-- bench/lua/mix.lua: wrk script of bench/faults, a read/write mix that keeps its own books.
--
-- Arguments after wrk's "--": LOG_PREFIX (each wrk thread writes LOG_PREFIX-<n>.log),
-- MAX_ID (the read table's ids are 1..MAX_ID), WRITE_PCT (default 20), RUN (a word that
-- makes this run's tags differ from other runs' on the same table; default "x").
--
-- Requests: WRITE_PCT % are POST /rw/faults_log of {"n":…,"note":"<tag>"} with
-- Prefer: return=minimal; the others, half and half, GET /api/faults_item/<random id> (one
-- row by key) and GET /api/faults_item?id=gte.<random>&order=id&limit=20 (a page). Every
-- request carries a unique X-Fault-Tag header ("P" or "G", RUN, the thread, a sequence
-- number: "Psteady1-42"); httpd echoes it back (mod_headers: Header always echo
-- ^X-Fault-Tag$) and logs it, and a POST stores it in the row's note. So a request that
-- got no answer can be looked for in the access log (did httpd read it?) and in the table
-- (was it written?).
--
-- Each thread's log has one line per second, "S <epoch second> <1xx> <2xx> <3xx> <4xx>
-- <5xx>" (responses by the second they arrived in), and one line per response that is not
-- 2xx, "N <arrival> <sent> <status> <tag> <JSON code or -> <Content-Type or ->". done()
-- prints, on stdout, lines starting "mix:": when the threads stopped, the totals by class
-- and status, wrk's socket errors, each thread's last second's counts and the time of its
-- last answer ("mix: last <thread> <time>": a thread stops reading when wrk's time is up,
-- so an answer httpd sent after that never arrives), and every request sent and never
-- answered ("mix: pending <tag> <sent>"): lost to a socket error, or in flight at the end.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } mix_timeval;
int gettimeofday(mix_timeval *tv, void *tz);
]]
local tv = ffi.new("mix_timeval")
local function now()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

-- Per thread (globals, so that done() can read them with thread:get).
sent, sent_post = 0, 0
c1, c2, c3, c4, c5 = 0, 0, 0, 0, 0
status_seen = {}       -- status -> count
pend = {}              -- tag -> time sent, until its answer comes
cur_sec, b1, b2, b3, b4, b5 = 0, 0, 0, 0, 0, 0
last_t = 0             -- when the last answer came

local log, max_id, write_pct, run
local json = {["Content-Type"] = "application/json", ["Prefer"] = "return=minimal"}

function init(args)
    local prefix = assert(args[1], "mix.lua: no log prefix")
    max_id = tonumber(args[2] or "100000")
    write_pct = tonumber(args[3] or "20")
    run = (args[4] or "x") .. id .. "-"
    log = assert(io.open(prefix .. "-" .. id .. ".log", "w"))
    math.randomseed(os.time() * 1000 + id)
end

local function flush_second(sec)
    if cur_sec ~= 0 then
        log:write(string.format("S %d %d %d %d %d %d\n", cur_sec, b1, b2, b3, b4, b5))
    end
    cur_sec, b1, b2, b3, b4, b5 = sec, 0, 0, 0, 0, 0
end

-- wrk calls request() once on its first thread before the run, to count the requests it
-- pipelines, and never sends that one: it is built (a GET) but not counted.
local probe = true

function request()
    if probe and id == 1 then
        probe = false
        return wrk.format("GET", "/api/faults_item/1")
    end
    sent = sent + 1
    local r = math.random(100)
    local tag
    if r <= write_pct then
        sent_post = sent_post + 1
        tag = "P" .. run .. sent
        pend[tag] = now()
        json["X-Fault-Tag"] = tag
        return wrk.format("POST", "/rw/faults_log", json,
                          '{"n":' .. sent .. ',"note":"' .. tag .. '"}')
    end
    tag = "G" .. run .. sent
    pend[tag] = now()
    local path
    if r <= write_pct + (100 - write_pct) / 2 then
        path = "/api/faults_item/" .. math.random(max_id)
    else
        path = "/api/faults_item?id=gte." .. math.random(max_id) .. "&order=id&limit=20"
    end
    return wrk.format("GET", path, {["X-Fault-Tag"] = tag})
end

function response(status, headers, body)
    local t = now()
    last_t = t
    local tag = headers["X-Fault-Tag"]
    local at = tag and pend[tag]
    if tag then pend[tag] = nil end
    local sec = math.floor(t)
    if sec ~= cur_sec then flush_second(sec) end
    local class = math.floor(status / 100)
    if class == 2 then c2 = c2 + 1; b2 = b2 + 1
    elseif class == 5 then c5 = c5 + 1; b5 = b5 + 1
    elseif class == 4 then c4 = c4 + 1; b4 = b4 + 1
    elseif class == 3 then c3 = c3 + 1; b3 = b3 + 1
    else c1 = c1 + 1; b1 = b1 + 1 end
    status_seen[status] = (status_seen[status] or 0) + 1
    if class ~= 2 then
        local code = body and string.match(body, '"code"%s*:%s*"([^"]*)"') or "-"
        local ctype = string.gsub(headers["Content-Type"] or "-", "%s", "")
        log:write(string.format("N %.3f %.3f %d %s %s %s\n", t, at or 0, status, tag or "-",
                                code, ctype))
    end
end

function done(summary, latency, requests)
    -- the threads have just stopped: the end of the run, as near as the script can see it
    io.write(string.format("mix: stopped %.3f\n", now()))
    local n = {0, 0, 0, 0, 0}
    local sent_all, posts, statuses, pending = 0, 0, {}, 0
    for _, t in ipairs(threads) do
        for i = 1, 5 do n[i] = n[i] + t:get("c" .. i) end
        sent_all = sent_all + t:get("sent")
        io.write(string.format("mix: last %d %.3f\n", t:get("id"), t:get("last_t")))
        posts = posts + t:get("sent_post")
        for s, c in pairs(t:get("status_seen")) do statuses[s] = (statuses[s] or 0) + c end
        -- the last second, never flushed by its thread
        local sec = t:get("cur_sec")
        if sec ~= 0 then
            io.write(string.format("mix: second %d %d %d %d %d %d\n", sec, t:get("b1"),
                                   t:get("b2"), t:get("b3"), t:get("b4"), t:get("b5")))
        end
        for tag, at in pairs(t:get("pend")) do
            pending = pending + 1
            io.write(string.format("mix: pending %s %.3f\n", tag, at))
        end
    end
    io.write(string.format("mix: sent %d posts %d answered %d pending %d\n", sent_all, posts,
                           n[1] + n[2] + n[3] + n[4] + n[5], pending))
    io.write(string.format("mix: classes 1xx %d 2xx %d 3xx %d 4xx %d 5xx %d\n",
                           n[1], n[2], n[3], n[4], n[5]))
    for s, c in pairs(statuses) do io.write(string.format("mix: status %d %d\n", s, c)) end
    local e = summary.errors
    io.write(string.format("mix: errors connect %d read %d write %d timeout %d status %d\n",
                           e.connect, e.read, e.write, e.timeout, e.status))
    io.write(string.format("mix: duration_us %d requests %d\n", summary.duration,
                           summary.requests))
end
