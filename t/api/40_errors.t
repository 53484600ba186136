# 40_errors.t: error responses. Each is JSON {code, message, details, hint} with
# Content-Type application/json; charset=utf-8 and the right status and code:
# AR201 unknown/unreadable/excluded/unexposed relation (all alike), AR202 no such
# row, AR203 no such route, AR101 unknown parameter, AR102 bad parameter value,
# AR103 bad Range, AR104 unsatisfiable Range, 22P02/22003 bad primary key value,
# AR301 method not allowed (405 + Allow), OPTIONS, 57014 statement timeout (504).
# No error body may contain SQL, the connection string or a path.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use Time::HiRes qw(time);

plan tests => 55;

my @collected;    # every response of this file, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

# the body with NAME in place of the relation name, for "identical apart from the name"
sub normalized {
    my ($res, $name) = @_;
    my $b = body_of($res);
    $b =~ s/\Q$name\E/NAME/g;
    return join "\n", $res->code, $res->header('Content-Type') // '', $b;
}

# --- unknown relations, and the ones that must look unknown
my $unknown = r(GET => '/api/no_such_rel');
ok(check_error($unknown, 404, 'AR201'), 'unknown relation: 404 AR201');
my $forb = r(GET => '/api/forbidden');
ok(check_error($forb, 404, 'AR201'), 'unreadable relation: 404 AR201');
is(normalized($forb, 'forbidden'), normalized($unknown, 'no_such_rel'),
    'unreadable relation: same answer as an unknown one, apart from the name');
ok(check_error(r(GET => '/api/forbidden/1'), 404, 'AR201'), 'unreadable relation with a pk: 404 AR201');

my $excl = r(GET => '/limited/secret_stuff');
ok(check_error($excl, 404, 'AR201'), 'excluded relation: 404 AR201');
is(normalized($excl, 'secret_stuff'), normalized(r(GET => '/limited/no_such_rel'), 'no_such_rel'),
    'excluded relation: same answer as an unknown one, apart from the name');
ok(check_error(r(GET => '/api/private.notes'), 404, 'AR201'), 'schema not in AutoRestSchemas: 404 AR201');
ok(check_error(r(GET => '/api/pg_catalog.pg_class'), 404, 'AR201'), 'pg_catalog.pg_class: 404 AR201');
ok(check_error(r(GET => '/api/information_schema.tables'), 404, 'AR201'), 'information_schema.tables: 404 AR201');
ok(check_error(r(GET => '/api/other.no_such_rel'), 404, 'AR201'), 'unknown relation in schema other: 404 AR201');
ok(check_error(r(GET => '/api/no_such_rel/1'), 404, 'AR201'), 'unknown relation with a pk: 404 AR201');
ok(check_error(r(GET => "/api/people';DROP%20TABLE%20people;--"), 404, 'AR201'),
    'a relation name with SQL in it: 404 AR201');
ok(check_error(r(GET => '/api/%22people%22'), 404, 'AR201'), 'a quoted relation name: 404 AR201');

# --- rows and routes
ok(check_error(r(GET => '/api/people/999999'), 404, 'AR202'), 'absent primary key: 404 AR202');
ok(check_error(r(GET => '/api/tags/nope'), 404, 'AR202'), 'absent text primary key: 404 AR202');
ok(check_error(r(GET => '/api/uniq_only/1'), 404, 'AR203'), '/<pk> on a table without primary key: 404 AR203');
ok(check_error(r(GET => '/api/enrollment/1'), 404, 'AR203'), '/<pk> on a composite primary key: 404 AR203');
ok(check_error(r(GET => '/api/people_view/1'), 404, 'AR203'), '/<pk> on a view: 404 AR203');
ok(check_error(r(GET => '/api/people/1/extra'), 404, 'AR203'), '/api/people/1/extra: 404 AR203');
ok(check_error(r(GET => '/api/people/1/extra/more'), 404, 'AR203'), '/api/people/1/extra/more: 404 AR203');

