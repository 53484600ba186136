# 300_calls.t: functions under /rpc/ (schema calls, t/fixtures/95_calls.sql) as PostgREST 12
# answers calls that succeed, in every shape a result has. The index's "functions": at /r
# every function the role may EXECUTE but the excluded one (procedures too, VOLATILE ones
# POST only), at /r_read no VOLATILE function and no procedure, at /r_off none. GET:
# scalars as bare JSON (a default left out, null, a numeric of 22 digits, text[],
# timestamptz, a VARIADIC parameter repeated, an array literal, a repeated parameter whose
# last value wins) with Content-Range 0-0/* (0-0/1 with count=exact); composites as one
# object (a table's row type, with select= and an embed, and a row of nulls when it
# finds none; a composite type; record; OUT parameters; one OUT parameter); SETOF a table
# with select=, an embed, filters, order, limit/offset, Range, Prefer: count=exact (206,
# a-b/N), Accept: text/csv and vnd.pgrst.object+json, HEAD (GET's headers, no body);
# SETOF int; TABLE (...). POST: named arguments, an array (its first object), the whole
# body to a function of one json argument (an object, a bare number, an array),
# params=single-object, text/plain, application/octet-stream (NUL bytes), text/csv, an
# empty body, filters and a page in the query string (a Range header ignored, as for any
# method but GET), Content-Profile; overloads chosen by argument names. VOLATILE
# functions and procedures by POST: a changed row, void (204, */*), a procedure (204) and
# an INOUT one; a VOLATILE set runs once per call whatever the count and the page. What
# a function sees of the request: request.method, .path, .headers (lower-case, no
# Authorization), .cookies, a READ ONLY transaction for GET and for POST of a STABLE
# function, the Location's statement timeout. OPTIONS.
# Every expected value is PostgreSQL's, read by psql; calls.log lines are told apart by a
# tag unique to the run, and the qty bump changes is put back.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

plan tests => 118;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $OBJ = 'application/vnd.pgrst.object+json';
my $ITEM = 'id, name, qty, owner_id';    # calls.items' columns but the hidden secret
my $RUN = sprintf 't300-%d-%d', $$, time;    # a tag no earlier run used, for calls.log

sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub cr { hdr(shift, 'Content-Range') }
sub q1 { psql(shift) }
# post(PATH, BODY, HEADERS...): a POST with a JSON body (a Perl structure, or bytes as they are).
sub post {
    my ($path, $body, @h) = @_;
    return req(POST => $path, 'Content-Type' => 'application/json', @h,
        Content => ref $body ? $JSON->encode($body) : $body);
}
# is_sql(RES, SQL, NAME): a 200 whose JSON body is exactly SQL's one json value.
sub is_sql { my ($res, $sql, $name) = @_; ok(matches_sql($res, $sql), $name) }
# body_is(RES, SQL, NAME): the JSON body is exactly SQL's one json value, whatever the status.
sub body_is {
    my ($res, $sql, $name) = @_;
    my $d = diff_json(tag_text(body_of($res), $name), psql_json($sql));
    diag("$name: $_") for @$d[0 .. ($#$d > 9 ? 9 : $#$d)];
    ok(!@$d, $name);
}
# value(EXPR): PostgreSQL's to_json of one value, as a scalar result should read.
sub value { "SELECT to_json($_[0])" }
# object(FROM): one row of FROM as an object.
sub object { "SELECT row_to_json(obj) FROM (SELECT * FROM $_[0]) obj" }
# rows(CALL, COLS, REST): what a call of a SETOF calls.items function gives in psql, in the
# function's own order unless REST (WHERE / ORDER BY / LIMIT) says otherwise.
sub rows {
    my ($call, $cols, $rest) = @_;
    $cols //= $ITEM;
    $rest //= 'ORDER BY f.ord';
    return "SELECT coalesce(json_agg(row_to_json(x)), '[]') FROM (SELECT $cols FROM $call "
         . "WITH ORDINALITY AS f($ITEM, secret, ord) $rest) x";
}
sub count_of { q1("SELECT count(*) FROM $_[0]") }
sub logged { q1("SELECT count(*) FROM calls.log WHERE note = '$_[0]'") }
# the header fields a response's body is described by, for HEAD against GET
sub described {
    my $res = shift;
    return join ' | ', $res->code, map { "$_: " . hdr($res, $_) }
        qw(Content-Type Content-Length Content-Range Range-Unit Preference-Applied);
}

psql(q{DELETE FROM calls.log WHERE note LIKE 't300-%'});

# ------------------------------------------------------------------ the index
# functions_sql(BASE, WHERE): the index entries PostgreSQL's catalog gives for schema calls:
# each function autorest_web may EXECUTE, its input arguments in order (required when it
# has no default; variadic only when it is), its return type, volatility, methods.
sub functions_sql {
    my ($base, $where) = @_;
    return qq{SELECT coalesce(json_agg(json_build_object(
        'name', p.proname, 'schema', n.nspname, 'url', '$base/rpc/' || p.proname,
        'arguments', coalesce((
            SELECT json_agg(CASE WHEN a.mode = 'v'
                THEN json_build_object('name', a.name, 'type', format_type(a.type, NULL),
                     'required', a.pos <= p.pronargs - p.pronargdefaults, 'variadic', true)
                ELSE json_build_object('name', a.name, 'type', format_type(a.type, NULL),
                     'required', a.pos <= p.pronargs - p.pronargdefaults) END ORDER BY a.pos)
            FROM (SELECT coalesce(u.name, '') AS name, u.type, u.mode, row_number() OVER (ORDER BY u.o) AS pos
                  FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                              coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])),
                              coalesce(p.proargnames, array_fill(NULL::text, ARRAY[p.pronargs])))
                       WITH ORDINALITY AS u(type, mode, name, o)
                  WHERE u.mode IN ('i', 'b', 'v')) a), '[]'),
        'returns', CASE WHEN p.proretset THEN 'setof ' ELSE '' END
            || CASE WHEN p.proargmodes && '{o,b,t}'::"char"[]
                    THEN '(' || (SELECT string_agg(u.name || ' ' || format_type(u.type, NULL), ', ' ORDER BY u.o)
                                 FROM unnest(p.proallargtypes, p.proargmodes, p.proargnames)
                                      WITH ORDINALITY AS u(type, mode, name, o)
                                 WHERE u.mode IN ('o', 'b', 't')) || ')'
                    ELSE format_type(p.prorettype, NULL) END,
        'volatility', CASE WHEN p.prokind = 'p' THEN 'procedure' WHEN p.provolatile = 'i' THEN 'immutable'
                           WHEN p.provolatile = 's' THEN 'stable' ELSE 'volatile' END,
        'methods', CASE WHEN p.prokind = 'p' OR p.provolatile = 'v' THEN '["POST"]'::json
                        ELSE '["GET", "HEAD", "POST"]'::json END)), '[]')
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'calls' AND has_function_privilege('autorest_web', p.oid, 'EXECUTE') AND $where};
}
# same_set(GOT, EXPECTED, NAME): two arrays hold the same elements, whatever their order.
sub same_set {
    my ($got, $exp, $name) = @_;
    my @g = sort map { $JSON->encode($_) } @{ ref $got eq 'ARRAY' ? $got : [] };
    my @e = sort map { $JSON->encode($_) } @{ ref $exp eq 'ARRAY' ? $exp : [] };
    my %g = map { $_ => 1 } @g;
    my %e = map { $_ => 1 } @e;
    my @diff = ((map { "missing: $_" } grep { !$g{$_} } @e), (map { "unexpected: $_" } grep { !$e{$_} } @g));
    push @diff, 'got ' . scalar(@g) . ' entries, expected ' . scalar(@e) if !@diff && @g != @e;
    diag("$name: $_") for @diff[0 .. ($#diff > 9 ? 9 : $#diff)];
    ok(ref $got eq 'ARRAY' && !@diff, $name);
}
my $index = decode_body(req(GET => '/r/'));
my $fns = ref $index eq 'HASH' ? $index->{functions} : undef;
same_set($fns, json_text(q1(functions_sql('/r', q{p.proname <> 'excluded'})), 'psql'),
    'GET /r/: "functions" is every function of calls autorest_web may execute but calls.excluded, as the catalog describes it');
ok(ref $fns eq 'ARRAY' && !grep({ ref $_ eq 'HASH' && ($_->{name} // '') =~ /^(excluded|forbidden)$/ } @$fns),
    '... calls.excluded (AutoRestExclude) and calls.forbidden (no EXECUTE) are not there');
$index = decode_body(req(GET => '/r_read/'));
same_set(ref $index eq 'HASH' ? $index->{functions} : undef,
    json_text(q1(functions_sql('/r_read', q{p.prokind = 'f' AND p.provolatile <> 'v'})), 'psql'),
    'GET /r_read/ (AutoRestRPC read): no VOLATILE function and no procedure; calls.excluded is (not excluded there)');
$index = decode_body(req(GET => '/r_off/'));
ok(ref $index eq 'HASH' && !@{ $index->{functions} // [] }, 'GET /r_off/ (AutoRestRPC off): no functions');

# ------------------------------------------------------------------ scalars
my $r = req(GET => '/r/rpc/add_them?a=1&b=2');
is_sql($r, value('calls.add_them(1, 2)'), 'GET add_them?a=1&b=2: the bare number');
ok(ct_ok($r), '... application/json; charset=utf-8');
is(cr($r), '0-0/*', '... Content-Range 0-0/*');
$r = req(GET => '/r/rpc/add_them?a=3&b=4', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '200 0-0/1', 'a scalar with Prefer: count=exact: 200, Content-Range 0-0/1 (PostgREST: a single result counts 1)');
is_sql(req(GET => '/r/rpc/hello'), value('calls.hello()'), 'GET hello: the argument with a default left out');
is_sql(req(GET => '/r/rpc/hello?name=t300'), value(q{calls.hello('t300')}), 'GET hello?name=t300');
is_sql(req(GET => '/r/rpc/hello?name=' . enc('Zoë & "co", 50%')), value(q{calls.hello('Zoë & "co", 50%')}),
    'an argument with spaces, quotes, &, % and UTF-8, percent-encoded');
is_sql(req(GET => '/r/rpc/hello?name=ignored&name=t300'), value(q{calls.hello('t300')}),
    'a repeated parameter (not VARIADIC): the last value');
$r = req(GET => '/r/rpc/nothing?x=1');
is($r->code . ' ' . body_of($r), '200 ' . q1(q{SELECT coalesce(to_json(calls.nothing(1))::text, 'null')}), 'GET nothing?x=1: null');
$r = req(GET => '/r/rpc/big');
is($r->code . ' ' . body_of($r), '200 ' . q1('SELECT calls.big()'), 'GET big: the numeric with every digit, trailing zero too, unquoted');
is_sql(req(GET => '/r/rpc/tags'), value('calls.tags()'), 'GET tags: text[] as a JSON array (a comma, a NULL)');
is_sql(req(GET => '/r/rpc/stamp'), value('calls.stamp()'), 'GET stamp: timestamptz as to_json writes it');
is_sql(req(GET => '/r/rpc/joined?parts=a&parts=b%2Cc&parts=d'), value(q{calls.joined('a', 'b,c', 'd')}),
    'GET joined?parts=a&parts=b,c&parts=d: a VARIADIC argument collects the repeated parameter, in order');
is_sql(req(GET => '/r/rpc/joined?parts=only'), value(q{calls.joined('only')}), 'GET joined?parts=only: one value');
is_sql(req(GET => '/r/rpc/sum_of?' . qenc('nums={1,2,3}')), value(q{calls.sum_of('{1,2,3}')}),
    'GET sum_of?nums={1,2,3}: an array argument as an array literal');
$r = req(GET => '/r/rpc/echo_doc?' . qenc('a=1&b=x y'), Prefer => 'params=single-object');
is_sql($r, value(q{calls.echo_doc('{"a": "1", "b": "x y"}')}),
    'GET echo_doc with Prefer: params=single-object: the parameters as an object of strings');
like(hdr($r, 'Preference-Applied'), qr/\bparams=single-object\b/, '... Preference-Applied: params=single-object');
is_sql(req(GET => '/r/rpc/add_them?a=1&b=2', Accept => $OBJ), value('calls.add_them(1, 2)'),
    "a scalar with Accept: $OBJ: the value");

# ------------------------------------------------------------------ composites: one object
my $id1 = q1('SELECT min(id) FROM calls.items WHERE owner_id IS NOT NULL');
$r = req(GET => "/r/rpc/one_item?item_id=$id1");
is_sql($r, "SELECT row_to_json(x) FROM (SELECT $ITEM FROM calls.one_item($id1)) x",
    "GET one_item?item_id=$id1: the row as an object, without the hidden column");
is(cr($r), '0-0/*', '... Content-Range 0-0/*');
is_sql(req(GET => "/r/rpc/one_item?item_id=$id1&select=*"),
    "SELECT row_to_json(x) FROM (SELECT $ITEM FROM calls.one_item($id1)) x", 'select=*: the same');
is_sql(req(GET => "/r/rpc/one_item?item_id=$id1&" . qenc('select=name,owners(name)')),
    "SELECT json_build_object('name', f.name, 'owners', (SELECT row_to_json(o) FROM (SELECT name FROM calls.owners WHERE id = f.owner_id) o))
     FROM calls.one_item($id1) f", 'select=name,owners(name): an embed through the row type\'s foreign key');
is_sql(req(GET => "/r/rpc/one_item?item_id=$id1", Accept => $OBJ),
    "SELECT row_to_json(x) FROM (SELECT $ITEM FROM calls.one_item($id1)) x", "Accept: $OBJ: the object");
my $noid = q1('SELECT max(id) + 1000 FROM calls.items');
is_sql(req(GET => "/r/rpc/one_item?item_id=$noid"), "SELECT row_to_json(x) FROM (SELECT $ITEM FROM calls.one_item($noid)) x",
    'one_item of an id that does not exist: what PostgreSQL gives (a row of nulls)');
is_sql(req(GET => '/r/rpc/point'), object('calls.point()'), 'GET point: a composite type as an object');
is_sql(req(GET => '/r/rpc/a_record'), value('calls.a_record()'), 'GET a_record: record as an object');
is_sql(req(GET => '/r/rpc/out_params?num=5'), object('calls.out_params(5)'), 'GET out_params?num=5: the OUT parameters as an object');
is_sql(req(GET => '/r/rpc/single_out?num=5'), object('calls.single_out(5)'), 'GET single_out?num=5: one OUT parameter is an object too');
$r = req(GET => '/r/rpc/point', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '200 0-0/1', 'a composite with Prefer: count=exact: 200, 0-0/1');

# ------------------------------------------------------------------ SETOF a table
my $n0 = count_of('calls.items_over(0)');
my $n1 = count_of('calls.items_over(1)');
ok($n1 > 1 && $n1 < count_of('calls.items'), "psql: items_over(1) gives some items ($n1), not all");
$r = req(GET => '/r/rpc/items_over?' . qenc('min_qty=1&select=id,name'));
is_sql($r, rows('calls.items_over(1)', 'id, name'), 'GET items_over?min_qty=1&select=id,name: the rows, in the function\'s order');
like(cr($r), qr{^0-@{[$n1 - 1]}/(\*|$n1)$}, "... Content-Range 0-" . ($n1 - 1) . '/...');
is_sql(req(GET => '/r/rpc/items_over?min_qty=1'), rows('calls.items_over(1)'), 'without select=: every visible column, never secret');
is_sql(req(GET => '/r/rpc/items_over?' . qenc('min_qty=0&select=id,owners(name)&order=id.desc')),
    "SELECT json_agg(json_build_object('id', f.id, 'owners', (SELECT row_to_json(o) FROM (SELECT name FROM calls.owners WHERE id = f.owner_id) o))
     ORDER BY f.id DESC) FROM calls.items_over(0) f", 'select=id,owners(name)&order=id.desc: an embed (null where no owner), in that order');
is_sql(req(GET => '/r/rpc/items_over?' . qenc('min_qty=0&qty=gt.3')), rows('calls.items_over(0)', $ITEM, 'WHERE qty > 3 ORDER BY f.ord'),
    'min_qty=0&qty=gt.3: a value that reads as a filter filters the result');
is_sql(req(GET => '/r/rpc/items_over?' . qenc('min_qty=0&owner_id=not.is.null&or=(qty.lt.2,qty.gt.6)&select=id,qty&order=qty.desc')),
    rows('calls.items_over(0)', 'id, qty', 'WHERE owner_id IS NOT NULL AND (qty < 2 OR qty > 6) ORDER BY qty DESC, f.ord'),
    'not.is.null, or=(...), order=qty.desc');
ok($n0 >= 3, "psql: items_over(0) gives $n0 rows, enough for a page in the middle");
$r = req(GET => '/r/rpc/items_over?' . qenc('min_qty=0&select=id&order=id&limit=2&offset=1'), Prefer => 'count=exact');
body_is($r, rows('calls.items_over(0)', 'id', 'ORDER BY id LIMIT 2 OFFSET 1'), 'limit=2&offset=1 with count=exact: that page');
my $last = $n0 - 1 < 2 ? $n0 - 1 : 2;
is($r->code . ' ' . cr($r), ($last + 1 < $n0 ? 206 : 200) . " 1-$last/$n0", "... " . ($last + 1 < $n0 ? 206 : 200) . ", Content-Range 1-$last/$n0");
like(hdr($r, 'Preference-Applied'), qr/\bcount=exact\b/, '... Preference-Applied: count=exact');
$r = req(GET => '/r/rpc/items_over?' . qenc('min_qty=0&select=id&order=id'), Range => '1-2', Prefer => 'count=exact');
body_is($r, rows('calls.items_over(0)', 'id', 'ORDER BY id LIMIT 2 OFFSET 1'), 'Range: 1-2 with count=exact: the same page');
is($r->code . ' ' . cr($r), ($last + 1 < $n0 ? 206 : 200) . " 1-$last/$n0", "... the same status and Content-Range");
$r = req(GET => '/r/rpc/items_over?min_qty=0&select=id', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '200 0-' . ($n0 - 1) . "/$n0", "every row with count=exact: 200, 0-" . ($n0 - 1) . "/$n0");
my $nomatch = q1('SELECT max(qty) FROM calls.items');
$r = req(GET => "/r/rpc/items_over?min_qty=$nomatch", Prefer => 'count=exact');
is($r->code . ' ' . (body_of($r) =~ s/\s//gr) . ' ' . cr($r), '200 [] */0', "min_qty=$nomatch (no row): 200, [], */0");

$r = req(GET => '/r/rpc/items_over?' . qenc('min_qty=1&select=id,name'), Accept => 'text/csv');
like(hdr($r, 'Content-Type'), qr{^text/csv;\s*charset=utf-8$}i, 'Accept: text/csv: text/csv; charset=utf-8');
(my $copy = q1('COPY (SELECT id, name FROM calls.items_over(1) WITH ORDINALITY AS f ORDER BY ordinality) TO STDOUT WITH (FORMAT csv, HEADER)'))
    =~ s/\n/\r\n/g;
is(body_of($r), "$copy\r\n", '... the rows as COPY ... CSV HEADER writes them (CRLF)');
my $top = q1('SELECT id FROM calls.items_over(0) ORDER BY qty DESC, id LIMIT 1');
$r = req(GET => '/r/rpc/items_over?' . qenc("min_qty=0&id=eq.$top&select=id,name"), Accept => $OBJ);
like(hdr($r, 'Content-Type'), qr{^application/vnd\.pgrst\.object\+json;\s*charset=utf-8$}i, "Accept: $OBJ, one row: that Content-Type");
is_sql($r, "SELECT row_to_json(x) FROM (SELECT id, name FROM calls.items_over(0) WHERE id = $top) x", '... and the row as an object');

for my $q ('min_qty=1&select=id,name', 'min_qty=0&select=id&limit=1&offset=1') {
    my $get = req(GET => '/r/rpc/items_over?' . qenc($q), Prefer => 'count=exact');
    my $head = req(HEAD => '/r/rpc/items_over?' . qenc($q), Prefer => 'count=exact');
    is(described($head), described($get), "HEAD items_over?$q: GET's status and headers");
    is(length(body_of($head)), 0, '... and no body');
}
$r = req(HEAD => '/r/rpc/add_them?a=1&b=2');
is(described($r), described(req(GET => '/r/rpc/add_them?a=1&b=2')), 'HEAD of a scalar: GET\'s status and headers');

# ------------------------------------------------------------------ SETOF a scalar, TABLE (...)
is_sql(req(GET => '/r/rpc/numbers?n=3'), 'SELECT json_agg(x ORDER BY o) FROM calls.numbers(3) WITH ORDINALITY AS t(x, o)',
    'GET numbers?n=3: SETOF int as an array of numbers');
is_sql(req(GET => '/r/rpc/numbers?n=5&limit=2&offset=1'),
    'SELECT json_agg(x ORDER BY o) FROM (SELECT x, o FROM calls.numbers(5) WITH ORDINALITY AS t(x, o) ORDER BY o LIMIT 2 OFFSET 1) s',
    'numbers?n=5&limit=2&offset=1: a page of them');
is_sql(req(GET => '/r/rpc/numbers?n=0'), q{SELECT coalesce(json_agg(x), '[]') FROM calls.numbers(0) x}, 'numbers?n=0: []');
is_sql(req(GET => '/r/rpc/squares?n=3'), 'SELECT json_agg(row_to_json(s)) FROM (SELECT i, sq FROM calls.squares(3) WITH ORDINALITY AS t(i, sq, o) ORDER BY o) s',
    'GET squares?n=3: TABLE (i, sq) as objects');
is_sql(req(GET => '/r/rpc/squares?' . qenc('n=4&sq=gt.4&order=i.desc')),
    'SELECT json_agg(s ORDER BY s.i DESC) FROM calls.squares(4) s WHERE s.sq > 4', 'squares?n=4&sq=gt.4&order=i.desc: filtered and ordered by its columns');

# ------------------------------------------------------------------ POST
$r = post('/r/rpc/add_them', {a => 1, b => 2});
is_sql($r, value('calls.add_them(1, 2)'), 'POST add_them {"a":1,"b":2}');
is(cr($r), '0-0/*', '... Content-Range 0-0/*');
is_sql(post('/r/rpc/add_them', [{a => 1, b => 2}, {a => 4, b => 6}]), value('calls.add_them(1, 2)'),
    'an array of objects with the same keys: the first one is the call');
is_sql(post('/r/rpc/hello', ''), value('calls.hello()'), 'an empty body is {}: hello() with its default');
is_sql(post('/r/rpc/hello', {name => "t300 \x{e9}"}), value(qq{calls.hello('t300 \xc3\xa9')}), 'POST hello {"name":...}: UTF-8 arrives');
is_sql(post('/r/rpc/joined', {parts => ['x', undef, 'y']}), value(q{calls.joined(VARIADIC ARRAY['x', NULL, 'y'])}),
    'POST joined {"parts":["x",null,"y"]}: a JSON array fills the VARIADIC argument, null included');
is_sql(post('/r/rpc/sum_of', {nums => [4, 5, 6]}), value(q{calls.sum_of('{4,5,6}')}), 'POST sum_of {"nums":[4,5,6]}: a JSON array into int[]');
my $doc = '{"k": [1, "x", null, {"n": 1.50}], "u": "\u00e9"}';
is_sql(post('/r/rpc/echo', $doc), "SELECT calls.echo('$doc')", 'POST echo (one unnamed json argument): the whole body is the argument');
is_sql(post('/r/rpc/echo', '5'), q{SELECT calls.echo('5')}, 'a bare number as the body: echo gets it');
is_sql(post('/r/rpc/echo', '[1, "two"]'), q{SELECT calls.echo('[1, "two"]')}, 'an array as the body: echo gets it whole');
$r = post('/r/rpc/echo_doc', '{"a": 1, "b": [true, null]}', Prefer => 'params=single-object');
is_sql($r, value(q{calls.echo_doc('{"a": 1, "b": [true, null]}')}), 'POST echo_doc with Prefer: params=single-object: the body is doc');
is(hdr($r, 'Preference-Applied'), 'params=single-object', '... Preference-Applied: params=single-object');
is_sql(post('/r/rpc/echo_doc', {doc => {a => 1}}), value(q{calls.echo_doc('{"a": 1}')}), 'POST echo_doc {"doc":{...}}: by name');
is_sql(req(POST => '/r/rpc/text_len', 'Content-Type' => 'text/plain', Content => "h\xc3\xa9llo\nw"),
    value(qq{calls.text_len('h\xc3\xa9llo\nw')}), 'text/plain to text_len (one unnamed text argument): the body, in characters');
is_sql(req(POST => '/r/rpc/byte_len', 'Content-Type' => 'application/octet-stream', Content => "\x00\x01\x02\xff\x00"),
    value(q{calls.byte_len('\x000102ff00'::bytea)}), 'application/octet-stream to byte_len: every byte, NULs too');
is_sql(req(POST => '/r/rpc/add_them', 'Content-Type' => 'text/csv', Content => "a,b\n3,4\n"), value('calls.add_them(3, 4)'),
    'text/csv "a,b\n3,4": the header names the arguments, the first row gives them');
is_sql(post('/r/rpc/items_over?' . qenc('qty=lt.6&order=qty.desc&select=id,qty&limit=2'), {min_qty => 0}),
    rows('calls.items_over(0)', 'id, qty', 'WHERE qty < 6 ORDER BY qty DESC, f.ord LIMIT 2'),
    'POST items_over {"min_qty":0} with a filter, order, select and limit in the query string');
$r = post('/r/rpc/items_over?' . qenc('select=id&order=id'), {min_qty => 0}, Range => '1-1', Prefer => 'count=exact');
body_is($r, rows('calls.items_over(0)', 'id', 'ORDER BY id'), 'POST with a Range header: ignored (range handling is GET\'s): every row');
is($r->code . ' ' . cr($r), '200 0-' . ($n0 - 1) . "/$n0", '... 200, Content-Range 0-' . ($n0 - 1) . "/$n0");
$r = post('/r/rpc/hello', {}, 'Content-Profile' => 'calls');
is_sql($r, value('calls.hello()'), 'Content-Profile: calls: 200');
is(hdr($r, 'Content-Profile'), 'calls', '... Content-Profile: calls in the answer');
is_sql(req(POST => '/r/rpc/joined', 'Content-Type' => 'application/x-www-form-urlencoded',
           Content => 'parts=%7Ba%2Cb+c%7D'),
    value(q{calls.joined(VARIADIC '{a,"b c"}'::text[])}), 'a form body: its fields are the arguments, as strings');
is_sql(req(POST => '/r/rpc/add_them', 'Content-Type' => 'application/x-www-form-urlencoded', Content => 'a=40&b=2'),
    value('calls.add_them(40, 2)'), '... a=40&b=2 to add_them');
$r = post('/r/rpc/items_over?' . qenc('select=id&limit=1'), {min_qty => 0});
is(hdr($r, 'Link'), 'none', 'a POST call\'s page has no Link (a GET could not repeat it: its arguments are in the body)');
ok(hdr(req(GET => '/r/rpc/items_over?min_qty=0&select=id&limit=1'), 'Link') =~ /rel="next"/,
   '... a GET call\'s page has');
is_sql(req(GET => '/r_read/rpc/hello?name=r'), value(q{calls.hello('r')}), 'GET /r_read/rpc/hello (a STABLE function at AutoRestRPC read)');
is_sql(post('/r_read/rpc/add_them', {a => 2, b => 5}), value('calls.add_them(2, 5)'), 'POST /r_read/rpc/add_them');

# overloads, by the names given
is_sql(req(GET => '/r/rpc/over?a=1'), value('calls.over(a => 1)'), 'over?a=1: over(a)');
is_sql(req(GET => '/r/rpc/over?a=1&b=2'), value('calls.over(a => 1, b => 2)'), 'over?a=1&b=2: over(a, b)');
is_sql(req(GET => '/r/rpc/over?x=q'), value(q{calls.over(x => 'q')}), 'over?x=q: over(x)');
is_sql(post('/r/rpc/over', {a => 1, b => 2}), value('calls.over(a => 1, b => 2)'), 'POST over {"a":1,"b":2}: over(a, b)');
is_sql(post('/r/rpc/over', {x => 'q'}), value(q{calls.over(x => 'q')}), 'POST over {"x":"q"}: over(x)');

# ------------------------------------------------------------------ VOLATILE functions, void, procedures
my $bid = q1('SELECT min(id) FROM calls.items');
my $qty0 = q1("SELECT qty FROM calls.items WHERE id = $bid");
$r = post('/r/rpc/bump', {item_id => $bid});
my $qty1 = q1("SELECT qty FROM calls.items WHERE id = $bid");
is($r->code . ' ' . body_of($r), "200 $qty1", "POST bump {\"item_id\":$bid}: 200, the qty psql now reads");
is($qty1, $qty0 + 1, 'psql: the VOLATILE function wrote (qty up by one)');
psql("UPDATE calls.items SET qty = $qty0 WHERE id = $bid");

$r = post('/r/rpc/note', {what => "$RUN-note"});
is($r->code . ' ' . cr($r), '204 */*', 'POST note (void): 204, Content-Range */*');
ok(length(body_of($r)) == 0 && !defined $r->header('Content-Type'), '... no body, no Content-Type')
    or diag(hdr($r, 'Content-Type') . ' ' . body_of($r));
is(logged("$RUN-note"), 1, 'psql: calls.log has the line');
$r = post('/r/rpc/log_note', {what => "$RUN-proc"});
is($r->code . ' ' . cr($r) . ' ' . length(body_of($r)), '204 */* 0', 'POST log_note (a procedure): 204, */*, no body');
is(logged("$RUN-proc"), 1, 'psql: the procedure wrote its line');
$r = post('/r/rpc/double_it', {x => 21});
{
    my $d = diff_json(tag_text(body_of($r), 'double_it'), tag_json({x => 0 + q1('CALL calls.double_it(21)')}));
    ok($r->code == 200 && !@$d, 'POST double_it {"x":21} (INOUT): {"x": what CALL gives}') or diag(join "\n", $r->code, body_of($r), @$d);
}

# a VOLATILE set runs once, whatever the count and the page
# the reference: the same call in psql, its log line then removed
my $ln_sql = sub { my ($n, $rest) = @_;
    my $v = q1("SELECT coalesce(json_agg(x ORDER BY o), '[]') FROM (SELECT x, o FROM calls.logged_numbers($n, '$RUN-ref')
        WITH ORDINALITY AS t(x, o) ORDER BY o $rest) s");
    psql("DELETE FROM calls.log WHERE note = '$RUN-ref'");
    return $v };
$r = post('/r/rpc/logged_numbers?limit=2&offset=1', {n => 5, tag => "$RUN-page"}, Prefer => 'count=exact');
{
    my $d = diff_json(tag_text(body_of($r), 'logged_numbers'), tag_text($ln_sql->(5, 'LIMIT 2 OFFSET 1'), 'psql'));
    ok(!@$d, 'POST logged_numbers?limit=2&offset=1 with count=exact: that page') or diag(join "\n", body_of($r), @$d);
}
is($r->code . ' ' . cr($r), '206 1-2/5', '... 206, Content-Range 1-2/5');
is(logged("$RUN-page"), 1, 'psql: the function ran once (one log line) for the count and the page');
$r = post('/r/rpc/logged_numbers', {n => 3, tag => "$RUN-all"}, Prefer => 'count=exact');
is($r->code . ' ' . cr($r) . ' ' . logged("$RUN-all"), '200 0-2/3 1', 'every row with count=exact: 200, 0-2/3, one log line');

# ------------------------------------------------------------------ what the function sees
$r = req(GET => '/r/rpc/request_info', 'X-Test-Header' => 'Yes', Cookie => 'c1=one; c2=two',
    Authorization => 'Bearer t300-not-a-secret');
my $info = json_text(body_of($r), 'request_info');
$info = {} unless ref $info eq 'HASH';
my $heads = ref $info->{headers} eq 'HASH' ? $info->{headers} : {};
is($r->code . ' ' . ($info->{method} // 'none') . ' ' . ($info->{path} // 'none'), '200 GET /r/rpc/request_info',
    'GET request_info: request.method GET, request.path /r/rpc/request_info');
is(join(' ', map { $_ // 'none' } $heads->{'x-test-header'}, $heads->{cookie}), 'Yes c1=one; c2=two',
    'request.headers: the headers sent, by lower-case name');
ok(!grep({ /[A-Z]/ || /^authorization$/ } keys %$heads) && body_of($r) !~ /t300-not-a-secret/,
    'request.headers: every name lower-case, no Authorization (nor its value anywhere)') or diag(body_of($r));
{
    my $d = diff_json(tag_json($info->{cookies}), tag_json({c1 => 'one', c2 => 'two'}));
    ok(!@$d, 'request.cookies: {"c1":"one","c2":"two"}') or diag(join "\n", @$d);
}
my $ro = 'on';    # transaction_read_only, as PostgreSQL shows a boolean setting
is($info->{read_only} // 'none', $ro, 'GET: a READ ONLY transaction (transaction_read_only on)');
# AutoRestTimeout is 10 s unless set (README), as PostgreSQL shows that
is($info->{timeout} // 'none', q1(q{SET statement_timeout = '10s'; SELECT current_setting('statement_timeout')}),
    'statement_timeout: the default AutoRestTimeout, 10 s');
$r = post('/r/rpc/request_info', {});
$info = json_text(body_of($r), 'request_info');
$info = {} unless ref $info eq 'HASH';
is(join(' ', $r->code, map { $_ // 'none' } @$info{qw(method path read_only)}), "200 POST /r/rpc/request_info $ro",
    'POST request_info (STABLE): request.method POST, and READ ONLY too');
$r = req(GET => '/r_slow/rpc/request_info');
$info = json_text(body_of($r), 'request_info');
$info = {} unless ref $info eq 'HASH';
is(join(' ', $r->code, map { $_ // 'none' } @$info{qw(path timeout)}),
    '200 /r_slow/rpc/request_info ' . q1(q{SET statement_timeout = '1s'; SELECT current_setting('statement_timeout')}),
    '/r_slow (AutoRestTimeout 1): its path, statement_timeout 1 s');
is_sql(req(GET => '/r/rpc/slow?seconds=0.1'), value('calls.slow(0.1)'), 'GET slow?seconds=0.1 at /r: within the timeout');

# ------------------------------------------------------------------ OPTIONS
$r = req(OPTIONS => '/r/rpc/hello');
is($r->code . ' ' . hdr($r, 'Allow'), '200 GET, HEAD, OPTIONS, POST', 'OPTIONS /r/rpc/hello: 200, Allow: GET, HEAD, OPTIONS, POST');
$r = req(OPTIONS => '/r_read/rpc/hello');
is($r->code . ' ' . hdr($r, 'Allow'), '200 GET, HEAD, OPTIONS, POST', 'OPTIONS /r_read/rpc/hello: the same');

is(q1(qq{SELECT qty FROM calls.items WHERE id = $bid}), $qty0, 'psql: the bumped qty is back');
psql(q{DELETE FROM calls.log WHERE note LIKE 't300-%'});
