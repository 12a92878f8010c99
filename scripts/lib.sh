# shellcheck shell=bash
# scripts/lib.sh: shared functions of shopd's ops scripts (stack, test, migrate). Source it; it
# only defines functions and variables. The functions assume the caller runs with
# `set -euo pipefail` and report errors through die().
#
# A stack lives in one var dir (scripts/stack: ${SHOPD_VAR:-<repo>/var}):
#   pg/            PostgreSQL: data/, run/ (unix socket), postgres.log; a symlink to a
#                  /tmp/shopd-pg.XXXX dir when the postgres user cannot reach the var dir
#   nginx/         nginx prefix dir: nginx.pid and temp dirs
#   nginx.conf     rendered from nginx/shopd.conf.template
#   plugins/       the host's plugin dir: copies of build/plugins/*/*.so (hot-swap tests replace
#                  files here, never in build/)
#   run/           shopd.sock, shopd.pid
#   log/           shopd.log, nginx-error.log, nginx-access.log, postgres.log (symlink)
#   stack.env      written by `scripts/stack up` for scripts and tests

# The repository this file belongs to (not $SHOPD_REPO: that may point at another checkout).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Debian packages the build, the tests and the local stack need.
SHOPD_PACKAGES=(
    build-essential cmake pkg-config
    libfcgi-dev libpqxx-dev rapidjson-dev libboost-program-options-dev libcppunit-dev
    libcurl4-openssl-dev libssl-dev libsystemd-dev
    clang-format clang-tidy shellcheck clang libclang-rt-14-dev
    nginx postgresql postgresql-contrib
    wrk spawn-fcgi curl ca-certificates gnuplot-nox
    systemd dpkg-dev
)

# Plugins the host loads, in init order.
SHOPD_DEFAULT_PLUGINS=catalog,customers,pricing,cart,checkout
# Origins a browser front end may call the local stack from (a Vite dev server by default).
: "${SHOPD_CORS_ORIGINS:=http://localhost:5173}"
export SHOPD_CORS_ORIGINS

# ---------------------------------------------------------------------------------------------
# Messages and small helpers

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Refuse paths that would need quoting in nginx.conf, postgresql.conf or stack.env.
require_plain_path() {
    [[ $1 =~ ^[A-Za-z0-9_./+-]+$ ]] || die "path '$1' has characters the stack cannot quote; use a plain path"
}

# random_hex BYTES: a random hex string (openssl comes with ca-certificates).
random_hex() {
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex "$1"
    else
        od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
        echo
    fi
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }          # fields after "(comm) "; the first is the state
    [[ ${stat:0:1} != Z ]]
}

# pid_cmdline PID: the process's command line with NULs as spaces ("" if gone).
pid_cmdline() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# wait_pid_exit PID SECONDS: wait for a process we may not be the parent of; 1 on timeout.
wait_pid_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while pid_alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# stop_pid PID NAME [SIGNAL] [SECONDS]: signal a process, wait, escalate to SIGKILL.
stop_pid() {
    local pid=$1 name=$2 sig=${3:-TERM} secs=${4:-15}
    pid_alive "$pid" || return 0
    kill -s "$sig" "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" "$secs"; then
        warn "$name (pid $pid) still running ${secs}s after SIG$sig; sending SIGKILL"
        kill -s KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 5 || die "$name (pid $pid) does not die"
    fi
}

# free_port [EXCLUDED...]: a TCP port nothing listens on at 127.0.0.1, not among EXCLUDED.
free_port() {
    local port i
    for i in $(seq 1 200); do
        if command -v python3 >/dev/null 2>&1; then
            port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        else
            port=$((20000 + RANDOM % 30000))
            # A successful connect means something listens there.
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        fi
        if [[ " $* " != *" $port "* ]]; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found (tried $i)"
}

