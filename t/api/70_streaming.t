# 70_streaming.t: responses too large to hold (over 1 MiB) stream through the
# filter chain: the body is complete, valid JSON equal to the database's rows;
# the headers promise the requested range; a client that hangs up mid-stream
# leaves a connection the pool can reuse at once.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use IO::Socket::INET ();

plan tests => 9;

# --- the whole table, no cap: streams, with no Content-Length
my $r = req(GET => '/nocap/wide');
is($r->code, 200, 'full export of wide: 200');
ok(!defined $r->header('Content-Length'), 'a streamed response has no Content-Length');
my $rows = decode_body($r);
is(ref $rows eq 'ARRAY' ? scalar @$rows : -1, 1000, 'all 1000 rows arrive as one JSON array');
ok(matches_sql($r, 'SELECT json_agg(t ORDER BY id) FROM wide t'), 'the streamed body equals json_agg of the table');

# --- a limited page that streams: its headers promise the page and the next one
$r = req(GET => '/nocap/wide?limit=600&offset=100');
is(scalar @{ decode_body($r) || [] }, 600, 'a 600-row streamed page has 600 rows');
is($r->header('Content-Range'), '100-699/*', 'streamed page: Content-Range is the requested range');
like($r->header('Link') // '', qr{</nocap/wide\?limit=600&offset=700>; rel="next"}, 'streamed page: Link rel=next');

# --- hang up after the first bytes, several times over: the pooled connections
# must come back clean (no "another command is already in progress").
my ($host, $port) = split /:/, Apache::TestRequest::hostport();
for (1 .. 6) {
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp') or die "connect: $!";
    print $s "GET /nocap/wide HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    my $got = '';
    sysread($s, $got, 4096);
    close $s;
}
my @codes = map { req(GET => '/nocap/many?limit=5')->code } 1 .. 20;
is(join(',', grep { $_ != 200 } @codes), '', 'after clients hung up mid-stream, 20 requests all answer 200');
ok(matches_sql(req(GET => '/nocap/wide?limit=3'), 'SELECT json_agg(t ORDER BY id) FROM (SELECT * FROM wide ORDER BY id LIMIT 3) t'),
   'and the rows are right');
