package EmbedCheck;

# Helpers shared by the resource-embedding tests, t/api/160_embed.t and
# t/api/161_embed_filters.t, t/api/162_embed_views.t (schema embed, t/fixtures/80_embed.sql): GET /embed/REL
# with every response kept for the closing leak check, SQL builders for the expected
# value (one, many, rows: json_build_object / json_agg run by psql), the comparison of
# a response with that value where some arrays compare as multisets (same), and the
# check of an embedding error (embed_error). Built on ARTest.pm; `same` is an
# assertion (one Test::More ok) of its own.

use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use Test::More import => [qw(ok diag)];
use ARTest;

our @EXPORT = qw(get collected one many rows same embed_error);

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

# collected(): every response get() has returned so far, in order.
sub collected { @collected }

# get(REL, QUERY, HEADERS...): GET /embed/REL?QUERY
sub get {
    my ($rel, $query, @headers) = @_;
    return r(GET => "/embed/$rel" . (defined $query ? '?' . qenc($query) : ''), @headers);
}

# --- expected values, from PostgreSQL

# one(PAIRS, FROM): a to-one embed: json_build_object(PAIRS) of the row FROM finds, NULL when none.
sub one { "(SELECT json_build_object($_[0]) FROM $_[1])" }
# many(PAIRS, FROM[, ORDER]): a to-many embed: the rows FROM finds as an array (in ORDER), [] when none.
sub many {
    my $order = defined $_[2] ? " ORDER BY $_[2]" : '';
    return "(SELECT coalesce(json_agg(json_build_object($_[0])$order), '[]') FROM $_[1])";
}
# rows(PAIRS, FROM, ORDER): the response: one object per row, in ORDER.
sub rows { "SELECT coalesce(json_agg(json_build_object($_[0]) ORDER BY $_[2]), '[]') FROM $_[1]" }

# canon(T): a string for a tagged tree (see ARTest.pm), equal for equal trees: the sort key
# of multiset comparison.
my $ASCII = JSON::PP->new->ascii->allow_nonref;
sub canon {
    my $t = shift;
    my $k = $t->[0];
    return 'null' if $k eq 'null';
    return $t->[1] ? 'true' : 'false' if $k eq 'bool';
    return 'n' . $t->[1]->bstr if $k eq 'num';
    return $ASCII->encode($t->[1]) if $k eq 'str';
    return '[' . join(',', map { canon($_) } @{ $t->[1] }) . ']' if $k eq 'array';
    return '{' . join(',', map { $ASCII->encode($_) . ':' . canon($t->[1]{$_}) } sort keys %{ $t->[1] }) . '}';
}

# sort_at(T, KEY, KEY...): sort, by canon, the arrays reached by following KEYs from T;
# arrays on the way (the rows, the elements of an outer embed) are walked through.
sub sort_at {
    my ($t, @path) = @_;
    return if !defined $t || !@path;
    if ($t->[0] eq 'array') { sort_at($_, @path) for @{ $t->[1] }; return }
    return if $t->[0] ne 'object';
    my ($key, @rest) = @path;
    my $child = $t->[1]{$key};
    return if !defined $child;
    if (@rest) { sort_at($child, @rest); return }
    @{ $child->[1] } = sort { canon($a) cmp canon($b) } @{ $child->[1] } if $child->[0] eq 'array';
}

# json_ct(RES): the Content-Type RES must have: application/json, or PostgREST's object type
# when the request asked for it; charset=utf-8.
sub json_ct {
    my $res = shift;
    return ct_ok($res) if ($res->request->header('Accept') // '') !~ /vnd\.pgrst\.object/;
    return ($res->header('Content-Type') // '') =~ m{^application/vnd\.pgrst\.object\+json\s*;\s*charset="?utf-8"?\s*$}i;
}

# same(RES, SQL, [UNORDERED], NAME): RES is a 200 JSON response whose body equals, exactly,
# the one json value SQL returns; the arrays at the dotted paths UNORDERED (e.g. 'subsidies',
# 'projects.subsidies') are compared as multisets.
sub same {
    my ($res, $sql, $unordered, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;    # a failure names the caller's line
    my $what = $res->request->uri->path_query;
    my @why;
    if ($res->code != 200) {
        push @why, 'status ' . $res->code . ': ' . substr(body_of($res), 0, 300);
    }
    elsif (!json_ct($res)) {
        push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none');
    }
    else {
        my $got = tag_text(body_of($res), $what);
        my $exp = psql_json($sql);
        # deepest paths first, so that an outer array is sorted on sorted contents
        for my $p (sort { ($b =~ tr/.//) <=> ($a =~ tr/.//) } @{ $unordered // [] }) {
            sort_at($got, split /\./, $p);
            sort_at($exp, split /\./, $p);
        }
        my $d = diff_json($got, $exp);
        push @why, @$d[0 .. ($#$d > 19 ? 19 : $#$d)];
    }
    diag("$what: $_") for @why;
    ok(!@why, $name // $what);
}

# embed_error(RES, STATUS, NAMES...): that status, a JSON object body with a string "code"
# that is neither AR106 (embedding not served) nor AR101 (parameter refused), every one of
# NAMES in the body, nothing leaked.
sub embed_error {
    my ($res, $status, @names) = @_;
    my @why;
    push @why, 'status ' . $res->code . ", expected $status" if $res->code != $status;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none') unless ct_ok($res);
    my $body = body_of($res);
    my $j = json_text($body, 'error body');
    if (ref $j ne 'HASH') { push @why, 'body is not a JSON object' }
    elsif (!defined $j->{code} || ref $j->{code}) { push @why, 'no string "code" key' }
    elsif ($j->{code} eq 'AR106' || $j->{code} eq 'AR101') { push @why, "code $j->{code}" }
    for my $n (@names) {
        push @why, "body does not name $n" if index($body, $n) < 0;
    }
    my @l = leaks($body);
    push @why, "body leaks: @l" if @l;
    diag($res->request->uri->path_query . ": $_") for @why;
    return !@why;
}

1;
