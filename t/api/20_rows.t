# 20_rows.t: GET /api/<rel>, /api/<rel>/, /api/<rel>/<pk> and HEAD.
# Rows carry every readable column in column order; default order is the primary
# key, else the first unique key, else all sortable columns in column order
# (checked against json_agg(... ORDER BY ...) run by psql, and for determinism);
# views, materialized views, partitioned tables, another schema; percent-decoded
# text primary keys; HEAD has GET's headers and no body.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 37;

# --- collections against json_agg with the expected ORDER BY
my $people = req(GET => '/api/people');
is($people->code, 200, 'GET /api/people is 200');
ok(ct_ok($people), 'rows Content-Type is application/json; charset=utf-8');
ok(matches_sql($people, 'SELECT json_agg(p ORDER BY id) FROM people p'),
    'people: all rows, all columns, ordered by primary key');
is(join(' ', top_keys(body_of($people))), 'id name email ssn born team_id active',
    'keys appear in column order');
my $slash = req(GET => '/api/people/');
is(body_of($slash), body_of($people), '/api/people/ (trailing slash) is the same as /api/people');

ok(matches_sql(req(GET => '/api/teams'), 'SELECT json_agg(t ORDER BY id) FROM teams t'), 'teams');
ok(matches_sql(req(GET => '/api/enrollment'),
    'SELECT json_agg(e ORDER BY person_id, team_id) FROM enrollment e'),
    'composite primary key: ordered by (person_id, team_id)');

my $uniq = req(GET => '/api/uniq_only');
ok(matches_sql($uniq, 'SELECT json_agg(u ORDER BY code) FROM uniq_only u'),
    'no primary key: ordered by the unique key');
is(join(',', map { $_->{label} } @{ decode_body($uniq) || [] }), 'mid,zeta,alpha',
    'unique-key order is code 1, 2, 3 (not label, not physical order)');

my $nk = req(GET => '/api/no_keys');
ok(matches_sql($nk, 'SELECT json_agg(n ORDER BY a, b, c) FROM no_keys n'),
    'no key at all: ordered by the sortable columns a, b, c');
is(join(' ', map { "$_->{a}$_->{b}$_->{c}" } @{ decode_body($nk) || [] }),
    '1c3 1z5 2a1 2a9 2b1', 'no-key order is sorted by a, then b, then c');
is(body_of(req(GET => '/api/no_keys')), body_of($nk), 'no-key order is the same on a second request');
my @paged;
for my $off (0, 2, 4) {
    my $page = decode_body(req(GET => "/api/no_keys?limit=2&offset=$off"));
    push @paged, @{ ref $page eq 'ARRAY' ? $page : [] };
}
is(scalar(@{ diff_json(tag_json(\@paged), tag_text(body_of($nk), 'no_keys')) }), 0,
    'no-key pages of 2 concatenate to the full result');

ok(matches_sql(req(GET => '/api/tags'), 'SELECT json_agg(t ORDER BY tag) FROM tags t'),
    'text primary key order');
ok(matches_sql(req(GET => '/api/people_view'), 'SELECT json_agg(v ORDER BY id, name) FROM people_view v'),
    'view: rows ordered by its sortable columns');
ok(matches_sql(req(GET => '/api/team_counts'),
    'SELECT json_agg(m ORDER BY team_id, name, members) FROM team_counts m'),
    'materialized view: rows ordered by its sortable columns');
ok(matches_sql(req(GET => '/api/events'), 'SELECT json_agg(e ORDER BY id, day) FROM events e'),
    'partitioned table: rows of both partitions, ordered by (id, day)');
ok(matches_sql(req(GET => '/api/other.thing'), 'SELECT json_agg(t ORDER BY id) FROM other.thing t'),
    '/api/other.thing: a relation of the second schema');
ok(matches_sql(req(GET => '/api/partly_secret'),
    q{SELECT json_agg(json_build_object('id', id, 'public_info', public_info) ORDER BY id) FROM partly_secret}),
    'only the readable columns of a table with column privileges');

my $empty = req(GET => '/api/empty_things');
is($empty->code, 200, 'an empty table is 200');
is(body_of($empty) =~ s/\s+//gr, '[]', 'an empty table is []');

# --- single rows
my $one = req(GET => '/api/people/1');
is($one->code, 200, 'GET /api/people/1 is 200');
ok(ct_ok($one), 'single row Content-Type is application/json; charset=utf-8');
ok(matches_sql($one, 'SELECT row_to_json(p) FROM people p WHERE id = 1'), '/api/people/1 is that row, as an object');
is(join(' ', top_keys(body_of($one), 1)), 'id name email ssn born team_id active',
    'single row keys in column order');
ok(matches_sql(req(GET => '/api/people/5'), 'SELECT row_to_json(p) FROM people p WHERE id = 5'),
    'a row with NULLs and non-ASCII text');
ok(matches_sql(req(GET => '/api/other.thing/2'), 'SELECT row_to_json(t) FROM other.thing t WHERE id = 2'),
    '/api/other.thing/2');
ok(matches_sql(req(GET => '/api/teams/2'), 'SELECT row_to_json(t) FROM teams t WHERE id = 2'), '/api/teams/2');
ok(matches_sql(req(GET => '/api/tags/hello%20world'), q{SELECT row_to_json(t) FROM tags t WHERE tag = 'hello world'}),
    'text pk with %20 is percent-decoded');
ok(matches_sql(req(GET => '/api/tags/caf%C3%A9'), q{SELECT row_to_json(t) FROM tags t WHERE tag = 'café'}),
    'text pk with UTF-8 percent-encoded');
ok(matches_sql(req(GET => '/api/tags/a+b'), q{SELECT row_to_json(t) FROM tags t WHERE tag = 'a+b'}),
    'a + in a path segment is a plus');

# --- HEAD
my $head = req(HEAD => '/api/people/1');
is($head->code, 200, 'HEAD /api/people/1 is 200');
is(length($head->content // ''), 0, 'HEAD has no body');
is($head->header('Content-Type'), $one->header('Content-Type'), 'HEAD has GET\'s Content-Type');

my $get10 = req(GET => '/api/many?limit=10');
my $head10 = req(HEAD => '/api/many?limit=10');
is($head10->code, 200, 'HEAD /api/many?limit=10 is 200');
is(join(' | ', map { $head10->header($_) // '-' } qw(Content-Type Content-Range Range-Unit Link)),
    join(' | ', map { $get10->header($_) // '-' } qw(Content-Type Content-Range Range-Unit Link)),
    'HEAD of a page has GET\'s Content-Type, Content-Range, Range-Unit and Link');
is(length($head10->content // ''), 0, 'HEAD of a page has no body');
