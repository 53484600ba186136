# 140_restless.t: Flask-Restless search, q=, in both dialects (t/fixtures/50_query.sql).
# PostgREST dialect (/api): q={"filters":[...]} on every collection route, every
# operator name (== eq equals equal_to != ne neq not_equal_to does_not_equal > gt < lt
# >= ge gte geq <= le lte leq like ilike in not_in is_null is_not_null), JSON values
# of each type, "val": null as IS NULL, column vs column ("field"), or/and and nesting,
# order_by, limit/offset, single (one: the object; none: 404; several: 400 AR111);
# errors: AR110 malformed q / unknown op, AR105 unknown column. Restless dialect
# (/restless, AutoRestDialect restless, AutoRestMaxRows 50): collections are
# {"num_results","page","total_pages","objects"} (page 1-based, results_per_page
# default 10 and capped at 50, total_pages = ceil(num_results / per page)), Link
# rel="next"/"last" that keep q and the page size, q's limit/offset, /<pk> as a plain
# object, errors {"message"} only (400 bad query or parameter, 404 unknown relation
# or row). Expected pages are built by psql from the same condition, exactly.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

my $J = JSON::PP->new->canonical;
# q(PATH, SEARCH, [MORE_QUERY]): GET PATH?q=SEARCH (a Perl structure, or JSON text)
sub q_get {
    my ($path, $search, $more, @h) = @_;
    my $text = ref $search ? $J->encode($search) : $search;
    return r(GET => "$path?q=" . enc($text) . (defined $more ? "&$more" : ''), @h);
}
sub show_q { my $s = shift; ref $s ? $J->encode($s) : $s }

my $TOTAL = psql('SELECT count(*) FROM film');
die "fixture film has $TOTAL rows, expected 30\n" unless $TOTAL == 30;

# qfilt(SEARCH, WHERE, [NAME]): /api/film?q=SEARCH is film's rows WHERE, by id;
# WHERE must select some but not all rows.
sub qfilt {
    my ($search, $where, $name) = @_;
    my $n = psql("SELECT count(*) FROM film WHERE $where");
    my $ok = matches_sql(q_get('/api/film', $search), "SELECT coalesce(json_agg(f ORDER BY id), '[]') FROM film f WHERE $where");
    if ($n == 0 || $n == $TOTAL) {
        diag("fixture: WHERE $where selects $n of $TOTAL rows: cannot tell the filter from none");
        $ok = 0;
    }
    ok($ok, $name // '/api/film?q=' . show_q($search));
}

# page_sql(where => , order => , per => , page => , rel => ): the restless page, in SQL
sub page_sql {
    my %a = @_;
    my $rel = $a{rel} // 'film';
    my $where = $a{where} // 'true';
    my $order = $a{order} // 'id';
    my $per = $a{per} // 10;
    my $page = $a{page} // 1;
    my $off = ($page - 1) * $per;
    my $extra = $a{extra} // '';
    return "SELECT json_build_object(
        'num_results', (SELECT count(*) FROM $rel WHERE $where),
        'page', $page,
        'total_pages', (SELECT ceil(count(*) / ${per}::numeric)::int FROM $rel WHERE $where),
        'objects', (SELECT coalesce(json_agg(x ORDER BY $order), '[]')
                    FROM (SELECT *$extra FROM $rel WHERE $where ORDER BY $order LIMIT $per OFFSET $off) x))";
}

# rl_error(RES, STATUS): the restless error: that status, JSON, exactly {"message": "..."}.
sub rl_error {
    my ($res, $status) = @_;
    my @why;
    push @why, 'status ' . $res->code . ", expected $status" if $res->code != $status;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none') unless ct_ok($res);
    my $j = json_text(body_of($res), 'error body');
    if (ref $j ne 'HASH') { push @why, 'body is not a JSON object' }
    else {
        my $keys = join ' ', sort keys %$j;
        push @why, "keys are ($keys), expected (message)" if $keys ne 'message';
        push @why, 'message is not a non-empty string' if !defined $j->{message} || ref $j->{message} || $j->{message} eq '';
    }
    my @l = leaks(body_of($res));
    push @why, "body leaks: @l" if @l;
    diag($res->request->uri->path_query . ": $_") for @why;
    return !@why;
}

