# 160_embed.t: resource embedding in select= (PostgREST's select=*,rel(*)) at /embed,
# schema embed (t/fixtures/80_embed.sql). Many-to-one (an object, null when the key
# is NULL), one-to-many (an array, [] when none), one-to-one (an object or null),
# many-to-many through a junction (an array), alias:rel(...), rel(*), casts, aliases
# and JSON paths inside an embed, nested embeds, rel() (the key is left out),
# disambiguation by !constraint and !column, the ambiguous case (300 naming both
# constraints), a self-reference (PostgREST 12: manager_id(...) is the to-one side,
# people(...) and people!manager_id(...) the to-many side), a two-column foreign key,
# and 400s (no relationship, unknown relation, a hint that names nothing, unknown
# column inside an embed). Filters and order on the embedded side are in
# t/api/161_embed_filters.t, views in t/api/162_embed_views.t.
# Expected values are json_build_object / to_json / json_agg over the same rows run by
# psql; arrays inside the rows (not the rows themselves) compare as multisets, as
# PostgREST leaves their order unspecified without rel.order.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use EmbedCheck;

plan tests => 38;

sub keys_of { join ' ', top_keys(body_of(shift)) }

# --- the fixture must have the cases these tests tell apart
my %shape = (
    'a subsidy without project'         => 'SELECT count(*) FROM embed.subsidies WHERE project_id IS NULL',
    'a project without subsidies'       => 'SELECT count(*) FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id)',
    'a project with several subsidies'  => 'SELECT count(*) FROM (SELECT project_id FROM embed.subsidies GROUP BY 1 HAVING count(*) > 1) x',
    'a project without site'            => 'SELECT count(*) FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.project_sites s WHERE s.project_id = p.id)',
    'a project without tags'            => 'SELECT count(*) FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.project_tags t WHERE t.project_id = p.id)',
    'a tag without projects'            => 'SELECT count(*) FROM embed.tags t WHERE NOT EXISTS (SELECT FROM embed.project_tags x WHERE x.tag_id = t.id)',
    'an inspection without reviewer'    => 'SELECT count(*) FROM embed.inspections WHERE reviewer_id IS NULL',
    'an inspector who is not reviewer'  => 'SELECT count(*) FROM embed.inspections WHERE inspector_id IS DISTINCT FROM reviewer_id',
    'a person without manager'          => 'SELECT count(*) FROM embed.people WHERE manager_id IS NULL',
    'a person with a manager'           => 'SELECT count(*) FROM embed.people WHERE manager_id IS NOT NULL',
    'a lease without unit'              => 'SELECT count(*) FROM embed.leases l WHERE NOT EXISTS (SELECT FROM embed.units u WHERE (u.building, u.unit_no) = (l.building, l.unit_no))',
    'a unit no in two buildings'        => 'SELECT count(*) FROM (SELECT unit_no FROM embed.units GROUP BY 1 HAVING count(*) > 1) x',
    'a unit with several leases'        => 'SELECT count(*) FROM (SELECT building, unit_no FROM embed.leases GROUP BY 1, 2 HAVING count(*) > 1) x',
);
for my $case (sort keys %shape) {
    die "fixture 80_embed.sql has no $case\n" unless psql($shape{$case}) > 0;
}

