# 301_call_errors.t: calls under /rpc/ (schema calls, t/fixtures/95_calls.sql) that are
# refused or fail, and that none of them changed anything. Where functions are not
# served: /r_off (404 AR203, a POST runs nothing), a path with no function or past one;
# where VOLATILE ones are not (/r_read: 404 AR204, nothing runs); a VOLATILE function or a
# procedure by GET or HEAD (405 AR301, Allow: OPTIONS, POST); PATCH, PUT, DELETE (405
# "Cannot use the X method on RPC", Allow: GET, HEAD, OPTIONS, POST); a STABLE function
# that writes, by GET and by POST (405 25006: both READ ONLY); calls.excluded
# (AutoRestExclude) and calls.forbidden (no EXECUTE) are 404 as if they did not exist.
# PostgREST's 404 for names no overload takes (its message, details and hint: the
# argument lists there are, or the closest name), by GET and by POST (also a second
# after an earlier miss, when the schema snapshot may be refreshed and the call tried
# again: the body's names still count, and a function taking none is not called
# instead), for a raw body and params=single-object; 300 AR120 for two overloads that
# fit. Bodies: objects with other keys (400 AR115), malformed JSON and CSV (400 AR115),
# a Content-Type a call does not take (415 AR117), a POST's query parameter that is no
# filter (400 AR107). The hidden calls.items.secret: select=, filters and order on it are
# the errors of a column that does not exist, embedded or not. Accept:
# vnd.pgrst.object+json with 0 or 2+ rows (406 AR402); an offset past the end with a
# count (416 AR104); select= on a void function and a procedure (400, and they do not
# run). PostgreSQL's errors as PostgreSQL raises them (read in PL/pgSQL through psql):
# RAISE with DETAIL and HINT (400 P0001), RAISE SQLSTATE 'PT402' (402), RAISE SQLSTATE
# 'PGRST' with a JSON MESSAGE and DETAIL (their status, reason phrase, header and body)
# and without (500 AR505), 22012, 22P02 by GET and by POST, a statement timeout (504
# 57014). At the end: calls.items and calls.log as they were, the API still answers, no
# connection idle in a transaction, no error body that leaks.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();
use Time::HiRes ();

plan tests => 101;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $OBJ = 'application/vnd.pgrst.object+json';
my $RUN = sprintf 't301-%d-%d', $$, time;    # a tag no earlier run used, for calls.log

my @collected;
sub r { my $res = req(@_); push @collected, $res; $res }
sub post {
    my ($path, $body, @h) = @_;
    return r(POST => $path, 'Content-Type' => 'application/json', @h,
        Content => ref $body ? $JSON->encode($body) : $body);
}
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub q1 { psql(shift) }
sub err { my $res = shift; my $j = json_text(body_of($res), 'error'); ref $j eq 'HASH' ? $j : {} }
sub message_is {
    my ($res, $want, $name) = @_;
    my $m = err($res)->{message} // '(none)';
    ref $want ? like($m, $want, $name) : is($m, $want, $name);
}
# error_is(RES, STATUS, ERROR, NAME): that status, and the body is exactly ERROR
# ({code, message, details, hint}, a Perl structure or a tagged tree).
sub error_is {
    my ($res, $status, $want, $name) = @_;
    my $d = diff_json(tag_text(body_of($res), $name), ref $want eq 'HASH' ? tag_json($want) : $want);
    diag("$name: $_") for @$d;
    diag("$name: status " . $res->code) if $res->code != $status;
    ok($res->code == $status && !@$d && ct_ok($res), $name);
}
# raised(CALL): the error CALL raises in PostgreSQL, as {code, message, details, hint}.
sub raised {
    my $call = shift;
    return psql_json(qq{CREATE FUNCTION pg_temp.caught() RETURNS json LANGUAGE plpgsql AS \$f\$
        DECLARE c text; m text; d text; h text;
        BEGIN
            PERFORM $call;
            RETURN NULL;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS c = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
                d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
            RETURN json_build_object('code', c, 'message', m, 'details', nullif(d, ''), 'hint', nullif(h, ''));
        END \$f\$;
        SELECT pg_temp.caught()});
}
# args(NAME): "(a, b)" for each overload of calls.NAME, its argument names sorted, as PostgREST's hint lists them
sub args {
    my $name = shift;
    return q1(qq{SELECT string_agg(l, ', ' ORDER BY n, l) FROM (SELECT p.pronargs AS n,
        'calls.' || p.proname || '(' || coalesce((SELECT string_agg(a, ', ' ORDER BY a)
            FROM unnest(p.proargnames[1:p.pronargs]) a), '') || ')' AS l
        FROM pg_proc p WHERE p.pronamespace = 'calls'::regnamespace AND p.proname = '$name') x});
}
sub items_state { q1(q{SELECT md5(string_agg(t::text, '|' ORDER BY id)) || ' ' || count(*) FROM calls.items t}) }
sub logged { q1(q{SELECT count(*) FROM calls.log WHERE note LIKE '} . $RUN . q{%'}) }
sub counter { q1('SELECT last_value || \' \' || is_called FROM calls.counter') }

