# 402_pre_request.t: AutoRestPreRequest and response.headers / response.status
# (issue 13, point 5), on the roles virtual host (t/conf/extra.conf.in, /pre).
# secure.check_request() runs in each request's transaction, as the request's
# role, before its statement: it sees request.headers, says who ran it in an
# X-Pre-Request header (response.headers), answers 418 on x-teapot
# (response.status) and refuses x-block: yes (RAISE SQLSTATE 'PT403'), in which
# case the statement does not run: a POST writes nothing. A call chooses its
# own status and headers (secure.make_created: 201, Location, Cache-Control),
# replacing the pre-request's; malformed ones are ignored and logged. Streamed
# responses (past 1 MiB) keep what the pre-request asked. Where no
# pre-request is set, a read does not look for response settings at all.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use ARTest;

plan tests => 25;

Apache::TestRequest::module('roles');

sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }

my $alice_count = psql("SELECT count(*) FROM secure.projects WHERE owner = 'alice'");

# Every answer carries what the pre-request asked, as the request's role.
my $r = req(GET => '/pre/projects?select=id', as('alice'));
is($r->code, 200, 'a read under a pre-request: 200');
is($r->header('X-Pre-Request'), 'alice', 'the pre-request ran as the role and set a header');
is(scalar @{ decode_body($r) || [] }, $alice_count, 'the statement ran after it, as alice');
$r = req(GET => '/pre/projects?select=id', as('bob'));
is($r->header('X-Pre-Request'), 'bob', 'as bob: its own value');

# response.status from the pre-request, with a reason phrase httpd may not know.
$r = req(GET => '/pre/projects?select=id', as('alice'), 'X-Teapot' => 1);
is($r->code, 418, 'response.status from the pre-request: 418');
is(scalar @{ decode_body($r) || [] }, $alice_count, '... with the body of the statement');

# A refusal: the pre-request's error answers, and the statement never ran.
$r = req(GET => '/pre/projects', as('alice'), 'X-Block' => 'yes');
ok(check_error($r, 403, 'PT403'), 'a pre-request that raises PT403 answers 403');
is(decode_body($r)->{message}, 'blocked by the pre-request', '... with its message');
ok(!defined $r->header('X-Pre-Request'), '... and no header it did not get to set');
my $before = psql('SELECT count(*) FROM secure.projects');
$r = req(POST => '/pre/projects', as('alice'), 'X-Block' => 'yes',
         'Content-Type' => 'application/json', Content => '{"id": 50, "name": "blocked"}');
ok(check_error($r, 403, 'PT403'), 'a blocked POST: 403');
is(psql('SELECT count(*) FROM secure.projects'), $before, '... and nothing was written');

# A write under the pre-request: its header too.
$r = req(POST => '/pre/projects', as('alice'), 'Content-Type' => 'application/json',
         Content => '{"id": 51, "name": "pre-written"}');
is($r->code, 201, 'a POST under a pre-request: 201');
is($r->header('X-Pre-Request'), 'alice', '... with the pre-request header');
is(psql("SELECT owner FROM secure.projects WHERE id = 51"), 'alice', '... written as alice');
psql('DELETE FROM secure.projects WHERE id = 51');

# A call chooses status and headers; they replace the pre-request's.
$r = req(POST => '/pre/rpc/make_created', as('alice'), 'Content-Type' => 'application/json',
         Content => '{"name": "kettle"}');
is($r->code, 201, 'response.status of a call: 201');
is($r->header('Location'), '/things/kettle', 'response.headers of a call: Location');
is($r->header('Cache-Control'), 'no-store', '... and Cache-Control');
ok(!defined $r->header('X-Pre-Request'), "... in place of the pre-request's");

# Malformed settings: ignored and logged, never a broken answer.
my $log_size = log_mark();
$r = req(POST => '/pre/rpc/bad_headers', as('alice'));
is($r->code, 200, 'malformed response.headers and .status: the answer stands (200)');
is(body_of($r), '1', '... with its body');
my $logged = log_since($log_size);
like($logged, qr/response\.headers is not a JSON array/, '... the headers are logged');
like($logged, qr/response\.status 'teapot' is no HTTP status/, '... and the status');

# A streamed response (well past the 1 MiB held) still carries the
# pre-request's header: it was read before the first row.
$r = req(GET => '/pre/rpc/wide', as('bob'));
ok($r->code == 200 && length(body_of($r)) > 2_000_000 && !defined $r->header('Content-Length'),
   'a streamed answer (2 MB, no Content-Length)');
is($r->header('X-Pre-Request'), 'bob', '... carries the pre-request header');

# The connection went back clean: the pre-request's settings are gone.
$r = req(GET => '/plain/rpc/whoami');
is(decode_body($r)->{current_user}, 'autorest_auth',
   'after them all, the pooled connection is the login role again');
