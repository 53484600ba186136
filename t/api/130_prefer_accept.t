# 130_prefer_accept.t: request headers Prefer, Accept and Accept-Profile on /api.
# Prefer: count=exact (Content-Range a-b/total, 206 when the page is not all the rows,
# 200 when it is, */0 when none match, 416 AR104 with */total past the end, with filters,
# Range, HEAD and the row cap), count=planned (a number), count=estimated (exact on a
# small table), Preference-Applied, handling=strict (400 AR109 on a preference we do
# not apply) and lenient (ignored). Accept: JSON by default, for application/json and
# */*; application/vnd.pgrst.object+json (one row: an object; 0 or 2+: 406 AR402);
# text/csv (RFC 4180, CRLF, header of output keys, NULL empty and unquoted, '' as "",
# PostgreSQL's text forms; byte-identical to COPY ... CSV HEADER but for CRLF, checked
# with a parser written here); 406 AR401 for what we cannot produce; q-values.
# Accept-Profile: the schema a request reads (Content-Profile), 406 AR403 otherwise.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 79;

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

sub film { my ($q, @h) = @_; r(GET => '/api/film' . (length $q ? '?' . qenc($q) : ''), @h) }
sub cr { shift->header('Content-Range') // 'none' }
# Preference-Applied as a sorted, comma-separated list ('none' when absent)
sub pa {
    my $h = join ',', shift->header('Preference-Applied');
    return 'none' unless length $h;
    return join ', ', sort map { s/^\s+|\s+$//gr } split /,/, $h;
}

# body_is(RES, SQL, NAME): the JSON body equals SQL's json value, whatever the status.
sub body_is {
    my ($res, $sql, $name) = @_;
    my $d = diff_json(tag_text(body_of($res), $name), psql_json($sql));
    diag("$name: $_") for @$d[0 .. ($#$d > 9 ? 9 : $#$d)];
    ok(!@$d, $name);
}

my $TOTAL = psql('SELECT count(*) FROM film');
die "fixture film has $TOTAL rows, expected 30\n" unless $TOTAL == 30;
my $FIRST10 = 'SELECT json_agg(f ORDER BY id) FROM (SELECT * FROM film ORDER BY id LIMIT 10) f';

# ------------------------------------------------------------------ Prefer: count
my $r = film('limit=10');
is($r->code . ' ' . cr($r), '200 0-9/*', 'no Prefer: 200, Content-Range 0-9/* (as before)');

$r = film('limit=10', Prefer => 'count=exact');
is($r->code, 206, 'count=exact, 10 of 30 rows: 206');
is(cr($r), "0-9/$TOTAL", "count=exact, limit=10: Content-Range 0-9/$TOTAL");
is(pa($r), 'count=exact', 'Preference-Applied: count=exact');
body_is($r, $FIRST10, 'count=exact, limit=10: the first 10 rows');
ok(ct_ok($r), 'a 206 page is still application/json; charset=utf-8');

$r = film('rating=lte.5', Prefer => 'count=exact');
my $n5 = psql('SELECT count(*) FROM film WHERE rating <= 5');
is($r->code . ' ' . cr($r), '200 0-' . ($n5 - 1) . "/$n5", "count=exact, a filter leaving $n5 rows: 200, 0-" . ($n5 - 1) . "/$n5");
ok(matches_sql($r, 'SELECT json_agg(f ORDER BY id) FROM film f WHERE rating <= 5'), '... and those rows');

$r = film('', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "200 0-29/$TOTAL", "count=exact, every row in one page: 200, 0-29/$TOTAL");

my $n2000 = psql('SELECT count(*) FROM film WHERE year >= 2000');
$r = film('year=gte.2000&limit=5&offset=5', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "206 5-9/$n2000", "count=exact counts only matching rows: 206, 5-9/$n2000");
body_is($r, 'SELECT json_agg(f ORDER BY id) FROM (SELECT * FROM film WHERE year >= 2000 ORDER BY id LIMIT 5 OFFSET 5) f',
    'count=exact with a filter, limit and offset: those rows');

$r = film('limit=10&offset=25', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "206 25-29/$TOTAL", 'count=exact, the last, short page: 206, 25-29/30');

$r = film('order=title.desc&limit=3&or=(year.lt.1960,year.gt.2015)', Prefer => 'count=exact');
my $nor = psql('SELECT count(*) FROM film WHERE year < 1960 OR year > 2015');
is($r->code . ' ' . cr($r), "206 0-2/$nor", "count=exact with order and a logic tree: 206, 0-2/$nor");

$r = film('id=lt.0', Prefer => 'count=exact');
is($r->code . ' ' . cr($r) . ' ' . (body_of($r) =~ s/\s+//gr), '200 */0 []', 'count=exact, nothing matches: 200, */0, []');

$r = film('offset=100', Prefer => 'count=exact');
ok(check_error($r, 416, 'AR104'), 'count=exact, offset=100 of 30 rows: 416 AR104');
is(cr($r), "*/$TOTAL", "... with Content-Range */$TOTAL");

$r = film('', Prefer => 'count=exact', Range => '0-4');
is($r->code . ' ' . cr($r), "206 0-4/$TOTAL", "count=exact with Range: 0-4: 206, 0-4/$TOTAL");

$r = r(HEAD => '/api/film?limit=10', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), "206 0-9/$TOTAL", "HEAD with count=exact: 206, 0-9/$TOTAL");
is(length($r->content // ''), 0, 'HEAD with count=exact: no body');

$r = r(GET => '/api/many', Prefer => 'count=exact');
is($r->code . ' ' . cr($r), '206 0-999/2500', '/api/many, count=exact: the default cap, 206, 0-999/2500');

$r = film('limit=10', Prefer => 'count=planned');
like(cr($r), qr{^0-9/\d+$}, 'count=planned: Content-Range 0-9/<a number>');
ok($r->code == 200 || $r->code == 206, 'count=planned: 200 or 206') or diag('status ' . $r->code);
is(pa($r), 'count=planned', 'Preference-Applied: count=planned');
body_is($r, $FIRST10, 'count=planned: the first 10 rows');

$r = film('limit=10', Prefer => 'count=estimated');
is($r->code . ' ' . cr($r), "206 0-9/$TOTAL", 'count=estimated on a table under the cap is exact: 206, 0-9/30');
is(pa($r), 'count=estimated', 'Preference-Applied: count=estimated');
my $n79 = psql('SELECT count(*) FROM film WHERE year < 1979');
$r = film('year=lt.1979&limit=2', Prefer => 'count=estimated');
is(cr($r), "0-1/$n79", "count=estimated with a filter: 0-1/$n79");

# --- handling
$r = film('limit=10', Prefer => 'handling=strict, count=exact');
is($r->code . ' ' . cr($r), "206 0-9/$TOTAL", 'handling=strict, count=exact: applied');
is(pa($r), 'count=exact, handling=strict', 'Preference-Applied lists handling=strict and count=exact');
ok(check_error(film('limit=10', Prefer => 'handling=strict, foo=bar'), 400, 'AR109'),
    'handling=strict, foo=bar: 400 AR109');
ok(check_error(film('limit=10', Prefer => 'handling=strict, count=sometimes'), 400, 'AR109'),
    'handling=strict, count=sometimes: 400 AR109');
$r = film('limit=10', Prefer => 'foo=bar');
is($r->code . ' ' . cr($r), '200 0-9/*', 'Prefer: foo=bar (lenient by default): 200, ignored');
unlike(pa($r), qr/foo/, 'foo=bar is not in Preference-Applied');
body_is($r, $FIRST10, 'Prefer: foo=bar: the same rows');
$r = film('limit=10', Prefer => 'handling=lenient, foo=bar, count=exact');
is($r->code . ' ' . cr($r), "206 0-9/$TOTAL", 'handling=lenient, foo=bar, count=exact: count applied, foo ignored');

# ------------------------------------------------------------------ Accept: JSON
my $plain = film('');
ok(matches_sql($plain, 'SELECT json_agg(f ORDER BY id) FROM film f'), 'no Accept: the JSON array');
ok(ct_ok($plain), 'no Accept: application/json; charset=utf-8');
for my $acc ('application/json', '*/*', 'application/json; charset=utf-8') {
    my $a = film('', Accept => $acc);
    ok($a->code == 200 && ct_ok($a) && body_of($a) eq body_of($plain), "Accept: $acc is the JSON array")
        or diag("Accept: $acc: " . $a->code . ' ' . ($a->header('Content-Type') // 'none'));
}

# --- a single object
my $OBJ = 'application/vnd.pgrst.object+json';
sub obj_ct { (shift->header('Content-Type') // '') =~ m{^application/vnd\.pgrst\.object\+json\s*;\s*charset="?utf-8"?$}i }
$r = film('id=eq.3', Accept => $OBJ);
ok(matches_sql($r, 'SELECT row_to_json(f) FROM film f WHERE id = 3'), "Accept: $OBJ, one row: that row, as an object");
ok(obj_ct($r), "Content-Type: $OBJ; charset=utf-8") or diag('Content-Type: ' . ($r->header('Content-Type') // 'none'));
$r = film('select=title,year&title=eq.Heat', Accept => $OBJ);
ok(matches_sql($r, q{SELECT json_build_object('title', title, 'year', year) FROM film WHERE title = 'Heat'}),
    'object with select=: only those keys');
ok(check_error(film('id=eq.-1', Accept => $OBJ), 406, 'AR402'), 'object, no row matches: 406 AR402');
ok(check_error(film('year=eq.1979', Accept => $OBJ), 406, 'AR402'), 'object, 2 rows match: 406 AR402');
ok(check_error(film('', Accept => $OBJ), 406, 'AR402'), 'object, 30 rows match: 406 AR402');

# ------------------------------------------------------------------ Accept: text/csv
# csv_parse(BYTES): (records, terminators) by RFC 4180, each field [value, was_quoted];
# LF alone is accepted as a terminator too (COPY's), and reported as such.
# Returns () when the text is not CSV.
sub csv_parse {
    my $t = shift;
    my (@recs, @terms, @rec);
    my ($i, $n) = (0, length $t);
    return ([], []) unless $n;
    while (1) {
        my ($v, $quoted) = ('', 0);
        if (substr($t, $i, 1) eq '"') {
            $quoted = 1;
            $i++;
            while (1) {
                return () if $i >= $n;    # unterminated quoted field
                my $c = substr($t, $i, 1);
                if ($c eq '"') {
                    if ($i + 1 < $n && substr($t, $i + 1, 1) eq '"') { $v .= '"'; $i += 2; next }
                    $i++;
                    last;
                }
                $v .= $c;
                $i++;
            }
        }
        else {
            while ($i < $n) {
                my $c = substr($t, $i, 1);
                last if $c eq ',' || $c eq "\r" || $c eq "\n";
                return () if $c eq '"';    # a quote inside an unquoted field
                $v .= $c;
                $i++;
            }
        }
        push @rec, [$v, $quoted];
        if ($i >= $n) { push @recs, [@rec]; push @terms, ''; last }
        my $c = substr($t, $i, 1);
        if ($c eq ',') { $i++; next }
        if ($c eq "\r" && substr($t, $i + 1, 1) eq "\n") { push @terms, "\r\n"; $i += 2 }
        elsif ($c eq "\n") { push @terms, "\n"; $i++ }
        else { return () }    # a bare CR, or text after a closing quote
        push @recs, [@rec];
        @rec = ();
        last if $i >= $n;
    }
    return (\@recs, \@terms);
}
# csv_render(RECORDS, EOL): the records written back, quoted where they were.
sub csv_render {
    my ($recs, $eol) = @_;
    return join '', map { join(',', map { $_->[1] ? '"' . ($_->[0] =~ s/"/""/gr) . '"' : $_->[0] } @$_) . $eol } @$recs;
}
sub csv_ct { (shift->header('Content-Type') // '') =~ m{^text/csv\s*;\s*charset="?utf-8"?$}i }
sub show { my $s = shift; $s =~ s/\r/\\r/g; $s =~ s/\n/\\n/g; length $s > 300 ? substr($s, 0, 300) . '...' : $s }

# csv_is(QUERY, SQL, NAME): /api/film?QUERY as text/csv is 200, text/csv; charset=utf-8,
# and exactly COPY (SQL) TO STDOUT (FORMAT csv, HEADER) with CRLF line ends.
sub csv_is {
    my ($query, $sql, $name) = @_;
    my $res = film($query, Accept => 'text/csv');
    my $body = body_of($res);
    my $copy = psql("COPY ($sql) TO STDOUT WITH (FORMAT csv, HEADER)") . "\n";
    my ($crecs, $cterms) = csv_parse($copy);
    die "COPY output of $sql is not CSV\n" unless $crecs && !grep { $_ ne "\n" } @$cterms;
    my $want = csv_render($crecs, "\r\n");
    my @why;
    push @why, 'status ' . $res->code if $res->code != 200;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none') unless csv_ct($res);
    my ($grecs, $gterms) = csv_parse($body);
    if (!$grecs) { push @why, 'the body is not RFC 4180 CSV' }
    elsif (my @bad = grep { $gterms->[$_] ne "\r\n" } 0 .. $#$gterms) {
        push @why, 'record ' . ($bad[0] + 1) . ' does not end in CRLF';
    }
    if ($body ne $want) {
        my $at = 0;
        $at++ while $at < length($body) && $at < length($want) && substr($body, $at, 1) eq substr($want, $at, 1);
        push @why, "differs from COPY at byte $at: got '" . show(substr($body, $at, 60)) .
            "', expected '" . show(substr($want, $at, 60)) . "'";
    }
    diag("$name: $_") for @why;
    ok(!@why, $name);
}

csv_is('', 'SELECT * FROM film ORDER BY id', 'text/csv, every column and row: COPY ... CSV HEADER, with CRLF');
csv_is('select=id,title,"Mixed Col","a.b,c:d(e)",tags,info,origin,updated,active',
    q{SELECT id, title, "Mixed Col", "a.b,c:d(e)", tags, info, origin, updated, active FROM film ORDER BY id},
    'text/csv with select=: those columns, that order; the header quotes "a.b,c:d(e)"');
csv_is('select=id,name:title,info->>runtime,info->director,rating::int',
    q{SELECT id, title AS name, info->>'runtime' AS runtime, info->'director' AS director, rating::int AS rating
      FROM film ORDER BY id}, 'text/csv with an alias, JSON paths and a cast: the header has the output keys');
csv_is('select=id,title&year=gte.2000&order=year.desc,id',
    'SELECT id, title FROM film WHERE year >= 2000 ORDER BY year DESC, id', 'text/csv with a filter and an order');
csv_is('select=id,title&id=lt.0', 'SELECT id, title FROM film WHERE id < 0', 'text/csv, no rows: the header alone');
csv_is('limit=5&offset=3', 'SELECT * FROM film ORDER BY id LIMIT 5 OFFSET 3', 'text/csv, a page');

# the same rules, spelled out (independent of COPY)
sub csv_body { body_of(film(shift, Accept => 'text/csv')) }
is(show(csv_body('select=id,"Mixed Col"&id=in.(3,4,5,6)')),
    show(qq{id,Mixed Col\r\n3,""\r\n4,\r\n5,"with, comma"\r\n6,"with ""quote"""\r\n}),
    'CSV: the empty string is "", NULL is an empty unquoted field, , and " are quoted, " doubled');
is(show(csv_body('select=id,plot&id=in.(8,12)')),
    show(qq{id,plot\r\n8,"A love story\nin two lines."\r\n12,"carriage\rreturn inside"\r\n}),
    'CSV: fields with LF or CR are quoted, the LF/CR kept as they are');
is(show(csv_body('select=active,id&id=in.(1,3,7)')), show(qq{active,id\r\nt,1\r\nf,3\r\n,7\r\n}),
    'CSV: booleans are t and f, NULL empty');
is(show(csv_body('select=tags,info,period&id=eq.2')),
    show(qq{tags,info,period\r\n"{action,drama,""martial arts""}","{""cast"": [""Chow Yun-fat"", ""Michelle Yeoh""], ""runtime"": 120, ""director"": {""born"": 1954, ""name"": ""Ang Lee""}}","[1,5)"\r\n}),
    'CSV: arrays, jsonb and ranges in their PostgreSQL text form');
is(show(csv_body('select=id,"a.b,c:d(e)"&id=eq.2')), show(qq{id,"a.b,c:d(e)"\r\n2,x\r\n}), 'CSV: a header name with a comma is quoted');
my $csv_any = film('select=id&id=eq.1', Accept => 'text/csv, application/json');
ok(csv_ct($csv_any) && body_of($csv_any) eq "id\r\n1\r\n", 'Accept: text/csv, application/json: CSV (a tie goes to the first)');

# --- negotiation
ok(check_error(film('', Accept => 'application/xml'), 406, 'AR401'), 'Accept: application/xml: 406 AR401');
ok(check_error(film('', Accept => 'application/xml, image/png;q=0.9'), 406, 'AR401'), 'Accept: application/xml, image/png: 406 AR401 (text/html first is a page: 412_browsable.t)');
ok(check_error(film('', Accept => 'application/json;q=0'), 406, 'AR401'), 'Accept: application/json;q=0 (not acceptable): 406 AR401');
$r = film('limit=3', Accept => 'text/csv;q=0.5, application/json');
ok(ct_ok($r) && matches_sql($r, 'SELECT json_agg(f ORDER BY id) FROM (SELECT * FROM film ORDER BY id LIMIT 3) f'),
    'Accept: text/csv;q=0.5, application/json: JSON (higher q)');
$r = film('limit=3', Accept => 'application/json;q=0.5, text/csv');
ok(csv_ct($r), 'Accept: application/json;q=0.5, text/csv: CSV') or diag('Content-Type ' . ($r->header('Content-Type') // 'none'));
$r = film('limit=3', Accept => 'application/json, text/csv');
ok(ct_ok($r), 'Accept: application/json, text/csv: JSON (a tie goes to the first)');
$r = film('limit=3', Accept => 'application/xml, text/csv;q=0.1');
ok(csv_ct($r), 'Accept: application/xml, text/csv;q=0.1: CSV, the only one we make');
$r = film('id=eq.3', Accept => "application/json;q=0.2, $OBJ;q=0.9");
ok(obj_ct($r) && matches_sql($r, 'SELECT row_to_json(f) FROM film f WHERE id = 3'), 'q-values choose the object too');
$r = film('limit=3', Accept => 'TEXT/CSV');
ok(csv_ct($r), 'media types are case-insensitive');

# ------------------------------------------------------------------ Accept-Profile
my $thing = r(GET => '/api/thing', 'Accept-Profile' => 'other');
ok(matches_sql($thing, 'SELECT json_agg(t ORDER BY id) FROM other.thing t'), 'Accept-Profile: other: /api/thing is other.thing');
is($thing->header('Content-Profile') // 'none', 'other', 'Content-Profile: other');
ok(matches_sql(r(GET => '/api/thing?' . qenc('label=like.*thing&order=label.desc'), 'Accept-Profile' => 'other'),
    q{SELECT json_agg(t ORDER BY label DESC) FROM other.thing t WHERE label LIKE '%thing'}),
    'Accept-Profile: other, with a filter and an order');
ok(check_error(r(GET => '/api/thing'), 404, 'AR201'), 'without Accept-Profile: /api/thing is not in public: 404 AR201');
ok(check_error(r(GET => '/api/film', 'Accept-Profile' => 'other'), 404, 'AR201'),
    'Accept-Profile: other: /api/film is not in other: 404 AR201');
my $pub = r(GET => '/api/film?limit=2', 'Accept-Profile' => 'public');
ok(matches_sql($pub, 'SELECT json_agg(f ORDER BY id) FROM (SELECT * FROM film ORDER BY id LIMIT 2) f'),
    'Accept-Profile: public: the default behaviour');
is($pub->header('Content-Profile') // 'none', 'public', 'Content-Profile: public');
ok(check_error(r(GET => '/api/film', 'Accept-Profile' => 'nope'), 406, 'AR403'), 'Accept-Profile: nope: 406 AR403');
ok(check_error(r(GET => '/api/film', 'Accept-Profile' => 'private'), 406, 'AR403'),
    'Accept-Profile: private (a schema the Location does not serve): 406 AR403');
ok(check_error(r(GET => '/other/thing', 'Accept-Profile' => 'public'), 406, 'AR403'),
    '/other serves only other: Accept-Profile: public is 406 AR403');
ok(matches_sql(r(GET => '/other/thing', 'Accept-Profile' => 'other'), 'SELECT json_agg(t ORDER BY id) FROM other.thing t'),
    '/other/thing, Accept-Profile: other');

# --- nothing leaks
my @errors = grep { $_->code >= 400 } @collected;
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 14 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
