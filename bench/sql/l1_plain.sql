-- L1, the physical limit: the same 100 rows as a plain SELECT in text, no JSON.
SELECT * FROM building_permits ORDER BY id LIMIT 100;
