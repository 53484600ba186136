# 412_browsable.t: the browsable API (issue 14, point 6). A request whose Accept lists
# text/html first (a browser's) gets HTML pages: the index, a collection as a table with
# the filter form and the API's own paging links, a row (the filters fix its key) as a
# record with its edit and delete forms, errors as pages. Every page carries a strict
# Content-Security-Policy whose style hash is checked here, and no script. Cells are
# escaped; hidden columns and excluded relations never show. Forms post back
# (application/x-www-form-urlencoded, _method for PATCH and DELETE) from the same origin
# only, and answer 303 to the page that shows what they did. AutoRestBrowsable Off turns
# it all off. Expected rows come from psql. The rows this file writes are writes.items
# named after this run, removed again.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA ();
use Encode ();
use HTML::Entities ();
use JSON::PP ();
use MIME::Base64 ();
use ARTest;

plan tests => 60;

my $BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
my $RUN = sprintf 't412-%d-%d', $$, time;
my $JSON = JSON::PP->new->utf8->canonical;

sub page { req(GET => $_[0], Accept => $BROWSER, @_[1 .. $#_]) }
sub hdr { my $v = $_[0]->header($_[1]); defined $v ? $v : 'none' }
sub is_html { (hdr($_[0], 'Content-Type') =~ m{^text/html;\s*charset=utf-8$}i) ? 1 : 0 }
sub text_of { my $t = shift; $t =~ s/<[^>]*>//g; HTML::Entities::decode_entities(Encode::decode_utf8($t)) }
# The cells of a table (by id or class) as rows of [text, is_null].
sub cells {
    my ($body, $table) = @_;
    my ($t) = $body =~ m{<table $table>(.*?)</table>}s or return [];
    my ($tb) = $t =~ m{<tbody>(.*?)</tbody>}s;
    my @rows;
    for my $tr ($tb =~ m{<tr>(.*?)</tr>}gs) {
        push @rows, [map { [text_of($_->[1]), $_->[0] =~ /class="null"/ ? 1 : 0] }
                     map { [$_ =~ m{^<td([^>]*)>(.*)</td>$}s] } $tr =~ m{(<td[^>]*>.*?</td>)}gs];
    }
    return \@rows;
}
# What a cell shows for a JSON value: text as it is, the rest as compact JSON.
sub shown {
    my $v = shift;
    return ['null', 1] unless defined $v;
    return [$v ? 'true' : 'false', 0] if JSON::PP::is_bool($v);
    return [ref $v ? JSON::PP->new->canonical->encode($v) : "$v", 0];
}
# A form's inputs: { name => value } (selects: the selected option).
sub inputs {
    my ($body, $form) = @_;
    my ($f) = $body =~ m{<form $form[^>]*>(.*?)</form>}s or return undef;
    my %in;
    while ($f =~ m{<input ([^>]*)>}g) {
        my $a = $1;
        my ($n) = $a =~ /name="([^"]*)"/ or next;
        my ($v) = $a =~ /value="([^"]*)"/;
        $in{HTML::Entities::decode_entities($n)} = HTML::Entities::decode_entities($v // '');
    }
    while ($f =~ m{<select name="([^"]*)"[^>]*>(.*?)</select>}gs) {
        my ($n, $opts) = ($1, $2);
        my ($v) = $opts =~ m{<option selected>([^<]*)</option>};
        $in{$n} = $v // '';
    }
    return \%in;
}
sub origin { ('Origin' => api_base()) }
sub form_post {
    my ($path, $fields, @h) = @_;
    my $body = join '&', map { enc($_->[0]) . '=' . enc($_->[1]) } @$fields;
    $body =~ s/%20/+/g;
    return req(POST => $path, Accept => $BROWSER, 'Content-Type' => 'application/x-www-form-urlencoded',
               @h, Content => $body);
}
sub items_where { psql("SELECT count(*) FROM writes.items WHERE $_[0]") }

psql("DELETE FROM writes.items WHERE name LIKE 't412-%'");

# --- negotiation
my $r = page('/api/people?order=id');
ok($r->code == 200 && is_html($r) && body_of($r) =~ /^<!DOCTYPE html>/, 'a browser\'s Accept: an HTML page');
ok(ct_ok(req(GET => '/api/people?order=id', Accept => 'application/json, text/html')),
   'text/html listed after JSON: JSON');
ok(ct_ok(req(GET => '/api/people?order=id', Accept => 'text/html;q=0, */*')), 'text/html;q=0: JSON');
ok(ct_ok(req(GET => '/api/people?order=id')), 'no Accept: JSON');
ok(ct_ok(page('/w_unbrowsable/items')), 'AutoRestBrowsable Off: a browser gets JSON (its */*)');
ok(check_error(req(GET => '/w_unbrowsable/items', Accept => 'text/html'), 406, 'AR401'),
   '... and text/html alone is not acceptable there');