# render_template IN OUT NAME=VALUE...: copy IN to OUT replacing every @NAME@ by VALUE.
render_template() {
    local in=$1 out=$2 pair name value esc script=()
    shift 2
    for pair in "$@"; do
        name=${pair%%=*}
        value=${pair#*=}
        esc=$(printf '%s' "$value" | sed -e 's/[\\|&]/\\&/g')   # sed replacement metachars
        script+=(-e "s|@${name}@|${esc}|g")
    done
    sed "${script[@]}" "$in" >"$out.tmp"
    if grep -nE '@[A-Z_]+@' "$out.tmp" >&2; then
        rm -f "$out.tmp"
        die "unreplaced placeholders in $in (listed above)"
    fi
    mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------------------------------------
# Environment files (KEY=value lines, no quoting: every value is a plain path, URL, number, hex)

# write_env FILE KEY=VALUE...: replace FILE atomically.
write_env() {
    local file=$1
    shift
    # 0600: it holds the admin token and the database URL.
    (umask 077 && printf '%s\n' "$@" >"$file.tmp")
    mv "$file.tmp" "$file"
}

# env_get FILE KEY: print KEY's value from FILE ("" if absent).
env_get() {
    [[ -f $1 ]] || return 0
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

# load_env FILE: export every KEY=value line of FILE into the current shell.
load_env() {
    local line
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
            export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
        fi
    done <"$1"
}

# ---------------------------------------------------------------------------------------------
# Packages and build

# package_installed NAME: dpkg knows NAME as installed (not just "config-files").
package_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# as_root CMD...: run CMD as root: directly, through sudo, or not at all.
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (not root, and no sudo); install the packages by hand"
    fi
}

# apt_install PACKAGES...: install without letting maintainer scripts start services.
# Debian's nginx and postgresql packages start a system nginx on port 80 and a "main" cluster
# on 5432 through invoke-rc.d; a policy-rc.d that exits 101 forbids that. One already present
# (as in Docker-style images) is left alone; one we create is removed again, even on failure.
apt_install() (
    local policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        trap 'as_root rm -f "$policy"' EXIT
        printf '#!/bin/sh\n# shopd scripts/lib.sh: no service starts during apt-get install\nexit 101\n' |
            as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
    fi
    local try
    for try in 1 2 3; do
        if as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
                -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; then
            return 0
        fi
        warn "apt-get failed (try $try of 3)"
        sleep $((try * 5))
    done
    die "could not install: $*"
)

# ensure_packages: install whichever of SHOPD_PACKAGES is missing.
ensure_packages() {
    command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: these scripts expect Debian 12"
    local missing=() pkg
    for pkg in "${SHOPD_PACKAGES[@]}"; do
        package_installed "$pkg" || missing+=("$pkg")
    done
    # The OpenAPI lint runs on node; a machine that has one (maybe newer than Debian's) keeps it.
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        missing+=(nodejs npm)
    fi
    ((${#missing[@]} == 0)) && return 0
    log "installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
}

# shopd_build_dir: the build tree the scripts build, run and install plugins from
# (SHOPD_BUILD_DIR overrides, e.g. build-asan/ of `scripts/test --sanitize`).
shopd_build_dir() {
    echo "${SHOPD_BUILD_DIR:-$REPO/build}"
}

# build: configure the build dir (shopd_build_dir) once (again if an earlier configure failed
# half-way: cache written, no build system generated), then build everything.
# The scripts build with SHOPD_WERROR=ON (a warning fails the build, as in CI); a plain
# `cmake -B build` of a developer keeps warnings as warnings. SHOPD_WERROR=OFF overrides.
# SHOPD_SANITIZE=ON|OFF, when set, is passed on as the CMake option of that name.
build() {
    local dir options=()
    dir=$(shopd_build_dir)
    if [[ -n ${SHOPD_SANITIZE:-} ]]; then options+=("-DSHOPD_SANITIZE=$SHOPD_SANITIZE"); fi
    if [[ ! -f $dir/CMakeCache.txt || ! ( -f $dir/Makefile || -f $dir/build.ninja ) ]]; then
        log "configuring $dir"
        cmake -S "$REPO" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}"
    fi
    cmake -S "$REPO" -B "$dir" -DSHOPD_WERROR="${SHOPD_WERROR:-ON}" "${options[@]}" >/dev/null
    log "building"
    cmake --build "$dir" -j2
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster in VARDIR/pg, trust auth on 127.0.0.1 only. Two roles:
#   shopd       the cluster's bootstrap superuser (initdb -U shopd): only these scripts use it,
#               to create the application role and the database (pg_admin_dsn)
#   shopd_app   the application role (SHOPD_PG_APP_ROLE): LOGIN, NOSUPERUSER, NOCREATEROLE,
#               NOCREATEDB; owns database "shopd" and every object in it. The host, the release
#               loop, scripts/migrate and the tests connect as it (pg_dsn, SHOPD_DATABASE_URL).
SHOPD_PG_APP_ROLE=shopd_app

# pg_bindir: where initdb/pg_ctl live (Debian keeps them off PATH).
pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir)
        [[ -x $dir/initdb ]] && { echo "$dir"; return 0; }
    fi
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb ]] || die "PostgreSQL server binaries not found (is the postgresql package installed?)"
    echo "$dir"
}

# shopd_psql DSN ARGS...: psql without ~/.psqlrc, stopping at the first error, server notices
# ("already exists, skipping") silenced.
shopd_psql() {
    local dsn=$1 psql
    shift
    # The server's bindir when installed, else whatever psql is on PATH (a client-only host).
    if ! psql="$(pg_bindir 2>/dev/null)/psql" || [[ ! -x $psql ]]; then psql=psql; fi
    PGOPTIONS='-c client_min_messages=warning' "$psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" "$@"
}

# pg_run CMD...: run a server command; initdb/postgres refuse root, so root runs them as
# "postgres" (from /, which that user can always enter).
pg_run() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# pg_home VARDIR: the real path of the cluster dir (through the /tmp symlink, if any).
pg_home() {
    readlink -f "$1/pg"
}

# pg_can_reach DIR: the user that runs the server can enter DIR.
pg_can_reach() {
    ((EUID != 0)) || runuser -u postgres -- test -x "$1" 2>/dev/null
}

# pg_port VARDIR: the port written into the cluster's postgresql.conf.
pg_port() {
    local conf=$1/pg/data/postgresql.conf
    [[ -f $conf ]] || return 0
    sed -n 's/^port = \([0-9]*\).*/\1/p' "$conf" | tail -n 1
}

# pg_dsn VARDIR: the URL clients use (the unprivileged application role). Over the cluster's
# unix socket (host= the socket dir, always on this machine): fewer syscalls and no TCP stack
# per round trip (README "Benchmark"); SHOPD_PG_TCP=1 gives the TCP URL (pg_dsn_tcp), which
# the server keeps listening on. No '&' in the URL: stack.env is sourced by shells.
pg_dsn() {
    if [[ ${SHOPD_PG_TCP:-0} == 1 ]]; then
        pg_dsn_tcp "$1"
    else
        echo "postgresql://$SHOPD_PG_APP_ROLE@:$(pg_port "$1")/shopd?host=$(pg_home "$1")/run"
    fi
}

# pg_dsn_tcp VARDIR: the application role's URL over TCP loopback.
pg_dsn_tcp() {
    echo "postgresql://$SHOPD_PG_APP_ROLE@127.0.0.1:$(pg_port "$1")/shopd"
}

# pg_admin_dsn VARDIR [DATABASE]: the superuser's URL (role and database setup only).
pg_admin_dsn() {
    echo "postgresql://shopd@127.0.0.1:$(pg_port "$1")/${2:-postgres}"
}

pg_initialized() {
    [[ -f $1/pg/data/PG_VERSION ]]
}

# pg_make_home VARDIR: create VARDIR/pg owned by the server user; when that user cannot enter
# the var dir (e.g. a mktemp -d dir, mode 0700), use a /tmp dir and symlink it.
pg_make_home() {
    local var=$1 target
    if [[ -L $var/pg && ! -e $var/pg ]]; then
        rm -f "$var/pg"                  # its /tmp dir is gone (reboot): start over
    fi
    if ((EUID == 0)) && ! pg_can_reach "$var"; then
        [[ -e $var/pg ]] || {
            target=$(mktemp -d /tmp/shopd-pg.XXXX)
            ln -s "$target" "$var/pg"
            log "postgres cannot enter $var; cluster lives in $target"
        }
    fi
    mkdir -p "$var/pg"
    if ((EUID == 0)); then
        chown postgres:postgres "$(pg_home "$var")"
    fi
}

# pg_init VARDIR PORT: create the cluster unless it exists. SHOPD_PG_FSYNC=off (tests only)
# turns fsync off.
pg_init() {
    local var=$1 port=$2 home bin
    require_plain_path "$var"
    if pg_initialized "$var"; then
        log "postgres: cluster already in $var/pg"
        return 0
    fi
    bin=$(pg_bindir)
    mkdir -p "$var/log"
    pg_make_home "$var"
    home=$(pg_home "$var")
    pg_run mkdir -p "$home/run"
    log "postgres: initdb in $home (port $port)"
    pg_run "$bin/initdb" -D "$home/data" -U shopd -A trust -E UTF8 --locale=C --lc-ctype=C.UTF-8 --no-sync \
        >"$home/initdb.log" 2>&1 || {
        cat "$home/initdb.log" >&2
        die "initdb failed"
    }
    cat >>"$home/data/postgresql.conf" <<EOF

# --- shopd throwaway cluster (scripts/lib.sh pg_init) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$home/run'
max_connections = 200
fsync = ${SHOPD_PG_FSYNC:-on}
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
# Statement counts for round_trips_itest (issue 14); BEGIN/COMMIT count too. pg_setup_app_role
# creates the extension (as superuser) in database shopd.
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_utility = on
EOF
    ln -sfn ../pg/postgres.log "$var/log/postgres.log"
}

# pg_pid VARDIR: the postmaster's pid if it runs ("" otherwise).
pg_pid() {
    local pid
    pid=$(head -n 1 "$1/pg/data/postmaster.pid" 2>/dev/null) || return 0
    if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *postgres* ]]; then echo "$pid"; fi
}

