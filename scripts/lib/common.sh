# shellcheck shell=bash
# Shared helpers for scripts/test, scripts/run and scripts/bench.
# Source it; it defines functions and a few variables and runs nothing by itself.
#
# Every script here must work on a fresh Debian 12 machine (CI clones the repo anew and
# runs as root without stdin), so anything the scripts need is installed on demand.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

PG_BIN_DIR=/usr/lib/postgresql/15/bin

# System packages each script needs. Kept here so that test, run and bench agree.
# (SC2034: they are used by the scripts that source this file.)
# shellcheck disable=SC2034
# publicsuffix: the Public Suffix List, read at run time to refuse domain claims on public suffixes.
BUILD_PACKAGES=(pkg-config libsqlite3-dev libcrypt-dev libqrencode-dev libxmlsec1-dev publicsuffix)
# shellcheck disable=SC2034
TEST_PACKAGES=(postgresql sqlite3 chromium chromium-driver oathtool msmtp rsyslog rsyslog-gnutls openssl dnsmasq xmlsec1)
# shellcheck disable=SC2034
BENCH_PACKAGES=(wrk)

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A visible banner, so that a long CI log can be scanned stage by stage.
section() {
    printf '\n==============================================================\n' >&2
    printf '== %s\n' "$*" >&2
    printf '==============================================================\n' >&2
}

# --- cleanup -------------------------------------------------------------------------------
# Scripts register undo steps as they acquire resources (clusters, servers, temp dirs); the
# EXIT trap runs them newest first, whether the script succeeds, fails or is interrupted.

_CLEANUP_STEPS=()

add_cleanup() { _CLEANUP_STEPS+=("$1"); }

