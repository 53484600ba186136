# 410_openapi.t: the OpenAPI 3.1 document (issue 14, point 1). GET /api/openapi.json
# and GET /api/ with Accept: application/openapi+json give the same document, typed
# application/openapi+json. It names exactly what the Location serves: a path per
# relation of the index and per function under /rpc/, the methods AutoRestMethods
# and the privileges allow, never a hidden column or an excluded relation. Each
# column's schema follows PostgreSQL's catalogue, read here by psql: nullable as a
# type union with "null", varchar(n)/char(n) as maxLength, an enum's labels,
# formats, comments as descriptions, generated columns readOnly, what an insert
# must give as required. Where requests switch roles it follows the role's own
# privileges (has_*_privilege as that role, by psql), AuthType Basic gives an http
# basic security scheme, and a GRANT shows at once. Built once per snapshot: more
# requests on one connection (one process) build nothing. A relation asked for
# it, or the Flask-Restless dialect, is 406. (t/js/openapi.test.mjs runs a real
# OpenAPI 3.1 validator from npm over these documents.)
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 ();
use ARTest;

plan tests => 42;

my $OA = 'application/openapi+json';
sub ct { $_[0]->header('Content-Type') // 'none' }
sub doc_of { my $r = shift; $r->code == 200 ? decode_body($r) : {} }
sub names { join ',', sort @_ }
# the methods of a path item, sorted
sub methods_of { my $item = shift || {}; names(grep { /^(get|post|patch|put|delete)$/ } keys %$item) }
# rows of psql as [col, col, ...] (psql -A: '|' between columns)
sub rows_of {
    my $out = psql(shift);
    return [map { [split /\|/, $_, -1] } grep { length } split /\n/, $out];
}
sub type_list { my $t = shift->{type}; ref $t eq 'ARRAY' ? @$t : defined $t ? ($t) : () }

# --- one document, two ways to ask
my $by_path = req(GET => '/api/openapi.json');
my $by_accept = req(GET => '/api/', Accept => $OA);
ok($by_path->code == 200 && ct($by_path) =~ m{^application/openapi\+json}, 'GET /api/openapi.json: 200, application/openapi+json')
    or diag($by_path->code . ' ' . ct($by_path));
ok($by_accept->code == 200 && ct($by_accept) =~ m{^application/openapi\+json}, 'GET /api/ with Accept: application/openapi+json: the same type');
ok(body_of($by_path) eq body_of($by_accept), '... and the same document');
my $doc = doc_of($by_path);
is($doc->{openapi}, '3.1.0', 'openapi 3.1.0');
is($doc->{servers}[0]{url}, '/api', 'servers[0] is the Location');
my $plain = req(GET => '/api/');
ok($plain->code == 200 && ct($plain) =~ m{^application/json} && ref decode_body($plain)->{relations} eq 'ARRAY',
   'without the Accept, the index as before');

# --- exactly the index's relations, by their URLs
my $index = decode_body($plain);
my @want = map { my $u = $_->{url}; $u =~ s{^/api}{}; $u } @{ $index->{relations} };
my @got = grep { $_ ne '/' && !m{^/rpc/} } keys %{ $doc->{paths} };
is(names(@got), names(@want), 'a path per relation of the index, and no other');
is(scalar(grep { methods_of($doc->{paths}{$_}) ne 'get' } @got), 0, '/api is read-only: get alone on every path');

# --- /limited: the excluded relation and the hidden column named nowhere
my $lim = req(GET => '/limited/openapi.json');
my $lim_text = body_of($lim);
ok($lim->code == 200 && $lim_text !~ /secret_stuff/, '/limited: the excluded relation appears nowhere');
ok($lim_text !~ /"ssn"/ && $lim_text =~ /"people"/, '/limited: people is there, its hidden column ssn is not');

# --- the columns of type_zoo, against the catalogue
my $zoo = $doc->{components}{schemas}{type_zoo} || {};
my $cols = rows_of(q{SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
    CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) THEN a.atttypmod - 4 END,
    coalesce((SELECT string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder) FROM pg_enum e
              WHERE e.enumtypid = a.atttypid), ''),
    coalesce(col_description(a.attrelid, a.attnum), ''), a.attgenerated <> ''
  FROM pg_attribute a WHERE a.attrelid = 'public.type_zoo'::regclass AND a.attnum > 0
   AND NOT a.attisdropped ORDER BY a.attnum});
