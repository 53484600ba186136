-- W2, PostgREST's statement shape for POST /bench_write with a 1,000-row JSON array: the
-- body bound as one parameter, PostgreSQL turning it into rows (json_populate_recordset).
-- The body is bench_body's one row, where bench/run stores the very body the module is
-- sent; each pgbench client fetches it once (\gset) and then binds it as $1 on every
-- transaction, as PostgREST binds the request body (run with -M prepared -D loaded=0).
\if :loaded = 0
SELECT body, 1 AS loaded FROM bench_body \gset
\endif
INSERT INTO "public"."bench_write" ("project_id", "permit_number", "permit_type", "issued", "fee", "description", "approved", "details") SELECT "project_id", "permit_number", "permit_type", "issued", "fee", "description", "approved", "details" FROM json_populate_recordset(NULL::"public"."bench_write", :body);
