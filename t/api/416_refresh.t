# 416_refresh.t: a schema snapshot past AutoRestSchemaMaxAge is re-read off the
# request path (issue 16, point 5). /aged keeps snapshots for a second. Over one
# kept-alive connection (one child): a column is added after the child's snapshot
# was read, and once that snapshot is old the next request is still answered from
# it (a request that re-read the schema itself would show the column), while the
# child's refresher reads a new one that the following requests serve.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use Time::HiRes ();

plan tests => 5;

my $col = "b_$$";
my $one = one_child();
sub columns {
    my $res = $one->('/aged/probe?id=eq.1');
    my $rows = decode_body($res);
    return $res->code . ' ' . (ref $rows eq 'ARRAY' && $rows->[0] ? join(' ', sort keys %{ $rows->[0] }) : 'none');
}

my $mark = log_mark();
is(columns(), '200 a id', 'the table is served');
# Whatever refresh that request started ends long before the column comes, and
# the snapshot this child holds is older than a second when it is next read.
Time::HiRes::sleep(1.5);
psql("ALTER TABLE aged.probe ADD COLUMN $col int DEFAULT 7");
Time::HiRes::sleep(1.3);

my $t0 = Time::HiRes::time();
is(columns(), '200 a id', 'the request that finds the snapshot old is answered from it');
my $seen = 0;
while (Time::HiRes::time() - $t0 < 5) {
    $seen = 1, last if columns() eq "200 a $col id";
    Time::HiRes::sleep(0.05);
}
ok($seen, sprintf('the refresher read the new column; served %.2f s later', Time::HiRes::time() - $t0));
unlike(log_since($mark), qr/schema refresh failed/, 'no refresh failed');

psql("ALTER TABLE aged.probe DROP COLUMN $col");
my $back = 0;
for (1 .. 50) {
    $back = 1, last if columns() eq '200 a id';
    Time::HiRes::sleep(0.1);
}
ok($back, 'a dropped column goes again');
