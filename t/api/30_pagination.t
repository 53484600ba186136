# 30_pagination.t: limit/offset parameters, Range/Range-Unit request headers,
# Content-Range (a-b/*, a-b/total on the last page, */* past the end, */0 for an
# empty table), Range-Unit: items, Link rel="next"/"first"/"prev", and the row
# caps: 1000 by default (/api), 5 (/capped), none (/nocap). Table many has ids 1..2500.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 68;

# ids of a response's rows, as "first..last (count)" or a short list
sub ids {
    my $res = shift;
    my $rows = decode_body($res);
    return 'not an array' unless ref $rows eq 'ARRAY';
    return '[]' unless @$rows;
    my @ids = map { ref $_ eq 'HASH' ? $_->{id} // 'null' : 'not an object' } @$rows;
    # contiguous ascending runs are shown as a..b
    my $contig = 1;
    for my $i (1 .. $#ids) { $contig = 0 unless $ids[$i] =~ /^\d+$/ && $ids[$i - 1] =~ /^\d+$/ && $ids[$i] == $ids[$i - 1] + 1 }
    return $contig ? "$ids[0]..$ids[-1]" : join(',', @ids[0 .. ($#ids > 20 ? 20 : $#ids)]);
}
sub count { my $r = decode_body(shift); ref $r eq 'ARRAY' ? scalar @$r : -1 }
sub cr { shift->header('Content-Range') // 'none' }

# --- limit / offset
my $r = req(GET => '/api/many?limit=10');
is($r->code, 200, 'limit=10: 200');
is(ids($r), '1..10', 'limit=10: ids 1..10');
is(cr($r), '0-9/*', 'limit=10: Content-Range 0-9/*');
is($r->header('Range-Unit'), 'items', 'Range-Unit: items');
my $l = links($r);
# rel="next" continues by keyset cursor (issue 4): limit kept, a cursor, no offset;
# following it gives the next page with its position in Content-Range.
my ($np0, $nq0) = query_of($l->{next});
ok($np0 eq '/api/many' && ($nq0->{limit} // '') eq '10' && defined $nq0->{cursor} && !defined $nq0->{offset},
   'Link rel="next" is /api/many?limit=10&cursor=...') or diag('next: ' . ($l->{next} // 'none'));
my $n0 = req(GET => $l->{next});
is(ids($n0) . ' ' . cr($n0), '11..20 10-19/*', 'following it: ids 11..20, Content-Range 10-19/*');
ok(!exists $l->{prev} && !exists $l->{first}, 'no rel="prev"/"first" at offset 0');
ok(ct_ok($r), 'pages are application/json; charset=utf-8');

$r = req(GET => '/api/many?limit=10&offset=20');
is($r->code, 200, 'limit=10&offset=20: 200');
is(ids($r), '21..30', 'limit=10&offset=20: ids 21..30');
is(cr($r), '20-29/*', 'limit=10&offset=20: Content-Range 20-29/*');
$l = links($r);
my ($np, $nq) = query_of($l->{next});
is(ids(req(GET => $l->{next})) . " $np " . ($nq->{limit} // '-'), '31..40 /api/many 10', 'next: limit 10, on to ids 31..40');
my ($pp, $pq) = query_of($l->{prev});
is("$pp " . ($pq->{limit} // '-') . ' ' . ($pq->{offset} // '-'), '/api/many 10 10', 'prev: limit 10, offset 10');
my ($fp, $fq) = query_of($l->{first});
ok(defined $l->{first} && $fp eq '/api/many' && ($fq->{limit} // '') eq '10' && ($fq->{offset} // '0') eq '0',
    'first: limit 10, offset 0 (or none)') or diag('first: ' . ($l->{first} // 'none'));

$r = req(GET => '/api/many?limit=10&offset=5');
($pp, $pq) = query_of(links($r)->{prev});
ok(defined links($r)->{prev} && ($pq->{offset} // '0') eq '0' && ($pq->{limit} // '') eq '10',
    'prev of offset 5 with limit 10 starts at 0') or diag('prev: ' . (links($r)->{prev} // 'none'));
is(ids($r), '6..15', 'offset=5: ids 6..15');

$r = req(GET => '/api/many?offset=10&limit=3');
is(ids($r), '11..13', 'parameters in either order');

# --- the last page: the total is known
$r = req(GET => '/api/many?limit=10&offset=2490');
is(ids($r), '2491..2500', 'last page: ids 2491..2500');
is(cr($r), '2490-2499/2500', 'last page: Content-Range 2490-2499/2500');
$l = links($r);
ok(!exists $l->{next}, 'last page: no rel="next"');
ok(exists $l->{prev} && exists $l->{first}, 'last page: rel="prev" and rel="first"');

$r = req(GET => '/api/many?offset=2490');
is(ids($r), '2491..2500', 'offset=2490 without limit: ids 2491..2500');
is(cr($r), '2490-2499/2500', 'offset=2490 without limit: Content-Range 2490-2499/2500');
ok(!exists links($r)->{next}, 'offset=2490 without limit: no rel="next"');

$r = req(GET => '/api/many?limit=5&offset=2495');
is(cr($r), '2495-2499/2500', 'a page ending exactly at the last row knows the total');
ok(!exists links($r)->{next}, 'a page ending exactly at the last row has no rel="next"');

$r = req(GET => '/api/many?limit=10&offset=2495');
is(cr($r), '2495-2499/2500', 'a short last page: Content-Range 2495-2499/2500');

# --- past the end, empty table, limit=0
$r = req(GET => '/api/many?offset=2500');
is($r->code, 200, 'offset past the end: 200');
is(body_of($r) =~ s/\s+//gr, '[]', 'offset past the end: []');
is(cr($r), '*/*', 'offset past the end: Content-Range */*');
ok(!exists links($r)->{next}, 'offset past the end: no rel="next"');

$r = req(GET => '/api/many?offset=100000&limit=10');
is($r->code . ' ' . (body_of($r) =~ s/\s+//gr) . ' ' . cr($r), '200 [] */*', 'far past the end: 200 [] */*');

$r = req(GET => '/api/empty_things');
is(cr($r), '*/0', 'empty table: Content-Range */0');
ok(!exists links($r)->{next}, 'empty table: no rel="next"');

$r = req(GET => '/api/many?limit=0');
is($r->code, 200, 'limit=0: 200');
is(body_of($r) =~ s/\s+//gr, '[]', 'limit=0: []');

# --- Range header
$r = req(GET => '/api/many', Range => '0-9');
ok($r->code == 200 || $r->code == 206, 'Range: 0-9 is 200 (or 206)') or diag('status ' . $r->code);
is(ids($r), '1..10', 'Range: 0-9: ids 1..10');
is(cr($r), '0-9/*', 'Range: 0-9: Content-Range 0-9/*');
is($r->header('Range-Unit'), 'items', 'Range: 0-9: Range-Unit items');

$r = req(GET => '/api/many', Range => '0-9', 'Range-Unit' => 'items');
is(ids($r) . ' ' . cr($r), '1..10 0-9/*', 'Range: 0-9 with Range-Unit: items');

$r = req(GET => '/api/many', Range => '100-104');
is(ids($r) . ' ' . cr($r), '101..105 100-104/*', 'Range: 100-104');

$r = req(GET => '/api/many', Range => '10-');
ok($r->code == 200 || $r->code == 206, 'Range: 10- is 200 (or 206)');
is(ids($r), '11..1010', 'Range: 10- is open-ended, up to the default cap of 1000 rows');
is(cr($r), '10-1009/*', 'Range: 10-: Content-Range 10-1009/*');

$r = req(GET => '/api/many', Range => '2495-');
is(ids($r) . ' ' . cr($r), '2496..2500 2495-2499/2500', 'Range: 2495- reaches the end: total known');

$r = req(GET => '/api/many', Range => '2490-2509');
is(ids($r) . ' ' . cr($r), '2491..2500 2490-2499/2500', 'Range past the end is cut at the last row');

# --- caps
$r = req(GET => '/api/many');
is(count($r), 1000, '/api/many without parameters: the default cap, 1000 rows');
is(ids($r) . ' ' . cr($r), '1..1000 0-999/*', '/api/many: ids 1..1000, Content-Range 0-999/*');
($np, $nq) = query_of(links($r)->{next});
ok(defined $np && $np eq '/api/many' && cr(req(GET => links($r)->{next})) eq '1000-1999/*',
    '/api/many: rel="next" continues at row 1000') or diag('next: ' . (links($r)->{next} // 'none'));

$r = req(GET => '/api/many?limit=5000');
is(count($r), 1000, '/api/many?limit=5000 is capped at 1000 rows');

$r = req(GET => '/capped/many');
is(count($r), 5, '/capped/many: 5 rows (AutoRestMaxRows 5)');
is(ids($r) . ' ' . cr($r), '1..5 0-4/*', '/capped/many: ids 1..5, Content-Range 0-4/*');
($np, $nq) = query_of(links($r)->{next});
ok(defined $np && $np eq '/capped/many' && ids(req(GET => links($r)->{next})) eq '6..10',
    '/capped/many: rel="next" goes on to ids 6..10, under /capped') or diag('next: ' . (links($r)->{next} // 'none'));

$r = req(GET => '/capped/many?limit=100');
ok(count($r) >= 0 && count($r) <= 5, '/capped/many?limit=100: at most 5 rows') or diag('count ' . count($r));
ok(exists links($r)->{next}, '/capped/many?limit=100: rel="next"');

$r = req(GET => '/capped/many?limit=3&offset=10');
is(ids($r) . ' ' . cr($r), '11..13 10-12/*', 'a limit below the cap is honoured');

$r = req(GET => '/capped/many', Range => '0-99');
is(count($r), 5, 'a Range wider than the cap is capped');

$r = req(GET => '/nocap/many');
is(count($r), 2500, '/nocap/many: all 2500 rows (AutoRestMaxRows 0)');
is(ids($r), '1..2500', '/nocap/many: ids 1..2500 in order');
is(cr($r), '0-2499/2500', '/nocap/many: Content-Range 0-2499/2500');
ok(!exists links($r)->{next}, '/nocap/many: no rel="next"');

$r = req(GET => '/nocap/many?limit=2000&offset=100');
is(ids($r) . ' ' . cr($r), '101..2100 100-2099/*', '/nocap: a large limit is honoured');

# --- following rel="next" walks the whole table exactly once
my ($url, @all, $hops) = ('/api/many?limit=700');
while (defined $url && ++$hops <= 10) {
    my $page = req(GET => $url);
    last unless $page->code == 200;
    my $rows = decode_body($page);
    push @all, map { $_->{id} } @{ ref $rows eq 'ARRAY' ? $rows : [] };
    $url = links($page)->{next};
}
is($hops, 4, 'four pages of 700 cover 2500 rows');
is(join(',', @all), join(',', 1 .. 2500), 'following rel="next" yields ids 1..2500 once each, in order');

$url = '/capped/many';
@all = ();
$hops = 0;
while (defined $url && ++$hops <= 5) {
    my $page = req(GET => $url);
    my $rows = decode_body($page);
    push @all, map { $_->{id} } @{ ref $rows eq 'ARRAY' ? $rows : [] };
    $url = links($page)->{next};
}
is(join(',', @all), '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25',
    'following rel="next" under /capped goes on 5 rows at a time');

# --- the same on a table whose order is not a key
$r = req(GET => '/api/no_keys?limit=2&offset=4');
is(cr($r), '4-4/5', 'no-key table, last page: Content-Range 4-4/5');
is(count($r), 1, 'no-key table, last page: 1 row');
