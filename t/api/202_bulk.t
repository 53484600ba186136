# 202_bulk.t: bulk inserts at /w (writes.bulk, writes.defaults; t/fixtures/90_writes.sql).
# 5,000 rows as JSON and as CSV (the first 1,000 go as one INSERT, the rest by COPY),
# values that COPY must escape (tab, backslash, CR, LF, quotes, non-ASCII, '' and NULL);
# a key that first appears in row 3,000 (the columns grow; the rows before it have no
# value for it: NULL, or the default with missing=default); a bad row at 4,500 (nothing
# written); bodies cut into many small chunks of a chunked request (pieces end inside
# strings, escapes, UTF-8 sequences and CSV quotes). The rows are made by psql
# (json_agg, COPY ... CSV HEADER of one generator query) and compared, after the
# request, with that same query by psql: nothing about the data is written here.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use IO::Socket::INET ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes ();

plan tests => 40;

sub q1 { psql(shift) }
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub post {
    my ($type, $body, @h) = @_;
    return req(POST => '/w/bulk', 'Content-Type' => $type, @h, Content => $body);
}

# gen(N): the rows 1..N as a query (columns id, name, score, ok, at of writes.bulk)
sub gen {
    my $n = shift;
    return qq{SELECT i::bigint AS id,
        CASE WHEN i % 97 = 0 THEN NULL
             WHEN i % 101 = 0 THEN ''
             WHEN i % 100 = 0 THEN E'tab\\there, back\\\\slash\\nnew "line" \\u00e9\\U0001F600 cr\\rlf\\r\\n ' || i
             WHEN i % 103 = 0 THEN E'\\\\N' || i
             ELSE 'n' || i END AS name,
        CASE WHEN i % 89 = 0 THEN NULL ELSE round(i * 1.25 - 3000, 2) END AS score,
        CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS ok,
        timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute 1.5 second' AS at
        FROM generate_series(1, $n) i};
}
sub json_of { my ($sql, $cols) = @_; $cols //= 'g';
    q1("SELECT json_agg($cols ORDER BY g.id) FROM ($sql) g") }
