-- demo/housing.sql: a made-up Washington-DC-style housing database for the
-- mod_autorest demo, tests and benchmarks.
--
-- Run as the superuser on the (empty) database "housing":
--     psql -X -v ON_ERROR_STOP=1 -U postgres -d housing -f demo/housing.sql
--
-- Everything is generated here, deterministically: "random" values come from
-- hashing the row number with a per-column salt (pg_temp.rnd), so every load
-- produces the same rows whatever the plan or the order of evaluation.
-- Re-running it drops and recreates its objects.

\set ON_ERROR_STOP on
-- The notes below hold UTF-8 text; do not let a C-locale terminal turn the
-- client encoding into SQL_ASCII.
SET client_encoding = 'UTF8';
SET client_min_messages = warning;
-- Index builds on building_permits go faster with more memory.
SET maintenance_work_mem = '256MB';

BEGIN;

DROP MATERIALIZED VIEW IF EXISTS ward_stats;
DROP VIEW IF EXISTS project_summary;
DROP TABLE IF EXISTS building_permits, subsidy, crime, census, project CASCADE;
DROP TYPE IF EXISTS project_status;

-- Helpers live in pg_temp: they vanish with the session and are never served.
-- Simple SQL functions like these get inlined, so they cost little per row.

-- rnd(i, salt): a pseudo-random double in [0, 1), fixed for each (i, salt).
CREATE FUNCTION pg_temp.rnd(i bigint, salt integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8extended(i, salt) & 2147483647)::double precision / 2147483648 $$;

