#!/usr/bin/env bash
# MySQL/MariaDB and Redis helpers for the local runtime (sourced, after common.sh).
#
# Uses MALL_MYSQL_HOST, MALL_MYSQL_PORT, MALL_MYSQL_ROOT_USER, MALL_MYSQL_ROOT_PASSWORD
# (optional), MALL_REDIS_URL.

# mysql_admin <mysql args...>: the mysql client as the administrative user, over TCP.
mysql_admin() {
    local -a envs=()
    if [[ -n "${MALL_MYSQL_ROOT_PASSWORD:-}" ]]; then
        envs+=("MYSQL_PWD=${MALL_MYSQL_ROOT_PASSWORD}")
    fi
    env "${envs[@]}" mysql --protocol=TCP -h "$MALL_MYSQL_HOST" -P "$MALL_MYSQL_PORT" \
        -u "$MALL_MYSQL_ROOT_USER" --batch --skip-column-names "$@"
}

check_mysql() {
    have mysql || die "the mysql client is not installed (apt-get install -y mariadb-client)"
    mysql_admin -e 'SELECT 1' >/dev/null 2>&1 ||
        die "MySQL/MariaDB does not answer at ${MALL_MYSQL_HOST}:${MALL_MYSQL_PORT} as ${MALL_MYSQL_ROOT_USER} (set MALL_MYSQL_HOST/PORT/ROOT_USER/ROOT_PASSWORD)"
}

check_redis() {
    have redis-cli || die "redis-cli is not installed (apt-get install -y redis-tools)"
    [[ "$(redis-cli -u "$MALL_REDIS_URL" ping 2>/dev/null)" == "PONG" ]] ||
        die "Redis does not answer at ${MALL_REDIS_URL} (set MALL_REDIS_URL)"
}

# db_name / db_user <prefix> <service>: the names DESIGN.md "Data" fixes.
db_name() { printf '%s%s_db' "$1" "$2"; }
db_user() { printf '%s%s_svc' "$1" "$2"; }

# In GRANT, `_` and `%` in a database name are wildcards: escape them so a user's grant
# covers exactly its own database.
grant_db_pattern() {
    local name="$1"
    name="${name//_/\\_}"
    printf '%s' "${name//%/\\%}"
}

# ensure_service_db <prefix> <service> <password>: the database and its least-privilege
# user (@127.0.0.1 and @localhost), idempotently; the password is (re)set to the given one.
# Privileges: data access plus what embedded migrations need (CREATE, ALTER, INDEX,
# REFERENCES for foreign keys; CREATE ROUTINE for stored procedures, ALTER ROUTINE to
# replace or drop them in a later migration, EXECUTE to call them), on that database only.
# Every service's user gets the routine privileges, on its own database only, whether or
# not its migrations create routines (order's do). No DROP (of tables), no global
# privilege. EXECUTE is granted on the database, not left to automatic_sp_privileges:
# that grants it only to the one account (user@host) that ran the migration.
ensure_service_db() {
    local prefix="$1" svc="$2" password="$3" db user pattern host sql
    db="$(db_name "$prefix" "$svc")"
    user="$(db_user "$prefix" "$svc")"
    pattern="$(grant_db_pattern "$db")"
    ((${#user} <= 32)) || die "database user name ${user} is longer than MySQL's 32 characters"
    sql="CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    for host in 127.0.0.1 localhost; do
        sql+="CREATE USER IF NOT EXISTS '${user}'@'${host}' IDENTIFIED BY '${password}';"
        sql+="ALTER USER '${user}'@'${host}' IDENTIFIED BY '${password}';"
        sql+="GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES,"
        sql+=" CREATE ROUTINE, ALTER ROUTINE, EXECUTE"
        sql+=" ON \`${pattern}\`.* TO '${user}'@'${host}';"
    done
    mysql_admin -e "$sql" || die "could not create database ${db} and user ${user}"
}

# drop_service_db <prefix> <service>: removes the database and its users (test clean-up).
drop_service_db() {
    local prefix="$1" svc="$2" db user
    db="$(db_name "$prefix" "$svc")"
    user="$(db_user "$prefix" "$svc")"
    mysql_admin -e "DROP DATABASE IF EXISTS \`${db}\`;
        DROP USER IF EXISTS '${user}'@'127.0.0.1';
        DROP USER IF EXISTS '${user}'@'localhost';"
}

# drop_stack_data <db prefix> <redis prefix>: a private stack's data gone (every service's
# database and users, its Redis keys); warns about what could not be removed.
drop_stack_data() {
    local db_prefix="$1" redis_prefix="$2" svc
    for svc in user product cart order payment; do
        drop_service_db "$db_prefix" "$svc" || warn "could not drop the ${svc} database"
    done
    redis_delete_prefix "$redis_prefix" || warn "could not delete the Redis keys under ${redis_prefix}"
}

# redis_delete_prefix <prefix>: deletes every key under the prefix (test clean-up).
redis_delete_prefix() {
    local prefix="$1"
    [[ -n "$prefix" && "$prefix" != "*" ]] || die "refusing to delete Redis keys without a prefix"
    redis-cli -u "$MALL_REDIS_URL" --scan --pattern "${prefix}*" |
        xargs -r -d '\n' -n 100 redis-cli -u "$MALL_REDIS_URL" del >/dev/null
}