# pg_wait_ready PORT SECONDS: wait until the server accepts connections.
pg_wait_ready() {
    local port=$1 deadline=$((SECONDS + $2)) bin
    bin=$(pg_bindir)
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U shopd; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# pg_start VARDIR: start the cluster (if not running) and make sure database "shopd" exists.
pg_start() {
    local var=$1 home port bin
    pg_initialized "$var" || die "no PostgreSQL cluster in $var/pg (run pg_init first)"
    home=$(pg_home "$var")
    port=$(pg_port "$var")
    bin=$(pg_bindir)
    if [[ -z $(pg_pid "$var") ]]; then
        log "postgres: starting on 127.0.0.1:$port"
        pg_run "$bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 30 start >/dev/null ||
            { tail -n 30 "$home/postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
    pg_wait_ready "$port" 30 || { tail -n 30 "$home/postgres.log" >&2; die "PostgreSQL not ready after 30 s"; }
    pg_setup_app_role "$var"
}

# pg_setup_app_role VARDIR: as the superuser, create (or correct) the application role, create
# database "shopd" owned by it, and hand it every table, view and sequence in schema public.
# Idempotent; also converts a cluster from before the role existed (all owned by superuser
# "shopd"). Migrations then run as the application role: as database owner it may create the
# trusted extensions they need (pg_trgm, btree_gist); extensions already there stay as they are.
pg_setup_app_role() {
    local var=$1 role=$SHOPD_PG_APP_ROLE
    shopd_psql "$(pg_admin_dsn "$var")" <<SQL
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') AS missing \gset
\if :missing
CREATE ROLE $role LOGIN;
\endif
ALTER ROLE $role LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'shopd') AS missing \gset
\if :missing
CREATE DATABASE shopd OWNER $role;
\else
ALTER DATABASE shopd OWNER TO $role;
\endif
SQL
    # Tables first: ALTER TABLE also moves their indexes and owned (serial) sequences.
    shopd_psql "$(pg_admin_dsn "$var" shopd)" <<SQL
DO \$\$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
               AND c.relowner <> '$role'::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO $role',
                       CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      ELSE 'TABLE' END, r.name);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
               AND c.relowner <> '$role'::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO $role', r.name);
    END LOOP;
END
\$\$;
SQL
    # Statement counts (round_trips_itest, bench/run's round_trips_per_checkout): the view, where
    # the cluster preloads the library (pg_init); only the superuser may create it.
    shopd_psql "$(pg_admin_dsn "$var" shopd)" <<'SQL'
SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%' AS preloaded \gset
\if :preloaded
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
\endif
SQL
}

