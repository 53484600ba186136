# 409_plan.t: Accept: application/vnd.pgrst.plan (issue 14, point 5): where the Location
# sets AutoRestPlan On (/planned), a read answers PostgreSQL's EXPLAIN of the very
# statement it would run, as text (+text, or no suffix) or JSON (+json), with
# options=analyze|verbose|... as EXPLAIN's options (only those). The plan shows the
# request's filter and limit; ANALYZE's actual figures appear only when asked. /api
# (no directive) answers 406 AR401; a write asking for a plan is 406 too. A call
# (/r_planned) answers its statement's plan, in a READ ONLY transaction: ANALYZE of a
# function that writes is refused, and nothing is written; a procedure has none (406).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use ARTest;

plan tests => 18;

my $TEXT = 'application/vnd.pgrst.plan';
my $JSONP = 'application/vnd.pgrst.plan+json';
sub ct { $_[0]->header('Content-Type') // 'none' }

my $r = req(GET => '/planned/people?select=id,name&name=eq.Alice&limit=3', Accept => $TEXT);
my $b = body_of($r);
ok($r->code == 200 && ct($r) =~ m{^application/vnd\.pgrst\.plan\+text; for="application/json"},
   'a text plan, typed as PostgREST types it') or diag($r->code . ' ' . ct($r) . ' ' . $b);
like($b, qr/^Limit\b.*\n/s, '... its first node is the Limit of the page');
like($b, qr/people/, '... it reads people');
like($b, qr/Filter: .*name.*Alice|Index Cond: .*name.*Alice/s, '... with the request\'s filter, its value bound');
unlike($b, qr/actual time/, '... no ANALYZE unless asked');

$r = req(GET => '/planned/people?select=id&order=id', Accept => "$TEXT; options=analyze");
like(body_of($r), qr/actual time=.*\n.*Execution Time/s, 'options=analyze: the actual figures');

$r = req(GET => '/planned/people?select=id,teams!people_team_id_fkey(name)', Accept => $JSONP);
my $j = eval { JSON::PP->new->decode(body_of($r)) };
ok($r->code == 200 && ct($r) =~ m{^application/vnd\.pgrst\.plan\+json}
   && ref $j eq 'ARRAY' && ref $j->[0]{Plan} eq 'HASH',
   '+json: EXPLAIN (FORMAT JSON), a Plan at [0]') or diag($r->code . ' ' . body_of($r));
ok(ref $j eq 'ARRAY' && !exists $j->[0]{'Execution Time'}, '... without ANALYZE\'s figures');

$r = req(GET => '/planned/people', Accept => "$JSONP; options=analyze|verbose|nonsense");
$j = eval { JSON::PP->new->decode(body_of($r)) };
ok(ref $j eq 'ARRAY' && exists $j->[0]{'Execution Time'} && exists $j->[0]{Plan}{Output},
   'analyze|verbose: both, the unknown option left out') or diag(body_of($r));

# --- calls (/r_planned: calls' functions, AutoRestPlan On): the call's statement
$r = req(GET => '/r_planned/rpc/items_over?min_qty=1', Accept => $TEXT);
ok($r->code == 200 && ct($r) =~ m{^application/vnd\.pgrst\.plan\+text} && body_of($r) =~ /items/,
   'a STABLE function by GET: its statement\'s plan') or diag($r->code . ' ' . body_of($r));
my $qty = psql('SELECT qty FROM calls.items WHERE id = 1');
$r = req(POST => '/r_planned/rpc/bump', Accept => $TEXT, 'Content-Type' => 'application/json',
         Content => '{"item_id":1}');
ok($r->code == 200 && body_of($r) =~ /Result|Scan/, 'a VOLATILE function by POST: a plan (EXPLAIN does not run it)')
    or diag($r->code . ' ' . body_of($r));
$r = req(POST => '/r_planned/rpc/bump', Accept => "$TEXT; options=analyze", 'Content-Type' => 'application/json',
         Content => '{"item_id":1}');
ok(check_error($r, 405, '25006'), '... with ANALYZE, which runs it: read-only, so its UPDATE is refused (405 25006)');
is(psql('SELECT qty FROM calls.items WHERE id = 1'), $qty, '... and neither plan wrote anything');
ok(check_error(req(POST => '/r_planned/rpc/log_note', Accept => $TEXT, 'Content-Type' => 'application/json',
                   Content => '{"what":"x"}'), 406, 'AR401'), 'a procedure: its CALL has no plan, 406 AR401');

ok(check_error(req(GET => '/api/people', Accept => $TEXT), 406, 'AR401'),
   'where AutoRestPlan is not On: 406 AR401');
ok(check_error(req(POST => '/planned/people', Accept => $TEXT, 'Content-Type' => 'application/json',
                   Content => '{"name":"x"}'), 406, 'AR401'),
   'a write asking for a plan: 406, and nothing written');
is(psql("SELECT count(*) FROM people WHERE name = 'x'"), 0, '... none');
$r = req(GET => '/planned/people?name=eq.Alice', Accept => "$TEXT;q=0.5, application/json");
is(ct($r) =~ m{^application/json} ? decode_body($r)->[0]{name} : ct($r), 'Alice',
   'a plan preferred less than JSON: the rows');
