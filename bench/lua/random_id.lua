-- bench/lua/random_id.lua: wrk script, GET <prefix><random id> with a new id per request.
-- Arguments after wrk's "--": the path prefix (default /api/building_permits/) and the
-- largest id (default 1000000). Each wrk thread gets its own seed.
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("seed", threads)
end

local prefix, max_id

function init(args)
    prefix = args[1] or "/api/building_permits/"
    max_id = tonumber(args[2] or "1000000")
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    return wrk.format("GET", prefix .. math.random(1, max_id))
end
