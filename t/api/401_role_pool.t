# 401_role_pool.t: the role of a request never outlives it on a pooled connection
# (issue 13). The roles virtual host keeps 2 connections per process as autorest_auth
# (DBDKeep/DBDMax 2), and a keep-alive client stays on one process, whose pool hands
# back the connection last released: (a) after each failed request of alice's at /users
# (a write refused by row-level security, 42501; a role refused, AR702; a filter the
# parser rejects and one PostgreSQL rejects, 400; an unknown relation, 404; a read of
# what she may not read, 42501) and after a good one, /plain/rpc/whoami runs as
# autorest_auth again, with no request.user. (b) 10,000 requests from 4 client
# processes at once, each alternating alice and bob on
# /users/projects?select=owner&order=id.desc&limit=3, every 50th a write refused by
# row-level security (the other user as owner): not one answer holds a row of the
# other user, every read is a 200 of 3 rows of its own user, every write a 403 42501,
# and nothing is written. (c) After them, /plain/rpc/whoami is autorest_auth still,
# and no connection of autorest_auth is idle in a transaction.
# The refused writes use project id 9401; none ever lands.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();
use ARTest;

plan tests => 20;

Apache::TestRequest::module('roles');
# one connection to the server for the whole of (a): the same process, the same pool
Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);

my $JSON = JSON::PP->new->utf8->canonical;
my $ID = 9401;    # the id of every refused write

sub auth { 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '') }
sub as { ('Authorization' => auth($_[0])) }
sub count_all { psql('SELECT count(*) FROM secure.projects') }

