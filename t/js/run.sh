#!/usr/bin/env bash
# t/js/run.sh: the unmodified @supabase/postgrest-js client (npm) against the
# module in a standalone httpd (event MPM). TAP on stdout: node's, plus a
# "not ok" line for any failure outside the tests (npm, httpd, a crash).
# Needs AR_MODULE (the built .so) and AR_PGHOST/AR_PGPORT (the fixtures database,
# also read by the tests through psql as user postgres). Run as the unprivileged
# user with a scratch directory of its own as $1: everything, the npm cache and
# HOME included, is written below it; the source tree is only read.
set -u
dir=${1:?usage: t/js/run.sh SCRATCH_DIR}
dir=$(cd "$dir" && pwd) || exit 1
src=$(cd "$(dirname "$0")" && pwd)
mods=/usr/lib/apache2/modules
httpd=/usr/sbin/apache2
: "${AR_MODULE:?}" "${AR_PGHOST:?}" "${AR_PGPORT:?}"

conf=$dir/httpd.conf
srv=$dir/httpd
started=0

stop_httpd() {
    [ $started -eq 1 ] || return 0
    started=0
    "$httpd" -f "$conf" -k stop >/dev/null 2>&1
    for _ in $(seq 100); do [ -f "$srv/httpd.pid" ] || break; sleep 0.1; done
}
trap stop_httpd EXIT

# fail WHAT [LOG]: a TAP failure for something outside the tests, the log's tail
# as TAP comments, and out.
fail() {
    echo "not ok - postgrest-js: $1"
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/# /'
    exit 1
}

port() { local p; for p in $(shuf -i 20000-32000 -n 50); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }; done; }

# 1. The client, from the lock file, in a copy of t/js.
for tool in node npm psql curl; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (node >= 18 and npm are needed)"
done
export HOME=$dir npm_config_cache=$dir/npm-cache npm_config_update_notifier=false
rm -rf "$dir/t" && mkdir -p "$dir/t/js"
cp "$src/package.json" "$src/package-lock.json" "$src"/*.mjs "$dir/t/js/" ||
    fail "copying t/js"
(cd "$dir/t/js" && npm ci --no-audit --no-fund) >"$dir/npm.log" 2>&1 ||
    fail "npm ci" "$dir/npm.log"
echo "# @supabase/postgrest-js $(cd "$dir/t/js" &&
    node -p 'require("./node_modules/@supabase/postgrest-js/package.json").version'), node $(node --version)"

# 2. A standalone httpd, event MPM, with the module on the fixtures database.
PORT=$(port)
[ -n "$PORT" ] || fail "no free port"
# a second port for the bearer-token virtual host (t/js/bearer.test.mjs)
BPORT=$PORT
for _ in 1 2 3 4 5; do [ "$BPORT" != "$PORT" ] && break; BPORT=$(port); done
[ -n "$BPORT" ] && [ "$BPORT" != "$PORT" ] || fail "no second free port"
# the HS256 secret mod_auth_openidc checks tokens with; test only, as the tests mint them
jwt_secret=autorest-test-only-hs256-secret-0123456789
rm -rf "$srv" && mkdir -p "$srv"
cat >"$conf" <<CONF
ServerRoot $srv
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
PidFile $srv/httpd.pid
ErrorLog $srv/error_log
LogLevel warn autorest:info
DefaultRuntimeDir $srv
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule auth_openidc_module $mods/mod_auth_openidc.so
LoadModule autorest_module $AR_MODULE
StartServers 2
ThreadsPerChild 10
MinSpareThreads 10
MaxSpareThreads 30
MaxRequestWorkers 40

DBDriver pgsql
DBDParams "host=$AR_PGHOST port=$AR_PGPORT dbname=autorest_test user=autorest_web"
DBDMin 0
DBDKeep 4
DBDMax 10
DBDExptime 30

<Location /api>
    SetHandler autorest
    AutoRestSchemas public other
</Location>

# schema writes, for t/js/writes.test.mjs (AR_BASE_URL with /api made /w)
<Location /w>
    SetHandler autorest
    AutoRestSchemas writes
    AutoRestMethods GET POST PATCH PUT DELETE
    AutoRestHide writes.items.secret
</Location>

# functions of schema calls under /rpc/, for t/js/calls.test.mjs (AR_BASE_URL with
# /api made /r); VOLATILE ones too
<Location /r>
    SetHandler autorest
    AutoRestSchemas calls
    AutoRestRPC all
    AutoRestHide calls.items.secret
    AutoRestExclude calls.excluded
</Location>

# Bearer JWTs (HS256) checked by mod_auth_openidc, their role claim the role, for
# t/js/bearer.test.mjs (AR_BEARER_URL): a server of its own, because mod_dbd's
# pool is per server and this one connects as autorest_auth, which may become
# the roles of schema secure (t/fixtures/96_roles.sql).
Listen 127.0.0.1:$BPORT
<VirtualHost 127.0.0.1:$BPORT>
    DBDriver pgsql
    DBDParams "host=$AR_PGHOST port=$AR_PGPORT dbname=autorest_test user=autorest_auth"
    DBDMin 0
    DBDKeep 2
    DBDMax 4
    DBDExptime 30
    OIDCCryptoPassphrase autorest-test-only-passphrase
    OIDCOAuthVerifySharedKeys plain##$jwt_secret
    OIDCOAuthRemoteUserClaim sub
    OIDCPassClaimsAs environment
    <Location /bearer>
        SetHandler autorest
        AutoRestSchemas secure
        AutoRestMethods GET POST
        AutoRestRPC read
        AuthType oauth20
        Require claim aud:autorest
        AutoRestRole env OIDC_CLAIM_role
    </Location>
</VirtualHost>
CONF
"$httpd" -f "$conf" -k start >"$dir/start.log" 2>&1 || fail "httpd start" "$dir/start.log"
started=1
base=http://127.0.0.1:$PORT/api
up=0
for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/")" = 200 ] && { up=1; break; }
    sleep 0.1
done
[ $up -eq 1 ] || fail "httpd does not answer 200 on $base/" "$srv/error_log"

# 3. The tests. The reporter's nested subtests are indented; top-level results
# start a line, one per test().
(cd "$dir" && AR_BASE_URL=$base AR_PGHOST=$AR_PGHOST AR_PGPORT=$AR_PGPORT \
    AR_BEARER_URL=http://127.0.0.1:$BPORT/bearer AR_JWT_SECRET=$jwt_secret \
    timeout 600 node --test --test-reporter=tap --test-timeout=60000 t/js/*.test.mjs)
rc=$?

# 4. Stop, and look for crashes.
stop_httpd
[ -f "$srv/httpd.pid" ] && fail "httpd did not stop" "$srv/error_log"
if grep -E 'Segmentation fault|Assertion .* failed|child pid [0-9]+ exit signal|AddressSanitizer|runtime error:' \
        "$srv/error_log" | sed 's/^/# /' | grep .; then
    fail "the httpd error log ($srv/error_log) shows a crash"
fi
if [ $rc -ne 0 ]; then
    echo "# node --test exited with $rc; the httpd error log says:"
    tail -n 40 "$srv/error_log" | sed 's/^/# /'
    exit 1
fi
exit 0
