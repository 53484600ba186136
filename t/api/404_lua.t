# 404_lua.t: body rewriting and request gating stay httpd's job (issue 13,
# point 6), shown with the real mod_lua (t/conf/extra.conf.in, block
# "mod_lua"; scripts in t/conf/lua/).
# /lua_filtered: a LuaOutputFilter (filter.lua) wraps the module's JSON in
# {"filtered_by": "lua", "data": <body>, "buckets": N, "bytes": B} and adds
# X-Lua-Filter. The module's bytes pass through whole and in order, a held
# response's Content-Length (set by the module) does not survive to lie about
# the new length, and a page that streams (past the module's 1 MiB hold, in
# many pieces) arrives whole too.
# /lua_guarded: a LuaHookAccessChecker (access.lua) refuses requests without
# X-Api-Key: letmein with httpd's own 403, before the module runs: a refused
# POST writes nothing, a refused path the module would 404 is 403.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 26;

# filtered = prefix . module body . suffix; (module body, buckets, bytes) or ()
sub unwrap {
    my $b = body_of(shift);
    return $b =~ /\A\{"filtered_by": "lua", "data": (.*), "buckets": (\d+), "bytes": (\d+)\}\z/s
        ? ($1, $2, $3) : ();
}

# --- a held response: the module sent it whole, with a Content-Length
my $plain = req(GET => '/api/teams?order=id');
my $plain_len = $plain->header('Content-Length');
ok(defined $plain_len && $plain_len == length(body_of($plain)),
   'unfiltered, the module gives the held page a Content-Length');

my $r = req(GET => '/lua_filtered/teams?order=id');
is($r->code, 200, 'filtered: 200');
is($r->header('X-Lua-Filter'), 'wrap', 'the Lua filter added its header');
my $cl = $r->header('Content-Length');
ok(!defined $cl || ($cl == length($r->content) && $cl != ($plain_len // -1)),
   "Content-Length is absent or the filtered length, not the module's " . ($plain_len // 'none'))
    or diag("Content-Length $cl, body " . length($r->content) . ' bytes');
ok(ct_ok($r), 'Content-Type still application/json');
my $j = decode_body($r);
is(ref $j eq 'HASH' ? $j->{filtered_by} : undef, 'lua', 'the body is the filter\'s JSON object');
my $d = diff_json(tag_json(ref $j eq 'HASH' ? $j->{data} : undef),
                  psql_json('SELECT json_agg(t ORDER BY id) FROM teams t'));
diag($_) for @$d;
ok(!@$d, '... whose data is exactly the table');
my ($inner, $buckets, $bytes) = unwrap($r);
is($inner, body_of($plain), "... and byte for byte the module's unfiltered body");
is($bytes, length(body_of($plain)), '... all of which the filter counted');

# --- a page past the module's 1 MiB hold: it streams in many passes
$plain = req(GET => '/api/wide?order=id&limit=100');
ok($plain->code == 200 && !defined $plain->header('Content-Length') && length(body_of($plain)) > 1_100_000,
   'unfiltered, 100 wide rows (1.2 MB) stream: no Content-Length');

$r = req(GET => '/lua_filtered/wide?order=id&limit=100');
is($r->code, 200, 'filtered stream: 200');
is($r->header('X-Lua-Filter'), 'wrap', '... with the filter\'s header');
$cl = $r->header('Content-Length');
ok(!defined $cl || $cl == length($r->content), '... and no wrong Content-Length');
is($r->header('Content-Range'), '0-99/*', "... and the module's own headers (Content-Range)");
($inner, $buckets, $bytes) = unwrap($r);
ok(defined $inner && $inner eq body_of($plain),
   "the module's streamed body passed through whole and in order")
    or diag('got ' . length(body_of($r)) . ' filtered bytes, ' . length(body_of($plain)) . ' unfiltered');
cmp_ok($buckets // 0, '>', 1, "the filter got it in several pieces ($buckets)");
# (the unfiltered body itself is checked against the table in 70_streaming.t)
$j = decode_body($r);
my @ids = map { ref $_ eq 'HASH' ? $_->{id} : 'x' } @{ ref $j eq 'HASH' && ref $j->{data} eq 'ARRAY' ? $j->{data} : [] };
is(join(',', @ids), join(',', 1 .. 100), 'the filtered body parses: its data is rows 1 to 100');

# --- the filter belongs to its Location only
$j = decode_body(req(GET => '/api/teams?order=id'));
is(ref $j, 'ARRAY', '/api is not filtered: a bare array');

# --- the access hook: no key, no module
my $log_size = log_mark();
my $count = psql('SELECT count(*) FROM writes.ledger');

$r = req(POST => '/lua_guarded/ledger', 'Content-Type' => 'application/json',
         Content => '{"amount": 404.5}');
is($r->code, 403, 'a POST without X-Api-Key: 403');
my $body = body_of($r);
ok(($r->header('Content-Type') // '') =~ m{^text/html} && $body =~ /<title>403 Forbidden<\/title>/
   && $body !~ /"code"/, "... httpd's HTML 403, not the module's JSON")
    or diag('Content-Type ' . ($r->header('Content-Type') // 'none') . ', body ' . substr($body, 0, 200));
$r = req(POST => '/lua_guarded/ledger', 'X-Api-Key' => 'letme', 'Content-Type' => 'application/json',
         Content => '{"amount": 404.5}');
is($r->code, 403, 'a POST with the wrong key: 403');
is(psql('SELECT count(*) FROM writes.ledger'), $count, '... and neither wrote a row');
is(req(GET => '/lua_guarded/no_such_table')->code, 403,
   'a path the module would answer 404: 403, the module never asked');
my $logged = log_since($log_size);
like($logged, qr{lua_guarded: refused POST /lua_guarded/ledger: no valid X-Api-Key},
     'the Lua hook logged its refusal');

# --- with the key, the module serves
$r = req(POST => '/lua_guarded/ledger', 'X-Api-Key' => 'letmein', 'Content-Type' => 'application/json',
         Content => '{"amount": 404.5}');
is($r->code, 201, 'with X-Api-Key: letmein the POST reaches the module: 201');
is(psql('SELECT count(*) FROM writes.ledger WHERE amount = 404.5'), 1, '... and writes its row');
psql('DELETE FROM writes.ledger WHERE amount = 404.5');
