# 10_index.t: GET /api/ and /api, the relation index.
# Shape of every entry (name schema kind comment url primary_key columns), which
# relations are listed (not: unreadable table, partitions, unexposed schema), kinds,
# urls for the default and other schemas, comments, primary keys, and each
# relation's columns (name, format_type, nullable, default, comment) against the
# catalogue as the role autorest_web sees it.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 49;

my $res = req(GET => '/api/');
is($res->code, 200, 'GET /api/ is 200');
ok(ct_ok($res), 'index Content-Type is application/json; charset=utf-8');
my $index = decode_body($res);
ok(ref $index eq 'HASH' && ref $index->{relations} eq 'ARRAY', 'index is {"relations":[...]}');
my @rels = ref $index eq 'HASH' && ref $index->{relations} eq 'ARRAY' ? @{ $index->{relations} } : ();
is(join(',', sort keys %{ ref $index eq 'HASH' ? $index : {} }), 'relations', 'index has no other top-level key');

my $res2 = req(GET => '/api');
is($res2->code, 200, 'GET /api (no slash) is 200');
is(scalar(@{ diff_json(tag_text(body_of($res2), '/api'), tag_text(body_of($res), '/api/')) }), 0,
    '/api and /api/ give the same index');

my %rel;
for my $r (@rels) {
    next unless ref $r eq 'HASH' && defined $r->{schema} && defined $r->{name};
    $rel{"$r->{schema}.$r->{name}"} = $r;
}
my @listed = sort keys %rel;    # before any lookup below autovivifies an entry

# --- shape of every entry
my @bad_shape = grep {
    join(' ', sort keys %$_) ne 'columns comment kind methods name primary_key schema url'
} @rels;
is(scalar @bad_shape, 0, 'every entry has exactly name schema kind comment url primary_key methods columns')
    or diag('bad: ' . join(', ', map { join '/', sort keys %$_ } @bad_shape));
