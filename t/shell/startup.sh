#!/usr/bin/env bash
# t/shell/startup.sh: what Apache::Test cannot check from inside a running server:
# start-up refusals, directive validation, and the prefork MPM. TAP output.
# Needs AR_MODULE and AR_PGHOST/AR_PGPORT (the fixtures database); run as the
# unprivileged user, in a scratch directory given as $1.
set -u
dir=$1
mods=/usr/lib/apache2/modules
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
port() { local p; for p in $(shuf -i 20000-32000 -n 50); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }; done; }

# conf NAME MPM EXTRA...: a minimal server config in $dir/NAME.conf.
conf() {
    local name=$1 mpm=$2; shift 2
    mkdir -p "$dir/$name"
    {
        echo "ServerRoot $dir/$name"
        echo "Listen 127.0.0.1:${PORT:-1}"
        echo "ServerName 127.0.0.1"
        echo "PidFile $dir/$name/httpd.pid"
        echo "ErrorLog $dir/$name/error_log"
        echo "DefaultRuntimeDir $dir/$name"
        echo "LoadModule mpm_${mpm}_module $mods/mod_mpm_${mpm}.so"
        echo "LoadModule authz_core_module $mods/mod_authz_core.so"
        printf '%s\n' "$@"
    } >"$dir/$name.conf"
}

# 1. Without mod_dbd the server refuses to start and says why.
PORT=$(port) conf nodbd event "LoadModule autorest_module $AR_MODULE"
/usr/sbin/apache2 -f "$dir/nodbd.conf" -k start >/dev/null 2>&1
rc=$?
ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "httpd refuses to start without mod_dbd"
grep -q "mod_autorest needs mod_dbd" "$dir/nodbd/error_log" 2>/dev/null
ok $? "the error log says mod_dbd is needed"
[ $rc -eq 0 ] && /usr/sbin/apache2 -f "$dir/nodbd.conf" -k stop

# 2. Bad directive values are refused at configuration time.
base=("LoadModule dbd_module $mods/mod_dbd.so" "LoadModule autorest_module $AR_MODULE")
for bad in "AutoRestMaxRows -1" "AutoRestMaxRows many" "AutoRestTimeout 1.5" \
           "AutoRestHide public.people" "AutoRestExclude people" "AutoRestSchemaMaxAge x" \
           "AutoRestPreparedStatements sometimes" "AutoRestSchemaNotify maybe" \
           "AutoRestSchemaNotify 'host=x nosuchoption=1'"; do
    conf bad event "${base[@]}" "<Location /api>" "SetHandler autorest" "$bad" "</Location>"
    out=$(/usr/sbin/apache2 -t -f "$dir/bad.conf" 2>&1)
    rc=$?
    ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "'$bad' is refused"
    echo "$out" | grep -q "${bad%% *}"
    ok $? "the refusal names ${bad%% *}"
done

# 3. The prefork MPM serves the same API (the suite itself runs under event).
PORT=$(port)
conf prefork prefork "${base[@]}" \
    "DBDriver pgsql" "DBDParams \"host=$AR_PGHOST port=$AR_PGPORT dbname=autorest_test user=autorest_web\"" \
    "StartServers 2" "MaxRequestWorkers 4" \
    "<Location /api>" "SetHandler autorest" "AutoRestMaxRows 7" "</Location>"
/usr/sbin/apache2 -f "$dir/prefork.conf" -k start
ok $? "httpd starts with prefork"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$PORT/api
body=$(curl -s "$url/many")
ok "$(echo "$body" | perl -MJSON::PP -e 'my $r = decode_json(join "", <>); exit(@$r == 7 ? 0 : 1)'; echo $?)" \
    "prefork: /api/many gives a capped page of 7 rows"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/")
ok "$([ "$code" = 200 ] && echo 0 || echo 1)" "prefork: the index answers 200"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/no_such_relation")
ok "$([ "$code" = 404 ] && echo 0 || echo 1)" "prefork: an unknown relation answers 404"
for _ in $(seq 40); do curl -s -o /dev/null "$url/many?limit=3" & done
wait
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/many?limit=3")
ok "$([ "$code" = 200 ] && echo 0 || echo 1)" "prefork: still answers after 40 concurrent requests"
/usr/sbin/apache2 -f "$dir/prefork.conf" -k stop
sleep 0.5
! grep -E 'Segmentation fault|exit signal' "$dir/prefork/error_log"
ok $? "prefork: no crash in the error log"

echo "1..$n"
[ $failed -eq 0 ]
