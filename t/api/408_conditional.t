# 408_conditional.t: conditional requests and httpd's cache (issue 14, point 2). A GET
# held whole carries an ETag (a hash of its body and of the headers that shape it) and
# If-None-Match answers 304 without a body; a streamed body, an error and a write
# carry none. Vary names the request headers the answer depends on (and, where roles
# are in use, Authorization and Cookie); AutoRestCacheControl sets Cache-Control on
# successful reads, "private" first for an authenticated role's. mod_cache with
# mod_cache_socache in front of /cached: a hit is served without the module (a change
# made in PostgreSQL behind the cache does not show), JSON and CSV are kept apart, and
# at /cached_users (roles, private) nothing is kept: each user gets their own rows.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use ARTest;

plan tests => 31;

sub hdr { my $v = $_[0]->header($_[1]); defined $v ? $v : 'none' }

# --- ETag and If-None-Match
my $r = req(GET => '/api/people?order=id');
my $etag = hdr($r, 'ETag');
like($etag, qr/^"ar-[0-9a-f]{16}"$/, 'a held page has a strong ETag');
is(hdr(req(GET => '/api/people?order=id'), 'ETag'), $etag, '... the same for the same answer');
like(hdr($r, 'Vary'), qr/Accept,\s*Prefer,\s*Range,\s*Accept-Profile/, '... and Vary names what shapes it');
is(hdr($r, 'Cache-Control'), 'none', '... no Cache-Control where none is configured');

$r = req(GET => '/api/people?order=id', 'If-None-Match' => $etag);
is($r->code . '|' . body_of($r), '304|', 'If-None-Match with it: 304, no body');
is(hdr($r, 'ETag'), $etag, '... carrying the ETag');
is(req(GET => '/api/people?order=id', 'If-None-Match' => "W/$etag")->code, 304, 'a weak match is a match for GET');
is(req(GET => '/api/people?order=id', 'If-None-Match' => "\"other\", $etag")->code, 304, 'one of a list');
is(req(GET => '/api/people?order=id', 'If-None-Match' => '*')->code, 304, '*');
(my $gz = $etag) =~ s/"$/-gzip"/;
is(req(GET => '/api/people?order=id', 'If-None-Match' => $gz)->code, 304,
   'the tag mod_deflate sends for it (-gzip): the same representation');
is(req(GET => '/api/people?order=id', 'If-None-Match' => '"ar-0000000000000000"')->code, 200,
   'another tag: 200 with the body');
is(req(HEAD => '/api/people?order=id', 'If-None-Match' => $etag)->code, 304, 'HEAD too');

isnt(hdr(req(GET => '/api/people?order=id', Accept => 'text/csv'), 'ETag'), $etag,
     'the same rows as CSV: another ETag');
isnt(hdr(req(GET => '/api/people?order=id', Prefer => 'count=exact'), 'ETag'), $etag,
     'with a count (Content-Range differs): another ETag');
isnt(hdr(req(GET => '/api/people?order=id&limit=2'), 'ETag'), $etag, 'another page: another ETag');
like(hdr(req(GET => '/api/people/1'), 'ETag'), qr/^"ar-/, 'one row by key has one');
like(hdr(req(GET => '/r/rpc/add_them?a=1&b=2'), 'ETag'), qr/^"ar-/, 'a GET call has one');

$r = req(GET => '/api/wide?limit=200');
ok($r->code == 200 && !defined $r->header('Content-Length') && hdr($r, 'ETag') eq 'none',
   'a streamed body (past 1 MiB) has none');
is(hdr(req(GET => '/api/no_such_table'), 'ETag'), 'none', 'an error has none');
$r = req(POST => '/w/items', 'Content-Type' => 'application/json', Prefer => 'return=representation',
         Content => '{"id":9801,"name":"etag"}');
ok($r->code == 201 && hdr($r, 'ETag') eq 'none', 'a write has none');
psql('DELETE FROM writes.items WHERE id = 9801');

# --- mod_cache in front of /cached; a filter that keeps every row makes this run's URLs
# its own (a cache warmed by an earlier run on the same server would answer them)
my $P = '/cached/prices?order=id&id=gt.-' . ($$ + time % 100000);
$r = req(GET => $P);
my $json = body_of($r);
is(hdr($r, 'Cache-Control'), 'max-age=300', 'AutoRestCacheControl on a read');
like(hdr($r, 'X-Cache'), qr/MISS/, 'the first GET: a miss');
my $csv = body_of(req(GET => $P, Accept => 'text/csv'));
like($csv, qr/^id,item,price\r?\n1,apples,2.50\r?\n/, 'CSV: a miss of its own, CSV');
psql("UPDATE hooks.prices SET price = 9.99 WHERE id = 1");
$r = req(GET => $P);
ok(hdr($r, 'X-Cache') =~ /HIT/ && body_of($r) eq $json && $json =~ /"price":2.50/,
   'again: a hit, the old price (PostgreSQL, which has 9.99, was not asked)')
    or diag(hdr($r, 'X-Cache') . ' ' . body_of($r));
$r = req(GET => $P, Accept => 'text/csv');
ok(hdr($r, 'X-Cache') =~ /HIT/ && body_of($r) eq $csv, 'CSV again: a hit, the CSV, not the JSON')
    or diag(hdr($r, 'X-Cache') . ' ' . body_of($r));
$r = req(GET => "$P&limit=2");
ok(hdr($r, 'X-Cache') =~ /MISS/ && body_of($r) =~ /9.99/, 'another URL: a miss, today\'s price');
psql("UPDATE hooks.prices SET price = 2.50 WHERE id = 1");

# --- roles behind the cache: private, never shared
Apache::TestRequest::module('roles');
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
sub owners { join ',', sort keys %{ { map { $_->{owner} => 1 } @{ decode_body($_[0]) || [] } } } }
$r = req(GET => '/cached_users/projects?select=owner', as('alice'));
is(hdr($r, 'Cache-Control'), 'private, max-age=300', 'an authenticated role\'s answer: private first');
like(hdr($r, 'Vary'), qr/Authorization,\s*Cookie/, '... Vary: Authorization, Cookie');
$r = req(GET => '/cached_users/projects?select=owner', as('alice'));
ok(hdr($r, 'X-Cache') !~ /HIT/, 'alice again: not from the shared cache') or diag(hdr($r, 'X-Cache'));
$r = req(GET => '/cached_users/projects?select=owner', as('bob'));
is(owners($r), 'bob', 'bob, the same URL: his rows only');
is(owners(req(GET => '/cached_users/projects?select=owner', as('alice'))), 'alice', 'alice: hers');
