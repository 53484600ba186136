-- demo/calls.sql: functions the demo serves under /rpc/, loaded on every start after
-- writes.sql (idempotent). /api serves the STABLE ones (AutoRestRPC read), /rw every
-- one (AutoRestRPC all): log_visit writes a site_visit and answers with it.

-- a report: one row per status of a ward's projects
CREATE OR REPLACE FUNCTION ward_report(ward int)
RETURNS TABLE (status text, projects bigint, units bigint)
LANGUAGE sql STABLE AS $$
    SELECT p.status::text, count(*), sum(p.units)
    FROM project p WHERE p.ward = ward_report.ward
    GROUP BY p.status ORDER BY p.status
$$;
COMMENT ON FUNCTION ward_report(int) IS 'Projects and units of a ward, by status';

-- rows of a table: takes select= (with embedding), filters, order, limit
CREATE OR REPLACE FUNCTION large_projects(min_units int DEFAULT 200)
RETURNS SETOF project
LANGUAGE sql STABLE AS $$
    SELECT * FROM project WHERE units >= min_units ORDER BY units DESC
$$;

-- a scalar, with a default
CREATE OR REPLACE FUNCTION permits_since(since date DEFAULT '2020-01-01')
RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM building_permits WHERE issued >= since $$;

-- a change that checks a rule: only projects that exist and are not completed
CREATE OR REPLACE FUNCTION log_visit(project_id int, inspector text, rating int DEFAULT NULL)
RETURNS site_visit
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    visit site_visit;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM project p WHERE p.id = log_visit.project_id) THEN
        RAISE EXCEPTION 'no project %', log_visit.project_id USING HINT = 'see /api/project';
    END IF;
    INSERT INTO site_visit (project_id, inspector, rating)
    VALUES (log_visit.project_id, log_visit.inspector, log_visit.rating)
    RETURNING * INTO visit;
    RETURN visit;
END $$;
