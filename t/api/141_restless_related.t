# 141_restless_related.t: Flask-Restless 0.17's related objects and relation filters,
# schema embed (t/fixtures/80_embed.sql). In the restless dialect (/embed_restless)
# every object carries every relationship one level deep (to_dict's deep), named as
# SQLAlchemy's automap names them: a key's table gives <table> (an object, null when
# none), a key to the table gives <table>_collection (a list, [] when none), a
# junction of two keys and nothing else gives <other>_collection on both sides; a
# name wanted twice (two keys to people) takes each key's constraint name after
# "_via_". Tables without a primary key, junctions and views are no models: no
# relationships. The names below are written out by hand from those rules; the
# expected objects are built by psql over the same rows (lists in key order).
# Also: /pk and q={"single":true} objects carry them; Flask-Restless's routes
# /relation/pk/relationship (a page, or one object or null) and .../relationship/pk
# (404 unless related; 404 for a parent that is not there); q= has/any with rel__field and
# with a filter object (nested, many-to-many, self-reference), is_null on a
# relationship, order_by rel__field, and the 400s Flask-Restless gave for has on a
# list, any on an object, a relationship compared with a value. Embedded lists end
# at AutoRestMaxRows in both dialects (/embed_restless_capped, /embed_capped),
# AutoRestHide schema.relation.<relationship> hides a relationship, and hiding a
# column a relationship joins on removes the relationship.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

plan tests => 63;

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

my $J = JSON::PP->new->canonical;
# get(LOCATION, PATH, [SEARCH, [MORE]]): GET LOCATION/PATH?q=SEARCH&MORE
sub get {
    my ($loc, $path, $search, $more) = @_;
    my @q;
    push @q, 'q=' . enc(ref $search ? $J->encode($search) : $search) if defined $search;
    push @q, $more if defined $more;
    return r(GET => "/$loc/$path" . (@q ? '?' . join('&', @q) : ''));
}

# --- what each relation's objects are, in SQL: the row's columns, then one
# expression per relationship under automap's name.
sub list_of { my ($from, $where, $order) = @_; "(SELECT coalesce(json_agg(x ORDER BY $order), '[]') FROM $from x WHERE $where)" }
sub object_of { my ($from, $where) = @_; "(SELECT to_json(x) FROM $from x WHERE $where)" }

my %RELATIONSHIPS = (
    projects => {
        inspections_collection   => list_of('embed.inspections', 'x.project_id = o.id', 'x.id'),
        project_sites_collection => list_of('embed.project_sites', 'x.project_id = o.id', 'x.project_id'),
        subsidies_collection     => list_of('embed.subsidies', 'x.project_id = o.id', 'x.id'),
        tags_collection          => list_of('embed.tags', 'EXISTS (SELECT FROM embed.project_tags j WHERE j.tag_id = x.id AND j.project_id = o.id)', 'x.id'),
    },
    subsidies     => { projects => object_of('embed.projects', 'x.id = o.project_id') },
    project_sites => { projects => object_of('embed.projects', 'x.id = o.project_id') },
    tags => {
        projects_collection => list_of('embed.projects', 'EXISTS (SELECT FROM embed.project_tags j WHERE j.project_id = x.id AND j.tag_id = o.id)', 'x.id'),
    },
    people => {
        people            => object_of('embed.people', 'x.id = o.manager_id'),
        people_collection => list_of('embed.people', 'x.manager_id = o.id', 'x.id'),
        inspections_collection_via_inspections_inspector_fkey => list_of('embed.inspections', 'x.inspector_id = o.id', 'x.id'),
        inspections_collection_via_inspections_reviewer_fkey  => list_of('embed.inspections', 'x.reviewer_id = o.id', 'x.id'),
    },
    inspections => {
        projects                              => object_of('embed.projects', 'x.id = o.project_id'),
        people_via_inspections_inspector_fkey => object_of('embed.people', 'x.id = o.inspector_id'),
        people_via_inspections_reviewer_fkey  => object_of('embed.people', 'x.id = o.reviewer_id'),
    },
    units  => { leases_collection => list_of('embed.leases', 'x.building = o.building AND x.unit_no = o.unit_no', 'x.id') },
    leases => { units => object_of('embed.units', 'x.building = o.building AND x.unit_no = o.unit_no') },
    project_tags => {},   # a junction: no model
    v_projects   => {},   # a view: no model
    notices      => {},   # related to nothing
);
my %KEY = (project_sites => 'project_id', project_tags => 'project_id, tag_id',
           units => 'building, unit_no', v_projects => 'id');

