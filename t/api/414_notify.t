# 414_notify.t: schema reloads on notice (issue 15, point 3). /notify and
# /notify_off keep their snapshots until told (AutoRestSchemaMaxAge 0); /notify
# listens (AutoRestSchemaNotify On). After a column is added, /notify_off still
# serves the old columns, and after NOTIFY autorest, 'reload schema' every child
# serves the new one within a second; another payload reloads nothing. Each
# child's listener is one connection of its own (pg_stat_activity). The README's
# event trigger sends the notice itself on DDL.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use LWP::UserAgent ();
use Time::HiRes ();

plan tests => 9;

my $col = "b_$$";
# GET on a new connection each time, so that the children take turns.
sub fresh_get {
    my $ua = LWP::UserAgent->new(keep_alive => 0);
    return decode_body($ua->get(Apache::TestRequest::resolve_url($_[0])));
}
# How many of N requests see the column.
sub seeing {
    my ($path, $n) = @_;
    return scalar grep { my $rows = fresh_get($path); ref $rows eq 'ARRAY' && exists $rows->[0]{$col} } 1 .. $n;
}

# Whether one child (one kept-alive connection) sees the column: only a child
# that already holds a snapshot can show one kept until told; another may be
# reflecting for the first time.
my $one = one_child();
sub one_sees {
    my $rows = decode_body($one->($_[0]));
    return ref $rows eq 'ARRAY' && exists $rows->[0]{$col} ? 1 : 0;
}

# every child reflects its snapshots, and starts its listener
my $warm = grep { ref fresh_get('/notify/probe?id=eq.1') eq 'ARRAY' && ref fresh_get('/notify_off/probe?id=eq.1') eq 'ARRAY' } 1 .. 16;
$warm += ref decode_body($one->('/notify/probe?id=eq.1')) eq 'ARRAY' && ref decode_body($one->('/notify_off/probe?id=eq.1')) eq 'ARRAY';
is($warm, 17, 'both Locations serve the table');
Time::HiRes::sleep(0.5); # the listeners connect and LISTEN
my $listeners = psql(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_autorest schema listener'});
ok($listeners >= 1, "the children listen, each on a connection of its own ($listeners)");

psql("ALTER TABLE notify.probe ADD COLUMN $col int DEFAULT 7");
is(one_sees('/notify_off/probe?id=eq.1') + one_sees('/notify/probe?id=eq.1'), 0,
   'a column added: a child that served both Locations sees it in neither (kept until told)');
psql(q{NOTIFY autorest, 'something else'});
Time::HiRes::sleep(1);
is(one_sees('/notify/probe?id=eq.1'), 0, 'a notice with another payload reloads nothing');

psql(q{NOTIFY autorest, 'reload schema'});
Time::HiRes::sleep(1);
is(seeing('/notify/probe?id=eq.1', 16) + one_sees('/notify/probe?id=eq.1'), 17,
   "NOTIFY autorest, 'reload schema': within a second every answer of every child has it");
is(one_sees('/notify_off/probe?id=eq.1'), 0, '... where AutoRestSchemaNotify is off, still not');

psql("ALTER TABLE notify.probe DROP COLUMN $col");
psql(q{NOTIFY autorest});
Time::HiRes::sleep(1);
is(seeing('/notify/probe?id=eq.1', 8), 0, 'an empty payload reloads too: the column is gone again');

# the README's event trigger: DDL sends the notice itself
psql(q{CREATE FUNCTION notify.autorest_reload() RETURNS event_trigger LANGUAGE plpgsql AS
         $$ BEGIN NOTIFY autorest, 'reload schema'; END $$;
       CREATE EVENT TRIGGER autorest_reload_test ON ddl_command_end
         EXECUTE FUNCTION notify.autorest_reload()});
psql("ALTER TABLE notify.probe ADD COLUMN $col int DEFAULT 7");
Time::HiRes::sleep(1);
is(seeing('/notify/probe?id=eq.1', 16), 16, 'with the event trigger, an ALTER TABLE is seen within a second');
psql("ALTER TABLE notify.probe DROP COLUMN $col");
Time::HiRes::sleep(1);
is(seeing('/notify/probe?id=eq.1', 8), 0, '... and so is the DROP COLUMN');
psql(q{DROP EVENT TRIGGER autorest_reload_test; DROP FUNCTION notify.autorest_reload()});
