-- R2: the 1,000 rows of GET /r/rpc/bench_permits?first_id=1, as a plain call (-M prepared).
\set first_id 1
SELECT * FROM bench_permits(:first_id);
