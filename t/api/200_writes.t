# 200_writes.t: writes at /w (schema writes, t/fixtures/90_writes.sql) as PostgREST 12
# answers them. POST: 201 with no body and Content-Range */* (no Location, no
# Content-Type), return=representation (201, a JSON array that is what psql then
# reads, select= with an embed), return=headers-only (Location /w/items?id=eq.N),
# count=exact (*/n), arrays whose objects differ in keys (the union: missing is NULL,
# or the column's default with missing=default), columns= (other keys ignored), {} and
# [{},{}] (rows of defaults), [] (nothing). PATCH: 204 with Content-Range 0-(n-1)/*,
# representation 200 with select= and order=, no match and {} (204 */*). DELETE: 204
# */*, representation with count=exact 200 */n. PUT: insert then update (201 then 200
# with representation, 204 without and no Content-Range), absent columns kept. Upserts:
# merge-duplicates on the key and on_conflict=sku (only the body's columns change; 200
# when nothing was inserted, 201 when something was), ignore-duplicates (201, only the
# inserted rows). Accept: application/vnd.pgrst.object+json (one row: an object; two:
# 406 and nothing written). Prefer: tx=rollback (honoured at /w_loose, ignored at /w),
# handling=strict with max-affected, Preference-Applied in PostgREST's order.
# Content-Profile. OPTIONS' Allow. CSV bodies and CSV representations.
# Every value about the database is read by psql; rows are this file's own (ids
# 20000-20099, names t200-..., and rows of writes.defaults it counts itself).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

plan tests => 121;

my $JSON = JSON::PP->new->utf8->canonical;
my $OBJ = 'application/vnd.pgrst.object+json';
my $VIS = 'id, name, sku, price, qty, tags, meta, created';    # items' columns but the hidden secret

# w(METHOD, PATH, BODY, HEADERS...): a write with a JSON body (a Perl structure, or bytes as they are).
sub w {
    my ($method, $path, $body, @h) = @_;
    my @content = defined $body ? (Content => ref $body ? $JSON->encode($body) : $body) : ();
    return req($method, $path, 'Content-Type' => 'application/json', @h, @content);
}
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub cr { hdr(shift, 'Content-Range') }
sub pa { hdr(shift, 'Preference-Applied') }
sub q1 { psql(shift) }