psql(q{DELETE FROM calls.log WHERE note LIKE 't301-%'});
my $items0 = items_state();
my $bid = q1('SELECT min(id) FROM calls.items');

# ------------------------------------------------------------------ where functions are not served
my $r = r(GET => '/r_off/rpc/hello');
ok(check_error($r, 404, 'AR203'), 'GET /r_off/rpc/hello (AutoRestRPC off): 404 AR203');
$r = post('/r_off/rpc/note', {what => "$RUN-off"});
ok($r->code >= 400 && logged() == 0, 'POST /r_off/rpc/note: refused (' . $r->code . '), and psql sees no log line');
ok(check_error(r(GET => '/r/rpc/'), 404, 'AR203'), 'GET /r/rpc/ (no function named): 404 AR203');
ok(check_error(r(GET => '/r/rpc/hello/x'), 404, 'AR203'), 'GET /r/rpc/hello/x (past a function): 404 AR203');

ok(check_error(r(GET => "/r_read/rpc/note?what=$RUN-read"), 404, 'AR204'), 'GET /r_read/rpc/note (VOLATILE, AutoRestRPC read): 404 AR204');
ok(check_error(post('/r_read/rpc/note', {what => "$RUN-read"}), 404, 'AR204'), 'POST /r_read/rpc/note: 404 AR204');
ok(check_error(post('/r_read/rpc/log_note', {what => "$RUN-read"}), 404, 'AR204'), 'POST /r_read/rpc/log_note (a procedure): 404 AR204');
ok(check_error(post('/r_read/rpc/logged_numbers', {n => 1, tag => "$RUN-read"}), 404, 'AR204'), 'POST /r_read/rpc/logged_numbers: 404 AR204');
ok(check_error(post('/r_read/rpc/bump', {item_id => $bid}), 404, 'AR204'), 'POST /r_read/rpc/bump: 404 AR204');
is(logged() . ' ' . items_state(), "0 $items0", 'psql: none of them ran (no log line, items unchanged)');

# ------------------------------------------------------------------ methods
for my $m (qw(GET HEAD)) {
    for my $q ("note?what=$RUN-get", "logged_numbers?n=1&tag=$RUN-get", "bump?item_id=$bid", "log_note?what=$RUN-get",
               'double_it?x=1') {
        $r = r($m => "/r/rpc/$q");
        my $ok = $m eq 'GET' ? check_error($r, 405, 'AR301') : $r->code == 405 && length(body_of($r)) == 0;
        ok($ok && hdr($r, 'Allow') eq 'OPTIONS, POST', "$m /r/rpc/$q (VOLATILE or a procedure): 405" . ($m eq 'GET' ? ' AR301' : '')
            . ', Allow: OPTIONS, POST') or diag($r->code . ' Allow: ' . hdr($r, 'Allow'));
    }
}
is(logged() . ' ' . items_state(), "0 $items0", 'psql: none of them ran');
for my $m (qw(DELETE PATCH PUT)) {
    $r = r($m => '/r/rpc/hello', 'Content-Type' => 'application/json', Content => '{}');
    ok(check_error($r, 405, 'AR301'), "$m /r/rpc/hello: 405 AR301");
    message_is($r, "Cannot use the $m method on RPC", "... \"Cannot use the $m method on RPC\"");
    is(hdr($r, 'Allow'), 'GET, HEAD, OPTIONS, POST', '... Allow: GET, HEAD, OPTIONS, POST');
}
$r = r(PATCH => '/r/rpc/note', 'Content-Type' => 'application/json', Content => qq{{"what":"$RUN-patch"}});
ok(check_error($r, 405, 'AR301') && logged() == 0, 'PATCH /r/rpc/note: 405 AR301, and psql sees no log line');