# any_error(RES, STATUS, [CODES]): the PostgREST-dialect error shape, code among CODES
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

# every operator name, with a column, a value and the SQL it means
my @OPS = (
    [[qw(== eq equals equal_to)],                    'year',  1999,      'year = 1999'],
    [[qw(!= ne neq not_equal_to does_not_equal)],    'year',  2001,      'year <> 2001'],
    [[qw(> gt)],                                     'year',  2005,      'year > 2005'],
    [[qw(< lt)],                                     'year',  1979,      'year < 1979'],
    [[qw(>= ge gte geq)],                            'year',  2005,      'year >= 2005'],
    [[qw(<= le lte leq)],                            'year',  1979,      'year <= 1979'],
    [['like'],                                       'title', '%the%',   q{title LIKE '%the%'}],
    [['ilike'],                                      'title', '%the%',   q{title ILIKE '%the%'}],
    [['in'],                                         'id',    [1, 3, 5], 'id IN (1, 3, 5)'],
    [['not_in'],                                     'id',    [1, 3, 5], 'id NOT IN (1, 3, 5)'],
    [['is_null'],                                    'year',  undef,     'year IS NULL'],
    [['is_not_null'],                                'year',  undef,     'year IS NOT NULL'],
);
my @ALLOPS = map { my $o = $_; map { [$_, @$o[1 .. 3]] } @{ $o->[0] } } @OPS;
sub leaf { my ($op, $col, $val) = @_; return +{ name => $col, op => $op, (defined $val ? (val => $val) : ()) } }

plan tests => 2 * @ALLOPS + 67;

# ============================================================ PostgREST dialect, /api
for my $o (@ALLOPS) {
    my ($op, $col, $val, $where) = @$o;
    qfilt({ filters => [leaf($op, $col, $val)] }, $where, "/api/film q= op $op");
}

qfilt({ filters => [{ name => 'year', op => '>=', val => 1990 }] }, 'year >= 1990',
    'q={"filters":[{"name":"year","op":">=","val":1990}]}');
qfilt({ filters => [{ name => 'rating', op => '>', val => 8.3 }] }, 'rating > 8.3', 'a JSON number with a fraction');
qfilt({ filters => [{ name => 'active', op => '==', val => JSON::PP::true }] }, 'active = true', 'a JSON true');
qfilt({ filters => [{ name => 'active', op => 'eq', val => undef }] }, 'active IS NULL', '"op":"eq","val":null is IS NULL');
qfilt({ filters => [{ name => 'released', op => '>=', val => '2001-04-25' }] }, q{released >= '2001-04-25'}, 'a date as a JSON string');
qfilt({ filters => [{ name => 'title', op => '==', val => 'Say "Cheese"' }] }, q{title = 'Say "Cheese"'}, 'a string with quotes');
qfilt({ filters => [{ name => 'title', op => 'in', val => ['Heat', 'Crouching Tiger, Hidden Dragon', 'Back\\slash'] }] },
    q{title IN ('Heat', 'Crouching Tiger, Hidden Dragon', E'Back\\\\slash')}, 'in with strings holding , and \\');
qfilt({ filters => [{ name => 'Mixed Col', op => '==', val => '' }] }, q{"Mixed Col" = ''}, 'a column name with a space; the empty string');
qfilt({ filters => [{ name => 'budget', op => '<', field => 'gross' }] }, 'budget < gross', 'column vs column: budget < gross');
qfilt({ filters => [{ name => 'budget', op => '>=', field => 'gross' }] }, 'budget >= gross', 'column vs column: budget >= gross');
qfilt({ filters => [{ name => 'year', op => '>=', val => 1990 }, { name => 'active', op => '==', val => JSON::PP::false }] },
    'year >= 1990 AND active = false', 'two filters are ANDed');
qfilt({ filters => [{ or => [{ name => 'year', op => '<', val => 1960 }, { name => 'rating', op => '>', val => 8.5 }] }] },
    'year < 1960 OR rating > 8.5', '{"or":[...]}');
