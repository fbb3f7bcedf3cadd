#!/bin/bash
# The part of the official mysql image's entrypoint the mall uses (README.md beside this
# folder): on an empty data directory, initialise it, set root's password from
# MYSQL_ROOT_PASSWORD(_FILE), run /docker-entrypoint-initdb.d/ against a server that listens
# on its socket only, stop it; then exec the real server on 0.0.0.0:3306.
set -euo pipefail
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
log() { printf 'stand-in-entrypoint: %s\n' "$*" >&2; }

if [[ -n "${MYSQL_ROOT_PASSWORD_FILE:-}" ]]; then
    MYSQL_ROOT_PASSWORD="$(tr -d '\r\n' <"$MYSQL_ROOT_PASSWORD_FILE")"
fi
: "${MYSQL_ROOT_PASSWORD:?set MYSQL_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD_FILE}"
export MYSQL_ROOT_PASSWORD

# docker_process_sql [mysql args]: SQL on stdin, as root, against the init server (the name
# and use of the official entrypoint's helper, which init scripts may call).
docker_process_sql() {
    MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --protocol=socket --socket="$socket" -uroot "$@"
}

if [[ ! -d "$datadir/mysql" ]]; then
    log "initialising ${datadir}"
    mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal \
        --skip-test-db >/dev/null
    mariadbd --datadir="$datadir" --socket="$socket" --skip-networking &
    pid=$!
    for _ in $(seq 1 60); do
        mariadb-admin --socket="$socket" -uroot ping --silent >/dev/null 2>&1 && break
        sleep 0.5
    done
    mariadb --protocol=socket --socket="$socket" -uroot <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) log "running $f"; # shellcheck disable=SC1090
                source "$f" ;;
            *.sql) log "running $f"; docker_process_sql --database=mysql <"$f" ;;
            *) ;;
        esac
    done
    MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb-admin --socket="$socket" -uroot shutdown
    wait "$pid" || true
    log "initialised"
fi

if [[ "${1:-}" == mariadbd || "${1:-}" == mysqld ]]; then
    shift
    exec mariadbd --datadir="$datadir" --socket="$socket" --bind-address=0.0.0.0 --port=3306 "$@"
fi
exec "$@"
