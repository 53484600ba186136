#!/usr/bin/env bash
# t/shell/startup.sh: what Apache::Test cannot check from inside a running server:
# start-up refusals, directive validation, the prefork MPM, and a pool of one
# connection beside a client that reads slowly. TAP output.
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
           "AutoRestRequestSettings never" \
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

# 4. A read gives its pooled connection back before its answer goes out, so a
# client that does not read keeps no connection from the others (issue 16,
# point 3). One child of 8 threads with one connection (DBDMax 1), and send
# buffers of 4 KB (SendBufferSize): a client that asks for 40 rows of wide
# (about 480 KB) and reads nothing for 8 s keeps its thread writing; a read of
# another client then answers at once (had the writing thread kept the
# connection, that read would wait the 8 s), and the first client's page
# arrives whole once it reads.
PORT=$(port)
conf onepool event "${base[@]}" "SendBufferSize 4096" \
    "StartServers 1" "ServerLimit 1" "ThreadsPerChild 8" "ThreadLimit 8" "MaxRequestWorkers 8" \
    "MinSpareThreads 1" "MaxSpareThreads 8" \
    "DBDriver pgsql" "DBDParams \"host=$AR_PGHOST port=$AR_PGPORT dbname=autorest_test user=autorest_web\"" \
    "DBDMin 0" "DBDKeep 1" "DBDMax 1" \
    "<Location /api>" "SetHandler autorest" "AutoRestSchemas public" "</Location>"
/usr/sbin/apache2 -f "$dir/onepool.conf" -k start
ok $? "httpd starts with one child and one pooled connection"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$PORT/api
size=$(curl -s "$url/wide?order=id&limit=40" | wc -c)
# the slow client: a 4 KB receive buffer, 8 s before it reads; prints the bytes it got
perl -MSocket=PF_INET,SOCK_STREAM,SOL_SOCKET,SO_RCVBUF,inet_aton,pack_sockaddr_in -e '
    my ($port, $path) = @ARGV;
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!";
    connect($s, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!";
    syswrite($s, "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    sleep 8;
    my $all = "";
    while (sysread($s, my $buf, 65536)) { $all .= $buf }
    my ($status) = $all =~ m{\AHTTP/1\.1 (\d+)};
    my $body = $all =~ /\r\n\r\n(.*)\z/s ? $1 : "";
    print +($status // "none"), " ", length($body), "\n";
' "$PORT" "/api/wide?order=id&limit=40" >"$dir/onepool/slow.out" &
slow=$!
sleep 1.5
begun=$(date +%s%3N)
code=$(curl -s -m 20 -o "$dir/onepool/other.out" -w "%{http_code}" "$url/many?limit=3")
took=$(($(date +%s%3N) - begun))
echo "# a page of $size bytes; the other read took $took ms"
ok "$([ "$code" = 200 ] && echo 0 || echo 1)" "one connection: a read beside a client that does not read answers 200"
ok "$([ "$took" -lt 4000 ] && echo 0 || echo 1)" "one connection: and at once, not after that client (under 4 s)"
wait "$slow"
ok "$([ "$(cat "$dir/onepool/slow.out")" = "200 $size" ] && echo 0 || echo 1)" \
    "one connection: the slow client's page arrives whole once it reads ($(cat "$dir/onepool/slow.out"), $size bytes)"
/usr/sbin/apache2 -f "$dir/onepool.conf" -k stop
sleep 0.5
echo "1..$n"
[ $failed -eq 0 ]
