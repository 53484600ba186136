-- W1: the statement mod_autorest sends for POST /w/bench_write with one JSON object and
-- Prefer: return=minimal (from PostgreSQL's log, log_min_duration_statement=0), its eight
-- values bound as parameters: bench/run passes the same row's values as the module's body
-- with -D (run with -M prepared). bench_write's identity key makes each row new.
INSERT INTO "public"."bench_write" ("project_id", "permit_number", "permit_type", "issued", "fee", "description", "approved", "details") VALUES (:project_id, :permit_number, :permit_type, :issued, :fee, :description, :approved, :details);