_run_cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    for (( i=${#_CLEANUP_STEPS[@]}-1; i>=0; i-- )); do
        eval "${_CLEANUP_STEPS[i]}" || log "cleanup step failed: ${_CLEANUP_STEPS[i]}"
    done
    exit "$status"
}

install_cleanup_trap() {
    trap _run_cleanup EXIT
    # Turn signals into a normal exit so the EXIT trap does the work exactly once.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# --- system packages -----------------------------------------------------------------------

_APT_UPDATED=0

_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

_package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_apt_packages pkg... — install only what is missing, so a warm machine pays nothing.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        _package_installed "$pkg" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing missing packages: ${missing[*]}"
    # A fresh machine has no package lists; one update per script run is enough.
    if [ "$_APT_UPDATED" -eq 0 ]; then
        _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        _APT_UPDATED=1
    fi
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" </dev/null
}

# --- Python virtual environment for the interop peers --------------------------------------

VENV_DIR="$REPO_ROOT/.venv"
REQUIREMENTS="$REPO_ROOT/interop/requirements.txt"

_venv_usable() {
    [ -x "$VENV_DIR/bin/python" ] && "$VENV_DIR/bin/python" -c 'import sys' 2>/dev/null
}

# ensure_venv — create .venv if missing or broken (e.g. its interpreter was removed), and
# reinstall the requirements only when interop/requirements.txt changed since the last time.
ensure_venv() {
    if ! _venv_usable; then
        rm -rf "$VENV_DIR"
        # Debian's own python3 cannot make venvs without python3-venv (no ensurepip).
        if ! python3 -m venv "$VENV_DIR" 2>/dev/null; then
            rm -rf "$VENV_DIR"
            ensure_apt_packages python3-venv
            python3 -m venv "$VENV_DIR"
        fi
    fi
    local stamp="$VENV_DIR/.requirements.sha256" want have=""
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    [ -f "$stamp" ] && have="$(cat "$stamp")"
    if [ "$want" != "$have" ]; then
        log "installing interop/requirements.txt into .venv"
        "$VENV_DIR/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS"
        printf '%s\n' "$want" >"$stamp"
    fi
}

# --- throwaway PostgreSQL 15 clusters ------------------------------------------------------
# Recipe from shared/PEERS.md section 7: initdb refuses root, so the cluster belongs to the
# postgres user; the socket lives in the cluster's own directory, which must be traversable.
# Host connections use SCRAM so that the passwords in the URLs are really checked; the local
# socket stays trust so that this script can administer the cluster as postgres.

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_as_postgres() {
    # runuser keeps the cwd, which postgres may not be allowed to read.
    (cd /tmp && runuser -u postgres -- "$@")
}

_pg_psql() {
    local dir="$1" db="$2"; shift 2
    _as_postgres "$PG_BIN_DIR/psql" -X -q -h "$dir" -p "$(cat "$dir/port")" -U postgres \
        -d "$db" -v ON_ERROR_STOP=1 "$@"
}

_pg_running() {
    [ -f "$1/data/postmaster.pid" ] && _as_postgres "$PG_BIN_DIR/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

_pg_init() {
    local dir="$1"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    chmod 755 "$dir"
    _as_postgres "$PG_BIN_DIR/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --no-sync --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
}

_pg_create_roles() {
    local dir="$1"
    _pg_psql "$dir" postgres \
        -c "CREATE ROLE rampart_owner LOGIN CREATEDB PASSWORD 'owner'" \
        -c "CREATE DATABASE rampart OWNER rampart_owner" \
        -c "CREATE ROLE rampart_app LOGIN PASSWORD 'app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE" \
        -c "GRANT CONNECT ON DATABASE rampart TO rampart_app"
    # Inside the database: the owner must own public so its migrations can create there,
    # and the app role may only use what the migrations grant it.
    _pg_psql "$dir" rampart \
        -c "ALTER SCHEMA public OWNER TO rampart_owner" \
        -c "GRANT USAGE ON SCHEMA public TO rampart_app"
}

# pg_cluster_start DIR — initialise DIR on first use (roles and database included), then
# start it. A restarted cluster keeps its port (stored in DIR/port) so that servers pointed at
# it can reconnect.
pg_cluster_start() {
    local dir="$1" fresh=0 attempt port
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        _pg_init "$dir"
        fresh=1
    fi
    _pg_running "$dir" && return 0
    # Swift Testing runs the suites in parallel and each test's store opens a pool of its own:
    # the default 100 connections run out, so the throwaway cluster allows more.
    for attempt in 1 2 3; do
        if [ -f "$dir/port" ]; then port="$(cat "$dir/port")"; else port="$(_free_port)"; fi
        printf '%s\n' "$port" >"$dir/port"
        if _as_postgres "$PG_BIN_DIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" start >/dev/null; then
            break
        fi
        # Another process may have taken the port between choosing and binding it; a fresh
        # cluster can move, a restarted one must not.
        if [ "$fresh" -eq 0 ] || [ "$attempt" -eq 3 ]; then
            tail -n 20 "$dir/server.log" >&2 || true
            return 1
        fi
        rm -f "$dir/port"
    done
    if [ "$fresh" -eq 1 ]; then _pg_create_roles "$dir"; fi
}

pg_cluster_stop() {
    local dir="$1"
    _pg_running "$dir" || return 0
    _as_postgres "$PG_BIN_DIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
}

pg_cluster_destroy() {
    local dir="$1"
    [ -d "$dir" ] || return 0
    pg_cluster_stop "$dir" || log "could not stop the PostgreSQL cluster in $dir"
    rm -rf "$dir"
}

# pg_cluster_urls DIR — print the two connection URLs as shell assignments.
pg_cluster_urls() {
    local port
    port="$(cat "$1/port")"
    printf 'RAMPART_TEST_POSTGRES_OWNER_URL=postgres://rampart_owner:owner@127.0.0.1:%s/rampart\n' "$port"
    printf 'RAMPART_TEST_POSTGRES_APP_URL=postgres://rampart_app:app@127.0.0.1:%s/rampart\n' "$port"
}

PG_DIR=""

# pg_start — the throwaway cluster that the Swift tests and the interop suite share. It is
# stopped and removed by the EXIT trap.
pg_start() {
    PG_DIR="$(mktemp -d /tmp/rampart-pg.XXXXXX)"
    add_cleanup pg_stop
    pg_cluster_start "$PG_DIR"
    local line
    while IFS= read -r line; do
        export "${line?}"
    done < <(pg_cluster_urls "$PG_DIR")
    log "PostgreSQL 15 on port $(cat "$PG_DIR/port") (cluster in $PG_DIR)"
}

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    pg_cluster_destroy "$PG_DIR"
    PG_DIR=""
}

# --- processes -----------------------------------------------------------------------------

# stop_pid PID — TERM, give it a few seconds, then KILL; for servers a script started itself.
stop_pid() {
    local pid="$1" i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# --- Swift -----------------------------------------------------------------------------------

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH (expected under /opt/swift)"
}
