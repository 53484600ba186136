# 400_roles.t: who is asking (issue 13), end to end on the roles virtual host
# (t/conf/extra.conf.in, <VirtualHost roles>; t/fixtures/96_roles.sql). Each request
# runs as the PostgreSQL role httpd's authentication gives it, the connecting role
# autorest_auth only ever switching to it: /users (Basic, the user's own role),
# /fixed (one role for all), /plain (no role directive: autorest_auth itself), /nobody
# (401 AR701 with WWW-Authenticate Bearer), /optional (anonymous ar_anon without
# credentials: 42501 is 401 with a Basic challenge; with them, the user), /env (the
# role from a request header, a bound value: an injection attempt is only a role that
# does not exist), /claims (everyone one role, rows kept apart by request.jwt.claims).
# What whoami() is told (current_user, session_user, request.user, .auth_type,
# .jwt.claims, .method, .path). Refused roles (carol: no such role; "none"; a name
# with SQL in it; ar_outsider: not grantable) are 403 AR702, logged at warn, and
# never fall back to the connecting role. Row-level security in every path of /users:
# pages, one row by key (vnd.pgrst.object+json: 406), counts (exact, estimated: her 3
# rows, never bob's 1,500; planned), CSV, embeds both ways, keyset cursors (signed
# for one caller: another's use is 400 AR112), RPC, writes (a row for another owner:
# 403 and nothing written; PATCH and DELETE of another's rows touch nothing). The
# index of /optional leaves out what the role may not read or execute.
# Every expected value is PostgreSQL's, read by psql as superuser. Rows written here
# are projects id 9400 and memos whose body carries this run's tag; both removed.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use JSON::PP ();
use ARTest;

plan tests => 87;

Apache::TestRequest::module('roles');

my $JSON = JSON::PP->new->utf8->canonical;
my $OBJ = 'application/vnd.pgrst.object+json';
my $MINE = 9400;    # the project id this file writes
my $RUN = sprintf 't400-%d-%d', $$, time;    # a tag no earlier run used, for memos

sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub cr { hdr(shift, 'Content-Range') }
sub post {
    my ($path, $body, @h) = @_;
    return req(POST => $path, 'Content-Type' => 'application/json', @h,
        Content => ref $body ? $JSON->encode($body) : $body);
}
# is_sql(RES, SQL, NAME): a 200 whose JSON body is exactly SQL's one json value.
sub is_sql { my ($res, $sql, $name) = @_; ok(matches_sql($res, $sql), $name) }
# projects_where(WHERE): the projects rows WHERE gives, as a json array in id order.
sub projects_where {
    "SELECT coalesce(json_agg(p ORDER BY id), '[]') FROM secure.projects p WHERE $_[0]"
}
sub count_where { psql("SELECT count(*) FROM secure.projects WHERE $_[0]") }
# the relation and function names of an index, each list sorted and comma-joined
sub index_names {
    my $r = shift;
    my $j = ($r->code == 200 && decode_body($r)) || {};
    return (join(',', sort map { $_->{name} } @{ $j->{relations} || [] }),
            join(',', sort map { $_->{name} } @{ $j->{functions} || [] }));
}

# a row an earlier, interrupted run may have left
psql("DELETE FROM secure.projects WHERE id = $MINE");

my $alice_n = count_where("owner = 'alice'");
my $bob_n = count_where("owner = 'bob'");
my $all_n = count_where('true');
ok($alice_n > 0 && $bob_n > 1000, "the fixture: alice has $alice_n projects, bob $bob_n");

# ------------------------------------------------------------------ a role per request
my $r = req(GET => '/users/projects', as('alice'));
is_sql($r, projects_where("owner = 'alice'"), '/users as alice: exactly her projects');
$r = req(GET => '/users/projects?order=id.desc&limit=20', as('bob'));
is_sql($r, "SELECT json_agg(p ORDER BY id DESC) FROM (SELECT * FROM secure.projects WHERE owner = 'bob'
            ORDER BY id DESC LIMIT 20) p", '/users as bob: exactly his projects (the last 20)');

is_deeply(whoami('/users', as('alice')), {
    current_user => 'alice', session_user => 'autorest_auth', user => 'alice',
    auth_type => 'Basic', claims => { sub => 'alice', role => 'alice' },
    method => 'GET', path => '/users/rpc/whoami' },
    'whoami as alice: role alice on autorest_auth, request.user, .auth_type, claims, method, path');
