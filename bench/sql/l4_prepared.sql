-- L4: one row by primary key, a random id per transaction (run with -M prepared).
\set id random(1, 1000000)
SELECT * FROM building_permits WHERE id = :id;
