#!/usr/bin/env bash
# t/shell/scaleout.sh: the module scaled out, all on loopback. TAP output.
#
#   client ── balancer httpd (mod_proxy_balancer, one port)
#               /api/ → balancer://reads  → node1:read,  node2:read
#               /rw/  → balancer://writes → node1:write, node2:write
#   node1, node2: httpd with the module, each with two virtual hosts (two
#     Listen ports), because mod_dbd keeps one pool per virtual host and a
#     Location cannot choose a pool:
#       read vhost,  <Location /api> read-only, DBDParams "host=127.0.0.1,127.0.0.1
#         port=REPLICA,PRIMARY target_session_attrs=prefer-standby": libpq connects to
#         the replica, and to the primary when the replica does not answer;
#       write vhost, <Location /rw> with AutoRestMethods, the same host list with
#         target_session_attrs=read-write: always the primary.
#     Both nodes share AutoRestCursorSecret, so a cursor from one is good on the other,
#     and listen for schema notices (AutoRestSchemaNotify On): the listener always
#     connects to the primary, where NOTIFY is heard.
#   PostgreSQL: a primary and a streaming replica made by pg_basebackup, the replica
#     synchronous (synchronous_standby_names), so that DDL committed with
#     synchronous_commit = remote_apply is visible on the replica before its notice
#     reaches the nodes.
#
# Needs AR_MODULE (the built .so) and AR_PGBIN (PostgreSQL's bin directory; the newest
# under /usr/lib/postgresql otherwise). Run as the unprivileged user with a scratch
# directory as $1: the clusters, configs and logs go below it, and everything started
# here is stopped at exit.
# shellcheck disable=SC2016 # the single-quoted $_ are perl's, evaluated by body()
set -u
dir=${1:?usage: t/shell/scaleout.sh SCRATCH_DIR}
dir=$(cd "$dir" && pwd) || exit 1
: "${AR_MODULE:?}"
pgbin=${AR_PGBIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
mods=/usr/lib/apache2/modules
httpd=/usr/sbin/apache2
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
# is GOT WANT TEXT: ok when equal, else says what came
is() { ok "$([ "$1" = "$2" ] && echo 0 || echo 1)" "$3"; [ "$1" = "$2" ] || echo "#   got '$1', want '$2'"; }
note() { echo "# $*"; }
# bail WHAT [LOG...]: a failure nothing below could pass; the logs' tails as comments
bail() {
    local what=$1; shift
    ok 1 "$what"
    [ $# -gt 0 ] && tail -n 20 "$@" 2>/dev/null | sed 's/^/# /'
    echo "1..$n"
    exit 1
}

# Free ports, each handed out once (nothing listens on them until the servers start).
used=" "
port() {
    local p
    for p in $(shuf -i 20000-32000 -n 50); do
        case $used in *" $p "*) continue ;; esac
        (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { used="$used$p "; echo "$p"; return; }
    done
}
listening() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# until_ok SECONDS CMD...: run CMD every 0.1 s until it succeeds or time is up
until_ok() {
    local end=$(($(now_ms) + $1 * 1000)); shift
    while :; do "$@" && return 0; [ "$(now_ms)" -ge $end ] && return 1; sleep 0.1; done
}

pport=$(port) rport=$(port)
n1r=$(port) n1w=$(port) n2r=$(port) n2w=$(port) lb=$(port)
primary=$dir/primary replica=$dir/replica

# ---------------------------------------------------------------- clean-up
httpds=()
stop_all() {
    local c pid
    for c in "${httpds[@]}"; do
        pid=$(cat "${c%.conf}/httpd.pid" 2>/dev/null) || continue
        "$httpd" -f "$c" -k stop >/dev/null 2>&1
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    for c in "$replica" "$primary"; do
        [ -f "$c/postmaster.pid" ] && "$pgbin/pg_ctl" -D "$c" -m immediate -w stop >/dev/null 2>&1
    done
    return 0
}
trap stop_all EXIT
trap 'exit 1' INT TERM HUP

# psql_on PORT SQL...: as the superuser, on the app database of that cluster
psql_on() { local p=$1; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$dir" -p "$p" -U postgres -d app "$@"; }

# -------------------------------------------------------------- PostgreSQL
# The primary, with the schema and data the replica then copies.
"$pgbin/initdb" -D "$primary" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -N \
    >"$dir/initdb.log" 2>&1 || bail "initdb" "$dir/initdb.log"
# initdb's pg_hba.conf already lets 127.0.0.1 connect for replication (trust).
"$pgbin/pg_ctl" -D "$primary" -l "$dir/primary.log" -w -t 30 \
    -o "-p $pport -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    bail "the primary starts" "$dir/primary.log"
psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$pport" -U postgres -d postgres \
    -c "CREATE DATABASE app" -c "CREATE ROLE autorest_web LOGIN" >/dev/null || bail "the database and role"
psql_on "$pport" >/dev/null <<'SQL' || bail "the schema"
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO items (name) SELECT 'item ' || i FROM generate_series(1, 50) i;
-- which server answered a read: the replica is in recovery, the primary is not
CREATE VIEW whoami AS SELECT pg_is_in_recovery() AS replica, inet_server_port() AS port;
-- a read that holds its pooled connection for 0.3 s: concurrent ones fill the pools
CREATE VIEW hold AS SELECT 1 AS held FROM pg_sleep(0.3);
GRANT SELECT, INSERT ON items TO autorest_web;
GRANT USAGE ON SEQUENCE items_id_seq TO autorest_web;
GRANT SELECT ON whoami, hold TO autorest_web;
-- README's "Schema changes": every DDL announces itself to the nodes
CREATE FUNCTION autorest_reload() RETURNS event_trigger LANGUAGE plpgsql AS
  $$ BEGIN NOTIFY autorest, 'reload schema'; END $$;
CREATE EVENT TRIGGER autorest_reload ON ddl_command_end EXECUTE FUNCTION autorest_reload();
SQL

# The replica: a base backup streaming from the primary under the name the primary's
# synchronous_standby_names gives.
"$pgbin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$replica" -X stream -c fast \
    >"$dir/basebackup.log" 2>&1 || bail "pg_basebackup" "$dir/basebackup.log"
touch "$replica/standby.signal"
echo "primary_conninfo = 'host=127.0.0.1 port=$pport user=postgres application_name=replica'" \
    >>"$replica/postgresql.auto.conf"
"$pgbin/pg_ctl" -D "$replica" -l "$dir/replica.log" -w -t 30 \
    -o "-p $rport -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    bail "the replica starts" "$dir/replica.log"
# Synchronous from now on (not before: the primary's writes above would have waited
# for a replica that did not exist yet).
psql_on "$pport" -c "ALTER SYSTEM SET synchronous_standby_names = 'replica'" \
    -c "SELECT pg_reload_conf()" >/dev/null
sync_state() { [ "$(psql_on "$pport" -c "SELECT sync_state FROM pg_stat_replication
                    WHERE application_name = 'replica' AND state = 'streaming'")" = sync ]; }
until_ok 15 sync_state
ok $? "the replica streams from the primary, synchronously"
is "$(psql_on "$rport" -c "SELECT pg_is_in_recovery()")" t "the replica is in recovery"

# ------------------------------------------------------------------- httpd
secret=scaleout-shared-cursor-secret-0123
# conf NAME LINES...: a minimal server config in $dir/NAME.conf, its files in $dir/NAME
conf() {
    local name=$1; shift
    mkdir -p "$dir/$name"
    {
        echo "ServerRoot $dir/$name"
        echo "ServerName 127.0.0.1"
        echo "PidFile $dir/$name/httpd.pid"
        echo "ErrorLog $dir/$name/error_log"
        echo "DefaultRuntimeDir $dir/$name"
        echo "LoadModule mpm_event_module $mods/mod_mpm_event.so"
        echo "LoadModule authz_core_module $mods/mod_authz_core.so"
        # the user agent tells the requests of one check apart in the access logs
        echo "LogFormat \"%h \\\"%r\\\" %>s \\\"%{User-Agent}i\\\"\" scaleout"
        echo "CustomLog $dir/$name/access_log scaleout"
        printf '%s\n' "$@"
    } >"$dir/$name.conf"
    httpds+=("$dir/$name.conf")
}
hosts="host=127.0.0.1,127.0.0.1 port=$rport,$pport dbname=app user=autorest_web"
# node NAME READPORT WRITEPORT: an httpd with the module. One child of 4 threads and
# at most 2 pooled connections per virtual host, so the pooled connections to the
# replica are few and known: 1 child x DBDMax 2 x 2 nodes = 4. Each pool names itself
# in pg_stat_activity (application_name autorest-NODE-read or -write).
node() {
    conf "$1" "Listen 127.0.0.1:$2" "Listen 127.0.0.1:$3" \
        "StartServers 1" "ServerLimit 1" "ThreadLimit 4" "ThreadsPerChild 4" \
        "MaxRequestWorkers 4" "MinSpareThreads 1" "MaxSpareThreads 8" \
        "LoadModule dbd_module $mods/mod_dbd.so" "LoadModule autorest_module $AR_MODULE" \
        "DBDriver pgsql" "DBDMin 0" "DBDKeep 2" "DBDMax 2" \
        "<VirtualHost 127.0.0.1:$2>" \
        "  DBDParams \"$hosts target_session_attrs=prefer-standby application_name=autorest-$1-read\"" \
        "  <Location /api>" "    SetHandler autorest" "    AutoRestCursorSecret $secret" \
        "    AutoRestSchemaNotify On" "    AutoRestSchemaMaxAge 0" "  </Location>" \
        "  # the same relations, cursors signed with another key" \
        "  <Location /foreign>" "    SetHandler autorest" \
        "    AutoRestCursorSecret another-secret-not-shared-9876" "  </Location>" \
        "</VirtualHost>" \
        "<VirtualHost 127.0.0.1:$3>" \
        "  DBDParams \"$hosts target_session_attrs=read-write application_name=autorest-$1-write\"" \
        "  <Location /rw>" "    SetHandler autorest" "    AutoRestMethods GET POST PATCH DELETE" \
        "    AutoRestCursorSecret $secret" \
        "    AutoRestSchemaNotify On" "    AutoRestSchemaMaxAge 0" "  </Location>" \
        "</VirtualHost>"
}
node node1 "$n1r" "$n1w"
node node2 "$n2r" "$n2w"
conf balancer "Listen 127.0.0.1:$lb" \
    "StartServers 1" "ServerLimit 1" "ThreadsPerChild 16" "MaxRequestWorkers 16" \
    "MinSpareThreads 1" "MaxSpareThreads 32" \
    "LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so" \
    "LoadModule proxy_module $mods/mod_proxy.so" \
    "LoadModule proxy_http_module $mods/mod_proxy_http.so" \
    "LoadModule proxy_balancer_module $mods/mod_proxy_balancer.so" \
    "LoadModule lbmethod_byrequests_module $mods/mod_lbmethod_byrequests.so" \
    "<Proxy balancer://reads>" "  BalancerMember http://127.0.0.1:$n1r" \
    "  BalancerMember http://127.0.0.1:$n2r" "  ProxySet lbmethod=byrequests" "</Proxy>" \
    "<Proxy balancer://writes>" "  BalancerMember http://127.0.0.1:$n1w" \
    "  BalancerMember http://127.0.0.1:$n2w" "  ProxySet lbmethod=byrequests" "</Proxy>" \
    "ProxyPass /api/ balancer://reads/api/" "ProxyPass /rw/ balancer://writes/rw/"

started=0
for c in "${httpds[@]}"; do "$httpd" -f "$c" -k start 2>>"$dir/start.log" && started=$((started + 1)); done
all_listening() { local p; for p in "$n1r" "$n1w" "$n2r" "$n2w" "$lb"; do listening "$p" || return 1; done; }
if [ $started -ne 3 ] || ! until_ok 10 all_listening; then
    bail "two nodes and the balancer start" "$dir/start.log" "$dir"/*/error_log
fi
ok 0 "two nodes and the balancer start"

B=http://127.0.0.1:$lb
# req METHOD URL [CURL ARGS...]: the status; the body in $dir/body, headers in $dir/headers
req() {
    local m=$1 u=$2; shift 2
    rm -f "$dir/body" "$dir/headers"
    curl -s --max-time 10 -X "$m" -o "$dir/body" -D "$dir/headers" -w '%{http_code}' "$@" "$u"
}
# body PERL: evaluates PERL with $_ the decoded JSON of the last body ('' if not JSON)
body() { perl -MJSON::PP -e 'local $/; my $t = <STDIN>; $_ = eval { decode_json($t) };
                             defined $_ or exit 1; print eval $ARGV[0]' "$1" <"$dir/body"; }

# ------------------------------------------------------------------ reads
# Through the balancer, reads answer from the replica.
answers=""
for _ in 1 2 3 4 5 6; do
    code=$(req GET "$B/api/whoami" -A "spread-check")
    answers="$answers$code:$(body '($_->[0]{replica} ? "replica" : "primary") . "@" . $_->[0]{port}') "
done
is "$answers" "$(printf "200:replica@$rport %.0s" 1 2 3 4 5 6)" "six reads through the balancer are answered by the replica"
# ... and were spread over both nodes
c1=$(grep -c '"spread-check"' "$dir/node1/access_log" 2>/dev/null)
c2=$(grep -c '"spread-check"' "$dir/node2/access_log" 2>/dev/null)
ok "$([ "${c1:-0}" -ge 1 ] && [ "${c2:-0}" -ge 1 ] && echo 0 || echo 1)" \
    "the balancer spread them over both nodes (node1 ${c1:-0}, node2 ${c2:-0})"

# A write through the read-only Location: 405, a JSON error.
code=$(req POST "$B/api/items" -H 'Content-Type: application/json' -d '{"name":"nope"}')
is "$code:$(body '$_->{code}')" "405:AR301" "POST through the read-only /api is 405 with a JSON error (code AR301)"
is "$(psql_on "$pport" -c "SELECT count(*) FROM items WHERE name = 'nope'")" 0 "... and wrote nothing"

# ------------------------------------------------------------------ writes
# Two posts, so the round robin takes each node's write host once.
codes=""
for who in via-a via-b; do
    code=$(req POST "$B/rw/items" -H 'Content-Type: application/json' -d "{\"name\":\"$who\"}")
    codes="$codes$code "
done
is "$codes" "201 201 " "two POSTs through the balancer's write path are 201"
c1=$(grep -c '"POST /rw/items ' "$dir/node1/access_log")
c2=$(grep -c '"POST /rw/items ' "$dir/node2/access_log")
is "$c1 $c2" "1 1" "... one through each node"
is "$(psql_on "$pport" -c "SELECT string_agg(name, ',' ORDER BY id) FROM items WHERE name LIKE 'via-%'")" \
    "via-a,via-b" "... and their rows are on the primary"
code=$(req GET "$B/rw/whoami")
is "$code:$(body '$_->[0]{replica} ? "replica" : "primary"')" "200:primary" "the write path's connection is to the primary"
# Synchronous commit waits for the replica's flush, not its replay: poll a moment.
replayed() { [ "$(req GET "$B/api/items?name=like.via-*&select=name&order=id")" = 200 ] &&
             [ "$(body 'join ",", map { $_->{name} } @$_')" = "via-a,via-b" ]; }
until_ok 5 replayed
ok $? "the written rows come back through the read path (from the replica)"

# ----------------------------------------------------------------- cursors
code=$(req GET "http://127.0.0.1:$n1r/api/items?order=id&limit=10&select=id")
next=$(sed -n 's/.*<\([^>]*\)>; rel="next".*/\1/p' "$dir/headers" | tr -d '\r')
ok "$([ "$code" = 200 ] && case $next in *cursor=*) true ;; *) false ;; esac && echo 0 || echo 1)" \
    "node1 gives a keyset cursor in its next link"
note "next: $next"
code=$(req GET "http://127.0.0.1:$n2r$next")
is "$code:$(body 'ref $_ eq "ARRAY" ? join ",", map { $_->{id} } @$_ : $_->{code}')" "200:11,12,13,14,15,16,17,18,19,20" \
    "node2 takes node1's cursor: the next ten rows"
# A cursor altered in its signature is refused: one character of the MAC changed, the
# fourth (the last one's low bits are padding, which a decoder may ignore).
mac=${next##*.}
bad=${next%.*}.${mac:0:3}$([ "${mac:3:1}" = A ] && echo B || echo A)${mac:4}
code=$(req GET "http://127.0.0.1:$n2r$bad")
is "$code:$(body '$_->{code}')" "400:AR112" "an altered cursor is 400 AR112"
# One signed with another key: good where it was made, refused where the key differs.
req GET "http://127.0.0.1:$n1r/foreign/items?order=id&limit=10&select=id" >/dev/null
fnext=$(sed -n 's/.*<\([^>]*\)>; rel="next".*/\1/p' "$dir/headers" | tr -d '\r')
code=$(req GET "http://127.0.0.1:$n1r$fnext")
is "$code:$(body '$_->[0]{id}')" "200:11" "a cursor signed with another key is good on its own Location"
code=$(req GET "http://127.0.0.1:$n2r/api/items?${fnext#*\?}")
is "$code:$(body '$_->{code}')" "400:AR112" "... and 400 AR112 on node2's /api, whose key differs"

# ------------------------------------------------------------ schema change
# Each node's schema listener is on the primary (NOTIFY is heard only there).
listeners() { psql_on "$1" -c "SELECT count(*) FROM pg_stat_activity
                               WHERE application_name = 'mod_autorest schema listener'"; }
two_listeners() { [ "$(listeners "$pport")" = 2 ]; }
until_ok 5 two_listeners
ok $? "one schema listener per node, on the primary"
is "$(listeners "$rport")" 0 "none on the replica"
# tag_codes: the status of select=tag, four requests to each read and write host of
# both nodes, one after the other. The schema snapshot belongs to the child (its
# threads share it), and each node runs one child.
tag_codes() {
    local p args=()
    for p in "$n1r/api" "$n2r/api" "$n1w/rw" "$n2w/rw"; do
        args+=(-o /dev/null "http://127.0.0.1:$p/items?id=eq.1&select=id,tag")
        args+=(-o /dev/null "http://127.0.0.1:$p/items?id=eq.2&select=id,tag")
        args+=(-o /dev/null "http://127.0.0.1:$p/items?id=eq.3&select=id,tag")
        args+=(-o /dev/null "http://127.0.0.1:$p/items?id=eq.4&select=id,tag")
    done
    curl -s --max-time 5 -w '%{http_code} ' "${args[@]}"
}
polls=0
tag_everywhere() { polls=$((polls + 1)); [ "$(tag_codes)" = "$(printf "$1 %.0s" $(seq 16))" ]; }
tag_everywhere 400
ok $? "before the change, select=tag is 400 on both nodes"
# The DDL commits only once the replica has applied it (remote_apply), and its notice
# (the event trigger's NOTIFY, in the same transaction) is delivered only after that
# commit: a node that reloads on the notice reads the new catalogue from the replica too.
t0=$(now_ms)
psql_on "$pport" -c "SET synchronous_commit = remote_apply" \
    -c "ALTER TABLE items ADD COLUMN tag text NOT NULL DEFAULT 'new'" >/dev/null
t1=$(now_ms) polls=0
until_ok 2 tag_everywhere 200
ok $? "after ALTER TABLE (remote_apply) and its notice, both nodes serve the new column within 2 s"
note "the DDL took $((t1 - t0)) ms; $polls polls of both nodes in the $(($(now_ms) - t1)) ms after its commit"
code=$(req GET "http://127.0.0.1:$n2r/api/items?id=eq.1&select=id,tag")
is "$code:$(body '$_->[0]{tag}')" "200:new" "node2 reads the new column's value from the replica"

# --------------------------------------------------------- replica stopped
# Fill the read pools: more concurrent slow reads than connections on each node's
# read host open its DBDMax connections to the replica.
hold_burst() { # URL...: 4 slow reads on each, at once; their statuses into $dir/burst
    local u
    for u in "$@"; do
        for _ in 1 2 3 4; do
            curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$u/api/hold" >>"$dir/burst" &
        done
    done
    wait
}
hold_burst "http://127.0.0.1:$n1r" "http://127.0.0.1:$n2r"
# read_pools PORT: the read pools' connections to that server, per node
read_pools() { psql_on "$1" -c "SELECT string_agg(application_name || '=' || n, ' ' ORDER BY application_name)
    FROM (SELECT application_name, count(*) n FROM pg_stat_activity
          WHERE application_name LIKE 'autorest-%-read' GROUP BY 1) c"; }
pools=$(read_pools "$rport")
pooled=$(psql_on "$rport" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'autorest-%-read'")
note "the read pools' connections to the replica: $pools"
is "$pooled" 4 "the read pools hold 1 child x DBDMax 2 x 2 nodes = 4 connections to the replica"
"$pgbin/pg_ctl" -D "$replica" -m fast -w stop >/dev/null
ok $? "the replica stops"
# Without its synchronous standby every commit on the primary would wait forever.
psql_on "$pport" -c "ALTER SYSTEM SET synchronous_standby_names = ''" -c "SELECT pg_reload_conf()" >/dev/null
# Slow reads through the balancer, 8 at a time (4 per node), so that every pooled
# connection is taken, not just the one the pool hands back first.
: >"$dir/burst"
for _ in 1 2 3; do hold_burst "$B" "$B"; done
fails=$(grep -vc '^200$' "$dir/burst")
note "failed reads after the replica stopped: $fails of 24 ($(sort "$dir/burst" | uniq -c | tr -s ' \n' ' '))"
ok "$([ "$fails" -le "$pooled" ] && [ "$fails" -le 4 ] && echo 0 || echo 1)" \
    "at most one failed read per pooled connection ($fails <= $pooled)"
pools=$(read_pools "$pport")
note "the read pools' connections to the primary now: $pools"
case $pools in *autorest-node1-read=*autorest-node2-read=*) true ;; *) false ;; esac
ok $? "both nodes' read pools reconnected to the primary"
answers=""
for _ in 1 2 3 4; do
    code=$(req GET "$B/api/whoami")
    answers="$answers$code:$(body '($_->[0]{replica} ? "replica" : "primary") . "@" . $_->[0]{port}') "
done
is "$answers" "$(printf "200:primary@$pport %.0s" 1 2 3 4)" "then reads through the balancer are answered by the primary"
code=$(req POST "$B/rw/items" -H 'Content-Type: application/json' -d '{"name":"after"}' --max-time 5)
is "$code" 201 "writes still work without the replica"

# ------------------------------------------------------------------- logs
for s in node1 node2 balancer; do
    [ -f "$dir/$s/error_log" ] && ! grep -E 'Segmentation fault|exit signal' "$dir/$s/error_log"
    ok $? "$s: no crash in the error log"
done

echo "1..$n"
[ $failed -eq 0 ]