is_deeply(whoami('/users', as('bob')), {
    current_user => 'bob', session_user => 'autorest_auth', user => 'bob',
    auth_type => 'Basic', claims => { sub => 'bob', role => 'bob' },
    method => 'GET', path => '/users/rpc/whoami' },
    'whoami as bob: his own');
$r = post('/users/rpc/whoami', {}, as('alice'));
is(($r->code == 200 && decode_body($r) || {})->{method}, 'POST', 'whoami by POST: request.method POST');

my $w = whoami('/fixed', as('bob'));
is("$w->{current_user}|$w->{user}|$w->{claims}{role}", 'ar_member|bob|ar_member',
   '/fixed as bob: current_user ar_member, request.user bob, claims role ar_member');

$w = whoami('/plain');
is("$w->{current_user}|$w->{session_user}", 'autorest_auth|autorest_auth',
   '/plain (no role directive): runs as the connecting role itself');
is($w->{user}, '', '/plain: request.user empty, no one authenticated');
$w = whoami('/plain', as('alice'));
is($w->{current_user}, 'autorest_auth', '/plain with credentials sent anyway: still autorest_auth');

# ------------------------------------------------------------------ no one authenticated
$r = req(GET => '/nobody/notices');
ok(check_error($r, 401, 'AR701'), '/nobody (role from the user, no auth, no anonymous role): 401 AR701');
is(hdr($r, 'WWW-Authenticate'), 'Bearer', '... with WWW-Authenticate: Bearer (no AuthType Basic there)');

$r = req(GET => '/optional/notices');
is_sql($r, "SELECT json_agg(n ORDER BY id) FROM secure.notices n", '/optional anonymously: notices readable');
$r = req(GET => '/optional/projects');
ok(check_error($r, 401, '42501'), '/optional anonymously: projects is 401 42501 (the anonymous role ran)');
is(hdr($r, 'WWW-Authenticate'), 'Basic realm="autorest tests"', '... with the Basic challenge of the Location');
ok(check_error(req(GET => '/optional/vault'), 401, '42501'), '/optional anonymously: vault 401 42501');
$w = whoami('/optional');
is("$w->{current_user}|$w->{user}|$w->{auth_type}", 'ar_anon||',
   '/optional anonymously: current_user ar_anon, no request.user nor auth_type');
$r = req(GET => '/optional/projects', as('alice'));
is_sql($r, projects_where("owner = 'alice'"), '/optional with alice credentials: her projects');
$r = req(GET => '/optional/vault', as('alice'));
ok(check_error($r, 403, '42501'), 'vault as alice: 403 42501 (authenticated)');
is(hdr($r, 'WWW-Authenticate'), 'none', '... and no challenge');
ok(check_error(req(GET => '/users/vault', as('alice')), 403, '42501'), '/users/vault as alice: 403 42501');

# ------------------------------------------------------------------ refused roles
my $size = log_mark();
$r = req(GET => '/users/projects', as('carol'));
ok(check_error($r, 403, 'AR702'), 'carol (no such role): 403 AR702');
like(log_since($size), qr/\[autorest:warn\].*AR702: role "carol" refused: /,
     '... logged at warn: AR702: role "carol" refused');
is(hdr($r, 'WWW-Authenticate'), 'none', '... no challenge: she did authenticate');

$size = log_mark();
$r = req(GET => '/users/projects', as('none'));
ok(check_error($r, 403, 'AR702'), 'user "none" (SET ROLE NONE would be the connecting role): 403 AR702');
ok(check_error(req(GET => '/users/rpc/whoami', as('none')), 403, 'AR702'),
   '... whoami as "none" too: no fall-back to autorest_auth');
like(log_since($size), qr/\[autorest:warn\].*AR702: role "none" refused/, '... logged at warn');

my $evil = "x';RESET ROLE;--";
$r = req(GET => '/users/projects', as($evil));
ok(check_error($r, 403, 'AR702'), "user \"$evil\": 403 AR702");
ok(check_error(req(DELETE => '/users/projects?id=gt.0', as($evil)), 403, 'AR702'), "... a DELETE as \"$evil\": 403 AR702");
is(count_where('true'), $all_n, "... and projects still has its $all_n rows");

ok(check_error(req(GET => '/users/projects', as('ar_outsider')), 403, 'AR702'),
   'ar_outsider (a role autorest_auth may not become): 403 AR702');