my $counter0 = counter();
$r = r(GET => '/r/rpc/sneaky');
ok(check_error($r, 405, '25006'), 'GET sneaky (says STABLE, takes nextval): 405 25006, the READ ONLY transaction refused it');
$r = post('/r/rpc/sneaky', {});
ok(check_error($r, 405, '25006'), 'POST sneaky: 405 25006 too (a STABLE function runs READ ONLY by POST as well)');
is(counter(), $counter0, 'psql: the sequence did not move');

# ------------------------------------------------------------------ not exposed
for my $at ('/r', '/r_read') {
    $r = r(GET => "$at/rpc/forbidden");
    ok(check_error($r, 404, 'AR204'), "GET $at/rpc/forbidden (no EXECUTE for the role): 404 AR204, as if it did not exist");
    ok(check_error(post("$at/rpc/forbidden", {}), 404, 'AR204'), "POST $at/rpc/forbidden: 404 AR204");
}
ok(check_error(r(GET => '/r/rpc/excluded'), 404, 'AR204'), 'GET /r/rpc/excluded (AutoRestExclude): 404 AR204');
ok(check_error(post('/r/rpc/excluded', {}), 404, 'AR204'), 'POST /r/rpc/excluded: 404 AR204');
$r = r(GET => '/r_read/rpc/excluded');
ok(matches_sql($r, 'SELECT to_json(calls.excluded())'), '... while /r_read, which does not exclude it, calls it');

# ------------------------------------------------------------------ no overload takes these names
my $not_found = sub {
    my ($name, $keys, $searched, $hint) = @_;
    return {code => 'AR204', message => "Could not find the function calls.$name$keys in the schema cache",
        details => "Searched for the function calls.$name$searched, but no matches were found in the schema cache.",
        hint => $hint};
};
my $hint = sub { 'Perhaps you meant to call the function ' . args(shift) };
error_is(r(GET => '/r/rpc/add_them?a=1&c=2'), 404, $not_found->('add_them', '(a, c)', ' with parameters a, c', $hint->('add_them')),
    'GET add_them?a=1&c=2: 404, PostgREST\'s message, details and the hint naming add_them\'s arguments');
error_is(r(GET => '/r/rpc/add_them?a=1&b=2&smthelse=x'), 404,
    $not_found->('add_them', '(a, b, smthelse)', ' with parameters a, b, smthelse', $hint->('add_them')),
    'GET add_them?a=1&b=2&smthelse=x: an extra name is not ignored');
error_is(r(GET => '/r/rpc/add_them?a=1'), 404, $not_found->('add_them', '(a)', ' with parameter a', $hint->('add_them')),
    'GET add_them?a=1: a required argument missing');
error_is(r(GET => '/r/rpc/hello?nam=x'), 404, $not_found->('hello', '(nam)', ' with parameter nam', $hint->('hello')),
    'GET hello?nam=x: hint calls.hello(name)');
error_is(r(GET => '/r/rpc/hell'), 404, $not_found->('hell', ' without parameters', ' without parameters',
    'Perhaps you meant to call the function calls.hello'), 'GET hell (misspelt): hint calls.hello');
error_is(r(GET => '/r/rpc/over?b=1'), 404, $not_found->('over', '(b)', ' with parameter b', $hint->('over')),
    'GET over?b=1: the hint lists every overload\'s arguments');
error_is(post('/r/rpc/add_them', {a => 1}), 404,
    $not_found->('add_them', '(a)', ' with parameter a or with a single unnamed json/jsonb parameter', $hint->('add_them')),
    'POST add_them {"a":1}: 404, "... or with a single unnamed json/jsonb parameter"');
