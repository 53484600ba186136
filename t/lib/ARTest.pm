package ARTest;

# Helpers shared by t/api/*.t: requests, query encoding, exact JSON comparison,
# error-body checks, psql against the test database, Link/Content-Range parsing.
#
# Exact JSON comparison: decode with allow_bignum, then turn every value into a
# tagged tree ([num, BigFloat] [str, s] [bool, 0|1] [null] [array, [...]]
# [object, {...}]) *before* anything touches it, so a number 1 and a string "1"
# stay different and numbers compare with every digit.

use strict;
use warnings;

use B ();
use Exporter 'import';
use HTTP::Request ();
use JSON::PP ();
use Math::BigFloat ();
use Scalar::Util qw(blessed);
use Apache::TestRequest ();
use LWP::UserAgent ();
use File::Basename ();

our @EXPORT = qw(req body_of decode_body json_text tag_json tag_text diff_json
    psql psql_json check_error leak_free leaks top_keys links query_of
    api_base ct_ok matches_sql enc qenc log_mark log_since whoami one_child pg_server
    status_auto);

my $JSON = JSON::PP->new->utf8->allow_bignum->allow_nonref;

# req(METHOD, PATH, HEADER => VALUE, ..., [Content => BODY]): an HTTP::Response.
sub req {
    my ($method, $path, @args) = @_;
    my (@headers, $content);
    while (my ($k, $v) = splice @args, 0, 2) {
        if ($k eq 'Content') { $content = $v } else { push @headers, $k, $v }
    }
    my $ua = Apache::TestRequest::user_agent();
    my $url = Apache::TestRequest::resolve_url($path);
    my $r = HTTP::Request->new($method, $url, \@headers, $content);
    return $ua->request($r);
}

# one_child(): a GET (PATH, HEADER => VALUE, ...) whose requests all go on
# one kept-alive connection, so one child answers them all, from one schema
# snapshot: another child may still hold one from before an earlier file's
# DDL (until AutoRestSchemaMaxAge), and two answers compared must agree.
sub one_child {
    my $ua = LWP::UserAgent->new(keep_alive => 1);
    return sub { my ($path, @h) = @_; $ua->get(Apache::TestRequest::resolve_url($path), @h) };
}

# status_auto(): mod_status's ?auto form, the module's lines, as { key => value }.
sub status_auto {
    my %v;
    for (split /\n/, body_of(req(GET => '/server-status?auto'))) {
        $v{$1} = $2 if /^(AutoRest\w+): (.*)$/;
    }
    return \%v;
}

