-- L3: the rows of /api/building_permits?issued=gte.2023-01-01&order=issued.desc&limit=50
-- (the module adds the primary key as a tie-breaker, so the same order is written here).
SELECT * FROM building_permits WHERE issued >= '2023-01-01' ORDER BY issued DESC, id LIMIT 50;