is(names(keys %{ $zoo->{properties} || {} }), names(map { $_->[0] } @$cols), 'type_zoo: a property per column');
my (@bad_null, @bad_len, @bad_enum);
for my $c (@$cols) {
    my ($name, $type, $notnull, $len, $labels) = @$c;
    my $p = $zoo->{properties}{$name} || {};
    my @types = type_list($p);
    # nullable: "null" among the types (a type-less schema allows every value)
    push @bad_null, $name if @types && ($notnull eq 't') == (grep { $_ eq 'null' } @types);
    push @bad_len, $name if length $len && ($p->{maxLength} // -1) != $len;
    push @bad_len, $name if !length $len && defined $p->{maxLength};
    if (length $labels) {
        my @e = grep { defined } @{ $p->{enum} || [] };
        push @bad_enum, $name if join(chr(31), @e) ne $labels;
    }
}
is("@bad_null", '', 'nullable exactly where the column is (a type union with null)');
is("@bad_len", '', 'maxLength exactly for varchar(n) and char(n), as atttypmod says');
is("@bad_enum", '', 'an enum column lists pg_enum\'s labels in their order (a quote in one too)');
my %fmt = (c_int => 'int32', c_bigint => 'int64', c_timestamptz => 'date-time', c_date => 'date', c_uuid => 'uuid');
is(join(' ', map { $zoo->{properties}{$_}{format} // 'none' } sort keys %fmt), join(' ', map { $fmt{$_} } sort keys %fmt),
   'formats: int32 int64 date-time date uuid');
ok((grep { $_ eq 'array' } type_list($zoo->{properties}{c_int_arr} || {}))
   && (grep { $_ eq 'integer' } type_list($zoo->{properties}{c_int_arr}{items} || {})), 'int[]: an array of integers');
is($zoo->{description}, psql(q{SELECT obj_description('public.type_zoo'::regclass, 'pg_class')}),
   'the table\'s comment is its description');

# --- /w: writes by AutoRestMethods and the connecting role's privileges
my $w = doc_of(req(GET => '/w/openapi.json'));
my $wpriv = rows_of(q{SELECT c.relname, has_table_privilege('autorest_web', c.oid, 'INSERT'),
    has_table_privilege('autorest_web', c.oid, 'UPDATE'), has_table_privilege('autorest_web', c.oid, 'DELETE'),
    EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'),
    pg_relation_is_updatable(c.oid, false)
  FROM pg_class c WHERE c.relnamespace = 'writes'::regnamespace AND c.relkind IN ('r', 'v')
   AND has_any_column_privilege('autorest_web', c.oid, 'SELECT') ORDER BY 1});
my @wrong;
for my $row (@$wpriv) {
    my ($rel, $ins, $upd, $del, $pk, $events) = @$row;
    $ins = $ins eq 't' && ($events & 8); $upd = $upd eq 't' && ($events & 4); $del = $del eq 't' && ($events & 16);
    my $expect = names('get', $ins ? 'post' : (), $upd ? 'patch' : (), $del ? 'delete' : (),
                       ($ins && $upd && $pk eq 't') ? 'put' : ());
    my $got = methods_of($w->{paths}{"/$rel"});
    push @wrong, "$rel: $got, not $expect" if $got ne $expect;
}
ok(@$wpriv >= 2, '/w serves some relations') or diag(scalar @$wpriv);
is("@wrong", '', '/w: the methods of each path are what AutoRestMethods and the privileges allow');
my $items = $w->{components}{schemas}{items} || {};
ok(!exists $items->{properties}{secret} && exists $items->{properties}{name}, '/w: items without its hidden column secret');
my $required = rows_of(q{SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
    WHERE attrelid = 'writes.items'::regclass AND attnum > 0 AND NOT attisdropped AND attnotnull
      AND NOT atthasdef AND attgenerated = '' AND attidentity = ''})->[0][0] // '';
my $post_body = $w->{paths}{'/items'}{post}{requestBody}{content}{'application/json'}{schema}{oneOf}[0] || {};
my ($req_part) = grep { $_->{required} } @{ $post_body->{allOf} || [] };
is(names(@{ $req_part->{required} || [] }), $required, 'an insert must give the NOT NULL columns without a default');
ok($w->{paths}{'/items'}{post}{requestBody}{content}{'text/csv'}, 'an insert takes CSV as well');

# --- /r: a path per function of the index under /rpc/; the excluded one nowhere
my $get = one_child();
my $r_index = decode_body($get->('/r/'));
my $r_doc_res = $get->('/r/openapi.json');
my $r_doc = doc_of($r_doc_res);
my %fns = map { ("/rpc/$_->{name}" => 1) } @{ $r_index->{functions} || [] };
is(names(grep { m{^/rpc/} } keys %{ $r_doc->{paths} }), names(keys %fns), '/r: a path per function of the index');
unlike(body_of($r_doc_res), qr/"excluded"|calls\.excluded/, '/r: the excluded relation appears nowhere');
my $vol = psql(q{SELECT string_agg(DISTINCT proname, ',' ORDER BY proname) FROM pg_proc
    WHERE pronamespace = 'calls'::regnamespace AND (provolatile = 'v' OR prokind = 'p')});
my @get_on_volatile = grep { $r_doc->{paths}{"/rpc/$_"} && $r_doc->{paths}{"/rpc/$_"}{get} } split /,/, $vol;
is("@get_on_volatile", '', 'a VOLATILE function or a procedure: post only, no get');
my $add = $r_doc->{paths}{'/rpc/add_them'} || {};
is(names(map { $_->{name} } grep { $_->{in} && $_->{in} eq 'query' } @{ $add->{get}{parameters} || [] }),
   names(split /,/, psql(q{SELECT array_to_string(proargnames, ',') FROM pg_proc WHERE proname = 'add_them'
                           AND pronamespace = 'calls'::regnamespace})),
   'add_them by GET: its arguments as query parameters');

# --- refused
my $rel = req(GET => '/api/people', Accept => $OA);
ok(check_error($rel, 406, 'AR401'), 'a relation asked for the OpenAPI type: 406 AR401');
my $rl = req(GET => '/restless/', Accept => $OA);
is($rl->code, 406, 'the Flask-Restless dialect has no OpenAPI document: 406');
is(req(POST => '/w/openapi.json', 'Content-Type' => 'application/json', Content => '{}')->code, 405,
   'POST to openapi.json: 405, as on the index');
my $head = req(HEAD => '/api/openapi.json');
ok($head->code == 200 && !length(body_of($head)) && ct($head) =~ m{^application/openapi\+json}, 'HEAD: the headers only');

# --- built once per snapshot: more requests in one process build nothing
# (/limited/nested: a Location no other test asks for its document)
my $ka = LWP::UserAgent->new(keep_alive => 1, timeout => 20);
my $base = api_base();
my $mark = log_mark();
my $first = body_of($ka->get("$base/limited/nested/openapi.json"));
my $built = () = log_since($mark) =~ /built the OpenAPI document/g;
is($built, 1, 'the first request for a Location\'s document builds it (logged at debug)');
$mark = log_mark();
my $same = 1;
$same &&= body_of($ka->get("$base/limited/nested/openapi.json")) eq $first for 1 .. 4;
$built = () = log_since($mark) =~ /built the OpenAPI document/g;
ok($same && $first =~ /"openapi"/, 'four more requests on the same connection: the same document');
is($built, 0, '... and none of them built it again');

# --- roles: the role's own privileges, a Basic security scheme
Apache::TestRequest::module('roles');
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
my %role_of = (alice => 'ar_claims');    # /claims maps alice to ar_claims
sub role_paths {
    my $role = shift;
    my $rows = rows_of(qq{SET ROLE $role; SELECT c.relname,
        has_any_column_privilege(c.oid, 'SELECT'), has_any_column_privilege(c.oid, 'INSERT')
      FROM pg_class c WHERE c.relnamespace = 'secure'::regnamespace AND c.relkind IN ('r', 'v')
      ORDER BY 1});
    return { map { $_->[0] => { read => $_->[1] eq 't', insert => $_->[2] eq 't' } } @$rows };
}
my $claims_res = req(GET => '/claims/openapi.json', as('alice'));
my $claims = doc_of($claims_res);
my $priv = role_paths($role_of{alice});
is(names(grep { $_ ne '/' && !m{^/rpc/} } keys %{ $claims->{paths} || {} }),
   names(map { "/$_" } grep { $priv->{$_}{read} } keys %$priv),
   '/claims as alice (ar_claims): exactly the relations ar_claims may read');
is(methods_of($claims->{paths}{'/memos'}), names('get', $priv->{memos}{insert} ? 'post' : ()),
   '... memos: get, and post as ar_claims may INSERT (AutoRestMethods GET POST)');
is(methods_of($claims->{paths}{'/notices'}), 'get', '... notices: get alone');
ok($claims->{components}{securitySchemes}{basic} && $claims->{components}{securitySchemes}{basic}{scheme} eq 'basic'
   && ref $claims->{security} eq 'ARRAY', 'AuthType Basic: an http basic security scheme, required');
my $pre = doc_of(req(GET => '/pre/openapi.json', as('alice')));
ok($pre->{paths}{'/projects'} && methods_of($pre->{paths}{'/projects'}) eq 'get,post',
   '/pre as alice: projects, get and post (her grants through ar_member, AutoRestMethods GET POST)');
ok(!$claims->{paths}{'/projects'}, '... which /claims as ar_claims does not show');

# a REVOKE shows at once: the same snapshot, other privileges, another document
psql('REVOKE INSERT ON secure.memos FROM ar_claims');
my $after = doc_of(req(GET => '/claims/openapi.json', as('alice')));
psql('GRANT INSERT ON secure.memos TO ar_claims');
is(methods_of($after->{paths}{'/memos'}), 'get', 'REVOKE INSERT: memos loses post at once');
my $back = doc_of(req(GET => '/claims/openapi.json', as('alice')));
is(methods_of($back->{paths}{'/memos'}), 'get,post', 'GRANT INSERT again: and has it back');
is(req(GET => '/claims/openapi.json')->code, 401, 'no credentials: 401, no document');