# A second after any earlier miss the module may refresh its schema snapshot and try
# the call again: the body's names must count on that second try as on the first.
Time::HiRes::sleep(1.2);
error_is(post('/r/rpc/add_them', {a => 1, c => 2}), 404,
    $not_found->('add_them', '(a, c)', ' with parameters a, c or with a single unnamed json/jsonb parameter', $hint->('add_them')),
    'POST add_them {"a":1,"c":2} (a second after a miss): 404 naming a and c');
Time::HiRes::sleep(1.2);
$r = post('/r/rpc/point', {z => 1});
ok(check_error($r, 404, 'AR204'), 'POST point {"z":1} (point takes no argument; a second after a miss): 404 AR204, not point() called without z')
    or diag(body_of($r));
Time::HiRes::sleep(1.2);
ok(check_error(post('/r/rpc/hello', {nam => "$RUN-x"}), 404, 'AR204'), 'POST hello {"nam":...} (a second after a miss): 404 AR204, not hello() with its default');
error_is(r(POST => '/r/rpc/text_len', 'Content-Type' => 'text/xml', Content => '<a/>'), 404,
    $not_found->('text_len', '', ' with a single unnamed xml parameter', undef),
    'text/xml to text_len (text): 404, "with a single unnamed xml parameter", no hint');
error_is(post('/r/rpc/hello', {name => 'x'}, Prefer => 'params=single-object'), 404,
    $not_found->('hello', '', ' with a single json/jsonb parameter', undef),
    'params=single-object to hello (text): 404, "with a single json/jsonb parameter", no hint');

# two overloads fit: 300, each candidate in the catalog's words
my $cands = q1(q{SELECT string_agg(sig, ', ' ORDER BY n, sig) FROM (SELECT p.pronargs AS n, 'calls.amb(' ||
    (SELECT string_agg(a.name || ' => ' || format_type(a.t, NULL), ', ' ORDER BY a.i)
     FROM unnest(p.proargnames, p.proargtypes::oid[]) WITH ORDINALITY AS a(name, t, i)) || ')' AS sig
    FROM pg_proc p WHERE p.pronamespace = 'calls'::regnamespace AND p.proname = 'amb') x});
error_is(r(GET => '/r/rpc/amb?a=1'), 300, {code => 'AR120', message => "Could not choose the best candidate function between: $cands",
    details => undef, hint => 'Try renaming the parameters or the function itself in the database so function overloading can be resolved'},
    "GET amb?a=1 (amb(a) and amb(a, b DEFAULT 1) both fit): 300 AR120 listing $cands");
ok(check_error(post('/r/rpc/amb', {a => 1}), 300, 'AR120'), 'POST amb {"a":1}: 300 AR120');

# ------------------------------------------------------------------ bodies
$r = post('/r/rpc/add_them', [{a => 1, b => 2}, {a => 4}]);
ok(check_error($r, 400, 'AR115'), 'an array whose second object lacks a key: 400 AR115');
message_is($r, 'All object keys must match', '... "All object keys must match"');
ok(check_error(post('/r/rpc/add_them', [{a => 1, b => 2}, {a => 4, c => 6}]), 400, 'AR115'), 'an array whose second object has another key: 400 AR115');
ok(check_error(post('/r/rpc/add_them', '[{"a":1,"b":2},5]'), 400, 'AR115'), 'an array with a number after the first object: 400 AR115');
ok(check_error(post('/r/rpc/add_them', '{"a":1,'), 400, 'AR115'), 'malformed JSON: 400 AR115');
ok(check_error(post('/r/rpc/add_them', '{"a":1,"b":2} x'), 400, 'AR115'), 'JSON with trailing garbage: 400 AR115');
ok(check_error(r(POST => '/r/rpc/add_them', 'Content-Type' => 'text/csv', Content => "a,b\n1,2\n3\n"), 400, 'AR115'),
    'CSV whose row has fewer fields than the header: 400 AR115');
ok(check_error(r(POST => '/r/rpc/add_them', 'Content-Type' => 'application/xml', Content => '{"a":1,"b":2}'), 415, 'AR117'),
    'Content-Type: application/xml: 415 AR117');