# ------------------------------------------------------------------ the role from the environment
$r = req(GET => '/env/projects', 'X-Test-Role' => "alice'; RESET ROLE; --");
ok(check_error($r, 403, 'AR702'), "/env, X-Test-Role \"alice'; RESET ROLE; --\": 403 AR702, only a name");
$r = req(GET => '/env/projects', 'X-Test-Role' => 'alice');
is_sql($r, projects_where("owner = 'alice'"), '/env, X-Test-Role alice: her projects');
$r = req(GET => '/env/projects?order=id&limit=20', 'X-Test-Role' => 'bob');
is_sql($r, "SELECT json_agg(p ORDER BY id) FROM (SELECT * FROM secure.projects WHERE owner = 'bob'
            ORDER BY id LIMIT 20) p", '/env, X-Test-Role bob: his (the first 20)');
$r = req(GET => '/env/notices');
is_sql($r, "SELECT json_agg(n ORDER BY id) FROM secure.notices n", '/env without the header: the anonymous role reads notices');
ok(check_error(req(GET => '/env/projects'), 401, '42501'), '... but not projects: 401 42501');

# ------------------------------------------------------------------ claims
$r = req(GET => '/claims/memos?order=id', as('alice'));
is_sql($r, "SELECT coalesce(json_agg(m ORDER BY id), '[]') FROM secure.memos m WHERE sub = 'alice'",
       '/claims as alice (role ar_claims): only her memo');
$r = req(GET => '/claims/memos?order=id', as('bob'));
is_sql($r, "SELECT coalesce(json_agg(m ORDER BY id), '[]') FROM secure.memos m WHERE sub = 'bob'",
       '/claims as bob (b* -> ar_claims): only his');
ok(psql("SELECT count(*) FROM secure.memos WHERE sub = 'bob'") == 2
   && psql("SELECT count(*) FROM secure.memos WHERE sub = 'alice'") == 1, '... (the fixture: 1 of hers, 2 of his)');
ok(check_error(req(GET => '/claims/memos', as('carol')), 403, 'AR702'),
   '/claims as carol (mapped to ar_outsider, not grantable): 403 AR702');
$r = post('/claims/memos', { body => "$RUN alice" }, as('alice'), Prefer => 'return=representation');
is($r->code, 201, '/claims: alice POSTs a memo: 201');
is(psql("SELECT string_agg(sub, ',') FROM secure.memos WHERE body = '$RUN alice'"), 'alice',
   '... its sub (the default, from request.jwt.claims) is alice');
$r = post('/claims/memos', { sub => 'bob', body => "$RUN forged" }, as('alice'));
ok(check_error($r, 403, '42501'), '/claims: alice POSTs a memo as sub bob: 403 42501 (the policy)');
is(psql("SELECT count(*) FROM secure.memos WHERE body = '$RUN forged'"), 0, '... nothing written');
psql("DELETE FROM secure.memos WHERE body LIKE '$RUN%'");

# ------------------------------------------------------------------ RLS in every read path
$r = req(GET => '/users/projects?id=eq.101', as('alice'));
is($r->code . ' ' . body_of($r), '200 []', "bob's project by key as alice: 200 []");
ok(check_error(req(GET => '/users/projects?id=eq.101', as('alice'), Accept => $OBJ), 406, 'AR402'),
   '... as vnd.pgrst.object+json: 406');
$r = req(GET => '/users/projects?id=eq.101', as('bob'), Accept => $OBJ);
is_sql($r, "SELECT row_to_json(p) FROM secure.projects p WHERE id = 101", '... as bob: his object');

my $acr = '0-' . ($alice_n - 1) . "/$alice_n";
$r = req(GET => '/users/projects', as('alice'), Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "200 $acr", "count=exact as alice: 200, Content-Range $acr");
$r = req(GET => '/users/projects', as('alice'), Prefer => 'count=estimated');
is($r->code . ' ' . cr($r), "200 $acr", "count=estimated as alice: exactly her $alice_n, nothing of bob's $bob_n");
$r = req(GET => '/users/projects?limit=2', as('alice'), Prefer => 'count=estimated');
is($r->code . ' ' . cr($r), "206 0-1/$alice_n", "count=estimated, limit=2 as alice: 206, 0-1/$alice_n");
$r = req(GET => '/users/projects?limit=2', as('bob'), Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "206 0-1/$bob_n", "count=exact, limit=2 as bob: 206, 0-1/$bob_n");
# past the row cap (1000) the planner's figure would come from every owner's rows
$r = req(GET => '/users/projects?limit=2', as('bob'), Prefer => 'count=estimated');
is($r->code . ' ' . cr($r), "206 0-1/$bob_n", "count=estimated past the row cap as bob: exactly his $bob_n");
# the planner's figure for her rows, as she sees the table (read by psql as alice)
my $plan = $JSON->decode(psql("SET ROLE alice; EXPLAIN (FORMAT JSON) SELECT * FROM secure.projects"));
is($plan->[0]{Plan}{'Plan Rows'}, $alice_n, "the planner's figure for alice's projects is her $alice_n");
$r = req(GET => '/users/projects', as('alice'), Prefer => 'count=planned');
is($r->code . ' ' . cr($r), "200 $acr", "count=planned as alice: 200, Content-Range $acr");
is_sql($r, projects_where("owner = 'alice'"), '... with her rows');