# pg_stop VARDIR: fast shutdown (rolls back open transactions), if running.
pg_stop() {
    local var=$1 bin
    [[ -n $(pg_pid "$var") ]] || return 0
    bin=$(pg_bindir)
    log "postgres: stopping"
    pg_run "$bin/pg_ctl" -D "$(pg_home "$var")/data" -m fast -w -t 60 stop >/dev/null
}

# pg_destroy VARDIR: remove the cluster's files (stop it first), including a /tmp target.
pg_destroy() {
    local var=$1 target
    if [[ -L $var/pg ]]; then
        target=$(readlink -f "$var/pg")
        [[ $target == /tmp/shopd-pg.* ]] && rm -rf "$target"
        rm -f "$var/pg"
    fi
    rm -rf "$var/pg"
}

# ---------------------------------------------------------------------------------------------
# Database content

# migrate DSN: apply sql/ migrations (scripts/migrate).
migrate() {
    "$REPO/scripts/migrate" --db "$1"
}

# load_demo_data DSN: the small demo catalog (idempotent).
load_demo_data() {
    log "loading demo data"
    shopd_psql "$1" -f "$REPO/scripts/demo-data.sql"
}

# ---------------------------------------------------------------------------------------------
# nginx

# nginx_pid VARDIR: the master's pid if it runs ("" otherwise).
nginx_pid() {
    local pid
    pid=$(cat "$1/nginx/nginx.pid" 2>/dev/null) || return 0
    if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *nginx* ]]; then echo "$pid"; fi
}