# enc(S): S percent-encoded but for the characters the grammar uses as they are.
sub enc {
    my $s = shift;
    $s =~ s/([^A-Za-z0-9\-_.~,:()*!'\/])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}
# qenc('a=op.v&b=...'): each name and value encoded (split at & and the first =).
sub qenc {
    return join '&', map { my ($k, $v) = split /=/, $_, 2; defined $v ? enc($k) . '=' . enc($v) : enc($k) }
        split /&/, shift;
}

# The body bytes (transfer/content encodings undone, no charset decoding).
sub body_of {
    my $res = shift;
    my $b = $res->decoded_content(charset => 'none');
    return defined $b ? $b : $res->content;
}

# Decode bytes as JSON; undef (and a diagnostic) when they are not JSON.
sub json_text {
    my ($bytes, $what) = @_;
    my $v = eval { $JSON->decode($bytes) };
    if ($@) {
        my $snip = substr($bytes // '', 0, 300);
        print STDERR "# not JSON ($what): $@# body: $snip\n";
        return undef;
    }
    return $v;
}

sub decode_body { my $res = shift; json_text(body_of($res), $res->request ? $res->request->uri : 'response') }

# Tag a decoded value (see the top of this file). Takes $_[0] by alias so the
# SV flags that tell a number from a string are looked at untouched.
sub tag_json {
    my $v = $_[0];
    return ['null'] unless defined $_[0];
    if (ref $_[0]) {
        return ['bool', $v ? 1 : 0] if JSON::PP::is_bool($v);
        if (blessed($v) && ($v->isa('Math::BigInt') || $v->isa('Math::BigFloat'))) {
            return ['num', Math::BigFloat->new($v->bstr)];
        }
        return ['array', [map { tag_json($_) } @$v]] if ref $v eq 'ARRAY';
        if (ref $v eq 'HASH') {
            my %h;
            $h{$_} = tag_json($v->{$_}) for keys %$v;
            return ['object', \%h];
        }
        die "tag_json: unexpected reference " . ref($v);
    }
    my $flags = B::svref_2object(\$_[0])->FLAGS;
    if (($flags & (B::SVf_IOK() | B::SVf_NOK())) && !($flags & B::SVf_POK())) {
        return ['num', Math::BigFloat->new("$v")];
    }
    return ['str', $v];
}

# Bytes of JSON text -> tagged tree (undef when not JSON).
sub tag_text {
    my ($bytes, $what) = @_;
    my $v = json_text($bytes, $what);
    return undef if !defined $v && ($bytes // '') !~ /^\s*null\s*$/;
    return tag_json($v);
}

sub _show {
    my $t = shift;
    return 'null' if $t->[0] eq 'null';
    return ($t->[1] ? 'true' : 'false') if $t->[0] eq 'bool';
    if ($t->[0] eq 'num') {
        my $s = $t->[1]->bstr;
        return 'number ' . (length $s > 40 ? $t->[1]->bsstr : $s);
    }
    if ($t->[0] eq 'str') {
        my $s = JSON::PP->new->ascii->allow_nonref->encode($t->[1]);
        return 'string ' . (length $s > 80 ? substr($s, 0, 77) . '...' : $s);
    }
    return $t->[0];
}

# diff_json(GOT, EXPECTED): differences between two tagged trees, as strings
# ("$.0.c_numeric: got string "NaN", expected number 1"); empty when identical.
sub diff_json {
    my ($got, $exp, $path, $out) = @_;
    $path //= '$';
    $out //= [];
    return $out if @$out >= 50;
    if (!defined $got || !defined $exp) {
        push @$out, "$path: " . (defined $got ? '' : 'got is not JSON ') .
            (defined $exp ? '' : 'expected is not JSON');
        return $out;
    }
    if ($got->[0] ne $exp->[0]) {
        push @$out, "$path: got " . _show($got) . ", expected " . _show($exp);
        return $out;
    }
    my $k = $got->[0];
    if ($k eq 'num') {
        push @$out, "$path: got " . _show($got) . ", expected " . _show($exp)
            if $got->[1]->bcmp($exp->[1]) != 0;
    }
    elsif ($k eq 'str') {
        push @$out, "$path: got " . _show($got) . ", expected " . _show($exp)
            if $got->[1] ne $exp->[1];
    }
    elsif ($k eq 'bool') {
        push @$out, "$path: got " . _show($got) . ", expected " . _show($exp)
            if $got->[1] != $exp->[1];
    }
    elsif ($k eq 'array') {
        my ($g, $e) = ($got->[1], $exp->[1]);
        push @$out, "$path: got " . scalar(@$g) . " elements, expected " . scalar(@$e)
            if @$g != @$e;
        my $n = @$g < @$e ? @$g : @$e;
        diff_json($g->[$_], $e->[$_], "$path.$_", $out) for 0 .. $n - 1;
    }
    elsif ($k eq 'object') {
        my ($g, $e) = ($got->[1], $exp->[1]);
        for my $key (sort keys %$e) {
            if (!exists $g->{$key}) { push @$out, "$path.$key: missing"; next }
            diff_json($g->{$key}, $e->{$key}, "$path.$key", $out);
        }
        for my $key (sort keys %$g) {
            push @$out, "$path.$key: unexpected key" unless exists $e->{$key};
        }
    }
    return $out;
}

# pg_server(): the PostgreSQL server's socket directory and port. AR_PGHOST and
# AR_PGPORT are what the module connects to; a run through a pooler (pgbouncer)
# names the server behind it in AR_PGSERVER_HOST and AR_PGSERVER_PORT.
sub pg_server {
    return ($ENV{AR_PGSERVER_HOST} // $ENV{AR_PGHOST} // '',
            $ENV{AR_PGSERVER_PORT} // $ENV{AR_PGPORT} // '');
}

# psql(SQL): the unaligned, tuples-only output of SQL run as postgres on the test db.
sub psql {
    my ($sql) = @_;
    local %ENV = %ENV;
    # the reference must be rendered with the server's defaults, as the module's session is
    delete @ENV{qw(PGOPTIONS PGTZ PGDATESTYLE PGSERVICE PGSERVICEFILE PGUSER
                   PGDATABASE PGPASSWORD PGHOST PGPORT PGSYSCONFDIR)};
    $ENV{PGCLIENTENCODING} = 'UTF8';
    $ENV{PGOPTIONS} = '-c client_min_messages=warning';    # no NOTICEs in the test output
    my $bin = ($ENV{AR_PGBIN} && -x "$ENV{AR_PGBIN}/psql") ? "$ENV{AR_PGBIN}/psql" : 'psql';
    # the server itself, also where the module reaches it through a pooler:
    # a reference query's temporary objects must not outlive its session
    my ($host, $port) = pg_server();
    my @cmd = ($bin, qw(-X -A -t -q -v ON_ERROR_STOP=1), '-h', $host, '-p', $port,
               '-U', 'postgres', '-d', 'autorest_test', '-c', $sql);
    open(my $fh, '-|', @cmd) or die "cannot run psql: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    die "psql failed (exit $?) on: $sql\n" if $?;
    $out //= '';
    $out =~ s/\n\z//;
    return $out;
}

# psql_json(SQL returning one json value): its tagged tree.
sub psql_json { tag_text(psql($_[0]), "psql: $_[0]") }

# matches_sql(RES, SQL): RES is a 200 whose JSON body equals, exactly, the one json
# value SQL returns (SQL typically json_agg(t ORDER BY ...) or row_to_json(t)).
sub matches_sql {
    my ($res, $sql) = @_;
    my $what = $res->request ? $res->request->uri->path_query : 'response';
    if ($res->code != 200) {
        print STDERR "# $what: status " . $res->code . "\n";
        return 0;
    }
    my $d = diff_json(tag_text(body_of($res), $what), psql_json($sql));
    print STDERR "# $what: $_\n" for @$d[0 .. ($#$d > 19 ? 19 : $#$d)];
    return !@$d;
}

# The strings no response body may contain.
sub leaks {
    my $body = shift // '';
    my @bad = ('SELECT', 'FROM ', 'host=', 'dbname', '/tmp');
    push @bad, $ENV{AR_PGHOST} if $ENV{AR_PGHOST};
    return grep { index($body, $_) >= 0 } @bad;
}

sub leak_free {
    my ($res) = @_;
    my @l = leaks(body_of($res));
    print STDERR "# body of " . $res->request->uri . " contains: @l\n" if @l;
    return !@l;
}

# Content-Type is application/json; charset=utf-8 (spacing and case forgiven).
sub ct_ok {
    my $ct = shift->header('Content-Type') // '';
    return $ct =~ m{^application/json\s*;\s*charset="?utf-8"?\s*$}i;
}

# check_error(RES, STATUS, CODE): the response is that error with a well-formed body:
# status, JSON Content-Type, exactly the keys code/message/details/hint, that code,
# a non-empty message, and nothing leaked. Prints why when it is not. Returns bool.
sub check_error {
    my ($res, $status, $code) = @_;
    my @why;
    my $what = $res->request ? $res->request->method . ' ' . $res->request->uri->path_query : '';
    push @why, "status " . $res->code . ", expected $status" if $res->code != $status;
    push @why, "Content-Type " . ($res->header('Content-Type') // 'none') unless ct_ok($res);
    my $body = body_of($res);
    my $j = eval { $JSON->decode($body) };
    if (ref $j ne 'HASH') {
        push @why, "body is not a JSON object: " . substr($body // '', 0, 200);
    }
    else {
        my @keys = sort keys %$j;
        push @why, "keys are (@keys), expected (code details hint message)"
            if "@keys" ne 'code details hint message';
        my $c = $j->{code};
        push @why, "code is " . (defined $c ? "'$c'" : 'null') . ", expected '$code'"
            if !defined $c || ref $c || $c ne $code;
        push @why, "message is not a non-empty string"
            if !defined $j->{message} || ref $j->{message} || $j->{message} eq '';
        for my $k (qw(details hint)) {
            push @why, "$k is neither null nor a string" if ref $j->{$k};
        }
    }
    my @l = leaks($body);
    push @why, "body leaks: @l" if @l;
    print STDERR "# $what: $_\n" for @why;
    return !@why;
}

# Keys of the top-level object (DEPTH 1: the body is an object) or of the first
# object of a top-level array (DEPTH 2), in the order they appear in the text.
sub top_keys {
    my ($text, $depth) = @_;
    $depth //= 2;
    my (@keys, @stack);
    my $expect_key = 0;
    my $n = length $text;
    for (my $i = 0; $i < $n; $i++) {
        my $c = substr($text, $i, 1);
        if ($c eq '"') {
            my $j = $i + 1;
            while ($j < $n) {
                my $d = substr($text, $j, 1);
                if ($d eq '\\') { $j += 2; next }
                last if $d eq '"';
                $j++;
            }
            if (@stack == $depth && $expect_key) {
                push @keys, $JSON->decode(substr($text, $i, $j - $i + 1));
                $expect_key = 0;
            }
            $i = $j;
        }
        elsif ($c eq '{' || $c eq '[') {
            push @stack, $c;
            $expect_key = 1 if @stack == $depth && $c eq '{';
        }
        elsif ($c eq '}' || $c eq ']') {
            return @keys if @stack == $depth;
            pop @stack;
        }
        elsif ($c eq ',' && @stack == $depth) {
            $expect_key = 1;
        }
    }
    return @keys;
}

# links(RES): { rel => 'path?query' } from the Link header(s).
sub links {
    my $res = shift;
    my $h = join ', ', $res->header('Link');
    my %l;
    while ($h =~ /<([^>]*)>\s*;\s*rel\s*=\s*"?([^",;\s]+)"?/g) {
        $l{$2} = $1;
    }
    return \%l;
}

# query_of('/p?a=1&b=2'): ('/p', {a => 1, b => 2})
sub query_of {
    my $u = shift // '';
    my ($p, $q) = split /\?/, $u, 2;
    my %h;
    for (split /&/, $q // '') {
        my ($k, $v) = split /=/, $_, 2;
        $h{$k} = $v;
    }
    return ($p, \%h);
}

# http://host:port of the test server, for clients that are not Apache::TestRequest's.
sub api_base { 'http://' . Apache::TestRequest::hostport() }

# The test server's error_log: t/logs beside t/lib. (Not Apache::Test::vars, which
# reads the whole configuration again, seconds per call.)
my $ERROR_LOG = File::Basename::dirname(__FILE__) . '/../logs/error_log';
# log_mark(): where the error_log ends now; log_since(MARK): what it gained since.
sub log_mark { -s $ERROR_LOG // 0 }
sub log_since {
    my $mark = shift;
    open my $fh, '<', $ERROR_LOG or return '';
    seek $fh, $mark, 0;
    local $/;
    return <$fh> // '';
}

# whoami(PATH, HEADERS...): the decoded answer of PATH/rpc/whoami (96_roles.sql), or {}
# (and why).
sub whoami {
    my ($path, @h) = @_;
    my $r = req(GET => "$path/rpc/whoami", @h);
    if ($r->code != 200) {
        print STDERR "# $path/rpc/whoami: status " . $r->code . ' ' . body_of($r) . "\n";
        return {};
    }
    return decode_body($r) || {};
}

1;
