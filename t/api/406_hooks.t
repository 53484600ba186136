# 406_hooks.t: another module on mod_autorest's optional hooks (include/mod_autorest.h),
# the example examples/mod_autorest_tenant.c, loaded into the test server beside the
# module. At /tenant each Basic user reads and changes only the orders of hooks.orders
# (t/fixtures/98_hooks.sql) whose tenant is their name: the before_statement hook adds
# tenant=eq.<user> (ANDed to whatever the client asked, so an or= cannot widen it), hides
# column internal (400 when asked for, never in a body), and refuses DELETE (403 AR703
# with the hook's message, the row kept). The after_statement hook adds X-Row-Count when
# the count is known before the first byte (not for an error, the index or a body that
# streams) and X-Autorest-Role, and turns an empty read into 404. /untenanted: the
# hooks run and decline. Order 9601 is written here and removed.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use MIME::Base64 ();
use ARTest;

plan tests => 23;

my $JSON = JSON::PP->new->utf8->canonical;
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
sub rows_of { my $j = decode_body($_[0]); ref $j eq 'ARRAY' ? $j : [] }
sub ids { join ',', map { $_->{id} } @{ rows_of($_[0]) } }
sub hdr { $_[0]->header($_[1]) // 'none' }
sub orders { psql("SELECT coalesce(string_agg(id || ':' || tenant || ':' || item, ' ' ORDER BY id), '') FROM hooks.orders") }
psql('DELETE FROM hooks.orders WHERE id = 9601');
my $before = orders();

my $r = req(GET => '/tenant/orders?order=id', as('alice'));
ok($r->code == 200 && ids($r) eq '1,2', 'alice reads her orders only') or diag($r->code . ' ' . body_of($r));
is(join(',', sort keys %{ rows_of($r)->[0] // {} }), 'id,item,tenant', '... without the hidden column');
is(hdr($r, 'X-Row-Count'), '2', '... X-Row-Count from the after hook: 2');
is(hdr($r, 'X-Autorest-Role'), '(login)', '... X-Autorest-Role: no role set, the connecting one');
unlike(body_of($r), qr/pays late/, '... and nothing of the hidden column');

$r = req(GET => '/tenant/orders?select=id&order=id', as('bob'));
ok($r->code == 200 && ids($r) eq '3,4,5' && hdr($r, 'X-Row-Count') eq '3',
    'bob reads his three, X-Row-Count 3') or diag($r->code . ' ' . body_of($r));

$r = req(GET => '/tenant/orders?or=(tenant.eq.bob,id.gt.0)&order=id', as('alice'));
ok($r->code == 200 && ids($r) eq '1,2', 'an or= of her own cannot widen the tenant filter')
    or diag($r->code . ' ' . body_of($r));

$r = req(GET => '/tenant/orders?id=eq.3', as('alice'));
ok($r->code == 404 && body_of($r) eq '[]' && hdr($r, 'X-Row-Count') eq '0',
    'bob\'s order asked for by alice: none, and the after hook made the empty read 404')
    or diag($r->code . ' ' . body_of($r) . ' ' . hdr($r, 'X-Row-Count'));

$r = req(GET => '/tenant/orders?select=id,internal', as('alice'));
ok(check_error($r, 400, 'AR105'), 'the hidden column asked for by name: 400 AR105');
{
    my $hidden = (decode_body($r) || {})->{message} // '';
    my $none = (decode_body(req(GET => '/tenant/orders?select=id,nothing', as('alice'))) || {})->{message} // '';
    $none =~ s/nothing/internal/;
    ok($hidden ne '' && $hidden eq $none, '... in the words of a column that does not exist');
}
is(hdr($r, 'X-Row-Count'), 'none', '... an error has no X-Row-Count');
is(hdr($r, 'X-Autorest-Role'), '(login)', '... but the after hook saw it');

$r = req(PATCH => '/tenant/orders?id=eq.3', as('alice'), 'Content-Type' => 'application/json',
    Content => '{"item":"stolen"}');
ok($r->code == 204 && hdr($r, 'X-Row-Count') eq '0', 'alice patching bob\'s order changes nothing: 204, 0 rows')
    or diag($r->code . ' ' . body_of($r));
$r = req(PATCH => '/tenant/orders', as('alice'), 'Content-Type' => 'application/json',
    'Prefer' => 'return=representation', Content => '{"item":"apples"}');
ok($r->code == 200 && ids($r) eq '1,2' && hdr($r, 'X-Row-Count') eq '2',
    'a PATCH without a filter of the client\'s: the tenant\'s filter holds, her 2 rows')
    or diag($r->code . ' ' . body_of($r));
psql("UPDATE hooks.orders SET item = 'apricots' WHERE id = 2");
$r = req(PATCH => '/tenant/orders?id=eq.1', as('alice'), 'Content-Type' => 'application/json',
    Content => '{"internal":"x"}');
ok(check_error($r, 400, 'AR115'), 'writing the hidden column: 400 AR115');

$r = req(DELETE => '/tenant/orders?id=eq.1', as('alice'));
my $j = decode_body($r) || {};
ok(check_error($r, 403, 'AR703') && ($j->{message} // '') eq 'alice may not delete orders',
    'DELETE refused by the hook: 403 AR703 with its message') or diag(body_of($r));

$r = req(POST => '/tenant/orders', as('alice'), 'Content-Type' => 'application/json',
    Content => '{"id":9601,"item":"avocados"}');
ok($r->code == 201 && psql('SELECT tenant FROM hooks.orders WHERE id = 9601') eq 'alice'
    && hdr($r, 'X-Row-Count') eq '1', 'POST: written, her tenant by default, X-Row-Count 1')
    or diag($r->code . ' ' . body_of($r));
psql('DELETE FROM hooks.orders WHERE id = 9601');
is(orders(), $before, 'nothing else of the orders changed');

$r = req(GET => '/tenant/rpc/order_count', as('bob'));
ok($r->code == 200 && body_of($r) eq '5' && hdr($r, 'X-Row-Count') eq '1',
    'a call: the hook declines (no relation), the function counts all 5; one value')
    or diag($r->code . ' ' . body_of($r) . ' ' . hdr($r, 'X-Row-Count'));

$r = req(GET => '/untenanted/orders?select=id,internal&order=id');
ok($r->code == 200 && ids($r) eq '1,2,3,4,5' && hdr($r, 'X-Row-Count') eq '5'
    && body_of($r) =~ /pays late/, 'no tenant directives: every row, the column shown, X-Row-Count 5')
    or diag($r->code . ' ' . body_of($r));

$r = req(GET => '/untenanted/orders?id=eq.99');
ok($r->code == 200 && hdr($r, 'X-Row-Count') eq '0', '... an empty read stays 200 there');

$r = req(GET => '/untenanted/');
ok($r->code == 200 && hdr($r, 'X-Row-Count') eq 'none', 'the index: no row count');

# wide: 100 rows of 12 KB stream past the 1 MiB the module holds back
$r = req(GET => '/api/wide?limit=100');
ok($r->code == 200 && !defined $r->header('Content-Length') && hdr($r, 'X-Row-Count') eq 'none'
    && hdr($r, 'X-Autorest-Role') eq '(login)',
    'a streamed body: the hook runs before its first byte, with the count not yet known')
    or diag($r->code . ' ' . hdr($r, 'Content-Length') . ' ' . hdr($r, 'X-Row-Count'));
