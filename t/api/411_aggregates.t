# 411_aggregates.t: aggregates in select= as PostgREST 12 has them (issue 14, point 4),
# where the Location says AutoRestAggregates On (/agg): count(), col.count(), col.sum(),
# col.avg(), col.min(), col.max(), an alias, a cast of the argument (col::numeric.avg())
# and of the value (col.sum()::text), grouped by the other selected columns, with
# filters, order by a grouping column, limit, the Location's row cap on the groups,
# CSV, and Prefer: count=exact counting the groups. Every expected value is
# PostgreSQL's own GROUP BY, run by psql. Refused, 400 with a stable code: /api (off)
# AR122, a sum of text, min of json, an order by what is not grouped, a hidden column
# (AR105, as any unknown one), grouping by json, count() in a spread, aggregates in a
# write's representation. Inside embedded resources each parent's related rows are
# grouped (rel.order= by the grouping columns); beside them, an embedded resource
# groups as a column does, and a spread resource's columns group or are aggregated as
# the parent's own (PostgREST 12's "Using Aggregate Functions with Resource Embedding").
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP;

plan tests => 32;

# is_sql(PATH, SQL, NAME): a 200 whose rows are exactly SQL's, in SQL's order
sub is_sql {
    my ($path, $sql, $name) = @_;
    ok(matches_sql(req(GET => $path), "SELECT coalesce(json_agg(q), '[]') FROM ($sql) q"), $name);
}
is_sql('/agg/people?select=count()', 'SELECT count(*) AS count FROM people', 'count(): the rows');
is_sql('/agg/people?select=count()&active=eq.true',
       'SELECT count(*) AS count FROM people WHERE active', '... after the filters');
