# 50_types.t: type fidelity. /nocap/type_zoo must decode to exactly what
#   SELECT json_agg(t ORDER BY id) FROM type_zoo t
# gives (psql as postgres): same keys, numbers equal to the last digit (bignum),
# and strings, numbers, booleans and nulls never confused ("1" is not 1).
# One assertion per column (35, see t/fixtures/30_type_zoo.sql), then raw-text
# checks: bigint and 35-digit numeric verbatim, NaN/Infinity as strings.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

my $NCOLS = 35;    # columns of type_zoo
plan tests => $NCOLS + 22;

my $res = req(GET => '/nocap/type_zoo');
my $raw = body_of($res);
is($res->code, 200, 'GET /nocap/type_zoo is 200');
ok(ct_ok($res), 'Content-Type is application/json; charset=utf-8');

my $ref_text = psql('SELECT json_agg(t ORDER BY id) FROM type_zoo t');
my $exp = tag_text($ref_text, 'psql json_agg');
my $got = tag_text($raw, '/nocap/type_zoo');
ok(defined $got && $got->[0] eq 'array', 'the body is a JSON array (strict UTF-8 JSON)');
$got = ['array', []] unless defined $got && $got->[0] eq 'array';
die "reference query gave no rows\n" unless defined $exp && $exp->[0] eq 'array' && @{ $exp->[1] };

my @erows = @{ $exp->[1] };
my @grows = @{ $got->[1] };
my @cols = top_keys($ref_text);
is(scalar @cols, $NCOLS, "type_zoo has $NCOLS columns");
is(scalar @grows, scalar @erows, 'as many rows as the database has');
is(join(' ', top_keys($raw)), join(' ', @cols), 'keys in column order');

my $id_of = sub { my $r = shift; $r->[0] eq 'object' && $r->[1]{id} && $r->[1]{id}[0] eq 'num' ? $r->[1]{id}[1]->bstr : '?' };
is(join(',', map { $id_of->($_) } @grows), join(',', map { $id_of->($_) } @erows), 'rows in id order');

my $extra = 0;
for my $row (@grows) {
    next unless $row->[0] eq 'object';
    my %known = map { $_ => 1 } @cols;
    $extra += grep { !$known{$_} } keys %{ $row->[1] };
}
is($extra, 0, 'no keys that are not columns');

# --- one assertion per column, every row
my $types = psql_json(q{SELECT json_object_agg(attname, format_type(atttypid, atttypmod))
    FROM pg_attribute WHERE attrelid = 'type_zoo'::regclass AND attnum > 0 AND NOT attisdropped});
for my $col (@cols) {
    my @d;
    for my $i (0 .. $#erows) {
        my $e = $erows[$i];
        my $g = $grows[$i];
        my $where = "id=" . $id_of->($e) . " ($e->[1]{case_name}[1]).$col";
        if (!$g || $g->[0] ne 'object') { push @d, "$where: no such row"; next }
        if (!exists $g->[1]{$col}) { push @d, "$where: missing"; next }
        push @d, @{ diff_json($g->[1]{$col}, $e->[1]{$col}, $where) };
    }
    my $type = $types->[1]{$col} ? $types->[1]{$col}[1] : '?';
    is(scalar @d, 0, "type fidelity: $col ($type)") or diag(join "\n", @d);
}

# --- raw text: digits kept, special values as strings
like($raw, qr/"c_bigint"\s*:\s*9223372036854775807\s*[,}]/, 'bigint max appears verbatim, as a number');
like($raw, qr/"c_bigint"\s*:\s*-9223372036854775808\s*[,}]/, 'bigint min appears verbatim, as a number');
like($raw, qr/"c_numeric"\s*:\s*12345678901234567890\.123456789012345\s*[,}]/,
    'the 35-digit numeric appears verbatim, as a number');
like($raw, qr/"c_numeric"\s*:\s*1234567890123456789012345678901234567890\s*[,}]/,
    'a 40-digit integral numeric appears verbatim');
like($raw, qr/"c_numeric"\s*:\s*"NaN"/, 'numeric NaN is the string "NaN"');
like($raw, qr/"c_real"\s*:\s*"Infinity"/, 'real Infinity is the string "Infinity"');
like($raw, qr/"c_double"\s*:\s*"-Infinity"/, 'double -Infinity is the string "-Infinity"');
like($raw, qr/"c_double"\s*:\s*"NaN"/, 'double NaN is the string "NaN"');
like($raw, qr/"c_bool"\s*:\s*true\s*[,}]/, 'boolean is a JSON true');

my ($null_row) = grep { $id_of->($_) eq '4' } @grows;
my @not_null = $null_row ? grep { $_ ne 'id' && $_ ne 'case_name' && $null_row->[1]{$_}[0] ne 'null' } @cols : ('no row 4');
is("@not_null", '', 'the all-NULL row has null in every nullable column');

# --- single rows go through the same encoders
for my $id (2, 5, 7) {
    ok(matches_sql(req(GET => "/api/type_zoo/$id"), "SELECT row_to_json(t) FROM type_zoo t WHERE id = $id"),
        "/api/type_zoo/$id equals row_to_json");
}
# --- paged reads too (the encoder must not depend on the page)
my @paged;
for my $off (0, 3, 6) {
    my $p = tag_text(body_of(req(GET => "/api/type_zoo?limit=3&offset=$off")), "type_zoo offset $off");
    push @paged, @{ $p && $p->[0] eq 'array' ? $p->[1] : [] };
}
is(scalar(@{ diff_json(['array', \@paged], $exp) }), 0, 'pages of 3 concatenate to the reference');
