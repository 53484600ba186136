# 161_embed_filters.t: shaping embedded resources at /embed, schema embed
# (t/fixtures/80_embed.sql). rel.col=op.value filters (embedded rows filtered, parents
# kept; also through an alias and two levels down), rel.order, rel.limit, rel.offset,
# rel.or, !inner (parents without a match dropped; on a to-one too), rel=is.null /
# rel=not.is.null with rel() (anti- and semi-join; in or=(...) too), Prefer:
# count=exact with !inner; spread ...rel(...) on a to-one (keys lifted into the
# parent); top-level order=rel(col).desc by a to-one column; 400 for order by a
# to-many column and for a filter on a resource not embedded. (Views: 162_embed_views.t.)
# Expected values are computed by psql over the same rows; arrays compare as multisets
# unless the request orders them (rel.order), then exactly.
#
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use EmbedCheck;

plan tests => 24;

# --- the fixture must let each filter tell itself apart from no filter
my $HOME = q{s.program = 'HOME'};
my %shape = (
    # HOME subsidies in some projects but not all, beside other programs
    'projects with and without a HOME subsidy' => q{SELECT count(DISTINCT project_id) FILTER (WHERE program = 'HOME') > 0
        AND count(DISTINCT project_id) FILTER (WHERE program = 'HOME') < (SELECT count(*) FROM embed.projects)
        AND count(*) FILTER (WHERE program <> 'HOME' AND project_id IN (SELECT project_id FROM embed.subsidies WHERE program = 'HOME')) > 0
        FROM embed.subsidies},
    'a NULL amount beside others in a project' => q{SELECT count(*) > 0 FROM embed.subsidies a JOIN embed.subsidies b
        ON a.project_id = b.project_id AND a.amount IS NULL AND b.amount IS NOT NULL},
    'projects without subsidies and without a site, not the same ones' => q{SELECT
        (SELECT array_agg(id ORDER BY id) FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id))
        IS DISTINCT FROM
        (SELECT array_agg(id ORDER BY id) FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.project_sites s WHERE s.project_id = p.id))
        AND EXISTS (SELECT FROM embed.projects p WHERE NOT EXISTS (SELECT FROM embed.project_sites s WHERE s.project_id = p.id))},
    'a subsidy without project' => q{SELECT count(*) > 0 FROM embed.subsidies WHERE project_id IS NULL},
    'projects in ward 3 and elsewhere' => q{SELECT count(*) FILTER (WHERE ward = 3) > 0 AND count(*) FILTER (WHERE ward <> 3) > 0 FROM embed.projects},
);
for my $case (sort keys %shape) {
    die "fixture 80_embed.sql has no $case\n" unless psql($shape{$case}) eq 't';
}

# --- filters on the embedded rows: the parents stay
same(get(projects => 'select=id,subsidies(id,program)&subsidies.program=eq.HOME'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id, 'program', s.program}, "embed.subsidies s WHERE s.project_id = p.id AND $HOME"),
        'embed.projects p', 'p.id'),
    ['subsidies'], 'subsidies.program=eq.HOME: only HOME subsidies in the arrays, every project kept');
same(get(projects => 'select=id,home:subsidies(id)&home.program=eq.HOME'),
    rows(q{'id', p.id, 'home', } . many(q{'id', s.id}, "embed.subsidies s WHERE s.project_id = p.id AND $HOME"),
        'embed.projects p', 'p.id'),
    ['home'], 'home:subsidies(id)&home.program=eq.HOME: a filter through the alias');
same(get(projects => 'select=id,subsidies(id,program,amount)&subsidies.or=(program.eq.HOME,amount.lt.100)'),
    rows(q{'id', p.id, 'subsidies', }
        . many(q{'id', s.id, 'program', s.program, 'amount', s.amount},
            "embed.subsidies s WHERE s.project_id = p.id AND ($HOME OR s.amount < 100)"),
        'embed.projects p', 'p.id'),
    ['subsidies'], 'subsidies.or=(program.eq.HOME,amount.lt.100)');