ok(ct_ok(page('/restless/people')), 'Flask-Restless\'s dialect has no pages');

# --- the policy and its hash
my $csp = hdr($r, 'Content-Security-Policy');
like($csp, qr/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+\/]+='; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/,
     'Content-Security-Policy: nothing but the style by its hash, forms to this origin');
my ($style) = body_of($r) =~ m{<style>(.*?)</style>}s;
my $hash = Digest::SHA::sha256_base64($style // '') . '=';
ok(index($csp, "'sha256-$hash'") >= 0, "the hash is the page's stylesheet's ($hash)");
is(hdr($r, 'X-Content-Type-Options'), 'nosniff', 'nosniff');

# --- a collection: the rows as psql has them
my $want = $JSON->decode(psql("SELECT json_agg(p ORDER BY id) FROM (SELECT * FROM people ORDER BY id LIMIT 3) p"));
my @cols = qw(id name email ssn born team_id active);
$r = page('/api/people?order=id&limit=3');
my $got = cells(body_of($r), 'id="rows"');
my @exp = map { my $row = $_; [map { shown($row->{$_}) } @cols] } @$want;
is_deeply($got, \@exp, 'the table\'s cells are psql\'s rows (NULL as a null cell)')
    or diag explain $got;
my ($ths) = body_of($r) =~ m{<thead><tr>(.*?)</tr></thead>}s;
is(join(',', map { text_of($_) } $ths =~ m{<th>(.*?)</th>}g), join(',', @cols), 'its header: the columns');
like(body_of($r), qr{<td><a class="row" href="/api/people\?id=eq\.1">1</a></td>}, 'the first cell links to the row\'s page');
unlike(join('', map { body_of(page($_)) } '/api/', '/api/people?order=id', '/api/people?id=eq.1', '/api/nope'),
       qr/<script/i, 'no page holds a script');

# paging: the API's own links
my $json_links = links(req(GET => '/api/many?order=id&limit=10&offset=10'));
$r = page('/api/many?order=id&limit=10&offset=10');
my %nav = map { $_->[0] => HTML::Entities::decode_entities($_->[1]) }
          map { [m{rel="(\w+)" href="([^"]*)"}] } body_of($r) =~ m{(<a rel="\w+" href="[^"]*">)}g;
is_deeply(\%nav, $json_links, 'first, previous and next: the Link header\'s URLs') or diag explain \%nav;
like(body_of($r), qr{<span id="range">rows 11 to 20</span>}, 'the rows shown: 11 to 20');
$r = page('/api/many?order=id');
is(scalar @{ cells(body_of($r), 'id="rows"') }, 100, 'without a limit a page shows 100 rows');
ok(links($r)->{next}, '... with a next link');

# the filter form: what the URL asked, editable; empty fields mean nothing
$r = page('/api/people?id=gt.1&order=name.desc&or=(active.is.false,name.eq.Bob)');
my $in = inputs(body_of($r), 'id="filter"');
is_deeply([@$in{qw(id order or select name)}], ['gt.1', 'name.desc', '(active.is.false,name.eq.Bob)', '', ''],
          'the filter form holds the URL\'s filter, order and other words, the rest empty');
$want = $JSON->decode(psql("SELECT json_agg(p ORDER BY name DESC) FROM people p WHERE id > 1 AND (NOT active OR name = 'Bob')"));
is_deeply(cells(body_of($r), 'id="rows"'), [map { my $row = $_; [map { shown($row->{$_}) } @cols] } @$want],
          '... and the rows are theirs');
$r = page('/api/people?select=&order=id&limit=2&name=&email=');
is_deeply(cells(body_of($r), 'id="rows"'), cells(body_of(page('/api/people?order=id&limit=2')), 'id="rows"'),
          'a submitted form\'s empty fields are left out');

# --- what is hidden stays hidden
$r = page('/limited/');
my $body = body_of($r);
ok($body =~ /class="relation" href="\/limited\/people"/ && $body !~ /secret_stuff/,
   'the index lists the relations, not an excluded one');
$body = body_of(page('/limited/people?order=id'));
ok($body =~ /Alice/ && $body !~ /ssn|111-11-1111/, 'a hidden column is in no cell, header or field');
my $get = one_child();
my $index = decode_body($get->('/r/'));
$body = body_of($get->('/r/', Accept => $BROWSER));
my @missing = grep { index($body, qq{class="function" href="/r/rpc/$_"}) < 0 }
              map { $_->{name} } @{ $index->{functions} };
ok(!@missing && @{ $index->{functions} } > 3, 'the index links every function the JSON index lists')
    or diag "missing: @missing";

# --- escaping
my $nasty = qq{$RUN <script>alert("x")</script> & 'q'};
my $nasty_sql = $nasty =~ s/'/''/gr;
my $id = psql("INSERT INTO writes.items (name, tags, meta) VALUES ('$nasty_sql', '{a,\"b c\"}', '{\"k\": [1, \"<b>\"]}') RETURNING id");
$body = body_of(page("/w/items?id=eq.$id"));
ok(index($body, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;') >= 0 && $body !~ /<script/,
   'a value with markup is shown as text');
my %rec = map { text_of($_->[0]) => $_->[1] } map { [m{<th>(.*?)</th>(<td.*?</td>)}s] }
          $body =~ m{(<tr><th>.*?</tr>)}gs;
is(text_of($rec{tags}), '["a","b c"]', 'an array: its JSON, on one line');
is(text_of($rec{meta}), '{"k": [1, "<b>"]}', 'json: as PostgreSQL writes it, escaped');
ok($body !~ /secret|hidden-default/, 'the record and its forms show no hidden column');

# --- a row: its record and forms
$in = inputs($body, 'class="edit"');
ok($in && $in->{_method} eq 'PATCH' && $in->{name} eq $nasty && !exists $in->{secret},
   'the edit form: PATCH, prefilled with the row\'s values');
$in = inputs($body, 'class="delete"');
ok($in && $in->{_method} eq 'DELETE', 'the delete form: DELETE');
like($body, qr{<form class="edit" method="post" action="/w/items\?id=eq\.$id">}, '... both to the row\'s URL');
$body = body_of(page('/w/items?order=id'));
$in = inputs($body, 'id="insert"');
ok($in && exists $in->{name} && exists $in->{qty} && !exists $in->{secret} && !exists $in->{_method},
   'a collection where POST is open: the insert form, its writable columns');
$body = body_of(page('/api/people?order=id'));
ok($body !~ /id="insert"|class="edit"|class="delete"/, 'a read-only Location: no write form');

# --- forms: from the same origin only
my @fields = (['name', "$RUN new & shiny"], ['qty', '4'], ['tags', '{x,y}'], ['meta', '{"a":1}'], ['sku', '']);
$r = form_post('/w/items', \@fields, Origin => 'http://evil.example');
ok(check_html_error($r, 403, 'AR704') && items_where("name = '$RUN new & shiny'") == 0,
   'another site\'s form: 403 AR704, nothing written');
$r = form_post('/w/items', \@fields);
ok(check_html_error($r, 403, 'AR704'), 'a form without Origin: 403');
$r = form_post('/w/items', \@fields, origin(), 'Sec-Fetch-Site' => 'cross-site');
ok(check_html_error($r, 403, 'AR704'), 'Sec-Fetch-Site: cross-site: 403');
$r = form_post('/w/items', \@fields, origin(), 'Sec-Fetch-Site' => 'same-site');
ok(check_html_error($r, 403, 'AR704') && items_where("name = '$RUN new & shiny'") == 0,
   'Sec-Fetch-Site: same-site (a sibling host) is not this origin: 403, nothing written');
$r = req(POST => '/w/items', 'Content-Type' => 'application/x-www-form-urlencoded', origin(),
         Content => 'name=x');
ok(check_error($r, 415, 'AR117'), 'a client that does not ask for a page posts no form (415, as before)');
$r = form_post('/w_unbrowsable/items', \@fields, origin());
ok(check_error($r, 415, 'AR117'), 'nor where AutoRestBrowsable is Off');

$r = form_post('/w/items', \@fields, origin());
my $new = psql("SELECT id FROM writes.items WHERE name = '$RUN new & shiny'");
is($r->code . ' ' . hdr($r, 'Location'), "303 /w/items?id=eq.$new", 'an insert: 303 to the new row\'s page');
is(psql("SELECT json_build_array(qty, tags, meta, sku, secret)::text FROM writes.items WHERE id = " . ($new || 0)),
   '[4, ["x","y"], {"a": 1}, null, "hidden-default"]', '... written as typed, empty fields and hidden columns their defaults');
$r = page("/w/items?id=eq.$new");
is(inputs(body_of($r), 'class="edit"')->{name}, "$RUN new & shiny", '... whose page shows it');

$r = form_post("/w/items?id=eq.$new", [['_method', 'PATCH'], ['name', "$RUN renamed"], ['qty', '']], origin());
is($r->code . ' ' . hdr($r, 'Location'), "303 /w/items?id=eq.$new", 'an edit: 303 to the row');
is(psql("SELECT name || '|' || qty FROM writes.items WHERE id = $new"), "$RUN renamed|4",
   '... changed, an empty field left as it was');
$r = form_post("/w/items?id=eq.$new", [['_method', 'PATCH'], ['qty', '5']],
               Origin => 'https://api.example.org', 'Sec-Fetch-Site' => 'same-origin');
ok($r->code == 303 && items_where("id = $new AND qty = 5") == 1,
   'behind a proxy (Origin is the public name, not Host): Sec-Fetch-Site: same-origin decides');
$r = form_post("/w/items?id=eq.$new", [['_method', 'PATCH'], ['qty', '-1']], origin());
ok(check_html_error($r, 400, '23514') && items_where("id = $new AND qty = 5") == 1,
   'a value the table refuses: its error page, nothing written');
$r = form_post("/w/items?id=eq.$new", [['_method', 'PATCH'], ['qty', 'many']], origin());
ok(check_html_error($r, 400, '22P02'), 'a value that is no integer: 400');
$r = form_post("/w/items?id=eq.$new", [['_method', 'MOVE'], ['qty', '1']], origin());
ok(check_html_error($r, 400, 'AR115'), '_method=MOVE: 400');

# PUT: the whole row, from the replace form as the page fills it
$in = inputs(body_of(page("/w/items?id=eq.$new")), 'class="replace"');
ok($in && $in->{_method} eq 'PUT' && $in->{id} eq $new && $in->{qty} eq '5' && !exists $in->{secret},
   'the replace form: PUT, every shown column prefilled, the key too');
my %put = (%$in, name => "$RUN replaced", price => '', tags => '');
$r = form_post("/w/items?id=eq.$new", [map { [$_, $put{$_}] } '_method', grep { $_ ne '_method' } sort keys %put],
               origin());
is($r->code . ' ' . hdr($r, 'Location'), "303 /w/items?id=eq.$new", 'a replacement: 303 to the row');
is(psql("SELECT concat_ws('|', name, qty, coalesce(price::text, 'NULL'), coalesce(tags::text, 'NULL'), created) "
        . "FROM writes.items WHERE id = $new"),
   "$RUN replaced|5|NULL|NULL|2024-01-01 00:00:00+00", '... written whole: an empty field is NULL, the rest as the form had it');
$r = form_post("/w/items?id=eq.$new", [['_method', 'PUT'], ['name', 'keyless'], ['qty', '1'],
               ['created', '2024-01-01 00:00:00+00']], origin());
ok(check_html_error($r, 400, 'AR115') && items_where("name = 'keyless'") == 0,
   'a PUT form without the key: refused as a JSON PUT is, nothing written');
$r = form_post('/w/items', [['_method', 'DELETE']], origin());
ok(check_html_error($r, 400, '21000') && items_where('true') > 2, 'a delete without a filter: refused, as in JSON');
$r = form_post('/api/people', [['name', 'x']], origin());
ok(check_html_error($r, 405, 'AR301'), 'a form where POST is not open: 405');
$r = form_post("/w/items?id=eq.$new", [['_method', 'DELETE']], origin());
is($r->code . ' ' . hdr($r, 'Location') . ' ' . items_where("id = $new"), '303 /w/items 0',
   'a delete: 303 to the collection, the row gone');

# --- errors, conditional requests, roles
$r = page('/api/nope');
ok(check_html_error($r, 404, 'AR201'), 'an error: a page with its code');
$r = page('/api/people?order=id&limit=2');
is(page('/api/people?order=id&limit=2', 'If-None-Match' => hdr($r, 'ETag'))->code, 304, 'a page has an ETag: 304');

Apache::TestRequest::module('roles');
sub as { ('Authorization' => 'Basic ' . MIME::Base64::encode_base64("$_[0]:secret", '')) }
$body = body_of(page('/users/projects?limit=2', as('alice')));
ok($body =~ /id="insert"/ && $body =~ /class="row"/, 'as alice: an insert form where her role may insert');
$body = body_of(page('/users/notices', as('alice')));
ok($body =~ /id="rows"/ && $body !~ /id="insert"/, '... none where it may only read');
$r = page('/nobody/notices');
ok(check_html_error($r, 401, 'AR701'), 'no one authenticated and no anonymous role: 401, as a page');

psql("DELETE FROM writes.items WHERE name LIKE 't412-%'");

# check_html_error(RES, STATUS, CODE): an HTML error page with that code, nothing leaked.
sub check_html_error {
    my ($res, $status, $code) = @_;
    my $b = body_of($res);
    my $ok = $res->code == $status && is_html($res) && $b =~ m{<main id="error"><p><code>\Q$code\E</code>}
             && leak_free($res) && $b !~ /<script/;
    diag($res->code . ' ' . hdr($res, 'Content-Type') . ': ' . substr($b, index($b, '<main') < 0 ? 0 : index($b, '<main'), 300))
        unless $ok;
    return $ok;
}
