# 201_write_errors.t: writes that fail, at /w, /w_loose and /w_readonly (schema writes,
# t/fixtures/90_writes.sql), and that nothing they attempted is written. 405 with the
# exact Allow where a method is not open; PATCH/DELETE without a filter (400 21000,
# PostgreSQL's pg-safeupdate words) but allowed at /w_loose; unknown keys (400 AR115
# naming the row), the hidden column items.secret at /w (the same error as a column that
# does not exist, never in a representation, not filterable) but not at /w_loose;
# PostgreSQL's 23505 and 23503 (409), 23514 and 23502 (400; their "Failing row
# contains" details withheld where the relation hides a column), P0001 (400, the
# RAISE's words), 42501 (403); generated and identity-always columns (400 AR115);
# malformed JSON (400 AR115 with a byte offset); one bad row in 2,500 (nothing
# written); Content-Type (415 AR117); PUT's rules (405 AR119, 400 on a key that
# differs); limit= on a write (400); a body over LimitRequestBody (413 AR116; /w_small
# has LimitRequestBody 2000). At the end the API still answers and no
# connection was left idle in a transaction.
# Rows are this file's own: items 21000-24999 and names t201-..., writes.sweep.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use IO::Socket::INET ();
use JSON::PP ();

plan tests => 148;

my $JSON = JSON::PP->new->utf8->canonical;
my $VIS = 'id, name, sku, price, qty, tags, meta, created';    # items' columns but the hidden secret

my @collected;
sub w {
    my ($method, $path, $body, @h) = @_;
    my @content = defined $body ? (Content => ref $body ? $JSON->encode($body) : $body) : ();
    my $res = req($method, $path, 'Content-Type' => 'application/json', @h, @content);
    push @collected, $res;
    return $res;
}
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub q1 { psql(shift) }
sub err { my $res = shift; my $j = json_text(body_of($res), 'error'); ref $j eq 'HASH' ? $j : {} }
sub message_is {
    my ($res, $want, $name) = @_;
    my $m = err($res)->{message} // '(none)';
    ref $want ? like($m, $want, $name) : is($m, $want, $name);
}

# the state of what a test may have touched, to compare before and after
sub items_state { q1("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) || ' ' || count(*) FROM writes.items t") }
sub table_state { my $t = shift; q1("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) || ' ' || count(*) FROM writes.$t t") }

psql(q{DELETE FROM writes.reviews WHERE item_id BETWEEN 21000 AND 24999;
       DELETE FROM writes.items WHERE id BETWEEN 21000 AND 24999 OR name LIKE 't201-%';
       INSERT INTO writes.items (id, name, sku, qty, secret) SELECT i, 't201-' || i, 't201-S' || i, 1, 'S3CR3T-' || i
           FROM generate_series(21000, 21009) i});
my $items0 = items_state();

# ------------------------------------------------------------------ 405
for my $m (qw(POST PATCH PUT DELETE)) {
    my $r = w($m => '/w_readonly/items?id=eq.21000', {id => 21000, name => 't201-ro'});
    ok(check_error($r, 405, 'AR301'), "$m at /w_readonly: 405 AR301");
    is(hdr($r, 'Allow'), 'GET, HEAD, OPTIONS', "$m at /w_readonly: Allow: GET, HEAD, OPTIONS");
}
my $r = w(PUT => '/w_loose/items?id=eq.21000', {id => 21000, name => 't201-ro'});
ok(check_error($r, 405, 'AR301'), 'PUT at /w_loose (not in its AutoRestMethods): 405 AR301');
is(hdr($r, 'Allow'), 'GET, HEAD, OPTIONS, POST, PATCH, DELETE', 'Allow: GET, HEAD, OPTIONS, POST, PATCH, DELETE');
is(items_state(), $items0, 'psql: none of them wrote');

