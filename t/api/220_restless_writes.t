# 220_restless_writes.t: Flask-Restless 0.17's writes under AutoRestDialect restless
# (t/conf/extra.conf.in: /w_restless with AutoRestRestlessAllowMany On, /w_restless/one
# without), on writes.notebook (t/fixtures/90_writes.sql). POST one object: 201, the
# new object with its relationships one level deep, Location /<pk>; PATCH and PUT
# /<pk>: 200 and the object; DELETE /<pk>: 204, 404 when no such row; PATCH of the
# collection with the body's "q": {"num_modified": n}; DELETE of the collection with
# ?q=: {"num_deleted": n}; 405 where many-row writes are not allowed; errors are
# {"message"} with 0.17's words. Every expected value is read back with psql.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

plan tests => 40;

my $J = JSON::PP->new->canonical;
sub jreq { my ($m, $path, $body) = @_; req($m => $path, 'Content-Type' => 'application/json', Content => $body) }
sub row_json {   # the notebook row as psql renders it, with its item (or null)
    my $id = shift;
    return psql_json(<<SQL);
SELECT json_build_object('id', n.id, 'item_id', n.item_id, 'title', n.title, 'pages', n.pages,
       'items', (SELECT to_json(i) FROM writes.items i WHERE i.id = n.item_id))
FROM writes.notebook n WHERE n.id = $id
SQL
}

# --- POST
my $res = jreq(POST => '/w_restless/notebook', '{"id": 10, "item_id": 2, "title": "tenth", "pages": 5}');
is($res->code, 201, 'POST: 201');
like($res->header('Location') // '', qr{/w_restless/notebook/10$}, 'POST: Location /notebook/10');
my $got = decode_body($res);
is(ref $got, 'HASH', 'POST: one object, not a page');
is(scalar @{ diff_json(tag_text(body_of($res), 'POST'), row_json(10)) }, 0,
   'POST: the object is the row psql reads, with its related item');
is(psql("SELECT count(*) FROM writes.notebook WHERE id = 10"), 1, 'POST: the row is there');

$res = jreq(POST => '/w_restless/notebook', '{"id": 11, "title": "tenth"}');
is($res->code, 400, 'POST: a duplicate unique value is 400 (0.17: IntegrityError)');
is(body_of($res), '{"message":"IntegrityError"}', '... with 0.17\'s message');
is(psql("SELECT count(*) FROM writes.notebook WHERE id = 11"), 0, '... and nothing written');

$res = jreq(POST => '/w_restless/notebook', '{"id": 12, "title": "x", "bogus": 1}');
is($res->code, 400, 'POST: an unknown field is 400');
is(body_of($res), q({"message":"Model does not have field 'bogus'"}), '... naming the field');

$res = jreq(POST => '/w_restless/notebook', '{"id": 12,');
is($res->code, 400, 'POST: malformed JSON is 400');
is(body_of($res), '{"message":"Unable to decode data"}', '... "Unable to decode data"');

$res = req(POST => '/w_restless/notebook', 'Content-Type' => 'text/plain', Content => '{"id": 12}');
is($res->code, 415, 'POST without Content-Type: application/json is 415');
like(body_of($res), qr/^\{"message":"Request must have/, '... with 0.17\'s message');

$res = jreq(POST => '/w_restless/notebook', '{"id": 13, "title": "bad", "pages": -1}');
is($res->code, 400, 'POST: a check constraint is 400 IntegrityError');
$res = jreq(POST => '/w_restless/notebook', '{"id": 13, "title": "bad", "pages": "many"}');
is($res->code, 400, 'POST: a value the type rejects is 400');
is(body_of($res), '{"message":"DataError"}', '... "DataError"');

# --- PATCH and PUT one
$res = jreq(PATCH => '/w_restless/notebook/10', '{"pages": 6}');
is($res->code, 200, 'PATCH /<pk>: 200');
is(psql("SELECT pages FROM writes.notebook WHERE id = 10"), 6, 'PATCH: changed');
is(scalar @{ diff_json(tag_text(body_of($res), 'PATCH'), row_json(10)) }, 0, 'PATCH: the object as it is now');
$res = jreq(PUT => '/w_restless/notebook/10', '{"title": "ten"}');
is($res->code, 200, 'PUT /<pk> is PATCH: 200');
is(psql("SELECT title || ',' || pages FROM writes.notebook WHERE id = 10"), 'ten,6',
   'PUT: only the body\'s field changed');
$res = jreq(PATCH => '/w_restless/notebook/999', '{"pages": 1}');
is($res->code, 404, 'PATCH of a missing row: 404');
is(decode_body($res)->{message} // '', 'No result found', '... {"message"}');

# --- PATCH many, with the body's q
my $want = psql("SELECT count(*) FROM writes.notebook WHERE pages >= 20");
$res = jreq(PATCH => '/w_restless/notebook',
            '{"q": {"filters": [{"name": "pages", "op": "ge", "val": 20}]}, "title_x": null}');
is($res->code, 400, 'PATCH many with an unknown field: 400');
$res = jreq(PATCH => '/w_restless/notebook',
            '{"q": {"filters": [{"name": "pages", "op": "ge", "val": 20}]}, "pages": 25}');
is($res->code, 200, 'PATCH many: 200');
is(body_of($res), qq({"num_modified": $want}), 'PATCH many: {"num_modified": n}, n from psql');
is(psql("SELECT count(*) FROM writes.notebook WHERE pages = 25"), $want, 'PATCH many: those rows changed');
$res = jreq(PATCH => '/w_restless/notebook', '{"pages": 1}');
is($res->code, 400, 'PATCH many without q: 400 (no unfiltered writes by default)');
is(psql("SELECT count(*) FROM writes.notebook WHERE pages = 1"), 0, '... nothing changed');
$res = jreq(PATCH => '/w_restless/one/notebook',
            '{"q": {"filters": [{"name": "id", "op": "eq", "val": 1}]}, "pages": 2}');
is($res->code, 405, 'PATCH many where AutoRestRestlessAllowMany is Off: 405');

# --- DELETE
$res = req(DELETE => '/w_restless/notebook/10');
is($res->code, 204, 'DELETE /<pk>: 204');
is(psql("SELECT count(*) FROM writes.notebook WHERE id = 10"), 0, 'DELETE: gone');
$res = req(DELETE => '/w_restless/notebook/10');
is($res->code, 404, 'DELETE of a missing row: 404');
psql("INSERT INTO writes.notebook VALUES (20, NULL, 'd1', 0), (21, NULL, 'd2', 0)");
my $q = $J->encode({ filters => [{ name => 'title', op => 'like', val => 'd%' }] });
$want = psql("SELECT count(*) FROM writes.notebook WHERE title LIKE 'd%'");
$res = req(DELETE => '/w_restless/notebook?q=' . enc($q));
is($res->code, 200, 'DELETE many with ?q=: 200');
is(body_of($res), qq({"num_deleted": $want}), 'DELETE many: {"num_deleted": n}');
is(psql("SELECT count(*) FROM writes.notebook WHERE title LIKE 'd%'"), 0, 'DELETE many: gone');
$res = req(DELETE => '/w_restless/one/notebook?q=' . enc($q));
is($res->code, 405, 'DELETE many where AutoRestRestlessAllowMany is Off: 405');
$res = req(DELETE => '/w_restless/notebook');
is($res->code, 400, 'DELETE many without q: 400');
is(psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_web' AND state LIKE 'idle in transaction%'"),
   0, 'no connection is left inside a transaction');
