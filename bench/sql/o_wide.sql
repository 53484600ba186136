-- bench/sql/o_wide.sql: schema bench_wide, 1,000 tables of seven columns (a key,
-- text, varchar(n), numeric, timestamptz, an enum, a foreign key to the table
-- before), commented, for the OpenAPI build row O2 (bench/run). Made afresh.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_wide CASCADE;
CREATE SCHEMA bench_wide;
CREATE TYPE bench_wide.state AS ENUM ('draft', 'open', 'closed');
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXECUTE format('CREATE TABLE bench_wide.t%s (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            code varchar(20),
            amount numeric(12, 2) DEFAULT 0,
            created timestamptz NOT NULL DEFAULT now(),
            state bench_wide.state,
            prev_id bigint %s)', i,
            CASE WHEN i > 1 THEN format('REFERENCES bench_wide.t%s', i - 1) ELSE '' END);
        EXECUTE format('COMMENT ON TABLE bench_wide.t%s IS %L', i, 'table number ' || i);
    END LOOP;
END
$$;