$r = req(GET => '/users/projects?order=id', as('alice'), Accept => 'text/csv');
my $csv = join '', map { "$_\r\n" } 'id,owner,name',
    split /\n/, psql("SELECT id || ',' || owner || ',' || name FROM secure.projects WHERE owner = 'alice' ORDER BY id");
is($r->code . "\n" . body_of($r), "200\n$csv", 'text/csv as alice: exactly her rows');

$r = req(GET => '/users/projects?select=name,tasks(title)&order=id&tasks.order=id', as('alice'));
is_sql($r, "SELECT json_agg(json_build_object('name', p.name, 'tasks',
              (SELECT coalesce(json_agg(json_build_object('title', t.title) ORDER BY t.id), '[]')
               FROM secure.tasks t WHERE t.project_id = p.id AND t.owner = 'alice')) ORDER BY p.id)
           FROM secure.projects p WHERE p.owner = 'alice'",
       'embed projects -> tasks as alice: her projects, her tasks only');
unlike(body_of($r), qr/b-task-on-a/, "... never bob's task on her project");
$r = req(GET => '/users/tasks?select=title,projects(name)&order=id', as('bob'));
is_sql($r, "SELECT json_agg(json_build_object('title', t.title, 'projects',
              (SELECT json_build_object('name', p.name) FROM secure.projects p
               WHERE p.id = t.project_id AND p.owner = 'bob')) ORDER BY t.id)
           FROM secure.tasks t WHERE t.owner = 'bob'",
       "embed tasks -> projects as bob: his tasks, the project null where it is alice's");
