# 416_refresh.t: a schema snapshot past AutoRestSchemaMaxAge is re-read off the
# request path (issue 16, point 5). /aged keeps snapshots for a second. Over one
# kept-alive connection (one child): a column is added after the child's snapshot
# was read, and once that snapshot is old the next request is still answered from
# it (a request that re-read the schema itself would show the column), while the
# child's refresher reads a new one that the following requests serve. An
# old snapshot whose catalogue did not change is only checked (a fingerprint
# of the catalogue, mod_status's checks) and kept, not reflected again; a
# change of privileges alone, no column added or dropped, is still found.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use Time::HiRes ();

plan tests => 8;

my $col = "b_$$";
my $one = one_child();
sub columns {
    my $res = $one->('/aged/probe?id=eq.1');
    my $rows = decode_body($res);
    return $res->code . ' ' . (ref $rows eq 'ARRAY' && $rows->[0] ? join(' ', sort keys %{ $rows->[0] }) : 'none');
}

# { pid => [reloads, checks] } from mod_status's line per child
sub per_child {
    my $auto = status_auto();
    my %c;
    for my $k (keys %$auto) {
        my ($pid) = $k =~ /^AutoRestChild(\d+)$/ or next;
        my ($reloads) = $auto->{$k} =~ /\breloads=(\d+)/;
        my ($checks) = $auto->{$k} =~ /\bchecks=(\d+)/;
        $c{$pid} = [$reloads // 0, $checks // 0];
    }
    return \%c;
}
# Requests until their answer is $want (the refresher's work shows in a
# later one), for at most $secs from $t0 (default: now); the seconds from $t0
# it took, or undef when it did not come.
sub served_within {
    my ($want, $secs, $t0) = @_;
    $t0 //= Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < $secs) {
        return Time::HiRes::time() - $t0 if columns() eq $want;
        Time::HiRes::sleep(0.05);
    }
    return undef;
}

my $mark = log_mark();
is(columns(), '200 a id', 'the table is served');

# Unchanged: the snapshot past its second is checked, and kept.
Time::HiRes::sleep(1.3);
my $before = per_child();
columns();
my ($checked, $after);
for (1 .. 60) {
    $after = per_child();
    ($checked) = grep { $after->{$_}[1] > ($before->{$_} // [0, 0])->[1] } keys %$after;
    last if $checked;
    Time::HiRes::sleep(0.05);
}
ok($checked && $after->{$checked}[0] == ($before->{$checked} // [0, 0])->[0],
   'an old snapshot of an unchanged catalogue is checked, not reflected again'
   . ($checked ? " (child $checked: reloads $after->{$checked}[0], checks $after->{$checked}[1])"
               : ''));
# Whatever refresh that request started ends long before the column comes, and
# the snapshot this child holds is older than a second when it is next read.
Time::HiRes::sleep(1.5);
psql("ALTER TABLE aged.probe ADD COLUMN $col int DEFAULT 7");
Time::HiRes::sleep(1.3);

my $t0 = Time::HiRes::time();
is(columns(), '200 a id', 'the request that finds the snapshot old is answered from it');
my $seen = served_within("200 a $col id", 5, $t0);
ok(defined $seen, sprintf('the refresher read the new column; served %.2f s later',
                          $seen // Time::HiRes::time() - $t0));
unlike(log_since($mark), qr/schema refresh failed/, 'no refresh failed');

psql("ALTER TABLE aged.probe DROP COLUMN $col");
ok(defined served_within('200 a id', 5), 'a dropped column goes again');

# Privileges alone: the catalogue's fingerprint moves with them too.
psql('REVOKE SELECT ON aged.probe FROM autorest_web;'
     . ' GRANT SELECT (id) ON aged.probe TO autorest_web');
ok(defined served_within('200 id', 5), 'a column no longer granted goes at the next refresh');
psql('GRANT SELECT ON aged.probe TO autorest_web;'
     . ' REVOKE SELECT (id) ON aged.probe FROM autorest_web');
ok(defined served_within('200 a id', 5), 'and comes back when granted again');
