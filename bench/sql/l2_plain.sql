-- L2, the physical limit: the same 1,000 rows as a plain SELECT in text, no JSON.
SELECT * FROM building_permits ORDER BY id LIMIT 1000;