ok(check_error(post('/r/rpc/hello?name=John', {}), 400, 'AR107'), 'POST hello?name=John: a POST\'s query parameter must be a filter: 400 AR107');
ok(check_error(post("/r/rpc/note?what=$RUN-q", {what => "$RUN-q"}), 400, 'AR107'), 'POST note?what=...: 400 AR107');
is(logged(), 0, 'psql: note did not run');

# ------------------------------------------------------------------ the hidden column
for my $q ('select=id,%s', 'select=id,owners(name,items(id,%s))', '%s=eq.x', 'order=%s', 'or=(%s.eq.x,id.eq.1)') {
    my ($hidden, $none) = map { sprintf $q, $_ } 'secret', 'nosuch';
    my $h = r(GET => '/r/rpc/items_over?min_qty=0&' . qenc($hidden));
    my $n = r(GET => '/r/rpc/items_over?min_qty=0&' . qenc($none));
    (my $as = body_of($n)) =~ s/nosuch/secret/g;
    ok(check_error($h, 400, 'AR105') && body_of($h) eq $as, "items_over?$hidden: 400 AR105, exactly the error of $none")
        or diag(body_of($h) . "\n" . $as);
}
ok(check_error(r(GET => '/r/rpc/one_item?item_id=1&select=secret'), 400, 'AR105'), 'one_item?select=secret: 400 AR105');
ok(check_error(post('/r/rpc/items_over?select=id,secret', {min_qty => 0}), 400, 'AR105'), 'POST items_over?select=id,secret: 400 AR105');
{
    my $secret = q1('SELECT secret FROM calls.items WHERE secret IS NOT NULL LIMIT 1');
    my @shown = grep { $_->code != 200 || body_of($_) =~ /secret|\Q$secret\E/ } (
        r(GET => '/r/rpc/items_over?min_qty=0'), r(GET => '/r/rpc/items_over?min_qty=0&select=*'),
        r(GET => '/r/rpc/items_over?min_qty=0', Accept => 'text/csv'),
        r(GET => '/r/rpc/items_over?min_qty=0&id=eq.1', Accept => $OBJ),
        r(GET => '/r/rpc/items_over?min_qty=0&' . qenc('select=*,owners(*,items(*))')),
        r(GET => '/r/rpc/one_item?item_id=1'), r(GET => '/r/rpc/one_item?item_id=1&select=*'),
        post('/r/rpc/items_over', {min_qty => 0}), post('/r/rpc/one_item', {item_id => 1}, Accept => 'text/csv'),
        r(GET => '/r_read/rpc/items_over?min_qty=0'));
    ok(!@shown && length $secret, "the hidden column's name and value ('$secret') are in no result (JSON, CSV, object, embedded, POST, /r_read)")
        or diag(join "\n", map { $_->request->uri->path_query . ': ' . $_->code . ' ' . substr(body_of($_), 0, 200) } @shown);
}