# --- many-to-one: an object, null when the foreign key is NULL
same(get(subsidies => 'select=id,projects(id,name)'),
    rows(q{'id', s.id, 'projects', } . one(q{'id', p.id, 'name', p.name}, 'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    [], 'subsidies?select=id,projects(id,name): an object per row, null without project');
my $sstar = get(subsidies => 'select=*,projects(*)');
same($sstar,
    q{SELECT json_agg((SELECT to_json(x) FROM (SELECT s.*, (SELECT to_json(p) FROM embed.projects p
        WHERE p.id = s.project_id) AS projects) x) ORDER BY s.id) FROM embed.subsidies s},
    [], 'subsidies?select=*,projects(*): every column on both sides, values as to_json gives them');
my $ko = get(subsidies => 'select=id,program,projects(name)');
is(keys_of($ko), 'id program projects', 'subsidies?select=id,program,projects(name): keys id program projects')
    or diag(substr(body_of($ko), 0, 300));
same(get(subsidies => 'select=id,project:projects(name)'),
    rows(q{'id', s.id, 'project', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    [], 'alias:rel(...): the key is the alias');
same(get(subsidies => 'select=id,projects(title:name,budget::text,kind:meta->>kind,levels:meta->levels)'),
    rows(q{'id', s.id, 'projects', }
        . one(q{'title', p.name, 'budget', p.budget::text, 'kind', p.meta->>'kind', 'levels', p.meta->'levels'},
            'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    [], 'aliases, a cast and JSON paths inside an embed');
same(get(subsidies => 'select=projects(name)'),
    rows(q{'projects', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    [], 'select=projects(name): an embed and no column of the parent');

# --- one-to-many: an array, [] when none
same(get(projects => 'select=id,subsidies(id,amount)'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id, 'amount', s.amount}, 'embed.subsidies s WHERE s.project_id = p.id'),
        'embed.projects p', 'p.id'),
    ['subsidies'], 'projects?select=id,subsidies(id,amount): an array per row, [] without subsidies');
my $pstar = get(projects => 'select=*,subsidies(*)');
same($pstar,
    q{SELECT json_agg((SELECT to_json(x) FROM (SELECT p.*, (SELECT coalesce(json_agg(s), '[]')
        FROM embed.subsidies s WHERE s.project_id = p.id) AS subsidies) x) ORDER BY p.id) FROM embed.projects p},
    ['subsidies'], 'projects?select=*,subsidies(*): numerics with trailing zeros, timestamptz, jsonb, unicode');
# The comparisons are by value (10.5 equals 10.50); the text must be PostgreSQL's too. Amounts
# are embedded in $pstar, budgets and jsonb in $sstar (and nowhere else in each).
my %texts = (
    amount => [$pstar, q{SELECT '"amount":' || s.amount FROM embed.subsidies s JOIN embed.projects p ON p.id = s.project_id
        WHERE s.amount IS NOT NULL}],
    budget => [$sstar, q{SELECT '"budget":' || p.budget FROM embed.projects p JOIN embed.subsidies s ON s.project_id = p.id
        WHERE p.budget IS NOT NULL}],
    levels => [$sstar, q{SELECT '"levels":' || (p.meta->'levels')::text FROM embed.projects p JOIN embed.subsidies s ON s.project_id = p.id
        WHERE p.meta ? 'levels'}],
);
my (@lost, $seen);
for my $k (sort keys %texts) {
    my ($res, $sql) = @{ $texts{$k} };
    (my $flat = body_of($res)) =~ s/\s+//g;
    for my $t (split /\n/, psql($sql)) {
        $seen++;
        $t =~ s/\s+//g;
        push @lost, $res->request->uri->path_query . ": $t" if $flat !~ /\Q$t\E[,}]/;
    }
}
ok($seen >= 12 && !@lost, 'numbers inside embedded rows keep PostgreSQL\'s text (10.50, 0.10, 2.50 in jsonb)')
    or diag("$seen expected; not in the body: " . join(' ', @lost));
same(get(projects => 'select=id,subsidies(id)&limit=2'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id}, 'embed.subsidies s WHERE s.project_id = p.id'),
        '(SELECT * FROM embed.projects ORDER BY id LIMIT 2) p', 'p.id'),
    ['subsidies'], 'limit=2 pages the parents; their arrays stay whole');
same(get(projects => 'select=id,subsidies(program)&ward=eq.1'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'program', s.program}, 'embed.subsidies s WHERE s.project_id = p.id'),
        'embed.projects p WHERE p.ward = 1', 'p.id'),
    ['subsidies'], 'a filter on the parent with an embed');
same(get(projects => 'select=name,subsidies(id)&order=name.desc'),
    rows(q{'name', p.name, 'subsidies', } . many(q{'id', s.id}, 'embed.subsidies s WHERE s.project_id = p.id'),
        'embed.projects p', 'p.name DESC'),
    ['subsidies'], 'order=name.desc on the parent with an embed');
same(get(projects => 'select=name,subsidies(program,amount)&id=eq.1', Accept => 'application/vnd.pgrst.object+json'),
    q{SELECT json_build_object('name', p.name, 'subsidies', }
        . many(q{'program', s.program, 'amount', s.amount}, 'embed.subsidies s WHERE s.project_id = p.id')
        . q{) FROM embed.projects p WHERE p.id = 1},
    ['subsidies'], 'Accept: application/vnd.pgrst.object+json: the one object (with that Content-Type), its array inside');

# --- one-to-one: an object or null, from either side
same(get(projects => 'select=id,project_sites(address)'),
    rows(q{'id', p.id, 'project_sites', } . one(q{'address', x.address}, 'embed.project_sites x WHERE x.project_id = p.id'),
        'embed.projects p', 'p.id'),
    [], 'projects?select=id,project_sites(address): one-to-one, an object or null');
same(get(project_sites => 'select=address,projects(name)'),
    rows(q{'address', x.address, 'projects', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = x.project_id'),
        'embed.project_sites x', 'x.project_id'),
    [], 'project_sites?select=address,projects(name): the other side, an object');

# --- many-to-many through project_tags
same(get(projects => 'select=id,tags(id,label)'),
    rows(q{'id', p.id, 'tags', }
        . many(q{'id', t.id, 'label', t.label}, 'embed.tags t JOIN embed.project_tags j ON j.tag_id = t.id WHERE j.project_id = p.id'),
        'embed.projects p', 'p.id'),
    ['tags'], 'projects?select=id,tags(id,label): many-to-many, an array of tags, [] without');
same(get(tags => 'select=label,projects(name)'),
    rows(q{'label', t.label, 'projects', }
        . many(q{'name', p.name}, 'embed.projects p JOIN embed.project_tags j ON j.project_id = p.id WHERE j.tag_id = t.id'),
        'embed.tags t', 't.id'),
    ['projects'], 'tags?select=label,projects(name): the other way');
same(get(projects => 'select=id,project_tags(tags(label))'),
    rows(q{'id', p.id, 'project_tags', }
        . many(q{'tags', } . one(q{'label', t.label}, 'embed.tags t WHERE t.id = j.tag_id'),
            'embed.project_tags j WHERE j.project_id = p.id'),
        'embed.projects p', 'p.id'),
    ['project_tags'], 'through the junction by hand: project_tags(tags(label))');

# --- nested embeds
same(get(subsidies => 'select=id,projects(name,subsidies(id))'),
    rows(q{'id', s.id, 'projects', }
        . one(q{'name', p.name, 'subsidies', } . many(q{'id', s2.id}, 'embed.subsidies s2 WHERE s2.project_id = p.id'),
            'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    ['projects.subsidies'], 'subsidies?select=id,projects(name,subsidies(id)): to-one, then to-many');
same(get(tags => 'select=label,projects(name,subsidies(program,amount),project_sites(address))'),
    rows(q{'label', t.label, 'projects', }
        . many(q{'name', p.name, 'subsidies', }
                . many(q{'program', s.program, 'amount', s.amount}, 'embed.subsidies s WHERE s.project_id = p.id')
                . q{, 'project_sites', } . one(q{'address', x.address}, 'embed.project_sites x WHERE x.project_id = p.id'),
            'embed.projects p JOIN embed.project_tags j ON j.project_id = p.id WHERE j.tag_id = t.id'),
        'embed.tags t', 't.id'),
    ['projects', 'projects.subsidies'], 'three levels: many-to-many, then one-to-many and one-to-one');

# --- rel(): allowed, and its key is left out
same(get(projects => 'select=id,name,subsidies()'),
    rows(q{'id', p.id, 'name', p.name}, 'embed.projects p', 'p.id'),
    [], 'select=id,name,subsidies(): no subsidies key');

# --- disambiguation: two foreign keys from inspections to people
same(get(inspections => 'select=id,inspector:people!inspections_inspector_fkey(name)'),
    rows(q{'id', i.id, 'inspector', } . one(q{'name', x.name}, 'embed.people x WHERE x.id = i.inspector_id'),
        'embed.inspections i', 'i.id'),
    [], 'people!inspections_inspector_fkey(name): the constraint picks the foreign key');
same(get(inspections => 'select=id,reviewer:people!reviewer_id(name)'),
    rows(q{'id', i.id, 'reviewer', } . one(q{'name', x.name}, 'embed.people x WHERE x.id = i.reviewer_id'),
        'embed.inspections i', 'i.id'),
    [], 'people!reviewer_id(name): the column picks the foreign key; null without reviewer');
same(get(inspections => 'select=id,inspector:people!inspector_id(name),reviewer:people!inspections_reviewer_fkey(name),projects(name)'),
    rows(q{'id', i.id, 'inspector', } . one(q{'name', x.name}, 'embed.people x WHERE x.id = i.inspector_id')
            . q{, 'reviewer', } . one(q{'name', y.name}, 'embed.people y WHERE y.id = i.reviewer_id')
            . q{, 'projects', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = i.project_id'),
        'embed.inspections i', 'i.id'),
    [], 'the same table twice under two aliases, and a third embed');
same(get(people => 'select=name,inspected:inspections!inspections_inspector_fkey(id,result)'),
    rows(q{'name', x.name, 'inspected', } . many(q{'id', i.id, 'result', i.result}, 'embed.inspections i WHERE i.inspector_id = x.id'),
        'embed.people x', 'x.id'),
    ['inspected'], 'people?select=name,inspections!inspections_inspector_fkey(...): the one-to-many side');
my $amb = get(inspections => 'select=id,people(name)');
ok(embed_error($amb, 300), 'inspections?select=id,people(name): 300, a JSON body with a code');
ok(embed_error($amb, 300, 'inspections_inspector_fkey', 'inspections_reviewer_fkey'),
    'the 300 body names both candidate constraints');
ok(embed_error(get(people => 'select=name,inspections(id)'), 300, 'inspections_inspector_fkey', 'inspections_reviewer_fkey'),
    'people?select=name,inspections(id): 300 too, naming both');

# --- self-reference (PostgREST 12: the column names the to-one side, the table or a hint the to-many side)
same(get(people => 'select=id,name,manager:manager_id(name)'),
    rows(q{'id', x.id, 'name', x.name, 'manager', } . one(q{'name', m.name}, 'embed.people m WHERE m.id = x.manager_id'),
        'embed.people x', 'x.id'),
    [], 'people?select=id,name,manager:manager_id(name): the manager, or null');
same(get(people => 'select=id,name,reports:people!manager_id(name)'),
    rows(q{'id', x.id, 'name', x.name, 'reports', } . many(q{'name', e.name}, 'embed.people e WHERE e.manager_id = x.id'),
        'embed.people x', 'x.id'),
    ['reports'], 'people?select=id,name,reports:people!manager_id(name): the direct reports, [] without');
same(get(people => 'select=id,people(id)'),
    rows(q{'id', x.id, 'people', } . many(q{'id', e.id}, 'embed.people e WHERE e.manager_id = x.id'),
        'embed.people x', 'x.id'),
    ['people'], 'people?select=id,people(id): the table name is the to-many side too');

# --- a two-column foreign key
same(get(leases => 'select=id,tenant,units(building,unit_no,rent)'),
    rows(q{'id', l.id, 'tenant', l.tenant, 'units', }
        . one(q{'building', u.building, 'unit_no', u.unit_no, 'rent', u.rent},
            'embed.units u WHERE u.building = l.building AND u.unit_no = l.unit_no'),
        'embed.leases l', 'l.id'),
    [], 'leases?select=id,tenant,units(...): joined on both columns, null when a part is NULL');
same(get(units => 'select=building,unit_no,leases(id,tenant)'),
    rows(q{'building', u.building, 'unit_no', u.unit_no, 'leases', }
        . many(q{'id', l.id, 'tenant', l.tenant}, 'embed.leases l WHERE l.building = u.building AND l.unit_no = u.unit_no'),
        'embed.units u', 'u.building, u.unit_no'),
    ['leases'], 'units?select=building,unit_no,leases(id,tenant): the other way, [] without');

# --- errors
ok(embed_error(get(projects => 'select=id,notices(*)'), 400), 'projects?select=id,notices(*): no relationship, 400');
ok(embed_error(get(projects => 'select=id,no_such_rel(*)'), 400), 'projects?select=id,no_such_rel(*): 400');
ok(embed_error(get(inspections => 'select=id,people!no_such_fkey(name)'), 400), 'a hint that names no foreign key: 400');
ok(check_error(get(projects => 'select=id,subsidies(nope)'), 400, 'AR105'), 'an unknown column inside an embed: 400 AR105');

# --- nothing leaks
my @errors = grep { $_->code >= 300 } collected();
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 6 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
