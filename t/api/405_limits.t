# 405_limits.t: the bounds an admin puts on one request (issue 13, point 7).
# /bounded (t/conf/extra.conf.in) allows 2 levels of and/or and of embedding, 3
# filters, 4 select items and 64 bytes per URL part; /api keeps the defaults (8,
# 100, 200, 4096). Past a bound is 400 JSON: AR108 for depth, AR121 for the rest,
# the hint naming the directive; at the bound the request is served. Then
# AutoRestTimeout per role on the roles host: /timed gives 1 s, alice 4 s.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use ARTest;

plan tests => 21;

# bounded(NAME, QUERY, STATUS, CODE, HINT): GET /bounded/people?QUERY is that error
# (or, with STATUS 200, served), the hint naming HINT.
sub bounded {
    my ($name, $path, $status, $code, $hint) = @_;
    my $res = req(GET => $path);
    if ($status == 200) {
        ok($res->code == 200, $name) or diag($res->code . ' ' . body_of($res));
        return;
    }
    my $j = decode_body($res) || {};
    ok(check_error($res, $status, $code) && ($j->{hint} // '') =~ /\Q$hint\E/, $name)
        or diag(body_of($res));
}

bounded('three filters, and/or two deep: served', '/bounded/people?or=(id.eq.1,and(id.eq.2,active.is.true))',
    200);
bounded('four filters: 400 AR121', '/bounded/people?id=gt.0&active=is.true&name=neq.x&born=is.null',
    400, 'AR121', 'AutoRestMaxFilters');
bounded('and/or three deep: 400 AR108', '/bounded/people?or=(id.eq.1,and(active.is.true,or(id.eq.2)))',
    400, 'AR108', 'AutoRestMaxDepth');
bounded('four select items, an embed and its two among them: served',
    '/bounded/people?select=id,teams!people_team_id_fkey(id,name)',
    200);
bounded('five select items: 400 AR121', '/bounded/people?select=id,name,email,born,active',
    400, 'AR121', 'AutoRestMaxSelect');
bounded('embedding three deep: 400 AR108', '/bounded/teams?select=people(teams(people(id)))',
    400, 'AR108', 'AutoRestMaxDepth');
bounded('a name=value of 65 bytes: 400 AR121', '/bounded/people?name=eq.' . ('x' x 57),
    400, 'AR121', 'AutoRestMaxUrlPart');
bounded('a name=value of 64 bytes: served', '/bounded/people?name=eq.' . ('x' x 56), 200);
bounded('a path segment of 70 bytes: 400 AR121, not 404', '/bounded/' . ('p' x 70),
    400, 'AR121', 'AutoRestMaxUrlPart');
# the bound holds before the filters are read: no row, no statement
{
    my $res = req(GET => '/bounded/no_such_relation?a=eq.1&b=eq.2&c=eq.3&d=eq.4');
    ok(check_error($res, 400, 'AR121'), 'too many filters on an unknown relation: the bound first');
}

# the defaults at /api
my $hundred = join '&', map { "id=neq.$_" } 1 .. 100;
bounded('100 filters at /api (the default): served', "/api/people?$hundred", 200);
bounded('101 filters at /api: 400 AR121', "/api/people?$hundred&id=neq.101",
    400, 'AR121', 'AutoRestMaxFilters');
bounded('200 select items at /api: served', '/api/people?select=' . join(',', ('id') x 200), 200);
bounded('201 select items at /api: 400 AR121', '/api/people?select=' . join(',', ('id') x 201),
    400, 'AR121', 'AutoRestMaxSelect');
bounded('a 4096-byte name=value at /api: served', '/api/people?name=eq.' . ('x' x 4088), 200);
bounded('a 4097-byte name=value at /api: 400 AR121', '/api/people?name=eq.' . ('x' x 4089),
    400, 'AR121', 'AutoRestMaxUrlPart');
bounded('and/or eight deep at /api: served',
    '/api/people?or=(' . ('and(' x 7) . 'id.eq.1' . (')' x 7) . ')', 200);

# AutoRestTimeout N role: bob has the Location's 1 s, alice her 4 s
Apache::TestRequest::module('roles');
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
{
    my $res = req(GET => '/timed/rpc/nap?seconds=1.5', as('bob'));
    ok(check_error($res, 504, '57014'), 'bob, a 1.5 s call under the 1 s of the Location: 504 57014');
    $res = req(GET => '/timed/rpc/nap?seconds=1.5', as('alice'));
    ok($res->code == 200 && body_of($res) eq '1', 'alice, the same call under her 4 s: 200')
        or diag($res->code . ' ' . body_of($res));
    $res = req(GET => '/timed/rpc/nap?seconds=0.1', as('bob'));
    ok($res->code == 200, 'bob, a short call: 200 (the timeout is the request\'s, not the connection\'s)')
        or diag($res->code . ' ' . body_of($res));
    # a pooled connection alice's request used keeps no 4 s for the next caller
    for (1 .. 2) {
        req(GET => '/timed/rpc/nap?seconds=0', as('alice'));
    }
    $res = req(GET => '/timed/rpc/nap?seconds=1.5', as('bob'));
    ok(check_error($res, 504, '57014'), 'bob after alice on the pool of 2: still 1 s');
}
