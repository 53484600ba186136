# 120_logic_order.t: logic trees and order= on /api/film (t/fixtures/50_query.sql).
# or=(...), and=(...), not.or, not.and, nesting, quoted values with , . : ( ) inside
# trees, in-lists and {arrays} inside trees, JSON paths in trees, trees ANDed with plain
# filters; depth: 8 levels work, 9 and more are 400 AR108; malformed trees 400 AR107,
# unknown column in a tree AR105. order=: asc/desc, nullsfirst/nullslast (with and
# without a direction), several keys, JSON paths (text vs jsonb order), quoted names,
# errors (AR105 unknown or hidden column, 400 for a bad modifier), and pages of an
# ordered, filtered result: limit/offset and the rel="next" links walk it exactly.
# Expected rows come from the same condition / ORDER BY run by psql. An order with
# ties is checked on the ordering keys alone (select= of those keys).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

sub film { r(GET => '/api/film?' . qenc(shift)) }

my $TOTAL = psql('SELECT count(*) FROM film');
die "fixture film has $TOTAL rows, expected 30\n" unless $TOTAL == 30;

# filt(QUERY, WHERE): GET /api/film?QUERY is exactly film's rows WHERE, by id; WHERE
# must select some rows but not all (else the test could not tell).
sub filt {
    my ($query, $where, $name) = @_;
    my $n = psql("SELECT count(*) FROM film WHERE $where");
    my $ok = matches_sql(film($query), "SELECT coalesce(json_agg(f ORDER BY id), '[]') FROM film f WHERE $where");
    if ($n == 0 || $n == $TOTAL) {
        diag("fixture: WHERE $where selects $n of $TOTAL rows: cannot tell the filter from none");
        $ok = 0;
    }
    ok($ok, $name // "$query  ~  WHERE $where");
}

# ordered(QUERY, ORDER_BY, [PAIRS_SQL]): GET /api/film?QUERY is film's rows (or
# json_build_object(PAIRS_SQL) of them) in ORDER_BY.
sub ordered {
    my ($query, $order, $pairs, $name) = @_;
    my $what = $pairs ? "json_build_object($pairs)" : 'f';
    ok(matches_sql(film($query), "SELECT json_agg($what ORDER BY $order) FROM film f"),
        $name // "$query  ~  ORDER BY $order");
}

# any_error(RES, STATUS, [CODES]): as in 110_filters.t
sub any_error {
    my ($res, $status, @codes) = @_;
    my @why;
    push @why, 'status ' . $res->code . ", expected $status" if $res->code != $status;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none') unless ct_ok($res);
    my $j = json_text(body_of($res), 'error body');
    if (ref $j ne 'HASH') { push @why, 'body is not a JSON object' }
    else {
        my $keys = join ' ', sort keys %$j;
        push @why, "keys are ($keys)" if $keys ne 'code details hint message';
        push @why, 'code ' . ($j->{code} // 'null') . ' is not one of ' . join('/', @codes)
            if @codes && !grep { defined $j->{code} && !ref $j->{code} && $j->{code} eq $_ } @codes;
        push @why, 'code AR101: the parameter itself was refused' if ($j->{code} // '') eq 'AR101';
    }
    my @l = leaks(body_of($res));
    push @why, "body leaks: @l" if @l;
    diag($res->request->uri->path_query . ": $_") for @why;
    return !@why;
}

my @LOGIC = (
    ['or=(year.lt.1990,year.gt.2010)',             'year < 1990 OR year > 2010'],
    ['and=(year.gte.1990,year.lt.2000)',           'year >= 1990 AND year < 2000'],
    ['not.or=(year.lt.1990,year.gt.2010)',         'NOT (year < 1990 OR year > 2010)'],
    ['not.and=(year.gte.1990,year.lt.2000)',       'NOT (year >= 1990 AND year < 2000)'],
    ['or=(id.eq.1,and(year.gt.2000,active.is.null))', 'id = 1 OR (year > 2000 AND active IS NULL)'],
    ['or=(year.eq.1999,not.and(year.gte.1970,year.lte.2010))',
        'year = 1999 OR NOT (year >= 1970 AND year <= 2010)'],
    ['and=(or(rating.gt.8.5,rating.lt.5),not.or(year.is.null,active.is.false))',
        '(rating > 8.5 OR rating < 5) AND NOT (year IS NULL OR active IS FALSE)'],
    ['or=(title.eq."Crouching Tiger, Hidden Dragon",title.eq.Heat)',
        q{title = 'Crouching Tiger, Hidden Dragon' OR title = 'Heat'}],
    ["or=(title.eq.\"Alien (Director's Cut)\",title.eq.\"Star Wars: A New Hope\",title.eq.\"Mr. Smith Goes to Washington\")",
        q{title IN ('Alien (Director''s Cut)', 'Star Wars: A New Hope', 'Mr. Smith Goes to Washington')}],
    ['or=(title.eq."Say \"Cheese\"",title.eq."Back\\\\slash")', q{title IN ('Say "Cheese"', E'Back\\\\slash')}],
    ['or=(title.in.("Heat","Crouching Tiger, Hidden Dragon"),id.eq.3)',
        q{title IN ('Heat', 'Crouching Tiger, Hidden Dragon') OR id = 3}],
    ['or=(title.in.("Alien (Director\'s Cut)","M*A*S*H"),year.is.null)',
        q{title IN ('Alien (Director''s Cut)', 'M*A*S*H') OR year IS NULL}],
    ['or=(title.like.*Dragon*,title.ilike.the*)',  q{title LIKE '%Dragon%' OR title ILIKE 'the%'}],
    ['or=(tags.cs.{war,drama},year.lt.1950)',      q{tags @> '{war,drama}' OR year < 1950}],
    ['or=(period.ov."[1,3]",period.adj."(1,10)")', q{period && '[1,3]'::int4range OR period -|- '(1,10)'::int4range}],
    ['or=(info->>runtime.gt.150,info->director->>name.eq.Ang Lee)',
        q{info->>'runtime' > '150' OR info->'director'->>'name' = 'Ang Lee'}],
    ['or=(tsv.fts.cat,plot.fts(french).amis)',     q{tsv @@ to_tsquery('cat') OR to_tsvector('french', plot) @@ to_tsquery('french', 'amis')}],
    ['or=(title.like(any).{A*,Z*},year.gt(all).{2010,2015})',
        q{title LIKE ANY ('{A%,Z%}'::text[]) OR year > ALL ('{2010,2015}'::int[])}],
    ['or=(active.not.is.true,rating.not.gte.5)',   'NOT (active IS TRUE) OR NOT (rating >= 5)'],
    ['or=("Mixed Col".eq.alpha,"a.b,c:d(e)".eq.y)', q{"Mixed Col" = 'alpha' OR "a.b,c:d(e)" = 'y'}],
    ['year=gte.1990&or=(rating.gt.8,active.is.false)', 'year >= 1990 AND (rating > 8 OR active IS FALSE)'],
    ['or=(rating.gt.8,active.is.false)&and=(year.gte.1970,year.lte.2000)&tags=cs.{drama}',
        q{(rating > 8 OR active IS FALSE) AND (year >= 1970 AND year <= 2000) AND tags @> '{drama}'}],
);

plan tests => scalar(@LOGIC) + 49;

for my $f (@LOGIC) { filt(@$f) }

# --- nesting depth: the or=( ) parameter is level 1; 8 levels work, 9 do not.
# deep(D): a tree D groups deep, alternating and( ) and or( ), and the same in SQL.
sub deep {
    my $d = shift;
    my ($t, $s) = ("id.eq.$d", "id = $d");
    for my $k (reverse 2 .. $d) {
        ($t, $s) = $k % 2 ? ("or(id.eq.$k,$t)", "(id = $k OR $s)") : ("and(id.gte.1,$t)", "(id >= 1 AND $s)");
    }
    return ("or=(id.eq.1,$t)", "id = 1 OR $s");
}
sub depth_of { my ($d, $m) = (0, 0); for (split //, shift) { $d++ if $_ eq '('; $d-- if $_ eq ')'; $m = $d if $d > $m } $m }
my ($q8, $w8) = deep(8);
my ($q9) = deep(9);
die "deep() is wrong\n" unless depth_of($q8) == 8 && depth_of($q9) == 9;
filt($q8, $w8, 'a tree nested 8 levels deep works');
my ($q3, $w3) = deep(3);
filt($q3, $w3, 'a tree nested 3 levels deep works');
ok(check_error(film($q9), 400, 'AR108'), 'a tree nested 9 levels deep: 400 AR108');
my $q50 = 'or=(' . ('or(' x 49) . 'id.eq.1' . (')' x 50);
ok(check_error(film($q50), 400, 'AR108'), 'a tree nested 50 levels deep: 400 AR108');
my $q1000 = 'or=(' . ('and(' x 999) . 'id.eq.1' . (')' x 1000);
ok(check_error(film($q1000), 400, 'AR108'), 'a tree nested 1000 levels deep: 400 AR108 (and no crash)');

# --- malformed trees
ok(check_error(film('or=(year.lt.1990'), 400, 'AR107'), 'or=(year.lt.1990 (unclosed): 400 AR107');
ok(check_error(film('or=year.lt.1990'), 400, 'AR107'), 'or=year.lt.1990 (no parentheses): 400 AR107');
ok(check_error(film('or=(year.lt.1990))'), 400, 'AR107'), 'or=(year.lt.1990)) (one too many): 400 AR107');
ok(check_error(film('or=(year.zz.1990,id.eq.1)'), 400, 'AR107'), 'an unknown operator in a tree: 400 AR107');
ok(check_error(film('or=(year,id.eq.1)'), 400, 'AR107'), 'a tree element without operator: 400 AR107');
ok(check_error(film('and=(year.gt.1990,xor(id.eq.1,id.eq.2))'), 400, 'AR107'), 'xor(...) in a tree: 400 AR107');
ok(check_error(film('or=(nope.eq.1,id.eq.1)'), 400, 'AR105'), 'an unknown column in a tree: 400 AR105');
ok(check_error(film('or=(year.eq.abc,id.eq.1)'), 400, '22P02'), 'a bad value in a tree: 400 22P02');
ok(check_error(r(GET => '/limited/people?' . qenc('or=(ssn.eq.x,id.eq.1)')), 400, 'AR105'),
    'a hidden column in a tree: 400 AR105');
filt(q{or=(title.eq.x' OR 'a'='a,id.eq.1)}, 'id = 1', q{or=(title.eq.x' OR 'a'='a,id.eq.1): a value with SQL is bound, only id 1});
is(psql('SELECT count(*) FROM film'), $TOTAL, 'film still has all its rows');

# --- order: keys with ties are checked on those keys alone
ordered('select=year&order=year', 'year', q{'year', year}, 'order=year (NULLs last)');
ordered('select=year&order=year.desc', 'year DESC', q{'year', year}, 'order=year.desc (NULLs first)');
ordered('select=year&order=year.asc', 'year ASC', q{'year', year}, 'order=year.asc');
ordered('select=year&order=year.asc.nullsfirst', 'year ASC NULLS FIRST', q{'year', year}, 'order=year.asc.nullsfirst');
ordered('select=year&order=year.nullsfirst', 'year NULLS FIRST', q{'year', year}, 'order=year.nullsfirst (no direction)');
ordered('select=rating&order=rating.desc.nullslast', 'rating DESC NULLS LAST', q{'rating', rating}, 'order=rating.desc.nullslast');
ordered('select=year,active&order=active.desc,year.asc.nullsfirst', 'active DESC, year ASC NULLS FIRST',
    q{'year', year, 'active', active}, 'two keys, each with its modifiers');
# --- total orders: whole rows
ordered('order=title', 'title', undef, 'order=title: overrides the default (id) order');
ordered('order=year.desc,title', 'year DESC, title', undef, 'order=year.desc,title');
ordered('order=rating.nullsfirst,title.desc', 'rating NULLS FIRST, title DESC', undef, 'order=rating.nullsfirst,title.desc');
ordered('order=info->>runtime.desc,id', q{info->>'runtime' DESC, id}, undef, 'order=info->>runtime.desc,id: text order');
ordered('order=info->runtime.desc,id', q{info->'runtime' DESC, id}, undef, 'order=info->runtime.desc,id: jsonb order');
ordered('select=runtime:info->>runtime&order=info->>runtime.desc', q{info->>'runtime' DESC}, q{'runtime', info->>'runtime'},
    'order=info->>runtime.desc, only the key');
ordered('order=info->director->>name.asc.nullslast,id', q{info->'director'->>'name' ASC NULLS LAST, id}, undef,
    'order on a two-step path');
ordered('order="Mixed Col".asc,id', q{"Mixed Col" ASC, id}, undef, 'order="Mixed Col".asc,id');
ordered('order="a.b,c:d(e)".desc.nullslast,id.desc', q{"a.b,c:d(e)" DESC NULLS LAST, id DESC}, undef,
    'order on a quoted name with , . : ( ) in it');
ordered('order=tags,id', 'tags, id', undef, 'order on an array column');
ordered('order=origin->>country.desc,id', q{to_jsonb(origin)->>'country' DESC, id}, undef, 'order on a composite path');
ok(matches_sql(film('select=id,title&year=gte.2000&order=year.desc,title'),
    q{SELECT json_agg(json_build_object('id', id, 'title', title) ORDER BY year DESC, title) FROM film WHERE year >= 2000}),
    'order by a column that is not selected, with a filter');
ok(matches_sql(film('order=title.desc&or=(year.lt.1960,rating.gt.8.5)'),
    q{SELECT json_agg(f ORDER BY title DESC) FROM film f WHERE year < 1960 OR rating > 8.5}),
    'order with a logic tree');
ok(matches_sql(r(GET => '/api/people?' . qenc('order=born.desc.nullslast')),
    'SELECT json_agg(p ORDER BY born DESC NULLS LAST) FROM people p'), '/api/people?order=born.desc.nullslast');

# --- order errors
ok(check_error(film('order=nope'), 400, 'AR105'), 'order=nope: 400 AR105');
ok(check_error(film('order=year,nope.desc'), 400, 'AR105'), 'order=year,nope.desc: 400 AR105');
ok(check_error(r(GET => '/limited/people?order=ssn'), 400, 'AR105'), '/limited/people?order=ssn (hidden): 400 AR105');
ok(any_error(film('order=year.sideways'), 400, 'AR102', 'AR107'), 'order=year.sideways: 400');
ok(any_error(film('order=year.asc.nullsmiddle'), 400, 'AR102', 'AR107'), 'order=year.asc.nullsmiddle: 400');
ok(any_error(film('order=year;DROP TABLE film'), 400), 'order=year;DROP TABLE film: 400');

# --- pages of an ordered, filtered result
my $ORDER = 'year DESC NULLS LAST, title';
my $WHERE = 'active IS NOT FALSE';
my $n = psql("SELECT count(*) FROM film WHERE $WHERE");
my @pages;
for (my $off = 0; $off < $n; $off += 7) {
    push @pages, $off;
    ok(matches_sql(film("active=not.is.false&order=year.desc.nullslast,title&limit=7&offset=$off"),
        "SELECT coalesce(json_agg(f ORDER BY $ORDER), '[]') FROM
           (SELECT * FROM film WHERE $WHERE ORDER BY $ORDER LIMIT 7 OFFSET $off) f"),
        "ordered, filtered page at offset $off");
    last if @pages == 4;
}
# follow rel="next" from the first page to the end: the concatenation is the whole result
my @rows;
my $url = '/api/film?' . qenc('active=not.is.false&order=year.desc.nullslast,title&limit=7');
my $hops = 0;
while (defined $url && $hops++ < 20) {
    my $res = r(GET => $url);
    my $page = decode_body($res);
    last unless ref $page eq 'ARRAY';
    push @rows, @$page;
    $url = links($res)->{next};
}
is(scalar(@{ diff_json(tag_json(\@rows), psql_json("SELECT json_agg(f ORDER BY $ORDER) FROM film f WHERE $WHERE")) }), 0,
    'following rel="next" from page 1 walks the ordered, filtered result exactly')
    or diag("collected " . scalar(@rows) . " rows in $hops requests");

# --- nothing leaks
my @errors = grep { $_->code >= 400 } @collected;
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 15 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
