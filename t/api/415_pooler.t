# 415_pooler.t: the module's pool through pgbouncer in transaction mode (issue 15,
# point 4). scripts/test runs the whole suite a second time that way: AR_PGHOST and
# AR_PGPORT name pgbouncer 1.18, which does not keep named prepared statements, and
# AR_PGSERVER_HOST, AR_PGSERVER_PORT the server behind it. Every other file passes
# there as it does directly; this one shows what AutoRestPreparedStatements auto
# does about the pooler: it finds it (the first request's pg_backend_pid() is not
# the connection's), prepares nothing by name between requests, names statements
# only inside a write's own transaction (where pgbouncer keeps one server session)
# and deallocates them at its end, and keeps no setting in a server session, which
# pgbouncer hands to other clients: they find no statement and no setting of ours.
# Skipped when the pool reaches PostgreSQL directly.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

unless ($ENV{AR_PGSERVER_PORT} && ($ENV{AR_PGSERVER_PORT} ne ($ENV{AR_PGPORT} // ''))) {
    plan skip_all => 'the pool reaches PostgreSQL directly (no AR_PGSERVER_PORT): no pooler';
}
plan tests => 9;

my $AUTOREST_LOG = Apache::Test::vars('t_logs') . '/autorest_log';

# the access log's lines (t/conf/extra.conf.in's "autorest" format) for a request
# line holding $mark: [prepared, reused] of each
sub notes_of {
    my $mark = shift;
    open my $fh, '<', $AUTOREST_LOG or return ();
    my @out;
    while (my $line = <$fh>) {
        next unless index($line, $mark) >= 0;
        push @out, [$1, $2] if $line =~ /prepared=(\d+) reused=(\d+)/;
    }
    return @out;
}
# the access log is written when a request ends; wait for N lines holding $mark
sub wait_notes {
    my ($mark, $n) = @_;
    my @n;
    for (1 .. 50) {
        @n = notes_of($mark);
        last if @n >= $n;
        select undef, undef, undef, 0.1;
    }
    return @n;
}

# what other clients of pgbouncer find in the server sessions it gives them:
# $n psql sessions at once as the module's role (each holds its server session
# for a moment, so together they meet several), each printing the prepared
# statements it sees and its statement_timeout and DateStyle
sub sessions_seen {
    my $n = shift;
    my $bin = ($ENV{AR_PGBIN} && -x "$ENV{AR_PGBIN}/psql") ? "$ENV{AR_PGBIN}/psql" : 'psql';
    my @fh;
    for (1 .. $n) {
        local $ENV{PGOPTIONS};
        delete @ENV{qw(PGOPTIONS PGDATESTYLE PGTZ)};
        open my $fh, '-|', $bin, qw(-X -A -t -q), '-h', $ENV{AR_PGHOST}, '-p', $ENV{AR_PGPORT},
            '-U', 'autorest_web', '-d', 'autorest_test', '-c',
            q{SELECT (SELECT count(*) FROM pg_prepared_statements) || '|'
                     || current_setting('statement_timeout') || '|'
                     || current_setting('DateStyle') || '|' || pg_backend_pid()
              FROM pg_sleep(0.3)}
            or die "cannot run psql: $!";
        push @fh, $fh;
    }
    my @rows;
    for my $fh (@fh) {
        my $out = do { local $/; <$fh> } // '';
        close $fh;
        chomp $out;
        push @rows, $out;
    }
    return @rows;
}

# the server's own defaults, from a session of the server itself
my $defaults = psql(q{SELECT current_setting('statement_timeout') || '|' || current_setting('DateStyle')});

# 1. reads: every statement is parsed anew (unnamed), none reused, every answer right
my $mark = 'pooled415read';
my @codes = map { req(GET => "/api/people?select=id,$mark:name&id=eq.1")->code } 1 .. 12;
is("@codes", join(' ', ('200') x 12), 'twelve reads through pgbouncer: 200');
my @n = wait_notes($mark, 12);
is(scalar(grep { $_->[0] >= 1 && $_->[1] == 0 } @n), 12,
   'each was prepared unnamed (prepared >= 1) and none reused a name (reused=0)')
    or diag(join ' ', map {"prepared=$_->[0] reused=$_->[1]"} @n);

# 2. a write of several statements in one transaction: its repeated statements
# are named there and reused (2,500 rows: batches of 1,000, each its own statement
# with the request's settings; return=representation keeps them off COPY)
my $rows = psql(q{SELECT json_agg(json_build_object('id', 415000 + i, 'name', 'p' || i))
                  FROM generate_series(1, 2500) i});
my $res = req(POST => '/w/bulk?select=pooled415write:id', 'Content-Type' => 'application/json',
              Prefer => 'return=representation', Content => $rows);
is($res->code, 201, 'POST of 2,500 rows through pgbouncer: 201');
is(psql('SELECT count(*) FROM writes.bulk WHERE id BETWEEN 415001 AND 417500'), 2500,
   '... and all 2,500 are there');
@n = wait_notes('pooled415write', 1);
ok(@n == 1 && $n[0][1] >= 1, 'inside its transaction, statements were reused by name')
    or diag(@n ? "prepared=$n[0][0] reused=$n[0][1]" : 'no log line');
# a write that fails after named statements ran: its names go with the rollback too
$rows = psql(q{SELECT json_agg(json_build_object('id', 418000 + i, 'name', 'p' || i,
                                                  'score', CASE WHEN i = 2400 THEN 'x' ELSE '1' END))
               FROM generate_series(1, 2500) i});
$res = req(POST => '/w/bulk?select=id', 'Content-Type' => 'application/json',
           Prefer => 'return=representation', Content => $rows);
is($res->code . ' ' . psql('SELECT count(*) FROM writes.bulk WHERE id > 418000 AND id < 419000'),
   '400 0', 'a bad value in the third batch: 400, nothing written');

# 3. what the module's requests left in the server sessions: nothing. Before it,
# many requests at once, so that the module has used several server sessions.
my @pids;
for (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        req(GET => '/api/people?limit=2') for 1 .. 10;
        req(POST => '/w/bulk', 'Content-Type' => 'application/json',
            Content => '[{"id":' . (419000 + $$ % 900) . ',"name":"c"}]');
        exit 0;
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
my @seen = sessions_seen(8);
my %pid = map { (split /\|/)[3] => 1 } grep {length} @seen;
ok(keys %pid >= 2, 'eight clients of pgbouncer meet ' . scalar(keys %pid) . ' server sessions')
    or diag("@seen");
is(scalar(grep { (split /\|/)[0] eq '0' } @seen), 8, '... and none holds a prepared statement')
    or diag("@seen");
is(scalar(grep { join('|', (split /\|/)[1, 2]) eq $defaults } @seen), 8,
   "... nor a setting of ours: statement_timeout and DateStyle are the server's ($defaults)")
    or diag("@seen");