# objects_sql(REL, [WHERE], [ORDER]): REL's objects as the restless dialect shows them.
sub objects_sql {
    my ($rel, $where, $order) = @_;
    my $rels = $RELATIONSHIPS{$rel};
    my $extra = join '', map { ", $rels->{$_} AS $_" } sort keys %$rels;
    $where //= 'true';
    $order //= join ', ', map { "y.$_" } split /, /, ($KEY{$rel} // 'id');
    return "SELECT coalesce(json_agg(y ORDER BY $order), '[]') FROM (SELECT o.*$extra FROM embed.$rel o WHERE $where) y";
}

# objects_ok(RES, SQL, NAME): the page's objects are SQL's, exactly.
sub objects_ok {
    my ($res, $sql, $name) = @_;
    my $what = $res->request->uri->path_query;
    my $body = tag_text(body_of($res), $what);
    my @why;
    push @why, 'status ' . $res->code if $res->code != 200;
    push @why, 'no "objects" in the page' unless $body && $body->[0] eq 'object' && $body->[1]{objects};
    push @why, @{ diff_json($body->[1]{objects}, psql_json($sql)) } unless @why;
    diag("$what: $_") for @why[0 .. ($#why > 19 ? 19 : $#why)];
    ok(!@why, $name);
}

# ids(RES): the ids of a restless page's objects, in order, as "1 2 3".
sub ids {
    my $j = decode_body(shift);
    return 'not a page' unless ref $j eq 'HASH' && ref $j->{objects} eq 'ARRAY';
    return join ' ', map { $_->{id} } @{ $j->{objects} };
}
# ids_of(RES): the same for a PostgREST-dialect array of rows.
sub ids_of {
    my $j = decode_body(shift);
    return 'not an array' unless ref $j eq 'ARRAY';
    return join ' ', map { $_->{id} } @$j;
}
sub sql_ids { join ' ', split /\n/, psql("SELECT id FROM embed.$_[0] o WHERE $_[1] ORDER BY " . ($_[2] // 'id')) }

# restless_error(RES, STATUS): {"message": "..."} only, no leak.
sub restless_error {
    my ($res, $status) = @_;
    my $j = decode_body($res);
    my @why;
    push @why, 'status ' . $res->code . ", expected $status" if $res->code != $status;
    push @why, 'not exactly {"message"}' unless ref $j eq 'HASH' && join(' ', keys %$j) eq 'message';
    push @why, 'leaks: ' . join(' ', leaks(body_of($res))) if leaks(body_of($res));
    diag($res->request->uri->path_query . ": $_") for @why;
    return !@why;
}

# --- the fixture must have what these tests tell apart
ok(psql(q{SELECT count(*) FROM embed.subsidies WHERE project_id IS NULL}) > 0
   && psql(q{SELECT count(*) FROM (SELECT project_id FROM embed.subsidies GROUP BY 1 HAVING count(*) > 2) x}) > 0
   && psql(q{SELECT count(*) FROM embed.people WHERE manager_id IS NULL}) > 0
   && psql(q{SELECT count(*) FROM embed.tags t WHERE NOT EXISTS (SELECT FROM embed.project_tags j WHERE j.tag_id = t.id)}) > 0,
   'fixture: a subsidy without project, a project with 3+ subsidies, a person without manager, an unused tag');

# ================================================= every relation's objects
for my $rel (sort keys %RELATIONSHIPS) {
    objects_ok(get('embed_restless', $rel, undef, 'results_per_page=50'), objects_sql($rel),
               "/embed_restless/$rel: columns and " . (join(', ', sort keys %{ $RELATIONSHIPS{$rel} }) || 'no relationships'));
}

# one object: /pk and q={"single":true}
{
    my $res = get('embed_restless', 'people/2');
    my $want = psql_json(objects_sql('people', 'o.id = 2'));
    my $d = diff_json(tag_text(body_of($res), 'people/2'), $want->[1][0]);
    diag("people/2: $_") for @$d;
    ok($res->code == 200 && !@$d, '/embed_restless/people/2: the object with its relationships');
    $res = get('embed_restless', 'inspections', { filters => [{ name => 'id', op => '==', val => 4 }], single => JSON::PP::true });
    $want = psql_json(objects_sql('inspections', 'o.id = 4'));
    $d = diff_json(tag_text(body_of($res), 'single'), $want->[1][0]);
    diag("single: $_") for @$d;
    ok($res->code == 200 && !@$d, 'q={"single":true}: the object with its relationships');
}

# a filter and a page still apply to the parents only
objects_ok(get('embed_restless', 'projects', { filters => [{ name => 'ward', op => '==', val => 1 }] }),
           objects_sql('projects', 'o.ward = 1'), 'a filter narrows the objects, not their lists');
objects_ok(get('embed_restless', 'subsidies', undef, 'results_per_page=3&page=2'),
           "SELECT coalesce(json_agg(z), '[]') FROM (SELECT z FROM json_array_elements((" . objects_sql('subsidies') . ")) WITH ORDINALITY AS e(z, n) WHERE n BETWEEN 4 AND 6 ORDER BY n) w",
           'page 2 of 3 objects');

# CSV rows stay flat
{
    my $res = r(GET => '/embed_restless/subsidies', Accept => 'text/csv');
    my ($head) = split /\r?\n/, body_of($res) // '';
    ok($res->code == 200 && ($head // '') eq 'id,project_id,program,amount,awarded',
       'CSV: the columns only') or diag('status ' . $res->code . ', header ' . ($head // 'none'));
}

# ======================================================= q= on relationships
my @Q = (
    ['subsidies', { name => 'projects__name', op => 'has', val => 'Maple Court' },
     q{EXISTS (SELECT FROM embed.projects p WHERE p.id = o.project_id AND p.name = 'Maple Court')}, 'has, rel__field = value'],
    ['projects', { name => 'subsidies_collection__program', op => 'any', val => 'HOME' },
     q{EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = o.id AND s.program = 'HOME')}, 'any, rel__field = value'],
    ['projects', { name => 'subsidies_collection', op => 'any', val => { name => 'amount', op => 'gt', val => 1000 } },
     q{EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = o.id AND s.amount > 1000)}, 'any with a filter object'],
    ['tags', { name => 'projects_collection', op => 'any', val => { name => 'ward', op => '==', val => 7 } },
     q{EXISTS (SELECT FROM embed.project_tags j JOIN embed.projects p ON p.id = j.project_id WHERE j.tag_id = o.id AND p.ward = 7)}, 'any through a junction'],
    ['people', { name => 'people_collection__name', op => 'any', val => 'Dana Ødegaard' },
     q{EXISTS (SELECT FROM embed.people r WHERE r.manager_id = o.id AND r.name = 'Dana Ødegaard')}, 'any on a self-reference: the reports'],
    ['people', { name => 'people', op => 'has', val => { name => 'manager_id', op => 'is_null' } },
     q{EXISTS (SELECT FROM embed.people m WHERE m.id = o.manager_id AND m.manager_id IS NULL)}, 'has on a self-reference: the manager'],
    ['projects', { name => 'tags_collection', op => 'any', val => { name => 'projects_collection', op => 'any', val => { name => 'ward', op => '==', val => 1 } } },
     q{EXISTS (SELECT FROM embed.project_tags j JOIN embed.project_tags k ON k.tag_id = j.tag_id JOIN embed.projects p ON p.id = k.project_id WHERE j.project_id = o.id AND p.ward = 1)}, 'nested any: projects sharing a tag with a project of ward 1'],
    ['inspections', { name => 'people_via_inspections_reviewer_fkey__name', op => 'has', val => 'Ana Ruiz' },
     q{EXISTS (SELECT FROM embed.people p WHERE p.id = o.reviewer_id AND p.name = 'Ana Ruiz')}, 'has through one of two keys, by its name'],
    ['subsidies', { name => 'projects', op => 'is_null' }, 'o.project_id IS NULL', 'is_null on a relationship: none'],
    ['projects', { name => 'subsidies_collection', op => 'is_not_null' },
     'EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = o.id)', 'is_not_null on a list: some'],
    ['projects', { name => 'subsidies_collection', op => '==', val => undef },
     'NOT EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = o.id)', '== null on a list: none'],
    ['leases', { name => 'units', op => 'has', val => { name => 'bedrooms', op => '>=', val => 2 } },
     q{EXISTS (SELECT FROM embed.units u WHERE u.building = o.building AND u.unit_no = o.unit_no AND u.bedrooms >= 2)}, 'has over a two-column key'],
);
for my $q (@Q) {
    my ($rel, $filter, $where, $name) = @$q;
    my $want = sql_ids($rel, $where);
    my $all = sql_ids($rel, 'true');
    diag("fixture: $name selects '$want' of '$all'") if $want eq '' || $want eq $all;
    is(ids_of(get('embed', $rel, { filters => [$filter] }, 'select=id')), $want, "q= $name (/embed)");
}
is(ids(get('embed_restless', 'projects', { filters => [$Q[2][1]] })), sql_ids('projects', $Q[2][2]),
   'q= any in the restless dialect too');
is(ids(get('embed_restless', 'subsidies', { order_by => [{ field => 'projects__name', direction => 'desc' }] })),
   sql_ids('subsidies', 'true', '(SELECT p.name FROM embed.projects p WHERE p.id = o.project_id) DESC, id'),
   'order_by rel__field: by the related object\'s field (NULL first descending), then the key');

# Flask-Restless's 400s, {"message"} in its dialect
ok(restless_error(get('embed_restless', 'projects', { filters => [{ name => 'subsidies_collection__program', op => 'has', val => 'HOME' }] }), 400),
   'has on a list: 400');
ok(restless_error(get('embed_restless', 'subsidies', { filters => [{ name => 'projects__name', op => 'any', val => 'x' }] }), 400),
   'any on an object: 400');
ok(restless_error(get('embed_restless', 'subsidies', { filters => [{ name => 'projects__name', op => '==', val => 'x' }] }), 400),
   'rel__field with ==: 400');
ok(restless_error(get('embed_restless', 'subsidies', { filters => [{ name => 'projects', op => '==', val => 1 }] }), 400),
   'a relationship compared with a value: 400');
ok(restless_error(get('embed_restless', 'projects', { filters => [{ name => 'subsidies__program', op => 'any', val => 'x' }] }), 400),
   'a name automap does not give (PostgREST\'s): 400');
ok(restless_error(get('embed_restless', 'projects', { order_by => [{ field => 'subsidies_collection__amount' }] }), 400),
   'order_by a list\'s field: 400');
ok(check_error(get('embed', 'projects', { filters => [{ name => 'subsidies_collection__program', op => 'has', val => 'HOME' }] }), 400, 'AR110'),
   'has on a list in the PostgREST dialect: 400 AR110');
ok(restless_error(get('embed_restless', 'subsidies', { filters => [{ name => 'projects.name', op => '==', val => 'Maple Court' }] }), 400),
   'a dotted q= name is a column\'s (none here), not a related object\'s: 400');
ok(restless_error(get('embed_restless', 'projects', { filters => [{ name => 'subsidies_collection', op => 'any', val => { name => 'nope', op => '==', val => 1 } }] }), 400),
   'an unknown field inside any: 400');

# ======================================================= caps and hiding
{
    my $res = get('embed_restless_capped', 'projects', undef, 'page=1');
    my $j = decode_body($res);
    my $o = ref $j eq 'HASH' && ref $j->{objects} eq 'ARRAY' ? $j->{objects} : [];
    my ($p1) = grep { $_->{id} == 1 } @$o;
    my $want = join ' ', split /\n/, psql('SELECT id FROM embed.subsidies WHERE project_id = 1 ORDER BY id LIMIT 2');
    is(join(' ', map { $_->{id} } @{ $p1->{subsidies_collection} // [] }), $want,
       'AutoRestMaxRows 2: a list keeps its first 2 rows by key (project 1 has 3)');
    ok($p1 && !exists $p1->{tags_collection} && exists $p1->{inspections_collection},
       'AutoRestHide embed.projects.tags_collection: that relationship only is left out');
    ok(restless_error(get('embed_restless_capped', 'projects', { filters => [{ name => 'tags_collection__label', op => 'any', val => 'senior' }] }), 400),
       'a hidden relationship cannot be filtered on either');
    my $l = page_of(get('embed_restless_capped', 'leases'));
    my $u = page_of(get('embed_restless_capped', 'units'));
    ok($l && $u && @{ $l->{objects} } && @{ $u->{objects} }
       && !grep({ exists $_->{units} || exists $_->{unit_no} } @{ $l->{objects} })
       && !grep({ exists $_->{leases_collection} } @{ $u->{objects} }),
       'AutoRestHide embed.leases.unit_no: the relationship through it is gone from both sides');
}
{
    my $res = get('embed_capped', 'projects', undef, 'select=id,subsidies(id)&id=eq.1');
    my $j = decode_body($res);
    my $want = '[' . join(',', map { qq({"id":$_}) } split /\n/, psql('SELECT id FROM embed.subsidies WHERE project_id = 1 ORDER BY id LIMIT 2')) . ']';
    is(ref $j eq 'ARRAY' && @$j ? $J->encode($j->[0]{subsidies}) : 'no rows', $want,
       'PostgREST dialect, AutoRestMaxRows 2: an embedded list keeps 2 rows, by key');
    $res = get('embed_capped', 'projects', undef, 'select=id,subsidies(id)&id=eq.1&subsidies.limit=5&subsidies.order=id.desc');
    $j = decode_body($res);
    $want = '[' . join(',', map { qq({"id":$_}) } split /\n/, psql('SELECT id FROM embed.subsidies WHERE project_id = 1 ORDER BY id DESC LIMIT 2')) . ']';
    is(ref $j eq 'ARRAY' && @$j ? $J->encode($j->[0]{subsidies}) : 'no rows', $want,
       'a larger rel.limit is capped; rel.order stays');
    ok(check_error(get('embed_capped', 'leases', undef, 'select=id,units(rent)'), 400, 'AR113'),
       'PostgREST dialect: no relationship through a hidden column (leases.unit_no): 400 AR113');
}

# ============================================ /relation/pk/relationship routes
# page(RES): the restless page as a Perl structure, or undef
sub page_of { my $j = decode_body(shift); ref $j eq 'HASH' && ref $j->{objects} eq 'ARRAY' ? $j : undef }
objects_ok(get('embed_restless', 'projects/1/subsidies_collection'), objects_sql('subsidies', 'o.project_id = 1'),
           '/projects/1/subsidies_collection: the related objects, each with its relationships');
{
    my $p = page_of(get('embed_restless', 'projects/1/subsidies_collection', undef, 'results_per_page=2&page=2'));
    my $n = psql('SELECT count(*) FROM embed.subsidies WHERE project_id = 1');
    my $last = psql('SELECT id FROM embed.subsidies WHERE project_id = 1 ORDER BY id OFFSET 2 LIMIT 1');
    ok($p && $p->{num_results} == $n && $p->{page} == 2 && $p->{total_pages} == 2
       && @{ $p->{objects} } == 1 && $p->{objects}[0]{id} == $last,
       "a list pages as a collection does: page 2 of 2 is subsidy $last of $n")
        or diag(explain($p));
    $p = page_of(get('embed_restless', 'projects/3/subsidies_collection'));
    ok($p && $p->{num_results} == 0 && !@{ $p->{objects} }, 'a parent without related rows: an empty page');
}
ok(restless_error(get('embed_restless', 'projects/99/subsidies_collection'), 404), 'a parent that is not there: 404');
objects_ok(get('embed_restless', 'tags/1/projects_collection'),
           objects_sql('projects', 'EXISTS (SELECT FROM embed.project_tags j WHERE j.project_id = o.id AND j.tag_id = 1)'),
           '/tags/1/projects_collection: many-to-many, back through the junction');
objects_ok(get('embed_restless', 'people/1/people_collection'), objects_sql('people', 'o.manager_id = 1'),
           '/people/1/people_collection: a self-reference, the reports');
{
    my $res = get('embed_restless', 'subsidies/1/projects');
    my $want = psql_json(objects_sql('projects', 'o.id = (SELECT project_id FROM embed.subsidies WHERE id = 1)'));
    my $d = diff_json(tag_text(body_of($res), 'subsidies/1/projects'), $want->[1][0]);
    diag("subsidies/1/projects: $_") for @$d;
    ok($res->code == 200 && !@$d, '/subsidies/1/projects: one object, with its relationships');
    $res = get('embed_restless', 'subsidies/7/projects');
    is($res->code . ' ' . body_of($res), '200 null', 'a to-one without a related row: null');
    $res = r(GET => '/embed_restless/subsidies/7/projects', Accept => 'text/csv');
    is($res->code . ' ' . body_of($res), "200 id,name,ward,started,budget,meta\r\n",
       'in CSV: the header, no row');
    ok(restless_error(get('embed_restless', 'subsidies/99/projects'), 404), 'a to-one of a parent not there: 404');
    $res = get('embed_restless', 'projects/1/subsidies_collection/2');
    $want = psql_json(objects_sql('subsidies', 'o.id = 2'));
    $d = diff_json(tag_text(body_of($res), 'projects/1/subsidies_collection/2'), $want->[1][0]);
    diag("projects/1/subsidies_collection/2: $_") for @$d;
    ok($res->code == 200 && !@$d, '/projects/1/subsidies_collection/2: one related object by its key');
    ok(psql('SELECT project_id FROM embed.subsidies WHERE id = 4') != 1
       && restless_error(get('embed_restless', 'projects/1/subsidies_collection/4'), 404),
       'a key of an object that is not related: 404');
}
ok(restless_error(get('embed_restless', 'projects/1/nope'), 404), 'an unknown relationship: 404');
ok(restless_error(get('embed_restless_capped', 'projects/1/tags_collection'), 404), 'a hidden relationship: 404');
ok(check_error(get('embed', 'projects/1/subsidies'), 404, 'AR203'), 'the PostgREST dialect has no such route: 404 AR203');

ok(!grep({ !leak_free($_) } @collected), 'no response leaks SQL, paths or internals');