my $groups = decode_body(req(GET => '/agg/people?select=team_id,count()'));
is(join(' ', sort map { ($_->{team_id} // 'null') . '=' . $_->{count} } @{ ref $groups eq 'ARRAY' ? $groups : [] }),
   join(' ', sort split /\n/, psql(q{SELECT coalesce(team_id::text, 'null') || '=' || count(*) FROM people GROUP BY team_id})),
   'team_id,count(): a row per team_id (in no order unless asked)');
is_sql('/agg/people?select=team_id,id.sum(),id.avg(),born.min(),born.max(),n:id.count()&order=team_id.asc.nullslast',
       q{SELECT team_id, sum(id) AS sum, avg(id) AS avg, min(born) AS min, max(born) AS max, count(id) AS n
         FROM people GROUP BY team_id ORDER BY team_id NULLS LAST},
       'sum, avg (every digit), min and max of dates, an alias; ordered by the grouping column');
is_sql('/agg/people?select=team_id,id.sum()::text&order=team_id.desc.nullsfirst',
       'SELECT team_id, sum(id)::text AS sum FROM people GROUP BY team_id ORDER BY team_id DESC NULLS FIRST',
       'sum()::text: the value cast');
is_sql('/agg/people?select=id::numeric.avg()', 'SELECT avg(id::numeric) AS avg FROM people',
       'id::numeric.avg(): the argument cast');
is_sql('/agg/people?select=active,name.min(),name.max()&order=active',
       'SELECT active, min(name) AS min, max(name) AS max FROM people GROUP BY active ORDER BY active',
       'min and max of text, grouped by a boolean');
is_sql('/agg/people?select=team_id,count()&order=team_id&limit=2',
       'SELECT team_id, count(*) AS count FROM people GROUP BY team_id ORDER BY team_id LIMIT 2',
       'limit: the first groups');
my $many = req(GET => '/agg/many?select=id,count()&order=id');
is(scalar @{ decode_body($many) || [] }, 50, 'the Location\'s row cap bounds the groups (AutoRestMaxRows 50)');
my $csv = req(GET => '/agg/people?select=team_id,count()&order=team_id.asc.nullslast', Accept => 'text/csv');
is(body_of($csv), psql(q{SELECT string_agg(coalesce(team_id::text, '') || ',' || n, E'\r\n' ORDER BY team_id NULLS LAST)
                         || E'\r\n' FROM (SELECT team_id, count(*) AS n FROM people GROUP BY team_id) g})
                  =~ s/^/team_id,count\r\n/r, 'CSV: the header, then a line per group');
my $counted = req(GET => '/agg/people?select=team_id,count()', Prefer => 'count=exact');
is($counted->header('Content-Range'),
   '0-' . (psql('SELECT count(DISTINCT team_id) + (count(*) FILTER (WHERE team_id IS NULL) > 0)::int FROM people') - 1)
   . '/' . psql('SELECT count(DISTINCT team_id) + (count(*) FILTER (WHERE team_id IS NULL) > 0)::int FROM people'),
   'Prefer: count=exact counts the groups');

# --- inside embedded resources: each parent's related rows grouped
is_sql('/agg/teams?select=id,name,people!people_team_id_fkey(count())&order=id',
       q{SELECT t.id, t.name, (SELECT json_agg(x) FROM (SELECT count(*) AS count FROM people p
         WHERE p.team_id = t.id) x) AS people FROM teams t ORDER BY t.id},
       'an embedded count(): one group per team, 0 for a team without people');
is_sql('/agg/teams?select=id,people!people_team_id_fkey(active,n:count(),id.max())&people.order=active.desc&order=id',
       q{SELECT t.id, (SELECT coalesce(json_agg(x), '[]') FROM (SELECT p.active, count(*) AS n, max(p.id) AS max
         FROM people p WHERE p.team_id = t.id GROUP BY p.active ORDER BY p.active DESC) x) AS people
         FROM teams t ORDER BY t.id},
       'embedded groups by active, ordered as asked (people.order)');
is_sql('/agg/people?select=id,teams!people_team_id_fkey(count())&order=id&limit=3',
       q{SELECT p.id, (SELECT row_to_json(x) FROM (SELECT count(*) AS count FROM teams t
         WHERE t.id = p.team_id) x) AS teams FROM people p ORDER BY p.id LIMIT 3},
       'a to-one embed aggregated: one object');
ok(check_error(req(GET => '/agg/teams?select=id,people!people_team_id_fkey(active,count())&people.order=name'), 400, 'AR102'),
   'an embedded order by what does not group: 400 AR102');

# --- beside embedded resources: each the same rows as PostgreSQL's own join and
# GROUP BY, in any order (an embedded resource cannot be ordered by)
sub is_sql_unordered {
    my ($path, $sql, $name) = @_;
    my $json = JSON::PP->new->canonical;
    my $got = decode_body(req(GET => $path));
    my $want = $json->decode(psql("SELECT coalesce(json_agg(q), '[]') FROM ($sql) q"));
    my $rows = sub { join "\n", sort map { $json->encode($_) } @{ ref $_[0] eq 'ARRAY' ? $_[0] : [] } };
    my ($g, $w) = ($rows->($got), $rows->($want));
    print STDERR "# got:\n$g\n# expected:\n$w\n" if $g ne $w;
    ok(ref $got eq 'ARRAY' && @$got && $g eq $w, $name);
}
is_sql_unordered('/agg/people?select=count(),teams!people_team_id_fkey(name)',
                 q{SELECT count(*) AS count, CASE WHEN t.id IS NULL THEN NULL ELSE json_build_object('name', t.name) END
                   AS teams FROM people p LEFT JOIN teams t ON t.id = p.team_id GROUP BY t.id, t.name},
                 'count() beside a to-one embed: a group per embedded object (and one for none)');
is(req(GET => '/agg/people?select=count(),teams!people_team_id_fkey(name)', Prefer => 'count=exact')
       ->header('Content-Range') =~ s{.*/}{}r,
   psql('SELECT count(DISTINCT team_id) + (count(*) FILTER (WHERE team_id IS NULL) > 0)::int FROM people'),
   '... Prefer: count=exact counts those groups');
is_sql_unordered('/agg/teams?select=n:count(),people!people_team_id_fkey(active)',
                 q{SELECT count(*) AS n, people::json AS people FROM (SELECT t.id, (SELECT coalesce(json_agg(json_build_object('active', p.active)), '[]')
                   FROM people p WHERE p.team_id = t.id)::text AS people FROM teams t) g GROUP BY people},
                 'beside a to-many embed: teams whose lists read the same are one group');
is_sql_unordered('/agg/people?select=active,...teams!people_team_id_fkey(team:name),count()',
                 q{SELECT p.active, t.name AS team, count(*) AS count FROM people p
                   LEFT JOIN teams t ON t.id = p.team_id GROUP BY p.active, t.name},
                 'a spread resource\'s column groups as the parent\'s own');
is_sql('/agg/people?select=active,...teams!people_team_id_fkey(id.max(),name.min())&order=active',
       q{SELECT p.active, max(t.id) AS max, min(t.name) AS min FROM people p
         LEFT JOIN teams t ON t.id = p.team_id GROUP BY p.active ORDER BY p.active},
       'a spread resource\'s columns aggregated over the parent\'s groups');
is_sql('/agg/teams?select=id,people!people_team_id_fkey(count(),teams!people_team_id_fkey(name))&order=id',
       q{SELECT t.id, (SELECT coalesce(json_agg(x), '[]') FROM (SELECT count(*) AS count,
         json_build_object('name', t2.name) AS teams FROM people p JOIN teams t2 ON t2.id = p.team_id
         WHERE p.team_id = t.id GROUP BY t2.name) x) AS people FROM teams t ORDER BY t.id},
       'an embedded level that aggregates groups by its own embedded resource');

# --- refused
ok(check_error(req(GET => '/api/people?select=count()'), 400, 'AR122'), 'AutoRestAggregates off (/api): 400 AR122');
ok(check_error(req(GET => '/agg/people?select=name.sum()'), 400, 'AR102'), 'name.sum(): 400 AR102, text does not add up');
ok(check_error(req(GET => '/agg/type_zoo?select=c_json.min()'), 400, 'AR102'), 'min() of json: 400 AR102, no order');
ok(check_error(req(GET => '/agg/people?select=team_id,count()&order=name'), 400, 'AR102'),
   'order by a column that does not group: 400 AR102');
ok(check_error(req(GET => '/agg/people?select=ssn.count()'), 400, 'AR105'), 'a hidden column: 400 AR105, as an unknown one');
ok(check_error(req(GET => '/agg/type_zoo?select=c_json,count()'), 400, 'AR102'), 'grouping by json: 400 AR102');
ok(check_error(req(GET => '/agg/people?select=active,...teams!people_team_id_fkey(count())'), 400, 'AR106'),
   'count() inside a spread resource: 400 AR106 (count() beside it counts the groups\' rows)');
ok(check_error(req(GET => '/agg/people?select=sum()'), 400, 'AR102'), 'sum() of nothing: 400 AR102');
ok(check_error(req(GET => '/agg/people?select=id.sum()::not%20a%20type'), 400, 'AR102'), 'a cast that is not a type name: 400');
my $w = req(POST => '/agg/people?select=count()', 'Content-Type' => 'application/json',
            Prefer => 'return=representation', Content => '{"name":"x"}');
ok(check_error($w, 400, 'AR122'), 'a write\'s representation does not aggregate: 400 AR122');
is(psql(q{SELECT count(*) FROM people WHERE name = 'x'}), 0, '... and nothing was written');