# ------------------------------------------------------------------ pages and objects
my $n0 = q1('SELECT count(*) FROM calls.items_over(0)');
$r = r(GET => '/r/rpc/items_over?min_qty=0', Accept => $OBJ);
ok(check_error($r, 406, 'AR402'), "Accept: $OBJ with $n0 rows: 406 AR402");
my $none = q1('SELECT max(qty) FROM calls.items');
ok(check_error(r(GET => "/r/rpc/items_over?min_qty=$none", Accept => $OBJ), 406, 'AR402'), "Accept: $OBJ with no row: 406 AR402");
ok(check_error(post('/r/rpc/numbers', {n => 2}, Accept => $OBJ), 406, 'AR402'), "POST numbers {\"n\":2} with Accept: $OBJ: 406 AR402");
$r = r(GET => '/r/rpc/items_over?min_qty=0&offset=' . ($n0 + 5), Prefer => 'count=exact');
ok(check_error($r, 416, 'AR104'), 'offset ' . ($n0 + 5) . " of $n0 rows with count=exact: 416 AR104");
is(hdr($r, 'Content-Range'), "*/$n0", "... Content-Range */$n0");
$r = post('/r/rpc/note?select=what', {what => "$RUN-sel"});
ok($r->code == 400 && check_error($r, 400, err($r)->{code} // 'none'), 'POST note?select=what (void): 400') or diag(body_of($r));
$r = post('/r/rpc/log_note?order=what', {what => "$RUN-sel"});
is($r->code, 400, 'POST log_note?order=what (a procedure without OUT parameters): 400') or diag(body_of($r));
is(logged(), 0, 'psql: neither ran');

# ------------------------------------------------------------------ PostgreSQL's errors
error_is(r(GET => '/r/rpc/refuse'), 400, raised('calls.refuse()'), 'GET refuse: 400, the RAISE\'s code P0001, message, DETAIL and HINT');
error_is(post('/r/rpc/refuse', {}), 400, raised('calls.refuse()'), 'POST refuse: the same');
{
    my $pay = raised('calls.payment()');
    my $code = $pay->[1]{code}[1];    # PTnnn: status nnn
    $r = r(GET => '/r/rpc/payment');
    is($r->code, substr($code, 2), "GET payment (RAISE SQLSTATE '$code'): status " . substr($code, 2));
    error_is($r, substr($code, 2), $pay, '... the body: its code, message and DETAIL');
}
{
    # what the function raises: MESSAGE the body, DETAIL the status, reason phrase and headers
    my $c = raised('calls.custom_error()');
    my ($msg, $det) = map { json_text($c->[1]{$_}[1] // 'null', "PGRST $_") } qw(message details);
    $r = r(GET => '/r/rpc/custom_error');
    is($r->code . ' ' . $r->message, "$det->{status} $det->{status_text}",
        "GET custom_error (RAISE SQLSTATE 'PGRST'): the DETAIL's status and reason phrase, $det->{status} $det->{status_text}");
    my ($hn, $hv) = %{ $det->{headers} };
    is(hdr($r, $hn), $hv, "... the DETAIL's header $hn: $hv");
    my $d = diff_json(tag_text(body_of($r), 'custom_error'), tag_json($msg));
    ok(!@$d && ct_ok($r), '... the body is the MESSAGE\'s object, in JSON') or diag(join "\n", body_of($r), @$d);
}
ok(check_error(r(GET => '/r/rpc/custom_bad'), 500, 'AR505'), 'GET custom_bad (RAISE SQLSTATE \'PGRST\', a MESSAGE that is not JSON): 500 AR505');
error_is(r(GET => '/r/rpc/divide?a=1&b=0'), 400, raised('calls.divide(1, 0)'), 'GET divide?a=1&b=0: 400, PostgreSQL\'s 22012');
error_is(r(GET => '/r/rpc/add_them?a=x&b=1'), 400, raised(q{calls.add_them('x', 1)}), 'GET add_them?a=x&b=1: 400, PostgreSQL\'s 22P02');
error_is(post('/r/rpc/add_them', {a => 'x', b => 1}), 400, raised(q{calls.add_them('x', 1)}), 'POST add_them {"a":"x","b":1}: the same');
error_is(post('/r/rpc/add_them', {a => 2147483647, b => 1}), 400, raised('calls.add_them(2147483647, 1)'),
    'POST add_them {"a":2147483647,"b":1}: 400, PostgreSQL\'s 22003');
{
    my $t0 = Time::HiRes::time();
    $r = r(GET => '/r_slow/rpc/slow?seconds=3');
    my $took = Time::HiRes::time() - $t0;
    ok(check_error($r, 504, '57014'), 'GET /r_slow/rpc/slow?seconds=3 (AutoRestTimeout 1): 504 57014');
    ok($took < 2.5, sprintf('... after about a second (%.1f s), not the three the function sleeps', $took));
}

# ------------------------------------------------------------------ afterwards
is(items_state(), $items0, 'psql: calls.items as it was');
is(logged(), 0, 'psql: no calls.log line of this file\'s');
ok(matches_sql(r(GET => '/r/rpc/add_them?a=20&b=22'), 'SELECT to_json(calls.add_them(20, 22))'), 'after all these the API still answers a call');
is(q1(q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_web' AND state LIKE 'idle in transaction%'}), 0,
    'psql: no connection of autorest_web is idle in a transaction');
my @leaky = grep { $_->code >= 400 && leaks(body_of($_)) } @collected;
ok(!@leaky, 'no error body leaks SQL, host or paths')
    or diag(join "\n", map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
psql(q{DELETE FROM calls.log WHERE note LIKE 't301-%'});
