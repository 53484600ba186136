-- L4-role's SQL as the module sends it at /role (db.c, request_sql with a
-- role): the request's settings and SET LOCAL ROLE in one statement, then the
-- SELECT, in one pipeline and so one implicit transaction (run with -M prepared).
\set id random(1, 1000000)
\startpipeline
SELECT num_nulls(set_config('request.method', 'GET', true), set_config('request.path', '/role/building_permits/' || :id, true), set_config('request.headers', '{"host":"127.0.0.1"}', true), set_config('request.cookies', '{}', true), set_config('request.jwt.claims', '{}', true), set_config('request.user', 'bench_reader', true), set_config('request.auth_type', 'Basic', true), set_config('role', 'bench_reader', true));
SELECT * FROM building_permits WHERE id = :id;
\endpipeline
