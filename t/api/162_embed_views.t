# 162_embed_views.t: relationships through the view v_projects at /embed
# (t/fixtures/80_embed.sql): a view that shows a table's key columns takes part in
# the table's relationships, from both sides and through a junction. v_latest's
# first column is a sub-select whose own first column is subsidies.project_id: it
# must not be read as the view's (no relationship to projects through it).
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

plan tests => 5;

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


# --- a sub-select's columns are not the view's
ok(check_error(get(v_latest => 'select=id,projects(id)'), 400, 'AR113'),
   'v_latest?select=id,projects(id): 400, the sub-select\'s subsidies.project_id is not v_latest.latest');
same(get(v_latest => 'select=id,subsidies(id)&order=id'),
    rows(q{'id', v.id, 'subsidies', } . many(q{'id', s.id}, 'embed.subsidies s WHERE s.project_id = v.id'),
        'embed.v_latest v', 'v.id'),
    ['subsidies'], 'v_latest?select=id,subsidies(id)&order=id: one-to-many through its id, projects.id as it is');
