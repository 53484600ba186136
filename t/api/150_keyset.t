# 150_keyset.t: keyset pagination (issue 4). rel="next" carries an opaque,
# signed cursor on the sort key; following it through a whole result gives
# exactly the rows of the same ORDER BY in PostgreSQL, for ascending and
# descending terms, NULLs first or last, nullable columns and JSON paths;
# Content-Range keeps counting; forged, malformed, foreign and misplaced
# cursors are a 400 AR112 (or AR102 beside an offset), never a database
# error; relations whose order is not total page on by offset.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

my @orders = (
    ['year',                          'year, id'],
    ['year.desc',                     'year DESC, id'],
    ['year.desc.nullslast',           'year DESC NULLS LAST, id'],
    ['rating.asc.nullsfirst,title',   'rating ASC NULLS FIRST, title, id'],
    ['active.desc,year.desc',         'active DESC, year DESC, id'],
    ['info->>runtime.desc',           "info->>'runtime' DESC, id"],
    ['released.desc.nullslast,budget', 'released DESC NULLS LAST, budget, id'],
);
plan tests => 2 * @orders + 14;

sub ids { my $rows = decode_body(shift); ref $rows eq 'ARRAY' ? join(',', map { $_->{id} } @$rows) : 'not an array' }

# Follow rel="next" from $url to the end; the ids in order, and whether every
# step after the first was by cursor with a Content-Range that went on.
sub walk {
    my ($url) = @_;
    my @ids;
    my ($by_cursor, $ranges_ok, $first) = (1, 1, 0);
    for (my $n = 0; $url && $n < 100; $n++) {
        my $r = req(GET => $url);
        return ('status ' . $r->code, 0, 0) unless $r->code == 200;
        my $rows = decode_body($r);
        my $cr = $r->header('Content-Range') // '';
        $ranges_ok = 0 if @$rows && $cr !~ /^$first-/;
        $first += @$rows;
        push @ids, map { $_->{id} } @$rows;
        $url = links($r)->{next};
        $by_cursor = 0 if $url && $url !~ /[?&]cursor=/;
    }
    return (join(',', @ids), $by_cursor, $ranges_ok);
}

for my $o (@orders) {
    my ($param, $sql) = @$o;
    my ($got, $by_cursor, $ranges_ok) = walk("/api/film?select=id&limit=4&order=$param");
    is($got, psql("SELECT string_agg(id::text, ',' ORDER BY $sql) FROM film"),
       "order=$param: walking rel=next by cursor gives PostgreSQL's order");
    ok($by_cursor && $ranges_ok, "order=$param: every next link is a cursor, Content-Range goes on");
}

# --- a cursor page, and what it refuses
my $r = req(GET => '/api/many?limit=10&offset=100');
my $next = links($r)->{next};
like($next // '', qr{^/api/many\?limit=10&cursor=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$}, 'next from an offset page is a cursor link');
$r = req(GET => $next);
is(ids($r) . ' ' . ($r->header('Content-Range') // ''), join(',', 111 .. 120) . ' 110-119/*',
   'the cursor page: ids 111..120 at 110-119');
ok(links($r)->{prev} && links($r)->{first}, 'a cursor page has rel="prev" and rel="first"');

my ($token) = $next =~ /cursor=([^&]+)/;
my ($payload, $mac) = split /\./, $token;
my @errs;
my $forged = $payload; $forged =~ tr/A-Za-z/B-ZAb-za/;       # other bytes, same MAC
push @errs, req(GET => "/api/many?limit=10&cursor=$forged.$mac");
ok(check_error($errs[-1], 400, 'AR112'), 'a forged payload: 400 AR112');
push @errs, req(GET => "/api/many?limit=10&cursor=$payload");
ok(check_error($errs[-1], 400, 'AR112'), 'a cursor without its MAC: 400 AR112');
push @errs, req(GET => '/api/many?limit=10&cursor=%22%27%3B--');
ok(check_error($errs[-1], 400, 'AR112'), 'garbage: 400 AR112');
push @errs, req(GET => "/api/many?limit=10&order=val&cursor=$token");
ok(check_error($errs[-1], 400, 'AR112'), 'a cursor under another order: 400 AR112');
push @errs, req(GET => "/api/film?limit=10&cursor=$token");
ok(check_error($errs[-1], 400, 'AR112'), 'a cursor on another relation: 400 AR112');
push @errs, req(GET => "/api/many?limit=10&offset=5&cursor=$token");
ok(check_error($errs[-1], 400, 'AR102'), 'a cursor beside an offset: 400 AR102');
push @errs, req(GET => "/api/no_keys?limit=2&cursor=$token");
ok(check_error($errs[-1], 400, 'AR112'), 'a relation whose order is not total takes no cursor: 400 AR112');

# --- no total order: next by offset
$r = req(GET => '/api/no_keys?limit=2');
like(links($r)->{next} // '', qr{[?&]offset=2\b}, 'no key: rel="next" pages by offset');

# --- the same cursor works in every child, filters stay in the link
$r = req(GET => '/api/many?limit=5&n=eq.3&select=id');
$next = links($r)->{next};
like($next // '', qr{n=eq\.3}, 'the next link keeps the filter');
my %pages = map { ids(req(GET => $next)) => 1 } 1 .. 12;
is(join(' ', keys %pages), ids(req(GET => '/api/many?limit=5&offset=5&n=eq.3&select=id')),
   'twelve requests of one cursor all give the offset page');

ok(leak_free(@errs), 'no SQL, connection string or path in any cursor error');
