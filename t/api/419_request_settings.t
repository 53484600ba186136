# 419_request_settings.t: a read sends the request's settings (request.method,
# .path, .headers, ...) where its statement may run the database's own code,
# which alone can read them: a row security policy, a view's function, a type
# made in the database, a cast. A read of plain tables runs none, and sends
# one statement instead of two (issue 16: that statement took a fifth of
# PostgreSQL's time for one row by key); where a role is taken, they go with
# it. AutoRestRequestSettings always sends them with every request. The
# statements of a request are its access log line's prepared + reused (the
# request's statement counts there, also through a pooler, where the
# session's settings that go instead do not).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use MIME::Base64 ();
use Time::HiRes ();

plan tests => 31;

my $ACCESS_LOG = "$FindBin::Bin/../logs/autorest_log";
my $mark = 100;

# get(PATH, HEADERS): the response to GET PATH, made unique in the access log
# by a limit of its own, and the number of statements the request sent.
my $line;
sub get {
    my ($path, @headers) = @_;
    $mark++;
    my $uri = $path . (index($path, '?') >= 0 ? '&' : '?') . "limit=$mark";
    my $res = req(GET => $uri, @headers);
    $line = '';
    for (1 .. 50) {
        if (open my $fh, '<', $ACCESS_LOG) {
            ($line) = grep { index($_, "\"GET $uri ") >= 0 } <$fh>;
            last if $line;
        }
        Time::HiRes::sleep(0.05);
    }
    my ($prepared, $reused) = ($line // '') =~ /prepared=(\d+) reused=(\d+)/;
    return ($res, defined $reused ? $prepared + $reused : 'no log line');
}

sub labels { join ',', map { $_->{label} // 'null' } @{ decode_body($_[0]) // [] } }

# --- nothing of the database's runs: one statement, the read
my ($res, $n) = get('/settings/plain?order=id');
is($res->code . ' ' . labels($res), '200 one,two', 'a plain table is read');
is($n, 1, '... with one statement: no request settings');
($res, $n) = get('/settings/plain_view?order=id');
is($res->code . ' ' . labels($res), '200 one,two', 'a view of it');
is($n, 1, '... one statement');
($res, $n) = get('/settings/moods');
is($res->code . ' ' . ($res->content =~ /"calm"/ ? 'calm' : $res->content), '200 calm',
   'a table with an enum column');
is($n, 1, '... one statement (an enum\'s functions are built in)');
($res, $n) = get('/settings/note?select=id,plain(label)');
like($res->content, qr/"plain":\{"label":"one"\}/, 'an embedded plain table');
is($n, 1, '... one statement');

# --- code that reads them runs: the settings go first
($res, $n) = get('/settings/guarded?order=id');
is($res->code . ' ' . labels($res), '200 one,two',
   'row security whose policy asks request.method: it sees GET');
is($n, 2, '... two statements: the settings, then the read');
($res, $n) = get('/settings/echo?order=id');
my $paths = join ',', map { $_->{path} // 'null' } @{ decode_body($res) // [] };
is($paths, '/settings/echo,/settings/echo', 'a view whose function asks request.path: it sees the path');
is($n, 2, '... two statements');
($res, $n) = get('/settings/asked?order=id');
is($res->code . ' ' . labels($res), '200 one,two',
   'a view that asks request.method with current_setting() itself: it sees GET');
is($n, 2, '... two statements (a built-in function, found in the view\'s text)');
($res, $n) = get('/settings/shades');
like($res->content, qr/"shade":"DARK"/, 'an enum with a cast to json of its own: the cast runs');
is($n, 2, '... two statements');
($res, $n) = get('/settings/note?select=id,guarded(label)');
like($res->content, qr/"guarded":\{"label":"two"\}/,
     'an embedded table with that policy: its row is seen');
is($n, 2, '... two statements');
($res, $n) = get('/settings/pairs');
like($res->content, qr/"p":\{"a":1,"b":2\}/, 'a column of a composite type made in the database');
is($n, 2, '... two statements: its text is its own functions\'');
($res, $n) = get('/settings/plain?select=id,label::text');
is($res->code, 200, 'a cast in select=');
is($n, 2, '... two statements: a cast may be a function made in the database');
$res = req(GET => '/settings/rpc/asked_path');
is(decode_body($res) // '', '/settings/rpc/asked_path', 'a call: the function sees the path');

# --- AutoRestRequestSettings always
($res, $n) = get('/settings_always/plain?order=id');
is($res->code . ' ' . labels($res), '200 one,two', 'AutoRestRequestSettings always: the plain table');
is($n, 2, '... two statements');

# --- a role to take: the settings go with it, in the statement that takes
# it. The connecting role (autorest_auth) reads no table itself, and the
# vault is no one's but its owner's
Apache::TestRequest::module('roles');
my $alice = 'Basic ' . MIME::Base64::encode_base64('alice:secret', '');
($res, $n) = get('/users/notices?order=id', Authorization => $alice);
is($res->code . ' ' . ($line =~ / role=(\S+) / ? $1 : 'no role'), '200 alice',
   'a plain table as alice: read as her role');
is($n, 2, '... two statements: the role\'s, then the read');
($res, $n) = get('/users/vault', Authorization => $alice);
ok(check_error($res, 403, '42501'), '... the vault as alice: 403 42501, the role was taken');
Apache::TestRequest::module('default');

# --- one connection, the two kinds in turn: nothing of one request's
# settings is seen by the next (they are local to its transaction)
my $kept = one_child();
my @seen;
for (1 .. 4) {
    push @seen, join ',', map { $_->{label} // 'null' } @{ decode_body($kept->('/settings/plain?order=id')) // [] };
    push @seen, join ',', map { $_->{path} // 'null' } @{ decode_body($kept->('/settings/echo?order=id&limit=1')) // [] };
}
is(join(' ', @seen), join(' ', ('one,two /settings/echo') x 4), 'plain and echo in turn on one connection');
is(psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'autorest_test'"
        . " AND state = 'idle in transaction'"), 0, '... and no connection is left in a transaction');
my $guarded = psql("SET ROLE autorest_web; SELECT count(*) FROM settings.guarded");
is($guarded, 0, 'the policy hides the rows from a session that sets no request.method (the check can fail)');