my %kinds = map { $_ => 1 } qw(table view materialized_view foreign_table partitioned_table);
is(scalar(grep { !$kinds{ $_->{kind} // '' } } @rels), 0, 'every kind is one of the five');
my @bad_cols;
for my $r (@rels) {
    if (ref $r->{columns} ne 'ARRAY' || !@{ $r->{columns} }) { push @bad_cols, "$r->{name}: no columns"; next }
    for my $c (@{ $r->{columns} }) {
        push @bad_cols, "$r->{name}: " . join('/', sort keys %$c)
            if join(' ', sort keys %$c) ne 'comment default insertable name nullable type updatable';
        push @bad_cols, "$r->{name}.$c->{name}: nullable is not a boolean"
            unless JSON::PP::is_bool($c->{nullable});
    }
    push @bad_cols, "$r->{name}: primary_key neither null nor an array"
        if defined $r->{primary_key} && ref $r->{primary_key} ne 'ARRAY';
}
is(scalar @bad_cols, 0, 'every column is {name type nullable default comment}, nullable a boolean')
    or diag(join "\n", @bad_cols[0 .. ($#bad_cols > 9 ? 9 : $#bad_cols)]);

# --- what is listed
my @expected = map { "public.$_" } qw(teams people enrollment secret_stuff partly_secret
    uniq_only no_keys tags people_view team_counts events many empty_things hammer
    slow_view type_zoo);
push @expected, 'other.thing';
my @missing = grep { !$rel{$_} } @expected;
is(scalar @missing, 0, 'all readable relations are listed') or diag("missing: @missing");
ok(!$rel{'public.forbidden'}, 'a table the role cannot SELECT is not listed');
ok(!$rel{'public.events_2023'} && !$rel{'public.events_2024'}, 'partitions are not listed');
ok($rel{'public.events'}, 'the partitioned parent is listed');
ok(!$rel{'private.notes'}, 'a schema not in AutoRestSchemas is not listed');
is(scalar(grep { ($_->{schema} // '') !~ /^(public|other)$/ } @rels), 0,
    'only schemas public and other are listed');
my %seen;
is(scalar(grep { $seen{"$_->{schema}.$_->{name}"}++ } @rels), 0, 'no relation is listed twice');

# --- kinds
is($rel{'public.people'}{kind}, 'table', 'people is a table');
is($rel{'public.people_view'}{kind}, 'view', 'people_view is a view');
is($rel{'public.team_counts'}{kind}, 'materialized_view', 'team_counts is a materialized_view');
is($rel{'public.events'}{kind}, 'partitioned_table', 'events is a partitioned_table');
is($rel{'other.thing'}{kind}, 'table', 'other.thing is a table');

# --- urls
is($rel{'public.people'}{url}, '/api/people', 'url of a default-schema relation');
is($rel{'other.thing'}{url}, '/api/other.thing', 'url of another schema\'s relation');
my @bad_urls = grep {
    my $want = $_->{schema} eq 'public' ? "/api/$_->{name}" : "/api/$_->{schema}.$_->{name}";
    ($_->{url} // '') ne $want
} @rels;
is(scalar @bad_urls, 0, 'every url is /api/<name> or /api/<schema>.<name>')
    or diag(join ', ', map { $_->{url} // 'null' } @bad_urls);

# --- comments
is($rel{'public.people'}{comment}, 'People we know', 'table comment');
ok(exists $rel{'public.teams'}{comment} && !defined $rel{'public.teams'}{comment},
    'comment is null when there is none');
is($rel{'public.people_view'}{comment}, 'Active people', 'view comment');
is($rel{'other.thing'}{comment}, 'A thing in another schema', 'comment in schema other');

# --- primary keys
is_deeply($rel{'public.people'}{primary_key}, ['id'], 'people primary_key ["id"]');
is_deeply($rel{'public.enrollment'}{primary_key}, ['person_id', 'team_id'],
    'composite primary_key in key order');
is_deeply($rel{'public.events'}{primary_key}, ['id', 'day'], 'partitioned parent primary_key');
ok(exists $rel{'public.uniq_only'}{primary_key} && !defined $rel{'public.uniq_only'}{primary_key},
    'primary_key is null for a table with only a unique key');
ok(exists $rel{'public.people_view'}{primary_key} && !defined $rel{'public.people_view'}{primary_key},
    'primary_key is null for a view');

# --- columns of people, in detail
my %pc = map { $_->{name} => $_ } @{ $rel{'public.people'}{columns} || [] };
is_deeply([map { $_->{name} } @{ $rel{'public.people'}{columns} || [] }],
    [qw(id name email ssn born team_id active)], 'people columns in column order');
# a JSON boolean as 'true'/'false', anything else as 'not a boolean'
sub jb { my $v = shift; JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : 'not a boolean' }
is_deeply([@{ $pc{id} || {} }{qw(type default comment)}, jb($pc{id}{nullable})],
    ['integer', "nextval('people_id_seq'::regclass)", undef, 'false'],
    'people.id: integer, serial default, no comment, not nullable');
is_deeply([@{ $pc{name} || {} }{qw(type default comment)}, jb($pc{name}{nullable})],
    ['text', undef, 'Full name', 'false'], 'people.name: text, no default, column comment, not null');
is_deeply([@{ $pc{email} || {} }{qw(type default)}, jb($pc{email}{nullable})],
    ['character varying(100)', undef, 'true'], 'people.email: character varying(100), nullable');
is($pc{ssn}{type}, 'character(11)', 'people.ssn: character(11)');
is_deeply([@{ $pc{active} || {} }{qw(type default)}], ['boolean', 'true'], 'people.active: boolean default true');

# --- column-level privileges
is_deeply([map { $_->{name} } @{ $rel{'public.partly_secret'}{columns} || [] }],
    [qw(id public_info)], 'a column the role cannot read is not listed');

# --- type names of type_zoo
my %tz = map { $_->{name} => $_->{type} } @{ $rel{'public.type_zoo'}{columns} || [] };
is_deeply([@tz{qw(c_varchar c_char c_int_2d c_tstz_arr c_double c_enum c_dom_int c_composite c_int4range)}],
    ['character varying(20)', 'character(5)', 'integer[]', 'timestamp with time zone[]',
     'double precision', 'mood', 'posint', 'pair', 'int4range'],
    'type_zoo types are format_type() text');

# --- every listed relation's columns against the catalogue
my $cat = psql_json(<<'SQL');
SELECT json_object_agg(n.nspname || '.' || c.relname, cols)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT json_agg(json_build_object(
               'name', a.attname,
               'type', format_type(a.atttypid, a.atttypmod),
               'nullable', NOT a.attnotnull,
               'default', pg_get_expr(d.adbin, d.adrelid),
               'comment', col_description(c.oid, a.attnum),
               'insertable', a.attgenerated = '' AND a.attidentity <> 'a'
                   AND has_column_privilege('autorest_web', c.oid, a.attnum, 'INSERT')
                   AND has_table_privilege('autorest_web', c.oid, 'INSERT')
                   AND pg_relation_is_updatable(c.oid, false) & 8 = 8,
               'updatable', a.attgenerated = '' AND a.attidentity <> 'a'
                   AND has_column_privilege('autorest_web', c.oid, a.attnum, 'UPDATE')
                   AND has_table_privilege('autorest_web', c.oid, 'UPDATE')
                   AND pg_relation_is_updatable(c.oid, false) & 4 = 4)
           ORDER BY a.attnum) AS cols
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      AND has_column_privilege('autorest_web', c.oid, a.attnum, 'SELECT')
) x
WHERE n.nspname IN ('public', 'other') AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
SQL
my @coldiffs;
for my $key (@listed) {
    my $want = $cat->[1]{$key};
    if (!$want) { push @coldiffs, "$key: not in the catalogue"; next }
    push @coldiffs, @{ diff_json(tag_json($rel{$key}{columns}), $want, $key) };
}
is(scalar @coldiffs, 0, 'every relation\'s columns match pg_attribute (readable ones, in order)')
    or diag(join "\n", @coldiffs[0 .. ($#coldiffs > 19 ? 19 : $#coldiffs)]);

# --- methods: /api is read-only; /w opens every method, which each relation
# lists as far as autorest_web's privileges allow (t/fixtures/90_writes.sql)
is(scalar(grep { join(',', @{ $_->{methods} || [] }) ne 'GET' } @rels), 0,
   'read-only Location: every relation lists GET only');
my $w = decode_body(req(GET => '/w/'));
my %wrel = map { ($_->{name} => $_) } @{ ref $w eq 'HASH' ? $w->{relations} : [] };
is(join(',', @{ $wrel{items}{methods} || [] }), 'GET,POST,PATCH,PUT,DELETE',
   '/w: items takes every method');
is(join(',', @{ $wrel{frozen}{methods} || [] }), 'GET', '/w: frozen (SELECT only) takes GET');
my %stock = map { ($_->{name} => $_) } @{ $wrel{stock}{columns} || [] };
ok(!$stock{doubled}{insertable} && !$stock{doubled}{updatable} && $stock{qty}{insertable},
   '/w: a generated column is neither insertable nor updatable; the others are');

# --- index at /api/ does list what /limited hides (checked in 60_exposure.t)
ok($rel{'public.secret_stuff'}, 'secret_stuff is listed at /api');
ok($pc{ssn}, 'people.ssn is listed at /api');
ok(leak_free($res), 'index body leaks nothing');