# plain_is_login(NAME): /plain/rpc/whoami runs as the login role, for no one
sub plain_is_login {
    my $name = shift;
    my $r = req(GET => '/plain/rpc/whoami');
    my $w = ($r->code == 200 && decode_body($r)) || {};
    my $got = join '|', map { $w->{$_} // 'null' } qw(current_user session_user user auth_type);
    is($got, 'autorest_auth|autorest_auth||', $name) or diag('body: ' . body_of($r));
}

psql("DELETE FROM secure.projects WHERE id = $ID");
my $all_n = count_all();

# ------------------------------------------------------------------ (a) after each failure
plain_is_login('at the start: /plain/rpc/whoami is autorest_auth');

my $r = req(GET => '/users/rpc/whoami', as('alice'));
is(($r->code == 200 && decode_body($r) || {})->{current_user}, 'alice', 'alice at /users runs as alice');
plain_is_login('... and the next request at /plain is autorest_auth again');

$r = req(POST => '/users/projects', as('alice'), 'Content-Type' => 'application/json',
         Content => $JSON->encode({ id => $ID, owner => 'bob', name => 't401 refused' }));
ok(check_error($r, 403, '42501'), 'alice writes a row owned by bob: 403 42501');
plain_is_login('... then /plain is autorest_auth');

$r = req(GET => '/users/projects', as('carol'));
ok(check_error($r, 403, 'AR702'), 'carol (no such role): 403 AR702');
plain_is_login('... then /plain is autorest_auth');

$r = req(GET => '/users/projects?id=foo.1', as('alice'));
ok(check_error($r, 400, 'AR107'), 'alice, a filter the parser rejects (unknown operator): 400 AR107');
$r = req(GET => '/users/projects?id=eq.notanumber', as('alice'));
ok(check_error($r, 400, '22P02'), 'alice, a value PostgreSQL rejects (as alice, in her transaction): 400 22P02');
plain_is_login('... then /plain is autorest_auth');

$r = req(GET => '/users/no_such_relation', as('alice'));
ok(check_error($r, 404, 'AR201'), 'alice, an unknown relation: 404 AR201');
$r = req(GET => '/users/vault', as('alice'));
ok(check_error($r, 403, '42501'), 'alice reads vault: 403 42501');
plain_is_login('... then /plain is autorest_auth');

# ------------------------------------------------------------------ (b) 10,000 at once
my ($CLIENTS, $EACH, $WRITE_EVERY) = (4, 2_500, 50);
my $read_url = Apache::TestRequest::resolve_url('/users/projects?select=owner&order=id.desc&limit=3');
my $write_url = Apache::TestRequest::resolve_url('/users/projects');
my %other = (alice => 'bob', bob => 'alice');
# the write positions: one in each 50, alternately bob's (49) and alice's (48)
sub is_write { my $i = shift; $i % $WRITE_EVERY == $WRITE_EVERY - 1 - int($i / $WRITE_EVERY) % 2 }
my $writes_each = grep { is_write($_) } 0 .. $EACH - 1;
my $reads_each = $EACH - $writes_each;

# one client: EACH requests; prints "reads writes wrong foreign" and, to STDERR, the first few wrong answers
sub client {
    my $n = shift;
    my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 60);
    my %cred = map { $_ => auth($_) } keys %other;
    my ($reads, $writes, $wrong, $foreign, $shown) = (0, 0, 0, 0, 0);
    for my $i (0 .. $EACH - 1) {
        my $user = $i % 2 ? 'bob' : 'alice';
        my ($bad, $res);
        if (is_write($i)) {
            $writes++;
            $res = $ua->request(HTTP::Request->new(POST => $write_url,
                ['Authorization' => $cred{$user}, 'Content-Type' => 'application/json'],
                qq({"id": $ID, "owner": "$other{$user}", "name": "t401 client $n"})));
            my $j = eval { $JSON->decode($res->decoded_content // '') };
            $bad = !($res->code == 403 && ref $j eq 'HASH' && ($j->{code} // '') eq '42501');
        }
        else {
            $reads++;
            $res = $ua->request(HTTP::Request->new(GET => $read_url, ['Authorization' => $cred{$user}]));
            my $j = eval { $JSON->decode($res->decoded_content // '') };
            my @owners = ref $j eq 'ARRAY' ? map { ref $_ eq 'HASH' ? $_->{owner} // '' : '' } @$j : ();
            $bad = !($res->code == 200 && @owners == 3 && !grep { $_ ne $user } @owners);
        }
        if (index($res->decoded_content // '', qq("owner":"$other{$user}")) >= 0) {
            $foreign++;
            $bad = 1;
        }
        if ($bad) {
            $wrong++;
            print STDERR "# client $n, request $i as $user: " . $res->code . ' '
                . substr($res->decoded_content // '', 0, 200) . "\n" if $shown++ < 3;
        }
    }
    print "$reads $writes $wrong $foreign\n";
}

my $t0 = Time::HiRes::time();
my @pipes;
for my $n (1 .. $CLIENTS) {
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        client($n);
        close STDOUT;
        POSIX::_exit(0);
    }
    push @pipes, $fh;
}
my ($reads, $writes, $wrong, $foreign, $reported) = (0, 0, 0, 0, 0);
for my $fh (@pipes) {
    my $line = <$fh> // '';
    close $fh;
    if (my @v = $line =~ /^(\d+) (\d+) (\d+) (\d+)$/) {
        $reads += $v[0]; $writes += $v[1]; $wrong += $v[2]; $foreign += $v[3];
        $reported++;
    }
}
my $elapsed = Time::HiRes::time() - $t0;
diag(sprintf '%d requests from %d clients in %.1f s (%.0f/s)',
     $reads + $writes, $CLIENTS, $elapsed, ($reads + $writes) / ($elapsed || 1));

is($reported, $CLIENTS, "every one of the $CLIENTS clients reported");
is($reads . ' ' . $writes, ($reads_each * $CLIENTS) . ' ' . ($writes_each * $CLIENTS),
   "reads and writes counted: $CLIENTS x ($reads_each + $writes_each)");
is($foreign, 0, 'not one answer holds a row of the other user');
is($wrong, 0, 'not one wrong answer (reads: 200, 3 rows of its own user; writes: 403 42501)');
is(count_all() . ' ' . psql("SELECT count(*) FROM secure.projects WHERE id = $ID"), "$all_n 0",
   "nothing written: $all_n projects, no id $ID");

# ------------------------------------------------------------------ (c) and after them
plain_is_login('after the 10,000: /plain/rpc/whoami is autorest_auth');
is(psql(q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_auth' AND state LIKE 'idle in transaction%'}), 0,
   'psql: no connection of autorest_auth is idle in a transaction');
