# 210_write_types.t: every type the read path renders survives a write. Each row of
# public.type_zoo (t/fixtures/30_type_zoo.sql) is read through GET /nocap/type_zoo and
# POSTed back, byte for byte as the read gave it, to /w/zoo (writes.zoo is LIKE
# type_zoo INCLUDING ALL, t/fixtures/90_writes.sql); psql then compares the two tables:
# json_agg of each (what a read of either would give) and the rows' text (t::text,
# PostgreSQL's own form, which also tells json null from SQL NULL and keeps array
# bounds). Then column by column (every row's value of one column in one POST, so a
# type that fails is named by its own assertion), and JSON strings into json/jsonb.
#
# What the read path's JSON cannot carry back (TODO, not failures): a json/jsonb value
# that is JSON null reads as null, which a write takes as SQL NULL (PostgREST does the
# same); white space around a json value ('  {...}  ', kept by the read) is not part of
# the value to a JSON parser, so it is dropped (as PostgreSQL's json_to_record drops
# it); an array's lower bounds ('[0:2]={1,2,3}') are not in its JSON ([1,2,3]), so it
# comes back with bounds from 1. All still read back the same JSON, which is asserted.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;
use JSON::PP ();

my $JSON = JSON::PP->new->utf8->allow_nonref;
sub q1 { psql(shift) }
sub qi { my $c = shift; '"' . ($c =~ s/"/""/gr) . '"' }

# --- the read, and its raw text cut into rows and (key, value) pairs
my $get = req(GET => '/nocap/type_zoo?order=id');
my $raw = body_of($get);
die "GET /nocap/type_zoo: " . $get->code . "\n" unless $get->code == 200;

# scan(\$S, POS): where the JSON value that starts at POS (after white space) ends
sub ws { my ($s, $p) = @_; $p++ while $p < length($$s) && substr($$s, $p, 1) =~ /[ \t\r\n]/; $p }
sub scan {
    my ($s, $p) = @_;
    $p = ws($s, $p);
    my $c = substr($$s, $p, 1);
    if ($c eq '"') {
        pos($$s) = $p;
        $$s =~ /\G"(?:[^"\\]|\\.)*"/gs or die "bad string at $p\n";
        return pos($$s);
    }
    if ($c eq '{' || $c eq '[') {
        my $close = $c eq '{' ? '}' : ']';
        $p = ws($s, $p + 1);
        return $p + 1 if substr($$s, $p, 1) eq $close;
        while (1) {
            if ($c eq '{') {
                $p = ws($s, scan($s, $p));
                die "expected : at $p\n" unless substr($$s, $p, 1) eq ':';
                $p++;
            }
            $p = ws($s, scan($s, $p));
            my $d = substr($$s, $p++, 1);
            return $p if $d eq $close;
            die "expected , at $p\n" unless $d eq ',';
        }
    }
    pos($$s) = $p;
    $$s =~ /\G[^,\]\}\s]+/g or die "bad value at $p\n";
    return pos($$s);
}
# parts(TEXT): a JSON array's elements or an object's [key, value], as their raw text
sub parts {
    my $s = shift;
    my $p = ws(\$s, 0);
    my $object = substr($s, $p, 1) eq '{';
    my @out;
    $p = ws(\$s, $p + 1);
    return () if substr($s, $p, 1) =~ /[\]\}]/;
    while (1) {
        my $k;
        if ($object) {
            my $e = scan(\$s, $p);
            $k = substr($s, $p, $e - $p);
            $p = ws(\$s, $e) + 1;    # past ':'
            $p = ws(\$s, $p);
        }
        my $e = scan(\$s, $p);
        push @out, $object ? [$k, substr($s, $p, $e - $p)] : substr($s, $p, $e - $p);
        $p = ws(\$s, $e);
        last if substr($s, $p++, 1) ne ',';
        $p = ws(\$s, $p);
    }
    return @out;
}

my @rows = parts($raw);                                # raw text of each row
my @fields = map { [parts($_)] } @rows;                # [[rawkey, rawvalue], ...] per row
my @ids = map { my ($id) = grep { $_->[0] eq '"id"' } @$_; $id->[1] } @fields;
my @cols = split /\n/, q1(q{SELECT attname FROM pg_attribute WHERE attrelid = 'public.type_zoo'::regclass
    AND attnum > 0 AND NOT attisdropped ORDER BY attnum});
