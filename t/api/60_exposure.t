# 60_exposure.t: what each Location shows. /limited hides public.people.ssn and
# excludes public.secret_stuff (rows, single rows and index); /limited/nested
# inherits all that and only overrides the cap (2); /other serves schema other
# alone (as its default schema); exclusions and schemas are per Location.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 37;

sub rows { my $r = decode_body(shift); ref $r eq 'ARRAY' ? $r : [] }
sub with_ssn { scalar grep { ref $_ eq 'HASH' && exists $_->{ssn} } @_ }
sub index_of {
    my $res = req(GET => shift);
    my $j = decode_body($res);
    my %rel;
    if (ref $j eq 'HASH' && ref $j->{relations} eq 'ARRAY') {
        $rel{"$_->{schema}.$_->{name}"} = $_ for @{ $j->{relations} };
    }
    return ($res, \%rel);
}
sub colnames { my $r = shift; $r && ref $r->{columns} eq 'ARRAY' ? join(' ', map { $_->{name} } @{ $r->{columns} }) : 'none' }

my $NOSSN = q{SELECT json_agg(json_build_object('id', id, 'name', name, 'email', email, 'born', born,
    'team_id', team_id, 'active', active) ORDER BY id) FROM people};

# --- /limited: hidden column, excluded relation
my $lp = req(GET => '/limited/people');
is($lp->code, 200, '/limited/people is 200');
is(with_ssn(@{ rows($lp) }), 0, '/limited/people rows have no ssn');
ok(matches_sql($lp, $NOSSN), '/limited/people is people without ssn');
is(join(' ', top_keys(body_of($lp))), 'id name email born team_id active', '/limited/people keys in column order');
my $l1 = req(GET => '/limited/people/1');
is($l1->code, 200, '/limited/people/1 is 200');
ok(ref decode_body($l1) eq 'HASH' && !exists decode_body($l1)->{ssn}, '/limited/people/1 has no ssn');

my ($li, $lrel) = index_of('/limited/');
is($li->code, 200, '/limited/ index is 200');
is(colnames($lrel->{'public.people'}), 'id name email born team_id active', '/limited/ index: people without ssn');
ok(!$lrel->{'public.secret_stuff'}, '/limited/ index: secret_stuff is not listed');
is($lrel->{'public.people'} && $lrel->{'public.people'}{url}, '/limited/people', '/limited/ index: urls under /limited');
ok(!$lrel->{'other.thing'}, '/limited/ index: schema other is not listed');
ok(check_error(req(GET => '/limited/secret_stuff'), 404, 'AR201'), '/limited/secret_stuff: 404 AR201');
ok(check_error(req(GET => '/limited/secret_stuff/1'), 404, 'AR201'), '/limited/secret_stuff/1: 404 AR201');
is(scalar @{ rows(req(GET => '/limited/many')) }, 1000, '/limited/many: the default cap (nested cap does not leak up)');

# --- /limited/nested: inherits, overrides only the cap
my $nm = req(GET => '/limited/nested/many');
is($nm->code, 200, '/limited/nested/many is 200 (handler inherited)');
is(scalar @{ rows($nm) }, 2, '/limited/nested/many: 2 rows (AutoRestMaxRows 2)');
is($nm->header('Content-Range'), '0-1/*', '/limited/nested/many: Content-Range 0-1/*');
my ($np) = query_of(links($nm)->{next});
is($np, '/limited/nested/many', '/limited/nested/many: rel="next" stays under /limited/nested');
my $nl = req(GET => '/limited/nested/many?limit=100');
is(scalar @{ rows($nl) }, 2, '/limited/nested/many?limit=100: still 2 rows');
my $npp = req(GET => '/limited/nested/people');
is(scalar @{ rows($npp) }, 2, '/limited/nested/people: 2 rows');
is(with_ssn(@{ rows($npp) }), 0, '/limited/nested/people: no ssn (inherited AutoRestHide)');
ok(ref decode_body(req(GET => '/limited/nested/people/3')) eq 'HASH'
    && !exists decode_body(req(GET => '/limited/nested/people/3'))->{ssn}, '/limited/nested/people/3: no ssn');
ok(check_error(req(GET => '/limited/nested/secret_stuff'), 404, 'AR201'),
    '/limited/nested/secret_stuff: 404 AR201 (inherited AutoRestExclude)');
my ($ni, $nrel) = index_of('/limited/nested/');
ok(!$nrel->{'public.secret_stuff'} && colnames($nrel->{'public.people'}) eq 'id name email born team_id active',
    '/limited/nested/ index: no secret_stuff, no people.ssn');
is($nrel->{'public.people'} && $nrel->{'public.people'}{url}, '/limited/nested/people',
    '/limited/nested/ index: urls under /limited/nested');

# --- exclusions and hidden columns are per Location
is(with_ssn(@{ rows(req(GET => '/api/people')) }), 5, '/api/people still has ssn');
is(req(GET => '/capped/secret_stuff')->code, 200, '/capped/secret_stuff is 200 (excluded only at /limited)');

# --- /other: schema other only
my $ot = req(GET => '/other/thing');
ok(matches_sql($ot, 'SELECT json_agg(t ORDER BY id) FROM other.thing t'), '/other/thing: other.thing rows');
is(body_of(req(GET => '/api/other.thing')), body_of($ot), '/api/other.thing is the same as /other/thing');
ok(matches_sql(req(GET => '/other/thing/1'), 'SELECT row_to_json(t) FROM other.thing t WHERE id = 1'),
    '/other/thing/1');
ok(check_error(req(GET => '/other/people'), 404, 'AR201'), '/other/people: 404 AR201');
ok(check_error(req(GET => '/other/public.people'), 404, 'AR201'), '/other/public.people: 404 AR201');
ok(check_error(req(GET => '/nocap/other.thing'), 404, 'AR201'), '/nocap/other.thing: 404 AR201 (other not exposed there)');
my ($oi, $orel) = index_of('/other/');
is(join(' ', sort keys %$orel), 'other.thing', '/other/ index lists only other.thing');
is($orel->{'other.thing'} && $orel->{'other.thing'}{url}, '/other/thing', '/other/ index: url /other/thing');

# --- a qualified name in the default schema
is(body_of(req(GET => '/api/public.people')), body_of(req(GET => '/api/people')),
    '/api/public.people is /api/people');
ok(leak_free($oi) && leak_free($li), 'index bodies leak nothing');