# ------------------------------------------------------------------ no filter
$r = w(PATCH => '/w/items', {qty => 0});
ok(check_error($r, 400, '21000'), 'PATCH /w/items without a filter: 400 21000');
message_is($r, 'UPDATE requires a WHERE clause', '... "UPDATE requires a WHERE clause"');
$r = w(DELETE => '/w/items');
ok(check_error($r, 400, '21000'), 'DELETE /w/items without a filter: 400 21000');
message_is($r, 'DELETE requires a WHERE clause', '... "DELETE requires a WHERE clause"');
$r = w(PATCH => '/w/items?select=id&order=id', {qty => 0}, Prefer => 'return=representation');
ok(check_error($r, 400, '21000'), 'select= and order= are no filter: 400 21000');
is(items_state(), $items0, 'psql: nothing changed');

my $sweep = q1('SELECT json_agg(s ORDER BY id) FROM writes.sweep s');
my $sweep0 = table_state('sweep');
my $ns = q1('SELECT count(*) FROM writes.sweep');
$r = w(PATCH => '/w_loose/sweep', {n => 0});
is($r->code . ' ' . hdr($r, 'Content-Range'), '204 0-' . ($ns - 1) . '/*', "PATCH /w_loose/sweep without a filter: 204, 0-" . ($ns - 1) . '/*');
is(q1('SELECT count(*) FILTER (WHERE n = 0) || \'/\' || count(*) FROM writes.sweep'), "$ns/$ns", 'psql: every row changed');
psql("UPDATE writes.sweep s SET n = j.n FROM json_populate_recordset(NULL::writes.sweep, '$sweep') j WHERE s.id = j.id");
$r = w(DELETE => '/w_loose/sweep', undef, Prefer => 'count=exact');
is($r->code . ' ' . hdr($r, 'Content-Range'), "204 */$ns", "DELETE /w_loose/sweep without a filter: 204, */$ns");
is(q1('SELECT count(*) FROM writes.sweep'), 0, 'psql: every row is gone');
psql("INSERT INTO writes.sweep SELECT * FROM json_populate_recordset(NULL::writes.sweep, '$sweep')");
is(table_state('sweep'), $sweep0, 'psql: writes.sweep restored');

