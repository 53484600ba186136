-- bench/lua/write.lua: wrk script for the write rows (W1, W2, W4): every request sends the
-- same JSON body with Content-Type: application/json and Prefer: return=minimal.
-- Arguments after wrk's "--": METHOD, PATH, BODY_FILE and optionally MAX_ID. Without MAX_ID
-- every request is the same (POST /w/bench_write: the table's identity key makes each one a
-- new row); with it, each request's path is PATH followed by a random id in 1..MAX_ID
-- (PATCH /w/bench_patch?id=eq.<id>). Each wrk thread gets its own seed.
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("seed", threads)
end

local method, path, body, max_id, fixed, head, tail
local headers = {["Content-Type"] = "application/json", ["Prefer"] = "return=minimal"}

function init(args)
    method = args[1] or "POST"
    path = args[2] or "/w/bench_write"
    local f = assert(io.open(assert(args[3], "write.lua: no body file"), "rb"))
    body = f:read("*a")
    f:close()
    max_id = tonumber(args[4])
    math.randomseed(os.time() * 1000 + (seed or 0))
    if not max_id then
        fixed = wrk.format(method, path, headers, body)
    else
        -- the request built once around a placeholder: per request, only the id is new
        local r = wrk.format(method, path .. "\0", headers, body)
        local at = string.find(r, "\0", 1, true)
        head, tail = string.sub(r, 1, at - 1), string.sub(r, at + 1)
    end
end

function request()
    return fixed or (head .. math.random(1, max_id) .. tail)
end