-- pick(a, i, salt): one element of a, chosen by rnd(i, salt).
CREATE FUNCTION pg_temp.pick(a text[], i bigint, salt integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT a[1 + floor(pg_temp.rnd(i, salt) * cardinality(a))::integer] $$;

-- Rough centre of each of DC's eight wards, so coordinates cluster by ward.
CREATE FUNCTION pg_temp.ward_lat(w integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY[38.925, 38.905, 38.945, 38.960, 38.925, 38.885, 38.890, 38.845])[w]::double precision $$;
CREATE FUNCTION pg_temp.ward_lon(w integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY[-77.030, -77.040, -77.075, -77.025, -76.985, -77.000, -76.940, -76.995])[w]::double precision $$;

CREATE TYPE project_status AS ENUM ('planned', 'under_construction', 'completed');

-------------------------------------------------------------------- project
CREATE TABLE project (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    address          text,
    ward             smallint CHECK (ward BETWEEN 1 AND 8),
    status           project_status,
    units            integer,
    affordable_units integer,
    latitude         double precision,
    longitude        double precision,
    opened           date,
    updated_at       timestamptz,
    notes            text
);

INSERT INTO project (id, name, address, ward, status, units, affordable_units,
                     latitude, longitude, opened, updated_at, notes)
OVERRIDING SYSTEM VALUE
SELECT g,
       pg_temp.pick(ARRAY['Anacostia', 'Benning', 'Brookland', 'Columbia Heights',
                          'Congress Heights', 'Deanwood', 'Eckington', 'Fort Totten',
                          'Georgetown', 'Petworth', 'Shaw', 'Navy Yard', 'Trinidad',
                          'Takoma', 'Woodley Park', 'Adams Morgan', 'Bloomingdale',
                          'LeDroit Park', 'Kenilworth', 'Hillcrest', 'Marshall Heights',
                          'Mount Pleasant', 'Park View', 'Southwest Waterfront',
                          'Fort Dupont', 'Barry Farm', 'Carver Langston', 'Ivy City',
                          'Edgewood', 'Brightwood'], g, 1)
         || ' ' ||
       pg_temp.pick(ARRAY['Apartments', 'Commons', 'Gardens', 'Terrace', 'Plaza',
                          'Residences', 'Court', 'Place', 'Senior Housing', 'Lofts',
                          'Village', 'Towers'], g, 2)
         || CASE WHEN pg_temp.rnd(g, 3) < 0.3
                 THEN ' Phase ' || (2 + floor(pg_temp.rnd(g, 4) * 3))::integer
                 ELSE '' END,
       CASE WHEN pg_temp.rnd(g, 5) < 0.03 THEN NULL
            ELSE (100 + floor(pg_temp.rnd(g, 6) * 4900))::integer || ' ' ||
                 pg_temp.pick(ARRAY['Florida Ave', 'Georgia Ave', 'Benning Rd', 'Minnesota Ave',
                                    'Rhode Island Ave', 'Martin Luther King Jr Ave',
                                    'Pennsylvania Ave', '14th St', 'U St', 'H St',
                                    'Good Hope Rd', 'Alabama Ave', 'Connecticut Ave',
                                    'Wisconsin Ave', 'New York Ave', 'Kennedy St'], g, 7)
                 -- the quadrant that most of the ward lies in
                 || ' ' || (ARRAY['NW', 'NW', 'NW', 'NW', 'NE', 'SE', 'NE', 'SE'])[w]
       END,
       w,
       CASE WHEN s < 0.6 THEN 'completed'
            WHEN s < 0.8 THEN 'under_construction'
            ELSE 'planned' END::project_status,
       u,
       CASE WHEN a < 0.25 THEN u
            WHEN a < 0.40 THEN 0
            ELSE floor(u * pg_temp.rnd(g, 11))::integer END,
       round((pg_temp.ward_lat(w) + (pg_temp.rnd(g, 12) - 0.5) * 0.03)::numeric, 6)::double precision,
       round((pg_temp.ward_lon(w) + (pg_temp.rnd(g, 13) - 0.5) * 0.03)::numeric, 6)::double precision,
       CASE WHEN s < 0.6 THEN date '1975-01-01' + floor(pg_temp.rnd(g, 14) * 17896)::integer END,
       timestamptz '2024-01-01 00:00:00+00' + floor(pg_temp.rnd(g, 15) * 31536000) * interval '1 second',
       CASE
         -- Project 42 is the one the demo fetches: it has every kind of
         -- character a JSON encoder must escape.
         WHEN g = 42 THEN
           E'Tenants\' association: "we were here first" \u2014 r\u00e9sum\u00e9 of issues:\n'
           || E'\t1. leaky roof\n\t2. flooding in C:\\boiler\\room\r\n'
           || E'Contact: Se\u00f1ora N\u00fa\u00f1ez \U0001F3E0; legacy field sep\x1fend; bell\x07; form\ffeed'
         WHEN pg_temp.rnd(g, 16) < 0.15 THEN
           pg_temp.pick(ARRAY[
             E'Residents call it "the blue building".',
             E'Scanned file at S:\\DHCD\\projects\\intake.pdf',
             E'Roof replaced 2019.\nElevator still out of service.',
             E'Columns from legacy import:\tA\tB\tC',
             'Managed by Peña & Peña — bilingual leasing office',
             'Résidence des Fleurs, formerly a café',
             'Family-sized units 🏠 with a playground',
             E'Quote from the ANC: "No more \\"luxury\\" towers"',
             'Near the Metro — 5 min walk',
             E'Line one\nLine two\nLine three',
             'Plain note without anything special',
             'Año de construcción: 1962 — renovated 2008 🏠🏠'
           ], g, 17)
       END
FROM generate_series(1, 5000) AS g
CROSS JOIN LATERAL (
    SELECT (1 + floor(pg_temp.rnd(g, 9) * 8))::smallint AS w,
           pg_temp.rnd(g, 10) AS s,
           pg_temp.rnd(g, 18) AS a,
           (4 + floor(power(pg_temp.rnd(g, 19), 2.5) * 396))::integer AS u
) AS r;

-- Inserting explicit ids does not move the identity sequence.
ALTER TABLE project ALTER COLUMN id RESTART WITH 5001;

COMMENT ON TABLE project IS 'Affordable and market-rate housing projects tracked by the city.';
COMMENT ON COLUMN project.ward IS 'City council ward, 1 to 8.';
COMMENT ON COLUMN project.affordable_units IS 'Units reserved for households at or below 80% of area median income.';
COMMENT ON COLUMN project.opened IS 'Date the first units were occupied; NULL until completed.';
COMMENT ON COLUMN project.notes IS 'Free text from case workers (may contain anything).';

----------------------------------------------------------- building_permits
-- A million rows: constraints and indexes are added after the load, which is
-- much faster than maintaining them (and checking the foreign key) per row.
CREATE TABLE building_permits (
    id            bigint NOT NULL,
    project_id    integer,
    permit_number text NOT NULL,
    permit_type   text,
    issued        date,
    fee           numeric(12,2),
    description   text,
    approved      boolean,
    details       jsonb
);

INSERT INTO building_permits
SELECT g,
       CASE WHEN pg_temp.rnd(g, 101) < 0.9 THEN 1 + floor(pg_temp.rnd(g, 102) * 5000)::integer END,
       'B' || to_char(issued, 'YY') || lpad(g::text, 7, '0'),
       pg_temp.pick(ARRAY['New Construction', 'Alteration and Repair', 'Demolition',
                          'Electrical', 'Plumbing', 'Mechanical', 'Fence', 'Sign',
                          'Excavation', 'Tenant Layout'], g, 103),
       issued,
       round((25 + power(pg_temp.rnd(g, 104), 3) * 75000)::numeric, 2),
       pg_temp.pick(ARRAY['Interior renovation of', 'Install new HVAC in', 'Replace roof on',
                          'Build addition to', 'Demolish', 'Upgrade electrical service for',
                          'New plumbing fixtures in', 'Erect fence around',
                          'Excavate foundation for', 'Install signage on'], g, 105)
         || ' ' || pg_temp.pick(ARRAY['unit', 'building', 'rowhouse', 'garage', 'storefront',
                                      'basement', 'floor'], g, 106)
         || ' #' || (1 + floor(pg_temp.rnd(g, 107) * 40))::integer,
       CASE WHEN ap < 0.02 THEN NULL ELSE ap < 0.88 END,
       jsonb_build_object(
         'inspections', floor(pg_temp.rnd(g, 109) * 6)::integer,
         'inspector', pg_temp.pick(ARRAY['J. Smith', 'A. Johnson', 'José Núñez', 'M. Chen',
                                         'K. Williams', 'R. Okafor'], g, 110),
         'square_feet', 100 + floor(pg_temp.rnd(g, 111) * 20000)::integer,
         'expedited', pg_temp.rnd(g, 112) < 0.1)
FROM generate_series(1, 1000000) AS g
CROSS JOIN LATERAL (
    SELECT date '2005-01-01' + floor(pg_temp.rnd(g, 100) * 7300)::integer AS issued,
           pg_temp.rnd(g, 108) AS ap
) AS r;

ALTER TABLE building_permits
    ADD PRIMARY KEY (id),
    ADD UNIQUE (permit_number),
    ADD FOREIGN KEY (project_id) REFERENCES project (id);
CREATE INDEX building_permits_project_id_idx ON building_permits (project_id);
CREATE INDEX building_permits_issued_idx ON building_permits (issued);

COMMENT ON TABLE building_permits IS 'Building permits issued by the city, one row per permit.';
COMMENT ON COLUMN building_permits.fee IS 'Permit fee in US dollars.';
COMMENT ON COLUMN building_permits.approved IS 'NULL while the application is pending.';
COMMENT ON COLUMN building_permits.details IS 'Inspection data as a small JSON object.';

-------------------------------------------------------------------- subsidy
CREATE TABLE subsidy (
    id              serial PRIMARY KEY,
    project_id      integer NOT NULL REFERENCES project (id),
    program         text,
    amount          numeric(14,2),
    start_date      date,
    end_date        date,
    funding_sources text[]
);

-- Sources include a comma and double quotes, to exercise array output.
INSERT INTO subsidy (project_id, program, amount, start_date, end_date, funding_sources)
SELECT 1 + floor(pg_temp.rnd(g, 201) * 5000)::integer,
       pg_temp.pick(ARRAY['LIHTC', 'HOME', 'CDBG', 'Housing Production Trust Fund',
                          'Section 8 Project-Based', 'Local Rent Supplement Program',
                          'HUD 202', 'Tax Abatement'], g, 202),
       round((50000 + power(pg_temp.rnd(g, 203), 2) * 20000000)::numeric, 2),
       start_date,
       CASE WHEN pg_temp.rnd(g, 204) < 0.2 THEN NULL
            ELSE start_date + (5 + floor(pg_temp.rnd(g, 205) * 35))::integer * 365 END,
       CASE WHEN pg_temp.rnd(g, 206) < 0.05 THEN NULL
            ELSE (src || src)[k : k + floor(pg_temp.rnd(g, 208) * 3)::integer] END
FROM generate_series(1, 20000) AS g
CROSS JOIN LATERAL (
    SELECT date '1990-01-01' + floor(pg_temp.rnd(g, 200) * 12000)::integer AS start_date,
           1 + floor(pg_temp.rnd(g, 207) * 8)::integer AS k,
           ARRAY['Federal', 'DC Housing Production Trust Fund', 'LIHTC 9%', 'LIHTC 4%',
                 'Private Equity', 'DC "Green" Bond', 'Bank Loan, Tier 2',
                 'Philanthropy'] AS src
) AS r
ORDER BY g;

-- Embedding a project's subsidies looks them up by project_id.
CREATE INDEX subsidy_project_id_idx ON subsidy (project_id);

COMMENT ON TABLE subsidy IS 'Public subsidies awarded to projects.';
COMMENT ON COLUMN subsidy.end_date IS 'NULL for open-ended awards.';

---------------------------------------------------------------------- crime
CREATE TABLE crime (
    id          bigint PRIMARY KEY,
    project_id  integer REFERENCES project (id),
    offense     text,
    reported_at timestamptz,
    ward        smallint,
    latitude    double precision,
    longitude   double precision
);

-- Incidents tied to a project happen near it, in its ward.
INSERT INTO crime
SELECT b.g,
       b.pid,
       pg_temp.pick(ARRAY['THEFT/OTHER', 'THEFT/OTHER', 'THEFT/OTHER', 'THEFT/OTHER',
                          'THEFT F/AUTO', 'THEFT F/AUTO', 'THEFT F/AUTO',
                          'MOTOR VEHICLE THEFT', 'MOTOR VEHICLE THEFT', 'ROBBERY',
                          'BURGLARY', 'ASSAULT W/DANGEROUS WEAPON', 'SEX ABUSE',
                          'ARSON', 'HOMICIDE'], b.g, 303),
       timestamptz '2015-01-01 00:00:00+00'
         + floor(pg_temp.rnd(b.g, 304) * 9 * 365 * 86400) * interval '1 second',
       coalesce(p.ward, b.w),
       round((coalesce(p.latitude, pg_temp.ward_lat(b.w))
              + (pg_temp.rnd(b.g, 305) - 0.5) * 0.01)::numeric, 6)::double precision,
       round((coalesce(p.longitude, pg_temp.ward_lon(b.w))
              + (pg_temp.rnd(b.g, 306) - 0.5) * 0.01)::numeric, 6)::double precision
FROM (SELECT g,
             CASE WHEN pg_temp.rnd(g, 301) < 0.3
                  THEN 1 + floor(pg_temp.rnd(g, 302) * 5000)::integer END AS pid,
             (1 + floor(pg_temp.rnd(g, 307) * 8))::smallint AS w
      FROM generate_series(1, 100000) AS g) AS b
LEFT JOIN project p ON p.id = b.pid;

CREATE INDEX crime_project_id_idx ON crime (project_id);

COMMENT ON TABLE crime IS 'Reported crime incidents, some tied to a housing project.';

--------------------------------------------------------------------- census
CREATE TABLE census (
    tract         text PRIMARY KEY,
    ward          smallint,
    population    integer,
    median_income numeric
);

INSERT INTO census
SELECT lpad((g * 100 + floor(pg_temp.rnd(g, 401) * 3))::integer::text, 6, '0'),
       (1 + (g - 1) / 25)::smallint,
       1200 + floor(pg_temp.rnd(g, 402) * 6800)::integer,
       CASE WHEN pg_temp.rnd(g, 403) < 0.03 THEN NULL   -- suppressed, too few households
            ELSE round((25000 + power(pg_temp.rnd(g, 404), 1.5) * 225000)::numeric, -2) END
FROM generate_series(1, 200) AS g;

COMMENT ON TABLE census IS 'Census tracts with population and median household income.';
COMMENT ON COLUMN census.median_income IS 'US dollars; NULL where suppressed.';

---------------------------------------------------------------------- views
CREATE VIEW project_summary AS
SELECT id, name, ward, units, affordable_units,
       round(affordable_units::numeric / nullif(units, 0), 3) AS affordable_share
FROM project;

COMMENT ON VIEW project_summary IS 'Each project with the share of its units that is affordable.';

CREATE MATERIALIZED VIEW ward_stats AS
SELECT ward, count(*) AS projects, sum(units) AS total_units
FROM project
GROUP BY ward
ORDER BY ward;

COMMENT ON MATERIALIZED VIEW ward_stats IS 'Projects and units per ward.';

---------------------------------------------------------------------- access
-- The role the demo's httpd connects as: read-only. Roles are cluster-wide,
-- so it may already exist when the database is loaded again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'autorest_demo') THEN
        CREATE ROLE autorest_demo LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO autorest_demo;
-- ALL TABLES covers the views and the materialized view too.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO autorest_demo;

COMMIT;

-- Outside the transaction: VACUUM sets hint bits and the visibility map, so
-- the first API requests neither write nor miss index-only scans.
VACUUM (ANALYZE);