# ------------------------------------------------------------------ unknown and hidden columns
$r = w(POST => '/w/items', [{name => 't201-k1'}, {name => 't201-k2'}, {name => 't201-k3', bogus => 1}]);
ok(check_error($r, 400, 'AR115'), 'an unknown key in the third object: 400 AR115');
message_is($r, qr/'bogus'.*\brow 3\b/, '... the message names the key and row 3');
my $unknown = err(w(POST => '/w/items', {name => 't201-k4', nosuch => 'x'}));
my $secret = err(w(POST => '/w/items', {name => 't201-k5', secret => 'x'}));
(my $as_secret = $JSON->encode($unknown)) =~ s/nosuch/secret/g;
is($JSON->encode($secret), $as_secret, 'the hidden column as a key at /w: exactly the error of a column that does not exist');
is($secret->{code} // '', 'AR115', '... 400 AR115');
my $pu = err(w(PATCH => '/w/items?id=eq.21000', {nosuch => 'x'}));
my $ps = err(w(PATCH => '/w/items?id=eq.21000', {secret => 'x'}));
($as_secret = $JSON->encode($pu)) =~ s/nosuch/secret/g;
is($JSON->encode($ps), $as_secret, 'PATCH with the hidden column: the error of an unknown one');
$pu = err(w(POST => '/w/items?columns=name,nosuch', {name => 't201-k6'}));
$ps = err(w(POST => '/w/items?columns=name,secret', {name => 't201-k6'}));
($as_secret = $JSON->encode($pu)) =~ s/nosuch/secret/g;
ok($JSON->encode($ps) eq $as_secret && ($ps->{code} // '') =~ /^AR1/, 'columns=name,secret: the error of columns=name,nosuch')
    or diag($JSON->encode($ps) . "\n" . $JSON->encode($pu));
$r = w(POST => '/w/items?' . qenc('select=id,secret'), {name => 't201-k7'}, Prefer => 'return=representation');
ok(check_error($r, 400, 'AR105'), 'select=id,secret in a representation at /w: 400 AR105');
$r = w(POST => '/w/items?on_conflict=secret', {name => 't201-k8'}, Prefer => 'resolution=merge-duplicates');
ok(check_error($r, 400, 'AR105'), 'on_conflict=secret at /w: 400 AR105');
is(q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't201-k%'}), 0, 'psql: none of these wrote a row');
is(items_state(), $items0, 'psql: items as they were');

for my $req (['PATCH', '/w/items?secret=eq.S3CR3T-21000', {qty => 5}], ['DELETE', '/w/items?secret=eq.S3CR3T-21000'],
             ['PATCH', '/w/items?' . qenc('id=eq.21000&or=(secret.eq.x,id.eq.21001)'), {qty => 5}],
             ['GET', '/w/items?secret=eq.S3CR3T-21000']) {
    my ($m, $path, $body) = @$req;
    ok(check_error(w($m, $path, $body), 400, 'AR105'), "$m with a filter on the hidden column: 400 AR105 ($path)");
}
ok(check_error(w(PATCH => '/w/items?id=eq.21000&order=secret', {qty => 5}, Prefer => 'return=representation'), 400, 'AR105'),
    'order=secret in a PATCH representation: 400 AR105');
is(items_state(), $items0, 'psql: nothing changed');

# the hidden column never shows at /w, whatever the write and the representation
{
    my @reps = (
        w(POST => '/w/items', {id => 21100, name => 't201-h1'}, Prefer => 'return=representation'),
        w(POST => '/w/items?select=*', {id => 21101, name => 't201-h2'}, Prefer => 'return=representation'),
        w(POST => '/w/items', {id => 21102, name => 't201-h3'}, Prefer => 'return=representation',
            Accept => 'application/vnd.pgrst.object+json'),
        w(POST => '/w/items', {id => 21103, name => 't201-h4'}, Prefer => 'return=representation', Accept => 'text/csv'),
        w(PATCH => '/w/items?id=in.(21000,21001)', {qty => 2}, Prefer => 'return=representation'),
        w(PUT => '/w/items?id=eq.21002', {id => 21002, name => 't201-21002'}, Prefer => 'return=representation'),
        w(POST => '/w/items', [{id => 21003, name => 't201-21003b'}], Prefer => 'return=representation, resolution=merge-duplicates'),
        w(DELETE => '/w/items?id=eq.21004', undef, Prefer => 'return=representation'),
        w(DELETE => '/w/items?id=eq.21005', undef, Prefer => 'return=representation', Accept => 'text/csv'),
        w(POST => '/w/items', {id => 21104, name => 't201-h5'}, Prefer => 'return=headers-only'),
    );
    my @bad = grep { $_->code >= 300 || body_of($_) =~ /secret|S3CR3T|hidden-default/ || join(' ', $_->headers->as_string) =~ /S3CR3T|hidden-default/ } @reps;
    ok(!@bad, 'representations at /w (JSON, object, CSV; POST, PATCH, PUT, upsert, DELETE) never show the hidden column')
        or diag(join "\n", map { $_->request->method . ' ' . $_->request->uri->path_query . ': ' . $_->code . ' ' . substr(body_of($_), 0, 300) } @bad);
    my $n = q1('SELECT count(*) FROM writes.items WHERE id IN (21100, 21101, 21102, 21103, 21104)');
    is($n, 5, 'psql: those inserts were written');
}
$r = w(POST => '/w_loose/items', {id => 21105, name => 't201-h6'}, Prefer => 'return=representation');
{
    my $d = diff_json(tag_text(body_of($r), 'w_loose'), psql_json('SELECT json_agg(t) FROM writes.items t WHERE id = 21105'));
    ok($r->code == 201 && !@$d, '/w_loose (nothing hidden): the representation is the whole row, secret included, as psql reads it')
        or diag(join "\n", $r->code, @$d);
}
$r = w(PATCH => '/w_loose/items?secret=eq.S3CR3T-21006', {qty => 3}, Prefer => 'return=representation');
ok($r->code == 200 && body_of($r) =~ /"secret":"S3CR3T-21006"/, '/w_loose: filtering on secret works, and it is in the representation')
    or diag($r->code . ' ' . body_of($r));
$items0 = items_state();

# ------------------------------------------------------------------ PostgreSQL's errors
my $h1 = q1('SELECT sku FROM writes.items WHERE id = 1');
my $ukey = q1(q{SELECT conname FROM pg_constraint WHERE conrelid = 'writes.items'::regclass AND contype = 'u'});
$r = w(POST => '/w/items', {name => 't201-dup', sku => $h1}, Prefer => 'return=representation');
ok(check_error($r, 409, '23505'), "a duplicate sku ($h1): 409 23505");
is(err($r)->{details} // 'null', "Key (sku)=($h1) already exists.", "details: Key (sku)=($h1) already exists.");
message_is($r, qq{duplicate key value violates unique constraint "$ukey"}, "message names the constraint $ukey");
is(hdr($r, 'Preference-Applied') . ' ' . hdr($r, 'Content-Range'), 'none none', 'an error has no Preference-Applied, no Content-Range');
$r = w(POST => '/w/items', {id => 1, name => 't201-dup'});
ok(check_error($r, 409, '23505'), 'a duplicate primary key: 409 23505');
is(err($r)->{details} // 'null', 'Key (id)=(1) already exists.', 'details: Key (id)=(1) already exists.');
$r = w(PATCH => '/w/items?id=eq.21007', {sku => $h1});
ok(check_error($r, 409, '23505'), 'PATCH to a duplicate sku: 409 23505');
my $noitem = q1('SELECT max(id) + 1000 FROM writes.items');
$r = w(POST => '/w/reviews', {id => 21000, item_id => $noitem, stars => 3});
ok(check_error($r, 409, '23503'), 'a review of an item that does not exist: 409 23503');
is(err($r)->{details} // 'null', qq{Key (item_id)=($noitem) is not present in table "items".}, 'details: Key (item_id)=(...) is not present');
my $reviewed = q1('SELECT min(item_id) FROM writes.reviews');
$r = w(DELETE => "/w/items?id=eq.$reviewed");
ok(check_error($r, 409, '23503'), "DELETE of item $reviewed, which has reviews: 409 23503");
is(q1("SELECT count(*) FROM writes.items WHERE id = $reviewed"), 1, 'psql: it is still there');

my $check = q1(q{SELECT conname FROM pg_constraint WHERE conrelid = 'writes.items'::regclass AND contype = 'c'});
for my $at ('/w', '/w_loose') {
    my $hidden = $at eq '/w';
    $r = w(POST => "$at/items", {name => 't201-neg', qty => -1});
    ok(check_error($r, 400, '23514'), "$at: qty -1: 400 23514");
    message_is($r, qq{new row for relation "items" violates check constraint "$check"}, "$at: 23514's message names $check");
    if ($hidden) { is(err($r)->{details}, undef, '/w (items hides a column): 23514 details withheld (null)') }
    else { like(err($r)->{details} // 'null', qr/^Failing row contains \(.*S3CR3T|^Failing row contains \(.*hidden-default/,
        '/w_loose: 23514 details "Failing row contains (...)", every column') }
    $r = w(POST => "$at/items", {qty => 1});
    ok(check_error($r, 400, '23502'), "$at: no name: 400 23502");
    message_is($r, 'null value in column "name" of relation "items" violates not-null constraint', "$at: 23502's message");
    if ($hidden) { is(err($r)->{details}, undef, '/w: 23502 details withheld (null)') }
    else { like(err($r)->{details} // 'null', qr/^Failing row contains \(/, '/w_loose: 23502 details "Failing row contains (...)"') }
    $r = w(PATCH => "$at/items?id=eq.21008", {qty => -5});
    ok(check_error($r, 400, '23514'), "$at: PATCH to qty -5: 400 23514");
    is(exists err($r)->{details} && !defined err($r)->{details} ? 'null' : 'present', $hidden ? 'null' : 'present',
        "$at: PATCH's 23514 details " . ($hidden ? 'withheld' : 'present'));
}
$r = w(POST => '/w/reviews', {id => 21001, item_id => 1, stars => 9});
ok(check_error($r, 400, '23514'), 'reviews (nothing hidden): stars 9: 400 23514');
like(err($r)->{details} // 'null', qr/^Failing row contains \(21001, 1, 9, null\)\.$/, 'reviews at /w: the details are there');
is(items_state(), $items0, 'psql: items unchanged by all of these');
is(q1('SELECT count(*) FROM writes.reviews WHERE id IN (21000, 21001)'), 0, 'psql: no review written');

# the RAISE of the trigger's function, read from pg_proc: its message, DETAIL and HINT
my ($stmt) = q1(q{SELECT prosrc FROM pg_proc WHERE proname = 'refuse_forbidden'}) =~ /(RAISE EXCEPTION '[^;]*forbidden[^;]*;)/s;
my ($raise) = ($stmt // '') =~ /RAISE EXCEPTION '([^']*)'/;
my ($rdetail) = ($stmt // '') =~ /DETAIL\s*=\s*'([^']*)'/;
my ($rhint) = ($stmt // '') =~ /HINT\s*=\s*'([^']*)'/;
my $guarded0 = table_state('guarded');
$r = w(POST => '/w/guarded', {id => 21000, note => 'forbidden'});
ok(check_error($r, 400, 'P0001'), 'a trigger that raises: 400 P0001');
message_is($r, $raise, "the message is the RAISE's: $raise");
is(join('|', map { $_ // 'null' } err($r)->{details}, err($r)->{hint}), join('|', map { $_ // 'null' } $rdetail, $rhint),
    "details and hint are the RAISE's DETAIL and HINT");
psql(q{INSERT INTO writes.guarded VALUES (21001, 'fine') ON CONFLICT DO NOTHING});
$guarded0 = table_state('guarded');
$r = w(PATCH => '/w/guarded?id=eq.21001', {note => 'forbidden'});
ok(check_error($r, 400, 'P0001'), 'PATCH that the trigger refuses: 400 P0001');
is(table_state('guarded'), $guarded0, 'psql: guarded unchanged');

my $frozen0 = table_state('frozen');
my $fid = q1('SELECT min(id) FROM writes.frozen');
ok(check_error(w(POST => '/w/frozen', {id => 21000, note => 'x'}), 403, '42501'), 'POST to writes.frozen (no INSERT privilege): 403 42501');
ok(check_error(w(PATCH => "/w/frozen?id=eq.$fid", {note => 'x'}), 403, '42501'), 'PATCH of writes.frozen: 403 42501');
ok(check_error(w(DELETE => "/w/frozen?id=eq.$fid"), 403, '42501'), 'DELETE from writes.frozen: 403 42501');
is(table_state('frozen'), $frozen0, 'psql: frozen unchanged');

# ------------------------------------------------------------------ generated columns
my $stock0 = table_state('stock');
my $ledger0 = table_state('ledger');
$r = w(POST => '/w/stock', {shop => 't201', item_id => 1, qty => 2, doubled => 4});
ok(check_error($r, 400, 'AR115'), 'POST stock with doubled (GENERATED ALWAYS AS ... STORED): 400 AR115');
message_is($r, qr/'doubled'/, '... naming doubled');
$r = w(PATCH => '/w/stock?shop=eq.north&item_id=eq.1', {doubled => 4});
ok(check_error($r, 400, 'AR115'), 'PATCH stock.doubled: 400 AR115');
$r = w(POST => '/w/stock?columns=shop,item_id,doubled', {shop => 't201', item_id => 1, doubled => 4});
ok(check_error($r, 400, 'AR115'), 'columns= naming doubled: 400 AR115');
$r = w(POST => '/w/ledger', {n => 1, amount => 5});
ok(check_error($r, 400, 'AR115'), 'POST ledger with n (GENERATED ALWAYS AS IDENTITY): 400 AR115');
message_is($r, qr/'n'/, '... naming n');
ok(table_state('stock') eq $stock0 && table_state('ledger') eq $ledger0, 'psql: stock and ledger unchanged');

# ------------------------------------------------------------------ malformed bodies
my @bad = (
    ['truncated', '[{"name":"t201-j1"},{"name":"t201-j2"'],
    ['trailing garbage', '{"name":"t201-j3"} x'],
    ['a duplicate key', '{"name":"t201-j4","name":"t201-j5"}'],
    ['an array of arrays', '[[1]]'],
    ['a string', '"x"'],
    ['an object then garbage in an array', '[{"name":"t201-j6"} {"name":"t201-j7"}]'],
    ['invalid UTF-8', qq{{"name":"t201-j8\xC3\x28"}}],
    ['a bad escape', '{"name":"t201-j9\q"}'],
    ['a lone surrogate', '{"name":"t201-j10\ud800"}'],
    ['a number with a leading zero', '{"name":"t201-j11","qty":01}'],
);
for my $b (@bad) {
    my ($what, $body) = @$b;
    $r = w(POST => '/w/items', $body);
    ok(check_error($r, 400, 'AR115') && (err($r)->{message} // '') =~ /\bbyte \d+/,
        "malformed JSON ($what): 400 AR115, the message gives a byte offset") or diag(body_of($r));
}
$r = w(POST => '/w/items', '');
ok(check_error($r, 400, 'AR115'), 'an empty body: 400 AR115');
$r = w(PATCH => '/w/items?id=eq.21009', '{"qty":');
ok(check_error($r, 400, 'AR115') && (err($r)->{message} // '') =~ /\bbyte \d+/, 'PATCH, truncated: 400 AR115 with a byte offset');
$r = w(PATCH => '/w/items?id=eq.21009', '[{"qty":3},{"qty":4}]');
ok(check_error($r, 400, 'AR115'), 'PATCH with two objects: 400 AR115');
is(q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't201-j%'}) . ' ' . items_state(), "0 $items0", 'psql: none of them wrote');

# one bad row among 2,500: nothing at all is written (the rows after 1,000 go by COPY)
my $before = items_state();
my @rows = map { {id => 21999 + $_, name => "t201-bulk$_", qty => $_ % 7} } 1 .. 2500;
$r = w(POST => '/w/items', [@rows[0 .. 2498], {id => 22000, name => 't201-bulk-dup', qty => 1}]);
ok(check_error($r, 409, '23505'), '2,500 rows, the last repeats the first\'s key: 409 23505');
is(items_state(), $before, 'psql: nothing was written');
my @mid = @rows;
$mid[1249] = {id => 23249, name => 't201-bulk-bad', qty => 'many'};
$r = w(POST => '/w/items', \@mid);
ok(check_error($r, 400, '22P02'), '2,500 rows, row 1,250 has qty "many": 400 22P02');
is(items_state(), $before, 'psql: nothing was written');
$mid[1249] = {id => 23249, name => 't201-bulk-bad', qty => 1};
$mid[2199] = {id => 24199, name => 't201-bulk-bad', qty => -1};
$r = w(POST => '/w/items', \@mid);
ok(check_error($r, 400, '23514'), '2,500 rows, row 2,200 breaks a check: 400 23514');
is(items_state(), $before, 'psql: nothing was written');
$mid[2199] = {id => 24199, name => 't201-bulk-bad', qty => 1, bogus => 1};
$r = w(POST => '/w/items', \@mid);
ok(check_error($r, 400, 'AR115') && (err($r)->{message} // '') =~ /\brow 2200\b/, '2,500 rows, row 2,200 has an unknown key: 400 AR115, row 2200');
is(items_state(), $before, 'psql: nothing was written');

# ------------------------------------------------------------------ Content-Type
for my $ct ('application/xml', 'text/plain', 'application/x-www-form-urlencoded') {
    $r = req(POST => '/w/items', 'Content-Type' => $ct, Content => '{"name":"t201-ct"}');
    push @collected, $r;
    ok(check_error($r, 415, 'AR117'), "Content-Type: $ct: 415 AR117");
}
$r = req(PATCH => '/w/items?id=eq.21009', 'Content-Type' => 'application/xml', Content => '{"qty":4}');
ok(check_error($r, 415, 'AR117'), 'PATCH with Content-Type: application/xml: 415 AR117');
is(items_state(), $before, 'psql: nothing was written');

# ------------------------------------------------------------------ PUT
my $PUTMSG = "Filters must include all and only primary key columns with 'eq' operators";
for my $q ('', 'name=eq.t201-21009', 'id=neq.21009', 'id=in.(21009)', 'id=eq.21009&name=eq.t201-21009',
           'id=eq.21009&id=eq.21009', 'or=(id.eq.21009)', 'id=not.eq.21009') {
    $r = w(PUT => '/w/items' . (length $q ? '?' . qenc($q) : ''), {id => 21009, name => 't201-put'});
    ok(check_error($r, 405, 'AR119') && (err($r)->{message} // '') eq $PUTMSG, "PUT /w/items?$q: 405 AR119, PostgREST's words")
        or diag(body_of($r));
}
$r = w(PUT => '/w/stock?shop=eq.north', {shop => 'north', item_id => 1, qty => 9});
ok(check_error($r, 405, 'AR119'), 'PUT with part of a composite key: 405 AR119');
$r = w(PUT => '/w/items?id=eq.21009', {id => 21008, name => 't201-put'});
ok(check_error($r, 400, 'AR115'), 'PUT whose body key differs from the URL: 400');
message_is($r, 'Payload values do not match URL in primary key column(s)', '... "Payload values do not match URL in primary key column(s)"');
$r = w(PUT => '/w/items?id=eq.21009', {name => 't201-put'});
is($r->code, 400, 'PUT whose body lacks the key: 400') or diag(body_of($r));
$r = w(PUT => '/w/items?id=eq.21009&limit=1', {id => 21009, name => 't201-put'});
is($r->code, 400, 'PUT with limit=: 400');
is(items_state(), $before, 'psql: no PUT wrote');

# ------------------------------------------------------------------ limit, offset
$r = w(PATCH => '/w/items?id=gte.21000&limit=1&order=id', {qty => 6});
ok(check_error($r, 400, 'AR101'), 'PATCH with limit=: 400');
$r = w(DELETE => '/w/items?id=gte.21000&offset=1&order=id');
ok(check_error($r, 400, 'AR101'), 'DELETE with offset=: 400');
is(items_state(), $before, 'psql: nothing changed');

# ------------------------------------------------------------------ 413
# A body longer than LimitRequestBody: 413 AR116 in JSON, nothing written. A
# Content-Length past the limit is refused before a byte of the body is read; a chunked
# body is stopped by httpd's input filter once past it, and that filter sends httpd's
# own 413 page before the module hears of it (mod_autorest_write.c says so): JSON
# there is TODO.
SKIP: {
    # httpd's default LimitRequestBody is 1 GiB since 2.4.54: a Content-Length past it
    # needs no configuration (and no body: the answer comes before one is read)
    skip 'httpd before 2.4.54 has no default LimitRequestBody', 4 unless have_min_apache_version('2.4.54');
    my $raw = raw_request("POST /w/items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        . "Content-Length: 1073741825\r\nConnection: close\r\n\r\n" . '[{"name":"t201-huge"},');
    my ($status, $headers, $resp) = $raw =~ m{^HTTP/1\.\d (\d+)[^\r\n]*\r\n(.*?)\r\n\r\n(.*)\z}s;
    is($status // 'none', 413, 'Content-Length: 1073741825 (past the default LimitRequestBody): 413');
    like($headers // '', qr{^Content-Type:\s*application/json;\s*charset=utf-8\s*$}mi, '... in JSON, as every error of the API')
        or diag(substr($raw, 0, 400));
    my $j = json_text($resp // '', '413');
    is(ref $j eq 'HASH' ? $j->{code} : 'none', 'AR116', '... code AR116');
    is(q1(q{SELECT count(*) FROM writes.items WHERE name = 't201-huge'}), 0, 'psql: nothing written');
}
SKIP: {
    my $probe = req(GET => '/w_small/items?limit=0');
    skip 'needs <Location /w_small> (AutoRestSchemas writes, POST open, LimitRequestBody 2000) in t/conf/extra.conf.in', 6
        unless $probe->code == 200 && ct_ok($probe);
    my $body = $JSON->encode([map { {name => sprintf('t201-big%04d', $_)} } 1 .. 200]);    # 5 kB
    $r = w(POST => '/w_small/items', $body);
    ok(check_error($r, 413, 'AR116'), '/w_small (LimitRequestBody 2000), a 5 kB body with Content-Length: 413 AR116');
    is(q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't201-big%'}), 0, 'psql: nothing written');
    my $raw = raw_chunked('/w_small/items', $body, 100);
    my ($status, $headers, $resp) = $raw =~ m{^HTTP/1\.\d (\d+)[^\r\n]*\r\n(.*?)\r\n\r\n(.*)\z}s;
    is($status // 'none', 413, 'the same body chunked: 413');
    is(q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't201-big%'}), 0, 'psql: nothing written');
    TODO: {
        local $TODO = "httpd's chunked input filter answers a body past LimitRequestBody with its own HTML page";
        like($headers // '', qr{^Content-Type:\s*application/json}mi, '... in JSON');
        my $j = ($headers // '') =~ m{application/json}i ? json_text($resp // '', '413') : undef;
        is(ref $j eq 'HASH' ? $j->{code} : 'none', 'AR116', '... code AR116');
    }
}
$r = w(POST => '/w_small/items', $JSON->encode([map { {name => sprintf('t201-small%d', $_)} } 1 .. 3]));
is($r->code . ' ' . q1(q{SELECT count(*) FROM writes.items WHERE name LIKE 't201-small%'}), '201 3', '/w_small, a body under the limit: 201, written');

# raw_chunked(PATH, BODY, PIECE): POST BODY chunked in PIECE-byte chunks; the raw response.
sub raw_chunked {
    my ($path, $body, $piece) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (my $i = 0; $i < length $body; $i += $piece) {
        my $c = substr($body, $i, $piece);
        $req .= sprintf('%x', length $c) . "\r\n$c\r\n";
    }
    return raw_request($req . "0\r\n\r\n");
}
# raw_request(BYTES): BYTES sent as they are, the write side then closed; all that comes back.
sub raw_request {
    my $bytes = shift;
    my $s = IO::Socket::INET->new(PeerAddr => Apache::TestRequest::hostport(), Timeout => 30) or die "connect: $!";
    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, $bytes);
    shutdown($s, 1);
    my $resp = '';
    while (sysread($s, my $buf, 65536)) { $resp .= $buf }
    close $s;
    return $resp;
}

# ------------------------------------------------------------------ afterwards
my $get = req(GET => '/w/items?' . qenc('id=gte.21000&order=id'));
ok(matches_sql($get, "SELECT json_agg(x ORDER BY id) FROM (SELECT $VIS FROM writes.items WHERE id >= 21000) x"),
    'after all these errors GET /w/items?id=gte.21000 answers, as psql reads');
ok(matches_sql(req(GET => '/w/items?order=id'), "SELECT json_agg(x ORDER BY id) FROM (SELECT $VIS FROM writes.items) x"),
    'and GET /w/items, every row');
is(q1(q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_web' AND state LIKE 'idle in transaction%'}), 0,
    'psql: no connection of autorest_web is idle in a transaction');

my @leaky = grep { $_->code >= 400 && leaks(body_of($_)) } @collected;
ok(!@leaky, 'no error body leaks SQL, host or paths')
    or diag(join "\n", map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);

# this file's rows go: later files and the postgrest-js client count items by secret
psql(q{DELETE FROM writes.reviews WHERE item_id BETWEEN 21000 AND 24999;
       DELETE FROM writes.items WHERE id BETWEEN 21000 AND 24999 OR name LIKE 't201-%'});