same(get(tags => 'select=label,projects(name,subsidies(id))&projects.subsidies.program=eq.HOME'),
    rows(q{'label', t.label, 'projects', }
        . many(q{'name', p.name, 'subsidies', } . many(q{'id', s.id}, "embed.subsidies s WHERE s.project_id = p.id AND $HOME"),
            'embed.projects p JOIN embed.project_tags j ON j.project_id = p.id WHERE j.tag_id = t.id'),
        'embed.tags t', 't.id'),
    ['projects', 'projects.subsidies'], 'projects.subsidies.program=eq.HOME: a filter two levels down');
same(get(subsidies => 'select=id,projects(name,ward)&projects.ward=eq.3'),
    rows(q{'id', s.id, 'projects', } . one(q{'name', p.name, 'ward', p.ward}, 'embed.projects p WHERE p.id = s.project_id AND p.ward = 3'),
        'embed.subsidies s', 's.id'),
    [], 'projects.ward=eq.3 on a to-one: null where the project is filtered out, every subsidy kept');

# --- order, limit and offset inside the arrays
same(get(projects => 'select=id,subsidies(id,amount)&subsidies.order=amount.desc'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id, 'amount', s.amount}, 'embed.subsidies s WHERE s.project_id = p.id', 's.amount DESC'),
        'embed.projects p', 'p.id'),
    [], 'subsidies.order=amount.desc: each array in that order (NULL first, as PostgreSQL sorts DESC)');
same(get(tags => 'select=label,projects(name)&projects.order=name.desc'),
    rows(q{'label', t.label, 'projects', }
        . many(q{'name', p.name}, 'embed.projects p JOIN embed.project_tags j ON j.project_id = p.id WHERE j.tag_id = t.id', 'p.name DESC'),
        'embed.tags t', 't.id'),
    [], 'projects.order=name.desc through the many-to-many junction');
same(get(projects => 'select=id,subsidies(id)&subsidies.order=id.desc&subsidies.limit=1'),
    rows(q{'id', p.id, 'subsidies', }
        . many(q{'id', x.id}, '(SELECT * FROM embed.subsidies s WHERE s.project_id = p.id ORDER BY s.id DESC LIMIT 1) x', 'x.id DESC'),
        'embed.projects p', 'p.id'),
    [], 'subsidies.limit=1: at most one per project (the highest id)');
same(get(projects => 'select=id,subsidies(id)&subsidies.order=id&subsidies.offset=1'),
    rows(q{'id', p.id, 'subsidies', }
        . many(q{'id', x.id}, '(SELECT * FROM embed.subsidies s WHERE s.project_id = p.id ORDER BY s.id OFFSET 1) x', 'x.id'),
        'embed.projects p', 'p.id'),
    [], 'subsidies.offset=1: each array without its first');

# --- !inner: parents without a match are dropped
same(get(projects => 'select=id,subsidies!inner(id)&subsidies.program=eq.HOME'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id}, "embed.subsidies s WHERE s.project_id = p.id AND $HOME"),
        "embed.projects p WHERE EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id AND $HOME)", 'p.id'),
    ['subsidies'], 'subsidies!inner(id)&subsidies.program=eq.HOME: only projects with a HOME subsidy');
same(get(projects => 'select=id,subsidies!inner(id)'),
    rows(q{'id', p.id, 'subsidies', } . many(q{'id', s.id}, 'embed.subsidies s WHERE s.project_id = p.id'),
        'embed.projects p WHERE EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id)', 'p.id'),
    ['subsidies'], 'subsidies!inner(id): only projects with subsidies');
