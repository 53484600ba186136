-- filter.lua: a mod_lua output filter over mod_autorest's JSON (t/api/404_lua.t,
-- t/conf/extra.conf.in, /lua_filtered). Rewriting a body is httpd's job, not
-- the module's: this wraps whatever the module sends in
--   {"filtered_by": "lua", "data": <the body>, "buckets": N, "bytes": B}
-- where N is the number of non-empty buckets the filter was handed and B
-- their total size, and adds an X-Lua-Filter header. mod_lua resumes the
-- coroutine once per bucket (global `bucket`; "" for metadata buckets, nil
-- after the last); whatever is yielded is passed on at once, so the body may
-- stream through in as many pieces as the module sends.

function wrap(r)
    -- before the first yield nothing has been sent: headers can still change
    r.headers_out['X-Lua-Filter'] = 'wrap'
    coroutine.yield('{"filtered_by": "lua", "data": ')
    local buckets, bytes = 0, 0
    while bucket ~= nil do
        if #bucket > 0 then
            buckets = buckets + 1
            bytes = bytes + #bucket
        end
        coroutine.yield(bucket)
    end
    coroutine.yield(string.format(', "buckets": %d, "bytes": %d}', buckets, bytes))
end
