# 418_dirwalk.t: httpd's walk of the file system to the API's URIs
# (mod_autorest_dirwalk.c). The walk's stat() calls are answered from facts
# each thread keeps for a second; the walk itself still runs, so a
# <Directory> under DocumentRoot applies to the API as before: /walled is
# served while htdocs/walled is not there, refused (403, by mod_authz_core)
# once it is, and served again once it is gone, each seen within a second,
# by every thread (new connections as well as a kept-alive one).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use LWP::UserAgent ();
use Time::HiRes ();

plan tests => 6;

my $dir = Apache::Test::vars('documentroot') . '/walled';
rmdir $dir;
-e $dir and BAIL_OUT("$dir is in the way");

my $n = 20;
my $kept = one_child();
# codes(): the statuses of n requests on one kept-alive connection, then of
# n on a new connection each
sub codes {
    my @kept = map { $kept->('/walled/people?limit=1')->code } 1 .. $n;
    my @new = map { LWP::UserAgent->new(keep_alive => 0)->get(api_base() . '/walled/people?limit=1')->code }
        1 .. $n;
    return (join(' ', @kept), join(' ', @new));
}
sub all { join ' ', ($_[0]) x $n }

my @codes = codes();
is($codes[0], all(200), 'no htdocs/walled: its <Directory> does not apply, every request served');
is($codes[1], all(200), '... on new connections too');

mkdir $dir or die "mkdir $dir: $!";
Time::HiRes::sleep(1.2);
@codes = codes();
is($codes[0], all(403), 'htdocs/walled made: a second later its <Directory> refuses every request');
is($codes[1], all(403), '... on new connections too');

rmdir $dir or die "rmdir $dir: $!";
Time::HiRes::sleep(1.2);
@codes = codes();
is($codes[0], all(200), 'gone again: a second later every request is served');
is($codes[1], all(200), '... on new connections too');
