# 403_bearer.t: bearer JWTs without our own crypto (issue 13, point 3), on the bearer
# virtual host (t/conf/extra.conf.in, <VirtualHost bearer>; t/fixtures/96_roles.sql and
# 97_bearer.sql). mod_auth_openidc 2.4.12, in its OAuth 2.0 resource-server mode,
# verifies HS256 tokens (shared secret) and RS256 ones (t/conf/jwt/rs256.pub.pem);
# the module only takes the role from the role claim (AutoRestRole env OIDC_CLAIM_role)
# and the claims from the verified token (request.jwt.claims). Tokens are minted here:
# HS256 with Digest::SHA, RS256 with the openssl CLI and the test key t/conf/jwt/rs256.key.
# /bearer: a token is required and its aud must be "autorest" (Require claim aud:...);
# /bearer-optional: without a token, the anonymous role ar_anon; a token sent is checked.
# Asserted: each role reads exactly its own rows (RLS by current_user) with either
# algorithm; writes run as that role, RLS WITH CHECK refusing a row for another owner
# (403, nothing written); the database sees exactly the token's claims (whoami(), and
# rows kept apart by claims ->> 'sub' in memos). Expired, wrongly signed, altered,
# alg none, algorithm-confused, wrong- or no-audience, malformed and absent tokens are
# 401 with WWW-Authenticate: Bearer error=... and never reach PostgreSQL: every write
# that does leaves a row in bearer.log (the Location's AutoRestPreRequest), and those
# leave none, and write no memo. A role claim the connecting role cannot become is 403
# AR702; no role claim is 401 AR701 on /bearer and the anonymous role on /bearer-optional.
# Rows written here: project 9403 and memos whose body starts with this run's tag;
# both removed, with this run's rows of bearer.log.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA ();
use File::Temp ();
use IPC::Open2 ();
use JSON::PP ();
use MIME::Base64 ();
use ARTest;

plan tests => 69;

Apache::TestRequest::module('bearer');

# The shared secret of OIDCOAuthVerifySharedKeys in t/conf/extra.conf.in (test only).
my $SECRET = 'autorest-test-only-hs256-secret-0123456789';
# (not Apache::Test::vars('serverroot'): that call alone costs seconds)
my $KEYS = "$FindBin::Bin/../conf/jwt";
my $RSA = "$KEYS/rs256.key";
my $JSON = JSON::PP->new->utf8->canonical;
my $MINE = 9403;    # the project id this file writes
my $RUN = sprintf 't403-%d-%d', $$, time;    # a tag no earlier run used
my $NOW = time;

