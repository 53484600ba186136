# 90_db_down.t: PostgreSQL stops and starts again under the running server.
# While it is down, reads are 503 with code AR501 and the body tells nothing
# about the connection (no host, port, user, database, socket path). Once it is
# back, the module recovers within a few requests (at most one failure per
# pooled connection: 5 attempts, 1 s apart) and failures on the way are only 503s.
# Runs last: it needs AR_PGBIN and AR_PGDATA and the same OS user as the cluster.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use Time::HiRes ();
use POSIX ();

# the server itself (behind pgbouncer in the pooled run: the module then meets
# the pooler's errors, not libpq's)
my ($bin, $data) = @ENV{qw(AR_PGBIN AR_PGDATA)};
my ($host, $port) = pg_server();
unless ($bin && -x "$bin/pg_ctl" && $data && -d $data && $host && $port) {
    plan skip_all => 'needs AR_PGBIN, AR_PGDATA, AR_PGHOST and AR_PGPORT of the test cluster';
}
plan tests => 19;

# run a command with its output sent to t/logs (not into the TAP stream); its exit status
sub run_quiet {
    my @cmd = @_;
    my $log = -d "$FindBin::Bin/../logs" ? "$FindBin::Bin/../logs/pg_ctl.log" : '/dev/null';
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $? >> 8;
}
my @START = ("$bin/pg_ctl", '-D', $data, '-l', "$host/postgres.log", '-w', '-t', '60',
    '-o', "-p $port -k $host -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", 'start');
my @STOP = ("$bin/pg_ctl", '-D', $data, '-m', 'fast', '-w', '-t', '60', 'stop');
my $stopped = 0;
END { run_quiet(@START) if $stopped }    # never leave the cluster down

# a 503 body must not describe the connection either
sub quiet_body {
    my $b = body_of(shift);
    my @l = grep { index($b, $_) >= 0 } ('user=', 'port=', 'autorest_web', 'autorest_test', $host, "$port");
    print STDERR "# 503 body mentions: @l\n" if @l;
    return !@l;
}

# --- up: warm the pools
my @warm = map { req(GET => '/api/many?limit=1')->code } 1 .. 6;
is("@warm", '200 200 200 200 200 200', 'while PostgreSQL is up: 200');

# --- down
is(run_quiet(@STOP), 0, 'pg_ctl stop');
$stopped = 1;
my @down = map { req(GET => '/api/many?limit=1') } 1 .. 3;
ok(check_error($down[0], 503, 'AR501'), 'down: GET /api/many?limit=1 is 503 AR501');
ok(check_error($down[1], 503, 'AR501'), 'down: again 503 AR501');
ok(check_error($down[2], 503, 'AR501'), 'down: and again 503 AR501');
ok(quiet_body($down[0]) && quiet_body($down[2]), 'down: the body does not describe the connection');
my $one = req(GET => '/api/people/1');
ok(check_error($one, 503, 'AR501'), 'down: a single row is 503 AR501');
my $nf = req(GET => '/api/many?limit=abc');
ok($nf->code == 400 || $nf->code == 503, 'down: a bad parameter is still a 400 (or a 503), never a 500')
    or diag('status ' . $nf->code);

# --- up again
is(run_quiet(@START), 0, 'pg_ctl start');
$stopped = 0;
is(psql('SELECT 1'), '1', 'PostgreSQL answers psql again');

my @seen;
my $ok = 0;
for my $attempt (1 .. 5) {
    my $res = req(GET => '/api/many?limit=1');
    push @seen, $res;
    if ($res->code == 200) { $ok = 1; last }
    sleep 1;
}
ok($ok, 'back: 200 within 5 attempts') or diag('statuses: ' . join(' ', map { $_->code } @seen));
my @bad = grep { $_->code != 200 && !check_error($_, 503, 'AR501') } @seen;
is(scalar @bad, 0, 'back: the failures on the way were 503 AR501');
ok(matches_sql($seen[-1], 'SELECT json_agg(m) FROM (SELECT * FROM many ORDER BY id LIMIT 1) m'),
    'back: the right row');

my @after = map { req(GET => $_ % 2 ? '/api/many?limit=1' : '/api/people/1') } 1 .. 20;
my @odd = grep { $_->code != 200 && !check_error($_, 503, 'AR501') } @after;
is(scalar @odd, 0, 'back: 20 more requests: anything not 200 is a 503 AR501')
    or diag('statuses: ' . join(' ', map { $_->code } @after));
is(join(' ', map { $_->code } @after[-5 .. -1]), '200 200 200 200 200', 'back: the last 5 of them are 200');
is(req(GET => '/api/')->code, 200, 'back: the index is 200');

# --- restarted while httpd is idle: the pooled connections are stale, and the
# server said goodbye to each (FATAL, then the socket closed). A write is never
# tried twice (it may have committed), so the module must find that out before it
# sends one: the first requests after the restart are writes, and none fails.
my @warm_w = map { req(GET => '/w/bulk?limit=1')->code } 1 .. 8;
is("@warm_w", join(' ', ('200') x 8), 'before an idle restart: the /w pools are in use');
# A request that found its child's snapshot old handed it to the child's
# refresher, which reads the schema in the background: that ends (in
# milliseconds) before the restart, which is to find httpd idle. (Read across
# the restart, the refresh fails and the old snapshot serves on; through
# pgbouncer, the failed server login also makes pgbouncer refuse new server
# logins for server_login_retry, 15 s, which would fail the POSTs below.)
Time::HiRes::sleep(0.5);
is(run_quiet(@STOP) + run_quiet(@START), 0, 'pg_ctl stop and start, no request between');
my @posts = map {
    req(POST => '/w/bulk', 'Content-Type' => 'application/json',
        Content => '{"id":' . (90900 + $_) . ',"name":"after the restart"}')->code
} 1 .. 8;
is("@posts", join(' ', ('201') x 8), 'after it: eight POSTs, each 201 the first time');
psql('DELETE FROM writes.bulk WHERE id BETWEEN 90901 AND 90908');
