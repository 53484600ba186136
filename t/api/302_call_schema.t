# 302_call_schema.t: functions follow the schema as relations do. A function
# created after the snapshot was taken is found by the call that misses it (the
# miss refreshes the snapshot, at most once a second); one dropped is 404 AR204
# again (PostgreSQL's "function ... does not exist" refreshes it too), never a
# 400 or 5xx. Each step polls for up to 5 s: the refresh is rate-limited. The
# function calls.fresh_fn is this file's own.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use Time::HiRes qw(time sleep);

plan tests => 5;

# poll(PATH, CODE): GET PATH every 0.25 s for up to 5 s until CODE(res) is true.
sub poll {
    my ($path, $f) = @_;
    my $until = time + 5;
    while (1) {
        my $r = req(GET => $path);
        return $r if $f->($r) || time > $until;
        sleep 0.25;
    }
}

psql('DROP FUNCTION IF EXISTS calls.fresh_fn(int); DROP FUNCTION IF EXISTS calls.fresh_fn(text)');
my $r = poll('/r/rpc/fresh_fn?n=1', sub { $_[0]->code == 404 });
is($r->code, 404, 'before: calls.fresh_fn is not there (404)');
is(decode_body($r)->{code} // '', 'AR204', '... AR204');

psql(q{CREATE FUNCTION calls.fresh_fn(n int) RETURNS int LANGUAGE sql STABLE AS 'SELECT n + 1'});
$r = poll('/r/rpc/fresh_fn?n=1', sub { $_[0]->code == 200 });
is(body_of($r), psql('SELECT calls.fresh_fn(1)'), 'created: the call finds it and answers its value');

psql('DROP FUNCTION calls.fresh_fn(int)');
my %seen;
$r = poll('/r/rpc/fresh_fn?n=1', sub { $seen{$_[0]->code}++; $_[0]->code == 404 });
is($r->code, 404, 'dropped: 404 again');
is(join(',', sort grep { $_ != 200 && $_ != 404 } keys %seen), '', '... and nothing but 200 or 404 on the way');