my %type = map { split /\|/, $_, 2 } split /\n/, q1(q{SELECT attname || '|' || format_type(atttypid, atttypmod)
    FROM pg_attribute WHERE attrelid = 'public.type_zoo'::regclass AND attnum > 0 AND NOT attisdropped});
my @value_cols = grep { $_ ne 'id' && $_ ne 'case_name' } @cols;

# (column => [ids]): the values the read's JSON cannot carry back (see the top)
my %lossy;
for my $c (@value_cols) {
    my $q = qi($c);
    my @l;
    if ($type{$c} =~ /^jsonb?$/) {
        # JSON null; and white space around a json value, which JSON does not count as
        # part of the value (a body's parser drops it, as PostgreSQL's does)
        @l = split /\n/, q1("SELECT id FROM public.type_zoo WHERE $q IS NOT NULL AND (${q}::text = 'null'
            OR ${q}::text <> btrim(${q}::text, E' \\t\\n\\r')) ORDER BY id");
    }
    elsif ($type{$c} =~ /\[\]$/) {
        @l = split /\n/, q1("SELECT id FROM public.type_zoo WHERE $q IS NOT NULL AND array_ndims($q) > 0
            AND EXISTS (SELECT 1 FROM generate_series(1, array_ndims($q)) d WHERE array_lower($q, d) <> 1) ORDER BY id");
    }
    $lossy{$c} = \@l if @l;
}
my %lossy_row;
for my $c (keys %lossy) { $lossy_row{$_}{$c} = 1 for @{ $lossy{$c} } }

plan tests => 2 + 3 * @rows + 1 + 3 * @value_cols + scalar(keys %lossy) + 4;

is(scalar @rows, q1('SELECT count(*) FROM public.type_zoo'), 'the read gave every row of type_zoo');
is(join(' ', map { $JSON->decode($_->[0]) } @{ $fields[0] }), join(' ', @cols), 'with every column, in order');

# ------------------------------------------------------------------ rows, unchanged
psql('TRUNCATE writes.zoo');
for my $i (0 .. $#rows) {
    my $r = req(POST => '/w/zoo', 'Content-Type' => 'application/json', Prefer => 'return=minimal', Content => $rows[$i]);
    is($r->code, 201, "row id=$ids[$i]: POSTed back as the read gave it: 201") or diag(body_of($r));
}
my $d = diff_json(psql_json('SELECT json_agg(t ORDER BY id) FROM writes.zoo t'), psql_json('SELECT json_agg(t ORDER BY id) FROM public.type_zoo t'));
ok(!@$d, 'psql: json_agg(writes.zoo) is json_agg(public.type_zoo), every value') or diag(join "\n", @$d[0 .. ($#$d > 29 ? 29 : $#$d)]);
for my $id (@ids) {
    my $ref = q1("SELECT t::text FROM public.type_zoo t WHERE id = $id");
    my $got = q1("SELECT coalesce((SELECT t::text FROM writes.zoo t WHERE id = $id), '(no row)')");
    my @cl = sort keys %{ $lossy_row{$id} // {} };
    # the row's text, but for the columns that cannot come back
    my $mask = sub { my $tbl = shift;
        my $list = join ', ', map { $lossy_row{$id}{$_} ? 'NULL' : qi($_) } @cols;
        q1("SELECT coalesce((SELECT ROW($list)::text FROM $tbl WHERE id = $id), '(no row)')") };
    is($mask->('writes.zoo'), $mask->('public.type_zoo'),
        "psql: row id=$id: t::text the same" . (@cl ? " (but for @cl, below)" : ''));
    TODO: {
        local $TODO = @cl ? "the read's JSON cannot carry back @cl of row $id (see the top of this file)" : undef;
        is($got, $ref, "psql: row id=$id: t::text the same, every column");
    }
}

# ------------------------------------------------------------------ column by column
# Column k's rows get ids id + 1000 * k, so that one psql call per column compares them.
my $SEP = '<<AR-SEP>>';
for my $k (1 .. @value_cols) {
    my $c = $value_cols[$k - 1];
    my $off = 1000 * $k;
    my $body = '[' . join(',', map { my $f = $_;
        '{' . join(',', map { my $key = $JSON->decode($_->[0]);
                $key eq 'id' ? "$_->[0]:" . ($_->[1] + $off) : "$_->[0]:$_->[1]" }
            grep { my $key = $JSON->decode($_->[0]); $key eq 'id' || $key eq 'case_name' || $key eq $c } @$f) . '}'
    } @fields) . ']';
    my $r = req(POST => '/w/zoo', 'Content-Type' => 'application/json', Content => $body);
    is($r->code, 201, "$c ($type{$c}): every row's value POSTed back: 201") or diag(body_of($r));
    my $q = qi($c);
    my $lossy = "'{" . join(',', @{ $lossy{$c} // [] }) . "}'::int[]";
    my $w = "(SELECT id - $off AS id, $q FROM writes.zoo WHERE id > $off AND id < $off + 1000)";
    my $o = "(SELECT id, $q FROM public.type_zoo)";
    my $text = "SELECT string_agg(id || '=' || coalesce(${q}::text, '<NULL>'), ' | ' ORDER BY id) FROM %s t WHERE %s";
    my @v = split /\Q$SEP\E/, q1('SELECT ' . join " || '$SEP' || ", map { "coalesce(($_), '')" }
        "SELECT json_agg(json_build_object('id', id, 'v', $q) ORDER BY id)::text FROM $w t",
        "SELECT json_agg(json_build_object('id', id, 'v', $q) ORDER BY id)::text FROM $o t",
        sprintf($text, $w, "id <> ALL ($lossy)"), sprintf($text, $o, "id <> ALL ($lossy)"),
        sprintf($text, $w, "id = ANY ($lossy)"), sprintf($text, $o, "id = ANY ($lossy)")), -1;
    my $d = diff_json(tag_text($v[0], "$c written"), tag_text($v[1], "$c original"));
    ok(!@$d, "$c ($type{$c}): read back, the same JSON as the original") or diag(join "\n", @$d);
    is($v[2], $v[3], "$c ($type{$c}): PostgreSQL's text of every value the same" . ($lossy{$c} ? " (but rows @{ $lossy{$c} }, below)" : ''));
    if ($lossy{$c}) {
        TODO: {
            local $TODO = "the read's JSON cannot carry back $c of rows @{ $lossy{$c} } (see the top of this file)";
            is($v[4], $v[5], "$c, rows @{ $lossy{$c} }: the text the same");
        }
    }
}
psql('TRUNCATE writes.zoo');

# ------------------------------------------------------------------ JSON strings into json and jsonb
my $str = "a \"quoted\" string, \\ backslash, \x{e9}";
my $r = req(POST => '/w/zoo', 'Content-Type' => 'application/json',
    Content => JSON::PP->new->utf8->canonical->encode({id => 1, case_name => 'strings', c_json => $str, c_jsonb => $str}));
is($r->code, 201, 'a JSON string as the value of a json and a jsonb column: 201') or diag(body_of($r));
my $lit = q1(q{SELECT quote_literal(} . "convert_from(decode('" . unpack('H*', do { my $b = $str; utf8::encode($b); $b }) . "', 'hex'), 'UTF8')" . q{)});
is(q1("SELECT coalesce((SELECT (c_json::text = to_json(${lit}::text)::text)::text || ' ' || (c_jsonb = to_jsonb(${lit}::text))::text
        FROM writes.zoo WHERE id = 1), 'no row')"), 'true true', 'psql: both hold that JSON string (to_json / to_jsonb of the text)');
$r = req(POST => '/w/zoo', 'Content-Type' => 'application/json', Content => '{"id":2,"case_name":"s","c_json":"x","c_jsonb":""}');
is($r->code, 201, 'one-character and empty JSON strings: 201') or diag(body_of($r));
is(q1(q{SELECT coalesce((SELECT c_json::text || ' ' || c_jsonb::text FROM writes.zoo WHERE id = 2), 'no row')}), '"x" ""',
    'psql: json "x" and jsonb ""');
psql('TRUNCATE writes.zoo');