qfilt({ filters => [{ and => [{ name => 'year', op => '>=', val => 1990 }, { name => 'year', op => '<', val => 2000 }] }] },
    'year >= 1990 AND year < 2000', '{"and":[...]}');
qfilt({ filters => [{ or => [{ and => [{ name => 'year', op => '>', val => 2000 }, { name => 'active', op => 'is_null' }] },
                             { name => 'id', op => '==', val => 1 },
                             { or => [{ name => 'title', op => 'like', val => '%Dragon%' }] }] },
                    { name => 'id', op => '!=', val => 23 }] },
    q{(((year > 2000 AND active IS NULL) OR id = 1 OR title LIKE '%Dragon%')) AND id <> 23}, 'nested or/and');

ok(matches_sql(q_get('/api/film', { filters => [{ name => 'year', op => '>=', val => 2000 }],
        order_by => [{ field => 'year', direction => 'desc' }, { field => 'title', direction => 'asc' }] }),
    'SELECT json_agg(f ORDER BY year DESC, title) FROM film f WHERE year >= 2000'), 'order_by: year desc, title asc');
ok(matches_sql(q_get('/api/film', { order_by => [{ field => 'title' }] }), 'SELECT json_agg(f ORDER BY title) FROM film f'),
    'order_by without direction: ascending');
ok(matches_sql(q_get('/api/film', { order_by => [{ field => 'title' }], limit => 5, offset => 3 }),
    'SELECT json_agg(f ORDER BY title) FROM (SELECT * FROM film ORDER BY title LIMIT 5 OFFSET 3) f'), 'limit and offset');

# --- single
ok(matches_sql(q_get('/api/film', { filters => [{ name => 'id', op => '==', val => 3 }], single => JSON::PP::true }),
    'SELECT row_to_json(f) FROM film f WHERE id = 3'), 'single, one match: that row, as an object');
ok(any_error(q_get('/api/film', { filters => [{ name => 'id', op => '==', val => -1 }], single => JSON::PP::true }), 404),
    'single, no match: 404');
ok(check_error(q_get('/api/film', { filters => [{ name => 'year', op => '==', val => 1979 }], single => JSON::PP::true }), 400, 'AR111'),
    'single, several matches: 400 AR111');

# --- other collection routes
ok(matches_sql(q_get('/api/people', { filters => [{ name => 'active', op => '==', val => JSON::PP::false }] }),
    'SELECT json_agg(p ORDER BY id) FROM people p WHERE active = false'), '/api/people?q=');
ok(matches_sql(q_get('/api/other.thing', { filters => [{ name => 'person_id', op => 'is_not_null' }] }),
    'SELECT json_agg(t ORDER BY id) FROM other.thing t WHERE person_id IS NOT NULL'), '/api/other.thing?q=');

# --- errors
ok(check_error(q_get('/api/film', '{bad'), 400, 'AR110'), 'q={bad: 400 AR110');
ok(check_error(q_get('/api/film', '[]'), 400, 'AR110'), 'q=[] (not an object): 400 AR110');
ok(check_error(q_get('/api/film', { filters => { name => 'year', op => '==', val => 1 } }), 400, 'AR110'),
    'filters not a list: 400 AR110');
ok(check_error(q_get('/api/film', { filters => [{ name => 'year', op => '~~', val => 1 }] }), 400, 'AR110'),
    'an unknown op: 400 AR110');
ok(check_error(q_get('/api/film', { filters => [{ name => 'nope', op => '==', val => 1 }] }), 400, 'AR105'),
    'an unknown column: 400 AR105');
ok(check_error(q_get('/api/film', { filters => [{ name => 'budget', op => '<', field => 'nope' }] }), 400, 'AR105'),
    'an unknown "field": 400 AR105');
ok(check_error(q_get('/api/film', { order_by => [{ field => 'nope' }] }), 400, 'AR105'), 'order_by an unknown column: 400 AR105');
ok(check_error(q_get('/limited/people', { filters => [{ name => 'ssn', op => 'is_not_null' }] }), 400, 'AR105'),
    'a hidden column: 400 AR105');