sub csv_of { my $sql = shift; q1("COPY ($sql ORDER BY 1) TO STDOUT WITH (FORMAT csv, HEADER)") . "\n" }
# same(SQL): writes.bulk holds exactly SQL's rows (no more, no fewer, each equal)
sub same {
    my ($sql, $name) = @_;
    my $d = q1("SELECT (SELECT count(*) FROM (TABLE writes.bulk EXCEPT ALL ($sql)) a) || ' ' ||
                       (SELECT count(*) FROM (($sql) EXCEPT ALL TABLE writes.bulk) b)");
    is($d, '0 0', $name) or diag("rows only in writes.bulk, rows only in the reference: $d");
}
sub bulk_count { q1('SELECT count(*) FROM writes.bulk') }

my $N = 5000;
my $G = gen($N);
# the values COPY's text format must escape: backslash, tab, CR, LF, in rows past 1,000
my $ESC = 'strpos(name, chr(92)) > 0 AND strpos(name, chr(9)) > 0 AND strpos(name, chr(13)) > 0 AND strpos(name, chr(10)) > 0';
die "the generator is not what this file expects\n"
    unless q1("SELECT count(*) FILTER (WHERE id > 1000 AND $ESC) FROM ($G) g") > 10;

# ------------------------------------------------------------------ JSON, 5,000 rows
psql('TRUNCATE writes.bulk');
my $json = json_of($G);
my $r = post('application/json', $json, Prefer => 'count=exact');
is($r->code . ' ' . hdr($r, 'Content-Range'), "201 */$N", "JSON, $N rows: 201, Content-Range */$N (the rows COPY took counted too)")
    or diag(body_of($r));
same($G, "JSON, $N rows: psql finds exactly the generated rows");
is(q1('SELECT count(*) || \' \' || sum(id) || \' \' || sum(score) FROM writes.bulk'),
   q1("SELECT count(*) || ' ' || sum(id) || ' ' || sum(score) FROM ($G) g"), 'JSON: count, sum(id), sum(score) as psql computes them');
is(q1("SELECT count(*) FROM writes.bulk WHERE id > 1000 AND $ESC"), q1("SELECT count(*) FROM ($G) g WHERE id > 1000 AND $ESC"),
   'JSON: as many rows past 1,000 (COPY) with backslash, tab, CR and LF in their name as the reference');

# ------------------------------------------------------------------ CSV, 5,000 rows
psql('TRUNCATE writes.bulk');
my $csv = csv_of($G);
$r = post('text/csv', $csv, Prefer => 'count=exact');
is($r->code . ' ' . hdr($r, 'Content-Range'), "201 */$N", "CSV, $N rows: 201, */$N") or diag(body_of($r));
same($G, "CSV, $N rows: psql finds exactly the generated rows (NULL as an empty field, '' as \"\")");
is(q1('SELECT count(*) FILTER (WHERE name IS NULL) || \' \' || count(*) FILTER (WHERE name = \'\') FROM writes.bulk'),
   q1("SELECT count(*) FILTER (WHERE name IS NULL) || ' ' || count(*) FILTER (WHERE name = '') FROM ($G) g"),
   'CSV: as many NULL and empty names as the reference');

# CRLF line ends and a header in another column order
psql('TRUNCATE writes.bulk');
my $csv2 = q1("COPY (SELECT at, ok, score, name, id FROM ($G) g ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)") . "\n";
$csv2 =~ s/\n(?=(?:[^"]*"[^"]*")*[^"]*\z)/\r\n/g;    # record ends only, not LF inside quotes
$r = post('text/csv', $csv2);
is($r->code, 201, 'CSV with CRLF line ends, columns in another order: 201') or diag(body_of($r));
same($G, 'CSV with CRLF, other order: the same rows');

# ------------------------------------------------------------------ a key first seen in row 3,000
psql('TRUNCATE writes.bulk');
my $late = q1("SELECT json_agg(CASE WHEN id < 3000 THEN json_build_object('id', id, 'name', name)
    ELSE json_build_object('id', id, 'name', name, 'score', score) END ORDER BY id) FROM ($G) g");
$r = post('application/json', $late);
is($r->code, 201, 'score first appears in row 3,000: 201') or diag(body_of($r));
same("SELECT id, name, CASE WHEN id < 3000 THEN NULL ELSE score END, NULL::boolean, NULL::timestamptz FROM ($G) g",
    'psql: rows before 3,000 have no score (NULL), those after have theirs');
is(q1('SELECT count(*) FROM writes.bulk WHERE id < 3000 AND score IS NOT NULL'), 0, 'psql: no row before 3,000 has a score');

# the same on a table whose column has a default: the rows before 3,000 went to
# PostgreSQL without label before it was seen, and took its default, where the
# union of the keys wants NULL; so that is refused, whole (the hint names columns=
# and missing=default), rather than answered differently by where batches end
psql('DELETE FROM writes.defaults WHERE id BETWEEN 1000001 AND 1005000');
my $dlate = q1(q{SELECT json_agg(CASE WHEN i < 3000 THEN json_build_object('id', 1000000 + i, 'n', i)
    ELSE json_build_object('id', 1000000 + i, 'n', i, 'label', 'L' || i) END ORDER BY i) FROM generate_series(1, 5000) i});
$r = req(POST => '/w/defaults', 'Content-Type' => 'application/json', Content => $dlate);
is($r->code, 400, 'writes.defaults, label (with a default) first in row 3,000: 400') or diag(body_of($r));
like(body_of($r), qr/"code":"AR115".*key 'label' first appears in row 3000.*columns=/s,
     '... AR115 naming the key and the row, the hint naming columns=');
is(q1(q{SELECT count(*) FROM writes.defaults WHERE id BETWEEN 1000001 AND 1005000}), 0,
   'psql: nothing written');
$r = req(POST => '/w/defaults?columns=id,n,label', 'Content-Type' => 'application/json', Content => $dlate);
is(q1(q{SELECT count(*) FILTER (WHERE label IS NULL) || ' of ' || count(*) FROM writes.defaults WHERE id BETWEEN 1000001 AND 1002999}),
   '2999 of 2999', 'with columns= naming it: every row before 3,000 has label NULL (its key is missing)');
psql('DELETE FROM writes.defaults WHERE id BETWEEN 1000001 AND 1005000');
$r = req(POST => '/w/defaults', 'Content-Type' => 'application/json', Prefer => 'missing=default', Content => $dlate);
is($r->code, 201, 'the same with missing=default: 201');
{
    my $dflt = q1(q{CREATE TEMP TABLE ref (LIKE writes.defaults INCLUDING DEFAULTS); INSERT INTO ref DEFAULT VALUES; SELECT label FROM ref});
    is(q1(qq{SELECT count(*) FILTER (WHERE label = '$dflt') || ' of ' || count(*) FROM writes.defaults WHERE id BETWEEN 1000001 AND 1002999}),
       '2999 of 2999', "psql: with missing=default every row before 3,000 has the default label ('$dflt')");
}
psql('DELETE FROM writes.defaults WHERE id BETWEEN 1000001 AND 1005000');

# ------------------------------------------------------------------ a bad row at 4,500
psql('TRUNCATE writes.bulk');
my %bad = (
    'a duplicate key'  => ["json_build_object('id', 10, 'name', 'dup')", 409, '23505'],
    'a bad numeric'    => ["json_build_object('id', id, 'score', 'lots')", 400, '22P02'],
    'a bad timestamp'  => ["json_build_object('id', id, 'at', '2024-13-45')", 400, '22008'],
    'an unknown key'   => ["json_build_object('id', id, 'bogus', 1)", 400, 'AR115'],
);
for my $what (sort keys %bad) {
    my ($obj, $status, $code) = @{ $bad{$what} };
    my $body = q1("SELECT json_agg(CASE WHEN id = 4500 THEN $obj ELSE json_build_object('id', id, 'name', name, 'score', score) END
        ORDER BY id) FROM ($G) g");
    $r = post('application/json', $body);
    if (defined $code) { ok(check_error($r, $status, $code), "JSON, $what in row 4,500: $status $code") }
    else { is($r->code, $status, "JSON, $what in row 4,500: $status") or diag(body_of($r)) }
    is(bulk_count(), 0, "psql: nothing written ($what)");
}
like(json_text(body_of(post('application/json', q1("SELECT json_agg(CASE WHEN id = 4500 THEN json_build_object('id', id, 'bogus', 1)
    ELSE json_build_object('id', id) END ORDER BY id) FROM ($G) g"))), 'AR115')->{message} // '', qr/\brow 4500\b/,
    'the unknown key\'s message names row 4500');
my $bad_csv = q1("COPY (SELECT id, name, CASE WHEN id = 4500 THEN 'lots' ELSE score::text END AS score FROM ($G) g ORDER BY id)
    TO STDOUT WITH (FORMAT csv, HEADER)") . "\n";
ok(check_error(post('text/csv', $bad_csv), 400, '22P02'), 'CSV, a bad numeric in row 4,500: 400 22P02');
is(bulk_count(), 0, 'psql: nothing written');
(my $short = $csv) =~ s/^(4502,[^\n"]*),[^,\n"]*\n/$1\n/m or die "no plain row 4502 in the CSV\n";
ok(check_error(post('text/csv', $short), 400, 'AR115'), 'CSV, row 4,502 has a field fewer: 400 AR115');
is(bulk_count(), 0, 'psql: nothing written');

# ------------------------------------------------------------------ chunked, in small pieces
# raw_chunked(PATH, TYPE, BODY): BODY sent as many chunks of 1 to 61 bytes, each its own
# write (TCP_NODELAY, a pause now and then, so they also arrive apart); the status line
# and the raw response.
sub raw_chunked {
    my ($path, $type, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => Apache::TestRequest::hostport(), Timeout => 60) or die "connect: $!";
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, "POST $path HTTP/1.1\r\nHost: localhost\r\nContent-Type: $type\r\nTransfer-Encoding: chunked\r\n"
        . "Connection: close\r\n\r\n");
    my ($i, $k, $seed) = (0, 0, 7);
    while ($i < length $body) {
        $seed = ($seed * 1103515245 + 12345) % 2147483648;
        my $c = substr($body, $i, 1 + $seed % 61);
        $i += length $c;
        syswrite($s, sprintf('%x', length $c) . "\r\n$c\r\n") or last;
        Time::HiRes::sleep(0.002) if ++$k % 400 == 0;
    }
    syswrite($s, "0\r\n\r\n");
    my $resp = '';
    while (sysread($s, my $buf, 65536)) { $resp .= $buf }
    close $s;
    return ($k, $resp);
}

my $G2 = gen(2500);
psql('TRUNCATE writes.bulk');
my ($pieces, $resp) = raw_chunked('/w/bulk', 'application/json', json_of($G2));
like($resp, qr{^HTTP/1\.1 201 }, "JSON of 2,500 rows in $pieces chunks: 201") or diag(substr($resp, 0, 400));
same($G2, 'psql: exactly the generated rows');
psql('TRUNCATE writes.bulk');
($pieces, $resp) = raw_chunked('/w/bulk', 'text/csv', csv_of($G2));
like($resp, qr{^HTTP/1\.1 201 }, "CSV of 2,500 rows in $pieces chunks: 201") or diag(substr($resp, 0, 400));
same($G2, 'psql: exactly the generated rows');
psql('TRUNCATE writes.bulk');
($pieces, $resp) = raw_chunked('/w/bulk?select=id,name', 'application/json', json_of(gen(300)));
my ($rbody) = $resp =~ /\r\n\r\n(.*)\z/s;
like($resp, qr{^HTTP/1\.1 201 }, "JSON of 300 rows in $pieces chunks, no Prefer: 201");
same(gen(300), 'psql: exactly those rows');

# through LWP: a body whose content is a code ref goes chunked
psql('TRUNCATE writes.bulk');
{
    my @parts = unpack('(a97)*', json_of($G2));
    $r = req(POST => '/w/bulk', 'Content-Type' => 'application/json', Content => sub { shift @parts // '' });
    is($r->code, 201, 'LWP, content from a code ref (chunked, 97-byte pieces): 201') or diag(body_of($r));
    same($G2, 'psql: exactly the generated rows');
}
psql('TRUNCATE writes.bulk');
is(q1(q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'autorest_web' AND state LIKE 'idle in transaction%'}), 0,
    'psql: no connection of autorest_web is idle in a transaction');