same(get(subsidies => 'select=id,projects!inner(name)'),
    rows(q{'id', s.id, 'projects', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s WHERE s.project_id IS NOT NULL', 's.id'),
    [], 'projects!inner(name) on a to-one: the subsidy without project is dropped');
same(get(subsidies => 'select=id,projects!inner(name)&projects.ward=eq.3'),
    rows(q{'id', s.id, 'projects', } . one(q{'name', p.name}, 'embed.projects p WHERE p.id = s.project_id'),
        'embed.subsidies s WHERE s.project_id IN (SELECT id FROM embed.projects WHERE ward = 3)', 's.id'),
    [], 'projects!inner(name)&projects.ward=eq.3: only subsidies of ward 3 projects');
my $n = psql("SELECT count(*) FROM embed.projects p WHERE EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id AND $HOME)");
my $cr = get(projects => 'select=id,subsidies!inner(id)&subsidies.program=eq.HOME', Prefer => 'count=exact');
is($cr->header('Content-Range') // '', '0-' . ($n - 1) . "/$n", 'Prefer: count=exact with !inner counts the parents kept')
    or diag('status ' . $cr->code);

# --- rel() with rel=is.null / not.is.null: anti- and semi-joins
same(get(projects => 'select=id,subsidies()&subsidies=is.null'),
    rows(q{'id', p.id}, 'embed.projects p WHERE NOT EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id)', 'p.id'),
    [], 'subsidies()&subsidies=is.null: the projects without subsidies, no subsidies key');
same(get(projects => 'select=id,subsidies()&subsidies.program=eq.HOME&subsidies=not.is.null'),
    rows(q{'id', p.id}, "embed.projects p WHERE EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id AND $HOME)", 'p.id'),
    [], 'subsidies()&subsidies.program=eq.HOME&subsidies=not.is.null: the projects with a HOME subsidy');
same(get(subsidies => 'select=id,projects()&projects=is.null'),
    rows(q{'id', s.id}, 'embed.subsidies s WHERE NOT EXISTS (SELECT FROM embed.projects p WHERE p.id = s.project_id)', 's.id'),
    [], 'projects()&projects=is.null on a to-one: the subsidies without project');
same(get(projects => 'select=id,subsidies(),project_sites()&or=(subsidies.is.null,project_sites.is.null)'),
    rows(q{'id', p.id}, 'embed.projects p WHERE NOT EXISTS (SELECT FROM embed.subsidies s WHERE s.project_id = p.id)
        OR NOT EXISTS (SELECT FROM embed.project_sites x WHERE x.project_id = p.id)', 'p.id'),
    [], 'or=(subsidies.is.null,project_sites.is.null): either missing');

# --- spread: the to-one's keys in the parent
same(get(subsidies => 'select=id,...projects(name,ward)'),
    rows(q{'id', s.id, 'name', p.name, 'ward', p.ward}, 'embed.subsidies s LEFT JOIN embed.projects p ON p.id = s.project_id', 's.id'),
    [], 'select=id,...projects(name,ward): name and ward beside id, null without project');
same(get(subsidies => 'select=id,...projects(project_name:name,project_budget:budget)'),
    rows(q{'id', s.id, 'project_name', p.name, 'project_budget', p.budget},
        'embed.subsidies s LEFT JOIN embed.projects p ON p.id = s.project_id', 's.id'),
    [], 'spread with aliases inside');

# --- top-level order by a to-one column
same(get(subsidies => 'select=id,projects(name)&order=projects(name).desc'),
    rows(q{'id', s.id, 'projects', } . one(q{'name', p2.name}, 'embed.projects p2 WHERE p2.id = s.project_id'),
        'embed.subsidies s LEFT JOIN embed.projects p ON p.id = s.project_id', 'p.name DESC, s.id'),
    [], 'order=projects(name).desc: subsidies by their project name (NULL first), then by id');

# --- errors
ok(embed_error(get(projects => 'select=id,subsidies(amount)&order=subsidies(amount)'), 400),
    'order=subsidies(amount): a to-many cannot order the parents, 400');
ok(embed_error(get(projects => 'select=id&subsidies.program=eq.HOME'), 400),
    'subsidies.program=eq.HOME without subsidies in select: 400');

# --- nothing leaks
my @errors = grep { $_->code >= 300 } collected();
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 2 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