# body_is(RES, SQL, NAME): the JSON body is, exactly, SQL's one json value.
sub body_is {
    my ($res, $sql, $name) = @_;
    my $d = diff_json(tag_text(body_of($res), $name), psql_json($sql));
    diag("$name: $_") for @$d[0 .. ($#$d > 9 ? 9 : $#$d)];
    diag("$name: status " . $res->code . ', body ' . substr(body_of($res), 0, 300)) if @$d;
    ok(!@$d, $name);
}
# items(WHERE[, ORDER]): the visible columns of those items as a JSON array, by psql.
sub items { my ($where, $order) = @_; $order //= 'id';
    "SELECT coalesce(json_agg(x ORDER BY $order), '[]') FROM (SELECT $VIS FROM writes.items WHERE $where) x" }
# empty(RES): no body and no Content-Type
sub empty_ok {
    my ($res, $name) = @_;
    my $ok = length(body_of($res)) == 0 && !defined $res->header('Content-Type');
    diag("$name: Content-Type " . hdr($res, 'Content-Type') . ', body ' . substr(body_of($res), 0, 200)) unless $ok;
    ok($ok, "$name: no body, no Content-Type");
}
sub status_is {
    my ($res, $want, $name) = @_;
    is($res->code, $want, "$name: $want") or diag(body_of($res));
}

psql(q{DELETE FROM writes.reviews WHERE item_id BETWEEN 20000 AND 20099 OR id BETWEEN 20000 AND 20099;
       DELETE FROM writes.items WHERE id BETWEEN 20000 AND 20099 OR name LIKE 't200-%';
       DELETE FROM writes.stock WHERE shop LIKE 't200%'});

# ------------------------------------------------------------------ POST
my $r = w(POST => '/w/items', {name => 't200-min', qty => 2});
is($r->code . ' ' . cr($r), '201 */*', 'POST one object: 201, Content-Range */*');
empty_ok($r, 'POST, return=minimal by default');
is(hdr($r, 'Location') . ' | ' . pa($r), 'none | none', 'POST without Prefer: no Location, no Preference-Applied');
is(q1(q{SELECT count(*) || ' ' || min(qty) FROM writes.items WHERE name = 't200-min'}), '1 2', 'psql: the row is there, as sent');

$r = w(POST => '/w/items?' . qenc('select=id,name,qty,reviews(id)'), {name => 't200-rep', qty => 4, tags => ['a', 'b,c']},
    Prefer => 'return=representation');
is($r->code . ' ' . cr($r), '201 */*', 'return=representation: 201, Content-Range */*');
ok(ct_ok($r), 'return=representation: application/json; charset=utf-8');
is(pa($r), 'return=representation', 'Preference-Applied: return=representation');
body_is($r, q{SELECT json_agg(json_build_object('id', i.id, 'name', i.name, 'qty', i.qty, 'reviews',
        (SELECT coalesce(json_agg(json_build_object('id', v.id)), '[]') FROM writes.reviews v WHERE v.item_id = i.id)))
    FROM writes.items i WHERE name = 't200-rep'}, 'return=representation with select=id,name,qty,reviews(id): what psql reads');
is(q1(q{SELECT tags::text FROM writes.items WHERE name = 't200-rep'}), '{a,"b,c"}', 'psql: a JSON array went into text[]');

$r = w(POST => '/w/items', {name => 't200-all', price => '12.345', meta => {k => [1, 'x', undef]}}, Prefer => 'return=representation');
body_is($r, items(q{name = 't200-all'}), 'return=representation without select: every visible column, as psql reads them');
unlike(body_of($r), qr/secret|hidden-default/, '... and never the hidden column');

$r = w(POST => '/w/items', {name => 't200-loc'}, Prefer => 'return=headers-only');
my $loc_id = q1(q{SELECT id FROM writes.items WHERE name = 't200-loc'});
is($r->code . ' ' . cr($r), '201 */*', 'return=headers-only: 201, */*');
is(hdr($r, 'Location'), "/w/items?id=eq.$loc_id", "return=headers-only: Location /w/items?id=eq.$loc_id (the id psql sees)");
is(pa($r), 'return=headers-only', 'Preference-Applied: return=headers-only');
empty_ok($r, 'return=headers-only');

$r = w(POST => '/w/items', [{name => 't200-loc2'}, {name => 't200-loc3'}], Prefer => 'return=headers-only');
is($r->code . ' ' . hdr($r, 'Location'), '201 none', 'return=headers-only, two rows: no Location');

$r = w(POST => '/w/items', [{name => 't200-loc4'}], Prefer => 'return=headers-only');
my $loc4 = q1(q{SELECT id FROM writes.items WHERE name = 't200-loc4'});
is(hdr($r, 'Location'), "/w/items?id=eq.$loc4", 'return=headers-only, an array of one object: Location too (one row was inserted)');
{
    # a composite key, in the table's column order, each value percent-encoded but A-Za-z0-9-._~
    my $shop = "t200 north/\x{e4}&=?";
    $r = w(POST => '/w/stock', {item_id => 20001, shop => $shop, qty => 1}, Prefer => 'return=headers-only');
    my ($s, $i) = split /\|/, q1(q{SELECT shop || '|' || item_id FROM writes.stock WHERE shop LIKE 't200 north%'});
    my $pe = sub { my $v = shift; $v =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge; $v };
    is($r->code . ' ' . hdr($r, 'Location'), '201 /w/stock?shop=eq.' . $pe->($s) . '&item_id=eq.' . $pe->($i),
        'return=headers-only on writes.stock: Location names both key columns, in column order, percent-encoded');
}
$r = w(POST => '/w/items', {name => 't200-minimal'}, Prefer => 'return=minimal');
is($r->code . ' ' . pa($r), '201 return=minimal', 'return=minimal asked: 201, echoed');

$r = w(POST => '/w/items', {name => 't200-cnt'}, Prefer => 'count=exact');
is($r->code . ' ' . cr($r) . ' ' . pa($r), '201 */1 count=exact', 'count=exact: 201, */1, Preference-Applied count=exact');
$r = w(POST => '/w/items', [map { {name => "t200-cnt$_"} } 1 .. 3], Prefer => 'count=exact, return=representation');
my $n3 = q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't200-cnt_'});
is($r->code . ' ' . cr($r), "201 */$n3", "count=exact, three objects: */$n3");
is(pa($r), 'return=representation, count=exact', 'Preference-Applied in PostgREST\'s order: return=..., count=...');

