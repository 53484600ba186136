-- R1-R2: the bench's functions, made by bench/run as the cluster's superuser on every
-- run (idempotent), never by demo/housing.sql. R1 calls a one-line STABLE SQL function
-- of two arguments; R2 a SETOF function returning 1,000 rows of building_permits.
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION bench_add(a int, b int) RETURNS int
    LANGUAGE sql STABLE AS 'SELECT a + b';
CREATE OR REPLACE FUNCTION bench_permits(first_id int) RETURNS SETOF building_permits
    LANGUAGE sql STABLE AS 'SELECT * FROM building_permits WHERE id >= first_id ORDER BY id LIMIT 1000';
GRANT EXECUTE ON FUNCTION bench_add(int, int), bench_permits(int) TO autorest_demo;
