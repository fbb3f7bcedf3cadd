#!/bin/bash
# One database and one least-privilege user per service (DESIGN.md "Data"):
# <svc>_db and <svc>_svc for user, product, cart, order and payment.
#
# The official MySQL image runs this once, when the data volume is first initialised
# (it sources *.sh files in /docker-entrypoint-initdb.d). It is idempotent, so it can also
# be run by hand later, e.g. after changing a password in compose/.env:
#
#   docker compose -f compose/docker-compose.yml up -d mysql   # picks up the new env
#   docker compose -f compose/docker-compose.yml exec mysql \
#       bash /docker-entrypoint-initdb.d/10-service-databases.sh
#
# Passwords: <SVC>_DB_PASSWORD, or <SVC>_DB_PASSWORD_FILE naming a file that holds it.
# They also go into DATABASE_URL, so they must be URL-safe: 16-128 characters of
# [A-Za-z0-9._~-] (e.g. `openssl rand -hex 24`). Placeholders starting with "change-me"
# are refused.
#
# Privileges match tools/mall/src/host/mysql.rs SERVICE_GRANTS (the local runtime): data access plus what the
# embedded migrations need (CREATE, ALTER, INDEX, REFERENCES; CREATE ROUTINE, ALTER
# ROUTINE and EXECUTE for stored procedures, which every service's user gets whether or
# not its migrations create any), on the service's own database only. No DROP (of tables),
# no global privilege, no GRANT OPTION.
#
# A volume initialised before a privilege was added here lacks it: re-run this script by
# hand (above) before deploying a service whose migration needs it (docs/deploy.md).
#
# Everything is inside functions and nothing calls `exit` or changes shell options at top
# level, because the image's entrypoint sources this file into its own shell.

mall_services="user product cart order payment"

mall_fail() {
    echo "mysql-init: $*" >&2
    echo "mysql-init: fix compose/.env; if the first start failed, remove the half-initialised volume (docker compose -f compose/docker-compose.yml down -v) and start again" >&2
    return 1
}

# mall_password <SVC>: prints the password of that service's database user.
mall_password() {
    local var="${1}_DB_PASSWORD" file_var="${1}_DB_PASSWORD_FILE" value file
    value="${!var:-}"
    file="${!file_var:-}"
    if [ -n "$file" ]; then
        [ -r "$file" ] || { mall_fail "${file_var}=${file} is not readable"; return 1; }
        value="$(tr -d '\r\n' <"$file")"
    fi
    [ -n "$value" ] || { mall_fail "${var} (or ${file_var}) is not set"; return 1; }
    case "$value" in
        change-me*) mall_fail "${var} is still the placeholder from .env.example"; return 1 ;;
    esac
    [[ "$value" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] ||
        { mall_fail "${var} must be 16-128 characters of [A-Za-z0-9._~-]"; return 1; }
    printf '%s' "$value"
}

# mall_sql: runs SQL from stdin as root. Inside the entrypoint its helper is used (it
# talks to the temporary init server); run by hand, the mysql client with the root
# password from the container's environment.
mall_sql() {
    if declare -F docker_process_sql >/dev/null; then
        docker_process_sql --database=mysql
    else
        MYSQL_PWD="${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set}" \
            mysql --protocol=socket -uroot --database=mysql
    fi
}

# mall_service_sql <svc> <password>: the statements for one service.
mall_service_sql() {
    local svc="$1" password="$2" db user pattern
    db="${svc}_db"
    user="${svc}_svc"
    # In GRANT, `_` is a wildcard: escape it so the grant covers exactly this database.
    pattern="${db//_/\\_}"
    cat <<SQL
CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}';
ALTER USER '${user}'@'%' IDENTIFIED BY '${password}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`${pattern}\`.* TO '${user}'@'%';
SQL
}

mall_init_databases() {
    local svc upper password sql=""
    # Check every password before touching anything.
    for svc in $mall_services; do
        upper="$(printf '%s' "$svc" | tr '[:lower:]' '[:upper:]')"
        password="$(mall_password "$upper")" || return 1
        sql+="$(mall_service_sql "$svc" "$password")"$'\n'
    done
    printf '%s' "$sql" | mall_sql || { mall_fail "creating the service databases failed"; return 1; }
    echo "mysql-init: databases and users ready for: ${mall_services}"
}

# Sourced by the entrypoint, a failure must stop it (it runs with `set -e`); run by hand,
# the exit status says whether it worked.
mall_init_databases || { [ "${BASH_SOURCE[0]}" != "$0" ] && return 1; exit 1; }