ok(psql("SELECT count(*) FROM secure.tasks t JOIN secure.projects p ON p.id = t.project_id
         WHERE t.owner = 'bob' AND p.owner = 'alice'") > 0,
   "... (the fixture has a task of bob's on alice's project)");

$r = req(GET => '/users/projects?order=id&limit=1', as('alice'));
my $next = links($r)->{next};
ok(defined $next && $next =~ /[?&]cursor=/, "keyset: alice's first page has a Link rel=next with a cursor")
    or diag('Link: ' . hdr($r, 'Link'));
$next //= '/users/projects?order=id&limit=1&cursor=none';
$r = req(GET => $next, as('alice'));
is_sql($r, "SELECT json_agg(p) FROM (SELECT * FROM secure.projects WHERE owner = 'alice' ORDER BY id OFFSET 1 LIMIT 1) p",
       '... followed by alice: her second project');
ok(check_error(req(GET => $next, as('bob')), 400, 'AR112'), '... the same URL as bob: 400 AR112');
ok(check_error(req(GET => $next =~ s{^/users/}{/fixed/}r, as('alice')), 400, 'AR112'),
   '... at /fixed (alice as ar_member): 400 AR112');

$r = req(GET => '/users/rpc/my_projects?order=id', as('alice'));
is_sql($r, projects_where("owner = 'alice'"), 'rpc/my_projects as alice: only hers');
$r = req(GET => '/users/rpc/member_count', as('alice'));
is($r->code . ' ' . body_of($r), "200 $alice_n", "rpc/member_count as alice: $alice_n");
$r = req(GET => '/users/rpc/member_count', as('bob'));
is($r->code . ' ' . body_of($r), "200 $bob_n", "rpc/member_count as bob: $bob_n");
ok(check_error(req(GET => '/optional/rpc/member_count'), 401, '42501'),
   'rpc/member_count anonymously (no EXECUTE for ar_anon): 401 42501');

# ------------------------------------------------------------------ RLS on writes
$r = post('/users/projects', { id => $MINE, owner => 'bob', name => "$RUN for bob" }, as('alice'));
ok(check_error($r, 403, '42501'), "alice POSTs a project owned by bob: 403 42501");
is(count_where('true'), $all_n, '... nothing written');
$r = post('/users/projects', { id => $MINE, name => "$RUN mine" }, as('alice'), Prefer => 'return=representation');
is($r->code, 201, 'alice POSTs her own: 201');
is(psql("SELECT owner FROM secure.projects WHERE id = $MINE"), 'alice', '... owned by alice (the default current_user)');
is_deeply(decode_body($r), [{ id => $MINE, owner => 'alice', name => "$RUN mine" }], '... the representation');

my $row101 = psql('SELECT row_to_json(p) FROM secure.projects p WHERE id = 101');
$r = req(PATCH => '/users/projects?id=eq.101', as('alice'), 'Content-Type' => 'application/json',
         Prefer => 'return=representation', Content => '{"name": "taken by alice"}');
is($r->code . ' ' . body_of($r), '200 []', "alice PATCHes bob's 101: 200, no row changed");
is(psql('SELECT row_to_json(p) FROM secure.projects p WHERE id = 101'), $row101, "... bob's row as it was");
$r = req(PATCH => '/users/projects?id=in.(101,' . $MINE . ')', as('alice'), 'Content-Type' => 'application/json',
         Prefer => 'return=representation', Content => $JSON->encode({ name => "$RUN patched" }));
is_deeply([map { $_->{id} } @{ ($r->code == 200 && decode_body($r)) || [] }], [$MINE],
          "alice PATCHes 101 and her $MINE: only hers changed");
is(psql("SELECT count(*) FROM secure.projects WHERE name = '$RUN patched'"), 1, '... one row in the table');

$r = req(DELETE => '/users/projects?id=eq.102', as('alice'));
is($r->code, 204, "alice DELETEs bob's 102: 204");
is(psql("SELECT owner FROM secure.projects WHERE id = 102"), 'bob', "... bob's row still there");
$r = req(DELETE => "/users/projects?id=in.(102,103,$MINE)", as('alice'), Prefer => 'return=representation');
is_deeply([map { $_->{id} } @{ ($r->code == 200 && decode_body($r)) || [] }], [$MINE],
          "alice DELETEs 102, 103 and her $MINE: only hers goes");
is(count_where("owner = 'bob'") . ' ' . count_where("id = $MINE"), "$bob_n 0", "... bob's $bob_n rows all there, hers gone");
psql("DELETE FROM secure.projects WHERE id = $MINE");
is(count_where('true'), $all_n, "after clean-up: $all_n rows, as before");

# ------------------------------------------------------------------ the index, per role
# what ROLE may read (any column) and execute (a STABLE or IMMUTABLE function: AutoRestRPC read)
sub may_read {
    psql("SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') FROM pg_class
          WHERE relnamespace = 'secure'::regnamespace AND relkind IN ('r', 'v', 'm', 'f', 'p')
            AND has_any_column_privilege('$_[0]', oid, 'SELECT')");
}
sub may_call {
    psql("SELECT coalesce(string_agg(DISTINCT proname, ',' ORDER BY proname), '') FROM pg_proc
          WHERE pronamespace = 'secure'::regnamespace AND prokind = 'f' AND provolatile <> 'v'
            AND has_function_privilege('$_[0]', oid, 'EXECUTE')");
}
my ($rels, $funcs) = index_names(req(GET => '/optional/'));
is("$rels | $funcs", may_read('ar_anon') . ' | ' . may_call('ar_anon'),
   "/optional/ anonymously: what ar_anon may read and call ($rels | $funcs)");
ok(",$rels," =~ /,notices,/ && ",$rels," !~ /,(?:projects|tasks|vault),/ && ",$funcs," !~ /,member_count,/,
   '... notices, but neither projects, tasks, vault nor member_count');
($rels, $funcs) = index_names(req(GET => '/optional/', as('alice')));
is("$rels | $funcs", may_read('alice') . ' | ' . may_call('alice'),
   "/optional/ as alice: what alice may read and call ($rels | $funcs)");
ok(",$rels," =~ /,projects,/ && ",$funcs," =~ /,member_count,/ && ",$rels," !~ /,vault,/,
   '... projects and member_count, not vault');
($rels, $funcs) = index_names(req(GET => '/plain/'));
is("$rels | $funcs", may_read('autorest_auth') . ' | ' . may_call('autorest_auth'),
   "/plain/ (no role): what the connecting role may read and call, as before ($rels | $funcs)");
