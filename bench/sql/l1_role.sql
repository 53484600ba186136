-- L1-role's SQL as the module sends it at /role: the request's settings and
-- SET LOCAL ROLE, then L1's plain SELECT, in one pipeline (run with -M prepared,
-- as the module prepares both: so its ceiling is not lowered by parsing
-- them, as the limit's plain SELECT, -M extended, is parsed every time).
\startpipeline
SELECT num_nulls(set_config('request.method', 'GET', true), set_config('request.path', '/role/building_permits', true), set_config('request.headers', '{"host":"127.0.0.1"}', true), set_config('request.cookies', '{}', true), set_config('request.jwt.claims', '{}', true), set_config('request.user', 'bench_reader', true), set_config('request.auth_type', 'Basic', true), set_config('role', 'bench_reader', true));
SELECT * FROM building_permits ORDER BY id LIMIT 100;
\endpipeline
