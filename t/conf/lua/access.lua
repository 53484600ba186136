-- access.lua: a mod_lua access_checker hook in front of mod_autorest
-- (t/api/404_lua.t, t/conf/extra.conf.in, /lua_guarded). Requests without
-- the header X-Api-Key: letmein are refused with 403 before any handler
-- runs; the others go on (DECLINED: the other access checkers decide).

require 'apache2'

function check_key(r)
    if r.headers_in['X-Api-Key'] == 'letmein' then
        return apache2.DECLINED
    end
    r:warn('lua_guarded: refused ' .. r.method .. ' ' .. r.uri .. ': no valid X-Api-Key')
    return 403
end