sub b64u { MIME::Base64::encode_base64url($_[0]) }
# rsa_sign(INPUT, PEM): the RS256 signature of INPUT (PKCS#1 v1.5, SHA-256) by openssl.
sub rsa_sign {
    my ($input, $pem) = @_;
    my $pid = IPC::Open2::open2(my $out, my $in, 'openssl', 'dgst', '-sha256', '-sign', $pem);
    binmode $_ for $in, $out;
    print $in $input;
    close $in;
    my $sig = do { local $/; <$out> };
    waitpid $pid, 0;
    die "openssl dgst -sign $pem failed\n" if $? || !length($sig // '');
    return $sig;
}
# jwt(ALG, CLAIMS, KEY [, HEADER_ALG]): a compact JWS of CLAIMS signed with ALG
# (HS256: KEY is the secret; RS256: KEY is a PEM file; none: no signature), whose
# header says HEADER_ALG (default ALG).
sub jwt {
    my ($alg, $claims, $key, $header_alg) = @_;
    my $input = b64u($JSON->encode({ alg => $header_alg // $alg, typ => 'JWT' })) . '.'
        . b64u($JSON->encode($claims));
    return "$input." if $alg eq 'none';
    return "$input." . b64u(Digest::SHA::hmac_sha256($input, $key)) if $alg eq 'HS256';
    return "$input." . b64u(rsa_sign($input, $key)) if $alg eq 'RS256';
    die "jwt: unknown alg $alg";
}
# claims(NAME => VALUE, ...): a token's claims: aud autorest, issued now, expiring in
# 10 minutes, a jti of this run (the key to its bearer.log rows), then the arguments;
# a NAME given undef is left out.
my $N = 0;
sub claims {
    my %c = (aud => 'autorest', iat => $NOW, exp => $NOW + 600, jti => "$RUN-" . ++$N, @_);
    delete @c{ grep { !defined $c{$_} } keys %c };
    return \%c;
}
sub hs { jwt('HS256', claims(@_), $SECRET) }
sub rs { jwt('RS256', claims(@_), $RSA) }
sub bearer { ('Authorization' => "Bearer $_[0]") }
# jti_of(TOKEN): the jti of TOKEN's payload, read without checking anything; 'none'
# when it has none
sub jti_of {
    my ($payload) = $_[0] =~ /^[^.]*\.([^.]*)/ or return 'none';
    my $c = eval { $JSON->decode(MIME::Base64::decode_base64url($payload)) };
    return ref $c eq 'HASH' && defined $c->{jti} ? $c->{jti} : 'none';
}
sub hdr { my ($res, $h) = @_; my $v = join ', ', $res->header($h); length $v ? $v : 'none' }
sub post {
    my ($path, $body, @h) = @_;
    return req(POST => $path, 'Content-Type' => 'application/json', @h, Content => $JSON->encode($body));
}
# psql_row(SQL, ...): the values SQL, ... give, in one psql run (each a single value;
# psql, a process per call, is the slow part of this file)
sub psql_row {
    split /\x1f/, psql('SELECT concat_ws(chr(31), ' . join(', ', map { "coalesce(($_)::text, '')" } @_) . ')'), -1;
}
# is_json(RES, JSON_TEXT, NAME): RES is a 200 whose JSON body is exactly JSON_TEXT's value.
sub is_json {
    my ($res, $text, $name) = @_;
    my $d = $res->code == 200 ? diff_json(tag_text(body_of($res), $name), tag_text($text, 'psql'))
                              : ['status ' . $res->code . ' ' . body_of($res)];
    diag($_) for @$d[0 .. ($#$d > 9 ? 9 : $#$d)];
    ok(!@$d, $name);
}
sub agg { "SELECT coalesce(json_agg(t ORDER BY $_[1]), '[]') FROM ($_[0]) t" }
# bearer.log counts the writes that reached PostgreSQL (97_bearer.sql)
my $LOG_TOTAL = 'SELECT count(*) FROM bearer.log';
sub memos_with { "SELECT count(*) FROM secure.memos WHERE body = '$_[0]'" }

# a row an earlier, interrupted run may have left
psql("DELETE FROM secure.projects WHERE id IN ($MINE, $MINE + 1)");

# What PostgreSQL holds, as superuser: every expectation of the reads below.
my ($alice_n, $bob_n, $ALICE, $BOB20, $MEMOS_A, $MEMOS_B, $NOTICES) = psql_row(
    "SELECT count(*) FROM secure.projects WHERE owner = 'alice'",
    "SELECT count(*) FROM secure.projects WHERE owner = 'bob'",
    agg("SELECT * FROM secure.projects WHERE owner = 'alice'", 'id'),
    agg("SELECT * FROM secure.projects WHERE owner = 'bob' ORDER BY id DESC LIMIT 20", 'id DESC'),
    agg("SELECT * FROM secure.memos WHERE sub = 'alice'", 'id'),
    agg("SELECT * FROM secure.memos WHERE sub = 'bob'", 'id'),
    agg('SELECT * FROM secure.notices', 'id'));
ok($alice_n > 0 && $bob_n > 1000, "the fixture: alice has $alice_n projects, bob $bob_n");

# ------------------------------------------------------------------ the role claim is the role
my $r = req(GET => '/bearer/projects', bearer(hs(sub => 'alice', role => 'alice')));
is_json($r, $ALICE, 'HS256 token, role alice: exactly her projects');
$r = req(GET => '/bearer/projects?order=id.desc&limit=20', bearer(hs(sub => 'bob', role => 'bob')));
is_json($r, $BOB20, 'HS256 token, role bob: exactly his projects (the last 20)');
$r = req(GET => '/bearer/projects', bearer(rs(sub => 'alice', role => 'alice')));
is_json($r, $ALICE, 'RS256 token, role alice: exactly her projects');
$r = req(GET => '/bearer/projects?select=id&order=id', 'Prefer' => 'count=exact',
         bearer(rs(sub => 'bob', role => 'bob')));
is(hdr($r, 'Content-Range'), "0-999/$bob_n", "RS256 token, role bob: his $bob_n projects counted, no more");

# What the database is told: the role, the connecting role, REMOTE_USER (sub), and
# exactly the token's claims.
my $c = claims(sub => 'alice', role => 'alice', name => 'Alice A.', groups => ['x', 'y']);
is_deeply(whoami('/bearer', bearer(jwt('HS256', $c, $SECRET))), {
    current_user => 'alice', session_user => 'autorest_auth', user => 'alice',
    auth_type => 'oauth20', claims => $c, method => 'GET', path => '/bearer/rpc/whoami' },
    'whoami (HS256): role alice on autorest_auth, request.user = sub, request.jwt.claims = the token\'s');
$c = claims(sub => 'bob', role => 'bob', aud => ['other', 'autorest']);
is_deeply(whoami('/bearer', bearer(jwt('RS256', $c, $RSA))), {
    current_user => 'bob', session_user => 'autorest_auth', user => 'bob',
    auth_type => 'oauth20', claims => $c, method => 'GET', path => '/bearer/rpc/whoami' },
    'whoami (RS256, aud an array holding autorest): role bob, his claims');

# ------------------------------------------------------------------ writes under the token's role
my $alice = hs(sub => 'alice', role => 'alice');
$r = post('/bearer/projects', { id => $MINE + 1, owner => 'bob', name => "$RUN for bob" }, bearer($alice));
ok(check_error($r, 403, '42501'), 'POST as alice of a project owned by bob: 403 42501 (WITH CHECK)');
$r = post('/bearer/projects', { id => $MINE, name => "$RUN mine" }, bearer($alice),
          Prefer => 'return=representation');
is($r->code, 201, 'POST as alice of her own project: 201');
is_deeply(decode_body($r), [{ id => $MINE, owner => 'alice', name => "$RUN mine" }],
          '... the representation: owner alice (the default current_user)');
is(psql("SELECT string_agg(id || ' ' || owner, ',') FROM secure.projects WHERE id IN ($MINE, $MINE + 1)"),
   "$MINE alice", "... in the table: $MINE owned by alice, nothing of the refused one");
$r = req(GET => "/bearer/projects?id=eq.$MINE", bearer(rs(sub => 'bob', role => 'bob')));
is_json($r, '[]', '... which bob does not see');

# memos: everyone one role (ar_claims), rows kept apart by request.jwt.claims ->> 'sub'
$r = req(GET => '/bearer/memos?order=id', bearer(rs(sub => 'alice', role => 'ar_claims')));
is_json($r, $MEMOS_A, 'role ar_claims, sub alice (RS256): exactly her memos');
$r = req(GET => '/bearer/memos?order=id', bearer(hs(sub => 'bob', role => 'ar_claims')));
is_json($r, $MEMOS_B, 'role ar_claims, sub bob (HS256): exactly his memos');
my $alice_memo = rs(sub => 'alice', role => 'ar_claims');
my ($before) = psql_row($LOG_TOTAL);
$r = post('/bearer/memos', { body => "$RUN alice" }, bearer($alice_memo));
is($r->code, 201, 'POST of a memo as ar_claims, sub alice: 201');
my ($subs, $after, $row) = psql_row("SELECT string_agg(sub, ',') FROM secure.memos WHERE body = '$RUN alice'",
    $LOG_TOTAL, "SELECT string_agg(role || ' ' || path || ' ' || (claims ->> 'sub'), ',') FROM bearer.log
                 WHERE claims ->> 'jti' = '" . jti_of($alice_memo) . "'");
is($subs, 'alice', '... one memo, its sub alice, from the claims (the column default)');
# the control of every "never reached PostgreSQL" below: a write that does leaves a row
is($after - $before, 1, '... and the pre-request logged that one request');
is($row, 'ar_claims /bearer/memos alice', '... as ar_claims, on /bearer/memos, with the token\'s claims');
$r = post('/bearer/memos', { sub => 'bob', body => "$RUN forged" }, bearer($alice_memo));
ok(check_error($r, 403, '42501'), 'a memo for sub bob with alice\'s token: 403 42501 (WITH CHECK)');
# (and bearer.log's size before the probes below)
my ($forged, $total) = psql_row(memos_with("$RUN forged"), $LOG_TOTAL);
is($forged, 0, '... nothing written');

# ------------------------------------------------------------------ refused tokens
# A second RSA key, not the one the server trusts.
my $tmp = File::Temp->newdir;
system('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048',
       '-out', "$tmp/other.key", '-quiet') == 0 or die "openssl genpkey failed\n";
# probe(NAME, TOKEN [, ERROR]): TOKEN is refused by mod_auth_openidc with a Bearer
# challenge (error="invalid_token" unless ERROR). Each would be a valid memo for
# ar_claims, sub alice, but for what NAME says is wrong with it; whether a write
# with it reached PostgreSQL is asked after all of them, in one query (psql is the
# slow part of this file).
my @probes;
sub probe {
    my ($name, $token, $error) = @_;
    my $body = "$RUN probe " . ++$N;
    my $res = post('/bearer/memos', { body => $body }, $token eq '' ? () : bearer($token));
    $error //= 'invalid_token';
    ok($res->code == 401 && hdr($res, 'WWW-Authenticate') =~ /^Bearer error="\Q$error\E"/,
       "$name: 401, WWW-Authenticate: Bearer error=\"$error\"")
        or diag('got ' . $res->code . ', WWW-Authenticate: ' . hdr($res, 'WWW-Authenticate'));
    push @probes, [$name, jti_of($token), $body];
}
my %memo = (sub => 'alice', role => 'ar_claims');
probe('HS256, expired a minute ago', hs(%memo, iat => $NOW - 700, exp => $NOW - 60));
probe('RS256, expired a minute ago', rs(%memo, iat => $NOW - 700, exp => $NOW - 60));
probe('HS256 signed with another secret', jwt('HS256', claims(%memo), "$SECRET-not"));
probe('RS256 signed with another key', jwt('RS256', claims(%memo), "$tmp/other.key"));
# a valid token of bob's whose payload says alice: the signature no longer matches
my @parts = split /\./, hs(sub => 'bob', role => 'ar_claims');
$parts[1] = b64u($JSON->encode(claims(%memo)));
probe('HS256 with its payload altered', join '.', @parts);
@parts = split /\./, rs(sub => 'bob', role => 'ar_claims');
$parts[1] = b64u($JSON->encode(claims(%memo)));
probe('RS256 with its payload altered', join '.', @parts);
probe('alg none, no signature', jwt('none', claims(%memo)));
# HS256 keyed with the RSA public key the server holds: the classic confusion
my $pub = do { local (@ARGV, $/) = "$KEYS/rs256.pub.pem"; <> };
probe('HS256 keyed with the RS256 public key (algorithm confusion)', jwt('HS256', claims(%memo), $pub));
probe('RS256 header on an HS256 signature', jwt('HS256', claims(%memo), $SECRET, 'RS256'));
probe('valid HS256 signature, wrong audience', hs(%memo, aud => 'another-api'));
probe('valid RS256 signature, wrong audience', rs(%memo, aud => ['a', 'b']));
probe('valid HS256 signature, no audience', hs(%memo, aud => undef));
probe('malformed: not a JWT', 'not-a-jwt');
probe('malformed: three parts of garbage', 'e30.!!!.xyz');
probe('no token at all', '', 'invalid_request');
# Never reached PostgreSQL: no bearer.log row for its jti, no memo with its body
# (a write that does reach it leaves both, as shown above).
my ($now_total, @seen) = psql_row($LOG_TOTAL, map {
    "SELECT (SELECT count(*) FROM bearer.log WHERE claims ->> 'jti' = '$_->[1]') + ("
        . memos_with($_->[2]) . ')' } @probes);
is(shift @seen, 0, "$_->[0]: never reached PostgreSQL (no log row, no memo)") for @probes;
is($now_total, $total, '... and bearer.log has no row more than before them');

# the token as a query parameter is not taken (only the Authorization header is)
$r = req(GET => '/bearer/notices?access_token=' . hs(sub => 'alice', role => 'alice'));
ok($r->code == 401 && hdr($r, 'WWW-Authenticate') =~ /^Bearer error="invalid_request"/,
   'a valid token as ?access_token=: 401 invalid_request (OIDCOAuthAcceptTokenAs header)');

# ------------------------------------------------------------------ roles refused, or none
$r = post('/bearer/memos', { body => "$RUN outsider" }, bearer(hs(sub => 'alice', role => 'ar_outsider')));
ok(check_error($r, 403, 'AR702'), 'role claim ar_outsider (not grantable to autorest_auth): 403 AR702');
is(psql(memos_with("$RUN outsider")), 0, '... nothing written');
ok(check_error(req(GET => '/bearer/notices', bearer(rs(sub => 'carol', role => 'carol'))), 403, 'AR702'),
   'role claim carol (no such role): 403 AR702');
ok(check_error(req(GET => '/bearer/notices', bearer(hs(sub => 'alice', role => 'none'))), 403, 'AR702'),
   'role claim "none" (would be the connecting role): 403 AR702');
$r = req(GET => '/bearer/notices', bearer(hs(sub => 'alice')));
ok(check_error($r, 401, 'AR701'), 'a valid token without a role claim on /bearer: 401 AR701');
is(hdr($r, 'WWW-Authenticate'), 'Bearer', '... with WWW-Authenticate: Bearer');

# ------------------------------------------------------------------ token optional
my $w = whoami('/bearer-optional');
is("$w->{current_user}|$w->{user}|$w->{auth_type}|" . $JSON->encode($w->{claims} // {}),
   'ar_anon|||{"role":"ar_anon"}', '/bearer-optional without a token: ar_anon, no user');
$r = req(GET => '/bearer-optional/notices');
is_json($r, $NOTICES, '... notices readable');
$r = req(GET => '/bearer-optional/projects');
ok(check_error($r, 401, '42501'), '... projects 401 42501 (the anonymous role ran)');
is(hdr($r, 'WWW-Authenticate'), 'Bearer', '... with WWW-Authenticate: Bearer');
# (all but the one written above: $ALICE was read before)
$r = req(GET => "/bearer-optional/projects?id=neq.$MINE", bearer(rs(sub => 'alice', role => 'alice')));
is_json($r, $ALICE, '/bearer-optional with alice\'s token: her projects');
$c = claims(sub => 'alice');
$w = whoami('/bearer-optional', bearer(jwt('HS256', $c, $SECRET)));
is("$w->{current_user}|$w->{user}", 'ar_anon|alice',
   '/bearer-optional, a valid token without a role claim: ar_anon, request.user its sub');
is_deeply($w->{claims}, { %$c, role => 'ar_anon' }, '... its claims, and the role it ran as');
# a token sent must be valid: no falling back to the anonymous role
$r = req(GET => '/bearer-optional/notices', bearer(hs(sub => 'alice', role => 'alice', exp => $NOW - 60)));
ok($r->code == 401 && hdr($r, 'WWW-Authenticate') =~ /^Bearer error="invalid_token"/,
   '/bearer-optional with an expired token: 401 invalid_token, not anonymous');
$r = req(GET => '/bearer-optional/notices', bearer(jwt('HS256', claims(sub => 'alice'), "$SECRET-not")));
is($r->code, 401, '/bearer-optional with a forged token: 401');
$r = req(GET => '/bearer-optional/notices', bearer(hs(sub => 'alice', aud => 'another-api')));
ok($r->code == 401 && hdr($r, 'WWW-Authenticate') =~ /^Bearer error="invalid_token"/,
   '/bearer-optional with a token for another audience: 401 invalid_token');

# ------------------------------------------------------------------ cleanup
is(psql("DELETE FROM secure.projects WHERE id IN ($MINE, $MINE + 1);
          DELETE FROM secure.memos WHERE body LIKE '$RUN%';
          DELETE FROM bearer.log WHERE claims ->> 'jti' LIKE '$RUN-%';
          SELECT count(*) FROM secure.memos WHERE body LIKE '$RUN%'"), 0, 'cleanup: this run\'s rows removed');