ok(any_error(q_get('/api/film', { filters => [{ name => 'year', op => '==', val => 'abc' }] }), 400),
    'a value the column rejects: 400');
my $deep = { name => 'id', op => '==', val => 1 };
$deep = { or => [$deep] } for 1 .. 20;
ok(any_error(q_get('/api/film', { filters => [$deep] }), 400, 'AR108', 'AR110'), 'or nested 20 deep: 400 (AR108 or AR110)');
ok(matches_sql(q_get('/api/film', { filters => [{ name => 'title', op => '==', val => q{x' OR '1'='1} }] }), q{SELECT '[]'::json}),
    'a value with SQL in it matches nothing');
ok(check_error(q_get('/api/film', { filters => [{ name => 'id; DROP TABLE film', op => '==', val => 1 }] }), 400, 'AR105'),
    'a column name with SQL in it: 400 AR105');
is(psql('SELECT count(*) FROM film'), $TOTAL, 'film still has all its rows');

# ============================================================ restless dialect, /restless
my $p1 = r(GET => '/restless/film');
ok(matches_sql($p1, page_sql()), '/restless/film: {"num_results":30,"page":1,"total_pages":3,"objects":[first 10]}');
ok(ct_ok($p1), '/restless/film: application/json; charset=utf-8');
my ($np, $nq) = query_of(links($p1)->{next});
my ($lp, $lq) = query_of(links($p1)->{last});
ok(defined $np && $np eq '/restless/film' && ($nq->{page} // '') eq '2', 'page 1: Link rel="next" is page 2')
    or diag('Link: ' . ($p1->header('Link') // 'none'));
ok(defined $lp && $lp eq '/restless/film' && ($lq->{page} // '') eq '3', 'page 1: Link rel="last" is page 3');
ok(matches_sql(r(GET => '/restless/film?page=2'), page_sql(page => 2)), '/restless/film?page=2');
my $p3 = r(GET => '/restless/film?page=3');
ok(matches_sql($p3, page_sql(page => 3)), '/restless/film?page=3, the last page');
ok(!exists links($p3)->{next} && exists links($p3)->{last}, 'the last page: rel="last", no rel="next"')
    or diag('Link: ' . ($p3->header('Link') // 'none'));
my $p7 = r(GET => '/restless/film?results_per_page=7&page=2');
ok(matches_sql($p7, page_sql(per => 7, page => 2)), 'results_per_page=7&page=2');
($np, $nq) = query_of(links($p7)->{next});
($lp, $lq) = query_of(links($p7)->{last});
ok(($nq->{page} // '') eq '3' && ($nq->{results_per_page} // '') eq '7', 'rel="next" is page 3 of 7 rows')
    or diag('Link: ' . ($p7->header('Link') // 'none'));
ok(($lq->{page} // '') eq '5', 'rel="last" is page 5 (ceil(30 / 7))');
ok(matches_sql(r(GET => '/restless/film?page=5&results_per_page=7'), page_sql(per => 7, page => 5)), 'a short last page');

# --- q= in the restless dialect
my $S90 = { filters => [{ name => 'year', op => '>=', val => 1990 }] };
my $q1 = q_get('/restless/film', $S90);
ok(matches_sql($q1, page_sql(where => 'year >= 1990')), 'q= filter: num_results counts the matches');
my $next = links($q1)->{next};
ok(defined $next && matches_sql(r(GET => $next // '/none'), page_sql(where => 'year >= 1990', page => 2)),
    'following rel="next" keeps q=: page 2 of the matches') or diag('next: ' . ($next // 'none'));
ok(matches_sql(q_get('/restless/film', { filters => [{ name => 'year', op => '>=', val => 1990 }],
        order_by => [{ field => 'rating', direction => 'desc' }, { field => 'id' }] }, 'page=2&results_per_page=4'),
    page_sql(where => 'year >= 1990', order => 'rating DESC, id', per => 4, page => 2)), 'q= order_by with page and results_per_page');
ok(matches_sql(q_get('/restless/film', { filters => [{ name => 'id', op => '<', val => 0 }] }),
    q{SELECT json_build_object('num_results', 0, 'page', 1, 'total_pages', 0, 'objects', '[]'::json)}),
    'no match: num_results 0, total_pages 0, objects []');
my $ql = decode_body(q_get('/restless/film', { order_by => [{ field => 'id' }], limit => 3, offset => 2 }));
is(scalar(@{ diff_json(tag_json(ref $ql eq 'HASH' ? $ql->{objects} : undef),
        psql_json('SELECT json_agg(f ORDER BY id) FROM (SELECT * FROM film ORDER BY id LIMIT 3 OFFSET 2) f')) }), 0,
    'q= limit and offset: objects are those 3 rows');
ok(matches_sql(q_get('/restless/people', { filters => [{ name => 'active', op => '==', val => JSON::PP::true }] }),
    page_sql(rel => 'people', where => 'active', extra =>
        ", (SELECT to_json(t) FROM teams t WHERE t.id = people.team_id) AS teams"
        . ", (SELECT coalesce(json_agg(e ORDER BY e.person_id, e.team_id), '[]') FROM enrollment e"
        . " WHERE e.person_id = people.id) AS enrollment_collection")),
    '/restless/people?q=: objects with their relationships (teams, enrollment_collection)');

# --- page size: default 10, capped by AutoRestMaxRows 50
ok(matches_sql(r(GET => '/restless/many'), page_sql(rel => 'many')), '/restless/many: 10 objects, total_pages 250');
my $big = r(GET => '/restless/many?results_per_page=100');
ok(matches_sql($big, page_sql(rel => 'many', per => 50)), 'results_per_page=100 is capped at 50: total_pages 50');
($np, $nq) = query_of(links($big)->{next});
ok(($nq->{page} // '') eq '2', 'capped: rel="next" is page 2') or diag('Link: ' . ($big->header('Link') // 'none'));

# --- single rows
ok(matches_sql(r(GET => '/restless/film/3'), 'SELECT row_to_json(f) FROM film f WHERE id = 3'), '/restless/film/3: the plain object');
ok(matches_sql(q_get('/restless/film', { filters => [{ name => 'id', op => '==', val => 3 }], single => JSON::PP::true }),
    'SELECT row_to_json(f) FROM film f WHERE id = 3'), 'single, one match: the plain object');
ok(rl_error(q_get('/restless/film', { filters => [{ name => 'id', op => '==', val => -1 }], single => JSON::PP::true }), 404),
    'single, no match: 404 {"message"}');
ok(rl_error(q_get('/restless/film', { filters => [{ name => 'year', op => '==', val => 1979 }], single => JSON::PP::true }), 400),
    'single, several matches: 400 {"message"}');

# --- errors: {"message"} only
ok(rl_error(r(GET => '/restless/film/99999'), 404), '/restless/film/99999: 404 {"message"}');
ok(rl_error(r(GET => '/restless/nope'), 404), '/restless/nope: 404 {"message"}');
ok(rl_error(q_get('/restless/film', '{bad'), 400), 'q={bad: 400 {"message"}');
ok(rl_error(q_get('/restless/film', { filters => [{ name => 'year', op => '~~', val => 1 }] }), 400), 'unknown op: 400 {"message"}');
ok(rl_error(q_get('/restless/film', { filters => [{ name => 'nope', op => '==', val => 1 }] }), 400), 'unknown column: 400 {"message"}');
ok(rl_error(r(GET => '/restless/film?foo=1'), 400), 'an unknown query parameter: 400 {"message"}');
ok(rl_error(r(GET => '/restless/film?page=abc'), 400), 'page=abc: 400 {"message"}');

# --- every operator in this dialect too (num_results counts all the matches)
for my $o (@ALLOPS) {
    my ($op, $col, $val, $where) = @$o;
    ok(matches_sql(q_get('/restless/film', { filters => [leaf($op, $col, $val)] }), page_sql(where => $where)),
        "/restless/film q= op $op");
}

# --- nothing leaks
my @errors = grep { $_->code >= 400 } @collected;
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 15 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