# --- arrays whose objects differ: the union of their keys; a missing key is NULL
$r = w(POST => '/w/items', [{name => 't200-u1', sku => 't200-U1'}, {name => 't200-u2', price => 2.5}]);
is($r->code, 201, 'objects with different keys: 201');
is(q1(q{SELECT string_agg(name || ':' || coalesce(sku, 'NULL') || ':' || coalesce(price::text, 'NULL'), ' ' ORDER BY name)
        FROM writes.items WHERE name IN ('t200-u1', 't200-u2')}),
   't200-u1:t200-U1:NULL t200-u2:NULL:2.50', 'psql: the union of the keys; each object\'s missing keys are NULL (not the default)');
is(q1(q{SELECT count(*) FILTER (WHERE qty::text = (SELECT column_default FROM information_schema.columns
        WHERE table_schema = 'writes' AND table_name = 'items' AND column_name = 'qty'))
        FROM writes.items WHERE name IN ('t200-u1', 't200-u2')}), '2', 'psql: a column no object names takes its default');
$r = w(POST => '/w/items', [{name => 't200-m1', sku => 't200-M1'}, {name => 't200-m2', price => 2.5}],
    Prefer => 'missing=default, return=representation');
is($r->code . ' ' . pa($r), '201 missing=default, return=representation', 'missing=default: 201, Preference-Applied missing=default, return=representation');
is(q1(q{SELECT string_agg(name || ':' || coalesce(sku, 'NULL') || ':' ||
        CASE WHEN price = (SELECT column_default::numeric FROM information_schema.columns
            WHERE table_schema = 'writes' AND table_name = 'items' AND column_name = 'price') THEN 'default'
        ELSE coalesce(price::text, 'NULL') END, ' ' ORDER BY name) FROM writes.items WHERE name IN ('t200-m1', 't200-m2')}),
   't200-m1:t200-M1:default t200-m2:NULL:2.50', 'psql: with missing=default a missing key takes the default (price), NULL where there is none (sku)');
body_is($r, items(q{name IN ('t200-m1', 't200-m2')}), 'missing=default: the representation is what psql reads');

# --- columns=: only those are taken from the body
$r = w(POST => '/w/items?columns=name,price', [{name => 't200-c3', price => 1, sku => 't200-C3', bogus => 1}, {name => 't200-c4'}]);
is($r->code, 201, 'columns=name,price, objects with keys outside it (one not a column) and one lacking price: 201') or diag(body_of($r));
is(q1(q{SELECT string_agg(name || ':' || coalesce(price::text, 'NULL') || ':' || coalesce(sku, 'NULL'), ' ' ORDER BY name)
        FROM writes.items WHERE name IN ('t200-c3', 't200-c4')}), 't200-c3:1.00:NULL t200-c4:NULL:NULL',
   'psql: keys outside columns= ignored; a listed key an object lacks is NULL');