# --- parameters
# A parameter that is no reserved word is a filter (PostgREST's grammar): one
# without an operator is a 400 AR107, on a known column or not.
ok(check_error(r(GET => '/api/people?foo=1'), 400, 'AR107'), 'a filter without an operator: 400 AR107');
ok(check_error(r(GET => '/api/people?limit=1&id=1'), 400, 'AR107'), 'the same after a known parameter: 400 AR107');
ok(check_error(r(GET => '/api/?limit=1'), 400, 'AR101'), 'a parameter on the index: 400 AR101');
ok(check_error(r(GET => '/api/many?limit=-1'), 400, 'AR102'), 'limit=-1: 400 AR102');
ok(check_error(r(GET => '/api/many?limit=abc'), 400, 'AR102'), 'limit=abc: 400 AR102');
ok(check_error(r(GET => '/api/many?offset=x'), 400, 'AR102'), 'offset=x: 400 AR102');
ok(check_error(r(GET => '/api/many?offset=-1'), 400, 'AR102'), 'offset=-1: 400 AR102');
ok(check_error(r(GET => '/api/many?limit=99999999999999999999999'), 400, 'AR102'),
    'limit beyond 64 bits: 400 AR102');

# --- Range
ok(check_error(r(GET => '/api/many', Range => 'abc'), 400, 'AR103'), 'Range: abc: 400 AR103');
ok(check_error(r(GET => '/api/many', Range => '5-2'), 416, 'AR104'), 'Range: 5-2: 416 AR104');

# --- bad primary key values: the database's SQLSTATE
ok(check_error(r(GET => '/api/people/abc'), 400, '22P02'), 'text for an integer pk: 400 22P02');
ok(check_error(r(GET => '/api/people/99999999999'), 400, '22003'), 'integer pk out of range: 400 22003');

# --- methods
for my $m (qw(POST PUT PATCH DELETE)) {
    my $res = r($m => '/api/people', 'Content-Type' => 'application/json', Content => '{}');
    ok(check_error($res, 405, 'AR301'), "$m /api/people: 405 AR301");
    my %allow = map { uc($_) => 1 } split /\s*,\s*/, $res->header('Allow') // '';
    ok($allow{GET} && $allow{HEAD} && $allow{OPTIONS}, "$m /api/people: Allow has GET, HEAD, OPTIONS")
        or diag('Allow: ' . ($res->header('Allow') // 'none'));
}
ok(check_error(r(DELETE => '/api/people/1'), 405, 'AR301'), 'DELETE /api/people/1: 405 AR301');
ok(check_error(r(POST => '/api/'), 405, 'AR301'), 'POST /api/: 405 AR301');
is(psql('SELECT count(*) FROM people'), '5', 'nothing was written');

for my $path ('/api/people', '/api/') {
    my $res = r(OPTIONS => $path);
    is($res->code, 200, "OPTIONS $path: 200");
    my %allow = map { uc($_) => 1 } split /\s*,\s*/, $res->header('Allow') // '';
    ok($allow{GET} && $allow{HEAD} && $allow{OPTIONS}, "OPTIONS $path: Allow has GET, HEAD, OPTIONS")
        or diag('Allow: ' . ($res->header('Allow') // 'none'));
}

# --- statement timeout
my $t0 = time;
my $slow = r(GET => '/slow/slow_view');
my $took = time - $t0;
ok(check_error($slow, 504, '57014'), '/slow/slow_view: 504 57014 (statement timeout)');
ok($took < 2.9, 'the timeout fired before the first row could finish') or diag("took $took s");
ok(check_error(r(GET => '/slow/slow_view?limit=1'), 504, '57014'), 'again, with limit=1: 504 57014');
my @after = map { r(GET => '/slow/many?limit=1')->code } 1 .. 4;
is("@after", '200 200 200 200', 'connections are usable after a timeout');
is(r(GET => '/api/people/1')->code, 200, 'and /api is unaffected');

# --- HEAD of an error: the status, no body
my $e = r(HEAD => '/api/no_such_rel');
is($e->code, 404, 'HEAD of an unknown relation: 404');
is(length($e->content // ''), 0, 'HEAD of an unknown relation: no body');

# --- nothing leaks, anywhere in this file
my @leaky = grep { leaks(body_of($_)) } @collected;
is(scalar @leaky, 0, 'no response body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
