# 417_kept_reads.t: reads kept planned by the shape of their request (issue 16,
# read_cache.c). A shape seen twice is planned and rendered once and kept with
# the schema snapshot; later requests of that shape take its statement and put
# only a row's key in place. What must hold: every answer is the one its own
# request asks for, whatever shape was kept before it (another key, another
# Location's hidden columns or row cap, another Accept or Prefer, a hook's
# filter), and the keeping shows in mod_status (AutoRestReadsKept). A schema
# change drops them with their snapshot: 416_refresh.t asks one kept shape
# until the new column shows.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use MIME::Base64 ();
use Time::HiRes ();

plan tests => 11;

my $get = one_child();
sub ids { my $j = decode_body($_[0]); join ',', map { $_->{id} } ref $j eq 'ARRAY' ? @$j : ($j) }
sub keys_of { my $j = decode_body($_[0]); join ',', sort keys %{ ref $j eq 'ARRAY' ? $j->[0] // {} : $j } }
# a shape's first request marks it seen, the second keeps it: three of each
sub thrice { my @r = map { $get->(@_) } 1 .. 3; return @r }

my $people = psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM people ORDER BY id LIMIT 3) p");
my @ids = split /,/, $people;
my $before = status_auto();

my @first = thrice("/api/people/$ids[0]");
is(join(' ', map { ids($_) } @first), "$ids[0] $ids[0] $ids[0]", 'one row by key, three times');
is(join(' ', map { ids($get->("/api/people/$_")) } @ids[1, 2]), "$ids[1] $ids[2]",
   'other keys of the kept shape: each its own row');
my $missing = $get->('/api/people/987654');
is($missing->code . ' ' . (decode_body($missing)->{message} // ''), "404 no row of 'people' has id '987654'",
   'a key with no row: 404 naming that key, not the kept one');

my $after = $before;
for (1 .. 50) {
    $after = status_auto();
    last if ($after->{AutoRestReadsKept} // 0) - ($before->{AutoRestReadsKept} // 0) >= 3;
    Time::HiRes::sleep(0.05);
}
cmp_ok(($after->{AutoRestReadsKept} // 0) - ($before->{AutoRestReadsKept} // 0), '>=', 3,
       '?auto: AutoRestReadsKept counts the reads run on a kept shape');

# The same words below another Location: its own exposure and cap.
thrice("/api/people/$ids[0]");
my @limited = thrice("/limited/people/$ids[0]");
is(join(' ', map { keys_of($_) =~ /ssn/ ? 'ssn' : 'hidden' } @limited), 'hidden hidden hidden',
   '/limited hides ssn although /api kept the same shape with it');
like(keys_of($get->("/api/people/$ids[0]")), qr/\bssn\b/, '... and /api still shows it');
my @capped = map { scalar @{ decode_body($_) } } thrice('/limited/nested/people?order=id');
my @whole = map { scalar @{ decode_body($_) } } thrice('/limited/people?order=id');
is("@capped", '2 2 2', '/limited/nested keeps its row cap of 2');
cmp_ok($whole[2], '>', 2, "... /limited, the same shape, its own ($whole[2] rows)");

# The same URL with other headers.
my $csv = $get->("/api/people/$ids[0]", Accept => 'text/csv');
like($csv->header('Content-Type') . ' ' . (split /\r?\n/, $csv->decoded_content)[0], qr{^text/csv.* id,name,},
     'Accept: text/csv after the JSON shape was kept: CSV');
my @counted = thrice('/api/people?limit=1&order=id', Prefer => 'count=exact');
my $total = psql('SELECT count(*) FROM people');
is(join(' ', map { $_->header('Content-Range') // 'none' } $get->('/api/people?limit=1&order=id'), $counted[2]),
   "0-0/* 0-0/$total", 'Prefer: count=exact and without: each its own Content-Range');

# A hook's filters and hidden columns are the request's own: not kept.
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
sub tenants { my $j = shift; join ',', sort keys %{ { map { $_->{tenant} => 1 } ref $j eq 'ARRAY' ? @$j : () } } }
my @alice = map { decode_body($_) } thrice('/tenant/orders?order=id', as('alice'));
my $bob = decode_body($get->('/tenant/orders?order=id', as('bob')));
is(tenants($alice[2]) . ' ' . tenants($bob), 'alice bob',
   "the tenant hook's filter holds per request: alice's orders, then bob's");
