# 162_embed_spread_views.t (draft): what embedding does not serve yet, at /embed
# (t/fixtures/80_embed.sql): spread ...rel(...) on a to-one (keys lifted into the
# parent), top-level order=rel(col).desc by a to-one column, relationships through
# the view v_projects.
# Expected values are computed by psql over the same rows; arrays compare as multisets
# unless the request orders them (rel.order), then exactly.
#
# Apache::Test runs every t/**/*.t when no file is named, so this file skips itself
# while it lives under t/draft/ unless AR_DRAFT is set:
#   AR_DRAFT=1 AR_TEST_FILES=t/draft/162_embed_spread_views.t scripts/test
# Moved to t/api/, it runs like any other.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use EmbedCheck;

plan tests => 6,
    ($FindBin::Bin =~ m{/draft/?$} && !$ENV{AR_DRAFT})
        ? skip_reason('draft: spread, order by an embedded column and views are not served yet (AR_DRAFT=1 runs it)') : 1;

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

# --- relationships through the view v_projects
same(get(v_projects => 'select=id,name,subsidies(id)'),
    rows(q{'id', v.id, 'name', v.name, 'subsidies', } . many(q{'id', s.id}, 'embed.subsidies s WHERE s.project_id = v.id'),
        'embed.v_projects v', 'v.id'),
    ['subsidies'], 'v_projects?select=id,name,subsidies(id): one-to-many through the view');
same(get(subsidies => 'select=id,v_projects(name)'),
    rows(q{'id', s.id, 'v_projects', } . one(q{'name', v.name}, 'embed.v_projects v WHERE v.id = s.project_id'),
        'embed.subsidies s', 's.id'),
    [], 'subsidies?select=id,v_projects(name): many-to-one to the view');
same(get(v_projects => 'select=id,tags(label)'),
    rows(q{'id', v.id, 'tags', }
        . many(q{'label', t.label}, 'embed.tags t JOIN embed.project_tags j ON j.tag_id = t.id WHERE j.project_id = v.id'),
        'embed.v_projects v', 'v.id'),
    ['tags'], 'v_projects?select=id,tags(label): many-to-many through the view');

