-- R1: the function call the module makes for GET /r/rpc/bench_add?a=1&b=2 (-M prepared).
\set a 1
\set b 2
SELECT bench_add(:a, :b);
