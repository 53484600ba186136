# 407_ndjson.t: Accept: application/x-ndjson (issue 14, point 3): one JSON value per
# line, each line ended by "\n", no array around them, for collections (with embeds),
# single rows, function results (rows, one object, a scalar), a write's representation,
# the restless dialect, and a body that streams past the 1 MiB held (no
# Content-Length, every line whole). Each line must equal, as JSON, the element of the
# application/json answer to the same request, and that answer is checked against
# PostgreSQL elsewhere; here the row sets are also compared to psql's.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use ARTest;

plan tests => 21;

my $ND = 'application/x-ndjson';
my $JSON = JSON::PP->new->utf8->canonical->allow_nonref->allow_bignum;

# lines(RES): the body's lines, each decoded, or undef (and why) when the body is not
# lines of JSON each ended by "\n".
sub lines {
    my $res = shift;
    my $body = body_of($res);
    return [] if $body eq '';
    if ($body !~ /\n\z/) {
        diag('the body does not end with a newline: ' . substr($body, -80));
        return undef;
    }
    my @out = split /\n/, $body, -1;
    pop @out;    # the empty string after the last "\n"
    my @values;
    for my $line (@out) {
        my $v = eval { $JSON->decode($line) };
        if ($@) {
            diag("not one JSON value on a line: " . substr($line, 0, 120));
            return undef;
        }
        push @values, $v;
    }
    return \@values;
}
sub canon { $JSON->encode($_[0]) }
# same_as_json(PATH, NAME, HEADERS...): the NDJSON lines of PATH are the elements of
# its application/json answer (or that one value, for a single one).
sub same_as_json {
    my ($path, $name, @h) = @_;
    my $nd = req(GET => $path, Accept => $ND, @h);
    my $js = req(GET => $path, Accept => 'application/json', @h);
    my $l = lines($nd);
    my $j = decode_body($js);
    my $want = ref $j eq 'ARRAY' ? $j : [$j];
    my $ok = $nd->code == $js->code && $l && canon($l) eq canon($want)
        && ($nd->header('Content-Type') // '') =~ m{^application/x-ndjson};
    ok($ok, $name) or diag($nd->code . ' ' . ($nd->header('Content-Type') // '') . ' '
                           . substr(body_of($nd), 0, 300));
    return $nd;
}

my $r = same_as_json('/api/people?order=id', 'a collection: a line per row, as the JSON array');
is(scalar @{ lines($r) || [] }, psql('SELECT count(*) FROM people'), '... one line per row of people');
is(body_of($r) =~ tr/\n//, psql('SELECT count(*) FROM people'), '... and as many newlines');
unlike(body_of($r), qr/^\[|\]\n?\z/, '... no array around them');

same_as_json('/api/people?select=id,name,teams!people_team_id_fkey(name)&order=id',
    'embedded resources stay inside their line');
same_as_json('/api/teams?select=id,people!people_team_id_fkey(id,name)&order=id',
    'an embedded list too');
$r = same_as_json('/api/people?id=eq.-1', 'no rows: an empty body');
is(body_of($r) . '|' . $r->code, '|200', '... 200 and nothing');
$r = same_as_json('/api/people/1', 'one row by key: one line');
is(scalar @{ lines($r) || [] }, 1, '... exactly one');

$r = req(GET => '/api/people?order=id&limit=2', Accept => $ND, Prefer => 'count=exact');
is(($r->header('Content-Range') // '') . ' ' . $r->code,
   '0-1/' . psql('SELECT count(*) FROM people') . ' 206', 'counts and ranges as with JSON');

# functions: rows, one object, one scalar
same_as_json('/r/rpc/squares?n=4', 'a function of a TABLE: a line per row');
same_as_json('/r/rpc/numbers?n=3', 'SETOF int: a value per line');
$r = same_as_json('/r/rpc/add_them?a=2&b=3', 'a scalar: one line');
is(body_of($r), "5\n", '... "5\\n"');
same_as_json('/r/rpc/point', 'a composite: one object on one line');

# a write's representation
$r = req(POST => '/w/items', Accept => $ND, 'Content-Type' => 'application/json',
    Prefer => 'return=representation',
    Content => '[{"id":9701,"name":"nd one"},{"id":9702,"name":"nd two"}]');
my $l = lines($r);
ok($r->code == 201 && $l && join(',', map { "$_->{id}:$_->{name}" } @$l) eq '9701:nd one,9702:nd two'
   && ($r->header('Content-Type') // '') =~ m{^application/x-ndjson},
   'POST with return=representation: a line per written row') or diag($r->code . ' ' . body_of($r));
psql('DELETE FROM writes.items WHERE id IN (9701, 9702)');

# the restless dialect: its objects, without the page's envelope
$r = req(GET => '/restless/people?results_per_page=2', Accept => $ND);
$l = lines($r);
ok($r->code == 200 && $l && @$l == 2 && ref $l->[0] eq 'HASH' && !exists $l->[0]{objects},
   'restless: the objects of the page, a line each, no envelope') or diag(body_of($r));

# streamed: 200 rows of 12 KB, past the 1 MiB held
$r = req(GET => '/api/wide?order=id&limit=200&select=id,payload', Accept => $ND);
$l = lines($r);
ok($r->code == 200 && !defined $r->header('Content-Length') && $l && @$l == 200
   && join(',', map { $_->{id} } @$l) eq join(',', 1 .. 200),
   'a streamed export: no Content-Length, 200 whole lines in order')
    or diag($r->code . ' ' . ($r->header('Content-Length') // 'no length') . ' ' . scalar(@{ $l || [] }));
# (compared decoded, and not printed: 2.4 MB)
ok(canon([map { $_->{payload} } @{ $l || [] }])
   eq canon($JSON->decode(psql("SELECT json_agg(payload ORDER BY id) FROM "
                               . "(SELECT id, payload FROM wide ORDER BY id LIMIT 200) w"))),
   '... each payload exactly PostgreSQL\'s');

ok(check_error(req(GET => '/api/people', Accept => 'application/x-yaml'), 406, 'AR401'),
   'a type not produced: 406 AR401, as before');
