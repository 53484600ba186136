# scripts/lib.sh: shared by scripts/test, scripts/demo and bench/run (sourced, not run).
# A private PostgreSQL cluster and an unprivileged user to run servers as:
# PostgreSQL and Apache::Test refuse to run as root.

AR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The packages a fresh Debian 12 needs to build, test, demo and bench.
AR_PACKAGES="apache2 apache2-dev libaprutil1-dbd-pgsql libjansson-dev libpq-dev
  postgresql postgresql-contrib libapache2-mod-perl2 libwww-perl autoconf automake libtool
  pkg-config make gcc clang libclang-rt-14-dev curl wrk libapache2-mod-auth-openidc openssl"

ar_die() { echo "error: $*" >&2; exit 1; }

# Install what is missing (as root), or say what to install.
ar_deps() {
    local missing=() p
    for p in $AR_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    # The postgrest-js test needs Node.js 18 or newer; the image may bring its own.
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        ar_die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure and build in the source tree (idempotent).
ar_build() {
    ( cd "$AR_TOP" &&
      { [ -x configure ] || autoreconf -fi >/dev/null; } &&
      { [ -f Makefile ] || ./configure --quiet; } &&
      make -s ) || ar_die "build failed"
}

ar_pgbin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$d/initdb" ] || ar_die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    echo "$d"
}

# The user servers run as: ourselves, or nobody when we are root.
ar_run_user() { if [ "$(id -u)" -eq 0 ]; then echo nobody; else id -un; fi; }

# ar_as CMD...: run a command as the run user.
ar_as() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1, below Linux's ephemeral range (32768-60999):
# there an outgoing connection's local port can hold the address while
# nothing listens, so a connect test passes and the server's bind fails.
ar_free_port() {
    local port
    for port in $(shuf -i 20000-32000 -n 50); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null || { echo "$port"; return; }
    done
    ar_die "no free port"
}

# ar_pg_start DIR PORT: a private cluster in DIR/pgdata, socket in DIR, listening on
# 127.0.0.1:PORT, trust authentication, owned by the run user. Exports AR_PGHOST,
# AR_PGPORT, AR_PGDATA, AR_PGBIN for the tests.
ar_pg_start() {
    local dir=$1 port=$2 bin
    bin=$(ar_pgbin)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$(ar_run_user)" "$dir"
    # (cd "$dir" && ...): the unprivileged user may not be able to enter the caller's directory.
    if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
        (cd "$dir" && ar_as "$bin/initdb" -D "$dir/pgdata" -A trust -U postgres -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) ||
            { cat "$dir/initdb.log"; ar_die "initdb failed"; }
    fi
    (cd "$dir" && ar_as "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null) ||
        { cat "$dir/postgres.log"; ar_die "PostgreSQL did not start"; }
    export AR_PGHOST=$dir AR_PGPORT=$port AR_PGDATA=$dir/pgdata AR_PGBIN=$bin
}

# ar_pgbouncer_start DIR DATABASE_LINE POOL_SIZE MAX_CLIENTS USER...: Debian's
# pgbouncer in transaction pooling mode, as the run user, its socket in DIR
# (made afresh) and listening on 127.0.0.1 at a free port, trusting USERs;
# DATABASE_LINE is its one [databases] entry. Sets AR_BOUNCER_PORT and
# AR_BOUNCER_PID.
ar_pgbouncer_start() {
    local dir=$1 dbline=$2 pool=$3 clients=$4 user
    shift 4
    rm -rf "$dir"
    mkdir -p "$dir"
    AR_BOUNCER_PORT=$(ar_free_port)
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
$dbline
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $AR_BOUNCER_PORT
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = $pool
max_client_conn = $clients
; psql's PGOPTIONS (t/lib/ARTest.pm) where a test's client goes through it
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    : >"$dir/users.txt"
    for user in "$@"; do printf '"%s" ""\n' "$user" >>"$dir/users.txt"; done
    [ "$(id -u)" -eq 0 ] && chown -R "$(ar_run_user)" "$dir"
    ar_as pgbouncer -d -q "$dir/pgbouncer.ini" || ar_die "pgbouncer did not start"
    for _ in $(seq 50); do [ -s "$dir/pgbouncer.pid" ] && break; sleep 0.1; done
    AR_BOUNCER_PID=$(cat "$dir/pgbouncer.pid")
}

ar_pg_stop() {
    # A postmaster.pid left by a machine that went down names no server:
    # pg_ctl then fails, and that must not end a caller under set -e.
    if [ -n "${AR_PGDATA:-}" ] && [ -f "$AR_PGDATA/postmaster.pid" ]; then
        (cd / && ar_as "$AR_PGBIN/pg_ctl" -D "$AR_PGDATA" -m fast -w stop >/dev/null 2>&1) || true
    fi
    return 0
}

# ar_psql DB ARGS...: psql as the superuser of the private cluster.
ar_psql() {
    local db=$1; shift
    psql -X -q -v ON_ERROR_STOP=1 -h "$AR_PGHOST" -p "$AR_PGPORT" -U postgres -d "$db" "$@"
}
