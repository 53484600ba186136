# 303_call_streaming.t: a function's result too large to hold (over 1 MiB) streams as
# a table's does: at /r_nocap (AutoRestMaxRows 0) calls.wide_rows() answers public.wide's
# 1,000 rows of 12 KB, without Content-Length, complete, equal to PostgreSQL's; a page
# of it streams too; clients hanging up mid-stream leave the pool fit for the next calls.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use IO::Socket::INET ();

plan tests => 7;

my $r = req(GET => '/r_nocap/rpc/wide_rows');
is($r->code, 200, 'GET /r_nocap/rpc/wide_rows: 200');
ok(!defined $r->header('Content-Length'), '... streamed: no Content-Length');
ok(matches_sql($r, 'SELECT json_agg(t ORDER BY id) FROM calls.wide_rows() t'),
   '... the body is every row, as PostgreSQL has them');
$r = req(POST => '/r_nocap/rpc/wide_rows?limit=600&offset=100&select=id,payload', 'Content-Type' => 'application/json',
         Content => '{}');
ok(matches_sql($r, 'SELECT json_agg(t ORDER BY id) FROM (SELECT id, payload FROM calls.wide_rows() ORDER BY id LIMIT 600 OFFSET 100) t'),
   'POST with limit and offset: the page, streamed');
is($r->header('Content-Range') // 'none', '100-699/*', '... Content-Range is the page asked for');

my ($host, $port) = split /:/, Apache::TestRequest::hostport();
for (1 .. 6) {
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp') or die "connect: $!";
    print $s "GET /r_nocap/rpc/wide_rows HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    my $got = '';
    sysread($s, $got, 4096);
    close $s;
}
my @codes = map { req(GET => '/r/rpc/add_them?a=1&b=2')->code } 1 .. 20;
is(join(',', grep { $_ != 200 } @codes), '', 'after clients hung up mid-stream, 20 calls all answer 200');
is(body_of(req(GET => '/r/rpc/add_them?a=1&b=2')), psql('SELECT calls.add_them(1, 2)'), '... and right');