# nginx_port VARDIR: the port of the rendered config ("" if none).
nginx_port() {
    [[ -f $1/nginx.conf ]] || return 0
    sed -n 's/^ *listen 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1/nginx.conf" | head -n 1
}

# upstream_servers SOCKET...: the upstream's server lines. nginx tries each entry at most once
# per request, so the entries bound its retries. Several hosts: every socket twice (all, then
# all again: a retry goes to another host first) with max_fails=1 fail_timeout=1s, so a dead
# host is skipped for a second (see nginx/shopd.conf.template). One host: its socket four times
# with max_fails=0: a failure there is one worker process dying while the others still serve,
# and right after it nginx may pick several of the dead worker's cached connections in a row
# (two entries failed about one GET in 5,000 across a kill -9); marking the entries down would
# answer 502 to everyone for a second.
upstream_servers() {
    local out="" sock fails="max_fails=1 fail_timeout=1s"
    local -a entries=("$@" "$@")
    (($#)) || die "nginx_start needs at least one upstream socket"
    if (($# == 1)); then
        fails="max_fails=0"
        entries=("$1" "$1" "$1" "$1")
    fi
    for sock in "${entries[@]}"; do
        [[ $sock != *[[:space:]\;]* ]] || die "upstream socket '$sock' has a blank or ';'"
        out+="server unix:$sock $fails; "
    done
    echo "${out% }"
}

# nginx_start VARDIR PORT UPSTREAM_SOCKETS KEEPALIVE: render nginx.conf and start nginx.
# UPSTREAM_SOCKETS: one host socket path or several, separated by spaces.
# SHOPD_NGINX_ACCESS_LOG=off turns the access log off (benchmarks). Deployment knobs (defaults
# in brackets):
#   SHOPD_NGINX_SIGNUP_RATE    limit_req rate per client address on POST /api/customers/ [10r/s]
#   SHOPD_NGINX_SIGNUP_BURST   its burst, served without delay [20]
#   SHOPD_NGINX_REAL_IP_FROM   trusted proxy addresses/CIDRs (space or comma separated) whose
#                              SHOPD_NGINX_REAL_IP_HEADER [X-Forwarded-For] names the client;
#                              trusted proxy only [empty: off, the TCP peer is the client]
#   SHOPD_NGINX_OPS_ALLOW      addresses/CIDRs allowed /readyz and /metrics [127.0.0.1 ::1]
#   SHOPD_NGINX_CLIENT_TIMEOUT client_header_timeout and client_body_timeout: a client stalling
#                              mid-request is cut off (nginx duration, e.g. 60s, 500ms) [60s]
#   SHOPD_NGINX_READ_TIMEOUT   fastcgi_read_timeout: a host answering slower gets 504; keep it
#                              above the host's --statement-timeout-ms [60s]
nginx_start() {
    local var=$1 port=$2 keepalive=$4 user_directive="" access_log servers
    local -a sockets
    read -r -a sockets <<<"$3"
    local rate=${SHOPD_NGINX_SIGNUP_RATE:-10r/s} burst=${SHOPD_NGINX_SIGNUP_BURST:-20}
    local client_timeout=${SHOPD_NGINX_CLIENT_TIMEOUT:-60s} read_timeout=${SHOPD_NGINX_READ_TIMEOUT:-60s}
    local real_ip="# real_ip off (SHOPD_NGINX_REAL_IP_FROM unset)" ops_allow="" addr
    [[ $rate =~ ^[0-9]+r/[sm]$ ]] || die "SHOPD_NGINX_SIGNUP_RATE '$rate' is not like 10r/s"
    [[ $burst =~ ^[0-9]+$ ]] || die "SHOPD_NGINX_SIGNUP_BURST '$burst' is not a number"
    [[ $client_timeout =~ ^[1-9][0-9]*(ms|s|m)?$ ]] ||
        die "SHOPD_NGINX_CLIENT_TIMEOUT '$client_timeout' is not a duration like 60s"
    [[ $read_timeout =~ ^[1-9][0-9]*(ms|s|m)?$ ]] ||
        die "SHOPD_NGINX_READ_TIMEOUT '$read_timeout' is not a duration like 60s"
    if [[ -n ${SHOPD_NGINX_REAL_IP_FROM:-} ]]; then
        real_ip=""
        for addr in ${SHOPD_NGINX_REAL_IP_FROM//,/ }; do
            [[ $addr =~ ^[0-9A-Fa-f.:/]+$ ]] || die "SHOPD_NGINX_REAL_IP_FROM: '$addr' is not an address or CIDR"
            real_ip+="set_real_ip_from $addr; "
        done
        [[ ${SHOPD_NGINX_REAL_IP_HEADER:-X-Forwarded-For} =~ ^[A-Za-z0-9-]+$ ]] ||
            die "SHOPD_NGINX_REAL_IP_HEADER: not a header name"
        real_ip+="real_ip_header ${SHOPD_NGINX_REAL_IP_HEADER:-X-Forwarded-For}; real_ip_recursive on;"
    fi
    for addr in ${SHOPD_NGINX_OPS_ALLOW:-127.0.0.1 ::1}; do
        [[ $addr =~ ^[0-9A-Fa-f.:/]+$ ]] || die "SHOPD_NGINX_OPS_ALLOW: '$addr' is not an address or CIDR"
        ops_allow+="allow $addr; "
    done
    require_plain_path "$var"
    servers=$(upstream_servers "${sockets[@]}")
    mkdir -p "$var/nginx" "$var/log"
    # Workers of a root master run as nobody, who cannot enter a private var dir or connect
    # to the host's socket; as non-root the directive is ignored with a warning, so omit it.
    ((EUID == 0)) && user_directive="user root;"
    if [[ ${SHOPD_NGINX_ACCESS_LOG:-on} == off ]]; then
        access_log=off
    else
        access_log="$var/log/nginx-access.log shopd buffer=64k flush=1s"
    fi
    render_template "$REPO/nginx/shopd.conf.template" "$var/nginx.conf" \
        "USER_DIRECTIVE=$user_directive" "VARDIR=$var" "PORT=$port" "UPSTREAM_SERVERS=$servers" \
        "KEEPALIVE=$keepalive" "ACCESS_LOG=$access_log" "SIGNUP_RATE=$rate" "SIGNUP_BURST=$burst" \
        "REAL_IP=$real_ip" "OPS_ALLOW=$ops_allow" "CLIENT_TIMEOUT=$client_timeout" \
        "READ_TIMEOUT=$read_timeout"
    log "nginx: starting on 127.0.0.1:$port"
    # Soft open-files limit raised to the hard one: nginx needs one per client and upstream
    # connection (worker_connections).
    (
        ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
        exec nginx -e "$var/log/nginx-error.log" -c "$var/nginx.conf" -p "$var/nginx/"
    ) || { tail -n 20 "$var/log/nginx-error.log" >&2 || true; die "nginx did not start"; }
    local deadline=$((SECONDS + 10))
    until [[ -n $(nginx_pid "$var") ]]; do
        ((SECONDS < deadline)) || die "nginx wrote no pid file in $var/nginx"
        sleep 0.1
    done
}

# nginx_stop VARDIR: graceful stop of our nginx (by its pid file), then harder.
nginx_stop() {
    local pid
    pid=$(nginx_pid "$1")
    [[ -n $pid ]] || return 0
    log "nginx: stopping (pid $pid)"
    stop_pid "$pid" nginx QUIT 10
}

# ---------------------------------------------------------------------------------------------
# shopd host

# shopd_bin: the host binary (SHOPD_BIN overrides, e.g. for a sanitizer build).
shopd_bin() {
    echo "${SHOPD_BIN:-$(shopd_build_dir)/host/shopd}"
}

# A stack may run several host masters (scripts/stack up --hosts N), numbered from 1. Host 1
# keeps the one-host names; host I > 1 uses run/shopd-I.sock, run/shopd-I.pid, log/shopd-I.log.
# shopd_file VARDIR INDEX KIND (sock|pid|log): that file's path.
shopd_file() {
    local dir=run
    [[ $3 == log ]] && dir=log
    if [[ ${2:-1} == 1 ]]; then echo "$1/$dir/shopd.$3"; else echo "$1/$dir/shopd-$2.$3"; fi
}

# shopd_socket VARDIR [INDEX]: host INDEX's (default 1) FastCGI socket.
shopd_socket() {
    shopd_file "$1" "${2:-1}" sock
}

# shopd_indexes VARDIR: the numbers of the hosts with a pid file (1 first), one per line.
shopd_indexes() {
    local f i
    [[ -f $1/run/shopd.pid ]] && echo 1
    for f in "$1"/run/shopd-*.pid; do
        [[ -f $f ]] || continue
        i=${f##*/shopd-}
        i=${i%.pid}
        [[ $i =~ ^[0-9]+$ ]] && echo "$i"
    done | sort -n
}

# shopd_pid VARDIR [INDEX]: host INDEX's (default 1) master pid if it runs ("" otherwise); the
# command line must name this var dir's socket, so a recycled pid is never taken for ours.
shopd_pid() {
    local pid sock
    pid=$(cat "$(shopd_file "$1" "${2:-1}" pid)" 2>/dev/null) || return 0
    sock=$(shopd_socket "$1" "${2:-1}")
    if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *"unix:$sock "* ]]; then echo "$pid"; fi
}

# shopd_install_plugins VARDIR: copy build/plugins/*/*.so (of shopd_build_dir) into
# VARDIR/plugins (atomic renames, so a host that is running never sees a half-written file).
shopd_install_plugins() {
    local var=$1 so found=0 dir
    dir=$(shopd_build_dir)
    mkdir -p "$var/plugins"
    for so in "$dir"/plugins/*/*.so; do
        [[ -f $so ]] || continue
        cp "$so" "$var/plugins/.$(basename "$so").tmp"
        mv -f "$var/plugins/.$(basename "$so").tmp" "$var/plugins/$(basename "$so")"
        found=1
    done
    ((found)) || warn "no plugins in $dir/plugins (not built yet?)"
}

# wait_healthy URL SECONDS PID [SOCKET]: wait until URL answers 2xx while PID lives; with
# SOCKET, first until that socket exists (spares nginx's error log a 502 per poll).
wait_healthy() {
    local url=$1 deadline=$((SECONDS + $2)) pid=$3 socket=${4:-}
    while [[ -n $socket && ! -S $socket ]]; do
        pid_alive "$pid" || { warn "shopd (pid $pid) exited"; return 1; }
        ((SECONDS < deadline)) || { warn "$socket did not appear within $2 s"; return 1; }
        sleep 0.1
    done
    until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
        pid_alive "$pid" || { warn "shopd (pid $pid) exited"; return 1; }
        ((SECONDS < deadline)) || { warn "$url did not answer within $2 s"; return 1; }
        sleep 0.2
    done
}

# shopd_start VARDIR PORT [INDEX]: start host INDEX (default 1) on its socket (shopd_socket:
# VARDIR/run/shopd.sock for host 1) and wait until http://127.0.0.1:PORT/healthz answers through
# nginx. Every host of a var dir shares its plugin dir, admin token file and database.
# Reads SHOPD_DATABASE_URL and SHOPD_ADMIN_TOKEN (required), SHOPD_PROCESSES (default 2),
# SHOPD_WORKERS (threads per process, default 4), SHOPD_PLUGINS (default: all five).
shopd_start() {
    local var=$1 port=$2 index=${3:-1} bin pid sock name=shopd gens=generations
    : "${SHOPD_DATABASE_URL:?shopd_start needs SHOPD_DATABASE_URL}"
    : "${SHOPD_ADMIN_TOKEN:?shopd_start needs SHOPD_ADMIN_TOKEN}"
    require_plain_path "$var"
    bin=$(shopd_bin)
    [[ -x $bin ]] || die "host binary $bin not found (build first)"
    ((index == 1)) || name=shopd-$index gens=generations-$index
    if [[ -n $(shopd_pid "$var" "$index") ]]; then
        log "$name: already running (pid $(shopd_pid "$var" "$index"))"
        return 0
    fi
    mkdir -p "$var/run" "$var/log"
    shopd_install_plugins "$var"
    sock=$(shopd_socket "$var" "$index")
    rm -f "$sock"                         # stale socket of a host that died
    log "$name: starting ${SHOPD_PROCESSES:-2} processes x ${SHOPD_WORKERS:-4} threads on unix:$sock"
    # SHOPD_HOST_ARGS: extra host flags, split on spaces (e.g. --pricing.max-discount=20).
    local -a host_args=()
    read -r -a host_args <<<"${SHOPD_HOST_ARGS:-}"
    # setsid: the host outlives this script and ignores the terminal's Ctrl-C / hang-up.
    # The admin token goes through a 0600 file, not the command line, so `ps` does not show it;
    # an operator rotates by editing the file and sending SIGHUP. Plugin generations are copied
    # into the var dir (a noexec /tmp must not stop the host).
    (umask 077 && printf '%s\n' "$SHOPD_ADMIN_TOKEN" >"$var/run/admin-tokens")
    setsid "$bin" \
        --listen "unix:$sock" \
        --processes "${SHOPD_PROCESSES:-2}" \
        --workers "${SHOPD_WORKERS:-4}" \
        --public-url "http://127.0.0.1:$port" \
        --database-url "$SHOPD_DATABASE_URL" \
        --plugin-dir "$var/plugins" \
        --plugins "${SHOPD_PLUGINS:-$SHOPD_DEFAULT_PLUGINS}" \
        --admin-token-file "$var/run/admin-tokens" \
        --generation-dir "$var/run/$gens" \
        --cors-origins "$SHOPD_CORS_ORIGINS" \
        "${host_args[@]}" \
        </dev/null >>"$(shopd_file "$var" "$index" log)" 2>&1 &
    pid=$!
    echo "$pid" >"$(shopd_file "$var" "$index" pid)"
    echo "${SHOPD_PROCESSES:-2}" >"$var/run/shopd.processes"   # for restart-host
    echo "${SHOPD_WORKERS:-4}" >"$var/run/shopd.workers"
    if ! wait_healthy "http://127.0.0.1:$port/healthz" 30 "$pid" "$sock"; then
        print_log_tails "$var"
        stop_pid "$pid" shopd TERM 5
        die "$name did not become healthy"
    fi
    log "$name: up (pid $pid)"
}

# shopd_stop VARDIR [INDEX]: SIGTERM to host INDEX's master (it drains its workers, which finish
# in-flight requests, and exits 0), then wait. Without INDEX: every host of the var dir.
shopd_stop() {
    local var=$1 pid i name=shopd
    if [[ -z ${2:-} ]]; then
        for i in $(shopd_indexes "$var"); do shopd_stop "$var" "$i"; done
        return 0
    fi
    [[ $2 == 1 ]] || name=shopd-$2
    pid=$(shopd_pid "$var" "$2")
    if [[ -n $pid ]]; then
        log "$name: stopping (pid $pid)"
        stop_pid "$pid" shopd TERM 20
    fi
    rm -f "$(shopd_file "$var" "$2" pid)"
}

# ---------------------------------------------------------------------------------------------
# Expired reservations: scripts/release-loop runs reservation-release periodically, as
# systemd/reservation-release.timer does in production.

release_bin() {
    echo "$(shopd_build_dir)/plugins/checkout/reservation-release"
}

# releaser_pid VARDIR: pid of this var dir's release loop ("" otherwise).
releaser_pid() {
    local pid
    pid=$(cat "$1/run/release-loop.pid" 2>/dev/null) || return 0
    if pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *"release-loop $1 "* ]]; then echo "$pid"; fi
}

# releaser_start VARDIR DSN: start the loop unless it runs or the binary was not built.
releaser_start() {
    local var=$1 dsn=$2 bin
    bin=$(release_bin)
    [[ -z $(releaser_pid "$var") ]] || return 0
    if [[ ! -x $bin ]]; then
        warn "no $bin: expired reservations are only released by checkouts"
        return 0
    fi
    log "release-loop: reservation-release every ${SHOPD_RELEASE_INTERVAL:-30} s"
    # Output to a file, never the caller's stdout: a pipe held open would block whoever waits on it.
    setsid "$REPO/scripts/release-loop" "$var" "$bin" "$dsn" </dev/null >>"$var/log/release.log" 2>&1 &
    echo "$!" >"$var/run/release-loop.pid"
}

# releaser_stop VARDIR: stop the loop (a release run in progress finishes or rolls back).
releaser_stop() {
    local var=$1 pid
    pid=$(releaser_pid "$var")
    if [[ -n $pid ]]; then
        log "release-loop: stopping (pid $pid)"
        stop_pid "$pid" release-loop TERM 5
    fi
    rm -f "$var/run/release-loop.pid"
}

# ---------------------------------------------------------------------------------------------
# Diagnostics

# print_log_tails VARDIR [LINES]: the end of every log of the stack, to stderr.
print_log_tails() {
    local var=$1 lines=${2:-40} f
    for f in shopd.log nginx-error.log postgres.log release.log; do
        [[ -r $var/log/$f ]] || continue
        printf '\n----- tail of %s -----\n' "$var/log/$f" >&2
        tail -n "$lines" "$var/log/$f" >&2 || true
    done
}
