-- W4: the statement mod_autorest sends for PATCH /w/bench_patch?id=eq.<id> with
-- {"fee":99.50,"approved":true} (from PostgreSQL's log, log_min_duration_statement=0), a
-- random id of bench_patch's per transaction (run with -M prepared; bench/run passes
-- -D patch_rows=100000 and the body's values, -D fee=99.50 -D approved=t, as the module
-- binds them).
\set id random(1, :patch_rows)
UPDATE "public"."bench_patch" SET "fee" = :fee, "approved" = :approved WHERE ("id" = :id);