# --- {} and [{},{}]: rows of defaults; []: nothing
my $dmax = q1('SELECT coalesce(max(id), 0) FROM writes.defaults');
$r = w(POST => '/w/defaults', '{}');
is($r->code . ' ' . cr($r), '201 */*', '{}: 201, */*');
is(q1("SELECT count(*) FROM writes.defaults WHERE id > $dmax"), 1, '{}: psql sees one new row');
# $same_defaults->(ID): rows of writes.defaults past ID whose columns are what INSERT ...
# DEFAULT VALUES gives (into a temporary copy of the table, in the same psql session)
my $same_defaults = sub { my $from = shift;
    q1("CREATE TEMP TABLE ref (LIKE writes.defaults INCLUDING DEFAULTS); INSERT INTO ref DEFAULT VALUES;
        SELECT count(*) FROM writes.defaults d, ref WHERE d.id > $from
        AND (d.label, d.n, d.note) IS NOT DISTINCT FROM (ref.label, ref.n, ref.note)") };
is($same_defaults->($dmax), 1, '{}: its columns have their defaults (as INSERT ... DEFAULT VALUES gives them)');
$dmax = q1('SELECT coalesce(max(id), 0) FROM writes.defaults');
$r = w(POST => '/w/defaults', '[{},{}]', Prefer => 'return=representation');
is($r->code, 201, '[{},{}]: 201');
is(q1("SELECT count(*) FROM writes.defaults WHERE id > $dmax") . ' ' . $same_defaults->($dmax), '2 2',
    '[{},{}]: psql sees two new rows of defaults');
body_is($r, "SELECT json_agg(d ORDER BY id) FROM writes.defaults d WHERE id > $dmax", '[{},{}] with return=representation: those two rows');
$dmax = q1('SELECT coalesce(max(id), 0) FROM writes.defaults');
$r = w(POST => '/w/defaults', '[]');
is($r->code . ' ' . cr($r), '201 */*', '[]: 201, */*');
empty_ok($r, '[]');
$r = w(POST => '/w/defaults', '[]', Prefer => 'return=representation');
is($r->code . ' ' . body_of($r), '201 []', '[] with return=representation: 201, []');
is(q1("SELECT count(*) FROM writes.defaults WHERE id > $dmax"), 0, '[]: psql sees nothing new');

# ------------------------------------------------------------------ PATCH
psql(q{INSERT INTO writes.items (id, name, sku, price, qty) SELECT i, 't200-p' || i, 't200-P' || i, i - 20000, 1
       FROM generate_series(20010, 20016) i;
       INSERT INTO writes.reviews VALUES (20010, 20010, 4, 'ok'), (20011, 20011, 2, NULL)});
my $before = q1(items('id BETWEEN 20010 AND 20016'));
my $n = q1('SELECT count(*) FROM writes.items WHERE id BETWEEN 20010 AND 20012');
$r = w(PATCH => '/w/items?id=gte.20010&id=lte.20012', {qty => 9});
is($r->code . ' ' . cr($r), '204 0-' . ($n - 1) . '/*', "PATCH of $n rows: 204, Content-Range 0-" . ($n - 1) . '/*');
empty_ok($r, 'PATCH');
is(q1(q{SELECT string_agg(id || ':' || qty, ' ' ORDER BY id) FROM writes.items WHERE id BETWEEN 20010 AND 20016}),
   q1(q{SELECT string_agg(id || ':' || CASE WHEN id <= 20012 THEN 9 ELSE qty END, ' ' ORDER BY id)
        FROM json_populate_recordset(NULL::writes.items, '} . $before . q{')}),
   'psql: those rows have qty 9, the others are as they were');

$r = w(PATCH => '/w/items?' . qenc('id=in.(20010,20011,20012)&select=id,qty,reviews(id,stars)&order=id.desc'), {qty => 8},
    Prefer => 'return=representation');
is($r->code . ' ' . cr($r), '200 0-' . ($n - 1) . '/*', 'PATCH, return=representation: 200, 0-' . ($n - 1) . '/*');
ok(ct_ok($r), 'PATCH representation: application/json');
body_is($r, q{SELECT json_agg(json_build_object('id', i.id, 'qty', i.qty, 'reviews',
        (SELECT coalesce(json_agg(json_build_object('id', v.id, 'stars', v.stars)), '[]') FROM writes.reviews v WHERE v.item_id = i.id))
        ORDER BY i.id DESC) FROM writes.items i WHERE id BETWEEN 20010 AND 20012},
    'PATCH with select=id,qty,reviews(id,stars)&order=id.desc: the changed rows as psql reads them, in that order');

$r = w(PATCH => '/w/items?id=eq.-20010', {qty => 7});
is($r->code . ' ' . cr($r), '204 */*', 'PATCH matching no row: 204, */*');
$r = w(PATCH => '/w/items?id=eq.-20010', {qty => 7}, Prefer => 'return=representation');
is($r->code . ' ' . cr($r) . ' ' . body_of($r), '200 */* []', 'PATCH matching no row, representation: 200, */*, []');
$r = w(PATCH => '/w/items?id=eq.20010', {qty => 7}, Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '204 0-0/1', 'PATCH of one row with count=exact: 204, 0-0/1');

$before = q1(items('id BETWEEN 20010 AND 20016'));
$r = w(PATCH => '/w/items?id=gte.20010&id=lte.20016', '{}');
is($r->code . ' ' . cr($r), '204 */*', 'PATCH {}: 204, */*');
$r = w(PATCH => '/w/items?id=gte.20010&id=lte.20016', '{}', Prefer => 'return=representation');
is($r->code . ' ' . body_of($r), '200 []', 'PATCH {} with representation: 200, []');
is(q1(items('id BETWEEN 20010 AND 20016')), $before, 'psql: PATCH {} changed nothing');

# ------------------------------------------------------------------ DELETE
$r = req(DELETE => '/w/items?id=eq.20013');
is($r->code . ' ' . cr($r), '204 */*', 'DELETE of one row: 204, */*');
empty_ok($r, 'DELETE');
is(q1('SELECT count(*) FROM writes.items WHERE id = 20013'), 0, 'psql: the row is gone');

my $doomed = q1(items('id BETWEEN 20014 AND 20016'));
$n = q1('SELECT count(*) FROM writes.items WHERE id BETWEEN 20014 AND 20016');
$r = req(DELETE => '/w/items?id=gte.20014&id=lte.20016', Prefer => 'return=representation, count=exact');
is($r->code . ' ' . cr($r), "200 */$n", "DELETE of $n rows, representation and count=exact: 200, */$n");
is(pa($r), 'return=representation, count=exact', 'Preference-Applied: return=representation, count=exact');
body_is($r, "SELECT '$doomed'::json", 'DELETE representation: the rows as psql read them before');
is(q1('SELECT count(*) FROM writes.items WHERE id BETWEEN 20014 AND 20016'), 0, 'psql: they are gone');
$r = req(DELETE => '/w/items?id=eq.20014', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '204 */0', 'DELETE matching nothing with count=exact: 204, */0');
$r = req(DELETE => '/w/items?id=eq.20014', Prefer => 'return=representation');
is($r->code . ' ' . cr($r) . ' ' . body_of($r), '200 */* []', 'DELETE matching nothing, representation: 200, */*, []');

# ------------------------------------------------------------------ PUT
$r = w(PUT => '/w/items?id=eq.20020', {id => 20020, name => 't200-put', qty => 5}, Prefer => 'return=representation');
is($r->code . ' ' . cr($r), '201 none', 'PUT of a new row, representation: 201, no Content-Range');
body_is($r, items('id = 20020'), 'PUT representation (insert): the row psql reads');
$r = w(PUT => '/w/items?id=eq.20020', {id => 20020, name => 't200-put2'}, Prefer => 'return=representation');
is($r->code . ' ' . cr($r), '200 none', 'PUT of that row again, representation: 200 (updated), no Content-Range');
body_is($r, items('id = 20020'), 'PUT representation (update): the row psql reads');
is(q1('SELECT name || qty FROM writes.items WHERE id = 20020'), 't200-put25', 'psql: PUT changed the body\'s columns and kept qty, which the body lacks');
$r = w(PUT => '/w/items?id=eq.20020', {id => 20020, name => 't200-put3'});
is($r->code . ' ' . cr($r) . ' ' . hdr($r, 'Location'), '204 none none', 'PUT, return=minimal: 204, no Content-Range, no Location');
empty_ok($r, 'PUT minimal');
is(q1('SELECT name FROM writes.items WHERE id = 20020'), 't200-put3', 'psql: PUT minimal wrote');
$r = w(PUT => '/w/items?id=eq.20021', {id => 20021, name => 't200-put4'});
is($r->code . ' ' . q1('SELECT count(*) FROM writes.items WHERE id = 20021'), '204 1', 'PUT minimal of a new row: 204, psql sees it');

# ------------------------------------------------------------------ upserts
psql(q{INSERT INTO writes.items (id, name, sku, price, qty, tags) VALUES (20030, 't200-up', 't200-UP', 3.25, 2, '{x}')});
my $row_sql = q{SELECT row_to_json(x) FROM (SELECT name, sku, price, qty, tags FROM writes.items WHERE id = 20030) x};
my $orig = q1($row_sql);
$r = w(POST => '/w/items', [{id => 20030, name => 't200-up2'}], Prefer => 'resolution=merge-duplicates, return=representation');
is($r->code . ' ' . cr($r), '200 */*', 'merge-duplicates on the key, the row exists: 200 (nothing inserted), */*');
is(pa($r), 'resolution=merge-duplicates, return=representation', 'Preference-Applied: resolution=merge-duplicates, return=representation');
body_is($r, items('id = 20030'), 'merge-duplicates: the representation is the merged row');
is(q1(q{SELECT row_to_json(x) FROM (SELECT name, sku, price, qty, tags FROM writes.items WHERE id = 20030) x}),
   q1(qq{SELECT row_to_json(x) FROM (SELECT 't200-up2'::text AS name, sku, price, qty, tags FROM json_populate_record(NULL::writes.items, '$orig')) x}),
   'psql: only name (the body\'s column) changed; price, qty, sku and tags kept');
$r = w(POST => '/w/items', [{id => 20030, name => 't200-up3'}, {id => 20031, name => 't200-up-new'}],
    Prefer => 'return=representation, resolution=merge-duplicates');
is($r->code . ' ' . pa($r), '201 resolution=merge-duplicates, return=representation',
    'merge-duplicates, one row merged and one inserted: 201; Preference-Applied in PostgREST\'s order');
body_is($r, items('id IN (20030, 20031)'), 'the representation: both rows, as psql reads them');
$r = w(POST => '/w/items', {id => 20030, name => 't200-up4'}, Prefer => 'resolution=merge-duplicates');
is($r->code . ' ' . cr($r) . ' ' . pa($r), '200 */* resolution=merge-duplicates', 'merge-duplicates, minimal, nothing inserted: 200, */*');
empty_ok($r, 'merge-duplicates minimal');

$orig = q1($row_sql);
$r = w(POST => '/w/items?on_conflict=sku', [{sku => 't200-UP', name => 't200-bysku', qty => 6}],
    Prefer => 'resolution=merge-duplicates, return=representation');
is($r->code, 200, 'merge-duplicates with on_conflict=sku, the sku exists: 200');
body_is($r, items('id = 20030'), 'on_conflict=sku: the representation is row 20030, merged');
is(q1(q{SELECT row_to_json(x) FROM (SELECT name, sku, price, qty, tags FROM writes.items WHERE id = 20030) x}),
   q1(qq{SELECT row_to_json(x) FROM (SELECT 't200-bysku'::text AS name, sku, price, 6 AS qty, tags FROM json_populate_record(NULL::writes.items, '$orig')) x}),
   'psql: on_conflict=sku changed name and qty of the row with that sku, kept price and tags');
$r = w(POST => '/w/items?on_conflict=sku', [{sku => 't200-UP2', name => 't200-bysku2', qty => 1}], Prefer => 'resolution=merge-duplicates');
is($r->code . ' ' . q1(q{SELECT count(*) FROM writes.items WHERE sku = 't200-UP2'}), '201 1', 'on_conflict=sku, a new sku: 201, inserted');

$orig = q1($row_sql);
$r = w(POST => '/w/items', [{id => 20030, name => 't200-ignored'}, {id => 20032, name => 't200-ign-new'}],
    Prefer => 'resolution=ignore-duplicates, return=representation');
is($r->code . ' ' . pa($r), '201 resolution=ignore-duplicates, return=representation', 'ignore-duplicates: 201, Preference-Applied');
body_is($r, items('id = 20032'), 'ignore-duplicates: only the inserted row comes back');
is(q1($row_sql), $orig, 'psql: the existing row is untouched');
$r = w(POST => '/w/items', [{id => 20030, name => 't200-ignored'}], Prefer => 'resolution=ignore-duplicates, return=representation');
is($r->code . ' ' . body_of($r), '201 []', 'ignore-duplicates, nothing inserted: still 201, []');

# ------------------------------------------------------------------ Accept: object
$r = w(POST => '/w/items', {name => 't200-obj', qty => 3}, Prefer => 'return=representation', Accept => $OBJ);
is($r->code, 201, "Accept: $OBJ, one row: 201");
like(hdr($r, 'Content-Type'), qr{^application/vnd\.pgrst\.object\+json;\s*charset=utf-8$}i, "Content-Type: $OBJ; charset=utf-8");
body_is($r, q{SELECT row_to_json(x) FROM (SELECT } . $VIS . q{ FROM writes.items WHERE name = 't200-obj') x},
    'the body is the one row as an object');
$r = w(POST => '/w/items', [{name => 't200-obj2'}, {name => 't200-obj3'}], Prefer => 'return=representation', Accept => $OBJ);
ok(check_error($r, 406, 'AR402'), "Accept: $OBJ, two rows: 406 AR402");
like(json_text(body_of($r), 'AR402')->{details} // '', qr/\b2 rows/, '... whose details say 2 rows');
is(q1(q{SELECT count(*) FROM writes.items WHERE name IN ('t200-obj2', 't200-obj3')}), 0, 'psql: nothing was inserted');
$r = w(POST => '/w/items', [{name => 't200-obj4'}, {name => 't200-obj5'}], Accept => $OBJ);
ok(check_error($r, 406, 'AR402'), "Accept: $OBJ, two rows, return=minimal: 406 AR402 too");
is(q1(q{SELECT count(*) FROM writes.items WHERE name IN ('t200-obj4', 't200-obj5')}), 0, 'psql: nothing was inserted');

# ------------------------------------------------------------------ tx=rollback
$r = w(POST => '/w_loose/items', {id => 20040, name => 't200-rb'}, Prefer => 'tx=rollback, return=representation');
is($r->code . ' ' . cr($r), '201 */*', 'tx=rollback at /w_loose: 201, */* as if written');
is(pa($r), 'return=representation, tx=rollback', 'Preference-Applied: return=representation, tx=rollback');
my $rb = json_text(body_of($r), 'tx=rollback');
ok(ref $rb eq 'ARRAY' && @$rb == 1 && ($rb->[0]{name} // '') eq 't200-rb' && ($rb->[0]{id} // 0) == 20040,
    'the representation shows the row') or diag(body_of($r));
is(q1('SELECT count(*) FROM writes.items WHERE id = 20040'), 0, 'psql: nothing was kept');
$r = w(PATCH => '/w_loose/items?id=eq.20030', {qty => 99}, Prefer => 'tx=rollback');
is($r->code . ' ' . cr($r) . ' ' . pa($r), '204 0-0/* tx=rollback', 'PATCH with tx=rollback at /w_loose: 204, 0-0/*, tx=rollback');
isnt(q1('SELECT qty FROM writes.items WHERE id = 20030'), 99, 'psql: the PATCH was rolled back');
$r = w(POST => '/w/items', {id => 20041, name => 't200-rb2'}, Prefer => 'tx=rollback');
is($r->code . ' ' . pa($r), '201 none', 'tx=rollback at /w (no AutoRestTxOverride): 201, not echoed');
is(q1('SELECT count(*) FROM writes.items WHERE id = 20041'), 1, 'psql: at /w the row was kept');

# ------------------------------------------------------------------ max-affected
$before = q1(items('id BETWEEN 20030 AND 20032'));
$n = q1('SELECT count(*) FROM writes.items WHERE id BETWEEN 20030 AND 20032');
$r = w(PATCH => '/w/items?id=gte.20030&id=lte.20032', {qty => 42}, Prefer => 'handling=strict, max-affected=' . ($n - 1));
ok(check_error($r, 400, 'AR118'), "PATCH of $n rows with max-affected=" . ($n - 1) . ': 400 AR118');
is(json_text(body_of($r), 'AR118')->{details} // '', "The query affects $n rows", "details: The query affects $n rows");
is(q1(items('id BETWEEN 20030 AND 20032')), $before, 'psql: nothing changed');
$r = w(PATCH => '/w/items?id=gte.20030&id=lte.20032', {qty => 42}, Prefer => "max-affected=$n, handling=strict");
is($r->code . ' ' . cr($r), '204 0-' . ($n - 1) . '/*', "max-affected=$n, $n rows: 204, applied");
is(pa($r), "handling=strict, max-affected=$n", "Preference-Applied: handling=strict, max-affected=$n");
is(q1('SELECT count(*) FROM writes.items WHERE id BETWEEN 20030 AND 20032 AND qty = 42'), $n, 'psql: all changed');

# ------------------------------------------------------------------ Content-Profile
$r = w(POST => '/w/items', {name => 't200-prof'}, 'Content-Profile' => 'writes', Prefer => 'return=representation');
is($r->code . ' ' . hdr($r, 'Content-Profile'), '201 writes', 'Content-Profile: writes: 201, and Content-Profile: writes in the response');
body_is($r, items(q{name = 't200-prof'}), 'Content-Profile: writes: the row');
$r = w(POST => '/w/items', {name => 't200-prof2'}, 'Content-Profile' => 'public');
ok(check_error($r, 406, 'AR403'), 'Content-Profile: public (not served at /w): 406 AR403');
is(q1(q{SELECT count(*) FROM writes.items WHERE name = 't200-prof2'}), 0, 'psql: nothing written');

# ------------------------------------------------------------------ OPTIONS
is(hdr(req(OPTIONS => '/w/items'), 'Allow'), 'GET, HEAD, OPTIONS, POST, PATCH, PUT, DELETE', 'OPTIONS /w/items: every method');
is(hdr(req(OPTIONS => '/w_loose/items'), 'Allow'), 'GET, HEAD, OPTIONS, POST, PATCH, DELETE', 'OPTIONS /w_loose/items: no PUT');
is(hdr(req(OPTIONS => '/w_readonly/items'), 'Allow'), 'GET, HEAD, OPTIONS', 'OPTIONS /w_readonly/items: reads only');

# ------------------------------------------------------------------ CSV
my $csv = qq{id,name,sku,tags,meta\n}
        . qq{20050,"comma, ""quote""\nand newline",NULL,"{a,b}",\n}
        . qq{20051,"",,,"{""k"": [1, ""x""]}"\n}
        . qq{20052,plain,"NULL",{},"null"\r\n};
$r = req(POST => '/w/items', 'Content-Type' => 'text/csv', Content => $csv);
is($r->code . ' ' . cr($r), '201 */*', 'CSV body: 201, */*') or diag(body_of($r));
my $got_csv = q1(q{SELECT json_agg(json_build_object('id', id, 'name', name, 'sku', sku, 'tags', tags, 'meta', meta) ORDER BY id)
    FROM writes.items WHERE id BETWEEN 20050 AND 20052});
my $d = diff_json(tag_text($got_csv, 'psql'), tag_json([
    {id => 20050, name => qq{comma, "quote"\nand newline}, sku => undef, tags => ['a', 'b'], meta => undef},
    {id => 20051, name => '', sku => undef, tags => undef, meta => {k => [1, 'x']}},
    {id => 20052, name => 'plain', sku => 'NULL', tags => [], meta => undef}]));
ok(!@$d, 'psql: quoted fields keep , " and newlines; unquoted NULL and an empty unquoted field are SQL NULL; "" is the empty string; "NULL" is text')
    or diag(join "\n", @$d);
is(q1('SELECT meta IS NULL FROM writes.items WHERE id = 20052') . ' ' . q1(q{SELECT meta::text FROM writes.items WHERE id = 20052}),
   'f null', 'psql: the quoted CSV field "null" into jsonb is the JSON null, not SQL NULL');

$csv = qq{id,name,sku,price\n20053,"semi; colon, and ""q""",,1.5\n20054,two,"",\n};
$r = req(POST => '/w/items?' . qenc('select=id,name,sku,price,qty'), 'Content-Type' => 'text/csv', Accept => 'text/csv',
    Prefer => 'return=representation', Content => $csv);
is($r->code . ' ' . cr($r), '201 */*', 'CSV body with Accept: text/csv and representation: 201');
like(hdr($r, 'Content-Type'), qr{^text/csv;\s*charset=utf-8$}i, 'Content-Type: text/csv; charset=utf-8');
my $copy = q1(q{COPY (SELECT id, name, sku, price, qty FROM writes.items WHERE id IN (20053, 20054) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)});
$copy =~ s/\n/\r\n/g;
is(body_of($r), "$copy\r\n", 'the CSV representation is COPY ... CSV HEADER of the rows (CRLF)');
