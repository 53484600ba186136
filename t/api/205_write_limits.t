# 205_write_limits.t: what happens around a write rather than in it. A body past
# LimitRequestBody is 413 JSON (with Content-Length, and chunked), nothing written;
# a client that goes away mid-body leaves nothing written and no connection inside a
# transaction; a serialization failure is 503 with Retry-After; a RAISE keeps its
# message, detail and hint. Tables of t/fixtures/90_writes.sql; /w_small has
# LimitRequestBody 2000 (t/conf/extra.conf.in).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use ARTest;
use IO::Socket::INET;

plan tests => 16;

sub jpost { my ($path, $body) = @_; req(POST => $path, 'Content-Type' => 'application/json', Content => $body) }
sub in_tx { psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_web' AND state LIKE 'idle in transaction%'") }

# rows 90000.. of writes.bulk are this file's
psql('DELETE FROM writes.bulk WHERE id >= 90000 AND id < 100000');
my $rows = join ',', map { qq({"id":$_,"name":"limit test row $_"}) } 90000 .. 90099;

# --- LimitRequestBody
my $res = jpost('/w_small/bulk', "[$rows]");
is($res->code, 413, 'a body past LimitRequestBody (Content-Length) is 413');
is(decode_body($res)->{code} // '', 'AR116', '... as JSON, code AR116');
is(psql('SELECT count(*) FROM writes.bulk WHERE id >= 90000 AND id < 100000'), 0, '... nothing written');

# the same body chunked: httpd's input filter stops it while the rows stream
my $hp = Apache::TestRequest::hostport();
my ($host, $port) = split /:/, $hp;
sub raw_request {
    my ($head, @chunks) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp') or die "connect: $!";
    print $s $head;
    for my $c (@chunks) { printf $s "%x\r\n%s\r\n", length $c, $c }
    print $s "0\r\n\r\n";
    local $/;
    my $answer = <$s>;
    close $s;
    return $answer // '';
}
my @pieces = ("[$rows]" =~ /(.{1,300})/gs);
my $answer = raw_request("POST /w_small/bulk HTTP/1.1\r\nHost: $hp\r\nContent-Type: application/json\r\n"
                         . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", @pieces);
like($answer, qr{^HTTP/1\.1 413 }, 'chunked past LimitRequestBody: 413');
is(psql('SELECT count(*) FROM writes.bulk WHERE id >= 90000 AND id < 100000'), 0, '... nothing written');

# a chunked body under the limit, in small pieces, is read whole
my $small = join ',', map { qq({"id":$_,"name":"n$_"}) } 90500 .. 90509;
$answer = raw_request("POST /w_small/bulk HTTP/1.1\r\nHost: $hp\r\nContent-Type: application/json\r\n"
                      . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", ("[$small]" =~ /(.{1,7})/gs));
like($answer, qr{^HTTP/1\.1 201 }, 'a chunked body in 7-byte pieces: 201');
is(psql('SELECT count(*) FROM writes.bulk WHERE id BETWEEN 90500 AND 90509'), 10, '... every row');

# --- a client gone mid-body (5,000 rows: past the first batch, so a COPY is open)
my $big = join ',', map { qq({"id":$_,"name":"gone $_"}) } 91000 .. 95999;
{
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp') or die;
    my $body = "[$big]";
    print $s "POST /w/bulk HTTP/1.1\r\nHost: $hp\r\nContent-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n";
    print $s substr($body, 0, int(length($body) * 0.8));   # most of it, then gone
    sleep 1;
    close $s;
}
sleep 2;
is(psql('SELECT count(*) FROM writes.bulk WHERE id BETWEEN 91000 AND 95999'), 0,
   'a client gone mid-body: nothing written');
is(in_tx(), 0, '... and no connection left inside a transaction');
$res = req(GET => '/w/bulk?id=eq.90500');
is($res->code, 200, '... and the next request is served');

# --- database errors around writes
$res = jpost('/w/guarded', '{"id": 7, "note": "collide"}');
is($res->code, 503, 'a serialization failure (40001) is 503');
is($res->header('Retry-After') // '', '1', '... with Retry-After');
is(decode_body($res)->{code} // '', '40001', '... code 40001');
$res = jpost('/w/guarded', '{"id": 8, "note": "forbidden"}');
my $e = decode_body($res) || {};
is($res->code, 400, 'RAISE EXCEPTION (P0001) is 400');
is(join('|', map { $_ // 'null' } @$e{qw(code message details hint)}),
   'P0001|notes may not say forbidden|the word is reserved|say something else',
   '... with its message, detail and hint');
is(in_tx(), 0, 'after all of it, no connection inside a transaction');
